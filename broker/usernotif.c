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
 *  2. Who it is: its effective uid and gid and its supplementary groups,
 *     from /proc/PID/status, read with a bounded, streaming parser, as the
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
 *  5. The answer: SECCOMP_IOCTL_NOTIF_ADDFD puts the socket into the task,
 *     then SECCOMP_IOCTL_NOTIF_SEND makes its number the call's return
 *     value (not ADDFD_FLAG_SEND in one step: deliver_addfd() says why,
 *     it could make a call return 0); O_CLOEXEC iff the
 *     call asked SOCK_CLOEXEC, and O_NONBLOCK (a file status flag, shared)
 *     was set at hand-off iff it asked SOCK_NONBLOCK.  ENOENT means the
 *     task left the call (killed, or a signal): the socket is closed; the
 *     grant stays counted (the maker made the socket, and a task leaving
 *     its calls on purpose must not make it work beyond its rate).
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
 * Never block on a client object: one notification per listener and loop
 * pass (level-triggered epoll comes back for the rest); /proc reads take no
 * lock a task can hold (status reads no memory of the task); a
 * setsockopt() on the task's socket (which takes a lock the task can hold)
 * is the maker's, on a worker thread there, and the relay's answer is read
 * when epoll says so.  Two ioctls can still sleep on a client, and each is
 * bounded by the watchdog (ioguard.h: interrupted after 50 to 100 ms):
 * RECV, after epoll said readable, sleeps only when another process holds
 * a copy of the listener and took the notification first (one whose task
 * went makes RECV fail with ENOENT, never sleep): interrupted, the
 * listener is dropped with a log line; ADDFD waits for the task to take
 * the descriptor in its own context, which a task kept off the CPU
 * (SCHED_IDLE beside busy loops) delays: interrupted, the listener is
 * benched, and the call answers EAGAIN (deliver_addfd()).
 */
#include "usernotif.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "ioguard.h"
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

/* /proc/PID/status: 65,536 groups of up to 10 digits and the rest. */
#define STATUS_MAX (1024 * 1024)

struct listener {
	int fd;              /* -1: a free slot */
	bool in_epoll;
	bool check_netns;
	bool owned;          /* OWNER counts against its notif_origin.owner_max */
	uid_t owner;
	char what[96];
	uint64_t served, refused;
	/* Benched (out of epoll) until BENCH_UNTIL (ms, CLOCK_MONOTONIC)
	 * after an ADDFD the watchdog cut short; STRIKES in a row double
	 * the time (bench_listener()). */
	uint64_t bench_until;
	unsigned strikes;
};

/* A listener's option helper (supervise.c's relay): its end of the
 * socketpair, watched by the loop. */
struct helper {
	int fd; /* -1: none */
	bool in_epoll;
};

/* Listeners and their helpers in one block, so one range check tells the
 * loop's epoll cookies of this file from its connections. */
static struct {
	struct listener l[USERNOTIF_MAX];
	struct helper h[USERNOTIF_MAX];
} U;
#define listeners U.l
static bool slots_ready;
static uint32_t native_arch;
static struct stat self_net; /* /proc/self/net/dev: our network namespace */
static bool self_net_known;
static gid_t groups_buf[NGROUPS_MAX]; /* one task's groups while parsing (static: one thread) */
/* The kernel's overflow ids, read at start (usernotif_init()). */
static struct proc_overflow overflow = { .uid = 65534, .gid = 65534 };

static void tasks_forget_all(void);

