/* SPDX-License-Identifier: MIT */
/*
 * watch.c — the watcher thread: one epoll over every shim's pidfd and
 * started socket, the zygote's pidfd and a wake-up eventfd.
 *
 * DESIGN
 * ------
 * Events, each reported from this thread only:
 *
 *   socket readable   "started PID MS" → cb.started; "failed MESSAGE": the
 *                     shim could not make DIR, and will exit (kept for
 *                     the report below)
 *   pidfd readable    the shim exited: first whatever is left on its socket
 *                     (a fast task's "started" line), then DIR/exit.json →
 *                     cb.exited; no exit.json → the shim was lost: its
 *                     task's tree is killed (exec__lost) and cb.exited
 *                     reports lost = true
 *   wake              exec_free is stopping us, or adopted shims are due a
 *                     `started` (from their shim.json)
 *   zygote pidfd      the zygote died: reap it; the next launch starts one
 *
 * A shim that ends is taken out of the table under x->mu (after which
 * exec_kill cannot find it) and freed at the end of the epoll batch, since
 * a later event of the same batch may still point at it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "exec/local/internal.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int exec__watch_add(struct exec *x, struct shim *s, struct gerr *err)
{
	bool wake = false;
	int rc = 0;
	s->w_pid = (struct wfd){ WFD_PIDFD, s };
	s->w_sock = (struct wfd){ WFD_SOCK, s };
	pthread_mutex_lock(&x->mu);
	if (x->stopping) {
		rc = gerr_set(err, GERR_INTERNAL, "the executor is stopping");
		goto out;
	}
	if (hmap_get(&x->shims, s->uid)) {
		rc = gerr_set(err, GERR_CONFLICT, "task %s is already being watched", s->uid);
		goto out;
	}
	if (hmap_put(&x->shims, s->uid, s) < 0) {
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
		goto out;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->w_pid };
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, s->pidfd, &ev) < 0) {
		rc = gerr_set(err, GERR_IO, "epoll_ctl: %s", strerror(errno));
		hmap_del(&x->shims, s->uid);
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &s->w_sock };
	if (s->sock >= 0 && epoll_ctl(x->epfd, EPOLL_CTL_ADD, s->sock, &ev) < 0) {
		rc = gerr_set(err, GERR_IO, "epoll_ctl: %s", strerror(errno));
		epoll_ctl(x->epfd, EPOLL_CTL_DEL, s->pidfd, NULL);
		hmap_del(&x->shims, s->uid);
		goto out;
	}
	s->next = x->all;
	if (x->all)
		x->all->prev = s;
	x->all = s;
	if (s->pending_started) {
		s->next_pending = x->pending;
		x->pending = s;
		wake = true;
	}
out:
	pthread_mutex_unlock(&x->mu);
	if (wake)
		exec__wake(x);
	return rc;
}

static void report_started(struct exec *x, struct shim *s, int pid, int64_t ms)
{
	if (s->started)
		return;
	s->started = true;
	if (x->cb.started)
		x->cb.started(x->cb.ctx, s->uid, pid, ms);
}

static void close_sock(struct exec *x, struct shim *s)
{
	if (s->sock < 0)
		return;
	epoll_ctl(x->epfd, EPOLL_CTL_DEL, s->sock, NULL);
	close(s->sock);
	s->sock = -1;
}

/* Read the shim's socket: the "started" line, then EOF. */
static void on_sock(struct exec *x, struct shim *s)
{
	while (s->sock >= 0) {
		char buf[128];
		ssize_t n = read(s->sock, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_sock(x, s);
			return;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (s->linelen < sizeof(s->line) - 1)
					s->line[s->linelen++] = buf[i];
				continue;
			}
			s->line[s->linelen] = '\0';
			s->linelen = 0;
			int pid;
			long long ms;
			if (sscanf(s->line, "started %d %lld", &pid, &ms) == 2) {
				s->task_pid = pid;
				s->started_ms = ms;
				report_started(x, s, pid, ms);
			} else if (!strncmp(s->line, "failed ", 7) && !s->failed) {
				s->failed = strdup(s->line + 7);
			} else {
				log_warn("exec: shim of %s said '%s'", s->uid, s->line);
			}
		}
	}
}

