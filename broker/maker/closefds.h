/* SPDX-License-Identifier: MIT */
/*
 * closefds.h - close a set of descriptors with one close_range() per run of
 * consecutive numbers.  Used where sockets are closed in batches: the
 * maker's copies of a batch it sent, the front's granted sockets (closer.c).
 * Sockets made one after another mostly have consecutive numbers, so this
 * saves about a system call a socket.  A run [first, last] holds only
 * descriptors of FDS: no other descriptor can have a number inside it.
 */
#ifndef RAWBROKER_MAKER_CLOSEFDS_H
#define RAWBROKER_MAKER_CLOSEFDS_H

#include <unistd.h>

/* Close the N descriptors of FDS (reordered: sorted), which must all be
 * open and distinct (a number twice would be closed twice). */
static inline void rb_close_fds(int *fds, unsigned n)
{
	for (unsigned i = 1; i < n; i++) /* insertion sort: N is a batch, <= 64 */
		for (unsigned j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];

			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (unsigned i = 0; i < n;) {
		unsigned end = i;

		while (end + 1 < n && fds[end + 1] == fds[end] + 1)
			end++;
		if (end == i || close_range((unsigned)fds[i], (unsigned)fds[end], 0) < 0)
			for (unsigned k = i; k <= end; k++)
				close(fds[k]);
		i = end + 1;
	}
}

#endif
