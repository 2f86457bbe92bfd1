/* SPDX-License-Identifier: MIT */
/*
 * test_rxfilter.c - the receive filter program (policy/rxfilter.c).
 *
 * The generated classic BPF program is run two ways over hand-made
 * packets: by a tiny interpreter written here, which knows only the
 * instructions the builder may use, refuses anything else, and records
 * every load that reaches past the packet; and by the kernel itself,
 * attached to the receiving end of an AF_UNIX datagram pair (that needs
 * no privilege, and the kernel runs the same sk_filter there).  Both must
 * pass exactly the types of the set, for IPv4 with and without IP options
 * and for packets that start at the ICMP header, and drop short packets.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rxfilter.h"

/* ---- a tiny classic BPF interpreter ---- */

struct run {
	uint32_t ret;
	unsigned oob;   /* loads that reached past the packet (then: drop) */
	unsigned steps; /* instructions executed */
};

static bool load_byte(const uint8_t *pkt, size_t len, uint64_t off, uint32_t *out,
		      struct run *r)
{
	if (off >= len) {
		r->oob++;
		return false;
	}
	*out = pkt[off];
	return true;
}

/* Run PROG over PKT as the kernel would: a load past the end returns 0. */
static struct run bpf_run(const struct sock_filter *prog, size_t n, const uint8_t *pkt,
			  size_t len)
{
	struct run r = { 0 };
	uint32_t a = 0, x = 0, v;
	size_t pc = 0;

	for (;;) {
		const struct sock_filter *f;

		assert_true(pc < n); /* ran off the end: a path without a return */
		f = &prog[pc++];
		r.steps++;
		switch (f->code) {
		case BPF_LD | BPF_B | BPF_ABS:
			if (!load_byte(pkt, len, f->k, &a, &r))
				return r;
			break;
		case BPF_LD | BPF_B | BPF_IND:
			if (!load_byte(pkt, len, (uint64_t)x + f->k, &a, &r))
				return r;
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (!load_byte(pkt, len, f->k, &v, &r))
				return r;
			x = 4 * (v & 0xf);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > f->k ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			r.ret = f->k;
			return r;
		default:
			fail_msg("instruction %zu: opcode %#x is not one the builder may use",
				 pc - 1, f->code);
		}
	}
}

/* Every jump lands inside the program, the last instruction returns. */
static void assert_well_formed(const struct sock_filter *prog, size_t n)
{
	assert_true(n >= 2 && n <= RXFILTER_MAX_INSNS);
	assert_int_equal(prog[n - 1].code, BPF_RET | BPF_K);
	assert_int_equal(prog[n - 1].k, 0); /* the fall-through drops */
	for (size_t i = 0; i < n; i++) {
		if (BPF_CLASS(prog[i].code) != BPF_JMP)
			continue;
		assert_true(i + 1 + prog[i].jt < n);
		assert_true(i + 1 + prog[i].jf < n);
		assert_true(prog[i].jt <= 2 && prog[i].jf <= 2);
	}
}

/* ---- packets ---- */

/* An IPv4 packet with IHL words of header (options filled with BAIT) and
 * an 8-byte ICMP header of TYPE; returns its length. */
static size_t v4_packet(uint8_t *buf, unsigned ihl, uint8_t type, uint8_t bait)
{
	size_t hl = ihl * 4;

	memset(buf, bait, hl + 8);
	buf[0] = (uint8_t)(0x40 | ihl);
	buf[1] = 0;
	buf[2] = 0;
	buf[3] = (uint8_t)(hl + 8);
	buf[8] = 64;
	buf[9] = 1; /* ICMP */
	memset(buf + hl, 0, 8);
	buf[hl] = type;
	return hl + 8;
}

/* An ICMP or ICMPv6 header of TYPE, as IPv6 raw and datagram sockets see it. */
static size_t icmp_packet(uint8_t *buf, uint8_t type)
{
	memset(buf, 0, 8);
	buf[0] = type;
	return 8;
}

