/* SPDX-License-Identifier: MIT */
/* frame.c - see frame.h.  Checks in the order of STYLE.md #3 and #7: length
 * and truncation first, then control data level/type/length, then the fd
 * count; anything unexpected closes every received descriptor. */
#include "frame.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for as many descriptors as the kernel passes in one message: any
 * that did not fit would be dropped inside recvmsg(), whose close of them
 * could block the caller (see broker/closer.c). */
#define RB_FRAME_CMSG_FDS RB_FRAME_MAX_FDS

static void (*discard_fn)(int fd) = rb_fd_discard;

void rb_frame_set_discard(void (*discard)(int fd))
{
	discard_fn = discard ? discard : rb_fd_discard;
}

int rb_frame_send(int sock, const void *buf, size_t len, int fd, unsigned flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (len == 0 || len > RB_FRAME_MAX)
		return -EMSGSIZE;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cmsg, 0, sizeof(cmsg));
		msg.msg_control = cmsg.buf;
		msg.msg_controllen = sizeof(cmsg.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg,
			    MSG_NOSIGNAL | ((flags & RB_FRAME_DONTWAIT) ? MSG_DONTWAIT : 0));
	} while (n < 0 && errno == EINTR && !(flags & RB_FRAME_EINTR));
	if (n < 0)
		return -errno;
	if ((size_t)n != len) /* cannot happen on SOCK_SEQPACKET */
		return -EIO;
	return 0;
}

/* A socket is reset first (linger 0): a peer could otherwise hand over a
 * TCP socket set to linger for an hour, and our close() of the last
 * reference would wait that long.  (setsockopt fails harmlessly on anything
 * that is not a socket.) */
void rb_fd_discard(int fd)
{
	static const struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(fd);
}

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		discard_fn(fds[i]);
}

ssize_t rb_frame_recv(int sock, void *buf, size_t cap, int *fd, unsigned flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * RB_FRAME_CMSG_FDS)];
	} cmsg;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cmsg.buf,
		.msg_controllen = sizeof(cmsg.buf),
	};
	int fds[RB_FRAME_CMSG_FDS];
	size_t nfds = 0;
	bool bad_cmsg = false;
	ssize_t n;

	if (fd)
		*fd = -1;
	if (cap == 0 || ((flags & RB_FRAME_ACCEPT_FD) && !fd))
		return -EINVAL;
	do {
		n = recvmsg(sock, &msg,
			    MSG_CMSG_CLOEXEC |
				    ((flags & RB_FRAME_DONTWAIT) ? MSG_DONTWAIT : 0));
	} while (n < 0 && errno == EINTR && !(flags & RB_FRAME_EINTR));
	if (n < 0)
		return -errno;

	/* Collect every descriptor first, whatever else is wrong, so that none
	 * leaks on an error path. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t len, k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			bad_cmsg = true;
			continue;
		}
		len = c->cmsg_len - CMSG_LEN(0);
		if (len % sizeof(int))
			bad_cmsg = true;
		for (k = 0; k + sizeof(int) <= len; k += sizeof(int)) {
			int r;

			memcpy(&r, CMSG_DATA(c) + k, sizeof(int));
			if (nfds < RB_FRAME_CMSG_FDS)
				fds[nfds++] = r;
			else
				discard_fn(r), bad_cmsg = true;
		}
	}

	if (n == 0) {
		close_all(fds, nfds);
		return 0;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		close_all(fds, nfds);
		return -EMSGSIZE;
	}
	if ((msg.msg_flags & MSG_CTRUNC) || bad_cmsg || nfds > 1 ||
	    (nfds == 1 && !(flags & RB_FRAME_ACCEPT_FD))) {
		close_all(fds, nfds);
		return -EPROTO;
	}
	if (nfds == 1)
		*fd = fds[0];
	return n;
}
