/* test_msg_header.c — From:, Date:, Message-ID: as submission sees them. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/msg_header.h"

#include "tests/unit/check_main.h"

static void
scan(const char *hdr, struct msg_header_info *h)
{
	msg_header_scan(hdr, strlen(hdr), h);
}

START_TEST(simple_from)
{
	struct msg_header_info h;

	scan("From: alice@example.org\r\nTo: bob@example.com\r\n", &h);
	ck_assert_int_eq(h.nfrom_fields, 1);
	ck_assert_int_eq(h.nfrom, 1);
	ck_assert_str_eq(h.from[0], "alice@example.org");
	ck_assert_int_eq(h.has_date, 0);
	ck_assert_int_eq(h.has_message_id, 0);
}
END_TEST

START_TEST(display_names)
{
	struct msg_header_info h;

	scan("from:  \"Smith, Alice\" <alice@example.org> (work),\r\n"
	    "\tBob <bob@example.org>\r\nDate: x\r\nMESSAGE-ID: <1@x>\r\n", &h);
	ck_assert_int_eq(h.nfrom_fields, 1);
	ck_assert_int_eq(h.from_bad, 0);
	ck_assert_int_eq(h.nfrom, 2);
	ck_assert_str_eq(h.from[0], "alice@example.org");
	ck_assert_str_eq(h.from[1], "bob@example.org");
	ck_assert_int_eq(h.has_date, 1);
	ck_assert_int_eq(h.has_message_id, 1);
}
END_TEST

START_TEST(two_from_fields)
{
	struct msg_header_info h;

	scan("From: a@example.org\r\nSubject: x\r\nFrom: evil@example.net\r\n", &h);
	ck_assert_int_eq(h.nfrom_fields, 2);
	/* "From :" with white space before the colon is still From. */
	scan("From : a@example.org\r\nFROM: b@example.net\r\n", &h);
	ck_assert_int_eq(h.nfrom_fields, 2);
	/* Other fields that start with From are not From. */
	scan("From-Address: a@example.org\r\nFrom: b@example.org\r\n", &h);
	ck_assert_int_eq(h.nfrom_fields, 1);
	ck_assert_str_eq(h.from[0], "b@example.org");
}
END_TEST

/* RFC 5322 3.6: fields allowed once (issue 13: two Subject: relayed). */
START_TEST(once_only_fields)
{
	struct msg_header_info h;

	scan("From: a@example.org\r\nSubject: x\r\nsubject : y\r\n", &h);
	ck_assert_str_eq(h.dup_field, "Subject");
	scan("From: a@example.org\r\nTo: b@example.org\r\nCc: c@example.org\r\n"
	    "Subject: x\r\n to\r\nReceived: a\r\nReceived: b\r\n"
	    "Comments: a\r\nComments: b\r\nKeywords: a\r\nKeywords: b\r\n"
	    "Resent-From: a@example.org\r\nResent-From: b@example.org\r\n"
	    "X-To: a\r\nTo-Do: a\r\n", &h);
	ck_assert_str_eq(h.dup_field, "");
	scan("To: a@example.org\r\nFrom: a@example.org\r\nTO: b@example.org\r\n"
	    "From: b@example.org\r\n", &h);
	ck_assert_str_eq(h.dup_field, "To");
	scan("Message-ID: <a@b>\r\nMessage-Id: <c@d>\r\n", &h);
	ck_assert_str_eq(h.dup_field, "Message-ID");
	scan("Date: x\r\nSender: a@b\r\nReply-To: a@b\r\nIn-Reply-To: <a@b>\r\n"
	    "References: <a@b>\r\nBcc:\r\nBcc: x@y\r\n", &h);
	ck_assert_str_eq(h.dup_field, "Bcc");
}
END_TEST

