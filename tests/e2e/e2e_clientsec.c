/* SPDX-License-Identifier: MIT */
/*
 * e2e_clientsec - the client side of tests/e2e/clientsec.sh: what
 * librawbroker and the LD_PRELOAD shim must refuse or answer themselves.
 *
 *   e2e_clientsec privsep-caps         (shim, RAWBROKER_PRIVSEP=1, holding a
 *                                      capability) chroot, setgroups, setgid,
 *                                      setuid(65534) all still fail with EPERM
 *   e2e_clientsec credchange UID       (root) a request as root, then drop to
 *                                      UID the way a daemon does: the next
 *                                      request is judged as UID (granted)
 *   e2e_clientsec credswitch UID [RUID EUID]
 *                                      a raw ICMPv6 socket, then
 *                                      setresuid(UID, UID, UID), which a
 *                                      process may do without root when UID
 *                                      is its real uid or it holds
 *                                      CAP_SETUID: the next request is
 *                                      judged as UID.  With RUID and EUID
 *                                      (as root), first drop to real uid
 *                                      RUID, effective and saved EUID
 *   e2e_clientsec victim GOFILE        get a raw ICMPv6 socket from the broker,
 *                                      wait for GOFILE, then hand the socket
 *                                      to whoever listens now through
 *                                      rb_setsockopt(): must fail with EPERM
 *                                      naming the untrusted listener
 *   e2e_clientsec impostor PATH        listen at PATH in the broker's place,
 *                                      answer a set_option as the broker
 *                                      would, report whether a descriptor
 *                                      came (exit 0 either way; prints
 *                                      "impostor: got a descriptor" or
 *                                      "impostor: no descriptor")
 *   e2e_clientsec expect ERRNO         rb_socket(AF_INET, SOCK_RAW, ICMP) fails
 *                                      with ERRNO (EPERM, ...); print reason
 *   e2e_clientsec echo6                rb_socket ICMPv6: granted
 *   e2e_clientsec burst N              up to N rb_socket() calls for raw ICMP:
 *                                      grants, then EAGAIN (and no other
 *                                      error); print the reason
 *   e2e_clientsec sockets N            (shim) N plain socket() calls for raw
 *                                      ICMP, kept open; one line each: "ok" or
 *                                      the errno's name
 *   e2e_clientsec optclear             (shim) a raw ICMPv6 socket; clear
 *                                      IPV6_HOPOPTS and IPV6_DSTOPTS (never
 *                                      set) with plain setsockopt: 0
 *   e2e_clientsec optcycle             (shim) set IPV6_HOPOPTS, set it again,
 *                                      clear it, clear it again: all 0, and
 *                                      getsockopt shows each step
 *   e2e_clientsec optrefused           (shim) set IPV6_HOPOPTS where the
 *                                      policy refuses it: -1, EPERM
 *
 * Exit 0 when what was checked holds, 1 otherwise, with a line on stderr.
 */
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "codec.h"
#include "e2e_util.h"
#include "frame.h"
#include "rawbroker.h"

/* An 8-byte hop-by-hop header of padding only (PadN), as the broker sets. */
static const uint8_t padn[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EPERM", EPERM },   { "EACCES", EACCES },	  { "EAGAIN", EAGAIN },
	{ "EINVAL", EINVAL }, { "ECONNREFUSED", ECONNREFUSED }, { "ENOENT", ENOENT },
	{ "EPROTO", EPROTO }, { "ETIMEDOUT", ETIMEDOUT },
};

static const char *errno_name(int e)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == e)
			return errnos[i].name;
	return "other";
}

static int errno_value(const char *name)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(errnos[i].name, name) == 0)
			return errnos[i].value;
	return -1;
}

/* Each call must fail with EPERM: nothing may be pretended to a process
 * that holds a capability. */
static int cmd_privsep_caps(void)
{
	int bad = 0;

	errno = 0;
	if (chroot("/") == 0 || errno != EPERM) {
		fail("chroot(\"/\"): reported done (or not EPERM: %s)", strerror(errno));
		bad++;
	}
	if (setgroups(0, NULL) == 0 || errno != EPERM) {
		fail("setgroups(0, NULL): reported done");
		bad++;
	}
	if (setgid(65534) == 0 || errno != EPERM) {
		fail("setgid(65534): reported done");
		bad++;
	}
	if (setuid(65534) == 0 || errno != EPERM) {
		fail("setuid(65534): reported done");
		bad++;
	}
	if (bad)
		return 1;
	printf("privsep-caps: chroot, setgroups, setgid, setuid(65534) all EPERM, "
	       "nothing pretended to a process holding a capability\n");
	return 0;
}

