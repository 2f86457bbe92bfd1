/* SPDX-License-Identifier: MIT */
/*
 * fuzz_policy.c - libFuzzer target for the policy parser (policy/parse.c)
 * and, on whatever it accepts, the evaluator (policy/eval.c).
 *
 * The input is the policy text itself, passed with its exact length (no NUL
 * after it), so an over-read shows under ASan.  Names resolve through a
 * fixed table (no NSS).  Besides "no crash, no leak, no UB" it checks the
 * contracts policy.h promises: the return code agrees with the diagnostics,
 * every diagnostic formats and points inside the text, errors and warnings
 * stay bounded, and decisions are consistent with the rules they name.
 *
 * Built and run by run-fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "policy_impl.h" /* to build queries from the parsed rules */

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_policy: check failed: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- fake resolver: a fixed table, no NSS ------------------------------ */

struct name_id {
	const char *name;
	uint32_t id;
};

static const struct name_id users[] = {
	{ "root", 0 }, { "alice", 1000 }, { "bob", 1001 }, { "nobody", 65534 },
	{ NULL, 0 },
};

static const struct name_id groups[] = {
	{ "root", 0 },       { "staff", 50 },          { "probes", 500 },
	{ "rawbroker-users", 990 }, { "nogroup", 65534 }, { NULL, 0 },
};

/* The parser hands the resolver one token: 1..RB_POLICY_MAX_TOKEN bytes of
 * printable ASCII without blanks or '#'.  The system resolver passes it to
 * NSS, so check that here. */
