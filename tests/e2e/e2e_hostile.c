/* SPDX-License-Identifier: MIT */
/*
 * e2e_hostile - the clients of tests/e2e/hostile.sh: a well-behaved one
 * that keeps asking, hostile ones in numbers, and the limits seen from a
 * client.  Runs as an unprivileged uid against a real rawbrokerd at
 * $RAWBROKER_SOCKET.  Every loop is bounded in count and time.
 *
 *   e2e_hostile kept MS MAX_LAT_MS [STOP]
 *                                      rb_socket() every 5 ms on one kept
 *                                      connection (an echo with 127.0.0.1 every
 *                                      50th) for MS ms, or until file STOP
 *                                      exists; fails on any refusal or on a
 *                                      call slower than MAX_LAT_MS
 *   e2e_hostile flood KIND N           N connections of KIND one after another,
 *                                      each getting the treatment it must get:
 *                                      garbage oversize truncated badversion
 *                                      version0 unknownkind nokind sendfd
 *                                      twofds pipefd hangup
 *   e2e_hostile hold N MS              open N connections, one request each,
 *                                      hold them MS ms; report how many the
 *                                      broker answered and how many it left open
 *   e2e_hostile noread N               one connection, N socket requests sent
 *                                      and no reply read until the broker
 *                                      stops answering: it must close the
 *                                      connection (a client that does not
 *                                      read is dropped, its descriptors in
 *                                      flight bounded); reports how many
 *                                      replies came before the close
 *   e2e_hostile silent MIN MAX         connect, say nothing: the broker must
 *                                      close within MIN..MAX ms
 *   e2e_hostile step1 MIN MAX          set_option step 1, then no step 2: closed
 *                                      within MIN..MAX ms
 *   e2e_hostile idle MS                rb_socket, sleep MS, rb_socket again: both
 *                                      granted (the library reconnects when the
 *                                      broker closed the idle connection)
 *   e2e_hostile burst N LO HI          rb_socket up to N times as fast as it can:
 *                                      LO..HI granted, then EAGAIN (LO = N:
 *                                      all N granted)
 *   e2e_hostile killmid N              N children killed (SIGKILL) at random
 *                                      points of their requests
 *   e2e_hostile syslogd PATH OUT       (root) a syslog receiver: every datagram
 *                                      to PATH appended to OUT as a line
 *   e2e_hostile optflood N             N set_option exchanges (IPV6_HOPOPTS on
 *                                      a UDP socket of its own) as fast as it
 *                                      can on one connection; reports how many
 *                                      were granted and how many rate-limited
 *   e2e_hostile asgroups N BASE UID CMD...
 *                                      (root) run CMD as UID:UID with the N
 *                                      supplementary groups BASE..BASE+N-1
 *
 * Exit 0 when what was checked holds, 1 otherwise, with a line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <arpa/inet.h>

#include "codec.h"
#include "e2e_util.h"
#include "frame.h"
#include "rawbroker.h"

static void sleep_ms(double ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static ssize_t pack_socket(uint8_t *buf, size_t cap, int version, uint64_t id)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SocketRequest sr = RAWBROKER__SOCKET_REQUEST__INIT;

	req.version = version;
	req.id = id;
	req.kind_case = RAWBROKER__REQUEST__KIND_SOCKET;
	req.socket = &sr;
	sr.family = AF_INET;
	sr.type = SOCK_RAW;
	sr.protocol = IPPROTO_ICMP;
	return rb_request_encode(&req, buf, cap);
}

static ssize_t pack_step(uint8_t *buf, size_t cap, int step, uint64_t id)
{
	static const uint8_t hdr[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SetOptionRequest so = RAWBROKER__SET_OPTION_REQUEST__INIT;
	Rawbroker__DescriptorRequest dr = RAWBROKER__DESCRIPTOR_REQUEST__INIT;

	req.version = RB_PROTOCOL_VERSION;
	req.id = id;
	if (step == 1) {
		req.kind_case = RAWBROKER__REQUEST__KIND_SET_OPTION;
		req.set_option = &so;
		so.level = IPPROTO_IPV6;
		so.name = IPV6_HOPOPTS;
		so.value.data = (uint8_t *)hdr;
		so.value.len = sizeof(hdr);
	} else {
		req.kind_case = RAWBROKER__REQUEST__KIND_DESCRIPTOR;
		req.descriptor = &dr;
	}
	return rb_request_encode(&req, buf, cap);
}

/* One reply within 2 s: its status (-1: none), the descriptor closed. */
static int read_reply(int fd, bool *want_descriptor)
{
	uint8_t buf[RB_FRAME_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	Rawbroker__Reply *rep = NULL;
	int rfd = -1, st;
	ssize_t n;

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	n = rb_frame_recv(fd, buf, sizeof(buf), &rfd, RB_FRAME_ACCEPT_FD);
	if (rfd >= 0)
		close(rfd);
	if (n <= 0 || rb_reply_decode(buf, (size_t)n, &rep) < 0)
		return -1;
	st = (int)rep->status;
	if (want_descriptor)
		*want_descriptor = rep->want_descriptor;
	rb_reply_free(rep);
	return st;
}

/* The broker closes FD within 2 s. */
static bool closed_by_broker(int fd)
{
	uint8_t buf[RB_FRAME_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double end = now_ms() + 2000;

	while (now_ms() < end) {
		ssize_t n;

		if (poll(&pfd, 1, 2000) != 1)
			return false;
		n = rb_frame_recv(fd, buf, sizeof(buf), NULL, 0);
		if (n == 0 || n == -ECONNRESET)
			return true;
		if (n < 0 && n != -EPROTO)
			return true;
	}
	return false;
}

/* Send a record and expect an error reply with STATUS, then the close. */
static int expect_refusal(int fd, const void *buf, size_t len, int sfd, int status,
			  const char *kind)
{
	int r = rb_frame_send(fd, buf, len, sfd, 0), got;

	if (r < 0 && len > RB_FRAME_MAX) /* rb_frame_send refuses oversize: raw send */
		r = send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
	if (r < 0)
		return fail("%s: send: %s", kind, strerror(-r));
	got = read_reply(fd, NULL);
	if (got != status)
		return fail("%s: reply status %d, wanted %d", kind, got, status);
	if (!closed_by_broker(fd))
		return fail("%s: the broker kept the connection", kind);
	return 0;
}

/* Step 1 of a set_option answered with want_descriptor. */
static int step1(int fd, const char *kind)
{
	uint8_t buf[RB_FRAME_MAX];
	ssize_t n = pack_step(buf, sizeof(buf), 1, 1);
	bool want = false;

	if (n < 0 || rb_frame_send(fd, buf, (size_t)n, -1, 0) < 0)
		return fail("%s: step 1 not sent", kind);
	if (read_reply(fd, &want) != RAWBROKER__STATUS__STATUS_OK || !want)
		return fail("%s: step 1 not answered with want_descriptor (a rule with "
			    "options for this uid?)", kind);
	return 0;
}

/* Two descriptors in one record, by hand (frame.c sends only one). */
static int send_two_fds(int fd, const void *buf, size_t len)
{
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int fds[2] = { STDIN_FILENO, STDOUT_FILENO };

	memset(u.b, 0, sizeof(u.b));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static int hostile_one(const char *kind)
{
	uint8_t buf[RB_FRAME_MAX + 512];
	int fd = raw_connect(), r = 0;
	ssize_t n;

	if (fd < 0)
		return fail("connect to $RAWBROKER_SOCKET: %s", strerror(errno));
	if (strcmp(kind, "garbage") == 0) {
		for (size_t i = 0; i < 200; i++)
			buf[i] = (uint8_t)(i * 37 + 11);
		r = expect_refusal(fd, buf, 200, -1, RAWBROKER__STATUS__STATUS_INVALID, kind);
	} else if (strcmp(kind, "oversize") == 0) {
		memset(buf, 0x0a, sizeof(buf));
		r = expect_refusal(fd, buf, sizeof(buf), -1, RAWBROKER__STATUS__STATUS_INVALID,
				   kind);
	} else if (strcmp(kind, "truncated") == 0) {
		n = pack_socket(buf, sizeof(buf), RB_PROTOCOL_VERSION, 3);
		r = expect_refusal(fd, buf, (size_t)n - 1, -1, RAWBROKER__STATUS__STATUS_INVALID,
				   kind);
	} else if (strcmp(kind, "badversion") == 0 || strcmp(kind, "version0") == 0) {
		n = pack_socket(buf, sizeof(buf), kind[0] == 'b' ? 2 : 0, 3);
		r = expect_refusal(fd, buf, (size_t)n, -1, RAWBROKER__STATUS__STATUS_BAD_VERSION,
				   kind);
	} else if (strcmp(kind, "unknownkind") == 0) {
		/* version 1, id 5, then field 13 (a kind this version does
		 * not know) holding an empty message */
		static const uint8_t rec[] = { 0x08, 0x01, 0x10, 0x05, 0x6a, 0x00 };

		r = expect_refusal(fd, rec, sizeof(rec), -1, RAWBROKER__STATUS__STATUS_INVALID,
				   kind);
	} else if (strcmp(kind, "nokind") == 0) {
		static const uint8_t rec[] = { 0x08, 0x01, 0x10, 0x05 };

		r = expect_refusal(fd, rec, sizeof(rec), -1, RAWBROKER__STATUS__STATUS_INVALID,
				   kind);
	} else if (strcmp(kind, "sendfd") == 0) {
		/* Linux 6.16+: the kernel refuses it for the broker
		 * (SO_PASSRIGHTS 0); older kernels deliver it and the broker
		 * refuses. */
		n = pack_socket(buf, sizeof(buf), RB_PROTOCOL_VERSION, 3);
		r = rb_frame_send(fd, buf, (size_t)n, STDIN_FILENO, 0);
		if (r == -EPERM)
			r = 0;
		else if (r == 0)
			r = expect_refusal(fd, buf, (size_t)n, -1,
					   RAWBROKER__STATUS__STATUS_INVALID, kind);
		else
			r = fail("sendfd: %s", strerror(-r));
	} else if (strcmp(kind, "twofds") == 0) {
		/* The door is open after step 1: two descriptors at once. */
		r = step1(fd, kind);
		if (r == 0) {
			n = pack_step(buf, sizeof(buf), 2, 2);
			r = send_two_fds(fd, buf, (size_t)n);
			if (r < 0)
				r = fail("twofds: %s", strerror(-r));
			else if (read_reply(fd, NULL) != RAWBROKER__STATUS__STATUS_INVALID ||
				 !closed_by_broker(fd))
				r = fail("twofds: not refused and closed");
		}
	} else if (strcmp(kind, "pipefd") == 0) {
		/* Step 2 with a pipe instead of an IPv6 socket: refused. */
		int p[2];

		r = step1(fd, kind);
		if (r == 0 && pipe2(p, O_CLOEXEC) == 0) {
			n = pack_step(buf, sizeof(buf), 2, 2);
			if (rb_frame_send(fd, buf, (size_t)n, p[0], 0) < 0 ||
			    read_reply(fd, NULL) != RAWBROKER__STATUS__STATUS_INVALID)
				r = fail("pipefd: a pipe as step 2 not refused");
			close(p[0]);
			close(p[1]);
		}
	} else if (strcmp(kind, "hangup") == 0) {
		n = pack_socket(buf, sizeof(buf), RB_PROTOCOL_VERSION, 3);
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			r = fail("hangup: send: %s", strerror(errno));
	} else {
		r = fail("unknown kind %s", kind);
	}
	close(fd);
	return r;
}

static int cmd_flood(const char *kind, int n)
{
	double t0 = now_ms();

	for (int i = 0; i < n; i++)
		if (hostile_one(kind) != 0)
			return fail("flood %s: connection %d of %d", kind, i + 1, n);
	printf("flood %s: %d connections, each treated as it must be, in %.0f ms\n", kind, n,
	       now_ms() - t0);
	return 0;
}

/* An ICMP echo with 127.0.0.1 on FD, reply within 2 s. */
static int echo4(int fd)
{
	uint8_t pkt[64] = { 0 }, rbuf[2048];
	struct icmphdr *h = (void *)pkt;
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint16_t id = (uint16_t)getpid();
	double end = now_ms() + 2000;

	h->type = ICMP_ECHO;
	h->un.echo.id = htons(id);
	h->un.echo.sequence = htons(1);
	h->checksum = csum(pkt, sizeof(pkt));
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -1;
	while (now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 200) != 1)
			continue;
		n = recv(fd, rbuf, sizeof(rbuf), 0);
		if (n >= 28) {
			const struct icmphdr *r = (const void *)(rbuf + (rbuf[0] & 0xf) * 4);

			if (r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == id)
				return 0;
		}
	}
	return -1;
}

static int cmd_kept(int ms, int max_lat, const char *stop)
{
	double t0 = now_ms(), worst = 0;
	int grants = 0, echoes = 0;

	while (now_ms() - t0 < ms && !(stop && grants > 0 && access(stop, F_OK) == 0)) {
		double a = now_ms(), lat;
		int fd = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

		lat = now_ms() - a;
		if (fd < 0)
			return fail("kept: refused after %d grants, %.0f ms in: %s", grants,
				    now_ms() - t0, strerror(errno));
		if (grants % 50 == 0) {
			if (echo4(fd) < 0)
				return fail("kept: echo failed after %d grants", grants);
			echoes++;
		}
		close(fd);
		grants++;
		if (lat > worst)
			worst = lat;
		if (lat > max_lat)
			return fail("kept: a call took %.1f ms (max %d)", lat, max_lat);
		sleep_ms(5);
	}
	printf("kept: %d grants and %d echoes in %.0f ms, slowest call %.1f ms\n", grants,
	       echoes, now_ms() - t0, worst);
	return 0;
}

static int cmd_hold(int n, int ms)
{
	uint8_t buf[RB_FRAME_MAX];
	ssize_t len = pack_socket(buf, sizeof(buf), RB_PROTOCOL_VERSION, 1);
	int *fds = calloc((size_t)n, sizeof(int)), opened = 0, answered = 0, open_after = 0;

	if (!fds)
		return fail("calloc");
	for (int i = 0; i < n; i++) {
		fds[i] = raw_connect();
		if (fds[i] >= 0)
			opened++;
	}
	/* Every request first, then every reply: asked one after another, the
	 * last connection would wait n round trips, which a slow (sanitizer)
	 * build spreads past the policy's 1 s request timeout. */
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0 && send(fds[i], buf, (size_t)len, MSG_NOSIGNAL) != len) {
			close(fds[i]);
			fds[i] = -1;
		}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0 && read_reply(fds[i], NULL) == RAWBROKER__STATUS__STATUS_OK)
			answered++;
	printf("hold: %d of %d connections opened, %d answered\n", opened, n, answered);
	sleep_ms(ms);
	for (int i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN | POLLRDHUP };

		if (fds[i] >= 0 && poll(&pfd, 1, 0) == 0)
			open_after++;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	free(fds);
	printf("hold: %d still open after %d ms\n", open_after, ms);
	return 0;
}

