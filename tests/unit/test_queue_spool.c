/*
 * test_queue_spool.c — the spool on disk: start-up cleanup, open, commit,
 * abort, and the scheduler driving a fake relay (2xx, 4xx, 5xx, expiry,
 * capacity).  The machine may be loaded: what must happen is waited for
 * up to WAIT seconds; what must not is looked for briefly, or checked by
 * the times the fake relay saw.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "conf/conf.h"
#include "queue/queue.h"
#include "queue/queue_env.h"
#include "queue/queue_id.h"
#include "queue/queue_priv.h"
#include "lib/log.h"

#include "tests/unit/check_main.h"

#define WAIT	30.0	/* seconds: a generous deadline, for a loaded machine */

static char			 top[64];
static char			 spool[128];
static struct conf		 conf;
static struct event_base	*base;
static struct queue		*q;

/*
 * A file system without O_TMPFILE, for the fallback of queue_open.c: this
 * program's openat (the queue's calls resolve to it; with 64-bit file
 * offsets <fcntl.h> names it openat64) refuses O_TMPFILE with EOPNOTSUPP
 * while refuse_tmpfile is set, as such file systems do.
 */
static int			 refuse_tmpfile;

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list	 ap;
	mode_t	 mode = 0;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (refuse_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static void
setup(void)
{
	log_init(1, 0);
	strcpy(top, "/tmp/test_queue_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(spool, sizeof(spool), "%s/spool", top);
	memset(&conf, 0, sizeof(conf));
	conf.queue_dir = spool;
	conf.queue_lifetime = 3600;
	conf.queue_retry_min = 1;
	conf.queue_retry_max = 2;
	conf.max_message_size = 35 * 1024 * 1024;
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	q = NULL;
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

/* Runs the loop until *FLAG is set or SECS pass. */
static void
run_until(const int *flag, double secs)
{
	struct timespec	 t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (flag != NULL && *flag)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) +
		    (t.tv_nsec - t0.tv_nsec) / 1e9 > secs)
			return;
		usleep(1000);
	}
}

/* Runs the loop until the queue holds N messages or SECS pass; the count. */
static size_t
count_becomes(size_t n, double secs)
{
	struct timespec	 t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (queue_count(q) != n) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) +
		    (t.tv_nsec - t0.tv_nsec) / 1e9 > secs)
			break;
		usleep(1000);
	}
	return queue_count(q);
}

static int
spool_has(const char *dir, const char *name)
{
	char	 path[256];

	snprintf(path, sizeof(path), "%s/%s/%s", spool, dir, name);
	return access(path, F_OK) == 0;
}

