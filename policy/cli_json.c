/* SPDX-License-Identifier: MIT */
/*
 * cli_json.c - rawbroker-policy --json: check, explain and query as JSON.
 *
 * The schema is documented in rawbroker-policy(1), "JSON OUTPUT", and is
 * stable: each document names it ("schema": "rawbroker-policy/check/1");
 * fields may be added within a version, none is removed or changes meaning
 * without a new one.  Strings are ASCII: any other byte (a file name's) is
 * written as '?'.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "policy_impl.h"

/* S as a JSON string, printable ASCII only; NULL: null. */
static json_t *jstr(const char *s)
{
	char buf[1024];
	size_t i;

	if (!s)
		return json_null();
	for (i = 0; s[i] && i < sizeof(buf) - 1; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[i] = '\0';
	return json_string(buf);
}

static json_t *jaddr(int family, const void *addr)
{
	char a[INET6_ADDRSTRLEN];

	return jstr(inet_ntop(family, addr, a, sizeof(a)) ? a : "?");
}

static json_t *jprefixes(const struct rb_prefix *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		char s[INET6_ADDRSTRLEN + 8], x[INET6_ADDRSTRLEN];

		if (!inet_ntop(v[i].family, v[i].addr, x, sizeof(x)))
			snprintf(x, sizeof(x), "?");
		snprintf(s, sizeof(s), "%s/%u", x, v[i].len);
		json_array_append_new(a, jstr(s));
	}
	return a;
}

/* One diagnostic: {file, line, column, severity, message}. */
static json_t *jdiag(const struct rb_diags *d, const struct rb_diag *g)
{
	return json_pack("{s:o, s:i, s:i, s:s, s:o}", "file",
			 jstr(g->file ? g->file : d->file), "line", (int)g->line, "column",
			 (int)g->col, "severity",
			 g->severity == RB_DIAG_ERROR ? "error" : "warning", "message",
			 jstr(g->msg));
}

/* The diagnostics of D, notes left out, into a new array; with RULE, only
 * those on its lines [FROM, TO) of its file. */
static json_t *jdiags(const struct rb_diags *d, const struct rb_rule *rule, unsigned from,
		      unsigned to)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < d->n; i++) {
		const struct rb_diag *g = &d->v[i];

		if (g->note)
			continue;
		if (rule && ((g->file == NULL) != (rule->file == NULL) ||
			     (rule->file && strcmp(g->file, rule->file) != 0) ||
			     g->line < from || g->line >= to))
			continue;
		json_array_append_new(a, jdiag(d, g));
	}
	return a;
}

/* Write DOC to stdout and free it.  EXIT_YES, or EXIT_TROUBLE. */
static int emit(json_t *doc)
{
	int r;

	if (!doc) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_TROUBLE;
	}
	r = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (r != 0 || fputc('\n', stdout) == EOF)
		return EXIT_TROUBLE;
	return EXIT_YES;
}

int json_check(const char *file, const struct rb_diags *d)
{
	size_t e = 0, w = 0;
	bool stopped = false;

	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].note)
			stopped = true;
		else if (d->v[i].severity == RB_DIAG_ERROR)
			e++;
		else
			w++;
	}
	return emit(json_pack("{s:s, s:o, s:I, s:I, s:b, s:o}", "schema",
			      "rawbroker-policy/check/1", "file", jstr(file), "errors",
			      (json_int_t)e, "warnings", (json_int_t)w, "stopped", stopped,
			      "diagnostics", jdiags(d, NULL, 0, 0)));
}

static json_t *jmatch(const struct rb_rule *r)
{
	json_t *a;

	if (r->match_any)
		return json_string("any");
	a = json_array();
	for (size_t k = 0; a && k < r->nmatch; k++) {
		const struct rb_match *m = &r->match[k];
		json_t *ids = json_array(), *names = json_null();

		for (size_t i = 0; ids && i < m->n; i++)
			json_array_append_new(ids, json_integer(m->ids[i]));
		if (m->by_name) {
			names = json_array();
			for (size_t i = 0; names && i < m->nnames; i++)
				json_array_append_new(
					names, json_pack("{s:o, s:o}", "name",
							 jstr(m->names[i].name), "id",
							 m->names[i].known ?
								 json_integer(m->names[i].id) :
								 json_null()));
		}
		json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "kind",
						   m->kind == RB_MATCH_UID ? "uid" : "gid",
						   "ids", ids, "names", names));
	}
	return a;
}

