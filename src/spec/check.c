/* SPDX-License-Identifier: MIT */
/*
 * check.c — what rest-server checks after the schema, in its order.
 *
 * Each check stops at its first failure, as rest-server throws:
 *   1. prerequisites by (type, name): "Duplicate <type> prerequisites <name>."
 *   2. deployments by name:            "Duplicate deployments <name>."
 *   3. each role's `prerequisites` names a prerequisite of any type;
 *   4. each role's script/output/data/dockerImage names one of that type:
 *                                      "Prerequisite <x> does not exist."
 *   5. defaults.deployment exists:     "Default deployment <x> does not exist."
 *
 * Deliberate differences, where OpenPAI's schema has a hole (no `type:
 * object`) and its code then crashes (HTTP 500) or builds a job with no task
 * roles: `taskRoles` must be an object, and so must the default deployment's
 * `taskRoles` (a list is taken as empty, as rest-server's `in` does). After
 * every check OpenPAI makes, two task roles whose converted names
 * (spec_convert_name) are the same are refused: OpenPAI cannot create that
 * Framework, and we would run both roles under one name.
 * JavaScript's `in` also finds prototype names (`constructor`); we do not.
 */
#include <stdio.h>
#include <string.h>

#include "base/strmap.h"
#include "spec/internal.h"

struct spec__refs {
	struct strmap by_type[4];    /* name → item, per prerequisite type */
	struct strmap any;           /* every prerequisite name */
	struct strmap deployments;   /* name → deployment */
	const struct spec_value *default_deployment;
};

static const char *const TYPE_NAMES[4] = { "script", "output", "data", "dockerimage" };

static int type_index(const struct spec_value *t)
{
	for (int i = 0; i < 4; i++)
		if (t && t->type == SPEC_STRING && !strcmp(t->str, TYPE_NAMES[i]))
			return i;
	return -1;
}

const struct spec_value *spec__prereq_item(const struct spec__refs *r, enum spec_prereq_type t,
                                           const char *name)
{
	struct strmap_slot *s = strmap_find(&r->by_type[t], name, strlen(name));
	return s ? s->val : NULL;
}

const struct spec_value *spec__default_deployment(const struct spec__refs *r)
{
	return r->default_deployment;
}

static const char *str_of(const struct spec_value *v)
{
	return v && v->type == SPEC_STRING ? v->str : "";
}

