/* SPDX-License-Identifier: MIT */
/* bind — a scheduler placement as JSON, for the store (see bind.c). */
#ifndef GANTRY_SERVER_BIND_H
#define GANTRY_SERVER_BIND_H

#include "base/arena.h"
#include "sched/sched.h"

/* Returns malloc'd JSON text (free), or NULL when out of memory. pods[i]
 * names the i-th pod of the placement ("role-index"), kept in the JSON so
 * readers can tell which task went where. */
char *bind_to_json(const struct sched_bind_info *b, const char *const *pods, size_t npods);
/* Parse text into arena memory; NULL when it is not a placement. */
struct sched_bind_info *bind_from_json(struct arena *a, const char *text);

#endif
