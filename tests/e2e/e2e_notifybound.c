/* SPDX-License-Identifier: MIT */
/*
 * e2e_notifybound - notification senders that try to hold the broker
 * inside a seccomp ioctl, for tests/e2e/notifybound.sh (review findings 2
 * and 4: RECV and ADDFD sleep on a client's behalf; the broker answers with
 * one thread per listener, broker/usernotif.c).  Each
 * hands the broker a listener over the OCI seccomp agent socket (root
 * connects first, as a runtime does; then it drops to UID and installs a
 * filter that sends every native socket() to that listener).
 *
 *   e2e_notifybound steal AGENT UID KEPT N   (root)
 *       Keeps a copy of the listener and takes the notifications itself
 *       (a thread in SECCOMP_IOCTL_NOTIF_RECV, answering EPERM), racing
 *       the broker, which after epoll said readable sleeps in its own RECV
 *       until a new notification comes.  Makes N notifications, one at a
 *       time; after each, a child of uid KEPT must get a raw socket from
 *       the broker within 1 s ($RAWBROKER_SOCKET), else exit 1.  Prints
 *       "steal: N notifications ..." and holds the listener until killed
 *       (at most 60 s).
 *   e2e_notifybound starve AGENT UID HOGS SECONDS   (root; 2 CPUs)
 *       HOGS busy loops on CPU 1 and, beside them, a SCHED_IDLE task of
 *       UID that asks for raw sockets for SECONDS: SECCOMP_IOCTL_NOTIF_ADDFD
 *       waits until that task runs.  Prints how many calls were served,
 *       how many failed with EAGAIN, returned 0 (a call answered with
 *       nothing: an ADDFD with FLAG_SEND cut short, see broker/usernotif.c,
 *       deliver_addfd()) or failed otherwise, and the worst call time.
 *       Every process it starts dies with it (PDEATHSIG).
 *
 * Exit 0 when the attack ran, 1 otherwise, with a line on stderr.  It
 * checks nothing about the broker: the script does (a well-behaved client
 * served within 1 s, the log lines, SIGTERM).
 */
#include <errno.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"
#include "rawbroker.h"

/* The OCI agent message on C (connected before the filter: socket()
 * would wait on ourselves): the container state and LISTENER, then EOF;
 * waits until the broker closes its end (attached or refused). */
static int agent_send(int c, int listener, const char *id)
{
	char body[512], b;
	struct pollfd p = { .fd = c, .events = POLLIN };

	oci_state(body, sizeof(body), id, 1);
	if (send_fds(c, body, &listener, 1) < 0)
		return -1;
	shutdown(c, SHUT_WR);
	poll(&p, 1, 3000);
	(void)!read(c, &b, 1);
	close(c);
	return 0;
}

/* Become UID; then die with PARENT (a change of credentials clears the
 * parent-death signal, so it is set after) and within LIFE seconds in any
 * case (an alarm is not inherited across fork). */
static int drop_to(uid_t uid, pid_t parent, unsigned life)
{
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -1;
	if (parent > 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	}
	if (life)
		alarm(life);
	return 0;
}

/* ---- steal ---- */

static int stolen_fd;

