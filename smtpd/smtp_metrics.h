/*
 * smtp_metrics.h — the smtp role's counters for the metrics endpoint
 * (issue 15): connections by listener, refused by the session caps, TLS
 * handshakes that failed, sessions open, and two latency histograms:
 * from connect to the 250 of the session's first message, and from the
 * end of DATA to its 250 (the queue's fsync included).
 *
 * The smtp role holds no secret and has no channel to the control role:
 * it sends a snapshot (struct smtp_metrics, fixed size, no text) to the
 * auth role once a second when it changed (IPC_SMTP_METRICS), and the
 * auth role prints the last one with its own counters.  A compromised
 * smtp role can only make its own numbers wrong.
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_SMTP_METRICS_H
#define SMTPD_SMTP_METRICS_H

#include <stdint.h>

struct evbuffer;

#define SMTP_LAT_BOUNDS		11

enum smtp_cap { SMTP_CAP_SESSIONS, SMTP_CAP_PER_IP, SMTP_CAP_MAX };

/* Why a message was refused (MAIL, end of DATA, or the commit). */
enum smtp_refusal {
	SMTP_REF_SENDER,	/* MAIL FROM not this login's */
	SMTP_REF_FROM,		/* From: not this login's */
	SMTP_REF_QUOTA,		/* a quota, or the login held (auth role) */
	SMTP_REF_SIZE,		/* message size */
	SMTP_REF_POLICY,	/* the filter's 451, the queue's refusal */
	SMTP_REF_SPAM,		/* the filter's 550 */
	SMTP_REF_CONTENT,	/* bare CR/LF, NUL, line too long */
	SMTP_REF_ERROR,		/* local trouble: disk, queue down */
	SMTP_REF_MAX
};

/* One latency histogram: buckets not cumulative, the sum in microseconds. */
struct smtp_lat {
	uint64_t	 bucket[SMTP_LAT_BOUNDS];
	uint64_t	 count;
	uint64_t	 sum_us;
};

/* The snapshot; also the IPC_SMTP_METRICS payload. */
struct smtp_metrics {
	uint64_t	 connections[2];	/* by enum listen_tls */
	uint64_t	 tls_failed[2];		/* by enum listen_tls */
	uint64_t	 cap_refused[SMTP_CAP_MAX];
	uint64_t	 sessions_open;
	uint64_t	 refused[SMTP_REF_MAX];
	struct smtp_lat	 connect_250;
	struct smtp_lat	 data_250;
};

/* The counters of this process (the smtp role). */
extern struct smtp_metrics	smtp_metrics;

/* A session started on a listener of kind TLSMODE (enum listen_tls). */
void	smtp_metrics_connect(int tlsmode);
/* A session refused by a cap. */
void	smtp_metrics_cap(enum smtp_cap);
/* A message refused, for WHY. */
void	smtp_metrics_refused(enum smtp_refusal why);
/* A TLS handshake (port 465 or STARTTLS) that did not end. */
void	smtp_metrics_tls_failed(int tlsmode);
/*
 * A message accepted (its 250 sent) at NOW_US (monotonic microseconds):
 * the session began at CONNECT_US (0: not its first message, not
 * observed), its DATA ended at EOD_US.
 */
void	smtp_metrics_accepted(uint64_t connect_us, uint64_t eod_us,
	    uint64_t now_us);
/* Monotonic microseconds. */
uint64_t smtp_metrics_now_us(void);

/* smtp_metrics_valid: 1 when M is a consistent snapshot (the auth role). */
int	smtp_metrics_valid(const struct smtp_metrics *);
/* smtp_metrics_print: M in the Prometheus text format (the auth role). */
void	smtp_metrics_print(struct evbuffer *, const struct smtp_metrics *);

#endif
