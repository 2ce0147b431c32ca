/* SPDX-License-Identifier: MIT */
/*
 * shim.c — `gantry shim`: the supervisor of one task attempt.
 *
 * DESIGN
 * ------
 * The shim is started by exec_launch (forked by the zygote, or spawned) in
 * its own session, with a socket as fd 0 and fd 1. It:
 *
 *   0. as a spare of the zygote, before any launch: makes its task's
 *      process ahead of time, already in fresh cgroups (stub.c), because
 *      moving a process into a cgroup is the slowest step of a launch;
 *   1. reads the launch description (JSON) from fd 0 until EOF;
 *   2. claims the attempt: binds an abstract socket named after DIR
 *      (claim.c), held until it exits ("claim held" is how a restarted
 *      server knows the shim lives); then checks that its server is still
 *      there (its end of the socket not closed). A shim whose server is
 *      gone by then does not start the task: a restarted server may already
 *      have decided that the attempt never started (adopt.c);
 *   3. makes the cwd, writes the limits into the stub's cgroups and the
 *      script into a sealed memfd;
 *   4. tells the stub to go: it makes the pipes its fds, changes to the cwd
 *      and execs /bin/bash /proc/self/fd/3 (the memfd: the script never
 *      touches the disk nor a command line) with exactly the given
 *      environment. A close-on-exec pipe says whether the exec succeeded;
 *   5. while bash starts: makes DIR, creates runtime.log (its lines so far
 *      were kept in memory, with their times) and shim.json (pid, start
 *      time, task pid, cgroups); then writes "started PID MS" on fd 1 and
 *      closes fds 0 and 1;
 *   6. copies the task's stdout and stderr to user.pai.stdout, .stderr and
 *      .all, each created by its first write and rotated at log_max_bytes
 *      (one ".1" kept);
 *   7. on SIGTERM (exec_kill; si_value, when queued, is the grace in
 *      seconds) sends SIGTERM to the whole tree, SIGKILL after the grace;
 *   8. when bash exits, kills what is left of the tree, drains the pipes,
 *      reads the OOM counter, removes the cgroups, writes DIR/exit.json
 *      (fsync, rename, fsync dir) and exits, releasing the lock.
 *
 * Before bash starts the shim creates on disk only the cwd: creating files
 * and directories costs milliseconds on a busy ext4. When DIR cannot be
 * made there is no exit.json to write: the shim says "failed MESSAGE" on
 * fd 1 instead (and kills the task if it runs).
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
	struct cg_task roots;              /* where the task's cgroups go */
	struct cg_task cg;                 /* the task's cgroups, once it runs */
	struct stub stub;                  /* the task's process until it runs */
	char stub_why[512];                /* why no stub could be made ahead of time */
	pid_t self;
	int64_t self_start;                /* our start time: names our cgroups, in shim.json */
	int delay_claim_ms, delay_start_ms;   /* tests only: widen the windows before and after the claim */

	int rlog, claimfd, sigfd, devnull;
	bool claimed;                      /* the attempt is ours: DIR may be made */
	bool dir_made, record_written;
	char rbuf[8192];                   /* runtime.log lines before the file exists */
	size_t rbuf_len;
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

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
}

/* ---- runtime.log --------------------------------------------------------------- */

/* A line of runtime.log, timestamped now. Until the file exists (it is
 * made once the task runs) lines wait in memory, keeping their times. */
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
	if (r->rlog < 0 && r->rbuf_len + (size_t)n <= sizeof(r->rbuf)) {
		memcpy(r->rbuf + r->rbuf_len, line, (size_t)n);
		r->rbuf_len += (size_t)n;
		return;
	}
	ssize_t w = write(r->rlog >= 0 ? r->rlog : STDERR_FILENO, line, (size_t)n);
	(void)w;
}

/* Create runtime.log (DIR is claimed), write what waited, and make it our
 * stderr. Before the claim the lines stay in memory (stderr at the end). */
static int make_dir(struct shim_run *r, struct gerr *err);
static void rlog_open(struct shim_run *r)
{
	char path[EXEC_PATH_MAX];
	struct gerr e;
	if (r->rlog >= 0 || !r->claimed || make_dir(r, &e) < 0)
		return;
	snprintf(path, sizeof(path), "%s/runtime.log", r->dir);
	r->rlog = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (r->rlog < 0) {
		fprintf(stderr, "gantry shim: cannot open %s: %s\n", path, strerror(errno));
		return;
	}
	ssize_t w = write(r->rlog, r->rbuf, r->rbuf_len);
	(void)w;
	r->rbuf_len = 0;
	if (dup2(r->rlog, 2) < 0)   /* stray messages (libraries, sanitizers) go to runtime.log */
		rlog(r, "dup2: %s", strerror(errno));
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

/* Fill the stub's memfd with the script and seal it: bash reads it through
 * /proc/self/fd/3. The prefix closes fd 3 at once so the task's children
 * do not inherit it; it shares the first line, so line numbers stay those
 * of the script. */
static int write_script(struct shim_run *r, int fd)
{
	static const char prefix[] = "exec 3<&-; ";
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
				return -1;
			}
			p += w;
			n -= (size_t)w;
		}
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		rlog(r, "cannot seal the script's memfd: %s", strerror(errno));
	return 0;
}

