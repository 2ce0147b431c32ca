/* SPDX-License-Identifier: MIT */
/*
 * test_exec — the local executor with real processes: shims, bash, cgroups.
 *
 * The shim is the gantry binary named by $GANTRY_BIN (tests/run.sh sets it;
 * else build/gantry). Each case has its own directory under /tmp and its
 * own task uids, so runs side by side do not meet.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/log.h"
#include "exec/exec.h"

struct rec {
	char uid[64];
	int nstarted;
	int pid;
	int64_t started_ms;
	bool exited;
	struct exec_exit ex;
};

struct fixture {
	char base[64];
	char bin[512];
	struct exec *x;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rec recs[16];
	int nrecs;
	int seq;
};

static const char *const ENV[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C", "GANTRY_TEST=exact env",
	                           NULL };

static struct rec *rec_get(struct fixture *f, const char *uid)
{
	for (int i = 0; i < f->nrecs; i++)
		if (!strcmp(f->recs[i].uid, uid))
			return &f->recs[i];
	assert_true(f->nrecs < 16);
	struct rec *r = &f->recs[f->nrecs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->uid, sizeof(r->uid), "%s", uid);
	return r;
}

static void on_started(void *ctx, const char *uid, int pid, int64_t ms)
{
	struct fixture *f = ctx;
	pthread_mutex_lock(&f->mu);
	struct rec *r = rec_get(f, uid);
	r->nstarted++;
	r->pid = pid;
	r->started_ms = ms;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void on_exited(void *ctx, const char *uid, const struct exec_exit *ex)
{
	struct fixture *f = ctx;
	pthread_mutex_lock(&f->mu);
	struct rec *r = rec_get(f, uid);
	r->exited = true;
	r->ex = *ex;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static struct exec *new_exec(struct fixture *f)
{
	struct exec_callbacks cb = { on_started, on_exited, f };
	struct gerr e;
	struct exec *x = exec_new(f->bin, &cb, &e);
	if (!x)
		fail_msg("exec_new: %s", e.msg);
	return x;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *bin = getenv("GANTRY_BIN");
	snprintf(f->bin, sizeof(f->bin), "%s", bin && *bin ? bin : "build/gantry");
	if (access(f->bin, X_OK) < 0) {
		fprintf(stderr, "test_exec: no gantry binary at %s (set GANTRY_BIN)\n", f->bin);
		free(f);
		return -1;
	}
	strcpy(f->base, "/tmp/gantry-test-exec-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->x = new_exec(f);
	*state = f;
	return 0;
}

static bool dir_holds(const char *dir, const char *needle);

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	exec_free(f->x);
	/* shims write their stderr to runtime.log: a sanitizer's report there
	 * (sanitized builds) fails the case */
	if (dir_holds(f->base, "Sanitizer") || dir_holds(f->base, "runtime error:")) {
		snprintf(cmd, sizeof(cmd), "grep -r -A30 -e Sanitizer -e 'runtime error:' %s >&2", f->base);
		if (system(cmd) != 0)
			fprintf(stderr, "test_exec: cannot show the report\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->base);
	if (system(cmd) != 0)
		return -1;
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

struct task {
	char uid[64], dir[256], cwd[256];
	struct exec_task t;
};

static void task_init(struct fixture *f, struct task *k, const char *script)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->uid, sizeof(k->uid), "test-%d-%d", (int)getpid(), ++f->seq);
	snprintf(k->dir, sizeof(k->dir), "%s/%s/attempt", f->base, k->uid);
	snprintf(k->cwd, sizeof(k->cwd), "%s/%s/cwd", f->base, k->uid);
	k->t = (struct exec_task){ .uid = k->uid, .dir = k->dir, .cwd = k->cwd, .script = script, .env = ENV,
		                   .grace_s = 10 };
}

static void launch(struct fixture *f, struct task *k)
{
	struct gerr e;
	if (exec_launch(f->x, &k->t, &e) != 0)
		fail_msg("exec_launch %s: %s", k->uid, e.msg);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static struct rec wait_started(struct fixture *f, const char *uid, int nth)
{
	struct timespec ts;
	deadline_in(&ts, 10000);
	pthread_mutex_lock(&f->mu);
	struct rec *r = rec_get(f, uid);
	while (r->nstarted < nth && !r->exited)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
			break;
	struct rec copy = *r;
	pthread_mutex_unlock(&f->mu);
	if (copy.nstarted < nth)
		fail_msg("%s: no started report (exited: %d, %s)", uid, copy.exited, copy.ex.message);
	return copy;
}

static struct exec_exit wait_exited(struct fixture *f, const char *uid, int ms)
{
	struct timespec ts;
	deadline_in(&ts, ms);
	pthread_mutex_lock(&f->mu);
	struct rec *r = rec_get(f, uid);
	while (!r->exited)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
			break;
	struct rec copy = *r;
	pthread_mutex_unlock(&f->mu);
	if (!copy.exited)
		fail_msg("%s: no exited report within %d ms", uid, ms);
	return copy.ex;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, fp);
	fclose(fp);
	if (len)
		*len = n;
	return buf;
}