static int cmd_credchange(const char *uidarg)
{
	uid_t uid = (uid_t)strtoul(uidarg, NULL, 10);
	struct rb_result res;
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW | SOCK_CLOEXEC,
				 .protocol = IPPROTO_ICMP };
	int fd;

	if (getuid() != 0)
		return fail("run credchange as root");
	fd = rb_socket_request(&rq, &res);
	printf("as uid 0: %s (%s)\n", fd >= 0 ? "granted" : strerror(errno), res.reason);
	if (fd >= 0)
		close(fd);
	/* The drop a daemon makes after its setup: groups, gid, uid. */
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		return fail("dropping to uid %u: %s", (unsigned)uid, strerror(errno));
	fd = rb_socket_request(&rq, &res);
	if (fd < 0)
		return fail("as uid %u after setresuid: %s (%s): the request was judged on the "
			    "connection made as root",
			    (unsigned)uid, strerror(errno), res.reason);
	printf("as uid %u after setresuid: granted by rule %s\n", (unsigned)uid, res.rule);
	close(fd);
	return 0;
}

static int cmd_credswitch(const char *uidarg, const char *ruidarg, const char *euidarg)
{
	uid_t uid = (uid_t)strtoul(uidarg, NULL, 10), was;
	struct rb_result res;
	struct rb_request rq = { .domain = AF_INET6, .type = SOCK_RAW | SOCK_CLOEXEC,
				 .protocol = IPPROTO_ICMPV6 };
	int fd;

	if (ruidarg && euidarg) {
		/* From root, so that the environment (RAWBROKER_SOCKET) is
		 * still read: an exec with real and effective ids apart is
		 * a setuid exec, whose environment the library ignores. */
		uid_t ruid = (uid_t)strtoul(ruidarg, NULL, 10);
		uid_t euid = (uid_t)strtoul(euidarg, NULL, 10);

		if (setgroups(0, NULL) < 0 || setresgid(euid, euid, euid) < 0 ||
		    setresuid(ruid, euid, euid) < 0)
			return fail("dropping to real uid %u, effective %u: %s", (unsigned)ruid,
				    (unsigned)euid, strerror(errno));
	}
	was = geteuid();
	if (was == 0)
		return fail("run credswitch as a user other than root, or give RUID EUID");
	fd = rb_socket_request(&rq, &res);
	if (fd < 0)
		return fail("as uid %u: %s (%s)", (unsigned)was, strerror(errno), res.reason);
	printf("as uid %u: granted by rule %s\n", (unsigned)was, res.rule);
	close(fd);
	if (setresuid(uid, uid, uid) < 0)
		return fail("switching to uid %u: %s", (unsigned)uid, strerror(errno));
	fd = rb_socket_request(&rq, &res);
	if (fd < 0)
		return fail("as uid %u after setresuid: %s (%s)", (unsigned)uid, strerror(errno),
			    res.reason);
	printf("as uid %u after setresuid: granted by rule %s\n", (unsigned)uid, res.rule);
	close(fd);
	return 0;
}

static int cmd_victim(const char *gofile)
{
	struct rb_result res;
	struct stat st;
	int fd = rb_socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6), r;

	if (fd < 0)
		return fail("rb_socket ICMPv6 from the real broker: %s", strerror(errno));
	rb_disconnect(); /* as after the broker closed an idle connection */
	printf("victim: holds a raw ICMPv6 socket; waiting\n");
	fflush(stdout);
	for (int i = 0; i < 200 && stat(gofile, &st) < 0; i++)
		usleep(50 * 1000);
	r = rb_setsockopt_request(fd, IPPROTO_IPV6, IPV6_HOPOPTS, padn, sizeof(padn), &res);
	if (r == 0)
		return fail("rb_setsockopt succeeded: the socket went to the listener (%s)",
			    res.reason);
	if (errno != EPERM)
		return fail("rb_setsockopt: %s, wanted EPERM (%s)", strerror(errno), res.reason);
	printf("victim: rb_setsockopt refused: %s (%s)\n", strerror(errno), res.reason);
	return 0;
}

