/* SPDX-License-Identifier: MIT */
/*
 * exec/local internals — the seam between the local executor's files:
 *
 *     cgroup.c   where task cgroups go (detection), and a task's cgroups:
 *                create with limits, join, signal, empty, OOM count, remove
 *     caps.c     exec_caps_detect: cgroups, bubblewrap, container engines
 *     util.c     files (atomic writes), /proc, clocks
 *     logs.c     the task's log files, rotated by size
 *     shim.c     `gantry shim`: the supervisor of one task attempt
 *     zygote.c   `gantry shim --zygote`: keeps a warmed spare shim, no exec
 *     exec.c     exec_new/free/launch/kill
 *     watch.c    the watcher thread (epoll over pidfds and started sockets)
 *     adopt.c    exec_adopt, and the clean-up of a lost shim
 *
 * Nothing here is seen outside src/exec/local/.
 */
#ifndef GANTRY_EXEC_LOCAL_INTERNAL_H
#define GANTRY_EXEC_LOCAL_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/gerr.h"
#include "base/hmap.h"
#include "exec/exec.h"

#define EXEC_PATH_MAX 512

/* ---- cgroups (cgroup.c) ---------------------------------------------------- */

/* Where task cgroups go: detected once by the server (exec_new, doctor). */
struct cg_layout {
	int mem_v, cpu_v;                  /* 0 none, 1 or 2: the hierarchy enforcing the limit */
	char mem_root[EXEC_PATH_MAX];      /* "<own memory cgroup>/gantry", or "" */
	char cpu_root[EXEC_PATH_MAX];
	char tree_root[EXEC_PATH_MAX];     /* the cgroup that tracks the whole tree, or "" */
	bool tree_kill;                    /* tree_root has cgroup.kill (v2) */
	bool memsw;                        /* v1 memory.memsw.* exists: swap is limited too */
	bool hybrid;                       /* v1 controllers with a controller-less v2 tree */
	char why[256];                     /* what is missing and why, for caps.detail */
};

/* One task's cgroup directories ("" when not used); mem and cpu only when
 * the task has that limit. On cgroup v2 they may all be the same dir. */
struct cg_task {
	int mem_v, cpu_v;
	char mem[EXEC_PATH_MAX];
	char cpu[EXEC_PATH_MAX];
	char tree[EXEC_PATH_MAX];
};

/* Detect the layout and make its roots (<own cgroup>/gantry). Never fails. */
void exec__cg_detect(struct cg_layout *lay);
/* caps from a detected layout, plus bubblewrap and container engines (caps.c). */
void exec__caps_from(struct exec_caps *caps, const struct cg_layout *lay);
/* The task's dirs under lay for uid (odd characters become '_'). */
void exec__cg_task_paths(const struct cg_layout *lay, const char *uid, bool mem, bool cpu,
                         struct cg_task *t);
json_t *exec__cg_task_to_json(const struct cg_task *t);
void exec__cg_task_from_json(json_t *j, struct cg_task *t);   /* missing fields become "" */
bool exec__cg_task_any(const struct cg_task *t);
/* mkdir the task's cgroups and write the limits (memory_mb 0 / cpu 0 = none). */
int exec__cg_task_create(const struct cg_task *t, int64_t memory_mb, double cpu, struct gerr *err);
/* The distinct "<dir>/cgroup.procs" paths a new task process writes "0" into
 * (precomputed: the writer is a vfork child). Returns how many (0..3). */
int exec__cg_procs_paths(const struct cg_task *t, char paths[3][EXEC_PATH_MAX]);
/* Send sig to every process in the task's cgroups (SIGKILL: cgroup.kill
 * where there is one). Returns how many processes were found. */
int exec__cg_signal(const struct cg_task *t, int sig);
bool exec__cg_is_empty(const struct cg_task *t);
/* SIGKILL until empty or timeout_ms; true when empty. */
bool exec__cg_kill_wait(const struct cg_task *t, int timeout_ms);
/* How many processes the memory limit killed; -1 when unknown. */
int64_t exec__cg_oom_kills(const struct cg_task *t);
/* rmdir the task's cgroups (retrying briefly while they drain); 0 or GERR_IO. */
int exec__cg_task_remove(const struct cg_task *t, struct gerr *err);

/* ---- files, /proc, clocks (util.c) ------------------------------------------ */

int64_t exec__now_ms(void);                       /* wall clock */
int64_t exec__mono_ms(void);                      /* monotonic */
/* Write dir/name through dir/.name.tmp and rename; with sync, fsync the file
 * and the directory (exit.json), so the record survives a power cut. */
int exec__write_atomic(const char *dir, const char *name, const char *data, size_t n, bool sync,
                       struct gerr *err);
/* Read a whole file (at most max bytes); returned owned (free()); NULL with
 * errno set (ENOENT when missing). */
char *exec__read_file(const char *path, size_t max, size_t *len);
/* Parse dir/name as JSON; NULL when missing or unreadable (errno ENOENT when missing). */
json_t *exec__read_json(const char *dir, const char *name);
/* /proc/<pid>/stat: start time (clock ticks since boot), parent, group; -1 when gone. */
int64_t exec__proc_start_time(pid_t pid);
int exec__proc_stat(pid_t pid, pid_t *ppid, pid_t *pgid, int64_t *start);
/* Signal every descendant of this process, found by scanning /proc (the
 * shim is a child subreaper, so the task's orphans are its descendants).
 * Returns how many, or a negative GERR_*. */
