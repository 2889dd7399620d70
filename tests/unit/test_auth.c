/*
 * test_auth.c — login checks (auth/auth.h): identical logins in flight
 * share one Argon2id verification, and each is still answered, counted and
 * locked out as if verified alone (issue 18).
 *
 * Every auth_login of a test is made before the event loop runs: the
 * lockout check (the LMDB state) answers at once, so all of them are past
 * it, and none has its result yet, when the first verification is queued.
 * The sharing is then exact, whatever the machine's load.
 */
#include <check.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>

#include "auth/auth.h"
#include "auth/auth_metrics.h"
#include "auth/state.h"
#include "auth/users.h"
#include "conf/conf.h"

#include "tests/unit/check_main.h"

#define N		20
#define PASSWORD	"right horse battery"

static char			 dir[64];
static char			 users_path[512];
static struct event_base	*base;
static struct conf		*conf;
static char			 hash[crypto_pwhash_STRBYTES];

static struct answer {
	int	 called;
	int	 ok;
	char	 user[AUTH_USER_MAX + 1];
} answers[2 * N + 2];
static int	 pending;

static void
answered(void *arg, const struct auth_reply *r)
{
	struct answer	*a = arg;

	a->called++;
	a->ok = r->ok;
	snprintf(a->user, sizeof(a->user), "%s", r->user);
	if (--pending == 0)
		event_base_loopbreak(base);
}

static struct users *
users_write(void)
{
	struct users	*u;
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(users_path, "w"));
	fprintf(f, "alice@example.org:%s:alice@example.org\n", hash);
	/* an application account, only from 10.0.0.0/8 */
	fprintf(f, "app@example.org:%s:app@example.org:from=10.0.0.0/8\n",
	    hash);
	fclose(f);
	ck_assert_ptr_nonnull(u = users_load(users_path, stderr));
	return u;
}

/* LIMIT: limit auth-failures (per 15m), 0: off. */
static void
start(unsigned limit)
{
	char	 path[600];
	FILE	*f;

	ck_assert_int_eq(sodium_init() >= 0, 1);
	snprintf(dir, sizeof(dir), "/tmp/test_auth.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(users_path, sizeof(users_path), "%s/users", dir);
	/* cheap on purpose: the cost is what the test is not about */
	ck_assert_int_eq(crypto_pwhash_str_alg(hash, PASSWORD,
	    strlen(PASSWORD), 1, 8UL * 1024 * 1024,
	    crypto_pwhash_ALG_ARGON2ID13), 0);
	snprintf(path, sizeof(path), "%s/submitd.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "pki p cert \"/c.pem\" key \"/k.pem\"\n"
	    "listen on 127.0.0.1 port 2587 starttls pki p\n"
	    "allow from 0.0.0.0/0\n"
	    "users \"%s\"\n"
	    "relay smtps://relay.example.org:465 secrets \"/s\"\n"
	    "state \"%s\"\n"
	    "limit auth-failures %u per 15m per ip\n"
	    "limit auth-delay off\n", users_path, dir, limit);
	fclose(f);
	ck_assert_ptr_nonnull(conf = conf_load(path, stderr));
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_int_eq(state_open(conf, base), 0);
	ck_assert_int_eq(auth_init(base, conf, users_write()), 0);
	memset(answers, 0, sizeof(answers));
	pending = 0;
}

static void
stop(void)
{
	char	 cmd[600];

	auth_shutdown();
	state_close();
	event_base_free(base);
	conf_free(conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
login(struct answer *a, const char *user, const char *password,
    const char *ip)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	pending++;
	ck_assert_int_eq(auth_login(user, password, (struct sockaddr *)&sin,
	    answered, a), 0);
}

/* Runs the loop until every login made so far is answered. */
static void
answer_all(void)
{
	if (pending > 0)
		ck_assert_int_eq(event_base_dispatch(base), 0);
	ck_assert_int_eq(pending, 0);
}

/* The value of the counter NAME (no labels) or sample NAME{...}. */
static unsigned long long
metric(const char *name)
{
	struct evbuffer	*out = evbuffer_new();
	char		*text, *p, want[200];
	unsigned long long v = ~0ULL;

	auth_metrics_print(out);
	evbuffer_add(out, "", 1);
	text = (char *)evbuffer_pullup(out, -1);
	snprintf(want, sizeof(want), "\n%s ", name);
	if ((p = strstr(text, want)) != NULL)
		v = strtoull(p + strlen(want), NULL, 10);
	evbuffer_free(out);
	ck_assert_msg(v != ~0ULL, "no %s", name);
	return v;
}

START_TEST(right_password_one_verification)
{
	int	 i;

	start(0);
	for (i = 0; i < N; i++)
		login(&answers[i], "alice@example.org", PASSWORD, "192.0.2.1");
	answer_all();
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(answers[i].called, 1);
		ck_assert_int_eq(answers[i].ok, 1);
		ck_assert_str_eq(answers[i].user, "alice@example.org");
	}
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 1);
	ck_assert_uint_eq(metric("submitd_auth_total{result=\"ok\"}"), N);
	/* then the cache: no verification at all */
	login(&answers[N], "alice@example.org", PASSWORD, "192.0.2.1");
	answer_all();
	ck_assert_int_eq(answers[N].ok, 1);
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 1);
	stop();
}
END_TEST

