/* SPDX-License-Identifier: MIT */
/*
 * test_procstatus.c - who a notifying task is, from /proc/PID/status
 * (broker/pure/procstatus.c): the effective uid and gid and the groups of
 * a real status file, fed whole and one byte at a time; the bounds (a
 * number over 32 bits, (uid_t)-1, more groups than room); values that are
 * not numbers; lines that are missing; keys that only look alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "procstatus.h"

/* As Linux 6.18 writes it (trimmed after Groups: the reader stops there). */
static const char real[] =
	"Name:\tbusybox\n"
	"Umask:\t0022\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t4242\n"
	"Ngid:\t0\n"
	"Pid:\t4242\n"
	"PPid:\t4241\n"
	"TracerPid:\t0\n"
	"Uid:\t64041\t64042\t64043\t64044\n"
	"Gid:\t64051\t64052\t64053\t64054\n"
	"FDSize:\t64\n"
	"Groups:\t10 20 4000000000 \n"
	"NStgid:\t4242\n";

static int parse(const char *text, size_t step, gid_t *groups, size_t max,
		 struct proc_status *s)
{
	size_t n = strlen(text);
	int r = 0;

	proc_status_init(s, groups, max);
	for (size_t o = 0; o < n && r == 0; o += step)
		r = proc_status_feed(s, text + o, o + step > n ? n - o : step);
	return r ? r : proc_status_done(s);
}

static void test_real_file(void **state)
{
	size_t steps[] = { 1, 2, 3, 7, 4096 };

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct proc_status s;
		gid_t g[8];

		assert_int_equal(parse(real, steps[i], g, 8, &s), 0);
		assert_int_equal(s.uid, 64042); /* effective, not real */
		assert_int_equal(s.gid, 64052);
		assert_true(s.has_groups);
		assert_int_equal(s.ngroups, 3);
		assert_int_equal(g[0], 10);
		assert_int_equal(g[1], 20);
		assert_int_equal(g[2], 4000000000u);
	}
}

/* proc_status_read(): the same file from a descriptor, twice (pread from
 * the start, as a kept /proc entry is read), and this process's own. */
static void test_read_fd(void **state)
{
	struct proc_status s;
	static gid_t mine[65536];
	gid_t g[8];
	int fd = memfd_create("status", MFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, real, strlen(real)), (ssize_t)strlen(real));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(proc_status_read(fd, &s, g, 8), 0);
		assert_int_equal(s.uid, 64042);
		assert_int_equal(s.ngroups, 3);
		assert_int_equal(g[2], 4000000000u);
	}
	close(fd);
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(proc_status_read(fd, &s, mine, 65536), 0);
	assert_int_equal(s.uid, geteuid());
	assert_int_equal(s.gid, getegid());
	close(fd);
	assert_int_equal(proc_status_read(-1, &s, g, 8), -EBADF);
}

