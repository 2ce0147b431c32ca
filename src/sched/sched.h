/* SPDX-License-Identifier: MIT */
/*
 * sched — HiveD cell scheduling: virtual clusters, gangs, topology,
 * preemption, bad nodes.
 *
 * sched owns the cluster's cells: the physical cell trees built from HiveD's
 * config (physicalCluster.cellTypes / physicalCells), the virtual cells of
 * every virtual cluster (virtualClusters.*.virtualCells / pinnedCells), the
 * buddy free lists that keep every VC's guarantee satisfiable, the health of
 * nodes, and the table of affinity groups (gangs) that hold or reserve cells.
 * It makes HiveD's decisions (microsoft/hivedscheduler at v0.3.4): the same
 * node, the same ordered leaf (GPU) indices, the same victims, the same user
 * errors; see docs/dev/sched.md for where HiveD left a choice to chance and
 * what this module picks instead.
 *
 * Pure and single-threaded: no I/O, no clock (callers pass `now`), no
 * globals, no randomness; the same calls in the same order give the same
 * answers. One thread (the control loop) owns a struct sched. It allocates
 * with malloc when it is built, when a group is committed and for the
 * result's storage; a decision itself reuses preallocated scratch. Bad input
 * (config, request, bind info) is an error with a message, never an abort.
 *
 * The control loop's calls, in the order it makes them:
 *
 *   sched_new(config)             build from HiveD's YAML/JSON config; every
 *                                 node starts Bad, as in HiveD
 *   sched_node_set_health(...)    nodes report in (or sched_nodes_set_healthy)
 *   sched_schedule(req, now, res) per waiting job: BIND (a placement for every
 *                                 pod), PREEMPT (victims; the cells are now
 *                                 reserved for this job), or WAIT (a reason)
 *   sched_group_commit / sched_pod_add
 *                                 after persisting a BIND: the job holds its
 *                                 cells. On restart, the same call with the
 *                                 persisted bind info restores the job
 *                                 (work-preserving, even with a changed config)
 *   sched_pod_delete              a pod ended; the last one frees the cells
 *   sched_pod_cancel              a pod that never ran is gone (a preemption
 *                                 is cancelled when all its pods are)
 *   sched_group_get, sched_vc_get, sched_node_get, sched_vc_cells,
 *   sched_leaf_get                inspection (read-only)
 */
#ifndef GANTRY_SCHED_SCHED_H
#define GANTRY_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/gerr.h"

struct spec_value;
struct spec_cluster;

#define SCHED_PRIORITY_OPPORTUNISTIC (-1)
#define SCHED_PRIORITY_MIN 0
#define SCHED_PRIORITY_MAX 1000

struct sched;

/* ---- building ------------------------------------------------------------ */

/*
 * Build a scheduler from a config in YAML or JSON (text borrowed): HiveD's
 * physicalCluster and virtualClusters, and OpenPAI's skuTypes at the top
 * level (or OpenPAI's services-configuration shape, hivedscheduler.config
 * plus hivedscheduler.skuTypes). Returns owned memory (sched_free), or NULL
 * with err filled: GERR_CONFIG with the path in the config and the rule
 * ("physicalCluster.physicalCells[3].cellType: unknown cell type 'X'"), or
 * GERR_NOMEM.
 */
struct sched *sched_new(const char *text, size_t len, struct gerr *err);
/* The same from a parsed document (borrowed; spec_yaml_load's tree). */
struct sched *sched_new_from_value(const struct spec_value *root, struct gerr *err);
void sched_free(struct sched *s);

/* ---- nodes ----------------------------------------------------------------- */

/*
 * Mark a node healthy or bad (HiveD's AddNode/UpdateNode/DeleteNode). Bad
 * nodes are never chosen for new placements; running groups keep theirs. A
 * VC whose free cells can no longer all be served by healthy cells gets
 * "doomed" bad cells, visible in sched_vc_cells. Returns 0 or GERR_NOT_FOUND
 * for a node the config does not have.
 */
