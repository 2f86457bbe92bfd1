/* SPDX-License-Identifier: MIT */
/*
 * echo_rate - two benchmarks for tests/bench/bench_clients.sh, which starts
 * the broker in a fresh network namespace and pins everything to one CPU.
 * A benchmark, not a test: it prints figures and checks only that the runs
 * worked.
 *
 *   echo_rate [-n COUNT] [-r ROUNDS]
 *	Data path: ICMP echo round trips per second on a raw socket made
 *	natively with socket() (needs root) and on one received through
 *	rb_socket() (RAWBROKER_SOCKET), to 127.0.0.1 and to ::1.  The cases
 *	alternate, COUNT round trips each per round, for ROUNDS rounds.  Each
 *	round trip waits for the matching echo reply (1 s receive timeout;
 *	a missing reply is a failure).
 *
 *   echo_rate --spawn N LABEL CMD [ARG]... [::: LABEL CMD [ARG]...]...
 *	Whole-process cost: runs each command N times (posix_spawn, stdout to
 *	/dev/null, wall time from spawn to reaped on CLOCK_MONOTONIC), the
 *	cases alternating in rounds, and prints median and p90 per case, and
 *	each case's median over, and minus, the first case's.  Any run exiting non-zero
 *	is a failure.  Timing in C, not the shell: a `date` per sample would
 *	cost about as much as what it measures.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rawbroker.h"

#define SPAWN_ROUNDS 10
#define SPAWN_WARMUP 3
#define PAYLOAD 56       /* as ping's default */
#define MAX_SKIPPED 4096 /* foreign packets tolerated while awaiting one reply */

extern char **environ;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "echo_rate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("echo_rate: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted V. */
static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i];
}

static const char *pinned_note(void)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		return "allowed CPUs: ?";
	return CPU_COUNT(&cpus) == 1 ? "allowed CPUs: 1 (pinned)" : "allowed CPUs: >1 (NOT pinned)";
}

/* ---- --spawn: whole-process cost ---- */

struct spawn_case {
	const char *label;
	char **argv;
	double *samples;
};

