/* SPDX-License-Identifier: MIT */
/*
 * bench/sched — the scheduler's decision latency, start-up time and memory
 * on synthetic clusters of 1,024, 8,192 and 65,536 GPUs, beside HiveD's Go
 * implementation measured on this machine kind (research/hived.md §5).
 *
 * Cluster: 8-GPU nodes (GPU pairs, quads, node), racks of 8 nodes (two
 * thirds of the nodes) and racks of 4 (the rest): two chains. 50 virtual
 * clusters share 90% of the nodes as RACK.NODE cells (a few get whole racks
 * and 4-GPU cells); the rest is for opportunistic jobs.
 *
 * Workload: jobs of 1, 2, 4, 8 GPUs (one pod) and 16, 32, 64 GPUs (gangs of
 * 8-GPU pods), priorities 0-9, one in ten opportunistic; VCs chosen by
 * quota. Arrivals and completions interleave to hold the cluster near 85%
 * busy; preemptions are carried out (victims released, preemptor retried).
 *
 * Phases, timed apart: startup (config text → ready: parse, build, all
 * nodes bad then healthy), decide (sched_schedule), commit (the whole gang's
 * sched_pod_add), release (a finished gang's sched_pod_delete). A
 * "decision" is decide + commit of its gang, as in HiveD's measurement
 * (Schedule + AddAllocatedPod). Each size runs several times in a child
 * process (so peak RSS is its own); the report gives medians.
 *
 * Then HiveD-Go's own measurement is redone on its own workload (see
 * hived_shape), which is the like-for-like comparison with its figures.
 *
 *   build/bench/sched [--quick] [--sizes 1024,8192] [--runs N] [--ops N]
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "sched/sched.h"

/* HiveD-Go at 8,192 GPUs (research/hived.md §5, same machine kind) */
#define GO_MEAN_US 1090.0
#define GO_P50_US 790.0
#define GO_P99_US 7000.0
#define GO_STARTUP_MS 1040.0

#define NVC 50

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct cluster {
	int gpus, nodes, racks8, racks4;
	int vc_nodes8[NVC], vc_nodes4[NVC], vc_racks8[NVC], vc_quads[NVC];
	double weight[NVC];
	struct buf config;
};

/* The config as JSON: what an admin's file would hold. */
static void make_cluster(struct cluster *c, int gpus)
{
	memset(c, 0, sizeof(*c));
	c->gpus = gpus;
	c->nodes = gpus / 8;
	int nodes4 = c->nodes / 3 / 4 * 4;
	c->racks4 = nodes4 / 4;
	c->racks8 = (c->nodes - nodes4) / 8;
	c->nodes = c->racks8 * 8 + c->racks4 * 4;
	/* VC weights: a few big teams, many small ones */
	double total = 0;
	for (int v = 0; v < NVC; v++)
		total += c->weight[v] = 1.0 / (1.0 + v * 0.15);
	/* 90% of the nodes go to VCs: one each, the rest by weight */
	int free8 = c->racks8 * 8 * 9 / 10 - NVC, free4 = c->racks4 * 4 * 9 / 10;
	for (int v = 0; v < NVC; v++) {
		double w = c->weight[v] / total;
		int n8 = (int)(w * free8), n4 = (int)(w * free4);
		if (v < 3 && n8 >= 16) {   /* the biggest teams hold whole racks */
			c->vc_racks8[v] = 1;
			n8 -= 8;
		}
		if (v % 5 == 0 && n4 >= 2) {   /* some hold 4-GPU cells */
			c->vc_quads[v] = 4;
			n4 -= 2;
		}
		c->vc_nodes8[v] = 1 + (n8 > 0 ? n8 : 0);
		c->vc_nodes4[v] = n4 > 0 ? n4 : 0;
	}
	struct buf *b = &c->config;
	buf_init(b);
	buf_puts(b, "{\"physicalCluster\":{\"cellTypes\":{"
	            "\"G2\":{\"childCellType\":\"V100\",\"childCellNumber\":2},"
	            "\"G4\":{\"childCellType\":\"G2\",\"childCellNumber\":2},"
	            "\"NODE\":{\"childCellType\":\"G4\",\"childCellNumber\":2,\"isNodeLevel\":true},"
	            "\"RACK8\":{\"childCellType\":\"NODE\",\"childCellNumber\":8},"
	            "\"RACK4\":{\"childCellType\":\"NODE\",\"childCellNumber\":4}},"
	            "\"physicalCells\":[");
	int node = 0;
	for (int r = 0; r < c->racks8 + c->racks4; r++) {
		bool big = r < c->racks8;
		buf_printf(b, "%s{\"cellType\":\"%s\",\"cellChildren\":[", r ? "," : "", big ? "RACK8" : "RACK4");
		for (int k = 0; k < (big ? 8 : 4); k++)
			buf_printf(b, "%s{\"cellAddress\":\"node-%05d\"}", k ? "," : "", node++);
		buf_puts(b, "]}");
	}
	buf_puts(b, "]},\"virtualClusters\":{");
	for (int v = 0; v < NVC; v++) {
		buf_printf(b, "%s\"vc%02d\":{\"virtualCells\":[", v ? "," : "", v);
		int k = 0;
		if (c->vc_nodes8[v])
			buf_printf(b, "%s{\"cellType\":\"RACK8.NODE\",\"cellNumber\":%d}", k++ ? "," : "", c->vc_nodes8[v]);
		if (c->vc_racks8[v])
			buf_printf(b, "%s{\"cellType\":\"RACK8\",\"cellNumber\":%d}", k++ ? "," : "", c->vc_racks8[v]);
		if (c->vc_nodes4[v])
			buf_printf(b, "%s{\"cellType\":\"RACK4.NODE\",\"cellNumber\":%d}", k++ ? "," : "", c->vc_nodes4[v]);
		if (c->vc_quads[v])
			buf_printf(b, "%s{\"cellType\":\"RACK4.NODE.G4\",\"cellNumber\":%d}", k++ ? "," : "", c->vc_quads[v]);
		buf_puts(b, "]}");
	}
	buf_puts(b, "},\"skuTypes\":{\"V100\":{\"gpu\":1,\"cpu\":6,\"memory\":\"56Gi\"}}}");
}

