/* SPDX-License-Identifier: MIT */
/*
 * buddy.c — buddy allocation of physical cells to VC cells, and the
 * virtual→physical mapping of a placement.
 *
 * DESIGN
 * ------
 * Each chain keeps free lists per level (HiveD's freeCellList): at start only
 * the top cells; a cell is split when a smaller one is needed and merged back
 * when all its buddies are free again. The safety invariant is that every
 * VC's unbound preassigned cells can always be served from the free lists:
 * total_left[l] >= all_vc_free[l] at every level.
 *
 * The order of a free list decides which of several equal cells is picked,
 * so lists behave exactly like HiveD's Go slices: removal swaps the last
 * element in, insertion appends, a split appends the children in config
 * order. Each cell remembers its index, so membership and removal are O(1)
 * where HiveD scans.
 *
 * Mapping a virtual placement (mapVirtualPlacementToPhysical) works on a
 * copy of the free lists in HiveD. Copying every level of a large chain on
 * every decision is O(cluster); instead the mapping edits the real lists
 * inside a transaction that logs each edit (remove-at, append, truncate,
 * prepend) and rolls all of them back at the end. Candidates are enumerated
 * lazily in HiveD's order — usable cells with no opportunistic leaves in list
 * order, then the rest stably by opportunistic count — so the first fitting
 * cell is found without filtering and sorting the whole list.
 */
#include <stdio.h>
#include <string.h>

#include "sched/internal.h"

/* ---- real lists (outside a transaction) ------------------------------------ */

static int32_t *idx_of(struct sched__cell *c, int which)
{
	return which == SCHED__LIST_FREE ? &c->free_idx : which == SCHED__LIST_BAD ? &c->bad_idx : &c->doomed_idx;
}

void sched__clist_append(struct sched__clist *l, struct sched__cell *c, int which)
{
	int32_t *ix = idx_of(c, which);
	if (*ix >= 0 && (uint32_t)*ix < l->n && l->v[*ix] == c)
		return;   /* already a member: lists hold each cell once */
	if (l->n == l->cap)
		return;   /* cannot happen: a level's list has room for every cell of it */
	*ix = (int32_t)l->n;
	l->v[l->n++] = c;
}

void sched__clist_remove(struct sched__clist *l, struct sched__cell *c, int which)
{
	int32_t *ix = idx_of(c, which);
	if (*ix < 0 || (uint32_t)*ix >= l->n || l->v[*ix] != c)
		return;
	uint32_t i = (uint32_t)*ix;
	struct sched__cell *last = l->v[--l->n];
	l->v[i] = last;
	*idx_of(last, which) = (int32_t)i;
	*ix = -1;
}

static bool clist_has(const struct sched__clist *l, struct sched__cell *c, int which)
{
	int32_t ix = *idx_of(c, which);
	return ix >= 0 && (uint32_t)ix < l->n && l->v[ix] == c;
}

/* removeCellFromFreeList: split unsplit ancestors on the way up. Returns the
 * highest level touched. */
static int remove_from_free_list(struct sched *s, struct sched__cell *c)
{
	struct sched__chain *ch = &s->chains[c->chain];
	for (;;) {
		int l = c->level;
		struct sched__cell *parent = c->parent;
		bool terminate = true;
		if (parent && !sched__split(parent)) {
			for (uint16_t i = 0; i < parent->nchildren; i++)
				sched__clist_append(&ch->free[l], parent->children[i], SCHED__LIST_FREE);
			parent->flags |= SCHED__SPLIT;
			terminate = false;
		}
		sched__clist_remove(&ch->free[l], c, SCHED__LIST_FREE);
		if (terminate)
			return l;
		c = parent;
	}
}

/* addCellToFreeList: merge with free buddies on the way up. */
static int add_to_free_list(struct sched *s, struct sched__cell *c)
{
	struct sched__chain *ch = &s->chains[c->chain];
	for (;;) {
		int l = c->level;
		struct sched__cell *parent = c->parent;
		bool terminate = true;
		if (parent) {
			bool all = true;
			for (uint16_t i = 0; i < parent->nchildren && all; i++)
				if (parent->children[i] != c && !clist_has(&ch->free[l], parent->children[i], SCHED__LIST_FREE))
					all = false;
			if (all) {
				for (uint16_t i = 0; i < parent->nchildren; i++)
					if (parent->children[i] != c)
						sched__clist_remove(&ch->free[l], parent->children[i], SCHED__LIST_FREE);
				parent->flags &= (uint8_t)~SCHED__SPLIT;
				terminate = false;
			}
		}
		if (terminate) {
			sched__clist_append(&ch->free[l], c, SCHED__LIST_FREE);
			return l;
		}
		c = parent;
	}
}

