/* SPDX-License-Identifier: MIT */
/*
 * seccomp_agent.c - the front as an OCI runtime's seccomp agent
 * (rawbrokerd --seccomp-agent PATH; seccomp_agent.h says what the runtime
 * sends).  Runs in the capability-less front, on its event loop.
 *
 * Who may connect: the socket is root's (or the start user's) with mode
 * 0600 by default, which is what a rootful runtime needs (runc connects as
 * uid 0); --seccomp-agent-group opens it to one group (0660) for rootless
 * runtimes, which connect as the user who runs podman.  Not the main
 * socket's mode: an agent connection costs the front far more than a
 * client's (descriptors, a listener slot), so it is not for everyone.
 *
 * What a hostile peer that may connect can do here, and why it is still safe:
 *  - Send anything.  Nothing it says is trusted for a decision: the
 *    notification server takes each notifying task's identity from the
 *    kernel (its pid, then its credentials, checked with ID_VALID), and
 *    the policy decides for that identity.  A seccomp listener of one's own
 *    processes buys exactly what connecting to the main socket buys.  The
 *    JSON is used for the log (the container's id) and one early check.
 *  - Start many containers: at most AGENT_LISTENERS_PER_UID listeners of
 *    one runtime uid are served at once (the notification server serves
 *    USERNOTIF_MAX in all), and uids other than root and the broker's start
 *    user leave AGENT_LISTENERS_RESERVED of those free, so a rootful
 *    runtime always finds a slot; beyond that a container's listener is
 *    closed (its notified calls then fail with ENOSYS) with a warn line.
 *  - Hold connections open: at most AGENT_CONNS_PER_UID per peer uid and
 *    AGENT_CONNS_MAX in all are read at once, AGENT_CONNS_RESERVED of them
 *    only for root and the start user, each for AGENT_TIMEOUT_MS at most
 *    (runc sends at once); beyond that a new connection is closed at once,
 *    and the main socket's clients are never affected (separate counts).
 *  - Send a huge message: at most AGENT_MSG_MAX bytes are kept; more is a
 *    refusal.  Memory is bounded by AGENT_CONNS_MAX * AGENT_MSG_MAX.
 *  - Send descriptors that block when closed (a unix socket carrying a
 *    lingering TCP socket, a FUSE file): every descriptor we do not keep,
 *    and every connection (it may hold more in flight), is closed by the
 *    closer's threads (closer.c), never on the loop.  That includes the
 *    ones the kernel would otherwise drop inside our own recvmsg() (and so
 *    close on the loop thread): see conn_read() for why it never does.
 *  - Fill the front's descriptor table through us: the agent's connections,
 *    the descriptors they sent and those still waiting in the closer are
 *    counted together (until each close has finished) and bounded by
 *    AGENT_FDS_BUDGET; no connection is accepted while the closer is stuck
 *    (closer_has_capacity()).  main.c keeps what the agent may hold
 *    (seccomp_agent_fds_reserved()) out of the clients' connection limit.
 *  - Send a descriptor that is not a seccomp listener, to have the loop
 *    ioctl() or poll a FUSE file or a device: the descriptor is judged by
 *    readlink("/proc/self/fd/N") alone, which reads the name the kernel
 *    gave the open file and calls nothing of its file system; only
 *    "anon_inode:seccomp notify" (a name no path can have: a path starts
 *    with '/') goes on to the notification server.
 *  - Run the container in another network namespace than the broker's,
 *    where a socket the broker made would be in the wrong one: the
 *    notification server checks each notifying task's namespace and
 *    refuses it there, with a log line (notif_origin.check_netns).  No
 *    check is made here: the container's pid in the state is the
 *    runtime's word, and the front, holding no capability, may not look
 *    at another user's /proc/PID/ns anyway.
 */
#include "seccomp_agent.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "sockdir.h"
#include "usernotif.h"

#define AGENT_FDS_MAX 8 /* kept per connection; a runtime sends one */
/* The agent's connections and the descriptors they sent, open or waiting
 * in the closer, at most (what reading and accepting are bounded by). */
