/* SPDX-License-Identifier: MIT */
/*
 * sched/internal.h — the seam between sched's files.
 *
 *   config.c    config tree → cell types, chains, physical and virtual cells
 *   sched.c     sched_new/free, start-up (pinned cells, all nodes bad)
 *   cell.c      cell primitives: priority, state, usage counts, binding
 *   buddy.c     buddy free lists, virtual→physical mapping, preassigned cells
 *   health.c    bad nodes and doomed bad cells
 *   topology.c  topology-aware placement on a cluster view (packing, LCA)
 *   group.c     the affinity-group table, commit and release of gangs
 *   preempt.c   victims, preempting groups, lazy preemption
 *   schedule.c  sched_schedule: validation, chains, results
 *   reason.c    why a job waits
 *   inspect.c   read-only views; sku.c: SKUs → leaf cells
 *
 * Names follow HiveD's (microsoft/hivedscheduler, pkg/algorithm) where a
 * function is its counterpart, so a reader can check one against the other.
 * Levels are 1-based (leaf = 1), arrays indexed by level have top+1 slots.
 */
#ifndef GANTRY_SCHED_INTERNAL_H
#define GANTRY_SCHED_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/gerr.h"
#include "base/strmap.h"
#include "sched/sched.h"

#define SCHED__FREE (-2)        /* priority of a free cell */
#define SCHED__OPPO (-1)        /* opportunistic */
#define SCHED__NONE 0xffffu     /* no VC / chain / pin */
#define SCHED__MAX_LEVELS 64

struct sched__group;
struct sched__view;

/* ---- cells ------------------------------------------------------------------ */

enum {
	SCHED__VIRTUAL = 1 << 0,     /* a VC's cell (else physical) */
	SCHED__ABOVE_NODE = 1 << 1,  /* at or above node level (HiveD's hasNode) */
	SCHED__NODE = 1 << 2,        /* exactly node level */
	SCHED__PINNED = 1 << 3,      /* physical: a pinned cell some VC owns */
	SCHED__SPLIT = 1 << 4,       /* physical: split in the buddy system */
	SCHED__HEALTHY = 1 << 5,     /* healthy iff every leaf below is */
};

/* Used leaf cells of one priority, kept for the nodes of cluster views. */
struct sched__pcount {
	int16_t prio;
	int32_t n;
};

struct sched__cell {
	struct sched__cell *parent;
	struct sched__cell **children;
	struct sched__cell *peer;          /* bound cell: virtual↔physical */
	struct sched__cell *preassigned;   /* virtual: its top-level ancestor */
	struct sched__vnode *vnode;        /* when a node of a cluster view */
	struct sched__group *using;        /* physical leaf: the group using it */
	struct sched__group *reserving;    /* physical leaf: the group reserving it */
	const char *address;
	const uint32_t *nodes;             /* physical: node ids (one at or below node level) */
	int32_t total;                     /* leaf cells */
	int32_t used;                      /* used leaf cells (any priority) */
	int32_t used_oppo;                 /* used by opportunistic groups */
	int32_t free_idx;                  /* physical: index in its free list, or -1 */
	int32_t bad_idx;                   /* physical: index in bad_free, or -1 */
	int32_t doomed_idx;                /* physical: index in a VC's doomed list, or -1 */
	int32_t leaf_index;                /* physical leaf: device index */
	uint32_t nnodes;
	uint32_t gen;                      /* scratch stamp for tmp */
	uint32_t bgen;                     /* scratch stamp for btmp */
	void *tmp;                         /* scratch: binding-path vertex or sibling group */
	struct sched__cell *btmp;          /* scratch: the physical leaf a virtual leaf maps to */
	uint16_t nchildren;
	uint16_t chain;
	uint16_t vc;                       /* virtual: its VC */
	int16_t priority;                  /* max over children; SCHED__FREE when free */
	uint32_t claim;                    /* virtual: == sched.claim_gen while a placement binds it */
	uint8_t level;
	uint8_t state;                     /* SCHED_CELL_*; virtual cells mirror their peer */
	uint8_t flags;
};

static inline bool sched__is_virtual(const struct sched__cell *c) { return c->flags & SCHED__VIRTUAL; }
static inline bool sched__healthy(const struct sched__cell *c) { return c->flags & SCHED__HEALTHY; }
static inline bool sched__split(const struct sched__cell *c) { return c->flags & SCHED__SPLIT; }
static inline bool sched__pinned(const struct sched__cell *c) { return c->flags & SCHED__PINNED; }

