/* SPDX-License-Identifier: MIT */
/*
 * bench/launch — how fast a job starts, Gantry beside Slurm on this machine.
 *
 * Two workloads, each run on a real `gantry server` (local executor, one
 * `gantry shim` per task) and on a private one-box Slurm 22.05 (bench/slurm.sh
 * installs it with apt-get when it is missing and starts it under a temporary
 * directory; tuning documented there):
 *
 *   1. submit -> first command running, one job at a time. The clock starts
 *      just before the request leaves (Gantry: the HTTP POST /api/v2/jobs on
 *      a keep-alive connection; Slurm: the exec of `sbatch`, or of `srun`)
 *      and stops at the moment the task's first user command runs: the
 *      command is the bash builtin `echo "$NAME $EPOCHREALTIME" > FIFO`, so
 *      the stamp is taken inside the task's bash with no process of its own,
 *      and the benchmark reads it from a FIFO it holds open. Both clocks are
 *      CLOCK_REALTIME. After each job ends the next one waits a random gap
 *      (Gantry 0-20 ms; sbatch 0-1000 ms, because slurmctld starts batch jobs
 *      from a once-a-second loop, and a fixed period would lock onto its
 *      phase; srun 0-100 ms). For Gantry the stages come from the job's own
 *      record: POST answered (201), the task's placedTime and launchedTime
 *      (the shim has exec'd bash; milliseconds).
 *   2. 1,000 jobs of `true`, from the first submission to all of them
 *      finished successfully. Gantry: 32 keep-alive clients submit, one more
 *      polls GET /api/v2/jobs?state=SUCCEEDED&withTotalCount=true&limit=1;
 *      the cluster is 4 simulated nodes x 16 one-CPU cells (64 slots; the
 *      embedded default has only this machine's 2). Slurm: 32 threads run
 *      `sbatch`, one node with 64 CPU slots; the end is the 1,000th
 *      COMPLETED line of slurmctld's jobcomp file. A job array of 1,000
 *      (one sbatch) is shown too: Slurm's best case.
 *
 * Every figure is the median over RUNS runs (fresh server or Slurm for
 * throughput runs); the load average is printed at the start and end, since
 * client, server and tasks share this 2-core VM with anything else running.
 * Figures are printed, not asserted.
 *
 *   bench/launch [--quick] [--runs N] [--samples N] [--slurm-samples N] [--jobs N] [--no-slurm]
 *                [--tmpfs DIR] [--wait-quiet S]
 *
 * The gantry binary is $GANTRY_BIN, else the one next to this benchmark's
 * build directory; bench/slurm.sh is found from the current directory
 * (the repository root, as `make bench` runs it) or $GANTRY_SLURM_SH.
 * $GANTRY_BENCH_SAMPLES names a CSV file to get every latency sample's
 * stages (for a closer look at the tail).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"

extern char **environ;

#define CLIENTS 32                /* concurrent submitters in the throughput runs */
#define SLOTS 64                  /* task slots, Gantry and Slurm alike */

static int runs = 3, samples = 200, slurm_samples = 40, njobs = 1000;
static bool use_slurm = true;
static char gantry_bin[PATH_MAX], slurm_sh[PATH_MAX];

/* ---- clocks, statistics ----------------------------------------------------------- */

static double real_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_ms(double ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6) };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* the q-quantile (nearest rank) of v[0..n); sorts v */
static double quantile(double *v, int n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp);
	int i = (int)(q * n + 0.5) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static double median(double *v, int n)
{
	return quantile(v, n, 0.5);
}

struct dist {
	double p50, p90, p99, max;
};

static struct dist dist_of(double *v, int n)
{
	struct dist d = { quantile(v, n, 0.50), quantile(v, n, 0.90), quantile(v, n, 0.99), quantile(v, n, 1.0) };
	return d;
}

/* per-quantile medians of several runs' distributions */
static struct dist dist_median(struct dist *d, int n)
{
	double a[16], b[16], c[16], m[16];
	for (int i = 0; i < n; i++)
		a[i] = d[i].p50, b[i] = d[i].p90, c[i] = d[i].p99, m[i] = d[i].max;
	struct dist r = { median(a, n), median(b, n), median(c, n), median(m, n) };
	return r;
}

static void print_dist(const char *label, struct dist d, const char *note)
{
	printf("  %-10s p50 %8.2f ms   p90 %8.2f ms   p99 %8.2f ms   max %8.2f ms%s\n", label, d.p50, d.p90, d.p99,
	       d.max, note);
}

/* ---- the machine ------------------------------------------------------------------ */

static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* busy CPU time of the whole machine, in seconds */
static double machine_busy_s(void)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return 0;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	               &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return 0;
	/* user nice system [idle iowait] irq softirq steal */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * How busy the machine is before a run, from /proc/stat over 0.3 s (0..1).
 * With --wait-quiet S, first wait up to S seconds for it to drop below a
 * quarter, so that a run does not start in the middle of someone's build.
 */
static double wait_quiet_s;
static double busiest_before;   /* the most busy the machine was before any run */

static double busy_now(void)
{
	double b0 = machine_busy_s(), t0 = mono_s();
	sleep_ms(300);
	double busy = (machine_busy_s() - b0) / ((mono_s() - t0) * (double)sysconf(_SC_NPROCESSORS_ONLN));
	return busy < 0 ? 0 : busy > 1 ? 1 : busy;
}

static double before_run(char *note, size_t len)
{
	double busy = busy_now();
	for (double end = mono_s() + wait_quiet_s; busy > 0.25 && mono_s() < end;) {
		sleep_ms(1000);
		busy = busy_now();
	}
	snprintf(note, len, "   [machine %2.0f%% busy before]", busy * 100);
	if (busy > busiest_before)
		busiest_before = busy;
	return busy;
}

