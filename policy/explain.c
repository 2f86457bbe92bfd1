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

/* The header of the compact form. */
static const char compact_text[] =
	"#\n"
	"# In its compact form: written out in full, with a comment for every\n"
	"# default, it would be over the 1 MiB a policy file may have.  So each\n"
	"# rule shows only what it sets; what it leaves out is the default of\n"
	"# rawbroker.conf(5), and receive types are numbers.  The first rule whose\n"
	"# match lines all fit the client and that allows the request decides;\n"
	"# no rule decides: deny.  Warnings: rawbroker-policy check.\n";

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

/* The check's warnings about the rule on lines [FROM, TO) of FILE (NULL:
 * the main file), as comments. */
static void put_warnings(FILE *f, const struct rb_diags *d, const char *file,
			 unsigned from, unsigned to)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct rb_diag *g = &d->v[i];

		if ((g->file == NULL) != (file == NULL) ||
		    (file && strcmp(g->file, file) != 0))
			continue;
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

static void put_destinations(FILE *f, const struct rb_rule *r)
{
	for (size_t i = 0; i < r->ndest; i++) {
		const struct rb_prefix *p = &r->dest[i];
		char a[INET6_ADDRSTRLEN];

		if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "::"); /* cannot happen: family checked */
		if (i % SOURCES_PER_LINE == 0)
			fputs(i ? "\n\tdestination" : "\tdestination", f);
		fprintf(f, " %s/%u", a, p->len);
	}
	if (r->ndest)
		fputs("  # egress: rawbroker-policy nft, by the mark\n", f);
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

/* 'accept-risk' with the rule's words, in rb_risks[] order; nothing when
 * it accepts none.  COMMENT: after the words. */
static void put_accepted(FILE *f, const struct rb_rule *r, const char *indent,
			 const char *comment)
{
	if (!r->accepted)
		return;
	fprintf(f, "%saccept-risk", indent);
	for (const struct rb_word *w = rb_risks; w->name; w++)
		if (r->accepted & RB_RISK_BIT(w->value))
			fprintf(f, " %s", w->name);
	fprintf(f, "%s\n", comment);
}

static void put_addr(FILE *f, int family, const uint8_t *addr)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), family == AF_INET ? "0.0.0.0" : "::");
	fprintf(f, " %s", a);
}

static void put_receive(FILE *f, int protocol, bool has, const struct rb_icmp_types *t)
{
	const char *proto = protocol == IPPROTO_ICMP ? "icmp" : "icmpv6";

	if (!has) {
		fprintf(f, "\t# receive %s: no filter, the socket sees every %s message "
			"of the namespace\n", proto, protocol == IPPROTO_ICMP ? "ICMP" :
			"ICMPv6");
		return;
	}
	fprintf(f, "\treceive %s", proto);
	for (unsigned type = 0; type < 256; type++) {
		const char *name = rb_icmp_type_name(protocol, type);

		if (!rb_icmp_types_has(t, type))
			continue;
		if (name)
			fprintf(f, " %s", name);
		else
			fprintf(f, " %u", type);
	}
	fputs("  # lock: a filter the client cannot remove\n", f);
}

static void put_bufsize(FILE *f, const char *kw, uint32_t v)
{
	if (v)
		fprintf(f, "\t%s %u  # default: the client may change it; the kernel "
			"caps it\n", kw, (unsigned)v);
	else
		fprintf(f, "\t# %s: the kernel's default\n", kw);
}

/* How the rule prepares a granted socket, and its limits: every default
 * written out, as a statement when the language has one, else a comment. */
static void put_prepare(FILE *f, const struct rb_rule *r)
{
	if (r->has_default4 || r->has_default6) {
		fputs("\tdefault-source", f);
		if (r->has_default4)
			put_addr(f, AF_INET, r->default4);
		if (r->has_default6)
			put_addr(f, AF_INET6, r->default6);
		fputs("  # bound when the client names no source\n", f);
	} else {
		fputs("\t# default-source: none, the socket is not bound unless the "
		      "client names a source\n", f);
	}
	if (r->device[0])
		fprintf(f, "\tdevice %s  # lock: SO_BINDTODEVICE\n", r->device);
	else
		fputs("\t# device: none, the socket is not pinned to a device\n", f);
	if (r->has_mark)
		fprintf(f, "\tmark 0x%x  # lock: SO_MARK\n", (unsigned)r->mark);
	else
		fputs("\t# mark: none\n", f);
	put_receive(f, IPPROTO_ICMP, r->has_receive4, &r->receive4);
	put_receive(f, IPPROTO_ICMPV6, r->has_receive6, &r->receive6);
	put_bufsize(f, "rcvbuf", r->rcvbuf);
	put_bufsize(f, "sndbuf", r->sndbuf);
	if (r->limits.rate)
		fprintf(f, "\trate %u/s burst %u%s\n", (unsigned)r->limits.rate,
			(unsigned)r->limits.burst, r->rate_line ? "" : "  # the default");
	else
		fputs("\trate unlimited\n", f);
	if (r->limits.connections)
		fprintf(f, "\tconnections %u%s\n", (unsigned)r->limits.connections,
			r->connections_line ? "" : "  # the default");
	else
		fputs("\tconnections unlimited\n", f);
}

