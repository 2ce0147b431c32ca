/* SPDX-License-Identifier: MIT */
/*
 * `gantry sim ...`: the scheduler's offline tools.
 *
 *   sim replay FILE...   replay HiveD scenario files (the format of
 *                        tests/data/hived/hived-cases.json: its "format" key
 *                        defines every op and expectation) against the
 *                        scheduler; PASS/FAIL per case, "N passed, N failed"
 *                        over the steps that assert something
 *   sim run              replay a job trace on a cluster config in simulated
 *                        time: what-if analysis for quotas (queueing delay per
 *                        VC, utilization, preemptions, jobs that never fit)
 *
 * All I/O of the scheduler lives here; src/sched stays pure.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/gerr.h"
#include "base/strmap.h"
#include "cli/cli.h"
#include "sched/sched.h"

static int slurp(const char *path, struct buf *b, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char chunk[65536];
	size_t n;
	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (b->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ====================================================================== */
/* sim replay                                                              */
/* ====================================================================== */

struct replay {
	json_t *specs;               /* pod_specs */
	FILE *out;
	bool check, verbose;
	bool strict;                 /* also compare what HiveD was observed doing */
	int passed, failed;          /* steps with assertions */
	int cases_passed, cases_failed;
};

struct rcase {
	struct replay *r;
	const char *name;
	struct sched *s;
	struct arena arena;
	struct strmap binds;         /* pod → its last bind info */
	struct sched_result res;
	size_t step;
	bool failed;
	int64_t now;
};

static bool fail(struct rcase *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct rcase *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->failed)
		fprintf(c->r->out, "FAIL %s: step %zu: %s\n", c->name, c->step, msg);
	else if (c->r->verbose)
		fprintf(c->r->out, "     %s: step %zu: %s\n", c->name, c->step, msg);
	c->failed = true;
	return false;
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_int_t jint(const json_t *o, const char *key, json_int_t dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : json_is_real(v) ? (json_int_t)json_real_value(v) : dflt;
}

static bool jbool(const json_t *o, const char *key, bool dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* The pod's scheduling spec as a request. Strings stay in the JSON. */
static bool request_of(struct rcase *c, const char *pod, struct sched_request *req, bool *ignore)
{
	const json_t *spec = json_object_get(c->r->specs, pod);
	if (!json_is_object(spec))
		return fail(c, "pod %s has no pod_specs entry", pod);
	memset(req, 0, sizeof(*req));
	req->vc = jstr(spec, "virtualCluster");
	req->priority = (int)jint(spec, "priority", 0);
	req->lazy_preemption = jbool(spec, "lazyPreemptionEnable", false);
	req->pinned_cell = jstr(spec, "pinnedCellId");
	req->leaf_type = jstr(spec, "leafCellType");
	req->pod_leaf_cells = (int32_t)jint(spec, "leafCellNumber", 0);
	req->pod = pod;
	*ignore = jbool(spec, "ignoreK8sSuggestedNodes", false);
	const json_t *ag = json_object_get(spec, "affinityGroup");
	const json_t *ms = json_object_get(ag, "members");
	if (json_is_object(ag) && json_is_array(ms)) {
		req->group = jstr(ag, "name");
		size_t n = json_array_size(ms);
		struct sched_member *m = arena_alloc(&c->arena, (n ? n : 1) * sizeof(*m));
		if (!m)
			return fail(c, "out of memory");
		for (size_t i = 0; i < n; i++) {
			m[i].pods = (int32_t)jint(json_array_get(ms, i), "podNumber", 0);
			m[i].leaf_cells = (int32_t)jint(json_array_get(ms, i), "leafCellNumber", 0);
		}
		req->members = m;
		req->nmembers = n;
	} else {
		/* HiveD's default: the pod alone, named namespace/pod */
		req->group = arena_printf(&c->arena, "test/%s", pod);
	}
	if (!req->group)
		req->group = "";
	return true;
}

static bool suggested_of(struct rcase *c, const json_t *sg, struct sched_nodeset *set, bool *all)
{
	*all = false;
	if (!sg || (json_is_string(sg) && !strcmp(json_string_value(sg), "ALL"))) {
		*all = true;
		return true;
	}
	if (json_is_array(sg)) {
		size_t n = json_array_size(sg);
		const char **names = arena_alloc(&c->arena, (n ? n : 1) * sizeof(*names));
		if (!names)
			return fail(c, "out of memory");
		for (size_t i = 0; i < n; i++)
			names[i] = json_string_value(json_array_get(sg, i));
		*set = (struct sched_nodeset){ names, n };
		return true;
	}
	const json_t *except = json_object_get(sg, "all_except");
	if (json_is_array(except)) {
		size_t total = sched_node_count(c->s), n = 0;
		const char **names = arena_alloc(&c->arena, (total ? total : 1) * sizeof(*names));
		if (!names)
			return fail(c, "out of memory");
		for (size_t i = 0; i < total; i++) {
			struct sched_node_info ni;
			sched_node_get(c->s, i, NULL, &ni);
			bool skip = false;
			for (size_t k = 0; k < json_array_size(except) && !skip; k++)
				skip = !strcmp(ni.name, json_string_value(json_array_get(except, k)) ?: "");
			if (!skip)
				names[n++] = ni.name;
		}
		*set = (struct sched_nodeset){ names, n };
		return true;
	}
	return fail(c, "suggested_nodes: expected \"ALL\", a list or {all_except: [...]}");
}

static void describe(const struct sched_result *res, char *buf, size_t len)
{
	size_t off = 0;
	switch (res->decision) {
	case SCHED_BIND:
		off += (size_t)snprintf(buf, len, "bind %s [", res->bind.node);
		for (size_t i = 0; i < res->bind.nleaves && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? "," : "", res->bind.leaves[i]);
		if (off < len)
			snprintf(buf + off, len - off, "]");
		break;
	case SCHED_PREEMPT:
		off += (size_t)snprintf(buf, len, "preempt on %s {", res->victim_node ? res->victim_node : "?");
		for (size_t i = 0; i < res->nvictims_on_node && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", res->victims[i].pod);
		if (off < len)
			snprintf(buf + off, len - off, "}");
		break;
	case SCHED_WAIT:
		snprintf(buf, len, "wait (%s: %s)", sched_wait_name(res->wait), res->reason);
		break;
	}
}

static void leaves_text(const json_t *a, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "[");
	for (size_t i = 0; i < json_array_size(a) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%lld", i ? "," : "",
		                        (long long)json_integer_value(json_array_get(a, i)));
	if (off < len)
		snprintf(buf + off, len - off, "]");
}


/* ---- --strict: compare with "observed" (what HiveD did, beyond what its test asserts) */

static int cmp_int(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* The group's placement equals {node: [leaves]} (leaves compared as sets per node). */
static bool same_placement(struct rcase *c, const char *group, const json_t *want, char *why, size_t len)
{
	size_t n = sched_group_leaves(c->s, group, NULL, 0);
	struct sched_leaf_ref *refs = arena_alloc(&c->arena, (n ? n : 1) * sizeof(*refs));
	int32_t *a = arena_alloc(&c->arena, (n ? n : 1) * sizeof(*a));
	if (!refs || !a)
		return false;
	sched_group_leaves(c->s, group, refs, n);
	size_t seen = 0;
	const char *node;
	const json_t *leaves;
	json_object_foreach((json_t *)want, node, leaves) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(refs[i].node, node))
				a[m++] = refs[i].leaf;
		if (m != json_array_size(leaves)) {
			snprintf(why, len, "node %s holds %zu of its leaves, HiveD %zu", node, m, json_array_size(leaves));
			return false;
		}
		int32_t b[4096];
		for (size_t i = 0; i < m && i < 4096; i++)
			b[i] = (int32_t)json_integer_value(json_array_get(leaves, i));
		qsort(a, m, sizeof(*a), cmp_int);
		qsort(b, m < 4096 ? m : 4096, sizeof(*b), cmp_int);
		if (m > 4096 || memcmp(a, b, m * sizeof(*a))) {
			snprintf(why, len, "different leaves on node %s", node);
			return false;
		}
		seen += m;
	}
	if (seen != n) {
		snprintf(why, len, "%zu leaves, HiveD %zu", n, seen);
		return false;
	}
	return true;
}

