/* smtp_server.c — listeners and TLS server contexts; see smtp_server.h. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <tls.h>

#include "conf/conf.h"
#include "lib/fileset.h"
#include "lib/log.h"
#include "proto/proxy_proto.h"
#include "smtpd/smtp_server.h"
#include "smtpd/smtp_session.h"
#include "smtpd/smtp_tls_tickets.h"

#define LISTEN_BACKLOG	1024

struct smtp_listener {
	struct smtp_server	*srv;
	size_t			 idx;		/* in conf->listen */
	int			 fd;
	enum listen_tls		 tls_mode;
	struct tls		*tls;
	struct event		*ev;
	struct event		*ev_pause;	/* out of fds: retry later */
};

struct smtp_server {
	struct smtp_ctx		 ctx;
	size_t			 nproxied;	/* waiting for their header */
	struct tls		**tls;		/* one per conf->pki */
	struct tls_config	**tls_cfg;	/* theirs: ticket keys rotate */
	struct event		*ev_rotate;
	struct smtp_listener	*listeners;
	size_t			 nlisteners;
};

/*
 * The server context of PKI with the TLS policy (issue 13): the protocols
 * and TLS 1.2 ciphers of the config (by default ECDHE with AEAD only),
 * the server's order, and resumption by session tickets.  *CFGP keeps the
 * config for the ticket key rotation.
 */
static struct tls *
smtp_tls_server(const struct conf *conf, const struct conf_pki *pki,
    struct tls_config **cfgp)
{
	struct tls_config	*cfg;
	uint32_t		 protocols;
	struct tls		*ctx = NULL;
	char			*cert = NULL, *key = NULL;
	size_t			 certlen = 0, keylen = 0;

	if ((cfg = tls_config_new()) == NULL) {
		log_warnx("pki %s: tls_config_new failed", pki->name);
		return NULL;
	}
	/* Through the one door a reload can fill (lib/fileset.h). */
	if (fileset_read(pki->cert_file, FILESET_FILE_MAX, &cert, &certlen,
	    NULL) == -1) {
		log_warn("pki %s: %s", pki->name, pki->cert_file);
		cert = NULL;
		goto out;
	}
	if (fileset_read(pki->key_file, FILESET_FILE_MAX, &key, &keylen,
	    NULL) == -1) {
		log_warn("pki %s: %s", pki->name, pki->key_file);
		key = NULL;
		goto out;
	}
	if (tls_config_parse_protocols(&protocols, conf->tls_protocols) == -1)
		protocols = TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3;
	tls_config_prefer_ciphers_server(cfg);
	if (tls_config_set_keypair_mem(cfg, (uint8_t *)cert,
	    certlen, (uint8_t *)key, keylen) == -1 ||
	    tls_config_set_protocols(cfg, protocols) == -1 ||
	    tls_config_set_ciphers(cfg, conf->tls_ciphers) == -1 ||
	    smtp_tls_tickets_apply(cfg) == -1) {
		log_warnx("pki %s: %s", pki->name, tls_config_error(cfg));
		goto out;
	}
	if ((ctx = tls_server()) == NULL || tls_configure(ctx, cfg) == -1) {
		log_warnx("pki %s: %s", pki->name,
		    ctx ? tls_error(ctx) : "tls_server failed");
		tls_free(ctx);
		ctx = NULL;
	}
out:
	fileset_buf_free(key, keylen);
	fileset_buf_free(cert, certlen);
	if (ctx != NULL)
		*cfgp = cfg;	/* shared with the context, freed with it */
	else
		tls_config_free(cfg);
	return ctx;
}

static void
smtp_tls_rotate(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_server	*srv = arg;
	struct timeval		 tv = { SMTP_TLS_TICKET_ROTATE, 0 };

	(void)fd;
	(void)what;
	smtp_tls_tickets_rotate(srv->tls_cfg, srv->ctx.conf->npki);
	evtimer_add(srv->ev_rotate, &tv);
}

static void
smtp_listener_resume(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_listener	*l = arg;

	(void)fd;
	(void)what;
	event_add(l->ev, NULL);
}

