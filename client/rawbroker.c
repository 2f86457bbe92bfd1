/* SPDX-License-Identifier: MIT */
/*
 * rawbroker.c - librawbroker: ask rawbrokerd for a raw socket.
 *
 * Runs inside unprivileged daemons (and, through the preload shim, inside
 * programs that never asked for it), so: no output, no abort, no signals,
 * every descriptor close-on-exec, and the host's errno preserved on success.
 *
 * One connection per process, guarded by a mutex.  fork() is handled twice
 * over: pthread_atfork() keeps the mutex consistent, and the connection is
 * marked in a page the kernel wipes in every child that does not share our
 * memory (MADV_WIPEONFORK; where that is refused, the pid that opened it),
 * so a child (even one made by a raw clone()) never talks on its parent's
 * connection, whose replies would go to whichever process reads first.  The connection is also known by its
 * device and inode: a host that closes every descriptor (daemonising,
 * closefrom()) and reuses the number must never see the library write to,
 * read from or close its descriptor.
 *
 * A connection is also tied to the credentials it was made with: the
 * broker takes SO_PEERCRED once, at accept, so after setresuid() and the
 * like the library reconnects rather than be judged as who it was.
 *
 * Who listens is checked before anything is sent (listener_trusted()): a
 * descriptor handed to an impostor is lost for good.
 */
#include "rawbroker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "rb_private.h"

#define RB_EXPORT __attribute__((visibility("default")))

/* How long to wait for the broker's answer; it answers in microseconds
 * unless it is wedged, and a caller of socket() must not hang forever. */
#define RB_REPLY_TIMEOUT_MS 5000

static const struct timeval reply_timeout = {
	.tv_sec = RB_REPLY_TIMEOUT_MS / 1000,
	.tv_usec = (RB_REPLY_TIMEOUT_MS % 1000) * 1000,
};

/* Milliseconds on CLOCK_MONOTONIC. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A signal interrupts a send, receive or connect that has a socket timeout
 * (even with SA_RESTART); retrying with the full timeout would let a steady
 * stream of signals stretch the wait without end, with the lock held.  So
 * each wait has a deadline: after EINTR, set the timeouts to what is left
 * (0: the deadline has passed), and put them back when done.
 */
static int shrink_timeouts(int fd, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	struct timeval tv;

	if (left <= 0)
		return -ETIMEDOUT;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)((left % 1000) * 1000);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static void restore_timeouts(int fd)
{
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &reply_timeout, sizeof(reply_timeout));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &reply_timeout, sizeof(reply_timeout));
}

/* The credentials the broker sees in SO_PEERCRED (euid, egid) and
 * SO_PEERGROUPS, as one comparable value: the ids and a hash of the
 * supplementary group list. */
struct creds {
	uid_t euid;
	gid_t egid;
	int ngroups;
	uint64_t groups_hash;
};

static struct {
	pthread_mutex_t lock;
	int fd;        /* connection to the broker, or -1 */
	pid_t pid;     /* process that opened fd (where fork_mark is NULL) */
	dev_t dev;     /* what fd was when we opened it */
	ino_t ino;
	struct creds creds; /* this process's credentials when fd connected */
	uint64_t next_id;
} conn = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .next_id = 1 };

/* This process's credentials now.  ngroups is -1 when the list cannot be
 * read: such credentials never equal a saved set, so the library then
 * reconnects each time, which is slower but never wrong. */
static void creds_now(struct creds *c)
{
	gid_t small[64], *list = small;
	int n;

	c->euid = geteuid();
	c->egid = getegid();
	c->groups_hash = 1469598103934665603ull; /* FNV-1a */
	/* Three system calls in the common case: a list that does not fit
	 * the stack buffer fails with EINVAL, then it is sized and fetched. */
	n = getgroups((int)(sizeof(small) / sizeof(small[0])), small);
	if (n < 0 && errno == EINVAL && (n = getgroups(0, NULL)) > 0) {
		list = malloc((size_t)n * sizeof(*list));
		n = list ? getgroups(n, list) : -1;
	}
	c->ngroups = n;
	for (int i = 0; i < n; i++) {
		c->groups_hash ^= (uint64_t)list[i];
		c->groups_hash *= 1099511628211ull;
	}
	if (list != small)
		free(list);
}

static bool creds_same(const struct creds *a, const struct creds *b)
{
	return a->ngroups >= 0 && b->ngroups >= 0 && a->euid == b->euid && a->egid == b->egid &&
	       a->ngroups == b->ngroups && a->groups_hash == b->groups_hash;
}

