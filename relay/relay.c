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

/* Load the CA bundle into memory now: later the relay runs in a chroot. */
static int
relay_tls_setup(struct relay *r)
{
	const char	*file = r->conf->relay.ca_file;
	char		*mem;
	size_t		 len;

	if ((r->tls_config = tls_config_new()) == NULL) {
		log_warnx("relay: tls_config_new failed");
		return -1;
	}
	if (file == NULL)
		file = tls_default_ca_cert_file();
	/* Through the one door a reload can fill (lib/fileset.h). */
	if (fileset_read(file, FILESET_FILE_MAX, &mem, &len, NULL) == -1) {
		log_warn("relay: ca %s", file);
		return -1;
	}
	if (tls_config_set_ca_mem(r->tls_config, (uint8_t *)mem, len) == -1) {
		log_warnx("relay: ca %s: %s", file,
		    tls_config_error(r->tls_config));
		fileset_buf_free(mem, len);
		return -1;
	}
	fileset_buf_free(mem, len);
	return 0;
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
	return relay_pace_wait(r->pace,
	    (size_t)(job->secret - r->secrets->entries), now);
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
 * Give waiting jobs, oldest first, to connections; a job whose login is
 * over "relay limit messages" waits (the others pass it) and the kick
 * event comes back when the first of them may go.
 */
static void
relay_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct relay		*r = arg;
	struct relay_job	*job, *next;
	struct relay_session	*s;
	time_t			 now = relay_now(), wait, soonest = 0;

	(void)fd;
	(void)what;
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
		s = relay_idle_session(r, job->secret->login);
		if (s == NULL && r->nsessions >= r->max_sessions) {
			/* Full of connections for other logins: close one. */
			if ((s = relay_idle_session(r, NULL)) != NULL)
				relay_session_quit(s);
			break;
		}
		TAILQ_REMOVE(&r->jobs, job, entry);
		if (relay_pace_charge(r->pace,
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
relay_deliver(struct relay *r, uint64_t reqid, int msg_fd,
    const char *prefix, size_t prefixlen, const struct envelope *env)
{
	const struct secret	*secret;
	struct relay_job	*job;
	size_t			 i;

	if ((secret = secrets_match(r->secrets, env->reverse_path)) == NULL) {
		if (env->reverse_path[0] == '\0')
			log_warnx("msgid=%s event=alert error=\"a bounce (null "
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
