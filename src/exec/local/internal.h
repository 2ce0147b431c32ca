/* SPDX-License-Identifier: MIT */
/*
 * exec/local internals — the seam between the local executor's files:
 *
 *     cgroup.c   where task cgroups go (detection), and a task's cgroups:
 *                create, limit, join, signal, empty, OOM count, remove;
 *                orphans swept
 *     caps.c     exec_caps_detect: cgroups, bubblewrap, container engines
 *     util.c     files (atomic writes), /proc, clocks
 *     logs.c     the task's log files, rotated by size
 *     claim.c    a task attempt's claim: an abstract socket named after DIR
 *     shim.c     `gantry shim`: the supervisor of one task attempt
 *     stub.c     the task's process, made (and put in its cgroups) before
 *                the task is known
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
/* The layout's roots, as a cg_task (what the zygote and shims are given). */
void exec__cg_roots(const struct cg_layout *lay, struct cg_task *roots);
/* The dirs "<root>/<name>" under each of roots (mem, cpu only when asked). */
void exec__cg_task_named(const struct cg_task *roots, const char *name, bool mem, bool cpu, struct cg_task *t);
/* The name a shim gives its task's cgroups: "shim-<pid>-<start time>". */
void exec__cg_shim_name(pid_t pid, int64_t start, char *out, size_t cap);
/* The dirs earlier shims used: named after the uid (odd characters '_'). */
void exec__cg_task_paths(const struct cg_layout *lay, const char *uid, bool mem, bool cpu,
                         struct cg_task *t);
json_t *exec__cg_task_to_json(const struct cg_task *t);
void exec__cg_task_from_json(json_t *j, struct cg_task *t);   /* missing fields become "" */
bool exec__cg_task_any(const struct cg_task *t);
/* mkdir the task's cgroups (existing ones are fine). */
int exec__cg_task_create(const struct cg_task *t, struct gerr *err);
/* Write the limits (memory_mb 0 / cpu 0 = none: nothing written). */
int exec__cg_task_limit(const struct cg_task *t, int64_t memory_mb, double cpu, struct gerr *err);
/* Move pid into each of the task's cgroups (cgroup.procs: the slow write). */
int exec__cg_task_join(const struct cg_task *t, pid_t pid, struct gerr *err);
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
/* Kill and remove every "shim-<pid>-<start>" dir under roots whose shim is
 * dead. Returns how many were found. */
int exec__cg_sweep(const struct cg_task *roots);

/* ---- files, /proc, clocks (util.c) ------------------------------------------ */

int64_t exec__now_ms(void);                       /* wall clock */
int64_t exec__mono_ms(void);                      /* monotonic */
/* Write dir/name through dir/.name.tmp and rename; with sync, fsync the file
 * and the directory (exit.json), so the record survives a power cut. */
int exec__write_atomic(const char *dir, const char *name, const char *data, size_t n, bool sync,
                       struct gerr *err);
/* Rewrite dir/from with data (fsync), rename it to dir/to, fsync dir: the
 * exit record reuses shim.json's inode (creating one costs milliseconds on
 * a busy ext4). A reader that finds shim.json holding an exit record (the
 * writer died before the rename) takes it as exit.json (exec__exit_read). */
int exec__write_over(const char *dir, const char *from, const char *to, const char *data, size_t n,
                     struct gerr *err);
/* dir/exit.json, or a shim.json already rewritten as it (then renamed to
 * exit.json); false when there is none. */
bool exec__exit_read(const char *dir, struct exec_exit *ex);
/* Read a whole file (at most max bytes); returned owned (free()); NULL with
 * errno set (ENOENT when missing). */
