/* SPDX-License-Identifier: MIT */
/*
 * users.c — /api/v2/users (and OpenPAI's legacy /api/v2/user/... forms the
 * web portal still calls).
 *
 * A user's rights come from their groups (auth.h). Granting a virtual
 * cluster means adding the group named after it; the admin flag means the
 * admin group. Every write is one transaction. A password change revokes the
 * user's browser tokens (not application tokens), as in OpenPAI.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "server/server.h"

#define USERNAME_MAX 64   /* Gantry's limit; OpenPAI has none */

/* OpenPAI's username pattern, ^[\w.-]+$ (login and creation alike):
 * false after answering 400. */
bool api_check_username(struct api_request *r, const char *s)
{
	bool ok = *s != '\0';
	for (const char *p = s; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-';
	if (!ok)
		api_fail(r, 400, "InvalidParametersError",
		         "\"username\" with value \"%s\" fails to match the required pattern: /^[\\w.-]+$/", s);
	return ok;
}

/* OpenPAI's UserInfo. */
static json_t *user_json(struct api_request *r, const char *username)
{
	struct auth_user u;
	json_error_t je;
	if (auth_resolve(r->db, username, &r->arena, &u, NULL) != 0)
		return NULL;
	json_t *groups = json_array(), *vcs = json_array(), *storages = json_array();
	for (size_t i = 0; i < u.ngroups; i++)
		json_array_append_new(groups, json_string(u.groups[i]));
	if (u.admin) {
		/* admins may use every virtual cluster */
		json_t *snap = server_snapshot(api_server(r));
		const char *name;
		json_t *v;
		json_object_foreach(json_object_get(snap, "vcs"), name, v)
			json_array_append_new(vcs, json_string(name));
		json_decref(snap);
	} else {
		for (size_t i = 0; i < u.nvcs; i++)
			json_array_append_new(vcs, json_string(u.vcs[i]));
	}
	for (size_t i = 0; i < u.nstorages; i++)
		json_array_append_new(storages, json_string(u.storages[i]));
	json_t *ext = json_loads(u.extension ? u.extension : "{}", 0, &je);
	if (!ext)
		ext = json_object();
	return json_pack("{s:s, s:o, s:s, s:o, s:b, s:o, s:o}", "username", u.username, "grouplist", groups, "email",
	                 u.email ? u.email : "", "extension", ext, "admin", u.admin, "virtualCluster", vcs,
	                 "storageConfig", storages);
}

int api_get_users(struct api_request *r)
{
	struct store_user *users;
	size_t n;
	struct gerr e;
	if (store_user_list(r->db, &r->arena, &users, &n, &e))
		return api_fail_gerr(r, &e, "NoUserError");
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		json_t *u = user_json(r, users[i].username);
		if (u)
			json_array_append_new(list, u);
	}
	return api_json(r, 200, list);
}

int api_get_user(struct api_request *r)
{
	json_t *u = user_json(r, r->params[0]);
	if (!u)
		return api_fail(r, 400, "NoUserError", "User %s is not found.", r->params[0]);
	return api_json(r, 200, u);
}

/* ---- group arithmetic -------------------------------------------------------------- */

struct names {
	const char **v;
	size_t n, cap;
	struct arena *a;
};

static void names_add(struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		const char **v = arena_alloc(s->a, cap * sizeof(*v));
		if (!v)
			return;
		if (s->n)
			memcpy(v, s->v, s->n * sizeof(*v));
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = name;
}

static void names_remove(struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name)) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

/* Check every VC has its group; answer 400 NoVirtualClusterError otherwise. */
static bool check_vcs(struct api_request *r, const char **vcs, size_t n)
{
	struct store_group g;
	for (size_t i = 0; i < n; i++)
		if (!server_vc_exists(api_server(r), vcs[i]) ||
		    store_group_get(r->db, vcs[i], &r->arena, &g, NULL) != 0) {
			api_fail(r, 400, "NoVirtualClusterError", "Virtual cluster %s is not found.", vcs[i]);
			return false;
		}
	return true;
}

/* New group list: groups that grant no VC are kept, VC groups replaced by
 * vcs (default always stays), admin group per the flag. */
