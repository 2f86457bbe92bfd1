/* SPDX-License-Identifier: MIT */
/*
 * policy.h - the rawbroker policy: parser and evaluator.
 *
 * A pure library: it never logs, never exits and never touches a socket.
 * Functions return 0 (or a count) on success and -errno on failure; every
 * problem found in a policy text is reported as a diagnostic with its
 * file:line:col, so the caller decides how to print it.
 *
 * The language (see rawbroker.conf(5) and README.md):
 *
 *     # comment
 *     rule NAME {
 *         match uid|gid|user|group VALUE...    (all match lines must fit;
 *         match any                             any value of one line fits)
 *         allow FAMILY PROTOCOL [TYPE]          (repeatable)
 *         source any | ADDR[/LEN]...            (optional; default any)
 *         default-source ADDR [ADDR]            (bound when the client names
 *                                                none; one per family)
 *         device IFNAME                         (SO_BINDTODEVICE: a lock)
 *         mark N                                (SO_MARK: a lock)
 *         receive icmp|icmpv6 TYPE...           (locked receive filter)
 *         rcvbuf SIZE / sndbuf SIZE             (buffer sizes: defaults)
 *         rate N/s [burst M] | rate unlimited   (grants per uid)
 *         connections N | connections unlimited (per uid, at once)
 *         options OPTION...                     (privileged socket options the
 *                                                broker may set for the client:
 *                                                ipv6-hopopts, ipv6-dstopts)
 *         hdrincl allow|deny                    (client confinement)
 *     }
 *     broker {                                  (at most one; settings of the
 *         listen PATH                            broker itself, see struct
 *         socket-mode MODE / socket-owner USER   rb_global)
 *         socket-group GROUP / user USER
 *         max-connections N
 *         request-timeout DURATION / idle-timeout DURATION
 *         log stderr | log syslog [FACILITY] / log-level LEVEL
 *     }
 *
 * The first rule whose match lines all fit the client and that allows the
 * requested family/protocol/type decides.  No such rule: deny.
 */
#ifndef RAWBROKER_POLICY_H
#define RAWBROKER_POLICY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RB_POLICY_MAX_SIZE (1024 * 1024) /* larger files are refused */
#define RB_RULE_NAME_MAX 64              /* including the NUL */
#define RB_POLICY_MAX_DROPINS 256        /* files in PATH.d */

enum rb_diag_severity {
	RB_DIAG_ERROR,
	RB_DIAG_WARNING,
};

struct rb_diag {
	enum rb_diag_severity severity;
	unsigned line; /* 1-based; 0 when not tied to a place in the text */
	unsigned col;  /* 1-based byte column; 0 with line 0 */
	char msg[320];
	const char *file; /* the file it is about when that is not
			     rb_diags.file (a drop-in); owned by the rb_diags */
	bool note; /* a remark about the list itself ("too many errors; stopped
		      after 50"), not a problem in the text: counted in
		      rb_diags.errors/warnings like the others (by its
		      severity), but not a problem to count for a person */
};

/* Messages collected while parsing.  Zero-initialise before first use. */
struct rb_diags {
	char file[256]; /* name used in formatted messages */
	struct rb_diag *v;
	size_t n, cap;
	size_t errors, warnings;
	char **files; /* names rb_diag.file points to (owned) */
	size_t nfiles;
};

void rb_diags_free(struct rb_diags *d);

/* "FILE:LINE:COL: error: MSG" (or "FILE: error: MSG" when line is 0).
 * Returns the snprintf() result. */
int rb_diag_format(const struct rb_diags *d, const struct rb_diag *diag, char *buf,
		   size_t size);

/* How user and group names are resolved at load time.  Return 0 and set
 * the id, -ENOENT for an unknown name, another -errno on failure. */
struct rb_resolver {
	int (*user)(const char *name, uid_t *uid, void *ctx);
	int (*group)(const char *name, gid_t *gid, void *ctx);
	void *ctx;
};

/* getpwnam_r()/getgrnam_r() */
extern const struct rb_resolver rb_resolver_system;

struct rb_policy;