static int cmd_noread(int n)
{
	uint8_t buf[RB_FRAME_MAX];
	ssize_t len = pack_socket(buf, sizeof(buf), RB_PROTOCOL_VERSION, 1);
	int fd = raw_connect(), sent = 0, replies = 0, st;
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	if (fd < 0)
		return fail("connect: %s", strerror(errno));
	/* (The broker may drop us before the last one: EPIPE ends it.) */
	while (sent < n && send(fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) == len)
		sent++;
	/* Nothing read until the broker hangs up, or for 3 s: reading
	 * would make room for more replies. */
	if (poll(&pfd, 1, 3000) == 0)
		printf("noread: no hang-up within 3 s\n");
	while ((st = read_reply(fd, NULL)) >= 0)
		replies++;
	close(fd);
	printf("noread: %d requests sent, %d replies read before the broker closed the "
	       "connection\n", sent, replies);
	if (replies >= sent)
		return fail("noread: every request was answered: the connection was never dropped");
	return 0;
}

/* T0: taken before the client's last act (connect, or step 1 sent), so
 * that a client descheduled after it (a loaded machine) cannot see the
 * broker's deadline early. */
static int wait_closed(int fd, double t0, int lo, int hi, const char *what)
{
	double dt;
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

	if (poll(&pfd, 1, hi + 1000) != 1)
		return fail("%s: not closed within %d ms", what, hi + 1000);
	dt = now_ms() - t0;
	if (dt < lo || dt > hi)
		return fail("%s: closed after %.0f ms, expected %d..%d", what, dt, lo, hi);
	printf("%s: the broker closed the connection after %.0f ms\n", what, dt);
	return 0;
}

