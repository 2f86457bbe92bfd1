/* SPDX-License-Identifier: MIT */
/*
 * e2e_client - the client side of tests/e2e/core.sh.  Runs as an
 * unprivileged uid with no capabilities and exercises librawbroker against
 * a real rawbrokerd:
 *
 *   e2e_client noprivs                  prove this process cannot make a raw
 *                                       socket itself (EPERM) and holds no
 *                                       capability
 *   e2e_client echo 4|6 [SOURCE]        get a raw socket through rb_socket
 *                                       (or rb_socket_request with SOURCE),
 *                                       complete an ICMP echo with
 *                                       127.0.0.1 / ::1
 *   e2e_client flags                    SOCK_NONBLOCK / SOCK_CLOEXEC honoured
 *   e2e_client expect ERRNO FAMILY TYPE PROTOCOL [SOURCE]
 *                                       the request fails with ERRNO (a
 *                                       name: EACCES, EINVAL, ...) and a
 *                                       reason, which is printed
 *   e2e_client hostile KIND             misbehave on a raw connection: garbage,
 *                                       oversize, truncated, badversion,
 *                                       nokind, sendfd, hangup, idle, noread,
 *                                       badstep
 *   e2e_client lingerfd MS              hand the broker a descriptor whose
 *                                       close lingers (see cmd_lingerfd)
 *   e2e_client hold N MS                open N connections, say nothing,
 *                                       hold them MS milliseconds
 *   e2e_client opt MODE hop|dst PORT    set IPV6_HOPOPTS/DSTOPTS (see cmd_opt)
 *                                       and send a datagram to [::1]:PORT
 *   e2e_client recvopt hop|dst PORT LEN receive it; check the header length
 *   e2e_client privsep                  under the shim's RAWBROKER_PRIVSEP=1:
 *                                       which id changes it pretends
 *   e2e_client rxsee 4|6 GOFILE         what a brokered ICMP socket sees of
 *                                       root's noise and its own echo (see
 *                                       cmd_rxsee)
 *   e2e_client noise 4|6                (root) ICMP messages to the host
 *   e2e_client flood 4|6 MS             (root) port unreachables for MS ms
 *   e2e_client rxrace 4|6 N             N filtered sockets during a flood
 *                                       hold no packet of another type
 *   e2e_client mcast N                  N sockets join a multicast group on
 *                                       lo, each closed at once (traps.sh)
 *   e2e_client filterlock 4|6           the locked filter stays (EPERM)
 *   e2e_client locks 4|6 DEV MARK RCVBUF SNDBUF
 *                                       device and mark locked, buffers set
 *   e2e_client bound 4|6 WANT [SOURCE]  bound to WANT; echo from there
 *   e2e_client survive                  keep a connection, let the hostile
 *                                       kinds run in children, then use the
 *                                       kept connection again
 *
 * Exit 0 when what was checked holds, 1 otherwise, with a line on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "e2e_util.h"
#include "frame.h"
#include "rawbroker.h"

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EACCES", EACCES }, { "EPERM", EPERM },	  { "EINVAL", EINVAL },
	{ "EAGAIN", EAGAIN }, { "ENOENT", ENOENT },	  { "ECONNREFUSED", ECONNREFUSED },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "EPROTO", EPROTO },
	{ "ENODEV", ENODEV }, { "EBUSY", EBUSY },
};

static int errno_by_name(const char *s)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(s, errnos[i].name) == 0)
			return errnos[i].value;
	return -1;
}

/* Send one echo request on FD to loopback; wait up to 2 s for its reply. */
static int echo(int fd, int family)
{
	uint8_t pkt[64] = { 0 }, buf[2048];
	uint16_t id = (uint16_t)getpid(), seq = 1;
	struct sockaddr_storage to = { 0 };
	socklen_t tolen;
	double deadline = now_ms() + 2000;

	if (family == AF_INET) {
		struct icmphdr *h = (void *)pkt;
		struct sockaddr_in *sin = (void *)&to;

		h->type = ICMP_ECHO;
		h->un.echo.id = htons(id);
		h->un.echo.sequence = htons(seq);
		h->checksum = csum(pkt, sizeof(pkt));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		tolen = sizeof(*sin);
	} else {
		struct icmp6_hdr *h = (void *)pkt;
		struct sockaddr_in6 *sin6 = (void *)&to;

		h->icmp6_type = ICMP6_ECHO_REQUEST;
		h->icmp6_id = htons(id);
		h->icmp6_seq = htons(seq); /* the kernel fills the checksum */
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		tolen = sizeof(*sin6);
	}
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, tolen) != sizeof(pkt))
		return fail("sendto: %s", strerror(errno));

	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, (int)(deadline - now_ms()) + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			continue;
		if (family == AF_INET) {
			/* IPv4 raw sockets see the IP header. */
			const struct iphdr *ip = (const void *)buf;
			size_t hl = (size_t)ip->ihl * 4;
			const struct icmphdr *h = (const void *)(buf + hl);

			if ((size_t)n >= hl + sizeof(*h) && h->type == ICMP_ECHOREPLY &&
			    ntohs(h->un.echo.id) == id && ntohs(h->un.echo.sequence) == seq)
				return 0;
		} else {
			const struct icmp6_hdr *h = (const void *)buf;

			if ((size_t)n >= sizeof(*h) && h->icmp6_type == ICMP6_ECHO_REPLY &&
			    ntohs(h->icmp6_id) == id && ntohs(h->icmp6_seq) == seq)
				return 0;
		}
	}
	return fail("no echo reply from %s within 2 s", family == AF_INET ? "127.0.0.1" : "::1");
}

