/* SPDX-License-Identifier: MIT */
/*
 * doctor.c — `gantry doctor`: what this machine offers tasks, as the server
 * would detect it at start (DESIGN principle 5): cgroups and the limits they
 * enforce, killing a whole process tree, bubblewrap, a container engine,
 * GPUs through NVML. Read-only, except that it makes the cgroup roots the
 * executor would use (empty "gantry" directories under its own cgroups).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "exec/exec.h"
#include "server/host.h"

static void print_text(const struct exec_caps *c, const struct host_info *h)
{
	printf("host:             %s, %d CPUs, %lld MiB memory\n", h->hostname, h->cpus, (long long)h->memory_mb);
	printf("cgroups:          %s\n", c->cgroup);
	printf("memory limit:     %s%s%s%s\n", c->memory_limit ? "enforced" : "not enforced",
	       c->memory_limit ? " (" : "", c->memory_root, c->memory_limit ? ")" : "");
	printf("cpu limit:        %s%s%s%s\n", c->cpu_limit ? "enforced" : "not enforced", c->cpu_limit ? " (" : "",
	       c->cpu_root, c->cpu_limit ? ")" : "");
	printf("kill tree:        %s\n", c->kill_tree ? "yes: every process of a task is killed, even one that left its session"
	                                               : "partly: the task's process group and the shim's descendants");
	printf("bubblewrap:       %s\n", c->bwrap ? "installed (/usr/bin/bwrap), not used by the executor" : "not installed");
	printf("container engine: %s\n", c->container_engine ? c->container_engine : "none: tasks run on the host");
	if (h->ngpus == 0) {
		printf("GPUs:             none (%s)\n", h->nvml);
	} else {
		printf("GPUs:             %d (NVML, driver %s)\n", h->ngpus, h->nvml);
		for (int i = 0; i < h->ngpus; i++)
			printf("  %d  %s  %s  %llu MiB\n", h->gpus[i].index, h->gpus[i].name, h->gpus[i].uuid,
			       (unsigned long long)(h->gpus[i].memory_bytes >> 20));
	}
	printf("summary:          %s\n", c->detail);
}

static int print_json(const struct exec_caps *c, const struct host_info *h)
{
	json_t *gpus = json_array();
	for (int i = 0; gpus && i < h->ngpus; i++)
		json_array_append_new(gpus, json_pack("{s:i, s:s, s:s, s:I}", "index", h->gpus[i].index, "name",
		                                      h->gpus[i].name, "uuid", h->gpus[i].uuid, "memoryBytes",
		                                      (json_int_t)h->gpus[i].memory_bytes));
	json_t *j = json_pack("{s:s, s:b, s:b, s:b, s:b, s:s?, s:s, s:s, s:s, s:{s:s, s:i, s:I, s:s, s:o}}",
	                      "cgroup", c->cgroup, "memoryLimit", c->memory_limit, "cpuLimit", c->cpu_limit,
	                      "killTree", c->kill_tree, "bwrap", c->bwrap, "containerEngine", c->container_engine,
	                      "memoryRoot", c->memory_root, "cpuRoot", c->cpu_root, "detail", c->detail, "host",
	                      "hostname", h->hostname, "cpus", h->cpus, "memoryMB", (json_int_t)h->memory_mb, "nvml",
	                      h->nvml, "gpus", gpus);
	char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (!s) {
		fprintf(stderr, "gantry doctor: cannot encode the report\n");
		return CLI_FAIL;
	}
	puts(s);
	free(s);
	return CLI_OK;
}

int cli_doctor(const struct cli_cmd *cmd, int argc, char **argv)
{
	bool json = false;
	for (int i = 0; i < argc; i++) {
		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
			if (strcmp(argv[++i], "json"))
				return cli_usage_error(cmd, "unknown output format '%s' (json)", argv[i]);
			json = true;
		} else if (!strcmp(argv[i], "-o=json") || !strcmp(argv[i], "--output=json")) {
			json = true;
		} else {
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
		}
	}
	struct exec_caps caps;
	struct host_info *h = calloc(1, sizeof(*h));
	if (!h) {
		fprintf(stderr, "gantry doctor: out of memory\n");
		return CLI_FAIL;
	}
	exec_caps_detect(&caps);
	host_detect(h);
	int rc = CLI_OK;
	if (json)
		rc = print_json(&caps, h);
	else
		print_text(&caps, h);
	free(h);
	return rc;
}
