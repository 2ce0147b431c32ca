/* SPDX-License-Identifier: MIT */
/*
 * sku.c — OpenPAI's SKU types: what one leaf cell holds (gpu, cpu, memory),
 * and how many leaf cells a task instance needs. rest-server computes
 * max(ceil(gpu/sku.gpu), ceil(cpu/sku.cpu), ceil(mem/sku.memory)) per role
 * (src/spec/hived.c does it for job validation); the server and the
 * simulator ask here. A leaf cell may be a CPU SKU (gpu 0), so CPU-only
 * clusters work the same way.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "sched/internal.h"
#include "spec/spec.h"

size_t sched_sku_count(const struct sched *s)
{
	return s->nskus;
}

const struct sched_sku *sched_sku_get(const struct sched *s, size_t i)
{
	return i < s->nskus ? &s->skus[i] : NULL;
}

const struct sched_sku *sched_sku_find(const struct sched *s, const char *name)
{
	for (uint32_t i = 0; name && i < s->nskus; i++)
		if (!strcmp(s->skus[i].name, name))
			return &s->skus[i];
	return NULL;
}

/* Does the VC have cells (pinned or not) whose leaves are this SKU? */
static bool vc_uses(const struct sched *s, const struct sched__vc *vc, const char *sku)
{
	for (uint32_t c = 0; c < s->nchains; c++)
		if (vc->chains[c].present && !strcmp(s->chains[c].leaf_type, sku))
			return true;
	return false;
}

int64_t sched_leaf_cells(const struct sched *s, const char *sku, const char *vcname, bool opportunistic,
                         double gpu, double cpu, double memory_mb, struct gerr *err)
{
	double per[3];
	if (sku && *sku) {
		const struct sched_sku *k = sched_sku_find(s, sku);
		if (!k)
			return gerr_set(err, GERR_INVALID, "unknown SKU type %s", sku);
		per[0] = k->gpu;
		per[1] = k->cpu;
		per[2] = k->memory_mb;
	} else {
		const struct sched__vc *vc = vcname && !opportunistic ? sched__vc_find(s, vcname) : NULL;
		per[0] = per[1] = per[2] = INFINITY;
		for (uint32_t i = 0; i < s->nskus; i++) {
			const struct sched_sku *k = &s->skus[i];
			if (vc && !vc_uses(s, vc, k->name))
				continue;
			per[0] = fmin(per[0], k->gpu);
			per[1] = fmin(per[1], k->cpu);
			per[2] = fmin(per[2], k->memory_mb);
		}
		if (isinf(per[0]) && isinf(per[1]) && isinf(per[2]))
			return gerr_set(err, GERR_INVALID, "no SKU types are configured%s%s", vc ? " for VC " : "",
			                vc ? vc->name : "");
	}
	static const char *const what[] = { "GPU", "CPU", "memory" };
	double asked[3] = { gpu, cpu, memory_mb };
	double n = 0;
	for (int i = 0; i < 3; i++) {
		if (asked[i] < 0 || isnan(asked[i]))
			return gerr_set(err, GERR_INVALID, "%s must be >= 0", what[i]);
		if (asked[i] == 0)
			continue;
		if (per[i] == 0)
			return gerr_set(err, GERR_INVALID, "asks for %g %s, but the SKU has no %s", asked[i], what[i],
			                what[i]);
		n = fmax(n, ceil(asked[i] / per[i]));
	}
	return n > 1e9 ? gerr_set(err, GERR_INVALID, "asks for too many leaf cells") : (int64_t)n;
}

static bool vc_lookup(void *ctx, const char *vcname, const char ***names, size_t *n, int64_t *quota)
{
	struct sched *s = ctx;
	struct sched__vc *vc = sched__vc_find(s, vcname);
	if (!vc)
		return false;
	const char **v = arena_alloc(&s->scratch, (s->nchains ? s->nchains : 1) * sizeof(*v));
	size_t k = 0;
	for (uint32_t c = 0; v && c < s->nchains; c++) {
		if (!vc->chains[c].present)
			continue;
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = !strcmp(v[j], s->chains[c].leaf_type);
		if (!dup)
			v[k++] = s->chains[c].leaf_type;
	}
	*names = v;
	*n = k;
	*quota = vc->quota_leaves;
	return true;
}

_Static_assert(sizeof(struct sched_sku) == sizeof(struct spec_sku) &&
	               offsetof(struct sched_sku, gpu) == offsetof(struct spec_sku, gpu) &&
	               offsetof(struct sched_sku, memory_mb) == offsetof(struct spec_sku, memory_mb),
               "struct sched_sku must match struct spec_sku");

void sched_spec_cluster(struct sched *s, struct spec_cluster *out)
{
	/* struct sched_sku and struct spec_sku have the same layout (checked above) */
	out->skus = (const struct spec_sku *)(const void *)s->skus;
	out->nskus = s->nskus;
	out->vc_lookup = vc_lookup;
	out->ctx = s;
}