/* A list of cells: free lists, bad free lists, the full lists of a level. */
struct sched__clist {
	struct sched__cell **v;
	uint32_t n, cap;
};

/* ---- cluster views (HiveD's topologyAwareScheduler) --------------------- */

struct sched__vnode {
	struct sched__cell *cell;
	struct sched__view *view;
	uint64_t key;                      /* sort key as last computed; lower first */
	struct sched__pcount *prio;        /* used leaves by priority */
	uint16_t nprio, prio_cap;
	bool dirty;                        /* key inputs changed since the last sort */
	uint32_t pos;                      /* position before a re-sort (ties keep it) */
	uint32_t gen;                      /* scratch stamp for avail */
	struct sched__cell **avail;        /* scratch: leaves still available this call */
	uint32_t navail;
};

struct sched__view {
	struct sched__vnode **order;       /* persisted order (HiveD keeps and re-sorts it) */
	struct sched__vnode **base;        /* the order at build time */
	struct sched__vnode **dirty;
	struct sched__vnode **tmp;         /* merge buffer */
	uint32_t n, ndirty;
	const int32_t *level_leaves;       /* leaf cells per level of the chain */
	uint8_t levels;
	bool cross;                        /* crossPriorityPack (intra-VC views) */
	bool valid;                        /* order sorted by keys computed with every node suggested */
	int16_t key_prio;                  /* the priority the keys were computed at (non-cross) */
};

/* ---- chains, leaf types, VCs, pinned cells, nodes -------------------------- */

struct sched__chain {
	const char *name;                  /* the top cell type */
	const char *leaf_type;
	uint32_t index;
	uint8_t top;                       /* levels 1..top */
	const char **types;                /* [level] cell type */
	int32_t *leaves;                   /* [level] leaf cells per cell */
	int32_t *nchild;                   /* [level] children per cell */
	struct sched__clist *full;         /* [level] every physical cell */
	struct sched__clist *free;         /* [level] buddy free list */
	struct sched__clist *bad_free;     /* [level] bad cells obtainable from the free list */
	int32_t *all_vc_free;              /* [level] unbound preassigned cells, all VCs */
	int32_t *total_left;               /* [level] cells obtainable from the free list */
	int32_t *all_vc_doomed;            /* [level] doomed bad cells, all VCs */
	struct sched__view view;           /* opportunistic scheduling */
	int64_t total_leaves;
};

struct sched__ltype {
	const char *name;
	uint16_t *chains;                  /* descending by name (HiveD's test order) */
	uint16_t nchains;
};

struct sched__vchain {
	bool present;                      /* the VC has cells (any) in the chain */
	bool nonpinned;                    /* ... and non-pinned ones */
	int32_t *free;                     /* [level] its unbound preassigned cells */
	struct sched__clist *pre;          /* [level] its non-pinned preassigned cells */
	struct sched__clist *doomed;       /* [level] physical cells doomed for it */
	struct sched__view view;           /* intra-VC scheduling (nonpinned) */
	int64_t quota_leaves;
};

struct sched__vc {
	const char *name;
	uint32_t index;
	struct sched__vchain *chains;      /* [s->nchains] */
	uint16_t *pins;                    /* indices into s->pins */
	uint16_t npins;
	int64_t quota_leaves;
};

struct sched__pin {
	const char *id;
	uint16_t chain, vc;
	struct sched__cell *phys;          /* the pinned physical cell */
	struct sched__cell *virt;          /* its top virtual cell */
	struct sched__clist *full;         /* [level] its virtual cells */
	struct sched__view view;
};

struct sched__node {
	const char *name;
	uint32_t index;
	bool bad;
	uint32_t sugg_gen;                 /* == s->sugg_gen: in this call's suggested set */
	struct sched__cell **leaves;       /* physical leaves on the node, chain order */
	uint32_t nleaves;
};

/* ---- groups ------------------------------------------------------------------ */

struct sched__member {
	int32_t leaves;                    /* leaf cells per pod */
	int32_t pods;
	uint32_t leaf_off;                 /* first leaf in the flat placement arrays */
	uint32_t pod_off;                  /* first pod slot */
};

