/* SPDX-License-Identifier: MIT */
/*
 * stats.c - see stats.h.
 *
 * Everything here runs in the front's event loop and costs a request one
 * table look-up.  The metrics file is small (a few KiB) and written to a
 * local directory by the loop itself, every --metrics-interval: the write
 * is not made asynchronous, as a node_exporter textfile directory is a
 * local tmpfs or disk.  The front creates nothing else: its seccomp filter
 * lets openat/renameat/unlinkat create, replace and remove entries only
 * through the one directory descriptor opened here before the sandbox
 * (sandbox.c), with the exact open flags used below.
 */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "frame.h"
#include "log.h"
#include "maker_link.h"

/* The flags the sandbox allows for creating the temporary file: exactly
 * these (sandbox.c compares them). */
#define METRICS_OPEN_FLAGS (O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC)

struct rule_count {
	char rule[RB_RULE_NAME_WIRE_MAX];
	int family;
	uint64_t n[3]; /* by enum stats_outcome */
};

static struct rule_count rules[STATS_RULES_MAX];
static size_t nrules;

static const char *limit_names[RB_STATUS_LIMITS_MAX];
static uint64_t limit_hits[RB_STATUS_LIMITS_MAX];
static size_t nlimits;

static time_t start_time, policy_time;
static int64_t start_mono;
static char policy_path[RB_STATUS_PATH_MAX];

static struct {
	int dirfd;
	char leaf[NAME_MAX + 1], tmp[NAME_MAX + 1];
	unsigned interval_ms;
	int64_t next;     /* CLOCK_MONOTONIC ms */
	bool failing;     /* the last write failed (logged once) */
} metrics = { .dirfd = -1 };

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void stats_init(const char *path)
{
	start_time = policy_time = time(NULL);
	start_mono = mono_ms();
	snprintf(policy_path, sizeof(policy_path), "%s", path ? path : "");
}

void stats_policy_loaded(void)
{
	policy_time = time(NULL);
}

void stats_request(const char *rule, int family, enum stats_outcome o)
{
	static size_t last; /* most requests repeat the previous pair */
	size_t i;

	if (!rule)
		rule = "";
	if (last < nrules && rules[last].family == family && strcmp(rules[last].rule, rule) == 0) {
		rules[last].n[o]++;
		return;
	}
	for (i = 0; i < nrules; i++)
		if (rules[i].family == family && strcmp(rules[i].rule, rule) == 0)
			break;
	if (i == nrules) {
		/* Full: the last slot is "(other)" of no family (AF_UNSPEC),
		 * for every pair not kept. */
		if (nrules == STATS_RULES_MAX - 1 &&
		    (family != AF_UNSPEC || strcmp(rule, "(other)") != 0)) {
			stats_request("(other)", AF_UNSPEC, o);
			return;
		}
		if (nrules == STATS_RULES_MAX)
			return; /* cannot happen: "(other)" was found */
		snprintf(rules[i].rule, sizeof(rules[i].rule), "%s", rule);
		rules[i].family = family;
		nrules++;
	}
	last = i;
	rules[i].n[o]++;
}

void stats_limit_hit(const char *name)
{
	size_t i;

	for (i = 0; i < nlimits; i++)
		if (limit_names[i] == name || strcmp(limit_names[i], name) == 0)
			break;
	if (i == nlimits) {
		if (nlimits == RB_STATUS_LIMITS_MAX)
			return; /* the broker has fewer limits than that */
		limit_names[nlimits++] = name;
	}
	limit_hits[i]++;
}

/* ---- status ---- */