/*
 * Can the calling thread never change its ids again (short of an exec)?
 * So it is when its real, effective and saved user ids are one id, its
 * three group ids one id, and its permitted set holds no capability but
 * the network ones below (none of them changes ids; CAP_SETUID,
 * CAP_SETGID, CAP_SYS_ADMIN (setns() into any user namespace) and the
 * rest make it false): setresuid() and setresgid() have nothing else to
 * switch to, setgroups() needs CAP_SETGID, and no call but execve() puts
 * a capability back into the permitted set.  Another thread's setuid()
 * reaches this one only through glibc, which runs it here with this
 * thread's (lacking) capabilities, and aborts the process when it fails.
 * The one way around it is a new user namespace with subordinate ids
 * mapped in (newuidmap): its process then keeps the connection of the
 * user who owns those ids, and so the grants of a user it could have
 * stayed.  A child that shares this thread's memory and thread pointer
 * (vfork(), clone(CLONE_VM) without CLONE_SETTLS) shares my_ids too;
 * POSIX lets a vfork() child only exec or _exit, so it never asks.  Any
 * doubt answers false.
 */
#define IDS_NEUTRAL_CAPS                                                              \
	((1ull << CAP_NET_RAW) | (1ull << CAP_NET_ADMIN) | (1ull << CAP_NET_BIND_SERVICE) | \
	 (1ull << CAP_NET_BROADCAST))

static bool ids_final(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != eu ||
	    eu != su || rg != eg || eg != sg)
		return false;
	/* pid 0: the calling thread's sets. */
	if (syscall(SYS_capget, &hdr, caps) < 0)
		return false;
	return (((uint64_t)caps[1].permitted << 32 | caps[0].permitted) & ~IDS_NEUTRAL_CAPS) == 0;
}

/* What the calling thread knows of its own ids.  A thread whose ids are
 * final (ids_final()) reads them once: three system calls fewer on every
 * request, a sixth of a grant's.  Any other reads them each time, and
 * looks again whether they became final when they changed (a daemon that
 * dropped root). */
static __thread struct {
	enum { IDS_UNKNOWN, IDS_MAY_CHANGE, IDS_FINAL } state;
	struct creds creds; /* as last read */
} my_ids;

static void creds_for_request(struct creds *now)
{
	bool final;

	if (my_ids.state == IDS_FINAL) {
		*now = my_ids.creds;
		return;
	}
	if (my_ids.state == IDS_MAY_CHANGE) {
		creds_now(now);
		if (creds_same(now, &my_ids.creds))
			return;
	}
	/* Final first, then read: ids final before the read cannot change
	 * under it. */
	final = ids_final();
	creds_now(now);
	my_ids.creds = *now;
	my_ids.state = final && now->ngroups >= 0 ? IDS_FINAL : IDS_MAY_CHANGE;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&conn.lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&conn.lock);
}

/* Is conn.fd still the socket we connected? */
static bool still_ours(void)
{
	struct stat st;

	return fstat(conn.fd, &st) == 0 && st.st_dev == conn.dev && st.st_ino == conn.ino;
}

/* Forget the connection; close the descriptor only if it is still ours. */
static void drop_connection(void)
{
	if (conn.fd >= 0 && still_ours())
		close(conn.fd);
	conn.fd = -1;
}

static void atfork_child(void)
{
	/* The child owns a copy of the descriptor that shares the parent's
	 * connection: drop the copy, never use it. */
	drop_connection();
	pthread_mutex_unlock(&conn.lock);
}

/*
 * Is conn.fd this process's own connection, or a copy a child inherited?
 * fork_mark is a page the kernel zeroes in the child of every fork() or
 * clone() without CLONE_VM (MADV_WIPEONFORK, Linux 4.14), so the mark
 * reads 0 there whatever the child was made by, at no system call per
 * request (getpid() is one: glibc does not cache it).  A child that
 * shares our memory (CLONE_VM) also shares conn and its mutex, so it takes
 * turns on the connection like a thread, and every reply still goes to
 * the caller that asked.  Where the kernel refuses the advice, the pid
 * that opened the connection is compared, as before.
 */
static volatile unsigned char *fork_mark;

static void mark_setup(void)
{
	long size = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, size > 0 ? (size_t)size : 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	if (madvise(p, size > 0 ? (size_t)size : 4096, MADV_WIPEONFORK) < 0) {
		munmap(p, size > 0 ? (size_t)size : 4096);
		return;
	}
	fork_mark = p;
}

static bool opened_here(void)
{
	return fork_mark ? *fork_mark != 0 : conn.pid == getpid();
}

static void mark_opened(void)
{
	if (fork_mark)
		*fork_mark = 1;
	else
		conn.pid = getpid();
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	mark_setup();
}

