/* SPDX-License-Identifier: MIT */
/*
 * peerindex.h - what of a client's identity the policy can ever look at,
 * computed once per policy load (start and each SIGHUP reload).
 *
 * Group rules test a client's primary gid and its supplementary groups
 * against the gids their match lines name; no other gid can change a
 * decision.  So a connection keeps only those of its supplementary groups
 * (a client with 65,536 groups no longer costs 256 KiB per connection),
 * and every rule still sees every group that matters.  The index also
 * tells whether any rule fits a client at all: uids no rule fits get a
 * small connection budget (broker/server.c, uidlimits.h).
 *
 * Module state, rebuilt by peer_index_load(); the front calls it under its
 * lock (broker/server.c).
 */
#ifndef RAWBROKER_PEERINDEX_H
#define RAWBROKER_PEERINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

/* Index policy P (replacing the previous index).  0, or -ENOMEM (the
 * previous index is then kept and peer_index_filter() keeps every group:
 * never less than what matters). */
int peer_index_load(const struct rb_policy *p);

/* Keep GID too (the status command's admin group, which dispatch.c looks
 * for among a client's groups), from the next peer_index_load() on. */
void peer_index_keep(gid_t gid);

/* Bumped by each successful peer_index_load(): a connection whose groups
 * were filtered under another generation filters them again. */
uint32_t peer_index_generation(void);

/* Keep, in place and in order, the N GROUPS that some match line names;
 * returns how many are left. */
size_t peer_index_filter(gid_t *groups, size_t n);

/* Whether a client's supplementary groups can matter at all: false when
 * no match line names a group (and no admin group is kept), so that a
 * connection need not even read them (SO_PEERGROUPS). */
bool peer_index_wants_groups(void);

/* True when some rule of P fits PEER (its match lines, as rb_policy_decide
 * sees them). */
bool peer_index_fits_any(const struct rb_policy *p, const struct rb_peer *peer);

#endif /* RAWBROKER_PEERINDEX_H */
