/*
 * dkim_bodyhash.c — the body hash of RFC 6376 3.7, computed while the body
 * streams through: simple (3.4.3) and relaxed (3.4.4) canonicalization,
 * empty lines at the end of the body held back until something follows.
 * Never l= (RFC 6376 8.2): the whole body is always hashed.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smtpd/dkim.h"

#define OUTBUF	4096

struct dkim_bodyhash {
	crypto_hash_sha256_state sha;
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
	crypto_hash_sha256_update(&b->sha, b->out, b->outlen);
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

struct dkim_bodyhash *
dkim_bodyhash_new(int canon_simple)
{
	struct dkim_bodyhash	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	crypto_hash_sha256_init(&b->sha);
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
	crypto_hash_sha256_final(&b->sha, bh);
}

void
dkim_bodyhash_free(struct dkim_bodyhash *b)
{
	free(b);
}
