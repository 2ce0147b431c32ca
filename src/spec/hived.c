/* SPDX-License-Identifier: MIT */
/*
 * hived.c — rest-server's hived middleware: the checks on
 * extras.hivedScheduler, the leaf cell number of each task role, and the
 * affinity groups that make a job a gang.
 *
 * Order and messages follow rest-server (middlewares/v2/hived.js):
 *   1. per task role, the leaf cell size: a role asking for GPU (CPU, memory)
 *      where the SKU has none is refused; leafCellNumber =
 *      max(ceil(gpu/sku.gpu), ceil(cpu/sku.cpu), ceil(mem/sku.memory));
 *   2. per hivedScheduler.taskRoles entry: the role exists; not both skuType
 *      and pinnedCellId; a known SKU, allowed in the VC unless opportunistic;
 *      one skuType/pinnedCellId per affinity group;
 *   3. a gang job without explicit groups gets one group of every role;
 *   4. a gang, non-opportunistic job may not ask for more leaf cells than its
 *      virtual cluster holds.
 * Steps 1 and the SKU/quota parts of 2 and 4 need the cluster; without one
 * they are skipped and leaf cell numbers stay -1.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "spec/internal.h"

int spec_priority_of(const char *pc)
{
	if (!pc || !strcmp(pc, "test"))
		return 10;
	if (!strcmp(pc, "prod"))
		return 100;
	if (!strcmp(pc, "oppo"))
		return -1;
	if (!strcmp(pc, "crit"))
		return 120;
	return 10;
}

static const char *opt_str(const struct spec_value *v)
{
	return v && v->type == SPEC_STRING ? v->str : NULL;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static const struct spec_sku *find_sku(const struct spec_cluster *c, const char *name)
{
	for (size_t i = 0; i < c->nskus; i++)
		if (!strcmp(c->skus[i].name, name))
			return &c->skus[i];
	return NULL;
}

static double num_or(const struct spec_value *v, double dflt)
{
	return v && v->type == SPEC_NUMBER ? v->num : dflt;
}

struct group {
	const char *name;
	const char *sku, *pin;
};

int spec__hived_check(struct spec_job *job, const struct spec_opts *opts)
{
	const struct spec_value *hc = spec_value_get(job->extras, "hivedScheduler");
	const struct spec_cluster *cl = opts ? opts->cluster : NULL;
	const char *user = opts && opts->user ? opts->user : "";
	bool oppo = job->priority < 0;
	int rc;

	/* the VC's SKUs (cellUnits) and guaranteed leaf cells (cellQuota) */
	const char **vc_skus = NULL;
	size_t nvc_skus = 0;
	int64_t quota = INT64_MAX;
	bool vc_known = false;
	if (cl && cl->vc_lookup)
		vc_known = cl->vc_lookup(cl->ctx, job->virtual_cluster, &vc_skus, &nvc_skus, &quota);
	if (!vc_known)
		quota = INT64_MAX;

	/* 1: leaf cells per role */
	for (size_t i = 0; i < job->nroles && cl; i++) {
		struct spec_role *r = &job->roles[i];
		const struct spec_sku *sku = r->sku_type ? find_sku(cl, r->sku_type) : NULL;
		double per[3];   /* gpu, cpu, memory of one leaf cell */
		if (r->sku_type) {
			/* unknown names are refused in step 2; rest-server would crash first */
			if (!sku)
				continue;
			per[0] = sku->gpu;
			per[1] = sku->cpu;
			per[2] = sku->memory_mb;
		} else {
			per[0] = per[1] = per[2] = INFINITY;
			for (size_t k = 0; k < cl->nskus; k++) {
				const struct spec_sku *s = &cl->skus[k];
				bool in_vc = !vc_known || oppo;
				for (size_t j = 0; j < nvc_skus && !in_vc; j++)
					in_vc = !strcmp(vc_skus[j], s->name);
				if (!in_vc)
					continue;
				per[0] = fmin(per[0], s->gpu);
				per[1] = fmin(per[1], s->cpu);
				per[2] = fmin(per[2], s->memory_mb);
			}
		}
		const struct spec_value *res = spec_value_get(r->raw, "resourcePerInstance");
		double gpu = num_or(spec_value_get(res, "gpu"), 0);
		double cpu = num_or(spec_value_get(res, "cpu"), 0);
		double mem = num_or(spec_value_get(res, "memoryMB"), 0);
		const char *what = NULL;
		double asked = 0;
		if (per[0] == 0 && gpu > 0)
			what = "GPU", asked = gpu;
		else if (per[1] == 0 && cpu > 0)
			what = "CPU", asked = cpu;
		else if (per[2] == 0 && mem > 0)
			what = "memory", asked = mem;
		if (what) {
			struct buf b = BUF_INIT;
			spec__js_number(&b, asked);
			rc = spec__error_at(job, res,
			                    "Taskrole %s requests %s %s, but SKU does not configure %s. "
			                    "Please contact admin if the taskrole needs %s resources.",
			                    r->name, buf_str(&b), what, what, what);
			buf_fini(&b);
			return rc;
		}
		double n = 0;
		if (gpu != 0)
			n = fmax(n, ceil(gpu / per[0]));
		if (cpu != 0)
			n = fmax(n, ceil(cpu / per[1]));
		if (mem != 0)
			n = fmax(n, ceil(mem / per[2]));
		r->leaf_cell_number = isnan(n) ? 0 : spec__to_int64(n);
	}

	/* 2: hivedScheduler.taskRoles */
	struct group *groups = NULL;
	size_t ngroups = 0;
	const struct spec_value *hroles = spec_value_get(hc, "taskRoles");
	if (hroles && (hroles->type == SPEC_ARRAY || hroles->type == SPEC_STRING) &&
	    (hroles->n || hroles->len)) {
		/* Object.keys() of a list or string: "0" names no task role */
		return spec__error_at(job, hroles, "Taskrole 0 does not exist.");
	}
	if (hroles && hroles->type == SPEC_OBJECT) {
		groups = arena_alloc(&job->arena, (hroles->n + 1) * sizeof(*groups));
		if (!groups)
			return GERR_NOMEM;
		for (size_t i = 0; i < hroles->n; i++) {
			const struct spec_member *m = &hroles->members[i];
			struct spec_role *r = NULL;
			for (size_t k = 0; k < job->nroles && !r; k++)
				if (!strcmp(job->roles[k].name, m->key))
					r = &job->roles[k];
			if (!r) {
				struct spec_value at = { .line = m->line, .col = m->col };
				return spec__error_at(job, &at, "Taskrole %s does not exist.", m->key);
			}
			const char *sku = r->sku_type, *pin = r->pinned_cell_id;
			if (sku && pin)
				return spec__error_at(job, m->val,
				                      "Taskrole %s has both skuType and pinnedCellId, only one is allowed.",
				                      r->name);
			if (sku && cl) {
				if (!find_sku(cl, sku)) {
					struct buf b = BUF_INIT;
					for (size_t k = 0; k < cl->nskus; k++)
						buf_printf(&b, "%s%s", k ? "," : "", cl->skus[k].name);
					rc = spec__error_at(job, spec_value_get(m->val, "skuType"),
					                    "Taskrole %s has unknown skuType %s, allow %s.",
					                    r->name, sku, buf_str(&b));
					buf_fini(&b);
					return rc;
				}
				bool allowed = oppo || !vc_known;
				for (size_t j = 0; j < nvc_skus && !allowed; j++)
					allowed = !strcmp(vc_skus[j], sku);
				if (!allowed) {
					struct buf b = BUF_INIT;
					size_t shown = 0;
					for (size_t j = 0; j < nvc_skus; j++)
						if (find_sku(cl, vc_skus[j]))
							buf_printf(&b, "%s%s", shown++ ? "," : "", vc_skus[j]);
					rc = spec__error_at(job, spec_value_get(m->val, "skuType"),
					                    "Taskrole %s has skuType %s, VC %s only allows %s.",
					                    r->name, sku, job->virtual_cluster, buf_str(&b));
					buf_fini(&b);
					return rc;
				}
			}
			const char *g = opt_str(spec_value_get(m->val, "affinityGroupName"));
			if (!g)
				continue;
			struct group *found = NULL;
			for (size_t k = 0; k < ngroups && !found; k++)
				if (!strcmp(groups[k].name, g))
					found = &groups[k];
			if (found) {
				if (!same(found->sku, sku) || !same(found->pin, pin))
					return spec__error_at(job, spec_value_get(m->val, "affinityGroupName"),
					                      "AffinityGroup %s has inconsistent skuType or pinnedCellId.", g);
			} else {
				groups[ngroups++] = (struct group){ g, sku, pin };
			}
			r->affinity_group = arena_printf(&job->arena, "%s~%s/%s", user, job->name, g);
			if (!r->affinity_group)
				return GERR_NOMEM;
		}
	}

	/* 3: a gang job without groups is one group */
	if (ngroups == 0 && job->gang) {
		const char *dflt = arena_printf(&job->arena, "%s~%s/default", user, job->name);
		if (!dflt)
			return GERR_NOMEM;
		for (size_t i = 0; i < job->nroles; i++)
			job->roles[i].affinity_group = dflt;
	}

	/* 4: quota */
	if (cl && job->gang && !oppo && quota != INT64_MAX) {
		double cells = 0;
		for (size_t i = 0; i < job->nroles; i++)
			cells += (double)job->roles[i].instances * (double)job->roles[i].leaf_cell_number;
		if (cells > (double)quota) {
			struct buf b = BUF_INIT;
			spec__js_number(&b, cells);
			rc = spec__error(job, 0, 0, "Job requests %s SKUs, exceeds maximum %lld SKUs in VC %s.",
			                 buf_str(&b), (long long)quota, job->virtual_cluster);
			buf_fini(&b);
			return rc;
		}
	}
	return 0;
}