static void set_result(struct rb_result *res, int error, const char *rule,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_result(struct rb_result *res, int error, const char *rule,
		       const char *fmt, ...)
{
	va_list ap;

	res->error = error;
	snprintf(res->rule, sizeof(res->rule), "%s", rule ? rule : "");
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

static const char *socket_path(void)
{
	const char *p = secure_getenv("RAWBROKER_SOCKET");

	return (p && *p) ? p : RB_DEFAULT_SOCKET;
}

/* ---- who listens at the path ---- */

/* The id the kernel shows for a uid not mapped into this user namespace
 * (/proc/sys/kernel/overflowuid, 65534 by default): it stands for anyone
 * outside, so it is never taken for this process's own uid. */
#define RB_OVERFLOW_UID 65534u
#define RB_MAX_SYMLINKS 40

/*
 * Could anyone but the owners of the directories on PATH have put the
 * listener there?  Walks PATH from / (relative paths from the working
 * directory), following symbolic links as the kernel does, and looks at
 * every directory it passes through: one that group or others may write
 * lets them replace what it holds, so the path is unsafe, unless the
 * directory is sticky (like /tmp) and the entry the path takes from it
 * belongs to root or to this process's user, whom the sticky bit protects.
 * The owners themselves are trusted: only the owner of the directory
 * above (or root) could have given them that place.  Returns NULL when
 * safe, else why not (in BUF).
 */
/* Write a reason into BUF (cut to SIZE) and return BUF. */
static const char *why(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *why(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

struct walk {
	char cur[PATH_MAX], rest[PATH_MAX], link[PATH_MAX], tmp[PATH_MAX], next[PATH_MAX];
};

static const char *walk_path(struct walk *w, const char *path, char *buf, size_t size);

static const char *path_unsafe(const char *path, char *buf, size_t size)
{
	/* 20 KiB: on the heap, not on a host thread's stack that may be small. */
	struct walk *w = malloc(sizeof(*w));
	const char *r;

	if (!w)
		return why(buf, size, "out of memory");
	r = walk_path(w, path, buf, size);
	free(w);
	return r;
}

static const char *walk_path(struct walk *w, const char *path, char *buf, size_t size)
{
	char *cur = w->cur, *rest = w->rest, *link = w->link, *tmp = w->tmp, *next = w->next;
	bool open_sticky; /* cur is sticky and writable by others */
	uid_t me = geteuid();
	int hops = 0;
	struct stat st;

	if (path[0] == '/') {
		snprintf(rest, PATH_MAX, "%s", path);
	} else {
		if (!getcwd(cur, PATH_MAX))
			return why(buf, size, "cannot read the working directory: %s",
				   strerror(errno));
		if ((size_t)snprintf(rest, PATH_MAX, "%s/%s", cur, path) >= PATH_MAX)
			return why(buf, size, "path too long");
	}
restart:
	/* rest is absolute: start again at the root. */
	cur[0] = '\0';
	if (lstat("/", &st) < 0)
		return why(buf, size, "/: %s", strerror(errno));
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		return why(buf, size, "/ is writable by others (mode %04o)",
			   (unsigned)(st.st_mode & 07777));
	open_sticky = (st.st_mode & 022) != 0;
	for (char *p = rest, *comp; *p;) {
		size_t clen = strcspn(p, "/");
		bool last;

		comp = p;
		p += clen;
		while (*p == '/')
			p++;
		last = *p == '\0';
		if (clen == 0 || (clen == 1 && comp[0] == '.'))
			continue;
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			/* cur holds no symbolic link: its parent is textual. */
			char *slash = strrchr(cur, '/');

			if (slash)
				*slash = '\0';
			if (lstat(cur[0] ? cur : "/", &st) < 0)
				return why(buf, size, "%s: %s", cur[0] ? cur : "/", strerror(errno));
			open_sticky = (st.st_mode & 022) != 0;
			continue;
		}
		if ((size_t)snprintf(next, PATH_MAX, "%s/%.*s", cur, (int)clen, comp) >= PATH_MAX)
			return why(buf, size, "path too long");
		if (lstat(next, &st) < 0)
			return why(buf, size, "%s: %s", next, strerror(errno));
		/* In a sticky directory others may write, only the entry's owner
		 * (and the directory's) can rename or remove it. */
		if (open_sticky && st.st_uid != 0 && st.st_uid != me)
			return why(buf, size,
				   "%s belongs to uid %u, in a directory that others may write",
				   next, (unsigned)st.st_uid);
		if (S_ISLNK(st.st_mode)) {
			ssize_t n;

			if (++hops > RB_MAX_SYMLINKS)
				return why(buf, size, "%s: too many symbolic links", path);
			n = readlink(next, link, PATH_MAX - 1);
			if (n < 0)
				return why(buf, size, "%s: %s", next, strerror(errno));
			link[n] = '\0';
			/* What is left of the path now follows the link's target,
			 * from the root or from cur. */
			if ((size_t)snprintf(tmp, PATH_MAX, "%s%s%s/%s", link[0] == '/' ? "" : cur,
					     link[0] == '/' ? "" : "/", link, p) >= PATH_MAX)
				return why(buf, size, "path too long");
			memcpy(rest, tmp, PATH_MAX);
			goto restart;
		}
		if (last)
			break; /* the socket itself: whoever owns it cannot move it */
		if (!S_ISDIR(st.st_mode))
			return why(buf, size, "%s is not a directory", next);
		if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
			return why(buf, size,
				   "%s is writable by %s (mode %04o): whoever can write it can "
				   "put another listener in the broker's place",
				   next, (st.st_mode & 002) ? "anyone" : "its group",
				   (unsigned)(st.st_mode & 07777));
		open_sticky = (st.st_mode & 022) != 0;
		memcpy(cur, next, PATH_MAX);
	}
	return NULL;
}

/*
 * Is UID one that $RAWBROKER_BROKER_UID names (numbers, separated by commas
 * or spaces)?  For sockets in a directory others may write, where the path
 * proves nothing (a Kubernetes emptyDir is mode 0777): the kernel vouches
 * for the listener's uid.  Unset, empty or malformed: names no one.
 */
static bool named_broker_uid(uid_t uid)
{
	const char *p = secure_getenv("RAWBROKER_BROKER_UID");

	while (p && *p) {
		char *end;
		unsigned long v;

		while (*p == ',' || *p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || end == p || v >= (uid_t)-1 || (*end && *end != ',' && *end != ' '))
			return false;
		if ((uid_t)v == uid)
			return true;
		p = end;
	}
	return false;
}

/*
 * Before the first byte goes out: is the process listening at PATH (FD is
 * connected to it) one this library may trust with requests, replies and
 * the caller's descriptors?  Root is (it could do anything anyway), and so
 * is this process's own user.  Anyone else only when the path is safe
 * (path_unsafe()): then only the owners of its directories could have put
 * the listener there, which is how the broker's own user (rawbroker, or
 * the uid a test or container gives it) comes to be trusted; or when its
 * uid is one the caller named in $RAWBROKER_BROKER_UID.  Returns 0, or
 * -EPERM with RES saying why.
 */
static int listener_trusted(int fd, const char *path, struct rb_result *res)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	char reason[RB_REASON_LEN];
	const char *bad;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof(uc)) {
		set_result(res, EPROTO, NULL, "cannot tell who listens at %s: %s", path,
			   strerror(errno));
		return -EPROTO;
	}
	if (uc.uid == 0 || (uc.uid == geteuid() && uc.uid != RB_OVERFLOW_UID) ||
	    (uc.uid != RB_OVERFLOW_UID && named_broker_uid(uc.uid)))
		return 0;
	bad = path_unsafe(path, reason, sizeof(reason));
	if (!bad)
		return 0;
	set_result(res, EPERM, NULL, "not trusting the listener at %s (uid %u, pid %d): %s", path,
		   (unsigned)uc.uid, (int)uc.pid, bad);
	return -EPERM;
}

/* Returns a connected descriptor (its identity saved in conn) or -errno.
 * Called with conn.lock held. */
static int open_connection(struct rb_result *res)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = socket_path();
	int64_t deadline;
	struct stat st;
	bool shrunk;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		set_result(res, ENAMETOOLONG, NULL, "broker socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = errno;
		set_result(res, r, NULL, "cannot create a unix socket: %s", strerror(r));
		return -r;
	}
	/* Bound every wait on this connection once, instead of a poll() per
	 * call: connect() to a broker whose backlog is full (SO_SNDTIMEO), and
	 * each reply (SO_RCVTIMEO). */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &reply_timeout, sizeof(reply_timeout)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &reply_timeout, sizeof(reply_timeout)) < 0) {
		r = errno;
		close(fd);
		set_result(res, r, NULL, "socket timeouts: %s", strerror(r));
		return -r;
	}
	deadline = now_ms() + RB_REPLY_TIMEOUT_MS;
	shrunk = false;
	while ((r = connect(fd, (struct sockaddr *)&sun, sizeof(sun))) < 0 && errno == EINTR) {
		r = shrink_timeouts(fd, deadline);
		shrunk = true;
		if (r < 0) {
			errno = r == -ETIMEDOUT ? EAGAIN : -r;
			r = -1;
			break;
		}
	}
	if (shrunk && r == 0)
		restore_timeouts(fd);
	if (r < 0) {
		r = errno;
		close(fd);
		if (r == EAGAIN) {
			set_result(res, ETIMEDOUT, NULL,
				   "the broker at %s accepted no connection within %d ms",
				   path, RB_REPLY_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		set_result(res, r, NULL, "no broker at %s: %s", path, strerror(r));
		return -r;
	}
	r = listener_trusted(fd, path, res);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = errno;
		close(fd);
		set_result(res, r, NULL, "fstat: %s", strerror(r));
		return -r;
	}
	conn.dev = st.st_dev;
	conn.ino = st.st_ino;
	return fd;
}

