/*
 * dkim_hash.c — the header hash of RFC 6376 3.7: the fields named by h=,
 * each instance taken from the bottom up (5.4.2), canonicalized, then the
 * DKIM-Signature field itself with an empty b= and no final CRLF.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "dkim/dkim.h"

#define FWSCHAR(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

/* The last field named NAME (NAMELEN octets) not used yet, or -1. */
static long
field_pick(const struct dkim_field *fields, size_t nfields, unsigned char *used,
    const char *name, size_t namelen)
{
	size_t	 i;

	for (i = nfields; i > 0; i--) {
		const struct dkim_field *f = &fields[i - 1];

		if (!used[i - 1] && f->namelen == namelen && namelen > 0 &&
		    strncasecmp(f->start, name, namelen) == 0) {
			used[i - 1] = 1;
			return (long)(i - 1);
		}
	}
	return -1;
}

static int
hash_field(crypto_hash_sha256_state *sha, int canon_simple, const char *f,
    size_t len, int crlf)
{
	char	*buf;
	size_t	 n;

	if ((buf = malloc(len + 1)) == NULL)
		return -1;
	n = dkim_canon_header(canon_simple, f, len, buf);
	crypto_hash_sha256_update(sha, (unsigned char *)buf, n);
	if (crlf)
		crypto_hash_sha256_update(sha, (const unsigned char *)"\r\n", 2);
	free(buf);
	return 0;
}

int
dkim_header_hash(const struct dkim_field *fields, size_t nfields,
    const char *hlist, size_t hlistlen, int canon_simple, const char *sigfield,
    size_t siglen, unsigned char out[DKIM_BH_LEN])
{
	crypto_hash_sha256_state sha;
	unsigned char	*used;
	size_t		 p = 0, start, end;
	long		 i;

	if ((used = calloc(nfields + 1, 1)) == NULL)
		return -1;
	crypto_hash_sha256_init(&sha);
	while (p < hlistlen) {
		start = p;
		while (p < hlistlen && hlist[p] != ':')
			p++;
		end = p++;
		while (start < end && FWSCHAR(hlist[start]))
			start++;
		while (end > start && FWSCHAR(hlist[end - 1]))
			end--;
		i = field_pick(fields, nfields, used, hlist + start, end - start);
		if (i >= 0 && hash_field(&sha, canon_simple, fields[i].start,
		    fields[i].len, 1) == -1) {
			free(used);
			return -1;
		}
	}
	free(used);
	if (hash_field(&sha, canon_simple, sigfield, siglen, 0) == -1)
		return -1;
	crypto_hash_sha256_final(&sha, out);
	return 0;
}