static void regroup(struct api_request *r, struct names *out, const char **current, size_t ncurrent,
                    const char **vcs, size_t nvcs, bool set_vcs, int admin)
{
	for (size_t i = 0; i < ncurrent; i++) {
		if (set_vcs && server_vc_exists(api_server(r), current[i]) && strcmp(current[i], AUTH_DEFAULT_GROUP))
			continue;
		names_add(out, current[i]);
	}
	names_add(out, AUTH_DEFAULT_GROUP);
	for (size_t i = 0; set_vcs && i < nvcs; i++)
		names_add(out, vcs[i]);
	if (admin == 1)
		names_add(out, AUTH_ADMIN_GROUP);
	else if (admin == 0)
		names_remove(out, AUTH_ADMIN_GROUP);
}

static int commit_or_fail(struct api_request *r, struct gerr *e, const char *not_found_code)
{
	if (store_tx_commit(r->db, e)) {
		api_fail_gerr(r, e, not_found_code);
		return -1;
	}
	return 0;
}

/* ---- create / update / delete --------------------------------------------------------- */

int api_post_user(struct api_request *r)
{
	const char *username, *password, *email;
	const char **vcs;
	size_t nvcs;
	bool admin = false;
	char hash[AUTH_HASH_MAX];
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_string(r, b, "username", true, &username) &&
	          api_field_string(r, b, "password", true, &password) && api_field_string(r, b, "email", false, &email) &&
	          api_field_strings(r, b, "virtualCluster", &vcs, &nvcs) && api_field_bool(r, b, "admin", &admin);
	json_t *ext = json_object_get(b, "extension");
	if (ok && ext && !json_is_object(ext)) {
		api_fail(r, 400, "InvalidParametersError", "\"extension\" must be an object");
		ok = false;
	}
	json_t *empty = ext ? NULL : json_object();
	char *ext_text = ok ? json_dumps(ext ? ext : empty, JSON_COMPACT) : NULL;
	json_decref(empty);
	json_decref(b);
	if (!ok)
		goto out;
	if (!api_check_username(r, username))
		goto out;
	if (strlen(username) > USERNAME_MAX) {
		api_fail(r, 400, "InvalidParametersError", "\"username\" length must be at most %d characters long",
		         USERNAME_MAX);
		goto out;
	}
	/* OpenPAI's pattern allows them, but "/users/.." is not a URL anyone can
	 * use and ".." names no directory for the user's jobs */
	if (!strcmp(username, ".") || !strcmp(username, "..")) {
		api_fail(r, 400, "InvalidParametersError",
		         "\"username\" cannot be \"%s\": it is a path segment, so neither URLs nor directories could name "
		         "the user", username);
		goto out;
	}
	if (strlen(password) < AUTH_PASSWORD_MIN) {
		api_fail(r, 400, "InvalidParametersError", "\"password\" length must be at least %d characters long",
		         AUTH_PASSWORD_MIN);
		goto out;
	}
	if (!check_vcs(r, vcs, nvcs))
		goto out;
	if (auth_password_hash(password, hash, &e)) {
		api_fail_gerr(r, &e, "NoUserError");
		goto out;
	}
	struct names groups = { .a = &r->arena };
	regroup(r, &groups, NULL, 0, vcs, nvcs, true, admin ? 1 : 0);
	struct store_user u = { .username = username, .password_hash = hash, .email = email ? email : "",
	                        .extension = ext_text, .created_ms = r->now_ms, .password_changed_ms = r->now_ms,
	                        .groups = groups.v, .ngroups = groups.n };
	if (store_tx_begin(r->db, &e) || store_user_insert(r->db, &u, &e)) {
		store_tx_rollback(r->db);
		if (e.code == GERR_CONFLICT)
			api_fail(r, 409, "ConflictUserError", "User name %s already exists.", username);
		else
			api_fail_gerr(r, &e, "NoUserError");
		goto out;
	}
	if (!commit_or_fail(r, &e, "NoUserError"))
		api_message(r, 201, "User is created successfully");
out:
	free(ext_text);
	return 0;
}

