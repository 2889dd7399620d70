/*
 * relay.h — the relay client: delivers queued messages to the one upstream
 * smarthost over TLS with AUTH (RFC 5321, RFC 3207, RFC 4954, RFC 8314).
 *
 * The scheduler asks for a delivery with relay_deliver(); the relay owns a
 * small pool of upstream connections (at most conf->relay.max_sessions),
 * reuses an idle connection logged in with the same upstream login for the
 * next message (RSET between messages), and answers each delivery exactly
 * once through the relay_done_cb given to relay_new().  When the smarthost
 * offers PIPELINING (RFC 2920), [RSET] MAIL, the RCPTs and DATA go as one
 * group and the replies are matched in order, each recipient keeping its
 * own RCPT reply (issue 18 item 5).  With shared pacing a delivery asks
 * for its send token only once a connection can take it.  Never sends anything
 * in plaintext: a failed TLS handshake or certificate check is a temporary
 * failure of the delivery.
 *
 * relay/: the smarthost client.  Knows nothing of the spool, IPC or the
 * roles: it takes a message file and an envelope, and answers through a
 * callback.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/submitd.h"

struct event_base;
struct conf;
struct secrets;
struct relay;

/* Per-recipient outcome of one delivery attempt. */
struct relay_rcpt_result {
	int	 code;		/* upstream reply code for RCPT (or DATA): 250, 450, 550 ...;
				   0 when not reached (counts as temporary) */
	char	 reply[SMTP_REPLYLINE_MAX];	/* "550 5.1.1 no such user" */
};

struct relay_result {
	uint64_t		 reqid;
	size_t			 nrcpt;	/* same order as the request's rcpt */
	struct relay_rcpt_result *rcpt;	/* owned by relay; valid during cb */
	char			 session_error[SMTP_REPLYLINE_MAX];
				/* "" or why the session failed before or
				   after RCPT (connect, TLS, AUTH, DATA reply) */
};

typedef void (*relay_done_cb)(const struct relay_result *, void *arg);

/*
 * relay_own_secrets: the relay frees (and wipes) SECRETS, the table given
 * to relay_new(), once a reload replaces it, so that old upstream
 * passwords do not stay in memory.  Call it only with a heap table from
 * secrets_load().
 */
void		 relay_own_secrets(struct relay *, struct secrets *);
/*
 * relay_new: a relay for CONF's upstream, with SECRETS (see conf/secrets.h)
 * and CA file loaded now (tls_load_file), so later chroot is possible.
 * Returns NULL (logged) on error.
 */
struct relay	*relay_new(struct event_base *, const struct conf *,
		    const struct secrets *, relay_done_cb, void *arg);
void		 relay_free(struct relay *);

/* relay_has_capacity: 1 when relay_deliver() would start at once. */
int		 relay_has_capacity(const struct relay *);

/*
 * relay_deliver: send one message.  MSG_FD is a readable fd of the message
 * file (the relay dups it; the caller keeps its own); PREFIX (PREFIXLEN
 * octets, may be 0) is sent before the file's bytes (the DKIM-Signature
 * fields).  The file holds the message unstuffed with CRLF line ends; the
 * relay dot-stuffs it on the wire.  ENV gives the reverse-path (used to pick
 * the upstream login, first match of the secrets file) and the recipients:
 * only those with state RCPT_PENDING are sent, but results come back for
 * every index of env->rcpt (non-pending ones get code 0 and are to be
 * ignored).  Returns 0 when queued (the callback follows, maybe later than
 * relay_deliver returns, never from inside it), -1 when no upstream login
 * matches the reverse-path (logged; nothing will follow).
 */
int		 relay_deliver(struct relay *, uint64_t reqid, int msg_fd,
		    const char *prefix, size_t prefixlen,
		    const struct envelope *env);

/*
 * relay_upstream_size: the SIZE (RFC 1870) the upstream named in its last
 * EHLO after TLS, in octets; 0 when it named none or none was seen yet.
 */
uint64_t	 relay_upstream_size(const struct relay *);
/* relay_upstream_smtputf8: 1 when that EHLO offered SMTPUTF8 (RFC 6531). */
int		 relay_upstream_smtputf8(const struct relay *);

/*
 * relay_set_pace_cb: CB is told, once per delivery, that REQID is held
 * back by "relay limit messages" for WAIT seconds (at least) for LOGIN,
 * so that the queue can say why the message waits.  CB may be NULL.
 */
typedef void (*relay_pace_cb)(uint64_t reqid, time_t wait, const char *login,
    void *arg);
void		 relay_set_pace_cb(struct relay *, relay_pace_cb, void *arg);

/*
 * Issue 14, reload.  relay_tls_config_new: the TLS client configuration
 * with CONF's CA bundle (read through lib/fileset.h); NULL on error
 * (logged).  relay_reload: CONF (kept, not owned), SECRETS and TLS
 * (owned from here on) take over as soon as no upstream connection is
 * left: idle ones quit, busy ones finish their message, new messages
 * wait meanwhile.  "relay limit messages" counts carry over per login.
 */
struct tls_config;
struct tls_config *relay_tls_config_new(const struct conf *);
void		 relay_reload(struct relay *, const struct conf *,
		    struct secrets *, struct tls_config *);

/*
 * Issue 12 item 5: "relay limit messages" kept where it survives a
 * restart (the auth role's state store), not in the relay's memory.  With
 * ops set, before each message leaves the relay asks TAKE for its upstream
 * LOGIN; the answer comes later through ANSWER: FITS 1 (counted: it may
 * go), or 0 with WAIT_MS until one more would fit.
 */
typedef void (*relay_pace_answer)(void *cbarg, int fits, int64_t wait_ms);
struct relay_pace_ops {
	void	(*take)(void *arg, const char *login, relay_pace_answer,
		    void *cbarg);
};
void		 relay_set_pace_ops(struct relay *,
		    const struct relay_pace_ops *, void *arg);

#endif
