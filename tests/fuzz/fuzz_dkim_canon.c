/*
 * fuzz_dkim_canon.c — DKIM canonicalization (dkim/dkim_bodyhash.c,
 * dkim/dkim_canon.c).  The body hash as the queue streams it, in chunks
 * split where the first octets say, must agree with one update of the
 * whole body and with a one-shot reference written from RFC 6376 3.4.3
 * and 3.4.4 here; the header section split into fields covers it exactly
 * and each relaxed field value has no tab or double SP left.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkim/dkim.h"
#include "fuzz.h"

#define WSP(c)	((c) == ' ' || (c) == '\t')

/* The canonical body of P (LEN octets) into OUT (room for 2 * LEN + 2). */
static size_t
reference(int simple, const uint8_t *p, size_t len, uint8_t *out)
{
	size_t	 i = 0, o = 0, le, next, k;

	while (i < len) {
		/* one line: [i, le), its CRLF (if any) ends at next */
		for (le = i; le < len; le++)
			if (p[le] == '\r' && le + 1 < len && p[le + 1] == '\n')
				break;
		next = le < len ? le + 2 : len;
		if (simple) {
			memcpy(out + o, p + i, le - i);
			o += le - i;
		} else {
			int	 wsp = 0;

			for (k = i; k < le; k++) {
				if (WSP(p[k])) {
					wsp = 1;
					continue;
				}
				if (wsp)
					out[o++] = ' ';
				wsp = 0;
				out[o++] = p[k];
			}
		}
		out[o++] = '\r';
		out[o++] = '\n';
		i = next;
	}
	/* empty lines at the end go */
	while (o >= 4 && memcmp(out + o - 4, "\r\n\r\n", 4) == 0)
		o -= 2;
	if (o == 2 && memcmp(out, "\r\n", 2) == 0)
		o = 0;
	if (o == 0 && simple) {
		memcpy(out, "\r\n", 2);
		o = 2;
	}
	return o;
}

static void
sha256(const uint8_t *p, size_t len, unsigned char h[DKIM_BH_LEN])
{
	unsigned int	 hl;

	if (EVP_Digest(p, len, h, &hl, EVP_sha256(), NULL) != 1)
		abort();
}

static void
stream(int simple, const uint8_t *p, size_t len, const uint8_t *cuts,
    size_t ncuts, unsigned char h[DKIM_BH_LEN])
{
	struct dkim_bodyhash	*b;
	size_t			 off = 0, c = 0;

	if ((b = dkim_bodyhash_new(simple)) == NULL)
		abort();
	while (off < len) {
		size_t	 piece = ncuts ? 1 + (size_t)cuts[c++ % ncuts] : len;

		if (piece > len - off)
			piece = len - off;
		dkim_bodyhash_update(b, p + off, piece);
		off += piece;
	}
	dkim_bodyhash_final(b, h);
	dkim_bodyhash_free(b);
}

static void
headers(const uint8_t *p, size_t len)
{
	struct dkim_field	*f;
	size_t			 n, i, k, total = 0, cl;
	char			*out;

	if ((f = dkim_fields_split((const char *)p, len, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if ((const uint8_t *)f[i].start != p + total)
			abort();	/* fields follow each other */
		total += f[i].len;
		if ((out = malloc(f[i].len + 1)) == NULL)
			abort();
		cl = dkim_canon_header(0, f[i].start, f[i].len, out);
		if (cl > f[i].len)
			abort();
		/* the value (after the first ':'): no tab, no double SP */
		for (k = 0; k < cl && out[k] != ':'; k++)
			;
		for (k++; k < cl; k++)
			if (out[k] == '\t' || (out[k] == ' ' &&
			    k + 1 < cl && out[k + 1] == ' '))
				abort();
		cl = dkim_canon_header(1, f[i].start, f[i].len, out);
		if (cl > f[i].len)
			abort();
		free(out);
	}
	if (total != len)
		abort();
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	 ref[DKIM_BH_LEN], one[DKIM_BH_LEN], chunked[DKIM_BH_LEN];
	const uint8_t	*cuts, *body;
	size_t		 ncuts, len, rl;
	uint8_t		*rbuf;
	int		 simple;

	if (size < 2)
		return 0;
	simple = data[0] & 1;
	ncuts = data[1] % 8;
	if (size < 2 + ncuts)
		return 0;
	cuts = data + 2;
	body = data + 2 + ncuts;
	len = size - 2 - ncuts;
	if ((rbuf = malloc(2 * len + 4)) == NULL)
		abort();
	rl = reference(simple, body, len, rbuf);
	sha256(rbuf, rl, ref);
	free(rbuf);
	stream(simple, body, len, NULL, 0, one);
	stream(simple, body, len, cuts, ncuts, chunked);
	if (memcmp(one, chunked, sizeof(one)) != 0)
		abort();	/* streaming disagrees with one update */
	if (memcmp(one, ref, sizeof(one)) != 0)
		abort();	/* disagrees with RFC 6376's one-shot form */
	headers(body, len);
	return 0;
}
