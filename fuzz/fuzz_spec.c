/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the whole job protocol pipeline (YAML reader, schema,
 * checks, templates, hived checks with a cluster, JSON output, secret
 * masking). Built and run by `make fuzz` (scripts/fuzz.sh).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

static const struct spec_sku skus[] = { { "K80", 1, 4, 8192 }, { "CPU", 0, 16, 65536 } };

static bool vc_lookup(void *ctx, const char *vc, const char ***names, size_t *n, int64_t *quota)
{
	static const char *k80[] = { "K80" };
	(void)ctx;
	if (strcmp(vc, "default"))
		return false;
	*names = k80;
	*n = 1;
	*quota = 16;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spec_job *job;
	static const struct spec_cluster cluster = { skus, 2, vc_lookup, NULL };
	const struct spec_opts opts = { "fuzz", size % 2 ? &cluster : NULL };

	if (!job)
		job = spec_job_new();
	if (spec_job_load(job, (const char *)data, size, &opts) == 0) {
		json_t *o = spec_job_to_json(job);
		char *s = json_dumps(o, 0);
		free(s);
		json_decref(o);
		(void)spec_job_masked_config(job);
	}
	return 0;
}
