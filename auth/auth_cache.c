/* auth_cache.c — remembered successful logins; see auth_cache.h. */
#include <string.h>

#include <sodium.h>

#include "auth/auth_cache.h"

#define AUTH_CACHE_SLOTS	4096	/* power of two; a collision evicts */

struct auth_cache_slot {
	unsigned char	 digest[AUTH_CACHE_DIGEST];
	time_t		 stored;	/* 0: empty */
};

static unsigned char		 cache_key[crypto_generichash_KEYBYTES];
static struct auth_cache_slot	 cache[AUTH_CACHE_SLOTS];

int
auth_cache_init(void)
{
	crypto_generichash_keygen(cache_key);
	memset(cache, 0, sizeof(cache));
	return 0;
}

void
auth_cache_clear(void)
{
	sodium_memzero(cache, sizeof(cache));
}

void
auth_cache_digest(const char *user, const char *password, size_t passlen,
    const char *hash, unsigned char out[AUTH_CACHE_DIGEST])
{
	crypto_generichash_state st;

	/* NUL separators: ("ab","c") and ("a","bc") differ. */
	crypto_generichash_init(&st, cache_key, sizeof(cache_key),
	    AUTH_CACHE_DIGEST);
	crypto_generichash_update(&st, (const unsigned char *)user,
	    strlen(user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)password, passlen);
	crypto_generichash_update(&st, (const unsigned char *)"", 1);
	crypto_generichash_update(&st, (const unsigned char *)hash,
	    strlen(hash) + 1);
	crypto_generichash_final(&st, out, AUTH_CACHE_DIGEST);
	sodium_memzero(&st, sizeof(st));
}

static struct auth_cache_slot *
slot_of(const unsigned char digest[AUTH_CACHE_DIGEST])
{
	unsigned	 i = (unsigned)digest[0] | (unsigned)digest[1] << 8;

	return &cache[i & (AUTH_CACHE_SLOTS - 1)];
}

int
auth_cache_hit(const unsigned char digest[AUTH_CACHE_DIGEST], time_t now)
{
	struct auth_cache_slot	*s = slot_of(digest);

	if (s->stored == 0 || now < s->stored ||
	    now - s->stored >= AUTH_CACHE_TTL)
		return 0;
	return sodium_memcmp(s->digest, digest, AUTH_CACHE_DIGEST) == 0;
}

void
auth_cache_store(const unsigned char digest[AUTH_CACHE_DIGEST], time_t now)
{
	struct auth_cache_slot	*s = slot_of(digest);

	memcpy(s->digest, digest, AUTH_CACHE_DIGEST);
	s->stored = now;
}
