/*
 * role_auth.c — the auth role: the users table and the password checks,
 * asked by the smtp role over IPC.  It vouches for each good login to the
 * queue on their own channel (a grant, auth/grant.h) and keeps the quota
 * reservations, which the queue, not the smtp role, settles.  The client
 * address comes from the session's socket (getpeername), never from what
 * the smtp role writes.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "auth/abuse.h"
#include "auth/auth.h"
#include "auth/auth_ctl.h"
#include "auth/auth_metrics.h"
#include "auth/grant.h"
#include "auth/pace.h"
#include "auth/policy.h"
#include "auth/policy_text.h"
#include "auth/state.h"
#include "auth/store.h"
#include "auth/users.h"
#include "conf/conf.h"
#include "smtpd/ctl_serve.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "smtpd/roles.h"
#include "smtpd/smtp_metrics.h"

static struct ipc	*auth_smtp;
static struct ipc	*auth_control;	/* submitctl requests (issue 7) */
static struct ipc	*auth_queue;	/* grants and commits (issue 12) */
static struct ipc	*auth_relay;	/* pacing (issue 12 item 5) */

struct auth_req {
	uint64_t	 reqid;
	char		 ip[64];	/* from the socket */
};

static const struct conf	*auth_conf;
static struct smtp_metrics	 smtp_last;	/* the smtp role's (issue 15) */

/* Port of SA (AF_INET or AF_INET6). */
static unsigned
sa_port(const struct sockaddr_storage *sa)
{
	return ntohs(sa->ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)sa)->sin6_port :
	    ((const struct sockaddr_in *)sa)->sin_port);
}

/* Is LOCAL (the socket's own address) on listener L? */
static int
on_listener(const struct conf_listen *l, const struct sockaddr_storage *local)
{
	static const uint8_t	 zero[16];

	if (l->ss.ss_family != local->ss_family ||
	    sa_port(&l->ss) != sa_port(local))
		return 0;
	if (local->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&l->ss;
		const struct sockaddr_in *b = (const void *)local;

		return a->sin_addr.s_addr == INADDR_ANY ||
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *a = (const void *)&l->ss;
		const struct sockaddr_in6 *b = (const void *)local;

		return memcmp(&a->sin6_addr, zero, 16) == 0 ||
		    memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0;
	}
}

/*
 * Issue 17: a connection from a load balancer on a "proxy-from" listener
 * carries the client's address in its PROXY header, which the smtp role
 * read: only then is CLAIMED (the smtp role's word) taken, and only for a
 * socket the kernel says came from one of that listener's balancers.
 */
static int
proxied(int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage	 local;
	socklen_t		 len = sizeof(local);
	size_t			 i, j;

	if (auth_conf == NULL ||
	    getsockname(fd, (struct sockaddr *)&local, &len) == -1)
		return 0;
	for (i = 0; i < auth_conf->nlisten; i++) {
		const struct conf_listen *l = &auth_conf->listen[i];

		if (l->nproxy_from == 0 || !on_listener(l, &local))
			continue;
		for (j = 0; j < l->nproxy_from; j++)
			if (conf_cidr_match(&l->proxy_from[j],
			    (const struct sockaddr *)peer))
				return 1;
	}
	return 0;
}

/*
 * The client's address from the socket FD the smtp role passed (closed
 * here): a TCP socket over IPv4 or IPv6, or -1.  A compromised smtp role
 * can pass only sockets it holds: accepted connections (it may not make
 * others: lib/sandbox.c).  Behind a load balancer (proxied()), the
 * address of the PROXY header, CLAIMED.
 */
static int
client_peer(int fd, const struct sockaddr_storage *claimed,
    struct sockaddr_storage *ss)
{
	socklen_t	 len = sizeof(*ss);
	int		 type = 0, rv = -1;
	socklen_t	 tlen = sizeof(type);

	memset(ss, 0, sizeof(*ss));
	if (fd != -1 &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
	    type == SOCK_STREAM &&
	    getpeername(fd, (struct sockaddr *)ss, &len) == 0 &&
	    (ss->ss_family == AF_INET || ss->ss_family == AF_INET6))
		rv = 0;
	if (rv == 0 && (claimed->ss_family == AF_INET ||
	    claimed->ss_family == AF_INET6) && proxied(fd, ss))
		memcpy(ss, claimed, sizeof(*ss));
	if (fd != -1)
		close(fd);
	return rv;
}

