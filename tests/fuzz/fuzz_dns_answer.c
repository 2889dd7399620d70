/*
 * fuzz_dns_answer.c — libFuzzer entry for the audit's DNS answer decoder
 * (ctl/dns_msg.c), which reads whatever a DNS server sends back.  The
 * first two octets of the input choose the query type; the rest is the
 * answer, matched against a query for "example.org" with id 0x4242 (the
 * header and question are taken from the input when they match, so the
 * fuzzer reaches the records).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       tests/fuzz/fuzz_dns_answer.c ctl/dns_msg.c -o /tmp/fuzz_dns
 *   /tmp/fuzz_dns -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctl/dns_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_TXT,
	    DNS_T_MX, DNS_T_PTR, DNS_T_CNAME };
	unsigned char	 q[DNS_QUERY_MAX], msg[4096];
	struct dns_answer a;
	char		 err[128];
	uint16_t	 type;
	int		 qlen;
	size_t		 n;

	if (size < 1)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	data++;
	size--;
	/* a well-formed header and question, then the fuzzer's octets */
	qlen = dns_query_encode(0x4242, "example.org", type, q, sizeof(q));
	n = (size_t)qlen - 11;
	memcpy(msg, q, n);
	msg[2] |= 0x80;
	msg[11] = 0;
	if (size > 2) {
		msg[6] = data[0];	/* ANCOUNT */
		msg[7] = data[1];
		data += 2;
		size -= 2;
	}
	if (size > sizeof(msg) - n)
		size = sizeof(msg) - n;
	memcpy(msg + n, data, size);
	if (dns_answer_decode(msg, n + size, 0x4242, "example.org", type, &a,
	    err, sizeof(err)) == 0)
		dns_answer_free(&a);
	return 0;
}
