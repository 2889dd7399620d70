/*
 * test_dkim_rfc8463.c — the worked example of RFC 8463 Appendix A, from
 * tests/testdata/rfc8463 (copied from the RFC): body hash, both signatures verified with the
 * RFC's public keys, rejected after one changed byte, re-signed to the same
 * b= octets; and the wrong (un-hashed) Ed25519 value refused.
 */
#include "tests/unit/test_dkim_util.h"

#define RFC_BH_RELAXED	"2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
#define RFC_BH_SIMPLE	"4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ="
#define WRONG_ED25519	"QGeDV9CRdXSybek0z54GoycZ4/kl1PsNnGoOsCZ0ZOOwiGYFE8Ft0SZpy1XLW/fwlwNFC1k6VaxsnQAH8+9cAA=="
#define RFC_B_ED25519	"/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="

static struct dkim_pubkey *keys[2];
static char	*msg;
static size_t	 msglen;

static void
setup(void)
{
	char	 err[256], *txt;

	msg = util_rfcfile("signed.eml", &msglen);
	txt = util_rfcfile("brisbane._domainkey.football.example.com.txt", NULL);
	txt[strcspn(txt, "\r\n")] = '\0';
	keys[0] = dkim_pubkey_from_txt(txt, err, sizeof(err));
	ck_assert_msg(keys[0] != NULL, "ed25519 record: %s", err);
	free(txt);
	txt = util_rfcfile("test._domainkey.football.example.com.txt", NULL);
	txt[strcspn(txt, "\r\n")] = '\0';
	keys[1] = dkim_pubkey_from_txt(txt, err, sizeof(err));
	ck_assert_msg(keys[1] != NULL, "rsa record: %s", err);
	free(txt);
}

static void
teardown(void)
{
	dkim_pubkey_free(keys[0]);
	dkim_pubkey_free(keys[1]);
	free(msg);
}

/* Verifies M with both RFC keys; results in RES[2]; returns the count. */
static int
verify(const char *m, size_t len, struct dkim_result res[2])
{
	return dkim_verify_message(m, len, keys, 2, 1528637909, res, 2);
}

START_TEST(test_bodyhash)
{
	size_t	 hdrlen, bodyoff;
	char	*b64;
	size_t	 chunk;

	dkim_msg_split(msg, msglen, &hdrlen, &bodyoff);
	for (chunk = 1; chunk <= msglen; chunk = chunk * 3 + 1) {
		b64 = util_bh64(0, msg + bodyoff, msglen - bodyoff, chunk);
		ck_assert_str_eq(b64, RFC_BH_RELAXED);
		free(b64);
		b64 = util_bh64(1, msg + bodyoff, msglen - bodyoff, chunk);
		ck_assert_str_eq(b64, RFC_BH_SIMPLE);
		free(b64);
	}
}
END_TEST

START_TEST(test_both_verify)
{
	struct dkim_result	 res[2];

	ck_assert_int_eq(verify(msg, msglen, res), 2);
	ck_assert_msg(res[0].pass, "ed25519: %s", res[0].reason);
	ck_assert_msg(res[1].pass, "rsa: %s", res[1].reason);
	ck_assert_str_eq(res[0].alg, "ed25519-sha256");
	ck_assert_str_eq(res[1].alg, "rsa-sha256");
	ck_assert_str_eq(res[0].domain, "football.example.com");
	ck_assert_str_eq(res[0].selector, "brisbane");
	ck_assert_str_eq(res[1].selector, "test");
}
END_TEST

