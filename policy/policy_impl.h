/* SPDX-License-Identifier: MIT */
/*
 * policy_impl.h - what a parsed policy looks like inside; shared by parse.c
 * (which builds it), eval.c (which decides with it), check.c (which analyses
 * it) and explain.c (which prints it back).  Not part of the API.
 */
#ifndef RAWBROKER_POLICY_IMPL_H
#define RAWBROKER_POLICY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Bounds on the text, so a broken or hostile file costs bounded memory. */
#define RB_POLICY_MAX_RULES    4096
#define RB_POLICY_MAX_VALUES   1024 /* values on one line */
#define RB_POLICY_MAX_TOKEN    255  /* bytes in one token */
#define RB_POLICY_MAX_ERRORS   50   /* then parsing stops */
#define RB_POLICY_MAX_WARNINGS 100  /* then further warnings are dropped */

enum rb_match_kind {
	RB_MATCH_UID, /* 'match uid' and 'match user' */
	RB_MATCH_GID, /* 'match gid' and 'match group' */
};

/* A value of a 'match user'/'match group' line as written, and what it
 * resolved to when the policy was loaded. */
struct rb_match_name {
	const char *name; /* points into rb_match.namebuf */
	uint32_t id;      /* valid when KNOWN */
	bool known;
};

/* One match line: any of IDS fits.  N == 0 (only unknown names): never. */
struct rb_match {
	enum rb_match_kind kind;
	unsigned line, col; /* col: of the 'match' keyword */
	uint32_t *ids;
	size_t n;
	/* 'match user'/'match group': every name of the line, in order (for
	 * explain).  NNAMES == 0 for numeric lines. */
	bool by_name;
	struct rb_match_name *names;
	size_t nnames;
	char *namebuf;
};

struct rb_allow {
	int family;
	int protocol;
	int type;
	unsigned line, col; /* col: of the 'allow' keyword */
};

/*
 * The risks a rule may accept with 'accept-risk': each word silences the
 * check's warning of that name about the rule, and only that one (check.c).
 * The values index rb_risks[] and rb_rule.accept_line; a rule's set is a
 * mask of RB_RISK_BIT().
 */
enum rb_risk {
	RB_RISK_RAW_UDP, /* an 'allow FAMILY udp' line: raw UDP, no filter */
	RB_RISK_RAW_TCP, /* an 'allow FAMILY tcp' line: raw TCP, no filter */
	RB_RISK_HDRINCL, /* 'hdrincl allow' */
	RB_RISK_RECVERR, /* RECVERR allowed next to a 'receive' filter */
	RB_RISK_COUNT
};
#define RB_RISK_BIT(risk) (1u << (risk))

struct rb_prefix {
	int family;       /* AF_INET or AF_INET6 */
	unsigned len;     /* prefix length in bits */
	uint8_t addr[16]; /* network byte order; AF_INET uses the first 4 */
};

struct rb_rule {
	char name[RB_RULE_NAME_MAX];
	const char *file;   /* a drop-in it is in (rb_policy.files); NULL: the
			       main file */
	unsigned line, col; /* col: of the 'rule' keyword */
	bool match_any; /* 'match any': then there is no match line */
	unsigned any_line, any_col; /* of 'match any' */
	struct rb_match *match;
	size_t nmatch;
	struct rb_allow *allow;
	size_t nallow;
	bool source_any; /* no 'source' line or 'source any' */
	unsigned source_line, source_col; /* of the first 'source' keyword; 0: none */
	struct rb_prefix *source;
	size_t nsource;
	unsigned options; /* rb_option bits from 'options' lines */

	/* How granted sockets are prepared (policy.h struct rb_prepare). */
	char device[16];                 /* 'device': "" none */
	bool has_mark;
	uint32_t mark;                   /* 'mark' */
	bool has_receive4, has_receive6; /* 'receive icmp' / 'receive icmpv6' */
	struct rb_icmp_types receive4, receive6;
	bool has_default4, has_default6; /* 'default-source' */
	uint8_t default4[4], default6[16];
	uint32_t rcvbuf, sndbuf;         /* 'rcvbuf' / 'sndbuf': 0 leave */
	bool hdrincl;                    /* 'hdrincl allow' */
	bool recverr;                    /* 'recverr allow' (with recverr_line) */
	struct rb_prefix *dest;          /* 'destination': where granted sockets
					    may send (nftables, by the mark) */
	size_t ndest;
	struct rb_limits limits;         /* 'rate', 'connections' */
	unsigned accepted;               /* 'accept-risk': RB_RISK_BIT()s; only
					    the check reads it */
	unsigned accept_line[RB_RISK_COUNT], accept_col[RB_RISK_COUNT];
					 /* where each word was first named */
	/* Where each of those was written (0: not written, default applies). */
	unsigned device_line, mark_line, receive_line, default_line, rcvbuf_line,
		sndbuf_line, hdrincl_line, rate_line, connections_line, recverr_line,
		dest_line;
	unsigned hdrincl_col, recverr_col, dest_col;
};

/* Whether rule R's client confinement refuses IP_RECVERR/IPV6_RECVERR:
 * 'recverr deny', or no 'recverr' line and a 'receive' filter. */
static inline bool rb_rule_denies_recverr(const struct rb_rule *r)
{
	return r->recverr_line ? !r->recverr : (r->has_receive4 || r->has_receive6);
}

/* Whether rule R names an egress constraint: 'destination' or 'device'
 * (with its mark, for the nftables ruleset of rawbroker-policy nft). */
static inline bool rb_rule_has_egress(const struct rb_rule *r)
{
	return r->ndest > 0 || r->device[0] != '\0';
}

/* Defaults for what a rule does not say, and for the 'broker' block. */
#define RB_DEFAULT_RATE        100  /* grants per second per uid */
#define RB_DEFAULT_BURST       200
#define RB_DEFAULT_CONNECTIONS 64   /* per uid */

struct rb_policy {
	struct rb_rule *rules;
	size_t nrules;
	struct rb_global global;         /* 'broker { }' */
	unsigned global_line;            /* of 'broker'; 0: none */
	char **files;                    /* drop-ins read (rb_rule.file) */
	size_t nfiles;
};

/*
 * The words for families, protocols and socket types, in one place so the
 * parser and the evaluator (and its audit text) cannot disagree.  Each table
 * ends with a NULL name.  A word that is known but not SUPPORTED is named in
 * messages and audit lines but refused in a policy.
 */
struct rb_word {
	const char *name;
	int value;
	int family;     /* protocols: the family it goes with; 0: any */
	bool supported; /* accepted in a policy today */
};

extern const struct rb_word rb_families[];
extern const struct rb_word rb_protocols[];
extern const struct rb_word rb_types[];
extern const struct rb_word rb_options[]; /* value: an rb_option bit */
extern const struct rb_word rb_risks[];   /* value: an enum rb_risk */

const struct rb_word *rb_word_by_value(const struct rb_word *table, int value);

/* Whether every match line of R fits PEER ('match any': always; a rule
 * without match lines: never).  The one test eval.c decides with and
 * peerindex.c asks "does any rule fit" with. */
bool rb_rule_fits(const struct rb_rule *r, const struct rb_peer *peer);

/* Append one diagnostic to D (parse.c).  0 or -ENOMEM. */
int rb_diags_add(struct rb_diags *d, enum rb_diag_severity sev, unsigned line,
		 unsigned col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The same about FILE (a drop-in; NULL: D's own file). */
int rb_diags_add_in(struct rb_diags *d, const char *file, enum rb_diag_severity sev,
		    unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#endif /* RAWBROKER_POLICY_IMPL_H */
