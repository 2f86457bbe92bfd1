/* SPDX-License-Identifier: MIT */
/*
 * e2e_traps - clients that try to stall the broker for good, for
 * tests/e2e/traps.sh (issue: "never block, never hang").  Each speaks the
 * wire protocol itself (set_option step 1, then step 2 with a descriptor of
 * its choosing), as an unprivileged uid whose rule allows the IPv6 options.
 *
 *   e2e_traps linger N HOLD_MS UID BROKER_PID   (root)
 *       N close traps, as UID: step 2 hands the broker a unix socket that
 *       carries, in flight, a TCP socket set to linger for an hour with
 *       unsent data to a peer that never reads.  Whoever closes that unix
 *       socket last waits on the TCP close.  An attacker wins that race by
 *       timing (a busy broker); here a root helper stops BROKER_PID while
 *       the N step 2s are sent and our copies closed, so the broker's
 *       closes are the last, every time.  Prints "linger: N traps set", then keeps the
 *       peers alive for HOLD_MS ms.
 *   e2e_traps optbusy
 *       One set_option step 1: expects the broker to refuse it with EBUSY
 *       (its closer workers are stuck), and prints the reason.
 *   e2e_traps fuse DIR UID N HOLD_MS   (root)
 *       Mounts a FUSE file system on DIR whose reads are never answered,
 *       maps its file, drops to UID, and sets N lock traps: a thread sends
 *       from the mapped page with MSG_MORE on an IPv6 UDP socket, which holds
 *       that socket's lock while it waits for the page, then step 2 hands the
 *       broker that socket.  Reports each answer (the maker must give up
 *       with ETIMEDOUT, or EBUSY once its workers are all stuck), prints
 *       "fuse: N traps set", and holds everything HOLD_MS ms.
 *
 * Exit 0 when what was checked holds, 1 otherwise, with a line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/fuse.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec.h"
#include "e2e_util.h"
#include "frame.h"

struct answer {
	int status, error;
	bool want_descriptor;
	char reason[RB_REASON_MAX];
};

/* Send step 1 (a padding-only hop-by-hop header) or step 2 (with FD), or
 * nothing (step 0).
 * With CLOSE_FD, FD is closed once it is in flight: the broker then holds
 * its last reference.  Read the answer within TIMEOUT_MS. */
