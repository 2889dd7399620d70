/*
 * users.h — the users table: "name:hash:senders[:options]" lines
 * (DESIGN.md).  hash is an Argon2id string ($argon2id$v=19$...); senders a
 * comma list of addresses or "*@domain"; options a comma list of
 * "from=CIDR[,CIDR...]", "messages=N/hour", "recipients=N/day" (any
 * N/second|minute|hour|day), "bytes=SIZE/day" (SIZE like 100M, at most
 * CONF_BYTES_RATE_MAX).  Only the auth role holds this.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_USERS_H
#define AUTH_USERS_H

#include <stdio.h>

#include "conf/conf.h"

struct user_entry {
	char			*name;
	char			*hash;
	char			*senders;	/* as written, comma list */
	struct conf_cidr	*from;		/* NULL/0: from anywhere */
	size_t			 nfrom;
	struct conf_rate	 messages;	/* count 0: global default */
	struct conf_rate	 recipients;
	struct conf_rate	 bytes;		/* count in octets */
	int			 line;
};

struct users {
	struct user_entry	*entries;
	size_t			 n;
};

/* users_load: reads FILE; errors "file:line: message" to ERRF; NULL on error. */
struct users	*users_load(const char *file, FILE *errf);
void		 users_free(struct users *);
/* users_find: entry for login NAME (domain part case-insensitive); NULL if none. */
const struct user_entry *users_find(const struct users *, const char *name);

/*
 * sender_match: 1 when ADDR (a mailbox "local@domain") matches one of the
 * comma-separated PATTERNS ("addr", "*@domain"), comparing the domain
 * case-insensitively and the local part exactly; else 0.  "" never matches.
 */
int		 sender_match(const char *patterns, const char *addr);

#endif
