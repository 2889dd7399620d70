/*
 * relay_connect.c — resolve and connect for the relay; see relay_connect.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "lib/log.h"
#include "relay/relay_connect.h"

struct relay_connect {
	struct event_base	*base;
	struct evdns_base	*dns;
	char			*host;
	char			 port[6];
	int			 seconds;
	char			 logname[320];
	relay_connect_cb	 cb;
	void			*arg;

	struct evdns_getaddrinfo_request *req;
	int			 dns_done;
	int			 dns_err;
	struct evutil_addrinfo	*ai, *next;

	int			 fd;		/* the address being tried */
	int			 last_errno;
	struct event		*ev_connect;
	struct event		*ev_step;	/* start; resolved */
};

static void	rc_step(evutil_socket_t, short, void *);

struct relay_connect *
relay_connect_new(struct event_base *base, struct evdns_base *dns,
    const char *host, const char *port, int seconds, const char *logname,
    relay_connect_cb cb, void *arg)
{
	struct relay_connect	*c;
	struct timeval		 now = { 0, 0 };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->dns = dns;
	c->fd = -1;
	c->seconds = seconds;
	c->cb = cb;
	c->arg = arg;
	(void)snprintf(c->port, sizeof(c->port), "%s", port);
	(void)snprintf(c->logname, sizeof(c->logname), "%s", logname);
	if ((c->host = strdup(host)) == NULL ||
	    (c->ev_step = evtimer_new(base, rc_step, c)) == NULL ||
	    evtimer_add(c->ev_step, &now) == -1) {
		relay_connect_free(c);
		return NULL;
	}
	return c;
}

void
relay_connect_free(struct relay_connect *c)
{
	if (c == NULL)
		return;
	if (c->req != NULL) {
		struct evdns_getaddrinfo_request *req = c->req;

		c->req = NULL;
		evdns_getaddrinfo_cancel(req);	/* calls back: ignored */
	}
	if (c->ai != NULL)
		evutil_freeaddrinfo(c->ai);
	if (c->ev_connect != NULL)
		event_free(c->ev_connect);
	if (c->ev_step != NULL)
		event_free(c->ev_step);
	if (c->fd != -1)
		close(c->fd);
	free(c->host);
	free(c);
}

/* The end: hand FD (or the error) over; C is gone before the callback. */
static void
rc_finish(struct relay_connect *c, int fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rc_finish(struct relay_connect *c, int fd, const char *fmt, ...)
{
	relay_connect_cb	 cb = c->cb;
	void			*arg = c->arg;
	char			 error[256] = "";
	va_list			 ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		(void)vsnprintf(error, sizeof(error), fmt, ap);
		va_end(ap);
	}
	c->fd = -1;
	relay_connect_free(c);
	cb(fd, error, arg);
}

static void
rc_resolved(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct relay_connect	*c = arg;

	if (err == EVUTIL_EAI_CANCEL)
		return;			/* being freed */
	c->req = NULL;
	c->dns_done = 1;
	c->dns_err = err;
	c->ai = c->next = ai;
	/* Go on from the loop: evdns may call back from inside the lookup. */
	event_active(c->ev_step, EV_TIMEOUT, 0);
}

static void
rc_resolve(struct relay_connect *c)
{
	struct evdns_getaddrinfo_request *req;
	struct evutil_addrinfo	 hints, *ai = NULL;
	int			 err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	if (c->dns == NULL) {
		err = evutil_getaddrinfo(c->host, c->port, &hints, &ai);
		rc_resolved(err, ai, c);
		return;
	}
	req = evdns_getaddrinfo(c->dns, c->host, c->port, &hints,
	    rc_resolved, c);
	if (!c->dns_done)
		c->req = req;
}

static void
rc_addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char	 host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		(void)snprintf(buf, size, "?");
	else if (sa->sa_family == AF_INET6)
		(void)snprintf(buf, size, "[%s]:%s", host, serv);
	else
		(void)snprintf(buf, size, "%s:%s", host, serv);
}

static void	rc_try_next(struct relay_connect *);

static void
rc_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_connect	*c = arg;
	struct evutil_addrinfo	*ai = c->next;
	char			 addr[NI_MAXHOST + NI_MAXSERV + 4];
	int			 err = ETIMEDOUT;
	socklen_t		 len = sizeof(err);

	event_free(c->ev_connect);
	c->ev_connect = NULL;
	if ((what & EV_WRITE) &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	rc_addr_text(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr));
	if (err == 0) {
		log_info("%s event=connect addr=%s", c->logname, addr);
		rc_finish(c, c->fd, NULL);
		return;
	}
	log_warnx("%s event=connect result=fail addr=%s error=%s",
	    c->logname, addr, log_q(strerror(err)));
	close(c->fd);
	c->fd = -1;
	c->last_errno = err;
	c->next = ai->ai_next;
	rc_try_next(c);
}

/* Non-blocking connect to the next address, or fail when none is left. */
static void
rc_try_next(struct relay_connect *c)
{
	struct evutil_addrinfo	*ai;
	struct timeval		 tv = { c->seconds, 0 };
	int			 fd;

	for (ai = c->next; ai != NULL; ai = c->next = ai->ai_next) {
		fd = socket(ai->ai_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			c->last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			c->last_errno = errno;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->ev_connect = event_new(c->base, fd, EV_WRITE,
		    rc_connect_cb, c);
		if (c->ev_connect == NULL ||
		    event_add(c->ev_connect, &tv) == -1)
			rc_finish(c, -1, "out of memory");
		return;
	}
	rc_finish(c, -1, "cannot connect to %s:%s: %s", c->host, c->port,
	    strerror(c->last_errno ? c->last_errno : EHOSTUNREACH));
}

/* From the loop: first resolve, then (once resolved) connect. */
static void
rc_step(evutil_socket_t fd, short what, void *arg)
{
	struct relay_connect	*c = arg;

	(void)fd;
	(void)what;
	if (!c->dns_done) {
		rc_resolve(c);
		return;
	}
	if (c->dns_err != 0 || c->ai == NULL) {
		rc_finish(c, -1, "cannot resolve %s: %s", c->host,
		    evutil_gai_strerror(c->dns_err));
		return;
	}
	rc_try_next(c);
}
