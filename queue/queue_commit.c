/*
 * queue_commit.c — commit of accepted messages, as a pipeline:
 *
 *   on the event loop   seal (the queue's own copy of the file, ID.msg,
 *                       queue_edit.c), verify the claims (queue_verify.c)
 *   signer thread       DKIM signatures (rsa-sha256 takes a millisecond
 *                       or more: the loop keeps reading and committing)
 *   on the event loop   the envelope written to ID.env.tmp
 *   sync threads        a round: fdatasync every file of every commit
 *                       that got here while the round before ran (in
 *                       parallel: the kernel joins them into few journal
 *                       commits and disk flushes), then each ID.env.tmp
 *                       -> ID.env, then one fsync of the directory
 *   on the event loop   each commit of the round answered (the 250)
 *
 * ID.env is the commit: it is renamed into place only when both files'
 * data is on disk, and no answer goes out before the directory fsync
 * after its rename.  A crash at any point leaves either a whole committed
 * message or files that the next start removes (temporary files, and an
 * ID.msg without its ID.env).  A round never holds a commit that came after it
 * started: those wait for the next one (group commit).
 *
 * Test hooks: with SUBMITD_TEST_HOLD=1 in the environment at start, a
 * round waits before its renames while the file "sync.hold" exists at
 * the spool's top (logged once: event=test-hold what=sync), and a
 * signature waits while "sign.hold" does (event=test-hold what=sign):
 * tests/integration/test_queue_group_commit.py shows that no 250 leaves
 * before its round, and that the queue commits while a signature waits.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/queue_priv.h"
#include "queue/queue_metrics.h"
#include "lib/log.h"
#include "lib/workq.h"

#define SYNC_THREADS	4	/* fdatasyncs at once (see bench/README.md) */

/* One group commit: its requests, and how many fdatasyncs came back. */
struct qround {
	struct queue	*q;
	struct qreq	**v;
	size_t		 n, synced;
};

static void	commit_written(struct queue *, struct qreq *);
static void	round_start(struct queue *);

static void
name_of(char *buf, size_t size, const char *id, const char *suffix)
{
	snprintf(buf, size, "%s%s", id, suffix);
}

/* The answer: indexed when committed, then the caller's callback. */
static void
commit_answer(struct queue *q, struct qreq *r, enum queue_status status)
{
	struct envelope	*e = &r->qe.env;
	struct qmsg	*m;

	TAILQ_REMOVE(&q->committing, r, live);
	if (r->fd != -1)
		close(r->fd);
	if (r->envfd != -1)
		close(r->envfd);
	if (status == QUEUE_OK) {
		log_info("msgid=%s event=queued size=%llu nrcpt=%zu user=%s "
		    "from=%s", r->id, (unsigned long long)e->size, e->nrcpt,
		    log_q(e->user), log_q(e->reverse_path));
		queue_metrics_accepted(e->size);
		if ((m = calloc(1, sizeof(*m))) == NULL)
			fatal("queue: calloc");
		memcpy(m->id, r->id, sizeof(m->id));
		m->created = e->created;
		m->next_try = r->qe.next_try;
		queue_sched_add(q, m);
	}
	r->commit_cb(r->arg, status, r->id);
	free(r->hdr);
	queue_env_free(&r->qe);
	free(r);
}

/* A commit that failed before its round: its files removed, answered. */
static void
commit_fail(struct queue *q, struct qreq *r, enum queue_status status)
{
	char	 name[QUEUE_ID_SIZE + 16];

	name_of(name, sizeof(name), r->id, ".msg");	/* sealed: ours */
	unlinkat(q->dirfd, name, 0);
	if (r->envfd != -1) {
		name_of(name, sizeof(name), r->id, ".env.tmp");
		unlinkat(q->dirfd, name, 0);
	}
	commit_answer(q, r, status);
}

/* The header section that the signer signs, when verify did not read it. */
static int
commit_header(struct qreq *r, off_t size)
{
	size_t	 len = r->sign.header_len, off = 0;
	ssize_t	 n;

	if (r->hdr != NULL)	/* read and checked by queue_verify */
		return 0;
	if (len > HEADER_SECTION_MAX || (off_t)len > size) {
		log_warnx("msgid=%s event=error step=sign reason=header-size",
		    r->id);
		return -1;
	}
	if ((r->hdr = malloc(len + 1)) == NULL)
		return -1;
	while (off < len) {
		n = pread(r->fd, r->hdr + off, len - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("msgid=%s event=error step=sign", r->id);
			return -1;
		}
		off += (size_t)n;
	}
	r->hdr[len] = '\0';
	return 0;
}

/* A thread, for a test: waits while the spool's top holds file NAME. */
static void
hold_while(struct queue *q, const char *name, const char *what, size_t n)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	char		 path[64];
	int		 fd, logged = 0;

	if (!q->test_hold)
		return;
	snprintf(path, sizeof(path), "../%s", name);
	while ((fd = openat(q->dirfd, path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) != -1) {
		close(fd);
		if (!logged++)
			log_info("event=test-hold what=%s messages=%zu", what,
			    n);
		nanosleep(&ts, NULL);
	}
}

