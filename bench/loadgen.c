/*
 * loadgen.c — load generator for an SMTP submission server (RFC 6409) over
 * implicit TLS (RFC 8314) or STARTTLS (RFC 3207) with AUTH PLAIN (RFC
 * 4616): N concurrent sessions on one libevent loop, each sending messages
 * of a chosen size, one or many per connection.  Reports messages per
 * second, latency percentiles per stage and errors by reply code, on stdout
 * and optionally as JSON.  An idle mode logs N sessions in and holds them.
 *
 * Only loopback targets (127.0.0.0/8, ::1) are accepted.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <sodium.h>
#include <tls.h>

#include "conn.h"
#include "lat.h"

#define REPLY_LINE_MAX	2048

enum stage {
	L_CONNECT, L_BANNER, L_TLS, L_EHLO, L_AUTH, L_MAIL, L_RCPT, L_DATA,
	L_MESSAGE, L_COUNT
};
static const char *stage_names[L_COUNT] = {
	"connect", "banner", "tls", "ehlo", "auth", "mail", "rcpt", "data",
	"message"
};

enum st {
	S_CONNECT, S_BANNER, S_EHLO, S_STARTTLS, S_TLS, S_EHLO2, S_AUTH,
	S_MAIL, S_RCPT, S_DATA, S_DOT, S_RSET, S_IDLE, S_QUIT
};

struct opts {
	const char	*host;
	const char	*port;
	int		 implicit_tls;
	const char	*user;
	char		*pass;
	const char	*ca;
	int		 insecure;
	const char	*servername;
	const char	*from;
	const char	*to;
	int		 conc;
	size_t		 size;
	int		 rcpts;
	int		 per_conn;
	double		 duration;
	long		 count;
	int		 idle;
	const char	*json;
	const char	*label;
	const char	*ready_file;
	const char	*resume_file;
	int		 timeout;
	int		 grace;
};

struct sess {
	struct conn	*c;
	enum st		 st;
	int		 id;
	int		 slot;		/* index in sessions[] */
	int		 rcpt_i;
	int		 rcpt_ok;
	int		 msgs;
	int		 msg_failed;
	int		 was_idle;
	int		 lost;		/* ended by an error before MAIL */
	uint64_t	 t_conn, t_stage, t_msg;
};

struct errcount {
	char		 name[16];
	long		 n;
};

static struct opts	 o;
static struct event_base *base;
static struct tls_config *tlscfg;
static struct sockaddr_storage target;
static socklen_t	 targetlen;
static struct lat	 lat[L_COUNT];
static struct errcount	 errs[64];
static size_t		 nerrs;
static char		 auth_plain[1024];
static char		*body;
static size_t		 bodylen;
static long		 started, ok, failed, conns, resumed, active;
static long		 ready, idle_failed;
static uint64_t		 t_start, t_last, t_ready, t_stop;
static int		 stopping, idle_announced, errors_shown, deadline_hit;
static int		 stop_early;	/* count reached, error or signal */
static struct sess	**sessions;	/* o.conc slots */
static struct event	*ev_stop, *ev_grace, *ev_sig, *ev_term;

static void	sess_start(int);
static void	send_cmd(struct sess *, enum st, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	sess_dead(struct conn *, void *);

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
err_count(const char *name)
{
	size_t	i;

	for (i = 0; i < nerrs; i++)
		if (strcmp(errs[i].name, name) == 0) {
			errs[i].n++;
			return;
		}
	if (nerrs == sizeof(errs) / sizeof(errs[0]))
		return;
	snprintf(errs[nerrs].name, sizeof(errs[nerrs].name), "%s", name);
	errs[nerrs++].n = 1;
}

static void
lat_stage(enum stage st, uint64_t since)
{
	if (lat_add(&lat[st], now_us() - since) == -1) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
}

static void
check_done(void)
{
	if (stopping && active == 0)
		event_base_loopexit(base, NULL);
}

/* Idle mode is over: every idle session says QUIT. */
static void
idle_quit(void)
{
	int	i;

	for (i = 0; i < o.conc; i++)
		if (sessions[i] != NULL && sessions[i]->st == S_IDLE) {
			send_cmd(sessions[i], S_QUIT, "QUIT\r\n");
			conn_kick(sessions[i]->c);
		}
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { o.grace, 0 };

	(void)fd; (void)arg;
	(void)what;
	if (!stopping && !stop_early && !o.idle)
		deadline_hit = 1;
	if (!stopping) {
		stopping = 1;
		t_stop = now_us();
		evtimer_add(ev_grace, &tv);
		if (o.idle)
			idle_quit();
	}
	check_done();
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	fprintf(stderr, "loadgen: %ld sessions still busy after grace\n",
	    active);
	event_base_loopexit(base, NULL);
}

static void
begin_stop(void)
{
	if (!stopping) {
		stop_early = 1;
		event_active(ev_stop, EV_TIMEOUT, 0);
	}
}

/* Whether this session may start one more message now. */
static int
may_start_message(void)
{
	if (stopping)
		return 0;
	if (o.count > 0 && started >= o.count) {
		begin_stop();
		return 0;
	}
	started++;
	return 1;
}

static void
send_cmd(struct sess *s, enum st st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(s->c->out, fmt, ap) == -1)
		conn_fail(s->c, "memory");
	va_end(ap);
	s->st = st;
	s->t_stage = now_us();
}

