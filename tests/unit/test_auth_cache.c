/* test_auth_cache.c — the memory of successful logins: only the same
 * login, password and stored hash hit, and only for AUTH_CACHE_TTL. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_cache.h"

#include "tests/unit/check_main.h"

static const char *H1 = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
static const char *H2 = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$b3RoZXI";

START_TEST(hit_only_the_same_triple)
{
	unsigned char	 d[AUTH_CACHE_DIGEST], o[AUTH_CACHE_DIGEST];

	ck_assert_int_eq(auth_cache_init(), 0);
	auth_cache_digest("alice", "secret", 6, H1, d);
	ck_assert_int_eq(auth_cache_hit(d, 1000), 0);	/* nothing stored yet */
	auth_cache_store(d, 1000);
	ck_assert_int_eq(auth_cache_hit(d, 1000), 1);
	ck_assert_int_eq(auth_cache_hit(d, 1000 + AUTH_CACHE_TTL - 1), 1);
	ck_assert_int_eq(auth_cache_hit(d, 1000 + AUTH_CACHE_TTL), 0);
	ck_assert_int_eq(auth_cache_hit(d, 999), 0);	/* clock went back */
	/* another password, user or hash never hits */
	auth_cache_digest("alice", "secreT", 6, H1, o);
	ck_assert_int_eq(auth_cache_hit(o, 1000), 0);
	auth_cache_digest("alice", "secret", 5, H1, o);
	ck_assert_int_eq(auth_cache_hit(o, 1000), 0);
	auth_cache_digest("alicE", "secret", 6, H1, o);
	ck_assert_int_eq(auth_cache_hit(o, 1000), 0);
	auth_cache_digest("alice", "secret", 6, H2, o);
	ck_assert_int_eq(auth_cache_hit(o, 1000), 0);
	/* separators: ("alic", "esecret") is not ("alice", "secret") */
	auth_cache_digest("alic", "esecret", 7, H1, o);
	ck_assert_mem_ne(o, d, AUTH_CACHE_DIGEST);
	auth_cache_clear();
	ck_assert_int_eq(auth_cache_hit(d, 1000), 0);
}
END_TEST

START_TEST(new_key_each_start)
{
	unsigned char	 a[AUTH_CACHE_DIGEST], b[AUTH_CACHE_DIGEST];

	auth_cache_init();
	auth_cache_digest("alice", "secret", 6, H1, a);
	auth_cache_init();
	auth_cache_digest("alice", "secret", 6, H1, b);
	ck_assert_mem_ne(a, b, AUTH_CACHE_DIGEST);
	/* and the digest is not a plain hash of the password */
	crypto_generichash(b, sizeof(b), (const unsigned char *)"secret", 6,
	    NULL, 0);
	ck_assert_mem_ne(a, b, AUTH_CACHE_DIGEST);
}
END_TEST

static Suite *
auth_cache_suite(void)
{
	Suite	*s = suite_create("auth_cache");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, hit_only_the_same_triple);
	tcase_add_test(tc, new_key_each_start);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return check_run(auth_cache_suite());
}
