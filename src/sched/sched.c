/* SPDX-License-Identifier: MIT */
/*
 * sched.c — building and freeing a scheduler, node health, lookups and the
 * self-check.
 *
 * Start-up follows HiveD's NewHivedAlgorithm: cells and counts from the
 * config (config.c), pinned cells bound to their VCs, then every node marked
 * bad — the server reports healthy ones as they show up. Marking all bad
 * first and healthy later reorders the buddy free lists (doomed cells are
 * bound and released), and HiveD's expected placements depend on that.
 */
#include <stdlib.h>
#include <string.h>

#include "sched/internal.h"
#include "spec/spec.h"

struct sched__node *sched__node_find(const struct sched *s, const char *name)
{
	if (!name)
		return NULL;
	struct strmap_slot *sl = strmap_find(&s->node_map, name, strlen(name));
	return sl ? &s->nodes[(uintptr_t)sl->val - 1] : NULL;
}

struct sched__vc *sched__vc_find(const struct sched *s, const char *name)
{
	if (!name)
		return NULL;
	struct strmap_slot *sl = strmap_find(&s->vc_map, name, strlen(name));
	return sl ? sl->val : NULL;
}

struct sched__chain *sched__chain_find(const struct sched *s, const char *name)
{
	if (!name)
		return NULL;
	struct strmap_slot *sl = strmap_find(&s->chain_map, name, strlen(name));
	return sl ? sl->val : NULL;
}

struct sched__pin *sched__pin_find(const struct sched__vc *vc, const struct sched *s, const char *id)
{
	for (uint16_t i = 0; vc && id && i < vc->npins; i++)
		if (!strcmp(s->pins[vc->pins[i]].id, id))
			return &s->pins[vc->pins[i]];
	return NULL;
}

const char *sched__node_name(const struct sched *s, const struct sched__cell *c)
{
	return c->nnodes ? s->nodes[c->nodes[0]].name : "";
}

static struct sched *alloc(void)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	arena_init(&s->arena, 1 << 16);
	arena_init(&s->scratch, 1 << 16);
	strmap_init(&s->node_map, &s->arena);
	strmap_init(&s->vc_map, &s->arena);
	strmap_init(&s->chain_map, &s->arena);
	strmap_init(&s->ltype_map, &s->arena);
	return s;
}

/* initPinnedCells, then initBadNodes. */
static int start(struct sched *s)
{
	for (uint32_t i = 0; i < s->npins; i++) {
		struct sched__pin *pin = &s->pins[i];
		sched__allocate_preassigned(s, pin->phys, pin->vc, false, NULL, 0);
		sched__bind(pin->phys, pin->virt);
	}
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__clist *top = &s->chains[c].full[s->chains[c].top];
		for (uint32_t k = 0; k < top->n; k++)
			for (uint32_t n = 0; n < top->v[k]->nnodes; n++)
				sched__set_bad_node(s, &s->nodes[top->v[k]->nodes[n]]);
	}
	return 0;
}

struct sched *sched_new_from_value(const struct spec_value *root, struct gerr *err)
{
	struct sched *s = alloc();
	if (!s) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	/* config.c copies every string it keeps: the tree may die after this */
	int rc = sched__config_build(s, root, err);
	if (!rc)
		rc = start(s);
	if (rc) {
		sched_free(s);
		return NULL;
	}
	return s;
}

