/* SPDX-License-Identifier: MIT */
/*
 * preload.c - librawbroker-preload.so: raw ICMP sockets for unmodified
 * programs, through LD_PRELOAD.
 *
 * Interposes socket().  The real call runs first, so a process that holds
 * CAP_NET_RAW (root, root in a user namespace) is untouched.  Only when it
 * fails with EPERM or EACCES for a tuple the broker serves is the broker
 * asked; if the broker cannot help, the caller sees the original error and
 * errno, exactly as without the shim.  In set-id programs (AT_SECURE) the
 * shim does nothing at all.  It never prints and never aborts its host.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawbroker.h"

#define RB_EXPORT __attribute__((visibility("default")))

typedef int (*socket_fn)(int, int, int);

static int syscall_socket(int domain, int type, int protocol)
{
	return (int)syscall(SYS_socket, domain, type, protocol);
}

static socket_fn next_socket(void)
{
	static _Atomic(socket_fn) next;
	socket_fn f = atomic_load_explicit(&next, memory_order_acquire);

	if (!f) {
		f = (socket_fn)dlsym(RTLD_NEXT, "socket");
		if (!f) /* no libc socket() after us: use the system call */
			f = syscall_socket;
		atomic_store_explicit(&next, f, memory_order_release);
	}
	return f;
}

static int brokered(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (base != SOCK_RAW)
		return 0;
	return (domain == AF_INET && protocol == IPPROTO_ICMP) ||
	       (domain == AF_INET6 && protocol == IPPROTO_ICMPV6);
}

RB_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = next_socket()(domain, type, protocol);
	int saved = errno;

	if (fd >= 0 || (saved != EPERM && saved != EACCES) ||
	    !brokered(domain, type, protocol) || getauxval(AT_SECURE))
		return fd;
	fd = rb_socket(domain, type, protocol);
	if (fd < 0)
		errno = saved;
	return fd;
}
