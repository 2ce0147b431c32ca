/* SPDX-License-Identifier: MIT */
/*
 * place.c — the scheduling pass: waiting gangs get cells, or preempt, or
 * wait with a reason.
 *
 * DESIGN
 * ------
 * A gang is tried when it may have become placeable: when its job (or, for
 * gangAllocation: false, its task) asks for cells, and whenever cells were
 * freed. Highest priority first, then submission order. Only a release scans
 * every waiting job, so a burst of submissions costs one scheduler call each
 * however long the queue is.
 *
 * Preemption is HiveD's: the scheduler reserves the victims' cells for the
 * preemptor and names the victims; their tasks are evicted (killed, with
 * -101 and a message naming the preemptor) and keep their cells until their
 * processes are gone. Then the cells are free, and the preemptor, tried
 * again, binds to them.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "server/bind.h"
#include "server/loop_internal.h"

/*
 * The scheduler may order a gang's members differently from the request
 * (HiveD sorts them by size): name each placed pod, in the placement's
 * order, by matching members on their leaf cell count. pos[i] is the i-th
 * placed pod's slot in g->pod_task. False when the placement does not fit g.
 */
static bool pods_in_bind_order(const struct grp *g, const struct sched_bind_info *b, uint32_t *pos)
{
	bool used[64] = { false };
	size_t k = 0;
	if (g->nmembers > 64)
		return false;
	for (size_t m = 0; m < b->nmembers; m++) {
		size_t r = 0, start = 0;
		while (r < g->nmembers && (used[r] || g->members[r].leaf_cells != b->members[m].leaf_cells ||
		                           (size_t)g->members[r].pods != b->members[m].npods)) {
			start += (size_t)g->members[r].pods;
			r++;
		}
		if (r == g->nmembers)
			return false;
		used[r] = true;
		for (size_t p = 0; p < b->members[m].npods; p++)
			pos[k++] = (uint32_t)(start + p);
	}
	return k == g->npods;
}

/* "worker-0 on node n1 GPUs [0,1]; worker-1 on node n2 GPUs [2,3]" */
static char *describe_placement(const struct loop *l, const char *const *names, size_t npods,
                                const struct sched_bind_info *b)
{
	struct buf out = BUF_INIT;
	size_t pod = 0;
	const char *unit = "leaf cells";
	for (size_t k = 0; k < sched_sku_count(l->sched); k++)
		if (sched_sku_get(l->sched, k)->gpu > 0)
			unit = "GPUs";
	for (size_t m = 0; m < b->nmembers; m++)
		for (size_t p = 0; p < b->members[m].npods; p++, pod++) {
			const struct sched_pod_placement *pp = &b->members[m].pods[p];
			if (pod == 8 && npods > 10) {
				buf_printf(&out, "; and %zu more", npods - pod);
				return buf_take(&out);
			}
			buf_printf(&out, "%s%s on node %s %s [", pod ? "; " : "", pod < npods ? names[pod] : "?", pp->node,
			           unit);
			for (int32_t k = 0; k < b->members[m].leaf_cells; k++)
				buf_printf(&out, "%s%d", k ? "," : "", pp->leaves[k]);
			buf_putc(&out, ']');
		}
	return buf_take(&out);
}