static void
rcpt_send(struct sess *s)
{
	const char	*at = strchr(o.to, '@');

	if (s->rcpt_i == 0 || at == NULL)
		send_cmd(s, S_RCPT, "RCPT TO:<%s>\r\n", o.to);
	else
		send_cmd(s, S_RCPT, "RCPT TO:<%.*s+%d%s>\r\n",
		    (int)(at - o.to), o.to, s->rcpt_i, at);
}

static void
message_start(struct sess *s)
{
	if (!may_start_message()) {
		send_cmd(s, S_QUIT, "QUIT\r\n");
		return;
	}
	s->rcpt_i = s->rcpt_ok = 0;
	s->msg_failed = 0;
	s->t_msg = now_us();
	send_cmd(s, S_MAIL, "MAIL FROM:<%s> SIZE=%zu\r\n", o.from,
	    o.size);
}

static void
message_send(struct sess *s)
{
	char		 date[64];
	time_t		 t = time(NULL);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (evbuffer_add_printf(s->c->out,
	    "From: <%s>\r\nTo: <%s>\r\nSubject: submitd bench %d-%d\r\n"
	    "Date: %s\r\nMessage-ID: <%ld.%d.%u@bench.test>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n",
	    o.from, o.to, s->id, s->msgs, date, started, s->id,
	    randombytes_random()) == -1 ||
	    evbuffer_add_reference(s->c->out, body, bodylen, NULL,
	    NULL) == -1 ||
	    evbuffer_add(s->c->out, ".\r\n", 3) == -1)
		conn_fail(s->c, "memory");
	s->st = S_DOT;
}

/* After a message ended (well or not): the next one, or QUIT. */
static void
message_next(struct sess *s)
{
	s->msgs++;
	if (s->msgs < o.per_conn)
		message_start(s);
	else
		send_cmd(s, S_QUIT, "QUIT\r\n");
}

static void
message_fail(struct sess *s, int code)
{
	char	name[8];

	snprintf(name, sizeof(name), "%d", code);
	err_count(name);
	failed++;
	s->msg_failed = 1;
	send_cmd(s, S_RSET, "RSET\r\n");
}

static void
tls_begin(struct sess *s)
{
	struct tls	*ctx;
	const char	*sn = o.servername ? o.servername : o.host;

	if ((ctx = tls_client()) == NULL || tls_configure(ctx, tlscfg) == -1 ||
	    tls_connect_socket(ctx, s->c->fd, sn) == -1) {
		if (ctx)
			tls_free(ctx);
		conn_fail(s->c, "tls-setup");
		return;
	}
	conn_starttls(s->c, ctx);
	s->st = S_TLS;
	s->t_stage = now_us();
}

static void
session_fail(struct sess *s, int code)
{
	char	name[8];

	snprintf(name, sizeof(name), "%d", code);
	err_count(name);
	s->lost = 1;
	send_cmd(s, S_QUIT, "QUIT\r\n");
}

