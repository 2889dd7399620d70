/*
 * netio.h — one non-blocking connection on the libevent loop, plaintext or
 * libtls, with an input and an output evbuffer.  Both the SMTP server
 * session and the relay client speak through it.
 *
 * The owner gets one callback with an event:
 *   NETIO_EV_READ     new bytes are in netio_input()
 *   NETIO_EV_DRAINED  netio_output() has been written out completely
 *   NETIO_EV_TLS      the TLS handshake finished (netio_tls() is usable)
 *   NETIO_EV_EOF      the peer closed (input may still hold bytes)
 *   NETIO_EV_ERROR    I/O or TLS error; netio_error() says which
 *   NETIO_EV_TIMEOUT  nothing read for the timeout set with netio_set_timeout
 * After EOF, ERROR and TIMEOUT the connection does nothing more: the owner
 * frees it.  The owner may call netio_free() from inside the callback.
 *
 * lib/, the bottom floor: what every process uses, and the types all share
 * (submitd.h).  Includes nothing of submitd outside lib/: no code of the
 * config, SMTP, DKIM, users, the queue, the relay or the roles.
 */
#ifndef LIB_NETIO_H
#define LIB_NETIO_H

#include <stddef.h>
#include <time.h>

struct event_base;
struct evbuffer;
struct tls;
struct netio;

enum netio_event {
	NETIO_EV_READ,
	NETIO_EV_DRAINED,
	NETIO_EV_TLS,
	NETIO_EV_EOF,
	NETIO_EV_ERROR,
	NETIO_EV_TIMEOUT,
};

typedef void (*netio_cb)(struct netio *, enum netio_event, void *arg);

/*
 * netio_new: takes ownership of the connected, non-blocking socket FD (sets
 * TCP_NODELAY) and starts reading.  Returns NULL on allocation failure (FD is
 * then left open).
 */
struct netio	*netio_new(struct event_base *, int fd, netio_cb, void *arg);
/* netio_free: closes the TLS context (no close_notify wait) and the socket. */
void		 netio_free(struct netio *);

struct evbuffer	*netio_input(struct netio *);
struct evbuffer	*netio_output(struct netio *);
/* netio_flush: starts writing what is in netio_output(). */
void		 netio_flush(struct netio *);
/* netio_printf: appends to the output and flushes; -1 on allocation failure. */
int		 netio_printf(struct netio *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* netio_output_len: octets still waiting to be written. */
size_t		 netio_output_len(struct netio *);

/*
 * netio_set_timeout: SECONDS of read inactivity before NETIO_EV_TIMEOUT;
 * 0 = none.  The count starts anew at each call, whatever was pending.
 */
void		 netio_set_timeout(struct netio *, time_t seconds);
/*
 * netio_set_input_max: reading stops while netio_input() holds MAX octets
 * or more (0 = no bound): the owner's consumption paces the peer, and a
 * peer the owner no longer reads from cannot grow the buffer.
 */
void		 netio_set_input_max(struct netio *, size_t max);
/* netio_pause / netio_resume: stop and restart reading (back-pressure). */
void		 netio_pause(struct netio *);
void		 netio_resume(struct netio *);

/*
 * netio_starttls_server: write out what is in the output buffer in
 * plaintext, then discard all buffered and further plaintext input and run
 * a TLS server handshake with CTX (a configured tls_server()).  Bytes the peer
 * pipelined after STARTTLS are never read as commands (CVE-2011-0411).
 * NETIO_EV_TLS follows on success, NETIO_EV_ERROR on failure.  -1 if CTX
 * cannot accept the socket.
 */
int		 netio_starttls_server(struct netio *, struct tls *ctx);
/*
 * netio_starttls_client: the same for a client: CTX is a configured
 * tls_client(), of which netio takes ownership (freed with the netio, also
 * on failure); SERVERNAME is sent as SNI and checked against the
 * certificate.  Returns -1 if the connection cannot be set up.
 */
int		 netio_starttls_client(struct netio *, struct tls *ctx,
		    const char *servername);
/* netio_tls: the TLS context once the handshake is done, else NULL. */
struct tls	*netio_tls(struct netio *);
/* netio_error: text of the last error, "" if none. */
const char	*netio_error(struct netio *);
/* netio_fd: the socket. */
int		 netio_fd(struct netio *);

#endif