static off_t file_size(const char *dir, const char *name)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Wait until dir/name holds needle. */
static bool wait_for_text(const char *dir, const char *name, const char *needle, int ms)
{
	for (int waited = 0; waited < ms; waited += 10) {
		char *s = slurp(dir, name, NULL);
		bool found = s && strstr(s, needle);
		free(s);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

/* 0 when the process is gone, else its state letter (Z for a zombie). */
static char proc_state(int pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static bool is_dead(int pid)
{
	char s = proc_state(pid);
	return s == 0 || s == 'Z' || s == 'X';
}

static int read_pid_file(const char *dir, const char *name, int ms)
{
	for (int waited = 0; waited < ms; waited += 10) {
		char *s = slurp(dir, name, NULL);
		int pid = s ? atoi(s) : 0;
		free(s);
		if (pid > 0)
			return pid;
		usleep(10000);
	}
	return 0;
}

static int json_int_field(const char *dir, const char *name, const char *key)
{
	char *s = slurp(dir, name, NULL);
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = s ? strstr(s, pat) : NULL;
	int v = p ? atoi(p + strlen(pat)) : 0;
	free(s);
	return v;
}

/* ---- the claim, spares and their cgroups, seen from outside ----------------------- */

/* The pid holding the claim on an attempt's dir (exec/local/claim.c: an
 * abstract socket named after a BLAKE2b-128 of dir), or 0. */
static pid_t claim_holder(const char *dir)
{
	unsigned char h[16];
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	crypto_generichash(h, sizeof(h), (const unsigned char *)dir, strlen(dir), NULL, 0);
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "gantry-claim-");
	for (size_t i = 0; i < sizeof(h); i++)
		n += snprintf(a.sun_path + 1 + n, sizeof(a.sun_path) - 1 - (size_t)n, "%02x", h[i]);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct ucred cr = { 0, 0, 0 };
	socklen_t len = sizeof(cr);
	pid_t pid = 0;
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
		pid = cr.pid;
	if (fd >= 0)
		close(fd);
	return pid;
}

static pid_t wait_claimed(const char *dir, int ms)
{
	for (int waited = 0; waited < ms; waited += 5) {
		pid_t pid = claim_holder(dir);
		if (pid > 0)
			return pid;
		usleep(5000);
	}
	return 0;
}

/* The children of parent named comm (at most max). */
static int children(pid_t parent, const char *comm, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && n < max && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *fp = fopen(path, "r");
		if (!fp)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[k] = '\0';
		char *l = strchr(buf, '('), *r = strrchr(buf, ')');
		int ppid = 0;
		if (!l || !r || sscanf(r + 2, "%*c %d", &ppid) != 1 || ppid != parent)
			continue;
		*r = '\0';
		if (!strcmp(l + 1, comm))
			out[n++] = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

/* Is pid one of the lines of a cgroup.procs? */
static bool has_pid(const char *procs, int pid)
{
	for (const char *p = procs; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (atoi(p) == pid)
			return true;
	return false;
}

/* root/shim-<pid>-<start>: the cgroup a shim made for its task, or "". */
static void shim_cgroup(const char *root, pid_t pid, char *out, size_t cap)
{
	char prefix[64];
	DIR *d = opendir(root);
	struct dirent *e;
	out[0] = '\0';
	snprintf(prefix, sizeof(prefix), "shim-%d-", (int)pid);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			snprintf(out, cap, "%s/%s", root, e->d_name);
	if (d)
		closedir(d);
}

/* Restart the executor with env NAME=VALUE for its zygote and shims. */
static void restart_with(struct fixture *f, const char *name, const char *value)
{
	exec_free(f->x);
	setenv(name, value, 1);
	f->x = new_exec(f);
	unsetenv(name);
}

/* ---- cases -------------------------------------------------------------------- */

static void exit_codes(void **state)
{
	struct fixture *f = *state;
	struct task a, b;
	task_init(f, &a, "exit 3\n");
	task_init(f, &b, "true\n");
	launch(f, &a);
	launch(f, &b);
	struct rec r = wait_started(f, a.uid, 1);
	assert_true(r.pid > 0);
	struct exec_exit ex = wait_exited(f, a.uid, 10000);
	assert_int_equal(ex.exit_code, 3);
	assert_int_equal(ex.signal, 0);
	assert_false(ex.oom);
	assert_false(ex.stopped);
	assert_false(ex.lost);
	assert_string_equal(ex.message, "exited with 3");
	assert_true(ex.started_ms > 0 && ex.finished_ms >= ex.started_ms);
	ex = wait_exited(f, b.uid, 10000);
	assert_int_equal(ex.exit_code, 0);
	assert_int_equal(wait_started(f, b.uid, 1).nstarted, 1);
	/* the records are on disk too: shim.json became exit.json (its inode
	 * reused); a task that wrote nothing has no user.pai.* */
	assert_true(file_size(a.dir, "exit.json") > 0);
	assert_true(file_size(a.dir, "shim.json") < 0);
	assert_true(file_size(a.dir, "runtime.log") > 0);
	assert_true(file_size(a.dir, "user.pai.stdout") < 0);
	assert_true(file_size(a.dir, "user.pai.all") < 0);
}

static void signal_death(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "kill -USR1 $$\nsleep 5\n");
	launch(f, &k);
	struct exec_exit ex = wait_exited(f, k.uid, 10000);
	assert_int_equal(ex.signal, SIGUSR1);
	assert_int_equal(ex.exit_code, 128 + SIGUSR1);
	assert_non_null(strstr(ex.message, "SIGUSR1"));
}

static void output_logs(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "echo to-out\necho to-err >&2\n");
	launch(f, &k);
	assert_int_equal(wait_exited(f, k.uid, 10000).exit_code, 0);
	char *out = slurp(k.dir, "user.pai.stdout", NULL), *err = slurp(k.dir, "user.pai.stderr", NULL),
	     *all = slurp(k.dir, "user.pai.all", NULL);
	assert_string_equal(out, "to-out\n");
	assert_string_equal(err, "to-err\n");
	assert_non_null(strstr(all, "to-out\n"));
	assert_non_null(strstr(all, "to-err\n"));
	free(out);
	free(err);
	free(all);
}

static void stop_with_grace(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "trap 'echo got-term; exit 7' TERM\necho ready\nwhile true; do sleep 0.05; done\n");
	launch(f, &k);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	assert_int_equal(exec_kill(f->x, k.uid, 30), 0);
	struct exec_exit ex = wait_exited(f, k.uid, 20000);   /* before the grace ends: by the trap */
	assert_int_equal(ex.exit_code, 7);
	assert_true(ex.stopped);
	assert_non_null(strstr(ex.message, "stopped"));
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "got-term", 1000));
	/* the shim is gone: exec_kill says so, harmlessly */
	assert_int_equal(exec_kill(f->x, k.uid, 5), GERR_NOT_FOUND);
}

