/*
 * conn.c — a non-blocking connection over libevent, plain or libtls.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"

#define CONN_CHUNK	16384
#define CONN_ROUNDS	16	/* I/O rounds before yielding to others */

static void	conn_cb(evutil_socket_t, short, void *);

struct conn *
conn_new(struct event_base *base, int fd, int connecting, int timeout_s,
    conn_event_cb on_event, conn_dead_cb on_dead, void *arg)
{
	struct conn	*c;
	int		 one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->in = evbuffer_new()) == NULL ||
	    (c->out = evbuffer_new()) == NULL) {
		if (c->in)
			evbuffer_free(c->in);
		free(c);
		return NULL;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->base = base;
	c->connecting = connecting;
	c->timeout.tv_sec = timeout_s;
	c->on_event = on_event;
	c->on_dead = on_dead;
	c->arg = arg;
	c->evflags = connecting ? EV_WRITE : EV_READ;
	event_assign(&c->ev, base, fd, c->evflags | EV_PERSIST, conn_cb, c);
	if (event_add(&c->ev, &c->timeout) == -1) {
		evbuffer_free(c->in);
		evbuffer_free(c->out);
		free(c);
		return NULL;
	}
	return c;
}

void
conn_fail(struct conn *c, const char *why)
{
	if (!c->dead && c->err == NULL)
		c->err = why;
	c->dead = 1;
}

static void
conn_tls_fail(struct conn *c, const char *why)
{
	const char	*e = c->tls ? tls_error(c->tls) : NULL;

	snprintf(c->errmsg, sizeof(c->errmsg), "%s", e ? e : "");
	conn_fail(c, why);
}

void
conn_starttls(struct conn *c, struct tls *ctx)
{
	c->tls_next = ctx;
}

/* Writes what it can; 1 when bytes went out, 0 if not; sets *WANTW. */
static int
conn_write(struct conn *c, int *wantw)
{
	struct evbuffer_iovec	 v;
	size_t			 total = 0;
	ssize_t			 n;

	while (evbuffer_get_length(c->out) > 0 && total < 16 * CONN_CHUNK) {
		if (c->tls == NULL) {
			n = evbuffer_write_atmost(c->out, c->fd, CONN_CHUNK * 4);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR) {
					*wantw = 1;
					break;
				}
				conn_fail(c, "write");
				break;
			}
		} else {
			if (evbuffer_peek(c->out, CONN_CHUNK, NULL, &v, 1) < 1)
				break;
			n = tls_write(c->tls, v.iov_base,
			    v.iov_len > CONN_CHUNK ? CONN_CHUNK : v.iov_len);
			if (n == TLS_WANT_POLLOUT) {
				*wantw = 1;
				break;
			}
			if (n == TLS_WANT_POLLIN)
				break;
			if (n < 0) {
				conn_tls_fail(c, "tls-write");
				break;
			}
			evbuffer_drain(c->out, (size_t)n);
		}
		total += (size_t)n;
	}
	if (evbuffer_get_length(c->out) > 0 && !c->dead)
		*wantw = 1;
	return total > 0;
}

/* Reads one chunk; 1 when bytes came in, 0 if not; sets *WANTW. */
static int
conn_read(struct conn *c, int *wantw)
{
	char	buf[CONN_CHUNK];
	ssize_t	n;

	if (c->tls == NULL) {
		n = read(c->fd, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == -1) {
			conn_fail(c, "read");
			return 0;
		}
	} else {
		n = tls_read(c->tls, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN)
			return 0;
		if (n == TLS_WANT_POLLOUT) {
			*wantw = 1;
			return 0;
		}
		if (n < 0) {
			conn_tls_fail(c, "tls-read");
			return 0;
		}
	}
	if (n == 0) {
		conn_fail(c, "eof");
		return 0;
	}
	if (evbuffer_add(c->in, buf, (size_t)n) == -1) {
		conn_fail(c, "memory");
		return 0;
	}
	c->on_event(c, CONN_INPUT, c->arg);
	return 1;
}

/* One round of handshake, write and read; 1 when anything moved. */
static int
conn_round(struct conn *c, int *wantw)
{
	int	r, progress = 0;

	if (c->tls_next != NULL && evbuffer_get_length(c->out) == 0) {
		c->tls = c->tls_next;
		c->tls_next = NULL;
		c->handshaking = 1;
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
	}
	if (c->handshaking) {
		r = tls_handshake(c->tls);
		if (r == TLS_WANT_POLLOUT)
			*wantw = 1;
		else if (r == TLS_WANT_POLLIN)
			;
		else if (r == -1)
			conn_tls_fail(c, "tls-handshake");
		else {
			c->handshaking = 0;
			progress = 1;
			c->on_event(c, CONN_TLS_DONE, c->arg);
		}
		return progress;
	}
	if (!c->dead)
		progress |= conn_write(c, wantw);
	if (!c->dead && !c->closing && c->tls_next == NULL)
		progress |= conn_read(c, wantw);
	return progress;
}

static void
conn_rearm(struct conn *c, short flags)
{
	if (flags == c->evflags)
		return;
	event_del(&c->ev);
	c->evflags = flags;
	event_assign(&c->ev, c->base, c->fd, flags | EV_PERSIST, conn_cb, c);
	if (event_add(&c->ev, &c->timeout) == -1)
		conn_fail(c, "event");
}

static void
conn_run(struct conn *c)
{
	int	i, wantw = 0, progress = 1;

	for (i = 0; i < CONN_ROUNDS && progress && !c->dead; i++) {
		wantw = 0;
		progress = conn_round(c, &wantw);
	}
	if (c->closing && evbuffer_get_length(c->out) == 0)
		c->dead = 1;
	if (c->dead) {
		c->on_dead(c, c->arg);
		return;
	}
	conn_rearm(c, EV_READ | (wantw ? EV_WRITE : 0));
	if (progress)	/* more to do: yield, then continue */
		event_active(&c->ev, EV_WRITE, 0);
}

void
conn_kick(struct conn *c)
{
	conn_run(c);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	int		 e = 0;
	socklen_t	 len = sizeof(e);

	if (what & EV_TIMEOUT) {
		conn_fail(c, "timeout");
		c->on_dead(c, c->arg);
		return;
	}
	if (c->connecting) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1 ||
		    e != 0) {
			snprintf(c->errmsg, sizeof(c->errmsg), "%s",
			    strerror(e ? e : errno));
			conn_fail(c, "connect");
			c->on_dead(c, c->arg);
			return;
		}
		c->connecting = 0;
		c->on_event(c, CONN_CONNECTED, c->arg);
	}
	conn_run(c);
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	event_del(&c->ev);
	if (c->tls_next != NULL && c->tls_next != c->tls)
		tls_free(c->tls_next);
	if (c->tls != NULL) {
		(void)tls_close(c->tls);
		tls_free(c->tls);
	}
	close(c->fd);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	free(c);
}
