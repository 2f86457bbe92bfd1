/* SPDX-License-Identifier: MIT */
/*
 * client_seccomp.c - the client confinement profile, as data (STYLE.md #9).
 *
 * One static table of rules is the only description of the profile; the
 * PFC and OCI writers below only walk it.  Every rule denies with EPERM and
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

#define DENY_ERRNO EPERM

#define INT_ARG        0xffffffffu /* an int argument: its low 32 bits */
#define SOCK_TYPE_MASK 0xfu        /* the kernel's: type without flags */

/* (argument ARG & MASK) == VALUE */
struct sc_cmp {
	unsigned arg;
	uint64_t mask;
	uint64_t value;
};

/* When a rule is part of the profile. */
enum sc_when {
	ALWAYS,
	UNLESS_HDRINCL, /* left out for a rule with 'hdrincl allow' */
	UNLESS_RECVERR, /* left out unless the rule's confinement denies
			   RECVERR (a rule with 'receive', see rb_prepare) */
};

/* Deny each of SYSCALLS whose arguments fit every comparison of CMP. */
struct sc_rule {
	const char *syscalls[4]; /* up to the first NULL */
	struct sc_cmp cmp[2];
	unsigned ncmp;
	bool optional; /* only on architectures that have it */
	enum sc_when when;
	const char *why;
};

static const struct sc_rule rules[] = {
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
	 * rules below keep the process from making any raw socket.)  The
	 * e2e_seccomp test enumerates levels 0-300 and options 0-100 on both
	 * families and fails if the kernel takes any pair not listed here.
	 */
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IP }, { 2, INT_ARG, IP_HDRINCL } }, 2,
	  false, UNLESS_HDRINCL, "IP_HDRINCL: the process would write the IPv4 header, source included" },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_HDRINCL } }, 2,
	  false, UNLESS_HDRINCL, "IPV6_HDRINCL: the process would write the IPv6 header, source included" },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_RAW }, { 2, INT_ARG, IPV6_HDRINCL } }, 2,
	  false, UNLESS_HDRINCL,
	  "IPV6_HDRINCL at level SOL_RAW: rawv6_setsockopt() takes it there too" },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IP }, { 2, INT_ARG, IP_FREEBIND } }, 2,
	  false, ALWAYS, "IP_FREEBIND: bind to an address that is not local" },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_FREEBIND } }, 2,
	  false, ALWAYS, "IPV6_FREEBIND: bind to an address that is not local" },
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
	  false, UNLESS_RECVERR, "IP_RECVERR: read ICMP errors past the locked receive filter" },
	{ { "setsockopt" }, { { 1, INT_ARG, IPPROTO_IPV6 }, { 2, INT_ARG, IPV6_RECVERR } }, 2,
	  false, UNLESS_RECVERR, "IPV6_RECVERR: read ICMPv6 errors past the locked receive filter" },
	/* Socket filters: a later version may lock one on the socket. */
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_FILTER } }, 2,
	  false, ALWAYS, "SO_ATTACH_FILTER: replace the socket's receive filter" },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_DETACH_FILTER } }, 2,
	  false, ALWAYS, "SO_DETACH_FILTER: remove the socket's receive filter" },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_BPF } }, 2,
	  false, ALWAYS, "SO_ATTACH_BPF: replace the socket's receive filter" },
	{ { "setsockopt" },
	  { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_REUSEPORT_CBPF } }, 2,
	  false, ALWAYS, "SO_ATTACH_REUSEPORT_CBPF: a socket filter by another name" },
	{ { "setsockopt" },
	  { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_ATTACH_REUSEPORT_EBPF } }, 2,
	  false, ALWAYS, "SO_ATTACH_REUSEPORT_EBPF: a socket filter by another name" },
	{ { "setsockopt" }, { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_LOCK_FILTER } }, 2,
	  false, ALWAYS, "SO_LOCK_FILTER: lock or unlock the socket's filter" },
	/* Raw and link-layer sockets of its own, should it hold CAP_NET_RAW. */
	{ { "socket" }, { { 0, INT_ARG, AF_PACKET } }, 1,
	  false, ALWAYS, "AF_PACKET: link-layer sockets" },
	{ { "socket" }, { { 1, SOCK_TYPE_MASK, SOCK_RAW } }, 1,
	  false, ALWAYS, "SOCK_RAW of any family: raw sockets come from the broker (EPERM sends the shim there)" },
	{ { "socket" }, { { 1, SOCK_TYPE_MASK, SOCK_PACKET } }, 1,
	  false, ALWAYS, "SOCK_PACKET: the obsolete link-layer socket of AF_INET" },
	/* Another process's memory and descriptors. */
	{ { "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd" }, { { 0 } }, 0,
	  false, ALWAYS, "reach into another process, or take its descriptors" },
	/* io_uring creates sockets (Linux 5.19) and sets any socket option
	 * (6.7) with no system call a filter could see. */
	{ { "io_uring_setup", "io_uring_enter", "io_uring_register" }, { { 0 } }, 0,
	  false, ALWAYS, "io_uring: socket() and setsockopt() that seccomp cannot filter" },
	/* Its arguments are in memory, where a filter cannot read them. */
	{ { "socketcall" }, { { 0 } }, 0,
	  true, ALWAYS, "socketcall: every socket call at once, arguments unfilterable" },
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))

