/* SPDX-License-Identifier: MIT */
/* test_store — the SQLite store: schema, users, groups, tokens, jobs, list queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct store_conn *c;
	struct arena a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct gerr e;
	strcpy(f->dir, "/tmp/gantry-test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->st = store_open(f->dir, &e);
	if (!f->st)
		fail_msg("store_open: %s", e.msg);
	f->c = store_conn_get(f->st, &e);
	arena_init(&f->a, 4096);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	store_conn_put(f->st, f->c);
	store_close(f->st);
	arena_fini(&f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void schema_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	assert_int_equal(store_schema_version(f->c), 2);
	assert_int_equal(store_meta_set(f->c, "server-id", "abc", &e), 0);
	store_conn_put(f->st, f->c);
	store_close(f->st);
	/* reopening applies nothing twice and keeps the data */
	f->st = store_open(f->dir, &e);
	assert_non_null(f->st);
	f->c = store_conn_get(f->st, &e);
	const char *v;
	assert_int_equal(store_meta_get(f->c, "server-id", &f->a, &v, &e), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(store_meta_get(f->c, "missing", &f->a, &v, &e), 0);
	assert_null(v);
}

static void users_and_groups(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	const char *groups[] = { "default", "research" };
	struct store_user u = { .username = "alice", .password_hash = "$argon2id$x", .email = "a@x",
	                        .extension = "{\"k\":1}", .created_ms = 5, .password_changed_ms = 5,
	                        .groups = groups, .ngroups = 2 };
	struct store_group g = { "research", "desc", "", "{\"acls\":{\"virtualClusters\":[\"research\"]}}" };
	assert_int_equal(store_group_put(f->c, &g, false, &e), 0);
	assert_int_equal(store_group_put(f->c, &g, false, &e), GERR_CONFLICT);
	assert_int_equal(store_user_insert(f->c, &u, &e), 0);
	assert_int_equal(store_user_insert(f->c, &u, &e), GERR_CONFLICT);
	assert_string_equal(e.msg, "User name alice already exists.");
	assert_int_equal(store_user_count(f->c), 1);

	struct store_user got;
	assert_int_equal(store_user_get(f->c, "alice", &f->a, &got, &e), 0);
	assert_string_equal(got.email, "a@x");
	assert_int_equal(got.ngroups, 2);
	assert_string_equal(got.groups[0], "default");
	assert_string_equal(got.groups[1], "research");
	assert_int_equal(store_user_get(f->c, "bob", &f->a, &got, &e), GERR_NOT_FOUND);

	assert_int_equal(store_user_update(f->c, "alice", NULL, "new@x", NULL, 9, &e), 0);
	assert_int_equal(store_user_update(f->c, "bob", NULL, "new@x", NULL, 9, &e), GERR_NOT_FOUND);
	assert_int_equal(store_user_get(f->c, "alice", &f->a, &got, &e), 0);
	assert_string_equal(got.email, "new@x");
	assert_string_equal(got.extension, "{\"k\":1}");

	const char **members;
	size_t n;
	assert_int_equal(store_group_members(f->c, "research", &f->a, &members, &n, &e), 0);
	assert_int_equal(n, 1);
	/* deleting a group also takes it from its users */
	assert_int_equal(store_group_delete(f->c, "research", &e), 0);
	assert_int_equal(store_group_delete(f->c, "research", &e), GERR_NOT_FOUND);
	assert_int_equal(store_user_get(f->c, "alice", &f->a, &got, &e), 0);
	assert_int_equal(got.ngroups, 1);
	assert_int_equal(store_user_delete(f->c, "alice", &e), 0);
	assert_int_equal(store_user_delete(f->c, "alice", &e), GERR_NOT_FOUND);
}

