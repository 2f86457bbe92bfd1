/* SPDX-License-Identifier: MIT */
/* test_frame.c - framing (proto/frame.c) and codec (proto/codec.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "frame.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own descriptor */
}

static int setup_pair(void **state)
{
	static int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	*state = sv;
	return 0;
}

static int teardown_pair(void **state)
{
	int *sv = *state;

	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* Send raw control data: N descriptors of /dev/null in one SCM_RIGHTS. */
static void send_fds(int sock, int n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 32)];
	} cmsg = { 0 };
	int fds[32];
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	assert_true(n > 0 && n <= 32);
	for (int i = 0; i < n; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	msg.msg_control = cmsg.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	assert_int_equal(sendmsg(sock, &msg, 0), 1);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void test_roundtrip(void **state)
{
	int *sv = *state;
	char buf[RB_FRAME_MAX];
	int fd = 99;

	assert_int_equal(rb_frame_send(sv[0], "hello", 5, -1, 0), 0);
	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), &fd, RB_FRAME_ACCEPT_FD), 5);
	assert_int_equal(fd, -1);
	assert_memory_equal(buf, "hello", 5);
}

static void test_roundtrip_fd(void **state)
{
	int *sv = *state;
	char buf[RB_FRAME_MAX];
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), fd = -1;

	assert_int_equal(rb_frame_send(sv[0], "x", 1, devnull, 0), 0);
	close(devnull);
	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), &fd, RB_FRAME_ACCEPT_FD), 1);
	assert_true(fd >= 0);
	/* Arrives close-on-exec. */
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static void test_fd_not_accepted(void **state)
{
	int *sv = *state;
	char buf[RB_FRAME_MAX];
	int before = count_fds();

	send_fds(sv[0], 1);
	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), NULL, 0), -EPROTO);
	assert_int_equal(count_fds(), before);
}

static void test_extra_fds(void **state)
{
	int *sv = *state;
	char buf[RB_FRAME_MAX];
	int before = count_fds(), fd = 5;

	send_fds(sv[0], 2);
	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), &fd, RB_FRAME_ACCEPT_FD),
			 -EPROTO);
	assert_int_equal(fd, -1);
	assert_int_equal(count_fds(), before);
}

static void test_ctrunc(void **state)
{
	int *sv = *state;
	char buf[RB_FRAME_MAX];
	int before = count_fds(), fd = 5;

	/* More than the receiver has room for: MSG_CTRUNC. */
	send_fds(sv[0], 32);
	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), &fd, RB_FRAME_ACCEPT_FD),
			 -EPROTO);
	assert_int_equal(fd, -1);
	assert_int_equal(count_fds(), before);
}

static void test_foreign_cmsg(void **state)
{
	int *sv = *state;
	char buf[RB_FRAME_MAX];
	int on = 1;

	/* With SO_PASSCRED every record carries SCM_CREDENTIALS: not ours. */
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	assert_int_equal(rb_frame_send(sv[0], "x", 1, -1, 0), 0);
	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), NULL, 0), -EPROTO);
}

static void test_truncated_record(void **state)
{
	int *sv = *state;
	char big[RB_FRAME_MAX], small[16];

	memset(big, 'a', sizeof(big));
	assert_int_equal(rb_frame_send(sv[0], big, sizeof(big), -1, 0), 0);
	assert_int_equal(rb_frame_send(sv[0], "next", 4, -1, 0), 0);
	assert_int_equal(rb_frame_recv(sv[1], small, sizeof(small), NULL, 0), -EMSGSIZE);
	/* The rest of the long record is gone; the next one is intact. */
	assert_int_equal(rb_frame_recv(sv[1], small, sizeof(small), NULL, 0), 4);
	assert_memory_equal(small, "next", 4);
}

static void test_truncated_record_with_fd(void **state)
{
	int *sv = *state;
	char big[64], small[8];
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), fd = 5, before;

	memset(big, 'a', sizeof(big));
	assert_int_equal(rb_frame_send(sv[0], big, sizeof(big), devnull, 0), 0);
	close(devnull);
	before = count_fds();
	assert_int_equal(rb_frame_recv(sv[1], small, sizeof(small), &fd, RB_FRAME_ACCEPT_FD),
			 -EMSGSIZE);
	assert_int_equal(fd, -1);
	assert_int_equal(count_fds(), before);
}

