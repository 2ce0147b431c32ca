/* SPDX-License-Identifier: MIT */
/* users.c — users, groups and membership rows. */
#include <string.h>

#include "store/internal.h"

#define STMT_OR_FAIL(st, c, id, err)                     \
	sqlite3_stmt *st = store__stmt((c), (id), (err)); \
	if (!st)                                          \
		return (err) ? (err)->code : GERR_IO

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static int load_groups(struct store_conn *c, struct arena *a, struct store_user *u, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_GROUPS, err);
	size_t cap = 8, n = 0;
	const char **g = arena_alloc(a, cap * sizeof(*g));
	int rc;
	sqlite3_bind_text(st, 1, u->username, -1, SQLITE_STATIC);
	while (g && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			const char **bigger = arena_alloc(a, cap * 2 * sizeof(*g));
			if (!bigger) {
				g = NULL;
				break;
			}
			memcpy(bigger, g, n * sizeof(*g));
			g = bigger;
			cap *= 2;
		}
		g[n++] = store__text(st, 0, a);
	}
	sqlite3_reset(st);
	if (!g)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	u->groups = g;
	u->ngroups = n;
	return 0;
}

static void read_user(sqlite3_stmt *st, struct arena *a, struct store_user *u)
{
	u->username = store__text(st, 0, a);
	u->password_hash = store__text(st, 1, a);
	u->email = store__text(st, 2, a);
	u->extension = store__text(st, 3, a);
	u->created_ms = sqlite3_column_int64(st, 4);
	u->password_changed_ms = sqlite3_column_int64(st, 5);
}

int store_user_get(struct store_conn *c, const char *username, struct arena *a, struct store_user *u,
                   struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_GET, err);
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_user(st, a, u);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gerr_set(err, GERR_NOT_FOUND, "User %s is not found.", username);
	if (rc != SQLITE_ROW)
		return store__fail(c, rc, err, "user");
	return load_groups(c, a, u, err);
}

int store_user_list(struct store_conn *c, struct arena *a, struct store_user **out, size_t *n,
                    struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_LIST, err);
	size_t cap = 16, k = 0;
	struct store_user *users = arena_alloc(a, cap * sizeof(*users));
	int rc;
	while (users && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_user *bigger = arena_alloc(a, cap * 2 * sizeof(*users));
			if (!bigger) {
				users = NULL;
				break;
			}
			memcpy(bigger, users, k * sizeof(*users));
			users = bigger;
			cap *= 2;
		}
		memset(&users[k], 0, sizeof(users[k]));
		read_user(st, a, &users[k++]);
	}
	sqlite3_reset(st);
	if (!users)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	for (size_t i = 0; i < k; i++)
		if ((rc = load_groups(c, a, &users[i], err)))
			return rc;
	*out = users;
	*n = k;
	return 0;
}

int store_user_insert(struct store_conn *c, const struct store_user *u, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_INSERT, err);
	bind_str(st, 1, u->username);
	bind_str(st, 2, u->password_hash);
	bind_str(st, 3, u->email);
	sqlite3_bind_text(st, 4, u->extension ? u->extension : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, u->created_ms);
	sqlite3_bind_int64(st, 6, u->password_changed_ms);
	int rc = store__exec(c, st, err, "insert user");
	if (rc == GERR_CONFLICT)
		return gerr_set(err, GERR_CONFLICT, "User name %s already exists.", u->username);
	for (size_t i = 0; !rc && i < u->ngroups; i++)
		rc = store_user_add_group(c, u->username, u->groups[i], err);
	return rc;
}

static int changed_one(struct store_conn *c, const char *username, struct gerr *err)
{
	if (sqlite3_changes(c->db) == 0)
		return gerr_set(err, GERR_NOT_FOUND, "User %s is not found.", username);
	return 0;
}

int store_user_update(struct store_conn *c, const char *username, const char *password_hash,
                      const char *email, const char *extension, int64_t now_ms, struct gerr *err)
{
	int rc = 0;
	if (password_hash) {
		STMT_OR_FAIL(st, c, STMT_USER_SET_PASSWORD, err);
		bind_str(st, 1, username);
		bind_str(st, 2, password_hash);
		sqlite3_bind_int64(st, 3, now_ms);
		if ((rc = store__exec(c, st, err, "update user")) || (rc = changed_one(c, username, err)))
			return rc;
	}
	if (email) {
		STMT_OR_FAIL(st, c, STMT_USER_SET_EMAIL, err);
		bind_str(st, 1, username);
		bind_str(st, 2, email);
		if ((rc = store__exec(c, st, err, "update user")) || (rc = changed_one(c, username, err)))
			return rc;
	}
	if (extension) {
		STMT_OR_FAIL(st, c, STMT_USER_SET_EXTENSION, err);
		bind_str(st, 1, username);
		bind_str(st, 2, extension);
		if ((rc = store__exec(c, st, err, "update user")) || (rc = changed_one(c, username, err)))
			return rc;
	}
	return 0;
}

