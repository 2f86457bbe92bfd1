/* SPDX-License-Identifier: MIT */
/*
 * explain.c - a parsed policy written back as a policy, every default made
 * explicit and what is implicit said in comments; and policy equality, which
 * is how the tests show the text means the same as the original.
 *
 * Pure: the text goes to a memory buffer for the caller to print.  Every
 * word written is one the parser accepts (names were checked when they were
 * read, addresses are printed by inet_ntop()), and no line holds more than
 * RB_POLICY_MAX_VALUES values, so the output always parses again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_impl.h"

#define SOURCES_PER_LINE 8 /* 'source' lines add up */

static const char header_text[] =
	"#\n"
	"# How a socket request is decided: the first rule whose match lines all\n"
	"# fit the client (its uid, gid and supplementary groups, as the kernel\n"
	"# reports them) and that allows the requested family, protocol and type\n"
	"# decides.  If that rule does not allow the requested source address, the\n"
	"# request is denied; no later rule is tried.  No rule decides: deny.\n"
	"#\n"
	"# How an option request is decided: the first rule whose match lines fit\n"
	"# the client and that names the option allows it.  None: deny.\n"
	"#\n"
	"# Several values on one match line are alternatives; several match lines\n"
	"# must all fit.  User and group names are resolved when the policy is\n"
	"# loaded; the ids in the comments are what they resolved to here.\n";

/* NAME with anything but printable ASCII replaced, so a file name cannot
 * end the comment it is written in. */
static void put_sanitized(FILE *f, const char *name)
{
	for (size_t i = 0; name[i] && i < 200; i++) {
		unsigned char c = (unsigned char)name[i];

		fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
	}
}

/* The check's warnings about the rule on lines [FROM, TO), as comments. */
static void put_warnings(FILE *f, const struct rb_diags *d, unsigned from, unsigned to)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct rb_diag *g = &d->v[i];

		if (g->line >= from && g->line < to)
			fprintf(f, "\t# warning (line %u): %.*s\n", g->line,
				(int)sizeof(g->msg), g->msg);
	}
}

static void put_match(FILE *f, const struct rb_match *m)
{
	bool uid = m->kind == RB_MATCH_UID;

	if (!m->by_name) {
		fprintf(f, "\tmatch %s", uid ? "uid" : "gid");
		for (size_t i = 0; i < m->n; i++)
			fprintf(f, " %u", (unsigned)m->ids[i]);
		fputc('\n', f);
		return;
	}
	fprintf(f, "\tmatch %s", uid ? "user" : "group");
	for (size_t i = 0; i < m->nnames; i++)
		fprintf(f, " %s", m->names[i].name);
	fputs("  #", f);
	for (size_t i = 0; i < m->nnames; i++) {
		const struct rb_match_name *nm = &m->names[i];

		fprintf(f, "%s %s %s", i ? "," : "", uid ? "user" : "group", nm->name);
		if (nm->known)
			fprintf(f, " (%s %u)", uid ? "uid" : "gid", (unsigned)nm->id);
		else
			fputs(" (unknown: never matches)", f);
	}
	if (m->n == 0)
		fputs("; no name is known, so the rule never matches", f);
	fputc('\n', f);
}

static void put_sources(FILE *f, const struct rb_rule *r)
{
	if (r->source_any) {
		fprintf(f, "\tsource any%s\n", r->source_line ? "" :
			"  # the default: the rule has no 'source' line");
		return;
	}
	for (size_t i = 0; i < r->nsource; i++) {
		const struct rb_prefix *p = &r->source[i];
		char a[INET6_ADDRSTRLEN];

		if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "::"); /* cannot happen: family checked */
		if (i % SOURCES_PER_LINE == 0)
			fputs(i ? "\n\tsource" : "\tsource", f);
		fprintf(f, " %s/%u", a, p->len);
	}
	fputc('\n', f);
}