static void test_send_bounds(void **state)
{
	int *sv = *state;
	char big[RB_FRAME_MAX + 1] = { 0 };

	assert_int_equal(rb_frame_send(sv[0], big, 0, -1, 0), -EMSGSIZE);
	assert_int_equal(rb_frame_send(sv[0], big, sizeof(big), -1, 0), -EMSGSIZE);
}

static void test_peer_closed_and_eagain(void **state)
{
	int *sv = *state;
	char buf[16];

	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), NULL, RB_FRAME_DONTWAIT),
			 -EAGAIN);
	shutdown(sv[0], SHUT_WR);
	assert_int_equal(rb_frame_recv(sv[1], buf, sizeof(buf), NULL, 0), 0);
}

static void test_send_to_closed_peer(void **state)
{
	int *sv = *state;

	close(sv[1]);
	sv[1] = open("/dev/null", O_RDONLY | O_CLOEXEC); /* for teardown */
	/* MSG_NOSIGNAL: an error, not a SIGPIPE that would kill the test. */
	assert_int_equal(rb_frame_send(sv[0], "x", 1, -1, 0), -EPIPE);
}

/* ---- codec ---- */

static ssize_t make_request(uint8_t *buf, size_t cap, Rawbroker__Version v,
			    size_t source_len)
{
	Rawbroker__Request req = RAWBROKER__REQUEST__INIT;
	Rawbroker__SocketRequest sr = RAWBROKER__SOCKET_REQUEST__INIT;
	uint8_t src[32] = { 127, 0, 0, 1 };

	req.version = v;
	req.id = 42;
	req.kind_case = RAWBROKER__REQUEST__KIND_SOCKET;
	req.socket = &sr;
	sr.family = 2;
	sr.type = 3;
	sr.protocol = 1;
	sr.source.data = src;
	sr.source.len = source_len;
	return rb_request_encode(&req, buf, cap);
}

static void test_request_ok(void **state)
{
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Request *req;
	ssize_t n = make_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, 4);

	(void)state;
	assert_true(n > 0);
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), 0);
	assert_int_equal(req->id, 42);
	assert_int_equal(req->socket->family, 2);
	assert_int_equal(req->socket->source.len, 4);
	rb_request_free(req);
}

static void test_request_wrong_version(void **state)
{
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Request *req;
	ssize_t n;

	(void)state;
	n = make_request(buf, sizeof(buf), 2, 0);
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), -EPROTONOSUPPORT);
	assert_non_null(req); /* so the error reply can echo the id */
	assert_int_equal(req->id, 42);
	rb_request_free(req);
	n = make_request(buf, sizeof(buf), RAWBROKER__VERSION__VERSION_UNSPECIFIED, 0);
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), -EPROTONOSUPPORT);
	rb_request_free(req);
}

static void test_request_garbage(void **state)
{
	uint8_t junk[64];
	Rawbroker__Request *req = (void *)1;

	(void)state;
	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(rb_request_decode(junk, sizeof(junk), &req), -EBADMSG);
	assert_null(req);
	assert_int_equal(rb_request_decode(junk, 0, &req), -EBADMSG);
	assert_int_equal(rb_request_decode(junk, RB_FRAME_MAX + 1, &req), -EBADMSG);
}

static void test_request_truncated(void **state)
{
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Request *req;
	ssize_t n = make_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, 16);

	(void)state;
	/* Every proper prefix that cuts into the nested message fails. */
	for (ssize_t cut = n - 1; cut > n - 16; cut--) {
		assert_int_equal(rb_request_decode(buf, (size_t)cut, &req), -EBADMSG);
		assert_null(req);
	}
}

static void test_request_no_kind(void **state)
{
	Rawbroker__Request in = RAWBROKER__REQUEST__INIT, *req;
	uint8_t buf[64];
	ssize_t n;

	(void)state;
	in.version = RB_PROTOCOL_VERSION;
	in.id = 1;
	n = rb_request_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), -EINVAL);
	rb_request_free(req);
}

