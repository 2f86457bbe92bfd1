/* SPDX-License-Identifier: MIT */
/* rawsock.h - the only place in rawbroker that creates sockets for clients. */
#ifndef RAWBROKER_RAWSOCK_H
#define RAWBROKER_RAWSOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct rawsock_spec {
	int family;
	int type; /* without flags */
	int protocol;
	bool nonblock;
	bool has_source;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} source;
};

/* NULL when the broker can serve FAMILY/TYPE/PROTOCOL at all (policy
 * permitting), else a sentence saying why it never will. */
const char *rawsock_unservable(int family, int type, int protocol);

/* Create the socket SPEC describes, pre-bound to its source.  Returns the
 * descriptor (close-on-exec in the broker) or -errno with WHY filled. */
int rawsock_open(const struct rawsock_spec *spec, char *why, size_t whylen);

#endif /* RAWBROKER_RAWSOCK_H */
