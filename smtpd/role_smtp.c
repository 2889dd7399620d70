/*
 * role_smtp.c — the smtp role: the process that talks SMTP with the
 * internet.  It holds the listeners and the TLS server keys, and reaches
 * the auth and queue roles only through IPC: it never sees a password
 * hash, a DKIM key or the upstream secret, and opens no file itself (the
 * queue hands it the message file).
 */
#include <sys/queue.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "conf/conf.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "lib/reqtab.h"
#include "smtpd/roles.h"
#include "smtpd/smtp_metrics.h"
#include "smtpd/smtp_server.h"
#include "smtpd/smtp_session.h"

#define SMTP_DRAIN_SECONDS	5	/* SIGTERM: time for sessions in DATA */

enum pending_kind { P_AUTH, P_OPEN, P_COMMIT, P_POLICY };

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	enum pending_kind	 kind;
	union {
		auth_login_cb	 auth;
		queue_open_cb	 open;
		smtp_commit_cb	 commit;
		policy_cb	 policy;
	} cb;
	void			*arg;	/* NULL: the session gave up on it */
};

static struct {
	struct event_base	*base;
	struct ipc		*auth;
	struct ipc		*queue;
	struct reqtab		*reqs;
	TAILQ_HEAD(, pending)	 pendings;	/* every request in reqs */
	struct smtp_server	*srv;
	struct event		*ev_drain;
	time_t			 drain_deadline;
	struct conf		*conf;
	uint64_t		 max_size;	/* limit message-size, configured */
	uint64_t		 upstream_size;	/* the smarthost's SIZE, 0: none */
	/* Issue 14, reload: generations replaced, still serving sessions. */
	struct smtp_server	**old;
	struct conf		**old_conf;
	size_t			 nold;
	struct event		*ev_reap;
	struct event		*ev_metrics;	/* issue 15 */
	struct smtp_metrics	 sent;
	struct smtp_server	*pend_srv;	/* prepared, not committed */
	struct conf		*pend_conf;
	int			*pend_fds;	/* new listeners by index, -1 */
	size_t			 npend_fds;
} S;

static uint64_t
pend(enum pending_kind kind, void *cb, void *arg)
{
	struct pending	*p;
	uint64_t	 id;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (id = reqtab_add(S.reqs, p)) == 0)
		fatal("pending request");
	p->kind = kind;
	p->arg = arg;
	TAILQ_INSERT_TAIL(&S.pendings, p, entry);
	switch (kind) {
	case P_AUTH: p->cb.auth = (auth_login_cb)cb; break;
	case P_OPEN: p->cb.open = (queue_open_cb)cb; break;
	case P_COMMIT: p->cb.commit = (smtp_commit_cb)cb; break;
	case P_POLICY: p->cb.policy = (policy_cb)cb; break;
	}
	return id;
}

static void
send_or_die(struct ipc *c, uint32_t type, uint64_t id, int fd, const void *d,
    size_t len)
{
	if (ipc_send(c, type, id, fd, d, len) == -1)
		fatalx("cannot send %s", ipc_type_name(type));
}

/* The services of the session, over IPC. */

static int
svc_auth_login(void *svc, const char *user, const char *password,
    const struct sockaddr *peer, int sock, auth_login_cb cb, void *arg)
{
	struct ipc_auth_login	 m;
	size_t			 plen = peer->sa_family == AF_INET6 ?
				    sizeof(struct sockaddr_in6) :
				    sizeof(struct sockaddr_in);

	(void)svc;
	memset(&m, 0, sizeof(m));
	if (strlen(user) >= sizeof(m.user) || strlen(password) >= sizeof(m.password))
		return -1;
	memcpy(m.user, user, strlen(user));
	memcpy(m.password, password, strlen(password));
	memcpy(&m.peer, peer, plen);
	/* The auth role reads the client's address from the socket. */
	send_or_die(S.auth, IPC_AUTH_LOGIN, pend(P_AUTH, (void *)cb, arg),
	    sock, &m, sizeof(m));
	sodium_memzero(&m, sizeof(m));
	return 0;
}

static void
svc_queue_open(void *svc, queue_open_cb cb, void *arg)
{
	(void)svc;
	send_or_die(S.queue, IPC_QUEUE_OPEN, pend(P_OPEN, (void *)cb, arg), -1,
	    NULL, 0);
}

