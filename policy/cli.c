/* SPDX-License-Identifier: MIT */
/*
 * cli.c - rawbroker-policy: check, explain and query a rawbroker policy, and
 * export the seccomp profile its clients run under and its egress ruleset.
 * This file: main, help, and what the commands share; each command lives
 * in its own file (cli_check.c, cli_query.c, cli_export.c; --json in
 * cli_json.c).
 *
 * An ordinary unprivileged program over the pure policy library: it reads
 * the file, resolves names with the system's databases as the broker would,
 * and prints.  Messages go to stderr, answers to stdout.  Exit status (also
 * in rawbroker-policy(1)):
 *   0  check: no errors (with --strict, no warnings); explain, seccomp,
 *      nft: printed; query: allowed
 *   1  check: errors (an unreadable file is one), or warnings with
 *      --strict; query: denied
 *   2  usage error (seccomp: a --rule the policy does not have is one)
 *   3  explain, query, seccomp, nft: the policy could not be read or has
 *      errors; nft: a device name it cannot quote;
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

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static int cmd_help(int argc, char **argv);

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
int __attribute__((format(printf, 2, 3)))
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
int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
		return EXIT_TROUBLE;
	}
	return status;
}

int show_help(const char *text)
{
	fputs(text, stdout);
	return finish(EXIT_YES);
}

/* The problems D holds, without its notes ("too many errors"): the
 * errors and warnings a person has to fix. */
void count_problems(const struct rb_diags *d, size_t *errors, size_t *warnings)
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

void print_diags(const struct rb_diags *d)
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
const char *bad_option(char **argv, int c)
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

void opt_reset(void)
{
	optind = 0; /* glibc: also resets its internal state */
	opterr = 0;
}

/* A decimal id, 0..ID_MAX; strtonum() alone would take a sign or blanks. */
int parse_id(const char *s, uint32_t *out)
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
int parse_groups(const char *s, gid_t **out, size_t *n)
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
const struct rb_word *find_word(const struct rb_word *table, const char *s)
{
	for (const struct rb_word *w = table; w->name; w++)
		if (w->supported && strcmp(w->name, s) == 0)
			return w;
	return NULL;
}

/* "inet, inet6" */
void word_list(const struct rb_word *table, char *buf, size_t size)
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
int file_operand(const char *cmd, const char **path, const char *arg)
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
int load_any(const char *path, struct rb_policy **p, struct rb_diags *d)
{
	if (strcmp(path, "-") == 0)
		return load_stdin(p, d);
	return rb_policy_load(path, NULL, p, d);
}

/* Load PATH with the system's name databases and print its diagnostics.
 * NULL (diagnostics printed) when it cannot be used. */
struct rb_policy *load(const char *path)
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