static int32_t *vc_free(struct sched *s, uint16_t vc, uint16_t chain)
{
	if (vc >= s->nvcs || !s->vcs[vc].chains[chain].present)
		return NULL;
	return s->vcs[vc].chains[chain].free;
}

static void safety(const struct sched__chain *ch, int l, bool *ok, char *why, size_t whylen)
{
	if (ch->total_left[l] >= ch->all_vc_free[l])
		return;
	*ok = false;
	if (why)
		snprintf(why, whylen, "adding the pod would break VC safety: cell type %s, %d left, %d free cells "
		                      "in all VCs", ch->types[l], ch->total_left[l], ch->all_vc_free[l]);
}

bool sched__allocate_preassigned(struct sched *s, struct sched__cell *c, uint16_t vc, bool doomed,
                                 char *why, size_t whylen)
{
	struct sched__chain *ch = &s->chains[c->chain];
	int level = c->level;
	bool ok = true;
	int32_t *vf = vc_free(s, vc, c->chain);
	if (vf)
		vf[level]--;
	ch->all_vc_free[level]--;
	ch->total_left[level]--;
	int up = remove_from_free_list(s, c);
	struct sched__cell *parent = c->parent;
	for (int l = level + 1; l <= up && parent; l++) {
		ch->total_left[l]--;
		safety(ch, l, &ok, why, whylen);
		if (!sched__healthy(parent))
			sched__clist_remove(&ch->bad_free[l], parent, SCHED__LIST_BAD);
		else
			sched__try_bind_doomed(s, c->chain, l);
		parent = parent->parent;
	}
	if (!sched__healthy(c)) {
		sched__allocate_bad(s, c);
		if (!doomed)
			sched__try_unbind_doomed(s, c->chain, level);
	} else {
		sched__try_bind_doomed(s, c->chain, level);
	}
	int32_t reduce = c->nchildren;
	for (int l = level - 1; l >= 1; l--) {
		ch->total_left[l] -= reduce;
		safety(ch, l, &ok, why, whylen);
		if (!doomed)
			sched__try_bind_doomed(s, c->chain, l);
		reduce *= ch->nchild[l];
	}
	return ok;
}

void sched__release_preassigned(struct sched *s, struct sched__cell *c, uint16_t vc, bool doomed)
{
	struct sched__chain *ch = &s->chains[c->chain];
	int level = c->level;
	int32_t *vf = vc_free(s, vc, c->chain);
	if (vf)
		vf[level]++;
	ch->all_vc_free[level]++;
	ch->total_left[level]++;
	int up = add_to_free_list(s, c);
	struct sched__cell *parent = c->parent;
	for (int l = level + 1; l <= up && parent; l++) {
		ch->total_left[l]++;
		if (!sched__healthy(parent))
			sched__clist_append(&ch->bad_free[l], parent, SCHED__LIST_BAD);
		else
			sched__try_unbind_doomed(s, c->chain, l);
		parent = parent->parent;
	}
	if (!sched__healthy(c)) {
		sched__release_bad(s, c);
		if (!doomed)
			sched__try_bind_doomed(s, c->chain, level);
	} else {
		sched__try_unbind_doomed(s, c->chain, level);
	}
	int32_t add = c->nchildren;
	for (int l = level - 1; l >= 1; l--) {
		ch->total_left[l] += add;
		if (!doomed)
			sched__try_unbind_doomed(s, c->chain, l);
		add *= ch->nchild[l];
	}
}

