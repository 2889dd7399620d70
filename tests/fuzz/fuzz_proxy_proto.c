/*
 * fuzz_proxy_proto.c — libFuzzer entry for the PROXY protocol header
 * parser (proto/proxy_proto.c), which reads the first octets of every
 * connection on a "proxy-from" listener.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *       tests/fuzz/fuzz_proxy_proto.c proto/proxy_proto.c -o /tmp/fuzz_proxy
 *   /tmp/fuzz_proxy -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/proxy_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr	 h;
	int			 r;

	r = proxy_parse(data, size, &h, NULL);
	if (r > (int)size || r < -1)
		abort();
	if (r == 0 && size >= PROXY_HDR_MAX)
		abort();	/* more wanted than the bound */
	return 0;
}