char *exec__read_file(const char *path, size_t max, size_t *len);
/* Parse dir/name as JSON; NULL when missing or unreadable (errno ENOENT when missing). */
json_t *exec__read_json(const char *dir, const char *name);
/* /proc/<pid>/stat: start time (clock ticks since boot), parent, group; -1 when gone. */
int64_t exec__proc_start_time(pid_t pid);
int exec__proc_stat(pid_t pid, pid_t *ppid, pid_t *pgid, int64_t *start);
/* pid runs (not a zombie) and started at start. */
bool exec__proc_live(pid_t pid, int64_t start);
/* Signal every descendant of this process, found by scanning /proc (the
 * shim is a child subreaper, so the task's orphans are its descendants).
 * Returns how many, or a negative GERR_*. */
int exec__signal_descendants(int sig, struct gerr *err);
/* posix_spawn path with envp (NULL: ours), fds[i] as its fd i (-1:
 * /dev/null, -2: ours), no other fd, "/" as its cwd, default signal
 * dispositions and *mask blocked; in a new session when new_session. */
int exec__spawn(const char *path, char *const argv[], char *const envp[], const int fds[3], bool new_session,
                const sigset_t *mask, pid_t *pid, struct gerr *err);
/* mkdir -p path (mode 0755 for new dirs). */
int exec__mkdir_p(const char *path, struct gerr *err);
/* exit.json <-> struct exec_exit */
json_t *exec__exit_to_json(const struct exec_exit *ex);
void exec__exit_from_json(json_t *j, struct exec_exit *ex);
bool exec__exists(const char *dir, const char *name);

/* ---- the claim (claim.c) ------------------------------------------------------- */

/* Take the claim on the attempt in dir: *fd holds it (close-on-exec) until
 * closed. GERR_CONFLICT when a shim of ours holds it, GERR_FORBIDDEN when
 * a process of another uid does, GERR_IO. */
int exec__claim_take(const char *dir, int *fd, struct gerr *err);
/* Who holds the claim on dir: 0 with its pid and uid, -1 when nobody (or
 * it cannot be told). */
int exec__claim_holder(const char *dir, pid_t *pid, uid_t *uid);

/* ---- the task's log files (logs.c) ------------------------------------------- */

struct exec_logf {                     /* one of user.pai.stdout, .stderr, .all */
	int fd;                            /* -1 until the first write opens it, or closed */
	int64_t size;
	char path[EXEC_PATH_MAX];
};

/* Name the file; it is created by the first write, so a stream the task
 * never writes to leaves no file. */
int exec__logf_init(struct exec_logf *lf, const char *dir, const char *name, struct gerr *err);
/* Append, rotating to "<path>.1" whenever the file reaches max bytes, so no
 * file ever exceeds max. GERR_IO (message) when a write or rotation fails. */
int exec__logf_write(struct exec_logf *lf, int64_t max, const char *p, size_t n, struct gerr *err);
void exec__logf_close(struct exec_logf *lf);

/* ---- the task's process (stub.c) ----------------------------------------------- */

/* What the task's process needs from the launch description. */
struct exec_child_args {
	const char *cwd;
	char *argv[3];
	char **envp;
};

enum exec_child_step {
	EXEC_STEP_SETSID = 1,
	EXEC_STEP_CHDIR,
	EXEC_STEP_FDS,
	EXEC_STEP_EXEC,
	EXEC_STEP_GONE,                    /* the stub died before its exec */
};

struct exec_child_err {                /* the stub's report when it fails before exec */
	int step, err;
};

/* What the stub reads: set before the clone, never changed while it lives
 * (it shares the shim's memory). fds are numbers in the stub's own table. */
struct stub_child {
	pid_t parent;                      /* the shim */
	int go_r, res_w;                   /* its ends of go and res */
	int go_w, res_r, out_r, err_r;     /* the shim's ends: the stub closes its copies */
	int devnull, out_w, err_w, memfd;  /* made its fds 0, 1, 2, 3 */
};

