/* test_dns_msg.c — DNS messages for submitctl audit: queries encoded,
 * answers decoded, hostile answers refused without reading out of bounds. */
#include <check.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dns_msg.h"

#include "tests/unit/check_main.h"

/* An answer to QUERY (as dns_query_encode made it, OPT dropped) with
 * the records RRS (RRLEN octets, ANCOUNT of them). */
static size_t
answer(unsigned char *out, const unsigned char *query, int qlen,
    const unsigned char *rrs, size_t rrlen, int ancount)
{
	size_t	 n = (size_t)qlen - 11;		/* without the OPT record */

	memcpy(out, query, n);
	out[2] |= 0x80;				/* QR */
	out[7] = (unsigned char)ancount;
	out[11] = 0;
	memcpy(out + n, rrs, rrlen);
	return n + rrlen;
}

START_TEST(query_encode)
{
	unsigned char	 q[DNS_QUERY_MAX];
	int		 n;

	n = dns_query_encode(0x1234, "s1._domainkey.Example.org.", DNS_T_TXT,
	    q, sizeof(q));
	ck_assert_int_eq(n, 12 + 27 + 4 + 11);
	ck_assert_int_eq(q[0], 0x12);
	ck_assert_int_eq(q[12], 2);
	ck_assert(memcmp(q + 13, "s1", 2) == 0);
	ck_assert_int_eq(dns_query_encode(1, "a..b", DNS_T_A, q, sizeof(q)), -1);
	ck_assert_int_eq(dns_query_encode(1, "a b", DNS_T_A, q, sizeof(q)), -1);
	ck_assert_int_eq(dns_query_encode(1, "", DNS_T_A, q, sizeof(q)),
	    12 + 1 + 4 + 11);
}
END_TEST

