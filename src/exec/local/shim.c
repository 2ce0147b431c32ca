/* SPDX-License-Identifier: MIT */
/*
 * shim.c — `gantry shim`: the supervisor of one task attempt.
 *
 * DESIGN
 * ------
 * The shim is started by exec_launch (forked by the zygote, or spawned) in
 * its own session, with a socket as fd 0 and fd 1. It:
 *
 *   1. reads the launch description (JSON) from fd 0 until EOF;
 *   2. opens DIR/runtime.log (its own log, also its stderr from then on) and
 *      takes an exclusive flock on DIR/lock, held until it exits: "lock
 *      held" is how a restarted server knows the shim lives;
 *   3. makes the cwd, a sealed memfd holding the script, the log pipes and
 *      the task's cgroups with their limits;
 *   4. vforks the task: setsid, join the cgroups, cwd, fds, exactly the
 *      given environment, exec /bin/bash /proc/self/fd/3 (the memfd: the
 *      script never touches the disk nor a command line). A close-on-exec
 *      pipe tells the shim whether the exec succeeded;
 *   5. writes "started PID MS\n" on fd 1, closes fds 0 and 1, and writes
 *      DIR/shim.json (pid, start time, pgid, cgroups) by rename;
 *   6. copies the task's stdout and stderr to user.pai.stdout, .stderr and
 *      .all, rotating each at log_max_bytes (one ".1" kept);
 *   7. on SIGTERM (exec_kill; si_value, when queued, is the grace in
 *      seconds) sends SIGTERM to the whole tree, SIGKILL after the grace;
 *   8. when bash exits, kills what is left of the tree, drains the pipes,
 *      reads the OOM counter, removes the cgroups, writes DIR/exit.json
 *      (fsync, rename, fsync dir) and exits, releasing the lock.
 *
 * The tree is every process in the task's cgroups, the task's process
 * group, and every descendant of the shim: the shim is a child subreaper,
 * so even a process that leaves the session and the cgroup-less machine's
 * process group is re-parented to it and found.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/local/internal.h"

#define DEFAULT_LOG_MAX (64LL << 20)
#define BASH "/bin/bash"

struct shim_run {
	json_t *desc;                      /* the launch description: script and env live in it */
	const char *uid, *dir, *cwd, *script, *image;
	int64_t memory_mb, log_max;
	double cpu;
	int grace_s;
	struct cg_task cg;

	int rlog, lockfd, sigfd, devnull;
	int out_r, err_r;                  /* the task's stdout/stderr pipes, -1 at EOF */
	struct exec_logf lout, lerr, lall;
	bool log_failed;

	pid_t task;                        /* bash: also the process group */
	int64_t started_ms;
	bool bash_done;
	int bash_status;
	bool stopping, killed;
	int64_t kill_at;                   /* monotonic ms of the SIGKILL, when stopping */
};

/* What the vfork child needs, computed before the vfork. */
struct child_args {
	char procs[3][EXEC_PATH_MAX];
	int nprocs;
	const char *cwd;
	int devnull, out_w, err_w, memfd, errpipe;
	char *argv[3];
	char **envp;
};

/* the vfork child's report when it fails before exec */
enum child_step { STEP_SETSID = 1, STEP_CGROUP, STEP_CHDIR, STEP_FDS, STEP_EXEC };
struct child_err {
	int step, err, index;
};

/* ---- runtime.log --------------------------------------------------------------- */

static void rlog(struct shim_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rlog(struct shim_run *r, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ shim[%d] ", ts.tv_nsec / 1000000, (int)getpid());
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n += m < 0 ? 0 : m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(r->rlog >= 0 ? r->rlog : STDERR_FILENO, line, (size_t)n);
	(void)w;
}

/* ---- the user logs ------------------------------------------------------------- */

/* A full disk costs log lines, never the task: reported once, reading goes on. */
static void log_out(struct shim_run *r, struct exec_logf *lf, const char *p, size_t n)
{
	struct gerr e;
	if (exec__logf_write(lf, r->log_max, p, n, &e) < 0 && !r->log_failed) {
		rlog(r, "%s (task output is being lost)", e.msg);
		r->log_failed = true;
	}
}

/* Copy what one pipe has; at EOF (or error) the pipe is closed and -1. */
static void pump(struct shim_run *r, int *fd, struct exec_logf *lf)
{
	char buf[65536];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	log_out(r, lf, buf, (size_t)n);
	log_out(r, &r->lall, buf, (size_t)n);
}

/* ---- the task's tree ------------------------------------------------------------ */

/* Reap every exited child (bash, and orphans re-parented to us). */
static void reap(struct shim_run *r)
{
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == r->task) {
			r->bash_done = true;
			r->bash_status = st;
		}
}