/* Issue 12: a good login becomes a grant, told to the queue first. */
static uint64_t
auth_grant(const struct auth_reply *r, const char *ip)
{
	struct ipc_grant	 m;
	struct grant		 g, *made;
	int64_t			 life;

	memset(&g, 0, sizeof(g));
	/* at least as long as a session may last ('timeout session'), so a
	 * slow but legitimate session never outlives its grant */
	life = GRANT_LIFETIME_MS;
	if (auth_conf != NULL &&
	    (int64_t)auth_conf->timeouts.session * 1000 + 60000 > life)
		life = (int64_t)auth_conf->timeouts.session * 1000 + 60000;
	g.expires_ms = store_now_ms() + life;
	g.user = r->user;
	g.senders = r->senders;
	snprintf(g.client_addr, sizeof(g.client_addr), "%s", ip);
	if ((made = grant_add(&g)) == NULL)
		fatal("grant");
	memset(&m, 0, sizeof(m));
	m.id = made->id;
	m.expires_ms = made->expires_ms;
	snprintf(m.user, sizeof(m.user), "%s", made->user);
	snprintf(m.senders, sizeof(m.senders), "%s", made->senders);
	memcpy(m.client_addr, made->client_addr, sizeof(m.client_addr));
	if (ipc_send(auth_queue, IPC_GRANT, 0, -1, &m, sizeof(m)) == -1)
		fatalx("cannot tell the queue role");
	log_info("auth: event=grant grant=%016llx ip=%s user=%s",
	    (unsigned long long)m.id, m.client_addr, log_q(m.user));
	return m.id;
}

static void
auth_done(void *arg, const struct auth_reply *r)
{
	struct auth_req	*q = arg;
	struct auth_reply a = *r;

	if (a.ok == 1)
		a.grant = auth_grant(&a, q->ip);
	if (ipc_send(auth_smtp, IPC_AUTH_RESULT, q->reqid, -1, &a, sizeof(a)) == -1)
		fatalx("cannot answer the smtp role");
	sodium_memzero(&a, sizeof(a));
	free(q);
}

static void
auth_policy_done(void *arg, const struct policy_result *r)
{
	struct auth_req	*q = arg;

	if (ipc_send(auth_smtp, IPC_POLICY_RESULT, q->reqid, -1, r,
	    sizeof(*r)) == -1)
		fatalx("cannot answer the smtp role");
	free(q);
}

/*
 * Issue 15, auto-hold: the login of GRANT is held by an alert: its MAIL
 * (and a commit already under way) gets 451 4.7.1 until release-user.
 * Asked of the state store (auth/abuse.h): a hold outlives a restart.
 */
static void
held_reply(uint64_t grant, const char *user, struct policy_result *r)
{
	log_info("auth: event=refused reason=user-held grant=%016llx user=%s",
	    (unsigned long long)grant, log_q(user));
	memset(r, 0, sizeof(*r));
	r->verdict = POLICY_TEMP;
	snprintf(r->reply, sizeof(r->reply), "451 4.7.1 Sending suspended for "
	    "this login, contact the postmaster");
}

/* A MAIL or a commit waiting for the store's word on its login. */
struct held_q {
	void		*q;		/* struct auth_req or quota_req */
	int		 commit;
	uint64_t	 grant, size;
	uint32_t	 nrcpt;
	char		 user[AUTH_USER_MAX + 1];
};

static void	held_checked(void *, int);

/* Calls held_checked(H, held) once the store has answered. */
static void
held_check(void *q, int commit, uint64_t grant, uint32_t nrcpt,
    uint64_t size)
{
	struct grant	*g = grant_find(grant, store_now_ms());
	struct held_q	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal("auth");
	h->q = q;
	h->commit = commit;
	h->grant = grant;
	h->nrcpt = nrcpt;
	h->size = size;
	if (g == NULL) {	/* the reserve below answers "no grant" */
		held_checked(h, 0);
		return;
	}
	snprintf(h->user, sizeof(h->user), "%s", g->user);
	abuse_held_check(g->user, held_checked, h);
}

