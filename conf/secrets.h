/*
 * secrets.h — the upstream secrets file: one "sender-pattern login password"
 * per line, '#' comments, first match wins (DESIGN.md).  Patterns: "*", an
 * address, or "*@domain"; domains compare case-insensitively.  Only the
 * relay holds this.
 *
 * conf/: the config and secrets files as data, addresses and networks.
 * Sits on lib/ only: knows nothing of SMTP sessions, DKIM, the queue, the
 * relay or the roles that use what it parsed.
 */
#ifndef CONF_SECRETS_H
#define CONF_SECRETS_H

#include <stdio.h>

struct secret {
	char	*pattern;
	char	*login;
	char	*password;
	int	 line;
};

struct secrets {
	struct secret	*entries;
	size_t		 n;
};

/*
 * secrets_load: reads FILE; errors as "file:line: message" to ERRF; NULL
 * on any error.  Warns when the file is readable by group or others.
 */
struct secrets	*secrets_load(const char *file, FILE *errf);
/* secrets_free: wipes the passwords and frees. */
void		 secrets_free(struct secrets *);
/*
 * secrets_match: the first entry whose pattern matches REVERSE_PATH (an
 * address, or "" for the null reverse-path, which only "*" matches); NULL
 * if none.
 */
const struct secret *secrets_match(const struct secrets *, const char *reverse_path);

#endif
