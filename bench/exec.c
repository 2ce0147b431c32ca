/* SPDX-License-Identifier: MIT */
/*
 * bench/exec — the local executor's launch latency with real shims.
 *
 * For each mode, N launches of a one-command script, one after another
 * (each waits for its exit, so runs do not pile up on the 2 cores):
 *
 *   launch    the exec_launch call itself (the caller's thread is free again)
 *   running   exec_launch called → the script's first command runs (bash's
 *             builtin `echo $EPOCHREALTIME` into a FIFO this program holds:
 *             the part of submit → running that is the executor's)
 *   started   exec_launch called → `started` callback (bash exec'd, and the
 *             attempt's directory and records made while it starts)
 *   exited    exec_launch called → `exited` callback (exit.json fsynced)
 *
 * Modes: the zygote (the default), the zygote with memory + cpu limits
 * (written into the cgroups its spare's task process already sits in), and
 * a plain posix_spawn of `gantry shim` (GANTRY_EXEC_ZYGOTE=0: the dynamic
 * loader's cost, and the cgroup move, on every launch). The floor beside
 * them is posix_spawn of /bin/true and its wait. Figures are printed, not
 * asserted. The shim is $GANTRY_BIN, else the gantry next to this
 * benchmark's build directory. $GANTRY_BENCH_KEEP keeps the attempt
 * directories (to read the shims' runtime.log).
 *
 *   bench/exec [N [DIR]]   N launches per mode (300); attempt directories
 *                          under DIR (BUILD/bench; /dev/shm leaves the disk out)
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "exec/exec.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	double started_at, exited_at;
	int exit_code;
};

static void on_started(void *ctx, const char *uid, int pid, int64_t ms)
{
	struct waiter *w = ctx;
	(void)uid, (void)pid, (void)ms;
	pthread_mutex_lock(&w->mu);
	w->started_at = now_ms();
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void on_exited(void *ctx, const char *uid, const struct exec_exit *ex)
{
	struct waiter *w = ctx;
	(void)uid;
	pthread_mutex_lock(&w->mu);
	w->exited_at = now_ms();
	w->exit_code = ex->exit_code;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static double real_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The next stamp written into the FIFO (epoch seconds), or 0 after ms. */
static double fifo_stamp(int fd, int ms)
{
	static char buf[256];
	static size_t len;
	for (;;) {
		char *nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			double v = atof(buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			return v;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, ms) != 1)
			return 0;
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno != EAGAIN)
			return 0;
		if (k > 0)
			len += (size_t)k;
		if (len >= sizeof(buf) - 1)
			len = 0;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void stats(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("    %-8s p50 %7.3f ms   p99 %7.3f ms   max %7.3f ms\n", what, v[n / 2], v[(n * 99) / 100],
	       v[n - 1]);
}

static int run(const char *bin, const char *mode, int n, int64_t memory_mb, double cpu, const char *base)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	struct waiter w = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	struct exec_callbacks cb = { on_started, on_exited, &w };
	struct gerr e;
	double *launch = calloc((size_t)n, sizeof(double)), *started = calloc((size_t)n, sizeof(double)),
	       *exited = calloc((size_t)n, sizeof(double)), *running = calloc((size_t)n, sizeof(double));
	char fifo[PATH_MAX], script[PATH_MAX + 64];
	snprintf(fifo, sizeof(fifo), "%s/%s.fifo", base, mode);
	snprintf(script, sizeof(script), "echo \"$EPOCHREALTIME\" > %s\n", fifo);
	/* held open read-write: writers never block, and never see it closed */
	int ff = mkfifo(fifo, 0600) == 0 ? open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC) : -1;
	struct exec *x = exec_new(bin, &cb, &e);
	if (!x || !launch || !started || !exited || !running || ff < 0) {
		fprintf(stderr, "bench/exec: exec_new: %s\n", x ? "out of memory, or no FIFO" : e.msg);
		return 1;
	}
	int failures = 0;
	for (int i = -5; i < n; i++) {   /* 5 warm-up launches */
		char uid[96], dir[PATH_MAX], cwd[PATH_MAX];
		snprintf(uid, sizeof(uid), "bench-%d-%s-%d", (int)getpid(), mode, i + 5);
		snprintf(dir, sizeof(dir), "%s/%s/attempt", base, uid);
		snprintf(cwd, sizeof(cwd), "%s/%s/cwd", base, uid);
		struct exec_task t = { .uid = uid, .dir = dir, .cwd = cwd, .script = script, .env = env,
			               .memory_mb = memory_mb, .cpu = cpu, .grace_s = 1 };
		pthread_mutex_lock(&w.mu);
		w.started_at = w.exited_at = 0;
		pthread_mutex_unlock(&w.mu);
		double t0 = now_ms(), r0 = real_ms();
		if (exec_launch(x, &t, &e) != 0) {
			fprintf(stderr, "bench/exec: exec_launch: %s\n", e.msg);
			failures++;
			continue;
		}
		double t1 = now_ms();
		double stamp = fifo_stamp(ff, 10000);
		pthread_mutex_lock(&w.mu);
		while (w.exited_at == 0)
			pthread_cond_wait(&w.cv, &w.mu);
		if (i >= 0) {
			launch[i] = t1 - t0;
			running[i] = stamp > 0 ? stamp * 1e3 - r0 : 0;
			started[i] = w.started_at - t0;
			exited[i] = w.exited_at - t0;
		}
		if (w.exit_code != 0 || w.started_at == 0 || stamp <= 0)
			failures++;
		pthread_mutex_unlock(&w.mu);
	}
	exec_free(x);
	close(ff);
	unlink(fifo);
	printf("  %s (%d launches of `echo`%s)\n", mode, n, failures ? ", SOME FAILED" : "");
	stats("launch", launch, n);
	stats("running", running, n);
	stats("started", started, n);
	stats("exited", exited, n);
	free(launch);
	free(running);
	free(started);
	free(exited);
	return failures ? 1 : 0;
}

