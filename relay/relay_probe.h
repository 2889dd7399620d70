/*
 * relay_probe.h — one trial session with the smarthost, for "submitctl
 * check-upstream": resolve, connect, TLS (implicit or STARTTLS, the
 * certificate checked as the relay checks it), EHLO, AUTH with the login
 * the relay would use for a sender, optionally MAIL FROM, then QUIT: no
 * mail is sent.  Each step is reported with what the smarthost said, and
 * a failure names the setting to change: implicit TLS spoken to a
 * STARTTLS port (and the reverse) is recognised from the first bytes.
 * Blocking, for a command-line tool; the caller (root) has loaded the
 * secrets.
 *
 * relay/: the smarthost client.  Knows nothing of the spool, IPC or the
 * roles: it takes a message file and an envelope, and answers through a
 * callback.
 */
#ifndef RELAY_RELAY_PROBE_H
#define RELAY_RELAY_PROBE_H

struct conf;
struct secret;

enum relay_probe_result { PROBE_OK, PROBE_FAIL, PROBE_INFO };

/* One step ("dns", "tcp", "tls", "banner", "ehlo", "starttls", "auth",
 * "mail", "quit") and what happened, in one line. */
typedef void (*relay_probe_cb)(const char *step,
    enum relay_probe_result result, const char *text, void *arg);

/*
 * relay_probe: runs the session with CONF's relay, logging in with
 * SECRET (NULL: stop before AUTH, reported as a failure) and, when SENDER
 * is not NULL, asking MAIL FROM:<SENDER> (then RSET).  TIMEOUT seconds
 * per step.  Returns 0 when every step passed, -1 when one failed (the
 * session stops at the first failure).
 */
int	relay_probe(const struct conf *conf, const struct secret *secret,
	    const char *sender, int timeout, relay_probe_cb cb, void *arg);

#endif