static void
idle_ready(void)
{
	FILE	*f;

	if (idle_announced || ready + idle_failed < o.conc)
		return;
	idle_announced = 1;
	t_ready = now_us();
	printf("READY %ld sessions idle, %ld failed\n", ready, idle_failed);
	fflush(stdout);
	if (o.ready_file && (f = fopen(o.ready_file, "w")) != NULL) {
		fprintf(f, "%ld\n", ready);
		fclose(f);
	}
	{
		struct timeval	tv = { o.idle, 0 };

		evtimer_add(ev_stop, &tv);
	}
}

/* One complete reply with CODE: the state machine of a client session. */
static void
reply(struct sess *s, int code)
{
	switch (s->st) {
	case S_BANNER:
		if (code != 220) {
			session_fail(s, code);
			return;
		}
		lat_stage(L_BANNER, s->t_conn);
		send_cmd(s, S_EHLO, "EHLO loadgen.bench.test\r\n");
		break;
	case S_EHLO:
	case S_EHLO2:
		if (code != 250) {
			session_fail(s, code);
			return;
		}
		if (s->st == S_EHLO && !o.implicit_tls) {
			send_cmd(s, S_STARTTLS, "STARTTLS\r\n");
			break;
		}
		lat_stage(L_EHLO, s->t_stage);
		send_cmd(s, S_AUTH, "AUTH PLAIN %s\r\n", auth_plain);
		break;
	case S_STARTTLS:
		if (code != 220) {
			session_fail(s, code);
			return;
		}
		tls_begin(s);
		break;
	case S_AUTH:
		if (code != 235) {
			session_fail(s, code);
			return;
		}
		lat_stage(L_AUTH, s->t_stage);
		if (o.idle && stopping) {
			s->was_idle = 1;
			send_cmd(s, S_QUIT, "QUIT\r\n");
		} else if (o.idle) {
			s->st = S_IDLE;
			s->was_idle = 1;
			ready++;
			idle_ready();
		} else
			message_start(s);
		break;
	case S_MAIL:
		if (code != 250) {
			message_fail(s, code);
			return;
		}
		lat_stage(L_MAIL, s->t_stage);
		rcpt_send(s);
		break;
	case S_RCPT:
		if (code == 250 || code == 251) {
			lat_stage(L_RCPT, s->t_stage);
			s->rcpt_ok++;
		} else {
			char	name[8];

			snprintf(name, sizeof(name), "%d", code);
			err_count(name);
		}
		if (++s->rcpt_i < o.rcpts)
			rcpt_send(s);
		else if (s->rcpt_ok == 0) {
			failed++;
			send_cmd(s, S_RSET, "RSET\r\n");
		} else
			send_cmd(s, S_DATA, "DATA\r\n");
		break;
	case S_DATA:
		if (code != 354) {
			message_fail(s, code);
			return;
		}
		message_send(s);
		break;
	case S_DOT:
		if (code != 250) {
			message_fail(s, code);
			return;
		}
		lat_stage(L_DATA, s->t_stage);
		lat_stage(L_MESSAGE, s->t_msg);
		ok++;
		t_last = now_us();
		message_next(s);
		break;
	case S_RSET:
		if (code != 250) {
			session_fail(s, code);
			return;
		}
		message_next(s);
		break;
	case S_QUIT:
		s->c->dead = 1;
		break;
	default:
		err_count("unexpected");
		conn_fail(s->c, "protocol");
		break;
	}
}