static int status_errno(const Rawbroker__Reply *rep)
{
	switch (rep->status) {
	case RAWBROKER__STATUS__STATUS_DENIED:
		return EACCES;
	case RAWBROKER__STATUS__STATUS_RATE_LIMITED:
		return EAGAIN;
	case RAWBROKER__STATUS__STATUS_INVALID:
		return EINVAL;
	case RAWBROKER__STATUS__STATUS_FAILED:
		/* The broker's socket()/bind() errno; keep it plausible. */
		return (rep->error > 0 && rep->error < 4096) ? rep->error : EIO;
	case RAWBROKER__STATUS__STATUS_BAD_VERSION:
		return EPROTO;
	default:
		return EPROTO;
	}
}

/*
 * Is FD a raw ICMP (DOMAIN AF_INET) or ICMPv6 (AF_INET6) socket?  One
 * getsockopt() tells: the kernel answers ICMP_FILTER (level SOL_RAW) only
 * on an AF_INET raw socket whose protocol is IPPROTO_ICMP, and
 * ICMP6_FILTER (level IPPROTO_ICMPV6) only on an AF_INET6 raw socket whose
 * protocol is IPPROTO_ICMPV6 (raw(7), RFC 3542); every other descriptor
 * (another family, type or protocol, a ping socket, a unix socket, a
 * file) gets an error.  test_client checks each such kind.
 */
