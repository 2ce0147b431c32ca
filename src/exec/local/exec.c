/* SPDX-License-Identifier: MIT */
/*
 * exec.c — the local executor's front: exec_new, exec_free, exec_launch,
 * exec_kill (exec.h).
 *
 * DESIGN
 * ------
 * exec_launch does the least it can on the caller's thread, and nothing on
 * the file system: pack the launch description, get a shim process (the
 * zygote's spare, ready and waiting: one SEQPACKET round trip; else
 * posix_spawn of `gantry shim`), write the description to the shim's socket
 * and hand the shim to the watcher thread. The shim makes DIR and claims it
 * (shim.c); a file system that is slow to create files (these VMs' ext4:
 * milliseconds a directory) then delays that task, not the caller's loop.
 * It never waits for bash: the shim's "started" line arrives on that socket
 * and the watcher reports it.
 *
 * Threads: exec_launch, exec_kill and exec_adopt may be called from any one
 * thread (the control loop); the watcher thread runs the callbacks. x->mu
 * guards the table of shims; only the watcher frees a shim, after taking
 * it out of the table under x->mu, so exec_kill's pidfd stays valid while
 * it holds the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "exec/local/internal.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct exec *exec_new(const char *gantry_path, const struct exec_callbacks *cb, struct gerr *err)
{
	struct exec *x = calloc(1, sizeof(*x));
	char self[PATH_MAX];
	if (!x) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	x->epfd = x->wakefd = -1;
	x->zy.pidfd = x->zy.ctl = -1;
	pthread_mutex_init(&x->mu, NULL);
	pthread_mutex_init(&x->zy.mu, NULL);
	hmap_init(&x->shims);
	if (cb)
		x->cb = *cb;
	if (!gantry_path) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0) {
			gerr_set(err, GERR_IO, "readlink /proc/self/exe: %s", strerror(errno));
			goto error;
		}
		self[n] = '\0';
		gantry_path = self;
	}
	/* absolute: shims are spawned with "/" as their working directory */
	x->gantry_path = realpath(gantry_path, NULL);
	if (!x->gantry_path || access(x->gantry_path, X_OK) < 0) {
		gerr_set(err, GERR_CONFIG, "%s: cannot run it as `gantry shim`: %s", gantry_path, strerror(errno));
		goto error;
	}
	exec__cg_detect(&x->lay);
	const char *cg = getenv("GANTRY_EXEC_CGROUP");   /* "none": run as on a machine without cgroups */
	if (cg && !strcmp(cg, "none")) {
		memset(&x->lay, 0, sizeof(x->lay));
		snprintf(x->lay.why, sizeof(x->lay.why), "cgroups turned off by GANTRY_EXEC_CGROUP=none");
	}
	exec__caps_from(&x->caps, &x->lay);
	exec__cg_roots(&x->lay, &x->roots);
	exec__cg_sweep(&x->roots);   /* left by shims killed while no server watched */

	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	x->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->epfd < 0 || x->wakefd < 0) {
		gerr_set(err, GERR_IO, "%s: %s", x->epfd < 0 ? "epoll_create1" : "eventfd", strerror(errno));
		goto error;
	}
	x->w_wake = (struct wfd){ WFD_WAKE, NULL };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &x->w_wake };
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->wakefd, &ev) < 0) {
		gerr_set(err, GERR_IO, "epoll_ctl: %s", strerror(errno));
		goto error;
	}
	const char *zy = getenv("GANTRY_EXEC_ZYGOTE");   /* "0": always spawn `gantry shim` (bench, tests) */
	if (zy && !strcmp(zy, "0")) {
		x->zy.disabled = true;
	} else {
		struct gerr ze;
		if (exec__zygote_start(x, &ze) < 0) {
			log_warn("exec: %s; every launch will spawn `gantry shim` (slower)", ze.msg);
			x->zy.disabled = true;
		}
	}
	int rc = pthread_create(&x->thread, NULL, exec__watch_thread, x);
	if (rc != 0) {
		gerr_set(err, GERR_IO, "pthread_create: %s", strerror(rc));
		goto error;
	}
	x->thread_started = true;
	return x;
error:
	exec_free(x);
	return NULL;
}

void exec_free(struct exec *x)
{
	if (!x)
		return;
	if (x->thread_started) {
		pthread_mutex_lock(&x->mu);
		x->stopping = true;
		pthread_mutex_unlock(&x->mu);
		exec__wake(x);
		pthread_join(x->thread, NULL);
	}
	exec__zygote_stop(x);
	/* the shims run on; a directly spawned one we could still reap is reaped */
	while (x->all) {
		struct shim *s = x->all;
		x->all = s->next;
		siginfo_t si = { 0 };
		if (s->child)
			waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG);
		exec__shim_free(s);
	}
	hmap_fini(&x->shims);
	if (x->epfd >= 0)
		close(x->epfd);
	if (x->wakefd >= 0)
		close(x->wakefd);
	pthread_mutex_destroy(&x->mu);
	pthread_mutex_destroy(&x->zy.mu);
	free(x->gantry_path);
	free(x);
}

const struct exec_caps *exec_get_caps(const struct exec *x)
{
	return &x->caps;
}

void exec__shim_free(struct shim *s)
{
	if (!s)
		return;
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->sock >= 0)
		close(s->sock);
	free(s->uid);
	free(s->dir);
	free(s->failed);
	free(s);
}

