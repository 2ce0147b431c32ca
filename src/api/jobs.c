/* SPDX-License-Identifier: MIT */
/*
 * jobs.c — /api/v2/jobs: submit, list, detail, config, stop, tags, events,
 * attempts, in OpenPAI's shapes.
 *
 * Reads go to the store on the worker's connection. Submit and stop go to
 * the control loop (server_submit / server_stop) and the request is
 * suspended until the decision is committed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "api/jobs.h"
#include "server/server.h"
#include "spec/spec.h"

/* "{user}~{job}" → user, name (arena copies); false when malformed */
static bool split_job(struct api_request *r, const char *id, const char **user, const char **name)
{
	const char *t = strchr(id, '~');
	if (!t || t == id || !t[1])
		return false;
	*user = arena_strndup(&r->arena, id, (size_t)(t - id));
	*name = arena_strdup(&r->arena, t + 1);
	return *user && *name;
}

/* Load the job named by the first path parameter, or answer 404. */
bool api_load_job(struct api_request *r, struct store_job *j)
{
	const char *user, *name;
	struct gerr e;
	if (!split_job(r, r->params[0], &user, &name)) {
		api_fail(r, 404, "NoJobError", "Job %s is not found.", r->params[0]);
		return false;
	}
	int rc = store_job_get(r->db, user, name, &r->arena, j, &e);
	if (rc == GERR_NOT_FOUND) {
		api_fail(r, 404, "NoJobError", "Job %s is not found.", r->params[0]);
		return false;
	}
	if (rc) {
		api_fail_gerr(r, &e, "NoJobError");
		return false;
	}
	return true;
}

json_t *api_ms(int64_t ms)
{
	return ms ? json_integer(ms) : json_null();
}

void api_job_retries_and_times(json_t *o, const struct store_job *j)
{
	json_object_set_new(o, "retries", json_integer(j->retries));
	json_object_set_new(o, "retryDetails", json_pack("{s:i, s:i, s:i}", "user", j->user_retries, "platform",
	                                                 j->retries - j->user_retries, "resource", 0));
	json_object_set_new(o, "retryDelayTime", json_integer(j->retry_delay_ms));
	json_object_set_new(o, "submissionTime", json_integer(j->submission_ms));
	json_object_set_new(o, "createdTime", api_ms(j->created_ms));
	json_object_set_new(o, "launchedTime", api_ms(j->launched_ms));
	json_object_set_new(o, "completedTime", api_ms(j->completed_ms));
}

json_t *api_job_tags(const struct store_job *j)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < j->ntags; i++)
		json_array_append_new(a, json_string(j->tags[i]));
	return a;
}

static json_t *job_summary(const struct store_job *j)
{
	json_t *o = json_object();
	json_object_set_new(o, "debugId", json_string(j->debug_id));
	json_object_set_new(o, "name", json_string(j->name));
	json_object_set_new(o, "username", json_string(j->username));
	json_object_set_new(o, "state", json_string(j->state));
	json_object_set_new(o, "subState", json_string(j->sub_state));
	json_object_set_new(o, "executionType", json_string(j->execution_type));
	json_object_set_new(o, "tags", api_job_tags(j));
	api_job_retries_and_times(o, j);
	json_object_set_new(o, "appExitCode", j->has_exit_code ? json_integer(j->app_exit_code) : json_null());
	json_object_set_new(o, "virtualCluster", json_string(j->vc));
	json_object_set_new(o, "totalGpuNumber", json_integer(j->total_gpu));
	json_object_set_new(o, "totalTaskNumber", json_integer(j->total_tasks));
	json_object_set_new(o, "totalTaskRoleNumber", json_integer(j->total_roles));
	json_object_set_new(o, "jobPriority", j->priority_class ? json_string(j->priority_class) : json_null());
	return o;
}

/* ---- list --------------------------------------------------------------------- */

