/* SPDX-License-Identifier: MIT */
/*
 * loop.c — the control loop: the one thread that changes cluster state.
 *
 * DESIGN
 * ------
 * HTTP workers queue commands (submit, stop), and the executor's watcher
 * queues what happens to task processes (started, exited); each wakes the
 * loop through an eventfd. Wakeups coalesce, so each iteration drains the
 * whole queue. An iteration is one store transaction:
 *
 *   1. apply every queued command and observation: ctl decides, run.c saves
 *      the decisions (rows and events);
 *   2. due timers (retry back-off);
 *   3. a scheduling pass over the gangs that can have changed (new ones, and
 *      every waiting gang when cells were freed): place, preempt, or record
 *      why the job waits;
 *   4. commit — one fsync for the whole batch (group commit);
 *   5. answer the commands; carry out the side effects decided (launch and
 *      kill task processes); republish the cluster snapshot.
 *
 * Nothing is answered or carried out before the commit: a 201 means the job
 * is on disk, and a task starts only once the decision to start it is
 * (DESIGN principle 3). If the commit fails, nothing is acknowledged (every
 * command gets a 500), no side effect runs, and the loop rebuilds its state
 * from the store, the same code that runs at start after a crash.
 *
 * Invariants:
 *   (1) a job is in `jobs` iff its row is WAITING, RUNNING or STOPPING;
 *   (2) a group holds cells in the scheduler iff its placement row exists;
 *   (3) only this thread touches the scheduler, ctl state and `jobs`.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "server/loop_internal.h"

extern char **environ;

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void answer_error(struct cmd *c, int status, const char *code, const char *msg)
{
	json_t *body = json_pack("{s:s, s:s}", "code", code, "message", msg);
	c->status = status;
	free(c->body);
	c->body = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(body);
}

/* ---- the cluster snapshot ------------------------------------------------------ */

/* OpenPAI's resource figures (cpu, memory, gpu) of a VC: each chain's leaf
 * cells at their own SKU, so a VC of V100 and K80 cells counts each right. */
struct res {
	double cpu, memory, gpu;
};

static void res_add(struct res *r, int64_t leaves, const struct sched_sku *k)
{
	if (!k)
		return;
	r->cpu += k->cpu * (double)leaves;
	r->memory += k->memory_mb * (double)leaves;
	r->gpu += k->gpu * (double)leaves;
}

static json_t *resources(const struct res *r)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f}", "cpu", r->cpu, "memory", r->memory, "gpu", r->gpu, "vCores",
	                 r->cpu, "GPUs", r->gpu);
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
	/* each VC's share per chain, priced at the chain's SKU (NULL: no figures) */
	size_t nchains = sched_chain_count(l->sched);
	struct sched_vc_chain_info *chains = calloc(nchains ? nchains : 1, sizeof(*chains));
	for (size_t i = 0; i < sched_vc_count(l->sched); i++) {
		struct sched_vc_info v;
		if (sched_vc_get(l->sched, i, NULL, &v))
			continue;
		const struct cluster_vc *cv = cluster_vc(l->cluster, v.name);
		struct res used_res = { 0 }, quota_res = { 0 };
		if (chains && sched_vc_chains_get(l->sched, i, chains) == 0)
			for (size_t c = 0; c < nchains; c++) {
				const struct sched_sku *k = sched_sku_find(l->sched, chains[c].leaf_type);
				res_add(&used_res, chains[c].used_leaves + chains[c].opportunistic_leaves, k);
				res_add(&quota_res, chains[c].quota_leaves, k);
			}
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
			"resourcesUsed", resources(&used_res), "resourcesGuaranteed", resources(&quota_res),
			"resourcesTotal", resources(&quota_res),
			"status", "running", "quotaLeafCells", (json_int_t)v.quota_leaves, "usedLeafCells",
			(json_int_t)v.used_leaves, "opportunisticLeafCells", (json_int_t)v.opportunistic_leaves,
			"doomedBadCells", (json_int_t)v.doomed_cells, "waitingJobs", (json_int_t)waiting, "placedJobs",
			(json_int_t)placed, "skuTypes", skulist));
	}
	free(chains);
	for (size_t i = 0; i < sched_node_count(l->sched); i++) {
		struct sched_node_info n;
		if (sched_node_get(l->sched, i, NULL, &n))
			continue;
		const struct cluster_node *cn = i < l->cluster->nnodes ? &l->cluster->nodes[i] : NULL;
		/* n.used counts every used leaf, opportunistic ones included */
		json_array_append_new(nodes, json_pack("{s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:i}", "name", n.name,
		                                       "address", cn ? cn->address : "", "healthy", n.healthy,
		                                       "simulatedGpus", cn ? cn->simulated : 0, "leafCells", n.leaves,
		                                       "usedLeafCells", n.used, "opportunisticLeafCells", n.opportunistic,
		                                       "freeLeafCells", n.leaves - n.used));
	}
	return json_pack("{s:o, s:o, s:o, s:I, s:I}", "vcs", vcs, "nodes", nodes, "skus", skus, "totalLeafCells",
	                 (json_int_t)total, "usedLeafCells", (json_int_t)sched_used_leaves(l->sched));
}

