/* SPDX-License-Identifier: MIT */
/*
 * rxfilter.c - see rxfilter.h.  The program, for TYPES = {0, 3, 4, 5}:
 *
 *     ldxb 4*([0]&0xf)      X = IPv4 header length   (RXFILTER_AT_IPV4 only)
 *     ldb  [x+0]            A = ICMP type            (AT_ICMP: ldb [0])
 *     jeq  #0, 0, 1         one type: pass it
 *     ret  #-1
 *     jge  #3, 0, 2         a run 3..5: pass it
 *     jgt  #5, 1, 0
 *     ret  #-1
 *     ret  #0               anything else: drop
 *
 * A packet too short for the loads ends the program with 0 (drop) in the
 * kernel's interpreter and JIT alike, so no length check is needed.
 */
#include "rxfilter.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

/* The next run of consecutive types at or after *FROM: [*LO, *HI]. */
static bool next_run(const struct rb_icmp_types *t, unsigned *from, unsigned *lo,
		     unsigned *hi)
{
	unsigned i = *from;

	while (i < 256 && !rb_icmp_types_has(t, i))
		i++;
	if (i >= 256)
		return false;
	*lo = i;
	while (i + 1 < 256 && rb_icmp_types_has(t, i + 1))
		i++;
	*hi = i;
	*from = i + 1;
	return true;
}

int rxfilter_build(const struct rb_icmp_types *types, enum rxfilter_start start,
		   struct sock_filter *prog, size_t cap)
{
	unsigned from = 0, lo, hi;
	size_t n = 0;

	if (!types || !prog)
		return -EINVAL;
#define EMIT(insn)                          \
	do {                                \
		if (n >= cap)               \
			return -ENOSPC;     \
		prog[n++] = (struct sock_filter)insn; \
	} while (0)
	switch (start) {
	case RXFILTER_AT_IPV4:
		EMIT(BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0));
		EMIT(BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0));
		break;
	case RXFILTER_AT_ICMP:
		EMIT(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0));
		break;
	default:
		return -EINVAL;
	}
	while (next_run(types, &from, &lo, &hi)) {
		if (lo == hi) {
			EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 1));
		} else {
			EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 2));
			EMIT(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, 1, 0));
		}
		EMIT(BPF_STMT(BPF_RET | BPF_K, RXFILTER_ACCEPT));
	}
	EMIT(BPF_STMT(BPF_RET | BPF_K, 0));
#undef EMIT
	return (int)n;
}

/* Append PART to BUF (SIZE bytes) at *O, which counts the full text even
 * when BUF is too small. */
static void append(char *buf, size_t size, size_t *o, const char *part)
{
	for (; *part; part++, (*o)++)
		if (*o + 1 < size)
			buf[*o] = *part;
	if (size)
		buf[*o + 1 < size ? *o : size - 1] = '\0';
}

int rxfilter_describe(const struct rb_icmp_types *types, char *buf, size_t size)
{
	unsigned from = 0, lo, hi;
	size_t o = 0;
	char part[16];

	if (size)
		buf[0] = '\0';
	if (!types)
		return -EINVAL;
	while (next_run(types, &from, &lo, &hi)) {
		const char *sep = o ? "," : "";

		if (lo == hi)
			snprintf(part, sizeof(part), "%s%u", sep, lo);
		else if (hi == lo + 1)
			snprintf(part, sizeof(part), "%s%u,%u", sep, lo, hi);
		else
			snprintf(part, sizeof(part), "%s%u-%u", sep, lo, hi);
		append(buf, size, &o, part);
	}
	if (o == 0)
		return snprintf(buf, size, "none");
	return (int)o;
}
