/* test_relay_pace.c — "relay limit messages N per WINDOW" bookkeeping. */
#include <check.h>

#include "relay/relay_pace.h"

#include "tests/unit/check_main.h"

START_TEST(no_limit)
{
	struct relay_pace	*p = relay_pace_new(2, 0, 3600);
	int			 i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(relay_pace_charge(p, 0, 100), 0);
	ck_assert_int_eq(relay_pace_wait(p, 0, 100), 0);
	relay_pace_free(p);
	ck_assert_int_eq(relay_pace_wait(NULL, 0, 100), 0);
}
END_TEST

START_TEST(sliding_window)
{
	struct relay_pace	*p = relay_pace_new(2, 3, 3600);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(relay_pace_wait(p, 0, 1000), 0);
	relay_pace_charge(p, 0, 1000);
	relay_pace_charge(p, 0, 1100);
	ck_assert_int_eq(relay_pace_wait(p, 0, 1200), 0);
	relay_pace_charge(p, 0, 1200);
	/* Three in the last hour: the next when the first is an hour old. */
	ck_assert_int_eq(relay_pace_wait(p, 0, 1300), 3300);
	ck_assert_int_eq(relay_pace_wait(p, 0, 4599), 1);
	ck_assert_int_eq(relay_pace_wait(p, 0, 4600), 0);
	relay_pace_charge(p, 0, 4600);
	/* Now the second one (1100) is the oldest of the last three. */
	ck_assert_int_eq(relay_pace_wait(p, 0, 4600), 100);
	/* Logins are counted apart. */
	ck_assert_int_eq(relay_pace_wait(p, 1, 4600), 0);
	/* An index out of range is never held back. */
	ck_assert_int_eq(relay_pace_wait(p, 2, 4600), 0);
	ck_assert_int_eq(relay_pace_charge(p, 2, 4600), 0);
	relay_pace_free(p);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("relay_pace");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, no_limit);
	tcase_add_test(tc, sliding_window);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