static bool is_raw_icmp(int fd, int domain)
{
	union {
		uint32_t v4;     /* struct icmp_filter */
		uint32_t v6[8];  /* struct icmp6_filter */
	} f;
	socklen_t len = domain == AF_INET ? sizeof(f.v4) : sizeof(f.v6);

	if (domain == AF_INET)
		return getsockopt(fd, SOL_RAW, 1 /* ICMP_FILTER */, &f, &len) == 0;
	return getsockopt(fd, IPPROTO_ICMPV6, 1 /* ICMP6_FILTER */, &f, &len) == 0;
}

/* The descriptor must be what was asked for (STYLE.md #7): its domain,
 * type and protocol as the kernel reports them.  For the raw ICMP sockets
 * most clients ask for, one call checks all three (is_raw_icmp()): two
 * system calls fewer on every grant, each a microsecond or more of the
 * grant's latency. */
static bool fd_matches(int fd, int domain, int type, int protocol)
{
	int v;
	socklen_t len = sizeof(v);

	if (type == SOCK_RAW && ((domain == AF_INET && protocol == IPPROTO_ICMP) ||
				 (domain == AF_INET6 && protocol == IPPROTO_ICMPV6)))
		return is_raw_icmp(fd, domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != domain)
		return false;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != type)
		return false;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) < 0 || v != protocol)
		return false;
	return true;
}

/*
 * One request and its reply on the kept connection: send REQ (with SEND_FD
 * attached unless it is -1), receive the reply and check its id.  Returns 0
 * with *REP (free with rb_reply_free) and *FD_OUT (the descriptor that came
 * along, or -1), or -errno when the connection failed; for ETIMEDOUT and
 * EPROTO, RES says why.
 */
