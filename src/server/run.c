/* SPDX-License-Identifier: MIT */
/*
 * run.c — the job lifecycle in the control loop: ctl decides, this file
 * saves the decision and carries it out.
 *
 * DESIGN
 * ------
 * Every observation (submitted, placed, launched, started, exited, stop,
 * timer) goes to ctl, which appends actions. run_apply turns the actions
 * into scheduler calls and store rows inside the iteration's transaction,
 * and queues the side effects that touch processes (launch, kill) until
 * after the commit: a task is started only once the decision to start it
 * is on disk, so a crash can never start it twice (the restart finds the
 * decision and asks the executor whether it was carried out).
 *
 * The results of side effects (spawned or not, kill sent) come back as
 * internal commands through the loop's own queue, like the executor's
 * reports, and are saved by the next iteration.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "server/loop_internal.h"

/* ---- saving -------------------------------------------------------------------- */

int save_job(struct loop *l, struct job *j, struct gerr *err)
{
	struct ctl_job *c = &j->ctl;
	int rc = 0;
	if (c->dirty) {
		char *status = status_job_json(j);
		if (!status)
			return gerr_set(err, GERR_NOMEM, "out of memory");
		struct store_job_status s = {
			.state = ctl_job_pai_state(c),
			.sub_state = ctl_state_name(c->state),
			.execution_type = c->stop ? "STOP" : "START",
			.launched_ms = c->running_ms,
			.completed_ms = c->state == CTL_COMPLETED ? c->completed_ms : 0,
			.attempt_id = (int)c->attempt,
			.retries = (int)c->retries,
			.user_retries = (int)c->accountable,
			.retry_delay_ms = c->retry_at_ms ? c->retry_at_ms - c->transition_ms : 0,
			.has_exit_code = c->has_comp,
			.app_exit_code = c->comp.code,
			.status = status,
		};
		rc = store_job_save(l->db, j->id, &s, err);
		free(status);
		if (rc)
			return rc;
		c->dirty = false;
	}
	for (size_t t = 0; t < c->ntasks; t++) {
		if (!c->tasks[t].dirty)
			continue;
		char *status = status_task_json(j, (uint32_t)t);
		if (!status)
			return gerr_set(err, GERR_NOMEM, "out of memory");
		struct store_task st = { (int64_t)t, j->ctl.roles[c->tasks[t].role].name, c->tasks[t].index, status };
		rc = store_task_put(l->db, j->id, c->attempt, &st, err);
		free(status);
		if (rc)
			return rc;
		c->tasks[t].dirty = false;
	}
	return 0;
}

/* ---- after the commit ---------------------------------------------------------- */

void post_add(struct loop *l, int type, const struct job *j, uint32_t task, int64_t attempt)
{
	if (l->nposts == l->posts_cap) {
		size_t cap = l->posts_cap ? l->posts_cap * 2 : 64;
		struct post *p = realloc(l->posts, cap * sizeof(*p));
		if (!p) {
			log_error("control loop: out of memory queueing a %s", type == POST_LAUNCH ? "launch" : "kill");
			return;
		}
		l->posts = p;
		l->posts_cap = cap;
	}
	struct post *p = &l->posts[l->nposts++];
	memset(p, 0, sizeof(*p));
	p->type = type;
	p->job_id = j->id;
	p->task = task;
	p->attempt = attempt;
	if (j->rt)
		snprintf(p->uid, sizeof(p->uid), "%s", j->rt[task].uid);
	p->grace_s = j->kill_now ? 0 : l->grace_s;
}

static struct cmd *internal(enum cmd_type type, int64_t job_id, uint32_t task, int64_t attempt)
{
	struct cmd *c = calloc(1, sizeof(*c));
	if (c) {
		c->type = type;
		c->job_id = job_id;
		c->task = task;
		c->attempt = attempt;
	}
	return c;
}

