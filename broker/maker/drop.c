/* SPDX-License-Identifier: MIT */
/*
 * drop.c - the one privilege drop of rawbroker: front, maker and relay.
 *
 * Modelled on minijail and bubblewrap: clear groups, then gid, then uid,
 * then capabilities (bounding, ambient, inheritable), then NO_NEW_PRIVS;
 * then read every id and set back from the kernel and stop if it differs.
 * The seccomp filter comes after, loaded by the caller, and drop_verify()
 * sees it too.
 */
#include "drop.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>



/* WHY: "what failed: strerror(ERR)" (ERR 0: EPERM); returns -ERR. */
__attribute__((format(printf, 4, 5))) static int fail(char *why, size_t n, int err,
						      const char *fmt, ...)
{
	size_t o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	err = err ? err : EPERM;
	o = strlen(why);
	if (o < n)
		snprintf(why + o, n - o, ": %s", strerror(err));
	return -err;
}

__attribute__((format(printf, 3, 4))) static int differs(char *why, size_t n, const char *fmt,
							 ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -EPERM;
}

const char *drop_user_parse(const char *spec, uid_t *uid, gid_t *gid, const char **name_out)
{
	const char *colon = strchr(spec, ':');
	const char *err = NULL;
	struct passwd *pw;

	*name_out = NULL;
	if (colon) {
		char u[32];
		size_t n = (size_t)(colon - spec);

		if (n == 0 || n >= sizeof(u))
			return "expected NAME or UID:GID";
		memcpy(u, spec, n);
		u[n] = '\0';
		*uid = (uid_t)strtonum(u, 0, UINT32_MAX - 1, &err);
		if (!err)
			*gid = (gid_t)strtonum(colon + 1, 0, UINT32_MAX - 1, &err);
		return err ? "expected NAME or UID:GID with numbers in range" : NULL;
	}
	if (!*spec)
		return "empty user name";
	errno = 0;
	pw = getpwnam(spec);
	if (!pw)
		return "no such user";
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	*name_out = spec;
	return NULL;
}

static bool cap_permitted(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (c)
		cap_get_flag(c, cap, CAP_PERMITTED, &v);
	cap_free(c);
	return v == CAP_SET;
}

/* Permitted and effective = PE, inheritable = INH (capability bit masks).
 * 0 or -errno, taken before cap_free(). */
static int set_caps(uint64_t pe, uint64_t inh)
{
	cap_t c = cap_init(); /* all sets empty */
	int r = 0;

	if (!c)
		return -ENOMEM;
	for (cap_value_t v = 0; v < 64 && r == 0; v++) {
		if (pe >> v & 1)
			r = cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET) |
			    cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
		if (r == 0 && inh >> v & 1)
			r = cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET);
	}
	if (r == 0)
		r = cap_set_proc(c);
	r = r < 0 ? -(errno ? errno : EPERM) : 0;
	cap_free(c);
	return r;
}