static double spawn_once(const struct spawn_case *c, size_t run)
{
	posix_spawn_file_actions_t fa;
	double t0;
	pid_t pid;
	int rc, status;

	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) != 0)
		fail("posix_spawn_file_actions");
	t0 = now_s();
	rc = posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, environ);
	if (rc != 0) {
		errno = rc;
		die(c->argv[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	t0 = now_s() - t0;
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("%s: run %zu: %s %d", c->label, run,
		     WIFEXITED(status) ? "exit status" : "killed by signal",
		     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return t0;
}

static int spawn_main(int argc, char **argv)
{
	struct spawn_case cases[8];
	size_t ncases = 0, n, per_round;
	double med0 = 0;
	long nl;
	int i = 0;

	if (argc < 3 || (nl = atol(argv[1])) < SPAWN_ROUNDS)
		fail("usage: echo_rate --spawn N>=%d LABEL CMD [ARG]... [::: LABEL CMD...]...",
		     SPAWN_ROUNDS);
	n = (size_t)nl;
	per_round = n / SPAWN_ROUNDS;
	n = per_round * SPAWN_ROUNDS;
	for (i = 2; i < argc;) {
		int start = i;

		if (ncases == sizeof(cases) / sizeof(cases[0]))
			fail("too many cases");
		while (i < argc && strcmp(argv[i], ":::") != 0)
			i++;
		if (i - start < 2)
			fail("case %zu: need LABEL and CMD", ncases + 1);
		cases[ncases].label = argv[start];
		cases[ncases].argv = &argv[start + 1];
		cases[ncases].samples = calloc(n, sizeof(double));
		if (!cases[ncases].samples)
			die("calloc");
		ncases++;
		if (i < argc)
			argv[i++] = NULL; /* terminates this case's argv */
	}

	/* Warm up: page cache, the broker's first connection; checks each works. */
	for (int w = 0; w < SPAWN_WARMUP; w++)
		for (size_t c = 0; c < ncases; c++)
			spawn_once(&cases[c], 0);
	for (size_t r = 0, k = 0; r < SPAWN_ROUNDS; r++, k += per_round)
		for (size_t c = 0; c < ncases; c++)
			for (size_t j = 0; j < per_round; j++)
				cases[c].samples[k + j] = spawn_once(&cases[c], k + j + 1);

	printf("whole process, %zu runs per case in %d alternating rounds, %s\n", n,
	       SPAWN_ROUNDS, pinned_note());
	printf("%-52s %10s %10s %8s %10s\n", "case", "median ms", "p90 ms", "ratio", "+ms vs 1st");
	for (size_t c = 0; c < ncases; c++) {
		double med, p90;

		qsort(cases[c].samples, n, sizeof(double), cmp_double);
		med = pct(cases[c].samples, n, 0.5) * 1e3;
		p90 = pct(cases[c].samples, n, 0.9) * 1e3;
		if (c == 0)
			med0 = med;
		printf("%-52s %10.3f %10.3f %8.2f %10.3f\n", cases[c].label, med, p90, med / med0,
		       med - med0);
		free(cases[c].samples);
	}
	return 0;
}

/* ---- data path: echo round trips ---- */

struct endpoint {
	const char *name;
	int family;
	int fd;
	uint16_t id;
	uint16_t seq;
	double *rates;
};

static uint16_t inet_cksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Discard whatever queued up while the other cases ran: a raw socket gets a
 * copy of every ICMP packet in the namespace. */
static void drain(int fd)
{
	char buf[2048];

	for (int i = 0; i < 1000000; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			return;
	fail("cannot drain the receive queue");
}

/* Is BUF (LEN bytes as received) our echo reply with SEQ? */
static bool is_our_reply(const struct endpoint *e, const uint8_t *buf, size_t len)
{
	if (e->family == AF_INET) {
		size_t ihl;
		struct icmphdr ih;

		if (len < sizeof(struct ip))
			return false;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if (len < ihl + sizeof(ih))
			return false;
		memcpy(&ih, buf + ihl, sizeof(ih));
		return ih.type == ICMP_ECHOREPLY && ih.code == 0 &&
		       ntohs(ih.un.echo.id) == e->id && ntohs(ih.un.echo.sequence) == e->seq &&
		       len == ihl + sizeof(ih) + PAYLOAD;
	} else {
		struct icmp6_hdr h6;

		if (len < sizeof(h6))
			return false;
		memcpy(&h6, buf, sizeof(h6));
		return h6.icmp6_type == ICMP6_ECHO_REPLY && h6.icmp6_code == 0 &&
		       ntohs(h6.icmp6_id) == e->id && ntohs(h6.icmp6_seq) == e->seq &&
		       len == sizeof(h6) + PAYLOAD;
	}
}

static void round_trip(struct endpoint *e)
{
	const struct sockaddr_in to4 = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const struct sockaddr_in6 to6 = { .sin6_family = AF_INET6,
						 .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	uint8_t pkt[8 + PAYLOAD], buf[2048];
	const struct sockaddr *to;
	socklen_t tolen;
	ssize_t got;
	int skipped = 0;

	memset(pkt, 0xa5, sizeof(pkt));
	e->seq++;
	if (e->family == AF_INET) {
		struct icmphdr ih = { .type = ICMP_ECHO };

		ih.un.echo.id = htons(e->id);
		ih.un.echo.sequence = htons(e->seq);
		memcpy(pkt, &ih, sizeof(ih));
		ih.checksum = inet_cksum(pkt, sizeof(pkt));
		memcpy(pkt, &ih, sizeof(ih));
		to = (const struct sockaddr *)&to4;
		tolen = sizeof(to4);
	} else {
		struct icmp6_hdr h6 = { .icmp6_type = ICMP6_ECHO_REQUEST };

		/* the kernel fills in the checksum of raw ICMPv6 */
		h6.icmp6_id = htons(e->id);
		h6.icmp6_seq = htons(e->seq);
		memcpy(pkt, &h6, sizeof(h6));
		to = (const struct sockaddr *)&to6;
		tolen = sizeof(to6);
	}
	if (sendto(e->fd, pkt, sizeof(pkt), 0, to, tolen) != (ssize_t)sizeof(pkt))
		die("sendto");
	for (;;) {
		got = recv(e->fd, buf, sizeof(buf), 0);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				fail("%s: no echo reply for seq %u within 1 s", e->name,
				     (unsigned)e->seq);
			if (errno == EINTR)
				continue;
			die("recv");
		}
		if (is_our_reply(e, buf, (size_t)got))
			return;
		/* our own looped-back request, or foreign traffic */
		if (++skipped > MAX_SKIPPED)
			fail("%s: %d packets but no echo reply for seq %u", e->name, skipped,
			     (unsigned)e->seq);
	}
}

static void set_timeout(int fd)
{
	struct timeval tv = { .tv_sec = 1 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("SO_RCVTIMEO");
}

static int echo_main(size_t count, int rounds)
{
	enum { N4, B4, N6, B6, NE };
	struct endpoint ep[NE] = {
		[N4] = { .name = "IPv4 127.0.0.1, native socket()", .family = AF_INET },
		[B4] = { .name = "IPv4 127.0.0.1, rb_socket()", .family = AF_INET },
		[N6] = { .name = "IPv6 ::1, native socket()", .family = AF_INET6 },
		[B6] = { .name = "IPv6 ::1, rb_socket()", .family = AF_INET6 },
	};
	double med[NE];
	uint16_t base = (uint16_t)(getpid() & 0xfff0);

	for (int i = 0; i < NE; i++) {
		int proto = ep[i].family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		bool brokered = i == B4 || i == B6;

		ep[i].fd = brokered ? rb_socket(ep[i].family, SOCK_RAW | SOCK_CLOEXEC, proto)
				    : socket(ep[i].family, SOCK_RAW | SOCK_CLOEXEC, proto);
		if (ep[i].fd < 0)
			die(ep[i].name);
		set_timeout(ep[i].fd);
		ep[i].id = (uint16_t)(base + i);
		ep[i].rates = calloc((size_t)rounds, sizeof(double));
		if (!ep[i].rates)
			die("calloc");
	}
	rb_disconnect(); /* the data path needs the broker no more */

	/* Warm up every path. */
	for (int i = 0; i < NE; i++) {
		drain(ep[i].fd);
		for (int w = 0; w < 1000; w++)
			round_trip(&ep[i]);
	}
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < NE; i++) {
			double t0;

			drain(ep[i].fd);
			t0 = now_s();
			for (size_t j = 0; j < count; j++)
				round_trip(&ep[i]);
			ep[i].rates[r] = (double)count / (now_s() - t0);
		}
	}

	printf("echo round trips, %zu per round, %d alternating rounds, %s\n", count, rounds,
	       pinned_note());
	printf("%-36s %12s %12s %12s %9s\n", "case", "median rt/s", "min rt/s", "max rt/s",
	       "us/rt");
	for (int i = 0; i < NE; i++) {
		qsort(ep[i].rates, (size_t)rounds, sizeof(double), cmp_double);
		med[i] = pct(ep[i].rates, (size_t)rounds, 0.5);
		printf("%-36s %12.0f %12.0f %12.0f %9.2f\n", ep[i].name, med[i], ep[i].rates[0],
		       ep[i].rates[rounds - 1], 1e6 / med[i]);
		close(ep[i].fd);
		free(ep[i].rates);
	}
	printf("ratio IPv4 (rb_socket / native): %.3f\n", med[B4] / med[N4]);
	printf("ratio IPv6 (rb_socket / native): %.3f\n", med[B6] / med[N6]);
	return 0;
}

int main(int argc, char **argv)
{
	long count = 20000, rounds = 5;
	int opt;

	if (argc > 1 && strcmp(argv[1], "--spawn") == 0)
		return spawn_main(argc - 1, argv + 1);
	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n' && atol(optarg) > 0 && atol(optarg) <= 10000000) {
			count = atol(optarg);
		} else if (opt == 'r' && atol(optarg) > 0 && atol(optarg) <= 1000) {
			rounds = atol(optarg);
		} else {
			fprintf(stderr, "usage: echo_rate [-n COUNT] [-r ROUNDS]\n"
					"       echo_rate --spawn N LABEL CMD [ARG]... "
					"[::: LABEL CMD [ARG]...]...\n");
			return 2;
		}
	}
	return echo_main((size_t)count, (int)rounds);
}