static int
spool_files(const char *dir)
{
	char		 path[256];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	snprintf(path, sizeof(path), "%s/%s", spool, dir);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
spool_write(const char *name, const char *text, size_t len)
{
	char	 path[256];
	int	 fd;

	snprintf(path, sizeof(path), "%s/queue/%s", spool, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void
make_env(struct envelope *e, const char *id, size_t nrcpt)
{
	size_t	 i;

	memset(e, 0, sizeof(*e));
	strcpy(e->queue_id, id);
	strcpy(e->user, "alice@example.org");
	strcpy(e->client_addr, "127.0.0.1");
	strcpy(e->helo, "client.example.org");
	strcpy(e->reverse_path, "alice@example.org");
	strcpy(e->from_domain, "example.org");
	e->created = time(NULL);
	e->nrcpt = nrcpt;
	e->rcpt = calloc(nrcpt, sizeof(*e->rcpt));
	for (i = 0; i < nrcpt; i++)
		snprintf(e->rcpt[i].forward_path,
		    sizeof(e->rcpt[i].forward_path), "rcpt%zu@example.net", i);
}

/* Writes a committed message ID (envelope and file) by hand. */
static void
spool_put(const char *id)
{
	struct queue_env	 qe;
	char			*text, name[64];
	size_t			 len;

	memset(&qe, 0, sizeof(qe));
	make_env(&qe.env, id, 1);
	ck_assert_int_eq(queue_env_format(&qe, &text, &len), 0);
	snprintf(name, sizeof(name), "%s.env", id);
	spool_write(name, text, len);
	snprintf(name, sizeof(name), "%s.msg", id);
	spool_write(name, "Subject: x\r\n\r\nhi\r\n", 18);
	free(text);
	queue_env_free(&qe);
}

static void
spool_mkdirs(void)
{
	char	 path[256];

	ck_assert_int_eq(mkdir(spool, 0700), 0);
	snprintf(path, sizeof(path), "%s/queue", spool);
	ck_assert_int_eq(mkdir(path, 0700), 0);
}

/* Open and commit through the queue. */

struct sub {
	int			 opened, committed;
	enum queue_status	 open_status, status;
	int			 fd;
	char			 id[QUEUE_ID_SIZE];
};

static void
open_cb(void *arg, enum queue_status status, int fd, const char *id)
{
	struct sub	*s = arg;

	s->opened = 1;
	s->open_status = status;
	s->fd = fd;
	memcpy(s->id, id, strlen(id) + 1);
}

static void
commit_cb(void *arg, enum queue_status status, const char *id)
{
	struct sub	*s = arg;

	s->committed = 1;
	s->status = status;
	ck_assert_str_eq(id, s->id);
}

static const char message[] = "From: alice@example.org\r\nSubject: hi\r\n"
    "\r\nHello.\r\n";
#define HEADER_LEN	38	/* up to the empty line */

static void
sub_open(struct sub *s)
{
	memset(s, 0, sizeof(*s));
	queue_message_open(q, open_cb, s);
	ck_assert_int_eq(s->opened, 0);		/* never from inside the call */
	run_until(&s->opened, WAIT);
	ck_assert_int_eq(s->open_status, QUEUE_OK);
	ck_assert_int_ge(s->fd, 0);
	ck_assert(queue_id_valid(s->id));
}

/* A whole submission with NRCPT recipients created at CREATED (0: now). */
static void
submit(struct sub *s, size_t nrcpt, time_t created,
    const struct queue_sign_input *sign)
{
	struct envelope	 env;

	sub_open(s);
	ck_assert_int_eq(write(s->fd, message, sizeof(message) - 1),
	    (ssize_t)sizeof(message) - 1);
	close(s->fd);
	make_env(&env, s->id, nrcpt);
	if (created)
		env.created = created;
	queue_message_commit(q, s->id, &env, sign, commit_cb, s);
	envelope_free(&env);		/* the queue copied it */
	ck_assert_int_eq(s->committed, 0);
	run_until(&s->committed, WAIT);
}

static void
read_env(const char *id, struct queue_env *qe)
{
	char		 path[256];
	const char	*why;
	int		 dfd;

	snprintf(path, sizeof(path), "%s/queue", spool);
	dfd = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert_msg(queue_env_read(dfd, id, qe, &why) == 0, "%s",
	    why ? why : "I/O error");
	close(dfd);
}

START_TEST(startup_cleanup)
{
	const char	*a = "0000000000001000000", *b = "0000000000002000000",
			*c = "0000000000003000000", *d = "0000000000004000000",
			*e = "0000000000005000000", *f = "0000000000006000000";
	char		 name[64];

	spool_mkdirs();
	snprintf(name, sizeof(name), "%s.tmp", a);
	spool_write(name, "half", 4);			/* half-received */
	spool_put(b);
	snprintf(name, sizeof(name), "%s.env.tmp", b);
	spool_write(name, "submitd-envelope 1\nid: ", 23);	/* half-rewritten */
	snprintf(name, sizeof(name), "%s.msg", c);
	spool_write(name, "orphan", 6);			/* crash before .env */
	spool_put(d);
	snprintf(name, sizeof(name), "%s.env", d);
	spool_write(name, "submitd-envelope 1\nid: 0000000000004000000\n", 43);
	spool_put(e);
	snprintf(name, sizeof(name), "%s.msg", e);
	{
		char	 path[256];

		snprintf(path, sizeof(path), "%s/queue/%s", spool, name);
		unlink(path);				/* envelope only */
	}
	spool_put(f);
	spool_write("README", "not ours", 8);

	q = queue_new(base, &conf);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(queue_count(q), 2);		/* b and f */
	ck_assert_int_eq(spool_files("queue"), 5);
	ck_assert(spool_has("queue", "0000000000002000000.env"));
	ck_assert(spool_has("queue", "0000000000002000000.msg"));
	ck_assert(spool_has("queue", "0000000000006000000.env"));
	ck_assert(spool_has("queue", "0000000000006000000.msg"));
	ck_assert(spool_has("queue", "README"));
	ck_assert_int_eq(spool_files("corrupt"), 3);
	ck_assert(spool_has("corrupt", "0000000000004000000.env"));
	ck_assert(spool_has("corrupt", "0000000000004000000.msg"));
	ck_assert(spool_has("corrupt", "0000000000005000000.env"));
}
END_TEST

START_TEST(large_spool_in_background)
{
	char	 id[QUEUE_ID_SIZE];
	int	 i;

	spool_mkdirs();
	for (i = 0; i < 2600; i++) {
		queue_id_make(id, 1000000 + (uint64_t)i, (uint32_t)i);
		spool_put(id);
	}
	q = queue_new(base, &conf);
	ck_assert_ptr_nonnull(q);
	/* the oldest first, at once; the rest from the event loop */
	ck_assert_uint_lt(queue_count(q), 2600);
	ck_assert_uint_gt(queue_count(q), 0);
	ck_assert_uint_eq(count_becomes(2600, WAIT), 2600);
}
END_TEST

START_TEST(creates_spool)
{
	struct stat	 st;
	char		 path[256];

	snprintf(spool, sizeof(spool), "%s/a/b/spool", top);
	q = queue_new(base, &conf);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(queue_count(q), 0);
	snprintf(path, sizeof(path), "%s/queue", spool);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/corrupt", spool);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(spool, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
}
END_TEST

START_TEST(spool_unusable)
{
	char	 path[256];

	snprintf(path, sizeof(path), "%s/file", top);
	spool_mkdirs();
	close(open(path, O_CREAT | O_WRONLY, 0600));
	conf.queue_dir = path;		/* a file, not a directory */
	ck_assert_ptr_null(queue_new(base, &conf));
}
END_TEST

START_TEST(open_commit)
{
	struct queue_env	 qe;
	struct stat		 st;
	struct sub		 s;
	char			 name[64];

	q = queue_new(base, &conf);
	submit(&s, 2, 0, NULL);
	ck_assert_int_eq(s.status, QUEUE_OK);
	snprintf(name, sizeof(name), "%s.tmp", s.id);
	ck_assert(!spool_has("queue", name));
	snprintf(name, sizeof(name), "%s.msg", s.id);
	ck_assert(spool_has("queue", name));
	{
		char	 path[256];

		snprintf(path, sizeof(path), "%s/queue/%s", spool, name);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_size, sizeof(message) - 1);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
	}
	read_env(s.id, &qe);
	ck_assert_uint_eq(qe.env.nrcpt, 2);
	ck_assert_uint_eq(qe.env.size, sizeof(message) - 1);
	ck_assert_uint_eq(qe.attempts, 0);
	ck_assert_ptr_null(qe.prefix);
	queue_env_free(&qe);
	ck_assert_uint_eq(queue_count(q), 1);
	ck_assert_int_eq(spool_files("queue"), 2);

	/* a restart finds it */
	queue_free(q);
	q = queue_new(base, &conf);
	ck_assert_uint_eq(queue_count(q), 1);
}
END_TEST

#define SIGNATURE	"DKIM-Signature: v=1; d=example.org\r\n"
static int	 signer_fail;

static int
signer(void *arg, const char *from_domain, const char *hdr, size_t hdrlen,
    const struct queue_sign_input *in, char **prefix, size_t *prefixlen)
{
	(void)arg;
	ck_assert_str_eq(from_domain, "example.org");
	ck_assert_uint_eq(hdrlen, HEADER_LEN);
	ck_assert_mem_eq(hdr, message, HEADER_LEN);
	ck_assert_int_eq(in->bh_relaxed[0], 0xAB);
	if (signer_fail)
		return -1;
	*prefix = strdup(SIGNATURE);
	*prefixlen = strlen(*prefix);
	return 0;
}

START_TEST(commit_signs)
{
	struct queue_sign_input	 sign;
	struct queue_env	 qe;
	struct sub		 s;

	memset(&sign, 0, sizeof(sign));
	sign.header_len = HEADER_LEN;
	sign.bh_relaxed[0] = 0xAB;
	q = queue_new(base, &conf);
	queue_set_signer(q, signer, NULL);
	signer_fail = 0;
	submit(&s, 1, 0, &sign);
	ck_assert_int_eq(s.status, QUEUE_OK);
	read_env(s.id, &qe);
	ck_assert_uint_eq(qe.prefixlen, strlen(SIGNATURE));
	ck_assert_mem_eq(qe.prefix, SIGNATURE, qe.prefixlen);
	queue_env_free(&qe);

	/* a failing signer: 451, nothing left behind */
	signer_fail = 1;
	submit(&s, 1, 0, &sign);
	ck_assert_int_eq(s.status, QUEUE_ERR_TEMP);
	ck_assert_int_eq(spool_files("queue"), 2);	/* the first one only */
	ck_assert_uint_eq(queue_count(q), 1);

	/* a header length past the file */
	signer_fail = 0;
	sign.header_len = sizeof(message) + 10;
	submit(&s, 1, 0, &sign);
	ck_assert_int_eq(s.status, QUEUE_ERR_TEMP);
	ck_assert_int_eq(spool_files("queue"), 2);
}
END_TEST

/*
 * The writer's descriptor, kept past the commit, reaches neither the
 * committed file nor anything named in the spool (issue 12; since the
 * writer's file has no name, issue 18).
 */
START_TEST(writer_fd_after_commit)
{
	struct envelope	 env;
	struct sub	 s;
	char		 name[64], path[256], got[sizeof(message)];
	int		 fd;

	q = queue_new(base, &conf);
	sub_open(&s);
	ck_assert_int_eq(write(s.fd, message, sizeof(message) - 1),
	    (ssize_t)sizeof(message) - 1);
	make_env(&env, s.id, 1);
	queue_message_commit(q, s.id, &env, NULL, commit_cb, &s);
	envelope_free(&env);
	run_until(&s.committed, WAIT);
	ck_assert_int_eq(s.status, QUEUE_OK);
	ck_assert_int_eq(pwrite(s.fd, "EVIL", 4, 0), 4);
	ck_assert_int_eq(ftruncate(s.fd, 4), 0);
	close(s.fd);
	snprintf(name, sizeof(name), "%s.msg", s.id);
	snprintf(path, sizeof(path), "%s/queue/%s", spool, name);
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	ck_assert_int_eq(read(fd, got, sizeof(got)),
	    (ssize_t)sizeof(message) - 1);
	ck_assert_mem_eq(got, message, sizeof(message) - 1);
	close(fd);
	ck_assert_int_eq(spool_files("queue"), 2);	/* .msg and .env */
}
END_TEST

/* One commit's writer fd kept open; the message committed. */
static void
commit_keeping_writer(struct sub *s)
{
	struct envelope	 env;

	sub_open(s);
	ck_assert_int_eq(write(s->fd, message, sizeof(message) - 1),
	    (ssize_t)sizeof(message) - 1);
	make_env(&env, s->id, 1);
	queue_message_commit(q, s->id, &env, NULL, commit_cb, s);
	envelope_free(&env);
	run_until(&s->committed, WAIT);
	ck_assert_int_eq(s->status, QUEUE_OK);
}

/*
 * A writer's file, once copied, is handed out again empty and at offset
 * 0 (no inode per message); one written to after its commit (by a writer
 * that kept it) is not handed out again.
 */
START_TEST(writer_files_reused_empty)
{
	struct sub	 a, b, c;
	struct stat	 sa, sb, sc;

	q = queue_new(base, &conf);
	commit_keeping_writer(&a);
	ck_assert_int_eq(fstat(a.fd, &sa), 0);
	sub_open(&b);
	ck_assert_int_eq(fstat(b.fd, &sb), 0);
	ck_assert_uint_eq(sb.st_ino, sa.st_ino);	/* the same file */
	ck_assert_int_eq(sb.st_size, 0);
	ck_assert_int_eq(lseek(b.fd, 0, SEEK_CUR), 0);
	queue_message_abort(q, b.id);
	close(b.fd);
	/* written after its abort, through the kept fd */
	ck_assert_int_eq(write(a.fd, "EVIL", 4), 4);
	sub_open(&c);
	ck_assert_int_eq(fstat(c.fd, &sc), 0);
	ck_assert_uint_ne(sc.st_ino, sa.st_ino);
	ck_assert_int_eq(sc.st_size, 0);
	queue_message_abort(q, c.id);
	close(c.fd);
	close(a.fd);
}
END_TEST

/* Without O_TMPFILE, the file is created and unlinked at once. */
START_TEST(writer_without_tmpfile)
{
	struct sub	 s;
	char		 name[64];

	q = queue_new(base, &conf);
	refuse_tmpfile = 1;
	commit_keeping_writer(&s);
	refuse_tmpfile = 0;
	close(s.fd);
	snprintf(name, sizeof(name), "%s.msg", s.id);
	ck_assert(spool_has("queue", name));
	ck_assert_int_eq(spool_files("queue"), 2);	/* .msg and .env */
}
END_TEST

START_TEST(abort_and_unknown)
{
	struct envelope	 env;
	struct sub	 s;
	char		 name[64];

	q = queue_new(base, &conf);
	sub_open(&s);
	close(s.fd);
	/* the file being received has no name: nothing to remove */
	snprintf(name, sizeof(name), "%s.tmp", s.id);
	ck_assert(!spool_has("queue", name));
	ck_assert_int_eq(spool_files("queue"), 0);
	queue_message_abort(q, s.id);
	ck_assert_int_eq(spool_files("queue"), 0);

	/* commit of an ID never opened (or already aborted) */
	make_env(&env, s.id, 1);
	queue_message_commit(q, s.id, &env, NULL, commit_cb, &s);
	run_until(&s.committed, WAIT);
	ck_assert_int_eq(s.status, QUEUE_ERR_TEMP);
	/* an envelope whose ID differs */
	sub_open(&s);
	close(s.fd);
	queue_message_commit(q, s.id, &env, NULL, commit_cb, &s);
	run_until(&s.committed, WAIT);
	ck_assert_int_eq(s.status, QUEUE_ERR_TEMP);
	ck_assert_int_eq(spool_files("queue"), 0);
	envelope_free(&env);
	ck_assert_uint_eq(queue_count(q), 0);
}
END_TEST

START_TEST(status_of_errno)
{
	ck_assert_int_eq(queue_status_errno(ENOSPC), QUEUE_ERR_NOSPACE);
	ck_assert_int_eq(queue_status_errno(EDQUOT), QUEUE_ERR_NOSPACE);
	ck_assert_int_eq(queue_status_errno(EIO), QUEUE_ERR_TEMP);
	ck_assert_int_eq(queue_status_errno(EACCES), QUEUE_ERR_TEMP);
}
END_TEST

/* The fake relay. */

struct fake {
	int		 capacity, inflight, ndeliver;
	uint64_t	 reqid[64];
	size_t		 npending[64];
	char		 body[256];
	size_t		 bodylen;
	char		 prefix[128];
	char		 rpath[64][SMTP_PATH_MAX + 1];	/* reverse-paths */
	char		 rcpt0[64][SMTP_PATH_MAX + 1];	/* first recipients */
	time_t		 when[64];	/* time(NULL) at each delivery */
	int		 from_daemon[64];	/* its body names MAILER-DAEMON@ */
};
static struct fake	 fake;

static int
fake_has_capacity(void *ctx)
{
	ck_assert_ptr_eq(ctx, &fake);
	return fake.inflight < fake.capacity;
}

static int
fake_deliver(void *ctx, uint64_t reqid, int fd, const char *prefix,
    size_t prefixlen, const struct envelope *env)
{
	ssize_t	 n;

	ck_assert_ptr_eq(ctx, &fake);
	ck_assert_int_lt(fake.ndeliver, 64);
	ck_assert_int_lt(fake.inflight, fake.capacity);
	fake.reqid[fake.ndeliver] = reqid;
	fake.when[fake.ndeliver] = time(NULL);
	fake.npending[fake.ndeliver] = queue_env_pending(env);
	snprintf(fake.rpath[fake.ndeliver], sizeof(fake.rpath[0]), "%s",
	    env->reverse_path);
	snprintf(fake.rcpt0[fake.ndeliver], sizeof(fake.rcpt0[0]), "%s",
	    env->rcpt[0].forward_path);
	n = pread(fd, fake.body, sizeof(fake.body), 0);
	ck_assert_int_ge(n, 0);
	fake.bodylen = (size_t)n;
	fake.from_daemon[fake.ndeliver] = memmem(fake.body, fake.bodylen,
	    "MAILER-DAEMON@", 14) != NULL;
	ck_assert_uint_lt(prefixlen, sizeof(fake.prefix));
	memcpy(fake.prefix, prefix ? prefix : "", prefixlen);
	fake.prefix[prefixlen] = '\0';
	fake.ndeliver++;
	fake.inflight++;
	return 0;
}

static const struct queue_relay_ops fake_ops = {
	.has_capacity = fake_has_capacity,
	.deliver = fake_deliver,
};

/* Answers delivery number I with CODES for its recipients. */
static void
fake_done(int i, const int *codes, size_t n, const char *session_error)
{
	struct relay_rcpt_result	 rr[8];
	struct relay_result		 res;
	size_t				 k;

	memset(&res, 0, sizeof(res));
	memset(rr, 0, sizeof(rr));
	res.reqid = fake.reqid[i];
	res.nrcpt = n;
	res.rcpt = rr;
	for (k = 0; k < n; k++) {
		rr[k].code = codes[k];
		if (codes[k])
			snprintf(rr[k].reply, sizeof(rr[k].reply),
			    "%d x.y.z reply %zu", codes[k], k);
	}
	snprintf(res.session_error, sizeof(res.session_error), "%s",
	    session_error ? session_error : "");
	fake.inflight--;
	queue_relay_done(&res, q);
}

static int
ndeliver_at_least(int n, double secs)
{
	struct timespec	 t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (fake.ndeliver < n) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) +
		    (t.tv_nsec - t0.tv_nsec) / 1e9 > secs)
			break;
		usleep(1000);
	}
	return fake.ndeliver;
}