bool sched__allocate_leaf(struct sched *s, struct sched__cell *p, struct sched__cell *v, int prio,
                          uint16_t vc, char *why, size_t whylen)
{
	if (!v) {
		sched__set_priority(p, SCHED__OPPO);
		sched__update_used(p, SCHED__OPPO, true);
		return true;
	}
	/* a restore (a cancelled preemption, a reverted lazy preemption) or a
	 * placement whose reservations were just cancelled can find the VC
	 * cell doomed since: take it back from the bad hardware. Callers that
	 * cannot live with another disagreement check before. */
	sched__undoom_for(s, v, p);
	sched__set_priority(v, prio);
	sched__update_used(v, prio, true);
	sched__set_priority(p, prio);
	sched__update_used(p, prio, true);
	struct sched__cell *pac = v->preassigned;
	bool newly = !pac->peer;
	if (!p->peer)
		sched__bind(p, v);
	if (!newly) {
		/* A job in a doomed cell (a free VC cell bound to bad hardware, used
		 * where it is still healthy) makes it an ordinary allocated cell.
		 * HiveD keeps it on the doomed list, and when the bad node heals
		 * before the job ends the cell is lost: unbound, yet neither free
		 * nor released (found by test_sched_replay's random workload). */
		struct sched__cell *pp = pac->peer;
		if (pp && pp->doomed_idx >= 0 && v->vc < s->nvcs) {
			struct sched__vchain *vch = &s->vcs[v->vc].chains[pp->chain];
			if (clist_has(&vch->doomed[pp->level], pp, SCHED__LIST_DOOMED)) {
				sched__clist_remove(&vch->doomed[pp->level], pp, SCHED__LIST_DOOMED);
				s->chains[pp->chain].all_vc_doomed[pp->level]--;
			}
		}
		return true;
	}
	if (!pac->peer) {
		if (why)
			snprintf(why, whylen, "virtual cell %s could not be bound: the physical and virtual cell "
			                      "hierarchies differ", v->address);
		return false;
	}
	return sched__allocate_preassigned(s, pac->peer, vc, false, why, whylen);
}

static bool vc_doomed_has(struct sched *s, uint16_t vc, struct sched__cell *c)
{
	if (vc >= s->nvcs || !s->vcs[vc].chains[c->chain].present)
		return false;
	return clist_has(&s->vcs[vc].chains[c->chain].doomed[c->level], c, SCHED__LIST_DOOMED);
}

void sched__release_leaf(struct sched *s, struct sched__cell *p, uint16_t vc)
{
	struct sched__cell *v = p->peer;
	/* An opportunistic leaf can be bound only because it went bad inside a
	 * cell some VC holds or was doomed to: that binding is the health
	 * code's, not this group's. HiveD releases it as the group's, which
	 * frees another VC's doomed cell under the wrong VC (found by
	 * test_sched_replay's random workload). */
	if (v && p->priority >= SCHED_PRIORITY_MIN) {
		sched__update_used(v, v->priority, false);
		sched__set_priority(v, SCHED__FREE);
		struct sched__cell *pre = v->preassigned->peer;
		if (sched__healthy(p))
			sched__unbind(p);
		/* the binding may outlive the release when the cell is bad, so ask
		 * whether the preassigned cell still holds anything */
		if (pre && !sched__pinned(pre) && v->preassigned->priority < SCHED_PRIORITY_MIN &&
		    !vc_doomed_has(s, vc, pre))
			sched__release_preassigned(s, pre, vc, false);
	}
	sched__update_used(p, p->priority, false);
	sched__set_priority(p, SCHED__FREE);
}

/* ---- the mapping transaction -------------------------------------------------- */

enum { U_REMOVE, U_APPEND, U_TRUNC, U_PREPEND };

static bool undo_push(struct sched *s, struct sched__undo u)
{
	if (s->nundo == s->cap_undo) {
		uint32_t cap = s->cap_undo ? s->cap_undo * 2 : 64;
		struct sched__undo *v = arena_alloc(&s->scratch, cap * sizeof(*v));
		if (!v)
			return false;
		if (s->nundo)
			memcpy(v, s->undo, s->nundo * sizeof(*v));
		s->undo = v;
		s->cap_undo = cap;
	}
	s->undo[s->nundo++] = u;
	return true;
}

static struct sched__clist *tlist(struct sched *s, uint16_t chain, int l)
{
	return &s->chains[chain].free[l];
}