static int transact(const uint8_t *req, size_t reqlen, int send_fd, uint64_t id,
		    Rawbroker__Reply **rep, int *fd_out, struct rb_result *res)
{
	uint8_t buf[RB_FRAME_MAX];
	int fd = -1, r;
	ssize_t n;

	int64_t deadline = now_ms() + RB_REPLY_TIMEOUT_MS;
	bool shrunk = false;

	*rep = NULL;
	*fd_out = -1;
	while ((r = rb_frame_send(conn.fd, req, reqlen, send_fd, RB_FRAME_EINTR)) == -EINTR) {
		shrunk = true;
		r = shrink_timeouts(conn.fd, deadline);
		if (r < 0)
			break;
	}
	if (r == -ETIMEDOUT)
		r = -EAGAIN;
	if (r == -EAGAIN) { /* SO_SNDTIMEO expired: the broker is not reading */
		set_result(res, ETIMEDOUT, NULL, "the broker took no request within %d ms",
			   RB_REPLY_TIMEOUT_MS);
		return -ETIMEDOUT;
	}
	if (r < 0)
		return r;
	while ((n = rb_frame_recv(conn.fd, buf, sizeof(buf), &fd,
				  RB_FRAME_ACCEPT_FD | RB_FRAME_EINTR)) == -EINTR) {
		shrunk = true;
		r = shrink_timeouts(conn.fd, deadline);
		if (r < 0) {
			n = r == -ETIMEDOUT ? -EAGAIN : r;
			break;
		}
	}
	if (shrunk)
		restore_timeouts(conn.fd);
	if (n == 0)
		return -ECONNRESET;
	if (n == -EAGAIN) { /* SO_RCVTIMEO expired */
		set_result(res, ETIMEDOUT, NULL, "the broker did not answer within %d ms",
			   RB_REPLY_TIMEOUT_MS);
		return -ETIMEDOUT;
	}
	if (n < 0)
		return (int)n;
	r = rb_reply_decode(buf, (size_t)n, rep);
	if (r < 0 || (*rep)->id != id) {
		set_result(res, EPROTO, NULL, "unusable reply from the broker (%s)",
			   r < 0 ? strerror(-r) : "wrong id");
		rb_reply_free(*rep);
		*rep = NULL;
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
	*fd_out = fd;
	return 0;
}

/* An operation run on the kept connection by run(): 0 when the broker
 * answered (outcome in RES and the operation's context), -errno when the
 * connection failed. */
typedef int (*operation_fn)(void *ctx, struct rb_result *res);

/*
 * Run OP on the kept connection, opening one as needed.  At most one retry,
 * on a fresh connection, and only when the kept one failed before any
 * answer: the broker may have restarted or closed an idle connection.  A
 * fresh connection that fails is the answer.  Called with conn.lock held;
 * returns 0, or -errno with RES filled.
 */
static int run(operation_fn op, void *ctx, struct rb_result *res)
{
	int r = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = false;
		struct creds now;

		/* A raw clone()'s copy of the parent's connection, or a number
		 * the host has reused for something else: not ours to use.  A
		 * connection made under other credentials (the process has
		 * called setresuid() or the like since): the broker would judge
		 * this request as who made it. */
		creds_for_request(&now);
		if (conn.fd >= 0 && (!opened_here() || !creds_same(&conn.creds, &now) ||
				     !still_ours()))
			drop_connection();
		if (conn.fd < 0) {
			r = open_connection(res);
			if (r < 0)
				return r;
			conn.fd = r;
			mark_opened();
			conn.creds = now;
			fresh = true;
		}
		r = op(ctx, res);
		if (r == 0)
			return 0;
		drop_connection();
		/* A broker at its connection limit (global or per uid) closes
		 * a new connection unanswered: try again later. */
		if (fresh && (r == -ECONNRESET || r == -EPIPE) && res->error == 0) {
			set_result(res, EAGAIN, NULL, "the broker closed a new connection "
				   "unanswered (at a connection limit?)");
			return -EAGAIN;
		}
		if (fresh || r == -ETIMEDOUT || r == -EPROTO)
			break;
	}
	if (res->error == 0)
		set_result(res, -r, NULL, "lost the connection to the broker: %s", strerror(-r));
	return r;
}

/* Lock, run, unlock; the errno contract of the public calls. */
static int locked_run(operation_fn op, void *ctx, struct rb_result *res)
{
	int r;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&conn.lock);
	r = run(op, ctx, res);
	pthread_mutex_unlock(&conn.lock);
	return r;
}

static void result_init(struct rb_result *res)
{
	res->error = 0;
	res->reason[0] = res->rule[0] = '\0';
}

/* ---- rb_socket ---- */

struct socket_op {
	const struct rb_request *rq;
	bool quiet; /* the caller discards the texts */
	int fd;     /* out */
};

/* A request the library can refuse itself, before any connection. */
static bool request_invalid(const struct rb_request *rq, struct rb_result *res)
{
	if (!rq) {
		set_result(res, EINVAL, NULL, "no request");
		return true;
	}
	if (!rq->source)
		return false;
	if (!((rq->source->sa_family == AF_INET &&
	       rq->source_len >= sizeof(struct sockaddr_in)) ||
	      (rq->source->sa_family == AF_INET6 &&
	       rq->source_len >= sizeof(struct sockaddr_in6)))) {
		set_result(res, EINVAL, NULL, "source must be a sockaddr_in or sockaddr_in6");
		return true;
	}
	if (rq->source->sa_family != rq->domain) {
		set_result(res, EINVAL, NULL, "source address family differs from the socket's");
		return true;
	}
	return false;
}

