/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - the front's own seccomp allowlist, as data (STYLE.md #9).
 *
 * Loaded after the privilege drop and NO_NEW_PRIVS, before the event loop
 * starts (and before the closer threads, which inherit it).  The socket
 * maker has its own, smaller one (maker/maker_sandbox.c).  Anything not
 * in the table kills the whole process (SCMP_ACT_KILL_PROCESS), and only
 * the native architecture is accepted: a call made through another ABI
 * (int 0x80, x32) is a bad architecture and kills too.
 *
 * What the front does once it serves, and so all it may do:
 *  - socket() for no raw, packet or inet socket at all: the maker makes
 *    them.  Only AF_UNIX datagram sockets when it logs to syslog, and
 *    unix stream sockets are refused (below);
 *  - setsockopt() only for the options it sets (the listener's and
 *    connections' SO_PASSRIGHTS and SO_SNDBUF, SO_LINGER before a client's
 *    descriptor is closed, and at hand-off the unprivileged locks and
 *    defaults of a rule: SO_BINDTODEVICE on a socket bound to no device,
 *    the receive filter and its lock or the removal of the maker's drop
 *    filter, buffer sizes); getsockopt() at SOL_SOCKET only;
 *  - open files read-only (SIGHUP reload: the policy, and the NSS files
 *    its user and group names are resolved from); never for writing, never
 *    creating, except with --metrics-file: openat() with exactly
 *    O_CREAT|O_WRONLY|O_TRUNC|O_CLOEXEC, renameat() and unlinkat(), each
 *    only relative to the one directory descriptor opened before the
 *    filter (stats.c): the filter compares the dirfd argument with its
 *    number (AT_FDCWD and every other descriptor are killed).  A filter
 *    cannot read the path: an absolute one would ignore the dirfd, so a
 *    compromised front could still create files wherever the broker's
 *    user (no capability: plain file permissions) may write.  Without
 *    --metrics-file none of this is in the filter;
 *  - the four ioctls of a seccomp listener (usernotif.c: receive a call,
 *    check it is still pending, inject a socket, answer), on no other
 *    request; read-only opens and fstatat under /proc for who a notifying
 *    task is (the read-only opens above);
 *  - epoll, poll (a round trip to the maker; a notify listener's thread
 *    waiting on its listener), signalfd, its closer threads and one thread
 *    per notify listener (clone with CLONE_THREAD only; their eventfds are
 *    made before the filter), memory, time, the stderr log, reaping
 *    its children (the maker, the supervised command); no execve, no fork,
 *    no kill, no ptrace.
 *
 * Every int argument is compared under the mask 0xffffffff: the kernel
 * reads only the low 32 bits, so a full 64-bit compare could be fooled by
 * junk in the upper half (see policy/client_seccomp.c).
 *
 * Two refusals are answers, not kills: clone3() gets ENOSYS, so glibc's
 * pthread_create() falls back to clone(), whose flags a filter can see;
 * and a unix stream socket gets EACCES: glibc's NSS tries nscd and
 * systemd-userdb over one on each lookup, and without them it reads the
 * files (which is what the broker resolves names from; see README).
 *
 * Sanitizer builds (RB_SANITIZE): the ASan/UBSan runtimes need calls the
 * broker never makes (LeakSanitizer's exit-time tracer uses clone and
 * ptrace), so there the default action is SCMP_ACT_LOG: the filter is
 * loaded (Seccomp: 2) and violations are logged by the kernel, not
 * killed.  The production build kills.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h> /* its ioctl numbers: with sys/ioctl.h */
#include <linux/prctl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83 /* Linux 6.16 */
#endif

#define INT_ARG 0xffffffffu
/* The socket type without the two flags the broker uses: any other bit
 * (another flag, a type above 0xf) makes the compare fail. */
#define TYPE_ARG (INT_ARG & ~(uint32_t)(SOCK_CLOEXEC | SOCK_NONBLOCK))
/* open flags that write, create or truncate: all must be clear.  (O_TMPFILE
 * is its own bit plus O_DIRECTORY, which reading a directory needs.) */
#define WRITE_FLAGS (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | (__O_TMPFILE & ~O_DIRECTORY))

#ifdef RB_SANITIZE_BUILD
#define DEFAULT_ACTION SCMP_ACT_LOG
#else
#define DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

enum when {
	ALWAYS,
	SYSLOG,    /* only with sandbox_opts.syslog */
	METRICS,   /* only with sandbox_opts.metrics */
};

