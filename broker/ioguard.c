/* SPDX-License-Identifier: MIT */
/*
 * ioguard.c - the watchdog of the loop's sleeping seccomp ioctls (see
 * ioguard.h).
 *
 * Why this shape: the fast path (a grant) pays two stores and nothing
 * else; arming a per-call timer would cost two system calls per guarded
 * ioctl.  The watchdog costs IOGUARD_TICK_MS wake-ups (20/s) only while a
 * notify listener is attached, and sleeps on a condition variable
 * otherwise.
 *
 * Why a timer and not tgkill(): the timer is created once, aimed at the
 * loop thread (SIGEV_THREAD_ID), and timer_settime() can reach only this
 * process's own timers, so the sandbox (sandbox.c) allows timer_create and
 * timer_settime rather than a kill call that could signal other processes
 * of the broker's user.
 *
 * A stray signal: the watchdog may fire just as the loop leaves the stuck
 * call.  The handler does nothing; the signal then either lands while the
 * loop runs user code (no effect), or interrupts whatever the loop sleeps
 * in next: epoll_wait, the maker round trip (poll, recvmsg), the log's
 * write and the unguarded listener ioctls (ID_VALID, SEND) retry on EINTR,
 * and a guarded RECV or ADDFD retries unless the watchdog named it
 * (ioguard_target, ioguard_was_cut()).
 */
#include "ioguard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

atomic_ulong ioguard_seq;
atomic_ulong ioguard_target;
static atomic_ulong fired;
static timer_t timer;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static int nlisteners;
static bool started;

static void on_signal(int sig)
{
	(void)sig; /* only to interrupt the loop's ioctl: see ioguard.h */
}

static void *watch(void *arg)
{
	unsigned long last = 0;

	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		struct timespec t;
		unsigned long s;

		while (nlisteners <= 0) {
			pthread_cond_wait(&cv, &mu);
			last = 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += IOGUARD_TICK_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cv, &mu, &t);
		/* Sample and fire without the lock: the loop takes it in
		 * ioguard_listeners() and must never wait for us. */
		pthread_mutex_unlock(&mu);
		s = atomic_load_explicit(&ioguard_seq, memory_order_acquire);
		if ((s & 1) && s == last) {
			/* The same call at two ticks: past the bound.  Fire
			 * again at each later tick while it stays (a signal
			 * that came before the call went to sleep is spent). */
			struct itimerspec now = { .it_value = { .tv_nsec = 1 } };

			/* Named before it fires: a signal that arrives after
			 * the call ended, in a later guarded call, is told
			 * apart there (ioguard_was_cut()) and retried. */
			atomic_store_explicit(&ioguard_target, s, memory_order_release);
			timer_settime(timer, 0, &now, NULL);
			atomic_fetch_add_explicit(&fired, 1, memory_order_relaxed);
		}
		last = s;
		pthread_mutex_lock(&mu);
	}
	return NULL;
}

int ioguard_start(void)
{
	struct sigaction sa;
	struct sigevent sev;
	sigset_t one, all, old;
	pthread_condattr_t ca;
	pthread_t t;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the ioctl must return EINTR */
	if (sigaction(IOGUARD_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&one);
	sigaddset(&one, IOGUARD_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = IOGUARD_SIGNAL;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0)
		return -errno;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	/* The watchdog takes no signal: the timer aims at the loop alone. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, NULL, watch, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_detach(t);
	pthread_mutex_lock(&mu);
	started = true;
	pthread_mutex_unlock(&mu);
	return 0;
}

void ioguard_listeners(int delta)
{
	/* Counted before the start too: supervisor mode attaches first. */
	pthread_mutex_lock(&mu);
	nlisteners += delta;
	if (started)
		pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

unsigned long ioguard_fired(void)
{
	return atomic_load_explicit(&fired, memory_order_relaxed);
}