static void put_rule(FILE *f, const struct rb_policy *p, size_t i,
		     const struct rb_diags *d)
{
	const struct rb_rule *r = &p->rules[i];
	unsigned next = i + 1 < p->nrules && p->rules[i + 1].file == r->file ?
				p->rules[i + 1].line : ~0u;

	fprintf(f, "\nrule %s {  # line %u", r->name, r->line);
	if (r->file) {
		fputs(" of ", f);
		put_sanitized(f, r->file);
	}
	fputc('\n', f);
	put_warnings(f, d, r->file, r->line, next);
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
	put_destinations(f, r);
	put_prepare(f, r);
	put_options(f, r);
	fprintf(f, "\thdrincl %s  # client confinement%s\n", r->hdrincl ? "allow" : "deny",
		r->hdrincl_line ? "" : "; the default");
	/* Unwritten, the default stays a comment: it follows 'receive'. */
	if (r->recverr_line)
		fprintf(f, "\trecverr %s  # client confinement\n",
			r->recverr ? "allow" : "deny");
	else if (r->has_receive4 || r->has_receive6)
		fputs("\t# recverr deny: client confinement, the default with 'receive'\n", f);
	put_accepted(f, r, "\t", "  # on purpose: check does not warn about these");
	fputs("}\n", f);
}

/*
 * The compact form of rule I, for a policy whose full explanation would be
 * over RB_POLICY_MAX_SIZE: only what the rule sets, as statements, no
 * comments, receive types as numbers.  It reads back as the same rule: what
 * is left out is the default again.
 */
/* KW PREFIX... on one line, a full-length prefix as a bare address (as
 * short as it can be written). */
static void put_prefixes_compact(FILE *f, const char *kw, const struct rb_prefix *v,
				 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];

		if (i % RB_POLICY_MAX_VALUES == 0) /* the most one line may hold */
			fprintf(f, "%s%s", i ? "\n" : "", kw);
		if (!inet_ntop(v[i].family, v[i].addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "::"); /* cannot happen: family checked */
		if (v[i].len == (v[i].family == AF_INET ? 32u : 128u))
			fprintf(f, " %s", a);
		else
			fprintf(f, " %s/%u", a, v[i].len);
	}
	if (n)
		fputc('\n', f);
}

/* KW SIZE in the largest unit that is exact. */
static void put_size_compact(FILE *f, const char *kw, uint32_t v)
{
	if (!v)
		return;
	if (v % (1024 * 1024) == 0)
		fprintf(f, "%s %um\n", kw, (unsigned)(v / (1024 * 1024)));
	else if (v % 1024 == 0)
		fprintf(f, "%s %uk\n", kw, (unsigned)(v / 1024));
	else
		fprintf(f, "%s %u\n", kw, (unsigned)v);
}

