/* SPDX-License-Identifier: MIT */
/*
 * commit.c — pods taking and giving back their cells (HiveD's
 * AddAllocatedPod, DeleteAllocatedPod, DeleteUnallocatedPod).
 *
 * The first committed pod of a gang creates the group from the bind info and
 * takes every cell of the placement; that same path rebuilds the state after
 * a restart, from the bind infos the server persisted. Pods are identified
 * by name; a pod's slot is found from its own node and first leaf in the
 * bind info, as HiveD does (HiveD puts the first pod of a new group in slot
 * 0 whatever its placement; here it takes its own slot, which matters when a
 * restart re-adds pods in another order).
 */
#include <string.h>

#include "sched/internal.h"

/* getAllocatedPodIndex */
static int32_t pod_slot(const struct sched_bind_info *b, int32_t leaves)
{
	if (!b->node || !b->leaves || !b->nleaves)
		return -1;
	for (size_t i = 0; i < b->nmembers; i++) {
		const struct sched_member_placement *m = &b->members[i];
		if (m->leaf_cells != leaves)
			continue;
		for (size_t p = 0; p < m->npods; p++) {
			const struct sched_pod_placement *pp = &m->pods[p];
			if (!pp->node || strcmp(pp->node, b->node))
				continue;
			for (int32_t k = 0; k < m->leaf_cells; k++)
				if (pp->leaves[k] == b->leaves[0])
					return (int32_t)p;
		}
	}
	return -1;
}

static int done(struct sched *s, struct gerr *err)
{
	if (s->self_check)
		sched__check(s);
	return s->broken ? gerr_set(err, GERR_INTERNAL, "the scheduler's state is inconsistent: %s", s->broken_why) : 0;
}

int sched_pod_add(struct sched *s, const struct sched_request *req, const char *pod,
                  const struct sched_bind_info *bind, int64_t now, struct gerr *err)
{
	struct sched__shape sh;
	int rc;
	arena_reset(&s->scratch);
	if (!req || !req->group || !*req->group)
		return gerr_set(err, GERR_INVALID, "affinity group name is empty");
	if (!pod || !*pod)
		return gerr_set(err, GERR_INVALID, "pod name is empty");
	if (!bind)
		return gerr_set(err, GERR_INVALID, "no bind info");
	int32_t leaves = req->pod_leaf_cells ? req->pod_leaf_cells : (int32_t)bind->nleaves;
	struct sched_member one = { leaves, 1 };
	if ((rc = sched__shape_of(s, &s->scratch, req->nmembers ? req->members : &one,
	                          req->nmembers ? req->nmembers : 1, &sh, err)))
		return rc;
	struct sched__group *g = sched__group_find(s, req->group);
	int32_t slot;
	if (g) {
		if (g->state == SCHED_GROUP_PREEMPTING)
			sched__allocate_preempting(s, g);
		slot = pod_slot(bind, leaves);
		if (slot < 0)
			return gerr_set(err, GERR_INVALID, "pod %s: its placement (node %s) is not in the bind info of group %s",
			                pod, bind->node ? bind->node : "?", req->group);
	} else {
		if ((rc = sched__group_create_allocated(s, req, &sh, bind, now, &g, err)))
			return rc;
		slot = pod_slot(bind, leaves);
		if (slot < 0)
			slot = 0;
	}
	int32_t k = sched__member_index(g, leaves);
	if (k < 0 || slot >= g->members[k].pods)
		return gerr_set(err, GERR_INVALID, "pod %s asks for %d leaf cells; group %s has no such pod slot", pod,
		                leaves, req->group);
	struct sched__pod *p = &g->pods[g->members[k].pod_off + (uint32_t)slot];
	if (!p->name || strcmp(p->name, pod)) {
		p->name = arena_strdup(&g->arena, pod);
		p->node = arena_strdup(&g->arena, bind->node ? bind->node : "");
		if (!p->name || !p->node)
			return gerr_set(err, GERR_NOMEM, "out of memory");
	}
	return done(s, err);
}

int sched_group_commit(struct sched *s, const struct sched_request *req, const struct sched_bind_info *bind,
                       const char *const *pod_names, int64_t now, struct gerr *err)
{
	size_t n = 0;
	if (!bind || !pod_names)
		return gerr_set(err, GERR_INVALID, "no bind info or pod names");
	for (size_t i = 0; i < bind->nmembers; i++) {
		const struct sched_member_placement *m = &bind->members[i];
		for (size_t p = 0; p < m->npods; p++) {
			struct sched_request r = *req;
			struct sched_bind_info b = *bind;
			r.pod_leaf_cells = m->leaf_cells;
			b.node = m->pods[p].node;
			b.leaves = m->pods[p].leaves;
			b.nleaves = (size_t)m->leaf_cells;
			int rc = sched_pod_add(s, &r, pod_names[n++], &b, now, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static bool all_released(const struct sched__group *g)
{
	for (uint32_t i = 0; i < g->npods; i++)
		if (g->pods[i].name)
			return false;
	return true;
}

int sched_pod_delete(struct sched *s, const char *group, const char *pod, struct gerr *err)
{
	struct sched__group *g = sched__group_find(s, group);
	if (!g)
		return gerr_set(err, GERR_NOT_FOUND, "group %s is not allocated", group ? group : "(null)");
	arena_reset(&s->scratch);
	uint32_t i = 0;
	while (i < g->npods && !(g->pods[i].name && pod && !strcmp(g->pods[i].name, pod)))
		i++;
	if (i == g->npods)
		return gerr_set(err, GERR_NOT_FOUND, "pod %s is not an allocated pod of group %s", pod ? pod : "(null)",
		                group);
	g->pods[i].name = NULL;
	g->pods[i].node = NULL;
	if (all_released(g))
		sched__group_delete_allocated(s, g);
	return done(s, err);
}

int sched_pod_cancel(struct sched *s, const char *group, const char *pod)
{
	struct sched__group *g = sched__group_find(s, group);
	if (!g || g->state != SCHED_GROUP_PREEMPTING)
		return 0;
	arena_reset(&s->scratch);
	for (uint32_t i = 0; pod && i < g->npreempting; i++) {
		if (!strcmp(g->preempting[i], pod)) {
			g->preempting[i] = g->preempting[--g->npreempting];
			break;
		}
	}
	if (!g->npreempting)
		sched__delete_preempting(s, g);
	return done(s, NULL);
}

int sched_group_release(struct sched *s, const char *group, struct gerr *err)
{
	struct sched__group *g = sched__group_find(s, group);
	if (!g)
		return gerr_set(err, GERR_NOT_FOUND, "group %s is not allocated or preempting", group ? group : "(null)");
	arena_reset(&s->scratch);
	if (g->state == SCHED_GROUP_PREEMPTING)
		sched__delete_preempting(s, g);
	else
		sched__group_delete_allocated(s, g);
	return done(s, err);
}
