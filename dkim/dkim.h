/*
 * dkim.h — DKIM signatures (RFC 6376) with rsa-sha256 and ed25519-sha256
 * (RFC 8463), never rsa-sha1 (RFC 8301).
 *
 * Shaped for privilege separation: the process that reads the message
 * streams the body through a dkim_bodyhash and keeps the header section;
 * the process that holds the keys (struct dkim_key, loaded once, before
 * chroot) gets only the header section and the 32-byte body hash and
 * returns the DKIM-Signature field.  Everything works on CRLF lines.
 *
 * Files: dkim_bodyhash.c (body canonicalization, 3.4.3-3.4.5),
 * dkim_canon.c (header fields, 3.4.1-3.4.2), dkim_tags.c (tag lists, 3.2),
 * dkim_hash.c (header hash, 3.7), dkim_key.c (private keys, keygen),
 * dkim_pubkey.c (public keys, TXT records, 3.6.1), dkim_sign.c (the
 * field, 3.5), dkim_verify.c (checking signatures, 6).
 *
 * dkim/: DKIM over buffers and key files.  Sits on lib/ only: knows
 * nothing of the config, SMTP sessions, the queue or the roles.
 */
#ifndef DKIM_DKIM_H
#define DKIM_DKIM_H

#include <stddef.h>
#include <time.h>

#include "lib/submitd.h"		/* enum dkim_alg */

#define DKIM_BH_LEN		32	/* SHA-256 */
#define DKIM_RSA_MIN_BITS	1024	/* RFC 8301 3.2: refuse below */
#define DKIM_RSA_GOOD_BITS	2048	/* warn below */
#define DKIM_RSA_MAX_BITS	4096

/* --- body hash (RFC 6376 3.4.3 simple, 3.4.4 relaxed, 3.7) --------------- */

struct dkim_bodyhash;

/* dkim_bodyhash_new: a SHA-256 over the simple (CANON_SIMPLE != 0) or relaxed
 * canonical body; NULL on allocation failure. */
struct dkim_bodyhash *dkim_bodyhash_new(int canon_simple);
/* dkim_bodyhash_update: feeds LEN octets of the unstuffed body (CRLF line
 * ends); any chunking gives the same hash. */
void	dkim_bodyhash_update(struct dkim_bodyhash *, const void *buf, size_t len);
/* dkim_bodyhash_final: the body hash into BH; call once. */
void	dkim_bodyhash_final(struct dkim_bodyhash *, unsigned char bh[DKIM_BH_LEN]);
void	dkim_bodyhash_free(struct dkim_bodyhash *);

/* --- header fields (RFC 5322 2.2, RFC 6376 3.4.1-3.4.2) ------------------ */

struct dkim_field {
	const char	*start;		/* first octet of the field name */
	size_t		 len;		/* octets, with the final CRLF if any */
	size_t		 namelen;	/* name without WSP before ':'; 0: no ':' */
};

/*
 * dkim_fields_split: splits the header section HDR (HDRLEN octets, CRLF
 * lines, without the empty line) into fields; a line starting with SP or
 * HTAB continues the field above.  Returns a malloc'd array and its size in
 * *N, or NULL (with *N 0) when there is no field or on allocation failure.
 */
struct dkim_field *dkim_fields_split(const char *hdr, size_t hdrlen, size_t *n);
/* dkim_field_is: 1 when field F is named NAME (case-insensitive). */
int	dkim_field_is(const struct dkim_field *f, const char *name);
/* dkim_field_count: fields named NAME in FIELDS[0..N). */
size_t	dkim_field_count(const struct dkim_field *fields, size_t n,
	    const char *name);

/*
 * dkim_canon_header: canonicalizes one field (FIELD, LEN octets, final CRLF
 * optional and not copied) into OUT, which must hold LEN + 1 octets.
 * Simple (3.4.1) copies; relaxed (3.4.2) lower-cases the name, unfolds,
 * turns WSP runs into one SP and drops WSP at the end and around the colon.
 * Returns the octets written, without CRLF.
 */
size_t	dkim_canon_header(int canon_simple, const char *field, size_t len,
	    char *out);

/* --- tag lists (RFC 6376 3.2) ----------------------------------------- */

#define DKIM_TAGS_MAX	32

struct dkim_tag {
	const char	*name;
	size_t		 namelen;
	const char	*value;		/* without FWS around it */
	size_t		 valuelen;
	size_t		 raw_start;	/* offsets in the list: octets after '=' */
	size_t		 raw_end;	/* ... up to (not with) ';' or the end */
};