/* Past PROC_STATUS_MAX without a Groups line: -EFBIG, not a read for ever. */
static void test_read_fd_bound(void **state)
{
	struct proc_status s;
	gid_t g[1];
	static char pad[64 * 1024];
	int fd = memfd_create("huge", MFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	memset(pad, 'x', sizeof(pad));
	pad[sizeof(pad) - 1] = '\n';
	for (size_t done = 0; done <= PROC_STATUS_MAX; done += sizeof(pad))
		assert_int_equal(write(fd, pad, sizeof(pad)), (ssize_t)sizeof(pad));
	assert_int_equal(proc_status_read(fd, &s, g, 1), -EFBIG);
	close(fd);
}

static void test_no_groups(void **state)
{
	struct proc_status s;
	gid_t g[1];

	(void)state;
	assert_int_equal(parse("Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nGroups:\t\n", 1, g, 1, &s), 0);
	assert_int_equal(s.uid, 2);
	assert_int_equal(s.gid, 6);
	assert_int_equal(s.ngroups, 0);
	assert_true(s.has_groups);
}

static void test_bounds(void **state)
{
	struct proc_status s;
	gid_t g[2];

	(void)state;
	assert_int_equal(parse("Uid:\t1\t4294967296\t1\t1\nGid:\t1\t1\t1\t1\n", 1, g, 2, &s),
			 -ERANGE);
	assert_int_equal(parse("Uid:\t1\t99999999999999999999\t1\t1\n", 3, g, 2, &s), -ERANGE);
	/* (uid_t)-1 names no one: refused, never taken for a uid */
	assert_int_equal(parse("Uid:\t1\t4294967295\t1\t1\nGid:\t1\t1\t1\t1\n", 1, g, 2, &s),
			 -ERANGE);
	assert_int_equal(parse("Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\t1 2 3\n", 1, g, 2, &s),
			 -E2BIG);
	assert_int_equal(parse("Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\t1 2\n", 1, g, 2, &s), 0);
}

static void test_not_numbers(void **state)
{
	struct proc_status s;
	gid_t g[2];

	(void)state;
	assert_int_equal(parse("Uid:\t1\t-2\t1\t1\nGid:\t1\t1\t1\t1\n", 1, g, 2, &s), -EPROTO);
	assert_int_equal(parse("Uid:\t1\t1\t1\t1\nGid:\tx\n", 1, g, 2, &s), -EPROTO);
	assert_int_equal(parse("Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\t1,2\n", 1, g, 2, &s),
			 -EPROTO);
}

static void test_missing_or_lookalike(void **state)
{
	struct proc_status s;
	gid_t g[2];

	(void)state;
	assert_int_equal(parse("Gid:\t1\t1\t1\t1\n", 1, g, 2, &s), -EPROTO);
	assert_int_equal(parse("Uid:\t1\t1\t1\t1\n", 1, g, 2, &s), -EPROTO);
	/* Keys are whole: "Uidx", "xUid" and a long key that starts alike
	 * are other lines, whatever they hold. */
	assert_int_equal(parse("Uidx:\t7\t7\nxUid:\t7\t7\nUid_and_more_so:\t7\t7\n"
			       "Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n", 1, g, 2, &s), 0);
	assert_int_equal(s.uid, 2);
	/* A Name with a colon and tabs (the kernel escapes newlines) */
	assert_int_equal(parse("Name:\tUid:\t0\t0\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n", 1, g, 2,
			       &s), 0);
	assert_int_equal(s.uid, 2);
}

/* A task whose ids have no mapping in the reader's user namespace reads
 * as the overflow ids: refused, whatever rule names 65534. */
static void test_overflow(void **state)
{
	const struct proc_overflow o = { .uid = 65534, .gid = 65534 };
	const char *unmapped_uid = "Uid:\t65534\t65534\t65534\t65534\nGid:\t100\t100\t100\t100\n"
				   "Groups:\t\n";
	const char *unmapped_gid = "Uid:\t1000\t1000\t1000\t1000\nGid:\t7\t65534\t7\t7\n"
				   "Groups:\t\n";
	const char *other = "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
			    "Groups:\t65534\n";
	gid_t g[4];
	struct proc_status s;
	uint32_t id = 0;

	(void)state;
	assert_int_equal(parse(unmapped_uid, 3, g, 4, &s), 0);
	assert_non_null(proc_status_unmapped(&s, &o));
	assert_non_null(strstr(proc_status_unmapped(&s, &o), "overflowuid"));
	assert_int_equal(parse(unmapped_gid, 1, g, 4, &s), 0);
	assert_non_null(strstr(proc_status_unmapped(&s, &o), "overflowgid"));
	assert_int_equal(parse(other, 5, g, 4, &s), 0);
	assert_null(proc_status_unmapped(&s, &o));
	/* another overflow id: what the files say counts */
	assert_int_equal(parse(unmapped_uid, 7, g, 4, &s), 0);
	assert_null(proc_status_unmapped(&s, &(struct proc_overflow){ .uid = 4242, .gid = 4243 }));

	assert_int_equal(proc_overflow_parse("65534\n", 6, &id), 0);
	assert_int_equal(id, 65534);
	assert_int_equal(proc_overflow_parse("4242", 4, &id), 0);
	assert_int_equal(id, 4242);
	assert_int_equal(proc_overflow_parse("", 0, &id), -EPROTO);
	assert_int_equal(proc_overflow_parse("12x\n", 4, &id), -EPROTO);
	assert_int_equal(proc_overflow_parse("1\n2\n", 4, &id), -EPROTO);
	assert_int_equal(proc_overflow_parse("4294967296\n", 11, &id), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_file),
		cmocka_unit_test(test_read_fd),
		cmocka_unit_test(test_read_fd_bound),
		cmocka_unit_test(test_no_groups),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_not_numbers),
		cmocka_unit_test(test_missing_or_lookalike),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
