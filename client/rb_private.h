/* SPDX-License-Identifier: MIT */
/*
 * rb_private.h - what rawbroker.c shares with the preload shim and nothing
 * else: hidden symbols (CMAKE_C_VISIBILITY_PRESET hidden, not in
 * librawbroker.map or preload.map), never part of the API.
 */
#ifndef RAWBROKER_PRIVATE_H
#define RAWBROKER_PRIVATE_H

#include <stdbool.h>
#include <sys/socket.h>

/* Is the privileged option (LEVEL, NAME) on FD already VALUE (LEN bytes;
 * 0: not set)?  Then setting it is a no-op in the kernel.  One
 * getsockopt(); false for anything but IPV6_HOPOPTS/IPV6_DSTOPTS. */
bool rb_option_already(int fd, int level, int name, const void *value, socklen_t len);

#endif /* RAWBROKER_PRIVATE_H */
