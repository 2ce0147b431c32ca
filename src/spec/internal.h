/* SPDX-License-Identifier: MIT */
/*
 * spec/internal.h — the seam between spec's files.
 *
 * Pipeline (spec.c drives it, in OpenPAI's order):
 *   yaml.c      text → value tree, with js-yaml's scalar and key semantics
 *   schema.c    the ajv schema rest-server enforces, errors in ajv's order
 *   check.c     prerequisite / deployment / reference checks (first error wins)
 *   template.c  `<% %>` rendering as rest-server's mustache subset does it
 *   hived.c     hived schema and checks, leaf cell numbers, affinity groups
 *   normalize.c the C model: roles, completion, retry, ports, plugins, storages
 *   value.c     value helpers with JavaScript semantics (String(), keys, trim)
 */
#ifndef GANTRY_SPEC_INTERNAL_H
#define GANTRY_SPEC_INTERNAL_H

#include <stdarg.h>

#include "base/buf.h"
#include "base/gerr.h"
#include "spec/spec.h"

/* ---- diagnostics --------------------------------------------------------- */

/* Append an error / warning (formatted into the job's arena). Returns
 * GERR_PROTOCOL, or GERR_NOMEM when the message could not be stored. */
int spec__error(struct spec_job *job, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int spec__warn(struct spec_job *job, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Forget the diagnostics after the first n (ajv's oneOf drops the errors of
 * failing branches when one branch passes). */
void spec__drop_errors(struct spec_job *job, size_t n);
/* Error at the position of v (v may be NULL). */
int spec__error_at(struct spec_job *job, const struct spec_value *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- yaml.c -------------------------------------------------------------- */

/* Parse job->text into job->root. GERR_PROTOCOL with one diagnostic on a
 * syntax error, GERR_TOO_LARGE past a limit, GERR_NOMEM. Records the byte
 * span of the top-level `secrets` value in job->secrets_start/end. */
int spec__yaml_load(struct spec_job *job);

/* ---- scalar.c: js-yaml's scalar types ------------------------------------- */

bool spec__yaml_is_int(const char *s, size_t n);
double spec__yaml_int(const char *s, size_t n);        /* of a spec__yaml_is_int text */
bool spec__yaml_is_float(const char *s, size_t n);
double spec__yaml_float(const char *s, size_t n);      /* of a spec__yaml_is_float text */
bool spec__yaml_timestamp(const char *s, size_t n, double *ms);
bool spec__yaml_binary(struct arena *a, const char *s, size_t n, const char **out, size_t *outlen);
/* The value of the quoted scalar whose source text starts at src[0] (the
 * quote), folded as js-yaml folds it: unlike the YAML spec (and libyaml),
 * js-yaml keeps the spaces before a line break. Returns 0, or -1 when the
 * text is not a complete quoted scalar (the caller keeps libyaml's value). */
int spec__yaml_quoted(struct buf *out, const char *src, size_t len);

/* ---- schema.c ------------------------------------------------------------ */

/* Validate against rest-server's protocol schema; every error, ajv order. */
int spec__schema_check(struct spec_job *job, const struct spec_value *root);
/* Validate against rest-server's hived schema (run after rendering). */
int spec__hived_schema_check(struct spec_job *job, const struct spec_value *root);

/* ---- check.c ------------------------------------------------------------- */

struct spec__refs;   /* prerequisite and deployment maps, built by check.c */

int spec__semantic_check(struct spec_job *job, struct spec__refs **refs);
const struct spec_value *spec__prereq_item(const struct spec__refs *r, enum spec_prereq_type t,
                                           const char *name);
const struct spec_value *spec__default_deployment(const struct spec__refs *r);

/* ---- template.c ---------------------------------------------------------- */

struct spec__tctx {
	const struct spec_value *parameters;  /* $parameters, or NULL */
	const struct spec_value *secrets;     /* $secrets, or NULL (commands never get it) */
	const struct spec_value *script, *output, *data;
};

/* Render template[0..len) into out. Returns 0, or GERR_PROTOCOL with a
 * message in err (mustache's own: "Unclosed tag at 12"). *used_secret is set
 * when a $secrets value was substituted. */
int spec__render(const char *tmpl, size_t len, const struct spec__tctx *ctx, struct buf *out,
                 bool *used_secret, char *err, size_t errlen);

/* ---- hived.c ------------------------------------------------------------- */

int spec__hived_check(struct spec_job *job, const struct spec_opts *opts);

/* ---- normalize.c --------------------------------------------------------- */

int spec__normalize(struct spec_job *job, const struct spec__refs *refs);

/* ---- value.c: JavaScript semantics -------------------------------------- */

/* String(v) as JavaScript prints it in a template: arrays joined by ",",
 * objects "[object Object]", numbers in JS notation. */
void spec__js_string(struct buf *out, const struct spec_value *v);
/* Number.prototype.toString() */
void spec__js_number(struct buf *out, double d);
/* ajv's "integer": a number with no fraction (Infinity counts, NaN does not). */
bool spec__is_integer(const struct spec_value *v);
/* Clamp a JS number to int64. */
int64_t spec__to_int64(double d);
/* JS truthiness. */
bool spec__truthy(const struct spec_value *v);
/* ajv deep equality (for enum). */
bool spec__equal(const struct spec_value *a, const struct spec_value *b);
/* Unicode code points in a UTF-8 string (ajv's maxLength unit). */
size_t spec__ucs2len(const char *s, size_t len);
/* JS String.prototype.trim() on UTF-8: bounds of the trimmed slice. */
void spec__js_trim(const char *s, size_t len, size_t *start, size_t *end);
/* Width in bytes of the JS whitespace code point at s[i], 0 if none (\s). */
size_t spec__js_ws_width(const char *s, size_t i, size_t len);
/* A member by key with length. */
const struct spec_value *spec__get(const struct spec_value *obj, const char *key, size_t klen);
/* Is s a canonical array index ("0", "17", not "01")? */
bool spec__is_array_index(const char *s, size_t len, uint32_t *out);

#endif
