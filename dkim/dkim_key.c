/*
 * dkim_key.c — DKIM private keys: loading (once, before chroot), making new
 * ones for "submitctl dkim keygen", writing them, the key record to publish
 * (RFC 6376 3.6.1) and signing a header hash (RFC 6376 3.3, RFC 8463 3).
 *
 * File formats: RSA is PEM, PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE
 * KEY"); keygen writes PKCS#8.  Ed25519 is the base64 of the 32-byte seed
 * (RFC 8032 5.1.5) on one line, as keygen writes it and dkimpy reads it;
 * a PKCS#8 PEM Ed25519 key is accepted too.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "dkim/dkim.h"
#include "lib/fileset.h"
#include "lib/log.h"

#define KEYFILE_MAX	(64 * 1024)

struct dkim_key {
	enum dkim_alg	 alg;
	int		 bits;
	EVP_PKEY	*rsa;
	unsigned char	 ed_sk[crypto_sign_SECRETKEYBYTES];	/* seed || pk */
	unsigned char	 ed_pk[crypto_sign_PUBLICKEYBYTES];
};

static int
pem_nopass(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;	/* encrypted keys are not for a daemon */
}

/* Reads FILE into a malloc'd buffer (NUL-terminated); NULL on error. */
static char *
file_read(const char *file, size_t *len, char *err, size_t errlen)
{
	char	*buf;

	/* Through the one door a reload can fill (lib/fileset.h). */
	if (fileset_read(file, KEYFILE_MAX, &buf, len, NULL) == -1) {
		snprintf(err, errlen, "%s: %s", file, errno == EINVAL ?
		    "not a regular file" : strerror(errno));
		return NULL;
	}
	return buf;
}

static int
key_ed25519_seed(struct dkim_key *k, const unsigned char seed[crypto_sign_SEEDBYTES])
{
	k->alg = DKIM_ALG_ED25519_SHA256;
	k->bits = 256;
	return crypto_sign_seed_keypair(k->ed_pk, k->ed_sk, seed);
}

static int
key_from_pem(struct dkim_key *k, const char *buf, size_t len, char *err,
    size_t errlen)
{
	unsigned char	 seed[crypto_sign_SEEDBYTES];
	size_t		 seedlen = sizeof(seed);
	EVP_PKEY	*pkey;
	BIO		*bio;
	int		 rc = -1;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_nopass, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		snprintf(err, errlen, "not a PEM private key (or encrypted)");
		return -1;
	}
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		k->alg = DKIM_ALG_RSA_SHA256;
		k->bits = EVP_PKEY_get_bits(pkey);
		k->rsa = pkey;
		return 0;
	case EVP_PKEY_ED25519:
		if (EVP_PKEY_get_raw_private_key(pkey, seed, &seedlen) == 1 &&
		    seedlen == sizeof(seed))
			rc = key_ed25519_seed(k, seed);
		sodium_memzero(seed, sizeof(seed));
		if (rc == -1)
			snprintf(err, errlen, "bad Ed25519 PEM key");
		break;
	default:
		snprintf(err, errlen, "neither an RSA nor an Ed25519 key");
		break;
	}
	EVP_PKEY_free(pkey);
	return rc;
}

static int
key_from_seed_b64(struct dkim_key *k, const char *buf, size_t len, char *err,
    size_t errlen)
{
	unsigned char	 seed[crypto_sign_SEEDBYTES + 1];
	long		 n;
	int		 rc;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	n = dkim_b64_decode(buf, len, seed, sizeof(seed));
	if (n != crypto_sign_SEEDBYTES) {
		sodium_memzero(seed, sizeof(seed));
		snprintf(err, errlen, "neither PEM nor the base64 of a 32-byte "
		    "Ed25519 seed");
		return -1;
	}
	rc = key_ed25519_seed(k, seed);
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

/* RFC 8301 3.2: no RSA key under 1024 bits; RFC 6376 3.3.3: 4096 at most. */
static int
key_check(struct dkim_key *k, const char *file, char *err, size_t errlen)
{
	if (k->alg != DKIM_ALG_RSA_SHA256)
		return 0;
	if (k->bits < DKIM_RSA_MIN_BITS || k->bits > DKIM_RSA_MAX_BITS) {
		snprintf(err, errlen, "%s: RSA key of %d bits refused (%d to %d)",
		    file, k->bits, DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
		return -1;
	}
	if (k->bits < DKIM_RSA_GOOD_BITS)
		log_warnx("dkim key=%s event=weak-key bits=%d: %d or more "
		    "advised (RFC 8301)", file, k->bits, DKIM_RSA_GOOD_BITS);
	return 0;
}

struct dkim_key *
dkim_key_load_any(const char *file, char *err, size_t errlen)
{
	struct dkim_key	*k;
	char		*buf, why[128];
	size_t		 len = 0;
	int		 rc;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium did not start");
		return NULL;
	}
	if ((buf = file_read(file, &len, err, errlen)) == NULL)
		return NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", file);
		rc = -1;
	} else if (strstr(buf, "-----BEGIN") != NULL)
		rc = key_from_pem(k, buf, len, why, sizeof(why));
	else
		rc = key_from_seed_b64(k, buf, len, why, sizeof(why));
	sodium_memzero(buf, len);
	free(buf);
	if (rc == -1 && k != NULL)
		snprintf(err, errlen, "%s: %s", file, why);
	if (rc == 0 && key_check(k, file, err, errlen) == -1)
		rc = -1;
	if (rc == -1) {
		dkim_key_free(k);
		return NULL;
	}
	return k;
}