static int parse_source(int family, const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		return inet_pton(AF_INET, s, &sin->sin_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in6 *sin6 = (void *)ss;

	sin6->sin6_family = AF_INET6;
	*len = sizeof(*sin6);
	return inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1 ? 0 : -1;
}

static int cmd_noprivs(void)
{
	cap_t caps = cap_get_proc();
	char *text = caps ? cap_to_text(caps, NULL) : NULL;
	int fd;

	if (getuid() == 0 || geteuid() == 0)
		return fail("running as root; the test needs an unprivileged uid");
	if (!text || strcmp(text, "=") != 0)
		return fail("process holds capabilities: %s", text ? text : "?");
	cap_free(text);
	cap_free(caps);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd >= 0 || errno != EPERM)
		return fail("socket(AF_INET, SOCK_RAW) without the broker: fd %d, %s", fd,
			    strerror(errno));
	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (fd >= 0 || errno != EPERM)
		return fail("socket(AF_INET6, SOCK_RAW) without the broker: fd %d, %s", fd,
			    strerror(errno));
	printf("uid %u, no capabilities, raw sockets refused by the kernel\n",
	       (unsigned)getuid());
	return 0;
}

static int cmd_echo(int family, const char *source)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	struct rb_result res;
	int fd, r;

	if (source) {
		struct sockaddr_storage ss, got;
		socklen_t len, glen = sizeof(got);
		struct rb_request rq = { .domain = family, .type = SOCK_RAW, .protocol = proto };

		if (parse_source(family, source, &ss, &len) < 0)
			return fail("bad source %s", source);
		rq.source = (struct sockaddr *)&ss;
		rq.source_len = len;
		fd = rb_socket_request(&rq, &res);
		if (fd < 0)
			return fail("rb_socket_request: %s (%s)", strerror(errno), res.reason);
		if (getsockname(fd, (struct sockaddr *)&got, &glen) < 0)
			return fail("getsockname: %s", strerror(errno));
		if (family == AF_INET ?
			    memcmp(&((struct sockaddr_in *)&got)->sin_addr,
				   &((struct sockaddr_in *)&ss)->sin_addr, 4) != 0 :
			    memcmp(&((struct sockaddr_in6 *)&got)->sin6_addr,
				   &((struct sockaddr_in6 *)&ss)->sin6_addr, 16) != 0)
			return fail("socket is not bound to %s", source);
		printf("bound to %s by rule %s\n", source, res.rule);
	} else {
		fd = rb_socket(family, SOCK_RAW, proto);
		if (fd < 0)
			return fail("rb_socket(%s): %s", family == AF_INET ? "inet" : "inet6",
				    strerror(errno));
	}
	r = echo(fd, family);
	close(fd);
	if (r == 0)
		printf("echo %s ok\n", family == AF_INET ? "127.0.0.1" : "::1");
	return r;
}

static int cmd_flags(void)
{
	int fd = rb_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	int fl, fdfl;

	if (fd < 0)
		return fail("rb_socket: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	close(fd);
	if (!(fl & O_NONBLOCK) || !(fdfl & FD_CLOEXEC))
		return fail("SOCK_NONBLOCK|SOCK_CLOEXEC not honoured (fl %#x fd %#x)", fl, fdfl);
	fd = rb_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (fd < 0)
		return fail("rb_socket: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	close(fd);
	if ((fl & O_NONBLOCK) || (fdfl & FD_CLOEXEC))
		return fail("flags set that were not asked for (fl %#x fd %#x)", fl, fdfl);
	printf("flags ok\n");
	return 0;
}

static int cmd_expect(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct rb_result res;
	struct rb_request rq;
	int want, fd;

	if (argc < 4)
		return fail("expect ERRNO FAMILY TYPE PROTOCOL [SOURCE]");
	want = errno_by_name(argv[0]);
	if (want < 0)
		return fail("unknown errno name %s", argv[0]);
	rq = (struct rb_request){ .domain = atoi(argv[1]),
				  .type = atoi(argv[2]),
				  .protocol = atoi(argv[3]) };
	if (argc > 4) {
		if (parse_source(rq.domain, argv[4], &ss, &rq.source_len) < 0)
			return fail("bad source %s", argv[4]);
		rq.source = (struct sockaddr *)&ss;
	}
	fd = rb_socket_request(&rq, &res);
	if (fd >= 0) {
		close(fd);
		return fail("request %s/%s/%s was granted; expected %s", argv[1], argv[2],
			    argv[3], argv[0]);
	}
	if (errno != want)
		return fail("expected %s, got %s (%s)", argv[0], strerror(errno), res.reason);
	if (res.reason[0] == '\0')
		return fail("refusal without a reason");
	printf("refused as expected: %s: %s\n", argv[0], res.reason);
	return 0;
}

static ssize_t pack_request(uint8_t *buf, size_t cap, int version, bool with_kind)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SocketRequest sr = RAWBROKER__SOCKET_REQUEST__INIT;

	req.version = version;
	req.id = 7;
	if (with_kind) {
		req.kind_case = RAWBROKER__REQUEST__KIND_SOCKET;
		req.socket = &sr;
		sr.family = AF_INET;
		sr.type = SOCK_RAW;
		sr.protocol = IPPROTO_ICMP;
	}
	return rb_request_encode(&req, buf, cap);
}

/* Expect an error reply with STATUS (and no fd), then the broker's close. */
static int expect_error_reply(int fd, Rawbroker__Status status, const char *kind)
{
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Reply *rep = NULL;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rfd = -1, r;
	ssize_t n;

	if (poll(&pfd, 1, 2000) != 1)
		return fail("%s: no reply within 2 s", kind);
	n = rb_frame_recv(fd, buf, sizeof(buf), &rfd, RB_FRAME_ACCEPT_FD);
	if (n <= 0)
		return fail("%s: no reply (%zd)", kind, n);
	if (rfd >= 0)
		return fail("%s: error reply carried a descriptor", kind);
	r = rb_reply_decode(buf, (size_t)n, &rep);
	if (r < 0 || rep->status != status) {
		r = fail("%s: reply status %d, wanted %d", kind, rep ? (int)rep->status : -1,
			 (int)status);
		rb_reply_free(rep);
		return r;
	}
	printf("%s: broker answered \"%s\"", kind, rep->reason);
	rb_reply_free(rep);
	/* ...and closes the connection. */
	if (poll(&pfd, 1, 2000) != 1 || rb_frame_recv(fd, buf, sizeof(buf), NULL, 0) != 0)
		return fail("%s: broker kept the connection open", kind);
	printf(", then closed the connection\n");
	return 0;
}

/* Send many valid requests and read nothing: the broker may queue only a
 * few replies (each with a socket) before it drops this client. */
static int cmd_noread(int fd)
{
	uint8_t buf[RB_FRAME_MAX];
	ssize_t n = pack_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, true);
	int sent = 0, got = 0, rfd;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (n < 0)
		return fail("pack");
	for (int i = 0; i < 200; i++) {
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
			break;
		sent++;
		usleep(1000); /* let the broker answer each one */
	}
	/* Now read what was queued: a few replies, then the broker's close. */
	for (;;) {
		if (poll(&pfd, 1, 2000) != 1)
			return fail("noread: broker neither answered nor closed");
		n = rb_frame_recv(fd, buf, sizeof(buf), &rfd, RB_FRAME_ACCEPT_FD);
		if (n <= 0)
			break;
		if (rfd >= 0) {
			close(rfd);
			got++;
		}
	}
	if (got == 0 || got > 8)
		return fail("noread: %d of %d requests answered before the close; "
			    "expected 1..8", got, sent);
	printf("noread: sent %d requests without reading; the broker queued %d replies, "
	       "then dropped the connection\n", sent, got);
	return 0;
}

