/*
 * dkim_verify.c — checking the DKIM-Signature fields of a message (RFC 6376
 * 6.1) against public keys given offline.  Strict where RFC 8301 and our
 * own signing are: no rsa-sha1, no l=, h= must sign From.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim.h"

#define SIG_MAX		1024

struct vctx {
	const char		*body;
	size_t			 bodylen;
	unsigned char		 bh[2][DKIM_BH_LEN];	/* [simple] */
	int			 have_bh[2];
	struct dkim_field	*fields;
	size_t			 nfields;
	struct dkim_pubkey *const *keys;
	size_t			 nkeys;
	time_t			 now;
};

void
dkim_msg_split(const char *msg, size_t len, size_t *hdrlen, size_t *bodyoff)
{
	const char	*p;

	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n') {
		*hdrlen = 0;
		*bodyoff = 2;
		return;
	}
	p = memmem(msg, len, "\r\n\r\n", 4);
	*hdrlen = p == NULL ? len : (size_t)(p - msg) + 2;
	*bodyoff = p == NULL ? len : (size_t)(p - msg) + 4;
}

/* Printable ASCII only: results are shown on terminals. */
static void
copy_safe(char *dst, size_t dstlen, const struct dkim_tag *t)
{
	size_t	 i, n = 0;

	if (t != NULL)
		for (i = 0; i < t->valuelen && n + 1 < dstlen; i++)
			dst[n++] = (t->value[i] > 0x20 && t->value[i] < 0x7f) ?
			    t->value[i] : '?';
	dst[n] = '\0';
}

static const unsigned char *
body_hash(struct vctx *v, int simple)
{
	struct dkim_bodyhash	*b;

	if (!v->have_bh[simple]) {
		if ((b = dkim_bodyhash_new(simple)) == NULL)
			return NULL;
		dkim_bodyhash_update(b, v->body, v->bodylen);
		dkim_bodyhash_final(b, v->bh[simple]);
		dkim_bodyhash_free(b);
		v->have_bh[simple] = 1;
	}
	return v->bh[simple];
}

/* c= (RFC 6376 3.5): header and body canonicalizations, 1 for simple. */
static int
canon_parse(const struct dkim_tag *c, int *hsimple, int *bsimple)
{
	const char	*s;
	size_t		 n, slash;

	*hsimple = *bsimple = 1;
	if (c == NULL)
		return 0;
	s = c->value;
	n = c->valuelen;
	for (slash = 0; slash < n && s[slash] != '/'; slash++)
		;
	if (slash == 7 && memcmp(s, "relaxed", 7) == 0)
		*hsimple = 0;
	else if (!(slash == 6 && memcmp(s, "simple", 6) == 0))
		return -1;
	if (slash == n)
		return 0;
	s += slash + 1;
	n -= slash + 1;
	if (n == 7 && memcmp(s, "relaxed", 7) == 0)
		*bsimple = 0;
	else if (!(n == 6 && memcmp(s, "simple", 6) == 0))
		return -1;
	return 0;
}

/* 1 when h= names From (RFC 6376 5.4). */
static int
hlist_has_from(const struct dkim_tag *h)
{
	size_t	 p = 0, s, e;

	while (p < h->valuelen) {
		for (s = p; p < h->valuelen && h->value[p] != ':'; p++)
			;
		for (e = p++; s < e && strchr(" \t\r\n", h->value[s]); s++)
			;
		while (e > s && strchr(" \t\r\n", h->value[e - 1]))
			e--;
		if (e - s == 4 && strncasecmp(h->value + s, "from", 4) == 0)
			return 1;
	}
	return 0;
}

/* i= (RFC 6376 3.5): its domain is d= or below it. */
static int
auid_ok(const struct dkim_tag *i, const struct dkim_tag *d)
{
	const char	*at;
	size_t		 n;

	if (i == NULL)
		return 1;
	if ((at = memchr(i->value, '@', i->valuelen)) == NULL)
		return 0;
	n = i->value + i->valuelen - (at + 1);
	if (n == d->valuelen)
		return strncasecmp(at + 1, d->value, n) == 0;
	return n > d->valuelen && at[n - d->valuelen] == '.' &&
	    strncasecmp(at + 1 + n - d->valuelen, d->value, d->valuelen) == 0;
}

/* A t= or x= value: seconds since the epoch; -1 when not a number. */
static long long
tag_time(const struct dkim_tag *t)
{
	long long	 n = 0;
	size_t		 i;

	if (t->valuelen == 0 || t->valuelen > 12)
		return -1;
	for (i = 0; i < t->valuelen; i++) {
		if (t->value[i] < '0' || t->value[i] > '9')
			return -1;
		n = n * 10 + (t->value[i] - '0');
	}
	return n;
}

/* The tags' own checks (RFC 6376 6.1.1); a reason, or NULL when fine. */
static const char *
tags_check(const struct dkim_taglist *tl, const struct vctx *v,
    enum dkim_alg *alg)
{
	const struct dkim_tag	*a, *x;
	static const char *const need[] = { "v", "a", "b", "bh", "d", "h", "s" };
	size_t			 i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (dkim_tags_get(tl, need[i]) == NULL)
			return "a required tag is missing";
	if (!dkim_tags_is(dkim_tags_get(tl, "v"), "1"))
		return "v= is not 1";
	a = dkim_tags_get(tl, "a");
	if (dkim_tags_is(a, "rsa-sha256"))
		*alg = DKIM_ALG_RSA_SHA256;
	else if (dkim_tags_is(a, "ed25519-sha256"))
		*alg = DKIM_ALG_ED25519_SHA256;
	else if (dkim_tags_is(a, "rsa-sha1"))
		return "rsa-sha1 refused (RFC 8301)";
	else
		return "unknown algorithm";
	if (dkim_tags_get(tl, "l") != NULL)
		return "l= refused: part of the body is unsigned";
	if (!hlist_has_from(dkim_tags_get(tl, "h")))
		return "h= does not sign From";
	if (!auid_ok(dkim_tags_get(tl, "i"), dkim_tags_get(tl, "d")))
		return "i= is not in d=";
	if ((x = dkim_tags_get(tl, "x")) != NULL && tag_time(x) < (long long)v->now)
		return "signature expired (x=)";
	return NULL;
}