/* bash dies of the SIGTERM, a subshell traps it: the subshell still gets
 * the grace period (openpai-runtime runs the user's commands in one). */
static void stop_grace_for_the_whole_tree(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "(\ntrap 'echo sub-got-term; sleep 0.3; echo sub-done; exit 0' TERM\necho ready\n"
	                 "while true; do sleep 0.05; done\n)\n");
	launch(f, &k);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	assert_int_equal(exec_kill(f->x, k.uid, 20), 0);
	struct exec_exit ex = wait_exited(f, k.uid, 15000);
	assert_true(ex.stopped);
	assert_int_equal(ex.signal, SIGTERM);   /* bash's own end */
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "sub-done", 100));
}

static void sigkill_after_grace(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "trap '' TERM\necho ready\nwhile true; do sleep 0.05; done\n");
	launch(f, &k);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(exec_kill(f->x, k.uid, 1), 0);
	struct exec_exit ex = wait_exited(f, k.uid, 10000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_int_equal(ex.signal, SIGKILL);
	assert_int_equal(ex.exit_code, 137);
	assert_true(ex.stopped);
	assert_true(took >= 0.9 && took < 8.0);
}

static void escaped_child_killed(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k,
	          "setsid bash -c 'echo $$ > escaped.pid; exec sleep 1000' &\n"
	          "while [ ! -s escaped.pid ]; do sleep 0.01; done\n"
	          "exit 0\n");
	launch(f, &k);
	struct exec_exit ex = wait_exited(f, k.uid, 10000);
	assert_int_equal(ex.exit_code, 0);
	int pid = read_pid_file(k.cwd, "escaped.pid", 1000);
	assert_true(pid > 0);
	assert_true(is_dead(pid));
}