/* Speak the two set_option steps by hand, and drop our copy of FD right
 * after sending it, so that the broker holds the last reference. */
static int trap_broker(int fd)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SetOptionRequest so = RAWBROKER__SET_OPTION_REQUEST__INIT;
	Rawbroker__DescriptorRequest dr = RAWBROKER__DESCRIPTOR_REQUEST__INIT;
	static const uint8_t hdr[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Reply *rep = NULL;
	int c = raw_connect(), rfd = -1, ok;
	ssize_t n;

	if (c < 0)
		return fail("connect: %s", strerror(errno));
	req.version = RB_PROTOCOL_VERSION;
	req.id = 1;
	req.kind_case = RAWBROKER__REQUEST__KIND_SET_OPTION;
	req.set_option = &so;
	so.level = IPPROTO_IPV6;
	so.name = IPV6_HOPOPTS;
	so.value.data = (uint8_t *)hdr;
	so.value.len = sizeof(hdr);
	n = rb_request_encode(&req, buf, sizeof(buf));
	if (n < 0 || rb_frame_send(c, buf, (size_t)n, -1, 0) < 0 ||
	    (n = rb_frame_recv(c, buf, sizeof(buf), &rfd, RB_FRAME_ACCEPT_FD)) <= 0 ||
	    rb_reply_decode(buf, (size_t)n, &rep) < 0 || !rep->want_descriptor)
		return fail("set_option step 1 not answered with want_descriptor");
	rb_reply_free(rep);
	req.id = 2;
	req.kind_case = RAWBROKER__REQUEST__KIND_DESCRIPTOR;
	req.descriptor = &dr;
	n = rb_request_encode(&req, buf, sizeof(buf));
	if (n < 0 || rb_frame_send(c, buf, (size_t)n, fd, 0) < 0)
		return fail("step 2: %s", strerror(errno));
	close(fd); /* now only the broker's copy is left */
	n = rb_frame_recv(c, buf, sizeof(buf), &rfd, RB_FRAME_ACCEPT_FD);
	ok = n > 0 && rb_reply_decode(buf, (size_t)n, &rep) == 0 &&
	     rep->status == RAWBROKER__STATUS__STATUS_INVALID;
	printf("lingerfd: handed the broker a unix socket with a lingering TCP socket "
	       "inside; it answered %s\n", ok ? rep->reason : "something else");
	rb_reply_free(rep);
	close(c);
	return ok ? 0 : fail("broker did not refuse the socket");
}

/*
 * The set_option descriptor as a trap: a unix socket holding, queued
 * inside it, a TCP socket that lingers 15 s on close with unsent data to a
 * peer that never reads.  Whoever does the final close of the unix socket
 * waits those 15 s.  Needs a rule with 'options'.  Stays alive (holding
 * the never-reading peer) for HOLD_MS.
 */
