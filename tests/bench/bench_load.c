/* SPDX-License-Identifier: MIT */
/*
 * bench_load - throughput, scale and soak of a running rawbrokerd, each
 * against the bare baseline where one exists: a minimal single-threaded
 * epoll server doing only accept, recv, socket() and sendmsg(SCM_RIGHTS)
 * over the same kind of socket (unix SOCK_SEQPACKET).  Run through
 * tests/bench/run-load.sh, which starts the broker in a fresh network
 * namespace.  Needs root (the bare server's raw sockets, the broker's
 * /proc entries); RAWBROKER_SOCKET names the broker.
 *
 *   bench_load throughput [-c 1,8,64] [-t SECONDS] [-r ROUNDS] [-p FRONT_PID]
 *       grants per second with N concurrent client processes (each one
 *       kept connection, rb_socket() in a loop), broker and bare server
 *       in alternating rounds; medians of the rounds and their ratio.
 *       With -p, also where the CPU time of a grant goes: the clients'
 *       (getrusage), the front's and the maker's, or the bare server's
 *       (/proc/PID/stat), per grant, medians of the rounds.
 *   bench_load scale -p FRONT_PID [-k CONNECTIONS]
 *       CONNECTIONS kept connections, each granted one socket; the
 *       broker's RSS (front + maker) per connection above its idle
 *       baseline, and its descriptors after they all left.
 *   bench_load soak -p FRONT_PID [-g GRANTS] [-c CLIENTS]
 *       GRANTS grants from CLIENTS processes that are SIGKILLed at random
 *       (and some that send a request and exit without its reply); then
 *       whether the broker lives, its descriptors, its RSS.
 *
 * Exit status: throughput checks nothing (a broken run is 1); scale and
 * soak exit 1 when the broker died, a grant failed, or descriptors leaked,
 * and print (not check) the memory figures against their targets.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "rawbroker.h"

#define MAX_CLIENTS 256

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sleep_ms(double ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the bare server: one epoll loop, socket() + SCM_RIGHTS per request ---- */

struct bare_req {
	int family, type, protocol;
};

static void bare_serve(int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("bare epoll");
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			int c = evs[i].data.fd, fd;
			struct bare_req rq;
			char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
			char byte = 0;
			struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
			struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
					      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

			if (c == lfd) {
				c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				ev.data.fd = c;
				if (c >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
					die("bare epoll_ctl");
				continue;
			}
			if (recv(c, &rq, sizeof(rq), MSG_DONTWAIT) != sizeof(rq)) {
				if (errno == EAGAIN)
					continue;
				close(c);
				continue;
			}
			fd = socket(rq.family, rq.type | SOCK_CLOEXEC, rq.protocol);
			if (fd < 0)
				die("bare socket");
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof(int));
			if (sendmsg(c, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
				close(c);
			close(fd);
		}
	}
}

static struct sockaddr_un bare_addr;
static char bare_dir[] = "/tmp/rawbroker-bench-load.XXXXXX";

static pid_t start_bare(void)
{
	pid_t pid;
	int lfd;

	if (!mkdtemp(bare_dir))
		die("mkdtemp");
	bare_addr.sun_family = AF_UNIX;
	snprintf(bare_addr.sun_path, sizeof(bare_addr.sun_path), "%s/bare.sock", bare_dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&bare_addr, sizeof(bare_addr)) < 0 ||
	    listen(lfd, SOMAXCONN) < 0)
		die("bare listen");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		bare_serve(lfd);
	close(lfd);
	return pid;
}

static void stop_bare(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(bare_addr.sun_path);
	rmdir(bare_dir);
}

