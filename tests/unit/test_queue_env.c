/* test_queue_env.c — the envelope file format: round trip and corrupt input. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "queue/queue_env.h"
#include "queue/queue_id.h"

#include "tests/unit/check_main.h"

static struct queue_env	 qe;
static char		*text;
static size_t		 textlen;

static const char prefix[] = "DKIM-Signature: v=1; a=ed25519-sha256;\r\n"
    "\tb=AAAA==\r\n";

static void
setup(void)
{
	struct envelope	*e = &qe.env;

	memset(&qe, 0, sizeof(qe));
	queue_id_make(e->queue_id, 1764427847123456ULL, 0xa09f1);
	strcpy(e->user, "alice@example.org");
	strcpy(e->client_addr, "2001:db8::7");
	strcpy(e->helo, "laptop.example.org");
	strcpy(e->reverse_path, "alice@example.org");
	strcpy(e->from_domain, "example.org");
	e->body_8bitmime = 1;
	e->created = 1764427847;
	e->size = 12345;
	e->nrcpt = 3;
	e->rcpt = calloc(3, sizeof(*e->rcpt));
	strcpy(e->rcpt[0].forward_path, "bob@example.net");
	strcpy(e->rcpt[1].forward_path, "\"carol smith\"@example.net");
	e->rcpt[1].state = RCPT_DONE;
	strcpy(e->rcpt[1].last_reply, "250 2.1.5 Ok");
	strcpy(e->rcpt[2].forward_path, "dave@example.com");
	e->rcpt[2].state = RCPT_FAILED;
	strcpy(e->rcpt[2].last_reply, "550 5.1.1 <dave@example.com>: no such user");
	qe.attempts = 2;
	qe.next_try = 1764430000;
	qe.last_try = 1764429000;
	qe.warned = 1;
	qe.prefix = strdup(prefix);
	qe.prefixlen = strlen(prefix);
	ck_assert_int_eq(queue_env_format(&qe, &text, &textlen), 0);
}

static void
teardown(void)
{
	queue_env_free(&qe);
	free(text);
}

/* Parses TEXT with the first FROM replaced by TO; returns parse's result. */
static int
parse_mutated(const char *from, const char *to, const char **why)
{
	struct queue_env	 out;
	char			*buf, *p;
	size_t			 flen = strlen(from), tlen = strlen(to), len;
	int			 r;

	p = memmem(text, textlen, from, flen);
	ck_assert_msg(p != NULL, "no \"%s\" in the envelope", from);
	len = textlen - flen + tlen;
	buf = malloc(len + 1);
	memcpy(buf, text, (size_t)(p - text));
	memcpy(buf + (p - text), to, tlen);
	memcpy(buf + (p - text) + tlen, p + flen,
	    textlen - (size_t)(p - text) - flen);
	*why = NULL;
	r = queue_env_parse(buf, len, NULL, &out, why);
	if (r == 0)
		queue_env_free(&out);
	else
		ck_assert_ptr_nonnull(*why);
	free(buf);
	return r;
}

static void
bad(const char *from, const char *to)
{
	const char	*why;

	ck_assert_msg(parse_mutated(from, to, &why) == -1,
	    "accepted \"%s\" -> \"%s\"", from, to);
}

static void
good(const char *from, const char *to)
{
	const char	*why;

	ck_assert_msg(parse_mutated(from, to, &why) == 0,
	    "refused \"%s\" -> \"%s\": %s", from, to, why);
}

START_TEST(round_trip)
{
	struct queue_env	 out;
	const char		*why = NULL;
	size_t			 i;

	ck_assert_int_eq(queue_env_parse(text, textlen, qe.env.queue_id, &out,
	    &why), 0);
	ck_assert_str_eq(out.env.queue_id, qe.env.queue_id);
	ck_assert_str_eq(out.env.user, qe.env.user);
	ck_assert_str_eq(out.env.client_addr, qe.env.client_addr);
	ck_assert_str_eq(out.env.helo, qe.env.helo);
	ck_assert_str_eq(out.env.reverse_path, qe.env.reverse_path);
	ck_assert_str_eq(out.env.from_domain, qe.env.from_domain);
	ck_assert_int_eq(out.env.body_8bitmime, 1);
	ck_assert_int_eq(out.env.created, qe.env.created);
	ck_assert_uint_eq(out.env.size, qe.env.size);
	ck_assert_uint_eq(out.attempts, 2);
	ck_assert_int_eq(out.next_try, qe.next_try);
	ck_assert_int_eq(out.last_try, qe.last_try);
	ck_assert_int_eq(out.hold, 0);
	ck_assert_int_eq(out.warned, 1);
	ck_assert_int_eq(out.bounce, 0);
	ck_assert_uint_eq(out.prefixlen, qe.prefixlen);
	ck_assert_mem_eq(out.prefix, prefix, qe.prefixlen);
	ck_assert_uint_eq(out.env.nrcpt, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_str_eq(out.env.rcpt[i].forward_path,
		    qe.env.rcpt[i].forward_path);
		ck_assert_int_eq(out.env.rcpt[i].state, qe.env.rcpt[i].state);
		ck_assert_str_eq(out.env.rcpt[i].last_reply,
		    qe.env.rcpt[i].last_reply);
	}
	queue_env_free(&out);
}
END_TEST

