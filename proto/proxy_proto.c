/* proxy_proto.c — PROXY protocol v1 and v2 headers; see proxy_proto.h. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "proto/proxy_proto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static int
fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return -1;
}

/* A decimal port, 0..65535, no sign, no leading zero (but "0"). */
static int
port_word(const char *s, size_t n, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* ADDR (N octets) of FAMILY into SS with PORT; -1 when not one. */
static int
addr_word(int family, const char *s, size_t n, struct sockaddr_storage *ss)
{
	char	 a[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in	*sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		return inet_pton(AF_INET, a, &sin->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		return inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* "PROXY TCP4 SRC DST SPORT DPORT\r\n" (or TCP6, or UNKNOWN ...). */
static int
parse_v1(const uint8_t *buf, size_t len, struct proxy_hdr *out,
    const char **why)
{
	const char	*s = (const char *)buf, *w[6];
	size_t		 wl[6], i, end, nw = 0, start;
	uint16_t	 sport, dport;
	int		 family;

	for (end = 0; end < len && end < PROXY_V1_MAX; end++) {
		if (buf[end] == '\n')
			break;
		if (buf[end] == '\0')
			return fail(why, "v1: NUL");
	}
	if (end == len)
		return len < PROXY_V1_MAX ? 0 : fail(why, "v1: line too long");
	if (end == PROXY_V1_MAX || end < 1 || buf[end - 1] != '\r')
		return fail(why, end == PROXY_V1_MAX ? "v1: line too long" :
		    "v1: bare LF");
	/* words separated by exactly one space */
	for (i = start = 0; i <= end - 1; i++) {
		if (i < end - 1 && s[i] != ' ')
			continue;
		if (i == start || nw == 6)
			return fail(why, "v1: bad spacing or too many fields");
		w[nw] = s + start;
		wl[nw++] = i - start;
		start = i + 1;
	}
	memset(out, 0, sizeof(*out));
	out->version = 1;
	if (nw < 2 || wl[0] != 5 || memcmp(w[0], "PROXY", 5) != 0)
		return fail(why, "v1: not PROXY");
	if (wl[1] == 7 && memcmp(w[1], "UNKNOWN", 7) == 0) {
		out->local = 1;		/* the rest of the line is ignored */
		return (int)end + 1;
	}
	if (wl[1] == 4 && memcmp(w[1], "TCP4", 4) == 0)
		family = AF_INET;
	else if (wl[1] == 4 && memcmp(w[1], "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return fail(why, "v1: unknown protocol");
	if (nw != 6)
		return fail(why, "v1: wrong number of fields");
	if (addr_word(family, w[2], wl[2], &out->src) == -1 ||
	    addr_word(family, w[3], wl[3], &out->dst) == -1)
		return fail(why, "v1: bad address");
	if (port_word(w[4], wl[4], &sport) == -1 ||
	    port_word(w[5], wl[5], &dport) == -1)
		return fail(why, "v1: bad port");
	set_port(&out->src, sport);
	set_port(&out->dst, dport);
	out->sslen = family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	return (int)end + 1;
}

static int
parse_v2(const uint8_t *buf, size_t len, struct proxy_hdr *out,
    const char **why)
{
	struct sockaddr_in	*s4, *d4;
	struct sockaddr_in6	*s6, *d6;
	size_t			 blen;
	uint8_t			 cmd, fam;

	if (len < 16)
		return 0;
	if ((buf[12] & 0xf0) != 0x20)
		return fail(why, "v2: bad version");
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	blen = (size_t)buf[14] << 8 | buf[15];
	if (cmd > 1)
		return fail(why, "v2: bad command");
	if (blen > PROXY_V2_BODY_MAX)
		return fail(why, "v2: header too long");
	if (len < 16 + blen)
		return 0;
	memset(out, 0, sizeof(*out));
	out->version = 2;
	if (cmd == 0 || fam == 0x00) {	/* LOCAL (health check), or UNSPEC */
		out->local = 1;
		return (int)(16 + blen);
	}
	switch (fam) {
	case 0x11:	/* TCP over IPv4 */
		if (blen < 12)
			return fail(why, "v2: short IPv4 block");
		s4 = (struct sockaddr_in *)&out->src;
		d4 = (struct sockaddr_in *)&out->dst;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, buf + 16, 4);
		memcpy(&d4->sin_addr, buf + 20, 4);
		memcpy(&s4->sin_port, buf + 24, 2);
		memcpy(&d4->sin_port, buf + 26, 2);
		out->sslen = sizeof(*s4);
		break;
	case 0x21:	/* TCP over IPv6 */
		if (blen < 36)
			return fail(why, "v2: short IPv6 block");
		s6 = (struct sockaddr_in6 *)&out->src;
		d6 = (struct sockaddr_in6 *)&out->dst;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, buf + 16, 16);
		memcpy(&d6->sin6_addr, buf + 32, 16);
		memcpy(&s6->sin6_port, buf + 48, 2);
		memcpy(&d6->sin6_port, buf + 50, 2);
		out->sslen = sizeof(*s6);
		break;
	default:
		return fail(why, "v2: not TCP over IPv4 or IPv6");
	}
	return (int)(16 + blen);
}

int
proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *out,
    const char **why)
{
	size_t	 n = len < sizeof(v2sig) ? len : sizeof(v2sig);

	if (len == 0)
		return 0;
	if (memcmp(buf, v2sig, n) == 0)
		return n < sizeof(v2sig) ? 0 : parse_v2(buf, len, out, why);
	n = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", n) == 0)
		return n < 6 ? 0 : parse_v1(buf, len, out, why);
	return fail(why, "no PROXY header");
}
