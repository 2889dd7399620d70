/*
 * test_dkim_sign.c — signing as the daemon does it: the body streamed in
 * chunks through one dkim_bodyhash per canonicalization, the header section
 * kept, dkim_sign called once per key of the From: domain, the fields
 * prepended; then checked.  Also the tag list, over-signing, refusals and
 * the key files.
 */
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/unit/test_dkim_util.h"

#define T0	1700000000

static const char hdr[] =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net,\r\n carol@example.net\r\n"
    "SUBJECT:   Hello\t there  \r\n"
    "Date: Sun, 29 Nov 2026 14:00:00 +0000\r\n"
    "Message-ID: <1@example.org>\r\n"
    "List-Id: <l.example.org>\r\n"
    "list-id: <m.example.org>\r\n"
    "X-Other: not signed\r\n";
static const char body[] =
    "Hello  Bob, \r\n"
    ".dotted line (unstuffed)\r\n"
    "\r\n"
    "\t\r\n"
    "end\r\n"
    "\r\n\r\n";

struct signer {
	const char	*domain;
	const char	*selector;
	enum dkim_alg	 alg;
	int		 canon_simple;
	struct dkim_key	*key;
};

static struct signer signers[] = {
	{ "example.org", "r1", DKIM_ALG_RSA_SHA256, 0, NULL },
	{ "example.org", "e1", DKIM_ALG_ED25519_SHA256, 1, NULL },
	{ "other.example", "x1", DKIM_ALG_ED25519_SHA256, 0, NULL },
};
#define NSIGNERS	(sizeof(signers) / sizeof(signers[0]))
static struct dkim_pubkey *pubkeys[NSIGNERS];

static void
setup(void)
{
	char	 err[256];
	size_t	 i;

	for (i = 0; i < NSIGNERS; i++) {
		signers[i].key = dkim_key_generate(signers[i].alg, 2048, err,
		    sizeof(err));
		ck_assert_msg(signers[i].key != NULL, "%s", err);
		pubkeys[i] = dkim_pubkey_from_key(signers[i].key);
		ck_assert_ptr_nonnull(pubkeys[i]);
	}
}

static void
teardown(void)
{
	size_t	 i;

	for (i = 0; i < NSIGNERS; i++) {
		dkim_key_free(signers[i].key);
		dkim_pubkey_free(pubkeys[i]);
	}
}

/* Appends LEN octets of S to the malloc'd *BUF of *BUFLEN octets. */
static void
append(char **buf, size_t *buflen, const char *s, size_t len)
{
	*buf = realloc(*buf, *buflen + len + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *buflen, s, len);
	*buflen += len;
	(*buf)[*buflen] = '\0';
}

/* What the daemon does at commit; returns the signed message. */
static char *
daemon_flow(const char *h, const char *from_domain, size_t chunk, size_t *len)
{
	struct dkim_bodyhash	*bh[2];
	unsigned char		 hash[2][DKIM_BH_LEN];
	char			*out = NULL, *sig;
	size_t			 i, p, n, outlen = 0;

	bh[0] = dkim_bodyhash_new(0);
	bh[1] = dkim_bodyhash_new(1);
	ck_assert(bh[0] != NULL && bh[1] != NULL);
	for (p = 0; p < sizeof(body) - 1; p += n) {
		n = sizeof(body) - 1 - p < chunk ? sizeof(body) - 1 - p : chunk;
		dkim_bodyhash_update(bh[0], body + p, n);
		dkim_bodyhash_update(bh[1], body + p, n);
	}
	for (i = 0; i < 2; i++) {
		dkim_bodyhash_final(bh[i], hash[i]);
		dkim_bodyhash_free(bh[i]);
	}
	for (i = 0; i < NSIGNERS; i++) {
		if (strcmp(signers[i].domain, from_domain) != 0)
			continue;
		sig = dkim_sign(signers[i].key, signers[i].domain,
		    signers[i].selector, signers[i].canon_simple, h, strlen(h),
		    hash[signers[i].canon_simple], T0);
		ck_assert_ptr_nonnull(sig);
		append(&out, &outlen, sig, strlen(sig));
		free(sig);
	}
	append(&out, &outlen, h, strlen(h));
	append(&out, &outlen, "\r\n", 2);
	append(&out, &outlen, body, sizeof(body) - 1);
	*len = outlen;
	return out;
}

