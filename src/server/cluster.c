/* SPDX-License-Identifier: MIT */
/*
 * cluster.c — the cluster Gantry manages: HiveD's config, from a file or
 * made up from this machine, and the fixed figures derived from it.
 *
 * The embedded default (no --config) is one node, this machine: its GPUs are
 * the leaf cells (SKU "gpu": one GPU with its share of CPUs and memory), or,
 * without GPUs, its CPUs are (SKU "cpu"). One virtual cluster, "default",
 * holds the whole node.
 *
 * A --config file is HiveD's config (physicalCluster, virtualClusters) with
 * OpenPAI's skuTypes, plus Gantry's node inventory:
 *
 *     nodes:
 *       - name: node1          # a node-level cellAddress
 *         address: 10.0.0.1
 *         simulatedGpus: true  # the GPUs in the config are not on the machine
 *         healthy: false       # a bad node: no new pods go there (default true)
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "server/internal.h"

static char *read_file(const char *path, size_t *len, struct gerr *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		gerr_set(err, GERR_CONFIG, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	bool bad = ferror(f);
	fclose(f);
	if (bad || b.oom) {
		buf_fini(&b);
		gerr_set(err, GERR_CONFIG, "%s: cannot read it", path);
		return NULL;
	}
	*len = b.len;
	return buf_take(&b);
}

/* HiveD config for this machine alone. */
static char *embedded_config(const struct host_info *h)
{
	json_t *sku;
	const char *leaf;
	int leaves;
	if (h->ngpus > 0) {
		leaf = "gpu";
		leaves = h->ngpus;
		int cpus = h->cpus / h->ngpus;
		sku = json_pack("{s:i, s:i, s:I}", "gpu", 1, "cpu", cpus > 0 ? cpus : 1, "memory",
		                (json_int_t)(h->memory_mb / h->ngpus));
	} else {
		leaf = "cpu";
		leaves = h->cpus;
		sku = json_pack("{s:i, s:i, s:I}", "gpu", 0, "cpu", 1, "memory",
		                (json_int_t)(h->memory_mb / (h->cpus > 0 ? h->cpus : 1)));
	}
	json_t *cfg = json_pack(
		"{s:{s:o}, s:{s:{s:{s:s, s:i, s:b}}, s:[{s:s, s:s}]}, s:{s:{s:[{s:s, s:i}]}}}",
		"skuTypes", leaf, sku,
		"physicalCluster", "cellTypes", "node", "childCellType", leaf, "childCellNumber", leaves,
		"isNodeLevel", 1, "physicalCells", "cellType", "node", "cellAddress", h->hostname,
		"virtualClusters", "default", "virtualCells", "cellType", "node", "cellNumber", 1);
	char *s = cfg ? json_dumps(cfg, JSON_PRESERVE_ORDER) : NULL;
	json_decref(cfg);
	return s;
}

static int add_name(const char ***list, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], s))
			return 0;
	const char **bigger = realloc(*list, (*n + 1) * sizeof(**list));
	if (!bigger)
		return -1;
	*list = bigger;
	(*list)[(*n)++] = s;
	return 0;
}

/* The keys a nodes[] entry may have: anything else is a typo that would
 * otherwise be ignored (a "healty: false" would leave a broken node in use). */
static const char *const NODE_KEYS[] = { "name", "address", "simulatedGpus", "healthy", NULL };

static int check_node_keys(const struct spec_value *it, size_t i, struct gerr *err)
{
	if (it->type != SPEC_OBJECT)
		return gerr_set(err, GERR_CONFIG, "nodes[%zu]: should be a mapping (name, address, simulatedGpus, "
		                "healthy)", i);
	for (size_t m = 0; m < it->n; m++) {
		const struct spec_member *mb = &it->members[m];
		bool known = false;
		for (size_t k = 0; NODE_KEYS[k] && !known; k++)
			known = strlen(NODE_KEYS[k]) == mb->klen && !memcmp(NODE_KEYS[k], mb->key, mb->klen);
		if (!known)
			return gerr_set(err, GERR_CONFIG, "nodes[%zu].%.*s: unknown key (a node has name, address, "
			                "simulatedGpus, healthy)", i, (int)mb->klen, mb->key);
	}
	return 0;
}