struct dkim_taglist {
	struct dkim_tag	 tag[DKIM_TAGS_MAX];
	size_t		 ntags;
};

/*
 * dkim_tags_parse: parses the tag list S (LEN octets; FWS allowed where
 * 3.2 says) into TL, pointing into S.  Returns 0, or -1 with a reason in
 * ERR on bad syntax, a duplicate tag, or more than DKIM_TAGS_MAX tags.
 */
int	dkim_tags_parse(const char *s, size_t len, struct dkim_taglist *tl,
	    char *err, size_t errlen);
/* dkim_tags_get: the tag called NAME (case-sensitive, as 3.2 says) or NULL. */
const struct dkim_tag *dkim_tags_get(const struct dkim_taglist *, const char *name);
/* dkim_tags_is: 1 when tag T's value equals S exactly. */
int	dkim_tags_is(const struct dkim_tag *t, const char *s);

/* dkim_b64_decode: base64 in S (LEN octets; FWS ignored) into OUT (at most
 * OUTMAX); returns the octets, or -1 on bad base64 or too long. */
long	dkim_b64_decode(const char *s, size_t len, unsigned char *out,
	    size_t outmax);
/* dkim_b64_encode: malloc'd, NUL-terminated base64 of BUF; NULL on ENOMEM. */
char	*dkim_b64_encode(const unsigned char *buf, size_t len);

/* --- header hash (RFC 6376 3.7) --------------------------------------- */

/*
 * dkim_header_hash: SHA-256 of the canonical fields named in HLIST (an h=
 * value, LEN octets, names separated by ':' with FWS), each taken from the
 * bottom up (5.4.2), a name with no instance left counting as empty; then the
 * canonical SIGFIELD (a whole DKIM-Signature field, b= value already empty,
 * no final CRLF).  Returns 0, or -1 on allocation failure.
 */
int	dkim_header_hash(const struct dkim_field *fields, size_t nfields,
	    const char *hlist, size_t hlistlen, int canon_simple,
	    const char *sigfield, size_t siglen, unsigned char out[DKIM_BH_LEN]);

/* --- private keys ----------------------------------------------------- */

struct dkim_key;	/* private key loaded once (in the parent, before chroot) */

/*
 * dkim_key_load: reads FILE: for DKIM_ALG_RSA_SHA256 a PEM key (PKCS#8
 * "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"), refused under 1024 bits and
 * warned (log_warnx) under 2048; for DKIM_ALG_ED25519_SHA256 the base64 of
 * the 32-byte seed (what "submitctl dkim keygen" writes) or a PKCS#8 PEM
 * Ed25519 key.  NULL with a reason in ERR on error.
 */
struct dkim_key *dkim_key_load(const char *file, enum dkim_alg alg, char *err,
	    size_t errlen);
/* dkim_key_load_any: as dkim_key_load, guessing the algorithm from FILE. */
struct dkim_key *dkim_key_load_any(const char *file, char *err, size_t errlen);
/* dkim_key_generate: a new key (BITS for RSA: 1024..4096); NULL on error. */
struct dkim_key *dkim_key_generate(enum dkim_alg alg, int bits, char *err,
	    size_t errlen);
/* dkim_key_write: writes KEY to the new FILE (mode 0600, O_EXCL) in the
 * format dkim_key_load reads (RSA: PKCS#8 PEM; Ed25519: base64 seed).
 * 0, or -1 with a reason in ERR. */
int	dkim_key_write(const struct dkim_key *key, const char *file, char *err,
	    size_t errlen);
enum dkim_alg dkim_key_alg(const struct dkim_key *);
/* dkim_key_bits: RSA modulus size; 256 for Ed25519. */
int	dkim_key_bits(const struct dkim_key *);
/* dkim_key_txt: malloc'd "v=DKIM1; k=rsa|ed25519; p=BASE64" (3.6.1); NULL
 * on ENOMEM. */
char	*dkim_key_txt(const struct dkim_key *);
/*
 * dkim_key_sign_hash: signs the 32-byte header hash H: RSASSA-PKCS1-v1_5
 * with SHA-256 (RFC 6376 3.3.1), or Ed25519 over H itself (RFC 8463 3).
 * Writes into SIG (SIGMAX octets), returns the length or -1.
 */
long	dkim_key_sign_hash(const struct dkim_key *, const unsigned char h[DKIM_BH_LEN],
	    unsigned char *sig, size_t sigmax);
/* dkim_key_free: wipes and frees; NULL is fine. */
void	dkim_key_free(struct dkim_key *);

/* --- public keys (RFC 6376 3.6.1) --------------------------------------- */

struct dkim_pubkey;