struct job {
	char name[24];
	char vc[8];
	int priority;
	int32_t leaves, pods;
	bool running;
	int pos;                     /* index in the running list */
};

struct stats {
	double *v;
	size_t n, cap;
};

static void add(struct stats *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct summary {
	double mean, p50, p99, max;
	size_t n;
};

static struct summary summarize(struct stats *s)
{
	struct summary r = { 0 };
	if (!s->n)
		return r;
	qsort(s->v, s->n, sizeof(double), cmp_double);
	double sum = 0;
	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	r.mean = sum / (double)s->n;
	r.p50 = s->v[s->n / 2];
	r.p99 = s->v[(size_t)((double)(s->n - 1) * 0.99)];
	r.max = s->v[s->n - 1];
	r.n = s->n;
	return r;
}

/* One run's results, passed from the child. */
struct result {
	double startup_ms;
	struct summary decision, decide, commit, release;
	size_t binds, preempts, waits, victims;
	double util;
	long rss_kb;
	int gpus;
};

static const char *POD_NAMES[64];
static bool self_check;

static void req_of(const struct job *j, struct sched_request *r, struct sched_member *m)
{
	m->leaf_cells = j->leaves;
	m->pods = j->pods;
	memset(r, 0, sizeof(*r));
	r->group = j->name;
	r->vc = j->vc;
	r->priority = j->priority;
	r->leaf_type = "V100";
	r->members = m;
	r->nmembers = 1;
	r->pod_leaf_cells = j->leaves;
	r->pod = POD_NAMES[0];
	r->lazy_preemption = j->priority < 3;
}

static struct job *find_job(struct job *jobs, size_t n, const char *name)
{
	/* names are "j<index>" */
	size_t i = (size_t)strtoul(name + 1, NULL, 10);
	return i < n && !strcmp(jobs[i].name, name) ? &jobs[i] : NULL;
}

static void run(const struct cluster *c, size_t ops, struct result *out)
{
	struct gerr err;
	double t0 = now_ns();
	struct sched *s = sched_new(c->config.data, c->config.len, &err);
	if (!s) {
		fprintf(stderr, "bench/sched: config refused: %s\n", err.msg);
		exit(1);
	}
	sched_nodes_set_healthy(s);
	out->startup_ms = (now_ns() - t0) / 1e6;
	sched_set_self_check(s, self_check);
	out->gpus = c->gpus;

	size_t cap = ops * 5 + 16;
	struct job *jobs = calloc(cap, sizeof(*jobs));
	size_t *running = calloc(cap, sizeof(*running));
	size_t njobs = 0, nrunning = 0;
	struct stats decision = { 0 }, decide = { 0 }, commit = { 0 }, release = { 0 };
	struct sched_result res;
	sched_result_init(&res);
	double total = (double)sched_total_leaves(s), util_sum = 0;
	static const int sizes[] = { 1, 1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8, 8, 16, 16, 16, 32, 32, 64 };
	double wsum = 0;
	for (int v = 0; v < NVC; v++)
		wsum += c->weight[v];

	/* warm-up (not timed): fill the cluster to a working level first */
	size_t warm = 0, measured = 0;
	bool warming = true;
	for (size_t op = 0; measured < ops && njobs + 1 < cap; op++) {
		double used = (double)sched_used_leaves(s) / total;
		warming = warming && warm < ops * 4 && used < 0.80;
		if (warming) {
			warm++;
			decision.n = decide.n = commit.n = release.n = 0;
			out->binds = out->waits = out->preempts = out->victims = 0;
		} else {
			measured++;
			util_sum += used;
		}
		bool submit = nrunning == 0 || warming || (rnd() % 1000) < (used < 0.85 ? 900u : 200u);
		if (!submit) {
			size_t k = rnd() % nrunning;
			struct job *j = &jobs[running[k]];
			double t = now_ns();
			for (int32_t p = 0; p < j->pods; p++)
				if (sched_pod_delete(s, j->name, POD_NAMES[p], &err)) {
					fprintf(stderr, "bench/sched: release: %s\n", err.msg);
					exit(1);
				}
			add(&release, (now_ns() - t) / 1e3);
			running[k] = running[--nrunning];
			jobs[running[k]].pos = (int)k;
			j->running = false;
			continue;
		}
		struct job *j = &jobs[njobs];
		snprintf(j->name, sizeof(j->name), "j%zu", njobs);
		njobs++;
		int gpus = sizes[rnd() % (sizeof(sizes) / sizeof(sizes[0]))];
		j->leaves = gpus > 8 ? 8 : gpus;
		j->pods = gpus > 8 ? gpus / 8 : 1;
		j->priority = rnd() % 10 == 0 ? -1 : (int)(rnd() % 10);
		double x = (double)(rnd() % 1000000) / 1e6 * wsum;
		int v = 0;
		while (v < NVC - 1 && (x -= c->weight[v]) > 0)
			v++;
		snprintf(j->vc, sizeof(j->vc), "vc%02d", v);
		struct sched_request req;
		struct sched_member m;
		req_of(j, &req, &m);
		for (int attempt = 0; attempt < 3; attempt++) {
			double t = now_ns();
			int rc = sched_schedule(s, &req, (int64_t)op, &res, &err);
			double dt = (now_ns() - t) / 1e3;
			add(&decide, dt);
			if (rc) {
				fprintf(stderr, "bench/sched: schedule: %s\n", err.msg);
				exit(1);
			}
			if (res.decision == SCHED_WAIT) {
				out->waits++;
				add(&decision, dt);
				break;
			}
			if (res.decision == SCHED_PREEMPT) {
				out->preempts++;
				add(&decision, dt);
				/* the victims' gangs end; the preemptor tries again */
				for (size_t i = 0; i < res.nvictims; i++) {
					struct job *vj = find_job(jobs, njobs, res.victims[i].group);
					if (!vj || !vj->running)
						continue;
					for (int32_t p = 0; p < vj->pods; p++)
						if (sched_pod_delete(s, vj->name, POD_NAMES[p], &err)) {
							fprintf(stderr, "bench/sched: release victim: %s\n", err.msg);
							exit(1);
						}
					running[vj->pos] = running[--nrunning];
					jobs[running[vj->pos]].pos = vj->pos;
					vj->running = false;
					out->victims++;
				}
				continue;
			}
			double tc = now_ns();
			if (sched_group_commit(s, &req, &res.bind, POD_NAMES, (int64_t)op, &err)) {
				fprintf(stderr, "bench/sched: commit: %s\n", err.msg);
				exit(1);
			}
			double dc = (now_ns() - tc) / 1e3;
			add(&commit, dc);
			add(&decision, dt + dc);
			out->binds++;
			j->running = true;
			j->pos = (int)nrunning;
			running[nrunning++] = (size_t)(j - jobs);
			break;
		}
	}
	out->decision = summarize(&decision);
	out->decide = summarize(&decide);
	out->commit = summarize(&commit);
	out->release = summarize(&release);
	out->util = util_sum / (double)(measured ? measured : 1);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	out->rss_kb = ru.ru_maxrss;
	sched_result_fini(&res);
	sched_free(s);
	free(decision.v);
	free(decide.v);
	free(commit.v);
	free(release.v);
	free(jobs);
	free(running);
}

/*
 * HiveD-Go's own measurement, redone here (research/hived.md §5): 8,192
 * GPUs as 16 racks of 64 8-GPU nodes (2/4/8 levels), 4 VCs holding a
 * quarter of the nodes each as RACK.NODE cells, a repeating mix of 1-, 2-,
 * 4- and 8-GPU pods and 2×8 and 4×8 gangs with priorities cycling through
 * 0-9, until the cluster is full (every GPU used, or 60 jobs in a row
 * must wait: ten rounds of the mix); a call = Schedule + commit of the
 * whole gang. Preemptions are carried out (the victims are not requeued)
 * and the preemptor's retry is another call.
 */
static void hived_shape(struct result *out)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"physicalCluster\":{\"cellTypes\":{"
	             "\"G2\":{\"childCellType\":\"GPU\",\"childCellNumber\":2},"
	             "\"G4\":{\"childCellType\":\"G2\",\"childCellNumber\":2},"
	             "\"NODE\":{\"childCellType\":\"G4\",\"childCellNumber\":2,\"isNodeLevel\":true},"
	             "\"RACK\":{\"childCellType\":\"NODE\",\"childCellNumber\":64}},\"physicalCells\":[");
	for (int r = 0, node = 0; r < 16; r++) {
		buf_printf(&b, "%s{\"cellType\":\"RACK\",\"cellChildren\":[", r ? "," : "");
		for (int k = 0; k < 64; k++)
			buf_printf(&b, "%s{\"cellAddress\":\"n%04d\"}", k ? "," : "", node++);
		buf_puts(&b, "]}");
	}
	buf_puts(&b, "]},\"virtualClusters\":{");
	for (int v = 0; v < 4; v++)
		buf_printf(&b, "%s\"vc%d\":{\"virtualCells\":[{\"cellType\":\"RACK.NODE\",\"cellNumber\":256}]}",
		           v ? "," : "", v);
	buf_puts(&b, "}}");

	struct gerr err;
	double t0 = now_ns();
	struct sched *s = sched_new(b.data, b.len, &err);
	if (!s) {
		fprintf(stderr, "bench/sched: config refused: %s\n", err.msg);
		exit(1);
	}
	sched_nodes_set_healthy(s);
	out->startup_ms = (now_ns() - t0) / 1e6;
	sched_set_self_check(s, self_check);
	out->gpus = 8192;
	static const int32_t mix[][2] = { { 1, 1 }, { 2, 1 }, { 4, 1 }, { 8, 1 }, { 8, 2 }, { 8, 4 } };
	struct stats calls = { 0 };
	struct sched_result res;
	sched_result_init(&res);
	size_t cap = 20000;
	char (*names)[16] = calloc(cap, sizeof(*names));
	int32_t *pods = calloc(cap, sizeof(*pods));
	int waiting = 0;
	int64_t total = sched_total_leaves(s);
	for (size_t k = 0; k < cap && waiting < 60 && sched_used_leaves(s) < total; k++) {
		struct job j = { .priority = (int)(k % 10), .leaves = mix[k % 6][0], .pods = mix[k % 6][1] };
		snprintf(j.name, sizeof(j.name), "j%zu", k);
		snprintf(j.vc, sizeof(j.vc), "vc%zu", k % 4);
		memcpy(names[k], j.name, sizeof(names[k]));
		pods[k] = j.pods;
		struct sched_request req;
		struct sched_member m;
		req_of(&j, &req, &m);
		req.leaf_type = NULL;
		req.lazy_preemption = false;
		for (int attempt = 0; attempt < 3; attempt++) {
			double t = now_ns();
			if (sched_schedule(s, &req, (int64_t)k, &res, &err)) {
				fprintf(stderr, "bench/sched: schedule: %s\n", err.msg);
				exit(1);
			}
			if (res.decision == SCHED_BIND &&
			    sched_group_commit(s, &req, &res.bind, POD_NAMES, (int64_t)k, &err)) {
				fprintf(stderr, "bench/sched: commit: %s\n", err.msg);
				exit(1);
			}
			add(&calls, (now_ns() - t) / 1e3);
			if (res.decision == SCHED_WAIT) {
				out->waits++;
				waiting++;
				break;
			}
			if (res.decision == SCHED_BIND) {
				out->binds++;
				waiting = 0;
				break;
			}
			out->preempts++;
			for (size_t i = 0; i < res.nvictims; i++) {
				size_t vk = (size_t)strtoul(res.victims[i].group + 1, NULL, 10);
				if (vk >= cap || !pods[vk] || strcmp(names[vk], res.victims[i].group))
					continue;
				for (int32_t p = 0; p < pods[vk]; p++)
					sched_pod_delete(s, names[vk], POD_NAMES[p], NULL);
				pods[vk] = 0;
				out->victims++;
			}
		}
	}
	out->util = (double)sched_used_leaves(s) / (double)sched_total_leaves(s);
	out->decision = summarize(&calls);
	sched_result_fini(&res);
	sched_free(s);
	free(calls.v);
	free(names);
	free(pods);
	buf_fini(&b);
}

