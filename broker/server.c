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
#include <libgen.h>
#include <limits.h>
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

#define EP_LISTEN ((void *)1)
#define EP_SIGNAL ((void *)2)
#define EP_MAKER ((void *)3)

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

/* Open the door for exactly the descriptor a set_option handshake expects
 * (dispatch.c), and close it again once that arrived. */
void conn_accept_descriptor(struct conn *c, bool yes)
{
	int v = yes;

	if (yes)
		c->door_opened = true;
	setsockopt(c->fd, SOL_SOCKET, SO_PASSRIGHTS, &v, sizeof(v));
}

static int unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* A socket file left by a broker that died is removed; a live broker, or a
 * file that is not a socket, makes us refuse to start. */
static void clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			fatal("stat %s", path);
		return;
	}
	if (!S_ISSOCK(st.st_mode))
		fatalx("%s exists and is not a socket; refusing to replace it", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("socket");
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		fatalx("another broker is listening on %s", path);
	close(fd);
	if (unlink(path) < 0)
		fatal("remove stale socket %s", path);
	log_info("removed stale socket %s", path);
}

/*
 * The socket is created with its final mode: bind() runs under a umask that
 * yields exactly cfg->socket_mode, so there is no moment in which it is
 * more open than configured (no chmod afterwards).  Changing its group
 * afterwards only ever widens access from root's group to the configured
 * one.
 */
int server_listen(const struct broker_config *cfg)
{
	struct sockaddr_un sun;
	char dir[sizeof(sun.sun_path)];
	mode_t old;
	int fd, r;

	/* Socket activation: the service manager made it (activate.c). */
	fd = activate_listener();
	if (fd >= 0)
		goto listening;
	if (unix_addr(cfg->socket_path, &sun) < 0)
		fatalx("socket path too long (max %zu bytes): %s", sizeof(sun.sun_path) - 1,
		       cfg->socket_path);
	memcpy(dir, sun.sun_path, sizeof(dir));
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		fatal("create directory for %s", cfg->socket_path);
	clear_stale(cfg->socket_path, &sun);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		fatal("socket");
	old = umask(~cfg->socket_mode & 0777);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0)
		fatal("bind %s", cfg->socket_path);
	if ((cfg->socket_uid != (uid_t)-1 || cfg->socket_gid != (gid_t)-1) &&
	    chown(cfg->socket_path, cfg->socket_uid, cfg->socket_gid) < 0)
		fatal("chown %s", cfg->socket_path);
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
 * The client's supplementary groups, complete: group rules must see all of
 * them.  On ERANGE the kernel copies nothing and reports the size needed,
 * so fetch again into a buffer of that size (at most NGROUPS_MAX entries).
 */
static int peer_groups(struct conn *c)
{
	socklen_t len = sizeof(c->inline_groups);

	c->groups = c->inline_groups;
	c->ngroups = 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) < 0) {
		if (errno != ERANGE)
			return -1;
		if (len == 0 || len > NGROUPS_MAX * sizeof(gid_t) || len % sizeof(gid_t)) {
			errno = EPROTO;
			return -1;
		}
		c->groups = malloc(len);
		if (!c->groups) {
			c->groups = c->inline_groups;
			return -1;
		}
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) < 0)
			return -1;
	}
	c->ngroups = len / sizeof(gid_t);
	return 0;
}