/* Without cgroups the shim still finds an escaped process: it is the
 * shim's descendant (the shim is a child subreaper). */
static void escaped_child_killed_without_cgroups(void **state)
{
	struct fixture *f = *state;
	struct task k;
	exec_free(f->x);
	setenv("GANTRY_EXEC_CGROUP", "none", 1);
	f->x = new_exec(f);
	unsetenv("GANTRY_EXEC_CGROUP");
	const struct exec_caps *caps = exec_get_caps(f->x);
	assert_string_equal(caps->cgroup, "none");
	assert_false(caps->memory_limit);
	assert_false(caps->kill_tree);
	task_init(f, &k,
	          "setsid bash -c 'echo $$ > escaped.pid; exec sleep 1000' &\n"
	          "while [ ! -s escaped.pid ]; do sleep 0.01; done\n"
	          "exit 0\n");
	k.t.memory_mb = 64;   /* asked for, not enforced: runtime.log says so */
	launch(f, &k);
	assert_int_equal(wait_exited(f, k.uid, 10000).exit_code, 0);
	int pid = read_pid_file(k.cwd, "escaped.pid", 1000);
	assert_true(pid > 0);
	assert_true(is_dead(pid));
	assert_true(wait_for_text(k.dir, "runtime.log", "not enforced here", 100));
}

static void env_is_exact(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "echo ready\nsleep 30\n");
	launch(f, &k);
	struct rec r = wait_started(f, k.uid, 1);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	size_t n;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", r.pid);
	char *env = slurp(path, "environ", &n);
	assert_non_null(env);
	size_t off = 0;
	for (int i = 0; ENV[i]; i++) {
		assert_true(off < n);
		assert_string_equal(env + off, ENV[i]);
		off += strlen(ENV[i]) + 1;
	}
	assert_int_equal(off, n);   /* nothing more */
	free(env);
	/* and bash runs in the cwd it was given, with nothing on stdin */
	char cwd[256] = "", link[128];
	snprintf(link, sizeof(link), "/proc/%d/cwd", r.pid);
	ssize_t len = readlink(link, cwd, sizeof(cwd) - 1);
	assert_true(len > 0);
	cwd[len] = '\0';
	assert_string_equal(cwd, k.cwd);
	assert_int_equal(exec_kill(f->x, k.uid, 0), 0);
	assert_true(wait_exited(f, k.uid, 5000).stopped);
}

/* Does any file under dir hold needle? */
static bool dir_holds(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		char path[600];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = dir_holds(path, needle);
			continue;
		}
		char *s = slurp(dir, e->d_name, NULL);
		found = s && memmem(s, 1 << 20, needle, strlen(needle));
		free(s);
	}
	closedir(d);
	return found;
}

static bool any_cmdline_holds(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300];
		size_t n;
		snprintf(path, sizeof(path), "/proc/%s", e->d_name);
		char *s = slurp(path, "cmdline", &n);
		found = s && memmem(s, n, needle, strlen(needle));
		free(s);
	}
	if (d)
		closedir(d);
	return found;
}

static void script_secret_stays_secret(void **state)
{
	struct fixture *f = *state;
	struct task k;
	char secret[64], script[256];
	/* made at run time, so it is in no binary nor argument of this test */
	snprintf(secret, sizeof(secret), "s3cr3t-%d-%ld", (int)getpid(), (long)time(NULL));
	snprintf(script, sizeof(script), "# token=%s\necho ready\nsleep 0.5\n", secret);
	task_init(f, &k, script);
	launch(f, &k);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	assert_false(any_cmdline_holds(secret));
	assert_int_equal(wait_exited(f, k.uid, 10000).exit_code, 0);
	assert_false(dir_holds(k.dir, secret));
	assert_false(dir_holds(f->base, secret));
}

static void log_rotation(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "for i in $(seq 1 100); do echo \"line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"; done\n"
	                 "echo err-line >&2\n");
	k.t.log_max_bytes = 1000;
	launch(f, &k);
	assert_int_equal(wait_exited(f, k.uid, 10000).exit_code, 0);
	off_t cur = file_size(k.dir, "user.pai.stdout"), old = file_size(k.dir, "user.pai.stdout.1");
	assert_true(cur > 0 && cur <= 1000);
	assert_int_equal(old, 1000);
	assert_true(file_size(k.dir, "user.pai.all") <= 1000);
	assert_int_equal(file_size(k.dir, "user.pai.all.1"), 1000);
	assert_true(file_size(k.dir, "user.pai.stdout.2") < 0);   /* one old file kept, no more */
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "line-100-", 100));
	assert_true(wait_for_text(k.dir, "user.pai.stderr", "err-line", 100));
}

