/* SPDX-License-Identifier: MIT */
/*
 * test_spec — the job protocol: data-driven cases under tests/data/spec/
 *
 *   valid/NAME.yaml                must load (OpenPAI's examples and the odd
 *                                  inputs OpenPAI accepts)
 *   invalid/NAME.yaml + NAME.err   must fail with exactly these lines
 *                                  ("LINE:COL: error: MSG" or "error: MSG");
 *                                  messages checked against OpenPAI's
 *                                  rest-server (ajv 6, js-yaml 3, mustache 2.3)
 *   render/NAME.yaml + NAME.expect.json
 *                                  the --json output must contain this subset
 *
 * plus unit cases for the JavaScript semantics, defaults, limits, secrets and
 * the hived checks that need a cluster.
 */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/gerr.h"
#include "spec/internal.h"
#include "spec/spec.h"

static const char *data_dir(void)
{
	const char *d = getenv("GANTRY_TESTDATA");
	return d ? d : "tests/data";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return buf_take(&b);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted *.yaml names in dir; returns the count. */
static size_t list_yaml(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!ends_with(e->d_name, ".yaml"))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmpstr);
	*out = names;
	return n;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int load_text(struct spec_job *job, const char *text, const struct spec_opts *opts)
{
	return spec_job_load(job, text, strlen(text), opts);
}

static void format_diags(const struct spec_job *job, struct buf *out)
{
	for (size_t i = 0; i < job->ndiags; i++) {
		if (job->diags[i].line)
			buf_printf(out, "%u:%u: error: %s\n", job->diags[i].line, job->diags[i].col,
			           job->diags[i].msg);
		else
			buf_printf(out, "error: %s\n", job->diags[i].msg);
	}
}

/* ---- corpora ---------------------------------------------------------------- */

static void valid_corpus(void **state)
{
	(void)state;
	char dir[512], path[1024];
	char **names;
	struct spec_job *job = spec_job_new();
	snprintf(dir, sizeof(dir), "%s/spec/valid", data_dir());
	size_t n = list_yaml(dir, &names);
	assert_true(n >= 15);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *text = slurp(path, &len);
		assert_non_null(text);
		int rc = spec_job_load(job, text, len, NULL);
		if (rc) {
			struct buf b = BUF_INIT;
			format_diags(job, &b);
			fail_msg("%s should be valid, got:\n%s", names[i], buf_str(&b));
		}
		assert_true(job->nroles >= 1);
		for (size_t r = 0; r < job->nroles; r++) {
			assert_non_null(job->roles[r].entrypoint);
			assert_non_null(job->roles[r].image);
		}
		free(text);
	}
	free_names(names, n);
	spec_job_free(job);
}

static void invalid_corpus(void **state)
{
	(void)state;
	char dir[512], path[1024];
	char **names;
	struct spec_job *job = spec_job_new();
	snprintf(dir, sizeof(dir), "%s/spec/invalid", data_dir());
	size_t n = list_yaml(dir, &names);
	assert_true(n >= 60);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *text = slurp(path, &len);
		assert_non_null(text);
		snprintf(path + strlen(path) - 5, 8, ".err");
		char *want = slurp(path, NULL);
		if (!want)
			fail_msg("%s has no .err file", names[i]);
		int rc = spec_job_load(job, text, len, NULL);
		if (rc == 0)
			fail_msg("%s should be rejected", names[i]);
		assert_true(rc == GERR_PROTOCOL || rc == GERR_TOO_LARGE);
		struct buf got = BUF_INIT;
		format_diags(job, &got);
		if (strcmp(buf_str(&got), want))
			fail_msg("%s:\n-- want\n%s-- got\n%s", names[i], want, buf_str(&got));
		buf_fini(&got);
		free(want);
		free(text);
	}
	free_names(names, n);
	spec_job_free(job);
}

