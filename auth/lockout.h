/*
 * lockout.h — brute-force lockout: after "limit auth-failures N per
 * WINDOW per ip" failed logins from one address, or for one login name,
 * further logins from it (or for it) are refused until WINDOW has passed.
 * Each lockout is logged once: event=lockout ip= user= failures=.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_LOCKOUT_H
#define AUTH_LOCKOUT_H

#include <sys/socket.h>
#include <stdint.h>

struct conf;

/* The record of a lockout in the store. */
struct lockout_rec {
	int64_t		 until_ms;	/* locked until then (ms since epoch) */
	uint32_t	 failures;
	uint32_t	 pad;
};

void	lockout_init(const struct conf *);
/* lockout_ip_locked: 1 when PEER is locked out now (*UNTIL_MS set), else 0. */
int	lockout_ip_locked(const struct sockaddr *peer, int64_t *until_ms);
/* lockout_locked: 1 when PEER or login USER is locked out now. */
int	lockout_locked(const struct sockaddr *peer, const char *user);
/* lockout_fail: a failed login for USER from PEER; may start a lockout. */
void	lockout_fail(const struct sockaddr *peer, const char *user);
/*
 * lockout_unlock: lifts the lockout of WHAT (an address, or a login name)
 * and forgets its failures.  1 when there was a lockout, 0 when not.
 */
int	lockout_unlock(const char *what);

#endif
