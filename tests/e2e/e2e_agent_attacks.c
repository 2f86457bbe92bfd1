/* SPDX-License-Identifier: MIT */
/*
 * e2e_agent_attacks.c - hostile OCI runtimes against rawbrokerd
 * --seccomp-agent (tests/e2e/agent_attacks.sh), from the attacker review
 * of the agent socket (findings 1, 3, 5, 6).  Every loop is bounded.
 *
 *   ctrunc AGENT HOLD_MS     one message with 9 descriptors, the 9th a unix
 *                            socket holding in flight a TCP socket that
 *                            lingers an hour (its close blocks); our copies
 *                            closed at once, the peer kept HOLD_MS
 *   fdpump AGENT ROUNDS MS   4 such traps (jam the 4 closer workers), then
 *                            up to ROUNDS connections of 8 pipe ends each,
 *                            for at most MS
 *   connhold AGENT N MS      N silent connections, each re-opened the moment
 *                            the broker drops it, for MS
 *   slots AGENT N HOLD_MS    N processes, each hands the listener of its own
 *                            filter over and lives HOLD_MS
 *   runtime AGENT MS         a well-behaved runtime: one listener handed
 *                            over; exit 0 when the broker closed the
 *                            connection (done with it) within MS
 *   probe MS                 a raw ICMP socket through librawbroker
 *                            ($RAWBROKER_SOCKET); exit 0 when answered
 *                            within MS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "e2e_util.h"
#include "rawbroker.h"

/* Wait up to MS for the broker to close C (EOF or reset); whether it did. */
static bool closed_by_peer(int c, int ms)
{
	double end = now_ms() + ms;
	char b;

	while (now_ms() < end) {
		struct pollfd p = { .fd = c, .events = POLLIN };

		if (poll(&p, 1, (int)(end - now_ms()) + 1) > 0) {
			ssize_t n = read(c, &b, 1);

			if (n == 0 || (n < 0 && errno != EAGAIN))
				return true;
		}
	}
	return false;
}

static int do_ctrunc(const char *agent, int hold_ms)
{
	int lst = tcp_sink(8), fds[9], c;

	for (int i = 0; i < 8; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[8] = close_trap(lst);
	c = unix_connect(agent, true);
	if (fds[8] < 0 || c < 0 || send_fds(c, "{}", fds, 9) < 0) {
		perror("ctrunc");
		return 1;
	}
	for (int i = 0; i < 9; i++)
		close(fds[i]); /* the 9th: now only the broker's copy holds the trap */
	printf("ctrunc: sent 9 descriptors, the 9th a close trap\n");
	fflush(stdout);
	usleep((useconds_t)hold_ms * 1000); /* the peer that never reads */
	return 0;
}

/* One connection carrying N descriptors (ours closed before EOF). */
static bool pump_one(const char *agent, int *fds, int n)
{
	int c = unix_connect(agent, true);

	if (c >= 0)
		send_fds(c, "{}", fds, n);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (c < 0)
		return false;
	shutdown(c, SHUT_WR);
	closed_by_peer(c, 5);
	close(c);
	return true;
}

static int do_fdpump(const char *agent, int rounds, int ms)
{
	int lst = tcp_sink(8), fds[8], sent = 0, refused = 0;
	double end = now_ms() + ms;

	for (int i = 0; i < 4; i++)
		if ((fds[i] = close_trap(lst)) < 0)
			return perror("fdpump: close trap"), 1;
	if (!pump_one(agent, fds, 4)) {
		perror("fdpump: connect");
		return 1;
	}
	printf("fdpump: closer traps sent\n");
	fflush(stdout);
	for (int r = 0; r < rounds && now_ms() < end; r++) {
		for (int i = 0; i < 8; i += 2)
			if (pipe2(fds + i, O_CLOEXEC) < 0)
				return perror("pipe"), 1;
		if (pump_one(agent, fds, 8))
			sent++;
		else {
			refused++;
			usleep(2000); /* the backlog is full: the broker is not taking any */
		}
	}
	printf("fdpump: %d connections with 8 descriptors sent, %d not taken\n", sent, refused);
	fflush(stdout);
	usleep(500000); /* the traps' peer lives on a moment */
	return 0;
}

static int do_connhold(const char *agent, int n, int ms)
{
	struct pollfd p[64];
	double end = now_ms() + ms;
	unsigned reconnects = 0;

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = unix_connect(agent, true), .events = POLLIN };
	while (now_ms() < end) {
		poll(p, (nfds_t)n, 20);
		for (int i = 0; i < n; i++)
			if (p[i].fd < 0 || (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				if (p[i].fd >= 0)
					close(p[i].fd);
				p[i].fd = unix_connect(agent, true);
				reconnects++;
				p[i].revents = 0;
			}
	}
	printf("connhold uid %u: %u reconnects\n", (unsigned)getuid(), reconnects);
	return 0;
}

/* Hand one listener over as runc does; whether the broker then closed the
 * connection within MS. */
static bool hand_over(const char *agent, const char *id, int ms)
{
	char body[512];
	int c = unix_connect(agent, true), l;
	bool done;

	/* The socket first: the filter would send socket() to the broker. */
	l = socket_notify_filter();
	if (c < 0 || l < 0)
		return false;
	oci_state(body, sizeof(body), id, getpid());
	if (send_fds(c, body, &l, 1) < 0) {
		close(c);
		return false;
	}
	close(l);
	shutdown(c, SHUT_WR);
	done = closed_by_peer(c, ms);
	close(c);
	return done;
}

static int do_slots(const char *agent, int n, int hold_ms)
{
	for (int i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			char id[64];

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			snprintf(id, sizeof(id), "squat-%u-%d", (unsigned)getuid(), i);
			hand_over(agent, id, 1000);
			usleep((useconds_t)hold_ms * 1000);
			_exit(0);
		}
		usleep(10000);
	}
	printf("slots uid %u: %d listeners handed over\n", (unsigned)getuid(), n);
	fflush(stdout);
	while (wait(NULL) > 0)
		;
	return 0;
}

static int do_runtime(const char *agent, int ms)
{
	double t0 = now_ms();
	pid_t p = fork();
	int st;

	/* In a child: the filter stays with the child. */
	if (p == 0) {
		char id[64];

		snprintf(id, sizeof(id), "good-%d", (int)getpid());
		_exit(hand_over(agent, id, ms) ? 0 : 1);
	}
	waitpid(p, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("runtime: handed over in %.0f ms\n", now_ms() - t0);
		return 0;
	}
	printf("runtime: not taken within %d ms\n", ms);
	return 1;
}

static int do_probe(int ms)
{
	double t0 = now_ms();
	pid_t p = fork();
	int st;

	if (p == 0) {
		int fd = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

		_exit(fd >= 0 ? 0 : 1);
	}
	while (waitpid(p, &st, WNOHANG) != p) {
		if (now_ms() - t0 > ms) {
			kill(p, SIGKILL);
			waitpid(p, &st, 0);
			printf("probe: no answer within %d ms\n", ms);
			return 1;
		}
		usleep(2000);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("probe: refused\n");
		return 1;
	}
	printf("probe: granted in %.0f ms\n", now_ms() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "ctrunc") == 0)
		return do_ctrunc(argv[2], atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "fdpump") == 0)
		return do_fdpump(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "connhold") == 0)
		return do_connhold(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "slots") == 0)
		return do_slots(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && strcmp(argv[1], "runtime") == 0)
		return do_runtime(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return do_probe(atoi(argv[2]));
	fprintf(stderr, "usage: see the top of e2e_agent_attacks.c\n");
	return 2;
}