#define AGENT_FDS_BUDGET (AGENT_CONNS_MAX * (1 + AGENT_FDS_MAX))
/* The loop's pace while reading or accepting waits for the closer. */
#define AGENT_RETRY_MS 20
#define AGENT_ID_MAX 128 /* of a container id, in the log */
#define LISTENER_NAME "anon_inode:seccomp notify"

struct agent_conn {
	int fd;
	struct ucred cred;  /* the runtime's, at accept */
	int64_t deadline;   /* CLOCK_MONOTONIC ms */
	int fds[AGENT_FDS_MAX];
	int nfds;
	size_t len;
	char *buf;          /* AGENT_MSG_MAX + 1 */
	bool paused;        /* out of the epoll set until there is headroom */
	struct agent_conn *next;
};

static struct {
	int listen_fd, epfd;     /* the socket, and the epoll set the loop watches */
	bool accepting;          /* listen_fd in epfd's set */
	const char *path;
	struct agent_conn *conns;
	unsigned nconns;         /* in CONNS */
	unsigned nheld;          /* descriptors CONNS hold (their fds[]) */
	unsigned npaused;        /* of CONNS */
	/* Handed to the closer and not closed yet (closer threads count
	 * them down): connections, and descriptors they sent. */
	unsigned closing_conns, closing_fds;
	int64_t accept_retry;    /* after EMFILE: not before (ms) */
	uid_t start_uid;         /* who started the broker (besides root) */
	/* Headroom for one recvmsg(): AGENT_SCM_MAX_FD duplicates of
	 * NULL_FD, closed right before it (conn_read()). */
	int null_fd;
	int reserve[AGENT_SCM_MAX_FD];
	unsigned nreserve;
} agent = { .listen_fd = -1, .epfd = -1, .null_fd = -1 };

static void reserve_fill(void);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t seccomp_agent_fds_reserved(const struct broker_config *cfg)
{
	if (!cfg->agent_path)
		return 0;
	/* listen socket, epoll set, NULL_FD; the headroom; the budget, and
	 * once more one message's worth on its way to the closer; the
	 * listeners handed on, each with what its thread keeps open. */
	return 3 + AGENT_SCM_MAX_FD + AGENT_FDS_BUDGET + AGENT_SCM_MAX_FD +
	       (size_t)USERNOTIF_MAX * USERNOTIF_FDS_PER_LISTENER;
}

void seccomp_agent_listen(const struct broker_config *cfg)
{
	char leaf[sizeof(((struct sockaddr_un *)0)->sun_path)], why[512];
	int dirfd, fd, r;

	if (!cfg->agent_path)
		return;
	if (strlen(cfg->agent_path) >= sizeof(leaf))
		fatalx("--seccomp-agent: path too long (max %zu bytes): %s", sizeof(leaf) - 1,
		       cfg->agent_path);
	dirfd = sockdir_open(cfg->agent_path, server_dir_uid(cfg), true, leaf, sizeof(leaf), why,
			     sizeof(why));
	if (dirfd < 0)
		fatalx("--seccomp-agent %s: %s; not starting", cfg->agent_path, why);
	/* A stream socket: what runc and crun connect to. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		fatal("socket");
	/* Its own access, not the main socket's (see the top of the file):
	 * the owner stays who binds it, root or the start user; a group only
	 * when asked. */
	r = sockdir_bind(fd, dirfd, leaf, cfg->agent_path,
			 cfg->agent_gid != (gid_t)-1 ? 0660 : 0600, (uid_t)-1, cfg->agent_gid,
			 why, sizeof(why));
	close(dirfd);
	if (r < 0)
		fatalx("--seccomp-agent: %s; not starting", why);
	if (listen(fd, 64) < 0)
		fatal("listen %s", cfg->agent_path);
	/* Its own epoll set, watched as one descriptor by the loop: one hook
	 * there, and its connections never mix with the clients'. */
	agent.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (agent.epfd < 0)
		fatal("epoll_create1");
	if (epoll_ctl(agent.epfd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL }) < 0)
		fatal("epoll_ctl");
	/* The headroom's duplicates are of this; open now, not in the sandbox. */
	agent.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (agent.null_fd < 0)
		fatal("open /dev/null");
	agent.listen_fd = fd;
	agent.accepting = true;
	agent.path = cfg->agent_path;
	agent.start_uid = getuid();
	/* jansson seeds its hash function on first use (reading
	 * /dev/urandom): now, not in the sandbox. */
	json_object_seed(0);
	reserve_fill(); /* the headroom, before clients fill the table */
	log_event(LOG_LVL_INFO, "seccomp agent listening", "path=%s mode=%s", cfg->agent_path,
		  cfg->agent_gid != (gid_t)-1 ? "0660" : "0600");
}

