/* SPDX-License-Identifier: MIT */
/*
 * server.c - the listening socket and the event loop.
 *
 * Single-threaded, non-blocking, level-triggered epoll.  Each wake-up of a
 * client reads at most one record, so a chatty client cannot starve the
 * others.  A client that breaks the protocol gets one error reply (if its
 * queue has room) and loses its connection; nothing a client does ends the
 * loop (STYLE.md #5).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "frame.h"
#include "uidlimits.h"
#include "log.h"
#include "supervise.h"
#include "activate.h"
#include "maker_link.h"
#include "maker/drop.h"
#include "peerindex.h"
#include "sockdir.h"
#include "notify.h"
#include "stats.h"
#include "usernotif.h"
#include "seccomp_agent.h"

#define EP_LISTEN ((void *)1)
#define EP_SIGNAL ((void *)2)
#define EP_MAKER ((void *)3)
#define EP_AGENT ((void *)4) /* --seccomp-agent: its own epoll set */

/* The one broker this process runs (for the maker's deferred answers). */
static struct broker *the_broker;

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83 /* Linux 6.16 */
#endif

/* Clients never send descriptors.  Where the kernel can refuse them for us
 * (SO_PASSRIGHTS, Linux 6.16), a client's sendmsg() with SCM_RIGHTS fails
 * and nothing reaches the broker; older kernels deliver them and frame.c
 * closes them.  Best effort: ENOPROTOOPT on older kernels. */
/* True once the kernel accepted SO_PASSRIGHTS on the listener: then
 * connections inherit it and no descriptor reaches one unless dispatch.c
 * opened the door for it. */
static bool kernel_refuses_fds;

static void refuse_descriptors(int fd)
{
	int off = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off)) < 0)
		kernel_refuses_fds = false;
}

/*
 * Does a new connection need SO_PASSRIGHTS 0 set on it, or did it inherit
 * the listener's?  Linux copies a listener's SO_PASS* flags to each
 * connection at connect() (6.16, the release that added SO_PASSRIGHTS),
 * which saves a system call per connection; but only connections made
 * after we set the listener inherit it, and an activated listener may
 * have queued some before.  So: for a listener we set before listen(),
 * the first connection is asked (one getsockopt, once); when it reads 0
 * without our setting it, every later one will too.  Otherwise, and for
 * an activated listener, each connection gets its own setsockopt, as
 * before.  conn_close() relies on this (a direct close() only where the
 * kernel refused descriptors).
 */
static enum { REFUSE_UNKNOWN, REFUSE_PER_CONN, REFUSE_INHERITED } conn_refusal;

static void refuse_descriptors_conn(int fd)
{
	int v = 1;
	socklen_t len = sizeof(v);

	if (!kernel_refuses_fds || conn_refusal == REFUSE_INHERITED)
		return;
	if (conn_refusal == REFUSE_UNKNOWN) {
		if (getsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &v, &len) == 0 && v == 0) {
			conn_refusal = REFUSE_INHERITED;
			return;
		}
		conn_refusal = REFUSE_PER_CONN;
	}
	refuse_descriptors(fd);
}

/* Open the door for exactly the descriptor a set_option handshake expects
 * (dispatch.c), and close it again once that arrived. */
void conn_accept_descriptor(struct conn *c, bool yes)
{
	int v = yes;

	if (yes)
		c->door_opened = true;
	setsockopt(c->fd, SOL_SOCKET, SO_PASSRIGHTS, &v, sizeof(v));
}

uid_t server_dir_uid(const struct broker_config *cfg)
{
	const char *why, *name;
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return geteuid();
	why = drop_user_parse(cfg->user, &uid, &gid, &name);
	if (why)
		fatalx("user %s: %s; not starting", cfg->user, why);
	return uid;
}

/*
 * The socket is made in a directory that only root and the broker's user
 * can write to (sockdir.h), through a descriptor of that directory: the
 * bind runs under a umask that yields exactly cfg->socket_mode (never more
 * open than configured, no chmod afterwards), and the owner and group are
 * set with fchownat() on the entry itself, never by a path.  Changing its
 * group only ever widens access from root's group to the configured one.
 */
