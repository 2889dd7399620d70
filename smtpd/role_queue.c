/*
 * role_queue.c — the queue role: the spool (it is chrooted into it), the
 * scheduler and the DKIM keys.  It opens message files for the smtp role
 * (passing the fd), commits them, and hands due messages to the relay
 * role, again as an fd.  DKIM signatures and the fsyncs of the commit
 * run on threads of the queue (queue/queue_commit.c): this loop keeps
 * answering while they work.
 *
 * Issue 12: it takes nothing of a commit on the smtp role's word.  A
 * commit must name a live grant (the auth role tells the queue of each
 * login on their own channel; a commit that names one not seen yet waits
 * for a GRANT_SYNC through that channel, since nothing orders two
 * channels); the envelope's user and reverse-path must
 * be the grant's, the client address is the grant's, the From: header and
 * the body hashes are checked against the file (queue_verify.c), and the
 * quota is reserved with the auth role before the commit and charged after.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/grant.h"
#include "auth/store.h"
#include "auth/users.h"
#include "conf/conf.h"
#include "queue/queue.h"
#include "queue/queue_env.h"
#include "smtpd/ctl_serve.h"
#include "smtpd/queue_filter.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "lib/reqtab.h"
#include "smtpd/roles.h"
#include "queue/signer.h"

static struct {
	struct queue	*q;
	struct ipc	*smtp;
	struct ipc	*relay;
	struct ipc	*control;	/* submitctl requests */
	struct ipc	*filter;	/* issue 16; NULL without a filter */
	struct ipc	*auth;		/* grants, quotas (issue 12) */
	struct reqtab	*quota_reqs;	/* commits waiting for the auth role */
	struct reqtab	*grant_syncs;	/* commits waiting for their grant */
	size_t		 grant_sync_rcpts;	/* their recipients */
	TAILQ_HEAD(, pending_commit) filtering;	/* checked, with the filter */
	unsigned	 inflight;	/* deliveries the relay has not answered */
	unsigned	 max_inflight;
	/* Issue 14, reload: the config and DKIM keys; the spool stays. */
	struct conf	*conf, *pend_conf;
	struct signer	*signer, *pend_signer;
} Q;

/* Commits held for a GRANT_SYNC at once, and their recipients in all:
 * a held envelope is a copy, and a compromised smtp role must not make
 * the queue hold more than a few MiB.  Past either: refused at once. */
#define GRANT_SYNC_MAX		1024
#define GRANT_SYNC_RCPT_MAX	16384

struct queue_req {
	uint64_t	 reqid;
};

static struct queue_req *
req_new(uint64_t reqid)
{
	struct queue_req *r;

	if ((r = malloc(sizeof(*r))) == NULL)
		fatal("queue");
	r->reqid = reqid;
	return r;
}

static void
answer_smtp_text(uint32_t type, uint64_t reqid, int fd,
    enum queue_status status, const char *queue_id, const char *text)
{
	struct ipc_queue_status	 m;

	memset(&m, 0, sizeof(m));
	m.status = status;
	snprintf(m.queue_id, sizeof(m.queue_id), "%s", queue_id ? queue_id : "");
	snprintf(m.text, sizeof(m.text), "%s", text ? text : "");
	if (ipc_send(Q.smtp, type, reqid, fd, &m, sizeof(m)) == -1)
		fatalx("cannot answer the smtp role");
}

static void
answer_smtp(uint32_t type, uint64_t reqid, int fd, enum queue_status status,
    const char *queue_id)
{
	answer_smtp_text(type, reqid, fd, status, queue_id, NULL);
}

static void
opened(void *arg, enum queue_status status, int fd, const char *queue_id)
{
	struct queue_req *r = arg;

	answer_smtp(IPC_QUEUE_OPENED, r->reqid, status == QUEUE_OK ? fd : -1,
	    status, queue_id);
	if (fd != -1)
		close(fd);	/* the smtp role has its own now */
	free(r);
}

