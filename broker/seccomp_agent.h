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

#include <stddef.h>
#include <stdint.h>

struct broker;
struct broker_config;

/* The runtime's message, at most (podman's is under 1 KiB). */
#define AGENT_MSG_MAX (64 * 1024)
/* Runtime connections being read at once: all, and per runtime uid. */
#define AGENT_CONNS_MAX 16
#define AGENT_CONNS_PER_UID 4
/* Of AGENT_CONNS_MAX, kept for root and the broker's start user (the
 * rootful runtime): other uids together get the rest. */
#define AGENT_CONNS_RESERVED 4
/* Containers of one runtime uid served at once (of USERNOTIF_MAX in all,
 * supervised commands included): one user cannot take every slot. */
#define AGENT_LISTENERS_PER_UID 16
/* Of USERNOTIF_MAX, left free by runtime uids other than root and the
 * broker's start user. */
#define AGENT_LISTENERS_RESERVED 16
/* A runtime sends its whole message right after connect() (runc: one
 * sendmsg, then close); the deadline for all of it. */
#define AGENT_TIMEOUT_MS 200
/* The most descriptors one recvmsg() may carry (the kernel's SCM_MAX_FD). */
#define AGENT_SCM_MAX_FD 253

/* Descriptors the agent may hold in the front's table at most, the
 * listeners it hands on included; main.c keeps them out of the
 * connection limit.  0 without --seccomp-agent. */
size_t seccomp_agent_fds_reserved(const struct broker_config *cfg);

/*
 * main.c, before the privilege drop: bind CFG->agent_path as a unix stream
 * socket, the way server_listen() makes the main socket (sockdir.h: its
 * directory checked, the mode set at bind, owner and group through the
 * directory's descriptor), but with its own access: mode 0600, owned by
 * whoever started the broker (root, for a rootful runtime), or 0660 with
 * group CFG->agent_gid (--seccomp-agent-group, for rootless runtimes).  Exits
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
