/*
 * smtp_session.h — one client's ESMTP submission session (RFC 5321,
 * RFC 6409, RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 2920 PIPELINING,
 * RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 2034 ENHANCEDSTATUSCODES).
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_SMTP_SESSION_H
#define SMTPD_SMTP_SESSION_H

#include <sys/queue.h>
#include <sys/socket.h>

#include "auth/auth.h"
#include "auth/policy.h"
#include "conf/conf.h"
#include "queue/queue.h"

struct event_base;
struct queue;
struct tls;
struct smtp_session;

/*
 * The end of a commit, as the session sees it: queue_commit_cb's, plus
 * TEXT, the content filter's words for QUEUE_ERR_REJECTED and
 * QUEUE_ERR_POLICY (printable ASCII, maybe "").
 */
typedef void (*smtp_commit_cb)(void *arg, enum queue_status status,
    const char *queue_id, const char *text);

/*
 * How sessions reach the auth and queue services: in the daemon these
 * travel over IPC to other processes (role_smtp.c); they may also be
 * called directly.  Same contracts as auth_login() and queue_message_*():
 * callbacks run later, never inside the call, exactly once.
 */
struct smtp_services {
	/* SOCK: the client's socket (the auth role reads its address). */
	int	(*auth_login)(void *svc, const char *user, const char *password,
		    const struct sockaddr *peer, int sock, auth_login_cb,
		    void *arg);
	void	(*queue_open)(void *svc, queue_open_cb, void *arg);
	/* GRANT: the one the auth role made at login (issue 12). */
	void	(*queue_commit)(void *svc, uint64_t grant, const char *queue_id,
		    const struct envelope *, const struct queue_sign_input *,
		    smtp_commit_cb, void *arg);
	void	(*queue_abort)(void *svc, const char *queue_id);
	/*
	 * Access policy (issue 5); NULL: no policy, everything allowed.
	 * policy_connect: may PEER connect?  policy_mail: may USER send a
	 * message (of SIZE octets, MAIL SIZE=, 0 if none) now?
	 * The charge of an accepted message is the queue's and the auth
	 * role's business (issue 12), not the session's; session_end lets
	 * them forget GRANT (0: none) at once rather than when it expires.
	 */
	void	(*policy_connect)(void *svc, const struct sockaddr *peer,
		    int sock, policy_cb, void *arg);
	void	(*policy_mail)(void *svc, const char *user, uint64_t grant,
		    uint64_t size, policy_cb, void *arg);
	void	(*session_end)(void *svc, uint64_t grant);
	/*
	 * cancel: the session ARG will not wait for what it asked (issue 12
	 * item 2): its callbacks are not called; may be NULL.
	 */
	void	(*cancel)(void *svc, void *arg);
	void	*svc;
};

/* What every session of the smtp role shares. */
struct smtp_ctx {
	struct event_base	*base;
	const struct conf	*conf;
	const struct smtp_services *services;
	size_t			 nsessions;	/* open now */
	TAILQ_HEAD(, smtp_session) sessions;
	int			 need_bh_relaxed;	/* some DKIM key wants it */
	int			 need_bh_simple;
	struct event		*ev_trim;	/* smtp_memory_settle's */
	/* TLS handshakes: in flight, ended so far, and those waiting to begin */
	size_t			 handshakes;
	uint64_t		 handshakes_ended;
	uint64_t		 handshakes_seen;	/* at the last stall check */
	TAILQ_HEAD(, smtp_session) handshake_queue;
	struct event		*ev_handshake;	/* the stall check */
};

/*
 * smtp_session_start: takes over the accepted, non-blocking socket FD from
 * PEER on a listener of kind TLSMODE whose TLS server context is TLS, and
 * starts the dialogue (TLS handshake first on a "tls" listener, banner
 * first on a "starttls" one).  Returns 0, or -1 when out of memory (FD is
 * then closed).
 */
int	smtp_session_start(struct smtp_ctx *, int fd, const struct sockaddr *peer,
	    socklen_t peerlen, enum listen_tls tlsmode, struct tls *tls);

/*
 * smtp_sessions_shutdown: the daemon is stopping.  Sessions that are not
 * receiving or committing a message get "421 4.3.2" and are closed; with
 * FORCE, every session is closed at once.
 */
void	smtp_sessions_shutdown(struct smtp_ctx *, int force);

/*
 * smtp_sessions_smtputf8: whether EHLO offers SMTPUTF8 (RFC 6531) and
 * MAIL takes it: ON while the smarthost's last EHLO offered it.
 */
void	smtp_sessions_smtputf8(int on);

#endif
