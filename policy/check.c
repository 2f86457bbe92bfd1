/* SPDX-License-Identifier: MIT */
/*
 * check.c - find what is probably wrong in a policy that parses: rules that
 * can never match or are never reached, and grants worth a second look.
 *
 * Pure: it reads a parsed policy and adds warnings; it never prints and
 * never resolves names.  A rule is called never reached only when that is
 * certain, and only because of one earlier rule (see rb_policy_check() in
 * policy.h): a warning is never wrong, though an unreachable rule that
 * several earlier rules cover together goes unnamed.  A risky grant is not
 * warned about when its rule accepts that risk by name ('accept-risk'); a
 * word for a risk the rule does not have is warned about instead.
 *
 * Cost: every rule is compared with the rules before it, the cheap tests
 * first.  Id lists and source prefixes are sorted once per rule, so one
 * comparison is linear in the sizes of the two rules, and the whole check
 * is bounded by the parser's limits (RB_POLICY_MAX_RULES, the file size).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_impl.h"

/* ---- sorted id sets ----------------------------------------------------- */

struct id_set {
	uint32_t *v; /* sorted, no duplicates */
	size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* A sorted copy of IDS without duplicates.  N == 0 gives an empty set. */
static int id_set_from(struct id_set *s, const uint32_t *ids, size_t n)
{
	size_t k = 0;

	s->v = calloc(n ? n : 1, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	if (n)
		memcpy(s->v, ids, n * sizeof(*ids));
	qsort(s->v, n, sizeof(*s->v), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || s->v[k - 1] != s->v[i])
			s->v[k++] = s->v[i];
	s->n = k;
	return 0;
}

/* A ⊆ B */
static bool id_subset(const struct id_set *a, const struct id_set *b)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && b->v[j] < a->v[i])
			j++;
		if (j == b->n || b->v[j] != a->v[i])
			return false;
	}
	return true;
}

/* A := A ∩ B */
static void id_intersect(struct id_set *a, const struct id_set *b)
{
	size_t j = 0, k = 0;

	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && b->v[j] < a->v[i])
			j++;
		if (j < b->n && b->v[j] == a->v[i])
			a->v[k++] = a->v[i];
	}
	a->n = k;
}

/* ---- address ranges ----------------------------------------------------- */

/* Index of a family in the per-family arrays below; -1 for others. */
static int fam_index(int family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static const size_t fam_size[2] = { 4, 16 }; /* address bytes */

/* An inclusive range of addresses, big-endian in the first fam_size bytes. */
struct range {
	uint8_t lo[16], hi[16];
};

/* Sources of one family: sorted, disjoint, non-adjacent ranges. */
struct ranges {
	struct range *v;
	size_t n;
};

/* for qsort_r(); SIZE points to the address size */
static int cmp_range(const void *a, const void *b, void *size)
{
	return memcmp(((const struct range *)a)->lo, ((const struct range *)b)->lo,
		      *(const size_t *)size);
}

static struct range prefix_range(const struct rb_prefix *p, size_t size)
{
	struct range r;

	memcpy(r.lo, p->addr, sizeof(r.lo));
	memcpy(r.hi, p->addr, sizeof(r.hi));
	for (size_t i = 0; i < size; i++) {
		if (p->len >= 8 * (i + 1))
			continue;
		if (p->len > 8 * i)
			r.hi[i] |= (uint8_t)(0xffu >> (p->len - 8 * i));
		else
			r.hi[i] = 0xff;
	}
	return r;
}

static struct range full_range(void)
{
	struct range r;

	memset(r.lo, 0, sizeof(r.lo));
	memset(r.hi, 0xff, sizeof(r.hi));
	return r;
}

/* A + 1 == B (false when A is the last address) */
static bool just_after(const uint8_t *a, const uint8_t *b, size_t size)
{
	uint8_t t[16];
	size_t i = size;

	memcpy(t, a, size);
	while (i > 0 && t[i - 1] == 0xff)
		t[--i] = 0;
	if (i == 0)
		return false;
	t[i - 1]++;
	return memcmp(t, b, size) == 0;
}

/* The prefixes of R in family F, merged into ranges. */
static int ranges_from(struct ranges *out, const struct rb_rule *r, int f)
{
	size_t size = fam_size[f], n = 0;
	struct range *v = calloc(r->nsource ? r->nsource : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->nsource; i++)
		if (fam_index(r->source[i].family) == f)
			v[n++] = prefix_range(&r->source[i], size);
	qsort_r(v, n, sizeof(*v), cmp_range, &size);

	out->v = v;
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct range *last = out->n ? &v[out->n - 1] : NULL;

		if (last && (memcmp(v[i].lo, last->hi, size) <= 0 ||
			     just_after(last->hi, v[i].lo, size))) {
			if (memcmp(v[i].hi, last->hi, size) > 0)
				memcpy(last->hi, v[i].hi, size);
			continue;
		}
		v[out->n++] = v[i];
	}
	return 0;
}

