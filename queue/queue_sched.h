/*
 * queue_sched.h — the scheduler: an in-memory index of queued messages
 * (a min-heap on next try), one libevent timer on the earliest, and the
 * retry arithmetic (queue_sched.c); hand-off to the relay as it has
 * capacity (queue_handoff.c).
 *
 * queue/: the spool, its scheduler and the signing at commit.  Knows
 * nothing of SMTP sessions, IPC or the roles; it reaches the relay through
 * struct queue_relay_ops.
 */
#ifndef QUEUE_QUEUE_SCHED_H
#define QUEUE_QUEUE_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/submitd.h"

struct queue;

/*
 * One queued message in memory: the envelope's recipients stay on disk
 * and are read when the message is due.
 */
struct qmsg {
	char		 id[QUEUE_ID_SIZE];
	uint32_t	 attempts;
	time_t		 created;
	time_t		 next_try;
	int		 hold;		/* held by the operator (submitctl) */
	size_t		 slot;		/* index in the heap */
};

/* A heap of struct qmsg ordered by (next_try, id). */
struct qheap {
	struct qmsg	**v;
	size_t		 n, cap;
};

/* qheap_push: 0, or -1 on allocation failure (M not added). */
int		 qheap_push(struct qheap *, struct qmsg *m);
/* qheap_top: the earliest message, or NULL when empty. */
struct qmsg	*qheap_top(const struct qheap *);
/* qheap_pop: removes and returns the earliest, or NULL when empty. */
struct qmsg	*qheap_pop(struct qheap *);
/* qheap_remove: removes M (which must be in the heap). */
void		 qheap_remove(struct qheap *, struct qmsg *m);
/* qheap_free: frees every message and the array. */
void		 qheap_free(struct qheap *);

/*
 * queue_backoff: seconds to wait after ATTEMPTS failed attempts (>= 1):
 * RETRY_MIN doubled per attempt after the first, capped at RETRY_MAX, then
 * moved by RND per mille in [-100, +100] (+-10% jitter); never below 1.
 */
time_t		 queue_backoff(time_t retry_min, time_t retry_max,
		    uint32_t attempts, int rnd_permille);

/*
 * queue_sched_arm: run the hand-off (queue_handoff_run) in DELAY seconds
 * (0 or less: at the next turn of the event loop).
 */
void		 queue_sched_arm(struct queue *, time_t delay);
/* queue_sched_kick: run the scheduler from the event loop soon (0 s). */
void		 queue_sched_kick(struct queue *);
/* queue_sched_add: index M (now owned by the queue) and kick. */
void		 queue_sched_add(struct queue *, struct qmsg *m);

#endif
