/* SPDX-License-Identifier: MIT */
/*
 * broker.h - state shared by the broker's event loop and its handlers.
 *
 * Error convention of broker/, broker/pure/ and broker/maker/ (as policy/
 * and proto/; README "Layout"):
 *  - A function that can fail returns int: 0 or a value >= 0 (a
 *    descriptor, a count) on success, -errno on failure.  Never -1 with
 *    errno set, never a positive errno.  Where a sentence helps the
 *    caller's message it also fills a WHY buffer (char *why, size_t n),
 *    and still returns -errno.
 *  - errno is taken (-errno) right after the call that failed, before
 *    anything that may change it: close(), free(), a log line.  A caller
 *    that reports with log_warn() or fatal(), which print errno, sets
 *    errno = -r just before.
 *  - bool is for predicates and decisions (closer_has_capacity(),
 *    limits_take_grant(), a handler's "keep the connection"), and for
 *    best-effort steps whose reason no caller uses (a log line written or
 *    lost); never for a failure a caller must tell apart.
 *  - A pointer is NULL for "none".  A validator returns const char *:
 *    NULL when fine, else a fixed sentence saying why not (its only
 *    failure is "invalid": rawsock_unservable(), mk_ext_header_invalid(),
 *    drop_user_parse()).
 *  - A wait in milliseconds for poll()/epoll_wait() is -1 for "none"
 *    (log_flush(), maker_refill(), stats_metrics_due()): a value, not an
 *    error.
 *  - An error carried as data, not returned (the maker's reply record,
 *    struct reply's error, maker_done_fn's ERR), is a positive errno, 0
 *    for none: what the client's errno becomes.
 *  - fatal()/fatalx() (the maker: die()) only at start-up and for the
 *    broker's own resources, never for what one client sent.
 */
#ifndef RAWBROKER_BROKER_H
#define RAWBROKER_BROKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "codec.h"
#include "policy.h"

#define CONN_INLINE_GROUPS 32 /* supplementary groups held without malloc */

/* A set_option that passed step 1 and waits for the client's socket. */
struct pending_option {
	int level, name;
	unsigned opt;        /* rb_option bit */
	const char *rule;    /* deciding rule (policy-owned; re-decided on use) */
	size_t len;
	uint8_t value[2048];
};

/* One client connection.  Identity is the kernel's, taken at accept. */
struct conn {
	int fd;
	struct ucred cred;               /* SO_PEERCRED */
	gid_t *groups;                   /* SO_PEERGROUPS: inline_groups or heap */
	size_t ngroups;
	gid_t inline_groups[CONN_INLINE_GROUPS];
	uint64_t requests;
	struct pending_option *pending; /* set_option step 2 expected */
	struct pending_option *awaiting; /* step 2 handed to the maker; its answer pending */
	uint64_t awaiting_id;            /* the request id to answer */
	bool door_opened;               /* SO_PASSRIGHTS was ever enabled */
	uint8_t replies;                /* 0, 1, or more: send_reply() */
	struct conn *prev, *next;
	struct uid_entry *uid_slot;     /* uidlimits.c: this uid's count and bucket */
	bool unmatched;                 /* no rule fit it at accept: in that budget */
	uint32_t groups_gen;            /* peerindex.c generation GROUPS were kept by */
	int64_t since_ms;               /* accepted or last answered (monotonic) */
	int timer;                      /* CONN_TIMER_*: which deadline list */
	struct conn *tprev, *tnext;     /* on that list, oldest first */
};

/* The deadlines a connection is under.  Each list shares one timeout, so
 * ordered by since_ms it is ordered by deadline: appending is O(1), and
 * only the heads are ever looked at. */
enum {
	CONN_TIMER_REQUEST, /* new, or a set_option waiting for step 2 */
	CONN_TIMER_IDLE,    /* kept between requests */
	CONN_TIMERS,
};

