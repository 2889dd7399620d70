/*
 * smtp_session.c — the ESMTP submission state machine: the banner, the
 * command table and its checks, EHLO/HELO, STARTTLS, MAIL, RCPT, RSET,
 * NOOP, HELP, QUIT.  AUTH lives in smtp_auth.c, DATA in smtp_data.c.
 * The three files are one state machine split for size, and call each
 * other on purpose: the command table here starts AUTH and DATA, which
 * reply and resume reading the pipelined commands through this file.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>
#include <tls.h>

#include "auth/users.h"
#include "lib/log.h"
#include "lib/netio.h"
#include "smtpd/smtp_metrics.h"
#include "smtpd/smtp_session_priv.h"

/* A command line may be this long (with CRLF) only for AUTH (RFC 4954 4). */
#define AUTH_LINE_MAX		2048
#define SMTP_MAX_ERRORS		20	/* bad commands before we hang up */
#define SMTP_CLOSE_GRACE	10	/* seconds to write the last reply */
#define SMTP_WAIT_GRACE		15	/* seconds to wait for auth or queue past
				   the lifetime or the close */
/* Input buffered at most, octets: a line, pipelined commands, or DATA. */
#define SMTP_INPUT_MAX		(64 * 1024)

#define ST(s)		(1U << (s))
#define ST_IDLE		(ST(S_GREETED) | ST(S_HELO))
#define ST_ANY		(ST(S_GREETED) | ST(S_HELO) | ST(S_MAIL) | ST(S_RCPT))

enum cmd_flags {
	CMD_PRE_TLS = 1 << 0,	/* allowed before STARTTLS */
	CMD_AUTH = 1 << 1,	/* needs a login */
	CMD_HELO = 1 << 2,	/* needs EHLO/HELO first */
};

struct smtp_cmd {
	const char	*verb;
	void		(*handler)(struct smtp_session *, const char *);
	unsigned	 states;	/* ST() bits where it is in sequence */
	int		 flags;
	const char	*out_of_sequence;	/* reply when not in states */
};

static void	cmd_ehlo(struct smtp_session *, const char *);
static void	cmd_helo(struct smtp_session *, const char *);
static void	cmd_starttls(struct smtp_session *, const char *);
static void	cmd_mail(struct smtp_session *, const char *);
static void	cmd_rcpt(struct smtp_session *, const char *);
static void	cmd_rset(struct smtp_session *, const char *);
static void	cmd_noop(struct smtp_session *, const char *);
static void	cmd_help(struct smtp_session *, const char *);
static void	cmd_quit(struct smtp_session *, const char *);
static void	cmd_vrfy(struct smtp_session *, const char *);
static void	cmd_auth(struct smtp_session *s, const char *a) { smtp_auth_command(s, a); }
static void	cmd_data(struct smtp_session *s, const char *a) { smtp_data_command(s, a); }

/* The one place that says which command is allowed when. */
static const struct smtp_cmd smtp_cmds[] = {
	{ "EHLO", cmd_ehlo, ST_ANY, CMD_PRE_TLS, NULL },
	{ "HELO", cmd_helo, ST_ANY, CMD_PRE_TLS, NULL },
	{ "STARTTLS", cmd_starttls, ST_IDLE, CMD_PRE_TLS | CMD_HELO,
	    "503 5.5.1 STARTTLS not allowed now" },
	{ "AUTH", cmd_auth, ST(S_HELO), CMD_HELO,
	    "503 5.5.1 AUTH not allowed during a mail transaction" },
	{ "MAIL", cmd_mail, ST(S_HELO), CMD_HELO | CMD_AUTH,
	    "503 5.5.1 Nested MAIL command" },
	{ "RCPT", cmd_rcpt, ST(S_MAIL) | ST(S_RCPT), CMD_HELO | CMD_AUTH,
	    "503 5.5.1 Need MAIL command first" },
	{ "DATA", cmd_data, ST(S_RCPT), CMD_HELO | CMD_AUTH,
	    "503 5.5.1 Need RCPT command first" },
	{ "RSET", cmd_rset, ST_ANY, CMD_PRE_TLS, NULL },
	{ "NOOP", cmd_noop, ST_ANY, CMD_PRE_TLS, NULL },
	{ "QUIT", cmd_quit, ST_ANY, CMD_PRE_TLS, NULL },
	{ "HELP", cmd_help, ST_ANY, 0, NULL },
	{ "VRFY", cmd_vrfy, ST_ANY, 0, NULL },
	{ "EXPN", cmd_vrfy, ST_ANY, 0, NULL },
};

static int	smtputf8_offered;	/* smtp_sessions_smtputf8() */

static void	smtp_on_io(struct netio *, enum netio_event, void *);
static void	smtp_process_input(struct smtp_session *);
static void	smtp_stop_reading(struct smtp_session *);

void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer	*out = netio_output(s->io);
	va_list		 ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(out, fmt, ap) < 0 ||
	    evbuffer_add(out, "\r\n", 2) == -1)
		s->state = S_QUIT;	/* out of memory: give up on it */
	va_end(ap);
	if (fmt[0] == '4' || fmt[0] == '5') {
		char	 line[96];

		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		log_debug("session=%s event=reply reply=%s", s->idstr,
		    log_q(line));
	}
	netio_flush(s->io);
}

