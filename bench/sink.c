/*
 * sink.c — a fast sink smarthost for benchmarks: an SMTP server (RFC 5321)
 * on implicit TLS (RFC 8314) and/or STARTTLS (RFC 3207) with AUTH PLAIN
 * (RFC 4616) and AUTH LOGIN for one given login, PIPELINING (RFC 2920),
 * that accepts every message and throws it away, counting.  The counts go
 * to a stats file (see below) and at exit, and to stderr on SIGUSR1 and
 * SIGTERM.  The stats file is rewritten every 100 ms while the count
 * changes.  It binds loopback addresses only.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <sodium.h>
#include <tls.h>

#include "conn.h"

#define LINE_MAX_SMTP	1000	/* RFC 5321 4.5.3.1.4, with CRLF */
#define IDLE_TIMEOUT	300

enum auth_step { AUTH_NONE, AUTH_PLAIN_WAIT, AUTH_LOGIN_USER,
	AUTH_LOGIN_PASS };

struct ss {
	struct conn	*c;
	int		 starttls_port;	/* plaintext until STARTTLS */
	int		 authed;
	enum auth_step	 auth;
	char		 login[256];
	int		 mail;
	int		 rcpts;
	int		 in_data;
	int		 dstate;	/* end-of-data scanner, see data_scan */
	size_t		 dbytes;
};

struct listener {
	int		 fd;
	int		 starttls;
	struct event	*ev;
};

static struct event_base *base;
static struct tls	*server;
static const char	*login = "sink@bench.test";
static const char	*password = "sinkpass";
static const char	*stats_file;
static const char	*bind_host = "127.0.0.1";
static uint64_t		 n_msgs, n_rcpts, n_bytes, n_sessions, n_authfail;
static uint64_t		 n_active, last_written = UINT64_MAX;

static void
reply(struct ss *s, const char *text)
{
	if (evbuffer_add(s->c->out, text, strlen(text)) == -1)
		conn_fail(s->c, "memory");
}

