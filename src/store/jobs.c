/* SPDX-License-Identifier: MIT */
/*
 * jobs.c — jobs, their tags, events and placements; the job list query.
 *
 * The list query is built per request from the filters (each one served by
 * an index: user, VC, state, priority, each with submission time; tags by
 * tag; the keyword by a trigram FTS index, or LIKE below three characters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/internal.h"

#define STMT_OR_FAIL(st, c, id, err)                     \
	sqlite3_stmt *st = store__stmt((c), (id), (err)); \
	if (!st)                                          \
		return (err) ? (err)->code : GERR_IO

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static const char *opt_text(sqlite3_stmt *st, int i, struct arena *a)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : store__text(st, i, a);
}

static int64_t opt_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

/* Columns of STORE_JOB_COLUMNS, starting at column 0. */
static void read_job(sqlite3_stmt *st, struct arena *a, struct store_job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->username = store__text(st, 1, a);
	j->name = store__text(st, 2, a);
	j->debug_id = store__text(st, 3, a);
	j->vc = store__text(st, 4, a);
	j->state = store__text(st, 5, a);
	j->sub_state = store__text(st, 6, a);
	j->execution_type = store__text(st, 7, a);
	j->priority_class = opt_text(st, 8, a);
	j->priority = sqlite3_column_int(st, 9);
	j->submission_ms = sqlite3_column_int64(st, 10);
	j->created_ms = opt_int(st, 11);
	j->launched_ms = opt_int(st, 12);
	j->completed_ms = opt_int(st, 13);
	j->attempt_id = sqlite3_column_int(st, 14);
	j->retries = sqlite3_column_int(st, 15);
	j->user_retries = sqlite3_column_int(st, 16);
	j->retry_delay_ms = sqlite3_column_int64(st, 17);
	j->has_exit_code = sqlite3_column_type(st, 18) != SQLITE_NULL;
	j->app_exit_code = sqlite3_column_int(st, 18);
	j->total_gpu = sqlite3_column_int64(st, 19);
	j->total_tasks = sqlite3_column_int64(st, 20);
	j->total_roles = sqlite3_column_int64(st, 21);
}

static int read_tags(struct store_conn *c, struct arena *a, struct store_job *j, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_TAGS, err);
	size_t cap = 4, n = 0;
	const char **tags = arena_alloc(a, cap * sizeof(*tags));
	int rc = SQLITE_DONE;
	sqlite3_bind_int64(st, 1, j->id);
	while (tags && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			const char **bigger = arena_alloc(a, cap * 2 * sizeof(*tags));
			if (bigger)
				memcpy(bigger, tags, n * sizeof(*tags));
			tags = bigger;
			cap *= 2;
			if (!tags)
				break;
		}
		tags[n++] = store__text(st, 0, a);
	}
	sqlite3_reset(st);
	if (!tags)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "tags");
	j->tags = tags;
	j->ntags = n;
	return 0;
}

int store_job_insert(struct store_conn *c, struct store_job *j, const char *spec_text, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_INSERT, err);
	sqlite3_bind_text(st, 1, j->username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, j->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->debug_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, j->vc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, j->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, j->sub_state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, j->execution_type, -1, SQLITE_STATIC);
	bind_opt_text(st, 8, j->priority_class);
	sqlite3_bind_int(st, 9, j->priority);
	sqlite3_bind_int64(st, 10, j->submission_ms);
	if (j->created_ms)
		sqlite3_bind_int64(st, 11, j->created_ms);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_int64(st, 12, j->total_gpu);
	sqlite3_bind_int64(st, 13, j->total_tasks);
	sqlite3_bind_int64(st, 14, j->total_roles);
	sqlite3_bind_text(st, 15, j->config ? j->config : "", -1, SQLITE_STATIC);
	int rc = store__exec(c, st, err, "insert job");
	if (rc == GERR_CONFLICT)
		return gerr_set(err, GERR_CONFLICT, "Job %s~%s already exists.", j->username, j->name);
	if (rc)
		return rc;
	j->id = sqlite3_last_insert_rowid(c->db);
	STMT_OR_FAIL(st2, c, STMT_JOB_SPEC_INSERT, err);
	sqlite3_bind_int64(st2, 1, j->id);
	sqlite3_bind_text(st2, 2, spec_text, -1, SQLITE_STATIC);
	return store__exec(c, st2, err, "insert job spec");
}

int store_job_get(struct store_conn *c, const char *user, const char *name, struct arena *a,
                  struct store_job *j, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_GET, err);
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_job(st, a, j);
		j->config = store__text(st, 22, a);
		j->status = store__text(st, 23, a);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gerr_set(err, GERR_NOT_FOUND, "Job %s~%s is not found.", user, name);
	if (rc != SQLITE_ROW)
		return store__fail(c, rc, err, "job");
	return read_tags(c, a, j, err);
}