static void memory_limit_oom(void **state)
{
	struct fixture *f = *state;
	const struct exec_caps *caps = exec_get_caps(f->x);
	if (!caps->memory_limit) {
		fprintf(stderr, "memory_limit_oom: skipped: %s\n", caps->detail);
		skip();
	}
	struct task k;
	task_init(f, &k, "head -c 300M /dev/zero | tail > /dev/null\n");
	k.t.memory_mb = 64;
	launch(f, &k);
	struct exec_exit ex = wait_exited(f, k.uid, 30000);
	assert_true(ex.oom);
	assert_int_equal(ex.exit_code, 137);
	assert_non_null(strstr(ex.message, "memory limit (64 MiB)"));
}

static void cpu_limit_written(void **state)
{
	struct fixture *f = *state;
	const struct exec_caps *caps = exec_get_caps(f->x);
	if (!caps->cpu_limit)
		skip();
	struct task k;
	task_init(f, &k, "echo ready\nsleep 30\n");
	k.t.cpu = 0.5;
	launch(f, &k);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	char *sj = slurp(k.dir, "shim.json", NULL);
	assert_non_null(sj);
	const char *file = strstr(sj, "\"cpuVersion\":2") ? "cpu.max" : "cpu.cfs_quota_us";
	char *p = strstr(sj, "\"cpu\":\"");
	assert_non_null(p);
	p += 7;
	*strchr(p, '"') = '\0';
	char *q = slurp(p, file, NULL);
	assert_non_null(q);
	assert_true(atoi(q) == 50000);
	free(q);
	assert_int_equal(exec_kill(f->x, k.uid, 0), 0);
	wait_exited(f, k.uid, 5000);
	assert_int_equal(access(p, F_OK), -1);   /* the cgroup is removed */
	free(sj);
}

static void cannot_start(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "true\n");
	k.t.cwd = "/proc/self/no/such/dir";
	launch(f, &k);
	struct exec_exit ex = wait_exited(f, k.uid, 10000);
	assert_int_equal(ex.exit_code, 127);
	assert_false(ex.lost);
	assert_non_null(strstr(ex.message, "working directory"));
}

static void launch_twice_conflicts(void **state)
{
	struct fixture *f = *state;
	struct task k;
	struct gerr e;
	task_init(f, &k, "sleep 30\n");
	launch(f, &k);
	assert_int_equal(exec_launch(f->x, &k.t, &e), GERR_CONFLICT);
	assert_int_equal(exec_kill(f->x, "no-such-task", 1), GERR_NOT_FOUND);
	assert_int_equal(exec_kill(f->x, k.uid, 0), 0);
	assert_true(wait_exited(f, k.uid, 5000).stopped);
}

static void adopt_running(void **state)
{
	struct fixture *f = *state;
	struct task k;
	struct exec_exit ex;
	struct gerr e;
	task_init(f, &k, "echo ready\nsleep 30\n");
	launch(f, &k);
	struct rec r = wait_started(f, k.uid, 1);
	exec_free(f->x);   /* a server restart, as far as the shim can tell */
	f->x = new_exec(f);
	assert_int_equal(exec_adopt(f->x, k.uid, k.dir, &ex, &e), EXEC_ADOPTED);
	struct rec r2 = wait_started(f, k.uid, 2);   /* reported again, from shim.json */
	assert_int_equal(r2.pid, r.pid);
	assert_int_equal(exec_adopt(f->x, k.uid, k.dir, &ex, &e), EXEC_ADOPTED);   /* idempotent */
	assert_int_equal(exec_kill(f->x, k.uid, 0), 0);
	ex = wait_exited(f, k.uid, 5000);
	assert_true(ex.stopped);
	assert_true(is_dead(r.pid));
}

static void adopt_exited_meanwhile(void **state)
{
	struct fixture *f = *state;
	struct task k;
	struct exec_exit ex;
	struct gerr e;
	task_init(f, &k, "sleep 0.3\nexit 5\n");
	launch(f, &k);
	wait_started(f, k.uid, 1);
	exec_free(f->x);
	for (int i = 0; i < 1000 && file_size(k.dir, "exit.json") <= 0; i++)
		usleep(10000);
	usleep(50000);   /* the shim lets go of its lock as it exits */
	f->x = new_exec(f);
	int rc = exec_adopt(f->x, k.uid, k.dir, &ex, &e);
	if (rc == EXEC_ADOPTED)   /* caught it in its last instant */
		ex = wait_exited(f, k.uid, 5000);
	else
		assert_int_equal(rc, EXEC_EXITED);
	assert_int_equal(ex.exit_code, 5);
	assert_false(ex.lost);
}