static int exchange(int conn, int step, int fd, bool close_fd, int timeout_ms,
		    struct answer *a)
{
	static const uint8_t hdr[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SetOptionRequest so = RAWBROKER__SET_OPTION_REQUEST__INIT;
	Rawbroker__DescriptorRequest dr = RAWBROKER__DESCRIPTOR_REQUEST__INIT;
	Rawbroker__Reply *rep = NULL;
	struct pollfd pfd = { .fd = conn, .events = POLLIN };
	uint8_t buf[RB_FRAME_MAX];
	int rfd = -1;
	ssize_t n;

	req.version = RB_PROTOCOL_VERSION;
	req.id = (uint64_t)step;
	if (step == 1) {
		req.kind_case = RAWBROKER__REQUEST__KIND_SET_OPTION;
		req.set_option = &so;
		so.level = IPPROTO_IPV6;
		so.name = IPV6_HOPOPTS;
		so.value.data = (uint8_t *)hdr;
		so.value.len = sizeof(hdr);
	} else {
		req.kind_case = RAWBROKER__REQUEST__KIND_DESCRIPTOR;
		req.descriptor = &dr;
	}
	n = rb_request_encode(&req, buf, sizeof(buf));
	if (step && (n < 0 || rb_frame_send(conn, buf, (size_t)n, fd, 0) < 0))
		return fail("step %d: not sent", step);
	if (close_fd)
		close(fd);
	if (poll(&pfd, 1, timeout_ms) != 1)
		return timeout_ms ? fail("step %d: no answer within %d ms", step, timeout_ms) : 1;
	n = rb_frame_recv(conn, buf, sizeof(buf), &rfd, RB_FRAME_ACCEPT_FD);
	if (rfd >= 0)
		close(rfd);
	if (n <= 0 || rb_reply_decode(buf, (size_t)n, &rep) < 0)
		return fail("step %d: no well-formed answer", step);
	a->status = (int)rep->status;
	a->error = rep->error;
	a->want_descriptor = rep->want_descriptor;
	snprintf(a->reason, sizeof(a->reason), "%s", rep->reason ? rep->reason : "");
	rb_reply_free(rep);
	return 0;
}

static int step1_ok(int conn)
{
	struct answer a;

	if (exchange(conn, 1, -1, false, 2000, &a))
		return 1;
	if (a.status != RAWBROKER__STATUS__STATUS_OK || !a.want_descriptor)
		return fail("step 1 refused (status %d: %s)", a.status, a.reason);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the close trap ---- */

/* A root helper that sends BROKER SIGSTOP or SIGCONT for each byte 'S' or
 * 'C' written to the returned descriptor, answering each with a byte. */
static int signaller(pid_t broker, int *ack)
{
	int to[2], from[2];

	if (pipe(to) < 0 || pipe(from) < 0)
		return -1;
	if (fork() == 0) {
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to[1]);
		close(from[0]);
		while (read(to[0], &c, 1) == 1) {
			kill(broker, c == 'S' ? SIGSTOP : SIGCONT);
			if (write(from[1], &c, 1) != 1)
				break;
		}
		kill(broker, SIGCONT);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	*ack = from[0];
	return to[1];
}

static void tell(int sig, int ack, char c)
{
	if (write(sig, &c, 1) == 1 && read(ack, &c, 1) == 1)
		usleep(20000); /* SIGSTOP has taken effect on every thread */
}

static int cmd_linger(int n, int hold_ms, uid_t uid, pid_t broker)
{
	int listener, ack = -1;
	int sig = signaller(broker, &ack);

	if (sig < 0 || setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return fail("signaller, or drop to uid %u: %s", (unsigned)uid, strerror(errno));

	/* The peer: accepts nothing and reads nothing. */
	listener = tcp_sink(64);
	if (listener < 0)
		return fail("listener: %s", strerror(errno));
	int conns[64];

	if (n > 64)
		return fail("at most 64 traps");
	for (int i = 0; i < n; i++) {
		conns[i] = raw_connect();
		if (conns[i] < 0)
			return fail("connect: %s", strerror(errno));
		if (step1_ok(conns[i]))
			return 1;
	}
	/* One stop for all: a signal would cut short a close already
	 * waiting (the wait is interruptible), so there is only this one,
	 * before any trap reaches the broker. */
	tell(sig, ack, 'S');
	for (int i = 0; i < n; i++) {
		int trap = close_trap(listener);
		struct answer a;

		if (trap < 0)
			return fail("trap %d: %s", i, strerror(errno));
		/* Sent, then our copy closed: the broker's is the last. */
		if (exchange(conns[i], 2, trap, true, 0, &a) == 0)
			return fail("trap %d: answered while the broker was stopped", i);
	}
	tell(sig, ack, 'C');
	for (int i = 0; i < n; i++) {
		struct answer a;

		if (exchange(conns[i], 0, -1, false, 2000, &a))
			return 1;
		if (a.status != RAWBROKER__STATUS__STATUS_INVALID)
			return fail("trap %d: answered %d (%s), expected INVALID", i, a.status,
				    a.reason);
		/* The connection stays open: its close is the broker's business. */
	}
	printf("linger: %d traps set\n", n);
	fflush(stdout);
	sleep_ms(hold_ms);
	return 0;
}

static int cmd_optbusy(void)
{
	int conn = raw_connect();
	struct answer a;

	if (conn < 0)
		return fail("connect: %s", strerror(errno));
	if (exchange(conn, 1, -1, false, 2000, &a))
		return 1;
	if (a.status != RAWBROKER__STATUS__STATUS_FAILED || a.error != EBUSY)
		return fail("set_option answered status %d error %d (%s), expected EBUSY",
			    a.status, a.error, a.reason);
	printf("optbusy: refused with EBUSY: %s\n", a.reason);
	return 0;
}

/* ---- the lock trap ---- */

#define FUSE_BUF (FUSE_MIN_READ_BUFFER + 4096)
#define FILE_INO 2

static void fuse_reply(int dev, uint64_t unique, int error, const void *out, size_t len)
{
	struct fuse_out_header h = { .len = (uint32_t)(sizeof(h) + len), .error = error,
				     .unique = unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)out, len } };

	if (writev(dev, iov, out ? 2 : 1) < 0)
		(void)0; /* a request the kernel dropped meanwhile */
}

static void fill_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == FILE_INO ? S_IFREG | 0644 : S_IFDIR | 0755;
	a->nlink = 1;
	a->size = ino == FILE_INO ? 4096 : 0;
	a->blksize = 4096;
}

