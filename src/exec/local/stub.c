/* SPDX-License-Identifier: MIT */
/*
 * stub.c — the task's process, made before the task is known.
 *
 * DESIGN
 * ------
 * Moving a process into a cgroup (a write to cgroup.procs) takes the
 * kernel's cgroup_threadgroup_rwsem for writing, which waits for an RCU
 * grace period unless one has just passed: 4–20 ms on a VM, far more than
 * the rest of a launch. So the shim makes its task's process ahead of time,
 * while a spare shim waits for its launch (zygote.c): the *stub*.
 *
 *   exec__stub_make     makes the shim's cgroups ("shim-<pid>-<start>" under
 *                       each root: named after the shim, since the task is
 *                       not known yet), the output pipes, an empty memfd for
 *                       the script, and clones the stub, which calls setsid
 *                       and blocks reading its `go` pipe; then moves it into
 *                       the cgroups (the slow write, paid here)
 *   exec__stub_start    at the launch, once the limits are written: hands
 *                       the stub its arguments and says go; the stub makes
 *                       the pipes its fds 0-3, changes to the working
 *                       directory and execs bash. A close-on-exec pipe says
 *                       whether the exec succeeded
 *   exec__stub_discard  kills an unused stub, removes its cgroups
 *
 * The stub is cloned with CLONE_VM and no CLONE_VFORK: it shares the shim's
 * memory (no page tables copied, like vfork), runs on a stack of its own,
 * and while it waits the shim goes on. It reads its arguments from the
 * shim's memory only after `go`, when the shim is blocked reading the
 * result pipe, so the two never run at the same time except while the stub
 * is blocked in read(). It has its own table of fds, copied at the clone:
 * whatever it needs (pipes, memfd, /dev/null) exists before the clone.
 * Between the clone and its exec it runs nothing that allocates or touches
 * errno while the shim runs, and it dies with the shim (PR_SET_PDEATHSIG),
 * which is cleared again just before the exec.
 *
 * Guarantees kept: the task's process is in its cgroups before it runs any
 * user code (it joined before `go`); the limits are written before `go`;
 * the cgroups are the task's own, so OOM counting and tree kills work as
 * before; an unused stub and its cgroups are removed by exec__stub_discard,
 * or, when its shim was killed, by exec__cg_sweep (the owner in the name is
 * dead).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/local/internal.h"

#define BASH "/bin/bash"
#define STUB_STACK (64 * 1024)

/* The stub runs on its own stack in the shim's memory: no sanitizer
 * bookkeeping (it would take the stack for a foreign one). */
#define STUB_CODE __attribute__((no_sanitize("address", "undefined")))

