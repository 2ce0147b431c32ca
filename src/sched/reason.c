/* SPDX-License-Identifier: MIT */
/*
 * reason.c — why a job waits, in words an admin or a user can act on.
 *
 * "Why is my job waiting?" is the question every cluster scheduler gets
 * most. HiveD answers with log strings ("insufficient capacity when
 * scheduling in VC VC2"). Here every wait carries a code (SCHED_WAIT_MAP,
 * for machines) and a sentence naming the constraint: the VC or pinned cell
 * and its size when the job can never fit, the usage that blocks it now, the
 * bad or disallowed node a placement would need. Reasons are built only on
 * the failure path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sched/internal.h"

static const char *const WAIT_NAMES[] = {
#define X(name, s, m) s,
	SCHED_WAIT_MAP(X)
#undef X
};

static const char *const WAIT_MEANINGS[] = {
#define X(name, s, m) m,
	SCHED_WAIT_MAP(X)
#undef X
};

const char *sched_wait_name(int wait)
{
	return wait >= 0 && wait < SCHED_WAIT_COUNT ? WAIT_NAMES[wait] : "unknown";
}

const char *sched_wait_meaning(int wait)
{
	return wait >= 0 && wait < SCHED_WAIT_COUNT ? WAIT_MEANINGS[wait] : "unknown";
}

void sched__fail_set(struct sched__fail *f, int wait, const char *fmt, ...)
{
	va_list ap;
	f->wait = wait;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

void sched__shape_text(const struct sched__shape *sh, const char *leaf_type, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < sh->nm && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d pod%s × %d", i ? " + " : "", sh->m[i].pods,
		                        sh->m[i].pods == 1 ? "" : "s", sh->m[i].leaves);
	if (off < len)
		snprintf(buf + off, len - off, " %s", leaf_type ? leaf_type : "leaf cells");
}

/* The node a view node stands for, for messages. */
static const char *node_of(const struct sched *s, const struct sched__cell *c)
{
	if (!c)
		return "?";
	const struct sched__cell *p = sched__is_virtual(c) ? c->peer : c;
	return p ? sched__node_name(s, p) : c->address;
}

void sched__fail_view(struct sched *s, struct sched__fail *f, const struct sched__view *v, int fit,
                      const struct sched__cell *at, const struct sched__shape *sh, int prio, const char *where,
                      int busy, const char *leaf_type)
{
	char shape[128];
	sched__shape_text(sh, leaf_type, shape, sizeof(shape));
	if (fit == SCHED__FIT_BAD) {
		sched__fail_set(f, SCHED_WAIT_BAD_NODE, "%s: the only placement for %s needs node %s, which is bad "
		                "(unhealthy)", where, shape, node_of(s, at));
		return;
	}
	if (fit == SCHED__FIT_UNSUGGESTED) {
		sched__fail_set(f, SCHED_WAIT_NOT_SUGGESTED, "%s: the only placement for %s needs node %s, which is "
		                "not among the nodes allowed for this job", where, shape, node_of(s, at));
		return;
	}
	if (!sched__view_could_fit(v, sh)) {
		char cells[96];
		sched__view_describe(v, cells, sizeof(cells));
		sched__fail_set(f, SCHED_WAIT_NEVER_FITS, "%s can never hold %s: each pod must fit in one node-sized "
		                "cell, and its cells have %s leaf cells", where, shape, cells[0] ? cells : "no");
		return;
	}
	int64_t total, used, held;
	sched__view_usage(v, prio, &total, &used, &held);
	if (prio < SCHED_PRIORITY_MIN)
		sched__fail_set(f, busy, "no room now for opportunistic %s in %s: %lld of %lld leaf cells are in use "
		                "(opportunistic jobs only take idle cells)", shape, where, (long long)used,
		                (long long)total);
	else
		sched__fail_set(f, busy, "%s is full for %s at priority %d: %lld of its %lld leaf cells are in use, "
		                "%lld of them by jobs of priority %d or higher, which it cannot preempt", where, shape,
		                prio, (long long)used, (long long)total, (long long)held, prio);
}
