/*
 * smtp_auth.c — the AUTH exchange of a session (RFC 4954): PLAIN
 * (RFC 4616) with or without an initial response, and LOGIN.  The check
 * itself is asked of the auth service and answered later.  Part of the
 * session's state machine (smtp_session.c): it replies and resumes the
 * session through it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/auth.h"
#include "lib/log.h"
#include "lib/netio.h"
#include "proto/smtp_auth_decode.h"
#include "smtpd/smtp_session_priv.h"

/* The auth role's GRANT (0: none) is over: the queue honours it no more. */
static void
smtp_grant_end(struct smtp_session *s, uint64_t grant)
{
	if (grant != 0 && s->ctx->services->session_end != NULL)
		s->ctx->services->session_end(s->ctx->services->svc, grant);
}

/*
 * The login of R kept in S at its length; -1 when out of memory (then
 * R's grant is ended at once rather than when it expires).
 */
static int
smtp_login_new(struct smtp_session *s, const struct auth_reply *r)
{
	size_t			 ulen = strnlen(r->user, sizeof(r->user));
	size_t			 slen = strnlen(r->senders, sizeof(r->senders));
	size_t			 size = sizeof(struct smtp_login) + ulen + 1 +
				    slen + 1;
	struct smtp_login	*l;
	char			*senders;

	if ((l = malloc(size)) == NULL) {
		smtp_grant_end(s, r->grant);
		return -1;
	}
	l->grant = r->grant;
	l->size = size;
	memcpy(l->user, r->user, ulen);
	l->user[ulen] = '\0';
	senders = l->user + ulen + 1;
	memcpy(senders, r->senders, slen);
	senders[slen] = '\0';
	l->senders = senders;
	s->login = l;
	return 0;
}

void
smtp_login_free(struct smtp_session *s)
{
	struct smtp_login	*l = s->login;

	free(s->auth_login);
	s->auth_login = NULL;
	if (l == NULL)
		return;
	smtp_grant_end(s, l->grant);
	sodium_memzero(l, l->size);
	free(l);
	s->login = NULL;
}

/*
 * The login name being tried, kept at its length for the log lines of its
 * answer; -1 when out of memory (421 sent, the session closes).
 */
static int
smtp_auth_name_set(struct smtp_session *s, const char *user)
{
	char	*n;

	if ((n = strndup(user, AUTH_USER_MAX)) == NULL) {
		log_warnx("session=%s event=auth ip=%s error=out-of-memory",
		    s->idstr, s->peer_addr);
		smtp_reply(s, "421 4.3.0 Out of memory");
		s->state = S_QUIT;
		return -1;
	}
	free(s->auth_login);
	s->auth_login = n;
	return 0;
}

static void
smtp_auth_done(void *arg, const struct auth_reply *r)
{
	struct smtp_session	*s = arg;

	smtp_memory_settle(s->ctx);
	if (!s->closing) {
		s->state = S_HELO;
		if (r->ok != 1 &&
		    ++s->auth_failures >= SMTP_AUTH_FAILURES_MAX) {
			/* No more guesses on this line (issue 13). */
			log_info("session=%s event=auth result=%s ip=%s user=%s "
			    "failures=%u action=close", s->idstr,
			    r->ok == AUTH_LOCKED ? "locked" : "fail",
			    s->peer_addr, log_q(s->auth_login), s->auth_failures);
			smtp_reply(s, "421 4.7.0 %s Too many failed logins, "
			    "closing", s->ctx->conf->hostname);
			s->state = S_QUIT;
		} else if (r->ok == AUTH_LOCKED) {
			log_info("session=%s event=auth result=locked ip=%s "
			    "user=%s", s->idstr, s->peer_addr,
			    log_q(s->auth_login));
			smtp_reply(s, "454 4.7.0 Too many failed logins, "
			    "try again later");
		} else if (r->ok && smtp_login_new(s, r) == -1) {
			log_warnx("session=%s event=auth result=ok ip=%s "
			    "user=%s error=out-of-memory", s->idstr,
			    s->peer_addr, log_q(r->user));
			smtp_reply(s, "421 4.3.0 Out of memory");
			s->state = S_QUIT;
		} else if (r->ok) {
			log_info("session=%s event=auth result=ok ip=%s user=%s",
			    s->idstr, s->peer_addr, log_q(r->user));
			smtp_reply(s, "235 2.7.0 Authentication successful");
		} else {
			log_info("session=%s event=auth result=fail ip=%s user=%s",
			    s->idstr, s->peer_addr, log_q(s->auth_login));
			smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
		}
		free(s->auth_login);
		s->auth_login = NULL;
	}
	smtp_session_resume(s);
}

