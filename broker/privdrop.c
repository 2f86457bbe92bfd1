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
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

const char *user_spec_parse(const char *spec, uid_t *uid, gid_t *gid, struct passwd **pw)
{
	const char *colon = strchr(spec, ':');
	const char *err = NULL;

	*pw = NULL;
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
	errno = 0;
	*pw = getpwnam(spec);
	if (!*pw)
		return "no such user";
	*uid = (*pw)->pw_uid;
	*gid = (*pw)->pw_gid;
	return NULL;
}

/* The broker's own user: NAME or UID:GID, or stop. */
static void resolve_user(const char *spec, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	const char *why = user_spec_parse(spec, uid, gid, &pw);
	int err = errno;

	if (!why)
		return;
	if (strchr(spec, ':'))
		fatalx("--user %s: %s", spec, why);
	fatalx("--user %s: %s%s%s (create it, e.g. 'useradd --system --no-create-home "
	       "rawbroker', or pass UID:GID)", spec, why, err ? ": " : "",
	       err ? strerror(err) : "");
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

/* Whether priv_drop() narrowed the bounding set (priv_verify_final). */
static bool dropped_bounded;

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
	dropped_bounded = bounded;
	log_event(LOG_LVL_INFO, "privileges dropped", "uid=%u gid=%u caps=cap_net_raw bounding=%s",
		  (unsigned)getuid(), (unsigned)getgid(), bounded ? "cap_net_raw" : "unchanged");
}

/* The value of FIELD ("CapEff:") in TEXT, a /proc/PID/status. */
static bool status_field(const char *text, const char *field, char *val, size_t size)
{
	size_t flen = strlen(field);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = 0;

		if (strncmp(l, field, flen) != 0)
			continue;
		l += flen;
		while (*l == ' ' || *l == '\t')
			l++;
		while (l[n] && l[n] != '\n' && n + 1 < size) {
			val[n] = l[n];
			n++;
		}
		val[n] = '\0';
		return true;
	}
	return false;
}

static void expect_field(const char *text, const char *field, const char *want)
{
	char v[128];

	if (!status_field(text, field, v, sizeof(v)))
		fatalx("/proc/self/status has no %s line; refusing to serve", field);
	if (strcmp(v, want) != 0)
		fatalx("/proc/self/status says %s %s, expected %s; refusing to serve", field, v,
		       want);
}

/*
 * The whole end state, read back from the kernel once the sandbox is in
 * place (STYLE.md #2): non-root ids, exactly CAP_NET_RAW permitted and
 * effective (and bounding, where it could be narrowed), nothing
 * inheritable or ambient, NO_NEW_PRIVS, seccomp filter mode.  Any
 * difference: a fatal line and exit 1, before the first client is served.
 */
void priv_verify_final(void)
{
	char text[4096], v[128];
	unsigned long long ids[4];
	ssize_t n;
	size_t len = 0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fatal("open /proc/self/status to verify the privilege drop");
	while (len < sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	text[len] = '\0';
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "Gid:" : "Uid:";

		if (!status_field(text, f, v, sizeof(v)) ||
		    sscanf(v, "%llu %llu %llu %llu", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
			fatalx("/proc/self/status: no %s line; refusing to serve", f);
		for (int k = 0; k < 4; k++)
			if (ids[k] == 0)
				fatalx("/proc/self/status: %s %s holds 0; refusing to serve", f, v);
	}
	expect_field(text, "CapEff:", "0000000000002000");
	expect_field(text, "CapPrm:", "0000000000002000");
	expect_field(text, "CapInh:", "0000000000000000");
	expect_field(text, "CapAmb:", "0000000000000000");
	if (dropped_bounded)
		expect_field(text, "CapBnd:", "0000000000002000");
	expect_field(text, "NoNewPrivs:", "1");
	expect_field(text, "Seccomp:", "2");
	log_event(LOG_LVL_INFO, "sandbox verified",
		  "caps=cap_net_raw no_new_privs=1 seccomp=filter bounding=%s",
		  dropped_bounded ? "cap_net_raw" : "unchanged");
}
