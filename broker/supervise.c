/* SPDX-License-Identifier: MIT */
/*
 * supervise.c - supervisor mode: rawbrokerd [OPTION]... -- COMMAND [ARG]...
 *
 * The broker starts the measurement daemon itself, so its confinement
 * cannot be skipped: COMMAND runs as --run-as (a name: its passwd uid and
 * gid and, through initgroups(), its supplementary groups, so a policy may
 * match them; UID:GID: no supplementary groups), with every capability set
 * empty (the bounding set too, where CAP_SETPCAP allows), NO_NEW_PRIVS, the
 * client seccomp profile of --rule installed (policy/client_seccomp.c, the
 * same table rawbroker-policy exports), the shim in LD_PRELOAD and
 * RAWBROKER_SOCKET naming our socket.
 *
 * Why a relay process: the broker, once dropped to its own user, may not
 * signal a process of another user (kill(2) checks uids; CAP_KILL is not
 * ours to keep).  So the fork made here, while still root, becomes a small
 * relay that drops to the command's user and confinement, forks the
 * command and waits for it.  The broker writes the signals it forwards
 * (SIGTERM, SIGINT, SIGHUP) into a pipe; the relay, of the command's own
 * user, kill()s the command with them, and exits with the command's status
 * (128+N when signal N ended it), which the broker then exits with.  The
 * relay is a subreaper: orphans of the command's tree are reaped by it,
 * and by the broker when it is PID 1.
 *
 * Both die with the broker (the relay when its pipe from the broker closes,
 * the command by PR_SET_PDEATHSIG from the relay): a workload never outlives
 * the broker that serves it.
 *
 * The notify profile (the default; --no-notify turns it off): the command
 * itself, just before exec, loads the client profile with SCMP_ACT_NOTIFY
 * for raw socket(), ICMP datagram socket() and the two IPv6 options
 * (policy/client_seccomp.h, RB_SECCOMP_NOTIFY) and sends the filter's
 * listener to the broker over a socketpair (SCM_RIGHTS), which serves it
 * (usernotif.c).  So static and Go programs, which no LD_PRELOAD reaches,
 * get their sockets too.  The relay then loads no filter of its own: the
 * kernel ranks a filter's ERRNO above another's USER_NOTIF, so the deny
 * profile in the relay would answer the command's raw socket() before the
 * broker saw it.  The relay is instead not dumpable (the command, of the
 * same user, can neither ptrace it nor write its memory through
 * /proc/PID/mem), holds no capability, and runs nothing but this file's
 * loop; the command runs under the full profile.  The relay also serves
 * the option proxy for the front (serve_option()): without the profile it
 * may use pidfd_getfd() and process_vm_readv(), which ptrace's rules allow
 * it on the command (same user, an ancestor) and not the front.
 *
 * Signals: no handlers anywhere; the broker reads them from its signalfd
 * (server.c), the relay from one of its own.
 */
#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <unistd.h>

#include "broker.h"
#include "client_seccomp.h"
#include "log.h"
#include "maker/drop.h"
#include "maker/record.h" /* MK_CLASSES_MAX: the classes a policy can name */
#include "maker_link.h"
#include "procstatus.h"

static pid_t relay_pid = -1;
static int relay_fd = -1; /* write end: one byte per forwarded signal */
static int exit_code = 1;

/* The signals the broker ignores, and how it found them. */
static const int ignored[] = { SIGPIPE, SIGTTOU, SIGTTIN };
static struct sigaction inherited[sizeof(ignored) / sizeof(ignored[0])];

void supervise_ignore_signals(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		inherited[i] = (struct sigaction){ .sa_handler = SIG_DFL };
		sigaction(ignored[i], &ign, &inherited[i]);
	}
}

bool supervise_active(void)
{
	return relay_pid > 0;
}

/* In the relay or the command: say what failed and exit 127 (the
 * shell's "could not run"). */
__attribute__((format(printf, 1, 2), noreturn)) static void child_fail(const char *fmt, ...);

static void child_fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "rawbrokerd: supervisor: %s%s%s\n", msg, err ? ": " : "",
		err ? strerror(err) : "");
	_exit(127);
}

/* The relay, as root: become the command's user with nothing (drop.c:
 * its groups through initgroups for a name, none for UID:GID; no
 * capability in any set; NO_NEW_PRIVS), read back. */
