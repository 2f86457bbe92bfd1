/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the files of rawbroker-policy share (not part of the
 * policy library: these print, and return the CLI's exit statuses).
 */
#ifndef RAWBROKER_POLICY_CLI_H
#define RAWBROKER_POLICY_CLI_H

#include "policy.h"

#define PROG "rawbroker-policy"

/* Exit statuses (rawbroker-policy(1), EXIT STATUS). */
enum {
	EXIT_YES = 0,
	EXIT_NO = 1,
	EXIT_USAGE = 2,
	EXIT_TROUBLE = 3,
};

/* --json (cli_json.c): write the document to stdout.  EXIT_YES, or
 * EXIT_TROUBLE (out of memory, a failed write). */
int json_check(const char *file, const struct rb_diags *d);
/* PARSED: the parser's diagnostics (its warnings), to which the check's
 * are added; may be NULL. */
int json_explain(const char *file, const struct rb_policy *p, struct rb_diags *parsed);
/* Q NULL and OPTION set for an --option query. */
int json_query(const char *file, const struct rb_peer *peer, const struct rb_query *q,
	       const char *option, const struct rb_decision *dec);

#endif /* RAWBROKER_POLICY_CLI_H */
