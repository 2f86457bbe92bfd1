/* SPDX-License-Identifier: MIT */
/*
 * preload.c - librawbroker-preload.so: raw ICMP sockets for unmodified
 * programs, through LD_PRELOAD.  See librawbroker(3) and README.md.
 *
 * Interposes socket().  The real call runs first, so a process that holds
 * CAP_NET_RAW (root, root in a user namespace) is untouched.  Only when it
 * fails with EPERM or EACCES for a tuple the broker serves (raw ICMP,
 * ICMPv6, UDP, TCP) is the broker asked; if the broker cannot help, the caller sees the original error and
 * errno, exactly as without the shim.
 *
 * Interposes setsockopt() for IPV6_HOPOPTS and IPV6_DSTOPTS, which the
 * kernel checks for CAP_NET_RAW at call time: on EPERM the broker sets them,
 * policy permitting; a call that changes nothing is answered without the
 * broker (see below).
 *
 * Opt-in, for daemons with their own privilege separation (scamper):
 * RAWBROKER_PRIVSEP=1 makes chroot() and the set*id()/setgroups() calls
 * that fail with EPERM succeed without effect, but only towards the
 * caller's own ids or nobody/nogroup (see harmless_*() below), and only in
 * a process with no root id and no capability at all.  The process stays
 * what it was: an unprivileged user with no capabilities, so there is
 * nothing it believed it dropped and still holds.
 *
 * A socket() the broker refuses for its rate limit fails with EAGAIN, as
 * rb_socket() does: a program (and whoever reads its error) can tell "try
 * again later" from a denial.  Every other broker answer or failure leaves
 * the original errno.
 *
 * Opt-in: RAWBROKER_DEBUG=1 writes one line per decision to stderr.
 * Otherwise the shim never prints, never aborts, and in set-id programs
 * (AT_SECURE) does nothing at all.
 */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawbroker.h"
#include "rb_private.h"

#define RB_EXPORT __attribute__((visibility("default")))
#define NOBODY_FALLBACK 65534u

/* Settings, read once; inert in set-id processes (secure_getenv). */
static bool flag_env(const char *name)
{
	const char *v = secure_getenv(name);

	return v && strcmp(v, "1") == 0;
}

static bool debug_on(void)
{
	static _Atomic int state; /* 0 unknown, 1 off, 2 on */
	int s = atomic_load_explicit(&state, memory_order_relaxed);

	if (!s) {
		s = flag_env("RAWBROKER_DEBUG") ? 2 : 1;
		atomic_store_explicit(&state, s, memory_order_relaxed);
	}
	return s == 2;
}

static bool privsep_on(void)
{
	static _Atomic int state;
	int s = atomic_load_explicit(&state, memory_order_relaxed);

	if (!s) {
		s = flag_env("RAWBROKER_PRIVSEP") ? 2 : 1;
		atomic_store_explicit(&state, s, memory_order_relaxed);
	}
	return s == 2;
}

