/* SPDX-License-Identifier: MIT */
/*
 * schedule.c — sched_schedule: one decision for one pod of a gang.
 *
 * DESIGN
 * ------
 * HiveD's Schedule, step by step (hived_algorithm.go):
 *   1. validate the request as HiveD's pod spec checks do (user errors);
 *   2. an existing group: an allocated gang hands out its next pod slot; a
 *      preempting gang reports its remaining victims, or is cancelled in the
 *      preempt phase when its placement touches a bad or disallowed node;
 *   3. a new group: the pinned cell, or each chain of the leaf type (chains
 *      descending by name; any type: types in config order), first fit wins.
 *      Guaranteed groups are placed in their VC's cells (topology view), the
 *      VC's downgradable victims are lazily preempted, and the virtual
 *      placement is mapped to physical cells by buddy allocation;
 *      opportunistic groups are placed on the chain's physical cells;
 *   4. victims: whole gangs using the cells; in the preempt phase older
 *      preemptors overlapping the placement are cancelled and, if there are
 *      victims, the group becomes Preempting. Cancelling can hand the
 *      placement's VC cells to other hardware (doomed cells); then the
 *      placement is made again (HiveD binds a virtual cell twice).
 * A BIND creates no state (the caller commits with sched_pod_add), except
 * the lazy downgrades of step 3, as in HiveD.
 */
#include <stdio.h>
#include <string.h>

#include "sched/internal.h"

struct lazy_rec {
	struct sched__group *g;
	bool had_virt;
};

struct ctx {
	struct sched *s;
	const struct sched_request *req;
	struct sched__shape sh;
	struct sched__vc *vc;
	int64_t now;
	struct sched__fail fail;     /* the reason to report */
	struct sched__fail cur;      /* this chain's */
	bool failed_once;
	/* the placement found */
	struct sched__cell **phys, **virt;
	uint16_t chain;
};

/* ---- validation (ExtractPodSchedulingSpec, validateSchedulingRequest) ------ */

static int validate(struct sched *s, const struct sched_request *req, struct sched__shape *sh, int32_t *pod_leaves,
                    struct gerr *err)
{
	if (!req->vc || !*req->vc)
		return gerr_set(err, GERR_INVALID, "virtualCluster is empty");
	if (req->priority < SCHED_PRIORITY_OPPORTUNISTIC)
		return gerr_set(err, GERR_INVALID, "priority %d is less than -1", req->priority);
	if (req->priority > SCHED_PRIORITY_MAX)
		return gerr_set(err, GERR_INVALID, "priority %d is greater than 1000", req->priority);
	if (!req->group || !*req->group)
		return gerr_set(err, GERR_INVALID, "affinity group name is empty");
	struct sched_member one;
	const struct sched_member *m = req->members;
	size_t nm = req->nmembers;
	if (!nm || !m) {
		/* HiveD's default group: the pod alone */
		one = (struct sched_member){ req->pod_leaf_cells, 1 };
		m = &one;
		nm = 1;
	}
	int rc = sched__shape_of(s, &s->scratch, m, nm, sh, err);
	if (rc)
		return rc;
	*pod_leaves = req->pod_leaf_cells ? req->pod_leaf_cells : m[0].leaf_cells;
	if (*pod_leaves <= 0)
		return gerr_set(err, GERR_INVALID, "leafCellNumber is non-positive (%d)", *pod_leaves);
	for (uint32_t i = 0; i < sh->nm; i++)
		if (sh->m[i].leaves == *pod_leaves)
			return 0;
	return gerr_set(err, GERR_INVALID,
	                "the pod asks for %d leaf cells, but no member of affinity group %s has that many "
	                "(AffinityGroup.Members does not contain the pod)", *pod_leaves, req->group);
}

static void set_suggested(struct sched *s, const struct sched_nodeset *sg)
{
	if (!sg) {
		s->sugg_all = true;
		return;
	}
	s->sugg_all = false;
	s->sugg_gen++;
	for (size_t i = 0; i < sg->n; i++) {
		struct sched__node *n = sg->names[i] ? sched__node_find(s, sg->names[i]) : NULL;
		if (n)
			n->sugg_gen = s->sugg_gen;
	}
}

