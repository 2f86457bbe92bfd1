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

enum rb_seccomp_format {
	RB_SECCOMP_PFC, /* libseccomp's pseudo filter code, native arch only */
	RB_SECCOMP_OCI, /* the "linux.seccomp" JSON of runc, crun and podman */
};

/*
 * Write the client confinement profile to OUT in FORMAT.  Today every rule
 * of a policy gets the same, default confinement, so the profile depends on
 * nothing else; per-rule confinement would add the rule here.
 * 0; -EINVAL (a syscall of the table unknown to libseccomp: a bug),
 * -ENOTSUP (no architecture list for this machine, OCI only), -ENOMEM, or
 * the -errno of a failed write (PFC: libseccomp's code).  On failure part of
 * the profile may have been written.
 */
int rb_seccomp_export(FILE *out, enum rb_seccomp_format format);

#endif /* RAWBROKER_CLIENT_SECCOMP_H */
