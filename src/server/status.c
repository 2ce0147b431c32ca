/* SPDX-License-Identifier: MIT */
/*
 * status.c — the controller's state as the store keeps it (JSON), and back.
 *
 * The job's document holds ctl's job status; each task's holds ctl's task
 * status plus where its current attempt runs (uid, node, GPUs, ports). The
 * API reads the same documents to answer job detail in OpenPAI's shape, so
 * field names are the API's where one exists.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/loop_internal.h"

static json_t *comp_json(bool has, const struct ctl_completion *c)
{
	if (!has)
		return json_null();
	return json_pack("{s:i, s:s, s:b, s:i, s:s?, s:I}", "code", c->code, "phrase", c->phrase ? c->phrase : "",
	                 "failed", c->failed, "attrs", (int)c->attrs, "diag", c->diag, "ms", (json_int_t)c->ms);
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

char *status_job_json(const struct job *j)
{
	const struct ctl_job *c = &j->ctl;
	json_t *trigger = json_null();
	if (c->trigger_role >= 0 && (size_t)c->trigger_role < j->ctl.nroles)
		trigger = json_pack("{s:s, s:I, s:s?}", "role", j->ctl.roles[c->trigger_role].name, "index",
		                    (json_int_t)c->trigger_index, "message", c->trigger_msg);
	char rng[24];
	snprintf(rng, sizeof(rng), "%llu", (unsigned long long)c->rng);
	return dump(json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, "
	                      "s:I, s:s, s:I, s:i}",
	                      "state", ctl_state_name(c->state), "started", c->started, "stop", c->stop,
	                      "attempt", (json_int_t)c->attempt, "retries", (json_int_t)c->retries,
	                      "accountable", (json_int_t)c->accountable, "retryAtMs", (json_int_t)c->retry_at_ms,
	                      "createdMs", (json_int_t)c->created_ms, "runningMs", (json_int_t)c->running_ms,
	                      "completedMs", (json_int_t)c->completed_ms, "transitionMs", (json_int_t)c->transition_ms,
	                      "attemptCreatedMs", (json_int_t)c->attempt_created_ms,
	                      "attemptRunningMs", (json_int_t)c->attempt_running_ms,
	                      "attemptCompletedMs", (json_int_t)c->attempt_completed_ms,
	                      "completion", comp_json(c->has_comp, &c->comp), "trigger", trigger,
	                      "seq", (json_int_t)c->seq, "rng", rng,
	                      "pendingAccountable", (json_int_t)c->pending_accountable,
	                      "quickFailures", (int)c->quick_failures));
}

char *status_task_json(const struct job *j, uint32_t t)
{
	const struct ctl_task *ct = &j->ctl.tasks[t];
	const struct rtask *r = j->rt ? &j->rt[t] : NULL;
	json_t *gpus = json_array(), *ports = json_object();
	for (size_t i = 0; r && i < r->ngpus; i++)
		json_array_append_new(gpus, json_integer(r->gpus[i]));
	for (size_t i = 0; r && i < r->nports; i++) {
		json_t *list = json_array();
		for (size_t k = 0; k < r->ports[i].n; k++)
			json_array_append_new(list, json_integer(r->ports[i].ports[k]));
		json_object_set_new(ports, r->ports[i].label, list);
	}
	bool placed = r && r->uid[0];
	return dump(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:o, s:s?, s:s?, s:s?, s:o, s:o, "
	                      "s:i, s:I, s:I, s:i}",
	                      "state", ctl_state_name(ct->state), "attempt", (json_int_t)ct->attempt,
	                      "retries", (json_int_t)ct->retries, "accountable", (json_int_t)ct->accountable,
	                      "createdMs", (json_int_t)ct->created_ms,
	                      "attemptCreatedMs", (json_int_t)ct->attempt_created_ms,
	                      "attemptRunningMs", (json_int_t)ct->attempt_running_ms,
	                      "attemptCompletedMs", (json_int_t)ct->attempt_completed_ms, "launched", ct->launched,
	                      "doneSeq", (json_int_t)ct->done_seq, "completion", comp_json(ct->has_comp, &ct->comp),
	                      "uid", placed ? r->uid : NULL, "node", placed ? r->node : NULL,
	                      "ip", placed ? r->ip : NULL, "gpus", gpus, "ports", ports, "pid", r ? r->pid : 0,
	                      "placedMs", (json_int_t)(r ? r->placed_ms : 0), "retryAtMs", (json_int_t)ct->retry_at_ms,
	                      "quickFailures", (int)ct->quick_failures));
}

/* ---- loading ------------------------------------------------------------------- */

