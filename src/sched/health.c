/* SPDX-License-Identifier: MIT */
/*
 * health.c — bad nodes and "doomed" bad cells (HiveD's setBadNode and
 * friends, microsoft/hivedscheduler#25).
 *
 * A cell is bad when any leaf below it is. A bad cell still in the buddy
 * free lists is tracked in bad_free; a bad cell inside a cell some VC holds
 * is bound to one of that VC's unbound virtual cells so the VC's scheduler
 * sees it. When a VC has more unbound preassigned cells at a level than the
 * healthy free cells there (checked per VC, not summed), some of its cells
 * are doomed: bound to bad free cells and allocated, so intra-VC scheduling
 * stops choosing placements that could only map to bad hardware. The checks
 * re-run whenever the counts change; VCs are visited in config order (HiveD
 * iterates a Go map).
 */
#include "sched/internal.h"

static void add_bad_free(struct sched *s, struct sched__cell *c)
{
	struct sched__chain *ch = &s->chains[c->chain];
	int l = c->level;
	sched__clist_append(&ch->bad_free[l], c, SCHED__LIST_BAD);
	if (ch->all_vc_free[l] > ch->total_left[l] - (int32_t)ch->bad_free[l].n)
		sched__try_bind_doomed(s, c->chain, l);
}

static void remove_bad_free(struct sched *s, struct sched__cell *c)
{
	struct sched__chain *ch = &s->chains[c->chain];
	sched__clist_remove(&ch->bad_free[c->level], c, SCHED__LIST_BAD);
	sched__try_unbind_doomed(s, c->chain, c->level);
}

static void set_bad_cell(struct sched *s, struct sched__cell *c)
{
	if (!sched__healthy(c))
		return;
	sched__set_health(c, false);
	if (c->parent)
		set_bad_cell(s, c->parent);
	if (sched__in_free_list(c)) {
		add_bad_free(s, c);
	} else if (!c->peer && !sched__split(c) && c->parent) {
		/* inside a bound cell: bind it so the VC sees the failure */
		struct sched__cell *v = sched__unbound_child(s, c->parent->peer);
		if (v)
			sched__bind_one(c, v);
	}
}

static void set_healthy_cell(struct sched *s, struct sched__cell *c)
{
	if (sched__healthy(c))
		return;
	sched__set_health(c, true);
	if (sched__in_free_list(c)) {
		remove_bad_free(s, c);
	} else if (c->peer && !sched__pinned(c) && c->priority < SCHED_PRIORITY_MIN) {
		/* bound only because it was bad */
		struct sched__cell *v = c->peer;
		sched__unbind_one(c);
		if (!v->parent && v->vc < s->nvcs) {
			/* a preassigned cell: it was doomed */
			struct sched__vchain *vch = &s->vcs[v->vc].chains[c->chain];
			sched__clist_remove(&vch->doomed[c->level], c, SCHED__LIST_DOOMED);
			s->chains[c->chain].all_vc_doomed[c->level]--;
			sched__release_preassigned(s, c, v->vc, true);
		}
	}
	struct sched__cell *parent = c->parent;
	if (!parent)
		return;
	for (uint16_t i = 0; i < parent->nchildren; i++)
		if (!sched__healthy(parent->children[i]))
			return;
	set_healthy_cell(s, parent);
}

void sched__set_bad_node(struct sched *s, struct sched__node *n)
{
	if (n->bad)
		return;
	n->bad = true;
	for (uint32_t i = 0; i < n->nleaves; i++)
		set_bad_cell(s, n->leaves[i]);
}

void sched__set_healthy_node(struct sched *s, struct sched__node *n)
{
	if (!n->bad)
		return;
	n->bad = false;
	for (uint32_t i = 0; i < n->nleaves; i++)
		set_healthy_cell(s, n->leaves[i]);
}

static struct sched__cell *unbound_preassigned(struct sched__vchain *vch, int l)
{
	for (uint32_t i = 0; i < vch->pre[l].n; i++)
		if (!vch->pre[l].v[i]->peer)
			return vch->pre[l].v[i];
	return NULL;
}

/* The first bad free cell, passing over those a placement being bound
 * will take in a moment (see sched__claim). */
static struct sched__cell *unclaimed_bad(const struct sched *s, const struct sched__clist *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (!sched__claimed(s, l->v[i]))
			return l->v[i];
	return NULL;
}

