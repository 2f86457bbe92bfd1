/* SPDX-License-Identifier: MIT */
/* log.c - see log.h.  Each line is formatted once, in place, and written
 * with one write(2) (stderr) or send(2) (syslog): the audit line is on the
 * path of every request.  The body ("level=... msg=... k=v") is formatted
 * after room for the prefix each target wants (a timestamp for stderr,
 * "<PRI>rawbrokerd[PID]: " for syslog), which is then put in front of it. */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048 /* body, with its newline */
#define PREFIX_MAX 64
#define SYSLOG_PATH "/dev/log"

static enum log_level min_level = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_ERROR] = "error",
};

static const int level_severity[] = {
	[LOG_LVL_DEBUG] = LOG_DEBUG,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_ERROR] = LOG_ERR,
};

/* Where lines go. */
static int syslog_fd = -1;   /* connected to /dev/log; -1: stderr */
static int syslog_facility;
static pid_t syslog_pid;
static int64_t syslog_retry_ms; /* last reconnect attempt */
static int stderr_kind;      /* 0 not yet known, 1 plain, 2 pipe or socket */
static int stderr_ep = -1;   /* epoll watching stderr for room (kind 2) */
static bool stderr_journal;  /* stderr is the journal: "<N>" prefixes */

/* The flood cap and the count of lines that could not be written.  The
 * window is the second of the lines' timestamps (CLOCK_REALTIME), so the
 * cap can be checked from the log itself. */
static struct {
	time_t sec;        /* the current window */
	unsigned lines;    /* warn lines written in it */
	unsigned info_lines; /* info and debug lines written in it */
	unsigned long long suppressed, lost, info_suppressed;
} flood = { .sec = -1 };
static unsigned info_per_sec = LOG_INFO_PER_SEC; /* 0: no cap */

void log_set_level(enum log_level min)
{
	min_level = min;
}

void log_set_info_rate(unsigned per_sec)
{
	info_per_sec = per_sec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 or -errno. */
static int syslog_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = SYSLOG_PATH };

	return connect(syslog_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
}

int log_open_syslog(int facility)
{
	int r;

	/* Non-blocking: a syslog daemon that falls behind costs us lines,
	 * never the event loop. */
	syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (syslog_fd < 0)
		return -errno;
	r = syslog_connect();
	if (r < 0) {
		close(syslog_fd);
		syslog_fd = -1;
		return r;
	}
	syslog_facility = facility;
	syslog_pid = getpid();
	return 0;
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
	n = snprintf(buf, size, "%s.%03ldZ ", cached, ts.tv_nsec / 1000000);
	return n > 0 ? (size_t)n : 0;
}

/* A line: PREFIX_MAX bytes of room, then the body. */
struct line {
	char buf[PREFIX_MAX + LOG_LINE_MAX];
	size_t o; /* body length; may pass the end when output is cut */
};

#define BODY(l) ((l)->buf + PREFIX_MAX)

/* Append one formatted piece to the body. */
static void line_vappend(struct line *l, const char *fmt, va_list ap)
{
	int n;

	if (l->o >= LOG_LINE_MAX - 1)
		return;
	n = vsnprintf(BODY(l) + l->o, LOG_LINE_MAX - l->o, fmt, ap);
	l->o += n > 0 ? (size_t)n : 0;
}

