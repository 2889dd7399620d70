/*
 * queue.c — the queue object: creation and teardown, and the requests of
 * the SMTP session (open, commit), answered from the event loop so that a
 * callback never runs inside the call that asked for it.  The files being
 * received are queue_open.c's, the commit queue_commit.c's.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "conf/conf.h"
#include "queue/queue_id.h"
#include "queue/queue_metrics.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

static void	queue_work(evutil_socket_t, short, void *);

struct queue *
queue_new(struct event_base *base, const struct conf *conf)
{
	struct queue	*q;

	if (sodium_init() == -1) {
		log_warnx("queue: sodium_init failed");
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_warn("queue: calloc");
		return NULL;
	}
	q->base = base;
	q->conf = conf;
	q->dirfd = q->corruptfd = -1;
	TAILQ_INIT(&q->reqs);
	TAILQ_INIT(&q->committing);
	TAILQ_INIT(&q->sync_wait);
	TAILQ_INIT(&q->opens);
	TAILQ_INIT(&q->flights);
	q->ev_work = evtimer_new(base, queue_work, q);
	q->ev_sched = evtimer_new(base, queue_handoff_run, q);
	if (q->ev_work == NULL || q->ev_sched == NULL || queue_load(q) == -1) {
		queue_free(q);
		return NULL;
	}
	/* "submitctl pause relay" lasts across a restart (issue 14). */
	{
		int	 fd = openat(q->dirfd, "../" QUEUE_PAUSED_FILE,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd != -1) {
			q->relay_paused = 1;
			close(fd);
			log_warnx("event=relay-paused: nothing leaves until "
			    "submitctl resume relay");
		}
	}
	queue_metrics_start(q);
	return q;
}

void
queue_set_conf(struct queue *q, const struct conf *conf)
{
	q->conf = conf;
}

void
queue_set_signer(struct queue *q, queue_signer_fn fn, void *arg)
{
	queue_commit_signer_set(q, fn, arg);
}

void
queue_set_signer_has_key(struct queue *q, queue_signer_has_key_fn fn)
{
	q->signer_has_key = fn;
}

void
queue_set_refused_cb(struct queue *q, queue_refused_cb cb)
{
	q->refused_cb = cb;
}

void
queue_set_relay_ops(struct queue *q, const struct queue_relay_ops *ops,
    void *ctx)
{
	q->relay_ops = ops;
	q->relay_ctx = ctx;
	queue_sched_kick(q);
}

size_t
queue_count(const struct queue *q)
{
	return q->heap.n + q->nflights;
}

void
queue_free(struct queue *q)
{
	struct qreq	*r;
	struct qflight	*f;

	if (q == NULL)
		return;
	queue_commit_free(q);
	if (q->ev_work != NULL)
		event_free(q->ev_work);
	if (q->ev_sched != NULL)
		event_free(q->ev_sched);
	while ((r = TAILQ_FIRST(&q->reqs)) != NULL) {
		TAILQ_REMOVE(&q->reqs, r, entry);
		queue_env_free(&r->qe);
		free(r);
	}
	queue_open_free(q);
	while ((f = TAILQ_FIRST(&q->flights)) != NULL) {
		TAILQ_REMOVE(&q->flights, f, entry);
		queue_env_free(&f->qe);
		free(f->msg);
		free(f);
	}
	qheap_free(&q->heap);
	queue_load_free(q);
	if (q->dirfd != -1)
		close(q->dirfd);
	if (q->corruptfd != -1)
		close(q->corruptfd);
	free(q);
}

/* Requests. */

static struct qreq *
queue_req_new(struct queue *q, enum qreq_type type, void *arg)
{
	static const struct timeval	 zero = { 0, 0 };
	struct qreq			*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("queue: calloc");
	r->type = type;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&q->reqs, r, entry);
	if (!evtimer_pending(q->ev_work, NULL) &&
	    evtimer_add(q->ev_work, &zero) == -1)
		fatalx("queue: evtimer_add");
	return r;
}

void
queue_message_open(struct queue *q, queue_open_cb cb, void *arg)
{
	struct qreq	*r = queue_req_new(q, QREQ_OPEN, arg);

	r->open_cb = cb;
}

void
queue_message_commit(struct queue *q, const char *queue_id,
    const struct envelope *env, const struct queue_sign_input *sign,
    queue_commit_cb cb, void *arg)
{
	struct qreq	*r = queue_req_new(q, QREQ_COMMIT, arg);

	r->commit_cb = cb;
	r->status = QUEUE_OK;
	if (strnlen(queue_id, sizeof(r->id)) < sizeof(r->id))
		memcpy(r->id, queue_id, strlen(queue_id) + 1);
	if (!queue_id_valid(queue_id) ||
	    strcmp(env->queue_id, queue_id) != 0) {
		log_warnx("queue: commit of a bad queue id");
		r->status = QUEUE_ERR_TEMP;
		return;
	}
	if (queue_env_copy(&r->qe.env, env) == -1) {
		log_warn("msgid=%s event=error step=commit", r->id);
		r->status = QUEUE_ERR_TEMP;
		return;
	}
	if (sign != NULL) {
		r->has_sign = 1;
		r->sign = *sign;
	}
}

void
queue_message_commit_as(struct queue *q, const char *queue_id,
    const struct envelope *env, const struct queue_sign_input *sign,
    const char *senders, uint64_t grant, queue_commit_cb cb, void *arg)
{
	struct qreq	*r;

	queue_message_commit(q, queue_id, env, sign, cb, arg);
	r = TAILQ_LAST(&q->reqs, qreq_list);
	r->verify = 1;
	r->grant = grant;
	snprintf(r->senders, sizeof(r->senders), "%s", senders);
}

static void
queue_work(evutil_socket_t fd, short ev, void *arg)
{
	struct queue		*q = arg;
	struct qreq_list	 list, commits;
	struct qreq		*r;
	enum queue_status	 status;
	int			 wfd;

	(void)fd;
	(void)ev;
	TAILQ_INIT(&list);
	TAILQ_INIT(&commits);
	TAILQ_CONCAT(&list, &q->reqs, entry);
	while ((r = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, r, entry);
		if (r->type == QREQ_COMMIT) {
			TAILQ_INSERT_TAIL(&commits, r, entry);
			continue;
		}
		wfd = queue_open_file(q, r->id, &status);
		r->open_cb(r->arg, status, wfd, wfd == -1 ? "" : r->id);
		free(r);
	}
	if (!TAILQ_EMPTY(&commits))
		queue_commit_batch(q, &commits);
}
