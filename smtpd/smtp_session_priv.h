/*
 * smtp_session_priv.h — the session structure, shared only by the files
 * of the SMTP session: smtp_session.c (state machine and commands),
 * smtp_auth.c (the AUTH exchange) and smtp_data.c (receiving DATA).  One
 * state machine split for size: the three call each other (below).
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_SMTP_SESSION_PRIV_H
#define SMTPD_SMTP_SESSION_PRIV_H

#include <sys/socket.h>
#include <stdint.h>

#include "auth/auth.h"
#include "proto/smtp_data_reader.h"
#include "proto/smtp_parse.h"
#include "smtpd/smtp_session.h"
#include "lib/submitd.h"

/* Failed AUTH in one session: the last is answered 421 4.7.0, then close. */
#define SMTP_AUTH_FAILURES_MAX	3

struct netio;
struct dkim_bodyhash;
struct event;

enum smtp_state {
	S_CONNECTED,	/* before the banner (TLS handshake on "tls") */
	S_GREETED,	/* banner sent, waiting for EHLO/HELO */
	S_HELO,		/* idle: may AUTH, MAIL */
	S_MAIL,		/* MAIL accepted, no RCPT yet */
	S_RCPT,		/* at least one RCPT */
	S_DATA,		/* receiving message data */
	S_AUTH_PLAIN,	/* waiting for the PLAIN response */
	S_AUTH_USER,	/* AUTH LOGIN: waiting for the user name */
	S_AUTH_PASS,	/* AUTH LOGIN: waiting for the password */
	S_QUIT,		/* closing once the output is written */
};

/* Why a received message is refused at the end of DATA. */
enum data_refusal {
	DATA_OK = 0,
	DATA_BARE_EOL,		/* bare CR or LF: 550 5.6.11 */
	DATA_LINE_TOO_LONG,	/* 552 5.6.0 */
	DATA_TOO_BIG,		/* 552 5.3.4 */
	DATA_HEADER_TOO_BIG,	/* 552 5.3.4 */
	DATA_WRITE_ERROR,	/* 451 4.3.0 */
	DATA_NUL,		/* NUL octet: 550 5.6.0 */
};

/* The message of a transaction, from DATA to its end. */
struct smtp_data {
	int			 fd;		/* message file, -1 if none */
	char			 queue_id[QUEUE_ID_SIZE];
	int			 in_header;	/* still in the header section */
	char			*hdr;		/* header section so far */
	size_t			 hdrlen;
	size_t			 hdrcap;
	size_t			 header_len;	/* header octets in the file */
	uint64_t		 size;		/* octets written to the file */
	enum data_refusal	 refusal;
	struct smtp_data_reader	 reader;	/* lines, the end of data */
	char			*wbuf;		/* write buffer for the file */
	size_t			 wlen;
	struct dkim_bodyhash	*bh_relaxed;
	struct dkim_bodyhash	*bh_simple;
	char			 from_domain[SMTP_DOMAIN_MAX + 1];
	char			 header_error[160];	/* From: refusal reply */
};

/*
 * The mail transaction: made at MAIL, freed at its end (the end of DATA,
 * RSET, EHLO/HELO, the session's end), so that an idle session holds none
 * of it (issue 18 target 3: 1 KB of every idle session before).  The
 * session has one exactly in S_MAIL, S_RCPT and S_DATA, and while MAIL's
 * policy check is out.
 */
