/* SPDX-License-Identifier: MIT */
/*
 * runtime — what a task sees and what its exit means, as openpai-runtime
 * and rest-server define it: the environment variables, the host ports, the
 * script bash runs (secrets and runtime plugins rendered in), the exit-code
 * table (k8s-job-exit-spec) and the classification of a task's exit.
 *
 * Pure: no I/O, no clock, no mutable globals (the exit-code table is const
 * data). Results come from the caller's arena; an rt_ports and an
 * rt_classifier own their memory. Any thread may call it; an rt_ports
 * belongs to one thread, an rt_classifier may be shared once made.
 * User docs: docs/user/runtime.md. Research:
 * ../shared/research/protocol-controller-runtime.md §2.4, §4.
 */
#ifndef GANTRY_RUNTIME_RUNTIME_H
#define GANTRY_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/gerr.h"
#include "spec/spec.h"

/* ---- paths ------------------------------------------------------------------ */

/* DATA/jobs/<user>~<job>/<fwAttempt>/<role>-<index>: the task's working
 * directory. Arena memory; NULL when out of memory, or when a name is not
 * one path component (empty, ".", "..", holds '/') or a number is negative. */
char *rt_task_cwd(struct arena *a, const char *data, const char *user, const char *job, int64_t fw_attempt,
                  const char *role, int64_t index);
/* DATA/logs/<user>~<job>/<fwAttempt>/<role>-<index>/<taskAttempt>: the task
 * attempt's directory (logs, shim files; see exec.h). NULL as above. */
char *rt_attempt_dir(struct arena *a, const char *data, const char *user, const char *job, int64_t fw_attempt,
                     const char *role, int64_t index, int64_t task_attempt);

/* ---- ports ------------------------------------------------------------------ */

struct rt_port_list {                 /* one label's ports of one task */
	const char *label;
	int *ports;
	size_t n;
};

/*
 * The host ports of live tasks: every port is handed to at most one live
 * task attempt. The first choice for each port is OpenPAI's hash of the
 * task attempt's uid, label and k in [start, end) (§4.3), so ports look the
 * same as on OpenPAI; a port already in use moves to the next free one.
 */
struct rt_ports;
/* [start, end), end exclusive, 1 <= start < end <= 65536. Returns owned
 * memory (rt_ports_free), or NULL when out of memory or the range is bad. */
struct rt_ports *rt_ports_new(int start, int end);
void rt_ports_free(struct rt_ports *p);
/* Allocate every port the role asks for (spec_role.ports) to uid: *out gets
 * one list per spec_role.ports entry, in that order; lists and ports come
 * from a. GERR_CONFLICT (message) when the range is full or uid already
 * holds ports; GERR_INVALID for an empty uid. On error nothing is taken. */
int rt_ports_take(struct rt_ports *p, const char *uid, const struct spec_role *role, struct arena *a,
                  struct rt_port_list **out, size_t *nout, struct gerr *err);
/* Mark ports as held by uid (recovery after a restart); adds to what uid
 * holds. 0, GERR_INVALID (a port outside the range, empty uid),
 * GERR_CONFLICT (a port another uid holds: nothing is held), GERR_NOMEM. */
int rt_ports_hold(struct rt_ports *p, const char *uid, const int *ports, size_t n);
/* uid's task attempt ended: its ports are free again. */
void rt_ports_release(struct rt_ports *p, const char *uid);
/* OpenPAI's hash (§4.3), exposed for the test vector; -1 when end <= start. */
int rt_port_hash(const char *uid, const char *label, int k, int start, int end);

/* ---- environment ------------------------------------------------------------- */

struct rt_peer {                      /* one task of the job attempt */
	const char *role;                 /* the role's name as written */
	int64_t index;
	const char *host_ip;              /* NULL while not placed */
	const struct rt_port_list *ports; /* NULL/0 while not placed */
	size_t nports;
};

struct rt_env_ctx {
	const struct spec_job *job;
	const char *user;
	const char *framework_name;       /* debugId: md5 of user~job */
	int64_t fw_attempt;
	const char *fw_attempt_uid;
	const char *role;                 /* this task's role (name as written) */
	int64_t index;
	int64_t task_attempt;
	const char *task_uid;             /* the task attempt's uid (FC_POD_UID; the uid its ports were taken for) */
	const char *node_name, *host_ip;
	const int32_t *gpus;              /* the leaf cells (GPU indices) on its node */
	size_t ngpus;
	bool gpu_sku;                     /* leaf cells are GPUs (else CPUs: no GPU visible) */
	const struct rt_peer *peers;      /* every task of the attempt, this one included */
	size_t npeers;
	const char *rest_server_uri;      /* REST_SERVER_URI; NULL: not set */
	const char *work_dir;             /* PAI_WORK_DIR: the task's cwd (rt_task_cwd); NULL: not set */
	const char *const *base;          /* "K=V" from the host (PATH, HOME, LANG...), NULL-terminated; may be NULL */
};