/* fields 14-15 (utime, stime) and 22 (starttime) of /proc/PID/stat; -1 when gone */
static int proc_stat(pid_t pid, double *cpu_s, unsigned long long *start)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *ok = fgets(line, sizeof(line), f);
	fclose(f);
	char *p = ok ? strrchr(line, ')') : NULL;   /* the command may hold spaces */
	if (!p)
		return -1;
	unsigned long long ut = 0, st = 0, sst = 0;
	/* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	   cutime cstime priority nice threads itrealvalue starttime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu", &ut,
	           &st, &sst) != 3)
		return -1;
	if (cpu_s)
		*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	if (start)
		*start = sst;
	return 0;
}

/* ---- HTTP ------------------------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *userdata)
{
	buf_append(userdata, p, size * n);
	return size * n;
}

struct http {
	CURL *h;
	struct curl_slist *headers;
	struct buf out;
	char base[160];
};

static void http_init(struct http *c, const char *addr, const char *token)
{
	char auth[256];
	c->h = curl_easy_init();
	c->headers = NULL;
	buf_init(&c->out);
	snprintf(c->base, sizeof(c->base), "http://%s", addr);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		c->headers = curl_slist_append(c->headers, auth);
	}
	c->headers = curl_slist_append(c->headers, "Content-Type: text/yaml");
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->out);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
}

static void http_fini(struct http *c)
{
	curl_slist_free_all(c->headers);
	curl_easy_cleanup(c->h);
	buf_fini(&c->out);
}

/* body NULL: GET. Returns the HTTP status, 0 on a transport error; the answer is in c->out */
static long http_do(struct http *c, const char *path, const char *body)
{
	char url[512];
	long code = 0;
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
	buf_clear(&c->out);
	if (curl_easy_perform(c->h) == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* ---- a gantry server -------------------------------------------------------------- */

struct server {
	char dir[128];
	char logs[160];                   /* DIR/logs, or where it points */
	char side[128];                   /* the tmpfs directory logs/ and jobs/ live in, or "" */
	char addr[128];
	char token[256];
	pid_t pid;
};

/* the server of the run under way, for an interrupted benchmark to clean up */
static struct server *volatile current_server;

/* A cluster with SLOTS one-CPU leaf cells on 4 simulated nodes, all on this machine. */
static const char many_cells[] =
	"skuTypes:\n"
	"  cpu1: {gpu: 0, cpu: 1, memory: 256}\n"
	"physicalCluster:\n"
	"  cellTypes:\n"
	"    CPU-NODE: {childCellType: cpu1, childCellNumber: 16, isNodeLevel: true}\n"
	"    CPU-RACK: {childCellType: CPU-NODE, childCellNumber: 4}\n"
	"  physicalCells:\n"
	"    - cellType: CPU-RACK\n"
	"      cellChildren: [{cellAddress: c1}, {cellAddress: c2}, {cellAddress: c3}, {cellAddress: c4}]\n"
	"virtualClusters:\n"
	"  default:\n"
	"    virtualCells: [{cellType: CPU-RACK, cellNumber: 1}]\n"
	"nodes:\n"
	"  - {name: c1, address: 127.0.0.1}\n"
	"  - {name: c2, address: 127.0.0.1}\n"
	"  - {name: c3, address: 127.0.0.1}\n"
	"  - {name: c4, address: 127.0.0.1}\n";

/*
 * A server on a fresh data directory under /tmp; many: the SLOTS-cell cluster.
 * side (a tmpfs such as /dev/shm, or NULL): DIR/logs and DIR/jobs are links
 * into a directory there, so the tasks' files cost no disk while the store
 * stays on disk, durable as ever: how much of a launch is the file system.
 */
static int server_start(struct server *s, bool many, const char *side)
{
	char path[256], cfg[256];
	s->pid = 0;
	s->side[0] = '\0';
	snprintf(s->dir, sizeof(s->dir), "/tmp/gantry-bench-launch-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->logs, sizeof(s->logs), "%s/logs", s->dir);
	if (side) {
		char to[256];
		snprintf(s->side, sizeof(s->side), "%s/gantry-bench-launch-XXXXXX", side);
		if (!mkdtemp(s->side)) {
			fprintf(stderr, "bench/launch: cannot make a directory under %s\n", side);
			s->side[0] = '\0';
			return -1;
		}
		snprintf(s->logs, sizeof(s->logs), "%s/logs", s->side);
		snprintf(to, sizeof(to), "%s/jobs", s->side);
		snprintf(path, sizeof(path), "%s/jobs", s->dir);
		if (mkdir(s->logs, 0755) < 0 || mkdir(to, 0755) < 0 || symlink(to, path) < 0)
			return -1;
		snprintf(path, sizeof(path), "%s/logs", s->dir);
		if (symlink(s->logs, path) < 0)
			return -1;
	}
	snprintf(cfg, sizeof(cfg), "%s/cluster.yaml", s->dir);
	if (many) {
		FILE *f = fopen(cfg, "w");
		if (!f)
			return -1;
		fputs(many_cells, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/server.log", s->dir);
	current_server = s;
	s->pid = fork();
	if (s->pid == 0) {
		setenv("GANTRY_ADMIN_PASSWORD", "bench-admin-pw", 1);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (many)
			execl(gantry_bin, "gantry", "server", "--data", s->dir, "--listen", "127.0.0.1:0", "--quiet",
			      "--config", cfg, (char *)NULL);
		else
			execl(gantry_bin, "gantry", "server", "--data", s->dir, "--listen", "127.0.0.1:0", "--quiet",
			      (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/listen", s->dir);
	s->addr[0] = '\0';
	for (int i = 0; i < 400 && !s->addr[0]; i++) {
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(s->addr, sizeof(s->addr), f))
				s->addr[0] = '\0';
			s->addr[strcspn(s->addr, "\n")] = '\0';
			fclose(f);
		}
		if (!s->addr[0])
			sleep_ms(25);
	}
	if (!s->addr[0]) {
		fprintf(stderr, "bench/launch: the server did not start (log: %s/server.log)\n", s->dir);
		return -1;
	}
	struct http c;
	http_init(&c, s->addr, NULL);
	curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, NULL);
	long code = http_do(&c, "/api/v2/authn/basic/login", "username=admin&password=bench-admin-pw");
	json_error_t je;
	json_t *o = code == 200 ? json_loads(buf_str(&c.out), 0, &je) : NULL;
	snprintf(s->token, sizeof(s->token), "%s", json_string_value(json_object_get(o, "token")) ?: "");
	json_decref(o);
	http_fini(&c);
	if (!s->token[0]) {
		fprintf(stderr, "bench/launch: login failed (%ld)\n", code);
		return -1;
	}
	return 0;
}

/*
 * Tasks outlive the server by design: end every task tree the data directory
 * knows of that is still there. A pid is killed only when its start time is
 * the one shim.json recorded, so a recycled pid is never hit.
 */
static int reap_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	size_t n = strlen(path);
	if (type != FTW_F || n < 9 || strcmp(path + n - 9, "shim.json"))
		return 0;
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o)
		return 0;
	struct {
		const char *pid, *start;
	} who[] = { { "taskPid", "taskStartTime" }, { "pid", "startTime" } };
	for (size_t i = 0; i < 2; i++) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(o, who[i].pid));
		unsigned long long want = (unsigned long long)json_integer_value(json_object_get(o, who[i].start)), got;
		if (pid > 0 && proc_stat(pid, NULL, &got) == 0 && got == want) {
			pid_t pgid = (pid_t)json_integer_value(json_object_get(o, "pgid"));
			if (i == 0 && pgid == pid)
				kill(-pgid, SIGKILL);
			kill(pid, SIGKILL);
		}
	}
	json_decref(o);
	return 0;
}

/*
 * The runs' data directories, removed at the end (remove_later_now), not
 * between runs: right after a run's thousands of inodes are deleted, ext4
 * skips the recently deleted ones when it allocates, and the next run would
 * pay for the previous one's clean-up, which a server in service does not.
 */
static char remove_later[16384];

static void remove_later_now(void)
{
	if (!remove_later[0])
		return;
	char cmd[sizeof(remove_later) + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf%s", remove_later);
	if (system(cmd) != 0)
		fprintf(stderr, "bench/launch: could not remove%s\n", remove_later);
	remove_later[0] = '\0';
}

static void server_stop(struct server *s, bool keep)
{
	current_server = NULL;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	nftw(s->logs, reap_one, 16, FTW_PHYS);
	if (!keep) {
		size_t n = strlen(remove_later);
		if (n + strlen(s->dir) + strlen(s->side) + 8 >= sizeof(remove_later))
			remove_later_now();
		n = strlen(remove_later);
		snprintf(remove_later + n, sizeof(remove_later) - n, " '%s'%s%s%s", s->dir, s->side[0] ? " '" : "",
		         s->side, s->side[0] ? "'" : "");
	}
}

/* ---- the FIFO the tasks write their start stamps to ------------------------------- */

struct fifo {
	char path[160];
	int fd;
	char buf[8192];
	size_t len;
};

static int fifo_open(struct fifo *f, const char *dir)
{
	snprintf(f->path, sizeof(f->path), "%s/started.fifo", dir);
	f->len = 0;
	if (mkfifo(f->path, 0666) < 0)
		return -1;
	/* read-write: a writer's open never blocks, and no EOF between tasks */
	f->fd = open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return f->fd < 0 ? -1 : 0;
}

static void fifo_close(struct fifo *f)
{
	close(f->fd);
	unlink(f->path);
}

/* the stamp of the next line "NAME SECONDS.MICROS" for the job want; -1 after timeout_ms */
static double fifo_wait(struct fifo *f, const char *want, int timeout_ms)
{
	double deadline = mono_s() + timeout_ms / 1000.0;
	for (;;) {
		char *nl;
		while ((nl = memchr(f->buf, '\n', f->len))) {
			*nl = '\0';
			char *sp = strrchr(f->buf, ' ');
			double t = -1;
			if (sp) {
				*sp = '\0';
				/* NAME, or USER~NAME as Gantry's $PAI_JOB_NAME has it */
				size_t a = strlen(f->buf), b = strlen(want);
				if (a >= b && !strcmp(f->buf + a - b, want) && (a == b || f->buf[a - b - 1] == '~'))
					t = strtod(sp + 1, NULL);
			}
			size_t used = (size_t)(nl + 1 - f->buf);
			memmove(f->buf, nl + 1, f->len - used);
			f->len -= used;
			if (t > 0)
				return t;
		}
		int left = (int)((deadline - mono_s()) * 1000);
		if (left <= 0)
			return -1;
		struct pollfd p = { f->fd, POLLIN, 0 };
		if (poll(&p, 1, left) > 0) {
			ssize_t k = read(f->fd, f->buf + f->len, sizeof(f->buf) - 1 - f->len);
			if (k > 0)
				f->len += (size_t)k;
			else if (f->len == sizeof(f->buf) - 1)
				f->len = 0;
		}
	}
}

/* ---- Gantry: submit -> running ---------------------------------------------------- */

/* The stages of one launch, in ms from the submit. The client's clock gives the
 * answer and the first command (microseconds); the job record and the shim's
 * runtime.log give the rest (milliseconds, so each is within 1 ms). */
enum { ST_POST, ST_SHIM, ST_CGROUPS, ST_LAUNCHED, ST_CMD, NSTAGES };
static const char *const stage_names[NSTAGES] = {
	"POST answered 201 (HTTP, validation, commit)",
	"shim running (its runtime.log's first line)",
	"log files, working dir, cgroups made",
	"bash exec'd in its cgroups (task launchedTime)",
	"first command running",
};

struct latency {
	struct dist cmd;                  /* submit -> first command */
	double stage[NSTAGES];            /* p50 of each stage */
	int n;
};

static int64_t json_ms(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

/* the epoch ms of the runtime.log line holding what, or 0 */
static double rlog_ms(const char *dir, const char *name, const char *what)
{
	char path[512], line[1024];
	double ms = 0;
	snprintf(path, sizeof(path), "%s/admin~%s/0/w-0/0/runtime.log", dir, name);
	FILE *f = fopen(path, "r");
	while (f && !ms && fgets(line, sizeof(line), f)) {
		struct tm tm = { 0 };
		char *rest;
		if (!strstr(line, what) || !(rest = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm)) || *rest != '.')
			continue;
		ms = (double)timegm(&tm) * 1e3 + strtod(rest, NULL) * 1e3;
	}
	if (f)
		fclose(f);
	return ms;
}

/* $GANTRY_BENCH_SAMPLES: a CSV file that gets every Gantry latency sample's stages */
static FILE *samples_csv;

static int gantry_latency_run(int run, const char *logs_at, struct latency *out)
{
	struct server s;
	struct fifo ff;
	int warm = 5, total = samples + warm, failures = 0, n = 0;
	double *st[NSTAGES];
	for (int k = 0; k < NSTAGES; k++)
		if (!(st[k] = calloc((size_t)total, sizeof(double))))
			return -1;
	if (server_start(&s, false, logs_at) || fifo_open(&ff, s.dir)) {
		server_stop(&s, true);
		for (int k = 0; k < NSTAGES; k++)
			free(st[k]);
		return -1;
	}
	struct http c;
	http_init(&c, s.addr, s.token);
	char yaml[1024], name[64], path[128];
	for (int i = 0; i < total && failures < 5; i++) {
		snprintf(name, sizeof(name), "lat-%d-%d", run, i);
		snprintf(yaml, sizeof(yaml),
		         "protocolVersion: 2\nname: %s\ntype: job\n"
		         "prerequisites: [{name: img, type: dockerimage, uri: busybox}]\n"
		         "taskRoles:\n  w:\n    dockerImage: img\n"
		         "    resourcePerInstance: {cpu: 1, memoryMB: 100, gpu: 0}\n"
		         "    commands: ['echo \"$PAI_JOB_NAME $EPOCHREALTIME\" > %s']\n",
		         name, ff.path);
		double t0 = real_s();
		long code = http_do(&c, "/api/v2/jobs", yaml);
		double t1 = real_s();
		if (code != 201) {
			fprintf(stderr, "bench/launch: POST %s: %ld %s\n", name, code, buf_str(&c.out));
			failures++;
			continue;
		}
		double ts = fifo_wait(&ff, name, 10000);
		if (ts < 0) {
			fprintf(stderr, "bench/launch: %s did not start within 10 s\n", name);
			failures++;
		}
		/* the job's own record, once it is over */
		snprintf(path, sizeof(path), "/api/v2/jobs/admin~%s", name);
		json_t *d = NULL;
		for (double end = mono_s() + 10; mono_s() < end;) {
			json_decref(d);
			json_error_t je;
			d = http_do(&c, path, NULL) == 200 ? json_loads(buf_str(&c.out), 0, &je) : NULL;
			const char *state = json_string_value(json_object_get(json_object_get(d, "jobStatus"), "state"));
			if (state && (!strcmp(state, "SUCCEEDED") || !strcmp(state, "FAILED") || !strcmp(state, "STOPPED")))
				break;
			sleep_ms(2);
		}
		json_t *task = json_array_get(json_object_get(json_object_get(json_object_get(d, "taskRoles"), "w"),
		                                              "taskStatuses"), 0);
		if (ts > 0 && i >= warm && task) {
			double shim = rlog_ms(s.logs, name, "shim for task"), cg = rlog_ms(s.logs, name, "cgroups:");
			st[ST_POST][n] = (t1 - t0) * 1e3;
			st[ST_SHIM][n] = shim ? shim - t0 * 1e3 : 0;
			st[ST_CGROUPS][n] = cg ? cg - t0 * 1e3 : 0;
			st[ST_LAUNCHED][n] = (double)json_ms(task, "launchedTime") - t0 * 1e3;
			st[ST_CMD][n] = (ts - t0) * 1e3;
			if (samples_csv)
				fprintf(samples_csv, "%s,%d,%.3f,%.3f,%.3f,%.3f,%.3f\n", logs_at ? "tmpfs" : "disk", run,
				        st[ST_POST][n], st[ST_SHIM][n], st[ST_CGROUPS][n], st[ST_LAUNCHED][n], st[ST_CMD][n]);
			n++;
		}
		json_decref(d);
		sleep_ms((double)(rand() % 20000) / 1000.0);
	}
	http_fini(&c);
	fifo_close(&ff);
	server_stop(&s, false);
	if (n > 0) {
		out->cmd = dist_of(st[ST_CMD], n);
		for (int k = 0; k < NSTAGES; k++)
			out->stage[k] = median(st[k], n);
	}
	out->n = n;
	for (int k = 0; k < NSTAGES; k++)
		free(st[k]);
	return failures || n == 0 ? -1 : 0;
}

/* ---- Gantry: 1,000 jobs of `true` ------------------------------------------------- */

struct submitter {
	const struct server *s;
	int id, run, count;
	atomic_int *ok;
	int errors;
	pthread_t t;
};

static void *submit_loop(void *arg)
{
	struct submitter *sb = arg;
	struct http c;
	char yaml[512];
	http_init(&c, sb->s->addr, sb->s->token);
	for (int i = 0; i < sb->count; i++) {
		snprintf(yaml, sizeof(yaml),
		         "protocolVersion: 2\nname: tput-%d-%d-%d\ntype: job\n"
		         "prerequisites: [{name: img, type: dockerimage, uri: busybox}]\n"
		         "taskRoles:\n  w:\n    dockerImage: img\n"
		         "    resourcePerInstance: {cpu: 1, memoryMB: 100, gpu: 0}\n"
		         "    commands: ['true']\n",
		         sb->run, sb->id, i);
		if (http_do(&c, "/api/v2/jobs", yaml) == 201)
			atomic_fetch_add(sb->ok, 1);
		else
			sb->errors++;
	}
	http_fini(&c);
	return NULL;
}

static long count_state(struct http *c, const char *state)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v2/jobs?state=%s&withTotalCount=true&limit=1", state);
	if (http_do(c, path, NULL) != 200)
		return -1;
	json_error_t je;
	json_t *o = json_loads(buf_str(&c->out), 0, &je);
	long n = o ? (long)json_integer_value(json_object_get(o, "totalCount")) : -1;
	json_decref(o);
	return n;
}

struct throughput {
	double rate;                      /* jobs/s, first submit -> all done */
	double submit_s, total_s;         /* all answered; all done */
	double cpu_ms_job, server_ms_job; /* machine and server CPU per job */
	int failed;
};

static int gantry_throughput_run(int run, const char *logs_at, struct throughput *out)
{
	struct server s;
	if (server_start(&s, true, logs_at)) {
		server_stop(&s, true);
		return -1;
	}
	struct http c;
	http_init(&c, s.addr, s.token);
	struct submitter sb[CLIENTS];
	atomic_int ok = 0;
	double cpu0 = machine_busy_s(), srv0 = 0, srv1 = 0;
	proc_stat(s.pid, &srv0, NULL);
	double t0 = mono_s(), t_sub = 0, t_end = 0;
	for (int i = 0; i < CLIENTS; i++) {
		sb[i] = (struct submitter){ .s = &s, .id = i, .run = run, .ok = &ok,
			                    .count = njobs / CLIENTS + (i < njobs % CLIENTS) };
		pthread_create(&sb[i].t, NULL, submit_loop, &sb[i]);
	}
	long done = 0, failed = 0;
	for (int polls = 0;; polls++) {
		if (!t_sub && atomic_load(&ok) + 0 >= njobs)
			t_sub = mono_s();
		done = count_state(&c, "SUCCEEDED");
		if (polls % 50 == 0)
			failed = count_state(&c, "FAILED");
		if (done >= njobs) {
			t_end = mono_s();
			break;
		}
		if (done + failed >= njobs || mono_s() - t0 > 300) {
			fprintf(stderr, "bench/launch: gantry run %d: %ld succeeded, %ld failed after %.0f s\n", run, done,
			        failed, mono_s() - t0);
			break;
		}
		sleep_ms(5);
	}
	int errors = 0;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(sb[i].t, NULL);
		errors += sb[i].errors;
	}
	if (!t_sub)
		t_sub = mono_s();
	proc_stat(s.pid, &srv1, NULL);
	double cpu1 = machine_busy_s();
	http_fini(&c);
	server_stop(&s, false);
	if (!t_end || errors) {
		if (errors)
			fprintf(stderr, "bench/launch: gantry run %d: %d submissions failed\n", run, errors);
		return -1;
	}
	out->total_s = t_end - t0;
	out->submit_s = t_sub - t0;
	out->rate = njobs / out->total_s;
	out->cpu_ms_job = (cpu1 - cpu0) * 1e3 / njobs;
	out->server_ms_job = (srv1 - srv0) * 1e3 / njobs;
	out->failed = (int)failed;
	return 0;
}

