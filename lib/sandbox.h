/*
 * sandbox.h — the seccomp filter of each role (Linux): only the system
 * calls that role uses are allowed; any other kills the process, and the
 * parent reports which role died.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_SANDBOX_H
#define LIB_SANDBOX_H

/* sandbox_apply: installs ROLE's filter; fatal if it cannot. */
void	sandbox_apply(const char *role);

/*
 * sandbox_filter_unix: the filter role's socket() may also make AF_UNIX
 * sockets (its rspamd is a unix socket's); call it before sandbox_apply.
 */
void	sandbox_filter_unix(void);

#endif