START_TEST(text_shape)
{
	ck_assert_int_eq(strncmp(text, "submitd-envelope 1\nid: ", 23), 0);
	ck_assert_int_eq(memcmp(text + textlen - 5, "\nend\n", 5), 0);
	ck_assert_ptr_nonnull(strstr(text, "\nrcpt: pending bob@example.net\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nrcpt: done \"carol smith\"@example.net\n"
	    "reply: 250 2.1.5 Ok\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nbody: 8bitmime\n"));
}
END_TEST

START_TEST(null_sender_no_prefix)
{
	struct queue_env	 out;
	const char		*why;
	char			*t;
	size_t			 len;

	qe.env.reverse_path[0] = '\0';
	qe.env.body_8bitmime = 0;
	free(qe.prefix);
	qe.prefix = NULL;
	qe.prefixlen = 0;
	ck_assert_int_eq(queue_env_format(&qe, &t, &len), 0);
	ck_assert_ptr_null(strstr(t, "dkim:"));
	ck_assert_int_eq(queue_env_parse(t, len, NULL, &out, &why), 0);
	ck_assert_str_eq(out.env.reverse_path, "");
	ck_assert_int_eq(out.env.body_8bitmime, 0);
	ck_assert_ptr_null(out.prefix);
	ck_assert_uint_eq(out.prefixlen, 0);
	queue_env_free(&out);
	free(t);
}
END_TEST

/* Issue 13: MAIL ... SMTPUTF8 kept as "smtputf8: yes", absent without. */
START_TEST(smtputf8_flag)
{
	struct queue_env	 out;
	const char		*why;
	char			*t;
	size_t			 len;

	ck_assert_int_eq(queue_env_format(&qe, &t, &len), 0);
	ck_assert_ptr_null(strstr(t, "smtputf8"));
	free(t);
	qe.env.smtputf8 = 1;
	snprintf(qe.env.reverse_path, sizeof(qe.env.reverse_path),
	    "\xc3\xa4lice@example.org");
	ck_assert_int_eq(queue_env_format(&qe, &t, &len), 0);
	ck_assert_ptr_nonnull(strstr(t, "\nsmtputf8: yes\n"));
	ck_assert_int_eq(queue_env_parse(t, len, NULL, &out, &why), 0);
	ck_assert_int_eq(out.env.smtputf8, 1);
	ck_assert_str_eq(out.env.reverse_path, "\xc3\xa4lice@example.org");
	queue_env_free(&out);
	free(t);
	ck_assert_int_eq(queue_env_parse("x", 1, NULL, &out, &why), -1);
}
END_TEST

START_TEST(every_truncation_refused)
{
	struct queue_env	 out;
	const char		*why;
	size_t			 len;

	for (len = 0; len < textlen; len++)
		ck_assert_msg(queue_env_parse(text, len, NULL, &out, &why) == -1,
		    "truncated at %zu accepted", len);
	/* cut at a line end: said as such */
	len = (size_t)((char *)memmem(text, textlen, "\nuser: ", 7) - text) + 1;
	ck_assert_int_eq(queue_env_parse(text, len, NULL, &out, &why), -1);
	ck_assert_str_eq(why, "truncated (no end line)");
}
END_TEST

START_TEST(end_line)
{
	bad("\nend\n", "\n");
	bad("\nend\n", "\nend\nuser: x\n");
	bad("\nend\n", "\nend\n\n");
	bad("\nend\n", "\nEND\n");
	bad("\nend\n", "\nend \n");
}
END_TEST

START_TEST(header_line)
{
	bad("submitd-envelope 1\n", "submitd-envelope 2\n");
	bad("submitd-envelope 1\n", "");
	bad("submitd-envelope 1\n", "submitd-envelope 1 \n");
}
END_TEST