static json_t *jtypes(const struct rb_icmp_types *t)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < 256; i++)
		if (rb_icmp_types_has(t, i))
			json_array_append_new(a, json_integer(i));
	return a;
}

static json_t *jrule(const struct rb_rule *r, const struct rb_diags *d, unsigned next)
{
	json_t *allow = json_array(), *opts = json_array(), *recv = json_object(),
	       *defs = json_object(), *risks = json_array(), *o;

	for (size_t k = 0; allow && k < r->nallow; k++)
		json_array_append_new(allow,
				      json_pack("{s:s, s:s, s:s}", "family",
						rb_family_name(r->allow[k].family), "protocol",
						rb_protocol_name(r->allow[k].protocol), "type",
						rb_type_name(r->allow[k].type)));
	for (const struct rb_word *w = rb_options; opts && w->name; w++)
		if (r->options & (unsigned)w->value)
			json_array_append_new(opts, json_string(w->name));
	for (const struct rb_word *w = rb_risks; risks && w->name; w++)
		if (r->accepted & RB_RISK_BIT(w->value))
			json_array_append_new(risks, json_string(w->name));
	if (recv && r->has_receive4)
		json_object_set_new(recv, "icmp", jtypes(&r->receive4));
	if (recv && r->has_receive6)
		json_object_set_new(recv, "icmpv6", jtypes(&r->receive6));
	if (defs && r->has_default4)
		json_object_set_new(defs, "inet", jaddr(AF_INET, r->default4));
	if (defs && r->has_default6)
		json_object_set_new(defs, "inet6", jaddr(AF_INET6, r->default6));
	o = json_pack("{s:o, s:o, s:i, s:o, s:o}", "name", jstr(r->name), "file",
		      jstr(r->file), "line", (int)r->line, "match", jmatch(r), "allow", allow);
	if (!o)
		return NULL;
	json_object_set_new(o, "source",
			    r->source_any ? json_string("any") : jprefixes(r->source, r->nsource));
	json_object_set_new(o, "destination", jprefixes(r->dest, r->ndest));
	json_object_set_new(o, "default_source", defs);
	json_object_set_new(o, "device", r->device[0] ? jstr(r->device) : json_null());
	json_object_set_new(o, "mark", r->has_mark ? json_integer(r->mark) : json_null());
	json_object_set_new(o, "receive", recv);
	json_object_set_new(o, "rcvbuf", json_integer(r->rcvbuf));
	json_object_set_new(o, "sndbuf", json_integer(r->sndbuf));
	json_object_set_new(o, "rate", json_integer(r->limits.rate));
	json_object_set_new(o, "burst", json_integer(r->limits.burst));
	json_object_set_new(o, "connections", json_integer(r->limits.connections));
	json_object_set_new(o, "options", opts);
	json_object_set_new(o, "hdrincl", json_boolean(r->hdrincl));
	json_object_set_new(o, "recverr", json_boolean(!rb_rule_denies_recverr(r)));
	json_object_set_new(o, "accept_risk", risks);
	json_object_set_new(o, "warnings", jdiags(d, r, r->line, next));
	return o;
}

static json_t *jglobal(const struct rb_policy *p)
{
	const struct rb_global *g = &p->global;
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", (unsigned)(g->mode & 07777));
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "listen",
		g->listen[0] ? jstr(g->listen) : json_null(), "socket_mode",
		g->has_mode ? json_string(mode) : json_null(), "socket_owner",
		g->has_owner ? json_integer(g->owner) : json_null(), "socket_group",
		g->has_group ? json_integer(g->group) : json_null(), "user",
		g->user[0] ? jstr(g->user) : json_null(), "max_connections",
		g->max_connections ? json_integer(g->max_connections) : json_null(),
		"request_timeout_ms",
		g->request_timeout_ms ? json_integer(g->request_timeout_ms) : json_null(),
		"idle_timeout_ms",
		g->idle_timeout_ms ? json_integer(g->idle_timeout_ms) : json_null(), "log",
		g->log == RB_LOG_STDERR ? json_string("stderr") :
		g->log == RB_LOG_SYSLOG ? json_string("syslog") : json_null(),
		"syslog_facility",
		g->log == RB_LOG_SYSLOG ? jstr(rb_syslog_facility_name(g->syslog_facility)) :
					  json_null(),
		"log_level", jstr(rb_log_level_name(g->log_level)));
}