/*
 * PROXY protocol (issue 17): on a "proxy-from" listener, a connection from
 * a configured load balancer must start with a PROXY header (v1 or v2,
 * proto/proxy_proto.h); the session then sees the client's address (the
 * allowlist, rates, lockouts, logs, Received:).  Anything else, or from
 * anywhere else, is closed before a byte is sent back or any TLS work.
 * The header is peeked, then exactly its octets are read, so that what
 * follows it (a TLS ClientHello) stays for the session; the event is
 * edge-triggered, so that an incomplete header waits for more octets.
 */
#define PROXY_TIMEOUT_SECONDS	10
#define PROXY_PENDING_MAX	256

struct smtp_proxied {
	struct smtp_listener	*l;
	int			 fd;
	struct sockaddr_storage	 lb;	/* the load balancer */
	socklen_t		 lblen;
	struct event		*ev;
	struct timespec		 deadline;	/* the whole header by then */
};

static const char *
addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	const void	*a = sa->sa_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (inet_ntop(sa->sa_family, a, buf, size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

static void
smtp_proxy_refuse(struct smtp_proxied *p, const char *reason)
{
	char	 ip[INET6_ADDRSTRLEN];

	log_info("event=proxy-refused ip=%s reason=\"%s\"", addr_text(
	    (struct sockaddr *)&p->lb, ip, sizeof(ip)), reason);
	if (p->ev != NULL)
		event_free(p->ev);
	close(p->fd);
	p->l->srv->nproxied--;
	free(p);
}

static void
smtp_on_proxy(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_proxied	*p = arg;
	struct smtp_listener	*l = p->l;
	uint8_t			 buf[PROXY_HDR_MAX];
	struct proxy_hdr	 h;
	const struct sockaddr	*peer;
	socklen_t		 peerlen;
	const char		*why = "bad header";
	char			 ip[INET6_ADDRSTRLEN], lb[INET6_ADDRSTRLEN];
	ssize_t			 n;
	int			 r;

	if (what & EV_TIMEOUT) {
		smtp_proxy_refuse(p, "no PROXY header in time");
		return;
	}
	n = recv(fd, buf, sizeof(buf), MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		smtp_proxy_refuse(p, n == 0 ? "closed before the PROXY header" :
		    strerror(errno));
		return;
	}
	if ((r = proxy_parse(buf, (size_t)n, &h, &why)) == -1) {
		smtp_proxy_refuse(p, why);
		return;
	}
	if (r == 0) {	/* more octets to come, within what is left */
		struct timespec	 now;
		struct timeval	 left;
		long long	 ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (long long)(p->deadline.tv_sec - now.tv_sec) * 1000 +
		    (p->deadline.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			smtp_proxy_refuse(p, "no PROXY header in time");
			return;
		}
		/* a persistent event's timeout restarts at each wake-up */
		left.tv_sec = ms / 1000;
		left.tv_usec = (ms % 1000) * 1000;
		if (event_add(p->ev, &left) == -1)
			smtp_proxy_refuse(p, "out of memory");
		return;
	}
	if (recv(fd, buf, (size_t)r, 0) != r) {
		smtp_proxy_refuse(p, "short read");
		return;
	}
	peer = h.local ? (struct sockaddr *)&p->lb : (struct sockaddr *)&h.src;
	peerlen = h.local ? p->lblen : h.sslen;
	log_debug("event=proxy ip=%s lb=%s version=%d%s", addr_text(peer, ip,
	    sizeof(ip)), addr_text((struct sockaddr *)&p->lb, lb, sizeof(lb)),
	    h.version, h.local ? " local=1" : "");
	event_free(p->ev);
	l->srv->nproxied--;
	free(p);
	if (smtp_session_start(&l->srv->ctx, fd, peer, peerlen, l->tls_mode,
	    l->tls) == -1)
		log_warnx("session: out of memory, connection dropped");
}

/* FD from SS on a proxy-from listener: wait for its header, or refuse. */
static void
smtp_proxy_start(struct smtp_listener *l, int fd,
    const struct sockaddr_storage *ss, socklen_t sslen)
{
	const struct conf_listen *cl = &l->srv->ctx.conf->listen[l->idx];
	struct timeval		 tv = { PROXY_TIMEOUT_SECONDS, 0 };
	struct smtp_proxied	*p;
	size_t			 i;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return;
	}
	p->l = l;
	p->fd = fd;
	memcpy(&p->lb, ss, sslen);
	p->lblen = sslen;
	clock_gettime(CLOCK_MONOTONIC, &p->deadline);
	p->deadline.tv_sec += PROXY_TIMEOUT_SECONDS;
	l->srv->nproxied++;
	for (i = 0; i < cl->nproxy_from; i++)
		if (conf_cidr_match(&cl->proxy_from[i], (struct sockaddr *)ss))
			break;
	if (i == cl->nproxy_from) {
		smtp_proxy_refuse(p, "not a proxy-from address");
		return;
	}
	if (l->srv->nproxied > PROXY_PENDING_MAX) {
		smtp_proxy_refuse(p, "too many waiting for their header");
		return;
	}
	if ((p->ev = event_new(l->srv->ctx.base, fd, EV_READ | EV_ET |
	    EV_PERSIST, smtp_on_proxy, p)) == NULL ||
	    event_add(p->ev, &tv) == -1)
		smtp_proxy_refuse(p, "out of memory");
}

static void
smtp_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct smtp_listener	*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, i;

	(void)what;
	for (i = 0; i < 64; i++) {
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				struct timeval tv = { 1, 0 };

				log_warn("accept");
				event_del(l->ev);
				evtimer_add(l->ev_pause, &tv);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (l->srv->ctx.conf->listen[l->idx].nproxy_from > 0) {
			smtp_proxy_start(l, fd, &ss, sslen);
			continue;
		}
		if (smtp_session_start(&l->srv->ctx, fd, (struct sockaddr *)&ss,
		    sslen, l->tls_mode, l->tls) == -1)
			log_warnx("session: out of memory, connection dropped");
	}
}

