/* test_rspamd.c — rspamd's /checkv2 reply as a verdict (proto/rspamd.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rspamd.h"

#include "tests/unit/check_main.h"

static struct rspamd_verdict	 v;
static struct rspamd_left_out	 left;
static int			 dropped;
static const char		*why;

static int
parsen(const char *json, size_t len)
{
	int	 rc;

	why = NULL;
	rc = rspamd_reply_parse(json, len, &v, &left, &why);
	dropped = left.unsafe;
	return rc;
}

static int
parse(const char *json)
{
	return parsen(json, strlen(json));
}

START_TEST(test_reject_with_message)
{
	ck_assert_int_eq(parse("{\"is_skipped\":true,\"score\":15.0,"
	    "\"required_score\":15.0,\"action\":\"reject\",\"symbols\":{\"GTUBE\":"
	    "{\"name\":\"GTUBE\",\"score\":0.0}},\"messages\":{\"smtp_message\":"
	    "\"Gtube pattern\"}}"), 0);
	ck_assert_int_eq(v.action, RSPAMD_REJECT);
	ck_assert_str_eq(v.message, "Gtube pattern");
	ck_assert_int_eq(v.score_milli, 15000);
	ck_assert_int_eq(v.addlen, 0);
	ck_assert(rspamd_verdict_valid(&v));
	ck_assert_str_eq(rspamd_action_name(v.action), "reject");
}
END_TEST

START_TEST(test_actions)
{
	static const struct { const char *name; int action; } t[] = {
		{ "no action", RSPAMD_NO_ACTION },
		{ "greylist", RSPAMD_GREYLIST },
		{ "add header", RSPAMD_ADD_HEADER },
		{ "rewrite subject", RSPAMD_REWRITE_SUBJECT },
		{ "soft reject", RSPAMD_SOFT_REJECT },
		{ "reject", RSPAMD_REJECT },
	};
	char	 json[128];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(json, sizeof(json), "{\"action\":\"%s\",\"score\":1.5}",
		    t[i].name);
		ck_assert_int_eq(parse(json), 0);
		ck_assert_int_eq(v.action, t[i].action);
		ck_assert_int_eq(v.score_milli, 1500);
		ck_assert(rspamd_verdict_valid(&v));
	}
}
END_TEST

/*
 * rspamd's "discard" (drop, tell the sender it went) and "quarantine"
 * (keep it aside) both mean the message must not leave: refused (550),
 * never passed on by on-error accept as an unknown action would be.
 */
START_TEST(test_discard_and_quarantine_refuse)
{
	ck_assert_int_eq(parse("{\"action\":\"discard\",\"score\":20}"), 0);
	ck_assert_int_eq(v.action, RSPAMD_REJECT);
	ck_assert_int_eq(parse("{\"action\":\"quarantine\","
	    "\"messages\":{\"smtp_message\":\"held\"}}"), 0);
	ck_assert_int_eq(v.action, RSPAMD_REJECT);
	ck_assert_str_eq(v.message, "held");
	ck_assert(rspamd_verdict_valid(&v));
}
END_TEST

/* A score past int64 milli-points is clamped (the conversion was undefined). */
START_TEST(test_huge_score_clamped)
{
	ck_assert_int_eq(parse("{\"action\":\"no action\",\"score\":1e300,"
	    "\"required_score\":-1e300}"), 0);
	ck_assert(v.score_milli >= 1000000000000000LL);
	ck_assert(v.required_milli <= -1000000000000000LL);
}
END_TEST

START_TEST(test_not_a_reply)
{
	ck_assert_int_eq(parse(""), -1);
	ck_assert_int_eq(parse("[]"), -1);
	ck_assert_int_eq(parse("{\"score\":1}"), -1);
	ck_assert_int_eq(parse("{\"action\":\"explode\"}"), -1);
	ck_assert_int_eq(parse("{\"action\":1}"), -1);
	ck_assert_int_eq(parse("{\"action\":\"reject\""), -1);
	ck_assert_ptr_nonnull(why);
	/* duplicate keys: which one would win is not ours to guess */
	ck_assert_int_eq(parse("{\"action\":\"no action\",\"action\":\"reject\"}"),
	    -1);
}
END_TEST

START_TEST(test_milter_headers)
{
	ck_assert_int_eq(parse("{\"action\":\"add header\",\"milter\":{"
	    "\"remove_headers\":{\"X-Remove-Me\":0,\"X-Spam\":1},"
	    "\"add_headers\":{\"X-A\":\"one\",\"X-B\":{\"value\":\"two\","
	    "\"order\":0},\"X-C\":[{\"value\":\"three\"},\"four\"]}}}"), 0);
	ck_assert_int_eq(dropped, 0);
	ck_assert_str_eq(v.add, "X-A: one\r\nX-B: two\r\nX-C: three\r\n"
	    "X-C: four\r\n");
	ck_assert_int_eq(v.addlen, strlen(v.add));
	ck_assert_str_eq(v.remove, "X-Remove-Me\nX-Spam\n");
	ck_assert(rspamd_verdict_valid(&v));
}
END_TEST

