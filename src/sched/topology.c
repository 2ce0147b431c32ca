/* SPDX-License-Identifier: MIT */
/*
 * topology.c — topology-aware placement on a cluster view (HiveD's
 * topologyAwareScheduler), used inside a VC (virtual cells, packing across
 * priorities) and for opportunistic jobs (physical cells, staying away from
 * guaranteed jobs).
 *
 * DESIGN
 * ------
 * A view is a list of "nodes": node-level cells plus top-level cells below
 * node level. HiveD keeps the list between calls and re-sorts it with a
 * stable sort on every call (healthy first, suggested first, more used
 * leaves first, fewer higher-priority leaves first), so ties keep the
 * previous call's order; the leaf indices a job gets depend on it. Sorting
 * the whole list per decision is O(n log n); here every node remembers its
 * key, cells tell their view when a key input changes (usage, health,
 * binding), and a call re-inserts only the nodes whose keys moved: the rest
 * is still sorted, so merging the moved nodes by (key, previous position)
 * gives exactly the stable sort's result in O(n + k log k). A call with an
 * explicit set of allowed nodes changes every key and sorts in full.
 *
 * Pods (ascending sizes) go to nodes greedily (findNodesForPods); inside a
 * node a backtracking search picks the leaves with the lowest common
 * ancestor (findLeafCellsInNode), stopping at the optimum.
 */
#include <stdio.h>
#include <string.h>

#include "sched/internal.h"

#define KEY_BAD (1ull << 63)
#define KEY_UNSUGGESTED (1ull << 62)
#define USED_MAX 0x3fffffffu

int sched__view_init(struct sched *s, struct sched__view *v, struct sched__clist *full, uint8_t top,
                     const int32_t *level_leaves, bool cross)
{
	uint32_t cap = 0;
	for (int l = 1; l <= top; l++)
		cap += full[l].n;
	memset(v, 0, sizeof(*v));
	v->cross = cross;
	v->level_leaves = level_leaves;
	v->levels = top;
	v->order = arena_alloc(&s->arena, (cap ? cap : 1) * sizeof(*v->order));
	if (!v->order)
		return -1;
	int l = 1;
	while (l <= top && !(full[l].n && (full[l].v[0]->flags & SCHED__ABOVE_NODE)))
		l++;
	if (l > top)
		l = top;
	for (; l >= 1; l--) {
		for (uint32_t i = 0; i < full[l].n; i++) {
			struct sched__cell *c = full[l].v[i];
			struct sched__cell *a = c;
			while (!(a->flags & SCHED__ABOVE_NODE) && a->parent)
				a = a->parent;
			if (a->vnode)
				continue;
			struct sched__vnode *n = arena_zalloc(&s->arena, sizeof(*n));
			if (!n)
				return -1;
			n->cell = c;
			n->view = v;
			n->prio_cap = (uint16_t)(c->total < 1002 ? c->total : 1002);
			n->prio = arena_alloc(&s->arena, (n->prio_cap ? n->prio_cap : 1) * sizeof(*n->prio));
			if (!n->prio)
				return -1;
			c->vnode = n;
			v->order[v->n++] = n;
		}
	}
	size_t bytes = (v->n ? v->n : 1) * sizeof(*v->order);
	v->base = arena_alloc(&s->arena, bytes);
	v->dirty = arena_alloc(&s->arena, bytes);
	v->tmp = arena_alloc(&s->arena, bytes);
	if (!v->base || !v->dirty || !v->tmp)
		return -1;
	memcpy(v->base, v->order, v->n * sizeof(*v->order));
	return 0;
}

static int32_t used_from(const struct sched__vnode *n, int p)
{
	int32_t sum = 0;
	for (uint16_t i = 0; i < n->nprio; i++)
		if (n->prio[i].prio >= p)
			sum += n->prio[i].n;
	return sum;
}

static int32_t used_at(const struct sched__vnode *n, int p)
{
	for (uint16_t i = 0; i < n->nprio; i++)
		if (n->prio[i].prio == p)
			return n->prio[i].n;
	return 0;
}

/* The node's health and place among the call's suggested nodes. */
static void node_flags(const struct sched *s, const struct sched__cell *c, bool *healthy, bool *suggested)
{
	const struct sched__cell *pc = sched__is_virtual(c) ? c->peer : c;
	if (!pc) {
		*healthy = *suggested = true;
		return;
	}
	*healthy = sched__healthy(pc);
	*suggested = sched__suggested(s, pc->nodes[0]);
}