/* Every variable a task sees (§2.4 and §4.2; CUDA_VISIBLE_DEVICES and
 * NVIDIA_VISIBLE_DEVICES = exactly its GPUs; without GPUs, its role's gpu
 * being 0 whatever leaf cells it holds, NVIDIA_VISIBLE_DEVICES=none and
 * CUDA_VISIBLE_DEVICES empty), base first: a
 * NULL-terminated "K=V" array from a, each name once (ours win over base).
 * Never holds a secret. GERR_INVALID when this task is not among the peers,
 * GERR_TOO_LARGE when one variable would pass the kernel's 128 KiB limit
 * (a host list of a huge job), GERR_NOMEM. */
int rt_env(const struct rt_env_ctx *c, struct arena *a, const char ***env, struct gerr *err);

/* ---- the script bash runs ------------------------------------------------------ */

/*
 * The task's script, as openpai-runtime's user.sh: strict bash (errexit,
 * nounset, pipefail), runtime plugins' pre-commands (cmd: preCommands or
 * callbacks; git: a clone), the rendered entrypoint with `<% $secrets.x %>`
 * filled from the job's secrets, then the post-commands in reverse plugin
 * order; each part in its own subshell, as each was its own process there.
 * ssh and tensorboard are not supported here: the script says so on stderr
 * and goes on. From a; the script may hold secrets (never write it to disk).
 * GERR_INVALID (message) when a plugin cannot run here: an unknown plugin,
 * bad parameters, a `<% $ref %>` in them that does not resolve.
 */
int rt_script(const struct spec_job *job, const struct spec_role *role, struct arena *a, char **script,
              struct gerr *err);

/* ---- exit codes --------------------------------------------------------------- */

enum rt_behavior { RT_UNKNOWN = 0, RT_TRANSIENT, RT_TRANSIENT_CONFLICT, RT_PERMANENT };

/* One entry of k8s-job-exit-spec. */
struct rt_exit_spec {
	int code;
	const char *phrase, *issuer, *causer, *type, *stage;
	enum rt_behavior behavior;
	const char *reaction, *reason;
	const char *const *repro;         /* NULL-terminated */
	const char *const *solution;      /* NULL-terminated */
};

/* The entry for code; unknown positive codes use 256's, unknown
 * non-positive ones -8000's (with `code` the real one in *out). */
void rt_exit_spec_for(int code, struct rt_exit_spec *out);

/*
 * The exit-spec patterns, compiled once (PCRE2, JIT where available).
 * Optional: without one, rt_exit_classify compiles what it needs per call.
 * Read-only once made, so threads may share it. rt_classifier_new returns
 * owned memory (rt_classifier_free), or NULL when out of memory.
 */
struct rt_classifier;
struct rt_classifier *rt_classifier_new(void);
void rt_classifier_free(struct rt_classifier *c);

struct rt_exit_input {
	int user_exit;                    /* bash's exit status (128+N for signal N) */
	bool oom;                         /* killed by the memory limit */
	const char *user_log;             /* the tail of user.pai.all (≤ 10 MiB), may be NULL */
	size_t user_log_len;
	const char *platform_log;         /* runtime.log tail, may be NULL */
	size_t platform_log_len;
	const struct rt_classifier *classifier;   /* may be NULL (above) */
};

struct rt_exit_result {
	int code;                         /* the container exit code (0, 220..255, 130..143, -1200 for OOM) */
	const char *phrase;
	enum rt_behavior behavior;
	char diagnostics[4096];           /* [PAI_RUNTIME_ERROR_START] yaml [PAI_RUNTIME_ERROR_END] when failed */
};

/* openpai-runtime's exithandler plus FC's pod failure spec: what the exit
 * means. Exit 0 is 0 Succeeded (no diagnostics); otherwise the first
 * runtime pattern that matches (exit code, user log, platform log) gives the
 * code, none gives 255; an OOM kill makes it -1200. Reads at most the last
 * 10 MiB of each log. Never fails. */
void rt_exit_classify(const struct rt_exit_input *in, struct rt_exit_result *out);

#endif