int sched_node_set_health(struct sched *s, const char *node, bool healthy, struct gerr *err);
/* Every node healthy, chain by chain in config order (what HiveD's own test
 * does after start; the replay depends on it). */
void sched_nodes_set_healthy(struct sched *s);

/* ---- a job: the request -------------------------------------------------- */

/* Pods of one size in a gang: `pods` pods of `leaf_cells` leaf cells each. */
struct sched_member {
	int32_t leaf_cells;
	int32_t pods;
};

/* A set of node names (borrowed strings), for HiveD's "suggested nodes". */
struct sched_nodeset {
	const char *const *names;
	size_t n;
};

enum sched_phase {
	SCHED_PHASE_PREEMPT = 0,   /* may create preemption state (reserve cells) */
	SCHED_PHASE_FILTER = 1,    /* report victims but reserve nothing (HiveD's Filtering) */
};

/*
 * One scheduling request: an affinity group (gang) whose pods are placed all
 * at once or not at all, asked for by one of its pods. All pointers are
 * borrowed for the call. Same-size members are merged, as in HiveD.
 */
struct sched_request {
	const char *group;            /* affinity group name (a job's gang); required */
	const char *vc;               /* virtual cluster; required */
	int priority;                 /* -1 opportunistic, 0..1000 guaranteed */
	const char *leaf_type;        /* leaf cell type (SKU), NULL or "" for any */
	const char *pinned_cell;      /* pinned cell id, NULL or "" for none */
	const struct sched_member *members;
	size_t nmembers;
	bool lazy_preemption;         /* if preempted in its VC, first downgrade to opportunistic */
	int32_t pod_leaf_cells;       /* the asking pod's size; 0: the first member's */
	const char *pod;              /* the asking pod's name (preemptors track their pods); may be NULL */
	const struct sched_nodeset *suggested;  /* nodes allowed; NULL: every node */
	enum sched_phase phase;
};

/* ---- placements (HiveD's pod-bind-info): what a server persists ---------- */

struct sched_pod_placement {
	const char *node;
	int32_t *leaves;              /* device indices, member leaf_cells of them, in order */
	const char **preassigned;     /* per leaf: the VC cell type it came from, "" opportunistic */
};

struct sched_member_placement {
	int32_t leaf_cells;
	struct sched_pod_placement *pods;
	size_t npods;
};

struct sched_bind_info {
	const char *node;             /* the asking pod's node */
	const int32_t *leaves;        /* the asking pod's leaf indices (NVIDIA_VISIBLE_DEVICES) */
	size_t nleaves;
	const char *chain;            /* cell chain */
	const struct sched_member_placement *members;  /* the whole gang */
	size_t nmembers;
};

/* Deep copy into a (borrowed); NULL when out of memory. */
struct sched_bind_info *sched_bind_dup(struct arena *a, const struct sched_bind_info *b);

/* ---- the answer ---------------------------------------------------------- */

enum sched_decision {
	SCHED_BIND = 0,               /* place now: result.bind */
	SCHED_PREEMPT = 1,            /* victims must go first: result.victims */
	SCHED_WAIT = 2,               /* cannot place now: result.wait, result.reason */
};

/*  name            short            meaning */
#define SCHED_WAIT_MAP(X)                                                               \
	X(NONE,          "none",          "not waiting")                                \
	X(NEVER_FITS,    "never-fits",    "larger than the VC's (or pinned cell's) cells can ever hold") \
	X(VC_BUSY,       "vc-busy",       "the VC's cells are held by its jobs of equal or higher priority") \
	X(PINNED_BUSY,   "pinned-busy",   "the pinned cell is held by equal or higher priority jobs") \
	X(CLUSTER_BUSY,  "cluster-busy",  "no free cells of that size for an opportunistic job") \
	X(BAD_NODE,      "bad-node",      "the only placement uses a bad (unhealthy) node") \
	X(NOT_SUGGESTED, "not-suggested", "the only placement uses a node outside the allowed set") \
	X(NO_HEALTHY_CELL, "no-healthy-cell", "the VC's cells would map onto bad or unavailable physical cells")

