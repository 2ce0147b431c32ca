/* SPDX-License-Identifier: MIT */
/*
 * json.c — the normalized job as JSON, for `gantry job validate --json` and,
 * later, the API. Secrets never appear: the secrets block prints as
 * "******", and so does every docker credential field that took a $secrets
 * value, and every password.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "spec/internal.h"

static json_t *num(double d)
{
	if (isnan(d) || isinf(d))
		return json_null();
	if (d == trunc(d) && fabs(d) < 9007199254740992.0)
		return json_integer((json_int_t)d);
	return json_real(d);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* json_object_set_new that tolerates a NULL value (out of memory). */
static void put(json_t *o, const char *k, json_t *v)
{
	if (v)
		json_object_set_new(o, k, v);
}

static json_t *iso_date(double ms)
{
	if (isnan(ms) || fabs(ms) > 8.64e15)
		return json_null();
	time_t t = (time_t)floor(ms / 1000.0);
	struct tm tm;
	char buf[64];
	gmtime_r(&t, &tm);
	int millis = (int)(ms - (double)t * 1000.0);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
	return json_string(buf);
}

static json_t *value_json(const struct spec_value *v, int depth)
{
	json_t *o;
	if (!v)
		return json_null();
	if (depth > SPEC_MAX_DEPTH + 1)
		return json_null();
	switch (v->type) {
	case SPEC_NULL:
		return json_null();
	case SPEC_BOOL:
		return json_boolean(v->b);
	case SPEC_NUMBER:
		return num(v->num);
	case SPEC_STRING:
	case SPEC_BINARY:
		return json_stringn_nocheck(v->str, v->len);
	case SPEC_DATE:
		return iso_date(v->num);
	case SPEC_ARRAY:
		o = json_array();
		for (size_t i = 0; o && i < v->n; i++)
			json_array_append_new(o, value_json(v->items[i], depth + 1));
		return o;
	case SPEC_OBJECT:
		o = json_object();
		for (size_t i = 0; o && i < v->n; i++) {
			const struct spec_member *m = &v->members[i];
			json_t *child = value_json(m->val, depth + 1);
			if (child)
				json_object_setn_new_nocheck(o, m->key, m->klen, child);
		}
		return o;
	}
	return json_null();
}

json_t *spec_value_to_json(const struct spec_value *v)
{
	return value_json(v, 0);
}

static json_t *retry_json(const struct spec_retry *r)
{
	return json_pack("{s:b, s:I}", "fancyRetryPolicy", r->fancy, "maxRetryCount", (json_int_t)r->max);
}

static json_t *prereq_json(const struct spec_prereq *p)
{
	static const char *types[] = { "script", "output", "data", "dockerimage" };
	json_t *o = json_object();
	if (!o)
		return NULL;
	put(o, "name", str_or_null(p->name));
	put(o, "type", json_string(types[p->type]));
	if (p->type == SPEC_PREREQ_DATA) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < p->nuris; i++)
			json_array_append_new(a, json_string(p->uris[i]));
		put(o, "uri", a);
	} else if (p->uri) {
		put(o, "uri", json_string(p->uri));
	}
	if (p->plugin)
		put(o, "plugin", json_string(p->plugin));
	if (p->has_auth) {
		json_t *a = json_object();
		if (a) {
			if (p->auth_username)
				put(a, "username", json_string((p->auth_secret & 1) ? SPEC_SECRET_MASK : p->auth_username));
			if (p->auth_password)
				put(a, "password", json_string(SPEC_SECRET_MASK));
			if (p->auth_registryuri)
				put(a, "registryuri",
				    json_string((p->auth_secret & 4) ? SPEC_SECRET_MASK : p->auth_registryuri));
		}
		put(o, "auth", a);
	}
	return o;
}

