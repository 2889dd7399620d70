/*
 * test_queue_edit.c — the content filter's changes to an uncommitted
 * message (queue/queue_edit.c): fields added first, fields removed with
 * their continuation lines, the body untouched, a fresh read-only fd.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "queue/queue.h"

#include "tests/unit/check_main.h"

static char			 top[64];
static char			 spool[128];
static struct conf		 conf;
static struct event_base	*base;
static struct queue		*q;
static int			 opened, ofd;
static char			 oid[QUEUE_ID_SIZE];

static void
setup(void)
{
	log_init(1, 0);
	strcpy(top, "/tmp/test_queue_edit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(spool, sizeof(spool), "%s/spool", top);
	memset(&conf, 0, sizeof(conf));
	conf.queue_dir = spool;
	conf.queue_lifetime = 3600;
	conf.queue_retry_min = 1;
	conf.queue_retry_max = 2;
	conf.max_message_size = 35 * 1024 * 1024;
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(q = queue_new(base, &conf));
}

static void
teardown(void)
{
	char	 cmd[160];

	queue_free(q);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	ck_assert_int_eq(system(cmd), 0);
}

static void
open_cb(void *arg, enum queue_status status, int fd, const char *id)
{
	(void)arg;
	ck_assert_int_eq(status, QUEUE_OK);
	opened = 1;
	ofd = fd;
	memcpy(oid, id, strlen(id) + 1);
}

/* A new uncommitted message holding TEXT. */
static void
message(const char *text)
{
	int	 i;

	opened = 0;
	queue_message_open(q, open_cb, NULL);
	for (i = 0; i < 2000 && !opened; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert(opened);
	ck_assert_int_eq(write(ofd, text, strlen(text)), (ssize_t)strlen(text));
	close(ofd);
}

/* The message's file as the filter role would read it. */
static char *
contents(void)
{
	static char	 buf[4096];
	ssize_t		 n;
	int		 fd = queue_message_fd(q, oid);

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(fd);
	return buf;
}

static const char msg[] =
    "From: alice@example.org\r\n"
    "X-Remove-Me: one\r\n"
    "\tcontinued\r\n"
    "Subject: hi\r\n"
    "x-remove-me: two\r\n"
    "\r\n"
    "X-Remove-Me: in the body stays\r\n";

START_TEST(add_and_remove)
{
	size_t	 hlen = strstr(msg, "\r\n\r\n") + 2 - msg;
	const char *add = "X-Spam: Yes\r\nX-Long: a\r\n b\r\n";

	message(msg);
	ck_assert_int_eq(queue_message_edit(q, oid, add, strlen(add),
	    "X-Remove-Me\n", &hlen), 0);
	ck_assert_str_eq(contents(),
	    "X-Spam: Yes\r\nX-Long: a\r\n b\r\n"
	    "From: alice@example.org\r\n"
	    "Subject: hi\r\n"
	    "\r\n"
	    "X-Remove-Me: in the body stays\r\n");
	ck_assert_int_eq(hlen, strstr(contents(), "\r\n\r\n") + 2 - contents());
	queue_message_abort(q, oid);
}
END_TEST

START_TEST(nothing_to_do)
{
	size_t	 hlen = strstr(msg, "\r\n\r\n") + 2 - msg, was = hlen;

	message(msg);
	ck_assert_int_eq(queue_message_edit(q, oid, "", 0, "", &hlen), 0);
	ck_assert_int_eq(queue_message_edit(q, oid, "", 0, "X-Absent\n",
	    &hlen), 0);
	ck_assert_int_eq(hlen, was);
	ck_assert_str_eq(contents(), msg);
	/* unknown message */
	ck_assert_int_eq(queue_message_edit(q, "0000000000001000000", "A: b\r\n",
	    6, "", &hlen), -1);
	ck_assert_int_eq(queue_message_fd(q, "0000000000001000000"), -1);
	queue_message_abort(q, oid);
}
END_TEST

START_TEST(large_body_copied)
{
	static char	 big[300 * 1024];
	size_t		 hlen = 13;
	char		 path[256];
	struct stat	 st;

	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "Subject: x\r\n\r\n", 14);
	big[sizeof(big) - 3] = '\r';
	big[sizeof(big) - 2] = '\n';
	message(big);
	ck_assert_int_eq(queue_message_edit(q, oid, "X-A: b\r\n", 8, "",
	    &hlen), 0);
	ck_assert_int_eq(hlen, 13 + 8);
	snprintf(path, sizeof(path), "%s/queue/%s.msg", spool, oid);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, sizeof(big) - 1 + 8);
	queue_message_abort(q, oid);
	ck_assert_int_eq(stat(path, &st), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("queue_edit");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, add_and_remove);
	tcase_add_test(tc, nothing_to_do);
	tcase_add_test(tc, large_body_copied);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
