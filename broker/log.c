/* SPDX-License-Identifier: MIT */
/* log.c - see log.h.  Each line is formatted once, in place, and written
 * with one write(2): the audit line is on the path of every request. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static enum log_level min_level = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_ERROR] = "error",
};

void log_set_level(enum log_level min)
{
	min_level = min;
}

int log_parse_level(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* logfmt: a value needs quotes when it is empty or holds a space, a quote,
 * an equals sign, a backslash or a control byte. */
static bool needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' ||
		    *s == 0x7f)
			return true;
	return false;
}

const char *log_q(char *buf, const char *s)
{
	bool q = needs_quotes(s);
	size_t o = 0;

	if (q)
		buf[o++] = '"';
	for (; *s && o < LOG_Q_MAX - 6; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (q)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* "ts=YYYY-MM-DDTHH:MM:SS" is formatted once per second, not per line. */
static size_t format_ts(char *buf, size_t size)
{
	static time_t cached_sec = -1;
	static char cached[32];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "ts=%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	n = snprintf(buf, size, "%s.%03ldZ", cached, ts.tv_nsec / 1000000);
	return n > 0 ? (size_t)n : 0;
}

/* Timestamp, level and message; returns the length. */
static size_t line_start(char *line, size_t size, enum log_level lvl, const char *msg)
{
	char q[LOG_Q_MAX];
	size_t o = format_ts(line, size);
	int n = snprintf(line + o, size - o, " level=%s msg=%s", level_names[lvl],
			 log_q(q, msg));

	return o + (n > 0 ? (size_t)n : 0);
}

/* Append one formatted piece; O may pass the end when output is cut. */
static size_t line_vappend(char *line, size_t size, size_t o, const char *fmt, va_list ap)
{
	int n;

	if (o >= size - 1)
		return o;
	n = vsnprintf(line + o, size - o, fmt, ap);
	return o + (n > 0 ? (size_t)n : 0);
}

static size_t line_append(char *line, size_t size, size_t o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t line_append(char *line, size_t size, size_t o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o = line_vappend(line, size, o, fmt, ap);
	va_end(ap);
	return o;
}

static void line_write(char *line, size_t size, size_t o)
{
	if (o > size - 2) /* cut: keep the newline */
		o = size - 2;
	line[o++] = '\n';
	/* Best effort: a full or closed stderr must not stop the broker. */
	if (write(STDERR_FILENO, line, o) < 0)
		return;
}

void log_event(enum log_level lvl, const char *msg, const char *kv, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	size_t o;

	if (lvl < min_level)
		return;
	o = line_start(line, sizeof(line), lvl, msg);
	if (kv) {
		o = line_append(line, sizeof(line), o, " ");
		va_start(ap, kv);
		o = line_vappend(line, sizeof(line), o, kv, ap);
		va_end(ap);
	}
	line_write(line, sizeof(line), o);
}

/* Human text as the message, optionally with err="strerror(ERR)". */
static void log_text(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	char text[LOG_Q_MAX], line[LOG_LINE_MAX], q[LOG_Q_MAX];
	size_t o;

	if (lvl < min_level)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	o = line_start(line, sizeof(line), lvl, text);
	if (err)
		o = line_append(line, sizeof(line), o, " err=%s", log_q(q, strerror(err)));
	line_write(line, sizeof(line), o);
}

#define TEXT_LOGGER(name, lvl, with_errno)              \
	void name(const char *fmt, ...)                 \
	{                                               \
		int saved = errno;                      \
		va_list ap;                             \
                                                        \
		va_start(ap, fmt);                      \
		log_text(lvl, (with_errno) ? saved : 0, fmt, ap); \
		va_end(ap);                             \
		errno = saved;                          \
	}

TEXT_LOGGER(log_info, LOG_LVL_INFO, 0)
TEXT_LOGGER(log_debug, LOG_LVL_DEBUG, 0)
TEXT_LOGGER(log_warn, LOG_LVL_WARN, 1)
TEXT_LOGGER(log_warnx, LOG_LVL_WARN, 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_text(LOG_LVL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_text(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
