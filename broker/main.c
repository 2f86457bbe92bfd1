/* SPDX-License-Identifier: MIT */
/*
 * main.c - rawbrokerd: options, start-up order, shutdown.
 *
 * Order: read the policy (a broken one stops us before anything is
 * touched), bind the socket as root, drop to the broker user with only
 * CAP_NET_RAW, then serve.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "sandbox.h"
#include "supervise.h"
#include "activate.h"
#include "notify.h"

#define DEFAULT_POLICY "/etc/rawbroker/rawbroker.conf"
#define DEFAULT_SOCKET "/run/rawbroker/rawbroker.sock"
#define DEFAULT_USER "rawbroker"
#define DEFAULT_RUN_AS "nobody"
#ifndef RB_PRELOAD_DEFAULT
#define RB_PRELOAD_DEFAULT "/usr/local/lib/librawbroker-preload.so"
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
		"                           UID:GID) with only CAP_NET_RAW (default " DEFAULT_USER ")\n"
		"  -m, --socket-mode MODE   permissions of the socket, octal (default 0666:\n"
		"                           anyone may ask, the policy decides)\n"
		"  -o, --socket-owner USER  owner of the socket (default: unchanged)\n"
		"  -g, --socket-group GROUP group of the socket (default: unchanged)\n"
		"  -c, --max-connections N  clients served at once (default %d)\n"
		"      --request-timeout T  a new connection's time to send its first request,\n"
		"                           and a set_option's to send its socket (default 5s)\n"
		"      --idle-timeout T     close a kept connection idle this long (default\n"
		"                           300s; clients reconnect); T is N followed by ms, s\n"
		"                           or m\n"
		"      --log TARGET         stderr (default), or syslog[:FACILITY] (default\n"
		"                           facility daemon)\n"
		"  -l, --log-level LEVEL    debug, info, warn or error (default info)\n"
		"      --ready-fd FD        write READY=1 to FD and close it once serving\n"
		"  -t, --check              load the policy, report problems and exit\n"
		"      --print-seccomp      print the broker's own seccomp filter (libseccomp\n"
		"                           PFC, for the options given) and exit\n"
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
		"\n"
		"Options left out take their value from the policy's 'broker { }' block,\n"
		"then the default; the command line wins over the file.\n"
		"Signals: SIGHUP reloads the policy (a broken file is rejected and the\n"
		"old policy kept; its limits, timeouts and log level apply at once, a\n"
		"changed socket, user or log target needs a restart); SIGTERM and SIGINT\n"
		"stop the broker.\n"
		"Logs: one logfmt line per event; warn lines (refusals, protocol errors,\n"
		"limits) at most %d a second, the rest counted in one summary line.\n",
		DEFAULT_MAX_CONNS, LOG_WARN_PER_SEC);
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

static mode_t mode_arg(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *s == '\0' || *end != '\0' || v > 0777) {
		fprintf(stderr, "rawbrokerd: --socket-mode %s: expected an octal mode "
				"such as 0660\n", s);
		exit(2);
	}
	return (mode_t)v;
}

static gid_t group_arg(const char *s)
{
	struct group *gr = getgrnam(s);

	if (gr)
		return gr->gr_gid;
	return (gid_t)num_arg("--socket-group", s, 0, UINT32_MAX - 1);
}

static uid_t owner_arg(const char *s)
{
	struct passwd *pw = getpwnam(s);

	if (pw)
		return pw->pw_uid;
	return (uid_t)num_arg("--socket-owner", s, 0, UINT32_MAX - 1);
}

/* N followed by ms, s or m, as in the policy; in milliseconds. */
static uint32_t duration_arg(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	unsigned mult = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	if (errno || end == s || *s == '-' || !mult || v == 0 || v > UINT32_MAX / mult) {
		fprintf(stderr, "rawbrokerd: %s %s: expected a duration such as 500ms, 5s or "
				"5m\n", opt, s);
		exit(2);
	}
	return (uint32_t)(v * mult);
}

