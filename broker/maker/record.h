/* SPDX-License-Identifier: MIT */
/*
 * record.h - what the front and the socket maker say to each other over
 * their one socketpair (SOCK_SEQPACKET): fixed-size, versioned records.
 *
 * Every request is exactly sizeof(struct mk_request) bytes and every reply
 * exactly sizeof(struct mk_reply); a record of any other length, another
 * version, an unknown kind or unexpected control data is refused.  Only
 * MK_SETOPT carries a descriptor (the client's socket); only a MK_MAKE
 * reply carries descriptors back (the new sockets, up to MK_BATCH_MAX).
 *
 * The order is fixed: MK_CLASS records (the table of what the maker may
 * ever make), one MK_SEAL (the maker then drops to its final state and
 * answers), then MK_MAKE and MK_SETOPT in any number.  A class record after
 * the seal is refused: the table is learnt once, before the front has read
 * a byte from any client.
 */
#ifndef RAWBROKER_MAKER_RECORD_H
#define RAWBROKER_MAKER_RECORD_H

#include <stdint.h>

#define MK_VERSION 1
#define MK_CLASSES_MAX 64  /* classes in the table */
#define MK_BATCH_MAX 64    /* sockets in one MK_MAKE reply (SCM_RIGHTS takes 253) */
#define MK_VALUE_MAX 2040  /* largest IPv6 options header (RFC 8200: 8 * 255) */

enum mk_kind {
	MK_CLASS = 1, /* one class: family, type, protocol, mark */
	MK_SEAL = 2,  /* the table is complete */
	MK_MAKE = 3,  /* COUNT new sockets of class CLS */
	MK_SETOPT = 4 /* LEVEL/NAME = VALUE[LEN] on the attached socket */
};

struct mk_request {
	uint32_t version; /* MK_VERSION */
	uint32_t kind;    /* enum mk_kind */
	uint64_t id;      /* echoed in the reply */
	/* MK_CLASS */
	int32_t family, type, protocol;
	uint32_t has_mark, mark;
	/* MK_MAKE */
	uint32_t cls, count;
	/* MK_SETOPT */
	int32_t level, name;
	uint32_t len;
	uint8_t value[MK_VALUE_MAX];
};

struct mk_reply {
	uint32_t version; /* MK_VERSION */
	uint32_t kind;    /* the request's */
	uint64_t id;      /* the request's */
	int32_t err;      /* 0, or an errno saying why not */
	uint32_t nfds;    /* MK_MAKE: sockets attached, in class order */
};

_Static_assert(sizeof(struct mk_request) == 2096, "mk_request has a fixed size");
_Static_assert(sizeof(struct mk_reply) == 24, "mk_reply has a fixed size");

#endif /* RAWBROKER_MAKER_RECORD_H */