/* The public keys derived from the private key files verify too. */
START_TEST(test_private_files)
{
	struct dkim_pubkey	*pk[2];
	struct dkim_key		*k;
	struct dkim_result	 res[2];
	char			 path[1200], err[256];

	snprintf(path, sizeof(path), "%s/ed25519.seed.b64", util_rfcdir());
	k = dkim_key_load(path, DKIM_ALG_ED25519_SHA256, err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	pk[0] = dkim_pubkey_from_key(k);
	dkim_key_free(k);
	snprintf(path, sizeof(path), "%s/rsa.key.pem", util_rfcdir());
	k = dkim_key_load(path, DKIM_ALG_RSA_SHA256, err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	ck_assert_int_eq(dkim_key_bits(k), 1024);
	pk[1] = dkim_pubkey_from_key(k);
	dkim_key_free(k);
	ck_assert_ptr_nonnull(pk[0]);
	ck_assert_ptr_nonnull(pk[1]);
	ck_assert_int_eq(dkim_verify_message(msg, msglen, pk, 2, 0, res, 2), 2);
	ck_assert(res[0].pass && res[1].pass);
	dkim_pubkey_free(pk[0]);
	dkim_pubkey_free(pk[1]);
}
END_TEST

/* One octet changed in the body: both fail on the body hash. */
START_TEST(test_body_byte)
{
	struct dkim_result	 res[2];
	char			*p;

	p = strstr(msg, "We lost");
	ck_assert_ptr_nonnull(p);
	p[4] = 'e';
	ck_assert_int_eq(verify(msg, msglen, res), 2);
	ck_assert(!res[0].pass && !res[1].pass);
	ck_assert_str_eq(res[0].reason, "body hash mismatch");
	ck_assert_str_eq(res[1].reason, "body hash mismatch");
}
END_TEST

/* One octet changed in each signed header in turn: both fail. */
START_TEST(test_header_byte)
{
	static const char *const where[] = { "Joe SixPack", "Suzie Q",
	    "dinner", "21:00:37", "46341", "d=football", "t=1528637909" };
	struct dkim_result	 res[2];
	size_t			 i;
	char			*p, *copy;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		copy = malloc(msglen + 1);
		memcpy(copy, msg, msglen + 1);
		/* the last occurrence: the RSA field's tags, or the header */
		p = strstr(copy, where[i]);
		ck_assert_ptr_nonnull(p);
		p[2] ^= 1;
		ck_assert_int_eq(verify(copy, msglen, res), 2);
		ck_assert_msg(!res[0].pass || !res[1].pass, "%s changed, passed",
		    where[i]);
		if (i < 5)
			ck_assert_msg(!res[0].pass && !res[1].pass,
			    "%s changed, one passed", where[i]);
		free(copy);
	}
}
END_TEST

/* The un-signed field (b= emptied) of signature IDX of the message. */
static char *
unsigned_field(int idx, size_t *len)
{
	struct dkim_field	*f;
	struct dkim_taglist	 tl;
	const struct dkim_tag	*b;
	char			 err[128], *s;
	size_t			 n, hdrlen, bodyoff, valoff;

	dkim_msg_split(msg, msglen, &hdrlen, &bodyoff);
	f = dkim_fields_split(msg, hdrlen, &n);
	ck_assert(dkim_field_is(&f[idx], "DKIM-Signature"));
	valoff = strlen("DKIM-Signature:");
	ck_assert_int_eq(dkim_tags_parse(f[idx].start + valoff,
	    f[idx].len - valoff - 2, &tl, err, sizeof(err)), 0);
	b = dkim_tags_get(&tl, "b");
	ck_assert_ptr_nonnull(b);
	*len = valoff + b->raw_start;
	s = malloc(*len + 1);
	memcpy(s, f[idx].start, *len);
	s[*len] = '\0';
	free(f);
	return s;
}

/* b= of a signed field, FWS removed. */
static void
b_value(const char *field, char *out, size_t outlen)
{
	const char	*p = strstr(field, " b=");
	size_t		 n = 0;

	ck_assert_ptr_nonnull(p);
	for (p += 3; *p != '\0' && n + 1 < outlen; p++)
		if (!strchr(" \t\r\n", *p))
			out[n++] = *p;
	out[n] = '\0';
}

START_TEST(test_resign_same_b)
{
	static const char *const files[] = { "ed25519.seed.b64", "rsa.key.pem" };
	struct dkim_key	*k;
	char		 path[1200], err[256], mine[1024], theirs[1024], *uf, *sig;
	size_t		 uflen, hdrlen, bodyoff, hn;
	int		 i;
	struct dkim_field *f;

	dkim_msg_split(msg, msglen, &hdrlen, &bodyoff);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", util_rfcdir(), files[i]);
		k = dkim_key_load_any(path, err, sizeof(err));
		ck_assert_msg(k != NULL, "%s", err);
		uf = unsigned_field(i, &uflen);
		sig = dkim_sign_field(k, uf, uflen, msg, hdrlen);
		ck_assert_ptr_nonnull(sig);
		b_value(sig, mine, sizeof(mine));
		f = dkim_fields_split(msg, hdrlen, &hn);
		{
			char *orig = strndup(f[i].start, f[i].len);
			b_value(orig, theirs, sizeof(theirs));
			free(orig);
		}
		free(f);
		ck_assert_str_eq(mine, theirs);
		if (i == 0) {
			ck_assert_str_eq(mine, RFC_B_ED25519);
			ck_assert_str_ne(mine, WRONG_ED25519);
		}
		free(sig);
		free(uf);
		dkim_key_free(k);
	}
}
END_TEST

/* Ed25519 over the header hash input itself (not its SHA-256) is wrong. */
START_TEST(test_wrong_ed25519)
{
	struct dkim_result	 res[2];
	char			*p, *copy;
	size_t			 n, off;

	p = strstr(msg, "b=/gCrinpc");
	ck_assert_ptr_nonnull(p);
	off = p + 2 - msg;
	/* the RFC value spans "...Bus\r\n Fa3b...Dw==\r\n" */
	n = strstr(p, "Dw==") + 4 - (p + 2);
	copy = malloc(msglen + 200);
	memcpy(copy, msg, off);
	memcpy(copy + off, WRONG_ED25519, strlen(WRONG_ED25519));
	memcpy(copy + off + strlen(WRONG_ED25519), msg + off + n, msglen - off - n);
	ck_assert_int_eq(verify(copy, msglen - n + strlen(WRONG_ED25519), res), 2);
	ck_assert_msg(!res[0].pass, "the un-hashed Ed25519 signature passed");
	ck_assert_str_eq(res[0].reason, "signature does not verify");
	ck_assert(res[1].pass);
	free(copy);
}
END_TEST

/* Without the RFC's keys, or with the wrong algorithm's key, no pass. */
START_TEST(test_no_key)
{
	struct dkim_result	 res[2];

	ck_assert_int_eq(dkim_verify_message(msg, msglen, &keys[0], 1, 0, res, 2), 2);
	ck_assert(res[0].pass);
	ck_assert(!res[1].pass);
	ck_assert_str_eq(res[1].reason, "no rsa key given");
	ck_assert_int_eq(dkim_verify_message(msg, msglen, NULL, 0, 0, res, 2), 2);
	ck_assert(!res[0].pass && !res[1].pass);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dkim_rfc8463");
	TCase	*tc = tcase_create("rfc8463");
	SRunner	*sr;
	int	 nfail;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bodyhash);
	tcase_add_test(tc, test_both_verify);
	tcase_add_test(tc, test_private_files);
	tcase_add_test(tc, test_body_byte);
	tcase_add_test(tc, test_header_byte);
	tcase_add_test(tc, test_resign_same_b);
	tcase_add_test(tc, test_wrong_ed25519);
	tcase_add_test(tc, test_no_key);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? 0 : 1;
}
