/*
 * role_auth.c — the auth role: the users table and the password checks,
 * asked by the smtp role over IPC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "auth/auth.h"
#include "auth/auth_ctl.h"
#include "auth/policy.h"
#include "auth/state.h"
#include "auth/users.h"
#include "conf/conf.h"
#include "smtpd/ctl_serve.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "smtpd/roles.h"

static struct ipc	*auth_smtp;
static struct ipc	*auth_control;	/* submitctl requests (issue 7) */

struct auth_req {
	uint64_t	 reqid;
};

static void
auth_done(void *arg, const struct auth_reply *r)
{
	struct auth_req	*q = arg;

	if (ipc_send(auth_smtp, IPC_AUTH_RESULT, q->reqid, -1, r, sizeof(*r)) == -1)
		fatalx("cannot answer the smtp role");
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

/* Issue 5: may this address connect, this user send; a message counted. */
static void
auth_policy(const struct ipc_msg *m)
{
	struct ipc_policy	 req;
	struct auth_req		*q;

	if (m->fd != -1 || ipc_policy_decode(m->data, m->len, &req) == -1 ||
	    (m->type != IPC_POLICY_CONNECT && req.user[0] == '\0')) {
		role_ipc_reject(m, "smtp", "malformed");
		return;
	}
	if (m->type == IPC_POLICY_CHARGE) {
		policy_charge(req.user, req.nrcpt, req.size);
		return;
	}
	if ((q = malloc(sizeof(*q))) == NULL)
		fatal("auth");
	q->reqid = m->reqid;
	if (m->type == IPC_POLICY_CONNECT)
		policy_connect((const struct sockaddr *)&req.peer,
		    auth_policy_done, q);
	else
		policy_mail(req.user, req.size, auth_policy_done, q);
}

static void
auth_dispatch(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_auth_login	 req;
	struct auth_req		*q;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("auth", "smtp");
	switch (m->type) {
	case IPC_AUTH_LOGIN:
		if (m->fd != -1 ||
		    ipc_auth_login_decode(m->data, m->len, &req) == -1) {
			role_ipc_reject(m, "smtp", "malformed");
			return;
		}
		if ((q = malloc(sizeof(*q))) == NULL)
			fatal("auth");
		q->reqid = m->reqid;
		if (auth_login(req.user, req.password,
		    (const struct sockaddr *)&req.peer, auth_done, q) == -1)
			fatal("login request");
		sodium_memzero(&req, sizeof(req));
		break;
	case IPC_POLICY_CONNECT:
	case IPC_POLICY_MAIL:
	case IPC_POLICY_CHARGE:
		auth_policy(m);
		break;
	default:
		role_ipc_reject(m, "smtp", "unexpected type");
	}
}

static int
auth_ctl_call(void *arg, int argc, char **argv, int json, struct evbuffer *out)
{
	(void)arg;
	return auth_ctl(argc, argv, json, out);
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
		ctl_serve(c, m, "auth", auth_ctl_call, NULL);
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

void
role_auth_main(struct conf *conf, int smtp_fd, int control_fd)
{
	struct event_base	*base = role_start("auth");
	struct users		*users;

	if ((users = users_load(conf->users_file, stderr)) == NULL)
		fatalx("cannot load %s", conf->users_file);
	/* The counters: opened by path before the chroot into that dir. */
	if (state_open(conf, base) == -1)
		fatalx("cannot open the state");
	/* Before the worker threads exist, so that they inherit the filter. */
	role_sandbox(conf, state_root(conf), "auth");
	if (auth_init(base, conf, users) == -1)
		fatalx("cannot start");
	if ((auth_smtp = ipc_new(base, smtp_fd, "auth<-smtp", auth_dispatch,
	    NULL)) == NULL ||
	    (auth_control = ipc_new(base, control_fd, "auth<-control",
	    auth_control_dispatch, NULL)) == NULL)
		fatal("ipc");
	role_run(base);
}