static void slots_init(void)
{
	if (slots_ready)
		return;
	for (unsigned i = 0; i < USERNOTIF_MAX; i++)
		listeners[i].fd = U.h[i].fd = -1;
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

static void listener_close(struct broker *b, struct listener *l, const char *why)
{
	struct helper *h = &U.h[l - listeners];

	pending_drop_listener(l);
	if (h->fd >= 0) {
		if (h->in_epoll)
			epoll_ctl(b->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		close(h->fd); /* a socketpair to the relay: never blocks */
		h->fd = -1;
		h->in_epoll = false;
	}
	if (l->in_epoll)
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	/* Through the closer: a listener's release takes the filter's
	 * notify_lock uninterruptibly, and a task of the client's can hold
	 * that lock while it is kept off the CPU. */
	closer_release(l->fd);
	log_event(LOG_LVL_INFO, "notify listener closed",
		  "origin=%s served=%llu refused=%llu why=\"%s\"",
		  log_q((char[LOG_Q_MAX]){ 0 }, l->what), (unsigned long long)l->served,
		  (unsigned long long)l->refused, why);
	l->fd = -1;
	l->in_epoll = false;
	ioguard_listeners(-1);
	tasks_forget_all(); /* (their tasks are gone, or will be asked for anew) */
}

static int listener_watch(struct broker *b, struct listener *l)
{
	struct helper *h = &U.h[l - listeners];

	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, l->fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = l }) < 0)
		return -errno;
	l->in_epoll = true;
	if (h->fd >= 0) {
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, h->fd,
			      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = h }) < 0)
			return -errno;
		h->in_epoll = true;
	}
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
	for (unsigned i = 0; i < USERNOTIF_MAX && !l; i++)
		if (listeners[i].fd < 0)
			l = &listeners[i];
	if (!l) {
		closer_release(listener);
		if (helper >= 0)
			close(helper);
		return -ENOSPC;
	}
	U.h[l - listeners] = (struct helper){ .fd = helper };
	if (o->check_netns && !self_net_known) {
		if (stat("/proc/self/net/dev", &self_net) < 0) {
			r = -errno;
			closer_release(listener);
			return r;
		}
		self_net_known = true;
	}
	*l = (struct listener){ .fd = listener, .check_netns = o->check_netns,
				.owned = o->owner_max > 0, .owner = o->owner };
	snprintf(l->what, sizeof(l->what), "%s", o->what ? o->what : "-");
	ioguard_listeners(+1);
	if (b->epfd >= 0) {
		r = listener_watch(b, l);
		if (r < 0) {
			listener_close(b, l, "cannot be watched");
			return r;
		}
	}
	log_event(LOG_LVL_INFO, "notify listener", "origin=%s check_netns=%d option_proxy=%d",
		  log_q((char[LOG_Q_MAX]){ 0 }, l->what), (int)l->check_netns, helper >= 0);
	return 0;
}

int usernotif_attach(struct broker *b, int listener, const struct notif_origin *o)
{
	return usernotif_attach_helper(b, listener, o, -1);
}

void usernotif_start(struct broker *b)
{
	for (unsigned i = 0; slots_ready && i < USERNOTIF_MAX; i++) {
		struct listener *l = &listeners[i];
		int r;

		if (l->fd < 0 || l->in_epoll)
			continue;
		r = listener_watch(b, l);
		if (r < 0) {
			errno = -r;
			log_warn("notify listener %s: epoll", l->what);
			listener_close(b, l, "cannot be watched");
		}
	}
}

void usernotif_shutdown(struct broker *b)
{
	for (unsigned i = 0; slots_ready && i < USERNOTIF_MAX; i++)
		if (listeners[i].fd >= 0)
			listener_close(b, &listeners[i], "the broker stops");
}

/* ---- the bench: a listener whose tasks do not take their sockets ---- */

#define BENCH_FIRST_MS 250
#define BENCH_MAX_MS 4000

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/*
 * An ADDFD on L was cut short by the watchdog: its task was not scheduled
 * within the bound.  Each such call still held the loop for up to the
 * bound, and a sender that starves its own tasks on purpose (SCHED_IDLE
 * beside busy loops) could make every loop pass pay it; so L leaves epoll
 * for BENCH_FIRST_MS, doubled for each such call in a row up to
 * BENCH_MAX_MS.  Its tasks wait meanwhile (their calls stay pending); no
 * other listener and no unix client does.  A delivery that works resets it.
 */
static void bench_listener(struct broker *b, struct listener *l)
{
	unsigned ms = BENCH_FIRST_MS << (l->strikes < 5 ? l->strikes : 5);

	if (ms > BENCH_MAX_MS)
		ms = BENCH_MAX_MS;
	l->strikes++;
	if (l->in_epoll)
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	l->in_epoll = false;
	l->bench_until = mono_ms() + ms;
	log_event(LOG_LVL_WARN, "notify listener benched",
		  "origin=%s ms=%u strikes=%u reason=\"a task did not take its socket within "
		  "%d ms: its listener waits\"", log_q((char[LOG_Q_MAX]){ 0 }, l->what), ms,
		  l->strikes, 2 * IOGUARD_TICK_MS);
}

