/* SPDX-License-Identifier: MIT */
/*
 * maker.c - rawbroker-maker: the only process of rawbroker that holds
 * CAP_NET_RAW, and only that.
 *
 * It is started by rawbrokerd (the front), already dropped to the broker's
 * user with CAP_NET_RAW as its one capability (ambient across the
 * execve(), cleared here), NO_NEW_PRIVS set and the bounding set narrowed.
 * Its whole input is one SOCK_SEQPACKET socketpair to the front (--fd),
 * carrying the fixed-size records of record.h.  It links no protobuf-c, no
 * policy parser and no log formatter: a compromised front can send it any
 * bytes, and what follows is why that still gets it nothing the policy
 * file never named.
 *
 *  1. The class table (family, type, protocol, mark) comes first, before
 *     the front has read a byte from any client; each class must be one of
 *     served.h's tuples.  After MK_SEAL no class is added: the seccomp
 *     filter loaded then allows socket() for exactly those tuples, and
 *     MK_MAKE names a class by its index.  A policy reload that needs a new
 *     class needs a restart.
 *  2. MK_MAKE makes sockets of one class: socket(), a receive filter that
 *     drops everything (the front replaces it at hand-off), SO_MARK when
 *     the class has one.  Nothing else: device, filter, source and buffers
 *     need no privilege and are the front's.
 *  3. MK_SETOPT sets IPV6_HOPOPTS or IPV6_DSTOPTS on a socket the front
 *     passes (a client's own): the option must be one of the two, the
 *     value a header of padding only (its own validator, below, not the
 *     front's word), and the socket an IPv6 raw or datagram socket.  The
 *     setsockopt() takes the client's socket lock, which the client can
 *     hold forever (a corked send stalled on a FUSE page), so it runs on a
 *     worker thread; the loop answers ETIMEDOUT after OPT_TIMEOUT_MS and
 *     EBUSY when every worker is stuck, and goes on making sockets.
 *  4. Anything else - a wrong length, another version, an unknown kind,
 *     a class index out of range, a descriptor where none belongs - is
 *     answered EMSGSIZE, EPROTONOSUPPORT, EINVAL or EPROTO (check.c, the
 *     one place that decides) and the next record is served.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>



#include "closefds.h"
#include "drop.h"
#include "maker.h"
#include "record.h"

#define OPT_WORKERS 4      /* set-option workers */
#define OPT_TIMEOUT_MS 1000 /* then the front is told ETIMEDOUT */

static int chan = -1; /* the socketpair to the front */
static int drop_prog = -1; /* the front's shared drop-everything eBPF program, or -1 */
static struct mk_class classes[MK_CLASSES_MAX];
static unsigned nclasses;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "rawbroker-maker: %s\n", msg);
	_exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- replies ---- */

static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;

/* ERR travels in the record as the front's errno: positive, 0 for none. */
static void reply(const struct mk_request *rq, int err, const int *fds, unsigned nfds)
{
	struct mk_reply rp = { .version = MK_VERSION, .kind = rq ? rq->kind : 0,
			       .id = rq ? rq->id : 0, .err = err, .nfds = nfds };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MK_BATCH_MAX)];
	} cm;
	struct iovec iov = { .iov_base = &rp, .iov_len = sizeof(rp) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (nfds) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	/* Threads answer too: one record per sendmsg() is atomic, the lock
	 * only keeps errors in order.  A record with descriptors can be
	 * refused where one without is not: the broker's user has more in
	 * flight than RLIMIT_NOFILE (ETOOMANYREFS; its granted sockets that
	 * clients have not read count), or memory is short.  The front
	 * then gets the errno and no descriptor: a refill it never hears of
	 * would keep it waiting.  Otherwise the front is gone: the loop
	 * sees it on its next receive and exits. */
	pthread_mutex_lock(&send_lock);
	while ((r = sendmsg(chan, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (r < 0 && nfds && errno != EPIPE && errno != ECONNRESET) {
		rp.err = errno;
		rp.nfds = 0;
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		while (sendmsg(chan, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&send_lock);
}

/* ---- MK_MAKE ---- */

static int make_one(const struct mk_class *c)
{
	/* Drops every packet until the front sets the rule's filter. */
	static struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	static const struct sock_fprog prog = { .len = 1, .filter = drop_all };
	int fd = socket(c->family, c->type | SOCK_CLOEXEC, c->protocol), err;

	if (fd < 0)
		return -errno;
	/* The shared program when the front loaded one (a reference, not a
	 * JIT compile per socket: see maker_link.c, load_drop_prog). */
	if ((drop_prog >= 0
		     ? setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &drop_prog, sizeof(drop_prog))
		     : setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) < 0 ||
	    (c->has_mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &c->mark, sizeof(c->mark)) < 0)) {
		err = errno;
		close(fd); /* ours, new, nobody else holds it */
		return -err;
	}
	return fd;
}

static void handle_make(const struct mk_request *rq)
{
	int fds[MK_BATCH_MAX];
	unsigned n = 0;
	int err = 0;

	if (rq->cls >= nclasses || rq->count < 1 || rq->count > MK_BATCH_MAX) {
		reply(rq, EINVAL, NULL, 0);
		return;
	}
	while (n < rq->count) {
		int fd = make_one(&classes[rq->cls]);

		if (fd < 0) {
			err = -fd;
			break;
		}
		fds[n++] = fd;
	}
	reply(rq, n ? 0 : err, fds, n);
	rb_close_fds(fds, n); /* the front has its copies (or is gone) */
}

/* ---- MK_SETOPT ---- */

/* 0 when FD is an IPv6 raw or datagram socket (whose close never waits on
 * anything queued inside it), else -EBADF.  SO_DOMAIN and SO_TYPE are read
 * without the socket lock. */
static int ipv6_socket(int fd)
{
	int v;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_INET6)
		return -EBADF;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 ||
	    (v != SOCK_RAW && v != SOCK_DGRAM))
		return -EBADF;
	return 0;
}

struct worker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool busy;       /* a job is set (taken by the loop, freed by the worker) */
	bool answered;   /* the loop already said ETIMEDOUT */
	int64_t deadline;
	int fd;
	struct mk_request rq;
};

