/* SPDX-License-Identifier: MIT */
/*
 * usernotif.c - socket() by seccomp user notification (see usernotif.h).
 *
 * A program under a notify profile (policy/client_seccomp.h,
 * RB_SECCOMP_NOTIFY) stops in the kernel at each raw socket(), ICMP
 * datagram socket() and setsockopt(IPV6_HOPOPTS/IPV6_DSTOPTS); the front,
 * holding the filter's listener, answers:
 *
 *  1. SECCOMP_IOCTL_NOTIF_RECV: the call, its arguments and the notifying
 *     task's pid as the front's pid namespace sees it (0: not visible:
 *     refused).
 *  2. Who it is: its effective uid and gid and its supplementary groups.
 *     For the supervised command, the identity the relay gave it, read
 *     once (notif_origin.has_identity; supervise_identity() says why no
 *     task of its tree can change it).  For a container's listener, from
 *     /proc/PID/status, read with a bounded, streaming parser, as the
 *     front's user namespace sees them (the host's uids for a rootless
 *     container).  Then SECCOMP_IOCTL_NOTIF_ID_VALID, after every read:
 *     the task is still in the call, so PID was its pid all along (no
 *     other task can have taken it), and it has not changed its
 *     credentials (a thread changes only its own, and a signal ends the
 *     call: a new notification).
 *  3. Its network namespace, when the origin asks (check_netns): the
 *     inode of PID/net/dev against the front's own /proc/self/net/dev.
 *     Each namespace has its own proc entries, with inode numbers unique
 *     while the namespace lives (ours does), so equal means the same
 *     namespace.  This needs no privilege, where /proc/PID/ns/net needs
 *     ptrace access to the task (measured as user nobody: a stat of a root
 *     process's PID/net/dev works, a readlink of its ns/net is refused;
 *     inodes equal within a namespace, different across).  A task
 *     elsewhere is refused
 *     with a log line: the broker's sockets belong to the broker's
 *     namespace.
 *  4. The decision and the socket: dispatch_socket(), the code a unix
 *     socket request goes through (policy, per-uid grant rate, ready pool,
 *     hand-off, audit line with via=notify, counters).
 *  5. The answer: SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND
 *     puts the socket into the task and makes its number the call's return
 *     value in one step (deliver_addfd() says why nothing may interrupt
 *     it); O_CLOEXEC iff the call asked SOCK_CLOEXEC, and O_NONBLOCK (a
 *     file status flag, shared) was set at hand-off iff it asked
 *     SOCK_NONBLOCK.  ENOENT or ESRCH means the task left the call
 *     (killed, or a signal): the socket is closed; the grant stays counted
 *     (the maker made the socket, and a task leaving its calls on purpose
 *     must not make it work beyond its rate).
 *
 * Refusals answer what the program would have got without the broker: a
 * raw socket EPERM (what the kernel says without CAP_NET_RAW, and what the
 * deny profile says), EAGAIN when the uid is over its grant rate (as the
 * shim and rb_socket() say), EINVAL for flags the kernel does not know.
 * An ICMP datagram socket or one of the two IPv6 options the broker does
 * not serve goes on to the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE),
 * which then decides as it always would: EACCES outside ping_group_range,
 * EPERM without CAP_NET_RAW.  That is safe: neither is in the deny
 * profile, so continuing gives the program nothing it could not do anyway.
 *
 * Never let a client hold anyone but itself.  Each listener has a thread
 * of its own (listener_main()), which alone waits on it (poll), receives,
 * reads who asks and answers; the shared state (policy, rate limits, pool,
 * maker link, log, counters, pending option calls) it touches only under
 * the front lock (front_lock(), server.c), which it never holds across an
 * ioctl on its listener (each takes the filter's notify_lock, which a task
 * of the client's can hold while kept off the CPU) nor across a /proc
 * read.  Two ioctls can sleep on a client, and each holds up only its own
 * listener's thread: RECV, after poll said readable, sleeps when another
 * process holds a copy of the listener and took the notification first
 * (the thread then waits for the next one; the other process has the
 * calls); ADDFD waits for the task to take the descriptor in its own
 * context, which a task kept off the CPU (SCHED_IDLE beside busy loops)
 * delays for as long as its sender starves it.  /proc reads take no lock
 * a task can hold (status reads no memory of the task); a setsockopt() on
 * the task's socket (which takes a lock the task can hold) is the
 * maker's, on a worker thread there, and the relay's answer is read by
 * the loop when epoll says so.  The loop itself makes no ioctl on a
 * listener: the option answers it learns it hands to that listener's
 * thread to send (deed()).
 */
#include "usernotif.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "maker/maker.h"
#include "maker_link.h"
#include "peerindex.h"
#include "procstatus.h"
#include "supervise.h"
#include "uidlimits.h"

#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1) /* Linux 5.14 */
#endif


/*
 * The /proc entries of the last few notifying tasks of one listener, kept
 * open (task_open() says why that is safe and what it saves).  Each
 * listener's thread has its own: nothing here is shared between threads.
 */
#define TASKS_KEPT 4     /* per listener */
#define TASKS_KEPT_ALL 8 /* all listeners together (FDS_RESERVED, main.c) */

struct task_entry {
	pid_t pid;  /* 0: free */
	int net;    /* /proc/PID/net, O_PATH; -1 without check_netns */
	int status; /* /proc/PID/status; -1 for a fixed identity */
	uint64_t used;
};

struct listener {
	int fd;              /* -1: a free slot */
	bool live;           /* its thread runs (the slot is not free until it ends) */
	bool check_netns;
	bool owned;          /* OWNER counts against its notif_origin.owner_max */
	uid_t owner;
	char what[96];
	uint64_t served, refused; /* under the front lock */
	/* The thread's own, never touched by another thread: */
	pthread_t thread;
	struct task_entry tasks[TASKS_KEPT];
	struct task_entry transient; /* when TASKS_KEPT_ALL are taken: one call's */
	uint64_t task_clock;
	gid_t *groups;       /* NGROUPS_MAX: one task's groups while parsing */
	/* notif_origin.has_identity: every task's, fixed (FGROUPS: ours) */
	bool fixed;
	uid_t fuid;
	gid_t fgid;
	gid_t *fgroups;
	size_t nfgroups;
};

/* A listener's option helper (supervise.c's relay): its end of the
 * socketpair, watched by the loop. */
struct helper {
	int fd;   /* -1: none */
	bool in_epoll;
	int wake; /* eventfd: option answers for the listener's thread to
		   * send (deed()); -1 without a helper */
};

/* Listeners and their helpers in one block, so one range check tells the
 * loop's epoll cookies of this file from its connections. */
static struct {
	struct listener l[USERNOTIF_MAX];
	struct helper h[USERNOTIF_MAX];
	char wake; /* the epoll cookie of WAKE_FD */
} U;
#define listeners U.l
static bool slots_ready;
static struct broker *front_broker; /* usernotif_start(): for the threads */
static bool running;      /* server_run() has started the threads */
static bool stopping;     /* usernotif_shutdown(): no thread starts any more */
static unsigned live;     /* threads running (under the front lock) */
/* Eventfds made before the sandbox (usernotif_init()): STOP_FD, never
 * read, turns readable once at shutdown and wakes every listener's thread
 * from its poll(); WAKE_FD wakes the loop when a thread read an option
 * result from the maker that only the loop may deliver. */