static int cmd_lingerfd(int hold_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct linger lg = { .l_onoff = 1, .l_linger = 15 };
	char junk[4096] = { 0 };
	int lfd, tcp, peer, sp[2], r;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		return fail("listen: %s", strerror(errno));
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tcp < 0 || connect(tcp, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail("connect: %s", strerror(errno));
	peer = accept(lfd, NULL, NULL); /* held, never read */
	if (peer < 0)
		return fail("accept: %s", strerror(errno));
	fcntl(tcp, F_SETFL, O_NONBLOCK);
	while (send(tcp, junk, sizeof(junk), MSG_NOSIGNAL) > 0)
		;
	setsockopt(tcp, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0 ||
	    rb_frame_send(sp[0], "x", 1, tcp, 0) < 0)
		return fail("nest: %s", strerror(errno));
	close(tcp);
	close(sp[0]);
	r = trap_broker(sp[1]);
	usleep((useconds_t)hold_ms * 1000);
	close(peer);
	close(lfd);
	return r;
}

static int cmd_hostile(const char *kind)
{
	uint8_t buf[RB_FRAME_MAX + 512];
	int fd = raw_connect();
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return fail("connect to $RAWBROKER_SOCKET: %s", strerror(errno));
	if (strcmp(kind, "garbage") == 0) {
		memset(buf, 0xff, 100);
		if (send(fd, buf, 100, 0) != 100)
			return fail("send: %s", strerror(errno));
		r = expect_error_reply(fd, RAWBROKER__STATUS__STATUS_INVALID, kind);
	} else if (strcmp(kind, "oversize") == 0) {
		memset(buf, 0, sizeof(buf));
		if (send(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			return fail("send: %s", strerror(errno));
		r = expect_error_reply(fd, RAWBROKER__STATUS__STATUS_INVALID, kind);
	} else if (strcmp(kind, "truncated") == 0) {
		n = pack_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, true);
		if (n < 2 || send(fd, buf, (size_t)n - 2, 0) != n - 2)
			return fail("send: %s", strerror(errno));
		r = expect_error_reply(fd, RAWBROKER__STATUS__STATUS_INVALID, kind);
	} else if (strcmp(kind, "badversion") == 0) {
		n = pack_request(buf, sizeof(buf), 99, true);
		if (n < 0 || send(fd, buf, (size_t)n, 0) != n)
			return fail("send: %s", strerror(errno));
		r = expect_error_reply(fd, RAWBROKER__STATUS__STATUS_BAD_VERSION, kind);
	} else if (strcmp(kind, "nokind") == 0) {
		n = pack_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, false);
		if (n < 0 || send(fd, buf, (size_t)n, 0) != n)
			return fail("send: %s", strerror(errno));
		r = expect_error_reply(fd, RAWBROKER__STATUS__STATUS_INVALID, kind);
	} else if (strcmp(kind, "sendfd") == 0) {
		/* Linux 6.16+: the broker's SO_PASSRIGHTS=0 makes the kernel
		 * refuse; older kernels deliver it and the broker refuses. */
		n = pack_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, true);
		if (n < 0)
			return fail("pack");
		r = rb_frame_send(fd, buf, (size_t)n, STDIN_FILENO, 0);
		if (r == -EPERM)
			printf("sendfd: the kernel refused to pass a descriptor to the broker\n");
		else if (r < 0)
			return fail("send with fd: %s", strerror(-r));
		else
			r = expect_error_reply(fd, RAWBROKER__STATUS__STATUS_INVALID, kind);
		r = r == -EPERM ? 0 : r;
	} else if (strcmp(kind, "badstep") == 0) {
		/* Step 2 of a set_option that never had a step 1. */
		Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
		Rawbroker__DescriptorRequest dr = RAWBROKER__DESCRIPTOR_REQUEST__INIT;

		req.version = RB_PROTOCOL_VERSION;
		req.id = 9;
		req.kind_case = RAWBROKER__REQUEST__KIND_DESCRIPTOR;
		req.descriptor = &dr;
		n = rb_request_encode(&req, buf, sizeof(buf));
		if (n < 0 || send(fd, buf, (size_t)n, 0) != n)
			return fail("send: %s", strerror(errno));
		r = expect_error_reply(fd, RAWBROKER__STATUS__STATUS_INVALID, kind);
	} else if (strcmp(kind, "noread") == 0) {
		r = cmd_noread(fd);
	} else if (strcmp(kind, "hangup") == 0) {
		/* A valid request, then gone before the reply. */
		n = pack_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, true);
		if (n < 0 || send(fd, buf, (size_t)n, 0) != n)
			return fail("send: %s", strerror(errno));
		printf("hangup: sent a request and closed without reading\n");
	} else if (strcmp(kind, "idle") == 0) {
		printf("idle: connected, saying nothing\n");
		usleep(200 * 1000);
	} else {
		r = fail("unknown hostile kind %s", kind);
	}
	close(fd);
	return r;
}

/* Open N connections and hold them, saying nothing, for MS milliseconds. */
static int cmd_hold(int n, int ms)
{
	int opened = 0;

	for (int i = 0; i < n; i++)
		if (raw_connect() >= 0)
			opened++;
	printf("hold: %d of %d connections open, idle for %d ms\n", opened, n, ms);
	usleep((useconds_t)ms * 1000);
	return opened == n ? 0 : fail("only %d of %d connections opened", opened, n);
}

/* ---- IPv6 extension-header options ---- */

/* An 8-byte options header: next header (kernel fills), length 0, then
 * PadN of 4 bytes; or one the broker refuses: a router alert (BAD 1) or
 * padding that carries data (BAD 2). */
