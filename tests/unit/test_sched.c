/* SPDX-License-Identifier: MIT */
/*
 * test_sched — the scheduler's config and chains, SKUs, reasons and the
 * robustness of its API:
 *   - cell types → chains and levels, addresses and node names inferred as
 *     HiveD does, virtual cells addressed VC/i/...;
 *   - every kind of bad config refused with its path;
 *   - OpenPAI's skuTypes and the leaf-cell formula, also through spec;
 *   - why a job waits, for each kind of wait;
 *   - a VC's figures per chain (SKU), pinned cells included;
 *   - bad requests are user errors, never crashes.
 * The scenario replays are in test_sched_replay.c; buddy allocation,
 * binding and doomed cells in test_sched_buddy.c; preemption in
 * test_sched_preempt.c.
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

#include "base/gerr.h"
#include "sched/internal.h"
#include "sched/sched.h"
#include "sched_fixture.h"
#include "spec/spec.h"

static const char *data_dir(void)
{
	const char *d = getenv("GANTRY_TESTDATA");
	return d ? d : "tests/data";
}

/* HiveD's design config from the scenario file, as JSON text. */
static char *design_config(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hived/hived-cases.json", data_dir());
	json_error_t e;
	json_t *doc = json_load_file(path, 0, &e);
	assert_non_null(doc);
	char *text = json_dumps(json_object_get(doc, "config"), JSON_COMPACT);
	json_decref(doc);
	assert_non_null(text);
	return text;
}

static struct sched *design(void)
{
	char *text = design_config();
	struct sched *s = sched_fixture(text);
	free(text);
	return s;
}

static struct sched *build(const char *yaml)
{
	return sched_fixture(yaml);
}

static const struct sched__cell *physical(struct sched *s, const char *chain, int level, const char *address)
{
	struct sched__chain *ch = sched__chain_find(s, chain);
	assert_non_null(ch);
	for (uint32_t i = 0; i < ch->full[level].n; i++)
		if (!strcmp(ch->full[level].v[i]->address, address))
			return ch->full[level].v[i];
	fail_msg("no cell %s at level %d of %s", address, level, chain);
	return NULL;
}

/* ---- chains, levels, addresses ------------------------------------------------ */