START_TEST(deliver_retry_remove)
{
	static const int	 first[] = { 250, 450, 550 };
	static const int	 second[] = { 0, 250, 0 };
	struct queue_env	 qe;
	struct sub		 s;
	char			 name[64];
	time_t			 now, done, next_try;

	memset(&fake, 0, sizeof(fake));
	fake.capacity = 4;
	q = queue_new(base, &conf);
	submit(&s, 3, 0, NULL);
	ck_assert_int_eq(s.status, QUEUE_OK);
	ck_assert_int_eq(ndeliver_at_least(1, 0.2), 0);	/* no relay yet */
	queue_set_relay_ops(q, &fake_ops, &fake);
	ck_assert_int_eq(ndeliver_at_least(1, WAIT), 1);
	ck_assert_uint_eq(fake.npending[0], 3);
	ck_assert_uint_eq(fake.bodylen, sizeof(message) - 1);
	ck_assert_mem_eq(fake.body, message, fake.bodylen);
	ck_assert_uint_eq(queue_count(q), 1);

	now = time(NULL);
	fake_done(0, first, 3, NULL);
	done = time(NULL);
	read_env(s.id, &qe);
	ck_assert_int_eq(qe.env.rcpt[0].state, RCPT_DONE);
	ck_assert_int_eq(qe.env.rcpt[1].state, RCPT_PENDING);
	ck_assert_int_eq(qe.env.rcpt[2].state, RCPT_FAILED);
	ck_assert_str_eq(qe.env.rcpt[1].last_reply, "450 x.y.z reply 1");
	ck_assert_str_eq(qe.env.rcpt[2].last_reply, "550 x.y.z reply 2");
	ck_assert_uint_eq(qe.attempts, 1);
	ck_assert_int_ge(qe.last_try, now);
	ck_assert_int_ge(qe.next_try, now + 1);
	ck_assert_int_le(qe.next_try, done + 1);	/* retry-min 1s */
	next_try = qe.next_try;
	queue_env_free(&qe);
	/*
	 * the message, and the DSN for its 550 recipient (issue 7): the DSN
	 * is due at once, so it goes first; the retry, due a second later,
	 * may have followed it by now on a loaded machine
	 */
	ck_assert_uint_eq(queue_count(q), 2);
	ck_assert_int_ge(ndeliver_at_least(2, WAIT), 2);
	ck_assert_str_eq(fake.rpath[1], "");
	ck_assert_str_eq(fake.rcpt0[1], "alice@example.org");
	ck_assert(fake.from_daemon[1]);
	fake_done(1, (const int[]){ 250 }, 1, NULL);
	ck_assert_uint_eq(queue_count(q), 1);

	/*
	 * retried after the backoff (not before its time: however long the
	 * steps above took under load), with only the pending recipient
	 */
	ck_assert_int_eq(ndeliver_at_least(3, WAIT), 3);
	ck_assert_int_ge(fake.when[2], next_try);
	ck_assert_uint_eq(fake.npending[2], 1);
	ck_assert_str_eq(fake.rpath[2], "alice@example.org");
	fake_done(2, second, 3, NULL);
	snprintf(name, sizeof(name), "%s.env", s.id);
	ck_assert(!spool_has("queue", name));
	snprintf(name, sizeof(name), "%s.msg", s.id);
	ck_assert(!spool_has("queue", name));
	ck_assert_uint_eq(queue_count(q), 0);
}
END_TEST