/*
 * Parse a policy text of LEN bytes (need not be NUL-terminated).  RES may
 * be NULL for rb_resolver_system.  Returns 0 and a policy in *OUT (there
 * may still be warnings in DIAGS), -EINVAL when DIAGS holds at least one
 * error (*OUT is NULL), -ENOMEM.
 */
int rb_policy_parse(const char *text, size_t len, const char *filename,
		    const struct rb_resolver *res, struct rb_policy **out,
		    struct rb_diags *diags);

/* Read PATH and parse it.  An unreadable file is -errno with one
 * diagnostic (line 0) saying why; a file over RB_POLICY_MAX_SIZE is
 * -EFBIG.
 *
 * Drop-ins: when the directory PATH.d exists (rawbroker.conf.d), every
 * regular file in it whose name ends in ".conf" and does not start with
 * '.' is read after PATH, in the byte order of the names (at most
 * RB_POLICY_MAX_DROPINS of them, RB_POLICY_MAX_SIZE bytes in all), as if
 * appended, each with its own line numbers: a rule or block cannot span two
 * files.  Diagnostics about a drop-in name it (rb_diag.file).  PATH.d that
 * is not a directory is an error; no PATH.d is none. */
int rb_policy_load(const char *path, const struct rb_resolver *res,
		   struct rb_policy **out, struct rb_diags *diags);

void rb_policy_free(struct rb_policy *p);

size_t rb_policy_rule_count(const struct rb_policy *p);

/* Who is asking, as the kernel reported it (SO_PEERCRED, SO_PEERGROUPS). */
struct rb_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups; may be NULL */
	size_t ngroups;
};

/* What is asked for.  family: AF_INET/AF_INET6; type: SOCK_RAW/... without
 * SOCK_NONBLOCK/SOCK_CLOEXEC; protocol: IPPROTO_*. */
struct rb_query {
	int family;
	int type;
	int protocol;
	bool has_source;
	union {
		struct in_addr v4;   /* family AF_INET */
		struct in6_addr v6;  /* family AF_INET6 */
	} source;
};

enum rb_verdict {
	RB_DENY = 0,
	RB_ALLOW = 1,
};

/* ICMP or ICMPv6 message types, as a set (bit N: type N). */
struct rb_icmp_types {
	uint32_t bits[8];
};

static inline bool rb_icmp_types_has(const struct rb_icmp_types *t, unsigned type)
{
	return type < 256 && (t->bits[type / 32] >> (type % 32) & 1u);
}

/*
 * How the broker prepares a granted socket, from the deciding rule.  Which
 * of these the client cannot undo (locks) and which it can (defaults) is
 * said per field; see rawbroker.conf(5), "Locks and defaults".
 */
struct rb_prepare {
	char device[16];       /* lock: SO_BINDTODEVICE; "" for none (IFNAMSIZ) */
	bool has_mark;
	uint32_t mark;         /* lock: SO_MARK */
	bool has_receive;      /* lock: SO_ATTACH_FILTER + SO_LOCK_FILTER that */
	struct rb_icmp_types receive; /* passes only these types (of the query's
					 protocol: icmp or icmpv6) */
	bool has_default_source; /* default: bind here when the client names */
	union {                  /* no source (family of the query) */
		struct in_addr v4;
		struct in6_addr v6;
	} default_source;
	uint32_t rcvbuf, sndbuf; /* default: SO_RCVBUF/SO_SNDBUF; 0: leave */
	bool hdrincl;            /* client confinement: the exported seccomp
				    profile lets the client set IP_HDRINCL /
				    IPV6_HDRINCL (default false) */
	bool deny_recverr;       /* client confinement: the profile refuses
				    IP_RECVERR / IPV6_RECVERR, whose error
				    queue the receive filter never sees
				    ('recverr deny'; the default for a rule
				    with 'receive') */
};

/* What one uid may take (per rule; the broker counts per uid). */
struct rb_limits {
	uint32_t rate;        /* grants per second; 0: unlimited */
	uint32_t burst;       /* grants at once above the rate (token bucket) */
	uint32_t connections; /* concurrent connections; 0: unlimited */
};

