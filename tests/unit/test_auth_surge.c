/*
 * test_auth_surge.c — alert user-surge (issue 15): the rule (a history
 * in, a decision out: no history, min, the exact threshold, a short
 * history, huge counts), the history's buckets (auth/hist.c) and the
 * LMDB side of state_hist_add across a reopen and a sweep.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/hist.h"
#include "auth/state.h"
#include "auth/store.h"
#include "auth/surge.h"
#include "conf/conf.h"

#include "tests/unit/check_main.h"
#include "tests/unit/test_store_util.h"

#define T0	1795000000000LL		/* ms since the epoch, a bucket start */
#define B	4000			/* bucket ms */

static int
check(uint64_t factor, uint64_t min, const uint64_t *h, size_t n,
    struct surge_result *r)
{
	struct surge_rule	 rule = { factor, min };

	return surge_check(&rule, h, n, r);
}

START_TEST(test_no_history)
{
	struct surge_result	 r;
	uint64_t		 h[11] = { 3 };

	/* a login never seen: below min, nothing; at min, a surge */
	ck_assert_int_eq(check(3, 4, h, 11, &r), 0);
	ck_assert_uint_eq(r.current, 3);
	ck_assert_uint_eq(r.windows, 0);
	ck_assert_uint_eq(r.sum, 0);
	ck_assert_uint_eq(r.average_x100, 0);
	h[0] = 4;
	ck_assert_int_eq(check(3, 4, h, 11, &r), 1);
	ck_assert_uint_eq(r.windows, 0);
	/* only the current window kept */
	ck_assert_int_eq(check(3, 4, h, 1, &r), 1);
	/* nothing at all */
	ck_assert_int_eq(check(3, 1, h, 0, &r), 0);
	ck_assert_uint_eq(r.current, 0);
	/* a current window of 0 never alerts, whatever min */
	h[0] = 0;
	ck_assert_int_eq(check(2, 0, h, 11, &r), 0);
	ck_assert_int_eq(check(3, 1, h, 11, NULL), 0);
}
END_TEST

START_TEST(test_exact_threshold)
{
	struct surge_result	 r;
	uint64_t		 h[11] = { 3, 1, 1, 1 };

	/* an average of 1 over 3 windows, 3x: 3 is not more than 3 */
	ck_assert_int_eq(check(3, 3, h, 11, &r), 0);
	ck_assert_uint_eq(r.windows, 3);
	ck_assert_uint_eq(r.sum, 3);
	ck_assert_uint_eq(r.average_x100, 100);
	h[0] = 4;
	ck_assert_int_eq(check(3, 3, h, 11, &r), 1);
	/* 2x an average of 2/3: 4/3 is the threshold, 2 is over it */
	{
		uint64_t	 g[4] = { 2, 1, 0, 1 };

		ck_assert_int_eq(check(2, 1, g, 4, &r), 1);
		ck_assert_uint_eq(r.average_x100, 66);
		g[0] = 1;
		ck_assert_int_eq(check(2, 1, g, 4, &r), 0);
	}
	/* exactly: 9 * 3 windows == 3x * 9 messages */
	{
		uint64_t	 g[4] = { 9, 2, 3, 4 };

		ck_assert_int_eq(check(3, 1, g, 4, &r), 0);
		g[0] = 10;
		ck_assert_int_eq(check(3, 1, g, 4, &r), 1);
	}
}
END_TEST

START_TEST(test_min)
{
	struct surge_result	 r;
	uint64_t		 h[5] = { 9, 1, 0, 0, 0 };

	/* 9x the average, but fewer than min */
	ck_assert_int_eq(check(2, 10, h, 5, &r), 0);
	h[0] = 10;
	ck_assert_int_eq(check(2, 10, h, 5, &r), 1);
	/* min reached but not over the factor: a heavy login's usual rate */
	{
		uint64_t	 g[5] = { 100, 50, 60, 40, 50 };

		ck_assert_int_eq(check(2, 10, g, 5, &r), 0);
		ck_assert_uint_eq(r.average_x100, 5000);
		g[0] = 101;
		ck_assert_int_eq(check(2, 10, g, 5, &r), 1);
	}
}
END_TEST