static struct worker workers[OPT_WORKERS];

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		int r;

		pthread_mutex_lock(&w->lock);
		while (w->fd < 0)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);

		/* May block for as long as the client holds its socket lock. */
		r = ipv6_socket(w->fd);
		if (r == 0 && setsockopt(w->fd, w->rq.level, w->rq.name,
					 w->rq.len ? w->rq.value : NULL, w->rq.len) < 0)
			r = -errno;
		close(w->fd);

		pthread_mutex_lock(&w->lock);
		if (!w->answered)
			reply(&w->rq, -r, NULL, 0);
		w->fd = -1;
		w->busy = false;
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

static void handle_setopt(const struct mk_request *rq, int fd)
{
	struct worker *w = NULL;

	if (fd < 0 || rq->level != IPPROTO_IPV6 ||
	    (rq->name != IPV6_HOPOPTS && rq->name != IPV6_DSTOPTS) || rq->len > MK_VALUE_MAX ||
	    mk_ext_header_invalid(rq->value, rq->len)) {
		reply(rq, EINVAL, NULL, 0);
		goto out;
	}
	for (unsigned i = 0; i < OPT_WORKERS && !w; i++) {
		pthread_mutex_lock(&workers[i].lock);
		if (!workers[i].busy)
			w = &workers[i];
		else
			pthread_mutex_unlock(&workers[i].lock);
	}
	if (!w) {
		reply(rq, EBUSY, NULL, 0);
		goto out;
	}
	w->busy = true;
	w->answered = false;
	w->deadline = now_ms() + OPT_TIMEOUT_MS;
	w->rq = *rq;
	w->fd = fd;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return;
out:
	if (fd >= 0)
		close(fd); /* the real front sends only sockets it checked */
}

/* Answer ETIMEDOUT for jobs past their deadline (their worker stays stuck
 * until the kernel lets it go); return the ms until the next deadline. */
static int expire_workers(void)
{
	int64_t now = now_ms(), next = -1;

	for (unsigned i = 0; i < OPT_WORKERS; i++) {
		struct worker *w = &workers[i];

		pthread_mutex_lock(&w->lock);
		if (w->busy && !w->answered) {
			if (w->deadline <= now) {
				w->answered = true;
				reply(&w->rq, ETIMEDOUT, NULL, 0);
			} else if (next < 0 || w->deadline - now < next) {
				next = w->deadline - now;
			}
		}
		pthread_mutex_unlock(&w->lock);
	}
	return (int)next;
}

static void start_workers(void)
{
	for (unsigned i = 0; i < OPT_WORKERS; i++) {
		pthread_attr_t attr;
		pthread_t t;

		workers[i].fd = -1;
		pthread_mutex_init(&workers[i].lock, NULL);
		pthread_cond_init(&workers[i].cond, NULL);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		if (pthread_create(&t, &attr, worker_main, &workers[i]) != 0)
			die("cannot start a worker thread");
		pthread_attr_destroy(&attr);
	}
}

/* ---- records ---- */

/* Receive one request.  Returns its length (exactly sizeof *RQ when
 * well-formed), 0 when the front is gone, -EPROTO for control data that is
 * not at most one SCM_RIGHTS descriptor (all of it closed).  *FD is the
 * descriptor or -1. */
static ssize_t receive(struct mk_request *rq, int *fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 253)];
	} cm;
	struct iovec iov = { .iov_base = rq, .iov_len = sizeof(*rq) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	unsigned nfds = 0;
	bool bad = false;
	ssize_t n;

	*fd = -1;
	memset(rq, 0, sizeof(*rq));
	do
		n = recvmsg(chan, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? 0 : -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t len = c->cmsg_len >= CMSG_LEN(0) ? c->cmsg_len - CMSG_LEN(0) : 0;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = true;
			continue;
		}
		for (size_t k = 0; k + sizeof(int) <= len; k += sizeof(int)) {
			int r;

			memcpy(&r, CMSG_DATA(c) + k, sizeof(r));
			if (nfds++ == 0)
				*fd = r;
			else
				close(r), bad = true;
		}
	}
	if (bad || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return n == 0 ? 0 : (msg.msg_flags & MSG_TRUNC) ? -EMSGSIZE : -EPROTO;
	}
	return n;
}

