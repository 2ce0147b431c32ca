/* SPDX-License-Identifier: MIT */
/*
 * inspect.c — read-only views of the state: groups, VCs and their cells,
 * nodes, single leaves (HiveD's inspect API and the hooks its test uses).
 * Nothing here changes state; returned strings live as long as the
 * scheduler (names) or until the next mutating call (group fields).
 */
#include <string.h>

#include "sched/internal.h"

static const char *const GROUP_STATES[] = {
#define X(name, s) s,
	SCHED_GROUP_STATE_MAP(X)
#undef X
};

static const char *const CELL_STATES[] = {
#define X(name, s) s,
	SCHED_CELL_STATE_MAP(X)
#undef X
};

const char *sched_group_state_name(int state)
{
	return state >= 0 && state < (int)(sizeof(GROUP_STATES) / sizeof(GROUP_STATES[0])) ? GROUP_STATES[state]
	                                                                                    : "Unknown";
}

const char *sched_cell_state_name(int state)
{
	return state >= 0 && state < (int)(sizeof(CELL_STATES) / sizeof(CELL_STATES[0])) ? CELL_STATES[state]
	                                                                                  : "Unknown";
}

static void group_info(const struct sched *s, const struct sched__group *g, struct sched_group_info *out)
{
	memset(out, 0, sizeof(*out));
	out->name = g->name;
	out->vc = g->vc < s->nvcs ? s->vcs[g->vc].name : "";
	out->priority = g->priority;
	out->state = g->state;
	out->lazy_preempted = !g->has_virt;
	out->lazy_preemptor = g->lazy_by;
	out->created = g->created;
	out->lazy_preempted_at = g->lazy_at;
	out->pods = g->npods;
	for (uint32_t i = 0; i < g->npods; i++)
		out->pods_allocated += g->pods[i].name != NULL;
	out->pods_preempting = g->npreempting;
	for (uint32_t i = 0; i < g->nleaves; i++)
		out->leaves += g->phys[i] != NULL;
}

int sched_group_get(const struct sched *s, const char *name, struct sched_group_info *out)
{
	const struct sched__group *g = sched__group_find(s, name);
	if (!g)
		return GERR_NOT_FOUND;
	group_info(s, g, out);
	return 0;
}

size_t sched_group_leaves(const struct sched *s, const char *name, struct sched_leaf_ref *out, size_t max)
{
	const struct sched__group *g = sched__group_find(s, name);
	size_t n = 0;
	if (!g)
		return 0;
	for (uint32_t i = 0; i < g->nleaves; i++) {
		const struct sched__cell *p = g->phys[i];
		if (!p)
			continue;
		if (n < max)
			out[n] = (struct sched_leaf_ref){ s->chains[p->chain].name, sched__node_name(s, p), p->leaf_index };
		n++;
	}
	return n;
}

void sched_group_foreach(const struct sched *s, void (*fn)(void *ctx, const struct sched_group_info *g), void *ctx)
{
	for (const struct sched__group *g = s->groups.head; g; g = g->next) {
		struct sched_group_info info;
		group_info(s, g, &info);
		fn(ctx, &info);
	}
}

size_t sched_vc_count(const struct sched *s)
{
	return s->nvcs;
}

int sched_vc_get(const struct sched *s, size_t i, const char *name, struct sched_vc_info *out)
{
	const struct sched__vc *vc = name ? sched__vc_find(s, name) : i < s->nvcs ? &s->vcs[i] : NULL;
	if (!vc)
		return GERR_NOT_FOUND;
	memset(out, 0, sizeof(*out));
	out->name = vc->name;
	out->quota_leaves = vc->quota_leaves;
	out->npinned = vc->npins;
	for (uint32_t c = 0; c < s->nchains; c++) {
		const struct sched__vchain *vch = &vc->chains[c];
		if (!vch->present)
			continue;
		out->nchains++;
		for (int l = 1; l <= s->chains[c].top; l++)
			out->doomed_cells += vch->doomed[l].n;
		for (int l = 1; l <= s->chains[c].top && vch->nonpinned; l++)
			for (uint32_t k = 0; k < vch->pre[l].n; k++)
				out->used_leaves += vch->pre[l].v[k]->used;
	}
	for (uint16_t p = 0; p < vc->npins; p++)
		out->used_leaves += s->pins[vc->pins[p]].virt->used;
	for (const struct sched__group *g = s->groups.head; g; g = g->next)
		if (g->vc == vc->index && !g->has_virt)
			for (uint32_t k = 0; k < g->nleaves; k++)
				out->opportunistic_leaves += g->phys[k] != NULL;
	return 0;
}

/* vc's figures for chains [first, first + n) into out[0..n), in one walk
 * over the groups. */
