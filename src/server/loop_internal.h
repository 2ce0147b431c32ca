/* SPDX-License-Identifier: MIT */
/*
 * loop_internal.h — what the control loop's files share.
 *
 *   loop.c      the thread: command queue, iterations, timers, snapshot
 *   jobs.c      jobs in memory: their gangs, tasks, counts
 *   place.c     the scheduling pass: place, preempt, explain waiting
 *   run.c       the lifecycle: ctl's decisions saved and carried out
 *   launch.c    a task's environment, script and launch through exec
 *   recover.c   rebuilding everything from the store (start, failed commit)
 *   status.c    ctl state ⇄ the JSON the store keeps
 */
#ifndef GANTRY_SERVER_LOOP_INTERNAL_H
#define GANTRY_SERVER_LOOP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/hmap.h"
#include "ctl/ctl.h"
#include "exec/exec.h"
#include "runtime/runtime.h"
#include "server/internal.h"

/* A gang: the whole job, or one task. Its HiveD name ("user~job/default"
 * or "user~job/role-index") and its pods' names ("role-index") are made
 * when needed (grp_name, pod_name), so a waiting job stays small. */
struct grp {
	struct sched_member *members; /* merged by size, in first-appearance order */
	uint32_t *pod_task;           /* pod i (request order) → task position */
	uint32_t nmembers;
	uint32_t npods;
	uint32_t live;                /* placed pods not yet released */
	int32_t last_wait;            /* SCHED_WAIT_* last reported, -1 none */
	uint32_t wait_hash;           /* ... and a hash of its text */
	int64_t wait_at;              /* ... and when */
	bool placed;                  /* holds cells: its placement row exists */
	bool wanted;                  /* waiting for cells */
};

/* The executor's view of a task's current attempt. */
struct rtask {
	char uid[40];                 /* the task attempt's instance uid, "" before placement */
	const char *node, *ip;        /* run arena */
	int32_t *gpus;
	size_t ngpus;
	struct rt_port_list *ports;
	size_t nports;
	int pid;
	int64_t placed_ms;
};

/* What a job needs once placed (allocated then, freed when it is done). */
struct jrun {
	struct spec_job *spec;        /* its file, parsed again */
	struct arena run;             /* node names, GPUs, ports of the current attempt */
	char debug_id[33];            /* md5 of user~name: OpenPAI's framework name */
	bool host_note;               /* the "runs on the host" event was written */
};

struct job {
	int64_t id;
	const char *user, *vc;        /* interned (struct loop's strings) */
	char *key;                    /* user~name */
	const char *name;             /* within key */
	int priority;
	char *leaf_type, *pinned;     /* NULL: any / none */
	bool lazy;
	bool gang;
	struct grp *grps;             /* one (gang), or one per task in task order */
	size_t ngrps;
	struct ctl_job ctl;
	struct rtask *rt;             /* ctl.ntasks, malloc'd at first placement */
	struct jrun *x;               /* likewise */
	int64_t wake_at;              /* a ctl timer is due then, 0 none */
	bool retry;                   /* try to place in this iteration */
	bool done;                    /* Completed: unlink after this iteration */
	bool kill_now;                /* its kills skip the grace period (cells already given up) */
	struct job *prev, *next;      /* all jobs, submission order */
	/* the fixed parts (names, gangs, roles, tasks) follow in the same block */
};

enum cmd_type { CMD_SUBMIT, CMD_STOP, CMD_STARTED, CMD_EXITED, CMD_LAUNCHED, CMD_KILLED };

struct cmd {
	enum cmd_type type;
	const struct spec_job *spec;  /* submit */
	const char *user, *text;
	size_t len;
	const char *name, *by;        /* stop */
	server_done_fn done;          /* NULL for internal commands */
	void *ctx;
	int status;                   /* the answer, sent after commit */
	char *body;
	/* internal: task observations */
	char uid[40];
	int64_t job_id;
	uint32_t task;
	int64_t attempt;
	bool ok;
	int pid;
	int64_t ms;
	struct exec_exit exit;
	char why[256];
	struct cmd *next;
};

/* Job by store id: open addressing, linear probing, tombstones. */
struct idmap {
	struct idmap_slot { int64_t id; struct job *job; } *slots;   /* id 0 empty, -1 deleted */
	size_t cap, used;
};

struct vc_count {
	char *name;
	int64_t waiting, placed;      /* jobs with an unplaced gang / all placed */
};

/* A side effect to carry out after the commit. */
struct post {
	enum { POST_LAUNCH, POST_KILL } type;
	int64_t job_id;
	uint32_t task;
	int64_t attempt;
	char uid[40];
	int grace_s;
};

