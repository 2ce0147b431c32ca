/* SPDX-License-Identifier: MIT */
/*
 * ctl.c — FrameworkController's job and task state machines.
 *
 * DESIGN
 * ------
 * The job attempt moves
 *
 *   AttemptCreationPending → AttemptPreparing → AttemptRunning
 *     → AttemptDeletionPending (a completion is decided: stop, or the
 *       completion policy fired; every live task is killed)
 *     → AttemptCompleted (no task process is left; retry or not)
 *     → Completed, or a new attempt (AttemptCreationPending ...).
 *
 * A task attempt moves
 *
 *   AttemptCreationPending (waiting for cells) → AttemptCreationRequested
 *   (launch decided) → AttemptPreparing (supervisor spawned) →
 *   AttemptRunning → [AttemptDeletionPending → AttemptDeletionRequested]
 *   → AttemptCompleted → Completed, or a new task attempt.
 *
 * A completion is write-once: the first decision wins (a task killed by a
 * stop keeps -220 even if its process then exits 137). Counters and attempt
 * ids only move forward. Every change marks the task or job dirty so the
 * caller saves exactly what changed.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "ctl/ctl.h"

static const char *const STATE_NAMES[] = {
#define X(name, s) s,
	CTL_STATE_MAP(X)
#undef X
};

const char *ctl_state_name(enum ctl_state s)
{
	return (unsigned)s < sizeof(STATE_NAMES) / sizeof(STATE_NAMES[0]) ? STATE_NAMES[s] : "Unknown";
}

int ctl_state_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(STATE_NAMES) / sizeof(STATE_NAMES[0]); i++)
		if (!strcmp(STATE_NAMES[i], name))
			return (int)i;
	return -1;
}

/* ---- actions ------------------------------------------------------------------ */

void ctl_actions_init(struct ctl_actions *a)
{
	memset(a, 0, sizeof(*a));
}

