/* SPDX-License-Identifier: MIT */
/*
 * eval.c - decide a request against a parsed policy.
 *
 * Pure and allocation-free: the broker calls this for every request, with
 * a query built from what a stranger sent, so nothing here trusts the
 * query's values to be ones the language knows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_impl.h"

const struct rb_word rb_families[] = {
	{ "inet", AF_INET, 0, true },
	{ "inet6", AF_INET6, 0, true },
	{ NULL, 0, 0, false },
};

/* Raw tcp and udp (either family) are opt-in per rule: a rule must name
 * them.  raw (IPPROTO_RAW) is named for audit lines only; never allowed. */
const struct rb_word rb_protocols[] = {
	{ "icmp", IPPROTO_ICMP, AF_INET, true },
	{ "icmpv6", IPPROTO_ICMPV6, AF_INET6, true },
	{ "tcp", IPPROTO_TCP, 0, true },
	{ "udp", IPPROTO_UDP, 0, true },
	{ "raw", IPPROTO_RAW, 0, false },
	{ NULL, 0, 0, false },
};

const struct rb_word rb_types[] = {
	{ "raw", SOCK_RAW, 0, true },
	{ "dgram", SOCK_DGRAM, 0, true },
	{ "stream", SOCK_STREAM, 0, false },
	{ NULL, 0, 0, false },
};

const struct rb_word rb_options[] = {
	{ "ipv6-hopopts", RB_OPT_IPV6_HOPOPTS, AF_INET6, true },
	{ "ipv6-dstopts", RB_OPT_IPV6_DSTOPTS, AF_INET6, true },
	{ NULL, 0, 0, false },
};

const struct rb_word *rb_word_by_value(const struct rb_word *table, int value)
{
	for (const struct rb_word *w = table; w->name; w++)
		if (w->value == value)
			return w;
	return NULL;
}

static const char *word_name(const struct rb_word *table, int value)
{
	const struct rb_word *w = rb_word_by_value(table, value);

	return w ? w->name : NULL;
}

const char *rb_family_name(int family)
{
	return word_name(rb_families, family);
}

const char *rb_protocol_name(int protocol)
{
	return word_name(rb_protocols, protocol);
}

const char *rb_type_name(int type)
{
	return word_name(rb_types, type);
}

const char *rb_option_name(unsigned opt)
{
	return word_name(rb_options, (int)opt);
}

size_t rb_policy_rule_count(const struct rb_policy *p)
{
	return p ? p->nrules : 0;
}