static int bare_request(int c)
{
	struct bare_req rq = { AF_INET, SOCK_RAW, IPPROTO_ICMP };
	char cbuf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (send(c, &rq, sizeof(rq), MSG_NOSIGNAL) != sizeof(rq) ||
	    recvmsg(c, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ---- the broker's wire protocol, for many connections in one process ---- */

static int rb_connect_raw(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv("RAWBROKER_SOCKET");
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (!path || strlen(path) >= sizeof(sun.sun_path))
		die("RAWBROKER_SOCKET");
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (fd < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno != EINTR && errno != EAGAIN) {
			close(fd);
			return -1;
		}
		sleep_ms(1);
	}
	return fd;
}

static int rb_send_request(int fd, uint64_t id)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SocketRequest sr = RAWBROKER__SOCKET_REQUEST__INIT;
	uint8_t buf[RB_FRAME_MAX];
	ssize_t n;

	req.version = RB_PROTOCOL_VERSION;
	req.id = id;
	req.kind_case = RAWBROKER__REQUEST__KIND_SOCKET;
	req.socket = &sr;
	sr.family = AF_INET;
	sr.type = SOCK_RAW;
	sr.protocol = IPPROTO_ICMP;
	n = rb_request_encode(&req, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return rb_frame_send(fd, buf, (size_t)n, -1, 0) < 0 ? -1 : 0;
}

/* The reply's descriptor (closed), 0 when granted, -1 otherwise. */
static int rb_read_grant(int fd)
{
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Reply *rep = NULL;
	int rfd = -1, ok;
	ssize_t n = rb_frame_recv(fd, buf, sizeof(buf), &rfd, RB_FRAME_ACCEPT_FD);

	if (rfd >= 0)
		close(rfd);
	if (n <= 0 || rb_reply_decode(buf, (size_t)n, &rep) < 0)
		return -1;
	ok = rep->status == RAWBROKER__STATUS__STATUS_OK && rfd >= 0;
	rb_reply_free(rep);
	return ok ? 0 : -1;
}

/* ---- /proc figures of the broker ---- */

static pid_t front_pid, maker_pid;

static long status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static long broker_rss_kib(void)
{
	return status_kib(front_pid, "VmRSS:") + status_kib(maker_pid, "VmRSS:");
}

static pid_t find_maker(pid_t front)
{
	char path[64];
	long child = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)front, (int)front);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &child) != 1)
		child = -1;
	if (f)
		fclose(f);
	return (pid_t)child;
}

/* Inodes of the raw sockets of this namespace (the pool's, the granted). */
static bool is_raw_inode(unsigned long ino)
{
	static const char *const files[] = { "/proc/net/raw", "/proc/net/raw6" };

	for (size_t i = 0; i < 2; i++) {
		char line[512];
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long v;
			char *p = line;

			/* the inode is the 10th field */
			for (int k = 0; k < 9 && p; k++) {
				p += strspn(p, " ");
				p = strchr(p, ' ');
			}
			if (p && sscanf(p, "%lu", &v) == 1 && v == ino) {
				fclose(f);
				return true;
			}
		}
		fclose(f);
	}
	return false;
}

/* Descriptors of PID: all, and how many are raw sockets (the ready pool). */
static int count_fds(pid_t pid, int *raw)
{
	char path[64], target[128], link[320];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	*raw = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		unsigned long ino;
		ssize_t len;

		if (d->d_name[0] == '.')
			continue;
		n++;
		snprintf(link, sizeof(link), "%s/%s", path, d->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) == 1 && is_raw_inode(ino))
			(*raw)++;
	}
	closedir(dir);
	return n;
}

static bool broker_alive(void)
{
	return kill(front_pid, 0) == 0 && kill(maker_pid, 0) == 0;
}

/* Wait until the front holds BASE non-pool descriptors again (at most
 * 10 s); returns the count seen last. */
static int settle_fds(int base)
{
	int n = -1, raw;

	for (int i = 0; i < 1000; i++) {
		n = count_fds(front_pid, &raw) - raw;
		if (n <= base)
			break;
		sleep_ms(10);
	}
	return n;
}

