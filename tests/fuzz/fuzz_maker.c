/* SPDX-License-Identifier: MIT */
/*
 * fuzz_maker.c - libFuzzer target for the socket maker's record checks
 * (broker/maker/check.c, mk_request_check(), over exthdr.c's header
 * validator): what a compromised front can make the maker's loop accept.
 *
 * Input: byte 0 the receive state (bit 0: sealed; bits 1-2: descriptors
 * received, 0 to 3), byte 1 the classes in the table (mod MK_CLASSES_MAX
 * + 2, so a full table too), bytes 2-3 the length received (little
 * endian; 0: exactly a record, else the value - 1: short or long ones),
 * then the record's bytes, copied into a zeroed struct mk_request (the
 * rest stays zero).  So the fields the checks read sit in the first
 * bytes, where mutations find them, and seeds stay small.
 *
 * Besides "no crash, no UB" it checks the contract: the result is 0 or one
 * of the four errnos; what is accepted has the exact length and version
 * and a kind allowed in that state; before the seal only MK_CLASS (a
 * served.h tuple, a sane mark, room in the table) and MK_SEAL, with no
 * descriptor; after it only MK_MAKE (index in the table, 1..MK_BATCH_MAX)
 * and MK_SETOPT with exactly one descriptor, one of the two options and a
 * header that a second, independent validator (below) also finds to be
 * padding only.  The independent validator must agree with exthdr.c on
 * every header, accepted or not.
 *
 * Built and run by run-fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "maker.h"
#include "record.h"

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_maker: check failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* RFC 8200 4.2, written again from the RFC and not from exthdr.c: a whole
 * number of 8-byte units up to 2040 whose length byte matches, then
 * options that are Pad1 (one zero byte) or PadN (type 1, a length, that
 * many zero bytes), exactly filling the header after its first two bytes.
 * Empty is allowed: it clears the option. */
static bool padding_only(const uint8_t *v, size_t len)
{
	size_t i;

	if (len == 0)
		return true;
	if (len % 8 || len > 2040 || v[1] != len / 8 - 1)
		return false;
	i = 2;
	while (i < len) {
		size_t n;

		switch (v[i]) {
		case 0:
			i += 1;
			break;
		case 1:
			if (len - i < 2)
				return false;
			n = v[i + 1];
			if (len - i - 2 < n)
				return false;
			for (size_t k = 0; k < n; k++)
				if (v[i + 2 + k])
					return false;
			i += 2 + n;
			break;
		default:
			return false;
		}
	}
	return i == len;
}

static bool served(int family, int type, int protocol)
{
	bool raw = type == SOCK_RAW, dgram = type == SOCK_DGRAM;

	if (family == AF_INET)
		return (protocol == IPPROTO_ICMP && (raw || dgram)) ||
		       (raw && (protocol == IPPROTO_UDP || protocol == IPPROTO_TCP));
	if (family == AF_INET6)
		return (protocol == IPPROTO_ICMPV6 && (raw || dgram)) ||
		       (raw && (protocol == IPPROTO_UDP || protocol == IPPROTO_TCP));
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mk_request rq;
	bool sealed;
	unsigned nfds, nclasses;
	size_t len;
	int r;

	if (size < 4)
		return 0;
	sealed = data[0] & 1;
	nfds = (data[0] >> 1) & 3;
	nclasses = data[1] % (MK_CLASSES_MAX + 2);
	len = (size_t)(data[2] | data[3] << 8);
	len = len ? len - 1 : sizeof(rq);
	data += 4;
	size -= 4;
	memset(&rq, 0, sizeof(rq));
	memcpy(&rq, data, size < sizeof(rq) ? size : sizeof(rq));

	/* The header validators agree, whatever the record says. */
	{
		size_t hl = rq.len <= MK_VALUE_MAX ? rq.len : MK_VALUE_MAX;

		CHECK((mk_ext_header_invalid(rq.value, hl) == NULL) == padding_only(rq.value, hl));
	}

	r = mk_request_check(&rq, len, nfds, sealed, nclasses);
	CHECK(r == 0 || r == -EMSGSIZE || r == -EPROTONOSUPPORT || r == -EPROTO ||
	      r == -EINVAL);
	if (r == -EMSGSIZE)
		CHECK(len != sizeof(rq));
	if (r == -EPROTONOSUPPORT)
		CHECK(rq.version != MK_VERSION);
	if (r == -EPROTO)
		CHECK(nfds > 0);
	/* A descriptor is refused first, whatever else is wrong, except on a
	 * record that may carry one. */
	if (nfds > 1 || (nfds == 1 && !sealed))
		CHECK(r == -EPROTO);
	if (r != 0)
		return 0;

	CHECK(len == sizeof(rq));
	CHECK(rq.version == MK_VERSION);
	if (!sealed) {
		CHECK(nfds == 0);
		CHECK(rq.kind == MK_CLASS || rq.kind == MK_SEAL);
		if (rq.kind == MK_CLASS) {
			CHECK(nclasses < MK_CLASSES_MAX);
			CHECK(served(rq.family, rq.type, rq.protocol));
			CHECK(rq.has_mark == 0 || rq.has_mark == 1);
			CHECK(rq.has_mark || rq.mark == 0);
		}
		return 0;
	}
	CHECK(rq.kind == MK_MAKE || rq.kind == MK_SETOPT);
	if (rq.kind == MK_MAKE) {
		CHECK(nfds == 0);
		CHECK(rq.cls < nclasses);
		CHECK(rq.count >= 1 && rq.count <= MK_BATCH_MAX);
	} else {
		CHECK(nfds == 1);
		CHECK(rq.level == IPPROTO_IPV6);
		CHECK(rq.name == IPV6_HOPOPTS || rq.name == IPV6_DSTOPTS);
		CHECK(rq.len <= MK_VALUE_MAX);
		CHECK(padding_only(rq.value, rq.len));
	}
	return 0;
}
