/*
 * metrics.h — writing counters in the Prometheus text format 0.0.4 (the
 * metrics role turns it into OpenMetrics when the scraper asks for that;
 * smtpd/role_metrics.c).  Each role keeps its own counters and prints
 * them with these when the control role asks for "metrics".
 *
 * lib/, the bottom floor: includes nothing of submitd outside lib/.
 */
#ifndef LIB_METRICS_H
#define LIB_METRICS_H

#include <stdint.h>

struct evbuffer;

/* "# TYPE NAME TYPE" and "# HELP NAME HELP" (a counter's NAME ends _total). */
void	metrics_family(struct evbuffer *, const char *name, const char *type,
	    const char *help);
/* One sample: NAME{LABEL="VALUE"} N, or NAME N when LABEL is NULL. */
void	metrics_sample(struct evbuffer *, const char *name, const char *label,
	    const char *value, uint64_t n);

/* A histogram with fixed upper bounds (in seconds), cumulated when printed. */
#define METRICS_BUCKETS_MAX	12
struct metrics_histogram {
	const double	*bounds;	/* ascending, nbounds of them */
	int		 nbounds;
	uint64_t	 bucket[METRICS_BUCKETS_MAX];	/* not cumulative */
	uint64_t	 count;
	double		 sum;
};
void	metrics_observe(struct metrics_histogram *, double);
void	metrics_histogram_print(struct evbuffer *, const char *name,
	    const char *help, const struct metrics_histogram *);

#endif