struct dkim_key *
dkim_key_load(const char *file, enum dkim_alg alg, char *err, size_t errlen)
{
	struct dkim_key	*k;

	if ((k = dkim_key_load_any(file, err, errlen)) == NULL)
		return NULL;
	if (k->alg != alg) {
		snprintf(err, errlen, "%s: holds an %s key, not %s", file,
		    k->alg == DKIM_ALG_RSA_SHA256 ? "RSA" : "Ed25519",
		    alg == DKIM_ALG_RSA_SHA256 ? "RSA" : "Ed25519");
		dkim_key_free(k);
		return NULL;
	}
	return k;
}

struct dkim_key *
dkim_key_generate(enum dkim_alg alg, int bits, char *err, size_t errlen)
{
	struct dkim_key	*k;

	if (sodium_init() < 0 || (k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->alg = alg;
	if (alg == DKIM_ALG_ED25519_SHA256) {
		k->bits = 256;
		crypto_sign_keypair(k->ed_pk, k->ed_sk);
		return k;
	}
	if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS) {
		snprintf(err, errlen, "RSA keys are %d to %d bits",
		    DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
		free(k);
		return NULL;
	}
	if ((k->rsa = EVP_RSA_gen((unsigned)bits)) == NULL) {
		snprintf(err, errlen, "RSA key generation failed");
		free(k);
		return NULL;
	}
	k->bits = bits;
	return k;
}

/* The file's text: PKCS#8 PEM or the base64 seed; malloc'd, *LEN octets. */
static char *
key_text(const struct dkim_key *k, size_t *len)
{
	BIO	*bio;
	char	*p, *s;
	long	 n;

	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		if ((p = dkim_b64_encode(k->ed_sk, crypto_sign_SEEDBYTES)) == NULL)
			return NULL;
		*len = strlen(p);
		if ((s = malloc(*len + 2)) != NULL) {
			memcpy(s, p, *len);
			s[(*len)++] = '\n';
			s[*len] = '\0';
		}
		sodium_memzero(p, strlen(p));
		free(p);
		return s;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	s = NULL;
	if (PEM_write_bio_PrivateKey(bio, k->rsa, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0 && (s = malloc(n + 1)) != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
		*len = n;
	}
	BIO_free(bio);	/* BIO_s_mem frees, but does not wipe; short-lived */
	return s;
}

int
dkim_key_write(const struct dkim_key *k, const char *file, char *err,
    size_t errlen)
{
	char	*s;
	size_t	 len = 0, off = 0;
	ssize_t	 n;
	int	 fd, rc = 0;

	if ((s = key_text(k, &len)) == NULL) {
		snprintf(err, errlen, "cannot encode the key");
		return -1;
	}
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		rc = -1;
	} else {
		if (fchmod(fd, 0600) == -1)
			rc = -1;
		while (rc == 0 && off < len) {
			if ((n = write(fd, s + off, len - off)) == -1) {
				if (errno == EINTR)
					continue;
				rc = -1;
			} else
				off += n;
		}
		if (rc == 0 && fsync(fd) == -1)
			rc = -1;
		if (rc == -1)
			snprintf(err, errlen, "%s: %s", file, strerror(errno));
		if (close(fd) == -1 && rc == 0) {
			snprintf(err, errlen, "%s: %s", file, strerror(errno));
			rc = -1;
		}
	}
	sodium_memzero(s, len);
	free(s);
	return rc;
}

enum dkim_alg
dkim_key_alg(const struct dkim_key *k)
{
	return k->alg;
}

int
dkim_key_bits(const struct dkim_key *k)
{
	return k->bits;
}

char *
dkim_key_txt(const struct dkim_key *k)
{
	unsigned char	*der = NULL;
	char		*p, *txt;
	size_t		 n;
	int		 len;

	if (k->alg == DKIM_ALG_ED25519_SHA256)
		p = dkim_b64_encode(k->ed_pk, sizeof(k->ed_pk));
	else {
		/* SubjectPublicKeyInfo DER, RFC 6376 3.6.1 */
		if ((len = i2d_PUBKEY(k->rsa, &der)) <= 0)
			return NULL;
		p = dkim_b64_encode(der, (size_t)len);
		OPENSSL_free(der);
	}
	if (p == NULL)
		return NULL;
	n = strlen(p) + 32;
	if ((txt = malloc(n)) != NULL)
		snprintf(txt, n, "v=DKIM1; k=%s; p=%s",
		    k->alg == DKIM_ALG_RSA_SHA256 ? "rsa" : "ed25519", p);
	free(p);
	return txt;
}

long
dkim_key_sign_hash(const struct dkim_key *k, const unsigned char h[DKIM_BH_LEN],
    unsigned char *sig, size_t sigmax)
{
	EVP_PKEY_CTX		*ctx;
	unsigned long long	 edlen;
	size_t			 len = sigmax;
	long			 rc = -1;

	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 3: Ed25519 signs the SHA-256 hash, not the input */
		if (sigmax < crypto_sign_BYTES ||
		    crypto_sign_detached(sig, &edlen, h, DKIM_BH_LEN, k->ed_sk) != 0)
			return -1;
		return (long)edlen;
	}
	if ((ctx = EVP_PKEY_CTX_new(k->rsa, NULL)) == NULL)
		return -1;
	if (EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(ctx, sig, &len, h, DKIM_BH_LEN) == 1)
		rc = (long)len;
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->rsa);
	sodium_memzero(k, sizeof(*k));
	free(k);
}