void ctl_actions_fini(struct ctl_actions *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static void act(struct ctl_actions *a, enum ctl_act_type type, size_t task, int64_t attempt, int64_t at)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct ctl_action *v = realloc(a->v, cap * sizeof(*v));
		if (!v) {
			a->nomem = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = (struct ctl_action){ type, task, attempt, at };
}

/* ---- completions ---------------------------------------------------------------- */

static void comp_clear(struct ctl_completion *c)
{
	free(c->diag);
	memset(c, 0, sizeof(*c));
}

static void comp_set(struct ctl_completion *dst, const struct ctl_completion *src, int64_t now)
{
	comp_clear(dst);
	*dst = *src;
	dst->diag = src->diag ? strdup(src->diag) : NULL;
	dst->ms = now;
}

static struct ctl_completion predefined(int code, const char *diag)
{
	struct ctl_completion c = { .code = code, .failed = true, .diag = (char *)diag };
	switch (code) {
	case CTL_CODE_EXTERNAL_DELETED:
		c.phrase = "PodExternalDeleted";
		c.attrs = CTL_TRANSIENT;
		break;
	case CTL_CODE_CREATION_TRANSIENT:
		c.phrase = "PodCreationTransientError";
		c.attrs = CTL_TRANSIENT;
		break;
	case CTL_CODE_STOP_REQUESTED:
		c.phrase = "StopFrameworkRequested";
		c.attrs = CTL_PERMANENT;
		break;
	case CTL_CODE_ATTEMPT_COMPLETION:
		c.phrase = "FrameworkAttemptCompletion";
		c.attrs = CTL_PERMANENT;
		break;
	default:
		c.phrase = "Unknown";
		break;
	}
	return c;
}

/* ---- the retry decision (§3.5) ------------------------------------------------- */

bool ctl_should_retry(struct ctl_policy p, int64_t accountable_so_far, const struct ctl_completion *c,
                      int64_t min_delay_ms, int64_t max_delay_ms, uint64_t rnd, bool *accountable,
                      int64_t *delay_ms)
{
	*accountable = true;
	*delay_ms = 0;
	if (c->code == CTL_CODE_STOP_REQUESTED || c->code == CTL_CODE_ATTEMPT_COMPLETION || c->code == -230)
		return false;
	if (p.fancy && c->failed) {
		if (c->attrs & CTL_TRANSIENT) {
			*accountable = false;
			if ((c->attrs & CTL_CONFLICT) && max_delay_ms >= min_delay_ms)
				*delay_ms = min_delay_ms + (int64_t)(rnd % (uint64_t)(max_delay_ms - min_delay_ms + 1));
			return true;
		}
		if (c->attrs & CTL_PERMANENT)
			return false;
	}
	if (p.max == -2)
		return true;
	if (c->failed && p.max == -1)
		return true;
	if (c->failed && accountable_so_far < p.max)
		return true;
	return false;
}

/* FrameworkController's framework-level conflict back-off (§3.10). */
#define CONFLICT_MIN_MS 60000
#define CONFLICT_MAX_MS 900000

static uint64_t next_rnd(struct ctl_job *j)
{
	/* xorshift64*: the caller seeds j->rng; deterministic after that */
	uint64_t x = j->rng ? j->rng : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	j->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

int64_t ctl_backoff_ms(int32_t quick_failures)
{
	if (quick_failures <= 1)
		return 0;
	if (quick_failures > 8)
		return CTL_BACKOFF_MAX_MS;
	int64_t ms = (int64_t)1000 << (quick_failures - 2);
	return ms < CTL_BACKOFF_MAX_MS ? ms : CTL_BACKOFF_MAX_MS;
}

/*
 * After a retry was decided: the platform back-off's delay, and *quick
 * updated. Only a transient, unaccounted, undelayed retry counts; one whose
 * attempt ran a while starts the count again.
 */
static int64_t platform_backoff(int32_t *quick, bool accountable, int64_t delay, int64_t running_ms,
                                int64_t now)
{
	if (accountable) {
		*quick = 0;
		return 0;
	}
	if (delay > 0)
		return delay;   /* a conflict's own back-off */
	if (running_ms && now - running_ms >= CTL_QUICK_MS)
		*quick = 0;
	if (*quick < INT32_MAX)
		(*quick)++;
	return ctl_backoff_ms(*quick);
}

/* ---- states -------------------------------------------------------------------- */

/* A task attempt that has, or may have, a process. */
static bool live(enum ctl_state s)
{
	return s >= CTL_CREATION_REQUESTED && s <= CTL_DELETING;
}

static bool completing(const struct ctl_job *j)
{
	return j->state >= CTL_DELETION_PENDING;
}

static struct ctl_task *task_at(struct ctl_job *j, size_t i, int64_t attempt)
{
	if (i >= j->ntasks)
		return NULL;
	struct ctl_task *t = &j->tasks[i];
	if (attempt >= 0 && t->attempt != attempt)
		return NULL;
	return t;
}

static void framework_check_dead(struct ctl_job *j, int64_t now, struct ctl_actions *acts);
static void complete_attempt(struct ctl_job *j, const struct ctl_completion *c, int64_t trigger_role,
                             int64_t trigger_index, const char *trigger_msg, int64_t now,
                             struct ctl_actions *acts);

/* A new job attempt: fresh tasks, all waiting for cells. */
static void new_attempt(struct ctl_job *j, int64_t now, struct ctl_actions *acts)
{
	size_t k = 0;
	for (size_t i = 0; i < j->ntasks; i++)
		comp_clear(&j->tasks[i].comp);
	for (size_t r = 0; r < j->nroles; r++)
		for (int64_t i = 0; i < j->roles[r].ntasks; i++, k++)
			j->tasks[k] = (struct ctl_task){ .role = (uint32_t)r, .index = (int32_t)i, .state = CTL_CREATION_PENDING,
			                                 .created_ms = now, .attempt_created_ms = now, .dirty = true };
	comp_clear(&j->comp);
	j->has_comp = false;
	free(j->trigger_msg);
	j->trigger_msg = NULL;
	j->trigger_role = j->trigger_index = -1;
	j->state = CTL_PREPARING;        /* no ConfigMap: CreationPending → Preparing at once */
	j->attempt_created_ms = now;
	j->attempt_running_ms = j->attempt_completed_ms = 0;
	j->transition_ms = now;
	j->retry_at_ms = 0;
	j->seq = 0;
	j->dirty = true;
	act(acts, CTL_ACT_ATTEMPT, 0, j->attempt, 0);
	if (j->stop) {
		struct ctl_completion c = predefined(CTL_CODE_STOP_REQUESTED, "The job was stopped before this attempt ran.");
		complete_attempt(j, &c, -1, -1, NULL, now, acts);
		return;
	}
	for (size_t i = 0; i < j->ntasks; i++)
		act(acts, CTL_ACT_PLACE, i, 0, 0);
}

int ctl_job_alloc_tasks(struct ctl_job *j)
{
	size_t n = 0;
	for (size_t r = 0; r < j->nroles; r++)
		n += (size_t)j->roles[r].ntasks;
	struct ctl_task *t = j->tasks_borrowed ? j->tasks : calloc(n ? n : 1, sizeof(*t));
	if (!t)
		return -1;
	for (size_t i = 0; i < j->ntasks; i++)
		comp_clear(&j->tasks[i].comp);
	if (!j->tasks_borrowed) {
		free(j->tasks);
		j->tasks = t;
	}
	memset(t, 0, n * sizeof(*t));
	j->ntasks = (uint32_t)n;
	size_t k = 0;
	for (size_t r = 0; r < j->nroles; r++)
		for (int64_t i = 0; i < j->roles[r].ntasks; i++, k++) {
			t[k].role = (uint32_t)r;
			t[k].index = (int32_t)i;
		}
	return 0;
}

int ctl_job_init(struct ctl_job *j, const struct ctl_role *roles, uint32_t nroles, struct ctl_policy retry,
                 struct ctl_task *tasks)
{
	memset(j, 0, sizeof(*j));
	j->roles = roles;
	j->nroles = nroles;
	j->retry = retry;
	j->trigger_role = j->trigger_index = -1;
	j->state = CTL_CREATION_PENDING;
	j->tasks = tasks;
	j->tasks_borrowed = tasks != NULL;
	return ctl_job_alloc_tasks(j);
}

void ctl_job_fini(struct ctl_job *j)
{
	for (size_t i = 0; i < j->ntasks; i++)
		comp_clear(&j->tasks[i].comp);
	if (!j->tasks_borrowed)
		free(j->tasks);
	comp_clear(&j->comp);
	free(j->trigger_msg);
	memset(j, 0, sizeof(*j));
}

int ctl_start(struct ctl_job *j, int64_t now, struct ctl_actions *acts)
{
	if (j->started)
		return -1;
	j->started = true;
	j->created_ms = now;
	j->attempt = 0;
	new_attempt(j, now, acts);
	return 0;
}

/*
 * The completion policy (§3.6), checked incrementally when task t reaches
 * Completed. The trigger is the k-th task of its role to complete with that
 * outcome (k = the minimum): since this runs at every completion, that is t
 * when its count reaches k exactly. j->seq counts the completed tasks.
 */
static void check_policy(struct ctl_job *j, const struct ctl_task *t, int64_t now, struct ctl_actions *acts)
{
	if (completing(j))
		return;
	const struct ctl_role *role = &j->roles[t->role];
	int64_t failed = 0, succeeded = 0;
	for (size_t i = 0; i < j->ntasks; i++) {
		const struct ctl_task *u = &j->tasks[i];
		if (u->role != t->role || u->state != CTL_COMPLETED)
			continue;
		if (u->comp.failed)
			failed++;
		else
			succeeded++;
	}
	char msg[256];
	if (t->comp.failed && role->min_failed >= 1 && failed == role->min_failed) {
		snprintf(msg, sizeof(msg), "FailedTaskCount %lld has reached MinFailedTaskCount %lld in the TaskRole",
		         (long long)failed, (long long)role->min_failed);
		complete_attempt(j, &t->comp, t->role, t->index, msg, now, acts);
	} else if (!t->comp.failed && role->min_succeeded >= 1 && succeeded == role->min_succeeded) {
		snprintf(msg, sizeof(msg),
		         "SucceededTaskCount %lld has reached MinSucceededTaskCount %lld in the TaskRole",
		         (long long)succeeded, (long long)role->min_succeeded);
		complete_attempt(j, &t->comp, t->role, t->index, msg, now, acts);
	} else if (j->ntasks > 0 && (size_t)j->seq == j->ntasks) {
		snprintf(msg, sizeof(msg),
		         "CompletedTaskCount %lld has reached TotalTaskCount %lld and no user specified conditions in "
		         "FrameworkAttemptCompletionPolicy have ever been triggered",
		         (long long)j->seq, (long long)j->ntasks);
		struct ctl_completion ok = { .code = CTL_CODE_SUCCEEDED, .phrase = "Succeeded" };
		complete_attempt(j, &ok, t->role, t->index, msg, now, acts);
	}
}

/* The task's attempt is over (its process gone, or it never had one). */
static void task_attempt_over(struct ctl_job *j, size_t i, int64_t now, struct ctl_actions *acts)
{
	struct ctl_task *t = &j->tasks[i];
	t->state = CTL_ATTEMPT_COMPLETED;
	t->attempt_completed_ms = now;
	t->launched = false;
	t->dirty = true;
	act(acts, CTL_ACT_RELEASE, i, t->attempt, 0);
	bool acc;
	int64_t delay;
	if (!completing(j) &&
	    ctl_should_retry(j->roles[t->role].retry, t->accountable, &t->comp, 0, 0, 0, &acc, &delay)) {
		delay = platform_backoff(&t->quick_failures, acc, delay, t->attempt_running_ms, now);
		t->retries++;
		if (acc)
			t->accountable++;
		t->attempt = t->retries;
		t->state = CTL_CREATION_PENDING;
		t->attempt_created_ms = now;
		t->attempt_running_ms = t->attempt_completed_ms = 0;
		comp_clear(&t->comp);
		t->has_comp = false;
		if (delay > 0) {
			t->retry_at_ms = now + delay;
			act(acts, CTL_ACT_WAKE, i, t->attempt, t->retry_at_ms);
		} else {
			act(acts, CTL_ACT_PLACE, i, t->attempt, 0);
		}
		return;
	}
	t->state = CTL_COMPLETED;
	t->done_seq = (int32_t)++j->seq;
	if (completing(j))
		framework_check_dead(j, now, acts);
	else
		check_policy(j, t, now, acts);
}

/* Decide the attempt's completion: kill what runs, drop what waits. */
static void complete_attempt(struct ctl_job *j, const struct ctl_completion *c, int64_t trigger_role,
                             int64_t trigger_index, const char *trigger_msg, int64_t now,
                             struct ctl_actions *acts)
{
	if (j->has_comp)
		return;
	comp_set(&j->comp, c, now);
	j->has_comp = true;
	j->trigger_role = trigger_role;
	j->trigger_index = trigger_index;
	free(j->trigger_msg);
	j->trigger_msg = trigger_msg ? strdup(trigger_msg) : NULL;
	j->state = CTL_DELETION_PENDING;
	j->transition_ms = now;
	j->dirty = true;
	struct ctl_completion kill = predefined(CTL_CODE_ATTEMPT_COMPLETION, "The job attempt is completing.");
	for (size_t i = 0; i < j->ntasks; i++) {
		struct ctl_task *t = &j->tasks[i];
		if (t->state == CTL_COMPLETED || t->state == CTL_ATTEMPT_COMPLETED)
			continue;
		if (!t->has_comp) {
			comp_set(&t->comp, &kill, now);
			t->has_comp = true;
		}
		t->dirty = true;
		if (t->state == CTL_CREATION_PENDING || (t->state == CTL_CREATION_REQUESTED && !t->launched)) {
			/* no process: complete at once */
			t->state = CTL_ATTEMPT_COMPLETED;
			t->attempt_completed_ms = now;
			act(acts, CTL_ACT_RELEASE, i, t->attempt, 0);
			t->state = CTL_COMPLETED;
			t->done_seq = (int32_t)++j->seq;
		} else if (t->state < CTL_DELETION_PENDING) {
			t->state = CTL_DELETION_PENDING;
			act(acts, CTL_ACT_KILL, i, t->attempt, 0);
		}
	}
	framework_check_dead(j, now, acts);
}

static void retry_now(struct ctl_job *j, int64_t now, struct ctl_actions *acts)
{
	j->retries++;
	j->accountable += j->pending_accountable;
	j->pending_accountable = 0;
	j->attempt = j->retries;
	new_attempt(j, now, acts);
}

/* The attempt is completing: once no task process is left, it is over. */
static void framework_check_dead(struct ctl_job *j, int64_t now, struct ctl_actions *acts)
{
	if (!(j->state >= CTL_DELETION_PENDING && j->state <= CTL_DELETING))
		return;
	for (size_t i = 0; i < j->ntasks; i++)
		if (live(j->tasks[i].state))
			return;
	j->state = CTL_ATTEMPT_COMPLETED;
	j->attempt_completed_ms = now;
	j->transition_ms = now;
	j->dirty = true;
	act(acts, CTL_ACT_ATTEMPT_DONE, 0, j->attempt, 0);
	bool acc;
	int64_t delay;
	if (ctl_should_retry(j->retry, j->accountable, &j->comp, CONFLICT_MIN_MS, CONFLICT_MAX_MS, next_rnd(j), &acc,
	                     &delay)) {
		/* the new attempt starts from ctl_timer, after the caller has saved
		 * this one's end (its history); at once unless backing off */
		j->pending_accountable = acc ? 1 : 0;
		delay = platform_backoff(&j->quick_failures, acc, delay, j->attempt_running_ms, now);
		j->retry_at_ms = now + (j->stop ? 0 : delay);
		act(acts, CTL_ACT_WAKE, 0, j->attempt, j->retry_at_ms);
		return;
	}
	j->state = CTL_COMPLETED;
	j->completed_ms = now;
	act(acts, CTL_ACT_DONE, 0, j->attempt, 0);
}

/* ---- observations -------------------------------------------------------------- */

int ctl_placed(struct ctl_job *j, size_t task, int64_t now, struct ctl_actions *acts)
{
	struct ctl_task *t = task_at(j, task, -1);
	if (!t || t->state != CTL_CREATION_PENDING || completing(j) || !j->started)
		return -1;
	(void)now;
	t->state = CTL_CREATION_REQUESTED;
	t->retry_at_ms = 0;
	t->dirty = true;
	act(acts, CTL_ACT_LAUNCH, task, t->attempt, 0);
	return 0;
}

int ctl_launched(struct ctl_job *j, size_t task, int64_t attempt, bool ok, const char *why, int64_t now,
                 struct ctl_actions *acts)
{
	struct ctl_task *t = task_at(j, task, attempt);
	if (!t || t->state != CTL_CREATION_REQUESTED)
		return -1;
	t->dirty = true;
	if (ok) {
		t->launched = true;
		t->state = CTL_PREPARING;
		return 0;
	}
	if (!t->has_comp) {
		struct ctl_completion c = predefined(CTL_CODE_CREATION_TRANSIENT, why);
		comp_set(&t->comp, &c, now);
		t->has_comp = true;
	}
	task_attempt_over(j, task, now, acts);
	return 0;
}

int ctl_started(struct ctl_job *j, size_t task, int64_t attempt, int64_t now, struct ctl_actions *acts)
{
	(void)acts;
	struct ctl_task *t = task_at(j, task, attempt);
	if (!t || !live(t->state))
		return -1;
	t->launched = true;
	if (!t->attempt_running_ms)
		t->attempt_running_ms = now;
	if (t->state < CTL_RUNNING)
		t->state = CTL_RUNNING;
	t->dirty = true;
	if (j->state == CTL_PREPARING) {
		j->state = CTL_RUNNING;
		j->attempt_running_ms = now;
		if (!j->running_ms)
			j->running_ms = now;
		j->transition_ms = now;
		j->dirty = true;
	}
	return 0;
}

int ctl_exited(struct ctl_job *j, size_t task, int64_t attempt, const struct ctl_completion *c, int64_t now,
               struct ctl_actions *acts)
{
	struct ctl_task *t = task_at(j, task, attempt);
	if (!t || !live(t->state))
		return -1;
	if (!t->has_comp) {
		comp_set(&t->comp, c, now);
		t->has_comp = true;
	}
	task_attempt_over(j, task, now, acts);
	return 0;
}

int ctl_evict(struct ctl_job *j, size_t task, const struct ctl_completion *c, int64_t now,
              struct ctl_actions *acts)
{
	struct ctl_task *t = task_at(j, task, -1);
	if (!t || t->state == CTL_COMPLETED || t->state == CTL_ATTEMPT_COMPLETED)
		return -1;
	if (!t->has_comp) {
		comp_set(&t->comp, c, now);
		t->has_comp = true;
	}
	t->dirty = true;
	if (t->state == CTL_CREATION_PENDING || (t->state == CTL_CREATION_REQUESTED && !t->launched)) {
		task_attempt_over(j, task, now, acts);
	} else if (t->state < CTL_DELETION_PENDING) {
		t->state = CTL_DELETION_PENDING;
		act(acts, CTL_ACT_KILL, task, t->attempt, 0);
	}
	return 0;
}

int ctl_kill_sent(struct ctl_job *j, size_t task, int64_t attempt)
{
	struct ctl_task *t = task_at(j, task, attempt);
	if (!t || t->state != CTL_DELETION_PENDING)
		return -1;
	t->state = CTL_DELETION_REQUESTED;
	t->dirty = true;
	return 0;
}

int ctl_stop(struct ctl_job *j, const char *why, int64_t now, struct ctl_actions *acts)
{
	if (j->state == CTL_COMPLETED)
		return -1;
	j->stop = true;
	j->dirty = true;
	if (j->state == CTL_ATTEMPT_COMPLETED) {
		/* a retry was waiting: FrameworkController skips the delay, the
		 * new attempt sees Stop and completes at once */
		if (j->retry_at_ms) {
			j->retry_at_ms = now;
			act(acts, CTL_ACT_WAKE, 0, j->attempt, now);
		}
		return 0;
	}
	if (completing(j))
		return 0;   /* already completing: the retry decision will see Stop */
	struct ctl_completion c = predefined(CTL_CODE_STOP_REQUESTED, why);
	complete_attempt(j, &c, -1, -1, NULL, now, acts);
	return 0;
}

/* Tasks backing off before their next attempt: place those due, wake for
 * the next. Returns how many were backing off. */
static int task_timers(struct ctl_job *j, int64_t now, struct ctl_actions *acts)
{
	int n = 0;
	int64_t next = 0;
	for (size_t i = 0; i < j->ntasks; i++) {
		struct ctl_task *t = &j->tasks[i];
		if (!t->retry_at_ms)
			continue;
		n++;
		if (t->state != CTL_CREATION_PENDING || completing(j) || now >= t->retry_at_ms) {
			bool place = t->state == CTL_CREATION_PENDING && !completing(j);
			t->retry_at_ms = 0;
			t->dirty = true;
			if (place)
				act(acts, CTL_ACT_PLACE, i, t->attempt, 0);
		} else if (!next || t->retry_at_ms < next) {
			next = t->retry_at_ms;
		}
	}
	if (next)
		act(acts, CTL_ACT_WAKE, 0, j->attempt, next);
	return n;
}

int ctl_timer(struct ctl_job *j, int64_t now, struct ctl_actions *acts)
{
	if (j->state != CTL_ATTEMPT_COMPLETED && j->state != CTL_COMPLETED)
		return task_timers(j, now, acts) ? 0 : -1;
	if (j->state != CTL_ATTEMPT_COMPLETED || !j->retry_at_ms)
		return -1;
	if (now < j->retry_at_ms) {
		act(acts, CTL_ACT_WAKE, 0, j->attempt, j->retry_at_ms);
		return 0;
	}
	retry_now(j, now, acts);
	return 0;
}

void ctl_resync(struct ctl_job *j, int64_t now, struct ctl_actions *acts)
{
	if (!j->started) {
		ctl_start(j, now, acts);
		return;
	}
	if (j->state < CTL_DELETION_PENDING)
		task_timers(j, now, acts);
	if (j->state >= CTL_DELETION_PENDING && j->state <= CTL_DELETING) {
		framework_check_dead(j, now, acts);
	} else if (j->state == CTL_ATTEMPT_COMPLETED && j->retry_at_ms) {
		act(acts, CTL_ACT_WAKE, 0, j->attempt, j->retry_at_ms);
	} else if ((j->state == CTL_PREPARING || j->state == CTL_RUNNING) && j->ntasks &&
	           (size_t)j->seq == j->ntasks) {
		/* every task completed but the policy's decision was not saved */
		const struct ctl_task *last = NULL;
		for (size_t i = 0; i < j->ntasks; i++)
			if (!last || j->tasks[i].done_seq > last->done_seq)
				last = &j->tasks[i];
		check_policy(j, last, now, acts);
	}
}

/* ---- what users see ------------------------------------------------------------ */

static bool stop_code(bool has_code, int code)
{
	return has_code && (code == CTL_CODE_STOP_REQUESTED || code == CTL_CODE_ATTEMPT_COMPLETION);
}

const char *ctl_pai_state(enum ctl_state s, bool has_code, int code)
{
	switch (s) {
	case CTL_CREATION_PENDING:
	case CTL_CREATION_REQUESTED:
	case CTL_PREPARING:
		return "WAITING";
	case CTL_RUNNING:
		return "RUNNING";
	case CTL_DELETION_PENDING:
	case CTL_DELETION_REQUESTED:
	case CTL_DELETING:
	case CTL_ATTEMPT_COMPLETED:
		return stop_code(has_code, code) ? "STOPPING" : "RUNNING";
	case CTL_COMPLETED:
		if (!has_code)
			return "UNKNOWN";
		return code == 0 ? "SUCCEEDED" : stop_code(true, code) ? "STOPPED" : "FAILED";
	}
	return "UNKNOWN";
}

const char *ctl_pai_attempt_state(enum ctl_state s, bool has_code, int code)
{
	if (s == CTL_ATTEMPT_COMPLETED || s == CTL_COMPLETED) {
		if (!has_code)
			return "UNKNOWN";
		return code == 0 ? "SUCCEEDED" : stop_code(true, code) ? "STOPPED" : "FAILED";
	}
	return ctl_pai_state(s, has_code, code);
}

const char *ctl_job_pai_state(const struct ctl_job *j)
{
	return ctl_pai_state(j->state, j->has_comp, j->comp.code);
}