/* Any leaf of the placement on a bad or disallowed node? */
static bool has_bad_or_unsuggested(const struct sched *s, struct sched__cell **phys, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct sched__cell *p = phys[i];
		if (p && (!sched__healthy(p) || !sched__suggested(s, p->nodes[0])))
			return true;
	}
	return false;
}

/* ---- placing a new group ----------------------------------------------------------- */

static const char *leaf_type_of(const struct ctx *x, uint16_t chain)
{
	if (x->req->leaf_type && *x->req->leaf_type)
		return x->req->leaf_type;
	return chain < x->s->nchains ? x->s->chains[chain].leaf_type : NULL;
}

static bool place_guaranteed(struct ctx *x, struct sched__view *view, uint16_t chain, const char *where)
{
	struct sched *s = x->s;
	uint32_t n = x->sh.nleaves;
	struct sched__cell **virt = sched__tmp(s, n * sizeof(*virt));
	struct sched__cell **phys = sched__tmp(s, n * sizeof(*phys));
	struct lazy_rec *lazy = sched__tmp(s, n * sizeof(*lazy));
	struct sched__cell *at;
	if (!virt || !phys || !lazy)
		return false;
	int fit = sched__view_place(s, view, &x->sh, x->req->priority, virt, &at);
	if (fit != SCHED__FIT_OK) {
		bool pinned = x->req->pinned_cell && *x->req->pinned_cell;
		sched__fail_view(s, &x->cur, view, fit, at, &x->sh, x->req->priority, where,
		                 pinned ? SCHED_WAIT_PINNED_BUSY : SCHED_WAIT_VC_BUSY, leaf_type_of(x, chain));
		return false;
	}
	/* tryLazyPreempt: downgrade lazily-preemptible victims first, so the
	 * mapping below may find other free cells and kill nobody */
	uint32_t nlazy = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sched__cell *p = virt[i]->peer;
		if (!p || p->state != SCHED_CELL_USED || !p->using || !p->using->lazy_enabled)
			continue;
		struct sched__group *g = p->using;
		uint32_t k = 0;
		while (k < nlazy && lazy[k].g != g)
			k++;
		if (k == nlazy) {
			lazy[nlazy].g = g;
			lazy[nlazy++].had_virt = g->has_virt;
		}
		sched__lazy_preempt(s, g, x->req->group, x->now);
	}
	/* A downgrade can release a VC cell that the doomed-cell logic at once
	 * binds to bad hardware, under this very placement: then it cannot be
	 * used (HiveD would place the job on the bad node). */
	bool usable = true;
	for (uint32_t i = 0; nlazy && i < n && usable; i++) {
		const struct sched__cell *p = virt[i]->peer;
		usable = !p || (sched__healthy(p) && sched__suggested(s, p->nodes[0]));
	}
	if (usable && sched__map_virtual(s, chain, &x->sh, virt, phys)) {
		x->phys = phys;
		x->virt = virt;
		x->chain = chain;
		return true;
	}
	for (uint32_t k = 0; k < nlazy; k++)
		if (lazy[k].had_virt)
			sched__lazy_revert(s, lazy[k].g);
	char shape[128];
	sched__shape_text(&x->sh, leaf_type_of(x, chain), shape, sizeof(shape));
	uint32_t bad = 0, nodes = 0;
	struct sched__view *pv = &s->chains[chain].view;
	for (uint32_t i = 0; i < pv->n; i++) {
		const struct sched__cell *c = pv->order[i]->cell;
		nodes++;
		bad += !sched__healthy(c) || !sched__suggested(s, c->nodes[0]);
	}
	sched__fail_set(&x->cur, SCHED_WAIT_NO_HEALTHY_CELL,
	                "%s has room for %s, but its free cells would have to be mapped onto bad%s physical cells "
	                "(%u of the chain's %u nodes are %s)",
	                where, shape, s->sugg_all ? "" : " or disallowed", bad, nodes,
	                s->sugg_all ? "bad" : "bad or not allowed");
	return false;
}

