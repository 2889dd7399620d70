/*
 * relay_probe.c — one trial session with the smarthost (relay_probe.h).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <tls.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "lib/fileset.h"
#include "proto/smtp_client_reply.h"
#include "relay/relay_probe.h"

#define LINE_MAX_OCTETS	1024
#define REPLY_TEXT_MAX	2048

struct probe {
	const struct conf	*conf;
	int			 timeout;
	relay_probe_cb		 cb;
	void			*arg;
	char			 hostport[SMTP_DOMAIN_MAX + 16];
	struct addrinfo		*ai;
	int			 fd;
	struct tls		*tls;
	struct tls_config	*cfg;		/* verifying */
	unsigned char		 first[40];	/* first octets read, raw */
	size_t			 nfirst;
	char			 in[4096];	/* read, not yet used */
	size_t			 inlen;
	struct smtp_client_caps	 caps;
	char			 auth_line[256];	/* "AUTH PLAIN LOGIN" */
	char			 reply[REPLY_TEXT_MAX];	/* whole, lines joined */
	int			 code;
};

static void
say(struct probe *p, const char *step, enum relay_probe_result r,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
say(struct probe *p, const char *step, enum relay_probe_result r,
    const char *fmt, ...)
{
	char	 text[4096];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	p->cb(step, r, text, p->arg);
}

/* --- raw I/O: the socket blocks, with SO_RCVTIMEO/SO_SNDTIMEO -------- */

static ssize_t
raw_read(struct tls *ctx, void *buf, size_t len, void *arg)
{
	struct probe	*p = arg;
	ssize_t		 n;

	(void)ctx;
	do
		n = recv(p->fd, buf, len, 0);
	while (n == -1 && errno == EINTR);
	if (n > 0 && p->nfirst < sizeof(p->first)) {
		size_t k = sizeof(p->first) - p->nfirst;

		if (k > (size_t)n)
			k = (size_t)n;
		memcpy(p->first + p->nfirst, buf, k);
		p->nfirst += k;
	}
	return n;
}

static ssize_t
raw_write(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	struct probe	*p = arg;
	ssize_t		 n;

	(void)ctx;
	do
		n = send(p->fd, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n;
}

static ssize_t
conn_read(struct probe *p, void *buf, size_t len)
{
	ssize_t	 n;

	if (p->tls == NULL)
		return raw_read(NULL, buf, len, p);
	do
		n = tls_read(p->tls, buf, len);
	while (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT);
	return n;
}

static int
conn_write(struct probe *p, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if (p->tls == NULL)
			n = raw_write(NULL, buf, len, p);
		else {
			n = tls_write(p->tls, buf, len);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
				continue;
		}
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Printable copy of BUF (LEN octets) into OUT (SIZE). */
static void
printable(const char *buf, size_t len, char *out, size_t size)
{
	size_t	 i, o = 0;

	for (i = 0; i < len && o + 1 < size; i++)
		out[o++] = (buf[i] >= ' ' && buf[i] < 0x7f) ? buf[i] : '?';
	out[o] = '\0';
}

/* One whole reply into p->code and p->reply (lines joined by " / ");
 * -1 on EOF, timeout or garbage (p->reply says what came). */
static int
read_reply(struct probe *p, int ehlo)
{
	struct smtp_client_reply r;
	char		*nl;
	size_t		 linelen, o = 0;
	ssize_t		 n;
	int		 rc;

	smtp_client_reply_init(&r);
	r.caps = NULL;
	if (ehlo) {
		memset(&p->caps, 0, sizeof(p->caps));
		p->auth_line[0] = '\0';
	}
	p->reply[0] = '\0';
	p->code = 0;
	for (;;) {
		while ((nl = memchr(p->in, '\n', p->inlen)) == NULL) {
			if (p->inlen >= LINE_MAX_OCTETS) {
				snprintf(p->reply, sizeof(p->reply),
				    "a reply line over %d octets",
				    LINE_MAX_OCTETS);
				return -1;
			}
			n = conn_read(p, p->in + p->inlen,
			    sizeof(p->in) - p->inlen);
			if (n <= 0) {
				if (p->inlen > 0)
					printable(p->in, p->inlen, p->reply,
					    sizeof(p->reply));
				else
					snprintf(p->reply, sizeof(p->reply), "%s",
					    n == 0 ? "connection closed" :
					    p->tls ? tls_error(p->tls) :
					    errno == EAGAIN ? "timed out" :
					    strerror(errno));
				return -1;
			}
			p->inlen += (size_t)n;
		}
		linelen = (size_t)(nl - p->in);
		if (linelen > 0 && p->in[linelen - 1] == '\r')
			linelen--;
		if (o + 4 < sizeof(p->reply)) {
			if (o)
				o += (size_t)snprintf(p->reply + o,
				    sizeof(p->reply) - o, " / ");
			if (o < sizeof(p->reply))
				printable(p->in, linelen, p->reply + o,
				    sizeof(p->reply) - o);
			o = strlen(p->reply);
		}
		rc = smtp_client_reply_line(&r, p->in, linelen);
		if (ehlo && rc >= 0 && r.nlines > 1 && linelen > 4)
			smtp_client_ehlo_keyword(&p->caps, p->in + 4,
			    linelen - 4);
		if (ehlo && linelen > 9 && strncasecmp(p->in + 4, "AUTH ", 5)
		    == 0)
			printable(p->in + 4, linelen - 4, p->auth_line,
			    sizeof(p->auth_line));
		p->inlen -= (size_t)(nl + 1 - p->in);
		memmove(p->in, nl + 1, p->inlen);
		if (rc == -1)
			return -1;
		if (rc == 1) {
			p->code = r.code;
			return 0;
		}
	}
}

static int
command(struct probe *p, const char *step, const char *show,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sends a command line (SHOW is what to print instead, for secrets) and
 * reads the reply; -1 (reported) when the line broke. */
static int
command(struct probe *p, const char *step, const char *show,
    const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	memcpy(line + n, "\r\n", 3);
	if (conn_write(p, line, (size_t)n + 2) == -1 ||
	    read_reply(p, strncmp(line, "EHLO", 4) == 0) == -1) {
		say(p, step, PROBE_FAIL, "%s: no reply: %s", show ? show : line,
		    p->reply);
		sodium_memzero(line, sizeof(line));
		return -1;
	}
	sodium_memzero(line, sizeof(line));
	return 0;
}

/* --- steps ------------------------------------------------------------- */

static int
step_connect(struct probe *p, int quiet)
{
	const struct conf_relay	*r = &p->conf->relay;
	struct addrinfo		 hints, *a;
	struct timeval		 tv = { .tv_sec = p->timeout };
	char			 addr[64], err[512] = "", list[512] = "";
	int			 e, one = 1;

	if (p->ai == NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((e = getaddrinfo(r->host, r->port, &hints, &p->ai)) != 0) {
			say(p, "dns", PROBE_FAIL, "cannot resolve %s: %s "
			    "(the relay URL's host name)", r->host,
			    gai_strerror(e));
			return -1;
		}
		for (a = p->ai; a; a = a->ai_next) {
			size_t l = strlen(list);

			getnameinfo(a->ai_addr, a->ai_addrlen, addr,
			    sizeof(addr), NULL, 0, NI_NUMERICHOST);
			snprintf(list + l, sizeof(list) - l, "%s%s",
			    l ? ", " : "", addr);
		}
		say(p, "dns", PROBE_OK, "%s is %s", r->host, list);
	}
	for (a = p->ai; a; a = a->ai_next) {
		struct pollfd	 pfd;
		int		 soerr = 0, flags;
		socklen_t	 sl = sizeof(soerr);

		getnameinfo(a->ai_addr, a->ai_addrlen, addr, sizeof(addr), NULL,
		    0, NI_NUMERICHOST);
		if ((p->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
		    a->ai_protocol)) == -1)
			continue;
		flags = fcntl(p->fd, F_GETFL);
		fcntl(p->fd, F_SETFL, flags | O_NONBLOCK);
		if (connect(p->fd, a->ai_addr, a->ai_addrlen) == -1 &&
		    errno != EINPROGRESS)
			soerr = errno;
		else {
			pfd.fd = p->fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, p->timeout * 1000) <= 0)
				soerr = ETIMEDOUT;
			else if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &sl) == -1)
				soerr = errno;
		}
		if (soerr == 0) {
			fcntl(p->fd, F_SETFL, flags);
			setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			    sizeof(tv));
			setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			if (!quiet)
				say(p, "tcp", PROBE_OK, "connected to %s port %s",
				    addr, r->port);
			return 0;
		}
		snprintf(err + strlen(err), sizeof(err) - strlen(err), "%s%s: %s",
		    err[0] ? "; " : "", addr, strerror(soerr));
		close(p->fd);
		p->fd = -1;
	}
	say(p, "tcp", PROBE_FAIL, "cannot connect to %s (%s): the port is "
	    "closed or filtered; check the relay URL's port (465 for "
	    "smtps://, 587 for smtp+tls://) and the firewall", p->hostport,
	    err);
	return -1;
}

