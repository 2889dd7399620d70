/*
 * queue.c — the queue object: creation and teardown, and the requests of
 * the SMTP session (open, commit, abort), answered from the event loop so
 * that a callback never runs inside the call that asked for it.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "conf/conf.h"
#include "queue/queue_id.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

static void	queue_work(evutil_socket_t, short, void *);

enum queue_status
queue_status_errno(int err)
{
	return (err == ENOSPC || err == EDQUOT) ? QUEUE_ERR_NOSPACE :
	    QUEUE_ERR_TEMP;
}

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
	TAILQ_INIT(&q->opens);
	TAILQ_INIT(&q->flights);
	q->ev_work = evtimer_new(base, queue_work, q);
	q->ev_sched = NULL;
	if (q->ev_work == NULL || queue_load(q) == -1) {
		queue_free(q);
		return NULL;
	}
	return q;
}

void
queue_set_signer(struct queue *q, queue_signer_fn fn, void *arg)
{
	q->signer = fn;
	q->signer_arg = arg;
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
	struct qopen	*o;
	struct qflight	*f;
	char		 name[QUEUE_ID_SIZE + 8];

	if (q == NULL)
		return;
	if (q->ev_work != NULL)
		event_free(q->ev_work);
	if (q->ev_sched != NULL)
		event_free(q->ev_sched);
	while ((r = TAILQ_FIRST(&q->reqs)) != NULL) {
		TAILQ_REMOVE(&q->reqs, r, entry);
		queue_env_free(&r->qe);
		free(r);
	}
	while ((o = TAILQ_FIRST(&q->opens)) != NULL) {
		TAILQ_REMOVE(&q->opens, o, entry);
		close(o->fd);
		snprintf(name, sizeof(name), "%s.tmp", o->id);
		unlinkat(q->dirfd, name, 0);
		free(o);
	}
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

static struct qopen *
queue_open_find(struct queue *q, const char *id)
{
	struct qopen	*o;

	TAILQ_FOREACH(o, &q->opens, entry)
		if (strcmp(o->id, id) == 0)
			return o;
	return NULL;
}

void
queue_message_abort(struct queue *q, const char *queue_id)
{
	struct qopen	*o;
	char		 name[QUEUE_ID_SIZE + 8];

	if ((o = queue_open_find(q, queue_id)) == NULL) {
		log_warnx("queue: abort of an unknown queue id");
		return;
	}
	TAILQ_REMOVE(&q->opens, o, entry);
	close(o->fd);
	snprintf(name, sizeof(name), "%s.tmp", o->id);
	if (unlinkat(q->dirfd, name, 0) == -1 && errno != ENOENT)
		log_warn("msgid=%s event=error step=abort", o->id);
	log_debug("msgid=%s event=aborted", o->id);
	free(o);
}

/*
 * Free space a new message needs in the spool before it is even written:
 * below it, the client gets 452 4.3.1 at once rather than a write error
 * in the middle of DATA, and what is queued keeps room for its envelope
 * rewrites and the bounces.
 */
#define QUEUE_SPACE_RESERVE	(256 * 1024)	/* octets */

/* 0 when the spool has room for a new message; -1 with errno ENOSPC. */
static int
queue_space_ok(struct queue *q)
{
	struct statvfs	 st;

	if (fstatvfs(q->dirfd, &st) == -1)
		return 0;	/* cannot tell: let the writes say */
	if ((uint64_t)st.f_bavail * st.f_frsize < QUEUE_SPACE_RESERVE ||
	    (st.f_files > 0 && st.f_favail < 16)) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* Creates queue/ID.tmp; the writable fd, or -1 with *STATUS set. */
static int
queue_open_file(struct queue *q, char id[QUEUE_ID_SIZE],
    enum queue_status *status)
{
	struct qopen	*o;
	char		 name[QUEUE_ID_SIZE + 8];
	int		 fd = -1, tries;

	if (queue_space_ok(q) == -1) {
		*status = QUEUE_ERR_NOSPACE;
		log_warnx("queue: event=spool-full reason=\"less than %d KiB "
		    "free: new messages get 452 4.3.1\"", QUEUE_SPACE_RESERVE / 1024);
		return -1;
	}
	for (tries = 0; tries < 8 && fd == -1; tries++) {
		queue_id_new(id);
		snprintf(name, sizeof(name), "%s.tmp", id);
		fd = openat(q->dirfd, name, O_CREAT | O_EXCL | O_WRONLY |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1)
		goto fail;
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC)) == -1) {
		free(o);
		close(fd);
		unlinkat(q->dirfd, name, 0);
		goto fail;
	}
	memcpy(o->id, id, QUEUE_ID_SIZE);
	TAILQ_INSERT_TAIL(&q->opens, o, entry);
	*status = QUEUE_OK;
	return fd;
fail:
	*status = queue_status_errno(errno);
	log_warn("queue: cannot create a message file");
	return -1;
}

int
queue_open_take(struct queue *q, const char *id)
{
	struct qopen	*o;
	int		 fd;

	if ((o = queue_open_find(q, id)) == NULL)
		return -1;
	TAILQ_REMOVE(&q->opens, o, entry);
	fd = o->fd;
	free(o);
	return fd;
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
