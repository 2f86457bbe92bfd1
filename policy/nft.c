/* SPDX-License-Identifier: MIT */
/*
 * nft.c - the egress ruleset: where granted sockets may send, as nftables.
 *
 * The kernel has no lock on where a raw socket sends: its holder may
 * connect or sendto anywhere, and name another outgoing interface per
 * packet (IP_PKTINFO ipi_ifindex, an IPv6 sin6_scope_id) although
 * SO_BINDTODEVICE holds.  What it cannot change is the mark the
 * broker locked (SO_MARK needs CAP_NET_ADMIN), and every packet a socket
 * sends carries it.  So a rule's 'destination' prefixes and its 'device'
 * are enforced here, in the output hook, keyed on the rule's mark:
 *
 *   table inet rawbroker {}          create it if missing, so that
 *   delete table inet rawbroker      this never fails: the old one goes
 *   table inet rawbroker {           and the new one comes, in the one
 *       set m_0x10_v4 { ... }        transaction of 'nft -f'
 *       chain output {
 *           type filter hook output priority filter; policy accept;
 *           meta mark vmap { 0x10 : jump m_0x10 }
 *       }
 *       chain m_0x10 {
 *           oifname != "eth0" reject with icmpx type admin-prohibited
 *           ip daddr @m_0x10_v4 return
 *           reject with icmpx type admin-prohibited
 *       }
 *   }
 *
 * Packets with no mark, or a mark no rule with a destination or device
 * names, match nothing in the vmap and are accepted by this table (the
 * host's own tables still see them).  Rules that share a mark share a
 * chain: their destinations and devices are joined (check warns).
 *
 * Pure: no output but into the returned string.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_impl.h"

#define REJECT "reject with icmpx type admin-prohibited"

/* Whether rule I is the first rule with its mark that has egress limits:
 * the chain of a mark is written once. */
static bool first_of_mark(const struct rb_policy *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (p->rules[j].has_mark && p->rules[j].mark == p->rules[i].mark &&
		    rb_rule_has_egress(&p->rules[j]))
			return false;
	return true;
}

/* Whether every rule with MARK and egress limits names a destination
 * (else one of them may send anywhere: no destination test), resp. a
 * device (else no device test). */
static bool mark_all(const struct rb_policy *p, uint32_t mark, bool dest)
{
	for (size_t j = 0; j < p->nrules; j++) {
		const struct rb_rule *r = &p->rules[j];

		if (!r->has_mark || r->mark != mark || !rb_rule_has_egress(r))
			continue;
		if (dest ? r->ndest == 0 : r->device[0] == '\0')
			return false;
	}
	return true;
}

/* Whether some rule with MARK has a destination of FAMILY. */
static bool mark_has_family(const struct rb_policy *p, uint32_t mark, int family)
{
	for (size_t j = 0; j < p->nrules; j++) {
		const struct rb_rule *r = &p->rules[j];

		if (!r->has_mark || r->mark != mark || !rb_rule_has_egress(r))
			continue;
		for (size_t k = 0; k < r->ndest; k++)
			if (r->dest[k].family == family)
				return true;
	}
	return false;
}