int drop_privileges(const struct drop_spec *s, struct drop_state *st, char *why, size_t n)
{
	const uint64_t setpcap = 1ull << CAP_SETPCAP;
	bool root = geteuid() == 0;
	int r;

	memset(st, 0, sizeof(*st));
	errno = 0;
	if (root != s->switch_user)
		return differs(why, n, root ? "started as root: a user to switch to is needed"
					    : "a user switch needs a start as root");
	if (root && (s->uid == 0 || s->gid == 0))
		return differs(why, n, "uid %u gid %u is root; an unprivileged user is needed",
			       (unsigned)s->uid, (unsigned)s->gid);
	for (cap_value_t v = 0; v < 64; v++) {
		char *name, up[32];
		size_t k;

		if (!(s->keep >> v & 1) || cap_permitted(v))
			continue;
		name = cap_to_name(v); /* "cap_net_raw" */
		for (k = 0; name && name[k] && k + 1 < sizeof(up); k++)
			up[k] = (char)toupper((unsigned char)name[k]);
		up[k] = '\0';
		cap_free(name);
		return differs(why, n, "%s is not permitted: start as root, or grant it "
			       "(systemd AmbientCapabilities=, podman --cap-add)", up);
	}
	/* CAP_SETPCAP effective while the bounding set is narrowed. */
	if (cap_permitted(CAP_SETPCAP)) {
		/* root has it effective already (and needs the rest for the
		 * switch); another user raises it, giving up all but KEEP. */
		if (!root && (r = set_caps(s->keep | setpcap, 0)) < 0)
			return fail(why, n, -r, "raise CAP_SETPCAP");
		st->bounded = true;
	}
	if (s->switch_user) {
		/* Keep the permitted set across setresuid(), so KEEP survives. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return fail(why, n, errno, "PR_SET_KEEPCAPS");
		if (s->initgroups ? initgroups(s->initgroups, s->gid) < 0 : setgroups(0, NULL) < 0)
			return fail(why, n, errno, "set supplementary groups");
		if (setresgid(s->gid, s->gid, s->gid) < 0)
			return fail(why, n, errno, "setresgid %u", (unsigned)s->gid);
	}
	if (st->bounded) {
		for (cap_value_t v = 0; prctl(PR_CAPBSET_READ, v) >= 0; v++)
			if (!(s->keep >> v & 1) && prctl(PR_CAPBSET_READ, v) == 1 &&
			    prctl(PR_CAPBSET_DROP, v) < 0)
				return fail(why, n, errno, "drop capability %d from the bounding set",
					    (int)v);
	}
	if (s->switch_user) {
		if (setresuid(s->uid, s->uid, s->uid) < 0)
			return fail(why, n, errno, "setresuid %u", (unsigned)s->uid);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return fail(why, n, errno, "PR_SET_KEEPCAPS");
		st->switched = true;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail(why, n, errno, "clear ambient capabilities");
	if ((r = set_caps(s->keep, s->ambient ? s->keep : 0)) < 0)
		return fail(why, n, -r, "set capabilities");
	for (cap_value_t v = 0; s->ambient && v < 64; v++)
		if (s->keep >> v & 1 &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) < 0)
			return fail(why, n, errno, "raise ambient capability %d", (int)v);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(why, n, errno, "PR_SET_NO_NEW_PRIVS");
	st->ngroups = getgroups(0, NULL);
	return 0;
}

/* The value of FIELD ("CapEff:") in TEXT, a /proc/PID/status. */
static bool status_field(const char *text, const char *field, char *val, size_t size)
{
	size_t flen = strlen(field);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t k = 0;

		if (strncmp(l, field, flen) != 0)
			continue;
		l += flen;
		while (*l == ' ' || *l == '\t')
			l++;
		while (l[k] && l[k] != '\n' && k + 1 < size) {
			val[k] = l[k];
			k++;
		}
		val[k] = '\0';
		return true;
	}
	return false;
}

static int expect_hex(const char *text, const char *field, uint64_t want, char *why,
		      size_t n)
{
	char v[64], w[24];

	snprintf(w, sizeof(w), "%016" PRIx64, want);
	if (!status_field(text, field, v, sizeof(v)))
		return differs(why, n, "/proc/self/status has no %s line", field);
	if (strcmp(v, w) != 0)
		return differs(why, n, "/proc/self/status says %s %s, expected %s", field, v, w);
	return 0;
}

int drop_verify(int fd, const struct drop_spec *s, const struct drop_state *st, bool seccomp,
		char *why, size_t n)
{
	char text[4096], v[128];
	unsigned long long ids[4];
	size_t len = 0;
	ssize_t r;
	int e;

	while (len < sizeof(text) - 1 &&
	       (r = pread(fd, text + len, sizeof(text) - 1 - len, (off_t)len)) > 0)
		len += (size_t)r;
	text[len] = '\0';
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "Gid:" : "Uid:";

		if (!status_field(text, f, v, sizeof(v)) ||
		    sscanf(v, "%llu %llu %llu %llu", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
			return differs(why, n, "/proc/self/status: no %s line", f);
		for (int k = 0; k < 4; k++)
			if (ids[k] == 0 ||
			    (st->switched && ids[k] != (i ? s->gid : s->uid)))
				return differs(why, n, "/proc/self/status: %s %s is not what was "
					       "set", f, v);
	}
	if (st->switched && !s->initgroups &&
	    (!status_field(text, "Groups:", v, sizeof(v)) || v[0] != '\0'))
		return differs(why, n, "supplementary groups remain: %s", v);
	if ((e = expect_hex(text, "CapPrm:", s->keep, why, n)) ||
	    (e = expect_hex(text, "CapEff:", s->keep, why, n)) ||
	    (e = expect_hex(text, "CapInh:", s->ambient ? s->keep : 0, why, n)) ||
	    (e = expect_hex(text, "CapAmb:", s->ambient ? s->keep : 0, why, n)) ||
	    (st->bounded && (e = expect_hex(text, "CapBnd:", s->keep, why, n))))
		return e;
	if (!status_field(text, "NoNewPrivs:", v, sizeof(v)) || strcmp(v, "1") != 0)
		return differs(why, n, "NoNewPrivs is not 1");
	if (seccomp && (!status_field(text, "Seccomp:", v, sizeof(v)) || strcmp(v, "2") != 0))
		return differs(why, n, "no seccomp filter (Seccomp: %s)", v);
	return 0;
}
