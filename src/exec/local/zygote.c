/* SPDX-License-Identifier: MIT */
/*
 * zygote.c — `gantry shim --zygote`: forks shims so a launch pays no exec.
 *
 * DESIGN
 * ------
 * gantry links some forty shared libraries; in a VM the dynamic loader's
 * page faults alone cost ~4 ms per exec of it, more than the whole launch
 * budget. So exec_new starts one zygote (an exec of `gantry shim --zygote`,
 * once), in its own session, holding one end of a SOCK_SEQPACKET pair as
 * fd 0.
 *
 * The zygote keeps two *spare* shims ready: forked in advance with one end
 * of a fresh socket pair as their fds 0 and 1, warmed up (stack, heap and
 * the library data they will write are touched, so the copy-on-write
 * faults are behind them), each with its task's process already made and
 * moved into fresh cgroups (stub.c: that move waits for an RCU grace
 * period, the slowest part of a launch), and blocked reading their launch
 * description. A launch is then one round trip: the server sends one byte,
 * the zygote answers with the oldest spare's pid, a pidfd for it (taken
 * while it is the zygote's unreaped child, so it cannot name a recycled
 * pid) and the other end of its socket (SCM_RIGHTS), and forks the next
 * spare a moment later, once the launched shim has had the CPU. Two, so
 * that a launch soon after another still finds one whose cgroups are
 * joined. The launch description goes from the server straight to the
 * shim through that socket. The cgroup roots come from the server on the
 * command line.
 *
 * The zygote is single-threaded, so forking it is safe; it reaps the shims
 * (the server never has to), and exits when the server's end closes (EOF),
 * after its spares: they read EOF, kill their task's process, remove its
 * cgroups and exit quietly; running shims go on. A spare that dies
 * otherwise (killed) may leave its cgroups: the zygote sweeps orphans
 * (exec__cg_sweep) when it reaps one. If
 * the zygote dies or misbehaves, exec_launch falls back to posix_spawn of
 * `gantry shim`, and a later launch starts a new zygote.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "exec/local/internal.h"

extern char **environ;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct zy_reply {
	int32_t pid;
	int32_t err;                       /* errno of a failed fork, else 0 */
};

/* Send n bytes and nfds (0..2) fds. */
static int send_fds(int sock, const void *p, size_t n, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)p, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	ssize_t w;
	while ((w = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return w == (ssize_t)n ? 0 : -1;
}

/* Receive up to n bytes and up to 2 fds (unused ones are -1); returns the
 * byte count, and how many fds came in *nfds. */
static ssize_t recv_fds(int sock, void *p, size_t n, int fds[2], int *nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { p, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t r;
	fds[0] = fds[1] = -1;
	*nfds = 0;
	while ((r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < 2)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return r;
}

/* ---- the server's side --------------------------------------------------------- */

int exec__zygote_start(struct exec *x, struct gerr *err)
{
	struct zygote *z = &x->zy;
	sigset_t none;
	int sp[2];
	pid_t pid;
	char a1[] = "shim", a2[] = "--zygote";
	json_t *rj = exec__cg_task_to_json(&x->roots);
	char *roots = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
	json_decref(rj);
	if (!roots)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	char *argv[] = { x->gantry_path, a1, a2, roots, NULL };

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		free(roots);
		return gerr_set(err, GERR_IO, "socketpair: %s", strerror(errno));
	}
	sigemptyset(&none);
	int fds[3] = { sp[1], -1, -2 };   /* stderr stays ours: the zygote's own complaints go to the server's log */
	/* every symbol bound once, in the zygote: else each shim binds the
	 * ones it calls first (a copy-on-write fault and a lookup each) */
	size_t n = 0;
	while (environ[n])
		n++;
	char **envp = calloc(n + 2, sizeof(char *));
	char bindnow[] = "LD_BIND_NOW=1";
	int rc;
	if (!envp) {
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
	} else {
		memcpy(envp, environ, n * sizeof(char *));
		envp[n] = bindnow;
		rc = exec__spawn(x->gantry_path, argv, envp, fds, true, &none, &pid, err);
	}
	free(envp);
	free(roots);
	close(sp[1]);
	if (rc < 0) {
		close(sp[0]);
		return rc;
	}
	int pidfd = pidfd_open(pid, 0);   /* our child: its pid cannot be reused before we reap it */
	if (pidfd < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(sp[0]);
		return gerr_set(err, GERR_IO, "pidfd_open: %s", strerror(e));
	}
	z->w = (struct wfd){ WFD_ZYGOTE, NULL };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &z->w };
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(pidfd);
		close(sp[0]);
		return gerr_set(err, GERR_IO, "epoll_ctl: %s", strerror(e));
	}
	z->pid = pid;
	z->pidfd = pidfd;
	z->ctl = sp[0];
	return 0;
}

