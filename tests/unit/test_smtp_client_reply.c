/* test_smtp_client_reply.c — upstream reply parser and EHLO keywords. */
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "proto/smtp_client_reply.h"

#include "tests/unit/check_main.h"

static struct evbuffer		*in;
static struct smtp_client_reply	 r;
static struct smtp_client_caps	 caps;

static void
setup(void)
{
	in = evbuffer_new();
	memset(&r, 0, sizeof(r));
	memset(&caps, 0, sizeof(caps));
	smtp_client_reply_init(&r);
}

static void
teardown(void)
{
	evbuffer_free(in);
}

static int
feed(const char *s)
{
	evbuffer_add(in, s, strlen(s));
	return smtp_client_reply_read(in, &r);
}

START_TEST(single_line)
{
	ck_assert_int_eq(feed("250 2.0.0 Ok: queued as X\r\n"), 1);
	ck_assert_int_eq(r.code, 250);
	ck_assert_str_eq(r.text, "250 2.0.0 Ok: queued as X");
	ck_assert_uint_eq(evbuffer_get_length(in), 0);
}
END_TEST

START_TEST(multi_line_split_input)
{
	ck_assert_int_eq(feed("550-5.7.1 first\r\n550-5.7"), 0);
	ck_assert_int_eq(feed(".1 second\r\n"), 0);
	ck_assert_int_eq(feed("550 5.7.1 last\r\n250 next\r\n"), 1);
	ck_assert_int_eq(r.code, 550);
	ck_assert_int_eq(r.nlines, 3);
	ck_assert_str_eq(r.text, "550 5.7.1 first");
	/* The next reply stays in the buffer. */
	smtp_client_reply_init(&r);
	ck_assert_int_eq(smtp_client_reply_read(in, &r), 1);
	ck_assert_int_eq(r.code, 250);
}
END_TEST

START_TEST(bare_code_and_lf)
{
	ck_assert_int_eq(feed("354\n"), 1);
	ck_assert_int_eq(r.code, 354);
	ck_assert_str_eq(r.text, "354");
}
END_TEST

START_TEST(malformed)
{
	static const char *bad[] = {
		"25 short\r\n", "abc def\r\n", "650 bad class\r\n",
		"260 bad second digit\r\n", "250_bad separator\r\n",
		"250-a\r\n251 other code\r\n", "\r\n", "1234\r\n",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		evbuffer_drain(in, evbuffer_get_length(in));
		smtp_client_reply_init(&r);
		ck_assert_msg(feed(bad[i]) == -1, "accepted %s", bad[i]);
	}
}
END_TEST

START_TEST(nul_byte)
{
	evbuffer_add(in, "250 a\0b\r\n", 9);
	ck_assert_int_eq(smtp_client_reply_read(in, &r), -1);
}
END_TEST

START_TEST(overlong_line)
{
	char	 line[SMTP_REPLYLINE_MAX + 10];

	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	evbuffer_add(in, line, SMTP_REPLYLINE_MAX - 2);
	/* Exactly the limit without CRLF: not yet an error. */
	ck_assert_int_eq(smtp_client_reply_read(in, &r), 0);
	evbuffer_add(in, "x", 1);
	ck_assert_int_eq(smtp_client_reply_read(in, &r), -1);
}
END_TEST

START_TEST(longest_line_ok)
{
	char	 line[SMTP_REPLYLINE_MAX];

	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	memcpy(line + SMTP_REPLYLINE_MAX - 2, "\r\n", 2);
	evbuffer_add(in, line, sizeof(line));
	ck_assert_int_eq(smtp_client_reply_read(in, &r), 1);
	ck_assert_uint_eq(strlen(r.text), SMTP_REPLYLINE_MAX - 2);
}
END_TEST

START_TEST(too_many_lines)
{
	int	 i, rv = 0;

	for (i = 0; i < SMTP_REPLY_LINES_MAX + 1 && rv == 0; i++)
		rv = feed("250-x\r\n");
	ck_assert_int_eq(rv, -1);
}
END_TEST

START_TEST(text_sanitized)
{
	ck_assert_int_eq(feed("550 say \"hi\" \\ \x01\xff\r\n"), 1);
	ck_assert_str_eq(r.text, "550 say ?hi? ? ??");
}
END_TEST

START_TEST(ehlo_keywords)
{
	r.caps = &caps;
	ck_assert_int_eq(feed("250-smtp.example.net Hello\r\n"
	    "250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n"
	    "250-AUTH LOGIN PLAIN\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250 STARTTLS\r\n"), 1);
	ck_assert_uint_eq(caps.flags, SMTP_CAP_PIPELINING | SMTP_CAP_SIZE |
	    SMTP_CAP_8BITMIME | SMTP_CAP_AUTH_LOGIN | SMTP_CAP_AUTH_PLAIN |
	    SMTP_CAP_STARTTLS);
	ck_assert_uint_eq(caps.size_max, 35882577);
}
END_TEST

START_TEST(ehlo_old_auth_and_case)
{
	smtp_client_ehlo_keyword(&caps, "auth=login", 10);
	ck_assert_uint_eq(caps.flags, SMTP_CAP_AUTH_LOGIN);
	smtp_client_ehlo_keyword(&caps, "size", 4);
	ck_assert_uint_eq(caps.flags, SMTP_CAP_AUTH_LOGIN | SMTP_CAP_SIZE);
	ck_assert_uint_eq(caps.size_max, 0);
	/* A keyword's argument is not another keyword. */
	smtp_client_ehlo_keyword(&caps, "XFOO PIPELINING", 15);
	ck_assert_uint_eq(caps.flags & SMTP_CAP_PIPELINING, 0);
	smtp_client_ehlo_keyword(&caps, "8BITMIME 1000", 13);
	ck_assert_uint_eq(caps.size_max, 0);
	smtp_client_ehlo_keyword(&caps, "SIZE 12x", 8);
	ck_assert_uint_eq(caps.size_max, 0);
}
END_TEST

START_TEST(first_line_not_keyword)
{
	r.caps = &caps;
	ck_assert_int_eq(feed("250 PIPELINING\r\n"), 1);
	ck_assert_uint_eq(caps.flags, 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("smtp_client_reply");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, single_line);
	tcase_add_test(tc, multi_line_split_input);
	tcase_add_test(tc, bare_code_and_lf);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, nul_byte);
	tcase_add_test(tc, overlong_line);
	tcase_add_test(tc, longest_line_ok);
	tcase_add_test(tc, too_many_lines);
	tcase_add_test(tc, text_sanitized);
	tcase_add_test(tc, ehlo_keywords);
	tcase_add_test(tc, ehlo_old_auth_and_case);
	tcase_add_test(tc, first_line_not_keyword);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
