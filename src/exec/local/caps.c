/* SPDX-License-Identifier: MIT */
/*
 * caps.c — what this machine offers tasks (DESIGN principle 5: detect,
 * report, degrade loudly): cgroups (cgroup.c), bubblewrap, and a container
 * engine that really answers (an installed `docker` without a daemon does
 * not count).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/local/internal.h"

/* The executable name in $PATH, into out; false when absent. */
static bool in_path(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n > 0 && snprintf(out, cap, "%.*s/%s", (int)n, path, name) < (int)cap && access(out, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* Run argv with no output; true when it exits 0 within timeout_ms. */
static bool runs_ok(char *const argv[], int timeout_ms)
{
	int fds[3] = { -1, -1, -1 };
	sigset_t none;
	pid_t pid;
	int st = 0;
	sigemptyset(&none);
	if (exec__spawn(argv[0], argv, NULL, fds, false, &none, &pid, NULL) < 0)
		return false;
	int pfd = pidfd_open(pid, 0);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) != 1)
			kill(pid, SIGKILL);
		close(pfd);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static const char *detect_engine(char *why, size_t cap)
{
	static const char *const names[] = { "podman", "docker" };
	char path[EXEC_PATH_MAX];
	size_t n = 0;
	why[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!in_path(names[i], path, sizeof(path)))
			continue;
		char fmt[] = "--format", info[] = "info", what[] = "{{.Host.Arch}}", dwhat[] = "{{.ServerVersion}}";
		char *argv[] = { path, info, fmt, i == 0 ? what : dwhat, NULL };
		if (runs_ok(argv, 5000))
			return names[i];
		n += (size_t)snprintf(why + n, n < cap ? cap - n : 0, "%s%s is installed but '%s info' fails",
		                      n ? "; " : "", path, names[i]);
	}
	return NULL;
}

void exec_caps_detect(struct exec_caps *caps)
{
	struct cg_layout lay;
	exec__cg_detect(&lay);
	exec__caps_from(caps, &lay);
}

void exec__caps_from(struct exec_caps *caps, const struct cg_layout *lp)
{
	const struct cg_layout lay = *lp;
	char engine_why[256];
	memset(caps, 0, sizeof(*caps));

	caps->memory_limit = lay.mem_v != 0;
	caps->cpu_limit = lay.cpu_v != 0;
	caps->kill_tree = lay.tree_root[0] != '\0';
	if (lay.mem_v == 2 || lay.cpu_v == 2 || (!lay.mem_v && !lay.cpu_v && lay.tree_kill))
		caps->cgroup = "v2";
	else if (lay.mem_v == 1 || lay.cpu_v == 1)
		caps->cgroup = "v1";
	else
		caps->cgroup = "none";
	if (snprintf(caps->memory_root, sizeof(caps->memory_root), "%s", lay.mem_root) >= (int)sizeof(caps->memory_root) ||
	    snprintf(caps->cpu_root, sizeof(caps->cpu_root), "%s", lay.cpu_root) >= (int)sizeof(caps->cpu_root))
		caps->detail[0] = '\0';   /* shown truncated; the executor uses the full paths */
	caps->bwrap = access("/usr/bin/bwrap", X_OK) == 0;
	caps->container_engine = detect_engine(engine_why, sizeof(engine_why));

	char *d = caps->detail;
	size_t cap = sizeof(caps->detail), n = 0;
#define ADD(...) (n += (size_t)snprintf(d + n, n < cap ? cap - n : 0, __VA_ARGS__))
	if (!strcmp(caps->cgroup, "none"))
		ADD("no usable cgroups: memory and cpu limits are not enforced");
	else
		ADD("cgroup %s%s: memory limit %s, cpu limit %s", caps->cgroup, lay.hybrid ? " (hybrid)" : "",
		    lay.mem_v ? (lay.mem_v == 1 && !lay.memsw ? "yes (swap not limited)" : "yes") : "no",
		    lay.cpu_v ? "yes" : "no");
	if (lay.tree_root[0])
		ADD("; tree kill by %s", lay.tree_kill ? "cgroup.kill" : "cgroup.procs");
	else
		ADD("; tree kill by process group and the shim's descendants only");
	if (lay.why[0])
		ADD(" (%s)", lay.why);
	ADD("; bubblewrap %s", caps->bwrap ? "present (not used)" : "absent");
	if (caps->container_engine)
		ADD("; container engine %s (images not used: tasks run on the host)", caps->container_engine);
	else
		ADD("; no container engine%s%s: tasks run on the host", engine_why[0] ? ": " : "", engine_why);
#undef ADD
}
