/* SPDX-License-Identifier: MIT */
/*
 * test_policy.c - the policy parser and evaluator, table-driven.
 *
 * Each table row is its own cmocka test, named after the row.  Names are
 * resolved by a fake resolver: users alice=1000, bob=1001; groups
 * probes=500, staff=50; "broken" fails with EIO; everything else is unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "policy.h"
#include "policy_impl.h" /* a rule's destinations: not in the API */

/* ---- fake resolver ----------------------------------------------------- */

struct name_id {
	const char *name;
	unsigned id;
};

static const struct name_id fake_users[] = {
	{ "alice", 1000 },
	{ "bob", 1001 },
	{ NULL, 0 },
};

static const struct name_id fake_groups[] = {
	{ "probes", 500 },
	{ "staff", 50 },
	{ NULL, 0 },
};

static int fake_lookup(const struct name_id *t, const char *name, unsigned *id,
		       void *ctx)
{
	if (ctx)
		(*(unsigned *)ctx)++;
	if (strcmp(name, "broken") == 0)
		return -EIO;
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
	unsigned id = 0;
	int r = fake_lookup(fake_users, name, &id, ctx);

	*uid = id;
	return r;
}

static int fake_group(const char *name, gid_t *gid, void *ctx)
{
	unsigned id = 0;
	int r = fake_lookup(fake_groups, name, &id, ctx);

	*gid = id;
	return r;
}

static const struct rb_resolver fake_resolver = {
	.user = fake_user,
	.group = fake_group,
	.ctx = NULL,
};

/* ---- helpers ----------------------------------------------------------- */

/* Parse from an exact-size heap copy: no NUL after the text, so an
 * over-read shows under ASan. */
static int parse_len(const char *text, size_t len, struct rb_policy **pol,
		     struct rb_diags *d)
{
	char *buf = NULL;
	int r;

	if (len) {
		buf = malloc(len);
		assert_non_null(buf);
		memcpy(buf, text, len);
	}
	r = rb_policy_parse(buf, len, "test.conf", &fake_resolver, pol, d);
	free(buf);
	return r;
}

static int parse(const char *text, struct rb_policy **pol, struct rb_diags *d)
{
	return parse_len(text, strlen(text), pol, d);
}

static void dump_diags(const struct rb_diags *d)
{
	char line[512];

	for (size_t i = 0; i < d->n; i++) {
		rb_diag_format(d, &d->v[i], line, sizeof(line));
		print_message("    %s\n", line);
	}
}

static const struct rb_diag *find_diag(const struct rb_diags *d,
				       enum rb_diag_severity sev, unsigned line,
				       unsigned col, const char *substr)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct rb_diag *g = &d->v[i];

		if (g->severity == sev && g->line == line && g->col == col &&
		    strstr(g->msg, substr))
			return g;
	}
	return NULL;
}

static const struct rb_diag *first_error(const struct rb_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == RB_DIAG_ERROR)
			return &d->v[i];
	return NULL;
}

static void expect_diag(const struct rb_diags *d, enum rb_diag_severity sev,
			unsigned line, unsigned col, const char *substr)
{
	if (!find_diag(d, sev, line, col, substr)) {
		print_message("expected %s at %u:%u containing \"%s\"; got:\n",
			      sev == RB_DIAG_ERROR ? "error" : "warning", line, col,
			      substr);
		dump_diags(d);
		fail();
	}
}

/* Line of "rule NAME {" in TEXT, to check rb_decision.line. */
static unsigned rule_line(const char *text, const char *name)
{
	char want[96];
	unsigned line = 1;

	snprintf(want, sizeof(want), "rule %s {", name);
	for (const char *s = text; *s; line++) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		const char *hit = strstr(s, want);

		if (hit && (size_t)(hit - s) < n)
			return line;
		if (!nl)
			break;
		s = nl + 1;
	}
	return 0;
}

#define IN_RULE(body) "rule a {\n" body "\n}\n"
#define TEXT(s) .text = (s), .len = sizeof(s) - 1
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- valid policies ---------------------------------------------------- */

struct valid_case {
	const char *name;
	const char *text;
	size_t rules;
	size_t warnings;
};

static const struct valid_case valid_cases[] = {
	{ "valid_minimal", IN_RULE("match any\nallow inet icmp"), 1, 0 },
	{ "valid_options", IN_RULE("match any\nallow inet6 icmpv6\noptions ipv6-hopopts\n"
				   "options ipv6-dstopts"), 1, 0 },
	{ "valid_prepare_all",
	  IN_RULE("match uid 1000\nallow inet icmp\nallow inet6 icmpv6\nallow inet icmp dgram\n"
		  "source 192.0.2.0/24 2001:db8::/32\ndefault-source 2001:db8::1 192.0.2.7\n"
		  "device eth0\nmark 0x10\nreceive icmp echo-reply 3 time-exceeded\n"
		  "receive icmpv6 echo-reply packet-too-big 1\nrcvbuf 256k\nsndbuf 1m\n"
		  "rate 10/s burst 30\nconnections 4\nhdrincl deny"), 1, 0 },
	{ "valid_limits_unlimited",
	  IN_RULE("match uid 1\nallow inet icmp\nrate unlimited\nconnections unlimited"), 1, 0 },
	{ "valid_rate_no_burst", IN_RULE("match uid 1\nallow inet icmp\nrate 5/s"), 1, 0 },
	{ "valid_dgram_v6", IN_RULE("match uid 1\nallow inet6 icmpv6 dgram"), 1, 0 },
	{ "valid_broker_block",
	  "broker {\n  listen /run/rb.sock\n  socket-mode 0660\n  socket-owner alice\n"
	  "  socket-group staff\n  user rawbroker\n  max-connections 100\n"
	  "  request-timeout 500ms\n  idle-timeout 2m\n  log syslog local2\n"
	  "  log-level debug\n}\n" IN_RULE("match uid 1\nallow inet icmp"), 1, 0 },
	{ "valid_broker_block_only", "broker {\n  log stderr\n}\n", 0, 1 },
	{ "valid_broker_numeric_owner", "broker {\nsocket-owner 0\nsocket-group 0\n}\n"
	  IN_RULE("match uid 1\nallow inet icmp"), 1, 0 },
	{ "valid_raw_udp_tcp_opt_in",
	  IN_RULE("match any\nallow inet6 udp raw\nallow inet tcp\nallow inet udp"), 1, 0 },
	{ "valid_comments_and_blanks",
	  "# rawbroker policy\n\n   \n"
	  "rule ping { # the ping users\n"
	  "\tmatch user alice bob   # two of them\n"
	  "\n"
	  "\t# v4 only\n"
	  "\tallow inet icmp\n"
	  "}   # done\n"
	  "# trailing\n", 1, 0 },
	{ "valid_no_final_newline", "rule a {\n match any\n allow inet icmp\n}", 1, 0 },
	{ "valid_every_statement",
	  "rule all {\n"
	  "\tmatch uid 1000 1001\n"
	  "\tmatch gid 50\n"
	  "\tmatch user alice\n"
	  "\tmatch group probes staff\n"
	  "\tallow inet icmp\n"
	  "\tallow inet icmp raw\n"   /* duplicate of the line above: warns */
	  "\tallow inet6 icmpv6 raw\n"
	  "\tsource 192.0.2.0/24 198.51.100.7\n"
	  "\tsource 2001:db8::/32 ::1\n"
	  "}\n", 1, 1 },
	{ "valid_two_rules",
	  IN_RULE("match any\nallow inet icmp")
	  "rule b {\nmatch uid 0\nallow inet6 icmpv6\nsource any\n}\n", 2, 0 },
	{ "valid_name_charset", "rule A-z_0.9 {\nmatch any\nallow inet icmp\n}\n", 1, 0 },
	{ "valid_name_63",
	  "rule abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc {\n"
	  "match any\nallow inet icmp\n}\n", 1, 0 },
	{ "valid_keywords_as_names",
	  "rule rule {\nmatch any\nallow inet icmp\n}\n"
	  "rule match {\nmatch any\nallow inet icmp\n}\n", 2, 0 },
	{ "valid_uid_bounds", IN_RULE("match uid 0 4294967294\nallow inet icmp"), 1, 0 },
	{ "valid_uid_leading_zeros", IN_RULE("match uid 0001000\nallow inet icmp"),
	  1, 0 },
	{ "valid_utf8_comment",
	  "# Zo\xc3\xab's r\xc3\xa8gle\nrule a { # \xe2\x9c\x93\nmatch any\n"
	  "allow inet icmp\n}\n", 1, 0 },
	{ "valid_tabs_everywhere",
	  "\trule\ta\t{\t\n\t\tmatch\tany\t\n\t\tallow\tinet6\ticmpv6\n\t}\t\n", 1, 0 },
	{ "valid_source_edges",
	  IN_RULE("match any\nallow inet icmp\n"
		  "source 0.0.0.0/0 ::/0 255.255.255.255/32 ::1/128 "
		  "::ffff:192.0.2.0/120"),
	  1, 0 },
	{ "valid_unknown_user_among_known",
	  IN_RULE("match user carol alice\nallow inet icmp"), 1, 1 },
	{ "valid_accept_risk",
	  IN_RULE("match uid 7\nallow inet icmp\nallow inet udp\nallow inet6 tcp\n"
		  "receive icmp echo-reply\nrecverr allow\nhdrincl allow\n"
		  "accept-risk raw-udp raw-tcp\n\taccept-risk   hdrincl recverr  # why"),
	  1, 0 },
	{ "valid_accept_risk_stale_parses", /* staleness is the check's to say */
	  IN_RULE("match uid 7\nallow inet icmp\naccept-risk raw-tcp"), 1, 0 },
	{ "valid_empty", "", 0, 1 },
	{ "valid_only_comments", "# nothing here\n\n\t# really\n", 0, 1 },
};

static void run_valid(void **state)
{
	const struct valid_case *c = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	int r = parse(c->text, &pol, &d);

	if (r != 0 || d.warnings != c->warnings)
		dump_diags(&d);
	assert_int_equal(r, 0);
	assert_non_null(pol);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, c->warnings);
	assert_int_equal(rb_policy_rule_count(pol), c->rules);
	assert_string_equal(d.file, "test.conf");
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* ---- errors ------------------------------------------------------------ */

struct error_case {
	const char *name;
	const char *text;
	size_t len;
	unsigned line, col; /* of the first error */
	const char *msg;    /* a substring of it */
};

