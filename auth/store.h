/*
 * store.h — the auth role's counters on disk: a small LMDB environment in
 * the state directory (submitd.conf "state"), so that quotas and lockouts
 * survive a restart or a crash.  Writes are not synced one by one: the
 * environment is synced every second, so a kill -9 loses at most the last
 * second of counting.  The writes of one turn of the event loop share one
 * LMDB transaction, committed at the end of that turn (before the loop
 * waits again): reads in the turn see them.  Every record starts with an
 * int64_t "expires at" (ms since the epoch); a sweep drops expired
 * records.  LMDB's lock file keeps two daemons that share a state dir
 * from corrupting it.  Used only from the auth role's event loop thread.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_STORE_H
#define AUTH_STORE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define STORE_KEY_MAX	400	/* octets; LMDB allows 511 */

/*
 * store_open: opens (creating) the environment in directory DIR and starts
 * the one-second sync and the sweep on BASE (which may be NULL: no timers,
 * for tests).  -1 on error (logged).
 */
int	store_open(const char *dir, struct event_base *base);
/* store_close: syncs and closes. */
void	store_close(void);

/* store_get: copies the record KEY into VAL (LEN octets exactly); 0, 1 if
 * there is none (or it has another size), -1 on error. */
int	store_get(const char *key, void *val, size_t len);
/* store_put: writes the record KEY; 0 or -1 (logged). */
int	store_put(const char *key, const void *val, size_t len);
/* store_del: removes KEY; 0 (also when absent) or -1. */
int	store_del(const char *key);

typedef void (*store_each_cb)(const char *key, const void *val, size_t len,
	    void *arg);
/* store_each: calls CB for every record whose key starts with PREFIX, in
 * key order; 0 or -1. */
int	store_each(const char *prefix, store_each_cb cb, void *arg);
/* store_pending: writes made in this turn and not yet committed. */
unsigned	store_pending(void);
/* store_sync: commit this turn's writes and flush to disk now; 0 or -1. */
int	store_sync(void);
/* store_sweep: drops records expired at NOW_MS; how many. */
size_t	store_sweep(int64_t now_ms);

/* store_now_ms: the wall clock in ms since the epoch. */
int64_t	store_now_ms(void);

#endif
