/*
 * queue_done.c — the end of a delivery attempt: per-recipient results
 * (2xx done, 5xx failed, 4xx or not reached still pending), then the
 * message is removed when nothing is pending, failed past its lifetime,
 * or rescheduled with backoff and its envelope rewritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/conf.h"
#include "queue/queue_priv.h"
#include "queue/queue_metrics.h"
#include "lib/log.h"

/* Copies an upstream reply into DST, control characters made '?'. */
static void
reply_copy(char dst[SMTP_REPLYLINE_MAX], const char *src)
{
	size_t	 i, len = strnlen(src, SMTP_REPLYLINE_MAX - 1);

	for (i = 0; i < len; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ?
		    '?' : src[i];
	dst[len] = '\0';
}

/* What the upstream refused: the class and RFC 3463 subject of REPLY. */
static void
done_refused(int code, const char *reply)
{
	const char	*p = reply;
	int		 subject = -1;

	/* "550 5.1.1 ...": the enhanced code follows the reply code */
	if (strlen(p) > 4 && (p[3] == ' ' || p[3] == '-'))
		p += 4;
	if ((p[0] == '4' || p[0] == '5') && p[0] == '0' + code / 100 &&
	    p[1] == '.' && p[2] >= '0' && p[2] <= '7' && p[3] == '.')
		subject = p[2] - '0';
	queue_metrics_refused(code, subject);
}

static size_t
done_apply(const char *id, struct envelope *env,
    const struct relay_result *res)
{
	struct envelope_rcpt	*r;
	const char		*reply;
	size_t			 i, refused = 0;
	int			 code;

	for (i = 0; i < env->nrcpt; i++) {
		r = &env->rcpt[i];
		if (r->state != RCPT_PENDING)
			continue;
		code = i < res->nrcpt ? res->rcpt[i].code : 0;
		reply = i < res->nrcpt ? res->rcpt[i].reply : "";
		if (reply[0] == '\0')
			reply = res->session_error;
		if (reply[0] != '\0')
			reply_copy(r->last_reply, reply);
		queue_metrics_reply(code);
		if (code >= 400 && code <= 599)
			done_refused(code, reply);
		if (code >= 200 && code <= 299) {
			r->state = RCPT_DONE;
			queue_metrics_delivered(env->created, time(NULL));
			log_info("msgid=%s event=delivered rcpt=%s reply=%s",
			    id, log_q(r->forward_path), log_q(r->last_reply));
		} else if (code >= 500 && code <= 599) {
			r->state = RCPT_FAILED;
			refused++;
			log_info("msgid=%s event=bounce rcpt=%s reply=%s",
			    id, log_q(r->forward_path), log_q(r->last_reply));
		} else
			log_info("msgid=%s event=tempfail rcpt=%s reply=%s",
			    id, log_q(r->forward_path), log_q(r->last_reply));
	}
	return refused;
}

void
queue_relay_done(const struct relay_result *res, void *arg)
{
	struct queue	*q = arg;
	struct qflight	*f;
	uint8_t		*was;
	size_t		 i, refused;

	TAILQ_FOREACH(f, &q->flights, entry)
		if (f->reqid == res->reqid)
			break;
	if (f == NULL) {
		log_warnx("queue: relay result for unknown request %llu",
		    (unsigned long long)res->reqid);
		return;
	}
	TAILQ_REMOVE(&q->flights, f, entry);
	q->nflights--;
	if ((was = calloc(f->qe.env.nrcpt, 1)) == NULL)
		fatal("queue: calloc");
	for (i = 0; i < f->qe.env.nrcpt; i++)
		was[i] = f->qe.env.rcpt[i].state == RCPT_PENDING;
	refused = done_apply(f->msg->id, &f->qe.env, res);
	/* issue 15: a login whose mail the upstream refuses (not a bounce) */
	if (refused > 0 && q->refused_cb != NULL &&
	    f->qe.env.reverse_path[0] != '\0' && f->qe.env.user[0] != '\0')
		q->refused_cb(f->qe.env.user, (uint32_t)refused);
	queue_settle_from(q, f->msg, &f->qe, was, time(NULL));
	free(was);
	queue_env_free(&f->qe);
	free(f);
	queue_sched_kick(q);
}

int
queue_remove_files(struct queue *q, const char *id, int sync)
{
	char	 name[QUEUE_ID_SIZE + 8];
	int	 rv = 0;

	snprintf(name, sizeof(name), "%s.env", id);
	if (unlinkat(q->dirfd, name, 0) == -1 && errno != ENOENT) {
		log_warn("msgid=%s event=error step=remove file=%s", id, name);
		return -1;	/* keep the message: it may be sent again */
	}
	snprintf(name, sizeof(name), "%s.msg", id);
	if (unlinkat(q->dirfd, name, 0) == -1 && errno != ENOENT) {
		log_warn("msgid=%s event=error step=remove file=%s", id, name);
		rv = -1;	/* an orphan, removed at the next start */
	}
	/*
	 * After a delivery the removal is not synced: other processes see
	 * the unlink at once (a kill -9 cannot bring the message back), and
	 * a power cut can only bring it back to be sent again, never lose
	 * it.  Not waiting for the disk here keeps the window between the
	 * smarthost's 250 and our record of it short (RFC 1047).
	 */
	if (sync && fsync(q->dirfd) == -1)
		log_warn("queue: fsync of the spool directory");
	return rv;
}

/* Every pending recipient becomes failed: the lifetime is over. */
static void
settle_expire(const char *id, struct envelope *env)
{
	struct envelope_rcpt	*r;
	size_t			 i;

	for (i = 0; i < env->nrcpt; i++) {
		r = &env->rcpt[i];
		if (r->state != RCPT_PENDING)
			continue;
		r->state = RCPT_FAILED;
		log_info("msgid=%s event=expired rcpt=%s reply=%s", id,
		    log_q(r->forward_path), log_q(r->last_reply));
	}
}

static time_t
settle_next_try(const struct conf *conf, const struct queue_env *qe,
    time_t now)
{
	time_t	 next;
	int	 rnd = (int)randombytes_uniform(201) - 100;

	next = now + queue_backoff(conf->queue_retry_min,
	    conf->queue_retry_max, qe->attempts, rnd);
	if (conf->queue_lifetime > 0 &&
	    next > qe->env.created + conf->queue_lifetime)
		next = qe->env.created + conf->queue_lifetime;
	return next > now ? next : now + 1;
}

/*
 * The DSN for recipients pending before the attempt and failed now
 * (EXPIRED[i]: by the lifetime).  It is committed before the envelope
 * changes: a crash in between sends it twice, never loses it.
 */
static void
settle_bounce(struct queue *q, const char *id, const struct queue_env *qe,
    const uint8_t *was, const uint8_t *expired, time_t now)
{
	uint8_t	*sel;
	size_t	 i, n = 0;

	if ((sel = calloc(qe->env.nrcpt, 1)) == NULL)
		fatal("queue: calloc");
	for (i = 0; i < qe->env.nrcpt; i++) {
		if (!was[i] || qe->env.rcpt[i].state != RCPT_FAILED)
			continue;
		sel[i] = expired[i] ? QUEUE_BOUNCE_EXPIRED : QUEUE_BOUNCE_FAILED;
		n++;
	}
	if (n > 0) {
		q->stats.bounced += n;
		if (queue_bounce(q, id, qe, sel, now) == -1)
			log_warnx("msgid=%s event=error step=bounce reason=\"DSN "
			    "not written: the failure stays in the log only\"",
			    id);
	}
	free(sel);
}

void
queue_settle(struct queue *q, struct qmsg *m, struct queue_env *qe,
    time_t now)
{
	uint8_t	*was;
	size_t	 i;

	if ((was = calloc(qe->env.nrcpt ? qe->env.nrcpt : 1, 1)) == NULL)
		fatal("queue: calloc");
	for (i = 0; i < qe->env.nrcpt; i++)
		was[i] = qe->env.rcpt[i].state == RCPT_PENDING;
	queue_settle_from(q, m, qe, was, now);
	free(was);
}

void
queue_settle_from(struct queue *q, struct qmsg *m, struct queue_env *qe,
    const uint8_t *was, time_t now)
{
	const struct conf	*conf = q->conf;
	uint8_t			*expired;
	size_t			 i;

	if ((expired = calloc(qe->env.nrcpt ? qe->env.nrcpt : 1, 1)) == NULL)
		fatal("queue: calloc");
	if (queue_env_pending(&qe->env) > 0 && conf->queue_lifetime > 0 &&
	    now - qe->env.created >= conf->queue_lifetime) {
		for (i = 0; i < qe->env.nrcpt; i++)
			expired[i] = qe->env.rcpt[i].state == RCPT_PENDING;
		settle_expire(m->id, &qe->env);
	}
	settle_bounce(q, m->id, qe, was, expired, now);
	free(expired);
	for (i = 0; i < qe->env.nrcpt; i++)
		if (was[i] && qe->env.rcpt[i].state == RCPT_DONE)
			q->stats.delivered++;
	if (queue_env_pending(&qe->env) == 0) {
		if (queue_remove_files(q, m->id, 0) == 0)
			log_info("msgid=%s event=removed", m->id);
		free(m);
		return;
	}
	if (qe->attempts < QUEUE_ATTEMPTS_MAX)
		qe->attempts++;
	qe->last_try = now;
	qe->next_try = settle_next_try(conf, qe, now);
	if (queue_env_write(q->dirfd, m->id, qe, 1) == -1)
		log_warn("msgid=%s event=error step=rewrite (old envelope kept)",
		    m->id);
	m->attempts = qe->attempts;
	m->next_try = qe->next_try;
	q->stats.deferred++;
	log_info("msgid=%s event=deferred attempts=%u next_try=%lld",
	    m->id, m->attempts, (long long)m->next_try);
	queue_sched_add(q, m);
}
