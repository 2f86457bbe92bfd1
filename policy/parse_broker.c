/* SPDX-License-Identifier: MIT */
/*
 * parse_broker.c - the broker block: the settings of rawbrokerd itself.
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


/* ---- the broker block ---------------------------------------------------- */

/* broker { */
void parse_broker(struct parser *p)
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

void close_broker(struct parser *p)
{
	p->in_broker = false;
	if (p->ntok > 1)
		error_at(p, p->tok[1].col, "expected end of line after '}', found %s",
			 show(&p->tok[1]).s);
}

void parse_g_listen(struct parser *p)
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

void parse_g_mode(struct parser *p)
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

void parse_g_owner(struct parser *p)
{
	static const struct match_kind mk = { "user", RB_MATCH_UID, true, false, "uid" };
	struct rb_global *g = &p->pol->global;
	uint32_t id;

	if (!first_time(p, &p->g_owner) || global_id(p, &mk, &id) < 0)
		return;
	g->has_owner = true;
	g->owner = (uid_t)id;
}

void parse_g_group(struct parser *p)
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
void parse_g_user(struct parser *p)
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

void parse_g_maxconn(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;

	if (first_time(p, &p->g_maxconn) && (t = one_value(p, "a number of connections")))
		parse_number(p, t, 1, RATE_MAX, false, "a number of connections",
			     &g->max_connections);
}

void parse_g_reqto(struct parser *p)
{
	struct rb_global *g = &p->pol->global;
	const struct tok *t;

	if (first_time(p, &p->g_reqto) && (t = one_value(p, "a duration")))
		parse_duration(p, t, 10, 600000, &g->request_timeout_ms);
}

void parse_g_idleto(struct parser *p)
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
void parse_g_log(struct parser *p)
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

void parse_g_level(struct parser *p)
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
