/* test_log.c — the quoting rule for values chosen outside (lib/log.h). */
#include <check.h>
#include <string.h>

#include "lib/log.h"

#include "tests/unit/check_main.h"

START_TEST(quote_escapes)
{
	char	 buf[LOG_Q_MAX];

	ck_assert_str_eq(log_quote(buf, sizeof(buf), "alice@example.org"),
	    "\"alice@example.org\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), ""), "\"\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), NULL), "\"\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "mallory ip=192.0.2.66"),
	    "\"mallory ip=192.0.2.66\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "a\"b\\c"),
	    "\"a\\\"b\\\\c\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "x\x1b[31m\r\n\x7f"),
	    "\"x\\x1b[31m\\x0d\\x0a\\x7f\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "m\xc3\xa9lory"),
	    "\"m\\xc3\\xa9lory\"");
}
END_TEST

/* The output never has an unescaped quote, a control byte or a non-ASCII
 * byte, whatever the input. */
START_TEST(quote_every_byte)
{
	char	 in[2], buf[16];
	int	 c;
	size_t	 i, n;

	in[1] = '\0';
	for (c = 1; c < 256; c++) {
		in[0] = (char)c;
		log_quote(buf, sizeof(buf), in);
		n = strlen(buf);
		ck_assert_int_eq(buf[0], '"');
		ck_assert_int_eq(buf[n - 1], '"');
		for (i = 1; i + 1 < n; i++) {
			ck_assert((unsigned char)buf[i] >= 0x20 &&
			    (unsigned char)buf[i] < 0x7f);
			if (buf[i] == '\\')
				i++;	/* the escaped byte */
			else
				ck_assert_int_ne(buf[i], '"');
		}
	}
}
END_TEST

START_TEST(quote_truncates_whole_escapes)
{
	char	 buf[12];

	/* never half an escape: "\x1" would read as something else */
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "ab\x01\x02\x03"),
	    "\"ab\\x01...\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "abcdef"), "\"abcdef\"");
	ck_assert_str_eq(log_quote(buf, sizeof(buf), "abcdefghijkl"),
	    "\"abcdef...\"");
}
END_TEST

START_TEST(qtext_bare_only_when_plain)
{
	ck_assert_str_eq(log_qtext("alice@example.org"), "alice@example.org");
	ck_assert_str_eq(log_qtext(""), "\"\"");
	ck_assert_str_eq(log_qtext("a b"), "\"a b\"");
	ck_assert_str_eq(log_qtext("user/x\x1b"), "\"user/x\\x1b\"");
	ck_assert_str_eq(log_qtext("\\"), "\"\\\\\"");
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("quote");

	tcase_add_test(tc, quote_escapes);
	tcase_add_test(tc, quote_every_byte);
	tcase_add_test(tc, quote_truncates_whole_escapes);
	tcase_add_test(tc, qtext_bare_only_when_plain);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(log_suite());
}
