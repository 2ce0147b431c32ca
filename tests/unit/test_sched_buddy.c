/* SPDX-License-Identifier: MIT */
/*
 * test_sched_buddy — buddy allocation, virtual→physical binding, bad nodes
 * and doomed cells, and recovery from bind infos:
 *   - free lists after start-up (all nodes bad, then healthy) in HiveD's
 *     order; splits and merges; the safety invariant;
 *   - a committed gang binds its VC cells to physical cells, a released one
 *     unbinds and merges them back;
 *   - a VC's free cells are doomed per VC, not globally (HiveD's testBadNodes);
 *   - re-adding the persisted bind infos to a fresh scheduler restores the
 *     same state, and the next decisions are the same.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/arena.h"
#include "base/gerr.h"
#include "sched/internal.h"
#include "sched/sched.h"
#include "sched_fixture.h"

static const char *data_dir(void)
{
	const char *d = getenv("GANTRY_TESTDATA");
	return d ? d : "tests/data";
}

/* The design config, optionally with VC2's third cell changed (testBadNodes). */
static struct sched *design(const char *vc2_cell2)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hived/hived-cases.json", data_dir());
	json_error_t e;
	json_t *doc = json_load_file(path, 0, &e);
	assert_non_null(doc);
	json_t *cfg = json_object_get(doc, "config");
	if (vc2_cell2) {
		json_t *cells = json_object_get(json_object_get(json_object_get(cfg, "virtualClusters"), "VC2"),
		                                "virtualCells");
		json_object_set_new(json_array_get(cells, 2), "cellType", json_string(vc2_cell2));
	}
	char *text = json_dumps(cfg, JSON_COMPACT);
	json_decref(doc);
	struct sched *s = sched_fixture(text);
	free(text);
	return s;
}

static struct sched *build(const char *yaml)
{
	return sched_fixture(yaml);
}

static const char *free_list(struct sched *s, const char *chain, int level, char *buf, size_t len)
{
	struct sched__chain *ch = sched__chain_find(s, chain);
	size_t off = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < ch->free[level].n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", ch->free[level].v[i]->address);
	return buf;
}

static void safe(struct sched *s)
{
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__chain *ch = &s->chains[c];
		for (int l = 1; l <= ch->top; l++)
			if (ch->total_left[l] < ch->all_vc_free[l])
				fail_msg("chain %s level %d: %d left < %d free VC cells", ch->name, l, ch->total_left[l],
				         ch->all_vc_free[l]);
	}
}

static const struct sched_nodeset *only_node;   /* suggested nodes for go(), or NULL */

static int go(struct sched *s, struct sched_result *r, const char *group, const char *vc, int prio, int32_t leaves,
              int32_t pods, const char *type, bool commit)
{
	struct sched_member m = { leaves, pods };
	struct sched_request req = { .group = group, .vc = vc, .priority = prio, .members = &m, .nmembers = 1,
	                             .leaf_type = type, .pod = "p0", .suggested = only_node };
	struct gerr err = { 0 };
	int rc = sched_schedule(s, &req, 7, r, &err);
	if (rc)
		fail_msg("schedule %s: %s", group, err.msg);
	if (commit && r->decision == SCHED_BIND) {
		static const char *const pods_names[8] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7" };
		if (sched_group_commit(s, &req, &r->bind, pods_names, 7, &err))
			fail_msg("commit %s: %s", group, err.msg);
	}
	return r->decision;
}

/* ---- free lists ---------------------------------------------------------------------- */

static void start_up_orders_the_free_lists_as_hived(void **state)
{
	(void)state;
	char b[256];
	struct sched *s = design(NULL);
	/* all nodes bad at start: VC2's CT1-NODE cell is doomed to 0.0.0.0, then
	 * released to the end of the list when it turns healthy */
	assert_string_equal(free_list(s, "CT1-NODE", 2, b, sizeof(b)), "0.0.0.1 0.0.0.0");
	assert_string_equal(free_list(s, "DGX2-V100-NODE", 5, b, sizeof(b)), "0.0.1.0 0.0.5.0");
	assert_string_equal(free_list(s, "4-DGX2-V100-NODE", 7, b, sizeof(b)), "8");
	assert_string_equal(free_list(s, "4-DGX2-V100-NODE", 6, b, sizeof(b)), "7/15");   /* 7/14 is pinned */
	assert_string_equal(free_list(s, "3-DGX1-P100-NODE", 5, b, sizeof(b)), "3");
	/* the pinned leaf split its node: leaf 9 is the only free CT1 leaf */
	assert_string_equal(free_list(s, "CT1-NODE", 1, b, sizeof(b)), "1.0.0.2/9");
	safe(s);
	sched_free(s);
	/* without VC2's CT1 cell nothing is doomed and the order stays */
	s = design("3-DGX2-V100-NODE.DGX2-V100-NODE");
	assert_string_equal(free_list(s, "CT1-NODE", 2, b, sizeof(b)), "0.0.0.0 0.0.0.1");
	sched_free(s);
}

