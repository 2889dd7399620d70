/*
 * relay.c — the relay client's pool: takes deliveries, keeps them in FIFO
 * order until a connection can take them (holding back those whose login is
 * over "relay limit messages", relay_pace.c), reuses idle connections
 * logged in with the same upstream login, and answers each delivery once.
 * One connection's protocol lives in relay_session.c, getting there in
 * relay_connect.c, the delivery itself and its answer in relay_job.c.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <sodium.h>
#include <tls.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "lib/fileset.h"
#include "lib/log.h"
#include "relay/relay.h"
#include "relay/relay_pace.h"
#include "relay/relay_session.h"

static void	relay_dispatch(evutil_socket_t, short, void *);

/* The CA bundle in memory: the relay runs in a chroot. */
struct tls_config *
relay_tls_config_new(const struct conf *conf)
{
	const char		*file = conf->relay.ca_file;
	struct tls_config	*cfg;
	char			*mem;
	size_t			 len;

	if ((cfg = tls_config_new()) == NULL) {
		log_warnx("relay: tls_config_new failed");
		return NULL;
	}
	if (file == NULL)
		file = tls_default_ca_cert_file();
	/* Through the one door a reload can fill (lib/fileset.h). */
	if (fileset_read(file, FILESET_FILE_MAX, &mem, &len, NULL) == -1) {
		log_warn("relay: ca %s", file);
		tls_config_free(cfg);
		return NULL;
	}
	if (tls_config_set_ca_mem(cfg, (uint8_t *)mem, len) == -1) {
		log_warnx("relay: ca %s: %s", file, tls_config_error(cfg));
		fileset_buf_free(mem, len);
		tls_config_free(cfg);
		return NULL;
	}
	fileset_buf_free(mem, len);
	return cfg;
}

static int
relay_tls_setup(struct relay *r)
{
	return (r->tls_config = relay_tls_config_new(r->conf)) == NULL ? -1 : 0;
}