static void
svc_queue_commit(void *svc, uint64_t grant, const char *queue_id,
    const struct envelope *env, const struct queue_sign_input *sign,
    smtp_commit_cb cb, void *arg)
{
	void	*buf;
	size_t	 len;

	(void)svc;
	(void)queue_id;		/* env->queue_id says the same */
	if (ipc_commit_encode(grant, env, sign, &buf, &len) == -1)
		fatalx("envelope too large for IPC");
	send_or_die(S.queue, IPC_QUEUE_COMMIT, pend(P_COMMIT, (void *)cb, arg),
	    -1, buf, len);
	free(buf);
}

static void
svc_queue_abort(void *svc, const char *queue_id)
{
	struct ipc_queue_status	 m;

	(void)svc;
	memset(&m, 0, sizeof(m));
	snprintf(m.queue_id, sizeof(m.queue_id), "%s", queue_id);
	send_or_die(S.queue, IPC_QUEUE_ABORT, 0, -1, &m, sizeof(m));
}

/* Issue 5: the access policy, asked of the auth role. */
static void
svc_policy_connect(void *svc, const struct sockaddr *peer, int sock,
    policy_cb cb, void *arg)
{
	struct ipc_policy	 m;

	(void)svc;
	memset(&m, 0, sizeof(m));
	memcpy(&m.peer, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	/* The auth role reads the client's address from the socket. */
	send_or_die(S.auth, IPC_POLICY_CONNECT, pend(P_POLICY, (void *)cb, arg),
	    sock, &m, sizeof(m));
}

static void
svc_policy_mail(void *svc, const char *user, uint64_t grant, uint64_t size,
    policy_cb cb, void *arg)
{
	struct ipc_policy	 m;

	(void)svc;
	memset(&m, 0, sizeof(m));
	m.peer.ss_family = AF_INET;	/* unused: the grant has it */
	snprintf(m.user, sizeof(m.user), "%s", user);
	m.size = size > IPC_POLICY_SIZE_MAX ? IPC_POLICY_SIZE_MAX : size;
	m.grant = grant;
	send_or_die(S.auth, IPC_POLICY_MAIL, pend(P_POLICY, (void *)cb, arg),
	    -1, &m, sizeof(m));
}

static void
svc_session_end(void *svc, uint64_t grant)
{
	(void)svc;
	send_or_die(S.auth, IPC_GRANT_END, 0, -1, &grant, sizeof(grant));
	send_or_die(S.queue, IPC_GRANT_END, 0, -1, &grant, sizeof(grant));
}

static void	svc_cancel(void *, void *);

static const struct smtp_services smtp_ipc_services = {
	.policy_connect = svc_policy_connect,
	.policy_mail = svc_policy_mail,
	.session_end = svc_session_end,
	.cancel = svc_cancel,
	.auth_login = svc_auth_login,
	.queue_open = svc_queue_open,
	.queue_commit = svc_queue_commit,
	.queue_abort = svc_queue_abort,
};

/* Replies. */

/*
 * The request a reply answers, or NULL: unknown (logged), or given up by
 * its session (smtp_services.cancel): then it is dropped here, with the
 * message file it brought (the queue removes it).
 */
static struct pending *
take(const struct ipc_msg *m, enum pending_kind kind,
    const struct ipc_queue_status *st)
{
	struct pending		*p = reqtab_take(S.reqs, m->reqid);
	struct ipc_queue_status	 ab;

	if (p != NULL && p->kind != kind) {
		fatalx("reply %s to a request of another kind",
		    ipc_type_name(m->type));
	}
	if (p == NULL) {
		log_warnx("event=ipc-reject reason=\"unknown request\" "
		    "type=%s", ipc_type_name(m->type));
		if (m->fd != -1)
			close(m->fd);
		return NULL;
	}
	TAILQ_REMOVE(&S.pendings, p, entry);
	if (p->arg != NULL)
		return p;
	if (m->fd != -1)
		close(m->fd);
	if (kind == P_OPEN && st != NULL && st->status == QUEUE_OK) {
		memset(&ab, 0, sizeof(ab));
		memcpy(ab.queue_id, st->queue_id, sizeof(ab.queue_id));
		send_or_die(S.queue, IPC_QUEUE_ABORT, 0, -1, &ab, sizeof(ab));
	}
	free(p);
	return NULL;
}

/*
 * Issue 12 item 2: a reply that cannot be read still ends its request,
 * as a temporary failure, so that no session waits for ever.
 */
static void
fail_pending(const struct ipc_msg *m, const char *from)
{
	struct pending		*p;
	struct auth_reply	 ar;
	struct policy_result	 pr;

	role_ipc_reject(m, from, "malformed");
	if ((p = reqtab_take(S.reqs, m->reqid)) == NULL)
		return;
	TAILQ_REMOVE(&S.pendings, p, entry);
	log_warnx("event=request-failed reason=\"malformed reply\" type=%s",
	    ipc_type_name(m->type));
	if (p->arg != NULL) {
		switch (p->kind) {
		case P_AUTH:
			memset(&ar, 0, sizeof(ar));
			p->cb.auth(p->arg, &ar);
			break;
		case P_POLICY:
			memset(&pr, 0, sizeof(pr));
			pr.verdict = POLICY_TEMP;
			snprintf(pr.reply, sizeof(pr.reply), "451 4.3.0 "
			    "Temporary internal error, try again later");
			p->cb.policy(p->arg, &pr);
			break;
		case P_OPEN:
			p->cb.open(p->arg, QUEUE_ERR_TEMP, -1, "");
			break;
		case P_COMMIT:
			p->cb.commit(p->arg, QUEUE_ERR_TEMP, "", "");
			break;
		}
	}
	free(p);
}

/* The session ARG gives up on what it waits for: the replies are dropped. */
static void
svc_cancel(void *svc, void *arg)
{
	struct pending	*p;

	(void)svc;
	TAILQ_FOREACH(p, &S.pendings, entry)
		if (p->arg == arg)
			p->arg = NULL;
}

static void
dispatch_auth(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct auth_reply	 r;
	struct policy_result	 pr;
	struct pending		*p;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("smtp", "auth");
	switch (m->type) {
	case IPC_AUTH_RESULT:
		if (m->fd != -1 || ipc_auth_result_decode(m->data, m->len, &r) == -1) {
			fail_pending(m, "auth");
			return;
		}
		if ((p = take(m, P_AUTH, NULL)) == NULL)
			return;
		p->cb.auth(p->arg, &r);
		sodium_memzero(&r, sizeof(r));
		free(p);
		break;
	case IPC_POLICY_RESULT:
		if (m->fd != -1 ||
		    ipc_policy_result_decode(m->data, m->len, &pr) == -1) {
			fail_pending(m, "auth");
			return;
		}
		if ((p = take(m, P_POLICY, NULL)) == NULL)
			return;
		p->cb.policy(p->arg, &pr);
		free(p);
		break;
	default:
		role_ipc_reject(m, "auth", "unexpected type");
	}
}

static void
dispatch_queue(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_queue_status	 st;
	struct pending		*p;
	struct ipc_upstream	 up;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("smtp", "queue");
	switch (m->type) {
	case IPC_QUEUE_OPENED:
		if (ipc_queue_status_decode(m->data, m->len, &st) == -1 ||
		    (st.status == QUEUE_OK) != (m->fd != -1)) {
			fail_pending(m, "queue");
			return;
		}
		if ((p = take(m, P_OPEN, &st)) == NULL)
			return;	/* its fd closed, its file aborted */
		p->cb.open(p->arg, st.status, m->fd, st.queue_id);
		free(p);
		break;
	case IPC_QUEUE_SIZE:	/* the upstream's SIZE (issue 7), SMTPUTF8 (13) */
		if (m->fd != -1 || ipc_upstream_decode(m->data, m->len, &up) == -1) {
			role_ipc_reject(m, "queue", "malformed");
			return;
		}
		/* EHLO, MAIL SIZE= and DATA all check conf->max_message_size */
		S.upstream_size = up.size;
		S.conf->max_message_size = up.size != 0 && up.size < S.max_size ?
		    up.size : S.max_size;
		smtp_sessions_smtputf8(up.smtputf8);
		log_info("event=upstream-size size=%llu limit=%llu smtputf8=%s",
		    (unsigned long long)up.size,
		    (unsigned long long)S.conf->max_message_size,
		    up.smtputf8 ? "yes" : "no");
		break;
	case IPC_QUEUE_COMMITTED:
		if (m->fd != -1 ||
		    ipc_queue_status_decode(m->data, m->len, &st) == -1) {
			fail_pending(m, "queue");
			return;
		}
		if ((p = take(m, P_COMMIT, NULL)) == NULL)
			return;
		p->cb.commit(p->arg, st.status, st.queue_id, st.text);
		free(p);
		break;
	default:
		role_ipc_reject(m, "queue", "unexpected type");
	}
}

/* Sessions of every generation (reload). */
static size_t
all_sessions(void)
{
	size_t	 i, n = smtp_server_sessions(S.srv);

	for (i = 0; i < S.nold; i++)
		n += smtp_server_sessions(S.old[i]);
	return n;
}

/*
 * Issue 14, live reload.  A reload makes a new generation (config, TLS
 * contexts, listeners); the one it replaces stops accepting but keeps
 * its sessions, which finish under the settings they started with, and
 * is freed when the last of them ends.  Listening sockets the new config
 * keeps are moved over (no connection refused); new ones come from the
 * parent (IPC_RELOAD_LISTEN), dropped ones are closed.
 */
static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	size_t		 i;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < S.nold; ) {
		if (smtp_server_sessions(S.old[i]) != 0) {
			i++;
			continue;
		}
		smtp_server_free(S.old[i]);
		conf_free(S.old_conf[i]);
		S.old[i] = S.old[S.nold - 1];
		S.old_conf[i] = S.old_conf[S.nold - 1];
		S.nold--;
	}
	if (S.nold > 0)
		evtimer_add(S.ev_reap, &tv);
}