/* Reads complete replies from the input buffer. */
static void
replies(struct sess *s)
{
	char	*line;
	size_t	 len;
	int	 code;

	while (!s->c->dead &&
	    (line = evbuffer_readln(s->c->in, &len, EVBUFFER_EOL_CRLF))) {
		if (len < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9') {
			free(line);
			conn_fail(s->c, "protocol");
			return;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (len > 3 && line[3] == '-') {
			free(line);
			continue;
		}
		free(line);
		reply(s, code);
	}
	if (evbuffer_get_length(s->c->in) > REPLY_LINE_MAX)
		conn_fail(s->c, "protocol");
}

static void
sess_event(struct conn *c, enum conn_what what, void *arg)
{
	struct sess	*s = arg;

	switch (what) {
	case CONN_CONNECTED:
		lat_stage(L_CONNECT, s->t_conn);
		if (o.implicit_tls)
			tls_begin(s);
		else
			s->st = S_BANNER;
		break;
	case CONN_TLS_DONE:
		lat_stage(L_TLS, s->t_stage);
		if (tls_conn_session_resumed(c->tls))
			resumed++;
		if (o.implicit_tls)
			s->st = S_BANNER;
		else
			send_cmd(s, S_EHLO2, "EHLO loadgen.bench.test\r\n");
		break;
	case CONN_INPUT:
		replies(s);
		break;
	}
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	active--;	/* the slot was kept busy during the backoff */
	if (stopping)
		check_done();
	else
		sess_start((int)(intptr_t)arg);
}

static void
sess_dead(struct conn *c, void *arg)
{
	struct sess	*s = arg;
	struct timeval	 backoff = { 0, 10000 };
	int		 slot, s_lost;

	if (c->err != NULL) {
		err_count(c->err);
		if (c->errmsg[0] != '\0' && errors_shown++ < 5)
			fprintf(stderr, "loadgen: session %d: %s: %s\n",
			    s->id, c->err, c->errmsg);
		if (s->st >= S_MAIL && s->st <= S_DOT)
			failed++;
		else if (s->st < S_MAIL)
			s->lost = 1;
	}
	if (s->lost && !o.idle) {
		/* a session lost before MAIL costs one message of the count */
		started++;
		failed++;
	}
	if (o.idle && !s->was_idle)
		idle_failed++;
	slot = s->slot;
	s_lost = s->lost;
	sessions[slot] = NULL;
	conn_free(c);
	free(s);
	if (o.idle) {
		active--;
		idle_ready();
		check_done();
		return;
	}
	if (!stopping && s_lost &&	/* do not spin on a refusing server */
	    event_base_once(base, -1, EV_TIMEOUT, restart_cb,
	    (void *)(intptr_t)slot, &backoff) == 0)
		return;
	active--;
	if (stopping)
		check_done();
	else
		sess_start(slot);
}

/* Opens one new session in SLOT; errors count and end it at once. */
static void
sess_start(int slot)
{
	static int	 ids;
	struct sess	*s;
	int		 fd;

	if (o.count > 0 && started >= o.count && !o.idle) {
		begin_stop();
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_count("memory");
		begin_stop();
		return;
	}
	s->id = ++ids;
	s->slot = slot;
	s->st = S_CONNECT;
	s->t_conn = now_us();
	fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		err_count("socket");
		free(s);
		begin_stop();
		return;
	}
	if (connect(fd, (struct sockaddr *)&target, targetlen) == -1 &&
	    errno != EINPROGRESS) {
		err_count("connect");
		close(fd);
		free(s);
		begin_stop();
		return;
	}
	s->c = conn_new(base, fd, 1, o.idle ? o.idle + o.timeout : o.timeout,
	    sess_event, sess_dead, s);
	if (s->c == NULL) {
		err_count("memory");
		close(fd);
		free(s);
		begin_stop();
		return;
	}
	sessions[slot] = s;
	active++;
	conns++;
}

static void
sig_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (!o.idle)
		fprintf(stderr, "loadgen: interrupted\n");
	begin_stop();
}

static void
usage(void)
{
	fprintf(stderr,
"usage: loadgen [options]\n"
"  -H, --host ADDR        server address, loopback only (127.0.0.1)\n"
"  -p, --port PORT        server port (465)\n"
"  -m, --mode tls|starttls  implicit TLS or STARTTLS (tls)\n"
"  -u, --user LOGIN       AUTH PLAIN login\n"
"  -w, --password PASS    password (or env LOADGEN_PASSWORD)\n"
"      --ca FILE          CA bundle to verify the server with\n"
"      --insecure         do not verify the server certificate\n"
"      --servername NAME  TLS server name (default: the host)\n"
"  -f, --from ADDR        envelope and From: sender\n"
"  -t, --to ADDR          recipient (more get +N before the @)\n"
"  -c, --concurrency N    concurrent sessions (1)\n"
"  -s, --size BYTES       message size, K/M suffix (2K)\n"
"  -k, --rcpts K          recipients per message (1)\n"
"  -M, --per-conn M       messages per connection (1)\n"
"  -d, --duration SEC     run this long (10 unless -n)\n"
"  -n, --count N          send N messages in all\n"
"  -I, --idle SEC         idle mode: log in, hold SEC seconds, QUIT\n"
"                         (the timeout then counts from the start)\n"
"      --ready-file F     idle mode: write the ready count to F\n"
"      --resume FILE      TLS session resumption through FILE\n"
"      --timeout SEC      per-session inactivity timeout (60)\n"
"      --grace SEC        after the end, time given to messages in flight (60)\n"
"      --label NAME       scenario name for the report\n"
"      --json FILE        also write the report as JSON\n");
	exit(2);
}