static uint64_t node_key(const struct sched *s, const struct sched__view *v, const struct sched__vnode *n, int p)
{
	const struct sched__cell *c = n->cell;
	bool healthy, suggested;
	uint32_t same, higher;
	node_flags(s, c, &healthy, &suggested);
	if (v->cross) {
		same = (uint32_t)c->used;
		higher = 0;
	} else if (p == SCHED__OPPO) {
		same = (uint32_t)c->used_oppo;
		higher = (uint32_t)(c->used - c->used_oppo);
	} else {
		same = (uint32_t)used_at(n, p);
		higher = (uint32_t)used_from(n, p + 1);
	}
	if (same > USED_MAX)
		same = USED_MAX;
	return (healthy ? 0 : KEY_BAD) | (suggested ? 0 : KEY_UNSUGGESTED) | ((uint64_t)(USED_MAX - same) << 32) |
	       higher;
}

/* Stable merge sort of the order by key (bottom-up, tmp as buffer). */
static void sort_full(struct sched__view *v)
{
	struct sched__vnode **a = v->order, **b = v->tmp;
	uint32_t n = v->n;
	for (uint32_t width = 1; width < n; width *= 2) {
		for (uint32_t lo = 0; lo < n; lo += 2 * width) {
			uint32_t mid = lo + width < n ? lo + width : n;
			uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			uint32_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				b[k++] = a[j]->key < a[i]->key ? a[j++] : a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		struct sched__vnode **t = a;
		a = b;
		b = t;
	}
	v->order = a;
	v->tmp = b;
}

/* ties keep the previous order */
static bool before(const struct sched__vnode *x, const struct sched__vnode *y)
{
	return x->key < y->key || (x->key == y->key && x->pos < y->pos);
}

/* updateClusterView + sort.Stable, incrementally when the keys' meaning is
 * unchanged (every node suggested, and for opportunistic views the same
 * priority). */
static void prepare(struct sched *s, struct sched__view *v, int p)
{
	bool all = s->sugg_all;
	if (s->debug_full_sort)
		v->valid = false;
	if (!v->valid || !all || (!v->cross && v->key_prio != p)) {
		for (uint32_t i = 0; i < v->n; i++) {
			v->order[i]->key = node_key(s, v, v->order[i], p);
			v->order[i]->dirty = false;
		}
		v->ndirty = 0;
		sort_full(v);
		v->valid = all;
		v->key_prio = (int16_t)p;
		return;
	}
	if (!v->ndirty)
		return;
	uint32_t moved = 0;
	for (uint32_t i = 0; i < v->ndirty; i++) {
		struct sched__vnode *n = v->dirty[i];
		uint64_t k = node_key(s, v, n, p);
		n->dirty = false;
		if (k != n->key) {
			n->key = k;
			v->dirty[moved++] = n;
			n->dirty = true;   /* "moved" during the merge below */
		}
	}
	v->ndirty = 0;
	if (!moved)
		return;
	/* the rest keeps its order; remember everyone's previous position */
	uint32_t r = 0;
	struct sched__vnode **rest = v->tmp;
	for (uint32_t i = 0; i < v->n; i++) {
		struct sched__vnode *n = v->order[i];
		n->pos = i;
		if (!n->dirty)
			rest[r++] = n;
	}
	struct sched__vnode **mv = v->dirty;
	for (uint32_t i = 1; i < moved; i++) {   /* few: insertion sort */
		struct sched__vnode *x = mv[i];
		uint32_t j = i;
		while (j > 0 && before(x, mv[j - 1])) {
			mv[j] = mv[j - 1];
			j--;
		}
		mv[j] = x;
	}
	uint32_t i = 0, j = 0, k = 0;
	while (i < r && j < moved)
		v->order[k++] = before(mv[j], rest[i]) ? mv[j++] : rest[i++];
	while (i < r)
		v->order[k++] = rest[i++];
	while (j < moved)
		v->order[k++] = mv[j++];
	for (i = 0; i < moved; i++)
		mv[i]->dirty = false;
}

static int32_t free_at(const struct sched__vnode *n, int p)
{
	if (p == SCHED__OPPO)
		return n->cell->total - n->cell->used;
	return n->cell->total - used_from(n, p);
}

/* findNodesForPods: greedy, nodes in order, pods ascending. */
static int find_nodes(const struct sched *s, const struct sched__view *v, const int32_t *sizes, uint32_t npods,
                      int p, uint32_t *picked, struct sched__cell **at)
{
	uint32_t pod = 0;
	int32_t used = 0;
	for (uint32_t i = 0; i < v->n;) {
		const struct sched__vnode *n = v->order[i];
		if (free_at(n, p) - used >= sizes[pod]) {
			bool healthy, suggested;
			node_flags(s, n->cell, &healthy, &suggested);
			if (!healthy || !suggested) {
				*at = n->cell;
				return healthy ? SCHED__FIT_UNSUGGESTED : SCHED__FIT_BAD;
			}
			picked[pod] = i;
			used += sizes[pod];
			if (++pod == npods)
				return SCHED__FIT_OK;
		} else {
			used = 0;
			i++;
		}
	}
	return SCHED__FIT_SHORT;
}

/* getLeafCellsFromNode: free leaves first, then those below p, depth first. */
static void collect_leaves(struct sched__cell *c, int p, struct sched__cell **fr, uint32_t *nf,
                           struct sched__cell **pre, uint32_t *np)
{
	if (c->level > 1) {
		for (uint16_t i = 0; i < c->nchildren; i++)
			collect_leaves(c->children[i], p, fr, nf, pre, np);
	} else if (c->priority == SCHED__FREE) {
		fr[(*nf)++] = c;
	} else if (c->priority < p) {
		pre[(*np)++] = c;
	}
}

static struct sched__cell *lca(struct sched__cell *lower, struct sched__cell *higher)
{
	while (lower->level < higher->level) {
		if (!lower->parent)
			return NULL;
		lower = lower->parent;
	}
	if (lower == higher)
		return lower;
	while (lower->parent != higher->parent) {
		if (!lower->parent || !higher->parent)
			return NULL;
		lower = lower->parent;
		higher = higher->parent;
	}
	return lower->parent;
}

static int optimal_affinity(const struct sched__view *v, int32_t k)
{
	for (int l = 1; l <= v->levels; l++)
		if (v->level_leaves[l] >= k)
			return l;
	return v->levels;
}

/* findLeafCellsInNode: the k available leaves with the lowest LCA, the first
 * optimal set found; the picks leave the node's available list. */
static bool find_leaves(struct sched *s, const struct sched__view *v, struct sched__vnode *node, int32_t k, int p,
                        struct sched__cell **out)
{
	if (node->gen != s->gen) {
		uint32_t cap = (uint32_t)node->cell->total;
		struct sched__cell **fr = sched__tmp(s, cap * sizeof(*fr));
		struct sched__cell **pre = sched__tmp(s, cap * sizeof(*pre));
		if (!fr || !pre)
			return false;
		uint32_t nf = 0, np = 0;
		collect_leaves(node->cell, p, fr, &nf, pre, &np);
		memcpy(fr + nf, pre, np * sizeof(*pre));
		node->avail = fr;
		node->navail = nf + np;
		node->gen = s->gen;
	}
	struct sched__cell **avail = node->avail;
	int32_t navail = (int32_t)node->navail;
	int32_t *cur = sched__tmp(s, (size_t)k * sizeof(*cur));
	int32_t *best_idx = sched__tmp(s, (size_t)k * sizeof(*best_idx));
	struct sched__cell **aff = sched__tmp(s, (size_t)k * sizeof(*aff));
	if (!cur || !best_idx || !aff || navail < k)
		return false;
	int best = INT32_MAX;
	int opt = optimal_affinity(v, k);
	int32_t ai = 0, si = 0;
	bool done = false;
	while (!done) {
		while (ai < navail) {
			struct sched__cell *leaf = avail[ai];
			cur[si] = ai;
			if (si == 0) {
				aff[0] = leaf;
			} else {
				aff[si] = lca(leaf, aff[si - 1]);
				if ((!aff[si] && best < INT32_MAX) || (aff[si] && aff[si]->level > best)) {
					ai++;
					continue;
				}
			}
			if (si == k - 1) {
				int a = aff[k - 1] ? aff[k - 1]->level : INT32_MAX - 1;
				if (a < best) {
					memcpy(best_idx, cur, (size_t)k * sizeof(*cur));
					best = a;
					if (a == opt) {
						done = true;
						break;
					}
				}
			} else {
				si++;
			}
			ai++;
		}
		if (done)
			break;
		si--;
		if (si < 0)
			break;
		ai = cur[si] + 1;
	}
	if (best == INT32_MAX)
		return false;
	for (int32_t i = 0; i < k; i++)
		out[i] = avail[best_idx[i]];
	/* removePickedLeafCells: keep the order of the rest */
	int32_t w = 0, pi = 0;
	for (int32_t i = 0; i < navail; i++) {
		if (pi < k && best_idx[pi] == i) {
			pi++;
			continue;
		}
		avail[w++] = avail[i];
	}
	node->navail = (uint32_t)w;
	return true;
}

int sched__view_place(struct sched *s, struct sched__view *v, const struct sched__shape *sh, int p,
                      struct sched__cell **out, struct sched__cell **at)
{
	int32_t *sizes = sched__tmp(s, sh->npods * sizeof(*sizes));
	uint32_t *picked = sched__tmp(s, sh->npods * sizeof(*picked));
	if (!sizes || !picked)
		return SCHED__FIT_SHORT;
	uint32_t n = 0;
	for (uint32_t m = 0; m < sh->nm; m++)
		for (int32_t i = 0; i < sh->m[m].pods; i++)
			sizes[n++] = sh->m[m].leaves;
	*at = NULL;
	s->gen++;
	int prio = SCHED__OPPO;
	prepare(s, v, prio);
	int fit = find_nodes(s, v, sizes, n, prio, picked, at);
	if (fit != SCHED__FIT_OK && p > SCHED__OPPO) {
		prio = p;
		prepare(s, v, prio);
		fit = find_nodes(s, v, sizes, n, prio, picked, at);
	}
	if (fit != SCHED__FIT_OK)
		return fit;
	uint32_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!find_leaves(s, v, v->order[picked[i]], sizes[i], prio, out + off))
			return SCHED__FIT_SHORT;
		off += (uint32_t)sizes[i];
	}
	return SCHED__FIT_OK;
}

