/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the files of rawbroker-policy share (not part of the
 * policy library: these print, and return the CLI's exit statuses).
 */
#ifndef RAWBROKER_POLICY_CLI_H
#define RAWBROKER_POLICY_CLI_H

#include "policy.h"
#include "policy_impl.h" /* struct rb_word */

#define PROG "rawbroker-policy"

/* Exit statuses (rawbroker-policy(1), EXIT STATUS). */
enum {
	EXIT_YES = 0,
	EXIT_NO = 1,
	EXIT_USAGE = 2,
	EXIT_TROUBLE = 3,
};

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ID_MAX     4294967294u /* as in the policy: (uid_t)-1 is "no id" */
#define GROUPS_MAX 65536       /* the kernel's NGROUPS_MAX */

/* The commands, one file each (cli_check.c: check and explain; cli_query.c;
 * cli_export.c: seccomp and nft), and their help texts.  Each returns the
 * exit status. */
int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_seccomp(int argc, char **argv);
int cmd_nft(int argc, char **argv);
extern const char help_check[], help_explain[], help_query[], help_seccomp[], help_nft[];

/* ---- shared by the commands (cli.c) ---- */

/* A usage error: one line saying what, one saying where to look.
 * EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* STATUS, or EXIT_TROUBLE when stdout could not be written. */
int finish(int status);
int show_help(const char *text);
/* The problems D holds, without its notes ("too many errors"). */
void count_problems(const struct rb_diags *d, size_t *errors, size_t *warnings);
void print_diags(const struct rb_diags *d);
/* getopt_long() helpers: the option that getopt complained about; a
 * fresh scan. */
const char *bad_option(char **argv, int c);
void opt_reset(void);
/* A uid or gid 0..ID_MAX; N,N,... into a new array.  0 or -errno. */
int parse_id(const char *s, uint32_t *out);
int parse_groups(const char *s, gid_t **out, size_t *n);
/* A word of TABLE that a policy may use, or NULL; the words, for messages. */
const struct rb_word *find_word(const struct rb_word *table, const char *s);
void word_list(const struct rb_word *table, char *buf, size_t size);
/* The FILE operand of CMD.  EXIT_YES or a usage error. */
int file_operand(const char *cmd, const char **path, const char *arg);
/* Load PATH ("-": stdin) without printing; rb_policy_load()'s result. */
int load_any(const char *path, struct rb_policy **p, struct rb_diags *d);
/* Load PATH and print its diagnostics; NULL when it cannot be used. */
struct rb_policy *load(const char *path);

/* --json (cli_json.c): write the document to stdout.  EXIT_YES, or
 * EXIT_TROUBLE (out of memory, a failed write). */
int json_check(const char *file, const struct rb_diags *d);
/* PARSED: the parser's diagnostics (its warnings), to which the check's
 * are added; may be NULL. */
int json_explain(const char *file, const struct rb_policy *p, struct rb_diags *parsed);
/* Q NULL and OPTION set for an --option query; RULE_FILE: the drop-in of
 * the deciding rule, or NULL. */
int json_query(const char *file, const struct rb_peer *peer, const struct rb_query *q,
	       const char *option, const struct rb_decision *dec, const char *rule_file);

#endif /* RAWBROKER_POLICY_CLI_H */
