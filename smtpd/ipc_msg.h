/*
 * ipc_msg.h — what the roles say to each other: message types and their
 * payloads, with encoders and strict decoders.  Every decoder treats its
 * input as hostile: exact sizes, NUL-terminated strings within their
 * fields, values in range, paths that parse as RFC 5321 paths.
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_IPC_MSG_H
#define SMTPD_IPC_MSG_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "auth/policy.h"
#include "proto/rspamd.h"
#include "queue/queue.h"
#include "relay/relay.h"
#include "lib/submitd.h"

enum ipc_type {
	IPC_AUTH_LOGIN = 1,	/* smtp → auth: struct ipc_auth_login + the
				   client's socket (the auth role reads the
				   address from it: getpeername) */
	IPC_AUTH_RESULT,	/* auth → smtp: struct auth_reply */
	IPC_QUEUE_OPEN,		/* smtp → queue: empty */
	IPC_QUEUE_OPENED,	/* queue → smtp: struct ipc_queue_status + fd */
	IPC_QUEUE_COMMIT,	/* smtp → queue: grant, envelope, sign input */
	IPC_QUEUE_COMMITTED,	/* queue → smtp: struct ipc_queue_status */
	IPC_QUEUE_ABORT,	/* smtp → queue: struct ipc_queue_status */
	IPC_RELAY_DELIVER,	/* queue → relay: envelope + prefix + fd */
	IPC_RELAY_RESULT,	/* relay → queue: per-recipient results */
	/* issue 5, access policy: */
	IPC_POLICY_CONNECT,	/* smtp → auth: struct ipc_policy + socket */
	IPC_POLICY_MAIL,	/* smtp → auth: struct ipc_policy (reserves) */
	IPC_POLICY_RESULT,	/* auth → smtp: struct policy_result */
	IPC_POLICY_CHARGE,	/* retired (issue 12): refused if sent */
	/* issue 7, queue control (payloads: ctl/ctl_client.h): */
	IPC_CTL_REQUEST,	/* control → queue, auth: flags + argv */
	IPC_CTL_REPLY,		/* queue, auth → control: status + text */
	IPC_RELAY_SIZE,		/* relay → queue: struct ipc_upstream */
	IPC_QUEUE_SIZE,		/* queue → smtp: struct ipc_upstream */
	IPC_RELAY_PACED,	/* relay → queue: struct ipc_relay_paced */
	/* issue 16, the content filter: */
	IPC_FILTER_CHECK,	/* queue → filter: envelope (as DELIVER) + fd */
	IPC_FILTER_RESULT,	/* filter → queue: struct ipc_filter_result */
	/* issue 12, the trust boundary (auth ↔ queue, their own channel): */
	IPC_GRANT,		/* auth → queue: struct ipc_grant */
	IPC_GRANT_END,		/* smtp → auth, queue: uint64_t grant id */
	IPC_QUOTA_RESERVE,	/* queue → auth: struct ipc_quota */
	IPC_QUOTA_RESULT,	/* auth → queue: struct policy_result */
	IPC_QUOTA_SETTLE,	/* queue → auth: struct ipc_quota, no answer */
	/* issue 15, metrics: one scrape, answered by auth and queue */
	IPC_METRICS_REQUEST,	/* metrics → control: empty */
	IPC_METRICS_REPLY,	/* control → metrics: Prometheus text */
	/* issue 14, live reload (parent ↔ roles; roles.h, struct role_reload): */
	IPC_RELOAD_FILE,	/* parent → role: u32 mode, path; fd: contents */
	IPC_RELOAD_LISTEN,	/* parent → smtp: u32 listen index; fd: socket */
	IPC_RELOAD_PREPARE,	/* parent → role: config path (NUL-terminated) */
	IPC_RELOAD_READY,	/* role → parent: status + text (ctl_reply) */
	IPC_RELOAD_COMMIT,	/* parent → role: empty */
	IPC_RELOAD_ABORT,	/* parent → role: empty */
	IPC_PACE_TAKE,		/* relay → auth: struct ipc_pace */
	IPC_PACE_RESULT,	/* auth → relay: struct ipc_pace */
	IPC_USER_HOLD,		/* auth → queue: struct ipc_user (issue 15) */
	IPC_SMTP_METRICS,	/* smtp → auth: struct smtp_metrics (issue 15) */
	IPC_USER_REFUSED,	/* queue → auth: struct ipc_refused (issue 15) */
	IPC_GRANT_SYNC,		/* queue → auth → queue: empty, echoed after
				 * every GRANT the auth role sent before */
	IPC_TYPE_MAX
};