struct smtp_txn {
	char			 reverse_path[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	 mail_params;
	struct envelope_rcpt	*rcpt;
	size_t			 nrcpt;
	size_t			 rcpt_bytes;	/* forward-path octets so far */
	uint32_t		 rcpt_left;	/* the user's recipient quota */
	char			 rcpt_refusal[POLICY_REPLY_MAX];
	struct smtp_data	 data;
};

/*
 * The login, made when AUTH succeeds and kept to the session's end at its
 * length (issue 18 target 3: inline, the sender patterns alone took a fixed
 * 1,024 octets of every session).  One allocation: the login name, then
 * the sender patterns, each NUL-terminated.
 */
struct smtp_login {
	uint64_t		 grant;		/* the auth role's (grant.h) */
	size_t			 size;		/* of this allocation */
	const char		*senders;	/* into user[], after the name */
	char			 user[];	/* login name as in the table */
};

struct smtp_session {
	TAILQ_ENTRY(smtp_session) entry;
	struct smtp_ctx		*ctx;
	uint64_t		 id;
	char			 idstr[17];
	struct netio		*io;
	struct tls		*tls_ctx;	/* listener's server context */
	enum listen_tls		 tlsmode;
	struct sockaddr_storage	 peer;
	char			 peer_addr[64];
	char			 peer_net[64];	/* limit sessions per ip: an
						 * IPv6 address's /64 (issue 12) */

	enum smtp_state		 state;
	int			 tls_done;
	int			 waiting;	/* an async reply is pending */
	int			 pending;	/* callbacks that will come back */
	int			 closing;	/* free once pending == 0 */
	int			 discard_line;	/* skipping an overlong command */
	int			 output_full;	/* replies pile up: reading paused */
	unsigned		 errors;	/* bad commands so far */
	unsigned		 auth_failures;	/* 535 and 454 answers to AUTH */
	unsigned		 overdue;	/* seconds waited past the lifetime */
	const char		*refuse_after_tls;	/* port 465: say it in TLS */
	int			 tls_started;	/* handshake begun (issue 15) */
	enum { HS_NONE, HS_QUEUED, HS_RUNNING } hs;	/* smtp_handshake_* */
	TAILQ_ENTRY(smtp_session) hs_entry;	/* in handshake_queue */
	uint64_t		 connect_us;	/* metrics: 0 after the first 250 */
	uint64_t		 eod_us;	/* metrics: end of DATA */
	/*
	 * One timer for the two deadlines (issue 18 target 3: an event less
	 * in every session): the command line's or DATA's, and the
	 * session's, each a CLOCK_MONOTONIC time in microseconds or 0 for
	 * none.  The timer is armed for timer_us (0: not armed), never
	 * later than the earlier deadline; when it fires it acts on what
	 * has passed and is armed again for what has not.
	 */
	struct event		*ev_timer;
	uint64_t		 deadline_us;	/* command line's or DATA's */
	uint64_t		 lifetime_us;	/* the session's */
	uint64_t		 timer_us;

	char			*helo;		/* EHLO/HELO's, NULL before */
	struct smtp_login	*login;		/* NULL until AUTH succeeds */
	char			*auth_login;	/* the name AUTH tries, till
						 * its answer */

	struct smtp_txn		*txn;		/* NULL outside a transaction */
};

/* smtp_session.c */
void	smtp_reply(struct smtp_session *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_session_resume(struct smtp_session *);
void	smtp_session_close(struct smtp_session *);
/* smtp_transaction_reset: the transaction (if any) is over and freed. */
void	smtp_transaction_reset(struct smtp_session *);
/* smtp_deadline_set: a deadline SECONDS from now (0: none) for the
 * command line or the DATA phase; NAME says which in the log. */
void	smtp_deadline_set(struct smtp_session *, time_t seconds);
/* smtp_memory_settle: the heap's free pages go back to the system soon. */
void	smtp_memory_settle(struct smtp_ctx *);

/* smtp_auth.c: AUTH command and its continuation lines. */
void	smtp_auth_command(struct smtp_session *, const char *args);
void	smtp_auth_continue(struct smtp_session *, const char *line);
/* smtp_login_free: the login of S is forgotten (wiped), its grant ended;
 * so is the name an AUTH in progress tries. */
void	smtp_login_free(struct smtp_session *);

/* smtp_data.c: DATA command, the data lines, the commit. */
void	smtp_data_command(struct smtp_session *, const char *args);
/* smtp_data_input: consume data lines from the input; 1 when the end
 * of data was reached (or the session is waiting), 0 when more is needed. */
int	smtp_data_input(struct smtp_session *);
void	smtp_data_free(struct smtp_session *);

#endif