bool sched__view_could_fit(const struct sched__view *v, const struct sched__shape *sh)
{
	uint32_t pod = 0, npods = sh->npods, m = 0;
	int32_t left_in_member = sh->nm ? sh->m[0].pods : 0;
	int32_t used = 0;
	if (!npods)
		return true;
	for (uint32_t i = 0; i < v->n;) {
		int32_t size = sh->m[m].leaves;
		if (v->base[i]->cell->total - used >= size) {
			used += size;
			if (++pod == npods)
				return true;
			if (--left_in_member == 0 && ++m < sh->nm)
				left_in_member = sh->m[m].pods;
		} else {
			used = 0;
			i++;
		}
	}
	return false;
}

void sched__view_usage(const struct sched__view *v, int p, int64_t *total, int64_t *used, int64_t *held)
{
	*total = *used = *held = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct sched__vnode *n = v->order[i];
		*total += n->cell->total;
		*used += n->cell->used;
		*held += p <= SCHED__OPPO ? n->cell->used : used_from(n, p);
	}
}

void sched__view_describe(const struct sched__view *v, char *buf, size_t len)
{
	int32_t sizes[8];
	uint32_t counts[8];
	uint32_t nd = 0, other = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		int32_t t = v->base[i]->cell->total;
		uint32_t k = 0;
		while (k < nd && sizes[k] != t)
			k++;
		if (k == nd) {
			if (nd == 8) {
				other++;
				continue;
			}
			sizes[nd] = t;
			counts[nd++] = 0;
		}
		counts[k]++;
	}
	size_t off = 0;
	buf[0] = '\0';
	for (uint32_t k = 0; k < nd && off < len; k++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u × %d", k ? " + " : "", counts[k], sizes[k]);
	if (other && off < len)
		snprintf(buf + off, len - off, " + %u more", other);
}

bool sched__view_check(struct sched *s, struct sched__view *v)
{
	if (!v->valid || !s->sugg_all)
		return true;
	for (uint32_t i = 0; i < v->n; i++) {
		struct sched__vnode *n = v->order[i];
		if (n->dirty)
			continue;
		if (n->key != node_key(s, v, n, v->key_prio))
			return false;
		if (i > 0 && !v->order[i - 1]->dirty && n->key < v->order[i - 1]->key)
			return false;
	}
	return true;
}
