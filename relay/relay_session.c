/*
 * relay_session.c — one connection to the upstream smarthost: connect
 * (relay_connect.c), TLS (implicit, RFC 8314, or STARTTLS, RFC 3207, never plaintext),
 * EHLO, AUTH PLAIN or LOGIN (RFC 4954), then transactions (RFC 5321 3.3)
 * with PIPELINING (RFC 2920) when offered.  Which reply each state waits for
 * is the table rs_states[].
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>
#include <tls.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "lib/log.h"
#include "lib/netio.h"
#include "relay/relay_connect.h"
#include "relay/relay_session.h"

#define RS_BODY_CHUNK	16384		/* octets read from the file at once */
#define RS_BODY_HIGH	(256 * 1024)	/* output buffered before waiting */

enum rs_timeout { TMO_NONE, TMO_COMMAND, TMO_DOT, TMO_QUIT };

/* A reply handler: 0 to read on, -1 when the session is gone or waits. */
typedef int rs_reply_fn(struct relay_session *,
    const struct smtp_client_reply *);

static rs_reply_fn	rs_on_banner, rs_on_ehlo, rs_on_starttls,
			rs_on_auth_plain, rs_on_auth_user, rs_on_auth_pass,
			rs_on_auth_result, rs_on_txn, rs_on_data, rs_on_dot,
			rs_on_rset, rs_on_quit;

/*
 * What each state waits for.  States without a reply handler read nothing:
 * in RS_BODY early input stays buffered until the final reply is due; in
 * RS_IDLE any input ends the connection.
 */
static const struct {
	const char	*name;
	rs_reply_fn	*on_reply;
	enum rs_timeout	 timeout;	/* read timeout while in it */
} rs_states[] = {
	[RS_CONNECT] =		{ "connect",	NULL,		TMO_NONE },
	[RS_TLS] =		{ "tls",	NULL,		TMO_NONE },
	[RS_BANNER] =		{ "banner",	rs_on_banner,	TMO_COMMAND },
	[RS_EHLO] =		{ "ehlo",	rs_on_ehlo,	TMO_COMMAND },
	[RS_STARTTLS] =		{ "starttls",	rs_on_starttls,	TMO_COMMAND },
	[RS_AUTH_PLAIN] =	{ "auth",	rs_on_auth_plain, TMO_COMMAND },
	[RS_AUTH_LOGIN_USER] =	{ "auth",	rs_on_auth_user, TMO_COMMAND },
	[RS_AUTH_LOGIN_PASS] =	{ "auth",	rs_on_auth_pass, TMO_COMMAND },
	[RS_AUTH_RESULT] =	{ "auth",	rs_on_auth_result, TMO_COMMAND },
	[RS_IDLE] =		{ "idle",	NULL,		TMO_NONE },
	[RS_TXN] =		{ "mail",	rs_on_txn,	TMO_COMMAND },
	[RS_DATA] =		{ "data",	rs_on_data,	TMO_COMMAND },
	[RS_BODY] =		{ "body",	NULL,		TMO_NONE },
	[RS_DOT] =		{ "dot",	rs_on_dot,	TMO_DOT },
	[RS_RSET] =		{ "rset",	rs_on_rset,	TMO_COMMAND },
	[RS_QUIT] =		{ "quit",	rs_on_quit,	TMO_QUIT },
};

static void	rs_netio_cb(struct netio *, enum netio_event, void *);
static void	rs_timer_cb(evutil_socket_t, short, void *);
static void	rs_connected(int, const char *, void *);
static int	rs_txn_begin(struct relay_session *, struct relay_job *, int);

static time_t
rs_seconds(const struct relay_session *s, enum rs_timeout t)
{
	const struct conf_timeouts *ct = &s->relay->conf->timeouts;

	switch (t) {
	case TMO_COMMAND:
		return ct->command > 0 ? ct->command : 300;
	case TMO_DOT:
		return RELAY_DOT_SECONDS;
	case TMO_QUIT:
		return RELAY_QUIT_SECONDS;
	case TMO_NONE:
		break;
	}
	return 0;
}

static void
rs_set_state(struct relay_session *s, enum relay_state state)
{
	s->state = state;
	if (s->nio != NULL)
		netio_set_timeout(s->nio, rs_seconds(s, rs_states[state].timeout));
}