static void
smtp_banner(struct smtp_session *s)
{
	s->state = S_GREETED;
	netio_set_timeout(s->io, s->ctx->conf->timeouts.command);
	smtp_reply(s, "220 %s ESMTP submitd", s->ctx->conf->hostname);
}

/*
 * A deadline passed (timeout command-line, data-phase or session): no
 * activity moves these, so a client dripping an octet at a time is
 * answered and closed all the same.
 */
static void	smtp_session_free(struct smtp_session *);

/*
 * Issue 12 item 2: the session's lifetime is over and what it waits for
 * (auth, queue) has not come in SMTP_WAIT_GRACE more seconds: the session
 * gives up on it and is freed, whatever it waits for, so that no reply
 * that never comes holds a slot of "limit sessions" for good.
 */
static void
smtp_session_abandon(struct smtp_session *s)
{
	log_warnx("session=%s event=timeout ip=%s deadline=session "
	    "action=abandon pending=%d", s->idstr, s->peer_addr, s->pending);
	if (s->ctx->services->cancel != NULL)
		s->ctx->services->cancel(s->ctx->services->svc, s);
	s->pending = 0;
	s->waiting = 0;
	if (s->closing)
		smtp_session_free(s);
	else
		smtp_session_close(s);
}

/* Arm the session's timer for the earlier of its deadlines, if need be. */
static void
smtp_timer_arm(struct smtp_session *s)
{
	uint64_t	 at = s->deadline_us, now, delay;
	struct timeval	 tv;

	if (at == 0 || (s->lifetime_us != 0 && s->lifetime_us < at))
		at = s->lifetime_us;
	/*
	 * None left, or the timer fires no later than needed: it is left
	 * as it is (a deadline cleared or moved later costs nothing now;
	 * the timer, when it fires, finds it and is armed again).
	 */
	if (at == 0 || (s->timer_us != 0 && s->timer_us <= at))
		return;
	now = smtp_metrics_now_us();
	delay = at > now ? at - now : 0;
	tv.tv_sec = delay / 1000000;
	tv.tv_usec = delay % 1000000;
	if (evtimer_add(s->ev_timer, &tv) == 0)
		s->timer_us = at;
}

/* WHICH deadline (DL_COMMAND: the command line's or DATA's) is SECONDS on. */
enum smtp_deadline { DL_COMMAND, DL_SESSION };

static void
smtp_deadline_at(struct smtp_session *s, enum smtp_deadline which,
    time_t seconds)
{
	uint64_t	 at = 0;

	if (seconds > 0)
		at = smtp_metrics_now_us() + (uint64_t)seconds * 1000000;
	if (which == DL_SESSION)
		s->lifetime_us = at;
	else
		s->deadline_us = at;
	if (at != 0)
		smtp_timer_arm(s);
}

/* Returns 1 when S is gone (closed and freed), else 0. */
static int
smtp_deadline_passed(struct smtp_session *s, enum smtp_deadline which)
{
	const char	*name;
	int		 gone;

	if (s->closing) {
		if (which == DL_SESSION && s->pending > 0) {
			smtp_session_abandon(s);
			return 1;
		}
		return 0;
	}
	if (s->waiting && which == DL_SESSION &&
	    ++s->overdue > SMTP_WAIT_GRACE) {
		smtp_session_abandon(s);
		return 1;
	}
	if (s->state == S_QUIT)
		return 0;
	if (s->waiting) {
		/* We are the slow one (auth, queue): ask again shortly. */
		smtp_deadline_at(s, which, 1);
		return 0;
	}
	name = which == DL_SESSION ? "session" : s->state == S_DATA ?
	    "data-phase" : "command-line";
	log_info("session=%s event=timeout ip=%s deadline=%s state=%d",
	    s->idstr, s->peer_addr, name, s->state);
	if (s->state == S_CONNECTED) {	/* no TLS yet on "tls": just close */
		gone = s->pending == 0;
		smtp_session_close(s);
		return gone;
	}
	smtp_reply(s, "421 4.4.2 %s Timeout (%s), closing",
	    s->ctx->conf->hostname, name);
	s->state = S_QUIT;
	smtp_stop_reading(s);
	return 0;
}

static void
smtp_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session	*s = arg;
	uint64_t		 now = smtp_metrics_now_us();

	(void)fd;
	(void)what;
	s->timer_us = 0;
	if (s->lifetime_us != 0 && s->lifetime_us <= now) {
		s->lifetime_us = 0;
		if (smtp_deadline_passed(s, DL_SESSION))
			return;
	} else if (s->deadline_us != 0 && s->deadline_us <= now) {
		s->deadline_us = 0;
		if (smtp_deadline_passed(s, DL_COMMAND))
			return;
	}
	smtp_timer_arm(s);
}

void
smtp_deadline_set(struct smtp_session *s, time_t seconds)
{
	if (seconds > 0 || s->deadline_us != 0)
		smtp_deadline_at(s, DL_COMMAND, seconds);
}