START_TEST(overlong_values)
{
	char	 v[2048];

	memset(v, 'a', sizeof(v));
	v[AUTH_USER_MAX] = '\0';
	{
		char	 line[2100];

		snprintf(line, sizeof(line), "user: %s\n", v);
		good("user: alice@example.org\n", line);
		v[AUTH_USER_MAX] = 'a';
		v[AUTH_USER_MAX + 1] = '\0';
		snprintf(line, sizeof(line), "user: %s\n", v);
		bad("user: alice@example.org\n", line);

		memset(v, 'b', sizeof(v));
		v[SMTP_PATH_MAX] = '\0';
		snprintf(line, sizeof(line), "rcpt: pending %s\n", v);
		good("rcpt: pending bob@example.net\n", line);
		v[SMTP_PATH_MAX] = 'b';
		v[SMTP_PATH_MAX + 1] = '\0';
		snprintf(line, sizeof(line), "rcpt: pending %s\n", v);
		bad("rcpt: pending bob@example.net\n", line);

		memset(v, 'c', sizeof(v));
		v[SMTP_REPLYLINE_MAX] = '\0';
		snprintf(line, sizeof(line), "reply: %s\n", v);
		bad("reply: 250 2.1.5 Ok\n", line);
		v[SMTP_REPLYLINE_MAX - 1] = '\0';
		snprintf(line, sizeof(line), "reply: %s\n", v);
		good("reply: 250 2.1.5 Ok\n", line);

		memset(v, 'd', sizeof(v));
		v[64] = '\0';
		snprintf(line, sizeof(line), "client: %s\n", v);
		bad("client: 2001:db8::7\n", line);
	}
}
END_TEST

/* A NUL octet inside "user: alice@example.org" is refused. */
static void
nul_inside_value(void)
{
	struct queue_env	 out;
	const char		*why;
	char			*p, *buf;

	p = memmem(text, textlen, "user: alice@example.org\n", 24);
	ck_assert_ptr_nonnull(p);
	buf = malloc(textlen);
	memcpy(buf, text, textlen);
	buf[(p - text) + 8] = '\0';
	ck_assert_int_eq(queue_env_parse(buf, textlen, NULL, &out, &why), -1);
	free(buf);
}

START_TEST(control_characters)
{
	bad("helo: laptop", "helo: lap\ttop");
	bad("helo: laptop", "helo: lap\rtop");
	bad("helo: laptop", "helo: lap\x7ftop");
	bad("user: alice", "user: al\x1b" "ice");
	bad("reply: 250", "reply: 25\x01");
	nul_inside_value();
	good("helo: laptop", "helo: lap\xc3\xa9top");	/* UTF-8 is fine */
}
END_TEST

START_TEST(bad_states_and_keys)
{
	bad("rcpt: pending bob", "rcpt: sent bob");
	bad("rcpt: pending bob", "rcpt: Pending bob");
	bad("rcpt: pending bob@example.net\n", "rcpt: pending\n");
	bad("rcpt: pending bob@example.net\n", "rcpt: pending \n");
	bad("user: ", "colour: blue\nuser: ");
	bad("user: ", "user: x\nuser: ");		/* repeated */
	bad("user: alice@example.org\n", "");		/* missing */
	bad("user: ", "user:");
	bad("body: 8bitmime", "body: binarymime");
	bad("rcpt: pending bob@example.net\n", "reply: 250 ok\n"
	    "rcpt: pending bob@example.net\n");		/* reply first */
	bad("reply: 250 2.1.5 Ok\n", "reply: 250 2.1.5 Ok\nreply: again\n");
	bad("reply: 250 2.1.5 Ok\n", "reply: \n");
}
END_TEST

START_TEST(no_recipient)
{
	const char		*why;
	struct queue_env	 out;
	char			*p, *q, *buf;
	size_t			 len = 0, i;

	/* drop every rcpt: and reply: line */
	buf = malloc(textlen + 1);
	for (p = text; p < text + textlen; p = q + 1) {
		q = memchr(p, '\n', (size_t)(text + textlen - p));
		if (strncmp(p, "rcpt: ", 6) == 0 || strncmp(p, "reply: ", 7) == 0)
			continue;
		for (i = 0; p + i <= q; i++)
			buf[len++] = p[i];
	}
	ck_assert_int_eq(queue_env_parse(buf, len, NULL, &out, &why), -1);
	ck_assert_str_eq(why, "no recipient");
	free(buf);
}
END_TEST

