/*
 * surge.h — the rule of "alert user-surge" (issue 15 section 3): is a
 * login sending far above its own recent rate?  Its messages in the
 * current window are compared with its own average per window over the
 * baseline before it: a surge when the current count is more than
 * FACTOR times that average and at least MIN (so that a login with little
 * or no history does not alert on a handful of messages).
 *
 * The average is over the baseline's windows since the oldest one that
 * counted anything (a login whose history is shorter than the baseline,
 * new or back after a pause, is not diluted by windows before it was
 * seen); no history at all is an average of 0, so MIN alone decides.
 * Pure: the history comes from the state store (auth/state.h).
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_SURGE_H
#define AUTH_SURGE_H

#include <stddef.h>
#include <stdint.h>

struct surge_rule {
	uint64_t	 factor;	/* more than FACTOR x the average */
	uint64_t	 min;		/* and at least MIN in the window */
};

struct surge_result {
	uint64_t	 current;	/* the current window's count */
	uint64_t	 sum;		/* counted in the baseline's windows */
	uint64_t	 windows;	/* the windows averaged (0: no history) */
	uint64_t	 average_x100;	/* SUM / WINDOWS, times 100, rounded down */
};

/*
 * surge_check: HIST[0] is the current window's count, HIST[i] (1 <= i <
 * NHIST) the count i windows before.  1 when a surge, else 0; OUT (may
 * be NULL) gets the figures either way.  NHIST 0: 0.
 */
int	surge_check(const struct surge_rule *, const uint64_t *hist,
	    size_t nhist, struct surge_result *out);

#endif