static void put_rule_compact(FILE *f, const struct rb_policy *p, size_t i)
{
	const struct rb_rule *r = &p->rules[i];

	fprintf(f, "rule %s {\n", r->name);
	if (r->match_any)
		fputs("match any\n", f);
	for (size_t k = 0; k < r->nmatch; k++) {
		const struct rb_match *m = &r->match[k];
		bool uid = m->kind == RB_MATCH_UID;

		if (m->by_name) {
			fprintf(f, "match %s", uid ? "user" : "group");
			for (size_t j = 0; j < m->nnames; j++)
				fprintf(f, " %s", m->names[j].name);
		} else {
			fprintf(f, "match %s", uid ? "uid" : "gid");
			for (size_t j = 0; j < m->n; j++)
				fprintf(f, " %u", (unsigned)m->ids[j]);
		}
		fputc('\n', f);
	}
	for (size_t k = 0; k < r->nallow; k++) {
		fprintf(f, "allow %s %s", rb_family_name(r->allow[k].family),
			rb_protocol_name(r->allow[k].protocol));
		if (r->allow[k].type != SOCK_RAW) /* raw: the default */
			fprintf(f, " %s", rb_type_name(r->allow[k].type));
		fputc('\n', f);
	}
	put_prefixes_compact(f, "source", r->source_any ? NULL : r->source,
			     r->source_any ? 0 : r->nsource);
	put_prefixes_compact(f, "destination", r->dest, r->ndest);
	if (r->has_default4 || r->has_default6) {
		fputs("default-source", f);
		if (r->has_default4)
			put_addr(f, AF_INET, r->default4);
		if (r->has_default6)
			put_addr(f, AF_INET6, r->default6);
		fputc('\n', f);
	}
	if (r->device[0])
		fprintf(f, "device %s\n", r->device);
	if (r->has_mark)
		fprintf(f, "mark %u\n", (unsigned)r->mark);
	for (int v = 0; v < 2; v++) {
		const struct rb_icmp_types *t = v ? &r->receive6 : &r->receive4;

		if (!(v ? r->has_receive6 : r->has_receive4))
			continue;
		fprintf(f, "receive %s", v ? "icmpv6" : "icmp");
		for (unsigned type = 0; type < 256; type++)
			if (rb_icmp_types_has(t, type))
				fprintf(f, " %u", type);
		fputc('\n', f);
	}
	put_size_compact(f, "rcvbuf", r->rcvbuf);
	put_size_compact(f, "sndbuf", r->sndbuf);
	if (r->limits.rate != RB_DEFAULT_RATE || r->limits.burst != RB_DEFAULT_BURST) {
		if (r->limits.rate && r->limits.burst == r->limits.rate)
			fprintf(f, "rate %u/s\n", (unsigned)r->limits.rate);
		else if (r->limits.rate)
			fprintf(f, "rate %u/s burst %u\n", (unsigned)r->limits.rate,
				(unsigned)r->limits.burst);
		else
			fputs("rate unlimited\n", f);
	}
	if (r->limits.connections != RB_DEFAULT_CONNECTIONS) {
		if (r->limits.connections)
			fprintf(f, "connections %u\n", (unsigned)r->limits.connections);
		else
			fputs("connections unlimited\n", f);
	}
	if (r->options) {
		fputs("options", f);
		for (const struct rb_word *w = rb_options; w->name; w++)
			if (r->options & (unsigned)w->value)
				fprintf(f, " %s", w->name);
		fputc('\n', f);
	}
	if (r->hdrincl)
		fputs("hdrincl allow\n", f);
	if (r->recverr_line)
		fprintf(f, "recverr %s\n", r->recverr ? "allow" : "deny");
	put_accepted(f, r, "", "");
	fputs("}\n", f);
}

/* In the largest unit that is exact. */
static void put_duration(FILE *f, const char *kw, uint32_t ms)
{
	if (ms % 60000 == 0)
		fprintf(f, "\t%s %um\n", kw, (unsigned)(ms / 60000));
	else if (ms % 1000 == 0)
		fprintf(f, "\t%s %us\n", kw, (unsigned)(ms / 1000));
	else
		fprintf(f, "\t%s %ums\n", kw, (unsigned)ms);
}

/* The broker block: what the file sets as statements, what it leaves to
 * the command line or the built-in default as comments. */
