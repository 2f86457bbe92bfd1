/* SPDX-License-Identifier: MIT */
/*
 * maker_link.c - the front's side of the socket maker.
 *
 * The maker (maker/maker.c) is exec'd from a child of the front before the
 * front reads a byte from any client, learns the class table from the
 * policy as it was at start, and then only makes sockets of those classes
 * and sets two IPv6 options.  The front keeps POOL sockets per class ready
 * (each carrying the maker's drop-everything filter while it waits), so a
 * grant costs no round trip to the maker; refills are asked for in batches
 * from the event loop (maker_refill) and arrive as one SCM_RIGHTS message
 * each.  A grant that finds its pool empty waits for the refill on its
 * way, or has one socket made on the spot when none is (maker_take): a
 * round trip to a process whose loop never waits on anything a client
 * controls.
 *
 * The maker's end of things: when it exits, the front logs it and stops
 * (server.c); when the front exits, the maker sees its channel close and
 * exits too (and PR_SET_PDEATHSIG kills it should the front die first).
 */
#include "maker_link.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <linux/bpf.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "maker/record.h"

#define OPT_INFLIGHT_MAX 16 /* option sets waiting for the maker */
#define SYNC_TIMEOUT_MS 5000

struct pool {
	int fds[POOL_MAX];
	unsigned n;
	uint64_t refill_id; /* 0: no refill asked for */
	int64_t refill_ms;  /* CLOCK_MONOTONIC ms when it was asked for */
	uint64_t overdue_id; /* the last refill given up: a late answer still fills */
	/* A class the maker cannot make now (ICMP datagram sockets outside
	 * ping_group_range, say) is asked again after a growing pause, and
	 * logged once per kind of failure, not once per loop. */
	int64_t retry_at;   /* CLOCK_MONOTONIC ms */
	uint32_t backoff_ms;
	int last_err;
};

#define REFILL_BACKOFF_MIN_MS 1000
#define REFILL_BACKOFF_MAX_MS 60000
/* The maker answers a refill in well under a millisecond, and with its
 * errno when the kernel will not carry the sockets (maker.c, reply()).
 * One it has not answered in this long is taken as lost (the send of that
 * errno failed too): without a bound, a lost refill would stay "on its
 * way" for good, and every grant of its class would wait for it. */
#define REFILL_OVERDUE_MS 1000

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int chan = -1;
static pid_t pid = -1;
static struct rb_class classes[MK_CLASSES_MAX];
static unsigned nclasses, depth;
static struct pool pools[MK_CLASSES_MAX];
static uint64_t next_id = 1;
static bool broken; /* the channel closed or a reply was malformed: link_failed() */

static struct {
	uint64_t id; /* 0: free */
	maker_done_fn done;
	void *cookie;
	bool finished; /* answered: DONE is called by maker_deliver() */
	int err;
} waits[OPT_INFLIGHT_MAX];

/* A synchronous MK_MAKE in progress (or given up for a refill that came
 * first: its socket then goes to the pool). */
static struct {
	uint64_t id;
	unsigned cls;
	int fd, err;
	bool done;
} sync_make;

int maker_fd(void)
{
	return chan;
}

pid_t maker_pid(void)
{
	return pid;
}

/* One record to the maker, with FD attached unless it is -1: the framing
 * every connection of the broker uses (frame.c). */
static int send_req(struct mk_request *rq, int fd)
{
	rq->version = MK_VERSION;
	return rb_frame_send(chan, rq, sizeof(*rq), fd, 0);
}

/* One reply and its descriptors.  Returns 1, 0 when nothing is queued
 * (DONTWAIT), -EPIPE when the maker is gone, -EPROTO for a reply that is
 * not one (its descriptors closed). */