/* Node inventory from the config's "nodes" list (names checked against the
 * scheduler's nodes); nodes not listed are local, with real devices, and
 * healthy. A node given healthy: false is marked bad in s (HiveD's bad node:
 * nothing new is placed there; pods recovered onto it stay). */
static int load_nodes(struct cluster *c, struct sched *s, const struct spec_value *root, struct gerr *err)
{
	size_t n = sched_node_count(s);
	c->nodes = calloc(n ? n : 1, sizeof(*c->nodes));
	if (!c->nodes)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct sched_node_info ni;
		sched_node_get(s, i, NULL, &ni);
		c->nodes[i].name = strdup(ni.name);
		c->nodes[i].address = strdup("127.0.0.1");
		c->nodes[i].simulated = !c->embedded;
		if (!c->nodes[i].name || !c->nodes[i].address)
			return gerr_set(err, GERR_NOMEM, "out of memory");
	}
	c->nnodes = n;
	const struct spec_value *list = spec_value_get(root, "nodes");
	if (!list)
		return 0;
	if (list->type != SPEC_ARRAY)
		return gerr_set(err, GERR_CONFIG, "nodes: should be a list");
	for (size_t i = 0; i < list->n; i++) {
		const struct spec_value *it = list->items[i];
		int rc = check_node_keys(it, i, err);
		if (rc)
			return rc;
		const struct spec_value *name = spec_value_get(it, "name");
		const struct spec_value *healthy = spec_value_get(it, "healthy");
		const struct spec_value *addr = spec_value_get(it, "address");
		const struct spec_value *sim = spec_value_get(it, "simulatedGpus");
		if (!name || name->type != SPEC_STRING)
			return gerr_set(err, GERR_CONFIG, "nodes[%zu].name: required (a node-level cellAddress)", i);
		struct cluster_node *node = NULL;
		for (size_t k = 0; k < c->nnodes && !node; k++)
			if (!strcmp(c->nodes[k].name, name->str))
				node = &c->nodes[k];
		if (!node)
			return gerr_set(err, GERR_CONFIG, "nodes[%zu].name: %s is not a node of physicalCluster",
			                i, name->str);
		if (addr) {
			if (addr->type != SPEC_STRING)
				return gerr_set(err, GERR_CONFIG, "nodes[%zu].address: should be a string", i);
			free(node->address);
			node->address = strdup(addr->str);
		}
		if (sim) {
			if (sim->type != SPEC_BOOL)
				return gerr_set(err, GERR_CONFIG, "nodes[%zu].simulatedGpus: should be true or false", i);
			node->simulated = sim->b;
		}
		if (healthy) {
			if (healthy->type != SPEC_BOOL)
				return gerr_set(err, GERR_CONFIG, "nodes[%zu].healthy: should be true or false", i);
			if ((rc = sched_node_set_health(s, node->name, healthy->b, err)))
				return rc;
			if (!healthy->b)
				log_warn("node %s: unhealthy in the cluster file; no new task is placed there", node->name);
		}
	}
	return 0;
}

static bool vc_lookup(void *ctx, const char *vc, const char ***names, size_t *n, int64_t *quota)
{
	const struct cluster_vc *v = cluster_vc(ctx, vc);
	if (!v)
		return false;
	*names = v->skus;
	*n = v->nskus;
	*quota = v->quota;
	return true;
}

