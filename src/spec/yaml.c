/* SPDX-License-Identifier: MIT */
/*
 * yaml.c — job file text → value tree, as js-yaml's safeLoad builds it.
 *
 * DESIGN
 * ------
 * OpenPAI reads job files with js-yaml 3 (safeLoad, DEFAULT_SAFE_SCHEMA), so
 * the tree must be what that library produces: plain scalars resolve to null,
 * bool, int (also 0x, 0b, leading-zero octal, base 60), float (.inf, .nan),
 * timestamp, in that order; quoted and block scalars stay strings; keys become
 * JavaScript property names (String(key)); `<<` merges; a repeated key, a
 * second document, an unknown tag or an undefined alias is an error.
 *
 * libyaml does the scanning (it is js-yaml's close relative: both descend from
 * PyYAML, and it parses a 6 KB job twice as fast as libfyaml on this machine,
 * see docs/dev/spec.md). We consume its event stream with an explicit stack,
 * so nesting costs no C stack and is capped at SPEC_MAX_DEPTH. Children are
 * gathered on two scratch vectors and copied into the arena when their
 * collection closes, so every node is allocated once, at its final size.
 *
 * Aliases share the anchored node (a DAG, as js-yaml shares the object). Each
 * node carries its expanded size, and the total is capped at SPEC_MAX_NODES,
 * so "billion laughs" fails fast instead of making validation exponential.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/strmap.h"
#include "spec/internal.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

enum ctag {   /* explicit tag on a collection */
	CT_NONE, CT_MAP, CT_SEQ, CT_SET, CT_OMAP, CT_PAIRS,
};

struct member_tmp {
	struct spec_member m;
	bool overridable;   /* came from a merge; an explicit key may replace it */
};

struct frame {
	struct spec_value *node;
	size_t first;            /* first child in ld->items or ld->members */
	size_t weight;           /* expanded size so far (1 + children) */
	const char *anchor;      /* or NULL */
	size_t anchor_len;
	enum ctag tag;
	bool flow;
	/* mapping state */
	bool have_key;
	bool key_is_merge;
	struct spec_value *key_node;
	struct strmap keys;      /* key → index in ld->members (+1), built lazily */
	bool keys_built;
	/* byte span tracking for the top-level secrets value */
	bool key_is_secrets;
	size_t value_start;      /* char index where the pending value starts */
};

struct loader {
	struct spec_job *job;
	struct arena *a;
	yaml_parser_t parser;
	struct frame stack[SPEC_MAX_DEPTH + 2];
	int depth;
	struct spec_value **items;
	size_t nitems, items_cap;
	struct member_tmp *members;
	size_t nmembers, members_cap;
	struct strmap anchors;   /* name → struct spec_value* (NULL while open) */
	size_t nodes;            /* expanded node count */
	size_t last_end;         /* char index just past the last finished node */
	int docs;
	bool secrets_found;
	size_t secrets_start, secrets_end;  /* char indices */
	size_t cur_char, cur_byte;          /* char_to_byte's cursor */
};

/* ---- errors --------------------------------------------------------------- */

static int fail_at(struct loader *ld, const yaml_mark_t *mk, const char *fmt, const char *arg)
{
	return spec__error(ld->job, (unsigned)mk->line + 1, (unsigned)mk->column + 1, fmt, arg);
}

static int fail_pos(struct loader *ld, const struct spec_value *v, const char *fmt, const char *arg)
{
	return spec__error(ld->job, v ? v->line : 0, v ? v->col : 0, fmt, arg);
}

