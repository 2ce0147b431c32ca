/* SPDX-License-Identifier: MIT */
/*
 * classify.c — what a task's exit means: openpai-runtime's exithandler
 * (go/pkg/aggregator/error_aggregator.go) and, on top, the one pod-level
 * rule of FrameworkController's failure spec this executor can observe.
 *
 * DESIGN
 * ------
 * exithandler: exit 0 is success and nothing else happens. Otherwise it
 * reads the last 10 MiB of the user log (user.pai.all) and of the runtime
 * log, and walks the exit-spec entries with a code above 0 that have
 * runtimeContainerPatterns, in file order. An entry matches if ANY of its
 * patterns does; a pattern matches if ALL its given fields do: the exit code
 * equal, the platform regex found in the runtime log, the user regex found
 * in the user log. The first entry that matches gives the container's exit
 * code; none gives 255 (PAIRuntimeUnknownFailed). It writes
 *     [PAI_RUNTIME_ERROR_START]\n<yaml>\n[PAI_RUNTIME_ERROR_END]
 * with exitCode, originUserExitCode, matchedUserLogString (at most 2048
 * bytes), matchedPlatformLogString, and errorLogs.user (15 lines: around the
 * match, or the tail) and errorLogs.platform (10 lines), all of it at most
 * 4096 bytes: the platform log is cut first, then the user log, then the
 * matched strings. (A GPU double-ECC pattern, entry 128 in newer spec files,
 * needs nvidia-smi; it is not part of this table, see exitspec.c.)
 *
 * FrameworkController then classifies the pod: its failure spec lists -1200
 * UserContainerDockerOOMKilled (any container whose reason is OOMKilled)
 * before every container exit code, so an OOM kill wins over whatever the
 * runtime said. The exec layer's `oom` flag is that reason here. The
 * diagnostics keep the runtime's own view (exitCode is the runtime's code).
 *
 * Regexes are Go RE2 syntax in the table and run on PCRE2 in byte mode: the
 * patterns only use syntax both share ((?i), (?s), (?m), classes, groups),
 * and a log is bytes, not necessarily UTF-8. RE2 runs in linear time;
 * PCRE2 backtracks. Two guards keep a 10 MiB log cheap: (1) a pattern
 * "X.*Y" in dotall mode, X a fixed string, gets (*COMMIT) before the ".*":
 * if it matches at all, it matches at the first X, so no later start is
 * tried (RE2 would report that same leftmost match); (2) a match limit, past
 * which a pattern counts as not matching. Patterns compile once in an
 * rt_classifier the caller keeps, or per call without one.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

#define SEARCH_MAX      ((size_t)10 << 20)   /* maxSearchLogSize */
#define MATCH_STR_MAX   2048                 /* maxMatchLogLen */
#define USER_LINES      15                   /* maxUserLogLines */
#define PLATFORM_LINES  10                   /* maxRuntimeLogLines */
#define EXIT_UNKNOWN    255                  /* defaultExitCode */
#define MATCH_LIMIT     10000000u
#define TAG_START       "[PAI_RUNTIME_ERROR_START]"
#define TAG_END         "[PAI_RUNTIME_ERROR_END]"

struct compiled {
	pcre2_code *user, *platform;
};

struct rt_classifier {
	struct compiled *pats;            /* one per runtime pattern, in table order */
	size_t n;
};

/* ---- compiling ------------------------------------------------------------------ */

static size_t count_patterns(void)
{
	size_t n = 0;
	for (size_t i = 0; i < rt__exit_table_len; i++)
		if (rt__exit_table[i].spec.code > 0)
			n += rt__exit_table[i].npats;
	return n;
}

