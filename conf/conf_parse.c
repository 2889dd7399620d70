/*
 * conf_parse.c — submitd.conf into a struct conf: one statement a line,
 * dispatched on its first word through the table below; each statement
 * reports its own errors and parsing goes on to the end of the file so
 * that one run shows every mistake.  Files the configuration names are
 * not opened here: their owners load them.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "conf/addr.h"
#include "conf/conf.h"
#include "conf/conf_filter.h"
#include "conf/conf_lex.h"
#include "lib/log.h"

struct parser {
	struct conf_reader	 r;
	struct conf		*conf;
	char			**listen_pki;	/* pki names, as conf->listen */
	/* Line of the first of each once-only statement, 0 if none yet. */
	int			 seen_hostname, seen_user, seen_queue;
	int			 seen_users, seen_relay, seen_relay_ca;
	int			 seen_state;	/* "state DIR" or "state redis" */
};

typedef void	(*statement_fn)(struct parser *, char **, size_t);

static void	st_hostname(struct parser *, char **, size_t);
static void	st_user(struct parser *, char **, size_t);
static void	st_queue(struct parser *, char **, size_t);
static void	st_pki(struct parser *, char **, size_t);
static void	st_listen(struct parser *, char **, size_t);
static void	st_allow(struct parser *, char **, size_t);
static void	st_users(struct parser *, char **, size_t);
static void	st_limit(struct parser *, char **, size_t);
static void	st_dkim(struct parser *, char **, size_t);
static void	st_relay(struct parser *, char **, size_t);
static void	st_control(struct parser *, char **, size_t);
static void	st_timeout(struct parser *, char **, size_t);
static void	st_tls(struct parser *, char **, size_t);
static void	st_state(struct parser *, char **, size_t);
static void	st_filter(struct parser *, char **, size_t);
static void	st_metrics(struct parser *, char **, size_t);
static void	st_alert(struct parser *, char **, size_t);

static const struct {
	const char	*name;
	statement_fn	 fn;
} statements[] = {
	{ "hostname",	st_hostname },
	{ "user",	st_user },
	{ "queue",	st_queue },
	{ "pki",	st_pki },
	{ "listen",	st_listen },
	{ "allow",	st_allow },
	{ "users",	st_users },
	{ "limit",	st_limit },
	{ "dkim",	st_dkim },
	{ "relay",	st_relay },
	{ "control",	st_control },
	{ "timeout",	st_timeout },
	{ "tls",	st_tls },
	{ "state",	st_state },
	{ "filter",	st_filter },
	{ "metrics",	st_metrics },
	{ "alert",	st_alert },
};

#define PERR(p, ...)	conf_error(&(p)->r, (p)->r.line, __VA_ARGS__)

static char *
xstrdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		fatal("conf: strdup");
	return d;
}

/* Grows *ARR of *N elements of SIZE by one zeroed element; returns it. */
static void *
grow(void *arrp, size_t *n, size_t size)
{
	void	**arr = arrp;
	char	 *a;

	if ((a = reallocarray(*arr, *n + 1, size)) == NULL)
		fatal("conf: reallocarray");
	memset(a + *n * size, 0, size);
	*arr = a;
	return a + (*n)++ * size;
}

/* Reports a second once-only statement; 0 when this is the first. */
static int
once(struct parser *p, int *seen, const char *what)
{
	if (*seen) {
		PERR(p, "'%s' given twice (first on line %d)", what, *seen);
		return -1;
	}
	*seen = p->r.line;
	return 0;
}

/* Checks that the statement has exactly N words; reports otherwise. */
static int
nwords(struct parser *p, size_t n, size_t want, const char *usage)
{
	if (n != want) {
		PERR(p, "usage: %s", usage);
		return -1;
	}
	return 0;
}

/* A file name word: not empty.  Returns a copy, or NULL after an error. */
static char *
file_word(struct parser *p, const char *w, const char *what)
{
	if (*w == '\0') {
		PERR(p, "%s: empty file name", what);
		return NULL;
	}
	return xstrdup(w);
}

static int
duration_word(struct parser *p, const char *w, const char *what, time_t *out)
{
	if (conf_duration_parse(w, out) == -1) {
		PERR(p, "%s: bad duration '%s' (like 30s, 15m, 4h, 5d)",
		    what, w);
		return -1;
	}
	if (*out == 0) {
		PERR(p, "%s: duration must not be 0", what);
		return -1;
	}
	return 0;
}

static int
count_word(struct parser *p, const char *w, uint64_t max, const char *what,
    uint64_t *out)
{
	if (conf_number_parse(w, max, out) == -1) {
		PERR(p, "%s: bad number '%s' (0 to %llu)", what, w,
		    (unsigned long long)max);
		return -1;
	}
	return 0;
}

static void
st_hostname(struct parser *p, char **w, size_t n)
{
	if (nwords(p, n, 2, "hostname NAME") == -1 ||
	    once(p, &p->seen_hostname, "hostname") == -1)
		return;
	if (!addr_domain_valid(w[1], strlen(w[1]))) {
		PERR(p, "hostname: bad host name '%s'", w[1]);
		return;
	}
	snprintf(p->conf->hostname, sizeof(p->conf->hostname), "%s", w[1]);
}

static void
st_user(struct parser *p, char **w, size_t n)
{
	const char	*c;

	if (nwords(p, n, 2, "user NAME") == -1 ||
	    once(p, &p->seen_user, "user") == -1)
		return;
	if (*w[1] == '\0' || strlen(w[1]) > 32 || *w[1] == '-') {
		PERR(p, "user: bad user name '%s'", w[1]);
		return;
	}
	for (c = w[1]; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' ||
		    *c == '.')) {
			PERR(p, "user: bad user name '%s'", w[1]);
			return;
		}
	free(p->conf->user);
	p->conf->user = xstrdup(w[1]);
}