struct ipc_auth_login {
	char			 user[AUTH_USER_MAX + 1];
	char			 password[AUTH_PASS_MAX + 1];
	struct sockaddr_storage	 peer;
};

/*
 * Issue 12: a login the auth role vouches for, told to the queue before
 * the smtp role hears of it.  CLIENT_ADDR is what the kernel said of the
 * session's socket, not what the smtp role claimed.
 */
struct ipc_grant {
	uint64_t	 id;
	int64_t		 expires_ms;
	char		 user[AUTH_USER_MAX + 1];
	char		 senders[AUTH_SENDERS_MAX];
	char		 client_addr[64];
};
int	ipc_grant_decode(const void *, size_t, struct ipc_grant *);
/* IPC_GRANT_END: 0, or -1 unless 8 octets and not 0. */
int	ipc_grant_id_decode(const void *, size_t, uint64_t *);

/*
 * Issue 12: the queue asks the auth role to reserve the quota of a
 * message it is about to commit (RESERVE, answered by QUOTA_RESULT), then
 * to charge it (SETTLE with CHARGE 1, after the commit) or to let it go
 * (CHARGE 0).
 */
struct ipc_quota {
	uint64_t	 grant;
	uint64_t	 size;		/* octets, <= IPC_POLICY_SIZE_MAX */
	uint32_t	 nrcpt;
	int32_t		 charge;	/* SETTLE: 1 charge, 0 release */
};
int	ipc_quota_decode(const void *, size_t, struct ipc_quota *);

/*
 * Issue 12 item 5: "relay limit messages" in the auth role's store.  TAKE
 * names the upstream LOGIN; RESULT says FITS (then counted) or WAIT_MS.
 */
struct ipc_pace {
	char		 login[AUTH_USER_MAX + 1];
	int32_t		 fits;
	int64_t		 wait_ms;
};
int	ipc_pace_decode(const void *, size_t, struct ipc_pace *);

/*
 * Issue 15, auto-hold: an alert held this login; the queue holds its
 * queued mail (as "submitctl hold user LOGIN").
 */
struct ipc_user {
	char		 user[AUTH_USER_MAX + 1];
};
int	ipc_user_decode(const void *, size_t, struct ipc_user *);

/*
 * Issue 15: the upstream refused (5xx) NRCPT recipients of a message of
 * login USER (the login of the commit's grant, from the queue's envelope).
 */
struct ipc_refused {
	char		 user[AUTH_USER_MAX + 1];
	uint32_t	 nrcpt;		/* 1..IPC_REFUSED_MAX */
};
#define IPC_REFUSED_MAX	100000
int	ipc_refused_decode(const void *, size_t, struct ipc_refused *);

/* Issue 15: the smtp role's counters (smtpd/smtp_metrics.h), once a second. */
struct smtp_metrics;
int	ipc_smtp_metrics_decode(const void *, size_t, struct smtp_metrics *);

struct ipc_queue_status {
	int32_t		 status;	/* enum queue_status */
	char		 queue_id[QUEUE_ID_SIZE];
	/* QUEUE_ERR_REJECTED, _POLICY: the filter's text, printable ASCII */
	char		 text[RSPAMD_MESSAGE_MAX];
};

/*
 * Issue 16: the filter role's answer for one message.  FAILED: rspamd
 * could not be asked or gave no usable answer (REASON says why, printable
 * ASCII); otherwise VERDICT holds rspamd's decision.
 */