static int recv_reply(struct mk_reply *rp, int *fds, unsigned *nfds, bool dontwait)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MK_BATCH_MAX)];
	} cm;
	struct iovec iov = { .iov_base = rp, .iov_len = sizeof(*rp) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(chan, &msg, MSG_CMSG_CLOEXEC | (dontwait ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -EPIPE;
	if (n == 0)
		return -EPIPE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t len = c->cmsg_len - CMSG_LEN(0);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0; k + sizeof(int) <= len && *nfds < MK_BATCH_MAX; k += sizeof(int))
			memcpy(&fds[(*nfds)++], CMSG_DATA(c) + k, sizeof(int));
	}
	if ((size_t)n != sizeof(*rp) || rp->version != MK_VERSION || rp->nfds != *nfds ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (unsigned i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return -EPROTO;
	}
	return 1;
}

/* Packets that queued on a new socket before the maker's drop filter was
 * attached are dropped as it arrives (see empty_arrivals()); more than
 * this many means something keeps queueing past that filter, and the
 * socket is not used. */
#define DRAIN_MAX 4096

/*
 * Empty FD's receive queue: 0, or -errno.
 *
 * Why here, once, and not at hand-off: the maker attaches a filter that
 * drops everything right after socket() (maker.c, make_one), so only what
 * arrived between those two calls can be queued.  The filter runs before
 * a packet is queued (sock_queue_rcv_skb), so once this drain has found
 * the queue empty it stays empty for as long as the socket waits in the
 * pool: nothing is queued until the front replaces or detaches that
 * filter at hand-off (rawsock.c, prepare), and everything queued after
 * that has passed the rule's filter, or is meant to reach the client.  So
 * no packet that arrived before the grant reaches the client, as when the
 * drain ran at hand-off, and the grant saves a system call.
 *
 * A packet whose filter check ran just before the attach is queued within
 * the same softirq pass; this drain runs a round trip later (the maker's
 * sendmsg, our wake-up and recvmsg), as the hand-off drain did.
 */
static int drain(int fd)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	for (int i = 0; i < DRAIN_MAX; i++) {
		if (recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC) >= 0 || errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
	return -EBUSY;
}

/* New sockets from the maker into P, up to its depth; *USED counts those
 * taken (the caller closes the rest). */
static void pool_put(struct pool *p, const int *fds, unsigned nfds, unsigned *used)
{
	while (*used < nfds && p->n < depth)
		p->fds[p->n++] = fds[(*used)++];
}

/* Drain every socket of a reply as it arrives (drain()); one that cannot
 * be drained is closed and left out.  Returns 0, or -errno of the last
 * one left out.  One poll() first tells which queues hold anything
 * (datagram_poll: POLLIN exactly when the receive queue is not empty),
 * usually none: a system call for the batch instead of one per socket,
 * with the same answer at the same moment a recvmsg() would have given. */
static int empty_arrivals(int *fds, unsigned *nfds)
{
	struct pollfd pfds[MK_BATCH_MAX];
	unsigned kept = 0;
	int err = 0;
	bool polled;

	polled = *nfds <= MK_BATCH_MAX; /* recv_reply() takes no more */
	for (unsigned i = 0; polled && i < *nfds; i++)
		pfds[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	polled = polled && poll(pfds, *nfds, 0) >= 0;
	for (unsigned i = 0; i < *nfds; i++) {
		int r = polled && pfds[i].revents == 0 ? 0 : drain(fds[i]);

		if (r < 0) {
			log_event(LOG_LVL_WARN, "socket maker", "a new socket was not used: "
				  "%s while dropping what queued before its drop filter",
				  r == -EBUSY ? "more than 4096 packets" : strerror(-r));
			close(fds[i]);
			err = r;
			continue;
		}
		fds[kept++] = fds[i];
	}
	*nfds = kept;
	return err;
}

static void handle_reply(const struct mk_reply *rp, int *fds, unsigned nfds)
{
	unsigned used = 0;
	int drain_err = rp->kind == MK_MAKE ? empty_arrivals(fds, &nfds) : 0;
	bool sync = rp->kind == MK_MAKE && sync_make.id && rp->id == sync_make.id;

	if (sync && !sync_make.done) {
		sync_make.done = true;
		sync_make.err = rp->err ? rp->err : -drain_err; /* a record's errno is positive */
		if (nfds)
			sync_make.fd = fds[used++];
	} else if (sync) {
		pool_put(&pools[sync_make.cls], fds, nfds, &used);
	} else if (rp->kind == MK_MAKE) {
		for (unsigned c = 0; c < nclasses; c++) {
			struct pool *p = &pools[c];

			if (p->overdue_id && p->overdue_id == rp->id) {
				/* Late, not lost (a maker or loop held up for a
				 * second): its sockets are as good as any. */
				p->overdue_id = 0;
				log_event(LOG_LVL_INFO, "socket maker answered a refill late",
					  "family=%s type=%s protocol=%s sockets=%u err=%d",
					  rb_family_name(classes[c].family),
					  rb_type_name(classes[c].type),
					  rb_protocol_name(classes[c].protocol), nfds,
					  (int)rp->err);
				pool_put(p, fds, nfds, &used);
				continue;
			}
			if (p->refill_id != rp->id)
				continue;
			p->refill_id = 0;
			pool_put(p, fds, nfds, &used);
			if (nfds) {
				p->backoff_ms = 0;
				p->last_err = 0;
				continue;
			}
			p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : REFILL_BACKOFF_MIN_MS;
			if (p->backoff_ms > REFILL_BACKOFF_MAX_MS)
				p->backoff_ms = REFILL_BACKOFF_MAX_MS;
			p->retry_at = mono_ms() + p->backoff_ms;
			if (rp->err != p->last_err)
				log_event(LOG_LVL_WARN, "socket maker cannot fill a pool",
					  "family=%s type=%s protocol=%s err=\"%s\" retry_ms=%u",
					  rb_family_name(classes[c].family),
					  rb_type_name(classes[c].type),
					  rb_protocol_name(classes[c].protocol),
					  strerror(rp->err ? rp->err : EIO), (unsigned)p->backoff_ms);
			p->last_err = rp->err;
		}
	} else if (rp->kind == MK_SETOPT) {
		for (unsigned i = 0; i < OPT_INFLIGHT_MAX; i++) {
			if (waits[i].id != rp->id || waits[i].finished)
				continue;
			waits[i].finished = true;
			waits[i].err = rp->err;
		}
	} else {
		log_event(LOG_LVL_WARN, "socket maker", "unexpected reply kind=%u err=%d",
			  (unsigned)rp->kind, (int)rp->err);
	}
	while (used < nfds)
		close(fds[used++]); /* new sockets of ours, unused */
}

/* recv_reply() said R < 0: the channel closed (-EPIPE) or a reply could
 * not be read (-EPROTO).  Whoever read it, the loop stops (server.c). */
static void link_failed(int r)
{
	if (r == -EPROTO)
		log_event(LOG_LVL_ERROR, "socket maker", "malformed reply");
	broken = true;
}

bool maker_on_readable(void)
{
	struct mk_reply rp;
	int fds[MK_BATCH_MAX];
	unsigned nfds;
	int r;

	while ((r = recv_reply(&rp, fds, &nfds, true)) != 0) {
		if (r < 0) {
			link_failed(r);
			return false;
		}
		handle_reply(&rp, fds, nfds);
	}
	return true;
}

void maker_deliver(void)
{
	for (unsigned i = 0; i < OPT_INFLIGHT_MAX; i++) {
		if (!waits[i].id || !waits[i].finished)
			continue;
		waits[i].id = 0;
		waits[i].finished = false;
		waits[i].done(waits[i].cookie, waits[i].err);
	}
}

bool maker_has_finished(void)
{
	for (unsigned i = 0; i < OPT_INFLIGHT_MAX; i++)
		if (waits[i].id && waits[i].finished)
			return true;
	return false;
}

/* The index of the class (FAMILY, TYPE, PROTOCOL, PREP's mark) in the
 * maker's table, or -ENOENT. */
static int class_of(int family, int type, int protocol, const struct rb_prepare *prep)
{
	for (unsigned c = 0; c < nclasses; c++)
		if (classes[c].family == family && classes[c].type == type &&
		    classes[c].protocol == protocol && classes[c].has_mark == prep->has_mark &&
		    (!prep->has_mark || classes[c].mark == prep->mark))
			return (int)c;
	return -ENOENT;
}

/* Ask for class C's refill when half its pool is gone and none is on its
 * way (nor held back after a failure).  One request, one SCM_RIGHTS reply
 * with up to DEPTH sockets. */
static int64_t last_take_ms; /* CLOCK_MONOTONIC of the last pool take */

static int64_t lazy_now(int64_t *now)
{
	return *now < 0 ? (*now = mono_ms()) : *now;
}

/* When P's refill on its way is given up (refill_on_way()). */
static int64_t overdue_at(const struct pool *p)
{
	return p->refill_ms + REFILL_OVERDUE_MS;
}

/* Is class C's refill on its way?  One overdue is given up (logged), so
 * that it is asked again; should its answer come after all, its sockets
 * still join the pool (handle_reply()). */
static bool refill_on_way(unsigned c, int64_t *now)
{
	struct pool *p = &pools[c];

	if (!p->refill_id)
		return false;
	if (lazy_now(now) < overdue_at(p))
		return true;
	log_event(LOG_LVL_WARN, "socket maker did not answer a refill; asking again",
		  "family=%s type=%s protocol=%s waited_ms=%" PRId64,
		  rb_family_name(classes[c].family), rb_type_name(classes[c].type),
		  rb_protocol_name(classes[c].protocol), *now - p->refill_ms);
	p->overdue_id = p->refill_id;
	p->refill_id = 0;
	return false;
}

static void refill_class(unsigned c, int64_t *now, bool topup)
{
	struct pool *p = &pools[c];
	struct mk_request rq;

	if (p->n > (topup ? depth - 1 : depth / 2) || depth == 0 || refill_on_way(c, now))
		return;
	if (p->backoff_ms && lazy_now(now) < p->retry_at)
		return;
	memset(&rq, 0, sizeof(rq));
	rq.kind = MK_MAKE;
	rq.id = next_id++;
	rq.cls = c;
	rq.count = depth - p->n;
	if (send_req(&rq, -1) == 0) {
		p->refill_id = rq.id;
		p->refill_ms = lazy_now(now);
	}
}

/* When grants stop, the pools are topped up after TOPUP_IDLE_MS, so an
 * idle broker holds full pools: a fixed number of descriptors (what the
 * hostile-client tests compare), not anything between half and full. */
#define TOPUP_IDLE_MS 50

int maker_refill(void)
{
	int64_t now = mono_ms(), due = -1;
	bool topup = now - last_take_ms >= TOPUP_IDLE_MS, short_any = false;

	for (unsigned c = 0; c < nclasses; c++) {
		/* An overdue refill is given up whatever the pool holds; the
		 * loop comes back when one on its way (maybe asked just now)
		 * falls overdue, so that an idle broker asks again too. */
		refill_on_way(c, &now);
		refill_class(c, &now, topup);
		short_any |= pools[c].n < depth && !pools[c].backoff_ms;
		if (pools[c].refill_id && (due < 0 || overdue_at(&pools[c]) < due))
			due = overdue_at(&pools[c]);
	}
	if (short_any && !topup && (due < 0 || last_take_ms + TOPUP_IDLE_MS < due))
		due = last_take_ms + TOPUP_IDLE_MS;
	return due < 0 ? -1 : (int)(due - now) + 1;
}

int maker_take(int family, int type, int protocol, const struct rb_prepare *prep)
{
	int c = class_of(family, type, protocol, prep);
	uint64_t mine = 0; /* our one-socket request, once sent */
	int64_t deadline = -1; /* set when it first waits */
	struct pool *p;
	int r;

	if (c < 0)
		return c; /* -ENOENT */
	if (broken)
		return -EPIPE;
	p = &pools[c];
	/* An empty pool: the refill on its way is the maker's next work, so
	 * wait for it.  A one-socket request sent now would queue behind it
	 * and come after it, costing the maker a batch of its own for one
	 * socket (under a load that empties the pool, that was every other
	 * reply).  With no refill on its way (none asked for, held back after
	 * a failure, or one that came back empty), ask for one socket: its
	 * reply also carries the error to tell the client.  The maker answers
	 * with an errno where the kernel will not carry the sockets (maker.c,
	 * reply()); a refill lost even so is given up after REFILL_OVERDUE_MS,
	 * and one socket asked for then.  Other replies are served while we
	 * wait, SYNC_TIMEOUT_MS in all. */
	for (;;) {
		struct pollfd pfd = { .fd = chan, .events = POLLIN };
		struct mk_request rq;
		struct mk_reply rp;
		int fds[MK_BATCH_MAX];
		unsigned nfds;
		int64_t now = -1, wait;

		if (mine && sync_make.done && sync_make.fd >= 0)
			return sync_make.fd;
		if (p->n) {
			int fd = p->fds[0];

			if (mine)
				sync_make.done = true; /* ours, when it comes, joins the pool */
			memmove(p->fds, p->fds + 1, --p->n * sizeof(int)); /* oldest first */
			/* Now, not after the loop's batch: 64 clients ready at
			 * once would empty the pool first. */
			last_take_ms = now = mono_ms();
			refill_class((unsigned)c, &now, false);
			return fd;
		}
		if (mine && sync_make.done)
			return -(sync_make.err ? sync_make.err : EIO);
		if (!mine && !refill_on_way((unsigned)c, &now)) {
			memset(&rq, 0, sizeof(rq));
			rq.kind = MK_MAKE;
			rq.id = next_id++;
			rq.cls = (uint32_t)c;
			rq.count = 1;
			if (send_req(&rq, -1) < 0)
				return -EPIPE;
			mine = rq.id;
			sync_make.id = rq.id;
			sync_make.cls = (unsigned)c;
			sync_make.fd = -1;
			sync_make.err = 0;
			sync_make.done = false;
		}
		if (deadline < 0)
			deadline = lazy_now(&now) + SYNC_TIMEOUT_MS;
		wait = deadline - lazy_now(&now);
		if (!mine && overdue_at(p) - now + 1 < wait)
			wait = overdue_at(p) - now + 1; /* then ask */
		r = wait > 0 ? poll(&pfd, 1, (int)wait) : 0;
		if (r == 0 && now + wait < deadline)
			continue; /* the refill fell overdue */
		if (r == 0 || (r < 0 && errno != EINTR)) {
			if (mine)
				sync_make.done = true; /* a late socket joins the pool */
			return r == 0 ? -ETIMEDOUT : -errno;
		}
		r = recv_reply(&rp, fds, &nfds, true);
		if (r < 0) {
			link_failed(r);
			if (mine)
				sync_make.done = true;
			return -EPIPE;
		}
		if (r > 0)
			handle_reply(&rp, fds, nfds);
	}
}

bool maker_broken(void)
{
	return broken;
}

int maker_setopt(int fd, int level, int name, const void *value, size_t len,
		 maker_done_fn done, void *cookie)
{
	struct mk_request rq;
	unsigned slot;
	int r;

	if (len > MK_VALUE_MAX)
		return -EINVAL;
	for (slot = 0; slot < OPT_INFLIGHT_MAX && waits[slot].id; slot++)
		;
	if (slot == OPT_INFLIGHT_MAX)
		return -EBUSY;
	memset(&rq, 0, sizeof(rq));
	rq.kind = MK_SETOPT;
	rq.id = next_id++;
	rq.level = level;
	rq.name = name;
	rq.len = (uint32_t)len;
	if (len)
		memcpy(rq.value, value, len);
	r = send_req(&rq, fd);
	if (r < 0)
		return r;
	waits[slot].id = rq.id;
	waits[slot].finished = false;
	waits[slot].done = done;
	waits[slot].cookie = cookie;
	return 0;
}

void maker_forget(void *cookie)
{
	for (unsigned i = 0; i < OPT_INFLIGHT_MAX; i++)
		if (waits[i].id && waits[i].cookie == cookie)
			waits[i].id = 0, waits[i].finished = false;
}

unsigned maker_pool_held(void)
{
	unsigned n = 0;

	for (unsigned c = 0; c < nclasses; c++)
		n += pools[c].n;
	return n;
}

void maker_check_policy(const struct rb_policy *p)
{
	struct rb_class now[MK_CLASSES_MAX];
	int n = rb_policy_classes(p, now, MK_CLASSES_MAX);

	if (n < 0) {
		log_event(LOG_LVL_WARN, "policy needs a restart",
			  "why=\"more than %d socket classes\"", MK_CLASSES_MAX);
		return;
	}
	for (int i = 0; i < n; i++) {
		char mark[16] = "-";

		if (class_of(now[i].family, now[i].type, now[i].protocol,
			     &(struct rb_prepare){ .has_mark = now[i].has_mark,
						   .mark = now[i].mark }) >= 0)
			continue;
		if (now[i].has_mark)
			snprintf(mark, sizeof(mark), "%#x", (unsigned)now[i].mark);
		log_event(LOG_LVL_WARN, "policy needs a restart",
			  "family=%s type=%s protocol=%s mark=%s why=\"the socket maker was "
			  "started without this class; requests for it fail until rawbrokerd "
			  "restarts\"", rb_family_name(now[i].family), rb_type_name(now[i].type),
			  rb_protocol_name(now[i].protocol), mark);
	}
}

/* FD itself when its number is above 4, else a close-on-exec copy that is. */
static int above4(int fd)
{
	return fd > 4 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 5);
}

/* The child, between fork() and the maker's execve(): the broker's user,
 * CAP_NET_RAW ambient (so it survives the execve), nothing else.  EXE is
 * the maker's binary, opened (O_PATH) before the drop: the broker's user
 * need not reach its directory (a build tree under /root), and no path is
 * looked up again once privileges are gone. */
static _Noreturn void exec_maker(const char *path, int exe, const struct drop_spec *spec,
				 int fd, int drop_prog, pid_t front)
{
	extern char **environ;
	struct drop_spec s = *spec;
	struct drop_state st;
	char why[256] = "", num[16], prog[16];
	char name[] = "rawbroker-maker", opt_fd[] = "--fd", opt_prog[] = "--drop-prog";
	sigset_t none;

	s.keep = 1ull << CAP_NET_RAW;
	s.ambient = true;
	/* The maker's two descriptors at 3 and 4: the sockets it makes then
	 * get consecutive numbers above them, and it closes its copies of a
	 * batch with one close_range() (closefds.h) instead of one per gap.
	 * Whatever we still need sits above 4 first (with stdio closed, even
	 * the channel or EXE can have a number below 5), then dup2() puts the
	 * two in place without close-on-exec; everything else from 3 up is
	 * closed by the exec. */
	if ((exe = above4(exe)) < 0 || (fd = above4(fd)) < 0 ||
	    (drop_prog >= 0 && (drop_prog = above4(drop_prog)) < 0) ||
	    close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) < 0 || dup2(fd, 3) < 0 ||
	    (drop_prog >= 0 && dup2(drop_prog, 4) < 0)) {
		dprintf(STDERR_FILENO, "rawbrokerd: socket maker: close inherited descriptors: %s\n",
			strerror(errno));
		_exit(127);
	}
	if (drop_privileges(&s, &st, why, sizeof(why)) < 0) {
		dprintf(STDERR_FILENO, "rawbrokerd: socket maker: %s\n", why);
		_exit(127);
	}
	/* After the drop: a credential change clears the death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != front)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(num, sizeof(num), "%d", 3);
	snprintf(prog, sizeof(prog), "%d", 4);
	execveat(exe, "", (char *[]){ name, opt_fd, num, drop_prog >= 0 ? opt_prog : NULL,
				      prog, NULL }, environ, AT_EMPTY_PATH);
	dprintf(STDERR_FILENO, "rawbrokerd: socket maker: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/*
 * The pool's drop-everything filter as one shared eBPF program ("return
 * 0"), loaded once here, while the front still runs as root, and handed
 * to the maker at exec.  Why: a classic filter (SO_ATTACH_FILTER) is a new
 * program per socket, JIT-compiled on attach; on this kind of machine
 * (a VM where the JIT's text_poke is slow) that cost 170 us a socket, 30
 * times socket() itself, and capped the maker at ~6,000 sockets a second.
 * SO_ATTACH_BPF of a loaded program only takes a reference (~5 us).
 * Safe: the program is this constant, it is loaded before any client byte
 * is read, and holding its descriptor lets one do nothing but attach a
 * filter that drops everything.  Loading needs CAP_BPF (or the sysctl
 * kernel.unprivileged_bpf_disabled=0); without it (a non-root start with
 * CAP_NET_RAW only) the maker attaches the classic filter as before.
 * Returns the program's descriptor or -errno.
 */
static int load_drop_prog(void)
{
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (uint64_t)(uintptr_t)"MIT";
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)); /* CLOEXEC by default */
	return fd < 0 ? -errno : fd;
}