static void
st_queue(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	size_t		 i;
	time_t		*t;

	if (n < 2 || n % 2 != 0) {
		PERR(p, "usage: queue \"DIR\" [lifetime DUR] [retry-min DUR]"
		    " [retry-max DUR]");
		return;
	}
	if (once(p, &p->seen_queue, "queue") == -1)
		return;
	if (w[1][0] != '/') {
		PERR(p, "queue: directory '%s' is not an absolute path", w[1]);
		return;
	}
	free(c->queue_dir);
	c->queue_dir = xstrdup(w[1]);
	for (i = 2; i < n; i += 2) {
		if (strcmp(w[i], "lifetime") == 0)
			t = &c->queue_lifetime;
		else if (strcmp(w[i], "retry-min") == 0)
			t = &c->queue_retry_min;
		else if (strcmp(w[i], "retry-max") == 0)
			t = &c->queue_retry_max;
		else {
			PERR(p, "queue: unknown option '%s'", w[i]);
			continue;
		}
		duration_word(p, w[i + 1], w[i], t);
	}
	if (c->queue_retry_min > c->queue_retry_max)
		PERR(p, "queue: retry-min is longer than retry-max");
}

static void
st_pki(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	struct conf_pki	*pki;
	char		*cert = NULL, *key = NULL;
	size_t		 i;

	if (n != 6) {
		PERR(p, "usage: pki NAME cert \"FILE\" key \"FILE\"");
		return;
	}
	for (i = 2; i < n; i += 2) {
		if (strcmp(w[i], "cert") == 0 && cert == NULL)
			cert = file_word(p, w[i + 1], "pki cert");
		else if (strcmp(w[i], "key") == 0 && key == NULL)
			key = file_word(p, w[i + 1], "pki key");
		else
			PERR(p, "pki: unexpected '%s'", w[i]);
	}
	for (i = 0; i < c->npki; i++)
		if (strcmp(c->pki[i].name, w[1]) == 0) {
			PERR(p, "pki: duplicate name '%s'", w[1]);
			break;
		}
	if (cert == NULL || key == NULL || i < c->npki || *w[1] == '\0') {
		if (*w[1] == '\0')
			PERR(p, "pki: empty name");
		free(cert);
		free(key);
		return;
	}
	pki = grow(&c->pki, &c->npki, sizeof(*c->pki));
	pki->name = xstrdup(w[1]);
	pki->cert_file = cert;
	pki->key_file = key;
	pki->line = p->r.line;
}

/* Fills SS with numeric address ADDR and PORT; -1 when ADDR is not one. */
static int
listen_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/*
 * A proxy-from block must name the load balancers only: any host in it
 * may claim any client address in its PROXY header, and the allowlist,
 * lockouts, rate limits and logs then see that address.  0.0.0.0/0, ::/0
 * and anything wider than an IPv4 /8 or an IPv6 /32 are refused (two /1
 * are 0.0.0.0/0 too); wider than an IPv4 /16 or an IPv6 /48, a warning.
 * An IPv6 block holding IPv4-mapped addresses (::ffff:0:0/96) matches
 * IPv4 peers (conf_cidr_match): it counts as the IPv4 block it holds,
 * so ::/64 is 0.0.0.0/0.
 */
#define PROXY_FROM_MIN_V4	8
#define PROXY_FROM_MIN_V6	32
#define PROXY_FROM_WARN_V4	16
#define PROXY_FROM_WARN_V6	48