static int build(const struct rb_icmp_types *t, enum rxfilter_start at,
		 struct sock_filter *prog)
{
	int n = rxfilter_build(t, at, prog, RXFILTER_MAX_INSNS);

	assert_true(n > 0);
	assert_well_formed(prog, (size_t)n);
	return n;
}

static void set_add(struct rb_icmp_types *t, unsigned type)
{
	t->bits[type / 32] |= 1u << (type % 32);
}

/* Check the program for T with the interpreter, at both starts, over all
 * 256 types, IHL 5 to 15 for IPv4, with the options baited with a type in
 * the set (a filter that read at a fixed offset 20 would pass them). */
static void check_set(const struct rb_icmp_types *t)
{
	struct sock_filter p4[RXFILTER_MAX_INSNS], p6[RXFILTER_MAX_INSNS];
	size_t n4 = (size_t)build(t, RXFILTER_AT_IPV4, p4);
	size_t n6 = (size_t)build(t, RXFILTER_AT_ICMP, p6);
	uint8_t pkt[80], bait = 0;

	for (unsigned i = 0; i < 256; i++)
		if (rb_icmp_types_has(t, i)) {
			bait = (uint8_t)i;
			break;
		}
	for (unsigned type = 0; type < 256; type++) {
		bool want = rb_icmp_types_has(t, type);
		struct run r;
		size_t len;

		for (unsigned ihl = 5; ihl <= 15; ihl++) {
			len = v4_packet(pkt, ihl, (uint8_t)type, bait);
			r = bpf_run(p4, n4, pkt, len);
			assert_int_equal(r.oob, 0);
			assert_true(r.steps <= n4);
			if (r.ret != (want ? RXFILTER_ACCEPT : 0))
				fail_msg("IPv4 IHL %u type %u: returned %#x, wanted %s", ihl,
					 type, r.ret, want ? "pass" : "drop");
		}
		len = icmp_packet(pkt, (uint8_t)type);
		r = bpf_run(p6, n6, pkt, len);
		assert_int_equal(r.oob, 0);
		if (r.ret != (want ? RXFILTER_ACCEPT : 0))
			fail_msg("ICMP header type %u: returned %#x, wanted %s", type, r.ret,
				 want ? "pass" : "drop");
	}
}

static void test_sets(void **state)
{
	struct rb_icmp_types t;

	(void)state;
	memset(&t, 0, sizeof(t)); /* empty: drops everything */
	check_set(&t);
	set_add(&t, 0); /* echo-reply */
	check_set(&t);
	set_add(&t, 3);
	set_add(&t, 11); /* echo-reply and the errors traceroute needs */
	check_set(&t);
	memset(&t, 0, sizeof(t));
	set_add(&t, 129); /* ICMPv6 echo-reply */
	check_set(&t);
	memset(&t, 0, sizeof(t));
	for (unsigned i = 1; i <= 4; i++)
		set_add(&t, i); /* ICMPv6 errors: one run */
	set_add(&t, 129);
	set_add(&t, 255);
	check_set(&t);
	memset(&t, 0xff, sizeof(t)); /* everything */
	check_set(&t);
}

/* The most runs a set can have, and random sets. */
static void test_longest_and_random(void **state)
{
	struct sock_filter prog[RXFILTER_MAX_INSNS];
	struct rb_icmp_types t;
	uint32_t seed = 12345;

	(void)state;
	for (unsigned parity = 0; parity < 2; parity++) {
		memset(&t, 0, sizeof(t));
		for (unsigned i = parity; i < 256; i += 2)
			set_add(&t, i);
		assert_int_equal(build(&t, RXFILTER_AT_IPV4, prog), 2 + 128 * 2 + 1);
		check_set(&t);
	}
	memset(&t, 0, sizeof(t)); /* runs of two: the longest program */
	for (unsigned i = 0; i < 256; i += 3) {
		set_add(&t, i);
		if (i + 1 < 256)
			set_add(&t, i + 1);
	}
	assert_true(build(&t, RXFILTER_AT_IPV4, prog) <= RXFILTER_MAX_INSNS);
	check_set(&t);
	for (int round = 0; round < 100; round++) {
		for (unsigned i = 0; i < 8; i++) {
			seed = seed * 1103515245u + 12345u;
			t.bits[i] = seed ^ (seed << (round % 7));
		}
		check_set(&t);
	}
}

