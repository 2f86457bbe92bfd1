/* SPDX-License-Identifier: MIT */
/*
 * test_peerindex.c - what of a client's identity the broker keeps
 * (policy/peerindex.c): only the groups some match line names, so that
 * every decision stays the same with far less kept, and whether any rule
 * fits a client at all (the uids no rule matches get a budget of their
 * own).  Decisions with the filtered groups are compared with those on
 * the whole list.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "peerindex.h"

static const char text[] =
	"rule a {\n    match uid 1000\n    match gid 500 135000\n    allow inet icmp\n}\n"
	"rule b {\n    match gid 700\n    allow inet6 icmpv6\n}\n"
	"rule c {\n    match uid 2000 2001\n    allow inet icmp\n}\n";

static struct rb_policy *load(const char *t)
{
	struct rb_diags d = { 0 };
	struct rb_policy *p = NULL;

	assert_int_equal(rb_policy_parse(t, strlen(t), "test", NULL, &p, &d), 0);
	rb_diags_free(&d);
	return p;
}

static int decide(const struct rb_policy *p, const struct rb_peer *peer, int family)
{
	struct rb_query q = { .family = family, .type = SOCK_RAW,
			      .protocol = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6 };
	struct rb_decision dec;

	rb_policy_decide(p, peer, &q, &dec);
	return dec.verdict;
}

static void test_filter_keeps_what_matters(void **state)
{
	struct rb_policy *p = load(text);
	size_t n = 65536, kept;
	gid_t *all = calloc(n, sizeof(gid_t)), *f = calloc(n, sizeof(gid_t));
	uint32_t gen = peer_index_generation();

	(void)state;
	assert_non_null(all);
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		all[i] = 70000 + (gid_t)i; /* 70000 .. 135535: 135000 among them */
	all[10] = 700;
	memcpy(f, all, n * sizeof(gid_t));
	/* Before any load: everything is kept. */
	assert_int_equal(peer_index_filter(f, n), n);
	assert_true(peer_index_wants_groups());
	assert_int_equal(peer_index_load(p), 0);
	assert_true(peer_index_wants_groups());
	assert_int_equal(peer_index_generation(), gen + 1);
	kept = peer_index_filter(f, n);
	assert_int_equal(kept, 2);
	assert_int_equal(f[0], 700);
	assert_int_equal(f[1], 135000);
	/* Same decisions with the kept groups as with all of them. */
	for (uid_t uid = 999; uid <= 1001; uid++)
		for (int fam = 0; fam < 2; fam++) {
			struct rb_peer whole = { .uid = uid, .gid = uid, .groups = all,
						 .ngroups = n };
			struct rb_peer less = { .uid = uid, .gid = uid, .groups = f,
						.ngroups = kept };
			int af = fam ? AF_INET6 : AF_INET;

			assert_int_equal(decide(p, &whole, af), decide(p, &less, af));
			assert_int_equal(peer_index_fits_any(p, &whole),
					 peer_index_fits_any(p, &less));
		}
	assert_int_equal(decide(p, &(struct rb_peer){ .uid = 1000, .gid = 1000, .groups = f,
						      .ngroups = kept }, AF_INET), RB_ALLOW);
	free(all);
	free(f);
	rb_policy_free(p);
}

static void test_fits_any(void **state)
{
	struct rb_policy *p = load(text);
	gid_t g500 = 500, g700 = 700;

	(void)state;
	assert_int_equal(peer_index_load(p), 0);
	/* uid 1000 needs gid 500 or 135000 as well (rule a). */
	assert_false(peer_index_fits_any(p, &(struct rb_peer){ .uid = 1000, .gid = 1000 }));
	assert_true(peer_index_fits_any(p, &(struct rb_peer){ .uid = 1000, .gid = 500 }));
	assert_true(peer_index_fits_any(p, &(struct rb_peer){ .uid = 1000, .gid = 1,
							     .groups = &g500, .ngroups = 1 }));
	assert_true(peer_index_fits_any(p, &(struct rb_peer){ .uid = 5, .gid = 5,
							     .groups = &g700, .ngroups = 1 }));
	assert_true(peer_index_fits_any(p, &(struct rb_peer){ .uid = 2001, .gid = 9 }));
	assert_false(peer_index_fits_any(p, &(struct rb_peer){ .uid = 200000, .gid = 200000 }));
	rb_policy_free(p);
	/* 'match any' fits everyone; a policy without group lines keeps no group. */
	p = load("rule x {\n    match any\n    allow inet icmp\n}\n");
	assert_int_equal(peer_index_load(p), 0);
	assert_true(peer_index_fits_any(p, &(struct rb_peer){ .uid = 200000, .gid = 200000 }));
	assert_int_equal(peer_index_filter(&g700, 1), 0);
	/* ... so a connection need not read its groups at all; unless an
	 * admin group is kept (the status command's). */
	assert_false(peer_index_wants_groups());
	peer_index_keep(700);
	assert_int_equal(peer_index_load(p), 0);
	assert_true(peer_index_wants_groups());
	assert_int_equal(peer_index_filter(&g700, 1), 1);
	rb_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_keeps_what_matters),
		cmocka_unit_test(test_fits_any),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
