/* auth_metrics.c — the auth role's counters; see auth_metrics.h. */
#include <stdint.h>

#include <event2/buffer.h>

#include "auth/auth_metrics.h"
#include "lib/log.h"
#include "lib/metrics.h"

static uint64_t	 counts[AM_COUNT];

void
auth_metrics_inc(enum auth_metric m)
{
	if (m < AM_COUNT)
		counts[m]++;
}

void
auth_metrics_failure(uint64_t count, time_t window, time_t now)
{
	static time_t	 start;
	static uint64_t	 n;
	static int	 alerted;

	if (count == 0)
		return;
	if (start == 0 || now - start >= window) {
		start = now;
		n = 0;
		alerted = 0;
	}
	if (++n > count && !alerted) {
		alerted = 1;
		counts[AM_ALERT_AUTH_FAILURES]++;
		log_warnx("auth: event=alert kind=auth-failures failures=%llu "
		    "window=%llds limit=%llu", (unsigned long long)n,
		    (long long)window, (unsigned long long)count);
	}
}

void
auth_metrics_print(struct evbuffer *out)
{
	static const char *const conn[] = {
		"accepted", "allowlist", "lockout", "rate", "state-down"
	};
	static const char *const auth[] = {
		"ok", "bad-password", "unknown-user", "from-refused", "locked"
	};
	static const char *const quota[] = {
		"messages", "bytes", "state-down"
	};
	int	 i;

	metrics_family(out, "submitd_connections_total", "counter",
	    "Connections checked by the access policy, by outcome (accepted, "
	    "or refused by the allowlist, a lockout, the connection rate, or "
	    "the state store being down).");
	for (i = 0; i < 5; i++)
		metrics_sample(out, "submitd_connections_total", "outcome",
		    conn[i], counts[AM_CONN_ACCEPTED + i]);
	metrics_family(out, "submitd_auth_total", "counter",
	    "AUTH attempts by result.");
	for (i = 0; i < 5; i++)
		metrics_sample(out, "submitd_auth_total", "result", auth[i],
		    counts[AM_AUTH_OK + i]);
	metrics_family(out, "submitd_lockouts_total", "counter",
	    "Lockouts started (an address or a login past limit "
	    "auth-failures).");
	metrics_sample(out, "submitd_lockouts_total", NULL, NULL,
	    counts[AM_LOCKOUTS]);
	metrics_family(out, "submitd_quota_refusals_total", "counter",
	    "MAIL refused by a per-user quota, by quota.");
	for (i = 0; i < 3; i++)
		metrics_sample(out, "submitd_quota_refusals_total", "quota",
		    quota[i], counts[AM_QUOTA_MESSAGES + i]);
	metrics_family(out, "submitd_alert_auth_failures_total", "counter",
	    "Alerts: more failed AUTH than alert auth-failures allows in its "
	    "window (event=alert kind=auth-failures).");
	metrics_sample(out, "submitd_alert_auth_failures_total", NULL, NULL,
	    counts[AM_ALERT_AUTH_FAILURES]);
}