enum sched_wait {
#define X(name, s, m) SCHED_WAIT_##name,
	SCHED_WAIT_MAP(X)
#undef X
	SCHED_WAIT_COUNT
};

const char *sched_wait_name(int wait);      /* "vc-busy" */
const char *sched_wait_meaning(int wait);   /* one sentence */

struct sched_victim {
	const char *group;
	const char *pod;
	const char *node;             /* where the pod runs */
};

/*
 * A decision. Init once, reuse for every call (its storage is kept and
 * reused), fini at the end. Everything it points to lives until the next
 * sched_schedule with it or sched_result_fini.
 */
struct sched_result {
	enum sched_decision decision;
	/* BIND and PREEMPT: the gang's placement; for BIND, bind.node/leaves are
	 * the asking pod's, pod_index its slot among the member's pods */
	bool has_placement;
	struct sched_bind_info bind;
	int32_t pod_index;
	bool opportunistic;           /* placed as an opportunistic group */
	/* PREEMPT: every victim pod (whole gangs), and the one node HiveD would
	 * report first (victims on it come first) */
	struct sched_victim *victims;
	size_t nvictims;
	const char *victim_node;
	size_t nvictims_on_node;
	/* WAIT */
	int wait;                     /* SCHED_WAIT_* */
	const char *reason;           /* human: why it waits, naming the constraint */
	/* private */
	struct arena arena;
};

void sched_result_init(struct sched_result *r);
void sched_result_fini(struct sched_result *r);

/*
 * Decide for one pod of a gang (HiveD's Schedule). The first pod of a new
 * gang places the whole gang; later pods of an allocated gang get their slot
 * of the stored placement. Returns 0 with res filled, GERR_INVALID for a bad
 * request (unknown VC, pinned cell or leaf type, priority out of range, a pod
 * not in its group, more pods than declared) with err naming it, or
 * GERR_NOMEM. `now` is stored with any state the call creates.
 */
int sched_schedule(struct sched *s, const struct sched_request *req, int64_t now,
                   struct sched_result *res, struct gerr *err);

/* ---- commit and release ---------------------------------------------------- */

/*
 * A pod was bound with `bind` (its own node and leaves in bind->node and
 * bind->leaves; the whole gang's placement in bind->members): HiveD's
 * AddAllocatedPod. The gang's first pod creates the group and takes every
 * cell of the placement; a preempting group becomes allocated. Used as is
 * after a restart to recover (leaves missing from a changed config are
 * ignored; a group that no longer fits its VC keeps running as
 * opportunistic). Returns 0, GERR_INVALID (bad request or bind info) or
 * GERR_NOMEM.
 */
int sched_pod_add(struct sched *s, const struct sched_request *req, const char *pod,
                  const struct sched_bind_info *bind, int64_t now, struct gerr *err);
/*
 * Commit a BIND for every pod of the gang at once: pod_names[i] names the
 * i-th pod in placement order (member by member, pod by pod). Returns as
 * sched_pod_add.
 */
int sched_group_commit(struct sched *s, const struct sched_request *req,
                       const struct sched_bind_info *bind, const char *const *pod_names,
                       int64_t now, struct gerr *err);
/* A committed pod ended (HiveD's DeleteAllocatedPod); the group's last pod
 * releases its cells. GERR_NOT_FOUND when unknown. */
int sched_pod_delete(struct sched *s, const char *group, const char *pod, struct gerr *err);
/* A pod that was never bound is gone (HiveD's DeleteUnallocatedPod): a
 * preempting group whose pods are all gone cancels its preemption. */
