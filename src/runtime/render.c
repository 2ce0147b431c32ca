/* SPDX-License-Identifier: MIT */
/*
 * render.c — the runtime's two template passes over what a task runs.
 *
 * DESIGN
 * ------
 * By the time a job reaches the runtime, rest-server (spec/template.c) has
 * rendered every `<% %>` it could; what is left in an entrypoint are plain
 * name tags it could not resolve, written back as `<% name %>`: the
 * `$secrets.*` references (on purpose) and any name that did not resolve.
 * openpai-runtime then renders twice more:
 *
 * 1. The entrypoint (user_command_renderer.py): pystache with `<%` `%>`
 *    tags and the context {"$secrets": secrets}, "[n]" read as ".n".
 *    - No secrets (no block, or an empty one): the text is left as it is.
 *    - Otherwise every tag is rendered and a name that does not resolve
 *      becomes "" (pystache's default), `$parameters.missing` included.
 *    Kept as OpenPAI does both. Our decisions where pystache is a poor fit:
 *    - Values are NOT HTML-escaped. pystache escapes `& < > " '` in a
 *      `<% name %>` tag (its default), so a password "a&b" reached the
 *      command as "a&amp;b"; rest-server drops the unescaped tag forms
 *      before the runtime sees them, so OpenPAI users had no way around it.
 *      A job that worked on OpenPAI has no such character in its secrets
 *      and runs the same here; one that had was broken there and works here.
 *    - null, a mapping or a list renders as "" (pystache printed Python's
 *      repr: "None", "{'a': 1}"), numbers print as Python prints them,
 *      booleans as True/False.
 *    - Section, partial and delimiter tags (`#`, `^`, `/`, `>`, `=`) are
 *      left verbatim: rest-server has removed them before the runtime runs,
 *      so only a hand-made entrypoint could hold one.
 *
 * 2. Runtime plugin parameters (initializer.py's replace_ref): a regex pass
 *    over `<% $parameters|$secrets|$script|$output|$data.path %>`, values
 *    pasted as they are. A reference that does not resolve made the
 *    initializer crash (the task failed at init); here it is GERR_INVALID
 *    with the reference named (never its value).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "runtime/internal.h"

/* ---- values ------------------------------------------------------------------ */

static const struct spec_value *member(const struct spec_value *v, const char *k, size_t n)
{
	const struct spec_value *found = NULL;
	for (size_t i = 0; i < v->n; i++)   /* the last of duplicate keys wins, as in JS and Python */
		if (v->members[i].klen == n && !memcmp(v->members[i].key, k, n))
			found = v->members[i].val;
	return found;
}

static const struct spec_value *step(const struct spec_value *v, const char *seg, size_t n)
{
	if (!v)
		return NULL;
	if (v->type == SPEC_OBJECT)
		return member(v, seg, n);
	if (v->type != SPEC_ARRAY || n == 0 || n > 9)
		return NULL;
	size_t idx = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)seg[i]))
			return NULL;
		idx = idx * 10 + (size_t)(seg[i] - '0');
	}
	return idx < v->n ? v->items[idx] : NULL;
}

const struct spec_value *rt__value_path(const struct spec_value *v, const char *path, size_t len)
{
	size_t i = 0;
	while (v && i < len) {
		if (path[i] == '.') {
			i++;
			continue;
		}
		if (path[i] == '[') {         /* "[ n ]": an index */
			size_t j = i + 1;
			while (j < len && path[j] == ' ')
				j++;
			size_t s = j;
			while (j < len && isdigit((unsigned char)path[j]))
				j++;
			size_t e = j;
			while (j < len && path[j] == ' ')
				j++;
			if (j >= len || path[j] != ']' || e == s)
				return NULL;
			v = step(v, path + s, e - s);
			i = j + 1;
			continue;
		}
		size_t j = i;
		while (j < len && path[j] != '.' && path[j] != '[')
			j++;
		v = step(v, path + i, j - i);
		i = j;
	}
	return v;
}

const char *rt__scalar_str(struct arena *a, const struct spec_value *v)
{
	if (!v)
		return NULL;
	switch (v->type) {
	case SPEC_STRING:
	case SPEC_DATE:
	case SPEC_BINARY:
		return v->str ? v->str : "";
	case SPEC_BOOL:
		return v->b ? "True" : "False";
	case SPEC_NUMBER:
		if (isnan(v->num))
			return "nan";
		if (isinf(v->num))
			return v->num > 0 ? "inf" : "-inf";
		if (v->num == floor(v->num) && fabs(v->num) < 1e16)
			return arena_printf(a, "%.0f", v->num);
		/* Python's repr: the shortest text that reads back the same */
		for (int prec = 1; prec <= 17; prec++) {
			char tmp[40];
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v->num);
			if (strtod(tmp, NULL) == v->num)
				return arena_strdup(a, tmp);
		}
		return arena_printf(a, "%.17g", v->num);
	default:
		return NULL;
	}
}

/* Python's truth of the secrets block: `if not secrets` leaves the text alone. */
static bool is_truthy(const struct spec_value *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case SPEC_NULL:
		return false;
	case SPEC_BOOL:
		return v->b;
	case SPEC_NUMBER:
		return v->num != 0;
	case SPEC_STRING:
	case SPEC_BINARY:
		return v->len > 0;
	case SPEC_ARRAY:
	case SPEC_OBJECT:
		return v->n > 0;
	default:
		return true;
	}
}

/* ---- pass 1: secrets in the entrypoint ---------------------------------------- */

