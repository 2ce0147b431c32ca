/* SPDX-License-Identifier: MIT */
/*
 * jobs.c — the control loop's jobs in memory.
 *
 * A job not yet finished lives here from submission to completion: what the
 * scheduler needs (its gangs, with their pods in HiveD's order), what the
 * controller needs (task roles, ctl's status), and, once placed, what the
 * executor needs (struct rtask per task). The fixed part is one small arena
 * sized up front, so a waiting job costs a few hundred bytes and a queue of
 * 100,000 fits the server's memory budget.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/loop_internal.h"

void job_free(struct job *j)
{
	if (!j)
		return;
	ctl_job_fini(&j->ctl);
	free(j->rt);
	if (j->x) {
		arena_fini(&j->x->run);
		spec_job_free(j->x->spec);
		free(j->x);
	}
	free(j);
}

bool job_placed(const struct job *j)
{
	for (size_t g = 0; g < j->ngrps; g++)
		if (!j->grps[g].placed)
			return false;
	return true;
}

/* ---- jobs by id -------------------------------------------------------------- */

static size_t id_hash(int64_t id, size_t cap)
{
	uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> 17) & (cap - 1);
}

static int idmap_grow(struct idmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct idmap_slot *s = calloc(cap, sizeof(*s));
	if (!s)
		return -1;
	size_t used = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].id > 0) {
			size_t k = id_hash(m->slots[i].id, cap);
			while (s[k].id)
				k = (k + 1) & (cap - 1);
			s[k] = m->slots[i];
			used++;
		}
	free(m->slots);
	m->slots = s;
	m->cap = cap;
	m->used = used;
	return 0;
}

static void idmap_put(struct idmap *m, int64_t id, struct job *j)
{
	if ((m->used + 1) * 2 > m->cap && idmap_grow(m))
		return;   /* out of memory: internal reports for this job are dropped, a restart recovers */
	size_t k = id_hash(id, m->cap);
	while (m->slots[k].id > 0)
		k = (k + 1) & (m->cap - 1);
	if (m->slots[k].id == 0)
		m->used++;
	m->slots[k] = (struct idmap_slot){ id, j };
}

static struct idmap_slot *idmap_find(const struct idmap *m, int64_t id)
{
	if (!m->cap)
		return NULL;
	for (size_t k = id_hash(id, m->cap), n = 0; n < m->cap; k = (k + 1) & (m->cap - 1), n++) {
		if (m->slots[k].id == 0)
			return NULL;
		if (m->slots[k].id == id)
			return &m->slots[k];
	}
	return NULL;
}

