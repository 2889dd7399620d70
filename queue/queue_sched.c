/*
 * queue_sched.c — the scheduler's index: a min-heap of messages on their
 * next try, the retry arithmetic, and the timer that runs the hand-off
 * (queue_handoff.c) when the earliest is due.  Calls nothing else of the
 * queue: the timer's callback is given by queue_new.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "queue/queue_priv.h"
#include "lib/log.h"

/* The heap. */

static int
qmsg_before(const struct qmsg *a, const struct qmsg *b)
{
	if (a->next_try != b->next_try)
		return a->next_try < b->next_try;
	return strcmp(a->id, b->id) < 0;
}

static void
heap_set(struct qheap *h, size_t i, struct qmsg *m)
{
	h->v[i] = m;
	m->slot = i;
}

static void
heap_up(struct qheap *h, size_t i)
{
	struct qmsg	*m = h->v[i];

	while (i > 0 && qmsg_before(m, h->v[(i - 1) / 2])) {
		heap_set(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, m);
}

static void
heap_down(struct qheap *h, size_t i)
{
	struct qmsg	*m = h->v[i];
	size_t		 c;

	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && qmsg_before(h->v[c + 1], h->v[c]))
			c++;
		if (!qmsg_before(h->v[c], m))
			break;
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, m);
}

int
qheap_push(struct qheap *h, struct qmsg *m)
{
	struct qmsg	**nv;
	size_t		  ncap;

	if (h->n == h->cap) {
		ncap = h->cap ? h->cap * 2 : 64;
		if ((nv = reallocarray(h->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		h->v = nv;
		h->cap = ncap;
	}
	heap_set(h, h->n++, m);
	heap_up(h, h->n - 1);
	return 0;
}

struct qmsg *
qheap_top(const struct qheap *h)
{
	return h->n ? h->v[0] : NULL;
}

void
qheap_remove(struct qheap *h, struct qmsg *m)
{
	struct qmsg	*last;
	size_t		 i = m->slot;

	if (--h->n == i)
		return;
	last = h->v[h->n];
	heap_set(h, i, last);
	heap_down(h, i);
	heap_up(h, last->slot);
}

struct qmsg *
qheap_pop(struct qheap *h)
{
	struct qmsg	*m = qheap_top(h);

	if (m != NULL)
		qheap_remove(h, m);
	return m;
}

void
qheap_free(struct qheap *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		free(h->v[i]);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

/* Retry arithmetic. */

time_t
queue_backoff(time_t retry_min, time_t retry_max, uint32_t attempts,
    int rnd_permille)
{
	time_t		 d = retry_min > 0 ? retry_min : 1;
	uint32_t	 i;

	if (retry_max < d)
		retry_max = d;
	for (i = 1; i < attempts && d < retry_max; i++)
		d = d > retry_max / 2 ? retry_max : d * 2;
	if (d > retry_max)
		d = retry_max;
	if (rnd_permille < -100)
		rnd_permille = -100;
	if (rnd_permille > 100)
		rnd_permille = 100;
	d += d / 1000 * rnd_permille + d % 1000 * rnd_permille / 1000;
	return d < 1 ? 1 : d;
}

/* Running the scheduler. */

void
queue_sched_arm(struct queue *q, time_t delay)
{
	struct timeval	 tv = { delay < 0 ? 0 : delay, 0 };

	if (evtimer_add(q->ev_sched, &tv) == -1)
		fatalx("queue: evtimer_add");
}

void
queue_sched_kick(struct queue *q)
{
	if (q->relay_ops != NULL)
		queue_sched_arm(q, 0);
}

void
queue_sched_add(struct queue *q, struct qmsg *m)
{
	if (qheap_push(&q->heap, m) == -1)
		fatal("queue: index");
	queue_sched_kick(q);
}