static int lookup(const struct name_id *t, const char *name, uint32_t *id)
{
	size_t n = strnlen(name, RB_POLICY_MAX_TOKEN + 1);

	CHECK(n >= 1 && n <= RB_POLICY_MAX_TOKEN);
	for (size_t i = 0; i < n; i++)
		CHECK(name[i] > 0x20 && name[i] < 0x7f && name[i] != '#');
	if (strcmp(name, "broken") == 0)
		return -EIO; /* the "lookup failed" path */
	for (; t->name; t++) {
		if (strcmp(t->name, name) == 0) {
			*id = t->id;
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_user(const char *name, uid_t *uid, void *ctx)
{
	uint32_t id = 0;
	int r = lookup(users, name, &id);

	(void)ctx;
	if (r == 0)
		*uid = id;
	return r;
}

static int fake_group(const char *name, gid_t *gid, void *ctx)
{
	uint32_t id = 0;
	int r = lookup(groups, name, &id);

	(void)ctx;
	if (r == 0)
		*gid = id;
	return r;
}

static const struct rb_resolver fake_resolver = {
	.user = fake_user,
	.group = fake_group,
	.ctx = NULL,
};

/* ---- fixed peers and queries ------------------------------------------- */

static const gid_t alice_groups[] = { 500, 50 };
static const gid_t max_groups[] = { 0 };

static const struct rb_peer peers[] = {
	{ .pid = 1, .uid = 0, .gid = 0 },
	{ .pid = 2, .uid = 1000, .gid = 1000, .groups = alice_groups, .ngroups = 2 },
	{ .pid = 3, .uid = 65534, .gid = 65534 },
	{ .pid = 4, .uid = 4294967294u, .gid = 4294967294u, .groups = max_groups,
	  .ngroups = 1 },
};

static struct rb_query queries[8];

static struct rb_query query(int family, int type, int protocol)
{
	return (struct rb_query){ .family = family, .type = type, .protocol = protocol };
}

static void init_queries(void)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	size_t n = 0;

	queries[n++] = query(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	queries[n++] = query(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	queries[n] = query(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	queries[n].has_source = true;
	queries[n++].source.v4.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
	queries[n] = query(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	queries[n].has_source = true;
	memcpy(queries[n++].source.v6.s6_addr, v6, 16); /* 2001:db8::1 */
	queries[n++] = query(AF_INET, SOCK_RAW, IPPROTO_UDP);
	queries[n++] = query(AF_INET6, SOCK_RAW, IPPROTO_TCP);
	queries[n++] = query(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	/* Values the language does not know, as a hostile client may send. */
	queries[n] = query(0, 99, -1);
	queries[n].has_source = true;
	memset(&queries[n++].source, 0xff, sizeof(queries[0].source));
}

/* ---- checks ------------------------------------------------------------ */

static void check_decision(const struct rb_decision *dec)
{
	CHECK(memchr(dec->reason, '\0', sizeof(dec->reason)) != NULL);
	CHECK(dec->reason[0] != '\0');
	if (dec->verdict == RB_ALLOW)
		CHECK(dec->rule != NULL);
	CHECK(dec->verdict == RB_ALLOW || dec->verdict == RB_DENY);
	CHECK((dec->rule == NULL) == (dec->line == 0));
}

static void check_diags(const struct rb_diags *d, const uint8_t *text, size_t len)
{
	unsigned nlines = 1;
	char buf[512], tiny[8];

	for (size_t i = 0; i < len; i++)
		nlines += text[i] == '\n';
	CHECK(d->n == d->errors + d->warnings);
	CHECK(d->n <= d->cap);
	/* Bounded: the limits plus one "too many" line each. */
	CHECK(d->errors <= RB_POLICY_MAX_ERRORS + 1);
	CHECK(d->warnings <= RB_POLICY_MAX_WARNINGS + 1);
	for (size_t i = 0; i < d->n; i++) {
		const struct rb_diag *g = &d->v[i];
		int n;

		CHECK(memchr(g->msg, '\0', sizeof(g->msg)) != NULL);
		CHECK(g->line <= nlines);
		CHECK(g->line == 0 ? g->col == 0 : g->col >= 1 && g->col <= len + 1);
		n = rb_diag_format(d, g, buf, sizeof(buf));
		CHECK(n > 0);
		CHECK(strlen(buf) == ((size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1));
		CHECK(rb_diag_format(d, g, tiny, sizeof(tiny)) == n);
		CHECK(rb_diag_format(NULL, g, buf, sizeof(buf)) > 0);
	}
}

/* A peer that fits every match line of R, or false when none can (a line
 * with no known id, or two uid lines with nothing in common). */
static bool peer_for_rule(const struct rb_rule *r, struct rb_peer *peer, gid_t *gbuf,
			  size_t gcap)
{
	bool have_uid = false;

	*peer = (struct rb_peer){ .pid = 9, .uid = 4294967295u, .gid = 4294967295u,
				  .groups = gbuf };
	for (size_t i = 0; !r->match_any && i < r->nmatch; i++) {
		const struct rb_match *m = &r->match[i];
		bool found = false;

		if (m->n == 0)
			return false;
		if (m->kind == RB_MATCH_GID) {
			if (peer->ngroups == gcap)
				return false;
			gbuf[peer->ngroups++] = m->ids[0];
			continue;
		}
		if (!have_uid) {
			peer->uid = m->ids[0];
			have_uid = true;
			continue;
		}
		for (size_t j = 0; j < m->n; j++)
			found |= m->ids[j] == peer->uid;
		if (!found)
			return false;
	}
	return true;
}

/* Ask for exactly what each rule allows, as a client that fits it: some rule
 * at or before it must decide, and when it is this rule with one of its own
 * source addresses, the answer must be yes. */
static void check_rules(const struct rb_policy *pol)
{
	size_t nr = pol->nrules < 32 ? pol->nrules : 32;

	for (size_t i = 0; i < nr; i++) {
		const struct rb_rule *r = &pol->rules[i];
		struct rb_peer peer;
		gid_t gbuf[8];

		CHECK(r->line >= 1);
		CHECK(memchr(r->name, '\0', sizeof(r->name)) != NULL);
		/* accept-risk: known risks only, each with the place it was
		 * named (a stale word's warning points there) */
		CHECK((r->accepted >> RB_RISK_COUNT) == 0);
		for (int k = 0; k < RB_RISK_COUNT; k++)
			CHECK(!(r->accepted & RB_RISK_BIT(k)) ||
			      (r->accept_line[k] >= r->line && r->accept_col[k] >= 1));
		if (!peer_for_rule(r, &peer, gbuf, 8))
			continue;
		for (size_t a = 0; a < r->nallow && a < 8; a++) {
			struct rb_query q = { .family = r->allow[a].family,
					      .type = r->allow[a].type,
					      .protocol = r->allow[a].protocol };
			struct rb_decision dec;

			CHECK(rb_policy_decide(pol, &peer, &q, &dec) == 0);
			check_decision(&dec);
			CHECK(dec.verdict == RB_ALLOW);
			CHECK(dec.line <= r->line);
			CHECK(memchr(dec.prep.device, '\0', sizeof(dec.prep.device)) != NULL);
			CHECK(!dec.prep.has_mark || dec.prep.mark != 0);
			CHECK(!dec.prep.has_receive || q.protocol == IPPROTO_ICMP ||
			      q.protocol == IPPROTO_ICMPV6);

			q.has_source = true;
			for (size_t s = 0; s < r->nsource && s < 8; s++) {
				const struct rb_prefix *pf = &r->source[s];

				CHECK(pf->family == AF_INET || pf->family == AF_INET6);
				CHECK(pf->len <= (pf->family == AF_INET ? 32u : 128u));
				if (pf->family != q.family)
					continue;
				memcpy(&q.source, pf->addr, pf->family == AF_INET ? 4 : 16);
				CHECK(rb_policy_decide(pol, &peer, &q, &dec) == 0);
				check_decision(&dec);
				if (dec.rule == r->name)
					CHECK(dec.verdict == RB_ALLOW);
			}
			if (r->source_any) {
				memset(&q.source, 0xa5, sizeof(q.source));
				CHECK(rb_policy_decide(pol, &peer, &q, &dec) == 0);
				check_decision(&dec);
				if (dec.rule == r->name)
					CHECK(dec.verdict == RB_ALLOW);
			}
		}
	}
}

static void check_policy(const struct rb_policy *pol)
{
	const size_t nq = sizeof(queries) / sizeof(queries[0]);
	struct rb_decision dec;

	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		const struct rb_peer *peer = &peers[i];
		bool any_opt = false;

		for (size_t j = 0; j < nq; j++) {
			CHECK(rb_policy_decide(pol, peer, &queries[j], &dec) == 0);
			check_decision(&dec);
		}
		for (unsigned opt = RB_OPT_IPV6_HOPOPTS; opt <= RB_OPT_IPV6_DSTOPTS;
		     opt <<= 1) {
			CHECK(rb_policy_decide_option(pol, peer, opt, &dec) == 0);
			check_decision(&dec);
			any_opt |= dec.verdict == RB_ALLOW;
		}
		CHECK(rb_policy_decide_option(pol, peer, 0, &dec) == -EINVAL);
		CHECK(rb_policy_decide_option(pol, peer, 3, &dec) == -EINVAL);
		CHECK(rb_policy_peer_may_set_options(pol, peer) == any_opt);
		{
			struct rb_limits lim;

			rb_policy_peer_limits(pol, peer, &lim);
			CHECK(lim.rate == 0 || lim.burst >= 1);
		}
	}
	{
		const struct rb_global *g = rb_policy_global(pol);
		struct rb_prepare conf;

		CHECK(g != NULL);
		CHECK(memchr(g->listen, '\0', sizeof(g->listen)) != NULL);
		CHECK(memchr(g->user, '\0', sizeof(g->user)) != NULL);
		CHECK(g->log_level >= -1 && g->log_level <= 3);
		CHECK(!g->has_mode || g->mode <= 0777);
		CHECK(rb_policy_rule_confinement(pol, NULL, &conf) == 0 && !conf.hdrincl);
		for (size_t i = 0; i < pol->nrules; i++)
			CHECK(rb_policy_rule_confinement(pol, pol->rules[i].name, &conf) == 0);
	}
	CHECK(rb_policy_decide(pol, NULL, &queries[0], &dec) == -EINVAL);
	check_rules(pol);
}

/* explain's output reads back as the same policy (issue 13), unless it is
 * over the size limit, which explain's compact form keeps it under for
 * every file but those within a few KiB of the limit (rawbroker-policy(1));
 * and the check and the egress ruleset are built without failing. */
static void check_explain(const struct rb_policy *pol)
{
	struct rb_diags d = { 0 };
	struct rb_policy *again = NULL;
	char *out = NULL;
	size_t len = 0;
	int r;

	CHECK(rb_policy_check(pol, &d) >= 0);
	rb_diags_free(&d);
	CHECK(rb_policy_explain(pol, "fuzz.conf", &out, &len) == 0);
	CHECK(strlen(out) == len);
	if (len <= RB_POLICY_MAX_SIZE) {
		r = rb_policy_parse(out, len, "explained.conf", &fake_resolver, &again, &d);
		if (r != 0 || !rb_policy_equal(pol, again)) {
			fprintf(stderr, "fuzz_policy: explain's output does not read back as "
				"the same policy (%d):\n%s\n", r, out);
			for (size_t i = 0; i < d.n; i++)
				fprintf(stderr, "%u:%u: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
			abort();
		}
		rb_policy_free(again);
		rb_diags_free(&d);
	}
	free(out);
	r = rb_policy_nft(pol, "fuzz.conf", &out, &len);
	CHECK(r == 0 || r == -EDOM);
	if (r == 0)
		free(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	init_queries();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = (struct rb_policy *)1;
	size_t nrules;
	int r, r2;

	r = rb_policy_parse(text, size, "fuzz.conf", &fake_resolver, &pol, &d);
	/* No -ENOMEM under ASan, no -EFBIG at these sizes. */
	CHECK(r == 0 || r == -EINVAL);
	CHECK(strcmp(d.file, "fuzz.conf") == 0);
	check_diags(&d, data, size);
	if (r == 0) {
		CHECK(pol != NULL);
		CHECK(d.errors == 0);
		nrules = rb_policy_rule_count(pol);
		CHECK(nrules <= RB_POLICY_MAX_RULES);
		if (nrules == 0)
			CHECK(d.warnings > 0);
		check_policy(pol);
		check_explain(pol);
		rb_policy_free(pol);
	} else {
		CHECK(pol == NULL);
		CHECK(d.errors > 0);
		nrules = 0;
	}
	rb_diags_free(&d);

	/* Same verdict without a diagnostics sink (the local-diags path). */
	r2 = rb_policy_parse(text, size, NULL, &fake_resolver, &pol, NULL);
	CHECK(r2 == r);
	CHECK(rb_policy_rule_count(pol) == nrules);
	rb_policy_free(pol);
	return 0;
}