/* Comma list from a query argument, in the request arena. */
static size_t csv(struct api_request *r, const char *key, const char ***out)
{
	const char *v = api_query(r, key);
	*out = NULL;
	if (!v || !*v)
		return 0;
	size_t n = 1;
	for (const char *p = v; *p; p++)
		n += *p == ',';
	const char **list = arena_alloc(&r->arena, n * sizeof(*list));
	size_t k = 0;
	while (list && *v) {
		const char *c = strchr(v, ',');
		size_t len = c ? (size_t)(c - v) : strlen(v);
		if (len)
			list[k++] = arena_strndup(&r->arena, v, len);
		v += len + (c ? 1 : 0);
	}
	*out = list;
	return k;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	if (!s || !*s)
		return false;
	long long v = strtoll(s, &end, 10);
	if (*end || v < 0)
		return false;
	*out = v;
	return true;
}

int api_get_jobs(struct api_request *r)
{
	static const struct { const char *field, *column; bool nullable; } orders[] = {
		{ "jobName", "name", false }, { "submissionTime", "submission_ms", false },
		{ "username", "username", false }, { "vc", "vc", false }, { "retries", "retries", false },
		{ "totalTaskNumber", "total_tasks", false }, { "totalGpuNumber", "total_gpu", false },
		{ "state", "state", false }, { "completionTime", "completed_ms", true },
		{ "jobPriority", "priority_class", true },
	};
	struct store_job_query q = { .order_field = "submission_ms", .order_desc = true, .limit = 5000 };
	const char *s;

	q.nusernames = csv(r, "username", &q.usernames);
	q.nvcs = csv(r, "vc", &q.vcs);
	q.nstates = csv(r, "state", &q.states);
	q.npriorities = csv(r, "jobPriority", &q.priorities);
	q.ntags_in = csv(r, "tagsContain", &q.tags_in);
	q.ntags_out = csv(r, "tagsNotContain", &q.tags_out);
	q.keyword = api_query(r, "keyword");
	if ((s = api_query(r, "offset")) && !parse_int(s, &q.offset))
		return api_fail(r, 400, "InvalidParametersError", "\"offset\" must be a non-negative integer");
	if ((s = api_query(r, "limit")) && (!parse_int(s, &q.limit) || q.limit < 1 || q.limit > 50000))
		return api_fail(r, 400, "InvalidParametersError", "\"limit\" must be an integer from 1 to 50000");
	if ((s = api_query(r, "order"))) {
		const char *comma = strchr(s, ',');
		size_t flen = comma ? (size_t)(comma - s) : strlen(s);
		bool found = false;
		for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]) && !found; i++)
			if (strlen(orders[i].field) == flen && !strncmp(orders[i].field, s, flen)) {
				q.order_field = orders[i].column;
				q.order_nullable = orders[i].nullable;
				found = true;
			}
		if (!found || (comma && strcasecmp(comma + 1, "ASC") && strcasecmp(comma + 1, "DESC")))
			return api_fail(r, 400, "InvalidParametersError",
			                "\"order\" must be <field>,ASC|DESC with field one of jobName, submissionTime, "
			                "username, vc, retries, totalTaskNumber, totalGpuNumber, state, completionTime, "
			                "jobPriority");
		q.order_desc = !comma || !strcasecmp(comma + 1, "DESC");
	}
	s = api_query(r, "withTotalCount");
	q.with_total = s && !strcmp(s, "true");

	struct store_job *jobs;
	size_t n;
	int64_t total = 0;
	struct gerr e;
	if (store_job_list(r->db, &q, &r->arena, &jobs, &n, &total, &e))
		return api_fail_gerr(r, &e, "NoJobError");
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list, job_summary(&jobs[i]));
	if (q.with_total)
		return api_json(r, 200, json_pack("{s:I, s:o}", "totalCount", (json_int_t)total, "data", list));
	return api_json(r, 200, list);
}

/* ---- submit --------------------------------------------------------------------- */

static void free_spec(void *p)
{
	spec_job_free(p);
}

static void submitted(void *ctx, int status, char *body)
{
	api_request_finish(ctx, status, body, NULL);
}