int seccomp_agent_fd(void)
{
	return agent.epfd;
}

/* Root and the broker's start user: the rootful runtime, whom the
 * reserved connection and listener slots are for. */
static bool privileged(uid_t uid)
{
	return uid == 0 || uid == agent.start_uid;
}

static unsigned load(unsigned *counter)
{
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

/* The agent's descriptors (AGENT_FDS_BUDGET): connections and what they
 * sent, open or still waiting in the closer. */
static unsigned fds_used(void)
{
	return agent.nconns + agent.nheld + load(&agent.closing_conns) + load(&agent.closing_fds);
}

/* Close FD on a closer thread, counted in *COUNTER until it is closed. */
static void release_counted(int fd, unsigned *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	closer_release_counted(fd, counter);
}

/* Take the headroom back: duplicates of NULL_FD until there are
 * AGENT_SCM_MAX_FD, while the agent is within its budget (a message's
 * refused descriptors are closed first) and the table has room. */
static void reserve_fill(void)
{
	if (agent.null_fd < 0 || fds_used() > AGENT_FDS_BUDGET)
		return;
	while (agent.nreserve < AGENT_SCM_MAX_FD) {
		int fd = fcntl(agent.null_fd, F_DUPFD_CLOEXEC, 0);

		if (fd < 0)
			return; /* EMFILE: later */
		agent.reserve[agent.nreserve++] = fd;
	}
}

/* Free the headroom.  Each is a duplicate of NULL_FD, which stays open:
 * never the last reference to its file, so the close cannot block. */
static void reserve_free(void)
{
	while (agent.nreserve)
		close(agent.reserve[--agent.nreserve]);
}

/* Whether a recvmsg() may run now: AGENT_SCM_MAX_FD slots to free. */
static bool may_read(void)
{
	reserve_fill();
	return agent.nreserve == AGENT_SCM_MAX_FD;
}

/* Whether one more connection may be taken: a slot (connections still
 * being closed count), room in the budget for it and all it may keep, and
 * a closer that is not stuck (a connection may hold descriptors in
 * flight, and ends in the closer). */
static bool may_accept(void)
{
	return agent.nconns + load(&agent.closing_conns) < AGENT_CONNS_MAX &&
	       fds_used() + 1 + AGENT_FDS_MAX <= AGENT_FDS_BUDGET &&
	       now_ms() >= agent.accept_retry && closer_has_capacity();
}

/* Stop or start taking connections (level-triggered epoll would wake us
 * for the same one): from the loop's tick (seccomp_agent_expire()). */
static void set_accepting(bool on)
{
	if (agent.accepting == on)
		return;
	if (epoll_ctl(agent.epfd, EPOLL_CTL_MOD, agent.listen_fd,
		      &(struct epoll_event){ .events = on ? EPOLLIN : 0, .data.ptr = NULL }) < 0)
		log_warn("epoll_ctl");
	agent.accepting = on;
}

/* Take C out of the epoll set until may_read() (or back in). */
static void set_paused(struct agent_conn *c, bool on)
{
	if (c->paused == on)
		return;
	if (epoll_ctl(agent.epfd, EPOLL_CTL_MOD, c->fd,
		      &(struct epoll_event){ .events = on ? 0 : EPOLLIN, .data.ptr = c }) < 0)
		log_warn("epoll_ctl");
	c->paused = on;
	if (on)
		agent.npaused++;
	else
		agent.npaused--;
}

static void conn_close(struct agent_conn *c)
{
	struct agent_conn **pp;

	for (pp = &agent.conns; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	agent.nconns--;
	if (c->paused)
		agent.npaused--;
	epoll_ctl(agent.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	/* Counted until the closer is done with them (may_accept()). */
	for (int i = 0; i < c->nfds; i++)
		release_counted(c->fds[i], &agent.closing_fds);
	agent.nheld -= (unsigned)c->nfds;
	release_counted(c->fd, &agent.closing_conns); /* descriptors may be queued in it */
	free(c->buf);
	free(c);
}

/* A refusal: one warn line, the connection and what it sent closed. */
static void refuse(struct agent_conn *c, const char *why)
{
	char q[LOG_Q_MAX];

	log_event(LOG_LVL_WARN, "seccomp agent: refused", "runtime_uid=%u runtime_pid=%d why=%s",
		  (unsigned)c->cred.uid, (int)c->cred.pid, log_q(q, why));
	conn_close(c);
}

static unsigned conns_of(uid_t uid)
{
	unsigned n = 0;

	for (struct agent_conn *c = agent.conns; c; c = c->next)
		n += c->cred.uid == uid;
	return n;
}

static unsigned unprivileged_conns(void)
{
	unsigned n = 0;

	for (struct agent_conn *c = agent.conns; c; c = c->next)
		n += !privileged(c->cred.uid);
	return n;
}

/* Which limit a new connection of UID is over, or NULL. */
static const char *over_limit(uid_t uid, unsigned *value)
{
	if (agent.nconns >= AGENT_CONNS_MAX) {
		*value = AGENT_CONNS_MAX;
		return "seccomp_agent_connections";
	}
	if (conns_of(uid) >= AGENT_CONNS_PER_UID) {
		*value = AGENT_CONNS_PER_UID;
		return "seccomp_agent_connections_per_uid";
	}
	if (!privileged(uid) && unprivileged_conns() >= AGENT_CONNS_MAX - AGENT_CONNS_RESERVED) {
		*value = AGENT_CONNS_MAX - AGENT_CONNS_RESERVED;
		return "seccomp_agent_connections_unprivileged";
	}
	return NULL;
}

static void accept_one(void)
{
	struct agent_conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const char *limit;
	unsigned value;
	int fd;

	if (!may_accept()) {
		set_accepting(false); /* the tick resumes it */
		return;
	}
	fd = accept4(agent.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_warn("seccomp agent: accept: pausing");
			agent.accept_retry = now_ms() + 100;
			set_accepting(false);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
		log_warn("seccomp agent: SO_PEERCRED");
		release_counted(fd, &agent.closing_conns);
		return;
	}
	limit = over_limit(cred.uid, &value);
	if (limit) {
		log_event(LOG_LVL_WARN, "limit", "limit=%s value=%u runtime_uid=%u runtime_pid=%d",
			  limit, value, (unsigned)cred.uid, (int)cred.pid);
		release_counted(fd, &agent.closing_conns);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->buf = malloc(AGENT_MSG_MAX + 1);
	if (!c || !c->buf ||
	    epoll_ctl(agent.epfd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = c }) < 0) {
		log_warn("seccomp agent: accept");
		if (c)
			free(c->buf);
		free(c);
		release_counted(fd, &agent.closing_conns);
		return;
	}
	c->fd = fd;
	c->cred = cred;
	c->deadline = now_ms() + AGENT_TIMEOUT_MS;
	c->next = agent.conns;
	agent.conns = c;
	agent.nconns++;
	log_event(LOG_LVL_DEBUG, "seccomp agent: runtime connected", "runtime_uid=%u runtime_pid=%d",
		  (unsigned)cred.uid, (int)cred.pid);
}

/*
 * Take the descriptors of one recvmsg()'s control data into C.  False when
 * the message carried something else, or more than we keep (the rest
 * handed to the closer now, the connection closed by the caller).
 */
static bool take_fds(struct agent_conn *c, struct msghdr *m)
{
	bool ok = !(m->msg_flags & MSG_CTRUNC);

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0)) {
			ok = false;
			continue;
		}
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->nfds < AGENT_FDS_MAX) {
				c->fds[c->nfds++] = fd;
				agent.nheld++;
			} else {
				release_counted(fd, &agent.closing_fds);
				ok = false;
			}
		}
	}
	return ok;
}

