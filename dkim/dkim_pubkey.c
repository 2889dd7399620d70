/*
 * dkim_pubkey.c — DKIM public keys: the key record of RFC 6376 3.6.1 (with
 * k=ed25519 from RFC 8463 4.2), and checking a signature of a header hash.
 * Records come from the command line or a file, never from DNS here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "dkim/dkim.h"

#define PUBKEY_DER_MAX	2048	/* a 4096-bit RSA key is 550 octets */

struct dkim_pubkey {
	enum dkim_alg	 alg;
	EVP_PKEY	*rsa;
	int		 bits;
	unsigned char	 ed[crypto_sign_PUBLICKEYBYTES];
};

/* h= of a key record: a list of hashes, which must name sha256. */
static int
hashes_ok(const struct dkim_tag *t)
{
	size_t	 p = 0, start;

	if (t == NULL)
		return 1;
	while (p < t->valuelen) {
		start = p;
		while (p < t->valuelen && t->value[p] != ':')
			p++;
		while (start < p && strchr(" \t\r\n", t->value[start]))
			start++;
		if (p - start >= 6 && memcmp(t->value + start, "sha256", 6) == 0 &&
		    (p - start == 6 || strchr(" \t\r\n", t->value[start + 6])))
			return 1;
		p++;
	}
	return 0;
}

static int
pubkey_rsa(struct dkim_pubkey *pk, const unsigned char *der, long len,
    char *err, size_t errlen)
{
	const unsigned char	*p = der;

	/* SubjectPublicKeyInfo (RFC 6376 3.6.1), or a bare RSAPublicKey */
	if ((pk->rsa = d2i_PUBKEY(NULL, &p, len)) == NULL) {
		p = der;
		pk->rsa = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
	}
	if (pk->rsa == NULL || EVP_PKEY_get_base_id(pk->rsa) != EVP_PKEY_RSA) {
		snprintf(err, errlen, "p= is not an RSA public key");
		return -1;
	}
	pk->alg = DKIM_ALG_RSA_SHA256;
	pk->bits = EVP_PKEY_get_bits(pk->rsa);
	return 0;
}

struct dkim_pubkey *
dkim_pubkey_from_txt(const char *txt, char *err, size_t errlen)
{
	struct dkim_taglist	 tl;
	const struct dkim_tag	*v, *k, *p;
	struct dkim_pubkey	*pk;
	unsigned char		 der[PUBKEY_DER_MAX];
	long			 n;
	int			 rc = -1;

	if (dkim_tags_parse(txt, strlen(txt), &tl, err, errlen) == -1)
		return NULL;
	v = dkim_tags_get(&tl, "v");
	k = dkim_tags_get(&tl, "k");
	p = dkim_tags_get(&tl, "p");
	if (v != NULL && (v != &tl.tag[0] || !dkim_tags_is(v, "DKIM1"))) {
		snprintf(err, errlen, "key record: v= must be first and DKIM1");
		return NULL;
	}
	if (p == NULL || p->valuelen == 0) {
		snprintf(err, errlen, "key record: %s", p == NULL ? "no p=" :
		    "empty p= (key revoked)");
		return NULL;
	}
	if (!hashes_ok(dkim_tags_get(&tl, "h"))) {
		snprintf(err, errlen, "key record: h= excludes sha256");
		return NULL;
	}
	if ((n = dkim_b64_decode(p->value, p->valuelen, der, sizeof(der))) <= 0) {
		snprintf(err, errlen, "key record: bad base64 in p=");
		return NULL;
	}
	if ((pk = calloc(1, sizeof(*pk))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (k == NULL || dkim_tags_is(k, "rsa"))
		rc = pubkey_rsa(pk, der, n, err, errlen);
	else if (dkim_tags_is(k, "ed25519")) {
		if (n == sizeof(pk->ed)) {
			memcpy(pk->ed, der, sizeof(pk->ed));
			pk->alg = DKIM_ALG_ED25519_SHA256;
			pk->bits = 256;
			rc = 0;
		} else
			snprintf(err, errlen, "key record: Ed25519 p= is not "
			    "32 octets");
	} else
		snprintf(err, errlen, "key record: unknown k=%.*s",
		    (int)k->valuelen, k->value);
	if (rc == -1) {
		dkim_pubkey_free(pk);
		return NULL;
	}
	return pk;
}

struct dkim_pubkey *
dkim_pubkey_from_key(const struct dkim_key *key)
{
	struct dkim_pubkey	*pk;
	char			*txt, err[128];

	if ((txt = dkim_key_txt(key)) == NULL)
		return NULL;
	pk = dkim_pubkey_from_txt(txt, err, sizeof(err));
	free(txt);
	return pk;
}

enum dkim_alg
dkim_pubkey_alg(const struct dkim_pubkey *pk)
{
	return pk->alg;
}

static int
verify_rsa(const struct dkim_pubkey *pk, const unsigned char h[DKIM_BH_LEN],
    const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX	*ctx;
	int		 ok = 0;

	if ((ctx = EVP_PKEY_CTX_new(pk->rsa, NULL)) == NULL)
		return 0;
	if (EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_verify(ctx, sig, siglen, h, DKIM_BH_LEN) == 1)
		ok = 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int
dkim_pubkey_verify_hash(const struct dkim_pubkey *pk,
    const unsigned char h[DKIM_BH_LEN], const unsigned char *sig, size_t siglen,
    char *err, size_t errlen)
{
	if (pk->alg == DKIM_ALG_ED25519_SHA256) {
		if (siglen == crypto_sign_BYTES &&
		    crypto_sign_verify_detached(sig, h, DKIM_BH_LEN, pk->ed) == 0)
			return 1;
	} else {
		if (pk->bits < DKIM_RSA_MIN_BITS) {
			snprintf(err, errlen, "RSA key of %d bits, under %d "
			    "(RFC 8301)", pk->bits, DKIM_RSA_MIN_BITS);
			return 0;
		}
		if (verify_rsa(pk, h, sig, siglen))
			return 1;
	}
	snprintf(err, errlen, "signature does not verify");
	return 0;
}

void
dkim_pubkey_free(struct dkim_pubkey *pk)
{
	if (pk == NULL)
		return;
	EVP_PKEY_free(pk->rsa);
	free(pk);
}