static int stop_fd = -1, wake_fd = -1;
static uint32_t native_arch;
static atomic_bool no_flag_send; /* a kernel before 5.14: ADDFD, then SEND */
static struct stat self_net; /* /proc/self/net/dev: our network namespace */
static bool self_net_known;
/* The kernel's overflow ids, read at start (usernotif_init()). */
static struct proc_overflow overflow = { .uid = 65534, .gid = 65534 };

static void tasks_forget_all(struct listener *l);
static void *listener_main(void *arg);

static void slots_init(void)
{
	if (slots_ready)
		return;
	for (unsigned i = 0; i < USERNOTIF_MAX; i++)
		listeners[i].fd = U.h[i].fd = U.h[i].wake = -1;
	native_arch = seccomp_arch_native(); /* SCMP_ARCH_* are the AUDIT_ARCH_* values */
	slots_ready = true;
}

/* One overflow id file into *ID; unchanged (the default) when it cannot
 * be read, with a line. */
static void read_overflow(const char *path, uint32_t *id)
{
	char buf[32];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n <= 0 || proc_overflow_parse(buf, (size_t)n, id) < 0)
		log_warnx("%s: cannot read it; taking %u as the overflow id", path,
			  (unsigned)*id);
}

void usernotif_init(void)
{
	uint32_t u = overflow.uid, g = overflow.gid;

	read_overflow("/proc/sys/kernel/overflowuid", &u);
	read_overflow("/proc/sys/kernel/overflowgid", &g);
	overflow = (struct proc_overflow){ .uid = u, .gid = g };
	/* Before the sandbox, which has no eventfd2(). */
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd < 0 || wake_fd < 0)
		fatal("eventfd (the notify listeners' threads)");
}

bool usernotif_owns(const void *p)
{
	return (const char *)p >= (const char *)&U && (const char *)p < (const char *)(&U + 1);
}

unsigned usernotif_listeners(void)
{
	unsigned n = 0;

	for (unsigned i = 0; slots_ready && i < USERNOTIF_MAX; i++)
		n += listeners[i].fd >= 0;
	return n;
}

static void pending_drop_listener(const struct listener *l);

/*
 * Under the front lock, by L's thread as it ends (or by the loop when the
 * thread never started): nothing of L's is left to another thread.  The
 * helper's end goes out of the loop's epoll; a stale event for it in a
 * pass finds fd -1 (or, once the slot is taken again, a new helper with
 * nothing to read: a DONTWAIT recvmsg).
 */
static void listener_close(struct broker *b, struct listener *l, const char *why)
{
	struct helper *h = &U.h[l - listeners];

	pending_drop_listener(l);
	if (h->fd >= 0) {
		if (h->in_epoll)
			epoll_ctl(b->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		/* Through the closer too: a reply of the relay's may still be
		 * queued on it with a descriptor the task chose (a lingering
		 * TCP socket, say), whose last reference this close would drop
		 * with the front lock held (review2's finding). */
		closer_release(h->fd);
		h->fd = -1;
		h->in_epoll = false;
	}
	if (h->wake >= 0) {
		close(h->wake); /* an eventfd: never blocks */
		h->wake = -1;
	}
	/* Through the closer: a listener's release takes the filter's
	 * notify_lock uninterruptibly, and a task of the client's can hold
	 * that lock while it is kept off the CPU. */
	closer_release(l->fd);
	log_event(LOG_LVL_INFO, "notify listener closed",
		  "origin=%s served=%llu refused=%llu why=\"%s\"",
		  log_q((char[LOG_Q_MAX]){ 0 }, l->what), (unsigned long long)l->served,
		  (unsigned long long)l->refused, why);
	l->fd = -1;
	tasks_forget_all(l); /* (their tasks are gone, or will be asked for anew) */
}

/* Under the front lock, from the loop: L's helper into the loop's epoll
 * (the listener itself is its thread's). */
static int helper_watch(struct broker *b, struct listener *l)
{
	struct helper *h = &U.h[l - listeners];

	if (h->fd >= 0 && !h->in_epoll) {
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, h->fd,
			      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = h }) < 0)
			return -errno;
		h->in_epoll = true;
	}
	return 0;
}

/*
 * Under the front lock, from the loop: L's thread, which owns the listener
 * from now on.  Every signal blocked in it (the loop's signalfd takes
 * them; an ioctl of the thread is never interrupted, see deliver_addfd()).
 */
static int listener_run(struct broker *b, struct listener *l)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if (!l->groups) {
		l->groups = malloc(NGROUPS_MAX * sizeof(gid_t)); /* kept for the slot */
		if (!l->groups)
			return -ENOMEM;
	}
	r = helper_watch(b, l);
	if (r < 0)
		return r;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Its deepest frames: a /proc read buffer, an audit line (and room
	 * for a sanitizer build's redzones). */
	pthread_attr_setstacksize(&attr, 512 * 1024);
	/* Every signal blocked in the thread: one would interrupt an
	 * ADDFD|FLAG_SEND, after which its task's socket() returns 0.  glibc
	 * keeps its own two (SIGCANCEL, SIGSETXID) deliverable: SIGSETXID
	 * goes to every thread when the process changes its ids, so nothing
	 * may call setuid(), setgroups() and the like once threads run
	 * (nothing does: the front drops before serving). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	l->live = true; /* before it can end */
	r = pthread_create(&l->thread, &attr, listener_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		l->live = false;
		return -r;
	}
	live++;
	return 0;
}

int usernotif_attach_helper(struct broker *b, int listener, const struct notif_origin *o,
			    int helper)
{
	struct listener *l = NULL;
	int r;

	slots_init();
	if (o->owner_max) {
		unsigned held = 0;

		for (unsigned i = 0; i < USERNOTIF_MAX; i++)
			held += listeners[i].fd >= 0 && listeners[i].owned &&
				listeners[i].owner == o->owner;
		if (held >= o->owner_max) {
			closer_release(listener);
			if (helper >= 0)
				close(helper);
			return -EUSERS;
		}
	}
	/* A free slot whose thread has ended too (a thread clears LIVE
	 * last, under the lock; until then the slot is still its). */
	for (unsigned i = 0; i < USERNOTIF_MAX && !l; i++)
		if (listeners[i].fd < 0 && !listeners[i].live)
			l = &listeners[i];
	if (!l || stopping) {
		closer_release(listener);
		if (helper >= 0)
			close(helper);
		return -ENOSPC;
	}
	if (o->check_netns && !self_net_known) {
		if (stat("/proc/self/net/dev", &self_net) < 0) {
			r = -errno;
			closer_release(listener);
			if (helper >= 0)
				close(helper);
			return r;
		}
		self_net_known = true;
	}
	free(l->fgroups); /* a former listener's of this slot */
	l->fgroups = NULL;
	l->fixed = false;
	if (o->has_identity) {
		struct proc_status s = { .uid = o->uid, .gid = o->gid, .ngroups = o->ngroups,
					 .groups = (gid_t *)o->groups, .has_uid = true,
					 .has_gid = true, .has_groups = true };

		/* An unmapped id cannot be told (as for a task's status):
		 * then each call's task is read, and refused. */
		l->fgroups = malloc((o->ngroups ? o->ngroups : 1) * sizeof(gid_t));
		if (l->fgroups && !proc_status_unmapped(&s, &overflow)) {
			memcpy(l->fgroups, o->groups, o->ngroups * sizeof(gid_t));
			l->nfgroups = o->ngroups;
			l->fuid = o->uid;
			l->fgid = o->gid;
			l->fixed = true;
		}
	}
	if (helper >= 0) {
		/* Made here, before the sandbox (which has no eventfd2()):
		 * supervisor mode alone has a helper, and starts first. */
		int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (wake < 0) {
			r = -errno;
			closer_release(listener);
			close(helper);
			return r;
		}
		U.h[l - listeners] = (struct helper){ .fd = helper, .wake = wake };
	} else {
		U.h[l - listeners] = (struct helper){ .fd = -1, .wake = -1 };
	}
	l->fd = listener;
	l->check_netns = o->check_netns;
	l->owned = o->owner_max > 0;
	l->owner = o->owner;
	l->served = l->refused = 0;
	snprintf(l->what, sizeof(l->what), "%s", o->what ? o->what : "-");
	if (running) {
		r = listener_run(b, l);
		if (r < 0) {
			listener_close(b, l, "no thread for it");
			return r;
		}
	}
	log_event(LOG_LVL_INFO, "notify listener",
		  "origin=%s check_netns=%d option_proxy=%d identity=%s",
		  log_q((char[LOG_Q_MAX]){ 0 }, l->what), (int)l->check_netns, helper >= 0,
		  l->fixed ? "fixed" : "per-call");
	return 0;
}

