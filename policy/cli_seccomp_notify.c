/* SPDX-License-Identifier: MIT */
/*
 * cli_seccomp_notify.c - rawbroker-policy seccomp --listener PATH: the
 * client profile of a container whose static and Go programs get their raw
 * sockets from the broker by seccomp user notification.
 *
 * The profile is the plain OCI one (client_seccomp.c writes it, so the two
 * cannot disagree), read back and extended:
 *   - "listenerPath": the runtime (runc, crun) connects there when the
 *     container starts and sends the container's state and its seccomp
 *     listener (the OCI seccomp agent protocol); rawbrokerd --seccomp-agent
 *     listens there and answers the notifications;
 *   - one SCMP_ACT_NOTIFY entry per (family, type, protocol) the policy can
 *     grant, so only those calls wait for the broker;
 *   - a socket() denial that does not test the family (a --base's: ours
 *     all do) gets "a0 >= 0" added, an argument test every call passes.
 *
 * Why that last step: libseccomp 2.5 builds one decision tree per system
 * call.  It tests the higher argument first among a call's rules, and on
 * one argument MASKED_EQ (larger values first) before GE; a call that
 * fails deeper in one branch goes on to the next.  A denial such as
 * "a1 & 0xf == SOCK_RAW -> EPERM" (a1) would be tested before the notify
 * entries (they start at a0) and would catch every raw socket.  With
 * "a0 >= 0" in front it sits beside them on a0, after them.  Our own
 * denials test the family with MASKED_EQ (client_seccomp.c: SOCK_RAW by
 * blocks of families, AF_NETLINK left out), which puts them after the
 * notify entries' exact families already: a served tuple is notified,
 * every other raw socket still fails with EPERM.  policy_cli and
 * e2e_seccomp load the profile and fail if the order is otherwise.  (Two rules whose conditions overlap
 * with different actions are refused by libseccomp, or by runc, which
 * splits a rule with two tests of one argument into several: a "not these
 * tuples" cannot be written any other way.)
 *
 * The unconditional entries stay first: on x86 libseccomp turns socket()
 * rules with arguments into a socketcall() rule without them, and refuses
 * a second one with another action (EEXIST) unless socketcall is already
 * denied outright.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli_seccomp_merge.h"
#include "cli_seccomp_notify.h"
#include "policy_impl.h" /* rb_families, rb_protocols: the comments' words */

#define INT_MASK 0xffffffffu /* an int argument: its low 32 bits */
#define TYPE_MASK 0xfu       /* the kernel's SOCK_TYPE_MASK: no flags */

/* The plain profile for CONF (merged with BASE when there is one),
 * parsed (a new reference), or NULL with *ERR. */
static json_t *plain_profile(const struct rb_prepare *conf, const struct rb_seccomp_base *base,
			     int *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	json_t *root = NULL;
	int r;

	if (!mem) {
		*err = -errno;
		return NULL;
	}
	r = base ? rb_seccomp_export_merged(mem, conf, base)
		 : rb_seccomp_export(mem, RB_SECCOMP_OCI, conf);
	if (fclose(mem) != 0 && r == 0)
		r = -errno;
	if (r == 0) {
		root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
		if (!root)
			r = -EINVAL; /* our own writer's JSON: a bug */
	}
	free(text);
	*err = r;
	return root;
}

/* The policy language's word for V (of FAMILY, for a protocol), else V. */
static const char *word(const struct rb_word *w, int v, int family, char *buf, size_t n)
{
	for (; w->name; w++)
		if (w->value == v && (!w->family || !family || w->family == family))
			return w->name;
	snprintf(buf, n, "%d", v);
	return buf;
}

/* The notify entry for socket(FAMILY, TYPE, PROTOCOL). */
static json_t *notify_entry(const struct rb_class *c)
{
	char comment[160], fb[16], tb[16], pb[16];

	snprintf(comment, sizeof(comment),
		 "rawbroker: socket(%s, %s, %s) waits for the broker, which answers by the "
		 "policy (seccomp user notification)",
		 word(rb_families, c->family, 0, fb, sizeof(fb)),
		 word(rb_types, c->type, 0, tb, sizeof(tb)),
		 word(rb_protocols, c->protocol, c->family, pb, sizeof(pb)));
	return json_pack("{s:[s], s:s, s:[{s:I, s:I, s:I, s:s}, {s:I, s:I, s:I, s:s}, "
			 "{s:I, s:I, s:I, s:s}], s:s}",
			 "names", "socket", "action", "SCMP_ACT_NOTIFY", "args",
			 "index", (json_int_t)0, "value", (json_int_t)INT_MASK, "valueTwo",
			 (json_int_t)c->family, "op", "SCMP_CMP_MASKED_EQ",
			 "index", (json_int_t)1, "value", (json_int_t)TYPE_MASK, "valueTwo",
			 (json_int_t)c->type, "op", "SCMP_CMP_MASKED_EQ",
			 "index", (json_int_t)2, "value", (json_int_t)INT_MASK, "valueTwo",
			 (json_int_t)c->protocol, "op", "SCMP_CMP_MASKED_EQ",
			 "comment", comment);
}