/* Whether FD is a seccomp listener, judged by the name of its open file
 * only (see the top of the file: nothing of its file system is called). */
static bool is_listener(int fd)
{
	char path[64], name[sizeof(LISTENER_NAME) + 1];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlinkat(AT_FDCWD, path, name, sizeof(name));
	return n == (ssize_t)strlen(LISTENER_NAME) && memcmp(name, LISTENER_NAME, (size_t)n) == 0;
}

/* A printable container id of at most AGENT_ID_MAX bytes, or NULL. */
static const char *container_id(const json_t *state)
{
	const char *id = json_string_value(json_object_get(state, "id"));
	size_t len = id ? strlen(id) : 0;

	if (len == 0 || len > AGENT_ID_MAX || len != json_string_length(json_object_get(state, "id")))
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (id[i] <= ' ' || id[i] == 0x7f || id[i] == '"' || id[i] == '\\')
			return NULL;
	return id;
}

/*
 * The whole message is in: check it, then hand the listener over.  The
 * runtime's JSON, as runc 1.1 and crun send it (OCI runtime-spec
 * ContainerProcessState): "fds" names the descriptors in the order they
 * came, and exactly one, "seccompFd", is what we take.
 */
static void finish(struct broker *b, struct agent_conn *c)
{
	json_t *root, *fds, *state;
	json_error_t jerr;
	const char *id, *meta;
	char what[32 + AGENT_ID_MAX], q[LOG_Q_MAX], why[256];
	int listener, r;
	long long pid;

	if (c->nfds != 1) {
		snprintf(why, sizeof(why), "%d descriptors sent; expected exactly one, the "
			 "seccomp listener", c->nfds);
		refuse(c, why);
		return;
	}
	root = json_loadb(c->buf, c->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(why, sizeof(why), "the container state is not JSON (line %d col %d: %s)",
			 jerr.line, jerr.column, jerr.text);
		refuse(c, why);
		return;
	}
	fds = json_object_get(root, "fds");
	state = json_object_get(root, "state");
	id = container_id(state);
	if (!json_is_object(root) || !json_is_array(fds) || json_array_size(fds) != 1 ||
	    !json_is_string(json_array_get(fds, 0)) ||
	    strcmp(json_string_value(json_array_get(fds, 0)), "seccompFd") != 0) {
		json_decref(root);
		refuse(c, "not an OCI container process state with fds [\"seccompFd\"]");
		return;
	}
	if (!json_is_object(state) || !id) {
		json_decref(root);
		refuse(c, "no state.id, or one that is empty, longer than 128 bytes or not "
			  "printable without spaces");
		return;
	}
	if (!is_listener(c->fds[0])) {
		json_decref(root);
		refuse(c, "the descriptor sent is not a seccomp listener");
		return;
	}
	if (!privileged(c->cred.uid) &&
	    usernotif_listeners() + AGENT_LISTENERS_RESERVED >= USERNOTIF_MAX) {
		json_decref(root);
		refuse(c, "the listener slots left are kept for root's runtime");
		return;
	}
	pid = json_integer_value(json_object_get(state, "pid"));
	meta = json_string_value(json_object_get(root, "metadata"));
	snprintf(what, sizeof(what), "container %s", id);
	/* Ours now: the connection no longer holds it. */
	listener = c->fds[0];
	c->nfds = 0;
	agent.nheld--;
	r = usernotif_attach(b, listener, &(struct notif_origin){
		.what = what, .check_netns = true,
		.owner_max = AGENT_LISTENERS_PER_UID, .owner = c->cred.uid });
	if (r < 0)
		log_event(LOG_LVL_WARN, "seccomp agent: refused",
			  "container=%s runtime_uid=%u runtime_pid=%d why=%s", id,
			  (unsigned)c->cred.uid, (int)c->cred.pid,
			  log_q(q, r == -ENOSPC ? "too many listeners served already"
				   : r == -EUSERS ? "this runtime uid has 16 containers served "
						    "already"
				   : strerror(-r)));
	else
		log_event(LOG_LVL_INFO, "seccomp agent: container attached",
			  "container=%s pid=%lld runtime_uid=%u runtime_pid=%d metadata=%s",
			  id, pid, (unsigned)c->cred.uid, (int)c->cred.pid,
			  log_q(q, meta ? meta : ""));
	json_decref(root);
	conn_close(c);
}

