/*
 * netio.c — a non-blocking connection, plaintext or TLS, on libevent.
 *
 * One function, netio_pump(), does all the work whenever the socket is
 * ready: it finishes a TLS handshake, writes what is buffered, reads what
 * is there, and re-arms the events for what libtls said it wants next
 * (TLS_WANT_POLLIN / TLS_WANT_POLLOUT may come from a read or a write).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <tls.h>

#include "lib/netio.h"

#define NETIO_READ_CHUNK	16384	/* octets per read call */
#define NETIO_READ_BURST	8	/* reads per pump before yielding */
#define NETIO_WRITE_CHUNK	16384	/* octets per tls_write */

enum netio_state {
	NIO_PLAIN,
	NIO_PLAIN_THEN_TLS,	/* write out the 220, then handshake */
	NIO_HANDSHAKE,
	NIO_TLS,
	NIO_DONE,		/* EOF, error or timeout reported */
};

struct netio {
	struct event_base	*base;
	int			 fd;
	enum netio_state	 state;
	struct tls		*tls;		/* connection context */
	struct tls		*tls_server;	/* for the pending accept */
	int			 is_client;
	char			*servername;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_timer;
	time_t			 timeout;
	size_t			 in_max;	/* stop reading at this much input */
	int			 paused;
	int			 want_read;	/* libtls wants POLLIN */
	int			 want_write;	/* libtls wants POLLOUT */
	int			 had_output;	/* DRAINED owed once empty */
	int			 in_pump;
	unsigned		 freed:1;
	unsigned		 kicked:1;	/* a pump queued: ev_write active */
	unsigned		 read_woke:1;	/* ev_read fired, not wanted */
	netio_cb		 cb;
	void			*arg;
	char			*err;		/* NULL, netio_nomem or allocated */
};

/*
 * The error text is made when the connection fails, not kept in every
 * connection (issue 18 target 3: 256 octets of every idle session); when
 * it cannot be allocated, this says so instead.
 */
static char	 netio_nomem[] = "error (no memory for its text)";

/*
 * An idle TLS connection holds no record buffers (issue 18: 1000 idle
 * logged-in sessions cost 62 KB each, about 34 KB of it OpenSSL's read
 * and write buffers of 16 KB and more, kept for the connection's life).
 * libtls offers no way to set SSL_MODE_RELEASE_BUFFERS; this definition,
 * found before libssl's, gives every connection libtls makes (the smtp
 * role's and the relay's) the mode: OpenSSL frees the read buffer once
 * it is empty and the write buffer once it is written out, and takes
 * them anew for the next record.  A TLS 1.3 server also sends one session
 * ticket after the handshake, not OpenSSL's default two: each is a session
 * encoded, encrypted and MACed (issue 18: about 4 % of the smtp role's
 * instructions per new connection), and a client resumes with one.
 */
typedef SSL	*(*ssl_new_fn)(SSL_CTX *);

SSL *
SSL_new(SSL_CTX *ctx)
{
	static ssl_new_fn	 real;
	SSL			*ssl;

	if (real == NULL &&
	    (real = (ssl_new_fn)dlsym(RTLD_NEXT, "SSL_new")) == NULL)
		return NULL;
	if ((ssl = real(ctx)) != NULL) {
		(void)SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
		if (SSL_is_server(ssl))
			(void)SSL_set_num_tickets(ssl, 1);
	}
	return ssl;
}

static void	netio_pump(struct netio *);
static void	netio_arm(struct netio *);
static void	netio_really_free(struct netio *);
static void	netio_touch(struct netio *);
static int	netio_wants_read(const struct netio *);

static void
netio_on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct netio	*n = arg;

	(void)fd;
	if ((what & EV_READ) && !netio_wants_read(n))
		n->read_woke = 1;
	n->kicked = 0;
	netio_pump(n);
}

/*
 * Run a pump in this turn of the loop without asking epoll: ev_write made
 * active (no epoll_ctl; the pump does not care which event ran it).  Once
 * per turn: a flush and a resume in one callback share it.
 */
static void
netio_kick(struct netio *n)
{
	if (n->kicked)
		return;
	n->kicked = 1;
	event_active(n->ev_write, EV_WRITE, 0);
}

static void
netio_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct netio	*n = arg;

	(void)fd;
	(void)what;
	if (n->state == NIO_DONE)
		return;
	n->state = NIO_DONE;
	n->in_pump++;
	n->cb(n, NETIO_EV_TIMEOUT, n->arg);
	n->in_pump--;
	if (n->freed)
		netio_really_free(n);
	else
		netio_arm(n);
}

