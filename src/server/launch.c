/* SPDX-License-Identifier: MIT */
/*
 * launch.c — start one task attempt: its directories, its environment, its
 * script, and the executor call.
 *
 * The job's file is parsed again at its first placement (the loop keeps
 * only a compact form of waiting jobs) and kept until the job is done; the
 * runtime module turns it into what the task sees. Secrets are rendered into
 * the script here and handed to the executor, which never writes them down.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "server/loop_internal.h"

const char *node_ip(const struct loop *l, const char *node)
{
	for (size_t i = 0; node && i < l->cluster->nnodes; i++)
		if (!strcmp(l->cluster->nodes[i].name, node))
			/* tasks of simulated nodes run on this machine */
			return l->cluster->nodes[i].simulated || l->cluster->embedded ? "127.0.0.1"
			                                                                : l->cluster->nodes[i].address;
	return "127.0.0.1";
}

int ensure_run_state(struct loop *l, struct job *j, struct gerr *err)
{
	if (!j->x) {
		if (!(j->x = calloc(1, sizeof(*j->x))))
			return gerr_set(err, GERR_NOMEM, "out of memory");
		arena_init(&j->x->run, 1024);
		job_debug_id(j->key, j->x->debug_id);
		hmap_put(&l->by_key, j->key, j);   /* preemption finds placed jobs by name */
	}
	if (!j->x->spec) {
		struct arena a;
		const char *text;
		arena_init(&a, 4096);
		int rc = store_job_spec(l->db, j->id, &a, &text, err);
		if (rc) {
			arena_fini(&a);
			return rc;
		}
		struct spec_job *s = spec_job_new();
		if (!s) {
			arena_fini(&a);
			return gerr_set(err, GERR_NOMEM, "out of memory");
		}
		rc = load_admitted(l, s, text, j->user, NULL, 0);   /* recovery stops one the cluster refuses now */
		arena_fini(&a);
		if (rc) {
			gerr_set(err, GERR_INVALID, "job %s: its file no longer loads: %s", j->key,
			         s->ndiags ? s->diags[0].msg : "out of memory");
			spec_job_free(s);
			return err->code;
		}
		if ((size_t)s->total_tasks != j->ctl.ntasks) {
			spec_job_free(s);
			return gerr_set(err, GERR_INTERNAL, "job %s: its file has a different number of tasks", j->key);
		}
		j->x->spec = s;
	}
	if (!j->rt && !(j->rt = calloc(j->ctl.ntasks ? j->ctl.ntasks : 1, sizeof(*j->rt))))
		return gerr_set(err, GERR_NOMEM, "out of memory");
	return 0;
}

static bool gpu_sku(const struct loop *l, const struct spec_role *role)
{
	for (size_t k = 0; k < sched_sku_count(l->sched); k++) {
		const struct sched_sku *s = sched_sku_get(l->sched, k);
		if ((!role->sku_type || !strcmp(role->sku_type, s->name)) && s->gpu > 0)
			return true;
	}
	return false;
}

int launch_task(struct loop *l, struct job *j, uint32_t t, char *why, size_t whylen)
{
	struct gerr err = { 0 };
	const struct ctl_task *ct = &j->ctl.tasks[t];
	const struct spec_role *role;
	struct rtask *r;
	char *script = NULL;
	const char **env = NULL;
	int rc = -1;
	struct arena a;
	arena_init(&a, 16384);
	if (ensure_run_state(l, j, &err)) {
		snprintf(why, whylen, "%s", err.msg);
		goto out;
	}
	role = &j->x->spec->roles[ct->role];
	r = &j->rt[t];
	char *cwd = rt_task_cwd(&a, l->data_dir, j->user, j->name, j->ctl.attempt, role->name, ct->index);
	char *dir = rt_attempt_dir(&a, l->data_dir, j->user, j->name, j->ctl.attempt, role->name, ct->index,
	                           ct->attempt);
	if (!cwd || !dir) {
		snprintf(why, whylen, "the user or job name cannot name the task's directories (or out of memory)");
		goto out;
	}
	if (rt_script(j->x->spec, role, &a, &script, &err)) {
		snprintf(why, whylen, "%s", err.msg);
		goto out;
	}
	struct rt_peer *peers = arena_zalloc(&a, (j->ctl.ntasks ? j->ctl.ntasks : 1) * sizeof(*peers));
	if (!peers) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < j->ctl.ntasks; k++) {
		peers[k].role = j->x->spec->roles[j->ctl.tasks[k].role].name;
		peers[k].index = j->ctl.tasks[k].index;
		if (j->rt[k].uid[0]) {
			peers[k].host_ip = j->rt[k].ip;
			peers[k].ports = j->rt[k].ports;
			peers[k].nports = j->rt[k].nports;
		}
	}
	char attempt_uid[64];
	/* FrameworkController's attempt uid is its ConfigMap's: one per job attempt */
	snprintf(attempt_uid, sizeof(attempt_uid), "%.24s-%lld", j->x->debug_id, (long long)j->ctl.attempt);
	struct rt_env_ctx ec = {
		.job = j->x->spec, .user = j->user, .framework_name = j->x->debug_id, .fw_attempt = j->ctl.attempt,
		.fw_attempt_uid = attempt_uid, .role = role->name, .index = ct->index, .task_attempt = ct->attempt,
		.task_uid = r->uid, .node_name = r->node, .host_ip = r->ip, .gpus = r->gpus, .ngpus = r->ngpus,
		.gpu_sku = gpu_sku(l, role), .peers = peers, .npeers = j->ctl.ntasks, .work_dir = cwd,
		.rest_server_uri = l->rest_uri[0] ? l->rest_uri : NULL,
		.base = l->base_env,
	};
	if (rt_env(&ec, &a, &env, &err)) {
		snprintf(why, whylen, "%s", err.msg);
		goto out;
	}
	struct exec_task xt = {
		.uid = r->uid, .dir = dir, .cwd = cwd, .script = script, .env = env, .memory_mb = role->memory_mb,
		.cpu = (double)role->cpu, .grace_s = l->grace_s, .image = role->image ? role->image->uri : NULL,
	};
	if (exec_launch(l->exec, &xt, &err)) {
		snprintf(why, whylen, "%s", err.msg);
		goto out;
	}
	rc = 0;
out:
	/* the script holds rendered secrets: wipe it before the memory is reused */
	if (script)
		sodium_memzero(script, strlen(script));
	arena_fini(&a);
	return rc;
}
