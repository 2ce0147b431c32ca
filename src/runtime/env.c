/* SPDX-License-Identifier: MIT */
/*
 * env.c — every environment variable a task sees.
 *
 * DESIGN
 * ------
 * On OpenPAI a task's environment comes from four places, and we emit them
 * in the same order (a later one wins when a name repeats; each name is
 * emitted once):
 *
 *   1. FrameworkController (FC_*), prepended to every container;
 *   2. rest-server (models/v2/job/runtime-env.js and k8s.js): the framework
 *      env, the role env, PAI_TASK_INDEX, the init container's
 *      REST_SERVER_URI and GANG_ALLOCATION, and GPU visibility;
 *   3. the runtime (init.d/framework_parser.py genenv), sourced by
 *      runtime_entry.sh: ports, host IPs and host lists of every task;
 *   4. PAI_WORK_DIR.
 *
 * The name split matters to user scripts and is kept: rest-server's
 * variables use the role's name as written (PAI_TASK_ROLE_TASK_COUNT_ps_server),
 * the runtime's use FrameworkController's converted name
 * (PAI_HOST_IP_psserver_0), because framework_parser reads them from the
 * Framework object.
 *
 * GPUs. Tasks here run on the host, not in a container that only holds its
 * devices, so visibility is by variable: NVIDIA_VISIBLE_DEVICES and
 * CUDA_VISIBLE_DEVICES are the task's GPU indices, comma-joined, with
 * CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA numbers devices as NVML and
 * nvidia-smi do (CUDA's default order is fastest first). A task without
 * GPUs (its role asks for gpu: 0, whatever leaf cells the scheduler gave
 * it) gets NVIDIA_VISIBLE_DEVICES=none, as OpenPAI sets for gpu: 0, and
 * CUDA_VISIBLE_DEVICES set to the empty string, which hides every device
 * from CUDA: on OpenPAI the container had none to see, and leaving it unset
 * here would show the task every GPU of the host.
 *
 * FC's uids. Gantry has no Kubernetes objects, so FC_FRAMEWORK_UID,
 * FC_TASKROLE_UID and FC_TASK_UID are stable names built from the framework
 * name instead of UUIDs; FC_CONFIGMAP_UID is the framework attempt's uid and
 * FC_POD_UID the task attempt's, and the *_INSTANCE_UID values are
 * "<attemptId>_<uid>" exactly as FC builds them.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hmap.h"
#include "runtime/internal.h"

/* Linux's MAX_ARG_STRLEN: one "K=V" string given to execve, NUL included. */
#define ENV_STR_MAX 131072

struct envb {
	struct arena *a;
	const char **keys, **vals;        /* malloc'd arrays; strings in a */
	size_t n, cap;
	struct hmap idx;                  /* key -> (void *)(index + 1) */
	bool oom;
};

static void put(struct envb *e, const char *k, const char *v)
{
	if (e->oom)
		return;
	if (!k || !v) {
		e->oom = true;
		return;
	}
	uintptr_t at = (uintptr_t)hmap_get(&e->idx, k);
	if (at) {                         /* later wins, in the earlier place */
		e->vals[at - 1] = v;
		return;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 128;
		const char **nk = realloc(e->keys, cap * sizeof(*nk));
		if (nk)
			e->keys = nk;
		const char **nv = nk ? realloc(e->vals, cap * sizeof(*nv)) : NULL;
		if (!nk || !nv) {
			e->oom = true;
			return;
		}
		e->vals = nv;
		e->cap = cap;
	}
	e->keys[e->n] = k;
	e->vals[e->n] = v;
	if (hmap_put(&e->idx, k, (void *)(uintptr_t)(e->n + 1))) {
		e->oom = true;
		return;
	}
	e->n++;
}

static void putf(struct envb *e, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void putf(struct envb *e, const char *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct buf b = BUF_INIT;
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	put(e, k, b.oom ? NULL : arena_strndup(e->a, buf_str(&b), b.len));
	buf_fini(&b);
}

static void puti(struct envb *e, const char *k, int64_t v)
{
	putf(e, k, "%" PRId64, v);
}

/* A name built from parts (arena). */
static const char *name(struct envb *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *name(struct envb *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct buf b = BUF_INIT;
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	const char *s = b.oom ? NULL : arena_strndup(e->a, buf_str(&b), b.len);
	buf_fini(&b);
	if (!s)
		e->oom = true;
	return s;
}

static const struct spec_role *find_role(const struct spec_job *job, const char *nm)
{
	for (size_t i = 0; nm && i < job->nroles; i++)
		if (!strcmp(job->roles[i].name, nm))
			return &job->roles[i];
	return NULL;
}

static const struct rt_port_list *port_list(const struct rt_peer *p, const char *label)
{
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports && p->ports[i].label && !strcmp(p->ports[i].label, label))
			return &p->ports[i];
	return NULL;
}

static const char *join_ports(struct envb *e, const struct rt_port_list *l)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < l->n; i++)
		buf_printf(&b, i ? ",%d" : "%d", l->ports[i]);
	const char *s = b.oom ? NULL : arena_strndup(e->a, buf_str(&b), b.len);
	buf_fini(&b);
	if (!s)
		e->oom = true;
	return s;
}

