/* SPDX-License-Identifier: MIT */
/*
 * group.c — affinity groups (gangs): the table, their creation from a bind
 * info (HiveD's createAllocatedAffinityGroup, which is also how a restart
 * recovers), and their release.
 *
 * A group's placement is three flat arrays in one order: member (ascending
 * leaf cells, same-size members merged), pod, leaf. HiveD keys these by leaf
 * count in Go maps and walks them in random order; walking them in one fixed
 * order is what makes release (which appends freed cells to the buddy free
 * lists) deterministic.
 *
 * Each group owns an arena holding its arrays, names and a copy of the bind
 * info it came from; deleting the group frees it at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/internal.h"

#define TOMB ((struct sched__group *)(uintptr_t)1)

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

struct sched__group *sched__group_find(const struct sched *s, const char *name)
{
	const struct sched__gtable *t = &s->groups;
	if (!t->cap || !name)
		return NULL;
	uint64_t h = hash_str(name);
	for (uint32_t i = (uint32_t)h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct sched__group *g = t->slots[i];
		if (!g)
			return NULL;
		if (g != TOMB && g->hash == h && !strcmp(g->name, name))
			return g;
	}
}

static int table_grow(struct sched__gtable *t)
{
	uint32_t cap = t->cap ? t->cap : 64;
	while ((t->len + 1) * 2 > cap)
		cap *= 2;
	struct sched__group **slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (struct sched__group *g = t->head; g; g = g->next) {
		uint32_t i = (uint32_t)g->hash & (cap - 1);
		while (slots[i])
			i = (i + 1) & (cap - 1);
		slots[i] = g;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	t->used = t->len;
	return 0;
}

int sched__group_reserve(struct sched *s)
{
	struct sched__gtable *t = &s->groups;
	if ((t->used + 1) * 4 > t->cap * 3 && table_grow(t) < 0)
		return GERR_NOMEM;
	return 0;
}

/* After sched__group_reserve: cannot fail. */
void sched__group_insert(struct sched *s, struct sched__group *g)
{
	struct sched__gtable *t = &s->groups;
	uint32_t i = (uint32_t)g->hash & (t->cap - 1);
	while (t->slots[i] && t->slots[i] != TOMB)
		i = (i + 1) & (t->cap - 1);
	if (!t->slots[i])
		t->used++;
	t->slots[i] = g;
	t->len++;
	g->prev = t->tail;
	g->next = NULL;
	if (t->tail)
		t->tail->next = g;
	else
		t->head = g;
	t->tail = g;
}

void sched__group_remove(struct sched *s, struct sched__group *g)
{
	struct sched__gtable *t = &s->groups;
	for (uint32_t i = (uint32_t)g->hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->slots[i])
			return;
		if (t->slots[i] == g) {
			t->slots[i] = TOMB;
			break;
		}
	}
	t->len--;
	if (g->prev)
		g->prev->next = g->next;
	else
		t->head = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		t->tail = g->prev;
}

void sched__group_free(struct sched__group *g)
{
	if (!g)
		return;
	arena_fini(&g->arena);
	free(g);
}

/* Members merged by size and sorted ascending, as HiveD's leafCellNums. */
int sched__shape_of(struct sched *s, struct arena *a, const struct sched_member *m, size_t n,
                    struct sched__shape *out, struct gerr *err)
{
	(void)s;
	out->m = arena_alloc(a, (n ? n : 1) * sizeof(*out->m));
	out->nm = out->npods = out->nleaves = 0;
	if (!out->m)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	uint64_t pods = 0, leaves = 0;
	for (size_t i = 0; i < n; i++) {
		if (m[i].pods <= 0)
			return gerr_set(err, GERR_INVALID, "affinity group member %zu: podNumber must be positive (got %d)",
			                i, m[i].pods);
		if (m[i].leaf_cells <= 0)
			return gerr_set(err, GERR_INVALID,
			                "affinity group member %zu: leafCellNumber must be positive (got %d)", i,
			                m[i].leaf_cells);
		uint32_t k = 0;
		while (k < out->nm && out->m[k].leaves != m[i].leaf_cells)
			k++;
		if (k == out->nm) {
			while (k > 0 && out->m[k - 1].leaves > m[i].leaf_cells) {
				out->m[k] = out->m[k - 1];
				k--;
			}
			out->m[k] = (struct sched__member){ m[i].leaf_cells, 0, 0, 0 };
			out->nm++;
		}
		out->m[k].pods += m[i].pods;
		pods += (uint64_t)m[i].pods;
		leaves += (uint64_t)m[i].pods * (uint64_t)m[i].leaf_cells;
	}
	if (!n)
		return gerr_set(err, GERR_INVALID, "the affinity group has no members");
	if (pods > 100000 || leaves > 10000000)
		return gerr_set(err, GERR_INVALID, "the affinity group is too large (%llu pods, %llu leaf cells)",
		                (unsigned long long)pods, (unsigned long long)leaves);
	uint32_t lo = 0, po = 0;
	for (uint32_t k = 0; k < out->nm; k++) {
		out->m[k].leaf_off = lo;
		out->m[k].pod_off = po;
		lo += (uint32_t)(out->m[k].pods * out->m[k].leaves);
		po += (uint32_t)out->m[k].pods;
	}
	out->npods = po;
	out->nleaves = lo;
	return 0;
}

