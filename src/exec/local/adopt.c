/* SPDX-License-Identifier: MIT */
/*
 * adopt.c — after a server restart, find each launched task attempt's shim
 * again (exec_adopt); and clean up after a shim that died (exec__lost).
 *
 * DESIGN
 * ------
 * The claim (claim.c) is the truth about whether a shim lives: a shim holds
 * it from before it starts the task until it exits, and writes exit.json
 * before it lets go. shim.json (task pid, process group, cgroups) is
 * written once the task runs. So, taking the claim ourselves:
 *
 *   held                  the shim lives: its pid comes from shim.json (its
 *                         start time checked, so a recycled pid is never
 *                         taken for the shim) or, before shim.json exists,
 *                         from the claim itself (SO_PEERCRED, checked again
 *                         after the pidfd is open) → EXEC_ADOPTED
 *   ours, exit.json       it finished while we were away → EXEC_EXITED
 *   ours, shim.json       it died after starting the task, without a record
 *                         (kill -9, OOM, crash): kill what is left of its
 *                         task's tree (its process group, its cgroups),
 *                         write exit.json with lost = true → EXEC_LOST
 *   ours, neither         no shim started the task → EXEC_NEVER_STARTED. A
 *                         shim may have died just after starting bash, or
 *                         still be on its way (launched just before the
 *                         server died): the first's cgroups are orphans
 *                         (exec__cg_sweep kills and removes them); the
 *                         second checks, after taking the claim, that its
 *                         server is still there, and it is not, so it does
 *                         not start the task
 *
 * While we hold the claim no shim can take it, and exit.json for a lost
 * shim is written under it.
 *
 * Shims from before the claim flocked DIR/lock instead and named their
 * cgroups after the task uid: when DIR/lock exists it is the claim (the
 * same rules), and uid-named cgroups are looked for too.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "exec/local/internal.h"

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
}

bool exec__shim_rec_read(const char *dir, struct shim_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	json_t *j = exec__read_json(dir, "shim.json");
	if (!j)
		return false;
	rec->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	rec->start = json_integer_value(json_object_get(j, "startTime"));
	rec->task_pid = (pid_t)json_integer_value(json_object_get(j, "taskPid"));
	rec->pgid = (pid_t)json_integer_value(json_object_get(j, "pgid"));
	rec->task_start = json_integer_value(json_object_get(j, "taskStartTime"));
	rec->started_ms = json_integer_value(json_object_get(j, "startedMs"));
	json_t *cg = json_object_get(j, "cgroups");
	if (json_is_object(cg)) {
		rec->has_cg = true;
		exec__cg_task_from_json(cg, &rec->cg);
	}
	json_decref(j);
	return rec->pid > 0;
}

/* The claim on dir, taken: *fd holds it until closed (a legacy DIR/lock is
 * flocked instead). GERR_CONFLICT while a shim holds it. */
static int claim_take(const char *dir, int *fd, struct gerr *err)
{
	char path[EXEC_PATH_MAX];
	*fd = -1;
	snprintf(path, sizeof(path), "%s/lock", dir);
	int lfd = open(path, O_RDWR | O_CLOEXEC);
	if (lfd < 0)
		return errno == ENOENT ? exec__claim_take(dir, fd, err)
		                       : gerr_set(err, GERR_IO, "open %s: %s", path, strerror(errno));
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(lfd);
		return e == EWOULDBLOCK ? gerr_set(err, GERR_CONFLICT, "a shim holds %s", path)
		                        : gerr_set(err, GERR_IO, "flock %s: %s", path, strerror(e));
	}
	*fd = lfd;
	return 0;
}

/* A shim we spawned directly before an exec_free in this same process is
 * still our child: reap it if it is. */
static void reap_if_ours(const struct shim_rec *rec)
{
	if (rec->pid > 0 && exec__proc_start_time(rec->pid) == rec->start)
		waitpid(rec->pid, NULL, WNOHANG);
}