START_TEST(session_error_keeps_pending)
{
	static const int	 none[] = { 0, 0 };
	struct queue_env	 qe;
	struct sub		 s;
	time_t			 now;

	memset(&fake, 0, sizeof(fake));
	fake.capacity = 1;
	conf.queue_retry_min = 600;
	conf.queue_retry_max = 3600;
	q = queue_new(base, &conf);
	queue_set_relay_ops(q, &fake_ops, &fake);
	submit(&s, 2, 0, NULL);
	ck_assert_int_eq(ndeliver_at_least(1, WAIT), 1);
	now = time(NULL);
	fake_done(0, none, 2, "connect: Connection refused");
	read_env(s.id, &qe);
	ck_assert_int_eq(qe.env.rcpt[0].state, RCPT_PENDING);
	ck_assert_int_eq(qe.env.rcpt[1].state, RCPT_PENDING);
	ck_assert_str_eq(qe.env.rcpt[0].last_reply,
	    "connect: Connection refused");
	ck_assert_int_ge(qe.next_try, now + 540);	/* 600 s, -10 % */
	ck_assert_int_le(qe.next_try, time(NULL) + 660);
	queue_env_free(&qe);
	/* nothing more for now: the next try is minutes away */
	ck_assert_int_eq(ndeliver_at_least(2, 0.2), 1);

	/* a restart keeps the schedule */
	queue_free(q);
	q = queue_new(base, &conf);
	queue_set_relay_ops(q, &fake_ops, &fake);
	ck_assert_uint_eq(queue_count(q), 1);
	ck_assert_int_eq(ndeliver_at_least(2, 0.2), 1);
}
END_TEST