int store_job_exists(struct store_conn *c, const char *user, const char *name, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_EXISTS, err);
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store__fail(c, rc, err, "job");
}

int store_job_spec(struct store_conn *c, int64_t id, struct arena *a, const char **text, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_SPEC_GET, err);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	*text = rc == SQLITE_ROW ? store__text(st, 0, a) : NULL;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gerr_set(err, GERR_NOT_FOUND, "no job spec for job %lld", (long long)id);
	return rc == SQLITE_ROW ? 0 : store__fail(c, rc, err, "job spec");
}

/* Read every row of st into a growing array in a. */
static int read_jobs(struct store_conn *c, sqlite3_stmt *st, struct arena *a, struct store_job **out,
                     size_t *n, struct gerr *err)
{
	size_t cap = 16, k = 0;
	struct store_job *js = arena_alloc(a, cap * sizeof(*js));
	int rc = SQLITE_DONE;
	while (js && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_job *bigger = arena_alloc(a, cap * 2 * sizeof(*js));
			if (bigger)
				memcpy(bigger, js, k * sizeof(*js));
			js = bigger;
			cap *= 2;
			if (!js)
				break;
		}
		read_job(st, a, &js[k]);
		if (sqlite3_column_count(st) > 23)
			js[k].status = store__text(st, 23, a);
		k++;
	}
	if (!js)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "jobs");
	*out = js;
	*n = k;
	return 0;
}

int store_job_active(struct store_conn *c, struct arena *a, struct store_job **out, size_t *n,
                     struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_ACTIVE, err);
	int rc = read_jobs(c, st, a, out, n, err);
	sqlite3_reset(st);
	return rc;
}

int store_job_set_state(struct store_conn *c, int64_t id, const char *state, const char *sub_state,
                        const char *execution_type, int64_t launched_ms, int64_t completed_ms,
                        const int *exit_code, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_SET_STATE, err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sub_state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, execution_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, launched_ms);
	sqlite3_bind_int64(st, 6, completed_ms);
	sqlite3_bind_int(st, 7, exit_code != NULL);
	sqlite3_bind_int(st, 8, exit_code ? *exit_code : 0);
	return store__exec(c, st, err, "job state");
}

/* ---- the list query ------------------------------------------------------------ */

static void in_list(struct buf *sql, const char *col, size_t n, int *param)
{
	buf_printf(sql, " AND %s IN (", col);
	for (size_t i = 0; i < n; i++)
		buf_printf(sql, "%s?%d", i ? ", " : "", (*param)++);
	buf_putc(sql, ')');
}

int store_job_list(struct store_conn *c, const struct store_job_query *q, struct arena *a,
                   struct store_job **out, size_t *n, int64_t *total, struct gerr *err)
{
	struct buf where = BUF_INIT, sql = BUF_INIT;
	int param = 1, rc = 0;
	bool fts = false, like = false, default_prio = false;
	sqlite3_stmt *st = NULL;

	buf_puts(&where, " WHERE 1");
	if (q->nusernames)
		in_list(&where, "j.username", q->nusernames, &param);
	if (q->nvcs)
		in_list(&where, "j.vc", q->nvcs, &param);
	if (q->nstates)
		in_list(&where, "j.state", q->nstates, &param);
	if (q->npriorities) {
		size_t named = 0;
		for (size_t i = 0; i < q->npriorities; i++)
			if (!strcmp(q->priorities[i], "default"))
				default_prio = true;
			else
				named++;
		buf_puts(&where, " AND (0");
		if (named) {
			buf_puts(&where, " OR j.priority_class IN (");
			for (size_t i = 0, k = 0; i < q->npriorities; i++)
				if (strcmp(q->priorities[i], "default"))
					buf_printf(&where, "%s?%d", k++ ? ", " : "", param++);
			buf_putc(&where, ')');
		}
		if (default_prio)
			buf_puts(&where, " OR j.priority_class IS NULL");
		buf_putc(&where, ')');
	}
	int tags_in_first = param;
	if (q->ntags_in) {
		buf_puts(&where, " AND j.id IN (SELECT job_id FROM job_tags WHERE tag IN (");
		for (size_t i = 0; i < q->ntags_in; i++)
			buf_printf(&where, "%s?%d", i ? ", " : "", param++);
		buf_puts(&where, "))");
	}
	int tags_out_first = param;
	if (q->ntags_out) {
		buf_puts(&where, " AND j.id NOT IN (SELECT job_id FROM job_tags WHERE tag IN (");
		for (size_t i = 0; i < q->ntags_out; i++)
			buf_printf(&where, "%s?%d", i ? ", " : "", param++);
		buf_puts(&where, "))");
	}
	int kw_param = param;
	if (q->keyword && *q->keyword) {
		if (strlen(q->keyword) >= 3) {
			/* trigram index; the phrase is quoted so FTS syntax cannot leak in */
			fts = true;
			buf_printf(&where, " AND j.id IN (SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH ?%d)", param++);
		} else {
			like = true;
			buf_printf(&where, " AND (instr(j.name, ?%d) OR instr(j.username, ?%d) OR instr(j.vc, ?%d))",
			           param, param, param);
			param++;
		}
	}