struct sched__pod {
	const char *name;                  /* allocated pod, or NULL */
	const char *node;                  /* its node (victims are reported by node) */
};

struct sched__group {
	const char *name;
	uint64_t hash;
	struct sched__group *prev, *next;  /* table order (deterministic iteration) */
	struct sched__member *members;     /* ascending leaf cells, merged */
	uint32_t nmembers, npods, nleaves;
	struct sched__cell **phys;         /* [nleaves] member, pod, leaf; NULL: leaf gone */
	struct sched__cell **virt;         /* [nleaves]; meaningful only when has_virt */
	bool has_virt;                     /* HiveD: virtualLeafCellPlacement != nil */
	struct sched__pod *pods;           /* [npods] allocated pods */
	const char **preempting;           /* pods waiting on this preemption */
	uint32_t npreempting, cap_preempting;
	struct sched_bind_info *origin;    /* the bind info it was created from, or NULL */
	uint16_t vc;                       /* SCHED__NONE when the VC is gone */
	uint16_t chain;
	int16_t priority;
	uint8_t state;                     /* SCHED_GROUP_* */
	bool lazy_enabled;
	int64_t created, lazy_at;
	const char *lazy_by;
	char *lazy_buf;                    /* lazy_by's storage, reused */
	size_t lazy_cap;
	uint32_t vgen, pgen;               /* scratch: seen as victim / as preemptor */
	struct arena arena;                /* the group's memory */
};

struct sched__gtable {
	struct sched__group **slots;       /* open addressing; SCHED__TOMB marks deletions */
	uint32_t cap, len, used;
	struct sched__group *head, *tail;
};

/* ---- scheduling scratch ------------------------------------------------------- */

/* A request's pods: members merged and ascending, like HiveD's leafCellNums. */
struct sched__shape {
	struct sched__member *m;
	uint32_t nm, npods, nleaves;
};

/* Why a cluster view could not take a request. */
enum { SCHED__FIT_OK, SCHED__FIT_SHORT, SCHED__FIT_BAD, SCHED__FIT_UNSUGGESTED };

struct sched__fail {
	int wait;                          /* SCHED_WAIT_* */
	char msg[384];
};

/* One undo record of a free-list transaction (HiveD maps virtual cells on a
 * copy of the free lists; we change them in place and roll back). */
struct sched__undo {
	uint8_t op;
	uint8_t level;
	uint16_t chain;
	uint32_t idx, n;
	struct sched__cell *cell;
	struct sched__cell **saved;
};

struct sched {
	struct arena arena;                /* config lifetime */
	struct sched__chain *chains;
	uint32_t nchains;
	struct sched__ltype *ltypes;       /* config order of first chain */
	uint32_t nltypes;
	struct sched__vc *vcs;
	uint32_t nvcs;
	struct sched__pin *pins;
	uint32_t npins;
	struct sched__node *nodes;
	uint32_t nnodes;
	struct strmap node_map, vc_map, chain_map, ltype_map;
	struct sched_sku *skus;
	uint32_t nskus;
	struct sched__gtable groups;
	int64_t total_leaves;

	/* per call */
	struct arena scratch;
	uint32_t gen;
	uint32_t claim_gen;                /* see sched__claim */
	bool claiming;
	uint32_t sugg_gen;
	bool sugg_all;
	struct sched__undo *undo;
	uint32_t nundo, cap_undo;
	bool in_txn;
	bool self_check;
	bool debug_full_sort;              /* tests: sort views in full every call */
	bool broken;                       /* an invariant failed (self-check or a lost cell) */
	char broken_why[160];              /* the first one */
};

/* ---- config.c ------------------------------------------------------------ */

int sched__config_build(struct sched *s, const struct spec_value *root, struct gerr *err);

/* ---- sched.c ------------------------------------------------------------- */

struct sched__node *sched__node_find(const struct sched *s, const char *name);
struct sched__vc *sched__vc_find(const struct sched *s, const char *name);
struct sched__chain *sched__chain_find(const struct sched *s, const char *name);
struct sched__pin *sched__pin_find(const struct sched__vc *vc, const struct sched *s, const char *id);
/* The first node name of a physical cell. */
const char *sched__node_name(const struct sched *s, const struct sched__cell *c);
/* A node of the call's suggested set (every node when the call has none). */
static inline bool sched__suggested(const struct sched *s, uint32_t node)
{
	return s->sugg_all || s->nodes[node].sugg_gen == s->sugg_gen;
}
void sched__check(struct sched *s);    /* self-check: marks s->broken */

