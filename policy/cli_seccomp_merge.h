/* SPDX-License-Identifier: MIT */
/*
 * cli_seccomp_merge.h - rawbroker-policy seccomp --base (cli_seccomp_merge.c):
 * the client profile merged into a runtime's OCI profile.  The CLI's only;
 * the broker does not link jansson.
 */
#ifndef RAWBROKER_CLI_SECCOMP_MERGE_H
#define RAWBROKER_CLI_SECCOMP_MERGE_H

#include <stdio.h>

#include "client_seccomp.h"

/* A base profile, read and checked (a runtime's default, for --base). */
struct rb_seccomp_base;

/*
 * Read the OCI profile PATH (a runtime's default, as containers-common's
 * seccomp.json) into a new *BASE: at most 4 MiB of JSON, an object with a
 * "defaultAction" string and a "syscalls" array of entries that have an
 * "action" string.  0; the -errno of reading it; -EFBIG (too big) or
 * -EINVAL (not JSON, not such a profile, or a default denial with EPERM,
 * which would make a runtime drop our entries): then WHY (at most WHYLEN
 * bytes) says why, as "line L col C: MESSAGE" for bad JSON; -ENOMEM.
 */
int rb_seccomp_base_load(const char *path, struct rb_seccomp_base **base, char *why,
			 size_t whylen);
void rb_seccomp_base_free(struct rb_seccomp_base *base);

/*
 * Write to OUT the OCI profile BASE merged with ours for CONF: all of BASE
 * is kept (default action, architectures, every entry with its conditions),
 * except that its ALLOW entries lose the syscalls our table names; our
 * entries are appended, and then, for setsockopt and socket where BASE
 * allowed them, a catch-all ALLOW that libseccomp tests after every
 * denial.  0; -ENOTSUP, -ENOMEM, or the -errno of a failed write.
 */
int rb_seccomp_export_merged(FILE *out, const struct rb_prepare *conf,
			     const struct rb_seccomp_base *base);

#endif /* RAWBROKER_CLI_SECCOMP_MERGE_H */