static void conn_close(struct broker *b, struct conn *c)
{
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	timer_unlink(b, c);
	if (c->awaiting)
		maker_forget(c); /* its answer, when it comes, goes nowhere */
	limits_conn_close(c->uid_slot);
	/* Records still queued on it may hold descriptors, released by the
	 * final close: not on this thread, unless the kernel never let any
	 * reach this connection (the common case, and a thread hand-off per
	 * connection would cost more than the close). */
	if (kernel_refuses_fds && !c->door_opened)
		close(c->fd);
	else
		closer_release(c->fd);
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

static void accept_one(struct broker *b)
{
	struct rb_limits lim;
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
	refuse_descriptors(fd);
	/* The smallest send buffer the kernel allows holds only a few replies.
	 * A client that does not read its replies (each may carry a socket
	 * that counts against the broker's in-flight descriptor limit) soon
	 * makes our non-blocking send fail, and is dropped. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ 1 }, sizeof(int)) < 0) {
		log_warn("SO_SNDBUF");
		goto fail;
	}
	len = sizeof(c->cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0 ||
	    len != sizeof(c->cred)) {
		log_warn("SO_PEERCRED");
		goto fail;
	}
	if (peer_groups(c) < 0) {
		log_warn("SO_PEERGROUPS uid=%u pid=%d", (unsigned)c->cred.uid, (int)c->cred.pid);
		goto fail;
	}
	/* One uid must not take every slot: its cap is that of the first rule
	 * that fits it (or the policy's default). */
	rb_policy_peer_limits(b->policy,
			      &(struct rb_peer){ .pid = c->cred.pid, .uid = c->cred.uid,
						 .gid = c->cred.gid, .groups = c->groups,
						 .ngroups = c->ngroups },
			      &lim);
	r = limits_conn_open(c->cred.uid, lim.connections, &c->uid_slot);
	if (r == -EUSERS) {
		log_event(LOG_LVL_WARN, "limit", "limit=connections_per_uid value=%u uid=%u pid=%d",
			  (unsigned)lim.connections, (unsigned)c->cred.uid, (int)c->cred.pid);
		goto fail;
	} else if (r < 0) {
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
	limits_conn_close(c->uid_slot);
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
	n = rb_reply_encode(&msg, buf, sizeof(buf));
	if (n < 0) /* cannot happen: every field is bounded */
		return false;
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
		log_event(LOG_LVL_DEBUG, "disconnect", "uid=%u pid=%d requests=%llu",
			  (unsigned)c->cred.uid, (int)c->cred.pid,
			  (unsigned long long)c->requests);
		conn_close(b, c);
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
			close(rep.fd); /* the client has its own copy now */
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
	rb_policy_free(b->policy);
	b->policy = p;
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
	the_broker = b;

	if (b->cfg->ready_fd >= 0) {
		/* Readiness for supervisors and tests: we accept from now on. */
		if (write(b->cfg->ready_fd, "READY=1\n", 8) < 0)
			log_warn("ready-fd");
		close(b->cfg->ready_fd);
	}
	log_event(LOG_LVL_INFO, "ready",
		  "socket=%s rules=%zu max_connections=%zu request_timeout_ms=%u "
		  "idle_timeout_ms=%u",
		  b->cfg->socket_path, rb_policy_rule_count(b->policy), b->cfg->max_conns,
		  (unsigned)b->cfg->request_timeout_ms, (unsigned)b->cfg->idle_timeout_ms);

	while (!b->stop) {
		int timeout = expire_timers(b), flush = log_flush(), topup = maker_refill(), n;

		if (flush >= 0 && (timeout < 0 || flush < timeout))
			timeout = flush;
		if (topup >= 0 && (timeout < 0 || topup < timeout))
			timeout = topup;
		n = epoll_wait(b->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);

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
			else
				serve_one(b, p);
		}
		/* After the batch: an option's answer may close a connection
		 * whose event would otherwise still be in EVS. */
		if (from_maker && !maker_on_readable()) {
			log_event(LOG_LVL_ERROR, "socket maker exited; stopping",
				  "pid=%d why=\"no socket can be granted without it\"",
				  (int)maker_pid());
			b->failed = true;
			b->stop = true;
		}
		maker_deliver();
		log_batch_end();
	}
	return b->failed ? -EPIPE : 0;
}

void server_shutdown(struct broker *b)
{
	while (b->conns)
		conn_close(b, b->conns);
	close(b->listen_fd);
	/* After the privilege drop the directory may not be ours to write:
	 * a leftover socket is removed by the next start. */
	if (!activated_path() && /* an activated socket is the manager's */
	    unlink(b->cfg->socket_path) < 0 && errno != ENOENT && errno != EACCES)
		log_warn("remove %s", b->cfg->socket_path);
}
