/* test_queue_sched.c — retry arithmetic, queue IDs and the scheduler's heap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "queue/queue.h"
#include "queue/queue_id.h"
#include "queue/queue_sched.h"

#include "tests/unit/check_main.h"

START_TEST(backoff_doubles_from_min)
{
	ck_assert_int_eq(queue_backoff(300, 14400, 1, 0), 300);
	ck_assert_int_eq(queue_backoff(300, 14400, 2, 0), 600);
	ck_assert_int_eq(queue_backoff(300, 14400, 3, 0), 1200);
	ck_assert_int_eq(queue_backoff(300, 14400, 6, 0), 9600);
	ck_assert_int_eq(queue_backoff(300, 14400, 0, 0), 300);
}
END_TEST

START_TEST(backoff_capped_at_max)
{
	ck_assert_int_eq(queue_backoff(300, 14400, 7, 0), 14400);
	ck_assert_int_eq(queue_backoff(300, 14400, 8, 0), 14400);
	ck_assert_int_eq(queue_backoff(300, 14400, 1000000, 0), 14400);
	ck_assert_int_eq(queue_backoff(300, 14400, UINT32_MAX, 0), 14400);
	/* no overflow with huge bounds */
	ck_assert_int_eq(queue_backoff(INT32_MAX, INT32_MAX, 40, 0), INT32_MAX);
	ck_assert_int_eq(queue_backoff(1, INT32_MAX, 100, 0), INT32_MAX);
	/* max below min: min wins */
	ck_assert_int_eq(queue_backoff(600, 60, 5, 0), 600);
	/* equal bounds */
	ck_assert_int_eq(queue_backoff(60, 60, 1, 0), 60);
}
END_TEST

START_TEST(backoff_jitter)
{
	ck_assert_int_eq(queue_backoff(300, 14400, 1, 100), 330);
	ck_assert_int_eq(queue_backoff(300, 14400, 1, -100), 270);
	ck_assert_int_eq(queue_backoff(300, 14400, 1, 50), 315);
	ck_assert_int_eq(queue_backoff(14400, 14400, 9, 100), 15840);
	ck_assert_int_eq(queue_backoff(14400, 14400, 9, -100), 12960);
	/* out-of-range randomness is clamped to +-10% */
	ck_assert_int_eq(queue_backoff(300, 14400, 1, 1000), 330);
	ck_assert_int_eq(queue_backoff(300, 14400, 1, -1000), 270);
	/* never below one second */
	ck_assert_int_eq(queue_backoff(1, 1, 1, -100), 1);
	ck_assert_int_eq(queue_backoff(0, 0, 1, -100), 1);
	ck_assert_int_eq(queue_backoff(-5, 0, 1, 0), 1);
	/* large values keep the precision */
	ck_assert_int_eq(queue_backoff(INT32_MAX, INT32_MAX, 1, 100),
	    (time_t)INT32_MAX + INT32_MAX / 10);
}
END_TEST

START_TEST(id_format)
{
	char	 id[QUEUE_ID_SIZE];
	size_t	 i;

	queue_id_make(id, 0, 0);
	ck_assert_str_eq(id, "0000000000000000000");
	queue_id_make(id, 0x0123456789ABCULL, 0xDEF012);
	ck_assert_str_eq(id, "0123456789ABCDEF012");
	/* only 24 bits of randomness, 52 bits of time */
	queue_id_make(id, 0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFF);
	ck_assert_str_eq(id, "FFFFFFFFFFFFFFFFFFF");
	queue_id_new(id);
	ck_assert_uint_eq(strlen(id), QUEUE_ID_LEN);
	ck_assert(queue_id_valid(id));
	for (i = 0; i < QUEUE_ID_LEN; i++)
		ck_assert(strchr("0123456789ABCDEF", id[i]) != NULL);
}
END_TEST

START_TEST(id_valid)
{
	ck_assert(queue_id_valid("0123456789ABCDEF012"));
	ck_assert(!queue_id_valid("0123456789abcdef012"));
	ck_assert(!queue_id_valid("0123456789ABCDEF01"));
	ck_assert(!queue_id_valid("0123456789ABCDEF0123"));
	ck_assert(!queue_id_valid("0123456789ABCDEF01G"));
	ck_assert(!queue_id_valid("0123456789ABCDEF01."));
	ck_assert(!queue_id_valid("../../etc/passwd.xx"));
	ck_assert(!queue_id_valid(""));
}
END_TEST

START_TEST(id_sorts_by_time)
{
	char	 a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE], prev[QUEUE_ID_SIZE];
	int	 i;

	queue_id_make(a, 1764427847000000ULL, 0xFFFFFF);
	queue_id_make(b, 1764427847000001ULL, 0);
	ck_assert_int_lt(strcmp(a, b), 0);
	queue_id_make(a, 0xFFFFFULL, 0);
	queue_id_make(b, 0x100000ULL, 0);
	ck_assert_int_lt(strcmp(a, b), 0);
	/* today's IDs: the time part starts with the current era */
	queue_id_new(prev);
	for (i = 0; i < 10000; i++) {
		queue_id_new(a);
		ck_assert_int_lt(strncmp(prev, a, 13), 0);
		ck_assert_str_ne(prev, a);
		memcpy(prev, a, sizeof(a));
	}
}
END_TEST

static struct qmsg *
msg(time_t next_try, const char *id)
{
	struct qmsg	*m = calloc(1, sizeof(*m));

	m->next_try = next_try;
	strcpy(m->id, id);
	return m;
}

START_TEST(heap_order)
{
	struct qheap	 h = { 0 };
	struct qmsg	*m, *mid;
	time_t		 last = 0;
	char		 id[QUEUE_ID_SIZE];
	int		 i, n = 0;

	srandom(7);
	for (i = 0; i < 1000; i++) {
		queue_id_make(id, (uint64_t)i, 0);
		ck_assert_int_eq(qheap_push(&h, msg(random() % 100, id)), 0);
	}
	mid = h.v[500];
	qheap_remove(&h, mid);
	free(mid);
	ck_assert_uint_eq(h.n, 999);
	while ((m = qheap_pop(&h)) != NULL) {
		ck_assert_int_ge(m->next_try, last);
		last = m->next_try;
		free(m);
		n++;
	}
	ck_assert_int_eq(n, 999);
	ck_assert_ptr_null(qheap_top(&h));
	qheap_free(&h);
}
END_TEST

START_TEST(heap_ties_by_id)
{
	struct qheap	 h = { 0 };
	struct qmsg	*m;

	qheap_push(&h, msg(5, "0000000000003000000"));
	qheap_push(&h, msg(5, "0000000000001000000"));
	qheap_push(&h, msg(4, "0000000000009000000"));
	qheap_push(&h, msg(5, "0000000000002000000"));
	m = qheap_pop(&h);
	ck_assert_str_eq(m->id, "0000000000009000000");
	free(m);
	m = qheap_pop(&h);
	ck_assert_str_eq(m->id, "0000000000001000000");
	free(m);
	m = qheap_pop(&h);
	ck_assert_str_eq(m->id, "0000000000002000000");
	free(m);
	qheap_free(&h);		/* frees the last one */
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("queue_sched");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, backoff_doubles_from_min);
	tcase_add_test(tc, backoff_capped_at_max);
	tcase_add_test(tc, backoff_jitter);
	tcase_add_test(tc, id_format);
	tcase_add_test(tc, id_valid);
	tcase_add_test(tc, id_sorts_by_time);
	tcase_add_test(tc, heap_order);
	tcase_add_test(tc, heap_ties_by_id);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