/* Merge the top-level keys of patch into the user's extension JSON text. */
static char *merge_extension(const char *current, json_t *patch, bool replace)
{
	json_error_t je;
	json_t *base = replace ? json_object() : json_loads(current ? current : "{}", 0, &je);
	if (!base)
		base = json_object();
	json_object_update(base, patch);
	char *s = json_dumps(base, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(base);
	return s;
}

/* Update one user from a data object; patch: only the fields present.
 * self: the caller edits themself (old password needed to change it). */
static int update_user(struct api_request *r, json_t *data, bool patch, bool self)
{
	const char *username, *email = NULL, *password = NULL, *old = NULL;
	const char **vcs = NULL;
	size_t nvcs = 0;
	bool admin = false, has_admin, has_vcs;
	struct store_user su;
	struct gerr e;
	char hash[AUTH_HASH_MAX];
	char *ext_text = NULL;

	if (!json_is_object(data))
		return api_fail(r, 400, "InvalidParametersError", "\"data\" must be an object");
	if (!api_field_string(r, data, "username", true, &username) || !api_field_string(r, data, "email", false, &email))
		return 0;
	if (!api_field_string(r, data, self ? "newPassword" : "password", false, &password) ||
	    !api_field_string(r, data, "oldPassword", false, &old))
		return 0;
	has_admin = json_object_get(data, "admin") != NULL;
	has_vcs = json_object_get(data, "virtualCluster") != NULL;
	if (!api_field_bool(r, data, "admin", &admin) || !api_field_strings(r, data, "virtualCluster", &vcs, &nvcs))
		return 0;
	json_t *ext = json_object_get(data, "extension");
	if (ext && !json_is_object(ext))
		return api_fail(r, 400, "InvalidParametersError", "\"extension\" must be an object");
	if (self && strcmp(username, r->user.username))
		return api_fail(r, 403, "ForbiddenUserError", "Can't update other user's data.");
	if (self && (has_admin || has_vcs))
		return api_fail(r, 403, "ForbiddenUserError", "Users cannot change their own rights.");
	if (!patch && !self && (!email || !password || !has_vcs || !has_admin))
		return api_fail(r, 400, "InvalidParametersError",
		                "Without patch, data must give username, email, password, virtualCluster and admin.");
	if (password && strlen(password) < AUTH_PASSWORD_MIN)
		return api_fail(r, 400, "InvalidParametersError", "\"password\" length must be at least %d characters long",
		                AUTH_PASSWORD_MIN);
	if (store_user_get(r->db, username, &r->arena, &su, &e) == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoUserError", "User %s is not found.", username);
	if (self && password) {
		if (!old)
			return api_fail(r, 400, "InvalidParametersError", "\"oldPassword\" is required to set a new password");
		if (!auth_password_verify(su.password_hash, old))
			return api_fail(r, 403, "ForbiddenUserError", "Pls input the correct password.");
	}
	if (has_vcs && !check_vcs(r, vcs, nvcs))
		return 0;
	if (password && auth_password_hash(password, hash, &e))
		return api_fail_gerr(r, &e, "NoUserError");
	if (ext && !(ext_text = merge_extension(su.extension, ext, !patch)))
		return GERR_NOMEM;
	int rc = store_tx_begin(r->db, &e);
	if (!rc)
		rc = store_user_update(r->db, username, password ? hash : NULL, email, ext_text, r->now_ms, &e);
	if (!rc && password)
		rc = store_token_delete_user(r->db, username, true, &e);
	if (!rc && (has_vcs || has_admin)) {
		struct names groups = { .a = &r->arena };
		regroup(r, &groups, su.groups, su.ngroups, vcs, nvcs, has_vcs, has_admin ? admin : -1);
		rc = store_user_set_groups(r->db, username, groups.v, groups.n, &e);
	}
	free(ext_text);
	if (rc) {
		store_tx_rollback(r->db);
		return api_fail_gerr(r, &e, "NoUserError");
	}
	if (commit_or_fail(r, &e, "NoUserError"))
		return 0;
	return api_message(r, 201, "Update user %s successfully", username);
}

int api_put_users(struct api_request *r)
{
	bool patch = false;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	int rc = api_field_bool(r, b, "patch", &patch) ? update_user(r, json_object_get(b, "data"), patch, false) : 0;
	json_decref(b);
	return rc;
}

int api_put_user_me(struct api_request *r)
{
	bool patch = true;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	int rc = api_field_bool(r, b, "patch", &patch) ? update_user(r, json_object_get(b, "data"), patch, true) : 0;
	json_decref(b);
	return rc;
}

int api_delete_user(struct api_request *r)
{
	struct auth_user u;
	struct gerr e;
	if (auth_resolve(r->db, r->params[0], &r->arena, &u, &e) == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoUserError", "User %s is not found.", r->params[0]);
	if (u.admin)
		return api_fail(r, 403, "RemoveAdminError", "Admin %s is not allowed to be removed.", r->params[0]);
	if (store_tx_begin(r->db, &e) || store_user_delete(r->db, r->params[0], &e)) {
		store_tx_rollback(r->db);
		return api_fail_gerr(r, &e, "NoUserError");
	}
	if (commit_or_fail(r, &e, "NoUserError"))
		return 0;
	return api_message(r, 200, "user is removed successfully");
}

/* ---- groups of a user -------------------------------------------------------------- */

static bool user_exists(struct api_request *r, const char *username)
{
	struct store_user su;
	if (store_user_get(r->db, username, &r->arena, &su, NULL) == 0)
		return true;
	api_fail(r, 404, "NoUserError", "User %s is not found.", username);
	return false;
}

static bool group_exists(struct api_request *r, const char *name)
{
	struct store_group g;
	if (store_group_get(r->db, name, &r->arena, &g, NULL) == 0)
		return true;
	api_fail(r, 404, "NoGroupError", "Group %s is not found.", name);
	return false;
}

int api_put_user_grouplist(struct api_request *r)
{
	const char **groups;
	size_t n;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_strings(r, b, "grouplist", &groups, &n);
	if (ok && !json_object_get(b, "grouplist")) {
		api_fail(r, 400, "InvalidParametersError", "\"grouplist\" is required");
		ok = false;
	}
	json_decref(b);
	if (!ok || !user_exists(r, r->params[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!group_exists(r, groups[i]))
			return 0;
	if (store_tx_begin(r->db, &e) || store_user_set_groups(r->db, r->params[0], groups, n, &e)) {
		store_tx_rollback(r->db);
		return api_fail_gerr(r, &e, "NoUserError");
	}
	if (commit_or_fail(r, &e, "NoUserError"))
		return 0;
	return api_message(r, 201, "update user grouplist successfully.");
}

static int user_group(struct api_request *r, bool add)
{
	const char *group;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_string(r, b, "groupname", true, &group);
	json_decref(b);
	if (!ok || !user_exists(r, r->params[0]) || !group_exists(r, group))
		return 0;
	int rc = add ? store_user_add_group(r->db, r->params[0], group, &e)
	             : store_user_remove_group(r->db, r->params[0], group, &e);
	if (rc)
		return api_fail_gerr(r, &e, "NoUserError");
	return api_message(r, 201, "User %s is %s group %s", r->params[0], add ? "added into" : "removed from", group);
}

int api_put_user_group(struct api_request *r)
{
	return user_group(r, true);
}

int api_delete_user_group(struct api_request *r)
{
	return user_group(r, false);
}

/* ---- the legacy per-field forms ---------------------------------------------------- */

static bool self_or_admin(struct api_request *r)
{
	if (r->user.admin || !strcmp(r->user.username, r->params[0]))
		return true;
	api_fail(r, 403, "ForbiddenUserError", "Non-admin is not allow to do this operation.");
	return false;
}

int api_put_user_extension(struct api_request *r)
{
	struct store_user su;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	json_t *ext = json_object_get(b, "extension");
	int rc = 0;
	if (!json_is_object(ext))
		rc = api_fail(r, 400, "InvalidParametersError", "\"extension\" must be an object");
	else if (self_or_admin(r) && user_exists(r, r->params[0])) {
		store_user_get(r->db, r->params[0], &r->arena, &su, NULL);
		char *text = merge_extension(su.extension, ext, false);
		if (!text || store_user_update(r->db, r->params[0], NULL, NULL, text, r->now_ms, &e))
			rc = text ? api_fail_gerr(r, &e, "NoUserError") : GERR_NOMEM;
		else
			rc = api_message(r, 201, "Update user extension data successfully.");
		free(text);
	}
	json_decref(b);
	return rc;
}

int api_put_user_virtualcluster(struct api_request *r)
{
	struct auth_user u;
	const char **vcs;
	size_t n;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_strings(r, b, "virtualCluster", &vcs, &n);
	json_decref(b);
	if (!ok)
		return 0;
	if (auth_resolve(r->db, r->params[0], &r->arena, &u, &e) == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoUserError", "User %s is not found.", r->params[0]);
	if (u.admin)
		return api_fail(r, 403, "ForbiddenUserError", "Admin's virtual clusters cannot be changed: admins use all.");
	if (!check_vcs(r, vcs, n))
		return 0;
	struct names groups = { .a = &r->arena };
	regroup(r, &groups, u.groups, u.ngroups, vcs, n, true, -1);
	if (store_tx_begin(r->db, &e) || store_user_set_groups(r->db, r->params[0], groups.v, groups.n, &e)) {
		store_tx_rollback(r->db);
		return api_fail_gerr(r, &e, "NoUserError");
	}
	if (commit_or_fail(r, &e, "NoUserError"))
		return 0;
	return api_message(r, 201, "Update user %s virtual clusters successfully.", r->params[0]);
}

int api_put_user_password(struct api_request *r)
{
	const char *old, *password;
	struct store_user su;
	struct gerr e;
	char hash[AUTH_HASH_MAX];
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_string(r, b, "newPassword", true, &password) && api_field_string(r, b, "oldPassword", false, &old);
	json_decref(b);
	if (!ok || !self_or_admin(r) || !user_exists(r, r->params[0]))
		return 0;
	if (strlen(password) < AUTH_PASSWORD_MIN)
		return api_fail(r, 400, "InvalidParametersError", "\"newPassword\" length must be at least %d characters long",
		                AUTH_PASSWORD_MIN);
	store_user_get(r->db, r->params[0], &r->arena, &su, NULL);
	/* an admin resets other users' passwords; everyone else proves the old one */
	bool admin_reset = r->user.admin && strcmp(r->user.username, r->params[0]);
	if (!admin_reset && (!old || !auth_password_verify(su.password_hash, old)))
		return api_fail(r, 403, "ForbiddenUserError", "Pls input the correct password.");
	if (auth_password_hash(password, hash, &e))
		return api_fail_gerr(r, &e, "NoUserError");
	if (store_tx_begin(r->db, &e) || store_user_update(r->db, r->params[0], hash, NULL, NULL, r->now_ms, &e) ||
	    store_token_delete_user(r->db, r->params[0], true, &e)) {
		store_tx_rollback(r->db);
		return api_fail_gerr(r, &e, "NoUserError");
	}
	if (commit_or_fail(r, &e, "NoUserError"))
		return 0;
	return api_message(r, 201, "Update user password successfully.");
}

int api_put_user_email(struct api_request *r)
{
	const char *email;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_string(r, b, "email", true, &email);
	json_decref(b);
	if (!ok || !self_or_admin(r) || !user_exists(r, r->params[0]))
		return 0;
	if (store_user_update(r->db, r->params[0], NULL, email, NULL, r->now_ms, &e))
		return api_fail_gerr(r, &e, "NoUserError");
	return api_message(r, 201, "Update user email successfully.");
}

int api_put_user_admin(struct api_request *r)
{
	bool admin = false;
	struct store_user su;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	bool ok = api_field_bool(r, b, "admin", &admin);
	if (ok && !json_object_get(b, "admin"))
		ok = api_fail(r, 400, "InvalidParametersError", "\"admin\" is required") < 0;
	json_decref(b);
	if (!ok || store_user_get(r->db, r->params[0], &r->arena, &su, &e))
		return ok ? api_fail(r, 404, "NoUserError", "User %s is not found.", r->params[0]) : 0;
	if (!admin && !strcmp(r->params[0], r->user.username))
		return api_fail(r, 403, "ForbiddenUserError", "Admins cannot remove their own admin rights.");
	int rc = admin ? store_user_add_group(r->db, r->params[0], AUTH_ADMIN_GROUP, &e)
	               : store_user_remove_group(r->db, r->params[0], AUTH_ADMIN_GROUP, &e);
	if (rc)
		return api_fail_gerr(r, &e, "NoUserError");
	return api_message(r, 201, "Update user admin permission successfully.");
}