/* expected ⊆ actual: every key of expected objects, every element of arrays */
static int json_subset(const json_t *want, const json_t *got, struct buf *where)
{
	size_t mark = where->len;
	if (json_is_object(want)) {
		const char *k;
		json_t *v;
		if (!json_is_object(got))
			return 0;
		json_object_foreach((json_t *)want, k, v) {
			buf_printf(where, ".%s", k);
			if (!json_subset(v, json_object_get(got, k), where))
				return 0;
			buf_truncate(where, mark);
		}
		return 1;
	}
	if (json_is_array(want)) {
		if (!json_is_array(got) || json_array_size(got) != json_array_size(want))
			return 0;
		for (size_t i = 0; i < json_array_size(want); i++) {
			buf_printf(where, "[%zu]", i);
			if (!json_subset(json_array_get(want, i), json_array_get(got, i), where))
				return 0;
			buf_truncate(where, mark);
		}
		return 1;
	}
	return got && json_equal((json_t *)want, (json_t *)got);
}

static void render_goldens(void **state)
{
	(void)state;
	char dir[512], path[1024];
	char **names;
	struct spec_job *job = spec_job_new();
	struct spec_opts opts = { .user = "alice" };
	snprintf(dir, sizeof(dir), "%s/spec/render", data_dir());
	size_t n = list_yaml(dir, &names);
	assert_true(n >= 5);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		json_error_t jerr;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *text = slurp(path, &len);
		assert_non_null(text);
		snprintf(path + strlen(path) - 5, 16, ".expect.json");
		json_t *want = json_load_file(path, 0, &jerr);
		if (!want)
			fail_msg("%s: %s", path, jerr.text);
		int rc = spec_job_load(job, text, len, &opts);
		if (rc) {
			struct buf b = BUF_INIT;
			format_diags(job, &b);
			fail_msg("%s should be valid:\n%s", names[i], buf_str(&b));
		}
		json_t *got = spec_job_to_json(job);
		struct buf where = BUF_INIT;
		if (!json_subset(want, got, &where)) {
			char *g = json_dumps(got, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fail_msg("%s: mismatch at %s\n%s", names[i], buf_str(&where), g);
		}
		buf_fini(&where);
		json_decref(got);
		json_decref(want);
		free(text);
	}
	free_names(names, n);
	spec_job_free(job);
}

/* ---- JavaScript semantics ------------------------------------------------------ */