/* Line and column of byte offset off in the input. */
static void offset_pos(const struct spec_job *job, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < off && i < job->text_len; i++) {
		if (job->text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)job->text[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int parser_error(struct loader *ld)
{
	yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem ? p->problem : "could not parse the YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return GERR_NOMEM;
	if (p->error == YAML_READER_ERROR) {
		unsigned line, col;
		offset_pos(ld->job, p->problem_offset, &line, &col);
		return spec__error(ld->job, line, col, "%s", problem);
	}
	unsigned line = (unsigned)p->problem_mark.line + 1, col = (unsigned)p->problem_mark.column + 1;
	if (p->context)
		return spec__error(ld->job, line, col, "%s (%s started at line %u, column %u)", problem,
		                   p->context, (unsigned)p->context_mark.line + 1,
		                   (unsigned)p->context_mark.column + 1);
	return spec__error(ld->job, line, col, "%s", problem);
}

/* ---- node construction ------------------------------------------------------ */

/* Character index → byte offset: libyaml marks count characters. Events come
 * in document order, so a cursor makes the walk linear overall. */
static size_t char_to_byte(struct loader *ld, size_t chars)
{
	const unsigned char *s = (const unsigned char *)ld->job->text;
	size_t len = ld->job->text_len;
	if (chars < ld->cur_char) {
		ld->cur_char = 0;
		ld->cur_byte = 0;
	}
	while (ld->cur_char < chars && ld->cur_byte < len) {
		ld->cur_byte++;
		while (ld->cur_byte < len && (s[ld->cur_byte] & 0xC0) == 0x80)
			ld->cur_byte++;
		ld->cur_char++;
	}
	return ld->cur_byte;
}

static struct spec_value *new_node(struct loader *ld, enum spec_vtype t, const yaml_mark_t *mk)
{
	struct spec_value *v = arena_zalloc(ld->a, sizeof(*v));
	if (!v)
		return NULL;
	v->type = t;
	v->line = (unsigned)mk->line + 1;
	v->col = (unsigned)mk->column + 1;
	return v;
}

enum stag { ST_NONE, ST_QMARK, ST_STR, ST_NULL, ST_BOOL, ST_INT, ST_FLOAT, ST_TIMESTAMP,
            ST_MERGE, ST_BINARY, ST_MAP, ST_SEQ, ST_SET, ST_OMAP, ST_PAIRS, ST_UNKNOWN };

static enum stag tag_of(const char *tag)
{
	if (!tag || !strcmp(tag, "!"))
		return ST_NONE;
	if (!strcmp(tag, "?"))
		return ST_QMARK;
	if (strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1))
		return ST_UNKNOWN;
	const char *t = tag + sizeof(TAG_PREFIX) - 1;
	static const struct { const char *name; enum stag tag; } names[] = {
		{ "str", ST_STR }, { "null", ST_NULL }, { "bool", ST_BOOL }, { "int", ST_INT },
		{ "float", ST_FLOAT }, { "timestamp", ST_TIMESTAMP }, { "merge", ST_MERGE },
		{ "binary", ST_BINARY }, { "map", ST_MAP }, { "seq", ST_SEQ }, { "set", ST_SET },
		{ "omap", ST_OMAP }, { "pairs", ST_PAIRS },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(t, names[i].name))
			return names[i].tag;
	return ST_UNKNOWN;
}

static bool is_null_text(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static int bool_text(const char *s, size_t n)
{
	if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4)))
		return 1;
	if (n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5)))
		return 0;
	return -1;
}

