/* smtp_metrics.c — the smtp role's counters; see smtp_metrics.h. */
#include <time.h>

#include <event2/buffer.h>

#include "lib/metrics.h"
#include "smtpd/smtp_metrics.h"

/* Upper bounds in seconds, the same in both histograms. */
static const double lat_bounds[SMTP_LAT_BOUNDS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

struct smtp_metrics	smtp_metrics;

void
smtp_metrics_connect(int tlsmode)
{
	smtp_metrics.connections[tlsmode ? 1 : 0]++;
}

void
smtp_metrics_cap(enum smtp_cap c)
{
	if (c < SMTP_CAP_MAX)
		smtp_metrics.cap_refused[c]++;
}

void
smtp_metrics_refused(enum smtp_refusal why)
{
	if (why < SMTP_REF_MAX)
		smtp_metrics.refused[why]++;
}

void
smtp_metrics_tls_failed(int tlsmode)
{
	smtp_metrics.tls_failed[tlsmode ? 1 : 0]++;
}

static void
lat_observe(struct smtp_lat *l, uint64_t us)
{
	int	 i;

	for (i = 0; i < SMTP_LAT_BOUNDS; i++)
		if ((double)us / 1e6 <= lat_bounds[i]) {
			l->bucket[i]++;
			break;
		}
	l->count++;
	l->sum_us += us;
}

void
smtp_metrics_accepted(uint64_t connect_us, uint64_t eod_us, uint64_t now_us)
{
	if (connect_us != 0 && now_us >= connect_us)
		lat_observe(&smtp_metrics.connect_250, now_us - connect_us);
	if (eod_us != 0 && now_us >= eod_us)
		lat_observe(&smtp_metrics.data_250, now_us - eod_us);
}

uint64_t
smtp_metrics_now_us(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
lat_valid(const struct smtp_lat *l)
{
	uint64_t	 n = 0;
	int		 i;

	for (i = 0; i < SMTP_LAT_BOUNDS; i++) {
		if (l->bucket[i] > l->count)
			return 0;
		n += l->bucket[i];
	}
	return n <= l->count;
}

int
smtp_metrics_valid(const struct smtp_metrics *m)
{
	return lat_valid(&m->connect_250) && lat_valid(&m->data_250) &&
	    m->sessions_open <= 10000000;
}

static void
lat_print(struct evbuffer *out, const char *name, const char *help,
    const struct smtp_lat *l)
{
	struct metrics_histogram	 h;
	int				 i;

	h.bounds = lat_bounds;
	h.nbounds = SMTP_LAT_BOUNDS;
	for (i = 0; i < METRICS_BUCKETS_MAX; i++)
		h.bucket[i] = i < SMTP_LAT_BOUNDS ? l->bucket[i] : 0;
	h.count = l->count;
	h.sum = (double)l->sum_us / 1e6;
	metrics_histogram_print(out, name, help, &h);
}

void
smtp_metrics_print(struct evbuffer *out, const struct smtp_metrics *m)
{
	static const char *const lst[] = { "starttls", "tls" };
	static const char *const cap[] = { "sessions", "sessions-per-ip" };
	static const char *const ref[SMTP_REF_MAX] = {
		"sender", "from", "quota", "size", "policy", "spam", "content",
		"error"
	};
	int	 i;

	metrics_family(out, "submitd_smtp_connections_total", "counter",
	    "Connections the smtp role took, by listener kind (before the "
	    "access policy: see submitd_connections_total).");
	for (i = 0; i < 2; i++)
		metrics_sample(out, "submitd_smtp_connections_total",
		    "listener", lst[i], m->connections[i]);
	metrics_family(out, "submitd_session_cap_refusals_total", "counter",
	    "Connections refused by a session cap (limit sessions, limit "
	    "sessions per ip), by cap.");
	for (i = 0; i < SMTP_CAP_MAX; i++)
		metrics_sample(out, "submitd_session_cap_refusals_total",
		    "cap", cap[i], m->cap_refused[i]);
	metrics_family(out, "submitd_tls_handshakes_failed_total", "counter",
	    "TLS handshakes (port 465, or after STARTTLS) that failed or "
	    "timed out, by listener kind (on port 465, a connection closed "
	    "before any handshake too: a port probe).");
	for (i = 0; i < 2; i++)
		metrics_sample(out, "submitd_tls_handshakes_failed_total",
		    "listener", lst[i], m->tls_failed[i]);
	metrics_family(out, "submitd_messages_refused_total", "counter",
	    "Messages refused, by reason: sender (MAIL FROM), from (From:), "
	    "quota, size, policy (the filter's 451, the queue's refusal), "
	    "spam (the filter's 550), content (bare CR or LF, NUL, long "
	    "line), error (local trouble).");
	for (i = 0; i < SMTP_REF_MAX; i++)
		metrics_sample(out, "submitd_messages_refused_total", "reason",
		    ref[i], m->refused[i]);
	metrics_family(out, "submitd_sessions_open", "gauge",
	    "SMTP sessions open now (at the smtp role's last report, at "
	    "most a second old).");
	metrics_sample(out, "submitd_sessions_open", NULL, NULL,
	    m->sessions_open);
	lat_print(out, "submitd_connect_to_250_seconds", "From the "
	    "connection to the 250 of the session's first accepted message "
	    "(TLS, AUTH and the commit included).", &m->connect_250);
	lat_print(out, "submitd_data_to_250_seconds", "From the end of DATA "
	    "to its 250 (the queue's commit and fsync included).",
	    &m->data_250);
}