static int cmd_silent(int lo, int hi)
{
	double t0 = now_ms();
	int fd = raw_connect(), r;

	if (fd < 0)
		return fail("connect: %s", strerror(errno));
	r = wait_closed(fd, t0, lo, hi, "silent");
	close(fd);
	return r;
}

static int cmd_step1(int lo, int hi)
{
	int fd = raw_connect(), r;
	double t0;

	if (fd < 0)
		return fail("connect: %s", strerror(errno));
	t0 = now_ms();
	r = step1(fd, "step1");
	if (r == 0)
		r = wait_closed(fd, t0, lo, hi, "step1 without step 2");
	close(fd);
	return r;
}

static int cmd_idle(int ms)
{
	int fd = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (fd < 0)
		return fail("idle: first rb_socket: %s", strerror(errno));
	close(fd);
	printf("idle: pid %d granted, now idle for %d ms\n", (int)getpid(), ms);
	sleep_ms(ms);
	fd = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0)
		return fail("idle: rb_socket after %d ms idle: %s", ms, strerror(errno));
	if (echo4(fd) < 0)
		return fail("idle: echo failed");
	close(fd);
	printf("idle: granted again after %d ms idle, echo ok\n", ms);
	return 0;
}

static int cmd_burst(int n, int lo, int hi)
{
	struct rb_result res;
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	int granted = 0, fd = -1;

	for (int i = 0; i < n; i++) {
		fd = rb_socket_request(&rq, &res);
		if (fd < 0)
			break;
		close(fd);
		granted++;
	}
	if (fd >= 0 && lo == n) {
		printf("burst: all %d granted\n", n);
		return 0;
	}
	if (fd >= 0)
		return fail("burst: all %d granted, never rate-limited", n);
	if (res.error != EAGAIN)
		return fail("burst: refused with %s, not EAGAIN (%s)", strerror(res.error),
			    res.reason);
	if (granted < lo || granted > hi)
		return fail("burst: %d granted before EAGAIN, expected %d..%d", granted, lo, hi);
	printf("burst: %d granted, then EAGAIN: %s\n", granted, res.reason);
	return 0;
}

