/* SPDX-License-Identifier: MIT */
/*
 * rawsock.c - the front's hand-off of a granted socket: it takes a socket of
 * the right class from the maker's ready pool (maker_link.c) and finishes
 * it as the deciding rule says, unprivileged, before it leaves the broker.
 * Only the maker (maker/maker.c) calls socket() for a client; it also set
 * the class's mark and a receive filter that drops everything while the
 * socket waited in the pool.
 *
 * What the socket lets its holder do is in README.md ("Security model").
 * Of what is prepared, three settings are locks, which the holder cannot
 * undo without CAP_NET_RAW (measured: EPERM):
 *   - the device (SO_BINDTODEVICE: the first bind needs no privilege,
 *     changing or clearing it does);
 *   - the mark (SO_MARK, set by the maker: setting it needs the capability);
 *   - the receive filter (SO_ATTACH_FILTER, then SO_LOCK_FILTER: detaching,
 *     replacing or unlocking it is refused).
 * The rest are defaults, which the holder may change at will: the source
 * address (it may bind again) and the buffer sizes (SO_RCVBUF, SO_SNDBUF;
 * the kernel doubles them and caps them at net.core.rmem_max/wmem_max, as
 * the broker holds no CAP_NET_ADMIN for the *FORCE variants).
 */
#include "rawsock.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "maker/served.h"
#include "maker_link.h"
#include "rxfilter.h"

const char *rawsock_unservable(int family, int type, int protocol)
{
	if (rb_is_served(family, type, protocol))
		return NULL;
	if (family == AF_PACKET)
		return "packet sockets are never served";
	if (family != AF_INET && family != AF_INET6)
		return "only families inet and inet6 are served";
	if (type == SOCK_DGRAM)
		return "datagram sockets are served for icmp (inet) and icmpv6 (inet6) only";
	if (type != SOCK_RAW)
		return "only raw and icmp datagram sockets are served";
	if (protocol == IPPROTO_RAW)
		return "IPPROTO_RAW (header-writing) sockets are never served";
	return "only icmp (inet), icmpv6 (inet6), udp and tcp are served";
}

/* Fill WHY with "STEP: strerror(errno)" and return -errno.  Called right
 * after the step that failed, while errno is still its. */
