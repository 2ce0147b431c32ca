/* SPDX-License-Identifier: MIT */
/*
 * loop.c — the control loop: the one thread that changes cluster state.
 *
 * DESIGN
 * ------
 * HTTP workers queue commands (submit, stop) and wake the loop through an
 * eventfd; wakeups coalesce, so each iteration drains the whole queue. An
 * iteration is one store transaction:
 *
 *   1. apply every queued command (checks, then rows and events);
 *   2. a scheduling pass over the waiting jobs that can have changed (new
 *      ones, and every waiting job of a VC where cells were freed), in
 *      priority order then submission order: place, preempt, or record why
 *      the job waits;
 *   3. commit — one fsync for the whole batch (group commit);
 *   4. answer the commands, then republish the cluster snapshot.
 *
 * Nothing is answered before the commit: a 201 means the job is on disk
 * (DESIGN principle 3). If the commit fails, nothing is acknowledged (every
 * command gets a 500) and the loop rebuilds its state from the store, the
 * same code that runs at start after a crash (recover()).
 *
 * Invariants:
 *   (1) a job is in `jobs` iff its row is WAITING, RUNNING or STOPPING;
 *   (2) a group holds cells in the scheduler iff its placement row exists;
 *   (3) only this thread touches the scheduler and `jobs`.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/hmap.h"
#include "base/log.h"
#include "server/bind.h"
#include "server/internal.h"

struct grp {                      /* a gang: the whole job, or one task */
	char *name;                   /* HiveD affinity group name */
	struct sched_member *members; /* merged by size, in first-appearance order */
	size_t nmembers;
	char **pods;                  /* "role-index", in placement order */
	size_t npods;
	bool placed;
	int last_wait;                /* SCHED_WAIT_* last reported, -1 none */
};

struct job {
	int64_t id;
	char *user, *name, *key;      /* key: user~name */
	char *vc;
	int priority;
	char *leaf_type, *pinned;     /* NULL: any / none */
	bool lazy;
	int64_t seq;                  /* submission order */
	struct grp *grps;
	size_t ngrps;
	bool retry;                   /* try to place in this iteration */
	struct job *prev, *next;      /* all jobs, submission order */
	struct arena mem;             /* everything above lives here */
};

enum cmd_type { CMD_SUBMIT, CMD_STOP };

struct cmd {
	enum cmd_type type;
	const struct spec_job *spec;  /* submit */
	const char *user, *text;
	size_t len;
	const char *name, *by;        /* stop */
	server_done_fn done;
	void *ctx;
	int status;                   /* the answer, sent after commit */
	char *body;
	struct cmd *next;
};

struct vc_count {
	char *name;
	int64_t waiting, placed;      /* jobs with an unplaced gang / all placed */
};

struct loop {
	struct server *srv;
	struct store *store;
	struct store_conn *db;
	struct sched *sched;
	const struct cluster *cluster;
	pthread_t thread;
	int efd;
	pthread_mutex_t lock;
	struct cmd *head, *tail;
	bool stopping;
	/* loop thread only */
	struct job *first, *last;
	struct hmap by_key;           /* user~name → job */
	struct hmap by_group;         /* group name → job */
	int64_t seq;
	bool freed;                   /* cells were freed: retry waiting jobs */
	bool changed;                 /* republish the snapshot */
	struct job **pending;         /* jobs to try in this iteration (j->retry set) */
	size_t npending, pending_cap;
	struct hmap vc_counts;        /* VC name → struct vc_count */
	struct sched_result res;
	struct arena scratch;         /* reset every iteration */
};

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- answers ------------------------------------------------------------------ */

static void answer(struct cmd *c, int status, json_t *body)
{
	c->status = status;
	free(c->body);
	c->body = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(body);
}