/* shmMB as rest-server prints it: the value if the key is there, else 0. */
static const char *shm_text(struct envb *e, const struct spec_role *r)
{
	const struct spec_value *x = r->raw ? spec_value_get(r->raw, "extraContainerOptions") : NULL;
	const struct spec_value *shm = x ? spec_value_get(x, "shmMB") : NULL;
	if (!shm)
		return "0";
	const char *s = shm->type == SPEC_NULL ? "" : rt__scalar_str(e->a, shm);  /* JS join: null → "" */
	return s ? s : "";
}

static void fc_env(struct envb *e, const struct rt_env_ctx *c, const struct spec_role *r)
{
	const char *fw = c->framework_name ? c->framework_name : "";
	const char *fwuid = c->fw_attempt_uid ? c->fw_attempt_uid : "";
	const char *uid = c->task_uid ? c->task_uid : "";
	put(e, "FC_FRAMEWORK_NAMESPACE", "default");
	put(e, "FC_FRAMEWORK_NAME", fw);
	put(e, "FC_TASKROLE_NAME", r->fc_name);
	puti(e, "FC_TASK_INDEX", c->index);
	putf(e, "FC_CONFIGMAP_NAME", "%s-attempt", fw);
	putf(e, "FC_POD_NAME", "%s-%s-%" PRId64, fw, r->fc_name, c->index);
	put(e, "FC_FRAMEWORK_UID", fw);
	puti(e, "FC_FRAMEWORK_ATTEMPT_ID", c->fw_attempt);
	putf(e, "FC_FRAMEWORK_ATTEMPT_INSTANCE_UID", "%" PRId64 "_%s", c->fw_attempt, fwuid);
	put(e, "FC_CONFIGMAP_UID", fwuid);
	putf(e, "FC_TASKROLE_UID", "%s-%s", fw, r->fc_name);
	putf(e, "FC_TASK_UID", "%s-%s-%" PRId64, fw, r->fc_name, c->index);
	puti(e, "FC_TASK_ATTEMPT_ID", c->task_attempt);
	put(e, "FC_POD_UID", uid);
	putf(e, "FC_TASK_ATTEMPT_INSTANCE_UID", "%" PRId64 "_%s", c->task_attempt, uid);
}

static void rest_env(struct envb *e, const struct rt_env_ctx *c, const struct spec_role *r)
{
	const struct spec_job *job = c->job;
	const char *fwname = name(e, "%s~%s", c->user ? c->user : "", job->name ? job->name : "");
	struct buf list = BUF_INIT;
	int64_t tasks = 0;
	for (size_t i = 0; i < job->nroles; i++) {
		buf_printf(&list, i ? ",%s" : "%s", job->roles[i].name);
		tasks += job->roles[i].instances;
	}
	const char *roles = list.oom ? NULL : arena_strndup(e->a, buf_str(&list), list.len);
	buf_fini(&list);

	put(e, "PAI_FRAMEWORK_NAME", fwname);
	put(e, "PAI_JOB_NAME", fwname);
	put(e, "PAI_USER_NAME", c->user ? c->user : "");
	put(e, "PAI_DEFAULT_FS_URI", "");
	puti(e, "PAI_TASK_ROLE_COUNT", (int64_t)job->nroles);
	put(e, "PAI_TASK_ROLE_LIST", roles);
	put(e, "PAI_VIRTUAL_CLUSTER", job->virtual_cluster ? job->virtual_cluster : "default");
	for (size_t i = 0; i < job->nroles; i++) {
		const struct spec_role *x = &job->roles[i];
		puti(e, name(e, "PAI_TASK_ROLE_TASK_COUNT_%s", x->name), x->instances);
		putf(e, name(e, "PAI_RESOURCE_%s", x->name), "%" PRId64 ",%" PRId64 ",%" PRId64 ",%s", x->gpu, x->cpu,
		     x->memory_mb, shm_text(e, x));
		puti(e, name(e, "PAI_MIN_FAILED_TASK_COUNT_%s", x->name), x->min_failed);
		puti(e, name(e, "PAI_MIN_SUCCEEDED_TASK_COUNT_%s", x->name), x->min_succeeded);
	}
	/* backward compatibility */
	put(e, "PAI_USERNAME", c->user ? c->user : "");
	puti(e, "PAI_TASKS_NUM", tasks);
	puti(e, "PAI_JOB_TASK_COUNT", tasks);
	puti(e, "PAI_TASK_ROLES_NUM", (int64_t)job->nroles);
	puti(e, "PAI_JOB_TASK_ROLE_COUNT", (int64_t)job->nroles);
	put(e, "PAI_JOB_TASK_ROLE_LIST", roles);

	/* role env, and the app container's PAI_TASK_INDEX */
	put(e, "PAI_CURRENT_TASK_ROLE_NAME", r->name);
	/* the name OpenPAI's earlier runtime gave it; scripts still read it */
	put(e, "PAI_TASK_ROLE_NAME", r->name);
	puti(e, "PAI_CURRENT_TASK_ROLE_CURRENT_TASK_INDEX", c->index);
	puti(e, "PAI_TASK_INDEX", c->index);
	/* the init container's, which the runtime's scripts read */
	if (c->rest_server_uri)
		put(e, "REST_SERVER_URI", c->rest_server_uri);
	put(e, "GANG_ALLOCATION", job->gang ? "true" : "false");
}