struct loop {
	struct server *srv;
	struct store *store;
	struct store_conn *db;
	struct sched *sched;
	const struct cluster *cluster;
	struct exec *exec;
	const char *data_dir;
	char rest_uri[128];
	pthread_t thread;
	int efd;
	pthread_mutex_t lock;
	struct cmd *head, *tail;
	bool stopping;
	/* loop thread only */
	struct job *first, *last;
	struct hmap by_key;           /* user~name → job, for jobs with run state (placed once) */
	struct idmap by_id;           /* store id → job */
	struct hmap by_uid;           /* task attempt uid → job */
	struct rt_ports *ports;
	int port_start, port_end;     /* its range, [start, end) */
	struct rt_classifier *classifier;   /* the exit-code patterns, compiled once */
	size_t ntimed;                /* jobs with wake_at set */
	bool freed;                   /* cells were freed: retry waiting jobs */
	bool changed;                 /* republish the snapshot */
	struct job **pending;         /* jobs to try in this iteration (j->retry set) */
	size_t npending, pending_cap;
	struct post *posts;           /* after the commit */
	size_t nposts, posts_cap;
	struct hmap vc_counts;        /* VC name → struct vc_count */
	struct hmap strings;          /* user and VC names, interned: never freed before the loop */
	struct sched_result res;
	struct ctl_actions acts;
	struct arena scratch;         /* reset every iteration */
	int grace_s;                  /* SIGTERM → SIGKILL on stop */
	int64_t wait_refresh_ms;      /* a Waiting event's figures, refreshed at most this often */
	const char *const *base_env;  /* the host environment tasks start from */
};

/* The gang task t belongs to. */
static inline struct grp *grp_of(struct job *j, uint32_t t)
{
	return j->gang ? &j->grps[0] : &j->grps[t];
}

/* jobs.c */
struct job *job_from_spec(struct loop *l, const struct spec_job *s, const char *user, int64_t id,
                          struct gerr *err);
void job_free(struct job *j);
void job_link(struct loop *l, struct job *j);
void job_unlink(struct loop *l, struct job *j);
bool job_placed(const struct job *j);
void count_job(struct loop *l, const struct job *j, int delta);
void want(struct loop *l, struct job *j);
/* The request for gang g; names live in l->scratch until the next iteration. */
void request_of(struct loop *l, const struct job *j, const struct grp *g, enum sched_phase phase,
                struct sched_request *req);
const char *grp_name(struct loop *l, const struct job *j, const struct grp *g);
const char *pod_name(struct loop *l, const struct job *j, uint32_t task);
struct job *job_by_id(struct loop *l, int64_t id);
/* The job a HiveD group name ("user~name/...") belongs to. */
struct job *job_by_group(struct loop *l, const char *group);
void job_debug_id(const char *key, char out[33]);
void idmap_fini(struct idmap *m);
/* One copy of s for the loop's life (user and VC names are few); NULL when out of memory. */
const char *intern(struct loop *l, const char *s);
void strings_fini(struct hmap *h);
int event(struct loop *l, const struct job *j, int64_t now, const char *type, const char *reason,
          const char *msg, struct gerr *err);

/* place.c */
int schedule_pass(struct loop *l, int64_t now, struct gerr *err);
/* Give back a placed pod's cells (the gang's last pod frees them) or stop
 * waiting for cells. */
int release_task(struct loop *l, struct job *j, uint32_t task, int64_t now, struct gerr *err);

/* run.c */
/* Apply l->acts (ctl's decisions for j), then save j. */
int run_apply(struct loop *l, struct job *j, int64_t now, struct gerr *err);
int run_submit(struct loop *l, struct cmd *c, int64_t now, struct gerr *err);
int run_stop(struct loop *l, struct cmd *c, int64_t now, struct gerr *err);
int run_observe(struct loop *l, struct cmd *c, int64_t now, struct gerr *err);
int run_timers(struct loop *l, int64_t now, struct gerr *err);
int64_t run_next_timer(struct loop *l);
/* After the commit: launches and kills. */
void run_posts(struct loop *l);
void post_add(struct loop *l, int type, const struct job *j, uint32_t task, int64_t attempt);
/* Queue an internal command (from any thread). */
void loop_post(struct loop *l, struct cmd *c);
int save_job(struct loop *l, struct job *j, struct gerr *err);

/* launch.c */
/* Parse the job's file (first placement) and make room for its tasks' run state. */
int ensure_run_state(struct loop *l, struct job *j, struct gerr *err);
/* Load the file of a job the server admitted once: with the cluster's
 * checks, else without them (the cluster file changed since). 0, or the
 * spec's error; refused (may be NULL) gets why the cluster refuses it now,
 * or "". */
int load_admitted(struct loop *l, struct spec_job *s, const char *text, const char *user, char *refused,
                  size_t len);
int launch_task(struct loop *l, struct job *j, uint32_t task, char *why, size_t whylen);
/* The node's address tasks see (127.0.0.1 for simulated nodes). */
const char *node_ip(const struct loop *l, const char *node);

/* status.c */
char *status_job_json(const struct job *j);
char *status_task_json(const struct job *j, uint32_t task);
/* Restore j->ctl (and j->rt) from the store's JSON; -1 when unreadable. */
int status_job_load(struct job *j, const char *json);
int status_task_load(struct job *j, uint32_t task, const char *json);

/* recover.c */
int recover(struct loop *l, struct gerr *err);

#endif
