/* SPDX-License-Identifier: MIT */
/* cluster.c — virtual clusters, SKU types, nodes, storages. */
#include <ctype.h>
#include <string.h>

#include "api/internal.h"
#include "server/server.h"

static bool valid_vc_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* The public view of a VC: OpenPAI's fields, then Gantry's. */
static json_t *vc_view(json_t *vc)
{
	return json_deep_copy(vc);
}

int api_get_vcs(struct api_request *r)
{
	json_t *snap = server_snapshot(api_server(r));
	json_t *out = json_object();
	const char *name;
	json_t *vc;
	if (api_query(r, "nodes")) {
		/* ?nodes: per-node GPU view */
		size_t i;
		json_t *n;
		json_array_foreach(json_object_get(snap, "nodes"), i, n) {
			json_int_t total = json_integer_value(json_object_get(n, "leafCells"));
			/* usedLeafCells already holds the opportunistic ones */
			json_int_t used = json_integer_value(json_object_get(n, "usedLeafCells"));
			json_object_set_new(out, json_string_value(json_object_get(n, "name")),
			                    json_pack("{s:I, s:I, s:I}", "gpuUsed", used, "gpuAvailable", total - used,
			                              "gpuTotal", total));
		}
	} else {
		json_object_foreach(json_object_get(snap, "vcs"), name, vc)
			json_object_set_new(out, name, vc_view(vc));
	}
	json_decref(snap);
	return api_json(r, 200, out);
}

int api_get_vc(struct api_request *r)
{
	const char *name = r->params[0];
	if (!valid_vc_name(name))
		return api_fail(r, 400, "InvalidParametersError",
		                "\"vcName\" with value \"%s\" fails to match the required pattern: /^[A-Za-z0-9_]+$/", name);
	json_t *snap = server_snapshot(api_server(r));
	json_t *vc = json_object_get(json_object_get(snap, "vcs"), name);
	int rc = vc ? api_json(r, 200, vc_view(vc))
	            : api_fail(r, 404, "NoVirtualClusterError", "Virtual cluster %s is not found.", name);
	json_decref(snap);
	return rc;
}

int api_put_vc(struct api_request *r)
{
	/* as OpenPAI with HiveD: virtual clusters live in the cluster config */
	return api_fail(r, 400, "NotImplementedError",
	                "Virtual clusters are defined in the cluster configuration (HiveD's virtualClusters); "
	                "edit it and restart the server.");
}

int api_get_sku_types(struct api_request *r)
{
	const char *vc = r->params[0] ? r->params[0] : api_query(r, "vc");
	json_t *snap = server_snapshot(api_server(r));
	json_t *skus = json_object_get(snap, "skus"), *out;
	if (vc && *vc) {
		json_t *v = json_object_get(json_object_get(snap, "vcs"), vc);
		if (!v) {
			json_decref(snap);
			return api_fail(r, 404, "NoVirtualClusterError", "Virtual cluster %s is not found.", vc);
		}
		out = json_object();
		size_t i;
		json_t *name;
		json_array_foreach(json_object_get(v, "skuTypes"), i, name) {
			json_t *k = json_object_get(skus, json_string_value(name));
			if (k)
				json_object_set(out, json_string_value(name), k);
		}
	} else {
		out = json_deep_copy(skus);
	}
	json_decref(snap);
	return api_json(r, 200, out);
}

int api_get_nodes(struct api_request *r)
{
	json_t *snap = server_snapshot(api_server(r));
	json_t *nodes = json_deep_copy(json_object_get(snap, "nodes"));
	json_decref(snap);
	return api_json(r, 200, nodes);
}

/* Storages are the names granted through groups (acls.storageConfigs). */
int api_get_storages(struct api_request *r)
{
	const char *only_default = api_query(r, "default");
	bool want_default = only_default && !strcmp(only_default, "true");
	json_t *list = json_array();
	for (size_t i = 0; i < r->user.nstorages; i++) {
		bool is_default = false;
		for (size_t k = 0; k < r->user.ndefault_storages; k++)
			is_default |= !strcmp(r->user.default_storages[k], r->user.storages[i]);
		if (want_default && !is_default)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:b, s:s, s:b}", "name", r->user.storages[i], "share", 1,
		                                      "volumeName", r->user.storages[i], "default", is_default));
	}
	return api_json(r, 200, json_pack("{s:o}", "storages", list));
}

int api_get_storage(struct api_request *r)
{
	const char *name = r->params[0];
	if (!auth_has_storage(&r->user, name))
		return api_fail(r, 404, "NoStorageError", "Storage %s is not found.", name);
	return api_json(r, 200, json_pack("{s:s, s:b, s:s, s:s, s:{}, s:b}", "name", name, "share", 1,
	                                  "volumeName", name, "type", "other", "data", "readOnly", 0));
}