/* The average is over the windows since the oldest that counted. */
START_TEST(test_short_history)
{
	struct surge_result	 r;
	uint64_t		 h[11] = { 5, 0, 2 };

	ck_assert_int_eq(check(3, 1, h, 11, &r), 1);	/* 5 > 3 * 1 */
	ck_assert_uint_eq(r.windows, 2);
	ck_assert_uint_eq(r.sum, 2);
	ck_assert_uint_eq(r.average_x100, 100);
	h[10] = 28;			/* the baseline's oldest window */
	ck_assert_int_eq(check(3, 1, h, 11, &r), 0);	/* 5 * 10 <= 3 * 30 */
	ck_assert_uint_eq(r.windows, 10);
	ck_assert_uint_eq(r.sum, 30);
	ck_assert_uint_eq(r.average_x100, 300);
	/* the current window is not its own baseline */
	{
		uint64_t	 g[3] = { 50, 0, 0 };

		ck_assert_int_eq(check(3, 51, g, 3, &r), 0);
		ck_assert_uint_eq(r.windows, 0);
	}
}
END_TEST

START_TEST(test_huge_counts)
{
	struct surge_result	 r;
	uint64_t		 h[4] = { UINT64_MAX, UINT64_MAX, UINT64_MAX,
			    UINT64_MAX };

	ck_assert_int_eq(check(1000, 1, h, 4, &r), 0);
	ck_assert_uint_eq(r.sum, UINT64_MAX);		/* saturated */
	ck_assert_uint_eq(r.windows, 3);
	ck_assert_uint_eq(r.average_x100, UINT64_MAX);
	h[1] = h[2] = 0;
	h[3] = 1;
	ck_assert_int_eq(check(1000, 1, h, 4, &r), 1);
	ck_assert_uint_eq(r.average_x100, 33);
}
END_TEST

START_TEST(test_hist_buckets)
{
	struct hist	 h;
	uint64_t	 out[HIST_MAX];

	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(hist_add(&h, B, 4, 1, T0 + 10, out), 0);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1] + out[2] + out[3], 0);
	ck_assert_int_eq(h.newest, T0 / B);
	ck_assert_int_eq(h.expires_ms, T0 + 4 * B);
	/* the same bucket, to its last millisecond */
	ck_assert_int_eq(hist_add(&h, B, 4, 2, T0 + B - 1, out), 0);
	ck_assert_uint_eq(out[0], 3);
	/* a look changes nothing */
	ck_assert_int_eq(hist_add(&h, B, 4, 0, T0 + B - 1, out), 0);
	ck_assert_uint_eq(out[0], 3);
	/* the next bucket, then one skipped */
	ck_assert_int_eq(hist_add(&h, B, 4, 1, T0 + B, out), 0);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1], 3);
	ck_assert_int_eq(hist_add(&h, B, 4, 5, T0 + 3 * B, out), 0);
	ck_assert_uint_eq(out[0], 5);
	ck_assert_uint_eq(out[1], 0);
	ck_assert_uint_eq(out[2], 1);
	ck_assert_uint_eq(out[3], 3);
	ck_assert_int_eq(h.expires_ms, T0 + 7 * B);
	/* the oldest falls off */
	ck_assert_int_eq(hist_add(&h, B, 4, 1, T0 + 4 * B, out), 0);
	ck_assert_uint_eq(out[3], 1);
	/* a clock that went back counts in the newest */
	ck_assert_int_eq(hist_add(&h, B, 4, 1, T0, out), 0);
	ck_assert_uint_eq(out[0], 2);
	ck_assert_int_eq(h.newest, T0 / B + 4);
	/* a pause longer than the history: all gone */
	ck_assert_int_eq(hist_add(&h, B, 4, 1, T0 + 100 * B, out), 0);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1] + out[2] + out[3], 0);
	/* another shape (the config changed): afresh */
	ck_assert_int_eq(hist_add(&h, B, 5, 1, T0 + 100 * B, out), 0);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_int_eq(hist_add(&h, 2 * B, 5, 1, T0 + 100 * B, out), 0);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(h.nbuckets, 5);
	/* a count that would wrap stays at the top */
	h.counts[0] = UINT64_MAX - 1;
	ck_assert_int_eq(hist_add(&h, 2 * B, 5, 7, T0 + 100 * B, out), 0);
	ck_assert_uint_eq(out[0], UINT64_MAX);
	/* out of range: refused, H untouched */
	ck_assert_int_eq(hist_add(&h, 0, 5, 1, T0, out), -1);
	ck_assert_int_eq(hist_add(&h, B, 0, 1, T0, out), -1);
	ck_assert_int_eq(hist_add(&h, B, HIST_MAX + 1, 1, T0, out), -1);
	ck_assert_int_eq(hist_add(&h, B, 5, 1, -1, out), -1);
	ck_assert_int_eq(hist_add(&h, 1, 5, 1, INT64_MAX, out), -1);
	ck_assert_uint_eq(h.bucket_ms, 2 * B);
	ck_assert_int_eq(hist_add(&h, B, HIST_MAX, 1, T0, NULL), 0);
	/* a hostile record of the right shape but a wild newest: afresh */
	memset(&h, 0, sizeof(h));
	h.bucket_ms = B;
	h.nbuckets = 4;
	h.newest = INT64_MAX;
	h.counts[0] = 99;
	ck_assert_int_eq(hist_add(&h, B, 4, 1, T0, out), 0);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_int_eq(h.newest, T0 / B);
}
END_TEST