static void
conn_close(struct probe *p)
{
	if (p->tls) {
		tls_close(p->tls);
		tls_free(p->tls);
		p->tls = NULL;
	}
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->inlen = 0;
	p->nfirst = 0;
}

/* The peer certificate's names, issuer and expiry in one line. */
static void
cert_text(struct tls *t, char *out, size_t size)
{
	const uint8_t	*pem;
	size_t		 len, o = 0;
	BIO		*bio;
	X509		*x = NULL;
	GENERAL_NAMES	*san;
	time_t		 na = tls_peer_cert_notafter(t);
	struct tm	 tm;
	char		 date[32] = "?";

	out[0] = '\0';
	if ((pem = tls_peer_cert_chain_pem(t, &len)) != NULL &&
	    (bio = BIO_new_mem_buf(pem, (int)len)) != NULL) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	o += (size_t)snprintf(out, size, "certificate names ");
	if (x != NULL &&
	    (san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL))) {
		int i, n = 0;

		for (i = 0; i < sk_GENERAL_NAME_num(san) && o < size; i++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);

			if (g->type != GEN_DNS)
				continue;
			o += (size_t)snprintf(out + o, size - o, "%s%.*s",
			    n++ ? "," : "", ASN1_STRING_length(g->d.dNSName),
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		}
		GENERAL_NAMES_free(san);
	} else if (o < size)
		o += (size_t)snprintf(out + o, size - o, "(none)");
	X509_free(x);
	if (na != -1 && gmtime_r(&na, &tm) != NULL)
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	if (o < size)
		snprintf(out + o, size - o, ", issuer %s, expires %s (%ld days)",
		    tls_peer_cert_issuer(t) ? tls_peer_cert_issuer(t) : "?",
		    date, na == -1 ? 0L : (long)((na - time(NULL)) / 86400));
}