struct broker_config {
	const char *policy_path;
	const char *socket_path;
	const char *user;       /* NAME or UID:GID, used when started as root */
	mode_t socket_mode;
	gid_t socket_gid;       /* (gid_t)-1: leave the group alone */
	uid_t socket_uid;       /* (uid_t)-1: leave the owner alone */
	size_t max_conns;
	unsigned pool;          /* ready sockets per class (--pool) */
	const char *maker;      /* the socket maker's path */
	const char *agent_path; /* --seccomp-agent: OCI runtimes' listenerPath (seccomp_agent.h) */
	gid_t agent_gid;        /* --seccomp-agent-group: (gid_t)-1 for none (socket 0600) */
	size_t conns_fit;       /* most RLIMIT_NOFILE allows; 0: no bound */
	unsigned retire_max;    /* granted sockets' copies held to close later */
	/* Uids no rule matches: connections per uid, and all of them together
	 * (at most a quarter of max_conns); see server.c. */
	uint32_t unmatched_per_uid, unmatched_total;
	uint32_t request_timeout_ms, idle_timeout_ms;
	int log_target;         /* RB_LOG_STDERR or RB_LOG_SYSLOG */
	int syslog_facility;    /* LOG_DAEMON, ... */
	int ready_fd;           /* -1: none */
	/* status (stats.c): who may ask besides uid 0; the metrics file */
	bool has_admin_gid;
	gid_t admin_gid;        /* --admin-group */
	const char *metrics_path; /* --metrics-file, NULL: none */
	unsigned metrics_interval; /* seconds */
	int metrics_dirfd;      /* its directory (O_PATH), -1: none */
	/* config.c: what the command line set (it wins over the policy's
	 * 'broker' block), and that block as it was applied. */
	unsigned cli;           /* CFG_* bits */
	struct rb_global file;
	char socket_buf[108], user_buf[64];
};

struct broker {
	struct broker_config *cfg;
	struct rb_policy *policy;
	int listen_fd, epfd, sigfd;
	struct conn *conns;
	size_t nconns;
	bool accept_paused; /* out of descriptors: listener not watched */
	bool stop;
	bool failed; /* stopped because the maker is gone */
	struct {
		struct conn *head, *tail;
	} timers[CONN_TIMERS];
};

/* A reply being built by a handler. */
struct reply {
	Rawbroker__Status status;
	int error;            /* errno for STATUS_FAILED */
	char reason[RB_REASON_MAX];
	const char *rule;     /* deciding rule or NULL */
	int fd;               /* attached when status is OK, else -1 */
	bool want_descriptor; /* set_option step 1 passed */
	bool deferred;        /* no reply now: the maker answers (c->awaiting) */
	const Rawbroker__BrokerStatus *broker_status; /* a status answer (stats.c) */
};

/* Who asks for a socket, as the kernel tells the front, and through which
 * door (the audit line's via=): "unix" (a connection: SO_PEERCRED at
 * accept) or "notify" (a seccomp user notification: usernotif.c). */
struct grant_peer {
	struct rb_peer peer;
	struct uid_entry *uid_slot; /* the uid's grant bucket (uidlimits.h) */
	const char *via;
	const char *origin; /* NULL, or for the audit line: whose listener
			       (the supervised command, a container id) */
	/* NULL, or: hand the finished socket FD to the client now.  Returns
	 * 0, or -errno with WHY filled: then the socket is closed and audited
	 * as failed; the grant stays counted (the socket was made: a client
	 * that fails its deliveries on purpose must not make the maker work
	 * beyond its rate).  Called with the front lock held (front_lock());
	 * it may let go of it while it waits and take it again: then
	 * dispatch_socket() keeps its own copy of the rule's name, and
	 * REP->rule is NULL on return. */
	int (*deliver)(const struct grant_peer *gp, int fd, char *why, size_t whylen);
	void *cookie; /* DELIVER's */
};

/* server.c: the front lock.  The event loop holds it except while it
 * waits in epoll_wait(); a notify listener's thread (usernotif.c) takes it
 * for the shared state only (policy, rate limits, pool, maker link, log,
 * counters, pending option calls), never across an ioctl on its listener. */
void front_lock(void);
void front_unlock(void);

