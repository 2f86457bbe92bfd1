/* SPDX-License-Identifier: MIT */
/*
 * log.h - the broker's log: one logfmt line per event,
 *   ts=2026-11-23T18:40:00.123Z level=info msg=grant uid=1000 ...
 * on stderr (by default) or to syslog, each line with a single write(2) or
 * send(2) so lines never interleave.
 *
 * A log must not stop the broker:
 *  - warn lines (refusals, protocol errors, limit hits: what a hostile
 *    client can cause) are capped at LOG_WARN_PER_SEC per second of their
 *    timestamps (CLOCK_REALTIME); the rest of that second's warn lines are
 *    counted and summed up in one line ("log lines suppressed") once the
 *    second is over;
 *  - info and debug lines (grants, connects: also what a client causes,
 *    as fast as its rate allows) likewise, under a budget of their own,
 *    LOG_INFO_PER_SEC by default (log_set_info_rate()), counted in the
 *    same summary line as info_suppressed;
 *  - a log that cannot take a line at once (a full pipe or socket on
 *    stderr, a full syslog queue) loses that line rather than blocking the
 *    event loop; lost lines are counted in the same summary.
 * Call from the event loop's thread only.
 */
#ifndef RAWBROKER_LOG_H
#define RAWBROKER_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};

#define LOG_Q_MAX 512        /* room for one quoted value */
#define LOG_WARN_PER_SEC 100 /* warn lines written per second, at most */
#define LOG_INFO_PER_SEC 1000 /* info and debug lines, by default */

void log_set_level(enum log_level min);
/* Info and debug lines written per second, at most; 0: no cap. */
void log_set_info_rate(unsigned per_sec);
/* Levels and syslog facilities are parsed (and named) by the policy's
 * parser, for the command line and the 'broker' block alike (options.h,
 * rb_log_level_name(), rb_syslog_facility_name()). */

/*
 * Send lines to syslog (the datagram socket /dev/log) from now on.  The
 * socket is made and connected here, so call it before the privilege
 * drop and the sandbox: afterwards the log only needs send(2), and
 * connect(2) on that same socket when the syslog daemon was restarted.
 * Lines of level error also go to stderr.  0, or -errno (the log stays on
 * stderr).
 */
int log_open_syslog(int facility);

/* Write the summary of suppressed or lost lines when its second is over.
 * Returns the milliseconds until it should be called again, -1 when
 * nothing waits. */
int log_flush(void);

/*
 * Between log_batch_begin() and log_batch_end() (the event loop, around
 * one batch of events) lines for stderr are gathered and written with one
 * write(2) at the end, or earlier when the buffer fills: under load that
 * is one write for many audit lines instead of one each.  Each line is
 * still whole and in order; error lines and syslog are written at once.
 */
void log_batch_begin(void);
void log_batch_end(void);

/* MSG is a short event name or sentence; KV (printf) appends key=value
 * pairs and may be NULL.  Values that may hold spaces go through log_q(). */
void log_event(enum log_level lvl, const char *msg, const char *kv, ...)
	__attribute__((format(printf, 3, 4)));

/* For a line whose fields cost something to format (an audit line per
 * grant): log_admit() decides whether a line at LVL is written now (and
 * counts it, written or held back by the per-second caps); only when it
 * says true, log_admitted() writes the line, as log_event() would. */
bool log_admit(enum log_level lvl);
void log_admitted(enum log_level lvl, const char *msg, const char *kv, ...)
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
