/* test_ctl_proto.c — the control socket's request and reply payloads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_client.h"

#include "tests/unit/check_main.h"

START_TEST(request_roundtrip)
{
	char		*in[] = { "show", "message", "6616BFC7A7CCB15C170" };
	char		**argv;
	void		*buf;
	size_t		 len;
	uint32_t	 flags;
	int		 argc;

	ck_assert_int_eq(ctl_request_encode(CTL_F_JSON, 3, in, &buf, &len), 0);
	ck_assert_int_eq(ctl_request_decode(buf, len, &flags, &argc, &argv), 0);
	ck_assert_uint_eq(flags, CTL_F_JSON);
	ck_assert_int_eq(argc, 3);
	ck_assert_str_eq(argv[0], "show");
	ck_assert_str_eq(argv[2], "6616BFC7A7CCB15C170");
	ck_assert_ptr_null(argv[3]);
	free(argv);
	free(buf);
}
END_TEST

START_TEST(request_hostile)
{
	static const unsigned char no_nul[] = { 0, 0, 0, 0, 's', 'h' };
	static const unsigned char ctl_char[] = { 0, 0, 0, 0, 'a', '\n', 0 };
	static const unsigned char empty[] = { 0, 0, 0, 0 };
	unsigned char	*big;
	char		**argv, *many[CTL_ARGC_MAX + 1];
	void		*buf;
	size_t		 len, i;
	uint32_t	 flags;
	int		 argc;

	ck_assert_int_eq(ctl_request_decode(no_nul, sizeof(no_nul), &flags,
	    &argc, &argv), -1);
	ck_assert_int_eq(ctl_request_decode(ctl_char, sizeof(ctl_char), &flags,
	    &argc, &argv), -1);
	ck_assert_int_eq(ctl_request_decode(empty, sizeof(empty), &flags,
	    &argc, &argv), -1);
	/* too many arguments */
	big = calloc(4 + 2 * (CTL_ARGC_MAX + 1), 1);
	for (i = 0; i < CTL_ARGC_MAX + 1; i++)
		big[4 + 2 * i] = 'x';
	ck_assert_int_eq(ctl_request_decode(big, 4 + 2 * (CTL_ARGC_MAX + 1),
	    &flags, &argc, &argv), -1);
	free(big);
	for (i = 0; i < CTL_ARGC_MAX + 1; i++)
		many[i] = "x";
	ck_assert_int_eq(ctl_request_encode(0, CTL_ARGC_MAX + 1, many, &buf,
	    &len), -1);
	ck_assert_int_eq(ctl_request_encode(0, 0, many, &buf, &len), -1);
}
END_TEST

START_TEST(reply_roundtrip_and_cut)
{
	const char	*text;
	char		*huge;
	void		*buf;
	size_t		 len, tlen;
	int		 status;

	ck_assert_int_eq(ctl_reply_encode(1, "no such message\n", 16, &buf,
	    &len), 0);
	ck_assert_int_eq(ctl_reply_decode(buf, len, &status, &text, &tlen), 0);
	ck_assert_int_eq(status, 1);
	ck_assert_uint_eq(tlen, 16);
	ck_assert(memcmp(text, "no such message\n", 16) == 0);
	free(buf);
	huge = malloc(2 * CTL_REPLY_MAX);
	memset(huge, 'a', 2 * CTL_REPLY_MAX);
	ck_assert_int_eq(ctl_reply_encode(0, huge, 2 * CTL_REPLY_MAX, &buf,
	    &len), 0);
	ck_assert_uint_eq(len, CTL_REPLY_MAX);
	ck_assert_int_eq(ctl_reply_decode(buf, len, &status, &text, &tlen), 0);
	free(buf);
	free(huge);
	/* a status other than 0 or 1, and a short reply, are refused */
	ck_assert_int_eq(ctl_reply_decode("\0\0\0\2", 4, &status, &text,
	    &tlen), -1);
	ck_assert_int_eq(ctl_reply_decode("\0\0", 2, &status, &text,
	    &tlen), -1);
}
END_TEST

static Suite *
ctl_proto_suite(void)
{
	Suite	*s = suite_create("ctl_proto");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, request_roundtrip);
	tcase_add_test(tc, request_hostile);
	tcase_add_test(tc, reply_roundtrip_and_cut);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(ctl_proto_suite());
}
