/* SPDX-License-Identifier: MIT */
/*
 * test_client.c - librawbroker against a fake broker in this process:
 * errno contract, reasons, replies it must not trust, timeouts, a host that
 * reuses the library's descriptor number, fork() and threads.  Needs no
 * privilege: the fake broker never hands out a raw socket.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "frame.h"
#include "rawbroker.h"

enum fake_mode {
	FAKE_DENY,      /* STATUS_DENIED with a reason and rule */
	FAKE_WRONG_FD,  /* STATUS_OK with a UDP socket */
	FAKE_WRONG_ID,  /* STATUS_DENIED, id + 1 */
	FAKE_SILENT,    /* read the request, never answer */
	FAKE_CLOSE,     /* close a new connection unanswered (a connection limit) */
	FAKE_ONE,       /* answer one request, then close (an idle timeout) */
	FAKE_RAW_FD,    /* STATUS_OK with a socket of kind fake_raw (needs CAP_NET_RAW) */
};

static _Atomic int fake_raw[3]; /* family, type, protocol for FAKE_RAW_FD */

static char dir[48], path[96];
static const char *const test_sockets[] = { "fake.sock", "none.sock", "stale.sock",
					    "wedged.sock" };
static int listen_fd = -1;
static pthread_t acceptor;
static _Atomic int mode;
static _Atomic int accepted, answered;

static void *serve_conn(void *arg)
{
	int c = (int)(intptr_t)arg;
	uint8_t buf[RB_FRAME_MAX], out[RB_FRAME_MAX];

	if (atomic_load(&mode) == FAKE_CLOSE) {
		close(c);
		return NULL;
	}
	for (;;) {
		Rawbroker__Request *req = NULL;
		Rawbroker__Reply rep = RAWBROKER__REPLY__INIT;
		ssize_t n = rb_frame_recv(c, buf, sizeof(buf), NULL, 0);
		int fd = -1;

		if (n <= 0)
			break;
		if (rb_request_decode(buf, (size_t)n, &req) < 0) {
			rb_request_free(req);
			break;
		}
		rep.version = RB_PROTOCOL_VERSION;
		rep.id = req->id;
		rep.status = RAWBROKER__STATUS__STATUS_DENIED;
		rep.reason = (char *)"no rule allows it (fake)";
		rep.rule = (char *)"fake-rule";
		switch (atomic_load(&mode)) {
		case FAKE_SILENT:
			rb_request_free(req);
			continue;
		case FAKE_WRONG_ID:
			rep.id++;
			break;
		case FAKE_WRONG_FD:
			rep.status = RAWBROKER__STATUS__STATUS_OK;
			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			break;
		case FAKE_RAW_FD:
			rep.status = RAWBROKER__STATUS__STATUS_OK;
			fd = socket(atomic_load(&fake_raw[0]), atomic_load(&fake_raw[1]) | SOCK_CLOEXEC,
				    atomic_load(&fake_raw[2]));
			break;
		default:
			break;
		}
		rb_request_free(req);
		n = rb_reply_encode(&rep, out, sizeof(out));
		/* Counted before sending: once the client has its reply, the
		 * count must already include it. */
		atomic_fetch_add(&answered, 1);
		rb_frame_send(c, out, (size_t)n, fd, 0);
		if (fd >= 0)
			close(fd);
		if (atomic_load(&mode) == FAKE_ONE)
			break;
	}
	close(c);
	return NULL;
}

static void *accept_loop(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			return NULL; /* listener shut down */
		atomic_fetch_add(&accepted, 1);
		pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)c);
		pthread_detach(t);
	}
}

