/* SPDX-License-Identifier: MIT */
/* options.c - see options.h.  Runs once, at start, on the command line. */
#include "options.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A name the system does not know, remembered so the message can say
 * "no such user" rather than the block's wording. */
struct seen {
	bool missing_user, missing_group;
};

static int user_seen(const char *name, uid_t *uid, void *ctx)
{
	int r = rb_resolver_system.user(name, uid, rb_resolver_system.ctx);

	if (r == -ENOENT)
		((struct seen *)ctx)->missing_user = true;
	return r;
}

static int group_seen(const char *name, gid_t *gid, void *ctx)
{
	int r = rb_resolver_system.group(name, gid, rb_resolver_system.ctx);

	if (r == -ENOENT)
		((struct seen *)ctx)->missing_group = true;
	return r;
}

/* One word of the line: anything that would change how the line splits
 * (or open a comment, block or quote) is refused before parsing. */
static const char *word_invalid(const char *v)
{
	if (!v[0])
		return "empty";
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c <= ' ' || *c == 0x7f || strchr("#{}\"'\\", *c))
			return "expected one word, without blanks, quotes, braces or '#'";
	return NULL;
}

int option_as_block(const char *keyword, const char *value, const char *value2,
		    struct rb_global *g, char *why, size_t why_size)
{
	struct seen seen = { 0 };
	const struct rb_resolver res = { .user = user_seen, .group = group_seen, .ctx = &seen };
	struct rb_diags d = { 0 };
	struct rb_policy *p = NULL;
	char text[512];
	const char *bad = word_invalid(value);
	int n, r;

	if (!bad && value2)
		bad = word_invalid(value2);
	if (bad) {
		snprintf(why, why_size, "%s", bad);
		return -EINVAL;
	}
	n = snprintf(text, sizeof(text), "broker {\n    %s %s%s%s\n}\n", keyword, value,
		     value2 ? " " : "", value2 ? value2 : "");
	if (n < 0 || (size_t)n >= sizeof(text)) {
		snprintf(why, why_size, "too long");
		return -EINVAL;
	}
	snprintf(d.file, sizeof(d.file), "command line");
	r = rb_policy_parse(text, (size_t)n, "command line", &res, &p, &d);
	if (r == 0) {
		*g = *rb_policy_global(p);
	} else if (seen.missing_user || seen.missing_group) {
		snprintf(why, why_size, "no such %s", seen.missing_user ? "user" : "group");
		r = -ENOENT;
	} else {
		const char *msg = "invalid";

		for (size_t i = 0; i < d.n; i++)
			if (d.v[i].severity == RB_DIAG_ERROR) {
				msg = d.v[i].msg;
				break;
			}
		snprintf(why, why_size, "%s", msg);
		r = r == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	rb_policy_free(p);
	rb_diags_free(&d);
	return r;
}
