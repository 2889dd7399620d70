/* auth_metrics.c — the auth role's counters; see auth_metrics.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/auth_metrics.h"
#include "auth/store.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/submitd.h"

static uint64_t	 counts[AM_COUNT];

/* Pacing per upstream login (issue 15). */
static struct pace_login {
	char		 login[AUTH_USER_MAX + 1];
	uint64_t	 sends, waits;
	int64_t		 next_ms;	/* may start from then; 0: now */
} paced[AUTH_METRICS_LOGINS];
static size_t	 npaced;

void
auth_metrics_pace(const char *login, int fits, int64_t wait_ms,
    int64_t now_ms)
{
	struct pace_login	*p = NULL;
	size_t			 i;

	for (i = 0; i < npaced; i++)
		if (strcmp(paced[i].login, login) == 0) {
			p = &paced[i];
			break;
		}
	if (p == NULL) {
		if (npaced == AUTH_METRICS_LOGINS ||
		    strlen(login) > AUTH_USER_MAX)
			return;
		p = &paced[npaced++];
		snprintf(p->login, sizeof(p->login), "%s", login);
	}
	if (fits) {
		p->sends++;
		p->next_ms = 0;
	} else {
		p->waits++;
		p->next_ms = now_ms + wait_ms;
	}
}

static void
pace_label(struct evbuffer *out, const char *name, const char *login)
{
	const char	*c;

	evbuffer_add_printf(out, "%s{login=\"", name);
	for (c = login; *c; c++)	/* the text format's escapes */
		if (*c == '"' || *c == '\\')
			evbuffer_add_printf(out, "\\%c", *c);
		else
			evbuffer_add(out, c, 1);
	evbuffer_add_printf(out, "\"} ");
}

static void
pace_print(struct evbuffer *out, int64_t now_ms)
{
	size_t	 i;

	metrics_family(out, "submitd_pacing_sends_total", "counter",
	    "Messages relay limit messages let leave, per upstream login.");
	for (i = 0; i < npaced; i++) {
		pace_label(out, "submitd_pacing_sends_total", paced[i].login);
		evbuffer_add_printf(out, "%llu\n",
		    (unsigned long long)paced[i].sends);
	}
	metrics_family(out, "submitd_pacing_waits_total", "counter",
	    "Times a message was held back by relay limit messages, per "
	    "upstream login.");
	for (i = 0; i < npaced; i++) {
		pace_label(out, "submitd_pacing_waits_total", paced[i].login);
		evbuffer_add_printf(out, "%llu\n",
		    (unsigned long long)paced[i].waits);
	}
	metrics_family(out, "submitd_pacing_next_send_seconds", "gauge",
	    "Seconds until the upstream login may start its next message "
	    "(0: now, or nothing waits).");
	for (i = 0; i < npaced; i++) {
		int64_t	 left = paced[i].next_ms - now_ms;

		pace_label(out, "submitd_pacing_next_send_seconds",
		    paced[i].login);
		evbuffer_add_printf(out, "%.3f\n", left > 0 ?
		    (double)left / 1000 : 0.0);
	}
}

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
	metrics_family(out, "submitd_auth_verifications_total", "counter",
	    "Argon2id password verifications run (the login cache skips it; "
	    "identical logins in flight share one).");
	metrics_sample(out, "submitd_auth_verifications_total", NULL, NULL,
	    counts[AM_AUTH_VERIFICATIONS]);
	pace_print(out, store_now_ms());
}
