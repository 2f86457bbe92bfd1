/* SPDX-License-Identifier: MIT */
/*
 * client_seccomp.c - the client confinement profile, as data (STYLE.md #9).
 *
 * One static table of rules is the only description of the profile; the
 * PFC and OCI writers below only walk it, and so does the CLI's --base
 * merge (cli_seccomp_merge.c, which alone links jansson).  Every rule denies with EPERM and
 * everything else is allowed: this profile is a complement to the container
 * runtime's own, not a sandbox by itself (see rawbroker-policy(1)), and
 * --base merges it into the runtime's default profile.  That is
 * why it is a denylist where STYLE.md #9 says "kill by default": that rule
 * is for our own sandboxes, whose every call we know; a client is any
 * program, and the runtime's profile is the allowlist around it.
 *
 * Why EPERM, not a kill: it is what the calls return to an unprivileged
 * process anyway.  The shim sends a raw socket() that fails with EPERM to
 * the broker, and iputils ping carries on, with a warning, when it cannot
 * attach its socket filter.
 *
 * Why every comparison is (arg & mask) == value: the kernel reads an int
 * argument from the low 32 bits of its register.  A plain EQ compares all
 * 64, so a raw syscall() with junk in the upper half (level 0x100000000 is
 * level 0 to the kernel) would slip past it.  Int arguments are therefore
 * compared under the mask 0xffffffff, and the socket type under the
 * kernel's SOCK_TYPE_MASK, so SOCK_NONBLOCK and SOCK_CLOEXEC do not hide a
 * SOCK_RAW either.
 */
#include <errno.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h> /* memfd_create() */
#include <sys/socket.h>
#include <unistd.h>

#include "client_seccomp.h"
#include "client_seccomp_impl.h"

