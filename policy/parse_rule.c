/* SPDX-License-Identifier: MIT */
/*
 * parse_rule.c - the keyword tables, and the statements that say who a rule
 * is for and what it allows: rule, match, allow, options, source and
 * destination; and accept-risk, which says which of the check's warnings
 * about the rule are risks taken on purpose.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrordesc_np() */
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h> /* libbsd overlay: strtonum(), reallocarray() */
#include <string.h> /* libbsd overlay: strlcpy(), strlcat() */
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "parse_impl.h"

/* The handlers of this file that the tables below name. */
static void parse_match(struct parser *p);
static void parse_allow(struct parser *p);
static void parse_source(struct parser *p);
static void parse_options(struct parser *p);
static void parse_destination(struct parser *p);
static void parse_accept_risk(struct parser *p);


/* ---- keyword tables --------------------------------------------------- */



const struct keyword top_keywords[] = {
	{ "rule", parse_rule },
	{ "broker", parse_broker },
	{ NULL, NULL },
};

const struct keyword rule_keywords[] = {
	{ "match", parse_match },
	{ "allow", parse_allow },
	{ "source", parse_source },
	{ "default-source", parse_default_source },
	{ "device", parse_device },
	{ "mark", parse_mark },
	{ "receive", parse_receive },
	{ "rcvbuf", parse_rcvbuf },
	{ "sndbuf", parse_sndbuf },
	{ "rate", parse_rate },
	{ "connections", parse_connections },
	{ "options", parse_options },
	{ "hdrincl", parse_hdrincl },
	{ "recverr", parse_recverr },
	{ "destination", parse_destination },
	{ "accept-risk", parse_accept_risk },
	{ NULL, NULL },
};

/* The words of 'accept-risk', in the order explain writes them; each names
 * one warning of rawbroker-policy check (check.c). */
const struct rb_word rb_risks[] = {
	{ "raw-udp", RB_RISK_RAW_UDP, 0, true },
	{ "raw-tcp", RB_RISK_RAW_TCP, 0, true },
	{ "hdrincl", RB_RISK_HDRINCL, 0, true },
	{ "recverr", RB_RISK_RECVERR, 0, true },
	{ NULL, 0, 0, false },
};

const struct keyword broker_keywords[] = {
	{ "listen", parse_g_listen },
	{ "socket-mode", parse_g_mode },
	{ "socket-owner", parse_g_owner },
	{ "socket-group", parse_g_group },
	{ "user", parse_g_user },
	{ "max-connections", parse_g_maxconn },
	{ "request-timeout", parse_g_reqto },
	{ "idle-timeout", parse_g_idleto },
	{ "log", parse_g_log },
	{ "log-level", parse_g_level },
	{ NULL, NULL },
};


static const struct match_kind match_kinds[] = {
	{ "uid", RB_MATCH_UID, false, false, "uid" },
	{ "gid", RB_MATCH_GID, false, false, "gid" },
	{ "user", RB_MATCH_UID, true, false, "user name" },
	{ "group", RB_MATCH_GID, true, false, "group name" },
	{ "any", RB_MATCH_UID, false, true, NULL },
	{ NULL, RB_MATCH_UID, false, false, NULL },
};

const struct keyword *find_keyword(const struct keyword *table,
					  const struct tok *t)
{
	for (const struct keyword *k = table; k->name; k++)
		if (tok_is(t, k->name))
			return k;
	return NULL;
}

static const struct match_kind *find_match_kind(const struct tok *t)
{
	for (const struct match_kind *m = match_kinds; m->name; m++)
		if (tok_is(t, m->name))
			return m;
	return NULL;
}

const struct rb_word *find_word(const struct rb_word *table,
				       const struct tok *t)
{
	for (const struct rb_word *w = table; w->name; w++)
		if (tok_is(t, w->name))
			return w;
	return NULL;
}

static void append_quoted(char *buf, size_t size, const char *name)
{
	if (buf[0])
		strlcat(buf, ", ", size);
	strlcat(buf, "'", size);
	strlcat(buf, name, size);
	strlcat(buf, "'", size);
}

/* "'match', 'allow', 'source'" */
void keyword_list(const struct keyword *table, char *buf, size_t size)
{
	buf[0] = '\0';
	for (const struct keyword *k = table; k->name; k++)
		append_quoted(buf, size, k->name);
}

/* "'uid', 'gid', 'user', 'group', 'any'" */
static void match_kind_list(char *buf, size_t size)
{
	buf[0] = '\0';
	for (const struct match_kind *m = match_kinds; m->name; m++)
		append_quoted(buf, size, m->name);
}

