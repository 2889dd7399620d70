/*
 * test_workq.c — lib/workq.c: WORK runs on another thread, DONE on the
 * loop and never inside workq_run; every job's DONE comes once; drain
 * waits for the work under way; free drops what is left.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/workq.h"

#include "tests/unit/check_main.h"

#define NJOBS	200

struct job {
	pthread_t	 ran_on;
	int		 worked, done;
	int		*ndone;
	int		 sleep_ms;
};

static pthread_t	 loop_thread;

static void
work(void *arg)
{
	struct job	*j = arg;

	if (j->sleep_ms > 0) {
		struct timespec	 ts = { 0, j->sleep_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	j->ran_on = pthread_self();
	j->worked = 1;
}

static void
done(void *arg)
{
	struct job	*j = arg;

	ck_assert(pthread_equal(pthread_self(), loop_thread));
	ck_assert_int_eq(j->worked, 1);
	j->done++;
	(*j->ndone)++;
}

static void
run_until(struct event_base *base, const int *n, int want)
{
	time_t	 t0 = time(NULL);

	while (*n < want && time(NULL) - t0 < 60)
		event_base_loop(base, EVLOOP_ONCE);
}

START_TEST(test_jobs_run_off_the_loop)
{
	struct event_base	*base = event_base_new();
	struct workq		*wq = workq_new(base, 4, "test");
	static struct job	 jobs[NJOBS];
	int			 ndone = 0, i;

	loop_thread = pthread_self();
	ck_assert_ptr_nonnull(wq);
	for (i = 0; i < NJOBS; i++) {
		jobs[i].ndone = &ndone;
		jobs[i].sleep_ms = i % 10 == 0 ? 2 : 0;
		ck_assert_int_eq(workq_run(wq, work, done, &jobs[i]), 0);
	}
	ck_assert_int_eq(ndone, 0);	/* never inside workq_run */
	run_until(base, &ndone, NJOBS);
	ck_assert_int_eq(ndone, NJOBS);
	for (i = 0; i < NJOBS; i++) {
		ck_assert_int_eq(jobs[i].done, 1);
		ck_assert(!pthread_equal(jobs[i].ran_on, loop_thread));
	}
	workq_free(wq);
	event_base_free(base);
}
END_TEST

START_TEST(test_drain_then_free)
{
	struct event_base	*base = event_base_new();
	struct workq		*wq = workq_new(base, 1, "test");
	static struct job	 jobs[5];
	int			 ndone = 0, i;

	loop_thread = pthread_self();
	for (i = 0; i < 5; i++) {
		jobs[i].ndone = &ndone;
		jobs[i].sleep_ms = 20;
		ck_assert_int_eq(workq_run(wq, work, done, &jobs[i]), 0);
	}
	workq_drain(wq);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(jobs[i].worked, 1);
	ck_assert_int_eq(ndone, 0);	/* DONEs come from the loop */
	run_until(base, &ndone, 5);
	ck_assert_int_eq(ndone, 5);
	/* jobs left over at free: dropped, no DONE */
	for (i = 0; i < 5; i++) {
		jobs[i].worked = 0;
		ck_assert_int_eq(workq_run(wq, work, done, &jobs[i]), 0);
	}
	workq_free(wq);
	ck_assert_int_eq(ndone, 5);
	/* a workq never given a job starts no thread */
	wq = workq_new(base, 2, "idle");
	ck_assert_ptr_nonnull(wq);
	workq_free(wq);
	ck_assert_ptr_null(workq_new(base, 0, "none"));
	event_base_free(base);
}
END_TEST

static Suite *
workq_suite(void)
{
	Suite	*s = suite_create("workq");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_jobs_run_off_the_loop);
	tcase_add_test(tc, test_drain_then_free);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(workq_suite());
}
