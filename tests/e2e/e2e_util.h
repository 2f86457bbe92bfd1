/* SPDX-License-Identifier: MIT */
/* e2e_util.h - what the end-to-end test programs share. */
#ifndef RAWBROKER_E2E_UTIL_H
#define RAWBROKER_E2E_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "PROG: FAIL: MSG" on stderr; returns 1, the programs' failure status. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in milliseconds. */
double now_ms(void);

/* The Internet checksum of LEN bytes at P, in network order. */
uint16_t csum(const void *p, size_t len);

/* A connection to $RAWBROKER_SOCKET that bypasses the library, so a test
 * can send what the library never would.  -1 on failure. */
int raw_connect(void);

#endif /* RAWBROKER_E2E_UTIL_H */
