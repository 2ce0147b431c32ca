/* SPDX-License-Identifier: MIT */
/*
 * bootstrap.c — what every start makes sure exists, as OpenPAI's
 * rest-server does at each start in basic mode:
 *   - group `admingroup` (acls.admin) and group `default` (VC default);
 *   - a group per virtual cluster, named after it, granting it;
 *   - on first start, the user `admin` (in both groups) with the password in
 *     $GANTRY_ADMIN_PASSWORD, or a random one printed once on stderr and
 *     written to DATA/admin-password (mode 0600). No default secret exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "base/log.h"
#include "server/internal.h"

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Create group name unless it exists; acls as given. */
static int ensure_group(struct store_conn *db, const char *name, const char *description, bool admin,
                        const char *vc, struct arena *a, struct gerr *err)
{
	struct store_group g;
	if (store_group_get(db, name, a, &g, NULL) == 0)
		return 0;
	json_t *ext = json_pack("{s:{s:b, s:[], s:[]}}", "acls", "admin", admin, "virtualClusters",
	                        "storageConfigs");
	if (!ext)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	if (vc)
		json_array_append_new(json_object_get(json_object_get(ext, "acls"), "virtualClusters"),
		                      json_string(vc));
	char *text = json_dumps(ext, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ext);
	struct store_group ng = { name, description, "", text };
	int rc = text ? store_group_put(db, &ng, false, err) : gerr_set(err, GERR_NOMEM, "out of memory");
	free(text);
	if (!rc)
		log_info("bootstrap: created group %s", name);
	return rc;
}

static int write_password_file(const char *dir, const char *password, struct gerr *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/admin-password", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return gerr_set(err, GERR_IO, "%s: %s", path, strerror(errno));
	size_t n = strlen(password);
	bool ok = write(fd, password, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : gerr_set(err, GERR_IO, "%s: cannot write it", path);
}

int bootstrap(struct store *st, const struct cluster *c, const char *data_dir, struct gerr *err)
{
	struct arena a;
	struct store_conn *db = store_conn_get(st, err);
	int rc;
	if (!db)
		return err->code;
	arena_init(&a, 4096);
	if ((rc = store_tx_begin(db, err)))
		goto out;
	if ((rc = ensure_group(db, AUTH_ADMIN_GROUP, "Gantry administrators", true, NULL, &a, err)) ||
	    (rc = ensure_group(db, AUTH_DEFAULT_GROUP, "Everyone: the default virtual cluster", false,
	                       "default", &a, err)))
		goto out;
	for (size_t i = 0; i < c->nvcs; i++) {
		char desc[160];
		snprintf(desc, sizeof(desc), "Users of virtual cluster %s", c->vcs[i].name);
		if ((rc = ensure_group(db, c->vcs[i].name, desc, false, c->vcs[i].name, &a, err)))
			goto out;
	}
	if (store_user_count(db) == 0) {
		const char *env = getenv("GANTRY_ADMIN_PASSWORD");
		char random_pw[32], hash[AUTH_HASH_MAX];
		if (env && !*env)
			env = NULL;   /* set but empty: as if unset */
		const char *pw = env;
		if (env && strlen(env) < AUTH_PASSWORD_MIN) {
			rc = gerr_set(err, GERR_CONFIG, "GANTRY_ADMIN_PASSWORD must have at least %d characters",
			              AUTH_PASSWORD_MIN);
			goto out;
		}
		if (!env || !*env) {
			unsigned char raw[16];
			randombytes_buf(raw, sizeof(raw));
			sodium_bin2base64(random_pw, sizeof(random_pw), raw, sizeof(raw),
			                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
			pw = random_pw;
		}
		if ((rc = auth_password_hash(pw, hash, err)))
			goto out;
		const char *groups[] = { AUTH_ADMIN_GROUP, AUTH_DEFAULT_GROUP };
		int64_t now = now_ms();
		struct store_user u = { .username = "admin", .password_hash = hash, .email = "",
		                        .extension = "{}", .created_ms = now, .password_changed_ms = now,
		                        .groups = groups, .ngroups = 2 };
		if ((rc = store_user_insert(db, &u, err)))
			goto out;
		if (!env || !*env) {
			if ((rc = write_password_file(data_dir, pw, err)))
				goto out;
			/* printed once, on purpose: the only place it ever appears */
			fprintf(stderr, "\n  First start: created user 'admin' with password %s\n"
			                "  (also in %s/admin-password, mode 0600). Change it after logging in.\n\n",
			        pw, data_dir);
		} else {
			log_info("bootstrap: created user admin with the password from GANTRY_ADMIN_PASSWORD");
		}
		sodium_memzero(random_pw, sizeof(random_pw));
	}
	rc = store_tx_commit(db, err);
out:
	if (rc)
		store_tx_rollback(db);
	store_conn_put(st, db);
	arena_fini(&a);
	return rc;
}
