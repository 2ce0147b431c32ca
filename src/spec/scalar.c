/* SPDX-License-Identifier: MIT */
/*
 * scalar.c — js-yaml's scalar types (DEFAULT_SAFE_SCHEMA), byte for byte:
 * which plain scalars are ints, floats, timestamps, and what value they
 * construct; and js-yaml's way of folding multi-line quoted scalars.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spec/internal.h"

static bool is_dec(char c) { return c >= '0' && c <= '9'; }
static bool is_oct(char c) { return c >= '0' && c <= '7'; }
static bool is_hex(char c)
{
	return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* js-yaml's resolveYamlInteger */
bool spec__yaml_is_int(const char *s, size_t n)
{
	size_t i = 0;
	bool digits = false;
	char ch;

	if (!n)
		return false;
	ch = s[i];
	if (ch == '-' || ch == '+') {
		if (++i >= n)
			return false;
		ch = s[i];
	}
	if (ch == '0') {
		if (i + 1 == n)
			return true;
		ch = s[++i];
		if (ch == 'b' || ch == 'x') {
			bool hex = ch == 'x';
			for (i++; i < n; i++) {
				ch = s[i];
				if (ch == '_')
					continue;
				if (hex ? !is_hex(ch) : (ch != '0' && ch != '1'))
					return false;
				digits = true;
			}
			return digits && ch != '_';
		}
		for (; i < n; i++) {
			ch = s[i];
			if (ch == '_')
				continue;
			if (!is_oct(ch))
				return false;
			digits = true;
		}
		return digits && ch != '_';
	}
	if (ch == '_')
		return false;
	for (; i < n; i++) {
		ch = s[i];
		if (ch == '_')
			continue;
		if (ch == ':')
			break;
		if (!is_dec(ch))
			return false;
		digits = true;
	}
	if (!digits || ch == '_')
		return false;
	if (ch != ':')
		return true;
	/* base 60: (:[0-5]?[0-9])+ to the end */
	while (i < n) {
		if (s[i] != ':')
			return false;
		i++;
		size_t d = 0;
		while (i < n && is_dec(s[i]) && d < 2)
			i++, d++;
		if (d == 0)
			return false;
		if (d == 2 && s[i - 2] > '5')
			return false;
	}
	return true;
}

/* parseInt over s[0..n) in base b, ignoring '_' (js-yaml strips them first). */
static double parse_digits(const char *s, size_t n, int b)
{
	double v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d;
		if (c == '_')
			continue;
		if (is_dec(c))
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (d >= b)
			break;
		v = v * b + d;
	}
	return v;
}

double spec__yaml_int(const char *s, size_t n)
{
	double sign = 1;
	size_t i = 0;
	char clean[64];

	if (s[0] == '-' || s[0] == '+') {
		sign = s[0] == '-' ? -1 : 1;
		i = 1;
	}
	/* decimal without base 60: strtod rounds exactly as parseInt does */
	size_t k = 0;
	bool colon = false;
	for (size_t j = i; j < n; j++)
		if (s[j] == ':')
			colon = true;
	if (s[i] == '0' && i + 1 < n) {
		if (s[i + 1] == 'b')
			return sign * parse_digits(s + i + 2, n - i - 2, 2);
		if (s[i + 1] == 'x')
			return sign * parse_digits(s + i + 2, n - i - 2, 16);
		return sign * parse_digits(s + i + 1, n - i - 1, 8);
	}
	if (colon) {
		/* digits are most significant first: v = ((a*60)+b)*60+c */
		double v = 0, part = 0;
		for (size_t j = i; j <= n; j++) {
			if (j == n || s[j] == ':') {
				v = v * 60 + part;
				part = 0;
			} else if (s[j] != '_') {
				part = part * 10 + (s[j] - '0');
			}
		}
		return sign * v;
	}
	for (size_t j = i; j < n && k < sizeof(clean) - 1; j++)
		if (s[j] != '_')
			clean[k++] = s[j];
	if (n - i >= sizeof(clean) - 1) {
		/* very long: accumulate (loses the last ulp at worst) */
		return sign * parse_digits(s + i, n - i, 10);
	}
	clean[k] = '\0';
	return sign * strtod(clean, NULL);
}

