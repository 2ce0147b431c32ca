/* SPDX-License-Identifier: MIT */
/*
 * tasks.c — what the controller saves as jobs run: the job's status, each
 * task of each job attempt, and the finished attempts.
 *
 * Status documents are JSON the controller writes and the API reads; the
 * store does not look inside them. The columns OpenPAI's job list filters
 * and sorts on (state, retries, times, exit code) are kept beside them.
 */
#include <string.h>

#include "store/internal.h"

#define STMT_OR_FAIL(st, c, id, err)                     \
	sqlite3_stmt *st = store__stmt((c), (id), (err)); \
	if (!st)                                          \
		return (err) ? (err)->code : GERR_IO

static void bind_ms(sqlite3_stmt *st, int i, int64_t ms)
{
	if (ms > 0)
		sqlite3_bind_int64(st, i, ms);
	else
		sqlite3_bind_null(st, i);
}

int store_job_save(struct store_conn *c, int64_t id, const struct store_job_status *s, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_JOB_SAVE, err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, s->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->sub_state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->execution_type, -1, SQLITE_STATIC);
	bind_ms(st, 5, s->launched_ms);
	bind_ms(st, 6, s->completed_ms);
	sqlite3_bind_int(st, 7, s->attempt_id);
	sqlite3_bind_int(st, 8, s->retries);
	sqlite3_bind_int(st, 9, s->user_retries);
	sqlite3_bind_int64(st, 10, s->retry_delay_ms);
	if (s->has_exit_code)
		sqlite3_bind_int(st, 11, s->app_exit_code);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_text(st, 12, s->status ? s->status : "{}", -1, SQLITE_STATIC);
	return store__exec(c, st, err, "job status");
}

int store_task_put(struct store_conn *c, int64_t job_id, int64_t attempt, const struct store_task *t,
                   struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_TASK_PUT, err);
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	sqlite3_bind_int64(st, 3, t->pos);
	sqlite3_bind_text(st, 4, t->role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->index);
	sqlite3_bind_text(st, 6, t->status, -1, SQLITE_STATIC);
	return store__exec(c, st, err, "task");
}

int store_task_list(struct store_conn *c, int64_t job_id, int64_t attempt, struct arena *a,
                    struct store_task **out, size_t *n, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_TASK_LIST, err);
	size_t cap = 8, k = 0;
	struct store_task *ts = arena_alloc(a, cap * sizeof(*ts));
	int rc = SQLITE_DONE;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	while (ts && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_task *bigger = arena_alloc(a, cap * 2 * sizeof(*ts));
			if (bigger)
				memcpy(bigger, ts, k * sizeof(*ts));
			ts = bigger;
			cap *= 2;
			if (!ts)
				break;
		}
		ts[k].pos = sqlite3_column_int64(st, 0);
		ts[k].role = store__text(st, 1, a);
		ts[k].index = sqlite3_column_int64(st, 2);
		ts[k].status = store__text(st, 3, a);
		k++;
	}
	sqlite3_reset(st);
	if (!ts)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "tasks");
	*out = ts;
	*n = k;
	return 0;
}

int store_attempt_put(struct store_conn *c, int64_t job_id, int64_t attempt, const char *status,
                      struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_ATTEMPT_PUT, err);
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	return store__exec(c, st, err, "job attempt");
}

int store_attempt_list(struct store_conn *c, int64_t job_id, struct arena *a, struct store_attempt **out,
                       size_t *n, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_ATTEMPT_LIST, err);
	size_t cap = 4, k = 0;
	struct store_attempt *as = arena_alloc(a, cap * sizeof(*as));
	int rc = SQLITE_DONE;
	sqlite3_bind_int64(st, 1, job_id);
	while (as && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_attempt *bigger = arena_alloc(a, cap * 2 * sizeof(*as));
			if (bigger)
				memcpy(bigger, as, k * sizeof(*as));
			as = bigger;
			cap *= 2;
			if (!as)
				break;
		}
		as[k].attempt = sqlite3_column_int64(st, 0);
		as[k].status = store__text(st, 1, a);
		k++;
	}
	sqlite3_reset(st);
	if (!as)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "job attempts");
	*out = as;
	*n = k;
	return 0;
}