/* X lies within the union of S.  S is merged, so X must lie in one range. */
static bool range_covered(const struct ranges *s, const struct range *x, size_t size)
{
	size_t lo = 0, hi = s->n;

	/* the last range whose start is not after X's start */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(s->v[mid].lo, x->lo, size) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && memcmp(x->hi, s->v[lo - 1].hi, size) <= 0;
}

/* ---- what the comparisons need about one rule ------------------------- */

struct facts {
	bool never_named;     /* a match line with no known name: the parser said so */
	bool never_uid;       /* no uid is on all its uid lines */
	bool has_uid;         /* it has uid/user match lines */
	struct id_set uids;   /* the uids on all of them */
	struct id_set *lines; /* each match line's ids */
	struct ranges src[2]; /* [fam_index] when not source_any */
	unsigned families;    /* bit fam_index of each allow */
};

static void facts_free(struct facts *f, size_t nlines)
{
	for (size_t i = 0; f->lines && i < nlines; i++)
		free(f->lines[i].v);
	free(f->lines);
	free(f->uids.v);
	free(f->src[0].v);
	free(f->src[1].v);
}

static int facts_build(const struct rb_rule *r, struct facts *f)
{
	f->lines = calloc(r->nmatch ? r->nmatch : 1, sizeof(*f->lines));
	if (!f->lines)
		return -ENOMEM;
	for (size_t i = 0; i < r->nmatch; i++) {
		const struct rb_match *m = &r->match[i];

		if (id_set_from(&f->lines[i], m->ids, m->n) < 0)
			return -ENOMEM;
		if (m->n == 0)
			f->never_named = true;
		if (m->kind != RB_MATCH_UID)
			continue;
		if (!f->has_uid) {
			if (id_set_from(&f->uids, m->ids, m->n) < 0)
				return -ENOMEM;
			f->has_uid = true;
		} else {
			id_intersect(&f->uids, &f->lines[i]);
		}
	}
	f->never_uid = !f->never_named && f->has_uid && f->uids.n == 0;

	for (size_t i = 0; i < r->nallow; i++) {
		int fi = fam_index(r->allow[i].family);

		if (fi >= 0)
			f->families |= 1u << fi;
	}
	if (!r->source_any)
		for (int fi = 0; fi < 2; fi++)
			if (ranges_from(&f->src[fi], r, fi) < 0)
				return -ENOMEM;
	return 0;
}

/* ---- shadowing ---------------------------------------------------------- */

/*
 * Every client B fits, A fits.  A client is a uid and a set of groups (its
 * gid and supplementary groups), chosen independently, so for B's clients
 * to all fit A's line L:
 *  - a uid line: every uid B admits (those on all of B's uid lines) is on
 *    L; B must have uid lines, since L names finitely many;
 *  - a gid line: one of B's gid lines lies within L.  If none did, a client
 *    holding, for each of B's gid lines, one group of it that L lacks would
 *    fit B and not L.
 * Across kinds nothing follows: 'match uid 5' says nothing of group 5.
 */