/* Children that die at random points: connecting, with a request sent
 * and no reply read, between the steps of a set_option, or in a loop of
 * library calls. */
static int cmd_killmid(int n)
{
	int killed = 0;

	srand((unsigned)getpid());
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		int st;

		if (pid < 0)
			return fail("fork: %s", strerror(errno));
		if (pid == 0) {
			uint8_t buf[RB_FRAME_MAX];
			int fd = raw_connect();
			ssize_t len;

			if (fd < 0)
				_exit(0);
			switch (i % 4) {
			case 0: /* requests sent, replies never read */
				len = pack_socket(buf, sizeof(buf), RB_PROTOCOL_VERSION, 1);
				for (int k = 0; k < 1000; k++)
					send(fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
				break;
			case 1: /* step 1 only, then wait for the kill */
				step1(fd, "killmid");
				break;
			case 2: /* half a request: nothing, or the first bytes */
				send(fd, "\x08", 1, MSG_NOSIGNAL);
				break;
			default: /* the library, busily */
				for (int k = 0; k < 1000; k++) {
					int s = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

					if (s >= 0)
						close(s);
				}
			}
			pause();
			_exit(0);
		}
		sleep_ms((double)(rand() % 4000) / 1000.0); /* 0..4 ms */
		kill(pid, SIGKILL);
		if (waitpid(pid, &st, 0) == pid && WIFSIGNALED(st))
			killed++;
	}
	printf("killmid: %d of %d clients killed mid-request\n", killed, n);
	return 0;
}

