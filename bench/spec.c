/* SPDX-License-Identifier: MIT */
/*
 * bench/spec — parse + validate + render + normalize job files.
 *
 * Jobs: OpenPAI's tensorflow-cifar10 example (6 KB, 4 prerequisites, two
 * roles, deployments, templates) and a 500-instance job of our own. For each,
 * five runs of ~1 s on one core; the median is reported, with each phase
 * timed apart (YAML reading alone, then the whole pipeline) and peak RSS.
 * Target (issue #2): >= 20,000 jobs/s for tensorflow-cifar10 on one core.
 * There is no C baseline to print beside it: OpenPAI validates in Node.js.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/buf.h"
#include "spec/spec.h"

#define RUNS 5

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_take(&b);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Jobs per second over ~0.8 s; mode 0 = YAML only, 1 = full load (reused
 * job), 2 = full load with a new job object each time. */
static double rate(const char *text, size_t len, int mode)
{
	struct spec_opts opts = { "bench", NULL };
	struct spec_job *job = spec_job_new();
	long n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 200; i++) {
			int rc;
			if (mode == 0) {
				rc = spec_yaml_load(job, text, len);
			} else if (mode == 1) {
				rc = spec_job_load(job, text, len, &opts);
			} else {
				struct spec_job *j = spec_job_new();
				rc = spec_job_load(j, text, len, &opts);
				spec_job_free(j);
			}
			if (rc) {
				fprintf(stderr, "bench: the job does not load (%d): %s\n", rc,
				        job->ndiags ? job->diags[0].msg : "?");
				exit(1);
			}
		}
		n += 200;
		t = now();
	} while (t - t0 < 0.8);
	spec_job_free(job);
	return (double)n / (t - t0);
}

static void bench(const char *label, const char *text, size_t len)
{
	static const char *modes[] = { "YAML reading only", "full pipeline, reused job", "full pipeline, new job each" };
	printf("%s (%zu bytes)\n", label, len);
	for (int m = 0; m < 3; m++) {
		double r[RUNS];
		for (int i = 0; i < RUNS; i++)
			r[i] = rate(text, len, m);
		qsort(r, RUNS, sizeof(r[0]), cmp);
		printf("  %-30s median %9.0f jobs/s  (%6.1f us/job; runs %.0f..%.0f)\n", modes[m], r[RUNS / 2],
		       1e6 / r[RUNS / 2], r[0], r[RUNS - 1]);
	}
}

/* A job of our own: 500 workers, a parameter server, a chief; parameters,
 * deployments with pre/post commands, ports, hived extras, plugins. */
static void make_500(struct buf *b)
{
	buf_puts(b, "protocolVersion: 2\nname: big_sweep\ntype: job\nversion: 2.1\njobRetryCount: 3\n"
	            "parameters:\n  lr: 0.001\n  batch: 256\n  epochs: 90\n  data: /mnt/data/imagenet\n"
	            "secrets:\n  wandb: key-123\n"
	            "prerequisites:\n"
	            "  - {name: img, type: dockerimage, uri: 'nvcr.io/nvidia/pytorch:23.10-py3'}\n"
	            "  - {name: code, type: script, uri: 'https://git.example.com/team/train.git'}\n"
	            "  - {name: ckpt, type: output, uri: 'hdfs://nn:9000/ckpt'}\n"
	            "taskRoles:\n");
	static const struct { const char *name; int n; int gpu; } roles[] = {
		{ "chief", 1, 8 }, { "ps", 4, 0 }, { "worker", 500, 8 },
	};
	for (size_t i = 0; i < 3; i++)
		buf_printf(b, "  %s:\n    instances: %d\n    completion:\n      minFailedInstances: 1\n"
		              "      minSucceededInstances: %d\n    dockerImage: img\n    script: code\n    output: ckpt\n"
		              "    resourcePerInstance:\n      cpu: 32\n      memoryMB: 262144\n      gpu: %d\n"
		              "      ports:\n        nccl: 4\n        metrics: 1\n"
		              "    extraContainerOptions:\n      shmMB: 65536\n      infiniband: true\n"
		              "    commands:\n      - cd <%% $script.name %%>\n"
		              "      - python train.py --role %s --lr <%% $parameters.lr %%> --batch <%% $parameters.batch %%>"
		              " --epochs <%% $parameters.epochs %%> --data <%% $parameters.data %%>"
		              " --out <%% $output.uri %%> --key <%% $secrets.wandb %%>\n",
		           roles[i].name, roles[i].n, roles[i].n, roles[i].gpu, roles[i].name);
	buf_puts(b, "deployments:\n  - name: prod\n    taskRoles:\n");
	for (size_t i = 0; i < 3; i++)
		buf_printf(b, "      %s:\n        preCommands: [nvidia-smi, 'git clone <%% $script.uri %%> <%% $script.name %%>']\n"
		              "        postCommands: ['echo done <%% $parameters.epochs %%>']\n", roles[i].name);
	buf_puts(b, "defaults:\n  deployment: prod\n  virtualCluster: research\n"
	            "extras:\n  gangAllocation: true\n  hivedScheduler:\n    jobPriorityClass: prod\n"
	            "    taskRoles:\n      worker: {skuType: A100}\n      chief: {skuType: A100}\n"
	            "  com.microsoft.pai.runtimeplugin:\n    - {plugin: ssh, parameters: {jobssh: true}}\n");
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/data/spec/valid/tensorflow-cifar10.yaml";
	size_t len;
	char *text = slurp(path, &len);
	if (!text) {
		fprintf(stderr, "bench/spec: cannot read %s (run from the repository root)\n", path);
		return 1;
	}
	printf("bench/spec: %d runs each, median reported; one core\n\n", RUNS);
	bench("tensorflow-cifar10.yaml", text, len);
	struct buf big = BUF_INIT;
	make_500(&big);
	bench("own job, 3 roles, 505 instances", buf_str(&big), big.len);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("\npeak RSS %ld KiB\n", ru.ru_maxrss);
	printf("target: tensorflow-cifar10 >= 20000 jobs/s on one core\n");
	buf_fini(&big);
	free(text);
	return 0;
}