int32_t sched__member_index(const struct sched__group *g, int32_t leaves)
{
	for (uint32_t k = 0; k < g->nmembers; k++)
		if (g->members[k].leaves == leaves)
			return (int32_t)k;
	return -1;
}

struct sched__group *sched__group_new(struct sched *s, const struct sched_request *req,
                                      const struct sched__shape *sh, uint16_t vc, int state, int64_t now)
{
	(void)s;
	struct sched__group *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	size_t bytes = strlen(req->group) + 1 + sh->nm * sizeof(*g->members) +
	               2 * sh->nleaves * sizeof(*g->phys) + sh->npods * sizeof(*g->pods) + 256;
	arena_init(&g->arena, bytes);
	g->name = arena_strdup(&g->arena, req->group);
	g->members = arena_alloc(&g->arena, sh->nm * sizeof(*g->members));
	g->phys = arena_zalloc(&g->arena, (sh->nleaves ? sh->nleaves : 1) * sizeof(*g->phys));
	g->virt = arena_zalloc(&g->arena, (sh->nleaves ? sh->nleaves : 1) * sizeof(*g->virt));
	g->pods = arena_zalloc(&g->arena, (sh->npods ? sh->npods : 1) * sizeof(*g->pods));
	if (!g->name || !g->members || !g->phys || !g->virt || !g->pods) {
		sched__group_free(g);
		return NULL;
	}
	memcpy(g->members, sh->m, sh->nm * sizeof(*g->members));
	g->nmembers = sh->nm;
	g->npods = sh->npods;
	g->nleaves = sh->nleaves;
	g->hash = hash_str(g->name);
	g->vc = vc;
	g->chain = SCHED__NONE;
	g->priority = (int16_t)req->priority;
	g->state = (uint8_t)state;
	g->lazy_enabled = req->lazy_preemption;
	g->has_virt = true;
	g->created = now;
	return g;
}

bool sched__group_add_preempting_pod(struct sched__group *g, const char *pod)
{
	if (!pod)
		pod = "";
	for (uint32_t i = 0; i < g->npreempting; i++)
		if (!strcmp(g->preempting[i], pod))
			return true;
	if (g->npreempting == g->cap_preempting) {
		uint32_t cap = g->cap_preempting ? g->cap_preempting * 2 : 4;
		const char **v = arena_alloc(&g->arena, cap * sizeof(*v));
		if (!v)
			return false;
		if (g->npreempting)
			memcpy(v, g->preempting, g->npreempting * sizeof(*v));
		g->preempting = v;
		g->cap_preempting = cap;
	}
	const char *copy = arena_strdup(&g->arena, pod);
	if (!copy)
		return false;
	g->preempting[g->npreempting++] = copy;
	return true;
}

void sched__group_delete_allocated(struct sched *s, struct sched__group *g)
{
	for (uint32_t i = 0; i < g->nleaves; i++) {
		struct sched__cell *p = g->phys[i];
		if (!p)
			continue;
		p->using = NULL;
		if (p->state == SCHED_CELL_USED) {
			sched__release_leaf(s, p, g->vc);
			sched__set_state(p, SCHED_CELL_FREE);
		} else if (p->state == SCHED_CELL_RESERVING) {
			/* it already belongs to the group preempting this one */
			sched__set_state(p, SCHED_CELL_RESERVED);
		}
	}
	sched__group_remove(s, g);
	sched__group_free(g);
}

