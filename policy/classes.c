/* SPDX-License-Identifier: MIT */
/*
 * classes.c - what sockets a policy can ever have made: each distinct
 * (family, type, protocol, mark) of its rules' allow lines.  The broker
 * gives this table to its socket maker once, at start.
 */
#include <errno.h>
#include <string.h>

#include "policy_impl.h"

int rb_policy_classes(const struct rb_policy *p, struct rb_class *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; p && i < p->nrules; i++) {
		const struct rb_rule *r = &p->rules[i];

		for (size_t a = 0; a < r->nallow; a++) {
			struct rb_class c = {
				.family = r->allow[a].family,
				.type = r->allow[a].type,
				.protocol = r->allow[a].protocol,
				.has_mark = r->has_mark,
				.mark = r->has_mark ? r->mark : 0,
			};
			size_t k;

			for (k = 0; k < n; k++)
				if (out[k].family == c.family && out[k].type == c.type &&
				    out[k].protocol == c.protocol &&
				    out[k].has_mark == c.has_mark && out[k].mark == c.mark)
					break;
			if (k < n)
				continue;
			if (n == cap)
				return -ENOSPC;
			out[n++] = c;
		}
	}
	return (int)n;
}
