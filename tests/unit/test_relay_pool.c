/*
 * test_relay_pool.c — the relay's promises that need no smarthost: a
 * delivery is answered exactly once, never from inside relay_deliver(), in
 * FIFO order, with a result for every recipient; no login, no delivery.
 * The upstream is a bound but not listening port on 127.0.0.1 (connection
 * refused).  Deliveries over TLS are checked by tests/tools/relay_send.sh.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "lib/log.h"
#include "relay/relay.h"

#include "tests/unit/check_main.h"

#define MAXCALLS	16

static struct event_base	*base;
static struct conf		 conf;
static struct secret		 entry = { "*@example.org", "up@example.net",
				    "pw", 1 };
static struct secrets		 secrets = { &entry, 1 };
static int			 closed_sock = -1, msg_fd = -1;
static char			 ca_path[] = "/tmp/test_relay_pool.XXXXXX";
static char			 msg_path[] = "/tmp/test_relay_pool.XXXXXX";
static char			 port[6];

static int			 ncalls, in_deliver;
static uint64_t			 reqids[MAXCALLS];
static struct relay_rcpt_result	 results[MAXCALLS][4];
static size_t			 nrcpts[MAXCALLS];
static char			 errors[MAXCALLS][SMTP_REPLYLINE_MAX];

static void
done_cb(const struct relay_result *res, void *arg)
{
	(void)arg;
	ck_assert_msg(!in_deliver, "callback from inside relay_deliver");
	ck_assert_int_lt(ncalls, MAXCALLS);
	reqids[ncalls] = res->reqid;
	nrcpts[ncalls] = res->nrcpt;
	memcpy(results[ncalls], res->rcpt,
	    res->nrcpt * sizeof(struct relay_rcpt_result));
	snprintf(errors[ncalls], sizeof(errors[0]), "%s", res->session_error);
	ncalls++;
}

static void
setup(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	log_init(1, 0);
	base = event_base_new();
	ncalls = 0;
	/* Bound, never listening: every connect is refused. */
	closed_sock = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(closed_sock, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(closed_sock, (struct sockaddr *)&sin, &len), 0);
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));

	/* Never parsed: no handshake is reached. */
	strcpy(ca_path, "/tmp/test_relay_pool.XXXXXX");
	fd = mkstemp(ca_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "-\n", 2), 2);
	close(fd);
	strcpy(msg_path, "/tmp/test_relay_pool.XXXXXX");
	msg_fd = mkstemp(msg_path);
	ck_assert_int_ge(msg_fd, 0);
	ck_assert_int_eq(write(msg_fd, "Subject: x\r\n\r\nhi\r\n", 18), 18);

	memset(&conf, 0, sizeof(conf));
	snprintf(conf.hostname, sizeof(conf.hostname), "relay.test");
	conf.has_relay = 1;
	conf.relay.tls = RELAY_SMTPS;
	conf.relay.host = "127.0.0.1";
	memcpy(conf.relay.port, port, sizeof(port));
	conf.relay.ca_file = ca_path;
	conf.relay.max_sessions = 1;
	conf.timeouts.command = 5;
	conf.timeouts.data_block = 5;
	conf.timeouts.tls_handshake = 5;
}

static void
teardown(void)
{
	close(closed_sock);
	close(msg_fd);
	unlink(ca_path);
	unlink(msg_path);
	event_base_free(base);
}

static void
envelope_make(struct envelope *env, struct envelope_rcpt *rcpt,
    const char *from, size_t nrcpt)
{
	size_t	 i;

	memset(env, 0, sizeof(*env));
	memset(rcpt, 0, nrcpt * sizeof(*rcpt));
	snprintf(env->queue_id, sizeof(env->queue_id), "0123456789abcdef012");
	snprintf(env->reverse_path, sizeof(env->reverse_path), "%s", from);
	for (i = 0; i < nrcpt; i++)
		snprintf(rcpt[i].forward_path, sizeof(rcpt[i].forward_path),
		    "r%zu@example.com", i);
	env->rcpt = rcpt;
	env->nrcpt = nrcpt;
}

static int
deliver(struct relay *r, uint64_t reqid, const struct envelope *env)
{
	int	 rv;

	in_deliver = 1;
	rv = relay_deliver(r, reqid, msg_fd, "X: y\r\n", 6, env);
	in_deliver = 0;
	return rv;
}

