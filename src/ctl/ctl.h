/* SPDX-License-Identifier: MIT */
/*
 * ctl — the job lifecycle, as FrameworkController runs an OpenPAI job.
 *
 * A job ("framework") runs as a sequence of attempts; an attempt runs every
 * task of every task role; a task runs as a sequence of task attempts. ctl
 * holds the state machines of the job attempt and of each task
 * (../shared/research/protocol-controller-runtime.md §3.2, §3.3), decides
 * retries (§3.5) and when an attempt is over (§3.6), and derives OpenPAI's
 * job states (§2.5). It decides; it does nothing: each call takes an
 * observation (placed, launched, started, exited, stop, timer) and appends
 * the side effects it wants to a list of actions. The caller persists the
 * new state first and carries the actions out after the commit
 * (write-ahead, §3.8), so a crash at any instant resumes to the same outcome.
 *
 * Pure: no I/O, no clock (`now` is passed in), no randomness (the caller
 * passes a random number where FrameworkController draws one). Memory: a
 * job's tasks and diagnostics are malloc'd and freed by ctl_job_fini.
 *
 * What is simplified against FrameworkController, and why it does not
 * change what users see: there is no ConfigMap (an attempt goes from
 * AttemptCreationPending to AttemptPreparing in the same step), pods are
 * task processes (AttemptCreationRequested = launch decided, AttemptPreparing
 * = supervisor spawned, AttemptRunning = the process started), and a task
 * process that exits is already gone (no pod deletion after a normal exit).
 * There is no rescaling.
 */
#ifndef GANTRY_CTL_CTL_H
#define GANTRY_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*     name                 FrameworkController's name */
#define CTL_STATE_MAP(X)                                          \
	X(CREATION_PENDING,   "AttemptCreationPending")           \
	X(CREATION_REQUESTED, "AttemptCreationRequested")         \
	X(PREPARING,          "AttemptPreparing")                 \
	X(RUNNING,            "AttemptRunning")                   \
	X(DELETION_PENDING,   "AttemptDeletionPending")           \
	X(DELETION_REQUESTED, "AttemptDeletionRequested")         \
	X(DELETING,           "AttemptDeleting")                  \
	X(ATTEMPT_COMPLETED,  "AttemptCompleted")                 \
	X(COMPLETED,          "Completed")

enum ctl_state {
#define X(name, s) CTL_##name,
	CTL_STATE_MAP(X)
#undef X
};

const char *ctl_state_name(enum ctl_state s);
/* The state from its name; -1 when unknown. */
int ctl_state_parse(const char *name);

/* Completion type attributes (FrameworkController's CompletionType). */
#define CTL_TRANSIENT 1u
#define CTL_PERMANENT 2u
#define CTL_CONFLICT  4u

/* FrameworkController's predefined completion codes (§3.4). */
#define CTL_CODE_SUCCEEDED            0
#define CTL_CODE_EXTERNAL_DELETED     (-101)   /* PodExternalDeleted: lost, preempted */
#define CTL_CODE_CREATION_TRANSIENT   (-120)   /* PodCreationTransientError: launch failed */
#define CTL_CODE_STOP_REQUESTED       (-210)   /* StopFrameworkRequested */
#define CTL_CODE_ATTEMPT_COMPLETION   (-220)   /* FrameworkAttemptCompletion */

struct ctl_completion {
	int code;
	unsigned attrs;               /* CTL_TRANSIENT | CTL_PERMANENT | CTL_CONFLICT */
	bool failed;                  /* type Failed (else Succeeded) */
	const char *phrase;           /* static */
	char *diag;                   /* malloc'd, may be NULL */
	int64_t ms;                   /* when it was decided */
};

struct ctl_policy {
	bool fancy;                   /* fancyRetryPolicy */
	int32_t max;                  /* maxRetryCount: -2 always, -1 unlimited */
};

