/*
 * queue_edit.c — the content filter's changes to a message before its
 * commit (issue 16): header fields added and removed, the body untouched.
 * The header section is rewritten into a new file that replaces ID.msg.
 * The first copy seals every message before the filter scans it and
 * before the commit verifies, signs and keeps it: it is created as
 * ID.msg from the smtp role's file, which has no name, and the smtp
 * role's writable fd (it parses the internet) never reaches the inode
 * that is checked and relayed.  ID.msg without ID.env is not committed
 * (queue_commit.c); a start after a crash removes it (queue_load.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/conf.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

int
queue_message_fd(struct queue *q, const char *id)
{
	struct qopen	*o;
	char		 name[QUEUE_ID_SIZE + 8];

	/* The filter scans what will be committed, not the writer's file. */
	if ((o = queue_open_find(q, id)) == NULL || queue_open_seal(q, o) == -1)
		return -1;
	snprintf(name, sizeof(name), "%s.msg", id);
	return openat(q->dirfd, name, O_RDONLY | O_CLOEXEC);
}

/* 1 when the field at F (name up to ':') is listed in REMOVE. */
static int
listed(const char *f, size_t flen, const char *remove)
{
	const char	*colon = memchr(f, ':', flen), *n, *e;
	size_t		 nlen;

	if (colon == NULL)
		return 0;
	nlen = (size_t)(colon - f);
	while (nlen > 0 && (f[nlen - 1] == ' ' || f[nlen - 1] == '\t'))
		nlen--;
	for (n = remove; *n != '\0'; n = e + 1) {
		if ((e = strchr(n, '\n')) == NULL)
			break;
		if ((size_t)(e - n) == nlen && strncasecmp(n, f, nlen) == 0)
			return 1;
	}
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t
pread_all(int fd, char *p, size_t len, off_t off)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		if ((n = pread(fd, p + got, len - got, off + (off_t)got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Copies octets FROM to END of IN after HEAD (HEADLEN octets) into OUT:
 * up to the size seen, so that a writer cannot make the copy grow.
 * 0, or -1 with errno set.
 */
static int
copy_into(int out, const char *head, size_t headlen, int in, off_t from,
    off_t end)
{
	char		 buf[64 * 1024];
	off_t		 off;
	ssize_t		 n;

	if (write_all(out, head, headlen) == -1)
		return -1;
	for (off = from; off < end; off += n) {
		n = pread_all(in, buf, (size_t)(end - off) < sizeof(buf) ?
		    (size_t)(end - off) : sizeof(buf), off);
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) == -1)
			return -1;
	}
	return 0;
}

/*
 * Writes HEAD (HEADLEN octets), then O's file from offset FROM to its end
 * (at most MAX octets in all, else EFBIG), into a new file that becomes
 * ID.msg and O's fd.  The first time (the seal), O's file is the smtp
 * role's, which has no name: the copy is created as ID.msg.  After, the
 * copy is written beside it and renamed over it.  0, or -1 with errno set.
 */
static int
rewrite(struct queue *q, struct qopen *o, const char *head, size_t headlen,
    off_t from, uint64_t max)
{
	char		 msg[QUEUE_ID_SIZE + 8], edit[QUEUE_ID_SIZE + 12];
	const char	*name;
	struct stat	 st;
	int		 fd, err;

	if (fstat(o->fd, &st) == -1)
		return -1;
	if (st.st_size < from) {
		errno = EIO;
		return -1;
	}
	if ((uint64_t)st.st_size - (uint64_t)from + headlen > max) {
		errno = EFBIG;
		return -1;
	}
	snprintf(msg, sizeof(msg), "%s.msg", o->id);
	snprintf(edit, sizeof(edit), "%s.edt.tmp", o->id); /* cleaned at start */
	name = o->sealed ? edit : msg;
	if ((fd = openat(q->dirfd, name, O_CREAT | O_EXCL | O_RDWR |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	if (copy_into(fd, head, headlen, o->fd, from, st.st_size) == -1 ||
	    (o->sealed && renameat(q->dirfd, edit, q->dirfd, msg) == -1))
		goto fail;
	if (o->sealed)
		close(o->fd);
	else
		queue_writer_done(q, o->fd);
	o->fd = fd;	/* fsync'd by the commit */
	o->sealed = 1;
	return 0;
 fail:
	err = errno;
	close(fd);
	unlinkat(q->dirfd, name, 0);
	errno = err;
	return -1;
}

int
queue_open_seal(struct queue *q, struct qopen *o)
{
	if (o->sealed)
		return 0;
	if (rewrite(q, o, "", 0, 0, q->conf->max_message_size) == -1) {
		if (errno == EFBIG)
			log_warnx("msgid=%s event=commit-refused "
			    "reason=message-size", o->id);
		else
			log_warn("msgid=%s event=error step=seal", o->id);
		return -1;
	}
	return 0;
}

int
queue_message_edit(struct queue *q, const char *id, const char *add,
    size_t addlen, const char *remove, size_t *header_len)
{
	struct qopen	*o;
	char		*hdr = NULL, *out = NULL;
	size_t		 len = *header_len, i, start, outlen = 0, dropped = 0;

	if ((o = queue_open_find(q, id)) == NULL || len > HEADER_SECTION_MAX)
		return -1;
	if (addlen == 0 && (remove == NULL || *remove == '\0'))
		return 0;
	if ((hdr = malloc(len + 1)) == NULL ||
	    (out = malloc(addlen + len + 1)) == NULL ||
	    pread_all(o->fd, hdr, len, 0) != (ssize_t)len)
		goto fail;
	memcpy(out, add, addlen);
	outlen = addlen;
	/* Field by field: a field ends at a CRLF not followed by WSP. */
	for (i = start = 0; i < len; i++) {
		if (hdr[i] != '\n' || (i + 1 < len &&
		    (hdr[i + 1] == ' ' || hdr[i + 1] == '\t')))
			continue;
		if (remove != NULL && listed(hdr + start, i + 1 - start, remove))
			dropped++;
		else {
			memcpy(out + outlen, hdr + start, i + 1 - start);
			outlen += i + 1 - start;
		}
		start = i + 1;
	}
	if (start < len) {	/* cannot be: the section ends with CRLF */
		memcpy(out + outlen, hdr + start, len - start);
		outlen += len - start;
	}
	if (addlen == 0 && dropped == 0) {
		free(hdr);
		free(out);
		return 0;
	}
	if (rewrite(q, o, out, outlen, (off_t)len, UINT64_MAX) == -1)
		goto fail;
	*header_len = outlen;
	log_debug("msgid=%s event=edited added=%zu removed=%zu", id, addlen,
	    dropped);
	free(hdr);
	free(out);
	return 0;
 fail:
	log_warn("msgid=%s event=error step=filter-edit", id);
	free(hdr);
	free(out);
	return -1;
}