/* js-yaml's YAML_FLOAT_PATTERN (and "no trailing _") */
bool spec__yaml_is_float(const char *s, size_t n)
{
	size_t i = 0;
	if (!n || s[n - 1] == '_')
		return false;
	/* .nan | .NaN | .NAN */
	if (n == 4 && s[0] == '.' &&
	    (!memcmp(s, ".nan", 4) || !memcmp(s, ".NaN", 4) || !memcmp(s, ".NAN", 4)))
		return true;
	if (s[0] == '-' || s[0] == '+')
		i = 1;
	/* [-+]?\.(inf|Inf|INF) */
	if (n - i == 4 && (!memcmp(s + i, ".inf", 4) || !memcmp(s + i, ".Inf", 4) ||
	                   !memcmp(s + i, ".INF", 4)))
		return true;
	/* \.[0-9_]+([eE][-+]?[0-9]+)?   (no sign) */
	if (s[0] == '.') {
		size_t j = 1, d = 0;
		while (j < n && (is_dec(s[j]) || s[j] == '_'))
			j++, d++;
		if (!d)
			return false;
		if (j == n)
			return true;
		if (s[j] != 'e' && s[j] != 'E')
			return false;
		j++;
		if (j < n && (s[j] == '-' || s[j] == '+'))
			j++;
		size_t e = 0;
		while (j < n && is_dec(s[j]))
			j++, e++;
		return e && j == n;
	}
	if (i >= n || !is_dec(s[i]))
		return false;
	/* [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*   (base 60 float) */
	{
		size_t j = i + 1;
		while (j < n && (is_dec(s[j]) || s[j] == '_'))
			j++;
		if (j < n && s[j] == ':') {
			bool groups = false;
			while (j < n && s[j] == ':') {
				j++;
				size_t d = 0;
				while (j < n && is_dec(s[j]) && d < 2)
					j++, d++;
				if (!d || (d == 2 && s[j - 2] > '5'))
					return false;
				groups = true;
			}
			if (!groups || j >= n || s[j] != '.')
				return false;
			for (j++; j < n; j++)
				if (!is_dec(s[j]) && s[j] != '_')
					return false;
			return true;
		}
	}
	/* [-+]?(0|[1-9][0-9_]*)(\.[0-9_]*)?([eE][-+]?[0-9]+)? */
	size_t j = i;
	if (s[j] == '0') {
		j++;
	} else {
		j++;
		while (j < n && (is_dec(s[j]) || s[j] == '_'))
			j++;
	}
	if (j < n && s[j] == '.') {
		j++;
		while (j < n && (is_dec(s[j]) || s[j] == '_'))
			j++;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < n && (s[j] == '-' || s[j] == '+'))
			j++;
		size_t e = 0;
		while (j < n && is_dec(s[j]))
			j++, e++;
		if (!e)
			return false;
	}
	return j == n;
}

