/* SPDX-License-Identifier: MIT */
/*
 * notify.h - systemd's readiness protocol (sd_notify(3), Type=notify)
 * without libsystemd: one datagram "READY=1\nSTATUS=..." to the AF_UNIX
 * socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace).
 */
#ifndef RAWBROKER_NOTIFY_H
#define RAWBROKER_NOTIFY_H

#include <stddef.h>

/*
 * Read and unset $NOTIFY_SOCKET (a supervised command must not inherit
 * it), and make the datagram socket.  Call before the fork of supervisor
 * mode and before the sandbox: afterwards notify_ready() only needs
 * sendmsg(2), which the sandbox allows anyway (no connect, no socket).
 * Nothing to do without $NOTIFY_SOCKET.  0, or -errno (a bad address: the
 * broker serves anyway, and says it could not notify).
 */
int notify_init(void);

/* The broker serves: READY=1 and its counts.  Does nothing without a
 * socket from notify_init(); a send that fails is logged, never fatal. */
void notify_ready(size_t rules, size_t max_conns);

#endif /* RAWBROKER_NOTIFY_H */