static void
rs_timer_arm(struct relay_session *s, time_t seconds)
{
	struct timeval	 tv = { seconds, 0 };

	evtimer_add(s->timer, &tv);
}

/* Drop the session; the job, if any, is the caller's. */
struct relay_job *
relay_session_free(struct relay_session *s)
{
	struct relay		*r = s->relay;
	struct relay_job	*job = s->job;

	relay_connect_free(s->conn);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->nio != NULL)
		netio_free(s->nio);
	TAILQ_REMOVE(&r->sessions, s, entry);
	r->nsessions--;
	free(s);
	relay_kick(r);
	return job;
}

/*
 * The session fails: logs EVENT with why, drops the connection, and answers
 * its job (if any) with that reason as a temporary failure of the recipients
 * not answered yet.  Returns -1 so reply handlers can "return rs_fail()".
 */
static int
rs_fail(struct relay_session *s, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
rs_fail(struct relay_session *s, const char *event, const char *fmt, ...)
{
	struct relay		*r = s->relay;
	struct relay_job	*job;
	char			 why[SMTP_REPLYLINE_MAX];
	size_t			 i;
	va_list			 ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 ||
		    (unsigned char)why[i] > 0x7e || why[i] == '"')
			why[i] = '?';
	log_warnx("relay session=%u event=%s result=fail upstream=%s "
	    "login=%s state=%s error=%s", s->id, event, r->upstream,
	    s->secret->login, rs_states[s->state].name, log_q(why));
	if ((job = relay_session_free(s)) != NULL) {
		relay_job_error(job, "%s", why);
		relay_job_done(r, job);
	}
	return -1;
}

/* A quiet end: the peer closed an idle connection or answered QUIT. */
static int
rs_close(struct relay_session *s)
{
	log_debug("relay session=%u event=close upstream=%s", s->id,
	    s->relay->upstream);
	if (s->job != NULL)
		return rs_fail(s, "session", "connection closed");
	(void)relay_session_free(s);
	return -1;
}

/* A command to upstream; on allocation failure the session fails (-1). */
static int
rs_printf(struct relay_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
rs_printf(struct relay_session *s, const char *fmt, ...)
{
	va_list	 ap;
	int	 rv;

	va_start(ap, fmt);
	rv = evbuffer_add_vprintf(netio_output(s->nio), fmt, ap);
	va_end(ap);
	if (rv < 0)
		return rs_fail(s, "session", "out of memory");
	netio_flush(s->nio);
	return 0;
}

/* Upstream replies go into results as "CODE text". */
static void
rs_result(struct relay_job *job, size_t i, const struct smtp_client_reply *rp)
{
	job->res[i].code = rp->code;
	(void)snprintf(job->res[i].reply, sizeof(job->res[i].reply), "%s",
	    rp->text);
}

/* ---- connection set-up ------------------------------------------------- */

struct relay_session *
relay_session_new(struct relay *r, struct relay_job *job)
{
	struct relay_session	*s;
	char			 logname[sizeof(r->upstream) + 32];

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->relay = r;
	s->secret = job->secret;
	s->state = RS_CONNECT;
	s->id = ++r->next_id;
	(void)snprintf(logname, sizeof(logname), "relay session=%u upstream=%s",
	    s->id, r->upstream);
	if ((s->timer = evtimer_new(r->base, rs_timer_cb, s)) == NULL ||
	    (s->conn = relay_connect_new(r->base, r->dns, r->conf->relay.host,
	    r->conf->relay.port, RELAY_CONNECT_SECONDS, logname, rs_connected,
	    s)) == NULL) {
		if (s->timer != NULL)
			event_free(s->timer);
		free(s);
		return NULL;
	}
	s->job = job;
	TAILQ_INSERT_TAIL(&r->sessions, s, entry);
	r->nsessions++;
	return s;
}

/* The timer: TLS handshake, body writing, idle time. */
static void
rs_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_session	*s = arg;

	(void)fd;
	(void)what;
	switch (s->state) {
	case RS_TLS:
		rs_fail(s, "tls", "TLS handshake timed out");
		return;
	case RS_BODY:
		rs_fail(s, "session", "timed out writing the message");
		return;
	case RS_IDLE:
		relay_session_quit(s);
		return;
	default:
		return;
	}
}