static int
b64_decode(const char *in, char *out, size_t outsz, size_t *outlen)
{
	if (sodium_base642bin((unsigned char *)out, outsz - 1, in, strlen(in),
	    NULL, outlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	out[*outlen] = '\0';
	return 0;
}

static int
cred_ok(const char *user, size_t ulen, const char *pass, size_t plen)
{
	return ulen == strlen(login) && memcmp(user, login, ulen) == 0 &&
	    plen == strlen(password) && memcmp(pass, password, plen) == 0;
}

static void
auth_result(struct ss *s, int good)
{
	if (good) {
		s->authed = 1;
		reply(s, "235 2.7.0 Authentication successful\r\n");
	} else {
		n_authfail++;
		reply(s, "535 5.7.8 Authentication credentials invalid\r\n");
	}
	s->auth = AUTH_NONE;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd, base64. */
static void
auth_plain(struct ss *s, const char *b64)
{
	char	 buf[768];
	char	*u, *p;
	size_t	 len;

	if (b64_decode(b64, buf, sizeof(buf), &len) == -1 ||
	    (u = memchr(buf, '\0', len)) == NULL ||
	    (p = memchr(u + 1, '\0', len - (size_t)(u + 1 - buf))) == NULL) {
		s->auth = AUTH_NONE;
		reply(s, "501 5.5.2 Cannot decode response\r\n");
		return;
	}
	u++;
	auth_result(s, cred_ok(u, (size_t)(p - u), p + 1,
	    len - (size_t)(p + 1 - buf)));
	sodium_memzero(buf, sizeof(buf));
}

static void
auth_line(struct ss *s, const char *line)
{
	char	buf[300];
	size_t	len;

	if (strcmp(line, "*") == 0) {
		s->auth = AUTH_NONE;
		reply(s, "501 5.7.0 Authentication aborted\r\n");
		return;
	}
	switch (s->auth) {
	case AUTH_PLAIN_WAIT:
		auth_plain(s, line);
		break;
	case AUTH_LOGIN_USER:
		if (b64_decode(line, s->login, sizeof(s->login), &len) == -1) {
			s->auth = AUTH_NONE;
			reply(s, "501 5.5.2 Cannot decode response\r\n");
			break;
		}
		s->auth = AUTH_LOGIN_PASS;
		reply(s, "334 UGFzc3dvcmQ6\r\n");
		break;
	case AUTH_LOGIN_PASS:
		if (b64_decode(line, buf, sizeof(buf), &len) == -1) {
			s->auth = AUTH_NONE;
			reply(s, "501 5.5.2 Cannot decode response\r\n");
			break;
		}
		auth_result(s, cred_ok(s->login, strlen(s->login), buf, len));
		sodium_memzero(buf, sizeof(buf));
		break;
	case AUTH_NONE:
		break;
	}
}

static void
cmd_auth(struct ss *s, const char *arg)
{
	if (s->authed) {
		reply(s, "503 5.5.1 Already authenticated\r\n");
	} else if (s->starttls_port && s->c->tls == NULL) {
		reply(s, "530 5.7.0 Must issue a STARTTLS command first\r\n");
	} else if (strncasecmp(arg, "PLAIN", 5) == 0 && arg[5] == ' ') {
		auth_plain(s, arg + 6);
	} else if (strcasecmp(arg, "PLAIN") == 0) {
		s->auth = AUTH_PLAIN_WAIT;
		reply(s, "334 \r\n");
	} else if (strcasecmp(arg, "LOGIN") == 0) {
		s->auth = AUTH_LOGIN_USER;
		reply(s, "334 VXNlcm5hbWU6\r\n");
	} else if (strncasecmp(arg, "LOGIN ", 6) == 0) {
		s->auth = AUTH_LOGIN_USER;
		auth_line(s, arg + 6);
	} else
		reply(s, "504 5.5.4 Unrecognized authentication type\r\n");
}

static void
cmd_ehlo(struct ss *s, int ehlo)
{
	s->mail = s->rcpts = 0;
	if (!ehlo) {
		reply(s, "250 sink.bench.test\r\n");
		return;
	}
	reply(s, "250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
	    "250-SIZE 1073741824\r\n250-ENHANCEDSTATUSCODES\r\n");
	if (s->starttls_port && s->c->tls == NULL)
		reply(s, "250 STARTTLS\r\n");
	else
		reply(s, "250 AUTH PLAIN LOGIN\r\n");
}

static void
cmd_starttls(struct ss *s)
{
	struct tls	*cctx;

	if (!s->starttls_port || s->c->tls != NULL) {
		reply(s, "503 5.5.1 TLS already active\r\n");
		return;
	}
	if (tls_accept_socket(server, &cctx, s->c->fd) == -1) {
		reply(s, "454 4.7.0 TLS not available\r\n");
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS\r\n");
	conn_starttls(s->c, cctx);
	s->authed = s->mail = s->rcpts = 0;
}

static void
command(struct ss *s, char *line)
{
	if (s->auth != AUTH_NONE)
		auth_line(s, line);
	else if (strncasecmp(line, "EHLO", 4) == 0)
		cmd_ehlo(s, 1);
	else if (strncasecmp(line, "HELO", 4) == 0)
		cmd_ehlo(s, 0);
	else if (strcasecmp(line, "STARTTLS") == 0)
		cmd_starttls(s);
	else if (strcasecmp(line, "QUIT") == 0) {
		reply(s, "221 2.0.0 Bye\r\n");
		s->c->closing = 1;
	} else if (strcasecmp(line, "NOOP") == 0)
		reply(s, "250 2.0.0 Ok\r\n");
	else if (strcasecmp(line, "RSET") == 0) {
		s->mail = s->rcpts = 0;
		reply(s, "250 2.0.0 Ok\r\n");
	} else if (s->starttls_port && s->c->tls == NULL)
		reply(s, "530 5.7.0 Must issue a STARTTLS command first\r\n");
	else if (strncasecmp(line, "AUTH ", 5) == 0)
		cmd_auth(s, line + 5);
	else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
		if (!s->authed)
			reply(s, "530 5.7.0 Authentication required\r\n");
		else if (s->mail)
			reply(s, "503 5.5.1 Nested MAIL command\r\n");
		else {
			s->mail = 1;
			s->rcpts = 0;
			reply(s, "250 2.1.0 Ok\r\n");
		}
	} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
		if (!s->mail)
			reply(s, "503 5.5.1 Need MAIL command\r\n");
		else {
			s->rcpts++;
			reply(s, "250 2.1.5 Ok\r\n");
		}
	} else if (strcasecmp(line, "DATA") == 0) {
		if (!s->mail || s->rcpts == 0)
			reply(s, "503 5.5.1 Need RCPT command\r\n");
		else {
			s->in_data = 1;
			s->dstate = 0;
			s->dbytes = 0;
			reply(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
		}
	} else
		reply(s, "502 5.5.2 Command not recognized\r\n");
}

/*
 * Scans DATA bytes for the end mark CRLF "." CRLF.  States: 0 line start,
 * 1 inside a line, 2 after CR, 3 line start then ".", 4 then ".\r".
 * Returns how many bytes of P belong to the message (all of LEN when the
 * end is not in it) and sets *END when the end mark was found.
 */
static size_t
data_scan(struct ss *s, const char *p, size_t len, int *end)
{
	size_t		 i = 0;
	const char	*cr;

	*end = 0;
	while (i < len) {
		switch (s->dstate) {
		case 1:
			if ((cr = memchr(p + i, '\r', len - i)) == NULL)
				return len;
			i = (size_t)(cr - p);
			s->dstate = 2;
			break;
		case 0:
			s->dstate = p[i] == '.' ? 3 : p[i] == '\r' ? 2 : 1;
			break;
		case 2:
			s->dstate = p[i] == '\n' ? 0 : p[i] == '\r' ? 2 : 1;
			break;
		case 3:
			s->dstate = p[i] == '\r' ? 4 : 1;
			break;
		case 4:
			if (p[i] == '\n') {
				*end = 1;
				return i + 1;
			}
			s->dstate = p[i] == '\r' ? 2 : 1;
			break;
		}
		i++;
	}
	return len;
}

/* Consumes DATA from the input; 1 when the message ended. */
static int
data_input(struct ss *s)
{
	struct evbuffer_iovec	 v[16];
	int			 n, i, end = 0;
	size_t			 used, total = 0;

	n = evbuffer_peek(s->c->in, -1, NULL, v, 16);
	if (n > 16)
		n = 16;
	for (i = 0; i < n && !end; i++) {
		used = data_scan(s, v[i].iov_base, v[i].iov_len, &end);
		total += used;
	}
	evbuffer_drain(s->c->in, total);
	s->dbytes += total;
	if (!end)
		return 0;
	s->in_data = 0;
	s->mail = 0;
	n_msgs++;
	n_rcpts += (uint64_t)s->rcpts;
	n_bytes += s->dbytes;
	reply(s, "250 2.0.0 Ok: discarded\r\n");
	return 1;
}

static void
ss_input(struct ss *s)
{
	char	*line;
	size_t	 len;

	while (!s->c->dead && !s->c->closing && s->c->tls_next == NULL) {
		if (s->in_data) {
			if (!data_input(s))
				break;
			continue;
		}
		line = evbuffer_readln(s->c->in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(s->c->in) > LINE_MAX_SMTP) {
				reply(s, "500 5.5.2 Line too long\r\n");
				s->c->closing = 1;
			}
			break;
		}
		command(s, line);
		free(line);
	}
}

static void
ss_event(struct conn *c, enum conn_what what, void *arg)
{
	struct ss	*s = arg;

	switch (what) {
	case CONN_CONNECTED:
		break;
	case CONN_TLS_DONE:
		if (!s->starttls_port)
			reply(s, "220 sink.bench.test ESMTP sink\r\n");
		break;
	case CONN_INPUT:
		ss_input(s);
		break;
	}
	(void)c;
}

static void
ss_dead(struct conn *c, void *arg)
{
	struct ss	*s = arg;

	conn_free(c);
	sodium_memzero(s, sizeof(*s));
	free(s);
	n_active--;
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct listener	*l = arg;
	struct ss	*s;
	struct tls	*cctx;
	int		 fd, i;

	(void)what;
	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR)
				fprintf(stderr, "sink: accept: %s\n",
				    strerror(errno));
			return;
		}
		if ((s = calloc(1, sizeof(*s))) == NULL ||
		    (s->c = conn_new(base, fd, 0, IDLE_TIMEOUT, ss_event,
		    ss_dead, s)) == NULL) {
			free(s);
			close(fd);
			continue;
		}
		s->starttls_port = l->starttls;
		n_sessions++;
		n_active++;
		if (l->starttls) {
			reply(s, "220 sink.bench.test ESMTP sink\r\n");
		} else if (tls_accept_socket(server, &cctx, fd) == -1) {
			conn_fail(s->c, "tls");
		} else
			conn_starttls(s->c, cctx);
		conn_kick(s->c);
	}
}