/* A packet too short for the type byte is dropped, never read past. */
static void test_short_packets(void **state)
{
	struct sock_filter p4[RXFILTER_MAX_INSNS], p6[RXFILTER_MAX_INSNS];
	struct rb_icmp_types t;
	uint8_t pkt[80];
	size_t n4, n6;

	(void)state;
	memset(&t, 0xff, sizeof(t)); /* would pass any type it could read */
	n4 = (size_t)build(&t, RXFILTER_AT_IPV4, p4);
	n6 = (size_t)build(&t, RXFILTER_AT_ICMP, p6);
	for (unsigned ihl = 5; ihl <= 15; ihl++) {
		v4_packet(pkt, ihl, 0, 0);
		for (size_t len = 0; len <= ihl * 4; len++) {
			struct run r = bpf_run(p4, n4, pkt, len);

			if (r.ret != 0)
				fail_msg("IPv4 IHL %u cut to %zu bytes: passed", ihl, len);
			assert_int_equal(r.oob, 1);
		}
		assert_int_equal(bpf_run(p4, n4, pkt, ihl * 4 + 1).ret, RXFILTER_ACCEPT);
	}
	assert_int_equal(bpf_run(p6, n6, pkt, 0).ret, 0);
	assert_int_equal(bpf_run(p6, n6, pkt, 0).oob, 1);
	assert_int_equal(bpf_run(p6, n6, pkt, 1).ret, RXFILTER_ACCEPT);
}

/* ---- the kernel runs the same program ---- */

/* Whether the kernel's filter on RX lets PKT through (sent from TX). */
static bool kernel_passes(int tx, int rx, const uint8_t *pkt, size_t len)
{
	uint8_t buf[128];
	struct pollfd pfd = { .fd = rx, .events = POLLIN };

	assert_int_equal(send(tx, len ? pkt : (const uint8_t *)"", len, 0), (ssize_t)len);
	if (poll(&pfd, 1, 0) != 1)
		return false;
	assert_int_equal(recv(rx, buf, sizeof(buf), MSG_DONTWAIT), (ssize_t)len);
	return true;
}

static void check_kernel(const struct rb_icmp_types *t, enum rxfilter_start at)
{
	struct sock_filter prog[RXFILTER_MAX_INSNS];
	struct sock_fprog fprog = { .filter = prog };
	uint8_t pkt[80];
	int sv[2];

	fprog.len = (unsigned short)build(t, at, prog);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)),
			 0);
	for (unsigned type = 0; type < 256; type++) {
		bool want = rb_icmp_types_has(t, type);
		size_t len;

		if (at == RXFILTER_AT_IPV4) {
			for (unsigned ihl = 5; ihl <= 15; ihl += 5) {
				len = v4_packet(pkt, ihl, (uint8_t)type, 0);
				if (kernel_passes(sv[0], sv[1], pkt, len) != want)
					fail_msg("kernel: IPv4 IHL %u type %u: %s", ihl, type,
						 want ? "dropped" : "passed");
			}
		} else {
			len = icmp_packet(pkt, (uint8_t)type);
			if (kernel_passes(sv[0], sv[1], pkt, len) != want)
				fail_msg("kernel: type %u: %s", type, want ? "dropped" : "passed");
		}
	}
	/* Short packets: the kernel drops them too. */
	v4_packet(pkt, 15, 0, 0);
	assert_false(kernel_passes(sv[0], sv[1], pkt, at == RXFILTER_AT_IPV4 ? 60 : 0));
	assert_false(kernel_passes(sv[0], sv[1], pkt, 0));
	/* Locked, it stays: what the broker relies on. */
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_LOCK_FILTER, &(int){ 1 }, sizeof(int)),
			 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_DETACH_FILTER, &(int){ 0 },
				    sizeof(int)), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)),
			 -1);
	assert_int_equal(errno, EPERM);
	close(sv[0]);
	close(sv[1]);
}