static bool same_group(struct rcase *c, const char *group, const json_t *want, const char *what)
{
	struct sched_group_info gi;
	bool exists = group && !sched_group_get(c->s, group, &gi);
	bool want_exists = json_is_true(json_object_get(want, "exists"));
	char why[256] = "";
	if (exists != want_exists)
		return fail(c, "strict: %s: group %s %s, HiveD's %s", what, group ? group : "?",
		            exists ? "exists" : "does not exist", want_exists ? "does" : "does not");
	if (!exists)
		return true;
	const char *state = jstr(want, "state");
	if (state && strcmp(state, sched_group_state_name(gi.state)))
		return fail(c, "strict: %s: group %s is %s, HiveD's %s", what, group, sched_group_state_name(gi.state),
		            state);
	const json_t *lp = json_object_get(want, "lazy_preempted");
	if (json_is_boolean(lp) && json_is_true(lp) != gi.lazy_preempted)
		return fail(c, "strict: %s: group %s lazy_preempted=%d, HiveD %d", what, group, gi.lazy_preempted,
		            json_is_true(lp));
	const json_t *pp = json_object_get(want, "physical_placement");
	if (json_is_object(pp) && !same_placement(c, group, pp, why, sizeof(why)))
		return fail(c, "strict: %s: group %s placement differs: %s", what, group, why);
	return true;
}

static bool same_bind_info(struct rcase *c, const json_t *want)
{
	const struct sched_bind_info *b = &c->res.bind;
	const char *chain = jstr(want, "cellChain");
	if (chain && strcmp(chain, b->chain ? b->chain : ""))
		return fail(c, "strict: bind info chain %s, HiveD %s", b->chain, chain);
	const json_t *ms = json_object_get(want, "members");
	if (json_array_size(ms) != b->nmembers)
		return fail(c, "strict: bind info has %zu members, HiveD %zu", b->nmembers, json_array_size(ms));
	for (size_t i = 0; i < json_array_size(ms); i++) {
		const json_t *m = json_array_get(ms, i);
		int32_t leaves = (int32_t)jint(m, "leafCellNumber", 0);
		const struct sched_member_placement *mp = NULL;
		for (size_t k = 0; k < b->nmembers && !mp; k++)
			if (b->members[k].leaf_cells == leaves)
				mp = &b->members[k];
		const json_t *pods = json_object_get(m, "podPlacements");
		if (!mp || mp->npods != json_array_size(pods))
			return fail(c, "strict: bind info member of %d leaf cells differs", leaves);
		for (size_t p = 0; p < mp->npods; p++) {
			const json_t *pj = json_array_get(pods, p);
			const json_t *lc = json_object_get(pj, "leafCells"), *pt = json_object_get(pj, "preassignedCellTypes");
			if (strcmp(mp->pods[p].node, jstr(pj, "node") ?: ""))
				return fail(c, "strict: bind info pod %zu of %d: node %s, HiveD %s", p, leaves, mp->pods[p].node,
				            jstr(pj, "node") ?: "?");
			for (int32_t k = 0; k < leaves; k++) {
				if (json_integer_value(json_array_get(lc, (size_t)k)) != mp->pods[p].leaves[k])
					return fail(c, "strict: bind info pod %zu of %d: leaf %d differs", p, leaves, k);
				if (strcmp(json_string_value(json_array_get(pt, (size_t)k)) ?: "", mp->pods[p].preassigned[k]))
					return fail(c, "strict: bind info pod %zu of %d: preassigned type %s, HiveD %s", p, leaves,
					            mp->pods[p].preassigned[k], json_string_value(json_array_get(pt, (size_t)k)));
			}
		}
	}
	return true;
}

static bool same_victims(struct rcase *c, const json_t *want)
{
	size_t n = 0;
	const char *node;
	const json_t *pods;
	json_object_foreach((json_t *)want, node, pods) {
		for (size_t i = 0; i < json_array_size(pods); i++) {
			const char *pod = json_string_value(json_array_get(pods, i));
			bool found = false;
			for (size_t k = 0; k < c->res.nvictims && !found; k++)
				found = !strcmp(c->res.victims[k].pod, pod ?: "") && !strcmp(c->res.victims[k].node, node);
			if (!found)
				return fail(c, "strict: HiveD's victim %s on %s is missing", pod ? pod : "?", node);
			n++;
		}
	}
	if (n != c->res.nvictims)
		return fail(c, "strict: %zu victims, HiveD %zu", c->res.nvictims, n);
	return true;
}

static bool strict_schedule(struct rcase *c, const json_t *step, const char *group, int rc)
{
	const json_t *obs = json_object_get(step, "observed");
	const char *result = jstr(obs, "result");
	static const char *const names[] = { "bind", "preempt", "wait" };
	const char *got = rc == GERR_INVALID ? "user_error" : names[c->res.decision];
	if (!result)
		return true;
	if (strcmp(result, got))
		return fail(c, "strict: %s, HiveD %s", got, result);
	if (!strcmp(result, "bind")) {
		const char *node = jstr(obs, "node");
		if (node && strcmp(node, c->res.bind.node))
			return fail(c, "strict: bound to %s, HiveD %s", c->res.bind.node, node);
		const json_t *bi = json_object_get(obs, "bind_info");
		if (json_is_object(bi) && !same_bind_info(c, bi))
			return false;
	}
	if (!strcmp(result, "preempt")) {
		const json_t *all = json_object_get(obs, "all_victims_by_node");
		if (json_is_object(all) && !same_victims(c, all))
			return false;
	}
	const json_t *ga = json_object_get(obs, "group_after");
	if (json_is_object(ga) && !same_group(c, group, ga, "after the step"))
		return false;
	return true;
}