int
smtp_listen_socket(const struct conf *conf, const struct conf_listen *cl)
{
	char	 host[INET6_ADDRSTRLEN] = "?";
	int	 fd, one = 1;
	const void *a = cl->ss.ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)&cl->ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)&cl->ss)->sin_addr;
	unsigned port = ntohs(cl->ss.ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)&cl->ss)->sin6_port :
	    ((const struct sockaddr_in *)&cl->ss)->sin_port);

	inet_ntop(cl->ss.ss_family, a, host, sizeof(host));
	fd = socket(cl->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (cl->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (const struct sockaddr *)&cl->ss, cl->sslen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		log_warn("%s:%d: listen on %s port %u", conf->file, cl->line,
		    host, port);
		if (fd != -1)
			close(fd);
		return -1;
	}
	log_info("event=listen address=%s port=%u tls=%s%s", host, port,
	    cl->tls == LISTEN_TLS ? "implicit" : "starttls",
	    cl->nproxy_from > 0 ? " proxy=1" : "");
	return fd;
}

int
smtp_listen_open(const struct conf *conf, int *fds)
{
	size_t	 i;

	for (i = 0; i < conf->nlisten; i++)
		if ((fds[i] = smtp_listen_socket(conf, &conf->listen[i])) == -1) {
			while (i-- > 0)
				close(fds[i]);
			return -1;
		}
	return 0;
}

struct smtp_server *
smtp_server_new(struct event_base *base, const struct conf *conf,
    const struct smtp_services *services, const int *fds)
{
	struct smtp_server	*srv;
	size_t			 j;

	if ((srv = smtp_server_prepare(base, conf, services)) == NULL) {
		for (j = 0; j < conf->nlisten; j++)
			close(fds[j]);
		return NULL;
	}
	smtp_server_listen(srv, fds);
	return srv;
}

struct smtp_server *
smtp_server_prepare(struct event_base *base, const struct conf *conf,
    const struct smtp_services *services)
{
	struct smtp_server	*srv;
	struct timeval		 tv = { SMTP_TLS_TICKET_ROTATE, 0 };
	size_t			 i;

	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->tls = calloc(conf->npki + 1, sizeof(*srv->tls))) == NULL ||
	    (srv->tls_cfg = calloc(conf->npki + 1, sizeof(*srv->tls_cfg))) ==
	    NULL ||
	    (srv->listeners = calloc(conf->nlisten + 1,
	    sizeof(*srv->listeners))) == NULL)
		fatal("smtp_server_new");
	srv->ctx.base = base;
	srv->ctx.conf = conf;
	srv->ctx.services = services;
	TAILQ_INIT(&srv->ctx.sessions);
	TAILQ_INIT(&srv->ctx.handshake_queue);
	for (i = 0; i < conf->ndkim; i++) {
		if (conf->dkim[i].canon_simple)
			srv->ctx.need_bh_simple = 1;
		else
			srv->ctx.need_bh_relaxed = 1;
	}
	for (i = 0; i < conf->npki; i++)
		if ((srv->tls[i] = smtp_tls_server(conf, &conf->pki[i],
		    &srv->tls_cfg[i])) == NULL) {
			smtp_server_free(srv);
			return NULL;
		}
	if ((srv->ev_rotate = evtimer_new(base, smtp_tls_rotate, srv)) == NULL ||
	    evtimer_add(srv->ev_rotate, &tv) == -1)
		fatal("evtimer_new");
	return srv;
}

