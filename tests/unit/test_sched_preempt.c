/* SPDX-License-Identifier: MIT */
/*
 * test_sched_preempt — preemption:
 *   - the preempt phase reserves the victims' cells (Reserving, Reserved);
 *     the filter phase reports victims but reserves nothing;
 *   - victims are whole gangs, the node HiveD would report comes first;
 *   - a higher-priority preemptor cancels an older one; deleting all of a
 *     preemptor's pods cancels it; a placement on a bad node cancels it;
 *   - lazy preemption downgrades a victim to opportunistic; it is killed only
 *     when the preemptor needs its very cells (the revert when the
 *     preemptor cannot be mapped is HiveD's pod41, in the replayed
 *     scenarios);
 *   - guaranteed jobs preempt opportunistic ones of any VC, never guaranteed
 *     jobs of another VC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/gerr.h"
#include "sched/sched.h"

/* Two racks of two 4-GPU nodes. VC a: one rack (2 nodes); VC b: one node
 * of the other rack; one node is left for opportunistic jobs. */
static const char CLUSTER[] =
	"physicalCluster:\n"
	"  cellTypes:\n"
	"    NODE: {childCellType: GPU, childCellNumber: 4, isNodeLevel: true}\n"
	"    RACK: {childCellType: NODE, childCellNumber: 2}\n"
	"  physicalCells:\n"
	"  - cellType: RACK\n    cellChildren: [{cellAddress: n1}, {cellAddress: n2}]\n"
	"  - cellType: RACK\n    cellChildren: [{cellAddress: n3}, {cellAddress: n4}]\n"
	"virtualClusters:\n"
	"  a: {virtualCells: [{cellType: RACK, cellNumber: 1}]}\n"
	"  b: {virtualCells: [{cellType: RACK.NODE, cellNumber: 1}]}\n";

static const char *const PODS[8] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7" };

struct env {
	struct sched *s;
	struct sched_result r;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct gerr err = { 0 };
	e->s = sched_new(CLUSTER, sizeof(CLUSTER) - 1, &err);
	assert_non_null(e->s);
	sched_set_self_check(e->s, true);
	sched_nodes_set_healthy(e->s);
	sched_result_init(&e->r);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	sched_result_fini(&e->r);
	sched_free(e->s);
	free(e);
	return 0;
}

struct job {
	const char *group, *vc;
	int prio;
	int32_t leaves, pods;
	bool lazy;
};

static struct sched_request req_of(const struct job *j, struct sched_member *m, enum sched_phase phase)
{
	*m = (struct sched_member){ j->leaves, j->pods };
	return (struct sched_request){ .group = j->group, .vc = j->vc, .priority = j->prio, .members = m,
	                               .nmembers = 1, .lazy_preemption = j->lazy, .pod = "p0", .phase = phase };
}

static int decide(struct env *e, const struct job *j, enum sched_phase phase)
{
	struct sched_member m;
	struct sched_request req = req_of(j, &m, phase);
	struct gerr err = { 0 };
	if (sched_schedule(e->s, &req, 5, &e->r, &err))
		fail_msg("schedule %s: %s", j->group, err.msg);
	return e->r.decision;
}

static void commit(struct env *e, const struct job *j)
{
	struct sched_member m;
	struct sched_request req = req_of(j, &m, SCHED_PHASE_PREEMPT);
	struct gerr err = { 0 };
	if (sched_group_commit(e->s, &req, &e->r.bind, PODS, 5, &err))
		fail_msg("commit %s: %s", j->group, err.msg);
}

static void place(struct env *e, const struct job *j)
{
	if (decide(e, j, SCHED_PHASE_PREEMPT) != SCHED_BIND)
		fail_msg("%s did not bind: %s", j->group, e->r.reason);
	commit(e, j);
}

static int group_state(struct env *e, const char *g)
{
	struct sched_group_info gi;
	return sched_group_get(e->s, g, &gi) ? -1 : gi.state;
}