static const struct error_case error_cases[] = {
	/* bytes */
	{ "err_nul_byte", TEXT("rule a {\n\tmatch any\0\n}\n"), 2, 11, "NUL byte" },
	{ "err_nul_in_comment", TEXT("# a\0b\n"), 1, 4, "NUL byte" },
	{ "err_control_char", TEXT("rule a\x01 {\n"), 1, 7, "control character 0x01" },
	{ "err_escape_char", TEXT("rule a {\n\x1b[31m\n"), 2, 1,
	  "control character 0x1b" },
	{ "err_control_in_comment", TEXT("# bell\x07\n"), 1, 7,
	  "control character 0x07" },
	{ "err_del_char", TEXT("rule a\x7f {\n"), 1, 7, "control character 0x7f" },
	{ "err_carriage_return", TEXT("rule a {\r\n"), 1, 9, "carriage return" },
	{ "err_non_ascii", TEXT("rule caf\xc3\xa9 {\n"), 1, 9, "non-ASCII byte 0xc3" },
	/* top level */
	{ "err_close_outside", TEXT("}\n"), 1, 1, "'}' outside a rule" },
	{ "err_statement_at_top", TEXT("match any\n"), 1, 1,
	  "expected one of 'rule', 'broker', found 'match'" },
	{ "err_keyword_case", TEXT("Rule a {\n"), 1, 1, "expected one of 'rule', 'broker', found 'Rule'" },
	{ "err_rule_no_name", TEXT("rule\n"), 1, 5,
	  "expected a rule name after 'rule', found end of line" },
	{ "err_rule_brace_no_name", TEXT("rule {\n"), 1, 6,
	  "expected a rule name after 'rule', found '{'" },
	{ "err_rule_no_brace", TEXT("rule a\nmatch any\nallow inet icmp\n}\n"), 1, 7,
	  "expected '{' after the rule name, found end of line" },
	{ "err_rule_wrong_brace", TEXT("rule a (\n"), 1, 8,
	  "expected '{' after the rule name, found '('" },
	{ "err_rule_brace_not_last", TEXT("rule a { match any\n"), 1, 10,
	  "expected end of line after '{', found 'match'" },
	{ "err_rule_bad_name", TEXT("rule a/b {\n"), 1, 6, "invalid rule name 'a/b'" },
	{ "err_rule_glued_brace", TEXT("rule a{\n"), 1, 6, "put a space before '{'" },
	{ "err_rule_name_64",
	  TEXT("rule abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
	       "abcdefghijabcd {\n"),
	  1, 6, "invalid rule name" },
	{ "err_rule_duplicate",
	  TEXT(IN_RULE("match any\nallow inet icmp")
	       IN_RULE("match any\nallow inet icmp")),
	  5, 6, "duplicate rule name 'a' (first defined on line 1)" },
	{ "err_rule_in_rule",
	  TEXT("rule a {\nmatch any\nallow inet icmp\nrule b {\nmatch any\n"
	       "allow inet icmp\n}\n"), 4, 1,
	  "'rule' inside rule 'a' (opened on line 1)" },
	{ "err_unclosed", TEXT("rule a {\nmatch any\nallow inet icmp\n"), 4, 1,
	  "expected '}' to close rule 'a' (opened on line 1), found end of file" },
	{ "err_unclosed_no_newline", TEXT("rule a {\nmatch any\nallow inet icmp"), 3, 16,
	  "expected '}' to close rule 'a'" },
	{ "err_close_extra", TEXT("rule a {\nmatch any\nallow inet icmp\n} x\n"), 4, 3,
	  "expected end of line after '}', found 'x'" },
	{ "err_no_match", TEXT("\n  rule a {\nallow inet icmp\n}\n"), 2, 3,
	  "rule 'a' has no 'match' line; write 'match any' to match every client" },
	{ "err_no_allow", TEXT("rule a {\nmatch any\n}\n"), 1, 1,
	  "rule 'a' has no 'allow' line" },
	/* statements */
	{ "err_unknown_statement", TEXT(IN_RULE("\tpermit inet icmp")), 2, 2,
	  "expected one of 'match', 'allow', 'source', 'default-source', 'device', "
	  "'mark', 'receive', 'rcvbuf', 'sndbuf', 'rate', 'connections', 'options', "
	  "'hdrincl', 'recverr', 'destination', 'accept-risk', found 'permit'" },
	{ "err_accept_risk_none", TEXT(IN_RULE("match any\nallow inet udp\naccept-risk")), 4,
	  12, "expected a risk (raw-udp, raw-tcp, hdrincl, recverr), found end of line" },
	{ "err_accept_risk_unknown",
	  TEXT(IN_RULE("match any\nallow inet udp\n  accept-risk raw-udp raw-icmp")), 4, 23,
	  "expected a risk (raw-udp, raw-tcp, hdrincl, recverr), found 'raw-icmp'" },
	{ "err_accept_risk_warning_text", /* the warning's words, not a name */
	  TEXT(IN_RULE("match any\nallow inet udp\naccept-risk udp")), 4, 13,
	  "expected a risk (raw-udp, raw-tcp, hdrincl, recverr), found 'udp'" },
	{ "err_accept_risk_case", TEXT(IN_RULE("match any\nhdrincl allow\n"
					       "accept-risk HDRINCL\nallow inet icmp")), 4, 13,
	  "found 'HDRINCL'" },
	{ "err_accept_risk_outside_rule", TEXT("accept-risk hdrincl\n"), 1, 1,
	  "expected one of 'rule', 'broker', found 'accept-risk'" },
	{ "err_options_none", TEXT(IN_RULE("options")), 2, 8,
	  "expected an option (ipv6-hopopts, ipv6-dstopts), found end of line" },
	{ "err_options_unknown", TEXT(IN_RULE("options ipv6-hopopts ip-hdrincl")), 2, 22,
	  "expected an option (ipv6-hopopts, ipv6-dstopts), found 'ip-hdrincl'" },
	{ "err_brace_in_rule", TEXT(IN_RULE("{")), 2, 1, "found '{'" },
	{ "err_long_token_shown_short",
	  TEXT(IN_RULE("permitpermitpermitpermitpermitpermitpermitpermit")), 2, 1,
	  "found 'permitpermitpermitpermitpermitpermitp...'" },
	/* match */
	{ "err_match_no_kind", TEXT(IN_RULE("match")), 2, 6,
	  "expected one of 'uid', 'gid', 'user', 'group', 'any' after 'match', "
	  "found end of line" },
	{ "err_match_bad_kind", TEXT(IN_RULE("match pid 1")), 2, 7, "found 'pid'" },
	{ "err_match_uid_empty", TEXT(IN_RULE("match uid")), 2, 10,
	  "expected at least one uid after 'match uid'" },
	{ "err_match_user_empty", TEXT(IN_RULE("match user  # nobody")), 2, 11,
	  "expected at least one user name after 'match user'" },
	{ "err_match_uid_name", TEXT(IN_RULE("match uid alice")), 2, 11,
	  "expected a uid (0..4294967294), found 'alice'" },
	{ "err_match_uid_negative", TEXT(IN_RULE("match uid -1")), 2, 11,
	  "expected a uid (0..4294967294), found '-1'" },
	{ "err_match_uid_plus", TEXT(IN_RULE("match uid +5")), 2, 11, "found '+5'" },
	{ "err_match_uid_max", TEXT(IN_RULE("match uid 4294967295")), 2, 11,
	  "uid '4294967295' is out of range (0..4294967294)" },
	{ "err_match_uid_huge", TEXT(IN_RULE("match uid 1000 99999999999999999999999")),
	  2, 16, "is out of range" },
	{ "err_match_gid_hex", TEXT(IN_RULE("match gid 0x1f")), 2, 11,
	  "expected a gid (0..4294967294), found '0x1f'" },
	{ "err_match_gid_comma", TEXT(IN_RULE("match gid 1,2")), 2, 11, "found '1,2'" },
	{ "err_match_any_values", TEXT(IN_RULE("match any 1000")), 2, 11,
	  "'match any' takes no values, found '1000'" },
	{ "err_match_any_after_other", TEXT(IN_RULE("match uid 1\nmatch any")), 3, 1,
	  "'match any' must be the rule's only match line; rule 'a' has 'match uid' "
	  "on line 2" },
	{ "err_match_other_after_any", TEXT(IN_RULE("match any\nmatch group probes")),
	  3, 1, "rule 'a' has 'match any' on line 2" },
	{ "err_match_any_twice", TEXT(IN_RULE("match any\nmatch any")), 3, 1,
	  "already has it on line 2" },
	{ "err_match_user_dash", TEXT(IN_RULE("match user -alice")), 2, 12,
	  "names do not start with '-' or '+'" },
	{ "err_match_group_plus", TEXT(IN_RULE("match group +staff")), 2, 13,
	  "names do not start with '-' or '+'" },
	{ "err_resolver_fails", TEXT(IN_RULE("match user alice broken")), 2, 18,
	  "cannot look up user 'broken': Input/output error" },
	/* allow */
	{ "err_allow_empty", TEXT(IN_RULE("allow")), 2, 6,
	  "expected a family (inet, inet6), found end of line" },
	{ "err_allow_bad_family", TEXT(IN_RULE("allow inet4 icmp")), 2, 7,
	  "expected a family (inet, inet6), found 'inet4'" },
	{ "err_allow_family_case", TEXT(IN_RULE("allow INET icmp")), 2, 7,
	  "found 'INET'" },
	{ "err_allow_no_protocol", TEXT(IN_RULE("allow inet")), 2, 11,
	  "expected a protocol (icmp, tcp, udp), found end of line" },
	{ "err_allow_bad_protocol", TEXT(IN_RULE("allow inet6 ping")), 2, 13,
	  "expected a protocol (icmpv6, tcp, udp), found 'ping'" },
	{ "err_allow_inet_icmpv6", TEXT(IN_RULE("allow inet icmpv6")), 2, 12,
	  "protocol 'icmpv6' does not go with family 'inet'" },
	{ "err_allow_inet6_icmp", TEXT(IN_RULE("allow inet6 icmp")), 2, 13,
	  "protocol 'icmp' does not go with family 'inet6'" },
	{ "err_allow_ipproto_raw", TEXT(IN_RULE("allow inet raw")), 2, 12,
	  "protocol 'raw' is not supported" },
	{ "err_allow_dgram_udp", TEXT(IN_RULE("allow inet udp dgram")), 2, 16,
	  "'dgram' means ping sockets, which exist only for icmp and icmpv6, not 'udp'" },
	{ "err_allow_stream", TEXT(IN_RULE("allow inet6 icmpv6 stream")), 2, 20,
	  "socket type 'stream' is not supported" },
	{ "err_allow_bad_type", TEXT(IN_RULE("allow inet icmp seqpacket")), 2, 17,
	  "expected a socket type (raw, dgram), found 'seqpacket'" },
	/* socket preparation */
	{ "err_default_source_prefix", TEXT(IN_RULE("default-source 192.0.2.0/24")), 2, 16,
	  "expected an address, found the prefix '192.0.2.0/24'" },
	{ "err_default_source_bad", TEXT(IN_RULE("default-source 300.1.1.1")), 2, 16,
	  "expected an IPv4 or IPv6 address, found '300.1.1.1'" },
	{ "err_default_source_two_v4", TEXT(IN_RULE("default-source 192.0.2.1 192.0.2.2")), 2,
	  26, "already has a default IPv4 source" },
	{ "err_default_source_three", TEXT(IN_RULE("default-source 192.0.2.1 ::1 ::2")), 2, 30,
	  "expected end of line after two addresses" },
	{ "err_default_source_empty", TEXT(IN_RULE("default-source")), 2, 15,
	  "expected an IPv4 or IPv6 address after 'default-source', found end of line" },
	{ "err_default_source_outside",
	  TEXT(IN_RULE("match any\nallow inet icmp\nsource 192.0.2.0/24\n"
		       "default-source 198.51.100.1")), 5, 16,
	  "the default IPv4 source of rule 'a' is not among its sources" },
	{ "err_device_slash", TEXT(IN_RULE("device a/b")), 2, 8,
	  "invalid interface name 'a/b'" },
	{ "err_device_long", TEXT(IN_RULE("device abcdefghijklmnop")), 2, 8,
	  "use 1 to 15 characters" },
	{ "err_device_twice", TEXT(IN_RULE("device lo\ndevice eth0")), 3, 1,
	  "'device' is already set on line 2" },
	{ "err_device_two_values", TEXT(IN_RULE("device lo eth0")), 2, 11,
	  "expected end of line after 'lo', found 'eth0'" },
	{ "err_device_none", TEXT(IN_RULE("device")), 2, 7,
	  "expected an interface name after 'device', found end of line" },
	{ "err_mark_zero", TEXT(IN_RULE("mark 0")), 2, 6,
	  "value '0' is out of range for a mark (1..4294967295)" },
	{ "err_mark_text", TEXT(IN_RULE("mark ten")), 2, 6,
	  "expected a mark (decimal or 0x hex, 1..4294967295), found 'ten'" },
	{ "err_mark_too_big", TEXT(IN_RULE("mark 0x100000000")), 2, 6, "out of range" },
	{ "err_mark_bad_hex", TEXT(IN_RULE("mark 0xfg")), 2, 6, "expected a mark" },
	{ "err_receive_no_proto", TEXT(IN_RULE("receive echo-reply")), 2, 9,
	  "expected 'icmp' or 'icmpv6' after 'receive', found 'echo-reply'" },
	{ "err_receive_no_types", TEXT(IN_RULE("receive icmp")), 2, 13,
	  "expected at least one ICMP message type" },
	{ "err_receive_unknown", TEXT(IN_RULE("receive icmpv6 echo-reply pong")), 2, 27,
	  "expected an ICMPv6 message type (a name such as echo-reply" },
	{ "err_receive_v4_name_in_v6", TEXT(IN_RULE("receive icmpv6 source-quench")), 2, 16,
	  "expected an ICMPv6 message type" },
	{ "err_receive_number_range", TEXT(IN_RULE("receive icmp 256")), 2, 14,
	  "value '256' is out of range for a message type (0..255)" },
	{ "err_receive_twice", TEXT(IN_RULE("receive icmp 0\nreceive icmp 3")), 3, 1,
	  "rule 'a' already has 'receive icmp' (line 2)" },
	{ "err_rcvbuf_unit", TEXT(IN_RULE("rcvbuf 12q")), 2, 8,
	  "expected a size such as 262144, 256k or 1m, found '12q'" },
	{ "err_rcvbuf_small", TEXT(IN_RULE("rcvbuf 100")), 2, 8, "too small (at least 1k)" },
	{ "err_sndbuf_huge", TEXT(IN_RULE("sndbuf 512m")), 2, 8,
	  "value '512' is out of range for a size (1..256)" },
	{ "err_rate_no_unit", TEXT(IN_RULE("rate 10")), 2, 6,
	  "expected a rate such as 10/s (grants per second), or 'unlimited', found '10'" },
	{ "err_rate_zero", TEXT(IN_RULE("rate 0/s")), 2, 6, "out of range for a rate" },
	{ "err_rate_burst_missing", TEXT(IN_RULE("rate 10/s burst")), 2, 16,
	  "expected the burst (1..1000000) after 'burst', found end of line" },
	{ "err_rate_not_burst", TEXT(IN_RULE("rate 10/s bursts 3")), 2, 11,
	  "expected 'burst' or end of line after the rate, found 'bursts'" },
	{ "err_rate_unlimited_extra", TEXT(IN_RULE("rate unlimited burst 3")), 2, 16,
	  "expected end of line after 'unlimited'" },
	{ "err_rate_twice", TEXT(IN_RULE("rate 1/s\nrate 2/s")), 3, 1,
	  "'rate' is already set on line 2" },
	{ "err_connections_negative", TEXT(IN_RULE("connections -1")), 2, 13,
	  "expected a number of connections (1..1000000), found '-1'" },
	{ "err_connections_zero", TEXT(IN_RULE("connections 0")), 2, 13, "out of range" },
	{ "err_hdrincl_word", TEXT(IN_RULE("hdrincl yes")), 2, 9,
	  "expected 'allow' or 'deny' after 'hdrincl', found 'yes'" },
	{ "err_recverr_word", TEXT(IN_RULE("recverr on")), 2, 9,
	  "expected 'allow' or 'deny' after 'recverr', found 'on'" },
	{ "err_recverr_twice", TEXT(IN_RULE("recverr allow\nrecverr deny")), 3, 1,
	  "'recverr' is already set on line 2" },
	{ "err_destination_empty", TEXT(IN_RULE("destination")), 2, 12,
	  "expected an address prefix, found end of line" },
	{ "err_destination_host_bits", TEXT(IN_RULE("destination 192.0.2.1/24")), 2, 13,
	  "has host bits set; did you mean 192.0.2.0/24?" },
	{ "err_destination_no_mark",
	  TEXT("rule a {\nmatch uid 1\nallow inet icmp\n  destination 192.0.2.0/24\n}\n"),
	  4, 3, "rule 'a' has 'destination' but no 'mark'" },
	/* the broker block */
	{ "err_broker_no_brace", TEXT("broker\n}\n"), 1, 7, "expected '{' after 'broker'" },
	{ "err_broker_twice", TEXT("broker {\n}\nbroker {\n}\n"), 3, 1,
	  "a policy has one 'broker' block; the first is on line 1" },
	{ "err_broker_unclosed", TEXT("broker {\n  log stderr\n"), 3, 1,
	  "expected '}' to close the 'broker' block (opened on line 1), found end of file" },
	{ "err_broker_rule_inside", TEXT("broker {\nrule a {\n"), 2, 1,
	  "found 'rule' inside the 'broker' block" },
	{ "err_broker_in_rule", TEXT("rule a {\nbroker {\n"), 2, 1,
	  "found 'broker' inside rule 'a'" },
	{ "err_broker_rule_statement", TEXT("broker {\n  match any\n}\n"), 2, 3,
	  "expected one of 'listen', 'socket-mode'" },
	{ "err_broker_listen_relative", TEXT("broker {\nlisten run/rb.sock\n}\n"), 2, 8,
	  "expected an absolute socket path" },
	{ "err_broker_mode", TEXT("broker {\nsocket-mode 0888\n}\n"), 2, 13,
	  "expected an octal mode such as 0660" },
	{ "err_broker_mode_big", TEXT("broker {\nsocket-mode 01777\n}\n"), 2, 13,
	  "at most 0777" },
	{ "err_broker_owner_unknown", TEXT("broker {\nsocket-owner carol\n}\n"), 2, 14,
	  "unknown user 'carol': the broker cannot give its socket to it" },
	{ "err_broker_timeout_unit", TEXT("broker {\nrequest-timeout 5\n}\n"), 2, 17,
	  "expected a duration such as 500ms, 5s or 2m, found '5'" },
	{ "err_broker_timeout_range", TEXT("broker {\nrequest-timeout 1ms\n}\n"), 2, 17,
	  "'request-timeout' '1ms' is out of range" },
	{ "err_broker_idle_range", TEXT("broker {\nidle-timeout 2000m\n}\n"), 2, 14,
	  "out of range" },
	{ "err_broker_log", TEXT("broker {\nlog file\n}\n"), 2, 5,
	  "expected 'stderr' or 'syslog [FACILITY]' after 'log', found 'file'" },
	{ "err_broker_facility", TEXT("broker {\nlog syslog kern\n}\n"), 2, 12,
	  "expected a syslog facility (daemon, auth" },
	{ "err_broker_level", TEXT("broker {\nlog-level verbose\n}\n"), 2, 11,
	  "expected a log level (debug, info, warn, error), found 'verbose'" },
	{ "err_broker_maxconn", TEXT("broker {\nmax-connections 0\n}\n"), 2, 17,
	  "out of range" },
	{ "err_broker_twice_stmt", TEXT("broker {\nlog stderr\nlog stderr\n}\n"), 3, 1,
	  "'log' is already set on line 2" },
	{ "err_allow_extra", TEXT(IN_RULE("allow inet icmp raw now")), 2, 21,
	  "expected end of line after 'raw', found 'now'" },
	/* source */
	{ "err_source_empty", TEXT(IN_RULE("source")), 2, 7,
	  "expected 'any' or an address prefix, found end of line" },
	{ "err_source_any_then_addr_same_line", TEXT(IN_RULE("source any 192.0.2.1")),
	  2, 8, "'any' cannot be mixed with addresses" },
	{ "err_source_addr_then_any_same_line", TEXT(IN_RULE("source 192.0.2.1 any")),
	  2, 18, "'any' cannot be mixed with addresses" },
	{ "err_source_any_then_addr_lines",
	  TEXT(IN_RULE("source any\nsource 192.0.2.0/24")), 3, 8,
	  "addresses cannot be mixed with 'any' (line 2)" },
	{ "err_source_addr_then_any_lines",
	  TEXT(IN_RULE("source 192.0.2.0/24\nsource any")), 3, 8,
	  "'any' cannot be mixed with addresses" },
	{ "err_source_short_v4", TEXT(IN_RULE("source 192.0.2")), 2, 8,
	  "expected an IPv4 or IPv6 address, found '192.0.2'" },
	{ "err_source_hostname", TEXT(IN_RULE("source example.com")), 2, 8,
	  "found 'example.com'" },
	{ "err_source_v4_leading_zero", TEXT(IN_RULE("source 010.0.0.1")), 2, 8,
	  "expected an IPv4 or IPv6 address, found '010.0.0.1'" },
	{ "err_source_v6_scope", TEXT(IN_RULE("source fe80::1%eth0")), 2, 8,
	  "expected an IPv4 or IPv6 address" },
	{ "err_source_no_address", TEXT(IN_RULE("source /24")), 2, 8, "found '/24'" },
	{ "err_source_v4_len", TEXT(IN_RULE("source 192.0.2.0/33")), 2, 18,
	  "prefix length '33' is out of range for IPv4 (0..32)" },
	{ "err_source_v6_len", TEXT(IN_RULE("source 2001:db8::/129")), 2, 19,
	  "prefix length '129' is out of range for IPv6 (0..128)" },
	{ "err_source_len_empty", TEXT(IN_RULE("source 192.0.2.0/")), 2, 18,
	  "expected a prefix length (0..32) after '/', found nothing" },
	{ "err_source_len_sign", TEXT(IN_RULE("source 192.0.2.0/+8")), 2, 18,
	  "expected a prefix length (0..32) after '/', found '+8'" },
	{ "err_source_two_slashes", TEXT(IN_RULE("source 192.0.2.0/24/8")), 2, 18,
	  "found '24/8'" },
	{ "err_source_host_bits_v4", TEXT(IN_RULE("source 192.0.2.1/24")), 2, 8,
	  "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?" },
	{ "err_source_host_bits_len0", TEXT(IN_RULE("source 10.1.2.3/0")), 2, 8,
	  "did you mean 0.0.0.0/0?" },
	{ "err_source_host_bits_v6", TEXT(IN_RULE("source 2001:db8::1/64")), 2, 8,
	  "2001:db8::1/64 has host bits set; did you mean 2001:db8::/64?" },
	{ "err_source_host_bits_v6_odd", TEXT(IN_RULE("source 2001:db8:0:1::/63")),
	  2, 8, "did you mean 2001:db8::/63?" },
};

