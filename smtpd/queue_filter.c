/* queue_filter.c — the content filter's verdict, applied; see queue_filter.h. */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <event2/buffer.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "smtpd/ipc_msg.h"
#include "smtpd/queue_filter.h"
#include "smtpd/roles.h"

/* A message the filter role is scanning. */
struct fcheck {
	TAILQ_ENTRY(fcheck)	 entry;
	uint64_t		 id;		/* our request to the filter */
	uint64_t		 smtp_reqid;
	struct envelope		 env;
	struct queue_sign_input	 sign;
	struct timespec		 start;
};

static struct {
	struct queue			*q;
	const struct conf		*conf;
	struct ipc			*filter;
	const struct queue_filter_ops	*ops;
	TAILQ_HEAD(, fcheck)		 checks;
	uint64_t			 next_id;
} QF = { .checks = TAILQ_HEAD_INITIALIZER(QF.checks) };

void
queue_filter_init(struct queue *q, const struct conf *conf,
    struct ipc *filter, const struct queue_filter_ops *ops)
{
	QF.q = q;
	QF.conf = conf;
	QF.filter = filter;
	QF.ops = ops;
}

void
queue_filter_set_conf(const struct conf *conf)
{
	QF.conf = conf;
}

int
queue_filter_check(uint64_t smtp_reqid, struct envelope *env,
    const struct queue_sign_input *sign)
{
	struct fcheck	*f;
	void		*buf;
	size_t		 len;
	int		 fd;

	if (QF.filter == NULL)
		return -1;
	if ((fd = queue_message_fd(QF.q, env->queue_id)) == -1)
		return -1;	/* the commit will say why */
	if (ipc_deliver_encode(env, "", 0, &buf, &len) == -1) {
		close(fd);
		return -1;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("queue_filter");
	f->id = ++QF.next_id;
	f->smtp_reqid = smtp_reqid;
	f->env = *env;		/* taken, rcpt with it */
	f->sign = *sign;
	clock_gettime(CLOCK_MONOTONIC, &f->start);
	if (ipc_send(QF.filter, IPC_FILTER_CHECK, f->id, fd, buf, len) == -1)
		fatalx("cannot send to the filter role");
	close(fd);
	free(buf);
	TAILQ_INSERT_TAIL(&QF.checks, f, entry);
	return 0;
}

/*
 * Per-user counts of what the filter decided, since start: submitctl show
 * filter prints them.  queue_filter_count is also the hook for the abuse
 * alerts and metrics (issue 15): each decision passes here once, with the
 * login, as the event=filter and event=alert kind=filter-down lines do.
 */
enum { FC_SCANNED, FC_REJECT, FC_TEMPFAIL, FC_HEADERS, FC_ERROR, FC_MAX };
static const char *const fc_names[FC_MAX] = {
	"scanned", "rejected", "tempfailed", "headers", "errors"
};
#define FILTER_USERS_MAX	4096	/* past it: one line "*" for the rest */

struct fuser {
	char		 user[AUTH_USER_MAX + 1];
	uint64_t	 n[FC_MAX];
};
static struct fuser	*fusers;
static size_t		 nfusers;

static void
queue_filter_count(const char *user, int kind)
{
	size_t	 i;

	if (fusers == NULL && (fusers = calloc(FILTER_USERS_MAX + 1,
	    sizeof(*fusers))) == NULL)
		fatal("queue_filter");
	for (i = 0; i < nfusers; i++)
		if (strcmp(fusers[i].user, user) == 0)
			break;
	if (i == nfusers) {
		if (nfusers == FILTER_USERS_MAX)
			i = FILTER_USERS_MAX;	/* "*": the rest */
		else
			nfusers++;
		snprintf(fusers[i].user, sizeof(fusers[i].user), "%s",
		    i == FILTER_USERS_MAX ? "*" : user);
	}
	if (kind != FC_ERROR)
		fusers[i].n[FC_SCANNED]++;
	if (kind != FC_SCANNED)
		fusers[i].n[kind]++;
}

/* S as a JSON string (RFC 8259 section 7), as queue_ctl.c writes them. */
static void
json_str(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add_printf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			evbuffer_add_printf(out, "\\u%04x", (unsigned char)*s);
		else
			evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

#define FILTER_METRICS_USERS	200	/* per-user lines in one scrape */

void
queue_filter_metrics(struct evbuffer *out)
{
	uint64_t	 tot[FC_MAX] = { 0 };
	size_t		 i, k, n, lines = 0;
	const char	*c;

	if (QF.filter == NULL)
		return;
	n = nfusers + (fusers != NULL && fusers[FILTER_USERS_MAX].user[0]);
	for (i = 0; i < n; i++)
		for (k = 0; k < FC_MAX; k++)
			tot[k] += fusers[i < nfusers ? i : FILTER_USERS_MAX].n[k];
	metrics_family(out, "submitd_filter_messages_total", "counter",
	    "Messages by what the content filter (rspamd) decided: scanned, "
	    "rejected (550), tempfailed (451), headers changed; errors: no "
	    "answer from the filter");
	for (k = 0; k < FC_MAX; k++)
		metrics_sample(out, "submitd_filter_messages_total", "result",
		    fc_names[k], tot[k]);
	metrics_family(out, "submitd_filter_rejected_by_user_total", "counter",
	    "Messages the content filter rejected, per login (a login with "
	    "rejects is likely stolen); at most 200 logins");
	for (i = 0; i < n && lines < FILTER_METRICS_USERS; i++) {
		const struct fuser *u = &fusers[i < nfusers ? i :
		    FILTER_USERS_MAX];

		if (u->n[FC_REJECT] == 0)
			continue;
		lines++;
		evbuffer_add_printf(out,
		    "submitd_filter_rejected_by_user_total{user=\"");
		for (c = u->user; *c; c++)	/* the text format's escapes */
			if (*c == '"' || *c == '\\')
				evbuffer_add_printf(out, "\\%c", *c);
			else
				evbuffer_add(out, c, 1);
		evbuffer_add_printf(out, "\"} %llu\n",
		    (unsigned long long)u->n[FC_REJECT]);
	}
}

void
queue_filter_show(int json, struct evbuffer *out)
{
	size_t	 i, k, n = nfusers + (fusers != NULL &&
		    fusers[FILTER_USERS_MAX].user[0] != '\0');

	if (json)
		evbuffer_add_printf(out, "{\"filter\":%s,\"users\":[",
		    QF.filter != NULL ? "true" : "false");
	else if (QF.filter == NULL)
		evbuffer_add_printf(out, "no filter configured\n");
	else
		evbuffer_add_printf(out, "%-40s %9s %9s %9s %9s %9s\n", "user",
		    fc_names[0], fc_names[1], fc_names[2], fc_names[3],
		    fc_names[4]);
	for (i = 0; i < n; i++) {
		const struct fuser *u = &fusers[i < nfusers ? i :
		    FILTER_USERS_MAX];

		if (json) {
			evbuffer_add_printf(out, "%s{\"user\":", i ? "," : "");
			json_str(out, u->user);
			for (k = 0; k < FC_MAX; k++)
				evbuffer_add_printf(out, ",\"%s\":%llu",
				    fc_names[k], (unsigned long long)u->n[k]);
			evbuffer_add_printf(out, "}");
		} else {
			evbuffer_add_printf(out, "%-40s", log_qtext(u->user));
			for (k = 0; k < FC_MAX; k++)
				evbuffer_add_printf(out, " %9llu",
				    (unsigned long long)u->n[k]);
			evbuffer_add_printf(out, "\n");
		}
	}
	if (json)
		evbuffer_add_printf(out, "]}\n");
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000);
}

static void
finish(struct fcheck *f, enum queue_status st, const char *text)
{
	QF.ops->answer(f->smtp_reqid, st, f->env.queue_id, text);
}

void
queue_filter_result(const struct ipc_msg *m)
{
	struct ipc_filter_result	*r;
	struct rspamd_verdict		*v;
	struct fcheck			*f;
	const char			*action;
	long				 ms;

	if ((r = malloc(sizeof(*r))) == NULL)
		fatal("queue_filter");
	if (m->fd != -1 || ipc_filter_result_decode(m->data, m->len, r) == -1) {
		role_ipc_reject(m, "filter", "malformed");
		free(r);
		return;
	}
	TAILQ_FOREACH(f, &QF.checks, entry)
		if (f->id == m->reqid)
			break;
	if (f == NULL) {
		role_ipc_reject(m, "filter", "unknown request");
		free(r);
		return;
	}
	TAILQ_REMOVE(&QF.checks, f, entry);
	ms = elapsed_ms(&f->start);
	v = &r->verdict;
	if (r->failed) {
		action = QF.conf->filter.on_error_accept ? "accept" : "tempfail";
		log_warnx("msgid=%s event=alert kind=filter-down on-error=%s "
		    "ms=%ld ip=%s reason=%s user=%s", f->env.queue_id, action,
		    ms, f->env.client_addr, log_q(r->reason), log_q(f->env.user));
		queue_filter_count(f->env.user, FC_ERROR);
		if (QF.conf->filter.on_error_accept)
			QF.ops->commit(f->smtp_reqid, &f->env, &f->sign);
		else {
			queue_message_abort(QF.q, f->env.queue_id);
			finish(f, QUEUE_ERR_POLICY,
			    "Content filter unavailable, try again later");
		}
		goto done;
	}
	action = rspamd_action_name(v->action);
	log_info("msgid=%s event=filter action=\"%s\" score=%.2f "
	    "required=%.2f added=%u ms=%ld ip=%s user=%s", f->env.queue_id,
	    action, (double)v->score_milli / 1000,
	    (double)v->required_milli / 1000, (unsigned)v->addlen, ms,
	    f->env.client_addr, log_q(f->env.user));
	queue_filter_count(f->env.user, v->action == RSPAMD_REJECT ? FC_REJECT :
	    v->action == RSPAMD_SOFT_REJECT || v->action == RSPAMD_GREYLIST ?
	    FC_TEMPFAIL : v->addlen > 0 || v->remove[0] != '\0' ? FC_HEADERS :
	    FC_SCANNED);
	switch (v->action) {
	case RSPAMD_REJECT:
		queue_message_abort(QF.q, f->env.queue_id);
		finish(f, QUEUE_ERR_REJECTED, v->message[0] ? v->message :
		    "Message refused as spam");
		break;
	case RSPAMD_SOFT_REJECT:
	case RSPAMD_GREYLIST:
		queue_message_abort(QF.q, f->env.queue_id);
		finish(f, QUEUE_ERR_POLICY, v->message[0] ? v->message :
		    "Try again later");
		break;
	default:	/* no action, add header, rewrite subject */
		if (queue_message_edit(QF.q, f->env.queue_id, v->add,
		    v->addlen, v->remove, &f->sign.header_len) == -1) {
			queue_message_abort(QF.q, f->env.queue_id);
			finish(f, QUEUE_ERR_TEMP, "");
			break;
		}
		QF.ops->commit(f->smtp_reqid, &f->env, &f->sign);
		break;
	}
 done:
	envelope_free(&f->env);
	free(f);
	free(r);
}