START_TEST(lifetime_expires)
{
	static const int	 later[] = { 451 };
	struct sub		 s;

	memset(&fake, 0, sizeof(fake));
	fake.capacity = 1;
	conf.queue_lifetime = 60;
	q = queue_new(base, &conf);
	queue_set_relay_ops(q, &fake_ops, &fake);
	submit(&s, 1, time(NULL) - 61, NULL);
	ck_assert_int_eq(ndeliver_at_least(1, WAIT), 1);
	fake_done(0, later, 1, NULL);
	/* expired: removed, and its DSN (issue 7) is queued in its place */
	ck_assert_uint_eq(queue_count(q), 1);
	ck_assert_int_eq(ndeliver_at_least(2, WAIT), 2);
	ck_assert_str_eq(fake.rpath[1], "");
	/* the DSN fails too: dropped, never bounced */
	fake_done(1, (const int[]){ 550 }, 1, NULL);
	ck_assert_uint_eq(queue_count(q), 0);
	ck_assert_int_eq(spool_files("queue"), 0);
}
END_TEST

START_TEST(capacity_limits)
{
	static const int	 ok[] = { 250 };
	struct sub		 s;
	int			 i;

	memset(&fake, 0, sizeof(fake));
	fake.capacity = 2;
	q = queue_new(base, &conf);
	for (i = 0; i < 5; i++)
		submit(&s, 1, 0, NULL);
	ck_assert_uint_eq(queue_count(q), 5);
	queue_set_relay_ops(q, &fake_ops, &fake);
	/* as many as the capacity (waited for), and no more (a glance) */
	ck_assert_int_eq(ndeliver_at_least(2, WAIT), 2);
	ck_assert_int_eq(ndeliver_at_least(3, 0.3), 2);
	fake_done(0, ok, 1, NULL);
	ck_assert_int_eq(ndeliver_at_least(3, WAIT), 3);
	ck_assert_int_eq(ndeliver_at_least(4, 0.3), 3);
	fake_done(1, ok, 1, NULL);
	fake_done(2, ok, 1, NULL);
	ck_assert_int_eq(ndeliver_at_least(5, WAIT), 5);
	ck_assert_int_eq(ndeliver_at_least(6, 0.3), 5);
	fake_done(3, ok, 1, NULL);
	fake_done(4, ok, 1, NULL);
	ck_assert_uint_eq(queue_count(q), 0);
	ck_assert_int_eq(spool_files("queue"), 0);
}
END_TEST