static size_t
parse_size(const char *s)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s)
		usage();
	if (*end == 'K' || *end == 'k')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1024 * 1024, end++;
	if (*end != '\0' || v == 0 || v > 1024UL * 1024 * 1024)
		usage();
	return v;
}

static long
parse_num(const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

/* Resolves o.host (numeric only) and refuses anything but loopback. */
static void
target_setup(void)
{
	struct addrinfo	 hints, *res;
	int		 r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(o.host, o.port, &hints, &res)) != 0) {
		fprintf(stderr, "loadgen: %s port %s: %s\n", o.host, o.port,
		    gai_strerror(r));
		exit(2);
	}
	memcpy(&target, res->ai_addr, res->ai_addrlen);
	targetlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (target.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&target;

		if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			return;
	} else if (target.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&target;

		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return;
	}
	fprintf(stderr, "loadgen: %s is not a loopback address\n", o.host);
	exit(2);
}

static void
tls_setup(void)
{
	int	fd;

	if ((tlscfg = tls_config_new()) == NULL) {
		fprintf(stderr, "loadgen: tls_config_new failed\n");
		exit(1);
	}
	if (o.insecure) {
		tls_config_insecure_noverifycert(tlscfg);
		tls_config_insecure_noverifyname(tlscfg);
	} else if (o.ca && tls_config_set_ca_file(tlscfg, o.ca) == -1) {
		fprintf(stderr, "loadgen: %s: %s\n", o.ca,
		    tls_config_error(tlscfg));
		exit(1);
	}
	if (o.resume_file) {
		fd = open(o.resume_file, O_RDWR | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0600);
		if (fd == -1 || tls_config_set_session_fd(tlscfg, fd) == -1) {
			fprintf(stderr, "loadgen: --resume %s: %s\n",
			    o.resume_file, fd == -1 ? strerror(errno) :
			    tls_config_error(tlscfg));
			exit(1);
		}
	}
}