/* Guard (1) of the DESIGN: "(?..s..)X.*" → "(?..s..)X(*COMMIT).*" when X is fixed. */
static pcre2_code *compile(const char *re)
{
	char buf[512];
	const char *pat = re;
	if (re[0] == '(' && re[1] == '?') {
		const char *fl = re + 2, *fe = strchr(fl, ')');
		const char *star = fe ? strstr(fe + 1, ".*") : NULL;
		bool dotall = fe && memchr(fl, 's', (size_t)(fe - fl));
		if (dotall && star && star > fe + 1 && strcspn(fe + 1, "()|*+?{[\\^$") == (size_t)(star - fe - 1) &&
		    strlen(re) + 10 < sizeof(buf)) {
			size_t head = (size_t)(star - re);
			memcpy(buf, re, head);
			memcpy(buf + head, "(*COMMIT)", 9);
			strcpy(buf + head + 9, star);
			pat = buf;
		}
	}
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);
	if (code)
		(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  /* no JIT: the interpreter runs it */
	return code;
}

static void free_compiled(struct compiled *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		pcre2_code_free(c[i].user);
		pcre2_code_free(c[i].platform);
	}
	free(c);
}

struct rt_classifier *rt_classifier_new(void)
{
	struct rt_classifier *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->n = count_patterns();
	k->pats = calloc(k->n ? k->n : 1, sizeof(*k->pats));
	if (!k->pats) {
		free(k);
		return NULL;
	}
	size_t at = 0;
	for (size_t i = 0; i < rt__exit_table_len; i++) {
		const struct rt__exit_entry *e = &rt__exit_table[i];
		if (e->spec.code <= 0)
			continue;
		for (size_t j = 0; j < e->npats; j++, at++) {
			/* a pattern that fails to compile (only on out of memory: the table's
			 * patterns are tested) stays NULL and never matches, as exithandler
			 * skips an invalid regex */
			if (e->pats[j].user_re)
				k->pats[at].user = compile(e->pats[j].user_re);
			if (e->pats[j].platform_re)
				k->pats[at].platform = compile(e->pats[j].platform_re);
		}
	}
	return k;
}

void rt_classifier_free(struct rt_classifier *k)
{
	if (k) {
		free_compiled(k->pats, k->n);
		free(k);
	}
}

/* ---- matching ------------------------------------------------------------------- */

struct span {
	size_t start, end;                /* byte offsets; valid when found */
	bool found;
};

/* Find re in text; code is the compiled form or NULL to compile here. */
static struct span find(const char *re, pcre2_code *code, const char *text, size_t len, pcre2_match_context *mc)
{
	struct span s = { 0, 0, false };
	pcre2_code *own = code ? NULL : compile(re);
	pcre2_code *c = code ? code : own;
	pcre2_match_data *md = c ? pcre2_match_data_create(4, NULL) : NULL;
	if (md) {
		PCRE2_SPTR subj = (PCRE2_SPTR)(text ? text : "");
		int rc = pcre2_match(c, subj, text ? len : 0, 0, 0, md, mc);
		if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
			rc = pcre2_match(c, subj, text ? len : 0, 0, PCRE2_NO_JIT, md, mc);
		if (rc >= 0) {                /* 0: ovector too small, the whole match is still set */
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			s = (struct span){ ov[0], ov[1], true };
		}
		pcre2_match_data_free(md);
	}
	pcre2_code_free(own);
	return s;
}

/* ---- the diagnostics (bounded YAML) ------------------------------------------- */

struct out {
	char *p;
	size_t cap, len;                  /* len counts past cap: the size it would need */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t room = o->cap - o->len;
		memcpy(o->p + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
	if (!l || l > n)
		return 0;
	for (size_t i = 1; i < l; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return l;
}

static bool literal_ok(const char *s, size_t n)
{
	if (!n || !memchr(s, '\n', n) || s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[n - 1] == '\n')
		return false;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* A YAML string value: a literal block for readable multi-line text, else double-quoted. */
static void put_str(struct out *o, const char *s, size_t n, const char *indent)
{
	if (literal_ok(s, n)) {
		puts_(o, "|-\n");
		puts_(o, indent);
		for (size_t i = 0; i < n; i++) {
			put(o, s + i, 1);
			if (s[i] == '\n' && i + 1 < n && s[i + 1] != '\n')
				puts_(o, indent);
		}
		puts_(o, "\n");
		return;
	}
	puts_(o, "\"");
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c == '\n') {
			puts_(o, "\\n");
		} else if (c == '\t') {
			puts_(o, "\\t");
		} else if (c < 0x20 || c == 0x7f || !l) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			puts_(o, esc);
			l = 1;
		} else {
			put(o, s + i, l);
		}
		i += l ? l : 1;
	}
	puts_(o, "\"\n");
}

