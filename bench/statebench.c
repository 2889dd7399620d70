/*
 * statebench.c — the cost of one counter operation in the auth role's
 * state store (auth/state.h), LMDB or Redis, measured in this process
 * alone: `make bench` runs it (scenario "state").  Built by run.sh against
 * build/libsubmitd.a, as tests/dkim/dkim_bench.c is.
 *
 *     statebench lmdb DIR N         N check-and-charge operations
 *     statebench redis URL N [CA]   (STATE_TAKE of 1 under a limit never
 *                                   reached), one after the other, then N
 *                                   with 10 on their way at once; CA for
 *                                   a rediss:// URL
 *
 * Prints, per operation: the CPU of this process (user+system, the auth
 * role's share; redis-server's own is not in it) and the wall time of one
 * round trip, serial and 10 at once.  CPU is what the machine's load
 * disturbs least.
 */
#include <sys/resource.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "auth/state.h"
#include "auth/window.h"
#include "conf/conf.h"
#include "lib/log.h"

static struct event_base	*base;
static struct window_rate	 rate = { 1000000000, 3600 * 1000 };
static long			 todo, inflight, done, down;

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void	answered(void *, const struct state_answer *);

static void
next(void)
{
	if (todo == 0)
		return;
	todo--;
	inflight++;
	state_window("m/statebench", &rate, STATE_TAKE, 1, answered, NULL);
}

static void
answered(void *arg, const struct state_answer *a)
{
	(void)arg;
	inflight--;
	done++;
	if (a->down)
		down++;
	next();
	if (todo == 0 && inflight == 0)
		event_base_loopbreak(base);
}

/* N operations, K on their way at once; prints one line. */
static void
run(const char *store, long n, int k, int quiet)
{
	double	 t0, c0, t, c;
	int	 i;

	todo = n;
	done = down = 0;
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < k; i++)
		next();
	if (inflight > 0)
		event_base_dispatch(base);
	t = now_s() - t0;
	c = cpu_s() - c0;
	if (quiet)
		return;
	printf("state %-6s %2d at once: %ld ops, CPU %.1f us/op, wall %.1f "
	    "us/op%s\n", store, k, done, c * 1e6 / done, t * 1e6 / done,
	    down ? " (some answered DOWN)" : "");
}

static void
probe_answered(void *arg, const struct state_answer *a)
{
	*(int *)arg = a->down ? 2 : 1;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

int
main(int argc, char **argv)
{
	struct conf		 c;
	struct conf_redis	*r;
	struct timeval		 tv = { 0, 100000 };
	struct event		*ev;
	const char		*store;
	long			 n;
	int			 ready = 0, i;

	if (argc < 4 || argc > 5 || (strcmp(argv[1], "lmdb") != 0 &&
	    strcmp(argv[1], "redis") != 0) || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: statebench lmdb DIR N | statebench "
		    "redis URL N [CA]\n");
		return 2;
	}
	log_init(1, 0);
	if ((base = event_base_new()) == NULL)
		return 1;
	memset(&c, 0, sizeof(c));
	if (strcmp(argv[1], "redis") == 0) {
		if ((r = calloc(1, sizeof(*r))) == NULL ||
		    conf_redis_parse(argv[2], r) == -1) {
			fprintf(stderr, "statebench: bad URL %s\n", argv[2]);
			return 2;
		}
		r->url = argv[2];
		r->ca = argc == 5 ? argv[4] : NULL;
		c.state_redis = r;
	} else
		c.state_dir = argv[2];
	if (state_open(&c, base) == -1)
		return 1;
	/* Redis: until it answers (at most 10 s). */
	ev = event_new(base, -1, 0, tick, NULL);
	for (i = 0; i < 100 && ready != 1; i++) {
		ready = 0;
		state_window("m/statebench-probe", &rate, STATE_PEEK, 1,
		    probe_answered, &ready);
		if (ready == 0 || ready == 2) {
			evtimer_add(ev, &tv);
			event_base_dispatch(base);
		}
	}
	event_free(ev);
	if (ready != 1) {
		fprintf(stderr, "statebench: the store does not answer\n");
		return 1;
	}
	store = strcmp(argv[1], "lmdb") == 0 ? "lmdb" :
	    c.state_redis->tls ? "rediss" : "redis";
	run(store, n / 10, 1, 1);	/* warm up */
	run(store, n, 1, 0);
	run(store, n, 10, 0);
	state_close();
	event_base_free(base);
	return 0;
}
