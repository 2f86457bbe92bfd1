/* SPDX-License-Identifier: MIT */
/*
 * fuzz_request.c - libFuzzer target for the request decoder
 * (proto/codec.c over the generated protobuf-c code): the bytes of one
 * record as rb_frame_recv() hands them to the broker.
 *
 * Besides "no crash, no leak, no UB" it checks the codec.h contract: the
 * return code says whether *OUT is set; what decodes with 0 meets the range
 * checks; and it round-trips: encode, decode again (0 again, same fields),
 * encode again (same bytes).  The same bytes also go through the reply
 * decoder, the client's side of the codec.
 *
 * Built and run by run-fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "frame.h"

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz_request: check failed: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                     \
			abort();                                                \
		}                                                               \
	} while (0)

static bool same_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* What rb_request_decode() promises about a request it returned 0 for. */
static void check_valid_request(const Rawbroker__Request *req)
{
	CHECK(req->version == RB_PROTOCOL_VERSION);
	switch (req->kind_case) {
	case RAWBROKER__REQUEST__KIND_SOCKET:
		CHECK(req->socket != NULL);
		CHECK(req->socket->source.len == 0 || req->socket->source.len == 4 ||
		      req->socket->source.len == 16);
		CHECK(req->socket->source.len == 0 || req->socket->source.data != NULL);
		break;
	case RAWBROKER__REQUEST__KIND_SET_OPTION:
		CHECK(req->set_option != NULL);
		CHECK(req->set_option->value.len <= 2048);
		CHECK(req->set_option->value.len == 0 || req->set_option->value.data != NULL);
		break;
	case RAWBROKER__REQUEST__KIND_DESCRIPTOR:
		CHECK(req->descriptor != NULL);
		break;
	case RAWBROKER__REQUEST__KIND_STATUS:
		CHECK(req->status != NULL);
		break;
	default:
		CHECK(0 && "decoded 0 with no or an unknown request kind");
	}
}

static void check_same_request(const Rawbroker__Request *a, const Rawbroker__Request *b)
{
	CHECK(a->version == b->version);
	CHECK(a->id == b->id);
	CHECK(a->kind_case == b->kind_case);
	switch (a->kind_case) {
	case RAWBROKER__REQUEST__KIND_SOCKET:
		CHECK(a->socket->family == b->socket->family);
		CHECK(a->socket->type == b->socket->type);
		CHECK(a->socket->protocol == b->socket->protocol);
		CHECK(!a->socket->nonblock == !b->socket->nonblock);
		CHECK(same_bytes(&a->socket->source, &b->socket->source));
		break;
	case RAWBROKER__REQUEST__KIND_SET_OPTION:
		CHECK(a->set_option->level == b->set_option->level);
		CHECK(a->set_option->name == b->set_option->name);
		CHECK(same_bytes(&a->set_option->value, &b->set_option->value));
		break;
	default:
		break;
	}
}

/* Encode a request that decoded with 0, decode it again, encode again. */
static void round_trip_request(const Rawbroker__Request *req)
{
	static uint8_t enc1[2 * RB_FRAME_MAX], enc2[2 * RB_FRAME_MAX];
	size_t want = rawbroker__request__get_packed_size(req);
	Rawbroker__Request *again = NULL;
	ssize_t n1, n2;

	n1 = rb_request_encode(req, enc1, sizeof(enc1));
	if (want > RB_FRAME_MAX) {
		/* Possible: protobuf-c re-encodes a negative int32 in 10 bytes
		 * even when it arrived in 5.  Refused, not truncated. */
		CHECK(n1 == -EMSGSIZE);
		return;
	}
	CHECK(n1 > 0 && (size_t)n1 == want);
	if (n1 > 1)
		CHECK(rb_request_encode(req, enc2, (size_t)n1 - 1) == -EMSGSIZE);

	CHECK(rb_request_decode(enc1, (size_t)n1, &again) == 0);
	CHECK(again != NULL);
	check_valid_request(again);
	check_same_request(req, again);

	n2 = rb_request_encode(again, enc2, sizeof(enc2));
	CHECK(n2 == n1);
	CHECK(memcmp(enc1, enc2, (size_t)n1) == 0);
	rb_request_free(again);
}

static void fuzz_request(const uint8_t *data, size_t size)
{
	Rawbroker__Request *req = (Rawbroker__Request *)1;
	int r = rb_request_decode(data, size, &req);

	CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EINVAL);
	CHECK((r == -EBADMSG) == (req == NULL));
	if (r == -EPROTONOSUPPORT)
		CHECK(req->version != RB_PROTOCOL_VERSION);
	if (r == 0) {
		check_valid_request(req);
		round_trip_request(req);
	}
	rb_request_free(req);
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	static uint8_t enc[2 * RB_FRAME_MAX];
	Rawbroker__Reply *rep = (Rawbroker__Reply *)1, *again = NULL;
	int r = rb_reply_decode(data, size, &rep);
	ssize_t n;

	CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EINVAL);
	CHECK((r == -EBADMSG) == (rep == NULL));
	if (r == 0) {
		CHECK(rep->reason != NULL && strlen(rep->reason) < RB_REASON_MAX);
		CHECK(rep->rule != NULL && strlen(rep->rule) < RB_RULE_NAME_WIRE_MAX);
		if (rep->broker_status) {
			const Rawbroker__BrokerStatus *st = rep->broker_status;

			CHECK(st->n_uids <= RB_STATUS_UIDS_MAX && st->n_rules <= RB_STATUS_RULES_MAX &&
			      st->n_pool <= RB_STATUS_POOL_MAX &&
			      st->n_limits <= RB_STATUS_LIMITS_MAX);
			CHECK(strlen(st->policy_path) < RB_STATUS_PATH_MAX);
			for (size_t i = 0; i < st->n_rules; i++)
				CHECK(strlen(st->rules[i]->rule) < RB_RULE_NAME_WIRE_MAX);
		}
		n = rb_reply_encode(rep, enc, sizeof(enc));
		if (n != -EMSGSIZE) {
			CHECK(n > 0);
			CHECK(rb_reply_decode(enc, (size_t)n, &again) == 0);
			CHECK(again->id == rep->id && again->status == rep->status &&
			      again->error == rep->error &&
			      !again->want_descriptor == !rep->want_descriptor &&
			      strcmp(again->reason, rep->reason) == 0 &&
			      strcmp(again->rule, rep->rule) == 0);
			rb_reply_free(again);
		}
	}
	rb_reply_free(rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_reply(data, size);
	return 0;
}