static int leaf_state(struct env *e, const char *node, int32_t leaf, int *prio)
{
	struct sched_leaf_info li;
	assert_int_equal(sched_leaf_get(e->s, NULL, node, leaf, &li), 0);
	if (prio)
		*prio = li.priority;
	return li.state;
}

static void preempt_phase_reserves_filter_phase_does_not(void **state)
{
	struct env *e = *state;
	const struct job low = { "low", "a", 1, 4, 2, false }, high = { "high", "a", 5, 4, 2, false };
	place(e, &low);
	/* the filter phase reports the gang as victims, and creates nothing */
	assert_int_equal(decide(e, &high, SCHED_PHASE_FILTER), SCHED_PREEMPT);
	assert_int_equal(e->r.nvictims, 2);
	assert_int_equal(group_state(e, "high"), -1);
	assert_int_equal(group_state(e, "low"), SCHED_GROUP_ALLOCATED);
	/* the preempt phase reserves: Reserving while the victims still run */
	assert_int_equal(decide(e, &high, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	assert_int_equal(e->r.nvictims, 2);
	assert_string_equal(e->r.victims[0].group, "low");
	assert_int_equal(e->r.nvictims_on_node, 1);   /* one pod per node: HiveD reports one node */
	assert_string_equal(e->r.victim_node, e->r.victims[0].node);
	assert_int_equal(group_state(e, "high"), SCHED_GROUP_PREEMPTING);
	assert_int_equal(group_state(e, "low"), SCHED_GROUP_BEING_PREEMPTED);
	int prio;
	assert_int_equal(leaf_state(e, "n1", 0, &prio), SCHED_CELL_RESERVING);
	assert_int_equal(prio, 5);
	/* asking again: still waiting for the same victims */
	assert_int_equal(decide(e, &high, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	/* one victim pod gone: its cells are Reserved, the other still Reserving */
	assert_int_equal(sched_pod_delete(e->s, "low", "p0", NULL), 0);
	assert_int_equal(decide(e, &high, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	assert_int_equal(sched_pod_delete(e->s, "low", "p1", NULL), 0);
	assert_int_equal(group_state(e, "low"), -1);
	assert_int_equal(leaf_state(e, "n1", 0, NULL), SCHED_CELL_RESERVED);
	assert_int_equal(leaf_state(e, "n2", 3, NULL), SCHED_CELL_RESERVED);
	/* the victims are gone: the preemptor binds, and its commit makes it allocated */
	assert_int_equal(decide(e, &high, SCHED_PHASE_PREEMPT), SCHED_BIND);
	commit(e, &high);
	assert_int_equal(group_state(e, "high"), SCHED_GROUP_ALLOCATED);
	assert_int_equal(leaf_state(e, "n1", 0, &prio), SCHED_CELL_USED);
	assert_int_equal(prio, 5);
}

static void higher_priority_cancels_an_older_preemptor(void **state)
{
	struct env *e = *state;
	const struct job low = { "low", "a", 1, 4, 2, false }, mid = { "mid", "a", 3, 4, 2, false },
	                 top = { "top", "a", 7, 4, 2, false }, same = { "same", "a", 3, 4, 1, false };
	place(e, &low);
	assert_int_equal(decide(e, &mid, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	/* an equal priority cannot take reserved cells */
	assert_int_equal(decide(e, &same, SCHED_PHASE_PREEMPT), SCHED_WAIT);
	assert_int_equal(e->r.wait, SCHED_WAIT_VC_BUSY);
	/* a higher one cancels "mid" and preempts "low" itself */
	assert_int_equal(decide(e, &top, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	assert_int_equal(group_state(e, "mid"), -1);
	assert_int_equal(group_state(e, "top"), SCHED_GROUP_PREEMPTING);
	int prio;
	assert_int_equal(leaf_state(e, "n2", 1, &prio), SCHED_CELL_RESERVING);
	assert_int_equal(prio, 7);
	/* all of a preemptor's pods deleted: cancelled, cells back to the victim */
	assert_int_equal(sched_pod_cancel(e->s, "top", "p0"), 0);
	assert_int_equal(group_state(e, "top"), -1);
	assert_int_equal(leaf_state(e, "n2", 1, &prio), SCHED_CELL_USED);
	assert_int_equal(prio, 1);
	assert_int_equal(group_state(e, "low"), SCHED_GROUP_BEING_PREEMPTED);   /* as HiveD leaves it */
	/* a preemptor whose placement turns bad is cancelled in the preempt phase */
	assert_int_equal(decide(e, &top, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	assert_int_equal(sched_node_set_health(e->s, "n1", false, NULL), 0);
	assert_int_equal(decide(e, &top, SCHED_PHASE_FILTER), SCHED_PREEMPT);   /* filter: kept */
	assert_int_equal(group_state(e, "top"), SCHED_GROUP_PREEMPTING);
	assert_int_equal(decide(e, &top, SCHED_PHASE_PREEMPT), SCHED_WAIT);      /* preempt: cancelled */
	assert_int_equal(group_state(e, "top"), -1);
	assert_int_equal(e->r.wait, SCHED_WAIT_BAD_NODE);
	assert_int_equal(leaf_state(e, "n1", 0, &prio), SCHED_CELL_USED);
	assert_int_equal(prio, 1);
}

static void lazy_preemption_downgrades_the_victim(void **state)
{
	struct env *e = *state;
	/* b's single node: a lazy low job, then a higher one; the free node n4
	 * lets the preemptor run elsewhere and nobody is killed */
	const struct job low = { "low", "b", 1, 4, 1, true }, high = { "high", "b", 4, 4, 1, false };
	place(e, &low);
	const char *low_node = e->r.bind.node;
	char node[16];
	snprintf(node, sizeof(node), "%s", low_node);
	assert_int_equal(decide(e, &high, SCHED_PHASE_PREEMPT), SCHED_BIND);
	assert_string_not_equal(e->r.bind.node, node);
	struct sched_group_info gi;
	assert_int_equal(sched_group_get(e->s, "low", &gi), 0);
	assert_true(gi.lazy_preempted);
	assert_string_equal(gi.lazy_preemptor, "high");
	commit(e, &high);
	/* the downgraded job still holds its cells, as opportunistic */
	int prio;
	assert_int_equal(leaf_state(e, node, 0, &prio), SCHED_CELL_USED);
	assert_int_equal(prio, -1);
	struct sched_vc_info vi;
	sched_vc_get(e->s, 0, "b", &vi);
	assert_int_equal(vi.opportunistic_leaves, 4);
}

static void lazy_victim_is_killed_when_its_cells_are_the_only_place(void **state)
{
	struct env *e = *state;
	const struct job low = { "low", "b", 1, 4, 1, true }, high = { "high", "b", 4, 4, 1, false };
	place(e, &low);
	char node[16];
	snprintf(node, sizeof(node), "%s", e->r.bind.node);
	/* only the victim's node allowed: after the downgrade the buddy
	 * allocation maps the preemptor onto the victim's cells anyway */
	const char *only[] = { node };
	struct sched_nodeset set = { only, 1 };
	struct sched_member m;
	struct sched_request req = req_of(&high, &m, SCHED_PHASE_PREEMPT);
	req.suggested = &set;
	assert_int_equal(sched_schedule(e->s, &req, 6, &e->r, NULL), 0);
	assert_int_equal(e->r.decision, SCHED_PREEMPT);
	assert_int_equal(e->r.nvictims, 1);
	assert_string_equal(e->r.victims[0].group, "low");
	assert_string_equal(e->r.victims[0].node, node);
	struct sched_group_info gi;
	assert_int_equal(sched_group_get(e->s, "low", &gi), 0);
	assert_true(gi.lazy_preempted);
	assert_int_equal(gi.state, SCHED_GROUP_BEING_PREEMPTED);
	/* cancelling the preemption gives the cells back to the (downgraded) victim */
	assert_int_equal(sched_pod_cancel(e->s, "high", "p0"), 0);
	int prio;
	assert_int_equal(leaf_state(e, node, 0, &prio), SCHED_CELL_USED);
	assert_int_equal(prio, -1);
}

static void guaranteed_jobs_preempt_only_opportunistic_jobs_of_other_vcs(void **state)
{
	struct env *e = *state;
	/* opportunistic jobs fill every node */
	const struct job o[4] = { { "o1", "b", -1, 4, 1, false }, { "o2", "b", -1, 4, 1, false },
	                          { "o3", "a", -1, 4, 1, false }, { "o4", "a", -1, 4, 1, false } };
	for (int i = 0; i < 4; i++)
		place(e, &o[i]);
	const struct job o5 = { "o5", "a", -1, 1, 1, false };
	assert_int_equal(decide(e, &o5, SCHED_PHASE_PREEMPT), SCHED_WAIT);
	assert_int_equal(e->r.wait, SCHED_WAIT_CLUSTER_BUSY);
	/* b's guaranteed job takes its node back from whichever opportunistic gang is there */
	const struct job g = { "g", "b", 0, 4, 1, false };
	assert_int_equal(decide(e, &g, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	assert_int_equal(e->r.nvictims, 1);
	const char *victim = e->r.victims[0].group;
	assert_true(victim[0] == 'o');
	char vg[8];
	snprintf(vg, sizeof(vg), "%s", victim);
	assert_int_equal(sched_pod_delete(e->s, vg, "p0", NULL), 0);
	assert_int_equal(decide(e, &g, SCHED_PHASE_PREEMPT), SCHED_BIND);
	commit(e, &g);
	/* a's guaranteed gang needs its rack: more opportunistic victims, never b's job */
	const struct job ga = { "ga", "a", 0, 4, 2, false };
	assert_int_equal(decide(e, &ga, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	for (size_t i = 0; i < e->r.nvictims; i++)
		assert_string_not_equal(e->r.victims[i].group, "g");
}

static void gangs_are_victims_as_a_whole(void **state)
{
	struct env *e = *state;
	/* a 2-pod gang over both of a's nodes; a 1-pod job needing one node
	 * preempts the whole gang */
	const struct job gang = { "gang", "a", 1, 4, 2, false }, one = { "one", "a", 2, 4, 1, false };
	place(e, &gang);
	assert_int_equal(decide(e, &one, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	assert_int_equal(e->r.nvictims, 2);
	assert_string_equal(e->r.victims[0].group, "gang");
	assert_string_equal(e->r.victims[1].group, "gang");
	assert_string_not_equal(e->r.victims[0].node, e->r.victims[1].node);
	/* the victims' pods end one by one; the preemptor waits for the whole gang */
	assert_int_equal(sched_pod_delete(e->s, "gang", e->r.victims[0].pod, NULL), 0);
	assert_int_equal(decide(e, &one, SCHED_PHASE_PREEMPT), SCHED_PREEMPT);
	assert_int_equal(e->r.nvictims, 1);
	assert_int_equal(sched_group_release(e->s, "gang", NULL), 0);
	assert_int_equal(decide(e, &one, SCHED_PHASE_PREEMPT), SCHED_BIND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(preempt_phase_reserves_filter_phase_does_not, setup, teardown),
		cmocka_unit_test_setup_teardown(higher_priority_cancels_an_older_preemptor, setup, teardown),
		cmocka_unit_test_setup_teardown(lazy_preemption_downgrades_the_victim, setup, teardown),
		cmocka_unit_test_setup_teardown(lazy_victim_is_killed_when_its_cells_are_the_only_place, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(guaranteed_jobs_preempt_only_opportunistic_jobs_of_other_vcs, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(gangs_are_victims_as_a_whole, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