START_TEST(bad_from)
{
	struct msg_header_info h;

	scan("From: no address here\r\n", &h);
	ck_assert_int_eq(h.from_bad, 1);
	scan("From: \"unterminated <a@example.org>\r\n", &h);
	ck_assert_int_eq(h.from_bad, 1);
	scan("From: <a@example.org\r\n", &h);
	ck_assert_int_eq(h.from_bad, 1);
	scan("From:\r\n", &h);
	ck_assert_int_eq(h.from_bad, 1);
}
END_TEST

START_TEST(groups_and_comments)
{
	char	 out[4][SMTP_PATH_MAX + 1];
	const char *v = " team: a@example.org, (c) b@example.org ;";

	ck_assert_int_eq(msg_header_parse_mailboxes(v, strlen(v), out, 4), 2);
	ck_assert_str_eq(out[0], "a@example.org");
	ck_assert_str_eq(out[1], "b@example.org");
	v = "a@example.org, b@example.org, c@example.org";
	ck_assert_int_eq(msg_header_parse_mailboxes(v, strlen(v), out, 2), -1);
}
END_TEST

/* Review findings: each of these made the From: check see another address
 * than a mail reader does.  All must be unreadable (from_bad). */
START_TEST(from_tricks_refused)
{
	static const char *bad[] = {
		"From: mallory@evil.com:alice@example.org;\r\n",
		"From: mallory@evil.com\r\n :alice@example.org\r\n",
		"From: <mallory@evil.com<alice@example.org>\r\n",
		"From: <alice@example.org> mallory@evil.com\r\n",
		"From: alice@example.org>\r\n",
		"From: Alice <alice@example.org\r\n",
		"From: a: b: alice@example.org;;\r\n",
		"From: group: alice@example.org\r\n",
		"From: <alice@example.org>, <bob@example.org\r\n",
		"From: alice@example.org;\r\n",
		"From: <@evil.com:alice@example.org>\r\n",
		"From: Mallory <mallory@evil.com> <alice@example.org>\r\n",
		"From: alice @ example.org mallory\r\n",
	};
	struct msg_header_info h;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		scan(bad[i], &h);
		if (!h.from_bad)
			ck_abort_msg("accepted %s as %s", bad[i],
			    h.nfrom ? h.from[0] : "(none)");
	}
}
END_TEST

START_TEST(from_good_forms)
{
	static const struct { const char *hdr, *first; int n; } good[] = {
		{ "From: alice@example.org\r\n", "alice@example.org", 1 },
		{ "From: Alice <alice@example.org>\r\n", "alice@example.org", 1 },
		{ "From: \"Smith, A. <x@y>\" <alice@example.org>\r\n",
		    "alice@example.org", 1 },
		{ "From: \"a@b\" <alice@example.org> (work)\r\n",
		    "alice@example.org", 1 },
		{ "From: =?utf-8?q?Al=C3=AFce?= <alice@example.org>\r\n",
		    "alice@example.org", 1 },
		{ "From: team: alice@example.org, bob@example.org;\r\n",
		    "alice@example.org", 2 },
		{ "From:\r\n Alice\r\n <alice@example.org>\r\n", "alice@example.org", 1 },
		{ "From: \"john doe\"@example.org\r\n", "\"john doe\"@example.org", 1 },
	};
	struct msg_header_info h;
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		scan(good[i].hdr, &h);
		if (h.from_bad || h.nfrom != good[i].n ||
		    strcmp(h.from[0], good[i].first) != 0)
			ck_abort_msg("refused or misread %s", good[i].hdr);
	}
}
END_TEST

static Suite *
msg_header_suite(void)
{
	Suite	*s = suite_create("msg_header");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, simple_from);
	tcase_add_test(tc, display_names);
	tcase_add_test(tc, two_from_fields);
	tcase_add_test(tc, bad_from);
	tcase_add_test(tc, once_only_fields);
	tcase_add_test(tc, groups_and_comments);
	tcase_add_test(tc, from_tricks_refused);
	tcase_add_test(tc, from_good_forms);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(msg_header_suite());
}
