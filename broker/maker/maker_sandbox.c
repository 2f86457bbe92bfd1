/* SPDX-License-Identifier: MIT */
/*
 * maker_sandbox.c - the socket maker's seccomp allowlist, as data.
 *
 * Loaded after the class table is sealed, so socket() is allowed for
 * exactly the tuples the policy named (family, type with only
 * SOCK_CLOEXEC beside it, protocol), and nothing else: no AF_PACKET, no
 * IPPROTO_RAW, no AF_UNIX.  setsockopt() only for what maker.c sets;
 * no open, no exec, no fork (threads only), native architecture only.
 * Anything else kills the process (the front then stops, see
 * broker/maker_link.c).  Sanitizer builds log instead, as the front's.
 */
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/socket.h>

#include "maker.h"

#define INT_ARG 0xffffffffu
#define TYPE_ARG (INT_ARG & ~(uint32_t)SOCK_CLOEXEC)

#ifdef RB_SANITIZE_BUILD
#define DEFAULT_ACTION SCMP_ACT_LOG
#else
#define DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

static const char *const plain[] = {
	"recvmsg", "sendmsg", "poll", "close", "close_range", "write", "pread64",
	"brk", "mmap", "munmap", "mprotect", "madvise", "futex", "set_robust_list",
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "clock_gettime", "getrandom", "gettid", "getpid",
	"exit", "exit_group",
	/* A poll() with a timeout, interrupted by a stop (SIGSTOP and
	 * SIGCONT, a debugger) resumes through restart_syscall: without it
	 * a maker stopped and continued was killed (found by e2e_static). */
	"restart_syscall",
};
static const char *const optional[] = { "rseq", "ppoll" };

static const struct { int level, name; } opts[] = {
	{ SOL_SOCKET, SO_ATTACH_FILTER }, /* the drop-everything filter */
	{ SOL_SOCKET, SO_ATTACH_BPF },    /* the same, shared (maker_link.c) */
	{ SOL_SOCKET, SO_MARK },          /* a class's mark */
	{ IPPROTO_IPV6, IPV6_HOPOPTS },   /* the option proxy */
	{ IPPROTO_IPV6, IPV6_DSTOPTS },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CMP(i, m, v) SCMP_CMP(i, SCMP_CMP_MASKED_EQ, m, v)

int maker_sandbox_load(const struct mk_class *classes, unsigned n)
{
	scmp_filter_ctx ctx = seccomp_init(DEFAULT_ACTION);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; i < N(plain) && r == 0; i++)
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW,
					   seccomp_syscall_resolve_name(plain[i]), 0);
	for (size_t i = 0; i < N(optional) && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(optional[i]);

		if (nr >= 0)
			r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	for (unsigned i = 0; i < n && r == 0; i++)
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
					   CMP(0, INT_ARG, (uint32_t)classes[i].family),
					   CMP(1, TYPE_ARG, (uint32_t)classes[i].type),
					   CMP(2, INT_ARG, (uint32_t)classes[i].protocol));
	for (size_t i = 0; i < N(opts) && r == 0; i++)
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
					   CMP(1, INT_ARG, (uint32_t)opts[i].level),
					   CMP(2, INT_ARG, (uint32_t)opts[i].name));
	if (r == 0)
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 1,
					   CMP(1, INT_ARG, SOL_SOCKET));
	/* Worker threads only; clone3 hides its flags, so glibc is told
	 * ENOSYS and falls back to clone. */
	if (r == 0)
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
					   SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (r == 0)
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