int spec__semantic_check(struct spec_job *job, struct spec__refs **out)
{
	const struct spec_value *root = job->root;
	struct spec__refs *r = arena_zalloc(&job->arena, sizeof(*r));

	if (!r)
		return GERR_NOMEM;
	for (int i = 0; i < 4; i++)
		strmap_init(&r->by_type[i], &job->arena);
	strmap_init(&r->any, &job->arena);
	strmap_init(&r->deployments, &job->arena);
	*out = r;

	/* 1 */
	const struct spec_value *prereqs = spec_value_get(root, "prerequisites");
	for (size_t i = 0; prereqs && i < prereqs->n; i++) {
		const struct spec_value *it = prereqs->items[i];
		const struct spec_value *name = spec_value_get(it, "name");
		int t = type_index(spec_value_get(it, "type"));
		if (t < 0 || !name || name->type != SPEC_STRING)
			return spec__error_at(job, it, "prerequisite %zu has no valid type and name", i);
		if (strmap_find(&r->by_type[t], name->str, name->len))
			return spec__error_at(job, name, "Duplicate %s prerequisites %s.", TYPE_NAMES[t], name->str);
		if (strmap_put(&r->by_type[t], name->str, name->len, (void *)it) < 0 ||
		    strmap_put(&r->any, name->str, name->len, (void *)it) < 0)
			return GERR_NOMEM;
	}

	/* 2 */
	const struct spec_value *deps = spec_value_get(root, "deployments");
	for (size_t i = 0; deps && i < deps->n; i++) {
		const struct spec_value *d = deps->items[i];
		const struct spec_value *name = spec_value_get(d, "name");
		if (!name || name->type != SPEC_STRING)
			return spec__error_at(job, d, "deployment %zu has no name", i);
		if (strmap_find(&r->deployments, name->str, name->len))
			return spec__error_at(job, name, "Duplicate deployments %s.", name->str);
		if (strmap_put(&r->deployments, name->str, name->len, (void *)d) < 0)
			return GERR_NOMEM;
	}

	const struct spec_value *roles = spec_value_get(root, "taskRoles");
	if (!roles || roles->type != SPEC_OBJECT)
		return spec__error_at(job, roles, ".taskRoles should be object");

	/* 3 */
	for (size_t i = 0; i < roles->n; i++) {
		const struct spec_value *list = spec_value_get(roles->members[i].val, "prerequisites");
		for (size_t j = 0; list && j < list->n; j++) {
			const struct spec_value *p = list->items[j];
			if (!strmap_find(&r->any, p->str, p->len))
				return spec__error_at(job, p, "Prerequisite %s does not exist.", p->str);
		}
	}

	/* 4: fields in rest-server's order, each checked against its own type */
	static const struct { const char *field; enum spec_prereq_type type; } fields[] = {
		{ "script", SPEC_PREREQ_SCRIPT },
		{ "output", SPEC_PREREQ_OUTPUT },
		{ "data", SPEC_PREREQ_DATA },
		{ "dockerImage", SPEC_PREREQ_DOCKERIMAGE },
	};
	for (size_t i = 0; i < roles->n; i++) {
		const struct spec_value *role = roles->members[i].val;
		for (size_t f = 0; f < 4; f++) {
			const struct spec_value *ref = spec_value_get(role, fields[f].field);
			if (ref && !strmap_find(&r->by_type[fields[f].type], ref->str, ref->len))
				return spec__error_at(job, ref, "Prerequisite %s does not exist.", str_of(ref));
		}
	}

	/* 5 */
	const struct spec_value *dd = spec_value_get(spec_value_get(root, "defaults"), "deployment");
	if (dd) {
		struct strmap_slot *s = strmap_find(&r->deployments, dd->str, dd->len);
		if (!s)
			return spec__error_at(job, dd, "Default deployment %s does not exist.", dd->str);
		r->default_deployment = s->val;
		/* rest-server asks `role in deployment.taskRoles`: a list has no
		 * role names; a scalar throws (HTTP 500) and we refuse it. */
		const struct spec_value *dr = spec_value_get(r->default_deployment, "taskRoles");
		if (dr && dr->type != SPEC_OBJECT && dr->type != SPEC_ARRAY)
			return spec__error_at(job, dr, "deployment %s: taskRoles should be object", dd->str);
	}

	/* Gantry's own limits, past every check OpenPAI makes */
	for (size_t i = 0; i < roles->n; i++) {
		const struct spec_value *inst = spec_value_get(roles->members[i].val, "instances");
		if (inst && inst->num > SPEC_MAX_INSTANCES) {
			struct buf got = BUF_INIT;
			spec__js_number(&got, inst->num);
			int rc = spec__error_at(job, inst,
			                        "taskRoles.%s.instances: must be <= %d, the most instances "
			                        "a task role may have (got %s)",
			                        roles->members[i].key, SPEC_MAX_INSTANCES, buf_str(&got));
			buf_fini(&got);
			return rc == GERR_NOMEM ? rc : GERR_TOO_LARGE;
		}
	}

	/* Two roles with one converted name: OpenPAI's validator passes them,
	 * but the Framework it builds names its task roles, pods and runtime
	 * variables so, and cannot hold both; we refuse the job here, where the
	 * user can see why, rather than run one role under two names. */
	struct strmap fc;
	strmap_init(&fc, &job->arena);
	for (size_t i = 0; i < roles->n; i++) {
		const struct spec_member *m = &roles->members[i];
		char *conv = spec_convert_name(&job->arena, m->key);
		if (!conv)
			return GERR_NOMEM;
		struct strmap_slot *seen = strmap_find(&fc, conv, strlen(conv));
		if (seen)
			return spec__error(job, m->line, m->col,
			                   "Task roles %s and %s collide: OpenPAI names both %s (lowercased, "
			                   "without '_'), so their tasks and environment variables would clash.",
			                   (const char *)seen->val, m->key, conv);
		if (strmap_put(&fc, conv, strlen(conv), (void *)m->key) < 0)
			return GERR_NOMEM;
	}
	return 0;
}
