/* SPDX-License-Identifier: MIT */
/*
 * e2e_maker.c - a compromised front: this program starts rawbroker-maker
 * itself, as rawbrokerd does (a socketpair, a child that drops to an
 * unprivileged uid keeping CAP_NET_RAW ambient with NO_NEW_PRIVS, then
 * execs the maker with --fd N), and speaks the records of
 * broker/maker/record.h directly, bad ones included.
 *
 * For each bad record it checks the maker's answer (the errno) and that a
 * good MK_MAKE is still served after it: the socket received has the
 * class's domain, type, protocol and mark, carries the one-instruction
 * drop-everything filter, and a packet sent to it is dropped (while an
 * unfiltered control socket sees the packet and its reply, so the packet
 * was delivered).  It also reads the maker's /proc state (CapPrm = CapEff =
 * CAP_NET_RAW only, nothing inheritable or ambient, NoNewPrivs 1, Seccomp 2),
 * checks that the refused descriptors were closed (the maker's fd count is
 * back to its baseline) and that the maker exits 0 when its channel closes
 * (a seccomp kill would show as SIGSYS).
 *
 * What a maker does when it tries a system call outside its filter is not
 * testable from outside (it would have to be made to try one); the /proc
 * state shows the filter is loaded, and the table check refuses a tuple the
 * table never named before socket() could be asked for it.
 *
 * Usage (as root, in a fresh network namespace; tests/e2e/maker.sh):
 *   e2e_maker MAKER UID:GID UID2:GID2
 * (UID2: a second maker's, for the descriptors-in-flight check).
 * Output: one "ok N - ..." or "not ok N - ..." line per check; exit 0 when
 * all pass, 1 otherwise, 77 when not root (outside CI).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "drop.h"
#include "e2e_util.h"
#include "record.h"

#define MARK0 0x2au
#define REPLY_TIMEOUT_MS 3000

static int chan = -1;
static pid_t maker = -1;
static uint64_t next_id = 100;
static unsigned ntests, nfailed;
static int ctl6 = -1; /* an unfiltered raw ICMPv6 socket of our own (control) */

__attribute__((format(printf, 2, 3))) static bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	if (!cond)
		nfailed++;
	printf("%s %u - ", cond ? "ok" : "not ok", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* ---- the channel ---- */

static int send_rec(const void *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(chan, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* One reply: its length (0 on timeout or a closed channel); its
 * descriptors in FDS (up to MAX), their number in *NFDS. */
static ssize_t recv_rep(struct mk_reply *rp, int *fds, unsigned max, unsigned *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 253)];
	} cm;
	struct iovec iov = { .iov_base = rp, .iov_len = sizeof(*rp) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			      .msg_controllen = sizeof(cm.buf) };
	struct pollfd p = { .fd = chan, .events = POLLIN };
	ssize_t n;

	*nfds = 0;
	memset(rp, 0, sizeof(*rp));
	if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
		return 0;
	n = recvmsg(chan, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t len = c->cmsg_len - CMSG_LEN(0);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0; k + sizeof(int) <= len; k += sizeof(int)) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k, sizeof(fd));
			if (*nfds < max)
				fds[(*nfds)++] = fd;
			else
				close(fd), (*nfds)++;
		}
	}
	return n;
}

static struct mk_request req(uint32_t kind)
{
	struct mk_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.version = MK_VERSION;
	rq.kind = kind;
	rq.id = next_id++;
	return rq;
}

/* Send LEN bytes of RQ with FDS; the maker must answer ERR, with no
 * descriptor, echoing kind and id when the record was whole. */