static int cmp_res_mean(const void *a, const void *b)
{
	return cmp_double(&((const struct result *)a)->decision.mean, &((const struct result *)b)->decision.mean);
}

static double median_of(struct result *r, int n, size_t off)
{
	double v[32];
	for (int i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&r[i] + off);
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[n / 2];
}

#define MED(field) median_of(rs, runs, offsetof(struct result, field))

int main(int argc, char **argv)
{
	int sizes[8] = { 1024, 8192, 65536 };
	int nsizes = 3, runs = 5;
	size_t ops = 20000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check")) {
			self_check = true;   /* verify invariants after every call: slow, for testing */
		} else if (!strcmp(argv[i], "--quick")) {
			runs = 3;
			ops = 5000;
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			ops = (size_t)atol(argv[++i]);
		} else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			nsizes = 0;
			for (char *p = strtok(argv[++i], ","); p && nsizes < 8; p = strtok(NULL, ","))
				sizes[nsizes++] = atoi(p);
		} else {
			fprintf(stderr, "usage: %s [--quick] [--check] [--sizes N,N] [--runs N] [--ops N]\n", argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > 31)
		runs = 5;
	for (int i = 0; i < 64; i++) {
		char *n = malloc(8);
		snprintf(n, 8, "p%d", i);
		POD_NAMES[i] = n;
	}
	printf("sched: HiveD decisions on synthetic clusters (8-GPU nodes, racks of 8 and 4, %d VCs,\n"
	       "jobs of 1-64 GPUs with gangs, ~85%% busy); medians of %d runs of %zu operations each.\n"
	       "A decision = Schedule + commit of the whole gang (HiveD's measured call). Times in us.\n\n",
	       NVC, runs, ops);
	printf("%7s %9s %8s %7s %7s %8s | %7s %7s %7s %7s | %6s %7s\n", "GPUs", "startup", "decide", "mean", "p50",
	       "p99", "d.mean", "d.p99", "commit", "release", "util", "RSS");
	printf("%7s %9s %8s %7s %7s %8s | %7s %7s %7s %7s | %6s %7s\n", "", "ms", "count", "", "", "", "", "", "mean",
	       "mean", "", "MiB");
	struct result at8192 = { 0 };
	bool have8192 = false;
	for (int z = 0; z < nsizes; z++) {
		struct result rs[32];
		struct cluster c;
		make_cluster(&c, sizes[z]);
		int zruns = sizes[z] >= 65536 && runs > 3 ? 3 : runs;
		for (int r = 0; r < zruns; r++) {
			int fd[2];
			if (pipe(fd)) {
				perror("pipe");
				return 1;
			}
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				close(fd[0]);
				struct result out = { 0 };
				rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)r;
				run(&c, ops, &out);
				if (write(fd[1], &out, sizeof(out)) != (ssize_t)sizeof(out))
					_exit(1);
				_exit(0);
			}
			close(fd[1]);
			ssize_t got = read(fd[0], &rs[r], sizeof(rs[r]));
			close(fd[0]);
			int status;
			waitpid(pid, &status, 0);
			if (got != (ssize_t)sizeof(rs[r]) || !WIFEXITED(status) || WEXITSTATUS(status)) {
				fprintf(stderr, "bench/sched: run failed\n");
				return 1;
			}
		}
		int n = zruns;
		int save = runs;
		runs = n;
		qsort(rs, (size_t)n, sizeof(rs[0]), cmp_res_mean);
		struct result m = rs[n / 2];
		m.startup_ms = MED(startup_ms);
		m.decision.p50 = MED(decision.p50);
		m.decision.p99 = MED(decision.p99);
		m.decide.mean = MED(decide.mean);
		m.decide.p99 = MED(decide.p99);
		m.commit.mean = MED(commit.mean);
		m.release.mean = MED(release.mean);
		m.util = MED(util);
		runs = save;
		printf("%7d %9.2f %8zu %7.2f %7.2f %8.2f | %7.2f %7.2f %7.2f %7.2f | %5.0f%% %7.1f\n", sizes[z],
		       m.startup_ms, m.decision.n, m.decision.mean, m.decision.p50, m.decision.p99, m.decide.mean,
		       m.decide.p99, m.commit.mean, m.release.mean, m.util * 100, (double)m.rss_kb / 1024);
		printf("%7s (%zu binds, %zu waits, %zu preemptions with %zu victim gangs; max %.1fus)\n", "", m.binds,
		       m.waits, m.preempts, m.victims, m.decision.max);
		if (sizes[z] == 8192) {
			at8192 = m;
			have8192 = true;
		}
		buf_fini(&c.config);
	}
	/* HiveD-Go's own workload: the like-for-like comparison */
	struct result hs[32];
	for (int r = 0; r < runs; r++) {
		memset(&hs[r], 0, sizeof(hs[r]));
		hived_shape(&hs[r]);
	}
	struct result *rs = hs;
	qsort(hs, (size_t)runs, sizeof(hs[0]), cmp_res_mean);
	struct result h = hs[runs / 2];
	h.startup_ms = MED(startup_ms);
	h.decision.p50 = MED(decision.p50);
	h.decision.p99 = MED(decision.p99);
	printf("\nHiveD-Go's own workload (research/hived.md §5): 8,192 GPUs, 16 racks x 64 nodes, 4 VCs,\n"
	       "1/2/4/8-GPU pods and 2x8, 4x8 gangs, priorities 0-9, until the cluster is full:\n"
	       "  %zu calls (%zu binds, %zu preemptions, %zu waits), %.0f%% of the GPUs used at the end\n",
	       h.decision.n, h.binds, h.preempts, h.waits, h.util * 100);
	printf("  %-14s %10s %10s %8s\n", "", "gantry", "HiveD-Go", "speed-up");
	printf("  %-14s %8.1fus %8.0fus %7.0fx\n", "call mean", h.decision.mean, GO_MEAN_US, GO_MEAN_US / h.decision.mean);
	printf("  %-14s %8.1fus %8.0fus %7.0fx\n", "call p50", h.decision.p50, GO_P50_US, GO_P50_US / h.decision.p50);
	printf("  %-14s %8.1fus %8.0fus %7.0fx\n", "call p99", h.decision.p99, GO_P99_US, GO_P99_US / h.decision.p99);
	printf("  %-14s %8.1fms %8.0fms %7.0fx\n", "startup", h.startup_ms, GO_STARTUP_MS, GO_STARTUP_MS / h.startup_ms);
	if (have8192) {
		printf("\nThe synthetic mix above at 8,192 GPUs vs HiveD-Go's figures (different workloads):\n");
		printf("  %-14s %10s %10s %8s\n", "", "gantry", "HiveD-Go", "speed-up");
		printf("  %-14s %8.1fus %8.0fus %7.0fx\n", "decision mean", at8192.decision.mean, GO_MEAN_US,
		       GO_MEAN_US / at8192.decision.mean);
		printf("  %-14s %8.1fus %8.0fus %7.0fx\n", "decision p50", at8192.decision.p50, GO_P50_US,
		       GO_P50_US / at8192.decision.p50);
		printf("  %-14s %8.1fus %8.0fus %7.0fx\n", "decision p99", at8192.decision.p99, GO_P99_US,
		       GO_P99_US / at8192.decision.p99);
		printf("  %-14s %8.1fms %8.0fms %7.0fx\n", "startup", at8192.startup_ms, GO_STARTUP_MS,
		       GO_STARTUP_MS / at8192.startup_ms);
		printf("  targets: mean <= 20us, p99 <= 200us, startup <= 20ms: %s\n",
		       at8192.decision.mean <= 20 && at8192.decision.p99 <= 200 && at8192.startup_ms <= 20 ? "met"
		                                                                                          : "NOT met");
	}
	return 0;
}
