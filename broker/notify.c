/* SPDX-License-Identifier: MIT */
/* notify.c - see notify.h.  The socket is made before the sandbox; the
 * one send names the address each time (sendmsg with msg_name), so the
 * sandbox needs neither socket() nor connect() for it.  The manager learns
 * who sent it from the credentials the kernel attaches (SO_PASSCRED on its
 * side): nothing here claims an identity. */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

int notify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (!e || !*e)
		return 0;
	n = strlen(e);
	/* A path or an abstract name ("@...", the '@' becomes a NUL); vsock
	 * and the like are not served. */
	if ((e[0] != '/' && e[0] != '@') || n >= sizeof(notify_addr.sun_path)) {
		unsetenv("NOTIFY_SOCKET");
		return -EAFNOSUPPORT;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, e, n);
	if (e[0] == '@')
		notify_addr.sun_path[0] = '\0';
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
	unsetenv("NOTIFY_SOCKET");
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return notify_fd < 0 ? -errno : 0;
}

void notify_ready(size_t rules, size_t max_conns)
{
	char buf[160];
	struct iovec iov = { .iov_base = buf };
	struct msghdr mh = { .msg_name = &notify_addr, .msg_namelen = notify_len,
			     .msg_iov = &iov, .msg_iovlen = 1 };
	int n;

	if (notify_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "READY=1\nSTATUS=serving: %zu rules, at most %zu connections",
		     rules, max_conns);
	iov.iov_len = (size_t)n;
	if (sendmsg(notify_fd, &mh, MSG_NOSIGNAL) < 0)
		log_warn("notify the service manager (NOTIFY_SOCKET)");
	close(notify_fd);
	notify_fd = -1;
}