static bool txn_remove_at(struct sched *s, uint16_t chain, int l, uint32_t i)
{
	struct sched__clist *fl = tlist(s, chain, l);
	if (i >= fl->n)
		return false;
	if (!undo_push(s, (struct sched__undo){ U_REMOVE, (uint8_t)l, chain, i, fl->n, fl->v[i], NULL }))
		return false;
	fl->v[i] = fl->v[fl->n - 1];
	fl->n--;
	return true;
}

static bool txn_append(struct sched *s, uint16_t chain, int l, struct sched__cell *c)
{
	struct sched__clist *fl = tlist(s, chain, l);
	if (fl->n == fl->cap || !undo_push(s, (struct sched__undo){ U_APPEND, (uint8_t)l, chain, 0, fl->n, c, NULL }))
		return false;
	fl->v[fl->n++] = c;
	return true;
}

static bool txn_truncate(struct sched *s, uint16_t chain, int l)
{
	struct sched__clist *fl = tlist(s, chain, l);
	if (!fl->n)
		return true;
	struct sched__cell **saved = sched__tmp(s, fl->n * sizeof(*saved));
	if (!saved || !undo_push(s, (struct sched__undo){ U_TRUNC, (uint8_t)l, chain, 0, fl->n, NULL, saved }))
		return false;
	memcpy(saved, fl->v, fl->n * sizeof(*saved));
	fl->n = 0;
	return true;
}

static bool txn_prepend(struct sched *s, uint16_t chain, int l, struct sched__cell **cells, uint32_t k)
{
	struct sched__clist *fl = tlist(s, chain, l);
	if (fl->n + k > fl->cap)
		return false;
	struct sched__cell **saved = sched__tmp(s, (fl->n ? fl->n : 1) * sizeof(*saved));
	if (!saved || !undo_push(s, (struct sched__undo){ U_PREPEND, (uint8_t)l, chain, 0, fl->n, NULL, saved }))
		return false;
	memcpy(saved, fl->v, fl->n * sizeof(*saved));
	memmove(fl->v + k, fl->v, fl->n * sizeof(*fl->v));
	memcpy(fl->v, cells, k * sizeof(*cells));
	fl->n += k;
	return true;
}

static void txn_rollback(struct sched *s)
{
	while (s->nundo) {
		struct sched__undo *u = &s->undo[--s->nundo];
		struct sched__clist *fl = tlist(s, u->chain, u->level);
		switch (u->op) {
		case U_REMOVE:
			fl->n = u->n;
			fl->v[u->n - 1] = fl->v[u->idx];
			fl->v[u->idx] = u->cell;
			break;
		case U_APPEND:
			fl->n = u->n;
			break;
		case U_TRUNC:
		case U_PREPEND:
			memcpy(fl->v, u->saved, u->n * sizeof(*fl->v));
			fl->n = u->n;
			break;
		}
	}
}

/* ---- candidates: getUsablePhysicalCells, lazily ---------------------------------- */

struct cands {
	struct sched__cell **src;
	uint32_t nsrc;
	struct sched__cell **v;
	uint32_t *idx;               /* index in src */
	uint32_t n;
	uint32_t scan;
	int phase;                   /* 0: no opportunistic leaves, list order; 1: the rest; 2: done */
};

static bool usable(const struct sched *s, const struct sched__cell *c)
{
	if (c->peer)
		return false;
	if (c->nnodes == 1 && !sched__healthy(c))
		return false;
	if (s->sugg_all)
		return true;
	for (uint32_t i = 0; i < c->nnodes; i++)
		if (sched__suggested(s, c->nodes[i]))
			return true;
	return false;
}

static bool cands_init(struct sched *s, struct cands *cs, struct sched__cell **src, uint32_t n)
{
	cs->src = src;
	cs->nsrc = n;
	cs->n = cs->scan = 0;
	cs->phase = 0;
	cs->v = sched__tmp(s, (n ? n : 1) * sizeof(*cs->v));
	cs->idx = sched__tmp(s, (n ? n : 1) * sizeof(*cs->idx));
	return cs->v && cs->idx;
}