static bool id_in(uint32_t id, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool match_fits(const struct rb_match *m, const struct rb_peer *peer)
{
	if (m->kind == RB_MATCH_UID)
		return id_in(peer->uid, m->ids, m->n);
	if (id_in(peer->gid, m->ids, m->n))
		return true;
	for (size_t i = 0; peer->groups && i < peer->ngroups; i++)
		if (id_in(peer->groups[i], m->ids, m->n))
			return true;
	return false;
}

bool rb_rule_fits(const struct rb_rule *r, const struct rb_peer *peer)
{
	if (r->match_any)
		return true;
	/* The parser refuses a rule without match lines; never fit one anyway. */
	if (r->nmatch == 0)
		return false;
	for (size_t i = 0; i < r->nmatch; i++)
		if (!match_fits(&r->match[i], peer))
			return false;
	return true;
}

static bool rule_allows(const struct rb_rule *r, const struct rb_query *q)
{
	for (size_t i = 0; i < r->nallow; i++) {
		const struct rb_allow *a = &r->allow[i];

		if (a->family == q->family && a->protocol == q->protocol &&
		    a->type == q->type)
			return true;
	}
	return false;
}

static bool prefix_contains(const struct rb_prefix *p, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (p->addr[full] & mask) == (addr[full] & mask);
}

static bool source_allowed(const struct rb_rule *r, const struct rb_query *q)
{
	const uint8_t *addr;

	if (q->family == AF_INET)
		addr = (const uint8_t *)&q->source.v4;
	else if (q->family == AF_INET6)
		addr = q->source.v6.s6_addr;
	else
		return false;
	if (r->source_any)
		return true;
	for (size_t i = 0; i < r->nsource; i++)
		if (r->source[i].family == q->family &&
		    prefix_contains(&r->source[i], addr))
			return true;
	return false;
}

/* The language's word for VALUE, or "WHAT VALUE" for one it does not know. */
static const char *show_word(const struct rb_word *table, const char *what,
			     int value, char *buf, size_t size)
{
	const char *name = word_name(table, value);

	if (name)
		return name;
	snprintf(buf, size, "%s %d", what, value);
	return buf;
}

static void deny_no_rule(const struct rb_peer *peer, const struct rb_query *q,
			 struct rb_decision *dec)
{
	char f[32], p[32], t[32];

	snprintf(dec->reason, sizeof(dec->reason),
		 "no rule allows uid %u gid %u %s/%s/%s",
		 (unsigned)peer->uid, (unsigned)peer->gid,
		 show_word(rb_families, "family", q->family, f, sizeof(f)),
		 show_word(rb_protocols, "protocol", q->protocol, p, sizeof(p)),
		 show_word(rb_types, "type", q->type, t, sizeof(t)));
}

/* How rule R prepares a socket for Q (which it allows). */
static void fill_prepare(const struct rb_rule *r, const struct rb_query *q,
			 struct rb_prepare *prep)
{
	*prep = (struct rb_prepare){ .has_mark = r->has_mark, .mark = r->mark,
				     .rcvbuf = r->rcvbuf, .sndbuf = r->sndbuf,
				     .hdrincl = r->hdrincl,
				     .deny_recverr = rb_rule_denies_recverr(r) };
	memcpy(prep->device, r->device, sizeof(prep->device));
	if (q->family == AF_INET && q->protocol == IPPROTO_ICMP && r->has_receive4) {
		prep->has_receive = true;
		prep->receive = r->receive4;
	} else if (q->family == AF_INET6 && q->protocol == IPPROTO_ICMPV6 &&
		   r->has_receive6) {
		prep->has_receive = true;
		prep->receive = r->receive6;
	}
	if (q->family == AF_INET && r->has_default4) {
		prep->has_default_source = true;
		memcpy(&prep->default_source.v4, r->default4, 4);
	} else if (q->family == AF_INET6 && r->has_default6) {
		prep->has_default_source = true;
		memcpy(&prep->default_source.v6, r->default6, 16);
	}
}

int rb_policy_decide(const struct rb_policy *p, const struct rb_peer *peer,
		     const struct rb_query *q, struct rb_decision *dec)
{
	if (!dec)
		return -EINVAL;
	*dec = (struct rb_decision){ .verdict = RB_DENY };
	if (!p || !peer || !q) {
		snprintf(dec->reason, sizeof(dec->reason), "invalid request");
		return -EINVAL;
	}

	for (size_t i = 0; i < p->nrules; i++) {
		const struct rb_rule *r = &p->rules[i];

		if (!rb_rule_fits(r, peer) || !rule_allows(r, q))
			continue;
		dec->rule = r->name;
		dec->line = r->line;
		/* The first fitting rule decides, also when it refuses the
		 * source: a later rule must not widen what this one grants. */
		if (q->has_source && !source_allowed(r, q)) {
			char a[INET6_ADDRSTRLEN];

			if (!inet_ntop(q->family, &q->source, a, sizeof(a)))
				snprintf(a, sizeof(a), "?");
			snprintf(dec->reason, sizeof(dec->reason),
				 "rule '%s' does not allow source %s", r->name, a);
			return 0;
		}
		dec->verdict = RB_ALLOW;
		snprintf(dec->reason, sizeof(dec->reason), "allowed by rule '%s'",
			 r->name);
		fill_prepare(r, q, &dec->prep);
		dec->limits = r->limits;
		return 0;
	}
	deny_no_rule(peer, q, dec);
	return 0;
}

void rb_policy_peer_limits(const struct rb_policy *p, const struct rb_peer *peer,
			   struct rb_limits *out)
{
	*out = (struct rb_limits){ .rate = RB_DEFAULT_RATE, .burst = RB_DEFAULT_BURST,
				   .connections = RB_DEFAULT_CONNECTIONS };
	for (size_t i = 0; p && peer && i < p->nrules; i++) {
		if (rb_rule_fits(&p->rules[i], peer)) {
			*out = p->rules[i].limits;
			return;
		}
	}
}

const struct rb_global *rb_policy_global(const struct rb_policy *p)
{
	return p ? &p->global : NULL;
}

int rb_policy_rule_confinement(const struct rb_policy *p, const char *name,
			       struct rb_prepare *prep)
{
	*prep = (struct rb_prepare){ 0 };
	if (!name)
		return 0;
	for (size_t i = 0; p && i < p->nrules; i++) {
		if (strcmp(p->rules[i].name, name) == 0) {
			prep->hdrincl = p->rules[i].hdrincl;
			prep->deny_recverr = rb_rule_denies_recverr(&p->rules[i]);
			return 0;
		}
	}
	return -ENOENT;
}

int rb_policy_decide_option(const struct rb_policy *p, const struct rb_peer *peer,
			    unsigned opt, struct rb_decision *dec)
{
	const char *name = rb_option_name(opt);

	if (!dec)
		return -EINVAL;
	*dec = (struct rb_decision){ .verdict = RB_DENY };
	if (!p || !peer || !name) {
		snprintf(dec->reason, sizeof(dec->reason), "invalid request");
		return -EINVAL;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rb_rule *r = &p->rules[i];

		if (!(r->options & opt) || !rb_rule_fits(r, peer))
			continue;
		dec->verdict = RB_ALLOW;
		dec->rule = r->name;
		dec->line = r->line;
		snprintf(dec->reason, sizeof(dec->reason), "allowed by rule '%s'", r->name);
		return 0;
	}
	snprintf(dec->reason, sizeof(dec->reason), "no rule lets uid %u gid %u set %s",
		 (unsigned)peer->uid, (unsigned)peer->gid, name);
	return 0;
}

bool rb_policy_peer_may_set_options(const struct rb_policy *p, const struct rb_peer *peer)
{
	for (size_t i = 0; p && peer && i < p->nrules; i++)
		if (p->rules[i].options && rb_rule_fits(&p->rules[i], peer))
			return true;
	return false;
}
