/*
 * conf_filter.h — the "filter" statement of submitd.conf (issue 16):
 *
 *   filter rspamd "http://127.0.0.1:11333" [timeout 20s]
 *       [on-error accept|tempfail] [settings-id "ID"]
 *
 * conf/: the config and secrets files as data, addresses and networks.
 * Sits on lib/ only.
 */
#ifndef CONF_CONF_FILTER_H
#define CONF_CONF_FILTER_H

#include <stddef.h>

struct conf;
struct conf_reader;

/* conf_filter_statement: words W[0..N) of one "filter" line into CONF. */
void	conf_filter_statement(struct conf_reader *, struct conf *, char **w,
	    size_t n);

/*
 * conf_filter_url: "http://ADDR[:PORT][/PATH]" with ADDR a numeric IPv4
 * address or a bracketed IPv6 one, into F's host, port and path, or
 * "/PATH" a unix socket (F's unix_socket set, the path /checkv2); 0, or
 * -1 with WHY (a static string) set.
 */
struct conf_filter;
int	conf_filter_url(const char *url, struct conf_filter *f,
	    const char **why);

#endif