/* Stable merge sort of (cell, index) pairs by opportunistic leaves. */
static void sort_by_oppo(struct sched__cell **v, uint32_t *ix, struct sched__cell **tv, uint32_t *tix, uint32_t n)
{
	for (uint32_t width = 1; width < n; width *= 2) {
		for (uint32_t lo = 0; lo < n; lo += 2 * width) {
			uint32_t mid = lo + width < n ? lo + width : n;
			uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			uint32_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi) {
				if (v[b]->used_oppo < v[a]->used_oppo) {
					tv[k] = v[b];
					tix[k++] = ix[b++];
				} else {
					tv[k] = v[a];
					tix[k++] = ix[a++];
				}
			}
			while (a < mid) {
				tv[k] = v[a];
				tix[k++] = ix[a++];
			}
			while (b < hi) {
				tv[k] = v[b];
				tix[k++] = ix[b++];
			}
		}
		memcpy(v, tv, n * sizeof(*v));
		memcpy(ix, tix, n * sizeof(*ix));
	}
}

/* Is there a candidate i? Materializes up to it. */
static bool cands_get(struct sched *s, struct cands *cs, uint32_t i)
{
	while (cs->n <= i && cs->phase < 2) {
		if (cs->phase == 0) {
			if (cs->scan < cs->nsrc) {
				struct sched__cell *c = cs->src[cs->scan];
				if (c->used_oppo == 0 && usable(s, c)) {
					cs->v[cs->n] = c;
					cs->idx[cs->n++] = cs->scan;
				}
				cs->scan++;
				continue;
			}
			uint32_t start = cs->n;
			for (uint32_t k = 0; k < cs->nsrc; k++) {
				struct sched__cell *c = cs->src[k];
				if (c->used_oppo > 0 && usable(s, c)) {
					cs->v[cs->n] = c;
					cs->idx[cs->n++] = k;
				}
			}
			uint32_t m = cs->n - start;
			if (m > 1) {
				struct sched__cell **tv = sched__tmp(s, m * sizeof(*tv));
				uint32_t *tix = sched__tmp(s, m * sizeof(*tix));
				if (!tv || !tix)
					return false;
				sort_by_oppo(cs->v + start, cs->idx + start, tv, tix, m);
			}
			cs->phase = 2;
		}
	}
	return cs->n > i;
}

/* ---- toBindingPaths ------------------------------------------------------------ */

struct vertex {
	struct sched__cell *cell;
	struct vertex **kids;
	uint32_t nkids;
};

struct sibling_group {
	struct sched__cell *parent;  /* a bound virtual cell */
	struct vertex **cells;
	uint32_t n;
};

static struct vertex *vertex_new(struct sched *s, struct sched__cell *c)
{
	struct vertex *v = sched__tmp(s, sizeof(*v));
	if (!v)
		return NULL;
	v->cell = c;
	v->nkids = 0;
	v->kids = c->nchildren ? sched__tmp(s, c->nchildren * sizeof(*v->kids)) : NULL;
	if (c->nchildren && !v->kids)
		return NULL;
	c->gen = s->gen;
	c->tmp = v;
	return v;
}

static struct vertex *vertex_of(const struct sched *s, const struct sched__cell *c)
{
	return c->gen == s->gen ? c->tmp : NULL;
}

/* ---- mapVirtualCellsToPhysical ---------------------------------------------------- */

static bool map_cells(struct sched *s, struct vertex **cells, uint32_t ncells, struct sched__cell **src,
                      uint32_t nsrc, uint32_t *picked_out);

/* One cell's children onto a candidate's children. */
static bool map_into(struct sched *s, struct vertex *cell, struct sched__cell *cand)
{
	if (cand->level == 1) {
		cell->cell->btmp = cand;
		cell->cell->bgen = s->gen;
		return true;
	}
	return map_cells(s, cell->kids, cell->nkids, cand->children, cand->nchildren, NULL);
}

/*
 * Backtracking assignment of each cell to a distinct usable candidate, the
 * cells' children recursively into the picked candidate's children. As in
 * HiveD, a cell's resume index survives backtracking past it (the search is
 * HiveD's, incompleteness included). picked_out: src index of the last
 * cell's pick (the callers that remove picks map exactly one cell).
 */
