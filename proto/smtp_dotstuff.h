/*
 * smtp_dotstuff.h — the DATA transparency procedure of RFC 5321 4.5.2 for a
 * sender: a line starting with '.' gets one more '.', and the data ends with
 * CRLF "." CRLF (a CRLF is added first when the data does not end in one).
 * Works on a stream given in chunks of any size; nothing is buffered here.
 *
 * proto/: SMTP and RFC 5322 syntax, without I/O.  Sits on lib/ only: knows
 * nothing of sockets, the config, the queue or the roles.
 */
#ifndef PROTO_SMTP_DOTSTUFF_H
#define PROTO_SMTP_DOTSTUFF_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

struct smtp_dotstuff {
	int		 bol;		/* next octet starts a line */
	unsigned char	 last[2];	/* the last two octets seen */
	uint64_t	 n;		/* octets seen (unstuffed) */
};

void	smtp_dotstuff_init(struct smtp_dotstuff *);
/* smtp_dotstuff_add: appends BUF (LEN octets) stuffed to OUT; -1 on ENOMEM. */
int	smtp_dotstuff_add(struct smtp_dotstuff *, struct evbuffer *out,
	    const void *buf, size_t len);
/* smtp_dotstuff_end: appends [CRLF] "." CRLF to OUT; -1 on ENOMEM. */
int	smtp_dotstuff_end(struct smtp_dotstuff *, struct evbuffer *out);

#endif
