/* SPDX-License-Identifier: MIT */
/*
 * preempt.c — stateful, gang-aware preemption and lazy preemption.
 *
 * A guaranteed group may take cells used by lower-priority groups of its VC
 * (intra-VC) or by opportunistic groups (any VC). Victims are whole gangs.
 * In the preempt phase the preemptor becomes a Preempting group that holds
 * its cells right away: cells still used by a victim become Reserving,
 * free ones Reserved, so only a higher-priority group can take them; that
 * group first cancels the older preemption. When the victims' pods are gone
 * the cells are Reserved and the preemptor's next call binds.
 *
 * Lazy preemption (a victim's choice): instead of being killed at once, the
 * victim loses its virtual cells and runs on as an opportunistic group; it
 * is only killed if the preemptor really needs its physical cells. If the
 * preemptor's placement cannot be mapped, the downgrade is reverted.
 */
#include <string.h>

#include "sched/internal.h"

int sched__collect_victims(struct sched *s, struct sched__cell **phys, uint32_t n, struct sched__victims *out)
{
	out->groups = sched__tmp(s, (n ? n : 1) * sizeof(*out->groups));
	out->preemptors = sched__tmp(s, (n ? n : 1) * sizeof(*out->preemptors));
	out->ngroups = out->npreemptors = 0;
	if (!out->groups || !out->preemptors)
		return GERR_NOMEM;
	s->gen++;
	for (uint32_t i = 0; i < n; i++) {
		struct sched__cell *p = phys[i];
		if (!p)
			continue;
		if ((p->state == SCHED_CELL_USED || p->state == SCHED_CELL_RESERVING) && p->using &&
		    p->using->vgen != s->gen) {
			p->using->vgen = s->gen;
			out->groups[out->ngroups++] = p->using;
		}
		if ((p->state == SCHED_CELL_RESERVING || p->state == SCHED_CELL_RESERVED) && p->reserving &&
		    p->reserving->pgen != s->gen) {
			p->reserving->pgen = s->gen;
			out->preemptors[out->npreemptors++] = p->reserving;
		}
	}
	return 0;
}

void sched__create_preempting(struct sched *s, struct sched__group *g, struct sched__cell **phys,
                              struct sched__cell **virt)
{
	memcpy(g->phys, phys, g->nleaves * sizeof(*phys));
	if (virt)
		memcpy(g->virt, virt, g->nleaves * sizeof(*virt));
	g->has_virt = virt != NULL;
	sched__claim(s, virt, phys, g->nleaves);
	for (uint32_t i = 0; i < g->nleaves; i++) {
		struct sched__cell *p = phys[i];
		if (p->state == SCHED_CELL_USED && p->using) {
			struct sched__group *u = p->using;
			sched__release_leaf(s, p, u->vc);
			u->state = SCHED_GROUP_BEING_PREEMPTED;
		}
		sched__allocate_leaf(s, p, virt ? virt[i] : NULL, g->priority, g->vc, NULL, 0);
		p->reserving = g;
		sched__set_state(p, p->state == SCHED_CELL_USED ? SCHED_CELL_RESERVING : SCHED_CELL_RESERVED);
	}
	sched__unclaim(s);
}

/* retrieveVirtualCell */
static struct sched__cell *virtual_of(const struct sched__group *g, const struct sched__cell *p)
{
	if (!g->has_virt)
		return NULL;
	for (uint32_t i = 0; i < g->nleaves; i++)
		if (g->phys[i] == p)
			return g->virt[i];
	return NULL;
}

void sched__delete_preempting(struct sched *s, struct sched__group *g)
{
	struct sched__group **lost = sched__tmp(s, g->nleaves * sizeof(*lost));
	struct sched__cell **back = sched__tmp(s, 2 * g->nleaves * sizeof(*back));
	uint32_t nlost = 0, nback = 0;
	for (uint32_t i = 0; back && i < g->nleaves; i++) {
		struct sched__cell *p = g->phys[i];
		struct sched__cell *v = p && p->state == SCHED_CELL_RESERVING && p->using ? virtual_of(p->using, p) : NULL;
		if (v) {
			back[nback] = v;
			back[g->nleaves + nback++] = p;
		}
	}
	sched__claim(s, back, back ? back + g->nleaves : NULL, nback);
	for (uint32_t i = 0; i < g->nleaves; i++) {
		struct sched__cell *p = g->phys[i];
		if (!p)
			continue;
		sched__release_leaf(s, p, g->vc);
		p->reserving = NULL;
		if (p->state == SCHED_CELL_RESERVING) {
			/* back to the group it was being taken from */
			sched__set_state(p, SCHED_CELL_USED);
			struct sched__group *b = p->using;
			if (!b)
				continue;
			struct sched__cell *v = virtual_of(b, p);
			if (v && !sched__undoom_for(s, v, p)) {
				/* Its VC cell went to another group of the VC meanwhile:
				 * restoring it would bind one virtual cell twice (HiveD
				 * does). The victim runs on opportunistically, as if
				 * lazily preempted by g, as soon as the loop is done. */
				v = NULL;
				uint32_t k = 0;
				while (k < nlost && lost[k] != b)
					k++;
				if (k == nlost && lost)
					lost[nlost++] = b;
			}
			sched__allocate_leaf(s, p, v, v ? b->priority : SCHED__OPPO, b->vc, NULL, 0);
		} else {
			sched__set_state(p, SCHED_CELL_FREE);
		}
	}
	sched__unclaim(s);
	for (uint32_t k = 0; k < nlost; k++)
		sched__lazy_preempt(s, lost[k], g->name, lost[k]->lazy_at ? lost[k]->lazy_at : g->created);
	sched__group_remove(s, g);
	sched__group_free(g);
}

