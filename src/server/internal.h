/* SPDX-License-Identifier: MIT */
/* server/internal.h — what the server's files share. */
#ifndef GANTRY_SERVER_INTERNAL_H
#define GANTRY_SERVER_INTERNAL_H

#include <pthread.h>

#include "sched/sched.h"
#include "server/host.h"
#include "server/server.h"
#include "spec/spec.h"
#include "store/store.h"

/* The cluster as configured: fixed for the life of the process. */
struct cluster {
	char *config_text;            /* the HiveD config the scheduler was built from */
	bool embedded;                /* built from this machine, no --config */
	struct host_info host;
	/* immutable figures for validation on any thread */
	struct spec_sku *skus;
	size_t nskus;
	struct cluster_vc {
		char *name;
		const char **skus;        /* SKU names its cells use */
		size_t nskus;
		int64_t quota;            /* guaranteed leaf cells */
	} *vcs;
	size_t nvcs;
	struct spec_cluster spec;     /* points at the above */
	/* the scheduler's nodes, in its order (node i is sched_node_get's i):
	 * address, and whether their GPUs are real */
	struct cluster_node {
		char *name;
		char *address;
		bool simulated;           /* GPUs declared in config, not present */
	} *nodes;
	size_t nnodes;
};

/* Build the cluster and its scheduler from cfg->config_file or this host. */
int cluster_load(struct cluster *c, struct sched **sched, const char *config_file, struct gerr *err);
void cluster_fini(struct cluster *c);
const struct cluster_vc *cluster_vc(const struct cluster *c, const char *name);

/* bootstrap.c: admin user, admin and default groups, a group per VC. */
int bootstrap(struct store *st, const struct cluster *c, const char *data_dir, struct gerr *err);

/* loop.c */
struct loop;
struct exec_caps;
struct loop *loop_start(struct server *srv, struct store *st, struct sched *sched,
                        const struct cluster *c, const struct server_config *cfg, struct gerr *err);
/* Where tasks reach the API (REST_SERVER_URI), once it listens. */
void loop_set_rest_uri(struct loop *l, const char *address);
const struct exec_caps *loop_exec_caps(struct loop *l);
void loop_stop(struct loop *l);
int loop_submit(struct loop *l, const struct spec_job *job, const char *user, const char *text,
                size_t len, server_done_fn done, void *ctx);
int loop_stop_job(struct loop *l, int64_t id, const char *user, const char *name, const char *by,
                  server_done_fn done, void *ctx);

/* server.c: the loop publishes snapshots here (takes the reference) */
void server__publish(struct server *s, json_t *snapshot);

#endif