/* In a METRICS rule's compare: the metrics directory's descriptor. */
#define DIRFD UINT64_MAX
#define METRICS_FLAGS (O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC)

struct sb_cmp {
	unsigned arg;
	uint64_t mask, value; /* (arg & mask) == value */
};

struct sb_rule {
	const char *name;
	uint32_t action;
	enum when when;
	unsigned ncmp;
	struct sb_cmp cmp[3];
	bool optional; /* not every architecture has it */
};

#define ALLOW SCMP_ACT_ALLOW
#define A(nm) { nm, ALLOW, ALWAYS, 0, { { 0 } }, false }
#define A_OPT(nm) { nm, ALLOW, ALWAYS, 0, { { 0 } }, true }
#define SOCK(fam, type, proto)                                                 \
	{ "socket", ALLOW, ALWAYS, 3,                                          \
	  { { 0, INT_ARG, fam }, { 1, TYPE_ARG, type }, { 2, INT_ARG, proto } }, \
	  false }
#define IOCTL(req) { "ioctl", ALLOW, ALWAYS, 1, { { 1, INT_ARG, req } }, false }
#define SOCKOPT(level, opt)                                                    \
	{ "setsockopt", ALLOW, ALWAYS, 2,                                      \
	  { { 1, INT_ARG, level }, { 2, INT_ARG, opt } }, false }

static const struct sb_rule rules[] = {
	/* The event loop: epoll, signalfd, the listener, the connections. */
	A("epoll_wait"), A_OPT("epoll_pwait"), A("epoll_ctl"), A("epoll_create1"),
	A("signalfd4"), A("rt_sigprocmask"), A("rt_sigaction"), A("rt_sigreturn"), A("restart_syscall"),
	A("accept4"), A("recvmsg"), A("sendmsg"), A("read"), A("write"), A("close"),
	A("close_range"), /* closer.c: granted sockets' copies, a run at a time */
	A("fcntl"), A("bind"), /* bind: a client socket's source */
	A("poll"), A_OPT("ppoll"), /* a synchronous round trip to the maker */
	A("unlink"), /* shutdown: the socket file, where the directory lets us */
	{ "getsockopt", ALLOW, ALWAYS, 1, { { 1, INT_ARG, SOL_SOCKET } }, false },

	/* NSS's nscd and systemd-userdb clients: refused, not killed. */
	{ "socket", SCMP_ACT_ERRNO(EACCES), ALWAYS, 2,
	  { { 0, INT_ARG, AF_UNIX }, { 1, TYPE_ARG, SOCK_STREAM } }, false },

	/* The options it sets, nothing else. */
	SOCKOPT(SOL_SOCKET, SO_PASSRIGHTS),    /* server.c: descriptors refused */
	SOCKOPT(SOL_SOCKET, SO_SNDBUF),        /* server.c; a rule's default */
	SOCKOPT(SOL_SOCKET, SO_RCVBUF),        /* a rule's default */
	SOCKOPT(SOL_SOCKET, SO_LINGER),        /* frame.c: reset before close */
	SOCKOPT(SOL_SOCKET, SO_BINDTODEVICE),  /* a rule's lock (first bind: no privilege) */
	SOCKOPT(SOL_SOCKET, SO_ATTACH_FILTER), /* a rule's receive lock ... */
	SOCKOPT(SOL_SOCKET, SO_LOCK_FILTER),   /* ... locked */
	SOCKOPT(SOL_SOCKET, SO_DETACH_FILTER), /* no receive lock: the maker's filter goes */

	/* SIGHUP reload: read-only opens of the policy and the NSS files. */
	{ "openat", ALLOW, ALWAYS, 1, { { 2, WRITE_FLAGS, 0 } }, false },
	A_OPT("newfstatat"), A_OPT("fstat"), A("lseek"), A("pread64"), A("readlinkat"),
	A("getdents64"), /* nss_systemd lists /run/systemd/userdb */
	/* nss_systemd reads the bounding set (cap_last_cap). */
	{ "prctl", ALLOW, ALWAYS, 1, { { 0, INT_ARG, PR_CAPBSET_READ } }, false },
	/* The state check after loading (privdrop.c): /proc/self/status. */

	/* Memory, threads, time, exit. */
	A("brk"), A("mmap"), A("munmap"), A("mremap"), A("mprotect"), A("madvise"),
	A("futex"), A("set_robust_list"), A_OPT("rseq"), A("getrandom"),
	{ "clone", ALLOW, ALWAYS, 1, { { 0, CLONE_THREAD, CLONE_THREAD } }, false },
	{ "clone3", SCMP_ACT_ERRNO(ENOSYS), ALWAYS, 0, { { 0 } }, true },
	A("clock_gettime"), A("gettid"), A("getpid"),
	A("exit"), A("exit_group"),

	/* syslog (log.c): its datagram socket, (re)connect, send. */
	{ "socket", ALLOW, SYSLOG, 3,
	  { { 0, INT_ARG, AF_UNIX }, { 1, TYPE_ARG, SOCK_DGRAM }, { 2, INT_ARG, 0 } }, false },
	{ "connect", ALLOW, SYSLOG, 0, { { 0 } }, false },
	{ "sendto", ALLOW, SYSLOG, 0, { { 0 } }, false },

	/* --metrics-file (stats.c): the temporary file, created in the
	 * metrics directory only, renamed over the file, or removed after a
	 * failed write; no other flags, no other directory descriptor. */
	{ "openat", ALLOW, METRICS, 2,
	  { { 0, INT_ARG, DIRFD }, { 2, INT_ARG, METRICS_FLAGS } }, false },
	{ "renameat", ALLOW, METRICS, 2, { { 0, INT_ARG, DIRFD }, { 2, INT_ARG, DIRFD } }, false },
	{ "unlinkat", ALLOW, METRICS, 2, { { 0, INT_ARG, DIRFD }, { 2, INT_ARG, 0 } }, false },

	/* seccomp user notification (usernotif.c): take a call, check it is
	 * still pending, inject the socket, or answer; nothing else. */
	IOCTL(SECCOMP_IOCTL_NOTIF_RECV), IOCTL(SECCOMP_IOCTL_NOTIF_SEND),
	IOCTL(SECCOMP_IOCTL_NOTIF_ID_VALID), IOCTL(SECCOMP_IOCTL_NOTIF_ADDFD),

	/* Reap the maker, the supervised command's relay, orphans as PID 1. */
	A("wait4"), A("waitid"),
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))

