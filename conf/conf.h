/*
 * conf.h — submitd.conf: the parsed configuration (see submitd.conf(5) and
 * DESIGN.md).  One statement a line, '#' comments, double-quoted strings.
 *
 * conf/: the config and secrets files as data, addresses and networks.
 * Sits on lib/ only: knows nothing of SMTP sessions, DKIM, the queue, the
 * relay or the roles that use what it parsed.
 */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lib/submitd.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_FILE	SYSCONFDIR "/submitd/submitd.conf"

enum listen_tls { LISTEN_STARTTLS, LISTEN_TLS };
enum relay_tls { RELAY_SMTPS, RELAY_STARTTLS };

struct conf_pki {
	char		*name;
	char		*cert_file;
	char		*key_file;
	int		 line;	/* where it was declared */
};

struct conf_listen {
	struct sockaddr_storage	 ss;	/* address and port */
	socklen_t		 sslen;
	enum listen_tls		 tls;
	struct conf_pki		*pki;	/* points into conf->pki */
	int			 line;	/* where it was declared */
	/*
	 * "proxy-from CIDR": connections only from these load balancers,
	 * each starting with a PROXY protocol header (v1 or v2) whose
	 * source address is the client's.  None: a direct listener.
	 */
	struct conf_cidr	*proxy_from;
	size_t			 nproxy_from;
};

/* An address block: "192.0.2.0/24", "2001:db8::/32". */
struct conf_cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network order, 4 or 16 used */
	unsigned	 prefixlen;	/* 0..32 or 0..128 */
};

/* "N per WINDOW": count and window in seconds; count 0 = no limit. */
struct conf_rate {
	uint64_t	 count;
	time_t		 window;
};
/* The largest "relay limit messages" count: pacing keeps each send time. */
#define CONF_RELAY_MESSAGES_MAX	2048
/* The largest "limit bytes" and users-file bytes= size: 1 TiB (1024G). */
#define CONF_BYTES_RATE_MAX	((uint64_t)1 << 40)

struct conf_dkim {
	char		*domain;
	char		*selector;
	enum dkim_alg	 alg;
	char		*key_file;
	int		 canon_simple;	/* 0 relaxed/relaxed, 1 simple/simple */
	int		 line;	/* where it was declared */
};

struct conf_relay {
	enum relay_tls	 tls;
	char		*host;
	char		 port[6];	/* numeric, "465" or "587" by default */
	char		*secrets_file;
	char		*ca_file;	/* NULL: system CA store */
	int		 secrets_line, ca_line;	/* where they were named */
	struct conf_rate msgs_per_login;	/* "relay limit messages N per hour" */
	struct conf_rate msgs_total;	/* "... per hour total" (issue 12) */
	unsigned	 max_sessions;	/* parallel upstream connections */
};

/*
 * "state redis URL": counters shared between instances (auth/state.h).
 * URL is redis://HOST[:PORT][/DB] (HOST a numeric address) or
 * unix:/PATH[?db=DB].
 */
struct conf_redis {
	char		*url;		/* as written, for logs */
	char		*host;		/* numeric address; NULL for unix: */
	char		 port[6];	/* "6379" by default */
	char		*path;		/* unix socket; NULL for redis:// */
	unsigned	 db;		/* SELECT, 0 by default */
	char		*user;		/* ACL user; NULL: AUTH password only */
	char		*password_file;	/* NULL: no AUTH */
	int		 tls;		/* rediss://: TLS, verified by ca */
	char		*ca;		/* CA file (PEM), rediss:// only */
	int		 line;		/* where it was given */
};

/*
 * "filter rspamd URL [timeout DUR] [on-error accept|tempfail]
 * [settings-id ID]" (issue 16): every message goes to rspamd's /checkv2
 * before its 250.  The URL is http:// with a numeric address (the filter
 * role resolves no names), or the absolute path of rspamd's unix socket.
 */
struct conf_filter {
	int		 enabled;
	char		*url;		/* as written; the socket's path if unix */
	int		 unix_socket;	/* 1: url is a unix socket's path */
	char		 host[64];	/* numeric IPv4 or IPv6, no brackets */
	char		 port[6];	/* "11333" by default */
	char		*path;		/* "/checkv2" unless the URL names one */
	time_t		 timeout;	/* seconds, 20 */
	int		 on_error_accept;	/* 0: 451 4.7.1 when it fails */
	char		*settings_id;	/* NULL: no Settings-Id header */
	int		 line;		/* where it was given, 0: off */
};

