/* SPDX-License-Identifier: MIT */
/*
 * check.c - what the socket maker accepts from the front, record by
 * record: one pure function, so the fuzzer (tests/fuzz/fuzz_maker.c) runs
 * the very checks maker.c's loop runs.
 *
 * The front may be compromised: every field is checked before anything
 * uses it.  Exact length first, then version, then kind against the seal
 * state, then the kind's fields, then whether a descriptor belongs:
 *  - before the seal only MK_CLASS (a served tuple, has_mark 0 or 1, no
 *    mark without it, table not full) and MK_SEAL;
 *  - after it only MK_MAKE (a class index in the table, 1..MK_BATCH_MAX
 *    sockets) and MK_SETOPT (IPV6_HOPOPTS or IPV6_DSTOPTS, a header of
 *    padding only, exactly one descriptor);
 *  - a descriptor anywhere else is EPROTO, whatever else is wrong.
 * What needs the table's contents (a duplicate class) or the descriptor
 * itself (is it an IPv6 socket) stays in maker.c.
 */
#include <errno.h>
#include <netinet/in.h>

#include "maker.h"
#include "record.h"
#include "served.h"

int mk_request_check(const struct mk_request *rq, size_t len, unsigned nfds, bool sealed,
		     unsigned nclasses)
{
	bool whole = len == sizeof(*rq) && rq->version == MK_VERSION;

	/* Only a well-formed MK_SETOPT after the seal carries one. */
	if (nfds > (unsigned)(whole && sealed && rq->kind == MK_SETOPT))
		return -EPROTO;
	if (len != sizeof(*rq))
		return -EMSGSIZE;
	if (rq->version != MK_VERSION)
		return -EPROTONOSUPPORT;
	if (!sealed) {
		if (rq->kind == MK_SEAL)
			return 0;
		if (rq->kind != MK_CLASS || nclasses >= MK_CLASSES_MAX || rq->has_mark > 1 ||
		    (!rq->has_mark && rq->mark) ||
		    !rb_is_served(rq->family, rq->type, rq->protocol))
			return -EINVAL;
		return 0;
	}
	switch (rq->kind) {
	case MK_MAKE:
		if (rq->cls >= nclasses || rq->count < 1 || rq->count > MK_BATCH_MAX)
			return -EINVAL;
		return 0;
	case MK_SETOPT:
		if (nfds != 1 || rq->level != IPPROTO_IPV6 ||
		    (rq->name != IPV6_HOPOPTS && rq->name != IPV6_DSTOPTS) ||
		    rq->len > MK_VALUE_MAX || mk_ext_header_invalid(rq->value, rq->len))
			return -EINVAL;
		return 0;
	default: /* a class or a seal after the seal, an unknown kind */
		return -EINVAL;
	}
}