static void opt_header(uint8_t h[8], int bad)
{
	static const uint8_t padn[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	static const uint8_t ra[8] = { 0, 0, 5, 2, 0, 0, 1, 0 };
	static const uint8_t leak[8] = { 0, 0, 1, 4, 'l', 'e', 'a', 'k' };

	memcpy(h, bad == 1 ? ra : bad == 2 ? leak : padn, 8);
}

static int opt_name(const char *which)
{
	return strcmp(which, "dst") == 0 ? IPV6_DSTOPTS : IPV6_HOPOPTS;
}

/*
 * opt MODE hop|dst PORT: set the option on a UDP socket and send one
 * datagram to [::1]:PORT.  MODE: native (setsockopt must fail with EPERM:
 * the option needs privilege), plain (setsockopt, reached by the shim),
 * lib (rb_setsockopt), bad (rb_setsockopt with a router alert: EINVAL),
 * leak (padding that carries data: EINVAL),
 * clear (rb_setsockopt with nothing: clears), denied (rb_setsockopt:
 * EACCES).
 */
static int cmd_opt(const char *mode, const char *which, const char *port)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), name = opt_name(which), r;
	struct rb_result res = { 0 };
	uint8_t h[8];

	if (fd < 0)
		return fail("socket: %s", strerror(errno));
	opt_header(h, strcmp(mode, "bad") == 0 ? 1 : strcmp(mode, "leak") == 0 ? 2 : 0);
	if (strcmp(mode, "native") == 0 || strcmp(mode, "plain") == 0)
		r = setsockopt(fd, IPPROTO_IPV6, name, h, sizeof(h));
	else if (strcmp(mode, "clear") == 0)
		r = rb_setsockopt_request(fd, IPPROTO_IPV6, name, NULL, 0, &res);
	else
		r = rb_setsockopt_request(fd, IPPROTO_IPV6, name, h, sizeof(h), &res);
	if (strcmp(mode, "native") == 0)
		return r < 0 && errno == EPERM ? (printf("native %s: EPERM, as without privilege\n",
							  which), 0)
					       : fail("native setsockopt: %d %s", r, strerror(errno));
	if (strcmp(mode, "bad") == 0 || strcmp(mode, "leak") == 0 ||
	    strcmp(mode, "denied") == 0) {
		int want = mode[0] == 'd' ? EACCES : EINVAL;

		if (r == 0 || errno != want)
			return fail("%s: got %d %s (%s)", mode, r, strerror(errno), res.reason);
		printf("%s: %s (%s)\n", mode, strerror(errno), res.reason);
		return 0;
	}
	if (r < 0)
		return fail("%s setsockopt: %s (%s)", mode, strerror(errno), res.reason);
	if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&to, sizeof(to)) != 5)
		return fail("sendto: %s", strerror(errno));
	printf("%s %s: set%s%s, datagram sent\n", mode, which, res.rule[0] ? " by rule " : "",
	       res.rule);
	close(fd);
	return 0;
}

/* recvopt hop|dst PORT WANTLEN: receive one datagram on [::1]:PORT and
 * check the options header that came with it has WANTLEN bytes (0: none). */
static int cmd_recvopt(const char *which, const char *port, const char *wantlen)
{
	struct sockaddr_in6 me = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), on = 1;
	int name = opt_name(which), want = atoi(wantlen);
	int recv_opt = name == IPV6_HOPOPTS ? IPV6_RECVHOPOPTS : IPV6_RECVDSTOPTS;
	char data[64], cbuf[512];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct pollfd pfd = { .events = POLLIN };
	size_t got = 0;

	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, recv_opt, &on, sizeof(on)) < 0)
		return fail("receiver: %s", strerror(errno));
	printf("listening\n");
	pfd.fd = fd;
	if (poll(&pfd, 1, 5000) != 1 || recvmsg(fd, &msg, 0) < 0)
		return fail("no datagram within 5 s");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == name)
			got = c->cmsg_len - CMSG_LEN(0);
	if ((int)got != want)
		return fail("%s options header of %zu bytes on the wire, wanted %d", which, got,
			    want);
	printf("received: %s options header of %zu bytes\n", which, got);
	return 0;
}

/* Under the shim with RAWBROKER_PRIVSEP=1: harmless requests "succeed"
 * without effect, anything else keeps its real error. */
static int cmd_privsep(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	errno = 0;
	if (chroot("/") != 0)
		return fail("chroot(\"/\") was not reported as done: %s", strerror(errno));
	if (chroot("/nonexistent/dir") == 0 || errno != ENOENT)
		return fail("chroot of a missing path did not fail with ENOENT");
	if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0)
		return fail("a drop to nobody was not reported as done: %s", strerror(errno));
	if (getuid() != uid || getgid() != gid)
		return fail("ids changed: uid %u gid %u", (unsigned)getuid(), (unsigned)getgid());
	if (setuid(0) == 0 || errno != EPERM)
		return fail("setuid(0) did not fail with EPERM");
	if (setresuid(uid, 0, uid) == 0 || errno != EPERM)
		return fail("setresuid(uid, 0, uid) did not fail with EPERM");
	if (setgid(0) == 0 || errno != EPERM)
		return fail("setgid(0) did not fail with EPERM");
	if (setuid(12345) == 0 || errno != EPERM)
		return fail("setuid to a stranger's uid did not fail with EPERM");
	if (setgroups(1, &(gid_t){ 0 }) == 0 || errno != EPERM)
		return fail("setgroups({0}) did not fail with EPERM");
	errno = 0;
	if (setgroups(3, NULL) == 0) /* must not crash, must not pretend */
		return fail("setgroups(3, NULL) was reported as done");
	printf("privsep: chroot and the drop to nobody reported done without effect; "
	       "setuid(0), setgid(0), a stranger's uid and group 0 still EPERM\n");
	return 0;
}

/* As root without capabilities, privsep mode must not pretend: the
 * process could still hold what it believes it dropped. */
static int cmd_privsep_root(void)
{
	if (getuid() != 0)
		return fail("run this as root (without capabilities)");
	if (setuid(65534) == 0 || errno != EPERM)
		return fail("setuid(65534) as capability-less root was reported as done");
	if (chroot("/") == 0 || errno != EPERM)
		return fail("chroot as capability-less root was reported as done");
	printf("privsep-root: nothing pretended for a root process\n");
	return 0;
}

/* ---- sockets the broker prepared (tests/e2e/prepare.sh) ---- */