static void
reload_drop_fds(void)
{
	size_t	 i;

	for (i = 0; i < S.npend_fds; i++)
		if (S.pend_fds[i] != -1)
			close(S.pend_fds[i]);
	free(S.pend_fds);
	S.pend_fds = NULL;
	S.npend_fds = 0;
}

static int
reload_prepare(struct conf *conf, FILE *errf)
{
	if ((S.pend_srv = smtp_server_prepare(S.base, conf,
	    &smtp_ipc_services)) == NULL) {
		fprintf(errf, "%s: smtp: cannot load the certificates (see "
		    "the log)\n", conf->file);
		return -1;
	}
	S.pend_conf = conf;
	return 0;
}

static void
reload_abort(void)
{
	smtp_server_free(S.pend_srv);
	conf_free(S.pend_conf);
	S.pend_srv = NULL;
	S.pend_conf = NULL;
	reload_drop_fds();
}

static void
reload_commit(void)
{
	struct conf	*conf = S.pend_conf;
	struct timeval	 tv = { 1, 0 };
	int		*fds;
	size_t		 i;

	if ((fds = calloc(conf->nlisten + 1, sizeof(*fds))) == NULL ||
	    (S.old = reallocarray(S.old, S.nold + 1, sizeof(*S.old))) == NULL ||
	    (S.old_conf = reallocarray(S.old_conf, S.nold + 1,
	    sizeof(*S.old_conf))) == NULL)
		fatal("reload");
	for (i = 0; i < conf->nlisten; i++) {
		if (i < S.npend_fds && S.pend_fds[i] != -1) {
			fds[i] = S.pend_fds[i];
			S.pend_fds[i] = -1;
		} else if ((fds[i] = smtp_server_take_fd(S.srv,
		    &conf->listen[i])) == -1)
			fatalx("reload: listen line %d: no socket", conf->listen[i].line);
	}
	reload_drop_fds();
	smtp_server_retire(S.srv);
	S.old[S.nold] = S.srv;
	S.old_conf[S.nold++] = S.conf;
	smtp_server_listen(S.pend_srv, fds);
	free(fds);
	S.srv = S.pend_srv;
	S.conf = conf;
	S.max_size = conf->max_message_size;
	S.conf->max_message_size = S.upstream_size != 0 &&
	    S.upstream_size < S.max_size ? S.upstream_size : S.max_size;
	S.pend_srv = NULL;
	S.pend_conf = NULL;
	evtimer_add(S.ev_reap, &tv);
}