/* Connected: TLS right away (smtps) or wait for the banner (STARTTLS). */
static void
rs_connected(int fd, const char *error, void *arg)
{
	struct relay_session	*s = arg;
	struct tls		*ctx;

	s->conn = NULL;
	if (fd == -1) {
		rs_fail(s, "connect", "%s", error);
		return;
	}
	if ((s->nio = netio_new(s->relay->base, fd, rs_netio_cb, s)) == NULL) {
		close(fd);
		rs_fail(s, "connect", "out of memory");
		return;
	}
	if (s->relay->conf->relay.tls == RELAY_STARTTLS) {
		rs_set_state(s, RS_BANNER);
		return;
	}
	rs_set_state(s, RS_TLS);
	if ((ctx = tls_client()) == NULL ||
	    tls_configure(ctx, s->relay->tls_config) == -1) {
		tls_free(ctx);
		rs_fail(s, "tls", "cannot set up a TLS client");
		return;
	}
	if (netio_starttls_client(s->nio, ctx, s->relay->conf->relay.host) == -1) {
		rs_fail(s, "tls", "cannot start TLS");
		return;
	}
	rs_timer_arm(s, s->relay->conf->timeouts.tls_handshake > 0 ?
	    s->relay->conf->timeouts.tls_handshake : 60);
}

/* ---- TLS, EHLO, AUTH ------------------------------------------------- */

static void
rs_on_tls(struct relay_session *s)
{
	struct tls	*tls = netio_tls(s->nio);

	evtimer_del(s->timer);
	s->tls_done = 1;
	log_info("relay session=%u event=tls upstream=%s version=%s "
	    "cipher=%s", s->id, s->relay->upstream,
	    tls ? tls_conn_version(tls) : "?", tls ? tls_conn_cipher(tls) : "?");
	if (s->relay->conf->relay.tls == RELAY_SMTPS) {
		rs_set_state(s, RS_BANNER);
		return;
	}
	/* RFC 3207 4.2: forget what was learned before TLS; EHLO again. */
	memset(&s->caps, 0, sizeof(s->caps));
	s->reply.caps = &s->caps;
	rs_set_state(s, RS_EHLO);
	(void)rs_printf(s, "EHLO %s\r\n", s->relay->conf->hostname);
}

static int
rs_on_banner(struct relay_session *s, const struct smtp_client_reply *rp)
{
	if (rp->code != 220)
		return rs_fail(s, "session", "banner: %s", rp->text);
	memset(&s->caps, 0, sizeof(s->caps));
	s->reply.caps = &s->caps;
	rs_set_state(s, RS_EHLO);
	return rs_printf(s, "EHLO %s\r\n", s->relay->conf->hostname);
}

/*
 * Queue SECRET (LEN octets) base64-encoded with CRLF, from memory that is
 * wiped once written out (evbuffer_add_reference's cleanup).
 */
static void
rs_wipe_cb(const void *data, size_t len, void *arg)
{
	(void)arg;
	sodium_memzero((void *)(uintptr_t)data, len);
	free((void *)(uintptr_t)data);
}

static int
rs_send_secret(struct relay_session *s, const char *head,
    const unsigned char *secret, size_t len)
{
	size_t	 hlen = strlen(head);
	size_t	 b64len = sodium_base64_ENCODED_LEN(len,
		    sodium_base64_VARIANT_ORIGINAL);
	size_t	 size = hlen + b64len + 2;
	char	*buf;

	if ((buf = malloc(size)) == NULL)
		return -1;
	memcpy(buf, head, hlen);
	(void)sodium_bin2base64(buf + hlen, b64len, secret, len,
	    sodium_base64_VARIANT_ORIGINAL);
	size = strlen(buf);
	memcpy(buf + size, "\r\n", 2);
	if (evbuffer_add_reference(netio_output(s->nio), buf, size + 2,
	    rs_wipe_cb, NULL) == -1) {
		rs_wipe_cb(buf, size + 2, NULL);
		return -1;
	}
	netio_flush(s->nio);
	return 0;
}

/* RFC 4954 / RFC 4616: "\0login\0password", base64. */
static int
rs_send_plain(struct relay_session *s, const char *head)
{
	const char	*login = s->secret->login, *pass = s->secret->password;
	size_t		 ll = strlen(login), pl = strlen(pass);
	unsigned char	*buf;
	int		 rv;

	if ((buf = malloc(ll + pl + 2)) == NULL)
		return -1;
	buf[0] = '\0';
	memcpy(buf + 1, login, ll);
	buf[1 + ll] = '\0';
	memcpy(buf + 2 + ll, pass, pl);
	rv = rs_send_secret(s, head, buf, ll + pl + 2);
	sodium_memzero(buf, ll + pl + 2);
	free(buf);
	return rv;
}

