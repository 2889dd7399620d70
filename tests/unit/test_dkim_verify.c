/*
 * test_dkim_verify.c — verifying hostile input: every truncation of a
 * signed message, random octet changes, odd DKIM-Signature fields.  Run
 * under "make check-asan" this is where out-of-bounds reads would show.
 */
#include "tests/unit/test_dkim_util.h"

static struct dkim_pubkey *keys[2];
static char	*msg;
static size_t	 msglen;

static void
setup(void)
{
	char	 err[256];

	msg = util_rfcfile("signed.eml", &msglen);
	keys[0] = dkim_pubkey_from_txt("v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", err, sizeof(err));
	ck_assert_ptr_nonnull(keys[0]);
	keys[1] = NULL;
}

static void
teardown(void)
{
	dkim_pubkey_free(keys[0]);
	free(msg);
}

/* Verifies a malloc'd copy of exactly LEN octets (no NUL after it). */
static int
verify_copy(const char *m, size_t len, struct dkim_result *res, size_t max)
{
	char	*copy = malloc(len ? len : 1);
	int	 n;

	memcpy(copy, m, len);
	n = dkim_verify_message(copy, len, keys, 1, 0, res, max);
	free(copy);
	return n;
}

START_TEST(test_truncations)
{
	struct dkim_result	 res[2];
	size_t			 len;
	int			 n;

	for (len = 0; len < msglen; len++) {
		n = verify_copy(msg, len, res, 2);
		ck_assert_int_ge(n, 0);
		ck_assert_int_le(n, 2);
		/* the Ed25519 signature never passes on a cut message,
		 * except when only trailing empty lines are lost */
		if (n >= 1 && res[0].pass)
			ck_assert_int_ge(len, msglen - 2);
	}
}
END_TEST

START_TEST(test_random_changes)
{
	struct dkim_result	 res[2];
	char			*copy = malloc(msglen);
	size_t			 i, k, pos;

	srandom(8463);
	for (i = 0; i < 5000; i++) {
		memcpy(copy, msg, msglen);
		for (k = 0; k < 1 + (size_t)random() % 4; k++) {
			pos = random() % msglen;
			copy[pos] = (char)(random() % 256);
		}
		ck_assert_int_ge(verify_copy(copy, msglen, res, 2), 0);
	}
	free(copy);
}
END_TEST

START_TEST(test_odd_fields)
{
	static const char *const fields[] = {
		"DKIM-Signature:\r\n",
		"DKIM-Signature: ;\r\n",
		"DKIM-Signature: v=1\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; b=; bh=; d=; h=; s=\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; b=AAAA; bh=AAAA; d=x; h=from; s=s\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; b=!!; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; d=x; h=from; s=s\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/odd; b=AA==; bh=AA==; d=x; h=from; s=s\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; c=x; b=AA==; bh=AA==; d=x; h=from; s=s\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; i=@y; b=AA==; bh=AA==; d=x; h=from; s=s\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; i=a@sub.x; x=1; b=AA==; bh=AA==; d=x; h=from; s=s\r\n",
		"DKIM-Signature: v=1; a=ed25519-sha256; x=99999999999999999; b=AA==; bh=AA==; d=x; h=:::; s=s\r\n",
		"DKIM-Signature : v=1; a=rsa-sha256; b=\r\n\t; bh=\r\n ; d=x; h=from; s=s",
		"dkim-signature: v=1; a=ed25519-sha256; b=\x01\x02\r\n",
	};
	struct dkim_result	 res;
	char			 buf[1024];
	size_t			 i;
	int			 n;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(buf, sizeof(buf), "%sFrom: a@x\r\n\r\nbody\r\n", fields[i]);
		n = verify_copy(buf, strlen(buf), &res, 1);
		ck_assert_int_eq(n, 1);
		ck_assert_msg(!res.pass, "%s passed", fields[i]);
		ck_assert_msg(res.reason[0] != '\0', "%s: no reason", fields[i]);
		/* the field alone, with no CRLF and nothing after */
		n = verify_copy(fields[i], strlen(fields[i]), &res, 1);
		ck_assert_int_eq(n, 1);
		ck_assert(!res.pass);
	}
	/* more signatures than room for results: counted, not written */
	snprintf(buf, sizeof(buf), "%s%s%sFrom: a@x\r\n\r\n", fields[4], fields[4],
	    fields[4]);
	ck_assert_int_eq(verify_copy(buf, strlen(buf), &res, 1), 3);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dkim_verify");
	TCase	*tc = tcase_create("hostile");
	SRunner	*sr;
	int	 nfail;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_truncations);
	tcase_add_test(tc, test_random_changes);
	tcase_add_test(tc, test_odd_fields);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? 0 : 1;
}
