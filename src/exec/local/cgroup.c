/* SPDX-License-Identifier: MIT */
/*
 * cgroup.c — where task cgroups go, and one task's cgroups.
 *
 * DESIGN
 * ------
 * Task cgroups live under the server's own cgroup, in a child "gantry":
 * "<own>/gantry/<uid>", so Gantry never touches cgroups it was not given.
 * Three roles, each a directory or "":
 *
 *   mem   enforces memoryMB   v2 memory.max (+ memory.swap.max 0);
 *                             v1 memory.limit_in_bytes (+ memsw when present)
 *   cpu   enforces cpu        v2 cpu.max; v1 cpu.cfs_quota_us / cfs_period_us
 *   tree  holds every process of the task, so the whole tree is killed even
 *         when a process leaves the session: cgroup.kill where it exists
 *         (v2, also the controller-less v2 tree of a hybrid machine), else
 *         SIGKILL to each pid of cgroup.procs until it is empty
 *
 * On a pure v2 machine the three are one directory. On a hybrid machine
 * (v1 controllers, v2 mounted without them) mem and cpu are v1 and tree is
 * the v2 directory. The server detects the layout and passes its roots to
 * the zygote and to each shim. A shim names its task's directories after
 * itself, "shim-<pid>-<start time>", because it makes them before it knows
 * its task (stub.c: the task's process joins them ahead of time); it
 * records them in shim.json and removes them when the task is over. The
 * shim itself stays outside, so the memory limit and cgroup.kill never
 * touch it.
 *
 * Orphans: a directory whose shim is dead (its pid gone, or reused: the
 * start time in the name no longer matches) belongs to nobody:
 * exec__cg_sweep kills what is in it and removes it. That covers a spare
 * killed with its zygote, and a shim killed before it recorded its
 * cgroups. Earlier shims named the directories after the task uid
 * (exec__cg_task_paths); adoption still looks there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/local/internal.h"

/* ---- small file helpers ---------------------------------------------------- */

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[EXEC_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static bool has_file(const char *dir, const char *file)
{
	return exec__exists(dir, file);
}

static char *read_small(const char *dir, const char *file)
{
	char path[EXEC_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return exec__read_file(path, 1 << 20, NULL);
}

/* Is word one of the space/comma separated tokens of list? */
static bool has_token(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n) {
		bool start = p == list || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\n';
		bool end = p[n] == '\0' || p[n] == ' ' || p[n] == ',' || p[n] == '\n';
		if (start && end)
			return true;
	}
	return false;
}

/* ---- detection --------------------------------------------------------------- */

struct mnt {
	char point[EXEC_PATH_MAX];
	char root[EXEC_PATH_MAX];
};

/* The cgroup mounts from /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT POINT
 * OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS". */
static void find_mounts(struct mnt *v2, struct mnt *mem, struct mnt *cpu)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char root[EXEC_PATH_MAX], point[EXEC_PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %511s %511s", root, point) != 2)
			continue;
		const char *dash = strstr(line, " - ");
		if (!dash)
			continue;
		char fstype[32], source[256], opts[1024];
		if (sscanf(dash + 3, "%31s %255s %1023s", fstype, source, opts) != 3)
			continue;
		struct mnt *m = NULL;
		if (!strcmp(fstype, "cgroup2"))
			m = v2;
		else if (!strcmp(fstype, "cgroup") && has_token(opts, "memory"))
			m = mem;
		else if (!strcmp(fstype, "cgroup") && has_token(opts, "cpu"))
			m = cpu;
		if (m && !m->point[0]) {
			snprintf(m->point, sizeof(m->point), "%s", point);
			snprintf(m->root, sizeof(m->root), "%s", root);
		}
	}
	fclose(f);
}

/* Our own cgroup paths from /proc/self/cgroup ("ID:CONTROLLERS:PATH"). */
static void own_paths(char *v2, char *mem, char *cpu, size_t cap)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		if (!strcmp(line, "0") && !*ctrls)
			snprintf(v2, cap, "%s", path);
		if (has_token(ctrls, "memory"))
			snprintf(mem, cap, "%s", path);
		if (has_token(ctrls, "cpu"))
			snprintf(cpu, cap, "%s", path);
	}
	fclose(f);
}