static void line_append(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void line_append(struct line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_vappend(l, fmt, ap);
	va_end(ap);
}

/* Level and message. */
static void line_start(struct line *l, enum log_level lvl, const char *msg)
{
	char q[LOG_Q_MAX];

	l->o = 0;
	line_append(l, "level=%s msg=%s", level_names[lvl], log_q(q, msg));
}

/*
 * A pipe or a socket can be full: then the line is lost, not waited for.
 * (A write of one line, under PIPE_BUF, to a pipe that polls writable does
 * not block.)  stderr itself stays blocking: its file description may be
 * shared (a supervised child's stderr).  The check is an epoll of its own,
 * made with the first line (before the sandbox), so that the log needs no
 * call the event loop does not make anyway.  Files and terminals are
 * written as they are.
 */
static bool write_stderr(const char *p, size_t n)
{
	struct epoll_event ev = { .events = EPOLLOUT };

	if (stderr_kind == 2 && epoll_wait(stderr_ep, &ev, 1, 0) != 1)
		return false;
	ssize_t w;

	do /* EINTR: retried (no handler of ours runs here; belt and braces) */
		w = write(STDERR_FILENO, p, n);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)n;
}

/* What stderr is, found with the first line: a pipe or socket (kind 2)
 * gets its epoll; the journal (JOURNAL_STREAM="DEV:INO" names stderr, see
 * systemd.exec(5)) gets sd-daemon(3) "<N>" priority prefixes. */
static void stderr_probe(void)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	stderr_kind = 1;
	if (fstat(STDERR_FILENO, &st) != 0)
		return;
	if (js && sscanf(js, "%llu:%llu%c", &dev, &ino, &end) == 2 &&
	    dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino)
		stderr_journal = true;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		stderr_ep = epoll_create1(EPOLL_CLOEXEC);
		if (stderr_ep >= 0 && epoll_ctl(stderr_ep, EPOLL_CTL_ADD, STDERR_FILENO, &ev) == 0)
			stderr_kind = 2;
	}
}

/* A syslog daemon that was restarted left our socket connected to
 * nothing: connect it again (at most once a second), on the same socket. */
static bool write_syslog(const char *p, size_t n)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int64_t now;

		if (send(syslog_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return true;
		if (attempt || (errno != ECONNREFUSED && errno != ENOTCONN &&
				errno != ECONNRESET))
			return false;
		now = mono_ms();
		if (now - syslog_retry_ms < 1000)
			return false;
		syslog_retry_ms = now;
		if (syslog_connect() < 0)
			return false;
	}
	return false;
}

/* Lines gathered for one write(2) (log_batch_begin): to a pipe or socket
 * at most PIPE_BUF bytes, which a writable pipe takes whole, as one line. */
#define BATCH_MAX (16 * 1024)
static struct {
	bool on;
	size_t len;
	unsigned lines;
	char buf[BATCH_MAX];
} batch;

static void batch_write(void)
{
	if (batch.len && !write_stderr(batch.buf, batch.len))
		flood.lost += batch.lines;
	batch.len = 0;
	batch.lines = 0;
}

void log_batch_begin(void)
{
	batch.on = true;
}

void log_batch_end(void)
{
	batch_write();
	batch.on = false;
}

/* Put LINE[N] in the batch; false when it must be written on its own. */
static bool batch_add(const char *line, size_t n)
{
	size_t cap = stderr_kind == 1 ? BATCH_MAX : PIPE_BUF;

	if (!batch.on || stderr_kind == 0 || n > cap)
		return false;
	if (batch.len + n > cap)
		batch_write();
	memcpy(batch.buf + batch.len, line, n);
	batch.len += n;
	batch.lines++;
	return true;
}

/* Put the prefix in front of the body and write the line; false when the
 * log did not take it. */
static bool line_emit(struct line *l, enum log_level lvl)
{
	char *body = BODY(l);
	size_t o = l->o, plen;
	char pre[PREFIX_MAX];
	bool ok = true;

	if (o > LOG_LINE_MAX - 2) /* cut: keep room for the newline */
		o = LOG_LINE_MAX - 2;
	if (syslog_fd >= 0) {
		int n = snprintf(pre, sizeof(pre), "<%d>rawbrokerd[%d]: ",
				 syslog_facility | level_severity[lvl], (int)syslog_pid);

		plen = (size_t)n;
		memcpy(body - plen, pre, plen);
		ok = write_syslog(body - plen, plen + o);
		if (lvl < LOG_LVL_ERROR)
			return ok;
	}
	/* stderr, also for errors when logging to syslog: the operator who
	 * starts the broker sees why it stopped. */
	if (stderr_kind == 0)
		stderr_probe();
	plen = stderr_journal ? (size_t)snprintf(pre, sizeof(pre), "<%d>", level_severity[lvl]) : 0;
	plen += format_ts(pre + plen, sizeof(pre) - plen);
	memcpy(body - plen, pre, plen);
	body[o++] = '\n';
	if (lvl < LOG_LVL_ERROR && batch_add(body - plen, plen + o))
		return ok;
	batch_write(); /* what was gathered goes first */
	return write_stderr(body - plen, plen + o) && ok;
}

