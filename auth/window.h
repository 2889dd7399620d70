/*
 * window.h — rate windows as a leaky bucket ("N per WINDOW"): every event
 * pours WINDOW into the bucket, which holds N * WINDOW and drains N per
 * millisecond.  So N events fit in any burst, a full bucket is empty again
 * WINDOW later, and the arithmetic is exact in integers (no rounding of
 * WINDOW / N).  Pure functions: the caller keeps the state and the clock.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_WINDOW_H
#define AUTH_WINDOW_H

#include <stdint.h>

/* The state of one counter, stored as is (auth/store.h). */
struct window {
	int64_t		 idle_ms;	/* the bucket is empty from then on */
	int64_t		 last_ms;	/* when LEVEL was last updated */
	uint64_t	 level_hi;	/* 128-bit level: ms * count units */
	uint64_t	 level_lo;
};

/* A limit: COUNT events per WINDOW_MS milliseconds; COUNT 0: no limit. */
struct window_rate {
	uint64_t	 count;
	int64_t		 window_ms;
};

#define WINDOW_NEVER	INT64_MAX	/* a wait that no time ends */

/*
 * window_check: may N more events happen at NOW_MS?  1 yes, 0 no; when no,
 * *WAIT_MS (may be NULL) is how long until they may (rounded up), or
 * WINDOW_NEVER when N alone is over the limit.  Does not change W.
 */
int	 window_check(const struct window *w, const struct window_rate *r,
	    uint64_t n, int64_t now_ms, int64_t *wait_ms);
/* window_charge: counts N events at NOW_MS, over the limit or not. */
void	 window_charge(struct window *w, const struct window_rate *r,
	    uint64_t n, int64_t now_ms);
/* window_refund: gives back N events counted earlier (a reservation
 * not used); never below empty. */
void	 window_refund(struct window *w, const struct window_rate *r,
	    uint64_t n, int64_t now_ms);
/* window_used: events still counted at NOW_MS (rounded up), 0..count+. */
uint64_t window_used(const struct window *w, const struct window_rate *r,
	    int64_t now_ms);

#endif