/* ---- Slurm ------------------------------------------------------------------------ */

static char slurm_dir[128];
static pid_t slurm_ctld, slurm_d;

static void slurm_stop(void)
{
	if (!slurm_dir[0])
		return;
	char cmd[PATH_MAX + 512];
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s' && rm -rf '%s'", slurm_sh, slurm_dir, slurm_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench/launch: stopping Slurm under %s failed\n", slurm_dir);
	slurm_dir[0] = '\0';
}

static pid_t read_pid(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", slurm_dir, name);
	FILE *f = fopen(path, "r");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

static int slurm_start(void)
{
	char cmd[PATH_MAX + 512], conf[256];
	snprintf(slurm_dir, sizeof(slurm_dir), "/tmp/gantry-bench-slurm-XXXXXX");
	if (!mkdtemp(slurm_dir)) {
		slurm_dir[0] = '\0';
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "'%s' start '%s' %d > /dev/null", slurm_sh, slurm_dir, SLOTS);
	if (system(cmd) != 0) {
		slurm_stop();
		return -1;
	}
	snprintf(conf, sizeof(conf), "%s/etc/slurm.conf", slurm_dir);
	setenv("SLURM_CONF", conf, 1);
	slurm_ctld = read_pid("slurmctld.pid");
	slurm_d = read_pid("slurmd.pid");
	return 0;
}

static void on_signal(int sig)
{
	/* best effort, not async-signal-safe: this process ends right after */
	if (current_server)
		server_stop(current_server, false);
	remove_later_now();
	slurm_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* run argv, stdout to /dev/null; its exit status, or -1 */
static int run_quiet(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* lines of the jobcomp file: all finished jobs, and those COMPLETED */
static void jobcomp_count(long *all, long *completed)
{
	char path[256], line[2048];
	snprintf(path, sizeof(path), "%s/log/jobcomp.txt", slurm_dir);
	*all = *completed = 0;
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, "JobState="))
			continue;
		(*all)++;
		if (strstr(line, "JobState=COMPLETED"))
			(*completed)++;
	}
	if (f)
		fclose(f);
}

