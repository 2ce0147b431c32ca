/* SPDX-License-Identifier: MIT */
/*
 * schema.c — the JSON schema OpenPAI's rest-server enforces, checked the way
 * ajv 6 checks it ({allErrors: true}).
 *
 * DESIGN
 * ------
 * Users see ajv's messages, in ajv's order, so this is a small interpreter of
 * the keywords those schemas use that reproduces ajv's generated code:
 *
 *   1. a `type` ajv cannot fold into a rule group (a list of types, integer,
 *      boolean, null, or a group this schema does not use) is checked first;
 *   2. rule groups, in ajv's order: number (minimum), string (maxLength,
 *      minLength, pattern), array (minItems, items), object (minProperties,
 *      then `properties`: additional properties first, then each declared
 *      property in schema order — a missing required one reported in its
 *      place — then patternProperties). A value of the wrong type skips the
 *      group; if the group's type is the schema's type, that is the type error;
 *   3. the untyped group: enum, oneOf; then custom keywords ($merge).
 *
 * The two schemas (protocol, hived) are static tables below. Patterns are the
 * simple "^[first][rest]*$" / "^[class]+$" shapes the schemas use, matched
 * with byte classes (every class is ASCII, as are the names they admit).
 */
#include <stdio.h>
#include <string.h>

#include "spec/internal.h"

enum {
	T_NULL = 1 << 0,
	T_BOOL = 1 << 1,
	T_INT  = 1 << 2,
	T_NUM  = 1 << 3,
	T_STR  = 1 << 4,
	T_ARR  = 1 << 5,
	T_OBJ  = 1 << 6,
};

enum { C_LOWER = 1, C_UPPER = 2, C_DIGIT = 4 };

struct cclass {
	unsigned ranges;        /* C_* */
	const char *extra;      /* other characters in the class */
};

struct pattern {
	const char *src;        /* for the message */
	struct cclass first;    /* the first character */
	struct cclass rest;     /* every later character */
};

struct sch;

struct prop {
	const char *name;
	size_t len;
	const struct sch *s;    /* &FALSE_SCHEMA for a `false` schema */
	bool required;
};

#define P(name, schema, required) { name, sizeof(name) - 1, schema, required }
#define P_END { NULL, 0, NULL, false }

struct pprop {
	const struct pattern *pat;
	const struct sch *s;
};

struct enumv {
	enum spec_vtype type;
	const char *str;
	double num;
};

struct sch {
	unsigned types;              /* T_*; 0: no `type` */
	const char *type_msg;        /* "should be integer,null" */
	bool has_minimum;
	double minimum;
	const char *minimum_msg;     /* "should be >= 1" */
	int max_length;              /* 0: none */
	const struct pattern *pattern;
	int min_items;               /* 0: none */
	const struct sch *items;
	int min_props;               /* 0: none */
	const struct prop *props;    /* {NULL} terminated, or NULL */
	const struct pprop *pprops;  /* {NULL} terminated, or NULL */
	bool no_additional;
	const struct enumv *enums;   /* {.str = NULL, .type = SPEC_NULL} terminated */
	size_t nenums;
	const struct sch *const *one_of;
	size_t none_of;
	const struct sch *merge;     /* {$merge}: the merged schema */
	bool is_false;               /* the boolean schema `false` */
};

/* ---- the interpreter ------------------------------------------------------- */

struct vctx {
	struct spec_job *job;
	struct buf path;             /* ajv dataPath of the current value */
	size_t nerr;                 /* errors so far (to detect a failing subschema) */
	int rc;
};

static void add_error(struct vctx *c, const struct spec_value *v, const char *msg)
{
	int rc;
	if (c->path.len)
		rc = spec__error_at(c->job, v, "%s %s", buf_str(&c->path), msg);
	else
		rc = spec__error_at(c->job, v, "%s", msg);
	if (rc == GERR_NOMEM)
		c->rc = GERR_NOMEM;
	c->nerr++;
}

static bool has_type(const struct spec_value *v, unsigned t)
{
	switch (v->type) {
	case SPEC_NULL:
		return t & T_NULL;
	case SPEC_BOOL:
		return t & T_BOOL;
	case SPEC_NUMBER:
		return (t & T_NUM) || ((t & T_INT) && spec__is_integer(v));
	case SPEC_STRING:
		return t & T_STR;
	case SPEC_ARRAY:
		return t & T_ARR;
	case SPEC_OBJECT:
	case SPEC_DATE:     /* a JS Date and a Buffer are objects to ajv */
	case SPEC_BINARY:
		return t & T_OBJ;
	}
	return false;
}

