/*
 * dns_client.h — a stub resolver for submitctl audit: one question at a
 * time to one recursive (or authoritative) server, UDP first, TCP when the
 * answer is truncated, each lookup under a deadline.  Blocking: submitctl
 * is a one-shot command-line program.
 *
 * ctl/: the control protocol and submitctl.  Knows nothing of the roles,
 * their IPC or their state: the roles answer requests themselves
 * (smtpd/ctl_serve.h).
 */
#ifndef CTL_DNS_CLIENT_H
#define CTL_DNS_CLIENT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "ctl/dns_msg.h"

#define DNS_TIMEOUT_MS	5000	/* per lookup, all tries included */
#define DNS_RESOLV_CONF	"/etc/resolv.conf"

struct dns_resolver {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 timeout_ms;
	char			 name[64];	/* "127.0.0.1:53", for messages */
};

/*
 * dns_resolver_init: SPEC is "IP", "IP:PORT", "[IPv6]:PORT" or NULL for
 * the first nameserver of /etc/resolv.conf (port 53).  0, or -1 with a
 * reason in ERR.
 */
int	dns_resolver_init(struct dns_resolver *, const char *spec, char *err,
	    size_t errlen);
/*
 * dns_lookup: asks for NAME and TYPE.  0 with *OUT filled (its rcode may
 * be NXDOMAIN; free with dns_answer_free), or -1 with a reason in ERR
 * (no answer before the deadline, garbage, network error).
 */
int	dns_lookup(const struct dns_resolver *, const char *name, uint16_t type,
	    struct dns_answer *out, char *err, size_t errlen);

#endif