static int icmp_proto(int family)
{
	return family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

static struct sockaddr_storage loopback(int family, socklen_t *len)
{
	struct sockaddr_storage ss = { 0 };

	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*len = sizeof(*sin6);
	}
	return ss;
}

/* The ICMP type of a packet read from a FAMILY socket (IPv4 raw sockets
 * see the IP header); -1 when too short. */
static int packet_type(int family, const uint8_t *buf, size_t n, uint16_t *id)
{
	size_t off = 0;

	if (family == AF_INET) {
		if (n < 1)
			return -1;
		off = (size_t)(buf[0] & 0xf) * 4;
	}
	if (n < off + 8)
		return -1;
	*id = (uint16_t)(buf[off + 4] << 8 | buf[off + 5]);
	return buf[off];
}

/* Send one ICMP message of TYPE/CODE with ID (echo-style fields) and
 * LEN bytes of body on FD to loopback. */
static int send_icmp(int fd, int family, int type, int code, uint16_t id, size_t len)
{
	uint8_t pkt[128] = { 0 };
	struct sockaddr_storage to;
	socklen_t tolen;

	to = loopback(family, &tolen);
	if (len > sizeof(pkt))
		len = sizeof(pkt);
	pkt[0] = (uint8_t)type;
	pkt[1] = (uint8_t)code;
	pkt[4] = (uint8_t)(id >> 8);
	pkt[5] = (uint8_t)id;
	pkt[7] = 1;
	if (family == AF_INET) {
		uint16_t c = csum(pkt, len);

		memcpy(pkt + 2, &c, 2);
	} /* ICMPv6: the kernel fills the checksum */
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, tolen) != (ssize_t)len)
		return fail("sendto type %d: %s", type, strerror(errno));
	return 0;
}

/*
 * rxsee 4|6 GOFILE: take a brokered ICMP socket, print "ready", wait (up
 * to 5 s) for GOFILE to exist, which the test makes once root has sent its
 * own ICMP messages to the host; then send one echo request and read for
 * 300 ms after its reply.  Prints every ICMP type the socket saw; exit 0 when
 * the socket saw the reply to its own request.
 */
static int cmd_rxsee(int family, const char *gofile)
{
	uint16_t id = (uint16_t)(getpid() ^ 0x5a5a), pid_id;
	int reply = family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
	int request = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	bool seen[256] = { false }, own = false;
	double end, deadline;
	int fd;

	fd = rb_socket(family, SOCK_RAW, icmp_proto(family));
	if (fd < 0)
		return fail("rb_socket: %s", strerror(errno));
	printf("ready\n");
	for (deadline = now_ms() + 5000; access(gofile, F_OK) != 0 && now_ms() < deadline;)
		usleep(10 * 1000);
	if (access(gofile, F_OK) != 0)
		return fail("no %s within 5 s", gofile);
	if (send_icmp(fd, family, request, 0, id, 64) != 0)
		return 1;
	end = now_ms() + 2000;
	while (now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint8_t buf[2048];
		ssize_t n;
		int t;

		if (poll(&pfd, 1, (int)(end - now_ms()) + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			continue;
		t = packet_type(family, buf, (size_t)n, &pid_id);
		if (t < 0)
			continue;
		seen[t] = true;
		if (t == reply && pid_id == id && !own) {
			own = true;
			end = now_ms() + 300;
		}
	}
	close(fd);
	printf("seen types:");
	for (int t = 0; t < 256; t++)
		if (seen[t])
			printf(" %d", t);
	printf("\nown echo reply: %s\n", own ? "yes" : "no");
	return own ? 0 : fail("no reply to its own echo request");
}

/*
 * noise 4|6 (as root, the instrument): ICMP messages to the host from a
 * root raw socket.  IPv4: timestamp request (13), port unreachable (3),
 * echo request (8) with a foreign id; IPv6: port unreachable (1), time
 * exceeded (3), echo request (128).  The host answers the requests.
 */
static int cmd_noise(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, icmp_proto(family)), r = 0;

	if (fd < 0)
		return fail("root raw socket: %s", strerror(errno));
	if (family == AF_INET)
		r = send_icmp(fd, family, ICMP_TIMESTAMP, 0, 0xbeef, 20) ||
		    send_icmp(fd, family, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 36) ||
		    send_icmp(fd, family, ICMP_ECHO, 0, 0xbeef, 64);
	else
		r = send_icmp(fd, family, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0, 56) ||
		    send_icmp(fd, family, ICMP6_TIME_EXCEEDED, 0, 0, 56) ||
		    send_icmp(fd, family, ICMP6_ECHO_REQUEST, 0, 0xbeef, 64);
	close(fd);
	if (r)
		return 1;
	printf("noise: sent %s\n", family == AF_INET ? "types 13, 3, 8 to 127.0.0.1"
						    : "types 1, 3, 128 to ::1");
	return 0;
}

/* flood 4|6 MS (as root): port unreachables to the host for MS ms. */
static int cmd_flood(int family, int ms)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, icmp_proto(family));
	int type = family == AF_INET ? ICMP_DEST_UNREACH : ICMP6_DST_UNREACH;
	double end = now_ms() + ms;
	long sent = 0;

	if (fd < 0)
		return fail("root raw socket: %s", strerror(errno));
	printf("flooding\n");
	while (now_ms() < end) {
		for (int i = 0; i < 64; i++)
			if (send_icmp(fd, family, type, 3, 0, 36) == 0)
				sent++;
	}
	close(fd);
	printf("flood: %ld messages of type %d in %d ms\n", sent, type, ms);
	return 0;
}

/*
 * rxrace 4|6 N: N brokered sockets, one after the other, while root
 * floods the host with port unreachables; each must hold nothing but
 * echo replies (its rule's filter), also what queued while the broker was
 * setting the filter.  Exit 0 when no socket held another type.
 */