/* The zygote failed us: kill it; the watcher reaps it (caller holds z->mu). */
static void zygote_drop(struct zygote *z, const char *why)
{
	log_warn("exec: the shim zygote (pid %d) %s; falling back to spawning `gantry shim`", (int)z->pid, why);
	if (z->pidfd >= 0)
		pidfd_send_signal(z->pidfd, SIGKILL, NULL, 0);
	if (z->ctl >= 0)
		close(z->ctl);
	z->ctl = -1;
}

int exec__zygote_spawn(struct exec *x, pid_t *pid, int *pidfd, int *sock, struct gerr *err)
{
	struct zygote *z = &x->zy;
	struct zy_reply rep;
	int rc = GERR_IO;
	pthread_mutex_lock(&z->mu);
	if (z->disabled) {
		rc = gerr_set(err, GERR_IO, "the shim zygote is disabled");
		goto out;
	}
	if (z->pid == 0 && exec__zygote_start(x, err) < 0) {
		log_warn("exec: %s", err ? err->msg : "cannot start the shim zygote");
		z->disabled = true;
		goto out;
	}
	if (z->ctl < 0) {
		rc = gerr_set(err, GERR_IO, "the shim zygote is being replaced");
		goto out;
	}
	char req = 'S';
	if (send_fds(z->ctl, &req, 1, NULL, 0) < 0) {
		rc = gerr_set(err, GERR_IO, "sending to the shim zygote: %s", strerror(errno));
		zygote_drop(z, "cannot be reached");
		goto out;
	}
	struct pollfd p = { .fd = z->ctl, .events = POLLIN };
	int fds[2], nfds = 0;
	ssize_t n = -1;
	if (poll(&p, 1, 5000) == 1)
		n = recv_fds(z->ctl, &rep, sizeof(rep), fds, &nfds);
	if (n != (ssize_t)sizeof(rep) || (rep.err == 0 && nfds != 2)) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		rc = gerr_set(err, GERR_IO, "the shim zygote did not answer");
		zygote_drop(z, "did not answer");
		goto out;
	}
	if (rep.err != 0) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		rc = gerr_set(err, GERR_IO, "the shim zygote cannot fork: %s", strerror(rep.err));
		goto out;
	}
	*pid = rep.pid;
	*pidfd = fds[0];
	*sock = fds[1];
	rc = 0;
out:
	pthread_mutex_unlock(&z->mu);
	return rc;
}

/* After the watcher thread has stopped: close our end (the zygote exits on
 * EOF) and reap it. */
