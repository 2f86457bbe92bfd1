/* SPDX-License-Identifier: MIT */
/*
 * optclear_rtt - ICMPv6 echo round trips measured the way RIPE Atlas
 * evtraceroute measures them: take the transmit time, clear IPV6_HOPOPTS
 * and IPV6_DSTOPTS (as it does before every ICMPv6 probe), send the echo
 * request, wait for its reply.  Run by tests/bench/bench_optclear.sh as
 * root (native socket, options cleared by the kernel) and as an
 * unprivileged uid through the LD_PRELOAD shim (brokered socket; the
 * clears go through the shim), pinned to one CPU.  A benchmark, not a
 * test: it prints one RTT per probe in microseconds, on stdout, and checks
 * only that every probe was answered.
 *
 *   optclear_rtt TARGET COUNT
 *
 * Uses plain socket() and setsockopt() only, so the shim can reach it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 56       /* as ping's default */
#define MAX_SKIPPED 4096 /* foreign packets tolerated while awaiting one reply */
#define WARMUP 200

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int fail(const char *what)
{
	fprintf(stderr, "optclear_rtt: FAIL: %s: %s\n", what, strerror(errno));
	return 1;
}

/* One probe; its RTT in microseconds, or -1. */
static double probe(int fd, const struct sockaddr_in6 *to, uint16_t id, uint16_t seq)
{
	uint8_t pkt[8 + PAYLOAD], buf[2048];
	struct icmp6_hdr h = { .icmp6_type = ICMP6_ECHO_REQUEST };
	double t0, t1;
	int skipped = 0;

	memset(pkt, 0xa5, sizeof(pkt));
	h.icmp6_id = htons(id);
	h.icmp6_seq = htons(seq);
	memcpy(pkt, &h, sizeof(h)); /* the kernel fills in the checksum */
	t0 = now_us();
	/* What evtraceroute does between its transmit time and sendto(). */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, NULL, 0) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, NULL, 0) < 0)
		return fail("clearing IPV6_HOPOPTS/IPV6_DSTOPTS"), -1;
	if (sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)to, sizeof(*to)) !=
	    (ssize_t)sizeof(pkt))
		return fail("sendto"), -1;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct icmp6_hdr r;

		t1 = now_us();
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("no echo reply within 1 s"), -1;
		if ((size_t)n >= sizeof(r)) {
			memcpy(&r, buf, sizeof(r));
			if (r.icmp6_type == ICMP6_ECHO_REPLY && ntohs(r.icmp6_id) == id &&
			    ntohs(r.icmp6_seq) == seq)
				return t1 - t0;
		}
		if (++skipped > MAX_SKIPPED) {
			errno = EPROTO;
			return fail("too many foreign packets"), -1;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	struct timeval tv = { .tv_sec = 1 };
	struct icmp6_filter filt;
	long count;
	uint16_t id = (uint16_t)getpid();
	int fd;

	if (argc != 3 || inet_pton(AF_INET6, argv[1], &to.sin6_addr) != 1 ||
	    (count = atol(argv[2])) < 1 || count > 1000000) {
		fprintf(stderr, "usage: optclear_rtt IPV6-TARGET COUNT\n");
		return 2;
	}
	fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return fail("socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)");
	/* Echo replies only, as ping sets it: our own requests stay out. */
	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filt);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof(filt)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return fail("socket options");
	for (int i = 0; i < WARMUP; i++)
		if (probe(fd, &to, id, (uint16_t)i) < 0)
			return 1;
	for (long i = 0; i < count; i++) {
		double rtt = probe(fd, &to, id, (uint16_t)(WARMUP + i));

		if (rtt < 0)
			return 1;
		printf("%.3f\n", rtt);
	}
	return 0;
}