static bool place_opportunistic(struct ctx *x, uint16_t chain)
{
	struct sched *s = x->s;
	struct sched__chain *ch = &s->chains[chain];
	struct sched__cell **phys = sched__tmp(s, x->sh.nleaves * sizeof(*phys));
	struct sched__cell *at;
	char where[192];
	if (!phys)
		return false;
	int fit = sched__view_place(s, &ch->view, &x->sh, SCHED__OPPO, phys, &at);
	if (fit != SCHED__FIT_OK) {
		snprintf(where, sizeof(where), "the physical cells of chain '%s'", ch->name);
		sched__fail_view(s, &x->cur, &ch->view, fit, at, &x->sh, SCHED__OPPO, where, SCHED_WAIT_CLUSTER_BUSY,
		                 leaf_type_of(x, chain));
		return false;
	}
	x->phys = phys;
	x->virt = NULL;
	x->chain = chain;
	return true;
}

/* HiveD reports the last chain's failure; a user is better served by the
 * most hopeful one: "never fits" only when no chain could ever hold it. */
static void keep_failure(struct ctx *x)
{
	if (!x->failed_once || x->fail.wait == SCHED_WAIT_NEVER_FITS || x->cur.wait != SCHED_WAIT_NEVER_FITS)
		x->fail = x->cur;
	x->failed_once = true;
}

static bool place_in_chain(struct ctx *x, uint16_t chain)
{
	bool ok;
	if (x->req->priority < SCHED_PRIORITY_MIN) {
		ok = place_opportunistic(x, chain);
	} else {
		char where[192];
		snprintf(where, sizeof(where), "VC '%s' (chain '%s')", x->vc->name, x->s->chains[chain].name);
		ok = place_guaranteed(x, &x->vc->chains[chain].view, chain, where);
	}
	if (!ok)
		keep_failure(x);
	return ok;
}

/* scheduleAffinityGroupForLeafCellType */
static int place_leaf_type(struct ctx *x, const struct sched__ltype *t, bool specified, bool *placed,
                           struct gerr *err)
{
	bool vc_has = false;
	for (uint16_t i = 0; i < t->nchains; i++) {
		uint16_t c = t->chains[i];
		if (x->req->priority < SCHED_PRIORITY_MIN || x->vc->chains[c].nonpinned) {
			vc_has = true;
			if (place_in_chain(x, c)) {
				*placed = true;
				return 0;
			}
		}
	}
	if (specified && x->req->priority >= SCHED_PRIORITY_MIN && !vc_has)
		return gerr_set(err, GERR_INVALID, "leaf cell type %s is not in VC %s (the VC has no cells of it)",
		                t->name, x->vc->name);
	return 0;
}

