/*
 * pace.h — "relay limit messages N per WINDOW [total]" kept in the state
 * store (issue 12 item 5), so that a restart, even kill -9, forgets
 * nothing: a sliding log of the times messages left, per upstream login
 * and across all of them, never more than N in any WINDOW.  The relay
 * role asks before each message leaves; the auth role answers.  The log
 * lives in the LMDB store (synced every second); with "state redis" in
 * Redis (issue 17: auth/state.h state_slot_take, one atomic take shared by
 * every instance), and when Redis cannot answer the answer is "wait"
 * (pacing fails closed: the mail waits in the queue, nothing is lost).
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_PACE_H
#define AUTH_PACE_H

#include <stdint.h>

#include "conf/conf.h"

struct conf;

#define PACE_LOG_MAX	CONF_RELAY_MESSAGES_MAX	/* times kept per log */

/* pace_init: the limits of CONF (kept). */
void	pace_init(const struct conf *);
/*
 * pace_take: may one more message leave for upstream LOGIN now?  CB gets
 * FITS 1, and it is counted (per login and in total); or 0 with WAIT_MS
 * until it may (or until it is worth asking again).  CB is called before
 * pace_take returns (LMDB) or after a round trip (Redis).
 */
typedef void (*pace_cb)(void *arg, int fits, int64_t wait_ms);
void	pace_take(const char *login, pace_cb cb, void *arg);

#endif