static bool fits_within(const struct rb_rule *b, const struct facts *fb,
			const struct rb_rule *a, const struct facts *fa)
{
	if (a->match_any)
		return true;
	if (b->match_any)
		return false;
	for (size_t k = 0; k < a->nmatch; k++) {
		bool found = false;

		if (a->match[k].kind == RB_MATCH_UID) {
			if (!fb->has_uid || !id_subset(&fb->uids, &fa->lines[k]))
				return false;
			continue;
		}
		for (size_t m = 0; m < b->nmatch && !found; m++)
			found = b->match[m].kind == RB_MATCH_GID &&
				id_subset(&fb->lines[m], &fa->lines[k]);
		if (!found)
			return false;
	}
	return true;
}

static bool allows_within(const struct rb_rule *b, const struct rb_rule *a)
{
	for (size_t i = 0; i < b->nallow; i++) {
		const struct rb_allow *x = &b->allow[i];
		bool found = false;

		for (size_t j = 0; j < a->nallow && !found; j++)
			found = a->allow[j].family == x->family &&
				a->allow[j].protocol == x->protocol &&
				a->allow[j].type == x->type;
		if (!found)
			return false;
	}
	return true;
}

/* Every source B allows for a family B allows, A allows too. */
static bool sources_within(const struct rb_rule *b, const struct facts *fb,
			   const struct rb_rule *a, const struct facts *fa)
{
	if (a->source_any)
		return true;
	for (int f = 0; f < 2; f++) {
		if (!(fb->families & (1u << f)))
			continue;
		if (b->source_any) {
			struct range all = full_range();

			if (!range_covered(&fa->src[f], &all, fam_size[f]))
				return false;
			continue;
		}
		for (size_t i = 0; i < fb->src[f].n; i++)
			if (!range_covered(&fa->src[f], &fb->src[f].v[i], fam_size[f]))
				return false;
	}
	return true;
}

/* A decides every request B could: B is never reached. */
static bool shadows(const struct rb_rule *a, const struct facts *fa,
		    const struct rb_rule *b, const struct facts *fb)
{
	return (b->options & ~a->options) == 0 && allows_within(b, a) &&
	       sources_within(b, fb, a, fa) && fits_within(b, fb, a, fa);
}

/* ---- warnings ----------------------------------------------------------- */

struct out {
	struct rb_diags *d;
	const char *file; /* of the rule being checked (a drop-in), or NULL */
	unsigned added;
	bool full; /* RB_POLICY_MAX_WARNINGS reached */
	int err;
};

static void __attribute__((format(printf, 4, 5)))
warn(struct out *o, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[sizeof(((struct rb_diag *)0)->msg)];
	va_list ap;

	if (o->err || o->full)
		return;
	if (o->added == RB_POLICY_MAX_WARNINGS) {
		o->full = true;
		snprintf(msg, sizeof(msg), "too many warnings from the check; not "
			 "showing more");
		line = col = 0;
	} else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	if (rb_diags_add_in(o->d, line ? o->file : NULL, RB_DIAG_WARNING, line, col, "%s",
			    msg) < 0) {
		o->err = -ENOMEM;
	} else {
		o->d->v[o->d->n - 1].note = o->full;
		o->added++;
	}
}

/* 'match any' with every source: written 'source any', left out, or
 * prefixes that cover every address of the families the rule allows. */