static int
verify_all(const char *m, size_t len, struct dkim_result *res, size_t max)
{
	return dkim_verify_message(m, len, pubkeys, NSIGNERS, T0, res, max);
}

START_TEST(test_daemon_flow)
{
	static const size_t	 chunks[] = { 1, 3, 7, 4096 };
	struct dkim_result	 res[4];
	char			*m;
	size_t			 len, i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		m = daemon_flow(hdr, "example.org", chunks[i], &len);
		ck_assert_int_eq(verify_all(m, len, res, 4), 2);
		ck_assert_msg(res[0].pass, "%s", res[0].reason);
		ck_assert_msg(res[1].pass, "%s", res[1].reason);
		ck_assert_str_eq(res[0].alg, "rsa-sha256");
		ck_assert_str_eq(res[1].alg, "ed25519-sha256");
		ck_assert_str_eq(res[1].selector, "e1");
		free(m);
	}
}
END_TEST

/* The first DKIM-Signature field of M without any white space, malloc'd. */
static char *
first_sig(const char *m)
{
	const char	*end = strstr(m, "\r\nDKIM-Signature:");
	char		*s;
	size_t		 i, n = 0;

	if (end == NULL)
		end = strstr(m, "\r\nFrom:");
	s = malloc(end - m + 1);
	for (i = 0; m + i < end; i++)
		if (!strchr(" \t\r\n", m[i]))
			s[n++] = m[i];
	s[n] = '\0';
	return s;
}

/* Tags v a c d s t h bh b, no l=, no x=; From/Subject/Date/To/Cc
 * over-signed, List-* as often as present, others absent. */
START_TEST(test_tags)
{
	char	*m, *s;
	size_t	 len;
	const char	*want = "DKIM-Signature:v=1;a=rsa-sha256;"
	    "c=relaxed/relaxed;d=example.org;s=r1;t=1700000000;"
	    "h=From:From:Subject:Subject:Date:Date:To:To:Cc:Message-ID:"
	    "List-Id:List-Id;bh=";

	m = daemon_flow(hdr, "example.org", 100, &len);
	s = first_sig(m);
	ck_assert_msg(strncmp(s, want, strlen(want)) == 0, "got %s", s);
	ck_assert_ptr_null(strstr(s, ";l="));
	ck_assert_ptr_null(strstr(s, ";x="));
	ck_assert_ptr_null(strstr(s, "X-Other"));
	ck_assert_ptr_nonnull(strstr(s, ";b="));
	free(s);
	free(m);
}
END_TEST

