/* SPDX-License-Identifier: MIT */
/* test_ctl — FrameworkController's state machines: completion policy, retries, stop, eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/ctl.h"

#define T0 1000000

struct fx {
	struct ctl_role roles[2];
	struct ctl_job j;
	struct ctl_actions a;
	int64_t now;
};

static const struct ctl_policy GANG_TASK = { false, 0 };   /* OpenPAI: gang jobs never retry tasks */

static void fx_init(struct fx *f, int64_t instances, int64_t min_failed, int64_t min_succeeded,
                    struct ctl_policy task, int64_t job_retries)
{
	memset(f, 0, sizeof(*f));
	f->roles[0] = (struct ctl_role){ "worker", instances, min_failed, min_succeeded, task };
	assert_int_equal(ctl_job_init(&f->j, f->roles, 1, (struct ctl_policy){ true, (int32_t)job_retries }, NULL), 0);
	f->j.rng = 42;
	ctl_actions_init(&f->a);
	f->now = T0;
}

static void fx_fini(struct fx *f)
{
	ctl_job_fini(&f->j);
	ctl_actions_fini(&f->a);
}

static size_t count(const struct fx *f, enum ctl_act_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < f->a.n; i++)
		n += f->a.v[i].type == t;
	return n;
}

static const struct ctl_action *find(const struct fx *f, enum ctl_act_type t)
{
	for (size_t i = 0; i < f->a.n; i++)
		if (f->a.v[i].type == t)
			return &f->a.v[i];
	return NULL;
}

static struct ctl_completion exit_code(int code)
{
	struct ctl_completion c = { .code = code, .failed = code != 0, .phrase = code ? "PAIRuntimeUnknownFailed" : "Succeeded" };
	return c;
}

/* start, place and run every task of the current attempt */
static void run_all(struct fx *f)
{
	for (size_t i = 0; i < f->j.ntasks; i++) {
		if (f->j.tasks[i].state != CTL_CREATION_PENDING)
			continue;
		assert_int_equal(ctl_placed(&f->j, i, f->now, &f->a), 0);
		assert_int_equal(ctl_launched(&f->j, i, f->j.tasks[i].attempt, true, NULL, f->now, &f->a), 0);
		assert_int_equal(ctl_started(&f->j, i, f->j.tasks[i].attempt, ++f->now, &f->a), 0);
	}
}

static void exit_task(struct fx *f, size_t i, int code)
{
	struct ctl_completion c = exit_code(code);
	assert_int_equal(ctl_exited(&f->j, i, f->j.tasks[i].attempt, &c, ++f->now, &f->a), 0);
}

/* deliver due WAKEs as the control loop does */
static void wake(struct fx *f)
{
	for (size_t i = 0; i < f->a.n; i++)
		if (f->a.v[i].type == CTL_ACT_WAKE && f->a.v[i].at_ms <= f->now) {
			f->a.v[i].type = CTL_ACT_DONE + 100;   /* consumed */
			ctl_timer(&f->j, f->now, &f->a);
		}
}