static void chains_levels_and_leaf_types(void **state)
{
	(void)state;
	struct sched *s = design();
	static const char *const names[] = { "CT1-NODE", "3-DGX1-P100-NODE", "DGX2-V100-NODE", "3-DGX2-V100-NODE",
	                                     "4-DGX2-V100-NODE", "2-IB-DGX2-V100-NODE" };
	assert_int_equal(sched_chain_count(s), 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(sched_chain_name(s, i), names[i]);
	assert_string_equal(sched_chain_leaf_type(s, 4), "DGX2-V100");
	assert_string_equal(sched_chain_leaf_type(s, 5), "IB-DGX2-V100-V100");
	assert_int_equal(sched_chain_leaves(s, 4), 2 * 64);   /* two 4-node cells of 16 GPUs */
	assert_int_equal(sched_chain_leaves(s, 1), 24);

	struct sched__chain *ch = sched__chain_find(s, "4-DGX2-V100-NODE");
	assert_int_equal(ch->top, 7);
	assert_string_equal(ch->types[7], "4-DGX2-V100-NODE");
	assert_string_equal(ch->types[6], "2-DGX2-V100-NODE");
	assert_string_equal(ch->types[5], "DGX2-V100-NODE");
	assert_string_equal(ch->types[1], "DGX2-V100");
	static const int leaves[] = { 0, 1, 2, 4, 8, 16, 32, 64 };
	for (int l = 1; l <= 7; l++)
		assert_int_equal(ch->leaves[l], leaves[l]);
	/* node level: the isNodeLevel type; above it, multi-node cells */
	assert_true(physical(s, "4-DGX2-V100-NODE", 5, "7/14/0.0.3.1")->flags & SCHED__NODE);
	assert_false(physical(s, "4-DGX2-V100-NODE", 6, "7/14")->flags & SCHED__NODE);
	assert_true(physical(s, "4-DGX2-V100-NODE", 6, "7/14")->flags & SCHED__ABOVE_NODE);

	/* a leaf type's chains are tried in descending name order */
	struct strmap_slot *sl = strmap_find(&s->ltype_map, "DGX2-V100", 9);
	assert_non_null(sl);
	const struct sched__ltype *t = sl->val;
	assert_int_equal(t->nchains, 3);
	assert_string_equal(s->chains[t->chains[0]].name, "DGX2-V100-NODE");
	assert_string_equal(s->chains[t->chains[1]].name, "4-DGX2-V100-NODE");
	assert_string_equal(s->chains[t->chains[2]].name, "3-DGX2-V100-NODE");
	sched_free(s);
}

static void addresses_and_nodes_as_hived_infers_them(void **state)
{
	(void)state;
	struct sched *s = design();
	/* above node level: parent default index × children + i, from the top cell's index */
	physical(s, "4-DGX2-V100-NODE", 6, "7/14");
	physical(s, "4-DGX2-V100-NODE", 6, "8/17");
	/* below node level the counter restarts: a DGX-2 has leaves 0..15 */
	const struct sched__cell *node = physical(s, "DGX2-V100-NODE", 5, "0.0.1.0");
	assert_int_equal(node->nnodes, 1);
	assert_string_equal(sched__node_name(s, node), "0.0.1.0");
	physical(s, "DGX2-V100-NODE", 1, "0.0.1.0/1/3/7/15");
	/* explicit leaf addresses are device indices, even out of order */
	struct sched__node *n = sched__node_find(s, "1.0.0.0");
	assert_non_null(n);
	static const int32_t order[] = { 1, 3, 4, 7, 0, 2, 6, 5 };
	assert_int_equal(n->nleaves, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(n->leaves[i]->leaf_index, order[i]);
	/* one node in two chains: CT1 leaves 8, 9 and P100 leaves 0..7 */
	struct sched_node_info ni;
	assert_int_equal(sched_node_get(s, 0, "1.0.0.2", &ni), 0);
	assert_int_equal(ni.leaves, 10);
	assert_true(ni.healthy);
	/* a multi-node cell lists its nodes */
	const struct sched__cell *rack = physical(s, "3-DGX1-P100-NODE", 5, "3");
	assert_int_equal(rack->nnodes, 3);
	assert_string_equal(s->nodes[rack->nodes[2]].name, "1.0.0.0");
	assert_int_equal(sched_node_get(s, 0, "no-such-node", &ni), GERR_NOT_FOUND);
	sched_free(s);
}

struct cells {
	char addr[16][32];
	int n;
};

static void collect(void *ctx, const struct sched_cell_info *c)
{
	struct cells *x = ctx;
	if (x->n < 16)
		snprintf(x->addr[x->n++], sizeof(x->addr[0]), "%s", c->address);
}

static void virtual_cells_are_addressed_per_vc(void **state)
{
	(void)state;
	struct sched *s = design();
	struct cells c = { .n = 0 };
	/* VC1's cells in config order: 0,1 in 4-DGX2 (node level), 2,3 in 3-DGX2, 4,5 DGX2 nodes, 6 a 2-node cell */
	assert_int_equal(sched_vc_cells(s, "VC1", "4-DGX2-V100-NODE", 5, collect, &c), 2);
	assert_string_equal(c.addr[0], "VC1/0");
	assert_string_equal(c.addr[1], "VC1/1");
	c.n = 0;
	assert_int_equal(sched_vc_cells(s, "VC1", "4-DGX2-V100-NODE", 0, collect, &c), 3);
	assert_string_equal(c.addr[2], "VC1/6");
	c.n = 0;
	assert_int_equal(sched_vc_cells(s, "VC2", "3-DGX1-P100-NODE", 0, collect, &c), 4);
	assert_int_equal(sched_vc_cells(s, "VC9", "CT1-NODE", 0, NULL, NULL), GERR_NOT_FOUND);
	/* below a preassigned cell, each level numbers its children globally */
	struct sched__vc *vc = sched__vc_find(s, "VC1");
	const struct sched__pin *pin = sched__pin_find(vc, s, "VC1-YQW-DGX2");
	assert_non_null(pin);
	assert_string_equal(pin->virt->address, "VC1/8");
	assert_string_equal(pin->virt->children[1]->children[1]->address, "VC1/8/1/3");
	struct sched_vc_info vi;
	assert_int_equal(sched_vc_get(s, 0, "VC1", &vi), 0);
	assert_int_equal(vi.npinned, 3);
	/* 2×16 + 2×16 + 2×16 + 32 + pinned: 1 + 32 + 32 */
	assert_int_equal(vi.quota_leaves, 2 * 16 + 2 * 16 + 2 * 16 + 32 + 1 + 32 + 32);
	sched_free(s);
}

/* ---- bad configs ------------------------------------------------------------- */

struct bad_config {
	const char *yaml;
	const char *message;
};

#define TYPES "physicalCluster:\n  cellTypes:\n    PAIR: {childCellType: GPU, childCellNumber: 2}\n" \
              "    NODE: {childCellType: PAIR, childCellNumber: 2, isNodeLevel: true}\n" \
              "    RACK: {childCellType: NODE, childCellNumber: 2}\n"

static const struct bad_config BAD[] = {
	{ "[1, 2]", "the config must be a mapping" },
	{ "physicalCluster: {cellTypes: {}}", "physicalCluster.cellTypes: must be a non-empty mapping" },
	{ "physicalCluster:\n  cellTypes:\n    A: {childCellType: B, childCellNumber: 2}\n    B: {childCellType: A, "
	  "childCellNumber: 2}\n  physicalCells: []",
	  "physicalCluster.cellTypes.A: cell types form a cycle: A -> B -> A" },
	{ "physicalCluster:\n  cellTypes:\n    A: {childCellType: G, childCellNumber: -2}\n",
	  "physicalCluster.cellTypes.A.childCellNumber: must be >= 1 (got -2)" },
	{ "physicalCluster:\n  cellTypes:\n    A: {childCellType: G, childCellNumber: 1.5}\n",
	  "physicalCluster.cellTypes.A.childCellNumber: must be an integer" },
	{ "physicalCluster:\n  cellTypes:\n    A: {childCellNumber: 2}\n", "physicalCluster.cellTypes.A.childCellType: required" },
	{ "physicalCluster:\n  cellTypes:\n    A: {childCellType: G, childCellNumber: 2, isNodeLevel: yes please}\n",
	  "physicalCluster.cellTypes.A.isNodeLevel: must be true or false" },
	{ TYPES "  physicalCells:\n  - {cellType: DGX}\n", "physicalCluster.physicalCells[0].cellType: unknown cell type 'DGX'" },
	{ TYPES "  physicalCells:\n  - {cellType: GPU}\n", "physicalCells[0].cellType: 'GPU' is a leaf cell type" },
	{ TYPES "  physicalCells:\n  - {cellType: PAIR}\n", "physicalCells[0].cellType: cell type 'PAIR' is below node level" },
	{ TYPES "  physicalCells:\n  - cellType: RACK\n    cellChildren: [{cellAddress: n1}]\n",
	  "physicalCells[0].cellChildren: lists 1 children, but cell type RACK has childCellNumber 2" },
	{ TYPES "  physicalCells:\n  - cellType: NODE\n    cellAddress: n1\n    cellChildren:\n    - cellChildren: "
	        "[{cellAddress: a}, {cellAddress: 1}]\n    - {}\n",
	  "physicalCells[0].cellChildren[0].cellChildren[0]: leaf cell address 'a' must be an integer device index" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1, pinnedCellId: P}\n  - {cellType: NODE, cellAddress: "
	        "n2, pinnedCellId: P}\n",
	  "physicalCells[1].pinnedCellId: 'P' is already the id of cell n1" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1}\nvirtualClusters:\n  a:\n    virtualCells:\n    "
	        "- {cellType: NODE, cellNumber: -1}\n",
	  "virtualClusters.a.virtualCells[0].cellNumber: must be >= 0 (got -1)" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1}\nvirtualClusters:\n  a:\n    virtualCells:\n    "
	        "- {cellType: RACK.NODE, cellNumber: 1}\n",
	  "virtualClusters.a.virtualCells[0].cellType: chain 'RACK' does not exist in the physical cluster" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1}\nvirtualClusters:\n  a:\n    virtualCells:\n    "
	        "- {cellType: NODE.RACK, cellNumber: 1}\n",
	  "virtualClusters.a.virtualCells[0].cellType: 'RACK' is not a cell type of chain NODE" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1}\nvirtualClusters:\n  a:\n    virtualCells:\n    "
	        "- {cellType: NODE, cellNumber: 2}\n",
	  "virtualClusters: Illegal initial VC assignment: Insufficient physical cells at chain NODE level 3: 2 needed, 1 "
	  "available" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1}\nvirtualClusters:\n  a:\n    virtualCells:\n    "
	        "- {cellType: NODE.PAIR, cellNumber: 1}\n  b:\n    virtualCells:\n    - {cellType: NODE.NODE.GPU, cellNumber: 3}\n",
	  "Insufficient physical cells at chain NODE level 1: 3 needed, 2 available" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1}\nvirtualClusters:\n  a:\n    pinnedCells:\n    - "
	        "{pinnedCellId: nope}\n",
	  "virtualClusters.a.pinnedCells[0].pinnedCellId: no physical cell has pinnedCellId 'nope'" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1, pinnedCellId: P}\nvirtualClusters:\n  a:\n    "
	        "pinnedCells: [{pinnedCellId: P}]\n  b:\n    pinnedCells: [{pinnedCellId: P}]\n",
	  "virtualClusters.b.pinnedCells[0].pinnedCellId: pinned cell 'P' is already pinned to VC a" },
	{ TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: n1}\nskuTypes:\n  GPU: {gpu: 1, memory: lots}\n",
	  "skuTypes.GPU.memory: must be a number of MB or a quantity like 56334Mi" },
	{ "physicalCluster: [\n", "1:" },
};