static void test_request_unknown_kind(void **state)
{
	/* version=1, id=1, field 15 (a kind this version does not know),
	 * length-delimited, empty. */
	const uint8_t buf[] = { 0x08, 0x01, 0x10, 0x01, 0x7a, 0x00 };
	Rawbroker__Request *req;

	(void)state;
	assert_int_equal(rb_request_decode(buf, sizeof(buf), &req), -EINVAL);
	rb_request_free(req);
}

static void test_request_unknown_field(void **state)
{
	/* Found by fuzz_request: a descriptor request plus field number 0
	 * (padded varint key 85 00), which protobuf-c keeps as unknown. */
	const uint8_t field0[] = { 0x08, 0x01, 0x62, 0x00, 0x85, 0x00, 0x01, 0x02, 0x03, 0x04 };
	/* version=1, id=1, socket{family=2, field 9=1}: unknown inside the kind. */
	const uint8_t nested[] = { 0x08, 0x01, 0x10, 0x01, 0x52, 0x04, 0x08, 0x02, 0x48, 0x01 };
	Rawbroker__Request *req;

	(void)state;
	assert_int_equal(rb_request_decode(field0, sizeof(field0), &req), -EINVAL);
	rb_request_free(req);
	assert_int_equal(rb_request_decode(nested, sizeof(nested), &req), -EINVAL);
	rb_request_free(req);
}

static void test_request_bad_source_len(void **state)
{
	static const size_t bad[] = { 1, 3, 5, 15, 17, 32 };
	uint8_t buf[RB_FRAME_MAX];
	Rawbroker__Request *req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t n = make_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, bad[i]);

		assert_int_equal(rb_request_decode(buf, (size_t)n, &req), -EINVAL);
		rb_request_free(req);
	}
}

static void test_request_set_option(void **state)
{
	Rawbroker__Request in = RAWBROKER__REQUEST__INIT, *req;
	Rawbroker__SetOptionRequest so = RAWBROKER__SET_OPTION_REQUEST__INIT;
	Rawbroker__DescriptorRequest dr = RAWBROKER__DESCRIPTOR_REQUEST__INIT;
	uint8_t buf[RB_FRAME_MAX], value[2049] = { 0 };
	ssize_t n;

	(void)state;
	in.version = RB_PROTOCOL_VERSION;
	in.id = 5;
	in.kind_case = RAWBROKER__REQUEST__KIND_SET_OPTION;
	in.set_option = &so;
	so.level = 41;
	so.name = 54;
	so.value.data = value;
	so.value.len = 2048; /* the largest IPv6 options header */
	n = rb_request_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), 0);
	assert_int_equal(req->set_option->value.len, 2048);
	rb_request_free(req);
	so.value.len = 2049;
	n = rb_request_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), -EINVAL);
	rb_request_free(req);

	in.kind_case = RAWBROKER__REQUEST__KIND_DESCRIPTOR;
	in.descriptor = &dr;
	n = rb_request_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), 0);
	assert_int_equal(req->kind_case, RAWBROKER__REQUEST__KIND_DESCRIPTOR);
	rb_request_free(req);
}

static void test_encode_too_small(void **state)
{
	uint8_t buf[4];

	(void)state;
	assert_int_equal(make_request(buf, sizeof(buf), RB_PROTOCOL_VERSION, 16), -EMSGSIZE);
}

static void test_reply_checks(void **state)
{
	Rawbroker__Reply in = RAWBROKER__REPLY__INIT, *rep;
	char longtext[RB_REASON_MAX + 10];
	uint8_t buf[RB_FRAME_MAX];
	ssize_t n;

	(void)state;
	in.version = RB_PROTOCOL_VERSION;
	in.id = 3;
	in.status = RAWBROKER__STATUS__STATUS_DENIED;
	in.reason = (char *)"no rule allows it";
	in.rule = (char *)"";
	n = rb_reply_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_reply_decode(buf, (size_t)n, &rep), 0);
	assert_string_equal(rep->reason, "no rule allows it");
	rb_reply_free(rep);

	in.status = 77; /* not a status */
	n = rb_reply_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_reply_decode(buf, (size_t)n, &rep), -EINVAL);
	rb_reply_free(rep);

	in.status = RAWBROKER__STATUS__STATUS_DENIED;
	memset(longtext, 'r', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	in.reason = longtext;
	n = rb_reply_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_reply_decode(buf, (size_t)n, &rep), -EINVAL);
	rb_reply_free(rep);

	in.reason = (char *)"";
	in.version = 5;
	n = rb_reply_encode(&in, buf, sizeof(buf));
	assert_int_equal(rb_reply_decode(buf, (size_t)n, &rep), -EPROTONOSUPPORT);
	rb_reply_free(rep);
}