START_TEST(optional_flags)
{
	good("warned: yes\n", "");
	good("warned: yes\n", "warned: yes\nhold: yes\nbounce: yes\n");
	bad("warned: yes\n", "warned: no\n");
	bad("warned: yes\n", "warned: yes\nwarned: yes\n");
	bad("warned: yes\n", "hold: YES\n");
	bad("warned: yes\n", "bounce: \n");
	good("last-try: 1764429000\n", "");
	bad("last-try: 1764429000\n", "last-try: soon\n");
}
END_TEST

START_TEST(bad_numbers)
{
	bad("attempts: 2\n", "attempts: -2\n");
	bad("attempts: 2\n", "attempts: 02\n");
	bad("attempts: 2\n", "attempts: 2x\n");
	bad("attempts: 2\n", "attempts: \n");
	bad("attempts: 2\n", "attempts: 1000001\n");
	good("attempts: 2\n", "attempts: 1000000\n");
	bad("size: 12345\n", "size: 18446744073709551616\n");
	good("size: 12345\n", "size: 18446744073709551615\n");
	bad("created: 1764427847\n", "created: 99999999999999\n");
	bad("next-try: 1764430000\n", "next-try: +1764430000\n");
	good("next-try: 1764430000\n", "next-try: 0\n");
}
END_TEST

START_TEST(bad_id_and_dkim)
{
	const char		*why;
	struct queue_env	 out;

	bad("id: ", "id: g");
	bad("id: ", "id: 1");		/* 20 digits */
	ck_assert_int_eq(queue_env_parse(text, textlen, "0000000000000000000",
	    &out, &why), -1);
	ck_assert_str_eq(why, "id does not match file name");
	bad("dkim: ", "dkim: !");
	bad("dkim: ", "dkim: \ndkim: ");
	bad("dkim: ", "dkim: ===");
}
END_TEST

START_TEST(format_refuses_bad_values)
{
	char	*t;
	size_t	 len;

	strcpy(qe.env.helo, "evil\r\nrcpt: pending x@y");
	ck_assert_int_eq(queue_env_format(&qe, &t, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	strcpy(qe.env.helo, "ok");
	qe.env.rcpt[0].forward_path[0] = '\0';
	ck_assert_int_eq(queue_env_format(&qe, &t, &len), -1);
	strcpy(qe.env.rcpt[0].forward_path, "a@b");
	qe.prefixlen = QUEUE_PREFIX_MAX + 1;
	ck_assert_int_eq(queue_env_format(&qe, &t, &len), -1);
}
END_TEST

START_TEST(file_write_read)
{
	char			 dir[] = "/tmp/test_queue_env.XXXXXX", path[256];
	struct queue_env	 out;
	const char		*why;
	int			 dfd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(queue_env_write(dfd, qe.env.queue_id, &qe, 1), 0);
	ck_assert_int_eq(queue_env_read(dfd, qe.env.queue_id, &out, &why), 0);
	ck_assert_uint_eq(out.env.nrcpt, 3);
	queue_env_free(&out);
	/* a second write replaces it, no .env.tmp left */
	qe.attempts = 3;
	ck_assert_int_eq(queue_env_write(dfd, qe.env.queue_id, &qe, 1), 0);
	ck_assert_int_eq(queue_env_read(dfd, qe.env.queue_id, &out, &why), 0);
	ck_assert_uint_eq(out.attempts, 3);
	queue_env_free(&out);
	snprintf(path, sizeof(path), "%s/%s.env.tmp", dir, qe.env.queue_id);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* missing file: I/O error, not corrupt */
	ck_assert_int_eq(queue_env_read(dfd, "0000000000000000000", &out, &why),
	    -1);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/%s.env", dir, qe.env.queue_id);
	unlink(path);
	close(dfd);
	rmdir(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("queue_env");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, text_shape);
	tcase_add_test(tc, null_sender_no_prefix);
	tcase_add_test(tc, smtputf8_flag);
	tcase_add_test(tc, every_truncation_refused);
	tcase_add_test(tc, end_line);
	tcase_add_test(tc, header_line);
	tcase_add_test(tc, overlong_values);
	tcase_add_test(tc, control_characters);
	tcase_add_test(tc, bad_states_and_keys);
	tcase_add_test(tc, no_recipient);
	tcase_add_test(tc, optional_flags);
	tcase_add_test(tc, bad_numbers);
	tcase_add_test(tc, bad_id_and_dkim);
	tcase_add_test(tc, format_refuses_bad_values);
	tcase_add_test(tc, file_write_read);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
