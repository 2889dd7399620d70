/*
 * proxy_proto.h — the PROXY protocol header a load balancer (HAProxy
 * "send-proxy" / "send-proxy-v2") puts before the client's bytes, naming
 * the client's address (haproxy.org/download/2.6/doc/proxy-protocol.txt).
 * Both versions, strictly: v1 is one line of at most 107 octets
 * ("PROXY TCP4|TCP6|UNKNOWN ...\r\n"), v2 a 16-octet binary header and at
 * most PROXY_V2_BODY_MAX octets of addresses and TLVs (skipped).  Pure
 * function on a buffer: no I/O, no allocation.
 *
 * proto/: the wire formats (SMTP commands and replies, message headers,
 * PROXY headers).  Knows nothing of sessions, roles, IPC or the queue.
 */
#ifndef PROTO_PROXY_PROTO_H
#define PROTO_PROXY_PROTO_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#define PROXY_V1_MAX		107	/* the line with its CRLF */
#define PROXY_V2_BODY_MAX	512	/* addresses + TLVs we accept */
#define PROXY_HDR_MAX		(16 + PROXY_V2_BODY_MAX)

struct proxy_hdr {
	int			 version;	/* 1 or 2 */
	int			 local;	/* 1: no address (v2 LOCAL, v1 UNKNOWN,
					 * v2 UNSPEC): the connection's own */
	struct sockaddr_storage	 src;	/* the client, when !local */
	struct sockaddr_storage	 dst;	/* the address it connected to */
	socklen_t		 sslen;
};

/*
 * proxy_parse: the header at the start of BUF (LEN octets received so
 * far).  Returns its length (> 0, OUT filled), 0 when more octets are
 * needed (never more than PROXY_HDR_MAX in all), -1 when BUF does not
 * start with a valid header (*WHY, may be NULL, says why).
 */
int	proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *out,
	    const char **why);

#endif