static int
rs_auth_begin(struct relay_session *s)
{
	size_t	 rawlen = strlen(s->secret->login) + strlen(s->secret->password) + 2;

	if (s->caps.flags & SMTP_CAP_AUTH_PLAIN) {
		/* The initial response only if the line stays within 512. */
		if (sizeof("AUTH PLAIN ") + (rawlen + 2) / 3 * 4 + 2 <=
		    SMTP_CMDLINE_MAX) {
			rs_set_state(s, RS_AUTH_RESULT);
			if (rs_send_plain(s, "AUTH PLAIN ") == -1)
				return rs_fail(s, "auth", "out of memory");
			return 0;
		}
		rs_set_state(s, RS_AUTH_PLAIN);
		return rs_printf(s, "AUTH PLAIN\r\n");
	}
	if (s->caps.flags & SMTP_CAP_AUTH_LOGIN) {
		rs_set_state(s, RS_AUTH_LOGIN_USER);
		return rs_printf(s, "AUTH LOGIN\r\n");
	}
	return rs_fail(s, "auth", "upstream offers neither AUTH PLAIN nor "
	    "AUTH LOGIN");
}

static int
rs_on_ehlo(struct relay_session *s, const struct smtp_client_reply *rp)
{
	s->reply.caps = NULL;
	if (rp->code != 250)
		return rs_fail(s, "session", "EHLO: %s", rp->text);
	if (s->tls_done) {
		s->relay->upstream_size = (s->caps.flags & SMTP_CAP_SIZE) ?
		    s->caps.size_max : 0;
		s->relay->upstream_smtputf8 =
		    (s->caps.flags & SMTP_CAP_SMTPUTF8) != 0;
		return rs_auth_begin(s);
	}
	/* RFC 3207: no STARTTLS offered means no mail; never plaintext. */
	if (!(s->caps.flags & SMTP_CAP_STARTTLS))
		return rs_fail(s, "tls", "upstream does not offer STARTTLS; "
		    "refusing to go on in plaintext");
	rs_set_state(s, RS_STARTTLS);
	return rs_printf(s, "STARTTLS\r\n");
}

static int
rs_on_starttls(struct relay_session *s, const struct smtp_client_reply *rp)
{
	struct tls	*ctx;

	if (rp->code != 220)
		return rs_fail(s, "tls", "STARTTLS refused: %s", rp->text);
	if ((ctx = tls_client()) == NULL ||
	    tls_configure(ctx, s->relay->tls_config) == -1) {
		tls_free(ctx);
		return rs_fail(s, "tls", "cannot set up a TLS client");
	}
	rs_set_state(s, RS_TLS);
	if (netio_starttls_client(s->nio, ctx, s->relay->conf->relay.host) == -1)
		return rs_fail(s, "tls", "cannot start TLS");
	rs_timer_arm(s, s->relay->conf->timeouts.tls_handshake > 0 ?
	    s->relay->conf->timeouts.tls_handshake : 60);
	return 0;	/* RS_TLS reads nothing: the handshake comes first */
}

static int
rs_auth_refused(struct relay_session *s, const struct smtp_client_reply *rp)
{
	struct relay	*r = s->relay;
	struct relay_job *job;

	log_warnx("relay session=%u event=auth result=fail upstream=%s "
	    "login=%s reply=%s", s->id, r->upstream, s->secret->login,
	    log_q(rp->text));
	/* OVH locks a mailbox that sent too much: only a ticket unlocks it. */
	if (r->login_ok[s->secret - r->secrets->entries] &&
	    (rp->code == 535 || strstr(rp->text, "5.7.60") != NULL))
		log_warnx("relay event=alert kind=upstream-refused "
		    "upstream=%s login=%s "
		    "reason=\"a login that worked is refused now: the upstream "
		    "account may be locked\" reply=%s", r->upstream,
		    s->secret->login, log_q(rp->text));
	if ((job = relay_session_free(s)) != NULL) {
		relay_job_error(job, "%s", rp->text);
		relay_job_done(r, job);
	}
	return -1;
}