int sched_pod_cancel(struct sched *s, const char *group, const char *pod);
/* Delete every allocated pod of a group, or cancel its preemption. */
int sched_group_release(struct sched *s, const char *group, struct gerr *err);

/* ---- inspection ------------------------------------------------------------ */

/*  name             HiveD's string */
#define SCHED_GROUP_STATE_MAP(X)             \
	X(ALLOCATED,       "Allocated")      \
	X(PREEMPTING,      "Preempting")     \
	X(BEING_PREEMPTED, "BeingPreempted")

enum sched_group_state {
#define X(name, s) SCHED_GROUP_##name,
	SCHED_GROUP_STATE_MAP(X)
#undef X
};
const char *sched_group_state_name(int state);

/*  name        HiveD's string */
#define SCHED_CELL_STATE_MAP(X) \
	X(FREE,      "Free")    \
	X(USED,      "Used")    \
	X(RESERVING, "Reserving") \
	X(RESERVED,  "Reserved")

enum sched_cell_state {
#define X(name, s) SCHED_CELL_##name,
	SCHED_CELL_STATE_MAP(X)
#undef X
};
const char *sched_cell_state_name(int state);

struct sched_leaf_ref {
	const char *chain;
	const char *node;
	int32_t leaf;
};

struct sched_group_info {
	const char *name;
	const char *vc;
	int priority;
	int state;                    /* SCHED_GROUP_* */
	bool lazy_preempted;          /* no virtual placement: runs as opportunistic */
	const char *lazy_preemptor;   /* who downgraded it, or NULL */
	int64_t created, lazy_preempted_at;
	size_t pods, pods_allocated, pods_preempting;
	size_t leaves;                /* leaf cells in its placement */
};

/* 0, or GERR_NOT_FOUND when no such group is allocated or preempting. */
int sched_group_get(const struct sched *s, const char *name, struct sched_group_info *out);
/* The group's physical leaves in placement order into out[0..max); returns
 * how many there are (possibly more than max). */
size_t sched_group_leaves(const struct sched *s, const char *name, struct sched_leaf_ref *out, size_t max);
/* Call fn for every group, in an unspecified but deterministic order. */
void sched_group_foreach(const struct sched *s, void (*fn)(void *ctx, const struct sched_group_info *g),
                         void *ctx);

struct sched_vc_info {
	const char *name;
	int64_t quota_leaves;         /* leaf cells of its cells (pinned included) */
	int64_t used_leaves;          /* leaf cells used by its guaranteed groups */
	int64_t opportunistic_leaves; /* leaf cells its opportunistic groups use */
	int64_t doomed_cells;         /* free cells bound to bad hardware */
	size_t nchains, npinned;
};
size_t sched_vc_count(const struct sched *s);
/* 0 or GERR_NOT_FOUND. Index or name (name wins when not NULL). */
int sched_vc_get(const struct sched *s, size_t i, const char *name, struct sched_vc_info *out);

/* A VC's share of one chain, so that figures can be given per SKU (each
 * chain has one leaf type). Groups count where their cells are: an
 * opportunistic group of the VC may use a chain the VC has no cells in. */
struct sched_vc_chain_info {
	const char *chain;
	const char *leaf_type;
	bool present;                 /* the VC has cells in the chain, pinned or not */
	int64_t quota_leaves;         /* leaf cells of its cells there (pinned included) */
	int64_t used_leaves;          /* of those, used by its guaranteed groups */
	int64_t opportunistic_leaves; /* leaf cells of the chain its opportunistic groups use */
};
/* 0, or GERR_NOT_FOUND for an unknown VC or a chain index past
 * sched_chain_count. */
int sched_vc_chain_get(const struct sched *s, const char *vc, size_t chain, struct sched_vc_chain_info *out);
/* The same for VC i (as sched_vc_get) and every chain at once, out[c] for
 * each c < sched_chain_count, walking its groups once. 0, or GERR_NOT_FOUND. */
