/*
 * abuse.h — what each login sends, watched (issue 15 section 3): the
 * signature of a stolen password is a login sending far more than it
 * does; "alert user-messages N per WINDOW [hold]" and "alert
 * user-recipients N per WINDOW [hold]" log one event=alert line per login
 * and window past N, and with "hold" the login is held: its MAIL gets
 * 451 4.7.1 and its queued mail is held (through the callback) until
 * "submitctl release-user LOGIN".  "alert user-surge FACTORx per WINDOW
 * over BASELINE [min N] [hold]" compares a login's messages in the
 * current window with its own average per window before it (the rule in
 * auth/surge.h; the history per login in the state store, "surge/LOGIN",
 * so that with Redis every instance counts into the same one), one line
 * per login and window.  Also the per-login totals of the
 * metrics endpoint, for the top N logins only ("metrics top-users N").
 *
 * Counted when the queue has committed a message (the auth role's quota
 * settle), so only mail that was accepted counts.  Held logins live in
 * the state store (below): a reload or restart keeps them.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_ABUSE_H
#define AUTH_ABUSE_H

#include <stdint.h>
#include <time.h>

struct conf;
struct evbuffer;

/* Called once when USER gets held automatically. */
typedef void (*abuse_hold_cb)(const char *user);

/* abuse_init: the limits of CONF (kept; again after a reload), and CB. */
void	abuse_init(const struct conf *, abuse_hold_cb cb);
/* abuse_sent: USER's message of NRCPT recipients, SIZE octets, committed. */
void	abuse_sent(const char *user, uint64_t nrcpt, uint64_t size, time_t now);
/*
 * abuse_refused: the upstream refused (5xx) N recipients of USER's mail
 * ("alert user-refused-recipients N per WINDOW [hold]").
 */
void	abuse_refused(const char *user, uint64_t n, time_t now);
/* abuse_held: 1 when USER is held (its MAIL is refused). */
int	abuse_held(const char *user);
/*
 * Held logins live in the state store too (auth/state.h: LMDB or Redis,
 * a lock record "held/LOGIN"), so a restart or kill -9 does not release
 * them and, with Redis, every instance holds them.  ABUSE_HELD_CB gets 1
 * when USER is held.
 */
typedef void (*abuse_held_cb)(void *arg, int held);
/*
 * abuse_held_check: is USER held?  Asks the store when an alert has hold
 * (or a hold is known), else answers 0 at once; the store down: what
 * this instance knows.
 */
void	abuse_held_check(const char *user, abuse_held_cb cb, void *arg);
/* abuse_release_user: USER no longer held (store and memory); CB gets 1
 * if it was. */
void	abuse_release_user(const char *user, abuse_held_cb cb, void *arg);
/* abuse_load: after state_open, the holds kept in an LMDB store. */
void	abuse_load(void);
/* abuse_held_list: the held logins, one a line ("" when none), to OUT. */
void	abuse_held_print(struct evbuffer *out, int json);
/* abuse_metrics_print: alert counters, held logins, the top N logins. */
void	abuse_metrics_print(struct evbuffer *out);

#endif
