/* SPDX-License-Identifier: MIT */
/*
 * options.h - command-line values checked by the one validator that also
 * checks the policy's 'broker { }' block: the policy parser.  A value
 * given as --request-timeout 5s is parsed as the block line
 * "request-timeout 5s", so ranges (timeouts, connections), syslog
 * facilities, absolute paths, modes and names cannot differ between the
 * two.
 */
#ifndef RAWBROKER_OPTIONS_H
#define RAWBROKER_OPTIONS_H

#include <stddef.h>

#include "policy.h"

/*
 * Parse "KEYWORD VALUE [VALUE2]" as a line of a broker block into *G.
 * Returns 0; -EINVAL with the parser's message in WHY (WHY_SIZE bytes);
 * -ENOENT for a user or group name that does not exist (WHY: "no such
 * user" / "no such group"); -ENOMEM.  VALUE must be one word (no blanks,
 * quotes, braces or '#').
 */
int option_as_block(const char *keyword, const char *value, const char *value2,
		    struct rb_global *g, char *why, size_t why_size);

#endif /* RAWBROKER_OPTIONS_H */