/* A hostile List-* name cannot forge tags inside h=. */
START_TEST(test_list_name_injection)
{
	const char	*h = "From: a@example.org\r\n"
	    "List-x;l=1;b: v\r\nList-y=z: w\r\nList-Ok: u\r\n";
	unsigned char	 bh[DKIM_BH_LEN] = { 0 };
	struct dkim_taglist tl;
	char		*sig, err[128];

	sig = dkim_sign(signers[1].key, "example.org", "e1", 0, h, strlen(h),
	    bh, T0);
	ck_assert_ptr_nonnull(sig);
	ck_assert_ptr_null(strstr(sig, "List-x"));
	ck_assert_ptr_null(strstr(sig, "List-y"));
	ck_assert_ptr_nonnull(strstr(sig, "List-Ok"));
	ck_assert_int_eq(dkim_tags_parse(sig + 15, strlen(sig) - 15, &tl, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(dkim_tags_get(&tl, "l"));
	free(sig);
}
END_TEST

/* Folded lines stay under 80 columns. */
START_TEST(test_folding)
{
	char	*m, *p, *nl;
	size_t	 len;

	m = daemon_flow(hdr, "example.org", 100, &len);
	*strstr(m, "\r\nFrom:") = '\0';
	for (p = m; (nl = strstr(p, "\r\n")) != NULL; p = nl + 2)
		ck_assert_int_le(nl - p, 80);
	ck_assert_int_le(strlen(p), 80);
	free(m);
}
END_TEST

START_TEST(test_x_tag)
{
	struct dkim_sign_params	 sp = { "example.org", "e1", 0, T0, T0 + 3600 };
	struct dkim_result	 res;
	unsigned char		 bh[DKIM_BH_LEN];
	char			*sig, *m = NULL;
	size_t			 len = 0;

	util_bh(0, body, sizeof(body) - 1, 64, bh);
	sig = dkim_sign_params(signers[1].key, &sp, hdr, strlen(hdr), bh);
	ck_assert_ptr_nonnull(strstr(sig, " x=1700003600;"));
	append(&m, &len, sig, strlen(sig));
	append(&m, &len, hdr, strlen(hdr));
	append(&m, &len, "\r\n", 2);
	append(&m, &len, body, sizeof(body) - 1);
	ck_assert_int_eq(dkim_verify_message(m, len, pubkeys, NSIGNERS, T0, &res, 1), 1);
	ck_assert_msg(res.pass, "%s", res.reason);
	ck_assert_int_eq(dkim_verify_message(m, len, pubkeys, NSIGNERS,
	    T0 + 7200, &res, 1), 1);
	ck_assert(!res.pass);
	ck_assert_str_eq(res.reason, "signature expired (x=)");
	free(sig);
	free(m);
}
END_TEST

/* Over-signing: a From, To, Cc, Subject or Date added later breaks it. */
START_TEST(test_oversign)
{
	static const char *const added[] = { "From: mallory@evil.example\r\n",
	    "Cc: mallory@evil.example\r\n", "Subject: pay now\r\n",
	    "Date: Mon, 1 Jan 2029 00:00:00 +0000\r\n", "To: x@y\r\n",
	    "X-Spam: no\r\n" };
	struct dkim_result	 res[2];
	char			*m, *m2, *at;
	size_t			 len, i;

	m = daemon_flow(hdr, "example.org", 100, &len);
	for (i = 0; i < sizeof(added) / sizeof(added[0]); i++) {
		/* added at the bottom of the header, the worst place */
		at = strstr(m, "\r\n\r\n") + 2;
		m2 = malloc(len + strlen(added[i]) + 1);
		memcpy(m2, m, at - m);
		memcpy(m2 + (at - m), added[i], strlen(added[i]));
		memcpy(m2 + (at - m) + strlen(added[i]), at, len - (at - m) + 1);
		ck_assert_int_eq(verify_all(m2, len + strlen(added[i]), res, 2), 2);
		if (i < 5)
			ck_assert_msg(!res[0].pass && !res[1].pass,
			    "added %s and it passed", added[i]);
		else
			ck_assert(res[0].pass && res[1].pass);
		free(m2);
	}
	free(m);
}
END_TEST

/* No key for the From: domain: nothing signed (the daemon logs it). */
START_TEST(test_other_domain)
{
	struct dkim_result	 res[2];
	char			*m;
	size_t			 len;

	m = daemon_flow(hdr, "nokey.example", 100, &len);
	ck_assert_int_eq(verify_all(m, len, res, 2), 0);
	free(m);
}
END_TEST

START_TEST(test_refusals)
{
	unsigned char	 bh[DKIM_BH_LEN] = { 0 };
	const char	*two = "From: a@example.org\r\nFrom: b@example.org\r\n";
	const char	*none = "To: a@example.org\r\n";
	const char	*one = "from : a@example.org\r\n";
	char		*sig;

	ck_assert_ptr_null(dkim_sign(signers[0].key, "example.org", "r1", 0,
	    two, strlen(two), bh, T0));
	ck_assert_ptr_null(dkim_sign(signers[0].key, "example.org", "r1", 0,
	    none, strlen(none), bh, T0));
	ck_assert_ptr_null(dkim_sign(signers[0].key, "example.org", "r1", 0,
	    "", 0, bh, T0));
	ck_assert_ptr_null(dkim_sign(signers[0].key, "exa mple.org", "r1", 0,
	    one, strlen(one), bh, T0));
	ck_assert_ptr_null(dkim_sign(signers[0].key, "example.org", "r;1", 0,
	    one, strlen(one), bh, T0));
	ck_assert_ptr_null(dkim_sign(signers[0].key, "example..org", "r1", 0,
	    one, strlen(one), bh, T0));
	sig = dkim_sign(signers[0].key, "example.org", "r1", 0, one,
	    strlen(one), bh, T0);
	ck_assert_ptr_nonnull(sig);
	free(sig);
}
END_TEST

/* Deterministic for Ed25519 (and RSA PKCS#1 v1.5). */
START_TEST(test_deterministic)
{
	char	*a, *b;
	size_t	 la, lb;

	a = daemon_flow(hdr, "example.org", 5, &la);
	b = daemon_flow(hdr, "example.org", 50, &lb);
	ck_assert_int_eq(la, lb);
	ck_assert(memcmp(a, b, la) == 0);
	free(a);
	free(b);
}
END_TEST

static char *
tmpname(const char *tag)
{
	static char	 path[128];

	snprintf(path, sizeof(path), "/tmp/test_dkim_%s.%ld", tag, (long)getpid());
	unlink(path);
	return path;
}

/* keygen's files: mode 0600, read back to the same public key. */
START_TEST(test_key_files)
{
	struct dkim_key	*k;
	struct stat	 st;
	char		 err[256], *t1, *t2, *path;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		path = tmpname("key");
		ck_assert_int_eq(dkim_key_write(signers[i].key, path, err,
		    sizeof(err)), 0);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
		/* never over an existing file */
		ck_assert_int_eq(dkim_key_write(signers[i].key, path, err,
		    sizeof(err)), -1);
		k = dkim_key_load(path, signers[i].alg, err, sizeof(err));
		ck_assert_msg(k != NULL, "%s", err);
		t1 = dkim_key_txt(k);
		t2 = dkim_key_txt(signers[i].key);
		ck_assert_str_eq(t1, t2);
		free(t1);
		free(t2);
		dkim_key_free(k);
		/* the other algorithm is refused */
		ck_assert_ptr_null(dkim_key_load(path, !signers[i].alg, err,
		    sizeof(err)));
		unlink(path);
	}
}
END_TEST

/* Writes PKEY as PKCS#8 PEM to a new temporary file. */
static char *
pem_file(EVP_PKEY *pkey)
{
	char	*path = tmpname("pem");
	FILE	*fp;

	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL,
	    NULL), 1);
	fclose(fp);
	return path;
}

