/*
 * dkim_bodyhash.c — the body hash of RFC 6376 3.7, computed while the body
 * streams through: simple (3.4.3) and relaxed (3.4.4) canonicalization,
 * empty lines at the end of the body held back until something follows.
 * Never l= (RFC 6376 8.2): the whole body is always hashed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkim/dkim.h"

#define OUTBUF	4096

/* OpenSSL's SHA-256 (SHA-NI, AVX2) runs several times libsodium's. */
struct dkim_bodyhash {
	EVP_MD_CTX	*sha;
	int		 simple;
	int		 cr;		/* a CR waits for its LF */
	int		 wsp;		/* relaxed: a WSP run waits */
	int		 line;		/* the current line has content */
	int		 any;		/* some content was hashed */
	size_t		 crlf;		/* line ends held back */
	size_t		 outlen;
	unsigned char	 out[OUTBUF];
};

static void
bh_flush(struct dkim_bodyhash *b)
{
	EVP_DigestUpdate(b->sha, b->out, b->outlen);
	b->outlen = 0;
}

static void
bh_put(struct dkim_bodyhash *b, unsigned char c)
{
	if (b->outlen == sizeof(b->out))
		bh_flush(b);
	b->out[b->outlen++] = c;
}

/* Content (not an end of line): write the held-back line ends first. */
static void
bh_content(struct dkim_bodyhash *b, unsigned char c)
{
	for (; b->crlf > 0; b->crlf--) {
		bh_put(b, '\r');
		bh_put(b, '\n');
	}
	if (b->wsp) {
		bh_put(b, ' ');
		b->wsp = 0;
	}
	bh_put(b, c);
	b->line = 1;
	b->any = 1;
}

static void
bh_eol(struct dkim_bodyhash *b)
{
	b->wsp = 0;	/* relaxed: WSP at the end of a line goes */
	if (b->line)
		b->crlf = 1;
	else
		b->crlf++;
	b->line = 0;
}

/*
 * End of the run of octets from I that canonicalization leaves as they are:
 * up to a CR; in relaxed, also up to a tab or a SP not followed by an
 * octet other than WSP and CR (a lone SP between words stays as it is).
 */
static size_t
bh_plain_run(const struct dkim_bodyhash *b, const unsigned char *p, size_t i,
    size_t len)
{
	const unsigned char	*cr;

	if (b->simple) {
		cr = memchr(p + i, '\r', len - i);
		return cr == NULL ? len : (size_t)(cr - p);
	}
	for (; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\t')
			break;
		if (p[i] == ' ') {
			if (i + 1 == len || p[i + 1] == ' ' ||
			    p[i + 1] == '\t' || p[i + 1] == '\r')
				break;
			i++;	/* the SP and the octet after it */
		}
	}
	return i;
}

struct dkim_bodyhash *
dkim_bodyhash_new(int canon_simple)
{
	struct dkim_bodyhash	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(b->sha);
		free(b);
		return NULL;
	}
	b->simple = canon_simple != 0;
	return b;
}

void
dkim_bodyhash_update(struct dkim_bodyhash *b, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 i;
	unsigned char		 c;

	for (i = 0; i < len; i++) {
		/* fast path: a run of plain octets with nothing held back */
		if (!b->cr && !b->wsp && b->crlf == 0) {
			size_t	 j = i;

			j = bh_plain_run(b, p, i, len);
			if (j > i) {
				bh_flush(b);
				EVP_DigestUpdate(b->sha, p + i, j - i);
				b->line = b->any = 1;
				if ((i = j) == len)
					break;
			}
		}
		c = p[i];
		if (b->cr) {
			b->cr = 0;
			if (c == '\n') {
				bh_eol(b);
				continue;
			}
			bh_content(b, '\r');	/* a bare CR is content */
		}
		if (c == '\r')
			b->cr = 1;
		else if (!b->simple && (c == ' ' || c == '\t')) {
			b->wsp = 1;	/* emitted as one SP before content */
		} else
			bh_content(b, c);
	}
}

void
dkim_bodyhash_final(struct dkim_bodyhash *b, unsigned char bh[DKIM_BH_LEN])
{
	if (b->cr) {
		b->cr = 0;
		bh_content(b, '\r');
	}
	/*
	 * One CRLF ends the last line with content, whether it had one or
	 * not; the empty lines after it go.  An empty simple body is one
	 * CRLF; an empty relaxed body is empty (RFC 6376 3.4.3, 3.4.4).
	 */
	if (b->simple || b->any) {
		bh_put(b, '\r');
		bh_put(b, '\n');
	}
	bh_flush(b);
	if (EVP_DigestFinal_ex(b->sha, bh, NULL) != 1)
		memset(bh, 0, DKIM_BH_LEN);	/* cannot happen with SHA-256 */
}

void
dkim_bodyhash_free(struct dkim_bodyhash *b)
{
	if (b == NULL)
		return;
	EVP_MD_CTX_free(b->sha);
	free(b);
}