static bool expect_err(const char *what, const struct mk_request *rq, size_t len,
		       const int *fds, unsigned nfds, int err)
{
	unsigned char buf[sizeof(*rq) + 8];
	struct mk_reply rp;
	unsigned got;
	int dummy[1];
	ssize_t n;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, rq, len < sizeof(*rq) ? len : sizeof(*rq));
	if (send_rec(buf, len, fds, nfds) < 0)
		return check(false, "%s: send: %s", what, strerror(errno));
	n = recv_rep(&rp, dummy, 0, &got);
	if (n == 0)
		return check(false, "%s: no answer (the maker is gone or stuck)", what);
	return check(n == sizeof(rp) && rp.version == MK_VERSION && rp.err == err && got == 0 &&
			     rp.nfds == 0 &&
			     (len != sizeof(*rq) || (rp.id == rq->id && rp.kind == rq->kind)),
		     "%s: answered %s (got %s, %zd bytes, %u fds, id %s)", what,
		     strerrorname_np(err) ? strerrorname_np(err) : "0",
		     rp.err ? (strerrorname_np(rp.err) ? strerrorname_np(rp.err) : "?") : "0", n,
		     got, rp.id == rq->id ? "echoed" : "not echoed");
}

static bool refuses(const char *what, const struct mk_request *rq, int err)
{
	return expect_err(what, rq, sizeof(*rq), NULL, 0, err);
}

/* ---- the sockets it makes ---- */

static int sockopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l) < 0)
		return -1;
	return v;
}

/* The maker's filter: exactly one instruction, "ret #0". */
static bool drop_filter(int fd)
{
	struct sock_filter f[4];
	socklen_t n = 4; /* in instructions, for SO_GET_FILTER */

	memset(f, 0xff, sizeof(f));
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, f, &n) < 0)
		return false;
	return n == 1 && f[0].code == (BPF_RET | BPF_K) && f[0].k == 0;
}

/* Send an echo request to ::1 from the control socket and wait until the
 * control socket sees the echo reply: by then the request and the reply
 * have been delivered to every raw ICMPv6 socket, FD included.  Returns
 * how many packets FD could read then (0 when its filter dropped them),
 * -1 when the control socket saw no reply (the check cannot decide). */
static int ping_seen(int fd)
{
	static uint16_t seq;
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct icmp6_hdr h = { .icmp6_type = ICMP6_ECHO_REQUEST };
	double deadline = now_ms() + 2000;
	unsigned char buf[256];
	int n = 0;

	h.icmp6_id = htons(0x4d6b);
	h.icmp6_seq = htons(++seq);
	if (sendto(ctl6, &h, sizeof(h), 0, (struct sockaddr *)&lo, sizeof(lo)) < 0)
		return -1;
	for (;;) {
		struct pollfd p = { .fd = ctl6, .events = POLLIN };
		const struct icmp6_hdr *r = (const void *)buf;
		double left = deadline - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		if (recv(ctl6, buf, sizeof(buf), MSG_DONTWAIT) < (ssize_t)sizeof(*r))
			continue;
		if (r->icmp6_type == ICMP6_ECHO_REPLY && r->icmp6_id == h.icmp6_id &&
		    r->icmp6_seq == h.icmp6_seq)
			break;
	}
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/* Is FD what class 0 or 1 of our table says? */
static bool is_class(int fd, int cls)
{
	static const int want[2][4] = {
		{ AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, (int)MARK0 },
		{ AF_INET, SOCK_RAW, IPPROTO_ICMP, 0 },
	};

	return sockopt_int(fd, SOL_SOCKET, SO_DOMAIN) == want[cls][0] &&
	       sockopt_int(fd, SOL_SOCKET, SO_TYPE) == want[cls][1] &&
	       sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL) == want[cls][2] &&
	       sockopt_int(fd, SOL_SOCKET, SO_MARK) == want[cls][3] && drop_filter(fd) &&
	       (fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* MK_MAKE COUNT of class CLS: 0 and COUNT sockets of that class; FDS
 * receives them (the caller closes them), or they are closed when NULL. */
static bool make(const char *what, uint32_t cls, uint32_t count, int *out)
{
	struct mk_request rq = req(MK_MAKE);
	int fds[MK_BATCH_MAX + 1];
	struct mk_reply rp;
	unsigned got;
	bool right = true;
	ssize_t n;

	rq.cls = cls;
	rq.count = count;
	if (send_rec(&rq, sizeof(rq), NULL, 0) < 0)
		return check(false, "%s: send: %s", what, strerror(errno));
	n = recv_rep(&rp, fds, MK_BATCH_MAX + 1, &got);
	for (unsigned i = 0; i < got && i <= MK_BATCH_MAX; i++) {
		right = right && is_class(fds[i], (int)cls);
		if (!out)
			close(fds[i]);
		else
			out[i] = fds[i];
	}
	return check(n == sizeof(rp) && rp.err == 0 && rp.id == rq.id && rp.kind == MK_MAKE &&
			     rp.nfds == count && got == count && right,
		     "%s: %u socket(s) of class %u, each of its tuple and mark with the "
		     "drop filter (err %d, %u fds)", what, count, cls, rp.err, got);
}

/* After each refusal: a good record is still served, and its socket
 * drops a packet the control socket sees delivered. */
static void still_serves(const char *after)
{
	char what[160];
	int fd = -1, seen;

	snprintf(what, sizeof(what), "after %s, a good MK_MAKE", after);
	if (!make(what, 0, 1, &fd))
		return;
	seen = ping_seen(fd);
	check(seen == 0, "after %s, a packet to the new socket is dropped (%d read)", after,
	      seen);
	close(fd);
}

/* ---- the maker's process ---- */

static int proc_field(const char *field, char *val, size_t size)
{
	char path[64], line[256];
	FILE *f;
	size_t flen = strlen(field);
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)maker);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			char *v = line + flen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(val, size, "%s", v);
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

static void check_field(const char *field, const char *want)
{
	char v[128] = "";

	proc_field(field, v, sizeof(v));
	check(strcmp(v, want) == 0, "maker /proc status %s is %s (got \"%s\")", field, want, v);
}

/* The maker's open descriptors, after a round trip: it closes the sockets
 * of a MK_MAKE reply after sending it, before it reads the next record. */
static int count_fds(void)
{
	struct mk_request rq = req(0);
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	refuses("a round trip (kind 0) before counting descriptors", &rq, EINVAL);

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)maker);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* As rawbrokerd's maker_link.c: the child drops to UID:GID keeping
 * CAP_NET_RAW ambient (so it survives the execve), NO_NEW_PRIVS set; with
 * RLIMIT_NOFILE NOFILE unless 0. */
