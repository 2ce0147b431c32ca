/* SPDX-License-Identifier: MIT */
/* util.c — files, /proc/<pid>/stat and clocks for the local executor. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/local/internal.h"

extern char **environ;

int64_t exec__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t exec__mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int exec__write_atomic(const char *dir, const char *name, const char *data, size_t n, bool sync,
                       struct gerr *err)
{
	char tmp[EXEC_PATH_MAX], path[EXEC_PATH_MAX];
	int fd = -1, dfd = -1, e;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return gerr_set(err, GERR_INVALID, "%s/%s: path too long", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		gerr_set(err, GERR_IO, "open %s: %s", tmp, strerror(e));
		goto error;
	}
	if (write_all(fd, data, n) < 0) {
		e = errno;
		gerr_set(err, GERR_IO, "write %s: %s", tmp, strerror(e));
		goto error;
	}
	if (sync && fsync(fd) < 0) {
		e = errno;
		gerr_set(err, GERR_IO, "fsync %s: %s", tmp, strerror(e));
		goto error;
	}
	if (close(fd) < 0) {
		fd = -1;
		e = errno;
		gerr_set(err, GERR_IO, "close %s: %s", tmp, strerror(e));
		goto error;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		e = errno;
		gerr_set(err, GERR_IO, "rename %s to %s: %s", tmp, path, strerror(e));
		goto error;
	}
	if (sync) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0) {
			e = errno;
			if (dfd >= 0)
				close(dfd);
			/* the file is in place; only its durability is in doubt */
			return gerr_set(err, GERR_IO, "fsync %s: %s", dir, strerror(e));
		}
		close(dfd);
	}
	return 0;
error:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return GERR_IO;
}

int exec__write_over(const char *dir, const char *from, const char *to, const char *data, size_t n,
                     struct gerr *err)
{
	char src[EXEC_PATH_MAX], dst[EXEC_PATH_MAX];
	if (snprintf(src, sizeof(src), "%s/%s", dir, from) >= (int)sizeof(src) ||
	    snprintf(dst, sizeof(dst), "%s/%s", dir, to) >= (int)sizeof(dst))
		return gerr_set(err, GERR_INVALID, "%s: path too long", dir);
	int fd = open(src, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return gerr_set(err, GERR_IO, "open %s: %s", src, strerror(errno));
	if (write_all(fd, data, n) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		return gerr_set(err, GERR_IO, "write %s: %s", src, strerror(e));
	}
	if (close(fd) < 0)
		return gerr_set(err, GERR_IO, "close %s: %s", src, strerror(errno));
	if (rename(src, dst) < 0)
		return gerr_set(err, GERR_IO, "rename %s to %s: %s", src, dst, strerror(errno));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return gerr_set(err, GERR_IO, "fsync %s: %s", dir, strerror(e));
	}
	close(dfd);
	return 0;
}

bool exec__exit_read(const char *dir, struct exec_exit *ex)
{
	json_t *j = exec__read_json(dir, "exit.json");
	bool moved = false;
	if (!j) {   /* rewritten as the exit record, not yet renamed: the shim died in between */
		j = exec__read_json(dir, "shim.json");
		if (j && !json_object_get(j, "exitCode")) {
			json_decref(j);
			j = NULL;
		}
		moved = j != NULL;
	}
	if (!j)
		return false;
	exec__exit_from_json(j, ex);
	json_decref(j);
	if (moved) {   /* finish its rename */
		char src[EXEC_PATH_MAX], dst[EXEC_PATH_MAX];
		snprintf(src, sizeof(src), "%s/shim.json", dir);
		snprintf(dst, sizeof(dst), "%s/exit.json", dir);
		if (rename(src, dst) == 0) {
			int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				if (fsync(dfd) < 0)
					errno = 0;   /* in place; only its durability is in doubt */
				close(dfd);
			}
		}
	}
	return true;
}

char *exec__read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

