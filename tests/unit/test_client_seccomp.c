/* SPDX-License-Identifier: MIT */
/*
 * test_client_seccomp.c - the client confinement table (policy/
 * client_seccomp.c), read as data: which socket() calls its denials catch.
 *
 * The table's socket() denials are written so that libseccomp orders them
 * after a notify profile's entries (every one tests the family with
 * MASKED_EQ); these tests check what they deny, family by family, so that
 * a change to the blocks of families cannot open or close one unnoticed.
 * policy_cli and e2e_seccomp load the real filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "client_seccomp_impl.h"

static bool is_socket_rule(const struct sc_rule *r)
{
	return strcmp(r->syscalls[0], "socket") == 0;
}

/* Whether an always-applied socket() denial of the table catches the
 * call (A0, A1, A2), each compared as the rule says. */
static bool denied(uint64_t a0, uint64_t a1, uint64_t a2)
{
	const uint64_t args[3] = { a0, a1, a2 };

	for (size_t i = 0; i < rb_sc_nrules; i++) {
		const struct sc_rule *r = &rb_sc_rules[i];
		bool all = true;

		if (!is_socket_rule(r) || r->when != ALWAYS || r->notify)
			continue;
		for (unsigned c = 0; c < r->ncmp && all; c++)
			all = (args[r->cmp[c].arg] & r->cmp[c].mask) == r->cmp[c].value;
		if (all)
			return true;
	}
	return false;
}

/* Every socket() rule tests the family: one on the type alone would be
 * tested before a notify profile's entries and catch every raw socket. */
static void test_every_socket_rule_tests_the_family(void **state)
{
	(void)state;
	for (size_t i = 0; i < rb_sc_nrules; i++) {
		const struct sc_rule *r = &rb_sc_rules[i];
		bool a0 = false;

		if (!is_socket_rule(r))
			continue;
		for (unsigned c = 0; c < r->ncmp; c++)
			a0 = a0 || r->cmp[c].arg == 0;
		if (!a0)
			fail_msg("socket() rule \"%s\" does not test the family", r->why);
	}
}

/* SOCK_RAW: refused in every family below 64 but AF_NETLINK, with or
 * without SOCK_NONBLOCK and SOCK_CLOEXEC, whatever the protocol. */
static void test_sock_raw_every_family_but_netlink(void **state)
{
	static const uint64_t types[] = { SOCK_RAW, SOCK_RAW | SOCK_NONBLOCK,
					  SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK };

	(void)state;
	for (uint64_t fam = 0; fam < 64; fam++)
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			for (uint64_t proto = 0; proto < 300; proto += 13) {
				bool want = fam != AF_NETLINK;

				if (denied(fam, types[t], proto) != want)
					fail_msg("socket(%llu, %#llx, %llu): %s, wanted %s",
						 (unsigned long long)fam,
						 (unsigned long long)types[t],
						 (unsigned long long)proto,
						 want ? "allowed" : "denied",
						 want ? "denied" : "allowed");
			}
}

/* The kernel reads the family as an int: junk in the upper half of the
 * register changes nothing. */
static void test_upper_half_ignored(void **state)
{
	(void)state;
	assert_true(denied((1ULL << 32) | AF_INET, SOCK_RAW, IPPROTO_ICMP));
	assert_true(denied((1ULL << 40) | AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
	assert_false(denied((1ULL << 32) | AF_NETLINK, SOCK_RAW, 0));
}

/* What stays allowed: netlink, ordinary sockets; what stays refused:
 * AF_PACKET of any type, SOCK_PACKET of AF_INET. */
static void test_other_calls(void **state)
{
	(void)state;
	assert_false(denied(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0)); /* NETLINK_ROUTE */
	assert_false(denied(AF_NETLINK, SOCK_DGRAM, 0));
	assert_false(denied(AF_INET, SOCK_DGRAM, 0));
	assert_false(denied(AF_INET6, SOCK_STREAM, 0));
	assert_false(denied(AF_UNIX, SOCK_SEQPACKET, 0));
	assert_true(denied(AF_PACKET, SOCK_DGRAM, 0));
	assert_true(denied(AF_PACKET, SOCK_RAW, 0));
	assert_true(denied(AF_INET, SOCK_PACKET, 0));
	assert_true(denied(44, SOCK_RAW, 0)); /* AF_XDP */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_socket_rule_tests_the_family),
		cmocka_unit_test(test_sock_raw_every_family_but_netlink),
		cmocka_unit_test(test_upper_half_ignored),
		cmocka_unit_test(test_other_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