static void test_success(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 0);
	assert_string_equal(ctl_job_pai_state(&f.j), "WAITING");
	assert_int_equal(ctl_start(&f.j, f.now, &f.a), 0);
	assert_int_equal(ctl_start(&f.j, f.now, &f.a), -1);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 1);
	assert_string_equal(ctl_state_name(f.j.state), "AttemptPreparing");
	assert_string_equal(ctl_job_pai_state(&f.j), "WAITING");
	assert_int_equal(ctl_placed(&f.j, 0, f.now, &f.a), 0);
	assert_int_equal(count(&f, CTL_ACT_LAUNCH), 1);
	assert_int_equal(f.j.tasks[0].state, CTL_CREATION_REQUESTED);
	assert_int_equal(ctl_launched(&f.j, 0, 0, true, NULL, f.now, &f.a), 0);
	assert_int_equal(f.j.tasks[0].state, CTL_PREPARING);
	assert_int_equal(ctl_started(&f.j, 0, 0, f.now + 3, &f.a), 0);
	assert_string_equal(ctl_job_pai_state(&f.j), "RUNNING");
	assert_int_equal(f.j.running_ms, f.now + 3);
	f.now += 10;
	exit_task(&f, 0, 0);
	assert_int_equal(f.j.state, CTL_COMPLETED);
	assert_string_equal(ctl_job_pai_state(&f.j), "SUCCEEDED");
	assert_int_equal(f.j.comp.code, 0);
	assert_int_equal(f.j.trigger_role, 0);
	assert_non_null(strstr(f.j.trigger_msg, "SucceededTaskCount 1 has reached MinSucceededTaskCount 1"));
	assert_int_equal(count(&f, CTL_ACT_RELEASE), 1);
	assert_int_equal(count(&f, CTL_ACT_ATTEMPT_DONE), 1);
	assert_int_equal(count(&f, CTL_ACT_DONE), 1);
	assert_int_equal(f.j.retries, 0);
	fx_fini(&f);
}

static void test_job_retries_unknown(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 2);
	ctl_start(&f.j, f.now, &f.a);
	for (int attempt = 0; attempt < 3; attempt++) {
		assert_int_equal(f.j.attempt, attempt);
		run_all(&f);
		exit_task(&f, 0, 255);
		if (attempt < 2) {
			assert_int_equal(f.j.state, CTL_ATTEMPT_COMPLETED);
			/* between attempts OpenPAI shows RUNNING */
			assert_string_equal(ctl_job_pai_state(&f.j), "RUNNING");
			wake(&f);
			assert_int_equal(f.j.state, CTL_PREPARING);
			assert_int_equal(f.j.tasks[0].state, CTL_CREATION_PENDING);
		}
	}
	assert_int_equal(f.j.state, CTL_COMPLETED);
	assert_string_equal(ctl_job_pai_state(&f.j), "FAILED");
	assert_int_equal(f.j.retries, 2);
	assert_int_equal(f.j.accountable, 2);
	assert_int_equal(f.j.comp.code, 255);
	assert_int_equal(count(&f, CTL_ACT_ATTEMPT), 3);
	fx_fini(&f);
}

static void test_transient_unlimited(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	for (int i = 0; i < 5; i++) {
		run_all(&f);
		f.now += CTL_QUICK_MS;   /* each ran a while: no platform back-off (test_platform_backoff) */
		struct ctl_completion c = { .code = 137, .failed = true, .attrs = CTL_TRANSIENT, .phrase = "SigKill" };
		assert_int_equal(ctl_exited(&f.j, 0, f.j.tasks[0].attempt, &c, ++f.now, &f.a), 0);
		wake(&f);
	}
	assert_int_equal(f.j.retries, 5);
	assert_int_equal(f.j.accountable, 0);
	assert_int_equal(f.j.attempt, 5);
	assert_string_equal(ctl_job_pai_state(&f.j), "WAITING");
	fx_fini(&f);
}

static void test_permanent_never(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 5);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	struct ctl_completion c = { .code = 220, .failed = true, .attrs = CTL_PERMANENT, .phrase = "UserCommandExitWithError" };
	ctl_exited(&f.j, 0, 0, &c, ++f.now, &f.a);
	assert_int_equal(f.j.state, CTL_COMPLETED);
	assert_string_equal(ctl_job_pai_state(&f.j), "FAILED");
	assert_int_equal(f.j.retries, 0);
	fx_fini(&f);
}

