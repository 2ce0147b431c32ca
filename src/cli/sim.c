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

static __attribute__((unused)) int slurp(const char *path, struct buf *b, char *err, size_t errlen)
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

int cli_sim_run(const struct cli_cmd *cmd, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error(cmd, "not yet");
}
