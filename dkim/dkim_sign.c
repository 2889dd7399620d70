/*
 * dkim_sign.c — the DKIM-Signature field (RFC 6376 3.5): which fields to
 * sign (5.4, with over-signing, 8.15), the tags v a c d s t [x] h bh b
 * (never l=, never rsa-sha1: RFC 8301), folded under 78 columns.
 * Takes only the header section and the body hash: it runs where the keys
 * are, and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim.h"

#define FOLD_WIDTH	78
#define SIG_MAX		512	/* octets: RSA-4096 */
#define DOMAIN_MAX	253
#define SELECTOR_MAX	63

struct fold {
	char	*buf;
	size_t	 len, cap, col;
	int	 err;
};

static void
fold_raw(struct fold *f, const char *s, size_t n)
{
	char	*p;
	size_t	 cap;

	if (f->err)
		return;
	if (f->len + n + 1 > f->cap) {
		cap = (f->len + n + 1) * 2;
		if ((p = realloc(f->buf, cap)) == NULL) {
			f->err = 1;
			return;
		}
		f->buf = p;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
	f->col += n;
}

/* TOK after SEP, or on a new folded line if it would not fit. */
static void
fold_token(struct fold *f, const char *sep, const char *tok, size_t n)
{
	if (f->col + strlen(sep) + n > FOLD_WIDTH && f->col > 1) {
		fold_raw(f, "\r\n ", 3);
		f->col = 1;
	} else
		fold_raw(f, sep, strlen(sep));
	fold_raw(f, tok, n);
}

static void
fold_tag(struct fold *f, const char *name, const char *value)
{
	char	 tok[DOMAIN_MAX + 16];

	snprintf(tok, sizeof(tok), "%s=%s;", name, value);
	fold_token(f, " ", tok, strlen(tok));
}

/* d= and s=: dot-atoms of letters, digits, '-' and '_' (RFC 6376 3.1, 3.5). */
static int
name_ok(const char *s, size_t max)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > max || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
		    (s[i] == '.' && s[i + 1] != '.')))
			return 0;
	return 1;
}

int
dkim_name_valid(const char *s, int selector)
{
	return name_ok(s, selector ? SELECTOR_MAX : DOMAIN_MAX);
}

/* Adds NAME to h= N times. */
static void
fold_hname(struct fold *f, int *first, const char *name, size_t namelen,
    size_t n)
{
	char	 tok[256];

	for (; n > 0; n--) {
		snprintf(tok, sizeof(tok), "%s%.*s", *first ? "h=" : ":",
		    (int)namelen, name);
		fold_token(f, *first ? " " : "", tok, strlen(tok));
		*first = 0;
	}
}

/*
 * A List-* field we sign: its name has only letters, digits, '-' and '_'.
 * Field names may hold any printable octet but ':' (RFC 5322 3.6.8); one
 * with ';' or '=' would forge tags inside h=.
 */
static int
list_name_ok(const struct dkim_field *f, size_t max)
{
	size_t	 i;

	if (f->namelen <= 5 || f->namelen >= max ||
	    strncasecmp(f->start, "List-", 5) != 0)
		return 0;
	for (i = 0; i < f->namelen; i++)
		if (!((f->start[i] >= 'a' && f->start[i] <= 'z') ||
		    (f->start[i] >= 'A' && f->start[i] <= 'Z') ||
		    (f->start[i] >= '0' && f->start[i] <= '9') ||
		    f->start[i] == '-' || f->start[i] == '_'))
			return 0;
	return 1;
}

static int
list_seen(const struct dkim_field *fields, size_t i)
{
	size_t	 j;

	for (j = 0; j < i; j++)
		if (fields[j].namelen == fields[i].namelen &&
		    strncasecmp(fields[j].start, fields[i].start,
		    fields[i].namelen) == 0)
			return 1;
	return 0;
}

/* h= (RFC 6376 5.4): the fields we sign, over-signing the first ones. */
static void
fold_hlist(struct fold *f, const struct dkim_field *fields, size_t n)
{
	static const char *const names[] = DKIM_SIGNED_HEADERS;
	char	 name[200];
	size_t	 i, count;
	int	 first = 1;

	for (i = 0; names[i] != NULL; i++) {
		count = dkim_field_count(fields, n, names[i]);
		if (i < DKIM_OVERSIGNED)
			count++;
		fold_hname(f, &first, names[i], strlen(names[i]), count);
	}
	for (i = 0; i < n; i++)
		if (list_name_ok(&fields[i], sizeof(name)) &&
		    !list_seen(fields, i)) {
			memcpy(name, fields[i].start, fields[i].namelen);
			name[fields[i].namelen] = '\0';
			fold_hname(f, &first, name, fields[i].namelen,
			    dkim_field_count(fields, n, name));
		}
	fold_raw(f, ";", 1);
}