static int
rs_on_auth_plain(struct relay_session *s, const struct smtp_client_reply *rp)
{
	if (rp->code != 334)
		return rs_auth_refused(s, rp);
	rs_set_state(s, RS_AUTH_RESULT);
	if (rs_send_plain(s, "") == -1)
		return rs_fail(s, "auth", "out of memory");
	return 0;
}

static int
rs_on_auth_user(struct relay_session *s, const struct smtp_client_reply *rp)
{
	const char	*login = s->secret->login;

	if (rp->code != 334)
		return rs_auth_refused(s, rp);
	rs_set_state(s, RS_AUTH_LOGIN_PASS);
	if (rs_send_secret(s, "", (const unsigned char *)login,
	    strlen(login)) == -1)
		return rs_fail(s, "auth", "out of memory");
	return 0;
}

static int
rs_on_auth_pass(struct relay_session *s, const struct smtp_client_reply *rp)
{
	const char	*pass = s->secret->password;

	if (rp->code != 334)
		return rs_auth_refused(s, rp);
	rs_set_state(s, RS_AUTH_RESULT);
	if (rs_send_secret(s, "", (const unsigned char *)pass,
	    strlen(pass)) == -1)
		return rs_fail(s, "auth", "out of memory");
	return 0;
}

static int
rs_on_auth_result(struct relay_session *s, const struct smtp_client_reply *rp)
{
	struct relay_job	*job;

	if (rp->code != 235)
		return rs_auth_refused(s, rp);
	log_info("relay session=%u event=auth result=ok upstream=%s login=%s",
	    s->id, s->relay->upstream, s->secret->login);
	s->relay->login_ok[s->secret - s->relay->secrets->entries] = 1;
	job = s->job;
	s->job = NULL;
	return rs_txn_begin(s, job, 0);
}

/* ---- transactions ---------------------------------------------------- */

int
relay_session_idle(const struct relay_session *s)
{
	return s->state == RS_IDLE;
}

const char *
relay_session_login(const struct relay_session *s)
{
	return s->secret->login;
}

void
relay_session_send(struct relay_session *s, struct relay_job *job)
{
	evtimer_del(s->timer);
	(void)rs_txn_begin(s, job, 1);
}

void
relay_session_quit(struct relay_session *s)
{
	evtimer_del(s->timer);
	rs_set_state(s, RS_QUIT);
	(void)rs_printf(s, "QUIT\r\n");
}

/* Done with the job: answer it and wait a little for the next one. */
static int
rs_txn_end(struct relay_session *s)
{
	struct relay_job	*job = s->job;

	s->job = NULL;
	rs_set_state(s, RS_IDLE);
	rs_timer_arm(s, RELAY_IDLE_SECONDS);
	relay_job_done(s->relay, job);
	return 0;
}

/* Command K of the transaction: [RSET] MAIL RCPT... */
static int
rs_txn_command(struct relay_session *s, size_t k)
{
	struct relay_job	*job = s->job;
	char			 size[32] = "";

	if (s->rset_first && k-- == 0)
		return rs_printf(s, "RSET\r\n");
	if (s->data_piped && k == 1 + job->npending)
		return rs_printf(s, "DATA\r\n");
	if (k > 0)
		return rs_printf(s, "RCPT TO:<%s>\r\n",
		    job->rcpt[job->pending[k - 1]].forward_path);
	if (s->caps.flags & SMTP_CAP_SIZE)
		(void)snprintf(size, sizeof(size), " SIZE=%llu",
		    (unsigned long long)job->size);
	return rs_printf(s, "MAIL FROM:<%s>%s%s%s\r\n",
	    job->reverse_path, size,
	    job->body_8bitmime && (s->caps.flags & SMTP_CAP_8BITMIME) ?
	    " BODY=8BITMIME" : "", job->smtputf8 ? " SMTPUTF8" : "");
}

/* Send what may go now: everything with PIPELINING, else one at a time. */
static int
rs_txn_send(struct relay_session *s)
{
	size_t	 first = s->nsent;

	while (s->nsent < s->ncmd &&
	    ((s->caps.flags & SMTP_CAP_PIPELINING) || s->nsent == s->nanswered))
		if (rs_txn_command(s, s->nsent++) == -1)
			return -1;
	if (s->nsent - first > 1)
		log_debug("relay session=%u pipelined=%zu", s->id,
		    s->nsent - first);
	return 0;
}

