/* SPDX-License-Identifier: MIT */
/*
 * config.c — HiveD's config (plus OpenPAI's skuTypes) → cells.
 *
 * DESIGN
 * ------
 * The config names cell types; each type has one child type and a child
 * count, so types form chains down to a leaf type (a device: any child type
 * that is not itself a key). Every physicalCells entry is a tree whose top
 * type names its chain. Addresses and node names are inferred exactly as
 * HiveD's api.inferPhysicalCellSpec does, because the leaf address is the
 * device index a job sees and the node-level address is the node's name.
 * Virtual clusters get copies of the cell subtrees they are granted
 * ("preassigned cells"), addressed VC/i/..., built as HiveD's
 * virtualCellConstructor does. Then the only VC-vs-physical check HiveD has
 * (initCellNums) runs, with the same message.
 *
 * HiveD panics or misbehaves on many bad configs; here each one is an error
 * naming its path: unknown types, cycles, children that do not match the
 * type's count, top cells below node level, non-integer leaf indices,
 * duplicate or unknown pinned cells, negative counts, VC cells that do not
 * fit the physical cluster.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/internal.h"
#include "spec/spec.h"

/* A cell type as the config defines it, with what the chain walk derives. */
struct ctype {
	const char *name;
	const char *child;           /* NULL for a leaf type */
	int32_t nchild;
	bool node_level;             /* isNodeLevel */
	int visit;                   /* 0 new, 1 on the stack, 2 done */
	int level;
	bool has_node, multi_node;   /* at or above node level; child at or above node */
	int32_t leaves;
	const char *leaf_type;
	struct ctype *child_t;
};

struct build {
	struct sched *s;
	struct gerr *err;
	struct ctype *types;
	uint32_t ntypes;
	struct strmap type_map;
	struct strmap pin_map;       /* pinnedCellId → physical cell */
	struct strmap pin_owner;     /* pinnedCellId → VC name claiming it */
	char path[512];
	/* growing per-chain lists while building */
	uint32_t cap_chains;
	uint32_t *leaf_count;        /* per node: leaves, for the second pass */
	uint32_t cap_nodes;
};

static int cfg_error(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cfg_error(struct build *b, const char *fmt, ...)
{
	char msg[GERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->path[0])
		return gerr_set(b->err, GERR_CONFIG, "%s: %s", b->path, msg);
	return gerr_set(b->err, GERR_CONFIG, "%s", msg);
}

static int nomem(struct build *b)
{
	return gerr_set(b->err, GERR_NOMEM, "out of memory building the scheduler");
}

/* Path helpers: push a ".key" or "[i]" and return the old length to pop to. */
static size_t path_key(struct build *b, const char *key)
{
	size_t n = strlen(b->path);
	snprintf(b->path + n, sizeof(b->path) - n, "%s%s", n ? "." : "", key);
	return n;
}

static size_t path_idx(struct build *b, size_t i)
{
	size_t n = strlen(b->path);
	snprintf(b->path + n, sizeof(b->path) - n, "[%zu]", i);
	return n;
}

static void path_pop(struct build *b, size_t n)
{
	b->path[n] = '\0';
}

static const char *type_name(enum spec_vtype t)
{
	switch (t) {
	case SPEC_NULL: return "null";
	case SPEC_BOOL: return "a boolean";
	case SPEC_NUMBER: return "a number";
	case SPEC_STRING: return "a string";
	case SPEC_ARRAY: return "a list";
	case SPEC_OBJECT: return "a mapping";
	default: return "a scalar";
	}
}

/* An integer field: required or (when absent) dflt. */
static int get_int(struct build *b, const struct spec_value *obj, const char *key, bool required,
                   int64_t dflt, int64_t min, int64_t *out)
{
	const struct spec_value *v = spec_value_get(obj, key);
	if (!v || v->type == SPEC_NULL) {
		if (required) {
			size_t n = path_key(b, key);
			int rc = cfg_error(b, "required");
			path_pop(b, n);
			return rc;
		}
		*out = dflt;
		return 0;
	}
	if (v->type != SPEC_NUMBER || v->num != floor(v->num) || fabs(v->num) > 1e9) {
		size_t n = path_key(b, key);
		int rc = cfg_error(b, "must be an integer (got %s)", type_name(v->type));
		path_pop(b, n);
		return rc;
	}
	if (v->num < (double)min) {
		size_t n = path_key(b, key);
		int rc = cfg_error(b, "must be >= %lld (got %lld)", (long long)min, (long long)v->num);
		path_pop(b, n);
		return rc;
	}
	*out = (int64_t)v->num;
	return 0;
}

static int get_str(struct build *b, const struct spec_value *obj, const char *key, bool required,
                   const char **out)
{
	const struct spec_value *v = spec_value_get(obj, key);
	*out = NULL;
	if (!v || v->type == SPEC_NULL) {
		if (!required)
			return 0;
		size_t n = path_key(b, key);
		int rc = cfg_error(b, "required");
		path_pop(b, n);
		return rc;
	}
	if (v->type != SPEC_STRING || !v->len || memchr(v->str, 0, v->len)) {
		size_t n = path_key(b, key);
		int rc = cfg_error(b, "must be a non-empty string (got %s)", type_name(v->type));
		path_pop(b, n);
		return rc;
	}
	*out = v->str;
	return 0;
}

/* A scalar cell address as text (HiveD reads YAML addresses as strings). */
static int get_address(struct build *b, const struct spec_value *obj, const char **out)
{
	const struct spec_value *v = spec_value_get(obj, "cellAddress");
	*out = NULL;
	if (!v || v->type == SPEC_NULL)
		return 0;
	if (v->type == SPEC_STRING) {
		if (memchr(v->str, 0, v->len)) {
			size_t n = path_key(b, "cellAddress");
			int rc = cfg_error(b, "must not contain NUL");
			path_pop(b, n);
			return rc;
		}
		*out = v->len ? v->str : NULL;
		return 0;
	}
	if (v->type == SPEC_NUMBER && isfinite(v->num)) {
		if (v->num == floor(v->num) && fabs(v->num) < 1e15)
			*out = arena_printf(&b->s->arena, "%lld", (long long)v->num);
		else
			*out = arena_printf(&b->s->arena, "%g", v->num);
		return *out ? 0 : nomem(b);
	}
	size_t n = path_key(b, "cellAddress");
	int rc = cfg_error(b, "must be a string or a number (got %s)", type_name(v->type));
	path_pop(b, n);
	return rc;
}

static struct ctype *find_type(const struct build *b, const char *name)
{
	struct strmap_slot *sl = strmap_find(&b->type_map, name, strlen(name));
	return sl ? sl->val : NULL;
}

/* Growable list in the config arena (doubling; the old array is dropped). */
static int clist_push(struct sched *s, struct sched__clist *l, struct sched__cell *c)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 8;
		struct sched__cell **v = arena_alloc(&s->arena, cap * sizeof(*v));
		if (!v)
			return -1;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = c;
	return 0;
}

