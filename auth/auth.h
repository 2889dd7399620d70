/*
 * auth.h — login checks for the SMTP session (RFC 4954), answered
 * asynchronously: the Argon2id verification (tens of milliseconds on
 * purpose) runs on worker threads, off the event loop, so one login never
 * stalls other sessions.  Shaped as a request/reply pair so that it can
 * move into its own process behind a socketpair.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <sys/socket.h>

#include "lib/submitd.h"

struct event_base;
struct conf;
struct users;

struct auth_reply {
	int	 ok;		/* 1: credentials good; 0: bad; AUTH_LOCKED */
	char	 user[AUTH_USER_MAX + 1];	/* login name as in the table */
	char	 senders[AUTH_SENDERS_MAX];	/* the user's sender patterns */
	uint64_t grant;		/* the grant made for this login (grant.h);
				   0 from auth_login, set by the role */
};

#define AUTH_LOCKED	2	/* too many failures: 454 4.7.0, not checked */

typedef void (*auth_login_cb)(void *arg, const struct auth_reply *);

/*
 * auth_init: the auth service on BASE for USERS (which it keeps; freed by
 * auth_shutdown).  Starts its worker threads.  -1 on error (logged).
 */
int	auth_init(struct event_base *, const struct conf *, struct users *);
/* auth_shutdown: stops the workers, drops pending requests, frees USERS. */
void	auth_shutdown(void);
/*
 * auth_reload (issue 14): CONF's limits and USERS (owned from here on)
 * take over; the old table is freed and the login cache dropped.  The
 * counters (quotas, lockouts) are state and stay.
 */
void	auth_reload(const struct conf *, struct users *);


/*
 * auth_login: checks USER and PASSWORD (copied and wiped after use) for a
 * client at PEER.  CB runs later on the event loop, never from inside this
 * call, exactly once.  An unknown user costs the same time as a wrong
 * password (a dummy hash is verified).  A login from an address outside
 * the user's from= list fails like a bad password.  -1 on allocation
 * failure (CB will not run).  While PEER or USER is locked out
 * (auth/lockout.h) the answer is AUTH_LOCKED, without a verification;
 * every failure counts towards a lockout.  Logins identical to one being
 * verified (same USER, PASSWORD and stored hash) wait for its verdict
 * instead of running their own; each is still checked for its own PEER,
 * counted and answered on its own.
 */
int	auth_login(const char *user, const char *password,
	    const struct sockaddr *peer, auth_login_cb cb, void *arg);

#endif
