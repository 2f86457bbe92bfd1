/* SPDX-License-Identifier: MIT */
/*
 * ioguard.h - a bound on the seccomp ioctls of the event loop that can
 * sleep on a client's behalf (SECCOMP_IOCTL_NOTIF_RECV, _ADDFD).
 *
 * The loop marks each such call with ioguard_enter()/ioguard_leave(): two
 * stores to a counter (odd: inside), no system call.  A watchdog thread
 * looks at the counter every IOGUARD_TICK_MS while any notify listener is
 * attached; when the loop has been inside the same call at two ticks in a
 * row (between one and two ticks), it fires a timer that sends
 * IOGUARD_SIGNAL to the loop thread.  Its handler does nothing and is
 * installed without SA_RESTART, so the ioctl returns EINTR; the caller
 * decides what that means (usernotif.c).  The signal is not in the
 * signalfd mask.  See ioguard.c for why a stray signal is harmless.
 */
#ifndef RAWBROKER_IOGUARD_H
#define RAWBROKER_IOGUARD_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#define IOGUARD_TICK_MS 50
/* A real-time signal: nothing else in the broker uses it, and it is not in
 * the signalfd mask (server.c). */
#define IOGUARD_SIGNAL (SIGRTMIN + 1)

extern atomic_ulong ioguard_seq;
extern atomic_ulong ioguard_target; /* the call the watchdog last fired at */

/* From the loop thread, after the sandbox, with the signalfd mask blocked:
 * the handler, the timer aimed at this thread, the watchdog thread.  0 or
 * -errno (then nothing is bounded: the caller says so). */
int ioguard_start(void);

/* A notify listener came (+1) or went (-1): the watchdog ticks only while
 * there is one. */
void ioguard_listeners(int delta);

/* How many guarded calls the watchdog interrupted (the metrics, tests). */
unsigned long ioguard_fired(void);

static inline void ioguard_enter(void)
{
	/* One writer (the loop): a plain increment, published to the watchdog. */
	atomic_store_explicit(&ioguard_seq,
			      atomic_load_explicit(&ioguard_seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

/*
 * After a guarded call failed with EINTR, before ioguard_leave(): whether
 * the watchdog aimed that signal at this call (a cut), rather than at one
 * that ended before it fired (a stray signal: the caller tries again).
 */
static inline bool ioguard_was_cut(void)
{
	return atomic_load_explicit(&ioguard_target, memory_order_acquire) ==
	       atomic_load_explicit(&ioguard_seq, memory_order_relaxed);
}

static inline void ioguard_leave(void)
{
	ioguard_enter(); /* even again: outside */
}

#endif /* RAWBROKER_IOGUARD_H */
