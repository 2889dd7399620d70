/* test_ipc.c — framed IPC: round trips, fd passing, malformed packets, decoders. */
#include <sys/socket.h>

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "lib/ipc.h"
#include "smtpd/ipc_msg.h"

#include "tests/unit/check_main.h"

struct got {
	int		 n;
	int		 closed;
	uint32_t	 type;
	uint64_t	 reqid;
	size_t		 len;
	unsigned char	 data[256];
	int		 fd;
};

static void
on_msg(struct ipc *c, const struct ipc_msg *m, void *arg)
{
	struct got	*g = arg;

	(void)c;
	if (m == NULL) {
		g->closed = 1;
		return;
	}
	g->n++;
	g->type = m->type;
	g->reqid = m->reqid;
	g->len = m->len;
	memcpy(g->data, m->data, m->len < sizeof(g->data) ? m->len : sizeof(g->data));
	if (g->fd != -1)
		close(g->fd);
	g->fd = m->fd;
}

static void
pump(struct event_base *base)
{
	int	 i;

	for (i = 0; i < 5; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

START_TEST(round_trip_with_fd)
{
	struct event_base *base = event_base_new();
	struct got	 a = { .fd = -1 }, b = { .fd = -1 };
	struct ipc	*ca, *cb;
	int		 sv[2], p[2];
	char		 buf[8];

	ck_assert_int_eq(ipc_socketpair(sv), 0);
	ca = ipc_new(base, sv[0], "a", on_msg, &a);
	cb = ipc_new(base, sv[1], "b", on_msg, &b);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ipc_send(ca, 42, 7, p[0], "hello", 5), 0);
	close(p[0]);
	pump(base);
	ck_assert_int_eq(b.n, 1);
	ck_assert_int_eq(b.type, 42);
	ck_assert_int_eq(b.reqid, 7);
	ck_assert_int_eq(b.len, 5);
	ck_assert_mem_eq(b.data, "hello", 5);
	ck_assert_int_ne(b.fd, -1);
	/* the passed fd is the pipe's read end */
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(read(b.fd, buf, 1), 1);
	ck_assert_int_eq(buf[0], 'x');
	close(p[1]);
	/* too large is refused at the sender */
	{
		char	*big = calloc(1, IPC_MAX_PAYLOAD + 1);

		ck_assert_int_eq(ipc_send(ca, 1, 1, -1, big, IPC_MAX_PAYLOAD + 1), -1);
		free(big);
	}
	/* closing one end tells the other */
	ipc_free(ca);
	pump(base);
	ck_assert_int_eq(b.closed, 1);
	close(b.fd);
	ipc_free(cb);
	event_base_free(base);
}
END_TEST

START_TEST(malformed_packets_dropped)
{
	struct event_base *base = event_base_new();
	struct got	 b = { .fd = -1 };
	struct ipc	*cb;
	int		 sv[2];
	unsigned char	 pkt[128];
	uint32_t	 h[6];

	ck_assert_int_eq(ipc_socketpair(sv), 0);
	cb = ipc_new(base, sv[1], "b", on_msg, &b);
	/* empty, short, bad magic, length lies, fd announced but missing */
	ck_assert_int_eq(send(sv[0], "", 0, 0), 0);
	ck_assert_int_eq(send(sv[0], "abc", 3, 0), 3);
	memset(h, 0, sizeof(h));
	h[0] = 1; h[1] = 4; h[5] = 0x12345678;
	memcpy(pkt, h, sizeof(h));
	ck_assert_int_eq(send(sv[0], pkt, sizeof(h) + 4, 0), (ssize_t)sizeof(h) + 4);
	h[5] = 0x53554244; h[1] = 100;
	memcpy(pkt, h, sizeof(h));
	ck_assert_int_eq(send(sv[0], pkt, sizeof(h) + 4, 0), (ssize_t)sizeof(h) + 4);
	h[1] = 4; h[4] = 1;
	memcpy(pkt, h, sizeof(h));
	ck_assert_int_eq(send(sv[0], pkt, sizeof(h) + 4, 0), (ssize_t)sizeof(h) + 4);
	pump(base);
	ck_assert_int_eq(b.n, 0);
	ck_assert_int_eq(b.closed, 0);
	ck_assert_int_eq(ipc_dropped(cb), 5);
	/* an oversized packet */
	{
		size_t	 n = IPC_MAX_PAYLOAD + 200;
		char	*big = calloc(1, n);

		memcpy(big, h, sizeof(h));
		ck_assert_int_eq(send(sv[0], big, n, 0), (ssize_t)n);
		free(big);
	}
	pump(base);
	ck_assert_int_eq(b.n, 0);
	ck_assert_int_eq(ipc_dropped(cb), 6);
	/* then a good one still goes through */
	h[1] = 2; h[4] = 0; h[0] = 9;
	memcpy(pkt, h, sizeof(h));
	memcpy(pkt + sizeof(h), "ok", 2);
	ck_assert_int_eq(send(sv[0], pkt, sizeof(h) + 2, 0), (ssize_t)sizeof(h) + 2);
	pump(base);
	ck_assert_int_eq(b.n, 1);
	ck_assert_int_eq(b.type, 9);
	close(sv[0]);
	ipc_free(cb);
	event_base_free(base);
}
END_TEST

static struct envelope
sample_env(struct envelope_rcpt *r, size_t n)
{
	struct envelope	 e;
	size_t		 i;

	memset(&e, 0, sizeof(e));
	snprintf(e.queue_id, sizeof(e.queue_id), "6616B84DA541CA8C699");
	snprintf(e.user, sizeof(e.user), "alice@example.org");
	snprintf(e.client_addr, sizeof(e.client_addr), "192.0.2.7");
	snprintf(e.helo, sizeof(e.helo), "laptop");
	snprintf(e.reverse_path, sizeof(e.reverse_path), "alice@example.org");
	snprintf(e.from_domain, sizeof(e.from_domain), "example.org");
	e.size = 1234;
	e.created = 1795964278;
	for (i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		snprintf(r[i].forward_path, sizeof(r[i].forward_path),
		    "rcpt%zu@example.net", i);
		r[i].state = i % 3;
	}
	e.nrcpt = n;
	e.rcpt = r;
	return e;
}

START_TEST(commit_round_trip_and_truncations)
{
	struct envelope_rcpt	 r[3];
	struct envelope		 e = sample_env(r, 3), d;
	struct queue_sign_input	 s, ds;
	void			*buf;
	size_t			 len, cut;
	uint64_t		 grant = 0;

	memset(&s, 7, sizeof(s));
	s.header_len = 100;
	ck_assert_int_eq(ipc_commit_encode(42, &e, &s, &buf, &len), 0);
	ck_assert_int_eq(ipc_commit_decode(buf, len, &grant, &d, &ds), 0);
	ck_assert_str_eq(d.reverse_path, "alice@example.org");
	ck_assert(grant == 42);
	ck_assert_int_eq(d.nrcpt, 3);
	ck_assert_str_eq(d.rcpt[2].forward_path, "rcpt2@example.net");
	ck_assert_int_eq(d.rcpt[2].state, 2);
	ck_assert_int_eq(ds.header_len, 100);
	envelope_free(&d);
	/* every truncation and every extension is refused */
	for (cut = 0; cut < len; cut++)
		ck_assert_int_eq(ipc_commit_decode(buf, cut, &grant, &d, &ds), -1);
	{
		unsigned char *more = malloc(len + 1);

		memcpy(more, buf, len);
		more[len] = 'x';
		ck_assert_int_eq(ipc_commit_decode(more, len + 1, &grant, &d, &ds), -1);
		free(more);
	}
	free(buf);
}
END_TEST

/* Issue 13: UTF-8 paths only with the SMTPUTF8 flag, and only UTF-8. */
START_TEST(commit_smtputf8)
{
	struct envelope_rcpt	 r[1];
	struct envelope		 e, d;
	struct queue_sign_input	 s, ds;
	uint64_t		 grant;
	void			*buf;
	size_t			 len;

	memset(&s, 0, sizeof(s));
	e = sample_env(r, 1);
	snprintf(r[0].forward_path, sizeof(r[0].forward_path),
	    "k\xc3\xa4rol@example.com");
	ck_assert_int_eq(ipc_commit_encode(42, &e, &s, &buf, &len), 0);
	ck_assert_int_eq(ipc_commit_decode(buf, len, &grant, &d, &ds), -1);
	free(buf);
	e.smtputf8 = 1;
	ck_assert_int_eq(ipc_commit_encode(42, &e, &s, &buf, &len), 0);
	ck_assert_int_eq(ipc_commit_decode(buf, len, &grant, &d, &ds), 0);
	ck_assert_int_eq(d.smtputf8, 1);
	ck_assert_str_eq(d.rcpt[0].forward_path, "k\xc3\xa4rol@example.com");
	envelope_free(&d);
	free(buf);
	snprintf(e.reverse_path, sizeof(e.reverse_path), "\xe4lice@example.org");
	ck_assert_int_eq(ipc_commit_encode(42, &e, &s, &buf, &len), 0);
	ck_assert_int_eq(ipc_commit_decode(buf, len, &grant, &d, &ds), -1);
	free(buf);
	e.smtputf8 = 2;
	snprintf(e.reverse_path, sizeof(e.reverse_path), "alice@example.org");
	ck_assert_int_eq(ipc_commit_encode(42, &e, &s, &buf, &len), 0);
	ck_assert_int_eq(ipc_commit_decode(buf, len, &grant, &d, &ds), -1);
	free(buf);
}
END_TEST

START_TEST(upstream_decode)
{
	struct ipc_upstream	 u, o;

	memset(&u, 0, sizeof(u));
	u.size = 1000;
	u.smtputf8 = 1;
	ck_assert_int_eq(ipc_upstream_decode(&u, sizeof(u), &o), 0);
	ck_assert(o.size == 1000 && o.smtputf8 == 1);
	ck_assert_int_eq(ipc_upstream_decode(&u, 8, &o), -1);
	u.smtputf8 = 2;
	ck_assert_int_eq(ipc_upstream_decode(&u, sizeof(u), &o), -1);
	u.smtputf8 = 0;
	u.pad = 1;
	ck_assert_int_eq(ipc_upstream_decode(&u, sizeof(u), &o), -1);
}
END_TEST

START_TEST(decoders_refuse_bad_fields)
{
	struct envelope_rcpt	 r[1];
	struct envelope		 e, d;
	struct queue_sign_input	 s, ds;
	struct auth_reply	 ar;
	struct ipc_queue_status	 qs;
	uint64_t		 grant;
	void			*buf;
	size_t			 len;
	int			 i;

	memset(&s, 0, sizeof(s));
	/* a forward-path that is not one */
	e = sample_env(r, 1);
	snprintf(r[0].forward_path, sizeof(r[0].forward_path), "no at sign");
	ck_assert_int_eq(ipc_commit_encode(42, &e, &s, &buf, &len), 0);
	ck_assert_int_eq(ipc_commit_decode(buf, len, &grant, &d, &ds), -1);
	free(buf);
	/* a control character in the HELO name */
	e = sample_env(r, 1);
	e.helo[2] = '\n';
	ck_assert_int_eq(ipc_commit_encode(42, &e, &s, &buf, &len), 0);
	ck_assert_int_eq(ipc_commit_decode(buf, len, &grant, &d, &ds), -1);
	free(buf);
	/* auth replies: ok must be 0/1, strings terminated */
	memset(&ar, 'A', sizeof(ar));
	ck_assert_int_eq(ipc_auth_result_decode(&ar, sizeof(ar), &ar), -1);
	memset(&ar, 0, sizeof(ar));
	ar.ok = 7;
	ck_assert_int_eq(ipc_auth_result_decode(&ar, sizeof(ar), &ar), -1);
	ar.ok = 1;
	ck_assert_int_eq(ipc_auth_result_decode(&ar, sizeof(ar), &ar), 0);
	ck_assert_int_eq(ipc_auth_result_decode(&ar, sizeof(ar) - 1, &ar), -1);
	/* queue status: known status, hex ID */
	memset(&qs, 0, sizeof(qs));
	snprintf(qs.queue_id, sizeof(qs.queue_id), "../../etc/passwd");
	ck_assert_int_eq(ipc_queue_status_decode(&qs, sizeof(qs), &qs), -1);
	snprintf(qs.queue_id, sizeof(qs.queue_id), "6616B84DA541CA8C699");
	qs.status = 99;
	ck_assert_int_eq(ipc_queue_status_decode(&qs, sizeof(qs), &qs), -1);
	qs.status = 0;
	ck_assert_int_eq(ipc_queue_status_decode(&qs, sizeof(qs), &qs), 0);
	/* random payloads never decode into something with bad fields */
	for (i = 0; i < 2000; i++) {
		unsigned char	 junk[2048];
		struct relay_result rr;

		randombytes_buf(junk, sizeof(junk));
		len = randombytes_uniform(sizeof(junk));
		if (ipc_commit_decode(junk, len, &grant, &d, &ds) == 0)
			envelope_free(&d);
		if (ipc_result_decode(junk, len, &rr) == 0)
			free(rr.rcpt);
	}
}
END_TEST

static Suite *
ipc_suite(void)
{
	Suite	*s = suite_create("ipc");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, round_trip_with_fd);
	tcase_add_test(tc, malformed_packets_dropped);
	tcase_add_test(tc, commit_round_trip_and_truncations);
	tcase_add_test(tc, decoders_refuse_bad_fields);
	tcase_add_test(tc, commit_smtputf8);
	tcase_add_test(tc, upstream_decode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return check_run(ipc_suite());
}
