/* SPDX-License-Identifier: MIT */
/* host.c — CPU, memory and NVML GPU detection. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/host.h"

/* The NVML calls we use: stable _v2 entry points, declared by hand because
 * Debian ships nvml.h only in non-free. */
typedef int nvml_return;
typedef struct nvml_device *nvml_device;
struct nvml_memory {
	unsigned long long total, free, used;
};

struct nvml {
	nvml_return (*init)(void);
	nvml_return (*shutdown)(void);
	nvml_return (*count)(unsigned int *);
	nvml_return (*handle)(unsigned int, nvml_device *);
	nvml_return (*name)(nvml_device, char *, unsigned int);
	nvml_return (*uuid)(nvml_device, char *, unsigned int);
	nvml_return (*memory)(nvml_device, struct nvml_memory *);
	nvml_return (*driver)(char *, unsigned int);
};

static void detect_gpus(struct host_info *h)
{
	const char *lib = getenv("GANTRY_NVML");
	if (!lib || !*lib)
		lib = "libnvidia-ml.so.1";
	void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(h->nvml, sizeof(h->nvml), "not found: %s (no NVIDIA driver): no GPUs", lib);
		return;
	}
	struct nvml n = {
		.init = (nvml_return(*)(void))dlsym(dl, "nvmlInit_v2"),
		.shutdown = (nvml_return(*)(void))dlsym(dl, "nvmlShutdown"),
		.count = (nvml_return(*)(unsigned int *))dlsym(dl, "nvmlDeviceGetCount_v2"),
		.handle = (nvml_return(*)(unsigned int, nvml_device *))dlsym(dl, "nvmlDeviceGetHandleByIndex_v2"),
		.name = (nvml_return(*)(nvml_device, char *, unsigned int))dlsym(dl, "nvmlDeviceGetName"),
		.uuid = (nvml_return(*)(nvml_device, char *, unsigned int))dlsym(dl, "nvmlDeviceGetUUID"),
		.memory = (nvml_return(*)(nvml_device, struct nvml_memory *))dlsym(dl, "nvmlDeviceGetMemoryInfo"),
		.driver = (nvml_return(*)(char *, unsigned int))dlsym(dl, "nvmlSystemGetDriverVersion"),
	};
	unsigned int count = 0;
	if (!n.init || !n.count || !n.handle) {
		snprintf(h->nvml, sizeof(h->nvml), "%s lacks the NVML entry points: no GPUs", lib);
		dlclose(dl);
		return;
	}
	int rc = n.init();
	if (rc != 0) {
		snprintf(h->nvml, sizeof(h->nvml), "nvmlInit failed (error %d): no GPUs", rc);
		dlclose(dl);
		return;
	}
	if (n.count(&count) != 0)
		count = 0;
	for (unsigned int i = 0; i < count && h->ngpus < HOST_MAX_GPUS; i++) {
		nvml_device d;
		if (n.handle(i, &d) != 0)
			continue;
		struct host_gpu *g = &h->gpus[h->ngpus++];
		g->index = (int)i;
		if (!n.name || n.name(d, g->name, sizeof(g->name)) != 0)
			snprintf(g->name, sizeof(g->name), "GPU");
		if (!n.uuid || n.uuid(d, g->uuid, sizeof(g->uuid)) != 0)
			g->uuid[0] = '\0';
		struct nvml_memory m;
		if (n.memory && n.memory(d, &m) == 0)
			g->memory_bytes = m.total;
	}
	char ver[80] = "unknown";
	if (n.driver && n.driver(ver, sizeof(ver)) != 0)
		strcpy(ver, "unknown");
	snprintf(h->nvml, sizeof(h->nvml), "NVML driver %s: %d GPU%s", ver, h->ngpus, h->ngpus == 1 ? "" : "s");
	h->nvml_ok = true;
	if (n.shutdown)
		n.shutdown();
	dlclose(dl);
}

void host_detect(struct host_info *h)
{
	memset(h, 0, sizeof(*h));
	if (gethostname(h->hostname, sizeof(h->hostname) - 1) != 0 || !h->hostname[0])
		strcpy(h->hostname, "localhost");
	/* cell addresses are node names: keep them simple */
	for (char *p = h->hostname; *p; p++)
		if (*p == '.') {
			*p = '\0';
			break;
		}
	long c = sysconf(_SC_NPROCESSORS_ONLN);
	h->cpus = c > 0 ? (int)c : 1;
	FILE *f = fopen("/proc/meminfo", "r");
	if (f) {
		char line[256];
		long long kb;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemTotal: %lld kB", &kb) == 1) {
				h->memory_mb = kb / 1024;
				break;
			}
		fclose(f);
	}
	if (h->memory_mb <= 0) {
		long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
		h->memory_mb = pages > 0 && psize > 0 ? (int64_t)pages * psize / (1024 * 1024) : 1024;
	}
	detect_gpus(h);
}
