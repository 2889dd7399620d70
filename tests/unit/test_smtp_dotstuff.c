/* test_smtp_dotstuff.c — RFC 5321 4.5.2 dot-stuffing over chunked input. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "proto/smtp_dotstuff.h"

#include "tests/unit/check_main.h"

/* Stuffs IN cut into chunks of CHUNK octets; returns the wire text. */
static char *
stuff(const char *in, size_t chunk)
{
	struct smtp_dotstuff	 st;
	struct evbuffer		*out = evbuffer_new();
	size_t			 len = strlen(in), off, n;
	char			*s;

	smtp_dotstuff_init(&st);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		ck_assert_int_eq(smtp_dotstuff_add(&st, out, in + off, n), 0);
	}
	ck_assert_int_eq(smtp_dotstuff_end(&st, out), 0);
	n = evbuffer_get_length(out);
	s = calloc(1, n + 1);
	evbuffer_remove(out, s, n);
	evbuffer_free(out);
	return s;
}

static void
check_all_chunks(const char *in, const char *want)
{
	size_t	 chunk;

	for (chunk = 1; chunk <= strlen(in) + 1; chunk++) {
		char	*got = stuff(in, chunk);

		ck_assert_msg(strcmp(got, want) == 0, "chunk %zu: got [%s]",
		    chunk, got);
		free(got);
	}
}

START_TEST(plain)
{
	check_all_chunks("Subject: x\r\n\r\nhello\r\n",
	    "Subject: x\r\n\r\nhello\r\n.\r\n");
}
END_TEST

START_TEST(leading_dots)
{
	check_all_chunks(".first\r\nmid.dle\r\n.\r\n..two\r\n",
	    "..first\r\nmid.dle\r\n..\r\n...two\r\n.\r\n");
}
END_TEST

START_TEST(no_final_crlf)
{
	check_all_chunks("a\r\nlast", "a\r\nlast\r\n.\r\n");
	check_all_chunks("a\r\n.", "a\r\n..\r\n.\r\n");
}
END_TEST

START_TEST(empty)
{
	char	*got = stuff("", 1);

	ck_assert_str_eq(got, "\r\n.\r\n");
	free(got);
}
END_TEST

START_TEST(lone_lf_counts_as_line_end)
{
	check_all_chunks("a\n.b\r\n", "a\n..b\r\n.\r\n");
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("smtp_dotstuff");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, plain);
	tcase_add_test(tc, leading_dots);
	tcase_add_test(tc, no_final_crlf);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, lone_lf_counts_as_line_end);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