/* ---- the thread ------------------------------------------------------------------ */

static void iterate(struct loop *l, struct cmd *batch)
{
	struct gerr err = { 0 };
	int64_t now = now_ms();
	arena_reset(&l->scratch);
	int rc = store_tx_begin(l->db, &err);

	for (struct cmd *c = batch; c && !rc; c = c->next) {
		err.code = 0;
		switch (c->type) {
		case CMD_SUBMIT:
			rc = run_submit(l, c, now, &err);
			break;
		case CMD_STOP:
			rc = run_stop(l, c, now, &err);
			break;
		default:
			rc = run_observe(l, c, now, &err);
			break;
		}
	}
	if (!rc && l->ntimed)
		rc = run_timers(l, now, &err);
	if (!rc)
		rc = schedule_pass(l, now, &err);
	if (!rc)
		rc = store_tx_commit(l->db, &err);
	if (rc) {
		log_error("control loop: %s; nothing in this batch was acknowledged, reloading state", err.msg);
		store_tx_rollback(l->db);
		for (struct cmd *c = batch; c; c = c->next)
			if (c->done)
				answer_error(c, 500, "UnknownError", "The decision could not be stored; try again.");
		struct gerr rerr;
		l->nposts = 0;
		if (store_tx_begin(l->db, &rerr) || recover(l, &rerr) || schedule_pass(l, now, &rerr) ||
		    store_tx_commit(l->db, &rerr)) {
			store_tx_rollback(l->db);
			l->nposts = 0;
			log_error("control loop: reload failed: %s", rerr.msg);
		}
	}
	while (batch) {
		struct cmd *next = batch->next;
		if (batch->done)
			batch->done(batch->ctx, batch->status ? batch->status : 500, batch->body);
		else
			free(batch->body);
		free(batch);
		batch = next;
	}
	run_posts(l);
	for (struct job *j = l->first, *next; j; j = next) {
		next = j->next;
		if (j->done)
			job_unlink(l, j);
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
		struct cmd *batch;
		int timeout = -1;
		int64_t at = l->ntimed ? run_next_timer(l) : 0;
		if (at) {
			int64_t d = at - now_ms();
			timeout = d <= 0 ? 0 : d > 60000 ? 60000 : (int)d;
		}
		struct pollfd p = { .fd = l->efd, .events = POLLIN };
		int n = poll(&p, 1, timeout);
		if (n > 0) {
			uint64_t v;
			ssize_t rr = read(l->efd, &v, sizeof(v));
			(void)rr;
		}
		pthread_mutex_lock(&l->lock);
		batch = l->head;
		l->head = l->tail = NULL;
		bool stop = l->stopping;
		pthread_mutex_unlock(&l->lock);
		if (batch || l->freed || n == 0)
			iterate(l, batch);
		if (stop)
			break;
	}
	return NULL;
}