struct ipc_filter_result {
	int32_t			 failed;
	int32_t			 pad;
	char			 reason[128];
	struct rspamd_verdict	 verdict;
};
/* ipc_filter_result_decode: 0, or -1 when malformed (rspamd_verdict_valid). */
int	ipc_filter_result_decode(const void *, size_t, struct ipc_filter_result *);

/*
 * A policy question (issue 5): who, from where, how many recipients, how
 * many octets (MAIL: SIZE=, 0 if none; CHARGE: the accepted message).
 */
struct ipc_policy {
	struct sockaddr_storage	 peer;
	char			 user[AUTH_USER_MAX + 1];	/* "" at connect */
	uint32_t		 nrcpt;				/* unused */
	uint32_t		 pad;
	uint64_t		 size;	/* 0..IPC_POLICY_SIZE_MAX */
	uint64_t		 grant;	/* MAIL: the session's grant */
};
#define IPC_POLICY_SIZE_MAX	((uint64_t)1 << 48)	/* senders clamp */

/* ipc_type_name: "AUTH_LOGIN" etc. for log lines, "?" if unknown. */
const char	*ipc_type_name(uint32_t);

/*
 * What the smtp role offers depends on the upstream's EHLO: its SIZE (RFC
 * 1870, issue 7) in octets (0: it named none), and whether it offers
 * SMTPUTF8 (RFC 6531, issue 13).  ipc_upstream_decode: 0, or -1 unless
 * exactly this struct, SMTPUTF8 0 or 1, PAD 0.
 */
struct ipc_upstream {
	uint64_t	 size;
	uint32_t	 smtputf8;
	uint32_t	 pad;
};
int	ipc_upstream_decode(const void *, size_t, struct ipc_upstream *);

/* Issue 7: delivery REQID held back by "relay limit messages". */
struct ipc_relay_paced {
	int64_t		 wait;			/* seconds, >= 1 */
	char		 login[AUTH_USER_MAX + 1];	/* upstream login */
};
/* ipc_relay_paced_decode: 0, or -1 when malformed. */
int	ipc_relay_paced_decode(const void *, size_t, struct ipc_relay_paced *);

/* Decoders of the fixed-size payloads: 0, or -1 when malformed. */
int	ipc_auth_login_decode(const void *, size_t, struct ipc_auth_login *);
int	ipc_auth_result_decode(const void *, size_t, struct auth_reply *);
int	ipc_queue_status_decode(const void *, size_t, struct ipc_queue_status *);

/*
 * ipc_commit_encode: GRANT, ENV and SIGN into a malloc'd payload (*OUT,
 * *OUTLEN); -1 when out of memory or larger than IPC_MAX_PAYLOAD.
 * ipc_commit_decode: the reverse; ENV->rcpt is malloc'd (envelope_free).
 */
int	ipc_commit_encode(uint64_t grant, const struct envelope *,
	    const struct queue_sign_input *, void **out, size_t *outlen);
int	ipc_commit_decode(const void *, size_t, uint64_t *grant,
	    struct envelope *, struct queue_sign_input *);

/* The same for a delivery: ENV (with recipient states) and the PREFIX. */
int	ipc_deliver_encode(const struct envelope *, const char *prefix,
	    size_t prefixlen, void **out, size_t *outlen);
/* *PREFIX points into the payload (not NUL-terminated). */
int	ipc_deliver_decode(const void *, size_t, struct envelope *,
	    const char **prefix, size_t *prefixlen);

/* Relay results; ipc_result_decode fills R (R->rcpt malloc'd, free it). */
int	ipc_result_encode(const struct relay_result *, void **out, size_t *outlen);
int	ipc_result_decode(const void *, size_t, struct relay_result *);

/* Issue 5: policy questions and answers; 0, or -1 when malformed. */
int	ipc_policy_decode(const void *, size_t, struct ipc_policy *);
int	ipc_policy_result_decode(const void *, size_t, struct policy_result *);

#endif
