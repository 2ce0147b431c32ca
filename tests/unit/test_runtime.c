/* SPDX-License-Identifier: MIT */
/*
 * test_runtime — what a task sees and what its exit means: paths, the port
 * allocator (OpenPAI's hash vector, no port ever handed out twice under
 * churn), the environment of a two-role job (names as written vs converted),
 * GPU visibility, the script (secrets, runtime plugins, run by bash), and the
 * exit-code table and classification (exithandler's cases and its YAML).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/buf.h"
#include "runtime/runtime.h"
#include "spec/spec.h"

/* ---- helpers ---------------------------------------------------------------- */

static struct spec_job *load(const char *yaml)
{
	struct spec_job *job = spec_job_new();
	assert_non_null(job);
	struct spec_opts opts = { .user = "alice" };
	int rc = spec_job_load(job, yaml, strlen(yaml), &opts);
	if (rc)
		for (size_t i = 0; i < job->ndiags; i++)
			fprintf(stderr, "%u:%u: %s\n", job->diags[i].line, job->diags[i].col, job->diags[i].msg);
	assert_int_equal(rc, 0);
	return job;
}

static const struct spec_role *role_of(const struct spec_job *job, const char *name)
{
	for (size_t i = 0; i < job->nroles; i++)
		if (!strcmp(job->roles[i].name, name))
			return &job->roles[i];
	fail_msg("no role %s", name);
	return NULL;
}

/* The value of NAME in env, or NULL; fails when NAME appears twice. */
static const char *env_get(const char **env, const char *name)
{
	size_t nl = strlen(name);
	const char *found = NULL;
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], name, nl) && env[i][nl] == '=') {
			if (found)
				fail_msg("%s appears twice", name);
			found = env[i] + nl + 1;
		}
	return found;
}

static void expect_env(const char **env, const char *name, const char *value)
{
	const char *v = env_get(env, name);
	if (!v)
		fail_msg("%s is missing", name);
	if (strcmp(v, value))
		fail_msg("%s=%s, expected %s", name, v, value);
}

/* Run a script with bash; return its stdout (malloc) and exit status. */
static char *run_bash(const char *script, int *status)
{
	char path[] = "/tmp/gantry-rt-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "cd /tmp && env -i PATH=/usr/bin:/bin bash %s 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(&b, chunk, n);
	int st = pclose(p);
	unlink(path);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf_take(&b);
}

/* ---- paths ---------------------------------------------------------------------- */

static void test_paths(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 1024);
	assert_string_equal(rt_task_cwd(&a, "/var/lib/gantry", "alice", "mnist", 2, "worker", 3),
	                    "/var/lib/gantry/jobs/alice~mnist/2/worker-3");
	assert_string_equal(rt_attempt_dir(&a, "/d", "alice", "mnist", 0, "ps_server", 0, 4),
	                    "/d/logs/alice~mnist/0/ps_server-0/4");
	assert_null(rt_task_cwd(&a, "/d", "..", "mnist", 0, "w", 0));
	assert_null(rt_task_cwd(&a, "/d", "alice", "a/b", 0, "w", 0));
	assert_null(rt_attempt_dir(&a, "/d", "alice", "j", 0, "", 0, 0));
	assert_null(rt_attempt_dir(&a, "/d", "alice", "j", 0, "w", -1, 0));
	/* user~job past 200 bytes: its first 160, "~", BLAKE2b-128 of the whole;
	 * the same every time, different for another name, under 255 bytes */
	char job[256], job2[256];
	memset(job, 'n', 255);
	job[255] = '\0';
	memcpy(job2, job, sizeof(job));
	job2[254] = 'm';
	const char *d1 = rt_task_cwd(&a, "/d", "bob", job, 0, "w", 0);
	const char *d2 = rt_task_cwd(&a, "/d", "bob", job, 0, "w", 0);
	const char *d3 = rt_task_cwd(&a, "/d", "bob", job2, 0, "w", 0);
	assert_non_null(d1);
	assert_string_equal(d1, d2);
	assert_string_not_equal(d1, d3);
	const char *name = d1 + strlen("/d/jobs/");
	size_t len = strcspn(name, "/");
	assert_int_equal(len, 160 + 1 + 32);
	assert_memory_equal(name, "bob~nnnn", 8);
	assert_int_equal(name[160], '~');
	assert_int_equal(strspn(name + 161, "0123456789abcdef"), 32);
	const char *l1 = rt_attempt_dir(&a, "/d", "bob", job, 0, "w", 0, 0);
	assert_memory_equal(l1 + strlen("/d/logs/"), name, len);   /* the logs use the same name */
	/* 200 bytes exactly: kept whole */
	memset(job, 'n', 196);
	job[196] = '\0';
	const char *whole = rt_task_cwd(&a, "/d", "bob", job, 1, "w", 2) + strlen("/d/jobs/bob~");
	assert_memory_equal(whole, job, 196);
	assert_string_equal(whole + 196, "/1/w-2");
	arena_fini(&a);
}

/* ---- ports ---------------------------------------------------------------------- */

static void test_port_hash_vector(void **state)
{
	(void)state;
	/* research §4.3: md5 04b5d1ab1c91b607bc45ffa63ce5acd1 → 39080 */
	assert_int_equal(rt_port_hash("f1020521-9bda-11ea-830b-000d3ab25bb6", "ssh", 0, 20000, 40000), 39080);
	assert_int_equal(rt_port_hash("x", "ssh", 0, 5, 5), -1);
}

static struct spec_port PORTS3[] = { { "ssh", 1 }, { "http", 1 }, { "nccl", 3 } };

static struct spec_role port_role(struct spec_port *ports, size_t n)
{
	struct spec_role r;
	memset(&r, 0, sizeof(r));
	r.name = "worker";
	r.ports = ports;
	r.nports = n;
	return r;
}