int cluster_load(struct cluster *c, struct sched **out, const char *config_file, struct gerr *err)
{
	size_t len = 0;
	struct sched *s = NULL;
	struct spec_job *doc = NULL;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	*out = NULL;
	host_detect(&c->host);
	if (config_file) {
		c->config_text = read_file(config_file, &len, err);
		if (!c->config_text)
			return GERR_CONFIG;
	} else {
		c->embedded = true;
		c->config_text = embedded_config(&c->host);
		if (!c->config_text)
			return gerr_set(err, GERR_NOMEM, "out of memory");
		len = strlen(c->config_text);
	}
	doc = spec_job_new();
	if (!doc)
		return gerr_set(err, GERR_NOMEM, "out of memory");
	if (spec_yaml_load(doc, c->config_text, len) != 0) {
		const struct spec_diag *d = doc->ndiags ? &doc->diags[0] : NULL;
		rc = gerr_set(err, GERR_CONFIG, "%s:%u:%u: %s", config_file ? config_file : "(embedded)",
		              d ? d->line : 0, d ? d->col : 0, d ? d->msg : "not YAML");
		goto out;
	}
	s = sched_new_from_value(doc->root, err);
	if (!s) {
		if (config_file) {
			char msg[GERR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
			rc = gerr_set(err, GERR_CONFIG, "%s: %s", config_file, msg);
		} else {
			rc = err ? err->code : GERR_CONFIG;
		}
		goto out;
	}
	sched_nodes_set_healthy(s);

	/* immutable figures for the validator */
	c->nskus = sched_sku_count(s);
	c->skus = calloc(c->nskus ? c->nskus : 1, sizeof(*c->skus));
	c->nvcs = sched_vc_count(s);
	c->vcs = calloc(c->nvcs ? c->nvcs : 1, sizeof(*c->vcs));
	if (!c->skus || !c->vcs) {
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->nskus; i++) {
		const struct sched_sku *k = sched_sku_get(s, i);
		c->skus[i] = (struct spec_sku){ k->name, k->gpu, k->cpu, k->memory_mb };
	}
	for (size_t i = 0; i < c->nvcs; i++) {
		struct sched_vc_info vi;
		sched_vc_get(s, i, NULL, &vi);
		c->vcs[i].name = strdup(vi.name);
		c->vcs[i].quota = vi.quota_leaves;
		if (!c->vcs[i].name) {
			rc = gerr_set(err, GERR_NOMEM, "out of memory");
			goto out;
		}
		/* every chain it has cells in, pinned cells included */
		for (size_t k = 0; k < sched_chain_count(s); k++) {
			struct sched_vc_chain_info ci;
			if (!sched_vc_chain_get(s, vi.name, k, &ci) && ci.present &&
			    add_name(&c->vcs[i].skus, &c->vcs[i].nskus, ci.leaf_type) < 0) {
				rc = gerr_set(err, GERR_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if ((rc = load_nodes(c, s, doc->root, err))) {
		if (config_file && rc == GERR_CONFIG) {
			char msg[GERR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
			gerr_set(err, GERR_CONFIG, "%s: %s", config_file, msg);
		}
		goto out;
	}
	c->spec.skus = c->skus;
	c->spec.nskus = c->nskus;
	c->spec.vc_lookup = vc_lookup;
	c->spec.ctx = c;
	*out = s;
	s = NULL;
out:
	sched_free(s);
	spec_job_free(doc);
	return rc;
}

const struct cluster_vc *cluster_vc(const struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->nvcs; i++)
		if (!strcmp(c->vcs[i].name, name))
			return &c->vcs[i];
	return NULL;
}

void cluster_fini(struct cluster *c)
{
	for (size_t i = 0; i < c->nvcs; i++) {
		free(c->vcs[i].name);
		free(c->vcs[i].skus);
	}
	for (size_t i = 0; i < c->nnodes; i++) {
		free(c->nodes[i].name);
		free(c->nodes[i].address);
	}
	free(c->vcs);
	free(c->nodes);
	free(c->skus);
	free(c->config_text);
	memset(c, 0, sizeof(*c));
}
