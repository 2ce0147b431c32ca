/* SPDX-License-Identifier: MIT */
/*
 * detail.c — a job in detail, and its attempts, in OpenPAI's shapes:
 * GET /api/v2/jobs/:job, .../attempts/:a, .../job-attempts[/:a].
 *
 * The control loop saves its state as JSON documents (the job's status,
 * each task of each attempt, each finished attempt; see
 * src/server/status.c); this file turns them into what rest-server serves
 * (../shared/research/protocol-controller-runtime.md §2.5), with Gantry's
 * additions (leafCells, placedTime, exit diagnostics as text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "api/jobs.h"
#include "ctl/ctl.h"
#include "runtime/runtime.h"
#include "spec/spec.h"

static const char *BEHAVIOR[] = { "UNKNOWN", "TRANSIENT", "TRANSIENT_CONFLICT", "PERMANENT" };

static json_t *strings(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* OpenPAI's generateExitSpec: the k8s-job-exit-spec entry for code. */
static json_t *exit_spec(bool has, int code)
{
	if (!has)
		return json_null();
	struct rt_exit_spec s;
	rt_exit_spec_for(code, &s);
	return json_pack("{s:i, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:o, s:o}", "code", code, "phrase",
	                 s.phrase, "issuer", s.issuer, "causer", s.causer, "type", s.type, "stage", s.stage, "behavior",
	                 BEHAVIOR[(unsigned)s.behavior < 4 ? s.behavior : 0], "reaction", s.reaction, "reason", s.reason,
	                 "repro", strings(s.repro), "solution", strings(s.solution));
}

/* The YAML between [PAI_RUNTIME_ERROR_START] and [PAI_RUNTIME_ERROR_END], as rest-server parses it. */
static json_t *runtime_message(const char *diag)
{
	static const char start[] = "[PAI_RUNTIME_ERROR_START]", end[] = "[PAI_RUNTIME_ERROR_END]";
	const char *a = diag ? strstr(diag, start) : NULL;
	const char *b = a ? strstr(a, end) : NULL;
	if (!b)
		return json_null();
	a += sizeof(start) - 1;
	struct spec_job *y = spec_job_new();
	json_t *v = NULL;
	if (y && spec_yaml_load(y, a, (size_t)(b - a)) == 0 && y->root)
		v = spec_value_to_json(y->root);
	spec_job_free(y);
	return v ? v : json_null();
}