static void drop_to(const char *spec)
{
	struct drop_spec s = { .switch_user = true };
	struct drop_state st;
	char why[256] = "";
	const char *err = drop_user_parse(spec, &s.uid, &s.gid, &s.initgroups);
	int status = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (err)
		child_fail("--run-as %s: %s", spec, err);
	if (status < 0)
		child_fail("open /proc/self/status");
	if (drop_privileges(&s, &st, why, sizeof(why)) < 0 ||
	    drop_verify(status, &s, &st, false, why, sizeof(why)) < 0) {
		errno = 0;
		child_fail("--run-as %s: %s", spec, why);
	}
	close(status);
}

/* The listener L to the broker over CHAN: one byte and one SCM_RIGHTS. */
static int send_listener(int chan, int l)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	char byte = 'L';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(cm.buf, 0, sizeof(cm.buf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &l, sizeof(int));
	return sendmsg(chan, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* What the notify profile sends to the broker: of the ICMP datagram
 * sockets and the raw tuples POLICY can ever grant, those it grants us (the
 * command's identity, now that we are it).  The rest is left to the kernel
 * alone, with no round trip: iputils ping tries a datagram socket first,
 * and every refused raw socket() would otherwise cost one and a refusal
 * line.  The choice is made once, at exec: a reload does not change it. */
struct notify_set {
	unsigned flags; /* RB_SECCOMP_NOTIFY_ICMP*_DGRAM */
	struct rb_seccomp_raw raw[MK_CLASSES_MAX];
	size_t nraw;
};

static bool granted_to_us(const struct rb_policy *policy, int family, int type, int protocol)
{
	static gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);
	struct rb_peer peer = { .pid = getpid(), .uid = getuid(), .gid = getgid(),
				.groups = groups, .ngroups = n > 0 ? (size_t)n : 0 };
	struct rb_query q = { .family = family, .type = type, .protocol = protocol };
	struct rb_decision dec;

	return rb_policy_decide(policy, &peer, &q, &dec) == 0 && dec.verdict == RB_ALLOW;
}

static void notify_set_of(const struct rb_policy *policy, struct notify_set *set)
{
	static const struct { int family, protocol; unsigned bit; } d[] = {
		{ AF_INET, IPPROTO_ICMP, RB_SECCOMP_NOTIFY_ICMP_DGRAM },
		{ AF_INET6, IPPROTO_ICMPV6, RB_SECCOMP_NOTIFY_ICMPV6_DGRAM },
	};
	static struct rb_class cls[MK_CLASSES_MAX];
	int n;

	*set = (struct notify_set){ 0 };
	if (!policy)
		return;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (granted_to_us(policy, d[i].family, SOCK_DGRAM, d[i].protocol))
			set->flags |= d[i].bit;
	n = rb_policy_classes(policy, cls, MK_CLASSES_MAX);
	for (int i = 0; i < n; i++) {
		bool seen = false;

		if (cls[i].type != SOCK_RAW)
			continue;
		for (size_t j = 0; j < set->nraw; j++) /* classes differ by mark too */
			seen |= set->raw[j].family == cls[i].family &&
				set->raw[j].protocol == cls[i].protocol;
		if (!seen && granted_to_us(policy, cls[i].family, SOCK_RAW, cls[i].protocol))
			set->raw[set->nraw++] = (struct rb_seccomp_raw){ cls[i].family, cls[i].protocol };
	}
}

/*
 * Whether CMD, as execvp() finds it (its path into FOUND), carries a file
 * capability: then its exec fails with EPERM here, because the command
 * runs under NO_NEW_PRIVS (the seccomp profile needs it) with an empty
 * bounding set, and the kernel refuses to start a program whose file says
 * it must have a capability it cannot get.  Debian's ping and traceroute
 * ship so.  Only for the message: the exec has failed already.
 */
static bool has_file_capability(const char *cmd, char *found, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		snprintf(found, len, "%s", cmd);
		return getxattr(cmd, "security.capability", NULL, 0) >= 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && (size_t)snprintf(found, len, "%.*s/%s", (int)n, path, cmd) < len &&
		    access(found, X_OK) == 0)
			return getxattr(found, "security.capability", NULL, 0) >= 0;
		path += n + (path[n] == ':');
	}
	return false;
}

/* The command itself: environment, default signal state, the notify
 * profile (its listener to the broker over CHAN, -1: none), exec. */