struct netio *
netio_new(struct event_base *base, int fd, netio_cb cb, void *arg)
{
	struct netio	*n;
	int		 one = 1;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->base = base;
	n->fd = fd;
	n->cb = cb;
	n->arg = arg;
	n->in = evbuffer_new();
	n->out = evbuffer_new();
	n->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, netio_on_fd, n);
	n->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, netio_on_fd, n);
	n->ev_timer = evtimer_new(base, netio_on_timer, n);
	if (n->in == NULL || n->out == NULL || n->ev_read == NULL ||
	    n->ev_write == NULL || n->ev_timer == NULL) {
		n->fd = -1;
		netio_really_free(n);
		return NULL;
	}
	/* Small TLS records must not wait for delayed ACKs. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	netio_arm(n);
	return n;
}

static void
netio_really_free(struct netio *n)
{
	if (n->ev_read)
		event_free(n->ev_read);
	if (n->ev_write)
		event_free(n->ev_write);
	if (n->ev_timer)
		event_free(n->ev_timer);
	if (n->in)
		evbuffer_free(n->in);
	if (n->out)
		evbuffer_free(n->out);
	if (n->tls) {
		(void)tls_close(n->tls);
		tls_free(n->tls);
	}
	free(n->servername);
	if (n->err != netio_nomem)
		free(n->err);
	if (n->fd != -1)
		close(n->fd);
	free(n);
}

void
netio_free(struct netio *n)
{
	if (n == NULL)
		return;
	if (n->in_pump) {
		n->freed = 1;
		n->state = NIO_DONE;
		return;
	}
	netio_really_free(n);
}

struct evbuffer *netio_input(struct netio *n) { return n->in; }
struct evbuffer *netio_output(struct netio *n) { return n->out; }
size_t netio_output_len(struct netio *n) { return evbuffer_get_length(n->out); }
int netio_fd(struct netio *n) { return n->fd; }
const char *netio_error(struct netio *n) { return n->err ? n->err : ""; }

struct tls *
netio_tls(struct netio *n)
{
	return n->state == NIO_TLS ? n->tls : NULL;
}

void
netio_flush(struct netio *n)
{
	if (n->state == NIO_DONE)
		return;
	if (evbuffer_get_length(n->out) > 0)
		n->had_output = 1;
	if (!n->in_pump)
		netio_arm(n);
}

int
netio_printf(struct netio *n, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = evbuffer_add_vprintf(n->out, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	netio_flush(n);
	return 0;
}

void
netio_set_timeout(struct netio *n, time_t seconds)
{
	n->timeout = seconds;
	if (n->state == NIO_DONE)
		return;
	/*
	 * A new timeout starts now: a timer still pending from the previous
	 * phase (say the handshake's) must not stand in for it.
	 */
	evtimer_del(n->ev_timer);
	if (!n->in_pump)
		netio_arm(n);
	else
		netio_touch(n);
}

void
netio_set_input_max(struct netio *n, size_t max)
{
	n->in_max = max;
	if (n->state != NIO_DONE && !n->in_pump)
		netio_arm(n);
}

static int
netio_input_full(const struct netio *n)
{
	return n->in_max > 0 && evbuffer_get_length(n->in) >= n->in_max;
}

void
netio_pause(struct netio *n)
{
	n->paused = 1;
	if (!n->in_pump)
		netio_arm(n);
}

void
netio_resume(struct netio *n)
{
	n->paused = 0;
	if (n->state == NIO_DONE)
		return;
	/* Bytes may already be buffered: let the owner see them now. */
	if (!n->in_pump)
		netio_kick(n);
}

int
netio_starttls_server(struct netio *n, struct tls *ctx)
{
	/* Whatever the client sent after STARTTLS is dropped, unread. */
	evbuffer_drain(n->in, evbuffer_get_length(n->in));
	n->tls_server = ctx;
	n->is_client = 0;
	n->state = NIO_PLAIN_THEN_TLS;
	netio_flush(n);
	if (!n->in_pump)
		event_active(n->ev_write, EV_WRITE, 0);
	return 0;
}

int
netio_starttls_client(struct netio *n, struct tls *ctx, const char *servername)
{
	evbuffer_drain(n->in, evbuffer_get_length(n->in));
	if ((n->servername = strdup(servername)) == NULL) {
		tls_free(ctx);
		return -1;
	}
	n->tls = ctx;
	n->is_client = 1;
	n->state = NIO_PLAIN_THEN_TLS;
	netio_flush(n);
	if (!n->in_pump)
		event_active(n->ev_write, EV_WRITE, 0);
	return 0;
}

/*
 * Re-arm the read, write and timer events for the current state.  Each
 * event_add or event_del that changes what epoll watches is an epoll_ctl
 * (issue 18: 9.6 of them per message on a kept-open TLS connection, as
 * every reply that followed an IPC answer added the write event and the
 * pump deleted it, and every wait for one deleted and re-added the read
 * event).  So: output with nothing known to block is written by a pump
 * kicked in this turn (netio_kick), the write event is watched only when
 * a write would block; the read event stays watched while reading is
 * paused, and is dropped only when it fires then (a client that sends
 * while we wait costs one wake-up, not a loop).
 */
