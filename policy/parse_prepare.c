/* SPDX-License-Identifier: MIT */
/*
 * parse_prepare.c - statements with one value, and how granted sockets are
 * prepared: default-source, device, mark, receive, buffers, rate,
 * connections, hdrincl, recverr, and the checks that need the whole rule.
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


/* ---- statements with one value ------------------------------------------ */

/* The keyword of the current line, for messages. */
static struct shown kw_shown(const struct parser *p)
{
	return show(&p->tok[0]);
}

/* The one value of a 'KEYWORD VALUE' line, or NULL (error reported). */
const struct tok *one_value(struct parser *p, const char *what)
{
	if (p->ntok < 2) {
		error_at(p, col_of(p, 1), "expected %s after %s, found end of line", what,
			 kw_shown(p).s);
		return NULL;
	}
	if (p->ntok > 2) {
		error_at(p, p->tok[2].col, "expected end of line after %s, found %s",
			 show(&p->tok[1]).s, show(&p->tok[2]).s);
		return NULL;
	}
	return &p->tok[1];
}

/* A statement allowed once per block: false (error reported) when *LINE
 * says it was already there; else remember this line. */
bool first_time(struct parser *p, unsigned *line)
{
	if (*line) {
		error_at(p, p->tok[0].col, "%s is already set on line %u", kw_shown(p).s,
			 *line);
		return false;
	}
	*line = p->line;
	return true;
}