/* ---- cell types ---------------------------------------------------------------- */

static int parse_cell_types(struct build *b, const struct spec_value *ct)
{
	struct sched *s = b->s;
	size_t p0 = path_key(b, "cellTypes");
	if (!ct || ct->type != SPEC_OBJECT || ct->n == 0) {
		int rc = cfg_error(b, "must be a non-empty mapping of cell types");
		path_pop(b, p0);
		return rc;
	}
	/* room for every type and every leaf type a child may name */
	b->types = arena_zalloc(&s->arena, 2 * ct->n * sizeof(*b->types));
	if (!b->types)
		return nomem(b);
	for (size_t i = 0; i < ct->n; i++) {
		const struct spec_member *m = &ct->members[i];
		size_t p1 = path_key(b, m->key);
		struct ctype *t = &b->types[b->ntypes++];
		int64_t num;
		int rc;
		if (m->val->type != SPEC_OBJECT) {
			rc = cfg_error(b, "must be a mapping with childCellType and childCellNumber");
			path_pop(b, p0);
			return rc;
		}
		t->name = arena_strdup(&s->arena, m->key);
		if ((rc = get_str(b, m->val, "childCellType", true, &t->child)) ||
		    (rc = get_int(b, m->val, "childCellNumber", true, 0, 1, &num)))
			return rc;
		t->child = arena_strdup(&s->arena, t->child);
		if (!t->name || !t->child)
			return nomem(b);
		t->nchild = (int32_t)num;
		const struct spec_value *nl = spec_value_get(m->val, "isNodeLevel");
		if (nl && nl->type != SPEC_NULL && nl->type != SPEC_BOOL) {
			size_t p2 = path_key(b, "isNodeLevel");
			rc = cfg_error(b, "must be true or false (got %s)", type_name(nl->type));
			path_pop(b, p2);
			return rc;
		}
		t->node_level = nl && nl->type == SPEC_BOOL && nl->b;
		if (strmap_put(&b->type_map, t->name, strlen(t->name), t) < 0)
			return nomem(b);
		path_pop(b, p1);
	}
	/* leaf types: children that are not keys */
	size_t ndefined = b->ntypes;
	for (size_t i = 0; i < ndefined; i++) {
		struct ctype *t = &b->types[i];
		if (find_type(b, t->child))
			continue;
		struct ctype *leaf = &b->types[b->ntypes++];
		leaf->name = t->child;
		leaf->level = 1;
		leaf->leaves = 1;
		leaf->leaf_type = t->child;
		leaf->visit = 2;
		if (strmap_put(&b->type_map, leaf->name, strlen(leaf->name), leaf) < 0)
			return nomem(b);
	}
	/* levels, with cycle detection (HiveD would recurse forever) */
	for (size_t i = 0; i < ndefined; i++) {
		struct ctype *stack[SCHED__MAX_LEVELS + 1];
		size_t depth = 0;
		struct ctype *t = &b->types[i];
		while (t->visit != 2) {
			if (t->visit == 1 || depth == SCHED__MAX_LEVELS) {
				char chain[256] = "";
				size_t len = 0;
				for (size_t k = 0; k < depth && len < sizeof(chain); k++)
					len += (size_t)snprintf(chain + len, sizeof(chain) - len, "%s -> ",
					                        stack[k]->name);
				if (len < sizeof(chain))
					snprintf(chain + len, sizeof(chain) - len, "%s", t->name);
				size_t p1 = path_key(b, stack[0]->name);
				int rc = t->visit == 1 ? cfg_error(b, "cell types form a cycle: %s", chain)
				                       : cfg_error(b, "more than %d levels of cell types",
				                                   SCHED__MAX_LEVELS);
				path_pop(b, p1);
				return rc;
			}
			t->visit = 1;
			stack[depth++] = t;
			t = find_type(b, t->child);
		}
		while (depth) {
			struct ctype *u = stack[--depth];
			struct ctype *c = find_type(b, u->child);
			u->child_t = c;
			u->level = c->level + 1;
			u->leaves = c->leaves * u->nchild;
			if (c->leaves > 0 && u->leaves / c->leaves != u->nchild) {
				size_t p1 = path_key(b, u->name);
				int rc = cfg_error(b, "too many leaf cells in one cell");
				path_pop(b, p1);
				return rc;
			}
			u->has_node = c->has_node || u->node_level;
			u->multi_node = c->has_node;
			u->leaf_type = c->leaf_type;
			u->visit = 2;
		}
		if (b->types[i].level > SCHED__MAX_LEVELS) {
			size_t p1 = path_key(b, b->types[i].name);
			int rc = cfg_error(b, "more than %d levels of cell types", SCHED__MAX_LEVELS);
			path_pop(b, p1);
			return rc;
		}
	}
	path_pop(b, p0);
	return 0;
}

/* ---- physical cells ----------------------------------------------------------- */

