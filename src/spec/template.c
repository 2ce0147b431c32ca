/* SPDX-License-Identifier: MIT */
/*
 * template.c — `<% ... %>` rendering, as rest-server renders commands.
 *
 * DESIGN
 * ------
 * rest-server tokenizes with mustache.js 2.3 (tags `<%` `%>`) and then keeps
 * only two token kinds of the top level: text, and names. So this file is a
 * mustache tokenizer that reproduces mustache.js exactly where it shows:
 *
 *   - `<%# s %>...<%/ s %>` and `<%^ s %>...<%/ s %>` sections vanish with
 *     everything inside them; `<%! %>`, `<%> %>`, `<%& %>`, `<%{ }%>` vanish;
 *   - a line holding only such tags and whitespace vanishes, newline included
 *     (mustache's "standalone" rule);
 *   - `<%= a b =%>` switches delimiters for the rest of the template;
 *   - unclosed tags and sections are errors with mustache's own message and
 *     position (in UTF-16 units, as JavaScript counts).
 *
 * A name is looked up as mustache's Context.lookup does, after rest-server's
 * `[n]` → `.n` rewrite: dotted paths walk objects, array indexes, `length`
 * of arrays and strings. A value prints as JavaScript's String() would; an
 * unresolved name prints verbatim as `<% name %>` (that is how `$secrets`
 * survive for the runtime).
 */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "spec/internal.h"

enum tok { TK_TEXT, TK_NAME, TK_SECTION, TK_CLOSE, TK_OTHER, TK_DELETED };

struct token {
	enum tok kind;
	size_t a, b;         /* text: byte range; name/section: value range */
	size_t start;        /* byte offset of the tag start */
};

struct tokz {
	const char *s;
	size_t len, pos;
	const char *open, *close;   /* current delimiters (point into s, or literals) */
	size_t olen, clen;
	struct token *t;
	size_t n, cap;
	char *err;
	size_t errlen;
};

/* JavaScript string index (UTF-16 units) of byte offset off. */
static size_t js_index(const char *s, size_t off)
{
	size_t u = 0;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xC0) == 0x80)
			continue;
		u += c >= 0xF0 ? 2 : 1;
	}
	return u;
}

static bool push(struct tokz *z, enum tok kind, size_t a, size_t b, size_t start)
{
	if (z->n == z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 32;
		struct token *t = realloc(z->t, cap * sizeof(*t));
		if (!t)
			return false;
		z->t = t;
		z->cap = cap;
	}
	z->t[z->n++] = (struct token){ kind, a, b, start };
	return true;
}

static size_t ws(const struct tokz *z, size_t i)
{
	return i < z->len ? spec__js_ws_width(z->s, i, z->len) : 0;
}

static size_t skip_ws(const struct tokz *z, size_t i)
{
	size_t w;
	while ((w = ws(z, i)) > 0)
		i += w;
	return i;
}

static size_t find(const struct tokz *z, size_t from, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return from;
	for (size_t i = from; i + nlen <= z->len; i++)
		if (z->s[i] == needle[0] && !memcmp(z->s + i, needle, nlen))
			return i;
	return z->len;
}

/* scanUntil(/\s*<lit>/): where the match starts (the whitespace run before
 * the first occurrence of lit), or len when there is none. */
static size_t until_ws_lit(const struct tokz *z, size_t from, const char *lit, size_t llen)
{
	size_t k = find(z, from, lit, llen);
	if (k == z->len)
		return z->len;
	/* back over the whitespace run that ends at k (not before from) */
	size_t p = from, run = k;
	while (p < k) {
		size_t w = ws(z, p);
		if (w) {
			size_t q = p;
			while ((w = ws(z, q)) > 0 && q < k)
				q += w;
			if (q == k) {
				run = p;
				break;
			}
			p = q;
		} else {
			unsigned char c = (unsigned char)z->s[p];
			p += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		}
	}
	return run;
}

/* scanUntil(/\s*\}<close>/) */
static size_t until_ws_curly(const struct tokz *z, size_t from)
{
	for (size_t k = from; k < z->len; k++) {
		if (z->s[k] != '}' || k + 1 + z->clen > z->len || memcmp(z->s + k + 1, z->close, z->clen))
			continue;
		/* first "}<close>" at k: back over the whitespace run before it */
		return until_ws_lit(z, from, z->s + k, z->clen + 1);
	}
	return z->len;
}