static void *thief(void *arg)
{
	(void)arg;
	for (;;) {
		struct seccomp_notif n;
		struct seccomp_notif_resp r;

		memset(&n, 0, sizeof(n));
		if (ioctl(stolen_fd, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.id = n.id;
		r.error = -EPERM;
		ioctl(stolen_fd, SECCOMP_IOCTL_NOTIF_SEND, &r);
	}
	return NULL;
}

/* Is the broker answering?  A child of uid KEPT asks for a raw socket
 * through the library (unix socket): its time in ms, or -1 when no answer
 * came within MS (the child is killed). */
static double probe(uid_t kept, int ms)
{
	double t0 = now_ms();
	pid_t p = fork();

	if (p == 0) {
		int fd;

		alarm(5);
		if (drop_to(kept, 0, 0) < 0)
			_exit(2);
		fd = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		_exit(fd >= 0 ? 0 : 1);
	}
	for (;;) {
		int st;

		if (waitpid(p, &st, WNOHANG) == p)
			return now_ms() - t0;
		if (now_ms() - t0 > ms) {
			kill(p, SIGKILL);
			waitpid(p, &st, 0);
			return -1;
		}
		usleep(500);
	}
}

static int steal(const char *agent, uid_t uid, uid_t kept, int n)
{
	int req[2], ans[2];
	double worst = 0;
	pid_t kid;

	if (pipe(req) < 0 || pipe(ans) < 0)
		return fail("pipe");
	pid_t me = getpid();

	alarm(60); /* bounded, whatever the script does: the child dies with us */
	kid = fork();
	if (kid == 0) {
		int c = unix_connect(agent, false);
		pthread_t t;
		char ch;

		if (c < 0)
			_exit(fail("connect %s: %s", agent, strerror(errno)));
		if (drop_to(uid, me, 65) < 0)
			_exit(fail("drop to uid %u: %s", (unsigned)uid, strerror(errno)));
		stolen_fd = socket_notify_filter();
		if (stolen_fd < 0)
			_exit(fail("seccomp: %s", strerror(errno)));
		if (agent_send(c, stolen_fd, "e2e-steal") < 0)
			_exit(fail("send the listener: %s", strerror(errno)));
		if (pthread_create(&t, NULL, thief, NULL))
			_exit(fail("pthread_create"));
		/* One call per request: answered by whoever takes it first,
		 * the thief (EPERM) or the broker (EPERM: no rule for UID). */
		while (read(req[0], &ch, 1) == 1) {
			int fd = socket(AF_INET, SOCK_DGRAM, 0);

			if (fd >= 0)
				close(fd);
			(void)!write(ans[1], &ch, 1);
		}
		_exit(0);
	}
	/* After each call, the broker must answer another client: a RECV
	 * that lost the race sleeps until the next notification, which here
	 * comes only after the probe. */
	for (int i = 1; i <= n; i++) {
		char ch = 'n';
		double ms;

		if (write(req[1], &ch, 1) != 1 || read(ans[0], &ch, 1) != 1)
			return fail("the notifying task is gone after %d calls", i - 1);
		ms = probe(kept, 1000);
		if (ms < 0) {
			printf("steal: the broker did not answer within 1 s after %d notifications\n",
			       i);
			pause(); /* hold on, as an attacker would: the script checks more */
			return 1;
		}
		if (ms > worst)
			worst = ms;
	}
	printf("steal: %d notifications, the broker answered a client after each (worst %.0f ms)\n",
	       n, worst);
	fflush(stdout);
	pause(); /* hold the thief's copy of the listener until killed */
	return 0;
}

/* ---- starve ---- */

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static int starve(const char *agent, uid_t uid, int hogs, int secs)
{
	int p[2];
	pid_t kid, me = getpid();

	if (pipe(p) < 0)
		return fail("pipe");
	pid_t hog[64];

	if (hogs > 64)
		hogs = 64;
	for (int i = 0; i < hogs; i++) {
		if ((hog[i] = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			pin(1);
			alarm((unsigned)secs + 5); /* bounded even if we are gone */
			for (;;)
				;
		}
	}
	kid = fork();
	if (kid == 0) {
		int c = unix_connect(agent, false), l, ok = 0, again = 0, zero = 0, other = 0;
		double worst = 0, end;
		struct sched_param sp = { 0 };
		char line[160];

		if (c < 0 || drop_to(uid, me, (unsigned)secs + 5) < 0)
			_exit(fail("connect or drop: %s", strerror(errno)));
		l = socket_notify_filter();
		if (l < 0 || agent_send(c, l, "e2e-starve") < 0)
			_exit(fail("seccomp or agent: %s", strerror(errno)));
		close(l);
		pin(1);
		if (sched_setscheduler(0, SCHED_IDLE, &sp) < 0)
			_exit(fail("SCHED_IDLE: %s", strerror(errno)));
		end = now_ms() + secs * 1000.0;
		while (now_ms() < end) {
			double t0 = now_ms(), dt;
			int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

			dt = now_ms() - t0;
			if (dt > worst)
				worst = dt;
			if (fd == 0) {
				zero++; /* a call answered with nothing (ADDFD_FLAG_SEND cut short; stdin is open) */
			} else if (fd > 0) {
				close(fd);
				ok++;
			} else if (errno == EAGAIN) {
				again++;
			} else {
				other++;
			}
		}
		snprintf(line, sizeof(line),
			 "starve: %d served, %d EAGAIN, %d returned 0, %d other errors, worst call "
			 "%.0f ms\n", ok, again, zero, other, worst);
		(void)!write(p[1], line, strlen(line));
		_exit(0);
	}
	close(p[1]);
	{
		char buf[256];
		ssize_t r = read(p[0], buf, sizeof(buf) - 1);
		int st;

		waitpid(kid, &st, 0);
		if (r <= 0)
			return fail("the attacker said nothing");
		buf[r] = 0;
		fputs(buf, stdout);
	}
	for (int i = 0; i < hogs; i++) /* (they would die with us, PDEATHSIG: */
		kill(hog[i], SIGKILL);    /* reaped here, not left to init) */
	for (int i = 0; i < hogs; i++)
		waitpid(hog[i], NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && !strcmp(argv[1], "steal"))
		return steal(argv[2], (uid_t)atoi(argv[3]), (uid_t)atoi(argv[4]), atoi(argv[5]));
	if (argc == 6 && !strcmp(argv[1], "starve"))
		return starve(argv[2], (uid_t)atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: e2e_notifybound steal AGENT UID KEPT N | starve AGENT UID HOGS SECS\n");
	return 2;
}
