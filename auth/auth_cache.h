/*
 * auth_cache.h — a short-lived memory of successful password checks, so
 * that Argon2id (slow on purpose, ~100 ms and 64 MiB) is paid once per
 * login and password every few minutes instead of on every connection
 * (DESIGN.md, performance).  What is kept is a keyed BLAKE2b digest of
 * the login, the password and the stored hash, under a random key made at
 * start: never the password.  A changed hash in the users file no longer
 * matches.  Only successes are remembered: a wrong password always costs
 * a full verification.  Auth role only, event loop thread only.
 *
 * auth/: users, logins and the access policy.  Knows nothing of SMTP
 * sessions, IPC, the queue, the relay or the roles: they ask it.
 */
#ifndef AUTH_AUTH_CACHE_H
#define AUTH_AUTH_CACHE_H

#include <stddef.h>
#include <time.h>

#define AUTH_CACHE_DIGEST	32	/* octets */
#define AUTH_CACHE_TTL		300	/* seconds a success is remembered */

/* auth_cache_init: a fresh random key, an empty cache.  -1 on error. */
int	auth_cache_init(void);
/* auth_cache_clear: forget everything (users file reloaded, shutdown). */
void	auth_cache_clear(void);

/* auth_cache_digest: the digest of USER, PASSWORD (PASSLEN octets), HASH. */
void	auth_cache_digest(const char *user, const char *password, size_t passlen,
	    const char *hash, unsigned char out[AUTH_CACHE_DIGEST]);
/* auth_cache_hit: 1 when DIGEST was stored less than AUTH_CACHE_TTL s before NOW. */
int	auth_cache_hit(const unsigned char digest[AUTH_CACHE_DIGEST], time_t now);
/* auth_cache_store: remember a successful check of DIGEST at NOW. */
void	auth_cache_store(const unsigned char digest[AUTH_CACHE_DIGEST], time_t now);

#endif