int server_listen(const struct broker_config *cfg)
{
	char leaf[sizeof(((struct sockaddr_un *)0)->sun_path)], why[512];
	int fd, dirfd, r;

	/* Socket activation: the service manager made it (activate.c). */
	fd = activate_listener();
	if (fd >= 0) {
		conn_refusal = REFUSE_PER_CONN; /* clients may have queued already */
		goto listening;
	}
	if (strlen(cfg->socket_path) >= sizeof(leaf))
		fatalx("socket path too long (max %zu bytes): %s", sizeof(leaf) - 1,
		       cfg->socket_path);
	dirfd = sockdir_open(cfg->socket_path, server_dir_uid(cfg), true, leaf, sizeof(leaf), why,
			     sizeof(why));
	if (dirfd < 0)
		fatalx("socket %s: %s; not starting", cfg->socket_path, why);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		fatal("socket");
	r = sockdir_bind(fd, dirfd, leaf, cfg->socket_path, cfg->socket_mode, cfg->socket_uid,
			 cfg->socket_gid, why, sizeof(why));
	close(dirfd);
	if (r < 0)
		fatalx("%s; not starting", why);
listening:
	kernel_refuses_fds = true;
	refuse_descriptors(fd);
	if (listen(fd, SOMAXCONN) < 0)
		fatal("listen %s", cfg->socket_path);
	return fd;
}

/*
 * Out of descriptors: stop watching the listener (level-triggered epoll
 * would wake us for the same pending client in a busy loop) until a
 * connection closes.  Waiting clients stay in the backlog.
 */
static void pause_accepting(struct broker *b)
{
	if (b->accept_paused)
		return;
	log_warn("accept: pausing until a client disconnects");
	if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, b->listen_fd,
		      &(struct epoll_event){ .events = 0, .data.ptr = EP_LISTEN }) < 0)
		fatal("epoll_ctl");
	b->accept_paused = true;
}

static void resume_accepting(struct broker *b)
{
	if (!b->accept_paused)
		return;
	if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, b->listen_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = EP_LISTEN }) < 0)
		fatal("epoll_ctl");
	b->accept_paused = false;
	log_info("accepting clients again");
}

/* ---- deadlines: a new connection's first request, a set_option's step 2,
 * and a kept connection's idle time ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t timer_timeout(const struct broker *b, int which)
{
	return which == CONN_TIMER_REQUEST ? b->cfg->request_timeout_ms
					   : b->cfg->idle_timeout_ms;
}

static void timer_unlink(struct broker *b, struct conn *c)
{
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		b->timers[c->timer].head = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	else
		b->timers[c->timer].tail = c->tprev;
	c->tprev = c->tnext = NULL;
}

/* (Re)start C's deadline on list WHICH, from now: to the tail, O(1). */
static void timer_arm(struct broker *b, struct conn *c, int which, bool linked)
{
	if (linked)
		timer_unlink(b, c);
	c->timer = which;
	c->since_ms = now_ms();
	c->tprev = b->timers[which].tail;
	if (c->tprev)
		c->tprev->tnext = c;
	else
		b->timers[which].head = c;
	b->timers[which].tail = c;
}

static void conn_close(struct broker *b, struct conn *c);

/* Close the connections whose deadline has passed (each list from its
 * head, so only expired ones are touched), and return the milliseconds
 * until the next deadline, -1 for none. */
static int expire_timers(struct broker *b)
{
	int64_t now = now_ms(), next = -1;

	for (int w = 0; w < CONN_TIMERS; w++) {
		int64_t timeout = timer_timeout(b, w);
		struct conn *c;

		while ((c = b->timers[w].head) && c->since_ms + timeout <= now) {
			if (w == CONN_TIMER_REQUEST)
				stats_limit_hit("request_timeout");
			if (w == CONN_TIMER_REQUEST)
				log_event(LOG_LVL_WARN, "limit",
					  "limit=request_timeout value_ms=%u uid=%u pid=%d "
					  "requests=%llu step2=%d",
					  (unsigned)timeout, (unsigned)c->cred.uid, (int)c->cred.pid,
					  (unsigned long long)c->requests, c->pending != NULL);
			else
				log_event(LOG_LVL_INFO, "timeout",
					  "limit=idle_timeout value_ms=%u uid=%u pid=%d requests=%llu",
					  (unsigned)timeout, (unsigned)c->cred.uid, (int)c->cred.pid,
					  (unsigned long long)c->requests);
			conn_close(b, c);
		}
		if (c && (next < 0 || c->since_ms + timeout - now < next))
			next = c->since_ms + timeout - now;
	}
	return next > INT32_MAX ? INT32_MAX : (int)next;
}

