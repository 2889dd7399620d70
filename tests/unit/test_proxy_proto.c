/*
 * test_proxy_proto.c — the PROXY protocol header parser (proto/proxy_proto.c):
 * v1 and v2 as HAProxy sends them, every cut of a good header asks for
 * more (never a false verdict), and strictness: bad spacing, bad
 * addresses and ports, overlong lines, bare LF, NUL, wrong version or
 * command, short address blocks, oversized v2 bodies, no header at all.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proxy_proto.h"
#include "tests/unit/check_main.h"

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static const char *
src_text(const struct proxy_hdr *h, char *buf, size_t size)
{
	const void	*a = h->src.ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)&h->src)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)&h->src)->sin6_addr;

	return inet_ntop(h->src.ss_family, a, buf, size);
}

static unsigned
src_port(const struct proxy_hdr *h)
{
	return ntohs(h->src.ss_family == AF_INET ?
	    ((const struct sockaddr_in *)&h->src)->sin_port :
	    ((const struct sockaddr_in6 *)&h->src)->sin6_port);
}

/* Every strict prefix of BUF asks for more; the whole parses to LEN. */
static void
assert_cuts(const uint8_t *buf, size_t len)
{
	struct proxy_hdr	 h;
	size_t			 i;

	for (i = 0; i < len; i++)
		ck_assert_msg(proxy_parse(buf, i, &h, NULL) == 0,
		    "prefix %zu of %zu", i, len);
	ck_assert_int_eq(proxy_parse(buf, len, &h, NULL), (int)len);
}

