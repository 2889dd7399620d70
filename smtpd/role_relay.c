/*
 * role_relay.c — the relay role: holds the upstream secrets and the CA,
 * and delivers what the queue role hands it (message file passed as an
 * fd) to the smarthost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <tls.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "lib/reqtab.h"
#include "relay/relay.h"
#include "smtpd/roles.h"

static struct ipc	*relay_queue;
static struct ipc	*relay_auth;	/* pacing (issue 12 item 5) */
static struct reqtab	*relay_paces;	/* questions the auth role has */

struct pace_ask {
	relay_pace_answer	 cb;
	void			*arg;
};

/* "relay limit messages": asked of the auth role, kept in its store. */
static void
relay_pace_take(void *unused, const char *login, relay_pace_answer cb,
    void *arg)
{
	struct pace_ask	*a;
	struct ipc_pace	 p;
	uint64_t	 id;

	(void)unused;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (id = reqtab_add(relay_paces, a)) == 0)
		fatal("relay");
	a->cb = cb;
	a->arg = arg;
	memset(&p, 0, sizeof(p));
	snprintf(p.login, sizeof(p.login), "%s", login);
	if (ipc_send(relay_auth, IPC_PACE_TAKE, id, -1, &p, sizeof(p)) == -1)
		fatalx("cannot ask the auth role");
}

static const struct relay_pace_ops relay_pace_ops = {
	.take = relay_pace_take,
};

static void
relay_auth_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_pace	 p;
	struct pace_ask	*a;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("relay", "auth");
	if (m->type != IPC_PACE_RESULT || m->fd != -1 ||
	    ipc_pace_decode(m->data, m->len, &p) == -1) {
		role_ipc_reject(m, "auth", "malformed");
		return;
	}
	if ((a = reqtab_take(relay_paces, m->reqid)) == NULL) {
		role_ipc_reject(m, "auth", "unknown request");
		return;
	}
	a->cb(a->arg, p.fits, p.wait_ms);
	free(a);
}
static struct relay	*relay_main;
static struct ipc_upstream relay_up_sent = { UINT64_MAX, 0, 0 }; /* none yet */

/* Tells the queue role why a delivery waits (issue 7: show queue). */
static void
relay_paced(uint64_t reqid, time_t wait, const char *login, void *arg)
{
	struct ipc_relay_paced	 p;

	(void)arg;
	memset(&p, 0, sizeof(p));
	p.wait = wait < 1 ? 1 : (int64_t)wait;
	snprintf(p.login, sizeof(p.login), "%s", login);
	if (ipc_send(relay_queue, IPC_RELAY_PACED, reqid, -1, &p,
	    sizeof(p)) == -1)
		fatalx("cannot tell the queue role");
}

/*
 * Tells the queue role the upstream's SIZE (issue 7) and whether it
 * offers SMTPUTF8 (issue 13) when either is new: the smtp role offers
 * what the smarthost takes.
 */
static void
relay_report_size(void)
{
	struct ipc_upstream	 up;

	memset(&up, 0, sizeof(up));
	up.size = relay_upstream_size(relay_main);
	up.smtputf8 = relay_upstream_smtputf8(relay_main) ? 1 : 0;
	if (up.size == relay_up_sent.size &&
	    up.smtputf8 == relay_up_sent.smtputf8)
		return;
	if (ipc_send(relay_queue, IPC_RELAY_SIZE, 0, -1, &up,
	    sizeof(up)) == -1)
		fatalx("cannot tell the queue role");
	relay_up_sent = up;
}

static void
relay_answer(const struct relay_result *r)
{
	void	*buf;
	size_t	 len;

	if (ipc_result_encode(r, &buf, &len) == -1 ||
	    ipc_send(relay_queue, IPC_RELAY_RESULT, r->reqid, -1, buf, len) == -1)
		fatalx("cannot answer the queue role");
	free(buf);
}

static void
relay_done(const struct relay_result *r, void *arg)
{
	(void)arg;
	relay_answer(r);
	relay_report_size();
}

