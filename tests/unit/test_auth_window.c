/* test_auth_window.c — the leaky-bucket windows (auth/window.c) at their
 * edges, and the counters' store (auth/store.c) across a reopen. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/store.h"
#include "auth/window.h"

#include "tests/unit/check_main.h"
#include "tests/unit/test_store_util.h"

#define T0	1795000000000LL		/* ms since the epoch, any will do */

START_TEST(test_burst_then_refuse)
{
	struct window		 w;
	struct window_rate	 r = { 3, 60000 };	/* 3 per minute */
	int64_t			 wait;
	int			 i;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < 3; i++) {
		ck_assert(window_check(&w, &r, 1, T0, NULL));
		window_charge(&w, &r, 1, T0);
	}
	ck_assert_uint_eq(window_used(&w, &r, T0), 3);
	ck_assert(!window_check(&w, &r, 1, T0, &wait));
	/* One frees after a third of the window, not a millisecond before. */
	ck_assert_int_eq(wait, 20000);
	ck_assert(!window_check(&w, &r, 1, T0 + 19999, &wait));
	ck_assert_int_eq(wait, 1);
	ck_assert(window_check(&w, &r, 1, T0 + 20000, NULL));
	ck_assert(!window_check(&w, &r, 2, T0 + 20000, &wait));
	ck_assert_int_eq(wait, 20000);
	/* The whole window later, all of it is free again. */
	ck_assert(window_check(&w, &r, 3, T0 + 60000, NULL));
	ck_assert(!window_check(&w, &r, 3, T0 + 59999, NULL));
	ck_assert_uint_eq(window_used(&w, &r, T0 + 60000), 0);
	ck_assert_int_eq(w.idle_ms, T0 + 60000);
}
END_TEST

START_TEST(test_edges)
{
	struct window		 w;
	struct window_rate	 none = { 0, 60000 }, one = { 1, 1000 };
	struct window_rate	 big = { UINT32_MAX, (int64_t)INT32_MAX * 1000 };
	int64_t			 wait;

	memset(&w, 0, sizeof(w));
	/* count 0: no limit, nothing counted */
	ck_assert(window_check(&w, &none, 1000000, T0, NULL));
	window_charge(&w, &none, 5, T0);
	ck_assert_uint_eq(window_used(&w, &none, T0), 0);
	/* more than the limit at once: never within a window */
	ck_assert(!window_check(&w, &one, 2, T0, &wait));
	ck_assert_int_eq(wait, WINDOW_NEVER);
	/* n = 0 always fits */
	window_charge(&w, &one, 1, T0);
	ck_assert(window_check(&w, &one, 0, T0, NULL));
	ck_assert(!window_check(&w, &one, 1, T0 + 999, NULL));
	ck_assert(window_check(&w, &one, 1, T0 + 1000, NULL));
	/* a clock that goes back drains nothing and does not crash */
	ck_assert(!window_check(&w, &one, 1, T0 - 5000, &wait));
	ck_assert_int_eq(wait, 1000);
	/* over-charging is capped: the debt is at most one more window */
	window_charge(&w, &one, 1000000, T0);
	ck_assert(!window_check(&w, &one, 1, T0 + 1999, NULL));
	ck_assert(window_check(&w, &one, 1, T0 + 2000, NULL));
	/* the largest limits the parser allows do not overflow */
	memset(&w, 0, sizeof(w));
	window_charge(&w, &big, UINT32_MAX, T0);
	ck_assert(!window_check(&w, &big, 1, T0, &wait));
	ck_assert_int_gt(wait, 0);
	ck_assert(window_check(&w, &big, 1, T0 + wait, NULL));
	ck_assert_uint_eq(window_used(&w, &big, T0), UINT32_MAX);
}
END_TEST

/* Byte quotas: counts and charges in octets, up to the parser's largest. */
START_TEST(test_byte_rates)
{
	struct window		 w;
	struct window_rate	 r = { 3072, 10000 };	/* 3K per 10 s */
	struct window_rate	 big = { (uint64_t)1 << 40,
				    (int64_t)INT32_MAX * 1000 };
	int64_t			 wait;

	memset(&w, 0, sizeof(w));
	ck_assert(window_check(&w, &r, 3072, T0, NULL));
	ck_assert(!window_check(&w, &r, 3073, T0, &wait));
	ck_assert_int_eq(wait, WINDOW_NEVER);
	/* one message overshoots the budget: nothing fits until it drains */
	window_charge(&w, &r, 2000, T0);
	ck_assert(window_check(&w, &r, 1000, T0, NULL));
	window_charge(&w, &r, 2000, T0);
	ck_assert_uint_eq(window_used(&w, &r, T0), 4000);
	ck_assert(!window_check(&w, &r, 1, T0, &wait));
	/* 929 octets over at 3072 per 10000 ms: 3024.08 ms, rounded up */
	ck_assert_int_eq(wait, 3025);
	ck_assert(window_check(&w, &r, 1, T0 + 3025, NULL));
	ck_assert(!window_check(&w, &r, 1, T0 + 3024, NULL));
	/* a 256 TiB charge on a 1 TiB per 68 years limit does not overflow */
	memset(&w, 0, sizeof(w));
	window_charge(&w, &big, (uint64_t)1 << 48, T0);
	ck_assert_uint_eq(window_used(&w, &big, T0), (uint64_t)1 << 41);
	ck_assert(!window_check(&w, &big, 1, T0, &wait));
	ck_assert_int_gt(wait, 0);
	ck_assert(window_check(&w, &big, 1, T0 + wait, NULL));
}
END_TEST

