/* SPDX-License-Identifier: MIT */
/*
 * groups.c — /api/v2/groups: the groups that carry rights
 * (extension.acls {admin, virtualClusters, storageConfigs}).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

static bool valid_groupname(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static json_t *group_json(const struct store_group *g)
{
	json_error_t je;
	json_t *ext = json_loads(g->extension ? g->extension : "{}", 0, &je);
	if (!ext)
		ext = json_object();
	return json_pack("{s:s, s:s, s:s, s:o}", "groupname", g->groupname, "description", g->description,
	                 "externalName", g->external_name, "extension", ext);
}

int api_get_groups(struct api_request *r)
{
	struct store_group *gs;
	size_t n;
	struct gerr e;
	if (store_group_list(r->db, &r->arena, &gs, &n, &e))
		return api_fail_gerr(r, &e, "NoGroupError");
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list, group_json(&gs[i]));
	return api_json(r, 200, list);
}

int api_get_group(struct api_request *r)
{
	struct store_group g;
	struct gerr e;
	int rc = store_group_get(r->db, r->params[0], &r->arena, &g, &e);
	if (rc == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoGroupError", "Group %s is not found.", r->params[0]);
	if (rc)
		return api_fail_gerr(r, &e, "NoGroupError");
	return api_json(r, 200, group_json(&g));
}

/* extension must be an object; acls, when present, must have the right shape */
static bool check_extension(struct api_request *r, json_t *ext)
{
	if (!ext)
		return true;
	if (!json_is_object(ext)) {
		api_fail(r, 400, "InvalidParametersError", "\"extension\" must be an object");
		return false;
	}
	json_t *acls = json_object_get(ext, "acls");
	if (!acls)
		return true;
	json_t *admin = json_object_get(acls, "admin"), *v;
	size_t i;
	const char *lists[] = { "virtualClusters", "storageConfigs" };
	if (!json_is_object(acls) || (admin && !json_is_boolean(admin))) {
		api_fail(r, 400, "InvalidParametersError", "\"extension.acls\" must be {admin: bool, virtualClusters: [], storageConfigs: []}");
		return false;
	}
	for (int k = 0; k < 2; k++) {
		json_t *l = json_object_get(acls, lists[k]);
		if (l && !json_is_array(l)) {
			api_fail(r, 400, "InvalidParametersError", "\"extension.acls.%s\" must be an array", lists[k]);
			return false;
		}
		json_array_foreach(l, i, v) if (!json_is_string(v)) {
			api_fail(r, 400, "InvalidParametersError", "\"extension.acls.%s[%zu]\" must be a string", lists[k], i);
			return false;
		}
	}
	return true;
}

static char *dump(json_t *o)
{
	if (o)
		return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_t *empty = json_object();
	char *s = json_dumps(empty, JSON_COMPACT);
	json_decref(empty);
	return s;
}

int api_post_group(struct api_request *r)
{
	const char *name, *desc, *ext_name;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	json_t *ext = json_object_get(b, "extension");
	bool ok = api_field_string(r, b, "groupname", true, &name) && api_field_string(r, b, "description", false, &desc) &&
	          api_field_string(r, b, "externalName", false, &ext_name) && check_extension(r, ext);
	char *text = ok ? dump(ext) : NULL;
	json_decref(b);
	if (!ok)
		return 0;
	if (!valid_groupname(name)) {
		free(text);
		return api_fail(r, 400, "InvalidParametersError",
		                "\"groupname\" with value \"%s\" fails to match the required pattern: /^[A-Za-z0-9_]+$/", name);
	}
	struct store_group g = { name, desc ? desc : "", ext_name ? ext_name : "", text };
	int rc = store_group_put(r->db, &g, false, &e);
	free(text);
	if (rc == GERR_CONFLICT)
		return api_fail(r, 409, "ConflictGroupError", "Group name %s already exists.", name);
	if (rc)
		return api_fail_gerr(r, &e, "NoGroupError");
	return api_message(r, 201, "group is created successfully");
}

int api_put_groups(struct api_request *r)
{
	const char *name, *desc, *ext_name;
	bool patch = false;
	struct store_group g;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	json_t *data = json_object_get(b, "data");
	int rc = 0;
	if (!json_is_object(data)) {
		rc = api_fail(r, 400, "InvalidParametersError", "\"data\" must be an object");
		goto out;
	}
	json_t *ext = json_object_get(data, "extension");
	if (!api_field_bool(r, b, "patch", &patch) || !api_field_string(r, data, "groupname", true, &name) ||
	    !api_field_string(r, data, "description", false, &desc) ||
	    !api_field_string(r, data, "externalName", false, &ext_name) || !check_extension(r, ext))
		goto out;
	if (store_group_get(r->db, name, &r->arena, &g, &e)) {
		rc = api_fail(r, 404, "NoGroupError", "Group %s is not found.", name);
		goto out;
	}
	/* patch merges the top-level keys of extension (acls is replaced whole) */
	json_error_t je;
	json_t *cur = json_loads(g.extension, 0, &je);
	json_t *merged = patch && cur ? cur : json_object();
	if (merged != cur)
		json_decref(cur);
	if (ext)
		json_object_update(merged, ext);
	char *text = dump(merged);
	json_decref(merged);
	struct store_group ng = { name, desc ? desc : (patch ? g.description : ""),
	                          ext_name ? ext_name : (patch ? g.external_name : ""),
	                          (ext || !patch) ? text : g.extension };
	if (store_group_put(r->db, &ng, true, &e))
		rc = api_fail_gerr(r, &e, "NoGroupError");
	else
		rc = api_message(r, 201, "update group %s successfully.", name);
	free(text);
out:
	json_decref(b);
	return rc;
}