static void test_conflict_backoff(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	struct ctl_completion c = { .code = 251, .failed = true, .attrs = CTL_TRANSIENT | CTL_CONFLICT,
	                            .phrase = "JobGangAllocationTimeout" };
	ctl_exited(&f.j, 0, 0, &c, ++f.now, &f.a);
	const struct ctl_action *w = find(&f, CTL_ACT_WAKE);
	assert_non_null(w);
	assert_true(w->at_ms >= f.now + 60000 && w->at_ms <= f.now + 900000);
	int64_t at = w->at_ms;
	f.a.n = 0;
	assert_int_equal(ctl_timer(&f.j, at - 1, &f.a), 0);
	assert_int_equal(f.j.state, CTL_ATTEMPT_COMPLETED);
	assert_int_equal(count(&f, CTL_ACT_WAKE), 1);
	assert_int_equal(ctl_timer(&f.j, at, &f.a), 0);
	assert_int_equal(f.j.attempt, 1);
	assert_int_equal(f.j.accountable, 0);
	fx_fini(&f);
}

static void test_backoff_ms(void **state)
{
	(void)state;
	const int64_t want[] = { 0, 0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000 };
	for (int32_t n = 0; n < (int32_t)(sizeof(want) / sizeof(want[0])); n++)
		assert_int_equal(ctl_backoff_ms(n), want[n]);
	assert_int_equal(ctl_backoff_ms(INT32_MAX), CTL_BACKOFF_MAX_MS);
}

static const struct ctl_action *last(const struct fx *f, enum ctl_act_type t)
{
	for (size_t i = f->a.n; i-- > 0;)
		if (f->a.v[i].type == t)
			return &f->a.v[i];
	return NULL;
}

/* Transient failures soon after starting, again and again: the first retry
 * at once (as FrameworkController), then 1 s, 2 s, 4 s ...; one attempt that
 * ran a while, or a counted failure, starts the count again. */
static void test_platform_backoff(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 3);
	ctl_start(&f.j, f.now, &f.a);
	struct ctl_completion lost = { .code = CTL_CODE_EXTERNAL_DELETED, .failed = true, .attrs = CTL_TRANSIENT,
	                               .phrase = "PodExternalDeleted" };
	for (int k = 1; k <= 5; k++) {
		run_all(&f);
		f.now += 100;
		f.a.n = 0;
		assert_int_equal(ctl_exited(&f.j, 0, f.j.tasks[0].attempt, &lost, ++f.now, &f.a), 0);
		assert_int_equal(f.j.state, CTL_ATTEMPT_COMPLETED);
		assert_int_equal(f.j.quick_failures, k);
		const struct ctl_action *w = last(&f, CTL_ACT_WAKE);
		assert_non_null(w);
		assert_int_equal(w->at_ms - f.now, ctl_backoff_ms(k));
		assert_int_equal(f.j.retry_at_ms, w->at_ms);
		if (w->at_ms > f.now) {   /* not before its time */
			int64_t at = w->at_ms;
			f.a.n = 0;
			assert_int_equal(ctl_timer(&f.j, at - 1, &f.a), 0);
			assert_int_equal(f.j.attempt, k - 1);
			f.now = at;
		}
		wake(&f);
		assert_int_equal(f.j.attempt, k);
		assert_int_equal(f.j.accountable, 0);
	}
	/* an attempt that ran for a minute: at once again, the count restarts */
	run_all(&f);
	f.now += CTL_QUICK_MS;
	f.a.n = 0;
	assert_int_equal(ctl_exited(&f.j, 0, f.j.tasks[0].attempt, &lost, ++f.now, &f.a), 0);
	assert_int_equal(f.j.quick_failures, 1);
	assert_int_equal(last(&f, CTL_ACT_WAKE)->at_ms, f.now);
	wake(&f);
	run_all(&f);
	f.a.n = 0;
	assert_int_equal(ctl_exited(&f.j, 0, f.j.tasks[0].attempt, &lost, ++f.now, &f.a), 0);
	assert_int_equal(f.j.quick_failures, 2);
	assert_int_equal(last(&f, CTL_ACT_WAKE)->at_ms, f.now + 1000);
	f.now += 1000;
	wake(&f);
	/* a counted failure: no back-off, and the count restarts */
	run_all(&f);
	f.a.n = 0;
	exit_task(&f, 0, 1);
	assert_int_equal(f.j.pending_accountable, 1);
	assert_int_equal(f.j.quick_failures, 0);
	assert_int_equal(last(&f, CTL_ACT_WAKE)->at_ms, f.now);
	wake(&f);
	assert_int_equal(f.j.accountable, 1);
	assert_int_equal(f.j.attempt, 8);
	fx_fini(&f);
}