/* The floor: posix_spawn of /bin/true, waited for. */
static void floor_spawn(int n)
{
	double *v = calloc((size_t)n, sizeof(double));
	char a0[] = "true";
	char *argv[] = { a0, NULL };
	for (int i = 0; v && i < n; i++) {
		pid_t pid;
		double t0 = now_ms();
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0)
			return;
		waitpid(pid, NULL, 0);
		v[i] = now_ms() - t0;
	}
	printf("  baseline: posix_spawn(/bin/true) + waitpid\n");
	stats("spawn", v, n);
	free(v);
}

int main(int argc, char **argv)
{
	char bin[PATH_MAX], self[PATH_MAX], benchdir[PATH_MAX], builddir[PATH_MAX], base[PATH_MAX];
	int n = argc > 1 ? atoi(argv[1]) : 300;
	const char *env = getenv("GANTRY_BIN");
	log_set_quiet(true);
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k < 0)
		return 1;
	self[k] = '\0';   /* BUILD/bench/exec */
	snprintf(benchdir, sizeof(benchdir), "%s", dirname(self));          /* BUILD/bench */
	snprintf(builddir, sizeof(builddir), "%s", dirname(self));          /* BUILD */
	/* where the attempt directories go: by default beside this program, on
	 * the disk a data directory would be on (not /tmp, which is slow to
	 * create files in on this project's VMs); a tmpfs (argv[2] = /dev/shm)
	 * takes the disk out of the figures */
	const char *where = argc > 2 ? argv[2] : benchdir;
	if (snprintf(base, sizeof(base), "%s/gantry-bench-exec-XXXXXX", where) >= (int)sizeof(base))
		return 1;
	if (env && *env)
		snprintf(bin, sizeof(bin), "%s", env);
	else if (snprintf(bin, sizeof(bin), "%s/gantry", builddir) >= (int)sizeof(bin))
		return 1;
	if (access(bin, X_OK) < 0) {
		fprintf(stderr, "bench/exec: no gantry binary at %s (build it, or set GANTRY_BIN)\n", bin);
		return 1;
	}
	if (!mkdtemp(base))
		return 1;
	struct exec_caps caps;
	exec_caps_detect(&caps);
	char load[64] = "?";
	FILE *lf = fopen("/proc/loadavg", "r");
	if (lf) {
		if (!fgets(load, sizeof(load), lf))
			snprintf(load, sizeof(load), "?");
		load[strcspn(load, "\n")] = '\0';
		fclose(lf);
	}
	/* the figures are latencies: on a busy machine they measure the load */
	printf("bench/exec: %s, attempt directories in %s\n  %s\n  load average: %s (%ld CPUs)\n", bin, where,
	       caps.detail, load, sysconf(_SC_NPROCESSORS_ONLN));
	int rc = run(bin, "zygote", n, 0, 0, base);
	rc |= run(bin, "zygote+limits", n, caps.memory_limit ? 256 : 0, caps.cpu_limit ? 1.0 : 0, base);
	setenv("GANTRY_EXEC_ZYGOTE", "0", 1);
	rc |= run(bin, "spawn", n / 3 > 10 ? n / 3 : 10, 0, 0, base);
	unsetenv("GANTRY_EXEC_ZYGOTE");
	floor_spawn(n);
	printf("  target: submit -> running p50 <= 5 ms overall; the executor's share ~2-3 ms (running p50)\n");
	char cmd[PATH_MAX + 16];
	if (getenv("GANTRY_BENCH_KEEP")) {   /* to read the shims' runtime.log */
		printf("  kept %s\n", base);
		return rc;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
