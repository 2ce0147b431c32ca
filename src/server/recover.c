/* SPDX-License-Identifier: MIT */
/*
 * recover.c — rebuild the loop's state from the store: at start (after a
 * crash or not) and after a failed commit.
 *
 * DESIGN
 * ------
 * The store holds every decision; the executor's supervisors hold what
 * happened to the processes. Recovery joins the two: each job not yet
 * final gets its scheduler placements back (work-preserving: running tasks
 * keep their cells and GPUs), and each task the store says was launched is
 * looked up through its supervisor:
 *
 *   still running            adopted (its exit will be reported as usual)
 *   exited while we were away the exit is recorded, the state machine goes on
 *   never spawned            the saved launch decision is carried out now
 *   supervisor lost          the task failed (transient, -101) and is retried
 *
 * No task is launched twice: a launch is carried out only when no
 * supervisor ever ran in the task attempt's directory. Runs inside the
 * caller's transaction; side effects wait for its commit like any other.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "server/bind.h"
#include "server/loop_internal.h"

static void forget_all(struct loop *l)
{
	while (l->first) {
		struct job *j = l->first;
		for (size_t g = 0; g < j->ngrps; g++)
			if (j->grps[g].placed || j->grps[g].wanted)
				sched_group_release(l->sched, grp_name(l, j, &j->grps[g]), NULL);
		job_unlink(l, j);
	}
	l->npending = 0;
	l->nposts = 0;
	l->acts.n = 0;
	l->acts.nomem = false;
}

static bool task_live(enum ctl_state s)
{
	return s >= CTL_CREATION_REQUESTED && s <= CTL_DELETING;
}

/* Restore a group's cells from its placement row: only its live pods keep them. */
static int restore_group(struct loop *l, struct job *j, struct grp *g, const struct store_placement *p,
                         struct arena *a, char *lost, size_t lostlen, struct gerr *err)
{
	struct gerr e;
	struct sched_bind_info *b = bind_from_json(a, p->bind);
	struct sched_request req;
	request_of(l, j, g, SCHED_PHASE_PREEMPT, &req);
	size_t live = 0;
	for (size_t k = 0; k < g->npods; k++)
		live += task_live(j->ctl.tasks[g->pod_task[k]].state);
	/* the pods' names in the placement's order, as saved */
	const char **names = arena_zalloc(a, (g->npods ? g->npods : 1) * sizeof(*names));
	json_error_t je;
	json_t *o = json_loads(p->bind, 0, &je);
	json_t *pn = json_object_get(o, "podNames");
	bool named = names && json_array_size(pn) == g->npods;
	for (size_t k = 0; named && k < g->npods; k++)
		named = (names[k] = arena_strdup(a, json_string_value(json_array_get(pn, k)) ?: "")) != NULL;
	json_decref(o);
	if (!live || !b || !named || sched_group_commit(l->sched, &req, b, names, p->placed_ms, &e) != 0) {
		/* its tasks hold cells the scheduler would now give to others: the
		 * caller stops the job (snprintf: e.msg is always a string) */
		if (live)
			snprintf(lost, lostlen, "the cells of %s are not valid any more (%s)", req.group,
			         b && named ? e.msg : "its placement is unreadable");
		return store_placement_delete(l->db, j->id, req.group, err);
	}
	count_job(l, j, -1);   /* linked (and counted) while it looked unplaced */
	g->placed = true;
	g->live = live;
	count_job(l, j, +1);
	for (size_t k = 0; k < g->npods; k++)
		if (!task_live(j->ctl.tasks[g->pod_task[k]].state))
			sched_pod_delete(l->sched, req.group, pod_name(l, j, g->pod_task[k]), NULL);
	return 0;
}