const struct sc_rule rb_sc_rules[] = {
	/*
	 * Sending side of a raw socket the broker handed out.  Header writing:
	 * every (level, option) pair the kernel takes for it, read from
	 * net/ipv4/raw.c and net/ipv6/raw.c (Linux 6.1):
	 *   AF_INET  raw: raw_setsockopt() hands any level but SOL_RAW to
	 *          ip_setsockopt(): (SOL_IP 0, IP_HDRINCL 3).  At SOL_RAW,
	 *          do_raw_setsockopt() knows only ICMP_FILTER: (SOL_RAW,
	 *          IP_HDRINCL) is ENOPROTOOPT.
	 *   AF_INET6 raw: rawv6_setsockopt() passes SOL_RAW, and SOL_IPV6 for
	 *          IPV6_CHECKSUM and IPV6_HDRINCL, to do_rawv6_setsockopt():
	 *          (SOL_IPV6 41, IPV6_HDRINCL 36) and (SOL_RAW 255,
	 *          IPV6_HDRINCL 36).  ipv6_setsockopt() refuses SOL_IP on a
	 *          raw socket (ENOPROTOOPT).
	 * (IPPROTO_RAW sockets write headers without the option: the socket()
	 * rules below keep the process from making any raw socket.)
	 * e2e_seccomp_holes enumerates levels 0-300 and options 0-100 on both
	 * families and fails if the kernel takes any pair not listed here.
	 */
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IP }, { 2, INT_ARG, IP_HDRINCL } }, 2,
	  false, UNLESS_HDRINCL, "IP_HDRINCL: the process would write the IPv4 header, source included", false },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_HDRINCL } }, 2,
	  false, UNLESS_HDRINCL, "IPV6_HDRINCL: the process would write the IPv6 header, source included", false },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_RAW }, { 2, INT_ARG, IPV6_HDRINCL } }, 2,
	  false, UNLESS_HDRINCL,
	  "IPV6_HDRINCL at level SOL_RAW: rawv6_setsockopt() takes it there too", false },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IP }, { 2, INT_ARG, IP_FREEBIND } }, 2,
	  false, ALWAYS, "IP_FREEBIND: bind to an address that is not local", false },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_FREEBIND } }, 2,
	  false, ALWAYS, "IPV6_FREEBIND: bind to an address that is not local", false },
	/* The error queue: with RECVERR a raw socket queues the ICMP errors
	 * about every packet of its protocol in the namespace (raw_err(),
	 * rawv6_err()), other users' included, and MSG_ERRQUEUE reads them
	 * past the locked receive filter, which never sees that queue.
	 * Without RECVERR nothing is queued on a raw socket (only sk_err is
	 * set, on a connected one), so refusing RECVERR closes it; the
	 * RFC 4884 variants only change the format of what RECVERR queues,
	 * and MSG_ERRQUEUE then finds an empty queue.  Only for rules with
	 * 'receive' ('recverr deny'): traceroute -I and ping set it. */
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IP }, { 2, INT_ARG, IP_RECVERR } }, 2,
	  false, IF_DENY_RECVERR, "IP_RECVERR: read ICMP errors past the locked receive filter", false },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_RECVERR } }, 2,
	  false, IF_DENY_RECVERR, "IPV6_RECVERR: read ICMPv6 errors past the locked receive filter", false },
	/* Socket filters: a later version may lock one on the socket. */
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_FILTER } }, 2,
	  false, ALWAYS, "SO_ATTACH_FILTER: replace the socket's receive filter", false },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_DETACH_FILTER } }, 2,
	  false, ALWAYS, "SO_DETACH_FILTER: remove the socket's receive filter", false },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_BPF } }, 2,
	  false, ALWAYS, "SO_ATTACH_BPF: replace the socket's receive filter", false },
	{ { "setsockopt" },
	  { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_REUSEPORT_CBPF } }, 2,
	  false, ALWAYS, "SO_ATTACH_REUSEPORT_CBPF: a socket filter by another name", false },
	{ { "setsockopt" },
	  { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_REUSEPORT_EBPF } }, 2,
	  false, ALWAYS, "SO_ATTACH_REUSEPORT_EBPF: a socket filter by another name", false },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_LOCK_FILTER } }, 2,
	  false, ALWAYS, "SO_LOCK_FILTER: lock or unlock the socket's filter", false },
	/*
	 * Raw and link-layer sockets of its own, should it hold CAP_NET_RAW.
	 * SOCK_RAW is refused in every family below 64 but AF_NETLINK (16),
	 * written as five aligned blocks of families, each one MASKED_EQ on
	 * the family: AF_NETLINK's SOCK_RAW is the ordinary netlink socket
	 * (the same as its SOCK_DGRAM, no privilege), and getifaddrs(),
	 * glibc's getaddrinfo(AI_ADDRCONFIG) and Go's net.Interfaces() open
	 * one: `ping -I lo` failed under the profile when the rule was "SOCK_RAW
	 * of any family".  Why blocks and not "family != 16": libseccomp 2.5
	 * tests a call's rules on one argument MASKED_EQ first and ranges
	 * (NE, LT, GE) after, and mis-merges a range that overlaps another
	 * one of a different action (--base's catch-all ALLOW "a0 >= 0"
	 * makes socket(AF_NETLINK, SOCK_RAW) EPERM beside a denial "a0 >= 17",
	 * and libseccomp refuses a denial "a0 > 16" there with EEXIST).  Only
	 * MASKED_EQ leaves the notify entries of a notify profile (exact
	 * family, type and protocol) and the catch-all apart: a served tuple
	 * is tested on its exact family first, any other raw one falls to its
	 * block.  Families 64 and up do not exist (AF_MAX is 46 in Linux
	 * 6.18): the kernel answers EAFNOSUPPORT.  e2e_seccomp checks netlink
	 * sockets and getifaddrs() work and root's AF_XDP raw socket does not.
	 */
	{ { "socket" }, { { 0, INT_ARG, AF_PACKET } }, 1,
	  false, ALWAYS, "AF_PACKET: link-layer sockets", false },
	{ { "socket" }, { { 0, 0xfffffff0u, 0 }, { 1, SOCK_TYPE_MASK, SOCK_RAW } }, 2,
	  false, ALWAYS, "SOCK_RAW of families 0-15, AF_INET and AF_INET6 among them: raw sockets "
	  "come from the broker (EPERM sends the shim there)", false },
	{ { "socket" }, { { 0, 0xfffffffeu, 18 }, { 1, SOCK_TYPE_MASK, SOCK_RAW } }, 2,
	  false, ALWAYS, "SOCK_RAW of families 18-19 (not AF_NETLINK, 16)", false },
	{ { "socket" }, { { 0, 0xfffffffcu, 20 }, { 1, SOCK_TYPE_MASK, SOCK_RAW } }, 2,
	  false, ALWAYS, "SOCK_RAW of families 20-23", false },
	{ { "socket" }, { { 0, 0xfffffff8u, 24 }, { 1, SOCK_TYPE_MASK, SOCK_RAW } }, 2,
	  false, ALWAYS, "SOCK_RAW of families 24-31", false },
	{ { "socket" }, { { 0, 0xffffffe0u, 32 }, { 1, SOCK_TYPE_MASK, SOCK_RAW } }, 2,
	  false, ALWAYS, "SOCK_RAW of families 32-63, AF_XDP (44) among them", false },
	/* Notify profiles only (client_seccomp.h): the broker answers these. */
	{ { "socket" },
	  { { 0, INT_ARG, AF_INET }, { 1, SOCK_TYPE_MASK, SOCK_DGRAM }, { 2, INT_ARG, IPPROTO_ICMP } }, 3,
	  false, IF_NOTIFY_DGRAM4, "ICMP datagram socket: the broker serves it, or lets the kernel decide", true },
	{ { "socket" },
	  { { 0, INT_ARG, AF_INET6 }, { 1, SOCK_TYPE_MASK, SOCK_DGRAM }, { 2, INT_ARG, IPPROTO_ICMPV6 } }, 3,
	  false, IF_NOTIFY_DGRAM6, "ICMPv6 datagram socket: the broker serves it, or lets the kernel decide", true },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_HOPOPTS } }, 2,
	  false, IF_NOTIFY, "IPV6_HOPOPTS needs CAP_NET_RAW: the broker's option proxy", true },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_DSTOPTS } }, 2,
	  false, IF_NOTIFY, "IPV6_DSTOPTS needs CAP_NET_RAW: the broker's option proxy", true },
	/* The kernel turns it into AF_PACKET for AF_INET alone (AF_PACKET is
	 * refused above, other families do not know the type). */
	{ { "socket" }, { { 0, INT_ARG, AF_INET }, { 1, SOCK_TYPE_MASK, SOCK_PACKET } }, 2,
	  false, ALWAYS, "SOCK_PACKET: the obsolete link-layer socket of AF_INET", false },
	/* Another process's memory and descriptors. */
	{ { "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd" }, { { 0 } }, 0,
	  false, ALWAYS, "reach into another process, or take its descriptors", false },
	/* io_uring creates sockets (Linux 5.19) and sets any socket option
	 * (6.7) with no system call a filter could see. */
	{ { "io_uring_setup", "io_uring_enter", "io_uring_register" }, { { 0 } }, 0,
	  false, ALWAYS, "io_uring: socket() and setsockopt() that seccomp cannot filter", false },
	/* Its arguments are in memory, where a filter cannot read them. */
	{ { "socketcall" }, { { 0 } }, 0,
	  true, ALWAYS, "socketcall: every socket call at once, arguments unfilterable", false },
};

