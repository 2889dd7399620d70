/* test_smtp_parse.c — RFC 5321 paths, parameters and verbs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_parse.h"
#include "lib/submitd.h"

#include "tests/unit/check_main.h"

static int
path(const char *in, int allow_empty, char *out, const char **rest)
{
	return smtp_parse_path(in, allow_empty, out, SMTP_PATH_MAX + 1, rest);
}

START_TEST(path_good)
{
	char		 out[SMTP_PATH_MAX + 1];
	const char	*rest;

	ck_assert_int_eq(path("<alice@example.org>", 0, out, &rest), 0);
	ck_assert_str_eq(out, "alice@example.org");
	ck_assert_str_eq(rest, "");
	ck_assert_int_eq(path(" <a.b+c@sub.example.org> SIZE=10", 0, out, &rest), 0);
	ck_assert_str_eq(out, "a.b+c@sub.example.org");
	ck_assert_str_eq(rest, " SIZE=10");
	ck_assert_int_eq(path("<\"john doe\"@example.org>", 0, out, &rest), 0);
	ck_assert_str_eq(out, "\"john doe\"@example.org");
	ck_assert_int_eq(path("<user@[192.0.2.1]>", 0, out, &rest), 0);
	ck_assert_str_eq(out, "user@[192.0.2.1]");
	/* A source route is accepted and dropped (RFC 5321 4.1.2). */
	ck_assert_int_eq(path("<@relay.example,@b.example:u@example.org>", 0,
	    out, &rest), 0);
	ck_assert_str_eq(out, "u@example.org");
}
END_TEST

START_TEST(path_empty)
{
	char		 out[SMTP_PATH_MAX + 1];
	const char	*rest;

	ck_assert_int_eq(path("<>", 1, out, &rest), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(path("<>", 0, out, &rest), -1);
}
END_TEST

START_TEST(path_bad)
{
	static const char *bad[] = {
		"alice@example.org",		/* no brackets */
		"<alice@example.org",		/* unclosed */
		"<alice>",			/* no domain */
		"<@example.org>",		/* no local part */
		"<alice@>",
		"<al ice@example.org>",
		"<alice@exa mple.org>",
		"<alice@example..org>",
		"<.alice@example.org>",
		"<alice.@example.org>",
		"<alice@-example.org>",
		"<alice@example-.org>",
		"<al\001ice@example.org>",
		"<\"unterminated@example.org>",
		"<alice@example.org>>",
		"<a@b@example.org>",
	};
	char		 out[SMTP_PATH_MAX + 1];
	const char	*rest;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rest = NULL;
		if (path(bad[i], 1, out, &rest) == 0 && *rest == '\0')
			ck_abort_msg("accepted bad path %s", bad[i]);
	}
}
END_TEST

START_TEST(path_lengths)
{
	char		 in[600], out[SMTP_PATH_MAX + 1];
	const char	*rest;

	/* local part of 64 octets is fine, 65 is not */
	memset(in, 0, sizeof(in));
	in[0] = '<';
	memset(in + 1, 'a', 64);
	strcat(in, "@example.org>");
	ck_assert_int_eq(path(in, 0, out, &rest), 0);
	memset(in + 1, 'a', 65);
	in[66] = '\0';
	strcat(in, "@example.org>");
	ck_assert_int_eq(path(in, 0, out, &rest), -1);
	/* a path over 256 octets is refused */
	snprintf(in, sizeof(in), "<a@%0250d.example.org>", 0);
	for (char *p = in + 3; *p == '0'; p++)
		*p = 'd';
	ck_assert_int_eq(path(in, 0, out, &rest), -1);
}
END_TEST

START_TEST(mail_params)
{
	struct smtp_mail_params p;

	ck_assert_int_eq(smtp_parse_mail_params("", &p), 0);
	ck_assert_int_eq(p.size, 0);
	ck_assert_int_eq(smtp_parse_mail_params(" SIZE=12345 BODY=8BITMIME", &p), 0);
	ck_assert_int_eq(p.size, 12345);
	ck_assert_int_eq(p.body_8bitmime, 1);
	ck_assert_int_eq(smtp_parse_mail_params(" body=7bit", &p), 0);
	ck_assert_int_eq(p.body_8bitmime, 0);
	ck_assert_int_eq(smtp_parse_mail_params(" SIZE=abc", &p), -1);
	ck_assert_int_eq(smtp_parse_mail_params(" SIZE=", &p), -1);
	ck_assert_int_eq(smtp_parse_mail_params(" SIZE=99999999999999999999", &p), -1);
	ck_assert_int_eq(smtp_parse_mail_params(" BODY=BINARYMIME", &p), -1);
	ck_assert_int_eq(p.smtputf8, 0);
	ck_assert_int_eq(smtp_parse_mail_params(" SMTPUTF8", &p), 0);
	ck_assert_int_eq(p.smtputf8, 1);
	ck_assert_int_eq(smtp_parse_mail_params(" smtputf8 BODY=8BITMIME", &p), 0);
	ck_assert_int_eq(p.smtputf8, 1);
	ck_assert_int_eq(smtp_parse_mail_params(" SMTPUTF8=YES", &p), -1);
	ck_assert_int_eq(smtp_parse_mail_params(" RET=FULL", &p), -2);
	ck_assert_int_eq(smtp_parse_mail_params("junk", &p), -1);
	ck_assert_int_eq(smtp_parse_rcpt_params(""), 0);
	ck_assert_int_eq(smtp_parse_rcpt_params(" NOTIFY=NEVER"), -2);
}
END_TEST