void exec__wake(struct exec *x)
{
	uint64_t one = 1;
	if (write(x->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("exec: waking the watcher: %s", strerror(errno));
}

/* posix_spawn `gantry shim` in its own session, fd as its 0 and 1. */
static int spawn_direct(struct exec *x, int fd, pid_t *pid, int *pidfd, struct gerr *err)
{
	char a1[] = "shim";
	char *argv[] = { x->gantry_path, a1, NULL };
	int fds[3] = { fd, fd, -2 };
	sigset_t mask;
	/* blocked from the start: an exec_kill before the shim's signalfd
	 * exists must not kill it outright */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	int rc = exec__spawn(x->gantry_path, argv, NULL, fds, true, &mask, pid, err);
	if (rc < 0)
		return rc;
	*pidfd = pidfd_open(*pid, 0);   /* our child: not reaped yet, so not recycled */
	if (*pidfd < 0) {
		int e = errno;
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		return gerr_set(err, GERR_IO, "pidfd_open: %s", strerror(e));
	}
	return 0;
}

static json_t *describe(const struct exec *x, const struct exec_task *t, struct gerr *err)
{
	json_t *env = json_array();
	for (const char *const *e = t->env; env && *e; e++)
		if (json_array_append_new(env, json_string(*e)) < 0) {
			json_decref(env);
			gerr_set(err, GERR_INVALID, "environment entry is not valid UTF-8");
			return NULL;
		}
	json_t *script = json_string(t->script);
	if (!script) {
		json_decref(env);
		gerr_set(err, GERR_INVALID, "the task's script is not valid UTF-8");
		return NULL;
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:f, s:i, s:I, s:s?, s:o}", "uid", t->uid, "dir",
	                      t->dir, "cwd", t->cwd, "script", script, "env", env, "memoryMB",
	                      (json_int_t)t->memory_mb, "cpu", t->cpu, "graceS", t->grace_s, "logMaxBytes",
	                      (json_int_t)t->log_max_bytes, "image", t->image, "cgroupRoots",
	                      exec__cg_task_to_json(&x->roots));
	if (!j)
		gerr_set(err, GERR_NOMEM, "cannot build the launch description");
	return j;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int exec_launch(struct exec *x, const struct exec_task *t, struct gerr *err)
{
	int sv[2] = { -1, -1 }, pidfd = -1, rc;
	pid_t pid = 0;
	bool child = false;
	char *desc = NULL;
	struct shim *s = NULL;

	if (!t->uid || !*t->uid || !t->dir || !*t->dir || !t->cwd || !*t->cwd || !t->script || !t->env)
		return gerr_set(err, GERR_INVALID, "exec_launch: uid, dir, cwd, script and env are required");
	if (strlen(t->dir) > EXEC_PATH_MAX - 32 || strlen(t->cwd) > EXEC_PATH_MAX - 32)
		return gerr_set(err, GERR_INVALID, "exec_launch: directory path too long");
	pthread_mutex_lock(&x->mu);
	bool dup = hmap_get(&x->shims, t->uid) != NULL;
	pthread_mutex_unlock(&x->mu);
	if (dup)
		return gerr_set(err, GERR_CONFLICT, "task %s is already running", t->uid);
	/* DIR is the shim's to make and lock: a shim already running this
	 * attempt (only possible from before a restart, and then adopted)
	 * makes the new one wait, then fail */
	json_t *j = describe(x, t, err);
	if (!j)
		return GERR_INVALID;
	desc = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!desc)
		return gerr_set(err, GERR_NOMEM, "cannot encode the launch description");

	struct gerr ze;
	if (exec__zygote_spawn(x, &pid, &pidfd, &sv[0], &ze) < 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			rc = gerr_set(err, GERR_IO, "socketpair: %s", strerror(errno));
			goto error;
		}
		if ((rc = spawn_direct(x, sv[1], &pid, &pidfd, err)) < 0)
			goto error;
		close(sv[1]);
		sv[1] = -1;
		child = true;
	}
	/* a big script fills the socket; the shim is reading it, but never wait forever */
	struct timeval tv = { 5, 0 };
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		log_warn("exec: SO_SNDTIMEO: %s", strerror(errno));
	if (send_all(sv[0], desc, strlen(desc)) < 0 || shutdown(sv[0], SHUT_WR) < 0) {
		rc = gerr_set(err, GERR_IO, "sending the launch description to the shim (pid %d): %s", (int)pid,
		              strerror(errno));
		goto kill;
	}
	free(desc);
	desc = NULL;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		rc = gerr_set(err, GERR_IO, "fcntl: %s", strerror(errno));
		goto kill;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->pidfd = s->sock = -1;
	if (!s || !(s->uid = strdup(t->uid)) || !(s->dir = strdup(t->dir))) {
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
		goto kill;
	}
	s->pid = pid;
	s->pidfd = pidfd;
	s->sock = sv[0];
	s->child = child;
	if ((rc = exec__watch_add(x, s, err)) < 0) {
		s->pidfd = s->sock = -1;   /* closed below */
		goto kill;
	}
	return 0;
kill:
	/* the shim has not started the task: it needs the whole description first */
	pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	if (child) {
		siginfo_t si;
		waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED);
	}
	exec__shim_free(s);
error:
	free(desc);
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	return rc;
}

int exec_kill(struct exec *x, const char *uid, int grace_s)
{
	siginfo_t si;
	int rc = 0;
	pthread_mutex_lock(&x->mu);
	struct shim *s = hmap_get(&x->shims, uid);
	if (!s) {
		pthread_mutex_unlock(&x->mu);
		return GERR_NOT_FOUND;
	}
	/* SI_QUEUE carries the grace to the shim (signalfd's ssi_int) */
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGTERM;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = grace_s < 0 ? -1 : grace_s;
	if (pidfd_send_signal(s->pidfd, SIGTERM, &si, 0) < 0 && errno != ESRCH) {
		log_error("exec: cannot signal the shim of %s (pid %d): %s", uid, (int)s->pid, strerror(errno));
		rc = GERR_IO;
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}