START_TEST(test_uneven_division)
{
	struct window		 w;
	struct window_rate	 r = { 7, 1000 };	/* 1000/7 is no integer */
	int			 i;

	memset(&w, 0, sizeof(w));
	/* exactly 7 fit in a burst, and exactly 7 per window over time */
	for (i = 0; i < 7; i++) {
		ck_assert(window_check(&w, &r, 1, T0, NULL));
		window_charge(&w, &r, 1, T0);
	}
	ck_assert(!window_check(&w, &r, 1, T0, NULL));
	ck_assert(!window_check(&w, &r, 1, T0 + 142, NULL));
	ck_assert(window_check(&w, &r, 1, T0 + 143, NULL));
	ck_assert(window_check(&w, &r, 7, T0 + 1000, NULL));
}
END_TEST

START_TEST(test_store_reopen)
{
	char		 dir[] = "/tmp/test_auth_store.XXXXXX";
	struct window	 w, back;
	int64_t		 expired = 5;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(store_open(dir, NULL), 0);
	memset(&w, 0, sizeof(w));
	w.idle_ms = INT64_MAX;
	w.level_lo = 42;
	ck_assert_int_eq(store_put("m/alice@example.org", &w, sizeof(w)), 0);
	ck_assert_int_eq(store_put("c/192.0.2.1", &expired, sizeof(expired)), 0);
	ck_assert_int_eq(store_get("nothing", &back, sizeof(back)), 1);
	/* a record of another size is not handed out */
	ck_assert_int_eq(store_get("c/192.0.2.1", &back, sizeof(back)), 1);
	store_close();
	ck_assert_int_eq(store_open(dir, NULL), 0);
	ck_assert_int_eq(store_get("m/alice@example.org", &back, sizeof(back)), 0);
	ck_assert_uint_eq(back.level_lo, 42);
	ck_assert_uint_eq(store_sweep(1000), 1);	/* the expired one */
	ck_assert_int_eq(store_get("m/alice@example.org", &back, sizeof(back)), 0);
	ck_assert_int_eq(store_del("m/alice@example.org"), 0);
	ck_assert_int_eq(store_get("m/alice@example.org", &back, sizeof(back)), 1);
	ck_assert_int_eq(store_put("", &w, sizeof(w)), -1);
	store_close();
	store_dir_remove(dir);
}
END_TEST

/*
 * With an event loop, the writes of one turn share a transaction: read
 * back in the turn, committed once when the turn's active callbacks are
 * done (the loop does not wait with them pending), kept across a reopen.
 */
START_TEST(test_store_turn)
{
	char			 dir[] = "/tmp/test_auth_store.XXXXXX";
	struct event_base	*base;
	struct window		 w, back;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_int_eq(store_open(dir, base), 0);
	memset(&w, 0, sizeof(w));
	w.idle_ms = INT64_MAX;
	w.level_lo = 7;
	ck_assert_int_eq(store_put("m/a@example.org", &w, sizeof(w)), 0);
	w.level_lo = 8;
	ck_assert_int_eq(store_put("m/b@example.org", &w, sizeof(w)), 0);
	ck_assert_int_eq(store_del("m/b@example.org"), 0);
	ck_assert_uint_eq(store_pending(), 3);
	ck_assert_int_eq(store_get("m/a@example.org", &back, sizeof(back)), 0);
	ck_assert_uint_eq(back.level_lo, 7);
	ck_assert_int_eq(store_get("m/b@example.org", &back, sizeof(back)), 1);
	/* One turn: the commit was made active, so this does not block. */
	ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_uint_eq(store_pending(), 0);
	ck_assert_int_eq(store_get("m/a@example.org", &back, sizeof(back)), 0);
	ck_assert_uint_eq(back.level_lo, 7);
	/* A write left pending is committed by store_close. */
	w.level_lo = 9;
	ck_assert_int_eq(store_put("m/c@example.org", &w, sizeof(w)), 0);
	ck_assert_uint_eq(store_pending(), 1);
	store_close();
	event_base_free(base);
	ck_assert_int_eq(store_open(dir, NULL), 0);
	ck_assert_int_eq(store_get("m/a@example.org", &back, sizeof(back)), 0);
	ck_assert_uint_eq(back.level_lo, 7);
	ck_assert_int_eq(store_get("m/b@example.org", &back, sizeof(back)), 1);
	ck_assert_int_eq(store_get("m/c@example.org", &back, sizeof(back)), 0);
	ck_assert_uint_eq(back.level_lo, 9);
	/* Without a loop each write is committed at once. */
	ck_assert_int_eq(store_put("m/d@example.org", &w, sizeof(w)), 0);
	ck_assert_uint_eq(store_pending(), 0);
	store_close();
	store_dir_remove(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("auth_window");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_burst_then_refuse);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_byte_rates);
	tcase_add_test(tc, test_uneven_division);
	tcase_add_test(tc, test_store_reopen);
	tcase_add_test(tc, test_store_turn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