struct uid_n {
	uint32_t uid, n;
};

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_uid_n(const void *a, const void *b)
{
	const struct uid_n *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static uint64_t rule_total(const struct rule_count *r)
{
	return r->n[0] + r->n[1] + r->n[2];
}

static int cmp_rule_ptr(const void *a, const void *b)
{
	uint64_t x = rule_total(*(struct rule_count *const *)a),
		 y = rule_total(*(struct rule_count *const *)b);

	return x > y ? -1 : x < y;
}

/* Connections per uid, most first, into OUT (at most CAP); returns the
 * number of distinct uids.  Uses a scratch array of the connection count. */
static size_t uid_counts(const struct broker *b, struct uid_n *out, size_t cap, size_t *shown)
{
	uint32_t *u = b->nconns ? malloc(b->nconns * sizeof(*u)) : NULL;
	struct uid_n *all;
	size_t n = 0, k = 0;

	*shown = 0;
	if (!u)
		return 0;
	for (const struct conn *c = b->conns; c && n < b->nconns; c = c->next)
		u[n++] = c->cred.uid;
	qsort(u, n, sizeof(*u), cmp_uid);
	all = malloc(n * sizeof(*all));
	if (!all) {
		free(u);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (k && all[k - 1].uid == u[i])
			all[k - 1].n++;
		else
			all[k++] = (struct uid_n){ u[i], 1 };
	}
	qsort(all, k, sizeof(*all), cmp_uid_n);
	*shown = k < cap ? k : cap;
	memcpy(out, all, *shown * sizeof(*out));
	free(all);
	free(u);
	return k;
}

const Rawbroker__BrokerStatus *stats_status(const struct broker *b)
{
	static Rawbroker__BrokerStatus st;
	static Rawbroker__UidConnections uids[RB_STATUS_UIDS_MAX], *uidp[RB_STATUS_UIDS_MAX];
	static Rawbroker__RuleCounters rc[RB_STATUS_RULES_MAX], *rcp[RB_STATUS_RULES_MAX];
	static Rawbroker__PoolClass pool[RB_STATUS_POOL_MAX], *poolp[RB_STATUS_POOL_MAX];
	static Rawbroker__LimitHits lim[RB_STATUS_LIMITS_MAX], *limp[RB_STATUS_LIMITS_MAX];
	static Rawbroker__MakerState mk;
	static struct rule_count *order[STATS_RULES_MAX];
	struct uid_n un[RB_STATUS_UIDS_MAX];
	size_t nu, shown, np;

	st = (Rawbroker__BrokerStatus)RAWBROKER__BROKER_STATUS__INIT;
	st.version = (char *)RB_VERSION;
	st.start_time = (int64_t)start_time;
	st.uptime_seconds = (uint64_t)((mono_ms() - start_mono) / 1000);
	st.policy_path = policy_path;
	st.policy_loaded = (int64_t)policy_time;
	st.connections = (uint32_t)b->nconns;

	nu = uid_counts(b, un, RB_STATUS_UIDS_MAX, &shown);
	for (size_t i = 0; i < shown; i++) {
		uids[i] = (Rawbroker__UidConnections)RAWBROKER__UID_CONNECTIONS__INIT;
		uids[i].uid = un[i].uid;
		uids[i].connections = un[i].n;
		uidp[i] = &uids[i];
	}
	st.uids = uidp;
	st.n_uids = shown;
	st.uids_omitted = (uint32_t)(nu - shown);

	for (size_t i = 0; i < nrules; i++)
		order[i] = &rules[i];
	qsort(order, nrules, sizeof(order[0]), cmp_rule_ptr);
	st.n_rules = nrules < RB_STATUS_RULES_MAX ? nrules : RB_STATUS_RULES_MAX;
	for (size_t i = 0; i < st.n_rules; i++) {
		rc[i] = (Rawbroker__RuleCounters)RAWBROKER__RULE_COUNTERS__INIT;
		rc[i].rule = order[i]->rule;
		rc[i].family = order[i]->family;
		rc[i].grants = order[i]->n[STATS_GRANTED];
		rc[i].denials = order[i]->n[STATS_DENIED];
		rc[i].rate_limited = order[i]->n[STATS_RATE_LIMITED];
		rcp[i] = &rc[i];
	}
	st.rules = rcp;
	st.rules_omitted = (uint32_t)(nrules - st.n_rules);

	np = maker_classes();
	st.n_pool = np < RB_STATUS_POOL_MAX ? np : RB_STATUS_POOL_MAX;
	for (unsigned i = 0; i < st.n_pool; i++) {
		struct rb_class cls;

		pool[i] = (Rawbroker__PoolClass)RAWBROKER__POOL_CLASS__INIT;
		pool[i].ready = maker_class_ready(i, &cls);
		pool[i].family = cls.family;
		pool[i].type = cls.type;
		pool[i].protocol = cls.protocol;
		pool[i].has_mark = cls.has_mark;
		pool[i].mark = cls.mark;
		poolp[i] = &pool[i];
	}
	st.pool = poolp;
	st.pool_omitted = (uint32_t)(np - st.n_pool);

	for (size_t i = 0; i < nlimits; i++) {
		lim[i] = (Rawbroker__LimitHits)RAWBROKER__LIMIT_HITS__INIT;
		lim[i].limit = (char *)limit_names[i];
		lim[i].hits = limit_hits[i];
		limp[i] = &lim[i];
	}
	st.limits = limp;
	st.n_limits = nlimits;

	mk = (Rawbroker__MakerState)RAWBROKER__MAKER_STATE__INIT;
	mk.pid = (int32_t)maker_pid();
	mk.alive = !b->failed && maker_pid() > 0;
	mk.classes = (uint32_t)np;
	st.maker = &mk;
	/* Room for the reply around it (reason, rule, header): drop the
	 * least used rules until it fits one record. */
	while (st.n_rules && rawbroker__broker_status__get_packed_size(&st) + RB_REASON_MAX +
				     RB_RULE_NAME_WIRE_MAX + 64 > RB_FRAME_MAX) {
		st.n_rules--;
		st.rules_omitted++;
	}
	return &st;
}

/* ---- metrics file ---- */

int stats_metrics_open(const char *path, unsigned interval_s, char *why, size_t n)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	const char *leaf = slash ? slash + 1 : path;
	int fd;

	if (!*leaf || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0 ||
	    strlen(leaf) + 6 > NAME_MAX) {
		snprintf(why, n, "%s: not a file name", path);
		return -EINVAL;
	}
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(why, n, "directory %s: %s", dir, strerror(e));
		return -e;
	}
	metrics.dirfd = fd;
	snprintf(metrics.leaf, sizeof(metrics.leaf), "%s", leaf);
	/* A dot file: node_exporter's textfile collector reads only *.prom. */
	snprintf(metrics.tmp, sizeof(metrics.tmp), ".%s.tmp", leaf);
	metrics.interval_ms = interval_s * 1000u;
	metrics.next = 0; /* the first file at once */
	return fd;
}

