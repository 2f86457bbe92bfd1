/* SPDX-License-Identifier: MIT */
/*
 * drop.h - acquire, drop, verify (STYLE.md #2), for every process of the
 * broker: the front (no capability), the maker (CAP_NET_RAW only) and the
 * supervisor's relay (nothing, as the command's user).
 *
 * Pure of policy and logging: functions return 0 or -errno and, on
 * failure, a sentence in WHY; the caller decides how to die.
 */
#ifndef RAWBROKER_DROP_H
#define RAWBROKER_DROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct drop_spec {
	bool switch_user;           /* started as root: become UID/GID */
	uid_t uid;
	gid_t gid;
	const char *initgroups;     /* with switch_user: this user's groups; NULL: none */
	uint64_t keep;              /* capabilities kept (bit N: capability N) */
	bool ambient;               /* KEEP also inheritable and ambient, to
				       survive the maker's execve() */
};

/* What drop_privileges() did, for drop_verify() and the log. */
struct drop_state {
	bool switched;  /* uid and gid were switched */
	bool bounded;   /* the bounding set was narrowed to KEEP */
	int ngroups;    /* supplementary groups left (could not be dropped) */
};

/*
 * Order: groups -> gid -> bounding set -> uid (keeping KEEP across the
 * switch) -> permitted = effective = KEEP, inheritable and ambient empty
 * (or KEEP with AMBIENT) -> NO_NEW_PRIVS.  Started as root, SPEC must
 * switch to a non-root uid and gid; started as another user, the uid stays
 * and KEEP must already be permitted.  The bounding set is narrowed only
 * where CAP_SETPCAP is permitted (always, when started as root).
 */
int drop_privileges(const struct drop_spec *spec, struct drop_state *st, char *why,
		    size_t whylen);

/*
 * Read the end state back from STATUS_FD, an open /proc/self/status
 * (opened before a seccomp filter that allows no open; read with pread),
 * and compare with SPEC and ST: non-root ids, exactly KEEP permitted and
 * effective, inheritable and ambient as asked, bounding set KEEP when
 * ST->bounded, NoNewPrivs 1, and Seccomp 2 when SECCOMP.  0, or -EPERM
 * with WHY naming the first difference.
 */
int drop_verify(int status_fd, const struct drop_spec *spec, const struct drop_state *st,
		bool seccomp, char *why, size_t whylen);

/* "NAME" (its passwd uid and primary gid; *NAME_OUT the name, for
 * initgroups) or "UID:GID" (*NAME_OUT NULL).  NULL on success, else what is
 * wrong with SPEC. */
const char *drop_user_parse(const char *spec, uid_t *uid, gid_t *gid, const char **name_out);

#endif /* RAWBROKER_DROP_H */