static bool op_schedule(struct rcase *c, const json_t *step, bool *asserts)
{
	const char *pod = jstr(step, "pod");
	const json_t *expect = json_object_get(step, "expect");
	const char *want = jstr(expect, "result");
	struct sched_request req;
	struct sched_nodeset set;
	bool ignore, all;
	*asserts = want && strcmp(want, "any");
	if (!pod)
		return fail(c, "schedule without a pod");
	if (!request_of(c, pod, &req, &ignore) || !suggested_of(c, json_object_get(step, "suggested_nodes"), &set, &all))
		return false;
	req.suggested = ignore || all ? NULL : &set;
	const char *phase = jstr(step, "phase");
	req.phase = phase && !strcmp(phase, "Filtering") ? SCHED_PHASE_FILTER : SCHED_PHASE_PREEMPT;
	struct gerr err = { 0 };
	int rc = sched_schedule(c->s, &req, c->now, &c->res, &err);
	char got[GERR_MSG_MAX + 64];
	if (rc)
		snprintf(got, sizeof(got), "%s error: %s", rc == GERR_INVALID ? "user" : gerr_name(rc), err.msg);
	else
		describe(&c->res, got, sizeof(got));
	if (c->r->verbose)
		fprintf(c->r->out, "  %s step %zu: schedule %s -> %s\n", c->name, c->step, pod, got);
	if (!rc && c->res.decision == SCHED_BIND) {
		struct sched_bind_info *b = sched_bind_dup(&c->arena, &c->res.bind);
		if (!b || strmap_put(&c->binds, pod, strlen(pod), b) < 0)
			return fail(c, "out of memory");
	}
	if (rc && rc != GERR_INVALID)
		return fail(c, "schedule %s: %s", pod, got);
	if (c->r->strict && !strict_schedule(c, step, req.group, rc))
		return false;
	if (!*asserts)
		return true;
	if (!strcmp(want, "user_error"))
		return rc == GERR_INVALID ? true : fail(c, "schedule %s: expected a user error, got %s", pod, got);
	if (rc)
		return fail(c, "schedule %s: expected %s, got %s", pod, want, got);
	if (!strcmp(want, "bind")) {
		const char *node = jstr(expect, "node");
		const json_t *leaves = json_object_get(expect, "leaf_cell_isolation");
		bool ok = c->res.decision == SCHED_BIND && node && !strcmp(c->res.bind.node, node) &&
		          json_array_size(leaves) == c->res.bind.nleaves;
		for (size_t i = 0; ok && i < c->res.bind.nleaves; i++)
			ok = json_integer_value(json_array_get(leaves, i)) == c->res.bind.leaves[i];
		if (!ok) {
			char w[256];
			leaves_text(leaves, w, sizeof(w));
			return fail(c, "schedule %s: expected bind %s %s, got %s", pod, node ? node : "?", w, got);
		}
		return true;
	}
	if (!strcmp(want, "bind_required"))
		return c->res.decision == SCHED_BIND ? true : fail(c, "schedule %s: expected a bind, got %s", pod, got);
	if (!strcmp(want, "no_bind"))
		return c->res.decision != SCHED_BIND ? true : fail(c, "schedule %s: expected no bind, got %s", pod, got);
	if (!strcmp(want, "preempt")) {
		const json_t *set_ok = json_object_get(expect, "victims_subset_of");
		if (c->res.decision != SCHED_PREEMPT)
			return fail(c, "schedule %s: expected preemption, got %s", pod, got);
		for (size_t i = 0; i < c->res.nvictims_on_node; i++) {
			bool in = false;
			for (size_t k = 0; k < json_array_size(set_ok) && !in; k++)
				in = !strcmp(c->res.victims[i].pod, json_string_value(json_array_get(set_ok, k)) ?: "");
			if (!in)
				return fail(c, "schedule %s: victim %s is not an expected victim (got %s)", pod,
				            c->res.victims[i].pod, got);
		}
		return true;
	}
	return fail(c, "unknown expected result '%s'", want);
}

static bool add_pod(struct rcase *c, const char *pod, const json_t *step)
{
	struct sched_request req;
	bool ignore;
	if (!request_of(c, pod, &req, &ignore))
		return false;
	struct strmap_slot *sl = strmap_find(&c->binds, pod, strlen(pod));
	if (!sl)
		return fail(c, "add_allocated %s: the pod has no bind result to commit", pod);
	struct gerr err = { 0 };
	if (sched_pod_add(c->s, &req, pod, sl->val, c->now, &err))
		return fail(c, "add_allocated %s: %s", pod, err.msg);
	const json_t *ga = json_object_get(json_object_get(step, "observed"), "group_after");
	if (c->r->strict && json_is_object(ga) && !same_group(c, req.group, ga, "after add_allocated"))
		return false;
	return true;
}

static bool op_delete(struct rcase *c, const json_t *step, bool allocated, bool *asserts)
{
	const char *pod = jstr(step, "pod");
	struct sched_request req;
	bool ignore;
	if (!pod || !request_of(c, pod, &req, &ignore))
		return fail(c, "delete without a known pod");
	if (allocated) {
		struct gerr err = { 0 };
		if (sched_pod_delete(c->s, req.group, pod, &err))
			return fail(c, "delete_allocated %s: %s", pod, err.msg);
		return true;
	}
	/* optionally: the leaves of a group before, their states after */
	const char *group = jstr(step, "check_cells_of_group_before_delete");
	const char *rule = jstr(step, "expect_each_leaf_cell");
	struct sched_leaf_ref *refs = NULL;
	size_t n = 0;
	*asserts = group && rule;
	if (*asserts) {
		n = sched_group_leaves(c->s, group, NULL, 0);
		refs = arena_alloc(&c->arena, (n ? n : 1) * sizeof(*refs));
		if (!refs)
			return fail(c, "out of memory");
		sched_group_leaves(c->s, group, refs, n);
		if (!n)
			return fail(c, "group %s has no leaves to check", group);
	}
	sched_pod_cancel(c->s, req.group, pod);
	if (!*asserts)
		return true;
	/* "if state == Used then priority == N (...) else state == Free" */
	const char *p = strstr(rule, "priority == ");
	int want = p ? atoi(p + strlen("priority == ")) : 0;
	if (!p)
		return fail(c, "cannot read the rule '%s'", rule);
	for (size_t i = 0; i < n; i++) {
		struct sched_leaf_info li;
		if (sched_leaf_get(c->s, refs[i].chain, refs[i].node, refs[i].leaf, &li))
			return fail(c, "leaf %d of %s not found", refs[i].leaf, refs[i].node);
		if (li.state == SCHED_CELL_USED ? li.priority != want : li.state != SCHED_CELL_FREE)
			return fail(c, "leaf %d of %s: state %s priority %d, expected Used at priority %d or Free",
			            refs[i].leaf, refs[i].node, sched_cell_state_name(li.state), li.priority, want);
	}
	return true;
}

static bool op_check_group(struct rcase *c, const json_t *step)
{
	const char *name = jstr(step, "group");
	const json_t *expect = json_object_get(step, "expect");
	struct sched_group_info gi;
	bool exists = name && !sched_group_get(c->s, name, &gi);
	const json_t *e = json_object_get(expect, "exists");
	if (json_is_boolean(e) && json_is_false(e))
		return exists ? fail(c, "check_group %s: expected no group, it is %s", name,
		                     sched_group_state_name(gi.state))
		              : true;
	if (!exists)
		return fail(c, "check_group %s: expected the group to exist", name ? name : "?");
	const char *state = jstr(expect, "state");
	if (state && strcmp(state, sched_group_state_name(gi.state)))
		return fail(c, "check_group %s: expected state %s, got %s", name, state, sched_group_state_name(gi.state));
	const json_t *lp = json_object_get(expect, "lazy_preempted");
	if (json_is_boolean(lp) && json_is_true(lp) != gi.lazy_preempted)
		return fail(c, "check_group %s: expected lazy_preempted=%s", name, json_is_true(lp) ? "true" : "false");
	return true;
}

