/*
 * relay_session.h — inside the relay client: the pool (relay.c), one
 * upstream connection (relay_session.c) and the delivery they carry
 * (relay_job.c).  Only these files include it; the rest of submitd sees
 * relay/relay.h.
 *
 * relay/: the smarthost client.  Knows nothing of the spool, IPC or the
 * roles: it takes a message file and an envelope, and answers through a
 * callback.
 */
#ifndef RELAY_RELAY_SESSION_H
#define RELAY_RELAY_SESSION_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "relay/relay.h"
#include "proto/smtp_client_reply.h"
#include "proto/smtp_dotstuff.h"
#include "lib/submitd.h"

struct event;
struct evdns_base;
struct relay_connect;
struct relay_pace;
struct netio;
struct tls_config;
struct secret;

#define RELAY_IDLE_SECONDS	5	/* a connection waits this long for reuse */
#define RELAY_CONNECT_SECONDS	30	/* TCP connect, per address */
#define RELAY_DOT_SECONDS	600	/* RFC 5321 4.5.3.2.6: DATA termination */
#define RELAY_QUIT_SECONDS	10

struct relay_job_rcpt {
	char	 forward_path[SMTP_PATH_MAX + 1];
	int	 pending;	/* to be sent (RCPT_PENDING in the envelope) */
	int	 accepted;	/* RCPT answered 2xx in this attempt */
};

/* One relay_deliver() request, copied so the caller's envelope may go. */
struct relay_job {
	TAILQ_ENTRY(relay_job)	 entry;
	uint64_t		 reqid;
	int			 fd;		/* dup of the message file */
	char			*prefix;
	size_t			 prefixlen;
	char			 queue_id[QUEUE_ID_SIZE];
	char			 reverse_path[SMTP_PATH_MAX + 1];
	int			 body_8bitmime;
	int			 smtputf8;	/* RFC 6531: MAIL ... SMTPUTF8 */
	uint64_t		 size;		/* octets sent, before stuffing */
	size_t			 nrcpt;
	struct relay_job_rcpt	*rcpt;
	size_t			 npending;
	size_t			*pending;	/* indexes into rcpt, in order */
	struct relay_rcpt_result *res;		/* nrcpt entries */
	const struct secret	*secret;	/* upstream login */
	int			 paced;		/* held back by the limit (logged) */
	int			 pace_state;	/* with pace ops: PACE_* */
	time_t			 paced_until;	/* with pace ops: asked again then */
	struct relay		*relay;		/* for the pace answer */
	char			 session_error[SMTP_REPLYLINE_MAX];
};

/* The relay client's states (relay_session.c has the table). */
enum relay_state {
	RS_CONNECT,		/* resolve and TCP connect (relay_connect.c) */
	RS_TLS,			/* TLS handshake (implicit or after STARTTLS) */
	RS_BANNER,		/* waiting for 220 */
	RS_EHLO,
	RS_STARTTLS,
	RS_AUTH_PLAIN,		/* "AUTH PLAIN" sent, waiting for 334 */
	RS_AUTH_LOGIN_USER,	/* "AUTH LOGIN" sent, waiting for 334 */
	RS_AUTH_LOGIN_PASS,	/* login sent, waiting for 334 */
	RS_AUTH_RESULT,		/* credentials sent, waiting for 235 */
	RS_IDLE,		/* logged in, no job */
	RS_TXN,			/* [RSET] MAIL RCPT... replies */
	RS_DATA,		/* waiting for 354 */
	RS_BODY,		/* writing the message */
	RS_DOT,			/* waiting for the final reply */
	RS_RSET,		/* no recipient accepted: RSET sent */
	RS_QUIT,
};

/* One upstream connection. */
struct relay_session {
	TAILQ_ENTRY(relay_session) entry;
	struct relay		*relay;
	unsigned		 id;
	enum relay_state	 state;
	const struct secret	*secret;	/* the login this session uses */
	struct relay_job	*job;		/* NULL when idle */

