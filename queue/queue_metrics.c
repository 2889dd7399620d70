/* queue_metrics.c — the queue role's counters; see queue_metrics.h. */
#include <event2/buffer.h>
#include <event2/event.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "queue/queue_metrics.h"
#include "queue/queue_priv.h"

static const double delay_bounds[] = {
	1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 5 * 24 * 3600
};

static struct {
	uint64_t			 accepted, accepted_bytes, dsn;
	uint64_t			 alert_queue_age;
	int				 aged;	/* alerted, not younger since */
	struct event			*ev_age;
	uint64_t			 reply[4];	/* 2xx 4xx 5xx none */
	uint64_t			 refused[2][9];	/* 4xx 5xx; subject
							   0..7, 8: none */
	struct metrics_histogram	 delay;
} Q = { .delay = { delay_bounds, sizeof(delay_bounds) /
    sizeof(delay_bounds[0]), { 0 }, 0, 0 } };

void
queue_metrics_accepted(uint64_t size)
{
	Q.accepted++;
	Q.accepted_bytes += size;
}

void
queue_metrics_reply(int code)
{
	Q.reply[code >= 200 && code < 300 ? 0 : code >= 400 && code < 500 ?
	    1 : code >= 500 && code < 600 ? 2 : 3]++;
}

void
queue_metrics_refused(int code, int subject)
{
	if (code < 400 || code > 599)
		return;
	Q.refused[code >= 500][subject >= 0 && subject <= 7 ? subject : 8]++;
}

void
queue_metrics_delivered(time_t created, time_t now)
{
	metrics_observe(&Q.delay, now > created ? (double)(now - created) : 0);
}

void
queue_metrics_dsn(void)
{
	Q.dsn++;
}

void
queue_metrics_print(struct evbuffer *out)
{
	static const char *const cls[] = { "2xx", "4xx", "5xx", "none" };
	int	 i, j;

	metrics_family(out, "submitd_messages_accepted_total", "counter",
	    "Messages committed to the queue (after the fsync, before the "
	    "250).");
	metrics_sample(out, "submitd_messages_accepted_total", NULL, NULL,
	    Q.accepted);
	metrics_family(out, "submitd_accepted_bytes_total", "counter",
	    "Octets of the messages committed to the queue.");
	metrics_sample(out, "submitd_accepted_bytes_total", NULL, NULL,
	    Q.accepted_bytes);
	metrics_family(out, "submitd_relay_replies_total", "counter",
	    "Upstream replies per recipient, by class (none: the session "
	    "failed before a reply).");
	for (i = 0; i < 4; i++)
		metrics_sample(out, "submitd_relay_replies_total", "class",
		    cls[i], Q.reply[i]);
	metrics_family(out, "submitd_relay_refused_recipients_total",
	    "counter", "Recipients the upstream refused, by reply class and "
	    "the subject of its RFC 3463 enhanced code (X.1: addressing, as "
	    "5.1.1 no such user; X.2 mailbox; X.7 policy; none: no enhanced "
	    "code).");
	for (i = 0; i < 2; i++)
		for (j = 0; j < 9; j++) {
			if (j < 8)
				evbuffer_add_printf(out, "submitd_relay_refused_"
				    "recipients_total{class=\"%s\",subject="
				    "\"%c.%d\"} %llu\n", cls[i + 1],
				    i ? '5' : '4', j,
				    (unsigned long long)Q.refused[i][j]);
			else
				evbuffer_add_printf(out, "submitd_relay_refused_"
				    "recipients_total{class=\"%s\",subject="
				    "\"none\"} %llu\n", cls[i + 1],
				    (unsigned long long)Q.refused[i][j]);
		}
	metrics_family(out, "submitd_bounces_total", "counter",
	    "Delivery status notifications (bounces) queued.");
	metrics_sample(out, "submitd_bounces_total", NULL, NULL, Q.dsn);
	metrics_histogram_print(out, "submitd_delivery_delay_seconds",
	    "From acceptance to the upstream's 2xx, per recipient.", &Q.delay);
	metrics_family(out, "submitd_alert_queue_age_total", "counter",
	    "Alerts: the oldest message got older than alert queue-age "
	    "(event=alert kind=queue-age).");
	metrics_sample(out, "submitd_alert_queue_age_total", NULL, NULL,
	    Q.alert_queue_age);
}

time_t
queue_metrics_oldest(const struct queue *q)
{
	const struct qflight	*f;
	time_t			 oldest = 0;
	size_t			 i;

	TAILQ_FOREACH(f, &q->flights, entry)
		if (oldest == 0 || f->msg->created < oldest)
			oldest = f->msg->created;
	for (i = 0; i < q->heap.n; i++)
		if (oldest == 0 || q->heap.v[i]->created < oldest)
			oldest = q->heap.v[i]->created;
	return oldest;
}

static void
on_age_timer(evutil_socket_t fd, short what, void *arg)
{
	struct queue	*q = arg;
	time_t		 now = time(NULL), oldest = queue_metrics_oldest(q);
	time_t		 limit = q->conf->alert_queue_age;

	(void)fd;
	(void)what;
	if (oldest == 0 || now - oldest <= limit) {
		Q.aged = 0;
		return;
	}
	if (Q.aged)
		return;
	Q.aged = 1;
	Q.alert_queue_age++;
	log_warnx("queue: event=alert kind=queue-age age=%llds limit=%llds "
	    "messages=%zu", (long long)(now - oldest), (long long)limit,
	    q->heap.n + q->nflights);
}

void
queue_metrics_start(struct queue *q)
{
	struct timeval	 tv = { 1, 0 };

	if (q->conf->alert_queue_age == 0)
		return;
	tv.tv_sec = q->conf->alert_queue_age / 4;
	if (tv.tv_sec < 1)
		tv.tv_sec = 1;
	if (tv.tv_sec > 30)
		tv.tv_sec = 30;
	if ((Q.ev_age = event_new(q->base, -1, EV_PERSIST, on_age_timer,
	    q)) == NULL || event_add(Q.ev_age, &tv) == -1)
		fatal("queue: alert timer");
}
