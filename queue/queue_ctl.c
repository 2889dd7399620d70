/*
 * queue_ctl.c — the queue's side of submitctl (see queue.h, queue_ctl):
 * listing the queue, one message, counters, and the operator's actions
 * (flush, remove, hold, release).  Held messages stay in the index; the
 * scheduler skips them (queue_sched.c).  A message being delivered cannot
 * be removed or held until the relay answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "conf/conf.h"
#include "queue/queue_priv.h"
#include "lib/metrics.h"
#include "queue/queue_metrics.h"
#include "lib/log.h"

#define CTL_LIST_MAX	200	/* messages listed by "show queue" */

static const char *const rcpt_state_names[] = {
	[RCPT_PENDING] = "pending",
	[RCPT_DONE] = "done",
	[RCPT_FAILED] = "failed",
};

/* S as a JSON string (RFC 8259 section 7), quotes included. */
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

static int
ctl_error(struct evbuffer *out, int json, const char *fmt, ...)
{
	char	 buf[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json) {
		evbuffer_add_printf(out, "{\"error\":");
		json_str(out, buf);
		evbuffer_add_printf(out, "}\n");
	} else
		evbuffer_add_printf(out, "%s\n", buf);
	return 1;
}

/* T as ISO 8601 in UTC ("2026-12-05T08:09:00Z"); "-" for 0 (never). */
static const char *
ctl_iso(time_t t, char *buf, size_t size)
{
	struct tm	 tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}

/* Finds ID among waiting messages (*FLIGHT NULL) or deliveries. */
static struct qmsg *
ctl_find(struct queue *q, const char *id, struct qflight **flight)
{
	struct qflight	*f;
	size_t		 i;

	*flight = NULL;
	for (i = 0; i < q->heap.n; i++)
		if (strcmp(q->heap.v[i]->id, id) == 0)
			return q->heap.v[i];
	TAILQ_FOREACH(f, &q->flights, entry)
		if (strcmp(f->msg->id, id) == 0) {
			*flight = f;
			return f->msg;
		}
	return NULL;
}

/* Deliveries the relay holds back for "relay limit messages". */
static size_t
ctl_npaced(const struct queue *q, time_t now)
{
	const struct qflight	*f;
	size_t			 n = 0;

	TAILQ_FOREACH(f, &q->flights, entry)
		n += f->paced_until > now;
	return n;
}

/* Why M waits, in a few words. */
static const char *
ctl_state(const struct qmsg *m, const struct qflight *f, time_t now)
{
	if (f != NULL)
		return f->paced_until > now ? "paced" : "sending";
	if (m->hold)
		return "held";
	if (m->next_try > now)
		return "deferred";
	return "waiting";
}

static const char *
ctl_reason(const struct queue *q, const struct qmsg *m,
    const struct qflight *f, time_t now)
{
	static char	 buf[AUTH_USER_MAX + 128];

	if (f != NULL && f->paced_until > now) {
		snprintf(buf, sizeof(buf), "relay limit messages: login %s may "
		    "start the next in %llds", f->paced_login,
		    (long long)(f->paced_until - now));
		return buf;
	}
	if (f != NULL)
		return "being sent to the smarthost";
	if (m->hold)
		return "held by the operator (submitctl release ID)";
	if (m->next_try > now)
		return "retry later (backoff after a temporary failure)";
	if (ctl_npaced(q, now) > 0)
		return "due: waits behind messages held back by relay limit "
		    "messages";
	return "due: waits for a free upstream session";
}

/* The last upstream reply of a pending recipient of QE, or "". */
static const char *
ctl_last_reply(const struct queue_env *qe)
{
	size_t	 i;

	for (i = 0; i < qe->env.nrcpt; i++)
		if (qe->env.rcpt[i].state == RCPT_PENDING &&
		    qe->env.rcpt[i].last_reply[0] != '\0')
			return qe->env.rcpt[i].last_reply;
	return "";
}

