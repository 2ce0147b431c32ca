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
#include <stdio.h>
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
	return s->broken ? gerr_set(err, GERR_INTERNAL, "the scheduler's state is inconsistent: %s", s->broken_why) : 0;
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

/* The first broken invariant, for the error message (no I/O here). */
static bool broken(struct sched *s, const char *what, const struct sched__cell *c)
{
	if (!s->broken)
		snprintf(s->broken_why, sizeof(s->broken_why), "%s%s%s", what, c ? " at cell " : "",
		         c ? c->address : "");
	s->broken = true;
	return false;
}

static bool broken_at(struct sched *s, const char *what, const char *kind, const char *name, int level)
{
	if (!s->broken)
		snprintf(s->broken_why, sizeof(s->broken_why), "%s (%s %s, level %d)", what, kind, name, level);
	s->broken = true;
	return false;
}

static bool check_list(struct sched *s, const struct sched__clist *l, int which)
{
	for (uint32_t i = 0; i < l->n; i++) {
		const struct sched__cell *c = l->v[i];
		int32_t ix = which == SCHED__LIST_FREE ? c->free_idx : which == SCHED__LIST_BAD ? c->bad_idx : c->doomed_idx;
		if (ix != (int32_t)i)
			return broken(s, "a cell list index is stale", c);
	}
	return true;
}

static bool check_cell(struct sched *s, const struct sched__cell *c)
{
	if (c->peer && c->peer->peer != c)
		return broken(s, "a binding is one-sided", c);
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
			return broken(s, "a priority or used count disagrees with the children's", c);
		if (!sched__is_virtual(c) && healthy != sched__healthy(c))
			return broken(s, "health disagrees with the children's", c);
	}
	if (c->used < 0 || c->used_oppo < 0 || c->used > c->total)
		return broken(s, "a used count is out of range", c);
	return true;
}

/* Bindings form matching trees (a bound cell's parent is bound to its
 * peer's parent) and a used virtual leaf is bound to a physical leaf used
 * at its priority. */
static bool check_virtual(struct sched *s, const struct sched__cell *v)
{
	if (v->peer && v->peer->peer != v)
		return broken(s, "a binding is one-sided", v);
	if (v->peer && v->parent && (!v->parent->peer || v->parent->peer != v->peer->parent))
		return broken(s, "a virtual cell is bound outside its parent's physical cell", v);
	if (v->level == 1) {
		if (v->priority != SCHED__FREE && (!v->peer || v->peer->priority != v->priority))
			return broken(s, "a used virtual leaf is not bound to a physical leaf used at its priority", v);
		return true;
	}
	for (uint16_t i = 0; i < v->nchildren; i++)
		if (!check_virtual(s, v->children[i]))
			return false;
	return true;
}

/* Unhealthy cells at level l at or below c. */
static uint32_t bad_below(const struct sched__cell *c, int l)
{
	if (c->level == l)
		return !sched__healthy(c);
	uint32_t n = 0;
	for (uint16_t i = 0; i < c->nchildren; i++)
		n += bad_below(c->children[i], l);
	return n;
}

/* The buddy bookkeeping agrees with the free lists: total_left counts what
 * the lists can yield, bad_free holds exactly the bad cells among those,
 * listed cells are free (unbound, unsplit, top or with a split parent). */
static bool check_buddy(struct sched *s, const struct sched__chain *ch)
{
	for (int l = 1; l <= ch->top; l++) {
		int64_t left = 0, bad = 0;
		for (int L = l; L <= ch->top; L++) {
			left += (int64_t)ch->free[L].n * (ch->leaves[L] / ch->leaves[l]);
			for (uint32_t k = 0; k < ch->free[L].n; k++)
				bad += bad_below(ch->free[L].v[k], l);
		}
		if (left != ch->total_left[l])
			return broken_at(s, "a chain's count of free cells disagrees with its free lists", "chain", ch->name, l);
		if (bad != (int64_t)ch->bad_free[l].n)
			return broken_at(s, "a chain's bad free list disagrees with its free lists", "chain", ch->name, l);
		for (uint32_t k = 0; k < ch->free[l].n; k++) {
			const struct sched__cell *c = ch->free[l].v[k];
			if (c->peer || sched__split(c) || (c->parent && !sched__split(c->parent)))
				return broken(s, "a cell in a free list is bound or split", c);
		}
		for (uint32_t k = 0; k < ch->bad_free[l].n; k++)
			if (sched__healthy(ch->bad_free[l].v[k]) || !sched__in_free_list(ch->bad_free[l].v[k]))
				return broken(s, "a cell in a bad free list is healthy or not free", ch->bad_free[l].v[k]);
	}
	return true;
}

/* A VC's free count is its unbound preassigned cells; its doomed cells are
 * bound to its own preassigned cells. */
static bool check_vc(struct sched *s, const struct sched__vc *vc, uint32_t c)
{
	const struct sched__vchain *vch = &vc->chains[c];
	for (int l = 1; l <= s->chains[c].top; l++) {
		if (!check_list(s, &vch->doomed[l], SCHED__LIST_DOOMED))
			return false;
		int32_t unbound = 0;
		for (uint32_t k = 0; k < vch->pre[l].n; k++)
			unbound += !vch->pre[l].v[k]->peer;
		for (uint16_t p = 0; p < vc->npins; p++) {
			const struct sched__pin *pin = &s->pins[vc->pins[p]];
			if (pin->chain == c && pin->phys->level == l)
				unbound += !pin->virt->peer;
		}
		if (vch->free[l] < 0 || unbound != vch->free[l])
			return broken_at(s, "a VC's free cell count disagrees with its unbound cells", "VC", vc->name, l);
		for (uint32_t k = 0; k < vch->pre[l].n; k++)
			if (!check_virtual(s, vch->pre[l].v[k]))
				return false;
		for (uint32_t k = 0; k < vch->doomed[l].n; k++) {
			const struct sched__cell *v = vch->doomed[l].v[k]->peer;
			if (!v || v->parent || v->vc != vc->index)
				return broken(s, "a doomed cell is not bound to its VC's cell", vch->doomed[l].v[k]);
		}
	}
	return true;
}

void sched__check(struct sched *s)
{
	bool ok = !s->in_txn && s->nundo == 0;
	if (!ok)
		broken(s, "a free-list transaction was left open", NULL);
	for (uint32_t c = 0; c < s->nchains && ok; c++) {
		struct sched__chain *ch = &s->chains[c];
		for (int l = 1; l <= ch->top && ok; l++) {
			ok = check_list(s, &ch->free[l], SCHED__LIST_FREE) && check_list(s, &ch->bad_free[l], SCHED__LIST_BAD);
			for (uint32_t k = 0; k < ch->full[l].n && ok; k++)
				ok = check_cell(s, ch->full[l].v[k]);
		}
		ok = ok && check_buddy(s, ch);
		if (ok && !sched__view_check(s, &ch->view))
			ok = broken(s, "a chain's cluster view is out of order", NULL);
	}
	for (uint32_t v = 0; v < s->nvcs && ok; v++) {
		for (uint32_t c = 0; c < s->nchains && ok; c++) {
			struct sched__vchain *vch = &s->vcs[v].chains[c];
			if (!vch->present)
				continue;
			ok = check_vc(s, &s->vcs[v], c);
			if (ok && vch->nonpinned && !sched__view_check(s, &vch->view))
				ok = broken(s, "a VC's cluster view is out of order", NULL);
		}
	}
	for (uint32_t i = 0; i < s->npins && ok; i++)
		if (!sched__view_check(s, &s->pins[i].view))
			ok = broken(s, "a pinned cell's view is out of order", NULL);
}
