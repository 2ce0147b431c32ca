/* SPDX-License-Identifier: MIT */
/*
 * cluster_cmd.c — `gantry vc list|show` and `gantry node list`: what the
 * cluster holds and how much of it is in use, as the scheduler last
 * published it (the server's snapshot, never older than one loop pass).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char *percent(const json_t *v, char *out, size_t len)
{
	if (json_is_number(v))
		snprintf(out, len, "%.1f%%", json_number_value(v));
	else
		snprintf(out, len, "-");
	return out;
}

int cli_vc_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 0, 0, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	json_t *vcs = NULL, *vc;
	const char *name;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)) ||
	    (rc = client_call_json(&c, "GET", "/api/v2/virtual-clusters", NULL, &vcs)))
		goto out;
	if (c.json) {
		client_print_json(vcs);
		goto out;
	}
	struct client_table t;
	char pct[32];
	client_table_init(&t, 9);
	client_table_row(&t, "VC", "STATUS", "CAPACITY", "USED", "LEAF CELLS", "IN USE", "WAITING", "PLACED",
	                 "SKU TYPES");
	json_object_foreach(vcs, name, vc) {
		json_int_t used = json_integer_value(json_object_get(vc, "usedLeafCells")) +
		                  json_integer_value(json_object_get(vc, "opportunisticLeafCells"));
		char in_use[32];
		snprintf(in_use, sizeof(in_use), "%lld", (long long)used);
		client_table_add(&t, name);
		client_table_add_json(&t, json_object_get(vc, "status"));
		client_table_add(&t, percent(json_object_get(vc, "capacity"), pct, sizeof(pct)));
		client_table_add(&t, percent(json_object_get(vc, "usedCapacity"), pct, sizeof(pct)));
		client_table_add_json(&t, json_object_get(vc, "quotaLeafCells"));
		client_table_add(&t, in_use);
		client_table_add_json(&t, json_object_get(vc, "waitingJobs"));
		client_table_add_json(&t, json_object_get(vc, "placedJobs"));
		client_table_add_json(&t, json_object_get(vc, "skuTypes"));
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(vcs);
	client_close(&c);
	return rc;
}

int cli_vc_show(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 1, 1, "no virtual cluster given", CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	json_t *vc = NULL, *v;
	const char *key;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	client_pathf(&c, &path, "/api/v2/virtual-clusters/%s", argv[0]);
	if ((rc = client_call_json(&c, "GET", buf_str(&path), NULL, &vc)))
		goto out;
	if (c.json) {
		client_print_json(vc);
		goto out;
	}
	/* every field the server sends, in its order: new ones show up unasked */
	struct client_table t;
	client_table_init(&t, 2);
	client_table_row(&t, "name:", argv[0]);
	json_object_foreach(vc, key, v) {
		struct buf label = BUF_INIT;
		buf_printf(&label, "%s:", key);
		client_table_add(&t, buf_str(&label));
		client_table_add_json(&t, v);
		buf_fini(&label);
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(vc);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_node_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 0, 0, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	json_t *nodes = NULL, *n;
	size_t i;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)) ||
	    (rc = client_call_json(&c, "GET", "/api/v2/cluster/nodes", NULL, &nodes)))
		goto out;
	if (c.json) {
		client_print_json(nodes);
		goto out;
	}
	struct client_table t;
	client_table_init(&t, 7);
	client_table_row(&t, "NODE", "ADDRESS", "HEALTHY", "LEAF CELLS", "USED", "OPPORTUNISTIC", "FREE");
	json_array_foreach(nodes, i, n) {
		client_table_add_json(&t, json_object_get(n, "name"));
		client_table_add_json(&t, json_object_get(n, "address"));
		client_table_add_json(&t, json_object_get(n, "healthy"));
		client_table_add_json(&t, json_object_get(n, "leafCells"));
		client_table_add_json(&t, json_object_get(n, "usedLeafCells"));
		client_table_add_json(&t, json_object_get(n, "opportunisticLeafCells"));
		client_table_add_json(&t, json_object_get(n, "freeLeafCells"));
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(nodes);
	client_close(&c);
	return rc;
}