START_TEST(no_login_no_delivery)
{
	struct relay		*r;
	struct envelope		 env;
	struct envelope_rcpt	 rcpt[1];

	ck_assert_ptr_nonnull(r = relay_new(base, &conf, &secrets, done_cb, NULL));
	envelope_make(&env, rcpt, "someone@other.example", 1);
	ck_assert_int_eq(deliver(r, 1, &env), -1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(ncalls, 0);
	/* The null reverse-path matches only "*". */
	envelope_make(&env, rcpt, "", 1);
	ck_assert_int_eq(deliver(r, 2, &env), -1);
	relay_free(r);
}
END_TEST

START_TEST(refused_is_temporary_and_once)
{
	struct relay		*r;
	struct envelope		 env;
	struct envelope_rcpt	 rcpt[3];

	ck_assert_ptr_nonnull(r = relay_new(base, &conf, &secrets, done_cb, NULL));
	ck_assert_int_eq(relay_has_capacity(r), 1);
	envelope_make(&env, rcpt, "a@example.org", 3);
	rcpt[1].state = RCPT_DONE;
	ck_assert_int_eq(deliver(r, 42, &env), 0);
	ck_assert_int_eq(ncalls, 0);
	ck_assert_int_eq(relay_has_capacity(r), 0);
	event_base_dispatch(base);
	ck_assert_int_eq(ncalls, 1);
	ck_assert_uint_eq(reqids[0], 42);
	ck_assert_uint_eq(nrcpts[0], 3);
	ck_assert_int_eq(results[0][0].code, 0);
	ck_assert_int_eq(results[0][1].code, 0);
	ck_assert_int_eq(results[0][2].code, 0);
	ck_assert_msg(strstr(errors[0], "Connection refused") != NULL,
	    "session_error %s", errors[0]);
	ck_assert_int_eq(relay_has_capacity(r), 1);
	relay_free(r);
}
END_TEST

START_TEST(fifo_over_capacity)
{
	struct relay		*r;
	struct envelope		 env;
	struct envelope_rcpt	 rcpt[1];
	uint64_t		 i;

	ck_assert_ptr_nonnull(r = relay_new(base, &conf, &secrets, done_cb, NULL));
	envelope_make(&env, rcpt, "b@example.org", 1);
	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(deliver(r, i, &env), 0);
	ck_assert_int_eq(ncalls, 0);
	event_base_dispatch(base);
	ck_assert_int_eq(ncalls, 5);
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(reqids[i], i + 1);
	relay_free(r);
}
END_TEST

START_TEST(nothing_pending)
{
	struct relay		*r;
	struct envelope		 env;
	struct envelope_rcpt	 rcpt[2];

	ck_assert_ptr_nonnull(r = relay_new(base, &conf, &secrets, done_cb, NULL));
	envelope_make(&env, rcpt, "c@example.org", 2);
	rcpt[0].state = RCPT_DONE;
	rcpt[1].state = RCPT_FAILED;
	ck_assert_int_eq(deliver(r, 7, &env), 0);
	ck_assert_int_eq(ncalls, 0);
	event_base_dispatch(base);
	ck_assert_int_eq(ncalls, 1);
	ck_assert_uint_eq(nrcpts[0], 2);
	ck_assert_str_eq(errors[0], "");
	relay_free(r);
}
END_TEST

START_TEST(control_character_refused)
{
	struct relay		*r;
	struct envelope		 env;
	struct envelope_rcpt	 rcpt[1];

	ck_assert_ptr_nonnull(r = relay_new(base, &conf, &secrets, done_cb, NULL));
	envelope_make(&env, rcpt, "d@example.org", 1);
	snprintf(rcpt[0].forward_path, sizeof(rcpt[0].forward_path),
	    "x@example.com>\r\nDATA");
	ck_assert_int_eq(deliver(r, 9, &env), 0);
	event_base_dispatch(base);
	ck_assert_int_eq(ncalls, 1);
	ck_assert_int_eq(results[0][0].code, 0);
	ck_assert_msg(strstr(errors[0], "control character") != NULL,
	    "session_error %s", errors[0]);
	relay_free(r);
}
END_TEST

START_TEST(free_with_work_in_flight)
{
	struct relay		*r;
	struct envelope		 env;
	struct envelope_rcpt	 rcpt[1];

	ck_assert_ptr_nonnull(r = relay_new(base, &conf, &secrets, done_cb, NULL));
	envelope_make(&env, rcpt, "e@example.org", 1);
	ck_assert_int_eq(deliver(r, 1, &env), 0);
	ck_assert_int_eq(deliver(r, 2, &env), 0);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	relay_free(r);		/* no callbacks after this, nothing leaks */
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(ncalls, 0);
}
END_TEST

START_TEST(paced_per_login)
{
	struct relay		*r;
	struct envelope		 env;
	struct envelope_rcpt	 rcpt[1];
	uint64_t		 i;

	conf.relay.max_sessions = 4;
	conf.relay.msgs_per_login.count = 2;
	conf.relay.msgs_per_login.window = 3600;
	ck_assert_ptr_nonnull(r = relay_new(base, &conf, &secrets, done_cb, NULL));
	envelope_make(&env, rcpt, "f@example.org", 1);
	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(deliver(r, i, &env), 0);
	for (i = 0; i < 50 && ncalls < 2; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(10000);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	/* The third waits for the hour to pass, and takes the capacity. */
	ck_assert_int_eq(ncalls, 2);
	ck_assert_uint_eq(reqids[0], 1);
	ck_assert_uint_eq(reqids[1], 2);
	ck_assert_int_eq(relay_has_capacity(r), 0);
	relay_free(r);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("relay_pool");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_login_no_delivery);
	tcase_add_test(tc, refused_is_temporary_and_once);
	tcase_add_test(tc, fifo_over_capacity);
	tcase_add_test(tc, nothing_pending);
	tcase_add_test(tc, control_character_refused);
	tcase_add_test(tc, free_with_work_in_flight);
	tcase_add_test(tc, paced_per_login);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