double spec__yaml_float(const char *s, size_t n)
{
	char buf[128];
	size_t k = 0;
	for (size_t i = 0; i < n && k < sizeof(buf) - 1; i++)
		if (s[i] != '_')
			buf[k++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	buf[k] = '\0';
	double sign = buf[0] == '-' ? -1 : 1;
	char *p = buf;
	if (*p == '-' || *p == '+')
		p++;
	if (!strcmp(p, ".inf"))
		return sign * INFINITY;
	if (!strcmp(p, ".nan"))
		return NAN;
	if (strchr(p, ':')) {
		double v = 0;
		char *tok = p;
		/* digits.unshift(parseFloat(part)); value += d * 60^k from the last part */
		double parts[64];
		int np = 0;
		while (tok && np < 64) {
			parts[np++] = strtod(tok, NULL);
			tok = strchr(tok, ':');
			if (tok)
				tok++;
		}
		double base = 1;
		for (int i = np - 1; i >= 0; i--) {
			v += parts[i] * base;
			base *= 60;
		}
		return sign * v;
	}
	return sign * strtod(p, NULL);
}

static bool two(const char *s, int *out)
{
	if (!is_dec(s[0]) || !is_dec(s[1]))
		return false;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

/* days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12, day may overflow as Date.UTC does) */
static double days_from_civil(double y, double m, double d)
{
	/* normalise month like Date.UTC */
	y += floor((m - 1) / 12);
	m = fmod(m - 1, 12);
	if (m < 0)
		m += 12;
	m += 1;
	double yy = m <= 2 ? y - 1 : y;
	double era = floor(yy / 400);
	double yoe = yy - era * 400;
	double mp = fmod(m + 9, 12);
	double doy = floor((153 * mp + 2) / 5) + d - 1;
	double doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy;
	return era * 146097 + doe - 719468;
}

/* js-yaml's timestamp: YYYY-MM-DD, or with time, fraction and zone. */
bool spec__yaml_timestamp(const char *s, size_t n, double *ms)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	size_t i;
	double frac = 0;

	if (n < 8 || !is_dec(s[0]) || !is_dec(s[1]) || !is_dec(s[2]) || !is_dec(s[3]) || s[4] != '-')
		return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (n == 10 && two(s + 5, &mo) && s[7] == '-' && two(s + 8, &d)) {
		*ms = days_from_civil(y, mo, d) * 86400000.0;
		return true;
	}
	i = 5;
	if (!is_dec(s[i]))
		return false;
	mo = s[i++] - '0';
	if (i < n && is_dec(s[i]))
		mo = mo * 10 + (s[i++] - '0');
	if (i >= n || s[i++] != '-' || i >= n || !is_dec(s[i]))
		return false;
	d = s[i++] - '0';
	if (i < n && is_dec(s[i]))
		d = d * 10 + (s[i++] - '0');
	if (i >= n)
		return false;
	if (s[i] == 'T' || s[i] == 't') {
		i++;
	} else if (s[i] == ' ' || s[i] == '\t') {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
	} else {
		return false;
	}
	if (i >= n || !is_dec(s[i]))
		return false;
	h = s[i++] - '0';
	if (i < n && is_dec(s[i]))
		h = h * 10 + (s[i++] - '0');
	if (i + 3 > n || s[i] != ':' || !two(s + i + 1, &mi))
		return false;
	i += 3;
	if (i + 3 > n || s[i] != ':' || !two(s + i + 1, &se))
		return false;
	i += 3;
	if (i < n && s[i] == '.') {
		/* js-yaml keeps the first three digits, padded: ".5" → 500 ms */
		i++;
		int digits = 0, v = 0;
		while (i < n && is_dec(s[i])) {
			if (digits < 3) {
				v = v * 10 + (s[i] - '0');
				digits++;
			}
			i++;
		}
		while (digits < 3 && digits > 0) {
			v *= 10;
			digits++;
		}
		frac = v;
	}
	double offset_ms = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n) {
		if (s[i] == 'Z') {
			i++;
		} else if (s[i] == '-' || s[i] == '+') {
			int sign = s[i++] == '-' ? -1 : 1, th, tm = 0;
			if (i >= n || !is_dec(s[i]))
				return false;
			th = s[i++] - '0';
			if (i < n && is_dec(s[i]))
				th = th * 10 + (s[i++] - '0');
			if (i < n && s[i] == ':') {
				if (i + 3 > n || !two(s + i + 1, &tm))
					return false;
				i += 3;
			}
			offset_ms = sign * (th * 60 + tm) * 60000.0;
		} else {
			return false;
		}
	}
	if (i != n)
		return false;
	*ms = days_from_civil(y, mo, d) * 86400000.0 + h * 3600000.0 + mi * 60000.0 +
	      se * 1000.0 + frac - offset_ms;
	return true;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* js-yaml's !!binary: base64 with line breaks; '=' counts toward the bit
 * length as js-yaml counts it. *out is arena memory. */
bool spec__yaml_binary(struct arena *a, const char *s, size_t n, const char **out, size_t *outlen)
{
	size_t bits = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r')
			continue;
		if (c != '=' && b64val(c) < 0)
			return false;
		bits += 6;
	}
	if (bits % 8 != 0)
		return false;
	char *buf = arena_alloc(a, bits / 8 + 2);
	if (!buf)
		return false;
	size_t k = 0;
	unsigned acc = 0, nb = 0;
	for (size_t i = 0; i < n; i++) {
		int d = b64val((unsigned char)s[i]);
		if (d < 0)
			continue;
		acc = (acc << 6) | (unsigned)d;
		nb += 6;
		if (nb >= 8) {
			nb -= 8;
			buf[k++] = (char)((acc >> nb) & 0xFF);
		}
	}
	buf[k] = '\0';
	*out = buf;
	*outlen = k;
	return true;
}


