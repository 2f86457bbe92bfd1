/* SPDX-License-Identifier: MIT */
/*
 * main.c - rawbrokerd, the front: options, start-up order, shutdown.
 *
 * Order (main() below reads as the list): read the policy (a broken one
 * stops us before anything is touched); bind the socket as root; start the
 * socket maker, the only process that keeps CAP_NET_RAW, and give it the
 * policy's classes; start the supervised command, if any; drop the front
 * to the broker's user with no capability at all, confine it with its own
 * seccomp filter and read that state back; then serve.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <syslog.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "sandbox.h"
#include "supervise.h"
#include "activate.h"
#include "maker_link.h"
#include "maker/drop.h"
#include "options.h"
#include "sockdir.h"
#include "notify.h"
#include "maker/record.h"
#include "peerindex.h"
#include "stats.h"
#include "usernotif.h"
#include "seccomp_agent.h"

#define DEFAULT_POLICY "/etc/rawbroker/rawbroker.conf"
#define DEFAULT_SOCKET "/run/rawbroker/rawbroker.sock"
#define DEFAULT_USER "rawbroker"
#define DEFAULT_RUN_AS "nobody"
#ifndef RB_PRELOAD_DEFAULT
#define RB_PRELOAD_DEFAULT "/usr/local/lib/librawbroker-preload.so"
#endif
#ifndef RB_MAKER_DEFAULT
#define RB_MAKER_DEFAULT "/usr/local/libexec/rawbroker/rawbroker-maker"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: rawbrokerd [OPTION]...\n"
		"       rawbrokerd [OPTION]... -- COMMAND [ARG]...   (supervisor mode)\n"
		"Hand pre-bound raw ICMP/ICMPv6 sockets to unprivileged programs, as a\n"
		"policy allows, over a unix socket.\n"
		"\n"
		"  -p, --policy FILE        policy file (default " DEFAULT_POLICY ")\n"
		"  -s, --socket PATH        listening socket (default " DEFAULT_SOCKET ")\n"
		"  -u, --user USER          when started as root, run as USER (a name, or\n"
		"                           UID:GID; default " DEFAULT_USER "): the front with no\n"
		"                           capability, the socket maker with CAP_NET_RAW only\n"
		"  -m, --socket-mode MODE   permissions of the socket, octal (default 0666:\n"
		"                           anyone may ask, the policy decides)\n"
		"  -o, --socket-owner USER  owner of the socket (default: unchanged)\n"
		"  -g, --socket-group GROUP group of the socket (default: unchanged)\n"
		"  -c, --max-connections N  clients served at once (default %d)\n"
		"      --pool N             sockets kept ready per class (family, type,\n"
		"                           protocol, mark) the policy names, 0..%d\n"
		"                           (default %d; 0: every grant asks the maker)\n"
		"      --maker PATH         the socket maker (default: rawbroker-maker beside\n"
		"                           this program if it is there, else\n"
		"                           " RB_MAKER_DEFAULT ")\n"
		"      --unmatched-connections N\n"
		"                           connections of a uid no rule matches (default %d)\n"
		"      --unmatched-total N  connections of all such uids together (default %d,\n"
		"                           at most a quarter of --max-connections)\n"
		"      --request-timeout T  a new connection's time to send its first request,\n"
		"                           and a set_option's to send its socket (default 5s)\n"
		"      --idle-timeout T     close a kept connection idle this long (default\n"
		"                           300s; clients reconnect); T is N followed by ms, s\n"
		"                           or m\n"
		"      --log TARGET         stderr (default), or syslog[:FACILITY] (default\n"
		"                           facility daemon)\n"
		"  -l, --log-level LEVEL    debug, info, warn or error (default info)\n"
		"      --log-info-rate N    info and debug lines (grants) per second, at most\n"
		"                           (default %d; 0: no cap)\n"
		"      --ready-fd FD        write READY=1 to FD and close it once serving\n"
		"      --admin-group GROUP  members of GROUP (name or gid) may ask for the\n"
		"                           broker's status, as root may (default: root only)\n"
		"      --metrics-file PATH  write Prometheus text exposition to PATH (for\n"
		"                           node_exporter's textfile collector): a temporary\n"
		"                           file in PATH's directory, renamed over PATH\n"
		"      --metrics-interval S seconds between writes, 1..86400 (default %d)\n"
		"      --seccomp-agent PATH listen at PATH (a unix stream socket in a directory\n"
		"                           checked like the main one's; mode 0600, owned by\n"
		"                           whoever started the broker: root, as rootful runc\n"
		"                           connects) as the seccomp agent of container\n"
		"                           runtimes: a profile from 'rawbroker-policy seccomp\n"
		"                           --format oci --listener PATH' makes runc hand over\n"
		"                           the container's seccomp listener, and the broker\n"
		"                           answers its raw socket() calls by the policy; the\n"
		"                           container must be in the broker's network namespace\n"
		"      --seccomp-agent-group GROUP\n"
		"                           open the agent socket to GROUP too (mode 0660): for\n"
		"                           rootless runtimes, which connect as the user who\n"
		"                           runs podman (default: root only)\n"
		"  -t, --check              load the policy, report problems and exit\n"
		"      --print-seccomp      print the front's own seccomp filter (libseccomp\n"
		"                           PFC, for the options given) and exit\n"
		"      --check-sandbox      load that filter in a child process, have it try\n"
		"                           raw and packet sockets and a file opened for\n"
		"                           writing, report that the kernel killed each\n"
		"                           attempt (exit 0) or not (exit 1)\n"
		"  -h, --help               show this help and exit\n"
		"  -V, --version            show the version and exit\n"
		"\n"
		"Supervisor mode (-- COMMAND): start COMMAND as --run-as, with no\n"
		"capabilities, NO_NEW_PRIVS, the client seccomp profile of --rule, the\n"
		"shim preloaded and RAWBROKER_SOCKET set; serve it; pass SIGTERM, SIGINT\n"
		"and SIGHUP on to it; exit with its status (128+N for signal N).\n"
		"      --run-as USER        the command's user: a name (its groups via\n"
		"                           initgroups) or UID:GID (no supplementary groups)\n"
		"                           (default " DEFAULT_RUN_AS ")\n"
		"      --rule NAME          whose client confinement the command gets (default:\n"
		"                           the strictest, IP_HDRINCL denied)\n"
		"      --preload PATH       the shim (default " RB_PRELOAD_DEFAULT ")\n"
		"      --no-notify          no seccomp user notification: only the shim\n"
		"                           serves the command (static and Go programs then\n"
		"                           get no raw socket); by default the command's\n"
		"                           raw socket() calls stop in the kernel and the\n"
		"                           broker injects the socket (SECCOMP_IOCTL_NOTIF_ADDFD)\n"
		"\n"
		"Options left out take their value from the policy's 'broker { }' block,\n"
		"then the default; the command line wins over the file.\n"
		"Signals: SIGHUP reloads the policy (a broken file is rejected and the\n"
		"old policy kept; its limits, timeouts and log level apply at once, a\n"
		"changed socket, user or log target needs a restart); SIGTERM and SIGINT\n"
		"stop the broker.\n"
		"Values are checked as in the policy's 'broker { }' block (one validator).\n"
		"Logs: one logfmt line per event; warn lines (refusals, protocol errors,\n"
		"limits) at most %d a second, info lines --log-info-rate, the rest\n"
		"counted in one summary line.\n"
		"Processes: this front holds no capability; the socket maker it starts\n"
		"holds CAP_NET_RAW alone. When either exits, the other stops.\n",
		DEFAULT_MAX_CONNS, POOL_MAX, POOL_DEFAULT, DEFAULT_UNMATCHED_PER_UID,
		DEFAULT_UNMATCHED_TOTAL, LOG_INFO_PER_SEC, METRICS_INTERVAL_DEFAULT,
		LOG_WARN_PER_SEC);
}

static long long num_arg(const char *opt, const char *s, long long min, long long max)
{
	const char *err = NULL;
	long long v = strtonum(s, min, max, &err);

	if (err) {
		fprintf(stderr, "rawbrokerd: %s %s: %s (expected %lld..%lld)\n", opt, s, err,
			min, max);
		exit(2);
	}
	return v;
}

/* OPT's value checked as the broker block's KEYWORD line (options.h);
 * exit 2 with the validator's message when it is not one. */
