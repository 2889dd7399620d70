/*
 * role_filter.c — the filter role (issue 16): asks rspamd about each
 * message before the queue commits it.  It is the only process that opens
 * a connection to rspamd, and it holds nothing worth stealing: no key, no
 * password hash, no upstream secret, no spool.  The queue role passes it
 * the message as a read-only fd and the envelope; it sends both to
 * rspamd's /checkv2 over HTTP/1.1 (libevent's evhttp client), and
 * answers with rspamd's verdict (proto/rspamd.h) or a failure.  What the
 * verdict does to the message is the queue role's decision
 * (smtpd/queue_filter.c).
 *
 * Every check runs on the event loop with its own deadline: a slow
 * rspamd delays only the message it is scanning.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "conf/conf.h"
#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"
#include "lib/log.h"
#include "lib/privsep.h"
#include "proto/rspamd.h"
#include "smtpd/roles.h"

#define FILTER_HEADERS_MAX	(16 * 1024)	/* rspamd's reply headers */

static struct {
	struct event_base	*base;
	struct conf		*conf;
	struct ipc		*queue;
	/*
	 * No name server, nothing read: it only turns the numeric address
	 * of the config into a sockaddr without the C library's resolver,
	 * which opens files (the sandbox allows no open).
	 */
	struct evdns_base	*dns;
	unsigned		 njobs;
} F;

struct job {
	uint64_t			 reqid;
	char				 queue_id[QUEUE_ID_SIZE];
	struct evhttp_connection	*evcon;
	struct event			*deadline;
	const char			*error;	/* set by the error callback */
};

static void
answer(struct job *j, const char *failure, const struct rspamd_verdict *v)
{
	struct ipc_filter_result	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("filter");
	if (failure != NULL) {
		r->failed = 1;
		snprintf(r->reason, sizeof(r->reason), "%s", failure);
	} else
		r->verdict = *v;
	if (ipc_send(F.queue, IPC_FILTER_RESULT, j->reqid, -1, r,
	    sizeof(*r)) == -1)
		fatalx("cannot answer the queue role");
	free(r);
}

static void
job_free(struct job *j)
{
	event_free(j->deadline);
	free(j);
	F.njobs--;
}

/* The whole check took too long (a slow or silent rspamd). */
static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j = arg;

	(void)fd;
	(void)what;
	answer(j, "timeout", NULL);
	/* Frees the request too, without calling its callback. */
	evhttp_connection_free(j->evcon);
	job_free(j);
}

static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct job	*j = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:	j->error = "timeout"; break;
	case EVREQ_HTTP_EOF:		j->error = "connection closed"; break;
	case EVREQ_HTTP_INVALID_HEADER:	j->error = "bad HTTP reply"; break;
	case EVREQ_HTTP_DATA_TOO_LONG:	j->error = "reply too large"; break;
	default:			j->error = "connection failed"; break;
	}
}

static void
connection_free_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evhttp_connection_free(arg);
}

static void
on_reply(struct evhttp_request *req, void *arg)
{
	static const struct timeval	 now = { 0, 0 };
	struct job		*j = arg;
	struct rspamd_verdict	*v;
	struct evbuffer		*in;
	const char		*why = NULL;
	char			 err[64];
	int			 code, dropped;
	size_t			 len;
	unsigned char		*p;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		fatal("filter");
	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code == 0)
		why = j->error != NULL ? j->error : "connection failed";
	else if (code != 200) {
		snprintf(err, sizeof(err), "HTTP status %d", code);
		why = err;
	} else {
		in = evhttp_request_get_input_buffer(req);
		len = evbuffer_get_length(in);
		if ((p = evbuffer_pullup(in, -1)) == NULL && len > 0)
			why = "out of memory";
		else if (rspamd_reply_parse((const char *)p, len, v, &dropped,
		    &why) == 0) {
			if (dropped > 0)
				log_warnx("msgid=%s event=filter-headers-dropped "
				    "count=%d reason=\"not writable safely\"",
				    j->queue_id, dropped);
			why = NULL;
		}
	}
	answer(j, why, v);
	free(v);
	/*
	 * Not inside its own callback: the connection is freed once this
	 * returns.  (libevent 2.1's free-on-completion leaked it when the
	 * connect failed: found by LeakSanitizer with rspamd down.)
	 */
	if (event_base_once(F.base, -1, EV_TIMEOUT, connection_free_later,
	    j->evcon, &now) == -1)
		fatal("filter: event_base_once");
	job_free(j);
}

static int
add_header(struct evkeyvalq *h, const char *name, const char *value)
{
	return evhttp_add_header(h, name, value);
}