static void warn_open_source(struct out *o, const struct rb_rule *r,
			     const struct facts *f)
{
	static const char what[] = "any local user may send from any local address "
				   "on any device (a 'device' line would pin one)";
	struct range all = full_range();

	/* A device pin bounds where such a socket sends and receives. */
	if (!r->match_any || r->device[0])
		return;
	if (r->source_any && r->source_line) {
		warn(o, r->source_line, r->source_col, "rule '%s' has 'match any' and "
		     "'source any': %s", r->name, what);
		return;
	}
	if (r->source_any) {
		warn(o, r->any_line, r->any_col, "rule '%s' has 'match any' and no "
		     "'source' line, so 'source any': %s", r->name, what);
		return;
	}
	for (int fi = 0; fi < 2; fi++)
		if ((f->families & (1u << fi)) &&
		    !range_covered(&f->src[fi], &all, fam_size[fi]))
			return;
	warn(o, r->source_line, r->source_col, "rule '%s' has 'match any' and "
	     "sources that cover every address: %s", r->name, what);
}

/*
 * The risks 'accept-risk' can name.  Each predicate below is the one
 * condition of its warning, so a word silences exactly the warning it
 * names, and a word for a risk the rule does not have is found stale by
 * the same test.
 */
static bool allows_protocol(const struct rb_rule *r, int protocol)
{
	for (size_t k = 0; k < r->nallow; k++)
		if (r->allow[k].protocol == protocol)
			return true;
	return false;
}

static bool has_risk(const struct rb_rule *r, enum rb_risk risk)
{
	switch (risk) {
	case RB_RISK_RAW_UDP:
		return allows_protocol(r, IPPROTO_UDP);
	case RB_RISK_RAW_TCP:
		return allows_protocol(r, IPPROTO_TCP);
	case RB_RISK_HDRINCL:
		return r->hdrincl;
	case RB_RISK_RECVERR:
		return (r->has_receive4 || r->has_receive6) && !rb_rule_denies_recverr(r);
	case RB_RISK_COUNT:
		break;
	}
	return false;
}

static bool accepted(const struct rb_rule *r, enum rb_risk risk)
{
	return (r->accepted & RB_RISK_BIT(risk)) != 0;
}

static void warn_raw_transport(struct out *o, const struct rb_rule *r,
			       const struct rb_allow *a)
{
	const char *proto = rb_protocol_name(a->protocol);

	if (a->protocol != IPPROTO_UDP && a->protocol != IPPROTO_TCP)
		return;
	if (accepted(r, a->protocol == IPPROTO_UDP ? RB_RISK_RAW_UDP : RB_RISK_RAW_TCP))
		return;
	warn(o, a->line, a->col, "rule '%s' allows raw %s sockets for %s with no "
	     "receive filter: such a socket sees the %s traffic of the whole "
	     "network namespace, every port and every user's", r->name, proto,
	     rb_family_name(a->family), proto);
}

static void warn_hdrincl(struct out *o, const struct rb_rule *r)
{
	if (!has_risk(r, RB_RISK_HDRINCL) || accepted(r, RB_RISK_HDRINCL))
		return;
	warn(o, r->hdrincl_line, r->hdrincl_col, "rule '%s' has 'hdrincl allow': its clients' "
	     "seccomp profile lets them write whole IP headers, so they can send "
	     "any packet with any source address", r->name);
}

static void warn_recverr(struct out *o, const struct rb_rule *r)
{
	if (!has_risk(r, RB_RISK_RECVERR) || accepted(r, RB_RISK_RECVERR))
		return;
	warn(o, r->recverr_line, r->recverr_col, "rule '%s' has 'recverr allow' and a "
	     "receive filter: with IP_RECVERR/IPV6_RECVERR its clients read, from the "
	     "error queue that the filter never sees, the ICMP errors about every "
	     "user's packets of that protocol, with the destinations probed", r->name);
}

/* An 'accept-risk' word for a risk the rule does not have: left over from
 * an earlier version of the rule, or a mistake.  Said, so that it cannot
 * silence the warning of a risk added to the rule later unnoticed. */
