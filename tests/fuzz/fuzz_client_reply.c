/* fuzz_client_reply.c — the relay's reader of the smarthost's replies and
 * EHLO keywords (proto/smtp_client_reply.c), from an evbuffer as relay
 * sees them. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proto/smtp_client_reply.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer			*in = evbuffer_new();
	struct smtp_client_reply	 r;
	struct smtp_client_caps		 caps;
	int				 rv, rounds = 0;

	memset(&caps, 0, sizeof(caps));
	evbuffer_add(in, data, size);
	smtp_client_reply_init(&r);
	r.caps = &caps;
	while ((rv = smtp_client_reply_read(in, &r)) == 1 && rounds++ < 1000) {
		if (r.code < 200 || r.code > 599 || memchr(r.text, '\0',
		    sizeof(r.text)) == NULL)
			abort();
		smtp_client_reply_init(&r);
	}
	evbuffer_free(in);
	return 0;
}