static int
netio_wants_read(const struct netio *n)
{
	switch (n->state) {
	case NIO_PLAIN:
		return !n->paused && !netio_input_full(n);
	case NIO_HANDSHAKE:
	case NIO_TLS:
		return n->want_read || (n->state == NIO_TLS && !n->paused &&
		    !netio_input_full(n));
	default:
		return 0;
	}
}

static void
netio_arm(struct netio *n)
{
	int	 rd = netio_wants_read(n), wr = 0;

	switch (n->state) {
	case NIO_PLAIN:
		wr = evbuffer_get_length(n->out) > 0;
		break;
	case NIO_PLAIN_THEN_TLS:
		wr = 1;
		break;
	case NIO_HANDSHAKE:
	case NIO_TLS:
		wr = n->want_write ||
		    (n->state == NIO_TLS && evbuffer_get_length(n->out) > 0);
		break;
	case NIO_DONE:
		break;
	}
	if (rd)
		event_add(n->ev_read, NULL);
	else if (n->state == NIO_DONE || n->read_woke)
		event_del(n->ev_read);
	n->read_woke = 0;
	if (!wr) {
		if (!n->kicked)		/* a kicked pump is still owed */
			event_del(n->ev_write);
	} else if (n->want_write || (n->state != NIO_TLS &&
	    n->state != NIO_PLAIN))
		event_add(n->ev_write, NULL);
	else if (!n->want_read &&
	    !event_pending(n->ev_write, EV_WRITE, NULL))
		netio_kick(n);
	if (n->timeout > 0 && n->state != NIO_DONE) {
		struct timeval	 tv = { n->timeout, 0 };

		/* Only re-arm when not pending: activity resets it in pump. */
		if (!evtimer_pending(n->ev_timer, NULL))
			evtimer_add(n->ev_timer, &tv);
	} else
		evtimer_del(n->ev_timer);
}

static void
netio_touch(struct netio *n)
{
	if (n->timeout > 0) {
		struct timeval	 tv = { n->timeout, 0 };

		evtimer_add(n->ev_timer, &tv);
	}
}

/*
 * Report a final event, its text made of FMT; the connection does nothing
 * more after it.
 */
static void __attribute__((format(printf, 3, 4)))
netio_fail(struct netio *n, enum netio_event ev, const char *fmt, ...)
{
	va_list	 ap;
	char	*why;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		why = netio_nomem;
	va_end(ap);
	if (n->err != netio_nomem)
		free(n->err);
	n->err = why;
	n->state = NIO_DONE;
	n->cb(n, ev, n->arg);
}

/* A TLS call WHAT failed: report libtls's reason. */
static void
netio_fail_tls(struct netio *n, struct tls *t, const char *what)
{
	const char	*e = t ? tls_error(t) : NULL;

	netio_fail(n, NETIO_EV_ERROR, "%s: %s", what,
	    e ? e : "unknown TLS error");
}

/* Start the handshake once the plaintext 220 is out. */
static int
netio_begin_handshake(struct netio *n)
{
	if (n->is_client) {
		if (tls_connect_socket(n->tls, n->fd, n->servername) == -1) {
			netio_fail_tls(n, n->tls, "tls_connect_socket");
			return -1;
		}
	} else if (tls_accept_socket(n->tls_server, &n->tls, n->fd) == -1) {
		netio_fail_tls(n, n->tls_server, "tls_accept_socket");
		return -1;
	}
	n->state = NIO_HANDSHAKE;
	n->want_read = n->want_write = 0;
	return 0;
}

static int
netio_handshake(struct netio *n)
{
	int	 r;

	n->want_read = n->want_write = 0;
	r = tls_handshake(n->tls);
	if (r == TLS_WANT_POLLIN) {
		n->want_read = 1;
		return 0;
	}
	if (r == TLS_WANT_POLLOUT) {
		n->want_write = 1;
		return 0;
	}
	if (r == -1) {
		netio_fail_tls(n, n->tls, "handshake");
		return -1;
	}
	n->state = NIO_TLS;
	netio_touch(n);
	n->cb(n, NETIO_EV_TLS, n->arg);
	return 0;
}

