/*
 * relay_connect.h — the relay's way to a TCP connection: resolve HOST with
 * evdns (or a blocking getaddrinfo when there is no evdns base), then a
 * non-blocking connect to each address in turn, each with a timeout.
 *
 * relay/: the smarthost client.  Knows nothing of the spool, IPC or the
 * roles: it takes a message file and an envelope, and answers through a
 * callback.
 */
#ifndef RELAY_RELAY_CONNECT_H
#define RELAY_RELAY_CONNECT_H

struct event_base;
struct evdns_base;
struct relay_connect;

/*
 * Called once: FD is a connected non-blocking socket (the callee owns it),
 * or -1 with ERROR saying why ("cannot connect to host:port: Connection
 * refused").  The relay_connect is freed by then.
 */
typedef void (*relay_connect_cb)(int fd, const char *error, void *arg);

/*
 * relay_connect_new: starts at the next loop turn (so CB never runs from
 * inside this call).  DNS may be NULL.  LOGNAME starts the log lines about
 * failed addresses ("relay session=3 upstream=host:port").  SECONDS is the timeout per
 * address.  NULL on allocation failure.
 */
struct relay_connect *relay_connect_new(struct event_base *,
		    struct evdns_base *dns, const char *host, const char *port,
		    int seconds, const char *logname, relay_connect_cb cb,
		    void *arg);
/* relay_connect_free: gives up before the callback; no callback follows. */
void		 relay_connect_free(struct relay_connect *);

#endif