/* 1 when the octets look like an SMTP reply ("220 ", "220-", "554 "). */
static int
looks_smtp(const unsigned char *b, size_t n)
{
	return n >= 4 && b[0] >= '2' && b[0] <= '5' && b[1] >= '0' &&
	    b[1] <= '9' && b[2] >= '0' && b[2] <= '9' &&
	    (b[3] == ' ' || b[3] == '-');
}

/* A TLS handshake on p->fd; with VERIFY 0 nothing is checked (used only
 * to show what a failing server presents). */
static int
tls_start(struct probe *p, int verify, char *err, size_t errlen)
{
	struct tls_config	*cfg = p->cfg, *insecure = NULL;
	int			 rc;

	if (!verify) {
		if ((insecure = tls_config_new()) == NULL)
			return -1;
		tls_config_insecure_noverifycert(insecure);
		tls_config_insecure_noverifyname(insecure);
		tls_config_insecure_noverifytime(insecure);
		cfg = insecure;
	}
	if ((p->tls = tls_client()) == NULL ||
	    tls_configure(p->tls, cfg) == -1 ||
	    tls_connect_cbs(p->tls, raw_read, raw_write, p,
	    p->conf->relay.host) == -1) {
		snprintf(err, errlen, "%s", p->tls ? tls_error(p->tls) :
		    "out of memory");
		tls_config_free(insecure);
		return -1;
	}
	do
		rc = tls_handshake(p->tls);
	while (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT);
	if (rc == -1)
		snprintf(err, errlen, "%s", tls_error(p->tls) ?
		    tls_error(p->tls) : "handshake failed");
	tls_config_free(insecure);
	return rc == -1 ? -1 : 0;
}

