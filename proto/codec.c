/* SPDX-License-Identifier: MIT */
/* codec.c - see codec.h.  Bound, then parse, then check meaning (STYLE.md #3):
 * the frame layer bounded the bytes, protobuf-c parses them, this file checks
 * what proto3 leaves open. */
#include "codec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "frame.h"

/* Fields this version does not know are refused, not carried along: the
 * peer speaks something else (protobuf-c keeps them, even field number 0,
 * which protobuf forbids). */
static bool has_unknown(const ProtobufCMessage *m)
{
	return m && m->n_unknown_fields != 0;
}

static int check_socket_request(const Rawbroker__SocketRequest *s)
{
	/* An address of the wrong size would be read past its end later. */
	if (s->source.len != 0 && s->source.len != 4 && s->source.len != 16)
		return -EINVAL;
	return 0;
}

int rb_request_decode(const uint8_t *buf, size_t len, Rawbroker__Request **out)
{
	Rawbroker__Request *req;

	*out = NULL;
	if (len == 0 || len > RB_FRAME_MAX)
		return -EBADMSG;
	req = rawbroker__request__unpack(NULL, len, buf);
	if (!req)
		return -EBADMSG;
	*out = req;
	if (req->version != RB_PROTOCOL_VERSION)
		return -EPROTONOSUPPORT;
	if (has_unknown(&req->base) ||
	    (req->kind_case == RAWBROKER__REQUEST__KIND_SOCKET && req->socket &&
	     has_unknown(&req->socket->base)) ||
	    (req->kind_case == RAWBROKER__REQUEST__KIND_SET_OPTION && req->set_option &&
	     has_unknown(&req->set_option->base)) ||
	    (req->kind_case == RAWBROKER__REQUEST__KIND_DESCRIPTOR && req->descriptor &&
	     has_unknown(&req->descriptor->base)) ||
	    (req->kind_case == RAWBROKER__REQUEST__KIND_STATUS && req->status &&
	     has_unknown(&req->status->base)))
		return -EINVAL;
	switch (req->kind_case) {
	case RAWBROKER__REQUEST__KIND_SOCKET:
		if (!req->socket)
			return -EINVAL;
		return check_socket_request(req->socket);
	case RAWBROKER__REQUEST__KIND_SET_OPTION:
		/* An IPv6 extension header is at most 2048 bytes. */
		if (!req->set_option || req->set_option->value.len > 2048)
			return -EINVAL;
		return 0;
	case RAWBROKER__REQUEST__KIND_DESCRIPTOR:
		return req->descriptor ? 0 : -EINVAL;
	case RAWBROKER__REQUEST__KIND_STATUS:
		return req->status ? 0 : -EINVAL;
	case RAWBROKER__REQUEST__KIND__NOT_SET:
	case _RAWBROKER__REQUEST__KIND__CASE_IS_INT_SIZE:
		break;
	}
	return -EINVAL; /* no kind, or one this version does not know */
}

void rb_request_free(Rawbroker__Request *req)
{
	if (req)
		rawbroker__request__free_unpacked(req, NULL);
}

static bool str_ok(const char *s, size_t max)
{
	return s && strnlen(s, max) < max;
}

/* A status payload: every list within its bound, every string within its
 * length, no field this version does not know. */
static int check_status(const Rawbroker__BrokerStatus *st)
{
	if (has_unknown(&st->base) || !str_ok(st->version, 64) ||
	    !str_ok(st->policy_path, RB_STATUS_PATH_MAX) ||
	    st->n_uids > RB_STATUS_UIDS_MAX || st->n_rules > RB_STATUS_RULES_MAX ||
	    st->n_pool > RB_STATUS_POOL_MAX || st->n_limits > RB_STATUS_LIMITS_MAX ||
	    (st->maker && has_unknown(&st->maker->base)))
		return -EINVAL;
	for (size_t i = 0; i < st->n_uids; i++)
		if (has_unknown(&st->uids[i]->base))
			return -EINVAL;
	for (size_t i = 0; i < st->n_rules; i++)
		if (has_unknown(&st->rules[i]->base) ||
		    !str_ok(st->rules[i]->rule, RB_RULE_NAME_WIRE_MAX))
			return -EINVAL;
	for (size_t i = 0; i < st->n_pool; i++)
		if (has_unknown(&st->pool[i]->base))
			return -EINVAL;
	for (size_t i = 0; i < st->n_limits; i++)
		if (has_unknown(&st->limits[i]->base) || !str_ok(st->limits[i]->limit, 64))
			return -EINVAL;
	return 0;
}

int rb_reply_decode(const uint8_t *buf, size_t len, Rawbroker__Reply **out)
{
	Rawbroker__Reply *rep;

	*out = NULL;
	if (len == 0 || len > RB_FRAME_MAX)
		return -EBADMSG;
	rep = rawbroker__reply__unpack(NULL, len, buf);
	if (!rep)
		return -EBADMSG;
	*out = rep;
	if (rep->version != RB_PROTOCOL_VERSION)
		return -EPROTONOSUPPORT;
	if (has_unknown(&rep->base))
		return -EINVAL;
	switch (rep->status) {
	case RAWBROKER__STATUS__STATUS_OK:
	case RAWBROKER__STATUS__STATUS_DENIED:
	case RAWBROKER__STATUS__STATUS_RATE_LIMITED:
	case RAWBROKER__STATUS__STATUS_INVALID:
	case RAWBROKER__STATUS__STATUS_FAILED:
	case RAWBROKER__STATUS__STATUS_BAD_VERSION:
		break;
	default:
		return -EINVAL;
	}
	if (strnlen(rep->reason, RB_REASON_MAX) >= RB_REASON_MAX ||
	    strnlen(rep->rule, RB_RULE_NAME_WIRE_MAX) >= RB_RULE_NAME_WIRE_MAX)
		return -EINVAL;
	if (rep->broker_status)
		return check_status(rep->broker_status);
	return 0;
}

void rb_reply_free(Rawbroker__Reply *rep)
{
	if (rep)
		rawbroker__reply__free_unpacked(rep, NULL);
}

ssize_t rb_request_encode(const Rawbroker__Request *req, uint8_t *buf, size_t cap)
{
	size_t n = rawbroker__request__get_packed_size(req);

	if (n > cap || n > RB_FRAME_MAX)
		return -EMSGSIZE;
	return (ssize_t)rawbroker__request__pack(req, buf);
}

ssize_t rb_reply_encode(const Rawbroker__Reply *rep, uint8_t *buf, size_t cap)
{
	size_t n = rawbroker__reply__get_packed_size(rep);

	if (n > cap || n > RB_FRAME_MAX)
		return -EMSGSIZE;
	return (ssize_t)rawbroker__reply__pack(rep, buf);
}
