/* SPDX-License-Identifier: MIT */
/*
 * paths.c — where a task works and where its attempt's files live.
 *
 * Every name becomes one path component, so a name that is empty, "." or
 * "..", or holds a '/', gets no path at all (NULL) rather than one that
 * points somewhere else. Names reaching here have been validated already
 * (spec, auth); this is the second line.
 */
#include <inttypes.h>
#include <string.h>

#include "runtime/runtime.h"

static bool is_component(const char *s)
{
	return s && *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

static bool names_ok(const char *data, const char *user, const char *job, const char *role)
{
	/* "<user>~<job>" is one component: both halves must be clean */
	return data && *data && is_component(user) && is_component(job) && is_component(role);
}

char *rt_task_cwd(struct arena *a, const char *data, const char *user, const char *job, int64_t fw_attempt,
                  const char *role, int64_t index)
{
	if (!names_ok(data, user, job, role) || fw_attempt < 0 || index < 0)
		return NULL;
	return arena_printf(a, "%s/jobs/%s~%s/%" PRId64 "/%s-%" PRId64, data, user, job, fw_attempt, role, index);
}

char *rt_attempt_dir(struct arena *a, const char *data, const char *user, const char *job, int64_t fw_attempt,
                     const char *role, int64_t index, int64_t task_attempt)
{
	if (!names_ok(data, user, job, role) || fw_attempt < 0 || index < 0 || task_attempt < 0)
		return NULL;
	return arena_printf(a, "%s/logs/%s~%s/%" PRId64 "/%s-%" PRId64 "/%" PRId64, data, user, job, fw_attempt,
	                    role, index, task_attempt);
}
