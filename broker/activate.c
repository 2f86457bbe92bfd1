/* SPDX-License-Identifier: MIT */
/*
 * activate.c - socket activation (systemd, sd_listen_fds(3) protocol).
 *
 * When LISTEN_PID names this process and LISTEN_FDS is 1, descriptor 3 is
 * the listening socket, made by the service manager: the broker uses it
 * instead of binding its own.  It must be what the broker would have made
 * (checked with getsockopt, sd_is_socket() style): AF_UNIX, SOCK_SEQPACKET,
 * listening; anything else stops the broker.  The variables are removed so
 * a supervised command does not see them.  Its path and mode are the
 * manager's (ListenSequentialPacket=, SocketMode=); the broker neither
 * chmods it nor removes it at exit.
 */
#include "activate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define LISTEN_FDS_START 3

static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool activated;

/* The int option NAME of FD (>= 0 for the ones asked here), or -errno
 * (not a socket, or no descriptor at all). */
static int sockopt(int fd, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, name, &v, &len) < 0)
		return -errno;
	return v;
}

int activate_listener(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *err = NULL;
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	long long p, n;
	int fd = LISTEN_FDS_START;

	if (!pid || !fds)
		return -ENOENT;
	p = strtonum(pid, 1, INT32_MAX, &err);
	if (err || p != getpid())
		return -ENOENT; /* meant for another process */
	n = strtonum(fds, 0, INT32_MAX, &err);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (err || n != 1)
		fatalx("socket activation: LISTEN_FDS=%s, expected exactly one socket", fds);
	if (sockopt(fd, SO_DOMAIN) != AF_UNIX || sockopt(fd, SO_TYPE) != SOCK_SEQPACKET ||
	    sockopt(fd, SO_ACCEPTCONN) != 1)
		fatalx("socket activation: descriptor 3 is not a listening AF_UNIX "
		       "SOCK_SEQPACKET socket (ListenSequentialPacket= in the .socket unit)");
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		fatal("socket activation: fcntl");
	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 && sun.sun_path[0])
		memcpy(path, sun.sun_path, sizeof(path) - 1);
	activated = true;
	log_event(LOG_LVL_INFO, "socket activation", "fd=%d socket=%s", fd,
		  path[0] ? path : "-");
	return fd;
}

const char *activated_path(void)
{
	return activated ? path : NULL;
}