static bool is_socket_entry(const json_t *e)
{
	const json_t *names = json_object_get(e, "names");

	return json_array_size(names) == 1 &&
	       strcmp(json_string_value(json_array_get(names, 0)) ?: "", "socket") == 0;
}

static json_t *ge0(int index)
{
	return json_pack("{s:i, s:i, s:i, s:s}", "index", index, "value", 0, "valueTwo", 0,
			 "op", "SCMP_CMP_GE");
}

/* Whether E is --base's catch-all ALLOW of socket(): "a0 >= 0" alone. */
static bool is_catch_all(const json_t *e)
{
	const json_t *args = json_object_get(e, "args"), *a;

	if (strcmp(json_string_value(json_object_get(e, "action")) ?: "", "SCMP_ACT_ALLOW") != 0 ||
	    json_array_size(args) != 1)
		return false;
	a = json_array_get(args, 0);
	return json_integer_value(json_object_get(a, "index")) == 0 &&
	       strcmp(json_string_value(json_object_get(a, "op")) ?: "", "SCMP_CMP_GE") == 0 &&
	       json_integer_value(json_object_get(a, "value")) == 0;
}

/*
 * Put "a0 >= 0" in front of a socket() denial E that does not test a0
 * (see the top of the file).  --base's catch-all ALLOW of socket() is
 * "a0 >= 0" already: it gets "a1 >= 0" after it, so that it and the
 * denials share the a0 node and part on a1, where libseccomp tests the
 * denials' MASKED_EQ first (a rule that is a prefix of another with
 * another action would be refused).  0 or -ENOMEM.
 */
static int after_notify(json_t *e)
{
	json_t *args = json_object_get(e, "args"), *a0;

	if (is_catch_all(e))
		return json_array_append_new(args, ge0(1)) < 0 ? -ENOMEM : 0;
	for (size_t i = 0; i < json_array_size(args); i++)
		if (json_integer_value(json_object_get(json_array_get(args, i), "index")) == 0)
			return 0;
	a0 = ge0(0);
	if (!a0 || json_array_insert_new(args, 0, a0) < 0)
		return -ENOMEM;
	return 0;
}

/* Whether C repeats an earlier class's (family, type, protocol): the
 * marks differ, the call is the same. */
static bool seen(const struct rb_class *cls, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (cls[k].family == cls[i].family && cls[k].type == cls[i].type &&
		    cls[k].protocol == cls[i].protocol)
			return true;
	return false;
}

/* ROOT's syscalls: unconditional entries, the notify entries, the rest. */
static int add_notify(json_t *root, const struct rb_class *cls, size_t ncls)
{
	json_t *old = json_object_get(root, "syscalls"), *sc = json_array();
	int r = sc ? 0 : -ENOMEM;

	for (int pass = 0; pass < 2 && r == 0; pass++) {
		for (size_t i = 0; i < json_array_size(old) && r == 0; i++) {
			json_t *e = json_array_get(old, i);
			bool cond = json_array_size(json_object_get(e, "args")) > 0;

			if (cond != (pass == 1))
				continue;
			if (cond && is_socket_entry(e))
				r = after_notify(e);
			if (r == 0 && json_array_append(sc, e) < 0)
				r = -ENOMEM;
		}
		for (size_t i = 0; pass == 0 && i < ncls && r == 0; i++)
			if (!seen(cls, i) && json_array_append_new(sc, notify_entry(&cls[i])) < 0)
				r = -ENOMEM;
	}
	if (r == 0 && json_object_set(root, "syscalls", sc) < 0)
		r = -ENOMEM;
	json_decref(sc);
	return r;
}

int rb_seccomp_export_notify(FILE *out, const struct rb_prepare *conf,
			     const struct rb_class *cls, size_t ncls, const char *listener,
			     const struct rb_seccomp_base *base)
{
	json_t *root, *ordered = NULL;
	int r;

	if (!listener || listener[0] != '/' || strlen(listener) >= RB_LISTENER_PATH_MAX)
		return -EINVAL;
	root = plain_profile(conf, base, &r);
	if (!root)
		return r;
	r = add_notify(root, cls, ncls);
	/* listenerPath right after the default action, for the reader (a
	 * --base may have no "architectures", only an "archMap"). */
	if (r == 0) {
		const char *key;
		json_t *v;

		ordered = json_object();
		r = ordered ? 0 : -ENOMEM;
		json_object_foreach(root, key, v) {
			if (r == 0 && strcmp(key, "listenerPath") != 0 &&
			    json_object_set(ordered, key, v) < 0)
				r = -ENOMEM;
			if (r == 0 && strcmp(key, "defaultAction") == 0 &&
			    json_object_set_new(ordered, "listenerPath", json_string(listener)) < 0)
				r = -ENOMEM;
		}
		if (r == 0 && !json_object_get(ordered, "listenerPath"))
			r = -EINVAL; /* no defaultAction: not a profile (a bug) */
	}
	if (r == 0) {
		errno = 0;
		if (json_dumpf(ordered, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
		    fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
			r = errno ? -errno : -EIO;
	}
	json_decref(ordered);
	json_decref(root);
	return r;
}