int stats_metrics_due(void)
{
	int64_t left;

	if (metrics.dirfd < 0)
		return -1;
	left = metrics.next - mono_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* A label value as the exposition format wants it: \ " and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static const char *family_label(int family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "other";
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void rule_family(FILE *f, const char *name, int which)
{
	for (size_t i = 0; i < nrules; i++) {
		fprintf(f, "%s{rule=\"", name);
		label(f, rules[i].rule);
		fprintf(f, "\",family=\"%s\"} %llu\n", family_label(rules[i].family),
			(unsigned long long)rules[i].n[which]);
	}
}

/* The exposition text, in a malloc'd buffer *OUT of *LEN bytes. */
static int exposition(const struct broker *b, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	struct uid_n *un;
	size_t nu, shown;

	if (!f)
		return -ENOMEM;
	head(f, "rawbroker_start_time_seconds", "gauge",
	     "Start time of the broker since the Unix epoch in seconds.");
	fprintf(f, "rawbroker_start_time_seconds %lld\n", (long long)start_time);
	head(f, "rawbroker_policy_load_time_seconds", "gauge",
	     "When the policy was last loaded, since the Unix epoch in seconds.");
	fprintf(f, "rawbroker_policy_load_time_seconds %lld\n", (long long)policy_time);
	head(f, "rawbroker_grants_total", "counter",
	     "Sockets granted, by deciding rule and address family.");
	rule_family(f, "rawbroker_grants_total", STATS_GRANTED);
	head(f, "rawbroker_denials_total", "counter",
	     "Socket requests the policy denied, by deciding rule and address family.");
	rule_family(f, "rawbroker_denials_total", STATS_DENIED);
	head(f, "rawbroker_rate_limited_total", "counter",
	     "Socket requests refused by the per-uid grant rate, by rule and family.");
	rule_family(f, "rawbroker_rate_limited_total", STATS_RATE_LIMITED);

	head(f, "rawbroker_connections", "gauge", "Client connections held, by uid.");
	un = b->nconns ? malloc(b->nconns * sizeof(*un)) : NULL;
	nu = un ? uid_counts(b, un, b->nconns, &shown) : 0;
	for (size_t i = 0; un && i < shown; i++)
		fprintf(f, "rawbroker_connections{uid=\"%u\"} %u\n", (unsigned)un[i].uid,
			(unsigned)un[i].n);
	(void)nu;
	free(un);

	head(f, "rawbroker_pool_sockets", "gauge",
	     "Sockets ready in the front's pool, by class (family:type:protocol[:mark]).");
	for (unsigned i = 0; i < maker_classes(); i++) {
		struct rb_class cls;
		unsigned ready = maker_class_ready(i, &cls);
		const char *fam = rb_family_name(cls.family), *ty = rb_type_name(cls.type),
			   *pr = rb_protocol_name(cls.protocol);
		char cl[96];

		snprintf(cl, sizeof(cl), "%s:%s:%s", fam ? fam : "?", ty ? ty : "?", pr ? pr : "?");
		fputs("rawbroker_pool_sockets{class=\"", f);
		label(f, cl);
		if (cls.has_mark)
			fprintf(f, ":mark=%#x", (unsigned)cls.mark);
		fprintf(f, "\"} %u\n", ready);
	}
	head(f, "rawbroker_limit_hits_total", "counter",
	     "Times a broker limit refused or closed a connection, by limit.");
	for (size_t i = 0; i < nlimits; i++) {
		fputs("rawbroker_limit_hits_total{limit=\"", f);
		label(f, limit_names[i]);
		fprintf(f, "\"} %llu\n", (unsigned long long)limit_hits[i]);
	}
	head(f, "rawbroker_maker_up", "gauge", "1 while the socket maker serves the front.");
	fprintf(f, "rawbroker_maker_up %d\n", !b->failed && maker_pid() > 0);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_file(const struct broker *b)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	r = exposition(b, &text, &len);
	if (r < 0)
		return r;
	fd = openat(metrics.dirfd, metrics.tmp, METRICS_OPEN_FLAGS, 0644);
	if (fd < 0) {
		r = -errno;
		free(text);
		return r;
	}
	r = write_all(fd, text, len);
	free(text);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(metrics.dirfd, metrics.tmp, metrics.dirfd, metrics.leaf) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(metrics.dirfd, metrics.tmp, 0);
	return r;
}

void stats_metrics_tick(const struct broker *b)
{
	int r;

	if (stats_metrics_due() != 0)
		return;
	metrics.next = mono_ms() + metrics.interval_ms;
	r = write_file(b);
	if (r < 0 && !metrics.failing)
		log_event(LOG_LVL_WARN, "metrics file not written", "file=%s err=\"%s\"",
			  metrics.leaf, strerror(-r));
	else if (r == 0 && metrics.failing)
		log_event(LOG_LVL_INFO, "metrics file written again", "file=%s", metrics.leaf);
	metrics.failing = r < 0;
}