static void bad_configs_name_their_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		struct gerr err = { 0 };
		struct sched *s = sched_new(BAD[i].yaml, strlen(BAD[i].yaml), &err);
		if (s) {
			sched_free(s);
			fail_msg("config %zu accepted, want: %s", i, BAD[i].message);
		}
		assert_int_equal(err.code, GERR_CONFIG);
		if (!strstr(err.msg, BAD[i].message))
			fail_msg("config %zu: got \"%s\", want \"%s\"", i, err.msg, BAD[i].message);
	}
}

static void hived_design_config_with_a_bad_vc_fails_like_hived(void **state)
{
	(void)state;
	/* testInvalidInitialAssignment */
	char *text = design_config();
	json_error_t e;
	json_t *cfg = json_loads(text, 0, &e);
	free(text);
	json_t *cells = json_object_get(json_object_get(json_object_get(cfg, "virtualClusters"), "VC1"), "virtualCells");
	json_object_set_new(json_array_get(cells, 0), "cellType", json_string("CT1-NODE"));
	json_object_set_new(json_array_get(cells, 1), "cellType", json_string("CT1-NODE.CT1"));
	json_object_set_new(json_array_get(cells, 1), "cellNumber", json_integer(2));
	text = json_dumps(cfg, 0);
	json_decref(cfg);
	struct gerr err = { 0 };
	assert_null(sched_new(text, strlen(text), &err));
	free(text);
	assert_non_null(strstr(err.msg, "Insufficient physical cells at chain CT1-NODE level 1: 3 needed, 0 available"));
}