static void run_command(const struct supervise_opts *o, const sigset_t *orig, int chan)
{
	const char *old = getenv("LD_PRELOAD");
	char *pre = NULL;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail("PR_SET_PDEATHSIG");
	/* An earlier LD_PRELOAD (sanitizer runtimes) stays first. */
	if (old && *old) {
		if (asprintf(&pre, "%s %s", old, o->preload) < 0)
			child_fail("out of memory");
	}
	if (setenv("LD_PRELOAD", pre ? pre : o->preload, 1) < 0 ||
	    setenv("RAWBROKER_SOCKET", o->socket_path, 1) < 0)
		child_fail("setenv");
	free(pre);
	/* The broker ignores these (supervise_ignore_signals()), and exec
	 * would keep that: the command gets what the broker was given. */
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		sigaction(ignored[i], &inherited[i], NULL);
	sigprocmask(SIG_SETMASK, orig, NULL);
	if (chan >= 0) {
		/* Last before exec: from here on our own raw socket() would
		 * wait for the broker.  The listener is close-on-exec, and
		 * ours goes now: only the broker holds it. */
		static struct notify_set set;
		int l;

		notify_set_of(o->policy, &set);
		l = rb_seccomp_load_notify(&o->conf, set.flags, set.raw, set.nraw);
		if (l < 0) {
			errno = -l;
			child_fail("load the client seccomp profile (notify)");
		}
		if (send_listener(chan, l) < 0)
			child_fail("send the seccomp listener to the broker");
		close(l);
		close(chan);
	}
	execvp(o->argv[0], o->argv);
	if (errno == EPERM) {
		static char found[PATH_MAX];

		if (has_file_capability(o->argv[0], found, sizeof(found))) {
			errno = 0;
			child_fail("exec %s: it has a file capability (getcap %s), and the "
				   "command runs without privileges: run a copy without it "
				   "(cp %s DIR/ drops it; see the README)", found, found, found);
		}
		errno = EPERM;
	}
	child_fail("exec %s", o->argv[0]);
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9 */
#endif

/* Whether PID is CMD or a descendant of it (its parents, through
 * /proc/PID/stat, up to CMD, or to us: orphans come to the subreaper). */
static bool in_command_tree(pid_t pid, pid_t cmd)
{
	for (int depth = 0; depth < 256 && pid > 1; depth++) {
		char path[32], buf[512], *p;
		ssize_t n;
		int fd;

		if (pid == cmd)
			return true;
		if (pid == getpid())
			return depth > 0;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return false;
		buf[n] = '\0';
		p = strrchr(buf, ')'); /* the name may hold anything */
		if (!p || sscanf(p + 1, " %*c %d", &pid) != 1)
			return false;
	}
	return false;
}

/*
 * The option proxy's one request (supervise.h): the front may not reach a
 * task's descriptors or memory, we may (same user, an ancestor).  What a
 * compromised front could ask: any descriptor and any bytes of the
 * command's tree, never of another process of this user (the pid must be
 * the command's or a descendant's, checked through a pidfd taken first,
 * which a reused pid cannot fool), at most OPTPROXY_VALUE_MAX bytes.
 */
static void serve_option(int chan, pid_t cmd)
{
	struct optproxy_req rq;
	struct optproxy_rep rp;
	int pidfd = -1, tfd = -1;
	ssize_t n = recv(chan, &rq, sizeof(rq), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return;
	memset(&rp, 0, sizeof(rp));
	rp.version = OPTPROXY_VERSION;
	rp.cookie = rq.cookie;
	if (n != sizeof(rq) || rq.version != OPTPROXY_VERSION || rq.len > OPTPROXY_VALUE_MAX) {
		rp.err = EINVAL;
		goto reply;
	}
	/* PID is the calling thread's (a Go program calls from any of its
	 * threads): a pidfd of a thread needs PIDFD_THREAD (Linux 6.9). */
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)rq.pid, PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL)
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)rq.pid, 0);
	if (pidfd < 0 || !in_command_tree((pid_t)rq.pid, cmd) ||
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		rp.err = ESRCH;
		goto reply;
	}
	tfd = (int)syscall(SYS_pidfd_getfd, pidfd, rq.fd, 0);
	if (tfd < 0) {
		rp.err = errno; /* EBADF: no such descriptor, as setsockopt() says */
		goto reply;
	}
	if (rq.len) {
		struct iovec local = { .iov_base = rp.value, .iov_len = rq.len };
		struct iovec remote = { .iov_base = (void *)(uintptr_t)rq.addr, .iov_len = rq.len };

		if (process_vm_readv((pid_t)rq.pid, &local, 1, &remote, 1, 0) != (ssize_t)rq.len) {
			rp.err = EFAULT; /* as setsockopt() says of a bad pointer */
			goto reply;
		}
		/* Read by pid: the pidfd's task still lives after the read,
		 * so the pid named it all along (a pid is not reused while
		 * its task exists). */
		if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
			rp.err = ESRCH;
			goto reply;
		}
	}
	rp.len = rq.len;
