/*
 * dkim_tags.c — tag=value lists (RFC 6376 3.2) as found in DKIM-Signature
 * fields and key records, and their base64 values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dkim/dkim.h"

#define FWSCHAR(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
#define ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define DIGIT(c)	((c) >= '0' && (c) <= '9')
#define VALCHAR(c)	((c) >= 0x21 && (c) <= 0x7e && (c) != ';')

static size_t
skip_fws(const char *s, size_t len, size_t p)
{
	while (p < len && FWSCHAR(s[p]))
		p++;
	return p;
}

static int
tag_value(const char *s, size_t start, size_t end, struct dkim_tag *t)
{
	size_t	 i;

	while (start < end && FWSCHAR(s[start]))
		start++;
	while (end > start && FWSCHAR(s[end - 1]))
		end--;
	for (i = start; i < end; i++)
		if (!VALCHAR((unsigned char)s[i]) && !FWSCHAR(s[i]))
			return -1;
	t->value = s + start;
	t->valuelen = end - start;
	return 0;
}

static int
tag_dup(const struct dkim_taglist *tl, const struct dkim_tag *t)
{
	size_t	 i;

	for (i = 0; i < tl->ntags; i++)
		if (tl->tag[i].namelen == t->namelen &&
		    memcmp(tl->tag[i].name, t->name, t->namelen) == 0)
			return 1;
	return 0;
}

int
dkim_tags_parse(const char *s, size_t len, struct dkim_taglist *tl, char *err,
    size_t errlen)
{
	struct dkim_tag	*t;
	const char	*semi;
	size_t		 p = 0;

	tl->ntags = 0;
	for (;;) {
		if ((p = skip_fws(s, len, p)) == len)
			return 0;
		if (tl->ntags == DKIM_TAGS_MAX) {
			snprintf(err, errlen, "too many tags");
			return -1;
		}
		t = &tl->tag[tl->ntags];
		if (!ALPHA(s[p])) {
			snprintf(err, errlen, "bad tag name");
			return -1;
		}
		t->name = s + p;
		while (p < len && (ALPHA(s[p]) || DIGIT(s[p]) || s[p] == '_'))
			p++;
		t->namelen = s + p - t->name;
		if ((p = skip_fws(s, len, p)) == len || s[p] != '=') {
			snprintf(err, errlen, "tag %.*s: no '='",
			    (int)t->namelen, t->name);
			return -1;
		}
		t->raw_start = ++p;
		semi = memchr(s + p, ';', len - p);
		t->raw_end = semi == NULL ? len : (size_t)(semi - s);
		if (tag_value(s, t->raw_start, t->raw_end, t) == -1) {
			snprintf(err, errlen, "tag %.*s: bad value",
			    (int)t->namelen, t->name);
			return -1;
		}
		if (tag_dup(tl, t)) {
			snprintf(err, errlen, "tag %.*s twice",
			    (int)t->namelen, t->name);
			return -1;
		}
		tl->ntags++;
		if (semi == NULL)
			return 0;
		p = t->raw_end + 1;
	}
}

const struct dkim_tag *
dkim_tags_get(const struct dkim_taglist *tl, const char *name)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < tl->ntags; i++)
		if (tl->tag[i].namelen == n &&
		    memcmp(tl->tag[i].name, name, n) == 0)
			return &tl->tag[i];
	return NULL;
}

int
dkim_tags_is(const struct dkim_tag *t, const char *s)
{
	return t != NULL && t->valuelen == strlen(s) &&
	    memcmp(t->value, s, t->valuelen) == 0;
}

long
dkim_b64_decode(const char *s, size_t len, unsigned char *out, size_t outmax)
{
	size_t		 n;
	const char	*end;

	if (sodium_base642bin(out, outmax, s, len, " \t\r\n", &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + len)
		return -1;
	return (long)n;
}

char *
dkim_b64_encode(const unsigned char *buf, size_t len)
{
	size_t	 n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char	*s;

	if ((s = malloc(n)) == NULL)
		return NULL;
	sodium_bin2base64(s, n, buf, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}
