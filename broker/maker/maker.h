/* SPDX-License-Identifier: MIT */
/* maker.h - the socket maker's parts (maker.c, maker_sandbox.c). */
#ifndef RAWBROKER_MAKER_H
#define RAWBROKER_MAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One class the maker may make: learnt before the seal, never after. */
struct mk_class {
	int family, type, protocol;
	bool has_mark;
	uint32_t mark;
};

/* Load the maker's seccomp allowlist: socket() for exactly the N classes'
 * tuples, setsockopt() for the drop filter, SO_MARK and the two IPv6
 * options, the channel, threads, memory; kill on anything else.  0 or
 * -errno. */
int maker_sandbox_load(const struct mk_class *classes, unsigned n);

/* NULL when V[LEN] is an IPv6 hop-by-hop or destination options header of
 * padding only (or empty: clearing the option), else why not. */
const char *mk_ext_header_invalid(const uint8_t *v, size_t len);

struct mk_request;

/* 0 when RQ, a record of LEN bytes received with NFDS descriptors, may be
 * served now (SEALED or not, NCLASSES in the table), else -EMSGSIZE,
 * -EPROTONOSUPPORT, -EPROTO (a descriptor where none belongs) or -EINVAL.
 * Pure (check.c): what needs the table or the descriptor is maker.c's. */
int mk_request_check(const struct mk_request *rq, size_t len, unsigned nfds, bool sealed,
		     unsigned nclasses);

#endif /* RAWBROKER_MAKER_H */