static int
rs_txn_begin(struct relay_session *s, struct relay_job *job, int rset_first)
{
	size_t	 i;

	/*
	 * RFC 6531 3.2: a message that needs SMTPUTF8 is not sent to a
	 * server that does not offer it (no downgrade): every recipient
	 * fails for good, and the sender gets a bounce.
	 */
	if (job->smtputf8 && !(s->caps.flags & SMTP_CAP_SMTPUTF8)) {
		for (i = 0; i < job->npending; i++) {
			job->res[job->pending[i]].code = 553;
			(void)snprintf(job->res[job->pending[i]].reply,
			    sizeof(job->res[0].reply), "553 5.6.7 The "
			    "smarthost does not offer SMTPUTF8: the message "
			    "has UTF-8 addresses");
		}
		log_info("relay session=%u msgid=%s event=smtputf8-refused",
		    s->id, job->queue_id);
		s->job = job;
		return rs_txn_end(s);
	}
	s->job = job;
	s->rset_first = rset_first;
	s->data_piped = (s->caps.flags & SMTP_CAP_PIPELINING) != 0;
	s->dot_only = 0;
	s->ncmd = (rset_first ? 1 : 0) + 1 + job->npending +
	    (s->data_piped ? 1 : 0);
	s->nsent = s->nanswered = 0;
	s->mail_failed = 0;
	s->naccepted = 0;
	rs_set_state(s, RS_TXN);
	return rs_txn_send(s);
}

static int
rs_on_txn(struct relay_session *s, const struct smtp_client_reply *rp)
{
	struct relay_job	*job = s->job;
	size_t			 k = s->nanswered++, i;

	if (s->rset_first && k-- == 0) {
		if (rp->code / 100 != 2)
			return rs_fail(s, "session", "RSET: %s", rp->text);
	} else if (s->data_piped && k == 1 + job->npending) {
		/* The pipelined DATA's reply: every RCPT's came before it. */
		return rs_on_data(s, rp);
	} else if (k == 0) {
		if (rp->code / 100 != 2) {
			/* MAIL refused: every recipient gets its reply. */
			s->mail_failed = 1;
			for (i = 0; i < job->npending; i++)
				rs_result(job, job->pending[i], rp);
			if (!(s->caps.flags & SMTP_CAP_PIPELINING))
				s->ncmd = s->nanswered;
		}
	} else if (!s->mail_failed) {
		i = job->pending[k - 1];
		if (rp->code / 100 == 2) {
			job->rcpt[i].accepted = 1;
			s->naccepted++;
		} else
			rs_result(job, i, rp);
	}
	if (s->nanswered < s->ncmd)
		return rs_txn_send(s);
	if (s->naccepted == 0) {
		rs_set_state(s, RS_RSET);
		return rs_printf(s, "RSET\r\n");
	}
	rs_set_state(s, RS_DATA);
	return rs_printf(s, "DATA\r\n");
}

/* Every accepted recipient gets RP (the DATA or final reply). */
static void
rs_accepted_get(struct relay_session *s, const struct smtp_client_reply *rp)
{
	struct relay_job	*job = s->job;
	size_t			 i;

	for (i = 0; i < job->nrcpt; i++)
		if (job->rcpt[i].accepted)
			rs_result(job, i, rp);
	if (rp->code / 100 != 2)
		relay_job_error(job, "%s", rp->text);
}

static int
rs_on_rset(struct relay_session *s, const struct smtp_client_reply *rp)
{
	if (rp->code / 100 != 2)
		return rs_fail(s, "session", "RSET: %s", rp->text);
	return rs_txn_end(s);
}