reply:
	if (pidfd >= 0)
		close(pidfd);
	{
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int))];
		} cm;
		struct iovec iov = { .iov_base = &rp, .iov_len = sizeof(rp) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (rp.err == 0 && tfd >= 0) {
			struct cmsghdr *c;

			memset(cm.buf, 0, sizeof(cm.buf));
			msg.msg_control = cm.buf;
			msg.msg_controllen = sizeof(cm.buf);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &tfd, sizeof(int));
		}
		(void)sendmsg(chan, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	/* Our copy of the command's socket: the command holds it too (it is
	 * in the call), and the copy in flight holds a reference. */
	if (tfd >= 0)
		close(tfd);
}

/* Pass signals from PIPE_FD on to CMD; serve the option proxy on HELPER
 * (-1: none); reap everything; exit as CMD did. */
static _Noreturn void relay(pid_t cmd, int pipe_fd, int helper)
{
	sigset_t chld;
	int sfd, status = 0, in = pipe_fd;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		child_fail("signalfd");
	for (;;) {
		struct pollfd p[3] = { { .fd = in, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN },
				       { .fd = helper, .events = POLLIN } };
		struct signalfd_siginfo si;
		unsigned char sig;
		pid_t w;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			child_fail("poll");
		}
		if (p[0].revents & POLLIN && read(in, &sig, 1) == 1) {
			kill(cmd, sig);
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			/* The broker is gone.  Its PDEATHSIG does not reach us:
			 * the kernel checks it as a kill() by the exiting front,
			 * which runs as another user (measured: relay and command
			 * ran on after a SIGKILL of the front).  So the command
			 * ends here, and our exit is its PDEATHSIG. */
			kill(cmd, SIGKILL);
			_exit(128 + SIGKILL);
		}
		/* The front's end closed (it no longer serves the listener):
		 * no more requests.  Checked before POLLIN, which a closed
		 * SEQPACKET peer reports too (serving it would spin). */
		if (p[2].revents & (POLLHUP | POLLERR))
			helper = -1;
		else if (p[2].revents & POLLIN)
			serve_option(helper, cmd);
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w != cmd)
				continue; /* an orphan of the command's tree */
			if (WIFSIGNALED(status))
				_exit(128 + WTERMSIG(status));
			_exit(WEXITSTATUS(status));
		}
	}
}

static int listener_fd = -1, helper_fd = -1;

int supervise_take_listener(void)
{
	int l = listener_fd;

	listener_fd = -1;
	return l;
}

int supervise_take_helper(void)
{
	int h = helper_fd;

	helper_fd = -1;
	return h;
}

/* The command's listener from CHAN (our own child, before its exec: a
 * few ms), checked to be one: -1 when the command failed first. */
static int recv_listener(int chan)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct pollfd pfd = { .fd = chan, .events = POLLIN };
	int l = -1, n = 0;
	uint64_t id = 0;

	if (poll(&pfd, 1, 10000) != 1 || recvmsg(chan, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0; k + sizeof(int) <= c->cmsg_len - CMSG_LEN(0); k += sizeof(int)) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k, sizeof(int));
			if (n++ == 0)
				l = fd;
			else
				close(fd);
		}
	}
	/* A seccomp listener knows ID_VALID (ENOENT for no such call);
	 * anything else says ENOTTY. */
	if (l >= 0 && (n != 1 || (msg.msg_flags & MSG_CTRUNC) ||
		       (ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno != ENOENT))) {
		close(l);
		l = -1;
	}
	return l;
}

