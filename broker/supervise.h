/* SPDX-License-Identifier: MIT */
/* supervise.h - supervisor mode: rawbrokerd [OPTION]... -- COMMAND [ARG]... */
#ifndef RAWBROKER_SUPERVISE_H
#define RAWBROKER_SUPERVISE_H

#include <stdbool.h>

#include "policy.h"

struct supervise_opts {
	const char *run_as;      /* NAME or UID:GID */
	const char *preload;     /* the shim, for LD_PRELOAD */
	const char *socket_path; /* for RAWBROKER_SOCKET */
	struct rb_prepare conf;  /* the client confinement to install */
	int close_fd;            /* the listener: closed in the child */
	int ready_fd;            /* --ready-fd (-1: none): closed in the child */
	bool notify;             /* the notify profile: raw socket() by seccomp
				    user notification (not --no-notify) */
	char **argv;             /* COMMAND [ARG]... */
};

/* Start COMMAND (see supervise.c).  Call as root, before the privilege
 * drop, with SIGTERM, SIGINT, SIGHUP and SIGCHLD blocked.  fatal() when
 * it cannot. */
void supervise_start(const struct supervise_opts *o);

/* The command's seccomp listener (notify profile), once: -1 when there is
 * none (--no-notify, or the command failed before it sent one). */
int supervise_take_listener(void);

/* Whether a command is supervised. */
bool supervise_active(void);

/* Pass SIGNO on to the command (through its relay). */
void supervise_forward(int signo);

/* Reap what exited (the relay, and orphans when we are PID 1 or a
 * subreaper).  True once the command is over; supervise_exit_code() then
 * says how. */
bool supervise_reap(void);

/* The command's exit status, or 128+N when a signal N ended it. */
int supervise_exit_code(void);

#endif /* RAWBROKER_SUPERVISE_H */
