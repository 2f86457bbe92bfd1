/* SPDX-License-Identifier: MIT */
/*
 * test_uidlimits.c - the broker's per-uid connection counts and grant
 * token buckets (broker/pure/uidlimits.c): caps, burst then refusal, refill at
 * the rate, buckets kept across a reconnect, the bounded table, and the
 * budget of the uids no rule matches.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "uidlimits.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int grants(struct uid_entry *e, const struct rb_limits *l, int max)
{
	int n = 0;

	while (n < max && limits_take_grant(e, l))
		n++;
	return n;
}

static void test_connection_cap(void **state)
{
	struct uid_entry *e[4], *other, *x;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(limits_conn_open(1000, 3, &e[i]), 0);
	assert_ptr_equal(e[0], e[1]);
	assert_int_equal(limits_conn_open(1000, 3, &x), -EUSERS);
	/* Another uid has its own count; 0 is unlimited. */
	assert_int_equal(limits_conn_open(1001, 3, &other), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(limits_conn_open(1002, 0, &x), 0);
	for (int i = 0; i < 100; i++)
		limits_conn_close(x);
	/* One leaves: one may come. */
	limits_conn_close(e[2]);
	assert_int_equal(limits_conn_open(1000, 3, &e[3]), 0);
	for (int i = 0; i < 2; i++)
		limits_conn_close(e[i]);
	limits_conn_close(e[3]);
	limits_conn_close(other);
	/* Full buckets are not kept: nothing left. */
	assert_int_equal(limits_entries(), 0);
}

static void test_burst_then_rate(void **state)
{
	struct rb_limits l = { .rate = 100, .burst = 20 };
	struct uid_entry *e;
	int n;

	(void)state;
	assert_int_equal(limits_conn_open(2000, 0, &e), 0);
	n = grants(e, &l, 1000);
	assert_true(n >= 20 && n <= 21);
	assert_false(limits_take_grant(e, &l));
	sleep_ms(200); /* 20 more at 100/s */
	n = grants(e, &l, 1000);
	assert_true(n >= 18 && n <= 22);
	/* Rate 0: unlimited; burst 0 means 1 at a time. */
	assert_int_equal(grants(e, &(struct rb_limits){ .rate = 0 }, 5000), 5000);
	limits_conn_close(e);
}

static void test_bucket_survives_reconnect(void **state)
{
	struct rb_limits l = { .rate = 1, .burst = 5 };
	size_t before = limits_entries();
	struct uid_entry *e;

	(void)state;
	assert_int_equal(limits_conn_open(3000, 0, &e), 0);
	assert_int_equal(grants(e, &l, 100), 5);
	limits_conn_close(e);
	assert_int_equal(limits_entries(), before + 1); /* kept: not refilled yet */
	assert_int_equal(limits_conn_open(3000, 0, &e), 0);
	assert_false(limits_take_grant(e, &l)); /* no fresh burst by reconnecting */
	limits_conn_close(e);
}

static void test_table_is_bounded(void **state)
{
	struct rb_limits l = { .rate = 1, .burst = 1 };

	(void)state;
	/* Many uids leave with an empty bucket: at most LIMITS_IDLE_MAX are
	 * remembered. */
	for (uid_t u = 10000; u < 10000 + 3 * LIMITS_IDLE_MAX; u++) {
		struct uid_entry *e;

		assert_int_equal(limits_conn_open(u, 0, &e), 0);
		assert_true(limits_take_grant(e, &l));
		limits_conn_close(e);
		assert_true(limits_entries() <= LIMITS_IDLE_MAX + 1);
	}
}

/* Uids no rule matches: a small cap each, and one total for all of them,
 * while a matched uid's connections are not counted in it. */
static void test_unmatched_budget(void **state)
{
	struct uid_entry *e[8], *m, *x;
	size_t before = limits_entries();
	int n = 0;

	(void)state;
	assert_int_equal(limits_unmatched(), 0);
	/* 4 each: a fifth of one uid is refused for the uid. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(limits_conn_open_unmatched(200000, 4, 6, &e[n++]), 0);
	assert_int_equal(limits_conn_open_unmatched(200000, 4, 6, &x), -EUSERS);
	/* Two of another uid reach the total of 6; a third uid is refused for
	 * the total, although it holds nothing. */
	assert_int_equal(limits_conn_open_unmatched(200001, 4, 6, &e[n++]), 0);
	assert_int_equal(limits_conn_open_unmatched(200001, 4, 6, &e[n++]), 0);
	assert_int_equal(limits_unmatched(), 6);
	assert_int_equal(limits_conn_open_unmatched(200002, 4, 6, &x), -ENOSPC);
	/* A matched uid is not in the budget. */
	assert_int_equal(limits_conn_open(1000, 64, &m), 0);
	assert_int_equal(limits_unmatched(), 6);
	/* One leaves: one may come. */
	limits_conn_close_unmatched(e[--n]);
	assert_int_equal(limits_conn_open_unmatched(200002, 4, 6, &e[n++]), 0);
	while (n > 0)
		limits_conn_close_unmatched(e[--n]);
	limits_conn_close(m);
	assert_int_equal(limits_unmatched(), 0);
	assert_int_equal(limits_entries(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_bucket_survives_reconnect),
		cmocka_unit_test(test_table_is_bounded),
		cmocka_unit_test(test_unmatched_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
