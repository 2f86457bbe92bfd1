/* SPDX-License-Identifier: MIT */
/*
 * e2e_notifyopt - a static program for tests/e2e/notifyopt.sh: linked
 * with -static, so no LD_PRELOAD shim reaches it and every call it makes
 * that the notify profile stops is answered by the broker's seccomp user
 * notification path (broker/usernotif.c) or by the kernel, nothing else.
 *
 *   e2e_notifyopt setopt hop|dst TARGET VALUE
 *       setsockopt(IPPROTO_IPV6, IPV6_HOPOPTS or IPV6_DSTOPTS) on TARGET:
 *         raw6   socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6) (the broker's)
 *         udp6   socket(AF_INET6, SOCK_DGRAM, 0) (our own)
 *         tcp6   socket(AF_INET6, SOCK_STREAM, 0)
 *         udp4   socket(AF_INET, SOCK_DGRAM, 0)
 *         pipe   the read end of a pipe
 *         badfd  a descriptor number that is not open
 *       with VALUE:
 *         pad8    8 bytes: next header 0, length 0, PadN of 4
 *         pad16   16 bytes: length 1, PadN of 12
 *         pad2040 2040 bytes, the most there is: length 254, PadN options
 *         ra      8 bytes: a Router Alert option (not padding), then PadN
 *         lenbyte 8 bytes of padding whose length byte says 16
 *         short4  4 bytes (the kernel wants 0 or 8 and more)
 *         odd12   12 bytes (the kernel wants a multiple of 8)
 *         big2048 2048 bytes (the kernel's most is 2040)
 *         badptr  8 bytes at an address that is not mapped
 *         clear   pad8 first (printed as "set=..." and its readback), then
 *                 NULL, 0 bytes, which clears the option
 *       Prints "pid=PID setsockopt=0" or "pid=PID setsockopt=ENAME"; after
 *       a 0, getsockopt() reads the option back: "readback=same" when it
 *       holds the bytes set (none after clear), else "readback=..." with
 *       what it read.
 *   e2e_notifyopt setopt-thread hop|dst TARGET VALUE
 *       The same from a second thread (a Go program calls from any of
 *       its threads): PID is then that thread's id, as the broker logs it.
 *   e2e_notifyopt nodump ARGS...
 *       The same as ARGS, after prctl(PR_SET_DUMPABLE, 0): a task that
 *       its own user may no longer ptrace (nor pidfd_getfd() from, nor
 *       process_vm_readv() from).
 *   e2e_notifyopt dgram 4|6
 *       socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) (or the ICMPv6 one):
 *       "pid=PID socket=ok" or "pid=PID socket=ENAME".
 *
 * Exit 0 when the call was made (whatever it answered: the script checks
 * the answer), 2 when TARGET could not be made, 1 on a usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int usage(void)
{
	fprintf(stderr, "usage: e2e_notifyopt setopt hop|dst raw6|udp6|tcp6|udp4|pipe|badfd "
		"pad8|pad16|pad2040|ra|lenbyte|short4|odd12|big2048|badptr|clear\n"
		"       e2e_notifyopt dgram 4|6\n");
	return 1;
}

static int make_target(const char *t)
{
	int p[2], fd;

	if (!strcmp(t, "raw6"))
		return socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (!strcmp(t, "udp6"))
		return socket(AF_INET6, SOCK_DGRAM, 0);
	if (!strcmp(t, "tcp6"))
		return socket(AF_INET6, SOCK_STREAM, 0);
	if (!strcmp(t, "udp4"))
		return socket(AF_INET, SOCK_DGRAM, 0);
	if (!strcmp(t, "pipe"))
		return pipe(p) < 0 ? -1 : p[0];
	if (!strcmp(t, "badfd")) {
		/* The highest number below the limit that is not open. */
		for (fd = 999; fd > 2 && fcntl(fd, F_GETFD) >= 0; fd--)
			;
		return fd;
	}
	errno = EINVAL;
	return -1;
}

