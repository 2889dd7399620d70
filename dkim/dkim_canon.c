/*
 * dkim_canon.c — header fields: splitting a header section into fields
 * (RFC 5322 2.2) and their simple and relaxed canonical forms (RFC 6376
 * 3.4.1, 3.4.2).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim.h"

#define WSP(c)	((c) == ' ' || (c) == '\t')

/* End of the line starting at P (offset after its LF, or the end). */
static size_t
line_end(const char *hdr, size_t len, size_t p)
{
	const char	*lf;

	lf = memchr(hdr + p, '\n', len - p);
	return lf == NULL ? len : (size_t)(lf - hdr) + 1;
}

static size_t
field_namelen(const char *f, size_t len)
{
	const char	*colon;
	size_t		 n;

	if ((colon = memchr(f, ':', len)) == NULL)
		return 0;
	n = colon - f;
	while (n > 0 && WSP(f[n - 1]))
		n--;
	return n;
}

struct dkim_field *
dkim_fields_split(const char *hdr, size_t hdrlen, size_t *n)
{
	struct dkim_field	*fields;
	size_t			 p, max, nf = 0;

	*n = 0;
	/* At most one field a line. */
	for (p = 0, max = 0; p < hdrlen; p = line_end(hdr, hdrlen, p))
		max++;
	if (max == 0 || (fields = calloc(max, sizeof(*fields))) == NULL)
		return NULL;
	for (p = 0; p < hdrlen; p = line_end(hdr, hdrlen, p)) {
		if (nf > 0 && WSP(hdr[p])) {
			fields[nf - 1].len = line_end(hdr, hdrlen, p) -
			    (fields[nf - 1].start - hdr);
			continue;
		}
		fields[nf].start = hdr + p;
		fields[nf].len = line_end(hdr, hdrlen, p) - p;
		nf++;
	}
	for (p = 0; p < nf; p++)
		fields[p].namelen = field_namelen(fields[p].start, fields[p].len);
	*n = nf;
	return fields;
}

int
dkim_field_is(const struct dkim_field *f, const char *name)
{
	return f->namelen == strlen(name) && f->namelen > 0 &&
	    strncasecmp(f->start, name, f->namelen) == 0;
}

size_t
dkim_field_count(const struct dkim_field *fields, size_t n, const char *name)
{
	size_t	 i, count = 0;

	for (i = 0; i < n; i++)
		count += dkim_field_is(&fields[i], name);
	return count;
}

/* Relaxed (3.4.2): name lower-cased, no WSP around ':', value unfolded with
 * WSP runs as one SP and no WSP at its end. */
static size_t
canon_relaxed(const char *f, size_t len, char *out)
{
	const char	*colon;
	size_t		 i, o = 0, namelen;
	int		 wsp = 0, started = 0;

	if ((colon = memchr(f, ':', len)) == NULL) {
		memcpy(out, f, len);	/* not a field: left as it is */
		return len;
	}
	namelen = field_namelen(f, len);
	for (i = 0; i < namelen; i++)
		out[o++] = (f[i] >= 'A' && f[i] <= 'Z') ? f[i] + 32 : f[i];
	out[o++] = ':';
	for (i = colon - f + 1; i < len; i++) {
		if (f[i] == '\r' && i + 1 < len && f[i + 1] == '\n') {
			i++;		/* unfold: the CRLF goes, WSP stays */
			continue;
		}
		if (WSP(f[i])) {
			wsp = 1;
			continue;
		}
		if (wsp && started)	/* none right after the colon */
			out[o++] = ' ';
		wsp = 0;
		started = 1;
		out[o++] = f[i];
	}
	return o;
}

size_t
dkim_canon_header(int canon_simple, const char *field, size_t len, char *out)
{
	if (len >= 2 && field[len - 2] == '\r' && field[len - 1] == '\n')
		len -= 2;
	if (!canon_simple)
		return canon_relaxed(field, len, out);
	memcpy(out, field, len);
	return len;
}