int api_post_job(struct api_request *r)
{
	struct spec_job *job;
	struct spec_opts opts = { r->user.username, server_spec_cluster(api_server(r)) };
	if (r->body_len == 0)
		return api_fail(r, 400, "InvalidProtocolError", "The request body must be a job protocol v2 YAML file.");
	if (!(job = spec_job_new()))
		return GERR_NOMEM;
	r->cleanup = free_spec;
	r->cleanup_arg = job;
	/* the VC first: an unknown one has no SKUs to check against */
	if (spec_yaml_load(job, r->body, r->body_len) == 0) {
		const struct spec_value *vc = spec_value_get(spec_value_get(job->root, "defaults"), "virtualCluster");
		const char *name = vc && vc->type == SPEC_STRING ? vc->str : "default";
		if (!server_vc_exists(api_server(r), name))
			return api_fail(r, 404, "NoVirtualClusterError", "Virtual cluster %s is not found.", name);
		if (!auth_may_use_vc(&r->user, name))
			return api_fail(r, 403, "ForbiddenUserError", "User %s is not allowed to do operation in %s.",
			                r->user.username, name);
	}
	int rc = spec_job_load(job, r->body, r->body_len, &opts);
	if (rc == GERR_NOMEM)
		return rc;
	if (rc) {
		/* every message, with its position; also as a list for the portal */
		struct buf msg = BUF_INIT;
		json_t *errs = json_array();
		for (size_t i = 0; i < job->ndiags; i++) {
			const struct spec_diag *d = &job->diags[i];
			if (d->line)
				buf_printf(&msg, "%s%u:%u: %s", i ? "\n" : "", d->line, d->col, d->msg);
			else
				buf_printf(&msg, "%s%s", i ? "\n" : "", d->msg);
			json_t *e = json_pack("{s:s}", "message", d->msg);
			if (d->line) {
				json_object_set_new(e, "line", json_integer(d->line));
				json_object_set_new(e, "column", json_integer(d->col));
			}
			json_array_append_new(errs, e);
		}
		json_t *body = json_pack("{s:s, s:s, s:o}", "code", "InvalidProtocolError", "message", buf_str(&msg),
		                         "errors", errs);
		buf_fini(&msg);
		return api_json(r, 400, body);
	}
	for (size_t i = 0; i < job->nstorages; i++)
		if (!auth_has_storage(&r->user, job->storages[i].name))
			return api_fail(r, 404, "NoStorageError", "Storage %s is not found.", job->storages[i].name);
	if (server_submit(api_server(r), job, r->user.username, r->body, r->body_len, submitted, r) != 0)
		return api_fail(r, 503, "UnknownError", "The server is stopping; try again.");
	return api_suspend(r);
}

/* ---- stop ----------------------------------------------------------------------- */

static bool owner_or_admin(struct api_request *r, const struct store_job *j)
{
	if (r->user.admin || !strcmp(r->user.username, j->username))
		return true;
	api_fail(r, 403, "ForbiddenUserError", "User %s is not allowed to do operation on job %s~%s.",
	         r->user.username, j->username, j->name);
	return false;
}

int api_put_job_execution(struct api_request *r)
{
	struct store_job j;
	const char *value;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_string(r, b, "value", true, &value);
	json_decref(b);
	if (!ok)
		return 0;
	if (strcmp(value, "START") && strcmp(value, "STOP"))
		return api_fail(r, 400, "InvalidParametersError", "\"value\" must be one of [START, STOP]");
	if (!api_load_job(r, &j) || !owner_or_admin(r, &j))
		return 0;
	if (!strcmp(value, "START"))
		/* as OpenPAI: a job only ever starts once; re-run means a new name */
		return api_json(r, 202, json_pack("{s:i, s:s}", "status", 202, "message", "Execute job successfully."));
	if (server_stop(api_server(r), j.id, j.username, j.name, r->user.username, submitted, r) != 0)
		return api_fail(r, 503, "UnknownError", "The server is stopping; try again.");
	return api_suspend(r);
}

