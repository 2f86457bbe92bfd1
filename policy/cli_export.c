/* SPDX-License-Identifier: MIT */
/*
 * cli_export.c - rawbroker-policy seccomp and nft: what the policy exports
 * for others to enforce (the clients' seccomp profile, the egress ruleset).
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
#include "cli_seccomp_merge.h" /* and "client_seccomp.h": not "seccomp.h",
				  which would hide libseccomp's <seccomp.h> */
#include "cli_seccomp_notify.h"

const char help_seccomp[] =
	"Usage: " PROG " seccomp FILE [--rule NAME] --format pfc|oci [--base BASE]\n"
	"                        [--listener PATH] [-o OUT]\n"
	"\n"
	"Export the seccomp profile the clients of the policy FILE should run\n"
	"under.  A raw socket's holder needs no capability to set IP_HDRINCL and\n"
	"forge headers, set IP_FREEBIND, or attach and detach socket filters: only\n"
	"seccomp on the client can stop that.  The profile makes these fail with\n"
	"EPERM (errno 1): setsockopt() of IP_HDRINCL, IPV6_HDRINCL (at IPPROTO_IPV6\n"
	"and SOL_RAW), IP_FREEBIND, IPV6_FREEBIND, SO_ATTACH_FILTER,\n"
	"SO_DETACH_FILTER, SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_CBPF,\n"
	"SO_ATTACH_REUSEPORT_EBPF and SO_LOCK_FILTER, and for a rule with 'recverr\n"
	"deny' (the default with 'receive') IP_RECVERR and IPV6_RECVERR;\n"
	"socket() of AF_PACKET, SOCK_PACKET or SOCK_RAW (raw sockets come from the\n"
	"broker); ptrace, process_vm_readv, process_vm_writev, pidfd_getfd; the\n"
	"io_uring calls; and socketcall where it exists.\n"
	"\n"
	"Alone, the profile ALLOWS everything else: it is less strict than a\n"
	"container runtime's default, and podman --security-opt seccomp=OUT\n"
	"replaces that default with it.  With --base, give the runtime's default\n"
	"profile (podman's: /usr/share/containers/seccomp.json): OUT is that\n"
	"profile, with our denials added and the base's permissions for these\n"
	"calls taken out; setsockopt and socket stay allowed apart from our\n"
	"denials (and the base's own).\n"
	"iputils ping warns that it cannot install its socket filter, and works.\n"
	"\n"
	"With --listener, for static and Go programs that no LD_PRELOAD reaches:\n"
	"socket() of each (family, type, protocol) the policy can grant waits for\n"
	"the broker (SCMP_ACT_NOTIFY; SOCK_CLOEXEC and SOCK_NONBLOCK do not\n"
	"matter), and the profile's listenerPath is PATH, where rawbrokerd\n"
	"--seccomp-agent PATH listens: the runtime (runc) hands it the\n"
	"container's seccomp listener, and the broker answers each such call by\n"
	"the policy, for the process's identity as the host sees it.  Raw\n"
	"sockets of other tuples stay denied with EPERM.  The broker makes the\n"
	"sockets in its own network namespace: run the container in it (same\n"
	"pod, or --network container:BROKER); one in another namespace is\n"
	"refused.\n"
	"\n"
	"  --rule NAME        the rule whose clients it is for (it must exist)\n"
	"  --format pfc       libseccomp's pseudo filter code, native arch only\n"
	"  --format oci       the JSON of podman --security-opt seccomp=FILE\n"
	"  --base BASE        oci: merge with the OCI profile BASE (at most 4 MiB)\n"
	"  --listener PATH    oci: notify the broker's seccomp agent at PATH (an\n"
	"                     absolute path of at most 107 bytes)\n"
	"  -o, --output OUT   write to OUT instead of stdout\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 printed, 2 usage error (an unknown --rule is one), 3 the\n"
	"policy or BASE could not be read or has errors, the profile could not be\n"
	"built, or the output could not be written.\n";

const char help_nft[] =
	"Usage: " PROG " nft FILE [-o OUT]\n"
	"\n"
	"Print the egress ruleset of the policy FILE for nft -f: a table inet\n"
	"rawbroker in which packets carrying the mark of a rule with 'destination'\n"
	"or 'device' lines are rejected (ICMP administratively prohibited) unless\n"
	"they go to one of the rule's destinations and out of its device.\n"
	"Unmarked packets, and marks no such rule names, are not touched.  Loading\n"
	"it again with nft -f replaces the table; it never piles up.  Load it\n"
	"again after every policy change (contrib/systemd/rawbroker-nft.service).\n"
	"\n"
	"  -o, --output OUT   write to OUT instead of stdout\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 printed, 2 usage error, 3 the policy could not be read or\n"
	"has errors, a device name nftables cannot quote, or the output could not\n"
	"be written.\n";

/* ---- seccomp ------------------------------------------------------------ */