int sched_vc_chains_get(const struct sched *s, size_t i, struct sched_vc_chain_info *out);

struct sched_cell_info {
	const char *address;          /* virtual address, e.g. "VC1/2" */
	const char *type;
	int level;
	int priority;
	bool free;                    /* no group uses it (priority is "free") */
	bool healthy;                 /* its bound physical cell is healthy (unbound: healthy) */
	bool doomed;                  /* bound only because it is doomed to bad hardware */
	const char *bound_node;       /* first node of the bound physical cell, or "" */
	const char *bound_address;    /* physical address, or "" */
};
/* The VC's preassigned (top-level, non-pinned) cells of chain at level
 * (level 0: every level) — HiveD's VC cell health. Returns the count, or a
 * negative GERR_NOT_FOUND for an unknown VC or chain. */
int sched_vc_cells(const struct sched *s, const char *vc, const char *chain, int level,
                   void (*fn)(void *ctx, const struct sched_cell_info *c), void *ctx);

struct sched_node_info {
	const char *name;
	bool healthy;
	int32_t leaves;
	int32_t used;                 /* used leaves, opportunistic ones included */
	int32_t opportunistic;        /* of those, used by opportunistic groups */
};
size_t sched_node_count(const struct sched *s);
int sched_node_get(const struct sched *s, size_t i, const char *name, struct sched_node_info *out);

struct sched_leaf_info {
	int state;                    /* SCHED_CELL_* */
	int priority;                 /* -2 free, -1 opportunistic, 0..1000 */
	bool healthy;
	const char *group;            /* using group, or NULL */
	const char *reserved_by;      /* reserving group, or NULL */
};
/* Leaf `leaf` of node in chain (NULL: any chain). 0 or GERR_NOT_FOUND. */
int sched_leaf_get(const struct sched *s, const char *chain, const char *node, int32_t leaf,
                   struct sched_leaf_info *out);

/* Names known to the config (for tools): chains in config order, leaf types. */
size_t sched_chain_count(const struct sched *s);
const char *sched_chain_name(const struct sched *s, size_t i);
const char *sched_chain_leaf_type(const struct sched *s, size_t i);
int32_t sched_chain_leaves(const struct sched *s, size_t i);   /* leaf cells in the chain */
int64_t sched_total_leaves(const struct sched *s);
int64_t sched_used_leaves(const struct sched *s);

/* ---- SKUs: resources → leaf cells, as OpenPAI ------------------------------ */

struct sched_sku {
	const char *name;
	double gpu, cpu, memory_mb;   /* per leaf cell */
};
size_t sched_sku_count(const struct sched *s);
const struct sched_sku *sched_sku_get(const struct sched *s, size_t i);
const struct sched_sku *sched_sku_find(const struct sched *s, const char *name);

/*
 * Leaf cells an instance needs, as OpenPAI's rest-server computes them:
 * max(ceil(gpu/sku.gpu), ceil(cpu/sku.cpu), ceil(mem/sku.memory)). sku NULL:
 * each resource against the smallest leaf of the SKUs the VC uses (every SKU
 * when vc is NULL or opportunistic). Returns the count (>= 0) or
 * GERR_INVALID when the SKU has none of a resource asked for or is unknown.
 */
int64_t sched_leaf_cells(const struct sched *s, const char *sku, const char *vc, bool opportunistic,
                         double gpu, double cpu, double memory_mb, struct gerr *err);
/* Fill a spec_cluster (spec/spec.h) so spec_job_load checks SKUs and quotas
 * against this cluster. The scheduler must outlive its use. */
void sched_spec_cluster(struct sched *s, struct spec_cluster *out);

/* ---- testing ------------------------------------------------------------- */

/* Check internal invariants after every call (slow; tests and the replay
 * tool's --check). A broken invariant makes calls fail with GERR_INTERNAL. */
void sched_set_self_check(struct sched *s, bool on);

#endif