/* Kill and remove cg (lock held). Returns how many processes were found. */
static int kill_cgroups(const char *uid, const struct cg_task *cg)
{
	struct gerr e;
	if (!exec__cg_task_any(cg))
		return 0;
	int n = exec__cg_signal(cg, SIGKILL);
	if (!exec__cg_kill_wait(cg, 2000))
		log_warn("exec: task %s: its cgroups are not empty 2 s after SIGKILL", uid);
	if (exec__cg_task_remove(cg, &e) < 0)
		log_warn("exec: task %s: %s", uid, e.msg);
	return n;
}

/* Every cgroup the task of a dead shim may have: the ones its record names,
 * else the orphans', and those earlier shims named after the uid (claim
 * held). */
static int kill_task_cgroups(struct exec *x, const char *uid, const struct shim_rec *rec)
{
	struct cg_task cg;
	int n = 0;
	if (rec && rec->has_cg)
		n += kill_cgroups(uid, &rec->cg);
	else   /* a shim that died before its record: its cgroups are orphans */
		n += exec__cg_sweep(&x->roots);
	exec__cg_task_paths(&x->lay, uid, true, true, &cg);
	n += kill_cgroups(uid, &cg);
	return n;
}

/* The lost shim's clean-up, with its claim held by us. */
static void lost_locked(struct exec *x, const char *uid, const char *dir, int status, const char *why,
                        struct exec_exit *ex)
{
	struct shim_rec rec;
	struct gerr e;
	bool have = exec__shim_rec_read(dir, &rec);
	int killed = 0;

	memset(ex, 0, sizeof(*ex));
	if (have && rec.task_pid > 0) {
		ex->started_ms = rec.started_ms;
		int64_t now = exec__proc_start_time(rec.pgid);
		/* the group's leader gone (its members may live on) or still the
		 * same process: the group is the task's; else the pid was reused */
		if (rec.pgid > 1 && (now < 0 || now == rec.task_start) && kill(-rec.pgid, SIGKILL) == 0)
			killed++;
	}
	if (have)
		reap_if_ours(&rec);
	killed += kill_task_cgroups(x, uid, have ? &rec : NULL);

	ex->lost = true;
	ex->exit_code = -1;
	ex->finished_ms = exec__now_ms();
	char st[48] = "";
	if (status >= 0)
		snprintf(st, sizeof(st), " (%s %d)", status >= 128 ? "signal" : "status",
		         status >= 128 ? status - 128 : status);
	if (have && rec.task_pid > 0)
		snprintf(ex->message, sizeof(ex->message),
		         "the shim (pid %d) ended without recording the task's exit%s; %s", (int)rec.pid, st,
		         killed ? "what was left of the task was killed" : "nothing of the task was left");
	else if (why)
		snprintf(ex->message, sizeof(ex->message), "the shim could not start the task: %.400s", why);
	else
		snprintf(ex->message, sizeof(ex->message),
		         "the shim ended before recording the task's start%s; see %.380s/runtime.log", st, dir);
	struct stat sb;
	if (stat(dir, &sb) == 0) {   /* a DIR the shim could not make gets no record */
		json_t *j = exec__exit_to_json(ex);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (!s || exec__write_atomic(dir, "exit.json", s, strlen(s), true, &e) < 0)
			log_warn("exec: task %s: cannot record the lost shim: %s", uid, s ? e.msg : "out of memory");
		free(s);
		json_decref(j);
	}
	log_warn("exec: task %s: %s", uid, ex->message);
}

void exec__lost(struct exec *x, const char *uid, const char *dir, int status, const char *why, struct exec_exit *ex)
{
	struct gerr e;
	int fd = -1, rc;
	if (exec__exit_read(dir, ex))   /* it died renaming its exit record: not lost */
		return;
	/* the dead shim's claim may live a moment longer in its task's process
	 * (made after the claim, when it had to be made again at the launch) */
	for (int i = 0; (rc = claim_take(dir, &fd, &e)) == GERR_CONFLICT; i++) {
		if (i == 200) {
			memset(ex, 0, sizeof(*ex));
			ex->lost = true;
			ex->exit_code = -1;
			ex->finished_ms = exec__now_ms();
			snprintf(ex->message, sizeof(ex->message),
			         "the shim ended without recording the task's exit, and another process holds its claim");
			log_warn("exec: task %s: %s (%s)", uid, ex->message, dir);
			return;
		}
		sleep_ms(5);
	}
	if (rc < 0)
		log_warn("exec: task %s: %s", uid, e.msg);
	lost_locked(x, uid, dir, status, why, ex);
	if (fd >= 0)
		close(fd);
}

