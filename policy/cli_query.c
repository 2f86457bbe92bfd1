/* SPDX-License-Identifier: MIT */
/*
 * cli_query.c - rawbroker-policy query: one request decided as the broker
 * would, and how the socket would be prepared.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h> /* libbsd overlay: strtonum() */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "policy_impl.h" /* the language's words: rb_families, ... */

const char help_query[] =
	"Usage: " PROG " query FILE --uid N [--gid N] [--groups N,N,...]\n"
	"                              FAMILY PROTOCOL [TYPE] [--source ADDR]\n"
	"       " PROG " query FILE --uid N [--gid N] [--groups N,N,...]\n"
	"                              --option OPTION\n"
	"\n"
	"Decide one request against the policy FILE, as rawbrokerd would for a\n"
	"client with these ids, and print the decision, the deciding rule and its\n"
	"line (or the default deny), and how the socket would be prepared.\n"
	"\n"
	"  --uid N            the client's uid (required)\n"
	"  --gid N            its gid (default: the uid)\n"
	"  --groups N,N,...   its supplementary groups (default: none)\n"
	"  --source ADDR      the source address it asks the broker to bind to\n"
	"  --option OPTION    ask for a socket option instead of a socket:\n"
	"                     ipv6-hopopts or ipv6-dstopts\n"
	"  --json             print the decision as JSON (schema\n"
	"                     rawbroker-policy/query/1, see rawbroker-policy(1))\n"
	"  -h, --help         show this help\n"
	"\n"
	"FAMILY is inet or inet6; PROTOCOL icmp (inet), icmpv6 (inet6), udp or\n"
	"tcp; TYPE raw (the default).  Operands and options may come in any\n"
	"order; write ./inet for a FILE named like one of these words.  FILE -\n"
	"reads stdin.\n"
	"\n"
	"Exit status: 0 allowed, 1 denied, 2 usage error, 3 the policy could not\n"
	"be read or has errors.\n";

/* ---- query -------------------------------------------------------------- */

struct query_args {
	const char *path;
	const char *words[3]; /* FAMILY PROTOCOL [TYPE] */
	size_t nwords;
	bool has_uid, has_gid;
	uint32_t uid, gid;
	gid_t *groups;
	size_t ngroups;
	const char *source;
	const char *option;
	bool help;
	bool json;
};

/*
 * FILE, FAMILY, PROTOCOL and TYPE, in any order: a word of the language
 * (inet, icmp, raw, ...) goes to its slot (words[0] family, [1] protocol,
 * [2] type) unless it has a '/' (write ./inet for a file named so); the
 * first other operand is FILE; any further one takes the first free slot,
 * where query_words() says what is wrong with it.  -1 for one too many.
 */
static int query_operand(struct query_args *a, const char *arg)
{
	static const struct rb_word *const tables[3] = { rb_families, rb_protocols, rb_types };
	int slot = -1;

	if (!strchr(arg, '/'))
		for (int i = 0; i < 3 && slot < 0; i++)
			if (!a->words[i] && find_word(tables[i], arg))
				slot = i;
	if (slot < 0 && !a->path) {
		a->path = arg;
		return 0;
	}
	for (int i = 0; i < 3 && slot < 0; i++)
		if (!a->words[i])
			slot = i;
	if (slot < 0)
		return -1;
	a->words[slot] = arg;
	a->nwords++;
	return 0;
}

/* Parse the command line into A.  EXIT_YES or a usage error's status. */
static int query_parse(int argc, char **argv, struct query_args *a)
{
	enum { OPT_UID = 256, OPT_GID, OPT_GROUPS, OPT_SOURCE, OPT_OPTION, OPT_JSON };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "groups", required_argument, NULL, OPT_GROUPS },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "option", required_argument, NULL, OPT_OPTION },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r;

	opt_reset();
	while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (query_operand(a, optarg) < 0)
				return usage_error("query", "unexpected argument '%s'",
						   optarg);
			break;
		case OPT_UID:
		case OPT_GID:
			if (parse_id(optarg, c == OPT_UID ? &a->uid : &a->gid) < 0)
				return usage_error("query", "--%s takes a number "
						   "0..%u, not '%s'",
						   c == OPT_UID ? "uid" : "gid", ID_MAX,
						   optarg);
			if (c == OPT_UID)
				a->has_uid = true;
			else
				a->has_gid = true;
			break;
		case OPT_GROUPS:
			free(a->groups);
			r = parse_groups(optarg, &a->groups, &a->ngroups);
			if (r == -ENOMEM) {
				fprintf(stderr, PROG ": out of memory\n");
				return EXIT_TROUBLE;
			}
			if (r < 0)
				return usage_error("query", "--groups takes up to %d "
						   "numbers 0..%u separated by ',', not "
						   "'%s'", GROUPS_MAX, ID_MAX, optarg);
			break;
		case OPT_SOURCE:
			a->source = optarg;
			break;
		case OPT_OPTION:
			a->option = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'h':
			a->help = true;
			return EXIT_YES;
		case ':':
			return usage_error("query", "option '%s' needs a value",
					   bad_option(argv, c));
		default:
			return usage_error("query", "unknown option '%s'",
					   bad_option(argv, c));
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		if (query_operand(a, argv[optind]) < 0)
			return usage_error("query", "unexpected argument '%s'",
					   argv[optind]);
	if (!a->path)
		return usage_error("query", "expected a policy FILE");
	if (!a->has_uid)
		return usage_error("query", "expected --uid N");
	if (!a->has_gid)
		a->gid = a->uid;
	if (a->option && (a->nwords || a->source))
		return usage_error("query", "--option takes no FAMILY, PROTOCOL, TYPE "
				   "or --source");
	if (!a->option && (!a->words[0] || !a->words[1]))
		return usage_error("query", "expected FAMILY and PROTOCOL (or "
				   "--option)");
	return EXIT_YES;
}