/* Build a scalar node. *is_merge is set for a plain `<<`. */
static int scalar_node(struct loader *ld, const yaml_event_t *ev, struct spec_value **out,
                       bool *is_merge)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tagstr = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	enum stag tag = tag_of(tagstr);
	struct spec_value *v = new_node(ld, SPEC_STRING, &ev->start_mark);
	double d;
	int b;

	*is_merge = false;
	if (!v)
		return GERR_NOMEM;
	*out = v;
	if (tag == ST_NONE && plain && !tagstr)
		tag = ST_QMARK;
	switch (tag) {
	case ST_QMARK:
		if (is_null_text(s, n)) {
			v->type = SPEC_NULL;
		} else if ((b = bool_text(s, n)) >= 0) {
			v->type = SPEC_BOOL;
			v->b = b;
		} else if (spec__yaml_is_int(s, n)) {
			v->type = SPEC_NUMBER;
			v->num = spec__yaml_int(s, n);
		} else if (spec__yaml_is_float(s, n)) {
			v->type = SPEC_NUMBER;
			v->num = spec__yaml_float(s, n);
		} else if (spec__yaml_timestamp(s, n, &d)) {
			v->type = SPEC_DATE;
			v->num = d;
		} else if (n == 2 && s[0] == '<' && s[1] == '<') {
			*is_merge = true;
		}
		break;
	case ST_NONE:
	case ST_STR:
		break;
	case ST_NULL:
		/* js-yaml: an empty node (no content) is null; '' is content */
		if (!(n == 0 ? plain : is_null_text(s, n)))
			goto cannot;
		v->type = SPEC_NULL;
		return 0;
	case ST_BOOL:
		if ((b = bool_text(s, n)) < 0)
			goto cannot;
		v->type = SPEC_BOOL;
		v->b = b;
		return 0;
	case ST_INT:
		if (!spec__yaml_is_int(s, n))
			goto cannot;
		v->type = SPEC_NUMBER;
		v->num = spec__yaml_int(s, n);
		return 0;
	case ST_FLOAT:
		if (!spec__yaml_is_float(s, n))
			goto cannot;
		v->type = SPEC_NUMBER;
		v->num = spec__yaml_float(s, n);
		return 0;
	case ST_TIMESTAMP:
		if (!spec__yaml_timestamp(s, n, &d))
			goto cannot;
		v->type = SPEC_DATE;
		v->num = d;
		break;
	case ST_MERGE:
		if (!(n == 2 && s[0] == '<' && s[1] == '<'))
			goto cannot;
		*is_merge = true;
		break;
	case ST_BINARY:
		if (!spec__yaml_binary(ld->a, s, n, &v->str, &v->len))
			goto cannot;
		v->type = SPEC_BINARY;
		return 0;
	case ST_MAP:
	case ST_SEQ:
	case ST_SET:
	case ST_OMAP:
	case ST_PAIRS:
		return fail_at(ld, &ev->start_mark,
		               "unacceptable node kind for !<%s> tag; it should be a collection, not a scalar",
		               tagstr);
	case ST_UNKNOWN:
		return fail_at(ld, &ev->start_mark, "unknown tag !<%s>", tagstr);
	}
	if (v->type == SPEC_STRING && !plain && ev->start_mark.line != ev->end_mark.line &&
	    ev->data.scalar.style != YAML_LITERAL_SCALAR_STYLE &&
	    ev->data.scalar.style != YAML_FOLDED_SCALAR_STYLE) {
		/* a multi-line quoted scalar: fold it the way js-yaml does */
		size_t from = char_to_byte(ld, ev->start_mark.index);
		size_t to = char_to_byte(ld, ev->end_mark.index);
		char quote = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : '"';
		while (from < to && ld->job->text[from] != quote)
			from++;   /* past an anchor or a tag */
		struct buf q = BUF_INIT;
		if (spec__yaml_quoted(&q, ld->job->text + from, to - from) == 0 && !q.oom) {
			v->str = arena_strndup(ld->a, buf_str(&q), q.len);
			v->len = q.len;
			buf_fini(&q);
			return v->str ? 0 : GERR_NOMEM;
		}
		buf_fini(&q);
	}
	if (v->type == SPEC_STRING || v->type == SPEC_DATE) {
		v->str = arena_strndup(ld->a, s, n);
		v->len = n;
		if (!v->str)
			return GERR_NOMEM;
	}
	return 0;
cannot:
	return fail_at(ld, &ev->start_mark, "cannot resolve a node with !<%s> explicit tag", tagstr);
}

/* ---- keys ----------------------------------------------------------------- */

/* String(key) as js-yaml computes a property name. */
static int key_string(struct loader *ld, const struct spec_value *k, const char **out, size_t *len)
{
	struct buf b = BUF_INIT;

	if (k->type == SPEC_STRING || k->type == SPEC_BINARY) {
		*out = k->str;
		*len = k->len;
		return 0;
	}
	if (k->type == SPEC_ARRAY) {
		for (size_t i = 0; i < k->n; i++) {
			if (k->items[i]->type == SPEC_ARRAY) {
				buf_fini(&b);
				return fail_pos(ld, k, "%s", "nested arrays are not supported inside keys");
			}
			if (i)
				buf_putc(&b, ',');
			if (k->items[i]->type != SPEC_NULL)
				spec__js_string(&b, k->items[i]);
		}
	} else {
		spec__js_string(&b, k);
	}
	if (b.oom) {
		buf_fini(&b);
		return GERR_NOMEM;
	}
	*len = b.len;
	*out = arena_strndup(ld->a, buf_str(&b), b.len);
	buf_fini(&b);
	return *out ? 0 : GERR_NOMEM;
}

