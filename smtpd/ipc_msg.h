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
	IPC_AUTH_LOGIN = 1,	/* smtp → auth: struct ipc_auth_login */
	IPC_AUTH_RESULT,	/* auth → smtp: struct auth_reply */
	IPC_QUEUE_OPEN,		/* smtp → queue: empty */
	IPC_QUEUE_OPENED,	/* queue → smtp: struct ipc_queue_status + fd */
	IPC_QUEUE_COMMIT,	/* smtp → queue: envelope + sign input */
	IPC_QUEUE_COMMITTED,	/* queue → smtp: struct ipc_queue_status */
	IPC_QUEUE_ABORT,	/* smtp → queue: struct ipc_queue_status */
	IPC_RELAY_DELIVER,	/* queue → relay: envelope + prefix + fd */
	IPC_RELAY_RESULT,	/* relay → queue: per-recipient results */
	/* issue 5, access policy: */
	IPC_POLICY_CONNECT,	/* smtp → auth: struct ipc_policy */
	IPC_POLICY_MAIL,	/* smtp → auth: struct ipc_policy */
	IPC_POLICY_RESULT,	/* auth → smtp: struct policy_result */
	IPC_POLICY_CHARGE,	/* smtp → auth: struct ipc_policy, no answer */
	/* issue 7, queue control (payloads: ctl/ctl_client.h): */
	IPC_CTL_REQUEST,	/* control → queue, auth: flags + argv */
	IPC_CTL_REPLY,		/* queue, auth → control: status + text */
	IPC_RELAY_SIZE,		/* relay → queue: uint64_t upstream SIZE */
	IPC_QUEUE_SIZE,		/* queue → smtp: uint64_t upstream SIZE */
	IPC_RELAY_PACED,	/* relay → queue: struct ipc_relay_paced */
	/* issue 16, the content filter: */
	IPC_FILTER_CHECK,	/* queue → filter: envelope (as DELIVER) + fd */
	IPC_FILTER_RESULT,	/* filter → queue: struct ipc_filter_result */
	IPC_TYPE_MAX
};

struct ipc_auth_login {
	char			 user[AUTH_USER_MAX + 1];
	char			 password[AUTH_PASS_MAX + 1];
	struct sockaddr_storage	 peer;
};

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
	uint32_t		 nrcpt;				/* CHARGE */
	uint32_t		 pad;
	uint64_t		 size;	/* 0..IPC_POLICY_SIZE_MAX */
};
#define IPC_POLICY_SIZE_MAX	((uint64_t)1 << 48)	/* senders clamp */

/* ipc_type_name: "AUTH_LOGIN" etc. for log lines, "?" if unknown. */
const char	*ipc_type_name(uint32_t);

/*
 * Issue 7: the upstream's SIZE (RFC 1870) from its EHLO, in octets (0: it
 * named none).  ipc_size_decode: 0, or -1 unless exactly 8 octets.
 */
int	ipc_size_decode(const void *, size_t, uint64_t *);

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
 * ipc_commit_encode: ENV and SIGN into a malloc'd payload (*OUT, *OUTLEN);
 * -1 when out of memory or larger than IPC_MAX_PAYLOAD.
 * ipc_commit_decode: the reverse; ENV->rcpt is malloc'd (envelope_free).
 */
int	ipc_commit_encode(const struct envelope *, const struct queue_sign_input *,
	    void **out, size_t *outlen);
int	ipc_commit_decode(const void *, size_t, struct envelope *,
	    struct queue_sign_input *);

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