int usernotif_attach(struct broker *b, int listener, const struct notif_origin *o)
{
	return usernotif_attach_helper(b, listener, o, -1);
}

void usernotif_start(struct broker *b)
{
	slots_init();
	front_broker = b;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, wake_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &U.wake }) < 0)
		fatal("epoll_ctl (the notify wake-up)");
	running = true;
	for (unsigned i = 0; i < USERNOTIF_MAX; i++) {
		struct listener *l = &listeners[i];
		int r;

		if (l->fd < 0 || l->live)
			continue;
		r = listener_run(b, l);
		if (r < 0) {
			errno = -r;
			log_warn("notify listener %s: no thread for it", l->what);
			listener_close(b, l, "no thread for it");
		}
	}
}

/* How long shutdown waits for the listeners' threads to end. */
#define SHUTDOWN_WAIT_MS 500

/*
 * Under the front lock, from the loop at shutdown.  Each thread in poll()
 * wakes on STOP_FD, closes its listener with its line and ends.  A thread
 * that does not end within SHUTDOWN_WAIT_MS is inside an ioctl that waits
 * for its client: RECV on a listener another process shares (it takes the
 * notifications first), or ADDFD for a task kept off the CPU.  It is left
 * there, and the process exit ends it (exit_group: SIGKILL to every
 * thread, which interrupts both waits; kernel/seccomp.c).  What its task
 * sees then: an ADDFD with SECCOMP_ADDFD_FLAG_SEND marked the call
 * answered before it waited (value 0, no error); interrupted, it withdraws
 * the descriptor, and the listener's release (seccomp_notify_detach())
 * skips answered calls: the task's socket() returns 0, a descriptor it
 * did not ask for (its fd 0, if open), once it runs.  A RECV cut short
 * leaves nothing behind: the calls still waiting get ENOSYS from the
 * release, as for every listener at exit.  We never take the lock back
 * from the loop (server.c): a left thread cannot reach what the exit
 * frees.
 */
void usernotif_shutdown(struct broker *b)
{
	int64_t end;
	uint64_t one = 1;
	struct timespec t;

	(void)b;
	slots_init();
	stopping = true;
	for (unsigned i = 0; i < USERNOTIF_MAX; i++) /* threads never started */
		if (listeners[i].fd >= 0 && !listeners[i].live)
			listener_close(b, &listeners[i], "the broker stops");
	if (!live)
		return;
	if (write(stop_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("notify listeners: wake their threads");
	clock_gettime(CLOCK_MONOTONIC, &t);
	end = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000 + SHUTDOWN_WAIT_MS;
	while (live) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000 >= end)
			break;
		front_unlock(); /* the threads close their listeners under it */
		poll(NULL, 0, 5);
		front_lock();
	}
	if (live)
		log_event(LOG_LVL_WARN, "notify listeners left at exit",
			  "threads=%u reason=\"each waits in an ioctl for its client (a task "
			  "kept off the CPU, or a listener another process shares); a socket() "
			  "waiting for its descriptor returns 0\"", live);
}

/* ---- who the notifying task is ---- */

/*
 * A listener ioctl that does not sleep on the task (ID_VALID, SEND), again
 * when a signal interrupted it: the kernel takes the listener's lock
 * interruptibly.  Only listeners' threads make them, and each blocks
 * every signal (glibc keeps SIGCANCEL and SIGSETXID deliverable: belt and
 * braces).  Taken as an answer, EINTR would leave a task in its call for
 * good.
 */
static int notif_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