static void start_maker(const char *path, uid_t uid, gid_t gid, rlim_t nofile)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		exit(fail("socketpair: %s", strerror(errno)));
	maker = fork();
	if (maker < 0)
		exit(fail("fork: %s", strerror(errno)));
	if (maker == 0) {
		struct drop_spec s = { .switch_user = true, .uid = uid, .gid = gid,
				       .keep = 1ull << CAP_NET_RAW, .ambient = true };
		struct drop_state st;
		char why[256] = "", num[16];

		struct rlimit lim = { .rlim_cur = nofile, .rlim_max = nofile };

		if (fcntl(sv[1], F_SETFD, 0) < 0 || (nofile && setrlimit(RLIMIT_NOFILE, &lim) < 0) ||
		    drop_privileges(&s, &st, why, sizeof(why)) < 0) {
			dprintf(2, "e2e_maker: child: %s\n", why[0] ? why : strerror(errno));
			_exit(127);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(num, sizeof(num), "%d", sv[1]);
		execl(path, "rawbroker-maker", "--fd", num, (char *)NULL);
		dprintf(2, "e2e_maker: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	chan = sv[0];
}

/* ---- the checks ---- */

static struct mk_request class_rec(int family, int type, int protocol, uint32_t has_mark,
				   uint32_t mark)
{
	struct mk_request rq = req(MK_CLASS);

	rq.family = family;
	rq.type = type;
	rq.protocol = protocol;
	rq.has_mark = has_mark;
	rq.mark = mark;
	return rq;
}

static void before_seal(void)
{
	struct mk_request rq;
	int pfd[2];

	rq = class_rec(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, 1, MARK0);
	refuses("class 0 (inet6 raw icmpv6 mark 0x2a)", &rq, 0);
	rq = class_rec(AF_INET, SOCK_RAW, IPPROTO_ICMP, 0, 0);
	refuses("class 1 (inet raw icmp, no mark)", &rq, 0);

	rq = class_rec(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, 1, MARK0);
	refuses("the same class again", &rq, EEXIST);
	rq = class_rec(AF_INET, SOCK_RAW, IPPROTO_RAW, 0, 0);
	refuses("a class outside served.h (inet raw IPPROTO_RAW)", &rq, EINVAL);
	rq = class_rec(AF_PACKET, SOCK_RAW, 0x0300, 0, 0);
	refuses("a class outside served.h (AF_PACKET)", &rq, EINVAL);
	rq = class_rec(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP, 0, 0);
	refuses("a class with a type flag", &rq, EINVAL);
	rq = class_rec(AF_INET, SOCK_RAW, IPPROTO_ICMP, 2, 7);
	refuses("a class with has_mark 2", &rq, EINVAL);
	rq = class_rec(AF_INET, SOCK_RAW, IPPROTO_ICMP, 0, 7);
	refuses("a class with a mark but no has_mark", &rq, EINVAL);
	rq = class_rec(AF_INET, SOCK_RAW, IPPROTO_ICMP, 1, 7);
	rq.version = 2;
	refuses("a class record of version 2", &rq, EPROTONOSUPPORT);
	expect_err("a short class record", &rq, sizeof(rq) - 1, NULL, 0, EMSGSIZE);
	rq = req(MK_MAKE);
	rq.count = 1;
	refuses("MK_MAKE before the seal", &rq, EINVAL);
	rq = req(MK_SETOPT);
	refuses("MK_SETOPT before the seal", &rq, EINVAL);
	if (pipe2(pfd, O_CLOEXEC) == 0) {
		rq = class_rec(AF_INET, SOCK_RAW, IPPROTO_ICMP, 1, 9);
		expect_err("a class record carrying a descriptor", &rq, sizeof(rq), pfd, 1,
			   EPROTO);
		close(pfd[0]);
		close(pfd[1]);
	}
	rq = req(MK_SEAL);
	refuses("the seal", &rq, 0);
}

static void proc_state(void)
{
	char uid[64];

	/* 1 << CAP_NET_RAW (13) */
	check_field("CapPrm", "0000000000002000");
	check_field("CapEff", "0000000000002000");
	check_field("CapInh", "0000000000000000");
	check_field("CapAmb", "0000000000000000");
	check_field("CapBnd", "0000000000002000");
	check_field("NoNewPrivs", "1");
	check_field("Seccomp", "2");
	proc_field("Uid", uid, sizeof(uid));
	check(strncmp(uid, "0", 1) != 0 && strstr(uid, "\t0") == NULL,
	      "maker runs as a non-root uid (Uid: %s)", uid);
}

static void bad_records(void)
{
	static const uint8_t pad[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	static const uint8_t alert[8] = { 0, 0, 5, 2, 0, 0, 1, 0 }; /* router alert */
	static const uint8_t badlen[8] = { 0, 1, 1, 4, 0, 0, 0, 0 };
	static const uint8_t dirty[8] = { 0, 0, 1, 4, 0, 0, 0, 1 };
	struct mk_request rq, good;
	int u6, u4, tcp6, un[2], pfd[2], two[2];

	rq = req(MK_MAKE);
	rq.cls = 0;
	rq.count = 1;
	expect_err("a short record (2095 bytes)", &rq, sizeof(rq) - 1, NULL, 0, EMSGSIZE);
	still_serves("a short record");
	expect_err("a long record (2097 bytes)", &rq, sizeof(rq) + 1, NULL, 0, EMSGSIZE);
	still_serves("a long record");
	expect_err("a 24-byte record", &rq, 24, NULL, 0, EMSGSIZE);
	still_serves("a 24-byte record");

	rq = req(MK_MAKE);
	rq.count = 1;
	rq.version = 2;
	refuses("version 2", &rq, EPROTONOSUPPORT);
	still_serves("version 2");
	rq.version = 0;
	refuses("version 0", &rq, EPROTONOSUPPORT);
	still_serves("version 0");

	rq = req(0);
	refuses("kind 0", &rq, EINVAL);
	still_serves("kind 0");
	rq = req(5);
	refuses("kind 5", &rq, EINVAL);
	still_serves("kind 5");
	rq = req(0xffffffffu);
	refuses("kind 0xffffffff", &rq, EINVAL);
	still_serves("kind 0xffffffff");

	rq = class_rec(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6, 0, 0);
	refuses("a class record after the seal", &rq, EINVAL);
	still_serves("a class record after the seal");
	rq = class_rec(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, 1, 0x77);
	refuses("a class record with an unknown mark after the seal", &rq, EINVAL);
	rq = req(MK_SEAL);
	refuses("a second seal", &rq, EINVAL);

	/* The table has two classes: index 2 is a tuple it never named (the
	 * class records above were refused, so nothing was added). */
	rq = req(MK_MAKE);
	rq.count = 1;
	rq.cls = 2;
	refuses("class index 2 (a tuple the table never named)", &rq, EINVAL);
	still_serves("class index 2");
	rq.cls = 0xffffffffu;
	refuses("class index 0xffffffff", &rq, EINVAL);
	still_serves("class index 0xffffffff");
	rq.cls = MK_CLASSES_MAX;
	refuses("class index MK_CLASSES_MAX", &rq, EINVAL);

	rq.cls = 0;
	rq.count = 0;
	refuses("count 0", &rq, EINVAL);
	still_serves("count 0");
	rq.count = MK_BATCH_MAX + 1;
	refuses("count MK_BATCH_MAX + 1", &rq, EINVAL);
	still_serves("count MK_BATCH_MAX + 1");
	rq.count = 0xffffffffu;
	refuses("count 0xffffffff", &rq, EINVAL);
	make("count MK_BATCH_MAX", 0, MK_BATCH_MAX, NULL);
	make("class 1, count 2", 1, 2, NULL);

	/* MK_SETOPT: the option, the header, the descriptor. */
	u6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	u4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	tcp6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u6 < 0 || u4 < 0 || tcp6 < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, un) < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		check(false, "test sockets: %s", strerror(errno));
		return;
	}
	good = req(MK_SETOPT);
	good.level = IPPROTO_IPV6;
	good.name = IPV6_HOPOPTS;
	good.len = sizeof(pad);
	memcpy(good.value, pad, sizeof(pad));

	rq = good;
	rq.id = next_id++;
	rq.level = SOL_SOCKET;
	rq.name = SO_MARK;
	expect_err("MK_SETOPT of SO_MARK", &rq, sizeof(rq), &u6, 1, EINVAL);
	still_serves("MK_SETOPT of SO_MARK");
	rq.level = IPPROTO_IPV6;
	rq.name = IPV6_RTHDR;
	expect_err("MK_SETOPT of IPV6_RTHDR", &rq, sizeof(rq), &u6, 1, EINVAL);
	still_serves("MK_SETOPT of IPV6_RTHDR");
	rq.level = IPPROTO_IP;
	rq.name = IPV6_HOPOPTS;
	expect_err("MK_SETOPT of IPV6_HOPOPTS's number at IPPROTO_IP", &rq, sizeof(rq), &u6, 1,
		   EINVAL);
	rq = good;
	rq.id = next_id++;
	memcpy(rq.value, alert, sizeof(alert));
	expect_err("MK_SETOPT with a router alert option (not padding)", &rq, sizeof(rq), &u6,
		   1, EINVAL);
	still_serves("a non-padding header");
	memcpy(rq.value, badlen, sizeof(badlen));
	expect_err("MK_SETOPT with a bad length byte", &rq, sizeof(rq), &u6, 1, EINVAL);
	still_serves("a header with a bad length byte");
	memcpy(rq.value, dirty, sizeof(dirty));
	expect_err("MK_SETOPT with non-zero padding", &rq, sizeof(rq), &u6, 1, EINVAL);
	memcpy(rq.value, pad, sizeof(pad));
	rq.len = 12;
	expect_err("MK_SETOPT of 12 bytes", &rq, sizeof(rq), &u6, 1, EINVAL);
	rq.len = MK_VALUE_MAX + 8;
	expect_err("MK_SETOPT longer than MK_VALUE_MAX", &rq, sizeof(rq), &u6, 1, EINVAL);
	rq.len = sizeof(pad);
	expect_err("MK_SETOPT without a descriptor", &rq, sizeof(rq), NULL, 0, EINVAL);
	still_serves("MK_SETOPT without a descriptor");

	expect_err("MK_SETOPT on a unix socket", &rq, sizeof(rq), &un[0], 1, EBADF);
	still_serves("a unix socket");
	expect_err("MK_SETOPT on a pipe", &rq, sizeof(rq), &pfd[0], 1, EBADF);
	still_serves("a pipe");
	expect_err("MK_SETOPT on an IPv4 UDP socket", &rq, sizeof(rq), &u4, 1, EBADF);
	still_serves("an IPv4 UDP socket");
	expect_err("MK_SETOPT on an IPv6 TCP socket", &rq, sizeof(rq), &tcp6, 1, EBADF);
	still_serves("an IPv6 TCP socket");
	two[0] = u6;
	two[1] = u6;
	expect_err("MK_SETOPT with two descriptors", &rq, sizeof(rq), two, 2, EPROTO);
	still_serves("two descriptors");
	rq = req(MK_MAKE);
	rq.count = 1;
	expect_err("MK_MAKE carrying a descriptor", &rq, sizeof(rq), &u6, 1, EPROTO);
	still_serves("a descriptor on MK_MAKE");
	expect_err("a short record carrying a descriptor", &rq, 100, &u6, 1, EPROTO);
	still_serves("a short record carrying a descriptor");

	/* And the good one: the header lands on our socket. */
	{
		uint8_t got[64];
		socklen_t gl = sizeof(got);

		rq = good;
		rq.id = next_id++;
		if (expect_err("MK_SETOPT IPV6_HOPOPTS of padding on an IPv6 UDP socket", &rq,
			       sizeof(rq), &u6, 1, 0)) {
			int r = getsockopt(u6, IPPROTO_IPV6, IPV6_HOPOPTS, got, &gl);

			check(r == 0 && gl == sizeof(pad) && memcmp(got, pad, sizeof(pad)) == 0,
			      "the header is set on the socket (%u bytes read back)",
			      (unsigned)gl);
		}
		rq.id = next_id++;
		rq.name = IPV6_DSTOPTS;
		expect_err("MK_SETOPT IPV6_DSTOPTS of padding", &rq, sizeof(rq), &u6, 1, 0);
		rq.id = next_id++;
		rq.len = 0;
		expect_err("MK_SETOPT IPV6_DSTOPTS of nothing (clears it)", &rq, sizeof(rq), &u6, 1,
			   0);
	}
	close(u6);
	close(u4);
	close(tcp6);
	close(un[0]);
	close(un[1]);
	close(pfd[0]);
	close(pfd[1]);
}

/* The positive control for the drop check: without its filter the same
 * kind of socket sees the packet. */
static void drop_control(void)
{
	int fd = -1, seen, zero = 0;

	if (!make("a socket for the control", 0, 1, &fd))
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)) < 0) {
		check(false, "SO_DETACH_FILTER: %s", strerror(errno));
	} else {
		seen = ping_seen(fd);
		check(seen >= 1, "control: with its filter detached the socket reads the packets "
		      "(%d read)", seen);
	}
	close(fd);
}