struct cell_check {
	bool free_only, want_healthy, ok;
	char bad[256];
};

static void check_cell(void *ctx, const struct sched_cell_info *ci)
{
	struct cell_check *k = ctx;
	if (k->free_only && !ci->free)
		return;
	if (ci->healthy != k->want_healthy && k->ok) {
		k->ok = false;
		snprintf(k->bad, sizeof(k->bad), "%s is %s", ci->address, ci->healthy ? "Healthy" : "Bad");
	}
}

static bool op_check_vc_cells(struct rcase *c, const json_t *step)
{
	const char *vc = jstr(step, "vc"), *chain = jstr(step, "chain"), *scope = jstr(step, "scope");
	const char *want = jstr(step, "expect_healthiness");
	struct cell_check k = { scope && !strcmp(scope, "free"), want && !strcmp(want, "Healthy"), true, "" };
	int n = sched_vc_cells(c->s, vc, chain, (int)jint(step, "level", 0), check_cell, &k);
	if (n < 0)
		return fail(c, "check_vc_cells: VC %s or chain %s not found", vc ? vc : "?", chain ? chain : "?");
	if (!k.ok)
		return fail(c, "check_vc_cells %s %s: expected %s cells %s, but %s", vc, chain, scope ? scope : "all",
		            want ? want : "?", k.bad);
	return true;
}

static struct sched *build(struct rcase *c, const json_t *config, struct gerr *err)
{
	char *text = json_dumps(config, JSON_COMPACT);
	if (!text) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	struct sched *s = sched_new(text, strlen(text), err);
	free(text);
	if (s) {
		sched_set_self_check(s, c->r->check);
		sched_nodes_set_healthy(s);
	}
	return s;
}

static bool op_reconfigure(struct rcase *c, const json_t *step)
{
	struct gerr err = { 0 };
	struct sched *s = build(c, json_object_get(step, "new_config"), &err);
	if (!s)
		return fail(c, "reconfigure: the new config is refused: %s", err.msg);
	sched_free(c->s);
	c->s = s;
	const json_t *pods = json_object_get(step, "readd_allocated_pods");
	for (size_t i = 0; i < json_array_size(pods); i++)
		if (!add_pod(c, json_string_value(json_array_get(pods, i)) ?: "", NULL))
			return false;
	const json_t *groups = json_object_get(json_object_get(step, "observed"), "groups_after_readd");
	const char *name;
	const json_t *g;
	if (c->r->strict)
		json_object_foreach((json_t *)groups, name, g)
			if (!same_group(c, name, g, "after re-adding"))
				return false;
	return true;
}

/* Apply one {path, value} patch to a config. */
static bool patch(json_t *config, const json_t *p)
{
	const json_t *path = json_object_get(p, "path");
	json_t *at = config;
	size_t n = json_array_size(path);
	if (!n)
		return false;
	for (size_t i = 0; i + 1 < n; i++) {
		const json_t *k = json_array_get(path, i);
		at = json_is_string(k) ? json_object_get(at, json_string_value(k))
		                       : json_array_get(at, (size_t)json_integer_value(k));
		if (!at)
			return false;
	}
	const json_t *k = json_array_get(path, n - 1);
	json_t *v = json_deep_copy(json_object_get(p, "value"));
	if (json_is_string(k))
		return json_object_set_new(at, json_string_value(k), v) == 0;
	return json_array_set_new(at, (size_t)json_integer_value(k), v) == 0;
}

static void run_case(struct replay *r, const json_t *base, const json_t *cs)
{
	struct rcase c = { .r = r, .name = jstr(cs, "name") };
	const json_t *steps = json_object_get(cs, "steps");
	if (!c.name)
		c.name = "(unnamed)";
	arena_init(&c.arena, 1 << 14);
	strmap_init(&c.binds, &c.arena);
	sched_result_init(&c.res);
	int passed = 0, failed = 0;

	json_t *config = json_deep_copy(base);
	const json_t *patches = json_object_get(cs, "config_patches");
	for (size_t i = 0; i < json_array_size(patches); i++)
		if (!patch(config, json_array_get(patches, i)))
			fail(&c, "config_patches[%zu] does not apply", i);
	struct gerr err = { 0 };
	bool expect_init_error = json_array_size(steps) &&
	                         !strcmp(jstr(json_array_get(steps, 0), "op") ?: "", "expect_init_error");
	if (!c.failed) {
		c.s = build(&c, config, &err);
		if (!c.s && !expect_init_error) {
			fail(&c, "the config is refused: %s", err.msg);
			failed++;
		}
	}
	for (size_t i = 0; i < json_array_size(steps) && (c.s || expect_init_error); i++) {
		const json_t *st = json_array_get(steps, i);
		const char *op = jstr(st, "op");
		bool asserts = false, ok;
		c.step = i;
		c.now = (int64_t)i;
		if (!op) {
			ok = fail(&c, "step without an op");
			asserts = true;
		} else if (!strcmp(op, "expect_init_error")) {
			asserts = true;
			ok = c.s ? fail(&c, "expected the config to be refused, it was accepted") : true;
			if (!c.s && r->verbose)
				fprintf(r->out, "  %s step %zu: refused as expected: %s\n", c.name, i, err.msg);
		} else if (!c.s) {
			break;
		} else if (!strcmp(op, "schedule")) {
			ok = op_schedule(&c, st, &asserts);
		} else if (!strcmp(op, "add_allocated")) {
			ok = add_pod(&c, jstr(st, "pod") ?: "", st);
		} else if (!strcmp(op, "delete_allocated")) {
			ok = op_delete(&c, st, true, &asserts);
		} else if (!strcmp(op, "delete_unallocated")) {
			ok = op_delete(&c, st, false, &asserts);
		} else if (!strcmp(op, "set_node_bad") || !strcmp(op, "set_node_healthy")) {
			struct gerr e = { 0 };
			ok = !sched_node_set_health(c.s, jstr(st, "node"), !strcmp(op, "set_node_healthy"), &e) ||
			     fail(&c, "%s: %s", op, e.msg);
		} else if (!strcmp(op, "check_group")) {
			asserts = true;
			ok = op_check_group(&c, st);
		} else if (!strcmp(op, "check_vc_cells")) {
			asserts = true;
			ok = op_check_vc_cells(&c, st);
		} else if (!strcmp(op, "reconfigure")) {
			ok = op_reconfigure(&c, st);
		} else {
			ok = fail(&c, "unknown op '%s'", op);
			asserts = true;
		}
		/* a step that could not be carried out counts as a failed assertion */
		if (asserts || !ok) {
			if (ok)
				passed++;
			else
				failed++;
		}
	}
	if (!c.failed)
		fprintf(r->out, "PASS %s\n", c.name);
	r->passed += passed;
	r->failed += failed;
	if (c.failed)
		r->cases_failed++;
	else
		r->cases_passed++;
	json_decref(config);
	sched_result_fini(&c.res);
	sched_free(c.s);
	arena_fini(&c.arena);
}

