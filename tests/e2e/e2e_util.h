/* SPDX-License-Identifier: MIT */
/* e2e_util.h - what the end-to-end test programs share. */
#ifndef RAWBROKER_E2E_UTIL_H
#define RAWBROKER_E2E_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "PROG: FAIL: MSG" on stderr; returns 1, the programs' failure status. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in milliseconds. */
double now_ms(void);

/* The Internet checksum of LEN bytes at P, in network order. */
uint16_t csum(const void *p, size_t len);

/* A connection to $RAWBROKER_SOCKET that bypasses the library, so a test
 * can send what the library never would.  -1 on failure. */
int raw_connect(void);

/* A stream connection to the unix socket PATH (SOCK_NONBLOCK when
 * NONBLOCK: a full backlog fails at once instead of waiting).  -1 on
 * failure. */
int unix_connect(const char *path, bool nonblock);

/* BODY on C with the NFDS (0 to 253) descriptors FDS in one SCM_RIGHTS
 * message.  0, or -1 with errno. */
int send_fds(int c, const char *body, const int *fds, int nfds);

/* The OCI seccomp agent's message, as runc sends it: the container state
 * of container ID, whose first process is PID, into BUF (N bytes). */
void oci_state(char *buf, size_t n, const char *id, pid_t pid);

/* A TCP listener on 127.0.0.1 (any port, BACKLOG) that the caller never
 * accepts or reads from, with the smallest receive window the kernel
 * allows: the peer of close_trap().  -1 on failure. */
int tcp_sink(int backlog);

/* The close trap: a TCP connection to SINK with unsent data and SO_LINGER
 * of an hour, put in flight inside a unix socket, which is returned (our
 * copy of the TCP socket is closed).  Whoever does the last close of the
 * returned descriptor waits in tcp_close() for the linger time.  -1. */
int close_trap(int sink);

/* A seccomp filter on the calling thread (and its later threads and
 * children) that sends every native socket() to a new listener, which it
 * returns (NO_NEW_PRIVS is set first); -1 on failure (ENOSYS: x86_64 and
 * aarch64 only). */
int socket_notify_filter(void);

#endif /* RAWBROKER_E2E_UTIL_H */