static void test_kernel_agrees(void **state)
{
	struct rb_icmp_types t;

	(void)state;
	memset(&t, 0, sizeof(t));
	set_add(&t, 0);
	set_add(&t, 3);
	set_add(&t, 11);
	check_kernel(&t, RXFILTER_AT_IPV4);
	check_kernel(&t, RXFILTER_AT_ICMP);
	memset(&t, 0, sizeof(t));
	for (unsigned i = 1; i < 256; i += 2)
		set_add(&t, i); /* the most runs */
	check_kernel(&t, RXFILTER_AT_IPV4);
	check_kernel(&t, RXFILTER_AT_ICMP);
	memset(&t, 0, sizeof(t)); /* the empty set */
	check_kernel(&t, RXFILTER_AT_ICMP);
}

/* ---- arguments, room, descriptions ---- */

static void test_errors(void **state)
{
	struct sock_filter prog[RXFILTER_MAX_INSNS];
	struct rb_icmp_types t = { { 0 } };

	(void)state;
	set_add(&t, 0);
	set_add(&t, 3);
	assert_int_equal(rxfilter_build(NULL, RXFILTER_AT_ICMP, prog, 10), -EINVAL);
	assert_int_equal(rxfilter_build(&t, RXFILTER_AT_ICMP, NULL, 10), -EINVAL);
	assert_int_equal(rxfilter_build(&t, (enum rxfilter_start)7, prog, 10), -EINVAL);
	/* ldb, 2 per type, ret: 7 for IPv4 with its ldxb, 6 at the ICMP header */
	assert_int_equal(rxfilter_build(&t, RXFILTER_AT_IPV4, prog, 7), 7);
	assert_int_equal(rxfilter_build(&t, RXFILTER_AT_IPV4, prog, 6), -ENOSPC);
	assert_int_equal(rxfilter_build(&t, RXFILTER_AT_ICMP, prog, 6), 6);
	assert_int_equal(rxfilter_build(&t, RXFILTER_AT_ICMP, prog, 0), -ENOSPC);
}

static void test_describe(void **state)
{
	struct rb_icmp_types t = { { 0 } };
	char buf[1024], tiny[5];

	(void)state;
	assert_int_equal(rxfilter_describe(&t, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "none");
	set_add(&t, 0);
	set_add(&t, 3);
	set_add(&t, 11);
	rxfilter_describe(&t, buf, sizeof(buf));
	assert_string_equal(buf, "0,3,11");
	set_add(&t, 4);
	set_add(&t, 5);
	set_add(&t, 12);
	set_add(&t, 255);
	assert_int_equal(rxfilter_describe(&t, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "0,3-5,11,12,255");
	/* Cut, but still terminated, and the full length reported. */
	assert_int_equal(rxfilter_describe(&t, tiny, sizeof(tiny)), 15);
	assert_string_equal(tiny, "0,3-");
	memset(&t, 0xff, sizeof(t));
	rxfilter_describe(&t, buf, sizeof(buf));
	assert_string_equal(buf, "0-255");
	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < 256; i += 2)
		set_add(&t, i);
	assert_true(rxfilter_describe(&t, buf, sizeof(buf)) < 600); /* the audit's room */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_longest_and_random),
		cmocka_unit_test(test_short_packets),
		cmocka_unit_test(test_kernel_agrees),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
