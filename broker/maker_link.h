/* SPDX-License-Identifier: MIT */
/*
 * maker_link.h - the front's side of the socket maker (maker/maker.c):
 * start it, hand it the class table, keep a ready pool of its sockets, and
 * have it set the IPv6 options only it may set.
 */
#ifndef RAWBROKER_MAKER_LINK_H
#define RAWBROKER_MAKER_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "maker/drop.h"
#include "policy.h"

/* Ready sockets per class.  A refill is asked for when half are gone and
 * costs the maker a wake-up and the front a receive; 32 makes that once
 * per 16 grants (with 4, once per 2, it was a third of a grant's time). */
#define POOL_DEFAULT 32
#define POOL_MAX 64      /* --pool at most (one MK_MAKE batch) */

/*
 * Start the maker (PATH) as SPEC says (the broker's user, CAP_NET_RAW kept
 * ambient across the execve), give it every class of POLICY and wait until
 * it has sealed its table, dropped and confined itself.  CLOSE_FD (-1:
 * none) is not inherited.  Call as root or holding CAP_NET_RAW, before
 * the front's own drop.  fatal() when it cannot.
 */
void maker_start(const char *path, const struct drop_spec *spec, const struct rb_policy *policy,
		 unsigned pool_depth);

/* The channel, for the front's event loop (readable: maker_on_readable). */
int maker_fd(void);
pid_t maker_pid(void);

/* Read what the maker sent (pool refills, option results).  false when the
 * maker is gone.  Option results wait for maker_deliver(). */
bool maker_on_readable(void);

/* Call the DONE of every option set the maker has answered.  From the
 * event loop only, after a batch of events: a DONE may close connections. */
void maker_deliver(void);
/* Whether an option result waits for maker_deliver(): a notify listener's
 * thread whose synchronous make (maker_take()) read it wakes the loop
 * (usernotif.c), which alone delivers them. */
bool maker_has_finished(void);

/* Ask for pool refills that are due (after hand-offs): when half a pool
 * is gone, and to the full depth once no grant came for a moment; a refill
 * the maker has not answered within 1 s is given up and asked again.
 * Returns the ms until a top-up is due or a refill on its way falls
 * overdue (for the loop's timeout), -1 for neither. */
int maker_refill(void);

/*
 * A new socket of the class (FAMILY, TYPE, PROTOCOL, the rule's mark): from
 * the pool; when it is empty, from the refill on its way, else made now (a
 * round trip to the maker either way; at most 5 s).  Returns the
 * descriptor (carrying the drop-everything filter, blocking, close-on-
 * exec), or -errno: -ENOENT when the maker was not started with that class
 * (a reload added it: restart), -EPIPE when the maker is gone.
 */
int maker_take(int family, int type, int protocol, const struct rb_prepare *prep);

/* True once a read of the channel found it closed or a reply malformed,
 * in maker_on_readable() or in maker_take() (which may run on a notify
 * thread): the loop stops as for a false maker_on_readable(). */
bool maker_broken(void);

/* Whether reloaded policy P needs a class the maker lacks; logs each. */
void maker_check_policy(const struct rb_policy *p);

/*
 * Have the maker set LEVEL/NAME to VALUE[LEN] on FD (a client's IPv6 socket,
 * checked by the caller; the maker checks again).  The answer comes later,
 * through DONE(COOKIE, 0 or errno), from maker_on_readable(); never for a
 * cookie given to maker_forget() first.  0, or -errno when it could not be
 * sent (-EBUSY: too many in flight).
 */
typedef void (*maker_done_fn)(void *cookie, int err);
int maker_setopt(int fd, int level, int name, const void *value, size_t len,
		 maker_done_fn done, void *cookie);
void maker_forget(void *cookie);

/* Pool depth per class, for the log and status. */
unsigned maker_pool_held(void);
/* The classes the maker was given, and class I's ready sockets (status,
 * metrics); CLS is filled for I < maker_classes(). */
unsigned maker_classes(void);
unsigned maker_class_ready(unsigned i, struct rb_class *cls);

#endif /* RAWBROKER_MAKER_LINK_H */
