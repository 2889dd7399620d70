/* metrics.c — the Prometheus text format for the roles' counters; see metrics.h. */
#include <stdio.h>

#include <event2/buffer.h>

#include "lib/metrics.h"

void
metrics_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# TYPE %s %s\n# HELP %s %s\n", name, type,
	    name, help);
}

void
metrics_sample(struct evbuffer *out, const char *name, const char *label,
    const char *value, uint64_t n)
{
	if (label != NULL)
		evbuffer_add_printf(out, "%s{%s=\"%s\"} %llu\n", name, label,
		    value, (unsigned long long)n);
	else
		evbuffer_add_printf(out, "%s %llu\n", name,
		    (unsigned long long)n);
}

void
metrics_observe(struct metrics_histogram *h, double v)
{
	int	 i;

	for (i = 0; i < h->nbounds && i < METRICS_BUCKETS_MAX; i++)
		if (v <= h->bounds[i]) {
			h->bucket[i]++;
			break;
		}
	h->count++;
	h->sum += v;
}

void
metrics_histogram_print(struct evbuffer *out, const char *name,
    const char *help, const struct metrics_histogram *h)
{
	uint64_t	 cum = 0;
	int		 i;

	metrics_family(out, name, "histogram", help);
	for (i = 0; i < h->nbounds && i < METRICS_BUCKETS_MAX; i++) {
		cum += h->bucket[i];
		evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
		    h->bounds[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n"
	    "%s_count %llu\n", name, (unsigned long long)h->count, name,
	    h->sum, name, (unsigned long long)h->count);
}