struct relay *
relay_new(struct event_base *base, const struct conf *conf,
    const struct secrets *secrets, relay_done_cb cb, void *arg)
{
	struct relay	*r;

	if (!conf->has_relay || conf->relay.host == NULL) {
		log_warnx("relay: no relay in the configuration");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("relay: calloc");
		return NULL;
	}
	r->base = base;
	r->conf = conf;
	r->secrets = secrets;
	r->cb = cb;
	r->cb_arg = arg;
	r->max_sessions = conf->relay.max_sessions ? conf->relay.max_sessions : 1;
	TAILQ_INIT(&r->jobs);
	TAILQ_INIT(&r->sessions);
	(void)snprintf(r->upstream, sizeof(r->upstream), "%s:%s",
	    conf->relay.host, conf->relay.port);
	if (sodium_init() == -1) {
		log_warnx("relay: sodium_init failed");
		goto fail;
	}
	if ((r->kick = event_new(base, -1, 0, relay_dispatch, r)) == NULL) {
		log_warnx("relay: event_new failed");
		goto fail;
	}
	if (relay_tls_setup(r) == -1)
		goto fail;
	if ((r->login_ok = calloc(secrets->n ? secrets->n : 1, 1)) == NULL) {
		log_warn("relay: calloc");
		goto fail;
	}
	if ((r->pace = relay_pace_new(secrets->n,
	    conf->relay.msgs_per_login.count,
	    conf->relay.msgs_per_login.window)) == NULL) {
		log_warn("relay: relay_pace_new");
		goto fail;
	}
	/*
	 * Reads resolv.conf and /etc/hosts now, before any chroot.  The flag
	 * must be set before the nameservers are added, or their sockets stay
	 * in the loop while nothing is asked.
	 */
	if ((r->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		log_warnx("relay: evdns_base_new failed; resolving blocks");
	else if (evdns_base_resolv_conf_parse(r->dns, DNS_OPTIONS_ALL,
	    "/etc/resolv.conf") != 0)
		log_warnx("relay: /etc/resolv.conf: cannot read it all; "
		    "using defaults");
	return r;
 fail:
	relay_free(r);
	return NULL;
}

void
relay_free(struct relay *r)
{
	struct relay_job	*job;

	if (r == NULL)
		return;
	while (!TAILQ_EMPTY(&r->sessions))
		relay_job_free(relay_session_free(TAILQ_FIRST(&r->sessions)));
	while ((job = TAILQ_FIRST(&r->jobs)) != NULL) {
		TAILQ_REMOVE(&r->jobs, job, entry);
		relay_job_free(job);
	}
	if (r->dns != NULL)
		evdns_base_free(r->dns, 0);
	if (r->kick != NULL)
		event_free(r->kick);
	tls_config_free(r->tls_config);
	tls_config_free(r->next_tls);
	secrets_free(r->next_secrets);
	secrets_free(r->owned_secrets);
	relay_pace_free(r->pace);
	free(r->login_ok);
	free(r);
}

/* Seconds on a clock that does not jump. */
static time_t
relay_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return time(NULL);
	return ts.tv_sec;
}

/* Seconds JOB must wait for "relay limit messages"; 0 = may go now. */
static time_t
relay_job_wait(const struct relay *r, const struct relay_job *job,
    time_t now)
{
	if (r->pace_ops != NULL)
		return job->paced_until > now ? job->paced_until - now : 0;
	return relay_pace_wait(r->pace,
	    (size_t)(job->secret - r->secrets->entries), now);
}

/* The shared pacing's answer for JOB (issue 12 item 5). */
static void
relay_pace_answered(void *arg, int fits, int64_t wait_ms)
{
	struct relay_job	*job = arg;

	if (fits)
		job->pace_state = PACE_GRANTED;
	else {
		job->pace_state = PACE_NONE;
		job->paced_until = relay_now() + (time_t)((wait_ms + 999) / 1000);
		if (job->paced_until <= relay_now())
			job->paced_until = relay_now() + 1;
		job->paced = 0;		/* say so again */
	}
	event_active(job->relay->kick, EV_TIMEOUT, 0);
}

void
relay_set_pace_ops(struct relay *r, const struct relay_pace_ops *ops,
    void *arg)
{
	r->pace_ops = ops;
	r->pace_ops_arg = arg;
}

/* An idle connection that may take a job, or NULL. */
static struct relay_session *
relay_idle_session(const struct relay *r, const char *login)
{
	struct relay_session	*s;

	TAILQ_FOREACH(s, &r->sessions, entry) {
		if (relay_session_idle(s) &&
		    (login == NULL || strcmp(relay_session_login(s), login) == 0))
			return s;
	}
	return NULL;
}

int
relay_has_capacity(const struct relay *r)
{
	const struct relay_session *s;
	const struct relay_job	*job;
	size_t			 free_slots, waiting = 0;
	time_t			 now = relay_now();

	if (r->next_conf != NULL)
		return 0;	/* a reload waits for the connections to go */
	free_slots = r->max_sessions - r->nsessions;
	TAILQ_FOREACH(s, &r->sessions, entry)
		if (relay_session_idle(s))
			free_slots++;
	/* Held back by the per-login limit: take no more for now. */
	TAILQ_FOREACH(job, &r->jobs, entry) {
		if (relay_job_wait(r, job, now) > 0)
			return 0;
		waiting++;
	}
	return waiting < free_slots;
}

/*
 * Issue 14: a reload takes over once no connection is left (they logged
 * in with the old secrets, and point into them): idle ones are told to
 * quit, busy ones finish their message; new messages wait meanwhile.
 * -1 while connections remain.
 */
static int
relay_reload_apply(struct relay *r)
{
	struct relay_session	*s, *snext;
	struct relay_pace	*pace;
	struct relay_job	*job, *jnext;
	const struct secrets	*old = r->secrets;
	unsigned char		*login_ok;
	time_t			 now = relay_now();
	size_t			 i, j, n;

	if (r->nsessions > 0) {
		for (s = TAILQ_FIRST(&r->sessions); s != NULL; s = snext) {
			snext = TAILQ_NEXT(s, entry);
			if (relay_session_idle(s))
				relay_session_quit(s);
		}
		return -1;
	}
	n = r->next_secrets->n;
	if ((login_ok = calloc(n ? n : 1, 1)) == NULL ||
	    (pace = relay_pace_new(n, r->next_conf->relay.msgs_per_login.count,
	    r->next_conf->relay.msgs_per_login.window)) == NULL) {
		free(login_ok);
		log_warn("relay: reload");
		return -1;	/* tried again at the next kick */
	}
	/* "relay limit messages" is state: it follows each login. */
	for (i = 0; i < n; i++)
		for (j = 0; j < old->n; j++)
			if (strcmp(r->next_secrets->entries[i].login,
			    old->entries[j].login) == 0 &&
			    relay_pace_carry(pace, i, r->pace, j, now) == -1)
				log_warn("relay: reload: pacing");
	relay_pace_free(r->pace);
	r->pace = pace;
	free(r->login_ok);
	r->login_ok = login_ok;
	tls_config_free(r->tls_config);
	r->tls_config = r->next_tls;
	r->conf = r->next_conf;
	r->secrets = r->next_secrets;
	secrets_free(r->owned_secrets);
	r->owned_secrets = r->next_secrets;
	r->next_tls = NULL;
	r->next_conf = NULL;
	r->next_secrets = NULL;
	r->max_sessions = r->conf->relay.max_sessions ?
	    r->conf->relay.max_sessions : 1;
	(void)snprintf(r->upstream, sizeof(r->upstream), "%s:%s",
	    r->conf->relay.host, r->conf->relay.port);
	/* Waiting messages take the login the new file gives their sender. */
	for (job = TAILQ_FIRST(&r->jobs); job != NULL; job = jnext) {
		jnext = TAILQ_NEXT(job, entry);
		if ((job->secret = secrets_match(r->secrets,
		    job->reverse_path)) != NULL)
			continue;
		TAILQ_REMOVE(&r->jobs, job, entry);
		relay_job_error(job, "no upstream login for this sender");
		relay_job_done(r, job);
	}
	log_info("event=reload role=relay upstream=%s logins=%zu", r->upstream,
	    n);
	return 0;
}

void
relay_own_secrets(struct relay *r, struct secrets *secrets)
{
	r->owned_secrets = secrets;
}

void
relay_reload(struct relay *r, const struct conf *conf,
    struct secrets *secrets, struct tls_config *tls)
{
	secrets_free(r->next_secrets);
	tls_config_free(r->next_tls);
	r->next_conf = conf;
	r->next_secrets = secrets;
	r->next_tls = tls;
	relay_kick(r);
}

/*
 * Give waiting jobs, oldest first, to connections; a job whose login is
 * over "relay limit messages" waits (the others pass it) and the kick
 * event comes back when the first of them may go.  With the shared pacing
 * a job asks for its send token only when a connection can take it (an
 * idle one, or room for one more): the token is taken just before the
 * message goes, whatever the number of connections, and jobs queued
 * behind hold none.
 */
static void
relay_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct relay		*r = arg;
	struct relay_job	*job, *next;
	struct relay_session	*s;
	time_t			 now = relay_now(), wait, soonest = 0;
	size_t			 slots;

	(void)fd;
	(void)what;
	if (r->next_conf != NULL && relay_reload_apply(r) == -1)
		return;		/* connections still carry messages */
	/* Connections that could take a job now (any login). */
	slots = r->max_sessions > r->nsessions ?
	    r->max_sessions - r->nsessions : 0;
	TAILQ_FOREACH(s, &r->sessions, entry)
		if (relay_session_idle(s))
			slots++;
	for (job = TAILQ_FIRST(&r->jobs); job != NULL; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->npending == 0) {
			TAILQ_REMOVE(&r->jobs, job, entry);
			relay_job_done(r, job);
			continue;
		}
		if ((wait = relay_job_wait(r, job, now)) > 0) {
			if (!job->paced) {
				log_info("msgid=%s event=relay result=wait "
				    "login=%s wait=%llds reason=\"relay limit "
				    "messages\"", job->queue_id,
				    job->secret->login, (long long)wait);
				if (r->pace_cb != NULL)
					r->pace_cb(job->reqid, wait,
					    job->secret->login, r->pace_arg);
			}
			job->paced = 1;
			if (soonest == 0 || wait < soonest)
				soonest = wait;
			continue;
		}
		if (slots == 0)
			break;
		if (r->pace_ops != NULL && job->pace_state != PACE_GRANTED &&
		    (r->conf->relay.msgs_per_login.count != 0 ||
		    r->conf->relay.msgs_total.count != 0)) {
			if (job->pace_state == PACE_NONE) {
				job->pace_state = PACE_ASKING;
				job->relay = r;
				r->pace_ops->take(r->pace_ops_arg,
				    job->secret->login, relay_pace_answered, job);
			}
			slots--;	/* kept for it while it asks */
			continue;
		}
		s = relay_idle_session(r, job->secret->login);
		if (s == NULL && r->nsessions >= r->max_sessions) {
			/* Full of connections for other logins: close one. */
			if ((s = relay_idle_session(r, NULL)) != NULL)
				relay_session_quit(s);
			break;
		}
		TAILQ_REMOVE(&r->jobs, job, entry);
		slots--;
		if (r->pace_ops == NULL && relay_pace_charge(r->pace,
		    (size_t)(job->secret - r->secrets->entries), now) == -1)
			log_warn("relay: relay_pace_charge");
		if (s != NULL)
			relay_session_send(s, job);
		else if (relay_session_new(r, job) == NULL) {
			relay_job_error(job, "out of memory");
			relay_job_done(r, job);
		}
	}
	if (soonest > 0) {
		struct timeval	 tv = { soonest, 0 };

		event_add(r->kick, &tv);
	}
}