int usernotif_expire(struct broker *b)
{
	uint64_t now = 0;
	int next = -1;

	for (unsigned i = 0; slots_ready && i < USERNOTIF_MAX; i++) {
		struct listener *l = &listeners[i];

		if (l->fd < 0 || !l->bench_until)
			continue;
		if (!now)
			now = mono_ms();
		if (l->bench_until <= now) {
			l->bench_until = 0;
			if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, l->fd,
				      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = l }) < 0) {
				log_warn("notify listener %s: epoll", l->what);
				listener_close(b, l, "cannot be watched");
				continue;
			}
			l->in_epoll = true;
		} else if (next < 0 || l->bench_until - now < (uint64_t)next) {
			next = (int)(l->bench_until - now);
		}
	}
	return next;
}

/* ---- who the notifying task is ---- */

/*
 * A listener ioctl that does not sleep on the task (ID_VALID, SEND), again
 * when a signal interrupted it: the kernel takes the listener's lock
 * interruptibly, so a watchdog signal (ioguard.c) meant for a guarded call
 * that has just ended can land here.  Taken as an answer, EINTR would leave
 * a task in its call for good (ID_VALID: "gone", nothing sent) or announce
 * a failure for a socket that was delivered (SEND after ADDFD).
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
 * most TASKS_KEPT entries (two descriptors each), the least recently used
 * goes; an entry goes too when its task leaves a call, and all of them
 * when a listener closes.
 */
#define TASKS_KEPT 8

static struct task_entry {
	pid_t pid;  /* 0: free */
	int dir;    /* /proc/PID, O_PATH */
	int status; /* /proc/PID/status */
	uint64_t used;
} tasks[TASKS_KEPT];
static uint64_t task_clock;

static void task_drop(struct task_entry *t)
{
	if (!t->pid)
		return;
	close(t->dir); /* /proc files: a close never blocks */
	close(t->status);
	t->pid = 0;
}

static void task_forget(pid_t pid)
{
	for (unsigned i = 0; i < TASKS_KEPT; i++)
		if (tasks[i].pid == pid)
			task_drop(&tasks[i]);
}

static void tasks_forget_all(void)
{
	for (unsigned i = 0; i < TASKS_KEPT; i++)
		task_drop(&tasks[i]);
}

/* PID's entry, kept or opened now (FRESH: opened anew in any case). */
static int task_open(pid_t pid, bool fresh, struct task_entry **out)
{
	struct task_entry *t = NULL, *lru = &tasks[0];
	char path[32];
	int dir, st;

	for (unsigned i = 0; i < TASKS_KEPT && !t; i++) {
		if (tasks[i].pid == pid)
			t = &tasks[i];
		else if (lru->pid && (!tasks[i].pid || tasks[i].used < lru->used))
			lru = &tasks[i]; /* a free entry first, else the oldest */
	}
	if (t && !fresh) {
		t->used = ++task_clock;
		*out = t;
		return 0;
	}
	if (t)
		task_drop(t);
	else
		task_drop(t = lru);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	st = openat(dir, "status", O_RDONLY | O_CLOEXEC);
	if (st < 0) {
		int r = -errno;

		close(dir);
		return r;
	}
	*t = (struct task_entry){ .pid = pid, .dir = dir, .status = st, .used = ++task_clock };
	*out = t;
	return 0;
}

/* Parse T's status into S (groups into groups_buf; procstatus.c).
 * Reading stops once the Groups line is complete: status has Uid and Gid
 * before it, and a read less is a system call less per grant. */
static int read_status(const struct task_entry *t, struct proc_status *s)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	int r = 0;

	proc_status_init(s, groups_buf, NGROUPS_MAX);
	while (!s->has_groups && (n = pread(t->status, buf, sizeof(buf), (off_t)total)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno; /* ESRCH: the task this entry was opened for is gone */
		}
		total += (size_t)n;
		if (total > STATUS_MAX)
			return -EFBIG;
		r = proc_status_feed(s, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return proc_status_done(s);
}

/* Read PID's credentials into S, and with CHECK_NETNS whether it is in
 * our network namespace (-EXDEV when not); a kept entry whose task is
 * gone is opened once more. */
static int read_task(pid_t pid, bool check_netns, struct proc_status *s, const char **what)
{
	struct task_entry *t = NULL;
	int r = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		struct stat st;

		*what = "status";
		r = task_open(pid, attempt > 0, &t);
		if (r < 0)
			return r;
		r = read_status(t, s);
		if (r == 0 && check_netns) {
			/* Looked up each time: PID/net is the task's namespace
			 * of the moment (the kernel never caches that dentry). */
			*what = "net/dev";
			if (fstatat(t->dir, "net/dev", &st, 0) < 0)
				r = -errno;
			else if (st.st_dev != self_net.st_dev || st.st_ino != self_net.st_ino)
				r = -EXDEV;
		}
		if (r != -ESRCH)
			return r;
	}
	return r;
}

