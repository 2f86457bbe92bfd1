/* SPDX-License-Identifier: MIT */
/* broker.h - state shared by the broker's event loop and its handlers. */
#ifndef RAWBROKER_BROKER_H
#define RAWBROKER_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "codec.h"
#include "policy.h"

#define CONN_INLINE_GROUPS 32 /* supplementary groups held without malloc */

/* A set_option that passed step 1 and waits for the client's socket. */
struct pending_option {
	int level, name;
	unsigned opt;        /* rb_option bit */
	const char *rule;    /* deciding rule (policy-owned; re-decided on use) */
	size_t len;
	uint8_t value[2048];
};

/* One client connection.  Identity is the kernel's, taken at accept. */
struct conn {
	int fd;
	struct ucred cred;               /* SO_PEERCRED */
	gid_t *groups;                   /* SO_PEERGROUPS: inline_groups or heap */
	size_t ngroups;
	gid_t inline_groups[CONN_INLINE_GROUPS];
	uint64_t requests;
	struct pending_option *pending; /* set_option step 2 expected */
	bool door_opened;               /* SO_PASSRIGHTS was ever enabled */
	struct conn *prev, *next;
};

struct broker_config {
	const char *policy_path;
	const char *socket_path;
	const char *user;       /* NAME or UID:GID, used when started as root */
	mode_t socket_mode;
	gid_t socket_gid;       /* (gid_t)-1: leave the group alone */
	size_t max_conns;
	int ready_fd;           /* -1: none */
};

struct broker {
	const struct broker_config *cfg;
	struct rb_policy *policy;
	int listen_fd, epfd, sigfd;
	struct conn *conns;
	size_t nconns;
	bool accept_paused; /* out of descriptors: listener not watched */
	bool stop;
};

/* A reply being built by a handler. */
struct reply {
	Rawbroker__Status status;
	int error;            /* errno for STATUS_FAILED */
	char reason[RB_REASON_MAX];
	const char *rule;     /* deciding rule or NULL */
	int fd;               /* attached when status is OK, else -1 */
	bool want_descriptor; /* set_option step 1 passed */
};

/* dispatch.c: answer one well-formed request, which came with descriptor
 * FD_IN (-1: none; the handler owns it).  Fills REP; never fails the
 * broker.  A false return means: reply, then drop the connection. */
bool dispatch_request(struct broker *b, struct conn *c, const Rawbroker__Request *req,
		      int fd_in, struct reply *rep);

/* server.c: whether the kernel lets this client send us a descriptor
 * (SO_PASSRIGHTS, Linux 6.16; older kernels always do). */
void conn_accept_descriptor(struct conn *c, bool yes);

/* server.c */
int server_listen(const struct broker_config *cfg);
int server_run(struct broker *b);
void server_shutdown(struct broker *b);

/* closer.c: closes of client connections and client-sent descriptors,
 * on a thread of their own (a close can block). */
void closer_start(void);
void closer_release(int fd);

/* privdrop.c */
void priv_drop(const char *user);

#endif /* RAWBROKER_BROKER_H */