/* Nothing more is read: the input is dropped, reading stops for good. */
static void
smtp_stop_reading(struct smtp_session *s)
{
	struct evbuffer	*in = netio_input(s->io);
	time_t		 grace = s->ctx->conf->timeouts.command;

	evbuffer_drain(in, evbuffer_get_length(in));
	smtp_deadline_set(s, 0);
	netio_pause(s->io);
	/* A client that does not read its last reply is dropped soon. */
	netio_set_timeout(s->io, grace < SMTP_CLOSE_GRACE ? grace :
	    SMTP_CLOSE_GRACE);
}

/*
 * TLS handshakes in flight are bounded (issue 18 target 3).  A handshake
 * makes some 40 KB of short-lived objects (record and handshake buffers,
 * key exchange, transcript, signature) and, among them, the connection's
 * long-lived state (cipher contexts, session): with 1000 handshakes at
 * once, the long-lived objects of each ended up scattered among the
 * others' freed temporaries, 6-7 KB of free heap per idle session that
 * malloc_trim cannot give back (pages shared with live objects).  With at
 * most SMTP_HANDSHAKES_MAX in flight, the next ones reuse the same
 * memory: 1000 idle sessions cost ~17 KB each instead of ~24.  A session
 * over the bound waits, unread (its ClientHello stays in the socket),
 * for one to end.  So that clients stalling mid-handshake cannot hold
 * the others back, whenever SMTP_HANDSHAKE_STALL_USEC pass without any
 * handshake ending while some wait, up to SMTP_HANDSHAKES_MAX more begin
 * regardless.
 */
#define SMTP_HANDSHAKES_MAX		64
#define SMTP_HANDSHAKE_STALL_USEC	200000

static void
smtp_handshake_start(struct smtp_session *s)
{
	s->hs = HS_RUNNING;
	s->ctx->handshakes++;
	netio_set_timeout(s->io, s->ctx->conf->timeouts.tls_handshake);
	s->tls_started = 1;
	netio_starttls_server(s->io, s->tls_ctx);
}

/* Up to N of those waiting begin their handshake. */
static void
smtp_handshake_dequeue(struct smtp_ctx *ctx, size_t n)
{
	struct smtp_session	*s;

	while (n-- > 0 && (s = TAILQ_FIRST(&ctx->handshake_queue)) != NULL) {
		TAILQ_REMOVE(&ctx->handshake_queue, s, hs_entry);
		smtp_handshake_start(s);
		netio_resume(s->io);
	}
}

static void
smtp_on_handshake_stall(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_ctx	*ctx = arg;
	struct timeval	 tv = { 0, SMTP_HANDSHAKE_STALL_USEC };

	(void)fd;
	(void)what;
	if (ctx->handshakes_ended == ctx->handshakes_seen)
		smtp_handshake_dequeue(ctx, SMTP_HANDSHAKES_MAX);
	ctx->handshakes_seen = ctx->handshakes_ended;
	if (!TAILQ_EMPTY(&ctx->handshake_queue))
		evtimer_add(ctx->ev_handshake, &tv);
}

/* S's handshake begins now, or once fewer are in flight. */
static void
smtp_handshake_begin(struct smtp_session *s)
{
	struct smtp_ctx	*ctx = s->ctx;
	struct timeval	 tv = { 0, SMTP_HANDSHAKE_STALL_USEC };

	if (ctx->handshakes < SMTP_HANDSHAKES_MAX &&
	    TAILQ_EMPTY(&ctx->handshake_queue)) {
		smtp_handshake_start(s);
		return;
	}
	/* Without the stall check's timer, no waiting. */
	if (ctx->ev_handshake == NULL && (ctx->ev_handshake =
	    evtimer_new(ctx->base, smtp_on_handshake_stall, ctx)) == NULL) {
		smtp_handshake_start(s);
		return;
	}
	if (!evtimer_pending(ctx->ev_handshake, NULL)) {
		ctx->handshakes_seen = ctx->handshakes_ended;
		evtimer_add(ctx->ev_handshake, &tv);
	}
	s->hs = HS_QUEUED;
	TAILQ_INSERT_TAIL(&ctx->handshake_queue, s, hs_entry);
	netio_pause(s->io);
}

/* S's handshake is over (done, failed, or the session closes). */
static void
smtp_handshake_end(struct smtp_session *s)
{
	struct smtp_ctx	*ctx = s->ctx;

	if (s->hs == HS_QUEUED)
		TAILQ_REMOVE(&ctx->handshake_queue, s, hs_entry);
	else if (s->hs == HS_RUNNING) {
		ctx->handshakes--;
		ctx->handshakes_ended++;
		if (ctx->handshakes < SMTP_HANDSHAKES_MAX)
			smtp_handshake_dequeue(ctx,
			    SMTP_HANDSHAKES_MAX - ctx->handshakes);
	}
	s->hs = HS_NONE;
}

/* The dialogue proper: TLS handshake on "tls", banner on "starttls". */
static void
smtp_session_begin(struct smtp_session *s)
{
	if (s->tlsmode == LISTEN_TLS)
		smtp_handshake_begin(s);
	else
		smtp_banner(s);
}

/*
 * Refused at connect.  On "starttls" listeners: one reply in cleartext
 * before any TLS work (issue 5), then close.  On "tls" listeners a
 * cleartext reply only shows as "wrong version number" (issue 13): the
 * allowlist, lockout and connection rate (POLICY) close without a word,
 * the cheapest answer to whoever they stop; the session caps (TELL) do
 * the handshake and say why (421 4.7.0), for the legitimate client that
 * meets them.
 */