static void put_global(FILE *f, const struct rb_policy *p)
{
	const struct rb_global *g = &p->global;
	const char *unset = "not set: the command line or the built-in default";

	fputs("\nbroker {", f);
	if (p->global_line)
		fprintf(f, "  # line %u", p->global_line);
	fputs("\n", f);
	if (g->listen[0])
		fprintf(f, "\tlisten %s\n", g->listen);
	else
		fprintf(f, "\t# listen: %s (/run/rawbroker/rawbroker.sock)\n", unset);
	if (g->has_mode)
		fprintf(f, "\tsocket-mode 0%o\n", (unsigned)g->mode);
	else
		fprintf(f, "\t# socket-mode: %s (0666)\n", unset);
	if (g->has_owner)
		fprintf(f, "\tsocket-owner %u\n", (unsigned)g->owner);
	else
		fprintf(f, "\t# socket-owner: %s (the user that starts the broker)\n", unset);
	if (g->has_group)
		fprintf(f, "\tsocket-group %u\n", (unsigned)g->group);
	else
		fprintf(f, "\t# socket-group: %s (unchanged)\n", unset);
	if (g->user[0])
		fprintf(f, "\tuser %s\n", g->user);
	else
		fprintf(f, "\t# user: %s (rawbroker)\n", unset);
	if (g->max_connections)
		fprintf(f, "\tmax-connections %u\n", (unsigned)g->max_connections);
	else
		fprintf(f, "\t# max-connections: %s (1024)\n", unset);
	if (g->request_timeout_ms)
		put_duration(f, "request-timeout", g->request_timeout_ms);
	else
		fprintf(f, "\t# request-timeout: %s (5s)\n", unset);
	if (g->idle_timeout_ms)
		put_duration(f, "idle-timeout", g->idle_timeout_ms);
	else
		fprintf(f, "\t# idle-timeout: %s (5m)\n", unset);
	if (g->log == RB_LOG_STDERR)
		fputs("\tlog stderr\n", f);
	else if (g->log == RB_LOG_SYSLOG)
		fprintf(f, "\tlog syslog %s\n", rb_syslog_facility_name(g->syslog_facility));
	else
		fprintf(f, "\t# log: %s (stderr)\n", unset);
	if (rb_log_level_name(g->log_level))
		fprintf(f, "\tlog-level %s\n", rb_log_level_name(g->log_level));
	else
		fprintf(f, "\t# log-level: %s (info)\n", unset);
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
	for (int compact = 0; compact < 2; compact++) {
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
		if (compact)
			fputs(compact_text, f);
		else
			fputs(header_text, f);
		put_warnings(f, &d, NULL, 0, 1); /* not tied to a line */
		if (p->nrules == 0)
			fputs("\n# No rules: every request is denied.\n", f);
		put_global(f, p);
		for (size_t i = 0; i < p->nrules; i++) {
			if (compact)
				put_rule_compact(f, p, i);
			else
				put_rule(f, p, i, &d);
		}
		r = ferror(f) ? -ENOMEM : 0;
		if (fclose(f) != 0)
			r = -ENOMEM;
		if (r < 0) {
			free(buf);
			goto done;
		}
		/* Over the limit the broker reads: the compact form instead. */
		if (compact || n <= RB_POLICY_MAX_SIZE)
			break;
		free(buf);
		buf = NULL;
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
	    a->options != b->options || strcmp(a->device, b->device) != 0 ||
	    a->has_mark != b->has_mark || a->mark != b->mark ||
	    a->has_receive4 != b->has_receive4 || a->has_receive6 != b->has_receive6 ||
	    (a->has_receive4 && memcmp(&a->receive4, &b->receive4, sizeof(a->receive4))) ||
	    (a->has_receive6 && memcmp(&a->receive6, &b->receive6, sizeof(a->receive6))) ||
	    a->has_default4 != b->has_default4 || a->has_default6 != b->has_default6 ||
	    (a->has_default4 && memcmp(a->default4, b->default4, 4)) ||
	    (a->has_default6 && memcmp(a->default6, b->default6, 16)) ||
	    a->rcvbuf != b->rcvbuf || a->sndbuf != b->sndbuf || a->hdrincl != b->hdrincl ||
	    a->limits.rate != b->limits.rate || a->limits.burst != b->limits.burst ||
	    a->limits.connections != b->limits.connections || a->accepted != b->accepted)
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
	if (a->ndest != b->ndest || rb_rule_denies_recverr(a) != rb_rule_denies_recverr(b))
		return false;
	for (size_t i = 0; i < a->ndest; i++)
		if (!prefix_equal(&a->dest[i], &b->dest[i]))
			return false;
	return true;
}

static bool global_equal(const struct rb_global *a, const struct rb_global *b)
{
	return strcmp(a->listen, b->listen) == 0 && a->has_mode == b->has_mode &&
	       a->mode == b->mode && a->has_owner == b->has_owner && a->owner == b->owner &&
	       a->has_group == b->has_group && a->group == b->group &&
	       strcmp(a->user, b->user) == 0 && a->max_connections == b->max_connections &&
	       a->request_timeout_ms == b->request_timeout_ms &&
	       a->idle_timeout_ms == b->idle_timeout_ms && a->log == b->log &&
	       (a->log != RB_LOG_SYSLOG || a->syslog_facility == b->syslog_facility) &&
	       a->log_level == b->log_level;
}

bool rb_policy_equal(const struct rb_policy *a, const struct rb_policy *b)
{
	if (!a || !b)
		return a == b;
	if (a->nrules != b->nrules || !global_equal(&a->global, &b->global))
		return false;
	for (size_t i = 0; i < a->nrules; i++)
		if (!rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}