int cli_sim_replay_file(const char *path, FILE *out, bool check, bool verbose, bool strict, int *passed,
                        int *failed)
{
	struct replay r = { .out = out, .check = check, .verbose = verbose, .strict = strict };
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	*passed = *failed = 0;
	if (!doc) {
		fprintf(stderr, "gantry sim replay: %s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
		return CLI_FAIL;
	}
	const json_t *config = json_object_get(doc, "config");
	const json_t *cases = json_object_get(doc, "cases");
	r.specs = json_object_get(doc, "pod_specs");
	if (!json_is_object(config) || !json_is_array(cases) || !json_is_object(r.specs)) {
		fprintf(stderr, "gantry sim replay: %s: not a scenario file (needs config, pod_specs and cases)\n", path);
		json_decref(doc);
		return CLI_FAIL;
	}
	for (size_t i = 0; i < json_array_size(cases); i++)
		run_case(&r, config, json_array_get(cases, i));
	json_decref(doc);
	*passed = r.passed;
	*failed = r.failed;
	return r.cases_failed ? CLI_FAIL : CLI_OK;
}

int cli_sim_replay(const struct cli_cmd *cmd, int argc, char **argv)
{
	bool check = true, verbose = false, strict = false;
	int i, rc = CLI_OK, passed = 0, failed = 0;
	for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--no-check"))
			check = false;
		else if (!strcmp(argv[i], "--strict"))
			strict = true;
		else
			return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
	}
	if (i == argc)
		return cli_usage_error(cmd, "no scenario file given");
	for (; i < argc; i++) {
		int p, f;
		int r = cli_sim_replay_file(argv[i], stdout, check, verbose, strict, &p, &f);
		if (r != CLI_OK)
			rc = CLI_FAIL;
		passed += p;
		failed += f;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return rc;
}

/* ====================================================================== */
/* sim run                                                                 */
/* ====================================================================== */

enum { J_FUTURE, J_WAITING, J_RUNNING, J_DONE, J_NEVER };

struct sjob {
	const char *name;
	const char *vc;
	const char *sku;
	const char *pinned;
	char group[32];
	int priority;
	bool lazy;
	double submit, duration;
	int32_t instances, leaves;
	double gpu, cpu, memory;
	int state;
	double start, end;           /* first start; end of the current run */
	int preempted;
	size_t heap;                 /* index in the completion heap */
	int vcx;                     /* index into the report's VCs */
	const char *reason;          /* never fits: why */
	const char *code;
};

struct svc {
	const char *name;
	size_t jobs, started, finished, never, preempted, waiting;
	double gpu_seconds, cell_seconds;
	double *delays;
	size_t ndelays;
};

struct sim {
	struct sched *s;
	struct arena arena;
	struct sjob *jobs;
	size_t njobs;
	struct svc *vcs;
	size_t nvcs;
	struct sjob **heap;          /* running jobs by end time */
	size_t nheap;
	size_t *queue;               /* waiting jobs, in scheduling order */
	size_t nqueue;
	const char **pods;           /* pod names p0.. */
	int32_t npods;
	double now, busy_leaf_seconds, gpu_per_leaf, total_gpus;
	int64_t total_leaves;
	size_t preemptions, lazy, decisions;
	struct sched_result res;
};

static bool heap_less(const struct sjob *a, const struct sjob *b)
{
	return a->end < b->end || (a->end == b->end && a < b);
}

static void heap_swap(struct sim *m, size_t i, size_t k)
{
	struct sjob *t = m->heap[i];
	m->heap[i] = m->heap[k];
	m->heap[k] = t;
	m->heap[i]->heap = i;
	m->heap[k]->heap = k;
}

static void heap_up(struct sim *m, size_t i)
{
	while (i > 0 && heap_less(m->heap[i], m->heap[(i - 1) / 2])) {
		heap_swap(m, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct sim *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, best = i;
		if (l < m->nheap && heap_less(m->heap[l], m->heap[best]))
			best = l;
		if (r < m->nheap && heap_less(m->heap[r], m->heap[best]))
			best = r;
		if (best == i)
			return;
		heap_swap(m, i, best);
		i = best;
	}
}

static void heap_push(struct sim *m, struct sjob *j)
{
	j->heap = m->nheap;
	m->heap[m->nheap++] = j;
	heap_up(m, j->heap);
}

static void heap_remove(struct sim *m, struct sjob *j)
{
	size_t i = j->heap;
	m->nheap--;
	if (i != m->nheap) {
		m->heap[i] = m->heap[m->nheap];
		m->heap[i]->heap = i;
		heap_up(m, i);
		heap_down(m, m->heap[i]->heap);
	}
}

/* ---- the trace ------------------------------------------------------------------ */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '"')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '"'))
		s[--n] = '\0';
	return s;
}

enum { C_SUBMIT, C_DURATION, C_VC, C_PRIORITY, C_INSTANCES, C_GPU, C_CPU, C_MEMORY, C_SKU, C_PINNED, C_NAME,
       C_LAZY, C_COUNT };

static int column_of(const char *h)
{
	static const char *const names[][3] = {
		{ "submit", "submit_time", "arrival" }, { "duration", "runtime", "duration_s" },
		{ "vc", "virtual_cluster", "virtualcluster" }, { "priority", "prio", NULL },
		{ "instances", "pods", "tasks" }, { "gpu", "gpus", "gpus_per_instance" },
		{ "cpu", "cpus", "cpus_per_instance" }, { "memory", "memory_mb", "memorymb" },
		{ "sku", "sku_type", "leaf_type" }, { "pinned", "pinned_cell", "pinnedcellid" },
		{ "name", "job", "job_name" }, { "lazy", "lazy_preemption", NULL },
	};
	for (int c = 0; c < C_COUNT; c++)
		for (int k = 0; k < 3; k++)
			if (names[c][k] && !strcasecmp(h, names[c][k]))
				return c;
	return -1;
}