/* gangAllocation: false: the same back-off per task, through its own timer;
 * a stop ends the wait without placing the task. */
static void test_task_backoff(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 2, 2, 2, (struct ctl_policy){ true, 5 }, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	struct ctl_completion kill = { .code = 137, .failed = true, .attrs = CTL_TRANSIENT, .phrase = "SigKill" };
	f.a.n = 0;
	assert_int_equal(ctl_exited(&f.j, 0, 0, &kill, ++f.now, &f.a), 0);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 1);   /* the first: at once */
	assert_int_equal(f.j.tasks[0].retry_at_ms, 0);
	run_all(&f);
	f.a.n = 0;
	assert_int_equal(ctl_exited(&f.j, 0, 1, &kill, ++f.now, &f.a), 0);
	assert_int_equal(f.j.tasks[0].state, CTL_CREATION_PENDING);
	assert_int_equal(f.j.tasks[0].attempt, 2);
	assert_int_equal(f.j.tasks[0].quick_failures, 2);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 0);
	const struct ctl_action *w = last(&f, CTL_ACT_WAKE);
	assert_non_null(w);
	int64_t at = f.now + 1000;
	assert_int_equal(w->at_ms, at);
	assert_int_equal(f.j.tasks[0].retry_at_ms, at);
	/* resync after a restart: still waiting */
	f.a.n = 0;
	ctl_resync(&f.j, at - 500, &f.a);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 0);
	assert_int_equal(last(&f, CTL_ACT_WAKE)->at_ms, at);
	f.a.n = 0;
	assert_int_equal(ctl_timer(&f.j, at - 1, &f.a), 0);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 0);
	f.a.n = 0;
	assert_int_equal(ctl_timer(&f.j, at, &f.a), 0);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 1);
	assert_int_equal(f.j.tasks[0].retry_at_ms, 0);
	assert_int_equal(ctl_timer(&f.j, at, &f.a), -1);   /* nothing left to wake for */
	/* fails again: 2 s; a stop during the wait places nothing */
	f.now = at;
	run_all(&f);
	f.a.n = 0;
	assert_int_equal(ctl_exited(&f.j, 0, 2, &kill, ++f.now, &f.a), 0);
	assert_int_equal(f.j.tasks[0].retry_at_ms, f.now + 2000);
	assert_int_equal(ctl_stop(&f.j, "stopped by a test", f.now, &f.a), 0);
	f.now += 2000;
	f.a.n = 0;
	ctl_timer(&f.j, f.now, &f.a);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 0);
	assert_int_equal(count(&f, CTL_ACT_LAUNCH), 0);
	exit_task(&f, 1, 143);
	assert_int_equal(f.j.state, CTL_COMPLETED);
	assert_string_equal(ctl_job_pai_state(&f.j), "STOPPED");
	fx_fini(&f);
}

/* 3 instances, minFailedInstances 2: the second failure ends the attempt
 * with its code; the third task is killed with -220. */
static void test_min_failed(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 3, 2, 3, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	exit_task(&f, 0, 3);
	assert_int_equal(f.j.state, CTL_RUNNING);
	f.a.n = 0;
	exit_task(&f, 1, 4);
	assert_int_equal(f.j.state, CTL_DELETION_PENDING);
	assert_int_equal(f.j.comp.code, 4);
	assert_int_equal(f.j.trigger_index, 1);
	assert_string_equal(f.j.trigger_msg, "FailedTaskCount 2 has reached MinFailedTaskCount 2 in the TaskRole");
	assert_int_equal(count(&f, CTL_ACT_KILL), 1);
	assert_int_equal(find(&f, CTL_ACT_KILL)->task, 2);
	assert_int_equal(f.j.tasks[2].comp.code, CTL_CODE_ATTEMPT_COMPLETION);
	assert_int_equal(ctl_kill_sent(&f.j, 2, 0), 0);
	assert_int_equal(f.j.tasks[2].state, CTL_DELETION_REQUESTED);
	exit_task(&f, 2, 143);   /* keeps -220: first writer wins */
	assert_int_equal(f.j.tasks[2].comp.code, CTL_CODE_ATTEMPT_COMPLETION);
	assert_int_equal(f.j.state, CTL_COMPLETED);
	assert_string_equal(ctl_job_pai_state(&f.j), "FAILED");
	assert_int_equal(f.j.comp.code, 4);
	fx_fini(&f);
}

