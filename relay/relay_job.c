/*
 * relay_job.c — one delivery inside the relay client: copied from the
 * queue's envelope, its session error made safe to log, and its answer
 * to the queue through the relay's callback (struct relay's cb), which
 * wakes the pool.  Used by the pool (relay.c) and by a connection
 * (relay_session.c); calls neither: relay_kick only activates the pool's
 * event, whose callback is the pool's dispatcher.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "relay/relay.h"
#include "relay/relay_session.h"

void
relay_kick(struct relay *r)
{
	event_active(r->kick, EV_TIMEOUT, 0);
}

struct relay_job *
relay_job_new(int msg_fd, const char *prefix, size_t prefixlen,
    const struct envelope *env)
{
	struct relay_job	*job;
	struct stat		 sb;
	size_t			 i;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return NULL;
	job->fd = -1;
	if ((job->rcpt = calloc(env->nrcpt + 1, sizeof(*job->rcpt))) == NULL ||
	    (job->pending = calloc(env->nrcpt + 1, sizeof(*job->pending))) == NULL ||
	    (job->res = calloc(env->nrcpt + 1, sizeof(*job->res))) == NULL ||
	    (prefixlen > 0 && (job->prefix = malloc(prefixlen)) == NULL) ||
	    (job->fd = fcntl(msg_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		relay_job_free(job);
		return NULL;
	}
	if (prefixlen > 0)
		memcpy(job->prefix, prefix, prefixlen);
	job->prefixlen = prefixlen;
	(void)snprintf(job->queue_id, sizeof(job->queue_id), "%s", env->queue_id);
	(void)snprintf(job->reverse_path, sizeof(job->reverse_path), "%s",
	    env->reverse_path);
	job->body_8bitmime = env->body_8bitmime;
	job->smtputf8 = env->smtputf8;
	job->size = env->size;
	if (job->size == 0 && fstat(job->fd, &sb) == 0)
		job->size = (uint64_t)sb.st_size;
	job->size += prefixlen;
	job->nrcpt = env->nrcpt;
	for (i = 0; i < env->nrcpt; i++) {
		(void)snprintf(job->rcpt[i].forward_path,
		    sizeof(job->rcpt[i].forward_path), "%s",
		    env->rcpt[i].forward_path);
		if (env->rcpt[i].state != RCPT_PENDING)
			continue;
		job->rcpt[i].pending = 1;
		job->pending[job->npending++] = i;
	}
	return job;
}

void
relay_job_free(struct relay_job *job)
{
	if (job == NULL)
		return;
	if (job->fd != -1)
		close(job->fd);
	free(job->prefix);
	free(job->rcpt);
	free(job->pending);
	free(job->res);
	free(job);
}

void
relay_job_error(struct relay_job *job, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	(void)vsnprintf(job->session_error, sizeof(job->session_error), fmt, ap);
	va_end(ap);
	for (p = job->session_error; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e ||
		    *p == '"' || *p == '\\')
			*p = '?';
}

static const char *
relay_result_word(int code)
{
	if (code >= 200 && code < 300)
		return "sent";
	if (code >= 500 && code < 600)
		return "bounced";
	return "deferred";
}

void
relay_job_done(struct relay *r, struct relay_job *job)
{
	struct relay_result	 res;
	size_t			 i;

	for (i = 0; i < job->nrcpt; i++) {
		const struct relay_rcpt_result *rr = &job->res[i];

		if (!job->rcpt[i].pending)
			continue;
		log_info("msgid=%s event=relay result=%s upstream=%s rcpt=%s "
		    "reply=%s", job->queue_id, relay_result_word(rr->code),
		    r->upstream, log_q(job->rcpt[i].forward_path),
		    log_q(rr->code ? rr->reply : job->session_error));
	}
	memset(&res, 0, sizeof(res));
	res.reqid = job->reqid;
	res.nrcpt = job->nrcpt;
	res.rcpt = job->res;
	(void)snprintf(res.session_error, sizeof(res.session_error), "%s",
	    job->session_error);
	r->cb(&res, r->cb_arg);
	relay_job_free(job);
	relay_kick(r);
}