START_TEST(test_add_header_default_x_spam)
{
	ck_assert_int_eq(parse("{\"action\":\"add header\"}"), 0);
	ck_assert_str_eq(v.add, "X-Spam: Yes\r\n");
	ck_assert_int_eq(parse("{\"action\":\"no action\"}"), 0);
	ck_assert_int_eq(v.addlen, 0);
}
END_TEST

START_TEST(test_rewrite_subject)
{
	ck_assert_int_eq(parse("{\"action\":\"rewrite subject\","
	    "\"subject\":\"*** SPAM *** hello\"}"), 0);
	ck_assert_str_eq(v.add, "Subject: *** SPAM *** hello\r\n");
	ck_assert_str_eq(v.remove, "Subject\n");
	ck_assert(rspamd_verdict_valid(&v));
}
END_TEST

START_TEST(test_unsafe_fields_dropped)
{
	/* header injection, a bad name, 8-bit: none of them written */
	ck_assert_int_eq(parse("{\"action\":\"no action\",\"milter\":{"
	    "\"add_headers\":{\"X-Inj\":\"a\\r\\nBcc: evil@example.com\","
	    "\"Bad Name\":\"x\",\"X-8bit\":\"caf\\u00e9\","
	    "\"X-Fold\":\"a\\n\\tb\",\"X-Ok\":\"fine\"},"
	    "\"remove_headers\":{\"Bad:Name\":0}}}"), 0);
	ck_assert_int_eq(dropped, 4);
	ck_assert_str_eq(v.add, "X-Fold: a\r\n\tb\r\nX-Ok: fine\r\n");
	ck_assert_str_eq(v.remove, "");
	ck_assert(rspamd_verdict_valid(&v));
}
END_TEST

/*
 * Review of issue 16: a removal of From: made the queue refuse the
 * message (no From: to check and sign for), 451 at every retry.  The
 * fields a filter may neither remove nor add are left as they are, told
 * in LEFT, and the rest of the reply applies.
 */
START_TEST(test_kept_fields_untouched)
{
	ck_assert_int_eq(parse("{\"action\":\"add header\",\"milter\":{"
	    "\"remove_headers\":{\"From\":0,\"date\":1,\"MESSAGE-ID\":0,"
	    "\"Received\":-1,\"X-Spam\":0,\"Content-Type\":0},"
	    "\"add_headers\":{\"From\":\"<evil@example.com>\","
	    "\"X-A\":\"one\"}}}"), 0);
	ck_assert_int_eq(v.action, RSPAMD_ADD_HEADER);
	ck_assert_str_eq(v.remove, "X-Spam\n");
	ck_assert_str_eq(v.add, "X-A: one\r\n");
	ck_assert_int_eq(left.kept, 6);
	/* each once, in a fixed order whatever the reply's */
	ck_assert_str_eq(left.kept_names,
	    "From,Date,Message-ID,Received,Content-Type");
	ck_assert_int_eq(left.unsafe, 0);
	ck_assert(rspamd_verdict_valid(&v));
	/* only From: to remove: nothing else to do, not an error */
	ck_assert_int_eq(parse("{\"action\":\"no action\",\"milter\":{"
	    "\"remove_headers\":{\"From\":0}}}"), 0);
	ck_assert_str_eq(v.remove, "");
	ck_assert_int_eq(v.addlen, 0);
	ck_assert_str_eq(left.kept_names, "From");
	ck_assert(rspamd_field_kept("from", 4) == 1);
	ck_assert(rspamd_field_kept("Content-Transfer-Encoding", 25) > 0);
	ck_assert(rspamd_field_kept("Subject", 7) == 0);
	ck_assert(rspamd_field_kept("Fro", 3) == 0);
	/* the queue role refuses a verdict that touches one anyway */
	parse("{\"action\":\"add header\"}");
	strcpy(v.remove, "X-A\nFROM\n");
	ck_assert(!rspamd_verdict_valid(&v));
	parse("{\"action\":\"add header\"}");
	strcpy(v.add, "Date: Mon, 1 Jan 2026 00:00:00 +0000\r\n");
	v.addlen = (uint32_t)strlen(v.add);
	ck_assert(!rspamd_verdict_valid(&v));
}
END_TEST

/*
 * Review of issue 16: "\u0000" in a header field's name or value made
 * jansson refuse the whole reply (the action lost: on-error).  That
 * field is dropped, the action and the other fields apply.  A raw control
 * octet inside a string (not JSON) is read the same way.
 */