	/* bind the same values to whichever statement */
#define BIND_ALL(stmt)                                                                             \
	do {                                                                                           \
		int p_ = 1;                                                                               \
		for (size_t i = 0; i < q->nusernames; i++)                                                \
			sqlite3_bind_text(stmt, p_++, q->usernames[i], -1, SQLITE_STATIC);                    \
		for (size_t i = 0; i < q->nvcs; i++)                                                      \
			sqlite3_bind_text(stmt, p_++, q->vcs[i], -1, SQLITE_STATIC);                          \
		for (size_t i = 0; i < q->nstates; i++)                                                   \
			sqlite3_bind_text(stmt, p_++, q->states[i], -1, SQLITE_STATIC);                       \
		for (size_t i = 0; i < q->npriorities; i++)                                               \
			if (strcmp(q->priorities[i], "default"))                                              \
				sqlite3_bind_text(stmt, p_++, q->priorities[i], -1, SQLITE_STATIC);               \
		p_ = tags_in_first;                                                                       \
		for (size_t i = 0; i < q->ntags_in; i++)                                                  \
			sqlite3_bind_text(stmt, p_++, q->tags_in[i], -1, SQLITE_STATIC);                      \
		p_ = tags_out_first;                                                                      \
		for (size_t i = 0; i < q->ntags_out; i++)                                                 \
			sqlite3_bind_text(stmt, p_++, q->tags_out[i], -1, SQLITE_STATIC);                     \
		if (fts)                                                                                  \
			sqlite3_bind_text(stmt, kw_param, phrase, -1, SQLITE_TRANSIENT);                       \
		else if (like)                                                                            \
			sqlite3_bind_text(stmt, kw_param, q->keyword, -1, SQLITE_STATIC);                     \
	} while (0)

	char *phrase = NULL;
	if (fts) {
		/* "..." with embedded quotes doubled */
		struct buf ph = BUF_INIT;
		buf_putc(&ph, '"');
		for (const char *s = q->keyword; *s; s++) {
			if (*s == '"')
				buf_putc(&ph, '"');
			buf_putc(&ph, *s);
		}
		buf_putc(&ph, '"');
		phrase = buf_take(&ph);
		if (!phrase) {
			rc = gerr_set(err, GERR_NOMEM, "store: out of memory");
			goto out;
		}
	}
	if (where.oom) {
		rc = gerr_set(err, GERR_NOMEM, "store: out of memory");
		goto out;
	}

	if (q->with_total) {
		buf_printf(&sql, "SELECT count(*) FROM jobs j%s", buf_str(&where));
		rc = sqlite3_prepare_v2(c->db, buf_str(&sql), -1, &st, NULL);
		if (rc != SQLITE_OK) {
			rc = store__fail(c, rc, err, "job count");
			goto out;
		}
		BIND_ALL(st);
		rc = sqlite3_step(st);
		*total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_ROW) {
			rc = store__fail(c, rc, err, "job count");
			goto out;
		}
		buf_clear(&sql);
	}
	/* nulls last ascending, first descending (OpenPAI's ordering); a NOT
	 * NULL column sorts plainly so its index serves the ORDER BY */
	buf_printf(&sql, "SELECT j.%s FROM jobs j%s ORDER BY ", STORE_JOB_COLUMNS, buf_str(&where));
	if (q->order_nullable)
		buf_printf(&sql, "j.%s IS %sNULL, ", q->order_field, q->order_desc ? "NOT " : "");
	buf_printf(&sql, "j.%s %s, j.id %s LIMIT %lld OFFSET %lld", q->order_field,
	           q->order_desc ? "DESC" : "ASC", q->order_desc ? "DESC" : "ASC", (long long)q->limit,
	           (long long)q->offset);
	rc = sqlite3_prepare_v2(c->db, buf_str(&sql), -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = store__fail(c, rc, err, "job list");
		goto out;
	}
	BIND_ALL(st);
	rc = read_jobs(c, st, a, out, n, err);
	for (size_t i = 0; !rc && i < *n; i++)
		rc = read_tags(c, a, &(*out)[i], err);
