/* SPDX-License-Identifier: MIT */
/*
 * bench_notify - latency of a raw socket() served by seccomp user
 * notification, through rawbrokerd's front and through a bare server.  A
 * benchmark, not a test: it prints figures and checks nothing.  Run it
 * through tests/bench/run-notify-bench.sh, which pins everything to one
 * CPU and alternates the two.
 *
 *   bench_notify client N   time N socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
 *                           calls (each closed at once); run as the command
 *                           of `rawbrokerd ... -- bench_notify client N`
 *   bench_notify bare N     the same client under a notify filter of its
 *                           own, answered by a bare server in this process:
 *                           NOTIF_RECV, socket() (as root), NOTIF_ADDFD with
 *                           SECCOMP_ADDFD_FLAG_SEND, close: nothing else
 *                           (no identity, no policy, no pool, no log)
 *
 * Both print one line: "median_us=M p10_us=A p90_us=B p99_us=C n=N".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 200

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_notify: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

/* The client: the same loop under either server. */
static int client(long n)
{
	double *t = calloc((size_t)n, sizeof(double));

	if (!t)
		die("calloc");
	for (long i = -WARMUP; i < n; i++) {
		double t0 = now_us();
		int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
		double t1 = now_us();

		if (fd < 0)
			die("socket");
		close(fd);
		if (i >= 0)
			t[i] = t1 - t0;
	}
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	printf("median_us=%.2f p10_us=%.2f p90_us=%.2f p99_us=%.2f n=%ld\n", pct(t, (size_t)n, 0.5),
	       pct(t, (size_t)n, 0.1), pct(t, (size_t)n, 0.9), pct(t, (size_t)n, 0.99), n);
	fflush(stdout);
	free(t);
	return 0;
}

/* ---- the bare server ---- */

static void send_fd(int chan, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(cm.buf, 0, sizeof(cm.buf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(chan, &msg, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int chan)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(chan, &msg, MSG_CMSG_CLOEXEC) != 1)
		die("recvmsg");
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		die("no listener");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Serve L until its tasks are gone: the least a notify server does. */
static void bare_serve(int l)
{
	for (;;) {
		struct pollfd p = { .fd = l, .events = POLLIN };
		struct seccomp_notif n;
		struct seccomp_notif_addfd a;
		int fd, type;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (!(p.revents & POLLIN))
			return; /* POLLHUP: the client is gone */
		memset(&n, 0, sizeof(n));
		if (ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
			if (errno == ENOENT)
				continue;
			die("SECCOMP_IOCTL_NOTIF_RECV");
		}
		type = (int)n.data.args[1];
		fd = socket((int)n.data.args[0], (type & 0xf) | SOCK_CLOEXEC |
			    (type & SOCK_NONBLOCK), (int)n.data.args[2]);
		if (fd < 0)
			die("socket (the bare server runs as root)");
		memset(&a, 0, sizeof(a));
		a.id = n.id;
		a.flags = SECCOMP_ADDFD_FLAG_SEND;
		a.srcfd = (unsigned)fd;
		a.newfd_flags = type & SOCK_CLOEXEC ? O_CLOEXEC : 0;
		if (ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 && errno != ENOENT)
			die("SECCOMP_IOCTL_NOTIF_ADDFD");
		close(fd);
	}
}

static int bare(long n)
{
	int sv[2], l, st;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

		if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)) < 0 ||
		    seccomp_load(ctx) < 0)
			die("load the notify filter");
		l = seccomp_notify_fd(ctx);
		send_fd(sv[1], l);
		close(l);
		seccomp_release(ctx);
		_exit(client(n));
	}
	close(sv[1]);
	l = recv_fd(sv[0]);
	close(sv[0]);
	bare_serve(l);
	close(l);
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
	long n = argc == 3 ? strtol(argv[2], NULL, 10) : 0;

	if (n < 1) {
		fprintf(stderr, "usage: bench_notify client|bare N\n");
		return 2;
	}
	if (!strcmp(argv[1], "client"))
		return client(n);
	if (!strcmp(argv[1], "bare"))
		return bare(n);
	fprintf(stderr, "usage: bench_notify client|bare N\n");
	return 2;
}