START_TEST(wrong_password_each_failure_counted)
{
	int	 i;

	start(N);	/* locked out at the Nth failure, not before */
	for (i = 0; i < N; i++)
		login(&answers[i], "alice@example.org", "wrong", "192.0.2.1");
	answer_all();
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(answers[i].called, 1);
		ck_assert_int_eq(answers[i].ok, 0);
	}
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 1);
	ck_assert_uint_eq(metric("submitd_auth_total{result=\"bad-password\"}"),
	    N);
	ck_assert_uint_eq(metric("submitd_lockouts_total"), 1);
	/* every follower's failure counted: now locked, even the right one */
	login(&answers[N], "alice@example.org", PASSWORD, "192.0.2.1");
	answer_all();
	ck_assert_int_eq(answers[N].ok, AUTH_LOCKED);
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 1);
	stop();
}
END_TEST

START_TEST(unknown_user_shares_alike)
{
	int	 i;

	start(0);
	for (i = 0; i < N; i++)
		login(&answers[i], "nobody@example.org", PASSWORD, "192.0.2.1");
	answer_all();
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(answers[i].called, 1);
		ck_assert_int_eq(answers[i].ok, 0);
	}
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 1);
	ck_assert_uint_eq(metric("submitd_auth_total{result=\"unknown-user\"}"),
	    N);
	stop();
}
END_TEST

/*
 * The leader's own precheck (its address) is not its followers': a leader
 * refused by from= still gives the right password's verdict to those
 * inside the range, and the other way round.
 */
START_TEST(precheck_is_each_ones_own)
{
	int	 i;

	start(0);
	for (i = 0; i < N; i++)
		login(&answers[i], "app@example.org", PASSWORD,
		    i % 2 == 0 ? "192.0.2.1" : "10.1.2.3");
	answer_all();
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(answers[i].called, 1);
		ck_assert_int_eq(answers[i].ok, i % 2 == 0 ? 0 : 1);
	}
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 1);
	ck_assert_uint_eq(metric("submitd_auth_total{result=\"ok\"}"), N / 2);
	ck_assert_uint_eq(metric("submitd_auth_total{result=\"from-refused\"}"),
	    N / 2);
	stop();
}
END_TEST

/* Only the very same login, password and hash share. */
START_TEST(different_logins_do_not_share)
{
	start(0);
	login(&answers[0], "alice@example.org", PASSWORD, "192.0.2.1");
	login(&answers[1], "alice@example.org", PASSWORD "x", "192.0.2.1");
	login(&answers[2], "app@example.org", PASSWORD, "10.1.2.3");
	login(&answers[3], "alice@example.org", PASSWORD, "192.0.2.2");
	answer_all();
	ck_assert_int_eq(answers[0].ok, 1);
	ck_assert_int_eq(answers[1].ok, 0);
	ck_assert_int_eq(answers[2].ok, 1);
	ck_assert_int_eq(answers[3].ok, 1);
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 3);
	stop();
}
END_TEST

/*
 * A reload while logins wait: those waiting are answered with their
 * leader; a login after the reload starts its own verification.
 */
START_TEST(reload_keeps_the_waiting)
{
	int	 i;

	start(0);
	for (i = 0; i < N; i++)
		login(&answers[i], "alice@example.org", PASSWORD, "192.0.2.1");
	auth_reload(conf, users_write());
	for (i = N; i < 2 * N; i++)
		login(&answers[i], "alice@example.org", PASSWORD, "192.0.2.1");
	answer_all();
	for (i = 0; i < 2 * N; i++) {
		ck_assert_int_eq(answers[i].called, 1);
		ck_assert_int_eq(answers[i].ok, 1);
	}
	ck_assert_uint_eq(metric("submitd_auth_verifications_total"), 2);
	stop();
}
END_TEST

/* Stopping with logins waiting drops them (no answer), frees them. */
START_TEST(shutdown_frees_the_waiting)
{
	int	 i;

	start(0);
	for (i = 0; i < N; i++)
		login(&answers[i], "alice@example.org", PASSWORD, "192.0.2.1");
	stop();
	for (i = 0; i < N; i++)
		ck_assert_int_eq(answers[i].called, 0);
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite	*s = suite_create("auth");
	TCase	*tc = tcase_create("share");

	tcase_set_timeout(tc, 600);	/* Argon2id on a loaded machine */
	tcase_add_test(tc, right_password_one_verification);
	tcase_add_test(tc, wrong_password_each_failure_counted);
	tcase_add_test(tc, unknown_user_shares_alike);
	tcase_add_test(tc, precheck_is_each_ones_own);
	tcase_add_test(tc, different_logins_do_not_share);
	tcase_add_test(tc, reload_keeps_the_waiting);
	tcase_add_test(tc, shutdown_frees_the_waiting);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(auth_suite());
}
