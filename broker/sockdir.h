/* SPDX-License-Identifier: MIT */
/*
 * sockdir.h - the listening socket's directory: checked, held by a
 * descriptor, and the socket made in it through that descriptor.
 *
 * Whoever can write to the socket's directory, or to a directory above it,
 * can put their own socket (or a symlink) where clients and the broker
 * look.  So the broker refuses to start unless every directory from "/" to
 * the socket's is owned by root or by the broker's user and writable by no
 * one else.  One exception, for /tmp-like directories above the socket's:
 * a sticky directory may be writable by others, since then no one else can
 * rename or remove the entry below it, which must be owned by root or the
 * broker's user (checked at the next step).  The socket's own directory
 * must never be writable by others, sticky or not.  A symlink on the way
 * is refused (give the real path).
 *
 * Each step opens the next directory relative to the last with O_NOFOLLOW
 * and checks what it opened (fstat), so what is checked is what is used:
 * bind() and the owner and group change then work relative to the held
 * directory descriptor, never by a path a symlink could redirect.
 */
#ifndef RAWBROKER_SOCKDIR_H
#define RAWBROKER_SOCKDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Open the directory of socket PATH (absolute) for a broker running as
 * OK_UID (root is always accepted), creating its last level (0755) when it
 * is missing and CREATE is set (without CREATE, for --check, a missing
 * last level passes and its parent is returned).  Returns an O_PATH
 * descriptor and the socket's name in LEAF (LEAF_SIZE bytes), or -errno
 * with the reason in WHY (WHY_SIZE bytes).
 */
int sockdir_open(const char *path, uid_t ok_uid, bool create, char *leaf, size_t leaf_size,
		 char *why, size_t why_size);

/*
 * Bind listening socket FD to LEAF inside directory DIRFD, with exactly
 * MODE (the umask is set for the bind: never more open than asked), then
 * give it UID and GID ((uid_t)-1 / (gid_t)-1: leave) with fchownat() on
 * DIRFD without following a symlink.  A socket file left by a dead broker
 * is replaced; a live broker or a file that is not a socket makes it fail.
 * Returns 0 or -errno with the reason in WHY.  On success the socket is
 * removed again if the process exits before sockdir_committed() (a failed
 * start leaves no stale socket behind).
 */
int sockdir_bind(int fd, int dirfd, const char *leaf, const char *path, mode_t mode,
		 uid_t uid, gid_t gid, char *why, size_t why_size);

/* The broker serves: from now on its socket is removed at shutdown only. */
void sockdir_committed(void);

#endif /* RAWBROKER_SOCKDIR_H */