struct stub {                          /* the task's process before it is the task */
	pid_t pid;                         /* 0: none */
	void *stack;                       /* its stack, in the shim's memory */
	size_t stack_size;
	struct stub_child c;
	int go_w;                          /* the shim writes one byte: exec now */
	int res_r;                         /* close-on-exec: EOF = exec'd, else struct exec_child_err */
	int out_r, err_r;                  /* the task's stdout and stderr */
	int memfd;                         /* the script (written by the shim before go) */
	struct cg_task cg;                 /* its cgroups: joined already */
	const struct exec_child_args *args;   /* set by exec__stub_start, before go */
};

void exec__stub_init(struct stub *st);
/* Create cg (when any), the pipes and the memfd, clone the stub and move it
 * into cg. On failure everything made is removed again. */
int exec__stub_make(struct stub *st, const struct cg_task *cg, int devnull, struct gerr *err);
/* Go: the stub execs bash with a. 0 once bash runs (st->pid is its pid;
 * out_r/err_r stay the shim's), -1 with *ce filled when it did not (the
 * stub is reaped; its cgroups stay, for a retry or exec__stub_discard). */
int exec__stub_start(struct stub *st, const struct exec_child_args *a, struct exec_child_err *ce);
/* Kill an unused stub; close its fds; remove its cgroups. */
void exec__stub_discard(struct stub *st);
const char *exec__child_step_name(int step);

/* ---- the shim and the zygote (shim.c, zygote.c) ----------------------------- */

/* Run a shim whose launch description arrives on fd 0; fd 1 gets the
 * "started" line (or "failed MESSAGE" when not even DIR can be made).
 * roots: the cgroup roots, for a spare that makes its task's process before
 * the description arrives (zygote.c); NULL: the description gives them.
 * Returns the process exit status. */
int exec__shim_run(const struct cg_task *roots);
/* Touch what the shim will write (stack, heap, library data) so a spare
 * forked by the zygote takes its copy-on-write faults before its launch
 * (zygote.c). */
void exec__shim_prewarm(void);
/* `gantry shim --zygote [ROOTS]`: keep spare shims ready and hand one out
 * for each request on fd 0. ROOTS: the cgroup roots as JSON (cg_task's
 * form), or NULL for none. */
int exec__zygote_main(const char *roots);

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
	char *failed;                      /* the shim's "failed" line: why DIR could not be made */
	struct shim *next_pending;
	struct shim *prev, *next;          /* every watched shim (exec_free) */
	bool dead;                         /* ended in this epoll batch: freed after it */
	struct wfd w_pid, w_sock;
	char line[640];                    /* the shim's line as it arrives */
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
	struct cg_task roots;              /* lay's roots: given to the zygote and in each description */
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
 * lost=true (under the lock) and fill ex. exit_status is the shim's, or -1;
 * why, when not NULL, is what the shim said before it died. */
void exec__lost(struct exec *x, const char *uid, const char *dir, int exit_status, const char *why,
                struct exec_exit *ex);

/* The record in shim.json, written by the shim once its task runs (shims of
 * the earlier layout wrote the same). */
struct shim_rec {
	pid_t pid;                         /* 0: nothing (yet) */
	int64_t start;                     /* the shim's start time (/proc stat field 22) */
	pid_t task_pid, pgid;              /* 0 until the task runs */
	int64_t task_start, started_ms;
	bool has_cg;
	struct cg_task cg;
};
/* Parse dir/shim.json; false when missing, empty or torn (being written). */
bool exec__shim_rec_read(const char *dir, struct shim_rec *rec);

/* The zygote (zygote.c). exec__zygote_spawn hands out its spare shim: its
 * pid, a pidfd and the server's end of the shim's socket (its fds 0 and 1).
 * On failure exec_launch spawns `gantry shim` instead. */
int exec__zygote_start(struct exec *x, struct gerr *err);
void exec__zygote_stop(struct exec *x);
int exec__zygote_spawn(struct exec *x, pid_t *pid, int *pidfd, int *sock, struct gerr *err);

#endif