START_TEST(answer_txt_a_compressed)
{
	unsigned char	 q[DNS_QUERY_MAX], msg[512];
	/* TXT "v=spf1 " "-all" (two strings), then A 192.0.2.1, both named
	 * by a pointer to the question (offset 12) */
	static const unsigned char rrs[] = {
		0xc0, 12, 0, 16, 0, 1, 0, 0, 0x0e, 0x10, 0, 13,
		7, 'v', '=', 's', 'p', 'f', '1', ' ', 4, '-', 'a', 'l', 'l',
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
	};
	struct dns_answer a;
	char		 err[128];
	int		 qlen;
	size_t		 len;

	qlen = dns_query_encode(7, "example.org", DNS_T_TXT, q, sizeof(q));
	len = answer(msg, q, qlen, rrs, sizeof(rrs), 2);
	ck_assert_int_eq(dns_answer_decode(msg, len, 7, "EXAMPLE.org.",
	    DNS_T_TXT, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(a.rcode, 0);
	ck_assert_uint_eq(a.nrr, 2);
	ck_assert_str_eq(a.rr[0].txt, "v=spf1 -all");
	ck_assert_str_eq(a.rr[0].name, "example.org");
	ck_assert_uint_eq(a.rr[0].ttl, 3600);
	ck_assert_int_eq(a.rr[1].type, DNS_T_A);
	ck_assert_int_eq(a.rr[1].addr[0], 192);
	dns_answer_free(&a);
	/* another id, another question */
	ck_assert_int_eq(dns_answer_decode(msg, len, 8, "example.org",
	    DNS_T_TXT, &a, err, sizeof(err)), -1);
	ck_assert_int_eq(dns_answer_decode(msg, len, 7, "example.com",
	    DNS_T_TXT, &a, err, sizeof(err)), -1);
	ck_assert_int_eq(dns_answer_decode(msg, len, 7, "example.org",
	    DNS_T_A, &a, err, sizeof(err)), -1);
}
END_TEST

START_TEST(answer_hostile)
{
	unsigned char	 q[DNS_QUERY_MAX], msg[512];
	/* a pointer to itself, then a pointer forward */
	static const unsigned char loop[] = { 0xc0, 29, 0, 1, 0, 1, 0, 0, 0,
	    0, 0, 4, 1, 2, 3, 4 };
	static const unsigned char fwd[] = { 0xc0, 40, 0, 1, 0, 1, 0, 0, 0,
	    0, 0, 4, 1, 2, 3, 4 };
	/* TXT string longer than the record */
	static const unsigned char txt[] = { 0xc0, 12, 0, 16, 0, 1, 0, 0, 0,
	    0, 0, 3, 9, 'a', 'b' };
	/* rdlength past the end */
	static const unsigned char rdlen[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0,
	    0, 0x7f, 0xff, 1, 2, 3, 4 };
	/* A with 5 octets */
	static const unsigned char a5[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0,
	    0, 0, 5, 1, 2, 3, 4, 5 };
	struct dns_answer a;
	char		 err[128];
	int		 qlen;
	size_t		 len, i, j;
	unsigned int	 seed = 1;

	qlen = dns_query_encode(9, "example.org", DNS_T_A, q, sizeof(q));
	ck_assert_int_eq(qlen, 12 + 13 + 4 + 11);	/* question ends at 29 */
	len = answer(msg, q, qlen, loop, sizeof(loop), 1);
	ck_assert_int_eq(dns_answer_decode(msg, len, 9, "example.org",
	    DNS_T_A, &a, err, sizeof(err)), -1);
	len = answer(msg, q, qlen, fwd, sizeof(fwd), 1);
	ck_assert_int_eq(dns_answer_decode(msg, len, 9, "example.org",
	    DNS_T_A, &a, err, sizeof(err)), -1);
	len = answer(msg, q, qlen, rdlen, sizeof(rdlen), 1);
	ck_assert_int_eq(dns_answer_decode(msg, len, 9, "example.org",
	    DNS_T_A, &a, err, sizeof(err)), -1);
	len = answer(msg, q, qlen, a5, sizeof(a5), 1);
	ck_assert_int_eq(dns_answer_decode(msg, len, 9, "example.org",
	    DNS_T_A, &a, err, sizeof(err)), -1);
	qlen = dns_query_encode(9, "example.org", DNS_T_TXT, q, sizeof(q));
	len = answer(msg, q, qlen, txt, sizeof(txt), 1);
	ck_assert_int_eq(dns_answer_decode(msg, len, 9, "example.org",
	    DNS_T_TXT, &a, err, sizeof(err)), -1);
	/* more records announced than present */
	len = answer(msg, q, qlen, txt, 0, 3);
	ck_assert_int_eq(dns_answer_decode(msg, len, 9, "example.org",
	    DNS_T_TXT, &a, err, sizeof(err)), -1);
	/* every prefix of a good answer, and random bytes flipped: no crash
	 * (run under ASan/valgrind for the out-of-bounds reads) */
	{
		static const unsigned char good[] = { 0xc0, 12, 0, 16, 0, 1,
		    0, 0, 0, 0, 0, 4, 3, 'a', 'b', 'c' };

		len = answer(msg, q, qlen, good, sizeof(good), 1);
		ck_assert_int_eq(dns_answer_decode(msg, len, 9, "example.org",
		    DNS_T_TXT, &a, err, sizeof(err)), 0);
		dns_answer_free(&a);
		for (i = 0; i < len; i++)
			if (dns_answer_decode(msg, i, 9, "example.org",
			    DNS_T_TXT, &a, err, sizeof(err)) == 0)
				dns_answer_free(&a);
		for (j = 0; j < 20000; j++) {
			unsigned char m[512];

			memcpy(m, msg, len);
			for (i = 0; i < 3; i++)
				m[12 + (size_t)rand_r(&seed) % (len - 12)] =
				    (unsigned char)rand_r(&seed);
			if (dns_answer_decode(m, len, 9, "example.org",
			    DNS_T_TXT, &a, err, sizeof(err)) == 0)
				dns_answer_free(&a);
		}
	}
}
END_TEST

START_TEST(ptr_name)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	char			 buf[80];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	ck_assert_int_eq(dns_ptr_name((struct sockaddr *)&sin, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.2.0.192.in-addr.arpa");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	ck_assert_int_eq(dns_ptr_name((struct sockaddr *)&sin6, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	    ".8.b.d.0.1.0.0.2.ip6.arpa");
	ck_assert(dns_name_equal("Example.ORG.", "example.org"));
	ck_assert(!dns_name_equal("example.org", "example.or"));
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("dns_msg");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, query_encode);
	tcase_add_test(tc, answer_txt_a_compressed);
	tcase_add_test(tc, answer_hostile);
	tcase_add_test(tc, ptr_name);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