/* FAMILY PROTOCOL [TYPE] [--source] into Q.  EXIT_YES or a usage error. */
static int query_words(const struct query_args *a, struct rb_query *q)
{
	const struct rb_word *fam, *proto, *type;
	char list[96];

	fam = find_word(rb_families, a->words[0]);
	if (!fam) {
		word_list(rb_families, list, sizeof(list));
		return usage_error("query", "unknown family '%s' (expected %s)",
				   a->words[0], list);
	}
	proto = find_word(rb_protocols, a->words[1]);
	if (!proto) {
		word_list(rb_protocols, list, sizeof(list));
		return usage_error("query", "unknown protocol '%s' (expected %s)",
				   a->words[1], list);
	}
	if (proto->family && proto->family != fam->value)
		return usage_error("query", "protocol '%s' does not go with family '%s'",
				   proto->name, fam->name);
	type = a->words[2] ? find_word(rb_types, a->words[2])
			   : rb_word_by_value(rb_types, SOCK_RAW);
	if (!type) {
		word_list(rb_types, list, sizeof(list));
		return usage_error("query", "unknown socket type '%s' (expected %s)",
				   a->words[2], list);
	}
	*q = (struct rb_query){ .family = fam->value, .protocol = proto->value,
				.type = type->value };
	if (a->source) {
		if (inet_pton(q->family, a->source, &q->source) != 1)
			return usage_error("query", "--source '%s' is not an %s address",
					   a->source, fam->value == AF_INET ? "IPv4"
									  : "IPv6");
		q->has_source = true;
	}
	return EXIT_YES;
}

/* The drop-in the deciding rule is in, or NULL for the main file. */
static const char *rule_file(const struct rb_policy *p, const struct rb_decision *dec)
{
	for (size_t i = 0; dec->rule && i < p->nrules; i++)
		if (strcmp(p->rules[i].name, dec->rule) == 0)
			return p->rules[i].file;
	return NULL;
}

static void print_decision(const struct rb_policy *p, const struct rb_decision *dec)
{
	const char *file = rule_file(p, dec);

	printf("decision: %s\n", dec->verdict == RB_ALLOW ? "allow" : "deny");
	if (dec->rule && file)
		printf("rule: %s (line %u of %s)\n", dec->rule, dec->line, file);
	else if (dec->rule)
		printf("rule: %s (line %u)\n", dec->rule, dec->line);
	else
		printf("rule: none (default deny)\n");
	printf("reason: %s\n", dec->reason);
}

static const char *family_macro(int family)
{
	return family == AF_INET ? "AF_INET" : "AF_INET6";
}

static const char *protocol_macro(int protocol)
{
	switch (protocol) {
	case IPPROTO_ICMP:
		return "IPPROTO_ICMP";
	case IPPROTO_ICMPV6:
		return "IPPROTO_ICMPV6";
	case IPPROTO_UDP:
		return "IPPROTO_UDP";
	case IPPROTO_TCP:
		return "IPPROTO_TCP";
	default:
		return "?";
	}
}

static void print_receive(const struct rb_query *q, const struct rb_prepare *prep)
{
	if (!prep->has_receive) {
		printf("receive filter: none (the socket sees every %s packet of the "
		       "broker's network namespace)\n", rb_protocol_name(q->protocol));
		return;
	}
	printf("receive filter: lock: only %s types", rb_protocol_name(q->protocol));
	for (unsigned t = 0, n = 0; t < 256; t++) {
		const char *name = rb_icmp_type_name(q->protocol, t);

		if (!rb_icmp_types_has(&prep->receive, t))
			continue;
		printf("%s", n++ ? "," : " ");
		if (name)
			printf("%s", name);
		else
			printf("%u", t);
	}
	printf(" pass (SO_ATTACH_FILTER + SO_LOCK_FILTER)\n");
}

/* How the broker would prepare the socket (broker/rawsock.c), which of it
 * the client cannot undo (lock) and which it can (default). */
