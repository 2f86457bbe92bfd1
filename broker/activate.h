/* SPDX-License-Identifier: MIT */
/* activate.h - socket activation: the listener handed in as descriptor 3. */
#ifndef RAWBROKER_ACTIVATE_H
#define RAWBROKER_ACTIVATE_H

#include <stdbool.h>

/* The activated listener (descriptor 3), or -ENOENT when LISTEN_PID and
 * LISTEN_FDS do not name us (not activated: bind our own).  fatal() when
 * they do but it is not a listening unix SOCK_SEQPACKET socket. */
int activate_listener(void);

/* Its path once activated ("" for an abstract or unnamed one), else NULL. */
const char *activated_path(void);

#endif /* RAWBROKER_ACTIVATE_H */