/* One message: the envelope ENV, its file FD (ours). */
static void
filter_check(uint64_t reqid, struct envelope *env, int fd)
{
	struct conf_filter	*cf = &F.conf->filter;
	struct evhttp_request	*req = NULL;
	struct evkeyvalq	*h;
	struct job		*j;
	struct timeval		 tv = { cf->timeout, 0 };
	struct stat		 st;
	char			 from[SMTP_PATH_MAX + 3], host[80];
	size_t			 i;
	int			 bad = 0;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("filter");
	F.njobs++;
	j->reqid = reqid;
	memcpy(j->queue_id, env->queue_id, sizeof(j->queue_id));
	if ((j->deadline = evtimer_new(F.base, on_deadline, j)) == NULL)
		fatal("filter");
	if (fstat(fd, &st) == -1 ||
	    (j->evcon = evhttp_connection_base_new(F.base, F.dns, cf->host,
	    (unsigned short)atoi(cf->port))) == NULL ||
	    (req = evhttp_request_new(on_reply, j)) == NULL) {
		close(fd);
		if (j->evcon != NULL)
			evhttp_connection_free(j->evcon);
		answer(j, "cannot make the request", NULL);
		job_free(j);
		return;
	}
	evhttp_connection_set_timeout_tv(j->evcon, &tv);
	evhttp_connection_set_max_body_size(j->evcon, RSPAMD_REPLY_MAX);
	evhttp_connection_set_max_headers_size(j->evcon, FILTER_HEADERS_MAX);
	evhttp_connection_set_retries(j->evcon, 0);
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	snprintf(host, sizeof(host), strchr(cf->host, ':') ? "[%s]:%s" :
	    "%s:%s", cf->host, cf->port);
	snprintf(from, sizeof(from), "<%s>", env->reverse_path);
	/* rspamd.com/doc/developers/protocol: an authenticated submission. */
	bad |= add_header(h, "Host", host);
	bad |= add_header(h, "User", env->user);
	bad |= add_header(h, "IP", env->client_addr);
	bad |= add_header(h, "Helo", env->helo[0] ? env->helo : "unknown");
	bad |= add_header(h, "From", from);
	for (i = 0; i < env->nrcpt; i++) {
		snprintf(from, sizeof(from), "<%s>", env->rcpt[i].forward_path);
		bad |= add_header(h, "Rcpt", from);
	}
	bad |= add_header(h, "Queue-Id", env->queue_id);
	bad |= add_header(h, "MTA-Name", F.conf->hostname);
	if (cf->settings_id != NULL)
		bad |= add_header(h, "Settings-Id", cf->settings_id);
	bad |= add_header(h, "Connection", "close");
	/* The message itself: the file, mapped, not copied (fd taken). */
	if (bad)
		close(fd);
	/* evbuffer_add_file takes FD even when it fails (not closed twice). */
	if (bad || evbuffer_add_file(evhttp_request_get_output_buffer(req), fd,
	    0, st.st_size) == -1) {
		evhttp_request_free(req);
		evhttp_connection_free(j->evcon);
		answer(j, "cannot make the request", NULL);
		job_free(j);
		return;
	}
	if (evhttp_make_request(j->evcon, req, EVHTTP_REQ_POST, cf->path) == -1) {
		/* evhttp freed the request */
		evhttp_connection_free(j->evcon);
		answer(j, "connection failed", NULL);
		job_free(j);
		return;
	}
	evtimer_add(j->deadline, &tv);
	log_debug("msgid=%s event=filter-send size=%lld", env->queue_id,
	    (long long)st.st_size);
}

static void
dispatch_queue(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct envelope	 env;
	const char	*prefix;
	size_t		 prefixlen;

	(void)c;
	(void)arg;
	if (m == NULL)
		role_peer_closed("filter", "queue");
	switch (m->type) {
	case IPC_FILTER_CHECK:
		if (m->fd == -1 || ipc_deliver_decode(m->data, m->len, &env,
		    &prefix, &prefixlen) == -1) {
			role_ipc_reject(m, "queue", "malformed");
			return;
		}
		filter_check(m->reqid, &env, m->fd);
		envelope_free(&env);
		break;
	default:
		role_ipc_reject(m, "queue", "unexpected type");
	}
}

void
role_filter_main(struct conf *conf, int queue_fd)
{
	F.base = role_start("filter");
	F.conf = conf;
	unsigned char	 seed;

	/*
	 * libevent's random numbers (evdns, evhttp) re-seed from
	 * /dev/urandom in a new process: do it now, while open is allowed.
	 */
	evutil_secure_rng_get_bytes(&seed, sizeof(seed));
	rspamd_init();		/* jansson's seed, the same way */
	if ((F.dns = evdns_base_new(F.base, 0)) == NULL)
		fatalx("filter: evdns_base_new failed");
	role_sandbox(conf, PRIVSEP_EMPTY_DIR, "filter");
	if ((F.queue = ipc_new(F.base, queue_fd, "filter<-queue",
	    dispatch_queue, NULL)) == NULL)
		fatal("ipc");
	log_debug("event=filter-ready url=%s timeout=%lld", conf->filter.url,
	    (long long)conf->filter.timeout);
	role_run(F.base);
}