/* The summary of the lines the last window(s) suppressed or lost. */
static void emit_summary(void)
{
	struct line l;

	line_start(&l, LOG_LVL_WARN, "log lines suppressed");
	line_append(&l, " suppressed=%llu lost=%llu limit_per_sec=%d info_suppressed=%llu "
		    "info_limit_per_sec=%u", flood.suppressed, flood.lost, LOG_WARN_PER_SEC,
		    flood.info_suppressed, info_per_sec);
	if (line_emit(&l, LOG_LVL_WARN))
		flood.suppressed = flood.lost = flood.info_suppressed = 0;
}

static void roll_window(const struct timespec *now)
{
	if (now->tv_sec == flood.sec)
		return;
	flood.sec = now->tv_sec;
	flood.lines = flood.info_lines = 0;
	if (flood.suppressed || flood.lost || flood.info_suppressed)
		emit_summary();
}

/* May a line of LVL be written now?  Warn lines are capped per second,
 * info and debug lines too, each under its own budget; error lines (the
 * broker stopping, a failed reload) are not. */
static bool admit(enum log_level lvl)
{
	struct timespec now;

	if (lvl < min_level)
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	roll_window(&now);
	if (lvl < LOG_LVL_WARN) {
		if (info_per_sec && flood.info_lines >= info_per_sec) {
			flood.info_suppressed++;
			return false;
		}
		flood.info_lines++;
		return true;
	}
	if (lvl != LOG_LVL_WARN)
		return true;
	if (flood.lines >= LOG_WARN_PER_SEC) {
		flood.suppressed++;
		return false;
	}
	flood.lines++;
	return true;
}

static void line_write(struct line *l, enum log_level lvl)
{
	if (!line_emit(l, lvl))
		flood.lost++;
}

int log_flush(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	roll_window(&now);
	if (!flood.suppressed && !flood.lost && !flood.info_suppressed)
		return -1;
	return (int)((1000000000 - now.tv_nsec) / 1000000) + 1; /* the next second */
}

static void event_write(enum log_level lvl, const char *msg, const char *kv, va_list ap)
{
	struct line l;

	line_start(&l, lvl, msg);
	if (kv) {
		line_append(&l, " ");
		line_vappend(&l, kv, ap);
	}
	line_write(&l, lvl);
}

void log_event(enum log_level lvl, const char *msg, const char *kv, ...)
{
	va_list ap;

	if (!admit(lvl))
		return;
	va_start(ap, kv);
	event_write(lvl, msg, kv, ap);
	va_end(ap);
}

bool log_admit(enum log_level lvl)
{
	return admit(lvl);
}

void log_admitted(enum log_level lvl, const char *msg, const char *kv, ...)
{
	va_list ap;

	va_start(ap, kv);
	event_write(lvl, msg, kv, ap);
	va_end(ap);
}

/* Human text as the message, optionally with err="strerror(ERR)". */
static void log_text(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	char text[LOG_Q_MAX], q[LOG_Q_MAX];
	struct line l;

	if (!admit(lvl))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	line_start(&l, lvl, text);
	if (err)
		line_append(&l, " err=%s", log_q(q, strerror(err)));
	line_write(&l, lvl);
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