/* Hand USER/PASS to the auth service; the session waits for its answer. */
static void
smtp_auth_check(struct smtp_session *s, const char *user, const char *pass)
{
	const unsigned char *c;

	/* Issue 12 item 2: no control octet in a login, ever. */
	for (c = (const unsigned char *)user; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f) {
			log_info("session=%s event=auth result=refused ip=%s "
			    "reason=control-octet user=%s", s->idstr,
			    s->peer_addr, log_q(user));
			s->state = S_HELO;
			smtp_reply(s, "501 5.5.2 Control characters are not "
			    "allowed in a login");
			return;
		}
	if (user != s->auth_login && smtp_auth_name_set(s, user) == -1)
		return;
	if (s->ctx->services->auth_login(s->ctx->services->svc, s->auth_login,
	    pass,
	    (const struct sockaddr *)&s->peer, netio_fd(s->io), smtp_auth_done,
	    s) == -1) {
		s->state = S_HELO;
		smtp_reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	s->pending++;
	s->waiting = 1;
}

static void
smtp_auth_fail_syntax(struct smtp_session *s, const char *why)
{
	s->state = S_HELO;
	smtp_reply(s, "501 5.5.2 %s", why);
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static void
smtp_auth_plain(struct smtp_session *s, const char *b64)
{
	unsigned char		 buf[AUTH_RESPONSE_MAX + 1];
	struct smtp_auth_plain	 p;
	const char		*why;

	if (smtp_auth_plain_decode(b64, buf, sizeof(buf), &p, &why) == -1) {
		smtp_auth_fail_syntax(s, why);
		goto done;
	}
	if (p.authzid[0] != '\0' && strcmp(p.authzid, p.authcid) != 0) {
		s->state = S_HELO;
		log_info("session=%s event=auth result=fail ip=%s "
		    "reason=authzid user=%s", s->idstr, s->peer_addr,
		    log_q(p.authcid));
		smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
		goto done;
	}
	smtp_auth_check(s, p.authcid, p.pass);
done:
	sodium_memzero(buf, sizeof(buf));
}

void
smtp_auth_command(struct smtp_session *s, const char *args)
{
	char		 mech[16];
	const char	*initial;

	if (s->login != NULL) {
		smtp_reply(s, "503 5.5.1 Already authenticated");
		return;
	}
	if ((initial = smtp_cmd_verb(args, mech, sizeof(mech))) == NULL ||
	    mech[0] == '\0') {
		smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (strcmp(mech, "PLAIN") == 0) {
		if (*initial == '\0') {
			s->state = S_AUTH_PLAIN;
			smtp_reply(s, "334 ");
		} else if (strcmp(initial, "=") == 0)
			smtp_auth_fail_syntax(s, "Invalid PLAIN response");
		else
			smtp_auth_plain(s, initial);
	} else if (strcmp(mech, "LOGIN") == 0) {
		if (*initial == '\0') {
			s->state = S_AUTH_USER;
			smtp_reply(s, "334 VXNlcm5hbWU6");	/* Username: */
		} else {
			s->state = S_AUTH_USER;
			smtp_auth_continue(s, initial);
		}
	} else
		smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
}

void
smtp_auth_continue(struct smtp_session *s, const char *line)
{
	unsigned char	 buf[AUTH_PASS_MAX + 2];
	size_t		 len;

	if (strcmp(line, "*") == 0) {
		s->state = S_HELO;
		smtp_reply(s, "501 5.0.0 Authentication cancelled");
		return;
	}
	switch (s->state) {
	case S_AUTH_PLAIN:
		smtp_auth_plain(s, line);
		return;
	case S_AUTH_USER:
		if (smtp_auth_b64(line, buf, AUTH_USER_MAX + 2, &len) == -1 ||
		    len == 0 || strlen((char *)buf) != len) {
			smtp_auth_fail_syntax(s, "Invalid base64 data");
			return;
		}
		if (len > AUTH_USER_MAX) {
			smtp_auth_fail_syntax(s, "User name too long");
			return;
		}
		if (smtp_auth_name_set(s, (char *)buf) == -1)
			return;
		s->state = S_AUTH_PASS;
		smtp_reply(s, "334 UGFzc3dvcmQ6");	/* Password: */
		return;
	case S_AUTH_PASS:
		if (smtp_auth_b64(line, buf, sizeof(buf), &len) == -1 ||
		    strlen((char *)buf) != len) {
			smtp_auth_fail_syntax(s, "Invalid base64 data");
		} else
			smtp_auth_check(s, s->auth_login, (char *)buf);
		sodium_memzero(buf, sizeof(buf));
		return;
	default:
		fatalx("smtp_auth_continue: state %d", s->state);
	}
}