/* ---- SKUs --------------------------------------------------------------------- */

static const char SKU_CLUSTER[] =
	"skuTypes:\n"
	"  V100: {gpu: 1, cpu: 6, memory: 48Gi}\n"
	"  CPU4: {gpu: 0, cpu: 4, memory: 16384}\n"
	"physicalCluster:\n"
	"  cellTypes:\n"
	"    V100-NODE: {childCellType: V100, childCellNumber: 8, isNodeLevel: true}\n"
	"    CPU-NODE: {childCellType: CPU4, childCellNumber: 16, isNodeLevel: true}\n"
	"  physicalCells:\n"
	"  - {cellType: V100-NODE, cellAddress: g1}\n"
	"  - {cellType: CPU-NODE, cellAddress: c1}\n"
	"virtualClusters:\n"
	"  gpu: {virtualCells: [{cellType: V100-NODE, cellNumber: 1}]}\n"
	"  cpu: {virtualCells: [{cellType: CPU-NODE, cellNumber: 1}]}\n";

static void sku_leaf_cells_as_openpai(void **state)
{
	(void)state;
	struct sched *s = build(SKU_CLUSTER);
	struct gerr err = { 0 };
	assert_int_equal(sched_sku_count(s), 2);
	const struct sched_sku *k = sched_sku_find(s, "V100");
	assert_non_null(k);
	assert_true(k->memory_mb == 48 * 1024);
	/* max(ceil(gpu/1), ceil(cpu/6), ceil(mem/48Gi)) */
	assert_int_equal(sched_leaf_cells(s, "V100", NULL, false, 2, 6, 1000, &err), 2);
	assert_int_equal(sched_leaf_cells(s, "V100", NULL, false, 1, 13, 1000, &err), 3);
	assert_int_equal(sched_leaf_cells(s, "V100", NULL, false, 1, 1, 100000, &err), 3);
	/* a CPU SKU: a CPU-only cluster works the same way */
	assert_int_equal(sched_leaf_cells(s, "CPU4", NULL, false, 0, 10, 8192, &err), 3);
	assert_int_equal(sched_leaf_cells(s, "CPU4", NULL, false, 1, 4, 0, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "has no GPU"));
	assert_int_equal(sched_leaf_cells(s, "K80", NULL, false, 1, 1, 1, &err), GERR_INVALID);
	/* no SKU: each resource against the smallest SKU of the VC */
	assert_int_equal(sched_leaf_cells(s, NULL, "cpu", false, 0, 8, 0, &err), 2);
	assert_int_equal(sched_leaf_cells(s, NULL, "gpu", false, 0, 8, 0, &err), 2);
	sched_free(s);
}

static void spec_checks_jobs_against_the_cluster(void **state)
{
	(void)state;
	struct sched *s = build(SKU_CLUSTER);
	struct spec_cluster cl;
	sched_spec_cluster(s, &cl);
	static const char job[] =
		"protocolVersion: 2\nname: train\ntype: job\n"
		"prerequisites:\n  - {type: dockerimage, name: img, uri: 'openpai/standard:python_3.6-pytorch_1.2.0-gpu'}\n"
		"taskRoles:\n  worker:\n    instances: 2\n    dockerImage: img\n"
		"    resourcePerInstance: {gpu: 2, cpu: 12, memoryMB: 8192}\n    commands: [python train.py]\n"
		"defaults: {virtualCluster: gpu}\n"
		"extras: {hivedScheduler: {taskRoles: {worker: {skuType: V100}}}}\n";
	struct spec_job *j = spec_job_new();
	struct spec_opts opts = { .user = "alice", .cluster = &cl };
	int rc = spec_job_load(j, job, sizeof(job) - 1, &opts);
	if (rc)
		fail_msg("job refused: %s", j->ndiags ? j->diags[0].msg : "?");
	assert_int_equal(j->roles[0].leaf_cell_number, 2);
	/* 2 × 8 V100 cells exceed the VC's 8 */
	static const char big[] =
		"protocolVersion: 2\nname: big\ntype: job\n"
		"prerequisites:\n  - {type: dockerimage, name: img, uri: 'openpai/standard:python_3.6-pytorch_1.2.0-gpu'}\n"
		"taskRoles:\n  worker:\n    instances: 2\n    dockerImage: img\n"
		"    resourcePerInstance: {gpu: 8, cpu: 48, memoryMB: 8192}\n    commands: [python train.py]\n"
		"defaults: {virtualCluster: gpu}\n";
	assert_int_equal(spec_job_load(j, big, sizeof(big) - 1, &opts), GERR_PROTOCOL);
	assert_non_null(strstr(j->diags[0].msg, "exceeds maximum 8 SKUs in VC gpu"));
	spec_job_free(j);
	sched_free(s);
}

