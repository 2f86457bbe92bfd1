/* SPDX-License-Identifier: MIT */
/* supervise.h - supervisor mode: rawbrokerd [OPTION]... -- COMMAND [ARG]... */
#ifndef RAWBROKER_SUPERVISE_H
#define RAWBROKER_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>

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
	const struct rb_policy *policy; /* which ICMP datagram sockets it serves
					   the command (the notify profile's
					   DGRAM bits) */
	char **argv;             /* COMMAND [ARG]... */
};

/* Start COMMAND (see supervise.c).  Call as root, before the privilege
 * drop, with SIGTERM, SIGINT, SIGHUP and SIGCHLD blocked.  fatal() when
 * it cannot. */
void supervise_start(const struct supervise_opts *o);

/* Ignore SIGPIPE, SIGTTOU and SIGTTIN in the broker (main.c says why),
 * keeping the dispositions it was started with for the command. */
void supervise_ignore_signals(void);

/* The command's seccomp listener (notify profile), once: -1 when there is
 * none (--no-notify, or the command failed before it sent one). */
int supervise_take_listener(void);

/* The relay's end for the option proxy (usernotif.h), once: -1 for none. */
int supervise_take_helper(void);

/* The identity every task of the command's tree notifies with (the
 * relay's, which none of them can change: supervise.c says why), read
 * once the listener came: uid, gid and up to MAX groups.  0 or -errno. */
int supervise_identity(uid_t *uid, gid_t *gid, gid_t *groups, size_t max, size_t *ngroups);

/*
 * The option proxy's records between the front and the relay (a
 * SOCK_SEQPACKET socketpair, exact sizes).  The front asks for the
 * descriptor FD of task PID and the LEN bytes at ADDR in its memory; the
 * relay (the command's user, its ancestor: allowed by ptrace's rules, which
 * the front, another user, is not) answers with the value and, when ERR is
 * 0, the descriptor (SCM_RIGHTS).
 */
#define OPTPROXY_VERSION 1
#define OPTPROXY_VALUE_MAX 2040 /* the largest IPv6 options header */
struct optproxy_req {
	uint32_t version;
	uint32_t pid;
	int32_t fd;
	uint32_t len;
	uint64_t addr;
	uint64_t cookie;
};
struct optproxy_rep {
	uint32_t version;
	int32_t err; /* 0 or an errno */
	uint32_t len;
	uint32_t pad;
	uint64_t cookie;
	uint8_t value[OPTPROXY_VALUE_MAX];
};

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
