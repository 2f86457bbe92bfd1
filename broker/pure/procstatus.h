/* SPDX-License-Identifier: MIT */
/*
 * procstatus.h - who a task is, from its /proc/PID/status: the effective
 * uid and gid (what SO_PEERCRED gives for a connection) and the
 * supplementary groups.  A streaming parser: fed the file in pieces of any
 * size, it keeps no more than one number and one key between them, and
 * stores at most MAX groups.  Pure but for proc_status_read(), a read
 * loop over a descriptor the caller opened; -errno.
 */
#ifndef RAWBROKER_PROCSTATUS_H
#define RAWBROKER_PROCSTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_status {
	/* results */
	uid_t uid;        /* the second field of "Uid:" (effective) */
	gid_t gid;        /* the second field of "Gid:" */
	gid_t *groups;    /* "Groups:", in the caller's buffer */
	size_t ngroups;
	bool has_uid, has_gid;
	bool has_groups;  /* the Groups line is complete: the reader may stop
			     (status has Uid and Gid before it) */
	/* state */
	size_t max;
	char key[8];
	size_t keylen;
	int state, which;
	unsigned field;
	uint64_t num;
	bool in_num;
};

/* Start: groups go to GROUPS[MAX]. */
void proc_status_init(struct proc_status *s, gid_t *groups, size_t max);

/* The next N bytes at P.  0; -ERANGE for a number over 32 bits (or
 * (uid_t)-1), -E2BIG for more than MAX groups, -EPROTO for a value that is
 * not numbers. */
int proc_status_feed(struct proc_status *s, const char *p, size_t n);

/* After the last piece (or once has_groups): 0 when Uid and Gid were
 * seen, else -EPROTO. */
int proc_status_done(const struct proc_status *s);

/* Parse the status file open at FD (read with pread() from its start,
 * so a kept descriptor can be read again) into S, groups into
 * GROUPS[MAX]: init, feed until the Groups line is complete, done.  0;
 * -errno of the read (ESRCH: the task FD was opened for is gone), -EFBIG
 * past PROC_STATUS_MAX bytes (65,536 groups of up to 10 digits and the
 * rest fit), or proc_status_feed()'s and proc_status_done()'s. */
#define PROC_STATUS_MAX (1024 * 1024)
int proc_status_read(int fd, struct proc_status *s, gid_t *groups, size_t max);

/* The kernel's overflow id: what a uid or gid with no mapping in the
 * reader's user namespace reads as in /proc (65534 by default;
 * /proc/sys/kernel/overflowuid and overflowgid). */
struct proc_overflow {
	uid_t uid;
	gid_t gid;
};

/* Parse one of those files' contents (N bytes at P: a number and a
 * newline) into *ID.  0; -EPROTO for anything else, -ERANGE past 32 bits. */
int proc_overflow_parse(const char *p, size_t n, uint32_t *id);

/* A reason (static text) when S's effective uid or gid reads as the
 * overflow id, else NULL: such a task's real id is unknown to us (a front
 * in a user namespace that does not map it), and a rule naming 65534
 * (nobody) would match every such task. */
const char *proc_status_unmapped(const struct proc_status *s, const struct proc_overflow *o);

#endif /* RAWBROKER_PROCSTATUS_H */