/* Answer REQ the way the broker answers step 1 of a set_option: OK, send
 * the socket. */
static int impostor_reply(int c, uint64_t id, bool want_fd)
{
	Rawbroker__Reply rep = RAWBROKER__REPLY__INIT;
	uint8_t out[RB_FRAME_MAX];
	ssize_t n;

	rep.version = RB_PROTOCOL_VERSION;
	rep.id = id;
	rep.status = RAWBROKER__STATUS__STATUS_OK;
	rep.reason = (char *)"send the socket";
	rep.rule = (char *)"impostor";
	rep.want_descriptor = want_fd;
	n = rb_reply_encode(&rep, out, sizeof(out));
	return n < 0 ? -1 : (int)rb_frame_send(c, out, (size_t)n, -1, 0);
}

static int cmd_impostor(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), c = -1, fd = -1;
	struct pollfd p = { .events = POLLIN };
	uint8_t buf[RB_FRAME_MAX];
	int got = 0;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	umask(0);
	if (l < 0 || bind(l, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(l, 8) < 0)
		return fail("impostor: listen at %s: %s", path, strerror(errno));
	printf("impostor: listening at %s\n", path);
	fflush(stdout);
	p.fd = l;
	if (poll(&p, 1, 10000) == 1)
		c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	/* Up to a few requests: answer each as a broker would, keep any
	 * descriptor that comes along. */
	for (int i = 0; c >= 0 && i < 4; i++) {
		Rawbroker__Request *req = NULL;
		ssize_t n;

		p.fd = c;
		if (poll(&p, 1, 3000) != 1)
			break;
		n = rb_frame_recv(c, buf, sizeof(buf), &fd, RB_FRAME_ACCEPT_FD);
		if (n <= 0)
			break;
		if (fd >= 0) {
			int dom = -1, type = -1, proto = -1;
			socklen_t len = sizeof(int);

			getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len);
			len = sizeof(int);
			getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
			len = sizeof(int);
			getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
			printf("impostor: got a descriptor: domain %d type %d protocol %d\n", dom,
			       type, proto);
			got = 1;
			close(fd);
			fd = -1;
		}
		if (rb_request_decode(buf, (size_t)n, &req) < 0)
			break;
		impostor_reply(c, req->id, req->kind_case == RAWBROKER__REQUEST__KIND_SET_OPTION);
		rb_request_free(req);
	}
	if (!got)
		printf("impostor: no descriptor%s\n", c < 0 ? " (no connection)" : "");
	if (c >= 0)
		close(c);
	close(l);
	unlink(path);
	return 0;
}

static int cmd_expect(const char *name)
{
	int want = errno_value(name);
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	struct rb_result res;
	int fd = rb_socket_request(&rq, &res);

	if (fd >= 0)
		return fail("granted, wanted %s", name);
	if (errno != want)
		return fail("%s (%s), wanted %s", strerror(errno), res.reason, name);
	printf("%s: %s\n", name, res.reason);
	return 0;
}

static int cmd_echo6(void)
{
	struct rb_result res;
	struct rb_request rq = { .domain = AF_INET6, .type = SOCK_RAW, .protocol = IPPROTO_ICMPV6 };
	int fd = rb_socket_request(&rq, &res);

	if (fd < 0)
		return fail("rb_socket ICMPv6: %s (%s)", strerror(errno), res.reason);
	printf("granted by rule %s\n", res.rule);
	close(fd);
	return 0;
}

static int cmd_burst(int n)
{
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW | SOCK_CLOEXEC,
				 .protocol = IPPROTO_ICMP };
	struct rb_result res;

	for (int i = 0; i < n; i++) {
		int fd = rb_socket_request(&rq, &res);

		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != EAGAIN)
			return fail("call %d: %s (%s), wanted EAGAIN", i + 1, strerror(errno),
				    res.reason);
		printf("%d granted, then EAGAIN: %s\n", i, res.reason);
		return 0;
	}
	return fail("%d granted, never rate limited", n);
}