static void find_broker(void)
{
	if (front_pid <= 0)
		die("-p FRONT_PID is required");
	maker_pid = find_maker(front_pid);
	if (maker_pid <= 0)
		die("no socket maker under the front");
}

/* A few grants so that what the broker allocates once is in the baseline. */
static void warm_up(void)
{
	for (int i = 0; i < 200; i++) {
		int fd = rb_socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

		if (fd < 0)
			die("warm-up rb_socket");
		close(fd);
	}
	rb_disconnect();
}

/* ---- throughput ---- */

static const char *case_name(bool broker)
{
	return broker ? "rb_socket() via rawbrokerd" : "bare server";
}

static long client_loop(bool broker, double until)
{
	long grants = 0;
	int c = -1;

	if (!broker) {
		c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&bare_addr, sizeof(bare_addr)) < 0)
			die("bare connect");
	}
	while (now_s() < until) {
		int fd = broker ? rb_socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)
				: bare_request(c);

		if (fd < 0)
			die(case_name(broker));
		close(fd);
		grants++;
	}
	return grants;
}

/* CPU seconds (user + system) PID has used, all its threads; -1 when
 * /proc does not tell. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields after the ")" that ends the command name: state is the
	 * third of proc_pid_stat(5), utime the 14th, stime the 15th. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* What a client reports at the end of a round. */
struct client_result {
	long grants;
	double cpu_s;
};

/* Where a round's CPU time went, in microseconds per grant; -1 for what
 * /proc did not tell.  Kernel threads' share (RCU callbacks, softirqs
 * run in ksoftirqd) is in nobody's figure. */
enum { CPU_CLIENTS, CPU_FRONT, CPU_MAKER, CPU_SERVER, CPU_N };
struct round_cpu {
	double us[CPU_N];
};

static pid_t bare_pid;

/* CPU seconds so far of the serving side's processes: the front and the
 * maker, or the bare server; -1 for the others. */
static void server_cpu_s(bool broker, double s[CPU_N])
{
	s[CPU_CLIENTS] = -1;
	s[CPU_FRONT] = broker ? proc_cpu_s(front_pid) : -1;
	s[CPU_MAKER] = broker ? proc_cpu_s(maker_pid) : -1;
	s[CPU_SERVER] = broker ? -1 : proc_cpu_s(bare_pid);
}

/* One round: N clients for SECONDS; grants per second, and in *CPU where
 * the CPU time went. */
static double throughput_round(bool broker, int n, double seconds, struct round_cpu *cpu)
{
	int go[2], res[2];
	pid_t pids[MAX_CLIENTS];
	double start, until, cpu_clients = 0, s0[CPU_N], s1[CPU_N], per;
	long total = 0;

	if (pipe(go) < 0 || pipe(res) < 0)
		die("pipe");
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			struct client_result cr;
			double c0;

			close(go[1]);
			if (read(go[0], &until, sizeof(until)) != sizeof(until))
				_exit(1);
			c0 = self_cpu_s(); /* not the fork's and start's */
			cr.grants = client_loop(broker, until);
			cr.cpu_s = self_cpu_s() - c0;
			if (write(res[1], &cr, sizeof(cr)) != sizeof(cr))
				_exit(1);
			_exit(0);
		}
	}
	close(go[0]);
	close(res[1]);
	sleep_ms(100); /* every client forked and waiting */
	server_cpu_s(broker, s0);
	start = now_s();
	until = start + seconds;
	for (int i = 0; i < n; i++)
		if (write(go[1], &until, sizeof(until)) != sizeof(until))
			die("write");
	for (int i = 0; i < n; i++) {
		struct client_result cr;

		if (read(res[0], &cr, sizeof(cr)) != sizeof(cr))
			die("a client failed");
		total += cr.grants;
		cpu_clients += cr.cpu_s;
	}
	server_cpu_s(broker, s1);
	per = total > 0 ? 1e6 / (double)total : 0;
	for (int k = 0; k < CPU_N; k++)
		cpu->us[k] = s0[k] >= 0 && s1[k] >= 0 ? (s1[k] - s0[k]) * per : -1;
	cpu->us[CPU_CLIENTS] = cpu_clients * per;
	for (int i = 0; i < n; i++) {
		int st;

		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("a client failed");
	}
	close(go[1]);
	close(res[0]);
	return (double)total / seconds;
}