static bool map_cells(struct sched *s, struct vertex **cells, uint32_t ncells, struct sched__cell **src,
                      uint32_t nsrc, uint32_t *picked_out)
{
	struct cands cs;
	if (!ncells)
		return true;
	if (!cands_init(s, &cs, src, nsrc) || !cands_get(s, &cs, ncells - 1))
		return false;
	uint32_t small[8];
	uint32_t *pick = ncells <= 8 ? small : sched__tmp(s, ncells * sizeof(*pick));
	if (!pick)
		return false;
	memset(pick, 0, ncells * sizeof(*pick));
	int32_t ci = 0;
	while (ci >= 0) {
		uint32_t k;
		bool found = false;
		for (k = pick[ci]; cands_get(s, &cs, k); k++) {
			bool taken = false;
			for (int32_t j = 0; j < ci && !taken; j++)
				taken = pick[j] == k;
			if (taken)
				continue;
			if (map_into(s, cells[ci], cs.v[k])) {
				pick[ci] = k;
				if ((uint32_t)ci == ncells - 1) {
					if (picked_out)
						*picked_out = cs.idx[k];
					return true;
				}
				found = true;
				break;
			}
		}
		if (found) {
			ci++;
		} else {
			ci--;
			if (ci >= 0)
				pick[ci]++;
		}
	}
	return false;
}

/* ---- buddyAlloc, safeRelaxedBuddyAlloc ------------------------------------------- */

static bool buddy_alloc(struct sched *s, uint16_t chain, struct vertex *cell, int level)
{
	struct sched__clist *fl = tlist(s, chain, level);
	if (level == cell->cell->level) {
		uint32_t at;
		if (!map_cells(s, &cell, 1, fl->v, fl->n, &at))
			return false;
		return txn_remove_at(s, chain, level, at);
	}
	struct cands cs;
	if (!cands_init(s, &cs, fl->v, fl->n))
		return false;
	for (uint32_t k = 0; cands_get(s, &cs, k); k++) {
		struct sched__cell *c = cs.v[k];
		bool ok = true;
		for (uint16_t i = 0; i < c->nchildren && ok; i++)
			ok = txn_append(s, chain, level - 1, c->children[i]);
		if (ok && buddy_alloc(s, chain, cell, level - 1))
			return txn_remove_at(s, chain, level, cs.idx[k]);
		if (!txn_truncate(s, chain, level - 1))
			return false;
	}
	return false;
}

static bool safe_relaxed(struct sched *s, uint16_t chain, struct vertex *cell, int32_t *free_num)
{
	struct sched__chain *ch = &s->chains[chain];
	int level = cell->cell->level;
	int64_t splittable[SCHED__MAX_LEVELS + 2] = { 0 };
	struct sched__cell *sc = NULL;
	for (int i = ch->top; i > level; i--) {
		splittable[i] = (int64_t)ch->free[i].n - free_num[i];
		if (i < ch->top && sc)
			splittable[i] += splittable[i + 1] * sc->nchildren;
		if (!sc && ch->free[i].n > 0)
			sc = ch->free[i].v[0];
		else if (sc)
			sc = sc->children[0];
		if (splittable[i] < 0)
			return false;   /* HiveD panics: "VC Safety Broken" */
	}
	for (int l = level + 1; l <= ch->top; l++) {
		int64_t num = ch->free[l].n;
		if (num > splittable[l])
			num = splittable[l];
		if (num <= 0)
			continue;
		uint64_t total = (uint64_t)num;
		for (int sl = l; sl > level; sl--)
			total *= (uint64_t)ch->nchild[sl];
		struct sched__cell **list = sched__tmp(s, (size_t)total * sizeof(*list));
		struct sched__cell **next = sched__tmp(s, (size_t)total * sizeof(*next));
		if (!list || !next)
			return false;
		uint32_t n = 0;
		for (int64_t i = 0; i < num; i++) {
			list[n++] = ch->free[l].v[0];
			if (!txn_remove_at(s, chain, l, 0))
				return false;
		}
		for (int sl = l; sl > level; sl--) {
			uint32_t m = 0;
			for (uint32_t i = 0; i < n; i++)
				for (uint16_t k = 0; k < list[i]->nchildren; k++)
					next[m++] = list[i]->children[k];
			struct sched__cell **t = list;
			list = next;
			next = t;
			n = m;
		}
		if (!txn_prepend(s, chain, level, list, n))
			return false;
		uint32_t at;
		struct sched__clist *fl = tlist(s, chain, level);
		if (map_cells(s, &cell, 1, fl->v, fl->n, &at))
			return txn_remove_at(s, chain, level, at);
	}
	return false;
}

