/* SPDX-License-Identifier: MIT */
/*
 * exthdr.c - what an IPv6 hop-by-hop or destination options header must be
 * for the broker to set it on a client's socket (IPV6_HOPOPTS,
 * IPV6_DSTOPTS; RFC 8200 4.2): 8-byte units up to the kernel's 2040, the
 * length byte consistent, and only padding options (Pad1, PadN) whose data
 * is zero, which is what measurements of extension-header handling send.
 * Anything else (router alert, jumbo payload, types a router must act on,
 * data smuggled in padding) is not set for clients.  Padding runs longer
 * than 7 bytes are allowed on purpose: probes send larger headers to see
 * which paths drop them (Linux receivers accept them).
 *
 * The maker checks every header with this before it sets one, whatever the
 * front said; the front checks too, so a bad header costs no round trip.
 */
#include <stddef.h>
#include <stdint.h>

#include "maker.h"
#include "record.h"

const char *mk_ext_header_invalid(const uint8_t *v, size_t len)
{
	size_t off = 2;

	if (len == 0)
		return NULL; /* clears the option */
	if (len < 8 || len % 8 != 0 || len > MK_VALUE_MAX)
		return "an options header is a multiple of 8 bytes, at most 2040";
	if (len != ((size_t)v[1] + 1) * 8)
		return "the header's length byte does not match its size";
	while (off < len) {
		if (v[off] == 0) { /* Pad1 */
			off++;
			continue;
		}
		if (v[off] != 1)
			return "only padding options (Pad1, PadN) are set for clients";
		if (off + 2 > len || off + 2 + v[off + 1] > len)
			return "an option runs past the end of the header";
		for (size_t i = 0; i < v[off + 1]; i++)
			if (v[off + 2 + i] != 0)
				return "padding must be zero";
		off += 2 + (size_t)v[off + 1];
	}
	return NULL;
}