/* The median of figure K over N rounds; -1 when any round lacks it. */
static double cpu_median(const struct round_cpu *rc, int n, int k)
{
	double v[32];

	for (int r = 0; r < n; r++) {
		v[r] = rc[r].us[k];
		if (v[r] < 0)
			return -1;
	}
	return median(v, n);
}

/* CPU microseconds per grant, broker against bare: what a grant costs the
 * machine, whichever process pays.  With both cores busy, throughput is
 * about their inverse ratio; the split says whose share differs. */
static void print_cpu(int clients, const struct round_cpu *rc, const struct round_cpu *bc,
		      int n)
{
	double cl = cpu_median(rc, n, CPU_CLIENTS), fr = cpu_median(rc, n, CPU_FRONT);
	double mk = cpu_median(rc, n, CPU_MAKER), bcl = cpu_median(bc, n, CPU_CLIENTS);
	double sv = cpu_median(bc, n, CPU_SERVER);

	if (fr < 0 || mk < 0 || sv < 0) {
		printf("cpu per grant, %d clients: not measured (needs -p FRONT_PID and "
		       "/proc/PID/stat of the front, the maker and the bare server)\n", clients);
		return;
	}
	printf("cpu per grant, %d clients (us, medians): broker %.1f = clients %.1f + front %.1f "
	       "+ maker %.1f; bare %.1f = clients %.1f + server %.1f; broker / bare %.2f\n",
	       clients, cl + fr + mk, cl, fr, mk, bcl + sv, bcl, sv, (cl + fr + mk) / (bcl + sv));
}

static int throughput(const char *list, double seconds, int rounds)
{
	int counts[16], ncounts = 0;
	char *copy = strdup(list), *tok, *save = NULL;
	pid_t bare = start_bare();

	bare_pid = bare;
	if (front_pid > 0)
		maker_pid = find_maker(front_pid);

	for (tok = strtok_r(copy, ",", &save); tok && ncounts < 16;
	     tok = strtok_r(NULL, ",", &save)) {
		counts[ncounts] = atoi(tok);
		if (counts[ncounts] < 1 || counts[ncounts] > MAX_CLIENTS) {
			fprintf(stderr, "bench_load: -c: 1..%d clients\n", MAX_CLIENTS);
			return 2;
		}
		ncounts++;
	}
	free(copy);
	warm_up();
	{
		cpu_set_t cpus;

		CPU_ZERO(&cpus);
		sched_getaffinity(0, sizeof(cpus), &cpus);
		printf("grant throughput, %d rounds of %.1f s per case, broker and bare alternating, "
		       "allowed CPUs: %d (%s)\n", rounds, seconds, CPU_COUNT(&cpus),
		       CPU_COUNT(&cpus) == 1 ? "pinned" : "NOT pinned: both cores, on purpose");
	}
	printf("%-10s %16s %16s %8s\n", "clients", "broker grants/s", "bare grants/s", "ratio");
	for (int k = 0; k < ncounts; k++) {
		double rb[32], bb[32], mr, mb;
		struct round_cpu rc[32], bc[32];

		for (int r = 0; r < rounds && r < 32; r++) {
			rb[r] = throughput_round(true, counts[k], seconds, &rc[r]);
			bb[r] = throughput_round(false, counts[k], seconds, &bc[r]);
		}
		mr = median(rb, rounds);
		mb = median(bb, rounds);
		printf("%-10d %16.0f %16.0f %8.2f\n", counts[k], mr, mb, mr / mb);
		printf("ratio throughput %d clients (broker / bare): %.2f  (target >= 0.80)\n",
		       counts[k], mr / mb);
		print_cpu(counts[k], rc, bc, rounds);
		fflush(stdout);
	}
	stop_bare(bare);
	return 0;
}