/* "inet, inet6": the supported words, for FAMILY only when not 0 */
void word_list(const struct rb_word *table, int family, char *buf,
		      size_t size)
{
	buf[0] = '\0';
	for (const struct rb_word *w = table; w->name; w++) {
		if (!w->supported || (family && w->family && w->family != family))
			continue;
		if (buf[0])
			strlcat(buf, ", ", size);
		strlcat(buf, w->name, size);
	}
}

/* ---- rules ------------------------------------------------------------- */

/* Room for NEED elements of SIZE in V, whose capacity is *CAP. */
static void *reserve(void *v, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 8;
	void *nv;

	if (need <= *cap)
		return v;
	while (ncap < need)
		ncap *= 2;
	nv = reallocarray(v, ncap, size);
	if (nv)
		*cap = ncap;
	return nv;
}

struct rb_rule *cur_rule(struct parser *p)
{
	return &p->pol->rules[p->cur.idx];
}

static bool valid_rule_name(const struct tok *t)
{
	if (t->len == 0 || t->len >= RB_RULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* rule NAME { */
void parse_rule(struct parser *p)
{
	struct rb_policy *pol = p->pol;
	const struct tok *kw = &p->tok[0], *name;
	struct rb_rule *r;
	void *nv;

	if (pol->nrules == RB_POLICY_MAX_RULES) {
		error_at(p, kw->col, "too many rules (max %d)", RB_POLICY_MAX_RULES);
		p->stop = true;
		return;
	}
	nv = reserve(pol->rules, &p->rules_cap, pol->nrules + 1, sizeof(*r));
	if (!nv) {
		oom(p);
		return;
	}
	pol->rules = nv;
	r = &pol->rules[pol->nrules++];
	memset(r, 0, sizeof(*r));
	r->limits = (struct rb_limits){ .rate = RB_DEFAULT_RATE, .burst = RB_DEFAULT_BURST,
					.connections = RB_DEFAULT_CONNECTIONS };
	r->line = p->line;
	r->file = p->file;
	r->col = kw->col;
	p->cur = (struct rule_ctx){ .idx = pol->nrules - 1, .col = kw->col };
	/* Read what follows as this rule's body even when this line is wrong:
	 * that gives fewer and better messages than treating it as top level. */
	p->in_rule = true;

	if (p->ntok < 2 || tok_is(&p->tok[1], "{")) {
		strlcpy(r->name, "?", sizeof(r->name));
		error_at(p, col_of(p, 1), "expected a rule name after 'rule', found %s",
			 found(p, 1).s);
		return;
	}
	name = &p->tok[1];
	tok_copy(name, r->name, sizeof(r->name));
	if (!valid_rule_name(name)) {
		bool glued = memchr(name->s, '{', name->len) != NULL;

		error_at(p, name->col, "invalid rule name %s: use 1 to %d letters, "
			 "digits, '_', '.' or '-'%s", show(name).s, RB_RULE_NAME_MAX - 1,
			 glued ? "; put a space before '{'" : "");
	} else {
		for (size_t i = 0; i + 1 < pol->nrules; i++) {
			if (strcmp(pol->rules[i].name, r->name) == 0) {
				error_at(p, name->col, "duplicate rule name %s (first "
					 "defined on line %u)", show(name).s,
					 pol->rules[i].line);
				break;
			}
		}
	}
	if (p->ntok < 3 || !tok_is(&p->tok[2], "{"))
		error_at(p, col_of(p, 2), "expected '{' after the rule name, found %s",
			 found(p, 2).s);
	else if (p->ntok > 3)
		error_at(p, p->tok[3].col, "expected end of line after '{', found %s",
			 show(&p->tok[3]).s);
}

/* } */
void close_rule(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	const struct rule_ctx *c = &p->cur;

	p->in_rule = false;
	if (p->ntok > 1)
		error_at(p, p->tok[1].col, "expected end of line after '}', found %s",
			 show(&p->tok[1]).s);
	if (c->match_lines == 0)
		report(p, RB_DIAG_ERROR, r->line, c->col, "rule '%s' has no 'match' "
		       "line; write 'match any' to match every client", r->name);
	if (c->allow_lines == 0)
		report(p, RB_DIAG_ERROR, r->line, c->col, "rule '%s' has no 'allow' "
		       "line, so it allows nothing", r->name);
	if (c->never_line)
		report(p, RB_DIAG_WARNING, r->line, c->col, "rule '%s' can never "
		       "match: no name on line %u is known", r->name, c->never_line);
	r->source_any = r->nsource == 0;
	check_rule_prepare(p);
}

/* ---- match ------------------------------------------------------------- */

int parse_id(struct parser *p, const struct match_kind *mk,
		    const struct tok *t, uint32_t *id)
{
	char buf[RB_POLICY_MAX_TOKEN + 1];
	const char *errstr = NULL;
	long long v;

	/* strtonum() alone would take a sign or leading blanks */
	if (!tok_digits(t)) {
		error_at(p, t->col, "expected a %s (0..%u), found %s", mk->what, ID_MAX,
			 show(t).s);
		return -1;
	}
	tok_copy(t, buf, sizeof(buf));
	v = strtonum(buf, 0, ID_MAX, &errstr);
	if (errstr) {
		error_at(p, t->col, "%s %s is out of range (0..%u)", mk->what, show(t).s,
			 ID_MAX);
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

/* NAME through the resolver, as a user or group by MK's kind. */
int lookup_name(struct parser *p, const struct match_kind *mk, const char *name,
		       uint32_t *id)
{
	int r;

	if (mk->kind == RB_MATCH_UID) {
		uid_t uid = 0;

		r = p->res->user(name, &uid, p->res->ctx);
		*id = uid;
	} else {
		gid_t gid = 0;

		r = p->res->group(name, &gid, p->res->ctx);
		*id = gid;
	}
	return r;
}

static int resolve_id(struct parser *p, const struct match_kind *mk,
		      const struct tok *t, uint32_t *id)
{
	char name[RB_POLICY_MAX_TOKEN + 1];
	int r;

	/* '+'/'-' names are NIS compat entries or options, never accounts */
	if (t->s[0] == '-' || t->s[0] == '+') {
		error_at(p, t->col, "expected a %s, found %s; names do not start "
			 "with '-' or '+'", mk->what, show(t).s);
		return -1;
	}
	tok_copy(t, name, sizeof(name));
	r = lookup_name(p, mk, name, id);
	if (r == 0)
		return 0;
	if (r == -ENOENT) {
		if (tok_digits(t))
			warn_at(p, t->col, "unknown %s %s: it never matches; for a "
				"numeric id write 'match %s %s'", mk->name, show(t).s,
				mk->kind == RB_MATCH_UID ? "uid" : "gid", name);
		else
			warn_at(p, t->col, "unknown %s %s: it never matches", mk->name,
				show(t).s);
		return -1;
	}
	error_at(p, t->col, "cannot look up %s %s: %s", mk->name, show(t).s,
		 errno_text(r < 0 ? -r : EINVAL));
	return -1;
}

static void parse_match_any(struct parser *p)
{
	struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);

	if (p->ntok > 2)
		error_at(p, p->tok[2].col, "'match any' takes no values, found %s",
			 show(&p->tok[2]).s);
	if (c->any_line)
		error_at(p, p->tok[0].col, "'match any' must be the rule's only match "
			 "line; rule '%s' already has it on line %u", r->name,
			 c->any_line);
	else if (c->first_match_line)
		error_at(p, p->tok[0].col, "'match any' must be the rule's only match "
			 "line; rule '%s' has 'match %s' on line %u", r->name,
			 c->first_match_kw, c->first_match_line);
	else
		c->any_line = p->line;
	if (!r->match_any) {
		r->any_line = p->line;
		r->any_col = p->tok[0].col;
	}
	r->match_any = true;
}

/* match uid|gid|user|group VALUE... | match any */
static void parse_match(struct parser *p)
{
	struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);
	const struct match_kind *mk = NULL;
	struct rb_match_name *names = NULL;
	char *namebuf = NULL;
	struct rb_match *m;
	uint32_t *ids;
	size_t n = 0, nnames = 0;
	void *nv;

	/* Count the line even when it is wrong, so the rule is not also
	 * reported as having no match line. */
	c->match_lines++;
	if (p->ntok > 1)
		mk = find_match_kind(&p->tok[1]);
	if (!mk) {
		char list[96];

		match_kind_list(list, sizeof(list));
		error_at(p, col_of(p, 1), "expected one of %s after 'match', found %s",
			 list, found(p, 1).s);
		return;
	}
	if (mk->any) {
		parse_match_any(p);
		return;
	}
	if (c->any_line) {
		error_at(p, p->tok[0].col, "rule '%s' has 'match any' on line %u; it "
			 "must be the rule's only match line", r->name, c->any_line);
		return;
	}
	if (!c->first_match_line) {
		c->first_match_line = p->line;
		c->first_match_kw = mk->name;
	}
	if (p->ntok < 3) {
		error_at(p, col_of(p, 2), "expected at least one %s after 'match %s', "
			 "found end of line", mk->what, mk->name);
		return;
	}

	ids = calloc(p->ntok - 2, sizeof(*ids));
	if (mk->by_name) {
		/* Keep the names as written, for explain: one buffer per line. */
		size_t bytes = 0;

		for (size_t i = 2; i < p->ntok; i++)
			bytes += p->tok[i].len + 1;
		names = calloc(p->ntok - 2, sizeof(*names));
		namebuf = malloc(bytes);
	}
	if (!ids || (mk->by_name && (!names || !namebuf))) {
		free(ids);
		free(names);
		free(namebuf);
		oom(p);
		return;
	}
	for (size_t i = 2, off = 0; i < p->ntok && !p->stop; i++) {
		const struct tok *t = &p->tok[i];
		uint32_t id = 0;
		int rc = mk->by_name ? resolve_id(p, mk, t, &id) : parse_id(p, mk, t, &id);

		if (rc == 0)
			ids[n++] = id;
		if (mk->by_name) {
			char *s = namebuf + off;

			memcpy(s, t->s, t->len);
			s[t->len] = '\0';
			off += t->len + 1;
			names[nnames++] = (struct rb_match_name){ .name = s, .id = id,
								  .known = rc == 0 };
		}
	}
	if (n == 0 && mk->by_name && !c->never_line)
		c->never_line = p->line;

	nv = reserve(r->match, &c->match_cap, r->nmatch + 1, sizeof(*r->match));
	if (!nv) {
		free(ids);
		free(names);
		free(namebuf);
		oom(p);
		return;
	}
	r->match = nv;
	m = &r->match[r->nmatch++];
	*m = (struct rb_match){
		.kind = mk->kind,
		.line = p->line,
		.col = p->tok[0].col,
		.ids = ids,
		.n = n,
		.by_name = mk->by_name,
		.names = names,
		.nnames = nnames,
		.namebuf = namebuf,
	};
}

/* ---- allow ------------------------------------------------------------- */

/* allow FAMILY PROTOCOL [TYPE] */
static void parse_allow(struct parser *p)
{
	struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);
	const struct rb_word *fam = NULL, *proto = NULL, *type;
	char list[96];
	void *nv;

	c->allow_lines++;
	if (p->ntok > 1)
		fam = find_word(rb_families, &p->tok[1]);
	if (!fam || !fam->supported) {
		word_list(rb_families, 0, list, sizeof(list));
		error_at(p, col_of(p, 1), "expected a family (%s), found %s", list,
			 found(p, 1).s);
		return;
	}

	if (p->ntok > 2)
		proto = find_word(rb_protocols, &p->tok[2]);
	if (!proto) {
		word_list(rb_protocols, fam->value, list, sizeof(list));
		error_at(p, col_of(p, 2), "expected a protocol (%s), found %s", list,
			 found(p, 2).s);
		return;
	}
	if (!proto->supported) {
		word_list(rb_protocols, 0, list, sizeof(list));
		error_at(p, p->tok[2].col, "protocol '%s' is not supported (supported: "
			 "%s)", proto->name, list);
		return;
	}
	if (proto->family && proto->family != fam->value) {
		word_list(rb_protocols, fam->value, list, sizeof(list));
		error_at(p, p->tok[2].col, "protocol '%s' does not go with family '%s' "
			 "(%s takes %s)", proto->name, fam->name, fam->name, list);
		return;
	}

	type = rb_word_by_value(rb_types, SOCK_RAW);
	if (p->ntok > 3) {
		type = find_word(rb_types, &p->tok[3]);
		word_list(rb_types, 0, list, sizeof(list));
		if (!type) {
			error_at(p, p->tok[3].col, "expected a socket type (%s), "
				 "found %s", list, show(&p->tok[3]).s);
			return;
		}
		if (!type->supported) {
			error_at(p, p->tok[3].col, "socket type '%s' is not supported "
				 "(supported: %s)", type->name, list);
			return;
		}
	}
	if (p->ntok > 4) {
		error_at(p, p->tok[4].col, "expected end of line after %s, found %s",
			 show(&p->tok[3]).s, show(&p->tok[4]).s);
		return;
	}
	if (type->value == SOCK_DGRAM && proto->value != IPPROTO_ICMP &&
	    proto->value != IPPROTO_ICMPV6) {
		error_at(p, p->tok[3].col, "'dgram' means ping sockets, which exist only "
			 "for icmp and icmpv6, not '%s'", proto->name);
		return;
	}

	for (size_t i = 0; i < r->nallow; i++) {
		const struct rb_allow *a = &r->allow[i];

		if (a->family == fam->value && a->protocol == proto->value &&
		    a->type == type->value) {
			warn_at(p, p->tok[0].col, "duplicate 'allow %s %s %s' (already "
				"on line %u)", fam->name, proto->name, type->name,
				a->line);
			return;
		}
	}
	nv = reserve(r->allow, &c->allow_cap, r->nallow + 1, sizeof(*r->allow));
	if (!nv) {
		oom(p);
		return;
	}
	r->allow = nv;
	r->allow[r->nallow++] = (struct rb_allow){
		.family = fam->value,
		.protocol = proto->value,
		.type = type->value,
		.line = p->line,
		.col = p->tok[0].col,
	};
}

/* ---- options ----------------------------------------------------------- */

/* options NAME...: privileged socket options the broker may set on the
 * client's own socket.  Repeats add up; a name given twice is a warning. */
static void parse_options(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	char list[96];

	word_list(rb_options, 0, list, sizeof(list));
	if (p->ntok < 2) {
		error_at(p, col_of(p, 1), "expected an option (%s), found %s", list,
			 found(p, 1).s);
		return;
	}
	for (size_t i = 1; i < p->ntok; i++) {
		const struct rb_word *w = find_word(rb_options, &p->tok[i]);
		unsigned bit;

		if (!w) {
			error_at(p, p->tok[i].col, "expected an option (%s), found %s", list,
				 show(&p->tok[i]).s);
			return;
		}
		bit = (unsigned)w->value;
		if (r->options & bit)
			warn_at(p, p->tok[i].col, "option '%s' named twice", w->name);
		r->options |= bit;
	}
}

/* ---- accept-risk ------------------------------------------------------- */

/* accept-risk RISK...: the risks of this rule that are taken on purpose,
 * so that 'rawbroker-policy check' does not warn about them.  It changes
 * no decision and no socket.  Repeats add up; a word given twice is a
 * warning.  Whether the rule has each risk is the check's to say: it warns
 * about a word for a risk the rule does not have. */
static void parse_accept_risk(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	char list[96];

	word_list(rb_risks, 0, list, sizeof(list));
	if (p->ntok < 2) {
		error_at(p, col_of(p, 1), "expected a risk (%s), found %s", list,
			 found(p, 1).s);
		return;
	}
	for (size_t i = 1; i < p->ntok; i++) {
		const struct rb_word *w = find_word(rb_risks, &p->tok[i]);
		unsigned bit;

		if (!w) {
			error_at(p, p->tok[i].col, "expected a risk (%s), found %s", list,
				 show(&p->tok[i]).s);
			return;
		}
		bit = RB_RISK_BIT(w->value);
		if (r->accepted & bit) {
			warn_at(p, p->tok[i].col, "risk '%s' accepted twice (already on "
				"line %u)", w->name, r->accept_line[w->value]);
			continue;
		}
		r->accepted |= bit;
		r->accept_line[w->value] = p->line;
		r->accept_col[w->value] = p->tok[i].col;
	}
}

/* ---- source ------------------------------------------------------------ */

/* Clear the bits of ADDR (16 bytes) after the first LEN. */
void mask_addr(uint8_t *addr, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		if (len >= 8 * (i + 1))
			continue;
		if (len > 8 * i)
			addr[i] &= (uint8_t)(0xff00u >> (len - 8 * i));
		else
			addr[i] = 0;
	}
}

/* ADDR or ADDR/LEN, IPv4 or IPv6 */
static int parse_prefix(struct parser *p, const struct tok *t, struct rb_prefix *out)
{
	char buf[RB_POLICY_MAX_TOKEN + 1];
	const char *errstr = NULL;
	struct tok addr = *t;
	uint8_t masked[16];
	unsigned max;
	char *slash;
	long long len;

	tok_copy(t, buf, sizeof(buf));
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		addr.len = (size_t)(slash - buf);
	}
	memset(out, 0, sizeof(*out));
	out->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (addr.len == 0 || inet_pton(out->family, buf, out->addr) != 1) {
		error_at(p, t->col, "expected an IPv4 or IPv6 address, found %s",
			 addr.len ? show(&addr).s : show(t).s);
		return -1;
	}
	max = out->family == AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		struct tok l = {
			.s = t->s + addr.len + 1,
			.len = t->len - addr.len - 1,
			.col = t->col + (unsigned)addr.len + 1,
		};

		if (!tok_digits(&l)) {
			error_at(p, l.col, "expected a prefix length (0..%u) after '/', "
				 "found %s", max, l.len ? show(&l).s : "nothing");
			return -1;
		}
		len = strtonum(slash + 1, 0, max, &errstr);
		if (errstr) {
			error_at(p, l.col, "prefix length %s is out of range for %s "
				 "(0..%u)", show(&l).s,
				 out->family == AF_INET ? "IPv4" : "IPv6", max);
			return -1;
		}
	}
	out->len = (unsigned)len;

	memcpy(masked, out->addr, sizeof(masked));
	mask_addr(masked, out->len);
	if (memcmp(masked, out->addr, sizeof(masked)) != 0) {
		char m[INET6_ADDRSTRLEN];

		if (!inet_ntop(out->family, masked, m, sizeof(m)))
			snprintf(m, sizeof(m), "?");
		error_at(p, t->col, "%.*s has host bits set; did you mean %s/%u?",
			 (int)t->len, t->s, m, out->len);
		return -1;
	}
	return 0;
}