struct conf_timeouts {			/* seconds, RFC 5321 4.5.3.2 */
	time_t		 command;	/* waiting for a command: 300 */
	time_t		 data_block;	/* between DATA chunks: 180 */
	time_t		 tls_handshake;	/* 60 */
	time_t		 command_line;	/* first octet of a line to its end: 120 */
	time_t		 data_phase;	/* 354 to the final ".": 900 */
	time_t		 session;	/* connect to close: 3600 */
};

/* "tls ciphers secure" and the default: TLS 1.2 with ECDHE and AEAD only
 * (TLS 1.3 suites are all AEAD with forward secrecy). */
#define CONF_TLS_CIPHERS_SECURE	"ECDHE+AESGCM:ECDHE+CHACHA20"
#define CONF_TLS_PROTOCOLS	"tlsv1.2,tlsv1.3"

struct conf {
	char			*file;
	char			 hostname[SMTP_DOMAIN_MAX + 1];
	char			*user;		/* unprivileged user, "_submitd" */

	char			*queue_dir;	/* "/var/spool/submitd" */
	time_t			 queue_lifetime;	/* seconds, 5 days */
	time_t			 queue_retry_min;	/* seconds, 5 minutes */
	time_t			 queue_retry_max;	/* seconds, 4 hours */
	char			*control_path;	/* "/run/submitd/submitd.sock" */
	/*
	 * "metrics listen on ADDR port N" (issue 15): the metrics role serves
	 * OpenMetrics text there over HTTP; off when metrics_line is 0.
	 */
	struct sockaddr_storage	 metrics_ss;
	socklen_t		 metrics_sslen;
	int			 metrics_line;
	/*
	 * Alerts (issue 15): "alert auth-failures N per WINDOW" (over N failed
	 * AUTH in one window, all addresses together), "alert queue-age DUR"
	 * (the oldest message older than that); 0: off.
	 */
	uint64_t		 alert_auth_failures;
	time_t			 alert_auth_window;
	time_t			 alert_queue_age;
	/*
	 * "alert user-messages N per WINDOW [hold]", "alert user-recipients
	 * N per WINDOW [hold]": one login past N in its window (auth/abuse.h);
	 * with hold, the login is held until submitctl release-user.
	 */
	uint64_t		 alert_user_messages, alert_user_rcpts;
	time_t			 alert_user_messages_window;
	time_t			 alert_user_rcpts_window;
	int			 alert_user_messages_hold, alert_user_rcpts_hold;
	/*
	 * "alert user-refused-recipients N per WINDOW [hold]": more than N
	 * recipients of one login's mail refused (5xx) by the upstream in
	 * the window (dead addresses: a stolen password's spam).
	 */
	uint64_t		 alert_user_refused;
	time_t			 alert_user_refused_window;
	int			 alert_user_refused_hold;
	/*
	 * "alert user-surge FACTORx per WINDOW over BASELINE [min N] [hold]":
	 * a login's messages in the current window more than FACTOR times
	 * its own average per window over the BASELINE before it, and at
	 * least MIN (auth/surge.h); the history in the state store.
	 * BASELINE is a whole number of windows, 2 to 200.
	 */
	uint64_t		 alert_user_surge;	/* FACTOR, 0: off */
	time_t			 alert_user_surge_window;
	time_t			 alert_user_surge_baseline;
	uint64_t		 alert_user_surge_min;
	int			 alert_user_surge_hold;
	/* "metrics top-users N": per-login counters for the top N; 0: none */
	size_t			 metrics_top_users;

	struct conf_pki		*pki;		size_t npki;
	struct conf_listen	*listen;	size_t nlisten;
	struct conf_cidr	*allow;		size_t nallow;
	char			*users_file;
	int			 users_line;	/* where it was named, 0: default */