static void run_error(void **state)
{
	const struct error_case *c = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = (struct rb_policy *)&d; /* must be reset */
	const struct rb_diag *g;
	int r = parse_len(c->text, c->len, &pol, &d);

	assert_int_equal(r, -EINVAL);
	assert_null(pol);
	assert_true(d.errors >= 1);
	g = first_error(&d);
	if (!g || g->line != c->line || g->col != c->col || !strstr(g->msg, c->msg)) {
		print_message("expected first error at %u:%u containing \"%s\"; got:\n",
			      c->line, c->col, c->msg);
		dump_diags(&d);
		fail();
		return;
	}
	rb_diags_free(&d);
}

/* ---- warnings ---------------------------------------------------------- */

struct warning_case {
	const char *name;
	const char *text;
	size_t warnings; /* in all */
	unsigned line, col;
	const char *msg;
};

static const struct warning_case warning_cases[] = {
	{ "warn_option_twice", IN_RULE("match any\nallow inet6 icmpv6\n"
				       "options ipv6-hopopts ipv6-dstopts\noptions ipv6-hopopts"),
	  1, 5, 9, "option 'ipv6-hopopts' named twice" },
	{ "warn_receive_type_twice", IN_RULE("match any\nallow inet icmp\n"
					     "receive icmp 0 echo-reply"), 1, 4, 16,
	  "message type 'echo-reply' named twice" },
	{ "warn_receive_not_allowed", IN_RULE("match uid 1\nallow inet icmp\n"
					      "receive icmpv6 echo-reply"), 1, 4, 1,
	  "rule 'a' has 'receive icmpv6' but allows no inet6 icmpv6 socket" },
	{ "warn_default_source_not_allowed", IN_RULE("match uid 1\nallow inet icmp\n"
						     "default-source ::1"), 1, 4, 16,
	  "rule 'a' has a default IPv6 source but allows no inet6 socket" },
	{ "warn_unknown_user", IN_RULE("match user alice carol\nallow inet icmp"), 1,
	  2, 18, "unknown user 'carol': it never matches" },
	{ "warn_unknown_group", IN_RULE("match group wheel\nallow inet icmp"), 2,
	  2, 13, "unknown group 'wheel': it never matches" },
	{ "warn_never_matches", IN_RULE("match group wheel\nallow inet icmp"), 2,
	  1, 1, "rule 'a' can never match: no name on line 2 is known" },
	{ "warn_never_matches_second_line",
	  "\nrule b {\n\tmatch user alice\n\tmatch user carol dave\n"
	  "\tallow inet icmp\n}\n",
	  3, 2, 1, "rule 'b' can never match: no name on line 4 is known" },
	{ "warn_numeric_user", IN_RULE("match user 1000\nallow inet icmp"), 2,
	  2, 12, "unknown user '1000': it never matches; for a numeric id write "
	  "'match uid 1000'" },
	{ "warn_duplicate_allow",
	  IN_RULE("match any\nallow inet icmp\nallow inet icmp raw"), 1,
	  4, 1, "duplicate 'allow inet icmp raw' (already on line 3)" },
	{ "warn_duplicate_source_any",
	  IN_RULE("match any\nallow inet icmp\nsource any\nsource any"), 1,
	  5, 8, "duplicate 'source any' (already on line 4)" },
	{ "warn_accept_risk_twice",
	  IN_RULE("match uid 7\nallow inet udp\naccept-risk raw-udp\n"
		  "accept-risk hdrincl raw-udp"), 1, 5, 21,
	  "risk 'raw-udp' accepted twice (already on line 4)" },
	{ "warn_empty_policy", "", 1, 0, 0,
	  "policy has no rules: every request is denied" },
	{ "warn_comments_only", "# deny everyone\n", 1, 0, 0, "policy has no rules" },
};