static const char RACKS[] =
	"physicalCluster:\n"
	"  cellTypes:\n"
	"    PAIR: {childCellType: GPU, childCellNumber: 2}\n"
	"    NODE: {childCellType: PAIR, childCellNumber: 2, isNodeLevel: true}\n"
	"    RACK: {childCellType: NODE, childCellNumber: 2}\n"
	"  physicalCells:\n"
	"  - cellType: RACK\n    cellChildren: [{cellAddress: a1}, {cellAddress: a2}]\n"
	"  - cellType: RACK\n    cellChildren: [{cellAddress: b1}, {cellAddress: b2}]\n"
	"virtualClusters:\n"
	"  x: {virtualCells: [{cellType: RACK.NODE, cellNumber: 2}]}\n"
	"  y: {virtualCells: [{cellType: RACK.NODE.PAIR, cellNumber: 2}]}\n";

static void buddy_split_and_merge(void **state)
{
	(void)state;
	char b[256];
	struct sched *s = build(RACKS);
	struct sched_result r;
	sched_result_init(&r);
	assert_string_equal(free_list(s, "RACK", 4, b, sizeof(b)), "0 1");
	/* a pair cell of y: the lowest level first, splitting a rack and a node */
	assert_int_equal(go(s, &r, "y1", "y", 0, 2, 1, NULL, true), SCHED_BIND);
	assert_string_equal(r.bind.node, "a1");
	assert_string_equal(free_list(s, "RACK", 4, b, sizeof(b)), "1");
	assert_string_equal(free_list(s, "RACK", 3, b, sizeof(b)), "0/a2");   /* rack 0's other node */
	assert_string_equal(free_list(s, "RACK", 2, b, sizeof(b)), "0/a1/1");   /* the pair's buddy */
	safe(s);
	/* y's second pair takes the buddy: no new split */
	assert_int_equal(go(s, &r, "y2", "y", 0, 2, 1, NULL, true), SCHED_BIND);
	assert_string_equal(r.bind.node, "a1");
	assert_int_equal(r.bind.leaves[0], 2);
	assert_string_equal(free_list(s, "RACK", 2, b, sizeof(b)), "");
	/* x's nodes: a2 first (lowest free level), then a node of rack 1 */
	assert_int_equal(go(s, &r, "x1", "x", 0, 4, 1, NULL, true), SCHED_BIND);
	assert_string_equal(r.bind.node, "a2");
	assert_int_equal(go(s, &r, "x2", "x", 0, 4, 1, NULL, true), SCHED_BIND);
	assert_string_equal(r.bind.node, "b1");
	assert_string_equal(free_list(s, "RACK", 3, b, sizeof(b)), "1/b2");
	safe(s);
	/* the preassigned types in the bind info: what recovery needs */
	assert_string_equal(r.bind.members[0].pods[0].preassigned[0], "NODE");
	/* release: cells merge back up to racks */
	assert_int_equal(sched_pod_delete(s, "x2", "p0", NULL), 0);
	assert_string_equal(free_list(s, "RACK", 4, b, sizeof(b)), "1");
	assert_int_equal(sched_pod_delete(s, "y1", "p0", NULL), 0);
	assert_int_equal(sched_pod_delete(s, "y2", "p0", NULL), 0);
	assert_int_equal(sched_pod_delete(s, "x1", "p0", NULL), 0);
	assert_string_equal(free_list(s, "RACK", 4, b, sizeof(b)), "1 0");
	assert_string_equal(free_list(s, "RACK", 3, b, sizeof(b)), "");
	assert_string_equal(free_list(s, "RACK", 2, b, sizeof(b)), "");
	safe(s);
	sched_result_fini(&r);
	sched_free(s);
}