static struct rb_global block_arg(const char *opt, const char *keyword, const char *v,
				  const char *v2)
{
	struct rb_global g;
	char why[256];

	if (option_as_block(keyword, v, v2, &g, why, sizeof(why)) < 0) {
		fprintf(stderr, "rawbrokerd: %s %s: %s\n", opt, v, why);
		exit(2);
	}
	return g;
}

/* stderr, syslog or syslog:FACILITY (the block's "log syslog FACILITY") */
static void log_arg(struct broker_config *cfg, const char *s)
{
	const char *colon = strchr(s, ':');
	struct rb_global g;
	char target[16];

	if (colon && (size_t)(colon - s) < sizeof(target)) {
		memcpy(target, s, (size_t)(colon - s));
		target[colon - s] = '\0';
		g = block_arg("--log", "log", target, colon + 1);
	} else {
		g = block_arg("--log", "log", s, NULL);
	}
	cfg->log_target = g.log == RB_LOG_SYSLOG ? RB_LOG_SYSLOG : RB_LOG_STDERR;
	cfg->syslog_facility = g.log == RB_LOG_SYSLOG ? g.syslog_facility : LOG_DAEMON;
}

/*
 * What start-up would refuse, checked before anything is touched (and by
 * --check): the broker's user, the --rule, and the supervised command's
 * user, which must not be the broker's own (that command could stop,
 * trace or kill the broker).  USER_SET: -u or the block named the user
 * (the default one is needed only when started as root, where
 * server_listen() refuses it before binding; --check warns).  CHECK_ONLY:
 * for --check, which also checks the socket's directory.  NULL, or what is
 * wrong.
 */
