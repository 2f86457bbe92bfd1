/* SPDX-License-Identifier: MIT */
/*
 * privdrop.c - acquire, drop, verify (STYLE.md #2).
 *
 * Started as root: groups -> gid -> uid (keeping capabilities across the
 * switch), then capabilities: permitted = effective = {CAP_NET_RAW},
 * inheritable and ambient empty, bounding set {CAP_NET_RAW}; then
 * NO_NEW_PRIVS.  Started as a non-root user that holds CAP_NET_RAW (systemd
 * AmbientCapabilities=, podman --cap-add): the same capability sets without
 * the uid switch; supplementary groups cannot be dropped there (no
 * CAP_SETGID) and are reported.  The bounding set is narrowed only where
 * CAP_SETPCAP is permitted; otherwise it is left and said so: with
 * NO_NEW_PRIVS and no execve() it grants nothing.  Either way the result is
 * read back from the kernel and the broker stops if it differs from what
 * was set.  Never serves as root.
 *
 * The broker's own seccomp sandbox comes after this step (see
 * ARCHITECTURE.md, "Security model").
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/* "NAME" (its passwd entry's uid and primary gid) or "UID:GID". */
static void resolve_user(const char *spec, uid_t *uid, gid_t *gid)
{
	const char *colon = strchr(spec, ':');
	const char *err = NULL;
	struct passwd *pw;

	if (colon) {
		char u[32];
		size_t n = (size_t)(colon - spec);

		if (n == 0 || n >= sizeof(u))
			fatalx("--user %s: expected NAME or UID:GID", spec);
		memcpy(u, spec, n);
		u[n] = '\0';
		*uid = (uid_t)strtonum(u, 0, UINT32_MAX - 1, &err);
		if (!err)
			*gid = (gid_t)strtonum(colon + 1, 0, UINT32_MAX - 1, &err);
		if (err)
			fatalx("--user %s: expected NAME or UID:GID (%s)", spec, err);
		return;
	}
	errno = 0;
	pw = getpwnam(spec);
	if (!pw)
		fatalx("--user %s: no such user%s%s (create it, e.g. "
		       "'useradd --system --no-create-home rawbroker', or pass UID:GID)",
		       spec, errno ? ": " : "", errno ? strerror(errno) : "");
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

static void set_caps(const cap_value_t *caps, int ncaps)
{
	cap_t c = cap_init(); /* all sets empty */

	if (!c)
		fatal("cap_init");
	if (ncaps && (cap_set_flag(c, CAP_PERMITTED, ncaps, caps, CAP_SET) < 0 ||
		      cap_set_flag(c, CAP_EFFECTIVE, ncaps, caps, CAP_SET) < 0))
		fatal("cap_set_flag");
	if (cap_set_proc(c) < 0)
		fatal("cap_set_proc");
	cap_free(c);
}

/* Bounding set down to CAP_NET_RAW; needs CAP_SETPCAP in effective. */
static void limit_bounding_set(void)
{
	for (cap_value_t v = 0; prctl(PR_CAPBSET_READ, v) >= 0; v++) {
		if (v == CAP_NET_RAW || prctl(PR_CAPBSET_READ, v) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, v) < 0)
			fatal("drop capability %d from the bounding set", (int)v);
	}
}

static bool permitted(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (!c || cap_get_flag(c, cap, CAP_PERMITTED, &v) < 0)
		fatal("cap_get_proc");
	cap_free(c);
	return v == CAP_SET;
}

static bool bounding_holds_more(void)
{
	for (cap_value_t v = 0; prctl(PR_CAPBSET_READ, v) >= 0; v++)
		if (v != CAP_NET_RAW && prctl(PR_CAPBSET_READ, v) == 1)
			return true;
	return false;
}

/* Read back what the kernel holds and compare with what was asked. */
static void verify(bool switched, bool bounded, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	cap_t have, want;
	cap_value_t raw = CAP_NET_RAW;
	int cmp;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		fatal("getresuid");
	if (ru == 0 || eu == 0 || su == 0)
		fatalx("still root after dropping privileges; refusing to serve");
	if (switched && (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
			 sg != gid || getgroups(0, NULL) != 0))
		fatalx("uid/gid/groups are not what was set; refusing to serve");

	have = cap_get_proc();
	want = cap_init();
	if (!have || !want)
		fatal("cap_get_proc");
	cap_set_flag(want, CAP_PERMITTED, 1, &raw, CAP_SET);
	cap_set_flag(want, CAP_EFFECTIVE, 1, &raw, CAP_SET);
	cmp = cap_compare(have, want);
	cap_free(have);
	cap_free(want);
	if (cmp != 0)
		fatalx("capabilities are not exactly CAP_NET_RAW; refusing to serve");
	for (cap_value_t v = 0; prctl(PR_CAPBSET_READ, v) >= 0; v++) {
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, v, 0, 0) == 1)
			fatalx("ambient capability %d still set; refusing to serve", (int)v);
		if (bounded && v != CAP_NET_RAW && prctl(PR_CAPBSET_READ, v) == 1)
			fatalx("bounding set still holds capability %d; refusing to serve",
			       (int)v);
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fatalx("no_new_privs not set; refusing to serve");
}

void priv_drop(const char *user)
{
	static const cap_value_t raw_and_setpcap[] = { CAP_NET_RAW, CAP_SETPCAP };
	static const cap_value_t raw_only[] = { CAP_NET_RAW };
	bool switched = false, bounded = false;
	uid_t uid = 0;
	gid_t gid = 0;
	int ngroups;

	if (geteuid() == 0) {
		resolve_user(user, &uid, &gid);
		if (uid == 0 || gid == 0)
			fatalx("--user %s is root; the broker must run as a dedicated "
			       "unprivileged user", user);
		/* Keep the permitted set across setresuid() so CAP_NET_RAW
		 * survives; everything else is removed below. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			fatal("PR_SET_KEEPCAPS");
		if (setgroups(0, NULL) < 0)
			fatal("setgroups");
		if (setresgid(gid, gid, gid) < 0)
			fatal("setresgid %u", (unsigned)gid);
		if (setresuid(uid, uid, uid) < 0)
			fatal("setresuid %u", (unsigned)uid);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			fatal("PR_SET_KEEPCAPS");
		switched = true;
	}
	if (!permitted(CAP_NET_RAW))
		fatalx("CAP_NET_RAW is not permitted: start the broker as root, or "
		       "grant it CAP_NET_RAW (systemd AmbientCapabilities=, "
		       "podman --cap-add NET_RAW)");
	if (permitted(CAP_SETPCAP)) {
		set_caps(raw_and_setpcap, 2);
		limit_bounding_set();
		bounded = true;
	} else if (bounding_holds_more()) {
		log_warnx("no CAP_SETPCAP: the capability bounding set stays as it was; "
			  "with no_new_privs and no execve() it grants nothing");
	}
	ngroups = getgroups(0, NULL);
	if (!switched && ngroups > 0)
		log_warnx("started as uid %u with %d supplementary groups, which it cannot "
			  "drop; run the broker without them (systemd: no "
			  "SupplementaryGroups=)", (unsigned)getuid(), ngroups);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		fatal("clear ambient capabilities");
	set_caps(raw_only, 1);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("PR_SET_NO_NEW_PRIVS");
	verify(switched, bounded, uid, gid);
	log_event(LOG_LVL_INFO, "privileges dropped", "uid=%u gid=%u caps=cap_net_raw bounding=%s",
		  (unsigned)getuid(), (unsigned)getgid(), bounded ? "cap_net_raw" : "unchanged");
}