static void new_uid(char out[40])
{
	unsigned char r[16];
	randombytes_buf(r, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);   /* a version 4 UUID, like a pod UID */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
	         r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* Record where task t runs now: a fresh task attempt uid, node, GPUs, ports. */
static int bind_task(struct loop *l, struct job *j, uint32_t t, const struct sched_pod_placement *pp, int32_t nleaves,
                     int64_t now, struct gerr *err)
{
	struct rtask *r = &j->rt[t];
	const struct spec_role *role = &j->x->spec->roles[j->ctl.tasks[t].role];
	if (r->uid[0]) {
		hmap_del(&l->by_uid, r->uid);
		rt_ports_release(l->ports, r->uid);
	}
	memset(r, 0, sizeof(*r));
	new_uid(r->uid);
	r->node = arena_strdup(&j->x->run, pp->node);
	r->ip = arena_strdup(&j->x->run, node_ip(l, pp->node));
	r->gpus = arena_alloc(&j->x->run, (size_t)(nleaves ? nleaves : 1) * sizeof(int32_t));
	if (!r->node || !r->ip || !r->gpus)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	memcpy(r->gpus, pp->leaves, (size_t)nleaves * sizeof(int32_t));
	r->ngpus = (size_t)nleaves;
	r->placed_ms = now;
	int rc = rt_ports_take(l->ports, r->uid, role, &j->x->run, &r->ports, &r->nports, err);
	if (rc)
		return rc;
	hmap_put(&l->by_uid, r->uid, j);
	return 0;
}

static int place(struct loop *l, struct job *j, struct grp *g, const struct sched_request *req, int64_t now,
                 struct gerr *err)
{
	const struct sched_bind_info *b = &l->res.bind;
	int rc = ensure_run_state(l, j, err);
	if (rc)
		return rc;
	uint32_t *pos = arena_alloc(&l->scratch, (g->npods ? g->npods : 1) * sizeof(*pos));
	const char **names = arena_alloc(&l->scratch, (g->npods ? g->npods : 1) * sizeof(*names));
	if (!pos || !names)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	const char *gname = grp_name(l, j, g);
	if (!gname)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	if (!pods_in_bind_order(g, b, pos))
		return gerr_set(err, GERR_INTERNAL, "the placement of %s does not match its members", gname);
	for (size_t p = 0; p < g->npods; p++)
		if (!(names[p] = pod_name(l, j, g->pod_task[pos[p]])))
			return gerr_set(err, GERR_NOMEM, "out of memory");
	/* each task attempt: a fresh uid, its node, GPUs and host ports; a bind
	 * reserves nothing in the scheduler, so running out of ports just waits */
	size_t pod = 0;
	for (size_t m = 0; !rc && m < b->nmembers; m++)
		for (size_t p = 0; !rc && p < b->members[m].npods; p++, pod++)
			if (pod < g->npods)
				rc = bind_task(l, j, g->pod_task[pos[pod]], &b->members[m].pods[p], b->members[m].leaf_cells,
				               now, err);
	if (rc) {
		for (size_t k = 0; k < pod && k < g->npods; k++) {
			struct rtask *r = &j->rt[g->pod_task[pos[k]]];
			if (r->uid[0]) {
				hmap_del(&l->by_uid, r->uid);
				rt_ports_release(l->ports, r->uid);
				r->uid[0] = '\0';
			}
		}
		if (rc != GERR_CONFLICT)
			return rc;
		enum { WAIT_PORTS = 1000 };
		if (g->last_wait == WAIT_PORTS)
			return err->code = 0;
		g->last_wait = WAIT_PORTS;
		char msg[GERR_MSG_MAX + 64];
		snprintf(msg, sizeof(msg), "Cells are free, but host ports are not: %s", err->msg);
		err->code = 0;
		return event(l, j, now, "Normal", "Waiting", msg, err);
	}
	if (sched_group_commit(l->sched, req, b, names, now, err) != 0)
		return err->code;
	count_job(l, j, -1);
	g->placed = true;
	g->wanted = false;
	g->live = g->npods;
	count_job(l, j, +1);
	g->last_wait = -1;
	char *json = bind_to_json(b, names, g->npods);
	char *what = describe_placement(l, names, g->npods, b);
	rc = (!json || !what) ? gerr_set(err, GERR_NOMEM, "out of memory")
	                      : store_placement_put(l->db, j->id, gname, json, now, err);
	if (!rc)
		rc = event(l, j, now, "Normal", "Placed", what, err);
	free(json);
	free(what);
	l->changed = true;
	if (rc)
		return rc;
	for (size_t p = 0; p < g->npods; p++)
		ctl_placed(&j->ctl, g->pod_task[p], now, &l->acts);
	return run_apply(l, j, now, err);
}

int release_task(struct loop *l, struct job *j, uint32_t t, int64_t now, struct gerr *err)
{
	(void)now;
	struct grp *g = grp_of(j, t);
	if (j->rt && j->rt[t].uid[0]) {
		hmap_del(&l->by_uid, j->rt[t].uid);
		rt_ports_release(l->ports, j->rt[t].uid);
	}
	const char *gname = grp_name(l, j, g);
	if (!gname)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	if (g->placed) {
		struct gerr e;
		const char *pod = pod_name(l, j, t);
		if (!pod)
			return gerr_set(err, GERR_NOMEM, "out of memory");
		if (sched_pod_delete(l->sched, gname, pod, &e) != 0 && e.code != GERR_NOT_FOUND)
			log_warn("release %s/%s: %s", gname, pod, e.msg);
		if (g->live)
			g->live--;
		if (g->live == 0) {
			count_job(l, j, -1);
			g->placed = false;
			count_job(l, j, +1);
			l->freed = true;
			l->changed = true;
			return store_placement_delete(l->db, j->id, gname, err);
		}
		return 0;
	}
	if (g->wanted) {
		/* still waiting for cells: stop once none of its tasks wants them */
		for (size_t p = 0; p < g->npods; p++)
			if (j->ctl.tasks[g->pod_task[p]].state == CTL_CREATION_PENDING)
				return 0;
		g->wanted = false;
		sched_group_release(l->sched, gname, NULL);   /* cancels a preemption it started */
		l->freed = true;
	}
	return 0;
}

/* Evict the victims the scheduler named for j (whole gangs). The scheduler
 * names every victim pod, so a job of several pods comes up several times:
 * its Preempted event is written once, and the Preempting event counts jobs. */
static int evict(struct loop *l, struct job *j, int64_t now, struct gerr *err)
{
	/* the diagnostics of the victim's attempt; the attempt's event adds its own period */
	char diag[512], why[520];
	snprintf(diag, sizeof(diag), "Preempted by %s (priority %d) in virtual cluster %s", j->key, j->priority,
	         j->vc);
	snprintf(why, sizeof(why), "%s.", diag);
	struct ctl_completion c = { .code = CTL_CODE_EXTERNAL_DELETED, .phrase = "PodExternalDeleted", .failed = true,
	                            .attrs = CTL_TRANSIENT, .diag = diag };
	const struct job **hit = arena_alloc(&l->scratch, (l->res.nvictims ? l->res.nvictims : 1) * sizeof(*hit));
	if (!hit)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	size_t njobs = 0;
	for (size_t v = 0; v < l->res.nvictims; v++) {
		const struct sched_victim *vic = &l->res.victims[v];
		struct job *vj = job_by_group(l, vic->group);
		if (!vj || vj == j)
			continue;
		struct grp *g = NULL;
		for (size_t k = 0; k < vj->ngrps && !g; k++) {
			const char *name = grp_name(l, vj, &vj->grps[k]);
			if (name && !strcmp(name, vic->group))
				g = &vj->grps[k];
		}
		if (!g)
			continue;
		bool fresh = false;
		for (size_t p = 0; p < g->npods; p++) {
			uint32_t t = g->pod_task[p];
			const char *pod = pod_name(l, vj, t);
			if (vic->pod && pod && strcmp(pod, vic->pod))
				continue;
			enum ctl_state s = vj->ctl.tasks[t].state;
			if (s >= CTL_DELETION_PENDING)
				continue;
			if (ctl_evict(&vj->ctl, t, &c, now, &l->acts) == 0)
				fresh = true;
		}
		if (!fresh)
			continue;
		bool seen = false;
		for (size_t k = 0; k < njobs && !seen; k++)
			seen = hit[k] == vj;
		int rc = 0;
		if (!seen) {
			hit[njobs++] = vj;
			rc = event(l, vj, now, "Warning", "Preempted", why, err);
		}
		if (!rc)
			rc = run_apply(l, vj, now, err);
		if (rc)
			return rc;
	}
	if (njobs) {
		char others[64] = "";
		if (njobs > 1)
			snprintf(others, sizeof(others), " and %zu other job%s", njobs - 1, njobs > 2 ? "s" : "");
		char msg[700];
		snprintf(msg, sizeof(msg), "Preempting lower-priority work to make room (%s%s); placed once it has stopped.",
		         hit[0]->key, others);
		return event(l, j, now, "Normal", "Preempting", msg, err);
	}
	return 0;
}

/* FNV-1a: tells a changed text from the last one reported */
static uint32_t text_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Try to place every gang of j that waits for cells. */
static int try_job(struct loop *l, struct job *j, int64_t now, struct gerr *err)
{
	for (size_t g = 0; g < j->ngrps; g++) {
		struct grp *gr = &j->grps[g];
		struct sched_request req;
		if (gr->placed || !gr->wanted)
			continue;
		request_of(l, j, gr, SCHED_PHASE_PREEMPT, &req);
		struct gerr serr;
		if (sched_schedule(l->sched, &req, now, &l->res, &serr) != 0) {
			/* the job was valid when admitted; the cluster may have changed */
			char msg[GERR_MSG_MAX + 64];
			snprintf(msg, sizeof(msg), "The scheduler refused it: %s", serr.msg);
			int rc = event(l, j, now, "Warning", "Unschedulable", msg, err);
			if (rc)
				return rc;
			continue;
		}
		int rc = 0;
		if (l->res.decision == SCHED_BIND) {
			rc = place(l, j, gr, &req, now, err);
		} else if (l->res.decision == SCHED_PREEMPT) {
			rc = evict(l, j, now, err);
		} else {
			/* a new reason at once; the same reason with new figures ("9 of
			 * its 16 leaf cells are in use") at most every wait_refresh_ms:
			 * waiting jobs are retried whenever cells free up */
			const char *why = l->res.reason ? l->res.reason : "waiting";
			uint32_t h = text_hash(why);
			if (gr->last_wait != l->res.wait || (h != gr->wait_hash && now - gr->wait_at >= l->wait_refresh_ms)) {
				gr->last_wait = l->res.wait;
				gr->wait_hash = h;
				gr->wait_at = now;
				rc = event(l, j, now, "Normal", "Waiting", why, err);
			}
		}
		if (rc)
			return rc;
		if (j->done)
			return 0;
	}
	return 0;
}

static int by_priority(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;   /* ids follow submission order */
}

static bool waits(const struct job *j)
{
	for (size_t g = 0; g < j->ngrps; g++)
		if (j->grps[g].wanted && !j->grps[g].placed)
			return true;
	return false;
}

int schedule_pass(struct loop *l, int64_t now, struct gerr *err)
{
	for (int round = 0; round < 4; round++) {
		if (l->freed) {
			l->freed = false;
			for (struct job *j = l->first; j; j = j->next)
				if (waits(j))
					want(l, j);
		}
		if (!l->npending)
			return 0;
		/* take the list: placing may queue preempted jobs for the next round */
		struct job **list = l->pending;
		size_t n = l->npending;
		l->pending = NULL;
		l->npending = l->pending_cap = 0;
		qsort(list, n, sizeof(*list), by_priority);
		for (size_t i = 0; i < n; i++)
			list[i]->retry = false;
		int rc = 0;
		for (size_t i = 0; i < n && !rc; i++)
			if (!list[i]->done && waits(list[i]))
				rc = try_job(l, list[i], now, err);
		free(list);
		if (rc)
			return rc;
	}
	return 0;
}