static void binding_follows_the_gang(void **state)
{
	(void)state;
	struct sched *s = build(RACKS);
	struct sched_result r;
	sched_result_init(&r);
	struct sched__vc *x = sched__vc_find(s, "x");
	struct sched__cell *v0 = x->chains[0].pre[3].v[0], *v1 = x->chains[0].pre[3].v[1];
	assert_null(v0->peer);
	/* a 2-pod gang of 2 GPUs packs into one VC node: one binding */
	struct sched_member m = { 2, 2 };
	struct sched_request req = { .group = "g", .vc = "x", .priority = 3, .members = &m, .nmembers = 1,
	                             .pod = "p0" };
	struct gerr err = { 0 };
	assert_int_equal(sched_schedule(s, &req, 1, &r, &err), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	assert_int_equal(r.bind.nmembers, 1);
	assert_int_equal(r.bind.members[0].npods, 2);
	assert_string_equal(r.bind.members[0].pods[0].node, r.bind.members[0].pods[1].node);
	/* nothing is bound before the commit */
	assert_null(v0->peer);
	/* commit the second pod first: it takes its own slot */
	struct sched_bind_info b = r.bind;
	b.node = r.bind.members[0].pods[1].node;
	b.leaves = r.bind.members[0].pods[1].leaves;
	assert_int_equal(sched_pod_add(s, &req, "p1", &b, 1, &err), 0);
	assert_non_null(v0->peer);
	assert_null(v1->peer);
	assert_string_equal(sched__node_name(s, v0->peer), r.bind.node);
	assert_int_equal(v0->priority, 3);
	assert_int_equal(v0->peer->priority, 3);
	/* the group hands out pod slots */
	req.pod = "p0";
	assert_int_equal(sched_schedule(s, &req, 2, &r, &err), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	assert_int_equal(r.pod_index, 0);
	assert_int_equal(sched_pod_add(s, &req, "p0", &r.bind, 2, &err), 0);
	assert_int_equal(sched_schedule(s, &req, 3, &r, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "more pods than the configured number"));
	struct sched_group_info gi;
	assert_int_equal(sched_group_get(s, "g", &gi), 0);
	assert_int_equal(gi.pods_allocated, 2);
	assert_int_equal(gi.leaves, 4);
	/* the last pod releases the cells and the binding */
	assert_int_equal(sched_pod_delete(s, "g", "p1", NULL), 0);
	assert_non_null(v0->peer);
	assert_int_equal(sched_pod_delete(s, "g", "p0", NULL), 0);
	assert_null(v0->peer);
	assert_int_equal(v0->priority, SCHED__FREE);
	assert_int_equal(sched_group_get(s, "g", &gi), GERR_NOT_FOUND);
	sched_result_fini(&r);
	sched_free(s);
}

/* ---- doomed bad cells (HiveD's testBadNodes) ------------------------------------------ */

struct health {
	int cells, bad, free_bad, free;
};

static void count(void *ctx, const struct sched_cell_info *c)
{
	struct health *h = ctx;
	h->cells++;
	h->bad += !c->healthy;
	h->free += c->free;
	h->free_bad += c->free && !c->healthy;
}

static struct health vc_health(struct sched *s, const char *vc)
{
	struct health h = { 0 };
	sched_vc_cells(s, vc, "3-DGX2-V100-NODE", 5, count, &h);
	return h;
}

static void doomed_cells_are_per_vc(void **state)
{
	(void)state;
	struct sched *s = design("3-DGX2-V100-NODE.DGX2-V100-NODE");
	struct sched_result r;
	sched_result_init(&r);
	struct gerr err = { 0 };
	const char *n0[] = { "0.0.2.0" }, *n2[] = { "0.0.2.2" };
	struct sched_nodeset at0 = { n0, 1 }, at2 = { n2, 1 };
	only_node = &at0;   /* as HiveD's test: keep the job off the other chains */
	assert_int_equal(go(s, &r, "g42", "VC1", 0, 16, 1, "DGX2-V100", true), SCHED_BIND);
	only_node = NULL;
	assert_string_equal(r.bind.node, "0.0.2.0");
	/* one healthy free node left and each VC alone fits: nothing doomed */
	assert_int_equal(sched_node_set_health(s, "0.0.2.1", false, &err), 0);
	assert_int_equal(vc_health(s, "VC1").bad, 0);
	assert_int_equal(vc_health(s, "VC2").bad, 0);
	/* VC2 takes the healthy node: VC1's free cell is doomed */
	only_node = &at2;
	assert_int_equal(go(s, &r, "g43", "VC2", 0, 16, 1, "DGX2-V100", true), SCHED_BIND);
	only_node = NULL;
	assert_string_equal(r.bind.node, "0.0.2.2");
	struct health h = vc_health(s, "VC1");
	assert_int_equal(h.free, 1);
	assert_int_equal(h.free_bad, 1);
	struct sched_vc_info vi;
	sched_vc_get(s, 0, "VC1", &vi);
	assert_int_equal(vi.doomed_cells, 1);
	assert_int_equal(sched_pod_delete(s, "g43", "p0", NULL), 0);
	assert_int_equal(vc_health(s, "VC1").bad, 0);
	/* no healthy free node: both VCs' free cells doomed */
	assert_int_equal(sched_node_set_health(s, "0.0.2.2", false, &err), 0);
	assert_int_equal(vc_health(s, "VC1").free_bad, 1);
	assert_int_equal(vc_health(s, "VC2").free_bad, 1);
	/* a doomed VC cannot place there; the reason says which node is bad */
	assert_int_equal(go(s, &r, "g99", "VC2", 0, 16, 1, "DGX2-V100", false), SCHED_WAIT);
	assert_int_equal(r.wait, SCHED_WAIT_BAD_NODE);
	assert_int_equal(sched_node_set_health(s, "0.0.2.2", true, &err), 0);
	assert_int_equal(vc_health(s, "VC1").bad, 0);
	assert_int_equal(vc_health(s, "VC2").bad, 0);
	/* all bad, and the allocated node freed: every cell of both VCs bad */
	assert_int_equal(sched_node_set_health(s, "0.0.2.0", false, &err), 0);
	assert_int_equal(sched_node_set_health(s, "0.0.2.2", false, &err), 0);
	assert_int_equal(sched_pod_delete(s, "g42", "p0", NULL), 0);
	h = vc_health(s, "VC1");
	assert_int_equal(h.bad, h.cells);
	h = vc_health(s, "VC2");
	assert_int_equal(h.bad, h.cells);
	safe(s);
	/* and back: healthy again, nothing doomed, every free list whole */
	for (const char *n = "0.0.2.0"; n; n = strcmp(n, "0.0.2.0") ? strcmp(n, "0.0.2.1") ? NULL : "0.0.2.2" : "0.0.2.1")
		assert_int_equal(sched_node_set_health(s, n, true, &err), 0);
	assert_int_equal(vc_health(s, "VC1").bad, 0);
	sched_vc_get(s, 0, "VC1", &vi);
	assert_int_equal(vi.doomed_cells, 0);
	char b[128];
	assert_string_equal(free_list(s, "3-DGX2-V100-NODE", 6, b, sizeof(b)), "6");
	sched_result_fini(&r);
	sched_free(s);
}

/* ---- recovery ----------------------------------------------------------------------- */

struct saved {
	char group[16], vc[8];
	int prio;
	struct sched_member m;
	struct sched_bind_info *bind;
};

static void recovery_restores_the_same_state(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 4096);
	struct sched *s = design(NULL);
	struct sched_result r;
	sched_result_init(&r);
	struct saved jobs[16];
	int n = 0;
	static const struct {
		const char *vc, *type;
		int prio;
		int32_t leaves, pods;
	} plan[] = {
		{ "VC1", "DGX2-V100", 0, 1, 1 }, { "VC1", "DGX2-V100", 3, 8, 1 }, { "VC1", "DGX2-V100", 1, 16, 2 },
		{ "VC2", "DGX1-P100", 2, 4, 2 }, { "VC2", "CT1", 0, 2, 1 }, { "VC1", "DGX2-V100", 2, 16, 1 },
		{ "VC1", "DGX2-V100", -1, 4, 1 }, { "VC2", "DGX1-P100", -1, 2, 1 },
	};
	for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		struct saved *j = &jobs[n];
		snprintf(j->group, sizeof(j->group), "job%zu", i);
		snprintf(j->vc, sizeof(j->vc), "%s", plan[i].vc);
		j->prio = plan[i].prio;
		j->m = (struct sched_member){ plan[i].leaves, plan[i].pods };
		int d = go(s, &r, j->group, j->vc, j->prio, plan[i].leaves, plan[i].pods, plan[i].type, true);
		if (d != SCHED_BIND)
			fail_msg("job %zu did not bind (decision %d): %s", i, d, r.reason);
		j->bind = sched_bind_dup(&a, &r.bind);
		assert_non_null(j->bind);
		n++;
	}
	/* a fresh scheduler, the same config, the persisted bind infos */
	struct sched *t = design(NULL);
	static const char *const pods_names[8] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7" };
	for (int i = n - 1; i >= 0; i--) {   /* order must not matter */
		struct sched_request req = { .group = jobs[i].group, .vc = jobs[i].vc, .priority = jobs[i].prio,
		                             .members = &jobs[i].m, .nmembers = 1 };
		struct gerr err = { 0 };
		if (sched_group_commit(t, &req, jobs[i].bind, pods_names, 9, &err))
			fail_msg("recover %s: %s", jobs[i].group, err.msg);
	}
	for (int i = 0; i < n; i++) {
		struct sched_group_info x, y;
		struct sched_leaf_ref lx[64], ly[64];
		assert_int_equal(sched_group_get(s, jobs[i].group, &x), 0);
		assert_int_equal(sched_group_get(t, jobs[i].group, &y), 0);
		assert_int_equal(x.state, y.state);
		assert_int_equal(x.lazy_preempted, y.lazy_preempted);
		size_t k = sched_group_leaves(s, jobs[i].group, lx, 64);
		assert_int_equal(sched_group_leaves(t, jobs[i].group, ly, 64), k);
		for (size_t q = 0; q < k; q++) {
			assert_string_equal(lx[q].node, ly[q].node);
			assert_int_equal(lx[q].leaf, ly[q].leaf);
		}
	}
	for (size_t v = 0; v < sched_vc_count(s); v++) {
		struct sched_vc_info x, y;
		sched_vc_get(s, v, NULL, &x);
		sched_vc_get(t, v, NULL, &y);
		assert_int_equal(x.used_leaves, y.used_leaves);
		assert_int_equal(x.opportunistic_leaves, y.opportunistic_leaves);
	}
	assert_int_equal(sched_used_leaves(s), sched_used_leaves(t));
	safe(t);
	/* the next decisions agree */
	struct sched_result r2;
	sched_result_init(&r2);
	go(s, &r, "next1", "VC1", 1, 8, 1, "DGX2-V100", false);
	go(t, &r2, "next1", "VC1", 1, 8, 1, "DGX2-V100", false);
	assert_int_equal(r.decision, r2.decision);
	if (r.decision == SCHED_BIND) {
		assert_string_equal(r.bind.node, r2.bind.node);
		assert_memory_equal(r.bind.leaves, r2.bind.leaves, r.bind.nleaves * sizeof(int32_t));
	}
	sched_result_fini(&r2);
	sched_result_fini(&r);
	sched_free(t);
	sched_free(s);
	arena_fini(&a);
}

