/* addr.c — address and sender-pattern checks; see addr.h. */
#include <string.h>
#include <strings.h>

#include "conf/addr.h"
#include "lib/submitd.h"

static int
label_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
addr_domain_valid(const char *s, size_t len)
{
	size_t	 i, label = 0;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (label_char((unsigned char)s[i])) {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0;
}

static int
local_char(int c)
{
	return c > 0x20 && c < 0x7f && c != ',' && c != ':' && c != '@';
}

int
addr_pattern_valid(const char *s, size_t len, int allow_any)
{
	const char	*at;
	size_t		 i, llen;

	if (len == 1 && s[0] == '*')
		return allow_any;
	at = memchr(s, '@', len);
	if (at == NULL)
		return 0;
	llen = (size_t)(at - s);
	if (llen == 0 || llen > SMTP_LOCALPART_MAX)
		return 0;
	for (i = 0; i < llen; i++)
		if (!local_char((unsigned char)s[i]))
			return 0;
	return addr_domain_valid(at + 1, len - llen - 1);
}

int
addr_pattern_match(const char *pat, size_t patlen, const char *addr)
{
	const char	*pat_at, *addr_at;
	size_t		 plocal, alocal, pdom, adom;

	if (patlen == 1 && pat[0] == '*')
		return 1;
	if (*addr == '\0')
		return 0;
	pat_at = memchr(pat, '@', patlen);
	addr_at = strrchr(addr, '@');
	if (pat_at == NULL || addr_at == NULL || addr_at == addr)
		return 0;
	plocal = (size_t)(pat_at - pat);
	alocal = (size_t)(addr_at - addr);
	pdom = patlen - plocal - 1;
	adom = strlen(addr_at + 1);
	if (pdom == 0 || pdom != adom ||
	    strncasecmp(pat_at + 1, addr_at + 1, pdom) != 0)
		return 0;
	if (plocal == 1 && pat[0] == '*')
		return 1;
	return plocal == alocal && memcmp(pat, addr, plocal) == 0;
}
