/* smtp_dotstuff.c — RFC 5321 4.5.2 dot-stuffing; see smtp_dotstuff.h. */
#include <string.h>

#include <event2/buffer.h>

#include "proto/smtp_dotstuff.h"

void
smtp_dotstuff_init(struct smtp_dotstuff *st)
{
	memset(st, 0, sizeof(*st));
	st->bol = 1;
}

int
smtp_dotstuff_add(struct smtp_dotstuff *st, struct evbuffer *out,
    const void *buf, size_t len)
{
	const char	*b = buf, *nl;
	size_t		 i = 0, start = 0;

	if (len == 0)
		return 0;
	if (st->bol && b[0] == '.' && evbuffer_add(out, ".", 1) == -1)
		return -1;
	/* Copy runs of lines in one go; break only before a leading dot. */
	while (i < len && (nl = memchr(b + i, '\n', len - i)) != NULL) {
		i = (size_t)(nl - b) + 1;
		if (i < len && b[i] == '.') {
			if (evbuffer_add(out, b + start, i - start) == -1 ||
			    evbuffer_add(out, ".", 1) == -1)
				return -1;
			start = i;
		}
	}
	if (evbuffer_add(out, b + start, len - start) == -1)
		return -1;
	st->bol = b[len - 1] == '\n';
	st->last[0] = len >= 2 ? (unsigned char)b[len - 2] : st->last[1];
	st->last[1] = (unsigned char)b[len - 1];
	st->n += len;
	return 0;
}

int
smtp_dotstuff_end(struct smtp_dotstuff *st, struct evbuffer *out)
{
	if ((st->n == 0 || st->last[0] != '\r' || st->last[1] != '\n') &&
	    evbuffer_add(out, "\r\n", 2) == -1)
		return -1;
	return evbuffer_add(out, ".\r\n", 3);
}