enum refuse_how { REFUSE_POLICY, REFUSE_TELL };

/* Returns 1 when S is gone (closed and freed), else 0. */
static int
smtp_session_refuse(struct smtp_session *s, const char *reason,
    const char *reply, enum refuse_how how)
{
	log_info("session=%s event=refused ip=%s reason=%s", s->idstr,
	    s->peer_addr, reason);
	if (s->tlsmode == LISTEN_TLS && !s->tls_done) {
		if (how == REFUSE_POLICY) {
			int	 gone = s->pending == 0;

			s->state = S_QUIT;
			smtp_stop_reading(s);
			smtp_session_close(s);	/* frees S unless pending */
			return gone;
		}
		s->refuse_after_tls = reply;
		netio_set_timeout(s->io, s->ctx->conf->timeouts.tls_handshake);
		s->tls_started = 1;
		netio_starttls_server(s->io, s->tls_ctx);
		return 0;
	}
	smtp_reply(s, "%s", reply);
	s->state = S_QUIT;
	smtp_stop_reading(s);
	return 0;
}

/* Sessions open now from the address of S, S included. */
static size_t
smtp_sessions_from(const struct smtp_session *s)
{
	const struct smtp_session	*o;
	size_t				 n = 0;

	TAILQ_FOREACH(o, &s->ctx->sessions, entry)
		if (!o->closing && strcmp(o->peer_net, s->peer_net) == 0)
			n++;
	return n;
}

static void
smtp_connect_checked(void *arg, const struct policy_result *r)
{
	struct smtp_session	*s = arg;

	s->pending--;
	if (s->closing) {
		if (s->pending == 0)
			smtp_session_free(s);
		return;
	}
	s->waiting = 0;
	if (r->verdict == POLICY_OK)
		smtp_session_begin(s);
	else if (smtp_session_refuse(s, r->verdict == POLICY_DENY ? "policy" :
	    "rate", r->reply, REFUSE_POLICY))
		return;
	/* Nothing was read while we waited: a TLS ClientHello is intact. */
	if (!s->closing && s->state != S_QUIT && s->hs != HS_QUEUED)
		netio_resume(s->io);
}

int
smtp_session_start(struct smtp_ctx *ctx, int fd, const struct sockaddr *peer,
    socklen_t peerlen, enum listen_tls tlsmode, struct tls *tls)
{
	static uint64_t		 counter;
	struct smtp_session	*s;
	char			 host[INET6_ADDRSTRLEN];
	const void		*a;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		return -1;
	}
	s->ctx = ctx;
	s->tls_ctx = tls;
	s->tlsmode = tlsmode;
	if (peerlen > sizeof(s->peer))
		peerlen = sizeof(s->peer);
	memcpy(&s->peer, peer, peerlen);
	a = peer->sa_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)peer)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)peer)->sin_addr;
	if (inet_ntop(peer->sa_family, a, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "unknown");
	snprintf(s->peer_addr, sizeof(s->peer_addr), "%s", host);
	conf_net_text(peer, ctx->conf->ipv6_prefix, s->peer_net,
	    sizeof(s->peer_net));
	/* Session IDs: random high bits, a counter below: unique per run. */
	s->id = ((uint64_t)randombytes_random() << 32) | (uint32_t)++counter;
	snprintf(s->idstr, sizeof(s->idstr), "%016llx", (unsigned long long)s->id);

	if ((s->ev_timer = evtimer_new(ctx->base, smtp_on_timer, s)) == NULL ||
	    (s->io = netio_new(ctx->base, fd, smtp_on_io, s)) == NULL) {
		if (s->ev_timer)
			event_free(s->ev_timer);
		close(fd);
		free(s);
		return -1;
	}
	netio_set_input_max(s->io, SMTP_INPUT_MAX);
	smtp_deadline_at(s, DL_SESSION, ctx->conf->timeouts.session);
	ctx->nsessions++;
	TAILQ_INSERT_TAIL(&ctx->sessions, s, entry);
	smtp_metrics_connect(tlsmode == LISTEN_TLS);
	s->connect_us = smtp_metrics_now_us();
	log_info("session=%s event=connect ip=%s listener=%s", s->idstr,
	    s->peer_addr, tlsmode == LISTEN_TLS ? "tls" : "starttls");
	netio_set_timeout(s->io, ctx->conf->timeouts.command);
	if (ctx->nsessions > ctx->conf->max_sessions) {
		smtp_metrics_cap(SMTP_CAP_SESSIONS);
		smtp_session_refuse(s, "sessions", "421 4.7.0 Too many "
		    "sessions, try again later", REFUSE_TELL);
	} else if (smtp_sessions_from(s) > ctx->conf->max_sessions_per_ip) {
		smtp_metrics_cap(SMTP_CAP_PER_IP);
		smtp_session_refuse(s, "sessions-per-ip", "421 4.7.0 Too many "
		    "sessions from your address, try again later", REFUSE_TELL);
	} else if (ctx->services->policy_connect != NULL) {
		s->pending++;
		s->waiting = 1;
		netio_pause(s->io);
		ctx->services->policy_connect(ctx->services->svc,
		    (const struct sockaddr *)&s->peer, netio_fd(s->io),
		    smtp_connect_checked, s);
	} else
		smtp_session_begin(s);
	return 0;
}