/* No control octets in a path we put on a command line. */
static int
relay_path_ok(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

void
relay_set_pace_cb(struct relay *r, relay_pace_cb cb, void *arg)
{
	r->pace_cb = cb;
	r->pace_arg = arg;
}

uint64_t
relay_upstream_size(const struct relay *r)
{
	return r->upstream_size;
}

int
relay_upstream_smtputf8(const struct relay *r)
{
	return r->upstream_smtputf8;
}

int
relay_deliver(struct relay *r, uint64_t reqid, int msg_fd,
    const char *prefix, size_t prefixlen, const struct envelope *env)
{
	const struct secret	*secret;
	struct relay_job	*job;
	size_t			 i;

	if ((secret = secrets_match(r->secrets, env->reverse_path)) == NULL) {
		if (env->reverse_path[0] == '\0')
			log_warnx("msgid=%s event=alert kind=no-bounce-login "
			    "error=\"a bounce (null "
			    "reverse-path) needs a '*' line in the upstream "
			    "secrets file: none, so bounces cannot be sent\"",
			    env->queue_id);
		log_warnx("msgid=%s event=relay result=fail error=\"no upstream "
		    "login for the reverse-path\"", env->queue_id);
		return -1;
	}
	if ((job = relay_job_new(msg_fd, prefix, prefixlen, env)) == NULL) {
		log_warn("msgid=%s event=relay result=fail", env->queue_id);
		return -1;
	}
	job->reqid = reqid;
	job->secret = secret;
	if (!relay_path_ok(job->reverse_path))
		relay_job_error(job, "control character in the reverse-path");
	for (i = 0; i < job->nrcpt; i++)
		if (job->rcpt[i].pending &&
		    !relay_path_ok(job->rcpt[i].forward_path))
			relay_job_error(job, "control character in a recipient");
	if (job->session_error[0] != '\0')
		job->npending = 0;
	TAILQ_INSERT_TAIL(&r->jobs, job, entry);
	relay_kick(r);
	return 0;
}