/* A syslog daemon for the test: datagrams on PATH, one line each in OUT. */
static int cmd_syslogd(const char *path, const char *out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	FILE *f = fopen(out, "a");

	if (fd < 0 || !f)
		return fail("syslogd: %s", strerror(errno));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0666) < 0)
		return fail("syslogd: bind %s: %s", path, strerror(errno));
	setvbuf(f, NULL, _IOLBF, 0);
	fprintf(f, "syslogd: listening\n");
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("syslogd: recv: %s", strerror(errno));
		buf[n] = '\0';
		fprintf(f, "%s\n", buf);
	}
}

/* One set_option exchange: step 1 (a padding-only hop-by-hop header),
 * then step 2 with a UDP socket of our own.  The status of the step that
 * decided; -1 when the connection broke. */
static int option_once(int fd, uint64_t id)
{
	uint8_t buf[RB_FRAME_MAX];
	ssize_t n = pack_step(buf, sizeof(buf), 1, id);
	bool want = false;
	int st, s;

	if (n < 0 || rb_frame_send(fd, buf, (size_t)n, -1, 0) < 0)
		return -1;
	st = read_reply(fd, &want);
	if (st != RAWBROKER__STATUS__STATUS_OK || !want)
		return st;
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	n = pack_step(buf, sizeof(buf), 2, id + 1);
	if (s < 0 || n < 0 || rb_frame_send(fd, buf, (size_t)n, s, 0) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	close(s);
	return read_reply(fd, NULL);
}

static int cmd_optflood(int n)
{
	int fd = raw_connect(), granted = 0, limited = 0, st = 0;
	double t0 = now_ms();

	if (fd < 0)
		return fail("connect: %s", strerror(errno));
	for (int i = 0; i < n && now_ms() - t0 < 30000; i++) {
		st = option_once(fd, (uint64_t)i * 2 + 1);
		if (st == RAWBROKER__STATUS__STATUS_OK)
			granted++;
		else if (st == RAWBROKER__STATUS__STATUS_RATE_LIMITED)
			limited++;
		else
			break;
	}
	close(fd);
	printf("optflood: %d granted, %d rate-limited, of %d in %.0f ms\n", granted, limited,
	       n, now_ms() - t0);
	if (granted + limited != n)
		return fail("optflood: status %d after %d exchanges", st, granted + limited);
	return 0;
}

/* As root: become UID:UID with N supplementary groups, then exec. */
static int cmd_asgroups(int n, gid_t base, uid_t uid, char **argv)
{
	gid_t *g = calloc((size_t)n, sizeof(gid_t));

	if (!g)
		return fail("calloc");
	for (int i = 0; i < n; i++)
		g[i] = base + (gid_t)i;
	if (setgroups((size_t)n, g) < 0)
		return fail("setgroups(%d): %s", n, strerror(errno));
	if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		return fail("setresuid %u: %s", (unsigned)uid, strerror(errno));
	free(g);
	execvp(argv[0], argv);
	return fail("exec %s: %s", argv[0], strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("usage: see the comment at the top of e2e_hostile.c");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "kept") == 0 && argc >= 4)
		return cmd_kept(atoi(argv[2]), atoi(argv[3]), argc > 4 ? argv[4] : NULL);
	if (strcmp(argv[1], "flood") == 0 && argc >= 4)
		return cmd_flood(argv[2], atoi(argv[3]));
	if (strcmp(argv[1], "hold") == 0 && argc >= 4)
		return cmd_hold(atoi(argv[2]), atoi(argv[3]));
	if (strcmp(argv[1], "noread") == 0 && argc >= 3)
		return cmd_noread(atoi(argv[2]));
	if (strcmp(argv[1], "silent") == 0 && argc >= 4)
		return cmd_silent(atoi(argv[2]), atoi(argv[3]));
	if (strcmp(argv[1], "step1") == 0 && argc >= 4)
		return cmd_step1(atoi(argv[2]), atoi(argv[3]));
	if (strcmp(argv[1], "idle") == 0 && argc >= 3)
		return cmd_idle(atoi(argv[2]));
	if (strcmp(argv[1], "burst") == 0 && argc >= 5)
		return cmd_burst(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (strcmp(argv[1], "killmid") == 0 && argc >= 3)
		return cmd_killmid(atoi(argv[2]));
	if (strcmp(argv[1], "syslogd") == 0 && argc >= 4)
		return cmd_syslogd(argv[2], argv[3]);
	if (strcmp(argv[1], "optflood") == 0 && argc >= 3)
		return cmd_optflood(atoi(argv[2]));
	if (strcmp(argv[1], "asgroups") == 0 && argc >= 6)
		return cmd_asgroups(atoi(argv[2]), (gid_t)strtoul(argv[3], NULL, 10),
				    (uid_t)strtoul(argv[4], NULL, 10), argv + 5);
	return fail("unknown command %s", argv[1]);
}
