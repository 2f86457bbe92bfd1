/* SPDX-License-Identifier: MIT */
/*
 * rawsock.c - the only file in rawbroker that calls socket() for a client.
 *
 * Whatever the policy says, only the tuples in `served` below are ever
 * created: raw ICMP for IPv4, raw ICMPv6 for IPv6, and raw UDP/TCP for
 * either (those only where a policy rule names them: mtr-packet's IPv6
 * probes need raw UDP).  IPPROTO_RAW, AF_PACKET and everything else stay
 * out even if a policy were mis-parsed into allowing them; the broker's
 * seccomp filter is to pin the same list in the kernel.
 *
 * What the socket lets its holder do is in README.md ("Security
 * model"): the source pre-binding here is a default, not a lock.
 */
#include "rawsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct {
	int family, type, protocol;
} served[] = {
	{ AF_INET, SOCK_RAW, IPPROTO_ICMP },
	{ AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
	{ AF_INET, SOCK_RAW, IPPROTO_UDP },
	{ AF_INET6, SOCK_RAW, IPPROTO_UDP },
	{ AF_INET, SOCK_RAW, IPPROTO_TCP },
	{ AF_INET6, SOCK_RAW, IPPROTO_TCP },
};

const char *rawsock_unservable(int family, int type, int protocol)
{
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++)
		if (served[i].family == family && served[i].type == type &&
		    served[i].protocol == protocol)
			return NULL;
	if (family == AF_PACKET)
		return "packet sockets are never served";
	if (family != AF_INET && family != AF_INET6)
		return "only families inet and inet6 are served";
	if (type != SOCK_RAW)
		return "only raw sockets are served";
	if (protocol == IPPROTO_RAW)
		return "IPPROTO_RAW (header-writing) sockets are never served";
	return "only icmp (inet), icmpv6 (inet6), udp and tcp are served";
}

/*
 * A hostile client controls every field of SPEC.  Still safe: the tuple is
 * checked against `served` again right here, the source is a fixed-size
 * address bound with plain bind() (no IP_FREEBIND, no IP_TRANSPARENT), so
 * the kernel refuses addresses that are not local, and nothing else is set.
 */
int rawsock_open(const struct rawsock_spec *spec, char *why, size_t whylen)
{
	const char *no = rawsock_unservable(spec->family, spec->type, spec->protocol);
	int fd, err;

	if (no) {
		snprintf(why, whylen, "%s", no);
		return -EINVAL;
	}
	fd = socket(spec->family,
		    spec->type | SOCK_CLOEXEC | (spec->nonblock ? SOCK_NONBLOCK : 0),
		    spec->protocol);
	if (fd < 0) {
		err = errno;
		snprintf(why, whylen, "socket: %s", strerror(err));
		return -err;
	}
	if (!spec->has_source)
		return fd;

	if (spec->family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = spec->source.v4 };

		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
					     .sin6_addr = spec->source.v6 };

		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0)
			return fd;
	}
	err = errno;
	close(fd);
	if (err == EADDRNOTAVAIL)
		snprintf(why, whylen, "source address is not local to the broker's network namespace");
	else
		snprintf(why, whylen, "bind to source address: %s", strerror(err));
	return -err;
}