/* 1 when C holds IPv4-mapped addresses; *V4LEN the IPv4 prefix length. */
static int
proxy_from_mapped(const struct conf_cidr *c, unsigned *v4len)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	unsigned		 i, n = c->prefixlen < 96 ? c->prefixlen : 96;

	if (c->family != AF_INET6)
		return 0;
	for (i = 0; i < n; i++)
		if (((c->addr[i / 8] ^ mapped[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	*v4len = c->prefixlen > 96 ? c->prefixlen - 96 : 0;
	return 1;
}

static int
proxy_from_width(struct parser *p, const struct conf_cidr *cidr)
{
	unsigned	 len = cidr->prefixlen, min, warn;
	int		 v4 = cidr->family == AF_INET;
	char		 buf[64];

	if (proxy_from_mapped(cidr, &len))
		v4 = 1;
	min = v4 ? PROXY_FROM_MIN_V4 : PROXY_FROM_MIN_V6;
	warn = v4 ? PROXY_FROM_WARN_V4 : PROXY_FROM_WARN_V6;
	conf_cidr_format(cidr, buf, sizeof(buf));
	if (len < min) {
		PERR(p, "listen: proxy-from %s refused: %s could claim any "
		    "client address in a PROXY header (allowlist, lockouts, "
		    "rate limits bypassed); name the load balancers only (an "
		    "%s/%u or narrower)", buf, len == 0 ? "every host" :
		    "any host in so wide a block", v4 ? "IPv4 " : "IPv6 ", min);
		return -1;
	}
	if (len < warn)
		conf_warn(&p->r, p->r.line, "listen: proxy-from %s is wide: "
		    "any host in it may claim any client address; name the "
		    "load balancers only", buf);
	return 0;
}

static void
st_listen(struct parser *p, char **w, size_t n)
{
	struct conf		*c = p->conf;
	struct conf_listen	*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	enum listen_tls		 tls;
	uint64_t		 port;
	size_t			 i, nl;

	struct conf_cidr	 cidr;
	char			 buf[64];
	int			 hostbits;

	if (n < 8 || n % 2 != 0 || strcmp(w[1], "on") != 0 ||
	    strcmp(w[3], "port") != 0 || strcmp(w[6], "pki") != 0) {
		PERR(p, "usage: listen on ADDR port N starttls|tls pki NAME "
		    "[proxy-from CIDR ...]");
		return;
	}
	for (i = 8; i < n; i += 2) {
		if (strcmp(w[i], "proxy-from") != 0) {
			PERR(p, "listen: unexpected '%s' (proxy-from CIDR)",
			    w[i]);
			return;
		}
		if (conf_cidr_parse_bits(w[i + 1], &cidr, &hostbits) == -1) {
			PERR(p, "listen: proxy-from: bad address block '%s'",
			    w[i + 1]);
			return;
		}
		if (hostbits)
			conf_warn(&p->r, p->r.line, "listen: proxy-from '%s' "
			    "has host bits set, taken as %s", w[i + 1],
			    conf_cidr_format(&cidr, buf, sizeof(buf)));
		if (proxy_from_width(p, &cidr) == -1)
			return;
	}
	if (conf_number_parse(w[4], 65535, &port) == -1 || port == 0) {
		PERR(p, "listen: port '%s' out of range (1 to 65535)", w[4]);
		return;
	}
	if (strcmp(w[5], "starttls") == 0)
		tls = LISTEN_STARTTLS;
	else if (strcmp(w[5], "tls") == 0)
		tls = LISTEN_TLS;
	else {
		PERR(p, "listen: '%s' is not starttls or tls (there is no "
		    "plaintext mode)", w[5]);
		return;
	}
	if (listen_addr(w[2], (uint16_t)port, &ss, &sslen) == -1) {
		PERR(p, "listen: '%s' is not a numeric IPv4 or IPv6 address",
		    w[2]);
		return;
	}
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].sslen == sslen &&
		    memcmp(&c->listen[i].ss, &ss, sslen) == 0) {
			PERR(p, "listen: %s port %s already given on line %d",
			    w[2], w[4], c->listen[i].line);
			return;
		}
	nl = c->nlisten;
	l = grow(&c->listen, &c->nlisten, sizeof(*c->listen));
	l->ss = ss;
	l->sslen = sslen;
	l->tls = tls;
	l->line = p->r.line;
	for (i = 8; i < n; i += 2) {
		conf_cidr_parse(w[i + 1], &cidr);
		*(struct conf_cidr *)grow(&l->proxy_from, &l->nproxy_from,
		    sizeof(cidr)) = cidr;
	}
	*(char **)grow(&p->listen_pki, &nl, sizeof(char *)) = xstrdup(w[7]);
}

/* metrics listen on ADDR port N (issue 15): one endpoint, loopback or not. */
static void
st_metrics(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	uint64_t	 port, top;

	if (n == 3 && strcmp(w[1], "top-users") == 0) {
		if (conf_number_parse(w[2], 1000, &top) == -1)
			PERR(p, "metrics top-users: '%s' is not a count from 0 "
			    "to 1000", w[2]);
		else
			c->metrics_top_users = (size_t)top;
		return;
	}
	if (n != 6 || strcmp(w[1], "listen") != 0 || strcmp(w[2], "on") != 0 ||
	    strcmp(w[4], "port") != 0) {
		PERR(p, "usage: metrics listen on ADDR port N | metrics "
		    "top-users N");
		return;
	}
	if (c->metrics_line != 0) {
		PERR(p, "metrics: already given on line %d", c->metrics_line);
		return;
	}
	if (conf_number_parse(w[5], 65535, &port) == -1 || port == 0) {
		PERR(p, "metrics: port '%s' out of range (1 to 65535)", w[5]);
		return;
	}
	if (listen_addr(w[3], (uint16_t)port, &c->metrics_ss,
	    &c->metrics_sslen) == -1) {
		PERR(p, "metrics: '%s' is not a numeric IPv4 or IPv6 address",
		    w[3]);
		return;
	}
	c->metrics_line = p->r.line;
}

/*
 * alert user-messages|user-recipients|user-refused-recipients N per WINDOW
 * [hold] (issue 15): a login sending more than N messages (recipients,
 * recipients refused by the upstream) in a window.
 */
static void
alert_user(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	uint64_t	 count;
	time_t		 window;

	if ((n != 5 && n != 6) || strcmp(w[3], "per") != 0 ||
	    (n == 6 && strcmp(w[5], "hold") != 0)) {
		PERR(p, "usage: alert %s N per WINDOW [hold]", w[1]);
		return;
	}
	if (conf_number_parse(w[2], 1000000, &count) == -1 || count == 0) {
		PERR(p, "alert %s: '%s' is not a count from 1 to 1000000",
		    w[1], w[2]);
		return;
	}
	if (conf_window_parse(w[4], &window) == -1) {
		PERR(p, "alert %s: '%s' is not a window", w[1], w[4]);
		return;
	}
	if (strcmp(w[1], "user-messages") == 0) {
		c->alert_user_messages = count;
		c->alert_user_messages_window = window;
		c->alert_user_messages_hold = n == 6;
	} else if (strcmp(w[1], "user-recipients") == 0) {
		c->alert_user_rcpts = count;
		c->alert_user_rcpts_window = window;
		c->alert_user_rcpts_hold = n == 6;
	} else {
		c->alert_user_refused = count;
		c->alert_user_refused_window = window;
		c->alert_user_refused_hold = n == 6;
	}
}

#define SURGE_USAGE	"usage: alert user-surge FACTORx per WINDOW over " \
			"BASELINE [min N] [hold]"
#define SURGE_MIN	10	/* messages, when min is not given */

/*
 * alert user-surge FACTORx per WINDOW over BASELINE [min N] [hold] (issue
 * 15): a login's messages in a window more than FACTOR times its own
 * average per window over BASELINE, and at least N.
 */
static void
alert_surge(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	uint64_t	 factor, min = SURGE_MIN;
	time_t		 window, baseline;
	size_t		 i, len;
	int		 hold = 0, seen_min = 0;
	char		 num[24];

	if (n < 7 || strcmp(w[3], "per") != 0 || strcmp(w[5], "over") != 0) {
		PERR(p, SURGE_USAGE);
		return;
	}
	for (i = 7; i < n; i++) {
		if (strcmp(w[i], "hold") == 0 && !hold)
			hold = 1;
		else if (strcmp(w[i], "min") == 0 && !seen_min && i + 1 < n) {
			seen_min = 1;
			if (conf_number_parse(w[++i], 1000000, &min) == -1 ||
			    min == 0) {
				PERR(p, "alert user-surge: min '%s' is not a "
				    "count from 1 to 1000000", w[i]);
				return;
			}
		} else {
			PERR(p, SURGE_USAGE);
			return;
		}
	}
	len = strlen(w[2]);
	if (len < 2 || len >= sizeof(num) || w[2][len - 1] != 'x') {
		PERR(p, "alert user-surge: '%s' is not a factor from 2x to "
		    "1000x", w[2]);
		return;
	}
	memcpy(num, w[2], len - 1);
	num[len - 1] = '\0';
	if (conf_number_parse(num, 1000, &factor) == -1 || factor < 2) {
		PERR(p, "alert user-surge: '%s' is not a factor from 2x to "
		    "1000x", w[2]);
		return;
	}
	if (conf_window_parse(w[4], &window) == -1) {
		PERR(p, "alert user-surge: '%s' is not a window", w[4]);
		return;
	}
	if (conf_window_parse(w[6], &baseline) == -1 ||
	    baseline % window != 0 || baseline / window < 2 ||
	    baseline / window > 200) {
		PERR(p, "alert user-surge: baseline '%s' is not 2 to 200 "
		    "whole windows of %llds", w[6], (long long)window);
		return;
	}
	c->alert_user_surge = factor;
	c->alert_user_surge_window = window;
	c->alert_user_surge_baseline = baseline;
	c->alert_user_surge_min = min;
	c->alert_user_surge_hold = hold;
}

/*
 * alert auth-failures N per WINDOW | alert queue-age DUR | alert
 * user-messages|user-recipients|user-refused-recipients N per WINDOW
 * [hold] | alert user-surge ... (issue 15).
 */
static void
st_alert(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	uint64_t	 count;

	if (n >= 2 && (strcmp(w[1], "user-messages") == 0 ||
	    strcmp(w[1], "user-recipients") == 0 ||
	    strcmp(w[1], "user-refused-recipients") == 0)) {
		alert_user(p, w, n);
		return;
	}
	if (n >= 2 && strcmp(w[1], "user-surge") == 0) {
		alert_surge(p, w, n);
		return;
	}

	if (n == 5 && strcmp(w[1], "auth-failures") == 0 &&
	    strcmp(w[3], "per") == 0) {
		if (conf_number_parse(w[2], 1000000, &count) == -1 ||
		    count == 0) {
			PERR(p, "alert auth-failures: '%s' is not a count from "
			    "1 to 1000000", w[2]);
			return;
		}
		if (conf_window_parse(w[4], &c->alert_auth_window) == -1) {
			PERR(p, "alert auth-failures: '%s' is not a window",
			    w[4]);
			return;
		}
		c->alert_auth_failures = count;
		return;
	}
	if (n == 3 && strcmp(w[1], "queue-age") == 0) {
		if (conf_duration_parse(w[2], &c->alert_queue_age) == -1 ||
		    c->alert_queue_age == 0)
			PERR(p, "alert queue-age: '%s' is not a duration", w[2]);
		return;
	}
	PERR(p, "usage: alert auth-failures N per WINDOW | alert queue-age DUR "
	    "| alert user-messages|user-recipients|user-refused-recipients N "
	    "per WINDOW [hold] | alert user-surge FACTORx per WINDOW over "
	    "BASELINE [min N] [hold]");
}

static void
st_allow(struct parser *p, char **w, size_t n)
{
	struct conf_cidr	 cidr, *a;
	char			 buf[64];
	int			 hostbits;

	if (n != 3 || strcmp(w[1], "from") != 0) {
		PERR(p, "usage: allow from CIDR");
		return;
	}
	if (conf_cidr_parse_bits(w[2], &cidr, &hostbits) == -1) {
		PERR(p, "allow: bad address block '%s'", w[2]);
		return;
	}
	if (hostbits)
		conf_warn(&p->r, p->r.line, "allow: '%s' has host bits set, "
		    "taken as %s", w[2], conf_cidr_format(&cidr, buf,
		    sizeof(buf)));
	a = grow(&p->conf->allow, &p->conf->nallow, sizeof(*a));
	*a = cidr;
}

static void
st_users(struct parser *p, char **w, size_t n)
{
	if (nwords(p, n, 2, "users \"FILE\"") == -1 ||
	    once(p, &p->seen_users, "users") == -1)
		return;
	p->conf->users_file = file_word(p, w[1], "users");
	p->conf->users_line = p->r.line;
}

/* state "DIR": the auth role's counters (quotas, lockouts). */
static void
redis_free(struct conf_redis *r)
{
	if (r == NULL)
		return;
	free(r->url);
	free(r->host);
	free(r->path);
	free(r->user);
	free(r->password_file);
	free(r->ca);
	free(r);
}

/* fail open|closed after W[0] (quotas or lockouts); -1 after an error. */
static int
fail_words(struct parser *p, char **w, size_t n, int *closed)
{
	if (n < 3 || strcmp(w[1], "fail") != 0 ||
	    (strcmp(w[2], "open") != 0 && strcmp(w[2], "closed") != 0)) {
		PERR(p, "state redis: usage: %s fail open|closed", w[0]);
		return -1;
	}
	*closed = strcmp(w[2], "closed") == 0;
	return 0;
}

/*
 * state redis "URL" [ca "FILE"] [user NAME] [password-file "FILE"]
 *     [quotas fail open|closed] [lockouts fail open|closed]
 * ca: for rediss:// (TLS), and required by it: the certificates that may
 * sign Redis's (read at start, before the auth role's chroot).
 * The password stays in its file (read by the auth role alone): the
 * config text is seen by every role.
 */
static void
st_state_redis(struct parser *p, char **w, size_t n)
{
	struct conf_redis	*r;
	size_t			 i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("conf");
	if (n < 3 || conf_redis_parse(w[2], r) == -1) {
		PERR(p, "state redis: '%s' is not redis://ADDR[:PORT][/DB], "
		    "rediss://ADDR[:PORT][/DB] (a numeric address) or "
		    "unix:/PATH[?db=N]",
		    n < 3 ? "" : w[2]);
		redis_free(r);
		return;
	}
	r->url = xstrdup(w[2]);
	for (i = 3; i < n; ) {
		if (strcmp(w[i], "user") == 0 && i + 1 < n && r->user == NULL) {
			r->user = xstrdup(w[i + 1]);
			i += 2;
		} else if (strcmp(w[i], "password-file") == 0 && i + 1 < n &&
		    r->password_file == NULL) {
			if (w[i + 1][0] != '/') {
				PERR(p, "state redis: password-file '%s' is "
				    "not an absolute path", w[i + 1]);
				redis_free(r);
				return;
			}
			r->password_file = xstrdup(w[i + 1]);
			i += 2;
		} else if (strcmp(w[i], "ca") == 0 && i + 1 < n &&
		    r->ca == NULL) {
			if (w[i + 1][0] != '/') {
				PERR(p, "state redis: ca '%s' is not an "
				    "absolute path", w[i + 1]);
				redis_free(r);
				return;
			}
			r->ca = xstrdup(w[i + 1]);
			i += 2;
		} else if (strcmp(w[i], "quotas") == 0) {
			if (fail_words(p, w + i, n - i,
			    &p->conf->state_fail_quotas) == -1) {
				redis_free(r);
				return;
			}
			i += 3;
		} else if (strcmp(w[i], "lockouts") == 0) {
			if (fail_words(p, w + i, n - i,
			    &p->conf->state_fail_lockouts) == -1) {
				redis_free(r);
				return;
			}
			i += 3;
		} else {
			PERR(p, "state redis: unexpected '%s' (ca \"FILE\", "
			    "user NAME, password-file \"FILE\", "
			    "quotas fail open|closed, "
			    "lockouts fail open|closed)", w[i]);
			redis_free(r);
			return;
		}
	}
	if (r->tls != (r->ca != NULL)) {
		PERR(p, "state redis: %s", r->tls ? "rediss:// needs ca "
		    "\"FILE\" (the CA that signed Redis's certificate)" :
		    "ca \"FILE\" is for rediss:// (TLS) only");
		redis_free(r);
		return;
	}
	if (r->user != NULL && r->password_file == NULL) {
		PERR(p, "state redis: user %s needs a password-file", r->user);
		redis_free(r);
		return;
	}
	r->line = p->r.line;
	redis_free(p->conf->state_redis);
	p->conf->state_redis = r;
}

/* state "DIR" | state redis "URL" ...: once, one or the other. */
static void
st_state(struct parser *p, char **w, size_t n)
{
	if (n >= 2 && once(p, &p->seen_state, "state") == -1)
		return;
	if (n >= 2 && strcmp(w[1], "redis") == 0) {
		st_state_redis(p, w, n);
		return;
	}
	if (nwords(p, n, 2, "state \"DIR\" | state redis \"URL\" ...") == -1)
		return;
	if (w[1][0] != '/') {
		PERR(p, "state: directory '%s' is not an absolute path", w[1]);
		return;
	}
	free(p->conf->state_dir);
	p->conf->state_dir = xstrdup(w[1]);
}

/* "N per WINDOW [per WHO]" from W[0]; WHO NULL when there is none. */
static int
rate_words(struct parser *p, char **w, size_t n, const char *who,
    const char *what, struct conf_rate *out)
{
	struct conf_rate	 r;

	if (n != (who != NULL ? 5 : 3) || strcmp(w[1], "per") != 0 ||
	    (who != NULL && (strcmp(w[3], "per") != 0 ||
	    strcmp(w[4], who) != 0))) {
		PERR(p, "usage: %s N per WINDOW%s%s", what,
		    who != NULL ? " per " : "", who != NULL ? who : "");
		return -1;
	}
	if (count_word(p, w[0], UINT32_MAX, what, &r.count) == -1)
		return -1;
	if (conf_window_parse(w[2], &r.window) == -1) {
		PERR(p, "%s: bad window '%s' (second, minute, hour, day, or "
		    "a duration like 15m)", what, w[2]);
		return -1;
	}
	*out = r;
	return 0;
}

/* "limit bytes SIZE per WINDOW per user": SIZE 0 is no limit. */
static void
bytes_words(struct parser *p, char **w, size_t n, struct conf_rate *out)
{
	struct conf_rate	 r;

	if (n != 5 || strcmp(w[1], "per") != 0 || strcmp(w[3], "per") != 0 ||
	    strcmp(w[4], "user") != 0) {
		PERR(p, "usage: limit bytes SIZE per WINDOW per user");
		return;
	}
	if (conf_size_parse(w[0], &r.count) == -1 ||
	    r.count > CONF_BYTES_RATE_MAX) {
		PERR(p, "limit bytes: bad size '%s' (like 50M, 512K, 1G; at "
		    "most 1024G)", w[0]);
		return;
	}
	if (conf_window_parse(w[2], &r.window) == -1) {
		PERR(p, "limit bytes: bad window '%s' (second, minute, hour, "
		    "day, or a duration like 15m)", w[2]);
		return;
	}
	*out = r;
}

/* "limit sessions N [per ip]": sessions open at once. */
static void
sessions_words(struct parser *p, char **w, size_t n)
{
	uint64_t	 v;

	if ((n != 3 && n != 5) || (n == 5 && (strcmp(w[3], "per") != 0 ||
	    strcmp(w[4], "ip") != 0))) {
		PERR(p, "usage: limit sessions N [per ip]");
		return;
	}
	if (count_word(p, w[2], 1000000, "limit sessions", &v) == -1)
		return;
	if (v == 0) {
		PERR(p, "limit sessions: must be at least 1");
		return;
	}
	if (n == 5)
		p->conf->max_sessions_per_ip = (unsigned)v;
	else
		p->conf->max_sessions = (unsigned)v;
}

static void
st_limit(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	uint64_t	 v;

	if (n >= 3 && strcmp(w[1], "message-size") == 0) {
		if (nwords(p, n, 3, "limit message-size SIZE") == -1)
			return;
		if (conf_size_parse(w[2], &v) == -1 || v == 0)
			PERR(p, "limit message-size: bad size '%s' (like "
			    "35M, 512K, 1G)", w[2]);
		else
			c->max_message_size = v;
	} else if (n == 5 && strcmp(w[1], "recipients") == 0 &&
	    strcmp(w[4], "message") == 0) {
		if (strcmp(w[3], "per") != 0) {
			PERR(p, "usage: limit recipients N per message");
			return;
		}
		if (count_word(p, w[2], 100000, "limit recipients", &v) == 0) {
			if (v == 0)
				PERR(p, "limit recipients: must be at least 1");
			else
				c->max_rcpt_per_msg = (unsigned)v;
		}
	} else if (n >= 2 && strcmp(w[1], "messages") == 0)
		rate_words(p, w + 2, n - 2, "user", "limit messages",
		    &c->user_messages);
	else if (n >= 2 && strcmp(w[1], "bytes") == 0)
		bytes_words(p, w + 2, n - 2, &c->user_bytes);
	else if (n >= 2 && strcmp(w[1], "recipients") == 0)
		rate_words(p, w + 2, n - 2, "user", "limit recipients",
		    &c->user_recipients);
	else if (n >= 2 && strcmp(w[1], "connections") == 0)
		rate_words(p, w + 2, n - 2, "ip", "limit connections",
		    &c->ip_connections);
	else if (n >= 3 && strcmp(w[1], "sessions") == 0)
		sessions_words(p, w, n);
	else if (n >= 2 && strcmp(w[1], "auth-failures") == 0)
		rate_words(p, w + 2, n - 2, "ip", "limit auth-failures",
		    &c->ip_auth_failures);
	else if (n >= 2 && strcmp(w[1], "auth-delay") == 0) {
		if (nwords(p, n, 3, "limit auth-delay DUR|off") == -1)
			return;
		if (strcmp(w[2], "off") == 0)
			c->auth_delay = 0;
		else if (conf_duration_parse(w[2], &c->auth_delay) == -1 ||
		    c->auth_delay > 86400) {
			PERR(p, "limit auth-delay: bad duration '%s' (off, or "
			    "0 to 1d, like 1s, 2s)", w[2]);
			c->auth_delay = 1;
		}
	} else if (n >= 2 && strcmp(w[1], "auth-remember") == 0) {
		if (nwords(p, n, 3, "limit auth-remember DUR") == 0 &&
		    (conf_duration_parse(w[2], &c->auth_remember) == -1 ||
		    c->auth_remember > 365 * 86400)) {
			PERR(p, "limit auth-remember: bad duration '%s' (0 to "
			    "365d, like 30d)", w[2]);
			c->auth_remember = 30 * 86400;
		}
	} else if (n >= 2 && strcmp(w[1], "ipv6-prefix") == 0) {
		if (nwords(p, n, 3, "limit ipv6-prefix N") == 0 &&
		    count_word(p, w[2], 128, "limit ipv6-prefix", &v) == 0) {
			if (v < 32)
				PERR(p, "limit ipv6-prefix: %llu is below 32",
				    (unsigned long long)v);
			else
				c->ipv6_prefix = (unsigned)v;
		}
	} else
		PERR(p, "limit: unknown limit '%s' (message-size, recipients,"
		    " messages, bytes, connections, auth-failures, auth-delay,"
		    " auth-remember, ipv6-prefix, sessions)",
		    n >= 2 ? w[1] : "");
}

static void
st_dkim(struct parser *p, char **w, size_t n)
{
	struct conf		*c = p->conf;
	struct conf_dkim	 d, *dp;
	size_t			 i;
	char			*s;

	memset(&d, 0, sizeof(d));
	if ((n != 8 && n != 10) || strcmp(w[1], "domain") != 0 ||
	    strcmp(w[3], "selector") != 0 || strcmp(w[6], "key") != 0 ||
	    (n == 10 && strcmp(w[8], "canonicalization") != 0)) {
		PERR(p, "usage: dkim domain D selector S rsa|ed25519 key "
		    "\"FILE\" [canonicalization relaxed|simple]");
		return;
	}
	if (!addr_domain_valid(w[2], strlen(w[2]))) {
		PERR(p, "dkim: bad domain '%s'", w[2]);
		return;
	}
	if (!addr_domain_valid(w[4], strlen(w[4]))) {
		PERR(p, "dkim: bad selector '%s'", w[4]);
		return;
	}
	if (strcmp(w[5], "rsa") == 0)
		d.alg = DKIM_ALG_RSA_SHA256;
	else if (strcmp(w[5], "ed25519") == 0)
		d.alg = DKIM_ALG_ED25519_SHA256;
	else {
		PERR(p, "dkim: unknown algorithm '%s' (rsa or ed25519)", w[5]);
		return;
	}
	if (n == 10) {
		if (strcmp(w[9], "simple") == 0)
			d.canon_simple = 1;
		else if (strcmp(w[9], "relaxed") != 0) {
			PERR(p, "dkim: canonicalization '%s' is not relaxed "
			    "or simple", w[9]);
			return;
		}
	}
	for (s = w[2]; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	for (i = 0; i < c->ndkim; i++)
		if (strcmp(c->dkim[i].domain, w[2]) == 0 &&
		    strcmp(c->dkim[i].selector, w[4]) == 0) {
			PERR(p, "dkim: domain %s selector %s given twice",
			    w[2], w[4]);
			return;
		}
	if ((d.key_file = file_word(p, w[7], "dkim key")) == NULL)
		return;
	d.domain = xstrdup(w[2]);
	d.selector = xstrdup(w[4]);
	d.line = p->r.line;
	dp = grow(&c->dkim, &c->ndkim, sizeof(*dp));
	*dp = d;
}

/* "smtps://HOST[:PORT]" or "smtp+tls://HOST[:PORT]" into the relay. */
static int
relay_url(struct parser *p, const char *url)
{
	struct conf_relay	*r = &p->conf->relay;
	const char		*hp, *port, *end;
	char			 host[SMTP_DOMAIN_MAX + 1];
	uint64_t		 v;
	size_t			 hlen;
	struct in6_addr		 in6;

	if (strncmp(url, "smtps://", 8) == 0) {
		r->tls = RELAY_SMTPS;
		hp = url + 8;
		port = "465";
	} else if (strncmp(url, "smtp+tls://", 11) == 0) {
		r->tls = RELAY_STARTTLS;
		hp = url + 11;
		port = "587";
	} else if (strncmp(url, "smtp://", 7) == 0) {
		PERR(p, "relay: plaintext relay not supported (use smtps:// "
		    "or smtp+tls://)");
		return -1;
	} else {
		PERR(p, "relay: '%s' is not smtps://HOST[:PORT] or "
		    "smtp+tls://HOST[:PORT]", url);
		return -1;
	}
	if (*hp == '[') {	/* [IPv6]:port */
		if ((end = strchr(hp, ']')) == NULL)
			goto bad;
		hlen = (size_t)(end - hp - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, hp + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &in6) != 1)
			goto bad;
		end++;
	} else {
		end = hp + strcspn(hp, ":");
		hlen = (size_t)(end - hp);
		if (!addr_domain_valid(hp, hlen))
			goto bad;
		memcpy(host, hp, hlen);
		host[hlen] = '\0';
	}
	if (*end == ':') {
		port = end + 1;
		if (conf_number_parse(port, 65535, &v) == -1 || v == 0) {
			PERR(p, "relay: port '%s' out of range (1 to 65535)",
			    port);
			return -1;
		}
	} else if (*end != '\0')
		goto bad;
	free(r->host);
	r->host = xstrdup(host);
	snprintf(r->port, sizeof(r->port), "%s", port);
	return 0;
 bad:
	PERR(p, "relay: bad host in '%s'", url);
	return -1;
}

static void
st_relay_limit(struct parser *p, char **w, size_t n)
{
	struct conf_relay	*r = &p->conf->relay;
	uint64_t		 v;

	if (n >= 4 && strcmp(w[2], "messages") == 0 &&
	    strcmp(w[n - 1], "total") == 0)	/* across logins (issue 12) */
		rate_words(p, w + 3, n - 4, NULL, "relay limit messages",
		    &r->msgs_total);
	else if (n >= 3 && strcmp(w[2], "messages") == 0)
		rate_words(p, w + 3, n - 3, NULL, "relay limit messages",
		    &r->msgs_per_login);
	else if (n >= 3 && strcmp(w[2], "sessions") == 0) {
		if (nwords(p, n, 4, "relay limit sessions N") == -1 ||
		    count_word(p, w[3], 1000, "relay limit sessions", &v) == -1)
			return;
		if (v == 0)
			PERR(p, "relay limit sessions: must be at least 1");
		else
			r->max_sessions = (unsigned)v;
	} else
		PERR(p, "usage: relay limit messages N per hour [total] | "
		    "relay limit sessions N");
	if (r->msgs_per_login.count > CONF_RELAY_MESSAGES_MAX ||
	    r->msgs_total.count > CONF_RELAY_MESSAGES_MAX)
		PERR(p, "relay limit messages: at most %d per window",
		    CONF_RELAY_MESSAGES_MAX);
}

static void
st_relay(struct parser *p, char **w, size_t n)
{
	struct conf_relay	*r = &p->conf->relay;
	int			 bad;

	if (n >= 2 && strcmp(w[1], "ca") == 0) {
		if (nwords(p, n, 3, "relay ca \"FILE\"") == -1 ||
		    once(p, &p->seen_relay_ca, "relay ca") == -1)
			return;
		r->ca_file = file_word(p, w[2], "relay ca");
		r->ca_line = p->r.line;
		return;
	}
	if (n >= 2 && strcmp(w[1], "limit") == 0) {
		st_relay_limit(p, w, n);
		return;
	}
	if (n != 4 || strcmp(w[2], "secrets") != 0) {
		PERR(p, "usage: relay smtps://HOST[:PORT]|"
		    "smtp+tls://HOST[:PORT] secrets \"FILE\"");
		return;
	}
	/* Both errors, when a second relay line has a bad URL too. */
	bad = relay_url(p, w[1]) == -1;
	if (once(p, &p->seen_relay, "relay") == -1 || bad)
		return;
	if ((r->secrets_file = file_word(p, w[3], "relay secrets")) == NULL)
		return;
	r->secrets_line = p->r.line;
	p->conf->has_relay = 1;
}

/* The filter statement lives in conf_filter.c (issue 16). */
static void
st_filter(struct parser *p, char **w, size_t n)
{
	conf_filter_statement(&p->r, p->conf, w, n);
}

static void
st_timeout(struct parser *p, char **w, size_t n)
{
	struct conf_timeouts	*t = &p->conf->timeouts;
	time_t			*out;

	if (nwords(p, n, 3, "timeout command|data|tls-handshake|command-line|"
	    "data-phase|session DUR") == -1)
		return;
	if (strcmp(w[1], "command") == 0)
		out = &t->command;
	else if (strcmp(w[1], "data") == 0)
		out = &t->data_block;
	else if (strcmp(w[1], "tls-handshake") == 0)
		out = &t->tls_handshake;
	else if (strcmp(w[1], "command-line") == 0)
		out = &t->command_line;
	else if (strcmp(w[1], "data-phase") == 0)
		out = &t->data_phase;
	else if (strcmp(w[1], "session") == 0)
		out = &t->session;
	else {
		PERR(p, "timeout: unknown timeout '%s' (command, data, "
		    "tls-handshake, command-line, data-phase, session)", w[1]);
		return;
	}
	duration_word(p, w[2], "timeout", out);
}

/*
 * tls [protocols "LIST"] [ciphers "LIST"]: the listeners' TLS policy
 * (issue 13).  Checked here with libtls, so that -n finds a typo.
 */
static void
st_tls(struct parser *p, char **w, size_t n)
{
	struct conf	*c = p->conf;
	size_t		 i;

	if (n < 3 || n % 2 == 0) {
		PERR(p, "usage: tls [protocols \"LIST\"] [ciphers \"LIST\"]");
		return;
	}
	for (i = 1; i + 1 < n; i += 2) {
		if (strcmp(w[i], "protocols") == 0) {
			uint32_t	 proto;

			if (tls_config_parse_protocols(&proto, w[i + 1]) == -1 ||
			    proto == 0 || strlen(w[i + 1]) >=
			    sizeof(c->tls_protocols)) {
				PERR(p, "tls: bad protocols '%s' (like "
				    "\"tlsv1.2,tlsv1.3\")", w[i + 1]);
				continue;
			}
			if (proto & ~(uint32_t)(TLS_PROTOCOL_TLSv1_2 |
			    TLS_PROTOCOL_TLSv1_3))
				conf_warn(&p->r, p->r.line, "tls: protocols "
				    "older than TLS 1.2 allowed");
			snprintf(c->tls_protocols, sizeof(c->tls_protocols),
			    "%s", w[i + 1]);
		} else if (strcmp(w[i], "ciphers") == 0) {
			const char	*v = w[i + 1];
			struct tls_config *t;

			if (strcmp(v, "secure") == 0 || strcmp(v, "default") == 0)
				v = CONF_TLS_CIPHERS_SECURE;
			if (strlen(v) >= sizeof(c->tls_ciphers)) {
				PERR(p, "tls: ciphers too long");
				continue;
			}
			if ((t = tls_config_new()) == NULL)
				fatalx("conf: tls_config_new");
			if (tls_config_set_ciphers(t, v) == -1)
				PERR(p, "tls: bad ciphers '%s': %s", w[i + 1],
				    tls_config_error(t));
			else
				snprintf(c->tls_ciphers, sizeof(c->tls_ciphers),
				    "%s", v);
			tls_config_free(t);
		} else
			PERR(p, "tls: unknown keyword '%s' (protocols, ciphers)",
			    w[i]);
	}
}

/* control "PATH": the control socket for submitctl (issue 7). */
static void
st_control(struct parser *p, char **w, size_t n)
{
	if (nwords(p, n, 2, "control \"PATH\"") == -1)
		return;
	if (w[1][0] != '/') {
		PERR(p, "control: socket '%s' is not an absolute path", w[1]);
		return;
	}
	if (strlen(w[1]) >= 108) {	/* sun_path */
		PERR(p, "control: socket path '%s' is too long", w[1]);
		return;
	}
	free(p->conf->control_path);
	p->conf->control_path = xstrdup(w[1]);
}

static void
conf_defaults(struct conf *c, const char *file)
{
	c->file = xstrdup(file);
	if (gethostname(c->hostname, sizeof(c->hostname)) == -1 ||
	    c->hostname[0] == '\0')
		snprintf(c->hostname, sizeof(c->hostname), "localhost");
	c->hostname[sizeof(c->hostname) - 1] = '\0';
	c->user = xstrdup("_submitd");
	c->queue_dir = xstrdup("/var/spool/submitd");
	c->queue_lifetime = 5 * 86400;
	c->queue_retry_min = 5 * 60;
	c->queue_retry_max = 4 * 3600;
	c->control_path = xstrdup("/run/submitd/submitd.sock");
	c->max_message_size = 35 * 1024 * 1024;
	c->max_rcpt_per_msg = 100;
	c->ip_auth_failures.count = 5;
	c->ip_auth_failures.window = 15 * 60;
	c->auth_delay = 1;
	c->auth_remember = 30 * 86400;
	c->ipv6_prefix = 64;
	c->max_sessions = 1000;
	c->max_sessions_per_ip = 20;
	c->state_dir = xstrdup("/var/lib/submitd");
	c->state_fail_quotas = 1;
	c->state_fail_lockouts = 1;
	c->relay.max_sessions = 4;
	c->timeouts.command = 300;
	c->timeouts.data_block = 180;
	c->timeouts.tls_handshake = 60;
	snprintf(c->tls_protocols, sizeof(c->tls_protocols), "%s",
	    CONF_TLS_PROTOCOLS);
	snprintf(c->tls_ciphers, sizeof(c->tls_ciphers), "%s",
	    CONF_TLS_CIPHERS_SECURE);
	c->timeouts.command_line = 120;
	c->timeouts.data_phase = 900;
	c->timeouts.session = 3600;
	c->filter.timeout = 20;
}

/* Links each listen to its pki, then checks what must be there. */
static void
conf_finish(struct parser *p)
{
	struct conf	*c = p->conf;
	size_t		 i, j;

	for (i = 0; i < c->nlisten; i++) {
		for (j = 0; j < c->npki; j++)
			if (strcmp(c->pki[j].name, p->listen_pki[i]) == 0)
				c->listen[i].pki = &c->pki[j];
		if (c->listen[i].pki == NULL)
			conf_error(&p->r, c->listen[i].line,
			    "listen: unknown pki '%s'", p->listen_pki[i]);
	}
	/* What the file as a whole lacks: "file: message", no line. */
	if (c->users_file == NULL && !p->seen_users)
		conf_error(&p->r, 0, "missing 'users \"FILE\"'");
	if (c->nlisten == 0)
		conf_error(&p->r, 0, "no 'listen' statement");
	if (!c->has_relay && !p->seen_relay)
		conf_error(&p->r, 0, "no 'relay' statement");
	if (c->nallow == 0)
		conf_warn(&p->r, 0,
		    "no 'allow from': every address may connect");
}

static void
conf_statement(struct parser *p, char **w, size_t n)
{
	size_t	 i;

	for (i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
		if (strcmp(w[0], statements[i].name) == 0) {
			statements[i].fn(p, w, n);
			return;
		}
	PERR(p, "unknown statement '%s'", w[0]);
}

struct conf *
conf_load(const char *file, FILE *errf)
{
	struct parser	 p;
	char		*line, *w[CONF_WORDS_MAX];
	size_t		 n, i;

	memset(&p, 0, sizeof(p));
	if (conf_reader_open(&p.r, file, errf, NULL) == -1)
		return NULL;
	if ((p.conf = calloc(1, sizeof(*p.conf))) == NULL)
		fatal("conf: calloc");
	conf_defaults(p.conf, file);
	while (conf_reader_next(&p.r, &line) == 1)
		if (conf_split(&p.r, line, w, &n) == 0 && n > 0)
			conf_statement(&p, w, n);
	conf_finish(&p);
	conf_reader_close(&p.r);
	for (i = 0; i < p.conf->nlisten; i++)
		free(p.listen_pki[i]);
	free(p.listen_pki);
	if (p.r.nerr > 0) {
		conf_free(p.conf);
		return NULL;
	}
	return p.conf;
}

void
conf_free(struct conf *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npki; i++) {
		free(c->pki[i].name);
		free(c->pki[i].cert_file);
		free(c->pki[i].key_file);
	}
	for (i = 0; i < c->ndkim; i++) {
		free(c->dkim[i].domain);
		free(c->dkim[i].selector);
		free(c->dkim[i].key_file);
	}
	free(c->pki);
	for (i = 0; c->listen != NULL && i < c->nlisten; i++)
		free(c->listen[i].proxy_from);
	free(c->listen);
	free(c->allow);
	free(c->dkim);
	free(c->file);
	free(c->user);
	free(c->queue_dir);
	free(c->control_path);
	free(c->users_file);
	free(c->state_dir);
	redis_free(c->state_redis);
	free(c->relay.host);
	free(c->relay.secrets_file);
	free(c->relay.ca_file);
	free(c->filter.url);
	free(c->filter.path);
	free(c->filter.settings_id);
	free(c);
}