struct sched *sched_new(const char *text, size_t len, struct gerr *err)
{
	struct spec_job *doc = spec_job_new();
	if (!doc) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	int rc = spec_yaml_load(doc, text, len);
	if (rc) {
		if (rc == GERR_NOMEM)
			gerr_set(err, GERR_NOMEM, "out of memory");
		else if (doc->ndiags && doc->diags[0].line)
			gerr_set_at(err, GERR_CONFIG, doc->diags[0].line, doc->diags[0].col, "%u:%u: %s",
			            doc->diags[0].line, doc->diags[0].col, doc->diags[0].msg);
		else
			gerr_set(err, GERR_CONFIG, "%s", doc->ndiags ? doc->diags[0].msg : "cannot parse the config");
		spec_job_free(doc);
		return NULL;
	}
	struct sched *s = alloc();
	if (!s) {
		spec_job_free(doc);
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	rc = sched__config_build(s, doc->root, err);
	spec_job_free(doc);
	if (!rc)
		rc = start(s);
	if (rc) {
		sched_free(s);
		return NULL;
	}
	return s;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	struct sched__group *g = s->groups.head;
	while (g) {
		struct sched__group *next = g->next;
		sched__group_free(g);
		g = next;
	}
	free(s->groups.slots);
	arena_fini(&s->scratch);
	arena_fini(&s->arena);
	free(s);
}

int sched_node_set_health(struct sched *s, const char *node, bool healthy, struct gerr *err)
{
	struct sched__node *n = sched__node_find(s, node);
	if (!n)
		return gerr_set(err, GERR_NOT_FOUND, "node %s is not in the cluster config", node ? node : "(null)");
	arena_reset(&s->scratch);
	if (healthy)
		sched__set_healthy_node(s, n);
	else
		sched__set_bad_node(s, n);
	if (s->self_check)
		sched__check(s);
	return s->broken ? gerr_set(err, GERR_INTERNAL, "the scheduler's state is inconsistent") : 0;
}

void sched_nodes_set_healthy(struct sched *s)
{
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__clist *top = &s->chains[c].full[s->chains[c].top];
		for (uint32_t k = 0; k < top->n; k++)
			for (uint32_t n = 0; n < top->v[k]->nnodes; n++)
				sched__set_healthy_node(s, &s->nodes[top->v[k]->nodes[n]]);
	}
	if (s->self_check)
		sched__check(s);
}

void sched_set_self_check(struct sched *s, bool on)
{
	s->self_check = on;
}

/* ---- self-check ---------------------------------------------------------------- */

static bool check_list(const struct sched__clist *l, int which)
{
	for (uint32_t i = 0; i < l->n; i++) {
		const struct sched__cell *c = l->v[i];
		int32_t ix = which == SCHED__LIST_FREE ? c->free_idx : which == SCHED__LIST_BAD ? c->bad_idx : c->doomed_idx;
		if (ix != (int32_t)i)
			return false;
	}
	return true;
}

static bool check_cell(const struct sched__cell *c)
{
	if (c->peer && c->peer->peer != c)
		return false;
	if (c->nchildren) {
		int max = SCHED__FREE;
		int32_t used = 0;
		bool healthy = true;
		for (uint16_t i = 0; i < c->nchildren; i++) {
			const struct sched__cell *k = c->children[i];
			if (k->priority > max)
				max = k->priority;
			used += k->used;
			healthy = healthy && sched__healthy(k);
		}
		if (max != c->priority || used != c->used)
			return false;
		if (!sched__is_virtual(c) && healthy != sched__healthy(c))
			return false;
	}
	return c->used >= 0 && c->used_oppo >= 0 && c->used <= c->total;
}

void sched__check(struct sched *s)
{
	bool ok = !s->in_txn && s->nundo == 0;
	for (uint32_t c = 0; c < s->nchains && ok; c++) {
		struct sched__chain *ch = &s->chains[c];
		for (int l = 1; l <= ch->top && ok; l++) {
			ok = check_list(&ch->free[l], SCHED__LIST_FREE) && check_list(&ch->bad_free[l], SCHED__LIST_BAD) &&
			     ch->total_left[l] >= 0;
			for (uint32_t k = 0; k < ch->full[l].n && ok; k++)
				ok = check_cell(ch->full[l].v[k]);
		}
		ok = ok && sched__view_check(s, &ch->view);
	}
	for (uint32_t v = 0; v < s->nvcs && ok; v++) {
		for (uint32_t c = 0; c < s->nchains && ok; c++) {
			struct sched__vchain *vch = &s->vcs[v].chains[c];
			if (!vch->present)
				continue;
			for (int l = 1; l <= s->chains[c].top && ok; l++)
				ok = check_list(&vch->doomed[l], SCHED__LIST_DOOMED) && vch->free[l] >= 0;
			if (vch->nonpinned)
				ok = ok && sched__view_check(s, &vch->view);
		}
	}
	for (uint32_t i = 0; i < s->npins && ok; i++)
		ok = sched__view_check(s, &s->pins[i].view);
	if (!ok)
		s->broken = true;
}