static void tokens(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	struct store_user u = { .username = "t", .password_hash = "h", .created_ms = 1, .password_changed_ms = 1 };
	assert_int_equal(store_user_insert(f->c, &u, &e), 0);
	struct store_token browser = { .username = "t", .application = false, .created_ms = 100, .expires_ms = 1000 };
	struct store_token app = { .username = "t", .application = true, .created_ms = 100, .expires_ms = 0 };
	memset(browser.hash, 1, 32);
	memset(app.hash, 2, 32);
	assert_int_equal(store_token_insert(f->c, &browser, &e), 0);
	assert_int_equal(store_token_insert(f->c, &app, &e), 0);
	struct store_token got;
	assert_int_equal(store_token_get(f->c, browser.hash, 500, &f->a, &got, &e), 0);
	assert_false(got.application);
	/* expired */
	assert_int_equal(store_token_get(f->c, browser.hash, 1000, &f->a, &got, &e), GERR_NOT_FOUND);
	assert_int_equal(store_token_get(f->c, app.hash, 1LL << 50, &f->a, &got, &e), 0);
	assert_true(got.application);

	struct store_token *list;
	size_t n;
	assert_int_equal(store_token_list(f->c, "t", 500, &f->a, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	/* listing after expiry purges the expired one */
	assert_int_equal(store_token_list(f->c, "t", 2000, &f->a, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_true(list[0].application);
	/* only the owner deletes */
	assert_int_equal(store_token_delete(f->c, app.hash, "someone", &e), GERR_NOT_FOUND);
	assert_int_equal(store_token_delete(f->c, app.hash, "t", &e), 0);
	assert_int_equal(store_token_get(f->c, app.hash, 0, &f->a, &got, &e), GERR_NOT_FOUND);
	/* browser-only purge keeps application tokens */
	browser.expires_ms = 0;
	memset(browser.hash, 3, 32);
	assert_int_equal(store_token_insert(f->c, &browser, &e), 0);
	memset(app.hash, 4, 32);
	assert_int_equal(store_token_insert(f->c, &app, &e), 0);
	assert_int_equal(store_token_delete_user(f->c, "t", true, &e), 0);
	assert_int_equal(store_token_get(f->c, browser.hash, 0, &f->a, &got, &e), GERR_NOT_FOUND);
	assert_int_equal(store_token_get(f->c, app.hash, 0, &f->a, &got, &e), 0);
	/* deleting the user deletes its tokens */
	assert_int_equal(store_user_delete(f->c, "t", &e), 0);
	assert_int_equal(store_token_get(f->c, app.hash, 0, &f->a, &got, &e), GERR_NOT_FOUND);
}

static int64_t add_job(struct fixture *f, const char *user, const char *name, const char *vc, const char *state,
                       const char *prio, int64_t t)
{
	struct gerr e;
	struct store_job j = { .username = user, .name = name, .debug_id = "d", .vc = vc, .state = state,
	                       .sub_state = "AttemptCreationPending", .execution_type = "START",
	                       .priority_class = prio, .priority = 10, .submission_ms = t, .created_ms = t,
	                       .total_gpu = 1, .total_tasks = 1, .total_roles = 1, .config = "name: x\n" };
	assert_int_equal(store_job_insert(f->c, &j, "secret spec", &e), 0);
	return j.id;
}

static size_t list(struct fixture *f, struct store_job_query *q, struct store_job **out)
{
	size_t n;
	int64_t total;
	struct gerr e;
	if (!q->order_field)
		q->order_field = "submission_ms", q->order_desc = true;
	if (!q->limit)
		q->limit = 100;
	int rc = store_job_list(f->c, q, &f->a, out, &n, &total, &e);
	if (rc)
		fail_msg("list: %s", e.msg);
	return n;
}

static void jobs_and_queries(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	struct store_job j, *js;
	int64_t id1 = add_job(f, "alice", "train-resnet", "default", "WAITING", NULL, 1000);
	add_job(f, "alice", "eval", "research", "RUNNING", "prod", 2000);
	add_job(f, "bob", "train-bert", "default", "STOPPED", "oppo", 3000);
	add_job(f, "bob", "x", "research", "WAITING", NULL, 4000);

	/* names are never reused per user */
	struct store_job dup = { .username = "alice", .name = "eval", .debug_id = "d", .vc = "v", .state = "WAITING",
	                         .sub_state = "s", .execution_type = "START", .priority = 1, .submission_ms = 1 };
	assert_int_equal(store_job_insert(f->c, &dup, "", &e), GERR_CONFLICT);
	assert_string_equal(e.msg, "Job alice~eval already exists.");

	assert_int_equal(store_job_get(f->c, "alice", "train-resnet", &f->a, &j, &e), 0);
	assert_int_equal(j.id, id1);
	assert_string_equal(j.config, "name: x\n");
	assert_null(j.priority_class);
	assert_int_equal(store_job_get(f->c, "alice", "nope", &f->a, &j, &e), GERR_NOT_FOUND);
	const char *spec;
	assert_int_equal(store_job_spec(f->c, id1, &f->a, &spec, &e), 0);
	assert_string_equal(spec, "secret spec");

	struct store_job_query q = { 0 };
	assert_int_equal(list(f, &q, &js), 4);
	assert_string_equal(js[0].name, "x");       /* newest first */
	const char *bob[] = { "bob" };
	q = (struct store_job_query){ .usernames = bob, .nusernames = 1 };
	assert_int_equal(list(f, &q, &js), 2);
	const char *states[] = { "WAITING", "RUNNING" };
	q = (struct store_job_query){ .states = states, .nstates = 2 };
	assert_int_equal(list(f, &q, &js), 3);
	const char *prios[] = { "default" };
	q = (struct store_job_query){ .priorities = prios, .npriorities = 1 };
	assert_int_equal(list(f, &q, &js), 2);
	const char *prios2[] = { "prod", "oppo" };
	q = (struct store_job_query){ .priorities = prios2, .npriorities = 2 };
	assert_int_equal(list(f, &q, &js), 2);
	/* keyword: trigram index for 3+ characters, substring below */
	q = (struct store_job_query){ .keyword = "train" };
	assert_int_equal(list(f, &q, &js), 2);
	q = (struct store_job_query){ .keyword = "rese" };   /* the VC research */
	assert_int_equal(list(f, &q, &js), 2);
	q = (struct store_job_query){ .keyword = "x" };
	assert_int_equal(list(f, &q, &js), 1);
	q = (struct store_job_query){ .keyword = "\"; DROP TABLE jobs; --" };
	assert_int_equal(list(f, &q, &js), 0);
	/* paging and total */
	q = (struct store_job_query){ .order_field = "submission_ms", .order_desc = false, .limit = 2, .offset = 1,
	                              .with_total = true };
	size_t n;
	int64_t total;
	assert_int_equal(store_job_list(f->c, &q, &f->a, &js, &n, &total, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(total, 4);
	assert_string_equal(js[0].name, "eval");
	/* nulls sort last ascending */
	q = (struct store_job_query){ .order_field = "priority_class", .order_nullable = true, .order_desc = false };
	assert_int_equal(list(f, &q, &js), 4);
	assert_string_equal(js[0].priority_class, "oppo");
	assert_null(js[3].priority_class);

	/* tags */
	assert_int_equal(store_job_tag(f->c, id1, "urgent", true, &e), 0);
	assert_int_equal(store_job_tag(f->c, id1, "urgent", true, &e), 0);
	const char *tag[] = { "urgent" };
	q = (struct store_job_query){ .tags_in = tag, .ntags_in = 1 };
	assert_int_equal(list(f, &q, &js), 1);
	assert_int_equal(js[0].ntags, 1);
	q = (struct store_job_query){ .tags_out = tag, .ntags_out = 1 };
	assert_int_equal(list(f, &q, &js), 3);
	assert_int_equal(store_job_tag(f->c, id1, "urgent", false, &e), 0);
	assert_int_equal(store_job_tag(f->c, id1, "urgent", false, &e), GERR_NOT_FOUND);

	/* state and active jobs */
	int code = -210;
	assert_int_equal(store_job_set_state(f->c, id1, "STOPPED", "Completed", "STOP", 0, 5000, &code, &e), 0);
	assert_int_equal(store_job_get(f->c, "alice", "train-resnet", &f->a, &j, &e), 0);
	assert_string_equal(j.state, "STOPPED");
	assert_true(j.has_exit_code);
	assert_int_equal(j.app_exit_code, -210);
	assert_int_equal(j.completed_ms, 5000);
	assert_int_equal(j.launched_ms, 0);
	assert_int_equal(store_job_active(f->c, &f->a, &js, &n, &e), 0);
	assert_int_equal(n, 2);
}

static void events_and_placements(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	struct store_event *ev;
	size_t n;
	int64_t id = add_job(f, "u", "j", "default", "WAITING", NULL, 1);
	assert_int_equal(store_job_event(f->c, id, 10, "Normal", "Submitted", "by u", &e), 0);
	assert_int_equal(store_job_event(f->c, id, 20, "Normal", "Waiting", "busy", &e), 0);
	assert_int_equal(store_job_event(f->c, id, 30, "Normal", "Waiting", "busy", &e), 0);   /* repeats count */
	assert_int_equal(store_job_event(f->c, id, 40, "Warning", "Preempted", "by v", &e), 0);
	assert_int_equal(store_job_events(f->c, id, NULL, &f->a, &ev, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ev[1].count, 2);
	assert_int_equal(ev[1].time_ms, 20);
	assert_int_equal(ev[1].last_ms, 30);
	assert_int_equal(store_job_events(f->c, id, "Warning", &f->a, &ev, &n, &e), 0);
	assert_int_equal(n, 1);

	struct store_placement *ps;
	assert_int_equal(store_placement_put(f->c, id, "u~j/default", "{\"a\":1}", 5, &e), 0);
	assert_int_equal(store_placement_put(f->c, id, "u~j/default", "{\"a\":2}", 6, &e), 0);
	assert_int_equal(store_placement_list(f->c, id, &f->a, &ps, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ps[0].bind, "{\"a\":2}");
	assert_int_equal(store_placement_delete(f->c, id, NULL, &e), 0);
	assert_int_equal(store_placement_list(f->c, id, &f->a, &ps, &n, &e), 0);
	assert_int_equal(n, 0);
}

static void job_status_tasks_attempts(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	int64_t id = add_job(f, "u", "run", "default", "WAITING", NULL, 100);
	struct store_job_status s = { .state = "FAILED", .sub_state = "Completed", .execution_type = "START",
	                              .launched_ms = 150, .completed_ms = 200, .attempt_id = 2, .retries = 2,
	                              .user_retries = 1, .has_exit_code = true, .app_exit_code = 255,
	                              .status = "{\"attempt\":2}" };
	assert_int_equal(store_job_save(f->c, id, &s, &e), 0);
	struct store_job j;
	assert_int_equal(store_job_get(f->c, "u", "run", &f->a, &j, &e), 0);
	assert_string_equal(j.state, "FAILED");
	assert_string_equal(j.sub_state, "Completed");
	assert_int_equal(j.launched_ms, 150);
	assert_int_equal(j.completed_ms, 200);
	assert_int_equal(j.attempt_id, 2);
	assert_int_equal(j.retries, 2);
	assert_int_equal(j.user_retries, 1);
	assert_true(j.has_exit_code);
	assert_int_equal(j.app_exit_code, 255);
	assert_string_equal(j.status, "{\"attempt\":2}");
	/* a final job is not active any more; an active one carries its status */
	struct store_job *act;
	size_t n;
	int64_t id2 = add_job(f, "u", "run2", "default", "RUNNING", NULL, 101);
	assert_int_equal(store_job_active(f->c, &f->a, &act, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(act[0].id, id2);
	assert_string_equal(act[0].status, "{}");

	struct store_task t0 = { 0, "worker", 0, "{\"state\":\"AttemptRunning\"}" };
	struct store_task t1 = { 1, "worker", 1, "{\"state\":\"AttemptCreationPending\"}" };
	assert_int_equal(store_task_put(f->c, id, 0, &t1, &e), 0);
	assert_int_equal(store_task_put(f->c, id, 0, &t0, &e), 0);
	t0.status = "{\"state\":\"Completed\"}";
	assert_int_equal(store_task_put(f->c, id, 0, &t0, &e), 0);
	assert_int_equal(store_task_put(f->c, id, 1, &t0, &e), 0);
	struct store_task *ts;
	assert_int_equal(store_task_list(f->c, id, 0, &f->a, &ts, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ts[0].pos, 0);
	assert_string_equal(ts[0].status, "{\"state\":\"Completed\"}");
	assert_string_equal(ts[1].role, "worker");
	assert_int_equal(ts[1].index, 1);
	assert_int_equal(store_task_list(f->c, id, 1, &f->a, &ts, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_task_list(f->c, id, 7, &f->a, &ts, &n, &e), 0);
	assert_int_equal(n, 0);

	struct store_attempt *as;
	assert_int_equal(store_attempt_put(f->c, id, 1, "{\"a\":1}", &e), 0);
	assert_int_equal(store_attempt_put(f->c, id, 0, "{\"a\":0}", &e), 0);
	assert_int_equal(store_attempt_list(f->c, id, &f->a, &as, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(as[0].attempt, 0);
	assert_string_equal(as[1].status, "{\"a\":1}");
}

static void transactions_roll_back(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	struct store_user u = { .username = "ghost", .password_hash = "h", .created_ms = 1, .password_changed_ms = 1 };
	assert_int_equal(store_tx_begin(f->c, &e), 0);
	assert_int_equal(store_user_insert(f->c, &u, &e), 0);
	store_tx_rollback(f->c);
	struct store_user got;
	assert_int_equal(store_user_get(f->c, "ghost", &f->a, &got, &e), GERR_NOT_FOUND);
	/* a second connection sees committed data only */
	struct store_conn *c2 = store_conn_get(f->st, &e);
	assert_non_null(c2);
	assert_int_equal(store_tx_begin(f->c, &e), 0);
	assert_int_equal(store_user_insert(f->c, &u, &e), 0);
	assert_int_equal(store_user_get(c2, "ghost", &f->a, &got, &e), GERR_NOT_FOUND);
	assert_int_equal(store_tx_commit(f->c, &e), 0);
	assert_int_equal(store_user_get(c2, "ghost", &f->a, &got, &e), 0);
	store_conn_put(f->st, c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(schema_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(users_and_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(jobs_and_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(events_and_placements, setup, teardown),
		cmocka_unit_test_setup_teardown(job_status_tasks_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(transactions_roll_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
