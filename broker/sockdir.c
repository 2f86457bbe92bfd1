/* SPDX-License-Identifier: MIT */
/* sockdir.c - see sockdir.h.  Runs at start, as root (or as the broker's
 * user holding CAP_NET_RAW), before the privilege drop. */
#include "sockdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* The reason in WHY; returns ERR. */
static int say(char *why, size_t why_size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(char *why, size_t why_size, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return err;
}

/* Whether directory ST (named NAME) is safe to hold what lies below it.
 * LAST: it is the socket's own directory. */
static int dir_safe(const struct stat *st, const char *name, uid_t ok_uid, bool last,
		    char *why, size_t why_size)
{
	if (st->st_uid != 0 && st->st_uid != ok_uid)
		return say(why, why_size, -EPERM,
			   "%s is writable by its owner, uid %u, neither root nor the "
			   "broker's user (uid %u), who could replace the socket",
			   name, (unsigned)st->st_uid, (unsigned)ok_uid);
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (!last && (st->st_mode & S_ISVTX))
		return 0; /* sticky: only an entry's owner may rename or remove it */
	return say(why, why_size, -EPERM,
		   "%s is writable by %s (mode %04o): anyone who can write there could "
		   "replace the socket; make it writable by root or the broker's user only",
		   name, st->st_mode & S_IWOTH ? "others" : "its group",
		   (unsigned)(st->st_mode & 07777));
}

int sockdir_open(const char *path, uid_t ok_uid, bool create, char *leaf, size_t leaf_size,
		 char *why, size_t why_size)
{
	char buf[PATH_MAX], sofar[PATH_MAX] = "";
	const char *slash = strrchr(path, '/');
	char *comp, *save = NULL;
	struct stat st;
	int fd, next, r;

	if (path[0] != '/')
		return say(why, why_size, -EINVAL, "%s: expected an absolute path", path);
	if (!slash[1] || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0 ||
	    strlen(slash + 1) >= leaf_size)
		return say(why, why_size, -EINVAL, "%s: expected a socket file name at the end", path);
	memcpy(leaf, slash + 1, strlen(slash + 1) + 1);
	if ((size_t)(slash - path) >= sizeof(buf))
		return say(why, why_size, -ENAMETOOLONG, "%s: path too long", path);
	memcpy(buf, path, (size_t)(slash - path));
	buf[slash - path] = '\0';

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		return say(why, why_size, r, "open /: %s", strerror(-r));
	}
	comp = strtok_r(buf, "/", &save);
	r = dir_safe(&st, "/", ok_uid, comp == NULL, why, why_size);
	while (r == 0 && comp) {
		char *rest = strtok_r(NULL, "/", &save);

		snprintf(sofar + strlen(sofar), sizeof(sofar) - strlen(sofar), "/%s", comp);
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			r = -EINVAL;
			say(why, why_size, 0, "%s: '.' and '..' are not taken in the socket path",
			    path);
			break;
		}
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && !rest && !create)
			return fd; /* would be made below a safe parent */
		/* Only the socket's own directory is made, as the broker's
		 * (root's) with 0755; its parent was just found safe. */
		if (next < 0 && errno == ENOENT && !rest) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				r = -errno;
				say(why, why_size, 0, "create directory %s: %s", sofar, strerror(-r));
				break;
			}
			next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			r = -errno;
			if (r == -ELOOP || r == -ENOTDIR)
				say(why, why_size, 0, "%s is a symlink or not a directory: give "
				    "the socket's real path", sofar);
			else
				say(why, why_size, 0, "%s: %s", sofar, strerror(-r));
			break;
		}
		close(fd);
		fd = next;
		if (fstat(fd, &st) < 0) {
			r = -errno;
			say(why, why_size, 0, "stat %s: %s", sofar, strerror(-r));
			break;
		}
		r = dir_safe(&st, sofar, ok_uid, rest == NULL, why, why_size);
		comp = rest;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* The sockets to remove at exit while the start has not completed: the
 * main one and --seccomp-agent's. */
#define BOUND_MAX 2
static struct {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pid_t pid;
	bool armed;
} bound[BOUND_MAX];

/* By path (the only removal the sandbox allows): the directory was found
 * writable by root and the broker's user only, so the name is still ours. */
static void remove_on_failed_start(void)
{
	for (int i = 0; i < BOUND_MAX; i++)
		if (bound[i].armed && getpid() == bound[i].pid)
			unlink(bound[i].path);
}

void sockdir_committed(void)
{
	for (int i = 0; i < BOUND_MAX; i++)
		bound[i].armed = false;
}

int sockdir_bind(int fd, int dirfd, const char *leaf, const char *path, mode_t mode,
		 uid_t uid, gid_t gid, char *why, size_t why_size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), probe, r = 0;
	struct stat st;
	int type = SOCK_SEQPACKET, slot = 0;
	socklen_t tlen = sizeof(type);
	mode_t old;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
		type = SOCK_SEQPACKET;
	if (strlen(leaf) >= sizeof(sun.sun_path))
		return say(why, why_size, -ENAMETOOLONG, "%s: name too long", path);
	memcpy(sun.sun_path, leaf, strlen(leaf) + 1);
	/* A unix socket's name is a path: bind (and probe) from inside the
	 * held directory, by the bare name, then go back. */
	if (fchdir(dirfd) < 0) {
		r = -errno;
		say(why, why_size, 0, "enter the directory of %s: %s", path, strerror(-r));
		goto out;
	}
	/* What is there already: nothing, a dead broker's socket (removed), a
	 * live broker, or something else (refused). */
	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			r = -EEXIST;
			say(why, why_size, 0, "%s exists and is not a socket; refusing to "
			    "replace it", path);
			goto out;
		}
		/* Probed with FD's own type: a stream socket refuses a
		 * seqpacket connect, which would look like a dead one. */
		probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			r = -EADDRINUSE;
			say(why, why_size, 0, "another broker is listening on %s", path);
			goto out;
		}
		if (probe >= 0)
			close(probe);
		if (unlinkat(dirfd, leaf, 0) < 0) {
			r = -errno;
			say(why, why_size, 0, "remove stale socket %s: %s", path, strerror(-r));
			goto out;
		}
		log_info("removed stale socket %s", path);
	} else if (errno != ENOENT) {
		r = -errno;
		say(why, why_size, 0, "stat %s: %s", path, strerror(-r));
		goto out;
	}
	/* Created with its final mode: no moment more open than configured. */
	old = umask(~mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		r = -errno;
	umask(old);
	if (r < 0) {
		say(why, why_size, 0, "bind %s: %s", path, strerror(-r));
		goto out;
	}
	while (slot < BOUND_MAX - 1 && bound[slot].armed &&
	       strcmp(bound[slot].path, path) != 0)
		slot++;
	snprintf(bound[slot].path, sizeof(bound[slot].path), "%s", path);
	bound[slot].pid = getpid();
	if (!bound[slot].armed) {
		static bool registered;

		if (!registered && atexit(remove_on_failed_start) == 0)
			registered = true;
		bound[slot].armed = true;
	}
	/* Through the directory's descriptor, on the entry itself: no symlink
	 * is followed, and no one but root and the broker's user can change
	 * the entry in between. */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(dirfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		say(why, why_size, 0, "chown %s: %s", path, strerror(-r));
	}
out:
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			log_warn("return to the working directory");
		close(cwd);
	} else if (chdir("/") < 0) {
		log_warn("chdir /");
	}
	return r;
}
