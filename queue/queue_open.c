/*
 * queue_open.c — the files of messages being received: created for the
 * SMTP session on room in the spool, taken by the commit, dropped on
 * abort.  Below queue.c (the requests) and queue_commit.c.
 *
 * The smtp role's file has no name (O_TMPFILE, or created and unlinked
 * at once where the file system lacks it): nothing to rename or unlink
 * per message, and nothing left behind by a crash.  Once copied (or
 * aborted) it is emptied and handed out again, up to QUEUE_SPARE_WRITERS
 * of them: an inode allocated and freed per message is what the file
 * system pays most for (ext4 without a journal scans past every inode
 * freed in the last seconds).  The smtp role that wrote it may still
 * hold it; it writes every message anyway, so it gains nothing, and a
 * spare that is not empty when taken is dropped.  The seal
 * (queue_edit.c) copies it into ID.msg, the queue's own file, which the
 * commit keeps when it writes ID.env beside it.
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
	if (o->sealed) {
		close(o->fd);
		snprintf(name, sizeof(name), "%s.msg", o->id);
		if (unlinkat(q->dirfd, name, 0) == -1 && errno != ENOENT)
			log_warn("msgid=%s event=error step=abort", o->id);
	} else
		queue_writer_done(q, o->fd);
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

/*
 * A new file without a name in the spool, open for reading and writing:
 * O_TMPFILE, or where the file system refuses it, ID.tmp created and
 * unlinked at once.  The fd, or -1 with errno set.
 */
static int
anonymous_file(struct queue *q, char id[QUEUE_ID_SIZE])
{
	char	 name[QUEUE_ID_SIZE + 8];
	int	 fd, tries;

	fd = openat(q->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	for (tries = 0, fd = -1; tries < 8 && fd == -1; tries++) {
		if (tries > 0)
			queue_id_new(id);
		snprintf(name, sizeof(name), "%s.tmp", id);
		fd = openat(q->dirfd, name, O_CREAT | O_EXCL | O_RDWR |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			return -1;
	}
	if (fd != -1 && unlinkat(q->dirfd, name, 0) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
queue_writer_done(struct queue *q, int fd)
{
	/* The offset is set when it is handed out again (spare_file). */
	if (q->nspare < QUEUE_SPARE_WRITERS && ftruncate(fd, 0) == 0)
		q->spare[q->nspare++] = fd;
	else
		close(fd);
}

/* A spare writer's file, empty and at offset 0; or -1. */
static int
spare_file(struct queue *q)
{
	struct stat	 st;
	int		 fd;

	while (q->nspare > 0) {
		fd = q->spare[--q->nspare];
		if (fstat(fd, &st) == 0 && st.st_size == 0 &&
		    lseek(fd, 0, SEEK_SET) == 0)
			return fd;
		close(fd);	/* written since: not handed out again */
	}
	return -1;
}

/* A new message file under a new queue ID; its writable fd, or -1. */
int
queue_open_file(struct queue *q, char id[QUEUE_ID_SIZE],
    enum queue_status *status)
{
	struct qopen	*o;
	int		 fd = -1, wfd = -1;

	if (queue_space_ok(q) == -1) {
		*status = QUEUE_ERR_NOSPACE;
		log_warnx("queue: event=spool-full reason=\"less than %d KiB "
		    "free: new messages get 452 4.3.1\"", QUEUE_SPACE_RESERVE / 1024);
		return -1;
	}
	queue_id_new(id);
	if ((fd = spare_file(q)) == -1 && (fd = anonymous_file(q, id)) == -1)
		goto fail;
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (wfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(o);
		close(fd);
		goto fail;
	}
	o->fd = fd;
	memcpy(o->id, id, QUEUE_ID_SIZE);
	TAILQ_INSERT_TAIL(&q->opens, o, entry);
	*status = QUEUE_OK;
	return wfd;
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

	while ((o = TAILQ_FIRST(&q->opens)) != NULL)
		queue_message_abort(q, o->id);
	while (q->nspare > 0)
		close(q->spare[--q->nspare]);
}