void exec__zygote_stop(struct exec *x)
{
	struct zygote *z = &x->zy;
	if (z->ctl >= 0)
		close(z->ctl);
	z->ctl = -1;
	if (z->pidfd >= 0) {
		struct pollfd p = { .fd = z->pidfd, .events = POLLIN };
		if (poll(&p, 1, 2000) != 1) {
			log_warn("exec: the shim zygote (pid %d) did not exit: killing it", (int)z->pid);
			pidfd_send_signal(z->pidfd, SIGKILL, NULL, 0);
		}
		siginfo_t si;
		while (waitid((idtype_t)P_PIDFD, (id_t)z->pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		close(z->pidfd);
	}
	z->pidfd = -1;
	z->pid = 0;
}

/* ---- spares ---------------------------------------------------------------------- */

static void __attribute__((noinline)) touch_stack(void)
{
	volatile char buf[24 * 1024];
	for (size_t i = 0; i < sizeof(buf); i += 4096)
		buf[i] = 0;
}

/* Just what the shim uses before its task runs (measured: about 70 pages
 * fault here, 11 more in a whole launch): touching more costs every launch
 * CPU for faults it never needed. */
void exec__shim_prewarm(void)
{
	enum { CHUNK = 64 * 1024, CHUNKS = 2 };
	void *p[CHUNKS];
	char line[128], msg[256];
	struct timespec ts;
	struct tm tm;

	/* heap: grow it and keep it (not trimmed, not mmapped per allocation) */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	for (int i = 0; i < CHUNKS; i++)
		if ((p[i] = malloc(CHUNK)))
			memset(p[i], 0, CHUNK);
	for (int i = 0; i < CHUNKS; i++)
		free(p[i]);
	touch_stack();
	/* the library data the shim writes on its way to `started` */
	json_t *j = json_loads("{\"uid\":\"u\",\"env\":[\"A=1\"],\"cpu\":0.5,\"memoryMB\":1,\"cgroups\":{}}", 0, NULL);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	free(s);
	json_decref(j);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	if (snprintf(msg, sizeof(msg), "%s %lld %.2f %s", line, (long long)ts.tv_nsec, 0.5, strerror(ENOENT)) < 0)
		return;
	(void)sigabbrev_np(SIGKILL);
}

/* ---- the zygote ------------------------------------------------------------------ */

#define NSPARES 3

struct spare {
	pid_t pid;
	int pidfd, sock;                   /* the server's end of its socket */
};

static struct spare spares[NSPARES];   /* oldest first */
static int nspares;
static struct cg_task zy_roots;        /* given by the server */

static void spare_close(struct spare *sp)
{
	if (sp->pidfd >= 0)
		close(sp->pidfd);
	if (sp->sock >= 0)
		close(sp->sock);
	*sp = (struct spare){ 0, -1, -1 };
}

/* Take spare i out of the pool (its fds stay with the caller's copy). */
static struct spare spare_take(int i)
{
	struct spare sp = spares[i];
	for (int k = i; k + 1 < nspares; k++)
		spares[k] = spares[k + 1];
	nspares--;
	return sp;
}

/* Fork the next spare into the pool. Returns 1 in the spare itself (the
 * caller becomes the shim), 0 in the zygote, -1 when it could not be made. */
static int spare_make(int sigfd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		fprintf(stderr, "gantry shim --zygote: socketpair: %s\n", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sigfd);
		close(sv[0]);
		/* the other spares' sockets: held here, they would hide their
		 * server's exit from them */
		for (int i = 0; i < nspares; i++)
			spare_close(&spares[i]);
		nspares = 0;
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0) {   /* fd 0 was the server's control socket */
			fprintf(stderr, "gantry shim: dup2: %s\n", strerror(errno));
			_exit(1);
		}
		close(sv[1]);
		exec__shim_prewarm();
		return 1;
	}
	close(sv[1]);
	int pidfd = pid > 0 ? pidfd_open(pid, 0) : -1;
	if (pid < 0 || pidfd < 0) {
		fprintf(stderr, "gantry shim --zygote: %s: %s\n", pid < 0 ? "fork" : "pidfd_open", strerror(errno));
		if (pid > 0)
			kill(pid, SIGKILL);   /* reaped with the others */
		close(sv[0]);
		return -1;
	}
	spares[nspares++] = (struct spare){ pid, pidfd, sv[0] };
	return 0;
}

/* The server is gone: every spare reads EOF, discards its task's process
 * and cgroups, and exits; wait for them (bounded), so that nothing of ours
 * is left when the zygote has exited. */
