/* SPDX-License-Identifier: MIT */
/*
 * bind.c — a gang's placement (HiveD's bind info) to JSON and back, for the
 * placements table: what the scheduler decided must survive a restart.
 *
 *   {"node": "n1", "leaves": [0, 1], "chain": "DGX", "members": [
 *      {"leafCells": 2, "pods": [{"node": "n1", "leaves": [0, 1],
 *                                 "preassigned": ["DGX-NODE", "DGX-NODE"]}]}],
 *    "podNames": ["worker-0"]}
 */
#include <jansson.h>
#include <string.h>

#include "server/bind.h"

static json_t *leaves_json(const int32_t *l, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(l[i]));
	return a;
}

char *bind_to_json(const struct sched_bind_info *b, const char *const *pods_names, size_t npods)
{
	json_t *names = json_array();
	for (size_t i = 0; names && i < npods; i++)
		json_array_append_new(names, json_string(pods_names[i]));
	json_t *members = json_array();
	for (size_t m = 0; members && m < b->nmembers; m++) {
		const struct sched_member_placement *mp = &b->members[m];
		json_t *pods = json_array();
		for (size_t p = 0; pods && p < mp->npods; p++) {
			const struct sched_pod_placement *pp = &mp->pods[p];
			json_t *pre = json_array();
			for (int32_t k = 0; pre && k < mp->leaf_cells; k++)
				json_array_append_new(pre, json_string(pp->preassigned && pp->preassigned[k]
				                                       ? pp->preassigned[k] : ""));
			json_array_append_new(pods, json_pack("{s:s, s:o, s:o}", "node", pp->node ? pp->node : "",
			                                      "leaves", leaves_json(pp->leaves, (size_t)mp->leaf_cells),
			                                      "preassigned", pre));
		}
		json_array_append_new(members, json_pack("{s:i, s:o}", "leafCells", mp->leaf_cells, "pods", pods));
	}
	json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:o}", "node", b->node ? b->node : "", "leaves",
	                      leaves_json(b->leaves, b->nleaves), "chain", b->chain ? b->chain : "",
	                      "members", members, "podNames", names);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

static int32_t *leaves_of(struct arena *a, json_t *arr, size_t *n)
{
	size_t k = json_array_size(arr);
	int32_t *l = arena_alloc(a, (k ? k : 1) * sizeof(*l));
	if (!l)
		return NULL;
	for (size_t i = 0; i < k; i++) {
		json_t *v = json_array_get(arr, i);
		if (!json_is_integer(v))
			return NULL;
		l[i] = (int32_t)json_integer_value(v);
	}
	*n = k;
	return l;
}

struct sched_bind_info *bind_from_json(struct arena *a, const char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	struct sched_bind_info *b = o ? arena_zalloc(a, sizeof(*b)) : NULL;
	json_t *members = json_object_get(o, "members");
	size_t n;
	if (!b || !json_is_array(members))
		goto fail;
	b->node = arena_strdup(a, json_string_value(json_object_get(o, "node")) ?: "");
	b->chain = arena_strdup(a, json_string_value(json_object_get(o, "chain")) ?: "");
	b->leaves = leaves_of(a, json_object_get(o, "leaves"), &b->nleaves);
	struct sched_member_placement *mps = arena_zalloc(a, (json_array_size(members) + 1) * sizeof(*mps));
	if (!b->node || !b->chain || !b->leaves || !mps)
		goto fail;
	for (size_t m = 0; m < json_array_size(members); m++) {
		json_t *mj = json_array_get(members, m);
		json_t *pods = json_object_get(mj, "pods");
		struct sched_member_placement *mp = &mps[m];
		mp->leaf_cells = (int32_t)json_integer_value(json_object_get(mj, "leafCells"));
		mp->npods = json_array_size(pods);
		mp->pods = arena_zalloc(a, (mp->npods + 1) * sizeof(*mp->pods));
		if (!mp->pods)
			goto fail;
		for (size_t p = 0; p < mp->npods; p++) {
			json_t *pj = json_array_get(pods, p);
			struct sched_pod_placement *pp = &mp->pods[p];
			json_t *pre = json_object_get(pj, "preassigned");
			pp->node = arena_strdup(a, json_string_value(json_object_get(pj, "node")) ?: "");
			pp->leaves = leaves_of(a, json_object_get(pj, "leaves"), &n);
			pp->preassigned = arena_zalloc(a, (json_array_size(pre) + 1) * sizeof(char *));
			if (!pp->node || !pp->leaves || !pp->preassigned || (int32_t)n != mp->leaf_cells)
				goto fail;
			for (size_t k = 0; k < json_array_size(pre); k++)
				pp->preassigned[k] = arena_strdup(a, json_string_value(json_array_get(pre, k)) ?: "");
		}
	}
	b->members = mps;
	b->nmembers = json_array_size(members);
	json_decref(o);
	return b;
fail:
	json_decref(o);
	return NULL;
}