static void js_number_format(void **state)
{
	(void)state;
	static const struct { double d; const char *s; } cases[] = {
		{ 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -1, "-1" }, { 1.5, "1.5" }, { 0.1, "0.1" },
		{ 1e21, "1e+21" }, { 1e20, "100000000000000000000" }, { 123456789012345680000.0, "123456789012345680000" },
		{ 0.000001, "0.000001" }, { 1e-7, "1e-7" }, { 1.5e-7, "1.5e-7" }, { 31, "31" },
		{ 2.5e300, "2.5e+300" }, { 9007199254740993.0, "9007199254740992" }, { 0.30000000000000004, "0.30000000000000004" },
		{ 123.456, "123.456" }, { -1e-7, "-1e-7" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		spec__js_number(&b, cases[i].d);
		assert_string_equal(buf_str(&b), cases[i].s);
		buf_fini(&b);
	}
	struct buf b = BUF_INIT;
	spec__js_number(&b, 1.0 / 0.0);
	spec__js_number(&b, 0.0 / 0.0);
	assert_string_equal(buf_str(&b), "InfinityNaN");
	buf_fini(&b);
}

static void js_trim_unicode(void **state)
{
	(void)state;
	const char *s = "\xC2\xA0\t  x y \xE2\x80\xA8\xEF\xBB\xBF\n";
	size_t a, b;
	spec__js_trim(s, strlen(s), &a, &b);
	assert_int_equal(b - a, 3);
	assert_memory_equal(s + a, "x y", 3);
	spec__js_trim("   ", 3, &a, &b);
	assert_int_equal(a, b);
}

static void yaml_scalars_as_js_yaml(void **state)
{
	(void)state;
	struct spec_job *job = spec_job_new();
	const char *doc =
		"a: 012\nb: 0x1F\nc: 1:30\nd: 08\ne: .inf\nf: -.5\ng: 1_000\nh: yes\ni: ~\n"
		"j: 2001-12-14\nk: '1'\nl: 0b101\nm: 1e3\nn: +1\no: 1.\np: Null\nq: TRUE\n";
	/* not a job, but the loader alone: use the yaml stage directly */
	job->text = doc;
	job->text_len = strlen(doc);
	assert_int_equal(spec__yaml_load(job), 0);
	const struct spec_value *r = job->root;
	static const struct { const char *k; double num; } nums[] = {
		{ "a", 10 }, { "b", 31 }, { "c", 90 }, { "g", 1000 }, { "l", 5 }, { "m", 1000 }, { "n", 1 }, { "o", 1 },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		const struct spec_value *v = spec_value_get(r, nums[i].k);
		assert_non_null(v);
		assert_int_equal(v->type, SPEC_NUMBER);
		assert_true(v->num == nums[i].num);
	}
	assert_int_equal(spec_value_get(r, "d")->type, SPEC_STRING);   /* not octal */
	assert_int_equal(spec_value_get(r, "f")->type, SPEC_STRING);   /* -.5 is no float */
	assert_int_equal(spec_value_get(r, "h")->type, SPEC_STRING);   /* YAML 1.1 bools are not */
	assert_int_equal(spec_value_get(r, "i")->type, SPEC_NULL);
	assert_int_equal(spec_value_get(r, "j")->type, SPEC_DATE);
	assert_true(spec_value_get(r, "j")->num == 1008288000000.0);
	assert_int_equal(spec_value_get(r, "k")->type, SPEC_STRING);
	assert_int_equal(spec_value_get(r, "p")->type, SPEC_NULL);
	assert_int_equal(spec_value_get(r, "q")->type, SPEC_BOOL);
	assert_true(isinf(spec_value_get(r, "e")->num));
	job->text = NULL;
	spec_job_free(job);
}

static void merge_keys_and_order(void **state)
{
	(void)state;
	struct spec_job *job = spec_job_new();
	const char *doc = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n  2: two\n  1: one\n";
	job->text = doc;
	job->text_len = strlen(doc);
	assert_int_equal(spec__yaml_load(job), 0);
	const struct spec_value *m = spec_value_get(job->root, "m");
	assert_int_equal(m->n, 4);
	/* JavaScript order: index keys first, ascending; then insertion order */
	assert_string_equal(m->members[0].key, "1");
	assert_string_equal(m->members[1].key, "2");
	assert_string_equal(m->members[2].key, "x");
	assert_string_equal(m->members[3].key, "y");
	assert_true(spec_value_get(m, "y")->num == 3);   /* explicit key beats merged */
	job->text = NULL;
	spec_job_free(job);
}

/* ---- the model ------------------------------------------------------------------ */

static struct spec_job *load_file(const char *rel, const struct spec_opts *opts)
{
	char path[1024];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", data_dir(), rel);
	char *text = slurp(path, &len);
	assert_non_null(text);
	struct spec_job *job = spec_job_new();
	int rc = spec_job_load(job, text, len, opts);
	free(text);
	if (rc)
		fail_msg("%s: rc %d: %s", rel, rc, job->ndiags ? job->diags[0].msg : "");
	return job;
}

static const struct spec_role *role(const struct spec_job *job, const char *name)
{
	for (size_t i = 0; i < job->nroles; i++)
		if (!strcmp(job->roles[i].name, name))
			return &job->roles[i];
	fail_msg("no role %s", name);
	return NULL;
}

static void normalized_tensorflow_cifar10(void **state)
{
	(void)state;
	struct spec_opts opts = { .user = "bob" };
	struct spec_job *job = load_file("spec/valid/tensorflow-cifar10.yaml", &opts);
	assert_string_equal(job->name, "tensorflow_cifar10");
	assert_string_equal(job->version, "1");          /* version: 1.0 is a number */
	assert_string_equal(job->virtual_cluster, "default");
	assert_true(job->gang);
	assert_string_equal(job->priority_class, "test");
	assert_int_equal(job->priority, 10);
	assert_true(job->retry.fancy);
	assert_int_equal(job->retry.max, 0);
	assert_int_equal(job->nroles, 2);
	assert_int_equal(job->total_gpu, 5);
	assert_int_equal(job->total_tasks, 2);
	assert_int_equal(job->nprereqs, 4);

	const struct spec_role *w = role(job, "worker");
	assert_int_equal(w->instances, 1);
	assert_int_equal(w->min_failed, 1);
	assert_int_equal(w->min_succeeded, 1);
	assert_false(w->task_retry.fancy);
	assert_int_equal(w->task_retry.max, 0);
	assert_int_equal(w->cpu, 2);
	assert_int_equal(w->memory_mb, 16384);
	assert_int_equal(w->gpu, 4);
	assert_int_equal(w->shm_mb, 512);
	assert_int_equal(w->nports, 2);
	assert_string_equal(w->ports[0].label, "ssh");
	assert_string_equal(w->ports[1].label, "http");
	assert_string_equal(w->image->uri, "openpai/pai.example.tensorflow");
	assert_string_equal(w->data->name, "cifar10");
	assert_string_equal(w->data->uris[0], "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz");
	assert_string_equal(w->affinity_group, "bob~tensorflow_cifar10/default");
	assert_int_equal(w->leaf_cell_number, -1);
	assert_non_null(strstr(w->entrypoint, "wget -qO- https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz | tar xvz"));
	assert_non_null(strstr(w->entrypoint, "--model=resnet20 --batch_size=32"));
	assert_null(strstr(w->entrypoint, "<%"));
	const struct spec_role *ps = role(job, "psserver");
	assert_string_equal(ps->fc_name, "psserver");
	/* post command of the psserver deployment ends the entrypoint */
	assert_true(ends_with(ps->entrypoint, "echo \"Uploading data ...\""));
	spec_job_free(job);
}

static void completion_and_retry_defaults(void **state)
{
	(void)state;
	struct spec_job *job = load_file("spec/valid/odd-null-completion.yaml", NULL);
	const struct spec_role *w = role(job, "w");
	assert_int_equal(w->instances, 3);
	assert_int_equal(w->min_failed, 1);      /* null → 1 */
	assert_int_equal(w->min_succeeded, 3);   /* 0 → instances, not -1 */
	spec_job_free(job);

	job = load_file("spec/valid/hello-world-job.yaml", NULL);
	assert_int_equal(role(job, "taskrole")->min_succeeded, -1);   /* -1 is truthy */
	spec_job_free(job);

	job = load_file("spec/valid/odd-gang-false-task-retry.yaml", NULL);
	assert_false(job->gang);
	assert_true(job->roles[0].task_retry.fancy);
	assert_null(job->roles[0].affinity_group);   /* no default gang group */
	spec_job_free(job);

	job = load_file("spec/valid/odd-task-retry-negative.yaml", NULL);
	assert_int_equal(job->roles[0].task_retry_count, -5);
	assert_int_equal(job->roles[0].task_retry.max, 0);   /* gang: tasks never retry */
	spec_job_free(job);

	job = load_file("spec/valid/odd-missing-instances.yaml", NULL);
	assert_int_equal(job->roles[0].instances, 1);
	spec_job_free(job);
}

static void ports_plugins_and_storages(void **state)
{
	(void)state;
	struct spec_job *job = load_file("spec/valid/tensorflow-serving-mnist.yaml", NULL);
	const struct spec_role *w = &job->roles[0];
	assert_int_equal(w->nports, 3);
	assert_string_equal(w->ports[0].label, "model_server");
	assert_string_equal(w->ports[1].label, "ssh");
	assert_string_equal(w->ports[2].label, "http");
	spec_job_free(job);

	const char *doc =
		"protocolVersion: 2\nname: p\ntype: job\n"
		"prerequisites:\n  - {name: img, type: dockerimage, uri: busybox}\n"
		"  - {name: hook, type: script, plugin: com.microsoft.pai.runtimeplugin.cmd, callbacks: []}\n"
		"taskRoles:\n  w:\n    dockerImage: img\n    prerequisites: [hook]\n"
		"    resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0, ports: {ssh: 2}}\n    commands: [x]\n"
		"extras:\n  storages:\n    - {name: home, share: false}\n    - {name: data, mountPath: /data, readOnly: true}\n"
		"  com.microsoft.pai.runtimeplugin:\n"
		"    - {plugin: ssh, parameters: {jobssh: true}}\n"
		"    - {plugin: teamwise_storage, parameters: {storageConfigNames: [nfs]}, taskroles: [w]}\n";
	job = spec_job_new();
	assert_int_equal(load_text(job, doc, NULL), 0);
	w = &job->roles[0];
	assert_int_equal(w->nports, 2);
	assert_int_equal(w->ports[0].count, 2);            /* user ssh kept, only http added */
	assert_int_equal(w->nprereqs, 1);
	assert_string_equal(w->prereqs[0]->plugin, "com.microsoft.pai.runtimeplugin.cmd");
	assert_int_equal(job->nplugins, 2);
	assert_string_equal(job->plugins[0].plugin, "ssh");
	assert_int_equal(job->plugins[1].ntask_roles, 1);
	assert_int_equal(job->nstorages, 3);
	assert_false(job->storages[0].share);
	assert_string_equal(job->storages[0].mount_path, "/mnt/home");
	assert_string_equal(job->storages[1].mount_path, "/data");
	assert_true(job->storages[1].read_only);
	assert_string_equal(job->storages[2].name, "nfs");  /* from teamwise_storage */
	spec_job_free(job);
}

static void secrets_never_leak(void **state)
{
	(void)state;
	struct spec_job *job = load_file("spec/render/secret-auth.yaml", NULL);
	/* the model keeps rendered credentials for the runtime ... */
	assert_string_equal(job->prereqs[0].auth_password, "testpass");
	/* ... but no output shows them */
	json_t *o = spec_job_to_json(job);
	char *s = json_dumps(o, 0);
	assert_null(strstr(s, "testpass"));
	assert_null(strstr(s, "testuser"));
	assert_null(strstr(s, "s3cr3t"));
	free(s);
	json_decref(o);
	const char *masked = spec_job_masked_config(job);
	assert_non_null(masked);
	assert_null(strstr(masked, "testpass"));
	assert_null(strstr(masked, "s3cr3t"));
	assert_non_null(strstr(masked, "secrets:\n  '******'\nprerequisites:"));
	/* the masked config is still YAML; like OpenPAI's stored config it no
	 * longer validates as a job only because secrets is now a string */
	struct spec_job *again = spec_job_new();
	char *copy = strdup(masked);
	assert_int_equal(load_text(again, copy, NULL), GERR_PROTOCOL);
	assert_int_equal(again->ndiags, 1);
	assert_string_equal(again->diags[0].msg, ".secrets should be object");
	free(copy);
	spec_job_free(again);
	spec_job_free(job);

	job = spec_job_new();
	assert_int_equal(load_text(job, "protocolVersion: 2\nname: f\ntype: job\nsecrets: {a: b} # keep\n"
	                                "prerequisites: [{name: i, type: dockerimage, uri: u}]\n"
	                                "taskRoles: {w: {dockerImage: i, commands: [x],"
	                                " resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}}}\n", NULL), 0);
	assert_non_null(strstr(spec_job_masked_config(job), "secrets: '******' # keep\n"));
	spec_job_free(job);
}

/* A BOM'd copy of a file: its bytes after "\xEF\xBB\xBF"; free() it. */
static char *with_bom(const char *text, size_t len, size_t *outlen)
{
	char *b = malloc(len + 4);
	assert_non_null(b);
	memcpy(b, "\xEF\xBB\xBF", 3);
	memcpy(b + 3, text, len);
	b[len + 3] = '\0';
	*outlen = len + 3;
	return b;
}

/* js-yaml drops a leading byte-order mark (Windows editors write one): the
 * same job, the same positions, the same masking. */
static void bom_is_dropped(void **state)
{
	(void)state;
	static const char *files[] = { "spec/valid/tensorflow-cifar10.yaml", "spec/render/secret-auth.yaml" };
	for (size_t f = 0; f < 2; f++) {
		char path[1024];
		size_t len, blen;
		snprintf(path, sizeof(path), "%s/%s", data_dir(), files[f]);
		char *text = slurp(path, &len);
		assert_non_null(text);
		char *bom = with_bom(text, len, &blen);
		struct spec_job *plain = spec_job_new(), *job = spec_job_new();
		assert_int_equal(spec_job_load(plain, text, len, NULL), 0);
		int rc = spec_job_load(job, bom, blen, NULL);
		if (rc)
			fail_msg("%s with a BOM: %s", files[f], job->ndiags ? job->diags[0].msg : "");
		json_t *a = spec_job_to_json(plain), *b = spec_job_to_json(job);
		assert_true(json_equal(a, b));
		json_decref(a);
		json_decref(b);
		/* the stored config is the file without its BOM, secrets masked */
		assert_string_equal(spec_job_masked_config(job), spec_job_masked_config(plain));
		free(bom);
		free(text);
		spec_job_free(plain);
		spec_job_free(job);
	}

	/* errors keep js-yaml's line:column, line 1 included */
	static const char *bad[] = {
		"{protocolVersion: 2, name: \"bad name\", type: job, taskRoles: {}}\n",
		"protocolVersion: 2\nname: \"bad name\"\ntype: job\ntaskRoles: {}\n",
		"name: [a, b\n",
	};
	for (size_t i = 0; i < 3; i++) {
		size_t blen;
		char *bom = with_bom(bad[i], strlen(bad[i]), &blen);
		struct spec_job *plain = spec_job_new(), *job = spec_job_new();
		assert_int_equal(load_text(plain, bad[i], NULL), GERR_PROTOCOL);
		assert_int_equal(spec_job_load(job, bom, blen, NULL), GERR_PROTOCOL);
		struct buf x = BUF_INIT, y = BUF_INIT;
		format_diags(plain, &x);
		format_diags(job, &y);
		assert_string_equal(buf_str(&x), buf_str(&y));
		buf_fini(&x);
		buf_fini(&y);
		free(bom);
		spec_job_free(plain);
		spec_job_free(job);
	}

	/* one BOM is dropped, as js-yaml does; a second is the file's problem,
	 * never a crash; a BOM alone is an empty file */
	struct spec_job *job = spec_job_new();
	const char two[] = "\xEF\xBB\xBF\xEF\xBB\xBFprotocolVersion: 2\n";
	int rc = spec_job_load(job, two, sizeof(two) - 1, NULL);
	assert_true(rc == GERR_PROTOCOL);
	assert_int_equal(spec_job_load(job, "\xEF\xBB\xBF", 3, NULL), GERR_PROTOCOL);
	spec_job_free(job);
}

static void limits(void **state)
{
	(void)state;
	struct spec_job *job = spec_job_new();
	struct buf b = BUF_INIT;

	/* over 1 MiB */
	buf_puts(&b, "protocolVersion: 2\ndescription: '");
	while (b.len <= SPEC_MAX_BYTES)
		buf_puts(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	buf_puts(&b, "'\n");
	assert_int_equal(spec_job_load(job, buf_str(&b), b.len, NULL), GERR_TOO_LARGE);
	assert_non_null(strstr(job->diags[0].msg, "1 MiB"));

	/* nesting: 64 levels pass the parser, 65 do not */
	buf_clear(&b);
	buf_puts(&b, "parameters: ");
	for (int i = 0; i < 63; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 63; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '\n');
	assert_int_equal(spec_job_load(job, buf_str(&b), b.len, NULL), GERR_PROTOCOL);  /* schema errors only */
	buf_clear(&b);
	buf_puts(&b, "parameters: ");
	for (int i = 0; i < 64; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 64; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '\n');
	assert_int_equal(spec_job_load(job, buf_str(&b), b.len, NULL), GERR_TOO_LARGE);
	assert_non_null(strstr(job->diags[0].msg, "nesting deeper than 64"));
	assert_int_equal(job->diags[0].line, 1);

	/* billion laughs */
	buf_clear(&b);
	buf_puts(&b, "a: &a [x, x, x, x, x, x, x, x, x, x]\n");
	for (char c = 'b'; c <= 'j'; c++)
		buf_printf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c,
		           c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	assert_int_equal(spec_job_load(job, buf_str(&b), b.len, NULL), GERR_TOO_LARGE);
	assert_non_null(strstr(job->diags[0].msg, "aliases"));

	/* a recursive alias is refused, not followed */
	assert_int_equal(load_text(job, "a: &a [1, *a]\n", NULL), GERR_PROTOCOL);
	assert_non_null(strstr(job->diags[0].msg, "contains it"));

	/* instances */
	buf_clear(&b);
	buf_puts(&b, "protocolVersion: 2\nname: big\ntype: job\n"
	             "prerequisites: [{name: i, type: dockerimage, uri: u}]\ntaskRoles:\n"
	             "  w: {instances: 10000, dockerImage: i, commands: [x], resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}}\n");
	assert_int_equal(spec_job_load(job, buf_str(&b), b.len, NULL), 0);
	assert_int_equal(job->roles[0].instances, 10000);
	buf_fini(&b);
	spec_job_free(job);
}

static void garbage_never_crashes(void **state)
{
	(void)state;
	static const char *inputs[] = {
		"\xff\xfe\x00", "{", "[", "a: [", "? [a, b]\n: c", "&a a: *a", "!!binary ====", "'unterminated",
		"a: !!int x", "a: !!map b", "\t- x", "- &x\n- *x", "a: |\n  b\n c", "%YAML 1.1\n---\na: 1",
		"---\n...\n---\n", "a: \"\\u12\"", "a: \"\\x41\\u00e9\\U0001F600\"", "[[[[]]]]",
		"protocolVersion: 2\nname: x\ntype: job\ntaskRoles: {w: [1]}",
		"protocolVersion: 2\nname: x\ntype: job\ntaskRoles: 5",
	};
	struct spec_job *job = spec_job_new();
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		int rc = spec_job_load(job, inputs[i], strlen(inputs[i]), NULL);
		assert_true(rc == GERR_PROTOCOL || rc == GERR_TOO_LARGE);
		assert_true(job->ndiags >= 1);
	}
	spec_job_free(job);
}

static void job_reuse(void **state)
{
	(void)state;
	struct spec_job *job = spec_job_new();
	const char *good = "protocolVersion: 2\nname: r\ntype: job\n"
	                   "prerequisites: [{name: i, type: dockerimage, uri: u}]\n"
	                   "taskRoles: {w: {dockerImage: i, commands: [x], resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}}}\n";
	for (int i = 0; i < 3; i++) {
		assert_int_equal(load_text(job, good, NULL), 0);
		assert_int_equal(job->ndiags, 0);
		assert_string_equal(job->roles[0].entrypoint, "x");
		assert_int_equal(load_text(job, "name: 5", NULL), GERR_PROTOCOL);
		assert_true(job->ndiags > 0);
		assert_int_equal(job->nroles, 0);
	}
	spec_job_free(job);
}

static void convert_name(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 256);
	assert_string_equal(spec_convert_name(&a, "ps_server"), "psserver");
	assert_string_equal(spec_convert_name(&a, "Worker_2"), "worker2");
	assert_string_equal(spec_convert_name(&a, "_"), "");
	arena_fini(&a);
}

