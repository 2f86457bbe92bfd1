/* SPDX-License-Identifier: MIT */
/*
 * uidlimits.h - what one uid may take: concurrent connections and the rate
 * of grants, counted per uid across all its connections.
 *
 * One entry per uid that holds a connection (its count and its token
 * bucket), plus up to LIMITS_IDLE_MAX entries of uids that left recently
 * with a bucket not yet refilled (so reconnecting does not refill it).  A
 * full bucket is the same as none, so those entries are dropped first;
 * beyond the cap the least recently left goes.  Memory is bounded by the
 * connection limit plus that cap.  Event-loop thread only.
 */
#ifndef RAWBROKER_UIDLIMITS_H
#define RAWBROKER_UIDLIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

#define LIMITS_IDLE_MAX 1024

struct uid_entry;

/* A new connection of UID, whose policy allows at most CAP at once (0:
 * unlimited).  Returns 0 and the uid's entry (held until
 * limits_conn_close), -EUSERS when UID already holds CAP connections,
 * -ENOMEM. */
int limits_conn_open(uid_t uid, uint32_t cap, struct uid_entry **out);
void limits_conn_close(struct uid_entry *e);

/*
 * A new connection of UID that no rule of the policy matches.  Such a
 * client can be granted nothing (its connection only earns it a denial),
 * so it gets a small budget: at most CAP connections of its own (as
 * limits_conn_open), and all such connections of all uids together at most
 * TOTAL, so that many uids (a rootless container user owns 65,536) cannot
 * fill the broker's connection table between them.  Returns 0, -EUSERS
 * (UID at CAP), -ENOSPC (TOTAL reached) or -ENOMEM.  Close it with
 * limits_conn_close_unmatched().
 */
int limits_conn_open_unmatched(uid_t uid, uint32_t cap, uint32_t total,
			       struct uid_entry **out);
void limits_conn_close_unmatched(struct uid_entry *e);
/* Connections held by uids no rule matches, all together. */
size_t limits_unmatched(void);

/* One grant for E's uid under the deciding rule's LIMITS (a token bucket
 * of LIMITS->burst grants, refilled at LIMITS->rate a second; rate 0:
 * unlimited).  True when the grant may go ahead; it is then counted. */
bool limits_take_grant(struct uid_entry *e, const struct rb_limits *limits);

/* Give back the grant limits_take_grant(E, LIMITS) counted, for a socket
 * that never reached its client (a notifying task that died). */
void limits_refund_grant(struct uid_entry *e, const struct rb_limits *limits);

/* For tests and the log: entries held (uids connected + idle buckets). */
size_t limits_entries(void);

#endif /* RAWBROKER_UIDLIMITS_H */
