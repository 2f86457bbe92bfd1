/* SPDX-License-Identifier: MIT */
/*
 * uidlimits.c - per-uid connection counts and grant rates; see uidlimits.h.
 *
 * The bucket is kept as GCRA (the "generic cell rate algorithm", a token
 * bucket in one number): TAT, the time at which the bucket would be full
 * again.  A grant costs one emission interval T = 1 s / rate; it may go
 * ahead while TAT is at most (burst - 1) * T in the future.  TAT <= now is
 * a full bucket, which is why such an entry can be dropped losing nothing.
 */
#include "uidlimits.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define NBUCKETS 256 /* hash heads; chains stay short for any real uid count */

struct uid_entry {
	uid_t uid;
	uint32_t nconns;
	int64_t tat_ns;                     /* bucket full again at; 0: full */
	struct uid_entry *hnext;            /* hash chain */
	struct uid_entry *iprev, *inext;    /* idle list (nconns == 0), oldest first */
};

static struct uid_entry *table[NBUCKETS];
static struct {
	struct uid_entry *head, *tail;
	size_t n;
} idle;
static size_t nentries;
static size_t unmatched; /* connections opened by limits_conn_open_unmatched */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned slot(uid_t uid)
{
	uint32_t h = (uint32_t)uid * 2654435761u; /* Knuth's multiplicative hash */

	return h >> 24;
}

static struct uid_entry **find(uid_t uid)
{
	struct uid_entry **pp = &table[slot(uid)];

	while (*pp && (*pp)->uid != uid)
		pp = &(*pp)->hnext;
	return pp;
}

static void idle_unlink(struct uid_entry *e)
{
	if (e->iprev)
		e->iprev->inext = e->inext;
	else
		idle.head = e->inext;
	if (e->inext)
		e->inext->iprev = e->iprev;
	else
		idle.tail = e->iprev;
	e->iprev = e->inext = NULL;
	idle.n--;
}

static void entry_free(struct uid_entry *e)
{
	struct uid_entry **pp = find(e->uid);

	*pp = e->hnext;
	free(e);
	nentries--;
}

int limits_conn_open(uid_t uid, uint32_t cap, struct uid_entry **out)
{
	struct uid_entry **pp = find(uid), *e = *pp;

	if (e && cap && e->nconns >= cap)
		return -EUSERS;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->uid = uid;
		*pp = e;
		nentries++;
	} else if (e->nconns == 0) {
		idle_unlink(e);
	}
	e->nconns++;
	*out = e;
	return 0;
}

void limits_conn_close(struct uid_entry *e)
{
	int64_t now;

	if (!e || --e->nconns > 0)
		return;
	now = now_ns();
	if (e->tat_ns <= now) { /* full bucket: nothing worth keeping */
		entry_free(e);
	} else {
		e->iprev = idle.tail;
		if (idle.tail)
			idle.tail->inext = e;
		else
			idle.head = e;
		idle.tail = e;
		idle.n++;
	}
	/* The oldest idle entry goes when over the cap, or once its bucket
	 * is full: one step per close keeps the list trimmed. */
	if (idle.head && (idle.n > LIMITS_IDLE_MAX || idle.head->tat_ns <= now)) {
		struct uid_entry *old = idle.head;

		idle_unlink(old);
		entry_free(old);
	}
}

int limits_conn_open_unmatched(uid_t uid, uint32_t cap, uint32_t total,
			       struct uid_entry **out)
{
	int r;

	if (unmatched >= total)
		return -ENOSPC;
	r = limits_conn_open(uid, cap, out);
	if (r == 0)
		unmatched++;
	return r;
}

void limits_conn_close_unmatched(struct uid_entry *e)
{
	if (!e)
		return;
	unmatched--;
	limits_conn_close(e);
}

size_t limits_unmatched(void)
{
	return unmatched;
}

bool limits_take_grant(struct uid_entry *e, const struct rb_limits *limits)
{
	int64_t now, t, tau, tat;

	if (!e || limits->rate == 0)
		return true;
	now = now_ns();
	t = 1000000000 / (int64_t)limits->rate;
	if (t == 0)
		return true; /* over a billion a second: unlimited in effect */
	tau = t * ((int64_t)(limits->burst ? limits->burst : 1) - 1);
	tat = e->tat_ns > now ? e->tat_ns : now;
	if (tat - now > tau)
		return false;
	e->tat_ns = tat + t;
	return true;
}

void limits_refund_grant(struct uid_entry *e, const struct rb_limits *limits)
{
	int64_t t;

	if (!e || limits->rate == 0)
		return;
	t = 1000000000 / (int64_t)limits->rate;
	e->tat_ns = e->tat_ns > t ? e->tat_ns - t : 0;
}

size_t limits_entries(void)
{
	return nentries;
}