/*
 * The identity of notification N's task into PEER (groups: filtered to
 * those the policy names, in groups_buf).  0; -ENOENT when the task left
 * the call (nothing to answer); another -errno with WHY for a refusal.
 *
 * One SECCOMP_IOCTL_NOTIF_ID_VALID after all the reads covers each of
 * them: a notification that is still pending now was pending all along
 * (one that went never comes back; ids are never reused), so its task
 * lived, and held PID, through every read made before; and it has not
 * left the call, so it has not changed its credentials since.
 */
static int task_identity(const struct listener *l, const struct seccomp_notif *n,
			 struct rb_peer *peer, char *why, size_t whylen)
{
	struct proc_status s;
	const char *what;
	int r;

	if (n->pid == 0) {
		snprintf(why, whylen, "the task is not visible in the broker's pid namespace");
		return -ESRCH;
	}
	r = read_task((pid_t)n->pid, l->check_netns, &s, &what);
	/* After every read: the task is still in the call. */
	if (!id_valid(l, n->id)) {
		task_forget((pid_t)n->pid);
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
	peer->ngroups = peer_index_filter(groups_buf, s.ngroups);
	peer->groups = groups_buf;
	return 0;
}

/* ---- answers ---- */

static void answer(struct listener *l, uint64_t id, int err, bool go_on)
{
	struct seccomp_notif_resp resp = {
		.id = id,
		.error = go_on ? 0 : -err,
		.flags = go_on ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0,
	};

	/* ENOENT: the task left the call; nothing is owed. */
	if (notif_ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		log_warn("notify %s: SECCOMP_IOCTL_NOTIF_SEND", l->what);
}

struct call {
	struct listener *l;
	uint64_t id;
	bool cloexec;
	bool gone;     /* ENOENT: no answer is owed */
	int addfd_err; /* another ADDFD failure: the call's answer */
	bool cut;      /* the watchdog cut ADDFD short */
	int target_fd; /* the socket's number in the task */
};

/*
 * grant_peer.deliver: the socket into the task, as the call's result.
 *
 * SECCOMP_IOCTL_NOTIF_ADDFD waits until the task takes the descriptor in
 * its own context, which a task that is slow to be scheduled (SCHED_IDLE
 * beside busy loops) can make last seconds.  So it is guarded (ioguard.h):
 * past the bound the watchdog interrupts it and the kernel withdraws the
 * pending descriptor; the socket is closed, the grant stays counted (the
 * maker made it), and the listener is benched (notif_socket()).
 *
 * Why ADDFD, then SECCOMP_IOCTL_NOTIF_SEND with its number, and not ADDFD
 * with SECCOMP_ADDFD_FLAG_SEND, which would wake the task once instead of
 * twice (measured 8 us less per grant, 30 against 38, run-notify-bench,
 * 2026-12-06): FLAG_SEND marks the call answered before ADDFD waits, so an
 * interrupted one leaves the call answered with nothing, and the task's
 * socket() returns 0, a descriptor it never asked for (kernel/seccomp.c,
 * seccomp_notify_addfd() and seccomp_do_user_notification(), read in
 * 6.18).  Separately, an interrupted ADDFD leaves the call pending, and it
 * is answered EAGAIN ("try again", what a uid over its grant rate gets
 * too): the call fails visibly.  A signal to the task between the two
 * leaves it the descriptor unannounced (its own table: its loss).
 */
static int deliver_addfd(const struct grant_peer *gp, int fd, char *why, size_t whylen)
{
	struct call *c = gp->cookie;
	struct seccomp_notif_addfd a = {
		.id = c->id,
		.srcfd = (uint32_t)fd,
		.newfd_flags = c->cloexec ? O_CLOEXEC : 0,
	};
	struct seccomp_notif_resp resp = { .id = c->id };
	int r;

	ioguard_enter();
	do /* a stray EINTR: the kernel withdrew that ADDFD; it is safe again */
		r = ioctl(c->l->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	while (r < 0 && errno == EINTR && !ioguard_was_cut());
	ioguard_leave();
	if (r >= 0) {
		c->target_fd = r;
		resp.val = r;
		if (notif_ioctl(c->l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0)
			return 0;
		/* ENOENT: the task left the call after the descriptor went in
		 * (a signal to it): the socket is in its table, unannounced. */
		c->gone = true;
		snprintf(why, whylen, "the task left the call after its socket arrived (as "
			 "descriptor %d, unannounced); our copy is closed", c->target_fd);
		return -ENOENT;
	}
	r = -errno;
	if (r == -ENOENT || r == -ESRCH) {
		c->gone = true;
		snprintf(why, whylen, "the task left the call before its socket arrived "
			 "(killed or interrupted); the socket is closed");
		return -ENOENT;
	}
	if (r == -EINTR) {
		c->cut = true;
		c->addfd_err = EAGAIN;
		snprintf(why, whylen, "the task did not take its socket within %d ms "
			 "(SECCOMP_IOCTL_NOTIF_ADDFD interrupted: not scheduled?); the socket is "
			 "closed and the call answers EAGAIN", 2 * IOGUARD_TICK_MS);
		return -EAGAIN;
	}
	c->addfd_err = -r; /* EMFILE: the task's table is full, as socket() would say */
	snprintf(why, whylen, "SECCOMP_IOCTL_NOTIF_ADDFD: %s", strerror(-r));
	return r;
}

/* One refusal line when the call never reached dispatch_socket(). */
static void refuse_line(const struct listener *l, const struct seccomp_notif *n,
			const char *call, const char *why, int err)
{
	log_event(LOG_LVL_WARN, "refuse",
		  "decision=deny pid=%u call=%s family=%d type=%#x protocol=%d errno=%d "
		  "origin=%s reason=%s via=notify", (unsigned)n->pid, call,
		  (int)n->data.args[0], (unsigned)n->data.args[1], (int)n->data.args[2], err,
		  log_q((char[LOG_Q_MAX]){ 0 }, l->what), log_q((char[LOG_Q_MAX]){ 0 }, why));
}

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
	char why[256];
	int r;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) {
		answer(l, n->id, EINVAL, false); /* as the kernel would */
		return;
	}
	r = task_identity(l, n, &gp.peer, why, sizeof(why));
	if (r == -ENOENT)
		return;
	if (r < 0) {
		l->refused++;
		refuse_line(l, n, "socket", why, raw ? EPERM : 0);
		answer(l, n->id, EPERM, !raw);
		return;
	}
	r = limits_conn_open(gp.peer.uid, 0, &gp.uid_slot); /* its grant bucket */
	if (r < 0) {
		/* The uid table is full: refused like a uid over its rate. */
		l->refused++;
		snprintf(why, sizeof(why), "no room for uid %u in the grant-rate table (%s); "
			 "try again later", (unsigned)gp.peer.uid, strerror(-r));
		refuse_line(l, n, "socket", why, EAGAIN);
		answer(l, n->id, EAGAIN, false);
		return;
	}
	sr.family = family;
	sr.type = base;
	sr.protocol = protocol;
	sr.nonblock = flags & SOCK_NONBLOCK;
	dispatch_socket(b, &gp, &sr, &rep);
	limits_conn_close(gp.uid_slot); /* the bucket stays while not full */
	if (rep.status == RAWBROKER__STATUS__STATUS_OK) {
		close(rep.fd); /* the task has its own now */
		l->served++;
		l->strikes = 0;
		return;
	}
	l->refused++;
	if (c.cut)
		bench_listener(b, l); /* out of epoll; the answer below still goes */
	if (c.gone) {
		task_forget((pid_t)n->pid);
		return;
	}
	if (rep.status == RAWBROKER__STATUS__STATUS_RATE_LIMITED)
		answer(l, n->id, EAGAIN, false);
	else if (c.addfd_err)
		answer(l, n->id, c.addfd_err, false);
	else if (rep.status == RAWBROKER__STATUS__STATUS_FAILED && rep.error > 0)
		answer(l, n->id, (int)rep.error, false); /* the real error: EMFILE, ENOBUFS... */
	else
		answer(l, n->id, EPERM, !raw);
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

/* maker_setopt()'s answer: the call's result. */
static void option_done(void *cookie, int err)
{
	struct pending *p = cookie;

	if (!p->used)
		return;
	if (err == 0) {
		audit_opt(p->l, p->pid, p->uid, p->gid, p->opt, p->len, "grant", p->rule, NULL);
		p->l->served++;
	} else {
		audit_opt(p->l, p->pid, p->uid, p->gid, p->opt, p->len, "fail", p->rule,
			  strerror(err));
		p->l->refused++;
	}
	answer(p->l, p->id, err, false); /* err 0: the call returns 0 */
	pending_free(p);
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
 * pending call's (generation included); the call must still be pending
 * (ID_VALID); the value must be a header of padding only (checked here and
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
		close(h->fd);
		h->fd = -1;
		h->in_epoll = false;
		for (unsigned i = 0; i < PENDING_MAX; i++) {
			if (!pend[i].used || pend[i].l != l || pend[i].sent_to_maker)
				continue;
			answer(l, pend[i].id, 0, true);
			pending_free(&pend[i]);
		}
		return;
	}
	idx = (unsigned)(rp.cookie & 0xff);
	p = idx < PENDING_MAX ? &pend[idx] : NULL;
	if ((size_t)n != sizeof(rp) || rp.version != OPTPROXY_VERSION ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !p || !p->used || p->l != l ||
	    (uint8_t)(rp.cookie >> 8) != p->gen ||
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
		if (rp.err == ESRCH) {
			/* Gone, or out of the relay's reach while still in
			 * the call (a thread before Linux 6.9, which has no
			 * PIDFD_THREAD): that one would wait for good. */
			if (id_valid(l, p->id)) {
				audit_opt(l, p->pid, p->uid, p->gid, p->opt, p->len, "fail",
					  p->rule, "the option helper cannot reach the calling "
					  "task (a thread, before Linux 6.9?): the kernel answers");
				l->refused++;
				answer(l, p->id, 0, true);
			} else {
				task_forget(p->pid); /* its kept /proc entries too */
			}
			pending_free(p);
			return;
		}
		/* EBADF (no such descriptor), EFAULT (a bad pointer): what the
		 * kernel says too. */
		audit_opt(l, p->pid, p->uid, p->gid, p->opt, p->len, "fail", p->rule,
			  strerror(rp.err));
		l->refused++;
		answer(l, p->id, rp.err, false);
		pending_free(p);
		return;
	}
	/* Read, and still in the call. */
	if (!id_valid(l, p->id)) {
		closer_release(tfd);
		task_forget(p->pid);
		pending_free(p);
		return;
	}
	if (mk_ext_header_invalid(rp.value, rp.len) || !option_socket_ok(tfd)) {
		const char *bad = mk_ext_header_invalid(rp.value, rp.len);

		closer_release(tfd);
		audit_opt(l, p->pid, p->uid, p->gid, p->opt, p->len, "invalid", p->rule,
			  bad ? bad : "not an IPv6 raw or datagram socket: the kernel answers");
		l->refused++;
		answer(l, p->id, EPERM, !bad); /* a bad header: EPERM, as without the broker */
		pending_free(p);
		return;
	}
	r = maker_setopt(tfd, p->level, p->name, rp.value, rp.len, option_done, p);
	p->sent_to_maker = r == 0;
	close(tfd); /* checked: an IPv6 raw or datagram socket, and the task holds it too */
	if (r < 0) {
		audit_opt(l, p->pid, p->uid, p->gid, p->opt, p->len, "fail", p->rule,
			  "the socket maker cannot take it now");
		l->refused++;
		answer(l, p->id, EPERM, false);
		pending_free(p);
	}
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
	char why[256];
	bool ok;
	int r;

	if (!opt) {
		answer(l, n->id, 0, true); /* not ours: the kernel answers */
		return;
	}
	/* The kernel's own order: the length before the capability. */
	if (len && (len < 8 || len % 8 || len > OPTPROXY_VALUE_MAX)) {
		answer(l, n->id, EINVAL, false);
		return;
	}
	if (h->fd < 0) {
		log_event(LOG_LVL_WARN, "refuse",
			  "decision=fail pid=%u call=setsockopt option=%s origin=%s reason=\"no "
			  "option proxy on this listener: the kernel answers (EPERM without "
			  "CAP_NET_RAW)\" via=notify", (unsigned)n->pid, rb_option_name(opt),
			  log_q((char[LOG_Q_MAX]){ 0 }, l->what));
		answer(l, n->id, 0, true);
		return;
	}
	r = task_identity(l, n, &peer, why, sizeof(why));
	if (r == -ENOENT)
		return;
	if (r < 0) {
		l->refused++;
		refuse_line(l, n, "setsockopt", why, EPERM);
		answer(l, n->id, 0, true);
		return;
	}
	rb_policy_decide_option(b->policy, &peer, opt, &dec);
	if (dec.verdict != RB_ALLOW) {
		l->refused++;
		audit_opt(l, peer.pid, peer.uid, peer.gid, opt, len, "deny", dec.rule, dec.reason);
		answer(l, n->id, 0, true); /* the kernel: EPERM without CAP_NET_RAW */
		return;
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
		answer(l, n->id, EPERM, false);
		return;
	}
	*p = (struct pending){ .used = true, .gen = p->gen, .l = l, .id = n->id, .pid = peer.pid,
			       .uid = peer.uid, .gid = peer.gid, .level = level, .name = name,
			       .opt = opt, .len = len };
	snprintf(p->rule, sizeof(p->rule), "%s", dec.rule ? dec.rule : "-");
	rq = (struct optproxy_req){ .version = OPTPROXY_VERSION, .pid = n->pid,
				    .fd = (int32_t)n->data.args[0], .len = len,
				    .addr = n->data.args[3],
				    .cookie = (uint64_t)(p - pend) | (uint64_t)p->gen << 8 };
	/* sendmsg: the front's sandbox has no sendto() */
	if (sendmsg(h->fd, &(struct msghdr){ .msg_iov = &(struct iovec){ .iov_base = &rq,
								     .iov_len = sizeof(rq) },
					     .msg_iovlen = 1 },
		    MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(rq)) {
		audit_opt(l, peer.pid, peer.uid, peer.gid, opt, len, "fail", dec.rule,
			  "the option helper (the command's relay) does not take requests");
		answer(l, n->id, EPERM, false);
		pending_free(p);
	}
	/* The call waits for the relay's answer (helper_readable()). */
}

static void serve_one(struct broker *b, struct listener *l)
{
	struct seccomp_notif n;
	int r;

	ioguard_enter();
	do {
		memset(&n, 0, sizeof(n)); /* the kernel wants it zeroed */
		r = ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, &n);
	} while (r < 0 && errno == EINTR && !ioguard_was_cut());
	ioguard_leave();
	if (r < 0) {
		if (errno == EINTR) {
			/* The watchdog cut RECV short: it slept although epoll
			 * said a notification was there (one whose task left
			 * makes RECV fail with ENOENT, never sleep).  Another
			 * process holds a copy of this listener and took it:
			 * nothing we could serve on it is safe to wait for. */
			log_event(LOG_LVL_WARN, "notify listener dropped",
				  "origin=%s reason=\"listener shared with another process: "
				  "SECCOMP_IOCTL_NOTIF_RECV slept past %d ms after epoll said "
				  "readable\"", log_q((char[LOG_Q_MAX]){ 0 }, l->what),
				  2 * IOGUARD_TICK_MS);
			listener_close(b, l, "listener shared with another process");
			return;
		}
		if (errno == ENOENT || errno == EAGAIN)
			return; /* the task left the call before we took it */
		log_warn("notify %s: SECCOMP_IOCTL_NOTIF_RECV", l->what);
		listener_close(b, l, "receive failed");
		return;
	}
	/* Only the calls of the notify profile, of this architecture: the
	 * numbers differ on another ABI, and the front serves none. */
	if (n.data.arch != native_arch ||
	    (n.data.nr != __NR_socket && n.data.nr != __NR_setsockopt)) {
		l->refused++;
		refuse_line(l, &n, "unknown", "not socket() or setsockopt() of the native "
			    "architecture", EPERM);
		answer(l, n.id, EPERM, false);
		return;
	}
	if (n.data.nr == __NR_socket)
		notif_socket(b, l, &n);
	else
		notif_setsockopt(b, l, &n);
}

void usernotif_on_event(struct broker *b, void *p, uint32_t events)
{
	struct listener *l = p;

	if ((char *)p >= (char *)U.h) { /* an option helper */
		struct helper *h = p;

		if (h->fd >= 0)
			helper_readable(b, h);
		return;
	}

	if (l->fd < 0)
		return;
	if (events & EPOLLIN) {
		serve_one(b, l);
		return; /* one per pass; level-triggered epoll brings us back */
	}
	if (events & (EPOLLHUP | EPOLLERR))
		listener_close(b, l, "its tasks are gone");
}