static void warn_stale_accept(struct out *o, const struct rb_rule *r)
{
	static const char *const lacks[RB_RISK_COUNT] = {
		[RB_RISK_RAW_UDP] = "it has no 'allow ... udp' line",
		[RB_RISK_RAW_TCP] = "it has no 'allow ... tcp' line",
		[RB_RISK_HDRINCL] = "it has no 'hdrincl allow'",
		[RB_RISK_RECVERR] = "it has no 'receive' filter for RECVERR to get "
				    "past",
	};

	for (const struct rb_word *w = rb_risks; w->name; w++) {
		enum rb_risk risk = (enum rb_risk)w->value;
		const char *why = lacks[risk];

		if (!accepted(r, risk) || has_risk(r, risk))
			continue;
		if (risk == RB_RISK_RECVERR && (r->has_receive4 || r->has_receive6))
			why = "its clients cannot enable RECVERR ('recverr deny')";
		warn(o, r->accept_line[risk], r->accept_col[risk], "rule '%s' accepts "
		     "the risk '%s', which it does not have: %s; remove the word",
		     r->name, w->name, why);
	}
}

/* The egress ruleset finds a rule's packets by their mark: two rules with
 * one mark share their destinations and devices there. */
static void warn_shared_mark(struct out *o, const struct rb_policy *p, size_t i)
{
	const struct rb_rule *r = &p->rules[i];

	if (!r->has_mark || !rb_rule_has_egress(r))
		return;
	for (size_t j = 0; j < p->nrules; j++) {
		const struct rb_rule *a = &p->rules[j];

		if (j == i || !a->has_mark || a->mark != r->mark)
			continue;
		warn(o, r->mark_line, 1, "rule '%s' shares mark 0x%x with rule '%s' (line "
		     "%u): the egress ruleset (rawbroker-policy nft) lets the sockets of "
		     "both send where either may", r->name, (unsigned)r->mark, a->name,
		     a->line);
		return;
	}
}

/* The warnings about rule I: first the rule as a whole, then its
 * statements in the order of their lines. */
static void check_rule(struct out *o, const struct rb_policy *p,
		       const struct facts *facts, size_t i)
{
	const struct rb_rule *r = &p->rules[i];
	const struct facts *f = &facts[i];
	unsigned open_line = r->source_line ? r->source_line : r->any_line;
	bool open_done = false;

	o->file = r->file;
	if (f->never_uid) {
		warn(o, r->line, r->col, "rule '%s' can never match: a client has "
		     "one uid, and no uid is on all of its 'match uid'/'match user' "
		     "lines", r->name);
	} else if (!f->never_named) {
		for (size_t j = 0; j < i; j++) {
			const struct rb_rule *a = &p->rules[j];

			if (shadows(a, &facts[j], r, f)) {
				warn(o, r->line, r->col, "rule '%s' is never reached: "
				     "rule '%s' (line %u) already decides every "
				     "request it could", r->name, a->name, a->line);
				break;
			}
		}
	}

	for (size_t k = 0; k < r->nallow; k++) {
		if (!open_done && open_line < r->allow[k].line) {
			warn_open_source(o, r, f);
			open_done = true;
		}
		warn_raw_transport(o, r, &r->allow[k]);
	}
	if (!open_done)
		warn_open_source(o, r, f);
	warn_hdrincl(o, r);
	warn_recverr(o, r);
	warn_stale_accept(o, r);
	warn_shared_mark(o, p, i);
}

int rb_policy_check(const struct rb_policy *p, struct rb_diags *diags)
{
	struct out o = { .d = diags };
	struct facts *facts;

	if (!p || !diags)
		return -EINVAL;
	facts = calloc(p->nrules ? p->nrules : 1, sizeof(*facts));
	if (!facts)
		return -ENOMEM;
	for (size_t i = 0; i < p->nrules && !o.err; i++)
		if (facts_build(&p->rules[i], &facts[i]) < 0)
			o.err = -ENOMEM;
	for (size_t i = 0; i < p->nrules && !o.err && !o.full; i++)
		check_rule(&o, p, facts, i);
	for (size_t i = 0; i < p->nrules; i++)
		facts_free(&facts[i], p->rules[i].nmatch);
	free(facts);
	return o.err ? o.err : (int)o.added;
}