static int wait_jobcomp(long want, double timeout_s, long *completed)
{
	long all = 0;
	for (double end = mono_s() + timeout_s; mono_s() < end;) {
		jobcomp_count(&all, completed);
		if (all >= want)
			return 0;
		sleep_ms(2);
	}
	return -1;
}

static int write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "#!/bin/bash\n%s\n", body);
	fclose(f);
	return chmod(path, 0755);
}

/* sbatch or srun, one job at a time */
static int slurm_latency_run(bool srun, int run, struct dist *out, struct dist *client)
{
	struct fifo ff;
	char script[256], body[512], name[64];
	int warm = 3, total = slurm_samples + warm, n = 0, failures = 0;
	double *cmd = calloc((size_t)total, sizeof(double)), *cli = calloc((size_t)total, sizeof(double));
	if (!cmd || !cli || fifo_open(&ff, slurm_dir)) {
		free(cmd), free(cli);
		return -1;
	}
	snprintf(script, sizeof(script), "%s/lat.sh", slurm_dir);
	snprintf(body, sizeof(body), "echo \"$SLURM_JOB_NAME $EPOCHREALTIME\" > %s", ff.path);
	write_script(script, body);
	long done = 0, completed;
	for (int i = 0; i < total && failures < 5; i++) {
		jobcomp_count(&done, &completed);   /* the previous job's line is in: it was waited for */
		snprintf(name, sizeof(name), "%s-%d-%d", srun ? "srun" : "sbatch", run, i);
		char *sb[] = { "sbatch", "-Q", "-J", name, "-c", "1", "--mem=100", "-o", "/dev/null", "-D", slurm_dir,
			       script, NULL };
		char *sr[] = { "srun", "-Q", "-J", name, "-n", "1", "-c", "1", "--mem=100", "-D", slurm_dir, script, NULL };
		double t0 = real_s();
		int rc = run_quiet(srun ? sr : sb);
		double t1 = real_s();
		if (rc != 0) {
			fprintf(stderr, "bench/launch: %s %s: exit %d\n", srun ? "srun" : "sbatch", name, rc);
			failures++;
			continue;
		}
		double ts = fifo_wait(&ff, name, 20000);
		if (ts < 0) {
			fprintf(stderr, "bench/launch: Slurm job %s did not start within 20 s\n", name);
			failures++;
		}
		if (wait_jobcomp(done + 1, 20, &completed) < 0)
			failures++;
		if (ts > 0 && i >= warm) {
			cmd[n] = (ts - t0) * 1e3;
			cli[n] = (t1 - t0) * 1e3;
			n++;
		}
		sleep_ms((double)(rand() % (srun ? 100000 : 1000000)) / 1000.0);
	}
	fifo_close(&ff);
	if (n > 0) {
		*out = dist_of(cmd, n);
		*client = dist_of(cli, n);
	}
	free(cmd), free(cli);
	return failures || n == 0 ? -1 : 0;
}

