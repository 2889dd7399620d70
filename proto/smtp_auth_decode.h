/*
 * smtp_auth_decode.h — the client's side of SASL PLAIN (RFC 4616) and
 * LOGIN as they arrive in an AUTH exchange (RFC 4954): base64 decoding
 * and the split of a PLAIN response into authorization identity, login
 * and password, with the bounds of lib/submitd.h.
 *
 * proto/: SMTP and RFC 5322 syntax, without I/O.  Sits on lib/ only: knows
 * nothing of sockets, the config, the queue or the roles.
 */
#ifndef PROTO_SMTP_AUTH_DECODE_H
#define PROTO_SMTP_AUTH_DECODE_H

#include <stddef.h>

#include "lib/submitd.h"

/* A decoded PLAIN response is at most this long. */
#define AUTH_RESPONSE_MAX	(1 + AUTH_USER_MAX + 1 + AUTH_USER_MAX + 1 + \
				    AUTH_PASS_MAX)

struct smtp_auth_plain {
	const char	*authzid;	/* "" when none */
	const char	*authcid;	/* the login, 1..AUTH_USER_MAX octets */
	const char	*pass;
};

/*
 * smtp_auth_b64: decodes the base64 LINE into OUT (OUTSZ octets, the last
 * kept for a NUL); *OUTLEN the length.  -1 on bad base64 or too long.
 */
int	smtp_auth_b64(const char *line, unsigned char *out, size_t outsz,
	    size_t *outlen);
/*
 * smtp_auth_plain_decode: decodes the PLAIN response B64 into BUF (at least
 * AUTH_RESPONSE_MAX + 1 octets) and points P's fields into it.  Returns 0,
 * or -1 with *WHY the reply text ("Invalid base64 data", "Invalid PLAIN
 * response").  The caller wipes BUF.
 */
int	smtp_auth_plain_decode(const char *b64, unsigned char *buf, size_t bufsz,
	    struct smtp_auth_plain *p, const char **why);

#endif
