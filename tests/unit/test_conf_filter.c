/* test_conf_filter.c — the "filter rspamd" statement (conf/conf_filter.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/conf_filter.h"

#include "tests/unit/check_main.h"

static char	*errtext;

#define BASE \
	"pki p cert \"/c.pem\" key \"/k.pem\"\n" \
	"listen on 127.0.0.1 port 2587 starttls pki p\n" \
	"allow from 127.0.0.0/8\n" \
	"users \"/etc/submitd/users\"\n" \
	"relay smtps://ssl0.ovh.net:465 secrets \"/etc/submitd/s\"\n"

static struct conf *
load(const char *line)
{
	char		 path[64];
	struct conf	*c;
	FILE		*errf;
	size_t		 errlen;
	int		 fd;

	snprintf(path, sizeof(path), "/tmp/test_conf_filter.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, BASE, strlen(BASE)), (ssize_t)strlen(BASE));
	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	close(fd);
	free(errtext);
	errtext = NULL;
	ck_assert_ptr_nonnull(errf = open_memstream(&errtext, &errlen));
	c = conf_load(path, errf);
	fclose(errf);
	unlink(path);
	return c;
}

START_TEST(test_defaults)
{
	struct conf	*c = load("");

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->filter.enabled, 0);
	conf_free(c);
	c = load("filter rspamd \"http://127.0.0.1:11333\"\n");
	ck_assert_msg(c != NULL, "%s", errtext);
	ck_assert_int_eq(c->filter.enabled, 1);
	ck_assert_str_eq(c->filter.host, "127.0.0.1");
	ck_assert_str_eq(c->filter.port, "11333");
	ck_assert_str_eq(c->filter.path, "/checkv2");
	ck_assert_int_eq(c->filter.timeout, 20);
	ck_assert_int_eq(c->filter.on_error_accept, 0);
	ck_assert_ptr_null(c->filter.settings_id);
	conf_free(c);
}
END_TEST

START_TEST(test_all_options)
{
	struct conf	*c = load("filter rspamd \"http://[::1]:8080/checkv2\" "
	    "timeout 2m on-error accept settings-id outbound_auth\n");

	ck_assert_msg(c != NULL, "%s", errtext);
	ck_assert_str_eq(c->filter.host, "::1");
	ck_assert_str_eq(c->filter.port, "8080");
	ck_assert_str_eq(c->filter.path, "/checkv2");
	ck_assert_int_eq(c->filter.timeout, 120);
	ck_assert_int_eq(c->filter.on_error_accept, 1);
	ck_assert_str_eq(c->filter.settings_id, "outbound_auth");
	conf_free(c);
	c = load("filter rspamd \"http://127.0.0.1\" on-error tempfail\n");
	ck_assert_msg(c != NULL, "%s", errtext);
	ck_assert_str_eq(c->filter.port, "11333");
	ck_assert_int_eq(c->filter.on_error_accept, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_unix_socket)
{
	struct conf	*c = load("filter rspamd \"/run/rspamd-submitd/rspamd.sock\" "
	    "timeout 5s\n");

	ck_assert_msg(c != NULL, "%s", errtext);
	ck_assert_int_eq(c->filter.enabled, 1);
	ck_assert_int_eq(c->filter.unix_socket, 1);
	ck_assert_str_eq(c->filter.url, "/run/rspamd-submitd/rspamd.sock");
	ck_assert_str_eq(c->filter.path, "/checkv2");
	ck_assert_int_eq(c->filter.timeout, 5);
	conf_free(c);
	c = load("filter rspamd \"http://127.0.0.1\"\n");
	ck_assert_msg(c != NULL, "%s", errtext);
	ck_assert_int_eq(c->filter.unix_socket, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_errors)
{
	static const struct { const char *line, *msg; } t[] = {
		{ "filter rspamd\n", "usage: filter rspamd" },
		{ "filter spamassassin \"http://127.0.0.1\"\n", "usage: filter" },
		{ "filter rspamd \"https://127.0.0.1\"\n", "not http://" },
		{ "filter rspamd \"http://localhost:11333\"\n", "numeric address" },
		{ "filter rspamd \"/run/rspamd/\"\n", "not a clean absolute" },
		{ "filter rspamd \"/run/../rspamd.sock\"\n", "not a clean" },
		{ "filter rspamd \"/run//rspamd.sock\"\n", "not a clean" },
		{ "filter rspamd \"/run/rspamd/a b.sock\"\n", "with a space" },
		{ "filter rspamd \"/rspamd.sock\"\n", "directory is shared" },
		{ "filter rspamd \"/run/rspamd.sock\"\n", "directory is shared" },
		{ "filter rspamd \"/tmp/rspamd.sock\"\n", "directory is shared" },
		{ "filter rspamd \"/var/run/rspamd.sock\"\n",
		    "directory is shared" },
		{ "filter rspamd \"/dev/shm/rspamd.sock\"\n",
		    "directory is shared" },
		{ "filter rspamd \"/run/rspamd/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxx.sock\"\n", "path too long" },
		{ "filter rspamd \"http://127.0.0.1:0\"\n", "port out of range" },
		{ "filter rspamd \"http://127.0.0.1:70000\"\n", "port out of range" },
		{ "filter rspamd \"http://[::1\"\n", "numeric address" },
		{ "filter rspamd \"http://127.0.0.1\" timeout 0\n", "bad timeout" },
		{ "filter rspamd \"http://127.0.0.1\" timeout\n", "usage: filter" },
		{ "filter rspamd \"http://127.0.0.1\" on-error drop\n",
		    "on-error 'drop'" },
		{ "filter rspamd \"http://127.0.0.1\" settings-id \"a b\"\n",
		    "bad settings-id" },
		{ "filter rspamd \"http://127.0.0.1\" colour red\n",
		    "unknown option 'colour'" },
		{ "filter rspamd \"http://127.0.0.1\"\n"
		  "filter rspamd \"http://127.0.0.1\"\n",
		  ":7: 'filter' given twice (first on line 6)" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(load(t[i].line) == NULL, "%s accepted", t[i].line);
		ck_assert_msg(strstr(errtext, t[i].msg) != NULL,
		    "%s: wanted '%s' in '%s'", t[i].line, t[i].msg, errtext);
		ck_assert_msg(strstr(errtext, ":6: ") != NULL ||
		    strstr(errtext, ":7: ") != NULL, "%s", errtext);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("conf_filter");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_options);
	tcase_add_test(tc, test_unix_socket);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