struct sbatch_worker {
	int id, count, run;
	const char *script;
	int errors;
	pthread_t t;
};

static void *sbatch_loop(void *arg)
{
	struct sbatch_worker *w = arg;
	for (int i = 0; i < w->count; i++) {
		char name[64];
		snprintf(name, sizeof(name), "tput-%d-%d-%d", w->run, w->id, i);
		char *argv[] = { "sbatch", "-Q", "-J", name, "-c", "1", "--mem=100", "-o", "/dev/null", "-D", slurm_dir,
			         (char *)w->script, NULL };
		if (run_quiet(argv) != 0)
			w->errors++;
	}
	return NULL;
}

static int slurm_throughput_run(int run, bool array, struct throughput *out)
{
	char script[256];
	snprintf(script, sizeof(script), "%s/true.sh", slurm_dir);
	write_script(script, "true");
	long base, completed0, completed = 0;
	jobcomp_count(&base, &completed0);
	double cpu0 = machine_busy_s(), c0 = 0, d0 = 0, c1 = 0, d1 = 0;
	proc_stat(slurm_ctld, &c0, NULL);
	proc_stat(slurm_d, &d0, NULL);
	double t0 = mono_s(), t_sub;
	int errors = 0;
	if (array) {
		char range[32];
		snprintf(range, sizeof(range), "0-%d", njobs - 1);
		char *argv[] = { "sbatch", "-Q", "-J", "tput-array", "--array", range, "-c", "1", "--mem=100", "-o",
			         "/dev/null", "-D", slurm_dir, script, NULL };
		errors = run_quiet(argv) != 0;
	} else {
		struct sbatch_worker w[CLIENTS];
		for (int i = 0; i < CLIENTS; i++) {
			w[i] = (struct sbatch_worker){ .id = i, .run = run, .script = script,
				                       .count = njobs / CLIENTS + (i < njobs % CLIENTS) };
			pthread_create(&w[i].t, NULL, sbatch_loop, &w[i]);
		}
		for (int i = 0; i < CLIENTS; i++) {
			pthread_join(w[i].t, NULL);
			errors += w[i].errors;
		}
	}
	t_sub = mono_s();
	if (errors) {
		fprintf(stderr, "bench/launch: Slurm run %d: %d submissions failed\n", run, errors);
		return -1;
	}
	long all = 0;
	for (;;) {
		jobcomp_count(&all, &completed);
		if (all - base >= njobs || mono_s() - t0 > 600)
			break;
		sleep_ms(5);
	}
	double t_end = mono_s();
	proc_stat(slurm_ctld, &c1, NULL);
	proc_stat(slurm_d, &d1, NULL);
	double cpu1 = machine_busy_s();
	if (all - base < njobs) {
		fprintf(stderr, "bench/launch: Slurm run %d: only %ld of %d jobs finished\n", run, all - base, njobs);
		return -1;
	}
	out->total_s = t_end - t0;
	out->submit_s = t_sub - t0;
	out->rate = njobs / out->total_s;
	out->cpu_ms_job = (cpu1 - cpu0) * 1e3 / njobs;
	out->server_ms_job = (c1 - c0 + d1 - d0) * 1e3 / njobs;
	out->failed = (int)(all - base - (completed - completed0));
	return 0;
}