/* RSA under 1024 bits refused; over 4096 too; Ed25519 PKCS#8 PEM read. */
START_TEST(test_key_sizes_and_pem)
{
	EVP_PKEY	*pkey;
	struct dkim_key	*k;
	unsigned char	 raw[32];
	size_t		 rawlen = sizeof(raw);
	char		 err[256], *path, *txt, *b64, want[128];

	pkey = EVP_RSA_gen(768);
	ck_assert_ptr_nonnull(pkey);
	path = pem_file(pkey);
	ck_assert_ptr_null(dkim_key_load(path, DKIM_ALG_RSA_SHA256, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "768 bits refused"));
	unlink(path);
	EVP_PKEY_free(pkey);
	ck_assert_ptr_null(dkim_key_generate(DKIM_ALG_RSA_SHA256, 512, err,
	    sizeof(err)));
	ck_assert_ptr_null(dkim_key_generate(DKIM_ALG_RSA_SHA256, 8192, err,
	    sizeof(err)));

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ck_assert_ptr_nonnull(pkey);
	ck_assert_int_eq(EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen), 1);
	path = pem_file(pkey);
	k = dkim_key_load(path, DKIM_ALG_ED25519_SHA256, err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	b64 = dkim_b64_encode(raw, rawlen);
	snprintf(want, sizeof(want), "v=DKIM1; k=ed25519; p=%s", b64);
	txt = dkim_key_txt(k);
	ck_assert_str_eq(txt, want);
	free(txt);
	free(b64);
	dkim_key_free(k);
	unlink(path);
	EVP_PKEY_free(pkey);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dkim_sign");
	TCase	*tc = tcase_create("sign");
	SRunner	*sr;
	int	 nfail;

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_daemon_flow);
	tcase_add_test(tc, test_tags);
	tcase_add_test(tc, test_folding);
	tcase_add_test(tc, test_list_name_injection);
	tcase_add_test(tc, test_x_tag);
	tcase_add_test(tc, test_oversign);
	tcase_add_test(tc, test_other_domain);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_key_files);
	tcase_add_test(tc, test_key_sizes_and_pem);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? 0 : 1;
}