/*
 * Give the heap's free pages back once the sessions have settled (issue
 * 13: after a burst of 200 sessions the smtp process stayed 9 MiB larger;
 * issue 18: a TLS connection's record buffers are freed whenever it has
 * nothing to read or write, so 1000 sessions that logged in together left
 * 25 KB each of free but resident heap among the live state of the idle
 * ones).  A handshake, a login and a session's end arm a quarter-second
 * timer; malloc_trim runs when it fires, so at most 4 times a second
 * however busy the server, and soon after a burst ends.
 */
#define SMTP_TRIM_DELAY_USEC	250000

static void
smtp_on_trim(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	malloc_trim(0);
}

void
smtp_memory_settle(struct smtp_ctx *ctx)
{
	struct timeval	 tv = { 0, SMTP_TRIM_DELAY_USEC };

	if (ctx->ev_trim == NULL &&
	    (ctx->ev_trim = evtimer_new(ctx->base, smtp_on_trim, ctx)) == NULL)
		return;
	if (!evtimer_pending(ctx->ev_trim, NULL))
		evtimer_add(ctx->ev_trim, &tv);
}

static void
smtp_session_free(struct smtp_session *s)
{
	smtp_login_free(s);
	smtp_transaction_reset(s);
	smtp_handshake_end(s);
	free(s->helo);
	event_free(s->ev_timer);
	netio_free(s->io);
	s->ctx->nsessions--;
	smtp_memory_settle(s->ctx);
	TAILQ_REMOVE(&s->ctx->sessions, s, entry);
	free(s);
}

/* Close now, or as soon as the replies we wait for have come back. */
void
smtp_session_close(struct smtp_session *s)
{
	if (s->closing)
		return;
	s->closing = 1;
	smtp_handshake_end(s);
	if (s->tls_started && !s->tls_done)
		smtp_metrics_tls_failed(s->tlsmode == LISTEN_TLS);
	s->deadline_us = 0;
	s->lifetime_us = 0;
	log_info("session=%s event=disconnect ip=%s", s->idstr, s->peer_addr);
	if (s->pending == 0)
		smtp_session_free(s);
	else {
		netio_pause(s->io);
		/* The replies it waits for, or smtp_session_abandon. */
		smtp_deadline_at(s, DL_SESSION, SMTP_WAIT_GRACE);
	}
}

/* An asynchronous reply came back: go on reading pipelined commands. */
void
smtp_session_resume(struct smtp_session *s)
{
	s->pending--;
	if (s->closing) {
		if (s->pending == 0)
			smtp_session_free(s);
		return;
	}
	s->waiting = 0;
	netio_resume(s->io);
	smtp_process_input(s);
}

void
smtp_sessions_shutdown(struct smtp_ctx *ctx, int force)
{
	struct smtp_session	*s, *next;

	for (s = TAILQ_FIRST(&ctx->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->closing)
			continue;
		if (force)
			smtp_session_close(s);
		else if (s->state != S_DATA && !s->waiting) {
			smtp_reply(s, "421 4.3.2 %s Service shutting down",
			    ctx->conf->hostname);
			s->state = S_QUIT;
		}
	}
}

void
smtp_transaction_reset(struct smtp_session *s)
{
	if (s->txn != NULL) {
		smtp_data_free(s);
		free(s->txn->rcpt);
		free(s->txn);
		s->txn = NULL;
	}
	if (s->state == S_MAIL || s->state == S_RCPT || s->state == S_DATA)
		s->state = S_HELO;
}

static void
smtp_on_tls(struct smtp_session *s)
{
	const char	*v = tls_conn_version(netio_tls(s->io));
	const char	*c = tls_conn_cipher(netio_tls(s->io));

	s->tls_done = 1;
	smtp_handshake_end(s);
	smtp_memory_settle(s->ctx);
	log_info("session=%s event=tls ip=%s version=%s cipher=%s", s->idstr,
	    s->peer_addr, v ? v : "?", c ? c : "?");
	if (s->refuse_after_tls != NULL) {
		smtp_reply(s, "%s", s->refuse_after_tls);
		s->state = S_QUIT;
		smtp_stop_reading(s);
	} else if (s->tlsmode == LISTEN_TLS)
		smtp_banner(s);
	else {
		/* RFC 3207 4.2: forget everything said before TLS. */
		s->state = S_GREETED;
		free(s->helo);
		s->helo = NULL;
		netio_set_timeout(s->io, s->ctx->conf->timeouts.command);
	}
}