/* The architectures the OCI profile lists for a native one: the native
 * first, then those its processes can also run as (runc's own sets). */
struct arch_set {
	uint32_t native;
	uint32_t arch[3]; /* up to the first 0 */
};

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

/* Whether rule R is part of the profile for confinement CONF. */
static bool rule_applies(const struct sc_rule *r, const struct rb_prepare *conf)
{
	switch (r->when) {
	case ALWAYS:
		return true;
	case UNLESS_HDRINCL:
		return !(conf && conf->hdrincl);
	case UNLESS_RECVERR:
		return conf && conf->deny_recverr;
	}
	return true;
}

/* The profile for CONF as a libseccomp filter (native arch only). */
static int build_filter(const struct rb_prepare *conf, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx;
	int r = 0;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < NRULES && r == 0; i++) {
		const struct sc_rule *rule = &rules[i];
		struct scmp_arg_cmp cmp[2];

		if (!rule_applies(rule, conf))
			continue;

		for (unsigned c = 0; c < rule->ncmp; c++)
			cmp[c] = SCMP_CMP(rule->cmp[c].arg, SCMP_CMP_MASKED_EQ,
					  rule->cmp[c].mask, rule->cmp[c].value);
		for (size_t s = 0; s < 4 && rule->syscalls[s] && r == 0; s++) {
			int nr;

			r = resolve(rule, rule->syscalls[s], SCMP_ARCH_NATIVE, &nr);
			if (r == 1) {
				r = 0;
				continue;
			}
			if (r == 0)
				r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(DENY_ERRNO), nr,
							   rule->ncmp, cmp);
		}
	}
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
	int r = build_filter(conf, &ctx);

	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static int export_pfc(FILE *out, const struct rb_prepare *conf)
{
	scmp_filter_ctx ctx;
	int fd, r = build_filter(conf, &ctx);

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

static const struct arch_set *native_arch_set(void)
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

/* One entry of the OCI profile: RULE for the NAMES of it that go in. */
struct oci_entry {
	const struct sc_rule *rule;
	const char *names[4];
	size_t nnames;
};

/*
 * The entry of the OCI profile for rule R into *E: 1; 0 when it has no
 * entry (left out for CONF, or none of its names is on SET); -EINVAL.
 * Both OCI writers walk the table with this, so they cannot disagree.
 */
static int oci_entry(const struct sc_rule *r, const struct rb_prepare *conf,
		     const struct arch_set *set, struct oci_entry *e)
{
	e->rule = r;
	e->nnames = 0;
	if (!rule_applies(r, conf))
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

static int export_oci(FILE *out, const struct rb_prepare *conf)
{
	const struct arch_set *set = native_arch_set();
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
	for (size_t i = 0; i < NRULES; i++) {
		const struct sc_rule *rule = &rules[i];
		struct oci_entry e;
		int r = oci_entry(rule, conf, set, &e);

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

/* ---- OCI merged with a base profile (--base) ----------------------------- */

/* Only rawbroker-policy reads a runtime's JSON: the broker, which builds
 * this file too (for rb_seccomp_load()), does not link jansson. */
#ifdef RB_SECCOMP_MERGE
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>

#define BASE_MAX (4u << 20) /* a runtime's default profile is ~20 KiB */

/* Print a reason into WHY, for the caller to show after the base's name. */
static int base_error(char *why, size_t whylen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int base_error(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return err;
}

/* Whether our table names the syscall NAME (conditionally or not). */
static bool restricted(const char *name)
{
	for (size_t i = 0; i < NRULES; i++)
		for (size_t s = 0; s < 4 && rules[i].syscalls[s]; s++)
			if (strcmp(rules[i].syscalls[s], name) == 0)
				return true;
	return false;
}

/*
 * Whether our table denies NAME only for some arguments (setsockopt and
 * socket): those must stay allowed otherwise, by a catch-all ALLOW.
 */
static bool partly_denied(const char *name)
{
	bool some = false;

	for (size_t i = 0; i < NRULES; i++)
		for (size_t s = 0; s < 4 && rules[i].syscalls[s]; s++)
			if (strcmp(rules[i].syscalls[s], name) == 0) {
				if (rules[i].ncmp == 0)
					return false;
				some = true;
			}
	return some;
}

/* Read all of PATH, at most BASE_MAX bytes, into a new *BUF. */
static int read_base(const char *path, char **buf, size_t *len, char *why, size_t whylen)
{
	size_t cap = 64 * 1024, n = 0;
	char *b = NULL;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;

		if (n == cap || !b) {
			char *nb;

			if (b)
				cap *= 2;
			if (cap > BASE_MAX + 1)
				cap = BASE_MAX + 1;
			nb = realloc(b, cap);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			b = nb;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > BASE_MAX) {
			r = base_error(why, whylen, -EFBIG, "larger than %u MiB", BASE_MAX >> 20);
			break;
		}
	}
	close(fd);
	if (r < 0) {
		free(b);
		return r;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Our entry E as a JSON object. */
static json_t *entry_json(const struct oci_entry *e)
{
	json_t *o = json_object(), *names = json_array(), *args = NULL;
	bool good = o && names;

	for (size_t s = 0; good && s < e->nnames; s++)
		good = json_array_append_new(names, json_string(e->names[s])) == 0;
	if (good)
		good = json_object_set_new(o, "names", names) == 0; /* takes NAMES */
	else
		json_decref(names);
	good = good && json_object_set_new(o, "action", json_string("SCMP_ACT_ERRNO")) == 0 &&
	       json_object_set_new(o, "errnoRet", json_integer(DENY_ERRNO)) == 0;
	if (good && e->rule->ncmp) {
		args = json_array();
		good = args != NULL;
		for (unsigned c = 0; good && c < e->rule->ncmp; c++) {
			const struct sc_cmp *cmp = &e->rule->cmp[c];

			/* as export_oci(): value is the mask, valueTwo the value */
			good = json_array_append_new(
				       args, json_pack("{s:I, s:I, s:I, s:s}", "index",
						       (json_int_t)cmp->arg, "value",
						       (json_int_t)cmp->mask, "valueTwo",
						       (json_int_t)cmp->value, "op",
						       "SCMP_CMP_MASKED_EQ")) == 0;
		}
		if (good)
			good = json_object_set_new(o, "args", args) == 0; /* takes ARGS */
		else
			json_decref(args);
	}
	good = good && json_object_set_new(o, "comment", json_string(e->rule->why)) == 0;
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The catch-all ALLOW for NAME, a syscall we deny on some arguments only.
 * It must be conditional: libseccomp lets an unconditional rule for a
 * syscall replace every conditional one of it, our denials too.  And it
 * must come last when libseccomp 2.5 sorts a syscall's rules into the
 * filter: higher argument numbers are tested first, and on one argument
 * MASKED_EQ, EQ and NE before LT and LE before GE and GT, larger values
 * first among these.  'a0 >= 0' is therefore tested after our denials (on
 * a1, a2, and AF_PACKET as a0 == 17) and after the base's own conditional
 * denials (its socket(AF_NETLINK, ..., NETLINK_AUDIT) rule is on a0 and
 * a2), and every call matches it.  (A mask of 0 would match too, but
 * libseccomp reduces 'a0 & 0 == 0' to an unconditional rule.)  The
 * e2e_seccomp test loads the result and fails if the order is otherwise.
 */
static json_t *catch_all_json(const char *name)
{
	return json_pack("{s:[s], s:s, s:[{s:i, s:i, s:i, s:s}], s:s}", "names", name,
			 "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value", 0,
			 "valueTwo", 0, "op", "SCMP_CMP_GE", "comment",
			 "rawbroker: allowed apart from the denials above; 'a0 >= 0' matches "
			 "every call and libseccomp tests it after them");
}

/*
 * Take our names out of the base's ALLOW entry E (checked by check_base()):
 * 1 when it is to be kept, 0 to drop it (none of its names is left), -1
 * out of memory.  ALLOWED collects which of them the base allowed (for the
 * catch-alls).
 *
 * Unconditional ALLOWs lose our names, or libseccomp would let them replace
 * our conditional denials.  Conditional ALLOWs of our names go too: an
 * ALLOW on a higher argument than our denial is tested before it (the base
 * has socket 'a2 != NETLINK_AUDIT': socket(AF_PACKET, SOCK_RAW, 0) would be
 * allowed there before our a0 and a1 denials are reached).  setsockopt and
 * socket stay allowed by our catch-alls instead.  Conditional denials of
 * the base (not ALLOW) are kept as they are.
 */
static int strip_allow(json_t *e, json_t *allowed)
{
	json_t *names = json_object_get(e, "names"), *name = json_object_get(e, "name");
	bool stripped = false;
	size_t i = 0;

	if (names && !json_is_array(names))
		return -1;
	if (name && !json_is_string(name))
		return -1;
	while (names && i < json_array_size(names)) {
		json_t *n = json_array_get(names, i);

		if (!json_is_string(n))
			return -1;
		if (!restricted(json_string_value(n))) {
			i++;
			continue;
		}
		if (partly_denied(json_string_value(n)) &&
		    json_object_set(allowed, json_string_value(n), json_true()) < 0)
			return -1;
		if (json_array_remove(names, i) < 0)
			return -1;
		stripped = true;
	}
	/* "name": the old single-name form, which podman still reads */
	if (name && restricted(json_string_value(name))) {
		if (partly_denied(json_string_value(name)) &&
		    json_object_set(allowed, json_string_value(name), json_true()) < 0)
			return -1;
		json_object_del(e, "name");
		stripped = true;
	}
	if (stripped && json_array_size(names) == 0 && !json_object_get(e, "name"))
		return 0;
	return 1;
}

/*
 * Check that ROOT is a profile the merge understands: an object with a
 * "defaultAction" string and a "syscalls" array of objects, each with an
 * "action" string, "args" an array or null, "names" an array of strings
 * (and "name" a string).  0, or -EINVAL with WHY.
 */
static int check_base(const json_t *root, char *why, size_t whylen)
{
	const json_t *def = json_object_get(root, "defaultAction");
	const json_t *sc = json_object_get(root, "syscalls");
	const json_t *ret = json_object_get(root, "defaultErrnoRet");
	const json_t *ename = json_object_get(root, "defaultErrno"); /* podman's */
	bool eperm;

	if (!json_is_object(root))
		return base_error(why, whylen, -EINVAL, "not a JSON object");
	if (!json_is_array(sc))
		return base_error(why, whylen, -EINVAL, "no \"syscalls\" array");
	if (!json_is_string(def))
		return base_error(why, whylen, -EINVAL, "no \"defaultAction\" string");
	/* Our denials would repeat the default action: libseccomp refuses such
	 * a rule and runc skips it, which would leave the catch-all ALLOW of
	 * socket with nothing before it. */
	if (ret)
		eperm = json_is_integer(ret) && json_integer_value(ret) == DENY_ERRNO;
	else
		eperm = !json_is_string(ename) || strcmp(json_string_value(ename), "EPERM") == 0;
	if (strcmp(json_string_value(def), "SCMP_ACT_ERRNO") == 0 && eperm)
		return base_error(why, whylen, -EINVAL,
				  "its defaultAction denies with EPERM, as our entries do: "
				  "a runtime would drop them as redundant");
	for (size_t i = 0; i < json_array_size(sc); i++) {
		const json_t *e = json_array_get(sc, i);
		const json_t *args = json_object_get(e, "args");
		const json_t *names = json_object_get(e, "names");
		const json_t *name = json_object_get(e, "name");

		if (!json_is_object(e) || !json_is_string(json_object_get(e, "action")))
			return base_error(why, whylen, -EINVAL,
					  "syscalls[%zu]: not an object with an \"action\" string", i);
		if (args && !json_is_array(args) && !json_is_null(args))
			return base_error(why, whylen, -EINVAL,
					  "syscalls[%zu]: \"args\" is not an array", i);
		if ((names && !json_is_array(names)) || (name && !json_is_string(name)))
			return base_error(why, whylen, -EINVAL,
					  "syscalls[%zu]: \"names\" is not an array of strings", i);
		for (size_t n = 0; n < json_array_size(names); n++)
			if (!json_is_string(json_array_get(names, n)))
				return base_error(why, whylen, -EINVAL,
						  "syscalls[%zu]: \"names\" is not an array of strings",
						  i);
	}
	return 0;
}

int rb_seccomp_base_load(const char *path, struct rb_seccomp_base **out, char *why,
			 size_t whylen)
{
	json_error_t jerr;
	json_t *root;
	char *buf = NULL;
	size_t len = 0;
	int r;

	why[0] = '\0';
	r = read_base(path, &buf, &len, why, whylen);
	if (r < 0)
		return r;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!root)
		return base_error(why, whylen, -EINVAL, "line %d col %d: %s", jerr.line,
				  jerr.column, jerr.text);
	r = check_base(root, why, whylen);
	if (r < 0) {
		json_decref(root);
		return r;
	}
	*out = (struct rb_seccomp_base *)root;
	return 0;
}

void rb_seccomp_base_free(struct rb_seccomp_base *base)
{
	json_decref((json_t *)base);
}

/* ROOT, a copy of a checked base, merged with our entries for CONF. */
static int merge(json_t *root, const struct rb_prepare *conf, const struct arch_set *set)
{
	json_t *old = json_object_get(root, "syscalls"), *merged, *allowed;
	bool default_allow =
		strcmp(json_string_value(json_object_get(root, "defaultAction")),
		       "SCMP_ACT_ALLOW") == 0;
	int r = 0;

	merged = json_array();
	allowed = json_object();
	if (!merged || !allowed) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(old) && r == 0; i++) {
		json_t *e = json_array_get(old, i);
		int keep = 1;

		/* unknown actions pass through: the runtime judges them */
		if (strcmp(json_string_value(json_object_get(e, "action")), "SCMP_ACT_ALLOW") == 0)
			keep = strip_allow(e, allowed);
		if (keep < 0 || (keep && json_array_append(merged, e) < 0))
			r = -ENOMEM;
	}
	/*
	 * Ours, the unconditional ones first.  On x86, libseccomp turns a
	 * socket() rule with arguments into a socketcall(SYS_SOCKET) rule
	 * without them, and refuses one (EEXIST) whose action differs from
	 * such a rule already there, as the base's socket EINVAL rule and
	 * our EPERM ones do.  Once socketcall is denied outright, it takes
	 * those in silently.  (The order changes nothing else: libseccomp
	 * sorts a syscall's rules itself.)
	 */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < NRULES && r == 0; i++) {
			struct oci_entry e;

			if ((rules[i].ncmp == 0) != (pass == 0))
				continue;
			r = oci_entry(&rules[i], conf, set, &e);
			if (r == 1)
				r = json_array_append_new(merged, entry_json(&e)) < 0 ? -ENOMEM
										       : 0;
		}
	/* The catch-alls, in table order.  With an ALLOW default the base
	 * allows them already (and a rule repeating the default is refused);
	 * where the base never allowed them, they stay denied. */
	for (size_t i = 0; i < NRULES && r == 0 && !default_allow; i++)
		for (size_t s = 0; s < 4 && rules[i].syscalls[s] && r == 0; s++) {
			const char *name = rules[i].syscalls[s];

			if (!json_object_get(allowed, name))
				continue;
			json_object_del(allowed, name); /* once */
			r = json_array_append_new(merged, catch_all_json(name)) < 0 ? -ENOMEM : 0;
		}
	if (r == 0 && json_object_set(root, "syscalls", merged) < 0)
		r = -ENOMEM;
out:
	json_decref(merged);
	json_decref(allowed);
	return r;
}

int rb_seccomp_export_merged(FILE *out, const struct rb_prepare *conf,
			     const struct rb_seccomp_base *base)
{
	const struct arch_set *set = native_arch_set();
	json_t *root;
	int r;

	if (!set)
		return -ENOTSUP;
	root = json_deep_copy((const json_t *)base);
	if (!root)
		return -ENOMEM;
	r = merge(root, conf, set);
	if (r == 0) {
		errno = 0;
		if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
		    fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
			r = errno ? -errno : -EIO;
	}
	json_decref(root);
	return r;
}

#endif /* RB_SECCOMP_MERGE */

int rb_seccomp_export(FILE *out, enum rb_seccomp_format format,
		      const struct rb_prepare *conf)
{
	switch (format) {
	case RB_SECCOMP_PFC:
		return export_pfc(out, conf);
	case RB_SECCOMP_OCI:
		return export_oci(out, conf);
	}
	return -EINVAL;
}