static const char *start_problem(const struct broker_config *cfg, bool user_set,
				 bool check_only,
				 const struct rb_policy *p, const char *rule,
				 const char *run_as, bool run_as_used, char *buf, size_t n)
{
	struct rb_prepare conf;
	const char *name;
	uid_t uid = geteuid(), ruid;
	gid_t gid;
	const char *why;

	why = drop_user_parse(cfg->user, &uid, &gid, &name);
	/* A non-root start runs as itself and ignores the user; a check
	 * reports a named one that does not exist either way. */
	if (why && user_set && (check_only || geteuid() == 0)) {
		/* As broker_user() says it, with how to fix a missing name. */
		snprintf(buf, n, "%s %s: %s%s", cfg->cli & CFG_USER ? "--user" :
			 "user (the policy's broker block)", cfg->user, why,
			 strchr(cfg->user, ':') ? "" : " (create it, e.g. 'useradd --system "
			 "--no-create-home rawbroker', or pass UID:GID)");
		return buf;
	} else if (why) {
		uid = geteuid();
		/* The default user: a start as root needs it (and says so). */
		if (uid == 0 && check_only)
			fprintf(stderr, "rawbrokerd: warning: user %s: %s; a start as root "
					"needs it (create it, or pass -u)\n", cfg->user, why);
	}
	if (geteuid() != 0)
		uid = geteuid(); /* -u applies only to a start as root */
	/* Start-up checks the socket's directory as it binds (server.c); a
	 * check does it here, without creating anything. */
	if (check_only) {
		char leaf[108], dwhy[400];
		int fd = sockdir_open(cfg->socket_path, uid, false, leaf, sizeof(leaf), dwhy,
				      sizeof(dwhy));

		if (fd < 0) {
			snprintf(buf, n, "socket %s: %s", cfg->socket_path, dwhy);
			return buf;
		}
		close(fd);
		/* --seccomp-agent: its directory, by the same rules. */
		fd = cfg->agent_path ? sockdir_open(cfg->agent_path, uid, false, leaf,
						    sizeof(leaf), dwhy, sizeof(dwhy)) : -1;
		if (cfg->agent_path && fd < 0) {
			snprintf(buf, n, "--seccomp-agent %s: %s", cfg->agent_path, dwhy);
			return buf;
		}
		if (fd >= 0)
			close(fd);
	}
	if (rule && rb_policy_rule_confinement(p, rule, &conf) < 0) {
		snprintf(buf, n, "--rule %s: the policy has no such rule", rule);
		return buf;
	}
	if (run_as_used) {
		why = drop_user_parse(run_as, &ruid, &gid, &name);
		/* At start the supervisor says so and exits 127 ("could not
		 * run"), as a shell would; --check says it here. */
		if (why && check_only) {
			snprintf(buf, n, "--run-as %s: %s", run_as, why);
			return buf;
		}
		if (!why && ruid == uid) {
			snprintf(buf, n, "--run-as %s is the broker's own user (uid %u): the "
				 "command could stop, trace or kill the broker; give it a user "
				 "of its own", run_as, (unsigned)uid);
			return buf;
		}
	}
	return NULL;
}

/*
 * Make the connection limit fit the descriptor limit.  The soft limit is
 * raised to the hard one first (no privilege needed).
 *
 * What takes a slot in the descriptor table: the fixed ones (listener,
 * epoll, signalfd, stdio, the maker's channel, the closer's pipe), the
 * ready pool (at most --pool per class), our copies of granted sockets
 * waiting to be closed (cfg->retire_max: server.c, retire()), and ONE per
 * connection.  The sockets of replies queued to a client that has not
 * read them yet are not in our table: they are in flight, and the kernel
 * counts them apart, per user, against the same RLIMIT_NOFILE
 * (too_many_unix_fds(); a send over it fails with ETOOMANYREFS, the
 * maker's batches too, as it runs as the same user: maker.c, reply()).
 * How many can be in flight on one connection is bounded by its send
 * buffer: send_reply() sets the smallest the kernel allows (4608 bytes
 * here), which holds at most 6 replies, and our send never waits
 * (RB_FRAME_DONTWAIT): a client that does not read is dropped at the 7th.
 * (It is set before a connection's second reply, not at accept: one reply
 * always fits, and most connections ask once.)  Only grants carry a
 * socket, and a well-behaved client (librawbroker, the shim) reads each
 * reply before it asks again, so it has at most one in flight.  Safe: a
 * send over the in-flight limit fails, it never blocks the loop, and
 * costs that reply's client its connection; the table itself can never
 * overflow, as every connection holds exactly one slot.  (The broker used
 * to reserve 8 slots per connection, for in-flight sockets that never use
 * the table, and so capped itself at 2,496 connections under
 * RLIMIT_NOFILE 20000.)
 */