static int build(scmp_filter_ctx *out, const struct sandbox_opts *o)
{
	scmp_filter_ctx ctx = seccomp_init(DEFAULT_ACTION);
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	/* Only the native architecture: libseccomp's default for init; any
	 * other ABI is SCMP_ACT_KILL_PROCESS. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; i < NRULES && r == 0; i++) {
		const struct sb_rule *rule = &rules[i];
		struct scmp_arg_cmp cmp[3];
		int nr;

		if ((rule->when == SYSLOG && !o->syslog) ||
		    (rule->when == METRICS && (!o->metrics || o->metrics_dirfd < 0)))
			continue;
		nr = seccomp_syscall_resolve_name(rule->name);
		if (nr == __NR_SCMP_ERROR || nr < 0) {
			if (rule->optional)
				continue;
			r = -EINVAL;
			break;
		}
		for (unsigned c = 0; c < rule->ncmp; c++)
			cmp[c] = SCMP_CMP(rule->cmp[c].arg, SCMP_CMP_MASKED_EQ, rule->cmp[c].mask,
					  rule->cmp[c].value == DIRFD ?
					  (uint64_t)(uint32_t)o->metrics_dirfd : rule->cmp[c].value);
		r = seccomp_rule_add_exact_array(ctx, rule->action, nr, rule->ncmp, cmp);
	}
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

int sandbox_print(FILE *out, const struct sandbox_opts *o)
{
	scmp_filter_ctx ctx;
	int r = build(&ctx, o);

	if (r < 0)
		return r;
	fflush(out);
	r = seccomp_export_pfc(ctx, fileno(out));
	seccomp_release(ctx);
	return r;
}

void sandbox_load(const struct sandbox_opts *o)
{
	scmp_filter_ctx ctx;
	int r;

	/* Have glibc load its NSS modules (and read nsswitch.conf) now: a
	 * later lookup (SIGHUP reload) then maps no new library.  Unknown
	 * names, so every module of the passwd and group lines is asked. */
	(void)getpwnam(".rawbroker-nss-warm-up");
	(void)getgrnam(".rawbroker-nss-warm-up");
	r = build(&ctx, o);
	if (r < 0) {
		errno = -r;
		fatal("build the seccomp sandbox");
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		errno = -r;
		fatal("load the seccomp sandbox");
	}
}