void run_posts(struct loop *l)
{
	for (size_t i = 0; i < l->nposts; i++) {
		struct post *p = &l->posts[i];
		struct job *j = job_by_id(l, p->job_id);
		if (!j || p->task >= j->ctl.ntasks)
			continue;
		struct ctl_task *t = &j->ctl.tasks[p->task];
		if (p->type == POST_LAUNCH) {
			/* decided in this iteration; skip if a later decision in it undid that */
			if (t->state != CTL_CREATION_REQUESTED || t->attempt != p->attempt || t->launched)
				continue;
			struct cmd *c = internal(CMD_LAUNCHED, j->id, p->task, p->attempt);
			if (!c)
				continue;   /* a restart finds the decision and launches */
			c->ok = launch_task(l, j, p->task, c->why, sizeof(c->why)) == 0;
			if (c->ok)
				t->launched = true;   /* saved by the CMD_LAUNCHED iteration */
			loop_post(l, c);
		} else {
			struct cmd *c = internal(CMD_KILLED, j->id, p->task, p->attempt);
			if (!c)
				continue;
			snprintf(c->uid, sizeof(c->uid), "%s", p->uid);
			int rc = p->uid[0] ? exec_kill(l->exec, p->uid, p->grace_s) : GERR_NOT_FOUND;
			if (rc == GERR_NOT_FOUND) {
				/* no supervisor to ask: the process is gone */
				c->type = CMD_EXITED;
				c->exit.lost = true;
				snprintf(c->exit.message, sizeof(c->exit.message), "no supervisor was running for the task");
			}
			loop_post(l, c);
		}
	}
	l->nposts = 0;
}

/* ---- applying ctl's decisions ---------------------------------------------------- */

static const char *role_name(const struct job *j, uint32_t t)
{
	return j->ctl.roles[j->ctl.tasks[t].role].name;
}

/* " Next attempt in 4 s: ..." for a retry that waits. */
static void backoff_note(char *buf, size_t len, int64_t wait_ms, int32_t quick)
{
	if (quick > 1)
		snprintf(buf, len, " Next attempt in %lld s: %d transient failures in a row, each within a minute of "
		         "starting, back off.", (long long)((wait_ms + 999) / 1000), (int)quick);
	else
		snprintf(buf, len, " Next attempt in %lld s.", (long long)((wait_ms + 999) / 1000));
}

static int attempt_event(struct loop *l, struct job *j, int64_t now, struct gerr *err)
{
	const struct ctl_job *c = &j->ctl;
	char msg[6144];   /* the diagnostics hold up to 4,700 bytes of runtime error */
	char trig[300] = "";
	if (c->trigger_role >= 0 && (size_t)c->trigger_role < j->ctl.nroles)
		snprintf(trig, sizeof(trig), " Triggered by %s-%lld: %s.", j->ctl.roles[c->trigger_role].name,
		         (long long)c->trigger_index, c->trigger_msg ? c->trigger_msg : "");
	char wait[160] = "";
	if (c->state == CTL_ATTEMPT_COMPLETED && c->retry_at_ms > now)
		backoff_note(wait, sizeof(wait), c->retry_at_ms - now, c->quick_failures);
	/* the diagnostics may end a sentence of their own */
	size_t dl = c->comp.diag ? strlen(c->comp.diag) : 0;
	bool stop = dl && c->comp.diag[dl - 1] == '.';
	if (!c->comp.failed)
		snprintf(msg, sizeof(msg), "Attempt %lld succeeded.%s", (long long)c->attempt, trig);
	else
		snprintf(msg, sizeof(msg), "Attempt %lld ended with exit code %d (%s)%s%s%s%s%s", (long long)c->attempt,
		         c->comp.code, c->comp.phrase ? c->comp.phrase : "", c->comp.diag ? ": " : "",
		         c->comp.diag ? c->comp.diag : "", stop ? "" : ".", trig, wait);
	return event(l, j, now, c->comp.failed ? "Warning" : "Normal", "AttemptCompleted", msg, err);
}

