/* SPDX-License-Identifier: MIT */
/*
 * rxfilter.h - the receive filter the broker locks onto a client's ICMP or
 * ICMPv6 socket (policy 'receive' lines): a classic BPF program that
 * passes only the message types of a set and drops everything else.
 *
 * Pure, part of the policy library: it compiles what a rule says into the
 * program and describes the set; it holds no privilege, touches no socket,
 * and returns -errno.  The front (broker/rawsock.c) attaches and locks it.
 */
#ifndef RAWBROKER_RXFILTER_H
#define RAWBROKER_RXFILTER_H

#include <linux/filter.h>
#include <stddef.h>

#include "policy.h"

/* Where the packet the filter sees starts. */
enum rxfilter_start {
	RXFILTER_AT_IPV4, /* at the IPv4 header (raw IPv4 sockets) */
	RXFILTER_AT_ICMP, /* at the ICMP/ICMPv6 header (raw IPv6 sockets and
			     ICMP datagram sockets of either family) */
};

/* The longest program rxfilter_build() makes: two loads, at most 128 runs
 * of consecutive types (3 instructions each, a single type 2), one drop. */
#define RXFILTER_MAX_INSNS (2 + 3 * 128 + 1)

/* The value a passing packet gets: keep all of it. */
#define RXFILTER_ACCEPT 0xffffffffu

/*
 * Write into PROG (room for CAP instructions) a program that passes a
 * packet starting at START when the ICMP type byte is in TYPES, and drops
 * it otherwise, also when the packet is too short to hold that byte (a
 * classic BPF load past the end ends the program with 0).  For IPv4 the
 * type is found behind the header's own length (IHL), so IP options are
 * skipped.  Only forward jumps of at most 2; every path ends in a return.
 * Returns the number of instructions, -EINVAL for a NULL argument or an
 * unknown START, -ENOSPC when CAP is too small.
 */
int rxfilter_build(const struct rb_icmp_types *types, enum rxfilter_start start,
		   struct sock_filter *prog, size_t cap);

/*
 * TYPES for an audit line: "0,3-5,11" (runs of three or more as ranges),
 * "none" for the empty set, into BUF of SIZE bytes (cut when too small).
 * Returns what snprintf() would: the length of the full text.
 */
int rxfilter_describe(const struct rb_icmp_types *types, char *buf, size_t size);

#endif /* RAWBROKER_RXFILTER_H */