static void openpai_services_configuration_shape(void **state)
{
	(void)state;
	static const char cfg[] =
		"hivedscheduler:\n"
		"  skuTypes:\n    DT: {gpu: 1, cpu: 5, memory: 56334Mi}\n"
		"  config: |\n"
		"    physicalCluster:\n"
		"      cellTypes:\n"
		"        DT-NODE: {childCellType: DT, childCellNumber: 4, isNodeLevel: true}\n"
		"      physicalCells:\n"
		"      - {cellType: DT-NODE, cellAddress: worker1}\n"
		"    virtualClusters:\n"
		"      default: {virtualCells: [{cellType: DT-NODE, cellNumber: 1}]}\n";
	struct sched *s = build(cfg);
	assert_int_equal(sched_sku_count(s), 1);
	assert_true(sched_sku_get(s, 0)->memory_mb == 56334);
	assert_int_equal(sched_total_leaves(s), 4);
	sched_free(s);
	static const char broken[] = "hivedscheduler:\n  config: |\n    physicalCluster: [\n";
	struct gerr err = { 0 };
	assert_null(sched_new(broken, sizeof(broken) - 1, &err));
	assert_non_null(strstr(err.msg, "hivedscheduler.config:"));
}

/* ---- why a job waits -------------------------------------------------------------------- */

static const char WAIT_CLUSTER[] =
	"physicalCluster:\n"
	"  cellTypes:\n"
	"    NODE: {childCellType: GPU, childCellNumber: 4, isNodeLevel: true}\n"
	"    RACK: {childCellType: NODE, childCellNumber: 2}\n"
	"  physicalCells:\n"
	"  - cellType: RACK\n    cellChildren: [{cellAddress: n1}, {cellAddress: n2}]\n"
	"  - {cellType: NODE, cellAddress: n3, pinnedCellId: PIN}\n"
	"virtualClusters:\n"
	"  a: {virtualCells: [{cellType: RACK.NODE, cellNumber: 1}], pinnedCells: [{pinnedCellId: PIN}]}\n"
	"  b: {virtualCells: [{cellType: RACK.NODE, cellNumber: 1}]}\n";

static int ask(struct sched *s, struct sched_result *r, const char *group, const char *vc, int prio,
               int32_t leaves, int32_t pods, const char *pinned, const struct sched_nodeset *sugg)
{
	struct sched_member m = { leaves, pods };
	struct sched_request req = { .group = group, .vc = vc, .priority = prio, .members = &m, .nmembers = 1,
	                             .pinned_cell = pinned, .pod = "p0", .suggested = sugg };
	struct gerr err = { 0 };
	int rc = sched_schedule(s, &req, 1, r, &err);
	if (rc)
		return rc;
	if (r->decision == SCHED_BIND) {
		const char *pods_names[8] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7" };
		assert_int_equal(sched_group_commit(s, &req, &r->bind, pods_names, 1, &err), 0);
	}
	return 0;
}