static void STUB_CODE __attribute__((noreturn)) stub_fail(const struct stub_child *c, int step, int err)
{
	struct exec_child_err ce = { step, err };
	if (write(c->res_w, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

static int STUB_CODE stub_main(void *arg)
{
	const struct stub *st = arg;
	const struct stub_child *c = &st->c;   /* read-only while we live */
	char b;
	ssize_t n;
	/* the shim's ends of our pipes: a discarded stub must see EOF */
	close(c->go_w);
	close(c->res_r);
	close(c->out_r);
	close(c->err_r);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != c->parent)
		_exit(1);
	if (setsid() < 0)
		stub_fail(c, EXEC_STEP_SETSID, errno);
	while ((n = read(c->go_r, &b, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)   /* discarded */
		_exit(0);
	const struct exec_child_args *a = st->args;   /* written before go */
	sigset_t none;
	if (chdir(a->cwd) < 0)
		stub_fail(c, EXEC_STEP_CHDIR, errno);
	if (dup2(c->devnull, 0) < 0 || dup2(c->out_w, 1) < 0 || dup2(c->err_w, 2) < 0 ||
	    (c->memfd == 3 ? fcntl(3, F_SETFD, 0) : dup2(c->memfd, 3)) < 0 ||
	    close_range(4, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		stub_fail(c, EXEC_STEP_FDS, errno);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, 0);
	execve(BASH, a->argv, a->envp);
	stub_fail(c, EXEC_STEP_EXEC, errno);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void exec__stub_init(struct stub *st)
{
	memset(st, 0, sizeof(*st));
	st->go_w = st->res_r = st->out_r = st->err_r = st->memfd = -1;
}

/* Reap the stub (blocking: it is dead or about to be). */
static void stub_reap(struct stub *st)
{
	if (st->pid <= 0)
		return;
	while (waitpid(st->pid, NULL, 0) < 0 && errno == EINTR)
		;
	st->pid = 0;
}

static void stub_unmap(struct stub *st)
{
	if (st->stack)
		munmap(st->stack, st->stack_size);
	st->stack = NULL;
}

static void stub_close(struct stub *st)
{
	close_fd(&st->go_w);
	close_fd(&st->res_r);
	close_fd(&st->out_r);
	close_fd(&st->err_r);
	close_fd(&st->memfd);
}

/* A stub process (in no cgroup yet); fds and pipes fresh. */
static int stub_clone(struct stub *st, int devnull, struct gerr *err)
{
	int go[2] = { -1, -1 }, res[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 }, rc = 0;
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(er, O_CLOEXEC) < 0) {
		rc = gerr_set(err, GERR_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	st->memfd = memfd_create("gantry-task-script", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (st->memfd < 0) {
		rc = gerr_set(err, GERR_IO, "memfd_create: %s", strerror(errno));
		goto out;
	}
	if (!st->stack) {
		st->stack_size = STUB_STACK;
		st->stack = mmap(NULL, st->stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		                 -1, 0);
		if (st->stack == MAP_FAILED) {
			st->stack = NULL;
			rc = gerr_set(err, GERR_NOMEM, "mmap of the task's stack: %s", strerror(errno));
			goto out;
		}
	}
	st->c = (struct stub_child){
		.parent = getpid(), .go_r = go[0], .res_w = res[1], .go_w = go[1], .res_r = res[0],
		.out_r = out[0], .err_r = er[0], .devnull = devnull, .out_w = out[1], .err_w = er[1],
		.memfd = st->memfd,
	};
	pid_t pid = clone(stub_main, (char *)st->stack + st->stack_size, CLONE_VM | SIGCHLD, st);
	if (pid < 0) {
		rc = gerr_set(err, GERR_IO, "clone: %s", strerror(errno));
		goto out;
	}
	st->pid = pid;
	/* ours; the stub has its own copies of the rest */
	st->go_w = go[1], go[1] = -1;
	st->res_r = res[0], res[0] = -1;
	st->out_r = out[0], out[0] = -1;
	st->err_r = er[0], er[0] = -1;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&go[i]);
		close_fd(&res[i]);
		close_fd(&out[i]);
		close_fd(&er[i]);
	}
	if (rc < 0)
		close_fd(&st->memfd);
	return rc;
}

int exec__stub_make(struct stub *st, const struct cg_task *cg, int devnull, struct gerr *err)
{
	int rc;
	st->cg = *cg;
	if (exec__cg_task_any(&st->cg) && (rc = exec__cg_task_create(&st->cg, err)) < 0)
		goto error;
	if ((rc = stub_clone(st, devnull, err)) < 0)
		goto error;
	/* the slow part: the stub waits, blocked, while it is moved */
	if (exec__cg_task_any(&st->cg) && (rc = exec__cg_task_join(&st->cg, st->pid, err)) < 0)
		goto error;
	return 0;
error:
	exec__stub_discard(st);
	return rc;
}

int exec__stub_start(struct stub *st, const struct exec_child_args *a, struct exec_child_err *ce)
{
	struct exec_child_err none = { 0, 0 };
	*ce = none;
	st->args = a;
	/* the write orders our writes of *a before the stub's reads of it */
	ssize_t n;
	while ((n = write(st->go_w, "g", 1)) < 0 && errno == EINTR)
		;
	if (n != 1) {   /* the stub is gone (EPIPE) */
		ce->step = EXEC_STEP_GONE;
		ce->err = errno;
		stub_reap(st);
		return -1;
	}
	close_fd(&st->go_w);
	while ((n = read(st->res_r, ce, sizeof(*ce))) < 0 && errno == EINTR)
		;
	close_fd(&st->res_r);
	if (n == 0) {
		/* exec'd: the stub has left our memory (exec switches it to its
		 * own before the close-on-exec pipe closes) */
		stub_unmap(st);
		close_fd(&st->memfd);
		return 0;
	}
	if (n != (ssize_t)sizeof(*ce)) {
		ce->step = EXEC_STEP_GONE;
		ce->err = 0;
	}
	stub_reap(st);
	stub_unmap(st);
	return -1;
}

void exec__stub_discard(struct stub *st)
{
	struct gerr e;
	if (st->pid > 0) {
		kill(st->pid, SIGKILL);
		stub_reap(st);
	}
	stub_close(st);
	close_fd(&st->memfd);
	stub_unmap(st);
	if (exec__cg_task_any(&st->cg)) {
		/* a stub that got away from its kill (cannot happen) is killed here */
		exec__cg_kill_wait(&st->cg, 1000);
		if (exec__cg_task_remove(&st->cg, &e) < 0)
			fprintf(stderr, "gantry shim: %s\n", e.msg);
	}
	memset(&st->cg, 0, sizeof(st->cg));
}

const char *exec__child_step_name(int step)
{
	switch (step) {
	case EXEC_STEP_SETSID: return "setsid";
	case EXEC_STEP_CHDIR: return "the working directory";
	case EXEC_STEP_FDS: return "dup2";
	case EXEC_STEP_EXEC: return BASH;
	default: return "the task's process (it died before its exec)";
	}
}