static int lowest_free_level(const struct sched__chain *ch, int l)
{
	for (; l <= ch->top; l++)
		if (ch->free[l].n)
			return l;
	return 0;
}

static bool map_placement(struct sched *s, uint16_t chain, struct vertex **pre, uint32_t npre,
                          struct sibling_group *groups, uint32_t ngroups, int32_t *free_num)
{
	struct sched__chain *ch = &s->chains[chain];
	for (uint32_t i = 0; i < npre; i++) {
		struct vertex *c = pre[i];
		int l = lowest_free_level(ch, c->cell->level);
		if (l && buddy_alloc(s, chain, c, l))
			free_num[c->cell->level]--;
		else if (!safe_relaxed(s, chain, c, free_num))
			return false;
	}
	for (uint32_t i = 0; i < ngroups; i++) {
		struct sched__cell *pp = groups[i].parent->peer;
		if (!map_cells(s, groups[i].cells, groups[i].n, pp->children, pp->nchildren, NULL))
			return false;
	}
	return true;
}

bool sched__map_virtual(struct sched *s, uint16_t chain, const struct sched__shape *sh,
                        struct sched__cell **virt, struct sched__cell **out)
{
	struct sched__chain *ch = &s->chains[chain];
	uint32_t n = sh->nleaves;
	struct vertex **pre = sched__tmp(s, n * sizeof(*pre));
	struct sibling_group *groups = sched__tmp(s, n * sizeof(*groups));
	struct sched__cell **path = sched__tmp(s, SCHED__MAX_LEVELS * sizeof(*path));
	int32_t *free_num = sched__tmp(s, ((size_t)ch->top + 1) * sizeof(*free_num));
	uint32_t npre = 0, ngroups = 0;
	if (!pre || !groups || !path || !free_num)
		return false;
	s->gen++;   /* fresh stamps for vertices and bindings */

	/* toBindingPaths: unbound ancestors of each leaf, merged into trees */
	for (uint32_t k = 0; k < n; k++) {
		struct sched__cell *leaf = virt[k];
		if (leaf->peer) {
			leaf->btmp = leaf->peer;
			leaf->bgen = s->gen;
			continue;
		}
		uint32_t depth = 0;
		for (struct sched__cell *c = leaf; c && !c->peer && !vertex_of(s, c); c = c->parent)
			path[depth++] = c;
		if (!depth)
			continue;   /* a leaf listed twice */
		struct sched__cell *root = path[depth - 1];
		struct vertex *v = vertex_new(s, root);
		if (!v)
			return false;
		struct sched__cell *parent = root->parent;
		if (!parent) {
			pre[npre++] = v;
		} else if (parent->peer) {
			struct sibling_group *g = parent->gen == s->gen ? parent->tmp : NULL;
			if (!g) {
				g = &groups[ngroups++];
				g->parent = parent;
				g->n = 0;
				g->cells = sched__tmp(s, parent->nchildren * sizeof(*g->cells));
				if (!g->cells)
					return false;
				parent->gen = s->gen;
				parent->tmp = g;
			}
			g->cells[g->n++] = v;
		} else {
			struct vertex *pv = vertex_of(s, parent);
			pv->kids[pv->nkids++] = v;
		}
		for (int32_t i = (int32_t)depth - 2; i >= 0; i--) {
			struct vertex *kv = vertex_new(s, path[i]);
			if (!kv)
				return false;
			struct vertex *pv = vertex_of(s, path[i]->parent);
			pv->kids[pv->nkids++] = kv;
		}
	}
	for (int l = 1; l <= ch->top; l++)
		free_num[l] = ch->all_vc_free[l];
	s->nundo = 0;
	s->in_txn = true;
	bool ok = map_placement(s, chain, pre, npre, groups, ngroups, free_num);
	txn_rollback(s);
	s->in_txn = false;
	if (!ok)
		return false;
	for (uint32_t k = 0; k < n; k++) {
		struct sched__cell *v = virt[k];
		if (v->bgen != s->gen || !v->btmp)
			return false;
		out[k] = v->btmp;
	}
	return true;
}