static struct sched__chain *chain_get(struct build *b, struct ctype *top)
{
	struct sched *s = b->s;
	struct strmap_slot *sl = strmap_find(&s->chain_map, top->name, strlen(top->name));
	if (sl)
		return sl->val;
	if (s->nchains == b->cap_chains) {
		uint32_t cap = b->cap_chains ? b->cap_chains * 2 : 8;
		struct sched__chain *v = arena_zalloc(&s->arena, cap * sizeof(*v));
		if (!v)
			return NULL;
		if (s->nchains)
			memcpy(v, s->chains, s->nchains * sizeof(*v));
		/* the map holds pointers: repoint them */
		for (uint32_t i = 0; i < s->nchains; i++) {
			struct strmap_slot *o = strmap_find(&s->chain_map, v[i].name, strlen(v[i].name));
			o->val = &v[i];
		}
		s->chains = v;
		b->cap_chains = cap;
	}
	struct sched__chain *c = &s->chains[s->nchains];
	c->index = s->nchains++;
	c->name = top->name;
	c->leaf_type = top->leaf_type;
	c->top = (uint8_t)top->level;
	size_t lv = (size_t)c->top + 1;
	c->types = arena_zalloc(&s->arena, lv * sizeof(*c->types));
	c->leaves = arena_zalloc(&s->arena, lv * sizeof(*c->leaves));
	c->nchild = arena_zalloc(&s->arena, lv * sizeof(*c->nchild));
	c->full = arena_zalloc(&s->arena, lv * sizeof(*c->full));
	c->free = arena_zalloc(&s->arena, lv * sizeof(*c->free));
	c->bad_free = arena_zalloc(&s->arena, lv * sizeof(*c->bad_free));
	c->all_vc_free = arena_zalloc(&s->arena, lv * sizeof(int32_t));
	c->total_left = arena_zalloc(&s->arena, lv * sizeof(int32_t));
	c->all_vc_doomed = arena_zalloc(&s->arena, lv * sizeof(int32_t));
	if (!c->types || !c->leaves || !c->nchild || !c->full || !c->free || !c->bad_free ||
	    !c->all_vc_free || !c->total_left || !c->all_vc_doomed)
		return NULL;
	for (struct ctype *t = top; t; t = t->child_t) {
		c->types[t->level] = t->name;
		c->leaves[t->level] = t->leaves;
		c->nchild[t->level] = t->nchild;
	}
	if (strmap_put(&s->chain_map, c->name, strlen(c->name), c) < 0)
		return NULL;
	return c;
}

static int node_intern(struct build *b, const char *name, uint32_t *id)
{
	struct sched *s = b->s;
	struct strmap_slot *sl = strmap_find(&s->node_map, name, strlen(name));
	if (sl) {
		*id = (uint32_t)(uintptr_t)sl->val - 1;
		return 0;
	}
	if (s->nnodes == b->cap_nodes) {
		uint32_t cap = b->cap_nodes ? b->cap_nodes * 2 : 64;
		struct sched__node *v = arena_zalloc(&s->arena, cap * sizeof(*v));
		if (!v)
			return nomem(b);
		if (s->nnodes)
			memcpy(v, s->nodes, s->nnodes * sizeof(*v));
		s->nodes = v;
		b->cap_nodes = cap;
	}
	struct sched__node *n = &s->nodes[s->nnodes];
	n->name = name;
	n->index = s->nnodes;
	*id = s->nnodes++;
	if (strmap_put(&s->node_map, name, strlen(name), (void *)(uintptr_t)(*id + 1)) < 0)
		return nomem(b);
	return 0;
}

static const char *last_segment(const char *addr)
{
	const char *p = strrchr(addr, '/');
	return p ? p + 1 : addr;
}