void sched__allocate_preempting(struct sched *s, struct sched__group *g)
{
	(void)s;
	for (uint32_t i = 0; i < g->nleaves; i++) {
		struct sched__cell *p = g->phys[i];
		if (!p)
			continue;
		if (p->reserving == g)
			p->reserving = NULL;
		p->using = g;
		sched__set_state(p, SCHED_CELL_USED);
	}
	g->state = SCHED_GROUP_ALLOCATED;
	g->npreempting = 0;
}

void sched__lazy_preempt(struct sched *s, struct sched__group *victim, const char *preemptor, int64_t now)
{
	if (victim->has_virt) {
		for (uint32_t i = 0; i < victim->nleaves; i++) {
			/* only the leaves it still holds at its priority: one lost
			 * to a preemptor has its virtual cell released, perhaps
			 * bound to another group's leaf by now (HiveD follows the
			 * binding and downgrades that group's leaf) */
			struct sched__cell *v = victim->virt[i];
			struct sched__cell *p = victim->phys[i];
			if (!v || !p || v->peer != p || p->using != victim || p->state != SCHED_CELL_USED ||
			    p->priority < SCHED_PRIORITY_MIN)
				continue;
			sched__release_leaf(s, p, victim->vc);
			sched__allocate_leaf(s, p, NULL, SCHED__OPPO, victim->vc, NULL, 0);
		}
	}
	victim->has_virt = false;   /* the array is kept: it is what a revert restores */
	/* reuse the buffer: a waiting preemptor may downgrade and revert the
	 * same victim on every attempt */
	size_t len = strlen(preemptor ? preemptor : "") + 1;
	if (len > victim->lazy_cap) {
		char *b = arena_alloc(&victim->arena, len);
		if (b) {
			victim->lazy_buf = b;
			victim->lazy_cap = len;
		}
	}
	if (len <= victim->lazy_cap) {
		memcpy(victim->lazy_buf, preemptor ? preemptor : "", len);
		victim->lazy_by = victim->lazy_buf;
	} else {
		victim->lazy_by = "";
	}
	victim->lazy_at = now;
}

void sched__lazy_preempt_cell(struct sched *s, struct sched__cell *v, const char *preemptor, int64_t now)
{
	if (v->level == 1 && v->state == SCHED_CELL_USED && v->peer && v->peer->using)
		sched__lazy_preempt(s, v->peer->using, preemptor, now);
	for (uint16_t i = 0; i < v->nchildren; i++)
		sched__lazy_preempt_cell(s, v->children[i], preemptor, now);
}

void sched__lazy_revert(struct sched *s, struct sched__group *g)
{
	/* Releasing the victim's virtual cells may have let the doomed-cell
	 * logic bind one of them to other (bad) hardware: take it back. Should
	 * a cell have gone elsewhere, restoring would leave virtual and
	 * physical leaves disagreeing (HiveD does it anyway): the victim stays
	 * downgraded instead. */
	for (uint32_t i = 0; i < g->nleaves; i++)
		if (g->phys[i] && g->virt[i] && !sched__undoom_for(s, g->virt[i], g->phys[i]))
			return;
	sched__claim(s, g->virt, g->phys, g->nleaves);
	for (uint32_t i = 0; i < g->nleaves; i++) {
		struct sched__cell *p = g->phys[i];
		if (!p)
			continue;
		sched__release_leaf(s, p, g->vc);
		sched__allocate_leaf(s, p, g->virt[i], g->priority, g->vc, NULL, 0);
	}
	sched__unclaim(s);
	g->has_virt = true;
	g->lazy_by = NULL;
	g->lazy_at = 0;
}
