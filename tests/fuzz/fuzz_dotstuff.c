/*
 * fuzz_dotstuff.c — the relay's dot-stuffing (proto/smtp_dotstuff.c): the
 * stuffed stream of any chunking equals that of the whole buffer, and the
 * receiving reader (proto/smtp_data_reader.c) finds its end exactly where
 * it was put, with no line starting with a single '.' before it.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "proto/smtp_data_reader.h"
#include "proto/smtp_dotstuff.h"
#include "fuzz.h"

static struct evbuffer *
stuff(const uint8_t *p, size_t len, size_t chunk)
{
	struct smtp_dotstuff	 st;
	struct evbuffer		*out = evbuffer_new();
	size_t			 off = 0;

	smtp_dotstuff_init(&st);
	while (off < len) {
		size_t	 n = len - off < chunk ? len - off : chunk;

		if (smtp_dotstuff_add(&st, out, p + off, n) == -1)
			abort();
		off += n;
	}
	if (smtp_dotstuff_end(&st, out) == -1)
		abort();
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer	*a, *b;
	size_t		 la, chunk;

	if (size < 1)
		return 0;
	chunk = 1 + data[0] % 64;
	a = stuff(data + 1, size - 1, size);
	b = stuff(data + 1, size - 1, chunk);
	la = evbuffer_get_length(a);
	if (la != evbuffer_get_length(b) ||
	    memcmp(evbuffer_pullup(a, -1), evbuffer_pullup(b, -1), la) != 0)
		abort();
	/* The receiver: the end is the last 3 octets, and only there. */
	{
		struct smtp_data_reader	 r;
		const char		*p = (const char *)evbuffer_pullup(a, -1);
		size_t			 off = 0, n;
		unsigned		 flags;
		enum smtp_data_unit	 u;

		smtp_data_reader_init(&r);
		while ((u = smtp_data_reader_next(&r, p + off, la - off < 1001 ?
		    la - off : 1001, &n, &flags)) != SDR_MORE) {
			off += n;
			if (u == SDR_END)
				break;
		}
		/* Whatever the input, the end is found, and only at the end. */
		if (u != SDR_END || off != la)
			abort();
	}
	evbuffer_free(a);
	evbuffer_free(b);
	return 0;
}