/* Crash window 4: the shim has rewritten shim.json as its exit record but
 * died before renaming it exit.json: the exit is not lost. */
static void adopt_exit_not_yet_renamed(void **state)
{
	struct fixture *f = *state;
	struct task k;
	struct exec_exit ex;
	struct gerr e;
	char a[600], b[600];
	task_init(f, &k, "exit 9\n");
	launch(f, &k);
	assert_int_equal(wait_exited(f, k.uid, 10000).exit_code, 9);
	exec_free(f->x);
	snprintf(a, sizeof(a), "%s/exit.json", k.dir);
	snprintf(b, sizeof(b), "%s/shim.json", k.dir);
	assert_int_equal(rename(a, b), 0);
	f->x = new_exec(f);
	assert_int_equal(exec_adopt(f->x, k.uid, k.dir, &ex, &e), EXEC_EXITED);
	assert_int_equal(ex.exit_code, 9);
	assert_false(ex.lost);
	assert_true(file_size(k.dir, "exit.json") > 0);   /* the rename finished */
	assert_true(file_size(k.dir, "shim.json") < 0);
}

static void adopt_never_started(void **state)
{
	struct fixture *f = *state;
	struct exec_exit ex;
	struct gerr e;
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/nothing", f->base);
	assert_int_equal(exec_adopt(f->x, "test-never-1", dir, &ex, &e), EXEC_NEVER_STARTED);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(exec_adopt(f->x, "test-never-2", dir, &ex, &e), EXEC_NEVER_STARTED);
}

static void lost_shim(void **state)
{
	struct fixture *f = *state;
	struct task k;
	task_init(f, &k, "setsid sleep 1000 &\necho $! > escaped.pid\necho ready\nsleep 1000\n");
	launch(f, &k);
	struct rec r = wait_started(f, k.uid, 1);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	int shim = json_int_field(k.dir, "shim.json", "pid");
	int escaped = read_pid_file(k.cwd, "escaped.pid", 1000);
	assert_true(shim > 0 && escaped > 0);
	assert_int_equal(kill(shim, SIGKILL), 0);
	struct exec_exit ex = wait_exited(f, k.uid, 10000);
	assert_true(ex.lost);
	assert_non_null(strstr(ex.message, "killed"));
	for (int i = 0; i < 100 && !(is_dead(r.pid) && is_dead(escaped)); i++)
		usleep(10000);
	assert_true(is_dead(r.pid));
	assert_true(is_dead(escaped));
	/* the record says so for a later restart */
	struct exec_exit again;
	struct gerr e;
	assert_int_equal(exec_adopt(f->x, k.uid, k.dir, &again, &e), EXEC_EXITED);
	assert_true(again.lost);
}

static void adopt_lost(void **state)
{
	struct fixture *f = *state;
	struct task k;
	struct exec_exit ex;
	struct gerr e;
	task_init(f, &k, "echo ready\nsleep 1000\n");
	launch(f, &k);
	struct rec r = wait_started(f, k.uid, 1);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	int shim = json_int_field(k.dir, "shim.json", "pid");
	exec_free(f->x);
	assert_int_equal(kill(shim, SIGKILL), 0);
	for (int i = 0; i < 200 && !is_dead(shim); i++)
		usleep(10000);
	f->x = new_exec(f);
	assert_int_equal(exec_adopt(f->x, k.uid, k.dir, &ex, &e), EXEC_LOST);
	assert_true(ex.lost);
	assert_true(is_dead(r.pid));
}


/* Spares wait with their task's process already in fresh cgroups; a spare
 * killed, and every spare when the executor stops, leaves none behind. */
