/* SPDX-License-Identifier: MIT */
/*
 * lose_reply.so - an LD_PRELOAD fault for tests/e2e/maker_lost.sh.  Loaded
 * into rawbrokerd, it acts in the socket maker only (the process named
 * rawbroker-maker): the Nth reply that carries descriptors
 * ($RB_TEST_LOSE_REPLY) is lost.  Its sendmsg() fails with ENOMEM, and so
 * does the maker's next sendmsg(), the same record without the descriptors
 * (maker.c, reply()): the front never hears of that refill.  Each loss is
 * said on stderr (the broker's log), so the test knows it happened.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int lose_nth; /* 0: not the maker, or no loss asked for */
static int seen, lose_next;

__attribute__((constructor)) static void lose_setup(void)
{
	const char *n = getenv("RB_TEST_LOSE_REPLY");

	if (n && strcmp(program_invocation_short_name, "rawbroker-maker") == 0)
		lose_nth = atoi(n);
}

/* write() alone: the maker's seccomp filter allows it, and not the
 * fstat() that stdio's dprintf() makes. */
static void say(const char *line)
{
	ssize_t r = write(STDERR_FILENO, line, strlen(line));

	(void)r;
}

/* Exported: the build hides symbols by default. */
__attribute__((visibility("default"))) ssize_t sendmsg(int fd, const struct msghdr *msg,
						      int flags)
{
	if (lose_nth && __atomic_exchange_n(&lose_next, 0, __ATOMIC_SEQ_CST)) {
		say("lose_reply: the maker's errno answer lost too\n");
		errno = ENOMEM;
		return -1;
	}
	if (lose_nth && msg->msg_controllen &&
	    __atomic_add_fetch(&seen, 1, __ATOMIC_SEQ_CST) == lose_nth) {
		__atomic_store_n(&lose_next, 1, __ATOMIC_SEQ_CST);
		say("lose_reply: a reply with descriptors lost\n");
		errno = ENOMEM;
		return -1;
	}
	return syscall(SYS_sendmsg, fd, msg, flags);
}