/* ---- creation from a bind info ------------------------------------------------- */

/* findPhysicalLeafCell: in the bind info's chain first, else any chain (a
 * reconfiguration may have moved the node). */
static struct sched__cell *find_physical_leaf(const struct sched *s, const char *chain, const char *node,
                                              int32_t index)
{
	struct sched__node *n = sched__node_find(s, node);
	if (!n)
		return NULL;
	struct sched__chain *want = chain ? sched__chain_find(s, chain) : NULL;
	struct sched__cell *other = NULL;
	for (uint32_t i = 0; i < n->nleaves; i++) {
		struct sched__cell *c = n->leaves[i];
		if (index >= 0 && c->leaf_index != index)
			continue;
		if (want && c->chain == want->index)
			return c;
		if (!other)
			other = c;
	}
	return other;
}

/* mapPhysicalCellToVirtual */
static struct sched__cell *physical_to_virtual(struct sched__cell *c, struct sched__clist *vccl, int top, int level,
                                               int prio)
{
	if (c->peer)
		return c->peer;
	if (c->level == level)
		return level <= top ? sched__lowest_priority(vccl[level].v, vccl[level].n, prio) : NULL;
	if (!c->parent)
		return NULL;   /* the hierarchies differ: the preassigned level is not reachable */
	struct sched__cell *pv = physical_to_virtual(c->parent, vccl, top, level, prio);
	if (!pv)
		return NULL;
	return sched__lowest_priority(pv->children, pv->nchildren, prio);
}

enum { LAZY_NO, LAZY_YES, LAZY_NIL };

/*
 * Can virtual leaf v take physical leaf p? HiveD assumes so, but bind infos
 * recovered after a restart or a reconfiguration can disagree with each
 * other: the path may meet a cell another VC holds (HiveD would count it as
 * this group's), or the physical cell v's VC cell needs may already be
 * split among other VCs' cells (HiveD would take it from the free lists
 * twice). Then the group runs as opportunistic.
 */
static bool preassigned_available(const struct sched__cell *v, const struct sched__cell *p)
{
	const struct sched__cell *pre = v->preassigned;
	const struct sched__cell *pa = p;
	while (pa && pa->level < pre->level)
		pa = pa->parent;
	if (!pa || pa->level != pre->level)
		return false;
	if (pre->peer == pa)
		return true;
	/* bound elsewhere (its groups will be downgraded, as in HiveD) or not
	 * bound: pa must be free to take */
	if (sched__split(pa))
		return false;
	for (const struct sched__cell *c = pa; c; c = c->parent)
		if (sched__in_free_list(c))
			return true;
	return false;
}

/* findAllocatedLeafCell: the physical leaf, its virtual leaf, and whether
 * the group must be lazy-preempted (LAZY_NIL: an opportunistic group). */
static struct sched__cell *find_allocated_leaf(struct sched *s, const struct sched_request *req,
                                               struct sched__group *g, const char *chain, const char *node,
                                               int32_t index, const char *pre_type, bool have_types,
                                               bool lazy_already, struct sched__cell **vout, int *lazy)
{
	*vout = NULL;
	*lazy = LAZY_NO;
	struct sched__cell *p = find_physical_leaf(s, chain, node, index);
	if (!p)
		return NULL;
	if (!have_types) {
		*lazy = LAZY_YES;
		return p;
	}
	if (!g->has_virt || lazy_already)
		return p;
	if (!pre_type || !*pre_type) {
		*lazy = LAZY_NIL;
		return p;
	}
	struct sched__chain *ch = &s->chains[p->chain];
	int level = 0;
	for (int l = 1; l <= ch->top; l++)
		if (!strcmp(ch->types[l], pre_type))
			level = l;
	struct sched__vc *vc = sched__vc_find(s, req->vc);
	struct sched__clist *vccl = NULL;
	int top = 0;
	if (level && vc) {
		if (req->pinned_cell && *req->pinned_cell) {
			struct sched__pin *pin = sched__pin_find(vc, s, req->pinned_cell);
			if (pin) {
				vccl = pin->full;
				top = pin->phys->level;
			}
		} else if (vc->chains[p->chain].nonpinned) {
			vccl = vc->chains[p->chain].pre;
			top = ch->top;
		}
	}
	struct sched__cell *v = vccl ? physical_to_virtual(p, vccl, top, level, req->priority) : NULL;
	if (!v || v->vc != vc->index || !preassigned_available(v, p)) {
		*lazy = LAZY_YES;
		return p;
	}
	*vout = v;
	return p;
}

