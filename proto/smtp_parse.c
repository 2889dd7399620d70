/* smtp_parse.c — RFC 5321 command, path and parameter syntax; see smtp_parse.h. */
#include <ctype.h>
#include <stdint.h>
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

/* RFC 3492 6.1. */
static unsigned
puny_adapt(unsigned delta, unsigned numpoints, int first)
{
	unsigned	 k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / numpoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

/* One label's code points CP (N of them) as "xn--..." into OUT; length or -1. */
static int
puny_label(const uint32_t *cp, size_t n, char *out, size_t outsz)
{
	unsigned	 delta = 0, bias = 72, h, b = 0, q, k, t, m, c;
	uint32_t	 cur = 128;
	size_t		 o = 4, i;

#define PUT(ch)	do { if (o + 1 >= outsz) return -1; out[o++] = (ch); } while (0)
#define DIGIT(d) ((d) < 26 ? 'a' + (d) : '0' + (d) - 26)
	if (outsz < 5)
		return -1;
	memcpy(out, "xn--", 4);
	for (i = 0; i < n; i++)
		if (cp[i] < 0x80) {
			PUT(cp[i] >= 'A' && cp[i] <= 'Z' ? cp[i] + 32 : cp[i]);
			b++;
		}
	if (b > 0)
		PUT('-');
	for (h = b; h < n; cur++, delta++) {
		for (m = UINT32_MAX, i = 0; i < n; i++)
			if (cp[i] >= cur && cp[i] < m)
				m = cp[i];
		if ((m - cur) > (UINT32_MAX - delta) / (h + 1))
			return -1;
		delta += (m - cur) * (h + 1);
		cur = m;
		for (i = 0; i < n; i++) {
			c = cp[i];
			if (c < cur && ++delta == 0)
				return -1;
			if (c != cur)
				continue;
			for (q = delta, k = 36;; k += 36) {
				t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				PUT(DIGIT(t + (q - t) % (36 - t)));
				q = (q - t) / (36 - t);
			}
			PUT(DIGIT(q));
			bias = puny_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
	}
#undef PUT
#undef DIGIT
	out[o] = '\0';
	return (int)o;
}

int
smtp_domain_alabel(const char *domain, char *out, size_t outsz)
{
	const unsigned char	*s = (const unsigned char *)domain;
	uint32_t		 cp[64];
	size_t			 o = 0, n, i;
	char			 lab[64];
	int			 len;

	if (!smtp_utf8_valid(domain))
		return -1;
	for (;;) {
		const unsigned char *start = s;
		int	 ascii = 1;

		for (n = 0; *s != '\0' && *s != '.'; n++) {
			uint32_t c = *s++;
			int	 more = 0;

			if (n == 63)
				return -1;
			if (c >= 0xf0)
				c &= 0x07, more = 3;
			else if (c >= 0xe0)
				c &= 0x0f, more = 2;
			else if (c >= 0xc0)
				c &= 0x1f, more = 1;
			for (; more > 0; more--)
				c = (c << 6) | (*s++ & 0x3f);
			if (c >= 0x80)
				ascii = 0;
			cp[n] = c;
		}
		if (ascii) {
			if ((size_t)(s - start) >= sizeof(lab))
				return -1;
			for (i = 0; i < (size_t)(s - start); i++)
				lab[i] = (char)tolower(start[i]);
			len = (int)i;
		} else if ((len = puny_label(cp, n, lab, sizeof(lab))) < 0)
			return -1;
		if (o + (size_t)len + 2 > outsz)
			return -1;
		memcpy(out + o, lab, (size_t)len);
		o += (size_t)len;
		if (*s == '\0')
			break;
		out[o++] = '.';
		s++;
	}
	out[o] = '\0';
	return 0;
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