static int load_trace(struct sim *m, const char *path, char *text, char *err, size_t errlen)
{
	static const int required[] = { C_SUBMIT, C_DURATION, C_VC, C_PRIORITY, C_INSTANCES, C_GPU };
	static const char *const rnames[] = { "submit", "duration", "vc", "priority", "instances", "gpu" };
	int col[C_COUNT];
	for (int c = 0; c < C_COUNT; c++)
		col[c] = -1;
	size_t cap = 0, line = 0;
	bool header = false;
	int ncols = 0;
	/* lines and fields split by hand: strtok_r would merge blank lines (and
	 * miscount lines) and empty fields (shifting every column after one) */
	for (char *ln = text, *eol; ln; ln = eol) {
		eol = strchr(ln, '\n');
		if (eol)
			*eol++ = '\0';
		line++;
		char *t = trim(ln);
		if (!*t || *t == '#')
			continue;
		enum { MAX_FIELDS = 32 };
		char *fields[MAX_FIELDS];
		int nf = 0;
		for (char *f = t, *comma; f; f = comma) {
			comma = strchr(f, ',');
			if (comma)
				*comma++ = '\0';
			if (nf == MAX_FIELDS) {
				snprintf(err, errlen, "%s:%zu: more than %d fields", path, line, MAX_FIELDS);
				return -1;
			}
			fields[nf++] = trim(f);
		}
		if (!header) {
			for (int i = 0; i < nf; i++) {
				int c = column_of(fields[i]);
				if (c >= 0)
					col[c] = i;
			}
			for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
				if (col[required[k]] < 0) {
					snprintf(err, errlen, "%s:%zu: the header has no '%s' column (it needs submit, duration, "
					                      "vc, priority, instances, gpu)", path, line, rnames[k]);
					return -1;
				}
			header = true;
			ncols = nf;
			continue;
		}
		if (nf != ncols) {
			snprintf(err, errlen, "%s:%zu: %d fields, the header has %d", path, line, nf, ncols);
			return -1;
		}
		for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
			if (!*fields[col[required[k]]]) {
				snprintf(err, errlen, "%s:%zu: the '%s' field is empty (only name, cpu, memory, sku, pinned "
				                      "and lazy may be)", path, line, rnames[k]);
				return -1;
			}
		if (m->njobs == cap) {
			cap = cap ? cap * 2 : 256;
			struct sjob *v = realloc(m->jobs, cap * sizeof(*v));
			if (!v) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			m->jobs = v;
		}
		struct sjob *j = &m->jobs[m->njobs];
		memset(j, 0, sizeof(*j));
		double num[C_COUNT] = { 0 };
		static const int numeric[] = { C_SUBMIT, C_DURATION, C_PRIORITY, C_INSTANCES, C_GPU, C_CPU, C_MEMORY, C_LAZY };
		for (size_t k = 0; k < sizeof(numeric) / sizeof(numeric[0]); k++) {
			int c = numeric[k];
			if (col[c] < 0 || !*fields[col[c]])
				continue;
			char *end;
			num[c] = strtod(fields[col[c]], &end);
			if (*end || !isfinite(num[c]) || num[c] < (c == C_PRIORITY ? -1 : 0)) {
				snprintf(err, errlen, "%s:%zu: '%s' is not a valid %s", path, line, fields[col[c]],
				         c == C_PRIORITY ? "priority (-1..1000)" : "non-negative number");
				return -1;
			}
		}
		j->submit = num[C_SUBMIT];
		j->duration = num[C_DURATION];
		j->priority = (int)num[C_PRIORITY];
		j->instances = (int32_t)num[C_INSTANCES];
		j->gpu = num[C_GPU];
		j->cpu = num[C_CPU];
		j->memory = num[C_MEMORY];
		j->lazy = num[C_LAZY] != 0;
		j->vc = arena_strdup(&m->arena, fields[col[C_VC]]);
		j->sku = col[C_SKU] >= 0 && *fields[col[C_SKU]] ? arena_strdup(&m->arena, fields[col[C_SKU]]) : NULL;
		j->pinned = col[C_PINNED] >= 0 && *fields[col[C_PINNED]] ? arena_strdup(&m->arena, fields[col[C_PINNED]])
		                                                         : NULL;
		j->name = col[C_NAME] >= 0 && *fields[col[C_NAME]] ? arena_strdup(&m->arena, fields[col[C_NAME]])
		                                                   : arena_printf(&m->arena, "job-%zu", m->njobs + 1);
		if (!j->vc || !j->name) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (j->instances < 1) {
			snprintf(err, errlen, "%s:%zu: instances must be at least 1", path, line);
			return -1;
		}
		snprintf(j->group, sizeof(j->group), "sim-%zu", m->njobs);
		m->njobs++;
	}
	if (!header) {
		snprintf(err, errlen, "%s: empty trace (no header line)", path);
		return -1;
	}
	return 0;
}

/* ---- simulation -------------------------------------------------------------------- */

static int cmp_submit(const void *a, const void *b)
{
	const struct sjob *x = a, *y = b;
	return (x->submit > y->submit) - (x->submit < y->submit);
}

static void request_for(const struct sim *m, const struct sjob *j, struct sched_request *req,
                        struct sched_member *mem)
{
	mem->leaf_cells = j->leaves;
	mem->pods = j->instances;
	memset(req, 0, sizeof(*req));
	req->group = j->group;
	req->vc = j->vc;
	req->priority = j->priority;
	req->leaf_type = j->sku;
	req->pinned_cell = j->pinned;
	req->members = mem;
	req->nmembers = 1;
	req->lazy_preemption = j->lazy;
	req->pod_leaf_cells = j->leaves;
	req->pod = m->pods[0];
}

static void never_fits(struct sim *m, struct sjob *j, const char *code, const char *why)
{
	j->state = J_NEVER;
	j->code = code;
	j->reason = arena_strdup(&m->arena, why);
	m->vcs[j->vcx].never++;
}

static void stop(struct sim *m, struct sjob *j, bool finished)
{
	for (int32_t p = 0; p < j->instances; p++)
		sched_pod_delete(m->s, j->group, m->pods[p], NULL);
	heap_remove(m, j);
	double ran = m->now - (j->end - j->duration);
	m->vcs[j->vcx].gpu_seconds += (ran > 0 ? ran : 0) * j->gpu * j->instances;
	m->vcs[j->vcx].cell_seconds += (ran > 0 ? ran : 0) * j->leaves * j->instances;
	if (finished) {
		j->state = J_DONE;
		m->vcs[j->vcx].finished++;
	} else {
		/* preempted: back to the queue; it starts over */
		j->state = J_WAITING;
		j->preempted++;
		m->vcs[j->vcx].preempted++;
		m->queue[m->nqueue++] = (size_t)(j - m->jobs);
	}
}

static struct sjob *job_of_group(struct sim *m, const char *group)
{
	if (strncmp(group, "sim-", 4))
		return NULL;
	size_t i = (size_t)strtoul(group + 4, NULL, 10);
	return i < m->njobs ? &m->jobs[i] : NULL;
}

/* Try to start a waiting job now; false when it keeps waiting. */
static bool try_start(struct sim *m, struct sjob *j)
{
	struct sched_request req;
	struct sched_member mem;
	request_for(m, j, &req, &mem);
	for (int attempt = 0; attempt < 4; attempt++) {
		struct gerr err = { 0 };
		m->decisions++;
		int rc = sched_schedule(m->s, &req, (int64_t)m->now, &m->res, &err);
		if (rc) {
			never_fits(m, j, rc == GERR_INVALID ? "invalid" : gerr_name(rc), err.msg);
			return true;
		}
		if (m->res.decision == SCHED_WAIT) {
			if (m->res.wait == SCHED_WAIT_NEVER_FITS) {
				never_fits(m, j, sched_wait_name(m->res.wait), m->res.reason);
				return true;
			}
			return false;
		}
		if (m->res.decision == SCHED_PREEMPT) {
			for (size_t i = 0; i < m->res.nvictims; i++) {
				struct sjob *v = job_of_group(m, m->res.victims[i].group);
				if (v && v->state == J_RUNNING) {
					stop(m, v, false);
					m->preemptions++;
				}
			}
			continue;
		}
		if (sched_group_commit(m->s, &req, &m->res.bind, m->pods, (int64_t)m->now, &err)) {
			never_fits(m, j, "commit", err.msg);
			return true;
		}
		if (j->start < 0) {
			j->start = m->now;
			struct svc *v = &m->vcs[j->vcx];
			v->delays[v->ndelays++] = m->now - j->submit;
			v->started++;
		}
		j->state = J_RUNNING;
		j->end = m->now + j->duration;
		heap_push(m, j);
		return true;
	}
	return false;
}