static int64_t num(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static json_t *ms(json_t *o, const char *k)
{
	return api_ms(num(o, k));
}

struct comp {
	bool has, failed;
	int code;
	const char *phrase, *diag;
};

static struct comp comp_of(json_t *status)
{
	json_t *c = json_object_get(status, "completion");
	struct comp r = { 0 };
	if (!json_is_object(c))
		return r;
	r.has = true;
	r.code = (int)num(c, "code");
	r.failed = json_is_true(json_object_get(c, "failed"));
	r.phrase = json_string_value(json_object_get(c, "phrase"));
	r.diag = json_string_value(json_object_get(c, "diag"));
	return r;
}

static enum ctl_state state_of(json_t *status)
{
	int s = ctl_state_parse(json_string_value(json_object_get(status, "state")));
	return s < 0 ? CTL_CREATION_PENDING : (enum ctl_state)s;
}

/* One task of one attempt; row may be NULL (not saved yet: waiting). */
static json_t *task_status(const struct store_job *j, int64_t attempt, const struct spec_role *role, int64_t index,
                           json_t *row)
{
	json_t *t = json_object();
	struct comp c = comp_of(row);
	enum ctl_state st = row ? state_of(row) : CTL_CREATION_PENDING;
	const char *uid = json_string_value(json_object_get(row, "uid"));
	int64_t ta = num(row, "attempt");
	char log[1024];
	snprintf(log, sizeof(log), "/api/v2/jobs/%s~%s/attempts/%lld/taskRoles/%s/taskIndex/%lld/attempts/%lld/logs",
	         j->username, j->name, (long long)attempt, role->name, (long long)index, (long long)ta);
	json_t *ports = json_object(), *list;
	const char *label;
	json_object_foreach(json_object_get(row, "ports"), label, list) {
		char buf[512] = "";
		size_t i, off = 0;
		json_t *p;
		json_array_foreach(list, i, p)
			off += (size_t)snprintf(buf + off, off < sizeof(buf) ? sizeof(buf) - off : 0, "%s%lld", i ? "," : "",
			                        (long long)json_integer_value(p));
		json_object_set_new(ports, label, json_string(buf));
	}
	bool done = st == CTL_COMPLETED;
	json_object_set_new(t, "taskIndex", json_integer(index));
	json_object_set_new(t, "taskUid", uid ? json_string(uid) : json_null());
	json_object_set_new(t, "taskState", json_string(ctl_pai_state(st, c.has, c.code)));
	json_object_set_new(t, "containerId", uid ? json_string(uid) : json_null());
	json_object_set_new(t, "containerIp", json_deep_copy(json_object_get(row, "ip") ?: json_null()));
	json_object_set_new(t, "containerNodeName", json_deep_copy(json_object_get(row, "node") ?: json_null()));
	json_object_set_new(t, "containerPorts", ports);
	json_object_set_new(t, "containerGpus", json_null());
	json_object_set_new(t, "containerLog", uid ? json_string(log) : json_null());
	json_object_set_new(t, "containerExitCode", c.has ? json_integer(c.code) : json_null());
	json_object_set_new(t, "containerExitSpec", exit_spec(c.has, c.code));
	json_object_set_new(t, "containerExitDiagnostics", c.diag ? json_string(c.diag) : json_null());
	json_object_set_new(t, "retries", json_integer(num(row, "retries")));
	json_object_set_new(t, "accountableRetries", json_integer(num(row, "accountable")));
	json_object_set_new(t, "createdTime", row ? ms(row, "createdMs") : api_ms(j->created_ms));
	json_object_set_new(t, "launchedTime", ms(row, "attemptRunningMs"));
	json_object_set_new(t, "completedTime", done ? ms(row, "attemptCompletedMs") : json_null());
	json_object_set_new(t, "attemptId", json_integer(ta));
	json_object_set_new(t, "attemptState", json_string(ctl_pai_attempt_state(st, c.has, c.code)));
	json_object_set_new(t, "currentAttemptCreatedTime", row ? ms(row, "attemptCreatedMs") : api_ms(j->created_ms));
	json_object_set_new(t, "currentAttemptLaunchedTime", ms(row, "attemptRunningMs"));
	json_object_set_new(t, "currentAttemptCompletedTime", ms(row, "attemptCompletedMs"));
	json_object_set_new(t, "hived", json_pack("{s:s?, s:b, s:n}", "affinityGroupName", role->affinity_group,
	                                          "lazyPreempted", 0, "lazyPreemptionStatus"));
	/* Gantry: the leaf cells (GPU indices on the node) the scheduler chose, and the task's state in FC's words */
	json_object_set_new(t, "leafCells", json_deep_copy(json_object_get(row, "gpus") ?: json_null()));
	json_object_set_new(t, "placedTime", ms(row, "placedMs"));
	json_object_set_new(t, "subState", json_string(ctl_state_name(st)));
	return t;
}

/* taskRoles of one attempt, keyed by FC role name. */
static json_t *task_roles(struct api_request *r, const struct store_job *j, const struct spec_job *spec,
                          int64_t attempt)
{
	json_t *roles = json_object();
	struct store_task *ts = NULL;
	size_t nt = 0;
	json_t **rows = NULL;
	if (store_task_list(r->db, j->id, attempt, &r->arena, &ts, &nt, NULL) == 0 && nt)
		rows = calloc(nt, sizeof(*rows));
	for (size_t i = 0; rows && i < nt; i++) {
		json_error_t je;
		rows[i] = json_loads(ts[i].status, 0, &je);
	}
	size_t pos = 0;
	for (size_t i = 0; i < spec->nroles; i++) {
		const struct spec_role *role = &spec->roles[i];
		json_t *tasks = json_array();
		for (int64_t k = 0; k < role->instances; k++, pos++) {
			json_t *row = NULL;
			for (size_t q = 0; rows && q < nt && !row; q++)
				if ((size_t)ts[q].pos == pos)
					row = rows[q];
			json_array_append_new(tasks, task_status(j, attempt, role, k, row));
		}
		json_object_set_new(roles, role->fc_name, json_pack("{s:{s:s}, s:o}", "taskRoleStatus", "name",
		                                                    role->fc_name, "taskStatuses", tasks));
	}
	for (size_t i = 0; rows && i < nt; i++)
		json_decref(rows[i]);
	free(rows);
	return roles;
}

static struct spec_job *load_spec(struct api_request *r, const struct store_job *j)
{
	const char *text;
	struct spec_job *spec = spec_job_new();
	struct spec_opts opts = { j->username, NULL };
	if (spec && store_job_spec(r->db, j->id, &r->arena, &text, NULL) == 0 &&
	    spec_job_load(spec, text, strlen(text), &opts) == 0)
		return spec;
	spec_job_free(spec);
	return NULL;
}

static const char *trigger_role(const struct spec_job *spec, json_t *status)
{
	const char *role = json_string_value(json_object_get(json_object_get(status, "trigger"), "role"));
	for (size_t i = 0; spec && role && i < spec->nroles; i++)
		if (!strcmp(spec->roles[i].name, role))
			return spec->roles[i].fc_name;
	return role;
}

/* The job's status for one attempt: `status` is the job's document then. */
static json_t *job_status(const struct store_job *j, const struct spec_job *spec, json_t *status, bool latest)
{
	struct comp c = comp_of(status);
	enum ctl_state st = state_of(status);
	int64_t attempt = num(status, "attempt");
	json_t *trigger = json_object_get(status, "trigger");
	json_t *o = json_object();
	json_object_set_new(o, "username", json_string(j->username));
	json_object_set_new(o, "state", json_string(latest ? j->state : ctl_pai_attempt_state(st, c.has, c.code)));
	json_object_set_new(o, "subState", json_string(latest ? j->sub_state : ctl_state_name(st)));
	json_object_set_new(o, "executionType", json_string(j->execution_type));
	api_job_retries_and_times(o, j);
	json_object_set_new(o, "attemptId", json_integer(attempt));
	json_object_set_new(o, "attemptState", json_string(ctl_pai_attempt_state(st, c.has, c.code)));
	json_object_set_new(o, "appId", json_string(j->debug_id));
	json_object_set_new(o, "appProgress", json_integer(st >= CTL_ATTEMPT_COMPLETED ? 1 : 0));
	json_object_set_new(o, "appTrackingUrl", json_string(""));
	json_object_set_new(o, "appCreatedTime", ms(status, "attemptCreatedMs"));
	json_object_set_new(o, "appLaunchedTime", ms(status, "attemptRunningMs"));
	json_object_set_new(o, "appCompletedTime", ms(status, "attemptCompletedMs"));
	json_object_set_new(o, "appExitCode", c.has ? json_integer(c.code) : json_null());
	json_object_set_new(o, "appExitSpec", exit_spec(c.has, c.code));
	json_object_set_new(o, "appExitDiagnostics", c.diag ? json_string(c.diag) : json_null());
	json_object_set_new(o, "appExitMessages", json_pack("{s:n, s:o, s:n}", "container", "runtime",
	                                                    runtime_message(c.diag), "launcher"));
	json_object_set_new(o, "appExitTriggerMessage",
	                    json_deep_copy(json_object_get(trigger, "message") ?: json_null()));
	const char *tr = trigger_role(spec, status);
	json_object_set_new(o, "appExitTriggerTaskRoleName", tr ? json_string(tr) : json_null());
	json_object_set_new(o, "appExitTriggerTaskIndex",
	                    json_deep_copy(json_object_get(trigger, "index") ?: json_null()));
	json_object_set_new(o, "appExitType", c.has ? json_string(c.failed ? "Failed" : "Succeeded") : json_null());
	json_object_set_new(o, "virtualCluster", json_string(j->vc));
	return o;
}

static json_t *load_json(const char *text)
{
	json_error_t je;
	json_t *o = text ? json_loads(text, 0, &je) : NULL;
	return o ? o : json_object();
}

/* The document for attempt `a`: the history row, or the job's own for the latest. */
static json_t *attempt_doc(struct api_request *r, const struct store_job *j, int64_t a)
{
	if (a == j->attempt_id)
		return load_json(j->status);
	struct store_attempt *as;
	size_t n;
	if (store_attempt_list(r->db, j->id, &r->arena, &as, &n, NULL) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (as[i].attempt == a)
			return load_json(as[i].status);
	return NULL;
}

static json_t *job_detail(struct api_request *r, const struct store_job *j, int64_t attempt, json_t *status)
{
	struct spec_job *spec = load_spec(r, j);
	json_t *o = json_object();
	json_object_set_new(o, "debugId", json_string(j->debug_id));
	json_object_set_new(o, "name", json_string(j->name));
	json_object_set_new(o, "tags", api_job_tags(j));
	json_object_set_new(o, "jobPriority", j->priority_class ? json_string(j->priority_class) : json_null());
	json_object_set_new(o, "jobStatus", job_status(j, spec, status, attempt == j->attempt_id));
	json_object_set_new(o, "taskRoles", spec ? task_roles(r, j, spec, attempt) : json_object());
	spec_job_free(spec);
	return o;
}

static bool parse_attempt(struct api_request *r, const struct store_job *j, const char *s, int64_t *out)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (*end || !*s || a < 0 || a > j->attempt_id) {
		api_fail(r, 404, "NoJobError", "Job attempt %s of %s is not found.", s, r->params[0]);
		return false;
	}
	*out = a;
	return true;
}

int api_get_job(struct api_request *r)
{
	struct store_job j;
	if (!api_load_job(r, &j))
		return 0;
	json_t *status = load_json(j.status);
	json_t *o = job_detail(r, &j, j.attempt_id, status);
	json_decref(status);
	return api_json(r, 200, o);
}

/* The job of the first path parameter and the document of the attempt in
 * the second, or NULL with a 404 answered. */
static json_t *load_attempt(struct api_request *r, struct store_job *j, int64_t *a)
{
	if (!api_load_job(r, j) || !parse_attempt(r, j, r->params[1], a))
		return NULL;
	json_t *status = attempt_doc(r, j, *a);
	if (!status)
		api_fail(r, 404, "NoJobError", "Job attempt %s of %s is not found.", r->params[1], r->params[0]);
	return status;
}

int api_get_job_attempt(struct api_request *r)
{
	struct store_job j;
	int64_t a;
	json_t *status = load_attempt(r, &j, &a);
	if (!status)
		return 0;
	json_t *o = job_detail(r, &j, a, status);
	json_decref(status);
	return api_json(r, 200, o);
}

/* The job-attempts form (database-controller's history). */
static json_t *job_attempt(struct api_request *r, const struct store_job *j, const struct spec_job *spec,
                           int64_t a, json_t *status)
{
	struct comp c = comp_of(status);
	enum ctl_state st = state_of(status);
	json_t *trigger = json_object_get(status, "trigger");
	json_t *roles = json_object();
	if (spec) {
		json_t *full = task_roles(r, j, spec, a), *tr;
		const char *name;
		json_object_foreach(full, name, tr) {
			json_t *tasks = json_array(), *t;
			size_t i;
			json_array_foreach(json_object_get(tr, "taskStatuses"), i, t)
				json_array_append_new(tasks, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "taskIndex",
				                                       json_object_get(t, "taskIndex"), "taskState",
				                                       json_object_get(t, "taskState"), "containerId",
				                                       json_object_get(t, "containerId"), "containerIp",
				                                       json_object_get(t, "containerIp"), "containerGpus",
				                                       json_object_get(t, "containerGpus"), "containerLog",
				                                       json_object_get(t, "containerLog"), "containerExitCode",
				                                       json_object_get(t, "containerExitCode")));
			json_object_set_new(roles, name, json_pack("{s:O, s:o}", "taskRoleStatus",
			                                           json_object_get(tr, "taskRoleStatus"), "taskStatuses", tasks));
		}
		json_decref(full);
	}
	char fw[600];
	snprintf(fw, sizeof(fw), "%s~%s", j->username, j->name);
	const char *tr = trigger_role(spec, status);
	json_t *o = json_object();
	json_object_set_new(o, "jobName", json_string(j->name));
	json_object_set_new(o, "frameworkName", json_string(fw));
	json_object_set_new(o, "uid", json_string(j->debug_id));
	json_object_set_new(o, "userName", json_string(j->username));
	json_object_set_new(o, "state", json_string(ctl_pai_attempt_state(st, c.has, c.code)));
	json_object_set_new(o, "originState", json_string(ctl_state_name(st)));
	json_object_set_new(o, "attemptIndex", json_integer(a));
	json_object_set_new(o, "jobStartedTime", api_ms(j->created_ms));
	json_object_set_new(o, "attemptStartedTime", ms(status, "attemptCreatedMs"));
	json_object_set_new(o, "attemptCompletedTime", ms(status, "attemptCompletedMs"));
	json_object_set_new(o, "exitCode", c.has ? json_integer(c.code) : json_null());
	json_object_set_new(o, "exitPhrase", c.phrase ? json_string(c.phrase) : json_null());
	json_object_set_new(o, "exitType", c.has ? json_string(c.failed ? "Failed" : "Succeeded") : json_null());
	json_object_set_new(o, "exitDiagnostics", c.diag ? json_string(c.diag) : json_null());
	json_object_set_new(o, "appExitTriggerMessage", json_deep_copy(json_object_get(trigger, "message") ?: json_null()));
	json_object_set_new(o, "appExitTriggerTaskRoleName", tr ? json_string(tr) : json_null());
	json_object_set_new(o, "appExitTriggerTaskIndex", json_deep_copy(json_object_get(trigger, "index") ?: json_null()));
	json_object_set_new(o, "appExitSpec", exit_spec(c.has, c.code));
	json_object_set_new(o, "appExitDiagnostics", c.diag ? json_string(c.diag) : json_null());
	json_object_set_new(o, "appExitMessages", json_pack("{s:n, s:o, s:n}", "container", "runtime",
	                                                    runtime_message(c.diag), "launcher"));
	json_object_set_new(o, "totalGpuNumber", json_integer(j->total_gpu));
	json_object_set_new(o, "totalTaskNumber", json_integer(j->total_tasks));
	json_object_set_new(o, "totalTaskRoleNumber", json_integer(j->total_roles));
	json_object_set_new(o, "jobPriority", j->priority_class ? json_string(j->priority_class) : json_null());
	json_object_set_new(o, "taskRoles", roles);
	json_object_set_new(o, "isLatest", json_boolean(a == j->attempt_id));
	return o;
}

int api_get_job_attempts(struct api_request *r)
{
	struct store_job j;
	if (!api_load_job(r, &j))
		return 0;
	struct spec_job *spec = load_spec(r, &j);
	json_t *list = json_array();
	/* as rest-server: the latest first, then the history by attemptIndex */
	for (int64_t k = -1; k < j.attempt_id; k++) {
		int64_t a = k < 0 ? j.attempt_id : k;
		json_t *status = attempt_doc(r, &j, a);
		if (!status)
			continue;
		json_array_append_new(list, job_attempt(r, &j, spec, a, status));
		json_decref(status);
	}
	spec_job_free(spec);
	return api_json(r, 200, list);
}

int api_get_job_attempt_index(struct api_request *r)
{
	struct store_job j;
	int64_t a;
	json_t *status = load_attempt(r, &j, &a);
	if (!status)
		return 0;
	struct spec_job *spec = load_spec(r, &j);
	json_t *o = job_attempt(r, &j, spec, a, status);
	json_object_set_new(o, "isLatest", json_true());   /* as rest-server's code */
	spec_job_free(spec);
	json_decref(status);
	return api_json(r, 200, o);
}
