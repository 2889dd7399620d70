/*
 * dns_msg.c — DNS messages for submitctl audit (see dns_msg.h): a query
 * out, an answer in, bounded for hostile input.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl/dns_msg.h"

#define HDR_LEN		12
#define PTR_HOPS_MAX	64	/* compression pointers followed per name */

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* Labels of NAME into OUT (wire form); its length or -1. */
static int
name_encode(const char *name, unsigned char *out, size_t size)
{
	size_t	 n = strlen(name), pos = 0, start = 0, i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n > DNS_NAME_MAX)
		return -1;
	while (start < n) {
		for (i = start; i < n && name[i] != '.'; i++)
			if ((unsigned char)name[i] <= ' ' ||
			    (unsigned char)name[i] >= 0x7f)
				return -1;
		if (i == start || i - start > 63 || pos + 1 + (i - start) >= size)
			return -1;
		out[pos++] = (unsigned char)(i - start);
		memcpy(out + pos, name + start, i - start);
		pos += i - start;
		start = i + 1;
		if (i < n && start == n)	/* "a..": empty label at end */
			return -1;
	}
	if (pos + 1 > size)
		return -1;
	out[pos++] = 0;
	return (int)pos;
}

int
dns_query_encode(uint16_t id, const char *name, uint16_t type,
    unsigned char *buf, size_t size)
{
	int	 n;
	size_t	 pos;

	if (size < HDR_LEN + 4 + 11)
		return -1;
	memset(buf, 0, HDR_LEN);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = 0x01;		/* RD */
	buf[5] = 1;		/* QDCOUNT */
	buf[11] = 1;		/* ARCOUNT: the OPT record */
	if ((n = name_encode(name, buf + HDR_LEN, size - HDR_LEN - 4 - 11)) < 0)
		return -1;
	pos = HDR_LEN + (size_t)n;
	buf[pos++] = type >> 8;
	buf[pos++] = type & 0xff;
	buf[pos++] = 0;
	buf[pos++] = 1;		/* IN */
	/* OPT (RFC 6891): root name, type 41, class = UDP size, ttl 0, no data */
	buf[pos++] = 0;
	buf[pos++] = 0;
	buf[pos++] = 41;
	buf[pos++] = 4096 >> 8;
	buf[pos++] = 4096 & 0xff;
	memset(buf + pos, 0, 6);
	pos += 6;
	return (int)pos;
}

int
dns_name_decode(const unsigned char *msg, size_t len, size_t *off, char *out)
{
	size_t	 p = *off, o = 0, end = 0, limit = p;
	int	 jumped = 0, hops = 0;
	unsigned l, i;

	for (;;) {
		if (p >= len)
			return -1;
		l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			size_t	 to;

			if (p + 1 >= len || ++hops > PTR_HOPS_MAX)
				return -1;
			to = ((size_t)(l & 0x3f) << 8) | msg[p + 1];
			/* only backwards, before where this name began */
			if (to >= limit)
				return -1;
			if (!jumped)
				end = p + 2;
			jumped = 1;
			limit = to;
			p = to;
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1;	/* 0x40, 0x80: no such label types */
		if (l == 0) {
			p++;
			break;
		}
		if (p + 1 + l > len)
			return -1;
		if (o + (o ? 1 : 0) + l > DNS_NAME_MAX)
			return -1;
		if (o)
			out[o++] = '.';
		for (i = 0; i < l; i++) {
			unsigned char c = msg[p + 1 + i];

			if (c <= ' ' || c >= 0x7f || c == '.')
				c = '?';
			out[o++] = (char)tolower(c);
		}
		p += 1 + l;
	}
	out[o] = '\0';
	*off = jumped ? end : p;
	return 0;
}