static void conn_free(struct conn *c)
{
	if (c->groups != c->inline_groups)
		free(c->groups);
	free(c->pending);
	free(c->awaiting);
	free(c);
}

/*
 * The client's supplementary groups, as far as the policy can ever look at
 * them: only the gids some match line names are kept (peerindex.h), so a
 * client with 65,536 groups costs a connection no more than one with a
 * few, and every group rule still sees every group that matters.  The
 * kernel's list is fetched whole into one buffer of NGROUPS_MAX entries
 * (256 KiB, static: only the loop thread reads connections), filtered there,
 * and only what is left is kept with the connection.
 */
static gid_t groups_buf[NGROUPS_MAX];

/* 0, or -errno (-EPROTO: a list of a size no gid list has). */
static int peer_groups(struct conn *c)
{
	socklen_t len = sizeof(groups_buf);
	size_t n;

	if (c->groups != c->inline_groups)
		free(c->groups);
	c->groups = c->inline_groups;
	c->ngroups = 0;
	if (!peer_index_wants_groups()) { /* no rule names a group: a call less */
		c->groups_gen = peer_index_generation();
		return 0;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups_buf, &len) < 0)
		return -errno; /* not ERANGE: the kernel keeps at most NGROUPS_MAX */
	if (len % sizeof(gid_t))
		return -EPROTO;
	c->groups_gen = peer_index_generation();
	n = peer_index_filter(groups_buf, len / sizeof(gid_t));
	if (n > CONN_INLINE_GROUPS) {
		c->groups = malloc(n * sizeof(gid_t));
		if (!c->groups) {
			c->groups = c->inline_groups;
			return -ENOMEM;
		}
	}
	memcpy(c->groups, groups_buf, n * sizeof(gid_t));
	c->ngroups = n;
	return 0;
}

/* The connection's place in the per-uid counts, given back. */
static void conn_release_slot(struct conn *c)
{
	if (c->unmatched)
		limits_conn_close_unmatched(c->uid_slot);
	else
		limits_conn_close(c->uid_slot);
	c->uid_slot = NULL;
}