int cmd_seccomp(int argc, char **argv)
{
	enum { OPT_RULE = 256, OPT_FORMAT, OPT_BASE, OPT_LISTENER };
	static const struct option opts[] = {
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "listener", required_argument, NULL, OPT_LISTENER },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL, *rule = NULL, *format = NULL, *output = NULL, *base = NULL;
	const char *listener = NULL;
	struct rb_class cls[64];
	int ncls = 0;
	enum rb_seccomp_format fmt;
	struct rb_seccomp_base *b = NULL;
	char why[256] = "";
	struct rb_prepare conf;
	struct rb_policy *p;
	FILE *out = stdout;
	int c, r, status = EXIT_YES;

	opt_reset();
	while ((c = getopt_long(argc, argv, "-:ho:", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			status = file_operand("seccomp", &path, optarg);
			if (status != EXIT_YES)
				return status;
			break;
		case OPT_RULE:
			rule = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_BASE:
			base = optarg;
			break;
		case OPT_LISTENER:
			listener = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return show_help(help_seccomp);
		case ':':
			return usage_error("seccomp", "option '%s' needs a value",
					   bad_option(argv, c));
		default:
			return usage_error("seccomp", "unknown option '%s'",
					   bad_option(argv, c));
		}
	}
	for (; optind < argc; optind++) { /* after "--" */
		status = file_operand("seccomp", &path, argv[optind]);
		if (status != EXIT_YES)
			return status;
	}
	if (!path)
		return usage_error("seccomp", "expected a policy FILE");
	if (!format)
		return usage_error("seccomp", "expected --format pfc or --format oci");
	if (strcmp(format, "pfc") == 0)
		fmt = RB_SECCOMP_PFC;
	else if (strcmp(format, "oci") == 0)
		fmt = RB_SECCOMP_OCI;
	else
		return usage_error("seccomp", "unknown format '%s' (expected pfc, oci)",
				   format);
	if (output && !*output)
		return usage_error("seccomp", "-o takes a file name");
	if (base && fmt != RB_SECCOMP_OCI)
		return usage_error("seccomp", "--base goes with --format oci");
	if (base && !*base)
		return usage_error("seccomp", "--base takes a file name");
	if (listener && fmt != RB_SECCOMP_OCI)
		return usage_error("seccomp", "--listener goes with --format oci");
	if (listener && (listener[0] != '/' || strlen(listener) >= RB_LISTENER_PATH_MAX))
		return usage_error("seccomp", "--listener takes an absolute path of at most %d "
				   "bytes (a unix socket address)", RB_LISTENER_PATH_MAX - 1);

	p = load(path);
	if (!p)
		return EXIT_TROUBLE;
	/* Without --rule: the default confinement, everything denied. */
	if (rb_policy_rule_confinement(p, rule, &conf) < 0) {
		status = usage_error("seccomp", "%s has no rule '%s'", path, rule);
		rb_policy_free(p);
		return status;
	}
	/* --listener: the tuples the policy can grant at all (any rule: the
	 * broker decides per process; the profile only says whom to ask). */
	if (listener)
		ncls = rb_policy_classes(p, cls, sizeof(cls) / sizeof(cls[0]));
	rb_policy_free(p);
	if (ncls < 0) {
		fprintf(stderr, PROG ": %s: more than %zu socket classes\n", path,
			sizeof(cls) / sizeof(cls[0]));
		return EXIT_TROUBLE;
	}

	/* The base before the output: a bad one leaves no empty OUT behind. */
	if (base) {
		r = rb_seccomp_base_load(base, &b, why, sizeof(why));
		if (r < 0) {
			fprintf(stderr, PROG ": %s: %s\n", base, why[0] ? why : strerror(-r));
			return EXIT_TROUBLE;
		}
	}
	if (output) {
		out = fopen(output, "we");
		if (!out) {
			fprintf(stderr, PROG ": %s: %s\n", output, strerror(errno));
			rb_seccomp_base_free(b);
			return EXIT_TROUBLE;
		}
	}
	if (listener)
		r = rb_seccomp_export_notify(out, &conf, cls, (size_t)ncls, listener, b);
	else if (b)
		r = rb_seccomp_export_merged(out, &conf, b);
	else
		r = rb_seccomp_export(out, fmt, &conf);
	rb_seccomp_base_free(b);
	if (output && fclose(out) != 0 && r == 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, PROG ": cannot export the profile to %s: %s\n",
			output ? output : "stdout", strerror(-r));
		return EXIT_TROUBLE;
	}
	return finish(EXIT_YES);
}

/* ---- nft ---------------------------------------------------------------- */

int cmd_nft(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct rb_policy *p;
	const char *path = NULL, *output = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = stdout;
	int c, r, status = EXIT_YES;

	opt_reset();
	while ((c = getopt_long(argc, argv, "-:ho:", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			status = file_operand("nft", &path, optarg);
			if (status != EXIT_YES)
				return status;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return show_help(help_nft);
		case ':':
			return usage_error("nft", "option '%s' needs a value", bad_option(argv, c));
		default:
			return usage_error("nft", "unknown option '%s'", bad_option(argv, c));
		}
	}
	for (; optind < argc; optind++) { /* after "--" */
		status = file_operand("nft", &path, argv[optind]);
		if (status != EXIT_YES)
			return status;
	}
	if (!path)
		return usage_error("nft", "expected a policy FILE");

	p = load(path);
	if (!p)
		return EXIT_TROUBLE;
	r = rb_policy_nft(p, strcmp(path, "-") == 0 ? "<stdin>" : path, &text, &len);
	rb_policy_free(p);
	if (r == -EDOM) {
		fprintf(stderr, PROG ": %s: a rule with a mark names a device that nftables "
			"cannot quote (use letters, digits and ._-@+)\n", path);
		return EXIT_TROUBLE;
	}
	if (r < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(-r));
		return EXIT_TROUBLE;
	}
	if (output && !(out = fopen(output, "we"))) {
		fprintf(stderr, PROG ": cannot open %s: %s\n", output, strerror(errno));
		free(text);
		return EXIT_TROUBLE;
	}
	errno = 0;
	r = fwrite(text, 1, len, out) == len && fflush(out) == 0 ? 0 : (errno ? -errno : -EIO);
	free(text);
	if (output && fclose(out) != 0 && r == 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, PROG ": cannot write the ruleset to %s: %s\n",
			output ? output : "stdout", strerror(-r));
		return EXIT_TROUBLE;
	}
	return finish(EXIT_YES);
}