/* Copy of field F without its final CRLF and with an empty b= value. */
static char *
field_unsigned(const struct dkim_field *f, size_t valoff,
    const struct dkim_tag *b, size_t *len)
{
	char	*s;
	size_t	 flen = f->len, cut, rest;

	if (flen >= 2 && f->start[flen - 2] == '\r' && f->start[flen - 1] == '\n')
		flen -= 2;
	cut = valoff + b->raw_start;
	rest = valoff + b->raw_end;
	if (rest > flen)
		rest = flen;
	if ((s = malloc(flen + 1)) == NULL)
		return NULL;
	memcpy(s, f->start, cut);
	memcpy(s + cut, f->start + rest, flen - rest);
	*len = cut + flen - rest;
	return s;
}

static const char *
sig_check(struct vctx *v, const struct dkim_field *f,
    const struct dkim_taglist *tl, size_t valoff, enum dkim_alg alg,
    char *why, size_t whylen)
{
	const struct dkim_tag	*bh = dkim_tags_get(tl, "bh");
	const struct dkim_tag	*b = dkim_tags_get(tl, "b");
	const struct dkim_tag	*h = dkim_tags_get(tl, "h");
	const unsigned char	*mine;
	unsigned char		 want[DKIM_BH_LEN + 1], hh[DKIM_BH_LEN], sig[SIG_MAX];
	char			*uf;
	size_t			 uflen = 0, i;
	long			 siglen;
	int			 hs, bs, rc;

	if (canon_parse(dkim_tags_get(tl, "c"), &hs, &bs) == -1)
		return "unknown c=";
	if (dkim_b64_decode(bh->value, bh->valuelen, want, sizeof(want)) !=
	    DKIM_BH_LEN)
		return "bad bh=";
	if ((mine = body_hash(v, bs)) == NULL)
		return "out of memory";
	if (memcmp(mine, want, DKIM_BH_LEN) != 0)
		return "body hash mismatch";
	if ((siglen = dkim_b64_decode(b->value, b->valuelen, sig, sizeof(sig))) <= 0)
		return "bad b=";
	if ((uf = field_unsigned(f, valoff, b, &uflen)) == NULL)
		return "out of memory";
	rc = dkim_header_hash(v->fields, v->nfields, h->value, h->valuelen, hs,
	    uf, uflen, hh);
	free(uf);
	if (rc == -1)
		return "out of memory";
	snprintf(why, whylen, "no %s key given",
	    alg == DKIM_ALG_RSA_SHA256 ? "rsa" : "ed25519");
	for (i = 0; i < v->nkeys; i++) {
		if (dkim_pubkey_alg(v->keys[i]) != alg)
			continue;
		if (dkim_pubkey_verify_hash(v->keys[i], hh, sig, (size_t)siglen,
		    why, whylen))
			return NULL;
	}
	return why;
}

static void
verify_one(struct vctx *v, const struct dkim_field *f, struct dkim_result *r)
{
	struct dkim_taglist	 tl;
	enum dkim_alg		 alg = DKIM_ALG_RSA_SHA256;
	const char		*colon, *reason;
	char			 err[128];
	size_t			 valoff, vlen;

	memset(r, 0, sizeof(*r));
	colon = memchr(f->start, ':', f->len);
	valoff = colon + 1 - f->start;
	vlen = f->len - valoff;
	if (vlen >= 2 && colon[vlen - 1] == '\r' && colon[vlen] == '\n')
		vlen -= 2;
	if (dkim_tags_parse(colon + 1, vlen, &tl, err, sizeof(err)) == -1) {
		snprintf(r->reason, sizeof(r->reason), "bad tag list: %.100s", err);
		return;
	}
	copy_safe(r->domain, sizeof(r->domain), dkim_tags_get(&tl, "d"));
	copy_safe(r->selector, sizeof(r->selector), dkim_tags_get(&tl, "s"));
	copy_safe(r->alg, sizeof(r->alg), dkim_tags_get(&tl, "a"));
	if ((reason = tags_check(&tl, v, &alg)) == NULL)
		reason = sig_check(v, f, &tl, valoff, alg, err, sizeof(err));
	if (reason == NULL)
		r->pass = 1;
	else
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

int
dkim_verify_message(const char *msg, size_t len,
    struct dkim_pubkey *const *keys, size_t nkeys, time_t now,
    struct dkim_result *res, size_t maxres)
{
	struct vctx	 v;
	size_t		 hdrlen, bodyoff, i;
	int		 nsig = 0;

	memset(&v, 0, sizeof(v));
	dkim_msg_split(msg, len, &hdrlen, &bodyoff);
	v.body = msg + bodyoff;
	v.bodylen = len - bodyoff;
	v.keys = keys;
	v.nkeys = nkeys;
	v.now = now;
	v.fields = dkim_fields_split(msg, hdrlen, &v.nfields);
	if (v.fields == NULL && hdrlen > 0)
		return -1;
	for (i = 0; i < v.nfields; i++) {
		if (!dkim_field_is(&v.fields[i], "DKIM-Signature"))
			continue;
		if ((size_t)nsig < maxres)
			verify_one(&v, &v.fields[i], &res[nsig]);
		nsig++;
	}
	free(v.fields);
	return nsig;
}
