/* SPDX-License-Identifier: MIT */
/*
 * seccomp_agent.h - rawbrokerd --seccomp-agent PATH: the front as a
 * container runtime's seccomp agent (the OCI "listenerPath" protocol).
 *
 * A container whose seccomp profile names PATH as its listenerPath
 * (rawbroker-policy seccomp --format oci --listener PATH) starts like
 * this: the runtime (runc, crun) connects to PATH, sends one message, the
 * container's state as JSON ({"fds": ["seccompFd"], "pid", "metadata",
 * "state": {"id", "pid", "bundle", "annotations", ...}}) with the
 * container's seccomp listener as SCM_RIGHTS, and closes.  This module
 * takes that message, checks it, and hands the listener to the
 * notification server (usernotif.h), which answers the container's
 * socket() calls by the policy.  Event-loop thread only; in the front,
 * never in the maker.
 */
#ifndef RAWBROKER_SECCOMP_AGENT_H
#define RAWBROKER_SECCOMP_AGENT_H

#include <stdint.h>

struct broker;
struct broker_config;

/* The runtime's message, at most (podman's is under 1 KiB). */
#define AGENT_MSG_MAX (64 * 1024)
/* Runtime connections being read at once: all, and per runtime uid. */
#define AGENT_CONNS_MAX 16
#define AGENT_CONNS_PER_UID 4
/* Containers of one runtime uid served at once (of USERNOTIF_MAX in all,
 * supervised commands included): one user cannot take every slot. */
#define AGENT_LISTENERS_PER_UID 16
/* A runtime sends its message right after connect(). */
#define AGENT_TIMEOUT_MS 2000

/*
 * main.c, before the privilege drop: bind CFG->agent_path as a unix stream
 * socket, the way server_listen() makes the main socket (sockdir.h: its
 * directory checked, the mode set at bind, owner and group through the
 * directory's descriptor; CFG's socket mode, owner and group).  Exits
 * (fatalx) when it cannot.  Nothing without --seccomp-agent.
 */
void seccomp_agent_listen(const struct broker_config *cfg);

/* server.c: the descriptor to watch (EPOLLIN) in the loop, -1: none. */
int seccomp_agent_fd(void);

/* server.c: that descriptor is readable: accept, read, attach. */
void seccomp_agent_on_readable(struct broker *b);

/* server.c: expire runtimes that did not finish their message in time;
 * the milliseconds until the next deadline, -1 for none. */
int seccomp_agent_expire(void);

/* server.c: close everything and remove the socket (shutdown). */
void seccomp_agent_shutdown(void);

#endif /* RAWBROKER_SECCOMP_AGENT_H */