/* ---- scale ---- */

static int scale(int k)
{
	static int conns[200000];
	long rss0, rss1, rss2;
	int fd0, fd1, fd2, raw, mfd0, mfd2, mraw;
	double t0;

	if (k > (int)(sizeof(conns) / sizeof(conns[0])))
		k = (int)(sizeof(conns) / sizeof(conns[0]));
	find_broker();
	warm_up();
	sleep_ms(300);
	rss0 = broker_rss_kib();
	fd0 = count_fds(front_pid, &raw) - raw;
	mfd0 = count_fds(maker_pid, &mraw);
	printf("scale: %d kept connections, each granted one socket\n", k);
	printf("idle:      broker RSS (front + maker) %ld KiB, front descriptors %d "
	       "(+%d pooled), maker %d\n", rss0, fd0, raw, mfd0);
	t0 = now_s();
	for (int i = 0; i < k; i++) {
		conns[i] = rb_connect_raw();
		if (conns[i] < 0 || rb_send_request(conns[i], (uint64_t)i + 1) < 0 ||
		    rb_read_grant(conns[i]) < 0) {
			fprintf(stderr, "FAIL: connection %d was not served: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	sleep_ms(300);
	rss1 = broker_rss_kib();
	fd1 = count_fds(front_pid, &raw) - raw;
	printf("connected: broker RSS %ld KiB, front descriptors %d (+%d pooled), "
	       "in %.1f s\n", rss1, fd1, raw, now_s() - t0);
	printf("RSS per connection above idle: %.0f bytes  (target <= 1024)\n",
	       (double)(rss1 - rss0) * 1024 / k);
	if (!broker_alive() || fd1 - fd0 < k) {
		fprintf(stderr, "FAIL: the broker does not hold the %d connections "
			"(%d descriptors more than idle)\n", k, fd1 - fd0);
		return 1;
	}
	for (int i = 0; i < k; i++)
		close(conns[i]);
	fd2 = settle_fds(fd0);
	sleep_ms(300);
	rss2 = broker_rss_kib();
	mfd2 = count_fds(maker_pid, &mraw);
	printf("after:     broker RSS %ld KiB, front descriptors %d (+%d pooled), maker %d\n",
	       rss2, fd2, raw, mfd2);
	printf("descriptors after the connections left: front %+d, maker %+d  (target 0)\n",
	       fd2 - fd0, mfd2 - mfd0);
	if (!broker_alive() || fd2 != fd0 || mfd2 != mfd0) {
		fprintf(stderr, "FAIL: %s\n", broker_alive() ? "descriptors leaked"
							      : "the broker died");
		return 1;
	}
	return 0;
}

/* ---- soak ---- */

static volatile long *shared_grants;

static _Noreturn void soak_client(unsigned seed)
{
	srand(seed);
	for (;;) {
		/* One in 20: a raw connection that asks and leaves without
		 * reading its reply (or is killed before it can). */
		if (rand() % 20 == 0) {
			int c = rb_connect_raw();

			if (c >= 0 && rb_send_request(c, 1) == 0 && rand() % 2)
				rb_read_grant(c);
			if (c >= 0)
				close(c);
			continue;
		}
		int fd = rb_socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

		if (fd < 0)
			_exit(3);
		close(fd);
		__atomic_add_fetch(shared_grants, 1, __ATOMIC_RELAXED);
	}
}

static int soak(long grants, int n)
{
	pid_t pids[MAX_CLIENTS];
	long rss0, rss1, kills = 0, failed = 0, last = 0;
	int fd0, fd1, raw, mfd0, mfd1, mraw;
	double t0, next_report;

	if (n > MAX_CLIENTS)
		n = MAX_CLIENTS;
	find_broker();
	shared_grants = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_grants == MAP_FAILED)
		die("mmap");
	warm_up();
	sleep_ms(300);
	rss0 = broker_rss_kib();
	fd0 = count_fds(front_pid, &raw) - raw;
	mfd0 = count_fds(maker_pid, &mraw);
	printf("soak: %ld grants from %d clients killed at random\n", grants, n);
	printf("before: broker RSS (front + maker) %ld KiB, front descriptors %d (+%d pooled), "
	       "maker %d\n", rss0, fd0, raw, mfd0);
	fflush(stdout);
	srand((unsigned)getpid());
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0)
			soak_client((unsigned)i * 7919u + 1);
	}
	t0 = now_s();
	next_report = t0 + 10;
	while (*shared_grants < grants && broker_alive()) {
		int i = rand() % n, st;

		sleep_ms((double)(rand() % 5000) / 1000.0); /* 0..5 ms */
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &st, 0);
		if (WIFEXITED(st))
			failed++; /* it exited by itself: a grant failed */
		kills++;
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0)
			soak_client((unsigned)rand());
		if (now_s() > next_report) {
			long g = *shared_grants;

			printf("  %ld grants, %.0f/s, %ld kills\n", g,
			       (double)(g - last) / 10, kills);
			fflush(stdout);
			last = g;
			next_report += 10;
		}
	}
	for (int i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	printf("%ld grants in %.1f s (%.0f/s), %ld clients killed, %ld client exits on a "
	       "failed grant\n", *shared_grants, now_s() - t0,
	       (double)*shared_grants / (now_s() - t0), kills, failed);
	if (!broker_alive()) {
		fprintf(stderr, "FAIL: the broker died\n");
		return 1;
	}
	fd1 = settle_fds(fd0);
	warm_up();
	sleep_ms(500);
	fd1 = settle_fds(fd0);
	rss1 = broker_rss_kib();
	mfd1 = count_fds(maker_pid, &mraw);
	printf("after:  broker RSS %ld KiB (%+ld KiB, target within 1024), front descriptors %d "
	       "(%+d, target 0), maker %d (%+d)\n", rss1, rss1 - rss0, fd1, fd1 - fd0, mfd1,
	       mfd1 - mfd0);
	printf("crashes: 0; leaked descriptors: %d\n", (fd1 - fd0) + (mfd1 - mfd0));
	if (fd1 != fd0 || mfd1 != mfd0 || failed) {
		fprintf(stderr, "FAIL: %s\n", failed ? "grants failed" : "descriptors leaked");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *clients = NULL;
	double seconds = 2;
	int rounds = 3, k = 10000, opt;
	long grants = 1000000;

	signal(SIGPIPE, SIG_IGN);
	optind = 2;
	while ((opt = getopt(argc, argv, "c:t:r:k:g:p:")) != -1) {
		switch (opt) {
		case 'c': clients = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'k': k = atoi(optarg); break;
		case 'g': grants = atol(optarg); break;
		case 'p': front_pid = (pid_t)atoi(optarg); break;
		default: goto usage;
		}
	}
	if (seconds <= 0 || rounds < 1 || rounds > 32 || k < 1 || grants < 1)
		goto usage;
	if (strcmp(mode, "throughput") == 0)
		return throughput(clients ? clients : "1,8,64", seconds, rounds);
	if (strcmp(mode, "scale") == 0)
		return scale(k);
	if (strcmp(mode, "soak") == 0)
		return soak(grants, clients ? atoi(clients) : 16);
usage:
	fprintf(stderr, "usage: bench_load throughput [-c 1,8,64] [-t SECONDS] [-r ROUNDS] [-p FRONT_PID]\n"
			"       bench_load scale -p FRONT_PID [-k CONNECTIONS]\n"
			"       bench_load soak -p FRONT_PID [-g GRANTS] [-c CLIENTS]\n");
	return 2;
}
