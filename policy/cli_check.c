/* SPDX-License-Identifier: MIT */
/*
 * cli_check.c - rawbroker-policy check and explain.
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

const char help_check[] =
	"Usage: " PROG " check [--strict] FILE\n"
	"\n"
	"Read the policy FILE as rawbrokerd would, and report its errors and\n"
	"warnings on stderr as FILE:LINE:COL: error|warning: MESSAGE, then a\n"
	"summary line.  Besides the parser's messages it warns about rules that\n"
	"can never match or are never reached, raw udp/tcp grants, 'hdrincl\n"
	"allow', 'recverr allow' next to a receive filter, and rules that let any\n"
	"local user send from any local address.  A rule silences the warnings\n"
	"about risks it takes on purpose with 'accept-risk raw-udp raw-tcp\n"
	"hdrincl recverr' (any of them); a word for a risk it does not have is\n"
	"warned about.\n"
	"\n"
	"FILE - reads the policy from stdin.  The drop-ins FILE.d/*.conf are read\n"
	"after FILE, in the order of their names (rawbroker.conf(5)).\n"
	"\n"
	"  --strict    treat warnings as errors for the exit status\n"
	"  --json      print the result as one JSON document on stdout (schema\n"
	"              rawbroker-policy/check/1, see rawbroker-policy(1))\n"
	"  -h, --help  show this help\n"
	"\n"
	"Exit status: 0 no errors (with --strict, no warnings either), 1 errors\n"
	"(an unreadable file is one) or, with --strict, warnings, 2 usage error.\n";

const char help_explain[] =
	"Usage: " PROG " explain FILE\n"
	"\n"
	"Print the policy FILE on stdout in normalized form, itself a valid\n"
	"policy: every rule with its line, match lines with the ids names resolve\n"
	"to, allow lines with their socket type, the source addresses ('source\n"
	"any' when there is no source line), options, and the check's warnings,\n"
	"under a header comment that says how requests are decided.  Messages\n"
	"from reading the file go to stderr.  FILE - reads stdin.\n"
	"\n"
	"  --json      print the policy as JSON data instead (schema\n"
	"              rawbroker-policy/explain/1, see rawbroker-policy(1))\n"
	"  -h, --help  show this help\n"
	"\n"
	"Exit status: 0 printed, 2 usage error, 3 the policy could not be read or\n"
	"has errors, or the output could not be written.\n";

/* ---- check -------------------------------------------------------------- */

int cmd_check(int argc, char **argv)
{
	enum { OPT_STRICT = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct rb_diags d = { 0 };
	struct rb_policy *p = NULL;
	const char *path = NULL;
	bool strict = false, json = false;
	size_t nerr, nwarn;
	int c, r, status = EXIT_YES;

	opt_reset();
	while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			status = file_operand("check", &path, optarg);
			if (status != EXIT_YES)
				return status;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			return show_help(help_check);
		default:
			return usage_error("check", "unknown option '%s'",
					   bad_option(argv, c));
		}
	}
	for (; optind < argc; optind++) { /* after "--" */
		status = file_operand("check", &path, argv[optind]);
		if (status != EXIT_YES)
			return status;
	}
	if (!path)
		return usage_error("check", "expected a policy FILE");

	r = load_any(path, &p, &d);
	if (r == 0)
		r = rb_policy_check(p, &d);
	if (r == -ENOMEM)
		fprintf(stderr, PROG ": %s: out of memory\n", path);
	count_problems(&d, &nerr, &nwarn);
	status = (d.errors || r == -ENOMEM || (strict && d.warnings)) ? EXIT_NO : EXIT_YES;
	if (json) {
		if (json_check(strcmp(path, "-") == 0 ? "<stdin>" : path, &d) != EXIT_YES)
			status = EXIT_TROUBLE;
		rb_policy_free(p);
		rb_diags_free(&d);
		return finish(status);
	}
	print_diags(&d);
	fprintf(stderr, "%s: %zu error%s, %zu warning%s%s\n",
		strcmp(path, "-") == 0 ? "<stdin>" : path, nerr,
		nerr == 1 ? "" : "s", nwarn, nwarn == 1 ? "" : "s",
		nerr < d.errors ? " (stopped there: there may be more)" : "");
	rb_policy_free(p);
	rb_diags_free(&d);
	return finish(status);
}

/* ---- explain ------------------------------------------------------------ */

int cmd_explain(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	struct rb_policy *p;
	const char *path = NULL;
	char *text = NULL;
	size_t len = 0;
	int c, r, status = EXIT_YES;

	opt_reset();
	while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		switch (c) {
		case 1:
			status = file_operand("explain", &path, optarg);
			if (status != EXIT_YES)
				return status;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			return show_help(help_explain);
		default:
			return usage_error("explain", "unknown option '%s'",
					   bad_option(argv, c));
		}
	}
	for (; optind < argc; optind++) { /* after "--" */
		status = file_operand("explain", &path, argv[optind]);
		if (status != EXIT_YES)
			return status;
	}
	if (!path)
		return usage_error("explain", "expected a policy FILE");

	if (json) {
		struct rb_diags d = { 0 };

		/* The parser's warnings go into the document; errors, when
		 * there is no policy to explain, to stderr as text. */
		p = NULL;
		if (load_any(path, &p, &d) < 0 || !p) {
			print_diags(&d);
			rb_diags_free(&d);
			return EXIT_TROUBLE;
		}
		status = json_explain(strcmp(path, "-") == 0 ? "<stdin>" : path, p, &d);
		rb_policy_free(p);
		rb_diags_free(&d);
		return status == EXIT_YES ? finish(status) : status;
	}
	p = load(path);
	if (!p)
		return EXIT_TROUBLE;
	r = rb_policy_explain(p, strcmp(path, "-") == 0 ? "<stdin>" : path, &text, &len);
	rb_policy_free(p);
	if (r < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(-r));
		return EXIT_TROUBLE;
	}
	fwrite(text, 1, len, stdout);
	free(text);
	return finish(EXIT_YES);
}