/* listener, epoll, signalfd, stdio, maker, closer, one new socket, the
 * supervised command's listener, its helper and that helper's eventfd,
 * and the notify threads' two eventfds and /proc entries kept (at most
 * 16 descriptors for all listeners together, as when the loop served
 * them: usernotif.c) */
#define FDS_RESERVED 32
#define FDS_PER_CONN 1    /* the connection itself (in-flight replies: see above) */

static void fit_connection_limit(struct broker_config *cfg, const struct rb_policy *policy)
{
	struct rb_class cls[MK_CLASSES_MAX];
	int nclasses = rb_policy_classes(policy, cls, MK_CLASSES_MAX);
	struct rlimit rl;
	size_t fit, reserved, quarter, room, spare;

	if (nclasses < 1)
		nclasses = MK_CLASSES_MAX; /* maker_start() refuses too many */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fatal("getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("raise RLIMIT_NOFILE");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 16 * 1024 * 1024)
		return;
	if (rl.rlim_cur <= FDS_RESERVED + FDS_PER_CONN)
		fatalx("RLIMIT_NOFILE %llu is too small to serve anyone",
		       (unsigned long long)rl.rlim_cur);
	/* The pool holds at most POOL per class (a refill never goes above
	 * it), and gets at most a quarter of what is left; our copies of
	 * granted sockets waiting to be closed get what the pool leaves of
	 * that quarter (with nothing left, each is closed at once). */
	quarter = ((size_t)rl.rlim_cur - FDS_RESERVED) / 4;
	room = quarter / (size_t)nclasses;
	if (cfg->pool > room) {
		log_event(LOG_LVL_WARN, "pool lowered to fit RLIMIT_NOFILE",
			  "pool=%zu classes=%d nofile=%llu", room, nclasses,
			  (unsigned long long)rl.rlim_cur);
		cfg->pool = (unsigned)room;
	}
	/* --seccomp-agent: what the agent may hold (its headroom, its
	 * connections and what they sent, the listeners it hands on). */
	spare = quarter - (size_t)cfg->pool * (size_t)nclasses;
	if (cfg->retire_max > spare)
		cfg->retire_max = (unsigned)spare;
	reserved = FDS_RESERVED + (size_t)cfg->pool * (size_t)nclasses + cfg->retire_max +
		   seccomp_agent_fds_reserved(cfg);
	if (reserved + FDS_PER_CONN >= (size_t)rl.rlim_cur)
		fatalx("RLIMIT_NOFILE %llu is too small to serve anyone (%zu descriptors kept "
		       "for the pool and the seccomp agent)", (unsigned long long)rl.rlim_cur,
		       reserved);
	fit = ((size_t)rl.rlim_cur - reserved) / FDS_PER_CONN;
	cfg->conns_fit = fit;
	if (cfg->max_conns > fit) {
		log_event(LOG_LVL_WARN, "max connections lowered to fit RLIMIT_NOFILE",
			  "max_connections=%zu nofile=%llu", fit,
			  (unsigned long long)rl.rlim_cur);
		cfg->max_conns = fit;
	}
}

/* Load the policy; print every diagnostic.  Returns NULL on errors. */
static struct rb_policy *load_policy(const char *path, bool to_stderr_plain)
{
	struct rb_diags d = { 0 };
	struct rb_policy *p = NULL;
	char line[512];

	rb_policy_load(path, NULL, &p, &d);
	for (size_t i = 0; i < d.n; i++) {
		rb_diag_format(&d, &d.v[i], line, sizeof(line));
		if (to_stderr_plain)
			fprintf(stderr, "%s\n", line);
		else if (d.v[i].severity == RB_DIAG_ERROR)
			log_event(LOG_LVL_ERROR, "policy error", "diag=%s",
				  log_q((char[LOG_Q_MAX]){ 0 }, line));
		else
			log_event(LOG_LVL_WARN, "policy warning", "diag=%s",
				  log_q((char[LOG_Q_MAX]){ 0 }, line));
	}
	rb_diags_free(&d);
	return p;
}

/* What the command line asked for. */
struct options {
	struct broker_config cfg;
	struct supervise_opts sup;
	const char *rule; /* --rule */
	bool check_only, print_seccomp, check_sandbox;
	bool run_as_set;  /* --run-as given */
};

/* The maker beside this program (a build tree, a relocated install), else
 * the installed path.  Beside it means in a directory only whoever could
 * replace rawbrokerd itself can write. */
static const char *default_maker(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n > 0) {
		path[n] = '\0';
		slash = strrchr(path, '/');
		if (slash) {
			strcpy(slash + 1, "rawbroker-maker");
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return RB_MAKER_DEFAULT;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_READY_FD = 256, OPT_REQUEST_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_LOG,
	       OPT_PRINT_SECCOMP, OPT_RUN_AS, OPT_RULE, OPT_PRELOAD, OPT_POOL, OPT_MAKER,
	       OPT_CHECK_SANDBOX, OPT_UNMATCHED, OPT_UNMATCHED_TOTAL, OPT_LOG_INFO_RATE,
	       OPT_ADMIN_GROUP, OPT_METRICS_FILE, OPT_METRICS_INTERVAL, OPT_NO_NOTIFY,
	       OPT_SECCOMP_AGENT, OPT_SECCOMP_AGENT_GROUP };
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "socket-owner", required_argument, NULL, 'o' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "max-connections", required_argument, NULL, 'c' },
		{ "unmatched-connections", required_argument, NULL, OPT_UNMATCHED },
		{ "unmatched-total", required_argument, NULL, OPT_UNMATCHED_TOTAL },
		{ "log-info-rate", required_argument, NULL, OPT_LOG_INFO_RATE },
		{ "log-level", required_argument, NULL, 'l' },
		{ "ready-fd", required_argument, NULL, OPT_READY_FD },
		{ "admin-group", required_argument, NULL, OPT_ADMIN_GROUP },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
		{ "print-seccomp", no_argument, NULL, OPT_PRINT_SECCOMP },
		{ "check-sandbox", no_argument, NULL, OPT_CHECK_SANDBOX },
		{ "run-as", required_argument, NULL, OPT_RUN_AS },
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "preload", required_argument, NULL, OPT_PRELOAD },
		{ "no-notify", no_argument, NULL, OPT_NO_NOTIFY },
		{ "pool", required_argument, NULL, OPT_POOL },
		{ "maker", required_argument, NULL, OPT_MAKER },
		{ "seccomp-agent", required_argument, NULL, OPT_SECCOMP_AGENT },
		{ "seccomp-agent-group", required_argument, NULL, OPT_SECCOMP_AGENT_GROUP },
		{ "check", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	*o = (struct options){
		.cfg = {
			.policy_path = DEFAULT_POLICY,
			.socket_path = DEFAULT_SOCKET,
			.user = DEFAULT_USER,
			.socket_mode = 0666,
			.socket_gid = (gid_t)-1,
			.socket_uid = (uid_t)-1,
			.agent_gid = (gid_t)-1,
			.max_conns = DEFAULT_MAX_CONNS,
			.unmatched_per_uid = DEFAULT_UNMATCHED_PER_UID,
			.unmatched_total = DEFAULT_UNMATCHED_TOTAL,
			.pool = POOL_DEFAULT,
			.retire_max = RETIRE_HELD_MAX,
			.request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS,
			.idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS,
			.log_target = RB_LOG_STDERR,
			.syslog_facility = LOG_DAEMON,
			.ready_fd = -1,
			.metrics_interval = METRICS_INTERVAL_DEFAULT,
			.metrics_dirfd = -1,
		},
		.sup = { .run_as = DEFAULT_RUN_AS, .preload = RB_PRELOAD_DEFAULT, .close_fd = -1,
			 .notify = true },
	};
	while ((c = getopt_long(argc, argv, "p:s:u:m:o:g:c:l:thV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->cfg.policy_path = optarg;
			break;
		case 's':
			block_arg("--socket", "listen", optarg, NULL);
			o->cfg.socket_path = optarg;
			o->cfg.cli |= CFG_SOCKET;
			break;
		case 'u':
			block_arg("--user", "user", optarg, NULL);
			o->cfg.user = optarg;
			o->cfg.cli |= CFG_USER;
			break;
		case 'm':
			o->cfg.socket_mode = block_arg("--socket-mode", "socket-mode", optarg,
						    NULL).mode;
			o->cfg.cli |= CFG_MODE;
			break;
		case 'o':
			o->cfg.socket_uid = block_arg("--socket-owner", "socket-owner", optarg,
						   NULL).owner;
			o->cfg.cli |= CFG_OWNER;
			break;
		case 'g':
			o->cfg.socket_gid = block_arg("--socket-group", "socket-group", optarg,
						   NULL).group;
			o->cfg.cli |= CFG_GROUP;
			break;
		case 'c':
			o->cfg.max_conns = block_arg("--max-connections", "max-connections", optarg,
						  NULL).max_connections;
			o->cfg.cli |= CFG_MAX_CONNS;
			break;
		case OPT_REQUEST_TIMEOUT:
			o->cfg.request_timeout_ms = block_arg("--request-timeout", "request-timeout",
							   optarg, NULL).request_timeout_ms;
			o->cfg.cli |= CFG_REQUEST_TIMEOUT;
			break;
		case OPT_IDLE_TIMEOUT:
			o->cfg.idle_timeout_ms = block_arg("--idle-timeout", "idle-timeout", optarg,
							NULL).idle_timeout_ms;
			o->cfg.cli |= CFG_IDLE_TIMEOUT;
			break;
		case OPT_LOG:
			log_arg(&o->cfg, optarg);
			o->cfg.cli |= CFG_LOG;
			break;
		case 'l':
			log_set_level((enum log_level)block_arg("--log-level", "log-level", optarg,
								NULL).log_level);
			o->cfg.cli |= CFG_LOG_LEVEL;
			break;
		case OPT_UNMATCHED:
			o->cfg.unmatched_per_uid = (uint32_t)num_arg("--unmatched-connections",
								  optarg, 1, 1000000);
			break;
		case OPT_UNMATCHED_TOTAL:
			o->cfg.unmatched_total = (uint32_t)num_arg("--unmatched-total", optarg, 1,
								1000000);
			break;
		case OPT_LOG_INFO_RATE:
			log_set_info_rate((unsigned)num_arg("--log-info-rate", optarg, 0, 1000000));
			break;
		case OPT_ADMIN_GROUP:
			o->cfg.admin_gid = block_arg("--admin-group", "socket-group", optarg,
						     NULL).group;
			o->cfg.has_admin_gid = true;
			break;
		case OPT_METRICS_FILE:
			o->cfg.metrics_path = optarg;
			break;
		case OPT_METRICS_INTERVAL:
			o->cfg.metrics_interval = (unsigned)num_arg("--metrics-interval", optarg, 1,
								    METRICS_INTERVAL_MAX);
			break;
		case OPT_READY_FD:
			o->cfg.ready_fd = (int)num_arg("--ready-fd", optarg, 0, INT32_MAX);
			break;
		case 't':
			o->check_only = true;
			break;
		case OPT_PRINT_SECCOMP:
			o->print_seccomp = true;
			break;
		case OPT_CHECK_SANDBOX:
			o->check_sandbox = true;
			break;
		case OPT_RUN_AS:
			o->sup.run_as = optarg;
			o->run_as_set = true;
			break;
		case OPT_RULE:
			o->rule = optarg;
			break;
		case OPT_PRELOAD:
			o->sup.preload = optarg;
			break;
		case OPT_NO_NOTIFY:
			o->sup.notify = false;
			break;
		case OPT_POOL:
			o->cfg.pool = (unsigned)num_arg("--pool", optarg, 0, POOL_MAX);
			break;
		case OPT_MAKER:
			o->cfg.maker = optarg;
			break;
		case OPT_SECCOMP_AGENT:
			o->cfg.agent_path = optarg;
			break;
		case OPT_SECCOMP_AGENT_GROUP:
			o->cfg.agent_gid = block_arg("--seccomp-agent-group", "socket-group",
						     optarg, NULL).group;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("rawbrokerd %s\n", RB_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	/* Supervisor mode: what follows "--" is the command. */
	if (optind < argc && optind > 1 && strcmp(argv[optind - 1], "--") == 0)
		o->sup.argv = argv + optind;
	else if (optind != argc) {
		fprintf(stderr, "rawbrokerd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}

	if (!o->cfg.maker)
		o->cfg.maker = default_maker();
}

/* The broker's own identity (both processes): --user when started as
 * root, else the one it was started with. */
static void broker_user(const char *spec, struct drop_spec *d)
{
	const char *why, *name;

	*d = (struct drop_spec){ 0 };
	if (geteuid() != 0)
		return;
	why = drop_user_parse(spec, &d->uid, &d->gid, &name);
	if (why)
		fatalx("--user %s: %s%s", spec, why,
		       strchr(spec, ':') ? "" : " (create it, e.g. 'useradd --system "
						"--no-create-home rawbroker', or pass UID:GID)");
	if (d->uid == 0 || d->gid == 0)
		fatalx("--user %s is root; the broker must run as a dedicated unprivileged user",
		       spec);
	d->switch_user = true;
}

/* Beyond CAP_NET_RAW, which the maker needs anyway. */
static bool bounding_holds_more(void)
{
	for (int v = 0; prctl(PR_CAPBSET_READ, v) >= 0; v++)
		if (v != CAP_NET_RAW && prctl(PR_CAPBSET_READ, v) == 1)
			return true;
	return false;
}

/* The front: the broker's user, no capability in any set (bounding too
 * when started as root), NO_NEW_PRIVS, its seccomp filter, read back. */
static void front_drop(const struct drop_spec *user, const struct broker_config *cfg)
{
	struct sandbox_opts sb = { .syslog = cfg->log_target == RB_LOG_SYSLOG,
				   .metrics = cfg->metrics_dirfd >= 0,
				   .metrics_dirfd = cfg->metrics_dirfd };
	struct drop_spec s = *user;
	struct drop_state st;
	char why[256] = "";
	int status = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	uid_t uid;
	gid_t gid;

	if (status < 0)
		fatal("open /proc/self/status");
	s.keep = 0;
	if (drop_privileges(&s, &st, why, sizeof(why)) < 0)
		fatalx("drop privileges: %s", why);
	if (!st.switched && st.ngroups > 0)
		log_warnx("started as uid %u with %d supplementary groups, which it cannot "
			  "drop; run the broker without them (systemd: no "
			  "SupplementaryGroups=)", (unsigned)getuid(), st.ngroups);
	if (!st.bounded && bounding_holds_more())
		log_warnx("no CAP_SETPCAP: the capability bounding set stays as it was; "
			  "with no_new_privs and no execve() it grants the front nothing");
	uid = getuid();
	gid = getgid();
	usernotif_init(); /* /proc/sys/kernel/overflow{uid,gid}: read before the filter */
	sandbox_load(&sb);
	if (drop_verify(status, &s, &st, true, why, sizeof(why)) < 0)
		fatalx("%s; refusing to serve", why);
	close(status);
	log_event(LOG_LVL_INFO, "privileges dropped",
		  "process=front uid=%u gid=%u caps=none bounding=%s no_new_privs=1 "
		  "seccomp=filter", (unsigned)uid, (unsigned)gid, st.bounded ? "none" : "unchanged");
}

/*
 * The command's seccomp listener, served by the front (a thread of its
 * own) once the loop starts, for the command's identity (read once:
 * supervise_identity()).
 * check_netns: the command could make a network namespace of its own (an
 * unprivileged user namespace, where the host allows them) and ask from
 * there; a socket of ours would then be in the broker's namespace, not
 * the one it asked from.  The shim's path has the same property, but here
 * the check costs one fstatat() and keeps the rule of the container path:
 * never a socket in the wrong namespace.
 */
static void attach_listener(struct broker *b)
{
	int l = supervise_take_listener(), h = supervise_take_helper(), r;

	if (l < 0) {
		if (h >= 0)
			close(h);
		return;
	}
	static gid_t groups[NGROUPS_MAX];
	struct notif_origin o = { .what = "supervised command", .check_netns = true,
				  .groups = groups };

	/* Known once for all its tasks (supervise_identity() says why);
	 * else each call's task is read as a container's would be. */
	r = supervise_identity(&o.uid, &o.gid, groups, NGROUPS_MAX, &o.ngroups);
	o.has_identity = r == 0;
	if (r < 0) {
		errno = -r;
		log_warn("the command's identity: read per call instead");
	}
	r = usernotif_attach_helper(b, l, &o, h);
	if (r < 0) {
		errno = -r;
		fatal("serve the supervised command's seccomp listener");
	}
}

/* Supervisor mode: the command, as root still, before the front drops. */
static void start_supervisor(struct options *o, struct broker *b)
{
	sigset_t mask;

	/* Before the fork, so no signal is lost until the signalfd. */
	server_signal_mask(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	if (rb_policy_rule_confinement(b->policy, o->rule, &o->sup.conf) < 0)
		fatalx("--rule %s: the policy has no such rule", o->rule);
	o->sup.socket_path = o->cfg.socket_path;
	o->sup.close_fd = b->listen_fd;
	o->sup.ready_fd = o->cfg.ready_fd;
	o->sup.policy = b->policy;
	supervise_start(&o->sup);
	attach_listener(b);
}

/* Where the broker reports, opened before the privilege drop and the
 * sandbox: from now on the log only sends on (and at worst reconnects)
 * its one socket, and so does the service manager's notification. */
static void open_outputs(const struct broker_config *cfg)
{
	int r = notify_init(); /* systemd's NOTIFY_SOCKET */

	if (r < 0) {
		errno = -r;
		log_warn("NOTIFY_SOCKET: cannot notify the service manager");
	}
	if (cfg->log_target != RB_LOG_SYSLOG)
		return;
	r = log_open_syslog(cfg->syslog_facility);
	if (r < 0) {
		errno = -r;
		fatal("log to syslog: cannot connect to /dev/log");
	}
	log_event(LOG_LVL_INFO, "logging to syslog", "facility=%s",
		  rb_syslog_facility_name(cfg->syslog_facility));
}

/* --metrics-file: its directory, opened before the sandbox (stats.c). */
static void open_metrics(struct broker_config *cfg)
{
	char why[512];
	int fd = stats_metrics_open(cfg->metrics_path, cfg->metrics_interval, why, sizeof(why));

	if (fd < 0)
		fatalx("--metrics-file %s; not starting", why);
	cfg->metrics_dirfd = fd;
}

/* --check-sandbox: a forced attempt at what the front must never do.
 * Returns main()'s exit status: 0 when every attempt was killed, else 1. */
static int check_sandbox(const struct broker_config *cfg)
{
	static const struct {
		int family, type, protocol;
		const char *what;
	} tries[] = {
		{ AF_INET, SOCK_RAW, IPPROTO_ICMP, "raw icmp socket" },
		{ AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, "raw icmpv6 socket" },
		{ AF_INET, SOCK_RAW, IPPROTO_RAW, "raw IPPROTO_RAW socket" },
		{ AF_PACKET, SOCK_RAW, 0, "packet socket" },
		/* family -1: not a socket, a file opened for writing outside
		 * --metrics-file's directory (stats.c) */
		{ -1, 0, 0, "/dev/null opened for writing" },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		int st = 0;
		pid_t pid = fork();

		if (pid < 0)
			fatal("fork");
		if (pid == 0) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				_exit(2);
			sandbox_load(&(struct sandbox_opts){
				.syslog = cfg->log_target == RB_LOG_SYSLOG,
				.metrics = cfg->metrics_dirfd >= 0,
				.metrics_dirfd = cfg->metrics_dirfd });
			if (tries[i].family == -1)
				_exit(open("/dev/null", O_WRONLY | O_CLOEXEC) < 0 ? 4 : 3);
			_exit(socket(tries[i].family, tries[i].type, tries[i].protocol) < 0 ? 4 : 3);
		}
		if (waitpid(pid, &st, 0) < 0)
			fatal("waitpid");
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
			printf("%s: killed by the front's seccomp filter (SIGSYS)\n",
			       tries[i].what);
			continue;
		}
		printf("%s: NOT killed (%s %d)\n", tries[i].what,
		       WIFSIGNALED(st) ? "signal" : "exit status",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		bad++;
	}
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct broker b = { .cfg = &o.cfg, .listen_fd = -1, .epfd = -1, .sigfd = -1 };
	struct drop_spec user;
	const char *problem;
	char buf[512];
	int r;

	parse_options(argc, argv, &o);
	if (o.print_seccomp) {
		/* With --metrics-file, the filter names the directory's
		 * descriptor as a running broker would have it. */
		if (o.cfg.metrics_path)
			open_metrics(&o.cfg);
		r = sandbox_print(stdout, &(struct sandbox_opts){
			.syslog = o.cfg.log_target == RB_LOG_SYSLOG,
			.metrics = o.cfg.metrics_dirfd >= 0, .metrics_dirfd = o.cfg.metrics_dirfd });
		if (r < 0)
			fprintf(stderr, "rawbrokerd: --print-seccomp: %s\n", strerror(-r));
		return r < 0 ? 1 : 0;
	}
	if (o.check_sandbox) {
		if (o.cfg.metrics_path)
			open_metrics(&o.cfg);
		return check_sandbox(&o.cfg);
	}
	b.policy = load_policy(o.cfg.policy_path, o.check_only);
	if (o.check_only && !b.policy)
		return 1;
	if (!b.policy)
		fatalx("policy %s has errors; not starting", o.cfg.policy_path);
	config_apply(&o.cfg, rb_policy_global(b.policy));
	problem = start_problem(&o.cfg, (o.cfg.cli & CFG_USER) || o.cfg.file.user[0],
				o.check_only, b.policy, o.rule, o.sup.run_as,
				o.run_as_set || o.sup.argv, buf, sizeof(buf));
	if (o.check_only) {
		if (problem)
			fprintf(stderr, "rawbrokerd: %s\n", problem);
		rb_policy_free(b.policy);
		return problem ? 1 : 0;
	}
	if (problem)
		fatalx("%s; not starting", problem);
	stats_init(o.cfg.policy_path);
	if (o.cfg.has_admin_gid)
		peer_index_keep(o.cfg.admin_gid); /* before server_run indexes the policy */
	if (o.cfg.metrics_path)
		open_metrics(&o.cfg);
	open_outputs(&o.cfg);
	/* SIGPIPE: a client gone mid-reply is an error return, not our end.
	 * SIGTTOU, SIGTTIN: in supervisor mode the command shares our
	 * terminal.  It may take the foreground for a process group of its
	 * own (any shell in it does) and set TOSTOP; then every line we write
	 * there would stop the whole broker (SIGTTOU's default action), for
	 * every client.  Ignored, the write goes through.  The maker and the
	 * relay inherit this; the command gets back what we were given. */
	supervise_ignore_signals();
	/* SIGCHLD ignored by whoever exec'd us is inherited, and then the
	 * kernel reaps our children itself: supervisor mode would never see
	 * the relay exit (the broker outlived its command for good), and the
	 * relay's pid, which supervise_identity() reads the command's
	 * identity through, would be free for another process to take. */
	signal(SIGCHLD, SIG_DFL);
	fit_connection_limit(&o.cfg, b.policy);

	b.listen_fd = server_listen(&o.cfg);
	seccomp_agent_listen(&o.cfg); /* --seccomp-agent, the same way */
	if (activated_path() && activated_path()[0])
		o.cfg.socket_path = activated_path();
	broker_user(o.cfg.user, &user);
	maker_start(o.cfg.maker, &user, b.policy, o.cfg.pool);
	if (o.sup.argv)
		start_supervisor(&o, &b);
	front_drop(&user, &o.cfg);

	r = server_run(&b);
	server_shutdown(&b);
	rb_policy_free(b.policy);
	log_info("stopped");
	if (r < 0)
		return 1;
	return o.sup.argv ? supervise_exit_code() : 0;
}