/* Make the stub: the task's process, in cgroups named after us. */
static int prepare(struct shim_run *r)
{
	struct cg_task cg;
	struct gerr e;
	char name[64];
	exec__cg_shim_name(r->self, r->self_start, name, sizeof(name));
	exec__cg_task_named(&r->roots, name, true, true, &cg);
	if (exec__stub_make(&r->stub, &cg, r->devnull, &e) < 0) {
		snprintf(r->stub_why, sizeof(r->stub_why), "%s", e.msg);
		return -1;
	}
	r->stub_why[0] = '\0';
	return 0;
}

/* ---- records ----------------------------------------------------------------------- */

/* exit.json: shim.json's inode rewritten and renamed when there is one
 * (one inode fewer per task), else a new file; either way fsynced, with its
 * directory, before the claim is let go. */
static void write_exit(struct shim_run *r, const struct exec_exit *ex)
{
	struct gerr e;
	json_t *j = exec__exit_to_json(ex);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (s && r->record_written && exec__write_over(r->dir, "shim.json", "exit.json", s, strlen(s), &e) == 0)
		goto out;
	if (s && r->record_written)
		rlog(r, "%s; writing exit.json anew", e.msg);
	if (!s || exec__write_atomic(r->dir, "exit.json", s, strlen(s), true, &e) < 0)
		rlog(r, "cannot write exit.json: %s", s ? e.msg : "out of memory");
out:
	free(s);
	json_decref(j);
}

/* DIR, once the attempt is ours. */
static int make_dir(struct shim_run *r, struct gerr *err)
{
	if (r->dir_made)
		return 0;
	if (exec__mkdir_p(r->dir, err) < 0)
		return GERR_IO;
	r->dir_made = true;
	return 0;
}

/* The record, once the task runs. Written in place (one inode, no rename):
 * a reader that finds it torn (being written) tries again. */
static void write_shim_json(struct shim_run *r)
{
	char path[EXEC_PATH_MAX];
	json_t *j = json_pack("{s:i, s:I, s:i, s:i, s:I, s:s, s:I, s:o}", "pid", (int)r->self, "startTime",
	                      (json_int_t)r->self_start, "pgid", (int)r->task, "taskPid", (int)r->task,
	                      "taskStartTime", (json_int_t)exec__proc_start_time(r->task), "uid", r->uid,
	                      "startedMs", (json_int_t)r->started_ms, "cgroups", exec__cg_task_to_json(&r->cg));
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t n = s ? strlen(s) : 0;
	snprintf(path, sizeof(path), "%s/shim.json", r->dir);
	int fd = s ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	if (fd < 0 || write(fd, s, n) != (ssize_t)n)
		rlog(r, "cannot write %s: %s", path, s ? strerror(errno) : "out of memory");
	else
		r->record_written = true;
	if (fd >= 0)
		close(fd);
	free(s);
	json_decref(j);
}