/* A status reply at its worst: every list full, every string at its
 * longest, every number at its largest.  It must fit one record whole, or
 * the broker's trimming (stats.c: rules dropped until it fits) has work to
 * do; either way the codec takes what fits and refuses longer lists. */
static void test_status_reply(void **state)
{
	static Rawbroker__UidConnections u[RB_STATUS_UIDS_MAX + 1], *up[RB_STATUS_UIDS_MAX + 1];
	static Rawbroker__RuleCounters r[RB_STATUS_RULES_MAX], *rp[RB_STATUS_RULES_MAX];
	static Rawbroker__PoolClass p[RB_STATUS_POOL_MAX], *pp[RB_STATUS_POOL_MAX];
	static Rawbroker__LimitHits l[RB_STATUS_LIMITS_MAX], *lp[RB_STATUS_LIMITS_MAX];
	static char rule[RB_RULE_NAME_WIRE_MAX], lim[64], path[RB_STATUS_PATH_MAX],
		reason[RB_REASON_MAX], longrule[RB_RULE_NAME_WIRE_MAX + 1];
	Rawbroker__MakerState mk = RAWBROKER__MAKER_STATE__INIT;
	Rawbroker__BrokerStatus st = RAWBROKER__BROKER_STATUS__INIT;
	Rawbroker__Reply in = RAWBROKER__REPLY__INIT, *rep;
	Rawbroker__Request rq = RAWBROKER__REQUEST__INIT, *req;
	Rawbroker__StatusRequest sr = RAWBROKER__STATUS_REQUEST__INIT;
	uint8_t buf[2 * RB_FRAME_MAX];
	size_t whole;
	ssize_t n;

	(void)state;
	rq.version = RB_PROTOCOL_VERSION;
	rq.kind_case = RAWBROKER__REQUEST__KIND_STATUS;
	rq.status = &sr;
	n = rb_request_encode(&rq, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(rb_request_decode(buf, (size_t)n, &req), 0);
	assert_int_equal(req->kind_case, RAWBROKER__REQUEST__KIND_STATUS);
	rb_request_free(req);

	memset(rule, 'r', sizeof(rule) - 1);
	memset(lim, 'l', sizeof(lim) - 1);
	memset(path, '/', sizeof(path) - 1);
	memset(reason, 'x', sizeof(reason) - 1);
	for (size_t i = 0; i <= RB_STATUS_UIDS_MAX; i++) {
		u[i] = (Rawbroker__UidConnections)RAWBROKER__UID_CONNECTIONS__INIT;
		u[i].uid = UINT32_MAX;
		u[i].connections = UINT32_MAX;
		up[i] = &u[i];
	}
	for (size_t i = 0; i < RB_STATUS_RULES_MAX; i++) {
		r[i] = (Rawbroker__RuleCounters)RAWBROKER__RULE_COUNTERS__INIT;
		r[i].rule = rule;
		r[i].family = 10;
		r[i].grants = r[i].denials = r[i].rate_limited = UINT64_MAX;
		rp[i] = &r[i];
	}
	for (size_t i = 0; i < RB_STATUS_POOL_MAX; i++) {
		p[i] = (Rawbroker__PoolClass)RAWBROKER__POOL_CLASS__INIT;
		p[i].family = 10;
		p[i].type = 3;
		p[i].protocol = 58;
		p[i].has_mark = true;
		p[i].mark = UINT32_MAX;
		p[i].ready = 64;
		pp[i] = &p[i];
	}
	for (size_t i = 0; i < RB_STATUS_LIMITS_MAX; i++) {
		l[i] = (Rawbroker__LimitHits)RAWBROKER__LIMIT_HITS__INIT;
		l[i].limit = lim;
		l[i].hits = UINT64_MAX;
		lp[i] = &l[i];
	}
	mk.pid = INT32_MAX;
	mk.alive = true;
	mk.classes = 64;
	st.version = (char *)"0.1.0-123-gdeadbeef-dirty";
	st.start_time = INT64_MAX;
	st.uptime_seconds = UINT64_MAX;
	st.policy_path = path;
	st.policy_loaded = INT64_MAX;
	st.connections = UINT32_MAX;
	st.uids = up;
	st.n_uids = RB_STATUS_UIDS_MAX;
	st.uids_omitted = UINT32_MAX;
	st.rules = rp;
	st.n_rules = RB_STATUS_RULES_MAX;
	st.rules_omitted = UINT32_MAX;
	st.pool = pp;
	st.n_pool = RB_STATUS_POOL_MAX;
	st.pool_omitted = UINT32_MAX;
	st.limits = lp;
	st.n_limits = RB_STATUS_LIMITS_MAX;
	st.maker = &mk;
	in.version = RB_PROTOCOL_VERSION;
	in.id = UINT64_MAX;
	in.status = RAWBROKER__STATUS__STATUS_OK;
	in.reason = reason;
	in.rule = rule;
	in.broker_status = &st;
	whole = rawbroker__reply__get_packed_size(&in);
	print_message("worst-case status reply: %zu bytes whole (frame %d)\n", whole,
		      RB_FRAME_MAX);
	/* As stats_status() trims: rules go until it fits. */
	while (rawbroker__reply__get_packed_size(&in) > RB_FRAME_MAX && st.n_rules)
		st.n_rules--;
	print_message("fits with %zu of %d rules\n", st.n_rules, RB_STATUS_RULES_MAX);
	assert_true(st.n_rules >= RB_STATUS_RULES_MAX / 2);
	n = rb_reply_encode(&in, buf, RB_FRAME_MAX);
	assert_true(n > 0);
	assert_int_equal(rb_reply_decode(buf, (size_t)n, &rep), 0);
	assert_int_equal(rep->broker_status->n_uids, RB_STATUS_UIDS_MAX);
	assert_string_equal(rep->broker_status->rules[0]->rule, rule);
	rb_reply_free(rep);

	/* One uid too many: refused. */
	st.n_rules = 1;
	st.n_uids = RB_STATUS_UIDS_MAX + 1;
	n = rb_reply_encode(&in, buf, RB_FRAME_MAX);
	assert_true(n > 0);
	assert_int_equal(rb_reply_decode(buf, (size_t)n, &rep), -EINVAL);
	rb_reply_free(rep);
	/* A rule name past its limit: refused. */
	st.n_uids = 1;
	memset(longrule, 'r', sizeof(longrule) - 1);
	r[0].rule = longrule;
	n = rb_reply_encode(&in, buf, RB_FRAME_MAX);
	assert_true(n > 0);
	assert_int_equal(rb_reply_decode(buf, (size_t)n, &rep), -EINVAL);
	rb_reply_free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_roundtrip_fd, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_fd_not_accepted, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_extra_fds, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_ctrunc, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_foreign_cmsg, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_truncated_record, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_truncated_record_with_fd, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(test_send_bounds, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_peer_closed_and_eagain, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(test_send_to_closed_peer, setup_pair,
						teardown_pair),
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_wrong_version),
		cmocka_unit_test(test_request_garbage),
		cmocka_unit_test(test_request_truncated),
		cmocka_unit_test(test_request_no_kind),
		cmocka_unit_test(test_request_unknown_kind),
		cmocka_unit_test(test_request_unknown_field),
		cmocka_unit_test(test_request_bad_source_len),
		cmocka_unit_test(test_request_set_option),
		cmocka_unit_test(test_encode_too_small),
		cmocka_unit_test(test_reply_checks),
		cmocka_unit_test(test_status_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