/* Write more of PREFIX + file while the output is not too full. */
static int
rs_body_pump(struct relay_session *s)
{
	struct relay_job	*job = s->job;
	struct evbuffer		*out = netio_output(s->nio);
	char			 buf[RS_BODY_CHUNK];
	ssize_t			 n;

	while (evbuffer_get_length(out) < RS_BODY_HIGH) {
		if (s->prefix_off < job->prefixlen) {
			n = job->prefixlen - s->prefix_off;
			if (n > RS_BODY_CHUNK)
				n = RS_BODY_CHUNK;
			if (smtp_dotstuff_add(&s->stuff, out,
			    job->prefix + s->prefix_off, n) == -1)
				return rs_fail(s, "session", "out of memory");
			s->prefix_off += n;
			continue;
		}
		n = pread(job->fd, buf, sizeof(buf), s->file_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return rs_fail(s, "session", "reading the message: %s",
			    strerror(errno));
		if (n == 0) {
			if (smtp_dotstuff_end(&s->stuff, out) == -1)
				return rs_fail(s, "session", "out of memory");
			evtimer_del(s->timer);
			rs_set_state(s, RS_DOT);
			netio_flush(s->nio);
			return 0;
		}
		if (smtp_dotstuff_add(&s->stuff, out, buf, n) == -1)
			return rs_fail(s, "session", "out of memory");
		s->file_off += n;
	}
	rs_timer_arm(s, s->relay->conf->timeouts.data_block > 0 ?
	    s->relay->conf->timeouts.data_block : 180);
	netio_flush(s->nio);
	return 0;
}

static int
rs_on_data(struct relay_session *s, const struct smtp_client_reply *rp)
{
	if (rp->code == 354 && s->naccepted == 0) {
		/*
		 * Pipelined DATA accepted although no recipient was: RFC 2920
		 * 3.1, end the (empty) message at once; its reply is not any
		 * recipient's, each has its own RCPT (or MAIL) reply.
		 */
		s->dot_only = 1;
		rs_set_state(s, RS_DOT);
		return rs_printf(s, ".\r\n");
	}
	if (rp->code == 354) {
		smtp_dotstuff_init(&s->stuff);
		s->prefix_off = 0;
		s->file_off = 0;
		rs_set_state(s, RS_BODY);
		return rs_body_pump(s);
	}
	if (rp->code / 100 == 2 || rp->code / 100 == 3)
		return rs_fail(s, "session", "DATA: unexpected %s", rp->text);
	/* Refused: with no recipient accepted (pipelined) it is expected. */
	if (s->naccepted > 0)
		rs_accepted_get(s, rp);
	return rs_txn_end(s);
}

static int
rs_on_dot(struct relay_session *s, const struct smtp_client_reply *rp)
{
	if (rp->code / 100 == 3)
		return rs_fail(s, "session", "end of data: unexpected %s",
		    rp->text);
	if (!s->dot_only)
		rs_accepted_get(s, rp);
	return rs_txn_end(s);
}

static int
rs_on_quit(struct relay_session *s, const struct smtp_client_reply *rp)
{
	(void)rp;
	return rs_close(s);
}

/* ---- events from the connection -------------------------------------- */

static void
rs_on_read(struct relay_session *s)
{
	struct evbuffer			*in = netio_input(s->nio);
	struct smtp_client_reply	 rp;
	rs_reply_fn			*fn;
	int				 rv;

	for (;;) {
		if ((fn = rs_states[s->state].on_reply) == NULL) {
			if (s->state == RS_IDLE && evbuffer_get_length(in) > 0)
				(void)rs_close(s);	/* e.g. 421 timeout */
			return;
		}
		if ((rv = smtp_client_reply_read(in, &s->reply)) == 0)
			return;
		if (rv == -1) {
			(void)rs_fail(s, "session", "malformed reply");
			return;
		}
		rp = s->reply;
		smtp_client_reply_init(&s->reply);
		log_debug("relay session=%u state=%s reply=\"%s\"", s->id,
		    rs_states[s->state].name, rp.text);
		if (fn(s, &rp) == -1)
			return;
	}
}

static void
rs_netio_cb(struct netio *nio, enum netio_event ev, void *arg)
{
	struct relay_session	*s = arg;

	switch (ev) {
	case NETIO_EV_READ:
		rs_on_read(s);
		break;
	case NETIO_EV_DRAINED:
		if (s->state == RS_BODY)
			(void)rs_body_pump(s);
		break;
	case NETIO_EV_TLS:
		rs_on_tls(s);
		break;
	case NETIO_EV_EOF:
	case NETIO_EV_ERROR:
	case NETIO_EV_TIMEOUT:
		/* An idle or closing connection just goes. */
		if (s->state == RS_IDLE || s->state == RS_QUIT)
			(void)rs_close(s);
		else if (ev == NETIO_EV_EOF)
			(void)rs_fail(s, "session", "connection closed by "
			    "upstream");
		else if (ev == NETIO_EV_TIMEOUT)
			(void)rs_fail(s, "session", "timed out waiting for "
			    "a reply");
		else
			(void)rs_fail(s, s->state == RS_TLS ? "tls" : "session",
			    "%s", netio_error(nio));
		break;
	}
}