/* The directory of cgroup path inside mount m. */
static void join_mount(const struct mnt *m, const char *path, char *out, size_t cap)
{
	size_t rl = strlen(m->root);
	if (strcmp(m->root, "/") && !strncmp(path, m->root, rl) && (path[rl] == '/' || !path[rl]))
		path += rl;
	if (!strcmp(path, "/"))
		path = "";
	snprintf(out, cap, "%s%s", m->point, path);
}

static void why_add(struct cg_layout *lay, const char *fmt, const char *a, int e)
{
	size_t n = strlen(lay->why);
	if (n + 2 >= sizeof(lay->why))
		return;
	char msg[200];
	if (snprintf(msg, sizeof(msg), fmt, a, strerror(e)) < 0)
		return;
	if (snprintf(lay->why + n, sizeof(lay->why) - n, "%s%s", n ? "; " : "", msg) >= (int)(sizeof(lay->why) - n))
		lay->why[sizeof(lay->why) - 1] = '\0';
}

/* mkdir dir/gantry into root; false (with lay->why) when it cannot be made. */
static bool make_root(struct cg_layout *lay, const char *dir, char *root, size_t cap)
{
	char r[EXEC_PATH_MAX];
	if (snprintf(r, sizeof(r), "%s/gantry", dir) >= (int)sizeof(r))
		return false;
	if (mkdir(r, 0755) < 0 && errno != EEXIST) {
		why_add(lay, "cannot create %s: %s", r, errno);
		return false;
	}
	snprintf(root, cap, "%s", r);
	return true;
}

/* cgroup v2: enable ctrl for children of dir (and of dir/gantry). The "no
 * internal processes" rule refuses it (EBUSY) when dir holds processes and
 * is not the root: then the server should run in a delegated cgroup with a
 * leaf of its own (systemd Delegate=yes). */
static bool v2_enable(struct cg_layout *lay, const char *dir, const char *root, const char *ctrl)
{
	char want[16], *cur = read_small(dir, "cgroup.subtree_control");
	snprintf(want, sizeof(want), "+%s", ctrl);
	bool on = cur && has_token(cur, ctrl);
	free(cur);
	if (!on && write_str(dir, "cgroup.subtree_control", want) < 0) {
		why_add(lay, "cannot enable the v2 controller in %s: %s", dir, errno);
		return false;
	}
	cur = read_small(root, "cgroup.subtree_control");
	on = cur && has_token(cur, ctrl);
	free(cur);
	if (!on && write_str(root, "cgroup.subtree_control", want) < 0) {
		why_add(lay, "cannot enable the v2 controller in %s: %s", root, errno);
		return false;
	}
	return true;
}

void exec__cg_detect(struct cg_layout *lay)
{
	struct mnt v2 = { 0 }, mem = { 0 }, cpu = { 0 };
	char p2[EXEC_PATH_MAX] = "", pm[EXEC_PATH_MAX] = "", pc[EXEC_PATH_MAX] = "";
	char d2[EXEC_PATH_MAX] = "", dir[EXEC_PATH_MAX];

	memset(lay, 0, sizeof(*lay));
	find_mounts(&v2, &mem, &cpu);
	own_paths(p2, pm, pc, sizeof(p2));

	char *ctrls = NULL;
	if (v2.point[0]) {
		join_mount(&v2, p2[0] ? p2 : "/", d2, sizeof(d2));
		ctrls = read_small(d2, "cgroup.controllers");
	}
	if (ctrls && (has_token(ctrls, "memory") || has_token(ctrls, "cpu"))) {
		/* pure cgroup v2: one directory per task does everything */
		char root[EXEC_PATH_MAX];
		if (make_root(lay, d2, root, sizeof(root))) {
			if (has_token(ctrls, "memory") && v2_enable(lay, d2, root, "memory")) {
				lay->mem_v = 2;
				snprintf(lay->mem_root, sizeof(lay->mem_root), "%s", root);
			}
			if (has_token(ctrls, "cpu") && v2_enable(lay, d2, root, "cpu")) {
				lay->cpu_v = 2;
				snprintf(lay->cpu_root, sizeof(lay->cpu_root), "%s", root);
			}
			snprintf(lay->tree_root, sizeof(lay->tree_root), "%s", root);
			lay->tree_kill = has_file(root, "cgroup.kill");
		}
		free(ctrls);
		return;
	}
	free(ctrls);
	if (mem.point[0] && pm[0]) {
		join_mount(&mem, pm, dir, sizeof(dir));
		if (make_root(lay, dir, lay->mem_root, sizeof(lay->mem_root))) {
			if (has_file(lay->mem_root, "memory.limit_in_bytes")) {
				lay->mem_v = 1;
				lay->memsw = has_file(lay->mem_root, "memory.memsw.limit_in_bytes");
			} else {
				lay->mem_root[0] = '\0';
			}
		}
	}
	if (cpu.point[0] && pc[0]) {
		join_mount(&cpu, pc, dir, sizeof(dir));
		if (make_root(lay, dir, lay->cpu_root, sizeof(lay->cpu_root))) {
			if (has_file(lay->cpu_root, "cpu.cfs_quota_us"))
				lay->cpu_v = 1;
			else
				lay->cpu_root[0] = '\0';
		}
	}
	/* the tree: a controller-less v2 hierarchy still has cgroup.kill */
	if (d2[0] && make_root(lay, d2, lay->tree_root, sizeof(lay->tree_root))) {
		lay->tree_kill = has_file(lay->tree_root, "cgroup.kill");
		lay->hybrid = lay->mem_v == 1 || lay->cpu_v == 1;
	} else if (lay->mem_v) {
		snprintf(lay->tree_root, sizeof(lay->tree_root), "%s", lay->mem_root);
	} else if (lay->cpu_v) {
		snprintf(lay->tree_root, sizeof(lay->tree_root), "%s", lay->cpu_root);
	}
}