static void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void debug(const char *fmt, ...)
{
	char line[384];
	int saved = errno, n;
	va_list ap;

	if (!debug_on())
		return;
	n = snprintf(line, sizeof(line), "rawbroker-preload[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) /* best effort */
		errno = saved;
	errno = saved;
}

/* The next definition of NAME (libc's), looked up once. */
#define NEXT(type, name, fallback)                                              \
	static type next_##name(void)                                           \
	{                                                                       \
		static _Atomic(type) cached;                                    \
		type f = atomic_load_explicit(&cached, memory_order_acquire);   \
                                                                                \
		if (!f) {                                                       \
			f = (type)dlsym(RTLD_NEXT, #name);                      \
			if (!f)                                                 \
				f = fallback;                                   \
			atomic_store_explicit(&cached, f, memory_order_release); \
		}                                                               \
		return f;                                                       \
	}

typedef int (*socket_fn)(int, int, int);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef int (*chroot_fn)(const char *);
typedef int (*id1_fn)(unsigned);
typedef int (*id2_fn)(unsigned, unsigned);
typedef int (*id3_fn)(unsigned, unsigned, unsigned);
typedef int (*setgroups_fn)(size_t, const gid_t *);

/* Fallbacks if no libc symbol follows us: the raw system calls. */
static int sys_socket(int d, int t, int p) { return (int)syscall(SYS_socket, d, t, p); }
static int sys_setsockopt(int f, int l, int n, const void *v, socklen_t s)
{
	return (int)syscall(SYS_setsockopt, f, l, n, v, s);
}
static int sys_chroot(const char *p) { return (int)syscall(SYS_chroot, p); }
static int sys_setuid(unsigned a) { return (int)syscall(SYS_setuid, a); }
static int sys_setgid(unsigned a) { return (int)syscall(SYS_setgid, a); }
static int sys_seteuid(unsigned a) { return (int)syscall(SYS_setresuid, -1, a, -1); }
static int sys_setegid(unsigned a) { return (int)syscall(SYS_setresgid, -1, a, -1); }
static int sys_setreuid(unsigned a, unsigned b) { return (int)syscall(SYS_setreuid, a, b); }
static int sys_setregid(unsigned a, unsigned b) { return (int)syscall(SYS_setregid, a, b); }
static int sys_setresuid(unsigned a, unsigned b, unsigned c) { return (int)syscall(SYS_setresuid, a, b, c); }
static int sys_setresgid(unsigned a, unsigned b, unsigned c) { return (int)syscall(SYS_setresgid, a, b, c); }
static int sys_setgroups(size_t n, const gid_t *l) { return (int)syscall(SYS_setgroups, n, l); }

NEXT(socket_fn, socket, sys_socket)
NEXT(setsockopt_fn, setsockopt, sys_setsockopt)
NEXT(chroot_fn, chroot, sys_chroot)
NEXT(id1_fn, setuid, sys_setuid)
NEXT(id1_fn, setgid, sys_setgid)
NEXT(id1_fn, seteuid, sys_seteuid)
NEXT(id1_fn, setegid, sys_setegid)
NEXT(id2_fn, setreuid, sys_setreuid)
NEXT(id2_fn, setregid, sys_setregid)
NEXT(id3_fn, setresuid, sys_setresuid)
NEXT(id3_fn, setresgid, sys_setresgid)
NEXT(setgroups_fn, setgroups, sys_setgroups)

/* ---- socket() ---- */

/* The tuples the broker can serve (policy permitting): raw ICMP, raw
 * ICMPv6, and raw UDP/TCP where a rule opts in. */
static int brokered(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (base != SOCK_RAW || (domain != AF_INET && domain != AF_INET6))
		return 0;
	return (domain == AF_INET && protocol == IPPROTO_ICMP) ||
	       (domain == AF_INET6 && protocol == IPPROTO_ICMPV6) ||
	       protocol == IPPROTO_UDP || protocol == IPPROTO_TCP;
}

RB_EXPORT int socket(int domain, int type, int protocol)
{
	struct rb_request rq = { .domain = domain, .type = type, .protocol = protocol };
	struct rb_result res;
	int fd = next_socket()(domain, type, protocol);
	int saved = errno;

	if (fd >= 0 || (saved != EPERM && saved != EACCES) ||
	    !brokered(domain, type, protocol) || getauxval(AT_SECURE))
		return fd;
	fd = rb_socket_request(&rq, debug_on() ? &res : NULL);
	if (fd < 0 && errno == EAGAIN) {
		/* Not a denial: the caller is over its rule's rate (or holds its
		 * rule's connections); the broker would grant it, later. */
		debug("socket(%d, %#x, %d): %s; broker: RATE LIMITED (a rate or connection "
		      "limit), failing with EAGAIN (try again later): %s",
		      domain, type, protocol, strerror(saved), res.reason);
		errno = EAGAIN;
		return -1;
	}
	if (fd < 0) {
		debug("socket(%d, %#x, %d): %s; broker: %s (%s); failing with the original error",
		      domain, type, protocol, strerror(saved), strerror(errno), res.reason);
		errno = saved;
		return -1;
	}
	debug("socket(%d, %#x, %d): %s; broker granted fd %d (rule %s)", domain, type,
	      protocol, strerror(saved), fd, res.rule);
	return fd;
}

/* ---- setsockopt(): options the kernel checks for CAP_NET_RAW ---- */

/*
 * IPv6 hop-by-hop and destination options need CAP_NET_RAW when they are
 * set, even to clear them.  Without the broker such a call fails with
 * EPERM, and a probe that ignores the error would measure without its
 * extension headers and never know.  So on EPERM the broker is asked: the
 * option then takes effect, or the call still fails with EPERM and the
 * broker's audit log says why.
 */

/* Set once the kernel has refused one of these options to this process
 * (EPERM).  A process without CAP_NET_RAW in its permitted set cannot
 * regain it short of execve(), which starts the shim afresh; one that can
 * raise it again loses nothing either, since only calls that change
 * nothing are answered early. */
static _Atomic bool option_refused;

RB_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	struct rb_result res;
	int before = errno, r, saved;
	bool privileged_option =
		level == IPPROTO_IPV6 && (name == IPV6_HOPOPTS || name == IPV6_DSTOPTS);

	/*
	 * Clearing an option that is not set, or setting the value it has,
	 * changes nothing in the kernel.  Once the kernel has refused this
	 * process these options, such a call is answered here with one
	 * getsockopt(), before the real call that would fail anyway: a probe
	 * that clears both options before every packet (RIPE Atlas) pays what
	 * it pays as root, one system call each, not a refused call and a
	 * broker round trip inside its measured time.  Until then (and always
	 * in a process that holds the capability) the real call runs first.
	 */
	if (privileged_option && atomic_load_explicit(&option_refused, memory_order_relaxed) &&
	    !getauxval(AT_SECURE) && rb_option_already(fd, level, name, value, len)) {
		debug("setsockopt(%d, IPPROTO_IPV6, %d, %u bytes): already so; nothing to "
		      "change, the broker was not asked", fd, name, (unsigned)len);
		errno = before;
		return 0;
	}
	r = next_setsockopt()(fd, level, name, value, len);
	saved = errno;
	if (r == 0 || saved != EPERM || !privileged_option || getauxval(AT_SECURE))
		return r;
	atomic_store_explicit(&option_refused, true, memory_order_relaxed);
	/* No-ops are answered in the library too (rb_option_already()): the
	 * broker is asked only to change something. */
	if (rb_setsockopt_request(fd, level, name, value, len, debug_on() ? &res : NULL) == 0) {
		debug("setsockopt(%d, IPPROTO_IPV6, %d, %u bytes): %s; %s%s", fd, name,
		      (unsigned)len, strerror(saved), res.rule[0] ? "set by the broker, rule " : "",
		      res.rule[0] ? res.rule : res.reason);
		errno = before;
		return 0;
	}
	debug("setsockopt(%d, IPPROTO_IPV6, %d, %u bytes): %s; broker: %s (%s)", fd, name,
	      (unsigned)len, strerror(saved), strerror(errno), res.reason);
	errno = saved;
	return -1;
}

/* ---- privilege separation, opt-in ---- */

static unsigned nobody_id(bool group)
{
	static _Atomic unsigned uid, gid; /* 0: not looked up yet */
	_Atomic unsigned *slot = group ? &gid : &uid;
	unsigned v = atomic_load(slot);

	if (!v) {
		char buf[1024];

		v = NOBODY_FALLBACK;
		if (group) {
			struct group gr, *g = NULL;

			if (getgrnam_r("nogroup", &gr, buf, sizeof(buf), &g) == 0 && g)
				v = g->gr_gid;
		} else {
			struct passwd pw, *p = NULL;

			if (getpwnam_r("nobody", &pw, buf, sizeof(buf), &p) == 0 && p)
				v = p->pw_uid;
		}
		atomic_store(slot, v);
	}
	return v;
}

/* An id the program may "switch" to without effect: unchanged (-1), one it
 * already has, or nobody's. */
static bool harmless_uid(unsigned id)
{
	uid_t r, e, s;

	if (id == (unsigned)-1 || id == nobody_id(false))
		return true;
	getresuid(&r, &e, &s);
	return id == r || id == e || id == s;
}

static bool harmless_gid(unsigned id)
{
	gid_t r, e, s;

	if (id == (unsigned)-1 || id == nobody_id(true))
		return true;
	getresgid(&r, &e, &s);
	return id == r || id == e || id == s;
}

/* A process with any uid or gid 0 is root, or was: it is never told it
 * dropped privileges it may still hold (a root container without
 * CAP_SETUID would believe it became nobody). */
static bool any_root_id(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	return !ru || !eu || !su || !rg || !eg || !sg;
}

/* Does the process hold any capability: effective, permitted or
 * inheritable (ambient ones are in permitted too)?  Such a process (a
 * container user given CAP_NET_ADMIN, a daemon started with ambient
 * capabilities) is never told it dropped privileges: it still holds them.
 * If the kernel cannot say, assume it does. */
static bool any_capability(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return true;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return true;
	return false;
}

/* The real call failed with EPERM in privsep mode: report success without
 * effect.  BEFORE is errno before the call. */
static int pretend(int before, const char *what)
{
	debug("%s: Operation not permitted; RAWBROKER_PRIVSEP=1, so reporting success "
	      "without effect", what);
	errno = before;
	return 0;
}

/* Call the real function.  Only when it failed with EPERM, privsep mode is
 * on, the process has no root id and no capability, and HARMLESS holds
 * (judged only then: it may look up nobody in NSS) is the failure turned
 * into success. */
#define PRIVSEP_CALL(call, harmless, what)                                        \
	do {                                                                      \
		int before_ = errno, r_ = (call), err_ = errno;                   \
                                                                                  \
		if (r_ == 0 || err_ != EPERM || !privsep_on() || getauxval(AT_SECURE) || \
		    any_root_id() || any_capability() || !(harmless)) {           \
			errno = err_;                                             \
			return r_;                                                \
		}                                                                 \
		return pretend(before_, what);                                    \
	} while (0)

RB_EXPORT int chroot(const char *path)
{
	PRIVSEP_CALL(next_chroot()(path), true, "chroot");
}

RB_EXPORT int setuid(uid_t u)
{
	PRIVSEP_CALL(next_setuid()(u), harmless_uid(u), "setuid");
}

RB_EXPORT int seteuid(uid_t u)
{
	PRIVSEP_CALL(next_seteuid()(u), harmless_uid(u), "seteuid");
}

RB_EXPORT int setreuid(uid_t a, uid_t b)
{
	PRIVSEP_CALL(next_setreuid()(a, b), harmless_uid(a) && harmless_uid(b), "setreuid");
}

RB_EXPORT int setresuid(uid_t a, uid_t b, uid_t c)
{
	PRIVSEP_CALL(next_setresuid()(a, b, c),
		     harmless_uid(a) && harmless_uid(b) && harmless_uid(c), "setresuid");
}

RB_EXPORT int setgid(gid_t g)
{
	PRIVSEP_CALL(next_setgid()(g), harmless_gid(g), "setgid");
}

RB_EXPORT int setegid(gid_t g)
{
	PRIVSEP_CALL(next_setegid()(g), harmless_gid(g), "setegid");
}

RB_EXPORT int setregid(gid_t a, gid_t b)
{
	PRIVSEP_CALL(next_setregid()(a, b), harmless_gid(a) && harmless_gid(b), "setregid");
}

RB_EXPORT int setresgid(gid_t a, gid_t b, gid_t c)
{
	PRIVSEP_CALL(next_setresgid()(a, b, c),
		     harmless_gid(a) && harmless_gid(b) && harmless_gid(c), "setresgid");
}

/* Harmless: only ids the caller has as gid, or nogroup (or none).  The
 * process keeps the supplementary groups it had.  A list the kernel would
 * not read (NULL, or longer than NGROUPS_MAX) is not looked at. */
static bool harmless_groups(size_t n, const gid_t *list)
{
	if (n > 65536 || (n && !list))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!harmless_gid(list[i]))
			return false;
	return true;
}

RB_EXPORT int setgroups(size_t n, const gid_t *list)
{
	PRIVSEP_CALL(next_setgroups()(n, list), harmless_groups(n, list), "setgroups");
}