static void test_min_succeeded(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 3, 1, 1, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	f.a.n = 0;
	exit_task(&f, 1, 0);
	assert_int_equal(f.j.state, CTL_DELETION_PENDING);
	assert_int_equal(count(&f, CTL_ACT_KILL), 2);
	/* a stop-like completion shows as RUNNING until the tasks are gone */
	assert_string_equal(ctl_job_pai_state(&f.j), "RUNNING");
	exit_task(&f, 0, 143);
	exit_task(&f, 2, 143);
	assert_string_equal(ctl_job_pai_state(&f.j), "SUCCEEDED");
	fx_fini(&f);
}

/* minFailed 3 of 3: one failure, two successes (minSucceeded 3 not
 * reached): every task completed → Succeeded. */
static void test_all_completed(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 3, 3, 3, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	exit_task(&f, 0, 1);
	exit_task(&f, 1, 0);
	assert_int_equal(f.j.state, CTL_RUNNING);
	exit_task(&f, 2, 0);
	assert_string_equal(ctl_job_pai_state(&f.j), "SUCCEEDED");
	assert_non_null(strstr(f.j.trigger_msg, "CompletedTaskCount 3 has reached TotalTaskCount 3"));
	fx_fini(&f);
}

static void test_task_retries(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 2, 1, 2, (struct ctl_policy){ true, 2 }, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	for (int k = 0; k < 2; k++) {
		f.a.n = 0;
		exit_task(&f, 0, 1);
		assert_int_equal(f.j.tasks[0].state, CTL_CREATION_PENDING);
		assert_int_equal(f.j.tasks[0].attempt, k + 1);
		assert_int_equal(f.j.tasks[0].retries, k + 1);
		assert_int_equal(count(&f, CTL_ACT_RELEASE), 1);
		assert_int_equal(count(&f, CTL_ACT_PLACE), 1);
		assert_int_equal(f.j.state, CTL_RUNNING);
		/* an exit for the old attempt is ignored */
		struct ctl_completion c = exit_code(9);
		assert_int_equal(ctl_exited(&f.j, 0, k, &c, f.now, &f.a), -1);
		run_all(&f);
	}
	exit_task(&f, 0, 1);
	assert_int_equal(f.j.tasks[0].state, CTL_COMPLETED);
	assert_int_equal(f.j.tasks[0].retries, 2);
	assert_int_equal(f.j.state, CTL_DELETION_PENDING);
	exit_task(&f, 1, 143);
	assert_string_equal(ctl_job_pai_state(&f.j), "FAILED");
	assert_int_equal(f.j.comp.code, 1);
	fx_fini(&f);
}

static void test_stop_waiting(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 2, 1, 2, GANG_TASK, 3);
	ctl_start(&f.j, f.now, &f.a);
	f.a.n = 0;
	assert_int_equal(ctl_stop(&f.j, "stopped by alice", ++f.now, &f.a), 0);
	assert_int_equal(count(&f, CTL_ACT_KILL), 0);
	assert_int_equal(count(&f, CTL_ACT_RELEASE), 2);
	assert_int_equal(f.j.state, CTL_COMPLETED);
	assert_string_equal(ctl_job_pai_state(&f.j), "STOPPED");
	assert_int_equal(f.j.comp.code, CTL_CODE_STOP_REQUESTED);
	assert_string_equal(f.j.comp.diag, "stopped by alice");
	assert_int_equal(ctl_stop(&f.j, "again", f.now, &f.a), -1);
	fx_fini(&f);
}