static void conn_close(struct broker *b, struct conn *c)
{
	timer_unlink(b, c);
	if (c->awaiting)
		maker_forget(c); /* its answer, when it comes, goes nowhere */
	conn_release_slot(c);
	/* Records still queued on it may hold descriptors, released by the
	 * final close: not on this thread, unless the kernel never let any
	 * reach this connection (the common case, and a thread hand-off per
	 * connection would cost more than the close).
	 * A direct close() needs no EPOLL_CTL_DEL: this is the only
	 * descriptor of the connection's file (nothing here dups it, no
	 * other thread touches it, and the front forks only before it
	 * serves; its seccomp filter refuses fork after that), so
	 * close() releases the file before it returns, and that takes it out
	 * of the epoll set.  A close left to the closer thread comes later:
	 * out of the set first, so no event names a freed connection. */
	if (kernel_refuses_fds && !c->door_opened) {
		close(c->fd);
	} else {
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		closer_release(c->fd);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		b->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	b->nconns--;
	conn_free(c);
	resume_accepting(b);
}

/* All connections of uids no rule matches, together: the configured total,
 * but never more than a quarter of the table, so they cannot fill it. */
static uint32_t unmatched_budget(const struct broker_config *cfg)
{
	size_t quarter = cfg->max_conns / 4;

	return cfg->unmatched_total < quarter ? cfg->unmatched_total : (uint32_t)quarter;
}

static void accept_one(struct broker *b)
{
	struct rb_limits lim;
	struct rb_peer peer;
	struct conn *c;
	socklen_t len;
	int fd, r;

	fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_accepting(b); /* the pending client stays queued */
		else if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
			log_warn("accept");
		return;
	}
	/* A new connection may already hold queued records (and, on older
	 * kernels, descriptors): every close of one goes to the closer. */
	if (b->nconns >= b->cfg->max_conns) {
		stats_limit_hit("max_connections");
		log_event(LOG_LVL_WARN, "limit", "limit=max_connections value=%zu",
			  b->cfg->max_conns);
		if (kernel_refuses_fds)
			close(fd);
		else
			closer_release(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_warn("accept: out of memory");
		closer_release(fd);
		return;
	}
	c->fd = fd;
	refuse_descriptors_conn(fd);
	len = sizeof(c->cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0 ||
	    len != sizeof(c->cred)) {
		log_warn("SO_PEERCRED");
		goto fail;
	}
	r = peer_groups(c);
	if (r < 0) {
		errno = -r;
		log_warn("SO_PEERGROUPS uid=%u pid=%d", (unsigned)c->cred.uid, (int)c->cred.pid);
		goto fail;
	}
	/* One uid must not take every slot: its cap is that of the first rule
	 * that fits it (or the policy's default).  Uids that no rule fits can
	 * be granted nothing: they get a small budget of their own, so that
	 * many of them cannot fill the table (unmatched_budget()). */
	peer = (struct rb_peer){ .pid = c->cred.pid, .uid = c->cred.uid, .gid = c->cred.gid,
				 .groups = c->groups, .ngroups = c->ngroups };
	rb_policy_peer_limits(b->policy, &peer, &lim);
	if (!peer_index_fits_any(b->policy, &peer)) {
		uint32_t cap = b->cfg->unmatched_per_uid, total = unmatched_budget(b->cfg);

		if (lim.connections && lim.connections < cap)
			cap = lim.connections;
		r = limits_conn_open_unmatched(c->cred.uid, cap, total, &c->uid_slot);
		if (r == 0) {
			c->unmatched = true;
		} else if (r == -EUSERS) {
			stats_limit_hit("unmatched_connections");
			log_event(LOG_LVL_WARN, "limit",
				  "limit=unmatched_connections value=%u uid=%u pid=%d",
				  (unsigned)cap, (unsigned)c->cred.uid, (int)c->cred.pid);
			goto fail;
		} else if (r == -ENOSPC) {
			stats_limit_hit("unmatched_connections_total");
			log_event(LOG_LVL_WARN, "limit",
				  "limit=unmatched_connections_total value=%u uid=%u pid=%d",
				  (unsigned)total, (unsigned)c->cred.uid, (int)c->cred.pid);
			goto fail;
		}
	} else {
		r = limits_conn_open(c->cred.uid, lim.connections, &c->uid_slot);
		if (r == -EUSERS) {
			stats_limit_hit("connections_per_uid");
			log_event(LOG_LVL_WARN, "limit",
				  "limit=connections_per_uid value=%u uid=%u pid=%d",
				  (unsigned)lim.connections, (unsigned)c->cred.uid,
				  (int)c->cred.pid);
			goto fail;
		}
	}
	if (r < 0) {
		log_warnx("accept: out of memory");
		goto fail;
	}
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = c }) < 0) {
		log_warn("epoll_ctl");
		goto fail;
	}
	timer_arm(b, c, CONN_TIMER_REQUEST, false);
	c->next = b->conns;
	if (b->conns)
		b->conns->prev = c;
	b->conns = c;
	b->nconns++;
	log_event(LOG_LVL_DEBUG, "connect", "uid=%u gid=%u pid=%d", (unsigned)c->cred.uid,
		  (unsigned)c->cred.gid, (int)c->cred.pid);
	return;
fail:
	conn_release_slot(c);
	closer_release(fd);
	conn_free(c);
}

/* Returns false when the reply could not be sent (client gone or not
 * reading); the caller then drops the connection. */
