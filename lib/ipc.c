/* ipc.c — framed messages with fd passing between roles; see ipc.h. */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/ipc.h"
#include "lib/log.h"

struct ipc_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* payload octets after the header */
	uint64_t	 reqid;
	uint32_t	 has_fd;	/* 0 or 1 */
	uint32_t	 magic;
};

#define IPC_MAGIC	0x53554244u	/* "SUBD" */

struct ipc_out {
	struct ipc_out	*next;
	int		 fd;
	size_t		 len;		/* header + payload */
	unsigned char	 buf[];
};

struct ipc {
	struct event_base *base;
	int		 fd;
	char		 name[32];
	struct event	*ev_read;
	struct event	*ev_write;
	struct ipc_out	*head, *tail;
	size_t		 nqueued;
	ipc_cb		 cb;
	void		*arg;
	uint64_t	 dropped;
	int		 dead;
	unsigned char	*rbuf;		/* one packet + 1 to see oversize */
};

static void	ipc_on_read(evutil_socket_t, short, void *);
static void	ipc_on_write(evutil_socket_t, short, void *);

int
ipc_socketpair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv);
}

struct ipc *
ipc_new(struct event_base *base, int fd, const char *name, ipc_cb cb, void *arg)
{
	struct ipc	*c;
	int		 fl;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->rbuf = malloc(sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD + 1)) == NULL) {
		free(c);
		return NULL;
	}
	c->base = base;
	c->fd = fd;
	c->cb = cb;
	c->arg = arg;
	strncpy(c->name, name, sizeof(c->name) - 1);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    (c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, ipc_on_read,
	    c)) == NULL ||
	    (c->ev_write = event_new(base, fd, EV_WRITE, ipc_on_write, c)) == NULL ||
	    event_add(c->ev_read, NULL) == -1) {
		ipc_free(c);
		return NULL;
	}
	return c;
}

void
ipc_free(struct ipc *c)
{
	struct ipc_out	*o;

	if (c == NULL)
		return;
	while ((o = c->head) != NULL) {
		c->head = o->next;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_write)
		event_free(c->ev_write);
	if (c->fd != -1)
		close(c->fd);
	free(c->rbuf);
	free(c);
}

uint64_t
ipc_dropped(const struct ipc *c)
{
	return c->dropped;
}

/* The channel is broken: tell the owner once. */
static void
ipc_broken(struct ipc *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	event_del(c->ev_read);
	event_del(c->ev_write);
	c->cb(c, NULL, c->arg);
}

/* Send what is queued; 0 when all went or the socket is full, -1 broken. */
static int
ipc_flush(struct ipc *c)
{
	struct ipc_out	*o;

	while ((o = c->head) != NULL) {
		struct msghdr	 mh;
		struct iovec	 iov = { o->buf, o->len };
		union {
			struct cmsghdr	 hdr;
			unsigned char	 buf[CMSG_SPACE(sizeof(int))];
		} cm;
		ssize_t		 n;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (o->fd != -1) {
			struct cmsghdr	*h;

			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof(cm.buf);
			h = CMSG_FIRSTHDR(&mh);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(h), &o->fd, sizeof(int));
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)) {
			event_add(c->ev_write, NULL);
			return 0;
		}
		if (n == -1) {
			log_warn("ipc %s: sendmsg", c->name);
			return -1;
		}
		c->head = o->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->nqueued--;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	return 0;
}