/* The set of MARK's destinations of FAMILY. */
static void put_set(FILE *f, const struct rb_policy *p, uint32_t mark, int family)
{
	bool first = true;

	fprintf(f, "\tset m_0x%x_v%d {\n\t\ttype %s\n\t\tflags interval\n\t\tauto-merge\n"
		"\t\telements = {", (unsigned)mark, family == AF_INET ? 4 : 6,
		family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (size_t j = 0; j < p->nrules; j++) {
		const struct rb_rule *r = &p->rules[j];

		if (!r->has_mark || r->mark != mark || !rb_rule_has_egress(r))
			continue;
		for (size_t k = 0; k < r->ndest; k++) {
			char a[INET6_ADDRSTRLEN];

			if (r->dest[k].family != family)
				continue;
			if (!inet_ntop(family, r->dest[k].addr, a, sizeof(a)))
				snprintf(a, sizeof(a), "::"); /* cannot happen */
			fprintf(f, "%s\n\t\t\t%s/%u", first ? "" : ",", a, r->dest[k].len);
			first = false;
		}
	}
	fputs("\n\t\t}\n\t}\n", f);
}

/* The chain of MARK. */
static void put_chain(FILE *f, const struct rb_policy *p, uint32_t mark)
{
	fprintf(f, "\n\tchain m_0x%x {\n", (unsigned)mark);
	for (size_t j = 0; j < p->nrules; j++) {
		const struct rb_rule *r = &p->rules[j];

		if (r->has_mark && r->mark == mark && rb_rule_has_egress(r))
			fprintf(f, "\t\t# rule %s (line %u)\n", r->name, r->line);
	}
	if (mark_all(p, mark, false)) {
		bool first = true;

		/* 'device': out of that interface only */
		fputs("\t\toifname != {", f);
		for (size_t j = 0; j < p->nrules; j++) {
			const struct rb_rule *r = &p->rules[j];

			if (!r->has_mark || r->mark != mark || !rb_rule_has_egress(r))
				continue;
			fprintf(f, "%s \"%s\"", first ? "" : ",", r->device);
			first = false;
		}
		fputs(" } counter " REJECT "\n", f);
	}
	if (!mark_all(p, mark, true)) {
		fputs("\t\t# a rule with this mark has no 'destination': anywhere\n", f);
	} else {
		if (mark_has_family(p, mark, AF_INET))
			fprintf(f, "\t\tmeta nfproto ipv4 ip daddr @m_0x%x_v4 return\n",
				(unsigned)mark);
		if (mark_has_family(p, mark, AF_INET6))
			fprintf(f, "\t\tmeta nfproto ipv6 ip6 daddr @m_0x%x_v6 return\n",
				(unsigned)mark);
		fputs("\t\tcounter " REJECT "\n", f);
	}
	fputs("\t}\n", f);
}

/* Whether NAME can be written between double quotes in nftables: the
 * kernel takes quotes and braces in a name, nft has no escape for them. */
static bool nft_safe_name(const char *name)
{
	for (; *name; name++)
		if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
		      (*name >= '0' && *name <= '9') || strchr("._-@+", *name)))
			return false;
	return true;
}

int rb_policy_nft(const struct rb_policy *p, const char *origin, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, nmarks = 0;
	FILE *f;
	int err = 0;

	if (!p || !out)
		return -EINVAL;
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].has_mark && !nft_safe_name(p->rules[i].device))
			return -EDOM;
	f = open_memstream(&buf, &n);
	if (!f)
		return -ENOMEM;
	fprintf(f, "#!/usr/sbin/nft -f\n"
		"# rawbroker egress ruleset%s%s, by rawbroker-policy nft.\n"
		"# Packets that carry a rule's mark (SO_MARK, locked by the broker) may\n"
		"# leave only towards that rule's destinations and out of its device;\n"
		"# others are rejected (administratively prohibited).  Unmarked packets\n"
		"# are not touched.  Loading it again replaces it: the first two lines\n"
		"# make sure there is a table to delete.\n"
		"table inet rawbroker {}\n"
		"delete table inet rawbroker\n"
		"table inet rawbroker {\n",
		origin ? " for " : "", origin ? origin : "");
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rb_rule *r = &p->rules[i];

		if (!rb_rule_has_egress(r))
			continue;
		if (!r->has_mark) {
			/* only 'device' can get here: 'destination' needs a mark */
			fprintf(f, "\t# rule %s (line %u): 'device %s' without a 'mark': "
				"where it sends is not pinned\n", r->name, r->line, r->device);
			continue;
		}
		if (!first_of_mark(p, i) || !mark_all(p, r->mark, true))
			continue;
		if (mark_has_family(p, r->mark, AF_INET))
			put_set(f, p, r->mark, AF_INET);
		if (mark_has_family(p, r->mark, AF_INET6))
			put_set(f, p, r->mark, AF_INET6);
	}
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].has_mark && rb_rule_has_egress(&p->rules[i]) &&
		    first_of_mark(p, i))
			nmarks++;
	if (nmarks) {
		bool first = true;

		fputs("\n\tchain output {\n"
		      "\t\ttype filter hook output priority filter; policy accept;\n"
		      "\t\tmeta mark vmap {", f);
		for (size_t i = 0; i < p->nrules; i++) {
			const struct rb_rule *r = &p->rules[i];

			if (!r->has_mark || !rb_rule_has_egress(r) || !first_of_mark(p, i))
				continue;
			fprintf(f, "%s 0x%x : jump m_0x%x", first ? "" : ",", (unsigned)r->mark,
				(unsigned)r->mark);
			first = false;
		}
		fputs(" }\n\t}\n", f);
		for (size_t i = 0; i < p->nrules; i++)
			if (p->rules[i].has_mark && rb_rule_has_egress(&p->rules[i]) &&
			    first_of_mark(p, i))
				put_chain(f, p, p->rules[i].mark);
	} else {
		fputs("\t# no rule has a 'destination', or a 'device' with a 'mark'\n", f);
	}
	fputs("}\n", f);
	if (ferror(f))
		err = -ENOMEM;
	if (fclose(f) != 0 && err == 0)
		err = -ENOMEM;
	if (err < 0) {
		free(buf);
		return err;
	}
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
