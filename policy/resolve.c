/* SPDX-License-Identifier: MIT */
/*
 * resolve.c - the system resolver: user and group names through
 * getpwnam_r() and getgrnam_r().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrordesc_np() */
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h> /* libbsd overlay: strtonum(), reallocarray() */
#include <string.h> /* libbsd overlay: strlcpy(), strlcat() */
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "parse_impl.h"


/* ---- the system resolver --------------------------------------------- */

/* getpwnam_r() and getgrnam_r() report "no such name" in several ways. */
static int lookup_result(int err, bool found)
{
	if (err == 0)
		return found ? 0 : -ENOENT;
	if (err == ENOENT || err == ESRCH)
		return -ENOENT;
	return -err;
}

/* getpwnam_r()/getgrnam_r() behind one signature, so the buffer handling
 * below is written once. */
static int pw_lookup(const char *name, char *buf, size_t size, unsigned *id, bool *found)
{
	struct passwd pw, *res = NULL;
	int err = getpwnam_r(name, &pw, buf, size, &res);

	*found = err == 0 && res;
	if (*found)
		*id = pw.pw_uid;
	return err;
}

static int gr_lookup(const char *name, char *buf, size_t size, unsigned *id, bool *found)
{
	struct group gr, *res = NULL;
	int err = getgrnam_r(name, &gr, buf, size, &res);

	*found = err == 0 && res;
	if (*found)
		*id = gr.gr_gid;
	return err;
}

/* Run LOOKUP with a buffer that grows on ERANGE up to LOOKUP_BUF_MAX. */
static int lookup_id(int (*lookup)(const char *, char *, size_t, unsigned *, bool *),
		     const char *name, unsigned *id)
{
	size_t size = 1024;
	char *buf = NULL;
	bool found = false;
	int err;

	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		err = lookup(name, buf, size, id, &found);
		if (err == EINTR)
			continue;
		if (err != ERANGE || size >= LOOKUP_BUF_MAX)
			break;
		size *= 2;
	}
	free(buf);
	return lookup_result(err, found);
}

static int system_user(const char *name, uid_t *uid, void *ctx)
{
	unsigned id = 0;
	int r = lookup_id(pw_lookup, name, &id);

	(void)ctx;
	if (r == 0)
		*uid = (uid_t)id;
	return r;
}

static int system_group(const char *name, gid_t *gid, void *ctx)
{
	unsigned id = 0;
	int r = lookup_id(gr_lookup, name, &id);

	(void)ctx;
	if (r == 0)
		*gid = (gid_t)id;
	return r;
}

const struct rb_resolver rb_resolver_system = {
	.user = system_user,
	.group = system_group,
	.ctx = NULL,
};