/* ---- cell.c -------------------------------------------------------------- */

void sched__set_priority(struct sched__cell *c, int p);        /* setCellPriority */
void sched__update_used(struct sched__cell *c, int p, bool inc); /* updateUsedLeafCellNumAtPriority */
void sched__set_state(struct sched__cell *c, int state);       /* setCellState (physical) */
void sched__set_health(struct sched__cell *c, bool healthy);   /* SetHealthiness */
void sched__bind_one(struct sched__cell *p, struct sched__cell *v);
void sched__unbind_one(struct sched__cell *p);
void sched__bind(struct sched__cell *p, struct sched__cell *v);  /* bindCell */
/* Would binding virtual v to physical p (same level) agree with the bindings
 * in place: the lowest bound cell on either path is bound to its
 * counterpart on the other? */
bool sched__binding_agrees(const struct sched__cell *v, const struct sched__cell *p);
void sched__unbind(struct sched__cell *p);                     /* unbindCell */
bool sched__in_free_list(const struct sched__cell *c);         /* inFreeCellList */
/* getUnboundVirtualCell(children), passing over cells a placement being
 * bound has claimed. */
struct sched__cell *sched__unbound_child(const struct sched *s, struct sched__cell *v);
/* A group's leaves (virt[i] to phys[i]; virt may be NULL) are about to be
 * bound one by one: claim the unbound cells on both paths, so that bad
 * physical cells met on the way (bound to "any unbound virtual child") are
 * neither one of them nor take one of them, which HiveD lets happen and
 * then binds a cell twice. Claims last until sched__unclaim. */
void sched__claim(struct sched *s, struct sched__cell *const *virt, struct sched__cell *const *phys, uint32_t n);
bool sched__claimed(const struct sched *s, const struct sched__cell *c);
void sched__unclaim(struct sched *s);
struct sched__cell *sched__lowest_priority(struct sched__cell **cl, uint32_t n, int p);
void sched__view_mark(struct sched__cell *c);                  /* key inputs changed */

/* ---- buddy.c ------------------------------------------------------------- */

void sched__clist_append(struct sched__clist *l, struct sched__cell *c, int which);
void sched__clist_remove(struct sched__clist *l, struct sched__cell *c, int which);
enum { SCHED__LIST_FREE, SCHED__LIST_BAD, SCHED__LIST_DOOMED };

bool sched__allocate_preassigned(struct sched *s, struct sched__cell *c, uint16_t vc, bool doomed,
                                 char *why, size_t whylen);
void sched__release_preassigned(struct sched *s, struct sched__cell *c, uint16_t vc, bool doomed);
/* allocateLeafCell / releaseLeafCell. */
bool sched__allocate_leaf(struct sched *s, struct sched__cell *p, struct sched__cell *v, int prio,
                          uint16_t vc, char *why, size_t whylen);
void sched__release_leaf(struct sched *s, struct sched__cell *p, uint16_t vc);
/* Map a virtual placement (flat, shape order) to physical leaves (out);
 * true on success. Free lists are left exactly as they were. */
bool sched__map_virtual(struct sched *s, uint16_t chain, const struct sched__shape *sh,
                        struct sched__cell **virt, struct sched__cell **out);

/* ---- health.c ------------------------------------------------------------ */

void sched__set_bad_node(struct sched *s, struct sched__node *n);
void sched__set_healthy_node(struct sched *s, struct sched__node *n);
void sched__try_bind_doomed(struct sched *s, uint16_t chain, int level);
void sched__try_unbind_doomed(struct sched *s, uint16_t chain, int level);
void sched__allocate_bad(struct sched *s, struct sched__cell *c);
void sched__release_bad(struct sched *s, struct sched__cell *c);
/* Virtual leaf v must go to physical leaf p (a restore, or a placement
 * whose cells changed hands since it was mapped), but its preassigned cell
 * was doomed meanwhile (bound to bad free hardware): give the doomed cell
 * back. True when binding v to p now agrees with the bindings in place. */
