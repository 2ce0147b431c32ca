/* SPDX-License-Identifier: MIT */
/*
 * server.c — start, run and stop `gantry server`.
 *
 * Start: store → bootstrap → cluster + scheduler → control loop (recovers
 * active jobs and their placements) → HTTP. Stop (SIGTERM/SIGINT): HTTP stops
 * accepting and lets in-flight requests finish → the loop answers what is
 * queued and exits → the store closes cleanly (WAL checkpointed by SQLite).
 *
 * Signals are blocked in every thread and taken synchronously by the main
 * thread with sigwait(), so no handler runs in a library's critical section.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "auth/auth.h"
#include "base/log.h"
#include "exec/exec.h"
#include "server/internal.h"

extern const char gantry_version[];
extern const char gantry_commit[];

struct server {
	const struct server_config *cfg;
	struct store *store;
	struct cluster cluster;
	struct sched *sched;
	struct loop *loop;
	struct api *api;
	pthread_mutex_t snap_lock;
	json_t *snapshot;
	json_t *info;                 /* fixed at start */
};

void server__publish(struct server *s, json_t *snapshot)
{
	if (!snapshot)
		return;
	pthread_mutex_lock(&s->snap_lock);
	json_t *old = s->snapshot;
	s->snapshot = snapshot;
	pthread_mutex_unlock(&s->snap_lock);
	json_decref(old);
}

json_t *server_snapshot(struct server *s)
{
	pthread_mutex_lock(&s->snap_lock);
	json_t *snap = json_incref(s->snapshot);
	pthread_mutex_unlock(&s->snap_lock);
	return snap ? snap : json_pack("{s:{}, s:[], s:{}}", "vcs", "nodes", "skus");
}

json_t *server_info_json(struct server *s)
{
	return json_incref(s->info);
}

const struct spec_cluster *server_spec_cluster(struct server *s)
{
	return &s->cluster.spec;
}

bool server_vc_exists(struct server *s, const char *vc)
{
	return cluster_vc(&s->cluster, vc) != NULL;
}

const char *server_data_dir(struct server *s)
{
	return s->cfg->data_dir;
}

int server_submit(struct server *s, const struct spec_job *job, const char *user, const char *text,
                  size_t len, server_done_fn done, void *ctx)
{
	return loop_submit(s->loop, job, user, text, len, done, ctx);
}

int server_stop(struct server *s, int64_t id, const char *user, const char *name, const char *by,
                server_done_fn done, void *ctx)
{
	return loop_stop_job(s->loop, id, user, name, by, done, ctx);
}

static json_t *make_info(const struct server *s)
{
	const struct host_info *h = &s->cluster.host;
	json_t *gpus = json_array();
	for (int i = 0; i < h->ngpus; i++)
		json_array_append_new(gpus, json_pack("{s:i, s:s, s:s, s:I}", "index", h->gpus[i].index, "name",
		                                      h->gpus[i].name, "uuid", h->gpus[i].uuid, "memoryBytes",
		                                      (json_int_t)h->gpus[i].memory_bytes));
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:i, s:I, s:o, s:s}, s:{s:b, s:s}}",
	                 "version", gantry_version, "commit", gantry_commit, "cluster",
	                 s->cluster.embedded ? "embedded (this machine)" : s->cfg->config_file,
	                 "host", "hostname", h->hostname, "cpus", h->cpus, "memoryMB", (json_int_t)h->memory_mb,
	                 "gpus", gpus, "nvml", h->nvml,
	                 "capabilities", "executor", 0, "note", "starting");
}

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	return pthread_sigmask(SIG_BLOCK, set, NULL);
}

/*
 * One server per data directory: two would drive the same jobs and launch
 * their tasks twice. DIR/server.lock is flock'ed for the server's life (the
 * kernel drops it when the process dies, kill -9 included) and holds its
 * pid, for the message. Close-on-exec: the zygote and the shims, which
 * outlive the server, must not keep it.
 */
static int lock_data_dir(const char *dir, struct gerr *err)
{
	char path[PATH_MAX], pid[32] = "";
	snprintf(path, sizeof(path), "%s/server.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return gerr_set(err, GERR_IO, "cannot open %s: %s", path, strerror(errno)), -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return gerr_set(err, GERR_CONFLICT, "data directory %s is in use by another gantry server%s%s%s", dir,
			                pid[0] ? " (pid " : "", pid, pid[0] ? ")" : ""), -1;
		return gerr_set(err, GERR_IO, "cannot lock %s: %s", path, strerror(e)), -1;
	}
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
		log_warn("cannot write the pid into %s: %s", path, strerror(errno));
	return fd;
}

