/* SPDX-License-Identifier: MIT */
/*
 * parse.c - read a policy text into a struct rb_policy.
 *
 * Line-oriented: each line is checked byte by byte and split into tokens,
 * its first token picks a handler from a keyword table (one table for the
 * top level, one inside a rule), and the handler checks the rest.  A new
 * statement is one table entry and one function.
 *
 * Every size is bounded before use (file, token, tokens per line, rules,
 * diagnostics), and an error does not stop the parse, so one run shows most
 * of what is wrong; only the first RB_POLICY_MAX_ERRORS are reported.
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

#include "policy_impl.h"

#define MAX_TOKENS     (RB_POLICY_MAX_VALUES + 2) /* 'match uid' + values */
#define ID_MAX         4294967294u /* (uid_t)-1 means "no id" to the kernel */
#define SHOW_MAX       40          /* longer tokens are shortened in messages */
#define LOOKUP_BUF_MAX (1024 * 1024)

static const char *errno_text(int err)
{
	const char *s = strerrordesc_np(err);

	return s ? s : "unknown error";
}

/* ---- diagnostics ---------------------------------------------------- */

void rb_diags_free(struct rb_diags *d)
{
	if (!d)
		return;
	free(d->v);
	for (size_t i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	free(d->files);
	memset(d, 0, sizeof(*d));
}

/* NAME as kept by D (for rb_diag.file): NULL for D's own file, else a
 * copy D owns; (const char *)-1 when out of memory. */
static const char *diags_file(struct rb_diags *d, const char *name)
{
	char **v;

	if (!name || strcmp(name, d->file) == 0)
		return NULL;
	for (size_t i = 0; i < d->nfiles; i++)
		if (strcmp(d->files[i], name) == 0)
			return d->files[i];
	v = reallocarray(d->files, d->nfiles + 1, sizeof(*v));
	if (!v)
		return (const char *)-1;
	d->files = v;
	if (!(v[d->nfiles] = strdup(name)))
		return (const char *)-1;
	return v[d->nfiles++];
}

static int __attribute__((format(printf, 6, 0)))
diags_vadd_in(struct rb_diags *d, const char *file, enum rb_diag_severity sev,
	      unsigned line, unsigned col, const char *fmt, va_list ap)
{
	struct rb_diag *g;
	const char *f = diags_file(d, file);

	if (f == (const char *)-1)
		return -ENOMEM;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct rb_diag *v = reallocarray(d->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	g = &d->v[d->n++];
	g->severity = sev;
	g->file = f;
	g->note = false;
	g->line = line;
	g->col = line ? col : 0;
	vsnprintf(g->msg, sizeof(g->msg), fmt, ap);
	if (sev == RB_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	return 0;
}

static int __attribute__((format(printf, 5, 0)))
diags_vadd(struct rb_diags *d, enum rb_diag_severity sev, unsigned line,
	   unsigned col, const char *fmt, va_list ap)
{
	return diags_vadd_in(d, NULL, sev, line, col, fmt, ap);
}

static int __attribute__((format(printf, 5, 6)))
diags_add(struct rb_diags *d, enum rb_diag_severity sev, unsigned line,
	  unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diags_vadd(d, sev, line, col, fmt, ap);
	va_end(ap);
	return r;
}

int rb_diags_add_in(struct rb_diags *d, const char *file, enum rb_diag_severity sev,
		    unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diags_vadd_in(d, file, sev, line, col, fmt, ap);
	va_end(ap);
	return r;
}

/* The same, for check.c (declared in policy_impl.h). */
int rb_diags_add(struct rb_diags *d, enum rb_diag_severity sev, unsigned line,
		 unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diags_vadd(d, sev, line, col, fmt, ap);
	va_end(ap);
	return r;
}

int rb_diag_format(const struct rb_diags *d, const struct rb_diag *diag, char *buf,
		   size_t size)
{
	const char *file = "<policy>";
	int flen = (int)strlen(file);
	const char *sev;

	if (!diag)
		return -EINVAL;
	if (diag->file) {
		file = diag->file;
		flen = (int)strlen(file);
	} else if (d && d->file[0]) {
		file = d->file;
		flen = (int)strnlen(d->file, sizeof(d->file));
	}
	sev = diag->severity == RB_DIAG_ERROR ? "error" : "warning";
	if (diag->line == 0)
		return snprintf(buf, size, "%.*s: %s: %.*s", flen, file, sev,
				(int)sizeof(diag->msg), diag->msg);
	return snprintf(buf, size, "%.*s:%u:%u: %s: %.*s", flen, file, diag->line,
			diag->col, sev, (int)sizeof(diag->msg), diag->msg);
}

/* ---- parser state ---------------------------------------------------- */

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

static void oom(struct parser *p)
{
	p->fatal = -ENOMEM;
	p->stop = true;
}

static void __attribute__((format(printf, 5, 0)))
vreport(struct parser *p, enum rb_diag_severity sev, unsigned line, unsigned col,
	const char *fmt, va_list ap)
{
	if (p->stop)
		return;
	/* The rest of a line whose bytes the lexer already complained about
	 * would only repeat that complaint in other words. */
	if (line && line == p->quiet_line)
		return;
	if (sev == RB_DIAG_WARNING && p->warnings >= RB_POLICY_MAX_WARNINGS) {
		if (p->warnings++ == RB_POLICY_MAX_WARNINGS) {
			if (diags_add(p->diags, RB_DIAG_WARNING, 0, 0,
				      "too many warnings; not showing more") < 0)
				oom(p);
			else
				p->diags->v[p->diags->n - 1].note = true;
		}
		return;
	}
	if (sev == RB_DIAG_WARNING)
		p->warnings++;
	else
		p->errors++;
	if (diags_vadd_in(p->diags, p->file, sev, line, col, fmt, ap) < 0) {
		oom(p);
		return;
	}
	if (sev == RB_DIAG_ERROR && p->errors >= RB_POLICY_MAX_ERRORS) {
		if (diags_add(p->diags, RB_DIAG_ERROR, 0, 0,
			      "too many errors; stopped after %d",
			      RB_POLICY_MAX_ERRORS) < 0)
			oom(p);
		else
			p->diags->v[p->diags->n - 1].note = true;
		p->stop = true;
	}
}

static void __attribute__((format(printf, 5, 6)))
report(struct parser *p, enum rb_diag_severity sev, unsigned line, unsigned col,
       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, sev, line, col, fmt, ap);
	va_end(ap);
}

/* An error at COL of the current line. */
static void __attribute__((format(printf, 3, 4)))
error_at(struct parser *p, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, RB_DIAG_ERROR, p->line, col, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
warn_at(struct parser *p, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, RB_DIAG_WARNING, p->line, col, fmt, ap);
	va_end(ap);
}

/* ---- tokens ------------------------------------------------------------ */

static bool tok_is(const struct tok *t, const char *s)
{
	return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

static void tok_copy(const struct tok *t, char *buf, size_t size)
{
	size_t n = t->len < size - 1 ? t->len : size - 1;

	memcpy(buf, t->s, n);
	buf[n] = '\0';
}

static bool tok_digits(const struct tok *t)
{
	if (t->len == 0)
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (t->s[i] < '0' || t->s[i] > '9')
			return false;
	return true;
}

struct shown {
	char s[SHOW_MAX + 8];
};

/* A token quoted for a message, shortened when long.  The lexer let only
 * printable ASCII through, so it is safe to print. */
static struct shown show(const struct tok *t)
{
	struct shown r;

	if (t->len > SHOW_MAX)
		snprintf(r.s, sizeof(r.s), "'%.*s...'", SHOW_MAX - 3, t->s);
	else
		snprintf(r.s, sizeof(r.s), "'%.*s'", (int)t->len, t->s);
	return r;
}

/* Token I quoted, or "end of line" when the line is shorter. */
static struct shown found(const struct parser *p, size_t i)
{
	struct shown r;

	if (i < p->ntok)
		return show(&p->tok[i]);
	snprintf(r.s, sizeof(r.s), "end of line");
	return r;
}

/* Column of token I, or just past the last token when the line is shorter. */
static unsigned col_of(const struct parser *p, size_t i)
{
	const struct tok *last = &p->tok[p->ntok - 1];

	if (i < p->ntok)
		return p->tok[i].col;
	return last->col + (unsigned)last->len;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Kinds of bytes a policy may not hold (outside comments: non-ASCII). */
enum {
	BAD_NUL = 1u << 0,
	BAD_CR = 1u << 1,
	BAD_CONTROL = 1u << 2,
	BAD_NON_ASCII = 1u << 3,
};

/* Whether byte C at offset I (comments start at END) is bad: its BAD_* kind,
 * or 0. */
static unsigned bad_kind(unsigned char c, size_t i, size_t end)
{
	if (c == '\t')
		return 0;
	if (c == '\0')
		return BAD_NUL;
	if (c == '\r')
		return BAD_CR;
	if (c < 0x20 || c == 0x7f)
		return BAD_CONTROL;
	if (c >= 0x80 && i < end)
		return BAD_NON_ASCII;
	return 0;
}

/*
 * Check every byte of a line, then split it into tokens.  Comments may hold
 * UTF-8, but no byte anywhere may be NUL or a control character: the text
 * is meant for people and terminals.
 *
 * A bad byte is an error, reported for the first line that has one of its
 * kind (a CRLF file, a pasted paragraph: one message, not one per line).
 * The line is still read, with each bad byte made a '?' (a carriage
 * return: a blank), so that a 'rule NAME {' or '}' on it keeps the blocks
 * in step; messages about the rest of that line are dropped.  Returns the
 * tokens' text (the line, or its cleaned copy) or NULL (error reported).
 */
static const char *lex_line(struct parser *p, const char *s, size_t n)
{
	size_t end = n, i;
	unsigned kinds = 0;
	char *c = NULL;

	p->ntok = 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		unsigned kind;

		if (ch == '#' && end == n)
			end = i;
		kind = bad_kind(ch, i, end);
		if (!kind)
			continue;
		if (!(kinds & kind) && !(p->bad_seen & kind)) {
			unsigned col = (unsigned)i + 1;
			const char *more = " (other lines with one are not reported)";

			if (kind == BAD_NUL)
				error_at(p, col, "found a NUL byte; a policy is plain text%s",
					 more);
			else if (kind == BAD_CR)
				error_at(p, col, "found a carriage return; a policy uses "
					 "Unix line endings (LF only)%s", more);
			else if (kind == BAD_CONTROL)
				error_at(p, col, "found control character 0x%02x; a policy "
					 "is plain text%s", ch, more);
			else
				error_at(p, col, "found non-ASCII byte 0x%02x; only comments "
					 "may hold non-ASCII text%s", ch, more);
			p->bad_seen |= kind;
		}
		kinds |= kind;
	}
	if (kinds) {
		p->quiet_line = p->line;
		free(p->clean);
		p->clean = malloc(n ? n : 1);
		if (!p->clean) {
			oom(p);
			return NULL;
		}
		c = p->clean;
		for (i = 0; i < n; i++) {
			unsigned kind = bad_kind((unsigned char)s[i], i, n);

			c[i] = kind == BAD_CR ? ' ' : kind ? '?' : s[i];
		}
		s = c;
	}

	for (i = 0; i < end;) {
		struct tok t;

		if (is_blank(s[i])) {
			i++;
			continue;
		}
		t.s = s + i;
		t.col = (unsigned)i + 1;
		while (i < end && !is_blank(s[i]))
			i++;
		t.len = (size_t)(s + i - t.s);
		if (t.len > RB_POLICY_MAX_TOKEN) {
			error_at(p, t.col, "found a token of %zu bytes; the limit is %d",
				 t.len, RB_POLICY_MAX_TOKEN);
			return NULL;
		}
		if (p->ntok == MAX_TOKENS) {
			error_at(p, t.col, "too many values on one line (max %d)",
				 RB_POLICY_MAX_VALUES);
			return NULL;
		}
		p->tok[p->ntok++] = t;
	}
	return s;
}

/* ---- keyword tables --------------------------------------------------- */

struct keyword {
	const char *name;
	void (*parse)(struct parser *p);
};

static void parse_rule(struct parser *p);
static void parse_match(struct parser *p);
static void parse_allow(struct parser *p);
static void parse_source(struct parser *p);
static void parse_options(struct parser *p);
static void parse_default_source(struct parser *p);
static void parse_device(struct parser *p);
static void parse_mark(struct parser *p);
static void parse_receive(struct parser *p);
static void parse_rcvbuf(struct parser *p);
static void parse_sndbuf(struct parser *p);
static void parse_rate(struct parser *p);
static void parse_connections(struct parser *p);
static void parse_hdrincl(struct parser *p);
static void parse_recverr(struct parser *p);
static void parse_destination(struct parser *p);
static void parse_broker(struct parser *p);
static void close_broker(struct parser *p);
static void check_rule_prepare(struct parser *p);
static void parse_g_listen(struct parser *p);
static void parse_g_mode(struct parser *p);
static void parse_g_owner(struct parser *p);
static void parse_g_group(struct parser *p);
static void parse_g_user(struct parser *p);
static void parse_g_maxconn(struct parser *p);
static void parse_g_reqto(struct parser *p);
static void parse_g_idleto(struct parser *p);
static void parse_g_log(struct parser *p);
static void parse_g_level(struct parser *p);

static const struct keyword top_keywords[] = {
	{ "rule", parse_rule },
	{ "broker", parse_broker },
	{ NULL, NULL },
};

static const struct keyword rule_keywords[] = {
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
	{ NULL, NULL },
};

static const struct keyword broker_keywords[] = {
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

struct match_kind {
	const char *name;
	enum rb_match_kind kind;
	bool by_name; /* values are names for the resolver */
	bool any;
	const char *what; /* one value, for messages */
};

static const struct match_kind match_kinds[] = {
	{ "uid", RB_MATCH_UID, false, false, "uid" },
	{ "gid", RB_MATCH_GID, false, false, "gid" },
	{ "user", RB_MATCH_UID, true, false, "user name" },
	{ "group", RB_MATCH_GID, true, false, "group name" },
	{ "any", RB_MATCH_UID, false, true, NULL },
	{ NULL, RB_MATCH_UID, false, false, NULL },
};

static const struct keyword *find_keyword(const struct keyword *table,
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

static const struct rb_word *find_word(const struct rb_word *table,
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
static void keyword_list(const struct keyword *table, char *buf, size_t size)
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
static void word_list(const struct rb_word *table, int family, char *buf,
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

static struct rb_rule *cur_rule(struct parser *p)
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
static void parse_rule(struct parser *p)
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
static void close_rule(struct parser *p)
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

static int parse_id(struct parser *p, const struct match_kind *mk,
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
static int lookup_name(struct parser *p, const struct match_kind *mk, const char *name,
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

/* ---- source ------------------------------------------------------------ */

/* Clear the bits of ADDR (16 bytes) after the first LEN. */
static void mask_addr(uint8_t *addr, unsigned len)
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

/* ---- statements with one value ------------------------------------------ */

/* The keyword of the current line, for messages. */
static struct shown kw_shown(const struct parser *p)
{
	return show(&p->tok[0]);
}

/* The one value of a 'KEYWORD VALUE' line, or NULL (error reported). */
static const struct tok *one_value(struct parser *p, const char *what)
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
static bool first_time(struct parser *p, unsigned *line)
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
static int parse_number(struct parser *p, const struct tok *t, uint32_t min, uint32_t max,
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
static int parse_duration(struct parser *p, const struct tok *t, uint32_t min_ms,
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
static void parse_default_source(struct parser *p)
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
static void parse_device(struct parser *p)
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
static void parse_mark(struct parser *p)
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
static void parse_receive(struct parser *p)
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

static void parse_rcvbuf(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);

	parse_bufsize(p, &r->rcvbuf_line, &r->rcvbuf);
}

static void parse_sndbuf(struct parser *p)
{
	struct rb_rule *r = cur_rule(p);

	parse_bufsize(p, &r->sndbuf_line, &r->sndbuf);
}

#define RATE_MAX 1000000u

/* rate N/s [burst M] | rate unlimited */
static void parse_rate(struct parser *p)
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
static void parse_connections(struct parser *p)
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
static void parse_hdrincl(struct parser *p)
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
static void parse_recverr(struct parser *p)
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

static void check_rule_prepare(struct parser *p)
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

/* ---- the broker block ---------------------------------------------------- */

/* broker { */
static void parse_broker(struct parser *p)
{
	struct rb_policy *pol = p->pol;
	const struct tok *kw = &p->tok[0];

	if (pol->global_line)
		error_at(p, kw->col, "a policy has one 'broker' block; the first is on "
			 "line %u", pol->global_line);
	else
		pol->global_line = p->line;
	p->broker_col = kw->col;
	p->in_broker = true;
	if (p->ntok < 2 || !tok_is(&p->tok[1], "{"))
		error_at(p, col_of(p, 1), "expected '{' after 'broker', found %s",
			 found(p, 1).s);
	else if (p->ntok > 2)
		error_at(p, p->tok[2].col, "expected end of line after '{', found %s",
			 show(&p->tok[2]).s);
}

static void close_broker(struct parser *p)
{
	p->in_broker = false;
	if (p->ntok > 1)
		error_at(p, p->tok[1].col, "expected end of line after '}', found %s",
			 show(&p->tok[1]).s);
}

static void parse_g_listen(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;

	if (!first_time(p, &p->g_listen) || !(t = one_value(p, "a socket path")))
		return;
	if (t->s[0] != '/' || t->len >= sizeof(g->listen)) {
		error_at(p, t->col, "expected an absolute socket path of at most %zu "
			 "bytes, found %s", sizeof(g->listen) - 1, show(t).s);
		return;
	}
	tok_copy(t, g->listen, sizeof(g->listen));
}

static void parse_g_mode(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;
	uint32_t v = 0;

	if (!first_time(p, &p->g_mode) || !(t = one_value(p, "an octal mode")))
		return;
	for (size_t i = 0; i < t->len && v <= 0777; i++) {
		if (t->s[i] < '0' || t->s[i] > '7') {
			v = ~0u;
			break;
		}
		v = v * 8 + (uint32_t)(t->s[i] - '0');
	}
	if (v > 0777 || t->len > 4) {
		error_at(p, t->col, "expected an octal mode such as 0660 (at most 0777), "
			 "found %s", show(t).s);
		return;
	}
	g->has_mode = true;
	g->mode = (mode_t)v;
}

/* socket-owner USER / socket-group GROUP: a name or a number, resolved
 * now.  The broker cannot use a name that does not resolve, so an unknown
 * one is an error, not the warning it is on a match line. */
static int global_id(struct parser *p, const struct match_kind *mk, uint32_t *id)
{
	char name[RB_POLICY_MAX_TOKEN + 1];
	const struct tok *t = one_value(p, mk->kind == RB_MATCH_UID ? "a user name or uid"
								    : "a group name or gid");
	int r;

	if (!t)
		return -1;
	if (tok_digits(t))
		return parse_id(p, mk, t, id);
	tok_copy(t, name, sizeof(name));
	r = lookup_name(p, mk, name, id);
	if (r == 0)
		return 0;
	if (r == -ENOENT)
		error_at(p, t->col, "unknown %s %s: the broker cannot give its socket "
			 "to it", mk->name, show(t).s);
	else
		error_at(p, t->col, "cannot look up %s %s: %s", mk->name, show(t).s,
			 errno_text(r < 0 ? -r : EINVAL));
	return -1;
}

static void parse_g_owner(struct parser *p)
{
	static const struct match_kind mk = { "user", RB_MATCH_UID, true, false, "uid" };
	struct rb_global *g = &p->pol->global;
	uint32_t id;

	if (!first_time(p, &p->g_owner) || global_id(p, &mk, &id) < 0)
		return;
	g->has_owner = true;
	g->owner = (uid_t)id;
}

static void parse_g_group(struct parser *p)
{
	static const struct match_kind mk = { "group", RB_MATCH_GID, true, false, "gid" };
	struct rb_global *g = &p->pol->global;
	uint32_t id;

	if (!first_time(p, &p->g_group) || global_id(p, &mk, &id) < 0)
		return;
	g->has_group = true;
	g->group = (gid_t)id;
}

/* user NAME | UID:GID: resolved by the broker when it drops privileges. */
static void parse_g_user(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;

	if (!first_time(p, &p->g_user) || !(t = one_value(p, "a user name or UID:GID")))
		return;
	if (t->len >= sizeof(g->user) || t->s[0] == '-' || t->s[0] == '+') {
		error_at(p, t->col, "expected a user name or UID:GID of at most %zu "
			 "bytes, found %s", sizeof(g->user) - 1, show(t).s);
		return;
	}
	tok_copy(t, g->user, sizeof(g->user));
}

static void parse_g_maxconn(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;

	if (first_time(p, &p->g_maxconn) && (t = one_value(p, "a number of connections")))
		parse_number(p, t, 1, RATE_MAX, false, "a number of connections",
			     &g->max_connections);
}

static void parse_g_reqto(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;

	if (first_time(p, &p->g_reqto) && (t = one_value(p, "a duration")))
		parse_duration(p, t, 10, 600000, &g->request_timeout_ms);
}

static void parse_g_idleto(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;

	if (first_time(p, &p->g_idleto) && (t = one_value(p, "a duration")))
		parse_duration(p, t, 1000, 86400000, &g->idle_timeout_ms);
}

static const struct rb_word facilities[] = {
	{ "daemon", LOG_DAEMON, 0, true },   { "auth", LOG_AUTH, 0, true },
	{ "authpriv", LOG_AUTHPRIV, 0, true }, { "user", LOG_USER, 0, true },
	{ "local0", LOG_LOCAL0, 0, true },   { "local1", LOG_LOCAL1, 0, true },
	{ "local2", LOG_LOCAL2, 0, true },   { "local3", LOG_LOCAL3, 0, true },
	{ "local4", LOG_LOCAL4, 0, true },   { "local5", LOG_LOCAL5, 0, true },
	{ "local6", LOG_LOCAL6, 0, true },   { "local7", LOG_LOCAL7, 0, true },
	{ NULL, 0, 0, false },
};

const char *rb_syslog_facility_name(int facility)
{
	const struct rb_word *w = rb_word_by_value(facilities, facility);

	return w ? w->name : NULL;
}

/* log stderr | log syslog [FACILITY] */
static void parse_g_log(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct rb_word *w;
	char list[200];

	if (!first_time(p, &p->g_log))
		return;
	if (p->ntok == 2 && tok_is(&p->tok[1], "stderr")) {
		g->log = RB_LOG_STDERR;
		return;
	}
	if (p->ntok < 2 || !tok_is(&p->tok[1], "syslog")) {
		error_at(p, col_of(p, 1), "expected 'stderr' or 'syslog [FACILITY]' after "
			 "'log', found %s", found(p, 1).s);
		return;
	}
	g->log = RB_LOG_SYSLOG;
	g->syslog_facility = LOG_DAEMON;
	if (p->ntok == 2)
		return;
	word_list(facilities, 0, list, sizeof(list));
	w = find_word(facilities, &p->tok[2]);
	if (!w)
		error_at(p, p->tok[2].col, "expected a syslog facility (%s), found %s", list,
			 show(&p->tok[2]).s);
	else if (p->ntok > 3)
		error_at(p, p->tok[3].col, "expected end of line after the facility, "
			 "found %s", show(&p->tok[3]).s);
	else
		g->syslog_facility = w->value;
}

static const struct rb_word log_levels[] = {
	{ "debug", 0, 0, true }, { "info", 1, 0, true },
	{ "warn", 2, 0, true },  { "error", 3, 0, true },
	{ NULL, 0, 0, false },
};

const char *rb_log_level_name(int level)
{
	const struct rb_word *w = rb_word_by_value(log_levels, level);

	return w ? w->name : NULL;
}

static void parse_g_level(struct parser *p)
{
	const struct rb_word *w;
	const struct tok *t;

	if (!first_time(p, &p->g_level) || !(t = one_value(p, "a log level")))
		return;
	w = find_word(log_levels, t);
	if (!w) {
		error_at(p, t->col, "expected a log level (debug, info, warn, error), "
			 "found %s", show(t).s);
		return;
	}
	p->pol->global.log_level = w->value;
}

/* ---- driver ------------------------------------------------------------ */

static void dispatch(struct parser *p)
{
	const struct keyword *table = p->in_rule ? rule_keywords :
				      p->in_broker ? broker_keywords : top_keywords;
	const struct tok *t = &p->tok[0];
	const struct keyword *k;
	char list[320];

	if (tok_is(t, "}")) {
		if (p->in_rule)
			close_rule(p);
		else if (p->in_broker)
			close_broker(p);
		else
			error_at(p, t->col, "found '}' outside a rule");
		return;
	}
	if (p->in_broker && (tok_is(t, "rule") || tok_is(t, "broker"))) {
		error_at(p, t->col, "found '%s' inside the 'broker' block (opened on "
			 "line %u); close it with '}' first", tok_is(t, "rule") ?
			 "rule" : "broker", p->pol->global_line);
		p->in_broker = false;
		k = find_keyword(top_keywords, t);
		k->parse(p);
		return;
	}
	if (p->in_rule && tok_is(t, "broker")) {
		error_at(p, t->col, "found 'broker' inside rule '%s' (opened on line "
			 "%u); close that one with '}' first", cur_rule(p)->name,
			 cur_rule(p)->line);
		p->in_rule = false;
		parse_broker(p);
		return;
	}
	if (p->in_rule && tok_is(t, "rule")) {
		struct rb_rule *r = cur_rule(p);

		error_at(p, t->col, "found 'rule' inside rule '%s' (opened on line %u); "
			 "close that one with '}' first", r->name, r->line);
		/* Start the new rule anyway, so its lines read sensibly. */
		p->in_rule = false;
		parse_rule(p);
		return;
	}
	k = find_keyword(table, t);
	if (k) {
		k->parse(p);
		return;
	}
	keyword_list(table, list, sizeof(list));
	error_at(p, t->col, "expected %s%s, found %s", table[1].name ? "one of " : "",
		 list, show(t).s);
}

static void parse_text(struct parser *p, const char *text, size_t len)
{
	unsigned eof_line = 1, eof_col = 1;
	size_t off = 0;

	/* A UTF-8 byte order mark, as some editors write: not part of the
	 * text.  Columns of line 1 count from after it, as editors show. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		report(p, RB_DIAG_WARNING, 1, 1, "ignored the UTF-8 byte order mark at "
		       "the start of the file");
		off = 3;
	}

	while (off < len && !p->stop) {
		const char *s = text + off;
		const char *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		p->line++;
		if (lex_line(p, s, n) && p->ntok > 0)
			dispatch(p);
		free(p->clean);
		p->clean = NULL;
		off += n + (nl ? 1 : 0);
		eof_line = nl ? p->line + 1 : p->line;
		eof_col = nl ? 1 : (unsigned)n + 1;
	}
	if (!p->stop && p->in_broker)
		report(p, RB_DIAG_ERROR, eof_line, eof_col, "expected '}' to close the "
		       "'broker' block (opened on line %u), found end of file",
		       p->pol->global_line);
	if (p->stop || !p->in_rule)
		return;
	report(p, RB_DIAG_ERROR, eof_line, eof_col, "expected '}' to close rule '%s' "
	       "(opened on line %u), found end of file", cur_rule(p)->name,
	       cur_rule(p)->line);
}

void rb_policy_free(struct rb_policy *pol)
{
	if (!pol)
		return;
	for (size_t i = 0; i < pol->nrules; i++) {
		struct rb_rule *r = &pol->rules[i];

		for (size_t j = 0; j < r->nmatch; j++) {
			free(r->match[j].ids);
			free(r->match[j].names);
			free(r->match[j].namebuf);
		}
		free(r->match);
		free(r->allow);
		free(r->source);
		free(r->dest);
	}
	free(pol->rules);
	for (size_t i = 0; i < pol->nfiles; i++)
		free(pol->files[i]);
	free(pol->files);
	free(pol);
}

/* One text to parse: the main file or a drop-in. */
struct source {
	const char *text;
	size_t len;
	const char *name; /* for diagnostics */
};

/* Parse SRC[0..N) into one policy: SRC[0] is the main file (its name is
 * DIAGS->file), the others drop-ins, each with its own line numbers. */
static int parse_sources(const struct source *src, size_t n,
			 const struct rb_resolver *res, struct rb_policy **out,
			 struct rb_diags *diags)
{
	struct parser p = { 0 };
	int r;

	p.res = res ? res : &rb_resolver_system;
	p.diags = diags;
	p.pol = calloc(1, sizeof(*p.pol));
	p.tok = calloc(MAX_TOKENS, sizeof(*p.tok));
	if (!p.pol || !p.tok || (n > 1 && !(p.pol->files = calloc(n - 1, sizeof(char *))))) {
		r = -ENOMEM;
		goto out;
	}
	p.pol->global.log_level = -1;

	for (size_t i = 0; i < n && !p.stop; i++) {
		if (i > 0) {
			char *name = strdup(src[i].name);

			if (!name) {
				r = -ENOMEM;
				goto out;
			}
			p.pol->files[p.pol->nfiles++] = name;
			p.file = name;
		}
		/* a block cannot span files: each is read as a whole text */
		p.line = 0;
		p.in_rule = p.in_broker = false;
		p.quiet_line = 0;
		p.bad_seen = 0;
		parse_text(&p, src[i].text, src[i].len);
	}
	p.file = NULL;
	if (p.fatal) {
		r = p.fatal;
	} else if (p.errors) {
		r = -EINVAL;
	} else {
		if (p.pol->nrules == 0)
			report(&p, RB_DIAG_WARNING, 0, 0,
			       "policy has no rules: every request is denied");
		r = p.fatal;
		if (!r) {
			*out = p.pol;
			p.pol = NULL;
		}
	}
out:
	rb_policy_free(p.pol);
	free(p.tok);
	return r;
}

int rb_policy_parse(const char *text, size_t len, const char *filename,
		    const struct rb_resolver *res, struct rb_policy **out,
		    struct rb_diags *diags)
{
	struct rb_diags local = { 0 };
	struct source src = { text, len, filename };
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if ((!text && len) || (res && (!res->user || !res->group)))
		return -EINVAL;
	if (!diags)
		diags = &local;
	strlcpy(diags->file, filename ? filename : "<policy>", sizeof(diags->file));

	/* The bound keeps line and column numbers small, and the work. */
	if (len > RB_POLICY_MAX_SIZE) {
		r = diags_add(diags, RB_DIAG_ERROR, 0, 0, "policy is %zu bytes; the "
			      "limit is %d", len, RB_POLICY_MAX_SIZE);
		rb_diags_free(&local);
		return r < 0 ? r : -EFBIG;
	}
	r = parse_sources(&src, 1, res, out, diags);
	rb_diags_free(&local);
	return r;
}

/* ---- loading ----------------------------------------------------------- */

/* Read all of FD, refusing more than RB_POLICY_MAX_SIZE bytes even when the
 * file grew since fstat() said HINT. */
static int read_all(int fd, size_t hint, char **out, size_t *outlen)
{
	size_t cap = hint < RB_POLICY_MAX_SIZE ? hint + 1 : RB_POLICY_MAX_SIZE + 1;
	size_t n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k;

		if (n == cap) {
			char *nb;

			if (cap > RB_POLICY_MAX_SIZE) {
				free(buf);
				return -EFBIG;
			}
			if (cap > RB_POLICY_MAX_SIZE / 2)
				cap = RB_POLICY_MAX_SIZE + 1;
			else
				cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			free(buf);
			return -err;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

static int load_fail(struct rb_diags *d, const char *file, int err, const char *what)
{
	rb_diags_add_in(d, file, RB_DIAG_ERROR, 0, 0, "%s: %s", what, errno_text(-err));
	return err;
}

/*
 * Read the policy file PATH, at most MAX bytes, into a new *BUF.  Problems
 * are reported about FILE (NULL: the main file).  0 or -errno.
 */
static int read_policy_file(struct rb_diags *d, const char *path, const char *file,
			    size_t max, char **buf, size_t *len)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO must not hang the broker; the type
	 * check below refuses it.  It does nothing to a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return load_fail(d, file, -errno, "cannot open");
	if (fstat(fd, &st) < 0) {
		r = load_fail(d, file, -errno, "cannot stat");
	} else if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		rb_diags_add_in(d, file, RB_DIAG_ERROR, 0, 0, "is a directory, not a "
				"policy file");
	} else if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		rb_diags_add_in(d, file, RB_DIAG_ERROR, 0, 0, "is not a regular file");
	} else if ((unsigned long long)st.st_size > max) {
		r = -EFBIG;
		rb_diags_add_in(d, file, RB_DIAG_ERROR, 0, 0, "file is %lld bytes; the "
				"limit is %d%s", (long long)st.st_size, RB_POLICY_MAX_SIZE,
				file ? " for the policy and its drop-ins together" : "");
	} else {
		r = read_all(fd, (size_t)st.st_size, buf, len);
		if (r == 0 && *len > max) {
			free(*buf);
			*buf = NULL;
			r = -EFBIG;
		}
		if (r == -EFBIG)
			rb_diags_add_in(d, file, RB_DIAG_ERROR, 0, 0, "file is over the "
					"limit of %d bytes", RB_POLICY_MAX_SIZE);
		else if (r < 0)
			load_fail(d, file, r, "cannot read");
	}
	close(fd);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The drop-ins of DIR ("PATH.d"): the names of its regular-looking entries
 * that end in ".conf" and do not start with '.', sorted, into a new *NAMES.
 * 0 (no DIR is none), or -errno with an error reported about DIR.
 */
static int list_dropins(struct rb_diags *d, const char *dir, char ***names, size_t *n)
{
	char **v = NULL;
	size_t k = 0;
	struct dirent *e;
	DIR *dp;
	int fd, r = 0;

	*names = NULL;
	*n = 0;
	fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return load_fail(d, dir, -errno, errno == ENOTDIR ?
				 "drop-ins: not a directory" : "drop-ins: cannot open");
	dp = fdopendir(fd);
	if (!dp) {
		r = load_fail(d, dir, -errno, "drop-ins: cannot read");
		close(fd);
		return r;
	}
	while ((errno = 0, e = readdir(dp))) {
		size_t len = strlen(e->d_name);
		char **nv;

		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		if (k == RB_POLICY_MAX_DROPINS) {
			rb_diags_add_in(d, dir, RB_DIAG_ERROR, 0, 0, "more than %d drop-ins",
					RB_POLICY_MAX_DROPINS);
			r = -E2BIG;
			break;
		}
		nv = reallocarray(v, k + 1, sizeof(*v));
		if (!nv || !(nv[k] = strdup(e->d_name))) {
			v = nv ? nv : v;
			r = -ENOMEM;
			break;
		}
		v = nv;
		k++;
	}
	if (r == 0 && errno)
		r = load_fail(d, dir, -errno, "drop-ins: cannot read");
	closedir(dp);
	if (r < 0) {
		for (size_t i = 0; i < k; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (k)
		qsort(v, k, sizeof(*v), name_cmp);
	*names = v;
	*n = k;
	return 0;
}

int rb_policy_load(const char *path, const struct rb_resolver *res,
		   struct rb_policy **out, struct rb_diags *diags)
{
	struct rb_diags local = { 0 };
	struct source src[1 + RB_POLICY_MAX_DROPINS] = { { 0 } };
	char **names = NULL, *paths[RB_POLICY_MAX_DROPINS] = { 0 };
	char *bufs[1 + RB_POLICY_MAX_DROPINS] = { 0 };
	char dir[4096];
	size_t nnames = 0, total = 0, nsrc = 0;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path)
		return -EINVAL;
	if (!diags)
		diags = &local;
	strlcpy(diags->file, path, sizeof(diags->file));

	r = read_policy_file(diags, path, NULL, RB_POLICY_MAX_SIZE, &bufs[0], &src[0].len);
	if (r < 0)
		goto out;
	src[0] = (struct source){ bufs[0], src[0].len, path };
	total = src[0].len;
	nsrc = 1;

	if (snprintf(dir, sizeof(dir), "%s.d", path) >= (int)sizeof(dir)) {
		r = load_fail(diags, NULL, -ENAMETOOLONG, "drop-ins");
		goto out;
	}
	r = list_dropins(diags, dir, &names, &nnames);
	for (size_t i = 0; r == 0 && i < nnames; i++) {
		if (asprintf(&paths[i], "%s/%s", dir, names[i]) < 0) {
			paths[i] = NULL;
			r = -ENOMEM;
			break;
		}
		r = read_policy_file(diags, paths[i], paths[i], RB_POLICY_MAX_SIZE - total,
				     &bufs[nsrc], &src[nsrc].len);
		if (r < 0)
			break;
		src[nsrc] = (struct source){ bufs[nsrc], src[nsrc].len, paths[i] };
		total += src[nsrc].len;
		nsrc++;
	}
	if (r == 0)
		r = parse_sources(src, nsrc, res, out, diags);
out:
	for (size_t i = 0; i < nnames; i++) {
		free(names[i]);
		free(paths[i]);
	}
	free(names);
	for (size_t i = 0; i < nsrc; i++)
		free(bufs[i]);
	rb_diags_free(&local);
	return r;
}

/* ---- the system resolver --------------------------------------------- */

/* getpwnam_r() and getgrnam_r() report "no such name" in several ways. */
static int lookup_result(int err, bool found)
{
	if (err == 0)
		return found ? 0 : -ENOENT;
	if (err == ENOENT || err == ESRCH)
		return -ENOENT;
	return -err;
}

/* getpwnam_r()/getgrnam_r() behind one signature, so the buffer handling
 * below is written once. */
static int pw_lookup(const char *name, char *buf, size_t size, unsigned *id, bool *found)
{
	struct passwd pw, *res = NULL;
	int err = getpwnam_r(name, &pw, buf, size, &res);

	*found = err == 0 && res;
	if (*found)
		*id = pw.pw_uid;
	return err;
}

static int gr_lookup(const char *name, char *buf, size_t size, unsigned *id, bool *found)
{
	struct group gr, *res = NULL;
	int err = getgrnam_r(name, &gr, buf, size, &res);

	*found = err == 0 && res;
	if (*found)
		*id = gr.gr_gid;
	return err;
}

/* Run LOOKUP with a buffer that grows on ERANGE up to LOOKUP_BUF_MAX. */
static int lookup_id(int (*lookup)(const char *, char *, size_t, unsigned *, bool *),
		     const char *name, unsigned *id)
{
	size_t size = 1024;
	char *buf = NULL;
	bool found = false;
	int err;

	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		err = lookup(name, buf, size, id, &found);
		if (err == EINTR)
			continue;
		if (err != ERANGE || size >= LOOKUP_BUF_MAX)
			break;
		size *= 2;
	}
	free(buf);
	return lookup_result(err, found);
}

static int system_user(const char *name, uid_t *uid, void *ctx)
{
	unsigned id = 0;
	int r = lookup_id(pw_lookup, name, &id);

	(void)ctx;
	if (r == 0)
		*uid = (uid_t)id;
	return r;
}

static int system_group(const char *name, gid_t *gid, void *ctx)
{
	unsigned id = 0;
	int r = lookup_id(gr_lookup, name, &id);

	(void)ctx;
	if (r == 0)
		*gid = (gid_t)id;
	return r;
}

const struct rb_resolver rb_resolver_system = {
	.user = system_user,
	.group = system_group,
	.ctx = NULL,
};
