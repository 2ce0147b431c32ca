/* SPDX-License-Identifier: MIT */
/*
 * spec.c — the pipeline, in rest-server's order:
 *
 *   yaml.safeLoad → ajv(protocol schema) → prerequisite/deployment checks →
 *   render (docker auth, commands) → hived schema → hived checks
 *
 * Schema errors are all reported; every later stage stops at its first
 * error, because rest-server throws there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/internal.h"

struct spec_job *spec_job_new(void)
{
	struct spec_job *job = calloc(1, sizeof(*job));
	if (!job)
		return NULL;
	arena_init(&job->arena, 16384);
	return job;
}

void spec_job_free(struct spec_job *job)
{
	if (!job)
		return;
	arena_fini(&job->arena);
	free(job);
}

static void reset(struct spec_job *job)
{
	struct arena a = job->arena;
	arena_reset(&a);
	memset(job, 0, sizeof(*job));
	job->arena = a;
}

static int add_diag(struct spec_job *job, bool warning, unsigned line, unsigned col,
                    const char *fmt, va_list ap)
{
	struct spec_diag **list = warning ? &job->warnings : &job->diags;
	size_t *n = warning ? &job->nwarnings : &job->ndiags;
	size_t *cap = warning ? &job->nwarnings_cap : &job->ndiags_cap;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct spec_diag *d = arena_alloc(&job->arena, ncap * sizeof(*d));
		if (!d)
			return GERR_NOMEM;
		if (*n)
			memcpy(d, *list, *n * sizeof(*d));
		*list = d;
		*cap = ncap;
	}
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int len = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (len < 0)
		return GERR_NOMEM;
	char *msg = arena_alloc(&job->arena, (size_t)len + 1);
	if (!msg)
		return GERR_NOMEM;
	if ((size_t)len < sizeof(small))
		memcpy(msg, small, (size_t)len + 1);
	else
		vsnprintf(msg, (size_t)len + 1, fmt, ap);
	(*list)[(*n)++] = (struct spec_diag){ line, col, msg };
	return warning ? 0 : GERR_PROTOCOL;
}

int spec__error(struct spec_job *job, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = add_diag(job, false, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int spec__error_at(struct spec_job *job, const struct spec_value *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = add_diag(job, false, v ? v->line : 0, v ? v->col : 0, fmt, ap);
	va_end(ap);
	return rc;
}

int spec__warn(struct spec_job *job, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = add_diag(job, true, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

void spec__drop_errors(struct spec_job *job, size_t n)
{
	if (n < job->ndiags)
		job->ndiags = n;
}

int spec_yaml_load(struct spec_job *job, const char *text, size_t len)
{
	reset(job);
	/* js-yaml drops one leading byte-order mark. libyaml, told the input is
	 * UTF-8, would read it as a character of line 1 (whose keys then sit one
	 * column right of the next line's) and refuse the file. Dropping it here
	 * keeps every line:column where js-yaml puts it, and the byte offsets
	 * (secrets masking) consistent with what libyaml counts. */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	char *copy = arena_strndup(&job->arena, text, len);
	if (!copy)
		return GERR_NOMEM;
	job->text = copy;
	job->text_len = len;
	job->secrets_start = job->secrets_end = SIZE_MAX;
	return spec__yaml_load(job);
}

int spec_job_load(struct spec_job *job, const char *text, size_t len, const struct spec_opts *opts)
{
	struct spec__refs *refs = NULL;
	int rc;

	if (len > SPEC_MAX_BYTES) {
		reset(job);
		spec__error(job, 0, 0, "the job file is %zu bytes; the limit is %u bytes (1 MiB)",
		            len, SPEC_MAX_BYTES);
		return GERR_TOO_LARGE;
	}
	if ((rc = spec_yaml_load(job, text, len)))
		return rc;
	if ((rc = spec__schema_check(job, job->root)))
		return rc;
	if ((rc = spec__semantic_check(job, &refs)))
		return rc;
	if ((rc = spec__normalize(job, refs)))
		return rc;
	if ((rc = spec__hived_schema_check(job, job->root)))
		return rc;
	return spec__hived_check(job, opts);
}

const char *spec_job_masked_config(struct spec_job *job)
{
	if (!job->text)
		return NULL;
	if (job->secrets_start == SIZE_MAX || job->secrets_end < job->secrets_start ||
	    job->secrets_end > job->text_len)
		return job->text;
	size_t head = job->secrets_start, tail = job->text_len - job->secrets_end;
	char *out = arena_alloc(&job->arena, head + sizeof("'" SPEC_SECRET_MASK "'") + tail);
	if (!out)
		return NULL;
	memcpy(out, job->text, head);
	memcpy(out + head, "'" SPEC_SECRET_MASK "'", sizeof("'" SPEC_SECRET_MASK "'") - 1);
	memcpy(out + head + sizeof("'" SPEC_SECRET_MASK "'") - 1, job->text + job->secrets_end, tail);
	out[head + sizeof("'" SPEC_SECRET_MASK "'") - 1 + tail] = '\0';
	return out;
}
