/* SPDX-License-Identifier: MIT */
/*
 * log.h - the broker's log: one logfmt line per event on stderr,
 *   ts=2026-11-23T18:40:00.123Z level=info msg=grant uid=1000 ...
 * written with a single write(2) so lines never interleave.
 */
#ifndef RAWBROKER_LOG_H
#define RAWBROKER_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};

#define LOG_Q_MAX 512 /* room for one quoted value */

void log_set_level(enum log_level min);
/* Parse "debug", "info", "warn", "error"; -1 if none of them. */
int log_parse_level(const char *s);

/* MSG is a short event name or sentence; KV (printf) appends key=value
 * pairs and may be NULL.  Values that may hold spaces go through log_q(). */
void log_event(enum log_level lvl, const char *msg, const char *kv, ...)
	__attribute__((format(printf, 3, 4)));

/* S as a logfmt value into BUF of LOG_Q_MAX bytes, returning BUF: as it
 * is when it is one plain word, else in quotes with \" \\ \n escaped and
 * other control bytes as \xNN. */
const char *log_q(char *buf, const char *s);

/* Human-text helpers in the OpenBSD daemon style: *_warn appends
 * err="strerror(errno)", *_warnx does not. fatal* log and exit(1). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* RAWBROKER_LOG_H */