static int cmd_sockets(int n)
{
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

		printf("%s\n", fd >= 0 ? "ok" : errno_name(errno));
	}
	return 0;
}

/* A raw ICMPv6 socket through the shim (plain socket()). */
static int shim_icmp6(void)
{
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);

	if (fd < 0)
		fail("socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6): %s", strerror(errno));
	return fd;
}

/* The length of the option now set on FD, or -1. */
static int opt_len(int fd, int name)
{
	uint8_t cur[2048];
	socklen_t len = sizeof(cur);

	return getsockopt(fd, IPPROTO_IPV6, name, cur, &len) < 0 ? -1 : (int)len;
}

static int cmd_optclear(void)
{
	int fd = shim_icmp6();

	if (fd < 0)
		return 1;
	for (int i = 0; i < 3; i++) {
		errno = 0;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, NULL, 0) != 0)
			return fail("clearing IPV6_HOPOPTS (never set): %s", strerror(errno));
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, NULL, 0) != 0)
			return fail("clearing IPV6_DSTOPTS (never set): %s", strerror(errno));
		if (errno != 0)
			return fail("errno changed to %s on success", strerror(errno));
	}
	printf("optclear: clearing options never set succeeded, 3 times each\n");
	return 0;
}

static int cmd_optcycle(void)
{
	int fd = shim_icmp6();
	const struct {
		const void *v;
		socklen_t len;
		int want;
	} steps[] = { { padn, 8, 8 }, { padn, 8, 8 }, { NULL, 0, 0 }, { NULL, 0, 0 } };

	if (fd < 0)
		return 1;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, steps[i].v, steps[i].len) != 0)
			return fail("step %zu: setsockopt(IPV6_HOPOPTS, %u bytes): %s", i + 1,
				    (unsigned)steps[i].len, strerror(errno));
		if (opt_len(fd, IPV6_HOPOPTS) != steps[i].want)
			return fail("step %zu: the option has %d bytes, wanted %d", i + 1,
				    opt_len(fd, IPV6_HOPOPTS), steps[i].want);
	}
	printf("optcycle: set, set again, clear, clear again: each took effect\n");
	return 0;
}

static int cmd_optrefused(void)
{
	int fd = shim_icmp6();

	if (fd < 0)
		return 1;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, padn, sizeof(padn)) == 0)
		return fail("setting IPV6_HOPOPTS succeeded where the policy refuses it");
	if (errno != EPERM)
		return fail("setting IPV6_HOPOPTS: %s, wanted EPERM", strerror(errno));
	if (opt_len(fd, IPV6_HOPOPTS) != 0)
		return fail("the refused option is set");
	printf("optrefused: EPERM, and no header set\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("usage: see the comment at the top of e2e_clientsec.c");
	if (strcmp(argv[1], "privsep-caps") == 0)
		return cmd_privsep_caps();
	if (strcmp(argv[1], "credchange") == 0 && argc >= 3)
		return cmd_credchange(argv[2]);
	if (strcmp(argv[1], "credswitch") == 0 && argc >= 3)
		return cmd_credswitch(argv[2], argc >= 5 ? argv[3] : NULL, argc >= 5 ? argv[4] : NULL);
	if (strcmp(argv[1], "victim") == 0 && argc >= 3)
		return cmd_victim(argv[2]);
	if (strcmp(argv[1], "impostor") == 0 && argc >= 3)
		return cmd_impostor(argv[2]);
	if (strcmp(argv[1], "expect") == 0 && argc >= 3)
		return cmd_expect(argv[2]);
	if (strcmp(argv[1], "echo6") == 0)
		return cmd_echo6();
	if (strcmp(argv[1], "burst") == 0 && argc >= 3)
		return cmd_burst(atoi(argv[2]));
	if (strcmp(argv[1], "sockets") == 0 && argc >= 3)
		return cmd_sockets(atoi(argv[2]));
	if (strcmp(argv[1], "optclear") == 0)
		return cmd_optclear();
	if (strcmp(argv[1], "optcycle") == 0)
		return cmd_optcycle();
	if (strcmp(argv[1], "optrefused") == 0)
		return cmd_optrefused();
	return fail("unknown command %s", argv[1]);
}