static int listen_at(const char *p, int backlog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (backlog >= 0 && listen(fd, backlog) < 0))
		return -1;
	return fd;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rawbroker-unit.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/fake.sock", dir);
	listen_fd = listen_at(path, 64);
	if (listen_fd < 0)
		return -1;
	setenv("RAWBROKER_SOCKET", path, 1);
	pthread_create(&acceptor, NULL, accept_loop, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rb_disconnect();
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(acceptor, NULL);
	close(listen_fd);
	/* Also what a test that failed half-way left behind. */
	for (size_t i = 0; i < sizeof(test_sockets) / sizeof(test_sockets[0]); i++) {
		char p[sizeof(dir) + 16];

		snprintf(p, sizeof(p), "%s/%s", dir, test_sockets[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

/* Each test starts with no kept connection and the fake denying. */
static int fresh(void **state)
{
	(void)state;
	rb_disconnect();
	atomic_store(&mode, FAKE_DENY);
	setenv("RAWBROKER_SOCKET", path, 1);
	return 0;
}

/* Open AF_INET sockets in this process (the fake broker closes its own
 * copy of what it sends, so any left is one the library leaked). */
static int count_inet_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), dom;
		socklen_t len = sizeof(dom);

		if (e->d_name[0] != '.' && fd != dirfd(d) &&
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom == AF_INET)
			n++;
	}
	closedir(d);
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_no_broker(void **state)
{
	char p[96];
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	struct rb_result res;

	(void)state;
	snprintf(p, sizeof(p), "%s/none.sock", dir);
	setenv("RAWBROKER_SOCKET", p, 1);
	assert_int_equal(rb_socket_request(&rq, &res), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(res.error, ENOENT);
	assert_non_null(strstr(res.reason, "none.sock"));
}

static void test_stale_socket(void **state)
{
	char p[96];
	int fd;

	(void)state;
	snprintf(p, sizeof(p), "%s/stale.sock", dir);
	fd = listen_at(p, -1); /* bound, never listening: like a dead broker's file */
	assert_true(fd >= 0);
	setenv("RAWBROKER_SOCKET", p, 1);
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
	unlink(p);
}

static void test_denied(void **state)
{
	struct rb_request rq = { .domain = AF_INET6, .type = SOCK_RAW, .protocol = IPPROTO_ICMPV6 };
	struct rb_result res;

	(void)state;
	assert_int_equal(rb_socket_request(&rq, &res), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(res.error, EACCES);
	assert_string_equal(res.reason, "no rule allows it (fake)");
	assert_string_equal(res.rule, "fake-rule");
	/* The connection is kept: a second call needs no new one. */
	int before = atomic_load(&accepted);
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(atomic_load(&accepted), before);
}

static void test_wrong_descriptor(void **state)
{
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	struct rb_result res;

	(void)state;
	atomic_store(&mode, FAKE_WRONG_FD);
	assert_int_equal(rb_socket_request(&rq, &res), -1);
	assert_int_equal(errno, EPROTO);
	assert_non_null(strstr(res.reason, "other than the one asked for"));
	/* The library closed the UDP socket it was sent; the fake closes its
	 * own copy just after sending, so allow it a moment. */
	for (int i = 0; i < 200 && count_inet_sockets() != 0; i++)
		usleep(5000);
	assert_int_equal(count_inet_sockets(), 0);
}

/* With CAP_NET_RAW (ctest runs as root): raw sockets that differ from the
 * request in family or protocol only are refused, the right one taken.
 * The raw ICMP kinds are checked with one getsockopt (is_raw_icmp()),
 * the others field by field; both are tried here. */
static void test_raw_descriptor_kinds(void **state)
{
	static const struct {
		int ask[3], send[3];
		bool ok;
	} cases[] = {
		{ { AF_INET, SOCK_RAW, IPPROTO_ICMP }, { AF_INET, SOCK_RAW, IPPROTO_ICMP }, true },
		{ { AF_INET, SOCK_RAW, IPPROTO_ICMP }, { AF_INET, SOCK_RAW, IPPROTO_UDP }, false },
		{ { AF_INET, SOCK_RAW, IPPROTO_ICMP }, { AF_INET, SOCK_RAW, IPPROTO_ICMPV6 }, false },
		{ { AF_INET, SOCK_RAW, IPPROTO_ICMP }, { AF_INET6, SOCK_RAW, IPPROTO_ICMP }, false },
		{ { AF_INET, SOCK_RAW, IPPROTO_ICMP }, { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, false },
		{ { AF_INET, SOCK_RAW, IPPROTO_ICMP }, { AF_INET, SOCK_DGRAM, 0 }, false },
		{ { AF_INET, SOCK_RAW, IPPROTO_ICMP }, { AF_UNIX, SOCK_DGRAM, 0 }, false },
		{ { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, true },
		{ { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, { AF_INET6, SOCK_RAW, IPPROTO_ICMP }, false },
		{ { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, { AF_INET6, SOCK_RAW, IPPROTO_UDP }, false },
		{ { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, { AF_INET, SOCK_RAW, IPPROTO_ICMP }, false },
		{ { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, { AF_INET6, SOCK_DGRAM, 0 }, false },
		{ { AF_INET, SOCK_RAW, IPPROTO_UDP }, { AF_INET, SOCK_RAW, IPPROTO_UDP }, true },
		{ { AF_INET, SOCK_RAW, IPPROTO_UDP }, { AF_INET, SOCK_RAW, IPPROTO_ICMP }, false },
		{ { AF_INET6, SOCK_RAW, IPPROTO_UDP }, { AF_INET, SOCK_RAW, IPPROTO_UDP }, false },
	};
	int probe = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	(void)state;
	if (probe < 0)
		skip(); /* no CAP_NET_RAW: the fake cannot make raw sockets */
	close(probe);
	atomic_store(&mode, FAKE_RAW_FD);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd;

		for (int k = 0; k < 3; k++)
			atomic_store(&fake_raw[k], cases[i].send[k]);
		fd = rb_socket(cases[i].ask[0], cases[i].ask[1], cases[i].ask[2]);
		if (cases[i].ok) {
			assert_true(fd >= 0);
			close(fd);
		} else {
			if (fd >= 0)
				fail_msg("case %zu: a wrong raw socket was taken", i);
			assert_int_equal(errno, EPROTO);
		}
	}
}

static void test_wrong_id(void **state)
{
	(void)state;
	atomic_store(&mode, FAKE_WRONG_ID);
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	assert_int_equal(errno, EPROTO);
}

static void test_bad_source(void **state)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct rb_request rq = { .domain = AF_INET,
				 .type = SOCK_RAW,
				 .protocol = IPPROTO_ICMP,
				 .source = (struct sockaddr *)&sin6,
				 .source_len = sizeof(sin6) };
	struct rb_result res;
	int before = atomic_load(&answered);

	(void)state;
	assert_int_equal(rb_socket_request(&rq, &res), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(atomic_load(&answered), before); /* never sent */
	setenv("RAWBROKER_SOCKET", "/nonexistent/rb.sock", 1);
	assert_int_equal(rb_socket_request(&rq, &res), -1);
	assert_int_equal(errno, EINVAL); /* refused before any connection */
}

/* A broker at its connection limit closes new connections unanswered:
 * EAGAIN, with a reason. */
static void test_closed_unanswered_is_eagain(void **state)
{
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	struct rb_result res;

	(void)state;
	atomic_store(&mode, FAKE_CLOSE);
	assert_int_equal(rb_socket_request(&rq, &res), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(res.error, EAGAIN);
	assert_non_null(strstr(res.reason, "connection limit"));
	/* Still so on the next call (nothing kept). */
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	assert_int_equal(errno, EAGAIN);
}

/* The broker closes a kept connection that idled too long: the next call
 * opens a new one and gets its answer, as if nothing happened. */
static void test_idle_close_reconnects(void **state)
{
	int before = atomic_load(&accepted);

	(void)state;
	atomic_store(&mode, FAKE_ONE);
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(atomic_load(&accepted), before + 1);
	usleep(100 * 1000); /* the fake has closed the kept connection */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rb_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), -1);
		assert_int_equal(errno, EACCES); /* the fake's answer, not a lost connection */
		assert_int_equal(atomic_load(&accepted), before + 2 + i);
		usleep(50 * 1000);
	}
}

static void test_silent_broker_times_out(void **state)
{
	double t0 = now_s(), dt;

	(void)state;
	atomic_store(&mode, FAKE_SILENT);
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	dt = now_s() - t0;
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(dt > 4.5 && dt < 7.0);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A steady stream of signals (even with SA_RESTART) must not stretch the
 * 5 s bound: each interrupted wait resumes with what is left of it. */
static void test_signals_do_not_extend_timeout(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval every = { .it_interval = { 0, 300000 }, .it_value = { 0, 300000 } };
	struct itimerval off = { 0 };
	double t0, dt;
	int r, err;

	(void)state;
	atomic_store(&mode, FAKE_SILENT);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &every, NULL), 0);
	t0 = now_s();
	r = rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	err = errno;
	dt = now_s() - t0;
	setitimer(ITIMER_REAL, &off, NULL);
	assert_int_equal(r, -1);
	assert_int_equal(err, ETIMEDOUT);
	assert_true(dt > 4.5 && dt < 7.0);
}

static void test_full_backlog_times_out(void **state)
{
	char p[96];
	int lfd, fillers[64], nf = 0;
	struct rb_result res;
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	double t0, dt;

	(void)state;
	snprintf(p, sizeof(p), "%s/wedged.sock", dir);
	lfd = listen_at(p, 0); /* a broker that never accepts */
	assert_true(lfd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p);
	while (nf < 64) {
		int c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (connect(c, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(c);
			break;
		}
		fillers[nf++] = c;
	}
	assert_true(nf < 64); /* the backlog is full now */
	setenv("RAWBROKER_SOCKET", p, 1);
	t0 = now_s();
	assert_int_equal(rb_socket_request(&rq, &res), -1);
	dt = now_s() - t0;
	assert_int_equal(errno, ETIMEDOUT);
	assert_non_null(strstr(res.reason, "accepted no connection"));
	assert_true(dt > 4.5 && dt < 7.0);
	while (nf)
		close(fillers[--nf]);
	close(lfd);
	unlink(p);
}

/* The host closes every descriptor (as a daemon does) and the number of the
 * library's connection comes back as one of its own sockets. */
static void test_host_reuses_descriptor(void **state)
{
	int probe, sv[2], n;
	struct stat before, after;
	char byte;

	(void)state;
	probe = fcntl(0, F_DUPFD_CLOEXEC, 3); /* the next free number... */
	close(probe);
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1); /* ...is the connection */
	assert_int_equal(errno, EACCES);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(dup2(sv[0], probe), probe); /* closes ours, puts the host's there */
	close(sv[0]);
	assert_int_equal(fstat(probe, &before), 0);

	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	assert_int_equal(errno, EACCES); /* answered, on a new connection */
	/* The host's descriptor is untouched: still open, same socket, and
	 * nothing was written to it. */
	assert_int_equal(fstat(probe, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	n = (int)recv(sv[1], &byte, 1, MSG_DONTWAIT);
	assert_int_equal(n, -1);
	assert_int_equal(errno, EAGAIN);
	rb_disconnect();
	assert_int_equal(fstat(probe, &after), 0); /* rb_disconnect left it too */
	close(probe);
	close(sv[1]);
}

/* A child made by SPAWN (0 in the child) asks on a connection of its
 * own, not on its parent's, and the parent's still works with no new one. */
static void check_child_uses_own_connection(pid_t (*spawn)(void))
{
	int before, st;
	pid_t pid;

	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	before = atomic_load(&accepted);
	pid = spawn();
	if (pid == 0)
		_exit(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) == -1 && errno == EACCES ? 0 : 1);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(atomic_load(&accepted), before + 1);
	assert_int_equal(rb_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(atomic_load(&accepted), before + 1);
}

static void test_fork_child_uses_own_connection(void **state)
{
	(void)state;
	check_child_uses_own_connection(fork);
}

/* A raw clone() runs no pthread_atfork() handler: the child must still
 * not talk on the parent's connection (the library's fork mark, a page
 * the kernel wipes in the child). */
static pid_t raw_clone(void)
{
	return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
}

static void test_raw_clone_child_uses_own_connection(void **state)
{
	(void)state;
	check_child_uses_own_connection(raw_clone);
}

static void *hammer(void *arg)
{
	intptr_t bad = 0;

	(void)arg;
	for (int i = 0; i < 200; i++) {
		struct rb_result res;
		struct rb_request rq = { .domain = AF_INET,
					 .type = SOCK_RAW,
					 .protocol = IPPROTO_ICMP };

		if (rb_socket_request(&rq, &res) != -1 || errno != EACCES ||
		    strcmp(res.rule, "fake-rule") != 0)
			bad++;
	}
	return (void *)bad;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	int before = atomic_load(&answered);

	(void)state;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < 4; i++) {
		void *bad;

		pthread_join(t[i], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
	assert_int_equal(atomic_load(&answered) - before, 800);
}

/* Clearing an option that is not set, or (issue 15) one the policy would
 * not let the caller set, is a no-op in the kernel: answered here, the
 * broker never asked.  Setting one still goes to the broker (which here
 * denies). */
static void test_option_noop_is_local(void **state)
{
	static const uint8_t padn[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int before = atomic_load(&answered);
	struct rb_result res;

	(void)state;
	assert_true(fd >= 0);
	errno = 1234;
	assert_int_equal(rb_setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, NULL, 0), 0);
	assert_int_equal(errno, 1234); /* untouched on success */
	assert_int_equal(rb_setsockopt_request(fd, IPPROTO_IPV6, IPV6_DSTOPTS, NULL, 0, &res), 0);
	assert_int_equal(res.error, 0);
	assert_non_null(strstr(res.reason, "not set"));
	assert_int_equal(atomic_load(&answered), before);
	/* A value that differs from what is set: the broker decides. */
	assert_int_equal(rb_setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, padn, sizeof(padn)), -1);
	assert_int_equal(errno, EACCES);
	assert_true(atomic_load(&answered) > before);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_broker, fresh),
		cmocka_unit_test_setup(test_stale_socket, fresh),
		cmocka_unit_test_setup(test_denied, fresh),
		cmocka_unit_test_setup(test_wrong_descriptor, fresh),
		cmocka_unit_test_setup(test_raw_descriptor_kinds, fresh),
		cmocka_unit_test_setup(test_wrong_id, fresh),
		cmocka_unit_test_setup(test_bad_source, fresh),
		cmocka_unit_test_setup(test_closed_unanswered_is_eagain, fresh),
		cmocka_unit_test_setup(test_idle_close_reconnects, fresh),
		cmocka_unit_test_setup(test_silent_broker_times_out, fresh),
		cmocka_unit_test_setup(test_signals_do_not_extend_timeout, fresh),
		cmocka_unit_test_setup(test_full_backlog_times_out, fresh),
		cmocka_unit_test_setup(test_host_reuses_descriptor, fresh),
		cmocka_unit_test_setup(test_fork_child_uses_own_connection, fresh),
		cmocka_unit_test_setup(test_raw_clone_child_uses_own_connection, fresh),
		cmocka_unit_test_setup(test_threads, fresh),
		cmocka_unit_test_setup(test_option_noop_is_local, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