/*
 * Read what C has sent so far; at its end (the runtime closes), finish.
 *
 * Why this recvmsg() never has a descriptor closed on the loop thread
 * (where a booby-trapped close would stall every client, and SIGTERM,
 * taken through the signalfd, with it): the kernel drops what it cannot
 * hand us, and the last reference of a dropped file is put on this thread
 * on its way out of the call, in two cases.
 *  (1) The control buffer is too small (MSG_CTRUNC): ours has room for
 *      AGENT_SCM_MAX_FD, the most one message can carry (the kernel
 *      refuses to send more, SCM_MAX_FD), and one recvmsg() returns the
 *      descriptors of one message at most.  Every one we do not keep goes
 *      to the closer (take_fds()).
 *  (2) It cannot install one (EMFILE: the table full up to
 *      RLIMIT_NOFILE).  Right before the call we close the headroom's
 *      AGENT_SCM_MAX_FD duplicates, so that many slots are free below the
 *      limit; nothing else runs on this thread in between, and the
 *      front's other threads (the closer's) only ever close.  When the
 *      headroom cannot be taken back after a message (the table is full,
 *      or the agent is over its budget until the closer is done with what
 *      it refused), no connection is read (may_read()): each waits out of
 *      the epoll set until there is room again, or its deadline.
 * What stays unread inside a connection we close (in flight) is released
 * with it, on the closer too.
 */