static bool parse_index(const char *s, int32_t *out)
{
	char *end;
	if (!*s)
		return false;
	long v = strtol(s, &end, 10);
	if (*end || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

/*
 * One physical cell and its subtree: HiveD's inferPhysicalCellSpec (address
 * defaults) fused with physicalCellConstructor.buildChildCell (nodes, leaf
 * indices). spec may be NULL for an inferred child.
 */
static struct sched__cell *build_physical(struct build *b, struct sched__chain *ch, const struct spec_value *spec,
                                          struct ctype *t, int64_t dflt, const char *prefix,
                                          const uint32_t *node, int *rc)
{
	struct sched *s = b->s;
	const char *own = NULL;
	const char *pin = NULL;
	if (spec && spec->type != SPEC_OBJECT) {
		*rc = cfg_error(b, "must be a mapping (got %s)", type_name(spec->type));
		return NULL;
	}
	if (spec && ((*rc = get_address(b, spec, &own)) || (*rc = get_str(b, spec, "pinnedCellId", false, &pin))))
		return NULL;
	if (spec) {
		const char *stype = NULL;
		if ((*rc = get_str(b, spec, "cellType", false, &stype)))
			return NULL;
		if (stype && strcmp(stype, t->name)) {
			size_t p = path_key(b, "cellType");
			*rc = cfg_error(b, "is %s, but the parent's child cell type is %s", stype, t->name);
			path_pop(b, p);
			return NULL;
		}
	}
	const char *addr;
	if (own)
		addr = prefix ? arena_printf(&s->arena, "%s/%s", prefix, own) : arena_strdup(&s->arena, own);
	else
		addr = prefix ? arena_printf(&s->arena, "%s/%lld", prefix, (long long)dflt)
		              : arena_printf(&s->arena, "%lld", (long long)dflt);
	struct sched__cell *c = arena_zalloc(&s->arena, sizeof(*c));
	if (!addr || !c) {
		*rc = nomem(b);
		return NULL;
	}
	c->address = addr;
	c->chain = (uint16_t)ch->index;
	c->level = (uint8_t)t->level;
	c->total = t->leaves;
	c->priority = SCHED__FREE;
	c->state = SCHED_CELL_FREE;
	c->flags = SCHED__HEALTHY | (t->has_node ? SCHED__ABOVE_NODE : 0) |
	           (t->has_node && !t->multi_node ? SCHED__NODE : 0);
	c->free_idx = c->bad_idx = c->doomed_idx = -1;
	c->leaf_index = -1;
	c->vc = SCHED__NONE;
	if (clist_push(s, &ch->full[t->level], c) < 0) {
		*rc = nomem(b);
		return NULL;
	}
	if (pin) {
		struct strmap_slot *sl = strmap_find(&b->pin_map, pin, strlen(pin));
		if (sl) {
			size_t p = path_key(b, "pinnedCellId");
			*rc = cfg_error(b, "'%s' is already the id of cell %s",
			                pin, ((struct sched__cell *)sl->val)->address);
			path_pop(b, p);
			return NULL;
		}
		if (strmap_put(&b->pin_map, pin, strlen(pin), c) < 0) {
			*rc = nomem(b);
			return NULL;
		}
	}
	if (t->has_node && !t->multi_node) {
		uint32_t *id = arena_alloc(&s->arena, sizeof(*id));
		if (!id) {
			*rc = nomem(b);
			return NULL;
		}
		if ((*rc = node_intern(b, last_segment(addr), id)))
			return NULL;
		node = id;
	}
	if (t->level == 1) {
		if (!parse_index(last_segment(addr), &c->leaf_index)) {
			*rc = cfg_error(b, "leaf cell address '%s' must be an integer device index",
			                last_segment(addr));
			return NULL;
		}
		if (!node) {
			*rc = cfg_error(b, "leaf cell %s is not inside a node-level cell", addr);
			return NULL;
		}
		c->nodes = node;
		c->nnodes = 1;
		return c;
	}
	const struct spec_value *kids = spec ? spec_value_get(spec, "cellChildren") : NULL;
	if (kids && kids->type == SPEC_NULL)
		kids = NULL;
	if (kids && kids->type != SPEC_ARRAY) {
		size_t p = path_key(b, "cellChildren");
		*rc = cfg_error(b, "must be a list (got %s)", type_name(kids->type));
		path_pop(b, p);
		return NULL;
	}
	if (kids && kids->n == 0)
		kids = NULL;
	if (kids && kids->n != (size_t)t->nchild) {
		size_t p = path_key(b, "cellChildren");
		*rc = cfg_error(b, "lists %zu children, but cell type %s has childCellNumber %d",
		                kids->n, t->name, t->nchild);
		path_pop(b, p);
		return NULL;
	}
	c->nchildren = (uint16_t)t->nchild;
	if ((int32_t)c->nchildren != t->nchild) {
		*rc = cfg_error(b, "cell type %s has more than 65535 children", t->name);
		return NULL;
	}
	c->children = arena_alloc(&s->arena, (size_t)t->nchild * sizeof(*c->children));
	if (!c->children) {
		*rc = nomem(b);
		return NULL;
	}
	int64_t base = t->node_level ? 0 : dflt;
	for (int32_t i = 0; i < t->nchild; i++) {
		size_t p = 0;
		if (kids) {
			p = path_key(b, "cellChildren");
			path_idx(b, (size_t)i);
		}
		struct sched__cell *k = build_physical(b, ch, kids ? kids->items[i] : NULL, t->child_t,
		                                       base * t->nchild + i, addr, node, rc);
		if (!k)
			return NULL;
		if (kids)
			path_pop(b, p);
		k->parent = c;
		c->children[i] = k;
	}
	if (t->multi_node) {
		uint32_t n = 0;
		for (int32_t i = 0; i < t->nchild; i++)
			n += c->children[i]->nnodes;
		uint32_t *v = arena_alloc(&s->arena, n * sizeof(*v));
		if (!v) {
			*rc = nomem(b);
			return NULL;
		}
		n = 0;
		for (int32_t i = 0; i < t->nchild; i++) {
			memcpy(v + n, c->children[i]->nodes, c->children[i]->nnodes * sizeof(*v));
			n += c->children[i]->nnodes;
		}
		c->nodes = v;
		c->nnodes = n;
	} else {
		c->nodes = node;
		c->nnodes = 1;
	}
	return c;
}

static int parse_physical_cells(struct build *b, const struct spec_value *pcs)
{
	struct sched *s = b->s;
	size_t p0 = path_key(b, "physicalCells");
	if (!pcs || pcs->type != SPEC_ARRAY || pcs->n == 0) {
		int rc = cfg_error(b, "must be a non-empty list of cells");
		path_pop(b, p0);
		return rc;
	}
	for (size_t i = 0; i < pcs->n; i++) {
		const struct spec_value *spec = pcs->items[i];
		size_t p1 = path_idx(b, i);
		const char *tn;
		int rc;
		if (spec->type != SPEC_OBJECT)
			return cfg_error(b, "must be a mapping (got %s)", type_name(spec->type));
		if ((rc = get_str(b, spec, "cellType", true, &tn)))
			return rc;
		struct ctype *t = find_type(b, tn);
		if (!t || !t->child) {
			size_t p2 = path_key(b, "cellType");
			rc = t ? cfg_error(b, "'%s' is a leaf cell type; a top-level cell must be a node or above", tn)
			       : cfg_error(b, "unknown cell type '%s'", tn);
			path_pop(b, p2);
			return rc;
		}
		if (!t->has_node) {
			size_t p2 = path_key(b, "cellType");
			rc = cfg_error(b, "cell type '%s' is below node level (no isNodeLevel type at or below "
			                  "it); a top-level cell must be a node or above", tn);
			path_pop(b, p2);
			return rc;
		}
		struct sched__chain *ch = chain_get(b, t);
		if (!ch)
			return nomem(b);
		struct sched__cell *top = build_physical(b, ch, spec, t, (int64_t)i, NULL, NULL, &rc);
		if (!top)
			return rc;
		path_pop(b, p1);
	}
	path_pop(b, p0);
	/* free lists start with the top cells in config order; lists get room for
	 * every cell of their level */
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__chain *ch = &s->chains[c];
		for (int l = 1; l <= ch->top; l++) {
			uint32_t n = ch->full[l].n;
			ch->free[l].v = arena_alloc(&s->arena, (n ? n : 1) * sizeof(void *));
			ch->bad_free[l].v = arena_alloc(&s->arena, (n ? n : 1) * sizeof(void *));
			if (!ch->free[l].v || !ch->bad_free[l].v)
				return nomem(b);
			ch->free[l].cap = ch->bad_free[l].cap = n;
		}
		for (uint32_t k = 0; k < ch->full[ch->top].n; k++)
			sched__clist_append(&ch->free[ch->top], ch->full[ch->top].v[k], SCHED__LIST_FREE);
		ch->total_leaves = (int64_t)ch->full[ch->top].n * ch->leaves[ch->top];
		s->total_leaves += ch->total_leaves;
	}
	return 0;
}

/* Nodes get their leaves in chain (config) order, then full-list order —
 * the order HiveD's setBadNode visits them in. */
static int index_node_leaves(struct build *b)
{
	struct sched *s = b->s;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		s->nodes[i].leaves = arena_alloc(&s->arena, (b->leaf_count[i] ? b->leaf_count[i] : 1) *
		                                                sizeof(void *));
		if (!s->nodes[i].leaves)
			return nomem(b);
	}
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__clist *l = &s->chains[c].full[1];
		for (uint32_t k = 0; k < l->n; k++) {
			struct sched__node *n = &s->nodes[l->v[k]->nodes[0]];
			n->leaves[n->nleaves++] = l->v[k];
		}
	}
	return 0;
}