/* ---- hived with a cluster ------------------------------------------------------ */

static const struct spec_sku SKUS[] = {
	{ "K80", 1, 4, 8192 },
	{ "V100", 1, 8, 32768 },
	{ "CPU", 0, 16, 65536 },
};

static bool vc_lookup(void *ctx, const char *vc, const char ***names, size_t *n, int64_t *quota)
{
	static const char *research[] = { "K80" };
	static const char *cpuonly[] = { "CPU" };
	(void)ctx;
	if (!strcmp(vc, "research")) {
		*names = research;
		*n = 1;
		*quota = 8;
		return true;
	}
	if (!strcmp(vc, "cpuonly")) {
		*names = cpuonly;
		*n = 1;
		*quota = 4;
		return true;
	}
	return false;
}

static const char *hived_job(const char *vc, const char *res, const char *hived, int instances)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
	         "protocolVersion: 2\nname: h\ntype: job\n"
	         "prerequisites: [{name: i, type: dockerimage, uri: u}]\n"
	         "taskRoles:\n  w:\n    instances: %d\n    dockerImage: i\n    commands: [x]\n"
	         "    resourcePerInstance: %s\n"
	         "defaults: {virtualCluster: %s}\nextras: %s\n",
	         instances, res, vc, hived);
	return buf;
}