static int64_t num(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

/* Phrases are static strings: the exit-code table's, looked up again. */
static const char *phrase_of(int code)
{
	struct rt_exit_spec spec;
	rt_exit_spec_for(code, &spec);
	return spec.phrase ? spec.phrase : "";
}

static bool load_comp(json_t *o, bool *has, struct ctl_completion *c)
{
	free(c->diag);
	memset(c, 0, sizeof(*c));
	*has = json_is_object(o);
	if (!*has)
		return true;
	c->code = (int)num(o, "code");
	c->phrase = phrase_of(c->code);
	c->failed = json_is_true(json_object_get(o, "failed"));
	c->attrs = (unsigned)num(o, "attrs");
	const char *diag = json_string_value(json_object_get(o, "diag"));
	c->diag = diag ? strdup(diag) : NULL;
	c->ms = num(o, "ms");
	return true;
}

int status_job_load(struct job *j, const char *text)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	struct ctl_job *c = &j->ctl;
	int state = o ? ctl_state_parse(json_string_value(json_object_get(o, "state"))) : -1;
	if (state < 0) {
		json_decref(o);
		return -1;
	}
	c->state = (enum ctl_state)state;
	c->started = json_is_true(json_object_get(o, "started"));
	c->stop = json_is_true(json_object_get(o, "stop"));
	c->attempt = num(o, "attempt");
	c->retries = num(o, "retries");
	c->accountable = num(o, "accountable");
	c->retry_at_ms = num(o, "retryAtMs");
	c->created_ms = num(o, "createdMs");
	c->running_ms = num(o, "runningMs");
	c->completed_ms = num(o, "completedMs");
	c->transition_ms = num(o, "transitionMs");
	c->attempt_created_ms = num(o, "attemptCreatedMs");
	c->attempt_running_ms = num(o, "attemptRunningMs");
	c->attempt_completed_ms = num(o, "attemptCompletedMs");
	c->seq = num(o, "seq");
	c->pending_accountable = num(o, "pendingAccountable");
	c->quick_failures = num(o, "quickFailures");
	const char *rng = json_string_value(json_object_get(o, "rng"));
	c->rng = rng ? strtoull(rng, NULL, 10) : 0;
	bool ok = load_comp(json_object_get(o, "completion"), &c->has_comp, &c->comp);
	json_t *tr = json_object_get(o, "trigger");
	c->trigger_role = c->trigger_index = -1;
	free(c->trigger_msg);
	c->trigger_msg = NULL;
	if (json_is_object(tr)) {
		const char *role = json_string_value(json_object_get(tr, "role"));
		for (size_t r = 0; role && r < j->ctl.nroles; r++)
			if (!strcmp(j->ctl.roles[r].name, role))
				c->trigger_role = (int64_t)r;
		c->trigger_index = num(tr, "index");
		const char *m = json_string_value(json_object_get(tr, "message"));
		c->trigger_msg = m ? strdup(m) : NULL;
	}
	json_decref(o);
	return ok ? 0 : -1;
}

int status_task_load(struct job *j, uint32_t t, const char *text)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	int state = o ? ctl_state_parse(json_string_value(json_object_get(o, "state"))) : -1;
	if (state < 0 || t >= j->ctl.ntasks) {
		json_decref(o);
		return -1;
	}
	struct ctl_task *ct = &j->ctl.tasks[t];
	ct->state = (enum ctl_state)state;
	ct->attempt = num(o, "attempt");
	ct->retries = num(o, "retries");
	ct->accountable = num(o, "accountable");
	ct->created_ms = num(o, "createdMs");
	ct->attempt_created_ms = num(o, "attemptCreatedMs");
	ct->attempt_running_ms = num(o, "attemptRunningMs");
	ct->attempt_completed_ms = num(o, "attemptCompletedMs");
	ct->retry_at_ms = num(o, "retryAtMs");
	ct->quick_failures = num(o, "quickFailures");
	ct->launched = json_is_true(json_object_get(o, "launched"));
	ct->done_seq = num(o, "doneSeq");
	bool ok = load_comp(json_object_get(o, "completion"), &ct->has_comp, &ct->comp);
	ct->dirty = false;
	const char *uid = json_string_value(json_object_get(o, "uid"));
	if (uid && j->rt && j->x) {
		struct rtask *r = &j->rt[t];
		memset(r, 0, sizeof(*r));
		snprintf(r->uid, sizeof(r->uid), "%s", uid);
		r->node = arena_strdup(&j->x->run, json_string_value(json_object_get(o, "node")) ?: "");
		r->ip = arena_strdup(&j->x->run, json_string_value(json_object_get(o, "ip")) ?: "127.0.0.1");
		json_t *gpus = json_object_get(o, "gpus"), *v, *list;
		r->ngpus = json_array_size(gpus);
		r->gpus = arena_alloc(&j->x->run, (r->ngpus ? r->ngpus : 1) * sizeof(int32_t));
		size_t i;
		json_array_foreach(gpus, i, v) if (r->gpus) r->gpus[i] = (int32_t)json_integer_value(v);
		json_t *ports = json_object_get(o, "ports");
		r->nports = json_object_size(ports);
		r->ports = arena_zalloc(&j->x->run, (r->nports ? r->nports : 1) * sizeof(*r->ports));
		const char *label;
		size_t k = 0;
		json_object_foreach(ports, label, list) {
			if (!r->ports)
				break;
			struct rt_port_list *pl = &r->ports[k++];
			pl->label = arena_strdup(&j->x->run, label);
			pl->n = json_array_size(list);
			pl->ports = arena_alloc(&j->x->run, (pl->n ? pl->n : 1) * sizeof(int));
			json_array_foreach(list, i, v) if (pl->ports) pl->ports[i] = (int)json_integer_value(v);
		}
		r->pid = (int)num(o, "pid");
		r->placed_ms = num(o, "placedMs");
		if (!r->node || !r->ip || !r->gpus || !r->ports)
			ok = false;
	}
	json_decref(o);
	return ok ? 0 : -1;
}