struct text {
	const char *p;
	size_t n;
};

struct diag {
	int exit_code, user_exit;
	struct text matched_user, matched_platform;   /* p NULL: not matched */
	struct text user, platform;                   /* errorLogs */
};

static void emit(const struct diag *d, struct out *o)
{
	char num[64];
	puts_(o, TAG_START "\n");
	snprintf(num, sizeof(num), "exitCode: %d\noriginUserExitCode: %d\n", d->exit_code, d->user_exit);
	puts_(o, num);
	if (d->matched_user.p) {
		puts_(o, "matchedUserLogString: ");
		put_str(o, d->matched_user.p, d->matched_user.n, "  ");
	}
	if (d->matched_platform.p) {
		puts_(o, "matchedPlatformLogString: ");
		put_str(o, d->matched_platform.p, d->matched_platform.n, "  ");
	}
	puts_(o, "errorLogs:\n  user: ");
	put_str(o, d->user.p, d->user.n, "    ");
	puts_(o, "  platform: ");
	put_str(o, d->platform.p, d->platform.n, "    ");
	puts_(o, "\n" TAG_END);
}

/* Move a cut to a UTF-8 character boundary. */
static size_t boundary_fwd(const char *s, size_t i, size_t n)
{
	while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
		i++;
	return i;
}