/* scan(/\s*<lit>/) at i: the position after it, or SIZE_MAX. */
static size_t scan_ws_lit(const struct tokz *z, size_t i, const char *lit, size_t llen)
{
	i = skip_ws(z, i);
	if (i + llen <= z->len && !memcmp(z->s + i, lit, llen))
		return i + llen;
	return SIZE_MAX;
}

static int fail(struct tokz *z, const char *fmt, const char *arg, size_t arglen, size_t at)
{
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(arglen > 120 ? 120 : arglen), arg ? arg : "");
	snprintf(z->err, z->errlen, fmt, tmp, js_index(z->s, at));
	return GERR_PROTOCOL;
}

static int set_tags(struct tokz *z, size_t a, size_t b)
{
	/* value.split(/\s+/, 2) must give exactly two parts */
	size_t i = a, w;
	while (i < b && !ws(z, i))
		i++;
	size_t o_end = i;
	if (i >= b)
		goto invalid;
	while (i < b && (w = ws(z, i)) > 0)
		i += w;
	size_t c_start = i;
	while (i < b && !ws(z, i))
		i++;
	if (o_end == a || c_start >= b)
		goto invalid;
	z->open = z->s + a;
	z->olen = o_end - a;
	z->close = z->s + c_start;
	z->clen = i - c_start;
	return 0;
invalid:
	snprintf(z->err, z->errlen, "Invalid tags: %.*s", (int)(b - a > 120 ? 120 : b - a), z->s + a);
	return GERR_PROTOCOL;
}

static int tokenize(struct tokz *z)
{
	/* standalone-line bookkeeping, as mustache.js's stripSpace() */
	size_t line_first = 0;      /* first token of the current line */
	bool has_tag = false, non_space = false;
	size_t *open_sections = NULL, nopen = 0, open_cap = 0;
	int rc = 0;

	while (z->pos < z->len) {
		size_t start = z->pos;
		size_t k = find(z, z->pos, z->open, z->olen);
		/* Text up to the tag. mustache.js keeps one token per character so it
		 * can drop the whitespace of standalone lines; a line that is
		 * standalone has no other text, so one token per line is enough. */
		for (size_t i = z->pos; i < k;) {
			const char *nl = memchr(z->s + i, '\n', k - i);
			size_t e = nl ? (size_t)(nl - z->s) + 1 : k;
			if (!non_space)
				for (size_t j = i; j < e && !non_space;) {
					size_t w = ws(z, j);
					if (!w)
						non_space = true;
					j += w ? w : 1;
				}
			if (!push(z, TK_TEXT, i, e, i))
				goto nomem;
			if (nl) {
				if (has_tag && !non_space) {
					for (size_t j = line_first; j < z->n; j++)
						if (z->t[j].kind == TK_TEXT)
							z->t[j].kind = TK_DELETED;
				}
				line_first = z->n;
				has_tag = non_space = false;
			}
			i = e;
		}
		z->pos = k;
		if (z->pos >= z->len)
			break;
		/* the opening tag and its following whitespace */
		z->pos = skip_ws(z, z->pos + z->olen);
		has_tag = true;
		char type = 0;
		if (z->pos < z->len && strchr("#^/>{&=!", z->s[z->pos]) && z->s[z->pos])
			type = z->s[z->pos++];
		z->pos = skip_ws(z, z->pos);
		size_t va = z->pos, vb;
		if (type == '=') {
			vb = until_ws_lit(z, z->pos, "=", 1);
			z->pos = vb;
			size_t after = scan_ws_lit(z, z->pos, "=", 1);
			if (after != SIZE_MAX)
				z->pos = after;
			z->pos = until_ws_lit(z, z->pos, z->close, z->clen);
		} else if (type == '{') {
			vb = until_ws_curly(z, z->pos);
			z->pos = vb;
			size_t after = scan_ws_lit(z, z->pos, "}", 1);
			if (after != SIZE_MAX)
				z->pos = after;
			z->pos = until_ws_lit(z, z->pos, z->close, z->clen);
		} else {
			vb = until_ws_lit(z, z->pos, z->close, z->clen);
			z->pos = vb;
		}
		size_t after = scan_ws_lit(z, z->pos, z->close, z->clen);
		if (after == SIZE_MAX) {
			rc = fail(z, "Unclosed tag at %s%zu", "", 0, z->len);
			goto out;
		}
		z->pos = after;
		if (type == '#' || type == '^') {
			if (!push(z, TK_SECTION, va, vb, start))
				goto nomem;
			if (nopen == open_cap) {
				size_t cap = open_cap ? open_cap * 2 : 8;
				size_t *p = realloc(open_sections, cap * sizeof(*p));
				if (!p)
					goto nomem;
				open_sections = p;
				open_cap = cap;
			}
			open_sections[nopen++] = z->n - 1;
		} else if (type == '/') {
			if (!push(z, TK_CLOSE, va, vb, start))
				goto nomem;
			if (!nopen) {
				rc = fail(z, "Unopened section \"%s\" at %zu", z->s + va, vb - va, start);
				goto out;
			}
			const struct token *o = &z->t[open_sections[--nopen]];
			if (o->b - o->a != vb - va || memcmp(z->s + o->a, z->s + va, vb - va)) {
				rc = fail(z, "Unclosed section \"%s\" at %zu", z->s + o->a, o->b - o->a, start);
				goto out;
			}
		} else if (type == 0) {
			if (!push(z, TK_NAME, va, vb, start))
				goto nomem;
			non_space = true;
		} else {
			if (!push(z, TK_OTHER, va, vb, start))
				goto nomem;
			if (type == '{' || type == '&')
				non_space = true;
			if (type == '=' && (rc = set_tags(z, va, vb)))
				goto out;
		}
	}
	if (nopen) {
		const struct token *o = &z->t[open_sections[nopen - 1]];
		rc = fail(z, "Unclosed section \"%s\" at %zu", z->s + o->a, o->b - o->a, z->len);
	}
out:
	free(open_sections);
	return rc;
nomem:
	free(open_sections);
	return GERR_NOMEM;
}

