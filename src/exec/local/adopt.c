/* SPDX-License-Identifier: MIT */
/*
 * adopt.c — after a server restart, find each launched task attempt's shim
 * again (exec_adopt); and clean up after a shim that died (exec__lost).
 *
 * DESIGN
 * ------
 * DIR/lock is the truth about whether a shim lives: the shim holds an
 * exclusive flock on it for its whole life, and writes exit.json before it
 * lets go. So, trying the lock:
 *
 *   held                  the shim lives: read shim.json (retrying briefly,
 *                         for a shim that has locked but not yet written
 *                         it), open a pidfd for its pid and check the pid's
 *                         start time against shim.json's, so a recycled pid
 *                         is never taken for the shim → EXEC_ADOPTED
 *   free, exit.json       it finished while we were away → EXEC_EXITED
 *   free, shim.json only  it died without a record (kill -9, OOM, crash):
 *                         kill what is left of its task's tree (its process
 *                         group, its cgroups), write exit.json with lost =
 *                         true → EXEC_LOST
 *   free, neither         no task was started → EXEC_NEVER_STARTED (any
 *                         cgroup named for the uid is killed and removed:
 *                         the shim may have died just after starting bash)
 *
 * We take the lock ourselves while deciding, so no shim can start in DIR
 * meanwhile, and exit.json for a lost shim is written under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "exec/local/internal.h"

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
}

/* A shim we spawned directly before an exec_free in this same process is
 * still our child: reap it if it is (pid and start time from shim.json). */
static void reap_if_ours(json_t *sj)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(sj, "pid"));
	int64_t st = json_integer_value(json_object_get(sj, "startTime"));
	if (pid > 0 && exec__proc_start_time(pid) == st)
		waitpid(pid, NULL, WNOHANG);
}

/* Kill and remove whatever cgroups a task has (lock held). Returns how
 * many processes were found. */
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

/* The lost shim's clean-up, with dir/lock held by us. */
static void lost_locked(struct exec *x, const char *uid, const char *dir, int status, struct exec_exit *ex)
{
	struct cg_task cg;
	struct gerr e;
	json_t *sj = exec__read_json(dir, "shim.json");
	pid_t shim = 0, pgid = 0;
	int killed = 0;

	memset(ex, 0, sizeof(*ex));
	if (sj) {
		exec__cg_task_from_json(json_object_get(sj, "cgroups"), &cg);
		shim = (pid_t)json_integer_value(json_object_get(sj, "pid"));
		pgid = (pid_t)json_integer_value(json_object_get(sj, "pgid"));
		ex->started_ms = json_integer_value(json_object_get(sj, "startedMs"));
		int64_t want = json_integer_value(json_object_get(sj, "taskStartTime"));
		int64_t now = exec__proc_start_time(pgid);
		/* the group's leader gone (its members may live on) or still the
		 * same process: the group is the task's; else the pid was reused */
		if (pgid > 1 && (now < 0 || now == want) && kill(-pgid, SIGKILL) == 0)
			killed++;
		reap_if_ours(sj);
		json_decref(sj);
	} else {
		exec__cg_task_paths(&x->lay, uid, true, true, &cg);
	}
	killed += kill_cgroups(uid, &cg);

	ex->lost = true;
	ex->exit_code = -1;
	ex->finished_ms = exec__now_ms();
	char st[48] = "";
	if (status >= 0)
		snprintf(st, sizeof(st), " (%s %d)", status >= 128 ? "signal" : "status",
		         status >= 128 ? status - 128 : status);
	if (shim)
		snprintf(ex->message, sizeof(ex->message),
		         "the shim (pid %d) ended without recording the task's exit%s; %s", (int)shim, st,
		         killed ? "what was left of the task was killed" : "nothing of the task was left");
	else
		snprintf(ex->message, sizeof(ex->message),
		         "the shim ended before starting the task%s; see %s/runtime.log", st, dir);
	json_t *j = exec__exit_to_json(ex);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!s || exec__write_atomic(dir, "exit.json", s, strlen(s), true, &e) < 0)
		log_warn("exec: task %s: cannot record the lost shim: %s", uid, s ? e.msg : "out of memory");
	free(s);
	json_decref(j);
	log_warn("exec: task %s: %s", uid, ex->message);
}