/* Signal the whole tree; returns how many processes were found. */
static int signal_tree(struct shim_run *r, int sig)
{
	int n = 0;
	if (r->task > 0 && kill(-r->task, sig) == 0)
		n++;
	n += exec__cg_signal(&r->cg, sig);
	/* the tree cgroup holds every descendant; without one, walk /proc */
	if (!r->cg.tree[0]) {
		struct gerr e;
		int k = exec__signal_descendants(sig, &e);
		if (k < 0)
			rlog(r, "%s", e.msg);
		else
			n += k;
	}
	return n;
}

/* After bash: SIGKILL until nothing of the tree is left (bounded). */
static void kill_rest(struct shim_run *r)
{
	int64_t end = exec__mono_ms() + 5000;
	bool said = false;
	for (;;) {
		reap(r);
		int n = signal_tree(r, SIGKILL);
		reap(r);
		if (n == 0 && exec__cg_is_empty(&r->cg))
			return;
		if (!said) {
			rlog(r, "killing what is left of the task's tree (SIGKILL)");
			said = true;
		}
		if (exec__mono_ms() > end) {
			rlog(r, "the task's tree is still not empty after 5 s of SIGKILL");
			return;
		}
		nanosleep(&(struct timespec){ 0, 2 * 1000 * 1000 }, NULL);
	}
}

/* ---- launching ------------------------------------------------------------------- */