/* Answers what a mount, a lookup, an open and a mapping need; never a read. */
static _Noreturn void fuse_serve(int dev)
{
	static char buf[FUSE_BUF];

	for (;;) {
		ssize_t n = read(dev, buf, sizeof(buf));
		struct fuse_in_header *in = (struct fuse_in_header *)buf;
		void *arg = buf + sizeof(*in);

		if (n < 0 && (errno == EINTR || errno == ENOENT))
			continue;
		if (n < (ssize_t)sizeof(*in))
			_exit(0); /* unmounted or aborted */
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = arg;
			struct fuse_init_out o = { .major = FUSE_KERNEL_VERSION,
						   .minor = FUSE_KERNEL_MINOR_VERSION,
						   .max_readahead = ii->max_readahead,
						   .max_background = 16,
						   .congestion_threshold = 12,
						   .max_write = 4096 };
			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = { .nodeid = FILE_INO, .generation = 1 };

			if (strcmp(arg, "f") != 0) {
				fuse_reply(dev, in->unique, -ENOENT, NULL, 0);
				break;
			}
			fill_attr(&o.attr, FILE_INO);
			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = { 0 };

			fill_attr(&o.attr, in->nodeid);
			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { .fh = 1 };

			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ:      /* the trap: never answered */
		case FUSE_FORGET:    /* these take no answer */
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		default:
			fuse_reply(dev, in->unique, -ENOSYS, NULL, 0);
		}
	}
}

struct sender {
	int fd;
	const char *page;
};

/* Holds the socket's lock from here on: the copy from PAGE waits for a
 * read the file system never answers. */
static void *send_from_page(void *arg)
{
	struct sender *s = arg;

	send(s->fd, s->page, 64, MSG_MORE | MSG_NOSIGNAL);
	return NULL;
}

static int cmd_fuse(const char *dir, uid_t uid, int n, int hold_ms)
{
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6, .sin6_port = htons(9),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char opts[160], file[4096];
	const char *page;
	int dev, fd, busy = 0, timedout = 0;
	pid_t server;

	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return fail("/dev/fuse: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", dev);
	if (mount("rbtrap", dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0)
		return fail("mount fuse on %s: %s", dir, strerror(errno));
	server = fork();
	if (server == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fuse_serve(dev);
	}
	close(dev); /* the server's now: when it dies, the mount aborts */
	snprintf(file, sizeof(file), "%s/f", dir);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	page = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		return fail("map %s: %s", file, strerror(errno));
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		return fail("drop to uid %u: %s", (unsigned)uid, strerror(errno));

	for (int i = 0; i < n; i++) {
		struct sender *s = malloc(sizeof(*s));
		int conn = raw_connect();
		struct answer a;
		pthread_t t;
		double t0;

		if (!s || conn < 0)
			return fail("connect: %s", strerror(errno));
		s->page = page;
		s->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			return fail("udp6: %s", strerror(errno));
		if (step1_ok(conn))
			return 1;
		pthread_create(&t, NULL, send_from_page, s);
		pthread_detach(t);
		sleep_ms(100); /* the sender is in the kernel, holding the lock */
		t0 = now_ms();
		if (exchange(conn, 2, s->fd, false, 5000, &a))
			return 1;
		printf("fuse: trap %d answered after %.0f ms: status %d error %d: %s\n", i,
		       now_ms() - t0, a.status, a.error, a.reason);
		if (a.status != RAWBROKER__STATUS__STATUS_FAILED ||
		    (a.error != ETIMEDOUT && a.error != EBUSY))
			return fail("trap %d: expected ETIMEDOUT or EBUSY", i);
		timedout += a.error == ETIMEDOUT;
		busy += a.error == EBUSY;
	}
	printf("fuse: %d traps set (%d timed out, %d refused busy)\n", n, timedout, busy);
	fflush(stdout);
	sleep_ms(hold_ms);
	kill(server, SIGKILL); /* aborts the mount: the stalled sends fail */
	waitpid(server, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 6 && strcmp(argv[1], "linger") == 0)
		return cmd_linger(atoi(argv[2]), atoi(argv[3]), (uid_t)atoi(argv[4]),
				  (pid_t)atoi(argv[5]));
	if (argc == 2 && strcmp(argv[1], "optbusy") == 0)
		return cmd_optbusy();
	if (argc == 6 && strcmp(argv[1], "fuse") == 0)
		return cmd_fuse(argv[2], (uid_t)atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: e2e_traps linger N HOLD_MS UID BROKER_PID | optbusy | fuse DIR UID N HOLD_MS\n");
	return 2;
}