	struct relay_connect	*conn;		/* while connecting */
	struct event		*timer;		/* resolve step, TLS, body, idle */
	struct netio		*nio;
	int			 tls_done;

	struct smtp_client_caps	 caps;
	struct smtp_client_reply reply;

	/*
	 * The transaction: [RSET] MAIL RCPT* and, with PIPELINING (RFC 2920),
	 * DATA last in the same group; replies are matched in order.
	 */
	int			 rset_first;
	int			 data_piped;	/* DATA is the group's last command */
	int			 dot_only;	/* 354 with no recipient: "." alone */
	size_t			 ncmd, nsent, nanswered;
	int			 mail_failed;
	size_t			 naccepted;

	/* The message on the wire. */
	struct smtp_dotstuff	 stuff;
	size_t			 prefix_off;
	off_t			 file_off;
};

struct relay {
	struct event_base	*base;
	const struct conf	*conf;
	const struct secrets	*secrets;
	struct tls_config	*tls_config;
	struct evdns_base	*dns;		/* NULL: blocking getaddrinfo */
	relay_done_cb		 cb;
	void			*cb_arg;
	char			 upstream[SMTP_DOMAIN_MAX + 8];	/* host:port */
	TAILQ_HEAD(, relay_job)	 jobs;		/* waiting for a connection */
	TAILQ_HEAD(, relay_session) sessions;
	unsigned		 nsessions;
	unsigned		 max_sessions;
	unsigned		 next_id;
	struct event		*kick;		/* runs relay_dispatch() */
	struct relay_pace	*pace;		/* relay limit messages */
	unsigned char		*login_ok;	/* per secret: AUTH worked once */
	uint64_t		 upstream_size;	/* EHLO SIZE, 0 = none */
	int			 upstream_smtputf8;	/* EHLO SMTPUTF8 */
	relay_pace_cb		 pace_cb;	/* a delivery held back */
	void			*pace_arg;
	/* Issue 14: a reload waiting for the connections to go (relay.c). */
	const struct conf	*next_conf;
	struct secrets		*next_secrets;
	struct tls_config	*next_tls;
	struct secrets		*owned_secrets;	/* freed when replaced */
	const struct relay_pace_ops *pace_ops;	/* the shared pacing */
	void			*pace_ops_arg;
};

enum { PACE_NONE, PACE_ASKING, PACE_GRANTED };

/*
 * relay_job.c: relay_job_new copies a delivery (MSG_FD duplicated, PREFIX
 * copied, the pending recipients of ENV listed); NULL on allocation
 * failure.
 */
struct relay_job *relay_job_new(int msg_fd, const char *prefix,
	    size_t prefixlen, const struct envelope *env);
/* relay_job.c: answers JOB through the callback, logs per recipient, frees it. */
void	relay_job_done(struct relay *, struct relay_job *);
/* relay_job.c: the pool looks at the waiting jobs again, from the event loop. */
void	relay_kick(struct relay *);
/* relay_job.c: sets JOB->session_error, made safe to quote in a log line. */
void	relay_job_error(struct relay_job *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * relay_session_new: opens a connection (resolve, connect, TLS, EHLO, AUTH)
 * and sends JOB on it; the session adds itself to R->sessions.  NULL on
 * allocation failure (JOB untouched).
 */
struct relay_session *relay_session_new(struct relay *r, struct relay_job *job);
/* relay_session_idle: 1 when the session waits for a next job. */
int	relay_session_idle(const struct relay_session *);
/* relay_session_login: the upstream login the session is logged in with. */
const char *relay_session_login(const struct relay_session *);
/* relay_session_send: JOB on an idle session (RSET first). */
void	relay_session_send(struct relay_session *, struct relay_job *job);
/* relay_session_quit: an idle session says QUIT and goes. */
void	relay_session_quit(struct relay_session *);
/* relay_session_free: drops the session at once; returns its job or NULL. */
struct relay_job *relay_session_free(struct relay_session *);

/* relay_job_free (relay_job.c): closes and frees, without a callback. */
void	relay_job_free(struct relay_job *);

#endif