static void test_stop_running(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 2, 1, 2, GANG_TASK, 3);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	f.a.n = 0;
	ctl_stop(&f.j, "stop", ++f.now, &f.a);
	assert_int_equal(count(&f, CTL_ACT_KILL), 2);
	assert_string_equal(ctl_job_pai_state(&f.j), "STOPPING");
	exit_task(&f, 0, 143);
	assert_string_equal(ctl_job_pai_state(&f.j), "STOPPING");
	exit_task(&f, 1, 143);
	assert_string_equal(ctl_job_pai_state(&f.j), "STOPPED");
	assert_int_equal(f.j.retries, 0);
	fx_fini(&f);
}

static void test_stop_during_backoff(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	struct ctl_completion c = { .code = 251, .failed = true, .attrs = CTL_TRANSIENT | CTL_CONFLICT, .phrase = "x" };
	ctl_exited(&f.j, 0, 0, &c, ++f.now, &f.a);
	assert_int_equal(f.j.state, CTL_ATTEMPT_COMPLETED);
	f.a.n = 0;
	ctl_stop(&f.j, "stop", ++f.now, &f.a);
	wake(&f);   /* FrameworkController skips the delay: a new attempt sees Stop */
	assert_int_equal(f.j.state, CTL_COMPLETED);
	assert_string_equal(ctl_job_pai_state(&f.j), "STOPPED");
	assert_int_equal(f.j.retries, 1);
	fx_fini(&f);
}

static void test_launch_failure(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 1, 1, 1, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	ctl_placed(&f.j, 0, f.now, &f.a);
	assert_int_equal(ctl_launched(&f.j, 0, 0, false, "fork: out of memory", ++f.now, &f.a), 0);
	assert_int_equal(f.j.state, CTL_ATTEMPT_COMPLETED);
	assert_int_equal(f.j.comp.code, CTL_CODE_CREATION_TRANSIENT);
	assert_string_equal(f.j.comp.diag, "fork: out of memory");
	wake(&f);
	assert_int_equal(f.j.attempt, 1);
	assert_int_equal(f.j.accountable, 0);
	fx_fini(&f);
}

static void test_evict(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 2, 1, 2, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	f.a.n = 0;
	struct ctl_completion c = { .code = CTL_CODE_EXTERNAL_DELETED, .failed = true, .attrs = CTL_TRANSIENT,
	                            .phrase = "PodExternalDeleted", .diag = "Preempted by bob~big" };
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(ctl_evict(&f.j, i, &c, f.now, &f.a), 0);
	assert_int_equal(count(&f, CTL_ACT_KILL), 2);
	exit_task(&f, 0, 143);
	exit_task(&f, 1, 143);
	assert_int_equal(f.j.state, CTL_ATTEMPT_COMPLETED);
	assert_int_equal(f.j.comp.code, CTL_CODE_EXTERNAL_DELETED);
	assert_string_equal(f.j.comp.diag, "Preempted by bob~big");
	wake(&f);
	assert_int_equal(f.j.attempt, 1);
	assert_int_equal(f.j.accountable, 0);
	assert_int_equal(count(&f, CTL_ACT_PLACE), 2);
	fx_fini(&f);
}