int json_explain(const char *file, const struct rb_policy *p, struct rb_diags *parsed)
{
	struct rb_diags *dp = parsed, d = { 0 };
	json_t *rules, *doc;
	int r;

	if (!dp)
		dp = &d;
	r = rb_policy_check(p, dp);

	if (r < 0) {
		rb_diags_free(&d);
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(-r));
		return EXIT_TROUBLE;
	}
	rules = json_array();
	for (size_t i = 0; rules && i < p->nrules; i++) {
		const struct rb_rule *rr = &p->rules[i];
		unsigned next = i + 1 < p->nrules && p->rules[i + 1].file == rr->file ?
					p->rules[i + 1].line : ~0u;

		json_array_append_new(rules, jrule(rr, dp, next));
	}
	doc = json_pack("{s:s, s:o, s:o, s:o, s:o}", "schema", "rawbroker-policy/explain/1",
			"file", jstr(file), "broker", jglobal(p), "rules", rules, "warnings",
			jdiags(dp, NULL, 0, 0));
	rb_diags_free(&d);
	return emit(doc);
}

int json_query(const char *file, const struct rb_peer *peer, const struct rb_query *q,
	       const char *option, const struct rb_decision *dec, const char *rule_file)
{
	json_t *req, *groups = json_array(), *prep = json_null(), *lim = json_null(), *doc;
	const struct rb_prepare *pp = &dec->prep;

	for (size_t i = 0; groups && i < peer->ngroups; i++)
		json_array_append_new(groups, json_integer(peer->groups[i]));
	req = json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)peer->uid, "gid",
			(json_int_t)peer->gid, "groups", groups);
	if (req && option) {
		json_object_set_new(req, "option", json_string(option));
	} else if (req) {
		json_object_set_new(req, "family", json_string(rb_family_name(q->family)));
		json_object_set_new(req, "protocol",
				    json_string(rb_protocol_name(q->protocol)));
		json_object_set_new(req, "type", json_string(rb_type_name(q->type)));
		json_object_set_new(req, "source", q->has_source ?
							   jaddr(q->family, &q->source) :
							   json_null());
	}
	if (dec->verdict == RB_ALLOW && !option) {
		json_t *bind = json_null();

		if (q->has_source)
			bind = jaddr(q->family, &q->source);
		else if (pp->has_default_source)
			bind = jaddr(q->family, &pp->default_source);
		prep = json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:b, s:b}", "bind", bind,
				 "device", pp->device[0] ? jstr(pp->device) : json_null(),
				 "mark", pp->has_mark ? json_integer(pp->mark) : json_null(),
				 "receive", pp->has_receive ? jtypes(&pp->receive) : json_null(),
				 "rcvbuf", (json_int_t)pp->rcvbuf, "sndbuf",
				 (json_int_t)pp->sndbuf, "hdrincl", pp->hdrincl, "recverr",
				 !pp->deny_recverr);
		lim = json_pack("{s:I, s:I, s:I}", "rate", (json_int_t)dec->limits.rate,
				"burst", (json_int_t)dec->limits.burst, "connections",
				(json_int_t)dec->limits.connections);
	}
	doc = json_pack("{s:s, s:o, s:o, s:s, s:o, s:i, s:o, s:o, s:o}", "schema",
			"rawbroker-policy/query/1", "file", jstr(file), "request", req,
			"decision", dec->verdict == RB_ALLOW ? "allow" : "deny", "rule",
			jstr(dec->rule), "line", (int)dec->line, "reason", jstr(dec->reason),
			"prepare", prep, "limits", lim);
	if (doc)
		json_object_set_new(doc, "rule_file", jstr(rule_file));
	return emit(doc);
}