static const char *
alg_name(enum dkim_alg alg)
{
	return alg == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

char *
dkim_sign_params(const struct dkim_key *key, const struct dkim_sign_params *sp,
    const char *hdr, size_t hdrlen, const unsigned char bh[DKIM_BH_LEN])
{
	struct dkim_field	*fields;
	struct fold		 f = { NULL, 0, 0, 0, 0 };
	char			 num[32], *b64, *sig;
	size_t			 n;

	if (!name_ok(sp->domain, DOMAIN_MAX) ||
	    !name_ok(sp->selector, SELECTOR_MAX))
		return NULL;
	fields = dkim_fields_split(hdr, hdrlen, &n);
	/* RFC 6376 5.4: From is required; two of them is a forgery. */
	if (dkim_field_count(fields, n, "From") != 1) {
		free(fields);
		return NULL;
	}
	fold_raw(&f, "DKIM-Signature: v=1;", 20);
	fold_tag(&f, "a", alg_name(dkim_key_alg(key)));
	fold_tag(&f, "c", sp->canon_simple ? "simple/simple" : "relaxed/relaxed");
	fold_tag(&f, "d", sp->domain);
	fold_tag(&f, "s", sp->selector);
	snprintf(num, sizeof(num), "%lld", (long long)sp->t);
	fold_tag(&f, "t", num);
	if (sp->x > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)sp->x);
		fold_tag(&f, "x", num);
	}
	fold_hlist(&f, fields, n);
	free(fields);
	if ((b64 = dkim_b64_encode(bh, DKIM_BH_LEN)) == NULL) {
		free(f.buf);
		return NULL;
	}
	fold_tag(&f, "bh", b64);
	free(b64);
	fold_token(&f, " ", "b=", 2);
	if (f.err) {
		free(f.buf);
		return NULL;
	}
	sig = dkim_sign_field(key, f.buf, f.len, hdr, hdrlen);
	free(f.buf);
	return sig;
}

char *
dkim_sign(const struct dkim_key *key, const char *domain, const char *selector,
    int canon_simple, const char *hdr, size_t hdrlen,
    const unsigned char bh[DKIM_BH_LEN], time_t t)
{
	struct dkim_sign_params	 sp;

	memset(&sp, 0, sizeof(sp));
	sp.domain = domain;
	sp.selector = selector;
	sp.canon_simple = canon_simple;
	sp.t = t;
	return dkim_sign_params(key, &sp, hdr, hdrlen, bh);
}

/* The header canonicalization a c= value names (RFC 6376 3.5): 1 simple,
 * 0 relaxed, -1 unknown. */
static int
canon_header_simple(const struct dkim_tag *c)
{
	if (c == NULL)
		return 1;
	if (c->valuelen >= 7 && memcmp(c->value, "relaxed", 7) == 0)
		return 0;
	if (c->valuelen >= 6 && memcmp(c->value, "simple", 6) == 0)
		return 1;
	return -1;
}

/* Appends the folded base64 of SIG and the final CRLF. */
static void
fold_b64(struct fold *f, const unsigned char *sig, size_t siglen)
{
	char	*b64;
	size_t	 n, p = 0, room;

	if ((b64 = dkim_b64_encode(sig, siglen)) == NULL) {
		f->err = 1;
		return;
	}
	n = strlen(b64);
	while (p < n) {
		room = f->col < FOLD_WIDTH ? FOLD_WIDTH - f->col : 0;
		if (room == 0) {
			fold_raw(f, "\r\n ", 3);
			f->col = 1;
			continue;
		}
		if (room > n - p)
			room = n - p;
		fold_raw(f, b64 + p, room);
		p += room;
	}
	fold_raw(f, "\r\n", 2);
	free(b64);
}

char *
dkim_sign_field(const struct dkim_key *key, const char *unsigned_field,
    size_t len, const char *hdr, size_t hdrlen)
{
	struct dkim_taglist	 tl;
	const struct dkim_tag	*h;
	struct dkim_field	*fields;
	struct fold		 f = { NULL, 0, 0, 0, 0 };
	const char		*colon, *lf;
	unsigned char		 hh[DKIM_BH_LEN], sig[SIG_MAX];
	char			 err[128];
	size_t			 n, off;
	long			 siglen;
	int			 simple, rc;

	if ((colon = memchr(unsigned_field, ':', len)) == NULL)
		return NULL;
	off = colon + 1 - unsigned_field;
	if (dkim_tags_parse(colon + 1, len - off, &tl, err, sizeof(err)) == -1 ||
	    (h = dkim_tags_get(&tl, "h")) == NULL ||
	    (simple = canon_header_simple(dkim_tags_get(&tl, "c"))) == -1)
		return NULL;
	fields = dkim_fields_split(hdr, hdrlen, &n);
	rc = dkim_header_hash(fields, n, h->value, h->valuelen, simple,
	    unsigned_field, len, hh);
	free(fields);
	if (rc == -1 || (siglen = dkim_key_sign_hash(key, hh, sig, sizeof(sig))) < 0)
		return NULL;
	fold_raw(&f, unsigned_field, len);
	/* the column of the last line, for folding b= */
	for (lf = unsigned_field + len; lf > unsigned_field && lf[-1] != '\n'; lf--)
		;
	f.col = unsigned_field + len - lf;
	fold_b64(&f, sig, (size_t)siglen);
	if (f.err) {
		free(f.buf);
		return NULL;
	}
	return f.buf;
}
