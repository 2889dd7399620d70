/* queue_env.c — the envelope file format: write and parse; see queue_env.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "queue/queue_env.h"
#include "queue/queue_id.h"

#define ENV_MAGIC	"submitd-envelope 1"
#define ENV_TIME_MAX	253402300799LL	/* 9999-12-31T23:59:59Z */
#define ENV_LINE_MAX	(QUEUE_PREFIX_MAX * 2)
#define ENV_B64_MAX	sodium_base64_ENCODED_LEN(QUEUE_PREFIX_MAX, \
			    sodium_base64_VARIANT_ORIGINAL)

/* Keys that must appear exactly once (dkim at most once). */
enum {
	K_ID = 1 << 0, K_CREATED = 1 << 1, K_USER = 1 << 2, K_CLIENT = 1 << 3,
	K_HELO = 1 << 4, K_RPATH = 1 << 5, K_FDOMAIN = 1 << 6, K_BODY = 1 << 7,
	K_SIZE = 1 << 8, K_ATTEMPTS = 1 << 9, K_NEXTTRY = 1 << 10,
	K_DKIM = 1 << 11, K_LASTTRY = 1 << 12, K_HOLD = 1 << 13,
	K_WARNED = 1 << 14, K_BOUNCE = 1 << 15, K_SMTPUTF8 = 1 << 16,
	K_REQUIRED = (1 << 11) - 1,
};

static const char *const rcpt_states[] = {
	[RCPT_PENDING] = "pending",
	[RCPT_DONE] = "done",
	[RCPT_FAILED] = "failed",
};

void
envelope_free(struct envelope *env)
{
	free(env->rcpt);
	env->rcpt = NULL;
	env->nrcpt = 0;
}

void
queue_env_free(struct queue_env *qe)
{
	envelope_free(&qe->env);
	free(qe->prefix);
	qe->prefix = NULL;
	qe->prefixlen = 0;
}

int
queue_env_copy(struct envelope *out, const struct envelope *env)
{
	*out = *env;
	out->rcpt = NULL;
	if (env->nrcpt == 0)
		return 0;
	if ((out->rcpt = calloc(env->nrcpt, sizeof(*out->rcpt))) == NULL) {
		out->nrcpt = 0;
		return -1;
	}
	memcpy(out->rcpt, env->rcpt, env->nrcpt * sizeof(*out->rcpt));
	return 0;
}

size_t
queue_env_pending(const struct envelope *env)
{
	size_t	 i, n = 0;

	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == RCPT_PENDING)
			n++;
	return n;
}