/*
 * A batch the kernel will not carry: the maker's user has more descriptors
 * in flight than the maker's RLIMIT_NOFILE (ETOOMANYREFS; in rawbrokerd the
 * granted sockets that clients have not read yet count).  The maker must
 * still answer, with that errno and no descriptor: the front waits for each
 * refill it asked for.  A second maker runs as UID (its own, so that no
 * other test's broker shares the count) with RLIMIT_NOFILE 32, and a child
 * as UID leaves 64 descriptors in flight on a socketpair nobody reads.
 * Once they are gone, the same maker serves again.
 */
static void inflight_full(const char *path, uid_t uid, gid_t gid)
{
	int first_chan = chan, sv[2], dummy[1], status;
	pid_t first_maker = maker, holder;
	struct mk_request rq;
	struct mk_reply rp;
	unsigned got;
	ssize_t n;

	start_maker(path, uid, gid, 32);
	rq = class_rec(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, 1, MARK0);
	refuses("in flight: a second maker's class 0", &rq, 0);
	rq = req(MK_SEAL);
	refuses("in flight: its seal", &rq, 0);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		check(false, "in flight: socketpair: %s", strerror(errno));
		goto out;
	}
	holder = fork();
	if (holder == 0) {
		int many[64];
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(many))];
		} cm;
		char byte = 0;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
				      .msg_controllen = sizeof(cm.buf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

		for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
			many[i] = STDIN_FILENO;
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(many));
		memcpy(CMSG_DATA(c), many, sizeof(many));
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0 || sendmsg(sv[0], &msg, 0) != 1)
			_exit(1);
		_exit(0); /* the message stays queued: sv[1] is still open */
	}
	if (holder < 0 || waitpid(holder, &status, 0) != holder || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		check(false, "in flight: the holder did not send its 64 descriptors");
		goto out_pair;
	}
	rq = req(MK_MAKE);
	rq.cls = 0;
	rq.count = 2;
	if (send_rec(&rq, sizeof(rq), NULL, 0) < 0) {
		check(false, "in flight: send: %s", strerror(errno));
		goto out_pair;
	}
	n = recv_rep(&rp, dummy, 0, &got);
	check(n == sizeof(rp) && rp.id == rq.id && rp.err == ETOOMANYREFS && rp.nfds == 0 &&
		      got == 0,
	      "in flight: 64 descriptors of its uid in flight, RLIMIT_NOFILE 32: MK_MAKE "
	      "answered ETOOMANYREFS without descriptors (%s, err %s, %u fds)",
	      n ? "answered" : "no answer", rp.err ? strerrorname_np(rp.err) : "0", got);
