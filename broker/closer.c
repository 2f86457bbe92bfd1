/* SPDX-License-Identifier: MIT */
/*
 * closer.c - close what clients may have booby-trapped, off the event loop.
 *
 * Closing a descriptor can block in the kernel: a TCP socket set to linger
 * waits for its peer, a FUSE file waits for its daemon, and closing a unix
 * socket releases whatever descriptors are still queued inside it, with
 * the same waits.  A client controls all of these.  So the loop never does
 * the final close of a client connection or of a descriptor a client sent:
 * it hands them to this thread, which may block without stopping anyone
 * else.  Only descriptor numbers travel through the pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "broker.h"
#include "frame.h"
#include "log.h"

static int closer_pipe[2] = { -1, -1 };

static void *closer_main(void *arg)
{
	int fd;

	(void)arg;
	while (read(closer_pipe[0], &fd, sizeof(fd)) == sizeof(fd))
		rb_fd_discard(fd); /* sockets reset first: less to wait for */
	return NULL;
}

/* Hand FD to the closer thread, or close it here if that is not possible
 * (no thread yet, or a queue of thousands: then waiting is the lesser
 * harm). */
static void closer_close(int fd)
{
	if (closer_pipe[1] < 0 || write(closer_pipe[1], &fd, sizeof(fd)) != sizeof(fd))
		rb_fd_discard(fd);
}

/* Call with all signals blocked, after the privilege drop: the thread
 * inherits both, so signals still reach the loop's signalfd alone. */
void closer_start(void)
{
	pthread_attr_t attr;
	pthread_t t;

	if (pipe2(closer_pipe, O_CLOEXEC) < 0)
		fatal("pipe2");
	/* Never block the loop on a full pipe. */
	if (fcntl(closer_pipe[1], F_SETFL, O_NONBLOCK) < 0)
		fatal("fcntl");
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (pthread_create(&t, &attr, closer_main, NULL) != 0)
		fatalx("cannot start the closer thread");
	pthread_attr_destroy(&attr);
	/* Every descriptor frame.c rejects goes the same way. */
	rb_frame_set_discard(closer_close);
}

void closer_release(int fd)
{
	closer_close(fd);
}
