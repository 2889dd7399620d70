/*
 * fuzz_data_reader.c — the DATA line reader (proto/smtp_data_reader.c) fed
 * the input in chunks split where the first octets say must agree with
 * the whole buffer: same units, same flags, same end (issue 13: a CR
 * ending one read hid the final ".").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_data_reader.h"
#include "fuzz.h"

struct trace {
	unsigned	 h;		/* a hash of what the reader said */
	size_t		 end;		/* offset after the end, 0 if none */
};

static void
step(struct trace *t, unsigned u, unsigned flags, size_t n)
{
	t->h = t->h * 31 + u;
	t->h = t->h * 31 + flags;
	t->h = t->h * 31 + (unsigned)n;
}

/* Feed P (LEN octets) in pieces of the sizes in CUTS (cycled). */
static void
run(const uint8_t *p, size_t len, const uint8_t *cuts, size_t ncuts,
    struct trace *t)
{
	struct smtp_data_reader	 r;
	char			*buf = malloc(len + 1);
	size_t			 have = 0, fed = 0, consumed = 0, c = 0;

	memset(t, 0, sizeof(*t));
	smtp_data_reader_init(&r);
	while (fed < len) {
		size_t	 piece = ncuts ? 1 + (size_t)cuts[c++ % ncuts] : len;

		if (piece > len - fed)
			piece = len - fed;
		memcpy(buf + have, p + fed, piece);
		have += piece;
		fed += piece;
		for (;;) {
			size_t		 n;
			unsigned	 flags;
			enum smtp_data_unit u;

			u = smtp_data_reader_next(&r, buf, have, &n, &flags);
			if (u == SDR_MORE)
				break;
			if (n == 0 || n > have || n > 1001)
				abort();
			step(t, u, flags, n);
			memmove(buf, buf + n, have - n);
			have -= n;
			consumed += n;
			if (u == SDR_END) {
				t->end = consumed;
				free(buf);
				return;
			}
		}
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace	 whole, split;
	size_t		 ncuts;

	if (size < 1)
		return 0;
	ncuts = data[0] % 8;
	if (size < 1 + ncuts)
		return 0;
	run(data + 1 + ncuts, size - 1 - ncuts, NULL, 0, &whole);
	run(data + 1 + ncuts, size - 1 - ncuts, data + 1, ncuts, &split);
	if (whole.h != split.h || whole.end != split.end) {
		fprintf(stderr, "split reading differs: end %zu vs %zu\n",
		    whole.end, split.end);
		abort();
	}
	return 0;
}