struct rb_decision {
	enum rb_verdict verdict;
	const char *rule; /* deciding rule's name (valid while the policy
			     lives); NULL when no rule decided */
	unsigned line;    /* that rule's line; 0 when none */
	char reason[192]; /* one line of human text, always set */
	struct rb_prepare prep;   /* with RB_ALLOW: how to prepare the socket */
	struct rb_limits limits;  /* the deciding rule's limits (RB_ALLOW) */
};

/* Decide.  Always fills *DEC; returns 0, or -EINVAL for NULL arguments. */
int rb_policy_decide(const struct rb_policy *p, const struct rb_peer *peer,
		     const struct rb_query *q, struct rb_decision *dec);

/* Privileged socket options a rule may let the broker set on a client's own
 * socket ('options' line).  Bit values. */
enum rb_option {
	RB_OPT_IPV6_HOPOPTS = 1u << 0, /* ipv6-hopopts: IPV6_HOPOPTS */
	RB_OPT_IPV6_DSTOPTS = 1u << 1, /* ipv6-dstopts: IPV6_DSTOPTS */
};

/* Decide whether PEER may have the broker set OPT (one rb_option bit) on
 * its own socket: the first rule whose match lines fit and whose 'options'
 * line names OPT allows it; none: deny.  Fills *DEC as rb_policy_decide(). */
int rb_policy_decide_option(const struct rb_policy *p, const struct rb_peer *peer,
			    unsigned opt, struct rb_decision *dec);

/* The limits for a connection of PEER, taken at accept time: those of the
 * first rule whose match lines fit PEER, else the policy's defaults for
 * clients no rule fits (such a client can be granted nothing, so its
 * connection count is what matters).  Always fills *OUT. */
void rb_policy_peer_limits(const struct rb_policy *p, const struct rb_peer *peer,
			   struct rb_limits *out);

/* Where the broker logs. */
enum rb_log_target {
	RB_LOG_UNSET = 0, /* not in the file: command line or built-in default */
	RB_LOG_STDERR,
	RB_LOG_SYSLOG,
};

/*
 * The policy's 'broker { ... }' block: settings for the broker itself.  A
 * field that is unset (HAS_* false, 0, "") was not in the file; the
 * broker then takes its command line or its built-in default.  The
 * command line wins over the file.
 */
struct rb_global {
	char listen[108];        /* socket path (sun_path); "" unset */
	bool has_mode;
	mode_t mode;             /* socket permissions */
	bool has_owner;
	uid_t owner;             /* socket owner (resolved at load) */
	bool has_group;
	gid_t group;             /* socket group (resolved at load) */
	uint32_t max_connections; /* all clients together; 0 unset */
	uint32_t request_timeout_ms; /* a new connection's time to send its
					 first request, and a set_option's
					 time to send step 2; 0 unset */
	uint32_t idle_timeout_ms; /* a kept connection with no request for
				      this long is closed (clients reconnect);
				      0 unset */
	enum rb_log_target log;
	int syslog_facility;     /* LOG_DAEMON, ... with RB_LOG_SYSLOG */
	int log_level;           /* -1 unset; else 0 debug .. 3 error */
	char user[64];           /* broker user (name or UID:GID); "" unset */
};

/* The policy's global settings; never NULL for a parsed policy. */
const struct rb_global *rb_policy_global(const struct rb_policy *p);

/* The client confinement of rule NAME (for the exported seccomp profile):
 * fills *PREP's confinement fields (today: hdrincl) and returns 0, or
 * -ENOENT when the policy has no such rule.  NAME NULL: the default
 * confinement (everything denied), 0. */
int rb_policy_rule_confinement(const struct rb_policy *p, const char *name,
			       struct rb_prepare *prep);

/* True when some rule that fits PEER names any option: only then does the
 * broker accept a descriptor from that client's connection. */
bool rb_policy_peer_may_set_options(const struct rb_policy *p, const struct rb_peer *peer);