static void
smtp_on_io(struct netio *io, enum netio_event ev, void *arg)
{
	struct smtp_session	*s = arg;

	(void)io;
	if (s->closing)
		return;
	switch (ev) {
	case NETIO_EV_READ:
		smtp_process_input(s);
		break;
	case NETIO_EV_DRAINED:
		if (s->state == S_QUIT)
			smtp_session_close(s);
		else if (s->output_full && !s->waiting) {
			s->output_full = 0;
			netio_resume(s->io);
			smtp_process_input(s);
		}
		break;
	case NETIO_EV_TLS:
		smtp_on_tls(s);
		smtp_process_input(s);
		break;
	case NETIO_EV_TIMEOUT:
		log_info("session=%s event=timeout ip=%s state=%d", s->idstr,
		    s->peer_addr, s->state);
		/* The reply cannot be written any more: just close. */
		smtp_session_close(s);
		break;
	case NETIO_EV_EOF:
		if (s->state == S_DATA)
			log_info("session=%s event=lost-in-data ip=%s",
			    s->idstr, s->peer_addr);
		smtp_session_close(s);
		break;
	case NETIO_EV_ERROR:
		log_info("session=%s event=error ip=%s error=%s", s->idstr,
		    s->peer_addr, log_q(netio_error(s->io)));
		smtp_session_close(s);
		break;
	}
}

static void
smtp_error(struct smtp_session *s, const char *reply)
{
	smtp_reply(s, "%s", reply);
	if (++s->errors >= SMTP_MAX_ERRORS) {
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing",
		    s->ctx->conf->hostname);
		s->state = S_QUIT;
	}
}

static void
smtp_dispatch(struct smtp_session *s, const char *line)
{
	char			 verb[16];
	const char		*args;
	size_t			 i;

	switch (s->state) {
	case S_AUTH_PLAIN:
	case S_AUTH_USER:
	case S_AUTH_PASS:
		smtp_auth_continue(s, line);
		return;
	default:
		break;
	}
	if ((args = smtp_cmd_verb(line, verb, sizeof(verb))) == NULL) {
		smtp_error(s, "500 5.5.1 Command unrecognized");
		return;
	}
	for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++) {
		const struct smtp_cmd *c = &smtp_cmds[i];

		if (strcmp(verb, c->verb) != 0)
			continue;
		if (!s->tls_done && !(c->flags & CMD_PRE_TLS))
			smtp_error(s, "530 5.7.0 Must issue a STARTTLS command first");
		else if ((c->flags & CMD_HELO) && s->state == S_GREETED)
			smtp_error(s, "503 5.5.1 Send EHLO first");
		else if ((c->flags & CMD_AUTH) && s->login == NULL)
			smtp_error(s, "530 5.7.0 Authentication required");
		else if (!(c->states & ST(s->state)))
			smtp_error(s, c->out_of_sequence);
		else
			c->handler(s, args);
		return;
	}
	smtp_error(s, s->tls_done ? "500 5.5.1 Command unrecognized" :
	    "530 5.7.0 Must issue a STARTTLS command first");
}

/*
 * Take the next command line out of the input into LINE.  1: got one;
 * 0: need more; -1: an overlong line was answered and skipped.
 */
static int
smtp_next_line(struct smtp_session *s, char *line, size_t linesz)
{
	struct evbuffer	*in = netio_input(s->io);
	struct evbuffer_ptr p, end;
	size_t		 avail = evbuffer_get_length(in), n;

	/* Look for the LF within one line's length only, not the whole input. */
	if (evbuffer_ptr_set(in, &end, avail < linesz ? avail : linesz,
	    EVBUFFER_PTR_SET) == -1)
		return 0;
	p = evbuffer_search_range(in, "\n", 1, NULL, &end);
	if (p.pos == -1) {
		if (avail < linesz)
			return 0;
		/*
		 * No end within a line's length: drop this much, keep looking
		 * for the LF, answer once there; what follows it is kept.
		 */
		evbuffer_drain(in, linesz);
		s->discard_line = 1;
		return -1;
	}
	n = (size_t)p.pos + 1;
	if (s->discard_line || n >= linesz) {
		evbuffer_drain(in, n);
		s->discard_line = 0;
		smtp_error(s, "500 5.5.2 Line too long");
		return -1;
	}
	if (evbuffer_remove(in, line, n) != (int)n)
		return 0;
	line[n] = '\0';
	if (memchr(line, '\0', n) != NULL) {
		smtp_error(s, "500 5.5.2 Invalid character (NUL) in command");
		return -1;
	}
	/* Strip CRLF (a bare LF is tolerated in commands, not in DATA). */
	line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n + 2 > SMTP_CMDLINE_MAX && s->state != S_AUTH_PLAIN &&
	    s->state != S_AUTH_USER && s->state != S_AUTH_PASS &&
	    strncasecmp(line, "AUTH ", 5) != 0) {
		smtp_error(s, "500 5.5.2 Line too long");
		return -1;
	}
	return 1;
}

/*
 * The command line's deadline: it runs from the first octet of a line to
 * its end.  RESTART: a line ended in this pass, so what is left (if any)
 * starts a new one now.
 */
static void
smtp_line_deadline(struct smtp_session *s, int restart)
{
	int	 partial;

	if (s->closing)
		return;
	if (s->waiting || s->state == S_DATA || s->state == S_QUIT ||
	    s->state == S_CONNECTED) {
		if (s->state != S_DATA)
			smtp_deadline_set(s, 0);
		return;
	}
	partial = s->discard_line ||
	    evbuffer_get_length(netio_input(s->io)) > 0;
	if (!partial)
		smtp_deadline_set(s, 0);
	else if (restart || s->deadline_us == 0)
		smtp_deadline_set(s, s->ctx->conf->timeouts.command_line);
}