static size_t boundary_back(const char *s, size_t i)
{
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

static void cut_front(struct text *t, size_t k)
{
	size_t at = boundary_fwd(t->p, k < t->n ? k : t->n, t->n);
	t->p += at;
	t->n -= at;
}

static void cut_back(struct text *t, size_t k)
{
	size_t keep = k < t->n ? boundary_back(t->p, t->n - k) : 0;
	t->n = keep;
}

/* Fit the diagnostics into dst[cap] (NUL included), cutting as exithandler does. */
static void write_diag(struct diag d, char *dst, size_t cap)
{
	for (int round = 0; round < 64; round++) {
		struct out o = { dst, cap - 1, 0 };
		emit(&d, &o);
		if (o.len <= cap - 1) {
			dst[o.len] = '\0';
			return;
		}
		size_t over = o.len - (cap - 1);
		if (d.platform.n)
			cut_front(&d.platform, over);
		else if (d.user.n)
			cut_front(&d.user, over);
		else if (d.matched_platform.p && d.matched_platform.n)
			cut_back(&d.matched_platform, over);
		else if (d.matched_user.p && d.matched_user.n)
			cut_back(&d.matched_user, over);
		else
			break;
	}
	snprintf(dst, cap, TAG_START "\nexitCode: %d\noriginUserExitCode: %d\n\n" TAG_END, d.exit_code, d.user_exit);
}

static size_t line_end(const char *t, size_t i, size_t n)
{
	const char *nl = i < n ? memchr(t + i, '\n', n - i) : NULL;
	return nl ? (size_t)(nl - t) : n;
}

/* The lines of t[0..n) around the match m (or the last lines when none):
 * three lines before the match's first line, then the match's lines and
 * what follows, at most max in all; more before when little follows. */
static struct text lines_around(const char *t, size_t n, struct span m, int max)
{
	if (!t || !n)
		return (struct text){ "", 0 };
	if (t[n - 1] == '\n')             /* the final newline ends a line; it does not start one */
		n--;
	size_t ls = m.found && m.start < n ? m.start : n;
	while (ls > 0 && t[ls - 1] != '\n')
		ls--;
	int avail_before = 0, from_ls = 1;
	for (size_t i = 0; i < ls && avail_before < max; i++)
		avail_before += t[i] == '\n';
	for (size_t i = ls; i < n && from_ls < max; i++)
		from_ls += t[i] == '\n';
	int before = avail_before < 3 ? avail_before : 3;
	if (from_ls < max - before)
		before = avail_before < max - from_ls ? avail_before : max - from_ls;
	int take = max - before;
	size_t e = ls;
	for (int k = 0;; k++) {
		e = line_end(t, e, n);
		if (k + 1 >= take || e >= n)
			break;
		e++;
	}
	size_t s = ls;
	while (before-- > 0 && s > 0) {
		s--;
		while (s > 0 && t[s - 1] != '\n')
			s--;
	}
	return (struct text){ t + s, e - s };
}

/* ---- classification --------------------------------------------------------------- */

static void tail(const char **p, size_t *n)
{
	if (!*p)
		*n = 0;
	else if (*n > SEARCH_MAX) {
		*p += *n - SEARCH_MAX;
		*n = SEARCH_MAX;
	}
}

static void set_result(struct rt_exit_result *out, int code)
{
	struct rt_exit_spec s;
	rt_exit_spec_for(code, &s);
	out->code = code;
	out->phrase = s.phrase;
	out->behavior = s.behavior;
}

void rt_exit_classify(const struct rt_exit_input *in, struct rt_exit_result *out)
{
	out->diagnostics[0] = '\0';
	if (in->user_exit == 0) {
		set_result(out, 0);
		return;
	}
	const char *ulog = in->user_log, *plog = in->platform_log;
	size_t ulen = in->user_log_len, plen = in->platform_log_len;
	tail(&ulog, &ulen);
	tail(&plog, &plen);

	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	if (mc)
		pcre2_set_match_limit(mc, MATCH_LIMIT);
	const struct rt_classifier *k = in->classifier;
	int code = EXIT_UNKNOWN;
	struct span um = { 0, 0, false }, pm = { 0, 0, false };
	size_t at = 0;
	bool matched = false;
	for (size_t i = 0; i < rt__exit_table_len && !matched; i++) {
		const struct rt__exit_entry *e = &rt__exit_table[i];
		if (e->spec.code <= 0)
			continue;
		for (size_t j = 0; j < e->npats && !matched; j++) {
			const struct rt__pattern *p = &e->pats[j];
			const struct compiled *cp = k ? &k->pats[at + j] : NULL;
			if (p->has_exit && p->exit_code != in->user_exit)
				continue;
			struct span ps = { 0, 0, false }, us = { 0, 0, false };
			if (p->platform_re) {
				ps = find(p->platform_re, cp ? cp->platform : NULL, plog, plen, mc);
				if (!ps.found)
					continue;
			}
			if (p->user_re) {
				us = find(p->user_re, cp ? cp->user : NULL, ulog, ulen, mc);
				if (!us.found)
					continue;
			}
			matched = true;
			code = e->spec.code;
			um = us;
			pm = ps;
		}
		at += e->npats;
	}
	pcre2_match_context_free(mc);

	struct diag d = { .exit_code = code, .user_exit = in->user_exit };
	if (um.found) {
		size_t n = um.end - um.start;
		d.matched_user = (struct text){ ulog + um.start, n > MATCH_STR_MAX ? boundary_back(ulog + um.start,
		                                                                                   MATCH_STR_MAX)
		                                                                   : n };
	}
	if (pm.found) {
		size_t n = pm.end - pm.start;
		d.matched_platform = (struct text){ plog + pm.start,
		                                    n > MATCH_STR_MAX ? boundary_back(plog + pm.start, MATCH_STR_MAX) : n };
	}
	d.user = lines_around(ulog, ulen, um, USER_LINES);
	d.platform = lines_around(plog, plen, pm, PLATFORM_LINES);
	write_diag(d, out->diagnostics, sizeof(out->diagnostics));

	set_result(out, in->oom ? -1200 : code);
}