static void run_warning(void **state)
{
	const struct warning_case *c = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	int r = parse(c->text, &pol, &d);

	if (r != 0)
		dump_diags(&d);
	assert_int_equal(r, 0);
	assert_non_null(pol);
	assert_int_equal(d.errors, 0);
	expect_diag(&d, RB_DIAG_WARNING, c->line, c->col, c->msg);
	assert_int_equal(d.warnings, c->warnings);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* ---- the check (rb_policy_check) ---------------------------------------- */

struct check_case {
	const char *name;
	const char *text;
	size_t warnings;    /* added by rb_policy_check() */
	unsigned line, col; /* of the one named by MSG */
	const char *msg;    /* NULL: none expected */
};

/* Two rules: A then B, each "rule X {\n" BODY "\n}\n" */
#define TWO(a, b) "rule a {\n" a "\n}\nrule b {\n" b "\n}\n"

static const struct check_case check_cases[] = {
	/* never reached: one earlier rule decides everything the later could */
	{ "check_shadow_by_match_any",
	  TWO("match any\nallow inet icmp\nallow inet6 icmpv6\nsource any",
	      "match uid 5\nallow inet icmp"),
	  2, 7, 1, "rule 'b' is never reached: rule 'a' (line 1) already decides "
	  "every request it could" },
	{ "check_shadow_uid_subset",
	  TWO("match uid 5 6\nallow inet icmp", "match uid 5\nallow inet icmp"),
	  1, 5, 1, "rule 'b' is never reached: rule 'a' (line 1)" },
	{ "check_shadow_same_rule",
	  TWO("match uid 5\nallow inet6 icmpv6\nsource 2001:db8::/32\n"
	      "options ipv6-hopopts",
	      "match uid 5\nallow inet6 icmpv6\nsource 2001:db8::/32\n"
	      "options ipv6-hopopts"),
	  1, 7, 1, "rule 'b' is never reached" },
	{ "check_shadow_user_by_uid",
	  TWO("match uid 1000\nallow inet icmp", "match user alice\nallow inet icmp"),
	  1, 5, 1, "rule 'b' is never reached" },
	{ "check_shadow_group_by_gid",
	  TWO("match gid 50 500\nallow inet icmp", "match group staff\nallow inet icmp"),
	  1, 5, 1, "rule 'b' is never reached" },
	{ "check_shadow_uid_lines_intersect",
	  TWO("match uid 2\nallow inet icmp",
	      "match uid 1 2\nmatch uid 2 3\nallow inet icmp"),
	  1, 5, 1, "rule 'b' is never reached" },
	{ "check_shadow_gid_line_within",
	  TWO("match gid 50\nallow inet icmp",
	      "match gid 50\nmatch uid 7\nallow inet icmp"),
	  1, 5, 1, "rule 'b' is never reached" },
	{ "check_shadow_narrower_and",
	  TWO("match uid 7\nmatch gid 50\nallow inet icmp",
	      "match gid 500\nmatch uid 7\nmatch gid 50\nallow inet icmp"),
	  1, 6, 1, "rule 'b' is never reached" },
	{ "check_shadow_fewer_allows",
	  TWO("match uid 5\nallow inet icmp\nallow inet6 icmpv6",
	      "match uid 5\nallow inet6 icmpv6 raw"),
	  1, 6, 1, "rule 'b' is never reached" },
	{ "check_shadow_narrower_source",
	  TWO("match uid 5\nallow inet icmp\nsource 192.0.2.0/24",
	      "match uid 5\nallow inet icmp\nsource 192.0.2.128/25"),
	  1, 6, 1, "rule 'b' is never reached" },
	{ "check_shadow_source_union",
	  TWO("match uid 5\nallow inet icmp\nsource 192.0.2.128/25\n"
	      "source 192.0.2.0/25",
	      "match uid 5\nallow inet icmp\nsource 192.0.2.0/24"),
	  1, 7, 1, "rule 'b' is never reached" },
	{ "check_shadow_source_other_family_ignored",
	  TWO("match uid 5\nallow inet icmp\nsource 192.0.2.0/24",
	      "match uid 5\nallow inet icmp\nsource 192.0.2.0/24 2001:db8::/32"),
	  1, 6, 1, "rule 'b' is never reached" },
	{ "check_shadow_default_source_by_slash0",
	  TWO("match uid 5\nallow inet icmp\nallow inet6 icmpv6\n"
	      "source 0.0.0.0/0 ::/0",
	      "match uid 5\nallow inet6 icmpv6"),
	  1, 7, 1, "rule 'b' is never reached" },
	{ "check_shadow_fewer_options",
	  TWO("match uid 5\nallow inet6 icmpv6\noptions ipv6-hopopts ipv6-dstopts",
	      "match uid 5\nallow inet6 icmpv6\noptions ipv6-dstopts"),
	  1, 6, 1, "rule 'b' is never reached" },
	{ "check_shadow_names_first_rule",
	  TWO("match uid 5 6\nallow inet icmp", "match uid 5 6\nallow inet icmp")
	  "rule c {\nmatch uid 6\nallow inet icmp\n}\n",
	  2, 9, 1, "rule 'c' is never reached: rule 'a' (line 1)" },
	/* not provably shadowed: no warning */
	{ "check_no_shadow_extra_allow",
	  TWO("match uid 5\nallow inet icmp",
	      "match uid 5\nallow inet icmp\nallow inet6 icmpv6"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_different_source",
	  TWO("match uid 5\nallow inet icmp\nsource 192.0.2.0/24",
	      "match uid 5\nallow inet icmp\nsource 198.51.100.0/24"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_wider_source",
	  TWO("match uid 5\nallow inet icmp\nsource 192.0.2.0/24",
	      "match uid 5\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_source_gap",
	  TWO("match uid 5\nallow inet icmp\nsource 192.0.2.0/25 192.0.2.192/26",
	      "match uid 5\nallow inet icmp\nsource 192.0.2.0/24"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_v6_source_missing",
	  TWO("match uid 5\nallow inet icmp\nallow inet6 icmpv6\nsource 192.0.2.0/24",
	      "match uid 5\nallow inet icmp\nallow inet6 icmpv6\n"
	      "source 192.0.2.0/24 2001:db8::/32"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_extra_option",
	  TWO("match uid 5\nallow inet6 icmpv6",
	      "match uid 5\nallow inet6 icmpv6\noptions ipv6-hopopts"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_uid_vs_gid",
	  TWO("match gid 5\nallow inet icmp", "match uid 5\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_gid_vs_uid",
	  TWO("match uid 5\nallow inet icmp", "match gid 5\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_shadow_group_line_and_user",
	  TWO("match group staff\nallow inet icmp", "match gid 50\nmatch user bob\n"
	      "allow inet icmp"),
	  1, 5, 1, "rule 'b' is never reached" },
	{ "check_no_shadow_wider_uid",
	  TWO("match uid 5\nallow inet icmp", "match uid 5 6\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_wider_gid",
	  TWO("match gid 50\nallow inet icmp", "match gid 50 500\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_gid_lines_spread",
	  TWO("match gid 50 500\nallow inet icmp",
	      "match gid 50 7\nmatch gid 500 7\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_earlier_needs_more",
	  TWO("match uid 1 2\nmatch gid 50\nallow inet icmp",
	      "match uid 1\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_later_match_any",
	  TWO("match uid 5\nallow inet icmp\nsource 192.0.2.0/24",
	      "match any\nallow inet icmp\nsource 192.0.2.0/24"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_by_rule_never_matching",
	  TWO("match user carol\nallow inet icmp", "match uid 5\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_of_rule_never_matching", /* the parser said so */
	  TWO("match uid 5\nallow inet icmp", "match user carol\nallow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_no_shadow_by_later_rule",
	  TWO("match uid 5\nallow inet icmp", "match any\nallow inet icmp\n"
	      "source 192.0.2.0/24"),
	  0, 0, 0, NULL },
	/* can never match */
	{ "check_never_uid_disjoint", IN_RULE("match uid 5\nmatch user alice\n"
					      "allow inet icmp"),
	  1, 1, 1, "rule 'a' can never match: a client has one uid, and no uid is "
	  "on all of its 'match uid'/'match user' lines" },
	{ "check_never_uid_three_lines", IN_RULE("match uid 1 2\nmatch uid 2 3\n"
						 "match uid 1 3\nallow inet icmp"),
	  1, 1, 1, "rule 'a' can never match" },
	{ "check_uid_lines_overlap", IN_RULE("match uid 1 2\nmatch uid 2 3\n"
					     "allow inet icmp"),
	  0, 0, 0, NULL },
	{ "check_gid_lines_disjoint_fine", IN_RULE("match gid 1\nmatch gid 2\n"
						   "allow inet icmp"),
	  0, 0, 0, NULL },
	/* risky grants */
	{ "check_raw_udp", IN_RULE("match uid 7\n  allow inet6 udp raw"),
	  1, 3, 3, "rule 'a' allows raw udp sockets for inet6 with no receive filter: "
	  "such a socket sees "
	  "the udp traffic of the whole network namespace" },
	{ "check_raw_tcp", IN_RULE("match uid 7\nallow inet icmp\nallow inet tcp"),
	  1, 4, 1, "rule 'a' allows raw tcp sockets for inet with no receive filter: "
	  "such a socket sees "
	  "the tcp traffic of the whole network namespace" },
	{ "check_icmp_not_risky", IN_RULE("match uid 7\nallow inet icmp\n"
					  "allow inet6 icmpv6\nsource any"),
	  0, 0, 0, NULL },
	{ "check_match_any_default_source", IN_RULE("\tmatch any\nallow inet icmp"),
	  1, 2, 2, "rule 'a' has 'match any' and no 'source' line, so 'source any': "
	  "any local user may send from any local address" },
	{ "check_match_any_source_any", IN_RULE("match any\nallow inet icmp\n"
						"  source any"),
	  1, 4, 3, "rule 'a' has 'match any' and 'source any': any local user may "
	  "send from any local address" },
	{ "check_match_any_sources_cover_all",
	  IN_RULE("match any\nallow inet icmp\nallow inet6 icmpv6\n"
		  "source 0.0.0.0/1 128.0.0.0/1\nsource ::/0"),
	  1, 5, 1, "rule 'a' has 'match any' and sources that cover every address" },
	{ "check_match_any_v4_only_slash0", IN_RULE("match any\nallow inet icmp\n"
						    "source 0.0.0.0/0"),
	  1, 4, 1, "sources that cover every address" },
	{ "check_match_any_some_sources",
	  IN_RULE("match any\nallow inet icmp\nallow inet6 icmpv6\n"
		  "source 0.0.0.0/0 2001:db8::/32"),
	  0, 0, 0, NULL },
	{ "check_source_any_not_match_any", IN_RULE("match gid 50\nallow inet icmp\n"
						    "source any"),
	  0, 0, 0, NULL },
	{ "check_match_any_source_any_device", IN_RULE("match any\nallow inet icmp\n"
						       "source any\ndevice eth0"),
	  0, 0, 0, NULL },
	{ "check_match_any_no_device_says_so", IN_RULE("match any\nallow inet icmp"),
	  1, 2, 1, "on any device (a 'device' line would pin one)" },
	{ "check_hdrincl_allow", IN_RULE("match uid 7\nallow inet icmp\n  hdrincl allow"),
	  1, 4, 3, "rule 'a' has 'hdrincl allow': its clients' seccomp profile lets "
	  "them write whole IP headers" },
	{ "check_hdrincl_deny", IN_RULE("match uid 7\nallow inet icmp\nhdrincl deny"),
	  0, 0, 0, NULL },
	{ "check_recverr_allow_with_receive",
	  IN_RULE("match uid 7\nallow inet icmp\nreceive icmp echo-reply\n recverr allow"),
	  1, 5, 2, "rule 'a' has 'recverr allow' and a receive filter" },
	{ "check_recverr_allow_no_receive",
	  IN_RULE("match uid 7\nallow inet icmp\nrecverr allow"), 0, 0, 0, NULL },
	{ "check_shared_mark",
	  "rule a {\nmatch uid 7\nallow inet icmp\nmark 5\ndestination 192.0.2.0/24\n}\n"
	  "rule b {\nmatch uid 8\nallow inet icmp\nmark 5\n}\n",
	  1, 4, 1, "rule 'a' shares mark 0x5 with rule 'b' (line 7)" },
	/* accept-risk: the named warnings silenced, and only those */
	{ "check_accept_raw_udp_both_families",
	  IN_RULE("match uid 7\nallow inet udp\nallow inet6 udp\naccept-risk raw-udp"),
	  0, 0, 0, NULL },
	{ "check_accept_raw_udp_not_tcp",
	  IN_RULE("match uid 7\nallow inet udp\nallow inet tcp\naccept-risk raw-udp"),
	  1, 4, 1, "rule 'a' allows raw tcp sockets for inet" },
	{ "check_accept_raw_tcp_not_udp",
	  IN_RULE("match uid 7\nallow inet udp\nallow inet6 tcp\naccept-risk raw-tcp"),
	  1, 3, 1, "rule 'a' allows raw udp sockets for inet" },
	{ "check_accept_hdrincl",
	  IN_RULE("match uid 7\nallow inet icmp\nhdrincl allow\naccept-risk hdrincl"),
	  0, 0, 0, NULL },
	{ "check_accept_recverr",
	  IN_RULE("match uid 7\nallow inet icmp\nreceive icmp echo-reply\nrecverr allow\n"
		  "accept-risk recverr"),
	  0, 0, 0, NULL },
	{ "check_accept_before_the_risk", /* the order of lines does not matter */
	  IN_RULE("accept-risk hdrincl raw-tcp\nmatch uid 7\nhdrincl allow\nallow inet6 tcp"),
	  0, 0, 0, NULL },
	{ "check_accept_all_four",
	  IN_RULE("match uid 7\nallow inet icmp\nallow inet udp\nallow inet6 tcp\n"
		  "receive icmp echo-reply\nrecverr allow\nhdrincl allow\n"
		  "accept-risk raw-udp raw-tcp hdrincl recverr"),
	  0, 0, 0, NULL },
	{ "check_accept_not_the_open_source", /* not a word it knows: still warned */
	  IN_RULE("match any\nallow inet udp\naccept-risk raw-udp"),
	  1, 2, 1, "rule 'a' has 'match any' and no 'source' line" },
	{ "check_accept_per_rule",
	  TWO("match uid 7\nallow inet udp\naccept-risk raw-udp",
	      "match uid 8\nallow inet udp"),
	  1, 8, 1, "rule 'b' allows raw udp sockets for inet" },
	/* a word for a risk the rule does not have: stale, warned */
	{ "check_accept_stale_raw_tcp",
	  IN_RULE("match uid 7\nallow inet udp\naccept-risk raw-udp raw-tcp"),
	  1, 4, 21, "rule 'a' accepts the risk 'raw-tcp', which it does not have: it "
	  "has no 'allow ... tcp' line; remove the word" },
	{ "check_accept_stale_raw_udp",
	  IN_RULE("match uid 7\nallow inet icmp\naccept-risk raw-udp"),
	  1, 4, 13, "rule 'a' accepts the risk 'raw-udp', which it does not have: it "
	  "has no 'allow ... udp' line" },
	{ "check_accept_stale_hdrincl_deny",
	  IN_RULE("match uid 7\nallow inet icmp\nhdrincl deny\naccept-risk hdrincl"),
	  1, 5, 13, "rule 'a' accepts the risk 'hdrincl', which it does not have: it "
	  "has no 'hdrincl allow'" },
	{ "check_accept_stale_hdrincl_default",
	  IN_RULE("match uid 7\nallow inet icmp\naccept-risk hdrincl"),
	  1, 4, 13, "accepts the risk 'hdrincl', which it does not have" },
	{ "check_accept_stale_recverr_no_receive",
	  IN_RULE("match uid 7\nallow inet icmp\nrecverr allow\naccept-risk recverr"),
	  1, 5, 13, "rule 'a' accepts the risk 'recverr', which it does not have: it "
	  "has no 'receive' filter for RECVERR to get past" },
	{ "check_accept_stale_recverr_default_deny",
	  IN_RULE("match uid 7\nallow inet icmp\nreceive icmp echo-reply\n"
		  "accept-risk recverr"),
	  1, 5, 13, "rule 'a' accepts the risk 'recverr', which it does not have: its "
	  "clients cannot enable RECVERR ('recverr deny')" },
	{ "check_accept_stale_and_live",
	  IN_RULE("match uid 7\nallow inet tcp\naccept-risk raw-udp\nhdrincl allow"),
	  3, 4, 13, "accepts the risk 'raw-udp', which it does not have" },
	{ "check_accept_stale_in_other_rule", /* b's risk is not a's */
	  TWO("match uid 7\nallow inet icmp\naccept-risk raw-udp",
	      "match uid 8\nallow inet udp"),
	  2, 4, 13, "rule 'a' accepts the risk 'raw-udp', which it does not have" },
	{ "check_all_kinds_in_one_rule",
	  IN_RULE("match any\nallow inet6 udp\nallow inet tcp"),
	  3, 4, 1, "raw tcp" },
};

static void run_check(void **state)
{
	const struct check_case *c = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	size_t before;
	int r = parse(c->text, &pol, &d);

	if (r != 0)
		dump_diags(&d);
	assert_int_equal(r, 0);
	before = d.n;
	r = rb_policy_check(pol, &d);
	if (r < 0 || (size_t)r != c->warnings || d.n - before != c->warnings)
		dump_diags(&d);
	assert_int_equal(r, c->warnings);
	assert_int_equal(d.n - before, c->warnings);
	assert_int_equal(d.errors, 0);
	for (size_t i = before; i < d.n; i++) {
		assert_int_equal(d.v[i].severity, RB_DIAG_WARNING);
		assert_true(d.v[i].line > 0 && d.v[i].col > 0);
	}
	if (c->msg) {
		bool found = false;

		for (size_t i = before; i < d.n && !found; i++)
			found = d.v[i].line == c->line && d.v[i].col == c->col &&
				strstr(d.v[i].msg, c->msg);
		if (!found) {
			print_message("expected a check warning at %u:%u containing "
				      "\"%s\"; got:\n", c->line, c->col, c->msg);
			dump_diags(&d);
			fail();
		}
	}
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* ---- decisions --------------------------------------------------------- */

static const char policy_basic[] =
	"rule ops {\n"                         /* 1 */
	"\tmatch user alice\n"
	"\tallow inet icmp\n"
	"\tallow inet6 icmpv6 raw\n"
	"}\n"
	"rule probes {\n"                      /* 6 */
	"\tmatch group probes\n"
	"\tallow inet icmp\n"
	"\tsource 192.0.2.0/24 2001:db8:1::/48\n"
	"}\n"
	"rule staff-v6 {\n"                    /* 11 */
	"\tmatch gid 50\n"
	"\tmatch uid 2000 2001\n"
	"\tallow inet6 icmpv6\n"
	"}\n"
	"rule ghosts {\n"                      /* 16 */
	"\tmatch user carol  # unknown: never matches\n"
	"\tallow inet icmp\n"
	"}\n";

static const char policy_order[] =
	"rule narrow {\n"
	"\tmatch gid 500\n"
	"\tallow inet icmp\n"
	"\tsource 192.0.2.0/24\n"
	"}\n"
	"rule wide {\n"
	"\tmatch any\n"
	"\tallow inet icmp\n"
	"\tallow inet6 icmpv6\n"
	"}\n";

/* mtr-packet's IPv6 probes need raw UDP: opted into for inet6 only. */
static const char policy_mtr[] =
	"rule mtr {\n\tmatch uid 7\n\tallow inet icmp\n\tallow inet6 icmpv6\n"
	"\tallow inet6 udp raw\n}\n";

static const char policy_source[] =
	"rule v4all {\n match uid 1\n allow inet icmp\n source 0.0.0.0/0\n}\n"
	"rule v4host {\n match uid 2\n allow inet icmp\n source 192.0.2.1\n}\n"
	"rule v4slash32 {\n match uid 3\n allow inet icmp\n source 192.0.2.1/32\n}\n"
	"rule v6all {\n match uid 4\n allow inet6 icmpv6\n source ::/0\n}\n"
	"rule v6host {\n match uid 5\n allow inet6 icmpv6\n source 2001:db8::1\n}\n"
	"rule v6only {\n match uid 6\n allow inet icmp\n allow inet6 icmpv6\n"
	" source 2001:db8::/32\n}\n"
	"rule v4only {\n match uid 7\n allow inet icmp\n allow inet6 icmpv6\n"
	" source 10.0.0.0/8\n}\n"
	"rule odd {\n match uid 8\n allow inet icmp\n allow inet6 icmpv6\n"
	" source 192.0.2.128/25 2001:db8:0:2::/63\n}\n"
	"rule v6max {\n match uid 9\n allow inet6 icmpv6\n source 2001:db8::ffff/128\n}\n"
	"rule multi {\n match uid 10\n allow inet icmp\n source 192.0.2.0/24\n"
	" source 198.51.100.0/24\n}\n";

struct decide_case {
	const char *name;
	const char *policy;
	unsigned uid, gid;
	gid_t groups[4];
	size_t ngroups;
	bool groups_null; /* ngroups set, but no array */
	int family, protocol, type;
	const char *source; /* NULL: none */
	enum rb_verdict verdict;
	const char *rule; /* deciding rule; NULL: none */
	const char *reason;
};

#define V4 .family = AF_INET, .protocol = IPPROTO_ICMP, .type = SOCK_RAW
#define V6 .family = AF_INET6, .protocol = IPPROTO_ICMPV6, .type = SOCK_RAW

static const struct decide_case decide_cases[] = {
	/* who */
	{ "decide_user_v4", policy_basic, 1000, 1000, .ngroups = 0, V4,
	  .verdict = RB_ALLOW, .rule = "ops", .reason = "allowed by rule 'ops'" },
	{ "decide_user_v6", policy_basic, 1000, 1000, V6, .verdict = RB_ALLOW,
	  .rule = "ops", .reason = "allowed by rule 'ops'" },
	{ "decide_no_rule", policy_basic, 1001, 1001, V6, .verdict = RB_DENY,
	  .rule = NULL, .reason = "no rule allows uid 1001 gid 1001 inet6/icmpv6/raw" },
	{ "decide_primary_group", policy_basic, 3000, 500, V4, .verdict = RB_ALLOW,
	  .rule = "probes", .reason = "allowed by rule 'probes'" },
	{ "decide_supplementary_group", policy_basic, 3000, 3000, { 7, 500 }, 2, V4,
	  .verdict = RB_ALLOW, .rule = "probes" },
	{ "decide_groups_beyond_count", policy_basic, 3000, 3000, { 7, 500 }, 1, V4,
	  .verdict = RB_DENY, .rule = NULL, .reason = "no rule allows uid 3000" },
	{ "decide_groups_null", policy_basic, 3000, 3000, .ngroups = 5,
	  .groups_null = true, V4, .verdict = RB_DENY, .rule = NULL },
	{ "decide_family_not_allowed", policy_basic, 3000, 500, V6, .verdict = RB_DENY,
	  .rule = NULL, .reason = "no rule allows uid 3000 gid 500 inet6/icmpv6/raw" },
	{ "decide_and_both_fit", policy_basic, 2000, 50, V6, .verdict = RB_ALLOW,
	  .rule = "staff-v6" },
	{ "decide_and_gid_misses", policy_basic, 2000, 51, V6, .verdict = RB_DENY,
	  .rule = NULL },
	{ "decide_and_uid_misses", policy_basic, 2002, 50, V6, .verdict = RB_DENY,
	  .rule = NULL },
	{ "decide_and_supplementary", policy_basic, 2001, 1, { 50 }, 1, V6,
	  .verdict = RB_ALLOW, .rule = "staff-v6" },
	{ "decide_unknown_name_never", policy_basic, 0, 0, V4, .verdict = RB_DENY,
	  .rule = NULL, .reason = "no rule allows uid 0 gid 0 inet/icmp/raw" },
	{ "decide_first_match_wins", policy_basic, 1000, 500, V4,
	  .source = "198.51.100.1", .verdict = RB_ALLOW, .rule = "ops" },
	{ "decide_no_source_lines_any", policy_basic, 1000, 1000, V6,
	  .source = "2001:db8:ffff::1", .verdict = RB_ALLOW, .rule = "ops" },
	/* first match, and the source does not fall through */
	{ "decide_source_refused_no_fallthrough", policy_order, 1, 500, V4,
	  .source = "198.51.100.1", .verdict = RB_DENY, .rule = "narrow",
	  .reason = "rule 'narrow' does not allow source 198.51.100.1" },
	{ "decide_skips_rule_without_family", policy_order, 1, 500, V6,
	  .source = "2001:db8::1", .verdict = RB_ALLOW, .rule = "wide" },
	{ "decide_match_any", policy_order, 4242, 4242, V4, .source = "198.51.100.1",
	  .verdict = RB_ALLOW, .rule = "wide" },
	{ "decide_source_in_prefix", policy_order, 1, 500, V4, .source = "192.0.2.77",
	  .verdict = RB_ALLOW, .rule = "narrow" },
	/* what: values the language does not know */
	{ "decide_af_packet", policy_order, 1, 1, .family = AF_PACKET,
	  .protocol = 768, .type = SOCK_RAW, .verdict = RB_DENY, .rule = NULL,
	  .reason = "no rule allows uid 1 gid 1 family 17/protocol 768/raw" },
	{ "decide_ipproto_raw", policy_order, 1, 1, .family = AF_INET,
	  .protocol = IPPROTO_RAW, .type = SOCK_RAW, .verdict = RB_DENY,
	  .reason = "inet/raw/raw" },
	{ "decide_tcp", policy_order, 1, 1, .family = AF_INET6,
	  .protocol = IPPROTO_TCP, .type = SOCK_RAW, .verdict = RB_DENY,
	  .reason = "inet6/tcp/raw" },
	{ "decide_udp6_opted_in", policy_mtr, 7, 7, .family = AF_INET6,
	  .protocol = IPPROTO_UDP, .type = SOCK_RAW, .verdict = RB_ALLOW, .rule = "mtr" },
	{ "decide_udp4_not_opted_in", policy_mtr, 7, 7, .family = AF_INET,
	  .protocol = IPPROTO_UDP, .type = SOCK_RAW, .verdict = RB_DENY,
	  .reason = "inet/udp/raw" },
	{ "decide_tcp6_not_opted_in", policy_mtr, 7, 7, .family = AF_INET6,
	  .protocol = IPPROTO_TCP, .type = SOCK_RAW, .verdict = RB_DENY,
	  .reason = "inet6/tcp/raw" },
	{ "decide_udp6_other_uid", policy_mtr, 8, 8, .family = AF_INET6,
	  .protocol = IPPROTO_UDP, .type = SOCK_RAW, .verdict = RB_DENY },
	{ "decide_dgram", policy_order, 1, 1, .family = AF_INET,
	  .protocol = IPPROTO_ICMP, .type = SOCK_DGRAM, .verdict = RB_DENY,
	  .reason = "inet/icmp/dgram" },
	{ "decide_type_flags", policy_order, 1, 1, .family = AF_INET,
	  .protocol = IPPROTO_ICMP, .type = SOCK_RAW | SOCK_NONBLOCK,
	  .verdict = RB_DENY, .reason = "inet/icmp/type 2051" },
	{ "decide_crossed_protocol", policy_order, 1, 1, .family = AF_INET,
	  .protocol = IPPROTO_ICMPV6, .type = SOCK_RAW, .verdict = RB_DENY,
	  .reason = "inet/icmpv6/raw" },
	{ "decide_negative_values", policy_order, 4294967295u, 4294967295u,
	  .family = -1, .protocol = -2, .type = -3, .verdict = RB_DENY,
	  .reason = "uid 4294967295 gid 4294967295 family -1/protocol -2/type -3" },
	/* source prefixes */
	{ "decide_v4_slash0_low", policy_source, 1, 1, V4, .source = "0.0.0.0",
	  .verdict = RB_ALLOW, .rule = "v4all" },
	{ "decide_v4_slash0_high", policy_source, 1, 1, V4, .source = "255.255.255.255",
	  .verdict = RB_ALLOW, .rule = "v4all" },
	{ "decide_v4_host", policy_source, 2, 2, V4, .source = "192.0.2.1",
	  .verdict = RB_ALLOW, .rule = "v4host" },
	{ "decide_v4_host_next", policy_source, 2, 2, V4, .source = "192.0.2.2",
	  .verdict = RB_DENY, .rule = "v4host",
	  .reason = "rule 'v4host' does not allow source 192.0.2.2" },
	{ "decide_v4_slash32_prev", policy_source, 3, 3, V4, .source = "192.0.2.0",
	  .verdict = RB_DENY, .rule = "v4slash32" },
	{ "decide_v4_no_source_asked", policy_source, 2, 2, V4, .verdict = RB_ALLOW,
	  .rule = "v4host" },
	{ "decide_v6_slash0", policy_source, 4, 4, V6,
	  .source = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .verdict = RB_ALLOW,
	  .rule = "v6all" },
	{ "decide_v6_host", policy_source, 5, 5, V6, .source = "2001:db8::1",
	  .verdict = RB_ALLOW, .rule = "v6host" },
	{ "decide_v6_host_next", policy_source, 5, 5, V6, .source = "2001:db8::2",
	  .verdict = RB_DENY, .rule = "v6host",
	  .reason = "rule 'v6host' does not allow source 2001:db8::2" },
	{ "decide_v4_source_v6_only_rule", policy_source, 6, 6, V4,
	  .source = "192.0.2.1", .verdict = RB_DENY, .rule = "v6only",
	  .reason = "rule 'v6only' does not allow source 192.0.2.1" },
	{ "decide_v4_nosource_v6_only_rule", policy_source, 6, 6, V4,
	  .verdict = RB_ALLOW, .rule = "v6only" },
	{ "decide_v6_source_v4_only_rule", policy_source, 7, 7, V6, .source = "::1",
	  .verdict = RB_DENY, .rule = "v4only" },
	{ "decide_v4_in_slash8", policy_source, 7, 7, V4, .source = "10.255.255.255",
	  .verdict = RB_ALLOW, .rule = "v4only" },
	{ "decide_v4_past_slash8", policy_source, 7, 7, V4, .source = "11.0.0.0",
	  .verdict = RB_DENY, .rule = "v4only" },
	{ "decide_v4_slash25_first", policy_source, 8, 8, V4, .source = "192.0.2.128",
	  .verdict = RB_ALLOW, .rule = "odd" },
	{ "decide_v4_slash25_below", policy_source, 8, 8, V4, .source = "192.0.2.127",
	  .verdict = RB_DENY, .rule = "odd" },
	{ "decide_v6_slash63_last", policy_source, 8, 8, V6,
	  .source = "2001:db8:0:3:ffff:ffff:ffff:ffff", .verdict = RB_ALLOW,
	  .rule = "odd" },
	{ "decide_v6_slash63_below", policy_source, 8, 8, V6,
	  .source = "2001:db8:0:1:ffff:ffff:ffff:ffff", .verdict = RB_DENY,
	  .rule = "odd" },
	{ "decide_v6_slash63_above", policy_source, 8, 8, V6, .source = "2001:db8:0:4::",
	  .verdict = RB_DENY, .rule = "odd" },
	{ "decide_v6_slash128", policy_source, 9, 9, V6, .source = "2001:db8::ffff",
	  .verdict = RB_ALLOW, .rule = "v6max" },
	{ "decide_v6_slash128_prev", policy_source, 9, 9, V6, .source = "2001:db8::fffe",
	  .verdict = RB_DENY, .rule = "v6max" },
	{ "decide_v4_mapped_not_v4", policy_source, 7, 7, V6,
	  .source = "::ffff:10.0.0.1", .verdict = RB_DENY, .rule = "v4only" },
	{ "decide_sources_add_up_first", policy_source, 10, 10, V4,
	  .source = "192.0.2.9", .verdict = RB_ALLOW, .rule = "multi" },
	{ "decide_sources_add_up_second", policy_source, 10, 10, V4,
	  .source = "198.51.100.255", .verdict = RB_ALLOW, .rule = "multi" },
	{ "decide_sources_add_up_neither", policy_source, 10, 10, V4,
	  .source = "203.0.113.1", .verdict = RB_DENY, .rule = "multi" },
};

static void run_decide(void **state)
{
	const struct decide_case *c = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	struct rb_decision dec;
	struct rb_peer peer = {
		.pid = 42,
		.uid = c->uid,
		.gid = c->gid,
		.groups = c->groups_null ? NULL : c->groups,
		.ngroups = c->ngroups,
	};
	struct rb_query q = {
		.family = c->family,
		.protocol = c->protocol,
		.type = c->type,
		.has_source = c->source != NULL,
	};

	if (c->source)
		assert_int_equal(inet_pton(c->family, c->source, &q.source), 1);
	if (parse(c->policy, &pol, &d) != 0)
		dump_diags(&d);
	assert_non_null(pol);
	memset(&dec, 0xa5, sizeof(dec)); /* decide must set every field */
	assert_int_equal(rb_policy_decide(pol, &peer, &q, &dec), 0);
	if (dec.verdict != c->verdict)
		print_message("reason: %s\n", dec.reason);
	assert_int_equal(dec.verdict, c->verdict);
	if (c->rule) {
		assert_non_null(dec.rule);
		assert_string_equal(dec.rule, c->rule);
		assert_int_equal(dec.line, rule_line(c->policy, c->rule));
	} else {
		assert_null(dec.rule);
		assert_int_equal(dec.line, 0);
	}
	assert_non_null(memchr(dec.reason, '\0', sizeof(dec.reason)));
	assert_true(dec.reason[0] != '\0');
	if (c->reason && !strstr(dec.reason, c->reason)) {
		print_message("reason \"%s\" lacks \"%s\"\n", dec.reason, c->reason);
		fail();
	}
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* ---- bounds and several errors ----------------------------------------- */

/* A growing text buffer for generated policies. */
struct text {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0,
			      fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->s && (size_t)n < t->cap - t->len)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	t->len += (size_t)n;
}

static void round_trip(const char *what, const char *text);

/* How the deciding rule prepares a socket, per family and protocol. */
static void test_decide_prepare(void **state)
{
	static const char text[] =
		"rule probe {\n"
		"  match uid 1000\n"
		"  allow inet icmp\n  allow inet6 icmpv6\n  allow inet udp\n"
		"  source 192.0.2.0/24 2001:db8::/32\n"
		"  default-source 192.0.2.7 2001:db8::1\n"
		"  device eth0\n  mark 0x10\n"
		"  receive icmp echo-reply time-exceeded\n"
		"  receive icmpv6 129 dest-unreachable\n"
		"  rcvbuf 256k\n  sndbuf 65536\n"
		"  rate 10/s burst 30\n  connections 4\n  hdrincl allow\n"
		"}\n"
		"rule plain {\n  match uid 1001\n  allow inet icmp\n}\n";
	struct rb_peer peer = { .uid = 1000, .gid = 1000 };
	struct rb_query q4 = { .family = AF_INET, .protocol = IPPROTO_ICMP, .type = SOCK_RAW };
	struct rb_query q6 = { .family = AF_INET6, .protocol = IPPROTO_ICMPV6,
			       .type = SOCK_RAW };
	struct rb_query qu = { .family = AF_INET, .protocol = IPPROTO_UDP, .type = SOCK_RAW };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	struct rb_decision dec;
	struct rb_limits lim;
	struct rb_prepare conf;
	char a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);

	assert_int_equal(rb_policy_decide(pol, &peer, &q4, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	assert_string_equal(dec.prep.device, "eth0");
	assert_true(dec.prep.has_mark);
	assert_int_equal(dec.prep.mark, 0x10);
	assert_true(dec.prep.has_receive);
	assert_true(rb_icmp_types_has(&dec.prep.receive, 0));
	assert_true(rb_icmp_types_has(&dec.prep.receive, 11));
	assert_false(rb_icmp_types_has(&dec.prep.receive, 3));
	assert_false(rb_icmp_types_has(&dec.prep.receive, 8));
	assert_false(rb_icmp_types_has(&dec.prep.receive, 129));
	assert_true(dec.prep.has_default_source);
	inet_ntop(AF_INET, &dec.prep.default_source.v4, a, sizeof(a));
	assert_string_equal(a, "192.0.2.7");
	assert_int_equal(dec.prep.rcvbuf, 256 * 1024);
	assert_int_equal(dec.prep.sndbuf, 65536);
	assert_true(dec.prep.hdrincl);
	assert_int_equal(dec.limits.rate, 10);
	assert_int_equal(dec.limits.burst, 30);
	assert_int_equal(dec.limits.connections, 4);

	assert_int_equal(rb_policy_decide(pol, &peer, &q6, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	assert_true(dec.prep.has_receive);
	assert_true(rb_icmp_types_has(&dec.prep.receive, 129));
	assert_true(rb_icmp_types_has(&dec.prep.receive, 1));
	assert_false(rb_icmp_types_has(&dec.prep.receive, 0));
	inet_ntop(AF_INET6, &dec.prep.default_source.v6, a, sizeof(a));
	assert_string_equal(a, "2001:db8::1");

	/* no receive filter for raw udp: the language has none for it */
	assert_int_equal(rb_policy_decide(pol, &peer, &qu, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	assert_false(dec.prep.has_receive);
	assert_string_equal(dec.prep.device, "eth0");

	/* a rule that says nothing: no preparation, the default limits */
	peer.uid = peer.gid = 1001;
	assert_int_equal(rb_policy_decide(pol, &peer, &q4, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	assert_string_equal(dec.prep.device, "");
	assert_false(dec.prep.has_mark || dec.prep.has_receive ||
		     dec.prep.has_default_source || dec.prep.hdrincl);
	assert_int_equal(dec.prep.rcvbuf, 0);
	assert_int_equal(dec.limits.rate, 100);
	assert_int_equal(dec.limits.burst, 200);
	assert_int_equal(dec.limits.connections, 64);

	/* per-connection limits: the first rule whose match fits */
	rb_policy_peer_limits(pol, &peer, &lim);
	assert_int_equal(lim.connections, 64);
	peer.uid = peer.gid = 1000;
	rb_policy_peer_limits(pol, &peer, &lim);
	assert_int_equal(lim.connections, 4);
	assert_int_equal(lim.rate, 10);
	peer.uid = peer.gid = 4242; /* no rule fits: the defaults */
	rb_policy_peer_limits(pol, &peer, &lim);
	assert_int_equal(lim.connections, 64);

	/* client confinement by rule name */
	assert_int_equal(rb_policy_rule_confinement(pol, "probe", &conf), 0);
	assert_true(conf.hdrincl);
	assert_int_equal(rb_policy_rule_confinement(pol, "plain", &conf), 0);
	assert_false(conf.hdrincl);
	assert_int_equal(rb_policy_rule_confinement(pol, NULL, &conf), 0);
	assert_false(conf.hdrincl);
	assert_int_equal(rb_policy_rule_confinement(pol, "nope", &conf), -ENOENT);

	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* Bad bytes cost one error each kind, not one per line or a cascade; a BOM
 * is a warning; the "too many errors" line is a note, not a 51st error. */
static void test_lexing_no_cascade(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		size_t len;
		unsigned errors, warnings;
	} cases[] = {
#define LEX(name, s, e, w) { name, s, sizeof(s) - 1, e, w }
		LEX("bom", "\xef\xbb\xbfrule a {\n match uid 1\n allow inet icmp\n}\n", 0, 1),
		LEX("crlf", "rule a {\r\n match uid 1\r\n allow inet icmp\r\n}\r\n", 1, 0),
		LEX("non_ascii_name", "rule caf\xc3\xa9 {\n match uid 1\n allow inet icmp\n}\n"
			"rule b {\n match uid 2\n allow inet icmp\n}\n", 1, 0),
		LEX("non_ascii_twice", "rule a {\n match uid 1\xc2\xa0\n allow inet\xc2\xa0icmp\n}\n",
		    1, 0),
		LEX("nul", "rule a {\n match uid 1\0\n allow inet icmp\n}\n", 1, 0),
		LEX("nul_in_rule_line", "rule a\0 {\n match uid 1\n allow inet icmp\n}\n", 1, 0),
		LEX("two_kinds", "rule a {\r\n match uid 1\0\n allow inet icmp\n}\n", 2, 0),
#undef LEX
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct rb_diags d = { 0 };
		struct rb_policy *pol = NULL;
		size_t e = 0, w = 0;

		parse_len(cases[i].text, cases[i].len, &pol, &d);
		for (size_t k = 0; k < d.n; k++)
			d.v[k].severity == RB_DIAG_ERROR ? e++ : w++;
		if (e != cases[i].errors || w != cases[i].warnings) {
			print_message("%s: %zu errors, %zu warnings; wanted %u, %u\n",
				      cases[i].name, e, w, cases[i].errors, cases[i].warnings);
			dump_diags(&d);
			fail();
		}
		assert_int_equal(pol != NULL, cases[i].errors == 0);
		rb_policy_free(pol);
		rb_diags_free(&d);
	}
}

static void test_too_many_errors_exact(void **state)
{
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	char *text = NULL;
	size_t len = 0, real = 0, notes = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < 60; i++)
		fprintf(f, "rule r%d {\n frobnicate\n match uid 1\n allow inet icmp\n}\n", i);
	fclose(f);
	assert_int_equal(parse_len(text, len, &pol, &d), -EINVAL);
	for (size_t k = 0; k < d.n; k++) {
		if (d.v[k].note)
			notes++;
		else if (d.v[k].severity == RB_DIAG_ERROR)
			real++;
	}
	assert_int_equal(real, 50);
	assert_int_equal(notes, 1);
	assert_true(d.v[d.n - 1].note);
	assert_non_null(strstr(d.v[d.n - 1].msg, "too many errors"));
	free(text);
	rb_diags_free(&d);
}

/* A policy whose full explanation would be over the 1 MiB limit (4096
 * small rules: 186 KB explained to 2.6 MB before) is explained in compact
 * form, under the limit, and reads back as the same policy. */
static void test_explain_compact(void **state)
{
	struct rb_diags d = { 0 }, d2 = { 0 };
	struct rb_policy *pol = NULL, *again = NULL;
	char *text = NULL, *out = NULL;
	size_t len = 0, olen = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < RB_POLICY_MAX_RULES; i++)
		fprintf(f, "rule r%d {\nmatch uid %d\nallow inet icmp\nsource 192.0.2.%d\n"
			"receive icmp 0 3\nrate 5/s\nrcvbuf 64k\n}\n", i, i, i % 256);
	fclose(f);
	assert_int_equal(parse_len(text, len, &pol, &d), 0);
	assert_int_equal(rb_policy_explain(pol, "big.conf", &out, &olen), 0);
	assert_true(olen <= RB_POLICY_MAX_SIZE);
	assert_non_null(strstr(out, "# In its compact form"));
	assert_non_null(strstr(out, "\nrule r7 {\nmatch uid 7\nallow inet icmp\nsource 192.0.2.7\n"
				    "receive icmp 0 3\nrcvbuf 64k\nrate 5/s\n}\n"));
	assert_int_equal(parse_len(out, olen, &again, &d2), 0);
	assert_true(rb_policy_equal(pol, again));
	free(text);
	free(out);
	rb_policy_free(pol);
	rb_policy_free(again);
	rb_diags_free(&d);
	rb_diags_free(&d2);
}

/* recverr and destination: the confinement and what decide() reports. */
static void test_recverr_destination(void **state)
{
	static const char text[] =
		"rule filtered {\n match uid 1\n allow inet icmp\n"
		" receive icmp echo-reply\n}\n"
		"rule opened {\n match uid 2\n allow inet icmp\n"
		" receive icmp echo-reply\n recverr allow\n}\n"
		"rule closed {\n match uid 3\n allow inet icmp\n recverr deny\n"
		" mark 7\n destination 192.0.2.0/24 2001:db8::/32\n"
		" destination 198.51.100.7\n}\n"
		"rule plain {\n match uid 4\n allow inet icmp\n}\n";
	struct rb_policy *pol = NULL, *again = NULL;
	struct rb_diags d = { 0 }, d2 = { 0 };
	struct rb_prepare conf;
	struct rb_peer peer = { .uid = 1, .gid = 1 };
	struct rb_query q = { .family = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	struct rb_decision dec;
	char *out = NULL;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);
	assert_int_equal(rb_policy_rule_confinement(pol, "filtered", &conf), 0);
	assert_true(conf.deny_recverr);
	assert_int_equal(rb_policy_rule_confinement(pol, "opened", &conf), 0);
	assert_false(conf.deny_recverr);
	assert_int_equal(rb_policy_rule_confinement(pol, "closed", &conf), 0);
	assert_true(conf.deny_recverr);
	assert_int_equal(rb_policy_rule_confinement(pol, "plain", &conf), 0);
	assert_false(conf.deny_recverr);
	assert_int_equal(rb_policy_rule_confinement(pol, NULL, &conf), 0);
	assert_false(conf.deny_recverr);
	assert_int_equal(rb_policy_decide(pol, &peer, &q, &dec), 0);
	assert_true(dec.prep.deny_recverr);
	assert_int_equal(pol->rules[2].ndest, 3);
	assert_int_equal(pol->rules[2].dest[1].family, AF_INET6);
	assert_int_equal(pol->rules[2].dest[2].len, 32);

	/* explain keeps both, and the default stays a default */
	assert_int_equal(rb_policy_explain(pol, "t.conf", &out, NULL), 0);
	assert_non_null(strstr(out, "\tdestination 192.0.2.0/24 2001:db8::/32 198.51.100.7/32"));
	assert_non_null(strstr(out, "# recverr deny: client confinement, the default"));
	assert_int_equal(parse(out, &again, &d2), 0);
	assert_true(rb_policy_equal(pol, again));
	/* and equality sees them */
	again->rules[2].dest[0].len = 25;
	assert_false(rb_policy_equal(pol, again));
	again->rules[2].dest[0].len = 24;
	again->rules[1].recverr = false;
	assert_false(rb_policy_equal(pol, again));

	free(out);
	rb_policy_free(pol);
	rb_policy_free(again);
	rb_diags_free(&d);
	rb_diags_free(&d2);
}

/* The broker block, and what is unset without one. */
static void test_global_settings(void **state)
{
	static const char text[] =
		"broker {\n  listen /run/x/rb.sock\n  socket-mode 0660\n"
		"  socket-owner alice\n  socket-group probes\n  user rawbroker\n"
		"  max-connections 300\n  request-timeout 1500ms\n  idle-timeout 2m\n"
		"  log syslog local4\n  log-level warn\n}\n";
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	const struct rb_global *g;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);
	g = rb_policy_global(pol);
	assert_string_equal(g->listen, "/run/x/rb.sock");
	assert_true(g->has_mode);
	assert_int_equal(g->mode, 0660);
	assert_true(g->has_owner);
	assert_int_equal(g->owner, 1000);
	assert_true(g->has_group);
	assert_int_equal(g->group, 500);
	assert_string_equal(g->user, "rawbroker");
	assert_int_equal(g->max_connections, 300);
	assert_int_equal(g->request_timeout_ms, 1500);
	assert_int_equal(g->idle_timeout_ms, 120000);
	assert_int_equal(g->log, RB_LOG_SYSLOG);
	assert_int_equal(g->syslog_facility, LOG_LOCAL4);
	assert_int_equal(g->log_level, 2);
	rb_policy_free(pol);
	rb_diags_free(&d);

	assert_int_equal(parse(IN_RULE("match uid 1\nallow inet icmp"), &pol, &d), 0);
	g = rb_policy_global(pol);
	assert_string_equal(g->listen, "");
	assert_false(g->has_mode || g->has_owner || g->has_group);
	assert_string_equal(g->user, "");
	assert_int_equal(g->max_connections, 0);
	assert_int_equal(g->request_timeout_ms, 0);
	assert_int_equal(g->idle_timeout_ms, 0);
	assert_int_equal(g->log, RB_LOG_UNSET);
	assert_int_equal(g->log_level, -1);
	rb_policy_free(pol);
	rb_diags_free(&d);

	/* the block survives explain */
	round_trip("global", text);
}

/* Options: first fitting rule that names the option; peers of other
 * rules may not hand the broker descriptors at all. */
static void test_decide_option(void **state)
{
	static const char text[] =
		"rule atlas {\n\tmatch uid 7\n\tallow inet6 icmpv6\n"
		"\toptions ipv6-hopopts ipv6-dstopts\n}\n"
		"rule hop {\n\tmatch gid 50\n\tallow inet6 icmpv6\n\toptions ipv6-hopopts\n}\n"
		"rule plain {\n\tmatch any\n\tallow inet6 icmpv6\n}\n";
	struct rb_peer atlas = { .uid = 7, .gid = 7 }, staff = { .uid = 8, .gid = 50 },
		       other = { .uid = 9, .gid = 9 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	struct rb_decision dec;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);
	assert_int_equal(rb_policy_decide_option(pol, &atlas, RB_OPT_IPV6_DSTOPTS, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	assert_string_equal(dec.rule, "atlas");
	assert_int_equal(rb_policy_decide_option(pol, &staff, RB_OPT_IPV6_HOPOPTS, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	assert_string_equal(dec.rule, "hop");
	assert_int_equal(rb_policy_decide_option(pol, &staff, RB_OPT_IPV6_DSTOPTS, &dec), 0);
	assert_int_equal(dec.verdict, RB_DENY);
	assert_null(dec.rule);
	assert_string_equal(dec.reason, "no rule lets uid 8 gid 50 set ipv6-dstopts");
	assert_int_equal(rb_policy_decide_option(pol, &other, RB_OPT_IPV6_HOPOPTS, &dec), 0);
	assert_int_equal(dec.verdict, RB_DENY);
	assert_int_equal(rb_policy_decide_option(pol, &atlas, 1u << 7, &dec), -EINVAL);
	assert_true(rb_policy_peer_may_set_options(pol, &atlas));
	assert_true(rb_policy_peer_may_set_options(pol, &staff));
	assert_false(rb_policy_peer_may_set_options(pol, &other));
	assert_string_equal(rb_option_name(RB_OPT_IPV6_HOPOPTS), "ipv6-hopopts");
	assert_null(rb_option_name(3));
	rb_policy_free(pol);
	rb_diags_free(&d);
}

static void test_several_errors_one_pass(void **state)
{
	static const char text[] =
		"rule a {\n"
		"\tmatch uid x\n"         /* 2 */
		"\tallow inet udp dgram\n" /* 3 */
		"\tsource 1.2.3.4/8\n"    /* 4 */
		"\tmatch any\n"           /* 5 */
		"}\n"
		"}\n";                    /* 7 */
	static const unsigned lines[] = { 2, 3, 4, 5, 7 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), -EINVAL);
	assert_null(pol);
	if (d.errors != 5)
		dump_diags(&d);
	assert_int_equal(d.errors, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(d.v[i].line, lines[i]);
	rb_diags_free(&d);
}

static void test_error_cap(void **state)
{
	struct text t = { 0 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	for (int i = 0; i < 80; i++)
		add(&t, "}\n");
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), -EINVAL);
	assert_null(pol);
	/* 50 errors, then one saying the parse stopped */
	assert_int_equal(d.errors, 51);
	assert_int_equal(d.n, 51);
	assert_int_equal(d.v[49].line, 50);
	assert_int_equal(d.v[50].line, 0);
	assert_non_null(strstr(d.v[50].msg, "too many errors"));
	free(t.s);
	rb_diags_free(&d);
}

static void test_warning_cap(void **state)
{
	struct text t = { 0 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	add(&t, "rule a {\nmatch user");
	for (int i = 0; i < 150; i++)
		add(&t, " nobody%d", i);
	add(&t, "\nallow inet icmp\n}\n");
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), 0);
	assert_non_null(pol);
	assert_int_equal(d.warnings, 101);
	assert_non_null(strstr(d.v[d.n - 1].msg, "too many warnings"));
	rb_policy_free(pol);
	free(t.s);
	rb_diags_free(&d);
}

static void test_rule_cap(void **state)
{
	struct text t = { 0 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	for (int i = 0; i < 4096; i++)
		add(&t, "rule r%d {\nmatch any\nallow inet icmp\n}\n", i);
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), 0);
	assert_int_equal(rb_policy_rule_count(pol), 4096);
	rb_policy_free(pol);
	rb_diags_free(&d);

	add(&t, "rule one-too-many {\nmatch any\nallow inet icmp\n}\n");
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), -EINVAL);
	assert_null(pol);
	expect_diag(&d, RB_DIAG_ERROR, 4096 * 4 + 1, 1, "too many rules (max 4096)");
	free(t.s);
	rb_diags_free(&d);
}

/*
 * A rule whose line 3 is PREFIX and N copies of VALUE, then TRAILER.
 * Returns the column of the last value.
 */
static unsigned values_rule(struct text *t, const char *prefix, const char *value,
			    int n, const char *trailer)
{
	size_t line_start;
	unsigned col = 0;

	add(t, "rule a {\nallow inet icmp\n");
	line_start = t->len;
	add(t, "%s", prefix);
	for (int i = 0; i < n; i++) {
		col = (unsigned)(t->len - line_start) + 2;
		add(t, " %s", value);
	}
	add(t, "\n%s}\n", trailer);
	return col;
}

static void test_values_cap(void **state)
{
	static const struct {
		const char *prefix, *value, *trailer;
	} kinds[] = {
		{ "match uid", "7", "" },
		{ "match user", "alice", "" },
		{ "source", "192.0.2.1", "match any\n" },
	};
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct text t = { 0 };
		unsigned col;

		values_rule(&t, kinds[k].prefix, kinds[k].value, 1024, kinds[k].trailer);
		assert_int_equal(parse_len(t.s, t.len, &pol, &d), 0);
		rb_policy_free(pol);
		rb_diags_free(&d);
		free(t.s);

		t = (struct text){ 0 };
		col = values_rule(&t, kinds[k].prefix, kinds[k].value, 1025,
				  kinds[k].trailer);
		assert_int_equal(parse_len(t.s, t.len, &pol, &d), -EINVAL);
		assert_null(pol);
		expect_diag(&d, RB_DIAG_ERROR, 3, col, "too many values on one line "
			    "(max 1024)");
		rb_diags_free(&d);
		free(t.s);
	}
}

static void test_token_length(void **state)
{
	struct text t = { 0 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	char name[300];

	(void)state;
	memset(name, 'x', 255);
	name[255] = '\0';
	add(&t, "rule a {\nmatch user %s\nallow inet icmp\n}\n", name);
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), 0);
	/* the unknown name is quoted shortened */
	expect_diag(&d, RB_DIAG_WARNING, 2, 12, "unknown user 'xxxxxxxxxx");
	expect_diag(&d, RB_DIAG_WARNING, 2, 12, "...'");
	rb_policy_free(pol);
	rb_diags_free(&d);
	free(t.s);

	t = (struct text){ 0 };
	add(&t, "rule a {\nmatch user %sx\nallow inet icmp\n}\n", name);
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), -EINVAL);
	expect_diag(&d, RB_DIAG_ERROR, 2, 12, "token of 256 bytes");
	rb_diags_free(&d);
	free(t.s);
}

static void test_parse_too_big(void **state)
{
	size_t len = RB_POLICY_MAX_SIZE + 1;
	char *buf = malloc(len);
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	assert_non_null(buf);
	memset(buf, '#', len);
	assert_int_equal(rb_policy_parse(buf, len, "big", &fake_resolver, &pol, &d),
			 -EFBIG);
	assert_null(pol);
	expect_diag(&d, RB_DIAG_ERROR, 0, 0, "the limit is 1048576");
	free(buf);
	rb_diags_free(&d);
}

static void test_parse_args(void **state)
{
	static const struct rb_resolver half = { .user = fake_user };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = (struct rb_policy *)&d;
	const char *ok = IN_RULE("match any\nallow inet icmp");

	(void)state;
	assert_int_equal(rb_policy_parse(ok, strlen(ok), "x", NULL, NULL, &d), -EINVAL);
	assert_int_equal(rb_policy_parse(NULL, 5, "x", NULL, &pol, &d), -EINVAL);
	assert_null(pol);
	assert_int_equal(rb_policy_parse(ok, strlen(ok), "x", &half, &pol, &d), -EINVAL);

	/* no text at all is an empty policy */
	assert_int_equal(rb_policy_parse(NULL, 0, NULL, &fake_resolver, &pol, &d), 0);
	assert_int_equal(rb_policy_rule_count(pol), 0);
	assert_string_equal(d.file, "<policy>");
	rb_policy_free(pol);
	rb_diags_free(&d);

	/* diagnostics are optional */
	assert_int_equal(rb_policy_parse(ok, strlen(ok), "x", &fake_resolver, &pol, NULL),
			 0);
	rb_policy_free(pol);
	assert_int_equal(rb_policy_parse("}", 1, "x", &fake_resolver, &pol, NULL),
			 -EINVAL);
	assert_null(pol);

	assert_int_equal(rb_policy_rule_count(NULL), 0);
	rb_policy_free(NULL);
	rb_diags_free(NULL);
}

static void test_resolver_ctx(void **state)
{
	unsigned calls = 0;
	struct rb_resolver res = fake_resolver;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	const char *text = IN_RULE("match user alice bob\nmatch group staff\n"
				   "allow inet icmp");

	(void)state;
	res.ctx = &calls;
	assert_int_equal(rb_policy_parse(text, strlen(text), "x", &res, &pol, &d), 0);
	assert_int_equal(calls, 3);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

static void test_system_resolver(void **state)
{
	uid_t uid = 1;
	gid_t gid = 1;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	const char *text = IN_RULE("match user root\nmatch group root\nallow inet icmp");
	struct rb_peer root = { .uid = 0, .gid = 0 };
	struct rb_query q = { .family = AF_INET, .protocol = IPPROTO_ICMP,
			      .type = SOCK_RAW };
	struct rb_decision dec;

	(void)state;
	assert_int_equal(rb_resolver_system.user("root", &uid, NULL), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(rb_resolver_system.group("root", &gid, NULL), 0);
	assert_int_equal(gid, 0);
	assert_int_equal(rb_resolver_system.user("rb-no-such-user-x", &uid, NULL),
			 -ENOENT);
	assert_int_equal(rb_resolver_system.group("rb-no-such-group-x", &gid, NULL),
			 -ENOENT);

	/* NULL resolver means the system one */
	assert_int_equal(rb_policy_parse(text, strlen(text), "x", NULL, &pol, &d), 0);
	assert_int_equal(rb_policy_decide(pol, &root, &q, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* ---- loading ----------------------------------------------------------- */

struct tmp {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_policy.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/policy.conf", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	unlink(t->path);
	rmdir(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		assert_true(n > 0);
		text += n;
		len -= (size_t)n;
	}
	assert_int_equal(close(fd), 0);
}

static void test_load_ok(void **state)
{
	struct tmp *t = *state;
	const char *text = IN_RULE("match user bob\nallow inet6 icmpv6");
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	write_file(t->path, text, strlen(text));
	assert_int_equal(rb_policy_load(t->path, &fake_resolver, &pol, &d), 0);
	assert_int_equal(rb_policy_rule_count(pol), 1);
	assert_int_equal(d.n, 0);
	assert_string_equal(d.file, t->path);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

static void test_load_missing(void **state)
{
	struct tmp *t = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = (struct rb_policy *)&d;
	char want[256], got[512];

	assert_int_equal(rb_policy_load(t->path, &fake_resolver, &pol, &d), -ENOENT);
	assert_null(pol);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.errors, 1);
	snprintf(want, sizeof(want), "%s: error: cannot open: No such file or directory",
		 t->path);
	rb_diag_format(&d, &d.v[0], got, sizeof(got));
	assert_string_equal(got, want);
	rb_diags_free(&d);
}

static void test_load_directory(void **state)
{
	struct tmp *t = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	assert_int_equal(mkdir(t->path, 0700), 0);
	assert_int_equal(rb_policy_load(t->path, &fake_resolver, &pol, &d), -EISDIR);
	assert_null(pol);
	assert_int_equal(d.n, 1);
	expect_diag(&d, RB_DIAG_ERROR, 0, 0, "is a directory");
	rb_diags_free(&d);
}

static void test_load_fifo(void **state)
{
	struct tmp *t = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	/* must not block waiting for a writer */
	assert_int_equal(mkfifo(t->path, 0600), 0);
	assert_int_equal(rb_policy_load(t->path, &fake_resolver, &pol, &d), -EINVAL);
	assert_null(pol);
	expect_diag(&d, RB_DIAG_ERROR, 0, 0, "not a regular file");
	rb_diags_free(&d);
}

/* A file of LEN bytes of comment lines. */
static void write_comments(const char *path, size_t len)
{
	char *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, '#', len);
	for (size_t i = 79; i < len; i += 80)
		buf[i] = '\n';
	write_file(path, buf, len);
	free(buf);
}

static void test_load_oversize(void **state)
{
	struct tmp *t = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	write_comments(t->path, RB_POLICY_MAX_SIZE + 1);
	assert_int_equal(rb_policy_load(t->path, &fake_resolver, &pol, &d), -EFBIG);
	assert_null(pol);
	assert_int_equal(d.n, 1);
	expect_diag(&d, RB_DIAG_ERROR, 0, 0,
		    "file is 1048577 bytes; the limit is 1048576");
	rb_diags_free(&d);
}

static void test_load_exactly_max(void **state)
{
	struct tmp *t = *state;
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	write_comments(t->path, RB_POLICY_MAX_SIZE);
	assert_int_equal(rb_policy_load(t->path, &fake_resolver, &pol, &d), 0);
	assert_int_equal(rb_policy_rule_count(pol), 0);
	expect_diag(&d, RB_DIAG_WARNING, 0, 0, "policy has no rules");
	rb_policy_free(pol);
	rb_diags_free(&d);
}

static void test_load_error_names_file(void **state)
{
	struct tmp *t = *state;
	const char *text = "rule a {\n\tmatch uid bob\n\tallow inet icmp\n}\n";
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	char want[256], got[512];

	write_file(t->path, text, strlen(text));
	assert_int_equal(rb_policy_load(t->path, &fake_resolver, &pol, &d), -EINVAL);
	assert_null(pol);
	assert_int_equal(d.errors, 1);
	snprintf(want, sizeof(want), "%s:2:12: error: expected a uid (0..4294967294), "
		 "found 'bob'", t->path);
	rb_diag_format(&d, &d.v[0], got, sizeof(got));
	assert_string_equal(got, want);
	rb_diags_free(&d);
}

/* ---- formatting, names, arguments -------------------------------------- */

static void test_diag_format(void **state)
{
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	struct rb_diag e = { .severity = RB_DIAG_ERROR, .line = 3, .col = 7,
			     .msg = "boom" };
	struct rb_diag w = { .severity = RB_DIAG_WARNING, .line = 12, .col = 1,
			     .msg = "hmm" };
	struct rb_diag f = { .severity = RB_DIAG_ERROR, .line = 0, .col = 0,
			     .msg = "cannot open: nope" };
	char buf[128];

	(void)state;
	snprintf(d.file, sizeof(d.file), "x.conf");
	assert_int_equal(rb_diag_format(&d, &e, buf, sizeof(buf)), 23);
	assert_string_equal(buf, "x.conf:3:7: error: boom");
	rb_diag_format(&d, &w, buf, sizeof(buf));
	assert_string_equal(buf, "x.conf:12:1: warning: hmm");
	rb_diag_format(&d, &f, buf, sizeof(buf));
	assert_string_equal(buf, "x.conf: error: cannot open: nope");

	/* truncation keeps the snprintf() contract */
	assert_int_equal(rb_diag_format(&d, &e, buf, 8), 23);
	assert_string_equal(buf, "x.conf:");

	d.file[0] = '\0';
	rb_diag_format(&d, &e, buf, sizeof(buf));
	assert_string_equal(buf, "<policy>:3:7: error: boom");

	/* a real one */
	assert_int_equal(parse("  }\n", &pol, &d), -EINVAL);
	rb_diag_format(&d, &d.v[0], buf, sizeof(buf));
	assert_string_equal(buf, "test.conf:1:3: error: found '}' outside a rule");
	rb_diags_free(&d);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rb_family_name(AF_INET), "inet");
	assert_string_equal(rb_family_name(AF_INET6), "inet6");
	assert_null(rb_family_name(AF_PACKET));
	assert_null(rb_family_name(AF_UNIX));
	assert_string_equal(rb_protocol_name(IPPROTO_ICMP), "icmp");
	assert_string_equal(rb_protocol_name(IPPROTO_ICMPV6), "icmpv6");
	assert_string_equal(rb_protocol_name(IPPROTO_TCP), "tcp");
	assert_string_equal(rb_protocol_name(IPPROTO_UDP), "udp");
	assert_string_equal(rb_protocol_name(IPPROTO_RAW), "raw");
	assert_null(rb_protocol_name(IPPROTO_SCTP));
	assert_string_equal(rb_type_name(SOCK_RAW), "raw");
	assert_string_equal(rb_type_name(SOCK_DGRAM), "dgram");
	assert_string_equal(rb_type_name(SOCK_STREAM), "stream");
	assert_null(rb_type_name(SOCK_SEQPACKET));
	assert_null(rb_type_name(SOCK_RAW | SOCK_CLOEXEC));
}

static void test_decide_args(void **state)
{
	const char *text = IN_RULE("match any\nallow inet icmp");
	struct rb_peer peer = { .uid = 1, .gid = 1 };
	struct rb_query q = { .family = AF_INET, .protocol = IPPROTO_ICMP,
			      .type = SOCK_RAW };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	struct rb_decision dec;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);
	memset(&dec, 0x5a, sizeof(dec));
	assert_int_equal(rb_policy_decide(NULL, &peer, &q, &dec), -EINVAL);
	assert_int_equal(dec.verdict, RB_DENY);
	assert_null(dec.rule);
	assert_true(dec.reason[0] != '\0');
	assert_int_equal(rb_policy_decide(pol, NULL, &q, &dec), -EINVAL);
	assert_int_equal(dec.verdict, RB_DENY);
	assert_int_equal(rb_policy_decide(pol, &peer, NULL, &dec), -EINVAL);
	assert_int_equal(rb_policy_decide(pol, &peer, &q, NULL), -EINVAL);
	assert_int_equal(rb_policy_decide(pol, &peer, &q, &dec), 0);
	assert_int_equal(dec.verdict, RB_ALLOW);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* ---- check: arguments, order, cap ----------------------------------------- */

static void test_check_args(void **state)
{
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	assert_int_equal(parse(IN_RULE("match uid 1\nallow inet icmp"), &pol, &d), 0);
	assert_int_equal(rb_policy_check(NULL, &d), -EINVAL);
	assert_int_equal(rb_policy_check(pol, NULL), -EINVAL);
	assert_int_equal(rb_policy_check(pol, &d), 0);
	assert_int_equal(d.n, 0);
	rb_policy_free(pol);
	/* an empty policy has nothing to check */
	assert_int_equal(parse("", &pol, &d), 0);
	assert_int_equal(rb_policy_check(pol, &d), 0);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* A rule's own warnings come first, then its statements' in line order. */
static void test_check_order(void **state)
{
	static const char text[] =
		"rule a {\n\tmatch any\n\tallow inet udp\n\tsource any\n"
		"\tallow inet6 tcp\n}\n"
		"rule b {\n\tmatch any\n\tallow inet udp\n\tsource any\n}\n";
	static const unsigned want[][2] = { { 3, 2 }, { 4, 2 }, { 5, 2 },
					     { 7, 1 }, { 9, 2 }, { 10, 2 } };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);
	assert_int_equal(rb_policy_check(pol, &d), 6);
	if (d.n != 6)
		dump_diags(&d);
	assert_int_equal(d.n, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(d.v[i].line, want[i][0]);
		assert_int_equal(d.v[i].col, want[i][1]);
	}
	assert_non_null(strstr(d.v[3].msg, "rule 'b' is never reached"));
	rb_policy_free(pol);
	rb_diags_free(&d);
}

static void test_check_cap(void **state)
{
	struct text t = { 0 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	for (int i = 0; i < 150; i++)
		add(&t, "rule r%d {\nmatch uid 1\nallow inet icmp\n}\n", i);
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), 0);
	assert_int_equal(rb_policy_check(pol, &d), 101);
	assert_int_equal(d.warnings, 101);
	assert_int_equal(d.v[99].line, 4 * 100 + 1); /* r100; r0 is not shadowed */
	assert_int_equal(d.v[100].line, 0);
	assert_non_null(strstr(d.v[100].msg, "too many warnings"));
	rb_policy_free(pol);
	rb_diags_free(&d);
	free(t.s);
}

/* The largest policy the parser takes, every rule like the one before but
 * for its last uid: the check still finishes (each pair is compared in
 * time linear in the two rules). */
static void test_check_many_rules(void **state)
{
	struct text t = { 0 };
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;

	(void)state;
	for (int i = 0; i < 4096; i++)
		add(&t, "rule r%d {\nmatch uid 1 2 3 4 5 6 7 8 %d\nallow inet icmp\n}\n",
		    i, 10000 + i);
	assert_int_equal(parse_len(t.s, t.len, &pol, &d), 0);
	assert_int_equal(rb_policy_check(pol, &d), 0);
	rb_policy_free(pol);
	rb_diags_free(&d);
	free(t.s);
}

/* ---- explain and equality ------------------------------------------------ */

/* Parse TEXT, explain it, parse that: no errors, and the same policy. */
static void round_trip(const char *what, const char *text)
{
	struct rb_diags d1 = { 0 }, d2 = { 0 };
	struct rb_policy *p1 = NULL, *p2 = NULL;
	char *out = NULL;
	size_t len = 0;

	if (parse(text, &p1, &d1) != 0) {
		print_message("%s: not a valid policy\n", what);
		fail();
	}
	assert_int_equal(rb_policy_explain(p1, "test.conf", &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	if (parse_len(out, len, &p2, &d2) != 0 || !rb_policy_equal(p1, p2)) {
		print_message("%s: explain's output does not parse to the same "
			      "policy:\n%s\n", what, out);
		dump_diags(&d2);
		fail();
	}
	free(out);
	rb_policy_free(p1);
	rb_policy_free(p2);
	rb_diags_free(&d1);
	rb_diags_free(&d2);
}

static void test_explain_round_trip(void **state)
{
	static const char *const policies[] = {
		policy_basic, policy_order, policy_mtr, policy_source,
		"rule x {\n\tmatch user alice carol bob\n\tmatch group staff probes\n"
		"\tallow inet icmp\n\tallow inet6 udp\n\tsource any\n"
		"\toptions ipv6-dstopts ipv6-hopopts\n\toptions ipv6-hopopts\n}\n",
	};

	(void)state;
	for (size_t i = 0; i < NELEM(valid_cases); i++)
		round_trip(valid_cases[i].name, valid_cases[i].text);
	for (size_t i = 0; i < NELEM(warning_cases); i++)
		round_trip(warning_cases[i].name, warning_cases[i].text);
	for (size_t i = 0; i < NELEM(check_cases); i++)
		round_trip(check_cases[i].name, check_cases[i].text);
	for (size_t i = 0; i < NELEM(policies); i++)
		round_trip("policies[]", policies[i]);
}

static void expect_text(const char *out, const char *want)
{
	if (!strstr(out, want)) {
		print_message("explain's output lacks \"%s\":\n%s\n", want, out);
		fail();
	}
}

static void test_explain_text(void **state)
{
	static const char text[] =
		"rule ops {\n"
		"  match user alice carol # carol is unknown\n"
		"  match group staff\n"
		"  allow inet icmp\n"
		"  allow inet6 udp\n"
		"}\n"
		"rule ghost {\n"
		"  match user carol\n"
		"  allow inet icmp raw\n"
		"  options ipv6-dstopts ipv6-hopopts\n"
		"}\n"
		"rule all {\n"
		"  match any\n"
		"  allow inet icmp\n"
		"  source 192.0.2.0/24 2001:db8::/32\n"
		"}\n";
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	char *out = NULL;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);
	assert_int_equal(rb_policy_explain(pol, "my\npolicy.conf", &out, NULL), 0);
	/* the header: where from (sanitized), the decision rule */
	expect_text(out, "# rawbroker policy read from my?policy.conf,");
	expect_text(out, "# How a socket request is decided: the first rule");
	expect_text(out, "No rule decides: deny.");
	/* rules with their lines, names resolved in comments */
	expect_text(out, "\nrule ops {  # line 1\n");
	expect_text(out, "\tmatch user alice carol  # user alice (uid 1000), user carol "
		    "(unknown: never matches)\n");
	expect_text(out, "\tmatch group staff  # group staff (gid 50)\n");
	/* the type and the default source made explicit */
	expect_text(out, "\tallow inet icmp raw\n\tallow inet6 udp raw\n"
		    "\tsource any  # the default: the rule has no 'source' line\n");
	expect_text(out, "\t# options: none\n\thdrincl deny  # client confinement; the "
		    "default\n}\n");
	/* the check's warnings as comments in the rule */
	expect_text(out, "rule ops {  # line 1\n\t# warning (line 5): rule 'ops' allows "
		    "raw udp sockets for inet6");
	expect_text(out, "\nrule ghost {  # line 7\n\tmatch user carol  # user carol "
		    "(unknown: never matches); no name is known, so the rule never "
		    "matches\n");
	expect_text(out, "\toptions ipv6-hopopts ipv6-dstopts\n");
	expect_text(out, "\nrule all {  # line 12\n\tmatch any  # every client\n");
	expect_text(out, "\tsource 192.0.2.0/24 2001:db8::/32\n");
	free(out);

	assert_int_equal(rb_policy_explain(pol, NULL, &out, NULL), 0);
	expect_text(out, "# rawbroker policy, as rawbroker-policy explain shows it.\n");
	free(out);

	assert_int_equal(rb_policy_explain(NULL, NULL, &out, NULL), -EINVAL);
	assert_null(out);
	assert_int_equal(rb_policy_explain(pol, NULL, NULL, NULL), -EINVAL);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

/* accept-risk in both forms of explain: written once, its words in one
 * order, and read back as the same policy; the warnings it silences are
 * not in the comments, a stale word's is. */
static void test_explain_accept_risk(void **state)
{
	static const char text[] =
		"rule mtr {\n"
		"  match uid 7\n"
		"  allow inet icmp\n"
		"  allow inet6 udp\n"
		"  hdrincl allow\n"
		"  accept-risk hdrincl\n"
		"  accept-risk raw-tcp raw-udp\n"
		"}\n";
	struct rb_diags d = { 0 }, d2 = { 0 };
	struct rb_policy *pol = NULL, *again = NULL;
	char *out = NULL, *big = NULL;
	size_t len = 0, blen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse(text, &pol, &d), 0);
	assert_int_equal(rb_policy_explain(pol, "a.conf", &out, &len), 0);
	expect_text(out, "\thdrincl allow  # client confinement\n"
		    "\taccept-risk raw-udp raw-tcp hdrincl  # on purpose: check does not "
		    "warn about these\n}\n");
	expect_text(out, "\t# warning (line 7): rule 'mtr' accepts the risk 'raw-tcp', "
		    "which it does not have");
	assert_null(strstr(out, "allows raw udp"));
	assert_null(strstr(out, "has 'hdrincl allow'"));
	assert_int_equal(parse_len(out, len, &again, &d2), 0);
	assert_true(rb_policy_equal(pol, again));
	rb_policy_free(again);
	again = NULL;
	free(out);
	out = NULL;

	/* the compact form, for a policy too big to explain in full */
	f = open_memstream(&big, &blen);
	assert_non_null(f);
	for (int i = 0; i < RB_POLICY_MAX_RULES; i++)
		fprintf(f, "rule r%d {\nmatch uid %d\nallow inet udp\nreceive icmp 0 3\n"
			"rate 5/s\nrcvbuf 64k\naccept-risk raw-udp\n}\n", i, i);
	fclose(f);
	rb_policy_free(pol);
	pol = NULL;
	assert_int_equal(parse_len(big, blen, &pol, &d), 0);
	assert_int_equal(rb_policy_explain(pol, "big.conf", &out, &len), 0);
	assert_non_null(strstr(out, "# In its compact form"));
	expect_text(out, "\nrule r7 {\nmatch uid 7\nallow inet udp\nreceive icmp 0 3\n"
		    "rcvbuf 64k\nrate 5/s\naccept-risk raw-udp\n}\n");
	assert_int_equal(parse_len(out, len, &again, &d2), 0);
	assert_true(rb_policy_equal(pol, again));
	free(big);
	free(out);
	rb_policy_free(pol);
	rb_policy_free(again);
	rb_diags_free(&d);
	rb_diags_free(&d2);
}

/* Many sources are spread over several lines, each well under the limit. */
static void test_explain_many_sources(void **state)
{
	struct text t = { 0 };
	struct rb_diags d = { 0 };
	struct rb_policy *p1 = NULL, *p2 = NULL;
	char *out = NULL;
	size_t len = 0;

	(void)state;
	add(&t, "rule a {\nmatch uid 1\nallow inet icmp\n");
	for (int line = 0; line < 3; line++) {
		add(&t, "source");
		for (int i = 0; i < 1024; i++)
			add(&t, " 10.%d.%d.0/24", line * 4 + i / 256, i % 256);
		add(&t, "\n");
	}
	add(&t, "}\n");
	assert_int_equal(parse_len(t.s, t.len, &p1, &d), 0);
	assert_int_equal(rb_policy_explain(p1, "x", &out, &len), 0);
	assert_int_equal(parse_len(out, len, &p2, &d), 0);
	assert_true(rb_policy_equal(p1, p2));
	free(out);
	free(t.s);
	rb_policy_free(p1);
	rb_policy_free(p2);
	rb_diags_free(&d);
}

static void test_explain_empty(void **state)
{
	struct rb_diags d = { 0 };
	struct rb_policy *pol = NULL;
	char *out = NULL;

	(void)state;
	assert_int_equal(parse("# nothing\n", &pol, &d), 0);
	assert_int_equal(rb_policy_explain(pol, "e.conf", &out, NULL), 0);
	expect_text(out, "\n# No rules: every request is denied.\n");
	assert_null(strstr(out, "\nrule "));
	free(out);
	rb_policy_free(pol);
	rb_diags_free(&d);
}

static void test_policy_equal(void **state)
{
	static const char base[] = IN_RULE("match uid 1 2\nallow inet icmp\n"
					   "source 192.0.2.0/24\noptions ipv6-hopopts");
	static const char *const differ[] = {
		"rule b {\nmatch uid 1 2\nallow inet icmp\nsource 192.0.2.0/24\n"
		"options ipv6-hopopts\n}\n",
		IN_RULE("match uid 1 3\nallow inet icmp\nsource 192.0.2.0/24\n"
			"options ipv6-hopopts"),
		IN_RULE("match gid 1 2\nallow inet icmp\nsource 192.0.2.0/24\n"
			"options ipv6-hopopts"),
		IN_RULE("match any\nallow inet icmp\nsource 192.0.2.0/24\n"
			"options ipv6-hopopts"),
		IN_RULE("match uid 1 2\nallow inet6 icmpv6\nsource 192.0.2.0/24\n"
			"options ipv6-hopopts"),
		IN_RULE("match uid 1 2\nallow inet icmp\nsource 192.0.2.0/25\n"
			"options ipv6-hopopts"),
		IN_RULE("match uid 1 2\nallow inet icmp\noptions ipv6-hopopts"),
		IN_RULE("match uid 1 2\nallow inet icmp\nsource 192.0.2.0/24\n"
			"options ipv6-dstopts"),
		IN_RULE("match uid 1 2\nallow inet icmp\nsource 192.0.2.0/24\n"
			"options ipv6-hopopts\naccept-risk hdrincl"),
		IN_RULE("match uid 1 2\nallow inet icmp\nsource 192.0.2.0/24\n"
			"options ipv6-hopopts")
		"rule b {\nmatch any\nallow inet icmp\n}\n",
	};
	/* the same but for layout, comments, defaults and names */
	static const char same[] =
		"# a comment\nrule a {  # here\n\tsource 192.0.2.0/24\n"
		"\toptions ipv6-hopopts\n\tallow inet icmp raw\n\tmatch uid 1 2\n}\n";
	struct rb_diags d = { 0 };
	struct rb_policy *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(parse(base, &a, &d), 0);
	assert_true(rb_policy_equal(a, a));
	assert_int_equal(parse(same, &b, &d), 0);
	assert_true(rb_policy_equal(a, b));
	rb_policy_free(b);
	for (size_t i = 0; i < NELEM(differ); i++) {
		assert_int_equal(parse(differ[i], &b, &d), 0);
		if (rb_policy_equal(a, b) || rb_policy_equal(b, a)) {
			print_message("differ[%zu] compares equal\n", i);
			fail();
		}
		rb_policy_free(b);
	}
	assert_true(rb_policy_equal(NULL, NULL));
	assert_false(rb_policy_equal(a, NULL));
	assert_false(rb_policy_equal(NULL, a));
	rb_policy_free(a);
	rb_diags_free(&d);
}

/* ---- main -------------------------------------------------------------- */

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_several_errors_one_pass),
	cmocka_unit_test(test_decide_prepare),
	cmocka_unit_test(test_recverr_destination),
	cmocka_unit_test(test_lexing_no_cascade),
	cmocka_unit_test(test_explain_compact),
	cmocka_unit_test(test_too_many_errors_exact),
	cmocka_unit_test(test_global_settings),
		cmocka_unit_test(test_decide_option),
	cmocka_unit_test(test_error_cap),
	cmocka_unit_test(test_warning_cap),
	cmocka_unit_test(test_rule_cap),
	cmocka_unit_test(test_values_cap),
	cmocka_unit_test(test_token_length),
	cmocka_unit_test(test_parse_too_big),
	cmocka_unit_test(test_parse_args),
	cmocka_unit_test(test_resolver_ctx),
	cmocka_unit_test(test_system_resolver),
	cmocka_unit_test_setup_teardown(test_load_ok, tmp_setup, tmp_teardown),
	cmocka_unit_test_setup_teardown(test_load_missing, tmp_setup, tmp_teardown),
	cmocka_unit_test_setup_teardown(test_load_directory, tmp_setup, tmp_teardown),
	cmocka_unit_test_setup_teardown(test_load_fifo, tmp_setup, tmp_teardown),
	cmocka_unit_test_setup_teardown(test_load_oversize, tmp_setup, tmp_teardown),
	cmocka_unit_test_setup_teardown(test_load_exactly_max, tmp_setup, tmp_teardown),
	cmocka_unit_test_setup_teardown(test_load_error_names_file, tmp_setup,
					tmp_teardown),
	cmocka_unit_test(test_diag_format),
	cmocka_unit_test(test_names),
	cmocka_unit_test(test_decide_args),
	cmocka_unit_test(test_check_args),
	cmocka_unit_test(test_check_order),
	cmocka_unit_test(test_check_cap),
	cmocka_unit_test(test_check_many_rules),
	cmocka_unit_test(test_explain_round_trip),
	cmocka_unit_test(test_explain_text),
	cmocka_unit_test(test_explain_accept_risk),
	cmocka_unit_test(test_explain_many_sources),
	cmocka_unit_test(test_explain_empty),
	cmocka_unit_test(test_policy_equal),
};

#define ADD_ROWS(table, fn)                                                  \
	for (size_t i = 0; i < NELEM(table); i++)                            \
		tests[n++] = (struct CMUnitTest){ .name = (table)[i].name,   \
						  .test_func = (fn),         \
						  .initial_state =           \
							  (void *)&(table)[i] }

int main(void)
{
	static struct CMUnitTest tests[NELEM(valid_cases) + NELEM(error_cases) +
				       NELEM(warning_cases) + NELEM(check_cases) +
				       NELEM(decide_cases) +
				       NELEM(fixed_tests)];
	size_t n = 0;

	ADD_ROWS(valid_cases, run_valid);
	ADD_ROWS(error_cases, run_error);
	ADD_ROWS(warning_cases, run_warning);
	ADD_ROWS(check_cases, run_check);
	ADD_ROWS(decide_cases, run_decide);
	for (size_t i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	return _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
}
