/* SPDX-License-Identifier: MIT */
/*
 * rawbroker-health.c - ask the broker for one raw ICMP (or ICMPv6) socket
 * over its own protocol, close it, and say in one line whether that worked.
 * Exit 0: granted; 1: anything else; 2: usage.  See rawbroker-health(1).  Meant for container
 * HEALTHCHECKs and readiness probes: it exercises the same path a client
 * takes (connect, request, policy decision, socket(), SCM_RIGHTS).
 *
 * It needs no privilege; the policy must grant the user it runs as.
 *
 * --status [--json] asks instead for the broker's counters and state (a
 * StatusRequest; root and rawbrokerd's --admin-group only) and prints them.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "rawbroker.h"

#define STATUS_TIMEOUT_S 5

/* A JSON string, escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static const char *fam_name(int f)
{
	return f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" : "other";
}

static const char *type_name(int t)
{
	return t == SOCK_RAW ? "raw" : t == SOCK_DGRAM ? "dgram" : "other";
}

static const char *proto_name(int p)
{
	return p == IPPROTO_ICMP ? "icmp" : p == IPPROTO_ICMPV6 ? "icmpv6" : "other";
}

static void print_json(const Rawbroker__BrokerStatus *st)
{
	printf("{\"version\":");
	json_str(st->version);
	printf(",\"start_time\":%lld,\"uptime_seconds\":%llu,\"policy\":{\"path\":",
	       (long long)st->start_time, (unsigned long long)st->uptime_seconds);
	json_str(st->policy_path);
	printf(",\"loaded\":%lld},\"connections\":{\"total\":%u,\"uids\":[",
	       (long long)st->policy_loaded, st->connections);
	for (size_t i = 0; i < st->n_uids; i++)
		printf("%s{\"uid\":%u,\"connections\":%u}", i ? "," : "", st->uids[i]->uid,
		       st->uids[i]->connections);
	printf("],\"uids_omitted\":%u},\"rules\":[", st->uids_omitted);
	for (size_t i = 0; i < st->n_rules; i++) {
		const Rawbroker__RuleCounters *r = st->rules[i];

		printf("%s{\"rule\":", i ? "," : "");
		json_str(r->rule);
		printf(",\"family\":\"%s\",\"grants\":%llu,\"denials\":%llu,"
		       "\"rate_limited\":%llu}", fam_name(r->family),
		       (unsigned long long)r->grants, (unsigned long long)r->denials,
		       (unsigned long long)r->rate_limited);
	}
	printf("],\"rules_omitted\":%u,\"pool\":[", st->rules_omitted);
	for (size_t i = 0; i < st->n_pool; i++) {
		const Rawbroker__PoolClass *p = st->pool[i];

		printf("%s{\"family\":\"%s\",\"type\":\"%s\",\"protocol\":\"%s\",", i ? "," : "",
		       fam_name(p->family), type_name(p->type), proto_name(p->protocol));
		if (p->has_mark)
			printf("\"mark\":%u,", p->mark);
		printf("\"ready\":%u}", p->ready);
	}
	printf("],\"pool_omitted\":%u,\"limit_hits\":{", st->pool_omitted);
	for (size_t i = 0; i < st->n_limits; i++) {
		printf("%s", i ? "," : "");
		json_str(st->limits[i]->limit);
		printf(":%llu", (unsigned long long)st->limits[i]->hits);
	}
	printf("},\"maker\":{\"pid\":%d,\"alive\":%s,\"classes\":%u}}\n",
	       st->maker ? st->maker->pid : 0, st->maker && st->maker->alive ? "true" : "false",
	       st->maker ? st->maker->classes : 0);
}

static void print_text(const char *path, const Rawbroker__BrokerStatus *st)
{
	char when[64] = "?";
	time_t t = (time_t)st->policy_loaded;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("broker:      %s (rawbrokerd %s), up %llus\n", path, st->version,
	       (unsigned long long)st->uptime_seconds);
	printf("policy:      %s, loaded %s\n", st->policy_path, when);
	printf("maker:       pid %d, %s, %u classes\n", st->maker ? st->maker->pid : 0,
	       st->maker && st->maker->alive ? "alive" : "gone", st->maker ? st->maker->classes : 0);
	printf("connections: %u\n", st->connections);
	for (size_t i = 0; i < st->n_uids; i++)
		printf("  uid %-10u %u\n", st->uids[i]->uid, st->uids[i]->connections);
	if (st->uids_omitted)
		printf("  (%u more uids not listed)\n", st->uids_omitted);
	printf("rules:       %-24s %-6s %10s %10s %12s\n", "RULE", "FAMILY", "GRANTS", "DENIALS",
	       "RATE-LIMITED");
	for (size_t i = 0; i < st->n_rules; i++) {
		const Rawbroker__RuleCounters *r = st->rules[i];

		printf("             %-24s %-6s %10llu %10llu %12llu\n", r->rule[0] ? r->rule : "-",
		       fam_name(r->family), (unsigned long long)r->grants,
		       (unsigned long long)r->denials, (unsigned long long)r->rate_limited);
	}
	if (st->rules_omitted)
		printf("             (%u more rules not listed)\n", st->rules_omitted);
	printf("pool:\n");
	for (size_t i = 0; i < st->n_pool; i++) {
		const Rawbroker__PoolClass *p = st->pool[i];

		printf("  %s/%s/%s", fam_name(p->family), type_name(p->type), proto_name(p->protocol));
		if (p->has_mark)
			printf(" mark %#x", p->mark);
		printf(": %u ready\n", p->ready);
	}
	if (st->pool_omitted)
		printf("  (%u more classes not listed)\n", st->pool_omitted);
	printf("limit hits:%s\n", st->n_limits ? "" : " none");
	for (size_t i = 0; i < st->n_limits; i++)
		printf("  %-28s %llu\n", st->limits[i]->limit,
		       (unsigned long long)st->limits[i]->hits);
}

/* --status: one StatusRequest, its reply printed.  0 shown, 1 not. */
static int status(const char *path, bool json)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__StatusRequest sr = RAWBROKER__STATUS_REQUEST__INIT;
	Rawbroker__Reply *rep = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = STATUS_TIMEOUT_S };
	uint8_t buf[RB_FRAME_MAX];
	ssize_t n;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		printf("rawbroker-health: %s: socket path too long\n", path);
		return 1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("rawbroker-health: %s: no broker: %s\n", path, strerror(errno));
		return 1;
	}
	req.version = RB_PROTOCOL_VERSION;
	req.id = 1;
	req.kind_case = RAWBROKER__REQUEST__KIND_STATUS;
	req.status = &sr;
	n = rb_request_encode(&req, buf, sizeof(buf));
	r = n < 0 ? (int)n : rb_frame_send(fd, buf, (size_t)n, -1, 0);
	if (r >= 0) {
		n = rb_frame_recv(fd, buf, sizeof(buf), NULL, 0);
		r = n > 0 ? rb_reply_decode(buf, (size_t)n, &rep) : n == 0 ? -ECONNRESET : (int)n;
	}
	close(fd);
	if (r < 0) {
		printf("rawbroker-health: %s: no status: %s\n", path,
		       r == -EAGAIN ? "no answer in time" : strerror(-r));
		rb_reply_free(rep);
		return 1;
	}
	if (rep->status != RAWBROKER__STATUS__STATUS_OK || !rep->broker_status) {
		printf("rawbroker-health: %s: no status: %s\n", path,
		       rep->reason[0] ? rep->reason : "the broker sent none");
		rb_reply_free(rep);
		return 1;
	}
	if (json)
		print_json(rep->broker_status);
	else
		print_text(path, rep->broker_status);
	rb_reply_free(rep);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: rawbroker-health [-4|-6]\n"
		   "       rawbroker-health --status [--json]\n"
		   "Ask the broker at $RAWBROKER_SOCKET (default " RB_DEFAULT_SOCKET ")\n"
		   "for a raw ICMP (-4, the default) or ICMPv6 (-6) socket, close it,\n"
		   "and print one line saying what happened.\n"
		   "\n"
		   "  -4             ask for a raw ICMP socket (the default)\n"
		   "  -6             ask for a raw ICMPv6 socket\n"
		   "      --status   print the broker's counters and state instead (root\n"
		   "                 and rawbrokerd's --admin-group only)\n"
		   "      --json     with --status: one JSON object\n"
		   "  -h, --help     print this help and exit\n"
		   "  -V, --version  print the version and exit\n"
		   "\n"
		   "Exit status: 0 granted (--status: shown), 1 not (denied, no broker,\n"
		   "...), 2 usage.\n"
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
		{ "status", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	bool want_status = false, json = false;
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
		case 'S':
			want_status = true;
			break;
		case 'J':
			json = true;
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
	if (json && !want_status) {
		fprintf(stderr, "rawbroker-health: --json goes with --status\n");
		return 2;
	}
	if (want_status)
		return status(path, json);

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
