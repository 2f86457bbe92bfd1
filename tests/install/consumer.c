/* SPDX-License-Identifier: MIT */
/* consumer.c - a program built only from what `cmake --install` puts down,
 * via pkg-config.  With no broker at $RAWBROKER_SOCKET, rb_socket() must
 * fail with ENOENT and a reason. */
#include <errno.h>
#include <netinet/in.h>
#include <rawbroker.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct rb_request rq = { .domain = AF_INET, .type = SOCK_RAW, .protocol = IPPROTO_ICMP };
	struct rb_result res;
	int fd = rb_socket_request(&rq, &res);

	printf("rb_socket_request: fd %d, %s (%s)\n", fd, strerror(errno), res.reason);
	return fd < 0 && errno == ENOENT && res.error == ENOENT && res.reason[0] ? 0 : 1;
}