static void every_wait_names_its_constraint(void **state)
{
	(void)state;
	struct sched *s = build(WAIT_CLUSTER);
	struct sched_result r;
	sched_result_init(&r);

	assert_int_equal(ask(s, &r, "big", "a", 0, 4, 2, NULL, NULL), 0);
	assert_int_equal(r.decision, SCHED_WAIT);
	assert_int_equal(r.wait, SCHED_WAIT_NEVER_FITS);
	assert_non_null(strstr(r.reason, "VC 'a'"));
	assert_non_null(strstr(r.reason, "can never hold 2 pods × 4"));
	assert_string_equal(sched_wait_name(r.wait), "never-fits");

	assert_int_equal(ask(s, &r, "g1", "a", 5, 4, 1, NULL, NULL), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	assert_int_equal(ask(s, &r, "g2", "a", 5, 1, 1, NULL, NULL), 0);
	assert_int_equal(r.decision, SCHED_WAIT);
	assert_int_equal(r.wait, SCHED_WAIT_VC_BUSY);
	assert_non_null(strstr(r.reason, "4 of its 4 leaf cells are in use"));
	assert_non_null(strstr(r.reason, "priority 5 or higher"));

	assert_int_equal(ask(s, &r, "p1", "a", 1, 4, 1, "PIN", NULL), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	assert_string_equal(r.bind.node, "n3");
	assert_int_equal(ask(s, &r, "p2", "a", 1, 2, 1, "PIN", NULL), 0);
	assert_int_equal(r.wait, SCHED_WAIT_PINNED_BUSY);
	assert_non_null(strstr(r.reason, "pinned cell 'PIN'"));

	/* opportunistic: only idle cells */
	assert_int_equal(ask(s, &r, "o1", "b", -1, 4, 1, NULL, NULL), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	assert_true(r.opportunistic);
	assert_int_equal(ask(s, &r, "o2", "b", -1, 1, 1, NULL, NULL), 0);
	assert_int_equal(r.wait, SCHED_WAIT_CLUSTER_BUSY);
	assert_non_null(strstr(r.reason, "opportunistic"));

	/* bad and disallowed nodes */
	assert_int_equal(sched_pod_delete(s, "o1", "p0", NULL), 0);
	struct gerr err = { 0 };
	const char *only[] = { "n3" };
	struct sched_nodeset set = { only, 1 };
	/* VC b's cell is unbound: only the mapping to physical cells can fail */
	assert_int_equal(ask(s, &r, "b1", "b", 0, 4, 1, NULL, &set), 0);
	assert_int_equal(r.decision, SCHED_WAIT);
	assert_int_equal(r.wait, SCHED_WAIT_NO_HEALTHY_CELL);
	assert_non_null(strstr(r.reason, "disallowed"));
	/* both rack nodes bad: b's free cell is doomed to the bad n2, and b sees it */
	assert_int_equal(sched_node_set_health(s, "n1", false, &err), 0);
	assert_int_equal(sched_node_set_health(s, "n2", false, &err), 0);
	struct sched_vc_info vi;
	assert_int_equal(sched_vc_get(s, 0, "b", &vi), 0);
	assert_int_equal(vi.doomed_cells, 1);
	assert_int_equal(ask(s, &r, "b1", "b", 0, 4, 1, NULL, NULL), 0);
	assert_int_equal(r.decision, SCHED_WAIT);
	assert_int_equal(r.wait, SCHED_WAIT_BAD_NODE);
	assert_non_null(strstr(r.reason, "needs node n2, which is bad"));
	/* a job already placed on n1 keeps its slot (HiveD insists on it) */
	struct sched_group_info gi;
	assert_int_equal(sched_group_get(s, "g1", &gi), 0);
	assert_int_equal(gi.state, SCHED_GROUP_ALLOCATED);
	assert_int_equal(sched_node_set_health(s, "n9", false, &err), GERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, "n9"));

	for (int w = 0; w < SCHED_WAIT_COUNT; w++)
		assert_true(strlen(sched_wait_meaning(w)) > 3);
	assert_string_equal(sched_wait_name(99), "unknown");
	sched_result_fini(&r);
	sched_free(s);
}

/* ---- a VC's figures per chain (per SKU) ----------------------------------------------- */

static const char TWO_SKUS[] =
	"skuTypes: {V100: {gpu: 1, cpu: 4, memory: 8192}, K80: {gpu: 1, cpu: 2, memory: 4096}}\n"
	"physicalCluster:\n"
	"  cellTypes:\n"
	"    V100-NODE: {childCellType: V100, childCellNumber: 4, isNodeLevel: true}\n"
	"    K80-NODE: {childCellType: K80, childCellNumber: 4, isNodeLevel: true}\n"
	"  physicalCells:\n"
	"  - {cellType: V100-NODE, cellAddress: v1}\n"
	"  - {cellType: V100-NODE, cellAddress: v2}\n"
	"  - {cellType: K80-NODE, cellAddress: k1}\n"
	"  - {cellType: K80-NODE, cellAddress: k2, pinnedCellId: PIN}\n"
	"virtualClusters:\n"
	"  a: {virtualCells: [{cellType: V100-NODE, cellNumber: 1}], pinnedCells: [{pinnedCellId: PIN}]}\n"
	"  b: {virtualCells: [{cellType: V100-NODE, cellNumber: 1}]}\n";

static size_t chain_index(const struct sched *s, const char *name)
{
	for (size_t i = 0; i < sched_chain_count(s); i++)
		if (!strcmp(sched_chain_name(s, i), name))
			return i;
	fail_msg("no chain %s", name);
	return 0;
}

static void vc_figures_per_chain_count_pinned_cells_and_opportunistic_use(void **state)
{
	(void)state;
	struct sched *s = build(TWO_SKUS);
	struct sched_result r;
	sched_result_init(&r);
	size_t v100 = chain_index(s, "V100-NODE"), k80 = chain_index(s, "K80-NODE");
	struct sched_vc_chain_info ci;

	/* a's pinned K80 node is one of its chains: present, with its leaves */
	assert_int_equal(sched_vc_chain_get(s, "a", k80, &ci), 0);
	assert_string_equal(ci.chain, "K80-NODE");
	assert_string_equal(ci.leaf_type, "K80");
	assert_true(ci.present);
	assert_int_equal(ci.quota_leaves, 4);
	assert_int_equal(ci.used_leaves + ci.opportunistic_leaves, 0);
	assert_int_equal(sched_vc_chain_get(s, "a", v100, &ci), 0);
	assert_true(ci.present);
	assert_int_equal(ci.quota_leaves, 4);
	assert_int_equal(sched_vc_chain_get(s, "b", k80, &ci), 0);
	assert_false(ci.present);
	assert_int_equal(ci.quota_leaves, 0);

	/* a: 3 V100 guaranteed and 2 K80 on its pinned cell; b: 4 K80 opportunistic */
	assert_int_equal(ask(s, &r, "g", "a", 10, 3, 1, NULL, NULL), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	assert_int_equal(ask(s, &r, "p", "a", 10, 2, 1, "PIN", NULL), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	struct sched_member m = { 4, 1 };
	struct sched_request req = { .group = "o", .vc = "b", .priority = -1, .leaf_type = "K80", .members = &m,
	                             .nmembers = 1, .pod = "p0" };
	struct gerr err = { 0 };
	assert_int_equal(sched_schedule(s, &req, 1, &r, &err), 0);
	assert_int_equal(r.decision, SCHED_BIND);
	assert_string_equal(r.bind.node, "k1");
	const char *names[] = { "p0" };
	assert_int_equal(sched_group_commit(s, &req, &r.bind, names, 1, &err), 0);

	assert_int_equal(sched_vc_chain_get(s, "a", v100, &ci), 0);
	assert_int_equal(ci.used_leaves, 3);
	assert_int_equal(ci.opportunistic_leaves, 0);
	assert_int_equal(sched_vc_chain_get(s, "a", k80, &ci), 0);
	assert_int_equal(ci.used_leaves, 2);
	assert_int_equal(sched_vc_chain_get(s, "b", k80, &ci), 0);
	assert_false(ci.present);
	assert_int_equal(ci.used_leaves, 0);
	assert_int_equal(ci.opportunistic_leaves, 4);
	assert_int_equal(sched_vc_chain_get(s, "b", v100, &ci), 0);
	assert_int_equal(ci.used_leaves + ci.opportunistic_leaves, 0);

	/* the sums agree with sched_vc_get */
	struct sched_vc_info vi;
	assert_int_equal(sched_vc_get(s, 0, "a", &vi), 0);
	assert_int_equal(vi.quota_leaves, 8);
	assert_int_equal(vi.used_leaves, 5);
	/* a node's used leaves include the opportunistic ones */
	struct sched_node_info ni;
	assert_int_equal(sched_node_get(s, 0, "k1", &ni), 0);
	assert_int_equal(ni.used, 4);
	assert_int_equal(ni.opportunistic, 4);

	assert_int_equal(sched_vc_chain_get(s, "zz", 0, &ci), GERR_NOT_FOUND);
	assert_int_equal(sched_vc_chain_get(s, "a", sched_chain_count(s), &ci), GERR_NOT_FOUND);
	/* every chain at once (what the server's snapshot asks) gives the same figures */
	struct sched_vc_chain_info all[8];
	assert_true(sched_chain_count(s) <= 8);
	for (size_t i = 0; i < sched_vc_count(s); i++) {
		struct sched_vc_info v;
		assert_int_equal(sched_vc_get(s, i, NULL, &v), 0);
		assert_int_equal(sched_vc_chains_get(s, i, all), 0);
		for (size_t c = 0; c < sched_chain_count(s); c++) {
			assert_int_equal(sched_vc_chain_get(s, v.name, c, &ci), 0);
			assert_string_equal(all[c].chain, ci.chain);
			assert_int_equal(all[c].present, ci.present);
			assert_int_equal(all[c].quota_leaves, ci.quota_leaves);
			assert_int_equal(all[c].used_leaves, ci.used_leaves);
			assert_int_equal(all[c].opportunistic_leaves, ci.opportunistic_leaves);
		}
	}
	assert_int_equal(sched_vc_chains_get(s, sched_vc_count(s), all), GERR_NOT_FOUND);
	sched_result_fini(&r);
	sched_free(s);
}

/* ---- bad requests ------------------------------------------------------------------ */

static void bad_requests_are_user_errors(void **state)
{
	(void)state;
	struct sched *s = design();
	struct sched_result r;
	sched_result_init(&r);
	struct gerr err;
	struct sched_member ok = { 1, 1 }, zero = { 0, 1 }, nopods = { 1, 0 }, huge = { 1000000, 1000000 };
	struct {
		struct sched_request req;
		const char *message;
	} cases[] = {
		{ { .group = "g", .vc = NULL, .members = &ok, .nmembers = 1 }, "virtualCluster is empty" },
		{ { .group = "g", .vc = "VC1", .priority = 1001, .members = &ok, .nmembers = 1 }, "greater than 1000" },
		{ { .group = "g", .vc = "VC1", .priority = -2, .members = &ok, .nmembers = 1 }, "less than -1" },
		{ { .group = "", .vc = "VC1", .members = &ok, .nmembers = 1 }, "group name is empty" },
		{ { .group = "g", .vc = "VC1", .members = &zero, .nmembers = 1 }, "leafCellNumber must be positive" },
		{ { .group = "g", .vc = "VC1", .members = &nopods, .nmembers = 1 }, "podNumber must be positive" },
		{ { .group = "g", .vc = "VC1", .members = &huge, .nmembers = 1 }, "too large" },
		{ { .group = "g", .vc = "VC1", .members = NULL, .nmembers = 0 }, "leafCellNumber must be positive" },
		{ { .group = "g", .vc = "VC1", .members = &ok, .nmembers = 1, .pod_leaf_cells = 2 }, "no member" },
		{ { .group = "g", .vc = "nope", .members = &ok, .nmembers = 1 }, "VC nope does not exist" },
		{ { .group = "g", .vc = "VC1", .members = &ok, .nmembers = 1, .leaf_type = "TPU" },
		  "leaf cell type TPU does not exist" },
		{ { .group = "g", .vc = "VC2", .members = &ok, .nmembers = 1, .leaf_type = "DGX2-V100" },
		  "is not in VC VC2" },
		{ { .group = "g", .vc = "VC2", .members = &ok, .nmembers = 1, .pinned_cell = "VC1-YQW-DGX2" },
		  "VC VC2 does not have pinned cell" },
		{ { .group = "g", .vc = "VC1", .priority = -1, .members = &ok, .nmembers = 1, .pinned_cell = "VC1-YQW-DGX2" },
		  "cannot use pinned cell" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		int rc = sched_schedule(s, &cases[i].req, 0, &r, &err);
		if (rc != GERR_INVALID)
			fail_msg("case %zu: rc %d, want GERR_INVALID (%s)", i, rc, cases[i].message);
		if (!strstr(err.msg, cases[i].message))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].message);
	}
	/* nothing was left behind */
	struct sched_group_info gi;
	assert_int_equal(sched_group_get(s, "g", &gi), GERR_NOT_FOUND);
	/* commits and deletes of unknown things are errors too */
	struct sched_request req = { .group = "g", .vc = "VC1", .members = &ok, .nmembers = 1 };
	assert_int_equal(sched_pod_add(s, &req, "p", NULL, 0, &err), GERR_INVALID);
	struct sched_bind_info empty = { 0 };
	assert_int_equal(sched_pod_add(s, &req, "p", &empty, 0, &err), GERR_INVALID);
	assert_int_equal(sched_pod_delete(s, "g", "p", &err), GERR_NOT_FOUND);
	assert_int_equal(sched_pod_cancel(s, "g", "p"), 0);
	assert_int_equal(sched_group_release(s, "g", &err), GERR_NOT_FOUND);
	/* a bind info naming nodes the cluster does not have: recovered as nothing */
	int32_t leaves[1] = { 0 };
	const char *types[1] = { "DGX2-V100-NODE" };
	struct sched_pod_placement pp = { "ghost", leaves, types };
	struct sched_member_placement mp = { 1, &pp, 1 };
	struct sched_bind_info ghost = { "ghost", leaves, 1, "DGX2-V100-NODE", &mp, 1 };
	assert_int_equal(sched_pod_add(s, &req, "p", &ghost, 0, &err), 0);
	assert_int_equal(sched_group_get(s, "g", &gi), 0);
	assert_int_equal(gi.leaves, 0);
	assert_int_equal(sched_pod_delete(s, "g", "p", &err), 0);
	assert_int_equal(sched_group_get(s, "g", &gi), GERR_NOT_FOUND);
	sched_result_fini(&r);
	sched_free(s);
}

static void garbage_configs_never_crash(void **state)
{
	(void)state;
	static const char *const junk[] = {
		"", "~", "42", "physicalCluster: 1", "physicalCluster: {cellTypes: 1, physicalCells: 1}",
		"physicalCluster: {cellTypes: {A: 1}}",
		"physicalCluster: {cellTypes: {A: {childCellType: 1, childCellNumber: 1}}}",
		TYPES "  physicalCells: [1, 2]", TYPES "  physicalCells:\n  - {cellType: NODE, cellChildren: 3}",
		TYPES "  physicalCells:\n  - {cellType: NODE}\nvirtualClusters: [1]",
		TYPES "  physicalCells:\n  - {cellType: NODE}\nvirtualClusters: {a: 1}",
		TYPES "  physicalCells:\n  - {cellType: NODE}\nvirtualClusters: {a: {virtualCells: [1]}}",
		TYPES "  physicalCells:\n  - {cellType: NODE}\nvirtualClusters: {a: {virtualCells: {x: 1}}}",
		TYPES "  physicalCells:\n  - {cellType: NODE, cellAddress: [1]}",
		TYPES "  physicalCells:\n  - {cellType: NODE}\nskuTypes: {a: {gpu: -1}}",
		"hivedscheduler: {config: 3}",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		struct gerr err = { 0 };
		struct sched *s = sched_new(junk[i], strlen(junk[i]), &err);
		if (s)
			fail_msg("junk %zu accepted", i);
		assert_true(err.code == GERR_CONFIG);
		assert_true(err.msg[0]);
	}
	sched_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chains_levels_and_leaf_types),
		cmocka_unit_test(addresses_and_nodes_as_hived_infers_them),
		cmocka_unit_test(virtual_cells_are_addressed_per_vc),
		cmocka_unit_test(bad_configs_name_their_path),
		cmocka_unit_test(hived_design_config_with_a_bad_vc_fails_like_hived),
		cmocka_unit_test(sku_leaf_cells_as_openpai),
		cmocka_unit_test(spec_checks_jobs_against_the_cluster),
		cmocka_unit_test(openpai_services_configuration_shape),
		cmocka_unit_test(every_wait_names_its_constraint),
		cmocka_unit_test(vc_figures_per_chain_count_pinned_cells_and_opportunistic_use),
		cmocka_unit_test(bad_requests_are_user_errors),
		cmocka_unit_test(garbage_configs_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