static int
step_tls(struct probe *p, int implicit)
{
	char	 err[512], cert[1024], first[48];
	const char *ca = p->conf->relay.ca_file ? p->conf->relay.ca_file :
	    tls_default_ca_cert_file();

	if (tls_start(p, 1, err, sizeof(err)) == 0) {
		cert_text(p->tls, cert, sizeof(cert));
		say(p, "tls", PROBE_OK, "%s %s, %s; verified for %s against %s",
		    tls_conn_version(p->tls), tls_conn_cipher(p->tls), cert,
		    p->conf->relay.host, ca);
		return 0;
	}
	if (implicit && looks_smtp(p->first, p->nfirst)) {
		printable((const char *)p->first, p->nfirst, first,
		    sizeof(first));
		say(p, "tls", PROBE_FAIL, "implicit TLS, but %s answered in "
		    "plaintext SMTP (\"%s...\"): this port speaks STARTTLS; "
		    "use relay smtp+tls://%s (or smtps:// to port 465)",
		    p->hostport, first, p->hostport);
		return -1;
	}
	/* show what the server presents, on a second connection that
	 * checks nothing and sends nothing but the handshake */
	conn_close(p);
	cert[0] = '\0';
	if (step_connect(p, 1) == 0) {
		char err2[256];

		if (!implicit) {
			/* the greeting, EHLO, STARTTLS again */
			if (read_reply(p, 0) == 0 &&
			    command(p, "tls", NULL, "EHLO %s",
			    p->conf->hostname) == 0 &&
			    command(p, "tls", NULL, "STARTTLS") == 0 &&
			    p->code == 220)
				p->inlen = 0;
		}
		if (tls_start(p, 0, err2, sizeof(err2)) == 0)
			cert_text(p->tls, cert, sizeof(cert));
		conn_close(p);
	}
	say(p, "tls", PROBE_FAIL, "handshake or certificate check failed: "
	    "%s%s%s; the relay would refuse this server (check the relay "
	    "host name, and 'relay ca' for a private CA: now %s)", err,
	    cert[0] ? "; the server presents " : "", cert, ca);
	return -1;
}

static int
step_ehlo(struct probe *p)
{
	if (command(p, "ehlo", NULL, "EHLO %s", p->conf->hostname) == -1)
		return -1;
	if (p->code != 250) {
		say(p, "ehlo", PROBE_FAIL, "EHLO refused: %s", p->reply);
		return -1;
	}
	return 0;
}