int
dns_name_equal(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static int
rr_rdata(const unsigned char *msg, size_t off, size_t rdlen,
    struct dns_rr *rr)
{
	size_t	 p = off, end = off + rdlen, o = 0;

	switch (rr->type) {
	case DNS_T_A:
		if (rdlen != 4)
			return -1;
		memcpy(rr->addr, msg + off, 4);
		return 0;
	case DNS_T_AAAA:
		if (rdlen != 16)
			return -1;
		memcpy(rr->addr, msg + off, 16);
		return 0;
	case DNS_T_MX:
		if (rdlen < 3)
			return -1;
		rr->pref = get16(msg + off);
		p += 2;
		/* FALLTHROUGH */
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (dns_name_decode(msg, end, &p, rr->target) == -1 || p != end)
			return -1;
		return 0;
	case DNS_T_TXT:
		if ((rr->txt = malloc(rdlen + 1)) == NULL)
			return -1;
		while (p < end) {
			size_t	 l = msg[p++], i;

			if (p + l > end)
				return -1;
			for (i = 0; i < l; i++) {
				unsigned char c = msg[p + i];

				rr->txt[o++] = (c < ' ' || c == 0x7f) ?
				    '?' : (char)c;
			}
			p += l;
		}
		if (o > DNS_TXT_MAX)
			return -1;
		rr->txt[o] = '\0';
		return 0;
	}
	return -1;
}

int
dns_answer_decode(const unsigned char *buf, size_t len, uint16_t id,
    const char *name, uint16_t type, struct dns_answer *out, char *err,
    size_t errlen)
{
	char		 qname[DNS_NAME_MAX + 1];
	size_t		 off = HDR_LEN, i, an;
	struct dns_rr	*rr;

	memset(out, 0, sizeof(*out));
	if (len < HDR_LEN || len > DNS_MSG_MAX) {
		seterr(err, errlen, "answer of %zu octets", len);
		return -1;
	}
	if (get16(buf) != id || !(buf[2] & 0x80)) {
		seterr(err, errlen, "not the answer to our query");
		return -1;
	}
	if ((buf[2] >> 3 & 0xf) != 0) {
		seterr(err, errlen, "opcode %d", buf[2] >> 3 & 0xf);
		return -1;
	}
	out->truncated = (buf[2] & 0x02) != 0;
	out->rcode = buf[3] & 0x0f;
	if (get16(buf + 4) != 1) {
		/* some servers drop the question from errors: take it as is */
		if (get16(buf + 4) == 0 && out->rcode != DNS_RCODE_NOERROR)
			return 0;
		seterr(err, errlen, "answer with %u questions", get16(buf + 4));
		return -1;
	}
	if (dns_name_decode(buf, len, &off, qname) == -1 || off + 4 > len) {
		seterr(err, errlen, "malformed question");
		return -1;
	}
	if (!dns_name_equal(qname, name) || get16(buf + off) != type) {
		seterr(err, errlen, "answer to another question (%s)", qname);
		return -1;
	}
	off += 4;
	if (out->truncated)
		return 0;
	an = get16(buf + 6);
	if ((out->rr = calloc(an < DNS_RR_MAX ? (an ? an : 1) : DNS_RR_MAX,
	    sizeof(*out->rr))) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < an; i++) {
		struct dns_rr	 tmp;
		uint16_t	 rtype, rdlen;

		memset(&tmp, 0, sizeof(tmp));
		if (dns_name_decode(buf, len, &off, tmp.name) == -1 ||
		    off + 10 > len) {
			seterr(err, errlen, "malformed record %zu", i + 1);
			goto bad;
		}
		rtype = get16(buf + off);
		tmp.ttl = get32(buf + off + 4);
		rdlen = get16(buf + off + 8);
		off += 10;
		if (off + rdlen > len) {
			seterr(err, errlen, "record %zu past the end", i + 1);
			goto bad;
		}
		tmp.type = rtype;
		if (get16(buf + off - 8) == 1 && (rtype == DNS_T_A ||
		    rtype == DNS_T_AAAA || rtype == DNS_T_CNAME ||
		    rtype == DNS_T_PTR || rtype == DNS_T_MX ||
		    rtype == DNS_T_TXT)) {
			if (out->nrr >= DNS_RR_MAX) {
				seterr(err, errlen, "more than %d records",
				    DNS_RR_MAX);
				goto bad;
			}
			if (rr_rdata(buf, off, rdlen, &tmp) == -1) {
				free(tmp.txt);
				seterr(err, errlen, "malformed %s record",
				    dns_type_name(rtype));
				goto bad;
			}
			rr = &out->rr[out->nrr++];
			*rr = tmp;
		}
		off += rdlen;
	}
	return 0;
bad:
	dns_answer_free(out);
	return -1;
}

void
dns_answer_free(struct dns_answer *a)
{
	size_t	 i;

	for (i = 0; i < a->nrr; i++)
		free(a->rr[i].txt);
	free(a->rr);
	a->rr = NULL;
	a->nrr = 0;
}

int
dns_ptr_name(const struct sockaddr *sa, char *buf, size_t size)
{
	const uint8_t	*a;
	size_t		 o = 0;
	int		 i, n;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		n = snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa",
		    a[3], a[2], a[1], a[0]);
		return n < 0 || (size_t)n >= size ? -1 : 0;
	}
	if (sa->sa_family != AF_INET6 || size < 16 * 4 + sizeof("ip6.arpa"))
		return -1;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	for (i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		buf[o++] = hex[a[i] & 0xf];
		buf[o++] = '.';
		buf[o++] = hex[a[i] >> 4];
		buf[o++] = '.';
	}
	memcpy(buf + o, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

const char *
dns_type_name(uint16_t type)
{
	switch (type) {
	case DNS_T_A:		return "A";
	case DNS_T_AAAA:	return "AAAA";
	case DNS_T_CNAME:	return "CNAME";
	case DNS_T_PTR:		return "PTR";
	case DNS_T_MX:		return "MX";
	case DNS_T_TXT:		return "TXT";
	}
	return "TYPE";
}