void supervise_start(const struct supervise_opts *o)
{
	sigset_t orig, none;
	int p[2], sp[2] = { -1, -1 }, hp[2] = { -1, -1 };
	pid_t pid, cmd;

	if (geteuid() != 0)
		fatalx("supervisor mode needs to start as root (to run the command as "
		       "--run-as %s)", o->run_as);
	if (pipe2(p, O_CLOEXEC) < 0)
		fatal("pipe2");
	if (o->notify && (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
			  socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hp) < 0))
		fatal("socketpair");
	/* The caller blocked our signals; the command gets the mask we were
	 * started with, minus those. */
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &none, &orig);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);
	sigdelset(&orig, SIGHUP);
	sigdelset(&orig, SIGCHLD);
	pid = fork();
	if (pid < 0)
		fatal("fork");
	if (pid == 0) {
		pid_t broker = getppid();

		close(p[1]);
		if (sp[0] >= 0)
			close(sp[0]);
		if (hp[0] >= 0)
			close(hp[0]);
		if (o->close_fd >= 0)
			close(o->close_fd);
		if (maker_fd() >= 0)
			close(maker_fd()); /* the maker must see the front alone */
		if (o->ready_fd >= 0)
			close(o->ready_fd); /* the broker's readiness, not the command's */
		drop_to(o->run_as);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != broker)
			child_fail("the broker is gone");
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			child_fail("PR_SET_CHILD_SUBREAPER");
		if (!o->notify) {
			/* The relay is confined as the command is. */
			errno = -rb_seccomp_load(&o->conf);
			if (errno)
				child_fail("load the client seccomp profile");
		} else if (prctl(PR_SET_DUMPABLE, 0) < 0) {
			/* (the credential change made it so already, with the
			 * default fs.suid_dumpable; say it, not assume it) */
			child_fail("PR_SET_DUMPABLE");
		}
		errno = 0;
		cmd = fork();
		if (cmd < 0)
			child_fail("fork");
		if (cmd == 0) {
			close(p[0]);
			if (hp[1] >= 0)
				close(hp[1]);
			run_command(o, &orig, sp[1]);
		}
		if (sp[1] >= 0)
			close(sp[1]);
		relay(cmd, p[0], hp[1]);
	}
	close(p[0]);
	if (hp[1] >= 0) {
		close(hp[1]);
		helper_fd = hp[0];
	}
	if (sp[1] >= 0) {
		close(sp[1]);
		listener_fd = recv_listener(sp[0]);
		close(sp[0]);
		if (listener_fd < 0)
			log_event(LOG_LVL_WARN, "the command sent no seccomp listener",
				  "why=\"it failed before exec (its message is above); static "
				  "programs get no raw socket\"");
	}
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0)
		fatal("fcntl");
	relay_pid = pid;
	relay_fd = p[1];
	/* Orphans of the command come to us when the relay is gone (as PID
	 * 1 they would anyway). */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("PR_SET_CHILD_SUBREAPER");
	log_event(LOG_LVL_INFO, "supervising", "pid=%d run_as=%s command=%s notify=%d",
		  (int)pid, o->run_as, o->argv[0], listener_fd >= 0);
}

/*
 * The command's identity, once it has sent its listener: the relay's
 * credentials, which the command inherited at fork.  Why they are the
 * identity of every task that can ever notify this listener: only the
 * command and its descendants carry the filter (a filter is inherited at
 * fork and clone, never given to another process), and none of them can
 * change its uid, gid or groups.  drop_to() left the relay (so the tree)
 * with real, effective and saved ids all the --run-as user's, every
 * capability set empty (the bounding set too where CAP_SETPCAP allowed)
 * and NO_NEW_PRIVS, read back (drop_verify()): setresuid()/setresgid()
 * may then only pick among ids that are all the same, setgroups() needs
 * CAP_SETGID, and execve() of a setuid or file-capability program grants
 * nothing under NO_NEW_PRIVS.  A new user namespace gives a task
 * capabilities inside it but does not change its kernel uid, gid or
 * groups: unprivileged, it may map only its own uid and gid, and the gid
 * map only after it denied setgroups() in there (user_namespaces(7)); a
 * helper that would write other maps (newuidmap, newgidmap) is setuid,
 * which NO_NEW_PRIVS ignores.  So what /proc/PID/status would say of any
 * of its tasks is what the relay's says now, as our user namespace sees
 * it (the same one).  Read as /proc/RELAY/status, the relay being our
 * child (not reaped: its pid is its own).  0, or -errno (the caller then
 * reads each task's status, as for a container).
 */
int supervise_identity(uid_t *uid, gid_t *gid, gid_t *groups, size_t max, size_t *ngroups)
{
	struct proc_status s;
	char path[32];
	int fd, r;

	if (relay_pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)relay_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = proc_status_read(fd, &s, groups, max);
	close(fd);
	if (r < 0)
		return r;
	*uid = s.uid;
	*gid = s.gid;
	*ngroups = s.ngroups;
	return 0;
}

void supervise_forward(int signo)
{
	unsigned char b = (unsigned char)signo;

	if (relay_fd >= 0 && write(relay_fd, &b, 1) != 1)
		log_warn("forward signal %d to the command", signo);
}

bool supervise_reap(void)
{
	bool over = false;
	int status;
	pid_t w;

	while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
		if (w != relay_pid)
			continue; /* the maker (server.c sees its channel close), or an orphan */
		exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		log_event(LOG_LVL_INFO, "command exited", "pid=%d status=%d", (int)w, exit_code);
		relay_pid = -1;
		over = true;
	}
	return over;
}

int supervise_exit_code(void)
{
	return exit_code;
}
