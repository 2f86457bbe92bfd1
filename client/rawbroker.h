/* SPDX-License-Identifier: MIT */
/*
 * rawbroker.h - get raw ICMP/ICMPv6 sockets from rawbrokerd.
 *
 * A patched measurement daemon calls rb_socket() exactly where it called
 * socket(2) and keeps running without CAP_NET_RAW.  See librawbroker(3).
 *
 * Socket path: $RAWBROKER_SOCKET (ignored in set-id programs), else
 * RB_DEFAULT_SOCKET.  The library keeps one connection per process, opened
 * on first use, shared by all threads (calls are serialised) and reopened
 * in a child after fork() and after the process's credentials change
 * (setresuid() and the like).  Nothing is sent to a listener the library
 * does not trust: root, the caller's own user, a uid named in
 * $RAWBROKER_BROKER_UID, or one on a path whose directories no one but
 * their owners can write (librawbroker(3), "Trusting the listener").
 */
#ifndef RAWBROKER_H
#define RAWBROKER_H

#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RB_DEFAULT_SOCKET "/run/rawbroker/rawbroker.sock"
#define RB_REASON_LEN 256
#define RB_RULE_LEN 64

/*
 * Like socket(2): a new descriptor, or -1 with errno set.
 * TYPE may include SOCK_NONBLOCK and SOCK_CLOEXEC with their usual meaning.
 *   EACCES        the broker's policy denies it
 *   EAGAIN        rate limited; try again later
 *   EINVAL        a request the broker never serves (e.g. AF_PACKET,
 *                 IPPROTO_RAW, SOCK_STREAM)
 *   ENOENT,
 *   ECONNREFUSED  no broker listens at the socket path
 *   ETIMEDOUT     the broker did not answer in time
 *   EPROTO        the broker answered something this library cannot use
 *   EPERM         the listener at the socket path is not trusted; nothing
 *                 was sent to it
 *   other         what socket(2) or bind(2) in the broker returned
 */
int rb_socket(int domain, int type, int protocol);

/* A request with everything the broker can be asked. */
struct rb_request {
	int domain;
	int type; /* may include SOCK_NONBLOCK | SOCK_CLOEXEC */
	int protocol;
	const struct sockaddr *source; /* NULL: no pre-binding; else a
					  sockaddr_in/_in6 to bind() to */
	socklen_t source_len;
};

/* What the broker said, grant or not. */
struct rb_result {
	int error;                  /* 0 on success, else the errno returned */
	char reason[RB_REASON_LEN]; /* the broker's one-line reason, or the
				       library's own when the broker was not
				       reached; always NUL-terminated */
	char rule[RB_RULE_LEN];     /* deciding policy rule; "" if none */
};

/*
 * The lower-level call: as rb_socket(), with a source address to pre-bind
 * and the broker's reason text.  RES may be NULL.  Returns the descriptor
 * or -1 with errno (also in RES->error).
 */
int rb_socket_request(const struct rb_request *req, struct rb_result *res);

/*
 * Have the broker set a socket option that the kernel reserves for holders
 * of CAP_NET_RAW (IPV6_HOPOPTS, IPV6_DSTOPTS, level IPPROTO_IPV6) on FD,
 * one of the caller's own IPv6 raw or datagram sockets.  Like
 * setsockopt(2): 0, or -1 with errno:
 *   EACCES  the policy does not let the caller set this option
 *   EINVAL  an option the broker does not set, or a value it refuses (it
 *           sets well-formed headers of padding options only)
 *   other   as rb_socket(), or what setsockopt(2) returned in the broker
 * RES (may be NULL) receives the broker's reason and rule.  A zero-length
 * VALUE clears the option.  A call that changes nothing (clearing an option
 * that is not set, setting the header already set) returns 0 without asking
 * the broker, whatever its policy.
 */
int rb_setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int rb_setsockopt_request(int fd, int level, int name, const void *value, socklen_t len,
			  struct rb_result *res);

/* Close this process's kept connection; the next call opens a new one. */
void rb_disconnect(void);

#ifdef __cplusplus
}
#endif

#endif /* RAWBROKER_H */