static void
ctl_one_json(struct evbuffer *out, const struct queue *q, const struct qmsg *m,
    const struct qflight *f, const struct queue_env *qe, time_t now, int rcpts)
{
	size_t	 i;

	evbuffer_add_printf(out, "{\"id\":\"%s\",\"state\":\"%s\",\"reason\":",
	    m->id, ctl_state(m, f, now));
	json_str(out, ctl_reason(q, m, f, now));
	evbuffer_add_printf(out, ",\"created\":%lld,\"attempts\":%u,"
	    "\"next_try\":%lld", (long long)m->created, m->attempts,
	    (long long)m->next_try);
	if (qe == NULL) {
		evbuffer_add_printf(out, "}");
		return;
	}
	evbuffer_add_printf(out, ",\"size\":%llu,\"bounce\":%s,\"user\":",
	    (unsigned long long)qe->env.size, qe->bounce ? "true" : "false");
	json_str(out, qe->env.user);
	evbuffer_add_printf(out, ",\"sender\":");
	json_str(out, qe->env.reverse_path);
	evbuffer_add_printf(out, ",\"pending\":%zu,\"last_reply\":",
	    queue_env_pending(&qe->env));
	json_str(out, ctl_last_reply(qe));
	if (rcpts) {
		evbuffer_add_printf(out, ",\"last_try\":%lld,\"recipients\":[",
		    (long long)qe->last_try);
		for (i = 0; i < qe->env.nrcpt; i++) {
			evbuffer_add_printf(out, "%s{\"address\":",
			    i ? "," : "");
			json_str(out, qe->env.rcpt[i].forward_path);
			evbuffer_add_printf(out, ",\"state\":\"%s\",\"reply\":",
			    rcpt_state_names[qe->env.rcpt[i].state]);
			json_str(out, qe->env.rcpt[i].last_reply);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, "]");
	}
	evbuffer_add_printf(out, "}");
}

static void
ctl_one_text(struct evbuffer *out, const struct queue *q, const struct qmsg *m,
    const struct qflight *f, const struct queue_env *qe, time_t now)
{
	const char	*reply;

	evbuffer_add_printf(out, "%s  %-8s  %3u  ", m->id,
	    ctl_state(m, f, now), m->attempts);
	if (m->next_try > now && f == NULL && !m->hold) {
		char	 t[32];

		evbuffer_add_printf(out, "next try %s (in %llds)  ",
		    ctl_iso(m->next_try, t, sizeof(t)),
		    (long long)(m->next_try - now));
	}
	if (qe == NULL) {
		evbuffer_add_printf(out, "(envelope unreadable)\n");
		return;
	}
	evbuffer_add_printf(out, "%llu octets  <%s>%s  %zu/%zu pending\n",
	    (unsigned long long)qe->env.size, log_qtext(qe->env.reverse_path),
	    qe->bounce ? " (DSN)" : "", queue_env_pending(&qe->env),
	    qe->env.nrcpt);
	evbuffer_add_printf(out, "    why: %s\n", ctl_reason(q, m, f, now));
	if ((reply = ctl_last_reply(qe))[0] != '\0')
		evbuffer_add_printf(out, "    last reply: %s\n",
		    log_qtext(reply));
}

