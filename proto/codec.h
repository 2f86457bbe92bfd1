/* SPDX-License-Identifier: MIT */
/*
 * codec.h - encode and decode rawbroker messages (rawbroker.proto) with the
 * checks proto3 cannot express: version, presence of a request kind, field
 * ranges.  Callers bound the input first (rb_frame_recv does).
 *
 * Pure: no logging, no exit; functions return -errno.
 */
#ifndef RAWBROKER_CODEC_H
#define RAWBROKER_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rawbroker.pb-c.h"

#define RB_PROTOCOL_VERSION RAWBROKER__VERSION__VERSION_1
#define RB_REASON_MAX 256 /* longest reason text a reply may carry */
#define RB_RULE_NAME_WIRE_MAX 64
/* A status reply's lists, at most (the rest is counted, not listed), so
 * that it always fits one record: tests/unit checks the worst case. */
#define RB_STATUS_UIDS_MAX 16
#define RB_STATUS_RULES_MAX 16
#define RB_STATUS_POOL_MAX 16
#define RB_STATUS_LIMITS_MAX 8
#define RB_STATUS_PATH_MAX 256 /* policy path, with its NUL */

/*
 * Unpack a request of LEN bytes, then check it.  Returns:
 *   0                 well-formed;
 *   -EBADMSG          not a Request at all (*OUT is NULL);
 *   -EPROTONOSUPPORT  another protocol version (*OUT is set, so the id can
 *                     be echoed in the error reply);
 *   -EINVAL           no or unknown request kind, a field this version does
 *                     not know, or a field out of range (*OUT is set).
 * Whenever *OUT is set the caller frees it with rb_request_free().
 */
int rb_request_decode(const uint8_t *buf, size_t len, Rawbroker__Request **out);
void rb_request_free(Rawbroker__Request *req);

/* As rb_request_decode() for replies: -EBADMSG, -EPROTONOSUPPORT, -EINVAL
 * (status unknown, reason or rule too long).  Free with rb_reply_free(). */
int rb_reply_decode(const uint8_t *buf, size_t len, Rawbroker__Reply **out);
void rb_reply_free(Rawbroker__Reply *rep);

/* Pack into BUF; returns the length or -EMSGSIZE when it exceeds CAP. */
ssize_t rb_request_encode(const Rawbroker__Request *req, uint8_t *buf, size_t cap);
ssize_t rb_reply_encode(const Rawbroker__Reply *rep, uint8_t *buf, size_t cap);

#endif /* RAWBROKER_CODEC_H */