static int cmp_queue(const void *a, const void *b, void *ctx)
{
	const struct sim *m = ctx;
	const struct sjob *x = &m->jobs[*(const size_t *)a], *y = &m->jobs[*(const size_t *)b];
	if (x->priority != y->priority)
		return y->priority - x->priority;
	if (x->submit != y->submit)
		return (x->submit > y->submit) - (x->submit < y->submit);
	return (x > y) - (x < y);
}

static void schedule_pass(struct sim *m)
{
	qsort_r(m->queue, m->nqueue, sizeof(*m->queue), cmp_queue, m);
	size_t w = 0, n = m->nqueue;
	for (size_t i = 0; i < n; i++) {
		struct sjob *j = &m->jobs[m->queue[i]];
		if (j->state == J_WAITING && !try_start(m, j))
			m->queue[w++] = m->queue[i];
	}
	/* jobs requeued by preemption during the pass were appended after n */
	for (size_t i = n; i < m->nqueue; i++)
		m->queue[w++] = m->queue[i];
	m->nqueue = w;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)ceil(p * (double)n) - 1;
	return v[i < n ? i : n - 1];
}

static void human_time(double s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
	else
		snprintf(buf, len, "%.0fh%02.0fm", floor(s / 3600), floor(fmod(s, 3600) / 60));
}

static int simulate(struct sim *m, double until)
{
	qsort(m->jobs, m->njobs, sizeof(*m->jobs), cmp_submit);
	int32_t maxpods = 1;
	for (size_t i = 0; i < m->njobs; i++) {
		struct sjob *j = &m->jobs[i];
		snprintf(j->group, sizeof(j->group), "sim-%zu", i);
		j->start = -1;
		if (j->instances > maxpods)
			maxpods = j->instances;
		/* its VC in the report */
		size_t v = 0;
		while (v < m->nvcs && strcmp(m->vcs[v].name, j->vc))
			v++;
		if (v == m->nvcs) {
			m->vcs[m->nvcs++] = (struct svc){ .name = j->vc };
		}
		j->vcx = (int)v;
		m->vcs[v].jobs++;
	}
	for (size_t v = 0; v < m->nvcs; v++)
		if (!(m->vcs[v].delays = arena_alloc(&m->arena, (m->vcs[v].jobs + 1) * sizeof(double))))
			return -1;
	m->pods = arena_alloc(&m->arena, (size_t)maxpods * sizeof(*m->pods));
	m->heap = calloc(m->njobs + 1, sizeof(*m->heap));
	m->queue = calloc(2 * m->njobs + 1, sizeof(*m->queue));
	if (!m->pods || !m->heap || !m->queue)
		return -1;
	for (int32_t p = 0; p < maxpods; p++)
		if (!(m->pods[p] = arena_printf(&m->arena, "pod-%d", p)))
			return -1;
	m->npods = maxpods;
	/* leaf cells per instance, as OpenPAI computes them */
	for (size_t i = 0; i < m->njobs; i++) {
		struct sjob *j = &m->jobs[i];
		struct gerr err = { 0 };
		int64_t n;
		if (sched_sku_count(m->s))
			n = sched_leaf_cells(m->s, j->sku, j->vc, j->priority < 0, j->gpu, j->cpu, j->memory, &err);
		else
			n = (int64_t)ceil(j->gpu);
		if (n < 0 || n == 0) {
			never_fits(m, j, "invalid", n < 0 ? err.msg : "asks for no resources (0 leaf cells)");
			continue;
		}
		j->leaves = (int32_t)n;
	}
	size_t next = 0;
	double last = m->njobs ? m->jobs[0].submit : 0;
	m->now = last;
	for (;;) {
		double t_arr = next < m->njobs ? m->jobs[next].submit : INFINITY;
		double t_end = m->nheap ? m->heap[0]->end : INFINITY;
		double t = fmin(t_arr, t_end);
		if (isinf(t) || t > until)
			break;
		m->busy_leaf_seconds += (double)sched_used_leaves(m->s) * (t - m->now);
		m->now = t;
		while (m->nheap && m->heap[0]->end <= t)
			stop(m, m->heap[0], true);
		while (next < m->njobs && m->jobs[next].submit <= t) {
			struct sjob *j = &m->jobs[next++];
			if (j->state == J_NEVER)
				continue;
			j->state = J_WAITING;
			m->queue[m->nqueue++] = (size_t)(j - m->jobs);
		}
		schedule_pass(m);
	}
	if (!isinf(until) && m->now < until && (next < m->njobs || m->nheap || m->nqueue)) {
		m->busy_leaf_seconds += (double)sched_used_leaves(m->s) * (until - m->now);
		m->now = until;
	}
	for (size_t i = 0; i < m->nheap; i++) {
		struct sjob *j = m->heap[i];
		double ran = m->now - (j->end - j->duration);
		m->vcs[j->vcx].gpu_seconds += (ran > 0 ? ran : 0) * j->gpu * j->instances;
		m->vcs[j->vcx].cell_seconds += (ran > 0 ? ran : 0) * j->leaves * j->instances;
	}
	for (size_t i = 0; i < m->nqueue; i++)
		m->vcs[m->jobs[m->queue[i]].vcx].waiting++;
	return 0;
}

static void report_text(struct sim *m, const char *config, const char *trace)
{
	double span = m->njobs ? m->now - m->jobs[0].submit : 0;
	char t[32];
	human_time(span, t, sizeof(t));
	printf("gantry sim run: %s + %s\n", config, trace);
	printf("  %zu jobs, %zu VCs in the trace; %lld leaf cells (%.0f GPUs); simulated %s\n\n", m->njobs, m->nvcs,
	       (long long)m->total_leaves, m->total_gpus, t);
	bool gpus = m->total_gpus > 0;
	printf("  %-16s %6s %7s %6s %7s %10s %10s %9s %10s\n", "VC", "jobs", "started", "never", "waiting",
	       "wait p50", "wait p95", "preempted", gpus ? "GPU-hours" : "cell-hours");
	size_t tj = 0, ts = 0, tn = 0, tw = 0, tp = 0;
	double tg = 0;
	for (size_t v = 0; v < m->nvcs; v++) {
		struct svc *c = &m->vcs[v];
		char p50[32], p95[32];
		qsort(c->delays, c->ndelays, sizeof(double), cmp_d);
		human_time(pct(c->delays, c->ndelays, 0.50), p50, sizeof(p50));
		human_time(pct(c->delays, c->ndelays, 0.95), p95, sizeof(p95));
		double hours = (gpus ? c->gpu_seconds : c->cell_seconds) / 3600;
		printf("  %-16s %6zu %7zu %6zu %7zu %10s %10s %9zu %10.1f\n", c->name, c->jobs, c->started, c->never,
		       c->waiting, c->ndelays ? p50 : "-", c->ndelays ? p95 : "-", c->preempted, hours);
		tj += c->jobs;
		ts += c->started;
		tn += c->never;
		tw += c->waiting;
		tp += c->preempted;
		tg += hours;
	}
	printf("  %-16s %6zu %7zu %6zu %7zu %10s %10s %9zu %10.1f\n\n", "total", tj, ts, tn, tw, "", "", tp, tg);
	double leaf_util = span > 0 && m->total_leaves ? m->busy_leaf_seconds / ((double)m->total_leaves * span) : 0;
	if (m->total_gpus > 0)
		printf("  GPU utilization: %.1f%% of %.0f GPUs over %s\n", leaf_util * 100, m->total_gpus, t);
	else
		printf("  leaf cell utilization: %.1f%% of %lld leaf cells over %s\n", leaf_util * 100,
		       (long long)m->total_leaves, t);
	printf("  preemptions: %zu (jobs stopped for higher-priority jobs and requeued)\n", m->preemptions);
	printf("  scheduling decisions: %zu\n", m->decisions);
	if (tn) {
		printf("\n  jobs that could never fit (%zu):\n", tn);
		for (size_t i = 0; i < m->njobs; i++) {
			struct sjob *j = &m->jobs[i];
			if (j->state == J_NEVER)
				printf("    %s (VC %s, %d × %g GPUs): %s\n", j->name, j->vc, j->instances, j->gpu, j->reason);
		}
	}
	if (tw)
		printf("\n  %zu jobs were still waiting at the end of the simulation.\n", tw);
}

