/*
 * lockout.h — brute-force lockout: after "limit auth-failures N per
 * WINDOW per ip" failed logins from one network (an IPv4 address, an
 * IPv6 /64: "limit ipv6-prefix"), or for one login name, further logins
 * from it (or for it) are refused until WINDOW has passed.  Each lockout
 * is logged once: event=lockout ip= user= failures=.
 *
 * Issue 12 item 3: before the hard lock, "limit auth-delay D" (default
 * 1s, "off": none) makes each failure of a (login, network) pair and of
 * a network hold the next login of that pair (network) back for D, 2D,
 * 4D ... (at most WINDOW):
 * AUTH gets 454 4.7.0 without a verification until then.  A login is
 * trusted, and no lockout or delay refuses it, from the account's users
 * file from= range, or from an address that logged in to it within
 * "limit auth-remember" (kept in the state store: "ok/ADDR LOGIN"), so
 * that a brute-force run from elsewhere never locks the owner out of
 * their usual address.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_LOCKOUT_H
#define AUTH_LOCKOUT_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct conf;

/* The record of a lockout in the store. */
struct lockout_rec {
	int64_t		 until_ms;	/* locked until then (ms since epoch) */
	uint32_t	 failures;
	uint32_t	 pad;
};

/*
 * The answer to a lockout check: LOCKED 1 when a lockout is in force
 * (until UNTIL_MS, NOW_MS the store's clock), DOWN 1 when the store could
 * not say (the caller applies its fail mode).
 */
typedef void (*lockout_cb)(void *arg, int locked, int down, int64_t now_ms,
	    int64_t until_ms);

void	lockout_init(const struct conf *);
/* lockout_ip_check: is PEER locked out?  Answers through CB, maybe at once. */
void	lockout_ip_check(const struct sockaddr *peer, lockout_cb cb, void *arg);
/*
 * lockout_check: is PEER or login USER locked out (or held back by a
 * delay)?  The same.  TRUSTED 1: PEER is inside USER's from= range
 * (never locked out); else the store says whether PEER logged in to USER
 * lately.
 */
void	lockout_check(const struct sockaddr *peer, const char *user,
	    int trusted, lockout_cb cb, void *arg);
/*
 * lockout_success: USER logged in from PEER: the address is remembered
 * for the login ("limit auth-remember") and the pair's delay forgotten.
 */
void	lockout_success(const struct sockaddr *peer, const char *user);
/*
 * lockout_fail: a failed login for USER from PEER; may start a lockout.
 * DONE(ARG) (may be NULL) once it is counted and any lockout written, so
 * that the refusal goes out only when every instance would see it.
 */
void	lockout_fail(const struct sockaddr *peer, const char *user,
	    void (*done)(void *), void *arg);
/*
 * lockout_fail_addr: the same for a login refused by its users-file
 * from= (issue 12 item 3): counted against the address only, so that
 * nobody outside an account's from= range can lock the account.
 */
void	lockout_fail_addr(const struct sockaddr *peer, const char *user,
	    void (*done)(void *), void *arg);
/*
 * lockout_unlock: lifts the lockout of WHAT (an address, or a login name)
 * and forgets its failures.  1 when there was a lockout, 0 when not, -1
 * when the store is shared and cannot say at once (the lockout is lifted
 * all the same).
 */
int	lockout_unlock(const char *what);
/*
 * lockout_net_of: the network an address WHAT is counted under (an IPv6
 * address: its /prefix), WHAT itself when it is no address; in BUF.
 */
const char *lockout_net_of(const char *what, char *buf, size_t size);
/* lockout_user_locked: 1 when login USER is locked out now (LMDB only:
 * 0 with a shared store, for "submitctl show limits"). */
int	lockout_user_locked(const char *user);

#endif
