/*
 * state.h — the auth role's counters and lockouts behind one interface,
 * with two implementations: the embedded LMDB store (auth/store.h, the
 * default, submitd.conf "state DIR") and Redis (auth/state_redis.c,
 * "state redis URL"), which several instances share.  Nothing above this
 * interface knows which one is in use.
 *
 * Every operation answers through a callback: at once, before the call
 * returns, for LMDB; after a round trip for Redis.  Callers must accept
 * both.  A callback may be NULL (fire and forget).  An answer with DOWN
 * set means the store could not answer: the caller applies its fail mode
 * (submitd.conf "state redis ... quotas fail open|closed").
 *
 * Rates are the leaky buckets of auth/window.h ("N per WINDOW"); one
 * operation on one key is atomic across every instance sharing the store,
 * so a TAKE of the last slot succeeds for exactly one of them.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_STATE_H
#define AUTH_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "auth/hist.h"
#include "auth/window.h"

struct conf;
struct event_base;

enum state_op {
	STATE_PEEK,	/* would N more fit?  Changes nothing */
	STATE_TAKE,	/* count N when they fit, else nothing (a reservation) */
	STATE_ADD,	/* count N, over the limit or not (a charge) */
	STATE_GIVE,	/* uncount N counted earlier (a reservation not used) */
};

struct state_answer {
	int		 down;		/* 1: no answer; nothing below is set */
	int		 fits;		/* window: the N fitted (TAKE: taken) */
	int64_t		 wait_ms;	/* window, !fits: until they would fit,
					 * WINDOW_NEVER when N alone is over */
	uint64_t	 used;		/* window: counted now, after the op */
	int64_t		 now_ms;	/* the store's clock at the op */
	int64_t		 until_ms;	/* lock: in force until then, 0: none */
	uint32_t	 failures;	/* lock: the failures that started it */
	const uint64_t	*hist;		/* history: NHIST counts, the current
					 * bucket's first; valid in the
					 * callback only */
	size_t		 nhist;
};

typedef void (*state_cb)(void *arg, const struct state_answer *);

/*
 * state_open: the store CONF names (LMDB in conf->state_dir, or Redis),
 * its timers on BASE (may be NULL for tests: LMDB only).  Opened before
 * the role's chroot and filter.  -1 on error (logged).
 */
int	state_open(const struct conf *, struct event_base *base);
void	state_close(void);
/* state_shared: 1 when the store is shared between instances (Redis). */
int	state_shared(void);

/* state_window: OP on the rate window KEY under rate R with N events. */
void	state_window(const char *key, const struct window_rate *r,
	    enum state_op op, uint64_t n, state_cb cb, void *arg);
/*
 * state_slot_take: "at most R->count starts in any R->window_ms" on KEY,
 * and, when KEY2 is not NULL, under R2 on KEY2 too (a log of start times,
 * not a bucket: what the smarthost pacing promises).  One start is taken
 * in both logs when it fits in both (FITS, atomic across instances), else
 * none and WAIT_MS until it would.  Shared stores only (Redis): the LMDB
 * store answers DOWN (auth/pace.c keeps its own logs there).
 */
void	state_slot_take(const char *key, const struct window_rate *r,
	    const char *key2, const struct window_rate *r2, state_cb cb,
	    void *arg);
/* state_lock_get: the lock KEY (until_ms 0: none in force). */
void	state_lock_get(const char *key, state_cb cb, void *arg);
/* state_lock_set: locks KEY for LOCK_MS from now (the store's clock). */
void	state_lock_set(const char *key, int64_t lock_ms, uint32_t failures,
	    state_cb cb, void *arg);
/*
 * state_hist_add: counts N events (0: a look) in the current bucket of
 * the history KEY (auth/hist.h: buckets of BUCKET_MS aligned on the
 * store's clock, NBUCKETS kept, 1 to HIST_MAX, expiring with the newest);
 * the answer's HIST: the current bucket's count, N included, then each
 * earlier one's (NHIST is NBUCKETS).  A history of another shape (the
 * config changed) starts afresh.
 */
void	state_hist_add(const char *key, int64_t bucket_ms, unsigned nbuckets,
	    uint64_t n, state_cb cb, void *arg);
/* state_del: forgets KEY (window, lock or history). */
void	state_del(const char *key, state_cb cb, void *arg);

#endif
