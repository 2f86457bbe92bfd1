/* SPDX-License-Identifier: MIT */
/*
 * closer.c - close what clients may have booby-trapped, off the event loop.
 *
 * Closing a descriptor can block in the kernel: a TCP socket set to linger
 * waits for its peer, a FUSE file waits for its daemon, and closing a unix
 * socket releases whatever descriptors are still queued inside it, with
 * the same waits.  A client controls all of these.  So the loop never does
 * the final close of a client connection that could hold descriptors, or
 * of a descriptor a client sent: it queues them for a few worker threads,
 * which may block without stopping anyone else.
 *
 * A worker busy on one close for longer than CLOSER_STUCK_MS is counted as
 * stuck and left to the kernel (nothing can interrupt some of these waits).
 * When every worker is stuck, closer_has_capacity() says so: the broker
 * then refuses the one kind of request that lets a client hand it a
 * descriptor (set_option), and logs why, while plain grants go on.  The
 * queue holds at most what connections and their one pending descriptor
 * can put in it.
 *
 * The front's own granted sockets come here too, in batches
 * (closer_release_batch(), server.c says why): raw and datagram sockets,
 * which never linger, closed with one close_range() per run of numbers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "frame.h"
#include "log.h"
#include "maker/closefds.h"

#define CLOSER_WORKERS 4
#define CLOSER_STUCK_MS 1000

struct close_job {
	struct close_job *next;
	unsigned *pending; /* counted down when done, or NULL */
	bool batch;        /* granted sockets of ours: FD[0..N) closed as they are */
	unsigned n;        /* else one descriptor a client controls, reset first */
	int fd[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct close_job *head, *tail;
static bool started;
static struct {
	bool busy;
	int64_t since; /* CLOCK_MONOTONIC ms */
} workers[CLOSER_WORKERS];

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *closer_main(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;

	for (;;) {
		struct close_job *j;

		pthread_mutex_lock(&lock);
		while (!head)
			pthread_cond_wait(&cond, &lock);
		j = head;
		head = j->next;
		if (!head)
			tail = NULL;
		workers[me].busy = true;
		workers[me].since = mono_ms();
		pthread_mutex_unlock(&lock);

		if (j->batch)
			rb_close_fds(j->fd, j->n);
		else
			rb_fd_discard(j->fd[0]); /* sockets reset first: less to wait for */
		if (j->pending) /* read by the loop thread without the lock */
			__atomic_fetch_sub(j->pending, j->n, __ATOMIC_RELEASE);
		free(j);

		pthread_mutex_lock(&lock);
		workers[me].busy = false;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* Call with all signals blocked, after the privilege drop: the threads
 * inherit both, so signals still reach the loop's signalfd alone. */
void closer_start(void)
{
	for (unsigned i = 0; i < CLOSER_WORKERS; i++) {
		pthread_attr_t attr;
		pthread_t t;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		if (pthread_create(&t, &attr, closer_main, (void *)(uintptr_t)i) != 0)
			fatalx("cannot start the closer threads");
		pthread_attr_destroy(&attr);
	}
	started = true;
	/* Every descriptor frame.c rejects goes the same way. */
	rb_frame_set_discard(closer_release);
}

static void enqueue(struct close_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&lock);
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

void closer_release_counted(int fd, unsigned *pending)
{
	struct close_job *j;

	if (fd < 0)
		return;
	j = started ? malloc(sizeof(*j) + sizeof(int)) : NULL;
	if (!j) { /* before the loop (nothing of a client's yet), or no memory */
		rb_fd_discard(fd);
		if (pending)
			__atomic_fetch_sub(pending, 1, __ATOMIC_RELEASE);
		return;
	}
	j->pending = pending;
	j->batch = false;
	j->n = 1;
	j->fd[0] = fd;
	enqueue(j);
}

void closer_release_batch(const int *fds, unsigned n, unsigned *pending)
{
	struct close_job *j;

	if (n == 0)
		return;
	j = started ? malloc(sizeof(*j) + n * sizeof(int)) : NULL;
	if (!j) { /* no memory: at once, here (maybe the last reference) */
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		if (pending)
			__atomic_fetch_sub(pending, n, __ATOMIC_RELEASE);
		return;
	}
	j->pending = pending;
	j->batch = true;
	j->n = n;
	memcpy(j->fd, fds, n * sizeof(int));
	enqueue(j);
}

void closer_release(int fd)
{
	closer_release_counted(fd, NULL);
}

bool closer_has_capacity(void)
{
	int64_t now = mono_ms();
	unsigned free_workers = 0;
	bool queued;

	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < CLOSER_WORKERS; i++)
		if (!workers[i].busy || now - workers[i].since < CLOSER_STUCK_MS)
			free_workers++;
	queued = head != NULL;
	pthread_mutex_unlock(&lock);
	return free_workers > 0 && !(queued && free_workers < CLOSER_WORKERS / 2);
}