static void put_options(FILE *f, const struct rb_rule *r)
{
	if (!r->options) {
		fputs("\t# options: none\n", f);
		return;
	}
	fputs("\toptions", f);
	for (const struct rb_word *w = rb_options; w->name; w++)
		if (r->options & (unsigned)w->value)
			fprintf(f, " %s", w->name);
	fputc('\n', f);
}

static void put_rule(FILE *f, const struct rb_policy *p, size_t i,
		     const struct rb_diags *d)
{
	const struct rb_rule *r = &p->rules[i];
	unsigned next = i + 1 < p->nrules ? p->rules[i + 1].line : ~0u;

	fprintf(f, "\nrule %s {  # line %u\n", r->name, r->line);
	put_warnings(f, d, r->line, next);
	if (r->match_any)
		fputs("\tmatch any  # every client\n", f);
	for (size_t k = 0; k < r->nmatch; k++)
		put_match(f, &r->match[k]);
	for (size_t k = 0; k < r->nallow; k++) {
		const struct rb_allow *a = &r->allow[k];

		fprintf(f, "\tallow %s %s %s\n", rb_family_name(a->family),
			rb_protocol_name(a->protocol), rb_type_name(a->type));
	}
	put_sources(f, r);
	put_options(f, r);
	fputs("}\n", f);
}

int rb_policy_explain(const struct rb_policy *p, const char *origin, char **out,
		      size_t *len)
{
	struct rb_diags d = { 0 };
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!p)
		return -EINVAL;
	r = rb_policy_check(p, &d);
	if (r < 0)
		goto done;
	f = open_memstream(&buf, &n);
	if (!f) {
		r = -ENOMEM;
		goto done;
	}
	fputs("# rawbroker policy", f);
	if (origin) {
		fputs(" read from ", f);
		put_sanitized(f, origin);
	}
	fputs(", as rawbroker-policy explain shows it.\n", f);
	fputs(header_text, f);
	put_warnings(f, &d, 0, 1); /* not tied to a line */
	if (p->nrules == 0)
		fputs("\n# No rules: every request is denied.\n", f);
	for (size_t i = 0; i < p->nrules; i++)
		put_rule(f, p, i, &d);
	r = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		goto done;
	}
	*out = buf;
	if (len)
		*len = n;
done:
	rb_diags_free(&d);
	return r;
}

/* ---- equality ------------------------------------------------------------ */

static bool match_equal(const struct rb_match *a, const struct rb_match *b)
{
	return a->kind == b->kind && a->n == b->n &&
	       (a->n == 0 || memcmp(a->ids, b->ids, a->n * sizeof(*a->ids)) == 0);
}

static bool allow_equal(const struct rb_allow *a, const struct rb_allow *b)
{
	return a->family == b->family && a->protocol == b->protocol && a->type == b->type;
}

static bool prefix_equal(const struct rb_prefix *a, const struct rb_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static bool rule_equal(const struct rb_rule *a, const struct rb_rule *b)
{
	if (strcmp(a->name, b->name) != 0 || a->match_any != b->match_any ||
	    a->nmatch != b->nmatch || a->nallow != b->nallow ||
	    a->source_any != b->source_any || a->nsource != b->nsource ||
	    a->options != b->options)
		return false;
	for (size_t i = 0; i < a->nmatch; i++)
		if (!match_equal(&a->match[i], &b->match[i]))
			return false;
	for (size_t i = 0; i < a->nallow; i++)
		if (!allow_equal(&a->allow[i], &b->allow[i]))
			return false;
	for (size_t i = 0; i < a->nsource; i++)
		if (!prefix_equal(&a->source[i], &b->source[i]))
			return false;
	return true;
}

bool rb_policy_equal(const struct rb_policy *a, const struct rb_policy *b)
{
	if (!a || !b)
		return a == b;
	if (a->nrules != b->nrules)
		return false;
	for (size_t i = 0; i < a->nrules; i++)
		if (!rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}