/* stderr, syslog or syslog:FACILITY */
static void log_arg(struct broker_config *cfg, const char *s)
{
	if (strcmp(s, "stderr") == 0) {
		cfg->log_target = RB_LOG_STDERR;
		return;
	}
	if (strncmp(s, "syslog", 6) == 0 && (s[6] == '\0' || s[6] == ':')) {
		cfg->log_target = RB_LOG_SYSLOG;
		cfg->syslog_facility = s[6] ? log_parse_facility(s + 7) : LOG_DAEMON;
		if (cfg->syslog_facility >= 0)
			return;
	}
	fprintf(stderr, "rawbrokerd: --log %s: expected stderr, syslog or syslog:FACILITY "
			"(daemon, user, auth, authpriv, local0..local7)\n", s);
	exit(2);
}

/*
 * Make the connection limit fit the descriptor limit.  Each client holds one
 * descriptor, and up to a few replies' sockets may be in flight to it;
 * in-flight descriptors count against RLIMIT_NOFILE too.  The soft limit is
 * raised to the hard one first (no privilege needed).
 */
#define FDS_RESERVED 32   /* listener, epoll, signalfd, stdio, one new socket */
#define FDS_PER_CONN 8    /* its own + replies queued (SO_SNDBUF minimum) */

static void fit_connection_limit(struct broker_config *cfg)
{
	struct rlimit rl;
	size_t fit;

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
	fit = ((size_t)rl.rlim_cur - FDS_RESERVED) / FDS_PER_CONN;
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

int main(int argc, char **argv)
{
	enum { OPT_READY_FD = 256, OPT_REQUEST_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_LOG,
	       OPT_PRINT_SECCOMP, OPT_RUN_AS, OPT_RULE, OPT_PRELOAD };
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
		{ "log-level", required_argument, NULL, 'l' },
		{ "ready-fd", required_argument, NULL, OPT_READY_FD },
		{ "print-seccomp", no_argument, NULL, OPT_PRINT_SECCOMP },
		{ "run-as", required_argument, NULL, OPT_RUN_AS },
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "preload", required_argument, NULL, OPT_PRELOAD },
		{ "check", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct broker_config cfg = {
		.policy_path = DEFAULT_POLICY,
		.socket_path = DEFAULT_SOCKET,
		.user = DEFAULT_USER,
		.socket_mode = 0666,
		.socket_gid = (gid_t)-1,
		.socket_uid = (uid_t)-1,
		.max_conns = DEFAULT_MAX_CONNS,
		.request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS,
		.idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS,
		.log_target = RB_LOG_STDERR,
		.syslog_facility = LOG_DAEMON,
		.ready_fd = -1,
	};
	struct broker b = { .cfg = &cfg, .listen_fd = -1, .epfd = -1, .sigfd = -1 };
	bool check_only = false, print_seccomp = false;
	struct sandbox_opts sb = { 0 };
	struct supervise_opts sup = { .run_as = DEFAULT_RUN_AS, .preload = RB_PRELOAD_DEFAULT,
				      .close_fd = -1 };
	const char *rule = NULL;
	int c, lvl, r;

	while ((c = getopt_long(argc, argv, "p:s:u:m:o:g:c:l:thV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			cfg.policy_path = optarg;
			break;
		case 's':
			cfg.socket_path = optarg;
			cfg.cli |= CFG_SOCKET;
			break;
		case 'u':
			cfg.user = optarg;
			cfg.cli |= CFG_USER;
			break;
		case 'm':
			cfg.socket_mode = mode_arg(optarg);
			cfg.cli |= CFG_MODE;
			break;
		case 'o':
			cfg.socket_uid = owner_arg(optarg);
			cfg.cli |= CFG_OWNER;
			break;
		case 'g':
			cfg.socket_gid = group_arg(optarg);
			cfg.cli |= CFG_GROUP;
			break;
		case 'c':
			cfg.max_conns = (size_t)num_arg("--max-connections", optarg, 1, 1000000);
			cfg.cli |= CFG_MAX_CONNS;
			break;
		case OPT_REQUEST_TIMEOUT:
			cfg.request_timeout_ms = duration_arg("--request-timeout", optarg);
			cfg.cli |= CFG_REQUEST_TIMEOUT;
			break;
		case OPT_IDLE_TIMEOUT:
			cfg.idle_timeout_ms = duration_arg("--idle-timeout", optarg);
			cfg.cli |= CFG_IDLE_TIMEOUT;
			break;
		case OPT_LOG:
			log_arg(&cfg, optarg);
			cfg.cli |= CFG_LOG;
			break;
		case 'l':
			lvl = log_parse_level(optarg);
			if (lvl < 0) {
				fprintf(stderr, "rawbrokerd: --log-level %s: expected debug, "
						"info, warn or error\n", optarg);
				return 2;
			}
			log_set_level((enum log_level)lvl);
			cfg.cli |= CFG_LOG_LEVEL;
			break;
		case OPT_READY_FD:
			cfg.ready_fd = (int)num_arg("--ready-fd", optarg, 0, INT32_MAX);
			break;
		case 't':
			check_only = true;
			break;
		case OPT_PRINT_SECCOMP:
			print_seccomp = true;
			break;
		case OPT_RUN_AS:
			sup.run_as = optarg;
			break;
		case OPT_RULE:
			rule = optarg;
			break;
		case OPT_PRELOAD:
			sup.preload = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rawbrokerd %s\n", RB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* Supervisor mode: what follows "--" is the command. */
	if (optind < argc && optind > 1 && strcmp(argv[optind - 1], "--") == 0)
		sup.argv = argv + optind;
	else if (optind != argc) {
		fprintf(stderr, "rawbrokerd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	sb.syslog = cfg.log_target == RB_LOG_SYSLOG;
	if (print_seccomp) {
		r = sandbox_print(stdout, &sb);
		if (r < 0)
			fprintf(stderr, "rawbrokerd: --print-seccomp: %s\n", strerror(-r));
		return r < 0 ? 1 : 0;
	}
	b.policy = load_policy(cfg.policy_path, check_only);
	if (check_only) {
		int ok = b.policy != NULL;

		rb_policy_free(b.policy);
		return ok ? 0 : 1;
	}
	if (!b.policy)
		fatalx("policy %s has errors; not starting", cfg.policy_path);
	config_apply(&cfg, rb_policy_global(b.policy));
	/* Before the privilege drop and the sandbox: from now on the log
	 * only sends on (and at worst reconnects) this one socket. */
	if (cfg.log_target == RB_LOG_SYSLOG) {
		r = log_open_syslog(cfg.syslog_facility);
		if (r < 0) {
			errno = -r;
			fatal("log to syslog: cannot connect to /dev/log");
		}
		log_event(LOG_LVL_INFO, "logging to syslog", "facility=%s",
			  log_facility_name(cfg.syslog_facility));
	}

	/* systemd's NOTIFY_SOCKET: taken before the fork and the sandbox. */
	r = notify_init();
	if (r < 0) {
		errno = -r;
		log_warn("NOTIFY_SOCKET: cannot notify the service manager");
	}

	signal(SIGPIPE, SIG_IGN);
	fit_connection_limit(&cfg);
	b.listen_fd = server_listen(&cfg);
	if (activated_path() && activated_path()[0])
		cfg.socket_path = activated_path();
	if (sup.argv) {
		sigset_t mask;

		/* Before the fork, so no signal is lost until the signalfd. */
		server_signal_mask(&mask);
		if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
			fatal("sigprocmask");
		if (rb_policy_rule_confinement(b.policy, rule, &sup.conf) < 0)
			fatalx("--rule %s: the policy has no such rule", rule);
		sup.socket_path = cfg.socket_path;
		sup.close_fd = b.listen_fd;
		sup.ready_fd = cfg.ready_fd;
		supervise_start(&sup);
		sb.supervise = true;
	}
	priv_drop(cfg.user);
	sb.syslog = cfg.log_target == RB_LOG_SYSLOG; /* the policy's block too */
	sandbox_load(&sb);
	priv_verify_final();
	server_run(&b);
	server_shutdown(&b);
	rb_policy_free(b.policy);
	log_info("stopped");
	return sup.argv ? supervise_exit_code() : 0;
}
