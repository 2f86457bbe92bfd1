/* SPDX-License-Identifier: MIT */
/*
 * rawbroker-health.c - ask the broker for one raw ICMP (or ICMPv6) socket
 * over its own protocol, close it, and say in one line whether that worked.
 * Exit 0: granted; 1: anything else; 2: usage.  See rawbroker-health(1).  Meant for container
 * HEALTHCHECKs and readiness probes: it exercises the same path a client
 * takes (connect, request, policy decision, socket(), SCM_RIGHTS).
 *
 * It needs no privilege; the policy must grant the user it runs as.
 */
#include <getopt.h>
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
		   "for a raw ICMP (-4, the default) or ICMPv6 (-6) socket, close it,\n"
		   "and print one line saying what happened.\n"
		   "\n"
		   "  -4             ask for a raw ICMP socket (the default)\n"
		   "  -6             ask for a raw ICMPv6 socket\n"
		   "  -h, --help     print this help and exit\n"
		   "  -V, --version  print the version and exit\n"
		   "\n"
		   "Exit status: 0 granted, 1 not granted (denied, no broker, ...), 2 usage.\n"
		   "See rawbroker-health(1).\n");
}

int main(int argc, char **argv)
{
	struct rb_request req = { .domain = AF_INET, .type = SOCK_RAW | SOCK_CLOEXEC,
				  .protocol = IPPROTO_ICMP };
	struct rb_result res;
	const char *path = getenv("RAWBROKER_SOCKET");
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, fd;

	while ((c = getopt_long(argc, argv, "46hV", longopts, NULL)) != -1) {
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
		case 'V':
			printf("rawbroker-health %s\n", RB_VERSION);
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