/* Issue 15: an alert held USER: the queue holds its queued mail. */
static void
auth_hold_queued(const char *user)
{
	struct ipc_user	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.user, sizeof(m.user), "%s", user);
	if (ipc_send(auth_queue, IPC_USER_HOLD, 0, -1, &m, sizeof(m)) == -1)
		fatalx("cannot tell the queue role");
}

/* Issue 5: may this address connect, this user send; a message counted. */
static void
auth_policy(const struct ipc_msg *m)
{
	struct ipc_policy	 req;
	struct auth_req		*q;
	struct sockaddr_storage	 peer;

	if (m->type == IPC_POLICY_CONNECT) {
		if (m->fd == -1 ||
		    ipc_policy_decode(m->data, m->len, &req) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		if (client_peer(m->fd, &req.peer, &peer) == -1) {
			role_ipc_reject(m, "smtp", "not a client socket");
			return;
		}
	} else if (m->fd != -1 ||
	    ipc_policy_decode(m->data, m->len, &req) == -1 ||
	    req.user[0] == '\0') {
		role_ipc_reject(m, "smtp", "malformed");
		return;
	}
	if ((q = malloc(sizeof(*q))) == NULL)
		fatal("auth");
	q->reqid = m->reqid;
	if (m->type == IPC_POLICY_CONNECT)
		policy_connect((const struct sockaddr *)&peer,
		    auth_policy_done, q);
	else
		held_check(q, 0, req.grant, 0, req.size);
}

/* MAIL: the login not held; the quota of the grant's user, whatever
 * user the smtp role names. */
static void
mail_reserve(struct auth_req *q, uint64_t grant, uint64_t size)
{
	struct policy_result	 r;

	if (policy_mail_reserve(grant, size, auth_policy_done, q) == -1) {
		log_warnx("auth: event=refused reason=no-grant grant=%016llx "
		    "step=mail", (unsigned long long)grant);
		memset(&r, 0, sizeof(r));
		r.verdict = POLICY_TEMP;
		snprintf(r.reply, sizeof(r.reply),
		    "451 4.7.0 Login no longer valid, log in again");
		auth_policy_done(q, &r);
	}
}

static void
auth_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_auth_login	 req;
	struct auth_req		*q;
	struct sockaddr_storage	 peer;
	uint64_t		 id;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("auth", "smtp");
	switch (m->type) {
	case IPC_AUTH_LOGIN:
		if (m->fd == -1 ||
		    ipc_auth_login_decode(m->data, m->len, &req) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			sodium_memzero(&req, sizeof(req));
			return;
		}
		if (client_peer(m->fd, &req.peer, &peer) == -1) {
			role_ipc_reject(m, "smtp", "not a client socket");
			sodium_memzero(&req, sizeof(req));
			return;
		}
		if ((q = malloc(sizeof(*q))) == NULL)
			fatal("auth");
		q->reqid = m->reqid;
		policy_addr((const struct sockaddr *)&peer, q->ip, sizeof(q->ip));
		if (auth_login(req.user, req.password,
		    (const struct sockaddr *)&peer, auth_done, q) == -1)
			fatal("login request");
		sodium_memzero(&req, sizeof(req));
		break;
	case IPC_POLICY_CONNECT:
	case IPC_POLICY_MAIL:
		auth_policy(m);
		break;
	case IPC_GRANT_END:	/* the session is over: its reservation too */
		if (m->fd != -1 || ipc_grant_id_decode(m->data, m->len, &id) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		policy_grant_end(id);
		break;
	case IPC_SMTP_METRICS:	/* issue 15: kept for the next scrape */
		if (m->fd != -1 ||
		    ipc_smtp_metrics_decode(m->data, m->len, &smtp_last) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		break;
	default:
		role_ipc_reject(m, "smtp", "unexpected type");
	}
}

/* The queue's channel: quota reservations of the messages it commits. */
struct quota_req {
	uint64_t	 reqid;
};

static void
auth_quota_done(void *arg, const struct policy_result *r)
{
	struct quota_req *q = arg;

	if (ipc_send(auth_queue, IPC_QUOTA_RESULT, q->reqid, -1, r,
	    sizeof(*r)) == -1)
		fatalx("cannot answer the queue role");
	free(q);
}

static void
auth_queue_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_quota	 req;
	struct ipc_refused	 rf;
	struct quota_req	*q;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("auth", "queue");
	if (m->type == IPC_USER_REFUSED) {	/* issue 15: watched */
		if (m->fd != -1 || ipc_refused_decode(m->data, m->len,
		    &rf) == -1) {
			role_ipc_reject(m, "queue", "malformed");
			return;
		}
		abuse_refused(rf.user, rf.nrcpt, time(NULL));
		return;
	}
	if (m->type == IPC_GRANT_SYNC) {
		/* Echoed on the channel that carries the grants: the queue
		 * reads it after every GRANT made before it (role_queue.c). */
		if (m->fd != -1 || m->len != 0) {
			role_ipc_reject(m, "queue", "malformed");
			return;
		}
		if (ipc_send(auth_queue, IPC_GRANT_SYNC, m->reqid, -1, NULL,
		    0) == -1)
			fatalx("cannot answer the queue role");
		return;
	}
	if ((m->type != IPC_QUOTA_RESERVE && m->type != IPC_QUOTA_SETTLE) ||
	    m->fd != -1 || ipc_quota_decode(m->data, m->len, &req) == -1) {
		role_ipc_reject(m, "queue", "malformed");
		return;
	}
	if (m->type == IPC_QUOTA_SETTLE) {
		struct grant	*g = grant_find(req.grant, store_now_ms());

		policy_commit_settle(req.grant, req.charge);
		if (req.charge && g != NULL)	/* issue 15: watched */
			abuse_sent(g->user, req.nrcpt, req.size, time(NULL));
		return;
	}
	if ((q = malloc(sizeof(*q))) == NULL)
		fatal("auth");
	q->reqid = m->reqid;
	held_check(q, 1, req.grant, req.nrcpt, req.size);
}

/* A commit: the login not held; its quota reserved. */
static void
commit_reserve(struct quota_req *q, uint64_t grant, uint32_t nrcpt,
    uint64_t size)
{
	struct policy_result	 r;

	if (policy_commit_reserve(grant, nrcpt, size, auth_quota_done,
	    q) == -1) {
		memset(&r, 0, sizeof(r));
		r.verdict = POLICY_DENY;
		snprintf(r.reply, sizeof(r.reply), "554 5.7.0 No such login");
		auth_quota_done(q, &r);
	}
}

static void
held_checked(void *arg, int held)
{
	struct held_q		*h = arg;
	struct policy_result	 r;

	if (held) {
		held_reply(h->grant, h->user, &r);
		if (h->commit)
			auth_quota_done(h->q, &r);
		else
			auth_policy_done(h->q, &r);
	} else if (h->commit)
		commit_reserve(h->q, h->grant, h->nrcpt, h->size);
	else
		mail_reserve(h->q, h->grant, h->size);
	free(h);
}

/* A pacing question of the relay's, while the store answers. */
struct auth_pace_q {
	struct ipc	*c;
	uint64_t	 reqid;
	struct ipc_pace	 p;
};

static void
auth_pace_done(void *arg, int fits, int64_t wait_ms)
{
	struct auth_pace_q	*q = arg;

	q->p.fits = fits;
	q->p.wait_ms = wait_ms;
	auth_metrics_pace(q->p.login, fits, wait_ms, store_now_ms());
	if (ipc_send(q->c, IPC_PACE_RESULT, q->reqid, -1, &q->p,
	    sizeof(q->p)) == -1)
		fatalx("cannot answer the relay role");
	free(q);
}

/* The relay's channel: may one more message leave for this login? */
static void
auth_relay_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_pace		 p;
	struct auth_pace_q	*q;

	(void)arg;
	if (m == NULL)
		role_peer_closed("auth", "relay");
	if (m->type != IPC_PACE_TAKE || m->fd != -1 ||
	    ipc_pace_decode(m->data, m->len, &p) == -1) {
		role_ipc_reject(m, "relay", "malformed");
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("auth");
	q->c = c;
	q->reqid = m->reqid;
	q->p = p;
	pace_take(p.login, auth_pace_done, q);
}

static void
auth_ctl_call(void *arg, int argc, char **argv, int json, struct evbuffer *out,
    ctl_done_fn done, void *token)
{
	(void)arg;
	if (argc == 1 && strcmp(argv[0], "metrics") == 0)
		smtp_metrics_print(out, &smtp_last);	/* issue 15 */
	auth_ctl(argc, argv, json, out, done, token);
}

/* The control role's channel: "show limits", "unlock" (auth/auth_ctl.h). */
static void
auth_control_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	(void)arg;
	if (m == NULL)
		role_peer_closed("auth", "control");
	switch (m->type) {
	case IPC_CTL_REQUEST:
		ctl_serve_async(c, m, "auth", auth_ctl_call, NULL);
		break;
	default:
		log_warnx("event=ipc-reject from=control type=%u (%s) "
		    "reason=\"unexpected type\"", m->type,
		    ipc_type_name(m->type));
		if (m->fd != -1)
			close(m->fd);
	}
}

