/* fuzz_auth_decode.c — AUTH PLAIN and LOGIN responses as a client sends
 * them (proto/smtp_auth_decode.c): base64, then the PLAIN split; every
 * field it returns lies inside the buffer, NUL-terminated, within bounds. */
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_auth_decode.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		 buf[AUTH_RESPONSE_MAX + 1], user[AUTH_USER_MAX + 2];
	struct smtp_auth_plain	 p;
	const char		*why;
	char			*line = fuzz_cstr(data, size);
	size_t			 len;

	if (smtp_auth_plain_decode(line, buf, sizeof(buf), &p, &why) == 0) {
		const char *end = (const char *)buf + sizeof(buf);

		if (p.authzid != (const char *)buf || p.authcid <= p.authzid ||
		    p.pass <= p.authcid || p.pass >= end ||
		    strlen(p.authcid) == 0 || strlen(p.authcid) > AUTH_USER_MAX ||
		    p.pass + strlen(p.pass) >= end)
			abort();
	} else if (why == NULL)
		abort();
	if (smtp_auth_b64(line, user, sizeof(user), &len) == 0 &&
	    (len >= sizeof(user) || user[len] != '\0'))
		abort();
	free(line);
	return 0;
}