/* Leaf types in config order of their first chain; each type's chains
 * descending by name (HiveD's test sorts them so; production leaves the
 * order to a Go map). */
static int index_leaf_types(struct build *b)
{
	struct sched *s = b->s;
	s->ltypes = arena_zalloc(&s->arena, (s->nchains ? s->nchains : 1) * sizeof(*s->ltypes));
	if (!s->ltypes)
		return nomem(b);
	for (uint32_t c = 0; c < s->nchains; c++) {
		const char *lt = s->chains[c].leaf_type;
		struct strmap_slot *sl = strmap_find(&s->ltype_map, lt, strlen(lt));
		struct sched__ltype *t;
		if (sl) {
			t = sl->val;
		} else {
			t = &s->ltypes[s->nltypes++];
			t->name = lt;
			t->chains = arena_alloc(&s->arena, s->nchains * sizeof(*t->chains));
			if (!t->chains || strmap_put(&s->ltype_map, lt, strlen(lt), t) < 0)
				return nomem(b);
		}
		/* insertion sort, descending by byte order */
		uint16_t k = t->nchains++;
		while (k > 0 && strcmp(s->chains[t->chains[k - 1]].name, s->chains[c].name) < 0) {
			t->chains[k] = t->chains[k - 1];
			k--;
		}
		t->chains[k] = (uint16_t)c;
	}
	return 0;
}

/* ---- virtual clusters -------------------------------------------------------- */

struct vbuild {
	struct sched__vc *vc;
	struct sched__chain *ch;
	struct sched__clist *full;   /* [level] the list the cells go to */
	struct sched__cell *root;
};

/* virtualCellConstructor.buildChildCell */
static struct sched__cell *build_virtual(struct build *b, struct vbuild *vb, int level, const char *addr,
                                         bool top)
{
	struct sched *s = b->s;
	struct sched__chain *ch = vb->ch;
	struct sched__cell *c = arena_zalloc(&s->arena, sizeof(*c));
	if (!c)
		return NULL;
	struct ctype *t = find_type(b, ch->types[level]);
	c->address = addr;
	c->chain = (uint16_t)ch->index;
	c->vc = (uint16_t)vb->vc->index;
	c->level = (uint8_t)level;
	c->total = ch->leaves[level];
	c->priority = SCHED__FREE;
	c->state = SCHED_CELL_FREE;
	c->flags = SCHED__VIRTUAL | SCHED__HEALTHY | (t->has_node ? SCHED__ABOVE_NODE : 0) |
	           (t->has_node && !t->multi_node ? SCHED__NODE : 0);
	c->free_idx = c->bad_idx = c->doomed_idx = -1;
	c->leaf_index = -1;
	if (!vb->root)
		vb->root = c;
	c->preassigned = vb->root;
	if (clist_push(s, &vb->full[level], c) < 0)
		return NULL;
	if (level == 1)
		return c;
	int32_t n = ch->nchild[level];
	int64_t offset = 0;
	if (!top) {
		int32_t last = 0;
		parse_index(last_segment(addr), &last);
		offset = (int64_t)last * n;
	}
	c->nchildren = (uint16_t)n;
	c->children = arena_alloc(&s->arena, (size_t)n * sizeof(*c->children));
	if (!c->children)
		return NULL;
	for (int32_t i = 0; i < n; i++) {
		const char *ka = arena_printf(&s->arena, "%s/%lld", addr, (long long)(offset + i));
		if (!ka)
			return NULL;
		struct sched__cell *k = build_virtual(b, vb, level - 1, ka, false);
		if (!k)
			return NULL;
		k->parent = c;
		c->children[i] = k;
	}
	return c;
}

static int vchain_init(struct build *b, struct sched__vc *vc, struct sched__chain *ch)
{
	struct sched *s = b->s;
	struct sched__vchain *vch = &vc->chains[ch->index];
	if (vch->present)
		return 0;
	size_t lv = (size_t)ch->top + 1;
	vch->present = true;
	vch->free = arena_zalloc(&s->arena, lv * sizeof(int32_t));
	vch->pre = arena_zalloc(&s->arena, lv * sizeof(*vch->pre));
	vch->doomed = arena_zalloc(&s->arena, lv * sizeof(*vch->doomed));
	return vch->free && vch->pre && vch->doomed ? 0 : nomem(b);
}