/* ---- lookup --------------------------------------------------------------- */

/* value[name] for one path segment; NULL for undefined. *len_out set when the
 * result is a number that is not in the tree (array/string length). */
static const struct spec_value *member(const struct spec_value *v, const char *k, size_t klen,
                                       struct spec_value *scratch)
{
	uint32_t idx;
	switch (v->type) {
	case SPEC_OBJECT:
		return spec__get(v, k, klen);
	case SPEC_ARRAY:
		if (spec__is_array_index(k, klen, &idx))
			return idx < v->n ? v->items[idx] : NULL;
		if (klen == 6 && !memcmp(k, "length", 6)) {
			*scratch = (struct spec_value){ .type = SPEC_NUMBER, .num = (double)v->n };
			return scratch;
		}
		return NULL;
	case SPEC_BINARY:
		/* a Node.js Buffer: bytes by index, and a length */
		if (spec__is_array_index(k, klen, &idx)) {
			if (idx >= v->len)
				return NULL;
			*scratch = (struct spec_value){ .type = SPEC_NUMBER, .num = (unsigned char)v->str[idx] };
			return scratch;
		}
		if (klen == 6 && !memcmp(k, "length", 6)) {
			*scratch = (struct spec_value){ .type = SPEC_NUMBER, .num = (double)v->len };
			return scratch;
		}
		return NULL;
	case SPEC_STRING:
		if (klen == 6 && !memcmp(k, "length", 6)) {
			/* UTF-16 length */
			*scratch = (struct spec_value){ .type = SPEC_NUMBER,
			                                .num = (double)js_index(v->str, v->len) };
			return scratch;
		}
		if (spec__is_array_index(k, klen, &idx)) {
			/* the idx-th character (code point) */
			size_t i = 0, c = 0;
			while (i < v->len) {
				unsigned char ch = (unsigned char)v->str[i];
				size_t w = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
				if (i + w > v->len)
					w = v->len - i;
				if (c == idx) {
					*scratch = (struct spec_value){ .type = SPEC_STRING, .str = v->str + i, .len = w };
					return scratch;
				}
				c++;
				i += w;
			}
		}
		return NULL;
	default:
		return NULL;
	}
}

