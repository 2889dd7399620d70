/*
 * queue_sched.c — the scheduler: a min-heap of messages on their next try,
 * one timer set to the earliest, and hand-off to the relay while it has
 * capacity.  The relay answers through queue_relay_done (queue_done.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "conf/conf.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

/* Wait this long when due messages wait for a relay that does nothing. */
#define SCHED_IDLE_POLL		1

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

static void	sched_run(evutil_socket_t, short, void *);

static void
sched_arm(struct queue *q, time_t delay)
{
	struct timeval	 tv = { delay < 0 ? 0 : delay, 0 };

	if (q->ev_sched == NULL &&
	    (q->ev_sched = evtimer_new(q->base, sched_run, q)) == NULL)
		fatalx("queue: evtimer_new");
	if (evtimer_add(q->ev_sched, &tv) == -1)
		fatalx("queue: evtimer_add");
}

void
queue_sched_kick(struct queue *q)
{
	if (q->relay_ops != NULL)
		sched_arm(q, 0);
}

void
queue_sched_add(struct queue *q, struct qmsg *m)
{
	if (qheap_push(&q->heap, m) == -1)
		fatal("queue: index");
	queue_sched_kick(q);
}

/* Hands M to the relay; M is out of the heap.  Settles it on failure. */
static void
sched_start(struct queue *q, struct qmsg *m, time_t now)
{
	struct qflight	*f;
	char		 name[QUEUE_ID_SIZE + 8];
	const char	*why;
	int		 fd;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("queue: calloc");
	f->msg = m;
	if (queue_env_read(q->dirfd, m->id, &f->qe, &why) == -1) {
		if (why == NULL && errno != ENOENT) {
			log_warn("msgid=%s event=error step=read", m->id);
			m->next_try = now + q->conf->queue_retry_min;
			queue_sched_add(q, m);
		} else {
			queue_corrupt(q, m->id, why ? why : "envelope gone");
			free(m);
		}
		free(f);
		return;
	}
	if (f->qe.hold) {	/* until released (submitctl release) */
		m->hold = 1;
		m->next_try = now + q->conf->queue_retry_max;
		queue_env_free(&f->qe);
		free(f);
		queue_sched_add(q, m);
		return;
	}
	snprintf(name, sizeof(name), "%s.msg", m->id);
	fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		queue_corrupt(q, m->id, "no message file");
		free(m);
		queue_env_free(&f->qe);
		free(f);
		return;
	}
	if (fd == -1 || queue_env_pending(&f->qe.env) == 0) {
		if (fd == -1)
			log_warn("msgid=%s event=error step=open", m->id);
		else
			close(fd);
		queue_settle(q, m, &f->qe, now);
		queue_env_free(&f->qe);
		free(f);
		return;
	}
	f->reqid = ++q->next_reqid;
	if (q->relay_ops->deliver(q->relay_ctx, f->reqid, fd, f->qe.prefix,
	    f->qe.prefixlen, &f->qe.env) == -1) {
		close(fd);
		log_warnx("msgid=%s event=error step=relay reason=\"no upstream "
		    "login for this sender\"", m->id);
		queue_settle(q, m, &f->qe, now);
		queue_env_free(&f->qe);
		free(f);
		return;
	}
	close(fd);
	log_debug("msgid=%s event=relay reqid=%llu attempt=%u", m->id,
	    (unsigned long long)f->reqid, m->attempts + 1);
	TAILQ_INSERT_TAIL(&q->flights, f, entry);
	q->nflights++;
}

static void
sched_run(evutil_socket_t fd, short ev, void *arg)
{
	struct queue	*q = arg;
	struct qmsg	*m;
	time_t		 now = time(NULL);

	(void)fd;
	(void)ev;
	if (q->relay_ops == NULL)
		return;
	while ((m = qheap_top(&q->heap)) != NULL && m->next_try <= now) {
		if (!q->relay_ops->has_capacity(q->relay_ctx)) {
			/* a finished delivery kicks us; poll if none is out */
			if (q->nflights == 0)
				sched_arm(q, SCHED_IDLE_POLL);
			return;
		}
		qheap_remove(&q->heap, m);
		sched_start(q, m, now);
	}
	if (m != NULL)
		sched_arm(q, m->next_try - now);
}