static void conn_read(struct broker *b, struct agent_conn *c)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(AGENT_SCM_MAX_FD * sizeof(int))];
	} cbuf;
	struct iovec iov = { .iov_base = c->buf + c->len, .iov_len = AGENT_MSG_MAX + 1 - c->len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
			    .msg_controllen = sizeof(cbuf.buf) };
	bool fds_ok = true;
	ssize_t n;
	int err;

	if (!may_read()) {
		set_paused(c, true); /* seccomp_agent_expire() resumes it */
		return;
	}
	reserve_free();
	n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	err = errno;
	if (n >= 0)
		fds_ok = take_fds(c, &m);
	reserve_fill();
	if (n < 0 && (err == EAGAIN || err == EINTR))
		return;
	if (n < 0) {
		refuse(c, strerror(err));
		return;
	}
	if (!fds_ok) {
		refuse(c, "control data other than one SCM_RIGHTS descriptor, or truncated");
		return;
	}
	if (n == 0) {
		finish(b, c);
		return;
	}
	c->len += (size_t)n;
	if (c->len > AGENT_MSG_MAX)
		refuse(c, "the container state is larger than 64 KiB");
}

void seccomp_agent_on_readable(struct broker *b)
{
	struct epoll_event evs[16];
	int n = epoll_wait(agent.epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), 0);

	for (int i = 0; i < n; i++) {
		if (!evs[i].data.ptr)
			accept_one();
		else
			conn_read(b, evs[i].data.ptr);
	}
}

int seccomp_agent_expire(void)
{
	int64_t now = now_ms(), next = -1;
	struct agent_conn *c = agent.conns, *nx;

	for (; c; c = nx) {
		nx = c->next;
		if (c->deadline <= now) {
			refuse(c, "the runtime sent no complete message in time");
			continue;
		}
		if (next < 0 || c->deadline - now < next)
			next = c->deadline - now;
	}
	if (agent.listen_fd < 0)
		return (int)next;
	/* What waits for headroom or for the closer: the closer's threads
	 * cannot wake the loop, so look again at this pace. */
	if (agent.npaused && may_read())
		for (c = agent.conns; c; c = c->next)
			set_paused(c, false);
	if (!agent.accepting && may_accept())
		set_accepting(true);
	if ((agent.npaused || !agent.accepting) && (next < 0 || next > AGENT_RETRY_MS))
		next = AGENT_RETRY_MS;
	return (int)next;
}

void seccomp_agent_shutdown(void)
{
	while (agent.conns)
		conn_close(agent.conns);
	if (agent.listen_fd < 0)
		return;
	reserve_free();
	close(agent.null_fd);
	close(agent.listen_fd);
	close(agent.epfd);
	agent.listen_fd = agent.epfd = agent.null_fd = -1;
	/* As the main socket: the directory may no longer be ours to write
	 * after the drop; the next start removes a leftover. */
	if (unlink(agent.path) < 0 && errno != ENOENT && errno != EACCES)
		log_warn("remove %s", agent.path);
}
