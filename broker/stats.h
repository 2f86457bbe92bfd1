/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the front's counters (grants, denials and rate-limited requests
 * per rule and family; limit hits), the status a StatusRequest is answered
 * with, and the Prometheus text file of --metrics-file.
 *
 * Module state; event-loop thread only.  Counters live as long as the
 * process: a policy reload keeps them (a rule that left stops growing).
 */
#ifndef RAWBROKER_STATS_H
#define RAWBROKER_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"

struct broker;

/* Per-rule counters kept, at most; requests of further (rule, family)
 * pairs are counted under the rule name "(other)", of no family. */
#define STATS_RULES_MAX 128
#define METRICS_INTERVAL_DEFAULT 15 /* seconds */
#define METRICS_INTERVAL_MAX 86400

enum stats_outcome { STATS_GRANTED, STATS_DENIED, STATS_RATE_LIMITED };

/* At start: now is the start time and the policy's load time. */
void stats_init(const char *policy_path);
/* A successful SIGHUP reload. */
void stats_policy_loaded(void);

/* One socket request decided: RULE (NULL or "" when none decided) for
 * FAMILY. */
void stats_request(const char *rule, int family, enum stats_outcome o);
/* One hit of the limit NAME (a string literal, as the log's limit=). */
void stats_limit_hit(const char *name);

/* The status of broker B, bounded to fit one reply record (codec.h's
 * RB_STATUS_*_MAX; lists longest first, the rest counted).  Static storage,
 * valid until the next call. */
const Rawbroker__BrokerStatus *stats_status(const struct broker *b);

/*
 * --metrics-file PATH: open PATH's directory (O_PATH, before the sandbox,
 * which then allows creating, renaming and removing entries through this
 * descriptor only).  Returns the directory's descriptor, or -errno with
 * WHY filled.
 */
int stats_metrics_open(const char *path, unsigned interval_s, char *why, size_t n);
/* Milliseconds until the file is due (0: now), -1 when there is none. */
int stats_metrics_due(void);
/* Write the file if due: a temporary entry in the same directory, then
 * renamed over PATH, so a reader sees the old file or the new one whole. */
void stats_metrics_tick(const struct broker *b);

#endif /* RAWBROKER_STATS_H */