out_pair:
	close(sv[0]);
	close(sv[1]); /* the queued message goes, and its descriptors with it */
	still_serves("the descriptors in flight left");
out:
	close(chan);
	if (waitpid(maker, &status, 0) != maker || !WIFEXITED(status) || WEXITSTATUS(status))
		check(false, "in flight: the second maker did not exit 0 (status %#x)",
		      (unsigned)status);
	chan = first_chan;
	maker = first_maker;
}

int main(int argc, char **argv)
{
	uid_t uid, uid2;
	gid_t gid, gid2;
	const char *name;
	int status = 0, fds0, fds1;
	pid_t reaped;
	double t;

	if (argc != 4 || drop_user_parse(argv[2], &uid, &gid, &name) || name ||
	    drop_user_parse(argv[3], &uid2, &gid2, &name) || name)
		return fail("usage: e2e_maker MAKER UID:GID UID2:GID2");
	if (geteuid() != 0) {
		if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
			return fail("needs root, and CI runs every privileged test");
		fprintf(stderr, "SKIP: e2e_maker needs root\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	ctl6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (ctl6 < 0)
		return fail("control socket: %s", strerror(errno));

	start_maker(argv[1], uid, gid, 0);
	before_seal();
	proc_state();
	if (ping_seen(ctl6) < 0)
		return fail("the control socket sees no echo reply from ::1: is lo up?");
	drop_control();
	fds0 = count_fds();
	bad_records();
	fds1 = count_fds();
	check(fds0 > 0 && fds1 == fds0, "every descriptor refused or used was closed by the "
	      "maker (%d open before, %d after)", fds0, fds1);
	proc_state();
	inflight_full(argv[1], uid2, gid2);

	/* The front closes: the maker exits 0 (a seccomp kill shows as SIGSYS). */
	close(chan);
	t = now_ms();
	while ((reaped = waitpid(maker, &status, WNOHANG)) == 0 && now_ms() - t < 3000)
		usleep(10000);
	check(reaped == maker && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the maker exits 0 when its channel closes (status %#x%s%s)", (unsigned)status,
	      WIFSIGNALED(status) ? ", signal " : "",
	      WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "");
	if (reaped != maker) {
		kill(maker, SIGKILL);
		waitpid(maker, &status, 0);
	}
	printf("1..%u\n# %u of %u checks failed\n", ntests, nfailed, ntests);
	return nfailed ? 1 : 0;
}