int store_user_delete(struct store_conn *c, const char *username, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_DELETE, err);
	bind_str(st, 1, username);
	int rc = store__exec(c, st, err, "delete user");
	return rc ? rc : changed_one(c, username, err);
}

int store_user_set_groups(struct store_conn *c, const char *username, const char *const *groups,
                          size_t n, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_GROUPS_CLEAR, err);
	bind_str(st, 1, username);
	int rc = store__exec(c, st, err, "user groups");
	for (size_t i = 0; !rc && i < n; i++)
		rc = store_user_add_group(c, username, groups[i], err);
	return rc;
}

int store_user_add_group(struct store_conn *c, const char *username, const char *group, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_GROUP_ADD, err);
	bind_str(st, 1, username);
	bind_str(st, 2, group);
	return store__exec(c, st, err, "user group");
}

int store_user_remove_group(struct store_conn *c, const char *username, const char *group,
                            struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_USER_GROUP_REMOVE, err);
	bind_str(st, 1, username);
	bind_str(st, 2, group);
	return store__exec(c, st, err, "user group");
}

size_t store_user_count(struct store_conn *c)
{
	sqlite3_stmt *st = store__stmt(c, STMT_USER_COUNT, NULL);
	size_t n = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return n;
}

static void read_group(sqlite3_stmt *st, struct arena *a, struct store_group *g)
{
	g->groupname = store__text(st, 0, a);
	g->description = store__text(st, 1, a);
	g->external_name = store__text(st, 2, a);
	g->extension = store__text(st, 3, a);
}

int store_group_get(struct store_conn *c, const char *name, struct arena *a, struct store_group *g,
                    struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_GROUP_GET, err);
	bind_str(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_group(st, a, g);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gerr_set(err, GERR_NOT_FOUND, "Group %s is not found.", name);
	if (rc != SQLITE_ROW)
		return store__fail(c, rc, err, "group");
	return 0;
}

int store_group_list(struct store_conn *c, struct arena *a, struct store_group **out, size_t *n,
                     struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_GROUP_LIST, err);
	size_t cap = 16, k = 0;
	struct store_group *gs = arena_alloc(a, cap * sizeof(*gs));
	int rc = SQLITE_DONE;
	while (gs && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_group *bigger = arena_alloc(a, cap * 2 * sizeof(*gs));
			if (!bigger) {
				gs = NULL;
				break;
			}
			memcpy(bigger, gs, k * sizeof(*gs));
			gs = bigger;
			cap *= 2;
		}
		read_group(st, a, &gs[k++]);
	}
	sqlite3_reset(st);
	if (!gs)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "groups");
	*out = gs;
	*n = k;
	return 0;
}

int store_group_put(struct store_conn *c, const struct store_group *g, bool replace, struct gerr *err)
{
	STMT_OR_FAIL(st, c, replace ? STMT_GROUP_REPLACE : STMT_GROUP_INSERT, err);
	bind_str(st, 1, g->groupname);
	bind_str(st, 2, g->description);
	bind_str(st, 3, g->external_name);
	sqlite3_bind_text(st, 4, g->extension ? g->extension : "{}", -1, SQLITE_STATIC);
	int rc = store__exec(c, st, err, "group");
	if (rc == GERR_CONFLICT)
		return gerr_set(err, GERR_CONFLICT, "Group name %s already exists.", g->groupname);
	return rc;
}

int store_group_delete(struct store_conn *c, const char *name, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_GROUP_DELETE, err);
	bind_str(st, 1, name);
	int rc = store__exec(c, st, err, "delete group");
	if (rc)
		return rc;
	if (sqlite3_changes(c->db) == 0)
		return gerr_set(err, GERR_NOT_FOUND, "Group %s is not found.", name);
	STMT_OR_FAIL(st2, c, STMT_GROUP_MEMBERS_CLEAR, err);
	bind_str(st2, 1, name);
	return store__exec(c, st2, err, "delete group");
}

int store_group_members(struct store_conn *c, const char *name, struct arena *a, const char ***out,
                        size_t *n, struct gerr *err)
{
	STMT_OR_FAIL(st, c, STMT_GROUP_MEMBERS, err);
	size_t cap = 16, k = 0;
	const char **names = arena_alloc(a, cap * sizeof(*names));
	int rc = SQLITE_DONE;
	bind_str(st, 1, name);
	while (names && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			const char **bigger = arena_alloc(a, cap * 2 * sizeof(*names));
			if (!bigger) {
				names = NULL;
				break;
			}
			memcpy(bigger, names, k * sizeof(*names));
			names = bigger;
			cap *= 2;
		}
		names[k++] = store__text(st, 0, a);
	}
	sqlite3_reset(st);
	if (!names)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	if (rc != SQLITE_DONE)
		return store__fail(c, rc, err, "group members");
	*out = names;
	*n = k;
	return 0;
}