static void print_preparation(const struct rb_query *q, const struct rb_decision *dec)
{
	const struct rb_prepare *prep = &dec->prep;
	char a[INET6_ADDRSTRLEN];

	printf("socket: socket(%s, %s | SOCK_CLOEXEC, %s), with SOCK_NONBLOCK if the "
	       "client asks\n", family_macro(q->family),
	       q->type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_RAW",
	       protocol_macro(q->protocol));
	if (q->has_source && inet_ntop(q->family, &q->source, a, sizeof(a)))
		printf("bind: %s (default: the client may bind again)\n", a);
	else if (prep->has_default_source &&
		 inet_ntop(q->family, &prep->default_source, a, sizeof(a)))
		printf("bind: %s, the rule's default-source (default: the client may "
		       "bind again)\n", a);
	else
		printf("bind: none (no --source, no default-source)\n");
	if (prep->device[0])
		printf("device: lock: SO_BINDTODEVICE %s\n", prep->device);
	else
		printf("device: none\n");
	if (prep->has_mark)
		printf("mark: lock: SO_MARK 0x%x\n", (unsigned)prep->mark);
	else
		printf("mark: none\n");
	if (q->protocol == IPPROTO_ICMP || q->protocol == IPPROTO_ICMPV6)
		print_receive(q, prep);
	else
		printf("receive filter: none (rawbroker has none for %s)\n",
		       rb_protocol_name(q->protocol));
	if (prep->rcvbuf || prep->sndbuf)
		printf("buffers: default: SO_RCVBUF %u, SO_SNDBUF %u (0: the kernel's)\n",
		       (unsigned)prep->rcvbuf, (unsigned)prep->sndbuf);
	else
		printf("buffers: the kernel's defaults\n");
	if (dec->limits.rate)
		printf("rate: %u grants/s per uid, burst %u\n", (unsigned)dec->limits.rate,
		       (unsigned)dec->limits.burst);
	else
		printf("rate: unlimited\n");
	if (dec->limits.connections)
		printf("connections: %u per uid\n", (unsigned)dec->limits.connections);
	else
		printf("connections: unlimited\n");
	printf("client confinement: IP_HDRINCL/IPV6_HDRINCL %s by the exported seccomp "
	       "profile (rawbroker-policy seccomp --rule %s)\n",
	       prep->hdrincl ? "allowed" : "denied", dec->rule);
	printf("error queue: IP_RECVERR/IPV6_RECVERR %s by that profile%s\n",
	       prep->deny_recverr ? "denied" : "allowed",
	       prep->deny_recverr ? "" : prep->has_receive ?
	       " (the error queue bypasses the receive filter)" : "");
}

int cmd_query(int argc, char **argv)
{
	struct query_args a = { 0 };
	const struct rb_word *opt = NULL;
	struct rb_policy *p = NULL;
	struct rb_decision dec;
	struct rb_peer peer;
	struct rb_query q;
	int status;

	status = query_parse(argc, argv, &a);
	if (status == EXIT_YES && a.help) {
		status = show_help(help_query);
		goto out;
	}
	if (status != EXIT_YES)
		goto out;
	if (!a.option) {
		status = query_words(&a, &q);
		if (status != EXIT_YES)
			goto out;
	} else {
		opt = find_word(rb_options, a.option);
		if (!opt) {
			char list[96];

			word_list(rb_options, list, sizeof(list));
			status = usage_error("query", "unknown option name '%s' "
					     "(expected %s)", a.option, list);
			goto out;
		}
	}

	p = load(a.path);
	if (!p) {
		status = EXIT_TROUBLE;
		goto out;
	}
	peer = (struct rb_peer){ .uid = a.uid, .gid = a.gid, .groups = a.groups,
				 .ngroups = a.ngroups };
	if (a.json) {
		const char *file = strcmp(a.path, "-") == 0 ? "<stdin>" : a.path;

		if (opt)
			rb_policy_decide_option(p, &peer, (unsigned)opt->value, &dec);
		else
			rb_policy_decide(p, &peer, &q, &dec);
		if (json_query(file, &peer, opt ? NULL : &q, opt ? opt->name : NULL, &dec,
			       rule_file(p, &dec)) != EXIT_YES)
			status = EXIT_TROUBLE;
		else
			status = finish(dec.verdict == RB_ALLOW ? EXIT_YES : EXIT_NO);
		goto out;
	}
	if (opt) {
		rb_policy_decide_option(p, &peer, (unsigned)opt->value, &dec);
		print_decision(p, &dec);
		if (dec.verdict == RB_ALLOW)
			printf("sets: setsockopt(fd, IPPROTO_IPV6, %s, ...) on the client's "
			       "own IPv6 socket, for headers of padding options only\n",
			       opt->value == RB_OPT_IPV6_HOPOPTS ? "IPV6_HOPOPTS"
								 : "IPV6_DSTOPTS");
	} else {
		rb_policy_decide(p, &peer, &q, &dec);
		print_decision(p, &dec);
		if (dec.verdict == RB_ALLOW)
			print_preparation(&q, &dec);
	}
	status = finish(dec.verdict == RB_ALLOW ? EXIT_YES : EXIT_NO);
out:
	rb_policy_free(p);
	free(a.groups);
	return status;
}