int exec__signal_descendants(int sig, struct gerr *err);
/* posix_spawn path with fds[i] as its fd i (-1: /dev/null, -2: ours), no
 * other fd, "/" as its cwd, default signal dispositions and *mask blocked;
 * in a new session when new_session. */
int exec__spawn(const char *path, char *const argv[], const int fds[3], bool new_session, const sigset_t *mask,
                pid_t *pid, struct gerr *err);
/* mkdir -p path (mode 0755 for new dirs). */
int exec__mkdir_p(const char *path, struct gerr *err);
/* exit.json <-> struct exec_exit */
json_t *exec__exit_to_json(const struct exec_exit *ex);
void exec__exit_from_json(json_t *j, struct exec_exit *ex);
bool exec__exists(const char *dir, const char *name);

/* ---- the task's log files (logs.c) ------------------------------------------- */

struct exec_logf {                     /* one of user.pai.stdout, .stderr, .all */
	int fd;                            /* -1 when closed */
	int64_t size;
	char path[EXEC_PATH_MAX];
};

int exec__logf_open(struct exec_logf *lf, const char *dir, const char *name, struct gerr *err);
/* Append, rotating to "<path>.1" whenever the file reaches max bytes, so no
 * file ever exceeds max. GERR_IO (message) when a write or rotation fails. */
int exec__logf_write(struct exec_logf *lf, int64_t max, const char *p, size_t n, struct gerr *err);
void exec__logf_close(struct exec_logf *lf);

/* ---- the shim and the zygote (shim.c, zygote.c) ----------------------------- */

/* Run a shim whose launch description arrives on fd 0; fd 1 gets the
 * "started" line. Returns the process exit status. */
int exec__shim_run(void);
/* Touch what the shim will write (stack, heap, library data) so a spare
 * forked by the zygote takes its copy-on-write faults before its launch
 * (zygote.c). */
void exec__shim_prewarm(void);
/* `gantry shim --zygote`: keep a spare shim ready and hand it out for each
 * request on fd 0. */
int exec__zygote_main(void);

/* ---- the executor (exec.c, watch.c, adopt.c) ---------------------------------- */

enum wfd_kind { WFD_PIDFD, WFD_SOCK, WFD_WAKE, WFD_ZYGOTE };

struct shim;
struct wfd {                           /* what an epoll event refers to */
	enum wfd_kind kind;
	struct shim *s;                    /* NULL for WAKE and ZYGOTE */
};

struct shim {                          /* one watched shim; freed only by the watcher */
	char *uid;                         /* hmap key */
	char *dir;
	pid_t pid;
	int pidfd;
	int sock;                          /* the started socket, -1 once closed or when adopted */
	bool child;                        /* our child: the watcher reaps it */
	bool started;                      /* `started` reported */
	bool pending_started;              /* adopted: report started from shim.json */
	int task_pid;
	int64_t started_ms;
	struct shim *next_pending;
	struct shim *prev, *next;          /* every watched shim (exec_free) */
	bool dead;                         /* ended in this epoll batch: freed after it */
	struct wfd w_pid, w_sock;
	char line[96];                     /* the started line as it arrives */
	size_t linelen;
};

struct zygote {
	pthread_mutex_t mu;                /* one request at a time */
	pid_t pid;                         /* 0 when not running */
	int pidfd, ctl;                    /* -1 when not running */
	bool disabled;                     /* GANTRY_EXEC_ZYGOTE=0, or it failed to start */
	struct wfd w;
};

struct exec {
	struct exec_caps caps;
	struct cg_layout lay;
	struct exec_callbacks cb;
	char *gantry_path;
	int epfd, wakefd;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;                /* shims, pending, stopping */
	struct hmap shims;                 /* uid -> struct shim */
	struct shim *pending;              /* adopted shims whose `started` is due */
	struct shim *all;                  /* every watched shim */
	bool stopping;
	struct wfd w_wake;
	struct zygote zy;
};

/* Watch s (pidfd, and sock when >= 0): added to the table and epoll; the
 * watcher owns s from here. GERR_CONFLICT when uid is already watched. */
int exec__watch_add(struct exec *x, struct shim *s, struct gerr *err);
void exec__shim_free(struct shim *s);
void *exec__watch_thread(void *arg);
void exec__wake(struct exec *x);
/* The shim in dir ended without exit.json: kill what is left of its task's
 * tree (shim.json's process group, the cgroups), write exit.json with
 * lost=true (under the lock) and fill ex. exit_status is the shim's, or -1. */
void exec__lost(struct exec *x, const char *uid, const char *dir, int exit_status, struct exec_exit *ex);

/* The zygote (zygote.c). exec__zygote_spawn hands out its spare shim: its
 * pid, a pidfd and the server's end of the shim's socket (its fds 0 and 1).
 * On failure exec_launch spawns `gantry shim` instead. */
int exec__zygote_start(struct exec *x, struct gerr *err);
void exec__zygote_stop(struct exec *x);
int exec__zygote_spawn(struct exec *x, pid_t *pid, int *pidfd, int *sock, struct gerr *err);

#endif
