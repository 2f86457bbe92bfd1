/* SPDX-License-Identifier: MIT */
/*
 * served.h - the socket tuples rawbroker ever makes, whatever a policy
 * says: raw ICMP (inet), raw ICMPv6 (inet6), ICMP datagram ("ping")
 * sockets of either family, and raw UDP and TCP of either (those only
 * where a rule names them: mtr-packet's IPv6 probes need raw UDP, RIPE
 * Atlas TCP traceroutes raw TCP).  IPPROTO_RAW, AF_PACKET and everything
 * else stay out.  The front refuses other tuples before asking the policy;
 * the maker refuses a class outside this list, and its seccomp filter pins
 * its socket() calls to the classes it learnt.
 */
#ifndef RAWBROKER_MAKER_SERVED_H
#define RAWBROKER_MAKER_SERVED_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

static const struct {
	int family, type, protocol;
} rb_served[] = {
	{ AF_INET, SOCK_RAW, IPPROTO_ICMP },
	{ AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
	{ AF_INET, SOCK_DGRAM, IPPROTO_ICMP },
	{ AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6 },
	{ AF_INET, SOCK_RAW, IPPROTO_UDP },
	{ AF_INET6, SOCK_RAW, IPPROTO_UDP },
	{ AF_INET, SOCK_RAW, IPPROTO_TCP },
	{ AF_INET6, SOCK_RAW, IPPROTO_TCP },
};

static inline bool rb_is_served(int family, int type, int protocol)
{
	for (unsigned i = 0; i < sizeof(rb_served) / sizeof(rb_served[0]); i++)
		if (rb_served[i].family == family && rb_served[i].type == type &&
		    rb_served[i].protocol == protocol)
			return true;
	return false;
}

#endif /* RAWBROKER_MAKER_SERVED_H */