static void test_should_retry(void **state)
{
	(void)state;
	bool acc;
	int64_t d;
	struct ctl_completion stop = { .code = -210, .failed = true, .attrs = CTL_PERMANENT };
	struct ctl_completion ok = { .code = 0 };
	struct ctl_completion unk = { .code = 255, .failed = true };
	struct ctl_completion tr = { .code = 137, .failed = true, .attrs = CTL_TRANSIENT };
	assert_false(ctl_should_retry((struct ctl_policy){ true, -2 }, 0, &stop, 0, 0, 0, &acc, &d));
	assert_true(ctl_should_retry((struct ctl_policy){ false, -2 }, 0, &ok, 0, 0, 0, &acc, &d));
	assert_false(ctl_should_retry((struct ctl_policy){ true, 5 }, 0, &ok, 0, 0, 0, &acc, &d));
	assert_true(ctl_should_retry((struct ctl_policy){ false, -1 }, 100, &unk, 0, 0, 0, &acc, &d));
	assert_true(ctl_should_retry((struct ctl_policy){ false, 2 }, 1, &unk, 0, 0, 0, &acc, &d));
	assert_true(acc);
	assert_false(ctl_should_retry((struct ctl_policy){ false, 2 }, 2, &unk, 0, 0, 0, &acc, &d));
	/* without fancy, a transient failure counts like any other */
	assert_false(ctl_should_retry((struct ctl_policy){ false, 0 }, 0, &tr, 0, 0, 0, &acc, &d));
	assert_true(ctl_should_retry((struct ctl_policy){ true, 0 }, 0, &tr, 0, 0, 0, &acc, &d));
	assert_false(acc);
	assert_int_equal(d, 0);
}

static void test_pai_states(void **state)
{
	(void)state;
	assert_string_equal(ctl_pai_state(CTL_CREATION_PENDING, false, 0), "WAITING");
	assert_string_equal(ctl_pai_state(CTL_PREPARING, false, 0), "WAITING");
	assert_string_equal(ctl_pai_state(CTL_RUNNING, false, 0), "RUNNING");
	assert_string_equal(ctl_pai_state(CTL_DELETION_PENDING, true, -210), "STOPPING");
	assert_string_equal(ctl_pai_state(CTL_DELETION_PENDING, true, 1), "RUNNING");
	assert_string_equal(ctl_pai_state(CTL_COMPLETED, true, 0), "SUCCEEDED");
	assert_string_equal(ctl_pai_state(CTL_COMPLETED, true, -220), "STOPPED");
	assert_string_equal(ctl_pai_state(CTL_COMPLETED, true, -1200), "FAILED");
	assert_string_equal(ctl_pai_attempt_state(CTL_ATTEMPT_COMPLETED, true, 0), "SUCCEEDED");
	assert_string_equal(ctl_pai_attempt_state(CTL_ATTEMPT_COMPLETED, true, 3), "FAILED");
	for (int s = CTL_CREATION_PENDING; s <= CTL_COMPLETED; s++)
		assert_int_equal(ctl_state_parse(ctl_state_name((enum ctl_state)s)), s);
	assert_int_equal(ctl_state_parse("nope"), -1);
}

/* A 500-task gang: completion stays linear enough (no quadratic blowup in practice). */
static void test_large(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 500, 1, 500, GANG_TASK, 0);
	ctl_start(&f.j, f.now, &f.a);
	run_all(&f);
	for (size_t i = 0; i < 500; i++)
		exit_task(&f, i, 0);
	assert_string_equal(ctl_job_pai_state(&f.j), "SUCCEEDED");
	assert_false(f.a.nomem);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_job_retries_unknown),
		cmocka_unit_test(test_transient_unlimited),
		cmocka_unit_test(test_permanent_never),
		cmocka_unit_test(test_conflict_backoff),
		cmocka_unit_test(test_backoff_ms),
		cmocka_unit_test(test_platform_backoff),
		cmocka_unit_test(test_task_backoff),
		cmocka_unit_test(test_min_failed),
		cmocka_unit_test(test_min_succeeded),
		cmocka_unit_test(test_all_completed),
		cmocka_unit_test(test_task_retries),
		cmocka_unit_test(test_stop_waiting),
		cmocka_unit_test(test_stop_running),
		cmocka_unit_test(test_stop_during_backoff),
		cmocka_unit_test(test_launch_failure),
		cmocka_unit_test(test_evict),
		cmocka_unit_test(test_should_retry),
		cmocka_unit_test(test_pai_states),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
