/* SPDX-License-Identifier: MIT */
/*
 * cli.c - rawbroker-policy: check, explain and query a rawbroker policy, and
 * export the seccomp profile its clients run under.
 *
 * An ordinary unprivileged program over the pure policy library: it reads
 * the file, resolves names with the system's databases as the broker would,
 * and prints.  Messages go to stderr, answers to stdout.  Exit status (also
 * in rawbroker-policy(1)):
 *   0  check: no errors (with --strict, no warnings); explain, seccomp:
 *      printed; query: allowed
 *   1  check: errors (an unreadable file is one), or warnings with
 *      --strict; query: denied
 *   2  usage error (seccomp: a --rule the policy does not have is one)
 *   3  explain, query, seccomp: the policy could not be read or has errors;
 *      seccomp: the --base profile could not be read or is not one, or the
 *      profile could not be built; any command: the output could not be
 *      written
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h> /* libbsd overlay: strtonum() */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "policy_impl.h" /* the language's words: rb_families, ... */
#include "cli_seccomp_merge.h" /* and "client_seccomp.h": not "seccomp.h",
				  which would hide libseccomp's <seccomp.h> */


#define ID_MAX     4294967294u /* as in the policy: (uid_t)-1 is "no id" */
#define GROUPS_MAX 65536       /* the kernel's NGROUPS_MAX */

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static int cmd_check(int argc, char **argv);
static int cmd_explain(int argc, char **argv);
static int cmd_query(int argc, char **argv);
static int cmd_seccomp(int argc, char **argv);
static int cmd_nft(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const char help_check[] =
	"Usage: " PROG " check [--strict] FILE\n"
	"\n"
	"Read the policy FILE as rawbrokerd would, and report its errors and\n"
	"warnings on stderr as FILE:LINE:COL: error|warning: MESSAGE, then a\n"
	"summary line.  Besides the parser's messages it warns about rules that\n"
	"can never match or are never reached, raw udp/tcp grants, and rules that\n"
	"let any local user send from any local address.\n"
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

static const char help_explain[] =
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

static const char help_query[] =
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

static const char help_seccomp[] =
	"Usage: " PROG " seccomp FILE [--rule NAME] --format pfc|oci [--base BASE]\n"
	"                        [-o OUT]\n"
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
	"  --rule NAME        the rule whose clients it is for (it must exist)\n"
	"  --format pfc       libseccomp's pseudo filter code, native arch only\n"
	"  --format oci       the JSON of podman --security-opt seccomp=FILE\n"
	"  --base BASE        oci: merge with the OCI profile BASE (at most 4 MiB)\n"
	"  -o, --output OUT   write to OUT instead of stdout\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 printed, 2 usage error (an unknown --rule is one), 3 the\n"
	"policy or BASE could not be read or has errors, the profile could not be\n"
	"built, or the output could not be written.\n";

static const char help_nft[] =
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

static const char help_help[] =
	"Usage: " PROG " help [COMMAND]\n"
	"\n"
	"Show the help for COMMAND, or the overview.\n";

static const char help_main[] =
	"Usage: " PROG " COMMAND [OPTION...] FILE ...\n"
	"       " PROG " --help | --version\n"
	"\n"
	"Check, explain and query a rawbroker policy file (rawbroker.conf(5)),\n"
	"and export the seccomp profile for its clients.\n"
	"\n"
	"Commands:\n"
	"  check [--strict] FILE     report errors and warnings\n"
	"  explain FILE              print the policy with every default explicit\n"
	"  query FILE --uid N ...    decide one request\n"
	"  seccomp FILE --format F   export the clients' seccomp profile\n"
	"  nft FILE                  print the egress ruleset (nftables)\n"
	"  help [COMMAND]            show the help for COMMAND\n"
	"\n"
	"  -h, --help                show this help\n"
	"  -V, --version             show the version\n"
	"\n"
	"Exit status: 0 success (query: allowed), 1 check found errors (query:\n"
	"denied), 2 usage error, 3 the policy could not be read (explain, query,\n"
	"seccomp) or the output could not be written.  See rawbroker-policy(1).\n";

static const struct command commands[] = {
	{ "check", cmd_check, help_check },
	{ "explain", cmd_explain, help_explain },
	{ "query", cmd_query, help_query },
	{ "seccomp", cmd_seccomp, help_seccomp },
	{ "nft", cmd_nft, help_nft },
	{ "help", cmd_help, help_help },
	{ NULL, NULL, NULL },
};

static const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* ---- output ------------------------------------------------------------- */

/* A usage error: one line saying what, one saying where to look. */
static int __attribute__((format(printf, 2, 3)))
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " help%s%s'.\n", cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

/* Flush stdout; a failed write (a full disk, a closed pipe) is EXIT_TROUBLE. */
static int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
		return EXIT_TROUBLE;
	}
	return status;
}