static bool send_reply(struct conn *c, uint64_t id, const struct reply *rep)
{
	Rawbroker__Reply msg = RAWBROKER__REPLY__INIT;
	uint8_t buf[RB_FRAME_MAX];
	ssize_t n;
	int r;

	msg.version = RB_PROTOCOL_VERSION;
	msg.id = id;
	msg.status = rep->status;
	msg.error = rep->error;
	msg.reason = (char *)rep->reason;
	msg.rule = (char *)(rep->rule ? rep->rule : "");
	msg.want_descriptor = rep->want_descriptor;
	msg.broker_status = (Rawbroker__BrokerStatus *)rep->broker_status;
	n = rb_reply_encode(&msg, buf, sizeof(buf));
	if (n < 0) /* cannot happen: every field is bounded */
		return false;
	/* The smallest send buffer the kernel allows holds only a few
	 * replies.  A client that does not read its replies (each may carry
	 * a socket that counts against the broker's in-flight descriptor
	 * limit) soon makes our non-blocking send fail, and is dropped.  Set
	 * before the second reply, not at accept: one reply always fits, and
	 * a connection that asks once (a fresh one per request) saves the
	 * system call. */
	if (c->replies == 1 && setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &(int){ 1 }, sizeof(int)) < 0) {
		log_warn("SO_SNDBUF");
		return false;
	}
	if (c->replies < 2)
		c->replies++;
	/* DONTWAIT: a client that does not read its replies is dropped, never
	 * waited for. */
	r = rb_frame_send(c->fd, buf, (size_t)n, rep->fd, RB_FRAME_DONTWAIT);
	if (r < 0) {
		log_event(LOG_LVL_WARN, "reply not sent", "uid=%u pid=%d err=%s",
			  (unsigned)c->cred.uid, (int)c->cred.pid, strerror(-r));
		return false;
	}
	return true;
}

static void protocol_error(struct broker *b, struct conn *c, uint64_t id,
			   Rawbroker__Status st, const char *what)
{
	struct reply rep = { .status = st, .error = EINVAL, .fd = -1 };
	char q[LOG_Q_MAX];

	snprintf(rep.reason, sizeof(rep.reason), "%s", what);
	log_event(LOG_LVL_WARN, "protocol error", "uid=%u gid=%u pid=%d reason=%s",
		  (unsigned)c->cred.uid, (unsigned)c->cred.gid, (int)c->cred.pid,
		  log_q(q, what));
	send_reply(c, id, &rep);
	conn_close(b, c);
}

/* Read from C's connection, or not while the maker works for it. */
static void watch_conn(struct broker *b, struct conn *c, bool on)
{
	if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->fd,
		      &(struct epoll_event){ .events = on ? EPOLLIN : 0, .data.ptr = c }) < 0)
		log_warn("epoll_ctl");
}

void server_option_done(void *conn, int err)
{
	struct broker *b = the_broker;
	struct conn *c = conn;
	struct reply rep = { .fd = -1 };

	dispatch_option_done(c, err, &rep);
	if (!send_reply(c, c->awaiting_id, &rep)) {
		conn_close(b, c);
		return;
	}
	watch_conn(b, c, true);
	timer_arm(b, c, CONN_TIMER_IDLE, true);
}

/* ---- granted sockets: our copies, closed in batches off the loop ----
 *
 * Once its reply is sent the client holds its own copy of a granted
 * socket, and ours is only a reference to drop.  It is not dropped at
 * once on the loop:
 *  - Cost.  A close() right after the reply sits between the reply and
 *    the loop's next wait, and it is often the last reference (a client
 *    that closed its copy meanwhile), which tears the socket down there.
 *    On one CPU that lands inside the client's next request: a kept
 *    connection's grant took about 2.5 us longer (README, "Performance").
 *  - Safety.  Whoever drops the last reference runs the teardown, and
 *    for a socket that joined multicast groups that takes the RTNL lock,
 *    which other processes can hold for long.  Ours is the last whenever
 *    the client closed its copy first; a closer worker may wait on that,
 *    the loop must not (closer.c).
 * So our copies wait here, RETIRE_BATCH of them or RETIRE_MS at most, and
 * then go to a closer worker in one job (one close_range() per run of
 * numbers).  Meanwhile a socket its client closed still exists, unseen
 * by anyone, and queues what it receives up to its buffer's size.  When
 * the workers are stuck, or cfg->retire_max copies (RETIRE_HELD_MAX, less
 * under a small RLIMIT_NOFILE: main.c) are held here and in the closer's
 * queue together, a copy is closed at once as before the batches: the
 * copy still in flight to the client holds a reference then, so ours is
 * usually not the last (a client on another CPU can receive and close its
 * copy first). */
#define RETIRE_BATCH 16
#define RETIRE_MS 1000

