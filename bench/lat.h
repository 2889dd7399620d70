/*
 * lat.h — latency samples for one benchmark stage: record, then report
 * percentiles.  Samples are microseconds; the array grows as needed.
 */
#ifndef BENCH_LAT_H
#define BENCH_LAT_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

struct lat {
	const char	*name;		/* "connect", "tls", "auth", ... */
	uint32_t	*us;		/* samples, microseconds */
	size_t		 n;
	size_t		 cap;
	int		 sorted;
};

/* lat_add: records one sample of USEC microseconds; -1 when out of memory. */
int		 lat_add(struct lat *, uint64_t usec);
/*
 * lat_pct: the P-th percentile (0 < P <= 100, nearest rank) in
 * milliseconds; 0 when there are no samples.  Sorts the samples once.
 */
double		 lat_pct(struct lat *, double p);
/* lat_json: writes {"n":..,"p50":..,"p90":..,"p99":..,"max":..} (ms) to F. */
void		 lat_json(struct lat *, FILE *f);
/* lat_free: releases the samples. */
void		 lat_free(struct lat *);

#endif