static void test_ports_first_choice_is_the_hash(void **state)
{
	(void)state;
	struct rt_ports *p = rt_ports_new(20000, 40000);
	assert_non_null(p);
	struct spec_role r = port_role(PORTS3, 3);
	struct arena a;
	arena_init(&a, 1024);
	struct rt_port_list *l;
	size_t n;
	const char *uid = "f1020521-9bda-11ea-830b-000d3ab25bb6";
	assert_int_equal(rt_ports_take(p, uid, &r, &a, &l, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].label, "ssh");
	assert_int_equal(l[0].n, 1);
	assert_int_equal(l[0].ports[0], 39080);
	assert_string_equal(l[2].label, "nccl");
	assert_int_equal(l[2].n, 3);
	for (int k = 0; k < 3; k++)   /* distinct hashes in an empty range: exactly OpenPAI's ports */
		assert_int_equal(l[2].ports[k], rt_port_hash(uid, "nccl", k, 20000, 40000));
	/* the same uid twice is refused */
	struct gerr err;
	assert_int_equal(rt_ports_take(p, uid, &r, &a, &l, &n, &err), GERR_CONFLICT);
	assert_non_null(strstr(err.msg, "already holds"));
	arena_fini(&a);
	rt_ports_free(p);
}

static void test_ports_small_range_fills_and_frees(void **state)
{
	(void)state;
	struct rt_ports *p = rt_ports_new(100, 110);     /* 10 ports */
	struct spec_port two[] = { { "ssh", 1 }, { "http", 1 } };
	struct spec_role r = port_role(two, 2);
	struct arena a;
	arena_init(&a, 1024);
	int seen[10] = { 0 };
	char uid[32];
	for (int i = 0; i < 5; i++) {
		struct rt_port_list *l;
		size_t n;
		snprintf(uid, sizeof(uid), "u%d", i);
		assert_int_equal(rt_ports_take(p, uid, &r, &a, &l, &n, NULL), 0);
		for (size_t j = 0; j < n; j++) {
			assert_in_range(l[j].ports[0], 100, 109);
			assert_int_equal(seen[l[j].ports[0] - 100]++, 0);
		}
	}
	struct rt_port_list *l;
	size_t n;
	struct gerr err;
	assert_int_equal(rt_ports_take(p, "u5", &r, &a, &l, &n, &err), GERR_CONFLICT);
	assert_non_null(strstr(err.msg, "no room"));
	rt_ports_release(p, "u3");
	rt_ports_release(p, "u3");                       /* harmless */
	rt_ports_release(p, "nobody");
	assert_int_equal(rt_ports_take(p, "u5", &r, &a, &l, &n, NULL), 0);
	arena_fini(&a);
	rt_ports_free(p);
	rt_ports_free(NULL);
	assert_null(rt_ports_new(10, 10));
	assert_null(rt_ports_new(0, 10));
	assert_null(rt_ports_new(10, 70000));
}