/* ---- vectors -------------------------------------------------------------- */

static int push_item(struct loader *ld, struct spec_value *v)
{
	if (ld->nitems == ld->items_cap) {
		size_t cap = ld->items_cap ? ld->items_cap * 2 : 64;
		void *p = realloc(ld->items, cap * sizeof(*ld->items));
		if (!p)
			return GERR_NOMEM;
		ld->items = p;
		ld->items_cap = cap;
	}
	ld->items[ld->nitems++] = v;
	return 0;
}

static struct member_tmp *push_member(struct loader *ld)
{
	if (ld->nmembers == ld->members_cap) {
		size_t cap = ld->members_cap ? ld->members_cap * 2 : 64;
		void *p = realloc(ld->members, cap * sizeof(*ld->members));
		if (!p)
			return NULL;
		ld->members = p;
		ld->members_cap = cap;
	}
	return &ld->members[ld->nmembers++];
}

/* Index (in ld->members) of key within frame f, or SIZE_MAX. */
static size_t find_key(struct loader *ld, struct frame *f, const char *key, size_t klen)
{
	size_t count = ld->nmembers - f->first;
	if (!f->keys_built && count < 16) {
		for (size_t i = f->first; i < ld->nmembers; i++)
			if (ld->members[i].m.klen == klen && !memcmp(ld->members[i].m.key, key, klen))
				return i;
		return SIZE_MAX;
	}
	if (!f->keys_built) {
		strmap_init(&f->keys, ld->a);
		for (size_t i = f->first; i < ld->nmembers; i++)
			if (strmap_put(&f->keys, ld->members[i].m.key, ld->members[i].m.klen,
			               (void *)(uintptr_t)(i + 1)) < 0)
				return SIZE_MAX - 1;
		f->keys_built = true;
	}
	struct strmap_slot *s = strmap_find(&f->keys, key, klen);
	return s ? (size_t)(uintptr_t)s->val - 1 : SIZE_MAX;
}

/* Set key = val in mapping frame f. explicit: from the document (a repeat is
 * an error) rather than from a merge (which never replaces). */
static int set_member(struct loader *ld, struct frame *f, const char *key, size_t klen,
                      unsigned line, unsigned col, struct spec_value *val, bool explicit_key)
{
	size_t at = find_key(ld, f, key, klen);
	if (at == SIZE_MAX - 1)
		return GERR_NOMEM;
	if (at != SIZE_MAX) {
		struct member_tmp *m = &ld->members[at];
		if (!explicit_key)
			return 0;                    /* merges never override */
		if (!m->overridable)
			return spec__error(ld->job, line, col, "duplicated mapping key");
		m->m.val = val;
		m->m.line = line;
		m->m.col = col;
		m->overridable = false;
		return 0;
	}
	struct member_tmp *m = push_member(ld);
	if (!m)
		return GERR_NOMEM;
	m->m.key = key;
	m->m.klen = klen;
	m->m.line = line;
	m->m.col = col;
	m->m.val = val;
	m->overridable = !explicit_key;
	if (f->keys_built &&
	    strmap_put(&f->keys, key, klen, (void *)(uintptr_t)(ld->nmembers)) < 0)
		return GERR_NOMEM;
	return 0;
}

static int merge_from(struct loader *ld, struct frame *f, const struct spec_value *src,
                      const struct spec_value *at)
{
	if (src->type != SPEC_OBJECT)
		return fail_pos(ld, at, "%s", "cannot merge mappings; the provided source object is unacceptable");
	for (size_t i = 0; i < src->n; i++) {
		const struct spec_member *m = &src->members[i];
		int rc = set_member(ld, f, m->key, m->klen, m->line, m->col, m->val, false);
		if (rc)
			return rc;
	}
	return 0;
}