static void spares_drop_all(void)
{
	int64_t end = exec__mono_ms() + 2000;
	for (int i = 0; i < nspares; i++) {
		close(spares[i].sock);
		spares[i].sock = -1;
	}
	for (int i = 0; i < nspares; i++) {
		struct pollfd p = { .fd = spares[i].pidfd, .events = POLLIN };
		int64_t left = end - exec__mono_ms();
		if (poll(&p, 1, left > 0 ? (int)left : 0) != 1) {
			fprintf(stderr, "gantry shim --zygote: spare shim %d did not exit: killing it\n", (int)spares[i].pid);
			kill(spares[i].pid, SIGKILL);
		}
		waitpid(spares[i].pid, NULL, 0);
		spare_close(&spares[i]);
	}
	nspares = 0;
	exec__cg_sweep(&zy_roots);   /* what a killed one left */
}

int exec__zygote_main(const char *roots)
{
	int64_t spare_at = 0;              /* when to fork the next spare (monotonic ms) */
	sigset_t mask;
	json_t *rj = roots ? json_loads(roots, 0, NULL) : NULL;
	exec__cg_task_from_json(rj, &zy_roots);
	json_decref(rj);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)   /* shims inherit it blocked until their signalfd */
		fprintf(stderr, "gantry shim --zygote: sigprocmask: %s\n", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "gantry-zygote");
	int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		fprintf(stderr, "gantry shim --zygote: signalfd: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < NSPARES; i++)
		spares[i] = (struct spare){ 0, -1, -1 };
	for (;;) {
		int timeout = -1;
		if (nspares < NSPARES) {
			int64_t left = spare_at - exec__mono_ms();
			timeout = left < 0 ? 0 : (int)left;
		}
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
		int n = poll(p, 2, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "gantry shim --zygote: poll: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0 && nspares < NSPARES) {
			int rc = spare_make(sigfd);
			if (rc == 1)
				return exec__shim_run(&zy_roots);
			if (rc < 0)
				spare_at = exec__mono_ms() + 1000;
			continue;
		}
		if (n > 0 && p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					spares_drop_all();
					close(sigfd);
					return 0;
				}
			}
			pid_t pid;
			bool lost = false;
			while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
				for (int i = 0; i < nspares; i++)
					if (spares[i].pid == pid) {   /* a spare died unused: make another, calmly */
						struct spare sp = spare_take(i);
						spare_close(&sp);
						spare_at = exec__mono_ms() + 100;
						lost = true;
						break;
					}
			if (lost)
				exec__cg_sweep(&zy_roots);
		}
		if (n <= 0 || !p[0].revents)
			continue;
		char req;
		int fds[2], nfds;
		ssize_t r = recv_fds(0, &req, 1, fds, &nfds);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (r == 0 || (r < 0 && errno != EAGAIN)) {   /* the server is gone */
			spares_drop_all();
			close(sigfd);
			return 0;
		}
		if (r < 0)
			continue;
		struct zy_reply rep = { 0, 0 };
		if (nspares == 0) {   /* launches faster than spares: fork one now */
			int rc = spare_make(sigfd);
			if (rc == 1)
				return exec__shim_run(&zy_roots);
			if (rc < 0)
				rep.err = errno ? errno : EAGAIN;
		}
		struct spare sp = rep.err ? (struct spare){ 0, -1, -1 } : spare_take(0);
		int give[2] = { sp.pidfd, sp.sock };
		rep.pid = sp.pid;
		if (send_fds(0, &rep, sizeof(rep), give, rep.err ? 0 : 2) < 0)
			fprintf(stderr, "gantry shim --zygote: cannot answer the server: %s\n", strerror(errno));
		/* handed over (or, unanswered, dropped: the spare reads EOF and exits) */
		spare_close(&sp);
		/* let the launched shim and its task have the CPU first: a spare
		 * costs a fork and a few milliseconds of CPU, which a launch just
		 * handed over should not compete with while spares are left */
		spare_at = exec__mono_ms() + (nspares > 0 ? 25 : 2);
	}
}