/* No upstream login for this sender: every recipient stays pending. */
static void
relay_no_route(uint64_t reqid, size_t nrcpt)
{
	struct relay_result	 r;

	memset(&r, 0, sizeof(r));
	r.reqid = reqid;
	r.nrcpt = nrcpt;
	if ((r.rcpt = calloc(nrcpt, sizeof(*r.rcpt))) == NULL)
		fatal("relay");
	snprintf(r.session_error, sizeof(r.session_error),
	    "no upstream login for this sender");
	relay_answer(&r);
	free(r.rcpt);
}

static void
relay_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct relay	*relay = arg;
	struct envelope	 env;
	const char	*prefix;
	size_t		 prefixlen;

	(void)c;
	if (m == NULL)
		role_peer_closed("relay", "queue");
	switch (m->type) {
	case IPC_RELAY_DELIVER:
		if (m->fd == -1 || ipc_deliver_decode(m->data, m->len, &env,
		    &prefix, &prefixlen) == -1) {
			role_ipc_reject(m, "queue", "malformed");
			return;
		}
		if (relay_deliver(relay, m->reqid, m->fd, prefix, prefixlen,
		    &env) == -1)
			relay_no_route(m->reqid, env.nrcpt);
		close(m->fd);
		envelope_free(&env);
		break;
	default:
		role_ipc_reject(m, "queue", "unexpected type");
	}
}

/* Issue 14, reload: secrets, CA, upstream; pacing counters carry over. */
static struct {
	struct conf		*conf, *pend_conf;
	struct secrets		*pend_secrets;
	struct tls_config	*pend_tls;
} RR;

static int
reload_prepare(struct conf *conf, FILE *errf)
{
	if (!conf->has_relay) {
		fprintf(errf, "%s: relay: no relay line\n", conf->file);
		return -1;
	}
	if ((RR.pend_secrets = secrets_load(conf->relay.secrets_file,
	    errf)) == NULL)
		return -1;
	if ((RR.pend_tls = relay_tls_config_new(conf)) == NULL) {
		fprintf(errf, "%s: relay: cannot load the CA (see the log)\n",
		    conf->file);
		secrets_free(RR.pend_secrets);
		RR.pend_secrets = NULL;
		return -1;
	}
	RR.pend_conf = conf;
	return 0;
}

static void
reload_commit(void)
{
	relay_reload(relay_main, RR.pend_conf, RR.pend_secrets, RR.pend_tls);
	role_conf_retire(RR.conf);
	RR.conf = RR.pend_conf;
	RR.pend_conf = NULL;
	RR.pend_secrets = NULL;
	RR.pend_tls = NULL;
}

static void
reload_abort(void)
{
	secrets_free(RR.pend_secrets);
	tls_config_free(RR.pend_tls);
	conf_free(RR.pend_conf);
	RR.pend_secrets = NULL;
	RR.pend_tls = NULL;
	RR.pend_conf = NULL;
}

static const struct role_reload relay_reload_ops = {
	.prepare = reload_prepare,
	.commit = reload_commit,
	.abort = reload_abort,
};

void
role_relay_main(struct conf *conf, int queue_fd, int auth_fd)
{
	struct event_base	*base = role_start("relay");
	struct secrets		*secrets;
	struct relay		*relay;

	/* Secrets, CA and resolver configuration are read as root, once. */
	if ((secrets = secrets_load(conf->relay.secrets_file, stderr)) == NULL)
		fatalx("cannot load %s", conf->relay.secrets_file);
	if ((relay = relay_new(base, conf, secrets, relay_done, NULL)) == NULL)
		fatalx("cannot start");
	relay_own_secrets(relay, secrets);	/* wiped when a reload replaces it */
	relay_main = relay;
	relay_set_pace_cb(relay, relay_paced, NULL);
	relay_set_pace_ops(relay, &relay_pace_ops, NULL);
	role_sandbox(conf, PRIVSEP_EMPTY_DIR, "relay");
	if ((relay_queue = ipc_new(base, queue_fd, "relay<-queue", relay_dispatch,
	    relay)) == NULL ||
	    (relay_auth = ipc_new(base, auth_fd, "relay<-auth",
	    relay_auth_dispatch, NULL)) == NULL ||
	    (relay_paces = reqtab_new()) == NULL)
		fatal("ipc");
	RR.conf = conf;
	role_reload_init(base, "relay", &relay_reload_ops);
	role_run(base);
}
