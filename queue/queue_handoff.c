/*
 * queue_handoff.c — what is due goes to the relay: run by the scheduler's
 * timer (queue_sched.c), it reads each due message's envelope, opens its
 * file and hands both to the relay while the relay has capacity.  The
 * relay answers through queue_relay_done (queue_done.c); an attempt that
 * cannot start is settled there at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/conf.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

/* Wait this long when due messages wait for a relay that does nothing. */
#define SCHED_IDLE_POLL		1

/* Hands M to the relay; M is out of the heap.  Settles it on failure. */
static void
handoff_start(struct queue *q, struct qmsg *m, time_t now)
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

void
queue_handoff_run(evutil_socket_t fd, short ev, void *arg)
{
	struct queue	*q = arg;
	struct qmsg	*m;
	time_t		 now = time(NULL);

	(void)fd;
	(void)ev;
	if (q->relay_ops == NULL || q->relay_paused)
		return;		/* resume relay arms the scheduler again */
	while ((m = qheap_top(&q->heap)) != NULL && m->next_try <= now) {
		if (!q->relay_ops->has_capacity(q->relay_ctx)) {
			/* a finished delivery kicks us; poll if none is out */
			if (q->nflights == 0)
				queue_sched_arm(q, SCHED_IDLE_POLL);
			return;
		}
		qheap_remove(&q->heap, m);
		handoff_start(q, m, now);
	}
	if (m != NULL)
		queue_sched_arm(q, m->next_try - now);
}