static struct {
	int fd[RETIRE_BATCH];
	unsigned n;
	int64_t first_ms; /* when fd[0] was retired */
	unsigned queued;  /* handed to the closer, not closed yet */
} retired;

static void retire_flush(void)
{
	__atomic_fetch_add(&retired.queued, retired.n, __ATOMIC_RELAXED);
	closer_release_batch(retired.fd, retired.n, &retired.queued);
	retired.n = 0;
}

/* FD was just sent to a client in a reply: our copy is done with. */
static void retire(const struct broker *b, int fd)
{
	if (retired.n + __atomic_load_n(&retired.queued, __ATOMIC_ACQUIRE) >= b->cfg->retire_max ||
	    !closer_has_capacity()) {
		close(fd);
		return;
	}
	if (retired.n == 0)
		retired.first_ms = now_ms();
	retired.fd[retired.n++] = fd;
	if (retired.n == RETIRE_BATCH)
		retire_flush();
}

/* For the loop's wait: -1 with nothing retired, else the ms until the
 * oldest copy is due (those due now are handed to the closer first). */
static int retire_due(void)
{
	int64_t left;

	if (retired.n == 0)
		return -1;
	left = retired.first_ms + RETIRE_MS - now_ms();
	if (left > 0)
		return (int)left;
	retire_flush();
	return -1;
}

/* The loop's wait: *TIMEOUT lowered to MS, each in ms with -1 for none. */
static void sooner(int *timeout, int ms)
{
	if (ms >= 0 && (*timeout < 0 || ms < *timeout))
		*timeout = ms;
}

/* EPOLLHUP: both directions of C are shut, as the client's close()
 * leaves them, so nothing it still has queued can be answered.  Closed
 * without reading to the end of the queue: a recvmsg() per connection
 * saved.  Whatever is queued goes with the close, descriptors included
 * (conn_close() leaves that close to the closer thread where any could
 * be queued). */
static void peer_gone(struct broker *b, struct conn *c)
{
	log_event(LOG_LVL_DEBUG, "disconnect", "uid=%u pid=%d requests=%llu",
		  (unsigned)c->cred.uid, (int)c->cred.pid, (unsigned long long)c->requests);
	conn_close(b, c);
}

static void serve_one(struct broker *b, struct conn *c)
{
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Request *req = NULL;
	struct reply rep = { .fd = -1 };
	int r, fd_in = -1;
	bool keep;
	ssize_t n;

	/* A descriptor is accepted here only to be judged by the handler: the
	 * kernel refuses them unless a set_option handshake opened the door
	 * (Linux 6.16), and dispatch refuses any other. */
	n = rb_frame_recv(c->fd, buf, sizeof(buf), &fd_in, RB_FRAME_DONTWAIT | RB_FRAME_ACCEPT_FD);
	if (n == -EAGAIN)
		return;
	if (n == 0) {
		peer_gone(b, c);
		return;
	}
	if (n == -EMSGSIZE) {
		protocol_error(b, c, 0, RAWBROKER__STATUS__STATUS_INVALID,
			       "request larger than 4096 bytes");
		return;
	}
	if (n == -EPROTO) {
		protocol_error(b, c, 0, RAWBROKER__STATUS__STATUS_INVALID,
			       "more than one descriptor, or other control data");
		return;
	}
	if (n < 0) {
		log_event(LOG_LVL_DEBUG, "disconnect", "uid=%u pid=%d err=\"%s\"",
			  (unsigned)c->cred.uid, (int)c->cred.pid, strerror((int)-n));
		conn_close(b, c);
		return;
	}
	c->requests++;
	/* A reload may name other groups: keep what the new policy looks at. */
	if (c->groups_gen != peer_index_generation() && (r = peer_groups(c)) < 0) {
		errno = -r;
		log_warn("SO_PEERGROUPS uid=%u pid=%d", (unsigned)c->cred.uid, (int)c->cred.pid);
		if (fd_in >= 0)
			closer_release(fd_in);
		conn_close(b, c);
		return;
	}

	r = rb_request_decode(buf, (size_t)n, &req);
	if (r < 0 && fd_in >= 0)
		closer_release(fd_in);
	if (r == -EBADMSG) {
		protocol_error(b, c, 0, RAWBROKER__STATUS__STATUS_INVALID,
			       "malformed request");
	} else if (r == -EPROTONOSUPPORT) {
		char why[64];

		snprintf(why, sizeof(why), "unsupported protocol version %d (speak %d)",
			 (int)req->version, RB_PROTOCOL_VERSION);
		protocol_error(b, c, req->id, RAWBROKER__STATUS__STATUS_BAD_VERSION, why);
	} else if (r < 0) {
		protocol_error(b, c, req->id, RAWBROKER__STATUS__STATUS_INVALID,
			       "request has no known kind or a field out of range");
	} else {
		keep = dispatch_request(b, c, req, fd_in, &rep);
		if (rep.deferred) {
			/* The maker answers later (server_option_done); until
			 * then nothing more is read from this client. */
			watch_conn(b, c, false);
			timer_arm(b, c, CONN_TIMER_REQUEST, true);
			rb_request_free(req);
			return;
		}
		if (!send_reply(c, req->id, &rep))
			keep = false;
		if (rep.fd >= 0)
			retire(b, rep.fd); /* the client has its own copy now */
		if (!keep) {
			log_event(LOG_LVL_WARN, "protocol error", "uid=%u gid=%u pid=%d reason=%s",
				  (unsigned)c->cred.uid, (unsigned)c->cred.gid, (int)c->cred.pid,
				  log_q((char[LOG_Q_MAX]){ 0 }, rep.reason));
			conn_close(b, c);
		} else {
			/* Answered: idle from now, or waiting for step 2. */
			timer_arm(b, c, c->pending ? CONN_TIMER_REQUEST : CONN_TIMER_IDLE, true);
		}
	}
	rb_request_free(req);
}

