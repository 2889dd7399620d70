/* test_conf.c — submitd.conf parsing, CIDR, sizes and durations. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

#include "tests/unit/check_main.h"

static char	 path[64];
static char	*errtext;

/* Writes LEN octets of TEXT to a new temporary file named in path. */
static void
write_tmp(const char *text, size_t len)
{
	int	 fd;

	snprintf(path, sizeof(path), "/tmp/test_conf.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Loads LEN octets of TEXT; the errors are left in errtext. */
static struct conf *
load_len(const char *text, size_t len)
{
	struct conf	*c;
	FILE		*errf;
	size_t		 errlen;

	write_tmp(text, len);
	free(errtext);
	errtext = NULL;
	errf = open_memstream(&errtext, &errlen);
	ck_assert_ptr_nonnull(errf);
	c = conf_load(path, errf);
	fclose(errf);
	unlink(path);
	return c;
}

static struct conf *
load(const char *text)
{
	return load_len(text, strlen(text));
}

/* Asserts that errtext holds "PATH:LINE: MSG". */
static void
assert_err(int line, const char *msg)
{
	char	 want[512];

	snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
	ck_assert_msg(strstr(errtext, want) != NULL,
	    "wanted '%s' in '%s'", want, errtext);
}

/* Asserts that errtext holds "PATH: MSG" (about the file as a whole). */
static void
assert_err_file(const char *msg)
{
	char	 want[512];

	snprintf(want, sizeof(want), "%s: %s", path, msg);
	ck_assert_msg(strstr(errtext, want) != NULL,
	    "wanted '%s' in '%s'", want, errtext);
}

/* Five good lines; tests put one more at line 6. */
#define BASE \
	"pki p cert \"/c.pem\" key \"/k.pem\"\n" \
	"listen on 127.0.0.1 port 2587 starttls pki p\n" \
	"allow from 127.0.0.0/8\n" \
	"users \"/etc/submitd/users\"\n" \
	"relay smtps://ssl0.ovh.net:465 secrets \"/etc/submitd/s\"\n"

static const char design_example[] =
    "# from DESIGN.md\n"
    "hostname relay.example.org\n"
    "queue \"/var/spool/submitd\" lifetime 5d\n"
    "pki relay.example.org cert \"/etc/submitd/tls/fullchain.pem\" key "
    "\"/etc/submitd/tls/privkey.pem\"\n"
    "\n"
    "listen on 0.0.0.0 port 587 starttls pki relay.example.org\n"
    "listen on ::      port 465 tls      pki relay.example.org\n"
    "allow from 192.0.2.0/24\n"
    "allow from 2001:db8::/32\n"
    "users \"/etc/submitd/users\"\n"
    "limit message-size 25M\n"
    "limit recipients 100 per message\n"
    "limit messages 200 per hour per user\n"
    "limit recipients 2000 per day per user\n"
    "limit bytes 50M per day per user\n"
    "limit connections 30 per minute per ip\n"
    "limit auth-failures 5 per 15m per ip\n"
    "dkim domain example.org selector s2026r rsa     key "
    "\"/etc/submitd/dkim/example.org.s2026r.key\"\n"
    "dkim domain Example.ORG selector s2026e ed25519 key "
    "\"/etc/submitd/dkim/example.org.s2026e.key\" canonicalization simple\n"
    "relay smtps://ssl0.ovh.net:465 secrets \"/etc/submitd/upstream.secrets\"\n"
    "relay ca \"/etc/ssl/certs/ca-certificates.crt\"\n"
    "relay limit messages 190 per hour     # per upstream login\n"
    "relay limit sessions 8\n"
    "timeout command 5m\n"
    "timeout data 2m\n"
    "timeout tls-handshake 30s\n"
    "timeout command-line 1m\n"
    "timeout data-phase 20m\n"
    "timeout session 2h\n"
    "tls protocols \"tlsv1.3\" ciphers \"ECDHE+AESGCM\"\n"
    "user _mail\n";

START_TEST(test_design_example)
{
	struct conf			*c = load(design_example);
	const struct sockaddr_in6	*sin6;
	const struct sockaddr_in	*sin;

	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_str_eq(errtext, "");
	ck_assert_str_eq(c->hostname, "relay.example.org");
	ck_assert_str_eq(c->user, "_mail");
	ck_assert_str_eq(c->queue_dir, "/var/spool/submitd");
	ck_assert_int_eq(c->queue_lifetime, 5 * 86400);
	ck_assert_int_eq(c->npki, 1);
	ck_assert_str_eq(c->pki[0].cert_file, "/etc/submitd/tls/fullchain.pem");
	ck_assert_str_eq(c->pki[0].key_file, "/etc/submitd/tls/privkey.pem");
	ck_assert_int_eq(c->nlisten, 2);
	sin = (const void *)&c->listen[0].ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_int_eq(ntohs(sin->sin_port), 587);
	ck_assert_int_eq(c->listen[0].tls, LISTEN_STARTTLS);
	ck_assert_ptr_eq(c->listen[0].pki, &c->pki[0]);
	ck_assert_int_eq(c->listen[0].line, 6);
	sin6 = (const void *)&c->listen[1].ss;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_int_eq(ntohs(sin6->sin6_port), 465);
	ck_assert_int_eq(c->listen[1].sslen, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(c->listen[1].tls, LISTEN_TLS);
	ck_assert_int_eq(c->nallow, 2);
	ck_assert_int_eq(c->allow[1].family, AF_INET6);
	ck_assert_int_eq(c->allow[1].prefixlen, 32);
	ck_assert_str_eq(c->users_file, "/etc/submitd/users");
	ck_assert_uint_eq(c->max_message_size, 25 * 1024 * 1024);
	ck_assert_uint_eq(c->max_rcpt_per_msg, 100);
	ck_assert_uint_eq(c->user_messages.count, 200);
	ck_assert_int_eq(c->user_messages.window, 3600);
	ck_assert_uint_eq(c->user_recipients.count, 2000);
	ck_assert_int_eq(c->user_recipients.window, 86400);
	ck_assert_uint_eq(c->user_bytes.count, 50 * 1024 * 1024);
	ck_assert_int_eq(c->user_bytes.window, 86400);
	ck_assert_uint_eq(c->ip_connections.count, 30);
	ck_assert_int_eq(c->ip_connections.window, 60);
	ck_assert_uint_eq(c->ip_auth_failures.count, 5);
	ck_assert_int_eq(c->ip_auth_failures.window, 900);
	ck_assert_int_eq(c->ndkim, 2);
	ck_assert_int_eq(c->dkim[0].alg, DKIM_ALG_RSA_SHA256);
	ck_assert_int_eq(c->dkim[0].canon_simple, 0);
	ck_assert_str_eq(c->dkim[1].domain, "example.org");
	ck_assert_str_eq(c->dkim[1].selector, "s2026e");
	ck_assert_int_eq(c->dkim[1].alg, DKIM_ALG_ED25519_SHA256);
	ck_assert_int_eq(c->dkim[1].canon_simple, 1);
	ck_assert_int_eq(c->has_relay, 1);
	ck_assert_int_eq(c->relay.tls, RELAY_SMTPS);
	ck_assert_str_eq(c->relay.host, "ssl0.ovh.net");
	ck_assert_str_eq(c->relay.port, "465");
	ck_assert_str_eq(c->relay.secrets_file,
	    "/etc/submitd/upstream.secrets");
	ck_assert_str_eq(c->relay.ca_file,
	    "/etc/ssl/certs/ca-certificates.crt");
	ck_assert_uint_eq(c->relay.msgs_per_login.count, 190);
	ck_assert_int_eq(c->relay.msgs_per_login.window, 3600);
	ck_assert_uint_eq(c->relay.max_sessions, 8);
	ck_assert_int_eq(c->timeouts.command, 300);
	ck_assert_int_eq(c->timeouts.data_block, 120);
	ck_assert_int_eq(c->timeouts.tls_handshake, 30);
	ck_assert_int_eq(c->timeouts.command_line, 60);
	ck_assert_int_eq(c->timeouts.data_phase, 1200);
	ck_assert_int_eq(c->timeouts.session, 7200);
	ck_assert_str_eq(c->tls_protocols, "tlsv1.3");
	ck_assert_str_eq(c->tls_ciphers, "ECDHE+AESGCM");
	conf_free(c);
}
END_TEST

START_TEST(test_defaults)
{
	struct conf	*c = load(
	    "listen on ::1 port 2465 tls pki later\n"
	    "users \"/u\"\n"
	    "relay smtp+tls://mail.example.net secrets /s\n"
	    "pki later cert /c key /k   # declared after its use\n");
	char		 host[SMTP_DOMAIN_MAX + 1];

	ck_assert_msg(c != NULL, "errors: %s", errtext);
	assert_err_file("warning: no 'allow from': every address may connect");
	ck_assert_ptr_eq(c->listen[0].pki, &c->pki[0]);
	if (gethostname(host, sizeof(host)) == 0)
		ck_assert_str_eq(c->hostname, host);
	ck_assert_str_eq(c->user, "_submitd");
	ck_assert_str_eq(c->queue_dir, "/var/spool/submitd");
	ck_assert_int_eq(c->queue_lifetime, 5 * 86400);
	ck_assert_int_eq(c->queue_retry_min, 300);
	ck_assert_int_eq(c->queue_retry_max, 4 * 3600);
	ck_assert_uint_eq(c->max_message_size, 35 * 1024 * 1024);
	ck_assert_uint_eq(c->max_rcpt_per_msg, 100);
	ck_assert_uint_eq(c->user_messages.count, 0);
	ck_assert_uint_eq(c->user_recipients.count, 0);
	ck_assert_uint_eq(c->user_bytes.count, 0);
	ck_assert_uint_eq(c->ip_connections.count, 0);
	ck_assert_uint_eq(c->ip_auth_failures.count, 5);
	ck_assert_int_eq(c->ip_auth_failures.window, 900);
	ck_assert_int_eq(c->relay.tls, RELAY_STARTTLS);
	ck_assert_str_eq(c->relay.host, "mail.example.net");
	ck_assert_str_eq(c->relay.port, "587");
	ck_assert_ptr_null(c->relay.ca_file);
	ck_assert_uint_eq(c->relay.max_sessions, 4);
	ck_assert_uint_eq(c->relay.msgs_per_login.count, 0);
	ck_assert_int_eq(c->timeouts.command, 300);
	ck_assert_int_eq(c->timeouts.data_block, 180);
	ck_assert_int_eq(c->timeouts.tls_handshake, 60);
	ck_assert_int_eq(c->timeouts.command_line, 120);
	ck_assert_int_eq(c->timeouts.data_phase, 900);
	ck_assert_int_eq(c->timeouts.session, 3600);
	ck_assert_str_eq(c->tls_protocols, "tlsv1.2,tlsv1.3");
	ck_assert_str_eq(c->tls_ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20");
	ck_assert_uint_eq(c->max_sessions, 1000);
	ck_assert_uint_eq(c->max_sessions_per_ip, 20);
	ck_assert_str_eq(c->state_dir, "/var/lib/submitd");
	conf_free(c);
}
END_TEST

/* Issue 5: "limit sessions N [per ip]" and "state DIR". */
START_TEST(test_state_redis)
{
	static const char *good[] = {
		"redis://127.0.0.1", "redis://127.0.0.1:6380/2",
		"redis://[::1]:6379/15", "redis://10.0.0.1/", "unix:/run/r.sock",
		"unix:/run/redis/redis-server.sock?db=3",
	};
	static const char *bad[] = {
		"redis://localhost:6379", "redis://127.0.0.1:0",
		"redis://127.0.0.1:65536", "redis://127.0.0.1/16",
		"redis://127.0.0.1/x", "redis://[::1", "redis://127.0.0.1:/1",
		"unix:relative.sock", "unix:/", "unix:/dir/", "unix:/s?db=99",
		"http://127.0.0.1", "redis://", "",
	};
	struct conf_redis	 r;
	struct conf		*c;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(conf_redis_parse(good[i], &r) == 0, "%s", good[i]);
		free(r.host);
		free(r.path);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(conf_redis_parse(bad[i], &r) == -1, "%s", bad[i]);
	ck_assert_int_eq(conf_redis_parse("redis://[::1]:6390/7", &r), 0);
	ck_assert_str_eq(r.host, "::1");
	ck_assert_str_eq(r.port, "6390");
	ck_assert_uint_eq(r.db, 7);
	free(r.host);
	ck_assert_int_eq(conf_redis_parse("unix:/run/r.sock?db=3", &r), 0);
	ck_assert_str_eq(r.path, "/run/r.sock");
	ck_assert_uint_eq(r.db, 3);
	free(r.path);

	c = load("listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "state redis \"redis://127.0.0.1:6379/1\" user submitd "
	    "password-file \"/etc/submitd/redis.pw\" quotas fail open "
	    "lockouts fail closed\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_ptr_nonnull(c->state_redis);
	ck_assert_str_eq(c->state_redis->user, "submitd");
	ck_assert_str_eq(c->state_redis->password_file, "/etc/submitd/redis.pw");
	ck_assert_int_eq(c->state_fail_quotas, 0);
	ck_assert_int_eq(c->state_fail_lockouts, 1);
	conf_free(c);

	c = load("listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "state redis \"redis://127.0.0.1\"\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->state_fail_quotas, 1);
	ck_assert_int_eq(c->state_fail_lockouts, 1);
	conf_free(c);

	c = load("listen on 127.0.0.1 port 2465 tls pki p proxy-from "
	    "127.0.0.1/32 proxy-from 2001:db8::/32\n"
	    "listen on 127.0.0.1 port 2587 starttls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_uint_eq(c->listen[0].nproxy_from, 2);
	ck_assert_int_eq(c->listen[0].proxy_from[1].family, AF_INET6);
	ck_assert_uint_eq(c->listen[1].nproxy_from, 0);
	conf_free(c);
	ck_assert_ptr_null(load("listen on 127.0.0.1 port 2465 tls pki p "
	    "proxy-from\n"));
	ck_assert_ptr_null(load("listen on 127.0.0.1 port 2465 tls pki p "
	    "proxy-from 300.0.0.1\n"));
	ck_assert_ptr_null(load("listen on 127.0.0.1 port 2465 tls pki p "
	    "proxy 127.0.0.1\n"));

	/* no password in the config text; a user needs its password file */
	ck_assert_ptr_null(load("state redis \"redis://127.0.0.1\" "
	    "password hunter2\n"));
	ck_assert_ptr_null(load("state redis \"redis://127.0.0.1\" "
	    "user u\n"));
	ck_assert_ptr_null(load("state redis \"redis://127.0.0.1\" "
	    "quotas fail maybe\n"));
	ck_assert_ptr_null(load("state redis \"redis://host.example\"\n"));

	/* TLS: rediss:// with its CA, and only then */
	ck_assert_int_eq(conf_redis_parse("rediss://192.0.2.1:6380/2", &r), 0);
	ck_assert_int_eq(r.tls, 1);
	ck_assert_str_eq(r.host, "192.0.2.1");
	ck_assert_str_eq(r.port, "6380");
	ck_assert_uint_eq(r.db, 2);
	free(r.host);
	ck_assert_int_eq(conf_redis_parse("redis://192.0.2.1", &r), 0);
	ck_assert_int_eq(r.tls, 0);
	free(r.host);
	ck_assert_int_eq(conf_redis_parse("redisss://192.0.2.1", &r), -1);
	ck_assert_int_eq(conf_redis_parse("rediss://localhost", &r), -1);
	c = load("listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "state redis \"rediss://127.0.0.1:6380\" ca \"/etc/submitd/ca.pem\"\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->state_redis->tls, 1);
	ck_assert_str_eq(c->state_redis->ca, "/etc/submitd/ca.pem");
	conf_free(c);
	ck_assert_ptr_null(load("state redis \"rediss://127.0.0.1\"\n"));
	ck_assert_ptr_null(load("state redis \"redis://127.0.0.1\" "
	    "ca \"/etc/submitd/ca.pem\"\n"));
	ck_assert_ptr_null(load("state redis \"rediss://127.0.0.1\" "
	    "ca \"ca.pem\"\n"));
}
END_TEST

/* Issue 12 item 3: delays, remembered addresses, IPv6 networks. */
START_TEST(test_auth_lockout_forms)
{
	struct conf		*c;
	struct sockaddr_in6	 s6;
	struct sockaddr_in	 s4;
	char			 buf[64];

	c = load("listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->auth_delay, 1);	/* on by default: 1s doubling */
	ck_assert_int_eq(c->auth_remember, 30 * 86400);
	ck_assert_uint_eq(c->ipv6_prefix, 64);
	conf_free(c);
	c = load("listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "limit auth-delay 2s\n"
	    "limit auth-remember 7d\n"
	    "limit ipv6-prefix 56\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->auth_delay, 2);
	ck_assert_int_eq(c->auth_remember, 7 * 86400);
	ck_assert_uint_eq(c->ipv6_prefix, 56);
	conf_free(c);
	c = load("listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "limit auth-delay off\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->auth_delay, 0);
	conf_free(c);
	c = load("listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "limit auth-delay 0\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->auth_delay, 0);
	conf_free(c);

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", &s6.sin6_addr);
	ck_assert_str_eq(conf_net_text((struct sockaddr *)&s6, 64, buf,
	    sizeof(buf)), "2001:db8:1:2::/64");
	ck_assert_str_eq(conf_net_text((struct sockaddr *)&s6, 56, buf,
	    sizeof(buf)), "2001:db8:1::/56");
	ck_assert_str_eq(conf_net_text((struct sockaddr *)&s6, 128, buf,
	    sizeof(buf)), "2001:db8:1:2:3:4:5:6");
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	ck_assert_str_eq(conf_net_text((struct sockaddr *)&s6, 64, buf,
	    sizeof(buf)), "192.0.2.7");
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.9", &s4.sin_addr);
	ck_assert_str_eq(conf_net_text((struct sockaddr *)&s4, 64, buf,
	    sizeof(buf)), "192.0.2.9");
	ck_assert_str_eq(conf_net_text_of("2001:db8:1:2::99", 64, buf,
	    sizeof(buf)), "2001:db8:1:2::/64");
	ck_assert_str_eq(conf_net_text_of("2001:db8:1:2::/64", 64, buf,
	    sizeof(buf)), "2001:db8:1:2::/64");
	ck_assert_str_eq(conf_net_text_of("192.0.2.9", 64, buf, sizeof(buf)),
	    "192.0.2.9");
	ck_assert_ptr_null(conf_net_text_of("alice@example.org", 64, buf,
	    sizeof(buf)));
}
END_TEST

START_TEST(test_sessions_and_state)
{
	struct conf	*c = load(
	    "listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "limit sessions 50\n"
	    "limit sessions 3 per ip\n"
	    "state \"/var/lib/submitd-test\"\n"
	    "allow from 192.0.2.0/24\n");

	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_uint_eq(c->max_sessions, 50);
	ck_assert_uint_eq(c->max_sessions_per_ip, 3);
	ck_assert_str_eq(c->state_dir, "/var/lib/submitd-test");
	conf_free(c);
}
END_TEST

/* Issue 15: the metrics endpoint and the alerts; both off by default. */
START_TEST(test_metrics_and_alerts)
{
	struct conf	*c = load(
	    "listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n");

	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->metrics_line, 0);
	ck_assert_uint_eq(c->alert_auth_failures, 0);
	ck_assert_int_eq(c->alert_queue_age, 0);
	ck_assert_uint_eq(c->alert_user_messages, 0);
	ck_assert_uint_eq(c->alert_user_rcpts, 0);
	ck_assert_uint_eq(c->alert_user_refused, 0);
	ck_assert_uint_eq(c->alert_user_surge, 0);
	ck_assert_uint_eq(c->metrics_top_users, 0);
	conf_free(c);
	c = load(
	    "listen on ::1 port 2465 tls pki p\n"
	    "pki p cert /c key /k\n"
	    "users \"/u\"\n"
	    "relay smtps://mail.example.net secrets /s\n"
	    "metrics listen on ::1 port 9465\n"
	    "alert auth-failures 50 per minute\n"
	    "alert queue-age 1h\n"
	    "alert user-messages 100 per hour hold\n"
	    "alert user-recipients 500 per 10m\n"
	    "alert user-refused-recipients 20 per day hold\n"
	    "metrics top-users 20\n"
	    "alert user-surge 5x per hour over 7d min 20 hold\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->metrics_line, 5);
	ck_assert_uint_eq(c->alert_user_messages, 100);
	ck_assert_int_eq(c->alert_user_messages_window, 3600);
	ck_assert_int_eq(c->alert_user_messages_hold, 1);
	ck_assert_uint_eq(c->alert_user_rcpts, 500);
	ck_assert_int_eq(c->alert_user_rcpts_window, 600);
	ck_assert_int_eq(c->alert_user_rcpts_hold, 0);
	ck_assert_uint_eq(c->alert_user_refused, 20);
	ck_assert_int_eq(c->alert_user_refused_window, 86400);
	ck_assert_int_eq(c->alert_user_refused_hold, 1);
	ck_assert_uint_eq(c->alert_user_surge, 5);
	ck_assert_int_eq(c->alert_user_surge_window, 3600);
	ck_assert_int_eq(c->alert_user_surge_baseline, 7 * 86400);
	ck_assert_uint_eq(c->alert_user_surge_min, 20);
	ck_assert_int_eq(c->alert_user_surge_hold, 1);
	ck_assert_uint_eq(c->metrics_top_users, 20);
	ck_assert_int_eq(c->metrics_ss.ss_family, AF_INET6);
	ck_assert_uint_eq(c->alert_auth_failures, 50);
	ck_assert_int_eq(c->alert_auth_window, 60);
	ck_assert_int_eq(c->alert_queue_age, 3600);
	conf_free(c);
}
END_TEST

/* alert user-surge: short windows for tests, min's default, any order. */
START_TEST(test_alert_user_surge)
{
	struct conf	*c = load(BASE "alert user-surge 3x per 4s over 40s\n");

	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_uint_eq(c->alert_user_surge, 3);
	ck_assert_int_eq(c->alert_user_surge_window, 4);
	ck_assert_int_eq(c->alert_user_surge_baseline, 40);
	ck_assert_uint_eq(c->alert_user_surge_min, 10);
	ck_assert_int_eq(c->alert_user_surge_hold, 0);
	conf_free(c);
	c = load(BASE "alert user-surge 1000x per minute over 200m hold min 1\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_uint_eq(c->alert_user_surge, 1000);
	ck_assert_int_eq(c->alert_user_surge_window, 60);
	ck_assert_int_eq(c->alert_user_surge_baseline, 12000);
	ck_assert_uint_eq(c->alert_user_surge_min, 1);
	ck_assert_int_eq(c->alert_user_surge_hold, 1);
	conf_free(c);
}
END_TEST

START_TEST(test_queue_and_relay_forms)
{
	struct conf	*c = load(BASE
	    "queue \"/q dir\" retry-max 1h retry-min 1m lifetime 2d\n"
	    "hostname \"mx.example.org\"\n");

	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_str_eq(c->queue_dir, "/q dir");
	ck_assert_int_eq(c->queue_lifetime, 2 * 86400);
	ck_assert_int_eq(c->queue_retry_min, 60);
	ck_assert_int_eq(c->queue_retry_max, 3600);
	conf_free(c);

	c = load("pki p cert /c key /k\n"
	    "listen on 127.0.0.1 port 2587 starttls pki p\n"
	    "users /u\n"
	    "relay smtp+tls://[::1]:2525 secrets /s\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_str_eq(c->relay.host, "::1");
	ck_assert_str_eq(c->relay.port, "2525");
	conf_free(c);
}
END_TEST

/* One bad line 6 after BASE and the message it must give. */
static const struct {
	const char	*line;
	const char	*msg;
} bad[] = {
	{ "frobnicate on", "unknown statement 'frobnicate'" },
	{ "listen on 0.0.0.0 port 0 tls pki p",
	    "listen: port '0' out of range" },
	{ "listen on 0.0.0.0 port 65536 tls pki p",
	    "listen: port '65536' out of range" },
	{ "listen on 0.0.0.0 port 25 plain pki p",
	    "listen: 'plain' is not starttls or tls" },
	{ "listen on localhost port 25 tls pki p",
	    "listen: 'localhost' is not a numeric" },
	{ "listen on 0.0.0.0 port 25 tls", "usage: listen on ADDR" },
	{ "listen on 127.0.0.1 port 2587 tls pki p",
	    "listen: 127.0.0.1 port 2587 already given on line 2" },
	{ "listen on ::1 port 2465 tls pki nope",
	    "listen: unknown pki 'nope'" },
	{ "pki p cert /a key /b", "pki: duplicate name 'p'" },
	{ "pki q cert /a", "usage: pki NAME" },
	{ "pki q cert \"\" key /b", "pki cert: empty file name" },
	{ "allow from 10.0.0.0/33", "allow: bad address block '10.0.0.0/33'" },
	{ "allow from 10.0.0/8", "allow: bad address block" },
	{ "allow from 2001:db8::/129", "allow: bad address block" },
	{ "allow 10.0.0.0/8", "usage: allow from CIDR" },
	{ "users /other", "'users' given twice (first on line 4)" },
	{ "relay smtp://ssl0.ovh.net secrets /s",
	    "relay: plaintext relay not supported" },
	{ "relay lmtp://x secrets /s", "relay: 'lmtp://x' is not smtps://" },
	{ "relay limit sessions 0",
	    "relay limit sessions: must be at least 1" },
	{ "relay limit messages 10 per fortnight",
	    "relay limit messages: bad window 'fortnight'" },
	{ "relay limit bananas 3", "usage: relay limit messages" },
	{ "relay limit messages 5000 per 1h",
	    "relay limit messages: at most 2048 per window" },
	{ "relay limit messages 2049 per 1h total",
	    "relay limit messages: at most 2048 per window" },
	{ "limit message-size 25X", "limit message-size: bad size '25X'" },
	{ "limit message-size 99999999999999999999",
	    "limit message-size: bad size" },
	{ "limit message-size 99999999999G", "limit message-size: bad size" },
	{ "limit recipients 0 per message",
	    "limit recipients: must be at least 1" },
	{ "limit messages -1 per hour per user",
	    "limit messages: bad number '-1'" },
	{ "limit messages 10 per hour per ip",
	    "usage: limit messages N per WINDOW per user" },
	{ "limit bytes 50X per day per user",
	    "limit bytes: bad size '50X'" },
	{ "limit bytes 1025G per day per user",
	    "limit bytes: bad size '1025G'" },
	{ "limit bytes 50M per day", "usage: limit bytes SIZE per WINDOW" },
	{ "limit bytes 50M per fortnight per user",
	    "limit bytes: bad window 'fortnight'" },
	{ "limit connections 10 per 0s per ip",
	    "limit connections: bad window '0s'" },
	{ "limit auth-failures 3 per hour", "usage: limit auth-failures" },
	{ "limit auth-delay 2d", "limit auth-delay: bad duration" },
	{ "limit auth-delay", "usage: limit auth-delay" },
	{ "limit auth-delay on", "limit auth-delay: bad duration 'on'" },
	{ "limit auth-remember x", "limit auth-remember: bad duration" },
	{ "limit ipv6-prefix 16", "limit ipv6-prefix: 16 is below 32" },
	{ "limit ipv6-prefix 129", "limit ipv6-prefix: bad number" },
	{ "limit speed 3", "limit: unknown limit 'speed'" },
	{ "limit sessions 0", "limit sessions: must be at least 1" },
	{ "limit sessions 3 per user", "usage: limit sessions N [per ip]" },
	{ "limit sessions x per ip", "limit sessions: bad number 'x'" },
	{ "state relative", "state: directory 'relative' is not an absolute" },
	/* review of issue 17: proxy-from names the load balancers only */
	{ "listen on 127.0.0.1 port 2465 tls pki p proxy-from 0.0.0.0/0",
	    "listen: proxy-from 0.0.0.0/0 refused: every host could claim any "
	    "client address in a PROXY header (allowlist, lockouts, rate "
	    "limits bypassed); name the load balancers only (an IPv4 /8 or "
	    "narrower)" },
	{ "listen on ::1 port 2465 tls pki p proxy-from ::/0",
	    "listen: proxy-from ::/0 refused: every host could claim" },
	{ "listen on 127.0.0.1 port 2465 tls pki p proxy-from 127.0.0.1/32 "
	    "proxy-from 128.0.0.0/1",
	    "listen: proxy-from 128.0.0.0/1 refused: any host in so wide a "
	    "block could claim" },
	{ "listen on 127.0.0.1 port 2465 tls pki p proxy-from 10.0.0.0/7",
	    "listen: proxy-from 10.0.0.0/7 refused" },
	{ "listen on ::1 port 2465 tls pki p proxy-from 2001::/31",
	    "listen: proxy-from 2001::/31 refused: any host in so wide a block "
	    "could claim any client address in a PROXY header (allowlist, "
	    "lockouts, rate limits bypassed); name the load balancers only "
	    "(an IPv6 /32 or narrower)" },
	/* an IPv6 block holding ::ffff:0:0/96 matches every IPv4 peer */
	{ "listen on :: port 2465 tls pki p proxy-from ::/64",
	    "listen: proxy-from ::/64 refused: every host" },
	{ "listen on :: port 2465 tls pki p proxy-from ::ffff:0:0/96",
	    "listen: proxy-from ::ffff:0.0.0.0/96 refused: every host" },
	{ "listen on :: port 2465 tls pki p proxy-from ::ffff:0:0/100",
	    "listen: proxy-from ::ffff:0.0.0.0/100 refused: any host in so "
	    "wide a block could claim any client address in a PROXY header "
	    "(allowlist, lockouts, rate limits bypassed); name the load "
	    "balancers only (an IPv4 /8 or narrower)" },
	{ "state", "usage: state" },
	{ "timeout command 99999999999999d", "timeout: bad duration" },
	{ "timeout command 0", "timeout: duration must not be 0" },
	{ "timeout command 5x", "timeout: bad duration '5x'" },
	{ "timeout idle 5m", "timeout: unknown timeout 'idle'" },
	{ "tls ciphers \"NOPE-CIPHER\"", "tls: bad ciphers 'NOPE-CIPHER'" },
	{ "tls protocols \"sslv9\"", "tls: bad protocols 'sslv9'" },
	{ "tls curves \"x\"", "tls: unknown keyword 'curves'" },
	{ "tls", "usage: tls" },
	{ "queue relative/dir", "queue: directory 'relative/dir' is not an" },
	{ "queue /q lifetime 5y", "lifetime: bad duration '5y'" },
	{ "queue /q retry-min 5h retry-max 1h",
	    "queue: retry-min is longer than retry-max" },
	{ "queue /q colour blue", "queue: unknown option 'colour'" },
	{ "hostname bad..name", "hostname: bad host name 'bad..name'" },
	{ "user \"a b\"", "user: bad user name 'a b'" },
	{ "dkim domain example.org selector s1 dsa key /k",
	    "dkim: unknown algorithm 'dsa'" },
	{ "dkim domain example.org selector s1 rsa key /k canonicalization x",
	    "dkim: canonicalization 'x' is not relaxed or simple" },
	{ "dkim domain ex@mple.org selector s1 rsa key /k",
	    "dkim: bad domain" },
	{ "dkim domain example.org rsa key /k", "usage: dkim domain" },
	{ "users \"/unterminated", "unterminated quoted string" },
	{ "users \"/a\"b", "text right after a closing quote" },
	{ "users \x01", "control character in line" },
	{ "metrics listen on localhost port 9465",
	    "metrics: 'localhost' is not a numeric IPv4 or IPv6 address" },
	{ "metrics listen on 127.0.0.1 port 0", "metrics: port '0' out of range" },
	{ "metrics on 127.0.0.1 port 9465", "usage: metrics listen on" },
	{ "alert auth-failures 0 per minute", "alert auth-failures: '0' is not" },
	{ "alert auth-failures 5 per fortnight",
	    "alert auth-failures: 'fortnight' is not a window" },
	{ "alert queue-age soon", "alert queue-age: 'soon' is not a duration" },
	{ "alert spam 5", "usage: alert auth-failures N per WINDOW" },
	{ "alert user-messages 0 per hour",
	    "alert user-messages: '0' is not a count" },
	{ "alert user-recipients 5 per hour block",
	    "usage: alert user-recipients N per WINDOW [hold]" },
	{ "alert user-refused-recipients 5 per hour now",
	    "usage: alert user-refused-recipients N per WINDOW [hold]" },
	{ "alert user-messages 5 per fortnight hold",
	    "alert user-messages: 'fortnight' is not a window" },
	{ "alert user-surge 1x per hour over day",
	    "alert user-surge: '1x' is not a factor from 2x to 1000x" },
	{ "alert user-surge 3 per hour over day",
	    "alert user-surge: '3' is not a factor" },
	{ "alert user-surge x per hour over day",
	    "alert user-surge: 'x' is not a factor" },
	{ "alert user-surge 1001x per hour over day",
	    "alert user-surge: '1001x' is not a factor" },
	{ "alert user-surge -3x per hour over day",
	    "alert user-surge: '-3x' is not a factor" },
	{ "alert user-surge 3x per fortnight over day",
	    "alert user-surge: 'fortnight' is not a window" },
	{ "alert user-surge 3x per hour over 90m",
	    "alert user-surge: baseline '90m' is not 2 to 200 whole windows of "
	    "3600s" },
	{ "alert user-surge 3x per hour over hour",
	    "alert user-surge: baseline 'hour' is not 2 to 200" },
	{ "alert user-surge 3x per minute over day",
	    "alert user-surge: baseline 'day' is not 2 to 200" },
	{ "alert user-surge 3x per hour over day min 0",
	    "alert user-surge: min '0' is not a count from 1 to 1000000" },
	{ "alert user-surge 3x per hour over day min",
	    "usage: alert user-surge FACTORx per WINDOW over BASELINE [min N] "
	    "[hold]" },
	{ "alert user-surge 3x per hour over day hold hold",
	    "usage: alert user-surge FACTORx" },
	{ "alert user-surge 3x per hour over day min 2 min 3",
	    "usage: alert user-surge FACTORx" },
	{ "alert user-surge 3x per hour", "usage: alert user-surge FACTORx" },
	{ "alert user-surge 3x per hour since day",
	    "usage: alert user-surge FACTORx" },
	{ "metrics top-users many", "metrics top-users: 'many' is not a count" },
	{ "metrics top-users 1001", "metrics top-users: '1001' is not a count" },
};

START_TEST(test_errors)
{
	char		 text[1024];
	struct conf	*c;

	snprintf(text, sizeof(text), "%s%s\n", BASE, bad[_i].line);
	c = load(text);
	ck_assert_msg(c == NULL, "'%s' was accepted", bad[_i].line);
	assert_err(6, bad[_i].msg);
}
END_TEST

/*
 * What the file as a whole lacks is reported as "file: message", without
 * the number of its last line (which has nothing to do with it).
 */
START_TEST(test_missing)
{
	struct conf	*c = load("# nothing\nhostname a.example\n");
	char		 want[512];

	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s: missing 'users \"FILE\"'\n"
	    "%s: no 'listen' statement\n%s: no 'relay' statement\n"
	    "%s: warning: no 'allow from': every address may connect\n",
	    path, path, path, path);
	ck_assert_str_eq(errtext, want);
}
END_TEST

/* proxy-from: a wide block is a warning, a load balancer's none. */
START_TEST(test_proxy_from_wide)
{
	struct conf	*c;

	c = load(BASE "listen on :: port 2465 tls pki p proxy-from 10.0.0.0/8 "
	    "proxy-from 2001:db8::/32 proxy-from ::ffff:10.1.0.0/112\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_uint_eq(c->listen[1].nproxy_from, 3);
	assert_err(6, "warning: listen: proxy-from 10.0.0.0/8 is wide: any "
	    "host in it may claim any client address; name the load "
	    "balancers only");
	assert_err(6, "warning: listen: proxy-from 2001:db8::/32 is wide");
	ck_assert_ptr_null(strstr(errtext, "::ffff:10.1.0.0/112"));
	conf_free(c);

	c = load(BASE "listen on :: port 2465 tls pki p proxy-from "
	    "192.0.2.10/32 proxy-from 10.0.0.0/16 proxy-from 2001:db8::/48 "
	    "proxy-from ::ffff:192.0.2.0/120\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_str_eq(errtext, "");
	conf_free(c);
}
END_TEST

/* Review of issue 17: one state statement, whichever form. */
START_TEST(test_state_twice)
{
	struct conf	*c;

	c = load(BASE "state \"/var/lib/a\"\n"
	    "state redis \"redis://127.0.0.1\"\n");
	ck_assert_ptr_null(c);
	assert_err(7, "'state' given twice (first on line 6)");

	c = load(BASE "state redis \"redis://127.0.0.1\"\n"
	    "state \"/var/lib/a\"\n");
	ck_assert_ptr_null(c);
	assert_err(7, "'state' given twice (first on line 6)");

	c = load(BASE "state \"/var/lib/a\"\n# b\nstate \"/var/lib/b\"\n");
	ck_assert_ptr_null(c);
	assert_err(8, "'state' given twice (first on line 6)");

	c = load(BASE "state redis \"redis://127.0.0.1\"\n"
	    "state redis \"redis://127.0.0.2\"\n");
	ck_assert_ptr_null(c);
	assert_err(7, "'state' given twice (first on line 6)");

	/* one is fine; the line is kept for submitd -n's file checks */
	c = load(BASE "state redis \"unix:/run/redis/r.sock\"\n");
	ck_assert_msg(c != NULL, "errors: %s", errtext);
	ck_assert_int_eq(c->state_redis->line, 6);
	conf_free(c);
}
END_TEST

START_TEST(test_all_errors_reported)
{
	struct conf	*c = load(BASE "bogus\nlimit speed 1\n\ttimeout x 1\n");

	ck_assert_ptr_null(c);
	assert_err(6, "unknown statement 'bogus'");
	assert_err(7, "limit: unknown limit 'speed'");
	assert_err(8, "timeout: unknown timeout 'x'");
}
END_TEST

START_TEST(test_hostbits_warning)
{
	struct conf	*c = load(BASE "allow from 192.0.2.7/24\n");

	ck_assert_msg(c != NULL, "errors: %s", errtext);
	assert_err(6, "warning: allow: '192.0.2.7/24' has host bits set, "
	    "taken as 192.0.2.0/24");
	ck_assert_int_eq(c->nallow, 2);
	ck_assert_int_eq(c->allow[1].addr[3], 0);
	conf_free(c);
}
END_TEST

START_TEST(test_hostile_file)
{
	char		 text[8192];
	struct conf	*c;
	size_t		 len;

	/* A line past 4096 octets. */
	len = (size_t)snprintf(text, sizeof(text), "%s# ", BASE);
	memset(text + len, 'x', 5000);
	len += 5000;
	text[len++] = '\n';
	memcpy(text + len, "bogus\n", 6);
	len += 6;
	c = load_len(text, len);
	ck_assert_ptr_null(c);
	assert_err(6, "line too long");
	assert_err(7, "unknown statement 'bogus'");

	/* A NUL byte inside a line. */
	len = (size_t)snprintf(text, sizeof(text), "%shostname a", BASE);
	text[len++] = '\0';
	memcpy(text + len, "b\n", 2);
	len += 2;
	c = load_len(text, len);
	ck_assert_ptr_null(c);
	assert_err(6, "NUL byte in line");

	/* CRLF lines, no final newline, comments glued to quotes. */
	c = load("pki p cert /c key /k\r\n"
	    "listen on 127.0.0.1 port 1 tls pki p\r\n"
	    "users \"/u#x\"# comment\r\n"
	    "relay smtps://h secrets /s");
	ck_assert_ptr_null(c);
	assert_err(3, "text right after a closing quote");
}
END_TEST

START_TEST(test_not_a_file)
{
	FILE	*errf;
	size_t	 len;

	free(errtext);
	errtext = NULL;
	errf = open_memstream(&errtext, &len);
	ck_assert_ptr_null(conf_load("/nonexistent/submitd.conf", errf));
	ck_assert_ptr_null(conf_load("/tmp", errf));
	fclose(errf);
	ck_assert_ptr_nonnull(strstr(errtext, "/nonexistent/submitd.conf: "));
	ck_assert_ptr_nonnull(strstr(errtext, "/tmp: not a regular file"));
}
END_TEST

static struct sockaddr_storage	 ss;

static const struct sockaddr *
sa4(const char *a)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, a, &sin->sin_addr), 1);
	return (const struct sockaddr *)&ss;
}

static const struct sockaddr *
sa6(const char *a)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
	return (const struct sockaddr *)&ss;
}

static int
m(const char *cidr, const struct sockaddr *sa)
{
	struct conf_cidr	 c;

	ck_assert_msg(conf_cidr_parse(cidr, &c) == 0, "parse %s", cidr);
	return conf_cidr_match(&c, sa);
}

START_TEST(test_cidr)
{
	struct conf_cidr	 c;
	char			 buf[64];
	int			 hb;
	size_t			 i;
	static const char	*bad_cidr[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/8x", "10.0.0.0/0008", "10.0.0/8",
		"10.0.0.256", "010.0.0.1", "1.2.3.4 ", " 1.2.3.4", "::/129",
		"2001:db8::/32/1", "2001:db8:::/32", "fe80::1%eth0", "host",
		"1.2.3.4/8/8",
		"00000000000000000000000000000000000000000000000000000000/1",
	};

	for (i = 0; i < sizeof(bad_cidr) / sizeof(bad_cidr[0]); i++)
		ck_assert_msg(conf_cidr_parse(bad_cidr[i], &c) == -1,
		    "'%s' accepted", bad_cidr[i]);

	ck_assert_int_eq(conf_cidr_parse("192.0.2.7", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 32);
	ck_assert_int_eq(conf_cidr_parse("2001:db8::1", &c), 0);
	ck_assert_uint_eq(c.prefixlen, 128);
	ck_assert_int_eq(conf_cidr_parse_bits("192.0.2.7/24", &c, &hb), 0);
	ck_assert_int_eq(hb, 1);
	ck_assert_str_eq(conf_cidr_format(&c, buf, sizeof(buf)),
	    "192.0.2.0/24");
	ck_assert_int_eq(conf_cidr_parse_bits("2001:db8::/32", &c, &hb), 0);
	ck_assert_int_eq(hb, 0);
	ck_assert_int_eq(conf_cidr_parse_bits("2001:db8:8000::/33", &c, &hb),
	    0);
	ck_assert_int_eq(hb, 0);
	ck_assert_int_eq(conf_cidr_parse_bits("2001:db8:8000::/32", &c, &hb),
	    0);
	ck_assert_int_eq(hb, 1);

	/* IPv4 */
	ck_assert(m("192.0.2.0/24", sa4("192.0.2.200")));
	ck_assert(!m("192.0.2.0/24", sa4("192.0.3.1")));
	ck_assert(m("192.0.2.7/32", sa4("192.0.2.7")));
	ck_assert(!m("192.0.2.7/32", sa4("192.0.2.6")));
	ck_assert(m("192.0.2.7", sa4("192.0.2.7")));
	ck_assert(m("0.0.0.0/0", sa4("203.0.113.9")));
	ck_assert(m("10.0.0.0/9", sa4("10.127.255.255")));
	ck_assert(!m("10.0.0.0/9", sa4("10.128.0.0")));
	ck_assert(!m("10.0.0.0/8", sa6("2001:db8::1")));
	/* IPv6 */
	ck_assert(m("2001:db8::/32", sa6("2001:db8:ffff::1")));
	ck_assert(!m("2001:db8::/32", sa6("2001:db9::1")));
	ck_assert(m("2001:db8::1/128", sa6("2001:db8::1")));
	ck_assert(m("2001:db8:8000::/33", sa6("2001:db8:ffff::1")));
	ck_assert(!m("2001:db8:8000::/33", sa6("2001:db8:7fff::1")));
	ck_assert(m("128.0.0.0/1", sa4("255.255.255.255")));
	ck_assert(!m("128.0.0.0/1", sa4("127.255.255.255")));
	ck_assert(m("192.0.2.6/31", sa4("192.0.2.7")));
	ck_assert(!m("192.0.2.6/31", sa4("192.0.2.8")));
	ck_assert(!m("2001:db8::1/128", sa6("2001:db8::2")));
	ck_assert(m("::/0", sa6("fe80::1")));
	ck_assert(m("::1", sa6("::1")));
	ck_assert(!m("::1", sa4("127.0.0.1")));
	ck_assert(!m("2001:db8::/32", sa4("32.1.13.184")));
	/* IPv4-mapped IPv6 peers count as IPv4 */
	ck_assert(m("192.0.2.0/24", sa6("::ffff:192.0.2.9")));
	ck_assert(!m("192.0.2.0/24", sa6("::ffff:192.0.3.9")));
	ck_assert(m("127.0.0.1/32", sa6("::ffff:127.0.0.1")));
	ck_assert(m("0.0.0.0/0", sa6("::ffff:8.8.8.8")));
	ck_assert(!m("0.0.0.0/0", sa6("2001:db8::1")));
	ck_assert(m("::ffff:192.0.2.0/120", sa4("192.0.2.1")));
	ck_assert(m("::ffff:192.0.2.0/120", sa6("::ffff:192.0.2.1")));
	ck_assert(!m("::ffff:192.0.2.0/120", sa4("192.0.3.1")));
	/* Other families never match. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert(!m("0.0.0.0/0", (struct sockaddr *)&ss));
	ck_assert(!m("::/0", (struct sockaddr *)&ss));
}
END_TEST

START_TEST(test_sizes)
{
	uint64_t	 v;
	size_t		 i;
	static const char *badsz[] = { "", "M", "-1", "1.5M", "25MB", "25 M",
	    "18446744073709551616", "17179869184G", "0x10", "25T", " 1" };

	ck_assert_int_eq(conf_size_parse("1000", &v), 0);
	ck_assert_uint_eq(v, 1000);
	ck_assert_int_eq(conf_size_parse("512K", &v), 0);
	ck_assert_uint_eq(v, 512 * 1024);
	ck_assert_int_eq(conf_size_parse("25M", &v), 0);
	ck_assert_uint_eq(v, 25 * 1024 * 1024);
	ck_assert_int_eq(conf_size_parse("1G", &v), 0);
	ck_assert_uint_eq(v, 1024 * 1024 * 1024);
	ck_assert_int_eq(conf_size_parse("35m", &v), 0);
	ck_assert_uint_eq(v, 35 * 1024 * 1024);
	ck_assert_int_eq(conf_size_parse("18446744073709551615", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(conf_size_parse("17179869183G", &v), 0);
	for (i = 0; i < sizeof(badsz) / sizeof(badsz[0]); i++)
		ck_assert_msg(conf_size_parse(badsz[i], &v) == -1,
		    "'%s' accepted", badsz[i]);
}
END_TEST

START_TEST(test_durations)
{
	time_t		 t;
	size_t		 i;
	static const char *baddur[] = { "", "s", "-5m", "5M", "1h30m", "5 m",
	    "2147483648", "24856d", "99999999999999999999s", "5y", "1.5h" };

	ck_assert_int_eq(conf_duration_parse("30", &t), 0);
	ck_assert_int_eq(t, 30);
	ck_assert_int_eq(conf_duration_parse("30s", &t), 0);
	ck_assert_int_eq(t, 30);
	ck_assert_int_eq(conf_duration_parse("15m", &t), 0);
	ck_assert_int_eq(t, 900);
	ck_assert_int_eq(conf_duration_parse("1h", &t), 0);
	ck_assert_int_eq(t, 3600);
	ck_assert_int_eq(conf_duration_parse("5d", &t), 0);
	ck_assert_int_eq(t, 432000);
	ck_assert_int_eq(conf_duration_parse("2w", &t), 0);
	ck_assert_int_eq(t, 14 * 86400);
	ck_assert_int_eq(conf_duration_parse("2147483647", &t), 0);
	ck_assert_int_eq(t, 2147483647);
	ck_assert_int_eq(conf_duration_parse("24855d", &t), 0);
	for (i = 0; i < sizeof(baddur) / sizeof(baddur[0]); i++)
		ck_assert_msg(conf_duration_parse(baddur[i], &t) == -1,
		    "'%s' accepted", baddur[i]);

	ck_assert_int_eq(conf_window_parse("second", &t), 0);
	ck_assert_int_eq(t, 1);
	ck_assert_int_eq(conf_window_parse("minute", &t), 0);
	ck_assert_int_eq(t, 60);
	ck_assert_int_eq(conf_window_parse("hour", &t), 0);
	ck_assert_int_eq(t, 3600);
	ck_assert_int_eq(conf_window_parse("day", &t), 0);
	ck_assert_int_eq(t, 86400);
	ck_assert_int_eq(conf_window_parse("15m", &t), 0);
	ck_assert_int_eq(t, 900);
	ck_assert_int_eq(conf_window_parse("0", &t), -1);
	ck_assert_int_eq(conf_window_parse("hours", &t), -1);
}
END_TEST

/* The shipped examples must load (run from the top of the tree). */
START_TEST(test_examples)
{
	static const char	*files[] = { "conf/submitd.conf.example",
				    "conf/ovh.conf.example" };
	struct conf		*c;
	FILE			*errf;
	size_t			 i, len;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], R_OK) == -1) {
			fprintf(stderr, "skipped: %s not here\n", files[i]);
			continue;
		}
		free(errtext);
		errtext = NULL;
		errf = open_memstream(&errtext, &len);
		c = conf_load(files[i], errf);
		fclose(errf);
		ck_assert_msg(c != NULL, "%s: %s", files[i], errtext);
		ck_assert_str_eq(errtext, "");
		ck_assert_str_eq(c->relay.host, "ssl0.ovh.net");
		ck_assert_str_eq(c->relay.port, "465");
		ck_assert_uint_eq(c->relay.msgs_per_login.count, 190);
		conf_free(c);
	}
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_design_example);
	tcase_add_test(tc, test_metrics_and_alerts);
	tcase_add_test(tc, test_alert_user_surge);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_queue_and_relay_forms);
	tcase_add_loop_test(tc, test_errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_proxy_from_wide);
	tcase_add_test(tc, test_state_twice);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_hostbits_warning);
	tcase_add_test(tc, test_hostile_file);
	tcase_add_test(tc, test_not_a_file);
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_sessions_and_state);
	tcase_add_test(tc, test_auth_lockout_forms);
	tcase_add_test(tc, test_state_redis);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_examples);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(conf_suite());
}