/* source any | source PREFIX... */
static void parse_source(struct parser *p)
{
	struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);
	bool addr_here = false;
	size_t naddr = 0;
	void *nv;

	if (!r->source_line) {
		r->source_line = p->line;
		r->source_col = p->tok[0].col;
	}
	if (p->ntok < 2) {
		error_at(p, col_of(p, 1), "expected 'any' or an address prefix, found "
			 "end of line");
		return;
	}
	if (p->ntok - 1 > RB_POLICY_MAX_VALUES) {
		error_at(p, p->tok[1 + RB_POLICY_MAX_VALUES].col, "too many values on "
			 "one line (max %d)", RB_POLICY_MAX_VALUES);
		return;
	}
	for (size_t i = 1; i < p->ntok; i++)
		if (!tok_is(&p->tok[i], "any"))
			naddr++;
	addr_here = naddr > 0;
	if (addr_here) {
		nv = reserve(r->source, &c->source_cap, r->nsource + naddr,
			     sizeof(*r->source));
		if (!nv) {
			oom(p);
			return;
		}
		r->source = nv;
	}

	for (size_t i = 1; i < p->ntok; i++) {
		const struct tok *t = &p->tok[i];

		if (tok_is(t, "any")) {
			if (addr_here || c->source_addr_line)
				error_at(p, t->col, "'any' cannot be mixed with "
					 "addresses in the sources of rule '%s'",
					 r->name);
			else if (c->source_any_line)
				warn_at(p, t->col, "duplicate 'source any' (already on "
					"line %u)", c->source_any_line);
			else
				c->source_any_line = p->line;
			continue;
		}
		if (c->source_any_line) {
			error_at(p, t->col, "addresses cannot be mixed with 'any' (line "
				 "%u) in the sources of rule '%s'", c->source_any_line,
				 r->name);
			continue;
		}
		if (!c->source_addr_line)
			c->source_addr_line = p->line;
		if (parse_prefix(p, t, &r->source[r->nsource]) == 0)
			r->nsource++;
	}
}

/* destination PREFIX...: where a granted socket may send.  Enforced by the
 * nftables ruleset of 'rawbroker-policy nft', keyed on the rule's mark. */
static void parse_destination(struct parser *p)
{
	struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);
	void *nv;

	if (!r->dest_line) {
		r->dest_line = p->line;
		r->dest_col = p->tok[0].col;
	}
	if (p->ntok < 2) {
		error_at(p, col_of(p, 1), "expected an address prefix, found end of line");
		return;
	}
	if (p->ntok - 1 > RB_POLICY_MAX_VALUES) {
		error_at(p, p->tok[1 + RB_POLICY_MAX_VALUES].col, "too many values on "
			 "one line (max %d)", RB_POLICY_MAX_VALUES);
		return;
	}
	nv = reserve(r->dest, &c->dest_cap, r->ndest + p->ntok - 1, sizeof(*r->dest));
	if (!nv) {
		oom(p);
		return;
	}
	r->dest = nv;
	for (size_t i = 1; i < p->ntok; i++)
		if (parse_prefix(p, &p->tok[i], &r->dest[r->ndest]) == 0)
			r->ndest++;
}
