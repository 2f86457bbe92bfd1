/* SPDX-License-Identifier: MIT */
/*
 * parse_lex.c - the parser's diagnostics, its state, and the lexer: each line
 * checked byte by byte and split into tokens.
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


const char *errno_text(int err)
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

int __attribute__((format(printf, 6, 0)))
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

int __attribute__((format(printf, 5, 0)))
diags_vadd(struct rb_diags *d, enum rb_diag_severity sev, unsigned line,
	   unsigned col, const char *fmt, va_list ap)
{
	return diags_vadd_in(d, NULL, sev, line, col, fmt, ap);
}

int __attribute__((format(printf, 5, 6)))
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




void oom(struct parser *p)
{
	p->fatal = -ENOMEM;
	p->stop = true;
}

void __attribute__((format(printf, 5, 0)))
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

void __attribute__((format(printf, 5, 6)))
report(struct parser *p, enum rb_diag_severity sev, unsigned line, unsigned col,
       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, sev, line, col, fmt, ap);
	va_end(ap);
}

/* An error at COL of the current line. */
void __attribute__((format(printf, 3, 4)))
error_at(struct parser *p, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, RB_DIAG_ERROR, p->line, col, fmt, ap);
	va_end(ap);
}

void __attribute__((format(printf, 3, 4)))
warn_at(struct parser *p, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, RB_DIAG_WARNING, p->line, col, fmt, ap);
	va_end(ap);
}

/* ---- tokens ------------------------------------------------------------ */

bool tok_is(const struct tok *t, const char *s)
{
	return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

void tok_copy(const struct tok *t, char *buf, size_t size)
{
	size_t n = t->len < size - 1 ? t->len : size - 1;

	memcpy(buf, t->s, n);
	buf[n] = '\0';
}

bool tok_digits(const struct tok *t)
{
	if (t->len == 0)
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (t->s[i] < '0' || t->s[i] > '9')
			return false;
	return true;
}


/* A token quoted for a message, shortened when long.  The lexer let only
 * printable ASCII through, so it is safe to print. */
struct shown show(const struct tok *t)
{
	struct shown r;

	if (t->len > SHOW_MAX)
		snprintf(r.s, sizeof(r.s), "'%.*s...'", SHOW_MAX - 3, t->s);
	else
		snprintf(r.s, sizeof(r.s), "'%.*s'", (int)t->len, t->s);
	return r;
}

/* Token I quoted, or "end of line" when the line is shorter. */
struct shown found(const struct parser *p, size_t i)
{
	struct shown r;

	if (i < p->ntok)
		return show(&p->tok[i]);
	snprintf(r.s, sizeof(r.s), "end of line");
	return r;
}

/* Column of token I, or just past the last token when the line is shorter. */
unsigned col_of(const struct parser *p, size_t i)
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
const char *lex_line(struct parser *p, const char *s, size_t n)
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