static void __attribute__((noreturn)) child_exec(const struct child_args *a)
{
	struct child_err ce = { 0, 0, 0 };
	sigset_t none;
	if (setsid() < 0) {
		ce.step = STEP_SETSID;
		goto fail;
	}
	for (int i = 0; i < a->nprocs; i++) {
		int fd = open(a->procs[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			ce.step = STEP_CGROUP;
			ce.index = i;
			goto fail;
		}
		close(fd);
	}
	if (chdir(a->cwd) < 0) {
		ce.step = STEP_CHDIR;
		goto fail;
	}
	if (dup2(a->devnull, 0) < 0 || dup2(a->out_w, 1) < 0 || dup2(a->err_w, 2) < 0 ||
	    (a->memfd == 3 ? fcntl(3, F_SETFD, 0) : dup2(a->memfd, 3)) < 0 ||
	    close_range(4, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		ce.step = STEP_FDS;
		goto fail;
	}
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(BASH, a->argv, a->envp);
	ce.step = STEP_EXEC;
fail:
	ce.err = errno;
	if (write(a->errpipe, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

/* vfork keeps the start cheap: no copy of the shim's page tables. */
static pid_t spawn_task(const struct child_args *a)
{
	pid_t pid = vfork();
	if (pid == 0)
		child_exec(a);
	return pid;
}

static const char *step_name(const struct child_err *ce, const struct child_args *a)
{
	switch (ce->step) {
	case STEP_SETSID: return "setsid";
	case STEP_CGROUP: return a->procs[ce->index];
	case STEP_CHDIR: return a->cwd;
	case STEP_FDS: return "dup2";
	default: return BASH;
	}
}

/* Seal the script into a memfd: bash reads it through /proc/self/fd/3. The
 * prefix closes fd 3 at once so the task's children do not inherit it; it
 * shares the first line, so line numbers stay those of the script. */
static int make_memfd(struct shim_run *r)
{
	static const char prefix[] = "exec 3<&-; ";
	int fd = memfd_create("gantry-task-script", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		rlog(r, "memfd_create: %s", strerror(errno));
		return -1;
	}
	const char *parts[2] = { prefix, r->script };
	size_t lens[2] = { sizeof(prefix) - 1, strlen(r->script) };
	for (int i = 0; i < 2; i++) {
		const char *p = parts[i];
		size_t n = lens[i];
		while (n > 0) {
			ssize_t w = write(fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rlog(r, "cannot write the script to its memfd: %s", strerror(errno));
				close(fd);
				return -1;
			}
			p += w;
			n -= (size_t)w;
		}
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		rlog(r, "cannot seal the script's memfd: %s", strerror(errno));
	return fd;
}

/* ---- records ----------------------------------------------------------------------- */

static void write_exit(struct shim_run *r, const struct exec_exit *ex)
{
	struct gerr e;
	json_t *j = exec__exit_to_json(ex);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!s || exec__write_atomic(r->dir, "exit.json", s, strlen(s), true, &e) < 0)
		rlog(r, "cannot write exit.json: %s", s ? e.msg : "out of memory");
	free(s);
	json_decref(j);
}

static void write_shim_json(struct shim_run *r)
{
	struct gerr e;
	json_t *j = json_pack("{s:i, s:I, s:i, s:i, s:I, s:s, s:I, s:o}", "pid", (int)getpid(), "startTime",
	                      (json_int_t)exec__proc_start_time(getpid()), "pgid", (int)r->task, "taskPid",
	                      (int)r->task, "taskStartTime", (json_int_t)exec__proc_start_time(r->task), "uid",
	                      r->uid, "startedMs", (json_int_t)r->started_ms, "cgroups",
	                      exec__cg_task_to_json(&r->cg));
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!s || exec__write_atomic(r->dir, "shim.json", s, strlen(s), false, &e) < 0)
		rlog(r, "cannot write shim.json: %s", s ? e.msg : "out of memory");
	free(s);
	json_decref(j);
}

/* The task could not be started: exit.json says why (exit code 127). */
static int fail_start(struct shim_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_start(struct shim_run *r, const char *fmt, ...)
{
	struct exec_exit ex = { .exit_code = 127, .finished_ms = exec__now_ms() };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ex.message, sizeof(ex.message), fmt, ap);
	va_end(ap);
	rlog(r, "cannot start the task: %s", ex.message);
	exec__cg_kill_wait(&r->cg, 2000);
	struct gerr e;
	if (exec__cg_task_remove(&r->cg, &e) < 0)
		rlog(r, "%s", e.msg);
	write_exit(r, &ex);
	return 0;
}

/* ---- reading the launch description ------------------------------------------------ */

static json_t *read_desc(void)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= (64u << 20)) {
				free(buf);
				fprintf(stderr, "gantry shim: launch description over 64 MiB\n");
				return NULL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(0, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "gantry shim: reading the launch description: %s\n", strerror(errno));
			free(buf);
			return NULL;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n == 0) {   /* a spare the zygote never handed out: its server is gone */
		free(buf);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(buf, n, 0, &je);
	free(buf);
	if (!j)
		fprintf(stderr, "gantry shim: bad launch description: %s\n", je.text);
	return j;
}

static int parse_desc(struct shim_run *r, json_t *j)
{
	r->desc = j;
	r->uid = json_string_value(json_object_get(j, "uid"));
	r->dir = json_string_value(json_object_get(j, "dir"));
	r->cwd = json_string_value(json_object_get(j, "cwd"));
	r->script = json_string_value(json_object_get(j, "script"));
	r->image = json_string_value(json_object_get(j, "image"));
	r->memory_mb = json_integer_value(json_object_get(j, "memoryMB"));
	r->cpu = json_number_value(json_object_get(j, "cpu"));
	r->grace_s = (int)json_integer_value(json_object_get(j, "graceS"));
	r->log_max = json_integer_value(json_object_get(j, "logMaxBytes"));
	if (r->log_max <= 0)
		r->log_max = DEFAULT_LOG_MAX;
	exec__cg_task_from_json(json_object_get(j, "cgroups"), &r->cg);
	if (!r->uid || !r->dir || !r->cwd || !r->script || !json_is_array(json_object_get(j, "env"))) {
		fprintf(stderr, "gantry shim: the launch description lacks uid, dir, cwd, script or env\n");
		return -1;
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------------------ */

static int start_task(struct shim_run *r)
{
	struct child_args a = { .cwd = r->cwd, .devnull = r->devnull };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, ep[2] = { -1, -1 };
	struct gerr e;
	json_t *env = json_object_get(r->desc, "env");
	size_t nenv = json_array_size(env);
	int rc = -1;

	a.envp = calloc(nenv + 1, sizeof(char *));
	if (!a.envp)
		return fail_start(r, "out of memory");
	for (size_t i = 0; i < nenv; i++)
		a.envp[i] = (char *)json_string_value(json_array_get(env, i));
	a.argv[0] = (char *)"bash";
	a.argv[1] = (char *)"/proc/self/fd/3";

	if (exec__mkdir_p(r->cwd, &e) < 0) {
		rc = fail_start(r, "cannot create the working directory: %s", e.msg);
		goto out;
	}
	if (exec__cg_task_any(&r->cg)) {
		if (exec__cg_task_create(&r->cg, r->memory_mb, r->cpu, &e) < 0) {
			rc = fail_start(r, "%s", e.msg);
			goto out;
		}
		rlog(r, "cgroups: memory %s%s, cpu %s%s, tree %s", r->cg.mem[0] ? r->cg.mem : "-",
		     r->memory_mb > 0 && r->cg.mem[0] ? "" : " (no limit)", r->cg.cpu[0] ? r->cg.cpu : "-",
		     r->cpu > 0 && r->cg.cpu[0] ? "" : " (no limit)", r->cg.tree[0] ? r->cg.tree : "-");
	}
	if (r->memory_mb > 0 && !r->cg.mem[0])
		rlog(r, "memory limit %lld MiB requested, but not enforced here (no memory cgroup)",
		     (long long)r->memory_mb);
	if (r->cpu > 0 && !r->cg.cpu[0])
		rlog(r, "cpu limit %.2f requested, but not enforced here (no cpu cgroup)", r->cpu);
	if (r->image && *r->image)
		rlog(r, "image %s: the local executor runs tasks on the host, not in the image", r->image);
	a.nprocs = exec__cg_procs_paths(&r->cg, a.procs);

	a.memfd = make_memfd(r);
	if (a.memfd < 0) {
		rc = fail_start(r, "cannot hold the script in memory");
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		rc = fail_start(r, "pipe: %s", strerror(errno));
		goto out;
	}
	/* keep the error pipe clear of fds 0..3, which the child rearranges */
	a.errpipe = fcntl(ep[1], F_DUPFD_CLOEXEC, 10);
	if (a.errpipe < 0) {
		rc = fail_start(r, "fcntl: %s", strerror(errno));
		goto out;
	}
	a.out_w = outp[1];
	a.err_w = errp[1];

	pid_t pid = spawn_task(&a);
	int verr = errno;
	close(a.errpipe);
	close(ep[1]);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = ep[1] = -1;
	if (pid < 0) {
		rc = fail_start(r, "vfork: %s", strerror(verr));
		goto out;
	}
	struct child_err ce;
	ssize_t n;
	while ((n = read(ep[0], &ce, sizeof(ce))) < 0 && errno == EINTR)
		;
	if (n != 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof(ce))
			rc = fail_start(r, "%s: %s", step_name(&ce, &a), strerror(ce.err));
		else
			rc = fail_start(r, "the task's process failed before exec");
		goto out;
	}
	r->task = pid;
	r->started_ms = exec__now_ms();
	r->out_r = outp[0];
	r->err_r = errp[0];
	outp[0] = errp[0] = -1;

	/* the server learns first; then the record for a restarted server */
	char line[64];
	int len = snprintf(line, sizeof(line), "started %d %lld\n", (int)pid, (long long)r->started_ms);
	if (write(1, line, (size_t)len) != len)
		rlog(r, "cannot tell the server the task started: %s", strerror(errno));
	if (dup2(r->devnull, 0) < 0 || dup2(r->devnull, 1) < 0)
		rlog(r, "dup2: %s", strerror(errno));
	write_shim_json(r);
	rlog(r, "task started: bash pid %d", (int)pid);
	rc = 1;
out:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	if (a.memfd >= 0)
		close(a.memfd);
	free(a.envp);
	return rc;
}

static void on_signals(struct shim_run *r)
{
	struct signalfd_siginfo si;
	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD) {
			reap(r);
			continue;
		}
		if (sig != SIGTERM && sig != SIGINT) {
			rlog(r, "ignoring signal %d from pid %u", sig, si.ssi_pid);
			continue;
		}
		int grace = r->grace_s;
		if (si.ssi_code == SI_QUEUE && si.ssi_int >= 0)
			grace = si.ssi_int;
		int64_t at = exec__mono_ms() + (int64_t)grace * 1000;
		if (!r->stopping) {
			r->stopping = true;
			rlog(r, "stop (signal %d from pid %u): SIGTERM to the task's tree, SIGKILL in %d s", sig,
			     si.ssi_pid, grace);
			signal_tree(r, SIGTERM);
			r->kill_at = at;
		} else if (at < r->kill_at && !r->killed) {
			rlog(r, "stop again: SIGKILL in %d s", grace);
			r->kill_at = at;
		}
	}
}

/* Is any process of the task's tree left (bash aside)? */
static bool tree_alive(struct shim_run *r)
{
	struct gerr e;
	if (r->task > 0 && kill(-r->task, 0) == 0)
		return true;
	if (!exec__cg_is_empty(&r->cg))
		return true;
	return !r->cg.tree[0] && exec__signal_descendants(0, &e) > 0;
}

static void supervise(struct shim_run *r)
{
	bool said = false;
	for (;;) {
		if (r->bash_done) {
			/* a stop gives the whole tree its grace period, not only bash:
			 * bash may die of the SIGTERM while a subshell traps it */
			if (!r->stopping || r->killed || !tree_alive(r))
				return;
			if (!said)
				rlog(r, "bash ended; the rest of the task's tree has until the grace period ends");
			said = true;
		}
		struct pollfd p[3] = {
			{ .fd = r->sigfd, .events = POLLIN },
			{ .fd = r->out_r, .events = POLLIN },
			{ .fd = r->err_r, .events = POLLIN },
		};
		int timeout = -1;
		if (r->stopping && !r->killed) {
			int64_t left = r->kill_at - exec__mono_ms();
			timeout = left < 0 ? 0 : (int)left;
		}
		if (r->bash_done && (timeout < 0 || timeout > 20))
			timeout = 20;   /* no event says the tree is empty: look again soon */
		int n = poll(p, 3, timeout);
		if (n < 0 && errno != EINTR) {
			rlog(r, "poll: %s", strerror(errno));
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		}
		if (n > 0 && p[0].revents)
			on_signals(r);
		if (n > 0 && p[1].revents)
			pump(r, &r->out_r, &r->lout);
		if (n > 0 && p[2].revents)
			pump(r, &r->err_r, &r->lerr);
		if (r->stopping && !r->killed && exec__mono_ms() >= r->kill_at) {
			rlog(r, "grace over: SIGKILL to the task's tree");
			signal_tree(r, SIGKILL);
			r->killed = true;
		}
		reap(r);
	}
}

/* The pipes' writers are all dead now: read what is left (bounded). */
static void drain(struct shim_run *r)
{
	int64_t end = exec__mono_ms() + 2000;
	while (r->out_r >= 0 || r->err_r >= 0) {
		struct pollfd p[2] = { { .fd = r->out_r, .events = POLLIN }, { .fd = r->err_r, .events = POLLIN } };
		int64_t left = end - exec__mono_ms();
		if (left <= 0 || poll(p, 2, (int)left) == 0) {
			rlog(r, "the task's output pipes are still open after its tree was killed; not waiting");
			return;
		}
		if (p[0].revents)
			pump(r, &r->out_r, &r->lout);
		if (p[1].revents)
			pump(r, &r->err_r, &r->lerr);
	}
}

static void finish(struct shim_run *r)
{
	struct exec_exit ex = { .started_ms = r->started_ms, .stopped = r->stopping };
	int st = r->bash_status;
	char what[96];
	kill_rest(r);
	drain(r);
	int64_t ooms = exec__cg_oom_kills(&r->cg);
	struct gerr e;
	if (exec__cg_task_remove(&r->cg, &e) < 0)
		rlog(r, "%s", e.msg);
	if (WIFSIGNALED(st)) {
		ex.signal = WTERMSIG(st);
		ex.exit_code = 128 + ex.signal;
		const char *abbrev = sigabbrev_np(ex.signal);
		snprintf(what, sizeof(what), "killed by signal %d (SIG%s)", ex.signal, abbrev ? abbrev : "?");
	} else {
		ex.exit_code = WEXITSTATUS(st);
		snprintf(what, sizeof(what), "exited with %d", ex.exit_code);
	}
	ex.oom = ooms > 0;
	if (ex.oom && ex.exit_code == 0)
		snprintf(ex.message, sizeof(ex.message), "%s, but the memory limit (%lld MiB) killed a process of the task",
		         what, (long long)r->memory_mb);
	else if (ex.oom)
		snprintf(ex.message, sizeof(ex.message), "killed by the memory limit (%lld MiB): %s",
		         (long long)r->memory_mb, what);
	else if (ex.stopped)
		snprintf(ex.message, sizeof(ex.message), "stopped: %s", what);
	else
		snprintf(ex.message, sizeof(ex.message), "%s", what);
	ex.finished_ms = exec__now_ms();
	write_exit(r, &ex);
	rlog(r, "task over: %s", ex.message);
}

int exec__shim_run(void)
{
	struct shim_run r = { .rlog = -1, .lockfd = -1, .sigfd = -1, .devnull = -1, .out_r = -1, .err_r = -1 };
	struct exec_logf *logs[3] = { &r.lout, &r.lerr, &r.lall };
	int rc = 1;
	sigset_t mask;

	for (int i = 0; i < 3; i++)
		logs[i]->fd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fprintf(stderr, "gantry shim: sigprocmask: %s\n", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (setsid() < 0 && errno != EPERM)
		fprintf(stderr, "gantry shim: setsid: %s\n", strerror(errno));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr, "gantry shim: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
	prctl(PR_SET_NAME, "gantry-shim");

	r.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	r.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.devnull < 0 || r.sigfd < 0)
		fprintf(stderr, "gantry shim: %s: %s\n", r.devnull < 0 ? "/dev/null" : "signalfd", strerror(errno));
	json_t *desc = read_desc();
	if (!desc || parse_desc(&r, desc) < 0)
		goto out;
	char path[EXEC_PATH_MAX];
	snprintf(path, sizeof(path), "%s/runtime.log", r.dir);
	r.rlog = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (r.rlog < 0) {
		fprintf(stderr, "gantry shim: cannot open %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (dup2(r.rlog, 2) < 0)   /* stray messages (libraries, sanitizers) go to runtime.log */
		rlog(&r, "dup2: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/lock", r.dir);
	r.lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (r.lockfd < 0 || flock(r.lockfd, LOCK_EX | LOCK_NB) < 0) {
		rlog(&r, "cannot lock %s: %s (another shim runs in this directory?)", path, strerror(errno));
		goto out;
	}
	rlog(&r, "shim for task %s", r.uid);
	if (r.devnull < 0 || r.sigfd < 0) {
		rc = fail_start(&r, "cannot open %s", r.devnull < 0 ? "/dev/null" : "a signalfd");
		goto out;
	}
	struct gerr e;
	if (exec__logf_open(&r.lout, r.dir, "user.pai.stdout", &e) < 0 ||
	    exec__logf_open(&r.lerr, r.dir, "user.pai.stderr", &e) < 0 ||
	    exec__logf_open(&r.lall, r.dir, "user.pai.all", &e) < 0) {
		rc = fail_start(&r, "%s", e.msg);
		goto out;
	}
	if (start_task(&r) <= 0) {
		rc = 0;
		goto out;
	}
	supervise(&r);
	finish(&r);
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		exec__logf_close(logs[i]);
	if (r.out_r >= 0)
		close(r.out_r);
	if (r.err_r >= 0)
		close(r.err_r);
	if (r.sigfd >= 0)
		close(r.sigfd);
	if (r.devnull >= 0)
		close(r.devnull);
	if (r.rlog >= 0)
		close(r.rlog);
	json_decref(desc);
	/* the lock goes last: once it is free, exit.json is complete */
	if (r.lockfd >= 0)
		close(r.lockfd);
	return rc;
}

int exec_shim_main(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "--zygote"))
		return exec__zygote_main();
	return exec__shim_run();
}