bool sched__undoom_for(struct sched *s, struct sched__cell *v, const struct sched__cell *p);
/* A job is found running in physical cell p (a commit, a recovery): if p
 * or an ancestor is doomed, it is in use, not free: give it back, unless it
 * is doomed to `keep`, the very VC cell the job maps to (then allocating
 * the leaf turns it into an ordinary allocated cell, as in HiveD). True
 * when something was undoomed. */
bool sched__undoom_above(struct sched *s, struct sched__cell *p, const struct sched__cell *keep);

/* ---- topology.c ---------------------------------------------------------- */

int sched__view_init(struct sched *s, struct sched__view *v, struct sched__clist *full, uint8_t top,
                     const int32_t *level_leaves, bool cross);
/* Place the shape's pods on a view at priority p (HiveD's Schedule):
 * fills out (flat, shape order) and returns SCHED__FIT_OK, or a failure
 * with *at the node that stopped it (bad / unsuggested). */
int sched__view_place(struct sched *s, struct sched__view *v, const struct sched__shape *sh, int p,
                      struct sched__cell **out, struct sched__cell **at);
/* Could the shape fit the view if every cell were free and healthy? */
bool sched__view_could_fit(const struct sched__view *v, const struct sched__shape *sh);
/* Leaves used / total over the view's nodes, and a summary of node sizes. */
void sched__view_usage(const struct sched__view *v, int p, int64_t *total, int64_t *used, int64_t *held);
void sched__view_describe(const struct sched__view *v, char *buf, size_t len);
bool sched__view_check(struct sched *s, struct sched__view *v);

/* ---- group.c ------------------------------------------------------------- */

struct sched__group *sched__group_find(const struct sched *s, const char *name);
/* A new group from a request's shape (not yet in the table). NULL: no memory. */
struct sched__group *sched__group_new(struct sched *s, const struct sched_request *req,
                                      const struct sched__shape *sh, uint16_t vc, int state, int64_t now);
int sched__group_reserve(struct sched *s);                       /* room for one more */
void sched__group_insert(struct sched *s, struct sched__group *g);  /* after reserve */
void sched__group_remove(struct sched *s, struct sched__group *g);
void sched__group_free(struct sched__group *g);
void sched__group_delete_allocated(struct sched *s, struct sched__group *g);
int sched__group_create_allocated(struct sched *s, const struct sched_request *req,
                                  const struct sched__shape *sh, const struct sched_bind_info *b,
                                  int64_t now, struct sched__group **out, struct gerr *err);
int sched__shape_of(struct sched *s, struct arena *a, const struct sched_member *m, size_t n,
                    struct sched__shape *out, struct gerr *err);
int32_t sched__member_index(const struct sched__group *g, int32_t leaves);
bool sched__group_add_preempting_pod(struct sched__group *g, const char *pod);

/* ---- preempt.c ----------------------------------------------------------- */

struct sched__victims {
	struct sched__group **groups;      /* victim groups, first-seen order */
	uint32_t ngroups;
	struct sched__group **preemptors;  /* overlapping preemptors */
	uint32_t npreemptors;
};
int sched__collect_victims(struct sched *s, struct sched__cell **phys, uint32_t n, struct sched__victims *out);
void sched__create_preempting(struct sched *s, struct sched__group *g, struct sched__cell **phys,
                              struct sched__cell **virt);
void sched__delete_preempting(struct sched *s, struct sched__group *g);
void sched__allocate_preempting(struct sched *s, struct sched__group *g);
void sched__lazy_preempt(struct sched *s, struct sched__group *victim, const char *preemptor, int64_t now);
void sched__lazy_preempt_cell(struct sched *s, struct sched__cell *v, const char *preemptor, int64_t now);
void sched__lazy_revert(struct sched *s, struct sched__group *g);

/* ---- reason.c ------------------------------------------------------------ */

void sched__fail_set(struct sched__fail *f, int wait, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sched__fail_view(struct sched *s, struct sched__fail *f, const struct sched__view *v, int fit,
                      const struct sched__cell *at, const struct sched__shape *sh, int prio,
                      const char *where, int busy, const char *leaf_type);
void sched__shape_text(const struct sched__shape *sh, const char *leaf_type, char *buf, size_t len);

/* ---- scratch ------------------------------------------------------------------ */

static inline void *sched__tmp(struct sched *s, size_t n)
{
	return arena_alloc(&s->scratch, n ? n : 1);
}

#endif