static int report_json(struct sim *m, const char *config, const char *trace)
{
	double span = m->njobs ? m->now - m->jobs[0].submit : 0;
	double leaf_util = span > 0 && m->total_leaves ? m->busy_leaf_seconds / ((double)m->total_leaves * span) : 0;
	json_t *o = json_object(), *vcs = json_array(), *never = json_array();
	for (size_t v = 0; v < m->nvcs; v++) {
		struct svc *c = &m->vcs[v];
		qsort(c->delays, c->ndelays, sizeof(double), cmp_d);
		double sum = 0;
		for (size_t i = 0; i < c->ndelays; i++)
			sum += c->delays[i];
		json_array_append_new(
			vcs, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:{s:f, s:f, s:f}, s:I, s:f, s:f}", "name", c->name, "jobs",
			               (json_int_t)c->jobs, "started", (json_int_t)c->started, "finished",
			               (json_int_t)c->finished, "never_fit", (json_int_t)c->never, "still_waiting",
			               (json_int_t)c->waiting, "queue_delay_s", "p50", pct(c->delays, c->ndelays, 0.5), "p95",
			               pct(c->delays, c->ndelays, 0.95), "mean", c->ndelays ? sum / (double)c->ndelays : 0.0,
			               "preempted", (json_int_t)c->preempted, "gpu_hours", c->gpu_seconds / 3600,
			               "cell_hours", c->cell_seconds / 3600));
	}
	for (size_t i = 0; i < m->njobs; i++) {
		struct sjob *j = &m->jobs[i];
		if (j->state == J_NEVER)
			json_array_append_new(never, json_pack("{s:s, s:s, s:i, s:f, s:s, s:s}", "name", j->name, "vc", j->vc,
			                                       "instances", j->instances, "gpu", j->gpu, "code", j->code,
			                                       "reason", j->reason));
	}
	json_object_set_new(o, "config", json_string(config));
	json_object_set_new(o, "trace", json_string(trace));
	json_object_set_new(o, "jobs", json_integer((json_int_t)m->njobs));
	json_object_set_new(o, "simulated_s", json_real(span));
	json_object_set_new(o, "leaf_cells", json_integer(m->total_leaves));
	json_object_set_new(o, "gpus", json_real(m->total_gpus));
	json_object_set_new(o, "utilization", json_real(leaf_util));
	json_object_set_new(o, "preemptions", json_integer((json_int_t)m->preemptions));
	json_object_set_new(o, "decisions", json_integer((json_int_t)m->decisions));
	json_object_set_new(o, "vcs", vcs);
	json_object_set_new(o, "never_fit", never);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -1;
	puts(s);
	free(s);
	return 0;
}

int cli_sim_run(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *config = NULL, *trace = NULL;
	bool json = false;
	double until = INFINITY;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--config") || !strcmp(a, "--trace") || !strcmp(a, "--until")) {
			if (i + 1 >= argc)
				return cli_usage_error(cmd, "option '%s' needs a value", a);
			const char *v = argv[++i];
			if (a[2] == 'c')
				config = v;
			else if (a[2] == 't')
				trace = v;
			else {
				char *end;
				until = strtod(v, &end);
				if (*end || !(until >= 0))
					return cli_usage_error(cmd, "--until: '%s' is not a number of seconds", v);
			}
		} else if (!strncmp(a, "--config=", 9)) {
			config = a + 9;
		} else if (!strncmp(a, "--trace=", 8)) {
			trace = a + 8;
		} else {
			return cli_usage_error(cmd, a[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", a);
		}
	}
	if (!config || !trace)
		return cli_usage_error(cmd, "both --config and --trace are required");

	struct sim m = { 0 };
	struct buf text = BUF_INIT, ttext = BUF_INIT;
	char err[512];
	int rc = CLI_FAIL;
	arena_init(&m.arena, 1 << 14);
	sched_result_init(&m.res);
	if (slurp(config, &text, err, sizeof(err)) < 0) {
		fprintf(stderr, "gantry sim run: %s: %s\n", config, err);
		goto out;
	}
	struct gerr gerr = { 0 };
	m.s = sched_new(buf_str(&text), text.len, &gerr);
	if (!m.s) {
		fprintf(stderr, "gantry sim run: %s: %s\n", config, gerr.msg);
		goto out;
	}
	sched_nodes_set_healthy(m.s);
	if (slurp(trace, &ttext, err, sizeof(err)) < 0) {
		fprintf(stderr, "gantry sim run: %s: %s\n", trace, err);
		goto out;
	}
	if (load_trace(&m, trace, ttext.data ? ttext.data : (char *)"", err, sizeof(err)) < 0) {
		fprintf(stderr, "gantry sim run: %s\n", err);
		goto out;
	}
	m.vcs = arena_zalloc(&m.arena, (m.njobs + 1) * sizeof(*m.vcs));
	m.total_leaves = sched_total_leaves(m.s);
	for (size_t c = 0; c < sched_chain_count(m.s); c++) {
		const struct sched_sku *k = sched_sku_find(m.s, sched_chain_leaf_type(m.s, c));
		double per = k ? k->gpu : sched_sku_count(m.s) ? 0 : 1;
		m.total_gpus += per * sched_chain_leaves(m.s, c);
	}
	if (!m.vcs || simulate(&m, until) < 0) {
		fprintf(stderr, "gantry sim run: out of memory\n");
		goto out;
	}
	if (json ? report_json(&m, config, trace) < 0 : (report_text(&m, config, trace), 0)) {
		fprintf(stderr, "gantry sim run: out of memory\n");
		goto out;
	}
	rc = CLI_OK;
out:
	buf_fini(&text);
	buf_fini(&ttext);
	sched_result_fini(&m.res);
	sched_free(m.s);
	free(m.jobs);
	free(m.heap);
	free(m.queue);
	arena_fini(&m.arena);
	return rc;
}
