/* SPDX-License-Identifier: MIT */
/*
 * host — what this machine has: CPUs, memory, GPUs, and which isolation
 * features work. Detected once at start and reported (DESIGN principle 5:
 * detect, report, degrade loudly).
 *
 * GPUs come from NVML, loaded with dlopen("libnvidia-ml.so.1") so the binary
 * has no NVIDIA build or runtime dependency; without the library there are
 * simply no GPUs, and `gantry doctor` says so. $GANTRY_NVML overrides the
 * library path (tests point it at a fake).
 */
#ifndef GANTRY_SERVER_HOST_H
#define GANTRY_SERVER_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define HOST_MAX_GPUS 64

struct host_gpu {
	char name[96];                /* "NVIDIA H100 80GB HBM3" */
	char uuid[96];
	uint64_t memory_bytes;
	int index;                    /* NVML index = CUDA_VISIBLE_DEVICES number */
};

struct host_info {
	char hostname[256];
	int cpus;                     /* online CPUs */
	int64_t memory_mb;            /* MemTotal */
	int ngpus;
	struct host_gpu gpus[HOST_MAX_GPUS];
	char nvml[160];               /* "not found: libnvidia-ml.so.1", or the driver version */
	bool nvml_ok;
};

/* Fill *h; never fails (what cannot be read is reported in the fields). */
void host_detect(struct host_info *h);

#endif