json_t *exec__read_json(const char *dir, const char *name)
{
	char path[EXEC_PATH_MAX];
	size_t n;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *s = exec__read_file(path, 1 << 20, &n);
	if (!s)
		return NULL;
	json_t *j = json_loadb(s, n, 0, NULL);
	free(s);
	if (!j)
		errno = EINVAL;
	return j;
}

bool exec__exists(const char *dir, const char *name)
{
	char path[EXEC_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static int proc_stat(pid_t pid, pid_t *ppid, pid_t *pgid, int64_t *start, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice threads itrealvalue
	 * starttime ...": comm may hold spaces and parentheses, so count from
	 * the last ')'. The state is field 3, starttime field 22. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	long long f[23] = { 0 };
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		if (field == 3 && state)
			*state = *p;
		if (field != 3)
			f[field] = strtoll(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	if (ppid)
		*ppid = (pid_t)f[4];
	if (pgid)
		*pgid = (pid_t)f[5];
	if (start)
		*start = f[22];
	return 0;
}

int exec__proc_stat(pid_t pid, pid_t *ppid, pid_t *pgid, int64_t *start)
{
	return proc_stat(pid, ppid, pgid, start, NULL);
}

bool exec__proc_live(pid_t pid, int64_t start)
{
	int64_t st;
	char state = 0;
	return pid > 0 && proc_stat(pid, NULL, NULL, &st, &state) == 0 && st == start && state != 'Z' &&
	       state != 'X';
}

int64_t exec__proc_start_time(pid_t pid)
{
	int64_t st;
	if (pid <= 0 || exec__proc_stat(pid, NULL, NULL, &st) < 0)
		return -1;
	return st;
}

/* mkdir, and on ENOENT its parent first: an existing deep path costs one
 * syscall, not one per component. */
static int mkdir_rec(char *p, size_t n, int depth)
{
	if (mkdir(p, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || depth > 64)
		return -1;
	while (n > 1 && p[n - 1] != '/')
		n--;
	if (n <= 1)
		return -1;
	p[n - 1] = '\0';
	int rc = mkdir_rec(p, n - 1, depth + 1);
	p[n - 1] = '/';
	if (rc < 0)
		return -1;
	return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int exec__mkdir_p(const char *path, struct gerr *err)
{
	char p[EXEC_PATH_MAX];
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(p))
		return gerr_set(err, GERR_INVALID, "bad directory path '%s'", path);
	memcpy(p, path, n);
	p[n] = '\0';
	if (mkdir_rec(p, n, 0) < 0) {
		int e = errno;
		return gerr_set(err, GERR_IO, "mkdir %s: %s", path, strerror(e));
	}
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return gerr_set(err, GERR_IO, "%s: not a directory", path);
	return 0;
}

struct proc_pair {
	pid_t pid, ppid;
};

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc_pair *)a)->pid, y = ((const struct proc_pair *)b)->pid;
	return (x > y) - (x < y);
}

int exec__signal_descendants(int sig, struct gerr *err)
{
	size_t n = 0, cap = 1024;
	int found = 0;
	struct proc_pair *ps = malloc(cap * sizeof(*ps));
	DIR *d = opendir("/proc");
	if (!ps || !d) {
		int e = errno;
		free(ps);
		if (d)
			closedir(d);
		return gerr_set(err, GERR_IO, "cannot list /proc: %s", strerror(e));
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		pid_t pp;
		if (*end || pid <= 0 || exec__proc_stat((pid_t)pid, &pp, NULL, NULL) < 0)
			continue;
		if (n == cap) {
			struct proc_pair *np = realloc(ps, 2 * cap * sizeof(*ps));
			if (!np)
				break;
			ps = np;
			cap *= 2;
		}
		ps[n++] = (struct proc_pair){ (pid_t)pid, pp };
	}
	closedir(d);
	qsort(ps, n, sizeof(*ps), by_pid);
	/* a process is ours when its parent is us or ours: walk up each chain
	 * once, then give every process on it the verdict (1 ours, 2 not) */
	unsigned char *mark = calloc(n ? n : 1, 1);
	size_t *chain = malloc((n ? n : 1) * sizeof(*chain));
	pid_t self = getpid();
	if (!mark || !chain) {
		free(mark);
		free(chain);
		free(ps);
		return gerr_set(err, GERR_NOMEM, "out of memory listing the task's processes");
	}
	for (size_t i = 0; i < n; i++) {
		size_t depth = 0, k = i;
		unsigned char verdict = 2;
		while (!mark[k]) {
			chain[depth++] = k;
			if (ps[k].pid == self)
				break;
			if (ps[k].ppid == self) {
				verdict = 1;
				break;
			}
			struct proc_pair key = { ps[k].ppid, 0 };
			struct proc_pair *p = bsearch(&key, ps, n, sizeof(*ps), by_pid);
			if (!p || depth == n)
				break;
			k = (size_t)(p - ps);
		}
		if (mark[k])   /* stopped at a process already judged */
			verdict = mark[k];
		for (size_t c = 0; c < depth; c++)
			mark[chain[c]] = verdict;
	}
	for (size_t i = 0; i < n; i++)
		if (mark[i] == 1 && kill(ps[i].pid, sig) == 0)
			found++;
	free(mark);
	free(chain);
	free(ps);
	return found;
}

json_t *exec__exit_to_json(const struct exec_exit *ex)
{
	return json_pack("{s:i, s:i, s:b, s:b, s:b, s:I, s:I, s:s}", "exitCode", ex->exit_code, "signal", ex->signal,
	                 "oom", ex->oom, "stopped", ex->stopped, "lost", ex->lost, "startedMs",
	                 (json_int_t)ex->started_ms, "finishedMs", (json_int_t)ex->finished_ms, "message",
	                 ex->message);
}

void exec__exit_from_json(json_t *j, struct exec_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->exit_code = (int)json_integer_value(json_object_get(j, "exitCode"));
	ex->signal = (int)json_integer_value(json_object_get(j, "signal"));
	ex->oom = json_is_true(json_object_get(j, "oom"));
	ex->stopped = json_is_true(json_object_get(j, "stopped"));
	ex->lost = json_is_true(json_object_get(j, "lost"));
	ex->started_ms = json_integer_value(json_object_get(j, "startedMs"));
	ex->finished_ms = json_integer_value(json_object_get(j, "finishedMs"));
	const char *m = json_string_value(json_object_get(j, "message"));
	snprintf(ex->message, sizeof(ex->message), "%s", m ? m : "");
}

int exec__spawn(const char *path, char *const argv[], char *const envp[], const int fds[3], bool new_session,
                const sigset_t *mask, pid_t *pid, struct gerr *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all;
	int e = 0;
	sigfillset(&all);
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		return gerr_set(err, GERR_NOMEM, "posix_spawn_file_actions_init: %s", strerror(e));
	if ((e = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return gerr_set(err, GERR_NOMEM, "posix_spawnattr_init: %s", strerror(e));
	}
	for (int i = 0; i < 3 && !e; i++) {
		if (fds[i] >= 0)
			e = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		else if (fds[i] == -1)
			e = posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
	}
	/* nothing of ours leaks in (a listening socket...), and no cwd is held */
	if (!e)
		e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!e)
		e = posix_spawn_file_actions_addchdir_np(&fa, "/");
	if (!e)
		e = posix_spawnattr_setflags(&at, (new_session ? POSIX_SPAWN_SETSID : 0) | POSIX_SPAWN_SETSIGMASK |
		                                      POSIX_SPAWN_SETSIGDEF);
	if (!e)
		e = posix_spawnattr_setsigmask(&at, mask);
	if (!e)
		e = posix_spawnattr_setsigdefault(&at, &all);
	if (!e && (e = posix_spawn(pid, path, &fa, &at, argv, envp ? envp : environ)) != 0)
		gerr_set(err, GERR_IO, "cannot run %s: %s", path, strerror(e));
	else if (e)
		gerr_set(err, GERR_NOMEM, "posix_spawn attributes: %s", strerror(e));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return e ? GERR_IO : 0;
}