/* Write buffered output; 1 when the buffer became empty, 0 not yet, -1 error. */
static int
netio_write_some(struct netio *n)
{
	while (evbuffer_get_length(n->out) > 0) {
		ssize_t	 w;

		if (n->state == NIO_TLS) {
			size_t	 len = evbuffer_get_length(n->out);
			unsigned char *p;

			if (len > NETIO_WRITE_CHUNK)
				len = NETIO_WRITE_CHUNK;
			if ((p = evbuffer_pullup(n->out, len)) == NULL)
				return -1;
			w = tls_write(n->tls, p, len);
			if (w == TLS_WANT_POLLOUT) {
				n->want_write = 1;
				return 0;
			}
			if (w == TLS_WANT_POLLIN) {
				n->want_read = 1;
				return 0;
			}
			if (w < 0) {
				netio_fail_tls(n, n->tls, "write");
				return -1;
			}
			evbuffer_drain(n->out, w);
		} else {
			w = evbuffer_write(n->out, n->fd);
			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				n->want_write = 1;	/* watch POLLOUT */
				return 0;
			}
			if (w <= 0) {
				netio_fail(n, NETIO_EV_ERROR, "write: %s",
				    strerror(errno));
				return -1;
			}
		}
	}
	return 1;
}

/*
 * Read what is there; 1 when bytes arrived, 0 none, -1 EOF/error reported.
 * Each read goes to the stack, then only what came is added to the input:
 * a chunk reserved in the evbuffer for a read that found nothing (a TLS
 * record not yet complete, an idle client) stayed there, empty, for as
 * long as the connection lived (issue 18: 32 KB of heap per idle session).
 */
static int
netio_read_some(struct netio *n)
{
	unsigned char	 buf[NETIO_READ_CHUNK];
	int		 got = 0, i;

	for (i = 0; i < NETIO_READ_BURST; i++) {
		ssize_t	 r;

		if (netio_input_full(n))
			break;		/* the owner must take some first */
		if (n->state == NIO_TLS) {
			r = tls_read(n->tls, buf, sizeof(buf));
			if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) {
				if (r == TLS_WANT_POLLOUT)
					n->want_write = 1;
				break;
			}
			if (r < 0) {
				netio_fail_tls(n, n->tls, "read");
				return -1;
			}
		} else {
			r = read(n->fd, buf, sizeof(buf));
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (r < 0) {
				netio_fail(n, NETIO_EV_ERROR, "read: %s",
				    strerror(errno));
				return -1;
			}
		}
		if (r == 0) {
			if (got)
				n->cb(n, NETIO_EV_READ, n->arg);
			if (n->state != NIO_DONE && !n->freed)
				netio_fail(n, NETIO_EV_EOF, "connection closed");
			return -1;
		}
		if (evbuffer_add(n->in, buf, (size_t)r) == -1) {
			netio_fail(n, NETIO_EV_ERROR, "read: out of memory");
			return -1;
		}
		got = 1;
		if ((size_t)r < sizeof(buf))
			break;
	}
	if (got)
		netio_touch(n);
	return got;
}

static void
netio_pump_once(struct netio *n)
{
	int	 r;

	if (n->state == NIO_PLAIN_THEN_TLS) {
		if ((r = netio_write_some(n)) <= 0)
			return;
		if (netio_begin_handshake(n) == -1)
			return;
	}
	if (n->state == NIO_HANDSHAKE) {
		if (netio_handshake(n) == -1 || n->state != NIO_TLS)
			return;
		if (n->freed || n->state == NIO_DONE)
			return;
	}
	n->want_read = n->want_write = 0;
	if (evbuffer_get_length(n->out) > 0) {
		if ((r = netio_write_some(n)) < 0)
			return;
		if (r == 1 && n->had_output) {
			n->had_output = 0;
			n->cb(n, NETIO_EV_DRAINED, n->arg);
			if (n->freed || n->state == NIO_DONE ||
			    n->state == NIO_PLAIN_THEN_TLS)
				return;
		}
	} else if (n->had_output) {
		n->had_output = 0;
		n->cb(n, NETIO_EV_DRAINED, n->arg);
		if (n->freed || n->state == NIO_DONE ||
		    n->state == NIO_PLAIN_THEN_TLS)
			return;
	}
	if (n->paused)
		return;
	if (netio_read_some(n) == 1 && !n->freed && n->state != NIO_DONE)
		n->cb(n, NETIO_EV_READ, n->arg);
}

static void
netio_pump(struct netio *n)
{
	int	 rounds;

	n->in_pump++;
	/*
	 * A callback may queue output or start TLS; go round again while
	 * there is something to do, within a bound so one busy peer cannot
	 * starve the others.
	 */
	for (rounds = 0; rounds < 4; rounds++) {
		enum netio_state before = n->state;
		size_t	 outlen = evbuffer_get_length(n->out);

		netio_pump_once(n);
		if (n->freed || n->state == NIO_DONE)
			break;
		if (n->state == before && evbuffer_get_length(n->out) == 0)
			break;
		if (n->state == before && outlen == evbuffer_get_length(n->out) &&
		    (n->want_read || n->want_write))
			break;
	}
	n->in_pump--;
	if (n->freed && n->in_pump == 0)
		netio_really_free(n);
	else
		netio_arm(n);
}