static int parse_vc(struct build *b, struct sched__vc *vc, const struct spec_value *spec)
{
	struct sched *s = b->s;
	uint32_t ncells = 0;
	int rc;
	if (spec->type != SPEC_OBJECT)
		return cfg_error(b, "must be a mapping with virtualCells and/or pinnedCells");
	vc->chains = arena_zalloc(&s->arena, s->nchains * sizeof(*vc->chains));
	if (!vc->chains)
		return nomem(b);
	/* the non-pinned cells' full lists, per chain, grown while building */
	struct sched__clist **fulls = arena_zalloc(&s->arena, s->nchains * sizeof(*fulls));
	if (!fulls)
		return nomem(b);

	const struct spec_value *cells = spec_value_get(spec, "virtualCells");
	if (cells && cells->type != SPEC_NULL && cells->type != SPEC_ARRAY) {
		size_t p = path_key(b, "virtualCells");
		rc = cfg_error(b, "must be a list (got %s)", type_name(cells->type));
		path_pop(b, p);
		return rc;
	}
	for (size_t i = 0; cells && cells->type == SPEC_ARRAY && i < cells->n; i++) {
		const struct spec_value *vcs = cells->items[i];
		size_t p0 = path_key(b, "virtualCells");
		path_idx(b, i);
		const char *path;
		int64_t num;
		if (vcs->type != SPEC_OBJECT)
			return cfg_error(b, "must be a mapping with cellType and cellNumber");
		if ((rc = get_str(b, vcs, "cellType", true, &path)) ||
		    (rc = get_int(b, vcs, "cellNumber", true, 0, 0, &num)))
			return rc;
		/* only the first (chain) and last (granted type) parts count, as in HiveD */
		const char *dot = strchr(path, '.');
		char *chain_name = arena_strndup(&s->arena, path, dot ? (size_t)(dot - path) : strlen(path));
		const char *root_type = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
		if (!chain_name)
			return nomem(b);
		struct sched__chain *ch = sched__chain_find(s, chain_name);
		if (!ch) {
			size_t p = path_key(b, "cellType");
			rc = find_type(b, chain_name)
			         ? cfg_error(b, "chain '%s' does not exist in the physical cluster (no physicalCells "
			                        "entry has cellType %s)", chain_name, chain_name)
			         : cfg_error(b, "unknown cell type '%s'", chain_name);
			path_pop(b, p);
			return rc;
		}
		int level = 0;
		for (int l = 1; l <= ch->top; l++)
			if (!strcmp(ch->types[l], root_type))
				level = l;
		if (!level) {
			size_t p = path_key(b, "cellType");
			rc = cfg_error(b, "'%s' is not a cell type of chain %s (its types are %s ... %s)",
			               root_type, ch->name, ch->types[ch->top], ch->types[1]);
			path_pop(b, p);
			return rc;
		}
		if ((rc = vchain_init(b, vc, ch)))
			return rc;
		struct sched__vchain *vch = &vc->chains[ch->index];
		vch->free[level] += (int32_t)num;
		if (num > 0 && !fulls[ch->index]) {
			fulls[ch->index] = arena_zalloc(&s->arena, ((size_t)ch->top + 1) * sizeof(struct sched__clist));
			if (!fulls[ch->index])
				return nomem(b);
		}
		for (int64_t k = 0; k < num; k++) {
			const char *addr = arena_printf(&s->arena, "%s/%u", vc->name, ncells++);
			struct vbuild vb = { vc, ch, fulls[ch->index], NULL };
			if (!addr)
				return nomem(b);
			struct sched__cell *root = build_virtual(b, &vb, level, addr, true);
			if (!root || clist_push(s, &vch->pre[level], root) < 0)
				return nomem(b);
			vch->nonpinned = true;
			vch->quota_leaves += root->total;
			vc->quota_leaves += root->total;
		}
		path_pop(b, p0);
	}

	const struct spec_value *pins = spec_value_get(spec, "pinnedCells");
	if (pins && pins->type != SPEC_NULL && pins->type != SPEC_ARRAY) {
		size_t p = path_key(b, "pinnedCells");
		rc = cfg_error(b, "must be a list (got %s)", type_name(pins->type));
		path_pop(b, p);
		return rc;
	}
	if (pins && pins->type == SPEC_ARRAY && pins->n) {
		vc->pins = arena_alloc(&s->arena, pins->n * sizeof(*vc->pins));
		if (!vc->pins)
			return nomem(b);
	}
	for (size_t i = 0; pins && pins->type == SPEC_ARRAY && i < pins->n; i++) {
		const struct spec_value *ps = pins->items[i];
		size_t p0 = path_key(b, "pinnedCells");
		path_idx(b, i);
		const char *id;
		if (ps->type != SPEC_OBJECT)
			return cfg_error(b, "must be a mapping with pinnedCellId");
		if ((rc = get_str(b, ps, "pinnedCellId", true, &id)))
			return rc;
		if (!(id = arena_strdup(&s->arena, id)))
			return nomem(b);
		struct strmap_slot *sl = strmap_find(&b->pin_map, id, strlen(id));
		if (!sl) {
			size_t p = path_key(b, "pinnedCellId");
			rc = cfg_error(b, "no physical cell has pinnedCellId '%s'", id);
			path_pop(b, p);
			return rc;
		}
		struct strmap_slot *own = strmap_find(&b->pin_owner, id, strlen(id));
		if (own) {
			size_t p = path_key(b, "pinnedCellId");
			rc = cfg_error(b, "pinned cell '%s' is already pinned to VC %s", id, (const char *)own->val);
			path_pop(b, p);
			return rc;
		}
		if (strmap_put(&b->pin_owner, id, strlen(id), (void *)vc->name) < 0)
			return nomem(b);
		struct sched__cell *pc = sl->val;
		struct sched__chain *ch = &s->chains[pc->chain];
		if ((rc = vchain_init(b, vc, ch)))
			return rc;
		vc->chains[ch->index].free[pc->level]++;
		struct sched__pin *pin = &s->pins[s->npins];
		struct sched__clist *full = arena_zalloc(&s->arena, ((size_t)ch->top + 1) * sizeof(*full));
		const char *addr = arena_printf(&s->arena, "%s/%u", vc->name, ncells++);
		if (!full || !addr)
			return nomem(b);
		struct vbuild vb = { vc, ch, full, NULL };
		pin->id = id;
		pin->chain = (uint16_t)ch->index;
		pin->vc = (uint16_t)vc->index;
		pin->phys = pc;
		pin->full = full;
		pin->virt = build_virtual(b, &vb, pc->level, addr, true);
		if (!pin->virt)
			return nomem(b);
		pc->flags |= SCHED__PINNED;
		vc->quota_leaves += pc->total;
		if (sched__view_init(s, &pin->view, full, pc->level, ch->leaves, true) < 0)
			return nomem(b);
		vc->pins[vc->npins++] = (uint16_t)s->npins++;
		path_pop(b, p0);
	}
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__vchain *vch = &vc->chains[c];
		struct sched__chain *ch = &s->chains[c];
		if (!vch->present)
			continue;
		for (int l = 1; l <= ch->top; l++) {
			uint32_t n = (uint32_t)vch->free[l];
			vch->doomed[l].v = arena_alloc(&s->arena, (n ? n : 1) * sizeof(void *));
			if (!vch->doomed[l].v)
				return nomem(b);
			vch->doomed[l].cap = n;
		}
		if (vch->nonpinned) {
			int top = 0;
			for (int l = 1; l <= ch->top; l++)
				if (fulls[c][l].n)
					top = l;
			if (sched__view_init(s, &vch->view, fulls[c], (uint8_t)top, ch->leaves, true) < 0)
				return nomem(b);
		}
	}
	return 0;
}