static void a_smaller_vc_after_restart_downgrades_its_jobs(void **state)
{
	(void)state;
	/* x had 2 nodes; after the restart it has 1: one of its two jobs keeps
	 * running as opportunistic */
	struct sched *s = build(RACKS);
	struct sched_result r;
	sched_result_init(&r);
	struct arena a;
	arena_init(&a, 4096);
	struct sched_bind_info *b[2];
	go(s, &r, "x1", "x", 5, 4, 1, NULL, true);
	b[0] = sched_bind_dup(&a, &r.bind);
	go(s, &r, "x2", "x", 5, 4, 1, NULL, true);
	b[1] = sched_bind_dup(&a, &r.bind);
	char smaller[sizeof(RACKS)];
	snprintf(smaller, sizeof(smaller), "%s", RACKS);
	char *p = strstr(smaller, "RACK.NODE, cellNumber: 2");
	p[strlen("RACK.NODE, cellNumber: ")] = '1';
	struct sched *t = build(smaller);
	struct sched_member m = { 4, 1 };
	const char *pod[] = { "p0" };
	for (int i = 0; i < 2; i++) {
		struct sched_request req = { .group = i ? "x2" : "x1", .vc = "x", .priority = 5, .members = &m,
		                             .nmembers = 1 };
		assert_int_equal(sched_group_commit(t, &req, b[i], pod, 1, NULL), 0);
	}
	struct sched_group_info g1, g2;
	assert_int_equal(sched_group_get(t, "x1", &g1), 0);
	assert_int_equal(sched_group_get(t, "x2", &g2), 0);
	assert_false(g1.lazy_preempted);
	assert_true(g2.lazy_preempted);
	assert_int_equal(g2.leaves, 4);   /* still on its cells */
	sched_result_fini(&r);
	sched_free(s);
	sched_free(t);
	arena_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(start_up_orders_the_free_lists_as_hived),
		cmocka_unit_test(buddy_split_and_merge),
		cmocka_unit_test(binding_follows_the_gang),
		cmocka_unit_test(doomed_cells_are_per_vc),
		cmocka_unit_test(recovery_restores_the_same_state),
		cmocka_unit_test(a_smaller_vc_after_restart_downgrades_its_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