/*
 * Analyse a parsed policy and add WARNINGS (never errors) to DIAGS, each at
 * the line and column of the statement or rule concerned:
 *  - a rule that can never match because no uid is on all of its uid/user
 *    match lines (unknown names are warned about by the parser already);
 *  - a rule that is never reached: one earlier rule fits every client it
 *    fits, allows every family/protocol/type it allows, allows at least the
 *    sources it allows (for those families), and names every option it
 *    names.  Only shadowing by one earlier rule is found, and only when it
 *    is certain;
 *  - raw udp or tcp allowed: such a socket sees that protocol's traffic for
 *    the whole network namespace;
 *  - 'match any' with 'source any' (written or by default): any local user
 *    may send from any local address;
 *  - 'hdrincl allow', and RECVERR allowed next to a 'receive' filter;
 *  - an 'accept-risk' word for a risk the rule does not have.
 * A rule's 'accept-risk' words silence its warnings about those risks
 * (raw-udp, raw-tcp, hdrincl, recverr), and only those.
 * Pure: no output, no name lookups.  Returns the number of diagnostics
 * added, -EINVAL for NULL arguments, -ENOMEM.
 */
int rb_policy_check(const struct rb_policy *p, struct rb_diags *diags);

/*
 * The policy as normalized text, itself a valid policy that parses to one
 * rb_policy_equal() to P (names are resolved again when it is parsed): a
 * header comment with the decision rule, then every rule with its line,
 * its match lines (names with what they resolved to, in comments), allow
 * lines with the type, 'source any' when it was the default, its options,
 * and rb_policy_check()'s warnings as comments.  ORIGIN names the file in
 * the header (may be NULL).  On success *OUT is a NUL-terminated string
 * for free() and *LEN (if not NULL) its length.  0, -EINVAL or -ENOMEM.
 */
int rb_policy_explain(const struct rb_policy *p, const char *origin, char **out,
		      size_t *len);

/*
 * The egress ruleset of P for 'nft -f': a 'table inet rawbroker' that
 * replaces itself when loaded again, in which packets carrying the mark of
 * a rule with 'destination' or 'device' are rejected (ICMP administratively
 * prohibited) unless they go to one of its destinations and out of its
 * device; unmarked packets and other marks are accepted.  Rules that share
 * a mark share their limits.  ORIGIN names the file in the header (may be
 * NULL).  *OUT as rb_policy_explain().  0, -EINVAL, -ENOMEM, or -EDOM when
 * a device name of such a rule holds characters nftables cannot quote
 * (only letters, digits and "._-@+" are written).
 */
int rb_policy_nft(const struct rb_policy *p, const char *origin, char **out, size_t *len);

/* True when A and B decide every request the same way because they hold
 * the same rules in the same order: names, matched ids, allows, sources
 * and options (lines and comments are not compared).  Two NULLs are equal. */
bool rb_policy_equal(const struct rb_policy *a, const struct rb_policy *b);

/* "ipv6-hopopts", "ipv6-dstopts"; NULL for anything else. */
const char *rb_option_name(unsigned opt);

/* Names used in the language and in audit lines: "inet", "icmpv6", "raw".
 * NULL for a value the language does not know. */
const char *rb_family_name(int family);
const char *rb_protocol_name(int protocol);
const char *rb_type_name(int type);

/* "echo-reply", ... for a type of PROTOCOL (IPPROTO_ICMP or IPPROTO_ICMPV6);
 * NULL for a type the language has no name for (written as its number). */
const char *rb_icmp_type_name(int protocol, unsigned type);

/* "daemon", "local0", ... for a LOG_* facility; NULL for others. */
const char *rb_syslog_facility_name(int facility);

/* "debug", "info", "warn", "error" for 0..3; NULL for others. */
const char *rb_log_level_name(int level);

/* A kind of socket a policy can have the broker make: a rule's allow line
 * with that rule's mark. */
struct rb_class {
	int family, type, protocol;
	bool has_mark;
	uint32_t mark;
};

/* Every distinct class P's rules can grant, in rule order, into OUT (CAP
 * entries).  Returns how many, or -ENOSPC when they do not fit. */
int rb_policy_classes(const struct rb_policy *p, struct rb_class *out, size_t cap);

#endif /* RAWBROKER_POLICY_H */
