/*
 * conf_cidr.c — address blocks ("192.0.2.0/24", "2001:db8::/32"): parsing
 * and matching a peer's address against them.  An IPv4 peer seen on an
 * IPv6 socket (::ffff:192.0.2.7) is matched as the IPv4 address it is.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "conf/conf.h"

/* Clears the bits past PREFIXLEN in ADDR; 1 if any was set. */
static int
cidr_mask(uint8_t *addr, size_t alen, unsigned prefixlen)
{
	size_t	 i;
	int	 had = 0;
	uint8_t	 keep;

	for (i = 0; i < alen; i++) {
		if (prefixlen >= 8 * (i + 1))
			continue;
		if (prefixlen <= 8 * i)
			keep = 0;
		else
			keep = (uint8_t)(0xff << (8 - (prefixlen - 8 * i)));
		if (addr[i] & ~keep)
			had = 1;
		addr[i] &= keep;
	}
	return had;
}

int
conf_cidr_parse_bits(const char *s, struct conf_cidr *out, int *hostbits)
{
	char		 buf[INET6_ADDRSTRLEN + 1];
	const char	*slash;
	size_t		 alen;
	uint64_t	 len;
	unsigned	 max;
	int		 had;

	memset(out, 0, sizeof(*out));
	if (hostbits != NULL)
		*hostbits = 0;
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, out->addr) != 1)
			return -1;
		out->family = AF_INET6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, buf, out->addr) != 1)
			return -1;
		out->family = AF_INET;
		max = 32;
	}
	out->prefixlen = max;
	if (slash != NULL) {
		if (strlen(slash + 1) > 3 ||
		    conf_number_parse(slash + 1, max, &len) == -1) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		out->prefixlen = (unsigned)len;
	}
	had = cidr_mask(out->addr, max / 8, out->prefixlen);
	if (hostbits != NULL)
		*hostbits = had;
	return 0;
}

int
conf_cidr_parse(const char *s, struct conf_cidr *out)
{
	return conf_cidr_parse_bits(s, out, NULL);
}

const char *
conf_cidr_format(const struct conf_cidr *c, char *buf, size_t size)
{
	char	 a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, size, "%s/%u", a, c->prefixlen);
	return buf;
}

const char *
conf_net_text(const struct sockaddr *sa, unsigned v6prefix, char *buf,
    size_t size)
{
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)sa;
	struct conf_cidr		 c;

	memset(&c, 0, sizeof(c));
	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		c.family = AF_INET;
		memcpy(c.addr, &s6->sin6_addr.s6_addr[12], 4);
	} else if (sa->sa_family == AF_INET6) {
		c.family = AF_INET6;
		memcpy(c.addr, &s6->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		c.family = AF_INET;
		memcpy(c.addr, &s4->sin_addr, 4);
	} else {
		snprintf(buf, size, "unknown");
		return buf;
	}
	if (c.family == AF_INET6 && v6prefix < 128) {
		c.prefixlen = v6prefix;
		cidr_mask(c.addr, 16, v6prefix);
		return conf_cidr_format(&c, buf, size);
	}
	if (inet_ntop(c.family, c.addr, buf, size) == NULL)
		snprintf(buf, size, "unknown");
	return buf;
}

const char *
conf_net_text_of(const char *s, unsigned v6prefix, char *buf, size_t size)
{
	struct conf_cidr	 c;

	if (conf_cidr_parse(s, &c) == -1)
		return NULL;
	if (strchr(s, '/') != NULL)
		return conf_cidr_format(&c, buf, size);
	if (c.family == AF_INET6 && v6prefix < 128) {
		c.prefixlen = v6prefix;
		cidr_mask(c.addr, 16, v6prefix);
		return conf_cidr_format(&c, buf, size);
	}
	if (inet_ntop(c.family, c.addr, buf, size) == NULL)
		return NULL;
	return buf;
}

/* 1 when the first PREFIXLEN bits of A and B agree. */
static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefixlen)
{
	unsigned	 full = prefixlen / 8, rest = prefixlen % 8;
	uint8_t		 mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int
conf_cidr_match(const struct conf_cidr *c, const struct sockaddr *sa)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	uint8_t			 a[16];
	int			 family;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		memcpy(a, &sin->sin_addr, 4);
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(a, &sin6->sin6_addr.s6_addr[12], 4);
			family = AF_INET;
		} else {
			memcpy(a, &sin6->sin6_addr, 16);
			family = AF_INET6;
		}
	} else
		return 0;

	if (c->family == family)
		return prefix_equal(c->addr, a, c->prefixlen);
	if (c->family == AF_INET6 && family == AF_INET) {
		/* An IPv6 block such as ::ffff:0:0/96 holds mapped peers. */
		memmove(a + 12, a, 4);
		memcpy(a, mapped, 12);
		return prefix_equal(c->addr, a, c->prefixlen);
	}
	return 0;
}