static void spares_leave_no_cgroups(void **state)
{
	struct fixture *f = *state;
	const struct exec_caps *caps = exec_get_caps(f->x);
	if (!caps->memory_limit) {
		fprintf(stderr, "spares_leave_no_cgroups: skipped: %s\n", caps->detail);
		skip();
	}
	pid_t zy, spares[8];
	char dirs[8][600];
	int n = 0;
	for (int i = 0; i < 300 && children(getpid(), "gantry-zygote", &zy, 1) != 1; i++)
		usleep(10000);   /* still starting (exec of gantry) */
	assert_int_equal(children(getpid(), "gantry-zygote", &zy, 1), 1);
	for (int i = 0; i < 300; i++) {   /* the zygote makes them one after another */
		n = children(zy, "gantry-shim", spares, 8);
		int ready = 0;
		for (int k = 0; k < n; k++) {
			shim_cgroup(caps->memory_root, spares[k], dirs[k], sizeof(dirs[k]));
			ready += dirs[k][0] != '\0';
		}
		if (n >= 2 && ready == n)
			break;
		usleep(10000);
	}
	assert_true(n >= 2);
	for (int k = 0; k < n; k++) {
		assert_true(dirs[k][0] != '\0');
		char *procs = slurp(dirs[k], "cgroup.procs", NULL);
		assert_non_null(procs);   /* the stub waits in there, not the spare */
		assert_true(atoi(procs) > 0 && atoi(procs) != spares[k]);
		free(procs);
	}
	/* killed: the stub dies with it, the zygote sweeps the orphan cgroup */
	assert_int_equal(kill(spares[0], SIGKILL), 0);
	for (int i = 0; i < 300 && access(dirs[0], F_OK) == 0; i++)
		usleep(10000);
	assert_int_equal(access(dirs[0], F_OK), -1);
	/* discarded with the executor */
	exec_free(f->x);
	f->x = NULL;
	for (int k = 1; k < n; k++) {
		assert_int_equal(access(dirs[k], F_OK), -1);
		assert_true(is_dead(spares[k]));
	}
	f->x = new_exec(f);
}

/* The task's process joined its cgroups before the launch; the limits are
 * written at the launch, and hold for bash; the shim stays outside. */
static void limits_on_the_preplaced_task(void **state)
{
	struct fixture *f = *state;
	const struct exec_caps *caps = exec_get_caps(f->x);
	if (!caps->memory_limit) {
		fprintf(stderr, "limits_on_the_preplaced_task: skipped: %s\n", caps->detail);
		skip();
	}
	struct task k;
	task_init(f, &k, "echo ready\nsleep 30\n");
	k.t.memory_mb = 48;
	launch(f, &k);
	struct rec r = wait_started(f, k.uid, 1);
	assert_true(wait_for_text(k.dir, "user.pai.stdout", "ready", 10000));
	char *sj = slurp(k.dir, "shim.json", NULL);
	assert_non_null(sj);
	int shim = json_int_field(k.dir, "shim.json", "pid");
	char *p = strstr(sj, "\"memory\":\"");
	assert_non_null(p);
	p += 10;
	*strchr(p, '"') = '\0';
	char want[64];
	snprintf(want, sizeof(want), "/shim-%d-", shim);
	assert_non_null(strstr(p, want));   /* named after the shim, made before the task was known */
	const char *file = strstr(sj, "\"memoryVersion\":2") ? "memory.max" : "memory.limit_in_bytes";
	char *lim = slurp(p, file, NULL), *procs = slurp(p, "cgroup.procs", NULL);
	assert_non_null(lim);
	assert_non_null(procs);
	assert_int_equal(atoll(lim), 48LL << 20);
	assert_true(has_pid(procs, r.pid));
	assert_false(has_pid(procs, shim));
	free(lim);
	free(procs);
	assert_int_equal(exec_kill(f->x, k.uid, 0), 0);
	wait_exited(f, k.uid, 5000);
	assert_int_equal(access(p, F_OK), -1);
	free(sj);
}

/* Crash window 1: the server dies after handing a shim its launch, before
 * the shim claims the attempt. A restarted server finds no claim: never
 * started; the shim sees its server gone and does not start the task; a
 * new launch runs it, once. */
static void adopt_before_the_claim(void **state)
{
	struct fixture *f = *state;
	struct task k;
	struct exec_exit ex;
	struct gerr e;
	restart_with(f, "GANTRY_EXEC_TEST_DELAY_CLAIM_MS", "700");
	task_init(f, &k, "echo ran >> ran.log\n");
	launch(f, &k);
	exec_free(f->x);   /* before the shim's claim */
	f->x = new_exec(f);
	assert_int_equal(exec_adopt(f->x, k.uid, k.dir, &ex, &e), EXEC_NEVER_STARTED);
	usleep(1200 * 1000);   /* the old shim has woken up, seen its server gone, and left */
	assert_int_equal(claim_holder(k.dir), 0);
	assert_true(file_size(k.cwd, "ran.log") < 0);
	assert_true(file_size(k.dir, "exit.json") < 0);
	launch(f, &k);
	assert_int_equal(wait_exited(f, k.uid, 10000).exit_code, 0);
	char *ran = slurp(k.cwd, "ran.log", NULL);
	assert_string_equal(ran, "ran\n");
	free(ran);
}

/* Crash window 2: the server dies after the shim has claimed the attempt,
 * before the task (and shim.json) exists. A restarted server finds the shim
 * through its claim and watches it to the end. */