static int parse_vcs(struct build *b, const struct spec_value *vcs)
{
	struct sched *s = b->s;
	size_t p0 = path_key(b, "virtualClusters");
	if (vcs && vcs->type == SPEC_NULL)
		vcs = NULL;
	if (vcs && vcs->type != SPEC_OBJECT) {
		int rc = cfg_error(b, "must be a mapping of virtual clusters (got %s)", type_name(vcs->type));
		path_pop(b, p0);
		return rc;
	}
	size_t nvcs = vcs ? vcs->n : 0;
	size_t npins = 0;
	for (size_t i = 0; i < nvcs; i++) {
		const struct spec_value *p = spec_value_get(vcs->members[i].val, "pinnedCells");
		if (p && p->type == SPEC_ARRAY)
			npins += p->n;
	}
	if (nvcs > 0xfff0 || npins > 0xfff0 || s->nchains > 0xfff0) {
		int rc = cfg_error(b, "too many virtual clusters, pinned cells or chains");
		path_pop(b, p0);
		return rc;
	}
	s->vcs = arena_zalloc(&s->arena, (nvcs ? nvcs : 1) * sizeof(*s->vcs));
	s->pins = arena_zalloc(&s->arena, (npins ? npins : 1) * sizeof(*s->pins));
	if (!s->vcs || !s->pins)
		return nomem(b);
	for (size_t i = 0; i < nvcs; i++) {
		const struct spec_member *m = &vcs->members[i];
		struct sched__vc *vc = &s->vcs[s->nvcs];
		vc->name = arena_strdup(&s->arena, m->key);
		vc->index = s->nvcs++;
		if (!vc->name)
			return nomem(b);
		if (!*m->key || strchr(m->key, '/')) {
			size_t p = path_key(b, m->key);
			int rc = cfg_error(b, "a VC name must be non-empty and must not contain '/'");
			path_pop(b, p);
			return rc;
		}
		if (strmap_put(&s->vc_map, vc->name, strlen(vc->name), vc) < 0)
			return nomem(b);
		size_t p1 = path_key(b, m->key);
		int rc = parse_vc(b, vc, m->val);
		if (rc)
			return rc;
		path_pop(b, p1);
	}
	path_pop(b, p0);
	return 0;
}

/* initCellNums: the only VC-vs-physical check HiveD makes, same message. */
static int check_quota(struct build *b)
{
	struct sched *s = b->s;
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__chain *ch = &s->chains[c];
		for (uint32_t v = 0; v < s->nvcs; v++) {
			struct sched__vchain *vch = &s->vcs[v].chains[c];
			if (!vch->present)
				continue;
			for (int l = 1; l <= ch->top; l++)
				ch->all_vc_free[l] += vch->free[l];
		}
		int64_t available = ch->full[ch->top].n;
		ch->total_left[ch->top] = (int32_t)available;
		for (int l = ch->top; l >= 1; l--) {
			int64_t left = available - ch->all_vc_free[l];
			if (left < 0) {
				b->path[0] = '\0';
				path_key(b, "virtualClusters");
				return cfg_error(b, "Illegal initial VC assignment: Insufficient physical cells at chain "
				                    "%s level %d: %d needed, %lld available (cell type %s)",
				                 ch->name, l, ch->all_vc_free[l], (long long)available, ch->types[l]);
			}
			if (l > 1) {
				available = left * ch->nchild[l];
				ch->total_left[l - 1] = ch->total_left[l] * ch->nchild[l];
			}
		}
	}
	return 0;
}

/* memory: a number (MB) or a Kubernetes quantity ("56334Mi", "64Gi", "1G"). */
static int parse_memory(const struct spec_value *v, double *mb)
{
	if (v->type == SPEC_NUMBER) {
		*mb = v->num;
		return v->num >= 0 ? 0 : -1;
	}
	if (v->type != SPEC_STRING)
		return -1;
	char *end;
	double n = strtod(v->str, &end);
	if (end == v->str || n < 0)
		return -1;
	static const struct { const char *suffix; double mb; } units[] = {
		{ "", 1.0 / (1024 * 1024) }, { "Ki", 1.0 / 1024 }, { "Mi", 1 }, { "Gi", 1024 },
		{ "Ti", 1024.0 * 1024 }, { "k", 1000.0 / (1024 * 1024) }, { "K", 1000.0 / (1024 * 1024) },
		{ "M", 1e6 / (1024 * 1024) }, { "G", 1e9 / (1024 * 1024) }, { "T", 1e12 / (1024 * 1024) },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].suffix)) {
			*mb = n * units[i].mb;
			return 0;
		}
	}
	return -1;
}

