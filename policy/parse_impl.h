/* SPDX-License-Identifier: MIT */
/*
 * parse_impl.h - what the files of the parser share (parse_lex.c: the
 * diagnostics, the parser state and the lexer; parse_rule.c: the keyword
 * tables, rules, match, allow, options, source and destination;
 * parse_prepare.c: statements with one value and how granted sockets are
 * prepared; parse_broker.c: the broker block; parse.c: the driver and
 * loading; resolve.c: the system resolver).  Not part of the API.
 *
 * Their helpers are not static, so each is renamed with an rbp_ prefix
 * here: the library is linked into programs with names of their own.
 */
#ifndef RAWBROKER_PARSE_IMPL_H
#define RAWBROKER_PARSE_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy_impl.h"

#define MAX_TOKENS     (RB_POLICY_MAX_VALUES + 2) /* 'match uid' + values */
#define ID_MAX         4294967294u /* (uid_t)-1 means "no id" to the kernel */
#define SHOW_MAX       40          /* longer tokens are shortened in messages */
#define LOOKUP_BUF_MAX (1024 * 1024)

#define errno_text rbp_errno_text
#define diags_vadd_in rbp_diags_vadd_in
#define diags_vadd rbp_diags_vadd
#define diags_add rbp_diags_add
#define oom rbp_oom
#define vreport rbp_vreport
#define report rbp_report
#define error_at rbp_error_at
#define warn_at rbp_warn_at
#define tok_is rbp_tok_is
#define tok_copy rbp_tok_copy
#define tok_digits rbp_tok_digits
#define show rbp_show
#define found rbp_found
#define col_of rbp_col_of
#define lex_line rbp_lex_line
#define find_keyword rbp_find_keyword
#define find_word rbp_find_word
#define keyword_list rbp_keyword_list
#define word_list rbp_word_list
#define cur_rule rbp_cur_rule
#define parse_rule rbp_parse_rule
#define close_rule rbp_close_rule
#define parse_id rbp_parse_id
#define lookup_name rbp_lookup_name
#define mask_addr rbp_mask_addr
#define top_keywords rbp_top_keywords
#define rule_keywords rbp_rule_keywords
#define broker_keywords rbp_broker_keywords
#define one_value rbp_one_value
#define first_time rbp_first_time
#define parse_number rbp_parse_number
#define parse_duration rbp_parse_duration
#define parse_default_source rbp_parse_default_source
#define parse_device rbp_parse_device
#define parse_mark rbp_parse_mark
#define parse_receive rbp_parse_receive
#define parse_rcvbuf rbp_parse_rcvbuf
#define parse_sndbuf rbp_parse_sndbuf
#define parse_rate rbp_parse_rate
#define parse_connections rbp_parse_connections
#define parse_hdrincl rbp_parse_hdrincl
#define parse_recverr rbp_parse_recverr
#define check_rule_prepare rbp_check_rule_prepare
#define parse_broker rbp_parse_broker
#define close_broker rbp_close_broker
#define parse_g_listen rbp_parse_g_listen
#define parse_g_mode rbp_parse_g_mode
#define parse_g_owner rbp_parse_g_owner
#define parse_g_group rbp_parse_g_group
#define parse_g_user rbp_parse_g_user
#define parse_g_maxconn rbp_parse_g_maxconn
#define parse_g_reqto rbp_parse_g_reqto
#define parse_g_idleto rbp_parse_g_idleto
#define parse_g_log rbp_parse_g_log
#define parse_g_level rbp_parse_g_level

struct tok {
	const char *s; /* not NUL-terminated */
	size_t len;
	unsigned col;
};

/* What the parser remembers about the rule being read. */
struct rule_ctx {
	size_t idx;  /* in pol->rules */
	unsigned col; /* of its 'rule' keyword */
	unsigned match_lines, allow_lines; /* seen, valid or not */
	unsigned any_line;                 /* 'match any' */
	unsigned first_match_line;         /* first other match line */
	const char *first_match_kw;
	unsigned never_line; /* a match line that resolved to nothing */
	unsigned source_any_line, source_addr_line;
	size_t match_cap, allow_cap, source_cap, dest_cap;
	unsigned default4_col, default6_col;  /* of 'default-source' values */
	unsigned receive4_col, receive6_col;  /* of 'receive' keywords */
};

struct parser {
	const struct rb_resolver *res;
	struct rb_diags *diags;
	struct rb_policy *pol;
	size_t rules_cap;
	unsigned line;   /* 1-based number of the current line */
	struct tok *tok; /* its tokens, MAX_TOKENS of room */
	size_t ntok;
	unsigned errors, warnings; /* of this parse */
	const char *file;          /* the drop-in being read (pol->files); NULL:
				      the main file */
	unsigned quiet_line;       /* a line the lexer reported: no more on it */
	unsigned bad_seen;         /* kinds of bad bytes reported (BAD_* bits) */
	char *clean;               /* a line with bad bytes, made safe to parse */
	int fatal;                 /* -ENOMEM */
	bool stop;                 /* fatal, or too many errors */
	bool in_rule;
	bool in_broker; /* inside 'broker { }' */
	unsigned broker_col;
	/* Lines of the broker block's statements (0: not yet seen). */
	unsigned g_listen, g_mode, g_owner, g_group, g_user, g_maxconn, g_reqto,
		g_idleto, g_log, g_level;
	struct rule_ctx cur;
};

