/* SPDX-License-Identifier: MIT */
/*
 * follow.c — log streams without a thread per client (see follow.h).
 *
 * DESIGN
 * ------
 * A follower's reader (on an MHD worker) loops over: hand out formatted
 * bytes; end when decided; read the file; switch files after a rotation;
 * end when the attempt is over and the file is read out; else suspend. The
 * attempt being over is checked *before* the read, so bytes written before
 * exit.json appeared are always sent.
 *
 * Wakeups cannot be lost: every waker (the watcher on an inotify event,
 * follow_shutdown, a ping) takes the lock and either resumes a suspended
 * connection or sets `pending`; the reader suspends under that same lock
 * only when `pending` is clear, and clears it before it reads.
 *
 * Memory: a follower is unlinked by follow_release (MHD worker), but freed by
 * the watcher after the epoll batch it is in, because a batch may still hold
 * a pointer to it (its socket's event). EPOLL_CTL_DEL is done at release, so
 * no later batch can name it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "api/follow.h"
#include "base/buf.h"
#include "base/log.h"

#define TAG_INOTIFY 1u
#define TAG_WAKE 2u
#define TAG_TIMER 3u
#define WATCH_MASK (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | \
                    IN_MOVE_SELF | IN_ONLYDIR)
#define SSE_READ 8192             /* raw bytes per SSE event at most */
#define BLOCK 16384               /* MHD's buffer for our body */

struct fwatch {                   /* one inotify watch: a directory being followed */
	int wd;                       /* -1 once the kernel dropped it (directory gone) */
	char *dir;
	struct follower *list;        /* its followers (wnext) */
	struct fwatch *next;
};

struct follower {
	struct follow *f;
	struct MHD_Connection *conn;
	struct fwatch *w;
	struct follower *wnext, *wprev;   /* in w->list */
	struct follower *next, *prev;     /* in f->all */
	struct follower *gnext;           /* in f->grave */
	char *file, *file1;               /* "user.pai.stdout", "user.pai.stdout.1" */
	int dirfd;
	int sock;                         /* dup of the client's socket (watched for RDHUP), or -1 */

	/* the reader's own (one MHD worker at a time) */
	int fd;                           /* the file being read, -1 until it exists */
	dev_t dev;
	ino_t ino;
	int64_t off;                      /* next byte to read in fd */
	int64_t start;                    /* where to start on the first open */
	bool first, tail, sse, cr, ended;
	struct buf out;                   /* formatted bytes not yet given to MHD */
	size_t out_pos;

	/* under f->lock */
	bool suspended;                   /* the reader suspended the connection */
	bool pending;                     /* woken while running: read again before suspending */
	bool closing;                     /* the server stops: cut the stream */
	bool gone;                        /* the client went away */
	bool dir_gone;                    /* the directory was removed: nothing more will come */
	bool ping;                        /* SSE: send a keep-alive comment if idle */
	bool dead;                        /* released; freed after the watcher's batch */
};

struct follow {
	pthread_mutex_t lock;
	pthread_t thread;
	int ep, in, wake, timer;
	struct fwatch *watches;
	struct follower *all;
	struct follower *grave;
	unsigned count;
	bool stopping, quit, started;
};

/* ---- waking -------------------------------------------------------------------- */

/* f->lock held. */
static void wake_locked(struct follower *F)
{
	if (F->dead)
		return;
	if (F->suspended) {
		F->suspended = false;
		MHD_resume_connection(F->conn);
	} else {
		F->pending = true;
	}
}