/* No DIR, so no exit.json: tell the server why instead. */
static int say_failed(struct shim_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say_failed(struct shim_run *r, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	for (int i = 0; i < n; i++)
		if (msg[i] == '\n')
			msg[i] = ' ';
	rlog(r, "cannot start the task: %s", msg);
	char line[640];
	int len = snprintf(line, sizeof(line), "failed %.*s\n", n, msg);
	if (write(1, line, (size_t)len) != len)
		rlog(r, "cannot tell the server: %s", strerror(errno));
	return -1;
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
	exec__stub_discard(&r->stub);   /* kills it, removes its cgroups */
	struct gerr e;
	if (make_dir(r, &e) < 0) {   /* no exit.json without DIR */
		say_failed(r, "%s; and %s", ex.message, e.msg);
		return 0;
	}
	rlog_open(r);
	rlog(r, "cannot start the task: %s", ex.message);
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
	struct cg_task roots;
	struct gerr e;
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
	if (!r->uid || !r->dir || !r->cwd || !r->script || !json_is_array(json_object_get(j, "env"))) {
		fprintf(stderr, "gantry shim: the launch description lacks uid, dir, cwd, script or env\n");
		return -1;
	}
	if (strlen(r->dir) > EXEC_PATH_MAX - 32) {
		fprintf(stderr, "gantry shim: %s: path too long\n", r->dir);
		return -1;
	}
	/* the server's roots win over the zygote's (they are the same, unless
	 * cgroups were turned off in between) */
	exec__cg_task_from_json(json_object_get(j, "cgroupRoots"), &roots);
	if (memcmp(&roots, &r->roots, sizeof(roots))) {
		exec__stub_discard(&r->stub);
		r->roots = roots;
	}
	if (exec__logf_init(&r->lout, r->dir, "user.pai.stdout", &e) < 0 ||
	    exec__logf_init(&r->lerr, r->dir, "user.pai.stderr", &e) < 0 ||
	    exec__logf_init(&r->lall, r->dir, "user.pai.all", &e) < 0) {
		fprintf(stderr, "gantry shim: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* ---- claiming DIR ------------------------------------------------------------------- */

/* Is our server still there? Its end of our socket closes when it exits. */
static bool server_gone(void)
{
	struct pollfd p = { .fd = 1, .events = 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/*
 * Take the claim (waiting a little for a shim that is giving it up), then
 * check that the server is still there. After this, adopt.c finds us: the
 * claim is held, and names our pid. A server that died before the check
 * may have been replaced by one that found the attempt unclaimed and
 * decided it never started: then we must not start it, and do not. 0, or
 * -1 when the task is not ours to start.
 */
static int claim(struct shim_run *r)
{
	struct gerr e;
	if (r->delay_claim_ms > 0)
		sleep_ms(r->delay_claim_ms);
	int64_t end = exec__mono_ms() + 2000;
	int rc;
	while ((rc = exec__claim_take(r->dir, &r->claimfd, &e)) == GERR_CONFLICT && exec__mono_ms() < end)
		sleep_ms(2);
	if (rc < 0)
		return say_failed(r, "%s", e.msg);
	if (server_gone()) {
		rlog(r, "the server went away before the task started: not starting it (a restarted server "
		        "launches it again)");
		return -1;
	}
	r->claimed = true;
	if (r->delay_start_ms > 0)
		sleep_ms(r->delay_start_ms);
	return 0;
}

/* ---- the run ------------------------------------------------------------------------ */

static int start_task(struct shim_run *r)
{
	struct exec_child_args a = { .cwd = r->cwd };
	struct exec_child_err ce;
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
	/* a stub that died unused (killed) is made again, once */
	for (int tries = 0;; tries++) {
		if (!r->stub.pid && prepare(r) < 0) {
			rc = fail_start(r, "%s", r->stub_why);
			goto out;
		}
		r->cg = r->stub.cg;
		if (exec__cg_task_any(&r->cg)) {
			if (exec__cg_task_limit(&r->cg, r->memory_mb, r->cpu, &e) < 0) {
				rc = fail_start(r, "%s", e.msg);
				goto out;
			}
			rlog(r, "cgroups: memory %s%s, cpu %s%s, tree %s", r->cg.mem[0] ? r->cg.mem : "-",
			     r->memory_mb > 0 && r->cg.mem[0] ? "" : " (no limit)", r->cg.cpu[0] ? r->cg.cpu : "-",
			     r->cpu > 0 && r->cg.cpu[0] ? "" : " (no limit)", r->cg.tree[0] ? r->cg.tree : "-");
		}
		if (tries == 0 && r->memory_mb > 0 && !r->cg.mem[0])
			rlog(r, "memory limit %lld MiB requested, but not enforced here (no memory cgroup)",
			     (long long)r->memory_mb);
		if (tries == 0 && r->cpu > 0 && !r->cg.cpu[0])
			rlog(r, "cpu limit %.2f requested, but not enforced here (no cpu cgroup)", r->cpu);
		if (tries == 0 && r->image && *r->image)
			rlog(r, "image %s: the local executor runs tasks on the host, not in the image", r->image);
		if (write_script(r, r->stub.memfd) < 0) {
			rc = fail_start(r, "cannot hold the script in memory");
			goto out;
		}
		if (exec__stub_start(&r->stub, &a, &ce) == 0)
			break;
		if (ce.step == EXEC_STEP_GONE && tries == 0) {
			rlog(r, "the task's process died before its launch; making it again");
			r->stub.pid = 0;
			exec__stub_discard(&r->stub);   /* fds; the cgroups are made again */
			continue;
		}
		if (ce.step == EXEC_STEP_CHDIR)
			rc = fail_start(r, "cannot change to the working directory %s: %s", r->cwd, strerror(ce.err));
		else
			rc = fail_start(r, "%s: %s", exec__child_step_name(ce.step), strerror(ce.err));
		goto out;
	}
	r->task = r->stub.pid;
	r->started_ms = exec__now_ms();
	r->out_r = r->stub.out_r;
	r->err_r = r->stub.err_r;
	r->stub.out_r = r->stub.err_r = -1;
	r->stub.pid = 0;   /* it is the task now, and its cgroups r->cg */
	memset(&r->stub.cg, 0, sizeof(r->stub.cg));

	/* while bash starts: DIR and the records, then the server learns */
	if (make_dir(r, &e) < 0) {   /* no logs, no exit record: the task cannot run */
		struct gerr e2;
		kill_rest(r);
		if (exec__cg_task_remove(&r->cg, &e2) < 0)
			rlog(r, "%s", e2.msg);
		say_failed(r, "cannot create the attempt's directory: %s", e.msg);
		rc = 0;
		goto out;
	}
	rlog_open(r);
	write_shim_json(r);
	char line[64];
	int len = snprintf(line, sizeof(line), "started %d %lld\n", (int)r->task, (long long)r->started_ms);
	if (write(1, line, (size_t)len) != len)
		rlog(r, "cannot tell the server the task started: %s", strerror(errno));
	if (dup2(r->devnull, 0) < 0 || dup2(r->devnull, 1) < 0)
		rlog(r, "dup2: %s", strerror(errno));
	rlog(r, "task started: bash pid %d", (int)r->task);
	rc = 1;
out:
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
	/* a task without a limit has a memory cgroup too: the counter then
	 * counts the machine's OOM killer, which is not what `oom` reports */
	int64_t ooms = r->memory_mb > 0 ? exec__cg_oom_kills(&r->cg) : -1;
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

int exec__shim_run(const struct cg_task *roots)
{
	struct shim_run r = { .rlog = -1, .claimfd = -1, .sigfd = -1, .devnull = -1, .out_r = -1, .err_r = -1 };
	struct exec_logf *logs[3] = { &r.lout, &r.lerr, &r.lall };
	json_t *desc = NULL;
	int rc = 1;
	sigset_t mask;

	for (int i = 0; i < 3; i++)
		logs[i]->fd = -1;
	exec__stub_init(&r.stub);
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

	r.self = getpid();
	r.self_start = exec__proc_start_time(r.self);
	/* tests of the crash windows (test_exec.c) */
	const char *delay = getenv("GANTRY_EXEC_TEST_DELAY_CLAIM_MS");
	r.delay_claim_ms = delay ? atoi(delay) : 0;
	delay = getenv("GANTRY_EXEC_TEST_DELAY_START_MS");
	r.delay_start_ms = delay ? atoi(delay) : 0;
	r.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	r.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.devnull < 0 || r.sigfd < 0)
		fprintf(stderr, "gantry shim: %s: %s\n", r.devnull < 0 ? "/dev/null" : "signalfd", strerror(errno));
	/* a spare: the task's process now, while nobody waits for it */
	if (roots && r.devnull >= 0) {
		r.roots = *roots;
		prepare(&r);
	}
	desc = read_desc();
	if (!desc || parse_desc(&r, desc) < 0)
		goto out;
	rlog(&r, "shim for task %s", r.uid);
	/* not a spare (or its stub failed): the task's process now, before the
	 * claim, so that it never holds the claim's fd */
	if (!r.stub.pid && r.devnull >= 0)
		prepare(&r);
	if (claim(&r) < 0)
		goto out;
	if (r.devnull < 0 || r.sigfd < 0) {
		rc = fail_start(&r, "cannot open %s", r.devnull < 0 ? "/dev/null" : "a signalfd");
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
	exec__stub_discard(&r.stub);   /* unused (a spare nobody launched, or the claim failed) */
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
	else if (r.rbuf_len > 0 && write(STDERR_FILENO, r.rbuf, r.rbuf_len) < 0)
		rc = 1;
	json_decref(desc);
	/* the claim goes last: once it is free, exit.json is complete */
	if (r.claimfd >= 0)
		close(r.claimfd);
#ifndef __SANITIZE_ADDRESS__
	/* not exit(): the forty libraries' destructors (gnutls, ldap, p11-kit...)
	 * would run, and fault in their pages, on every task's way out */
	_exit(rc);
#endif
	return rc;   /* sanitized: the leak check runs at exit */
}

int exec_shim_main(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "--zygote"))
		return exec__zygote_main(argc >= 2 ? argv[1] : NULL);
	return exec__shim_run(NULL);
}