/* Send one table record and read its answer; fatal on refusal. */
static void table_record(struct mk_request *rq, const char *what)
{
	struct pollfd pfd = { .fd = chan, .events = POLLIN };
	struct mk_reply rp;
	int fds[MK_BATCH_MAX];
	unsigned nfds;
	int r;

	rq->id = next_id++;
	if (send_req(rq, -1) < 0)
		fatalx("socket maker exited while starting (its message is above)");
	r = poll(&pfd, 1, SYNC_TIMEOUT_MS);
	if (r <= 0)
		fatalx("socket maker did not answer %s", what);
	r = recv_reply(&rp, fds, &nfds, true);
	for (unsigned i = 0; r > 0 && i < nfds; i++)
		close(fds[i]);
	if (r <= 0)
		fatalx("socket maker exited while starting (its message is above)");
	if (rp.id != rq->id || rp.err)
		fatalx("socket maker refused %s: %s", what, strerror(rp.err ? rp.err : EPROTO));
}

void maker_start(const char *path, const struct drop_spec *spec, const struct rb_policy *policy,
		 unsigned pool_depth)
{
	struct mk_request rq;
	pid_t front = getpid();
	int sv[2], n, drop_prog, exe;

	n = rb_policy_classes(policy, classes, MK_CLASSES_MAX);
	if (n < 0)
		fatalx("the policy names more than %d socket classes (family, type, "
		       "protocol, mark)", MK_CLASSES_MAX);
	nclasses = (unsigned)n;
	depth = pool_depth;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("socketpair");
	exe = open(path, O_PATH | O_CLOEXEC);
	if (exe < 0)
		fatal("the socket maker %s", path);
	drop_prog = load_drop_prog();
	pid = fork();
	if (pid < 0)
		fatal("fork");
	if (pid == 0)
		exec_maker(path, exe, spec, sv[1], drop_prog, front);
	close(exe);
	close(sv[1]);
	if (drop_prog >= 0)
		close(drop_prog); /* the maker's alone */
	chan = sv[0];

	for (unsigned c = 0; c < nclasses; c++) {
		char what[96];

		memset(&rq, 0, sizeof(rq));
		rq.kind = MK_CLASS;
		rq.family = classes[c].family;
		rq.type = classes[c].type;
		rq.protocol = classes[c].protocol;
		rq.has_mark = classes[c].has_mark;
		rq.mark = classes[c].mark;
		snprintf(what, sizeof(what), "class %s %s %s", rb_family_name(rq.family),
			 rb_protocol_name(rq.protocol), rb_type_name(rq.type));
		table_record(&rq, what);
	}
	memset(&rq, 0, sizeof(rq));
	rq.kind = MK_SEAL;
	table_record(&rq, "its seal");
	log_event(LOG_LVL_INFO, "socket maker ready",
		  "pid=%d classes=%u pool=%u caps=cap_net_raw pool_filter=%s", (int)pid, nclasses,
		  depth, drop_prog >= 0 ? "shared-ebpf" : "classic");
	if (depth)
		maker_refill();
}

unsigned maker_classes(void)
{
	return nclasses;
}

unsigned maker_class_ready(unsigned i, struct rb_class *cls)
{
	if (i >= nclasses)
		return 0;
	*cls = classes[i];
	return pools[i].n;
}