static size_t skip_ws(const char *s, size_t i, size_t end)
{
	while (i < end && isspace((unsigned char)s[i]))
		i++;
	return i;
}

static size_t trim_end(const char *s, size_t start, size_t end)
{
	while (end > start && isspace((unsigned char)s[end - 1]))
		end--;
	return end;
}

/* The value of a pystache name (already trimmed) in the context {"$secrets": secrets}. */
static const char *lookup_secret(struct arena *a, const struct spec_value *secrets, const char *key, size_t n)
{
	static const char root[] = "$secrets";
	size_t rl = sizeof(root) - 1;
	if (n < rl || memcmp(key, root, rl) || (n > rl && key[rl] != '.' && key[rl] != '['))
		return "";
	const char *s = rt__scalar_str(a, rt__value_path(secrets, key + rl, n - rl));
	return s ? s : "";
}

char *rt__render_secrets(struct arena *a, const char *text, const struct spec_value *secrets)
{
	if (!text)
		return arena_strdup(a, "");
	if (!is_truthy(secrets))
		return arena_strdup(a, text);

	struct buf b = BUF_INIT;
	size_t len = strlen(text), i = 0;
	while (i < len) {
		const char *open = strstr(text + i, "<%");
		if (!open) {
			buf_append(&b, text + i, len - i);
			break;
		}
		size_t o = (size_t)(open - text);
		buf_append(&b, text + i, o - i);
		size_t k = skip_ws(text, o + 2, len);
		/* pystache: the name takes at least one character, then the first "%>" closes */
		const char *close = k < len ? strstr(text + k + 1, "%>") : NULL;
		if (!close) {
			buf_append(&b, text + o, len - o);
			break;
		}
		size_t c = (size_t)(close - text), after = c + 2;
		char sigil = text[k];
		if (sigil == '!') {
			/* a comment renders as nothing */
		} else if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>' || sigil == '=') {
			buf_append(&b, text + o, after - o);  /* not supported: verbatim (see DESIGN) */
		} else {
			size_t ks = k, ke = trim_end(text, k, c);
			if (sigil == '&')
				ks = skip_ws(text, k + 1, ke);
			else if (sigil == '{') {
				ks = skip_ws(text, k + 1, ke);
				if (ke > ks && text[ke - 1] == '}')
					ke = trim_end(text, ks, ke - 1);
			}
			buf_puts(&b, lookup_secret(a, secrets, text + ks, ke - ks));
		}
		i = after;
	}
	if (b.oom) {
		buf_fini(&b);
		return NULL;
	}
	char *out = arena_strndup(a, buf_str(&b), b.len);
	buf_fini(&b);
	return out;
}

/* ---- pass 2: references in plugin parameters ------------------------------------ */

int rt__render_refs(struct arena *a, const char *text, const struct rt__refs *refs, char **out, struct gerr *err)
{
	*out = NULL;
	struct buf b = BUF_INIT;
	size_t len = strlen(text), i = 0;
	int rc = 0;
	while (i < len) {
		const char *open = strstr(text + i, "<%");
		if (!open) {
			buf_append(&b, text + i, len - i);
			break;
		}
		size_t o = (size_t)(open - text);
		size_t d = skip_ws(text, o + 2, len);
		const char *close = d < len && text[d] == '$' ? strstr(text + d + 1, "%>") : NULL;
		if (!close) {                 /* not `<% $...%>`: text; look again after "<" */
			buf_append(&b, text + i, o + 1 - i);
			i = o + 1;
			continue;
		}
		buf_append(&b, text + i, o - i);
		size_t rs = d + 1, re = trim_end(text, rs, (size_t)(close - text));
		size_t ne = rs;
		while (ne < re && text[ne] != '.' && text[ne] != '[')
			ne++;
		const struct spec_value *root = NULL;
		bool known = true;
		if (ne - rs == 10 && !memcmp(text + rs, "parameters", 10))
			root = refs->parameters;
		else if (ne - rs == 7 && !memcmp(text + rs, "secrets", 7))
			root = refs->secrets;
		else if (ne - rs == 6 && !memcmp(text + rs, "script", 6))
			root = refs->script;
		else if (ne - rs == 6 && !memcmp(text + rs, "output", 6))
			root = refs->output;
		else if (ne - rs == 4 && !memcmp(text + rs, "data", 4))
			root = refs->data;
		else
			known = false;
		const char *val = known ? rt__scalar_str(a, rt__value_path(root, text + ne, re - ne)) : NULL;
		if (!val) {
			rc = gerr_set(err, GERR_INVALID, "<%% $%.*s %%>: %s", (int)(re - rs), text + rs,
			              known ? "no such value, or not a string, number or boolean"
			                    : "only $parameters, $secrets, $script, $output and $data may be used here");
			break;
		}
		buf_puts(&b, val);
		i = (size_t)(close - text) + 2;
	}
	if (!rc && b.oom)
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
	if (!rc && !(*out = arena_strndup(a, buf_str(&b), b.len)))
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
	buf_fini(&b);
	return rc;
}

char *rt__sh_quote(struct arena *a, const char *text)
{
	struct buf b = BUF_INIT;
	buf_putc(&b, '\'');
	for (const char *p = text; *p; p++) {
		if (*p == '\'')
			buf_puts(&b, "'\\''");
		else
			buf_putc(&b, *p);
	}
	buf_putc(&b, '\'');
	char *out = b.oom ? NULL : arena_strndup(a, buf_str(&b), b.len);
	buf_fini(&b);
	return out;
}