static void poke(struct follow *f)
{
	uint64_t one = 1;
	if (write(f->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("follow: cannot wake the watcher: %s", strerror(errno));
}

/* ---- reading -------------------------------------------------------------------- */

static bool open_current(struct follower *F)
{
	struct stat st;
	int fd = openat(F->dirfd, F->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return false;
	}
	F->fd = fd;
	F->dev = st.st_dev;
	F->ino = st.st_ino;
	F->cr = false;
	if (F->first) {
		F->first = false;
		if (F->tail)
			F->off = st.st_size > FOLLOW_TAIL ? st.st_size - FOLLOW_TAIL : 0;
		else
			F->off = F->start < st.st_size ? F->start : st.st_size;
	} else {
		F->off = 0;
	}
	return true;
}

static ssize_t pread_full(struct follower *F, char *buf, size_t max)
{
	ssize_t n;
	if (F->fd < 0)
		return 0;
	do
		n = pread(F->fd, buf, max, F->off);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		/* truncated in place (copytruncate): start over */
		struct stat st;
		if (fstat(F->fd, &st) == 0 && st.st_size < F->off) {
			F->off = 0;
			do
				n = pread(F->fd, buf, max, F->off);
			while (n < 0 && errno == EINTR);
		}
	}
	return n < 0 ? 0 : n;
}

/* Where a long line is cut: not inside a UTF-8 sequence. */
static size_t utf8_cut(const unsigned char *s, size_t n)
{
	for (size_t back = 1; back <= 3 && back <= n; back++) {
		unsigned char c = s[n - back];
		if ((c & 0xC0) == 0x80)
			continue;
		size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		return need > back ? n - back : n;
	}
	return n;
}

/* SSE: complete lines of s[0..n) as one event ("data: " each, blank line
 * after) into F->out; returns the bytes consumed. A partial last line waits
 * unless force (or the read was full: a line longer than SSE_READ). */
static size_t sse_format(struct follower *F, const char *s, size_t n, bool force)
{
	size_t end = n;
	while (end > 0 && s[end - 1] != '\n' && s[end - 1] != '\r')
		end--;
	if (end == 0) {
		if (!force && n < SSE_READ)
			return 0;
		end = force ? n : utf8_cut((const unsigned char *)s, n);
		if (end == 0)
			end = n;
	}
	size_t i = 0, lines = 0;
	if (F->cr && s[0] == '\n')
		i = 1;   /* the \n of a \r\n split across reads */
	while (i < end) {
		size_t j = i;
		while (j < end && s[j] != '\n' && s[j] != '\r')
			j++;
		buf_puts(&F->out, "data: ");
		buf_append(&F->out, s + i, j - i);
		buf_putc(&F->out, '\n');
		lines++;
		if (j < end && s[j] == '\r' && j + 1 < end && s[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	if (lines)
		buf_putc(&F->out, '\n');
	F->cr = s[end - 1] == '\r';
	return end;
}

/* New bytes: raw into buf (returns how many), or SSE into F->out (returns 0). */
static ssize_t pull(struct follower *F, char *buf, size_t max, bool force)
{
	if (!F->sse) {
		ssize_t n = pread_full(F, buf, max);
		F->off += n;
		return n;
	}
	char raw[SSE_READ];
	ssize_t n = pread_full(F, raw, sizeof(raw));
	if (n > 0)
		F->off += (int64_t)sse_format(F, raw, (size_t)n, force);
	return 0;
}

/* The file was rotated (or appeared): switch to what comes next. True
 * when there is something new to read from. The current file is read out. */
static bool advance(struct follower *F)
{
	struct stat now, cur, one;
	if (F->fd < 0)
		return open_current(F);
	if (fstatat(F->dirfd, F->file, &now, 0) != 0)
		return false;   /* between the rename and the new file: its creation wakes us */
	if (now.st_ino == F->ino && now.st_dev == F->dev)
		return false;
	int nfd = -1;
	/* our file was unlinked: rotated twice, and FILE.1 is the one in between */
	if (fstat(F->fd, &cur) == 0 && cur.st_nlink == 0 && fstatat(F->dirfd, F->file1, &one, 0) == 0 &&
	    one.st_ino != F->ino)
		nfd = openat(F->dirfd, F->file1, O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		nfd = openat(F->dirfd, F->file, O_RDONLY | O_CLOEXEC);
	if (nfd < 0 || fstat(nfd, &cur) != 0) {
		if (nfd >= 0)
			close(nfd);
		return false;
	}
	close(F->fd);
	F->fd = nfd;
	F->dev = cur.st_dev;
	F->ino = cur.st_ino;
	F->off = 0;
	F->cr = false;
	return true;
}

static bool rotated(struct follower *F)
{
	struct stat now;
	return F->fd >= 0 && fstatat(F->dirfd, F->file, &now, 0) == 0 && (now.st_ino != F->ino || now.st_dev != F->dev);
}

static bool attempt_over(struct follower *F)
{
	return faccessat(F->dirfd, "exit.json", F_OK, 0) == 0;
}

/* SSE's last event: "end", with exit.json (compact) as its data. */
static void sse_end(struct follower *F)
{
	json_error_t je;
	char *s = NULL;
	int fd = openat(F->dirfd, "exit.json", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		json_t *o = json_loadfd(fd, 0, &je);
		close(fd);
		s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
	}
	buf_printf(&F->out, "event: end\ndata: %s\n\n", s ? s : "{}");
	free(s);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follower *F = cls;
	struct follow *f = F->f;
	(void)pos;

	for (;;) {
		if (F->out_pos < F->out.len) {
			size_t n = F->out.len - F->out_pos;
			if (n > max)
				n = max;
			memcpy(buf, F->out.data + F->out_pos, n);
			F->out_pos += n;
			if (F->out_pos == F->out.len) {
				buf_clear(&F->out);
				F->out_pos = 0;
			}
			return (ssize_t)n;
		}
		if (F->out.oom)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (F->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;

		pthread_mutex_lock(&f->lock);
		F->pending = false;
		bool closing = F->closing, gone = F->gone, ping = F->ping, dir_gone = F->dir_gone;
		F->ping = false;
		pthread_mutex_unlock(&f->lock);
		/* cut, not ended: the client must not take it for the end of the log */
		if (gone || closing)
			return MHD_CONTENT_READER_END_WITH_ERROR;

		bool over = dir_gone || attempt_over(F);
		ssize_t n = pull(F, buf, max, over);
		if (n > 0)
			return n;
		if (F->out.len)
			continue;
		if (F->sse && !over && rotated(F)) {
			/* a rotation completes the old file's last line */
			pull(F, buf, max, true);
			if (F->out.len)
				continue;
		}
		if (advance(F))
			continue;
		if (over) {
			if (F->sse)
				sse_end(F);
			F->ended = true;
			continue;
		}
		if (ping && F->sse) {
			buf_puts(&F->out, ": ping\n\n");
			continue;
		}
		pthread_mutex_lock(&f->lock);
		if (F->pending || F->closing || F->gone) {
			pthread_mutex_unlock(&f->lock);
			continue;
		}
		F->suspended = true;
		MHD_suspend_connection(F->conn);
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
}

/* ---- the watcher ---------------------------------------------------------------- */

static bool relevant(const struct follower *F, const char *name)
{
	return !strcmp(name, F->file) || !strcmp(name, F->file1) || !strcmp(name, "exit.json");
}

static struct fwatch *find_wd(struct follow *f, int wd)
{
	for (struct fwatch *w = f->watches; w; w = w->next)
		if (w->wd == wd)
			return w;
	return NULL;
}

/* f->lock held. */
static void drain_inotify(struct follow *f)
{
	char b[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t len = read(f->in, b, sizeof(b));
		if (len <= 0)
			break;
		for (char *p = b; p < b + len;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				for (struct follower *F = f->all; F; F = F->next)
					wake_locked(F);
				continue;
			}
			struct fwatch *w = find_wd(f, e->wd);
			if (!w)
				continue;
			bool gone = e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF);
			if (e->mask & IN_IGNORED)
				w->wd = -1;
			for (struct follower *F = w->list; F; F = F->wnext) {
				if (gone)
					F->dir_gone = true;
				if (gone || !e->len || relevant(F, e->name))
					wake_locked(F);
			}
		}
	}
}

static void free_follower(struct follower *F)
{
	if (F->fd >= 0)
		close(F->fd);
	if (F->dirfd >= 0)
		close(F->dirfd);
	if (F->sock >= 0)
		close(F->sock);
	buf_fini(&F->out);
	free(F->file);
	free(F->file1);
	free(F);
}

static void *watch_main(void *arg)
{
	struct follow *f = arg;
	struct epoll_event ev[64];
	for (;;) {
		int n = epoll_wait(f->ep, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			log_error("follow: epoll_wait: %s", strerror(errno));
			break;
		}
		pthread_mutex_lock(&f->lock);
		for (int i = 0; i < n; i++) {
			uint64_t v;
			switch (ev[i].data.u64) {
			case TAG_INOTIFY:
				drain_inotify(f);
				break;
			case TAG_WAKE:
				if (read(f->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_warn("follow: eventfd: %s", strerror(errno));
				break;
			case TAG_TIMER:
				if (read(f->timer, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_warn("follow: timerfd: %s", strerror(errno));
				for (struct follower *F = f->all; F; F = F->next)
					if (F->sse) {
						F->ping = true;
						wake_locked(F);
					}
				break;
			default: {
				struct follower *F = ev[i].data.ptr;
				if (!F->dead) {
					F->gone = true;
					wake_locked(F);
				}
			}
			}
		}
		while (f->grave) {
			struct follower *F = f->grave;
			f->grave = F->gnext;
			free_follower(F);
		}
		bool quit = f->quit;
		pthread_mutex_unlock(&f->lock);
		if (quit)
			break;
	}
	return NULL;
}

/* ---- the module ------------------------------------------------------------------ */

static int add_fd(struct follow *f, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event e = { .events = events, .data.u64 = tag };
	return epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &e);
}

/* A follower holds four descriptors (its socket, a dup of it, its directory,
 * its file): the common soft limit of 1024 would stop at ~250 followers. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max || rl.rlim_cur >= 65536)
		return;
	rlim_t want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("log streams: cannot raise the open file limit: %s", strerror(errno));
}

struct follow *follow_new(struct gerr *err)
{
	raise_nofile();
	struct follow *f = calloc(1, sizeof(*f));
	if (!f) {
		gerr_set(err, GERR_NOMEM, "follow: out of memory");
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	f->in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	f->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec its = { .it_interval = { FOLLOW_PING_S, 0 }, .it_value = { FOLLOW_PING_S, 0 } };
	if (f->ep < 0 || f->in < 0 || f->wake < 0 || f->timer < 0 || timerfd_settime(f->timer, 0, &its, NULL) ||
	    add_fd(f, f->in, EPOLLIN, TAG_INOTIFY) || add_fd(f, f->wake, EPOLLIN, TAG_WAKE) ||
	    add_fd(f, f->timer, EPOLLIN, TAG_TIMER)) {
		gerr_set(err, GERR_IO, "log streams: cannot set up inotify and epoll: %s", strerror(errno));
		follow_free(f);
		return NULL;
	}
	int rc = pthread_create(&f->thread, NULL, watch_main, f);
	if (rc) {
		gerr_set(err, GERR_IO, "log streams: cannot start the watcher thread: %s", strerror(rc));
		follow_free(f);
		return NULL;
	}
	f->started = true;
	return f;
}

void follow_shutdown(struct follow *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	for (struct follower *F = f->all; F; F = F->next) {
		F->closing = true;
		wake_locked(F);
	}
	pthread_mutex_unlock(&f->lock);
}

void follow_free(struct follow *f)
{
	if (!f)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->lock);
		f->quit = true;
		pthread_mutex_unlock(&f->lock);
		poke(f);
		pthread_join(f->thread, NULL);
	}
	while (f->grave) {
		struct follower *F = f->grave;
		f->grave = F->gnext;
		free_follower(F);
	}
	if (f->all)
		log_error("follow: %u log streams still open at exit", f->count);
	while (f->watches) {
		struct fwatch *w = f->watches;
		f->watches = w->next;
		free(w->dir);
		free(w);
	}
	for (int *fd = &f->ep; fd <= &f->timer; fd++)
		if (*fd >= 0)
			close(*fd);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

unsigned follow_count(struct follow *f)
{
	pthread_mutex_lock(&f->lock);
	unsigned n = f->count;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* f->lock held. The watch for dir, made if needed. */
static struct fwatch *watch_get(struct follow *f, const char *dir, struct gerr *err)
{
	for (struct fwatch *w = f->watches; w; w = w->next)
		if (w->wd >= 0 && !strcmp(w->dir, dir))
			return w;
	int wd = inotify_add_watch(f->in, dir, WATCH_MASK);
	if (wd < 0) {
		gerr_set(err, errno == ENOENT ? GERR_NOT_FOUND : GERR_IO, "cannot watch %s: %s%s", dir, strerror(errno),
		         errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
		return NULL;
	}
	struct fwatch *w = find_wd(f, wd);   /* the same directory by another name */
	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(dir))) {
		free(w);
		inotify_rm_watch(f->in, wd);
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	w->wd = wd;
	w->next = f->watches;
	f->watches = w;
	return w;
}

/* f->lock held: the last follower of w left. */
static void watch_put(struct follow *f, struct fwatch *w)
{
	if (w->list)
		return;
	if (w->wd >= 0)
		inotify_rm_watch(f->in, w->wd);
	for (struct fwatch **p = &f->watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	free(w->dir);
	free(w);
}

int follow_start(struct follow *f, struct MHD_Connection *conn, const struct follow_opts *o,
                 struct MHD_Response **resp, struct follower **fl, struct gerr *err)
{
	struct follower *F = calloc(1, sizeof(*F));
	*resp = NULL;
	*fl = NULL;
	if (!F)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	F->f = f;
	F->conn = conn;
	F->fd = F->sock = -1;
	F->first = true;
	F->tail = o->tail;
	F->start = o->offset > 0 ? o->offset : 0;
	F->sse = o->sse;
	buf_init(&F->out);
	F->file = strdup(o->file);
	size_t len = strlen(o->file);
	if ((F->file1 = malloc(len + 3)))
		memcpy(F->file1, o->file, len), memcpy(F->file1 + len, ".1", 3);
	if (!F->file || !F->file1) {
		F->dirfd = -1;
		free_follower(F);
		return gerr_set(err, GERR_NOMEM, "out of memory");
	}
	F->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (F->dirfd < 0) {
		int e = errno;
		free_follower(F);
		return gerr_set(err, e == ENOENT ? GERR_NOT_FOUND : GERR_IO, "%s: %s", o->dir, strerror(e));
	}
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		F->sock = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0);
	*resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK, reader, F, NULL);
	if (!*resp) {
		free_follower(F);
		return gerr_set(err, GERR_NOMEM, "out of memory");
	}

	pthread_mutex_lock(&f->lock);
	/* the watch exists before the first read, so no change is missed */
	struct fwatch *w = watch_get(f, o->dir, err);
	if (!w) {
		pthread_mutex_unlock(&f->lock);
		MHD_destroy_response(*resp);
		*resp = NULL;
		free_follower(F);
		return err ? err->code : GERR_IO;
	}
	F->w = w;
	F->wnext = w->list;
	if (w->list)
		w->list->wprev = F;
	w->list = F;
	F->next = f->all;
	if (f->all)
		f->all->prev = F;
	f->all = F;
	f->count++;
	F->closing = f->stopping;
	if (F->sock >= 0) {
		struct epoll_event e = { .events = EPOLLRDHUP | EPOLLET, .data.ptr = F };
		if (epoll_ctl(f->ep, EPOLL_CTL_ADD, F->sock, &e) != 0) {
			close(F->sock);
			F->sock = -1;
		}
	}
	pthread_mutex_unlock(&f->lock);
	if (F->sse)
		buf_puts(&F->out, ": gantry log stream\n\n");   /* the headers go out at once */
	*fl = F;
	return 0;
}

void follow_release(void *arg)
{
	struct follower *F = arg;
	if (!F)
		return;
	struct follow *f = F->f;
	pthread_mutex_lock(&f->lock);
	F->dead = true;
	if (F->sock >= 0)
		epoll_ctl(f->ep, EPOLL_CTL_DEL, F->sock, NULL);
	if (F->wprev)
		F->wprev->wnext = F->wnext;
	else
		F->w->list = F->wnext;
	if (F->wnext)
		F->wnext->wprev = F->wprev;
	watch_put(f, F->w);
	if (F->prev)
		F->prev->next = F->next;
	else
		f->all = F->next;
	if (F->next)
		F->next->prev = F->prev;
	f->count--;
	F->gnext = f->grave;
	f->grave = F;
	pthread_mutex_unlock(&f->lock);
	poke(f);
}
