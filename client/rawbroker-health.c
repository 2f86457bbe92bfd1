/* SPDX-License-Identifier: MIT */
/*
 * rawbroker-health.c - ask the broker for one raw ICMP (or ICMPv6) socket
 * over its own protocol, close it, and say in one line whether that worked.
 * Exit 0: granted; 1: anything else; 2: usage.  Meant for container
 * HEALTHCHECKs and readiness probes: it exercises the same path a client
 * takes (connect, request, policy decision, socket(), SCM_RIGHTS).
 *
 * It needs no privilege; the policy must grant the user it runs as.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rawbroker.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: rawbroker-health [-4|-6]\n"
		   "Ask the broker at $RAWBROKER_SOCKET (default " RB_DEFAULT_SOCKET ")\n"
		   "for a raw ICMP (-4, the default) or ICMPv6 (-6) socket; exit 0 if\n"
		   "it grants one, 1 otherwise.\n");
}

int main(int argc, char **argv)
{
	struct rb_request req = { .domain = AF_INET, .type = SOCK_RAW | SOCK_CLOEXEC,
				  .protocol = IPPROTO_ICMP };
	struct rb_result res;
	const char *path = getenv("RAWBROKER_SOCKET");
	int c, fd;

	while ((c = getopt(argc, argv, "46h")) != -1) {
		switch (c) {
		case '4':
			req.domain = AF_INET;
			req.protocol = IPPROTO_ICMP;
			break;
		case '6':
			req.domain = AF_INET6;
			req.protocol = IPPROTO_ICMPV6;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!path || !*path)
		path = RB_DEFAULT_SOCKET;

	fd = rb_socket_request(&req, &res);
	if (fd < 0) {
		/* The reason is the broker's, or the library's own when the
		   broker was not reached; it is never empty. */
		printf("rawbroker-health: %s: no raw %s socket: %s\n", path,
		       req.domain == AF_INET ? "ICMP" : "ICMPv6",
		       res.reason[0] ? res.reason : strerror(res.error));
		return 1;
	}
	close(fd);
	printf("rawbroker-health: %s: granted a raw %s socket (rule %s)\n", path,
	       req.domain == AF_INET ? "ICMP" : "ICMPv6", res.rule[0] ? res.rule : "-");
	return 0;
}