static void reload_policy(struct broker *b)
{
	struct rb_diags d = { 0 };
	struct rb_policy *p = NULL;
	char line[512];
	int r;

	r = rb_policy_load(b->cfg->policy_path, NULL, &p, &d);
	for (size_t i = 0; i < d.n; i++) {
		rb_diag_format(&d, &d.v[i], line, sizeof(line));
		log_warnx("%s", line);
	}
	if (r < 0) {
		log_event(LOG_LVL_ERROR, "policy reload failed; keeping the old policy",
			  "errors=%zu", d.errors);
		rb_diags_free(&d);
		return;
	}
	rb_diags_free(&d);
	if (peer_index_load(p) < 0) {
		log_event(LOG_LVL_ERROR, "policy reload failed; keeping the old policy",
			  "err=\"out of memory\"");
		rb_policy_free(p);
		return;
	}
	rb_policy_free(b->policy);
	b->policy = p;
	stats_policy_loaded();
	log_event(LOG_LVL_INFO, "policy reloaded", "rules=%zu",
		  rb_policy_rule_count(p));
	config_reload(b->cfg, rb_policy_global(p));
}

static void handle_signal(struct broker *b)
{
	struct signalfd_siginfo si;

	while (read(b->sigfd, &si, sizeof(si)) == sizeof(si)) {
		/* Supervisor mode: SIGTERM, SIGINT and SIGHUP go on to the
		 * command (SIGHUP also reloads); the broker stops when the
		 * command is over (supervise.c). */
		if (si.ssi_signo == SIGCHLD) {
			if (supervise_reap())
				b->stop = true;
			continue;
		}
		if (supervise_active())
			supervise_forward((int)si.ssi_signo);
		if (si.ssi_signo == SIGHUP) {
			reload_policy(b);
		} else if (supervise_active()) {
			log_info("signal %d: passed on to the command", (int)si.ssi_signo);
		} else {
			log_info("signal %d: shutting down", (int)si.ssi_signo);
			b->stop = true;
		}
	}
}

void server_signal_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGCHLD); /* supervisor mode */
}

static pthread_mutex_t front_mu = PTHREAD_MUTEX_INITIALIZER;

void front_lock(void)
{
	pthread_mutex_lock(&front_mu);
}

void front_unlock(void)
{
	pthread_mutex_unlock(&front_mu);
}

