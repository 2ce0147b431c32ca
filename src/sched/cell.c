/* SPDX-License-Identifier: MIT */
/*
 * cell.c — what every cell operation is made of: priorities (a cell's is the
 * max of its children's), states (a parent is Used if any child is, else it
 * shares its children's state), used-leaf counts per priority, health, and
 * the binding of virtual cells to physical ones.
 *
 * Only leaves carry real priorities and states; the walks up keep the
 * invariants of HiveD's setCellPriority / setCellState. A cell that is a
 * node of a cluster view tells its view when anything its sort key depends
 * on changes (usage, health, binding), so views re-sort only what moved.
 */
#include "sched/internal.h"

void sched__view_mark(struct sched__cell *c)
{
	struct sched__vnode *n = c->vnode;
	if (!n || n->dirty)
		return;
	n->dirty = true;
	n->view->dirty[n->view->ndirty++] = n;
}

void sched__set_priority(struct sched__cell *c, int p)
{
	for (;;) {
		int orig = c->priority;
		c->priority = (int16_t)p;
		struct sched__cell *parent = c->parent;
		if (!parent)
			return;
		if (p > parent->priority) {
			c = parent;
			continue;
		}
		if (orig == parent->priority && p < orig) {
			int max = SCHED__FREE;
			for (uint16_t i = 0; i < parent->nchildren; i++)
				if (parent->children[i]->priority > max)
					max = parent->children[i]->priority;
			p = max;
			c = parent;
			continue;
		}
		return;
	}
}

static void pcount_add(struct sched__vnode *n, int p, int delta)
{
	for (uint16_t i = 0; i < n->nprio; i++) {
		if (n->prio[i].prio == p) {
			n->prio[i].n += delta;
			if (n->prio[i].n == 0)
				n->prio[i] = n->prio[--n->nprio];
			return;
		}
	}
	if (delta > 0 && n->nprio < n->prio_cap)
		n->prio[n->nprio++] = (struct sched__pcount){ (int16_t)p, delta };
}

void sched__update_used(struct sched__cell *c, int p, bool inc)
{
	int delta = inc ? 1 : -1;
	if (p < SCHED__OPPO)
		return;   /* a free cell is not "used" at any priority */
	for (; c; c = c->parent) {
		c->used += delta;
		if (p == SCHED__OPPO)
			c->used_oppo += delta;
		if (c->vnode) {
			pcount_add(c->vnode, p, delta);
			sched__view_mark(c);
		}
	}
}

static bool all_children_in(const struct sched__cell *c, int state)
{
	for (uint16_t i = 0; i < c->nchildren; i++)
		if (c->children[i]->state != state)
			return false;
	return true;
}

void sched__set_state(struct sched__cell *c, int state)
{
	for (;;) {
		c->state = (uint8_t)state;
		if (c->peer)
			c->peer->state = (uint8_t)state;
		struct sched__cell *parent = c->parent;
		if (!parent || (state != SCHED_CELL_USED && !all_children_in(parent, state)))
			return;
		c = parent;
	}
}

void sched__set_health(struct sched__cell *c, bool healthy)
{
	if (healthy)
		c->flags |= SCHED__HEALTHY;
	else
		c->flags &= (uint8_t)~SCHED__HEALTHY;
	sched__view_mark(c);
	if (c->peer) {
		if (healthy)
			c->peer->flags |= SCHED__HEALTHY;
		else
			c->peer->flags &= (uint8_t)~SCHED__HEALTHY;
		sched__view_mark(c->peer);
	}
}

/* SetVirtualCell + SetPhysicalCell: the virtual cell takes the physical's
 * health; its state follows on the next state change (as in HiveD). */
void sched__bind_one(struct sched__cell *p, struct sched__cell *v)
{
	p->peer = v;
	v->peer = p;
	if (sched__healthy(p))
		v->flags |= SCHED__HEALTHY;
	else
		v->flags &= (uint8_t)~SCHED__HEALTHY;
	sched__view_mark(v);
}

void sched__unbind_one(struct sched__cell *p)
{
	struct sched__cell *v = p->peer;
	p->peer = NULL;
	if (!v)
		return;
	v->peer = NULL;
	v->state = SCHED_CELL_FREE;
	v->flags |= SCHED__HEALTHY;
	sched__view_mark(v);
}

void sched__bind(struct sched__cell *p, struct sched__cell *v)
{
	while (p && v && !v->peer) {
		sched__bind_one(p, v);
		if (!v->parent)
			break;
		v = v->parent;
		p = p->parent;
	}
}

bool sched__binding_agrees(const struct sched__cell *v, const struct sched__cell *p)
{
	for (; v && p; v = v->parent, p = p->parent)
		if (v->peer || p->peer)
			return v->peer == p && p->peer == v;
	return true;
}

void sched__unbind(struct sched__cell *p)
{
	struct sched__cell *bv = p->peer;
	while (bv && bv->peer && !sched__pinned(bv->peer)) {
		sched__unbind_one(bv->peer);
		struct sched__cell *parent = bv->parent;
		if (!parent)
			return;
		for (uint16_t i = 0; i < parent->nchildren; i++)
			if (parent->children[i]->peer)
				return;
		bv = parent;
	}
}

bool sched__in_free_list(const struct sched__cell *c)
{
	for (;;) {
		if (c->peer || sched__split(c))
			return false;
		if (!c->parent || sched__split(c->parent))
			return true;
		c = c->parent;
	}
}

struct sched__cell *sched__unbound_child(const struct sched *s, struct sched__cell *v)
{
	if (!v)
		return NULL;
	struct sched__cell *claimed = NULL;
	for (uint16_t i = 0; i < v->nchildren; i++) {
		struct sched__cell *c = v->children[i];
		if (c->peer)
			continue;
		if (!sched__claimed(s, c))
			return c;
		if (!claimed)
			claimed = c;
	}
	return claimed;
}

void sched__claim(struct sched *s, struct sched__cell *const *virt, struct sched__cell *const *phys, uint32_t n)
{
	s->claim_gen++;
	s->claiming = true;
	for (uint32_t i = 0; i < n; i++) {
		for (struct sched__cell *c = virt ? virt[i] : NULL; c && !c->peer && c->claim != s->claim_gen; c = c->parent)
			c->claim = s->claim_gen;
		for (struct sched__cell *c = phys[i]; c && !c->peer && c->claim != s->claim_gen; c = c->parent)
			c->claim = s->claim_gen;
	}
}

bool sched__claimed(const struct sched *s, const struct sched__cell *c)
{
	return s->claiming && c->claim == s->claim_gen;
}

void sched__unclaim(struct sched *s)
{
	s->claiming = false;
}

/* getLowestPriorityVirtualCell: a free unbound cell at once, else the
 * lowest-priority cell below p (a reconfiguration may leave none free). */
struct sched__cell *sched__lowest_priority(struct sched__cell **cl, uint32_t n, int p)
{
	int lowest = SCHED_PRIORITY_MAX;
	struct sched__cell *best = NULL;
	for (uint32_t i = 0; i < n; i++) {
		struct sched__cell *c = cl[i];
		if (c->priority == SCHED__FREE) {
			if (!c->peer)
				return c;
			continue;   /* bound while free: a doomed bad binding, not preemptible */
		}
		if (c->priority < p && c->priority < lowest) {
			lowest = c->priority;
			best = c;
		}
	}
	return best;
}