int api_delete_group(struct api_request *r)
{
	struct gerr e;
	const char *name = r->params[0];
	if (!strcmp(name, AUTH_ADMIN_GROUP) || !strcmp(name, AUTH_DEFAULT_GROUP))
		return api_fail(r, 403, "ForbiddenUserError", "Group %s is built in and cannot be removed.", name);
	if (store_tx_begin(r->db, &e))
		return api_fail_gerr(r, &e, "NoGroupError");
	int rc = store_group_delete(r->db, name, &e);
	if (rc) {
		store_tx_rollback(r->db);
		if (rc == GERR_NOT_FOUND)
			return api_fail(r, 404, "NoGroupError", "Group %s is not found.", name);
		return api_fail_gerr(r, &e, "NoGroupError");
	}
	if (store_tx_commit(r->db, &e))
		return api_fail_gerr(r, &e, "NoGroupError");
	return api_message(r, 200, "group is removed successfully");
}

int api_get_group_userlist(struct api_request *r)
{
	struct store_group g;
	const char **names;
	size_t n;
	struct gerr e;
	if (store_group_get(r->db, r->params[0], &r->arena, &g, &e))
		return api_fail(r, 404, "NoGroupError", "Group %s is not found.", r->params[0]);
	if (store_group_members(r->db, r->params[0], &r->arena, &names, &n, &e))
		return api_fail_gerr(r, &e, "NoGroupError");
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		struct auth_user u;
		bool admin = auth_resolve(r->db, names[i], &r->arena, &u, NULL) == 0 && u.admin;
		json_array_append_new(list, json_pack("{s:s, s:b}", "username", names[i], "clusterAdmin", admin));
	}
	return api_json(r, 200, list);
}

/* PUT /groups/:g/extension | description | externalname | extension/<a/b/c> */
int api_put_group_field(struct api_request *r)
{
	struct store_group g;
	struct gerr e;
	const char *group = r->params[0];
	const char *field = r->params[1];
	bool deep = strstr(r->path, "/extension/") != NULL;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	int rc = 0;
	if (store_group_get(r->db, group, &r->arena, &g, &e)) {
		rc = api_fail(r, 404, "NoGroupError", "Group %s is not found.", group);
		goto out;
	}
	json_error_t je;
	json_t *ext = json_loads(g.extension, 0, &je);
	if (!ext)
		ext = json_object();
	struct store_group ng = g;
	char *text = NULL;
	if (deep) {
		/* extension/<a/b/c>: set data at that path */
		json_t *data = json_object_get(b, "data"), *at = ext;
		char *path = strdup(field), *save = NULL;
		char *seg = strtok_r(path, "/", &save), *next;
		while (seg && (next = strtok_r(NULL, "/", &save))) {
			json_t *child = json_object_get(at, seg);
			if (!json_is_object(child)) {
				child = json_object();
				json_object_set_new(at, seg, child);
			}
			at = child;
			seg = next;
		}
		if (seg && data)
			json_object_set(at, seg, data);
		free(path);
		if (!data) {
			json_decref(ext);
			rc = api_fail(r, 400, "InvalidParametersError", "\"data\" is required");
			goto out;
		}
	} else if (!strcmp(field, "extension")) {
		json_t *x = json_object_get(b, "extension");
		if (!check_extension(r, x) || !x) {
			json_decref(ext);
			rc = x ? 0 : api_fail(r, 400, "InvalidParametersError", "\"extension\" is required");
			goto out;
		}
		json_decref(ext);
		ext = json_deep_copy(x);
	} else if (!strcmp(field, "description") || !strcmp(field, "externalname")) {
		const char *v;
		bool desc = !strcmp(field, "description");
		if (!api_field_string(r, b, desc ? "description" : "externalName", true, &v)) {
			json_decref(ext);
			goto out;
		}
		if (desc)
			ng.description = v;
		else
			ng.external_name = v;
	} else {
		json_decref(ext);
		rc = api_fail(r, 404, "NoApiError", "API %s is not found.", r->url);
		goto out;
	}
	text = dump(ext);
	json_decref(ext);
	ng.extension = text;
	if (store_group_put(r->db, &ng, true, &e))
		rc = api_fail_gerr(r, &e, "NoGroupError");
	else
		rc = api_message(r, 201, "update group %s successfully.", group);
	free(text);
out:
	json_decref(b);
	return rc;
}