/* RFC 3629: what SMTPUTF8 addresses must be (issue 13 item 6). */
START_TEST(utf8)
{
	ck_assert_int_eq(smtp_utf8_valid("alice@example.org"), 1);
	ck_assert_int_eq(smtp_utf8_valid("\xc3\xa4lice@example.org"), 1);
	ck_assert_int_eq(smtp_utf8_valid("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90"), 1);
	ck_assert_int_eq(smtp_utf8_valid("\xf0\x9f\x93\xa7@example.org"), 1);
	ck_assert_int_eq(smtp_utf8_valid("\xe4lice@example.org"), 0);	/* Latin-1 */
	ck_assert_int_eq(smtp_utf8_valid("\xc3"), 0);			/* cut */
	ck_assert_int_eq(smtp_utf8_valid("\xc0\xa0@x"), 0);		/* overlong */
	ck_assert_int_eq(smtp_utf8_valid("\xe0\x80\xa0@x"), 0);	/* overlong */
	ck_assert_int_eq(smtp_utf8_valid("\xed\xa0\x80@x"), 0);	/* surrogate */
	ck_assert_int_eq(smtp_utf8_valid("\xf4\x90\x80\x80@x"), 0);	/* > U+10FFFF */
	ck_assert_int_eq(smtp_utf8_valid("\xa4@x"), 0);		/* continuation */
	ck_assert_int_eq(smtp_utf8_valid("\xf8\x88\x80\x80\x80"), 0);
	ck_assert_int_eq(smtp_ascii("alice@example.org"), 1);
	ck_assert_int_eq(smtp_ascii("\xc3\xa4lice@example.org"), 0);
}
END_TEST

/* RFC 3492 / RFC 8616: U-labels as A-labels (IANA's IDN test domains). */
START_TEST(alabel)
{
	char	 out[256];

	ck_assert_int_eq(smtp_domain_alabel("b\xc3\xbc" "cher.example", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "xn--bcher-kva.example");
	ck_assert_int_eq(smtp_domain_alabel("M\xc3\xbcnchen.Example", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "xn--mnchen-3ya.example");
	/* παράδειγμα.δοκιμή, 例子.测试 */
	ck_assert_int_eq(smtp_domain_alabel("\xcf\x80\xce\xb1\xcf\x81"
	    "\xce\xac\xce\xb4\xce\xb5\xce\xb9\xce\xb3\xce\xbc\xce\xb1."
	    "\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "xn--hxajbheg2az3al.xn--jxalpdlp");
	ck_assert_int_eq(smtp_domain_alabel("\xe4\xbe\x8b\xe5\xad\x90."
	    "\xe6\xb5\x8b\xe8\xaf\x95", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "xn--fsqu00a.xn--0zwm56d");
	ck_assert_int_eq(smtp_domain_alabel("example.org", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "example.org");
	ck_assert_int_eq(smtp_domain_alabel("\xe4.example", out, sizeof(out)), -1);
	ck_assert_int_eq(smtp_domain_alabel("b\xc3\xbc" "cher.example", out, 10), -1);
}
END_TEST

START_TEST(verbs)
{
	char		 verb[16];
	const char	*args;

	args = smtp_cmd_verb("mail FROM:<a@b.c>", verb, sizeof(verb));
	ck_assert_str_eq(verb, "MAIL");
	ck_assert_str_eq(args, "FROM:<a@b.c>");
	args = smtp_cmd_verb("QUIT", verb, sizeof(verb));
	ck_assert_str_eq(verb, "QUIT");
	ck_assert_str_eq(args, "");
	ck_assert_ptr_null(smtp_cmd_verb("AVERYVERYLONGVERBINDEED x", verb,
	    sizeof(verb)));
	ck_assert_str_eq(smtp_addr_domain("a@Example.ORG"), "Example.ORG");
	ck_assert_ptr_null(smtp_addr_domain("nodomain"));
}
END_TEST

static Suite *
smtp_parse_suite(void)
{
	Suite	*s = suite_create("smtp_parse");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, utf8);
	tcase_add_test(tc, alabel);
	tcase_add_test(tc, path_good);
	tcase_add_test(tc, path_empty);
	tcase_add_test(tc, path_bad);
	tcase_add_test(tc, path_lengths);
	tcase_add_test(tc, mail_params);
	tcase_add_test(tc, verbs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(smtp_parse_suite());
}
