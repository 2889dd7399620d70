/*
 * queue_commit.c — commit of accepted messages: seal (the queue's own copy
 * of the file, queue_edit.c), verify, sign, fsync the message,
 * rename it into place, write the envelope, fsync the directory once for
 * the whole batch, and only then answer.  A batch holds every commit that
 * reached the event loop together (group commit of the directory fsync).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/queue_priv.h"
#include "queue/queue_metrics.h"
#include "lib/log.h"

/* Reads the header section and calls the signer; 0 or -1. */
static int
commit_sign(struct queue *q, struct qreq *r, int fd, off_t size, char *hdr)
{
	struct queue_env	*qe = &r->qe;
	size_t			 len = r->sign.header_len, off = 0;
	ssize_t			 n;
	int			 rv;

	if (hdr != NULL)	/* read and checked by queue_verify */
		goto sign;
	if (len > HEADER_SECTION_MAX || (off_t)len > size) {
		log_warnx("msgid=%s event=error step=sign reason=header-size",
		    r->id);
		return -1;
	}
	if ((hdr = malloc(len + 1)) == NULL)
		return -1;
	while (off < len) {
		n = pread(fd, hdr + off, len - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("msgid=%s event=error step=sign", r->id);
			free(hdr);
			return -1;
		}
		off += (size_t)n;
	}
	hdr[len] = '\0';
sign:
	rv = q->signer(q->signer_arg, qe->env.from_domain, hdr, len,
	    &r->sign, &qe->prefix, &qe->prefixlen);
	free(hdr);
	if (rv == -1 || qe->prefixlen > QUEUE_PREFIX_MAX ||
	    (qe->prefixlen > 0 && qe->prefix == NULL)) {
		log_warnx("msgid=%s event=error step=sign", r->id);
		return -1;
	}
	return 0;
}

/* Makes ID.msg and ID.env (not yet durable: the directory is not synced). */
static enum queue_status
commit_one(struct queue *q, struct qreq *r, time_t now)
{
	char		 tmp[QUEUE_ID_SIZE + 8], msg[QUEUE_ID_SIZE + 8];
	char		*hdr = NULL;
	struct qopen	*o;
	struct stat	 st;
	int		 fd, made_msg = 0, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", r->id);
	snprintf(msg, sizeof(msg), "%s.msg", r->id);
	if ((o = queue_open_find(q, r->id)) == NULL) {
		log_warnx("msgid=%s event=error step=commit reason=not-open",
		    r->id);
		return QUEUE_ERR_TEMP;
	}
	/* From here on, only the queue's copy: not the smtp role's file. */
	if (queue_open_seal(q, o) == -1) {
		err = errno;
		queue_message_abort(q, r->id);
		return err == EFBIG ? QUEUE_ERR_REFUSED :
		    queue_status_errno(err);
	}
	fd = queue_open_take(q, r->id);
	if (fstat(fd, &st) == -1)
		goto fail;
	r->qe.env.size = (uint64_t)st.st_size;
	if (r->qe.env.created == 0)
		r->qe.env.created = now;
	r->qe.attempts = 0;
	r->qe.next_try = now;
	if (r->verify && queue_verify(q, r, fd, st.st_size, &hdr) == -1) {
		close(fd);
		unlinkat(q->dirfd, tmp, 0);
		return QUEUE_ERR_REFUSED;
	}
	if (q->signer != NULL && r->has_sign) {
		if (commit_sign(q, r, fd, st.st_size, hdr) == -1) {
			err = EIO;
			goto fail_status;
		}
	} else
		free(hdr);
	if (fsync(fd) == -1 || renameat(q->dirfd, tmp, q->dirfd, msg) == -1)
		goto fail;
	made_msg = 1;
	if (queue_env_write(q->dirfd, r->id, &r->qe, 0) == -1)
		goto fail;
	close(fd);
	return QUEUE_OK;
fail:
	err = errno;
	log_warn("msgid=%s event=error step=commit", r->id);
fail_status:
	close(fd);
	unlinkat(q->dirfd, made_msg ? msg : tmp, 0);
	return queue_status_errno(err);
}

/* Undoes a commit_one that worked, when the directory fsync failed. */
static void
commit_undo(struct queue *q, const char *id)
{
	char	 name[QUEUE_ID_SIZE + 8];

	snprintf(name, sizeof(name), "%s.env", id);
	unlinkat(q->dirfd, name, 0);
	snprintf(name, sizeof(name), "%s.msg", id);
	unlinkat(q->dirfd, name, 0);
}

static void
commit_index(struct queue *q, struct qreq *r)
{
	struct envelope	*e = &r->qe.env;
	struct qmsg	*m;

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

void
queue_commit_batch(struct queue *q, struct qreq_list *list)
{
	struct qreq		*r;
	enum queue_status	 st;
	time_t			 now = time(NULL);
	int			 made = 0;

	TAILQ_FOREACH(r, list, entry) {
		if (r->status != QUEUE_OK) {
			if (r->id[0] != '\0')
				queue_message_abort(q, r->id);
			continue;
		}
		if ((r->status = commit_one(q, r, now)) == QUEUE_OK)
			made = 1;
	}
	if (made && fsync(q->dirfd) == -1) {
		st = queue_status_errno(errno);
		log_warn("queue: fsync of the spool directory");
		TAILQ_FOREACH(r, list, entry)
			if (r->status == QUEUE_OK) {
				commit_undo(q, r->id);
				r->status = st;
			}
	}
	while ((r = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, r, entry);
		if (r->status == QUEUE_OK)
			commit_index(q, r);
		r->commit_cb(r->arg, r->status, r->id);
		queue_env_free(&r->qe);
		free(r);
	}
}