/* The context object seen by mustache: {$parameters, $script, ...}. */
static const struct spec_value *ctx_get(const struct spec__tctx *c, const char *k, size_t klen,
                                        bool *secret)
{
	static const struct { const char *name; size_t off; } vars[] = {
		{ "$parameters", offsetof(struct spec__tctx, parameters) },
		{ "$secrets", offsetof(struct spec__tctx, secrets) },
		{ "$script", offsetof(struct spec__tctx, script) },
		{ "$output", offsetof(struct spec__tctx, output) },
		{ "$data", offsetof(struct spec__tctx, data) },
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i].name) == klen && !memcmp(vars[i].name, k, klen)) {
			*secret = i == 1;
			return *(const struct spec_value *const *)((const char *)c + vars[i].off);
		}
	return NULL;
}

/* Render one name token into out. */
static void render_name(const char *name, size_t n, const struct spec__tctx *c, struct buf *out,
                        bool *used_secret)
{
	char small[128];
	/* rest-server: tokenStr.replace(/\[(\d+)\]/g, '.$1'), which never lengthens it */
	char *p = n < sizeof(small) ? small : malloc(n + 1);
	size_t plen = 0;
	if (!p) {
		out->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '[') {
			size_t j = i + 1;
			while (j < n && name[j] >= '0' && name[j] <= '9')
				j++;
			if (j > i + 1 && j < n && name[j] == ']') {
				p[plen++] = '.';
				memcpy(p + plen, name + i + 1, j - i - 1);
				plen += j - i - 1;
				i = j;
				continue;
			}
		}
		p[plen++] = name[i];
	}
	p[plen] = '\0';
	const struct spec_value *v = NULL;
	struct spec_value scratch;
	bool secret = false;

	if (plen == 1 && p[0] == '.') {
		buf_puts(out, "[object Object]");   /* the context object itself */
		goto out;
	}
	const char *dot = memchr(p, '.', plen);
	if (dot && dot > p) {
		size_t seg = (size_t)(dot - p);
		v = ctx_get(c, p, seg, &secret);
		size_t i = seg + 1;
		while (v && v->type != SPEC_NULL) {
			const char *q = memchr(p + i, '.', plen - i);
			size_t e = q ? (size_t)(q - p) : plen;
			v = member(v, p + i, e - i, &scratch);
			if (!q)
				break;
			i = e + 1;
		}
		/* a null in the middle of the path leaves null (→ unresolved) */
	} else {
		v = ctx_get(c, p, plen, &secret);
	}
	if (v && v->type != SPEC_NULL) {
		spec__js_string(out, v);
		if (secret && used_secret)
			*used_secret = true;
	} else {
		buf_puts(out, "<% ");
		buf_append(out, p, plen);
		buf_puts(out, " %>");
	}
out:
	if (p != small)
		free(p);
}

int spec__render(const char *tmpl, size_t len, const struct spec__tctx *ctx, struct buf *out,
                 bool *used_secret, char *err, size_t errlen)
{
	struct tokz z = { .s = tmpl, .len = len, .err = err, .errlen = errlen };
	size_t base = out->len;
	int rc;

	z.open = "<%";
	z.olen = 2;
	z.close = "%>";
	z.clen = 2;
	if (used_secret)
		*used_secret = false;
	if ((rc = tokenize(&z)))
		goto out;
	int depth = 0;
	for (size_t i = 0; i < z.n; i++) {
		const struct token *t = &z.t[i];
		if (t->kind == TK_SECTION) {
			depth++;
		} else if (t->kind == TK_CLOSE) {
			depth--;
		} else if (depth == 0) {
			if (t->kind == TK_TEXT)
				buf_append(out, tmpl + t->a, t->b - t->a);
			else if (t->kind == TK_NAME)
				render_name(tmpl + t->a, t->b - t->a, ctx, out, used_secret);
		}
	}
	if (out->oom) {
		rc = GERR_NOMEM;
		goto out;
	}
	/* result.trim(), in place */
	if (out->len > base) {
		size_t a, b;
		spec__js_trim(out->data + base, out->len - base, &a, &b);
		if (a)
			memmove(out->data + base, out->data + base + a, b - a);
		buf_truncate(out, base + (b - a));
	}
out:
	free(z.t);
	return rc;
}
