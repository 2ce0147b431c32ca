/* SPDX-License-Identifier: MIT */
/*
 * value.c — the value tree seen through JavaScript's eyes.
 *
 * OpenPAI validates and renders job files in Node.js, so what a value "is"
 * (an integer? truthy? what String() prints) follows JavaScript, not C. Each
 * helper here names the JS operation it reproduces.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spec/internal.h"

const struct spec_value *spec__get(const struct spec_value *obj, const char *key, size_t klen)
{
	if (!obj || obj->type != SPEC_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++) {
		const struct spec_member *m = &obj->members[i];
		if (m->klen == klen && memcmp(m->key, key, klen) == 0)
			return m->val;
	}
	return NULL;
}

const struct spec_value *spec_value_get(const struct spec_value *v, const char *key)
{
	return spec__get(v, key, strlen(key));
}

bool spec__is_array_index(const char *s, size_t len, uint32_t *out)
{
	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > 4294967294u)   /* 2^32 - 2 is the largest array index */
		return false;
	if (out)
		*out = (uint32_t)v;
	return true;
}

/*
 * Number.prototype.toString(): the shortest digit string that reads back as
 * the same double, laid out per ECMA-262 Number::toString.
 */
void spec__js_number(struct buf *out, double d)
{
	if (isnan(d)) {
		buf_puts(out, "NaN");
		return;
	}
	if (isinf(d)) {
		buf_puts(out, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (d == 0) {
		buf_putc(out, '0');
		return;
	}
	if (d < 0) {
		buf_putc(out, '-');
		d = -d;
	}
	/* Fast path: integers below 2^53 print as themselves. */
	if (d < 9007199254740992.0 && d == floor(d)) {
		char digits[20];
		int k = sizeof(digits);
		uint64_t u = (uint64_t)d;
		do {
			digits[--k] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		buf_append(out, digits + k, sizeof(digits) - (size_t)k);
		return;
	}
	char tmp[40];
	int prec;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp = "d.ddde[+-]xx": collect digits and the exponent */
	char digits[20];
	int k = 0;
	char *p = tmp;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[k++] = *p;
	int e = atoi(p + 1);
	while (k > 1 && digits[k - 1] == '0')
		k--;
	int n = e + 1;   /* value = 0.d1d2..dk × 10^n */
	if (k <= n && n <= 21) {
		buf_append(out, digits, (size_t)k);
		for (int i = k; i < n; i++)
			buf_putc(out, '0');
	} else if (0 < n && n <= 21) {
		buf_append(out, digits, (size_t)n);
		buf_putc(out, '.');
		buf_append(out, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		buf_puts(out, "0.");
		for (int i = 0; i < -n; i++)
			buf_putc(out, '0');
		buf_append(out, digits, (size_t)k);
	} else {
		buf_putc(out, digits[0]);
		if (k > 1) {
			buf_putc(out, '.');
			buf_append(out, digits + 1, (size_t)(k - 1));
		}
		buf_printf(out, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
}

/* Date.prototype.toString() in UTC, as a Node.js server in UTC prints it. */
static void js_date(struct buf *out, double ms)
{
	static const char *wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	if (isnan(ms) || fabs(ms) > 8.64e15) {
		buf_puts(out, "Invalid Date");
		return;
	}
	time_t t = (time_t)floor(ms / 1000.0);
	struct tm tm;
	gmtime_r(&t, &tm);
	buf_printf(out, "%s %s %02d %04d %02d:%02d:%02d GMT+0000 (Coordinated Universal Time)",
	           wd[tm.tm_wday], mo[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900,
	           tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void js_string_depth(struct buf *out, const struct spec_value *v, int depth)
{
	switch (v->type) {
	case SPEC_NULL:
		buf_puts(out, "null");
		break;
	case SPEC_BOOL:
		buf_puts(out, v->b ? "true" : "false");
		break;
	case SPEC_NUMBER:
		spec__js_number(out, v->num);
		break;
	case SPEC_STRING:
	case SPEC_BINARY:
		buf_append(out, v->str, v->len);
		break;
	case SPEC_DATE:
		js_date(out, v->num);
		break;
	case SPEC_OBJECT:
		buf_puts(out, "[object Object]");
		break;
	case SPEC_ARRAY:
		/* Array.prototype.join: null/undefined elements print as "" and a
		 * cycle prints as "" too; aliases can nest but never cycle here. */
		if (depth > SPEC_MAX_DEPTH)
			break;
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				buf_putc(out, ',');
			if (v->items[i]->type != SPEC_NULL)
				js_string_depth(out, v->items[i], depth + 1);
		}
		break;
	}
}

void spec__js_string(struct buf *out, const struct spec_value *v)
{
	js_string_depth(out, v, 0);
}

bool spec__is_integer(const struct spec_value *v)
{
	/* ajv 6: typeof x == "number" && !(x % 1) && x === x */
	if (v->type != SPEC_NUMBER || isnan(v->num))
		return false;
	return isinf(v->num) || v->num == trunc(v->num);
}

int64_t spec__to_int64(double d)
{
	if (isnan(d))
		return 0;
	if (d >= 9.2e18)
		return INT64_MAX;
	if (d <= -9.2e18)
		return INT64_MIN;
	return (int64_t)d;
}

bool spec__truthy(const struct spec_value *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case SPEC_NULL:
		return false;
	case SPEC_BOOL:
		return v->b;
	case SPEC_NUMBER:
		return v->num != 0 && !isnan(v->num);
	case SPEC_STRING:
		return v->len > 0;
	default:
		return true;
	}
}

bool spec__equal(const struct spec_value *a, const struct spec_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SPEC_NULL:
		return true;
	case SPEC_BOOL:
		return a->b == b->b;
	case SPEC_NUMBER:
		return a->num == b->num;
	case SPEC_STRING:
	case SPEC_BINARY:
	case SPEC_DATE:
		return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
	case SPEC_ARRAY:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if (!spec__equal(a->items[i], b->items[i]))
				return false;
		return true;
	case SPEC_OBJECT:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++) {
			const struct spec_value *o = spec__get(b, a->members[i].key, a->members[i].klen);
			if (!o || !spec__equal(a->members[i].val, o))
				return false;
		}
		return true;
	}
	return false;
}

size_t spec__ucs2len(const char *s, size_t len)
{
	/* ajv counts code points (a surrogate pair is one); in UTF-8 that is
	 * every byte that does not continue a sequence. */
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* JS WhiteSpace and LineTerminator code points (what trim() and \s remove). */
static size_t ws_at(const unsigned char *s, size_t i, size_t len)
{
	unsigned char c = s[i];
	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (c == 0xC2 && i + 1 < len && s[i + 1] == 0xA0)          /* U+00A0 */
		return 2;
	if (c == 0xE1 && i + 2 < len && s[i + 1] == 0x9A && s[i + 2] == 0x80)  /* U+1680 */
		return 3;
	if (c == 0xE2 && i + 2 < len) {
		unsigned c1 = s[i + 1], c2 = s[i + 2];
		if (c1 == 0x80 && ((c2 >= 0x80 && c2 <= 0x8A) ||      /* U+2000..200A */
		                   c2 == 0xA8 || c2 == 0xA9 ||        /* U+2028, 2029 */
		                   c2 == 0xAF))                       /* U+202F */
			return 3;
		if (c1 == 0x81 && c2 == 0x9F)                         /* U+205F */
			return 3;
	}
	if (c == 0xE3 && i + 2 < len && s[i + 1] == 0x80 && s[i + 2] == 0x80)  /* U+3000 */
		return 3;
	if (c == 0xEF && i + 2 < len && s[i + 1] == 0xBB && s[i + 2] == 0xBF)  /* U+FEFF */
		return 3;
	return 0;
}

/* Width of the JS whitespace code point ending at s[end-1], or 0. */
static size_t ws_before(const unsigned char *s, size_t end)
{
	if (end >= 1 && ws_at(s, end - 1, end) == 1)
		return 1;
	if (end >= 2 && ws_at(s, end - 2, end) == 2)
		return 2;
	if (end >= 3 && ws_at(s, end - 3, end) == 3)
		return 3;
	return 0;
}

void spec__js_trim(const char *str, size_t len, size_t *start, size_t *end)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t a = 0, b = len, w;
	while (a < b && (w = ws_at(s, a, b)) > 0)
		a += w;
	while (b > a && (w = ws_before(s, b)) > 0 && b - w >= a)
		b -= w;
	*start = a;
	*end = b;
}

size_t spec__js_ws_width(const char *s, size_t i, size_t len)
{
	return ws_at((const unsigned char *)s, i, len);
}
