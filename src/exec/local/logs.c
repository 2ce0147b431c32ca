/* SPDX-License-Identifier: MIT */
/*
 * logs.c — the task's log files, user.pai.stdout, .stderr and .all, each
 * rotated at a size: when a file reaches max bytes it becomes "<name>.1"
 * (replacing the previous one) and a new file starts. Writes are split at
 * the boundary, so no file is ever larger than max, and at most 2 × max
 * bytes per stream stay on disk.
 *
 * A file is created by the first write to it: a task that never writes to
 * a stream leaves no file for it (the log API reads a missing file as an
 * empty one), and no file is made before the task runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/local/internal.h"

int exec__logf_init(struct exec_logf *lf, const char *dir, const char *name, struct gerr *err)
{
	lf->fd = -1;
	lf->size = 0;
	if (snprintf(lf->path, sizeof(lf->path), "%s/%s", dir, name) >= (int)sizeof(lf->path))
		return gerr_set(err, GERR_INVALID, "%s/%s: path too long", dir, name);
	return 0;
}

static int logf_open(struct exec_logf *lf, struct gerr *err)
{
	struct stat st;
	lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (lf->fd < 0)
		return gerr_set(err, GERR_IO, "cannot open %s: %s", lf->path, strerror(errno));
	lf->size = fstat(lf->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

static int rotate(struct exec_logf *lf, struct gerr *err)
{
	char old[EXEC_PATH_MAX + 2];
	int rc = 0;
	snprintf(old, sizeof(old), "%s.1", lf->path);
	if (rename(lf->path, old) < 0)
		rc = gerr_set(err, GERR_IO, "cannot rotate %s: %s", lf->path, strerror(errno));
	close(lf->fd);
	/* renamed or not, start again from 0: the size bound holds either way */
	lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (lf->fd < 0)
		rc = gerr_set(err, GERR_IO, "cannot reopen %s: %s", lf->path, strerror(errno));
	lf->size = 0;
	return rc;
}

int exec__logf_write(struct exec_logf *lf, int64_t max, const char *p, size_t n, struct gerr *err)
{
	int rc = 0;
	if (n > 0 && lf->fd < 0 && logf_open(lf, err) < 0)
		return GERR_IO;   /* the next write tries again */
	while (n > 0 && lf->fd >= 0) {
		if (lf->size >= max && rotate(lf, err) < 0)
			rc = GERR_IO;
		if (lf->fd < 0)
			break;
		size_t k = n;
		if ((int64_t)k > max - lf->size)
			k = (size_t)(max - lf->size);
		ssize_t w = write(lf->fd, p, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return gerr_set(err, GERR_IO, "cannot write %s: %s", lf->path,
			                w < 0 ? strerror(errno) : "short write");
		lf->size += w;
		p += w;
		n -= (size_t)w;
	}
	return rc;
}

void exec__logf_close(struct exec_logf *lf)
{
	if (lf->fd >= 0)
		close(lf->fd);
	lf->fd = -1;
}