static int check_bind(const struct sched__shape *sh, const struct sched_bind_info *b, struct gerr *err)
{
	if (!b || !b->members || !b->nmembers)
		return gerr_set(err, GERR_INVALID, "the bind info has no placement");
	for (size_t i = 0; i < b->nmembers; i++) {
		const struct sched_member_placement *m = &b->members[i];
		if (!m->npods || !m->pods)
			return gerr_set(err, GERR_INVALID, "bind info member %zu has no pods", i);
		int32_t leaves = m->leaf_cells;
		uint32_t k = 0;
		while (k < sh->nm && sh->m[k].leaves != leaves)
			k++;
		if (k == sh->nm)
			return gerr_set(err, GERR_INVALID,
			                "bind info member %zu has pods of %d leaf cells; the affinity group has none", i,
			                leaves);
		if (m->npods > (size_t)sh->m[k].pods)
			return gerr_set(err, GERR_INVALID, "bind info member %zu places %zu pods; the group declares %d", i,
			                m->npods, sh->m[k].pods);
		for (size_t p = 0; p < m->npods; p++)
			if (!m->pods[p].node || !m->pods[p].leaves)
				return gerr_set(err, GERR_INVALID, "bind info member %zu pod %zu has no node or leaves", i, p);
	}
	return 0;
}

int sched__group_create_allocated(struct sched *s, const struct sched_request *req,
                                  const struct sched__shape *sh, const struct sched_bind_info *b,
                                  int64_t now, struct sched__group **out, struct gerr *err)
{
	int rc = check_bind(sh, b, err);
	if (rc)
		return rc;
	if (sched__group_reserve(s))
		return gerr_set(err, GERR_NOMEM, "out of memory");
	struct sched__vc *vc = sched__vc_find(s, req->vc);
	struct sched__group *g = sched__group_new(s, req, sh, vc ? (uint16_t)vc->index : SCHED__NONE,
	                                          SCHED_GROUP_ALLOCATED, now);
	if (!g || !(g->origin = sched_bind_dup(&g->arena, b))) {
		sched__group_free(g);
		return gerr_set(err, GERR_NOMEM, "out of memory");
	}
	struct sched__chain *ch = b->chain ? sched__chain_find(s, b->chain) : NULL;
	g->chain = ch ? (uint16_t)ch->index : SCHED__NONE;
	bool should_lazy = false;
	for (size_t i = 0; i < b->nmembers; i++) {
		const struct sched_member_placement *mp = &b->members[i];
		int32_t k = sched__member_index(g, mp->leaf_cells);
		const struct sched__member *m = &g->members[k];
		for (size_t pi = 0; pi < mp->npods; pi++) {
			const struct sched_pod_placement *pp = &mp->pods[pi];
			for (int32_t li = 0; li < mp->leaf_cells; li++) {
				struct sched__cell *v;
				int lazy;
				struct sched__cell *p = find_allocated_leaf(
					s, req, g, b->chain, pp->node, pp->leaves[li], pp->preassigned ? pp->preassigned[li] : NULL,
					pp->preassigned != NULL, should_lazy, &v, &lazy);
				if (!p)
					continue;   /* gone from the config: ignored, the pod keeps running */
				if (sched__undoom_above(s, p, v ? v->preassigned : NULL)) {
					/* it runs inside a cell doomed to bad hardware (a restart
					 * reports bad nodes before the pods) that is not the VC
					 * cell it maps to: that cell is in use, not free; HiveD
					 * would take it twice */
					p = find_allocated_leaf(s, req, g, b->chain, pp->node, pp->leaves[li],
					                        pp->preassigned ? pp->preassigned[li] : NULL,
					                        pp->preassigned != NULL, should_lazy, &v, &lazy);
				}
				if (p->state == SCHED_CELL_RESERVED && p->reserving) {
					/* bound in HiveD's filter phase over a lower preemptor's
					 * reservation: the newer, higher-priority job wins (HiveD
					 * would count the cell twice) */
					sched__delete_preempting(s, p->reserving);
					/* which changes bindings: map the leaf again */
					p = find_allocated_leaf(s, req, g, b->chain, pp->node, pp->leaves[li],
					                        pp->preassigned ? pp->preassigned[li] : NULL,
					                        pp->preassigned != NULL, should_lazy, &v, &lazy);
				}
				if (p->state != SCHED_CELL_FREE || p->using) {
					/* another group holds it (conflicting bind infos after a
					 * restart): do not count it twice */
					continue;
				}
				uint32_t at = m->leaf_off + (uint32_t)pi * (uint32_t)m->leaves + (uint32_t)li;
				g->phys[at] = p;
				if (lazy == LAZY_NIL) {
					g->has_virt = false;
				} else if (v) {
					g->virt[at] = v;
					if (sched__in_free_list(p) && v->preassigned->priority > SCHED__FREE) {
						/* the VC's cell is bound elsewhere (fewer cells than before):
						 * undo that binding by downgrading its groups */
						sched__lazy_preempt_cell(s, v->preassigned, g->name, now);
					}
				} else {
					should_lazy = should_lazy || lazy == LAZY_YES;
				}
				if (!g->has_virt)
					v = NULL;
				bool ok = sched__allocate_leaf(s, p, v, g->priority, g->vc, NULL, 0);
				p->using = g;
				sched__set_state(p, SCHED_CELL_USED);
				if (!ok)
					should_lazy = true;
			}
		}
	}
	if (should_lazy)
		sched__lazy_preempt(s, g, g->name, now);
	sched__group_insert(s, g);
	*out = g;
	return 0;
}