static int step_failed(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int step_failed(char *why, size_t whylen, const char *fmt, ...)
{
	int err = errno ? errno : EIO;
	size_t o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	o = strlen(why);
	if (o < whylen)
		snprintf(why + o, whylen - o, ": %s", strerror(err));
	return -err;
}

/* A size option: the kernel takes an int.  0 or -errno (errno is left
 * as setsockopt() set it, for step_failed()). */
static int set_int(int fd, int name, uint32_t value)
{
	int v = value > INT_MAX ? INT_MAX : (int)value;

	return setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

/* Attach the receive filter for TYPES, then lock it. */
static int lock_filter(int fd, const struct rawsock_spec *spec,
		       const struct rb_icmp_types *types, char *why, size_t whylen)
{
	struct sock_filter prog[RXFILTER_MAX_INSNS];
	enum rxfilter_start at = spec->family == AF_INET && spec->type == SOCK_RAW
					 ? RXFILTER_AT_IPV4
					 : RXFILTER_AT_ICMP;
	int n = rxfilter_build(types, at, prog, sizeof(prog) / sizeof(prog[0]));
	struct sock_fprog fprog = { .filter = prog };

	if (n < 0) {
		errno = -n;
		return step_failed(why, whylen, "receive filter");
	}
	fprog.len = (unsigned short)n;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0)
		return step_failed(why, whylen, "SO_ATTACH_FILTER");
	if (set_int(fd, SO_LOCK_FILTER, 1) < 0)
		return step_failed(why, whylen, "SO_LOCK_FILTER");
	return 0;
}

static int bind_source(int fd, const struct rawsock_spec *spec, const void *addr,
		       char *why, size_t whylen)
{
	int r;

	if (spec->family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		memcpy(&sin.sin_addr, addr, sizeof(sin.sin_addr));
		r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		memcpy(&sin6.sin6_addr, addr, sizeof(sin6.sin6_addr));
		r = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	if (r == 0)
		return 0;
	if (errno == EADDRNOTAVAIL) {
		snprintf(why, whylen, "%ssource address is not local to the broker's network "
			 "namespace", spec->has_source ? "" : "the rule's default ");
		return -EADDRNOTAVAIL;
	}
	return step_failed(why, whylen, "bind to %ssource address",
			   spec->has_source ? "" : "the rule's default ");
}

/* Apply SPEC->prep, locks first, to the new socket FD.  Each step runs
 * only when the rule (or the request) asks for it: no system call for a
 * setting left at the kernel's default. */
static int prepare(int fd, const struct rawsock_spec *spec, char *why, size_t whylen)
{
	const struct rb_prepare *p = spec->prep;
	const void *source = rawsock_bind_source(spec);
	int r;

	if (p && p->device[0]) {
		size_t len = strnlen(p->device, sizeof(p->device));

		if (len >= sizeof(p->device)) {
			snprintf(why, whylen, "device name too long");
			return -EINVAL;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->device,
			       (socklen_t)len + 1) < 0)
			return step_failed(why, whylen, "SO_BINDTODEVICE %s", p->device);
	}
	/* The rule's locked filter replaces the maker's drop-everything one;
	 * without a receive lock, that one goes. */
	if (p && p->has_receive) {
		r = lock_filter(fd, spec, &p->receive, why, whylen);
		if (r < 0)
			return r;
	} else if (set_int(fd, SO_DETACH_FILTER, 0) < 0) { /* the kernel wants an int */
		return step_failed(why, whylen, "SO_DETACH_FILTER");
	}
	if (p && p->rcvbuf && set_int(fd, SO_RCVBUF, p->rcvbuf) < 0)
		return step_failed(why, whylen, "SO_RCVBUF %u", (unsigned)p->rcvbuf);
	if (p && p->sndbuf && set_int(fd, SO_SNDBUF, p->sndbuf) < 0)
		return step_failed(why, whylen, "SO_SNDBUF %u", (unsigned)p->sndbuf);
	if (source) {
		r = bind_source(fd, spec, source, why, whylen);
		if (r < 0)
			return r;
	}
	if (spec->nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return step_failed(why, whylen, "O_NONBLOCK");
	/* No drain here: the socket came empty from the pool (maker_link.c,
	 * drain()), and its drop filter let nothing in until the filter step
	 * above. */
	return 0;
}

/*
 * A hostile client controls every field of SPEC except PREP, which comes
 * from the deciding policy rule.  Still safe:
 *  - the tuple is checked against served.h again right here, and the
 *    maker makes only the classes (tuple and mark) it learnt from the
 *    policy at start, whatever the front asks;
 *  - the client's source is a fixed-size address of the socket's family,
 *    bound with plain bind() (no IP_FREEBIND, no IP_TRANSPARENT), so the
 *    kernel refuses addresses that are not local; the rule's default source
 *    is bound the same way, and only when the client named none;
 *  - the client chooses none of the options set here: device, mark, filter
 *    and buffer sizes are the rule's, and the filter program is built from
 *    the rule's type set by rxfilter.c, whose size is bounded;
 *  - every step is checked; when one fails the socket is closed (it is the
 *    broker's own, never a client's, so the close cannot block) and the
 *    request fails naming the step, so no half-prepared socket leaves;
 *  - packets that reached the socket before its locks were dropped as it
 *    came from the maker (maker_link.c, drain()); its drop filter let
 *    nothing in since.
 */
int rawsock_open(const struct rawsock_spec *spec, char *why, size_t whylen)
{
	const char *no = rawsock_unservable(spec->family, spec->type, spec->protocol);
	static const struct rb_prepare none;
	int fd, r;

	if (no) {
		snprintf(why, whylen, "%s", no);
		return -EINVAL;
	}
	fd = maker_take(spec->family, spec->type, spec->protocol, spec->prep ? spec->prep : &none);
	if (fd == -ENOENT) {
		snprintf(why, whylen, "the socket maker was started before the policy named this "
			 "class (family, type, protocol, mark); restart rawbrokerd");
		return -EAGAIN;
	}
	if (fd < 0) {
		if (spec->type == SOCK_DGRAM && fd == -EACCES)
			snprintf(why, whylen, "socket: %s (ICMP datagram sockets need the "
				 "broker's group in net.ipv4.ping_group_range)", strerror(-fd));
		else
			snprintf(why, whylen, "socket maker: %s", strerror(-fd));
		return fd;
	}
	r = prepare(fd, spec, why, whylen);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