static struct {
	int		 calls, down;
	size_t		 nhist;
	uint64_t	 hist[HIST_MAX];
} got;

static void
answer(void *arg, const struct state_answer *a)
{
	(void)arg;
	got.calls++;
	got.down = a->down;
	got.nhist = a->nhist;
	if (a->hist != NULL)
		memcpy(got.hist, a->hist, a->nhist * sizeof(uint64_t));
}

/* The LMDB store: counted, kept across a reopen, swept once expired. */
START_TEST(test_state_lmdb)
{
	char		 dir[] = "/tmp/test_auth_surge.XXXXXX";
	struct conf	 c;
	struct hist	 h;
	int64_t		 now = store_now_ms();

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&c, 0, sizeof(c));
	c.state_dir = dir;
	ck_assert_int_eq(state_open(&c, NULL), 0);
	memset(&got, 0, sizeof(got));
	state_hist_add("surge/alice@example.org", 3600000, 3, 1, answer, NULL);
	state_hist_add("surge/alice@example.org", 3600000, 3, 1, answer, NULL);
	ck_assert_int_eq(got.calls, 2);		/* LMDB: at once */
	ck_assert_int_eq(got.down, 0);
	ck_assert_uint_eq(got.nhist, 3);
	ck_assert_uint_eq(got.hist[0] + got.hist[1], 2);	/* an hour */
	state_close();
	ck_assert_int_eq(state_open(&c, NULL), 0);
	state_hist_add("surge/alice@example.org", 3600000, 3, 0, answer, NULL);
	ck_assert_int_eq(got.down, 0);
	ck_assert_uint_eq(got.hist[0] + got.hist[1], 2);
	/* another shape: afresh */
	state_hist_add("surge/alice@example.org", 3600000, 4, 0, answer, NULL);
	ck_assert_uint_eq(got.nhist, 4);
	ck_assert_uint_eq(got.hist[0] + got.hist[1], 0);
	/* out of range: down, not a crash */
	state_hist_add("surge/alice@example.org", 3600000, HIST_MAX + 1, 1,
	    answer, NULL);
	ck_assert_int_eq(got.down, 1);
	state_hist_add("", 3600000, 3, 1, answer, NULL);
	ck_assert_int_eq(got.down, 1);
	/* the record expires with its newest bucket */
	state_hist_add("surge/bob@example.org", 1000, 2, 1, answer, NULL);
	ck_assert_int_eq(got.down, 0);
	ck_assert_int_eq(store_get("surge/bob@example.org", &h,
	    hist_size(2)), 0);
	ck_assert_int_le(h.expires_ms, now + 10000);
	ck_assert_uint_eq(store_sweep(h.expires_ms), 1);
	ck_assert_int_eq(store_get("surge/bob@example.org", &h,
	    hist_size(2)), 1);
	state_close();
	store_dir_remove(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("auth_surge");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_no_history);
	tcase_add_test(tc, test_exact_threshold);
	tcase_add_test(tc, test_min);
	tcase_add_test(tc, test_short_history);
	tcase_add_test(tc, test_huge_counts);
	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_state_lmdb);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