static int show_help(const char *text)
{
	fputs(text, stdout);
	return finish(EXIT_YES);
}

/* The problems D holds, without its notes ("too many errors"): the
 * errors and warnings a person has to fix. */
static void count_problems(const struct rb_diags *d, size_t *errors, size_t *warnings)
{
	*errors = *warnings = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].note)
			continue;
		if (d->v[i].severity == RB_DIAG_ERROR)
			++*errors;
		else
			++*warnings;
	}
}

static void print_diags(const struct rb_diags *d)
{
	char line[512];

	for (size_t i = 0; i < d->n; i++) {
		rb_diag_format(d, &d->v[i], line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
}

/* ---- options ------------------------------------------------------------ */

/*
 * getopt_long() in "return in order" mode (optstring starting with '-'):
 * options and operands may be mixed in any order, whatever POSIXLY_CORRECT
 * says, and operands come back as option 1.  It prints nothing itself
 * (opterr = 0, ':' for a missing argument): the messages name the command.
 */
static const char *bad_option(char **argv, int c)
{
	static char buf[64];

	if (c == ':' || c == '?') {
		/* a short option's letter; a long one's is in argv */
		if (optopt > 0 && optopt < 128 && optopt != ':' && optopt != '?') {
			snprintf(buf, sizeof(buf), "-%c", optopt);
			return buf;
		}
		return argv[optind - 1];
	}
	return "?";
}

static void opt_reset(void)
{
	optind = 0; /* glibc: also resets its internal state */
	opterr = 0;
}

/* A decimal id, 0..ID_MAX; strtonum() alone would take a sign or blanks. */
static int parse_id(const char *s, uint32_t *out)
{
	const char *errstr = NULL;
	long long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	v = strtonum(s, 0, ID_MAX, &errstr);
	if (errstr)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "N,N,..." into a new array; "" is no groups. */
static int parse_groups(const char *s, gid_t **out, size_t *n)
{
	size_t cap = 1;
	gid_t *v;
	char *copy, *tok, *save = NULL;

	*out = NULL;
	*n = 0;
	/* bound first; strtok_r() would skip empty fields, so refuse them */
	for (const char *c = s; *c; c++)
		cap += *c == ',';
	if (cap > GROUPS_MAX)
		return -1;
	if (*s && (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,")))
		return -1;
	v = calloc(cap, sizeof(*v));
	copy = strdup(s);
	if (!v || !copy) {
		free(v);
		free(copy);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t id;

		if (parse_id(tok, &id) < 0) {
			free(v);
			free(copy);
			return -1;
		}
		v[(*n)++] = (gid_t)id;
	}
	free(copy);
	*out = v;
	return 0;
}

/* A word of TABLE that a policy may use, or NULL. */
static const struct rb_word *find_word(const struct rb_word *table, const char *s)
{
	for (const struct rb_word *w = table; w->name; w++)
		if (w->supported && strcmp(w->name, s) == 0)
			return w;
	return NULL;
}

/* "inet, inet6" */
static void word_list(const struct rb_word *table, char *buf, size_t size)
{
	buf[0] = '\0';
	for (const struct rb_word *w = table; w->name; w++) {
		if (!w->supported)
			continue;
		if (buf[0])
			strlcat(buf, ", ", size);
		strlcat(buf, w->name, size);
	}
}

/* The FILE operand of check and explain.  EXIT_YES or a usage error. */
static int file_operand(const char *cmd, const char **path, const char *arg)
{
	if (*path)
		return usage_error(cmd, "unexpected argument '%s'", arg);
	*path = arg;
	return EXIT_YES;
}

/* ---- loading ------------------------------------------------------------ */

/* Read the policy from standard input ("-"), bounded like a file, and
 * parse it as "<stdin>" (no drop-ins). */
static int load_stdin(struct rb_policy **p, struct rb_diags *d)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = malloc(cap);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k;

		if (n == cap) {
			char *nb;

			if (cap > RB_POLICY_MAX_SIZE)
				break; /* rb_policy_parse() refuses it */
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		k = read(STDIN_FILENO, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			strlcpy(d->file, "<stdin>", sizeof(d->file));
			rb_diags_add(d, RB_DIAG_ERROR, 0, 0, "cannot read: %s", strerror(errno));
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (r == 0)
		r = rb_policy_parse(buf, n, "<stdin>", NULL, p, d);
	free(buf);
	return r;
}

/* rb_policy_load(), or load_stdin() for "-". */
static int load_any(const char *path, struct rb_policy **p, struct rb_diags *d)
{
	if (strcmp(path, "-") == 0)
		return load_stdin(p, d);
	return rb_policy_load(path, NULL, p, d);
}

/* Load PATH with the system's name databases and print its diagnostics.
 * NULL (diagnostics printed) when it cannot be used. */
static struct rb_policy *load(const char *path)
{
	struct rb_diags d = { 0 };
	struct rb_policy *p = NULL;
	int r = load_any(path, &p, &d);

	print_diags(&d);
	if (r == -ENOMEM && d.n == 0)
		fprintf(stderr, PROG ": %s: out of memory\n", path);
	rb_diags_free(&d);
	return p;
}

/* ---- check -------------------------------------------------------------- */

static int cmd_check(int argc, char **argv)
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

static int cmd_explain(int argc, char **argv)
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

static void print_decision(const struct rb_decision *dec)
{
	printf("decision: %s\n", dec->verdict == RB_ALLOW ? "allow" : "deny");
	if (dec->rule)
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

static int cmd_query(int argc, char **argv)
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
		if (json_query(file, &peer, opt ? NULL : &q, opt ? opt->name : NULL, &dec) !=
		    EXIT_YES)
			status = EXIT_TROUBLE;
		else
			status = finish(dec.verdict == RB_ALLOW ? EXIT_YES : EXIT_NO);
		goto out;
	}
	if (opt) {
		rb_policy_decide_option(p, &peer, (unsigned)opt->value, &dec);
		print_decision(&dec);
		if (dec.verdict == RB_ALLOW)
			printf("sets: setsockopt(fd, IPPROTO_IPV6, %s, ...) on the client's "
			       "own IPv6 socket, for headers of padding options only\n",
			       opt->value == RB_OPT_IPV6_HOPOPTS ? "IPV6_HOPOPTS"
								 : "IPV6_DSTOPTS");
	} else {
		rb_policy_decide(p, &peer, &q, &dec);
		print_decision(&dec);
		if (dec.verdict == RB_ALLOW)
			print_preparation(&q, &dec);
	}
	status = finish(dec.verdict == RB_ALLOW ? EXIT_YES : EXIT_NO);
out:
	rb_policy_free(p);
	free(a.groups);
	return status;
}

/* ---- seccomp ------------------------------------------------------------ */

static int cmd_seccomp(int argc, char **argv)
{
	enum { OPT_RULE = 256, OPT_FORMAT, OPT_BASE };
	static const struct option opts[] = {
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL, *rule = NULL, *format = NULL, *output = NULL, *base = NULL;
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

	p = load(path);
	if (!p)
		return EXIT_TROUBLE;
	/* Without --rule: the default confinement, everything denied. */
	if (rb_policy_rule_confinement(p, rule, &conf) < 0) {
		status = usage_error("seccomp", "%s has no rule '%s'", path, rule);
		rb_policy_free(p);
		return status;
	}
	rb_policy_free(p);

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
	if (b)
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

static int cmd_nft(int argc, char **argv)
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

/* ---- help and main ------------------------------------------------------ */

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2)
		return show_help(help_main);
	if (argc > 2)
		return usage_error("help", "unexpected argument '%s'", argv[2]);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return show_help(help_help);
	c = find_command(argv[1]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	return show_help(c->help);
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2)
		return usage_error(NULL, "expected a command (check, explain, query, seccomp, nft)");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return show_help(help_main);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf(PROG " " RB_VERSION "\n");
		return finish(EXIT_YES);
	}
	c = find_command(argv[1]);
	if (!c) {
		if (argv[1][0] == '-')
			return usage_error(NULL, "unknown option '%s'", argv[1]);
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	}
	return c->run(argc - 1, argv + 1);
}