/* The shared body: lines of 76 printable characters, about o.size long. */
static void
body_setup(void)
{
	size_t	target_len, i, col = 0;
	char	c = 'A';

	target_len = o.size > 600 ? o.size - 300 : 300;
	if ((body = malloc(target_len + 2)) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	for (i = 0; i < target_len; i++) {
		if (col == 76) {
			body[i++] = '\r';
			body[i] = '\n';
			col = 0;
			continue;
		}
		body[i] = c;
		c = c == 'Z' ? 'A' : c + 1;
		col++;
	}
	if (col != 0 || i == 0) {
		body[i++] = '\r';
		body[i++] = '\n';
	}
	bodylen = i;
}

static void
auth_setup(void)
{
	unsigned char	raw[600];
	size_t		ul = strlen(o.user), pl = strlen(o.pass);

	if (ul + pl + 2 > sizeof(raw) ||
	    sodium_base64_encoded_len(ul + pl + 2,
	    sodium_base64_VARIANT_ORIGINAL) > sizeof(auth_plain)) {
		fprintf(stderr, "loadgen: login or password too long\n");
		exit(2);
	}
	raw[0] = '\0';
	memcpy(raw + 1, o.user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, o.pass, pl);
	sodium_bin2base64(auth_plain, sizeof(auth_plain), raw, ul + pl + 2,
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(raw, sizeof(raw));
}

static void
rlimit_setup(void)
{
	struct rlimit	rl;
	rlim_t		need = (rlim_t)o.conc + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < need)
		fprintf(stderr, "loadgen: warning: only %lu file descriptors\n",
		    (unsigned long)rl.rlim_cur);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'w' },
		{ "ca", required_argument, NULL, 1 },
		{ "insecure", no_argument, NULL, 2 },
		{ "servername", required_argument, NULL, 3 },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "rcpts", required_argument, NULL, 'k' },
		{ "per-conn", required_argument, NULL, 'M' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, 'I' },
		{ "ready-file", required_argument, NULL, 4 },
		{ "resume", required_argument, NULL, 5 },
		{ "timeout", required_argument, NULL, 6 },
		{ "label", required_argument, NULL, 7 },
		{ "json", required_argument, NULL, 8 },
		{ "grace", required_argument, NULL, 9 },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;
	char	*env;

	o.host = "127.0.0.1";
	o.port = "465";
	o.implicit_tls = 1;
	o.conc = 1;
	o.size = 2048;
	o.rcpts = 1;
	o.per_conn = 1;
	o.timeout = 60;
	o.grace = 60;
	o.from = "bench@bench.test";
	o.to = "rcpt@sink.test";
	o.label = "";
	while ((ch = getopt_long(argc, argv, "H:p:m:u:w:f:t:c:s:k:M:d:n:I:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'H': o.host = optarg; break;
		case 'p': o.port = optarg; break;
		case 'm':
			if (strcmp(optarg, "tls") == 0)
				o.implicit_tls = 1;
			else if (strcmp(optarg, "starttls") == 0)
				o.implicit_tls = 0;
			else
				usage();
			break;
		case 'u': o.user = optarg; break;
		case 'w':
			if ((o.pass = strdup(optarg)) == NULL)
				exit(1);
			sodium_memzero(optarg, strlen(optarg));
			break;
		case 1: o.ca = optarg; break;
		case 2: o.insecure = 1; break;
		case 3: o.servername = optarg; break;
		case 'f': o.from = optarg; break;
		case 't': o.to = optarg; break;
		case 'c': o.conc = (int)parse_num(optarg, 1, 100000); break;
		case 's': o.size = parse_size(optarg); break;
		case 'k': o.rcpts = (int)parse_num(optarg, 1, 1000); break;
		case 'M': o.per_conn = (int)parse_num(optarg, 1, 10000000);
			break;
		case 'd': o.duration = (double)parse_num(optarg, 1, 86400);
			break;
		case 'n': o.count = parse_num(optarg, 1, 1000000000); break;
		case 'I': o.idle = (int)parse_num(optarg, 1, 86400); break;
		case 4: o.ready_file = optarg; break;
		case 5: o.resume_file = optarg; break;
		case 6: o.timeout = (int)parse_num(optarg, 1, 3600); break;
		case 7: o.label = optarg; break;
		case 8: o.json = optarg; break;
		case 9: o.grace = (int)parse_num(optarg, 0, 3600); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (o.pass == NULL && (env = getenv("LOADGEN_PASSWORD")) != NULL &&
	    (o.pass = strdup(env)) == NULL)
		exit(1);
	if (o.user == NULL || o.pass == NULL) {
		fprintf(stderr, "loadgen: -u and -w (or LOADGEN_PASSWORD) "
		    "are needed\n");
		usage();
	}
	if (o.duration == 0 && o.count == 0)
		o.duration = 10;
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
report_json(double elapsed, double rate)
{
	FILE	*f;
	size_t	 i;

	if ((f = fopen(o.json, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", o.json, strerror(errno));
		return;
	}
	fprintf(f, "{\"label\":");
	json_str(f, o.label);
	fprintf(f, ",\"host\":");
	json_str(f, o.host);
	fprintf(f, ",\"port\":");
	json_str(f, o.port);
	fprintf(f, ",\"mode\":\"%s\",\"concurrency\":%d,\"size\":%zu,"
	    "\"rcpts\":%d,\"per_conn\":%d,\"duration\":%.0f,\"count\":%ld,"
	    "\"idle\":%d,", o.implicit_tls ? "tls" : "starttls", o.conc,
	    o.size, o.rcpts, o.per_conn, o.duration, o.count, o.idle);
	fprintf(f, "\"elapsed_s\":%.3f,\"messages_ok\":%ld,"
	    "\"messages_failed\":%ld,\"msgs_per_s\":%.2f,\"mbytes_per_s\":%.2f,"
	    "\"connections\":%ld,\"tls_resumed\":%ld,\"idle_ready\":%ld,"
	    "\"unfinished\":%ld,", elapsed, ok, failed, rate,
	    rate * (double)o.size / 1e6, conns, resumed, ready, active);
	fprintf(f, "\"latency_ms\":{");
	for (i = 0; i < L_COUNT; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", stage_names[i]);
		lat_json(&lat[i], f);
	}
	fprintf(f, "},\"errors\":{");
	for (i = 0; i < nerrs; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_str(f, errs[i].name);
		fprintf(f, ":%ld", errs[i].n);
	}
	fprintf(f, "}}\n");
	if (fclose(f) == EOF)
		fprintf(stderr, "loadgen: %s: %s\n", o.json, strerror(errno));
}

static void
report(void)
{
	double		elapsed, rate;
	uint64_t	t_end;
	size_t		i;

	/*
	 * Over the whole run: to the last 250, or to the deadline when the
	 * duration ran out first (sessions stuck until then count too).
	 */
	t_end = t_last;
	if (deadline_hit && t_stop > t_end)
		t_end = t_stop;
	elapsed = t_end > t_start ? (double)(t_end - t_start) / 1e6 : 0;
	rate = elapsed > 0 ? (double)ok / elapsed : 0;
	printf("%s%s%s:%s %s c=%d size=%zu rcpts=%d per-conn=%d\n",
	    o.label[0] ? o.label : "", o.label[0] ? ": " : "", o.host,
	    o.port, o.implicit_tls ? "tls" : "starttls", o.conc, o.size,
	    o.rcpts, o.per_conn);
	if (o.idle)
		printf("  idle sessions ready %ld of %d, held %.1f s\n", ready,
		    o.conc, t_ready && t_stop > t_ready ?
		    (double)(t_stop - t_ready) / 1e6 : 0.0);
	else
		printf("  ok %ld failed %ld in %.2f s: %.1f msg/s, %.2f MB/s; "
		    "%ld connections, %ld TLS resumed\n", ok, failed, elapsed,
		    rate, rate * (double)o.size / 1e6, conns, resumed);
	printf("  %-8s %8s %9s %9s %9s %9s  (ms)\n", "stage", "n", "p50",
	    "p90", "p99", "max");
	for (i = 0; i < L_COUNT; i++)
		if (lat[i].n > 0)
			printf("  %-8s %8zu %9.2f %9.2f %9.2f %9.2f\n",
			    stage_names[i], lat[i].n, lat_pct(&lat[i], 50),
			    lat_pct(&lat[i], 90), lat_pct(&lat[i], 99),
			    lat_pct(&lat[i], 100));
	if (nerrs > 0) {
		printf("  errors:");
		for (i = 0; i < nerrs; i++)
			printf(" %s=%ld", errs[i].name, errs[i].n);
		printf("\n");
	}
	if (active > 0)
		printf("  unfinished sessions: %ld\n", active);
	fflush(stdout);
	if (o.json)
		report_json(elapsed, rate);
}

int
main(int argc, char **argv)
{
	struct timeval	tv;
	int		i;

	if (sodium_init() == -1) {
		fprintf(stderr, "loadgen: sodium_init failed\n");
		return 1;
	}
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	target_setup();
	rlimit_setup();
	tls_setup();
	body_setup();
	auth_setup();
	for (i = 0; i < L_COUNT; i++)
		lat[i].name = stage_names[i];
	if ((base = event_base_new()) == NULL ||
	    (ev_stop = evtimer_new(base, stop_cb, NULL)) == NULL ||
	    (ev_grace = evtimer_new(base, grace_cb, NULL)) == NULL ||
	    (ev_sig = evsignal_new(base, SIGINT, sig_cb, NULL)) == NULL ||
	    evsignal_add(ev_sig, NULL) == -1 ||
	    (ev_term = evsignal_new(base, SIGTERM, sig_cb, NULL)) == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    (sessions = calloc((size_t)o.conc, sizeof(*sessions))) == NULL) {
		fprintf(stderr, "loadgen: setup failed\n");
		return 1;
	}
	if (!o.idle && o.duration > 0) {
		tv.tv_sec = (time_t)o.duration;
		tv.tv_usec = 0;
		evtimer_add(ev_stop, &tv);
	}
	t_start = t_last = now_us();
	for (i = 0; i < o.conc && !stopping; i++)
		sess_start(i);
	event_base_dispatch(base);
	report();
	return ok == 0 && !(o.idle && ready > 0);
}