/*
 * The auth role's root: its LMDB state directory, or, with Redis, nothing
 * (TCP) or the directory of the Redis socket, so that it can reconnect.
 */
static const char *
state_root(const struct conf *conf)
{
	static char	 dir[128];
	char		*slash;

	if (conf->state_redis == NULL)
		return conf->state_dir;
	if (conf->state_redis->path == NULL)
		return PRIVSEP_EMPTY_DIR;
	snprintf(dir, sizeof(dir), "%s", conf->state_redis->path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return "/";
	*slash = '\0';
	return dir;
}

/* Issue 14, reload: a new users table and limits; counters stay. */
static struct {
	struct conf	*conf, *pend_conf;
	struct users	*pend_users;
} AR;

static int
reload_prepare(struct conf *conf, FILE *errf)
{
	if ((AR.pend_users = users_load(conf->users_file, errf)) == NULL)
		return -1;
	AR.pend_conf = conf;
	return 0;
}

static void
reload_commit(void)
{
	auth_reload(AR.pend_conf, AR.pend_users);
	auth_conf = AR.pend_conf;	/* proxied() reads the new proxy-from */
	pace_init(AR.pend_conf);
	abuse_init(AR.pend_conf, auth_hold_queued);
	role_conf_retire(AR.conf);
	AR.conf = AR.pend_conf;
	AR.pend_conf = NULL;
	AR.pend_users = NULL;
}

static void
reload_abort(void)
{
	users_free(AR.pend_users);
	conf_free(AR.pend_conf);
	AR.pend_users = NULL;
	AR.pend_conf = NULL;
}

static const struct role_reload auth_reload_ops = {
	.prepare = reload_prepare,
	.commit = reload_commit,
	.abort = reload_abort,
};

void
role_auth_main(struct conf *conf, int smtp_fd, int control_fd, int queue_fd,
    int relay_fd)
{
	struct event_base	*base = role_start("auth");
	struct users		*users;

	auth_conf = conf;
	if ((users = users_load(conf->users_file, stderr)) == NULL)
		fatalx("cannot load %s", conf->users_file);
	/* The counters: opened by path before the chroot into that dir. */
	pace_init(conf);
	abuse_init(conf, auth_hold_queued);
	if (state_open(conf, base) == -1)
		fatalx("cannot open the state");
	abuse_load();	/* issue 15: the holds kept across a restart */
	/* Before the worker threads exist, so that they inherit the filter. */
	role_sandbox(conf, state_root(conf), "auth");
	if (auth_init(base, conf, users) == -1)
		fatalx("cannot start");
	if ((auth_smtp = ipc_new(base, smtp_fd, "auth<-smtp", auth_dispatch,
	    NULL)) == NULL ||
	    (auth_control = ipc_new(base, control_fd, "auth<-control",
	    auth_control_dispatch, NULL)) == NULL ||
	    (auth_queue = ipc_new(base, queue_fd, "auth<-queue",
	    auth_queue_dispatch, NULL)) == NULL ||
	    (auth_relay = ipc_new(base, relay_fd, "auth<-relay",
	    auth_relay_dispatch, NULL)) == NULL)
		fatal("ipc");
	AR.conf = conf;
	role_reload_init(base, "auth", &auth_reload_ops);
	role_run(base);
}
