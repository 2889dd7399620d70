/*
 * state_redis_tls.h — TLS to Redis for auth/state_redis.c ("state redis
 * rediss://ADDR ca FILE").  Debian 12's hiredis 0.14 speaks no TLS and its
 * asynchronous context connects only sockets of its own, so this is a
 * small asynchronous client over libevent's OpenSSL bufferevent that is
 * built of hiredis's own protocol code: redisFormatCommandArgv writes each
 * command, a redisReader parses the answers, which Redis sends in order
 * (a first-in first-out list of callbacks; no pub/sub).  No TLS and no
 * RESP code of ours: certificate checks are OpenSSL's (chain to the CA
 * file, the URL's address in the certificate).  Called only by
 * auth/state_redis.c.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_STATE_REDIS_TLS_H
#define AUTH_STATE_REDIS_TLS_H

#include <stddef.h>

struct event_base;
struct rtls;

/* An answer, or NULL when the connection went before it came. */
typedef void (*rtls_reply_fn)(void *priv, void *reply);
/* The connection is unusable (WHY says so): call rtls_free. */
typedef void (*rtls_down_fn)(const char *why);

/*
 * rtls_init: the TLS settings, CA FILE loaded (before the role's chroot:
 * nothing is read later).  -1 on error (logged).
 */
int	rtls_init(const char *cafile);
void	rtls_fini(void);

/*
 * rtls_connect: starts the TCP connect and handshake to HOST (numeric)
 * PORT on BASE; commands may be queued at once.  NULL on error (WHY set).
 */
struct rtls *rtls_connect(struct event_base *base, const char *host,
	    const char *port, rtls_down_fn down, const char **why);
/* rtls_command: sends one command; FN(PRIV, reply) later.  0 or -1. */
int	rtls_command(struct rtls *, rtls_reply_fn fn, void *priv, int argc,
	    const char **argv, const size_t *argvlen);
/* rtls_free: closes; every answer still due is called with NULL. */
void	rtls_free(struct rtls *);

#endif