static void test_ports_hold_for_recovery(void **state)
{
	(void)state;
	struct rt_ports *p = rt_ports_new(30000, 30100);
	int mine[] = { 30001, 30002, 30002 };
	assert_int_equal(rt_ports_hold(p, "old", mine, 3), 0);
	assert_int_equal(rt_ports_hold(p, "old", mine, 2), 0);  /* again: nothing changes */
	int theirs[] = { 30050, 30002 };
	assert_int_equal(rt_ports_hold(p, "other", theirs, 2), GERR_CONFLICT);
	int out[] = { 40000 };
	assert_int_equal(rt_ports_hold(p, "other", out, 1), GERR_INVALID);
	/* the refused hold took nothing: 30050 is still free */
	int free1[] = { 30050 };
	assert_int_equal(rt_ports_hold(p, "third", free1, 1), 0);
	/* a take never hands out held ports */
	struct spec_port many[] = { { "p", 97 } };
	struct spec_role r = port_role(many, 1);
	struct arena a;
	arena_init(&a, 4096);
	struct rt_port_list *l;
	size_t n;
	assert_int_equal(rt_ports_take(p, "new", &r, &a, &l, &n, NULL), 0);
	for (size_t k = 0; k < l[0].n; k++) {
		assert_int_not_equal(l[0].ports[k], 30001);
		assert_int_not_equal(l[0].ports[k], 30002);
		assert_int_not_equal(l[0].ports[k], 30050);
	}
	/* the range is now full */
	struct spec_port one[] = { { "p", 1 } };
	r = port_role(one, 1);
	assert_int_equal(rt_ports_take(p, "late", &r, &a, &l, &n, NULL), GERR_CONFLICT);
	rt_ports_release(p, "old");
	assert_int_equal(rt_ports_take(p, "late", &r, &a, &l, &n, NULL), 0);
	assert_true(l[0].ports[0] == 30001 || l[0].ports[0] == 30002);
	arena_fini(&a);
	rt_ports_free(p);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Thousands of live tasks, random takes and releases, against a reference owner table. */
static void test_ports_churn_never_double_hands(void **state)
{
	(void)state;
	enum { START = 20000, END = 45000, SLOTS = 6000, OPS = 40000 };
	struct rt_ports *p = rt_ports_new(START, END);
	int *owner = calloc(END - START, sizeof(int));          /* slot+1 holding the port, or 0 */
	struct { bool live; int ports[5]; } *slot = calloc(SLOTS, sizeof(*slot));
	struct spec_role r = port_role(PORTS3, 3);
	struct arena a;
	arena_init(&a, 1 << 16);
	char uid[64];
	size_t live = 0, live_ports = 0;
	for (int op = 0; op < OPS; op++) {
		int s = (int)(rng() % SLOTS);
		snprintf(uid, sizeof(uid), "%08x-attempt-%d", (unsigned)(rng() & 0xffffffff), s);
		if (!slot[s].live) {
			/* the uid only needs to be unique among live ones; key it by slot */
			snprintf(uid, sizeof(uid), "slot-%d", s);
			struct rt_port_list *l;
			size_t n;
			struct gerr err;
			int rc = rt_ports_take(p, uid, &r, &a, &l, &n, &err);
			if (rc) {
				assert_int_equal(rc, GERR_CONFLICT);
				assert_true(live_ports + 5 > (size_t)(END - START));
				continue;
			}
			int k = 0;
			for (size_t j = 0; j < n; j++)
				for (size_t q = 0; q < l[j].n; q++) {
					int port = l[j].ports[q];
					assert_in_range(port, START, END - 1);
					if (owner[port - START])
						fail_msg("port %d handed to slot %d while slot %d holds it", port, s,
						         owner[port - START] - 1);
					owner[port - START] = s + 1;
					slot[s].ports[k++] = port;
				}
			assert_int_equal(k, 5);
			slot[s].live = true;
			live++;
			live_ports += 5;
		} else {
			snprintf(uid, sizeof(uid), "slot-%d", s);
			rt_ports_release(p, uid);
			for (int k = 0; k < 5; k++) {
				assert_int_equal(owner[slot[s].ports[k] - START], s + 1);
				owner[slot[s].ports[k] - START] = 0;
			}
			slot[s].live = false;
			live--;
			live_ports -= 5;
		}
		if (op % 4096 == 0)
			arena_reset(&a);
	}
	assert_true(live > 1000);              /* thousands of live tasks at the end */
	arena_fini(&a);
	free(owner);
	free(slot);
	rt_ports_free(p);
}

/* ---- environment ----------------------------------------------------------------- */

static const char TWO_ROLES[] =
	"protocolVersion: 2\n"
	"name: job\n"
	"type: job\n"
	"prerequisites:\n"
	"  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}\n"
	"secrets:\n"
	"  token: s3cr3t-T0ken\n"
	"  list: [zero, one]\n"
	"  nested: {a: {b: deep}}\n"
	"  html: 'a&b<c>\"q'\n"
	"taskRoles:\n"
	"  ps_server:\n"
	"    instances: 1\n"
	"    dockerImage: img\n"
	"    resourcePerInstance: {cpu: 1, memoryMB: 1024, gpu: 0}\n"
	"    commands: ['echo ps <% $secrets.token %>']\n"
	"  worker:\n"
	"    instances: 2\n"
	"    dockerImage: img\n"
	"    extraContainerOptions: {shmMB: 1024}\n"
	"    resourcePerInstance: {cpu: 4, memoryMB: 8192, gpu: 2, ports: {nccl: 2}}\n"
	"    commands:\n"
	"      - echo \"<% $secrets.token %> <% $secrets.list[1] %> <% $secrets.nested.a.b %>\"\n"
	"      - echo '<% $secrets.html %>' '[<% $parameters.missing %>]'\n";

struct peers {
	struct rt_port_list lists[3][3];
	int ports[3][3][2];
	struct rt_peer peer[3];
};

static void make_peers(struct peers *pp)
{
	/* ps_server-0 (ssh, http), worker-1 and worker-0 (nccl x2, ssh, http), given out of order */
	static const char *roles[3] = { "ps_server", "worker", "worker" };
	static const int64_t index[3] = { 0, 1, 0 };
	static const char *ips[3] = { "10.0.0.1", "10.0.0.3", "10.0.0.2" };
	for (int t = 0; t < 3; t++) {
		int nl = 0;
		if (t > 0) {
			pp->ports[t][nl][0] = 31000 + t * 10;
			pp->ports[t][nl][1] = 31001 + t * 10;
			pp->lists[t][nl] = (struct rt_port_list){ "nccl", pp->ports[t][nl], 2 };
			nl++;
		}
		pp->ports[t][nl][0] = 32000 + t;
		pp->lists[t][nl] = (struct rt_port_list){ "ssh", pp->ports[t][nl], 1 };
		nl++;
		pp->ports[t][nl][0] = 33000 + t;
		pp->lists[t][nl] = (struct rt_port_list){ "http", pp->ports[t][nl], 1 };
		nl++;
		pp->peer[t] = (struct rt_peer){ roles[t], index[t], ips[t], pp->lists[t], (size_t)nl };
	}
}

static const char *BASE[] = { "PATH=/usr/bin:/bin", "HOME=/home/alice", "CUDA_VISIBLE_DEVICES=0,1,2,3",
	                          "PAI_USER_NAME=mallory", "LANG=C.UTF-8", "HOME=/root", "NOEQUALS", NULL };

static void test_env_two_roles(void **state)
{
	(void)state;
	struct spec_job *job = load(TWO_ROLES);
	struct peers pp;
	make_peers(&pp);
	int32_t gpus[] = { 2, 3 };
	struct rt_env_ctx c = {
		.job = job, .user = "alice", .framework_name = "0123456789abcdef0123456789abcdef", .fw_attempt = 1,
		.fw_attempt_uid = "fw-uid", .role = "worker", .index = 1, .task_attempt = 2, .task_uid = "pod-uid",
		.node_name = "node1", .host_ip = "10.0.0.3", .gpus = gpus, .ngpus = 2, .gpu_sku = true,
		.peers = pp.peer, .npeers = 3, .rest_server_uri = "http://127.0.0.1:9186", .work_dir = "/d/jobs/w-1",
		.base = BASE,
	};
	struct arena a;
	arena_init(&a, 4096);
	const char **env;
	struct gerr err;
	assert_int_equal(rt_env(&c, &a, &env, &err), 0);

	/* base first, in order, each name once (last wins), ours override */
	assert_string_equal(env[0], "PATH=/usr/bin:/bin");
	assert_string_equal(env[1], "HOME=/root");
	assert_string_equal(env[2], "LANG=C.UTF-8");
	assert_null(env_get(env, "NOEQUALS"));

	/* FrameworkController */
	expect_env(env, "FC_FRAMEWORK_NAME", "0123456789abcdef0123456789abcdef");
	expect_env(env, "FC_TASKROLE_NAME", "worker");
	expect_env(env, "FC_TASK_INDEX", "1");
	expect_env(env, "FC_FRAMEWORK_ATTEMPT_ID", "1");
	expect_env(env, "FC_FRAMEWORK_ATTEMPT_INSTANCE_UID", "1_fw-uid");
	expect_env(env, "FC_TASK_ATTEMPT_ID", "2");
	expect_env(env, "FC_POD_UID", "pod-uid");
	expect_env(env, "FC_TASK_ATTEMPT_INSTANCE_UID", "2_pod-uid");
	expect_env(env, "FC_POD_NAME", "0123456789abcdef0123456789abcdef-worker-1");

	/* rest-server: names as written (ps_server) */
	expect_env(env, "PAI_FRAMEWORK_NAME", "alice~job");
	expect_env(env, "PAI_JOB_NAME", "alice~job");
	expect_env(env, "PAI_USER_NAME", "alice");
	expect_env(env, "PAI_USERNAME", "alice");
	expect_env(env, "PAI_DEFAULT_FS_URI", "");
	expect_env(env, "PAI_TASK_ROLE_COUNT", "2");
	expect_env(env, "PAI_TASK_ROLE_LIST", "ps_server,worker");
	expect_env(env, "PAI_JOB_TASK_ROLE_LIST", "ps_server,worker");
	expect_env(env, "PAI_VIRTUAL_CLUSTER", "default");
	expect_env(env, "PAI_TASK_ROLE_TASK_COUNT_ps_server", "1");
	expect_env(env, "PAI_TASK_ROLE_TASK_COUNT_worker", "2");
	expect_env(env, "PAI_RESOURCE_ps_server", "0,1,1024,0");
	expect_env(env, "PAI_RESOURCE_worker", "2,4,8192,1024");
	expect_env(env, "PAI_MIN_FAILED_TASK_COUNT_ps_server", "1");
	expect_env(env, "PAI_MIN_SUCCEEDED_TASK_COUNT_ps_server", "1");
	expect_env(env, "PAI_MIN_SUCCEEDED_TASK_COUNT_worker", "2");
	expect_env(env, "PAI_TASKS_NUM", "3");
	expect_env(env, "PAI_JOB_TASK_COUNT", "3");
	expect_env(env, "PAI_TASK_ROLES_NUM", "2");
	expect_env(env, "PAI_JOB_TASK_ROLE_COUNT", "2");
	expect_env(env, "PAI_CURRENT_TASK_ROLE_NAME", "worker");
	expect_env(env, "PAI_TASK_ROLE_NAME", "worker");
	expect_env(env, "PAI_CURRENT_TASK_ROLE_CURRENT_TASK_INDEX", "1");
	expect_env(env, "PAI_TASK_INDEX", "1");
	expect_env(env, "REST_SERVER_URI", "http://127.0.0.1:9186");
	expect_env(env, "GANG_ALLOCATION", "true");
	assert_null(env_get(env, "PAI_TASK_ROLE_TASK_COUNT_psserver"));

	/* the runtime: FC names (psserver) */
	expect_env(env, "PAI_HOST_IP_psserver_0", "10.0.0.1");
	expect_env(env, "PAI_PORT_LIST_psserver_0_ssh", "32000");
	expect_env(env, "PAI_psserver_0_http_PORT", "33000");
	expect_env(env, "PAI_TASK_ROLE_psserver_HOST_LIST", "10.0.0.1:33000");
	expect_env(env, "PAI_HOST_IP_worker_0", "10.0.0.2");
	expect_env(env, "PAI_HOST_IP_worker_1", "10.0.0.3");
	expect_env(env, "PAI_PORT_LIST_worker_1_nccl", "31010,31011");
	expect_env(env, "PAI_worker_1_nccl_PORT", "31010,31011");
	expect_env(env, "PAI_TASK_ROLE_worker_HOST_LIST", "10.0.0.2:33002,10.0.0.3:33001");
	expect_env(env, "PAI_TASK_ROLE_INSTANCES", "psserver:0,worker:0,worker:1");
	assert_null(env_get(env, "PAI_HOST_IP_ps_server_0"));
	assert_null(env_get(env, "PAI_TASK_ROLE_ps_server_HOST_LIST"));

	/* the current container */
	expect_env(env, "PAI_CURRENT_CONTAINER_IP", "10.0.0.3");
	expect_env(env, "PAI_CURRENT_CONTAINER_PORT", "33001");
	expect_env(env, "PAI_CONTAINER_HOST_IP", "10.0.0.3");
	expect_env(env, "PAI_CONTAINER_HOST_PORT", "33001");
	expect_env(env, "PAI_CONTAINER_SSH_PORT", "32001");
	expect_env(env, "PAI_CONTAINER_HOST_nccl_PORT_LIST", "31010,31011");
	expect_env(env, "PAI_CONTAINER_HOST_PORT_LIST", "nccl:31010,31011;ssh:32001;http:33001;");
	expect_env(env, "PAI_WORK_DIR", "/d/jobs/w-1");

	/* GPUs: exactly the task's, numbered as NVML does */
	expect_env(env, "NVIDIA_VISIBLE_DEVICES", "2,3");
	expect_env(env, "CUDA_VISIBLE_DEVICES", "2,3");
	expect_env(env, "CUDA_DEVICE_ORDER", "PCI_BUS_ID");

	/* no name twice, no secret anywhere */
	for (size_t i = 0; env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		assert_non_null(eq);
		char nm[256];
		snprintf(nm, sizeof(nm), "%.*s", (int)(eq - env[i]), env[i]);
		(void)env_get(env, nm);
		assert_null(strstr(env[i], "s3cr3t"));
		assert_null(strstr(env[i], "deep"));
	}
	arena_fini(&a);
	spec_job_free(job);
}

static void test_env_without_gpus(void **state)
{
	(void)state;
	struct spec_job *job = load(TWO_ROLES);
	struct peers pp;
	make_peers(&pp);
	int32_t gpus[] = { 0 };
	struct rt_env_ctx c = { .job = job, .user = "alice", .framework_name = "f", .role = "ps_server", .index = 0,
		                    .task_uid = "u", .host_ip = "10.0.0.1", .peers = pp.peer, .npeers = 3,
		                    .base = BASE };
	struct arena a;
	arena_init(&a, 4096);
	const char **env;
	assert_int_equal(rt_env(&c, &a, &env, NULL), 0);
	expect_env(env, "NVIDIA_VISIBLE_DEVICES", "none");
	expect_env(env, "CUDA_VISIBLE_DEVICES", "");          /* present and empty: CUDA sees nothing */
	assert_null(env_get(env, "CUDA_DEVICE_ORDER"));
	assert_null(env_get(env, "REST_SERVER_URI"));
	assert_null(env_get(env, "PAI_WORK_DIR"));
	expect_env(env, "PAI_CONTAINER_SSH_PORT", "32000");

	/* leaf cells that are CPUs make no GPU visible either */
	c.gpus = gpus;
	c.ngpus = 1;
	c.gpu_sku = false;
	assert_int_equal(rt_env(&c, &a, &env, NULL), 0);
	expect_env(env, "NVIDIA_VISIBLE_DEVICES", "none");

	/* gpu: 0 on a GPU SKU: the scheduler still gives it a leaf cell (for its
	 * cpu and memory), but no GPU is its (OpenPAI: gpu == 0 -> none) */
	c.gpu_sku = true;
	assert_int_equal(rt_env(&c, &a, &env, NULL), 0);
	expect_env(env, "NVIDIA_VISIBLE_DEVICES", "none");
	expect_env(env, "CUDA_VISIBLE_DEVICES", "");
	assert_null(env_get(env, "CUDA_DEVICE_ORDER"));
	expect_env(env, "PAI_RESOURCE_ps_server", "0,1,1024,0");

	/* a task that is not among the peers, a role the job lacks */
	struct gerr err;
	c.index = 7;
	assert_int_equal(rt_env(&c, &a, &env, &err), GERR_INVALID);
	assert_non_null(strstr(err.msg, "ps_server-7"));
	c.role = "nope";
	assert_int_equal(rt_env(&c, &a, &env, &err), GERR_INVALID);
	arena_fini(&a);
	spec_job_free(job);
}

static void test_env_unplaced_peers(void **state)
{
	(void)state;
	/* gangAllocation: false — peers may not be placed yet */
	struct spec_job *job = load(TWO_ROLES);
	struct peers pp;
	make_peers(&pp);
	pp.peer[0].host_ip = NULL;
	pp.peer[0].ports = NULL;
	pp.peer[0].nports = 0;
	struct rt_env_ctx c = { .job = job, .user = "alice", .framework_name = "f", .role = "worker", .index = 0,
		                    .task_uid = "u", .host_ip = "10.0.0.2", .peers = pp.peer, .npeers = 3 };
	struct arena a;
	arena_init(&a, 4096);
	const char **env;
	assert_int_equal(rt_env(&c, &a, &env, NULL), 0);
	assert_null(env_get(env, "PAI_HOST_IP_psserver_0"));
	assert_null(env_get(env, "PAI_PORT_LIST_psserver_0_ssh"));
	expect_env(env, "PAI_TASK_ROLE_psserver_HOST_LIST", "");
	expect_env(env, "PAI_TASK_ROLE_INSTANCES", "psserver:0,worker:0,worker:1");
	arena_fini(&a);
	spec_job_free(job);
}

/* ---- the script ------------------------------------------------------------------- */

static void test_script_secrets(void **state)
{
	(void)state;
	struct spec_job *job = load(TWO_ROLES);
	struct arena a;
	arena_init(&a, 4096);
	char *script;
	assert_int_equal(rt_script(job, role_of(job, "worker"), &a, &script, NULL), 0);
	assert_true(!strncmp(script, "#!/bin/bash\n", 12));
	assert_non_null(strstr(script, "\nset -o errexit\nset -o nounset\nset -o pipefail\n"));
	/* filled from the secrets, not HTML-escaped; an unknown tag renders empty */
	assert_non_null(strstr(script, "echo \"s3cr3t-T0ken one deep\"\n"));
	assert_non_null(strstr(script, "echo 'a&b<c>\"q' '[]'"));
	assert_null(strstr(script, "<%"));
	int st;
	char *out = run_bash(script, &st);
	assert_int_equal(st, 0);
	assert_string_equal(out, "s3cr3t-T0ken one deep\na&b<c>\"q []\n");
	free(out);
	arena_fini(&a);
	spec_job_free(job);

	/* without secrets the runtime leaves the text as it is */
	job = load("protocolVersion: 2\nname: j\ntype: job\n"
	           "prerequisites: [{name: img, type: dockerimage, uri: u}]\n"
	           "taskRoles:\n  w:\n    dockerImage: img\n"
	           "    resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}\n"
	           "    commands: ['echo \"<% $parameters.missing %>\"']\n");
	arena_init(&a, 4096);
	assert_int_equal(rt_script(job, role_of(job, "w"), &a, &script, NULL), 0);
	assert_non_null(strstr(script, "echo \"<% $parameters.missing %>\""));
	arena_fini(&a);
	spec_job_free(job);
}

static const char PLUGINS[] =
	"protocolVersion: 2\n"
	"name: plugged\n"
	"type: job\n"
	"parameters: {greeting: hello}\n"
	"secrets: {pw: 'p@ss'}\n"
	"prerequisites:\n"
	"  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}\n"
	"  - {name: ds, type: data, uri: ['https://example.com/a.tgz']}\n"
	"  - name: hook\n"
	"    type: script\n"
	"    plugin: com.microsoft.pai.runtimeplugin.cmd\n"
	"    callbacks:\n"
	"      - {event: taskStarts, commands: ['echo P-pre']}\n"
	"      - {event: taskSucceeds, commands: ['echo P-post']}\n"
	"taskRoles:\n"
	"  train_er:\n"
	"    dockerImage: img\n"
	"    data: ds\n"
	"    prerequisites: [hook]\n"
	"    resourcePerInstance: {cpu: 1, memoryMB: 512, gpu: 0}\n"
	"    commands: ['echo user']\n"
	"extras:\n"
	"  com.microsoft.pai.runtimeplugin:\n"
	"    - plugin: cmd\n"
	"      parameters:\n"
	"        preCommands: ['echo A-pre <% $parameters.greeting %> <% $data.uri[0] %> <% $secrets.pw %>']\n"
	"        postCommands: ['echo A-post']\n"
	"    - plugin: ssh\n"
	"      parameters: {jobssh: true}\n"
	"    - plugin: cmd\n"
	"      taskroles: [other]\n"
	"      parameters: {preCommands: ['echo NOT-ME']}\n"
	"    - plugin: cmd\n"
	"      taskroles: [train_er]\n"
	"      failurePolicy: ignore\n"
	"      parameters:\n"
	"        callbacks:\n"
	"          - {event: containerStarts, commands: ['echo B-pre', 'false', 'echo B-still']}\n"
	"          - {event: containerEnds, commands: ['echo B-post']}\n";

static void test_script_plugins_order(void **state)
{
	(void)state;
	struct spec_job *job = load(PLUGINS);
	struct arena a;
	arena_init(&a, 4096);
	char *script;
	struct gerr err;
	int rc = rt_script(job, role_of(job, "train_er"), &a, &script, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(script, "runtime plugin \"ssh\" is not supported on this executor"));
	assert_null(strstr(script, "NOT-ME"));
	int st;
	char *out = run_bash(script, &st);
	assert_int_equal(st, 0);
	assert_string_equal(out, "P-pre\n"
	                         "A-pre hello https://example.com/a.tgz p@ss\n"
	                         "B-pre\nB-still\n"
	                         "user\n"
	                         "B-post\nA-post\nP-post\n");
	free(out);
	arena_fini(&a);
	spec_job_free(job);
}

static void test_script_failures(void **state)
{
	(void)state;
	/* a failing pre-command (failurePolicy fail) stops the task before the user's command */
	struct spec_job *job = load("protocolVersion: 2\nname: j\ntype: job\n"
	                            "prerequisites: [{name: img, type: dockerimage, uri: u}]\n"
	                            "taskRoles:\n  w:\n    dockerImage: img\n"
	                            "    resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}\n"
	                            "    commands: ['echo user', 'exit 3']\n"
	                            "extras:\n  com.microsoft.pai.runtimeplugin:\n"
	                            "    - {plugin: cmd, parameters: {preCommands: ['echo pre', 'exit 7', 'echo no']}}\n");
	struct arena a;
	arena_init(&a, 4096);
	char *script;
	assert_int_equal(rt_script(job, role_of(job, "w"), &a, &script, NULL), 0);
	int st;
	char *out = run_bash(script, &st);
	assert_int_equal(st, 7);
	assert_string_equal(out, "pre\n");
	free(out);
	spec_job_free(job);

	/* the user's exit status is the script's; post-commands only after success */
	job = load("protocolVersion: 2\nname: j\ntype: job\n"
	           "prerequisites: [{name: img, type: dockerimage, uri: u}]\n"
	           "taskRoles:\n  w:\n    dockerImage: img\n"
	           "    resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}\n"
	           "    commands: ['echo user', 'exit 3']\n"
	           "extras:\n  com.microsoft.pai.runtimeplugin:\n"
	           "    - {plugin: cmd, parameters: {postCommands: ['echo post']}}\n");
	assert_int_equal(rt_script(job, role_of(job, "w"), &a, &script, NULL), 0);
	out = run_bash(script, &st);
	assert_int_equal(st, 3);
	assert_string_equal(out, "user\n");
	free(out);
	spec_job_free(job);

	/* unknown plugin, unresolved reference, mixed cmd forms */
	static const char *bad[][2] = {
		{ "{plugin: nosuch}", "does not exist" },
		{ "{plugin: cmd, parameters: {preCommands: ['echo <% $parameters.nope %>']}}", "$parameters.nope" },
		{ "{plugin: cmd, parameters: {preCommands: [a], callbacks: []}}", "callbacks cannot be used" },
		{ "{plugin: git, parameters: {}}", "repo_uri is required" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[1024];
		snprintf(yaml, sizeof(yaml),
		         "protocolVersion: 2\nname: j\ntype: job\n"
		         "prerequisites: [{name: img, type: dockerimage, uri: u}]\n"
		         "taskRoles:\n  w:\n    dockerImage: img\n"
		         "    resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}\n"
		         "    commands: [x]\n"
		         "extras:\n  com.microsoft.pai.runtimeplugin:\n    - %s\n", bad[i][0]);
		job = load(yaml);
		struct gerr err;
		assert_int_equal(rt_script(job, role_of(job, "w"), &a, &script, &err), GERR_INVALID);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("case %zu: %s", i, err.msg);
		spec_job_free(job);
	}

	/* git: a clone before the command, into clone_dir */
	job = load("protocolVersion: 2\nname: j\ntype: job\n"
	           "prerequisites: [{name: img, type: dockerimage, uri: u}]\n"
	           "taskRoles:\n  w:\n    dockerImage: img\n"
	           "    resourcePerInstance: {cpu: 1, memoryMB: 1, gpu: 0}\n"
	           "    commands: [x]\n"
	           "extras:\n  com.microsoft.pai.runtimeplugin:\n"
	           "    - {plugin: git, parameters: {repo_uri: 'https://h/r.git', options: ['--depth=1'], "
	           "clone_dir: /tmp/code}}\n");
	assert_int_equal(rt_script(job, role_of(job, "w"), &a, &script, NULL), 0);
	assert_non_null(strstr(script, "git clone --depth=1 -- 'https://h/r.git' \"$__gantry_dir\""));
	assert_non_null(strstr(script, "__gantry_dir=/tmp/code\n"));
	assert_true(strstr(script, "git clone") < strstr(script, "\nx\n"));
	spec_job_free(job);
	arena_fini(&a);
}

/* ---- exit codes ------------------------------------------------------------------- */

static void test_exit_spec_table(void **state)
{
	(void)state;
	struct rt_exit_spec s;
	rt_exit_spec_for(220, &s);
	assert_int_equal(s.code, 220);
	assert_string_equal(s.phrase, "UserCommandExitWithError");
	assert_string_equal(s.issuer, "USER_CONTAINER");
	assert_string_equal(s.type, "USER_FAILURE");
	assert_string_equal(s.stage, "RUNNING");
	assert_int_equal(s.behavior, RT_PERMANENT);
	assert_string_equal(s.reaction, "NEVER_RETRY");
	assert_string_equal(s.reason, "User command is invalid");
	assert_string_equal(s.repro[0], "Start a job with invalid command");
	assert_null(s.repro[1]);
	assert_string_equal(s.solution[1], "Check the PATH environment variable in the container");
	assert_null(s.solution[2]);

	rt_exit_spec_for(251, &s);
	assert_int_equal(s.behavior, RT_TRANSIENT_CONFLICT);
	assert_string_equal(s.reaction, "ALWAYS_BACKOFF_RETRY");
	rt_exit_spec_for(0, &s);
	assert_string_equal(s.phrase, "Succeeded");
	rt_exit_spec_for(-1200, &s);
	assert_string_equal(s.phrase, "UserContainerDockerOOMKilled");
	assert_int_equal(s.behavior, RT_PERMANENT);
	rt_exit_spec_for(250, &s);
	assert_null(s.repro[0]);                          /* no repro in the file: an empty list */

	/* fallbacks keep the raw code */
	rt_exit_spec_for(300, &s);
	assert_int_equal(s.code, 300);
	assert_string_equal(s.phrase, "PAIRuntimeExitAbnormally");
	rt_exit_spec_for(1, &s);
	assert_string_equal(s.phrase, "PAIRuntimeExitAbnormally");
	rt_exit_spec_for(-5, &s);
	assert_int_equal(s.code, -5);
	assert_string_equal(s.phrase, "ContainerUndefinedNegativeExitCode");
	assert_int_equal(s.behavior, RT_UNKNOWN);

	/* codes and phrases are unique (the file's schema says so) */
	static const int codes[] = { 0, -100, -101, -110, -111, -200, -210, -220, -300, -1000, -1001, -1002, -1003,
		                         -1004, -1005, -1006, -1300, -1200, -1201, -1202, -1203, -1204, 130, 131, 132,
		                         134, 135, 136, 137, 139, 141, 143, 220, 221, 222, 223, 224, 225, 226, 227,
		                         228, 229, 230, 231, 232, 233, 234, 249, 250, 251, 252, 253, 254, 255, -8000,
		                         256 };
	size_t n = sizeof(codes) / sizeof(codes[0]);
	const char *phrases[64];
	for (size_t i = 0; i < n; i++) {
		rt_exit_spec_for(codes[i], &s);
		assert_int_equal(s.code, codes[i]);
		assert_non_null(s.issuer);
		assert_non_null(s.reason);
		phrases[i] = s.phrase;
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(phrases[j], s.phrase);
	}
}

struct exit_case {
	int user_exit;
	bool oom;
	const char *user_log, *platform_log;
	int code;
	const char *phrase;
	enum rt_behavior behavior;
	const char *matched;          /* matchedUserLogString; "": none; NULL: not checked */
};

static const struct exit_case EXITS[] = {
	{ 0, false, "all good\n", NULL, 0, "Succeeded", RT_UNKNOWN, NULL },
	{ 0, true, "", NULL, 0, "Succeeded", RT_UNKNOWN, NULL },
	{ 1, false, "step 1\nboom\n", NULL, 255, "PAIRuntimeUnknownFailed", RT_UNKNOWN, "" },
	{ 127, false, "/bin/bash: line 3: pythn: command not found\n", NULL, 220, "UserCommandExitWithError",
	  RT_PERMANENT, "command not found" },
	{ 127, false, "no such thing\n", NULL, 255, "PAIRuntimeUnknownFailed", RT_UNKNOWN, "" },
	{ 1, false, "command not found\n", NULL, 255, "PAIRuntimeUnknownFailed", RT_UNKNOWN, "" },
	{ 137, false, "Killed\n", NULL, 137, "ContainerSigKillReceived", RT_TRANSIENT, "" },
	{ 143, false, "", NULL, 143, "ContainerSigTermReceived", RT_TRANSIENT, "" },
	{ 130, false, NULL, NULL, 130, "ContainerSigIntReceived", RT_TRANSIENT, "" },
	{ 139, false, "Segmentation fault (core dumped)\n", NULL, 139, "ContainerSigSegvReceived", RT_PERMANENT,
	  "" },
	{ 134, false, "", NULL, 134, "ContainerSigAbrtReceived", RT_UNKNOWN, "" },
	{ 1, false,
	  "2019-01-01 tensorflow/core/common_runtime/bfc_allocator.cc:275] Ran out of memory\n"
	  "Traceback (most recent call last):\n"
	  "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor with "
	  "shape[256,1024]\n",
	  NULL, 221, "ContainerTensorflowOOMKilled", RT_PERMANENT, NULL },
	{ 1, false, "RuntimeError: cuda runtime error (2) : out of memory at /pytorch/aten/src/THC/THCGeneral.cpp:844\n",
	  NULL, 226, "ContainerCudaOOMKilled", RT_PERMANENT, "cuda runtime error (2) : out of memory" },
	{ 1, false, "ImportError: No module named foo\n", NULL, 232, "ContainerImportError", RT_PERMANENT,
	  "ImportError: No module named foo\n" },
	{ 1, false, "FileNotFoundError: [Errno 2] No such file or directory: 'x'\n", NULL, 229,
	  "ContainerIncorrectDataModelError", RT_PERMANENT, "FileNotFoundError: [Errno 2] No such file or directory" },
	{ 1, false, "CUDA_ERROR_ECC_UNCORRECTABLE\n", NULL, 223, "ContainerCudaUncorrectableECCError", RT_TRANSIENT,
	  "CUDA_ERROR_ECC_UNCORRECTABLE\n" },
	{ 10, false, "", "[2020] SSH barrier reaches max retry count\n", 249, "PAIRuntimeSSHBarrierTimeout",
	  RT_PERMANENT, "" },
	{ 10, false, "", "other\n", 255, "PAIRuntimeUnknownFailed", RT_UNKNOWN, "" },
	{ 137, true, "Killed\n", NULL, -1200, "UserContainerDockerOOMKilled", RT_PERMANENT, "" },
	{ 1, true, "MemoryError\n", NULL, -1200, "UserContainerDockerOOMKilled", RT_PERMANENT, "" },
};

/* The YAML between the tags parses, with the expected keys. */
static void check_diag(const char *diag, int code, int user_exit, const char *matched)
{
	const char *start = "[PAI_RUNTIME_ERROR_START]\n", *end = "\n[PAI_RUNTIME_ERROR_END]";
	assert_true(!strncmp(diag, start, strlen(start)));
	size_t dl = strlen(diag);
	assert_true(dl < 4096);
	assert_true(dl > strlen(end) && !strcmp(diag + dl - strlen(end), end));
	struct spec_job *y = spec_job_new();
	size_t yl = dl - strlen(start) - strlen(end);
	if (spec_yaml_load(y, diag + strlen(start), yl))
		fail_msg("diagnostics are not YAML:\n%s", diag);
	const struct spec_value *v = spec_value_get(y->root, "exitCode");
	assert_non_null(v);
	assert_int_equal((int)v->num, code);
	v = spec_value_get(y->root, "originUserExitCode");
	assert_int_equal((int)v->num, user_exit);
	v = spec_value_get(y->root, "matchedUserLogString");
	if (matched && *matched) {
		assert_non_null(v);
		assert_string_equal(v->str, matched);
	} else if (matched) {
		assert_null(v);
	}
	const struct spec_value *logs = spec_value_get(y->root, "errorLogs");
	assert_non_null(logs);
	assert_non_null(spec_value_get(logs, "user"));
	assert_non_null(spec_value_get(logs, "platform"));
	spec_job_free(y);
}

static void run_exit_cases(const struct rt_classifier *k)
{
	for (size_t i = 0; i < sizeof(EXITS) / sizeof(EXITS[0]); i++) {
		const struct exit_case *e = &EXITS[i];
		struct rt_exit_input in = { .user_exit = e->user_exit, .oom = e->oom, .user_log = e->user_log,
			                        .user_log_len = e->user_log ? strlen(e->user_log) : 0,
			                        .platform_log = e->platform_log,
			                        .platform_log_len = e->platform_log ? strlen(e->platform_log) : 0,
			                        .classifier = k };
		struct rt_exit_result r;
		rt_exit_classify(&in, &r);
		if (r.code != e->code)
			fail_msg("case %zu: exit %d gave %d %s, expected %d", i, e->user_exit, r.code, r.phrase, e->code);
		assert_string_equal(r.phrase, e->phrase);
		assert_int_equal(r.behavior, e->behavior);
		if (e->user_exit == 0) {
			assert_string_equal(r.diagnostics, "");
			continue;
		}
		/* the diagnostics keep the runtime's own code, also under an OOM kill */
		int runtime_code = e->oom ? (e->user_exit == 137 ? 137 : 255) : e->code;
		check_diag(r.diagnostics, runtime_code, e->user_exit, e->matched);
	}
}

static void test_exit_classify(void **state)
{
	(void)state;
	run_exit_cases(NULL);
	struct rt_classifier *k = rt_classifier_new();
	assert_non_null(k);
	run_exit_cases(k);
	rt_classifier_free(k);
	rt_classifier_free(NULL);
}

static void test_exit_diagnostics_shape(void **state)
{
	(void)state;
	/* the tail: the last 15 lines of the user log */
	struct buf b = BUF_INIT;
	for (int i = 1; i <= 40; i++)
		buf_printf(&b, "line %d\n", i);
	struct rt_exit_input in = { .user_exit = 1, .user_log = b.data, .user_log_len = b.len };
	struct rt_exit_result r;
	rt_exit_classify(&in, &r);
	assert_int_equal(r.code, 255);
	assert_non_null(strstr(r.diagnostics, "  user: |-\n    line 26\n"));
	assert_non_null(strstr(r.diagnostics, "    line 40\n"));
	assert_null(strstr(r.diagnostics, "line 25\n"));
	assert_non_null(strstr(r.diagnostics, "  platform: \"\"\n"));

	/* around a match: three lines before it */
	buf_clear(&b);
	for (int i = 1; i <= 40; i++)
		buf_printf(&b, i == 20 ? "ImportError: no module named x\n" : "line %d\n", i);
	in.user_log = b.data;
	in.user_log_len = b.len;
	rt_exit_classify(&in, &r);
	assert_int_equal(r.code, 232);
	assert_non_null(strstr(r.diagnostics, "  user: |-\n    line 17\n    line 18\n    line 19\n    ImportError"));
	/* (?s) ".*": the match runs to the end of the log, cut at 2048 bytes */
	check_diag(r.diagnostics, 232, 1, strstr(b.data, "ImportError"));

	/* long lines: everything still fits in 4096 bytes and stays YAML */
	buf_clear(&b);
	for (int i = 0; i < 200; i++) {
		for (int j = 0; j < 300; j++)
			buf_putc(&b, (char)('a' + (i + j) % 26));
		buf_puts(&b, i == 150 ? " \"quoted\" \\ tab\t\x01 segmentation fault é\n" : "\n");
	}
	in.user_log = b.data;
	in.user_log_len = b.len;
	in.platform_log = b.data;
	in.platform_log_len = b.len;
	rt_exit_classify(&in, &r);
	assert_int_equal(r.code, 234);
	assert_true(strlen(r.diagnostics) <= 4095);
	check_diag(r.diagnostics, 234, 1, "segmentation fault");
	buf_fini(&b);
}

static void test_exit_big_logs_are_fast(void **state)
{
	(void)state;
	/* 12 MiB of a log that names tensorflow on every line and never matches */
	size_t n = (size_t)12 << 20;
	char *log = malloc(n);
	const char line[] = "I tensorflow/core/x.cc:42] step ok: attributeerror: nameerror: name 'c' oserror: importerr\n";
	for (size_t i = 0; i < n; i++)
		log[i] = line[i % (sizeof(line) - 1)];
	struct rt_classifier *k = rt_classifier_new();
	struct rt_exit_input in = { .user_exit = 1, .user_log = log, .user_log_len = n, .classifier = k };
	struct rt_exit_result r;
	clock_t t0 = clock();
	rt_exit_classify(&in, &r);
	double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("12 MiB log, no match: %.3f s\n", s);
	assert_int_equal(r.code, 255);
	assert_true(s < 20.0);            /* generous: the sanitizer build is slow */
	/* a match in the last line is found (only the last 10 MiB are read) */
	memcpy(log + n - 40, "\nImportError: no module named zz    \n", 37);
	rt_exit_classify(&in, &r);
	assert_int_equal(r.code, 232);
	/* a match only in the first 2 MiB is not: it is outside the tail */
	for (size_t i = 0; i < n; i++)
		log[i] = line[i % (sizeof(line) - 1)];
	memcpy(log + 100, "\nImportError: x\n", 16);
	rt_exit_classify(&in, &r);
	assert_int_equal(r.code, 255);
	rt_classifier_free(k);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_port_hash_vector),
		cmocka_unit_test(test_ports_first_choice_is_the_hash),
		cmocka_unit_test(test_ports_small_range_fills_and_frees),
		cmocka_unit_test(test_ports_hold_for_recovery),
		cmocka_unit_test(test_ports_churn_never_double_hands),
		cmocka_unit_test(test_env_two_roles),
		cmocka_unit_test(test_env_without_gpus),
		cmocka_unit_test(test_env_unplaced_peers),
		cmocka_unit_test(test_script_secrets),
		cmocka_unit_test(test_script_plugins_order),
		cmocka_unit_test(test_script_failures),
		cmocka_unit_test(test_exit_spec_table),
		cmocka_unit_test(test_exit_classify),
		cmocka_unit_test(test_exit_diagnostics_shape),
		cmocka_unit_test(test_exit_big_logs_are_fast),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
