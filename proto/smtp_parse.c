/* smtp_parse.c — RFC 5321 command, path and parameter syntax; see smtp_parse.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/smtp_parse.h"
#include "lib/submitd.h"

/* RFC 5322 atext. */
static int
is_atext(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL)
	    || c >= 0x80;	/* RFC 6531 UTF-8, passed through */
}

/* Dot-string: atoms separated by single dots.  Returns length or -1. */
static int
scan_dot_string(const char *s)
{
	int	 i = 0, atom = 0;

	for (;;) {
		if (is_atext((unsigned char)s[i])) {
			atom++;
			i++;
		} else if (s[i] == '.' && atom > 0) {
			atom = 0;
			i++;
		} else
			break;
	}
	return (i > 0 && atom > 0) ? i : -1;
}

/* Quoted-string (RFC 5321 4.1.2).  Returns length with quotes or -1. */
static int
scan_quoted(const char *s)
{
	int	 i = 1;

	if (s[0] != '"')
		return -1;
	for (;;) {
		unsigned char c = s[i];

		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (s[i + 1] < 32 || s[i + 1] > 126)
				return -1;
			i += 2;
		} else if ((c >= 32 && c <= 126) || c >= 0x80)
			i++;
		else
			return -1;
	}
}

/* Domain (labels of let-dig and hyphens) or address literal.  Length or -1. */
static int
scan_domain(const char *s)
{
	int	 i = 0, lablen = 0;

	if (s[0] == '[') {
		for (i = 1; s[i] != ']'; i++)
			if (s[i] == '\0' || s[i] == '[' || s[i] == '\\' ||
			    (unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127)
				return -1;
		return i > 1 ? i + 1 : -1;
	}
	for (;;) {
		unsigned char c = s[i];

		if (isalnum(c) || c >= 0x80 || (c == '-' && lablen > 0)) {
			if (++lablen > 63)
				return -1;
			i++;
		} else if (c == '.' && lablen > 0 && s[i - 1] != '-') {
			lablen = 0;
			i++;
		} else
			break;
	}
	if (lablen == 0 || s[i - 1] == '-')
		return -1;
	return i > SMTP_DOMAIN_MAX ? -1 : i;
}

/* Skip a source route "@a,@b:" (RFC 5321 4.1.2 A-d-l, to be ignored). */
static const char *
skip_source_route(const char *s)
{
	const char	*p = s;
	int		 n;

	if (*p != '@')
		return s;
	for (;;) {
		if (*p != '@' || (n = scan_domain(p + 1)) < 0)
			return NULL;
		p += 1 + n;
		if (*p == ',')
			p++;
		else if (*p == ':')
			return p + 1;
		else
			return NULL;
	}
}

int
smtp_parse_path(const char *s, int allow_empty, char *out, size_t outsz,
    const char **rest)
{
	const char	*p, *start;
	int		 n, d;
	size_t		 len;

	while (*s == ' ')
		s++;
	if (*s != '<')
		return -1;
	p = s + 1;
	if (*p == '>') {
		if (!allow_empty || outsz < 1)
			return -1;
		out[0] = '\0';
		*rest = p + 1;
		return 0;
	}
	if ((p = skip_source_route(p)) == NULL)
		return -1;
	start = p;
	n = (*p == '"') ? scan_quoted(p) : scan_dot_string(p);
	if (n < 0 || n > SMTP_LOCALPART_MAX || p[n] != '@')
		return -1;
	if ((d = scan_domain(p + n + 1)) < 0 || p[n + 1 + d] != '>')
		return -1;
	len = (size_t)n + 1 + (size_t)d;
	if (len + 2 > SMTP_PATH_MAX || len >= outsz)
		return -1;
	memcpy(out, start, len);
	out[len] = '\0';
	*rest = start + len + 1;
	return 0;
}

/* Next " KEY[=VALUE]" token; returns 1 with bounds, 0 at end, -1 on error. */
static int
next_param(const char **sp, char *key, size_t keysz, char *val, size_t valsz)
{
	const char	*s = *sp, *k, *v;
	size_t		 klen, vlen;

	if (*s == '\0')
		return 0;
	if (*s != ' ')
		return -1;
	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	k = s;
	while (isalnum((unsigned char)*s) || *s == '-')
		s++;
	klen = s - k;
	if (klen == 0 || klen >= keysz)
		return -1;
	memcpy(key, k, klen);
	key[klen] = '\0';
	val[0] = '\0';
	if (*s == '=') {
		v = ++s;
		while (*s > 32 && *s < 127 && *s != '=')
			s++;
		vlen = s - v;
		if (vlen == 0 || vlen >= valsz)
			return -1;
		memcpy(val, v, vlen);
		val[vlen] = '\0';
	}
	if (*s != ' ' && *s != '\0')
		return -1;
	*sp = s;
	return 1;
}

int
smtp_parse_mail_params(const char *s, struct smtp_mail_params *out)
{
	char	 key[32], val[128];
	int	 r;

	memset(out, 0, sizeof(*out));
	while ((r = next_param(&s, key, sizeof(key), val, sizeof(val))) == 1) {
		if (strcasecmp(key, "SIZE") == 0) {
			char		*end;
			unsigned long long n;

			if (val[0] < '0' || val[0] > '9')
				return -1;
			n = strtoull(val, &end, 10);
			if (*end != '\0' || strlen(val) > 19)
				return -1;
			out->size = n;
		} else if (strcasecmp(key, "BODY") == 0) {
			if (strcasecmp(val, "8BITMIME") == 0)
				out->body_8bitmime = 1;
			else if (strcasecmp(val, "7BIT") != 0)
				return -1;
		} else if (strcasecmp(key, "AUTH") == 0) {
			/* RFC 4954 5: accepted, not relayed. */
		} else if (strcasecmp(key, "SMTPUTF8") == 0) {
			if (val[0] != '\0')	/* RFC 6531 3.4: no value */
				return -1;
			out->smtputf8 = 1;
		} else
			return -2;
	}
	return r;
}

int
smtp_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 127)
			return 0;
	return 1;
}

int
smtp_utf8_valid(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	unsigned		 cp, min;
	int			 n, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0)
			n = 1, cp = *s & 0x1f, min = 0x80;
		else if ((*s & 0xf0) == 0xe0)
			n = 2, cp = *s & 0x0f, min = 0x800;
		else if ((*s & 0xf8) == 0xf0)
			n = 3, cp = *s & 0x07, min = 0x10000;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;	/* also the NUL at the end */
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

int
smtp_parse_rcpt_params(const char *s)
{
	char	 key[32], val[128];
	int	 r;

	if ((r = next_param(&s, key, sizeof(key), val, sizeof(val))) == 1)
		return -2;
	return r;
}

const char *
smtp_addr_domain(const char *addr)
{
	const char	*at;

	if ((at = strrchr(addr, '@')) == NULL || at[1] == '\0')
		return NULL;
	return at + 1;
}

const char *
smtp_cmd_verb(const char *line, char *verb, size_t verbsz)
{
	size_t	 i;

	for (i = 0; line[i] != '\0' && line[i] != ' '; i++) {
		if (i + 1 >= verbsz)
			return NULL;
		verb[i] = toupper((unsigned char)line[i]);
	}
	verb[i] = '\0';
	return line[i] == ' ' ? line + i + 1 : line + i;
}