static int store_pair(struct loader *ld, struct frame *f, struct spec_value *val)
{
	struct spec_value *k = f->key_node;
	int rc;

	f->have_key = false;
	if (f->key_is_merge) {
		if (val->type == SPEC_ARRAY) {
			for (size_t i = 0; i < val->n; i++)
				if ((rc = merge_from(ld, f, val->items[i], val->items[i])))
					return rc;
			return 0;
		}
		return merge_from(ld, f, val, val);
	}
	const char *key = NULL;
	size_t klen = 0;
	if ((rc = key_string(ld, k, &key, &klen)))
		return rc;
	return set_member(ld, f, key, klen, k->line, k->col, val, true);
}

/* ---- the stack -------------------------------------------------------------- */

static int check_nodes(struct loader *ld, size_t add, const struct spec_value *at)
{
	ld->nodes += add;
	if (ld->nodes > SPEC_MAX_NODES) {
		spec__error(ld->job, at ? at->line : 0, at ? at->col : 0,
		            "the document expands to more than %u nodes (aliases included); refusing it",
		            SPEC_MAX_NODES);
		return GERR_TOO_LARGE;
	}
	return 0;
}

static int register_anchor(struct loader *ld, const char *anchor, struct spec_value *v)
{
	if (!anchor)
		return 0;
	size_t n = strlen(anchor);
	char *name = arena_strndup(ld->a, anchor, n);
	if (!name || strmap_put(&ld->anchors, name, n, v) < 0)
		return GERR_NOMEM;
	return 0;
}

/* Attach a finished node to its parent (or make it the root). */
static int attach(struct loader *ld, struct spec_value *v, size_t weight, bool is_merge,
                  size_t end)
{
	ld->last_end = end;
	if (ld->depth == 0) {
		ld->job->root = v;
		return 0;
	}
	struct frame *f = &ld->stack[ld->depth - 1];
	f->weight += weight;
	if (f->node->type == SPEC_ARRAY)
		return push_item(ld, v);
	if (!f->have_key) {
		f->have_key = true;
		f->key_node = v;
		f->key_is_merge = is_merge;
		f->key_is_secrets = ld->depth == 1 && v->type == SPEC_STRING && v->len == 7 &&
		                    !memcmp(v->str, "secrets", 7);
		f->value_start = SIZE_MAX;
		return 0;
	}
	if (f->key_is_secrets) {
		ld->secrets_found = true;
		ld->secrets_start = f->value_start;
		ld->secrets_end = end;
	}
	return store_pair(ld, f, v);
}

/* Note where the next value of the innermost mapping starts. */
static void mark_start(struct loader *ld, size_t index)
{
	if (ld->depth > 0) {
		struct frame *f = &ld->stack[ld->depth - 1];
		if (f->have_key && f->value_start == SIZE_MAX)
			f->value_start = index;
	}
}