struct shown {
	char s[SHOW_MAX + 8];
};

/* Kinds of bytes a policy may not hold (outside comments: non-ASCII). */
enum {
	BAD_NUL = 1u << 0,
	BAD_CR = 1u << 1,
	BAD_CONTROL = 1u << 2,
	BAD_NON_ASCII = 1u << 3,
};

struct keyword {
	const char *name;
	void (*parse)(struct parser *p);
};

struct match_kind {
	const char *name;
	enum rb_match_kind kind;
	bool by_name; /* values are names for the resolver */
	bool any;
	const char *what; /* one value, for messages */
};

#define RATE_MAX 1000000u

/* One text to parse: the main file or a drop-in. */
struct source {
	const char *text;
	size_t len;
	const char *name; /* for diagnostics */
};

const char *errno_text(int err);
int __attribute__((format(printf, 6, 0)))
diags_vadd_in(struct rb_diags *d, const char *file, enum rb_diag_severity sev,
	      unsigned line, unsigned col, const char *fmt, va_list ap);
int __attribute__((format(printf, 5, 0)))
diags_vadd(struct rb_diags *d, enum rb_diag_severity sev, unsigned line,
	   unsigned col, const char *fmt, va_list ap);
int __attribute__((format(printf, 5, 6)))
diags_add(struct rb_diags *d, enum rb_diag_severity sev, unsigned line,
	  unsigned col, const char *fmt, ...);
void oom(struct parser *p);
void __attribute__((format(printf, 5, 0)))
vreport(struct parser *p, enum rb_diag_severity sev, unsigned line, unsigned col,
	const char *fmt, va_list ap);
void __attribute__((format(printf, 5, 6)))
report(struct parser *p, enum rb_diag_severity sev, unsigned line, unsigned col,
       const char *fmt, ...);
void __attribute__((format(printf, 3, 4)))
error_at(struct parser *p, unsigned col, const char *fmt, ...);
void __attribute__((format(printf, 3, 4)))
warn_at(struct parser *p, unsigned col, const char *fmt, ...);
bool tok_is(const struct tok *t, const char *s);
void tok_copy(const struct tok *t, char *buf, size_t size);
bool tok_digits(const struct tok *t);
struct shown show(const struct tok *t);
struct shown found(const struct parser *p, size_t i);
unsigned col_of(const struct parser *p, size_t i);
const char *lex_line(struct parser *p, const char *s, size_t n);
const struct keyword *find_keyword(const struct keyword *table,
					  const struct tok *t);
const struct rb_word *find_word(const struct rb_word *table,
				       const struct tok *t);
void keyword_list(const struct keyword *table, char *buf, size_t size);
void word_list(const struct rb_word *table, int family, char *buf,
		      size_t size);
struct rb_rule *cur_rule(struct parser *p);
void parse_rule(struct parser *p);
void close_rule(struct parser *p);
int parse_id(struct parser *p, const struct match_kind *mk,
		    const struct tok *t, uint32_t *id);
int lookup_name(struct parser *p, const struct match_kind *mk, const char *name,
		       uint32_t *id);
void mask_addr(uint8_t *addr, unsigned len);
extern const struct keyword top_keywords[];
extern const struct keyword rule_keywords[];
extern const struct keyword broker_keywords[];
const struct tok *one_value(struct parser *p, const char *what);
bool first_time(struct parser *p, unsigned *line);
int parse_number(struct parser *p, const struct tok *t, uint32_t min, uint32_t max,
			bool hex, const char *what, uint32_t *out);
int parse_duration(struct parser *p, const struct tok *t, uint32_t min_ms,
			  uint32_t max_ms, uint32_t *out);
void parse_default_source(struct parser *p);
void parse_device(struct parser *p);
void parse_mark(struct parser *p);
void parse_receive(struct parser *p);
void parse_rcvbuf(struct parser *p);
void parse_sndbuf(struct parser *p);
void parse_rate(struct parser *p);
void parse_connections(struct parser *p);
void parse_hdrincl(struct parser *p);
void parse_recverr(struct parser *p);
void check_rule_prepare(struct parser *p);
void parse_broker(struct parser *p);
void close_broker(struct parser *p);
void parse_g_listen(struct parser *p);
void parse_g_mode(struct parser *p);
void parse_g_owner(struct parser *p);
void parse_g_group(struct parser *p);
void parse_g_user(struct parser *p);
void parse_g_maxconn(struct parser *p);
void parse_g_reqto(struct parser *p);
void parse_g_idleto(struct parser *p);
void parse_g_log(struct parser *p);
void parse_g_level(struct parser *p);

#endif /* RAWBROKER_PARSE_IMPL_H */