const size_t rb_sc_nrules = sizeof(rb_sc_rules) / sizeof(rb_sc_rules[0]);

static const struct arch_set arch_sets[] = {
	{ SCMP_ARCH_X86_64, { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 } },
	{ SCMP_ARCH_X86, { SCMP_ARCH_X86 } },
	{ SCMP_ARCH_AARCH64, { SCMP_ARCH_AARCH64, SCMP_ARCH_ARM } },
	{ SCMP_ARCH_ARM, { SCMP_ARCH_ARM } },
	{ SCMP_ARCH_PPC64LE, { SCMP_ARCH_PPC64LE } },
	{ SCMP_ARCH_S390X, { SCMP_ARCH_S390X, SCMP_ARCH_S390 } },
	{ SCMP_ARCH_RISCV64, { SCMP_ARCH_RISCV64 } },
};

static const struct {
	uint32_t arch;
	const char *name;
} arch_names[] = {
	{ SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64" },
	{ SCMP_ARCH_X86, "SCMP_ARCH_X86" },
	{ SCMP_ARCH_X32, "SCMP_ARCH_X32" },
	{ SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64" },
	{ SCMP_ARCH_ARM, "SCMP_ARCH_ARM" },
	{ SCMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE" },
	{ SCMP_ARCH_S390X, "SCMP_ARCH_S390X" },
	{ SCMP_ARCH_S390, "SCMP_ARCH_S390" },
	{ SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64" },
};

static const char *arch_name(uint32_t arch)
{
	for (size_t i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++)
		if (arch_names[i].arch == arch)
			return arch_names[i].name;
	return NULL;
}

/*
 * The number of NAME on ARCH into *NR.  0; 1 when it does not exist there
 * and the rule says that is fine (the caller then leaves it out); -EINVAL
 * for a name libseccomp does not know, or a required one missing.
 */
static int resolve(const struct sc_rule *r, const char *name, uint32_t arch, int *nr)
{
	*nr = seccomp_syscall_resolve_name_arch(arch, name);
	if (*nr == __NR_SCMP_ERROR)
		return -EINVAL;
	if (*nr < 0) /* a pseudo number: no such call on ARCH */
		return r->optional ? 1 : -EINVAL;
	return 0;
}

/* ---- PFC: libseccomp builds and prints the filter ----------------------- */

/* Copy what FD holds from its start to OUT. */
static int copy_out(int fd, FILE *out)
{
	char buf[4096];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		errno = 0;
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
			return errno ? -errno : -EIO;
	}
	errno = 0;
	if (fflush(out) != 0 || ferror(out))
		return errno ? -errno : -EIO;
	return 0;
}

/* Whether rule R is part of the profile for confinement CONF and FLAGS. */
static bool rule_applies(const struct sc_rule *r, const struct rb_prepare *conf,
			 unsigned flags)
{
	switch (r->when) {
	case IF_NOTIFY:
		return flags & RB_SECCOMP_NOTIFY;
	case IF_NOTIFY_DGRAM4:
		return (flags & RB_SECCOMP_NOTIFY) && (flags & RB_SECCOMP_NOTIFY_ICMP_DGRAM);
	case IF_NOTIFY_DGRAM6:
		return (flags & RB_SECCOMP_NOTIFY) && (flags & RB_SECCOMP_NOTIFY_ICMPV6_DGRAM);
	case ALWAYS:
		return true;
	case UNLESS_HDRINCL:
		return !(conf && conf->hdrincl);
	case IF_DENY_RECVERR:
		return conf && conf->deny_recverr;
	}
	return true;
}

/*
 * The notify entries of the raw socket() tuples RAW[NRAW] the broker serves
 * the program: family, SOCK_RAW (flags masked off) and protocol, each
 * compared as the int the kernel reads.
 */
static int add_raw_notify(scmp_filter_ctx ctx, const struct rb_seccomp_raw *raw, size_t nraw)
{
	int r = 0;

	for (size_t i = 0; i < nraw && r == 0; i++) {
		struct scmp_arg_cmp cmp[3] = {
			SCMP_CMP(0, SCMP_CMP_MASKED_EQ, INT_ARG, (uint32_t)raw[i].family),
			SCMP_CMP(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_RAW),
			SCMP_CMP(2, SCMP_CMP_MASKED_EQ, INT_ARG, (uint32_t)raw[i].protocol),
		};

		r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 3, cmp);
	}
	return r;
}

/*
 * The profile for CONF and FLAGS as a libseccomp filter (native arch
 * only); in a notify profile, RAW[NRAW] are the raw tuples it notifies.
 *
 * A notify profile adds its entries beside the denials as they are: every
 * socket() denial tests the family (a0) with MASKED_EQ, as the notify
 * entries do.  libseccomp 2.5 tests a call's rules on the higher argument
 * first, on one argument MASKED_EQ with the larger value first, and goes
 * on to the next branch when a call fails deeper in one: so a notify
 * entry's exact family (AF_INET 2, AF_INET6 10) is tried before the
 * denial of its block of families (0-15, value 0; see the PFC in
 * tests/cli/golden/client.pfc).  A served tuple is notified, and every
 * other raw socket gets EPERM from the kernel with no round trip to the
 * broker.  A denial
 * testing the type alone (a1) would be tried first and catch every raw
 * socket; the table has none (test_client_seccomp checks), and
 * e2e_static fails if a served tuple is not notified or an unserved one
 * is.
 */
static int build_filter(const struct rb_prepare *conf, unsigned flags,
			const struct rb_seccomp_raw *raw, size_t nraw, scmp_filter_ctx *out)
{
	bool notify = flags & RB_SECCOMP_NOTIFY;
	scmp_filter_ctx ctx;
	int r = 0;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < rb_sc_nrules && r == 0; i++) {
		const struct sc_rule *rule = &rb_sc_rules[i];
		struct scmp_arg_cmp cmp[4];
		unsigned ncmp = 0;
		uint32_t action = rule->notify && notify ? SCMP_ACT_NOTIFY
							 : SCMP_ACT_ERRNO(DENY_ERRNO);

		if (!rule_applies(rule, conf, flags))
			continue;

		for (unsigned c = 0; c < rule->ncmp; c++)
			cmp[ncmp++] = SCMP_CMP(rule->cmp[c].arg, SCMP_CMP_MASKED_EQ,
					       rule->cmp[c].mask, rule->cmp[c].value);
		for (size_t s = 0; s < 4 && rule->syscalls[s] && r == 0; s++) {
			int nr;

			r = resolve(rule, rule->syscalls[s], SCMP_ARCH_NATIVE, &nr);
			if (r == 1) {
				r = 0;
				continue;
			}
			if (r == 0)
				r = seccomp_rule_add_array(ctx, action, nr, ncmp, cmp);
		}
	}
	if (r == 0 && notify)
		r = add_raw_notify(ctx, raw, nraw);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

int rb_seccomp_load(const struct rb_prepare *conf)
{
	scmp_filter_ctx ctx;
	int r = build_filter(conf, 0, NULL, 0, &ctx);

	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int rb_seccomp_load_notify(const struct rb_prepare *conf, unsigned flags,
			   const struct rb_seccomp_raw *raw, size_t nraw)
{
	scmp_filter_ctx ctx;
	int r;

	if (flags & ~RB_SECCOMP_FLAGS)
		return -EINVAL;
	r = build_filter(conf, flags | RB_SECCOMP_NOTIFY, raw, nraw, &ctx);

	if (r < 0)
		return r;
	/* libseccomp asks the kernel for a listener (SECCOMP_FILTER_FLAG_
	 * NEW_LISTENER) when the filter has a NOTIFY rule, and keeps it in
	 * the context: take it before the context goes.  The kernel makes
	 * it close-on-exec. */
	r = seccomp_load(ctx);
	if (r == 0) {
		r = seccomp_notify_fd(ctx);
		if (r < 0)
			r = -EBADF;
	}
	seccomp_release(ctx); /* does not close the listener */
	return r;
}

static int export_pfc(FILE *out, const struct rb_prepare *conf, unsigned flags)
{
	scmp_filter_ctx ctx;
	int fd, r = build_filter(conf, flags, NULL, 0, &ctx);

	if (r < 0)
		return r;
	/* libseccomp 2.5 does not report a failed write: export to memory,
	 * then write it out here, where a full disk is seen. */
	fd = memfd_create("rawbroker-pfc", MFD_CLOEXEC);
	if (fd < 0)
		r = -errno;
	if (r == 0)
		r = seccomp_export_pfc(ctx, fd);
	if (r == 0)
		r = copy_out(fd, out);
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return r;
}

/* ---- OCI: the JSON runc and podman read --------------------------------- */

/* A JSON string.  Ours are fixed ASCII, but escape what JSON requires. */
static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

const struct arch_set *rb_sc_native_arch_set(void)
{
	uint32_t native = seccomp_arch_native();

	for (size_t i = 0; i < sizeof(arch_sets) / sizeof(arch_sets[0]); i++)
		if (arch_sets[i].native == native)
			return &arch_sets[i];
	return NULL;
}

/*
 * Whether NAME goes into the OCI profile: 1 yes, 0 no, or -EINVAL.  It must
 * exist natively, unless the rule is optional: then it goes in when one
 * architecture of SET has it.  (libseccomp resolves some names to pseudo
 * numbers on the other architectures, socket() on x86 for one; it rewrites
 * those rules itself when the runtime loads the profile.)
 */
static int oci_wants(const struct sc_rule *r, const char *name, const struct arch_set *set)
{
	int nr, rc = resolve(r, name, SCMP_ARCH_NATIVE, &nr);

	if (rc <= 0)
		return rc == 0 ? 1 : rc;
	for (size_t a = 0; a < 3 && set->arch[a]; a++)
		if (seccomp_syscall_resolve_name_arch(set->arch[a], name) >= 0)
			return 1;
	return 0;
}

/*
 * The entry of the OCI profile for rule R into *E: 1; 0 when it has no
 * entry (left out for CONF, or none of its names is on SET); -EINVAL.
 * Both OCI writers walk the table with this, so they cannot disagree.
 */
int rb_sc_oci_entry(const struct sc_rule *r, const struct rb_prepare *conf, unsigned flags,
		    const struct arch_set *set, struct oci_entry *e)
{
	e->rule = r;
	e->nnames = 0;
	e->notify = r->notify && (flags & RB_SECCOMP_NOTIFY);
	if (!rule_applies(r, conf, flags))
		return 0;
	for (size_t s = 0; s < 4 && r->syscalls[s]; s++) {
		int want = oci_wants(r, r->syscalls[s], set);

		if (want < 0)
			return want;
		if (want)
			e->names[e->nnames++] = r->syscalls[s];
	}
	return e->nnames > 0;
}

static int export_oci(FILE *out, const struct rb_prepare *conf, unsigned flags)
{
	const struct arch_set *set = rb_sc_native_arch_set();
	bool first_rule = true;

	if (!set)
		return -ENOTSUP;
	fputs("{\n\t\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\t\"architectures\": [", out);
	for (size_t a = 0; a < 3 && set->arch[a]; a++) {
		const char *name = arch_name(set->arch[a]);

		if (!name)
			return -ENOTSUP;
		fputs(a ? ", " : "", out);
		put_string(out, name);
	}
	fputs("],\n\t\"syscalls\": [", out);
	for (size_t i = 0; i < rb_sc_nrules; i++) {
		const struct sc_rule *rule = &rb_sc_rules[i];
		struct oci_entry e;
		int r = rb_sc_oci_entry(rule, conf, flags, set, &e);

		if (r < 0)
			return r;
		if (r == 0)
			continue;
		fputs(first_rule ? "\n" : ",\n", out);
		fputs("\t\t{\n\t\t\t\"names\": [", out);
		for (size_t s = 0; s < e.nnames; s++) {
			fputs(s ? ", " : "", out);
			put_string(out, e.names[s]);
		}
		first_rule = false;
		if (e.notify)
			fputs("],\n\t\t\t\"action\": \"SCMP_ACT_NOTIFY\",\n", out);
		else
			fprintf(out, "],\n\t\t\t\"action\": \"SCMP_ACT_ERRNO\",\n"
				"\t\t\t\"errnoRet\": %d,\n", DENY_ERRNO);
		if (rule->ncmp) {
			fputs("\t\t\t\"args\": [", out);
			for (unsigned c = 0; c < rule->ncmp; c++)
				/* runc: for MASKED_EQ, value is the mask and
				 * valueTwo the value */
				fprintf(out, "%s\n\t\t\t\t{ \"index\": %u, \"value\": %llu, "
					"\"valueTwo\": %llu, \"op\": \"SCMP_CMP_MASKED_EQ\" }",
					c ? "," : "", rule->cmp[c].arg,
					(unsigned long long)rule->cmp[c].mask,
					(unsigned long long)rule->cmp[c].value);
			fputs("\n\t\t\t],\n", out);
		}
		fputs("\t\t\t\"comment\": ", out);
		put_string(out, rule->why);
		fputs("\n\t\t}", out);
	}
	fputs("\n\t]\n}\n", out);
	errno = 0;
	if (fflush(out) != 0 || ferror(out))
		return errno ? -errno : -EIO;
	return 0;
}

int rb_seccomp_export_flags(FILE *out, enum rb_seccomp_format format,
			    const struct rb_prepare *conf, unsigned flags)
{
	if (flags & ~RB_SECCOMP_FLAGS)
		return -EINVAL;
	switch (format) {
	case RB_SECCOMP_PFC:
		return export_pfc(out, conf, flags);
	case RB_SECCOMP_OCI:
		return export_oci(out, conf, flags);
	}
	return -EINVAL;
}

int rb_seccomp_export(FILE *out, enum rb_seccomp_format format,
		      const struct rb_prepare *conf)
{
	return rb_seccomp_export_flags(out, format, conf, 0);
}
