/* SPDX-License-Identifier: MIT */
/*
 * normalize.c — an accepted document becomes the C model later modules read.
 *
 * Defaults are OpenPAI's, including where they differ from its docs:
 *   instances              `instances || 1`
 *   minFailedInstances     truthy value, else 1          (0 and null mean 1)
 *   minSucceededInstances  truthy value, else instances  (not -1)
 *   job retry              {fancyRetryPolicy: true, maxRetryCount: jobRetryCount || 0}
 *   task retry             gang (the default): {false, 0}; gangAllocation: false:
 *                          {true, taskRetryCount || 0}
 *   ports                  as given, then ssh: 1 and http: 1 when absent
 *   shmMB                  `shmMB || 512`
 *   priority               jobPriorityClass test (default) 10, prod 100, oppo -1
 * Commands are rendered here, in rest-server's order: docker auth with
 * $secrets, then each role's pre + commands + post with $parameters, $script,
 * $output, $data (never $secrets).
 */
#include <stdio.h>
#include <string.h>

#include "spec/internal.h"

static const char *str_of(const struct spec_value *v)
{
	return v && v->type == SPEC_STRING ? v->str : NULL;
}

/* String(v) into the arena, or NULL for undefined. */
static const char *js_text(struct spec_job *job, const struct spec_value *v)
{
	if (!v)
		return NULL;
	if (v->type == SPEC_STRING)
		return v->str;
	struct buf b = BUF_INIT;
	spec__js_string(&b, v);
	const char *s = b.oom ? NULL : arena_strndup(&job->arena, buf_str(&b), b.len);
	buf_fini(&b);
	return s;
}

static int64_t int_or(const struct spec_value *v, int64_t dflt)
{
	return v && v->type == SPEC_NUMBER ? spec__to_int64(v->num) : dflt;
}

char *spec_convert_name(struct arena *a, const char *name)
{
	size_t n = strlen(name), k = 0;
	char *out = arena_alloc(a, n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[k++] = c;
	}
	out[k] = '\0';
	return out;
}

static int prereq_type(const char *t)
{
	static const char *names[] = { "script", "output", "data", "dockerimage" };
	for (int i = 0; i < 4; i++)
		if (t && !strcmp(t, names[i]))
			return i;
	return -1;
}

static int render_auth(struct spec_job *job, struct spec_prereq *p, const struct spec_value *auth)
{
	struct spec__tctx ctx = { .secrets = spec_value_get(job->root, "secrets") };
	char err[200];

	p->has_auth = true;
	for (size_t i = 0; i < auth->n; i++) {
		const struct spec_member *m = &auth->members[i];
		const struct spec_value *v = m->val;
		struct buf out = BUF_INIT;
		bool used;
		if (v->type != SPEC_STRING) {
			if (spec__truthy(v))
				return spec__error_at(job, v, "prerequisites %s: auth.%s should be string",
				                      p->name, m->key);
			continue;   /* mustache renders a falsy template as "" */
		}
		int rc = spec__render(v->str, v->len, &ctx, &out, &used, err, sizeof(err));
		if (rc == GERR_PROTOCOL)
			rc = spec__error_at(job, v, "prerequisites %s: auth.%s: %s", p->name, m->key, err);
		const char *s = rc ? NULL : arena_strndup(&job->arena, buf_str(&out), out.len);
		buf_fini(&out);
		if (rc)
			return rc;
		if (!s)
			return GERR_NOMEM;
		unsigned bit = 0;
		if (!strcmp(m->key, "username"))
			p->auth_username = s, bit = 1;
		else if (!strcmp(m->key, "password"))
			p->auth_password = s, bit = 2;
		else if (!strcmp(m->key, "registryuri"))
			p->auth_registryuri = s, bit = 4;
		if (used)
			p->auth_secret |= bit;
	}
	return 0;
}

