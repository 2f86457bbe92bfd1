/* SPDX-License-Identifier: MIT */
/*
 * peerindex.c - see peerindex.h.
 *
 * Part of the policy library, since it reads the parsed policy's match
 * lines (policy_impl.h), which the public policy API does not list, and
 * asks eval.c's own test whether a rule fits (rb_rule_fits()).
 */
#include "peerindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_impl.h"

static struct {
	gid_t *gids; /* sorted, unique */
	size_t n;
	bool valid;  /* false until the first load: keep every group */
	uint32_t generation;
	bool has_extra;
	gid_t extra;   /* --admin-group: kept though no rule names it */
} ix;

void peer_index_keep(gid_t gid)
{
	ix.has_extra = true;
	ix.extra = gid;
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

int peer_index_load(const struct rb_policy *p)
{
	size_t n = 0, k = 0;
	gid_t *g;

	for (size_t i = 0; i < p->nrules; i++)
		for (size_t m = 0; m < p->rules[i].nmatch; m++)
			if (p->rules[i].match[m].kind == RB_MATCH_GID)
				n += p->rules[i].match[m].n;
	g = malloc((n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t m = 0; m < p->rules[i].nmatch; m++) {
			const struct rb_match *mt = &p->rules[i].match[m];

			if (mt->kind != RB_MATCH_GID)
				continue;
			for (size_t v = 0; v < mt->n; v++)
				g[k++] = (gid_t)mt->ids[v];
		}
	if (ix.has_extra)
		g[k++] = ix.extra;
	qsort(g, k, sizeof(*g), cmp_gid);
	n = 0;
	for (size_t i = 0; i < k; i++)
		if (n == 0 || g[n - 1] != g[i])
			g[n++] = g[i];
	free(ix.gids);
	ix.gids = g;
	ix.n = n;
	ix.valid = true;
	ix.generation++;
	return 0;
}

uint32_t peer_index_generation(void)
{
	return ix.generation;
}

bool peer_index_wants_groups(void)
{
	return !ix.valid || ix.n > 0;
}

size_t peer_index_filter(gid_t *groups, size_t n)
{
	size_t kept = 0;

	if (!ix.valid)
		return n;
	for (size_t i = 0; i < n; i++)
		if (ix.n && bsearch(&groups[i], ix.gids, ix.n, sizeof(gid_t), cmp_gid))
			groups[kept++] = groups[i];
	return kept;
}

bool peer_index_fits_any(const struct rb_policy *p, const struct rb_peer *peer)
{
	for (size_t i = 0; p && i < p->nrules; i++)
		if (rb_rule_fits(&p->rules[i], peer))
			return true;
	return false;
}