/* The signature, from what R holds alone. */
static void
sign_now(struct qreq *r)
{
	r->sign_rv = r->sign_fn(r->sign_arg, r->qe.env.from_domain, r->hdr,
	    r->sign.header_len, &r->sign, &r->qe.prefix, &r->qe.prefixlen);
}

/* Signer thread. */
static void
sign_work(void *arg)
{
	struct qreq	*r = arg;

	hold_while(r->q, "sign.hold", "sign", 1);
	sign_now(r);
}

/* Loop: the signature made. */
static void
sign_done(void *arg)
{
	struct qreq	*r = arg;
	struct queue	*q = r->q;

	free(r->hdr);
	r->hdr = NULL;
	if (r->sign_rv == -1 || r->qe.prefixlen > QUEUE_PREFIX_MAX ||
	    (r->qe.prefixlen > 0 && r->qe.prefix == NULL)) {
		log_warnx("msgid=%s event=error step=sign", r->id);
		commit_fail(q, r, queue_status_errno(EIO));
		return;
	}
	commit_written(q, r);
	round_start(q);
}

/* Loop: sealed, checked, then to the signer (or straight on). */
static void
commit_start(struct queue *q, struct qreq *r, time_t now)
{
	struct qopen	*o;
	struct stat	 st;
	int		 err;

	if ((o = queue_open_find(q, r->id)) == NULL) {
		log_warnx("msgid=%s event=error step=commit reason=not-open",
		    r->id);
		commit_answer(q, r, QUEUE_ERR_TEMP);
		return;
	}
	/* From here on, only the queue's copy: not the smtp role's file. */
	if (queue_open_seal(q, o) == -1) {
		err = errno;
		queue_message_abort(q, r->id);
		commit_answer(q, r, err == EFBIG ? QUEUE_ERR_REFUSED :
		    queue_status_errno(err));
		return;
	}
	r->fd = queue_open_take(q, r->id);
	if (fstat(r->fd, &st) == -1) {
		err = errno;
		log_warn("msgid=%s event=error step=commit", r->id);
		commit_fail(q, r, queue_status_errno(err));
		return;
	}
	r->qe.env.size = (uint64_t)st.st_size;
	if (r->qe.env.created == 0)
		r->qe.env.created = now;
	r->qe.attempts = 0;
	r->qe.next_try = now;
	if (r->verify && queue_verify(q, r, r->fd, st.st_size, &r->hdr) == -1) {
		commit_fail(q, r, QUEUE_ERR_REFUSED);
		return;
	}
	if (q->signer == NULL || !r->has_sign) {
		commit_written(q, r);
		return;
	}
	if (commit_header(r, st.st_size) == -1) {
		commit_fail(q, r, queue_status_errno(EIO));
		return;
	}
	r->sign_fn = q->signer;
	r->sign_arg = q->signer_arg;
	/* No key for the domain: no signature to wait for, no thread. */
	if (q->signer_has_key != NULL &&
	    !q->signer_has_key(q->signer_arg, r->qe.env.from_domain)) {
		sign_now(r);
		sign_done(r);
		return;
	}
	if (q->signq == NULL ||
	    workq_run(q->signq, sign_work, sign_done, r) == -1) {
		sign_now(r);		/* no thread: on the loop, as before */
		sign_done(r);
	}
}

/* Loop: the envelope beside the message, both for the next round. */
static void
commit_written(struct queue *q, struct qreq *r)
{
	int	 err;

	if ((r->envfd = queue_env_write_tmp(q->dirfd, r->id, &r->qe)) == -1) {
		err = errno;
		log_warn("msgid=%s event=error step=commit", r->id);
		commit_fail(q, r, queue_status_errno(err));
		return;
	}
	TAILQ_INSERT_TAIL(&q->sync_wait, r, entry);
}

/* Sync thread: one commit's two files on disk. */
static void
sync_work(void *arg)
{
	struct qreq	*r = arg;

	if (fdatasync(r->fd) == -1 || fdatasync(r->envfd) == -1)
		r->err = errno;
}

/* Sync thread: the envelopes renamed, then the directory; undone on failure. */
static void
round_work(void *arg)
{
	struct qround	*rd = arg;
	struct queue	*q = rd->q;
	char		 from[QUEUE_ID_SIZE + 16], to[QUEUE_ID_SIZE + 16];
	size_t		 i, renamed = 0;
	int		 err;

	hold_while(q, "sync.hold", "sync", rd->n);
	for (i = 0; i < rd->n; i++) {
		struct qreq	*r = rd->v[i];

		if (r->err != 0)
			goto fail;
		name_of(from, sizeof(from), r->id, ".env.tmp");
		name_of(to, sizeof(to), r->id, ".env");
		if (renameat(q->dirfd, from, q->dirfd, to) == -1) {
			r->err = errno;
			goto fail;
		}
		renamed++;
		continue;
 fail:
		log_warnx("msgid=%s event=error step=commit: %s", r->id,
		    strerror(r->err));
		name_of(from, sizeof(from), r->id, ".msg");
		unlinkat(q->dirfd, from, 0);
		name_of(from, sizeof(from), r->id, ".env.tmp");
		unlinkat(q->dirfd, from, 0);
	}
	if (renamed == 0 || fsync(q->dirfd) == 0)
		return;
	err = errno;
	log_warnx("queue: fsync of the spool directory: %s", strerror(err));
	for (i = 0; i < rd->n; i++) {
		struct qreq	*r = rd->v[i];

		if (r->err != 0)
			continue;
		r->err = err;
		name_of(to, sizeof(to), r->id, ".env");
		unlinkat(q->dirfd, to, 0);
		name_of(to, sizeof(to), r->id, ".msg");
		unlinkat(q->dirfd, to, 0);
	}
}