/* ---- a task's cgroups ------------------------------------------------------------ */

/* uid with odd characters made '_' (a cgroup name) */
static void clean_name(const char *uid, char *name, size_t cap)
{
	size_t i = 0;
	for (; uid[i] && i < cap - 1; i++) {
		char c = uid[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		          c == '_' || (c == '.' && i > 0);
		name[i] = ok ? c : '_';
	}
	name[i] = '\0';
}

void exec__cg_roots(const struct cg_layout *lay, struct cg_task *roots)
{
	memset(roots, 0, sizeof(*roots));
	if (lay->mem_v) {
		roots->mem_v = lay->mem_v;
		snprintf(roots->mem, sizeof(roots->mem), "%s", lay->mem_root);
	}
	if (lay->cpu_v) {
		roots->cpu_v = lay->cpu_v;
		snprintf(roots->cpu, sizeof(roots->cpu), "%s", lay->cpu_root);
	}
	snprintf(roots->tree, sizeof(roots->tree), "%s", lay->tree_root);
}

void exec__cg_task_named(const struct cg_task *roots, const char *name, bool mem, bool cpu, struct cg_task *t)
{
	memset(t, 0, sizeof(*t));
	/* a path that does not fit is left out: that limit is then not applied */
	if (mem && roots->mem_v && snprintf(t->mem, sizeof(t->mem), "%s/%s", roots->mem, name) < (int)sizeof(t->mem))
		t->mem_v = roots->mem_v;
	else
		t->mem[0] = '\0';
	if (cpu && roots->cpu_v && snprintf(t->cpu, sizeof(t->cpu), "%s/%s", roots->cpu, name) < (int)sizeof(t->cpu))
		t->cpu_v = roots->cpu_v;
	else
		t->cpu[0] = '\0';
	if (!roots->tree[0] || snprintf(t->tree, sizeof(t->tree), "%s/%s", roots->tree, name) >= (int)sizeof(t->tree))
		t->tree[0] = '\0';
}

void exec__cg_shim_name(pid_t pid, int64_t start, char *out, size_t cap)
{
	snprintf(out, cap, "shim-%d-%lld", (int)pid, (long long)start);
}

void exec__cg_task_paths(const struct cg_layout *lay, const char *uid, bool mem, bool cpu, struct cg_task *t)
{
	char name[128];
	struct cg_task roots;
	clean_name(uid, name, sizeof(name));
	exec__cg_roots(lay, &roots);
	exec__cg_task_named(&roots, name, mem, cpu, t);
}

json_t *exec__cg_task_to_json(const struct cg_task *t)
{
	return json_pack("{s:s, s:i, s:s, s:i, s:s}", "memory", t->mem, "memoryVersion", t->mem_v, "cpu", t->cpu,
	                 "cpuVersion", t->cpu_v, "tree", t->tree);
}

static void get_str(json_t *j, const char *key, char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(j, key));
	snprintf(out, cap, "%s", s ? s : "");
}