static json_t *role_json(const struct spec_role *r)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	put(o, "name", json_string(r->name));
	put(o, "frameworkName", json_string(r->fc_name));
	put(o, "instances", json_integer(r->instances));
	put(o, "completion", json_pack("{s:I, s:I}", "minFailedInstances", (json_int_t)r->min_failed,
	                               "minSucceededInstances", (json_int_t)r->min_succeeded));
	put(o, "taskRetryCount", json_integer(r->task_retry_count));
	put(o, "retryPolicy", retry_json(&r->task_retry));
	json_t *ports = json_object();
	for (size_t i = 0; ports && i < r->nports; i++)
		put(ports, r->ports[i].label, json_integer(r->ports[i].count));
	put(o, "resourcePerInstance", json_pack("{s:I, s:I, s:I, s:o*}", "cpu", (json_int_t)r->cpu,
	                                        "memoryMB", (json_int_t)r->memory_mb, "gpu",
	                                        (json_int_t)r->gpu, "ports", ports));
	put(o, "shmMB", json_integer(r->shm_mb));
	put(o, "infiniband", json_boolean(r->infiniband));
	if (r->image)
		put(o, "dockerImage", json_pack("{s:s, s:s?}", "name", r->image->name, "uri", r->image->uri));
	if (r->script)
		put(o, "script", json_string(r->script->name));
	if (r->data)
		put(o, "data", json_string(r->data->name));
	if (r->output)
		put(o, "output", json_string(r->output->name));
	if (r->nprereqs) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < r->nprereqs; i++)
			if (r->prereqs[i])
				json_array_append_new(a, json_string(r->prereqs[i]->name));
		put(o, "prerequisites", a);
	}
	put(o, "entrypoint", json_string(r->entrypoint));
	put(o, "hived", json_pack("{s:o, s:o, s:o, s:o}", "skuType", str_or_null(r->sku_type),
	                          "pinnedCellId", str_or_null(r->pinned_cell_id), "affinityGroup",
	                          str_or_null(r->affinity_group), "leafCellNumber",
	                          r->leaf_cell_number < 0 ? json_null() : json_integer(r->leaf_cell_number)));
	return o;
}

static json_t *diags_json(const struct spec_diag *d, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *e = json_pack("{s:s}", "message", d[i].msg);
		if (e && d[i].line) {
			put(e, "line", json_integer(d[i].line));
			put(e, "column", json_integer(d[i].col));
		}
		if (e)
			json_array_append_new(a, e);
	}
	return a;
}

json_t *spec_job_to_json(const struct spec_job *job)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	put(o, "name", str_or_null(job->name));
	if (job->version)
		put(o, "version", json_string(job->version));
	if (job->contributor)
		put(o, "contributor", json_string(job->contributor));
	if (job->description)
		put(o, "description", json_string(job->description));
	put(o, "virtualCluster", str_or_null(job->virtual_cluster));
	put(o, "jobRetryCount", json_integer(job->job_retry_count));
	put(o, "retryPolicy", retry_json(&job->retry));
	put(o, "gangAllocation", json_boolean(job->gang));
	put(o, "jobPriorityClass", str_or_null(job->priority_class));
	put(o, "jobPriority", json_integer(job->priority));
	put(o, "totalGpuNumber", json_integer(job->total_gpu));
	put(o, "totalTaskNumber", json_integer(job->total_tasks));
	put(o, "totalTaskRoleNumber", json_integer((json_int_t)job->nroles));
	if (job->parameters)
		put(o, "parameters", spec_value_to_json(job->parameters));
	if (job->has_secrets)
		put(o, "secrets", json_string(SPEC_SECRET_MASK));
	json_t *a = json_array();
	for (size_t i = 0; a && i < job->nprereqs; i++)
		json_array_append_new(a, prereq_json(&job->prereqs[i]));
	put(o, "prerequisites", a);
	if (job->default_deployment)
		put(o, "defaultDeployment", json_string(job->default_deployment));
	a = json_array();
	for (size_t i = 0; a && i < job->nroles; i++)
		json_array_append_new(a, role_json(&job->roles[i]));
	put(o, "taskRoles", a);
	a = json_array();
	for (size_t i = 0; a && i < job->nstorages; i++) {
		const struct spec_storage *s = &job->storages[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:b}", "name", s->name, "mountPath",
		                                   s->mount_path, "share", s->share, "readOnly", s->read_only));
	}
	put(o, "storages", a);
	a = json_array();
	for (size_t i = 0; a && i < job->nplugins; i++) {
		const struct spec_plugin *p = &job->plugins[i];
		json_t *e = json_pack("{s:s, s:s}", "plugin", p->plugin, "failurePolicy", p->failure_policy);
		if (e && p->parameters)
			put(e, "parameters", spec_value_to_json(p->parameters));
		if (e && p->ntask_roles) {
			json_t *t = json_array();
			for (size_t k = 0; t && k < p->ntask_roles; k++)
				json_array_append_new(t, json_string(p->task_roles[k]));
			put(e, "taskroles", t);
		}
		if (e)
			json_array_append_new(a, e);
	}
	put(o, "runtimePlugins", a);
	if (job->extras)
		put(o, "extras", spec_value_to_json(job->extras));
	if (job->nwarnings)
		put(o, "warnings", diags_json(job->warnings, job->nwarnings));
	return o;
}
