/* SPDX-License-Identifier: MIT */
/*
 * usernotif.h - the front serves socket() calls by seccomp user
 * notification: programs no LD_PRELOAD reaches (static, Go) get their raw
 * sockets injected with SECCOMP_IOCTL_NOTIF_ADDFD.  A listener comes from
 * supervisor mode (supervise.c) or from a container runtime's seccomp agent
 * (listenerPath).  Each listener is served by a thread of its own
 * (usernotif.c); the functions here are the loop's, under the front lock.
 */
#ifndef RAWBROKER_USERNOTIF_H
#define RAWBROKER_USERNOTIF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct broker;

/* Where a listener comes from. */
struct notif_origin {
	const char *what;  /* for logs: "supervised command", "container <id>" (copied) */
	bool check_netns;  /* refuse a notifying task in another network namespace */
	/* Who handed the listener over (an OCI runtime's uid): with OWNER_MAX
	 * set, at most that many listeners of one owner at once, so that one
	 * user cannot take every slot (-EUSERS).  0: no such bound. */
	unsigned owner_max;
	uid_t owner;
	/* Supervisor mode: who every notifying task is (the command's
	 * identity, which no task of its tree can change: supervise.c,
	 * supervise_identity()); GROUPS copied.  Then no /proc/PID/status is
	 * read per call.  false: read it for each call (a container's tasks
	 * can be anyone). */
	bool has_identity;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
};

/* Listeners served at once, at most. */
#define USERNOTIF_MAX 64
/* Descriptors one listener can hold beyond those FDS_RESERVED counts
 * (main.c; the kept /proc entries of all listeners together are there):
 * itself and, while its thread reads a task that no kept entry has room
 * for, that task's status and net, with the /proc/PID directory both are
 * opened through, open at once (usernotif.c, task_open()). */
#define USERNOTIF_FDS_PER_LISTENER 4

/*
 * Serve the seccomp listener LISTENER (ownership taken; closed on error and
 * when the filter's tasks are all gone) on a thread of its own.  Before
 * server_run() has its epoll set, the listener waits and its thread starts
 * in usernotif_start().  Returns 0 or -errno (-ENOSPC: USERNOTIF_MAX
 * listeners already).
 */
int usernotif_attach(struct broker *b, int listener, const struct notif_origin *o);

/*
 * The same, with HELPER (-1: none): a unix socket to a process that may
 * reach the notifying tasks' descriptors and memory (supervise.c's relay,
 * of the command's own user), for the IPv6 option proxy.  Without one, a
 * setsockopt(IPV6_HOPOPTS/IPV6_DSTOPTS) goes on to the kernel, which
 * refuses it (EPERM) as it would without the broker.  HELPER is taken too.
 */
int usernotif_attach_helper(struct broker *b, int listener, const struct notif_origin *o,
			    int helper);

/* server.c, under the front lock with the loop's epoll set: start one
 * thread per listener attached so far (later ones start at attach). */
void usernotif_start(struct broker *b);

/* server.c: whether the epoll cookie P is one of ours, and serve it (EVENTS:
 * what epoll reported). */
bool usernotif_owns(const void *p);
void usernotif_on_event(struct broker *b, void *p, uint32_t events);

/* server.c, under the front lock: stop every listener's thread, each
 * closing its listener; waits at most half a second for them, and leaves
 * to the process exit a thread that waits for its client in an ioctl
 * (usernotif.c says what that client sees). */
void usernotif_shutdown(struct broker *b);

/* At start, before the sandbox: the kernel's overflowuid and overflowgid,
 * the ids a task with no mapping in our user namespace reads as in /proc
 * (such a task is refused: who it is cannot be told); the eventfds of
 * the listeners' threads (the sandbox has no eventfd2()). */
void usernotif_init(void);

/* Listeners served now (status, tests). */
unsigned usernotif_listeners(void);

#endif /* RAWBROKER_USERNOTIF_H */