static int open_collection(struct loader *ld, const yaml_event_t *ev, bool map)
{
	const char *tagstr = (const char *)(map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
	const char *anchor = (const char *)(map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
	bool flow = map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
	                : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	enum stag tag = tag_of(tagstr);
	enum ctag ct = CT_NONE;

	switch (tag) {
	case ST_NONE:
	case ST_QMARK:
		break;
	case ST_MAP:
	case ST_SET:
		if (!map)
			goto kind;
		ct = tag == ST_MAP ? CT_MAP : CT_SET;
		break;
	case ST_SEQ:
	case ST_OMAP:
	case ST_PAIRS:
		if (map)
			goto kind;
		ct = tag == ST_SEQ ? CT_SEQ : tag == ST_OMAP ? CT_OMAP : CT_PAIRS;
		break;
	case ST_UNKNOWN:
		return fail_at(ld, &ev->start_mark, "unknown tag !<%s>", tagstr);
	default:
		goto kind;
	}
	if (ld->depth >= SPEC_MAX_DEPTH) {
		spec__error(ld->job, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
		            "nesting deeper than %d levels", SPEC_MAX_DEPTH);
		return GERR_TOO_LARGE;
	}
	mark_start(ld, ev->start_mark.index);
	struct spec_value *v = new_node(ld, map ? SPEC_OBJECT : SPEC_ARRAY, &ev->start_mark);
	if (!v)
		return GERR_NOMEM;
	int rc = check_nodes(ld, 1, v);
	if (rc)
		return rc;
	struct frame *f = &ld->stack[ld->depth++];
	memset(f, 0, sizeof(*f));
	f->node = v;
	f->first = map ? ld->nmembers : ld->nitems;
	f->weight = 1;
	f->tag = ct;
	f->flow = flow;
	if (anchor) {
		/* open: an alias to it from inside would be a cycle */
		if ((rc = register_anchor(ld, anchor, NULL)))
			return rc;
		f->anchor = arena_strdup(ld->a, anchor);
		if (!f->anchor)
			return GERR_NOMEM;
	}
	return 0;
kind:
	return fail_at(ld, &ev->start_mark, "unacceptable node kind for !<%s> tag", tagstr);
}

/* JavaScript property order: array-index keys ascending, then insertion order. */
static void js_order(struct spec_member *m, size_t n)
{
	size_t nidx = 0;
	for (size_t i = 0; i < n; i++)
		if (spec__is_array_index(m[i].key, m[i].klen, NULL))
			nidx++;
	if (!nidx)
		return;
	/* stable insertion sort of index keys to the front (rare, small) */
	for (size_t i = 1; i < n; i++) {
		struct spec_member x = m[i];
		uint32_t xi;
		if (!spec__is_array_index(x.key, x.klen, &xi))
			continue;
		size_t j = i;
		while (j > 0) {
			uint32_t yi;
			bool yidx = spec__is_array_index(m[j - 1].key, m[j - 1].klen, &yi);
			if (yidx && yi <= xi)
				break;
			m[j] = m[j - 1];
			j--;
		}
		m[j] = x;
	}
}

static int close_collection(struct loader *ld, const yaml_event_t *ev)
{
	struct frame *f = &ld->stack[ld->depth - 1];
	struct spec_value *v = f->node;
	size_t end = f->flow ? ev->end_mark.index : ld->last_end;
	int rc;

	if (v->type == SPEC_ARRAY) {
		size_t n = ld->nitems - f->first;
		v->items = arena_alloc(ld->a, (n ? n : 1) * sizeof(*v->items));
		if (!v->items)
			return GERR_NOMEM;
		if (n)
			memcpy(v->items, ld->items + f->first, n * sizeof(*v->items));
		v->n = n;
		ld->nitems = f->first;
		if (f->tag == CT_OMAP || f->tag == CT_PAIRS) {
			/* each item a single-pair mapping; omap also forbids repeats */
			for (size_t i = 0; i < n; i++) {
				const struct spec_value *it = v->items[i];
				if (it->type != SPEC_OBJECT || it->n != 1)
					return fail_pos(ld, it, "cannot resolve a node with !<%s> explicit tag",
					                f->tag == CT_OMAP ? TAG_PREFIX "omap" : TAG_PREFIX "pairs");
				if (f->tag == CT_OMAP)
					for (size_t j = 0; j < i; j++)
						if (v->items[j]->members[0].klen == it->members[0].klen &&
						    !memcmp(v->items[j]->members[0].key, it->members[0].key, it->members[0].klen))
							return fail_pos(ld, it, "cannot resolve a node with !<%s> explicit tag",
							                TAG_PREFIX "omap");
			}
			if (f->tag == CT_PAIRS) {
				/* [[key, value], ...] */
				for (size_t i = 0; i < n; i++) {
					const struct spec_member *m = &v->items[i]->members[0];
					struct spec_value *pair = arena_zalloc(ld->a, sizeof(*pair));
					struct spec_value *key = arena_zalloc(ld->a, sizeof(*key));
					struct spec_value **two_items = arena_alloc(ld->a, 2 * sizeof(*two_items));
					if (!pair || !key || !two_items)
						return GERR_NOMEM;
					key->type = SPEC_STRING;
					key->str = m->key;
					key->len = m->klen;
					key->line = m->line;
					key->col = m->col;
					two_items[0] = key;
					two_items[1] = m->val;
					pair->type = SPEC_ARRAY;
					pair->line = v->items[i]->line;
					pair->col = v->items[i]->col;
					pair->items = two_items;
					pair->n = 2;
					v->items[i] = pair;
				}
			}
		}
	} else {
		if (f->have_key) {
			/* libyaml always pairs keys with values; keep the invariant */
			return fail_at(ld, &ev->start_mark, "%s", "a mapping key has no value");
		}
		size_t n = ld->nmembers - f->first;
		v->members = arena_alloc(ld->a, (n ? n : 1) * sizeof(*v->members));
		if (!v->members)
			return GERR_NOMEM;
		for (size_t i = 0; i < n; i++)
			v->members[i] = ld->members[f->first + i].m;
		v->n = n;
		ld->nmembers = f->first;
		js_order(v->members, n);
		if (f->tag == CT_SET)
			for (size_t i = 0; i < n; i++)
				if (v->members[i].val->type != SPEC_NULL)
					return fail_pos(ld, v->members[i].val, "cannot resolve a node with !<%s> explicit tag",
					                TAG_PREFIX "set");
	}
	size_t weight = f->weight;
	const char *anchor = f->anchor;
	ld->depth--;
	if (anchor && (rc = register_anchor(ld, anchor, v)))
		return rc;
	v->weight = weight;
	return attach(ld, v, weight, false, end);
}

static int on_alias(struct loader *ld, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct strmap_slot *s = strmap_find(&ld->anchors, name, strlen(name));
	if (!s)
		return fail_at(ld, &ev->start_mark, "unidentified alias \"%s\"", name);
	struct spec_value *v = s->val;
	if (!v)
		return fail_at(ld, &ev->start_mark, "alias \"%s\" refers to a node that contains it", name);
	mark_start(ld, ev->start_mark.index);
	size_t weight = v->weight ? v->weight : 1;
	int rc = check_nodes(ld, weight, v);
	if (rc)
		return rc;
	return attach(ld, v, weight, false, ev->end_mark.index);
}

static int on_scalar(struct loader *ld, const yaml_event_t *ev)
{
	struct spec_value *v;
	bool is_merge;
	int rc;

	mark_start(ld, ev->start_mark.index);
	if ((rc = scalar_node(ld, ev, &v, &is_merge)))
		return rc;
	if ((rc = check_nodes(ld, 1, v)))
		return rc;
	if ((rc = register_anchor(ld, (const char *)ev->data.scalar.anchor, v)))
		return rc;
	return attach(ld, v, 1, is_merge, ev->end_mark.index);
}

int spec__yaml_load(struct spec_job *job)
{
	struct loader ld;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	memset(&ld, 0, sizeof(ld));
	ld.job = job;
	ld.a = &job->arena;
	strmap_init(&ld.anchors, ld.a);
	job->root = NULL;

	if (!yaml_parser_initialize(&ld.parser))
		return GERR_NOMEM;
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)job->text, job->text_len);
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);

	while (!done && rc == 0) {
		if (!yaml_parser_parse(&ld.parser, &ev)) {
			rc = parser_error(&ld);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ld.docs > 1)
				rc = fail_at(&ld, &ev.start_mark, "%s",
				             "expected a single document in the stream, but found more");
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(&ld, &ev);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(&ld, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = open_collection(&ld, &ev, false);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = open_collection(&ld, &ev, true);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = close_collection(&ld, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ld.parser);
	free(ld.items);
	free(ld.members);
	if (rc == 0 && ld.secrets_found && ld.secrets_start != SIZE_MAX) {
		job->secrets_start = char_to_byte(&ld, ld.secrets_start);
		job->secrets_end = char_to_byte(&ld, ld.secrets_end);
	}
	return rc;
}
