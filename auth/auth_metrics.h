/*
 * auth_metrics.h — the auth role's counters for the metrics endpoint
 * (issue 15): connection checks by outcome, AUTH results, lockouts, quota
 * refusals.  Counted where the auth role decides; printed on the control
 * role's "metrics" request (auth_ctl.c).
 *
 * auth/: includes lib/ only.
 */
#ifndef AUTH_AUTH_METRICS_H
#define AUTH_AUTH_METRICS_H

#include <stdint.h>
#include <time.h>

struct evbuffer;

enum auth_metric {
	AM_CONN_ACCEPTED, AM_CONN_ALLOWLIST, AM_CONN_LOCKOUT, AM_CONN_RATE,
	AM_CONN_STATE_DOWN,
	AM_AUTH_OK, AM_AUTH_BAD_PASSWORD, AM_AUTH_UNKNOWN_USER,
	AM_AUTH_FROM_REFUSED, AM_AUTH_LOCKED,
	AM_LOCKOUTS,
	AM_QUOTA_MESSAGES, AM_QUOTA_BYTES, AM_QUOTA_STATE_DOWN,
	AM_ALERT_AUTH_FAILURES,
	AM_AUTH_VERIFICATIONS,
	AM_COUNT
};

void	auth_metrics_inc(enum auth_metric);
/*
 * auth_metrics_failure: one failed AUTH, at NOW (seconds).  Past COUNT in
 * the WINDOW (seconds) begun by the first failure after the last one
 * ended, logs one event=alert kind=auth-failures line for that window and
 * counts it (COUNT 0: off).
 */
void	auth_metrics_failure(uint64_t count, time_t window, time_t now);
/*
 * auth_metrics_pace: the answer to the relay's "may one more message
 * leave for upstream LOGIN" (relay limit messages, auth/pace.h) at NOW_MS:
 * FITS, or a wait of WAIT_MS.  Per login (at most AUTH_METRICS_LOGINS:
 * the upstream logins are the operator's, few): sends, waits, and the
 * seconds until the next may start.
 */
#define AUTH_METRICS_LOGINS	64
void	auth_metrics_pace(const char *login, int fits, int64_t wait_ms,
	    int64_t now_ms);
void	auth_metrics_print(struct evbuffer *);

#endif
