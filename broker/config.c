/* SPDX-License-Identifier: MIT */
/*
 * config.c - the policy's 'broker { ... }' block (struct rb_global) under
 * the command line: an option given on the command line wins; a setting
 * the file leaves out takes the built-in default.
 *
 * On SIGHUP the limits, timeouts and log level apply at once.  The socket
 * (path, mode, owner, group), the user and the log target were acted on
 * at start, before the privilege drop; a change to them is logged as
 * needing a restart and otherwise ignored.
 */
#include <stdio.h>
#include <string.h> /* libbsd overlay: strlcpy() */
#include <syslog.h>

#include "broker.h"
#include "log.h"

static uint32_t or_default(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

void config_apply(struct broker_config *cfg, const struct rb_global *g)
{
	unsigned cli = cfg->cli;

	if (!(cli & CFG_SOCKET) && g->listen[0]) {
		strlcpy(cfg->socket_buf, g->listen, sizeof(cfg->socket_buf));
		cfg->socket_path = cfg->socket_buf;
	}
	if (!(cli & CFG_MODE) && g->has_mode)
		cfg->socket_mode = g->mode;
	if (!(cli & CFG_OWNER) && g->has_owner)
		cfg->socket_uid = g->owner;
	if (!(cli & CFG_GROUP) && g->has_group)
		cfg->socket_gid = g->group;
	if (!(cli & CFG_USER) && g->user[0]) {
		strlcpy(cfg->user_buf, g->user, sizeof(cfg->user_buf));
		cfg->user = cfg->user_buf;
	}
	if (!(cli & CFG_MAX_CONNS))
		cfg->max_conns = or_default(g->max_connections, DEFAULT_MAX_CONNS);
	if (!(cli & CFG_REQUEST_TIMEOUT))
		cfg->request_timeout_ms = or_default(g->request_timeout_ms,
						     DEFAULT_REQUEST_TIMEOUT_MS);
	if (!(cli & CFG_IDLE_TIMEOUT))
		cfg->idle_timeout_ms = or_default(g->idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS);
	if (!(cli & CFG_LOG) && g->log != RB_LOG_UNSET) {
		cfg->log_target = g->log;
		cfg->syslog_facility = g->syslog_facility;
	}
	if (!(cli & CFG_LOG_LEVEL) && g->log_level >= 0)
		log_set_level((enum log_level)g->log_level);
	cfg->file = *g;
}

static void restart_needed(const char *setting)
{
	log_event(LOG_LVL_WARN, "setting changed in the policy; restart the broker to apply it",
		  "setting=%s", setting);
}

static void apply_u32(const char *name, uint32_t *cur, uint32_t want)
{
	if (*cur == want)
		return;
	log_event(LOG_LVL_INFO, "setting applied", "setting=%s old=%u new=%u", name,
		  (unsigned)*cur, (unsigned)want);
	*cur = want;
}

void config_reload(struct broker_config *cfg, const struct rb_global *g)
{
	const struct rb_global *o = &cfg->file;
	unsigned cli = cfg->cli;

	/* Acted on once, before the privilege drop. */
	if (!(cli & CFG_SOCKET) && strcmp(o->listen, g->listen) != 0)
		restart_needed("listen");
	if (!(cli & CFG_MODE) && (o->has_mode != g->has_mode || o->mode != g->mode))
		restart_needed("socket-mode");
	if (!(cli & CFG_OWNER) && (o->has_owner != g->has_owner || o->owner != g->owner))
		restart_needed("socket-owner");
	if (!(cli & CFG_GROUP) && (o->has_group != g->has_group || o->group != g->group))
		restart_needed("socket-group");
	if (!(cli & CFG_USER) && strcmp(o->user, g->user) != 0)
		restart_needed("user");
	if (!(cli & CFG_LOG) && (o->log != g->log || (g->log == RB_LOG_SYSLOG &&
						      o->syslog_facility != g->syslog_facility)))
		restart_needed("log");

	/* At once. */
	if (!(cli & CFG_MAX_CONNS)) {
		uint32_t want = or_default(g->max_connections, DEFAULT_MAX_CONNS);
		uint32_t cur = (uint32_t)cfg->max_conns;

		if (cfg->conns_fit && want > cfg->conns_fit) {
			log_event(LOG_LVL_WARN, "max connections lowered to fit RLIMIT_NOFILE",
				  "max_connections=%zu asked=%u", cfg->conns_fit, (unsigned)want);
			want = (uint32_t)cfg->conns_fit;
		}
		apply_u32("max-connections", &cur, want);
		cfg->max_conns = cur;
	}
	if (!(cli & CFG_REQUEST_TIMEOUT))
		apply_u32("request-timeout-ms", &cfg->request_timeout_ms,
			  or_default(g->request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS));
	if (!(cli & CFG_IDLE_TIMEOUT))
		apply_u32("idle-timeout-ms", &cfg->idle_timeout_ms,
			  or_default(g->idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS));
	if (!(cli & CFG_LOG_LEVEL) && o->log_level != g->log_level) {
		static const char *const names[] = { "debug", "info", "warn", "error" };
		enum log_level lvl = g->log_level >= 0 && g->log_level <= LOG_LVL_ERROR
					     ? (enum log_level)g->log_level
					     : LOG_LVL_INFO;

		/* Said before a higher level would hide it. */
		log_event(LOG_LVL_WARN, "setting applied", "setting=log-level new=%s",
			  names[lvl]);
		log_set_level(lvl);
	}
	cfg->file = *g;
}
