/*
 * sender.c — may this user send as this address?  A user's senders are a
 * comma list of "local@domain" and "*@domain" (see conf/addr.h for how
 * one pattern matches).
 */
#include <string.h>

#include "auth/users.h"
#include "conf/addr.h"

int
sender_match(const char *patterns, const char *addr)
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