/* The shim holding the claim on dir: watch it. 1 adopted, 0 not yet
 * (retry), <0 error. */
static int try_watch(struct exec *x, const char *uid, const char *dir, struct gerr *err)
{
	struct shim_rec rec;
	pid_t pid = 0;
	uid_t owner;
	int pidfd = -1;
	if (exec__shim_rec_read(dir, &rec)) {
		pidfd = pidfd_open(rec.pid, 0);
		/* checked after the pidfd is open: it now names this process for good */
		if (pidfd >= 0 && exec__proc_start_time(rec.pid) != rec.start) {
			close(pidfd);
			pidfd = -1;
		}
		pid = rec.pid;
	} else if (exec__claim_holder(dir, &pid, &owner) == 0) {
		/* no record yet: the claim's own credentials; still held by the
		 * same pid once the pidfd is open, it is that process for good */
		pid_t again;
		pidfd = pidfd_open(pid, 0);
		if (pidfd >= 0 && (exec__claim_holder(dir, &again, &owner) < 0 || again != pid)) {
			close(pidfd);
			pidfd = -1;
		}
	}
	if (pidfd < 0)
		return 0;   /* the shim has just died (its claim goes with it), or is writing its record */
	struct shim *s = calloc(1, sizeof(*s));
	if (!s || !(s->uid = strdup(uid)) || !(s->dir = strdup(dir))) {
		close(pidfd);
		if (s) {
			s->pidfd = s->sock = -1;
			exec__shim_free(s);
		}
		return gerr_set(err, GERR_NOMEM, "out of memory");
	}
	s->pid = pid;
	s->pidfd = pidfd;
	s->sock = -1;
	/* a shim that has not started the task yet is watched all the same;
	 * only its `exited` will come */
	s->pending_started = rec.task_pid > 0;
	s->task_pid = rec.task_pid;
	s->started_ms = rec.started_ms;
	int rc = exec__watch_add(x, s, err);
	if (rc < 0) {
		exec__shim_free(s);
		return rc;
	}
	return 1;
}

int exec_adopt(struct exec *x, const char *uid, const char *dir, struct exec_exit *ex, struct gerr *err)
{
	struct shim_rec rec;
	struct gerr e;
	int rc, fd = -1;

	memset(ex, 0, sizeof(*ex));
	if (!uid || !*uid || !dir || !*dir)
		return gerr_set(err, GERR_INVALID, "exec_adopt: uid and dir are required");
	pthread_mutex_lock(&x->mu);
	bool watched = hmap_get(&x->shims, uid) != NULL;
	pthread_mutex_unlock(&x->mu);
	if (watched)
		return EXEC_ADOPTED;

	int64_t deadline = exec__mono_ms() + 2000;
	for (;;) {
		rc = claim_take(dir, &fd, &e);
		if (rc == 0) {
			bool have = exec__shim_rec_read(dir, &rec);
			if (exec__exit_read(dir, ex)) {
				if (have)
					reap_if_ours(&rec);
				rc = EXEC_EXITED;
			} else if (have && rec.task_pid > 0) {
				lost_locked(x, uid, dir, -1, NULL, ex);
				rc = EXEC_LOST;
			} else {
				kill_task_cgroups(x, uid, NULL);
				rc = EXEC_NEVER_STARTED;
			}
			close(fd);
			break;
		}
		if (rc != GERR_CONFLICT) {
			rc = gerr_set(err, rc, "%s", e.msg);
			break;
		}
		rc = try_watch(x, uid, dir, err);
		if (rc < 0)
			break;
		if (rc == 1) {
			rc = EXEC_ADOPTED;
			break;
		}
		if (exec__mono_ms() > deadline) {
			rc = gerr_set(err, GERR_IO, "the claim on %s is held, but by no shim that can be found", dir);
			break;
		}
		sleep_ms(2);
	}
	return rc;
}
