/*
 * config.h — what a configuration is made of, in one place: the files
 * each role reads from it, how every one of them is checked (submitd -n
 * and a reload run the same checks), and what a reload may not change.
 *
 * To add a statement that names a file (a CA, a key, a filter's token):
 * list the file under the role that reads it in config_role_files, check
 * it in config_check with the config line that named it, and read it in
 * the role through lib/fileset.h (fileset_read), never open(2): a
 * reloaded role is chrooted and gets the bytes the parent checked.  To
 * make a role reloadable, give it a struct role_reload (roles.h).
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_CONFIG_H
#define SMTPD_CONFIG_H

#include <stdio.h>

struct conf;

/* A certificate expiring within this many days is warned about. */
#define CONFIG_CERT_WARN_DAYS	14

typedef void	(*config_file_fn)(void *arg, const char *path);

/* config_role_files: each file ROLE ("smtp", "auth"...) reads, to FN. */
void	config_role_files(const struct conf *, const char *role,
	    config_file_fn fn, void *arg);

/*
 * config_check: loads every file CONF names the way the roles will
 * (certificate chains and keys, whether they match and how long they
 * last; DKIM keys; the users, secrets and CA files; state redis's
 * password file and CA; the directory of a unix socket a role is
 * chrooted in: Redis's, the filter's).  Errors and
 * warnings to ERRF, each "file:line: " of the statement that named the
 * file.  0, or -1 on any error.
 */
int	config_check(const struct conf *, FILE *errf);

/*
 * config_check_change: what a reload from OLD to NEW cannot do (the
 * spool, the state directory, the user, the control socket need a
 * restart).  Errors to ERRF; 0 or -1.
 */
int	config_check_change(const struct conf *old, const struct conf *new,
	    FILE *errf);

/*
 * config_listen_same: 1 when listeners A and B (struct conf_listen)
 * are the same socket (family, address, port): a reload keeps it open.
 */
struct conf_listen;
int	config_listen_same(const struct conf_listen *, const struct conf_listen *);

#endif
