/* SPDX-License-Identifier: MIT */
/*
 * parse.c - read a policy text into a struct rb_policy: the driver (one
 * line at a time to its keyword's handler) and loading (the file and its
 * drop-ins).  The other parse_*.c files hold the handlers.
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

#include "parse_impl.h"


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