/* ---- report ----------------------------------------------------------------------- */

static double tput_median(struct throughput *t, int n, double *lo, double *hi)
{
	double v[16];
	for (int i = 0; i < n; i++)
		v[i] = t[i].rate;
	double m = median(v, n);
	*lo = v[0], *hi = v[n - 1];
	return m;
}

/* Gantry, submit -> running: every run, their median, the stages */
static struct dist gantry_latency(const char *logs_at)
{
	struct latency l[16];
	struct dist d[16], none = { 0 };
	int n = 0;
	for (int r = 0; r < runs; r++) {
		char note[64];
		before_run(note, sizeof(note));
		if (gantry_latency_run(r, logs_at, &l[n]) == 0) {
			char label[32];
			snprintf(label, sizeof(label), "run %d", r + 1);
			d[n] = l[n].cmd;
			print_dist(label, d[n], note);
			fflush(stdout);
			n++;
		} else {
			printf("  run %d FAILED\n", r + 1);
		}
	}
	if (!n)
		return none;
	struct dist m = dist_median(d, n);
	print_dist("median", m, "");
	printf("  where the time goes (p50 of each moment, ms after the submit; medians of the runs):\n");
	double prev = 0;
	for (int k = 0; k < NSTAGES; k++) {
		double v[16];
		for (int i = 0; i < n; i++)
			v[i] = l[i].stage[k];
		double at = median(v, n);
		if (at <= 0 && k == ST_CGROUPS) {
			printf("    %-48s     -   (no cgroups here)\n", stage_names[k]);
			continue;
		}
		printf("    %-48s %6.2f  (%+.2f)\n", stage_names[k], at, at - prev);
		prev = at;
	}
	return m;
}

