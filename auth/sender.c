/*
 * sender.c — may this user send as this address?  A user's senders are a
 * comma list of "local@domain" and "*@domain" (see conf/addr.h for how
 * one pattern matches).  The users file is ASCII, so a domain with
 * U-labels (user@bücher.example, with SMTPUTF8) is named by its A-labels
 * there (*@xn--bcher-kva.example): such an address also matches as
 * LOCAL@A-LABELS, as its DKIM key is found (RFC 8616 4.1).
 */
#include <stdio.h>
#include <string.h>

#include "auth/users.h"
#include "conf/addr.h"
#include "proto/smtp_parse.h"

static int	sender_match1(const char *, const char *);

int
sender_match(const char *patterns, const char *addr)
{
	const char	*at;
	char		 dom[256], alt[512];

	if (sender_match1(patterns, addr))
		return 1;
	if ((at = strrchr(addr, '@')) == NULL || smtp_ascii(at + 1) ||
	    smtp_domain_alabel(at + 1, dom, sizeof(dom)) == -1 ||
	    (size_t)snprintf(alt, sizeof(alt), "%.*s@%s", (int)(at - addr),
	    addr, dom) >= sizeof(alt))
		return 0;
	return sender_match1(patterns, alt);
}

static int
sender_match1(const char *patterns, const char *addr)
{
	size_t	 len;

	if (*addr == '\0')
		return 0;
	for (;;) {
		len = strcspn(patterns, ",");
		/* "*" (anyone) is for the secrets file, never for a user. */
		if (!(len == 1 && patterns[0] == '*') &&
		    addr_pattern_match(patterns, len, addr))
			return 1;
		if (patterns[len] == '\0')
			return 0;
		patterns += len + 1;
	}
}