static void
stats_write(int force)
{
	char	 tmp[1024];
	FILE	*f;

	if (stats_file == NULL || (!force && last_written == n_msgs))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_file);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "messages %llu\nrecipients %llu\nbytes %llu\n"
	    "sessions %llu\nactive %llu\nauth_failures %llu\n",
	    (unsigned long long)n_msgs, (unsigned long long)n_rcpts,
	    (unsigned long long)n_bytes, (unsigned long long)n_sessions,
	    (unsigned long long)n_active, (unsigned long long)n_authfail);
	if (fclose(f) == 0 && rename(tmp, stats_file) == 0)
		last_written = n_msgs;
}

static void
stats_print(void)
{
	fprintf(stderr, "sink: messages %llu recipients %llu bytes %llu "
	    "sessions %llu auth_failures %llu\n", (unsigned long long)n_msgs,
	    (unsigned long long)n_rcpts, (unsigned long long)n_bytes,
	    (unsigned long long)n_sessions, (unsigned long long)n_authfail);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	stats_write(0);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	stats_print();
	if (sig != SIGUSR1) {
		stats_write(1);
		event_base_loopexit(base, NULL);
	}
}

/* Binds HOST:PORT (loopback only) and listens. */
static void
listen_on(const char *port, int starttls)
{
	struct addrinfo	 hints, *res;
	struct listener	*l;
	int		 r, one = 1, loop = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(bind_host, port, &hints, &res)) != 0) {
		fprintf(stderr, "sink: %s %s: %s\n", bind_host, port,
		    gai_strerror(r));
		exit(1);
	}
	if (res->ai_family == AF_INET)
		loop = (ntohl(((struct sockaddr_in *)res->ai_addr)->
		    sin_addr.s_addr) >> 24) == 127;
	else if (res->ai_family == AF_INET6)
		loop = IN6_IS_ADDR_LOOPBACK(
		    &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr);
	if (!loop) {
		fprintf(stderr, "sink: %s is not a loopback address\n",
		    bind_host);
		exit(1);
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		exit(1);
	l->starttls = starttls;
	l->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (l->fd == -1 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(l->fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(l->fd, 4096) == -1) {
		fprintf(stderr, "sink: %s port %s: %s\n", bind_host, port,
		    strerror(errno));
		exit(1);
	}
	freeaddrinfo(res);
	if ((l->ev = event_new(base, l->fd, EV_READ | EV_PERSIST, accept_cb,
	    l)) == NULL || event_add(l->ev, NULL) == -1)
		exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sink --cert FILE --key FILE "
	    "[--tls-port P] [--starttls-port P]\n"
	    "            [--host 127.0.0.1] [--login L] [--password P] "
	    "[--stats FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "tls-port", required_argument, NULL, 't' },
		{ "starttls-port", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'H' },
		{ "login", required_argument, NULL, 'l' },
		{ "password", required_argument, NULL, 'p' },
		{ "stats", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*cert = NULL, *key = NULL;
	const char		*tls_port = NULL, *starttls_port = NULL;
	struct tls_config	*cfg;
	struct event		*ev_timer, *ev_sig[3];
	struct timeval		 tv = { 0, 100000 };
	int			 ch, i, sigs[3] = { SIGTERM, SIGINT, SIGUSR1 };

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 't': tls_port = optarg; break;
		case 's': starttls_port = optarg; break;
		case 'H': bind_host = optarg; break;
		case 'l': login = optarg; break;
		case 'p': password = optarg; break;
		case 'S': stats_file = optarg; break;
		default: usage();
		}
	}
	if (cert == NULL || key == NULL || (tls_port == NULL &&
	    starttls_port == NULL) || optind != argc)
		usage();
	if (sodium_init() == -1)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if ((cfg = tls_config_new()) == NULL ||
	    tls_config_set_keypair_file(cfg, cert, key) == -1 ||
	    (server = tls_server()) == NULL ||
	    tls_configure(server, cfg) == -1) {
		fprintf(stderr, "sink: TLS setup: %s\n",
		    cfg ? tls_config_error(cfg) : "out of memory");
		return 1;
	}
	if ((base = event_base_new()) == NULL)
		return 1;
	if (tls_port)
		listen_on(tls_port, 0);
	if (starttls_port)
		listen_on(starttls_port, 1);
	if ((ev_timer = event_new(base, -1, EV_PERSIST, timer_cb,
	    NULL)) == NULL || event_add(ev_timer, &tv) == -1)
		return 1;
	for (i = 0; i < 3; i++)
		if ((ev_sig[i] = evsignal_new(base, sigs[i], signal_cb,
		    NULL)) == NULL || evsignal_add(ev_sig[i], NULL) == -1)
			return 1;
	stats_write(1);
	event_base_dispatch(base);
	return 0;
}