void
smtp_server_listen(struct smtp_server *srv, const int *fds)
{
	const struct conf	*conf = srv->ctx.conf;
	size_t			 i, j;

	for (i = 0; i < conf->nlisten; i++) {
		const struct conf_listen *cl = &conf->listen[i];
		struct smtp_listener	 *l = &srv->listeners[i];

		l->srv = srv;
		l->idx = i;
		l->tls_mode = cl->tls;
		for (j = 0; j < conf->npki; j++)
			if (&conf->pki[j] == cl->pki)
				l->tls = srv->tls[j];
		if (l->tls == NULL)
			fatalx("listen line %d: pki not resolved", cl->line);
		l->fd = fds[i];
		srv->nlisteners++;
		if ((l->ev = event_new(srv->ctx.base, l->fd, EV_READ | EV_PERSIST,
		    smtp_on_accept, l)) == NULL ||
		    (l->ev_pause = evtimer_new(srv->ctx.base,
		    smtp_listener_resume, l)) == NULL || event_add(l->ev, NULL) == -1)
			fatal("event_new");
	}
}

int
smtp_server_take_fd(struct smtp_server *srv, const struct conf_listen *cl)
{
	const struct conf	*conf = srv->ctx.conf;
	size_t			 i;
	int			 fd;

	for (i = 0; i < srv->nlisteners && i < conf->nlisten; i++)
		if (srv->listeners[i].fd != -1 &&
		    conf->listen[i].sslen == cl->sslen &&
		    memcmp(&conf->listen[i].ss, &cl->ss, cl->sslen) == 0) {
			fd = srv->listeners[i].fd;
			srv->listeners[i].fd = -1;
			return fd;
		}
	return -1;
}

void
smtp_server_retire(struct smtp_server *srv)
{
	size_t	 i;

	/* Its contexts no longer take new sessions: no more keys for them. */
	if (srv->ev_rotate)
		event_free(srv->ev_rotate);
	srv->ev_rotate = NULL;
	for (i = 0; i < srv->nlisteners; i++) {
		struct smtp_listener *l = &srv->listeners[i];

		if (l->ev)
			event_free(l->ev);
		if (l->ev_pause)
			event_free(l->ev_pause);
		l->ev = l->ev_pause = NULL;
		if (l->fd != -1)
			close(l->fd);
		l->fd = -1;
	}
}

void
smtp_server_stop(struct smtp_server *srv)
{
	size_t	 i;

	smtp_sessions_shutdown(&srv->ctx, 0);
	for (i = 0; i < srv->nlisteners; i++) {
		struct smtp_listener *l = &srv->listeners[i];

		if (l->ev)
			event_free(l->ev);
		if (l->ev_pause)
			event_free(l->ev_pause);
		l->ev = l->ev_pause = NULL;
		if (l->fd != -1)
			close(l->fd);
		l->fd = -1;
	}
}

size_t
smtp_server_sessions(const struct smtp_server *srv)
{
	return srv->ctx.nsessions;
}

void
smtp_server_free(struct smtp_server *srv)
{
	size_t	 i;

	if (srv == NULL)
		return;
	smtp_server_stop(srv);
	smtp_sessions_shutdown(&srv->ctx, 1);
	if (srv->ev_rotate)
		event_free(srv->ev_rotate);
	if (srv->ctx.ev_trim)
		event_free(srv->ctx.ev_trim);
	if (srv->ctx.ev_handshake)
		event_free(srv->ctx.ev_handshake);
	for (i = 0; i < srv->ctx.conf->npki; i++) {
		tls_free(srv->tls[i]);
		tls_config_free(srv->tls_cfg[i]);
	}
	free(srv->tls);
	free(srv->tls_cfg);
	free(srv->listeners);
	free(srv);
}