/* Decimal, or hexadecimal with 0x, in [MIN, MAX]. */
int parse_number(struct parser *p, const struct tok *t, uint32_t min, uint32_t max,
			bool hex, const char *what, uint32_t *out)
{
	char buf[RB_POLICY_MAX_TOKEN + 1];
	unsigned long long v = 0;
	size_t i = 0, digits = 0;
	unsigned base = 10;

	tok_copy(t, buf, sizeof(buf));
	if (hex && t->len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < t->len; i++, digits++) {
		char c = buf[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (v <= 0xffffffffull)
			v = v * base + d;
	}
	if (i != t->len || digits == 0) {
		error_at(p, t->col, "expected %s (%s%u..%u), found %s", what,
			 hex ? "decimal or 0x hex, " : "", min, max, show(t).s);
		return -1;
	}
	if (v < min || v > max) {
		error_at(p, t->col, "value %s is out of range for %s (%u..%u)", show(t).s,
			 what, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* N with a unit: "ms", "s" or "m" (minutes), in milliseconds. */
int parse_duration(struct parser *p, const struct tok *t, uint32_t min_ms,
			  uint32_t max_ms, uint32_t *out)
{
	static const struct { const char *unit; uint32_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
	};
	size_t n = 0;

	while (n < t->len && t->s[n] >= '0' && t->s[n] <= '9')
		n++;
	for (size_t u = 0; n > 0 && n <= 9 && u < sizeof(units) / sizeof(units[0]); u++) {
		struct tok unit = { .s = t->s + n, .len = t->len - n, .col = t->col };
		unsigned long long v = 0;

		if (!tok_is(&unit, units[u].unit))
			continue;
		for (size_t i = 0; i < n; i++)
			v = v * 10 + (unsigned)(t->s[i] - '0');
		v *= units[u].ms;
		if (v < min_ms || v > max_ms) {
			error_at(p, t->col, "%s %s is out of range (%ums..%us)",
				 kw_shown(p).s, show(t).s, min_ms, max_ms / 1000);
			return -1;
		}
		*out = (uint32_t)v;
		return 0;
	}
	error_at(p, t->col, "expected a duration such as 500ms, 5s or 2m, found %s",
		 show(t).s);
	return -1;
}

/* ---- how granted sockets are prepared ---------------------------------- */

/* default-source ADDR [ADDR]: at most one address per family.  Whether it
 * lies within the rule's sources is checked when the rule closes. */
void parse_default_source(struct parser *p)
{
	struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);

	if (p->ntok < 2) {
		error_at(p, col_of(p, 1), "expected an IPv4 or IPv6 address after "
			 "'default-source', found end of line");
		return;
	}
	if (p->ntok > 3) {
		error_at(p, p->tok[3].col, "expected end of line after two addresses "
			 "(one per family), found %s", show(&p->tok[3]).s);
		return;
	}
	for (size_t i = 1; i < p->ntok; i++) {
		const struct tok *t = &p->tok[i];
		char buf[RB_POLICY_MAX_TOKEN + 1];
		bool v6 = memchr(t->s, ':', t->len) != NULL;
		uint8_t addr[16];

		tok_copy(t, buf, sizeof(buf));
		if (memchr(t->s, '/', t->len)) {
			error_at(p, t->col, "expected an address, found the prefix %s; "
				 "the default source is one address", show(t).s);
			continue;
		}
		if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1) {
			error_at(p, t->col, "expected an IPv4 or IPv6 address, found %s",
				 show(t).s);
			continue;
		}
		if (v6 ? r->has_default6 : r->has_default4) {
			error_at(p, t->col, "rule '%s' already has a default %s source "
				 "(line %u)", r->name, v6 ? "IPv6" : "IPv4",
				 r->default_line);
			continue;
		}
		if (v6) {
			r->has_default6 = true;
			memcpy(r->default6, addr, 16);
			c->default6_col = t->col;
		} else {
			r->has_default4 = true;
			memcpy(r->default4, addr, 4);
			c->default4_col = t->col;
		}
	}
	if (!r->default_line)
		r->default_line = p->line;
}

/* device IFNAME: as the kernel's dev_valid_name() takes it. */
void parse_device(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	const struct tok *t;

	if (!first_time(p, &r->device_line) || !(t = one_value(p, "an interface name")))
		return;
	if (t->len >= sizeof(r->device) || tok_is(t, ".") || tok_is(t, "..") ||
	    memchr(t->s, '/', t->len) || memchr(t->s, ':', t->len)) {
		error_at(p, t->col, "invalid interface name %s: use 1 to %zu characters, "
			 "no '/' or ':'", show(t).s, sizeof(r->device) - 1);
		return;
	}
	tok_copy(t, r->device, sizeof(r->device));
}

/* mark N: SO_MARK, non-zero (0 is no mark). */
void parse_mark(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	const struct tok *t;

	if (!first_time(p, &r->mark_line) || !(t = one_value(p, "a mark")))
		return;
	if (parse_number(p, t, 1, UINT32_MAX, true, "a mark", &r->mark) == 0)
		r->has_mark = true;
}

/* The ICMP and ICMPv6 message types by name (as iptables and ip6tables name
 * them); any other type is written as its number. */
static const struct rb_word icmp_types[] = {
	{ "echo-reply", 0, 0, true },
	{ "dest-unreachable", 3, 0, true },
	{ "source-quench", 4, 0, true },
	{ "redirect", 5, 0, true },
	{ "echo-request", 8, 0, true },
	{ "router-advertisement", 9, 0, true },
	{ "router-solicitation", 10, 0, true },
	{ "time-exceeded", 11, 0, true },
	{ "parameter-problem", 12, 0, true },
	{ "timestamp-request", 13, 0, true },
	{ "timestamp-reply", 14, 0, true },
	{ NULL, 0, 0, false },
};

static const struct rb_word icmpv6_types[] = {
	{ "dest-unreachable", 1, 0, true },
	{ "packet-too-big", 2, 0, true },
	{ "time-exceeded", 3, 0, true },
	{ "parameter-problem", 4, 0, true },
	{ "echo-request", 128, 0, true },
	{ "echo-reply", 129, 0, true },
	{ "router-solicitation", 133, 0, true },
	{ "router-advertisement", 134, 0, true },
	{ "neighbour-solicitation", 135, 0, true },
	{ "neighbour-advertisement", 136, 0, true },
	{ "redirect", 137, 0, true },
	{ NULL, 0, 0, false },
};

const char *rb_icmp_type_name(int protocol, unsigned type)
{
	const struct rb_word *w = rb_word_by_value(protocol == IPPROTO_ICMPV6 ?
						   icmpv6_types : icmp_types, (int)type);

	return w ? w->name : NULL;
}

/* receive icmp|icmpv6 TYPE...: the types the locked receive filter lets
 * through.  One line per protocol. */
void parse_receive(struct parser *p)
{
	struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);
	const struct rb_word *table;
	struct rb_icmp_types set = { 0 };
	bool v6;

	if (p->ntok < 2 || !(tok_is(&p->tok[1], "icmp") || tok_is(&p->tok[1], "icmpv6"))) {
		error_at(p, col_of(p, 1), "expected 'icmp' or 'icmpv6' after 'receive', "
			 "found %s", found(p, 1).s);
		return;
	}
	v6 = tok_is(&p->tok[1], "icmpv6");
	table = v6 ? icmpv6_types : icmp_types;
	if (v6 ? r->has_receive6 : r->has_receive4) {
		error_at(p, p->tok[0].col, "rule '%s' already has 'receive %s' (line %u)",
			 r->name, v6 ? "icmpv6" : "icmp", r->receive_line);
		return;
	}
	if (p->ntok < 3) {
		error_at(p, col_of(p, 2), "expected at least one %s message type (a name "
			 "such as echo-reply, or 0..255) after 'receive %s', found end of "
			 "line", v6 ? "ICMPv6" : "ICMP", v6 ? "icmpv6" : "icmp");
		return;
	}
	for (size_t i = 2; i < p->ntok; i++) {
		const struct tok *t = &p->tok[i];
		const struct rb_word *w = find_word(table, t);
		uint32_t type;

		if (w) {
			type = (uint32_t)w->value;
		} else if (tok_digits(t)) {
			if (parse_number(p, t, 0, 255, false, "a message type", &type) < 0)
				return;
		} else {
			error_at(p, t->col, "expected an %s message type (a name such as "
				 "echo-reply, dest-unreachable, time-exceeded: see "
				 "rawbroker.conf(5); or 0..255), found %s",
				 v6 ? "ICMPv6" : "ICMP", show(t).s);
			return;
		}
		if (rb_icmp_types_has(&set, type))
			warn_at(p, t->col, "message type %s named twice", show(t).s);
		set.bits[type / 32] |= 1u << (type % 32);
	}
	if (v6) {
		r->has_receive6 = true;
		r->receive6 = set;
		c->receive6_col = p->tok[0].col;
	} else {
		r->has_receive4 = true;
		r->receive4 = set;
		c->receive4_col = p->tok[0].col;
	}
	if (!r->receive_line)
		r->receive_line = p->line;
}

/* SIZE: bytes, or with a k or m suffix (KiB, MiB). */
static void parse_bufsize(struct parser *p, unsigned *line, uint32_t *out)
{
	const struct tok *t;
	struct tok num;
	uint32_t mult = 1, v;

	if (!first_time(p, line) || !(t = one_value(p, "a size in bytes")))
		return;
	num = *t;
	if (num.len > 1) {
		char last = num.s[num.len - 1];

		if (last == 'k' || last == 'K')
			mult = 1024;
		else if (last == 'm' || last == 'M')
			mult = 1024 * 1024;
		if (mult > 1)
			num.len--;
	}
	if (!tok_digits(&num) || num.len > 9) {
		error_at(p, t->col, "expected a size such as 262144, 256k or 1m, found %s",
			 show(t).s);
		return;
	}
	if (parse_number(p, &num, 1, (256u << 20) / mult, false, "a size", &v) == 0)
		*out = v * mult;
	if (*out && *out < 1024) {
		error_at(p, t->col, "size %s is too small (at least 1k)", show(t).s);
		*out = 0;
	}
}

void parse_rcvbuf(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);

	parse_bufsize(p, &r->rcvbuf_line, &r->rcvbuf);
}