static bool id_valid(const struct listener *l, uint64_t id)
{
	return notif_ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/*
 * The /proc entries of the last few notifying tasks, kept open: each open
 * of /proc/PID and of its status costs a path walk, more than the rest of a
 * grant (measured: open, read and close of status 12 us, a stat of
 * PID/net/dev 6 us; pread of a kept status and fstatat from a kept
 * directory a fraction of that).  Safe against a reused pid: an open
 * /proc/PID is bound to the task's struct pid, not to the number, and once
 * that task is gone every read through it fails with ESRCH (never another
 * task's data); the entry is then opened anew.  SECCOMP_IOCTL_NOTIF_ID_VALID
 * after the reads says the notifying task still holds PID.  Bounded: at
 * most TASKS_KEPT entries per listener and TASKS_KEPT_ALL for all of them
 * (two descriptors each), the least recently used goes; past the bound a
 * call's entry is opened for it alone (L->transient, closed after its
 * reads); an entry goes too when its task leaves a call, and all of them
 * when the listener closes.  Only L's thread touches L's entries.
 */
static atomic_uint kept_n; /* entries kept, all listeners: <= TASKS_KEPT_ALL */

static bool kept_reserve(void)
{
	unsigned n = atomic_load_explicit(&kept_n, memory_order_relaxed);

	do
		if (n >= TASKS_KEPT_ALL)
			return false;
	while (!atomic_compare_exchange_weak_explicit(&kept_n, &n, n + 1, memory_order_relaxed,
						      memory_order_relaxed));
	return true;
}

static void task_drop(struct listener *l, struct task_entry *t)
{
	if (!t->pid)
		return;
	/* /proc files: a close never blocks */
	if (t->net >= 0)
		close(t->net);
	if (t->status >= 0)
		close(t->status);
	t->pid = 0;
	if (t != &l->transient)
		atomic_fetch_sub_explicit(&kept_n, 1, memory_order_relaxed);
}

static void task_forget(struct listener *l, pid_t pid)
{
	for (unsigned i = 0; i < TASKS_KEPT; i++)
		if (l->tasks[i].pid == pid)
			task_drop(l, &l->tasks[i]);
}

static void tasks_forget_all(struct listener *l)
{
	for (unsigned i = 0; i < TASKS_KEPT; i++)
		task_drop(l, &l->tasks[i]);
	task_drop(l, &l->transient);
}

/* PID's entry, kept or opened now (FRESH: opened anew in any case). */
static int task_open(struct listener *l, pid_t pid, bool fresh, struct task_entry **out)
{
	struct task_entry *t = NULL, *lru = &l->tasks[0];
	char path[32];
	int dir, st, net, r;

	for (unsigned i = 0; i < TASKS_KEPT && !t; i++) {
		struct task_entry *e = &l->tasks[i];

		if (e->pid == pid)
			t = e;
		else if (lru->pid && (!e->pid || e->used < lru->used))
			lru = e; /* a free entry first, else the oldest */
	}
	if (t && !fresh) {
		t->used = ++l->task_clock;
		*out = t;
		return 0;
	}
	if (t)
		task_drop(l, t);
	else
		task_drop(l, t = lru);
	/* The descriptors kept are bounded for all listeners together (the
	 * front's table: main.c); past that, this call's only. */
	if (!kept_reserve())
		t = &l->transient;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	/* Both opened through the one directory, so both are the same
	 * task's (bound to its struct pid, as the directory is); a fixed
	 * identity reads no status. */
	st = l->fixed ? -1 : openat(dir, "status", O_RDONLY | O_CLOEXEC);
	net = st < 0 && !l->fixed ? -1 :
	      l->check_netns ? openat(dir, "net", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	r = -errno;
	close(dir);
	if ((st < 0 && !l->fixed) || (net < 0 && l->check_netns)) {
		if (st >= 0)
			close(st);
		if (t != &l->transient)
			atomic_fetch_sub_explicit(&kept_n, 1, memory_order_relaxed);
		return r;
	}
	*t = (struct task_entry){ .pid = pid, .net = net, .status = st, .used = ++l->task_clock };
	*out = t;
	return 0;
}

/* Read PID's credentials into S (unless L's identity is fixed), and with
 * L->check_netns whether it is in our network namespace (-EXDEV when
 * not); a kept entry whose task is gone is opened once more. */
static int read_task(struct listener *l, pid_t pid, struct proc_status *s, const char **what)
{
	struct task_entry *t = NULL;
	int r = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		struct stat st;

		*what = "status";
		r = task_open(l, pid, attempt > 0, &t);
		if (r < 0)
			return r;
		r = l->fixed ? 0 : proc_status_read(t->status, s, l->groups, NGROUPS_MAX);
		if (r == 0 && l->check_netns) {
			/* Looked up each time: "dev" under the kept PID/net is
			 * the task's namespace's of the moment (the kernel never
			 * caches the dentries under PID/net: measured too, an
			 * unshare(CLONE_NEWNET) shows at once through a kept
			 * one; and a component less than PID/net/dev, 1 us). */
			*what = "net/dev";
			if (fstatat(t->net, "dev", &st, 0) < 0)
				r = -errno;
			else if (st.st_dev != self_net.st_dev || st.st_ino != self_net.st_ino)
				r = -EXDEV;
		}
		task_drop(l, &l->transient); /* (a call's own: never kept) */
		/* ESRCH: a kept entry's task is gone; so is ENOENT from
		 * fstatat() (a lookup under a dead task's directory finds
		 * nothing), which a fixed identity meets first: open anew. */
		if (r != -ESRCH && r != -ENOENT)
			return r;
	}
	return r;
}

/*
 * The identity of notification N's task into PEER, without the front lock
 * (L's thread: /proc reads and ID_VALID only; the groups are filtered to
 * those the policy names by identity_filter(), under the lock, since a
 * reload changes that index).  0; -ENOENT when the task left the call
 * (nothing to answer); another -errno with WHY for a refusal.
 *
 * One SECCOMP_IOCTL_NOTIF_ID_VALID after all the reads covers each of
 * them: a notification that is still pending now was pending all along
 * (one that went never comes back; ids are never reused), so its task
 * lived, and held PID, through every read made before; and it has not
 * left the call, so it has not changed its credentials since.  A fixed
 * identity (supervisor mode) reads nothing of the task's but, with
 * check_netns, its network namespace; then the answer's own ioctl is the
 * check (below).
 */
static int task_identity(struct listener *l, const struct seccomp_notif *n,
			 struct rb_peer *peer, char *why, size_t whylen)
{
	struct proc_status s;
	const char *what;
	int r;

	if (n->pid == 0) {
		snprintf(why, whylen, "the task is not visible in the broker's pid namespace");
		return -ESRCH;
	}
	if (l->fixed && !l->check_netns)
		goto fixed; /* nothing of the task's to read: no ID_VALID either */
	r = read_task(l, (pid_t)n->pid, &s, &what);
	/*
	 * A fixed identity whose task is in our namespace: no ID_VALID.  The
	 * identity is not the task's /proc data, and the one read (net/dev
	 * under the task's directory) is checked by the answer itself:
	 * ADDFD or SEND name the notification, and fail when its task has
	 * left the call.  A task in its call at RECV and at the answer was
	 * in it, and held PID, all along (pid numbers are not reused while
	 * held), and a directory whose task lives is PID's holder's (an open
	 * /proc/PID is bound to the task's struct pid; a stale one fails,
	 * read_task()).  Had it left, nothing is delivered: a grant counted
	 * to the command's own uid and a "fail" line.  A refusal still asks
	 * ID_VALID first, so no refusal is logged for a task that has gone.
	 */
	if (l->fixed && r == 0)
		goto fixed;
	/* After every read: the task is still in the call. */
	if (!id_valid(l, n->id)) {
		task_forget(l, (pid_t)n->pid);
		return -ENOENT;
	}
	if (r == -EXDEV) {
		snprintf(why, whylen, "the task is in another network namespace than the "
			 "broker; its sockets would be the broker's namespace's");
		return r;
	}
	if (r < 0) {
		snprintf(why, whylen, "/proc/%u/%s: %s%s", (unsigned)n->pid, what, strerror(-r),
			 strcmp(what, "net/dev") ? "" : " (cannot tell its network namespace)");
		return r;
	}
	if (proc_status_unmapped(&s, &overflow)) {
		snprintf(why, whylen, "/proc/%u/status: %s", (unsigned)n->pid,
			 proc_status_unmapped(&s, &overflow));
		return -EOVERFLOW;
	}
	peer->pid = (pid_t)n->pid;
	peer->uid = s.uid;
	peer->gid = s.gid;
	peer->ngroups = s.ngroups;
	peer->groups = l->groups;
	return 0;
fixed:
	/* Supervisor mode: the command's identity (notif_origin), which no
	 * task of its tree can change; copied, as identity_filter() cuts
	 * the list in place. */
	peer->pid = (pid_t)n->pid;
	peer->uid = l->fuid;
	peer->gid = l->fgid;
	memcpy(l->groups, l->fgroups, l->nfgroups * sizeof(gid_t));
	peer->ngroups = l->nfgroups;
	peer->groups = l->groups;
	return 0;
}

/* Under the front lock: PEER's groups, as task_identity() read them, cut
 * to those the policy names (peerindex.c). */
static void identity_filter(struct listener *l, struct rb_peer *peer)
{
	peer->ngroups = peer_index_filter(l->groups, peer->ngroups); /* PEER's are L's */
}

/* ---- answers ---- */

/* SEND; 0 or -errno (-ENOENT: the task left the call, nothing is owed). */
static int answer_send(struct listener *l, uint64_t id, int err, bool go_on)
{
	struct seccomp_notif_resp resp = {
		.id = id,
		.error = go_on ? 0 : -err,
		.flags = go_on ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0,
	};

	return notif_ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? -errno : 0;
}

/* From a listener's thread, without the front lock: SEND takes the
 * filter's notify_lock, which a task kept off the CPU can hold.  The lock
 * only for a failure's line.  The loop never calls this, nor any ioctl
 * on a listener: its option answers go to the thread (deed()). */
static void answer(struct listener *l, uint64_t id, int err, bool go_on)
{
	int r = answer_send(l, id, err, go_on);

	if (r < 0 && r != -ENOENT) {
		front_lock();
		errno = -r;
		log_warn("notify %s: SECCOMP_IOCTL_NOTIF_SEND", l->what);
		front_unlock();
	}
}

struct call {
	struct listener *l;
	uint64_t id;
	bool cloexec;
	bool gone;     /* no answer is owed (or none can be sent) */
	int addfd_err; /* another ADDFD failure: the call's answer */
	int target_fd; /* the socket's number in the task */
};

/*
 * grant_peer.deliver: the socket into the task, as the call's result, in
 * one step: SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND (one
 * wake-up of the task, and no second ioctl: measured 8 us less per grant
 * than ADDFD then SEND, run-notify-bench, 2026-12-06).
 *
 * ADDFD waits until the task takes the descriptor in its own context,
 * which a task kept off the CPU (SCHED_IDLE beside busy loops, a throttled
 * cgroup) can make last seconds.  So it runs on the listener's own thread
 * and without the front lock (dispatch_socket() has copied what it needs
 * past a reload): it holds up only this listener's tasks, which their own
 * sender starves; never the loop, the unix clients or another listener.
 * And nothing interrupts it: FLAG_SEND marks the call answered (value 0)
 * before it waits, so an interrupted ADDFD would withdraw the descriptor
 * and leave the task's socket() returning 0, a descriptor it never asked
 * for (kernel/seccomp.c, seccomp_notify_addfd() and
 * seccomp_do_user_notification(), read in 6.18).  The thread blocks every
 * signal; only the process's exit can cut it (usernotif_shutdown() says
 * what the task sees then).
 *
 * Outcomes: the number (delivered and answered); ENOENT (the call had
 * gone before ADDFD) or ESRCH (the task left it, killed or interrupted,
 * before it took the descriptor): nothing is owed, the socket is closed;
 * another error of the task's side (EMFILE: its table is full) puts the
 * call back to pending (seccomp_handle_addfd()), and it is answered with
 * that error, as socket() would fail.
 */
static int deliver_addfd(const struct grant_peer *gp, int fd, char *why, size_t whylen)
{
	struct call *c = gp->cookie;
	struct seccomp_notif_addfd a = {
		.id = c->id,
		.srcfd = (uint32_t)fd,
		.newfd_flags = c->cloexec ? O_CLOEXEC : 0,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
	};
	int r;

	if (atomic_load_explicit(&no_flag_send, memory_order_relaxed))
		a.flags = 0;
	front_unlock();
	r = ioctl(c->l->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	if (r < 0 && errno == EINVAL && a.flags) {
		/* Before Linux 5.14 there is no FLAG_SEND (EINVAL, before
		 * anything is queued): ADDFD, then SEND with its number, from
		 * now on.  Uninterrupted too, on this thread; a stop of the
		 * broker between the two leaves the call pending, not 0. */
		atomic_store_explicit(&no_flag_send, true, memory_order_relaxed);
		a.flags = 0;
		r = ioctl(c->l->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	}
	if (r >= 0 && !a.flags) {
		struct seccomp_notif_resp resp = { .id = c->id, .val = r };

		if (notif_ioctl(c->l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
			/* ENOENT: the task left the call after the descriptor
			 * went in (a signal to it): in its table, unannounced. */
			front_lock();
			c->gone = true;
			snprintf(why, whylen, "the task left the call after its socket arrived "
				 "(as descriptor %d, unannounced); our copy is closed", r);
			return -ENOENT;
		}
	}
	if (r < 0)
		r = -errno;
	front_lock();
	if (r >= 0) {
		c->target_fd = r;
		return 0;
	}
	if (r == -ENOENT || r == -ESRCH) {
		c->gone = true;
		/* (Or, after a stop of the broker restarted this ADDFD, the
		 * task ran meanwhile and its socket() returned 0: see below.
		 * The two cannot be told apart here.) */
		snprintf(why, whylen, "the task left the call before its socket arrived "
			 "(killed or interrupted; or, had the broker been stopped meanwhile, "
			 "its socket() returned 0); the socket is closed");
		return -ENOENT;
	}
	if (r == -EINTR || r == -EINPROGRESS) {
		/* Interrupted after FLAG_SEND marked the call answered: no
		 * handler of ours can do that (every signal is blocked here),
		 * but a stop of the whole broker can (SIGSTOP, a cgroup
		 * freezer, a ptrace attach): the interrupted ADDFD is
		 * restarted at SIGCONT and then finds the call no longer
		 * pending (EINPROGRESS).  The task's socket() has returned 0;
		 * nothing can be sent any more.  Logged as a failure. */
		c->gone = true;
		snprintf(why, whylen, "SECCOMP_IOCTL_NOTIF_ADDFD interrupted (%s; was the "
			 "broker stopped or frozen?): the task's socket() returned 0",
			 strerror(-r));
		return -EINTR;
	}
	c->addfd_err = -r; /* EMFILE: the task's table is full, as socket() would say */
	snprintf(why, whylen, "SECCOMP_IOCTL_NOTIF_ADDFD: %s", strerror(-r));
	return r;
}

/* One refusal line when the call never reached dispatch_socket() (under
 * the front lock). */
static void refuse_line(const struct listener *l, const struct seccomp_notif *n,
			const char *call, const char *why, int err)
{
	log_event(LOG_LVL_WARN, "refuse",
		  "decision=deny pid=%u call=%s family=%d type=%#x protocol=%d errno=%d "
		  "origin=%s reason=%s via=notify", (unsigned)n->pid, call,
		  (int)n->data.args[0], (unsigned)n->data.args[1], (int)n->data.args[2], err,
		  log_q((char[LOG_Q_MAX]){ 0 }, l->what), log_q((char[LOG_Q_MAX]){ 0 }, why));
}

/* Under the front lock, before it goes: an option result a synchronous
 * make (maker_take()) read on this thread waits for the loop, which
 * alone delivers them (maker_deliver(): a DONE may close a connection
 * whose event a pass still holds), and a make that found the maker gone
 * or broken leaves it to the loop to stop.  Wake it. */
static void wake_loop_if_needed(void)
{
	uint64_t one = 1;

	if ((maker_has_finished() || maker_broken()) && write(wake_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("notify: wake the loop");
}

/* A call's answer, sent once the front lock is let go. */
struct verdict {
	bool send;
	int err;
	bool go_on;
};

static void notif_socket(struct broker *b, struct listener *l, const struct seccomp_notif *n)
{
	/* The kernel reads these int arguments from the low 32 bits. */
	int family = (int)n->data.args[0], type = (int)n->data.args[1];
	int protocol = (int)n->data.args[2], base = type & 0xf, flags = type & ~0xf;
	bool raw = base == SOCK_RAW;
	Rawbroker__SocketRequest sr = RAWBROKER__SOCKET_REQUEST__INIT;
	struct call c = { .l = l, .id = n->id, .cloexec = flags & SOCK_CLOEXEC, .target_fd = -1 };
	struct grant_peer gp = { .via = "notify", .origin = l->what, .deliver = deliver_addfd,
				 .cookie = &c };
	struct reply rep = { .fd = -1 };
	struct verdict v = { .send = true, .err = EPERM, .go_on = !raw };
	char why[256];
	int r;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) {
		answer(l, n->id, EINVAL, false); /* as the kernel would */
		return;
	}
	r = task_identity(l, n, &gp.peer, why, sizeof(why)); /* no lock: /proc, ID_VALID */
	if (r == -ENOENT)
		return;
	front_lock();
	if (r < 0) {
		l->refused++;
		refuse_line(l, n, "socket", why, raw ? EPERM : 0);
		goto out;
	}
	identity_filter(l, &gp.peer);
	r = limits_conn_open(gp.peer.uid, 0, &gp.uid_slot); /* its grant bucket */
	if (r < 0) {
		/* The uid table is full: refused like a uid over its rate. */
		l->refused++;
		snprintf(why, sizeof(why), "no room for uid %u in the grant-rate table (%s); "
			 "try again later", (unsigned)gp.peer.uid, strerror(-r));
		refuse_line(l, n, "socket", why, EAGAIN);
		v = (struct verdict){ .send = true, .err = EAGAIN };
		goto out;
	}
	sr.family = family;
	sr.type = base;
	sr.protocol = protocol;
	sr.nonblock = flags & SOCK_NONBLOCK;
	dispatch_socket(b, &gp, &sr, &rep); /* deliver_addfd() lets the lock go in ADDFD */
	limits_conn_close(gp.uid_slot); /* the bucket stays while not full */
	if (rep.status == RAWBROKER__STATUS__STATUS_OK) {
		l->served++;
		v.send = false; /* ADDFD with FLAG_SEND answered it */
		goto out;
	}
	l->refused++;
	if (c.gone)
		v.send = false;
	else if (rep.status == RAWBROKER__STATUS__STATUS_RATE_LIMITED)
		v = (struct verdict){ .send = true, .err = EAGAIN };
	else if (c.addfd_err)
		v = (struct verdict){ .send = true, .err = c.addfd_err };
	else if (rep.status == RAWBROKER__STATUS__STATUS_FAILED && rep.error > 0)
		v = (struct verdict){ .send = true, .err = (int)rep.error }; /* EMFILE, ENOBUFS... */
out:
	wake_loop_if_needed();
	front_unlock();
	/* Ours (the task has its own now).  Should the task have closed its
	 * copy already, this is the last reference and tears the socket down:
	 * on this listener's thread, not on the loop. */
	if (rep.fd >= 0)
		close(rep.fd);
	if (c.gone)
		task_forget(l, (pid_t)n->pid);
	if (v.send)
		answer(l, n->id, v.err, v.go_on);
}

/* ---- the IPv6 option proxy ----
 *
 * setsockopt(IPV6_HOPOPTS/IPV6_DSTOPTS): the kernel wants CAP_NET_RAW at
 * call time, so the maker sets them (maker_setopt(), the path a unix
 * client's set_option takes; it checks the header again), on the task's
 * own socket.  The front cannot reach that socket nor read the value in
 * the task's memory without ptrace access to it (pidfd_getfd(),
 * /proc/PID/fd and process_vm_readv() all check PTRACE_MODE_ATTACH), and
 * has none: it is another user, without capabilities.  The relay of
 * supervisor mode has it (the command's user, its ancestor, no Yama here)
 * and fetches both on request (supervise.c, serve_option()).  Without a
 * helper (an OCI agent's listener), or when the policy does not name the
 * option for the task, the call goes on to the kernel, which answers as it
 * would without the broker (EPERM without CAP_NET_RAW), with a log line.
 */
#define PENDING_MAX 16

static struct pending {
	bool used;
	uint8_t gen;          /* against a stale helper reply */
	struct listener *l;
	uint64_t id;          /* the notification */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int level, name;
	unsigned opt;
	char rule[64];        /* for the audit line: a copy (a reload frees the
				 policy while the call waits) */
	uint32_t len;
	bool sent_to_maker;   /* its answer comes from the maker, not the relay */
	/* Its answer, once known on the loop's side (deed()): L's thread
	 * sends it (deeds_do()). */
	enum { P_WAITING, P_ANSWER, P_SENDING } state;
	int err;
	bool go_on;
	bool if_waiting;      /* ID_VALID first: a task that left gets no line */
	const char *decision; /* the audit line's, or NULL for none */
	const char *reason;   /* static text; NULL: strerror(ERR) */
} pend[PENDING_MAX];

static void audit_opt(const struct listener *l, pid_t pid, uid_t uid, gid_t gid, unsigned opt,
		      size_t len, const char *decision, const char *rule, const char *reason)
{
	bool granted = !strcmp(decision, "grant");

	log_event(granted ? LOG_LVL_INFO : LOG_LVL_WARN, granted ? "grant" : "refuse",
		  "decision=%s uid=%u gid=%u pid=%d option=%s len=%zu rule=%s%s%s origin=%s via=notify",
		  decision, (unsigned)uid, (unsigned)gid, (int)pid, rb_option_name(opt), len,
		  log_q((char[LOG_Q_MAX]){ 0 }, rule ? rule : "-"), granted ? "" : " reason=",
		  granted ? "" : log_q((char[LOG_Q_MAX]){ 0 }, reason),
		  log_q((char[LOG_Q_MAX]){ 0 }, l->what));
}

static void pending_free(struct pending *p)
{
	p->used = false;
	p->gen++;
}

static void pending_drop_listener(const struct listener *l)
{
	for (unsigned i = 0; i < PENDING_MAX; i++) {
		if (!pend[i].used || pend[i].l != l)
			continue;
		maker_forget(&pend[i]); /* its answer, when it comes, goes nowhere */
		pending_free(&pend[i]);
	}
}

/*
 * From the loop, under the front lock: P's answer is known (the relay's
 * or the maker's reply came to the loop).  The loop does not send it:
 * SEND and ID_VALID take the filter's notify_lock, which a task of the
 * listener's kept off the CPU can hold for as long as its sender starves
 * it, and the loop serves everyone.  P's listener's thread sends it
 * (deeds_do()), and logs DECISION's line after (with REASON, or
 * strerror(ERR)); IF_WAITING: only when the task is still in the call.
 * P stays taken until then, so at most PENDING_MAX answers wait.
 */
static void deed(struct pending *p, int err, bool go_on, bool if_waiting, const char *decision,
		 const char *reason)
{
	uint64_t one = 1;

	p->state = P_ANSWER;
	p->err = err;
	p->go_on = go_on;
	p->if_waiting = if_waiting;
	p->decision = decision;
	p->reason = reason;
	/* An eventfd's counter: full only after 2^64 - 2 wake-ups. */
	if (write(U.h[p->l - listeners].wake, &one, sizeof(one)) < 0)
		log_warn("notify %s: wake its thread", p->l->what);
}

/* L's thread: send the answers deed() left for it, each without the
 * front lock, then its line (and the counts) under it. */
static void deeds_do(struct listener *l)
{
	for (;;) {
		struct pending *p = NULL, d;
		bool waiting;
		int r;

		front_lock();
		for (unsigned i = 0; i < PENDING_MAX && !p; i++)
			if (pend[i].used && pend[i].l == l && pend[i].state == P_ANSWER)
				p = &pend[i];
		if (p) {
			p->state = P_SENDING; /* still taken: only this thread frees it */
			d = *p;
		}
		front_unlock();
		if (!p)
			return;
		waiting = !d.if_waiting || id_valid(l, d.id);
		r = waiting ? answer_send(l, d.id, d.err, d.go_on) : -ENOENT;
		front_lock();
		if (r == -ENOENT) { /* it left the call: its kept entries go */
			task_forget(l, d.pid);
		} else if (r < 0) {
			errno = -r;
			log_warn("notify %s: SECCOMP_IOCTL_NOTIF_SEND", l->what);
		}
		if (waiting && d.decision) {
			bool granted = !strcmp(d.decision, "grant");

			audit_opt(l, d.pid, d.uid, d.gid, d.opt, d.len, d.decision, d.rule,
				  granted ? NULL : d.reason ? d.reason : strerror(d.err));
			if (granted)
				l->served++;
			else
				l->refused++;
		}
		pending_free(p);
		front_unlock();
	}
}

/* maker_setopt()'s answer: the call's result (err 0: it returns 0). */
static void option_done(void *cookie, int err)
{
	struct pending *p = cookie;

	if (!p->used || p->state != P_WAITING)
		return;
	deed(p, err, false, false, err ? "fail" : "grant", NULL);
}

/* A descriptor the relay took from the task: IPv6, raw or datagram (what
 * the maker sets these options on).  SO_DOMAIN/SO_TYPE take no lock. */
static bool option_socket_ok(int fd)
{
	int v;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_INET6)
		return false;
	len = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
	       (v == SOCK_RAW || v == SOCK_DGRAM);
}

/*
 * The relay's answer: a hostile task controls the value bytes, and what
 * descriptor it named (any file of its own).  Safe because: the reply is
 * taken at its exact size, at most one descriptor, its cookie must be a
 * pending call's (generation included) still waiting for it; the value
 * must be a header of padding only (checked here and
 * again by the maker); the descriptor must be an IPv6 raw or datagram
 * socket (anything else goes to the closer workers unused: its close may
 * block, and the call goes on to the kernel, which answers as it would);
 * the setsockopt itself, which takes the socket's lock the task may hold,
 * is the maker's, on a worker thread there.
 */
static void helper_readable(struct broker *b, struct helper *h)
{
	struct listener *l = &listeners[h - U.h];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct optproxy_rep rp;
	struct iovec iov = { .iov_base = &rp, .iov_len = sizeof(rp) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct pending *p;
	int tfd = -1, r;
	unsigned idx;
	ssize_t n = recvmsg(h->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0 && errno == EAGAIN)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0; k + sizeof(int) <= c->cmsg_len - CMSG_LEN(0); k += sizeof(int)) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k, sizeof(int));
			if (tfd < 0)
				tfd = fd;
			else
				closer_release(fd);
		}
	}
	if (n <= 0) {
		/* The relay is gone (the command with it): no more proxy, and
		 * the calls that wait for it get the kernel's answer. */
		if (h->in_epoll)
			epoll_ctl(b->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		closer_release(h->fd); /* (an error may leave replies queued) */
		h->fd = -1;
		h->in_epoll = false;
		for (unsigned i = 0; i < PENDING_MAX; i++)
			if (pend[i].used && pend[i].l == l && !pend[i].sent_to_maker &&
			    pend[i].state == P_WAITING)
				deed(&pend[i], 0, true, false, NULL, NULL);
		return;
	}
	idx = (unsigned)(rp.cookie & 0xff);
	p = idx < PENDING_MAX ? &pend[idx] : NULL;
	if ((size_t)n != sizeof(rp) || rp.version != OPTPROXY_VERSION ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !p || !p->used || p->l != l ||
	    (uint8_t)(rp.cookie >> 8) != p->gen || p->state != P_WAITING || p->sent_to_maker ||
	    /* a value (and its length) comes only with ERR 0: the relay
	     * answers an error without one */
	    (rp.err == 0 && (tfd < 0 || rp.len != p->len))) {
		if (tfd >= 0)
			closer_release(tfd);
		return; /* stale, or not an answer: its call, if any, waits for its own */
	}
	if (rp.err) {
		if (tfd >= 0)
			closer_release(tfd);
		/* ESRCH: gone, or out of the relay's reach while still in the
		 * call (a thread before Linux 6.9, which has no PIDFD_THREAD):
		 * that one would wait for good, so the kernel answers.  EBADF
		 * (no such descriptor), EFAULT (a bad pointer): what the kernel
		 * says too.  Either only to a task still in the call, with a
		 * line; one that left (or exited and is not yet reaped, which
		 * has no descriptors either) gets none. */
		if (rp.err == ESRCH)
			deed(p, 0, true, true, "fail", "the option helper cannot reach the "
			     "calling task (a thread, before Linux 6.9?): the kernel answers");
		else
			deed(p, rp.err, false, true, "fail", NULL);
		return;
	}
	/* No ID_VALID here (the loop makes no ioctl on a listener): a task
	 * that left the call meanwhile (killed, or a signal: the call starts
	 * again) still has the option it asked for set on its own socket,
	 * which the policy allows it, with its grant line; its answer then
	 * finds it gone (deeds_do()).  The value was read from that task: the
	 * relay checks after the read that the task still lives. */
	if (mk_ext_header_invalid(rp.value, rp.len) || !option_socket_ok(tfd)) {
		const char *bad = mk_ext_header_invalid(rp.value, rp.len);

		closer_release(tfd);
		/* a bad header: EPERM, as without the broker */
		deed(p, EPERM, !bad, false, "invalid",
		     bad ? bad : "not an IPv6 raw or datagram socket: the kernel answers");
		return;
	}
	r = maker_setopt(tfd, p->level, p->name, rp.value, rp.len, option_done, p);
	p->sent_to_maker = r == 0;
	close(tfd); /* checked: an IPv6 raw or datagram socket, and the task holds it too */
	if (r < 0)
		deed(p, EPERM, false, false, "fail", "the socket maker cannot take it now");
}

/*
 * setsockopt(IPV6_HOPOPTS/IPV6_DSTOPTS) by a task: it chooses the socket,
 * the pointer and the length.  Safe because: the length is checked as the
 * kernel does (EINVAL), the policy must name the option for the task's
 * identity (read as for socket()), the option counts against the uid's
 * grant rate, only PENDING_MAX calls wait at once, and the value and the
 * descriptor are taken by the relay, bounded, and checked when they come
 * (helper_readable()).
 */
static void notif_setsockopt(struct broker *b, struct listener *l, const struct seccomp_notif *n)
{
	struct helper *h = &U.h[l - listeners];
	int level = (int)n->data.args[1], name = (int)n->data.args[2];
	uint32_t len = (uint32_t)n->data.args[4];
	unsigned opt = level == IPPROTO_IPV6 && name == IPV6_HOPOPTS ? RB_OPT_IPV6_HOPOPTS
		       : level == IPPROTO_IPV6 && name == IPV6_DSTOPTS ? RB_OPT_IPV6_DSTOPTS : 0;
	struct optproxy_req rq;
	struct rb_decision dec;
	struct rb_limits lim;
	struct uid_entry *slot = NULL;
	struct rb_peer peer;
	struct pending *p = NULL;
	struct verdict v = { .send = true, .go_on = true }; /* the kernel answers */
	char why[256];
	bool ok;
	int r;

	if (!opt) {
		answer(l, n->id, 0, true); /* not ours: the kernel answers */
		return;
	}
	/* A length the kernel refuses: EINVAL, what a program holding
	 * CAP_NET_RAW gets (Linux 6.18 checks the capability first, so one
	 * without it would see EPERM), before anything of the task is read. */
	if (len && (len < 8 || len % 8 || len > OPTPROXY_VALUE_MAX)) {
		answer(l, n->id, EINVAL, false);
		return;
	}
	r = task_identity(l, n, &peer, why, sizeof(why)); /* no lock: /proc, ID_VALID */
	if (r == -ENOENT)
		return;
	front_lock();
	if (h->fd < 0) { /* (the loop drops it when the relay goes) */
		log_event(LOG_LVL_WARN, "refuse",
			  "decision=fail pid=%u call=setsockopt option=%s origin=%s reason=\"no "
			  "option proxy on this listener: the kernel answers (EPERM without "
			  "CAP_NET_RAW)\" via=notify", (unsigned)n->pid, rb_option_name(opt),
			  log_q((char[LOG_Q_MAX]){ 0 }, l->what));
		goto out;
	}
	if (r < 0) {
		l->refused++;
		refuse_line(l, n, "setsockopt", why, EPERM);
		goto out;
	}
	identity_filter(l, &peer);
	rb_policy_decide_option(b->policy, &peer, opt, &dec);
	if (dec.verdict != RB_ALLOW) {
		l->refused++;
		audit_opt(l, peer.pid, peer.uid, peer.gid, opt, len, "deny", dec.rule, dec.reason);
		goto out; /* the kernel: EPERM without CAP_NET_RAW */
	}
	rb_policy_peer_limits(b->policy, &peer, &lim);
	ok = limits_conn_open(peer.uid, 0, &slot) == 0 && limits_take_grant(slot, &lim);
	limits_conn_close(slot);
	for (unsigned i = 0; ok && i < PENDING_MAX && !p; i++)
		if (!pend[i].used)
			p = &pend[i];
	if (!ok || !p || !closer_has_capacity()) {
		l->refused++;
		audit_opt(l, peer.pid, peer.uid, peer.gid, opt, len, ok ? "busy" : "rate-limited",
			  dec.rule, ok ? "too many option calls in flight; try again later"
				       : "the uid is over its grant rate");
		v = (struct verdict){ .send = true, .err = EPERM };
		goto out;
	}
	*p = (struct pending){ .used = true, .gen = p->gen, .l = l, .id = n->id, .pid = peer.pid,
			       .uid = peer.uid, .gid = peer.gid, .level = level, .name = name,
			       .opt = opt, .len = len };
	snprintf(p->rule, sizeof(p->rule), "%s", dec.rule ? dec.rule : "-");
	rq = (struct optproxy_req){ .version = OPTPROXY_VERSION, .pid = n->pid,
				    .fd = (int32_t)n->data.args[0], .len = len,
				    .addr = n->data.args[3],
				    .cookie = (uint64_t)(p - pend) | (uint64_t)p->gen << 8 };
	/* sendmsg: the front's sandbox has no sendto(); DONTWAIT, to our
	 * own relay's socketpair: never blocks */
	if (sendmsg(h->fd, &(struct msghdr){ .msg_iov = &(struct iovec){ .iov_base = &rq,
								     .iov_len = sizeof(rq) },
					     .msg_iovlen = 1 },
		    MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(rq)) {
		audit_opt(l, peer.pid, peer.uid, peer.gid, opt, len, "fail", dec.rule,
			  "the option helper (the command's relay) does not take requests");
		pending_free(p);
		v = (struct verdict){ .send = true, .err = EPERM };
		goto out;
	}
	/* The call waits for the relay's answer (helper_readable(), on the
	 * loop): from here on the loop decides its answer, and this thread
	 * sends it (deed(), deeds_do()). */
	v.send = false;
out:
	front_unlock();
	if (v.send)
		answer(l, n->id, v.err, v.go_on);
}

/*
 * One notification, on L's thread.  0, or -1 when the listener is done
 * for (WHY says why).  RECV without the front lock: after poll() said
 * readable it sleeps only when another process holds a copy of the
 * listener and took the notification first (one whose task went makes it
 * fail with ENOENT, never sleep); then this thread waits for the next
 * one, and nothing else does.
 */
static int serve_one(struct broker *b, struct listener *l, const char **why)
{
	struct seccomp_notif n;
	int r;

	do {
		memset(&n, 0, sizeof(n)); /* the kernel wants it zeroed */
		r = ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, &n);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == ENOENT || errno == EAGAIN)
			return 0; /* the task left the call before we took it */
		front_lock();
		log_warn("notify %s: SECCOMP_IOCTL_NOTIF_RECV", l->what);
		front_unlock();
		*why = "receive failed";
		return -1;
	}
	/* Only the calls of the notify profile, of this architecture: the
	 * numbers differ on another ABI, and the front serves none. */
	if (n.data.arch != native_arch ||
	    (n.data.nr != __NR_socket && n.data.nr != __NR_setsockopt)) {
		front_lock();
		l->refused++;
		refuse_line(l, &n, "unknown", "not socket() or setsockopt() of the native "
			    "architecture", EPERM);
		front_unlock();
		answer(l, n.id, EPERM, false);
		return 0;
	}
	if (n.data.nr == __NR_socket)
		notif_socket(b, l, &n);
	else
		notif_setsockopt(b, l, &n);
	return 0;
}

/*
 * A listener's thread: it alone waits on, receives from and answers on
 * its listener (the option proxy's answers too, which the loop hands it
 * through the helper's WAKE eventfd: deeds_do()), one notification at a
 * time, until the filter's tasks are all gone (POLLHUP), RECV fails, or
 * the broker stops (STOP_FD).  A task kept off the CPU, or a listener
 * shared with another process, holds up this thread alone.
 */
static void *listener_main(void *arg)
{
	struct listener *l = arg;
	struct broker *b = front_broker;
	const char *why = "the broker stops";
	int wake = U.h[l - listeners].wake; /* (set before we started; ours until we end) */

	for (;;) {
		struct pollfd p[3] = { { .fd = l->fd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN },
				       { .fd = wake, .events = POLLIN } };
		uint64_t v;

		if (poll(p, wake >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			why = "poll failed";
			break;
		}
		if (p[1].revents) {
			/* The broker stops: answers already decided (an
			 * option the maker set) go out first, so their calls
			 * return what they got rather than ENOSYS. */
			if (wake >= 0)
				deeds_do(l);
			break;
		}
		if (wake >= 0 && p[2].revents) {
			(void)!read(wake, &v, sizeof(v));
			deeds_do(l);
		}
		if (p[0].revents & POLLIN) {
			if (serve_one(b, l, &why) < 0)
				break;
			continue;
		}
		if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			why = "its tasks are gone";
			break;
		}
	}
	front_lock();
	listener_close(b, l, why);
	l->live = false; /* the slot is free: we touch nothing of it after */
	live--;
	front_unlock();
	return NULL;
}

void usernotif_on_event(struct broker *b, void *p, uint32_t events)
{
	(void)events;
	if (p == &U.wake) { /* a thread read option results: maker_deliver() after the pass */
		uint64_t v;

		(void)!read(wake_fd, &v, sizeof(v));
		return;
	}
	{
		struct helper *h = p; /* an option helper */

		if (h->fd >= 0)
			helper_readable(b, h);
	}
}
