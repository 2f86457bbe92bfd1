/* SPDX-License-Identifier: MIT */
/*
 * lose_reply.so - an LD_PRELOAD fault for tests/e2e/maker_lost.sh.  Loaded
 * into rawbrokerd, it acts in the socket maker only (the process named
 * rawbroker-maker): the Nth reply that carries descriptors
 * ($RB_TEST_LOSE_REPLY) is lost.  Its sendmsg() fails with ENOMEM, and so
 * does the maker's next sendmsg(), the same record without the descriptors
 * (maker.c, reply()): the front never hears of that refill.  Or the Nth
 * such reply ($RB_TEST_DELAY_REPLY) is sent 1.5 s late.  Each fault is
 * said on stderr (the broker's log), so the test knows it happened.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int lose_nth, delay_nth; /* 0: not the maker, or nothing asked for */
static int seen, lose_next;

__attribute__((constructor)) static void lose_setup(void)
{
	const char *lose = getenv("RB_TEST_LOSE_REPLY");
	const char *delay = getenv("RB_TEST_DELAY_REPLY");

	if (strcmp(program_invocation_short_name, "rawbroker-maker") != 0)
		return;
	lose_nth = lose ? atoi(lose) : 0;
	delay_nth = delay ? atoi(delay) : 0;
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
	if ((lose_nth || delay_nth) && msg->msg_controllen) {
		int nth = __atomic_add_fetch(&seen, 1, __ATOMIC_SEQ_CST);

		if (nth == lose_nth) {
			__atomic_store_n(&lose_next, 1, __ATOMIC_SEQ_CST);
			say("lose_reply: a reply with descriptors lost\n");
			errno = ENOMEM;
			return -1;
		}
		if (nth == delay_nth) {
			say("lose_reply: a reply with descriptors held back 1.5 s\n");
			poll(NULL, 0, 1500); /* the maker's filter allows poll() */
		}
	}
	return syscall(SYS_sendmsg, fd, msg, flags);
}
