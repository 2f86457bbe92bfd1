/* SPDX-License-Identifier: MIT */
/* sandbox.h - the front's own seccomp allowlist (STYLE.md #9); the socket
 * maker has its own (maker/maker_sandbox.c). */
#ifndef RAWBROKER_SANDBOX_H
#define RAWBROKER_SANDBOX_H

#include <stdbool.h>
#include <stdio.h>

/* What the running broker needs beyond its fixed set. */
struct sandbox_opts {
	bool syslog;    /* logs to /dev/log: its datagram socket, connect, send */
	bool metrics;   /* --metrics-file: create, rename, remove entries ... */
	int metrics_dirfd; /* ... of this directory (O_PATH) only */
};

/* Load the filter into the calling process (every thread; call it before
 * any thread starts).  Needs NO_NEW_PRIVS.  fatal() on failure. */
void sandbox_load(const struct sandbox_opts *o);

/* The same filter as libseccomp PFC on OUT (for review and the golden
 * test); loads nothing.  0 or -errno. */
int sandbox_print(FILE *out, const struct sandbox_opts *o);

#endif /* RAWBROKER_SANDBOX_H */