static int done_event(struct loop *l, struct job *j, int64_t now, struct gerr *err)
{
	const struct ctl_job *c = &j->ctl;
	const char *state = ctl_job_pai_state(c);
	char msg[600];
	if (!strcmp(state, "STOPPED"))
		snprintf(msg, sizeof(msg), "%s", c->comp.diag ? c->comp.diag : "Stopped.");
	else if (!strcmp(state, "SUCCEEDED"))
		snprintf(msg, sizeof(msg), "Succeeded after %lld attempt%s.", (long long)c->attempt + 1, c->attempt ? "s" : "");
	else
		snprintf(msg, sizeof(msg), "Failed with exit code %d (%s) after %lld attempt%s (%lld retr%s counted).",
		         c->comp.code, c->comp.phrase ? c->comp.phrase : "", (long long)c->attempt + 1,
		         c->attempt ? "s" : "", (long long)c->accountable, c->accountable == 1 ? "y" : "ies");
	const char *reason = !strcmp(state, "STOPPED") ? "Stopped" : !strcmp(state, "SUCCEEDED") ? "Succeeded" : "Failed";
	return event(l, j, now, strcmp(state, "FAILED") ? "Normal" : "Warning", reason, msg, err);
}

/* Once per job, with its first launch (in the same commit, so that it is
 * there however fast the task ends): no container engine, so the tasks run
 * on the host, not in their image. */
static int host_note(struct loop *l, struct job *j, uint32_t t, int64_t now, struct gerr *err)
{
	if (j->x && j->x->host_note)
		return 0;
	const struct exec_caps *caps = exec_get_caps(l->exec);
	if (caps->container_engine)
		return 0;
	struct gerr e;
	if (ensure_run_state(l, j, &e))
		return 0;   /* the launch fails with the same reason, and says so */
	j->x->host_note = true;
	const struct spec_role *role = j->x->spec ? &j->x->spec->roles[j->ctl.tasks[t].role] : NULL;
	if (!role || !role->image || !role->image->uri)
		return 0;
	char msg[600];
	snprintf(msg, sizeof(msg), "No container engine on this node: tasks run on the host, not in image %s.",
	         role->image->uri);
	return event(l, j, now, "Normal", "RunsOnHost", msg, err);
}

static void timer_add(struct loop *l, struct job *j, int64_t at)
{
	if (!j->wake_at)
		l->ntimed++;
	if (!j->wake_at || at < j->wake_at)
		j->wake_at = at;
}

static void timer_clear(struct loop *l, struct job *j)
{
	if (j->wake_at)
		l->ntimed--;
	j->wake_at = 0;
}

int run_apply(struct loop *l, struct job *j, int64_t now, struct gerr *err)
{
	int rc = 0;
	bool due = false;
	if (l->acts.nomem) {
		l->acts.n = 0;
		l->acts.nomem = false;
		return gerr_set(err, GERR_NOMEM, "out of memory recording the job's decisions");
	}
	/* actions may not be added while we walk them: take the list */
	struct ctl_action *v = l->acts.v;
	size_t n = l->acts.n;
	l->acts.v = NULL;
	l->acts.n = l->acts.cap = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct ctl_action *a = &v[i];
		switch (a->type) {
		case CTL_ACT_ATTEMPT:
			for (size_t t = 0; j->rt && t < j->ctl.ntasks; t++)
				if (j->rt[t].uid[0]) {
					hmap_del(&l->by_uid, j->rt[t].uid);
					rt_ports_release(l->ports, j->rt[t].uid);
				}
			if (j->rt)
				memset(j->rt, 0, j->ctl.ntasks * sizeof(*j->rt));
			if (j->x)
				arena_reset(&j->x->run);
			for (size_t g = 0; g < j->ngrps; g++)
				j->grps[g].wanted = false;
			if (j->ctl.attempt > 0) {
				char msg[200];
				snprintf(msg, sizeof(msg), "Retrying: attempt %lld (%lld retr%s counted of %lld allowed).",
				         (long long)j->ctl.attempt, (long long)j->ctl.accountable,
				         j->ctl.accountable == 1 ? "y" : "ies", (long long)j->ctl.retry.max);
				rc = event(l, j, now, "Normal", "Retrying", msg, err);
			}
			break;
		case CTL_ACT_PLACE: {
			struct grp *g = grp_of(j, (uint32_t)a->task);
			if (!g->placed) {
				g->wanted = true;
				want(l, j);
			}
			break;
		}
		case CTL_ACT_LAUNCH:
			post_add(l, POST_LAUNCH, j, (uint32_t)a->task, a->attempt);
			rc = host_note(l, j, (uint32_t)a->task, now, err);
			break;
		case CTL_ACT_KILL:
			post_add(l, POST_KILL, j, (uint32_t)a->task, a->attempt);
			break;
		case CTL_ACT_RELEASE:
			rc = release_task(l, j, (uint32_t)a->task, now, err);
			break;
		case CTL_ACT_ATTEMPT_DONE: {
			char *status = status_job_json(j);
			rc = status ? store_attempt_put(l->db, j->id, j->ctl.attempt, status, err)
			            : gerr_set(err, GERR_NOMEM, "out of memory");
			free(status);
			if (!rc)
				rc = attempt_event(l, j, now, err);
			break;
		}
		case CTL_ACT_WAKE:
			if (a->at_ms <= now)
				due = true;
			else
				timer_add(l, j, a->at_ms);
			break;
		case CTL_ACT_DONE:
			j->done = true;
			l->changed = true;
			rc = done_event(l, j, now, err);
			break;
		}
	}
	free(v);
	if (!rc)
		rc = save_job(l, j, err);
	if (!rc && due) {
		timer_clear(l, j);
		if (ctl_timer(&j->ctl, now, &l->acts) == 0)
			rc = run_apply(l, j, now, err);
	}
	return rc;
}

