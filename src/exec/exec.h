/* SPDX-License-Identifier: MIT */
/*
 * exec — the local executor: runs task attempts on this machine, each under
 * its own supervisor process, `gantry shim`.
 *
 * A shim is started per task attempt and detaches from the server (its own
 * session), so tasks outlive a server crash or restart, like conmon or
 * containerd-shim. The shim starts the task's script with bash in a new
 * session, in the task's working directory, with exactly the environment it
 * was given, inside the task's cgroup (memory and CPU limits) where the
 * machine has cgroups. It owns the task's process tree, its log files
 * (user.pai.stdout, user.pai.stderr, user.pai.all, rotated by size) and its
 * exit status, which it writes atomically to DIR/exit.json before it exits.
 *
 * The task attempt's directory DIR (given by the caller, created by the
 * shim) holds:
 *     shim.json        {"pid", "startTime", "pgid", "taskPid", "cgroups", ...}
 *                      once the task runs
 *     exit.json        {"exitCode", "signal", "oom", "stopped", "startedMs",
 *                       "finishedMs", "message"}: written once, atomically
 *     user.pai.stdout, user.pai.stderr, user.pai.all (+ ".1" rotated), each
 *                      created by the task's first output to it
 *     runtime.log      what the shim itself did (start, limits, signals, exit)
 * A shim holds a claim on DIR (an abstract socket named after it) for as long
 * as it lives.
 *
 * The server talks to a shim only through these files, signals and the
 * shim's stdout pipe (one line when the task's process has started). exec
 * watches its shims from its own thread (epoll over pidfds and pipes) and
 * reports through the callbacks below, from that thread: the caller queues
 * them to its own thread.
 *
 * Secrets: the script (which may hold rendered secrets) goes to the shim
 * through a pipe and to bash through a memfd; it is never written to disk
 * and never appears in a command line.
 */
#ifndef GANTRY_EXEC_EXEC_H
#define GANTRY_EXEC_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/gerr.h"

/* What this machine can do for tasks: detected once, reported by
 * `gantry doctor` and GET /api/v2/info. */
struct exec_caps {
	const char *cgroup;           /* "v2", "v1" or "none" */
	bool memory_limit;            /* memoryMB is enforced (the task is OOM-killed beyond it) */
	bool cpu_limit;               /* cpu is enforced (CFS quota) */
	bool kill_tree;               /* the whole tree is killed even if it leaves the session (cgroup) */
	bool bwrap;                   /* bubblewrap is installed (optional sandbox) */
	const char *container_engine; /* "podman", "docker" or NULL: tasks run on the host */
	char memory_root[256];        /* the cgroup directory tasks' memory cgroups go under, or "" */
	char cpu_root[256];           /* same for cpu, or "" */
	char detail[512];             /* one human line, e.g. "cgroup v1: memory, cpu; no container engine" */
};

/* Detect what this machine offers (also used by `gantry doctor` without a
 * server). Never fails: what cannot be used is reported as absent. */
void exec_caps_detect(struct exec_caps *caps);

struct exec_task {
	const char *uid;              /* the task attempt's instance uid: unique forever */
	const char *dir;              /* the attempt's directory (above); created */
	const char *cwd;              /* the working directory; created if missing */
	const char *script;           /* bash script (secrets rendered): never written to disk */
	const char *const *env;       /* "NAME=value"..., NULL-terminated: the whole environment */
	int64_t memory_mb;            /* limit, 0 = none */
	double cpu;                   /* limit in CPUs, 0 = none */
	int grace_s;                  /* SIGTERM → SIGKILL delay when stopped */
	int64_t log_max_bytes;        /* rotate a log at this size (one ".1" kept); 0 = 64 MiB */
	const char *image;            /* dockerImage uri: run in it when an engine exists; may be NULL */
};

struct exec_exit {
	int exit_code;                /* the task's exit status; 128+N when killed by signal N */
	int signal;                   /* 0, or the signal that ended bash */
	bool oom;                     /* the memory limit killed a process of the task */
	bool stopped;                 /* ended by exec_kill */
	bool lost;                    /* the shim died without recording an exit (its tree was killed) */
	int64_t started_ms, finished_ms;   /* wall clock; 0 when unknown */
	char message[512];            /* one human line: "exited with 3", "killed by the memory limit (512 MiB)" */
};

struct exec_callbacks {
	/* The task's process is running (bash started): pid, wall-clock ms. */
	void (*started)(void *ctx, const char *uid, int pid, int64_t started_ms);
	/* The task attempt is over (also after exec_kill, and for a lost shim). */
	void (*exited)(void *ctx, const char *uid, const struct exec_exit *ex);
	void *ctx;
};

struct exec;

/*
 * Start the executor: detect capabilities, make the cgroup roots, start the
 * watcher thread. `gantry_path` is the binary to run as `gantry shim`
 * (normally /proc/self/exe resolved). NULL with err on failure.
 */
struct exec *exec_new(const char *gantry_path, const struct exec_callbacks *cb, struct gerr *err);
/* Stop watching (the thread ends; callbacks stop). Shims and tasks keep
 * running; a shim launched so recently that it has not yet claimed its
 * attempt does not start it (a restarted server finds it never started). */
void exec_free(struct exec *x);
const struct exec_caps *exec_get_caps(const struct exec *x);

/*
 * Start a shim for t and return once it is spawned (not waiting for bash,
 * touching no file): `started` follows from the watcher thread, then
 * `exited`. Fails (nothing left running, nothing reported) when the shim
 * cannot be spawned; a directory the shim cannot make is reported by
 * `exited` (lost, with the reason).
 */
int exec_launch(struct exec *x, const struct exec_task *t, struct gerr *err);

/*
 * Stop a task attempt: the shim sends SIGTERM to the whole tree, and SIGKILL
 * after grace_s. `exited` follows (stopped = true). Harmless when the task
 * has already ended. 0, or GERR_NOT_FOUND when no shim is known for uid.
 */
int exec_kill(struct exec *x, const char *uid, int grace_s);

enum exec_adopt_result {
	EXEC_ADOPTED = 0,             /* the shim lives: watched; callbacks follow */
	EXEC_EXITED = 1,              /* it ended while we were away: *ex filled */
	EXEC_NEVER_STARTED = 2,       /* no shim ever ran in dir (crash before the spawn) */
	EXEC_LOST = 3,                /* the shim died without an exit record: its tree was killed; *ex filled */
};

/*
 * After a server restart, for a task attempt the store says was launched:
 * re-attach to its shim by DIR (lock, shim.json, pidfd; a recycled pid is
 * detected by its start time). Returns an enum exec_adopt_result, or a
 * negative GERR_* on error.
 */
int exec_adopt(struct exec *x, const char *uid, const char *dir, struct exec_exit *ex, struct gerr *err);

/* `gantry shim` (run by exec_launch, not by people). */
int exec_shim_main(int argc, char **argv);

#endif
