/*
 * hist.h — a history of counts per time bucket (issue 15, alert
 * user-surge): buckets BUCKET_MS long, aligned on the clock (bucket i
 * covers [i * BUCKET_MS, (i + 1) * BUCKET_MS)), the newest NBUCKETS kept:
 * the current one and those before it.  Older buckets fall off as time
 * goes on, and the whole record expires once its newest bucket is older
 * than that, so what one key holds is bounded.  Pure functions: the
 * caller keeps the record and the clock (the LMDB side of auth/state.h;
 * Redis does the same in its script).
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_HIST_H
#define AUTH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_MAX	201	/* buckets one history keeps, at most */

/* The record as stored: only the first NBUCKETS of COUNTS are. */
struct hist {
	int64_t		 expires_ms;	/* first: the store's sweep reads it */
	int64_t		 bucket_ms;
	int64_t		 newest;	/* the bucket COUNTS[0] is */
	uint64_t	 nbuckets;
	uint64_t	 counts[HIST_MAX];	/* [i]: bucket NEWEST - i */
};

/* hist_size: the octets of a record of NBUCKETS buckets. */
size_t	hist_size(unsigned nbuckets);
/*
 * hist_add: counts N events (0: none, a look) at NOW_MS in H, a record
 * of BUCKET_MS and NBUCKETS (1 to HIST_MAX); a record of another shape,
 * or an empty one, starts afresh.  A clock that went back counts in the
 * newest bucket.  Then OUT[0..NBUCKETS-1] (may be NULL): the current
 * bucket's count, then each earlier one's.  -1 (H untouched) when
 * BUCKET_MS, NBUCKETS or NOW_MS is out of range; else 0.
 */
int	hist_add(struct hist *h, int64_t bucket_ms, unsigned nbuckets,
	    uint64_t n, int64_t now_ms, uint64_t *out);

#endif