START_TEST(corrupt_when_due)
{
	struct sub	 s;
	char		 name[64];

	memset(&fake, 0, sizeof(fake));
	fake.capacity = 1;
	q = queue_new(base, &conf);
	submit(&s, 1, 0, NULL);
	snprintf(name, sizeof(name), "%s.env", s.id);
	spool_write(name, "garbage\n", 8);
	queue_set_relay_ops(q, &fake_ops, &fake);
	ck_assert_uint_eq(count_becomes(0, WAIT), 0);
	ck_assert_int_eq(fake.ndeliver, 0);
	ck_assert(spool_has("corrupt", name));
	ck_assert_int_eq(spool_files("queue"), 0);
}
END_TEST

START_TEST(held_not_sent)
{
	struct queue_env	 qe;
	struct sub		 s;
	char			 path[256];
	int			 dfd;

	memset(&fake, 0, sizeof(fake));
	fake.capacity = 1;
	q = queue_new(base, &conf);
	submit(&s, 1, 0, NULL);
	read_env(s.id, &qe);
	qe.hold = 1;
	snprintf(path, sizeof(path), "%s/queue", spool);
	dfd = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(queue_env_write(dfd, s.id, &qe, 1), 0);
	close(dfd);
	queue_env_free(&qe);
	queue_set_relay_ops(q, &fake_ops, &fake);
	ck_assert_int_eq(ndeliver_at_least(1, 0.3), 0);
	ck_assert_uint_eq(queue_count(q), 1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("queue_spool");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 4 * WAIT);
	tcase_add_test(tc, startup_cleanup);
	tcase_add_test(tc, large_spool_in_background);
	tcase_add_test(tc, creates_spool);
	tcase_add_test(tc, spool_unusable);
	tcase_add_test(tc, open_commit);
	tcase_add_test(tc, commit_signs);
	tcase_add_test(tc, abort_and_unknown);
	tcase_add_test(tc, writer_fd_after_commit);
	tcase_add_test(tc, writer_files_reused_empty);
	tcase_add_test(tc, writer_without_tmpfile);
	tcase_add_test(tc, status_of_errno);
	tcase_add_test(tc, deliver_retry_remove);
	tcase_add_test(tc, session_error_keeps_pending);
	tcase_add_test(tc, lifetime_expires);
	tcase_add_test(tc, capacity_limits);
	tcase_add_test(tc, corrupt_when_due);
	tcase_add_test(tc, held_not_sent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