void exec__cg_task_from_json(json_t *j, struct cg_task *t)
{
	memset(t, 0, sizeof(*t));
	get_str(j, "memory", t->mem, sizeof(t->mem));
	get_str(j, "cpu", t->cpu, sizeof(t->cpu));
	get_str(j, "tree", t->tree, sizeof(t->tree));
	t->mem_v = t->mem[0] ? (int)json_integer_value(json_object_get(j, "memoryVersion")) : 0;
	t->cpu_v = t->cpu[0] ? (int)json_integer_value(json_object_get(j, "cpuVersion")) : 0;
}

bool exec__cg_task_any(const struct cg_task *t)
{
	return t->mem[0] || t->cpu[0] || t->tree[0];
}

/* The task's distinct directories. */
static int dirs(const struct cg_task *t, const char *out[3])
{
	const char *all[3] = { t->tree, t->mem, t->cpu };
	int n = 0;
	for (int i = 0; i < 3; i++) {
		bool dup = !all[i][0];
		for (int k = 0; k < n && !dup; k++)
			dup = !strcmp(out[k], all[i]);
		if (!dup)
			out[n++] = all[i];
	}
	return n;
}

int exec__cg_task_create(const struct cg_task *t, struct gerr *err)
{
	const char *d[3];
	int n = dirs(t, d);
	for (int i = 0; i < n; i++)
		if (mkdir(d[i], 0755) < 0 && errno != EEXIST) {
			int e = errno;
			return gerr_set(err, GERR_IO, "cannot create cgroup %s: %s", d[i], strerror(e));
		}
	return 0;
}

int exec__cg_task_limit(const struct cg_task *t, int64_t memory_mb, double cpu, struct gerr *err)
{
	char val[64];
	if (t->mem[0] && memory_mb > 0) {
		snprintf(val, sizeof(val), "%lld", (long long)memory_mb << 20);
		const char *f = t->mem_v == 2 ? "memory.max" : "memory.limit_in_bytes";
		if (write_str(t->mem, f, val) < 0) {
			int e = errno;
			return gerr_set(err, GERR_IO, "cannot set %s/%s to %s: %s", t->mem, f, val, strerror(e));
		}
		/* swap would let the task outgrow memoryMB without an OOM kill */
		f = t->mem_v == 2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
		if (has_file(t->mem, f) && write_str(t->mem, f, t->mem_v == 2 ? "0" : val) < 0) {
			int e = errno;
			return gerr_set(err, GERR_IO, "cannot set %s/%s: %s", t->mem, f, strerror(e));
		}
	}
	if (t->cpu[0] && cpu > 0) {
		long long period = 100000, quota = (long long)(cpu * (double)period + 0.5);
		if (quota < 1000)
			quota = 1000;   /* the kernel's minimum */
		if (t->cpu_v == 2) {
			snprintf(val, sizeof(val), "%lld %lld", quota, period);
			if (write_str(t->cpu, "cpu.max", val) < 0) {
				int e = errno;
				return gerr_set(err, GERR_IO, "cannot set %s/cpu.max to %s: %s", t->cpu, val,
				                strerror(e));
			}
		} else {
			/* 100 ms is v1's default period: written only when it is not */
			char *cur = read_small(t->cpu, "cpu.cfs_period_us");
			bool same = cur && strtoll(cur, NULL, 10) == period;
			free(cur);
			snprintf(val, sizeof(val), "%lld", period);
			if (!same && write_str(t->cpu, "cpu.cfs_period_us", val) < 0) {
				int e = errno;
				return gerr_set(err, GERR_IO, "cannot set %s/cpu.cfs_period_us: %s", t->cpu,
				                strerror(e));
			}
			snprintf(val, sizeof(val), "%lld", quota);
			if (write_str(t->cpu, "cpu.cfs_quota_us", val) < 0) {
				int e = errno;
				return gerr_set(err, GERR_IO, "cannot set %s/cpu.cfs_quota_us to %s: %s", t->cpu,
				                val, strerror(e));
			}
		}
	}
	return 0;
}

int exec__cg_task_join(const struct cg_task *t, pid_t pid, struct gerr *err)
{
	const char *d[3];
	char val[24];
	int n = dirs(t, d);
	snprintf(val, sizeof(val), "%d", (int)pid);
	for (int i = 0; i < n; i++)
		if (write_str(d[i], "cgroup.procs", val) < 0) {
			int e = errno;
			return gerr_set(err, GERR_IO, "cannot move the task's process into cgroup %s: %s", d[i],
			                strerror(e));
		}
	return 0;
}

