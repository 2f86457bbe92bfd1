/* SPDX-License-Identifier: MIT */
/*
 * bench_socket - latency of rb_socket() against a running rawbrokerd, and in
 * the same run the bare baseline: a minimal server doing only socket() +
 * sendmsg(SCM_RIGHTS) for the same request over the same kind of socket
 * (unix SOCK_SEQPACKET).  A benchmark, not a test: it prints figures and
 * checks nothing.  Run it through tests/bench/run-bench.sh, which starts the
 * broker and pins everything to one CPU.
 *
 *   bench_socket [-n ITERATIONS]     (needs CAP_NET_RAW for the bare server's
 *                                     raw sockets; RAWBROKER_SOCKET set)
 *
 * Cases run in alternating rounds so that drift hits all of them alike.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rawbroker.h"

#define ROUNDS 10

struct bare_req {
	int family, type, protocol;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_socket: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- the bare baseline server: socket() + sendmsg(SCM_RIGHTS), nothing else ---- */

static void bare_serve(int lfd)
{
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			die("accept");
		for (;;) {
			struct bare_req rq;
			char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
			char byte = 0;
			struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
			struct msghdr msg = { .msg_iov = &iov,
					      .msg_iovlen = 1,
					      .msg_control = cbuf,
					      .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
			int fd;

			if (recv(c, &rq, sizeof(rq), 0) != sizeof(rq))
				break;
			fd = socket(rq.family, rq.type | SOCK_CLOEXEC, rq.protocol);
			if (fd < 0)
				die("bare socket");
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof(int));
			if (sendmsg(c, &msg, MSG_NOSIGNAL) != 1)
				die("bare sendmsg");
			close(fd);
		}
		close(c);
	}
}

static pid_t start_bare(struct sockaddr_un *sun, const char *dir, const char *name)
{
	pid_t pid;
	int lfd;

	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", dir, name);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)sun, sizeof(*sun)) < 0 ||
	    listen(lfd, 16) < 0)
		die("bare listen");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		bare_serve(lfd);
	close(lfd);
	return pid;
}

static int bare_connect(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0)
		die("bare connect");
	return fd;
}

static int bare_request(int c)
{
	struct bare_req rq = { AF_INET, SOCK_RAW, IPPROTO_ICMP };
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (send(c, &rq, sizeof(rq), MSG_NOSIGNAL) != sizeof(rq))
		die("bare send");
	if (recvmsg(c, &msg, MSG_CMSG_CLOEXEC) != 1)
		die("bare recvmsg");
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		die("bare: no fd");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ---- cases ---- */

enum { C_SOCKET, C_BARE_KEPT, C_RB_KEPT, C_BARE_FRESH, C_RB_FRESH, C_N };

static const char *const case_names[C_N] = {
	[C_SOCKET] = "socket()+close, in process (reference)",
	[C_BARE_KEPT] = "bare server, kept connection",
	[C_RB_KEPT] = "rb_socket(), kept connection",
	[C_BARE_FRESH] = "bare server, fresh connection",
	[C_RB_FRESH] = "rb_socket(), fresh connection",
};

/* Two bare servers: one serves the kept connection for the whole run, the
 * other one fresh connection after another. */
static struct sockaddr_un bare_addr, fresh_addr;
static int bare_conn = -1;

static double run_one(int which)
{
	double t0 = now_us();
	int fd = -1, c;

	switch (which) {
	case C_SOCKET:
		fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
		break;
	case C_BARE_KEPT:
		fd = bare_request(bare_conn);
		break;
	case C_RB_KEPT:
		fd = rb_socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
		break;
	case C_BARE_FRESH:
		c = bare_connect(&fresh_addr);
		fd = bare_request(c);
		close(c);
		break;
	case C_RB_FRESH:
		rb_disconnect();
		fd = rb_socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
		break;
	}
	if (fd < 0)
		die(case_names[which]);
	close(fd);
	return now_us() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i];
}

int main(int argc, char **argv)
{
	static const int order[] = { C_SOCKET, C_BARE_KEPT, C_RB_KEPT, C_BARE_FRESH, C_RB_FRESH };
	size_t n = 20000, per_round, k[C_N] = { 0 };
	double *samples[C_N], med[C_N];
	char dir[] = "/tmp/rawbroker-bench.XXXXXX";
	cpu_set_t cpus;
	pid_t servers[2];
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt == 'n' && atol(optarg) >= ROUNDS * 10) {
			n = (size_t)atol(optarg);
		} else {
			fprintf(stderr, "usage: bench_socket [-n ITERATIONS >= %d]\n",
				ROUNDS * 10);
			return 2;
		}
	}
	per_round = n / ROUNDS;
	n = per_round * ROUNDS;

	if (!mkdtemp(dir))
		die("mkdtemp");
	servers[0] = start_bare(&bare_addr, dir, "kept.sock");
	servers[1] = start_bare(&fresh_addr, dir, "fresh.sock");
	bare_conn = bare_connect(&bare_addr);

	for (int i = 0; i < C_N; i++) {
		samples[i] = calloc(n, sizeof(double));
		if (!samples[i])
			die("calloc");
	}
	/* Warm up every path (page faults, the broker's first connection). */
	for (int w = 0; w < 200; w++)
		for (int i = 0; i < C_N; i++)
			run_one(i);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < C_N; i++)
			for (size_t j = 0; j < per_round; j++)
				samples[order[i]][k[order[i]]++] = run_one(order[i]);

	for (int i = 0; i < 2; i++) {
		kill(servers[i], SIGTERM);
		waitpid(servers[i], NULL, 0);
	}
	unlink(bare_addr.sun_path);
	unlink(fresh_addr.sun_path);
	rmdir(dir);

	CPU_ZERO(&cpus);
	sched_getaffinity(0, sizeof(cpus), &cpus);
	printf("rb_socket() latency, %zu requests per case in %d alternating rounds, "
	       "allowed CPUs: %d%s\n",
	       n, ROUNDS, CPU_COUNT(&cpus), CPU_COUNT(&cpus) == 1 ? " (pinned)" : " (NOT pinned)");
	printf("%-42s %10s %10s\n", "case", "median us", "p99 us");
	for (int i = 0; i < C_N; i++) {
		qsort(samples[i], n, sizeof(double), cmp_double);
		med[i] = pct(samples[i], n, 0.5);
		printf("%-42s %10.2f %10.2f\n", case_names[i], med[i], pct(samples[i], n, 0.99));
		free(samples[i]);
	}
	printf("ratio kept  connection (rb_socket / bare): %.2f  (target <= 1.20)\n",
	       med[C_RB_KEPT] / med[C_BARE_KEPT]);
	printf("ratio fresh connection (rb_socket / bare): %.2f  (target <= 1.30)\n",
	       med[C_RB_FRESH] / med[C_BARE_FRESH]);
	return 0;
}