/* dispatch.c: decide SR for GP by the policy, take the uid's grant rate,
 * take the socket from the ready pool and finish it (rawsock.c); one audit
 * line and the counters.  Fills REP: on a grant REP->fd is the socket (the
 * caller's to pass on and close), else -1 and the status says why.  Both
 * doors go through here, so they share the policy, the audit lines, the
 * rate limits and the counters. */
void dispatch_socket(struct broker *b, const struct grant_peer *gp,
		     const Rawbroker__SocketRequest *sr, struct reply *rep);

/* dispatch.c: answer one well-formed request, which came with descriptor
 * FD_IN (-1: none; the handler owns it).  Fills REP; never fails the
 * broker.  A false return means: reply, then drop the connection. */
bool dispatch_request(struct broker *b, struct conn *c, const Rawbroker__Request *req,
		      int fd_in, struct reply *rep);

/* dispatch.c: the maker's answer ERR (0 or an errno) to C's deferred
 * set_option, as the reply REP, with its audit line. */
void dispatch_option_done(struct conn *c, int err, struct reply *rep);

/* server.c: the maker's answer to C's deferred set_option (maker_link.c
 * calls it from the loop). */
void server_option_done(void *conn, int err);

/* server.c: whether the kernel lets this client send us a descriptor
 * (SO_PASSRIGHTS, Linux 6.16; older kernels always do). */
void conn_accept_descriptor(struct conn *c, bool yes);

/* server.c */
/* The signals the loop takes through its signalfd (blocked otherwise). */
void server_signal_mask(sigset_t *mask);
int server_listen(const struct broker_config *cfg);
/* Whose directory a socket of ours (the main one, --seccomp-agent's) may
 * live in besides root's: the broker's user (started as root: the one it
 * will drop to; else itself).  A user that does not parse is fatal. */
uid_t server_dir_uid(const struct broker_config *cfg);
int server_run(struct broker *b);
void server_shutdown(struct broker *b);

/* closer.c: closes of client connections and client-sent descriptors,
 * on worker threads (a close can block). */
void closer_start(void);
void closer_release(int fd);
/* The same, and *PENDING (which the caller counted up) is counted down
 * once the close has finished: what a caller bounds by it stays counted
 * while a worker is stuck on it (seccomp_agent.c). */
void closer_release_counted(int fd, unsigned *pending);
/* Sockets we granted (raw or datagram: their close never waits on a
 * peer), closed together off the loop (server.c, retire()); *PENDING,
 * counted up by N by the caller, is counted down by N when they are. */
void closer_release_batch(const int *fds, unsigned n, unsigned *pending);
/* Our copies of granted sockets held at most, on the loop and queued for
 * the closer together (server.c, retire()), when RLIMIT_NOFILE leaves room
 * for them beside the pool (main.c: cfg->retire_max). */
#define RETIRE_HELD_MAX 32
/* False when the workers are stuck on closes clients booby-trapped: then
 * no request that hands the broker a descriptor is taken. */
bool closer_has_capacity(void);

/* config.c: the policy's 'broker' block under the command line. */
enum {
	CFG_SOCKET = 1u << 0,
	CFG_MODE = 1u << 1,
	CFG_OWNER = 1u << 2,
	CFG_GROUP = 1u << 3,
	CFG_USER = 1u << 4,
	CFG_MAX_CONNS = 1u << 5,
	CFG_REQUEST_TIMEOUT = 1u << 6,
	CFG_IDLE_TIMEOUT = 1u << 7,
	CFG_LOG = 1u << 8,
	CFG_LOG_LEVEL = 1u << 9,
};
#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_REQUEST_TIMEOUT_MS 5000
#define DEFAULT_IDLE_TIMEOUT_MS 300000
#define DEFAULT_UNMATCHED_PER_UID 4
#define DEFAULT_UNMATCHED_TOTAL 64
/* At start: fill what the command line left unset from G, then defaults. */
void config_apply(struct broker_config *cfg, const struct rb_global *g);
/* On reload: apply what can change at once (limits, timeouts, log level),
 * warn about what needs a restart. */
void config_reload(struct broker_config *cfg, const struct rb_global *g);

#endif /* RAWBROKER_BROKER_H */