static void vc_chains(const struct sched *s, const struct sched__vc *vc, size_t first, size_t n,
                      struct sched_vc_chain_info *out)
{
	for (size_t i = 0; i < n; i++) {
		size_t c = first + i;
		const struct sched__chain *ch = &s->chains[c];
		const struct sched__vchain *vch = &vc->chains[c];
		struct sched_vc_chain_info *o = &out[i];
		memset(o, 0, sizeof(*o));
		o->chain = ch->name;
		o->leaf_type = ch->leaf_type;
		o->present = vch->present;
		o->quota_leaves = vch->quota_leaves;
		for (int l = 1; l <= ch->top && vch->nonpinned; l++)
			for (uint32_t k = 0; k < vch->pre[l].n; k++)
				o->used_leaves += vch->pre[l].v[k]->used;
		for (uint16_t p = 0; p < vc->npins; p++) {
			const struct sched__pin *pin = &s->pins[vc->pins[p]];
			if (pin->chain == c) {
				o->quota_leaves += pin->phys->total;
				o->used_leaves += pin->virt->used;
			}
		}
	}
	for (const struct sched__group *g = s->groups.head; g; g = g->next)
		if (g->vc == vc->index && !g->has_virt)
			for (uint32_t k = 0; k < g->nleaves; k++)
				if (g->phys[k] && g->phys[k]->chain >= first && g->phys[k]->chain < first + n)
					out[g->phys[k]->chain - first].opportunistic_leaves++;
}

int sched_vc_chain_get(const struct sched *s, const char *vcname, size_t chain, struct sched_vc_chain_info *out)
{
	const struct sched__vc *vc = sched__vc_find(s, vcname);
	if (!vc || chain >= s->nchains)
		return GERR_NOT_FOUND;
	vc_chains(s, vc, chain, 1, out);
	return 0;
}

int sched_vc_chains_get(const struct sched *s, size_t i, struct sched_vc_chain_info *out)
{
	if (i >= s->nvcs)
		return GERR_NOT_FOUND;
	vc_chains(s, &s->vcs[i], 0, s->nchains, out);
	return 0;
}

int sched_vc_cells(const struct sched *s, const char *vcname, const char *chain, int level,
                   void (*fn)(void *ctx, const struct sched_cell_info *c), void *ctx)
{
	const struct sched__vc *vc = sched__vc_find(s, vcname);
	const struct sched__chain *ch = sched__chain_find(s, chain);
	if (!vc || !ch)
		return GERR_NOT_FOUND;
	const struct sched__vchain *vch = &vc->chains[ch->index];
	int n = 0;
	if (!vch->present || !vch->nonpinned)
		return 0;
	for (int l = 1; l <= ch->top; l++) {
		if (level && l != level)
			continue;
		for (uint32_t k = 0; k < vch->pre[l].n; k++) {
			const struct sched__cell *c = vch->pre[l].v[k];
			const struct sched__cell *p = c->peer;
			struct sched_cell_info info = {
				.address = c->address,
				.type = ch->types[l],
				.level = l,
				.priority = c->priority,
				.free = c->priority == SCHED__FREE,
				.healthy = p ? sched__healthy(p) : true,
				.doomed = p && p->doomed_idx >= 0,
				.bound_node = p ? sched__node_name(s, p) : "",
				.bound_address = p ? p->address : "",
			};
			n++;
			if (fn)
				fn(ctx, &info);
		}
	}
	return n;
}

size_t sched_node_count(const struct sched *s)
{
	return s->nnodes;
}

int sched_node_get(const struct sched *s, size_t i, const char *name, struct sched_node_info *out)
{
	const struct sched__node *n = name ? sched__node_find(s, name) : i < s->nnodes ? &s->nodes[i] : NULL;
	if (!n)
		return GERR_NOT_FOUND;
	memset(out, 0, sizeof(*out));
	out->name = n->name;
	out->healthy = !n->bad;
	for (uint32_t k = 0; k < n->nleaves; k++) {
		const struct sched__cell *c = n->leaves[k];
		out->leaves++;
		out->used += c->used;
		out->opportunistic += c->used_oppo;
	}
	return 0;
}

int sched_leaf_get(const struct sched *s, const char *chain, const char *node, int32_t leaf,
                   struct sched_leaf_info *out)
{
	const struct sched__node *n = sched__node_find(s, node);
	const struct sched__chain *ch = chain ? sched__chain_find(s, chain) : NULL;
	if (!n || (chain && !ch))
		return GERR_NOT_FOUND;
	for (uint32_t k = 0; k < n->nleaves; k++) {
		const struct sched__cell *c = n->leaves[k];
		if (c->leaf_index != leaf || (ch && c->chain != ch->index))
			continue;
		out->state = c->state;
		out->priority = c->priority;
		out->healthy = sched__healthy(c);
		out->group = c->using ? c->using->name : NULL;
		out->reserved_by = c->reserving ? c->reserving->name : NULL;
		return 0;
	}
	return GERR_NOT_FOUND;
}

size_t sched_chain_count(const struct sched *s)
{
	return s->nchains;
}

const char *sched_chain_name(const struct sched *s, size_t i)
{
	return i < s->nchains ? s->chains[i].name : NULL;
}

const char *sched_chain_leaf_type(const struct sched *s, size_t i)
{
	return i < s->nchains ? s->chains[i].leaf_type : NULL;
}

int32_t sched_chain_leaves(const struct sched *s, size_t i)
{
	return i < s->nchains ? (int32_t)s->chains[i].total_leaves : 0;
}

int64_t sched_total_leaves(const struct sched *s)
{
	return s->total_leaves;
}

int64_t sched_used_leaves(const struct sched *s)
{
	int64_t used = 0;
	for (uint32_t c = 0; c < s->nchains; c++) {
		const struct sched__clist *top = &s->chains[c].full[s->chains[c].top];
		for (uint32_t k = 0; k < top->n; k++)
			used += top->v[k]->used;
	}
	return used;
}