void sched__try_bind_doomed(struct sched *s, uint16_t chain, int l)
{
	struct sched__chain *ch = &s->chains[chain];
	for (uint32_t i = 0; i < s->nvcs; i++) {
		struct sched__vchain *vch = &s->vcs[i].chains[chain];
		if (!vch->present)
			continue;
		while (vch->free[l] > ch->total_left[l] - (int32_t)ch->bad_free[l].n) {
			struct sched__cell *pc = unclaimed_bad(s, &ch->bad_free[l]);
			struct sched__cell *v = pc ? unbound_preassigned(vch, l) : NULL;
			if (!v)
				break;
			sched__bind_one(pc, v);
			sched__clist_append(&vch->doomed[l], pc, SCHED__LIST_DOOMED);
			ch->all_vc_doomed[l]++;
			sched__allocate_preassigned(s, pc, (uint16_t)i, true, NULL, 0);
		}
	}
}

void sched__try_unbind_doomed(struct sched *s, uint16_t chain, int l)
{
	struct sched__chain *ch = &s->chains[chain];
	for (uint32_t i = 0; i < s->nvcs; i++) {
		struct sched__vchain *vch = &s->vcs[i].chains[chain];
		if (!vch->present)
			continue;
		while (vch->doomed[l].n && vch->free[l] < ch->total_left[l] - (int32_t)ch->bad_free[l].n) {
			struct sched__cell *pc = vch->doomed[l].v[0];
			sched__unbind_one(pc);
			sched__clist_remove(&vch->doomed[l], pc, SCHED__LIST_DOOMED);
			ch->all_vc_doomed[l]--;
			sched__release_preassigned(s, pc, (uint16_t)i, true);
		}
	}
}

void sched__allocate_bad(struct sched *s, struct sched__cell *c)
{
	struct sched__chain *ch = &s->chains[c->chain];
	sched__clist_remove(&ch->bad_free[c->level], c, SCHED__LIST_BAD);
	if (!c->peer && c->parent && !sched__claimed(s, c)) {
		struct sched__cell *v = sched__unbound_child(s, c->parent->peer);
		if (v)
			sched__bind_one(c, v);
	}
	for (uint16_t i = 0; i < c->nchildren; i++)
		if (!sched__healthy(c->children[i]))
			sched__allocate_bad(s, c->children[i]);
}

void sched__release_bad(struct sched *s, struct sched__cell *c)
{
	struct sched__chain *ch = &s->chains[c->chain];
	sched__clist_append(&ch->bad_free[c->level], c, SCHED__LIST_BAD);
	if (c->peer)
		sched__unbind_one(c);
	for (uint16_t i = 0; i < c->nchildren; i++)
		if (!sched__healthy(c->children[i]))
			sched__release_bad(s, c->children[i]);
}

/* Give a doomed cell back: unbound, off its VC's doomed list, free again. */
static void undoom(struct sched *s, struct sched__cell *c)
{
	struct sched__cell *pre = c->peer;
	struct sched__vchain *vch = &s->vcs[pre->vc].chains[c->chain];
	sched__unbind_one(c);
	sched__clist_remove(&vch->doomed[c->level], c, SCHED__LIST_DOOMED);
	s->chains[c->chain].all_vc_doomed[c->level]--;
	sched__release_preassigned(s, c, pre->vc, true);
}

bool sched__undoom_for(struct sched *s, struct sched__cell *v, const struct sched__cell *p)
{
	if (sched__binding_agrees(v, p))
		return true;
	struct sched__cell *pre = v->preassigned;
	struct sched__cell *pc = pre->peer;
	/* a physical cell is on one doomed list at most: its VC's */
	if (!pc || pre->priority >= SCHED_PRIORITY_MIN || pre->vc >= s->nvcs || pc->doomed_idx < 0)
		return false;
	undoom(s, pc);
	return sched__binding_agrees(v, p);
}

bool sched__undoom_above(struct sched *s, struct sched__cell *p, const struct sched__cell *keep)
{
	for (struct sched__cell *c = p; c; c = c->parent)
		if (c->doomed_idx >= 0) {
			if (!c->peer || c->peer == keep || c->peer->vc >= s->nvcs)
				return false;
			undoom(s, c);
			return true;
		}
	return false;
}