/* A commit checked against its grant: with the filter, then the auth role. */
struct pending_commit {
	TAILQ_ENTRY(pending_commit) entry;	/* while the filter has it */
	uint64_t		 reqid;		/* the smtp role's */
	uint64_t		 grant;
	char			 senders[AUTH_SENDERS_MAX];
	struct envelope		 env;
	struct queue_sign_input	 sign;
};

static void
commit_refuse(uint64_t reqid, const struct envelope *env, uint64_t grant,
    const char *why, enum queue_status status)
{
	log_warnx("msgid=%s event=commit-refused reason=%s grant=%016llx "
	    "user=%s", env->queue_id, why, (unsigned long long)grant,
	    log_q(env->user));
	queue_message_abort(Q.q, env->queue_id);
	answer_smtp(IPC_QUEUE_COMMITTED, reqid, -1, status, env->queue_id);
}

static void
quota_send(uint32_t type, uint64_t reqid, uint64_t grant,
    const struct envelope *env, int charge)
{
	struct ipc_quota	 m;

	memset(&m, 0, sizeof(m));
	m.grant = grant;
	m.nrcpt = (uint32_t)env->nrcpt;
	m.size = env->size > IPC_POLICY_SIZE_MAX ? IPC_POLICY_SIZE_MAX :
	    env->size;
	m.charge = charge;
	if (ipc_send(Q.auth, type, reqid, -1, &m, sizeof(m)) == -1)
		fatalx("cannot send to the auth role");
}

/* Issue 15: the upstream refused N recipients of USER's: auth watches. */
static void
refused_send(const char *user, uint32_t n)
{
	struct ipc_refused	 m;

	memset(&m, 0, sizeof(m));
	if (strlen(user) >= sizeof(m.user))
		return;
	memcpy(m.user, user, strlen(user) + 1);
	m.nrcpt = n > IPC_REFUSED_MAX ? IPC_REFUSED_MAX : n;
	if (ipc_send(Q.auth, IPC_USER_REFUSED, 0, -1, &m, sizeof(m)) == -1)
		fatalx("cannot send to the auth role");
}

/* The commit is done: the quota charged (or released), then smtp told. */
static void
committed_as(void *arg, enum queue_status status, const char *queue_id)
{
	struct pending_commit	*p = arg;

	quota_send(IPC_QUOTA_SETTLE, 0, p->grant, &p->env, status == QUEUE_OK);
	answer_smtp(IPC_QUEUE_COMMITTED, p->reqid, -1, status, queue_id);
	envelope_free(&p->env);
	free(p);
}

static void	commit_reserve(struct pending_commit *, const struct envelope *,
		    const struct queue_sign_input *);
static void	commit_check(uint64_t, uint64_t, struct envelope *,
		    const struct queue_sign_input *);

/* P, waiting for another role, keeps copies of ENV and SIGN under a new
 * id of T (the answer's reqid); that id. */
static uint64_t
pending_keep(struct reqtab *t, struct pending_commit *p,
    const struct envelope *env, const struct queue_sign_input *sign)
{
	uint64_t	 id;

	if (queue_env_copy(&p->env, env) == -1)
		fatal("queue");
	p->sign = *sign;
	if ((id = reqtab_add(t, p)) == 0)
		fatal("queue");
	return id;
}

/*
 * A commit whose grant the queue has not seen, held until the auth role
 * echoes a GRANT_SYNC: the auth role sends a login's GRANT to the queue
 * before its answer to the smtp role, but on another channel, and a burst
 * of the smtp role's packets can bring the session's commit first.  NULL
 * when held; else why it cannot be (the commit is refused now).
 */
static const char *
grant_sync(uint64_t reqid, uint64_t grant, const struct envelope *env,
    const struct queue_sign_input *sign)
{
	struct pending_commit	*p;
	uint64_t		 id;

	if (grant == 0)
		return "no-grant";
	if (reqtab_count(Q.grant_syncs) >= GRANT_SYNC_MAX ||
	    env->nrcpt > GRANT_SYNC_RCPT_MAX - Q.grant_sync_rcpts)
		return "grant-wait-full";
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("queue");
	p->reqid = reqid;
	p->grant = grant;
	id = pending_keep(Q.grant_syncs, p, env, sign);
	if (ipc_send(Q.auth, IPC_GRANT_SYNC, id, -1, NULL, 0) == -1)
		fatalx("cannot send to the auth role");
	Q.grant_sync_rcpts += p->env.nrcpt;
	log_debug("msgid=%s event=commit-wait grant=%016llx", env->queue_id,
	    (unsigned long long)grant);
	return NULL;
}