int api_get_job_config(struct api_request *r)
{
	struct store_job j;
	if (!api_load_job(r, &j))
		return 0;
	if (!j.config || !*j.config)
		return api_fail(r, 404, "NoJobConfigError", "Config of job %s is not found.", r->params[0]);
	return api_text(r, 200, "text/yaml; charset=utf-8", j.config);
}

int api_get_job_ssh(struct api_request *r)
{
	struct store_job j;
	if (!api_load_job(r, &j))
		return 0;
	return api_fail(r, 404, "NoJobSshInfoError",
	                "SSH info of job %s is not found; SSH comes from the runtime's ssh plugin.", r->params[0]);
}

/* ---- tags -------------------------------------------------------------------- */

static int tag(struct api_request *r, bool add)
{
	struct store_job j;
	const char *value;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_string(r, b, "value", true, &value);
	json_decref(b);
	if (!ok)
		return 0;
	if (!*value || strchr(value, ',') || strlen(value) > 256)
		return api_fail(r, 400, "InvalidParametersError", "\"value\" must be a tag of 1 to 256 characters without commas");
	if (!api_load_job(r, &j) || !owner_or_admin(r, &j))
		return 0;
	int rc = store_job_tag(r->db, j.id, value, add, &e);
	if (rc == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoTagError", "Tag %s of job %s is not found.", value, r->params[0]);
	if (rc)
		return api_fail_gerr(r, &e, "NoJobError");
	char msg[700];
	snprintf(msg, sizeof(msg), "%s tag %s for job %s successfully.", add ? "Add" : "Delete", value, r->params[0]);
	return api_json(r, 200, json_pack("{s:i, s:s}", "status", 200, "message", msg));
}

int api_put_job_tag(struct api_request *r)
{
	return tag(r, true);
}

int api_delete_job_tag(struct api_request *r)
{
	return tag(r, false);
}

/* ---- events and attempts ------------------------------------------------------------ */

static json_t *iso(int64_t ms)
{
	char buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(ms % 1000));
	return json_string(buf);
}

int api_get_job_events(struct api_request *r)
{
	struct store_job j;
	struct store_event *ev;
	size_t n;
	struct gerr e;
	const char *type = api_query(r, "type");
	if (!api_load_job(r, &j))
		return 0;
	if (type && strcmp(type, "Warning") && strcmp(type, "Normal"))
		return api_fail(r, 400, "InvalidParametersError", "\"type\" must be one of [Warning, Normal]");
	if (store_job_events(r->db, j.id, type, &r->arena, &ev, &n, &e))
		return api_fail_gerr(r, &e, "NoJobError");
	json_t *data = json_array();
	/* OpenPAI sorts by lastTimestamp, newest first */
	for (size_t i = n; data && i-- > 0;) {
		char uid[32];
		snprintf(uid, sizeof(uid), "%lld", (long long)ev[i].id);
		json_array_append_new(data, json_pack("{s:s, s:s, s:n, s:n, s:n, s:n, s:s, s:s, s:s, s:o, s:o, s:i, s:s, s:s}",
		                                      "uid", uid, "frameworkName", j.debug_id, "podUid", "taskroleName",
		                                      "taskName", "taskIndex", "type", ev[i].type, "reason", ev[i].reason,
		                                      "message", ev[i].message, "firstTimestamp", iso(ev[i].time_ms),
		                                      "lastTimestamp", iso(ev[i].last_ms), "count", ev[i].count,
		                                      "sourceComponent", "gantry", "sourceHost", ""));
	}
	return api_json(r, 200, json_pack("{s:I, s:o}", "totalCount", (json_int_t)n, "data", data));
}

/* VS Code's name check: 404 NoJobError when free, 200 when taken. */
int api_get_v1_user_job(struct api_request *r)
{
	struct store_job j;
	struct gerr e;
	int rc = store_job_get(r->db, r->params[0], r->params[1], &r->arena, &j, &e);
	if (rc == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoJobError", "Job %s~%s is not found.", r->params[0], r->params[1]);
	if (rc)
		return api_fail_gerr(r, &e, "NoJobError");
	return api_json(r, 200, job_summary(&j));
}