struct ctl_role {
	const char *name;             /* borrowed */
	int64_t ntasks;
	int64_t min_failed, min_succeeded;    /* after OpenPAI's defaulting; -1 disables */
	struct ctl_policy retry;      /* the task retry policy */
};

/* One per task of a job attempt; kept small (a queue holds many). */
struct ctl_task {
	uint32_t role;
	enum ctl_state state;
	int32_t index;
	int32_t attempt;              /* task attempt id; only moves forward */
	int32_t retries, accountable;
	int32_t done_seq;             /* order of reaching Completed, 0 before */
	bool launched;                /* the current attempt's process was spawned */
	bool has_comp;                /* the current attempt's completion (write-once) */
	bool dirty;                   /* changed since the caller last saved it */
	int64_t created_ms;           /* the task (first attempt) */
	int64_t attempt_created_ms, attempt_running_ms, attempt_completed_ms;
	int64_t retry_at_ms;          /* CreationPending, backing off: placed from then (0 none) */
	int32_t quick_failures;       /* transient failures in a row, each soon after it ran */
	struct ctl_completion comp;
};

/* One per job not yet final (a queue holds many: kept small). */
struct ctl_job {
	/* spec (borrowed) */
	const struct ctl_role *roles;
	uint32_t nroles;
	enum ctl_state state;
	struct ctl_policy retry;      /* the job retry policy */
	/* status */
	bool started;                 /* ctl_start ran */
	bool stop;                    /* executionType STOP */
	bool has_comp;                /* the current attempt's completion (write-once) */
	bool dirty;
	bool tasks_borrowed;          /* tasks belong to the caller */
	int32_t attempt;              /* job attempt id; only moves forward */
	int32_t retries, accountable;
	int32_t pending_accountable;  /* the retry decided at AttemptCompleted counts */
	int32_t trigger_role;         /* the task that decided the completion, -1 none */
	int32_t trigger_index;
	int32_t seq;
	uint32_t ntasks;
	int64_t retry_at_ms;          /* AttemptCompleted, retrying: when (0 none) */
	int32_t quick_failures;       /* transient failures in a row, each soon after it ran */
	int64_t created_ms, running_ms, completed_ms, transition_ms;
	int64_t attempt_created_ms, attempt_running_ms, attempt_completed_ms;
	struct ctl_completion comp;
	char *trigger_msg;
	struct ctl_task *tasks;       /* every task of the current attempt, role by role */
	uint64_t rng;                 /* the caller seeds it (conflict back-off) */
};

enum ctl_act_type {
	CTL_ACT_ATTEMPT,              /* a new job attempt began: forget the old tasks' placements */
	CTL_ACT_PLACE,                /* task needs cells (its gang, for gang jobs) */
	CTL_ACT_LAUNCH,               /* start task (its attempt `attempt`) after the commit */
	CTL_ACT_KILL,                 /* stop task's process (its attempt `attempt`) after the commit */
	CTL_ACT_RELEASE,              /* task's attempt is over: give its cells back */
	CTL_ACT_ATTEMPT_DONE,         /* the job attempt is over: keep its history */
	CTL_ACT_WAKE,                 /* call ctl_timer at `at_ms` */
	CTL_ACT_DONE,                 /* the job is Completed */
};

struct ctl_action {
	enum ctl_act_type type;
	size_t task;                  /* index into job->tasks */
	int64_t attempt;              /* the task attempt it is about */
	int64_t at_ms;                /* WAKE */
};

struct ctl_actions {
	struct ctl_action *v;
	size_t n, cap;
	bool nomem;                   /* an action could not be recorded */
};

void ctl_actions_init(struct ctl_actions *a);
void ctl_actions_fini(struct ctl_actions *a);

/* Set up a job that has not started; roles are borrowed. tasks, when not
 * NULL, is zeroed room for every task (Σ roles' ntasks), owned by the
 * caller; else ctl allocates it. 0 or -1 (no memory). */
int ctl_job_init(struct ctl_job *j, const struct ctl_role *roles, uint32_t nroles, struct ctl_policy retry,
                 struct ctl_task *tasks);
