/* SPDX-License-Identifier: MIT */
/*
 * cli_seccomp_notify.h - rawbroker-policy seccomp --listener
 * (cli_seccomp_notify.c): the client profile for a container whose raw
 * socket() calls the broker answers, as the OCI runtime's seccomp agent.
 * The CLI's only, like the --base merge.
 */
#ifndef RAWBROKER_CLI_SECCOMP_NOTIFY_H
#define RAWBROKER_CLI_SECCOMP_NOTIFY_H

#include <stddef.h>
#include <stdio.h>

#include "client_seccomp.h"

struct rb_seccomp_base;

/* The longest listenerPath: a unix socket address (sun_path, NUL
 * included). */
#define RB_LISTENER_PATH_MAX 108

/*
 * Write to OUT the OCI profile for CONF (as rb_seccomp_export() writes it,
 * or merged into BASE as rb_seccomp_export_merged() does; BASE may be NULL)
 * with:
 *   - "listenerPath": LISTENER (an absolute path shorter than
 *     RB_LISTENER_PATH_MAX: the runtime connects there and hands over the
 *     container's seccomp listener; rawbrokerd --seccomp-agent);
 *   - an SCMP_ACT_NOTIFY entry for socket() of every (family, type,
 *     protocol) in CLS (the policy's classes, NCLS of them), the type
 *     compared without SOCK_CLOEXEC and SOCK_NONBLOCK;
 *   - the confinement's other socket() denials made to test after those
 *     (see the .c), so that SOCK_RAW stays denied for every other tuple.
 * 0; -EINVAL (LISTENER not absolute or too long, or a table bug),
 * -ENOTSUP (no architecture list for this machine), -ENOMEM, or the -errno
 * of a failed write.
 */
int rb_seccomp_export_notify(FILE *out, const struct rb_prepare *conf,
			     const struct rb_class *cls, size_t ncls, const char *listener,
			     const struct rb_seccomp_base *base);

#endif /* RAWBROKER_CLI_SECCOMP_NOTIFY_H */