static bool in_class(const struct cclass *k, char c)
{
	if ((k->ranges & C_LOWER) && c >= 'a' && c <= 'z')
		return true;
	if ((k->ranges & C_UPPER) && c >= 'A' && c <= 'Z')
		return true;
	if ((k->ranges & C_DIGIT) && c >= '0' && c <= '9')
		return true;
	return c != '\0' && strchr(k->extra, c) != NULL;
}

static bool match_pattern(const struct pattern *p, const char *s, size_t n)
{
	if (n == 0 || !in_class(&p->first, s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!in_class(&p->rest, s[i]))
			return false;
	return true;
}

static void validate(struct vctx *c, const struct spec_value *v, const struct sch *s);

/* Validate child under path + suffix. */
static void descend(struct vctx *c, const struct spec_value *v, const struct sch *s,
                    const char *sfx_a, const char *key, size_t klen, const char *sfx_b)
{
	size_t mark = c->path.len;
	buf_puts(&c->path, sfx_a);
	if (key)
		buf_append(&c->path, key, klen);
	buf_puts(&c->path, sfx_b);
	validate(c, v, s);
	buf_truncate(&c->path, mark);
}

static bool uses_number(const struct sch *s) { return s->has_minimum; }
static bool uses_string(const struct sch *s) { return s->max_length || s->pattern; }
static bool uses_array(const struct sch *s) { return s->min_items || s->items; }
static bool uses_object(const struct sch *s)
{
	return s->min_props || s->props || s->pprops || s->no_additional;
}

static void object_rules(struct vctx *c, const struct spec_value *v, const struct sch *s)
{
	char msg[96];

	if (s->min_props && v->n < (size_t)s->min_props) {
		snprintf(msg, sizeof(msg), "should NOT have fewer than %d properties", s->min_props);
		add_error(c, v, msg);
	}
	if (v->type != SPEC_OBJECT)
		return;   /* a Date or a Buffer has no own enumerable keys */
	if (s->no_additional) {
		for (size_t i = 0; i < v->n; i++) {
			const struct spec_member *m = &v->members[i];
			bool known = false;
			for (const struct prop *p = s->props; p && p->name && !known; p++)
				known = p->len == m->klen && !memcmp(p->name, m->key, m->klen);
			for (const struct pprop *pp = s->pprops; pp && pp->pat && !known; pp++)
				known = match_pattern(pp->pat, m->key, m->klen);
			if (!known) {
				/* ajv reports at the object; point at the offending key */
				struct spec_value at = { .line = m->line, .col = m->col };
				add_error(c, &at, "should NOT have additional properties");
			}
		}
	}
	for (const struct prop *p = s->props; p && p->name; p++) {
		const struct spec_value *child = spec__get(v, p->name, p->len);
		if (!child) {
			if (p->required) {
				snprintf(msg, sizeof(msg), "should have required property '%s'", p->name);
				add_error(c, v, msg);
			}
			continue;
		}
		descend(c, child, p->s, ".", p->name, p->len, "");
	}
	for (const struct pprop *pp = s->pprops; pp && pp->pat; pp++)
		for (size_t i = 0; i < v->n; i++) {
			const struct spec_member *m = &v->members[i];
			if (match_pattern(pp->pat, m->key, m->klen))
				descend(c, m->val, pp->s, "['", m->key, m->klen, "']");
		}
}

static void validate(struct vctx *c, const struct spec_value *v, const struct sch *s)
{
	char msg[96];

	if (c->rc)
		return;
	if (s->is_false) {
		add_error(c, v, "boolean schema is false");
		return;
	}
	if (s->merge) {
		size_t before = c->nerr;
		validate(c, v, s->merge);
		if (c->nerr != before)
			add_error(c, v, "should pass \"$merge\" keyword validation");
		return;
	}

	/* 1. type checks ajv emits before the rule groups */
	unsigned t = s->types;
	unsigned group_type = 0;
	bool upfront = false;
	if (t) {
		bool single = (t & (t - 1)) == 0;
		if (!single || t == T_INT || t == T_BOOL || t == T_NULL)
			upfront = true;
		else if ((t == T_NUM && !uses_number(s)) || (t == T_STR && !uses_string(s)) ||
		         (t == T_ARR && !uses_array(s)) || (t == T_OBJ && !uses_object(s)))
			upfront = true;
		else
			group_type = t;
		if (upfront && !has_type(v, t))
			add_error(c, v, s->type_msg);
	}

	/* 2. rule groups */
	if (uses_number(s)) {
		if (v->type == SPEC_NUMBER) {
			if (v->num < s->minimum)
				add_error(c, v, s->minimum_msg);
		} else if (group_type == T_NUM) {
			add_error(c, v, s->type_msg);
		}
	}
	if (uses_string(s)) {
		if (v->type == SPEC_STRING) {
			if (s->max_length && spec__ucs2len(v->str, v->len) > (size_t)s->max_length) {
				snprintf(msg, sizeof(msg), "should NOT be longer than %d characters", s->max_length);
				add_error(c, v, msg);
			}
			if (s->pattern && !match_pattern(s->pattern, v->str, v->len)) {
				snprintf(msg, sizeof(msg), "should match pattern \"%s\"", s->pattern->src);
				add_error(c, v, msg);
			}
		} else if (group_type == T_STR) {
			add_error(c, v, s->type_msg);
		}
	}
	if (uses_array(s)) {
		if (v->type == SPEC_ARRAY) {
			if (s->min_items && v->n < (size_t)s->min_items) {
				snprintf(msg, sizeof(msg), "should NOT have fewer than %d items", s->min_items);
				add_error(c, v, msg);
			}
			if (s->items)
				for (size_t i = 0; i < v->n && !c->rc; i++) {
					char idx[24];
					snprintf(idx, sizeof(idx), "[%zu]", i);
					descend(c, v->items[i], s->items, idx, NULL, 0, "");
				}
		} else if (group_type == T_ARR) {
			add_error(c, v, s->type_msg);
		}
	}
	if (uses_object(s)) {
		if (has_type(v, T_OBJ))
			object_rules(c, v, s);
		else if (group_type == T_OBJ)
			add_error(c, v, s->type_msg);
	}

	/* 3. enum, oneOf */
	if (s->enums) {
		bool found = false;
		for (size_t i = 0; i < s->nenums && !found; i++) {
			const struct enumv *e = &s->enums[i];
			if (e->type == SPEC_STRING)
				found = v->type == SPEC_STRING && v->len == strlen(e->str) &&
				        !memcmp(v->str, e->str, v->len);
			else
				found = v->type == SPEC_NUMBER && v->num == e->num;
		}
		if (!found)
			add_error(c, v, "should be equal to one of the allowed values");
	}
	if (s->one_of) {
		size_t before = c->nerr;
		size_t passing = 0;
		for (size_t i = 0; i < s->none_of; i++) {
			size_t e = c->nerr;
			validate(c, v, s->one_of[i]);
			if (c->nerr == e)
				passing++;
		}
		if (passing == 1) {
			/* ajv drops the failing branches' errors */
			spec__drop_errors(c->job, c->job->ndiags - (c->nerr - before));
			c->nerr = before;
		} else {
			add_error(c, v, "should match exactly one schema in oneOf");
		}
	}
}

static int run(struct spec_job *job, const struct spec_value *root, const struct sch *s)
{
	struct vctx c = { .job = job, .path = BUF_INIT, .nerr = 0, .rc = 0 };
	if (!root) {
		/* safeLoad("") is undefined: not an object */
		spec__error(job, 0, 0, "should be object");
		return GERR_PROTOCOL;
	}
	validate(&c, root, s);
	if (c.path.oom)
		c.rc = GERR_NOMEM;
	buf_fini(&c.path);
	if (c.rc)
		return c.rc;
	return c.nerr ? GERR_PROTOCOL : 0;
}

/* ---- the protocol schema (microsoft/pai rest-server, config/v2/protocol.js) -- */

#define ALNUM (C_LOWER | C_UPPER | C_DIGIT)

static const struct pattern PAT_NAME = {
	"^[a-zA-Z0-9_-]+$", { ALNUM, "_-" }, { ALNUM, "_-" },
};
static const struct pattern PAT_IDENT = {
	"^[a-zA-Z_][a-zA-Z0-9_]*$", { C_LOWER | C_UPPER, "_" }, { ALNUM, "_" },
};
static const struct pattern PAT_HIVED_ROLE = {
	"^[A-Za-z0-9._~]+$", { ALNUM, "._~" }, { ALNUM, "._~" },
};

static const struct sch FALSE_SCHEMA = { .is_false = true };

#define TYPE(t, name) .types = (t), .type_msg = "should be " name

static const struct enumv PROTOCOL_VERSIONS[] = {
	{ SPEC_STRING, "2", 0 }, { SPEC_NUMBER, NULL, 2 },
};
static const struct enumv JOB_TYPES[] = { { SPEC_STRING, "job", 0 } };

static const struct sch S_PROTOCOL_VERSION = { .enums = PROTOCOL_VERSIONS, .nenums = 2 };
static const struct sch S_NAME = {
	TYPE(T_STR, "string"), .max_length = 255, .pattern = &PAT_NAME,
};
static const struct sch S_VERSION = { TYPE(T_STR | T_NUM, "string,number") };
static const struct sch S_STRING = { TYPE(T_STR, "string") };
static const struct sch S_INTEGER = { TYPE(T_INT, "integer") };
static const struct sch S_INT_OR_NULL = { TYPE(T_INT | T_NULL, "integer,null") };
static const struct sch S_OBJECT = { TYPE(T_OBJ, "object") };
static const struct sch S_STRINGS = { TYPE(T_ARR, "array"), .items = &S_STRING };
static const struct sch S_STRINGS_MIN1 = { TYPE(T_ARR, "array"), .items = &S_STRING, .min_items = 1 };
static const struct sch S_JOB_TYPE = { TYPE(T_STR, "string"), .enums = JOB_TYPES, .nenums = 1 };

/* base.json's properties, first in every merged prerequisite schema */
#define BASE_PROPS                                   \
	P("protocolVersion", &S_PROTOCOL_VERSION, false), \
	P("name", &S_NAME, true),                          \
	P("version", &S_VERSION, false),                   \
	P("contributor", &S_STRING, false),                \
	P("description", &S_STRING, false)

static const struct enumv T_SCRIPT_OUTPUT[] = { { SPEC_STRING, "script", 0 }, { SPEC_STRING, "output", 0 } };
static const struct enumv T_DATA[] = { { SPEC_STRING, "data", 0 } };
static const struct enumv T_IMAGE[] = { { SPEC_STRING, "dockerimage", 0 } };
static const struct sch S_TYPE_SCRIPT_OUTPUT = { TYPE(T_STR, "string"), .enums = T_SCRIPT_OUTPUT, .nenums = 2 };
static const struct sch S_TYPE_DATA = { TYPE(T_STR, "string"), .enums = T_DATA, .nenums = 1 };
static const struct sch S_TYPE_IMAGE = { TYPE(T_STR, "string"), .enums = T_IMAGE, .nenums = 1 };

static const struct prop AUTH_PROPS[] = {
	P("username", &S_STRING, false),
	P("password", &S_STRING, false),
	P("registryuri", &S_STRING, false),
	P_END,
};
static const struct sch S_AUTH = { TYPE(T_OBJ, "object"), .props = AUTH_PROPS };

static const struct prop SCRIPT_PROPS[] = {
	BASE_PROPS,
	P("type", &S_TYPE_SCRIPT_OUTPUT, true),
	P("plugin", &S_STRING, false),
	P("require", &S_STRINGS, false),
	P("uri", &S_STRING, false),
	P_END,
};
static const struct prop DATA_PROPS[] = {
	BASE_PROPS,
	P("type", &S_TYPE_DATA, true),
	P("plugin", &S_STRING, false),
	P("require", &S_STRINGS, false),
	P("uri", &S_STRINGS, false),
	P_END,
};
static const struct prop IMAGE_PROPS[] = {
	BASE_PROPS,
	P("type", &S_TYPE_IMAGE, true),
	P("auth", &S_AUTH, false),
	P("uri", &S_STRING, true),
	P_END,
};
static const struct sch S_MERGED_SCRIPT = { TYPE(T_OBJ, "object"), .props = SCRIPT_PROPS };
static const struct sch S_MERGED_DATA = { TYPE(T_OBJ, "object"), .props = DATA_PROPS };
static const struct sch S_MERGED_IMAGE = { TYPE(T_OBJ, "object"), .props = IMAGE_PROPS, .no_additional = true };
static const struct sch S_PREREQ_SCRIPT = { .merge = &S_MERGED_SCRIPT };
static const struct sch S_PREREQ_DATA = { .merge = &S_MERGED_DATA };
static const struct sch S_PREREQ_IMAGE = { .merge = &S_MERGED_IMAGE };
static const struct sch *const PREREQ_VARIANTS[] = { &S_PREREQ_SCRIPT, &S_PREREQ_DATA, &S_PREREQ_IMAGE };
static const struct sch S_PREREQ = { TYPE(T_OBJ, "object"), .one_of = PREREQ_VARIANTS, .none_of = 3 };
static const struct sch S_PREREQS = { TYPE(T_ARR, "array"), .items = &S_PREREQ, .min_items = 1 };

static const struct sch S_JOB_RETRY = {
	TYPE(T_INT, "integer"), .has_minimum = true, .minimum = 0, .minimum_msg = "should be >= 0",
};
static const struct sch S_INSTANCES = {
	TYPE(T_INT, "integer"), .has_minimum = true, .minimum = 1, .minimum_msg = "should be >= 1",
};

static const struct prop COMPLETION_PROPS[] = {
	P("minFailedInstances", &S_INT_OR_NULL, false),
	P("minSucceededInstances", &S_INT_OR_NULL, false),
	P_END,
};
static const struct sch S_COMPLETION = { TYPE(T_OBJ, "object"), .props = COMPLETION_PROPS, .no_additional = true };

/* rest-server misplaces `additionalProperties: false` inside `properties`,
 * which makes it a property whose schema is `false`. */
static const struct prop EXTRA_OPTS_PROPS[] = {
	P("shmMB", &S_INTEGER, false),
	P("additionalProperties", &FALSE_SCHEMA, false),
	P_END,
};
static const struct sch S_EXTRA_OPTS = { TYPE(T_OBJ, "object"), .props = EXTRA_OPTS_PROPS };

static const struct pprop PORTS_PPROPS[] = { { &PAT_IDENT, &S_INTEGER }, { NULL, NULL } };
static const struct sch S_PORTS = { .pprops = PORTS_PPROPS, .min_props = 1, .no_additional = true };

static const struct prop RESOURCE_PROPS[] = {
	P("cpu", &S_INTEGER, true),
	P("memoryMB", &S_INTEGER, true),
	P("gpu", &S_INTEGER, true),
	P("ports", &S_PORTS, false),
	P_END,
};
static const struct sch S_RESOURCES = { TYPE(T_OBJ, "object"), .props = RESOURCE_PROPS, .no_additional = true };

static const struct prop ROLE_PROPS[] = {
	P("protocolVersion", &S_PROTOCOL_VERSION, false),
	P("instances", &S_INSTANCES, false),
	P("completion", &S_COMPLETION, false),
	P("taskRetryCount", &S_INTEGER, false),
	P("prerequisites", &S_STRINGS, false),
	P("dockerImage", &S_STRING, true),
	P("data", &S_STRING, false),
	P("output", &S_STRING, false),
	P("script", &S_STRING, false),
	P("extraContainerOptions", &S_EXTRA_OPTS, false),
	P("resourcePerInstance", &S_RESOURCES, true),
	P("commands", &S_STRINGS_MIN1, true),
	P_END,
};
static const struct sch S_ROLE = { TYPE(T_OBJ, "object"), .props = ROLE_PROPS, .no_additional = true };
static const struct pprop ROLES_PPROPS[] = { { &PAT_IDENT, &S_ROLE }, { NULL, NULL } };
static const struct sch S_ROLES = { .pprops = ROLES_PPROPS, .min_props = 1, .no_additional = true };

static const struct prop DEPLOY_ROLE_PROPS[] = {
	P("preCommands", &S_STRINGS_MIN1, false),
	P("postCommands", &S_STRINGS_MIN1, false),
	P_END,
};
static const struct sch S_DEPLOY_ROLE = { TYPE(T_OBJ, "object"), .props = DEPLOY_ROLE_PROPS, .no_additional = true };
static const struct pprop DEPLOY_ROLES_PPROPS[] = { { &PAT_IDENT, &S_DEPLOY_ROLE }, { NULL, NULL } };
static const struct sch S_DEPLOY_ROLES = { .pprops = DEPLOY_ROLES_PPROPS, .min_props = 1, .no_additional = true };
static const struct prop DEPLOY_PROPS[] = {
	P("protocolVersion", &S_PROTOCOL_VERSION, false),
	P("name", &S_NAME, true),
	P("taskRoles", &S_DEPLOY_ROLES, true),
	P_END,
};
static const struct sch S_DEPLOYMENT = { TYPE(T_OBJ, "object"), .props = DEPLOY_PROPS };
static const struct sch S_DEPLOYMENTS = { TYPE(T_ARR, "array"), .items = &S_DEPLOYMENT, .min_items = 1 };

static const struct prop DEFAULTS_PROPS[] = { P("deployment", &S_STRING, false), P_END };
static const struct sch S_DEFAULTS = { TYPE(T_OBJ, "object"), .props = DEFAULTS_PROPS };

static const struct prop PROTOCOL_PROPS[] = {
	P("protocolVersion", &S_PROTOCOL_VERSION, true),
	P("name", &S_NAME, true),
	P("type", &S_JOB_TYPE, true),
	P("version", &S_VERSION, false),
	P("contributor", &S_STRING, false),
	P("description", &S_STRING, false),
	P("prerequisites", &S_PREREQS, false),
	P("parameters", &S_OBJECT, false),
	P("secrets", &S_OBJECT, false),
	P("jobRetryCount", &S_JOB_RETRY, false),
	P("taskRoles", &S_ROLES, true),
	P("deployments", &S_DEPLOYMENTS, false),
	P("defaults", &S_DEFAULTS, false),
	P("extras", &S_OBJECT, false),
	P_END,
};
static const struct sch S_PROTOCOL = { TYPE(T_OBJ, "object"), .props = PROTOCOL_PROPS, .no_additional = true };

/* ---- the hived schema (rest-server config/v2/hived.js) ------------------------ */

static const struct enumv PRIORITY_CLASSES[] = {
	{ SPEC_STRING, "prod", 0 }, { SPEC_STRING, "test", 0 }, { SPEC_STRING, "oppo", 0 },
};
static const struct sch S_PRIORITY_CLASS = { .enums = PRIORITY_CLASSES, .nenums = 3 };
static const struct sch S_STRING_OR_NULL = { TYPE(T_STR | T_NULL, "string,null") };
static const struct prop HIVED_ROLE_PROPS[] = {
	P("skuType", &S_STRING_OR_NULL, false),
	P("pinnedCellId", &S_STRING_OR_NULL, false),
	P("affinityGroupName", &S_STRING_OR_NULL, false),
	P_END,
};
static const struct sch S_HIVED_ROLE = { TYPE(T_OBJ, "object"), .props = HIVED_ROLE_PROPS };
static const struct pprop HIVED_ROLES_PPROPS[] = { { &PAT_HIVED_ROLE, &S_HIVED_ROLE }, { NULL, NULL } };
static const struct sch S_HIVED_ROLES = { .pprops = HIVED_ROLES_PPROPS, .min_props = 1, .no_additional = true };
static const struct prop HIVED_PROPS[] = {
	P("jobPriorityClass", &S_PRIORITY_CLASS, false),
	P("taskRoles", &S_HIVED_ROLES, false),
	P_END,
};
static const struct sch S_HIVED = { TYPE(T_OBJ, "object"), .props = HIVED_PROPS };
static const struct prop HIVED_EXTRAS_PROPS[] = { P("hivedScheduler", &S_HIVED, false), P_END };
static const struct sch S_HIVED_EXTRAS = { TYPE(T_OBJ, "object"), .props = HIVED_EXTRAS_PROPS };
static const struct prop HIVED_ROOT_PROPS[] = { P("extras", &S_HIVED_EXTRAS, false), P_END };
static const struct sch S_HIVED_ROOT = { TYPE(T_OBJ, "object"), .props = HIVED_ROOT_PROPS };

int spec__schema_check(struct spec_job *job, const struct spec_value *root)
{
	return run(job, root, &S_PROTOCOL);
}

int spec__hived_schema_check(struct spec_job *job, const struct spec_value *root)
{
	return run(job, root, &S_HIVED_ROOT);
}
