/* SPDX-License-Identifier: MIT */
/*
 * frame.h - one protocol message per SOCK_SEQPACKET record, with at most one
 * file descriptor attached.  The only code in rawbroker that calls
 * sendmsg()/recvmsg() on the broker connection.
 *
 * Pure: no logging, no exit; functions return -errno.
 */
#ifndef RAWBROKER_FRAME_H
#define RAWBROKER_FRAME_H

#include <stddef.h>
#include <sys/types.h>

/* Largest record either side sends or accepts. */
#define RB_FRAME_MAX 4096

/* The kernel's limit on descriptors in one message; rb_frame_recv() makes
 * room for all of them so that none is dropped (and closed) inside
 * recvmsg() itself. */
#define RB_FRAME_MAX_FDS 253

/* rb_frame_recv() flags */
#define RB_FRAME_ACCEPT_FD (1u << 0) /* one SCM_RIGHTS fd may come along */
#define RB_FRAME_DONTWAIT (1u << 1)  /* MSG_DONTWAIT */
#define RB_FRAME_EINTR (1u << 2)     /* return -EINTR instead of retrying */

/*
 * Send LEN bytes (1..RB_FRAME_MAX) as one record, with FD attached unless it
 * is -1.  Never raises SIGPIPE.  Returns 0 or -errno: -EMSGSIZE for a bad
 * length, -EAGAIN when the peer's queue is full and RB_FRAME_DONTWAIT was
 * given, -EPIPE/-ECONNRESET when the peer is gone.
 */
int rb_frame_send(int sock, const void *buf, size_t len, int fd, unsigned flags);
/* (flags: RB_FRAME_DONTWAIT, RB_FRAME_EINTR) */

/*
 * Receive one record into BUF (CAP bytes).  Returns its length (> 0), 0 when
 * the peer has closed (an empty record counts as closing), or -errno:
 *   -EMSGSIZE  the record did not fit in CAP (it is discarded);
 *   -EPROTO    control data was truncated (MSG_CTRUNC), was not SCM_RIGHTS,
 *              carried more than one fd, or carried one without
 *              RB_FRAME_ACCEPT_FD;
 *   -EAGAIN    nothing queued (with RB_FRAME_DONTWAIT).
 * Descriptors arrive close-on-exec.  On any error, and whenever the record
 * is not returned, every received descriptor is closed.  *FD (may be NULL
 * without RB_FRAME_ACCEPT_FD) is the received descriptor or -1.
 */
ssize_t rb_frame_recv(int sock, void *buf, size_t cap, int *fd, unsigned flags);

/* Close a descriptor nobody should have sent: a socket is reset first
 * (SO_LINGER 0) so that its own close does not linger. */
void rb_fd_discard(int fd);

/* How rb_frame_recv() gets rid of descriptors it rejects; default
 * rb_fd_discard.  The broker installs one that closes them off its event
 * loop (broker/closer.c), since a close can still block. */
void rb_frame_set_discard(void (*discard)(int fd));

#endif /* RAWBROKER_FRAME_H */