static double gantry_throughput(const char *logs_at)
{
	struct throughput t[16];
	int n = 0;
	for (int r = 0; r < runs; r++) {
		char note[64];
		before_run(note, sizeof(note));
		if (gantry_throughput_run(r, logs_at, &t[n]) == 0) {
			printf("  run %d: %6.0f jobs/s   (%.2f s; all submitted after %.2f s; CPU per job: machine %.2f ms, "
			       "server %.2f ms)%s\n", r + 1, t[n].rate, t[n].total_s, t[n].submit_s, t[n].cpu_ms_job,
			       t[n].server_ms_job, note);
			fflush(stdout);
			n++;
		} else {
			printf("  run %d FAILED\n", r + 1);
		}
	}
	if (!n)
		return 0;
	double lo, hi, m = tput_median(t, n, &lo, &hi);
	printf("  median %.0f jobs/s (runs %.0f..%.0f)\n", m, lo, hi);
	return m;
}

static struct dist slurm_latency(bool srun, double *client_p50)
{
	struct dist d[16], c[16], none = { 0 };
	int n = 0;
	printf("Slurm: %s -> first command running (%d sequential jobs a run)\n", srun ? "srun" : "sbatch",
	       slurm_samples);
	for (int r = 0; r < runs; r++) {
		char note[64];
		before_run(note, sizeof(note));
		if (slurm_latency_run(srun, r, &d[n], &c[n]) == 0) {
			char label[32];
			snprintf(label, sizeof(label), "run %d", r + 1);
			print_dist(label, d[n], note);
			fflush(stdout);
			n++;
		} else {
			printf("  run %d FAILED\n", r + 1);
		}
	}
	if (!n)
		return none;
	struct dist m = dist_median(d, n);
	*client_p50 = dist_median(c, n).p50;
	print_dist("median", m, "");
	if (srun)
		printf("  (srun itself returns when its job has ended: p50 %.2f ms after the exec)\n", *client_p50);
	else
		printf("  of which the sbatch command (exec -> exit): p50 %.2f ms\n", *client_p50);
	return m;
}

static double slurm_throughput(bool array)
{
	struct throughput t[16];
	int n = 0;
	if (array)
		printf("Slurm: a job array of %d `true` (one sbatch --array), submit -> all COMPLETED\n", njobs);
	else
		printf("Slurm: %d jobs `true` with sbatch, first sbatch -> all COMPLETED (%d concurrent sbatch)\n", njobs,
		       CLIENTS);
	for (int r = 0; r < runs; r++) {
		/* a fresh controller each run, as Gantry gets a fresh server */
		slurm_stop();
		if (slurm_start() != 0) {
			printf("  run %d: Slurm did not start\n", r + 1);
			continue;
		}
		char note[64];
		before_run(note, sizeof(note));
		if (slurm_throughput_run(r, array, &t[n]) == 0) {
			printf("  run %d: %6.0f jobs/s   (%.2f s; all submitted after %.2f s; CPU per job: machine %.2f ms, "
			       "slurmctld+slurmd %.2f ms%s)%s\n", r + 1, t[n].rate, t[n].total_s, t[n].submit_s,
			       t[n].cpu_ms_job, t[n].server_ms_job, t[n].failed ? "; SOME NOT COMPLETED" : "", note);
			fflush(stdout);
			n++;
		} else {
			printf("  run %d FAILED\n", r + 1);
		}
	}
	if (!n)
		return 0;
	double lo, hi, m = tput_median(t, n, &lo, &hi);
	printf("  median %.0f jobs/s (runs %.0f..%.0f)\n", m, lo, hi);
	return m;
}

static void row_ms(const char *label, double g, double s, const char *target)
{
	if (s > 0 && g > 0)
		printf("  %-34s %9.2f ms %11.2f ms %12.*fx   %s\n", label, g, s, s / g >= 10 ? 0 : 1, s / g, target);
	else
		printf("  %-34s %9.2f ms %14s %13s   %s\n", label, g, "-", "-", target);
}

static void row_rate(const char *label, double g, double s, const char *target)
{
	if (s > 0 && g > 0)
		printf("  %-34s %8.0f j/s %10.0f j/s %12.1fx   %s\n", label, g, s, g / s, target);
	else
		printf("  %-34s %8.0f j/s %14s %13s   %s\n", label, g, "-", "-", target);
}

