/* smtp_auth_decode.c — SASL PLAIN and LOGIN responses; see smtp_auth_decode.h. */
#include <string.h>

#include <sodium.h>

#include "proto/smtp_auth_decode.h"

int
smtp_auth_b64(const char *line, unsigned char *out, size_t outsz,
    size_t *outlen)
{
	if (outsz < 1 || sodium_base642bin(out, outsz - 1, line, strlen(line),
	    NULL, outlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	out[*outlen] = '\0';
	return 0;
}

int
smtp_auth_plain_decode(const char *b64, unsigned char *buf, size_t bufsz,
    struct smtp_auth_plain *p, const char **why)
{
	size_t	 len, zlen, clen;

	*why = "Invalid PLAIN response";
	if (smtp_auth_b64(b64, buf, bufsz, &len) == -1) {
		*why = "Invalid base64 data";
		return -1;
	}
	p->authzid = (const char *)buf;
	zlen = strnlen(p->authzid, len);
	if (zlen >= len)
		return -1;
	p->authcid = p->authzid + zlen + 1;
	clen = strnlen(p->authcid, len - zlen - 1);
	if (zlen + 1 + clen >= len || clen == 0 || clen > AUTH_USER_MAX)
		return -1;
	p->pass = p->authcid + clen + 1;
	if (memchr(p->pass, '\0', len - zlen - clen - 2) != NULL)
		return -1;
	return 0;
}
