/* SPDX-License-Identifier: MIT */
/* procstatus.c - see procstatus.h.  The task names nothing here but its
 * own Name (comm), which the kernel escapes (no newline can start a line
 * of its choosing); every other byte is the kernel's. */
#include "procstatus.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum { S_KEY, S_VALUE, S_SKIP };

void proc_status_init(struct proc_status *s, gid_t *groups, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->groups = groups;
	s->max = max;
}

/* One number of the current line is complete. */
static int number_done(struct proc_status *s)
{
	if (s->num > UINT32_MAX - 1)
		return -ERANGE; /* (uid_t)-1 is no one */
	if (s->which == 'U' && s->field == 1) {
		s->uid = (uid_t)s->num;
		s->has_uid = true;
	} else if (s->which == 'G' && s->field == 1) {
		s->gid = (gid_t)s->num;
		s->has_gid = true;
	} else if (s->which == 'g') {
		if (s->ngroups >= s->max)
			return -E2BIG;
		s->groups[s->ngroups++] = (gid_t)s->num;
	}
	s->field++;
	s->num = 0;
	s->in_num = false;
	return 0;
}

int proc_status_feed(struct proc_status *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (s->state == S_KEY) {
			if (c == ':') {
				s->key[s->keylen] = '\0';
				s->which = !strcmp(s->key, "Uid")      ? 'U'
					   : !strcmp(s->key, "Gid")    ? 'G'
					   : !strcmp(s->key, "Groups") ? 'g' : 0;
				s->state = s->which ? S_VALUE : S_SKIP;
				s->field = 0;
				s->num = 0;
				s->in_num = false;
			} else if (c == '\n') {
				s->keylen = 0;
			} else if (s->keylen + 1 < sizeof(s->key)) {
				s->key[s->keylen++] = c;
			} else {
				s->state = S_SKIP;
			}
			continue;
		}
		if (s->state == S_VALUE) {
			if (c >= '0' && c <= '9') {
				s->num = s->num * 10 + (uint64_t)(c - '0');
				if (s->num > UINT32_MAX)
					return -ERANGE;
				s->in_num = true;
				continue;
			}
			if (s->in_num) {
				int r = number_done(s);

				if (r < 0)
					return r;
			}
			if (c != ' ' && c != '\t' && c != '\n')
				return -EPROTO;
		}
		if (c == '\n') {
			if (s->state == S_VALUE && s->which == 'g')
				s->has_groups = true;
			s->state = S_KEY;
			s->keylen = 0;
		}
	}
	return 0;
}

int proc_status_done(const struct proc_status *s)
{
	return s->has_uid && s->has_gid ? 0 : -EPROTO;
}

int proc_overflow_parse(const char *p, size_t n, uint32_t *id)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9') {
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
		i++;
	}
	if (i == 0 || (i < n && !(p[i] == '\n' && i + 1 == n)))
		return -EPROTO;
	*id = (uint32_t)v;
	return 0;
}

const char *proc_status_unmapped(const struct proc_status *s, const struct proc_overflow *o)
{
	if (s->uid == o->uid)
		return "its uid reads as the kernel's overflowuid: it has no mapping in the "
		       "broker's user namespace, so who it is cannot be told";
	if (s->gid == o->gid)
		return "its gid reads as the kernel's overflowgid: it has no mapping in the "
		       "broker's user namespace, so who it is cannot be told";
	return NULL;
}

int proc_status_read(int fd, struct proc_status *s, gid_t *groups, size_t max)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	int r;

	proc_status_init(s, groups, max);
	/* Status has Uid and Gid before Groups: once that line is complete,
	 * a read less is a system call less per grant. */
	while (!s->has_groups && (n = pread(fd, buf, sizeof(buf), (off_t)total)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		total += (size_t)n;
		if (total > PROC_STATUS_MAX)
			return -EFBIG;
		r = proc_status_feed(s, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return proc_status_done(s);
}