/* Loop: the round is over: every commit of it answered, the next one. */
static void
round_done(void *arg)
{
	struct qround	*rd = arg;
	struct queue	*q = rd->q;
	size_t		 i;

	q->round = NULL;
	q->sync_rounds++;
	q->sync_msgs += rd->n;
	log_debug("event=sync-round messages=%zu", rd->n);
	for (i = 0; i < rd->n; i++) {
		struct qreq	*r = rd->v[i];

		r->round = NULL;
		commit_answer(q, r, r->err ? queue_status_errno(r->err) :
		    QUEUE_OK);
	}
	free(rd->v);
	free(rd);
	round_start(q);
}

/* Loop: one commit's fdatasyncs came back; the last one ends the syncs. */
static void
sync_done(void *arg)
{
	struct qreq	*r = arg;
	struct qround	*rd = r->round;

	if (++rd->synced < rd->n)
		return;
	if (workq_run(rd->q->syncq, round_work, round_done, rd) == -1) {
		round_work(rd);
		round_done(rd);
	}
}

/* Loop: a round for every commit waiting, unless one runs. */
static void
round_start(struct queue *q)
{
	struct qround	*rd;
	struct qreq	*r;
	size_t		 n = 0, i;

	if (q->round != NULL || TAILQ_EMPTY(&q->sync_wait))
		return;
	TAILQ_FOREACH(r, &q->sync_wait, entry)
		n++;
	if ((rd = calloc(1, sizeof(*rd))) == NULL ||
	    (rd->v = calloc(n, sizeof(*rd->v))) == NULL)
		fatal("queue: calloc");
	rd->q = q;
	while ((r = TAILQ_FIRST(&q->sync_wait)) != NULL) {
		TAILQ_REMOVE(&q->sync_wait, r, entry);
		r->round = rd;
		rd->v[rd->n++] = r;
	}
	q->round = rd;
	for (i = 0; i < rd->n; i++)
		if (q->syncq == NULL ||
		    workq_run(q->syncq, sync_work, sync_done, rd->v[i]) == -1) {
			sync_work(rd->v[i]);	/* no thread: on the loop */
			sync_done(rd->v[i]);
		}
}

static void
commit_threads(struct queue *q)
{
	if (q->signq != NULL)
		return;
	/* Without them (no memory), everything runs on the loop. */
	q->signq = workq_new(q->base, 1, "queue: signer");
	q->syncq = workq_new(q->base, SYNC_THREADS, "queue: sync");
	q->test_hold = getenv("SUBMITD_TEST_HOLD") != NULL &&
	    strcmp(getenv("SUBMITD_TEST_HOLD"), "1") == 0;
}

void
queue_commit_batch(struct queue *q, struct qreq_list *list)
{
	struct qreq	*r;
	time_t		 now = time(NULL);

	commit_threads(q);
	while ((r = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, r, entry);
		r->q = q;
		r->fd = r->envfd = -1;
		TAILQ_INSERT_TAIL(&q->committing, r, live);
		if (r->status != QUEUE_OK) {
			if (r->id[0] != '\0')
				queue_message_abort(q, r->id);
			commit_answer(q, r, r->status);
			continue;
		}
		commit_start(q, r, now);
	}
	round_start(q);
}

void
queue_commit_signer_set(struct queue *q, queue_signer_fn fn, void *arg)
{
	/* Signatures under way use the old keys: let them end first. */
	if (q->signq != NULL)
		workq_drain(q->signq);
	q->signer = fn;
	q->signer_arg = arg;
}

void
queue_commit_free(struct queue *q)
{
	struct qreq	*r;

	/* The threads first: then nothing else touches a commit. */
	workq_free(q->signq);
	workq_free(q->syncq);
	q->signq = q->syncq = NULL;
	if (q->round != NULL) {
		free(q->round->v);
		free(q->round);
		q->round = NULL;
	}
	while ((r = TAILQ_FIRST(&q->committing)) != NULL) {
		TAILQ_REMOVE(&q->committing, r, live);
		if (r->fd != -1)
			close(r->fd);
		if (r->envfd != -1)
			close(r->envfd);
		free(r->hdr);
		queue_env_free(&r->qe);
		free(r);
	}
	TAILQ_INIT(&q->sync_wait);
}