void parse_sndbuf(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);

	parse_bufsize(p, &r->sndbuf_line, &r->sndbuf);
}


/* rate N/s [burst M] | rate unlimited */
void parse_rate(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	const struct tok *t;
	struct tok num;
	uint32_t rate, burst;

	if (!first_time(p, &r->rate_line))
		return;
	if (p->ntok < 2) {
		error_at(p, col_of(p, 1), "expected a rate such as 10/s, or 'unlimited', "
			 "after 'rate', found end of line");
		return;
	}
	t = &p->tok[1];
	if (tok_is(t, "unlimited")) {
		if (p->ntok > 2)
			error_at(p, p->tok[2].col, "expected end of line after 'unlimited', "
				 "found %s", show(&p->tok[2]).s);
		else
			r->limits.rate = r->limits.burst = 0;
		return;
	}
	num = *t;
	if (num.len > 2 && memcmp(num.s + num.len - 2, "/s", 2) == 0)
		num.len -= 2;
	if (num.len == t->len || !tok_digits(&num)) {
		error_at(p, t->col, "expected a rate such as 10/s (grants per second), or "
			 "'unlimited', found %s", show(t).s);
		return;
	}
	if (parse_number(p, &num, 1, RATE_MAX, false, "a rate", &rate) < 0)
		return;
	burst = rate;
	if (p->ntok > 2) {
		if (!tok_is(&p->tok[2], "burst")) {
			error_at(p, p->tok[2].col, "expected 'burst' or end of line after "
				 "the rate, found %s", show(&p->tok[2]).s);
			return;
		}
		if (p->ntok < 4) {
			error_at(p, col_of(p, 3), "expected the burst (1..%u) after 'burst', "
				 "found end of line", RATE_MAX);
			return;
		}
		if (p->ntok > 4) {
			error_at(p, p->tok[4].col, "expected end of line after the burst, "
				 "found %s", show(&p->tok[4]).s);
			return;
		}
		if (parse_number(p, &p->tok[3], 1, RATE_MAX, false, "a burst", &burst) < 0)
			return;
	}
	r->limits.rate = rate;
	r->limits.burst = burst;
}

