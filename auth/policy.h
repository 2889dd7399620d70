/*
 * policy.h — who may connect and how much a user may send: the "allow
 * from" list, the connection rate per address, the message, recipient and
 * byte quotas per user (submitd.conf "limit", users file messages=,
 * recipients= and bytes=), answered by the auth role.  Counters live in
 * auth/store.h; failed logins and lockouts in auth/lockout.h; addresses,
 * sizes, windows and waits as text in auth/policy_text.h.  Replies are
 * whole SMTP reply lines (RFC 5321 4.2, RFC 3463 codes) for the smtp role
 * to send.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_POLICY_H
#define AUTH_POLICY_H

#include <sys/socket.h>
#include <stdint.h>

#include "auth/window.h"

struct conf;
struct users;

enum policy_verdict {
	POLICY_OK = 0,		/* go on */
	POLICY_TEMP,		/* 421 / 451: over a rate, try later */
	POLICY_DENY,		/* 554 5.7.1: not allowed here, close */
};

#define POLICY_REPLY_MAX	200
#define POLICY_RCPT_UNLIMITED	UINT32_MAX

/* The answer to a check; also the IPC_POLICY_RESULT payload. */
struct policy_result {
	int32_t		 verdict;			/* enum policy_verdict */
	uint32_t	 rcpt_left;	/* recipients the quota allows now */
	char		 reply[POLICY_REPLY_MAX];	/* "" when POLICY_OK */
	char		 rcpt_reply[POLICY_REPLY_MAX];	/* when rcpt_left is used up */
};

typedef void (*policy_cb)(void *arg, const struct policy_result *);

/* policy_init: the rules of CONF and the overrides of USERS (both kept). */
void	policy_init(const struct conf *, const struct users *);

/*
 * policy_connect: may PEER connect now (allowlist, lockout, connection
 * rate)?  A connection that may is counted.  Answers through CB, maybe
 * before it returns (auth/state.h).
 */
void	policy_connect(const struct sockaddr *peer, policy_cb cb, void *arg);
/*
 * policy_mail: may USER start a message now (message quota), of SIZE
 * octets (MAIL SIZE=, RFC 1870; 0 if not declared) under the byte quota?
 * 451 4.7.1 when a quota is used up, 452 4.7.1 when SIZE is more than the
 * byte quota leaves.  Also says how many recipients the recipient quota
 * leaves.  Answers through CB, maybe before it returns.  When the store
 * is down, the fail mode of submitd.conf "state" applies (451 4.3.0 when
 * closed).
 */
void	policy_mail(const char *user, uint64_t size, policy_cb cb, void *arg);
/*
 * Issue 12, quotas held exactly under parallel sessions: each session's
 * grant (auth/grant.h) holds what it reserved; the quota counts it at
 * once (STATE_TAKE), so the others see it.
 * policy_mail_reserve: policy_mail for the user of GRANT (whatever user
 * the smtp role named); on POLICY_OK the grant holds the message.
 * policy_commit_reserve: asked by the queue before a commit, for the
 * actual NRCPT and SIZE: the message (unless held), the byte quota not
 * used up, the recipients taken.
 * policy_commit_settle: the commit is done: CHARGE 1 keeps what was
 * taken and counts the octets; 0 gives it back.
 * policy_grant_end: the session is over: what it holds goes back, the
 * grant is forgotten.  The first two return -1 (CB not called) when GRANT
 * is not live.
 */
int	policy_mail_reserve(uint64_t grant, uint64_t size, policy_cb cb,
	    void *arg);
int	policy_commit_reserve(uint64_t grant, uint64_t nrcpt, uint64_t size,
	    policy_cb cb, void *arg);
void	policy_commit_settle(uint64_t grant, int charge);
void	policy_grant_end(uint64_t grant);
/*
 * policy_charge: USER's message with NRCPT recipients and SIZE octets was
 * accepted.
 */
void	policy_charge(const char *user, uint64_t nrcpt, uint64_t size);

/*
 * policy_user_rates: the message, recipient and byte (count in octets)
 * limits that apply to USER.
 */
void	policy_user_rates(const char *user, struct window_rate *messages,
	    struct window_rate *recipients, struct window_rate *bytes);

/* policy_users: the users table given to policy_init (may be NULL). */
const struct users *policy_users(void);

#endif