START_TEST(test_nul_in_field_dropped_action_applies)
{
	static const char raw[] = "{\"action\":\"add header\",\"milter\":"
	    "{\"add_headers\":{\"X-Raw\":\"a\001b\",\"X-Ok\":\"fine\","
	    "\"X-Tab\":\"a\tb\"}}}";
	static const char nul[] = "{\"action\":\"no action\",\"milter\":"
	    "{\"add_headers\":{\"X-Z\":\"a\0b\"}}}";

	ck_assert_int_eq(parse("{\"action\":\"add header\",\"milter\":{"
	    "\"add_headers\":{\"X-Nul\":\"a\\u0000b\","
	    "\"X-N\\u0000me\":\"v\",\"X-Lit\":\"a\\\\u0000b\","
	    "\"X-Ok\":\"fine\"},"
	    "\"remove_headers\":{\"X-R\\u0000\":0,\"X-Gone\":0}}}"), 0);
	ck_assert_int_eq(v.action, RSPAMD_ADD_HEADER);
	/* an escaped backslash then "u0000" is text, kept */
	ck_assert_str_eq(v.add, "X-Lit: a\\u0000b\r\nX-Ok: fine\r\n");
	ck_assert_str_eq(v.remove, "X-Gone\n");
	ck_assert_int_eq(left.unsafe, 3);
	ck_assert_str_eq(left.unsafe_names, "X-R\001,X-Nul,X-N\001me");
	ck_assert(rspamd_verdict_valid(&v));
	/* the action alone survives a NUL in the SMTP text or the Subject */
	ck_assert_int_eq(parse("{\"action\":\"reject\",\"messages\":"
	    "{\"smtp_message\":\"no\\u0000pe\"}}"), 0);
	ck_assert_int_eq(v.action, RSPAMD_REJECT);
	ck_assert_str_eq(v.message, "no pe");
	ck_assert_int_eq(parse("{\"action\":\"rewrite subject\","
	    "\"subject\":\"*** SPAM *** \\u0000\\r\\nBcc: x@example.com\"}"),
	    0);
	ck_assert_int_eq(v.action, RSPAMD_REWRITE_SUBJECT);
	ck_assert_int_eq(v.addlen, 0);
	ck_assert_str_eq(v.remove, "");		/* the Subject: stays */
	ck_assert_str_eq(left.unsafe_names, "Subject");
	/* raw control octets inside strings */
	ck_assert_int_eq(parsen(raw, sizeof(raw) - 1), 0);
	ck_assert_str_eq(v.add, "X-Ok: fine\r\nX-Tab: a\tb\r\n");
	ck_assert_int_eq(left.unsafe, 1);
	/* a NUL octet in the reply itself (len counts it) */
	ck_assert_int_eq(parsen(nul, sizeof(nul) - 1), 0);
	ck_assert_int_eq(v.addlen, 0);
	ck_assert_int_eq(left.unsafe, 1);
	/* the action is still the reply's: a NUL in it is no action known */
	ck_assert_int_eq(parse("{\"action\":\"reject\\u0000\"}"), -1);
}
END_TEST

START_TEST(test_message_sanitized)
{
	ck_assert_int_eq(parse("{\"action\":\"reject\",\"messages\":"
	    "{\"smtp_message\":\"bad\\r\\n250 ok \\u00e9  \"}}"), 0);
	ck_assert_str_eq(v.message, "bad  250 ok");
	ck_assert(rspamd_verdict_valid(&v));
}
END_TEST

START_TEST(test_verdict_valid_refuses)
{
	ck_assert_int_eq(parse("{\"action\":\"add header\"}"), 0);
	v.action = 99;
	ck_assert(!rspamd_verdict_valid(&v));
	parse("{\"action\":\"add header\"}");
	memcpy(v.add, "X-A: b\nC: d\r\n", 14);
	v.addlen = 13;
	ck_assert(!rspamd_verdict_valid(&v));
	parse("{\"action\":\"add header\"}");
	memcpy(v.add, "X A: b\r\n", 9);
	v.addlen = 8;
	ck_assert(!rspamd_verdict_valid(&v));
	parse("{\"action\":\"add header\"}");
	v.addlen = sizeof(v.add);
	ck_assert(!rspamd_verdict_valid(&v));
	parse("{\"action\":\"reject\"}");
	strcpy(v.message, "a\rb");
	ck_assert(!rspamd_verdict_valid(&v));
	parse("{\"action\":\"reject\"}");
	strcpy(v.remove, "X-A");	/* no terminating newline */
	ck_assert(!rspamd_verdict_valid(&v));
	parse("{\"action\":\"reject\"}");
	memset(v.message, 'a', sizeof(v.message));
	ck_assert(!rspamd_verdict_valid(&v));
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("rspamd");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_reject_with_message);
	tcase_add_test(tc, test_actions);
	tcase_add_test(tc, test_discard_and_quarantine_refuse);
	tcase_add_test(tc, test_huge_score_clamped);
	tcase_add_test(tc, test_not_a_reply);
	tcase_add_test(tc, test_milter_headers);
	tcase_add_test(tc, test_add_header_default_x_spam);
	tcase_add_test(tc, test_rewrite_subject);
	tcase_add_test(tc, test_unsafe_fields_dropped);
	tcase_add_test(tc, test_kept_fields_untouched);
	tcase_add_test(tc, test_nul_in_field_dropped_action_applies);
	tcase_add_test(tc, test_message_sanitized);
	tcase_add_test(tc, test_verdict_valid_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