static int place_new(struct ctx *x, struct gerr *err)
{
	struct sched *s = x->s;
	const struct sched_request *req = x->req;
	bool placed = false;
	x->vc = sched__vc_find(s, req->vc);
	if (!x->vc)
		return gerr_set(err, GERR_INVALID, "VC %s does not exist", req->vc);
	if (req->pinned_cell && *req->pinned_cell) {
		struct sched__pin *pin = sched__pin_find(x->vc, s, req->pinned_cell);
		if (!pin)
			return gerr_set(err, GERR_INVALID, "VC %s does not have pinned cell %s", req->vc,
			                req->pinned_cell);
		if (req->priority < SCHED_PRIORITY_MIN)
			return gerr_set(err, GERR_INVALID, "an opportunistic job cannot use pinned cell %s",
			                req->pinned_cell);
		char where[192];
		snprintf(where, sizeof(where), "pinned cell '%s' of VC '%s'", pin->id, x->vc->name);
		if (!place_guaranteed(x, &pin->view, pin->chain, where))
			keep_failure(x);
		return 0;
	}
	if (req->leaf_type && *req->leaf_type) {
		struct strmap_slot *sl = strmap_find(&s->ltype_map, req->leaf_type, strlen(req->leaf_type));
		if (!sl)
			return gerr_set(err, GERR_INVALID, "leaf cell type %s does not exist in the cluster",
			                req->leaf_type);
		return place_leaf_type(x, sl->val, true, &placed, err);
	}
	for (uint32_t i = 0; i < s->nltypes && !placed; i++) {
		int rc = place_leaf_type(x, &s->ltypes[i], false, &placed, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the result --------------------------------------------------------------- */

static char *rdup(struct sched_result *r, const char *s)
{
	return arena_strdup(&r->arena, s ? s : "");
}

/* generateAffinityGroupBindInfo */
static int emit_bind(struct sched *s, struct sched_result *r, const struct sched__member *m, uint32_t nm,
                     struct sched__cell **phys, struct sched__cell **virt, const struct sched_bind_info *origin,
                     int32_t pod_leaves, int32_t pod_index)
{
	struct sched_member_placement *ms = arena_zalloc(&r->arena, nm * sizeof(*ms));
	if (!ms)
		return GERR_NOMEM;
	const char *chain = NULL;
	r->bind.members = ms;
	r->bind.nmembers = nm;
	for (uint32_t k = 0; k < nm; k++) {
		int32_t leaves = m[k].leaves;
		ms[k].leaf_cells = leaves;
		ms[k].npods = (size_t)m[k].pods;
		ms[k].pods = arena_zalloc(&r->arena, (size_t)m[k].pods * sizeof(*ms[k].pods));
		if (!ms[k].pods)
			return GERR_NOMEM;
		for (int32_t i = 0; i < m[k].pods; i++) {
			struct sched_pod_placement *pp = &ms[k].pods[i];
			pp->leaves = arena_alloc(&r->arena, (size_t)leaves * sizeof(*pp->leaves));
			pp->preassigned = arena_alloc(&r->arena, (size_t)leaves * sizeof(*pp->preassigned));
			if (!pp->leaves || !pp->preassigned)
				return GERR_NOMEM;
			for (int32_t j = 0; j < leaves; j++) {
				uint32_t at = m[k].leaf_off + (uint32_t)i * (uint32_t)leaves + (uint32_t)j;
				struct sched__cell *p = phys[at];
				if (!p) {
					/* gone after a reconfiguration: insist on the recorded placement */
					const struct sched_pod_placement *op = NULL;
					for (size_t a = 0; origin && a < origin->nmembers && !op; a++)
						if (origin->members[a].leaf_cells == leaves && (size_t)i < origin->members[a].npods)
							op = &origin->members[a].pods[i];
					pp->node = rdup(r, op ? op->node : "");
					for (int32_t b = 0; b < leaves; b++) {
						pp->leaves[b] = op ? op->leaves[b] : -1;
						pp->preassigned[b] = rdup(r, op && op->preassigned ? op->preassigned[b] : "");
					}
					chain = origin ? origin->chain : NULL;
					continue;
				}
				if (!pp->node)
					pp->node = sched__node_name(s, p);
				pp->leaves[j] = p->leaf_index;
				struct sched__cell *v = virt ? virt[at] : NULL;
				pp->preassigned[j] = v ? s->chains[v->chain].types[v->preassigned->level] : "";
			}
			if (!pp->node)
				pp->node = "";
		}
		if (leaves == pod_leaves && pod_index < m[k].pods) {
			struct sched_pod_placement *pp = &ms[k].pods[pod_index];
			r->bind.node = pp->node;
			r->bind.leaves = pp->leaves;
			r->bind.nleaves = (size_t)leaves;
			struct sched__cell *first = phys[m[k].leaf_off + (uint32_t)pod_index * (uint32_t)leaves];
			if (first)
				chain = s->chains[first->chain].name;
		}
	}
	r->bind.chain = chain ? rdup(r, chain) : "";
	r->pod_index = pod_index;
	r->has_placement = true;
	return 0;
}

static int emit_victims(struct sched_result *r, const struct sched__victims *v)
{
	size_t n = 0;
	for (uint32_t i = 0; i < v->ngroups; i++)
		for (uint32_t k = 0; k < v->groups[i]->npods; k++)
			n += v->groups[i]->pods[k].name != NULL;
	if (!n)
		return 0;
	r->victims = arena_alloc(&r->arena, n * sizeof(*r->victims));
	if (!r->victims)
		return GERR_NOMEM;
	const char *node = NULL;
	for (uint32_t i = 0; i < v->ngroups; i++) {
		const struct sched__group *g = v->groups[i];
		for (uint32_t k = 0; k < g->npods; k++) {
			if (!g->pods[k].name)
				continue;
			struct sched_victim *x = &r->victims[r->nvictims++];
			x->group = rdup(r, g->name);
			x->pod = rdup(r, g->pods[k].name);
			x->node = rdup(r, g->pods[k].node);
			if (!node)
				node = x->node;
		}
	}
	/* the node HiveD would report (it picks one at random): the first
	 * victim's; its victims first, stably */
	size_t w = 0;
	for (size_t i = 0; i < r->nvictims; i++) {
		if (!strcmp(r->victims[i].node, node)) {
			struct sched_victim t = r->victims[i];
			memmove(&r->victims[w + 1], &r->victims[w], (i - w) * sizeof(t));
			r->victims[w++] = t;
		}
	}
	r->victim_node = node;
	r->nvictims_on_node = w;
	return 0;
}

static void result_reset(struct sched_result *r)
{
	arena_reset(&r->arena);
	struct arena a = r->arena;
	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->decision = SCHED_WAIT;
	r->reason = "";
	r->pod_index = -1;
}

void sched_result_init(struct sched_result *r)
{
	memset(r, 0, sizeof(*r));
	arena_init(&r->arena, 4096);
	r->reason = "";
	r->pod_index = -1;
	r->decision = SCHED_WAIT;
}

void sched_result_fini(struct sched_result *r)
{
	arena_fini(&r->arena);
}

static int finish(struct sched *s, int rc, struct gerr *err)
{
	if (!rc && s->self_check)
		sched__check(s);
	if (!rc && s->broken)
		rc = gerr_set(err, GERR_INTERNAL, "the scheduler's state is inconsistent: %s", s->broken_why);
	return rc;
}

/* Can every virtual leaf of the placement still be bound where it goes
 * (taking back doomed cells if need be)? */
static bool still_bound(const struct ctx *x)
{
	for (uint32_t i = 0; x->virt && i < x->sh.nleaves; i++)
		if (!sched__undoom_for(x->s, x->virt[i], x->phys[i]))
			return false;
	return true;
}

int sched_schedule(struct sched *s, const struct sched_request *req, int64_t now, struct sched_result *res,
                   struct gerr *err)
{
	struct ctx x = { .s = s, .req = req, .now = now };
	int32_t pod_leaves = 0;
	int rc;

	result_reset(res);
	arena_reset(&s->scratch);
	s->cap_undo = s->nundo = 0;
	s->undo = NULL;
	if (s->broken)
		return gerr_set(err, GERR_INTERNAL, "the scheduler's state is inconsistent: %s", s->broken_why);
	if ((rc = validate(s, req, &x.sh, &pod_leaves, err)))
		return rc;
	set_suggested(s, req->suggested);

	struct sched__group *g = sched__group_find(s, req->group);
	struct sched__victims victims = { 0 };
	if (g && g->state == SCHED_GROUP_ALLOCATED) {
		/* a later pod of a placed gang takes its slot, even on a now bad node */
		int32_t k = sched__member_index(g, pod_leaves);
		int32_t slot = -1;
		for (int32_t i = 0; k >= 0 && i < g->members[k].pods && slot < 0; i++)
			if (!g->pods[g->members[k].pod_off + (uint32_t)i].name)
				slot = i;
		if (slot < 0)
			return gerr_set(err, GERR_INVALID,
			                "requesting more pods than the configured number for %d leaf cells (%d pods) in "
			                "affinity group %s", pod_leaves, k >= 0 ? g->members[k].pods : 0, req->group);
		rc = emit_bind(s, res, g->members, g->nmembers, g->phys, g->has_virt ? g->virt : NULL, g->origin,
		               pod_leaves, slot);
		if (rc)
			return gerr_set(err, rc, "out of memory");
		res->decision = SCHED_BIND;
		res->opportunistic = !g->has_virt;
		return finish(s, 0, err);
	}
	if (g) {
		/* Preempting (or BeingPreempted, which HiveD treats alike) */
		if (req->phase == SCHED_PHASE_PREEMPT && has_bad_or_unsuggested(s, g->phys, g->nleaves)) {
			sched__delete_preempting(s, g);
			g = NULL;
		} else {
			if ((rc = sched__collect_victims(s, g->phys, g->nleaves, &victims)) ||
			    !sched__group_add_preempting_pod(g, req->pod))
				return gerr_set(err, GERR_NOMEM, "out of memory");
			rc = emit_bind(s, res, g->members, g->nmembers, g->phys, g->has_virt ? g->virt : NULL, NULL,
			               pod_leaves, 0);
			if (rc || (rc = emit_victims(res, &victims)))
				return gerr_set(err, GERR_NOMEM, "out of memory");
			res->decision = res->nvictims ? SCHED_PREEMPT : SCHED_BIND;
			res->opportunistic = !g->has_virt;
			return finish(s, 0, err);
		}
	}

again:
	if ((rc = place_new(&x, err)))
		return finish(s, rc, err);
	if (!x.phys) {
		res->decision = SCHED_WAIT;
		if (!x.failed_once)
			sched__fail_set(&x.fail, SCHED_WAIT_NEVER_FITS,
			                "VC '%s' has no cells of %s for this job (only pinned cells or none); ask for one "
			                "of its pinned cells or use priority -1 (opportunistic)",
			                req->vc, req->leaf_type && *req->leaf_type ? req->leaf_type : "any leaf cell type");
		res->wait = x.fail.wait;
		res->reason = rdup(res, x.fail.msg);
		return finish(s, 0, err);
	}
	if ((rc = sched__collect_victims(s, x.phys, x.sh.nleaves, &victims)))
		return gerr_set(err, rc, "out of memory");
	if (req->phase == SCHED_PHASE_PREEMPT) {
		/* a higher priority overrides earlier preemptors on these cells */
		for (uint32_t i = 0; i < victims.npreemptors; i++)
			sched__delete_preempting(s, victims.preemptors[i]);
		if (victims.npreemptors && !still_bound(&x)) {
			/* Releasing those reservations handed VC cells of this
			 * placement back, and they went elsewhere: the placement is
			 * stale (HiveD would bind one virtual cell to two physical
			 * ones). Place again; every round removes a preemptor. */
			x.phys = x.virt = NULL;
			x.failed_once = false;
			victims = (struct sched__victims){ 0 };
			goto again;
		}
		if (victims.ngroups) {
			struct sched__group *ng;
			if (sched__group_reserve(s) ||
			    !(ng = sched__group_new(s, req, &x.sh, (uint16_t)x.vc->index, SCHED_GROUP_PREEMPTING, now)))
				return gerr_set(err, GERR_NOMEM, "out of memory");
			ng->chain = x.chain;
			sched__create_preempting(s, ng, x.phys, x.virt);
			if (!sched__group_add_preempting_pod(ng, req->pod)) {
				sched__group_free(ng);
				return gerr_set(err, GERR_NOMEM, "out of memory");
			}
			sched__group_insert(s, ng);
		}
	}
	rc = emit_bind(s, res, x.sh.m, x.sh.nm, x.phys, x.virt, NULL, pod_leaves, 0);
	if (rc || (rc = emit_victims(res, &victims)))
		return gerr_set(err, GERR_NOMEM, "out of memory");
	res->decision = res->nvictims ? SCHED_PREEMPT : SCHED_BIND;
	res->opportunistic = x.virt == NULL;
	return finish(s, 0, err);
}
