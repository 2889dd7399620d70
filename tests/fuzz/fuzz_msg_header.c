/* fuzz_msg_header.c — the header section scan and the RFC 5322 address
 * list parser (proto/msg_header.c) that decide whose From: a message has. */
#include <stdlib.h>

#include "proto/msg_header.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_header_info	 h;
	char			 out[MSG_FROM_MAX][SMTP_PATH_MAX + 1];
	char			*s = fuzz_cstr(data, size);

	msg_header_scan(s, size, &h);
	if (h.nfrom > MSG_FROM_MAX || h.dup_field == NULL)
		abort();
	(void)msg_header_parse_mailboxes(s, size, out, MSG_FROM_MAX);
	free(s);
	return 0;
}