int server_run(const struct server_config *cfg)
{
	struct server s;
	struct server_config abs_cfg;
	struct gerr err = { 0 };
	sigset_t set;
	char *data_dir = NULL;
	int sig, rc = 1, lock_fd = -1;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	pthread_mutex_init(&s.snap_lock, NULL);
	log_set_quiet(false);
	block_signals(&set);
	if (auth_init(&err))
		goto fail;
	log_info("gantry %s (commit %s) starting; data directory %s", gantry_version, gantry_commit, cfg->data_dir);
	if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
		gerr_set(&err, GERR_IO, "cannot create %s: %s", cfg->data_dir, strerror(errno));
		goto fail;
	}
	/* Absolute from here on: shims and the zygote run from "/", and the
	 * tasks from their own working directories, so a relative data
	 * directory (make run's ./var) would name another place for them. */
	if (!(data_dir = realpath(cfg->data_dir, NULL))) {
		gerr_set(&err, GERR_IO, "cannot resolve %s: %s", cfg->data_dir, strerror(errno));
		goto fail;
	}
	abs_cfg = *cfg;
	abs_cfg.data_dir = data_dir;
	s.cfg = cfg = &abs_cfg;
	if ((lock_fd = lock_data_dir(data_dir, &err)) < 0)
		goto fail;
	if (!(s.store = store_open(cfg->data_dir, &err)))
		goto fail;
	if (cluster_load(&s.cluster, &s.sched, cfg->config_file, &err))
		goto fail;
	const struct host_info *h = &s.cluster.host;
	log_info("host %s: %d CPUs, %lld MB memory; GPUs: %s", h->hostname, h->cpus, (long long)h->memory_mb,
	         h->nvml);
	log_info("cluster: %s; %zu node%s, %lld leaf cells, %zu virtual cluster%s",
	         s.cluster.embedded ? "embedded default (this machine)" : cfg->config_file, s.cluster.nnodes,
	         s.cluster.nnodes == 1 ? "" : "s", (long long)sched_total_leaves(s.sched), s.cluster.nvcs,
	         s.cluster.nvcs == 1 ? "" : "s");
	for (size_t i = 0; i < s.cluster.nnodes; i++)
		if (s.cluster.nodes[i].simulated)
			log_warn("node %s: its GPUs are declared in the config, not detected (simulated)",
			         s.cluster.nodes[i].name);
	if (bootstrap(s.store, &s.cluster, cfg->data_dir, &err))
		goto fail;
	s.info = make_info(&s);
	if (!(s.loop = loop_start(&s, s.store, s.sched, &s.cluster, cfg, &err)))
		goto fail;
	{
		const struct exec_caps *caps = loop_exec_caps(s.loop);
		log_info("executor: local (gantry shim per task); %s", caps->detail);
		json_t *cap = json_object_get(s.info, "capabilities");
		json_object_set_new(cap, "executor", json_string("local"));
		json_object_set_new(cap, "cgroup", json_string(caps->cgroup));
		json_object_set_new(cap, "memoryLimit", json_boolean(caps->memory_limit));
		json_object_set_new(cap, "cpuLimit", json_boolean(caps->cpu_limit));
		json_object_set_new(cap, "killTree", json_boolean(caps->kill_tree));
		json_object_set_new(cap, "bubblewrap", json_boolean(caps->bwrap));
		json_object_set_new(cap, "containerEngine",
		                    caps->container_engine ? json_string(caps->container_engine) : json_null());
		json_object_del(cap, "note");
	}
	struct api_config ac = { .listen = cfg->listen, .store = s.store, .server = &s, .quiet = cfg->quiet,
	                         .web_dir = cfg->web_dir };
	if (!(s.api = api_start(&ac, &err)))
		goto fail;
	log_info("listening on http://%s (API under /api/v2 and /rest-server/api/v2)", api_address(s.api));
	loop_set_rest_uri(s.loop, api_address(s.api));
	{
		/* tools and tests find the bound address here (useful with port 0) */
		char path[4096];
		snprintf(path, sizeof(path), "%s/listen", cfg->data_dir);
		FILE *f = fopen(path, "w");
		if (f) {
			fprintf(f, "%s\n", api_address(s.api));
			fclose(f);
		}
	}
	sigwait(&set, &sig);
	log_info("%s received: stopping (in-flight requests finish first)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
	goto stop;
fail:
	log_error("cannot start: %s", err.msg);
stop:
	api_stop(s.api, 10000);
	loop_stop(s.loop);
	cluster_fini(&s.cluster);
	sched_free(s.sched);
	store_close(s.store);
	json_decref(s.snapshot);
	json_decref(s.info);
	pthread_mutex_destroy(&s.snap_lock);
	if (!rc)
		log_info("stopped cleanly");
	if (lock_fd >= 0)
		close(lock_fd);
	free(data_dir);
	return rc;
}