static int cmd_rxrace(int family, int n)
{
	int reply = family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
	long other = 0, empty = 0, first = -1, last = -1;

	for (int i = 0; i < n; i++) {
		int fd = rb_socket(family, SOCK_RAW, icmp_proto(family));
		uint8_t buf[2048];
		uint16_t id;
		ssize_t len;

		if (fd < 0)
			return fail("rb_socket %d: %s", i, strerror(errno));
		usleep(2000); /* let more of the flood arrive */
		while ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			int t = packet_type(family, buf, (size_t)len, &id);

			if (t != reply) {
				other++;
				last = i;
				if (first < 0)
					first = i;
			}
		}
		empty++;
		close(fd);
	}
	if (other)
		return fail("%ld packets the filter should have kept out, in %d sockets "
			    "(first in socket %ld, last in %ld)", other, n, first, last);
	printf("rxrace: %ld sockets taken during the flood, none held a packet of "
	       "another type\n", empty);
	return 0;
}

/* mcast N: N raw ICMP sockets, each joins a multicast group on lo and is
 * closed at once.  Whoever drops a socket's last reference then leaves the
 * group, under the RTNL lock (ip_mc_drop_socket()): the broker must never
 * be the one on its loop (traps.sh).  lo needs the MULTICAST flag. */
static int cmd_mcast(int n)
{
	struct ip_mreqn mr = { .imr_ifindex = (int)if_nametoindex("lo") };

	inet_pton(AF_INET, "239.255.82.66", &mr.imr_multiaddr);
	for (int i = 0; i < n; i++) {
		int fd = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

		if (fd < 0)
			return fail("rb_socket %d: %s", i, strerror(errno));
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			return fail("IP_ADD_MEMBERSHIP on lo: %s", strerror(errno));
		close(fd);
	}
	printf("mcast: %d sockets joined a group and closed\n", n);
	return 0;
}

/* filterlock 4|6: the broker's filter on a brokered socket cannot be
 * detached, replaced or unlocked by its holder. */
static int cmd_filterlock(int family)
{
	struct sock_filter pass_all = BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
	struct sock_fprog prog = { .len = 1, .filter = &pass_all };
	int fd = rb_socket(family, SOCK_RAW, icmp_proto(family)), zero = 0, one = 1;
	socklen_t len = 0;

	if (fd < 0)
		return fail("rb_socket: %s", strerror(errno));
	/* SO_GET_FILTER with length 0 answers the program's length. */
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len) < 0 || len == 0)
		return fail("no filter on the socket (%s, %u instructions)", strerror(errno),
			    (unsigned)len);
	printf("filter of %u instructions on the socket\n", (unsigned)len);
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)) == 0 ||
	    errno != EPERM)
		return fail("SO_DETACH_FILTER: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0 ||
	    errno != EPERM)
		return fail("SO_ATTACH_FILTER: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &zero, sizeof(zero)) == 0 ||
	    errno != EPERM)
		return fail("SO_LOCK_FILTER 0: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)) != 0)
		return fail("SO_LOCK_FILTER 1 (already locked): %s", strerror(errno));
	len = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len) < 0 || len == 0)
		return fail("the filter is gone");
	close(fd);
	printf("SO_DETACH_FILTER, SO_ATTACH_FILTER and SO_LOCK_FILTER 0: EPERM; "
	       "the filter stays\n");
	return 0;
}

static int get_int(int fd, int name, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, SOL_SOCKET, name, v, &len);
}

/* locks 4|6 DEVICE MARK RCVBUF SNDBUF: a brokered socket is pinned to
 * DEVICE (its holder cannot change or clear it: EPERM), carries MARK
 * (which it cannot change: EPERM), and its buffers read back as the
 * kernel sets them (twice the size asked for).  0: not checked. */
static int cmd_locks(int family, const char *dev, const char *mark, const char *rcv,
		     const char *snd)
{
	int fd = rb_socket(family, SOCK_RAW, icmp_proto(family)), v, idx = 0;
	char got[IFNAMSIZ] = "";
	socklen_t len = sizeof(got);

	if (fd < 0)
		return fail("rb_socket: %s", strerror(errno));
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, got, &len) < 0 || strcmp(got, dev) != 0)
		return fail("SO_BINDTODEVICE reads \"%s\", wanted %s", got, dev);
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 1) == 0 || errno != EPERM)
		return fail("clearing SO_BINDTODEVICE: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) == 0 ||
	    errno != EPERM)
		return fail("setting SO_BINDTODEVICE again: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, sizeof(idx)) == 0 ||
	    errno != EPERM)
		return fail("SO_BINDTOIFINDEX 0: %s", strerror(errno));
	printf("pinned to %s; clearing or setting it again: EPERM\n", got);
	if (get_int(fd, SO_MARK, &v) < 0 || (unsigned)v != (unsigned)strtoul(mark, NULL, 0))
		return fail("SO_MARK reads %#x, wanted %s", (unsigned)v, mark);
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &(int){ 0 }, sizeof(int)) == 0 || errno != EPERM)
		return fail("changing SO_MARK: %s", strerror(errno));
	printf("mark %#x; changing it: EPERM\n", (unsigned)v);
	if (atoi(rcv) && (get_int(fd, SO_RCVBUF, &v) < 0 || v != 2 * atoi(rcv)))
		return fail("SO_RCVBUF reads %d, wanted 2 * %s", v, rcv);
	if (atoi(snd) && (get_int(fd, SO_SNDBUF, &v) < 0 || v != 2 * atoi(snd)))
		return fail("SO_SNDBUF reads %d, wanted 2 * %s", v, snd);
	printf("rcvbuf %s and sndbuf %s read back doubled\n", rcv, snd);
	if (echo(fd, family) != 0)
		return 1;
	close(fd);
	printf("echo over %s ok\n", dev);
	return 0;
}