static void usage(const char *a0)
{
	fprintf(stderr,
	        "usage: %s [--quick] [--runs N] [--samples N] [--slurm-samples N] [--jobs N] [--no-slurm]\n"
	        "          [--tmpfs DIR]   also run Gantry with its logs and working directories on DIR (a tmpfs)\n"
	        "          [--wait-quiet S]  before each run, wait up to S s for the machine to be < 25%% busy\n",
	        a0);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *tmpfs = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			runs = 1, samples = 50, slurm_samples = 10, njobs = 300;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
			samples = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--slurm-samples") && i + 1 < argc)
			slurm_samples = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
			njobs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-slurm"))
			use_slurm = false;
		else if (!strcmp(argv[i], "--tmpfs") && i + 1 < argc)
			tmpfs = argv[++i];
		else if (!strcmp(argv[i], "--wait-quiet") && i + 1 < argc)
			wait_quiet_s = atof(argv[++i]);
		else
			usage(argv[0]);
	}
	if (runs < 1 || runs > 16 || samples < 1 || slurm_samples < 1 || njobs < CLIENTS)
		usage(argv[0]);

	const char *env = getenv("GANTRY_BIN");
	if (env && *env) {
		snprintf(gantry_bin, sizeof(gantry_bin), "%s", env);
	} else {
		char self[PATH_MAX];
		ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (k < 0)
			return 1;
		self[k] = '\0';   /* BUILD/bench/launch -> BUILD/gantry */
		snprintf(gantry_bin, sizeof(gantry_bin), "%s/gantry", dirname(dirname(self)));
	}
	if (access(gantry_bin, X_OK) < 0) {
		fprintf(stderr, "bench/launch: no gantry binary at %s (build it, or set GANTRY_BIN)\n", gantry_bin);
		return 1;
	}
	env = getenv("GANTRY_SLURM_SH");
	if (!realpath(env && *env ? env : "bench/slurm.sh", slurm_sh))
		slurm_sh[0] = '\0';
	env = getenv("GANTRY_BENCH_SAMPLES");
	if (env && *env && (samples_csv = fopen(env, "w")))
		fprintf(samples_csv, "fs,run,post_ms,shim_ms,cgroups_ms,launched_ms,command_ms\n");
	srand((unsigned)getpid());
	atexit(remove_later_now);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_ALL);
	double load0 = loadavg();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	/* the CPU time spent now, not the load average: a run just before this
	 * one leaves the load average high for a minute on an idle machine */
	double busy0 = busy_now();
	bool busy = busy0 > 0.25;
	printf("bench/launch: job launch speed, Gantry beside Slurm; %s\n", gantry_bin);
	printf("  machine: %ld CPUs, %.0f%% busy, load average %.2f at start%s\n", ncpu, busy0 * 100, load0,
	       busy ? "  (BUSY: other work shares the cores; figures are pessimistic)" : "");
	printf("  submit -> running: from just before the request (HTTP POST / exec of sbatch, srun) to the\n"
	       "  task's first user command running (bash's $EPOCHREALTIME, written to a FIFO); medians of %d runs\n\n",
	       runs);

	printf("Gantry: submit -> first command running (embedded default cluster, %d sequential jobs a run)\n",
	       samples);
	struct dist g_lat = gantry_latency(NULL);
	printf("\nGantry: %d jobs `true`, first submit -> all SUCCEEDED (%d clients; %d one-CPU cells on 4 "
	       "simulated nodes)\n", njobs, CLIENTS, SLOTS);
	double g_rate = gantry_throughput(NULL);
	struct dist t_lat = { 0 };
	double t_rate = 0;
	if (tmpfs) {
		printf("\nGantry, logs and working directories on %s (the store stays on disk): submit -> running\n",
		       tmpfs);
		t_lat = gantry_latency(tmpfs);
		printf("Gantry, logs and working directories on %s: %d jobs `true`\n", tmpfs, njobs);
		t_rate = gantry_throughput(tmpfs);
	}

	struct dist s_lat = { 0 }, r_lat = { 0 };
	double s_rate = 0, a_rate = 0, cli;
	if (use_slurm && !slurm_sh[0]) {
		printf("\nSlurm: skipped (no bench/slurm.sh here; run from the repository root)\n");
	} else if (use_slurm) {
		printf("\nSlurm 22.05 (bench/slurm.sh: one node, %d CPU slots, batch_sched_delay=0, sched_min_interval=0, "
		       "bf_interval=1, default_queue_depth=10000, no accounting)\n", SLOTS);
		fflush(stdout);
		if (slurm_start() != 0) {
			printf("  could not start Slurm (see the messages above); skipped\n");
		} else {
			s_lat = slurm_latency(false, &cli);
			r_lat = slurm_latency(true, &cli);
			s_rate = slurm_throughput(false);
			a_rate = slurm_throughput(true);
			slurm_stop();
		}
	}

	/* not the load average at the end: the runs' own 1,000 jobs raise it */
	busy |= busiest_before > 0.25;
	printf("\nSummary (medians of %d runs; load average %.2f at start; machine at most %.0f%% busy before a run%s)\n",
	       runs, load0, busiest_before * 100, busy ? ": BUSY machine, not a record" : "");
	printf("  %-34s %12s %14s %13s   %s\n", "", "Gantry", "Slurm", "Gantry gain", "target (Gantry)");
	row_ms("submit -> running p50, sbatch", g_lat.p50, s_lat.p50, "<= 5 ms");
	row_ms("submit -> running p99, sbatch", g_lat.p99, s_lat.p99, "<= 20 ms");
	if (r_lat.p50 > 0) {
		row_ms("submit -> running p50, srun", g_lat.p50, r_lat.p50, "");
		row_ms("submit -> running p99, srun", g_lat.p99, r_lat.p99, "");
	}
	char label[64];
	snprintf(label, sizeof(label), "%d jobs `true`, sbatch each", njobs);
	row_rate(label, g_rate, s_rate, ">= 300 jobs/s");
	if (a_rate > 0) {
		snprintf(label, sizeof(label), "%d jobs `true`, Slurm job array", njobs);
		row_rate(label, g_rate, a_rate, "");
	}
	if (tmpfs) {
		printf("  Gantry with logs and working directories on %s:\n", tmpfs);
		row_ms("submit -> running p50", t_lat.p50, 0, "");
		row_ms("submit -> running p99", t_lat.p99, 0, "");
		snprintf(label, sizeof(label), "%d jobs `true`", njobs);
		row_rate(label, t_rate, 0, "");
	}
	if (samples_csv)
		fclose(samples_csv);
	curl_global_cleanup();
	return 0;
}