/* A class record, before the seal, that mk_request_check() passed (a
 * served tuple, room in the table): not yet in the table.  0 or -EEXIST. */
static int add_class(const struct mk_request *rq)
{
	struct mk_class c = { rq->family, rq->type, rq->protocol, rq->has_mark != 0, rq->mark };

	for (unsigned i = 0; i < nclasses; i++)
		if (!memcmp(&classes[i], &c, sizeof(c)))
			return -EEXIST;
	classes[nclasses++] = c;
	return 0;
}

/* What is wrong with the record receive() returned N and FD for (check.c),
 * SEALED or not: 0 or -errno.  (The reply record carries it positive.) */
static int malformed(ssize_t n, const struct mk_request *rq, int fd, bool sealed)
{
	if (n < 0)
		return (int)n;
	return mk_request_check(rq, (size_t)n, fd >= 0, sealed, nclasses);
}

/* The table, up to the seal.  Returns once sealed, with the seal in RQ. */
static void learn_classes(struct mk_request *seal)
{
	struct mk_request rq;
	int fd, err;
	ssize_t n;

	for (;;) {
		n = receive(&rq, &fd);
		if (n == 0)
			_exit(0); /* the front is gone */
		err = malformed(n, &rq, fd, false);
		if (fd >= 0)
			close(fd); /* refused above: none belongs here */
		if (!err && rq.kind == MK_SEAL) {
			*seal = rq;
			return;
		}
		if (!err)
			err = add_class(&rq); /* MK_CLASS, checked */
		reply(&rq, -err, NULL, 0);
	}
}

static void serve(void)
{
	struct mk_request rq;
	int fd, err;
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		int timeout = expire_workers();

		if (poll(&p, 1, timeout) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = receive(&rq, &fd);
		if (n == 0)
			return; /* the front is gone: so are we */
		err = malformed(n, &rq, fd, true);
		if (!err && rq.kind == MK_SETOPT) {
			handle_setopt(&rq, fd);
			continue;
		}
		if (fd >= 0)
			close(fd); /* refused above unless MK_SETOPT */
		if (!err && rq.kind == MK_MAKE) {
			handle_make(&rq);
			continue;
		}
		/* Class records after the seal, unknown kinds, bad records. */
		reply(&rq, err ? -err : EINVAL, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	struct drop_spec spec = { .keep = 1ull << CAP_NET_RAW };
	struct drop_state st;
	struct mk_request seal;
	char why[256] = "";
	const char *err = NULL;
	int status_fd, r;
	bool bounded;

	if ((argc != 3 && argc != 5) || strcmp(argv[1], "--fd") != 0 ||
	    (argc == 5 && strcmp(argv[3], "--drop-prog") != 0))
		die("started by rawbrokerd only (usage: rawbroker-maker --fd N [--drop-prog N])");
	chan = (int)strtonum(argv[2], 3, 1024, &err);
	if (err)
		die("--fd %s: %s", argv[2], err);
	if (argc == 5) {
		/* Only ever attached as a socket filter: the kernel refuses
		 * SO_ATTACH_BPF of anything but a socket-filter program. */
		drop_prog = (int)strtonum(argv[4], 3, 1024, &err);
		if (err || drop_prog == chan)
			die("--drop-prog %s: %s", argv[4], err ? err : "is the channel");
		if (fcntl(drop_prog, F_SETFD, FD_CLOEXEC) < 0)
			die("--drop-prog %d: not open", drop_prog);
	}
	if (fcntl(chan, F_SETFD, FD_CLOEXEC) < 0)
		die("--fd %d: not open", chan);
	status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (status_fd < 0)
		die("open /proc/self/status: %s", strerror(errno));

	learn_classes(&seal);
	/* The front narrowed the bounding set before the execve() if it
	 * could; it is what the kernel holds now that counts. */
	bounded = true;
	for (cap_value_t v = 0; prctl(PR_CAPBSET_READ, v) >= 0; v++)
		if (v != CAP_NET_RAW && prctl(PR_CAPBSET_READ, v) == 1)
			bounded = false;
	r = drop_privileges(&spec, &st, why, sizeof(why));
	st.bounded = bounded;
	if (r == 0)
		r = maker_sandbox_load(classes, nclasses);
	if (r == 0)
		r = drop_verify(status_fd, &spec, &st, true, why, sizeof(why));
	else if (!why[0])
		snprintf(why, sizeof(why), "load the seccomp filter: %s", strerror(-r));
	if (r < 0) {
		reply(&seal, -r, NULL, 0);
		die("%s", why);
	}
	close(status_fd);
	start_workers();
	reply(&seal, 0, NULL, 0);
	serve();
	return 0;
}