/* RQ passed request_invalid(). */
static int encode_socket(const struct rb_request *rq, uint64_t id, uint8_t *buf,
			 size_t cap, struct rb_result *res)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SocketRequest sr = RAWBROKER__SOCKET_REQUEST__INIT;
	ssize_t n;

	req.version = RB_PROTOCOL_VERSION;
	req.id = id;
	req.kind_case = RAWBROKER__REQUEST__KIND_SOCKET;
	req.socket = &sr;
	sr.family = rq->domain;
	sr.type = rq->type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	sr.protocol = rq->protocol;
	sr.nonblock = (rq->type & SOCK_NONBLOCK) != 0;
	if (rq->source && rq->source->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)rq->source;

		sr.source.data = (uint8_t *)&sin->sin_addr;
		sr.source.len = 4;
	} else if (rq->source) {
		const struct sockaddr_in6 *sin6 = (const void *)rq->source;

		sr.source.data = (uint8_t *)&sin6->sin6_addr;
		sr.source.len = 16;
	}
	n = rb_request_encode(&req, buf, cap);
	if (n < 0)
		set_result(res, (int)-n, NULL, "request too large");
	return (int)n;
}

static int op_socket(void *ctx, struct rb_result *res)
{
	struct socket_op *op = ctx;
	const struct rb_request *rq = op->rq;
	int base_type = rq->type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Reply *rep;
	uint64_t id = conn.next_id++;
	int n, fd, r;

	n = encode_socket(rq, id, buf, sizeof(buf), res);
	if (n < 0)
		return 0; /* answered locally; RES says why */
	r = transact(buf, (size_t)n, -1, id, &rep, &fd, res);
	if (r < 0)
		return r;
	if ((rep->status == RAWBROKER__STATUS__STATUS_OK) != (fd >= 0)) {
		set_result(res, EPROTO, NULL, "unusable reply from the broker (%s)",
			   fd >= 0 ? "a descriptor with a refusal" : "a grant without a descriptor");
		r = -EPROTO;
	} else if (rep->status != RAWBROKER__STATUS__STATUS_OK) {
		set_result(res, status_errno(rep), rep->rule, "%s", rep->reason);
	} else if (!fd_matches(fd, rq->domain, base_type, rq->protocol)) {
		set_result(res, EPROTO, rep->rule,
			   "the broker sent a socket other than the one asked for");
		r = -EPROTO;
	} else if (!(rq->type & SOCK_CLOEXEC) && fcntl(fd, F_SETFD, 0) < 0) {
		/* The descriptor arrived close-on-exec (MSG_CMSG_CLOEXEC), so no
		 * concurrent exec could inherit it; now give the caller what it
		 * asked. */
		set_result(res, errno, rep->rule, "fcntl: %s", strerror(errno));
	} else {
		if (!op->quiet) /* rb_socket() discards the text: skip the copy */
			set_result(res, 0, rep->rule, "%s", rep->reason);
		op->fd = fd;
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	rb_reply_free(rep);
	return r;
}

RB_EXPORT int rb_socket_request(const struct rb_request *rq, struct rb_result *res)
{
	struct rb_result scratch;
	struct socket_op op = { .rq = rq, .quiet = !res, .fd = -1 };
	int saved_errno = errno;

	if (!res)
		res = &scratch;
	result_init(res);
	if (!request_invalid(rq, res))
		locked_run(op_socket, &op, res);
	if (op.fd >= 0) {
		errno = saved_errno;
		return op.fd;
	}
	if (res->error == 0) /* cannot happen; never return -1 with errno 0 */
		set_result(res, EPROTO, NULL, "internal error");
	errno = res->error;
	return -1;
}

/* ---- rb_setsockopt ---- */

struct option_op {
	int fd, level, name;
	const void *value;
	socklen_t len;
};

static int encode_option_step(const struct option_op *op, bool step2, uint64_t id,
			      uint8_t *buf, size_t cap)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SetOptionRequest so = RAWBROKER__SET_OPTION_REQUEST__INIT;
	Rawbroker__DescriptorRequest dr = RAWBROKER__DESCRIPTOR_REQUEST__INIT;

	req.version = RB_PROTOCOL_VERSION;
	req.id = id;
	if (step2) {
		req.kind_case = RAWBROKER__REQUEST__KIND_DESCRIPTOR;
		req.descriptor = &dr;
	} else {
		req.kind_case = RAWBROKER__REQUEST__KIND_SET_OPTION;
		req.set_option = &so;
		so.level = op->level;
		so.name = op->name;
		so.value.data = (uint8_t *)op->value;
		so.value.len = op->len;
	}
	return (int)rb_request_encode(&req, buf, cap);
}