static void
smtp_process_input(struct smtp_session *s)
{
	char	 line[AUTH_LINE_MAX + 1];
	int	 r, lines = 0;

	while (!s->closing && !s->waiting && s->state != S_QUIT &&
	    s->state != S_CONNECTED) {
		/* A client that sends but does not read gets no more replies
		 * buffered: stop reading until they are written out. */
		if (netio_output_len(s->io) >= SMTP_OUTPUT_MAX) {
			s->output_full = 1;
			netio_pause(s->io);
			return;
		}
		if (s->state == S_DATA) {
			if (smtp_data_input(s) == 0)
				break;
			continue;
		}
		if ((r = smtp_next_line(s, line, sizeof(line))) == 0)
			break;
		lines++;
		if (r == 1)
			smtp_dispatch(s, line);
		sodium_memzero(line, sizeof(line));	/* may hold a password */
	}
	if (s->closing)
		return;
	if (s->state == S_QUIT)
		smtp_stop_reading(s);	/* nothing after QUIT is read */
	else if (s->waiting)
		netio_pause(s->io);	/* back-pressure while we wait */
	smtp_line_deadline(s, lines > 0);
}

/* Commands. */

static int
smtp_helo_arg(struct smtp_session *s, const char *args)
{
	size_t	 len = strcspn(args, " ");
	char	*helo;

	if (len == 0 || len > SMTP_DOMAIN_MAX) {
		smtp_error(s, "501 5.5.4 Syntax: EHLO hostname");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)args[i] <= 32 || (unsigned char)args[i] >= 127) {
			smtp_error(s, "501 5.5.4 Invalid EHLO hostname");
			return -1;
		}
	if ((helo = strndup(args, len)) == NULL) {
		log_warnx("session=%s event=helo error=out-of-memory", s->idstr);
		smtp_reply(s, "421 4.3.0 Out of memory");
		s->state = S_QUIT;
		return -1;
	}
	smtp_transaction_reset(s);
	free(s->helo);
	s->helo = helo;
	s->state = S_HELO;
	return 0;
}

static void
cmd_ehlo(struct smtp_session *s, const char *args)
{
	const struct conf *conf = s->ctx->conf;

	if (smtp_helo_arg(s, args) == -1)
		return;
	smtp_reply(s, "250-%s Hello %s [%s]", conf->hostname, s->helo,
	    s->peer_addr);
	if (!s->tls_done)
		smtp_reply(s, "250-STARTTLS");
	else if (s->login == NULL)
		smtp_reply(s, "250-AUTH PLAIN LOGIN");
	smtp_reply(s, "250-SIZE %llu", (unsigned long long)conf->max_message_size);
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	if (smtputf8_offered)
		smtp_reply(s, "250-SMTPUTF8");
	smtp_reply(s, "250 HELP");
}

static void
cmd_helo(struct smtp_session *s, const char *args)
{
	if (smtp_helo_arg(s, args) == 0)
		smtp_reply(s, "250 %s", s->ctx->conf->hostname);
}

