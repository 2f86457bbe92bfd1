/* SPDX-License-Identifier: MIT */
/* rawsock.h - the front's hand-off of a granted socket (see rawsock.c). */
#ifndef RAWBROKER_RAWSOCK_H
#define RAWBROKER_RAWSOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

struct rawsock_spec {
	int family;
	int type; /* without flags */
	int protocol;
	bool nonblock;
	bool has_source; /* the client named a source */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} source;
	const struct rb_prepare *prep; /* the deciding rule's; NULL: none */
};

/* The address rawsock_open() binds SPEC's socket to: the client's source,
 * else the rule's default source, else none (NULL). */
static inline const void *rawsock_bind_source(const struct rawsock_spec *spec)
{
	if (spec->has_source)
		return &spec->source;
	if (spec->prep && spec->prep->has_default_source)
		return &spec->prep->default_source;
	return NULL;
}

/* NULL when the broker can serve FAMILY/TYPE/PROTOCOL at all (policy
 * permitting), else a sentence saying why it never will. */
const char *rawsock_unservable(int family, int type, int protocol);

/* Take a socket of the class SPEC describes from the maker (its ready
 * pool, else made now, with the rule's mark already set) and finish it as
 * SPEC->prep says, unprivileged: device, receive filter, buffers, source,
 * then drop what queued.  Returns the descriptor (close-on-exec in the
 * broker), or -errno with WHY naming the step that failed; then no socket
 * is left behind. */
int rawsock_open(const struct rawsock_spec *spec, char *why, size_t whylen);

#endif /* RAWBROKER_RAWSOCK_H */