/* A role with gpu: 0 still gets a leaf cell when its SKU is a GPU one (the
 * scheduler places cpu and memory by cell), but that cell's GPU is not its:
 * OpenPAI decides visibility by the role's gpu alone. */
static void gpu_env(struct envb *e, const struct rt_env_ctx *c, const struct spec_role *r)
{
	if (r->gpu <= 0 || !c->gpu_sku || !c->ngpus || !c->gpus) {
		put(e, "NVIDIA_VISIBLE_DEVICES", "none");
		put(e, "CUDA_VISIBLE_DEVICES", "");
		return;
	}
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < c->ngpus; i++)
		buf_printf(&b, i ? ",%d" : "%d", (int)c->gpus[i]);
	const char *list = b.oom ? NULL : arena_strndup(e->a, buf_str(&b), b.len);
	buf_fini(&b);
	put(e, "NVIDIA_VISIBLE_DEVICES", list);
	put(e, "CUDA_VISIBLE_DEVICES", list);
	put(e, "CUDA_DEVICE_ORDER", "PCI_BUS_ID");
}

static int by_index(const void *x, const void *y)
{
	const struct rt_peer *a = *(const struct rt_peer *const *)x, *b = *(const struct rt_peer *const *)y;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* framework_parser.py genenv: every task of every role, then the current one's. */
static int runtime_env(struct envb *e, const struct rt_env_ctx *c, struct gerr *err)
{
	const struct rt_peer **sorted = malloc((c->npeers ? c->npeers : 1) * sizeof(*sorted));
	if (!sorted)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	struct buf instances = BUF_INIT;
	bool found_self = false;
	for (size_t ri = 0; ri < c->job->nroles; ri++) {
		const struct spec_role *r = &c->job->roles[ri];
		const char *R = r->fc_name;
		size_t n = 0;
		for (size_t i = 0; i < c->npeers; i++)
			if (c->peers[i].role && !strcmp(c->peers[i].role, r->name))
				sorted[n++] = &c->peers[i];
		qsort(sorted, n, sizeof(*sorted), by_index);

		struct buf hosts = BUF_INIT;
		for (size_t k = 0; k < n; k++) {
			const struct rt_peer *p = sorted[k];
			buf_printf(&instances, instances.len ? ",%s:%" PRId64 : "%s:%" PRId64, R, p->index);
			for (size_t j = 0; p->ports && j < p->nports; j++) {
				const struct rt_port_list *l = &p->ports[j];
				const char *v = join_ports(e, l);
				put(e, name(e, "PAI_PORT_LIST_%s_%" PRId64 "_%s", R, p->index, l->label), v);
				put(e, name(e, "PAI_%s_%" PRId64 "_%s_PORT", R, p->index, l->label), v);
			}
			const struct rt_port_list *http = port_list(p, "http");
			if (p->host_ip) {
				put(e, name(e, "PAI_HOST_IP_%s_%" PRId64, R, p->index), p->host_ip);
				if (http && http->n)
					buf_printf(&hosts, hosts.len ? ",%s:%d" : "%s:%d", p->host_ip, http->ports[0]);
			}
			if (p->index != c->index || strcmp(r->name, c->role))
				continue;
			found_self = true;
			const char *ip = c->host_ip ? c->host_ip : p->host_ip;
			const struct rt_port_list *ssh = port_list(p, "ssh");
			if (ip) {
				put(e, "PAI_CURRENT_CONTAINER_IP", ip);
			}
			if (http && http->n)
				puti(e, "PAI_CURRENT_CONTAINER_PORT", http->ports[0]);
			if (ip)
				put(e, "PAI_CONTAINER_HOST_IP", ip);
			if (http && http->n)
				puti(e, "PAI_CONTAINER_HOST_PORT", http->ports[0]);
			if (ssh && ssh->n)
				puti(e, "PAI_CONTAINER_SSH_PORT", ssh->ports[0]);
			struct buf all = BUF_INIT;
			for (size_t j = 0; p->ports && j < p->nports; j++) {
				const struct rt_port_list *l = &p->ports[j];
				const char *v = join_ports(e, l);
				put(e, name(e, "PAI_CONTAINER_HOST_%s_PORT_LIST", l->label), v);
				buf_printf(&all, "%s:%s;", l->label, v ? v : "");
			}
			put(e, "PAI_CONTAINER_HOST_PORT_LIST", all.oom ? NULL : arena_strndup(e->a, buf_str(&all), all.len));
			buf_fini(&all);
		}
		put(e, name(e, "PAI_TASK_ROLE_%s_HOST_LIST", R),
		    hosts.oom ? NULL : arena_strndup(e->a, buf_str(&hosts), hosts.len));
		buf_fini(&hosts);
	}
	put(e, "PAI_TASK_ROLE_INSTANCES",
	    instances.oom ? NULL : arena_strndup(e->a, buf_str(&instances), instances.len));
	buf_fini(&instances);
	free(sorted);
	if (!found_self)
		return gerr_set(err, GERR_INVALID, "env: task %s-%" PRId64 " is not among the job attempt's tasks",
		                c->role, c->index);
	return 0;
}

int rt_env(const struct rt_env_ctx *c, struct arena *a, const char ***env, struct gerr *err)
{
	*env = NULL;
	const struct spec_role *r = c->job ? find_role(c->job, c->role) : NULL;
	if (!r)
		return gerr_set(err, GERR_INVALID, "env: the job has no task role %s", c->role ? c->role : "(none)");

	struct envb e = { .a = a };
	hmap_init(&e.idx);
	fc_env(&e, c, r);
	rest_env(&e, c, r);
	gpu_env(&e, c, r);
	int rc = runtime_env(&e, c, err);
	if (!rc && c->work_dir)
		put(&e, "PAI_WORK_DIR", c->work_dir);

	/* base first: each name once, ours win, a repeated base name keeps its last value */
	struct hmap seen;
	hmap_init(&seen);
	size_t nbase = 0;
	for (const char *const *b = c->base; b && *b; b++)
		nbase++;
	const char **out = NULL;
	if (!rc && !e.oom)
		out = arena_alloc(a, (nbase + e.n + 1) * sizeof(*out));
	size_t n = 0;
	for (size_t i = 0; out && i < nbase; i++) {
		const char *kv = c->base[i], *eq = strchr(kv, '=');
		if (!eq || eq == kv)
			continue;
		char *k = arena_strndup(a, kv, (size_t)(eq - kv));
		if (!k) {
			out = NULL;
			break;
		}
		if (hmap_get(&e.idx, k))
			continue;
		uintptr_t at = (uintptr_t)hmap_get(&seen, k);
		if (at) {
			out[at - 1] = kv;
			continue;
		}
		if (hmap_put(&seen, k, (void *)(uintptr_t)(n + 1))) {
			out = NULL;
			break;
		}
		out[n++] = kv;
	}
	for (size_t i = 0; out && i < e.n; i++) {
		size_t kl = strlen(e.keys[i]), vl = strlen(e.vals[i]);
		if (kl + 1 + vl + 1 > ENV_STR_MAX) {
			rc = gerr_set(err, GERR_TOO_LARGE,
			              "env: %s would be %zu bytes; the kernel takes at most %d per variable", e.keys[i],
			              kl + 1 + vl, ENV_STR_MAX - 1);
			out = NULL;
			break;
		}
		char *kv = arena_alloc(a, kl + vl + 2);
		if (!kv) {
			out = NULL;
			break;
		}
		memcpy(kv, e.keys[i], kl);
		kv[kl] = '=';
		memcpy(kv + kl + 1, e.vals[i], vl + 1);
		out[n++] = kv;
	}
	if (out)
		out[n] = NULL;
	else if (!rc)
		rc = gerr_set(err, GERR_NOMEM, "env: out of memory");
	hmap_fini(&seen);
	hmap_fini(&e.idx);
	free(e.keys);
	free(e.vals);
	if (!rc)
		*env = out;
	return rc;
}