	uint64_t		 max_message_size;	/* octets, 35M */
	unsigned		 max_rcpt_per_msg;	/* 100 */
	struct conf_rate	 user_messages;		/* per user */
	struct conf_rate	 user_recipients;	/* per user */
	struct conf_rate	 user_bytes;	/* per user, in octets */
	struct conf_rate	 ip_connections;	/* per ip */
	struct conf_rate	 ip_auth_failures;	/* per ip and per login */
	/*
	 * Issue 12 item 3: "limit auth-delay DUR" (progressive delay after
	 * a failure, per (login, network) and per network; default 1s,
	 * "off" or 0: off),
	 * "limit auth-remember DUR" (how long an address that logged in is
	 * trusted for that login; 0: never), "limit ipv6-prefix N" (IPv6
	 * sources grouped by /N for every per-address limit, 64).
	 */
	time_t			 auth_delay;
	time_t			 auth_remember;
	unsigned		 ipv6_prefix;
	unsigned		 max_sessions;		/* at once, 1000 */
	unsigned		 max_sessions_per_ip;	/* at once, 20 */
	char			*state_dir;	/* auth counters, "/var/lib/submitd" */
	struct conf_redis	*state_redis;	/* NULL: LMDB in state_dir */
	int			 state_fail_quotas;	/* 1: closed (default) */
	int			 state_fail_lockouts;	/* 1: closed (default) */

	struct conf_dkim	*dkim;		size_t ndkim;
	struct conf_relay	 relay;
	int			 has_relay;
	struct conf_timeouts	 timeouts;
	char			 tls_protocols[64];	/* for the listeners */
	char			 tls_ciphers[512];	/* TLS 1.2 cipher list */
	struct conf_filter	 filter;	/* issue 16 */
};

/*
 * conf_load: parses FILE into a new struct conf with defaults filled in.
 * Errors go to ERRF (usually stderr) as "file:line: message", all of them, not
 * just the first; warnings as "file:line: warning: message".  Returns NULL
 * when there was any error.
 */
struct conf	*conf_load(const char *file, FILE *errf);
void		 conf_free(struct conf *);

/* conf_cidr_parse: "addr[/len]" into OUT; 0 or -1 on bad syntax. */
int		 conf_cidr_parse(const char *, struct conf_cidr *out);
/*
 * conf_cidr_match: 1 when SA (AF_INET or AF_INET6; IPv4-mapped IPv6 counts
 * as IPv4) lies in C, else 0.
 */
int		 conf_cidr_match(const struct conf_cidr *c, const struct sockaddr *sa);
/*
 * conf_redis_parse: a "state redis" URL into OUT (host or path allocated,
 * other fields zero); 0 or -1 on bad syntax.
 */
int		 conf_redis_parse(const char *url, struct conf_redis *out);
/* conf_size_parse: "25M", "512K", "1G", "1000" into octets; -1 on error. */
int		 conf_size_parse(const char *, uint64_t *out);
/* conf_duration_parse: "5d", "15m", "1h", "30s", "30" into seconds; -1 on error. */
int		 conf_duration_parse(const char *, time_t *out);

/* Durations above this (about 68 years) are refused as overflowing. */
#define CONF_DURATION_MAX	INT32_MAX

/*
 * conf_cidr_parse_bits: like conf_cidr_parse; *HOSTBITS (may be NULL) is
 * set to 1 when the address had bits set past the prefix length (they
 * are cleared in OUT: "192.0.2.1/24" is 192.0.2.0/24), else 0.
 */
int		 conf_cidr_parse_bits(const char *, struct conf_cidr *out,
		    int *hostbits);
/*
 * conf_net_text: the network SA belongs to for per-address limits: an
 * IPv4 address (IPv4-mapped as IPv4) as itself, an IPv6 address masked
 * to V6PREFIX bits as "addr/len" (itself when V6PREFIX is 128); into BUF
 * of SIZE octets (64 is plenty).
 */
const char	*conf_net_text(const struct sockaddr *sa, unsigned v6prefix,
		    char *buf, size_t size);
/*
 * conf_net_text_of: the same for the text S ("192.0.2.7", "2001:db8::1",
 * or an "addr/len" kept as given); NULL when S is no address.
 */
const char	*conf_net_text_of(const char *s, unsigned v6prefix, char *buf,
		    size_t size);
/* conf_cidr_format: "addr/len" into BUF of SIZE octets (64 is plenty). */
const char	*conf_cidr_format(const struct conf_cidr *, char *buf,
		    size_t size);
/* conf_number_parse: decimal digits only, no sign, at most MAX; -1 on error. */
int		 conf_number_parse(const char *, uint64_t max, uint64_t *out);
/*
 * conf_window_parse: a rate window, "second", "minute", "hour", "day" or a
 * duration as conf_duration_parse; seconds, never 0; -1 on error.
 */
int		 conf_window_parse(const char *, time_t *out);

#endif
