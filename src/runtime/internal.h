/* SPDX-License-Identifier: MIT */
/*
 * runtime/internal.h — what the runtime's files share, and nothing else:
 * the exit-spec table (exitspec.c, read by classify.c) and the template
 * value lookup (render.c, used by script.c).
 */
#ifndef GANTRY_RUNTIME_INTERNAL_H
#define GANTRY_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "runtime/runtime.h"
#include "spec/spec.h"

/* ---- exitspec.c ----------------------------------------------------------- */

/* One runtimeContainerPatterns item: ALL of its set fields must match. */
struct rt__pattern {
	bool has_exit;                /* exitCode given */
	int exit_code;
	const char *user_re;          /* userLogRegex (Go RE2 syntax), or NULL */
	const char *platform_re;      /* platformLogRegex, or NULL */
};

struct rt__exit_entry {
	struct rt_exit_spec spec;
	const struct rt__pattern *pats;   /* runtimeContainerPatterns: ANY may match */
	size_t npats;
};

/* k8s-job-exit-spec, in file order (the order patterns are tried in). */
extern const struct rt__exit_entry rt__exit_table[];
extern const size_t rt__exit_table_len;

/* ---- render.c ------------------------------------------------------------- */

/*
 * Walk a dotted path ("a.b.0.c"; "[n]" is read as ".n") below v, as
 * pystache and the runtime's replace_ref do: object members by key, array
 * items by index. NULL when any step is missing.
 */
const struct spec_value *rt__value_path(const struct spec_value *v, const char *path, size_t len);

/* A scalar as Python's str() prints it (what the runtime pastes into a
 * command): strings as they are, numbers without a trailing ".0" when
 * integral, true/false as True/False. NULL for null, arrays and objects. */
const char *rt__scalar_str(struct arena *a, const struct spec_value *v);

/*
 * Render the runtime's `<% $secrets.x %>` tags in text, as openpai-runtime's
 * user_command_renderer does (see render.c for the rules and the quirks we
 * keep or drop). secrets may be NULL. Arena memory; NULL when out of memory.
 */
char *rt__render_secrets(struct arena *a, const char *text, const struct spec_value *secrets);

/* Context for plugin parameters (initializer.py's replace_ref). */
struct rt__refs {
	const struct spec_value *parameters, *secrets;
	const struct spec_value *script, *output, *data;  /* the role's prerequisites, or NULL */
};

/* Render `<% $parameters|$secrets|$script|$output|$data.path %>` in text.
 * 0, GERR_INVALID (err names the tag) when a reference does not resolve to a
 * scalar, GERR_NOMEM. */
int rt__render_refs(struct arena *a, const char *text, const struct rt__refs *refs, char **out,
                    struct gerr *err);

/* text in single quotes for bash ('\'' for a quote). Arena memory. */
char *rt__sh_quote(struct arena *a, const char *text);

#endif