int
ipc_send(struct ipc *c, uint32_t type, uint64_t reqid, int fd, const void *data,
    size_t len)
{
	struct ipc_out	*o;
	struct ipc_hdr	 h;

	if (c->dead || len > IPC_MAX_PAYLOAD || c->nqueued >= IPC_MAX_QUEUED)
		return -1;
	if ((o = malloc(sizeof(*o) + sizeof(h) + len)) == NULL)
		return -1;
	o->next = NULL;
	o->fd = -1;
	if (fd != -1 && (o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("ipc %s: dup", c->name);
		free(o);
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.len = (uint32_t)len;
	h.reqid = reqid;
	h.has_fd = fd != -1;
	h.magic = IPC_MAGIC;
	memcpy(o->buf, &h, sizeof(h));
	if (len > 0)
		memcpy(o->buf + sizeof(h), data, len);
	o->len = sizeof(h) + len;
	if (c->tail)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	c->nqueued++;
	if (c->nqueued == 1 && ipc_flush(c) == -1) {
		ipc_broken(c);
		return -1;
	}
	return 0;
}

static void
ipc_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct ipc	*c = arg;

	(void)fd;
	(void)what;
	if (ipc_flush(c) == -1)
		ipc_broken(c);
}

/* The fd passed with a packet, or -1; -2 when the control data is odd. */
static int
ipc_received_fd(struct msghdr *mh)
{
	struct cmsghdr	*h;
	int		 fd = -1, bad = 0;

	for (h = CMSG_FIRSTHDR(mh); h != NULL; h = CMSG_NXTHDR(mh, h)) {
		size_t	 n, i;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int	 got;

			memcpy(&got, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (fd == -1)
				fd = got;
			else {
				close(got);	/* more than one: refuse all */
				bad = 1;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		bad = 1;
	if (bad && fd != -1) {
		close(fd);
		return -2;
	}
	return bad ? -2 : fd;
}

static void
ipc_drop(struct ipc *c, int fd, const char *why, size_t n)
{
	c->dropped++;
	log_warnx("ipc %s: event=ipc-reject reason=\"%s\" octets=%zu", c->name,
	    why, n);
	if (fd >= 0)
		close(fd);
}

/* One packet: check it, hand it on.  0 go on, 1 nothing more now, -1 broken. */
static int
ipc_read_one(struct ipc *c)
{
	struct msghdr	 mh;
	struct iovec	 iov = { c->rbuf, sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD + 1 };
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct ipc_hdr	 h;
	struct ipc_msg	 m;
	ssize_t		 n;
	int		 fd;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n == -1) {
		log_warn("ipc %s: recvmsg", c->name);
		return -1;
	}
	if (n == 0) {
		/* A zero-length packet reads like EOF: ask the socket which. */
		struct pollfd	 pfd = { c->fd, POLLRDHUP, 0 };

		if (poll(&pfd, 1, 0) == -1 || (pfd.revents & (POLLHUP | POLLRDHUP)))
			return -1;	/* peer closed */
		ipc_drop(c, ipc_received_fd(&mh), "empty packet", 0);
		return 0;
	}
	fd = ipc_received_fd(&mh);
	if (fd == -2) {
		ipc_drop(c, -1, "bad control data", n);
		return 0;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		ipc_drop(c, fd, "oversized", n);
		return 0;
	}
	if ((size_t)n < sizeof(h)) {
		ipc_drop(c, fd, "truncated header", n);
		return 0;
	}
	memcpy(&h, c->rbuf, sizeof(h));
	if (h.magic != IPC_MAGIC || h.len != (size_t)n - sizeof(h) ||
	    h.len > IPC_MAX_PAYLOAD) {
		ipc_drop(c, fd, "length mismatch", n);
		return 0;
	}
	if ((h.has_fd != 0) != (fd != -1) || h.has_fd > 1) {
		ipc_drop(c, fd, "fd mismatch", n);
		return 0;
	}
	m.type = h.type;
	m.reqid = h.reqid;
	m.data = c->rbuf + sizeof(h);
	m.len = h.len;
	m.fd = fd;
	c->cb(c, &m, c->arg);
	return 0;
}

static void
ipc_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct ipc	*c = arg;
	int		 i, r;

	(void)fd;
	(void)what;
	/* A bounded burst, so one busy peer cannot starve the loop. */
	for (i = 0; i < 64 && !c->dead; i++) {
		if ((r = ipc_read_one(c)) == 1)
			return;
		if (r == -1) {
			ipc_broken(c);
			return;
		}
	}
}