static int
qmsg_cmp(const void *a, const void *b)
{
	const struct qmsg *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

/* show queue: oldest first, at most CTL_LIST_MAX. */
static int
ctl_show_queue(struct queue *q, int json, struct evbuffer *out, time_t now)
{
	struct queue_env	 qe;
	struct qflight		*f, *fl;
	struct qmsg		**v;
	const char		*why;
	size_t			 n = 0, i, j, shown;
	int			 ok;

	if ((v = calloc(q->heap.n + q->nflights + 1, sizeof(*v))) == NULL)
		return ctl_error(out, json, "out of memory");
	for (i = 0; i < q->heap.n; i++)
		v[n++] = q->heap.v[i];
	TAILQ_FOREACH(f, &q->flights, entry)
		v[n++] = f->msg;
	qsort(v, n, sizeof(*v), qmsg_cmp);
	shown = n < CTL_LIST_MAX ? n : CTL_LIST_MAX;
	if (json)
		evbuffer_add_printf(out, "{\"total\":%zu,\"listed\":%zu,"
		    "\"messages\":[", n, shown);
	else if (n == 0)
		evbuffer_add_printf(out, "queue is empty\n");
	else
		evbuffer_add_printf(out, "%zu message%s in the queue\n", n,
		    n == 1 ? "" : "s");
	for (i = 0; i < shown; i++) {
		fl = NULL;
		TAILQ_FOREACH(f, &q->flights, entry)
			if (f->msg == v[i])
				fl = f;
		ok = queue_env_read(q->dirfd, v[i]->id, &qe, &why) == 0;
		if (json) {
			if (i)
				evbuffer_add(out, ",", 1);
			ctl_one_json(out, q, v[i], fl, ok ? &qe : NULL, now, 0);
		} else
			ctl_one_text(out, q, v[i], fl, ok ? &qe : NULL, now);
		if (ok)
			queue_env_free(&qe);
	}
	j = n - shown;
	if (json)
		evbuffer_add_printf(out, "]}\n");
	else if (j > 0)
		evbuffer_add_printf(out, "... and %zu more\n", j);
	free(v);
	return 0;
}

static int
ctl_show_message(struct queue *q, const char *id, int json,
    struct evbuffer *out, time_t now)
{
	struct queue_env	 qe;
	struct qflight		*f;
	struct qmsg		*m;
	const char		*why;
	size_t			 i;

	if ((m = ctl_find(q, id, &f)) == NULL)
		return ctl_error(out, json, "%s: no such message", id);
	if (queue_env_read(q->dirfd, id, &qe, &why) == -1)
		return ctl_error(out, json, "%s: envelope unreadable (%s)", id,
		    why ? why : strerror(errno));
	if (json) {
		ctl_one_json(out, q, m, f, &qe, now, 1);
		evbuffer_add_printf(out, "\n");
	} else {
		char	 t1[32], t2[32];

		ctl_one_text(out, q, m, f, &qe, now);
		evbuffer_add_printf(out, "    user: %s  client: %s  created: "
		    "%s  last try: %s\n", log_qtext(qe.env.user),
		    log_qtext(qe.env.client_addr),
		    ctl_iso(qe.env.created, t1, sizeof(t1)),
		    ctl_iso(qe.last_try, t2, sizeof(t2)));
		for (i = 0; i < qe.env.nrcpt; i++)
			evbuffer_add_printf(out, "    rcpt %-7s <%s>%s%s\n",
			    rcpt_state_names[qe.env.rcpt[i].state],
			    log_qtext(qe.env.rcpt[i].forward_path),
			    qe.env.rcpt[i].last_reply[0] ? "  " : "",
			    qe.env.rcpt[i].last_reply[0] ?
			    log_qtext(qe.env.rcpt[i].last_reply) : "");
	}
	queue_env_free(&qe);
	return 0;
}

/* The counters (queue_metrics.c), then the queue as it is now. */
static int
ctl_metrics(struct queue *q, struct evbuffer *out, time_t now)
{
	static const char *const st[] = {
		"sending", "paced", "waiting", "deferred", "held"
	};
	const struct qflight	*f;
	size_t			 n[5] = { 0 }, i;
	time_t			 oldest = queue_metrics_oldest(q);

	queue_metrics_print(out);
	TAILQ_FOREACH(f, &q->flights, entry)
		n[f->paced_until > now ? 1 : 0]++;
	for (i = 0; i < q->heap.n; i++) {
		const struct qmsg *m = q->heap.v[i];

		n[m->hold ? 4 : m->next_try > now ? 3 : 2]++;
	}
	metrics_family(out, "submitd_queue_messages", "gauge",
	    "Messages in the queue by state (sending: with the relay; paced: "
	    "held back by relay limit messages; waiting: due; deferred: "
	    "until their next try; held: by the operator).");
	for (i = 0; i < 5; i++)
		metrics_sample(out, "submitd_queue_messages", "state", st[i],
		    n[i]);
	metrics_family(out, "submitd_queue_oldest_seconds", "gauge",
	    "Age of the oldest message in the queue (0: empty).");
	metrics_sample(out, "submitd_queue_oldest_seconds", NULL, NULL,
	    oldest != 0 && now > oldest ? (uint64_t)(now - oldest) : 0);
	metrics_family(out, "submitd_relay_deferrals_total", "counter",
	    "Delivery attempts that left recipients pending.");
	metrics_sample(out, "submitd_relay_deferrals_total", NULL, NULL,
	    q->stats.deferred);
	metrics_family(out, "submitd_queue_sync_rounds_total", "counter",
	    "Group commits: rounds of fsyncs, each for every message that "
	    "finished while the round before ran.");
	metrics_sample(out, "submitd_queue_sync_rounds_total", NULL, NULL,
	    q->sync_rounds);
	metrics_family(out, "submitd_queue_sync_messages_total", "counter",
	    "Messages made durable by those rounds (messages per round: "
	    "this over submitd_queue_sync_rounds_total).");
	metrics_sample(out, "submitd_queue_sync_messages_total", NULL, NULL,
	    q->sync_msgs);
	return 0;
}

static int
ctl_show_stats(struct queue *q, int json, struct evbuffer *out, time_t now)
{
	size_t	 i, held = 0, deferred = 0, waiting = 0;

	for (i = 0; i < q->heap.n; i++) {
		if (q->heap.v[i]->hold)
			held++;
		else if (q->heap.v[i]->next_try > now)
			deferred++;
		else
			waiting++;
	}
	if (json)
		evbuffer_add_printf(out, "{\"messages\":%zu,\"paced\":%zu,"
		    "\"sending\":%zu,"
		    "\"waiting\":%zu,\"deferred\":%zu,\"held\":%zu,"
		    "\"delivered\":%llu,\"bounced\":%llu,\"deferrals\":%llu,"
		    "\"removed\":%llu,\"sync_rounds\":%llu,"
		    "\"sync_messages\":%llu}\n", queue_count(q),
		    ctl_npaced(q, now), q->nflights, waiting,
		    deferred, held, (unsigned long long)q->stats.delivered,
		    (unsigned long long)q->stats.bounced,
		    (unsigned long long)q->stats.deferred,
		    (unsigned long long)q->stats.removed,
		    (unsigned long long)q->sync_rounds,
		    (unsigned long long)q->sync_msgs);
	else
		evbuffer_add_printf(out, "messages: %zu (sending %zu of which "
		    "paced %zu, waiting %zu, deferred %zu, held %zu)\nsince "
		    "start: delivered %llu, bounced %llu recipients; %llu "
		    "deferrals; removed %llu\ncommitted %llu messages in %llu "
		    "sync rounds\n", queue_count(q), q->nflights,
		    ctl_npaced(q, now), waiting, deferred, held,
		    (unsigned long long)q->stats.delivered,
		    (unsigned long long)q->stats.bounced,
		    (unsigned long long)q->stats.deferred,
		    (unsigned long long)q->stats.removed,
		    (unsigned long long)q->sync_msgs,
		    (unsigned long long)q->sync_rounds);
	return 0;
}

/* Moves M (in the heap) to NEXT_TRY. */
static void
ctl_resched(struct queue *q, struct qmsg *m, time_t next_try)
{
	qheap_remove(&q->heap, m);
	m->next_try = next_try;
	queue_sched_add(q, m);
}

static int
ctl_flush(struct queue *q, int argc, char **argv, int json,
    struct evbuffer *out, time_t now)
{
	struct qflight	*f;
	struct qmsg	*m, **v;
	size_t		 i, n = 0;

	if (argc == 2) {
		if ((m = ctl_find(q, argv[1], &f)) == NULL)
			return ctl_error(out, json, "%s: no such message",
			    argv[1]);
		if (f == NULL && m->hold)
			return ctl_error(out, json, "%s: held (release it "
			    "first)", argv[1]);
		if (f == NULL) {
			ctl_resched(q, m, now);
			n = 1;
		}
	} else {
		/* Every waiting message due now, in order of queue ID. */
		if ((v = calloc(q->heap.n + 1, sizeof(*v))) == NULL)
			return ctl_error(out, json, "out of memory");
		for (i = 0; i < q->heap.n; i++)
			if (!q->heap.v[i]->hold)
				v[n++] = q->heap.v[i];
		for (i = 0; i < n; i++)
			ctl_resched(q, v[i], now);
		free(v);
	}
	log_info("control: event=flush messages=%zu", n);
	if (json)
		evbuffer_add_printf(out, "{\"flushed\":%zu}\n", n);
	else
		evbuffer_add_printf(out, "%zu message%s scheduled now\n", n,
		    n == 1 ? "" : "s");
	return 0;
}

/* hold or release: the flag in the envelope first, then in memory. */
static int
ctl_hold(struct queue *q, const char *id, int hold, int json,
    struct evbuffer *out, time_t now)
{
	struct queue_env	 qe;
	struct qflight		*f;
	struct qmsg		*m;
	const char		*why;

	if ((m = ctl_find(q, id, &f)) == NULL)
		return ctl_error(out, json, "%s: no such message", id);
	if (f != NULL)
		return ctl_error(out, json, "%s: being delivered now; try again",
		    id);
	if (queue_env_read(q->dirfd, id, &qe, &why) == -1)
		return ctl_error(out, json, "%s: envelope unreadable (%s)", id,
		    why ? why : strerror(errno));
	qe.hold = hold;
	if (!hold)
		qe.next_try = now;
	if (queue_env_write(q->dirfd, id, &qe, 1) == -1) {
		queue_env_free(&qe);
		return ctl_error(out, json, "%s: cannot rewrite the envelope: %s",
		    id, strerror(errno));
	}
	queue_env_free(&qe);
	m->hold = hold;
	if (!hold)
		ctl_resched(q, m, now);
	log_info("msgid=%s event=%s by=control", id, hold ? "hold" : "release");
	if (json)
		evbuffer_add_printf(out, "{\"id\":\"%s\",\"state\":\"%s\"}\n", id,
		    hold ? "held" : "waiting");
	else
		evbuffer_add_printf(out, "%s: %s\n", id, hold ? "held" :
		    "released");
	return 0;
}

static int
ctl_remove(struct queue *q, const char *id, int json, struct evbuffer *out)
{
	struct qflight	*f;
	struct qmsg	*m;

	if ((m = ctl_find(q, id, &f)) == NULL)
		return ctl_error(out, json, "%s: no such message", id);
	if (f != NULL)
		return ctl_error(out, json, "%s: being delivered now; try again",
		    id);
	if (queue_remove_files(q, id, 1) == -1)
		return ctl_error(out, json, "%s: cannot remove: %s", id,
		    strerror(errno));
	qheap_remove(&q->heap, m);
	free(m);
	q->stats.removed++;
	log_info("msgid=%s event=removed by=control", id);
	if (json)
		evbuffer_add_printf(out, "{\"id\":\"%s\",\"removed\":true}\n", id);
	else
		evbuffer_add_printf(out, "%s: removed\n", id);
	return 0;
}

/*
 * Issue 14 (1b): the same action on many messages: ALL, "sender ADDR"
 * (the reverse-path, case-insensitive) or "user LOGIN" (who submitted).
 * Messages being delivered now are skipped and counted.
 */
enum ctl_action { ACT_HOLD, ACT_RELEASE, ACT_REMOVE };

static int
ctl_many(struct queue *q, enum ctl_action act, int argc, char **argv,
    int json, struct evbuffer *out, time_t now)
{
	struct evbuffer	*scratch;
	struct queue_env qe;
	struct qflight	*f;
	char		**ids;
	const char	*why, *what = argv[1];
	size_t		 i, n = 0, done = 0, failed = 0, busy = 0;
	int		 all = argc == 2 && strcmp(what, "ALL") == 0, match, rc;

	if (!all && (argc != 3 || (strcmp(what, "sender") != 0 &&
	    strcmp(what, "user") != 0)))
		return ctl_error(out, json, "usage: %s ID | ALL | sender ADDRESS "
		    "| user LOGIN", argv[0]);
	if ((ids = calloc(q->heap.n + 1, sizeof(*ids))) == NULL ||
	    (scratch = evbuffer_new()) == NULL) {
		free(ids);
		return ctl_error(out, json, "out of memory");
	}
	for (i = 0; i < q->heap.n; i++) {
		struct qmsg *m = q->heap.v[i];

		if (!all) {
			if (queue_env_read(q->dirfd, m->id, &qe, &why) == -1)
				continue;
			match = strcmp(what, "sender") == 0 ?
			    strcasecmp(qe.env.reverse_path, argv[2]) == 0 :
			    strcmp(qe.env.user, argv[2]) == 0;
			queue_env_free(&qe);
			if (!match)
				continue;
		}
		if ((act == ACT_HOLD && m->hold) ||
		    (act == ACT_RELEASE && !m->hold))
			continue;
		if ((ids[n] = strdup(m->id)) != NULL)
			n++;
	}
	TAILQ_FOREACH(f, &q->flights, entry) {
		if (!all) {
			match = strcmp(what, "sender") == 0 ?
			    strcasecmp(f->qe.env.reverse_path, argv[2]) == 0 :
			    strcmp(f->qe.env.user, argv[2]) == 0;
			if (!match)
				continue;
		}
		if (act != ACT_RELEASE)
			busy++;
	}
	for (i = 0; i < n; i++) {
		rc = act == ACT_REMOVE ? ctl_remove(q, ids[i], 0, scratch) :
		    ctl_hold(q, ids[i], act == ACT_HOLD, 0, scratch, now);
		if (rc == 0)
			done++;
		else
			failed++;
		free(ids[i]);
	}
	free(ids);
	evbuffer_free(scratch);
	log_info("control: event=%s which=\"%s%s%s\" messages=%zu failed=%zu "
	    "busy=%zu", argv[0], what, argc == 3 ? " " : "",
	    argc == 3 ? log_qtext(argv[2]) : "", done, failed, busy);
	if (json)
		evbuffer_add_printf(out, "{\"%s\":%zu,\"failed\":%zu,"
		    "\"being_delivered\":%zu}\n", act == ACT_REMOVE ? "removed" :
		    act == ACT_HOLD ? "held" : "released", done, failed, busy);
	else {
		evbuffer_add_printf(out, "%zu message%s %s", done,
		    done == 1 ? "" : "s", act == ACT_REMOVE ? "removed" :
		    act == ACT_HOLD ? "held" : "released");
		if (failed)
			evbuffer_add_printf(out, ", %zu failed (see the log)",
			    failed);
		if (busy)
			evbuffer_add_printf(out, ", %zu being delivered now "
			    "(try again once they are answered)", busy);
		evbuffer_add_printf(out, "\n");
	}
	return failed ? 1 : 0;
}

/* pause relay / resume relay: a file at the spool's top, then the flag. */
static int
ctl_pause(struct queue *q, int pause, int json, struct evbuffer *out)
{
	int	 fd;

	if (pause) {
		if ((fd = openat(q->dirfd, "../" QUEUE_PAUSED_FILE, O_WRONLY |
		    O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1 ||
		    fsync(fd) == -1) {
			if (fd != -1)
				close(fd);
			return ctl_error(out, json, "cannot pause: %s",
			    strerror(errno));
		}
		close(fd);
		(void)fsync(q->dirfd);
	} else if (unlinkat(q->dirfd, "../" QUEUE_PAUSED_FILE, 0) == -1 &&
	    errno != ENOENT)
		return ctl_error(out, json, "cannot resume: %s", strerror(errno));
	q->relay_paused = pause;
	if (!pause)
		queue_sched_arm(q, 0);
	log_info("control: event=%s", pause ? "relay-paused" : "relay-resumed");
	if (json)
		evbuffer_add_printf(out, "{\"relay\":\"%s\"}\n",
		    pause ? "paused" : "running");
	else
		evbuffer_add_printf(out, "relay %s%s\n", pause ? "paused: "
		    "nothing leaves (clients are still served) until "
		    "submitctl resume relay" : "resumed", pause && q->nflights ?
		    "; deliveries under way finish" : "");
	return 0;
}

void
queue_hold_user(struct queue *q, const char *user)
{
	struct evbuffer	*scratch;
	char		*argv[] = { "hold", "user", (char *)user, NULL };

	if ((scratch = evbuffer_new()) == NULL)
		return;
	log_info("queue: event=hold-user user=%s by=alert", log_q(user));
	(void)ctl_many(q, ACT_HOLD, 3, argv, 0, scratch, time(NULL));
	evbuffer_free(scratch);
}

void
queue_relay_paced(struct queue *q, uint64_t reqid, time_t wait,
    const char *login)
{
	struct qflight	*f;

	TAILQ_FOREACH(f, &q->flights, entry)
		if (f->reqid == reqid)
			break;
	if (f == NULL)
		return;		/* answered meanwhile */
	f->paced_until = time(NULL) + wait;
	snprintf(f->paced_login, sizeof(f->paced_login), "%s", login);
}

int
queue_ctl(struct queue *q, int argc, char **argv, int json,
    struct evbuffer *out)
{
	time_t	 now = time(NULL);
	int	 one = argc == 2;

	if (argc == 2 && strcmp(argv[0], "show") == 0 &&
	    strcmp(argv[1], "queue") == 0)
		return ctl_show_queue(q, json, out, now);
	if (argc == 3 && strcmp(argv[0], "show") == 0 &&
	    strcmp(argv[1], "message") == 0)
		return ctl_show_message(q, argv[2], json, out, now);
	if (argc == 2 && strcmp(argv[0], "show") == 0 &&
	    strcmp(argv[1], "stats") == 0)
		return ctl_show_stats(q, json, out, now);
	if (argc == 1 && strcmp(argv[0], "metrics") == 0)
		return ctl_metrics(q, out, now);
	if (argc <= 2 && strcmp(argv[0], "flush") == 0)
		return ctl_flush(q, argc, argv, json, out, now);
	if (argc == 2 && (strcmp(argv[0], "pause") == 0 ||
	    strcmp(argv[0], "resume") == 0) && strcmp(argv[1], "relay") == 0)
		return ctl_pause(q, argv[0][0] == 'p', json, out);
	if ((argc == 3 || (one && strcmp(argv[1], "ALL") == 0)) &&
	    (strcmp(argv[0], "hold") == 0 || strcmp(argv[0], "release") == 0 ||
	    strcmp(argv[0], "remove") == 0))
		return ctl_many(q, argv[0][0] == 'h' ? ACT_HOLD :
		    argv[0][2] == 'l' ? ACT_RELEASE : ACT_REMOVE, argc, argv,
		    json, out, now);
	if (one && strcmp(argv[0], "hold") == 0)
		return ctl_hold(q, argv[1], 1, json, out, now);
	if (one && strcmp(argv[0], "release") == 0)
		return ctl_hold(q, argv[1], 0, json, out, now);
	if (one && strcmp(argv[0], "remove") == 0)
		return ctl_remove(q, argv[1], json, out);
	return ctl_error(out, json, "usage: show queue | show message ID | "
	    "show stats | flush [ID] | remove ID|ALL|sender ADDR|user LOGIN | "
	    "hold ID|ALL|sender ADDR|user LOGIN | release ID|ALL|sender ADDR|"
	    "user LOGIN | pause relay | resume relay");
}