out:
#undef BIND_ALL
	sqlite3_finalize(st);
	free(phrase);
	buf_fini(&where);
	buf_fini(&sql);
	return rc;
}

int store_job_tag(struct store_conn *c, int64_t id, const char *tag, bool add, struct gerr *err)
{
	STMT_OR_FAIL(st, c, add ? STMT_JOB_TAG_ADD : STMT_JOB_TAG_DEL, err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	int rc = store__exec(c, st, err, "tag");
	if (!rc && !add && sqlite3_changes(c->db) == 0)
		return gerr_set(err, GERR_NOT_FOUND, "Tag %s is not found.", tag);
	return rc;
}

/* ---- events ---------------------------------------------------------------------- */

int store_job_event(struct store_conn *c, int64_t job_id, int64_t now_ms, const char *type,
                    const char *reason, const char *message, struct gerr *err)
{
	STMT_OR_FAIL(last, c, STMT_EVENT_LAST, err);
	sqlite3_bind_int64(last, 1, job_id);
	int rc = sqlite3_step(last);
	if (rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(last, 1), type) &&
	    !strcmp((const char *)sqlite3_column_text(last, 2), reason) &&
	    !strcmp((const char *)sqlite3_column_text(last, 3), message)) {
		int64_t id = sqlite3_column_int64(last, 0);
		sqlite3_reset(last);
		STMT_OR_FAIL(bump, c, STMT_EVENT_BUMP, err);
		sqlite3_bind_int64(bump, 1, id);
		sqlite3_bind_int64(bump, 2, now_ms);
		return store__exec(c, bump, err, "event");
	}
	sqlite3_reset(last);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store__fail(c, rc, err, "event");
	STMT_OR_FAIL(st, c, STMT_EVENT_INSERT, err);
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, message, -1, SQLITE_STATIC);
	return store__exec(c, st, err, "event");
}

int store_job_events(struct store_conn *c, int64_t job_id, const char *type, struct arena *a,
                     struct store_event **out, size_t *n, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_EVENT_LIST, err);
	size_t cap = 16, k = 0;
	struct store_event *ev = arena_alloc(a, cap * sizeof(*ev));
	int rc = SQLITE_DONE;
	sqlite3_bind_int64(st, 1, job_id);
	bind_opt_text(st, 2, type);
	while (ev && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_event *bigger = arena_alloc(a, cap * 2 * sizeof(*ev));
			if (bigger)
				memcpy(bigger, ev, k * sizeof(*ev));
			ev = bigger;
			cap *= 2;
			if (!ev)
				break;
		}
		struct store_event *e = &ev[k++];
		e->id = sqlite3_column_int64(st, 0);
		e->time_ms = sqlite3_column_int64(st, 1);
		e->last_ms = sqlite3_column_int64(st, 2);
		e->type = store__text(st, 3, a);
		e->reason = store__text(st, 4, a);
		e->message = store__text(st, 5, a);
		e->count = sqlite3_column_int(st, 6);
	}
	sqlite3_reset(st);
	if (!ev)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "events");
	*out = ev;
	*n = k;
	return 0;
}

/* ---- placements ---------------------------------------------------------------- */

int store_placement_put(struct store_conn *c, int64_t job_id, const char *group, const char *bind_json,
                        int64_t now_ms, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_PLACEMENT_PUT, err);
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, bind_json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	return store__exec(c, st, err, "placement");
}

int store_placement_delete(struct store_conn *c, int64_t job_id, const char *group, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_PLACEMENT_DEL, err);
	sqlite3_bind_int64(st, 1, job_id);
	bind_opt_text(st, 2, group);
	return store__exec(c, st, err, "placement");
}

int store_placement_list(struct store_conn *c, int64_t job_id, struct arena *a,
                         struct store_placement **out, size_t *n, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_PLACEMENT_LIST, err);
	size_t cap = 4, k = 0;
	struct store_placement *ps = arena_alloc(a, cap * sizeof(*ps));
	int rc = SQLITE_DONE;
	sqlite3_bind_int64(st, 1, job_id);
	while (ps && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_placement *bigger = arena_alloc(a, cap * 2 * sizeof(*ps));
			if (bigger)
				memcpy(bigger, ps, k * sizeof(*ps));
			ps = bigger;
			cap *= 2;
			if (!ps)
				break;
		}
		ps[k].group = store__text(st, 0, a);
		ps[k].bind = store__text(st, 1, a);
		ps[k].placed_ms = sqlite3_column_int64(st, 2);
		k++;
	}
	sqlite3_reset(st);
	if (!ps)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "placements");
	*out = ps;
	*n = k;
	return 0;
}
