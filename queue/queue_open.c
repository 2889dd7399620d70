/*
 * queue_open.c — the files of messages being received (queue/ID.tmp):
 * created for the SMTP session on room in the spool, taken by the commit,
 * removed on abort.  Below queue.c (the requests) and queue_commit.c.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/queue_id.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

enum queue_status
queue_status_errno(int err)
{
	return (err == ENOSPC || err == EDQUOT) ? QUEUE_ERR_NOSPACE :
	    QUEUE_ERR_TEMP;
}

struct qopen *
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
int
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

void
queue_open_free(struct queue *q)
{
	struct qopen	*o;
	char		 name[QUEUE_ID_SIZE + 8];

	while ((o = TAILQ_FIRST(&q->opens)) != NULL) {
		TAILQ_REMOVE(&q->opens, o, entry);
		close(o->fd);
		snprintf(name, sizeof(name), "%s.tmp", o->id);
		unlinkat(q->dirfd, name, 0);
		free(o);
	}
}