/* The commit held for the GRANT_SYNC ID, checked again (now a missing
 * grant is final); -1 if ID is unknown. */
static int
grant_synced(uint64_t id)
{
	struct pending_commit	*p;

	if ((p = reqtab_take(Q.grant_syncs, id)) == NULL)
		return -1;
	Q.grant_sync_rcpts -= p->env.nrcpt;
	if (grant_find(p->grant, store_now_ms()) == NULL)
		commit_refuse(p->reqid, &p->env, p->grant, "no-grant",
		    QUEUE_ERR_REFUSED);
	else
		commit_check(p->reqid, p->grant, &p->env, &p->sign);
	envelope_free(&p->env);
	free(p);
	return 0;
}

/* The claims that need no file: grant, user, reverse-path. */
static void
commit_check(uint64_t reqid, uint64_t grant, struct envelope *env,
    const struct queue_sign_input *sign)
{
	struct pending_commit	*p;
	struct grant		*g;
	const char		*why;

	if ((g = grant_find(grant, store_now_ms())) == NULL) {
		if ((why = grant_sync(reqid, grant, env, sign)) != NULL)
			commit_refuse(reqid, env, grant, why,
			    QUEUE_ERR_REFUSED);
		return;
	}
	if (strcmp(env->user, g->user) != 0) {
		commit_refuse(reqid, env, grant, "user-not-granted",
		    QUEUE_ERR_REFUSED);
		return;
	}
	if (env->reverse_path[0] == '\0' ||
	    !sender_match(g->senders, env->reverse_path)) {
		commit_refuse(reqid, env, grant, "sender-not-granted",
		    QUEUE_ERR_REFUSED);
		return;
	}
	/* The address the kernel gave the auth role, not the smtp role's. */
	snprintf(env->client_addr, sizeof(env->client_addr), "%s",
	    g->client_addr);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("queue");
	p->reqid = reqid;
	p->grant = grant;
	snprintf(p->senders, sizeof(p->senders), "%s", g->senders);
	/* The filter (issue 16) takes ENV, and commits it later. */
	TAILQ_INSERT_TAIL(&Q.filtering, p, entry);
	if (queue_filter_check(reqid, env, sign) == 0) {
		env->rcpt = NULL;	/* the filter's now */
		return;
	}
	TAILQ_REMOVE(&Q.filtering, p, entry);
	commit_reserve(p, env, sign);
}

/* The commit of P, checked: its quota reserved with the auth role. */
static void
commit_reserve(struct pending_commit *p, const struct envelope *env,
    const struct queue_sign_input *sign)
{
	uint64_t	 id = pending_keep(Q.quota_reqs, p, env, sign);

	quota_send(IPC_QUOTA_RESERVE, id, p->grant, &p->env, 0);
}

/* The smtp request REQID that the filter holds, forgotten. */
static struct pending_commit *
filtering_take(uint64_t reqid)
{
	struct pending_commit	*p;

	TAILQ_FOREACH(p, &Q.filtering, entry)
		if (p->reqid == reqid) {
			TAILQ_REMOVE(&Q.filtering, p, entry);
			return p;
		}
	return NULL;
}

/* Issue 16: what the filter's verdict leads to (smtpd/queue_filter.c). */
static void
filter_commit(uint64_t smtp_reqid, const struct envelope *env,
    const struct queue_sign_input *sign)
{
	struct pending_commit	*p;

	if ((p = filtering_take(smtp_reqid)) == NULL)
		fatalx("filter: commit of a request never checked");
	commit_reserve(p, env, sign);
}