/* IPC_RELOAD_LISTEN: u32 index (big-endian) of a new listener; fd. */
static void
reload_dispatch(const struct ipc_msg *m)
{
	const unsigned char	*d = m->data;
	uint32_t		 idx;
	int			*n;

	if (m->type != IPC_RELOAD_LISTEN || m->fd == -1 || m->len != 4) {
		role_ipc_reject(m, "parent", "unexpected");
		return;
	}
	idx = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3];
	if (idx >= 4096) {
		role_ipc_reject(m, "parent", "malformed");
		return;
	}
	if (idx >= S.npend_fds) {
		if ((n = reallocarray(S.pend_fds, idx + 1, sizeof(*n))) == NULL)
			fatal("reload");
		while (S.npend_fds <= idx)
			n[S.npend_fds++] = -1;
		S.pend_fds = n;
	}
	if (S.pend_fds[idx] != -1)
		close(S.pend_fds[idx]);
	S.pend_fds[idx] = m->fd;
}

static const struct role_reload smtp_reload = {
	.prepare = reload_prepare,
	.commit = reload_commit,
	.abort = reload_abort,
	.dispatch = reload_dispatch,
};

/* SIGTERM: stop accepting, let sessions in DATA finish within a bound. */
static void
on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { 0, 100000 };

	(void)fd;
	(void)what;
	(void)arg;
	if (all_sessions() == 0 || time(NULL) >= S.drain_deadline) {
		event_base_loopexit(S.base, NULL);
		return;
	}
	evtimer_add(S.ev_drain, &tv);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	size_t	 i;

	(void)sig;
	(void)what;
	(void)arg;
	if (S.drain_deadline != 0) {
		event_base_loopexit(S.base, NULL);
		return;
	}
	log_info("event=shutdown sessions=%zu", all_sessions());
	smtp_server_stop(S.srv);
	for (i = 0; i < S.nold; i++)
		smtp_server_stop(S.old[i]);
	S.drain_deadline = time(NULL) + SMTP_DRAIN_SECONDS;
	on_drain_tick(-1, 0, NULL);
}