static void
cmd_starttls(struct smtp_session *s, const char *args)
{
	struct evbuffer	*in;

	if (*args != '\0') {
		smtp_error(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	if (s->tls_done) {
		smtp_error(s, "503 5.5.1 TLS already active");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	s->state = S_CONNECTED;	/* nothing is read until the handshake ends */
	/* What came after STARTTLS is dropped, even if the handshake waits. */
	in = netio_input(s->io);
	evbuffer_drain(in, evbuffer_get_length(in));
	smtp_handshake_begin(s);
}

#define SVCS(s)	((s)->ctx->services)

/* The message quota's answer to MAIL (issue 5). */
static void
smtp_mail_checked(void *arg, const struct policy_result *r)
{
	struct smtp_session	*s = arg;

	if (!s->closing) {
		if (r->verdict != POLICY_OK) {
			log_info("session=%s event=quota user=%s reply=%s",
			    s->idstr, log_q(s->login->user), log_q(r->reply));
			smtp_metrics_refused(SMTP_REF_QUOTA);
			smtp_reply(s, "%s", r->reply);
			smtp_transaction_reset(s);
		} else {
			s->txn->rcpt_left = r->rcpt_left;
			snprintf(s->txn->rcpt_refusal,
			    sizeof(s->txn->rcpt_refusal), "%s",
			    r->rcpt_reply[0] != '\0' ? r->rcpt_reply :
			    "452 4.7.1 Recipient quota reached");
			s->state = S_MAIL;
			smtp_reply(s, "250 2.1.0 Ok");
		}
	}
	smtp_session_resume(s);
}

/*
 * RFC 6531 3.7.4.1: an address with octets over 127 only with SMTPUTF8,
 * which is offered only while the smarthost offers it (its last EHLO, as
 * its SIZE: role_smtp.c); else such an address is refused now rather
 * than bounced later (issue 13).  With SMTPUTF8 it must be UTF-8.
 */
void
smtp_sessions_smtputf8(int on)
{
	smtputf8_offered = on != 0;
}

static void
cmd_mail(struct smtp_session *s, const char *args)
{
	const struct conf	*conf = s->ctx->conf;
	char			 path[SMTP_PATH_MAX + 1];
	struct smtp_mail_params	 params;
	const char		*rest;
	int			 r;

	if (strncasecmp(args, "FROM:", 5) != 0) {
		smtp_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (smtp_parse_path(args + 5, 1, path, sizeof(path), &rest) == -1) {
		smtp_error(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	memset(&params, 0, sizeof(params));
	if ((r = smtp_parse_mail_params(rest, &params)) != 0 ||
	    (params.smtputf8 && !smtputf8_offered)) {
		smtp_error(s, r == -1 ? "501 5.5.4 Bad MAIL parameter syntax" :
		    "555 5.5.4 Unsupported MAIL parameter");
		return;
	}
	if (!smtp_ascii(path) && !params.smtputf8) {
		smtp_error(s, smtputf8_offered ? "553 5.6.7 Non-ASCII sender "
		    "address needs the SMTPUTF8 parameter" : "553 5.6.7 "
		    "Non-ASCII sender address needs SMTPUTF8, which is not "
		    "offered");
		return;
	}
	if (!smtp_utf8_valid(path)) {
		smtp_error(s, "501 5.1.7 Bad sender address syntax (not UTF-8)");
		return;
	}
	if (params.size > conf->max_message_size) {
		smtp_metrics_refused(SMTP_REF_SIZE);
		smtp_error(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (path[0] == '\0' || !sender_match(s->login->senders, path)) {
		log_info("session=%s event=sender-refused user=%s from=%s",
		    s->idstr, log_q(s->login->user), log_q(path));
		smtp_metrics_refused(SMTP_REF_SENDER);
		smtp_error(s, "553 5.7.1 Sender address not allowed for this login");
		return;
	}
	if ((s->txn = calloc(1, sizeof(*s->txn))) == NULL) {
		log_warnx("session=%s event=mail error=out-of-memory", s->idstr);
		smtp_reply(s, "421 4.3.0 Out of memory");
		s->state = S_QUIT;
		return;
	}
	memcpy(s->txn->reverse_path, path, sizeof(path));
	s->txn->mail_params = params;
	s->txn->rcpt_left = POLICY_RCPT_UNLIMITED;
	s->txn->data.fd = -1;
	if (SVCS(s)->policy_mail == NULL) {
		s->state = S_MAIL;
		smtp_reply(s, "250 2.1.0 Ok");
		return;
	}
	s->pending++;
	s->waiting = 1;
	SVCS(s)->policy_mail(SVCS(s)->svc, s->login->user, s->login->grant,
	    params.size, smtp_mail_checked, s);
}

static void
cmd_rcpt(struct smtp_session *s, const char *args)
{
	struct smtp_txn		*t = s->txn;
	char			 path[SMTP_PATH_MAX + 1];
	struct envelope_rcpt	*n;
	const char		*rest;
	int			 r;

	if (strncasecmp(args, "TO:", 3) != 0) {
		smtp_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (smtp_parse_path(args + 3, 0, path, sizeof(path), &rest) == -1) {
		smtp_error(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (!smtp_ascii(path) && !t->mail_params.smtputf8) {
		smtp_error(s, smtputf8_offered ? "553 5.6.7 Non-ASCII recipient "
		    "address needs MAIL FROM with SMTPUTF8" : "553 5.6.7 "
		    "Non-ASCII recipient address needs SMTPUTF8, which is not "
		    "offered");
		return;
	}
	if (!smtp_utf8_valid(path)) {
		smtp_error(s, "501 5.1.3 Bad recipient address syntax (not UTF-8)");
		return;
	}
	if ((r = smtp_parse_rcpt_params(rest)) != 0) {
		smtp_error(s, r == -2 ? "555 5.5.4 Unsupported RCPT parameter" :
		    "501 5.5.4 Bad RCPT parameter syntax");
		return;
	}
	if (t->nrcpt >= s->ctx->conf->max_rcpt_per_msg ||
	    t->rcpt_bytes + strlen(path) + 2 > ENVELOPE_RCPT_BYTES_MAX) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (t->nrcpt >= t->rcpt_left) {
		log_info("session=%s event=quota limit=recipients user=%s",
		    s->idstr, log_q(s->login->user));
		smtp_reply(s, "%s", t->rcpt_refusal);
		return;
	}
	if ((n = reallocarray(t->rcpt, t->nrcpt + 1, sizeof(*n))) == NULL) {
		smtp_reply(s, "421 4.3.0 Out of memory");
		s->state = S_QUIT;
		return;
	}
	t->rcpt = n;
	memset(&n[t->nrcpt], 0, sizeof(n[0]));
	memcpy(n[t->nrcpt].forward_path, path, sizeof(path));
	t->nrcpt++;
	t->rcpt_bytes += strlen(path) + 2;
	s->state = S_RCPT;
	smtp_reply(s, "250 2.1.5 Ok");
}

static void
cmd_rset(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_transaction_reset(s);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void
cmd_noop(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "250 2.0.0 Ok");
}

static void
cmd_help(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "214-2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA");
	smtp_reply(s, "214 2.0.0 RSET NOOP HELP QUIT; see submitd(8)");
}

static void
cmd_vrfy(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "502 5.5.1 Command not implemented");
}

static void
cmd_quit(struct smtp_session *s, const char *args)
{
	(void)args;
	smtp_reply(s, "221 2.0.0 Bye");
	s->state = S_QUIT;
}