/* VALUE into *V and *LEN; -1 for an unknown name. */
static int make_value(const char *v, const uint8_t **out, size_t *len)
{
	static uint8_t buf[2048];
	static const uint8_t pad8[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	static const uint8_t pad16[16] = { 0, 1, 1, 12 };
	static const uint8_t ra[8] = { 0, 0, 5, 2, 0, 0, 1, 0 };
	static const uint8_t lenbyte[8] = { 0, 1, 1, 4, 0, 0, 0, 0 };

	*out = buf;
	if (!strcmp(v, "pad8") || !strcmp(v, "short4") || !strcmp(v, "odd12")) {
		memcpy(buf, pad8, sizeof(pad8));
		*len = !strcmp(v, "pad8") ? 8 : !strcmp(v, "short4") ? 4 : 12;
	} else if (!strcmp(v, "pad16")) {
		memcpy(buf, pad16, sizeof(pad16));
		*len = 16;
	} else if (!strcmp(v, "pad2040")) {
		size_t off = 2;

		memset(buf, 0, 2040);
		buf[1] = 254;
		while (off < 2040) { /* PadN of up to 255 zero bytes */
			size_t n = 2040 - off - 2 > 255 ? 255 : 2040 - off - 2;

			buf[off] = 1;
			buf[off + 1] = (uint8_t)n;
			off += 2 + n;
		}
		*len = 2040;
	} else if (!strcmp(v, "ra")) {
		memcpy(buf, ra, sizeof(ra));
		*len = 8;
	} else if (!strcmp(v, "lenbyte")) {
		memcpy(buf, lenbyte, sizeof(lenbyte));
		*len = 8;
	} else if (!strcmp(v, "big2048")) {
		buf[1] = 255; /* (what the length byte says does not matter here) */
		buf[2] = 1;
		buf[3] = 255;
		*len = 2048;
	} else if (!strcmp(v, "badptr")) {
		/* A page mapped and unmapped again: nothing is there. */
		void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || munmap(p, 4096) < 0)
			return -1;
		*out = p;
		*len = 8;
	} else if (!strcmp(v, "clear")) {
		*out = NULL;
		*len = 0;
	} else {
		return -1;
	}
	return 0;
}

static int setopt(int argc, char **argv)
{
	const uint8_t *val;
	uint8_t back[2048];
	socklen_t blen = sizeof(back);
	size_t len;
	int name, fd, r;

	if (argc != 5)
		return usage();
	if (!strcmp(argv[2], "hop"))
		name = IPV6_HOPOPTS;
	else if (!strcmp(argv[2], "dst"))
		name = IPV6_DSTOPTS;
	else
		return usage();
	if (make_value(argv[4], &val, &len) < 0)
		return usage();
	fd = make_target(argv[3]);
	if (fd < 0) {
		printf("pid=%d target=%s\n", (int)gettid(), ename(errno));
		return 2;
	}
	if (!len) {
		/* Something to clear: else a clear that does nothing would
		 * read back as well as one that works. */
		static const uint8_t pad8[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };

		r = setsockopt(fd, IPPROTO_IPV6, name, pad8, sizeof(pad8));
		printf("pid=%d set=%s\n", (int)gettid(), r == 0 ? "0" : ename(errno));
		if (r == 0 && (getsockopt(fd, IPPROTO_IPV6, name, back, &blen) < 0 ||
			       blen != sizeof(pad8) || memcmp(back, pad8, sizeof(pad8))))
			printf("readback=differs\n");
		else if (r == 0)
			printf("readback=same\n");
		blen = sizeof(back);
	}
	r = setsockopt(fd, IPPROTO_IPV6, name, val, (socklen_t)len);
	printf("pid=%d setsockopt=%s\n", (int)gettid(), r == 0 ? "0" : ename(errno));
	if (r != 0)
		return 0;
	/* Did it take effect?  Reading needs no capability. */
	if (getsockopt(fd, IPPROTO_IPV6, name, back, &blen) < 0)
		printf("readback=%s\n", ename(errno));
	else if (blen == len && (!len || !memcmp(back, val, len)))
		printf("readback=same\n");
	else
		printf("readback=%u-bytes-differ\n", (unsigned)blen);
	return 0;
}

struct thread_args {
	int argc;
	char **argv;
	int status;
};

static void *setopt_thread(void *p)
{
	struct thread_args *a = p;

	a->status = setopt(a->argc, a->argv);
	return NULL;
}

static int dgram(int argc, char **argv)
{
	int fd;

	if (argc != 3 || (strcmp(argv[2], "4") && strcmp(argv[2], "6")))
		return usage();
	fd = !strcmp(argv[2], "4") ? socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)
				   : socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	printf("pid=%d socket=%s\n", (int)getpid(), fd >= 0 ? "ok" : ename(errno));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "nodump")) {
		if (prctl(PR_SET_DUMPABLE, 0) < 0)
			return 1;
		argc--;
		argv++;
	}
	if (argc >= 2 && !strcmp(argv[1], "setopt"))
		return setopt(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "setopt-thread")) {
		struct thread_args a = { argc, argv, 1 };
		pthread_t t;

		if (pthread_create(&t, NULL, setopt_thread, &a) != 0 || pthread_join(t, NULL) != 0)
			return 1;
		return a.status;
	}
	if (argc >= 2 && !strcmp(argv[1], "dgram"))
		return dgram(argc, argv);
	return usage();
}
