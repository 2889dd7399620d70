/*
 * smtp_client_reply.h — reads the replies an upstream SMTP server sends
 * (RFC 5321 4.2: "250-first", "250 last"), bounded and strict, and the
 * EHLO keywords the relay client cares about (RFC 5321 4.1.1.1, RFC 2920
 * PIPELINING, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3207 STARTTLS, RFC 4954
 * AUTH).  Nothing here does I/O beyond taking bytes out of an evbuffer.
 *
 * proto/: SMTP and RFC 5322 syntax, without I/O.  Sits on lib/ only: knows
 * nothing of sockets, the config, the queue or the roles.
 */
#ifndef PROTO_SMTP_CLIENT_REPLY_H
#define PROTO_SMTP_CLIENT_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/submitd.h"

struct evbuffer;

#define SMTP_REPLY_LINES_MAX	100	/* lines in one multi-line reply */

/* EHLO keywords (smtp_client_caps.flags). */
#define SMTP_CAP_PIPELINING	0x01
#define SMTP_CAP_SIZE		0x02
#define SMTP_CAP_8BITMIME	0x04
#define SMTP_CAP_STARTTLS	0x08
#define SMTP_CAP_AUTH_PLAIN	0x10
#define SMTP_CAP_AUTH_LOGIN	0x20
#define SMTP_CAP_SMTPUTF8	0x40	/* RFC 6531 */

struct smtp_client_caps {
	unsigned	 flags;		/* SMTP_CAP_* */
	uint64_t	 size_max;	/* SIZE argument, octets; 0 = none given */
};

struct smtp_client_reply {
	int		 code;		/* 200..599; 0 before the first line */
	int		 nlines;
	int		 done;		/* the last line ("CODE ") was seen */
	/* First line as "CODE text", printable ASCII only (others become '?',
	   '"' and '\\' too, so it can go inside a quoted log value). */
	char		 text[SMTP_REPLYLINE_MAX];
	/* When not NULL, every line after the first is read as an EHLO keyword. */
	struct smtp_client_caps *caps;
};

/* smtp_client_reply_init: empties R for a new reply, keeping R->caps. */
void	smtp_client_reply_init(struct smtp_client_reply *r);

/*
 * smtp_client_reply_line: feeds one reply line LINE of LEN octets, without
 * its CRLF.  Returns 1 when the reply is complete, 0 when more lines must
 * follow, -1 when the line is malformed (bad code, code changed between
 * lines, NUL byte, too long, too many lines).
 */
int	smtp_client_reply_line(struct smtp_client_reply *r, const char *line,
	    size_t len);

/*
 * smtp_client_reply_read: takes whole lines (CRLF, or a bare LF) out of IN
 * and feeds them to R until a reply is complete.  Returns 1 with a complete
 * reply in R, 0 when IN holds no complete reply yet (what was read is kept
 * in R; call again with more input), -1 on a malformed reply or a line over
 * SMTP_REPLYLINE_MAX octets with its CRLF.
 */
int	smtp_client_reply_read(struct evbuffer *in, struct smtp_client_reply *r);

/* smtp_client_ehlo_keyword: adds the EHLO line TEXT (after "250-") to CAPS. */
void	smtp_client_ehlo_keyword(struct smtp_client_caps *caps,
	    const char *text, size_t len);

#endif
