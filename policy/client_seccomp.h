/* SPDX-License-Identifier: MIT */
/*
 * client_seccomp.h - the client confinement profile: the seccomp filter a client of
 * rawbrokerd runs under, exported for a container runtime or a launcher.
 *
 * The holder of a raw socket can, without any capability, set IP_HDRINCL
 * and forge headers, set IP_FREEBIND, and attach or detach socket filters:
 * nothing the broker sets on the socket stops that.  Such sending-side
 * limits can only be enforced on the client, by seccomp.  This module keeps
 * the profile as one table of rules and writes it in two formats, so the
 * two cannot disagree (STYLE.md #9).
 *
 * Like the policy library it never logs and never exits: functions return
 * 0 or -errno.
 */
#ifndef RAWBROKER_CLIENT_SECCOMP_H
#define RAWBROKER_CLIENT_SECCOMP_H

#include <stdio.h>

#include "policy.h"

enum rb_seccomp_format {
	RB_SECCOMP_PFC, /* libseccomp's pseudo filter code, native arch only */
	RB_SECCOMP_OCI, /* the "linux.seccomp" JSON of runc, crun and podman */
};

/*
 * RB_SECCOMP_NOTIFY: the profile for a program the broker serves by seccomp
 * user notification (supervisor mode, or an OCI runtime's listenerPath).
 * The same table, with these differences:
 *  - socket() of the raw tuples the broker serves the program (family,
 *    SOCK_RAW with its flags masked off, protocol; given to
 *    rb_seccomp_load_notify()) is SCMP_ACT_NOTIFY: the broker grants it.
 *    Every other raw socket() keeps its EPERM, from the kernel, without a
 *    round trip (client_seccomp.c, build_filter(), says how the order of
 *    libseccomp's tests is arranged for that);
 *  - socket() of ICMP datagram sockets (inet icmp, inet6 icmpv6), with
 *    RB_SECCOMP_NOTIFY_ICMP_DGRAM and RB_SECCOMP_NOTIFY_ICMPV6_DGRAM (for a
 *    program the policy serves them: else the kernel alone answers, and a
 *    client that tries datagram first, as iputils ping does, costs no
 *    round trip and no refusal line), is SCMP_ACT_NOTIFY: the broker
 *    grants it when the policy allows, else lets the call go on (the
 *    kernel then decides by ping_group_range);
 *  - setsockopt() of IPPROTO_IPV6 IPV6_HOPOPTS and IPV6_DSTOPTS is
 *    SCMP_ACT_NOTIFY: the option proxy, or the kernel's own answer.
 * The exported OCI notify profile (rawbroker-policy seccomp --listener)
 * adds its raw tuples itself (policy/cli_seccomp_notify.c).
 */
#define RB_SECCOMP_NOTIFY 1u
#define RB_SECCOMP_NOTIFY_ICMP_DGRAM 2u
#define RB_SECCOMP_NOTIFY_ICMPV6_DGRAM 4u
#define RB_SECCOMP_FLAGS 7u /* all of them */

/*
 * Write the client confinement profile for CONF (a rule's confinement from
 * rb_policy_rule_confinement(); NULL: the default, everything denied) to
 * OUT in FORMAT.  With CONF->hdrincl the IP_HDRINCL/IPV6_HDRINCL denials
 * are left out; everything else is the same for every rule.
 * 0; -EINVAL (a syscall of the table unknown to libseccomp: a bug),
 * -ENOTSUP (no architecture list for this machine, OCI only), -ENOMEM, or
 * the -errno of a failed write (PFC: libseccomp's code).  On failure part of
 * the profile may have been written.
 */
int rb_seccomp_export(FILE *out, enum rb_seccomp_format format,
		      const struct rb_prepare *conf);
/* The same, with FLAGS (RB_SECCOMP_NOTIFY and its DGRAM bits).  The OCI writer leaves the
 * listenerPath to its caller. */
int rb_seccomp_export_flags(FILE *out, enum rb_seccomp_format format,
			    const struct rb_prepare *conf, unsigned flags);

/*
 * Load the same profile for CONF into the calling thread (and, by
 * inheritance, what it execs).  The caller must have set NO_NEW_PRIVS or
 * hold CAP_SYS_ADMIN.  0 or -errno (libseccomp's).
 */
int rb_seccomp_load(const struct rb_prepare *conf);

/* A raw socket() tuple a notify profile sends to the broker. */
struct rb_seccomp_raw {
	int family, protocol;
};

/*
 * Load the notify profile for CONF (RB_SECCOMP_NOTIFY above, with FLAGS'
 * DGRAM bits, notifying the raw tuples RAW[NRAW]) into the calling thread,
 * as rb_seccomp_load().  Returns the listener descriptor (close-on-exec),
 * or -errno.
 */
int rb_seccomp_load_notify(const struct rb_prepare *conf, unsigned flags,
			   const struct rb_seccomp_raw *raw, size_t nraw);

#endif /* RAWBROKER_CLIENT_SECCOMP_H */