static void adopt_after_the_claim(void **state)
{
	struct fixture *f = *state;
	struct task k;
	struct exec_exit ex;
	struct gerr e;
	restart_with(f, "GANTRY_EXEC_TEST_DELAY_START_MS", "1000");
	task_init(f, &k, "echo ran >> ran.log\nexit 6\n");
	launch(f, &k);
	pid_t shim = wait_claimed(k.dir, 5000);
	assert_true(shim > 0);
	exec_free(f->x);
	f->x = new_exec(f);
	assert_true(file_size(k.dir, "shim.json") < 0);   /* still on its way */
	assert_int_equal(exec_adopt(f->x, k.uid, k.dir, &ex, &e), EXEC_ADOPTED);
	ex = wait_exited(f, k.uid, 10000);
	assert_int_equal(ex.exit_code, 6);
	assert_false(ex.lost);
	char *ran = slurp(k.cwd, "ran.log", NULL);
	assert_string_equal(ran, "ran\n");
	free(ran);
}

/* Crash window 3: the shim dies after its claim, before its record: the
 * exit is lost, and its task's cgroups (named after it) are swept. */
static void lost_before_the_record(void **state)
{
	struct fixture *f = *state;
	struct task k;
	char cg[600] = "";
	restart_with(f, "GANTRY_EXEC_TEST_DELAY_START_MS", "3000");
	const struct exec_caps *caps = exec_get_caps(f->x);
	task_init(f, &k, "echo ran >> ran.log\n");
	launch(f, &k);
	pid_t shim = wait_claimed(k.dir, 5000);
	assert_true(shim > 0);
	if (caps->memory_limit) {
		shim_cgroup(caps->memory_root, shim, cg, sizeof(cg));
		assert_true(cg[0] != '\0');
	}
	assert_int_equal(kill(shim, SIGKILL), 0);
	struct exec_exit ex = wait_exited(f, k.uid, 10000);
	assert_true(ex.lost);
	if (cg[0])
		assert_int_equal(access(cg, F_OK), -1);
	usleep(100 * 1000);
	assert_true(file_size(k.cwd, "ran.log") < 0);
}

static void direct_spawn_without_zygote(void **state)
{
	struct fixture *f = *state;
	struct task k;
	exec_free(f->x);
	setenv("GANTRY_EXEC_ZYGOTE", "0", 1);
	f->x = new_exec(f);
	unsetenv("GANTRY_EXEC_ZYGOTE");
	task_init(f, &k, "exit 4\n");
	launch(f, &k);
	assert_int_equal(wait_exited(f, k.uid, 10000).exit_code, 4);
}

static void caps_detected(void **state)
{
	struct fixture *f = *state;
	struct exec_caps c;
	exec_caps_detect(&c);
	assert_non_null(c.cgroup);
	assert_true(!strcmp(c.cgroup, "v1") || !strcmp(c.cgroup, "v2") || !strcmp(c.cgroup, "none"));
	assert_true(strlen(c.detail) > 10);
	assert_string_equal(c.cgroup, exec_get_caps(f->x)->cgroup);
	if (c.memory_limit)
		assert_true(c.memory_root[0] == '/');
}

int main(void)
{
	log_set_quiet(true);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(exit_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(signal_death, setup, teardown),
		cmocka_unit_test_setup_teardown(output_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_with_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_grace_for_the_whole_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(sigkill_after_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(escaped_child_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(escaped_child_killed_without_cgroups, setup, teardown),
		cmocka_unit_test_setup_teardown(env_is_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(script_secret_stays_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(log_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_limit_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(cpu_limit_written, setup, teardown),
		cmocka_unit_test_setup_teardown(cannot_start, setup, teardown),
		cmocka_unit_test_setup_teardown(launch_twice_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(adopt_running, setup, teardown),
		cmocka_unit_test_setup_teardown(adopt_exited_meanwhile, setup, teardown),
		cmocka_unit_test_setup_teardown(adopt_never_started, setup, teardown),
		cmocka_unit_test_setup_teardown(adopt_exit_not_yet_renamed, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_shim, setup, teardown),
		cmocka_unit_test_setup_teardown(adopt_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(spares_leave_no_cgroups, setup, teardown),
		cmocka_unit_test_setup_teardown(limits_on_the_preplaced_task, setup, teardown),
		cmocka_unit_test_setup_teardown(adopt_before_the_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(adopt_after_the_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_before_the_record, setup, teardown),
		cmocka_unit_test_setup_teardown(direct_spawn_without_zygote, setup, teardown),
		cmocka_unit_test_setup_teardown(caps_detected, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