void idmap_fini(struct idmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

struct job *job_by_id(struct loop *l, int64_t id)
{
	struct idmap_slot *s = idmap_find(&l->by_id, id);
	return s ? s->job : NULL;
}

struct job *job_by_group(struct loop *l, const char *group)
{
	const char *slash = strchr(group, '/');
	char key[1024];
	size_t n = slash ? (size_t)(slash - group) : strlen(group);
	if (n >= sizeof(key))
		return NULL;
	memcpy(key, group, n);
	key[n] = '\0';
	return hmap_get(&l->by_key, key);
}

const char *intern(struct loop *l, const char *s)
{
	char *have = hmap_get(&l->strings, s);
	if (have)
		return have;
	char *copy = strdup(s);
	if (copy && hmap_put(&l->strings, copy, copy) != 0) {
		free(copy);
		return NULL;
	}
	return copy;
}

void strings_fini(struct hmap *h)
{
	for (size_t i = 0; i < h->cap; i++)
		free((char *)h->slots[i].key);
	hmap_fini(h);
}

void job_debug_id(const char *key, char out[33])
{
	unsigned char d[16];
	EVP_Digest(key, strlen(key), d, NULL, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int load_admitted(struct loop *l, struct spec_job *s, const char *text, const char *user, char *refused,
                  size_t len)
{
	struct spec_opts opts = { user, &l->cluster->spec };
	if (refused && len)
		refused[0] = '\0';
	if (spec_job_load(s, text, strlen(text), &opts) == 0)
		return 0;
	if (refused && len)
		snprintf(refused, len, "%s", s->ndiags ? s->diags[0].msg : "it is not valid");
	struct spec_opts bare = { user, NULL };
	return spec_job_load(s, text, strlen(text), &bare);
}

/* Per-VC job counts, kept as jobs change so the snapshot never scans. */
void count_job(struct loop *l, const struct job *j, int delta)
{
	struct vc_count *c = hmap_get(&l->vc_counts, j->vc);
	if (!c) {
		if (delta < 0 || !(c = calloc(1, sizeof(*c))) || !(c->name = strdup(j->vc))) {
			free(c);
			return;
		}
		hmap_put(&l->vc_counts, c->name, c);
	}
	if (job_placed(j))
		c->placed += delta;
	else
		c->waiting += delta;
}

/* Try j in this iteration's scheduling pass. */
void want(struct loop *l, struct job *j)
{
	if (j->retry)
		return;
	if (l->npending == l->pending_cap) {
		size_t cap = l->pending_cap ? l->pending_cap * 2 : 256;
		struct job **p = realloc(l->pending, cap * sizeof(*p));
		if (!p)
			return;   /* tried again when cells are next freed */
		l->pending = p;
		l->pending_cap = cap;
	}
	l->pending[l->npending++] = j;
	j->retry = true;
}

void job_link(struct loop *l, struct job *j)
{
	j->prev = l->last;
	j->next = NULL;
	if (l->last)
		l->last->next = j;
	else
		l->first = j;
	l->last = j;
	idmap_put(&l->by_id, j->id, j);
	count_job(l, j, +1);
}

void job_unlink(struct loop *l, struct job *j)
{
	count_job(l, j, -1);
	if (j->wake_at)
		l->ntimed--;
	if (j->retry)
		for (size_t i = 0; i < l->npending; i++)
			if (l->pending[i] == j) {
				memmove(l->pending + i, l->pending + i + 1, (l->npending - i - 1) * sizeof(*l->pending));
				l->npending--;
				break;
			}
	if (j->prev)
		j->prev->next = j->next;
	else
		l->first = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->last = j->prev;
	if (j->x)
		hmap_del(&l->by_key, j->key);
	struct idmap_slot *s = idmap_find(&l->by_id, j->id);
	if (s)
		*s = (struct idmap_slot){ -1, NULL };
	for (size_t t = 0; j->rt && t < j->ctl.ntasks; t++)
		if (j->rt[t].uid[0]) {
			hmap_del(&l->by_uid, j->rt[t].uid);
			rt_ports_release(l->ports, j->rt[t].uid);
		}
	job_free(j);
}

int event(struct loop *l, const struct job *j, int64_t now, const char *type, const char *reason,
          const char *msg, struct gerr *err)
{
	return store_job_event(l->db, j->id, now, type, reason, msg, err);
}

/* Add `pods` pods of size `cells` at task positions pos.. to a group whose
 * arrays were sized for the whole job. */
static void grp_add(struct grp *g, int64_t pods, int32_t cells, uint32_t pos)
{
	size_t m = 0;
	while (m < g->nmembers && g->members[m].leaf_cells != cells)
		m++;
	if (m == g->nmembers)
		g->members[g->nmembers++] = (struct sched_member){ cells, 0 };
	/* pods of member m come after every pod of members before it */
	size_t at = 0;
	for (size_t k = 0; k <= m; k++)
		at += (size_t)g->members[k].pods;
	memmove(g->pod_task + at + pods, g->pod_task + at, (g->npods - at) * sizeof(*g->pod_task));
	for (int64_t i = 0; i < pods; i++)
		g->pod_task[at + (size_t)i] = pos + (uint32_t)i;
	g->npods += (size_t)pods;
	g->members[m].pods += (int32_t)pods;
}

const char *grp_name(struct loop *l, const struct job *j, const struct grp *g)
{
	if (j->gang || !g->npods)
		return arena_printf(&l->scratch, "%s/default", j->key);
	const struct ctl_task *t = &j->ctl.tasks[g->pod_task[0]];
	return arena_printf(&l->scratch, "%s/%s-%d", j->key, j->ctl.roles[t->role].name, t->index);
}

const char *pod_name(struct loop *l, const struct job *j, uint32_t task)
{
	const struct ctl_task *t = &j->ctl.tasks[task];
	return arena_printf(&l->scratch, "%s-%d", j->ctl.roles[t->role].name, t->index);
}

static size_t al(size_t n)
{
	return (n + 7) & ~(size_t)7;   /* bump()'s alignment */
}

/* A job is one block: the struct, then its fixed parts, carved in order. */
struct bump {
	char *p, *end;
};

static void *bump(struct bump *b, size_t n)
{
	n = al(n ? n : 1);
	if ((size_t)(b->end - b->p) < n)
		return NULL;
	void *r = b->p;
	b->p += n;
	return r;   /* zeroed: the block is calloc'd */
}

static char *bump_str(struct bump *b, const char *s)
{
	size_t n = strlen(s) + 1;
	char *r = bump(b, n);
	if (r)
		memcpy(r, s, n);
	return r;
}

/* The bytes job_from_spec carves, so the job is one exact block. */
static size_t job_size(const struct spec_job *s, const char *user)
{
	size_t u = strlen(user), n = strlen(s->name), tasks = (size_t)s->total_tasks;
	size_t size = al(sizeof(struct job)) + al(u + n + 2);
	size_t ngrps = s->gang ? 1 : tasks;
	size += al(ngrps * sizeof(struct grp)) + al(tasks * sizeof(struct ctl_task)) + al(s->nroles * sizeof(struct ctl_role));
	for (size_t r = 0; r < s->nroles; r++) {
		const struct spec_role *role = &s->roles[r];
		size += al(strlen(role->name) + 1);
		if (role->sku_type)
			size += al(strlen(role->sku_type) + 1);
		if (role->pinned_cell_id)
			size += al(strlen(role->pinned_cell_id) + 1);
		if (!s->gang)   /* a group per task: its member and pod_task slots */
			size += (size_t)role->instances * (al(sizeof(struct sched_member)) + al(sizeof(uint32_t)));
	}
	if (s->gang)
		size += al(s->nroles * sizeof(struct sched_member)) + al(tasks * sizeof(uint32_t));
	return size;
}

/*
 * The job as the loop keeps it: a gang of every task (the default), or one
 * gang per task (extras.gangAllocation: false). Leaf cells per task are
 * OpenPAI's max(ceil(gpu/sku.gpu), ceil(cpu/sku.cpu), ceil(mem/sku.memory)).
 */
struct job *job_from_spec(struct loop *l, const struct spec_job *s, const char *user, int64_t id,
                          struct gerr *err)
{
	size_t size = job_size(s, user);
	char *block = calloc(1, size);
	if (!block) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	struct bump b = { block, block + size };
	struct job *j = bump(&b, sizeof(*j));
	size_t ntasks = (size_t)s->total_tasks;
	j->id = id;
	j->user = intern(l, user);
	j->vc = intern(l, s->virtual_cluster);
	if ((j->key = bump(&b, strlen(user) + strlen(s->name) + 2)))
		sprintf(j->key, "%s~%s", user, s->name);
	j->name = j->key ? j->key + strlen(user) + 1 : NULL;
	j->priority = s->priority;
	j->lazy = s->lazy_preemption;
	j->gang = s->gang;
	for (size_t r = 0; r < s->nroles; r++) {
		if (s->roles[r].sku_type && !j->leaf_type)
			j->leaf_type = bump_str(&b, s->roles[r].sku_type);
		if (s->roles[r].pinned_cell_id && !j->pinned)
			j->pinned = bump_str(&b, s->roles[r].pinned_cell_id);
	}
	if (!j->user || !j->name || !j->key || !j->vc)
		goto nomem;
	struct ctl_role *roles = bump(&b, s->nroles * sizeof(*roles));
	struct ctl_task *tasks = bump(&b, ntasks * sizeof(*tasks));
	if (!roles || !tasks)
		goto nomem;
	for (size_t r = 0; r < s->nroles; r++) {
		const struct spec_role *sr = &s->roles[r];
		roles[r] = (struct ctl_role){ bump_str(&b, sr->name), sr->instances, sr->min_failed,
		                              sr->min_succeeded, { sr->task_retry.fancy, (int32_t)sr->task_retry.max } };
		if (!roles[r].name)
			goto nomem;
	}

	size_t ngrps = s->gang ? 1 : ntasks;
	j->grps = bump(&b, ngrps * sizeof(*j->grps));
	if (!j->grps)
		goto nomem;
	j->ngrps = ngrps;
	for (size_t g = 0; g < ngrps; g++) {
		size_t members = s->gang ? s->nroles : 1, pods = s->gang ? ntasks : 1;
		j->grps[g].members = bump(&b, members * sizeof(struct sched_member));
		j->grps[g].pod_task = bump(&b, pods * sizeof(uint32_t));
		j->grps[g].last_wait = -1;
		if (!j->grps[g].members || !j->grps[g].pod_task)
			goto nomem;
	}
	uint32_t pos = 0;
	size_t g = 0;
	for (size_t r = 0; r < s->nroles; r++) {
		const struct spec_role *role = &s->roles[r];
		int64_t cells = sched_leaf_cells(l->sched, role->sku_type, j->vc, j->priority < 0,
		                                 (double)role->gpu, (double)role->cpu, (double)role->memory_mb, err);
		if (cells < 0)
			goto fail;
		if (cells > INT32_MAX) {
			gerr_set(err, GERR_INVALID, "taskRoles.%s: needs more leaf cells than any cluster has", role->name);
			goto fail;
		}
		if (s->gang) {
			grp_add(&j->grps[0], role->instances, (int32_t)cells, pos);
		} else {
			for (int64_t i = 0; i < role->instances; i++, g++)
				grp_add(&j->grps[g], 1, (int32_t)cells, pos + (uint32_t)i);
		}
		pos += (uint32_t)role->instances;
	}
	if (ctl_job_init(&j->ctl, roles, (uint32_t)s->nroles, (struct ctl_policy){ s->retry.fancy, (int32_t)s->retry.max },
	                 tasks))
		goto nomem;
	return j;
nomem:
	gerr_set(err, GERR_NOMEM, "out of memory");
fail:
	ctl_job_fini(&j->ctl);
	free(block);
	return NULL;
}

void request_of(struct loop *l, const struct job *j, const struct grp *g, enum sched_phase phase,
                struct sched_request *req)
{
	memset(req, 0, sizeof(*req));
	req->group = grp_name(l, j, g);
	req->vc = j->vc;
	req->priority = j->priority;
	req->leaf_type = j->leaf_type;
	req->pinned_cell = j->pinned;
	req->members = g->members;
	req->nmembers = g->nmembers;
	req->lazy_preemption = j->lazy;
	req->pod = g->npods ? pod_name(l, j, g->pod_task[0]) : NULL;
	req->phase = phase;
}
