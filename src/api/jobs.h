/* SPDX-License-Identifier: MIT */
/* api/jobs.h — what the job routes' files (jobs.c, detail.c) share. */
#ifndef GANTRY_API_JOBS_H
#define GANTRY_API_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct api_request;

/* The job named by the first path parameter ("user~name"), or a 404 answered. */
bool api_load_job(struct api_request *r, struct store_job *j);
/* Epoch milliseconds, or null for 0. */
json_t *api_ms(int64_t ms);
/* retries, retryDetails, retryDelayTime and the job's times, into o: a
 * list summary and a detail's jobStatus share them. */
void api_job_retries_and_times(json_t *o, const struct store_job *j);
json_t *api_job_tags(const struct store_job *j);

#endif