static void answer_error(struct cmd *c, int status, const char *code, const char *msg)
{
	answer(c, status, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/* ---- jobs in memory --------------------------------------------------------------- */

/* A job's memory is one small arena: a waiting job costs a few hundred
 * bytes, so a queue of 100,000 fits the server's memory budget. */
static void job_free(struct job *j)
{
	if (!j)
		return;
	struct arena a = j->mem;
	arena_fini(&a);
}

static bool job_placed(const struct job *j)
{
	for (size_t g = 0; g < j->ngrps; g++)
		if (!j->grps[g].placed)
			return false;
	return true;
}

/* Per-VC job counts, kept as jobs change so the snapshot never scans. */
static void count_job(struct loop *l, const struct job *j, int delta)
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
static void want(struct loop *l, struct job *j)
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

static void job_link(struct loop *l, struct job *j)
{
	j->prev = l->last;
	j->next = NULL;
	if (l->last)
		l->last->next = j;
	else
		l->first = j;
	l->last = j;
	hmap_put(&l->by_key, j->key, j);
	for (size_t g = 0; g < j->ngrps; g++)
		hmap_put(&l->by_group, j->grps[g].name, j);
	count_job(l, j, +1);
}

static void job_unlink(struct loop *l, struct job *j)
{
	count_job(l, j, -1);
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
	hmap_del(&l->by_key, j->key);
	for (size_t g = 0; g < j->ngrps; g++)
		hmap_del(&l->by_group, j->grps[g].name);
	job_free(j);
}

static char *adupf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *adupf(struct arena *a, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if ((size_t)n < sizeof(small))
		return arena_strndup(a, small, (size_t)n);
	char *p = arena_alloc(a, (size_t)n + 1);
	if (p) {
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return p;
}

/* Place `pods` pods of size `cells` named role-<first..> into a group whose
 * arrays were sized for the whole job (members <= roles, pods <= tasks). */
static int grp_add(struct arena *a, struct grp *g, const char *role, int64_t first, int64_t pods, int32_t cells)
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
	memmove(g->pods + at + pods, g->pods + at, (g->npods - at) * sizeof(*g->pods));
	for (int64_t i = 0; i < pods; i++)
		if (!(g->pods[at + (size_t)i] = adupf(a, "%s-%lld", role, (long long)(first + i))))
			return -1;
	g->npods += (size_t)pods;
	g->members[m].pods += (int32_t)pods;
	return 0;
}

static size_t al(size_t n)
{
	return (n + 15) & ~(size_t)15;   /* the arena's alignment */
}

/* The bytes job_from_spec allocates, so the job fits in one chunk. */
static size_t job_size(const struct spec_job *s, const char *user)
{
	size_t u = strlen(user), n = strlen(s->name);
	size_t size = al(sizeof(struct job)) + al(u + 1) + al(n + 1) + al(u + n + 2) + al(strlen(s->virtual_cluster) + 1);
	size_t ngrps = s->gang ? 1 : (size_t)s->total_tasks;
	size += al(ngrps * sizeof(struct grp));
	for (size_t r = 0; r < s->nroles; r++) {
		const struct spec_role *role = &s->roles[r];
		size_t pod = al(strlen(role->name) + 22);
		if (role->sku_type)
			size += al(strlen(role->sku_type) + 1);
		if (role->pinned_cell_id)
			size += al(strlen(role->pinned_cell_id) + 1);
		size += (size_t)role->instances * pod;
		if (!s->gang)   /* a group per task: its name, member and pod slot */
			size += (size_t)role->instances * (al(u + n + strlen(role->name) + 25) + al(sizeof(struct sched_member)) +
			                                   al(sizeof(char *)));
	}
	if (s->gang)
		size += al(u + n + 10) + al(s->nroles * sizeof(struct sched_member)) + al((size_t)s->total_tasks * sizeof(char *));
	return size + 64;
}

/*
 * The scheduler's view of a job: a gang of every task (the default), or one
 * gang per task (extras.gangAllocation: false). Leaf cells per task are
 * OpenPAI's max(ceil(gpu/sku.gpu), ceil(cpu/sku.cpu), ceil(mem/sku.memory)).
 */
static struct job *job_from_spec(struct loop *l, const struct spec_job *s, const char *user, int64_t id,
                                 struct gerr *err)
{
	struct arena a;
	arena_init(&a, job_size(s, user));
	struct job *j = arena_zalloc(&a, sizeof(*j));
	if (!j) {
		arena_fini(&a);
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	j->id = id;
	j->user = arena_strdup(&a, user);
	j->name = arena_strdup(&a, s->name);
	j->key = adupf(&a, "%s~%s", user, s->name);
	j->vc = arena_strdup(&a, s->virtual_cluster);
	j->priority = s->priority;
	j->lazy = s->lazy_preemption;
	for (size_t r = 0; r < s->nroles; r++) {
		if (s->roles[r].sku_type && !j->leaf_type)
			j->leaf_type = arena_strdup(&a, s->roles[r].sku_type);
		if (s->roles[r].pinned_cell_id && !j->pinned)
			j->pinned = arena_strdup(&a, s->roles[r].pinned_cell_id);
	}
	if (!j->user || !j->name || !j->key || !j->vc)
		goto nomem;
	size_t ngrps = s->gang ? 1 : (size_t)s->total_tasks;
	j->grps = arena_zalloc(&a, (ngrps ? ngrps : 1) * sizeof(*j->grps));
	if (!j->grps)
		goto nomem;
	j->ngrps = ngrps;
	for (size_t g = 0; g < ngrps; g++) {
		size_t members = s->gang ? s->nroles : 1, pods = s->gang ? (size_t)s->total_tasks : 1;
		j->grps[g].members = arena_zalloc(&a, (members ? members : 1) * sizeof(struct sched_member));
		j->grps[g].pods = arena_zalloc(&a, (pods ? pods : 1) * sizeof(char *));
		j->grps[g].last_wait = -1;
		if (!j->grps[g].members || !j->grps[g].pods)
			goto nomem;
	}
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
			if (grp_add(&a, &j->grps[0], role->name, 0, role->instances, (int32_t)cells) < 0)
				goto nomem;
		} else {
			for (int64_t i = 0; i < role->instances; i++, g++)
				if (!(j->grps[g].name = adupf(&a, "%s~%s/%s-%lld", user, s->name, role->name, (long long)i)) ||
				    grp_add(&a, &j->grps[g], role->name, i, 1, (int32_t)cells) < 0)
					goto nomem;
		}
	}
	if (s->gang && !(j->grps[0].name = adupf(&a, "%s~%s/default", user, s->name)))
		goto nomem;
	j->mem = a;
	return j;
nomem:
	gerr_set(err, GERR_NOMEM, "out of memory");
fail:
	arena_fini(&a);
	return NULL;
}

static void request_of(const struct job *j, const struct grp *g, enum sched_phase phase,
                       struct sched_request *req)
{
	memset(req, 0, sizeof(*req));
	req->group = g->name;
	req->vc = j->vc;
	req->priority = j->priority;
	req->leaf_type = j->leaf_type;
	req->pinned_cell = j->pinned;
	req->members = g->members;
	req->nmembers = g->nmembers;
	req->lazy_preemption = j->lazy;
	req->pod = g->npods ? g->pods[0] : NULL;
	req->phase = phase;
}

/* ---- events ------------------------------------------------------------------------ */

static int event(struct loop *l, const struct job *j, int64_t now, const char *type, const char *reason,
                 const char *msg, struct gerr *err)
{
	return store_job_event(l->db, j->id, now, type, reason, msg, err);
}

/* "worker-0 on n1 GPUs [0,1]; worker-1 on n2 GPUs [2,3]" */
static char *describe_placement(const struct loop *l, const struct grp *g, const struct sched_bind_info *b)
{
	struct buf out = BUF_INIT;
	size_t pod = 0;
	const char *unit = "leaf cells";
	for (size_t k = 0; k < sched_sku_count(l->sched); k++)
		if (sched_sku_get(l->sched, k)->gpu > 0)
			unit = "GPUs";
	for (size_t m = 0; m < b->nmembers; m++)
		for (size_t p = 0; p < b->members[m].npods; p++, pod++) {
			const struct sched_pod_placement *pp = &b->members[m].pods[p];
			buf_printf(&out, "%s%s on node %s %s [", pod ? "; " : "", pod < g->npods ? g->pods[pod] : "?",
			           pp->node, unit);
			for (int32_t k = 0; k < b->members[m].leaf_cells; k++)
				buf_printf(&out, "%s%d", k ? "," : "", pp->leaves[k]);
			buf_putc(&out, ']');
		}
	return buf_take(&out);
}

/* ---- placing ---------------------------------------------------------------------- */

static int place(struct loop *l, struct job *j, struct grp *g, const struct sched_request *req,
                 int64_t now, struct gerr *err)
{
	const struct sched_bind_info *b = &l->res.bind;
	if (sched_group_commit(l->sched, req, b, (const char *const *)g->pods, now, err) != 0)
		return err->code;
	count_job(l, j, -1);
	g->placed = true;
	count_job(l, j, +1);
	g->last_wait = -1;
	char *json = bind_to_json(b, (const char *const *)g->pods, g->npods);
	char *what = describe_placement(l, g, b);
	int rc = (!json || !what) ? gerr_set(err, GERR_NOMEM, "out of memory")
	                          : store_placement_put(l->db, j->id, g->name, json, now, err);
	if (!rc)
		rc = event(l, j, now, "Normal", "Placed", what, err);
	free(json);
	free(what);
	l->changed = true;
	return rc;
}

/* Release a placed group: its cells go back, the job waits again. */
static int unplace(struct loop *l, struct job *j, struct grp *g, int64_t now, const char *why,
                   struct gerr *err)
{
	struct gerr ignore;
	if (!g->placed)
		return 0;
	sched_group_release(l->sched, g->name, &ignore);
	count_job(l, j, -1);
	g->placed = false;
	count_job(l, j, +1);
	l->freed = true;
	l->changed = true;
	int rc = store_placement_delete(l->db, j->id, g->name, err);
	if (!rc && why)
		rc = event(l, j, now, "Warning", "Preempted", why, err);
	return rc;
}

static int preempt(struct loop *l, struct job *j, int64_t now, struct gerr *err)
{
	/* victims are whole gangs; each is released once */
	for (size_t v = 0; v < l->res.nvictims; v++) {
		const char *gname = l->res.victims[v].group;
		struct job *vj = hmap_get(&l->by_group, gname);
		if (!vj || vj == j)
			continue;
		for (size_t g = 0; g < vj->ngrps; g++) {
			if (strcmp(vj->grps[g].name, gname) || !vj->grps[g].placed)
				continue;
			char why[512];
			snprintf(why, sizeof(why), "Preempted by %s (priority %d) in virtual cluster %s.",
			         j->key, j->priority, j->vc);
			int rc = unplace(l, vj, &vj->grps[g], now, why, err);
			if (rc)
				return rc;
			want(l, vj);
		}
	}
	return 0;
}

/* Try to place every unplaced gang of j. */
static int try_job(struct loop *l, struct job *j, int64_t now, struct gerr *err)
{
	for (size_t g = 0; g < j->ngrps; g++) {
		struct grp *gr = &j->grps[g];
		struct sched_request req;
		if (gr->placed)
			continue;
		request_of(j, gr, SCHED_PHASE_PREEMPT, &req);
		for (int attempt = 0; attempt < 2; attempt++) {
			struct gerr serr;
			if (sched_schedule(l->sched, &req, now, &l->res, &serr) != 0) {
				/* the job was valid when admitted; the cluster may have changed */
				char msg[GERR_MSG_MAX + 64];
				snprintf(msg, sizeof(msg), "The scheduler refused it: %s", serr.msg);
				return event(l, j, now, "Warning", "Unschedulable", msg, err);
			}
			if (l->res.decision == SCHED_BIND) {
				int rc = place(l, j, gr, &req, now, err);
				if (rc)
					return rc;
				break;
			}
			if (l->res.decision == SCHED_PREEMPT) {
				int rc = preempt(l, j, now, err);
				if (rc)
					return rc;
				continue;   /* the cells are free now: ask again */
			}
			if (gr->last_wait != l->res.wait) {
				gr->last_wait = l->res.wait;
				int rc = event(l, j, now, "Normal", "Waiting", l->res.reason ? l->res.reason : "waiting", err);
				if (rc)
					return rc;
			}
			break;
		}
	}
	return 0;
}

static int by_priority(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Try the jobs that may have become placeable: new ones, preempted ones, and,
 * when cells were freed, every job still waiting. Highest priority first,
 * then submission order. Only a release scans every job, so a burst of
 * submissions costs one scheduler call each however long the queue is.
 */
static int schedule_pass(struct loop *l, int64_t now, struct gerr *err)
{
	for (int round = 0; round < 4; round++) {
		if (l->freed) {
			l->freed = false;
			for (struct job *j = l->first; j; j = j->next)
				if (!job_placed(j))
					want(l, j);
		}
		if (!l->npending)
			break;
		/* this round's batch; preemption may queue victims for the next */
		struct job **batch = l->pending;
		size_t n = l->npending;
		l->pending = NULL;
		l->npending = l->pending_cap = 0;
		qsort(batch, n, sizeof(*batch), by_priority);
		for (size_t i = 0; i < n; i++)
			batch[i]->retry = false;
		int rc = 0;
		for (size_t i = 0; i < n && !rc; i++)
			rc = try_job(l, batch[i], now, err);
		free(batch);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- commands ------------------------------------------------------------------- */

static void do_submit(struct loop *l, struct cmd *c, int64_t now, struct gerr *err)
{
	const struct spec_job *s = c->spec;
	struct job *j;
	struct store_job row = { 0 };
	char debug_id[33], key[600];
	struct gerr e;

	snprintf(key, sizeof(key), "%s~%s", c->user, s->name);
	if (hmap_get(&l->by_key, key)) {
		char msg[700];
		snprintf(msg, sizeof(msg), "Job %s already exists.", key);
		answer_error(c, 409, "ConflictJobError", msg);
		return;
	}
	j = job_from_spec(l, s, c->user, 0, &e);
	if (!j) {
		answer_error(c, e.code == GERR_NOMEM ? 500 : 400, e.code == GERR_NOMEM ? "UnknownError" : "InvalidProtocolError",
		             e.msg);
		return;
	}
	/* admission: would the virtual cluster ever hold it? (nothing reserved) */
	for (size_t g = 0; g < j->ngrps; g++) {
		struct sched_request req;
		request_of(j, &j->grps[g], SCHED_PHASE_FILTER, &req);
		if (sched_schedule(l->sched, &req, now, &l->res, &e) != 0) {
			answer_error(c, 400, "InvalidProtocolError", e.msg);
			job_free(j);
			return;
		}
		if (l->res.decision == SCHED_WAIT && l->res.wait == SCHED_WAIT_NEVER_FITS) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "Job %s can never run in virtual cluster %s: %s", key, j->vc,
			         l->res.reason ? l->res.reason : sched_wait_meaning(l->res.wait));
			answer_error(c, 400, "InvalidProtocolError", msg);
			job_free(j);
			return;
		}
	}
	/* OpenPAI's debugId (and Framework name): md5 of user~job */
	unsigned char d[16];
	EVP_Digest(key, strlen(key), d, NULL, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++)
		snprintf(debug_id + 2 * i, 3, "%02x", d[i]);
	row.username = c->user;
	row.name = s->name;
	row.debug_id = debug_id;
	row.vc = j->vc;
	row.state = "WAITING";
	row.sub_state = "AttemptCreationPending";
	row.execution_type = "START";
	const struct spec_value *hc = spec_value_get(s->extras, "hivedScheduler");
	row.priority_class = spec_value_get(hc, "jobPriorityClass") ? s->priority_class : NULL;
	row.priority = s->priority;
	row.submission_ms = now;
	row.created_ms = now;
	row.total_gpu = s->total_gpu;
	row.total_tasks = s->total_tasks;
	row.total_roles = (int64_t)s->nroles;
	row.config = spec_job_masked_config((struct spec_job *)s);
	char *text = strndup(c->text, c->len);
	int rc = text ? store_job_insert(l->db, &row, text, err) : gerr_set(err, GERR_NOMEM, "out of memory");
	free(text);
	if (rc == GERR_CONFLICT) {
		/* the name was used before (names are never reused) */
		answer_error(c, 409, "ConflictJobError", err->msg);
		job_free(j);
		err->code = 0;
		return;
	}
	if (rc) {
		job_free(j);
		return;   /* the batch fails: err is set */
	}
	j->id = row.id;
	j->seq = ++l->seq;
	char msg[512];
	snprintf(msg, sizeof(msg), "Submitted by %s to virtual cluster %s: %zu task role%s, %lld task%s, %lld GPU%s.",
	         c->user, j->vc, s->nroles, s->nroles == 1 ? "" : "s", (long long)s->total_tasks,
	         s->total_tasks == 1 ? "" : "s", (long long)s->total_gpu, s->total_gpu == 1 ? "" : "s");
	if ((rc = event(l, j, now, "Normal", "Submitted", msg, err))) {
		job_free(j);
		return;
	}
	job_link(l, j);
	want(l, j);
	l->changed = true;
	snprintf(msg, sizeof(msg), "Update job %s for user %s successfully.", s->name, c->user);
	answer(c, 201, json_pack("{s:i, s:s}", "status", 201, "message", msg));
}

static void do_stop(struct loop *l, struct cmd *c, int64_t now, struct gerr *err)
{
	char key[600], msg[700];
	snprintf(key, sizeof(key), "%s~%s", c->user, c->name);
	struct job *j = hmap_get(&l->by_key, key);
	if (!j) {
		/* not active: already finished, or no such job (the caller checked it exists) */
		snprintf(msg, sizeof(msg), "Execute job %s successfully.", key);
		answer(c, 202, json_pack("{s:i, s:s}", "status", 202, "message", msg));
		return;
	}
	for (size_t g = 0; g < j->ngrps; g++)
		if (unplace(l, j, &j->grps[g], now, NULL, err))
			return;
	int code = -210;
	if (store_job_set_state(l->db, j->id, "STOPPED", "Completed", "STOP", 0, now, &code, err))
		return;
	snprintf(msg, sizeof(msg), "Stopped at the request of %s.", c->by);
	if (event(l, j, now, "Normal", "Stopped", msg, err))
		return;
	job_unlink(l, j);
	l->changed = true;
	snprintf(msg, sizeof(msg), "Execute job %s successfully.", key);
	answer(c, 202, json_pack("{s:i, s:s}", "status", 202, "message", msg));
}

/* ---- recovery -------------------------------------------------------------------- */

static void forget_all(struct loop *l)
{
	while (l->first) {
		struct job *j = l->first;
		for (size_t g = 0; g < j->ngrps; g++)
			if (j->grps[g].placed)
				sched_group_release(l->sched, j->grps[g].name, NULL);
		job_unlink(l, j);
	}
}

/* Rebuild the in-memory jobs and the scheduler's placements from the store:
 * at start (after a crash or not) and after a failed commit. */
static int recover(struct loop *l, struct gerr *err)
{
	struct arena a;
	struct store_job *rows;
	size_t n;
	int rc;
	arena_init(&a, 65536);
	forget_all(l);
	if ((rc = store_job_active(l->db, &a, &rows, &n, err)))
		goto out;
	struct spec_job *sj = spec_job_new();
	if (!sj) {
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *text;
		struct gerr e;
		struct spec_opts opts = { rows[i].username, NULL };
		struct job *j = NULL;
		if (store_job_spec(l->db, rows[i].id, &a, &text, &e) == 0 &&
		    spec_job_load(sj, text, strlen(text), &opts) == 0)
			j = job_from_spec(l, sj, rows[i].username, rows[i].id, &e);
		if (!j) {
			log_warn("recover: job %s~%s can no longer be scheduled: %s", rows[i].username, rows[i].name,
			         sj->ndiags ? sj->diags[0].msg : e.msg);
			continue;
		}
		j->seq = ++l->seq;
		job_link(l, j);
		struct store_placement *ps;
		size_t np;
		if (store_placement_list(l->db, j->id, &a, &ps, &np, &e) != 0)
			continue;
		for (size_t p = 0; p < np; p++)
			for (size_t g = 0; g < j->ngrps; g++) {
				if (strcmp(j->grps[g].name, ps[p].group))
					continue;
				struct sched_bind_info *b = bind_from_json(&a, ps[p].bind);
				struct sched_request req;
				request_of(j, &j->grps[g], SCHED_PHASE_PREEMPT, &req);
				if (!b || sched_group_commit(l->sched, &req, b, (const char *const *)j->grps[g].pods,
				                             ps[p].placed_ms, &e) != 0)
					log_warn("recover: the placement of %s is not valid any more (%s); it will be placed again",
					         j->grps[g].name, b ? e.msg : "unreadable");
				else
					j->grps[g].placed = true;
			}
		want(l, j);
	}
	spec_job_free(sj);
	l->changed = true;
	log_info("recover: %zu active job%s restored", n, n == 1 ? "" : "s");
out:
	arena_fini(&a);
	return rc;
}

/* ---- the cluster snapshot ------------------------------------------------------ */

static json_t *resources(int64_t leaves, const struct sched_sku *k)
{
	double gpu = k ? k->gpu * (double)leaves : 0, cpu = k ? k->cpu * (double)leaves : 0;
	double mem = k ? k->memory_mb * (double)leaves : 0;
	return json_pack("{s:f, s:f, s:f, s:f, s:f}", "cpu", cpu, "memory", mem, "gpu", gpu, "vCores", cpu,
	                 "GPUs", gpu);
}

/* The figures the API serves without asking the loop: rebuilt after every
 * iteration that changed something. */
static json_t *snapshot(struct loop *l)
{
	json_t *vcs = json_object(), *nodes = json_array(), *skus = json_object();
	int64_t total = sched_total_leaves(l->sched);
	for (size_t i = 0; i < sched_sku_count(l->sched); i++) {
		const struct sched_sku *k = sched_sku_get(l->sched, i);
		json_object_set_new(skus, k->name, json_pack("{s:f, s:f, s:f}", "cpu", k->cpu, "memory", k->memory_mb,
		                                             "gpu", k->gpu));
	}
	for (size_t i = 0; i < sched_vc_count(l->sched); i++) {
		struct sched_vc_info v;
		if (sched_vc_get(l->sched, i, NULL, &v))
			continue;
		const struct cluster_vc *cv = cluster_vc(l->cluster, v.name);
		const struct sched_sku *k = cv && cv->nskus ? sched_sku_find(l->sched, cv->skus[0]) : NULL;
		const struct vc_count *cnt = hmap_get(&l->vc_counts, v.name);
		int64_t waiting = cnt ? cnt->waiting : 0, placed = cnt ? cnt->placed : 0;
		double cap = total ? 100.0 * (double)v.quota_leaves / (double)total : 0;
		double used = total ? 100.0 * (double)(v.used_leaves + v.opportunistic_leaves) / (double)total : 0;
		json_t *skulist = json_array();
		for (size_t s = 0; cv && s < cv->nskus; s++)
			json_array_append_new(skulist, json_string(cv->skus[s]));
		json_object_set_new(vcs, v.name, json_pack(
			"{s:f, s:f, s:f, s:b, s:o, s:o, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			"capacity", cap, "usedCapacity", used, "maxCapacity", cap, "dedicated", 0,
			"resourcesUsed", resources(v.used_leaves + v.opportunistic_leaves, k),
			"resourcesGuaranteed", resources(v.quota_leaves, k), "resourcesTotal", resources(v.quota_leaves, k),
			"status", "running", "quotaLeafCells", (json_int_t)v.quota_leaves, "usedLeafCells",
			(json_int_t)v.used_leaves, "opportunisticLeafCells", (json_int_t)v.opportunistic_leaves,
			"doomedBadCells", (json_int_t)v.doomed_cells, "waitingJobs", (json_int_t)waiting, "placedJobs",
			(json_int_t)placed, "skuTypes", skulist));
	}
	for (size_t i = 0; i < sched_node_count(l->sched); i++) {
		struct sched_node_info n;
		if (sched_node_get(l->sched, i, NULL, &n))
			continue;
		const struct cluster_node *cn = NULL;
		for (size_t k = 0; k < l->cluster->nnodes && !cn; k++)
			if (!strcmp(l->cluster->nodes[k].name, n.name))
				cn = &l->cluster->nodes[k];
		json_array_append_new(nodes, json_pack("{s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:i}", "name", n.name,
		                                       "address", cn ? cn->address : "", "healthy", n.healthy,
		                                       "simulatedGpus", cn ? cn->simulated : 0, "leafCells", n.leaves,
		                                       "usedLeafCells", n.used, "opportunisticLeafCells", n.opportunistic,
		                                       "freeLeafCells", n.leaves - n.used - n.opportunistic));
	}
	return json_pack("{s:o, s:o, s:o, s:I, s:I}", "vcs", vcs, "nodes", nodes, "skus", skus, "totalLeafCells",
	                 (json_int_t)total, "usedLeafCells", (json_int_t)sched_used_leaves(l->sched));
}

/* ---- the thread ------------------------------------------------------------------ */

static void iterate(struct loop *l, struct cmd *batch)
{
	struct gerr err = { 0 };
	int64_t now = now_ms();
	int rc = store_tx_begin(l->db, &err);

	for (struct cmd *c = batch; c && !rc; c = c->next) {
		err.code = 0;
		if (c->type == CMD_SUBMIT)
			do_submit(l, c, now, &err);
		else
			do_stop(l, c, now, &err);
		rc = err.code;
	}
	if (!rc)
		rc = schedule_pass(l, now, &err);
	if (!rc)
		rc = store_tx_commit(l->db, &err);
	if (rc) {
		log_error("control loop: %s; nothing in this batch was acknowledged, reloading state", err.msg);
		store_tx_rollback(l->db);
		for (struct cmd *c = batch; c; c = c->next)
			answer_error(c, 500, "UnknownError", "The decision could not be stored; try again.");
		struct gerr rerr;
		if (recover(l, &rerr))
			log_error("control loop: reload failed: %s", rerr.msg);
	}
	while (batch) {
		struct cmd *next = batch->next;
		batch->done(batch->ctx, batch->status ? batch->status : 500, batch->body);
		free(batch);
		batch = next;
	}
	if (l->changed) {
		l->changed = false;
		server__publish(l->srv, snapshot(l));
	}
}

static void *run(void *arg)
{
	struct loop *l = arg;
	for (;;) {
		uint64_t v;
		struct cmd *batch;
		ssize_t rr = read(l->efd, &v, sizeof(v));
		(void)rr;
		pthread_mutex_lock(&l->lock);
		batch = l->head;
		l->head = l->tail = NULL;
		bool stop = l->stopping;
		pthread_mutex_unlock(&l->lock);
		if (batch || l->freed)
			iterate(l, batch);
		if (stop)
			break;
	}
	return NULL;
}

static int enqueue(struct loop *l, struct cmd *c)
{
	pthread_mutex_lock(&l->lock);
	if (l->stopping) {
		pthread_mutex_unlock(&l->lock);
		free(c);
		return GERR_IO;
	}
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	pthread_mutex_unlock(&l->lock);
	uint64_t one = 1;
	ssize_t w = write(l->efd, &one, sizeof(one));
	(void)w;
	return 0;
}

int loop_submit(struct loop *l, const struct spec_job *job, const char *user, const char *text, size_t len,
                server_done_fn done, void *ctx)
{
	struct cmd *c = calloc(1, sizeof(*c));
	if (!c)
		return GERR_NOMEM;
	*c = (struct cmd){ .type = CMD_SUBMIT, .spec = job, .user = user, .text = text, .len = len,
	                   .done = done, .ctx = ctx };
	return enqueue(l, c);
}

int loop_stop_job(struct loop *l, const char *user, const char *name, const char *by, server_done_fn done,
                  void *ctx)
{
	struct cmd *c = calloc(1, sizeof(*c));
	if (!c)
		return GERR_NOMEM;
	*c = (struct cmd){ .type = CMD_STOP, .user = user, .name = name, .by = by, .done = done, .ctx = ctx };
	return enqueue(l, c);
}

struct loop *loop_start(struct server *srv, struct store *st, struct sched *sched, const struct cluster *c,
                        struct gerr *err)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	l->srv = srv;
	l->store = st;
	l->sched = sched;
	l->cluster = c;
	l->efd = eventfd(0, EFD_CLOEXEC);
	hmap_init(&l->by_key);
	hmap_init(&l->by_group);
	hmap_init(&l->vc_counts);
	sched_result_init(&l->res);
	arena_init(&l->scratch, 65536);
	pthread_mutex_init(&l->lock, NULL);
	if (l->efd < 0) {
		gerr_set(err, GERR_IO, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (!(l->db = store_conn_get(st, err)))
		goto fail;
	if (recover(l, err))
		goto fail;
	struct gerr e;
	if (store_tx_begin(l->db, &e) == 0) {
		if (schedule_pass(l, now_ms(), &e) == 0)
			store_tx_commit(l->db, &e);
		else
			store_tx_rollback(l->db);
	}
	server__publish(srv, snapshot(l));
	l->changed = false;
	if (pthread_create(&l->thread, NULL, run, l) != 0) {
		gerr_set(err, GERR_IO, "cannot start the control loop thread");
		goto fail;
	}
	return l;
fail:
	if (l->db)
		store_conn_put(st, l->db);
	if (l->efd >= 0)
		close(l->efd);
	sched_result_fini(&l->res);
	arena_fini(&l->scratch);
	hmap_fini(&l->by_key);
	hmap_fini(&l->by_group);
	hmap_fini(&l->vc_counts);
	free(l);
	return NULL;
}

void loop_stop(struct loop *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_mutex_unlock(&l->lock);
	uint64_t one = 1;
	ssize_t w = write(l->efd, &one, sizeof(one));
	(void)w;
	pthread_join(l->thread, NULL);
	/* anything queued after the last iteration gets an answer too */
	for (struct cmd *c = l->head; c;) {
		struct cmd *next = c->next;
		c->done(c->ctx, 503, strdup("{\"code\":\"UnknownError\",\"message\":\"The server is stopping.\"}"));
		free(c);
		c = next;
	}
	while (l->first) {
		struct job *j = l->first;
		job_unlink(l, j);
	}
	store_conn_put(l->store, l->db);
	close(l->efd);
	sched_result_fini(&l->res);
	arena_fini(&l->scratch);
	hmap_fini(&l->by_key);
	hmap_fini(&l->by_group);
	for (size_t i = 0; i < l->vc_counts.cap; i++)
		if (l->vc_counts.slots[i].key) {
			struct vc_count *c = l->vc_counts.slots[i].val;
			free(c->name);
			free(c);
		}
	hmap_fini(&l->vc_counts);
	free(l->pending);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
