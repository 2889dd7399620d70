/*
 * conn.h — one non-blocking TCP connection, plain or TLS (libtls), driven by
 * a libevent event: buffered input and output, STARTTLS after the pending
 * output is flushed, and one idle timeout.  Shared by loadgen and sink.
 */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include <sys/time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/buffer.h>
#include <tls.h>

enum conn_what {
	CONN_CONNECTED,		/* the TCP connect finished */
	CONN_TLS_DONE,		/* the TLS handshake finished */
	CONN_INPUT,		/* new bytes in c->in */
};

struct conn;
typedef void (*conn_event_cb)(struct conn *, enum conn_what, void *);
typedef void (*conn_dead_cb)(struct conn *, void *);

struct conn {
	int		 fd;
	struct tls	*tls;		/* NULL while plain */
	struct tls	*tls_next;	/* set by conn_starttls */
	int		 handshaking;
	int		 connecting;
	int		 closing;	/* close once out is flushed */
	int		 dead;		/* close now */
	const char	*err;		/* why it died: "connect", "tls", ... */
	char		 errmsg[128];
	struct evbuffer	*in;
	struct evbuffer	*out;
	struct event	 ev;
	short		 evflags;
	struct timeval	 timeout;
	struct event_base *base;
	conn_event_cb	 on_event;
	conn_dead_cb	 on_dead;
	void		*arg;
};

/*
 * conn_new: wraps the non-blocking socket FD (TCP_NODELAY is set here);
 * CONNECTING is 1 when a connect(2) is in progress.  TIMEOUT_S is the idle
 * timeout in seconds.  Returns NULL when out of memory.
 */
struct conn	*conn_new(struct event_base *, int fd, int connecting,
		    int timeout_s, conn_event_cb, conn_dead_cb, void *arg);
/*
 * conn_starttls: switches to TLS on CTX (from tls_connect_socket or
 * tls_accept_socket on c->fd) once the output queued so far is sent;
 * unread plaintext input is discarded then (CVE-2011-0411).
 */
void		 conn_starttls(struct conn *, struct tls *ctx);
/* conn_kick: runs I/O now (after queueing output from outside a callback). */
void		 conn_kick(struct conn *);
/* conn_fail: marks C dead with reason WHY (a static string). */
void		 conn_fail(struct conn *, const char *why);
/* conn_free: closes the socket and TLS and frees C. */
void		 conn_free(struct conn *);

#endif
