/* SPDX-License-Identifier: MIT */
/*
 * e2e_confine.c - what the holder of a brokered raw socket may do to it,
 * for tests/e2e/supervisor.sh.  The socket comes from plain socket(), so
 * through the shim (LD_PRELOAD) when the caller has no CAP_NET_RAW.
 *
 *   e2e_confine CALL        hdrincl4 | hdrincl6 | freebind4 | attach | detach
 *                           | lock-off: make the call on a brokered socket.
 *                           Exit 0: it succeeded; 10: EPERM; 20: other.
 *   e2e_confine spoof SRC   set IP_HDRINCL (if it can) and send an ICMP echo
 *                           request to 127.0.0.1 with a forged source SRC.
 *                           Exit 0: sent with IP_HDRINCL; 10: IP_HDRINCL
 *                           refused (EPERM), the packet sent without it.
 *   e2e_confine listen SRC MS   (root) a raw ICMP receiver on lo: prints
 *                           "listening", then exits 0 if no packet from SRC
 *                           arrived within MS milliseconds, 1 if one did.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

static int result(const char *what, int r)
{
	if (r == 0) {
		printf("%s: succeeded\n", what);
		return 0;
	}
	printf("%s: %s\n", what, strerror(errno));
	return errno == EPERM ? 10 : 20;
}

static int raw4(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (fd < 0) {
		perror("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
		exit(30);
	}
	return fd;
}

static uint16_t csum(const void *p, size_t n)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; n > 1; n -= 2)
		s += *w++;
	if (n)
		s += *(const uint8_t *)w;
	s = (s >> 16) + (s & 0xffff);
	s += s >> 16;
	return (uint16_t)~s;
}

static int spoof(const char *src)
{
	struct {
		struct iphdr ip;
		struct icmphdr icmp;
	} pkt;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int fd = raw4(), one = 1, rc;

	rc = result("IP_HDRINCL", setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)));
	memset(&pkt, 0, sizeof(pkt));
	pkt.ip.version = 4;
	pkt.ip.ihl = 5;
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_ICMP;
	pkt.ip.tot_len = htons(sizeof(pkt));
	inet_pton(AF_INET, src, &pkt.ip.saddr);
	inet_pton(AF_INET, "127.0.0.1", &pkt.ip.daddr);
	pkt.icmp.type = ICMP_ECHO;
	pkt.icmp.un.echo.id = htons(0x5eed);
	pkt.icmp.checksum = csum(&pkt.icmp, sizeof(pkt.icmp));
	dst.sin_addr.s_addr = pkt.ip.daddr;
	if (sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("sendto");
		return 20;
	}
	printf("sent, %s\n", rc == 0 ? "with a forged header" : "without IP_HDRINCL");
	return rc;
}

static int listen_for(const char *src, int ms)
{
	struct in_addr want;
	struct timespec t0, t;
	int fd = raw4();

	inet_pton(AF_INET, src, &want);
	printf("listening\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		unsigned char buf[2048];
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (recv(fd, buf, sizeof(buf), 0) >= (ssize_t)sizeof(struct iphdr) &&
		    ((struct iphdr *)buf)->saddr == want.s_addr) {
			printf("a packet from %s arrived\n", src);
			return 1;
		}
	}
	printf("no packet from %s\n", src);
	return 0;
}

int main(int argc, char **argv)
{
	struct sock_filter all[] = { BPF_STMT(BPF_RET | BPF_K, 0xffff) };
	struct sock_fprog prog = { .len = 1, .filter = all };
	const char *c = argc > 1 ? argv[1] : "";
	int one = 1, zero = 0, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(c, "spoof") == 0 && argc == 3)
		return spoof(argv[2]);
	if (strcmp(c, "listen") == 0 && argc == 4)
		return listen_for(argv[2], atoi(argv[3]));
	if (strcmp(c, "hdrincl6") == 0) {
		fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
		if (fd < 0) {
			perror("socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)");
			return 30;
		}
		return result(c, setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one)));
	}
	fd = raw4();
	if (strcmp(c, "hdrincl4") == 0)
		return result(c, setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)));
	if (strcmp(c, "freebind4") == 0)
		return result(c, setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)));
	if (strcmp(c, "attach") == 0)
		return result(c, setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)));
	if (strcmp(c, "detach") == 0) {
		/* Something to detach first (refused too under the profile). */
		setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
		return result(c, setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)));
	}
	if (strcmp(c, "lock-off") == 0)
		return result(c, setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &zero, sizeof(zero)));
	fprintf(stderr, "usage: see e2e_confine.c\n");
	return 2;
}