/*
 * Issue 15: the counters to the auth role, which prints them at each
 * scrape (smtp_metrics.h), once a second when they changed.
 */
static void
on_metrics_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	smtp_metrics.sessions_open = all_sessions();
	if (memcmp(&smtp_metrics, &S.sent, sizeof(S.sent)) == 0)
		return;
	if (ipc_send(S.auth, IPC_SMTP_METRICS, 0, -1, &smtp_metrics,
	    sizeof(smtp_metrics)) == 0)
		S.sent = smtp_metrics;
}

void
role_smtp_main(struct conf *conf, int *listen_fds, int auth_fd, int queue_fd)
{
	struct event	*term, *intr;
	struct timeval	 tick = { 1, 0 };

	S.base = role_start("smtp");
	S.conf = conf;
	S.max_size = conf->max_message_size;
	/* TLS keys are read while still root; then privileges go. */
	if ((S.srv = smtp_server_new(S.base, conf, &smtp_ipc_services,
	    listen_fds)) == NULL)
		fatalx("cannot start");
	role_sandbox(conf, PRIVSEP_EMPTY_DIR, "smtp");
	TAILQ_INIT(&S.pendings);
	if ((S.reqs = reqtab_new()) == NULL ||
	    (S.auth = ipc_new(S.base, auth_fd, "smtp<-auth", dispatch_auth,
	    NULL)) == NULL ||
	    (S.queue = ipc_new(S.base, queue_fd, "smtp<-queue", dispatch_queue,
	    NULL)) == NULL ||
	    (S.ev_drain = evtimer_new(S.base, on_drain_tick, NULL)) == NULL ||
	    (S.ev_reap = evtimer_new(S.base, on_reap, NULL)) == NULL ||
	    (S.ev_metrics = event_new(S.base, -1, EV_PERSIST, on_metrics_tick,
	    NULL)) == NULL || event_add(S.ev_metrics, &tick) == -1 ||
	    (term = evsignal_new(S.base, SIGTERM, on_term, NULL)) == NULL ||
	    (intr = evsignal_new(S.base, SIGINT, on_term, NULL)) == NULL ||
	    evsignal_add(term, NULL) == -1 || evsignal_add(intr, NULL) == -1)
		fatal("setup");
	role_reload_init(S.base, "smtp", &smtp_reload);
	role_ready();
	event_base_dispatch(S.base);
	log_debug("exiting");
	exit(0);
}