static int parse_skus(struct build *b, const struct spec_value *skus, const char *where)
{
	struct sched *s = b->s;
	if (!skus || skus->type == SPEC_NULL)
		return 0;
	b->path[0] = '\0';
	size_t p0 = path_key(b, where);
	if (skus->type != SPEC_OBJECT)
		return cfg_error(b, "must be a mapping of SKU types (got %s)", type_name(skus->type));
	s->skus = arena_zalloc(&s->arena, (skus->n ? skus->n : 1) * sizeof(*s->skus));
	if (!s->skus)
		return nomem(b);
	for (size_t i = 0; i < skus->n; i++) {
		const struct spec_member *m = &skus->members[i];
		struct sched_sku *k = &s->skus[s->nskus++];
		size_t p1 = path_key(b, m->key);
		if (m->val->type != SPEC_OBJECT)
			return cfg_error(b, "must be a mapping with gpu, cpu and memory");
		k->name = arena_strdup(&s->arena, m->key);
		if (!k->name)
			return nomem(b);
		static const char *const keys[] = { "gpu", "cpu", "memory" };
		double *fields[] = { &k->gpu, &k->cpu, &k->memory_mb };
		for (int f = 0; f < 3; f++) {
			const struct spec_value *v = spec_value_get(m->val, keys[f]);
			if (!v || v->type == SPEC_NULL)
				continue;
			bool ok = f == 2 ? parse_memory(v, fields[f]) == 0
			                 : v->type == SPEC_NUMBER && v->num >= 0 && isfinite(v->num);
			if (ok && f < 2)
				*fields[f] = v->num;
			if (!ok) {
				size_t p2 = path_key(b, keys[f]);
				int rc = cfg_error(b, f == 2 ? "must be a number of MB or a quantity like 56334Mi"
				                             : "must be a number >= 0");
				path_pop(b, p2);
				return rc;
			}
		}
		path_pop(b, p1);
	}
	path_pop(b, p0);
	return 0;
}

int sched__config_build(struct sched *s, const struct spec_value *root, struct gerr *err)
{
	struct build b = { .s = s, .err = err };
	struct spec_job *inner = NULL;
	const struct spec_value *cfg = root, *skus = NULL;
	const char *skus_where = "skuTypes";
	int rc;

	strmap_init(&b.type_map, &s->arena);
	strmap_init(&b.pin_map, &s->arena);
	strmap_init(&b.pin_owner, &s->arena);
	if (!root || root->type != SPEC_OBJECT)
		return gerr_set(err, GERR_CONFIG, "the config must be a mapping with physicalCluster and "
		                                  "virtualClusters");
	/* OpenPAI's services-configuration: hivedscheduler: {skuTypes, config} */
	const struct spec_value *hs = spec_value_get(root, "hivedscheduler");
	if (hs && hs->type == SPEC_OBJECT && !spec_value_get(root, "physicalCluster")) {
		const struct spec_value *c = spec_value_get(hs, "config");
		skus = spec_value_get(hs, "skuTypes");
		skus_where = "hivedscheduler.skuTypes";
		if (c && c->type == SPEC_STRING) {
			inner = spec_job_new();
			if (!inner)
				return gerr_set(err, GERR_NOMEM, "out of memory");
			if (spec_yaml_load(inner, c->str, c->len)) {
				rc = gerr_set(err, GERR_CONFIG, "hivedscheduler.config:%u:%u: %s",
				              inner->ndiags ? inner->diags[0].line : 0,
				              inner->ndiags ? inner->diags[0].col : 0,
				              inner->ndiags ? inner->diags[0].msg : "cannot parse");
				spec_job_free(inner);
				return rc;
			}
			c = inner->root;
		}
		if (!c || c->type != SPEC_OBJECT) {
			spec_job_free(inner);
			return gerr_set(err, GERR_CONFIG, "hivedscheduler.config: must be HiveD's config (a mapping "
			                                  "or a YAML string)");
		}
		cfg = c;
		path_key(&b, "hivedscheduler.config");
	} else {
		skus = spec_value_get(root, "skuTypes");
	}

	const struct spec_value *pc = spec_value_get(cfg, "physicalCluster");
	size_t p0 = path_key(&b, "physicalCluster");
	if (!pc || pc->type != SPEC_OBJECT) {
		rc = cfg_error(&b, "required: a mapping with cellTypes and physicalCells");
		goto out;
	}
	if ((rc = parse_cell_types(&b, spec_value_get(pc, "cellTypes"))))
		goto out;
	if ((rc = parse_physical_cells(&b, spec_value_get(pc, "physicalCells"))))
		goto out;
	path_pop(&b, p0);
	b.leaf_count = calloc(s->nnodes ? s->nnodes : 1, sizeof(uint32_t));
	if (!b.leaf_count) {
		rc = nomem(&b);
		goto out;
	}
	for (uint32_t c = 0; c < s->nchains; c++)
		for (uint32_t k = 0; k < s->chains[c].full[1].n; k++)
			b.leaf_count[s->chains[c].full[1].v[k]->nodes[0]]++;
	if ((rc = index_node_leaves(&b)) || (rc = index_leaf_types(&b)))
		goto out;
	for (uint32_t c = 0; c < s->nchains; c++) {
		struct sched__chain *ch = &s->chains[c];
		if (sched__view_init(s, &ch->view, ch->full, ch->top, ch->leaves, false) < 0) {
			rc = nomem(&b);
			goto out;
		}
	}
	if ((rc = parse_vcs(&b, spec_value_get(cfg, "virtualClusters"))))
		goto out;
	if ((rc = check_quota(&b)) || (rc = parse_skus(&b, skus, skus_where)))
		goto out;
	rc = 0;
out:
	free(b.leaf_count);
	spec_job_free(inner);
	return rc;
}