/* Reading exit.json right after the shim's exit: it was written (fsync,
 * rename) before the shim exited, so it is there or was never written. */
static void on_shim_exit(struct exec *x, struct shim *s)
{
	struct exec_exit ex;
	int status = -1;
	on_sock(x, s);
	close_sock(x, s);
	pthread_mutex_lock(&x->mu);
	if (s->pending_started) {
		for (struct shim **p = &x->pending; *p; p = &(*p)->next_pending)
			if (*p == s) {
				*p = s->next_pending;
				break;
			}
		s->pending_started = false;
		pthread_mutex_unlock(&x->mu);
		report_started(x, s, s->task_pid, s->started_ms);
		pthread_mutex_lock(&x->mu);
	}
	hmap_del(&x->shims, s->uid);
	if (s->prev)
		s->prev->next = s->next;
	else
		x->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&x->mu);
	epoll_ctl(x->epfd, EPOLL_CTL_DEL, s->pidfd, NULL);

	siginfo_t si;
	memset(&si, 0, sizeof(si));
	/* our child (spawned, or left from a previous exec in this process):
	 * reap it; a zygote's child is the zygote's to reap (ECHILD) */
	if (waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid != 0)
		status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	if (!exec__exit_read(s->dir, &ex)) {
		exec__lost(x, s->uid, s->dir, status, s->failed, &ex);
	}
	if (x->cb.exited)
		x->cb.exited(x->cb.ctx, s->uid, &ex);
	s->dead = true;
}

static void on_zygote(struct exec *x)
{
	struct zygote *z = &x->zy;
	pthread_mutex_lock(&z->mu);
	if (z->pidfd >= 0) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		epoll_ctl(x->epfd, EPOLL_CTL_DEL, z->pidfd, NULL);
		waitid((idtype_t)P_PIDFD, (id_t)z->pidfd, &si, WEXITED | WNOHANG);
		if (z->ctl >= 0)   /* not asked to go: say so */
			log_warn("exec: the shim zygote (pid %d) exited (%s %d); the next launch starts another",
			         (int)z->pid, si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
		close(z->pidfd);
		if (z->ctl >= 0)
			close(z->ctl);
		z->pidfd = z->ctl = -1;
		z->pid = 0;
	}
	pthread_mutex_unlock(&z->mu);
}

/* Returns false when exec_free asks us to stop. */
static bool on_wake(struct exec *x)
{
	uint64_t v;
	if (read(x->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_error("exec: reading the wake-up eventfd: %s", strerror(errno));
	pthread_mutex_lock(&x->mu);
	if (x->stopping) {
		pthread_mutex_unlock(&x->mu);
		return false;
	}
	while (x->pending) {
		struct shim *s = x->pending;
		x->pending = s->next_pending;
		s->pending_started = false;
		pthread_mutex_unlock(&x->mu);
		report_started(x, s, s->task_pid, s->started_ms);
		pthread_mutex_lock(&x->mu);
	}
	pthread_mutex_unlock(&x->mu);
	return true;
}

void *exec__watch_thread(void *arg)
{
	struct exec *x = arg;
	struct epoll_event evs[64];
	struct shim *dead[64];
	for (;;) {
		int n = epoll_wait(x->epfd, evs, 64, -1), ndead = 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("exec: epoll_wait: %s", strerror(errno));
			nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
			continue;
		}
		bool stop = false;
		for (int i = 0; i < n; i++) {
			struct wfd *w = evs[i].data.ptr;
			switch (w->kind) {
			case WFD_WAKE:
				stop = !on_wake(x) || stop;
				break;
			case WFD_ZYGOTE:
				on_zygote(x);
				break;
			case WFD_SOCK:
				if (!w->s->dead)
					on_sock(x, w->s);
				break;
			case WFD_PIDFD:
				if (!w->s->dead) {
					on_shim_exit(x, w->s);
					dead[ndead++] = w->s;
				}
				break;
			}
		}
		for (int i = 0; i < ndead; i++)
			exec__shim_free(dead[i]);
		if (stop)
			return NULL;
	}
}
