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
#include <sodium.h>
#include <stdio.h>
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

/*
 * "<user>~<job>", one directory name. A job name may have 255 characters
 * and a user name more, so past JOB_DIR_MAX bytes (file names stop at 255)
 * it is its first JOB_DIR_KEEP bytes, cut on a character boundary, then
 * "~" and 32 hex digits of the BLAKE2b-128 of the whole: still readable,
 * still one name per job, and the same after a restart.
 */
#define JOB_DIR_MAX  200
#define JOB_DIR_KEEP 160

static char *job_dir(struct arena *a, const char *user, const char *job)
{
	char *key = arena_printf(a, "%s~%s", user, job);
	size_t n = key ? strlen(key) : 0;
	if (!key || n <= JOB_DIR_MAX)
		return key;
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), (const unsigned char *)key, n, NULL, 0);
	size_t keep = JOB_DIR_KEEP;
	while (keep > 0 && ((unsigned char)key[keep] & 0xC0) == 0x80)   /* not inside a UTF-8 sequence */
		keep--;
	char hex[2 * sizeof(h) + 1];
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return arena_printf(a, "%.*s~%s", (int)keep, key, hex);
}

char *rt_task_cwd(struct arena *a, const char *data, const char *user, const char *job, int64_t fw_attempt,
                  const char *role, int64_t index)
{
	if (!names_ok(data, user, job, role) || fw_attempt < 0 || index < 0)
		return NULL;
	char *jd = job_dir(a, user, job);
	return jd ? arena_printf(a, "%s/jobs/%s/%" PRId64 "/%s-%" PRId64, data, jd, fw_attempt, role, index) : NULL;
}

char *rt_attempt_dir(struct arena *a, const char *data, const char *user, const char *job, int64_t fw_attempt,
                     const char *role, int64_t index, int64_t task_attempt)
{
	if (!names_ok(data, user, job, role) || fw_attempt < 0 || index < 0 || task_attempt < 0)
		return NULL;
	char *jd = job_dir(a, user, job);
	return jd ? arena_printf(a, "%s/logs/%s/%" PRId64 "/%s-%" PRId64 "/%" PRId64, data, jd, fw_attempt, role,
	                         index, task_attempt)
	          : NULL;
}