/* The two steps of rawbroker.proto's SetOptionRequest. */
static int op_set_option(void *ctx, struct rb_result *res)
{
	struct option_op *op = ctx;
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Reply *rep;
	int n, fd, r;

	for (int step = 1; step <= 2; step++) {
		uint64_t id = conn.next_id++;

		n = encode_option_step(op, step == 2, id, buf, sizeof(buf));
		if (n < 0) {
			set_result(res, EINVAL, NULL, "option value too large");
			return 0;
		}
		r = transact(buf, (size_t)n, step == 2 ? op->fd : -1, id, &rep, &fd, res);
		if (r < 0 && step == 2) {
			/* Step 1 was answered: whatever happened, no retry (the
			 * option may even be set).  Final. */
			drop_connection();
			if (res->error == 0)
				set_result(res, -r, NULL, "the broker did not confirm the option: %s",
					   strerror(-r));
			return 0;
		}
		if (r < 0)
			return r;
		if (fd >= 0) {
			close(fd);
			rb_reply_free(rep);
			set_result(res, EPROTO, NULL, "unusable reply from the broker (a descriptor)");
			return -EPROTO;
		}
		if (rep->status != RAWBROKER__STATUS__STATUS_OK) {
			set_result(res, status_errno(rep), rep->rule, "%s", rep->reason);
			rb_reply_free(rep);
			return 0;
		}
		if (step == 1 && !rep->want_descriptor) {
			rb_reply_free(rep);
			set_result(res, EPROTO, NULL, "unusable reply from the broker (step 1)");
			return -EPROTO;
		}
		if (step == 2)
			set_result(res, 0, rep->rule, "%s", rep->reason);
		rb_reply_free(rep);
	}
	return 0;
}

/*
 * Is the option on FD already what the caller asks: cleared and not set,
 * or set to these very bytes?  Then setting it is a no-op in the kernel,
 * and the broker is not asked: no round trip inside a probe's measured
 * time (RIPE Atlas clears both options before every ICMPv6 probe, after
 * taking its transmit time), and no refusal for clearing an option the
 * policy does not grant, since nothing changes.  getsockopt() reads these
 * options without privilege; the kernel keeps exactly the (length byte +
 * 1) * 8 bytes it was given.
 */
bool rb_option_already(int fd, int level, int name, const void *value, socklen_t len)
{
	uint8_t cur[2048];
	socklen_t curlen = sizeof(cur);

	if (level != IPPROTO_IPV6 || (name != IPV6_HOPOPTS && name != IPV6_DSTOPTS))
		return false;
	if (len && (!value || len < 8 || len > sizeof(cur) ||
		    len != ((socklen_t)((const uint8_t *)value)[1] + 1) * 8))
		return false; /* not a header the kernel would keep as given */
	if (getsockopt(fd, level, name, cur, &curlen) < 0)
		return false;
	return curlen == len && (len == 0 || memcmp(cur, value, len) == 0);
}

RB_EXPORT int rb_setsockopt_request(int fd, int level, int name, const void *value,
				    socklen_t len, struct rb_result *res)
{
	struct rb_result scratch;
	struct option_op op = { .fd = fd, .level = level, .name = name, .value = value,
				.len = len };
	int saved_errno = errno;

	if (rb_option_already(fd, level, name, value, len)) {
		if (res) {
			result_init(res);
			set_result(res, 0, NULL, "%s", len ? "already set to this value; the broker "
				   "was not asked" : "not set; nothing to clear, the broker was not asked");
		}
		errno = saved_errno;
		return 0;
	}
	if (!res)
		res = &scratch;
	result_init(res);
	if (fcntl(fd, F_GETFD) < 0)
		set_result(res, EBADF, NULL, "not an open descriptor");
	else if (len && !value)
		set_result(res, EFAULT, NULL, "no value");
	else
		locked_run(op_set_option, &op, res);
	if (res->error == 0) {
		errno = saved_errno;
		return 0;
	}
	errno = res->error;
	return -1;
}

RB_EXPORT int rb_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	return rb_setsockopt_request(fd, level, name, value, len, NULL);
}

RB_EXPORT int rb_socket(int domain, int type, int protocol)
{
	struct rb_request rq = { .domain = domain, .type = type, .protocol = protocol };

	return rb_socket_request(&rq, NULL);
}

RB_EXPORT void rb_disconnect(void)
{
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&conn.lock);
	drop_connection();
	pthread_mutex_unlock(&conn.lock);
}