int server_run(struct broker *b)
{
	struct epoll_event evs[64];
	sigset_t mask;

	server_signal_mask(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	b->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (b->sigfd < 0)
		fatal("signalfd");
	closer_start(); /* after the privilege drop, with signals blocked */
	/* Ours from now on, but while we wait for events; never let go
	 * after the loop: what shutdown frees, a listener's thread must not
	 * reach (usernotif.c). */
	front_lock();
	sockdir_committed(); /* serving: the socket stays until shutdown */
	if (peer_index_load(b->policy) < 0)
		fatalx("index the policy: out of memory");
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0)
		fatal("epoll_create1");
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->listen_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = EP_LISTEN }) < 0 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->sigfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = EP_SIGNAL }) < 0 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, maker_fd(),
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = EP_MAKER }) < 0)
		fatal("epoll_ctl");
	if (seccomp_agent_fd() >= 0 &&
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, seccomp_agent_fd(),
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = EP_AGENT }) < 0)
		fatal("epoll_ctl");
	the_broker = b;
	usernotif_start(b); /* seccomp listeners attached before the loop */

	if (b->cfg->ready_fd >= 0) {
		/* Readiness for supervisors and tests: we accept from now on. */
		if (write(b->cfg->ready_fd, "READY=1\n", 8) < 0)
			log_warn("ready-fd");
		close(b->cfg->ready_fd);
	}
	notify_ready(rb_policy_rule_count(b->policy), b->cfg->max_conns); /* Type=notify */
	log_event(LOG_LVL_INFO, "ready",
		  "socket=%s rules=%zu max_connections=%zu request_timeout_ms=%u "
		  "idle_timeout_ms=%u unmatched_connections=%u unmatched_total=%u",
		  b->cfg->socket_path, rb_policy_rule_count(b->policy), b->cfg->max_conns,
		  (unsigned)b->cfg->request_timeout_ms, (unsigned)b->cfg->idle_timeout_ms,
		  (unsigned)b->cfg->unmatched_per_uid, (unsigned)unmatched_budget(b->cfg));

	while (!b->stop) {
		int timeout = expire_timers(b), n;

		sooner(&timeout, log_flush());
		sooner(&timeout, maker_refill());
		sooner(&timeout, retire_due()); /* granted sockets' copies */
		sooner(&timeout, stats_metrics_due()); /* --metrics-file */
		sooner(&timeout, seccomp_agent_expire()); /* runtimes' deadlines */
		/* The only place the loop lets the notify listeners' threads
		 * at the shared state: between two passes, never inside one
		 * (a pass's events may name a connection that a pass frees). */
		front_unlock();
		n = epoll_wait(b->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
		front_lock();

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		bool from_maker = false;

		log_batch_begin(); /* one write for the batch's audit lines */
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == EP_LISTEN) {
				size_t had = b->nconns;

				accept_one(b);
				/* A client sends its request right after
				 * connect(): read it now, not a loop pass
				 * later (EAGAIN costs one recvmsg when not). */
				if (b->nconns > had)
					serve_one(b, b->conns);
			} else if (p == EP_SIGNAL)
				handle_signal(b);
			else if (p == EP_MAKER)
				from_maker = true;
			else if (usernotif_owns(p))
				usernotif_on_event(b, p, evs[i].events);
			else if (p == EP_AGENT)
				seccomp_agent_on_readable(b);
			else if (evs[i].events & EPOLLHUP)
				peer_gone(b, p);
			else
				serve_one(b, p);
		}
		/* After the batch: an option's answer may close a connection
		 * whose event would otherwise still be in EVS. */
		if ((from_maker && !maker_on_readable()) || maker_broken()) {
			log_event(LOG_LVL_ERROR, "socket maker exited; stopping",
				  "pid=%d why=\"no socket can be granted without it\"",
				  (int)maker_pid());
			b->failed = true;
			b->stop = true;
		}
		maker_deliver();
		log_batch_end();
		stats_metrics_tick(b);
	}
	return b->failed ? -EPIPE : 0;
}

void server_shutdown(struct broker *b)
{
	while (b->conns)
		conn_close(b, b->conns);
	usernotif_shutdown(b);
	seccomp_agent_shutdown();
	close(b->listen_fd);
	/* After the privilege drop the directory may not be ours to write:
	 * a leftover socket is removed by the next start. */
	if (!activated_path() && /* an activated socket is the manager's */
	    unlink(b->cfg->socket_path) < 0 && errno != ENOENT && errno != EACCES)
		log_warn("remove %s", b->cfg->socket_path);
}