struct sched_bind_info *sched_bind_dup(struct arena *a, const struct sched_bind_info *b)
{
	struct sched_bind_info *d = arena_zalloc(a, sizeof(*d));
	if (!d)
		return NULL;
	d->node = b->node ? arena_strdup(a, b->node) : NULL;
	d->chain = b->chain ? arena_strdup(a, b->chain) : NULL;
	d->nleaves = b->nleaves;
	int32_t *leaves = arena_alloc(a, (b->nleaves ? b->nleaves : 1) * sizeof(*leaves));
	struct sched_member_placement *ms = arena_zalloc(a, (b->nmembers ? b->nmembers : 1) * sizeof(*ms));
	if ((b->node && !d->node) || (b->chain && !d->chain) || !leaves || !ms)
		return NULL;
	if (b->nleaves)
		memcpy(leaves, b->leaves, b->nleaves * sizeof(*leaves));
	d->leaves = leaves;
	d->members = ms;
	d->nmembers = b->nmembers;
	for (size_t i = 0; i < b->nmembers; i++) {
		const struct sched_member_placement *m = &b->members[i];
		ms[i].leaf_cells = m->leaf_cells;
		ms[i].npods = m->npods;
		ms[i].pods = arena_zalloc(a, (m->npods ? m->npods : 1) * sizeof(*ms[i].pods));
		if (!ms[i].pods)
			return NULL;
		for (size_t p = 0; p < m->npods; p++) {
			const struct sched_pod_placement *sp = &m->pods[p];
			struct sched_pod_placement *dp = &ms[i].pods[p];
			size_t n = m->leaf_cells > 0 ? (size_t)m->leaf_cells : 0;
			dp->node = sp->node ? arena_strdup(a, sp->node) : NULL;
			dp->leaves = arena_alloc(a, (n ? n : 1) * sizeof(*dp->leaves));
			if ((sp->node && !dp->node) || !dp->leaves)
				return NULL;
			if (sp->leaves)
				memcpy(dp->leaves, sp->leaves, n * sizeof(*dp->leaves));
			if (sp->preassigned) {
				dp->preassigned = arena_alloc(a, (n ? n : 1) * sizeof(*dp->preassigned));
				if (!dp->preassigned)
					return NULL;
				for (size_t k = 0; k < n; k++) {
					dp->preassigned[k] = arena_strdup(a, sp->preassigned[k] ? sp->preassigned[k] : "");
					if (!dp->preassigned[k])
						return NULL;
				}
			}
		}
	}
	return d;
}