void ctl_job_fini(struct ctl_job *j);
/* Make room for the current attempt's tasks (recovery fills them in). */
int ctl_job_alloc_tasks(struct ctl_job *j);

/*
 * Observations. Each returns 0, or -1 when it does not apply (an unknown
 * task, an attempt that is not the current one, a state that cannot take
 * it): the job is then unchanged. Out of memory is reported in acts->nomem.
 */
/* The job is submitted (executionType START): attempt 0, every task waits for cells. */
int ctl_start(struct ctl_job *j, int64_t now, struct ctl_actions *acts);
/* The task's cells are bound: launch it. */
int ctl_placed(struct ctl_job *j, size_t task, int64_t now, struct ctl_actions *acts);
/* The launch was carried out: spawned, or failed with a message (-120, transient). */
int ctl_launched(struct ctl_job *j, size_t task, int64_t attempt, bool ok, const char *why, int64_t now,
                 struct ctl_actions *acts);
/* The task's process is running. */
int ctl_started(struct ctl_job *j, size_t task, int64_t attempt, int64_t now, struct ctl_actions *acts);
/* The task's process is gone; c says why (ignored if a completion was already
 * decided, e.g. by a stop: first writer wins). c->diag is copied. */
int ctl_exited(struct ctl_job *j, size_t task, int64_t attempt, const struct ctl_completion *c, int64_t now,
               struct ctl_actions *acts);
/* Someone else ends the task's attempt (preemption, a lost node): it is
 * killed with this completion. c->diag is copied. */
int ctl_evict(struct ctl_job *j, size_t task, const struct ctl_completion *c, int64_t now,
              struct ctl_actions *acts);
/* The KILL action was carried out (AttemptDeletionRequested). */
int ctl_kill_sent(struct ctl_job *j, size_t task, int64_t attempt);
/* executionType STOP; why (copied) goes into the diagnostics. */
int ctl_stop(struct ctl_job *j, const char *why, int64_t now, struct ctl_actions *acts);
/* Time passed (a WAKE came due). */
int ctl_timer(struct ctl_job *j, int64_t now, struct ctl_actions *acts);
/* After a restart: take up what a crash may have interrupted (an attempt
 * whose last task ended, a pending retry's timer). */
void ctl_resync(struct ctl_job *j, int64_t now, struct ctl_actions *acts);

/* ---- what users see (§2.5) ---------------------------------------------------- */

/* OpenPAI's job (and task) state from an FC state and completion code:
 * WAITING RUNNING STOPPING STOPPED SUCCEEDED FAILED UNKNOWN. */
const char *ctl_pai_state(enum ctl_state s, bool has_code, int code);
/* OpenPAI's attempt state (convertAttemptState). */
const char *ctl_pai_attempt_state(enum ctl_state s, bool has_code, int code);
const char *ctl_job_pai_state(const struct ctl_job *j);

/* The retry decision (§3.5), exposed for tests: true to retry; *accountable
 * whether it counts against maxRetryCount; *delay_ms the back-off (drawn
 * from rnd for transient conflicts). */
bool ctl_should_retry(struct ctl_policy p, int64_t accountable_so_far, const struct ctl_completion *c,
                      int64_t min_delay_ms, int64_t max_delay_ms, uint64_t rnd, bool *accountable,
                      int64_t *delay_ms);

/*
 * The platform back-off, Gantry's own (FrameworkController retries a
 * transient failure at once, and on Kubernetes a pod's creation paces it; a
 * local executor fails again in milliseconds): the n-th transient failure in
 * a row, each within CTL_QUICK_MS of its attempt running (or before it ran),
 * waits ctl_backoff_ms(n): 0 for the first, then 1 s, 2 s, 4 s ... 60 s.
 */
#define CTL_QUICK_MS       60000
#define CTL_BACKOFF_MAX_MS 60000
int64_t ctl_backoff_ms(int32_t quick_failures);

#endif