/* Ask the executor about each task the store says was launched. */
static int adopt_tasks(struct loop *l, struct job *j, int64_t now, struct arena *a, struct gerr *err)
{
	for (uint32_t t = 0; t < j->ctl.ntasks; t++) {
		struct ctl_task *ct = &j->ctl.tasks[t];
		struct rtask *r = j->rt ? &j->rt[t] : NULL;
		if (!task_live(ct->state) || !r || !r->uid[0])
			continue;
		const char *role = j->ctl.roles[ct->role].name;
		char *dir = rt_attempt_dir(a, l->data_dir, j->user, j->name, j->ctl.attempt, role, ct->index, ct->attempt);
		struct exec_exit ex;
		struct gerr e;
		memset(&ex, 0, sizeof(ex));
		int res = dir ? exec_adopt(l->exec, r->uid, dir, &ex, &e) : GERR_NOMEM;
		struct cmd c;
		memset(&c, 0, sizeof(c));
		snprintf(c.uid, sizeof(c.uid), "%s", r->uid);
		int rc = 0;
		switch (res) {
		case EXEC_ADOPTED:
			if (ct->state == CTL_CREATION_REQUESTED || ct->state == CTL_PREPARING) {
				ct->launched = true;
				ct->dirty = true;
				ctl_started(&j->ctl, t, ct->attempt, now, &l->acts);
				rc = run_apply(l, j, now, err);
			} else if (ct->state == CTL_DELETION_PENDING || ct->state == CTL_DELETION_REQUESTED) {
				post_add(l, POST_KILL, j, t, ct->attempt);   /* the kill may not have been sent */
			}
			break;
		case EXEC_NEVER_STARTED:
			if (ct->state == CTL_CREATION_REQUESTED) {
				post_add(l, POST_LAUNCH, j, t, ct->attempt);
				break;
			}
			ex.lost = true;
			snprintf(ex.message, sizeof(ex.message), "no supervisor ever ran for this task attempt");
			/* fall through */
		case EXEC_EXITED:
		case EXEC_LOST: {
			/* an exit recorded while the server was away happened then,
			 * not now: the task's and the job's completion times say so */
			int64_t at = ex.finished_ms > 0 && ex.finished_ms < now ? ex.finished_ms : now;
			if (at < ct->attempt_running_ms)
				at = ct->attempt_running_ms;
			if (at < ct->attempt_created_ms)
				at = ct->attempt_created_ms;
			c.type = CMD_EXITED;
			c.exit = ex;
			rc = run_observe(l, &c, at, err);
			break;
		}
		default:
			log_warn("recover: task %s-%lld of %s: %s", role, (long long)ct->index, j->key,
			         res == GERR_NOMEM ? "out of memory" : e.msg);
			c.type = CMD_EXITED;
			c.exit.lost = true;
			snprintf(c.exit.message, sizeof(c.exit.message), "its supervisor could not be found");
			rc = run_observe(l, &c, now, err);
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The cluster file changed under a job it admitted (a smaller virtual
 * cluster, a SKU gone), or the cells its tasks hold are no longer valid: the
 * scheduler does not count them, so the tasks must not keep running on cells
 * another job may get. HiveD would keep such a job as an opportunistic one;
 * we stop it, and say why.
 */
static int stop_stale(struct loop *l, struct job *j, const char *why, int64_t now, struct gerr *err)
{
	char msg[900];
	int n = (int)strlen(why);
	if (n > 0 && why[n - 1] == '.')   /* the reason may end its own sentence */
		n--;
	snprintf(msg, sizeof(msg), "The cluster file changed and no longer admits this job: %.*s. It is stopped "
	         "(its tasks are killed at once: their cells may go to other jobs).", n, why);
	log_warn("recover: job %s: %s", j->key, msg);
	j->kill_now = true;   /* the scheduler no longer counts its cells: no grace period */
	int rc = event(l, j, now, "Warning", "ClusterChanged", msg, err);
	if (!rc && ctl_stop(&j->ctl, msg, now, &l->acts) == 0)
		rc = run_apply(l, j, now, err);
	return rc;
}

static int recover_job(struct loop *l, const struct store_job *row, struct spec_job *sj, int64_t now,
                       struct arena *a, struct gerr *err)
{
	const char *text = NULL;
	struct gerr e = { 0 };
	struct job *j = NULL;
	char stale[700] = "";   /* why the cluster (its file changed) no longer admits the job */
	/* a job the changed file refuses may be running: it is taken up all the
	 * same, so that its tasks are stopped rather than left running on cells
	 * given to others */
	if (store_job_spec(l->db, row->id, a, &text, &e) == 0 &&
	    load_admitted(l, sj, text, row->username, stale, sizeof(stale)) == 0)
		j = job_from_spec(l, sj, row->username, row->id, &e);
	if (!j) {
		log_warn("recover: job %s~%s can no longer run: %s", row->username, row->name,
		         stale[0] ? stale : sj->ndiags ? sj->diags[0].msg : e.msg);
		return 0;
	}
	job_link(l, j);
	struct store_placement *ps;
	size_t np = 0;
	int rc = store_placement_list(l->db, j->id, a, &ps, &np, err);
	if (rc)
		return rc;
	bool fresh = !row->status || status_job_load(j, row->status) != 0 || !j->ctl.started;
	if (fresh) {
		/* submitted before this version ran jobs: start it now */
		if ((rc = store_placement_delete(l->db, j->id, NULL, err)))
			return rc;
		j->ctl.rng = (uint64_t)j->id * 0x9E3779B97F4A7C15ull ^ (uint64_t)now;
		ctl_start(&j->ctl, now, &l->acts);
		rc = run_apply(l, j, now, err);
		return rc || !stale[0] ? rc : stop_stale(l, j, stale, now, err);
	}
	struct store_task *ts;
	size_t nt = 0;
	if ((rc = store_task_list(l->db, j->id, j->ctl.attempt, a, &ts, &nt, err)))
		return rc;
	bool running = np > 0;
	for (size_t i = 0; i < nt; i++)
		if (!strstr(ts[i].status, "\"AttemptCreationPending\""))
			running = true;
	if (running && (rc = ensure_run_state(l, j, err)))
		return rc;
	for (size_t i = 0; i < j->ctl.ntasks; i++)   /* rows missing: waiting */
		j->ctl.tasks[i] = (struct ctl_task){ .role = j->ctl.tasks[i].role, .index = j->ctl.tasks[i].index,
		                                     .state = CTL_CREATION_PENDING, .attempt_created_ms = now,
		                                     .created_ms = now };
	for (size_t i = 0; i < nt; i++)
		if (ts[i].pos < 0 || (size_t)ts[i].pos >= j->ctl.ntasks || status_task_load(j, (uint32_t)ts[i].pos, ts[i].status))
			log_warn("recover: job %s: task row %lld is unreadable; it waits again", j->key, (long long)ts[i].pos);
	for (uint32_t t = 0; j->rt && t < j->ctl.ntasks; t++)
		if (j->rt[t].uid[0] && task_live(j->ctl.tasks[t].state)) {
			hmap_put(&l->by_uid, j->rt[t].uid, j);
			for (size_t k = 0; k < j->rt[t].nports; k++)
				rt_ports_hold(l->ports, j->rt[t].uid, j->rt[t].ports[k].ports, j->rt[t].ports[k].n);
		}
	/* a job the new file refuses gets no cells back; one whose cells are
	 * refused (restore_group) keeps those that were restored until it stops */
	bool refused = stale[0] != 0;
	if (refused && np && (rc = store_placement_delete(l->db, j->id, NULL, err)))
		return rc;
	for (size_t p = 0; p < np && !refused; p++)
		for (size_t g = 0; g < j->ngrps; g++)
			if (!strcmp(grp_name(l, j, &j->grps[g]) ?: "", ps[p].group) &&
			    (rc = restore_group(l, j, &j->grps[g], &ps[p], a, stale, sizeof(stale), err)))
				return rc;
	/* gangs whose tasks wait for cells (a stale job waits for nothing) */
	if (j->ctl.state < CTL_DELETION_PENDING && !stale[0])
		for (uint32_t t = 0; t < j->ctl.ntasks; t++)
			if (j->ctl.tasks[t].state == CTL_CREATION_PENDING && j->ctl.tasks[t].retry_at_ms <= now &&
			    !grp_of(j, t)->placed) {
				grp_of(j, t)->wanted = true;
				want(l, j);
			}
	if ((rc = adopt_tasks(l, j, now, a, err)))
		return rc;
	if (j->done)
		return 0;
	ctl_resync(&j->ctl, now, &l->acts);
	if ((rc = run_apply(l, j, now, err)))
		return rc;
	return stale[0] && !j->done ? stop_stale(l, j, stale, now, err) : 0;
}

int recover(struct loop *l, struct gerr *err)
{
	struct arena a;
	struct store_job *rows;
	size_t n;
	int64_t now;
	int rc;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	arena_init(&a, 65536);
	forget_all(l);
	if ((rc = store_job_active(l->db, &a, &rows, &n, err)))
		goto out;
	struct spec_job *sj = spec_job_new();
	if (!sj) {
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = recover_job(l, &rows[i], sj, now, &a, err);
	spec_job_free(sj);
	/* jobs that finished during recovery go now */
	for (struct job *j = l->first, *next; j; j = next) {
		next = j->next;
		if (j->done)
			job_unlink(l, j);
	}
	l->changed = true;
	log_info("recover: %zu active job%s restored", n, n == 1 ? "" : "s");
out:
	arena_fini(&a);
	return rc;
}