static int enqueue(struct loop *l, struct cmd *c)
{
	pthread_mutex_lock(&l->lock);
	if (l->stopping && c->done) {
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

void loop_post(struct loop *l, struct cmd *c)
{
	c->next = NULL;
	enqueue(l, c);
}

/* A command from an HTTP worker, answered through done(ctx, ...). */
static struct cmd *command(enum cmd_type type, const char *user, server_done_fn done, void *ctx)
{
	struct cmd *c = calloc(1, sizeof(*c));
	if (c) {
		c->type = type;
		c->user = user;
		c->done = done;
		c->ctx = ctx;
	}
	return c;
}

int loop_submit(struct loop *l, const struct spec_job *job, const char *user, const char *text, size_t len,
                server_done_fn done, void *ctx)
{
	struct cmd *c = command(CMD_SUBMIT, user, done, ctx);
	if (!c)
		return GERR_NOMEM;
	c->spec = job;
	c->text = text;
	c->len = len;
	return enqueue(l, c);
}

int loop_stop_job(struct loop *l, int64_t id, const char *user, const char *name, const char *by,
                  server_done_fn done, void *ctx)
{
	struct cmd *c = command(CMD_STOP, user, done, ctx);
	if (!c)
		return GERR_NOMEM;
	c->job_id = id;
	c->name = name;
	c->by = by;
	return enqueue(l, c);
}

/* ---- the executor's reports (its watcher thread) ----------------------------------- */

static void on_started(void *ctx, const char *uid, int pid, int64_t started_ms)
{
	struct cmd *c = calloc(1, sizeof(*c));
	if (!c)
		return;   /* the exit still comes, and the task counts as running then */
	c->type = CMD_STARTED;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->pid = pid;
	c->ms = started_ms;
	loop_post(ctx, c);
}

static void on_exited(void *ctx, const char *uid, const struct exec_exit *ex)
{
	struct cmd *c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("control loop: out of memory recording the exit of task %s", uid);
		return;
	}
	c->type = CMD_EXITED;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	c->exit = *ex;
	loop_post(ctx, c);
}

/* The host environment tasks start from (OpenPAI's come from the image). */
static const char *const *base_env(void)
{
	static const char *const keep[] = { "PATH=", "HOME=", "LANG=", "LC_ALL=", "LC_CTYPE=", "TZ=", "USER=",
	                                    "LOGNAME=", "SHELL=", "TMPDIR=", NULL };
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n++;
	const char **out = calloc(n + 2, sizeof(*out));
	if (!out)
		return NULL;
	size_t k = 0;
	bool path = false;
	for (char **e = environ; *e; e++)
		for (size_t i = 0; keep[i]; i++)
			if (!strncmp(*e, keep[i], strlen(keep[i]))) {
				out[k++] = *e;
				path |= i == 0;
			}
	if (!path)
		out[k++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	return out;
}

void loop_set_rest_uri(struct loop *l, const char *address)
{
	snprintf(l->rest_uri, sizeof(l->rest_uri), "http://%s", address);
}

struct loop *loop_start(struct server *srv, struct store *st, struct sched *sched, const struct cluster *c,
                        const struct server_config *cfg, struct gerr *err)
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
	l->data_dir = cfg->data_dir;
	l->grace_s = cfg->stop_grace_s;
	l->wait_refresh_ms = cfg->wait_refresh_ms;
	l->efd = eventfd(0, EFD_CLOEXEC);
	hmap_init(&l->by_key);
	memset(&l->by_id, 0, sizeof(l->by_id));
	hmap_init(&l->by_uid);
	hmap_init(&l->vc_counts);
	hmap_init(&l->strings);
	sched_result_init(&l->res);
	ctl_actions_init(&l->acts);
	arena_init(&l->scratch, 65536);
	pthread_mutex_init(&l->lock, NULL);
	l->base_env = base_env();
	l->ports = rt_ports_new(cfg->port_start, cfg->port_end);
	l->port_start = cfg->port_start;
	l->port_end = cfg->port_end;
	l->classifier = rt_classifier_new();
	if (l->efd < 0) {
		gerr_set(err, GERR_IO, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (!l->base_env || !l->ports || !l->classifier) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		goto fail;
	}
	char self[4096];
	ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sn <= 0) {
		gerr_set(err, GERR_IO, "cannot find the gantry binary (/proc/self/exe): %s", strerror(errno));
		goto fail;
	}
	self[sn] = '\0';
	struct exec_callbacks cb = { on_started, on_exited, l };
	if (!(l->exec = exec_new(self, &cb, err)))
		goto fail;
	if (!(l->db = store_conn_get(st, err)))
		goto fail;
	if (store_tx_begin(l->db, err))
		goto fail;
	if (recover(l, err) || schedule_pass(l, now_ms(), err) || store_tx_commit(l->db, err)) {
		store_tx_rollback(l->db);
		goto fail;
	}
	run_posts(l);
	server__publish(srv, snapshot(l));
	l->changed = false;
	if (pthread_create(&l->thread, NULL, run, l) != 0) {
		gerr_set(err, GERR_IO, "cannot start the control loop thread");
		goto fail;
	}
	return l;
fail:
	while (l->first)
		job_unlink(l, l->first);
	exec_free(l->exec);
	if (l->db)
		store_conn_put(st, l->db);
	if (l->efd >= 0)
		close(l->efd);
	sched_result_fini(&l->res);
	ctl_actions_fini(&l->acts);
	arena_fini(&l->scratch);
	hmap_fini(&l->by_key);
	idmap_fini(&l->by_id);
	hmap_fini(&l->by_uid);
	hmap_fini(&l->vc_counts);
	strings_fini(&l->strings);
	rt_ports_free(l->ports);
	rt_classifier_free(l->classifier);
	free((void *)l->base_env);
	free(l->posts);
	free(l);
	return NULL;
}

const struct exec_caps *loop_exec_caps(struct loop *l)
{
	return l ? exec_get_caps(l->exec) : NULL;
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
	/* the watcher stops first: no report arrives after this; tasks keep running */
	exec_free(l->exec);
	for (struct cmd *c = l->head; c;) {
		struct cmd *next = c->next;
		if (c->done)
			c->done(c->ctx, 503, strdup("{\"code\":\"UnknownError\",\"message\":\"The server is stopping.\"}"));
		free(c);
		c = next;
	}
	while (l->first)
		job_unlink(l, l->first);
	store_conn_put(l->store, l->db);
	close(l->efd);
	sched_result_fini(&l->res);
	ctl_actions_fini(&l->acts);
	arena_fini(&l->scratch);
	hmap_fini(&l->by_key);
	idmap_fini(&l->by_id);
	hmap_fini(&l->by_uid);
	for (size_t i = 0; i < l->vc_counts.cap; i++)
		if (l->vc_counts.slots[i].key) {
			struct vc_count *c = l->vc_counts.slots[i].val;
			free(c->name);
			free(c);
		}
	hmap_fini(&l->vc_counts);
	strings_fini(&l->strings);
	rt_ports_free(l->ports);
	rt_classifier_free(l->classifier);
	free((void *)l->base_env);
	free(l->pending);
	free(l->posts);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