/* Timers are rare (conflict back-off): a scan only while some are set. */
int run_timers(struct loop *l, int64_t now, struct gerr *err)
{
	for (struct job *j = l->first; l->ntimed && j; j = j->next) {
		if (!j->wake_at || j->wake_at > now)
			continue;
		timer_clear(l, j);
		if (ctl_timer(&j->ctl, now, &l->acts) == 0) {
			int rc = run_apply(l, j, now, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int64_t run_next_timer(struct loop *l)
{
	int64_t at = 0;
	for (struct job *j = l->first; l->ntimed && j; j = j->next)
		if (j->wake_at && (!at || j->wake_at < at))
			at = j->wake_at;
	return at;
}

/* ---- commands ---------------------------------------------------------------------- */

static void answer(struct cmd *c, int status, json_t *body)
{
	c->status = status;
	free(c->body);
	c->body = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(body);
}

static void answer_error(struct cmd *c, int status, const char *code, const char *msg)
{
	answer(c, status, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/*
 * What the scheduler does not know but this machine decides, checked before
 * a job is accepted: that its tasks can have directories (user~job is one
 * file name; "." and ".." users have none), and that one task's host ports
 * fit in the --ports range. Answers 400 and returns -1 when not.
 */
static int admit_local(struct loop *l, struct cmd *c, const struct spec_job *s, const char *key)
{
	char msg[2048];
	struct arena a;
	arena_init(&a, 1024);
	bool path_ok = s->nroles == 0 || rt_task_cwd(&a, l->data_dir, c->user, s->name, 0, s->roles[0].name, 0);
	arena_fini(&a);
	if (!path_ok) {
		snprintf(msg, sizeof(msg), "Job %s cannot run here: its user or job name cannot name a directory.", key);
		answer_error(c, 400, "InvalidProtocolError", msg);
		return -1;
	}
	int64_t span = l->port_end - l->port_start;
	for (size_t r = 0; r < s->nroles; r++) {
		int64_t n = 0;
		for (size_t k = 0; k < s->roles[r].nports; k++)
			n += s->roles[r].ports[k].count;
		if (n > span) {
			snprintf(msg, sizeof(msg),
			         "Job %s can never run: task role %s asks for %lld host ports per instance; the server's "
			         "port range %d-%d has %lld.", key, s->roles[r].name, (long long)n, l->port_start,
			         l->port_end - 1, (long long)span);
			answer_error(c, 400, "InvalidProtocolError", msg);
			return -1;
		}
	}
	return 0;
}

int run_submit(struct loop *l, struct cmd *c, int64_t now, struct gerr *err)
{
	const struct spec_job *s = c->spec;
	struct job *j;
	struct store_job row = { 0 };
	char key[600];
	struct gerr e;

	/* names are unique per user forever: checked before admission, whose
	 * scheduler groups are named after the job */
	snprintf(key, sizeof(key), "%s~%s", c->user, s->name);
	int exists = store_job_exists(l->db, c->user, s->name, err);
	if (exists < 0)
		return exists;
	if (exists) {
		char msg[700];
		snprintf(msg, sizeof(msg), "Job %s already exists.", key);
		answer_error(c, 409, "ConflictJobError", msg);
		return 0;
	}
	j = job_from_spec(l, s, c->user, 0, &e);
	if (!j) {
		answer_error(c, e.code == GERR_NOMEM ? 500 : 400, e.code == GERR_NOMEM ? "UnknownError" : "InvalidProtocolError",
		             e.msg);
		return 0;
	}
	if (admit_local(l, c, s, key)) {
		job_free(j);
		return 0;
	}
	/* admission: would the virtual cluster ever hold it? (nothing reserved) */
	for (size_t g = 0; g < j->ngrps; g++) {
		struct sched_request req;
		request_of(l, j, &j->grps[g], SCHED_PHASE_FILTER, &req);
		if (sched_schedule(l->sched, &req, now, &l->res, &e) != 0) {
			answer_error(c, 400, "InvalidProtocolError", e.msg);
			job_free(j);
			return 0;
		}
		if (l->res.decision == SCHED_WAIT && l->res.wait == SCHED_WAIT_NEVER_FITS) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "Job %s can never run in virtual cluster %s: %s", key, j->vc,
			         l->res.reason ? l->res.reason : sched_wait_meaning(l->res.wait));
			answer_error(c, 400, "InvalidProtocolError", msg);
			job_free(j);
			return 0;
		}
	}
	row.username = c->user;
	row.name = s->name;
	char debug_id[33];
	job_debug_id(j->key, debug_id);
	row.debug_id = debug_id;
	row.vc = j->vc;
	row.state = "WAITING";
	row.sub_state = "AttemptCreationPending";
	row.execution_type = "START";
	const struct spec_value *hc = spec_value_get(s->extras, "hivedScheduler");
	row.priority_class = spec_value_get(hc, "jobPriorityClass") ? s->priority_class : NULL;
	row.priority = s->priority;
	row.submission_ms = now;
	row.created_ms = now;
	row.total_gpu = s->total_gpu;
	row.total_tasks = s->total_tasks;
	row.total_roles = (int64_t)s->nroles;
	row.config = spec_job_masked_config((struct spec_job *)s);
	char *text = strndup(c->text, c->len);
	int rc = text ? store_job_insert(l->db, &row, text, err) : gerr_set(err, GERR_NOMEM, "out of memory");
	free(text);
	if (rc == GERR_CONFLICT) {
		/* the name was used before (names are never reused) */
		answer_error(c, 409, "ConflictJobError", err->msg);
		job_free(j);
		err->code = 0;
		return 0;
	}
	if (rc) {
		job_free(j);
		return rc;   /* the batch fails: err is set */
	}
	j->id = row.id;
	j->ctl.rng = (uint64_t)row.id * 0x9E3779B97F4A7C15ull ^ (uint64_t)now;
	char msg[512];
	snprintf(msg, sizeof(msg), "Submitted by %s to virtual cluster %s: %zu task role%s, %lld task%s, %lld GPU%s.",
	         c->user, j->vc, s->nroles, s->nroles == 1 ? "" : "s", (long long)s->total_tasks,
	         s->total_tasks == 1 ? "" : "s", (long long)s->total_gpu, s->total_gpu == 1 ? "" : "s");
	if ((rc = event(l, j, now, "Normal", "Submitted", msg, err))) {
		job_free(j);
		return rc;
	}
	job_link(l, j);
	l->changed = true;
	ctl_start(&j->ctl, now, &l->acts);
	if ((rc = run_apply(l, j, now, err)))
		return rc;
	snprintf(msg, sizeof(msg), "Update job %s for user %s successfully.", s->name, c->user);
	answer(c, 201, json_pack("{s:i, s:s}", "status", 201, "message", msg));
	return 0;
}

int run_stop(struct loop *l, struct cmd *c, int64_t now, struct gerr *err)
{
	char key[600], msg[700];
	snprintf(key, sizeof(key), "%s~%s", c->user, c->name);
	struct job *j = job_by_id(l, c->job_id);
	if (j && !j->done) {
		snprintf(msg, sizeof(msg), "Stopped at the request of %s.", c->by);
		if (ctl_stop(&j->ctl, msg, now, &l->acts) == 0) {
			int rc = run_apply(l, j, now, err);
			if (rc)
				return rc;
			l->changed = true;
		}
	}
	/* not active (already finished) or stopping: OpenPAI answers the same */
	snprintf(msg, sizeof(msg), "Execute job %s successfully.", key);
	answer(c, 202, json_pack("{s:i, s:s}", "status", 202, "message", msg));
	return 0;
}

/* ---- observations from the executor ---------------------------------------------- */

static int64_t task_of_uid(const struct job *j, const char *uid)
{
	for (size_t t = 0; j->rt && t < j->ctl.ntasks; t++)
		if (!strcmp(j->rt[t].uid, uid))
			return (int64_t)t;
	return -1;
}

/* The last `max` bytes of path, NUL-terminated (malloc'd), or NULL. */
static char *read_tail(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0) {
		off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
		size_t want_n = (size_t)(st.st_size - from);
		buf = malloc(want_n + 1);
		ssize_t got = buf ? pread(fd, buf, want_n, from) : -1;
		if (got < 0) {
			free(buf);
			buf = NULL;
		} else {
			buf[got] = '\0';
			*len = (size_t)got;
		}
	}
	close(fd);
	return buf;
}

/* What the task's exit means: openpai-runtime's classification of its logs. */
static void classify(struct loop *l, const struct job *j, uint32_t t, const struct exec_exit *ex,
                     struct ctl_completion *c, char *diag, size_t diaglen)
{
	memset(c, 0, sizeof(*c));
	if (ex->lost) {
		c->code = CTL_CODE_EXTERNAL_DELETED;
		c->phrase = "PodExternalDeleted";
		c->failed = true;
		c->attrs = CTL_TRANSIENT;
		snprintf(diag, diaglen, "The task's supervisor was lost: %s", ex->message);
		c->diag = diag;
		return;
	}
	struct rt_exit_input in = { .user_exit = ex->exit_code, .oom = ex->oom, .classifier = l->classifier };
	char *user = NULL, *platform = NULL;
	if (ex->exit_code != 0 || ex->oom) {
		const struct ctl_task *ct = &j->ctl.tasks[t];
		struct arena a;
		arena_init(&a, 1024);
		char *dir = rt_attempt_dir(&a, l->data_dir, j->user, j->name, j->ctl.attempt, role_name(j, t), ct->index,
		                           ct->attempt);
		char path[4096];
		if (dir) {
			snprintf(path, sizeof(path), "%s/user.pai.all", dir);
			user = read_tail(path, 10u << 20, &in.user_log_len);
			snprintf(path, sizeof(path), "%s/runtime.log", dir);
			platform = read_tail(path, 1u << 20, &in.platform_log_len);
		}
		arena_fini(&a);
		in.user_log = user;
		in.platform_log = platform;
	}
	struct rt_exit_result *r = malloc(sizeof(*r));
	if (!r) {
		c->code = ex->exit_code ? 255 : 0;
		c->phrase = ex->exit_code ? "PAIRuntimeUnknownFailed" : "Succeeded";
		c->failed = ex->exit_code != 0;
	} else {
		rt_exit_classify(&in, r);
		c->code = r->code;
		c->phrase = r->phrase;
		c->failed = r->code != 0;
		c->attrs = r->behavior == RT_TRANSIENT ? CTL_TRANSIENT
		         : r->behavior == RT_TRANSIENT_CONFLICT ? CTL_TRANSIENT | CTL_CONFLICT
		         : r->behavior == RT_PERMANENT ? CTL_PERMANENT : 0;
		if (c->failed) {
			snprintf(diag, diaglen, "%s%s%s", ex->message, r->diagnostics[0] ? "\n" : "", r->diagnostics);
			c->diag = diag;
		}
		free(r);
	}
	free(user);
	free(platform);
}

int run_observe(struct loop *l, struct cmd *c, int64_t now, struct gerr *err)
{
	struct job *j;
	int64_t t;
	switch (c->type) {
	case CMD_LAUNCHED:
		if (!(j = job_by_id(l, c->job_id)) || c->task >= j->ctl.ntasks)
			return 0;
		if (ctl_launched(&j->ctl, c->task, c->attempt, c->ok, c->why, now, &l->acts) != 0)
			return 0;
		if (!c->ok) {
			char msg[400];
			snprintf(msg, sizeof(msg), "%s-%lld could not be started: %s", role_name(j, c->task),
			         (long long)j->ctl.tasks[c->task].index, c->why);
			int rc = event(l, j, now, "Warning", "LaunchFailed", msg, err);
			if (rc)
				return rc;
		}
		return run_apply(l, j, now, err);
	case CMD_KILLED:
		if ((j = job_by_id(l, c->job_id)) && c->task < j->ctl.ntasks &&
		    ctl_kill_sent(&j->ctl, c->task, c->attempt) == 0)
			return save_job(l, j, err);
		return 0;
	case CMD_STARTED:
		if (!(j = hmap_get(&l->by_uid, c->uid)) || (t = task_of_uid(j, c->uid)) < 0)
			return 0;
		bool was_running = j->ctl.state == CTL_RUNNING;
		if (ctl_started(&j->ctl, (size_t)t, j->ctl.tasks[t].attempt, c->ms ? c->ms : now, &l->acts) != 0)
			return 0;
		j->rt[t].pid = c->pid;
		if (!was_running && j->ctl.state == CTL_RUNNING) {
			char msg[400];
			snprintf(msg, sizeof(msg), "Attempt %lld is running: %s-%lld started first, on node %s.",
			         (long long)j->ctl.attempt, role_name(j, (uint32_t)t), (long long)j->ctl.tasks[t].index,
			         j->rt[t].node ? j->rt[t].node : "?");
			int rc = event(l, j, now, "Normal", "Running", msg, err);
			if (rc)
				return rc;
			l->changed = true;
		}
		return run_apply(l, j, now, err);
	case CMD_EXITED: {
		if (c->uid[0]) {
			if (!(j = hmap_get(&l->by_uid, c->uid)) || (t = task_of_uid(j, c->uid)) < 0)
				return 0;
		} else if (!(j = job_by_id(l, c->job_id)) || (t = c->task) >= (int64_t)j->ctl.ntasks) {
			return 0;
		}
		struct ctl_completion comp;
		char *diag = malloc(4700);
		if (!diag)
			return gerr_set(err, GERR_NOMEM, "out of memory");
		classify(l, j, (uint32_t)t, &c->exit, &comp, diag, 4700);
		const struct ctl_task *ct = &j->ctl.tasks[t];
		bool decided = ct->has_comp;
		int64_t attempt = ct->attempt;
		int rc = 0;
		if (ctl_exited(&j->ctl, (size_t)t, attempt, &comp, now, &l->acts) == 0) {
			if (comp.failed && !decided) {
				char msg[960], wait[160] = "";
				if (ct->retry_at_ms > now)   /* retried as a new task attempt, after a back-off */
					backoff_note(wait, sizeof(wait), ct->retry_at_ms - now, ct->quick_failures);
				snprintf(msg, sizeof(msg), "%s-%lld (task attempt %lld) %s: exit code %d (%s).%s",
				         role_name(j, (uint32_t)t), (long long)j->ctl.tasks[t].index, (long long)attempt,
				         c->exit.message[0] ? c->exit.message : "failed", comp.code, comp.phrase ? comp.phrase : "",
				         wait);
				rc = event(l, j, now, "Warning", "TaskFailed", msg, err);
			}
			if (!rc)
				rc = run_apply(l, j, now, err);
		}
		free(diag);
		return rc;
	}
	default:
		return 0;
	}
}