START_TEST(v1_good)
{
	static const char	*l4 = "PROXY TCP4 192.0.2.7 198.51.100.1 "
	    "56324 465\r\nEHLO x\r\n";
	static const char	*l6 = "PROXY TCP6 2001:db8::7 2001:db8::1 "
	    "1 65535\r\n";
	struct proxy_hdr	 h;
	char			 a[64];
	size_t			 n4 = strlen(l4) - strlen("EHLO x\r\n");

	ck_assert_int_eq(proxy_parse((const uint8_t *)l4, strlen(l4), &h,
	    NULL), (int)n4);
	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.local, 0);
	ck_assert_str_eq(src_text(&h, a, sizeof(a)), "192.0.2.7");
	ck_assert_uint_eq(src_port(&h), 56324);
	ck_assert_uint_eq(h.sslen, sizeof(struct sockaddr_in));
	assert_cuts((const uint8_t *)l4, n4);

	ck_assert_int_eq(proxy_parse((const uint8_t *)l6, strlen(l6), &h,
	    NULL), (int)strlen(l6));
	ck_assert_str_eq(src_text(&h, a, sizeof(a)), "2001:db8::7");
	ck_assert_uint_eq(src_port(&h), 1);
	assert_cuts((const uint8_t *)l6, strlen(l6));

	ck_assert_int_eq(proxy_parse((const uint8_t *)"PROXY UNKNOWN\r\n", 15,
	    &h, NULL), 15);
	ck_assert_int_eq(h.local, 1);
	ck_assert_int_eq(proxy_parse((const uint8_t *)
	    "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 35, &h, NULL), 35);
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(v1_bad)
{
	static const char *bad[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 465\n",	/* bare LF */
		"PROXY  TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 2 \r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 2 3\r\n",
		"PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",
		"PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",
		"PROXY TCP4 192.0.2.256 198.51.100.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 01 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 -1 2\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 2x\r\n",
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
		"PROXY tcp4 192.0.2.7 198.51.100.1 1 2\r\n",
		"PROXY \r\n",
		"proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
		"EHLO client.example\r\n",
		"\x16\x03\x01\x02\x00\x01",		/* a TLS ClientHello */
		"GET / HTTP/1.0\r\n",
	};
	struct proxy_hdr	 h;
	const char		*why;
	char			 line[300];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(proxy_parse((const uint8_t *)bad[i],
		    strlen(bad[i]), &h, &why) == -1, "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	/* NUL inside */
	ck_assert_int_eq(proxy_parse((const uint8_t *)"PROXY TCP4 1\0", 13, &h,
	    NULL), -1);
	/* no CRLF within 107 octets */
	memset(line, 'a', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxy_parse((const uint8_t *)line, 106, &h, NULL), 0);
	ck_assert_int_eq(proxy_parse((const uint8_t *)line, 107, &h, NULL), -1);
	ck_assert_int_eq(proxy_parse((const uint8_t *)line, sizeof(line), &h,
	    NULL), -1);
	/* 107 with the CRLF is the most allowed */
	line[105] = '\r';
	line[106] = '\n';
	ck_assert_int_eq(proxy_parse((const uint8_t *)line, 107, &h, NULL), 107);
	line[105] = 'a';
	line[106] = 'a';
	line[106] = '\r';
	line[107] = '\n';
	ck_assert_int_eq(proxy_parse((const uint8_t *)line, 108, &h, NULL), -1);
}
END_TEST

/* A v2 header: VER_CMD, FAM, then BODY of BLEN octets. */
static size_t
v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body,
    size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	if (blen > 0 && body != NULL)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

START_TEST(v2_good)
{
	uint8_t			 buf[PROXY_HDR_MAX + 64], body[64];
	struct proxy_hdr	 h;
	char			 a[64];
	size_t			 n;

	memset(body, 0, sizeof(body));
	memcpy(body, "\xc0\x00\x02\x07\xc6\x33\x64\x01\xdc\x04\x01\xd1", 12);
	n = v2(buf, 0x21, 0x11, body, 12);
	ck_assert_int_eq(proxy_parse(buf, n, &h, NULL), (int)n);
	ck_assert_int_eq(h.version, 2);
	ck_assert_str_eq(src_text(&h, a, sizeof(a)), "192.0.2.7");
	ck_assert_uint_eq(src_port(&h), 0xdc04);
	assert_cuts(buf, n);

	/* TLVs after the addresses are skipped */
	memcpy(body + 12, "\x04\x00\x03xyz", 6);
	n = v2(buf, 0x21, 0x11, body, 18);
	memcpy(buf + n, "EHLO", 4);
	ck_assert_int_eq(proxy_parse(buf, n + 4, &h, NULL), (int)n);

	memset(body, 0, sizeof(body));
	inet_pton(AF_INET6, "2001:db8::7", body);
	inet_pton(AF_INET6, "2001:db8::1", body + 16);
	body[32] = 0x01;
	body[33] = 0xbb;
	n = v2(buf, 0x21, 0x21, body, 36);
	ck_assert_int_eq(proxy_parse(buf, n, &h, NULL), (int)n);
	ck_assert_str_eq(src_text(&h, a, sizeof(a)), "2001:db8::7");
	ck_assert_uint_eq(src_port(&h), 443);
	ck_assert_uint_eq(h.sslen, sizeof(struct sockaddr_in6));

	/* LOCAL (a health check), and PROXY with UNSPEC: no address */
	n = v2(buf, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(proxy_parse(buf, n, &h, NULL), 16);
	ck_assert_int_eq(h.local, 1);
	n = v2(buf, 0x20, 0x11, body, 12);
	ck_assert_int_eq(proxy_parse(buf, n, &h, NULL), 28);
	ck_assert_int_eq(h.local, 1);
	n = v2(buf, 0x21, 0x00, NULL, 0);
	ck_assert_int_eq(proxy_parse(buf, n, &h, NULL), 16);
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(v2_bad)
{
	uint8_t			 buf[PROXY_HDR_MAX + 64], body[64];
	struct proxy_hdr	 h;
	const char		*why;
	size_t			 n;

	memset(body, 0, sizeof(body));
	n = v2(buf, 0x11, 0x11, body, 12);		/* version 1 */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), -1);
	n = v2(buf, 0x22, 0x11, body, 12);		/* command 2 */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), -1);
	n = v2(buf, 0x21, 0x11, body, 11);		/* short IPv4 */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), -1);
	n = v2(buf, 0x21, 0x21, body, 35);		/* short IPv6 */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), -1);
	n = v2(buf, 0x21, 0x12, body, 12);		/* UDP */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), -1);
	n = v2(buf, 0x21, 0x31, body, 12);		/* AF_UNIX */
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), -1);
	/* a body over the bound is refused at once, not waited for */
	v2(buf, 0x21, 0x11, NULL, PROXY_V2_BODY_MAX + 1);
	ck_assert_int_eq(proxy_parse(buf, 16, &h, &why), -1);
	v2(buf, 0x21, 0x11, NULL, 0xffff);
	ck_assert_int_eq(proxy_parse(buf, 16, &h, &why), -1);
	/* the most allowed */
	memset(buf, 0, sizeof(buf));
	n = v2(buf, 0x21, 0x11, NULL, PROXY_V2_BODY_MAX);
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), (int)n);
	/* a broken signature */
	n = v2(buf, 0x21, 0x11, body, 12);
	buf[11] = 0x0b;
	ck_assert_int_eq(proxy_parse(buf, n, &h, &why), -1);
}
END_TEST

/* Random octets never crash it nor claim more than they hold. */
START_TEST(random_input)
{
	uint8_t			 buf[PROXY_HDR_MAX + 16];
	struct proxy_hdr	 h;
	size_t			 i, j, len;
	int			 r;

	srandom(17);
	for (i = 0; i < 20000; i++) {
		len = (size_t)random() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)random();
		if (i % 3 == 0 && len >= 12)
			memcpy(buf, sig, 12);
		else if (i % 3 == 1 && len >= 6)
			memcpy(buf, "PROXY ", 6);
		r = proxy_parse(buf, len, &h, NULL);
		ck_assert_int_le(r, (int)len);
		ck_assert_int_ge(r, -1);
		if (r == 0)
			ck_assert_uint_lt(len, PROXY_HDR_MAX);
	}
}
END_TEST

static Suite *
proxy_proto_suite(void)
{
	Suite	*s = suite_create("proxy_proto");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, v1_good);
	tcase_add_test(tc, v1_bad);
	tcase_add_test(tc, v2_good);
	tcase_add_test(tc, v2_bad);
	tcase_add_test(tc, random_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(proxy_proto_suite());
}