/* connections N | connections unlimited: per uid, at once. */
void parse_connections(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	const struct tok *t;
	uint32_t n;

	if (!first_time(p, &r->connections_line) ||
	    !(t = one_value(p, "a number of connections or 'unlimited'")))
		return;
	if (tok_is(t, "unlimited")) {
		r->limits.connections = 0;
		return;
	}
	if (parse_number(p, t, 1, RATE_MAX, false, "a number of connections", &n) == 0)
		r->limits.connections = n;
}

/* hdrincl allow|deny: client confinement, for the exported seccomp profile. */
void parse_hdrincl(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	const struct tok *t;

	if (!first_time(p, &r->hdrincl_line) || !(t = one_value(p, "'allow' or 'deny'")))
		return;
	r->hdrincl_col = p->tok[0].col;
	if (tok_is(t, "allow"))
		r->hdrincl = true;
	else if (tok_is(t, "deny"))
		r->hdrincl = false;
	else
		error_at(p, t->col, "expected 'allow' or 'deny' after 'hdrincl', found %s",
			 show(t).s);
}

/* recverr allow|deny: client confinement, for the exported seccomp profile
 * (IP_RECVERR/IPV6_RECVERR; the default is deny for a rule with 'receive'). */
void parse_recverr(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);
	const struct tok *t;

	if (!first_time(p, &r->recverr_line) || !(t = one_value(p, "'allow' or 'deny'")))
		return;
	r->recverr_col = p->tok[0].col;
	if (tok_is(t, "allow"))
		r->recverr = true;
	else if (tok_is(t, "deny"))
		r->recverr = false;
	else
		error_at(p, t->col, "expected 'allow' or 'deny' after 'recverr', found %s",
			 show(t).s);
}

/* The checks that need the whole rule: run when it closes. */
static bool rule_allows_family(const struct rb_rule *r, int family, int protocol)
{
	for (size_t i = 0; i < r->nallow; i++)
		if (r->allow[i].family == family &&
		    (!protocol || r->allow[i].protocol == protocol))
			return true;
	return false;
}

static bool in_sources(const struct rb_rule *r, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < r->nsource; i++) {
		const struct rb_prefix *pf = &r->source[i];
		uint8_t a[16] = { 0 };

		if (pf->family != family)
			continue;
		memcpy(a, addr, family == AF_INET ? 4 : 16);
		mask_addr(a, pf->len);
		if (memcmp(a, pf->addr, 16) == 0)
			return true;
	}
	return false;
}

void check_rule_prepare(struct parser *p)
{
	const struct rule_ctx *c = &p->cur;
	struct rb_rule *r = cur_rule(p);
	static const struct { int family; const char *fam, *what; } fams[] = {
		{ AF_INET, "inet", "IPv4" }, { AF_INET6, "inet6", "IPv6" },
	};

	for (int i = 0; i < 2; i++) {
		bool has = i ? r->has_default6 : r->has_default4;
		const uint8_t *addr = i ? r->default6 : r->default4;
		unsigned col = i ? c->default6_col : c->default4_col;

		if (!has)
			continue;
		if (r->nsource && !in_sources(r, fams[i].family, addr))
			report(p, RB_DIAG_ERROR, r->default_line, col, "the default %s "
			       "source of rule '%s' is not among its sources", fams[i].what,
			       r->name);
		else if (!rule_allows_family(r, fams[i].family, 0))
			report(p, RB_DIAG_WARNING, r->default_line, col, "rule '%s' has a "
			       "default %s source but allows no %s socket", r->name,
			       fams[i].what, fams[i].fam);
	}
	/* Egress is enforced by nftables on the mark: without one, nothing
	 * tells this rule's packets from anyone else's. */
	if (r->ndest && !r->has_mark)
		report(p, RB_DIAG_ERROR, r->dest_line, r->dest_col, "rule '%s' has "
		       "'destination' but no 'mark': the egress ruleset (rawbroker-policy "
		       "nft) finds a rule's packets by their mark", r->name);
	if (r->has_receive4 && !rule_allows_family(r, AF_INET, IPPROTO_ICMP))
		report(p, RB_DIAG_WARNING, r->receive_line, c->receive4_col, "rule '%s' "
		       "has 'receive icmp' but allows no inet icmp socket", r->name);
	if (r->has_receive6 && !rule_allows_family(r, AF_INET6, IPPROTO_ICMPV6))
		report(p, RB_DIAG_WARNING, r->receive_line, c->receive6_col, "rule '%s' "
		       "has 'receive icmpv6' but allows no inet6 icmpv6 socket", r->name);
}