static int build_prereqs(struct spec_job *job)
{
	const struct spec_value *list = spec_value_get(job->root, "prerequisites");
	size_t n = list ? list->n : 0;

	job->prereqs = arena_zalloc(&job->arena, (n ? n : 1) * sizeof(*job->prereqs));
	if (!job->prereqs)
		return GERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct spec_value *it = list->items[i];
		struct spec_prereq *p = &job->prereqs[job->nprereqs++];
		p->raw = it;
		p->type = (enum spec_prereq_type)prereq_type(str_of(spec_value_get(it, "type")));
		p->name = str_of(spec_value_get(it, "name"));
		p->plugin = str_of(spec_value_get(it, "plugin"));
		p->failure_policy = str_of(spec_value_get(it, "failurePolicy"));
		if (!p->failure_policy)
			p->failure_policy = "fail";
		const struct spec_value *uri = spec_value_get(it, "uri");
		if (p->type == SPEC_PREREQ_DATA) {
			p->nuris = uri ? uri->n : 0;
			p->uris = arena_alloc(&job->arena, (p->nuris ? p->nuris : 1) * sizeof(*p->uris));
			if (!p->uris)
				return GERR_NOMEM;
			for (size_t k = 0; k < p->nuris; k++)
				p->uris[k] = uri->items[k]->str;
		} else {
			p->uri = str_of(uri);
		}
		const struct spec_value *auth = spec_value_get(it, "auth");
		if (p->type == SPEC_PREREQ_DOCKERIMAGE && auth && auth->type == SPEC_OBJECT) {
			int rc = render_auth(job, p, auth);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static const struct spec_prereq *find_prereq(const struct spec_job *job, int type, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < job->nprereqs; i++)
		if ((int)job->prereqs[i].type == type && !strcmp(job->prereqs[i].name, name))
			return &job->prereqs[i];
	return NULL;
}

static int build_ports(struct spec_job *job, struct spec_role *r, const struct spec_value *ports)
{
	size_t n = ports && ports->type == SPEC_OBJECT ? ports->n : 0;
	r->ports = arena_alloc(&job->arena, (n + 2) * sizeof(*r->ports));
	if (!r->ports)
		return GERR_NOMEM;
	bool ssh = false, http = false;
	for (size_t i = 0; i < n; i++) {
		const struct spec_member *m = &ports->members[i];
		r->ports[r->nports++] = (struct spec_port){ m->key, int_or(m->val, 0) };
		ssh |= !strcmp(m->key, "ssh");
		http |= !strcmp(m->key, "http");
	}
	if (!ssh)
		r->ports[r->nports++] = (struct spec_port){ "ssh", 1 };
	if (!http)
		r->ports[r->nports++] = (struct spec_port){ "http", 1 };
	return 0;
}

/* Join pre + commands + post (each trimmed) with "\n" and render. */
static int build_entrypoint(struct spec_job *job, struct spec_role *r,
                            const struct spec_value *deployment)
{
	const struct spec_value *lists[3] = { NULL, spec_value_get(r->raw, "commands"), NULL };
	const struct spec_value *dr = spec_value_get(spec_value_get(deployment, "taskRoles"), r->name);
	struct buf joined = BUF_INIT, out = BUF_INIT;
	char err[200];
	bool first = true;
	int rc;

	if (dr) {
		lists[0] = spec_value_get(dr, "preCommands");
		lists[2] = spec_value_get(dr, "postCommands");
	}
	for (int l = 0; l < 3; l++)
		for (size_t i = 0; lists[l] && i < lists[l]->n; i++) {
			const struct spec_value *c = lists[l]->items[i];
			size_t a, b;
			spec__js_trim(c->str, c->len, &a, &b);
			if (!first)
				buf_putc(&joined, '\n');
			buf_append(&joined, c->str + a, b - a);
			first = false;
		}
	struct spec__tctx ctx = {
		.parameters = job->parameters,
		.script = r->script ? r->script->raw : NULL,
		.output = r->output ? r->output->raw : NULL,
		.data = r->data ? r->data->raw : NULL,
	};
	rc = joined.oom ? GERR_NOMEM
	                : spec__render(buf_str(&joined), joined.len, &ctx, &out, NULL, err, sizeof(err));
	if (rc == GERR_PROTOCOL)
		rc = spec__error_at(job, lists[1], "taskRoles.%s.commands: %s", r->name, err);
	if (!rc) {
		r->entrypoint = arena_strndup(&job->arena, buf_str(&out), out.len);
		if (!r->entrypoint || out.oom)
			rc = GERR_NOMEM;
	}
	buf_fini(&joined);
	buf_fini(&out);
	return rc;
}

static int build_role(struct spec_job *job, struct spec_role *r, const char *name,
                      const struct spec_value *v, const struct spec__refs *refs)
{
	const struct spec_value *hrole =
		spec_value_get(spec_value_get(spec_value_get(job->extras, "hivedScheduler"), "taskRoles"), name);
	const struct spec_value *res = spec_value_get(v, "resourcePerInstance");
	const struct spec_value *comp = spec_value_get(v, "completion");
	const struct spec_value *opts = spec_value_get(v, "extraContainerOptions");
	const struct spec_value *x;
	int rc;

	r->raw = v;
	r->name = name;
	r->fc_name = spec_convert_name(&job->arena, name);
	if (!r->fc_name)
		return GERR_NOMEM;
	x = spec_value_get(v, "instances");
	r->instances = spec__truthy(x) ? int_or(x, 1) : 1;
	x = spec_value_get(comp, "minFailedInstances");
	r->min_failed = spec__truthy(x) ? int_or(x, 1) : 1;
	x = spec_value_get(comp, "minSucceededInstances");
	r->min_succeeded = spec__truthy(x) ? int_or(x, r->instances) : r->instances;
	x = spec_value_get(v, "taskRetryCount");
	r->task_retry_count = spec__truthy(x) ? int_or(x, 0) : 0;
	r->task_retry = job->gang ? (struct spec_retry){ false, 0 }
	                          : (struct spec_retry){ true, r->task_retry_count };
	r->cpu = int_or(spec_value_get(res, "cpu"), 0);
	r->memory_mb = int_or(spec_value_get(res, "memoryMB"), 0);
	r->gpu = int_or(spec_value_get(res, "gpu"), 0);
	x = spec_value_get(opts, "shmMB");
	r->shm_mb = spec__truthy(x) ? int_or(x, 512) : 512;
	r->infiniband = spec__truthy(spec_value_get(opts, "infiniband"));
	r->image = find_prereq(job, SPEC_PREREQ_DOCKERIMAGE, str_of(spec_value_get(v, "dockerImage")));
	r->script = find_prereq(job, SPEC_PREREQ_SCRIPT, str_of(spec_value_get(v, "script")));
	r->output = find_prereq(job, SPEC_PREREQ_OUTPUT, str_of(spec_value_get(v, "output")));
	r->data = find_prereq(job, SPEC_PREREQ_DATA, str_of(spec_value_get(v, "data")));
	r->sku_type = str_of(spec_value_get(hrole, "skuType"));
	r->pinned_cell_id = str_of(spec_value_get(hrole, "pinnedCellId"));
	r->leaf_cell_number = -1;

	/* the role's own prerequisite list: names of any type, first match */
	const struct spec_value *names = spec_value_get(v, "prerequisites");
	r->nprereqs = names ? names->n : 0;
	r->prereqs = arena_alloc(&job->arena, (r->nprereqs ? r->nprereqs : 1) * sizeof(*r->prereqs));
	if (!r->prereqs)
		return GERR_NOMEM;
	for (size_t i = 0; i < r->nprereqs; i++) {
		const struct spec_prereq *p = NULL;
		for (size_t k = 0; k < job->nprereqs && !p; k++)
			if (!strcmp(job->prereqs[k].name, names->items[i]->str))
				p = &job->prereqs[k];
		r->prereqs[i] = p;
	}

	if (r->cpu < 0 || r->memory_mb < 0 || r->gpu < 0)
		spec__warn(job, res ? res->line : 0, res ? res->col : 0,
		           "taskRoles.%s.resourcePerInstance: negative resources can never be scheduled", name);
	if ((rc = build_ports(job, r, spec_value_get(res, "ports"))))
		return rc;
	return build_entrypoint(job, r, spec__default_deployment(refs));
}

static int build_plugins(struct spec_job *job)
{
	const struct spec_value *list = spec_value_get(job->extras, "com.microsoft.pai.runtimeplugin");
	if (!list || list->type != SPEC_ARRAY) {
		if (list)
			spec__warn(job, list->line, list->col,
			           "extras.com.microsoft.pai.runtimeplugin should be a list; ignored");
		return 0;
	}
	job->plugins = arena_zalloc(&job->arena, (list->n ? list->n : 1) * sizeof(*job->plugins));
	if (!job->plugins)
		return GERR_NOMEM;
	for (size_t i = 0; i < list->n; i++) {
		const struct spec_value *it = list->items[i];
		const char *name = str_of(spec_value_get(it, "plugin"));
		if (!name) {
			spec__warn(job, it->line, it->col, "runtime plugin %zu has no name; ignored", i);
			continue;
		}
		struct spec_plugin *p = &job->plugins[job->nplugins++];
		p->plugin = name;
		p->failure_policy = str_of(spec_value_get(it, "failurePolicy"));
		if (!p->failure_policy)
			p->failure_policy = "fail";
		p->parameters = spec_value_get(it, "parameters");
		const struct spec_value *roles = spec_value_get(it, "taskroles");
		if (roles && roles->type == SPEC_ARRAY) {
			p->task_roles = arena_alloc(&job->arena, (roles->n ? roles->n : 1) * sizeof(char *));
			if (!p->task_roles)
				return GERR_NOMEM;
			for (size_t k = 0; k < roles->n; k++)
				if (roles->items[k]->type == SPEC_STRING)
					p->task_roles[p->ntask_roles++] = roles->items[k]->str;
		}
	}
	return 0;
}

static int add_storage(struct spec_job *job, const char *name, const char *mount, bool share, bool ro)
{
	struct spec_storage *s = &job->storages[job->nstorages++];
	s->name = name;
	s->mount_path = mount ? mount : arena_printf(&job->arena, "/mnt/%s", name);
	s->share = share;
	s->read_only = ro;
	return s->mount_path ? 0 : GERR_NOMEM;
}

static int build_storages(struct spec_job *job)
{
	const struct spec_value *list = spec_value_get(job->extras, "storages");
	size_t cap = list && list->type == SPEC_ARRAY ? list->n : 0;
	int rc;

	/* the legacy teamwise_storage plugin becomes storages, as rest-server does */
	for (size_t i = 0; i < job->nplugins; i++)
		if (!strcmp(job->plugins[i].plugin, "teamwise_storage")) {
			const struct spec_value *names =
				spec_value_get(job->plugins[i].parameters, "storageConfigNames");
			cap += names && names->type == SPEC_ARRAY ? names->n : 0;
		}
	job->storages = arena_zalloc(&job->arena, (cap ? cap : 1) * sizeof(*job->storages));
	if (!job->storages)
		return GERR_NOMEM;
	if (list && list->type != SPEC_ARRAY) {
		spec__warn(job, list->line, list->col, "extras.storages should be a list; ignored");
	} else if (list) {
		job->storages_default = list->n == 0;
		for (size_t i = 0; i < list->n; i++) {
			const struct spec_value *it = list->items[i];
			const char *name = str_of(spec_value_get(it, "name"));
			if (!name) {
				spec__warn(job, it->line, it->col, "extras.storages[%zu] has no name; ignored", i);
				continue;
			}
			const struct spec_value *share = spec_value_get(it, "share");
			const struct spec_value *ro = spec_value_get(it, "readOnly");
			if ((rc = add_storage(job, name, str_of(spec_value_get(it, "mountPath")),
			                      !(share && share->type == SPEC_BOOL && !share->b),
			                      spec__truthy(ro))))
				return rc;
		}
	}
	for (size_t i = 0; i < job->nplugins; i++) {
		if (strcmp(job->plugins[i].plugin, "teamwise_storage"))
			continue;
		const struct spec_value *names = spec_value_get(job->plugins[i].parameters, "storageConfigNames");
		for (size_t k = 0; names && names->type == SPEC_ARRAY && k < names->n; k++)
			if (names->items[k]->type == SPEC_STRING &&
			    (rc = add_storage(job, names->items[k]->str, NULL, true, false)))
				return rc;
	}
	return 0;
}

int spec__normalize(struct spec_job *job, const struct spec__refs *refs)
{
	const struct spec_value *root = job->root;
	const struct spec_value *x;
	int rc;

	job->name = str_of(spec_value_get(root, "name"));
	job->version = js_text(job, spec_value_get(root, "version"));
	job->contributor = str_of(spec_value_get(root, "contributor"));
	job->description = str_of(spec_value_get(root, "description"));
	job->parameters = spec_value_get(root, "parameters");
	job->extras = spec_value_get(root, "extras");
	job->has_secrets = spec_value_get(root, "secrets") != NULL;
	const struct spec_value *defaults = spec_value_get(root, "defaults");
	x = spec_value_get(defaults, "virtualCluster");
	job->virtual_cluster = x && x->type != SPEC_NULL ? js_text(job, x) : "default";
	job->default_deployment = str_of(spec_value_get(defaults, "deployment"));
	x = spec_value_get(root, "jobRetryCount");
	job->job_retry_count = spec__truthy(x) ? int_or(x, 0) : 0;
	job->retry = (struct spec_retry){ true, job->job_retry_count };

	x = spec_value_get(job->extras, "gangAllocation");
	job->gang = !(x && x->type == SPEC_BOOL && !x->b);
	if (x && x->type != SPEC_BOOL)
		spec__warn(job, x->line, x->col, "extras.gangAllocation should be true or false; treated as true");

	const struct spec_value *hc = spec_value_get(job->extras, "hivedScheduler");
	job->priority_class = str_of(spec_value_get(hc, "jobPriorityClass"));
	if (!job->priority_class)
		job->priority_class = "test";
	job->priority = spec_priority_of(job->priority_class);
	x = spec_value_get(hc, "gangReleaseEnable");
	job->gang_release = x && x->type == SPEC_BOOL && x->b;
	x = spec_value_get(hc, "lazyPreemptionEnable");
	job->lazy_preemption = x && x->type == SPEC_BOOL && x->b;

	if ((rc = build_prereqs(job)))
		return rc;

	const struct spec_value *roles = spec_value_get(root, "taskRoles");
	job->roles = arena_zalloc(&job->arena, (roles->n ? roles->n : 1) * sizeof(*job->roles));
	if (!job->roles)
		return GERR_NOMEM;
	for (size_t i = 0; i < roles->n; i++) {
		struct spec_role *r = &job->roles[job->nroles++];
		if ((rc = build_role(job, r, roles->members[i].key, roles->members[i].val, refs)))
			return rc;
		job->total_tasks += r->instances;
		job->total_gpu += r->gpu * r->instances;
	}
	if ((rc = build_plugins(job)))
		return rc;
	return build_storages(job);
}