static void hived_checks_with_cluster(void **state)
{
	(void)state;
	struct spec_cluster cl = { SKUS, 3, vc_lookup, NULL };
	struct spec_opts opts = { .user = "carol", .cluster = &cl };
	struct spec_job *job = spec_job_new();

	/* leaf cells: max(ceil(gpu/1), ceil(cpu/4), ceil(mem/8192)) on the VC's K80 */
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 10, memoryMB: 1000, gpu: 2}", "{}", 2), &opts), 0);
	assert_int_equal(job->roles[0].leaf_cell_number, 3);
	assert_string_equal(job->roles[0].affinity_group, "carol~h/default");

	/* quota: 3 instances × 3 cells > 8 */
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 10, memoryMB: 1000, gpu: 2}", "{}", 3), &opts),
	                 GERR_PROTOCOL);
	assert_string_equal(job->diags[0].msg, "Job requests 9 SKUs, exceeds maximum 8 SKUs in VC research.");
	/* opportunistic jobs and non-gang jobs are not held to the quota */
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 10, memoryMB: 1000, gpu: 2}",
	                                          "{hivedScheduler: {jobPriorityClass: oppo, taskRoles: {w: {skuType: K80}}}}", 3),
	                           &opts), 0);
	assert_int_equal(job->priority, -1);
	/* without a skuType an opportunistic job is sized by the smallest cell of
	 * any SKU, as OpenPAI does: here the CPU SKU, which has no GPU */
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 10, memoryMB: 1000, gpu: 2}",
	                                          "{hivedScheduler: {jobPriorityClass: oppo}}", 3), &opts), GERR_PROTOCOL);
	assert_non_null(strstr(job->diags[0].msg, "requests 2 GPU, but SKU does not configure GPU"));
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 10, memoryMB: 1000, gpu: 2}",
	                                          "{gangAllocation: false}", 3), &opts), 0);

	/* a GPU request on a CPU-only VC */
	assert_int_equal(load_text(job, hived_job("cpuonly", "{cpu: 1, memoryMB: 1, gpu: 1}", "{}", 1), &opts),
	                 GERR_PROTOCOL);
	assert_string_equal(job->diags[0].msg,
	                    "Taskrole w requests 1 GPU, but SKU does not configure GPU. "
	                    "Please contact admin if the taskrole needs GPU resources.");

	/* explicit SKU */
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 16, memoryMB: 1000, gpu: 1}",
	                                          "{hivedScheduler: {taskRoles: {w: {skuType: V100}}}}", 1), &opts),
	                 GERR_PROTOCOL);
	assert_string_equal(job->diags[0].msg, "Taskrole w has skuType V100, VC research only allows K80.");
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 16, memoryMB: 1000, gpu: 1}",
	                                          "{hivedScheduler: {taskRoles: {w: {skuType: A100}}}}", 1), &opts),
	                 GERR_PROTOCOL);
	assert_string_equal(job->diags[0].msg, "Taskrole w has unknown skuType A100, allow K80,V100,CPU.");
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 16, memoryMB: 1000, gpu: 1}",
	                                          "{hivedScheduler: {jobPriorityClass: oppo, taskRoles: {w: {skuType: V100}}}}", 1),
	                           &opts), 0);
	assert_int_equal(job->roles[0].leaf_cell_number, 2);   /* ceil(16 / 8) */
	assert_string_equal(job->roles[0].sku_type, "V100");

	/* named affinity groups */
	assert_int_equal(load_text(job, hived_job("research", "{cpu: 1, memoryMB: 1, gpu: 1}",
	                                          "{hivedScheduler: {taskRoles: {w: {affinityGroupName: g1}}}}", 1), &opts), 0);
	assert_string_equal(job->roles[0].affinity_group, "carol~h/g1");
	spec_job_free(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_corpus),
		cmocka_unit_test(invalid_corpus),
		cmocka_unit_test(render_goldens),
		cmocka_unit_test(js_number_format),
		cmocka_unit_test(js_trim_unicode),
		cmocka_unit_test(yaml_scalars_as_js_yaml),
		cmocka_unit_test(merge_keys_and_order),
		cmocka_unit_test(normalized_tensorflow_cifar10),
		cmocka_unit_test(completion_and_retry_defaults),
		cmocka_unit_test(ports_plugins_and_storages),
		cmocka_unit_test(secrets_never_leak),
		cmocka_unit_test(limits),
		cmocka_unit_test(garbage_never_crashes),
		cmocka_unit_test(job_reuse),
		cmocka_unit_test(bom_is_dropped),
		cmocka_unit_test(convert_name),
		cmocka_unit_test(hived_checks_with_cluster),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
