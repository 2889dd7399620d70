/*
 * lat.c — latency samples and nearest-rank percentiles.
 */
#include <stdlib.h>

#include "lat.h"

int
lat_add(struct lat *l, uint64_t usec)
{
	uint32_t	*p;
	size_t		 ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 1024;
		if ((p = reallocarray(l->us, ncap, sizeof(*p))) == NULL)
			return -1;
		l->us = p;
		l->cap = ncap;
	}
	l->us[l->n++] = usec > UINT32_MAX ? UINT32_MAX : (uint32_t)usec;
	l->sorted = 0;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

double
lat_pct(struct lat *l, double p)
{
	size_t	rank;

	if (l->n == 0)
		return 0;
	if (!l->sorted) {
		qsort(l->us, l->n, sizeof(*l->us), cmp_u32);
		l->sorted = 1;
	}
	rank = (size_t)(p / 100.0 * (double)l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return l->us[rank - 1] / 1000.0;
}

void
lat_json(struct lat *l, FILE *f)
{
	fprintf(f, "{\"n\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
	    "\"max\":%.3f}", l->n, lat_pct(l, 50), lat_pct(l, 90),
	    lat_pct(l, 99), lat_pct(l, 100));
}

void
lat_free(struct lat *l)
{
	free(l->us);
	l->us = NULL;
	l->n = l->cap = 0;
}