/* bound 4|6 WANT [SOURCE]: a brokered socket (with SOURCE asked for, if
 * given) is bound to WANT, and an echo from there works. */
static int cmd_bound(int family, const char *want, const char *source)
{
	struct sockaddr_storage ss, got, w;
	socklen_t len, glen = sizeof(got), wlen;
	struct rb_request rq = { .domain = family, .type = SOCK_RAW, .protocol = icmp_proto(family) };
	struct rb_result res;
	char text[INET6_ADDRSTRLEN] = "?";
	int fd, r;

	if (parse_source(family, want, &w, &wlen) < 0)
		return fail("bad address %s", want);
	if (source) {
		if (parse_source(family, source, &ss, &len) < 0)
			return fail("bad source %s", source);
		rq.source = (struct sockaddr *)&ss;
		rq.source_len = len;
	}
	fd = rb_socket_request(&rq, &res);
	if (fd < 0)
		return fail("rb_socket_request: %s (%s)", strerror(errno), res.reason);
	if (getsockname(fd, (struct sockaddr *)&got, &glen) < 0)
		return fail("getsockname: %s", strerror(errno));
	inet_ntop(family, family == AF_INET ? (void *)&((struct sockaddr_in *)&got)->sin_addr
					    : (void *)&((struct sockaddr_in6 *)&got)->sin6_addr,
		  text, sizeof(text));
	if (family == AF_INET ? memcmp(&((struct sockaddr_in *)&got)->sin_addr,
				       &((struct sockaddr_in *)&w)->sin_addr, 4) != 0
			      : memcmp(&((struct sockaddr_in6 *)&got)->sin6_addr,
				       &((struct sockaddr_in6 *)&w)->sin6_addr, 16) != 0)
		return fail("bound to %s, wanted %s", text, want);
	printf("bound to %s (asked for %s) by rule %s\n", text, source ? source : "nothing",
	       res.rule);
	r = echo(fd, family);
	close(fd);
	if (r == 0)
		printf("echo from %s ok\n", text);
	return r;
}

static int cmd_survive(void)
{
	static const char *const kinds[] = { "garbage", "oversize", "truncated",
					     "badversion", "nokind", "sendfd",
					     "hangup", "idle", "noread", "badstep" };
	int fd, bad = 0;

	fd = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP); /* opens the kept connection */
	if (fd < 0)
		return fail("first rb_socket: %s", strerror(errno));
	close(fd);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0)
			_exit(cmd_hostile(kinds[i]));
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad++;
		/* The well-behaved client is served between every attack, on the
		 * connection it kept all along. */
		fd = rb_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
		if (fd < 0)
			return fail("after %s: rb_socket: %s", kinds[i], strerror(errno));
		if (echo(fd, AF_INET6) != 0)
			return fail("after %s: echo failed", kinds[i]);
		close(fd);
	}
	if (bad)
		return fail("%d hostile kinds did not get the expected treatment", bad);
	printf("survive: kept client served after each of %zu hostile clients\n",
	       sizeof(kinds) / sizeof(kinds[0]));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("usage: see the comment at the top of e2e_client.c");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "noprivs") == 0)
		return cmd_noprivs();
	if (strcmp(argv[1], "echo") == 0 && argc >= 3)
		return cmd_echo(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET,
				argc > 3 ? argv[3] : NULL);
	if (strcmp(argv[1], "flags") == 0)
		return cmd_flags();
	if (strcmp(argv[1], "expect") == 0)
		return cmd_expect(argc - 2, argv + 2);
	if (strcmp(argv[1], "hostile") == 0 && argc >= 3)
		return cmd_hostile(argv[2]);
	if (strcmp(argv[1], "survive") == 0)
		return cmd_survive();
	if (strcmp(argv[1], "privsep") == 0)
		return cmd_privsep();
	if (strcmp(argv[1], "privsep-root") == 0)
		return cmd_privsep_root();
	if (strcmp(argv[1], "opt") == 0 && argc >= 5)
		return cmd_opt(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "recvopt") == 0 && argc >= 5)
		return cmd_recvopt(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "lingerfd") == 0 && argc >= 3)
		return cmd_lingerfd(atoi(argv[2]));
	if (strcmp(argv[1], "rxsee") == 0 && argc >= 4)
		return cmd_rxsee(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET, argv[3]);
	if (strcmp(argv[1], "noise") == 0 && argc >= 3)
		return cmd_noise(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET);
	if (strcmp(argv[1], "flood") == 0 && argc >= 4)
		return cmd_flood(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET, atoi(argv[3]));
	if (strcmp(argv[1], "rxrace") == 0 && argc >= 4)
		return cmd_rxrace(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET, atoi(argv[3]));
	if (strcmp(argv[1], "mcast") == 0 && argc >= 3)
		return cmd_mcast(atoi(argv[2]));
	if (strcmp(argv[1], "filterlock") == 0 && argc >= 3)
		return cmd_filterlock(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET);
	if (strcmp(argv[1], "locks") == 0 && argc >= 7)
		return cmd_locks(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET, argv[3], argv[4],
				 argv[5], argv[6]);
	if (strcmp(argv[1], "bound") == 0 && argc >= 4)
		return cmd_bound(strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET, argv[3],
				 argc > 4 ? argv[4] : NULL);
	if (strcmp(argv[1], "hold") == 0 && argc >= 4)
		return cmd_hold(atoi(argv[2]), atoi(argv[3]));
	return fail("unknown command %s", argv[1]);
}