/* A value that reads back: shorter than SIZE, no control characters. */
static int
value_ok(const char *s, size_t len, size_t size)
{
	size_t	 i;

	if (len >= size)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
str_ok(const char *s, size_t size)
{
	size_t	 len = strnlen(s, size);

	return len < size && value_ok(s, len, size);
}

static int
env_check(const struct queue_env *qe)
{
	const struct envelope	*e = &qe->env;
	size_t			 i;

	if (!queue_id_valid(e->queue_id) ||
	    !str_ok(e->user, sizeof(e->user)) ||
	    !str_ok(e->client_addr, sizeof(e->client_addr)) ||
	    !str_ok(e->helo, sizeof(e->helo)) ||
	    !str_ok(e->reverse_path, sizeof(e->reverse_path)) ||
	    !str_ok(e->from_domain, sizeof(e->from_domain)) ||
	    e->created < 0 || e->created > ENV_TIME_MAX ||
	    qe->next_try < 0 || qe->next_try > ENV_TIME_MAX ||
	    qe->last_try < 0 || qe->last_try > ENV_TIME_MAX ||
	    qe->attempts > QUEUE_ATTEMPTS_MAX ||
	    e->nrcpt == 0 || e->nrcpt > QUEUE_ENV_RCPT_MAX ||
	    qe->prefixlen > QUEUE_PREFIX_MAX ||
	    (qe->prefixlen > 0 && qe->prefix == NULL))
		return -1;
	for (i = 0; i < e->nrcpt; i++) {
		if (e->rcpt[i].forward_path[0] == '\0' ||
		    !str_ok(e->rcpt[i].forward_path,
		    sizeof(e->rcpt[i].forward_path)) ||
		    !str_ok(e->rcpt[i].last_reply,
		    sizeof(e->rcpt[i].last_reply)) ||
		    e->rcpt[i].state > RCPT_FAILED)
			return -1;
	}
	return 0;
}

static int
env_print_dkim(FILE *fp, const struct queue_env *qe)
{
	char	*b64;
	size_t	 b64len;

	if (qe->prefixlen == 0)
		return 0;
	b64len = sodium_base64_encoded_len(qe->prefixlen,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL)
		return -1;
	sodium_bin2base64(b64, b64len, (const unsigned char *)qe->prefix,
	    qe->prefixlen, sodium_base64_VARIANT_ORIGINAL);
	fprintf(fp, "dkim: %s\n", b64);
	free(b64);
	return 0;
}

int
queue_env_format(const struct queue_env *qe, char **buf, size_t *len)
{
	const struct envelope	*e = &qe->env;
	FILE			*fp;
	size_t			 i;
	int			 bad;

	*buf = NULL;
	*len = 0;
	if (env_check(qe) == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((fp = open_memstream(buf, len)) == NULL)
		return -1;
	fprintf(fp, "%s\n", ENV_MAGIC);
	fprintf(fp, "id: %s\n", e->queue_id);
	fprintf(fp, "created: %lld\n", (long long)e->created);
	fprintf(fp, "user: %s\n", e->user);
	fprintf(fp, "client: %s\n", e->client_addr);
	fprintf(fp, "helo: %s\n", e->helo);
	fprintf(fp, "reverse-path: %s\n", e->reverse_path);
	fprintf(fp, "from-domain: %s\n", e->from_domain);
	fprintf(fp, "body: %s\n", e->body_8bitmime ? "8bitmime" : "7bit");
	if (e->smtputf8)
		fprintf(fp, "smtputf8: yes\n");
	fprintf(fp, "size: %llu\n", (unsigned long long)e->size);
	fprintf(fp, "attempts: %lu\n", (unsigned long)qe->attempts);
	fprintf(fp, "next-try: %lld\n", (long long)qe->next_try);
	if (qe->last_try != 0)
		fprintf(fp, "last-try: %lld\n", (long long)qe->last_try);
	if (qe->hold)
		fprintf(fp, "hold: yes\n");
	if (qe->warned)
		fprintf(fp, "warned: yes\n");
	if (qe->bounce)
		fprintf(fp, "bounce: yes\n");
	bad = env_print_dkim(fp, qe);
	for (i = 0; i < e->nrcpt; i++) {
		fprintf(fp, "rcpt: %s %s\n", rcpt_states[e->rcpt[i].state],
		    e->rcpt[i].forward_path);
		if (e->rcpt[i].last_reply[0] != '\0')
			fprintf(fp, "reply: %s\n", e->rcpt[i].last_reply);
	}
	fprintf(fp, "end\n");
	if (ferror(fp))
		bad = -1;
	if (fclose(fp) != 0 || bad == -1) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Parsing. */

struct env_parser {
	struct queue_env	*qe;
	unsigned		 seen;
	size_t			 rcptcap;
	int			 after_rcpt;	/* a reply: line may follow */
	const char		*why;
};

static int
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_time(const char *s, size_t len, time_t *out)
{
	uint64_t	 v;

	if (parse_uint(s, len, ENV_TIME_MAX, &v) == -1)
		return -1;
	*out = (time_t)v;
	return 0;
}

/* Copies a checked value of LEN octets into DST of SIZE octets. */
static int
parse_str(const char *s, size_t len, char *dst, size_t size)
{
	if (!value_ok(s, len, size))
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* A flag: "yes" only (absent means no). */
static int
parse_yes(const char *s, size_t len, int *out)
{
	if (len != 3 || memcmp(s, "yes", 3) != 0)
		return -1;
	*out = 1;
	return 0;
}

static int
parse_dkim(struct queue_env *qe, const char *s, size_t len)
{
	size_t	 binlen;

	if (len == 0 || len >= ENV_B64_MAX)
		return -1;
	if ((qe->prefix = malloc(QUEUE_PREFIX_MAX)) == NULL)
		return -1;
	if (sodium_base642bin((unsigned char *)qe->prefix, QUEUE_PREFIX_MAX,
	    s, len, NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen == 0)
		return -1;
	qe->prefixlen = binlen;
	return 0;
}

static int
parse_rcpt(struct env_parser *p, const char *s, size_t len)
{
	struct envelope		*e = &p->qe->env;
	struct envelope_rcpt	*r;
	const char		*sp;
	size_t			 i;
	int			 state = -1;

	if ((sp = memchr(s, ' ', len)) == NULL)
		return -1;
	for (i = 0; i < sizeof(rcpt_states) / sizeof(rcpt_states[0]); i++)
		if ((size_t)(sp - s) == strlen(rcpt_states[i]) &&
		    memcmp(s, rcpt_states[i], sp - s) == 0)
			state = (int)i;
	if (state == -1 || e->nrcpt >= QUEUE_ENV_RCPT_MAX)
		return -1;
	if (e->nrcpt == p->rcptcap) {
		size_t	 ncap = p->rcptcap ? p->rcptcap * 2 : 4;

		if ((r = reallocarray(e->rcpt, ncap, sizeof(*r))) == NULL)
			return -1;
		e->rcpt = r;
		p->rcptcap = ncap;
	}
	r = &e->rcpt[e->nrcpt];
	memset(r, 0, sizeof(*r));
	r->state = (enum rcpt_state)state;
	len -= (size_t)(sp + 1 - s);
	if (len == 0 ||
	    parse_str(sp + 1, len, r->forward_path, sizeof(r->forward_path)))
		return -1;
	e->nrcpt++;
	return 0;
}

/* One "key: value" line; 0 or -1 (p->why set). */
static int
parse_line(struct env_parser *p, const char *key, size_t klen,
    const char *v, size_t vlen)
{
	static const struct {
		const char	*key;
		unsigned	 bit;
	} keys[] = {
		{ "id", K_ID }, { "created", K_CREATED }, { "user", K_USER },
		{ "client", K_CLIENT }, { "helo", K_HELO },
		{ "reverse-path", K_RPATH }, { "from-domain", K_FDOMAIN },
		{ "body", K_BODY }, { "size", K_SIZE },
		{ "attempts", K_ATTEMPTS }, { "next-try", K_NEXTTRY },
		{ "dkim", K_DKIM }, { "last-try", K_LASTTRY },
		{ "hold", K_HOLD }, { "warned", K_WARNED },
		{ "bounce", K_BOUNCE }, { "smtputf8", K_SMTPUTF8 },
		{ "rcpt", 0 }, { "reply", 0 },
	};
	struct queue_env	*qe = p->qe;
	struct envelope		*e = &qe->env;
	struct envelope_rcpt	*last;
	uint64_t		 n;
	size_t			 i;
	unsigned		 bit = 0;
	int			 after_rcpt = p->after_rcpt, r = -1;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (klen == strlen(keys[i].key) &&
		    memcmp(key, keys[i].key, klen) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0])) {
		p->why = "unknown key";
		return -1;
	}
	bit = keys[i].bit;
	if (p->seen & bit) {
		p->why = "repeated key";
		return -1;
	}
	p->seen |= bit;
	p->after_rcpt = 0;
	p->why = "bad value";
	switch (bit) {
	case K_ID:
		r = parse_str(v, vlen, e->queue_id, sizeof(e->queue_id));
		if (r == 0 && !queue_id_valid(e->queue_id))
			r = -1;
		break;
	case K_CREATED:
		r = parse_time(v, vlen, &e->created);
		break;
	case K_USER:
		r = parse_str(v, vlen, e->user, sizeof(e->user));
		break;
	case K_CLIENT:
		r = parse_str(v, vlen, e->client_addr, sizeof(e->client_addr));
		break;
	case K_HELO:
		r = parse_str(v, vlen, e->helo, sizeof(e->helo));
		break;
	case K_RPATH:
		r = parse_str(v, vlen, e->reverse_path,
		    sizeof(e->reverse_path));
		break;
	case K_FDOMAIN:
		r = parse_str(v, vlen, e->from_domain, sizeof(e->from_domain));
		break;
	case K_BODY:
		if (vlen == 8 && memcmp(v, "8bitmime", 8) == 0)
			e->body_8bitmime = 1, r = 0;
		else if (vlen == 4 && memcmp(v, "7bit", 4) == 0)
			e->body_8bitmime = 0, r = 0;
		break;
	case K_SIZE:
		r = parse_uint(v, vlen, UINT64_MAX, &e->size);
		break;
	case K_ATTEMPTS:
		if ((r = parse_uint(v, vlen, QUEUE_ATTEMPTS_MAX, &n)) == 0)
			qe->attempts = (uint32_t)n;
		break;
	case K_NEXTTRY:
		r = parse_time(v, vlen, &qe->next_try);
		break;
	case K_LASTTRY:
		r = parse_time(v, vlen, &qe->last_try);
		break;
	case K_HOLD:
		r = parse_yes(v, vlen, &qe->hold);
		break;
	case K_WARNED:
		r = parse_yes(v, vlen, &qe->warned);
		break;
	case K_BOUNCE:
		r = parse_yes(v, vlen, &qe->bounce);
		break;
	case K_SMTPUTF8:
		r = parse_yes(v, vlen, &e->smtputf8);
		break;
	case K_DKIM:
		r = parse_dkim(qe, v, vlen);
		break;
	default:
		if (key[0] == 'r' && klen == 4) {	/* rcpt */
			if ((r = parse_rcpt(p, v, vlen)) == 0)
				p->after_rcpt = 1;
			break;
		}
		/* reply: once, right after its rcpt line */
		if (!after_rcpt) {
			p->why = "reply without rcpt";
			return -1;
		}
		last = &e->rcpt[e->nrcpt - 1];
		if (vlen == 0)
			break;
		r = parse_str(v, vlen, last->last_reply,
		    sizeof(last->last_reply));
		break;
	}
	return r;
}

int
queue_env_parse(const char *buf, size_t len, const char *id,
    struct queue_env *qe, const char **why)
{
	struct env_parser	 p;
	const char		*line, *nl, *colon;
	size_t			 off = 0, llen;
	int			 first = 1;

	memset(qe, 0, sizeof(*qe));
	memset(&p, 0, sizeof(p));
	p.qe = qe;
	p.why = "truncated (no end line)";
	while (off < len) {
		line = buf + off;
		if ((nl = memchr(line, '\n', len - off)) == NULL)
			break;		/* last line without newline */
		llen = (size_t)(nl - line);
		off += llen + 1;
		if (llen > ENV_LINE_MAX) {
			p.why = "line too long";
			goto bad;
		}
		if (first) {
			first = 0;
			if (llen != strlen(ENV_MAGIC) ||
			    memcmp(line, ENV_MAGIC, llen) != 0) {
				p.why = "not a version 1 envelope";
				goto bad;
			}
			continue;
		}
		if (llen == 3 && memcmp(line, "end", 3) == 0) {
			if (off != len) {
				p.why = "data after end";
				goto bad;
			}
			if ((p.seen & K_REQUIRED) != K_REQUIRED) {
				p.why = "missing key";
				goto bad;
			}
			if (qe->env.nrcpt == 0) {
				p.why = "no recipient";
				goto bad;
			}
			if (id != NULL && strcmp(id, qe->env.queue_id) != 0) {
				p.why = "id does not match file name";
				goto bad;
			}
			return 0;
		}
		if ((colon = memchr(line, ':', llen)) == NULL ||
		    colon + 1 == nl || colon[1] != ' ') {
			p.why = "not a key: value line";
			goto bad;
		}
		if (parse_line(&p, line, (size_t)(colon - line), colon + 2,
		    (size_t)(nl - colon - 2)) == -1)
			goto bad;
		p.why = "truncated (no end line)";
	}
bad:
	*why = p.why;
	queue_env_free(qe);
	return -1;
}

/* Files. */

static int
env_name(char *buf, size_t size, const char *id, const char *suffix)
{
	int	 n = snprintf(buf, size, "%s%s", id, suffix);

	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int
queue_env_read(int dirfd, const char *id, struct queue_env *qe,
    const char **why)
{
	char		 name[QUEUE_ID_SIZE + 16], *buf;
	struct stat	 st;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, r;

	*why = NULL;
	memset(qe, 0, sizeof(*qe));
	if (env_name(name, sizeof(name), id, ".env") == -1) {
		*why = "bad id";
		return -1;
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > QUEUE_ENV_FILE_MAX) {
		close(fd);
		*why = S_ISREG(st.st_mode) ? "file too large" : "not a file";
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	r = queue_env_parse(buf, off, id, qe, why);
	free(buf);
	return r;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
queue_env_write_tmp(int dirfd, const char *id, const struct queue_env *qe)
{
	char	 tmp[QUEUE_ID_SIZE + 16], *buf;
	size_t	 len;
	int	 fd, saved;

	if (env_name(tmp, sizeof(tmp), id, ".env.tmp") == -1) {
		errno = EINVAL;
		return -1;
	}
	if (queue_env_format(qe, &buf, &len) == -1)
		return -1;
	fd = openat(dirfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1) {
		free(buf);
		return -1;
	}
	if (write_all(fd, buf, len) == -1) {
		saved = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		free(buf);
		errno = saved;
		return -1;
	}
	free(buf);
	return fd;
}

int
queue_env_write(int dirfd, const char *id, const struct queue_env *qe,
    int syncdir)
{
	char	 tmp[QUEUE_ID_SIZE + 16], name[QUEUE_ID_SIZE + 16];
	int	 fd, saved;

	if (env_name(tmp, sizeof(tmp), id, ".env.tmp") == -1 ||
	    env_name(name, sizeof(name), id, ".env") == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = queue_env_write_tmp(dirfd, id, qe)) == -1)
		return -1;
	if (fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || renameat(dirfd, tmp, dirfd, name) == -1) {
		saved = errno;
		goto fail;
	}
	if (syncdir && fsync(dirfd) == -1)
		return -1;	/* renamed: the new envelope may or may not stay */
	return 0;
fail:
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}
