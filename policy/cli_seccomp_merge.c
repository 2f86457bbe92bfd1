/* SPDX-License-Identifier: MIT */
/*
 * cli_seccomp_merge.c - rawbroker-policy seccomp --base: the client
 * confinement profile (client_seccomp.c's table) merged into a container
 * runtime's OCI profile.  Only the CLI reads a runtime's JSON and links
 * jansson; rawbrokerd builds client_seccomp.c alone.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>

#include "cli_seccomp_merge.h"
#include "client_seccomp_impl.h"

#define BASE_MAX (4u << 20) /* a runtime's default profile is ~20 KiB */

/* Print a reason into WHY, for the caller to show after the base's name. */
static int base_error(char *why, size_t whylen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int base_error(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return err;
}

/* Whether our table names the syscall NAME (conditionally or not). */
static bool restricted(const char *name)
{
	for (size_t i = 0; i < rb_sc_nrules; i++)
		for (size_t s = 0; s < 4 && rb_sc_rules[i].syscalls[s]; s++)
			if (strcmp(rb_sc_rules[i].syscalls[s], name) == 0)
				return true;
	return false;
}

/*
 * Whether our table denies NAME only for some arguments (setsockopt and
 * socket): those must stay allowed otherwise, by a catch-all ALLOW.
 */
static bool partly_denied(const char *name)
{
	bool some = false;

	for (size_t i = 0; i < rb_sc_nrules; i++)
		for (size_t s = 0; s < 4 && rb_sc_rules[i].syscalls[s]; s++)
			if (strcmp(rb_sc_rules[i].syscalls[s], name) == 0) {
				if (rb_sc_rules[i].ncmp == 0)
					return false;
				some = true;
			}
	return some;
}

/* Read all of PATH, at most BASE_MAX bytes, into a new *BUF. */
static int read_base(const char *path, char **buf, size_t *len, char *why, size_t whylen)
{
	size_t cap = 64 * 1024, n = 0;
	char *b = NULL;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;

		if (n == cap || !b) {
			char *nb;

			if (b)
				cap *= 2;
			if (cap > BASE_MAX + 1)
				cap = BASE_MAX + 1;
			nb = realloc(b, cap);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			b = nb;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > BASE_MAX) {
			r = base_error(why, whylen, -EFBIG, "larger than %u MiB", BASE_MAX >> 20);
			break;
		}
	}
	close(fd);
	if (r < 0) {
		free(b);
		return r;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Our entry E as a JSON object. */
static json_t *entry_json(const struct oci_entry *e)
{
	json_t *o = json_object(), *names = json_array(), *args = NULL;
	bool good = o && names;

	for (size_t s = 0; good && s < e->nnames; s++)
		good = json_array_append_new(names, json_string(e->names[s])) == 0;
	if (good)
		good = json_object_set_new(o, "names", names) == 0; /* takes NAMES */
	else
		json_decref(names);
	if (e->notify)
		good = good && json_object_set_new(o, "action", json_string("SCMP_ACT_NOTIFY")) == 0;
	else
		good = good && json_object_set_new(o, "action", json_string("SCMP_ACT_ERRNO")) == 0 &&
		       json_object_set_new(o, "errnoRet", json_integer(DENY_ERRNO)) == 0;
	if (good && e->rule->ncmp) {
		args = json_array();
		good = args != NULL;
		for (unsigned c = 0; good && c < e->rule->ncmp; c++) {
			const struct sc_cmp *cmp = &e->rule->cmp[c];

			/* as export_oci(): value is the mask, valueTwo the value */
			good = json_array_append_new(
				       args, json_pack("{s:I, s:I, s:I, s:s}", "index",
						       (json_int_t)cmp->arg, "value",
						       (json_int_t)cmp->mask, "valueTwo",
						       (json_int_t)cmp->value, "op",
						       "SCMP_CMP_MASKED_EQ")) == 0;
		}
		if (good)
			good = json_object_set_new(o, "args", args) == 0; /* takes ARGS */
		else
			json_decref(args);
	}
	good = good && json_object_set_new(o, "comment", json_string(e->rule->why)) == 0;
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The catch-all ALLOW for NAME, a syscall we deny on some arguments only.
 * It must be conditional: libseccomp lets an unconditional rule for a
 * syscall replace every conditional one of it, our denials too.  And it
 * must come last when libseccomp 2.5 sorts a syscall's rules into the
 * filter: higher argument numbers are tested first, and on one argument
 * MASKED_EQ, EQ and NE before LT and LE before GE and GT, larger values
 * first among these.  'a0 >= 0' is therefore tested after our denials (on
 * a1, a2, and on a0 by MASKED_EQ: AF_PACKET, the blocks of families of
 * SOCK_RAW) and after the base's own conditional
 * denials (its socket(AF_NETLINK, ..., NETLINK_AUDIT) rule is on a0 and
 * a2), and every call matches it.  (A mask of 0 would match too, but
 * libseccomp reduces 'a0 & 0 == 0' to an unconditional rule.)  The
 * e2e_seccomp test loads the result and fails if the order is otherwise.
 */
static json_t *catch_all_json(const char *name)
{
	return json_pack("{s:[s], s:s, s:[{s:i, s:i, s:i, s:s}], s:s}", "names", name,
			 "action", "SCMP_ACT_ALLOW", "args", "index", 0, "value", 0,
			 "valueTwo", 0, "op", "SCMP_CMP_GE", "comment",
			 "rawbroker: allowed apart from the denials above; 'a0 >= 0' matches "
			 "every call and libseccomp tests it after them");
}

/*
 * Take our names out of the base's ALLOW entry E (checked by check_base()):
 * 1 when it is to be kept, 0 to drop it (none of its names is left), -1
 * out of memory.  ALLOWED collects which of them the base allowed (for the
 * catch-alls).
 *
 * Unconditional ALLOWs lose our names, or libseccomp would let them replace
 * our conditional denials.  Conditional ALLOWs of our names go too: an
 * ALLOW on a higher argument than our denial is tested before it (the base
 * has socket 'a2 != NETLINK_AUDIT': socket(AF_PACKET, SOCK_RAW, 0) would be
 * allowed there before our a0 and a1 denials are reached).  setsockopt and
 * socket stay allowed by our catch-alls instead.  Conditional denials of
 * the base (not ALLOW) are kept as they are.
 */
static int strip_allow(json_t *e, json_t *allowed)
{
	json_t *names = json_object_get(e, "names"), *name = json_object_get(e, "name");
	bool stripped = false;
	size_t i = 0;

	if (names && !json_is_array(names))
		return -1;
	if (name && !json_is_string(name))
		return -1;
	while (names && i < json_array_size(names)) {
		json_t *n = json_array_get(names, i);

		if (!json_is_string(n))
			return -1;
		if (!restricted(json_string_value(n))) {
			i++;
			continue;
		}
		if (partly_denied(json_string_value(n)) &&
		    json_object_set(allowed, json_string_value(n), json_true()) < 0)
			return -1;
		if (json_array_remove(names, i) < 0)
			return -1;
		stripped = true;
	}
	/* "name": the old single-name form, which podman still reads */
	if (name && restricted(json_string_value(name))) {
		if (partly_denied(json_string_value(name)) &&
		    json_object_set(allowed, json_string_value(name), json_true()) < 0)
			return -1;
		json_object_del(e, "name");
		stripped = true;
	}
	if (stripped && json_array_size(names) == 0 && !json_object_get(e, "name"))
		return 0;
	return 1;
}

/*
 * Check that ROOT is a profile the merge understands: an object with a
 * "defaultAction" string and a "syscalls" array of objects, each with an
 * "action" string, "args" an array or null, "names" an array of strings
 * (and "name" a string).  0, or -EINVAL with WHY.
 */
static int check_base(const json_t *root, char *why, size_t whylen)
{
	const json_t *def = json_object_get(root, "defaultAction");
	const json_t *sc = json_object_get(root, "syscalls");
	const json_t *ret = json_object_get(root, "defaultErrnoRet");
	const json_t *ename = json_object_get(root, "defaultErrno"); /* podman's */
	bool eperm;

	if (!json_is_object(root))
		return base_error(why, whylen, -EINVAL, "not a JSON object");
	if (!json_is_array(sc))
		return base_error(why, whylen, -EINVAL, "no \"syscalls\" array");
	if (!json_is_string(def))
		return base_error(why, whylen, -EINVAL, "no \"defaultAction\" string");
	/* Our denials would repeat the default action: libseccomp refuses such
	 * a rule and runc skips it, which would leave the catch-all ALLOW of
	 * socket with nothing before it. */
	if (ret)
		eperm = json_is_integer(ret) && json_integer_value(ret) == DENY_ERRNO;
	else
		eperm = !json_is_string(ename) || strcmp(json_string_value(ename), "EPERM") == 0;
	if (strcmp(json_string_value(def), "SCMP_ACT_ERRNO") == 0 && eperm)
		return base_error(why, whylen, -EINVAL,
				  "its defaultAction denies with EPERM, as our entries do: "
				  "a runtime would drop them as redundant");
	for (size_t i = 0; i < json_array_size(sc); i++) {
		const json_t *e = json_array_get(sc, i);
		const json_t *args = json_object_get(e, "args");
		const json_t *names = json_object_get(e, "names");
		const json_t *name = json_object_get(e, "name");

		if (!json_is_object(e) || !json_is_string(json_object_get(e, "action")))
			return base_error(why, whylen, -EINVAL,
					  "syscalls[%zu]: not an object with an \"action\" string", i);
		if (args && !json_is_array(args) && !json_is_null(args))
			return base_error(why, whylen, -EINVAL,
					  "syscalls[%zu]: \"args\" is not an array", i);
		if ((names && !json_is_array(names)) || (name && !json_is_string(name)))
			return base_error(why, whylen, -EINVAL,
					  "syscalls[%zu]: \"names\" is not an array of strings", i);
		for (size_t n = 0; n < json_array_size(names); n++)
			if (!json_is_string(json_array_get(names, n)))
				return base_error(why, whylen, -EINVAL,
						  "syscalls[%zu]: \"names\" is not an array of strings",
						  i);
	}
	return 0;
}

int rb_seccomp_base_load(const char *path, struct rb_seccomp_base **out, char *why,
			 size_t whylen)
{
	json_error_t jerr;
	json_t *root;
	char *buf = NULL;
	size_t len = 0;
	int r;

	why[0] = '\0';
	r = read_base(path, &buf, &len, why, whylen);
	if (r < 0)
		return r;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!root)
		return base_error(why, whylen, -EINVAL, "line %d col %d: %s", jerr.line,
				  jerr.column, jerr.text);
	r = check_base(root, why, whylen);
	if (r < 0) {
		json_decref(root);
		return r;
	}
	*out = (struct rb_seccomp_base *)root;
	return 0;
}

void rb_seccomp_base_free(struct rb_seccomp_base *base)
{
	json_decref((json_t *)base);
}

/* ROOT, a copy of a checked base, merged with our entries for CONF. */
static int merge(json_t *root, const struct rb_prepare *conf, const struct arch_set *set)
{
	json_t *old = json_object_get(root, "syscalls"), *merged, *allowed;
	bool default_allow =
		strcmp(json_string_value(json_object_get(root, "defaultAction")),
		       "SCMP_ACT_ALLOW") == 0;
	int r = 0;

	merged = json_array();
	allowed = json_object();
	if (!merged || !allowed) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(old) && r == 0; i++) {
		json_t *e = json_array_get(old, i);
		int keep = 1;

		/* unknown actions pass through: the runtime judges them */
		if (strcmp(json_string_value(json_object_get(e, "action")), "SCMP_ACT_ALLOW") == 0)
			keep = strip_allow(e, allowed);
		if (keep < 0 || (keep && json_array_append(merged, e) < 0))
			r = -ENOMEM;
	}
	/*
	 * Ours, the unconditional ones first.  On x86, libseccomp turns a
	 * socket() rule with arguments into a socketcall(SYS_SOCKET) rule
	 * without them, and refuses one (EEXIST) whose action differs from
	 * such a rule already there, as the base's socket EINVAL rule and
	 * our EPERM ones do.  Once socketcall is denied outright, it takes
	 * those in silently.  (The order changes nothing else: libseccomp
	 * sorts a syscall's rules itself.)
	 */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < rb_sc_nrules && r == 0; i++) {
			struct oci_entry e;

			if ((rb_sc_rules[i].ncmp == 0) != (pass == 0))
				continue;
			r = rb_sc_oci_entry(&rb_sc_rules[i], conf, 0, set, &e);
			if (r == 1)
				r = json_array_append_new(merged, entry_json(&e)) < 0 ? -ENOMEM
										       : 0;
		}
	/* The catch-alls, in table order.  With an ALLOW default the base
	 * allows them already (and a rule repeating the default is refused);
	 * where the base never allowed them, they stay denied. */
	for (size_t i = 0; i < rb_sc_nrules && r == 0 && !default_allow; i++)
		for (size_t s = 0; s < 4 && rb_sc_rules[i].syscalls[s] && r == 0; s++) {
			const char *name = rb_sc_rules[i].syscalls[s];

			if (!json_object_get(allowed, name))
				continue;
			json_object_del(allowed, name); /* once */
			r = json_array_append_new(merged, catch_all_json(name)) < 0 ? -ENOMEM : 0;
		}
	if (r == 0 && json_object_set(root, "syscalls", merged) < 0)
		r = -ENOMEM;
out:
	json_decref(merged);
	json_decref(allowed);
	return r;
}

int rb_seccomp_export_merged(FILE *out, const struct rb_prepare *conf,
			     const struct rb_seccomp_base *base)
{
	const struct arch_set *set = rb_sc_native_arch_set();
	json_t *root;
	int r;

	if (!set)
		return -ENOTSUP;
	root = json_deep_copy((const json_t *)base);
	if (!root)
		return -ENOMEM;
	r = merge(root, conf, set);
	if (r == 0) {
		errno = 0;
		if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
		    fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
			r = errno ? -errno : -EIO;
	}
	json_decref(root);
	return r;
}