static bool is_eol(char c) { return c == '\n' || c == '\r'; }
static bool is_white(char c) { return c == ' ' || c == '\t'; }

/* js-yaml's skipSeparationSpace (no comments): whitespace and line breaks;
 * returns the number of line breaks. */
static size_t skip_separation(const char *s, size_t len, size_t *i)
{
	size_t breaks = 0;
	while (*i < len) {
		while (*i < len && is_white(s[*i]))
			(*i)++;
		if (*i < len && is_eol(s[*i])) {
			if (s[*i] == '\r' && *i + 1 < len && s[*i + 1] == '\n')
				(*i)++;
			(*i)++;
			breaks++;
			continue;
		}
		break;
	}
	return breaks;
}

static void fold(struct buf *out, size_t breaks)
{
	if (breaks == 1)
		buf_putc(out, ' ');
	else
		for (size_t k = 1; k < breaks; k++)
			buf_putc(out, '\n');
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void put_utf8(struct buf *out, unsigned long cp)
{
	char b[4];
	if (cp < 0x80) {
		buf_putc(out, (char)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 3);
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 4);
	}
}

int spec__yaml_quoted(struct buf *out, const char *s, size_t len)
{
	char q = len ? s[0] : 0;
	size_t i = 1, cs = 1, ce = 1;   /* captureStart, captureEnd */

	if (q != '\'' && q != '"')
		return -1;
	while (i < len) {
		char c = s[i];
		if (c == q && q == '\'') {
			buf_append(out, s + cs, i - cs);
			if (i + 1 < len && s[i + 1] == '\'') {
				cs = i + 1;
				i += 2;
				ce = i;
				continue;
			}
			return 0;
		}
		if (c == q) {
			buf_append(out, s + cs, i - cs);
			return 0;
		}
		if (c == '\\' && q == '"') {
			buf_append(out, s + cs, i - cs);
			if (++i >= len)
				return -1;
			c = s[i];
			static const char simple[] = "0abt\tnvfre \"/\\";
			static const char value[] = "\0\a\b\t\t\n\v\f\r\x1b \"/\\";
			const char *p = c ? strchr(simple, c) : NULL;
			int hex = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
			if (is_eol(c)) {
				skip_separation(s, len, &i);
			} else if (c == '0') {
				buf_putc(out, '\0');
				i++;
			} else if (p) {
				buf_putc(out, value[p - simple]);
				i++;
			} else if (c == 'N') {
				put_utf8(out, 0x85);
				i++;
			} else if (c == '_') {
				put_utf8(out, 0xA0);
				i++;
			} else if (c == 'L') {
				put_utf8(out, 0x2028);
				i++;
			} else if (c == 'P') {
				put_utf8(out, 0x2029);
				i++;
			} else if (hex) {
				unsigned long cp = 0;
				for (int k = 0; k < hex; k++) {
					int h = ++i < len ? hexval(s[i]) : -1;
					if (h < 0)
						return -1;
					cp = (cp << 4) | (unsigned long)h;
				}
				if (cp > 0x10FFFF)
					return -1;
				put_utf8(out, cp);
				i++;
			} else {
				return -1;
			}
			cs = ce = i;
			continue;
		}
		if (is_eol(c)) {
			buf_append(out, s + cs, ce - cs);
			fold(out, skip_separation(s, len, &i));
			cs = ce = i;
			continue;
		}
		i++;
		ce = i;
	}
	return -1;
}