void exec__lost(struct exec *x, const char *uid, const char *dir, int status, struct exec_exit *ex)
{
	char path[EXEC_PATH_MAX];
	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	/* the dead shim's lock may live a moment longer in a vfork child */
	for (int i = 0; fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK; i++) {
		if (i == 200) {
			memset(ex, 0, sizeof(*ex));
			ex->lost = true;
			ex->exit_code = -1;
			ex->finished_ms = exec__now_ms();
			if (snprintf(ex->message, sizeof(ex->message),
			             "the shim ended without recording the task's exit, and another process holds %s",
			             path) >= (int)sizeof(ex->message))
				ex->message[sizeof(ex->message) - 1] = '\0';
			log_warn("exec: task %s: %s", uid, ex->message);
			close(fd);
			return;
		}
		sleep_ms(5);
	}
	if (fd < 0)
		log_warn("exec: task %s: open %s: %s", uid, path, strerror(errno));
	lost_locked(x, uid, dir, status, ex);
	if (fd >= 0)
		close(fd);
}

/* The shim lives: watch it. 1 adopted, 0 not yet (retry), <0 error. */
static int try_watch(struct exec *x, const char *uid, const char *dir, struct gerr *err)
{
	json_t *sj = exec__read_json(dir, "shim.json");
	if (!sj)
		return 0;
	pid_t pid = (pid_t)json_integer_value(json_object_get(sj, "pid"));
	int64_t start = json_integer_value(json_object_get(sj, "startTime"));
	int task = (int)json_integer_value(json_object_get(sj, "taskPid"));
	int64_t started_ms = json_integer_value(json_object_get(sj, "startedMs"));
	json_decref(sj);
	if (pid <= 0)
		return 0;
	int pidfd = pidfd_open(pid, 0);
	/* checked after the pidfd is open: it now names this process for good */
	if (pidfd < 0 || exec__proc_start_time(pid) != start) {
		if (pidfd >= 0)
			close(pidfd);
		return 0;   /* the shim has just died (its lock goes with it) */
	}
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
	s->pending_started = true;
	s->task_pid = task;
	s->started_ms = started_ms;
	int rc = exec__watch_add(x, s, err);
	if (rc < 0) {
		exec__shim_free(s);
		return rc;
	}
	return 1;
}

int exec_adopt(struct exec *x, const char *uid, const char *dir, struct exec_exit *ex, struct gerr *err)
{
	char path[EXEC_PATH_MAX];
	struct cg_task cg;
	int rc;

	memset(ex, 0, sizeof(*ex));
	if (!uid || !*uid || !dir || !*dir)
		return gerr_set(err, GERR_INVALID, "exec_adopt: uid and dir are required");
	pthread_mutex_lock(&x->mu);
	bool watched = hmap_get(&x->shims, uid) != NULL;
	pthread_mutex_unlock(&x->mu);
	if (watched)
		return EXEC_ADOPTED;

	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return gerr_set(err, GERR_IO, "open %s: %s", path, strerror(errno));
		exec__cg_task_paths(&x->lay, uid, true, true, &cg);
		kill_cgroups(uid, &cg);
		return EXEC_NEVER_STARTED;
	}
	int64_t deadline = exec__mono_ms() + 2000;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			json_t *j = exec__read_json(dir, "exit.json");
			if (j) {
				exec__exit_from_json(j, ex);
				json_decref(j);
				json_t *sj = exec__read_json(dir, "shim.json");
				if (sj) {
					reap_if_ours(sj);
					json_decref(sj);
				}
				rc = EXEC_EXITED;
			} else if (exec__exists(dir, "shim.json")) {
				lost_locked(x, uid, dir, -1, ex);
				rc = EXEC_LOST;
			} else {
				exec__cg_task_paths(&x->lay, uid, true, true, &cg);
				kill_cgroups(uid, &cg);
				rc = EXEC_NEVER_STARTED;
			}
			break;
		}
		if (errno != EWOULDBLOCK) {
			rc = gerr_set(err, GERR_IO, "flock %s: %s", path, strerror(errno));
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
			rc = gerr_set(err, GERR_IO, "%s: a process holds the lock, but %s/shim.json names no live shim",
			              path, dir);
			break;
		}
		sleep_ms(2);
	}
	close(fd);
	return rc;
}