int
relay_probe(const struct conf *conf, const struct secret *secret,
    const char *sender, int timeout, relay_probe_cb cb, void *arg)
{
	struct probe	 p;
	char		*mem = NULL;
	size_t		 memlen = 0;
	const char	*ca;
	int		 rc = -1, implicit;

	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.timeout = timeout > 0 ? timeout : 30;
	p.cb = cb;
	p.arg = arg;
	p.fd = -1;
	snprintf(p.hostport, sizeof(p.hostport), "%s:%s", conf->relay.host,
	    conf->relay.port);
	implicit = conf->relay.tls == RELAY_SMTPS;
	ca = conf->relay.ca_file ? conf->relay.ca_file :
	    tls_default_ca_cert_file();
	if ((p.cfg = tls_config_new()) == NULL ||
	    fileset_read(ca, FILESET_FILE_MAX, &mem, &memlen, NULL) == -1 ||
	    tls_config_set_ca_mem(p.cfg, (uint8_t *)mem, memlen) == -1) {
		say(&p, "tls", PROBE_FAIL, "cannot load the CA file %s: %s", ca,
		    p.cfg && mem ? tls_config_error(p.cfg) : strerror(errno));
		goto out;
	}
	if (step_connect(&p, 0) == -1)
		goto out;
	if (implicit) {
		if (step_tls(&p, 1) == -1)
			goto out;
		if (read_reply(&p, 0) == -1 || p.code != 220) {
			say(&p, "banner", PROBE_FAIL, "no 220 greeting: %s",
			    p.reply);
			goto out;
		}
		say(&p, "banner", PROBE_OK, "%s", p.reply);
	} else {
		struct pollfd pfd = { .fd = p.fd, .events = POLLIN };

		if (poll(&pfd, 1, p.timeout * 1000) <= 0) {
			char err[256];

			/* silent: does it wait for a TLS ClientHello? */
			conn_close(&p);
			if (step_connect(&p, 1) == 0 &&
			    tls_start(&p, 0, err, sizeof(err)) == 0)
				say(&p, "banner", PROBE_FAIL, "no greeting in %d s, "
				    "and %s completes a TLS handshake at once: "
				    "this port speaks implicit TLS; use relay "
				    "smtps://%s (or smtp+tls:// to port 587)",
				    p.timeout, p.hostport, p.hostport);
			else
				say(&p, "banner", PROBE_FAIL, "no greeting in "
				    "%d s", p.timeout);
			goto out;
		}
		if (read_reply(&p, 0) == -1 || p.code != 220) {
			say(&p, "banner", PROBE_FAIL, "no 220 greeting: %s",
			    p.reply);
			goto out;
		}
		say(&p, "banner", PROBE_OK, "%s", p.reply);
		if (step_ehlo(&p) == -1)
			goto out;
		if (!(p.caps.flags & SMTP_CAP_STARTTLS)) {
			say(&p, "starttls", PROBE_FAIL, "STARTTLS not offered "
			    "(EHLO: %s): the relay never goes on in plaintext",
			    p.reply);
			goto out;
		}
		if (command(&p, "starttls", NULL, "STARTTLS") == -1)
			goto out;
		if (p.code != 220) {
			say(&p, "starttls", PROBE_FAIL, "STARTTLS refused: %s",
			    p.reply);
			goto out;
		}
		say(&p, "starttls", PROBE_OK, "%s", p.reply);
		p.inlen = 0;	/* nothing read before TLS is kept */
		if (step_tls(&p, 0) == -1)
			goto out;
	}
	if (step_ehlo(&p) == -1)
		goto out;
	{
		char size[64] = "no SIZE";

		if (p.caps.flags & SMTP_CAP_SIZE)
			snprintf(size, sizeof(size), "SIZE %llu",
			    (unsigned long long)p.caps.size_max);
		say(&p, "ehlo", PROBE_OK, "%s, %s", size, p.auth_line[0] ?
		    p.auth_line : "no AUTH offered");
	}
	if (secret == NULL) {
		say(&p, "auth", PROBE_FAIL, "no line of the secrets file "
		    "matches the sender%s%s%s: the relay would not send it",
		    sender ? " <" : "", sender ? sender : "", sender ? ">" :
		    "");
		goto quit;
	}
	if (p.caps.flags & SMTP_CAP_AUTH_PLAIN) {
		size_t	 ll = strlen(secret->login), pl = strlen(secret->password);
		size_t	 rawlen = ll + pl + 2;
		unsigned char *raw = malloc(rawlen);
		char	*b64 = malloc(sodium_base64_ENCODED_LEN(rawlen,
			    sodium_base64_VARIANT_ORIGINAL));
		int	 r;

		if (raw == NULL || b64 == NULL) {
			free(raw);
			free(b64);
			goto quit;
		}
		raw[0] = '\0';
		memcpy(raw + 1, secret->login, ll);
		raw[ll + 1] = '\0';
		memcpy(raw + ll + 2, secret->password, pl);
		sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(rawlen,
		    sodium_base64_VARIANT_ORIGINAL), raw, rawlen,
		    sodium_base64_VARIANT_ORIGINAL);
		r = command(&p, "auth", "AUTH PLAIN (credentials)",
		    "AUTH PLAIN %s", b64);
		sodium_memzero(raw, rawlen);
		sodium_memzero(b64, strlen(b64));
		free(raw);
		free(b64);
		if (r == -1)
			goto out;
	} else if (p.caps.flags & SMTP_CAP_AUTH_LOGIN) {
		char	 b64[1024];
		int	 r;

		if (command(&p, "auth", NULL, "AUTH LOGIN") == -1)
			goto out;
		if (p.code == 334) {
			sodium_bin2base64(b64, sizeof(b64),
			    (const unsigned char *)secret->login,
			    strlen(secret->login), sodium_base64_VARIANT_ORIGINAL);
			if (command(&p, "auth", "(login)", "%s", b64) == -1)
				goto out;
		}
		if (p.code == 334) {
			sodium_bin2base64(b64, sizeof(b64),
			    (const unsigned char *)secret->password,
			    strlen(secret->password),
			    sodium_base64_VARIANT_ORIGINAL);
			r = command(&p, "auth", "(password)", "%s", b64);
			sodium_memzero(b64, sizeof(b64));
			if (r == -1)
				goto out;
		}
	} else {
		say(&p, "auth", PROBE_FAIL, "the server offers neither AUTH "
		    "PLAIN nor AUTH LOGIN after TLS");
		goto quit;
	}
	if (p.code == 535 || (p.code >= 500 && strstr(p.reply, "5.7.8"))) {
		say(&p, "auth", PROBE_FAIL, "login refused for %s: %s: wrong "
		    "password, or OVH blocked the account for spam (see the "
		    "runbook, submitd-runbook(7))", secret->login, p.reply);
		goto quit;
	}
	if (p.code != 235) {
		say(&p, "auth", PROBE_FAIL, "login for %s: %s", secret->login,
		    p.reply);
		goto quit;
	}
	say(&p, "auth", PROBE_OK, "logged in as %s: %s", secret->login,
	    p.reply);
	if (sender != NULL) {
		if (command(&p, "mail", NULL, "MAIL FROM:<%s>", sender) == -1)
			goto out;
		if (p.code != 250) {
			say(&p, "mail", PROBE_FAIL, "sender <%s> refused for "
			    "login %s: %s (OVH refuses a sender the mailbox may "
			    "not send as: check the secrets file's line for it)",
			    sender, secret->login, p.reply);
			goto quit;
		}
		say(&p, "mail", PROBE_OK, "sender <%s> accepted: %s", sender,
		    p.reply);
		if (command(&p, "mail", NULL, "RSET") == -1)
			goto out;
	}
	rc = 0;
quit:
	if (command(&p, "quit", NULL, "QUIT") == 0)
		say(&p, "quit", PROBE_INFO, "%s", p.reply);
out:
	conn_close(&p);
	if (p.ai)
		freeaddrinfo(p.ai);
	tls_config_free(p.cfg);
	if (mem)
		fileset_buf_free(mem, memlen);
	return rc;
}