/* dkim_pubkey_from_txt: parses a key record ("v=DKIM1; k=ed25519; p=..."; the
 * strings of a TXT record already joined).  NULL with a reason in ERR. */
struct dkim_pubkey *dkim_pubkey_from_txt(const char *txt, char *err, size_t errlen);
/* dkim_pubkey_from_key: the public half of KEY; NULL on error. */
struct dkim_pubkey *dkim_pubkey_from_key(const struct dkim_key *key);
enum dkim_alg dkim_pubkey_alg(const struct dkim_pubkey *);
/* dkim_pubkey_verify_hash: 1 when SIG is a good signature of header hash H,
 * 0 when not (a reason in ERR, e.g. a key under 1024 bits). */
int	dkim_pubkey_verify_hash(const struct dkim_pubkey *,
	    const unsigned char h[DKIM_BH_LEN], const unsigned char *sig,
	    size_t siglen, char *err, size_t errlen);
void	dkim_pubkey_free(struct dkim_pubkey *);

/* --- signing (RFC 6376 3.5, 5) ---------------------------------------- */

/* Headers signed when present; the first five are over-signed (listed once
 * more than present, so that nobody can add one); List-* fields are signed
 * as many times as they appear. */
#define DKIM_SIGNED_HEADERS { "From", "Subject", "Date", "To", "Cc", \
	"Reply-To", "Message-ID", "In-Reply-To", "References", \
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", NULL }
#define DKIM_OVERSIGNED	5

struct dkim_sign_params {
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	int		 canon_simple;	/* c=simple/simple, else relaxed/relaxed */
	time_t		 t;		/* t=, seconds since the epoch */
	time_t		 x;		/* x=, 0: none */
};

/*
 * dkim_sign: returns a malloc'd, folded "DKIM-Signature: ...\r\n" field
 * (tags v a c d s t h bh b, never l=) for the header section HDR (HDRLEN
 * octets, CRLF lines, without the empty line) and body hash BH computed with
 * the same canonicalization; T = signing time (seconds since epoch).  NULL on
 * error: bad domain or selector, not exactly one From: field, ENOMEM.
 */
char	*dkim_sign(const struct dkim_key *, const char *domain, const char *selector,
	    int canon_simple, const char *hdr, size_t hdrlen,
	    const unsigned char bh[DKIM_BH_LEN], time_t t);
/* dkim_name_valid: 1 when S is a good d= (SELECTOR 0) or s= (SELECTOR 1):
 * dot-separated labels of letters, digits, '-' and '_'. */
int	dkim_name_valid(const char *s, int selector);
/* dkim_sign_params: dkim_sign with all parameters (x= included). */
char	*dkim_sign_params(const struct dkim_key *, const struct dkim_sign_params *,
	    const char *hdr, size_t hdrlen, const unsigned char bh[DKIM_BH_LEN]);
/*
 * dkim_sign_field: signs a prepared field: UNSIGNED is a whole
 * "DKIM-Signature: ...; b=" field (LEN octets, no final CRLF) ending with an
 * empty b=, whose c= and h= tags say what to hash.  Returns the malloc'd field
 * with the folded b= value and a final CRLF, or NULL.  dkim_sign uses it; so
 * do tests that replay published signatures.
 */
char	*dkim_sign_field(const struct dkim_key *, const char *unsigned_field,
	    size_t len, const char *hdr, size_t hdrlen);

/* --- verifying (RFC 6376 6) ------------------------------------------- */

struct dkim_result {
	int		 pass;		/* 1 pass, 0 fail */
	char		 domain[256];	/* d=, "" if unknown */
	char		 selector[64];	/* s=, truncated */
	char		 alg[32];	/* a= */
	char		 reason[128];	/* why it failed */
};

/*
 * dkim_verify_message: checks every DKIM-Signature field of MSG (LEN octets,
 * CRLF lines) against the public keys KEYS[0..NKEYS) (a signature passes
 * when one key of its algorithm verifies it; DNS is never asked), at time NOW
 * (for x=).  Fills RES[0..MAXRES) in field order and returns the number of
 * signatures found (may exceed MAXRES), or -1 on allocation failure.
 */
int	dkim_verify_message(const char *msg, size_t len,
	    struct dkim_pubkey *const *keys, size_t nkeys, time_t now,
	    struct dkim_result *res, size_t maxres);

/* dkim_msg_split: length of the header section of MSG (without the empty
 * line) in *HDRLEN and offset of the body in *BODYOFF. */
void	dkim_msg_split(const char *msg, size_t len, size_t *hdrlen,
	    size_t *bodyoff);

#endif
