/* SPDX-License-Identifier: MIT */
/*
 * client_seccomp_impl.h - the client confinement profile's table, shared by
 * its writers (client_seccomp.c) and the CLI's --base merge
 * (cli_seccomp_merge.c).  Not part of the API.
 */
#ifndef RAWBROKER_CLIENT_SECCOMP_IMPL_H
#define RAWBROKER_CLIENT_SECCOMP_IMPL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

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
	IF_DENY_RECVERR, /* only when the rule's confinement denies
			   RECVERR (a rule with 'receive', see rb_prepare) */
	IF_NOTIFY,      /* only in a notify profile (RB_SECCOMP_NOTIFY) */
	IF_NOTIFY_DGRAM4, /* ... with RB_SECCOMP_NOTIFY_ICMP_DGRAM */
	IF_NOTIFY_DGRAM6, /* ... with RB_SECCOMP_NOTIFY_ICMPV6_DGRAM */
};

/* Deny each of SYSCALLS whose arguments fit every comparison of CMP. */
struct sc_rule {
	const char *syscalls[4]; /* up to the first NULL */
	struct sc_cmp cmp[3];
	unsigned ncmp;
	bool optional; /* only on architectures that have it */
	enum sc_when when;
	const char *why;
	/* In a notify profile (RB_SECCOMP_NOTIFY) the action is
	 * SCMP_ACT_NOTIFY: the broker answers the call (broker/usernotif.c). */
	bool notify;
};

/* The profile: every rule of it, in order. */
extern const struct sc_rule rb_sc_rules[];
extern const size_t rb_sc_nrules;

/* The architectures the OCI profile lists for a native one: the native
 * first, then those its processes can also run as (runc's own sets). */
struct arch_set {
	uint32_t native;
	uint32_t arch[3]; /* up to the first 0 */
};

/* The architecture set of this machine, or NULL when the OCI writers do
 * not know it. */
const struct arch_set *rb_sc_native_arch_set(void);

/* One entry of the OCI profile: RULE for the NAMES of it that go in;
 * NOTIFY: its action is SCMP_ACT_NOTIFY (else SCMP_ACT_ERRNO, DENY_ERRNO). */
struct oci_entry {
	const struct sc_rule *rule;
	const char *names[4];
	size_t nnames;
	bool notify;
};

/*
 * The entry of the OCI profile for rule R into *E: 1; 0 when it has no
 * entry (left out for CONF and FLAGS, RB_SECCOMP_* of client_seccomp.h, or
 * none of its names is on SET); -EINVAL.  Both OCI writers walk the table
 * with this, so they cannot disagree.
 */
int rb_sc_oci_entry(const struct sc_rule *r, const struct rb_prepare *conf, unsigned flags,
		    const struct arch_set *set, struct oci_entry *e);

#endif /* RAWBROKER_CLIENT_SECCOMP_IMPL_H */