/* Signal each pid listed in dir/cgroup.procs; returns how many. */
static int signal_procs(const char *dir, int sig)
{
	char *s = read_small(dir, "cgroup.procs");
	int n = 0;
	if (!s)
		return 0;
	for (char *p = s; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0 && kill((pid_t)pid, sig) == 0)
			n++;
		p = end;
		while (*p == '\n')
			p++;
	}
	free(s);
	return n;
}

int exec__cg_signal(const struct cg_task *t, int sig)
{
	const char *d[3];
	int n = dirs(t, d), found = 0;
	if (sig == SIGKILL && t->tree[0] && has_file(t->tree, "cgroup.kill"))
		write_str(t->tree, "cgroup.kill", "1");   /* failures fall back to the pid lists */
	for (int i = 0; i < n; i++)
		found += signal_procs(d[i], sig);
	return found;
}

static bool dir_empty(const char *dir)
{
	if (access(dir, F_OK) < 0)
		return true;
	char *ev = read_small(dir, "cgroup.events");   /* v2: counts sub-cgroups too */
	if (ev) {
		bool populated = strstr(ev, "populated 1") != NULL;
		free(ev);
		if (populated)
			return false;
	}
	char *s = read_small(dir, "cgroup.procs");
	bool empty = !s || !*s;
	free(s);
	return empty;
}

bool exec__cg_is_empty(const struct cg_task *t)
{
	const char *d[3];
	int n = dirs(t, d);
	for (int i = 0; i < n; i++)
		if (!dir_empty(d[i]))
			return false;
	return true;
}

bool exec__cg_kill_wait(const struct cg_task *t, int timeout_ms)
{
	int64_t end = exec__mono_ms() + timeout_ms;
	for (;;) {
		exec__cg_signal(t, SIGKILL);
		if (exec__cg_is_empty(t))
			return true;
		if (exec__mono_ms() >= end)
			return false;
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
}

int64_t exec__cg_oom_kills(const struct cg_task *t)
{
	if (!t->mem[0])
		return -1;
	char *s = read_small(t->mem, t->mem_v == 2 ? "memory.events" : "memory.oom_control");
	if (!s)
		return -1;
	int64_t n = -1;
	for (char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "oom_kill ", 9))
			n = strtoll(p + 9, NULL, 10);
	free(s);
	return n;
}

int exec__cg_task_remove(const struct cg_task *t, struct gerr *err)
{
	const char *d[3];
	int n = dirs(t, d), rc = 0;
	for (int i = 0; i < n; i++) {
		int tries = 0;
		while (rmdir(d[i]) < 0 && errno != ENOENT) {
			/* a killed process may still be leaving the cgroup */
			if (errno != EBUSY || ++tries > 200) {
				int e = errno;
				rc = gerr_set(err, GERR_IO, "cannot remove cgroup %s: %s", d[i], strerror(e));
				break;
			}
			nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
		}
	}
	return rc;
}

/* ---- orphans ------------------------------------------------------------------- */

/* Kill what is in dir (an orphan) and remove it. */
static void sweep_dir(const char *dir)
{
	struct cg_task t;
	struct gerr e;
	memset(&t, 0, sizeof(t));
	snprintf(t.tree, sizeof(t.tree), "%s", dir);   /* cgroup.kill when it is v2 */
	if (exec__cg_kill_wait(&t, 1000))
		exec__cg_task_remove(&t, &e);   /* else the next sweep tries again */
}

int exec__cg_sweep(const struct cg_task *roots)
{
	const char *d[3];
	int n = dirs(roots, d), removed = 0;
	for (int i = 0; i < n; i++) {
		DIR *dp = opendir(d[i]);
		struct dirent *de;
		if (!dp)
			continue;
		while ((de = readdir(dp))) {
			int pid;
			long long start;
			char tail;
			if (strncmp(de->d_name, "shim-", 5) ||
			    sscanf(de->d_name, "shim-%d-%lld%c", &pid, &start, &tail) != 2 || pid <= 0)
				continue;
			if (exec__proc_live(pid, start))
				continue;   /* its shim lives (a zombie does not) */
			char path[EXEC_PATH_MAX];
			if (snprintf(path, sizeof(path), "%s/%s", d[i], de->d_name) >= (int)sizeof(path))
				continue;
			sweep_dir(path);
			removed++;
		}
		closedir(dp);
	}
	return removed;
}