static void
filter_answer(uint64_t smtp_reqid, enum queue_status status,
    const char *queue_id, const char *text)
{
	free(filtering_take(smtp_reqid));
	answer_smtp_text(IPC_QUEUE_COMMITTED, smtp_reqid, -1, status, queue_id,
	    text);
}

static const struct queue_filter_ops filter_ops = {
	.commit = filter_commit,
	.answer = filter_answer,
};

static void
dispatch_smtp(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_queue_status	 st;
	struct queue_sign_input	 sign;
	struct envelope		 env;
	uint64_t		 grant;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("queue", "smtp");
	if (m->fd != -1) {
		role_ipc_reject(m, "smtp", "unexpected fd");
		return;
	}
	switch (m->type) {
	case IPC_QUEUE_OPEN:
		if (m->len != 0) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		queue_message_open(Q.q, opened, req_new(m->reqid));
		break;
	case IPC_QUEUE_COMMIT:
		if (ipc_commit_decode(m->data, m->len, &grant, &env,
		    &sign) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		commit_check(m->reqid, grant, &env, &sign);
		envelope_free(&env);
		break;
	case IPC_GRANT_END:	/* the session is over */
		if (ipc_grant_id_decode(m->data, m->len, &grant) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		grant_end(grant);
		break;
	case IPC_QUEUE_ABORT:
		if (ipc_queue_status_decode(m->data, m->len, &st) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		queue_message_abort(Q.q, st.queue_id);
		break;
	default:
		role_ipc_reject(m, "smtp", "unexpected type");
	}
}

/* The relay, as the scheduler sees it: a proxy over IPC. */

/*
 * Deliveries handed to the relay before it answers: one per connection
 * and one more waiting behind each, so that a connection that finishes a
 * message finds the next one there (issue 18 item 5) instead of idling
 * while the answer and the next hand-off cross this loop.
 */
static unsigned
relay_inflight_max(const struct conf *conf)
{
	return 2 * (conf->relay.max_sessions ? conf->relay.max_sessions : 1);
}
static int
proxy_has_capacity(void *ctx)
{
	(void)ctx;
	return Q.inflight < Q.max_inflight;
}

static int
proxy_deliver(void *ctx, uint64_t reqid, int msg_fd, const char *prefix,
    size_t prefixlen, const struct envelope *env)
{
	void	*buf;
	size_t	 len;

	(void)ctx;
	if (ipc_deliver_encode(env, prefix, prefixlen, &buf, &len) == -1) {
		log_warnx("msgid=%s event=error reason=\"envelope too large "
		    "for the relay\"", env->queue_id);
		return -1;
	}
	if (ipc_send(Q.relay, IPC_RELAY_DELIVER, reqid, msg_fd, buf, len) == -1)
		fatalx("cannot send to the relay role");
	free(buf);
	Q.inflight++;
	return 0;
}

static const struct queue_relay_ops proxy_ops = {
	.has_capacity = proxy_has_capacity,
	.deliver = proxy_deliver,
};

static void
dispatch_relay(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct relay_result	 r;
	struct ipc_relay_paced	 paced;
	struct ipc_upstream	 up;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("queue", "relay");
	switch (m->type) {
	case IPC_RELAY_SIZE:	/* the upstream's SIZE, SMTPUTF8: for smtp */
		if (m->fd != -1 || ipc_upstream_decode(m->data, m->len, &up) == -1) {
			role_ipc_reject(m, "relay", "malformed");
			return;
		}
		log_info("event=upstream-size size=%llu smtputf8=%s",
		    (unsigned long long)up.size, up.smtputf8 ? "yes" : "no");
		if (ipc_send(Q.smtp, IPC_QUEUE_SIZE, 0, -1, &up,
		    sizeof(up)) == -1)
			fatalx("cannot tell the smtp role");
		break;
	case IPC_RELAY_PACED:	/* why a delivery waits: for show queue */
		if (m->fd != -1 ||
		    ipc_relay_paced_decode(m->data, m->len, &paced) == -1) {
			role_ipc_reject(m, "relay", "malformed");
			return;
		}
		queue_relay_paced(Q.q, m->reqid, (time_t)paced.wait, paced.login);
		break;
	case IPC_RELAY_RESULT:
		if (m->fd != -1 || ipc_result_decode(m->data, m->len, &r) == -1 ||
		    r.reqid != m->reqid) {
			role_ipc_reject(m, "relay", "malformed");
			return;
		}
		if (Q.inflight > 0)
			Q.inflight--;
		queue_relay_done(&r, Q.q);
		free(r.rcpt);
		break;
	default:
		role_ipc_reject(m, "relay", "unexpected type");
	}
}

/* The auth role's channel: grants, and the answers on quotas. */
static void
dispatch_auth(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_grant	 gm;
	struct ipc_user		 um;
	struct grant		 g;
	struct policy_result	 r;
	struct pending_commit	*p;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("queue", "auth");
	if (m->fd != -1) {
		role_ipc_reject(m, "auth", "unexpected fd");
		return;
	}
	switch (m->type) {
	case IPC_GRANT:
		if (ipc_grant_decode(m->data, m->len, &gm) == -1) {
			role_ipc_reject(m, "auth", "malformed");
			return;
		}
		memset(&g, 0, sizeof(g));
		g.id = gm.id;
		g.expires_ms = gm.expires_ms;
		g.user = gm.user;
		g.senders = gm.senders;
		memcpy(g.client_addr, gm.client_addr, sizeof(g.client_addr));
		if (grant_add(&g) == NULL)
			fatal("grant");
		break;
	case IPC_QUOTA_RESULT:
		if (ipc_policy_result_decode(m->data, m->len, &r) == -1) {
			role_ipc_reject(m, "auth", "malformed");
			return;
		}
		if ((p = reqtab_take(Q.quota_reqs, m->reqid)) == NULL) {
			role_ipc_reject(m, "auth", "unknown request");
			return;
		}
		if (r.verdict != POLICY_OK) {
			log_info("msgid=%s event=quota-refused user=%s "
			    "reply=%s", p->env.queue_id, log_q(p->env.user),
			    log_q(r.reply));
			commit_refuse(p->reqid, &p->env, p->grant, "quota",
			    QUEUE_ERR_QUOTA);
			envelope_free(&p->env);
			free(p);
			return;
		}
		queue_message_commit_as(Q.q, p->env.queue_id, &p->env, &p->sign,
		    p->senders, p->grant, committed_as, p);
		break;
	case IPC_GRANT_SYNC:	/* every GRANT sent before it is in */
		if (m->len != 0) {
			role_ipc_reject(m, "auth", "malformed");
			return;
		}
		if (grant_synced(m->reqid) == -1)
			role_ipc_reject(m, "auth", "unknown request");
		break;
	case IPC_USER_HOLD:	/* issue 15: an alert held this login */
		if (ipc_user_decode(m->data, m->len, &um) == -1) {
			role_ipc_reject(m, "auth", "malformed");
			return;
		}
		queue_hold_user(Q.q, um.user);
		break;
	default:
		role_ipc_reject(m, "auth", "unexpected type");
	}
}

static int
queue_ctl_call(void *arg, int argc, char **argv, int json,
    struct evbuffer *out)
{
	if (argc == 2 && strcmp(argv[0], "show") == 0 &&
	    strcmp(argv[1], "filter") == 0) {		/* issue 16 */
		queue_filter_show(json, out);
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "metrics") == 0) {
		int	 rv = queue_ctl(arg, argc, argv, json, out);

		queue_filter_metrics(out);	/* issue 16 */
		return rv;
	}
	return queue_ctl(arg, argc, argv, json, out);
}

static void
dispatch_control(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	(void)arg;
	if (m == NULL)
		role_peer_closed("queue", "control");
	switch (m->type) {
	case IPC_CTL_REQUEST:
		ctl_serve(c, m, "queue", queue_ctl_call, Q.q);
		break;
	default:
		role_ipc_reject(m, "control", "unexpected type");
	}
}

static void
dispatch_filter(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("queue", "filter");
	switch (m->type) {
	case IPC_FILTER_RESULT:
		queue_filter_result(m);
		break;
	default:
		role_ipc_reject(m, "filter", "unexpected type");
	}
}

static int
reload_prepare(struct conf *conf, FILE *errf)
{
	if ((Q.pend_signer = signer_new(conf)) == NULL) {
		fprintf(errf, "%s: queue: cannot load the DKIM keys (see the "
		    "log)\n", conf->file);
		return -1;
	}
	/* Where the spool is for this process (chroot): as at start. */
	free(conf->queue_dir);
	if ((conf->queue_dir = strdup(Q.conf->queue_dir)) == NULL)
		fatal("reload");
	Q.pend_conf = conf;
	return 0;
}

static void
reload_commit(void)
{
	queue_set_conf(Q.q, Q.pend_conf);
	queue_set_signer(Q.q, signer_sign, Q.pend_signer);
	signer_free(Q.signer);
	role_conf_retire(Q.conf);
	Q.conf = Q.pend_conf;
	queue_filter_set_conf(Q.conf);		/* on-error (issue 16) */
	Q.signer = Q.pend_signer;
	Q.max_inflight = relay_inflight_max(Q.conf);
	Q.pend_conf = NULL;
	Q.pend_signer = NULL;
}

static void
reload_abort(void)
{
	signer_free(Q.pend_signer);
	conf_free(Q.pend_conf);
	Q.pend_signer = NULL;
	Q.pend_conf = NULL;
}

static const struct role_reload queue_reload = {
	.prepare = reload_prepare,
	.commit = reload_commit,
	.abort = reload_abort,
};

void
role_queue_main(struct conf *conf, int smtp_fd, int relay_fd, int control_fd,
    int filter_fd, int auth_fd)
{
	static char	 chrooted_spool[] = "/", current_dir[] = ".";
	struct event_base *base = role_start("queue");
	struct signer	*signer;
	char		*spool = conf->queue_dir;
	/* Asked before the drop: afterwards the answer is always no. */
	int		 root = privsep_is_root(), chroots = privsep_chroots();

	/* DKIM keys are read as root, once; then into the spool. */
	if ((signer = signer_new(conf)) == NULL)
		fatalx("cannot load the DKIM keys");
	role_sandbox(conf, root ? spool : "/", "queue");
	/* The spool is now "/" (chroot), or "." (ASan build: chdir only). */
	if (root)
		conf->queue_dir = chroots ? chrooted_spool : current_dir;
	if ((Q.q = queue_new(base, conf)) == NULL)
		fatalx("cannot open the spool %s", spool);
	queue_set_signer(Q.q, signer_sign, signer);
	queue_set_signer_has_key(Q.q, signer_has_key);
	queue_set_refused_cb(Q.q, refused_send);
	TAILQ_INIT(&Q.filtering);
	Q.max_inflight = relay_inflight_max(conf);
	if ((Q.smtp = ipc_new(base, smtp_fd, "queue<-smtp", dispatch_smtp,
	    NULL)) == NULL ||
	    (Q.relay = ipc_new(base, relay_fd, "queue<-relay", dispatch_relay,
	    NULL)) == NULL ||
	    (Q.control = ipc_new(base, control_fd, "queue<-control",
	    dispatch_control, NULL)) == NULL ||
	    (Q.auth = ipc_new(base, auth_fd, "queue<-auth", dispatch_auth,
	    NULL)) == NULL || (Q.quota_reqs = reqtab_new()) == NULL ||
	    (Q.grant_syncs = reqtab_new()) == NULL)
		fatal("ipc");
	if (filter_fd != -1 && (Q.filter = ipc_new(base, filter_fd,
	    "queue<-filter", dispatch_filter, NULL)) == NULL)
		fatal("ipc");
	queue_filter_init(Q.q, conf, Q.filter, &filter_ops);
	queue_set_relay_ops(Q.q, &proxy_ops, NULL);
	Q.conf = conf;
	Q.signer = signer;
	role_reload_init(base, "queue", &queue_reload);
	role_run(base);
}
