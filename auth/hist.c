/* hist.c — counts per time bucket; see hist.h. */
#include <string.h>

#include "auth/hist.h"

size_t
hist_size(unsigned nbuckets)
{
	return offsetof(struct hist, counts) + (size_t)nbuckets *
	    sizeof(uint64_t);
}

int
hist_add(struct hist *h, int64_t bucket_ms, unsigned nbuckets, uint64_t n,
    int64_t now_ms, uint64_t *out)
{
	int64_t		 cur, shift;
	unsigned	 i;

	if (bucket_ms <= 0 || nbuckets == 0 || nbuckets > HIST_MAX ||
	    now_ms < 0 || now_ms / bucket_ms > INT64_MAX / bucket_ms -
	    (int64_t)nbuckets - 1)
		return -1;
	cur = now_ms / bucket_ms;
	if (h->bucket_ms != bucket_ms || h->nbuckets != nbuckets ||
	    h->newest < 0 || h->newest > INT64_MAX / bucket_ms -
	    (int64_t)nbuckets - 1) {
		memset(h, 0, sizeof(*h));
		h->bucket_ms = bucket_ms;
		h->nbuckets = nbuckets;
		h->newest = cur;
	}
	if (cur > h->newest) {
		shift = cur - h->newest;
		if (shift >= (int64_t)nbuckets)
			memset(h->counts, 0, sizeof(h->counts));
		else {
			memmove(h->counts + shift, h->counts,
			    (nbuckets - (size_t)shift) * sizeof(uint64_t));
			memset(h->counts, 0, (size_t)shift * sizeof(uint64_t));
		}
		h->newest = cur;
	}
	/* else the clock went back (or the same bucket): the newest counts */
	h->counts[0] = n > UINT64_MAX - h->counts[0] ? UINT64_MAX :
	    h->counts[0] + n;
	h->expires_ms = (h->newest + (int64_t)nbuckets) * bucket_ms;
	if (out != NULL)
		for (i = 0; i < nbuckets; i++)
			out[i] = h->counts[i];
	return 0;
}
