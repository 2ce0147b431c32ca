/* SPDX-License-Identifier: MIT */
/*
 * bench/api — the REST API under load, against a real `gantry server`.
 *
 *   1. a store with 100,000 finished jobs (written directly, before start);
 *   2. GET /api/v2/jobs?limit=20 latency, one keep-alive client (p50, p99);
 *   3. durable submissions: 64 concurrent keep-alive clients POST 20,000
 *      jobs a run; a 201 means committed (group commit, fsync); errors
 *      counted. A first job holds every CPU of the embedded cluster (it
 *      sleeps), so the others stay queued and the server ends with 60,000
 *      waiting jobs in its scheduling queue;
 *   4. GET /api/v2/info throughput with wrk (-t2 -c64);
 *   5. the server's peak RSS.
 * Each figure is the median of several runs, printed beside its target.
 * Client and server share this 2-core VM, so throughput figures are
 * conservative.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "store/store.h"

#define PRELOAD 100000
#define CLIENTS 64
#define RUNS 3

static char addr[128], token[128];
static pid_t server_pid;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

static size_t collect(char *p, size_t size, size_t n, void *userdata)
{
	buf_append(userdata, p, size * n);
	return size * n;
}

static void preload(const char *dir)
{
	struct gerr e;
	struct store *st = store_open(dir, &e);
	if (!st) {
		fprintf(stderr, "bench/api: %s\n", e.msg);
		exit(1);
	}
	struct store_conn *c = store_conn_get(st, &e);
	static const char *states[] = { "SUCCEEDED", "FAILED", "STOPPED" };
	static const char *users[] = { "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi" };
	double t0 = now();
	store_tx_begin(c, &e);
	for (int i = 0; i < PRELOAD; i++) {
		char name[64];
		snprintf(name, sizeof(name), "history-%06d", i);
		struct store_job j = { .username = users[i % 8], .name = name, .debug_id = "0", .vc = "default",
		                       .state = states[i % 3], .sub_state = "Completed", .execution_type = "START",
		                       .priority = 10, .submission_ms = 1700000000000LL + i * 1000LL,
		                       .created_ms = 1700000000000LL + i * 1000LL, .total_gpu = i % 9, .total_tasks = 1 + i % 4,
		                       .total_roles = 1, .config = "protocolVersion: 2\n" };
		if (store_job_insert(c, &j, "protocolVersion: 2\n", &e)) {
			fprintf(stderr, "bench/api: preload: %s\n", e.msg);
			exit(1);
		}
	}
	store_tx_commit(c, &e);
	store_conn_put(st, c);
	store_close(st);
	printf("store: %d finished jobs written in %.1f s\n", PRELOAD, now() - t0);
}

static void start_server(const char *dir)
{
	char listen_file[512];
	snprintf(listen_file, sizeof(listen_file), "%s/listen", dir);
	server_pid = fork();
	if (server_pid == 0) {
		setenv("GANTRY_ADMIN_PASSWORD", "bench-admin-pw", 1);
		int fd = open("/dev/null", 1);
		dup2(fd, 2);
		/* the gantry of the same build: BUILD/bench/api → BUILD/gantry */
		char self[4096], bin[4200];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(bin, sizeof(bin), "%s/../gantry", self);
		execl(bin, "gantry", "server", "--data", dir, "--listen", "127.0.0.1:0", "--quiet", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		FILE *f = fopen(listen_file, "r");
		if (f && fgets(addr, sizeof(addr), f)) {
			fclose(f);
			addr[strcspn(addr, "\n")] = '\0';
			return;
		}
		if (f)
			fclose(f);
		usleep(25000);
	}
	fprintf(stderr, "bench/api: the server did not start\n");
	exit(1);
}

static void login(void)
{
	CURL *h = curl_easy_init();
	struct buf out = BUF_INIT;
	char url[256];
	snprintf(url, sizeof(url), "http://%s/api/v2/authn/basic/login", addr);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "username=admin&password=bench-admin-pw");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	if (curl_easy_perform(h) != CURLE_OK) {
		fprintf(stderr, "bench/api: login failed\n");
		exit(1);
	}
	json_error_t je;
	json_t *o = json_loads(buf_str(&out), 0, &je);
	snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(o, "token")) ?: "");
	json_decref(o);
	buf_fini(&out);
	curl_easy_cleanup(h);
}

static CURL *client(struct curl_slist **headers, struct buf *out)
{
	CURL *h = curl_easy_init();
	char auth[200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	*headers = curl_slist_append(NULL, auth);
	*headers = curl_slist_append(*headers, "Content-Type: text/yaml");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	return h;
}

static void list_latency(void)
{
	double p50[RUNS * 2], p99[RUNS * 2];
	struct curl_slist *hs;
	struct buf out = BUF_INIT;
	CURL *h = client(&hs, &out);
	char url[256];
	snprintf(url, sizeof(url), "http://%s/api/v2/jobs?limit=20", addr);
	curl_easy_setopt(h, CURLOPT_URL, url);
	for (int r = 0; r < RUNS * 2; r++) {
		enum { N = 500 };
		double lat[N];
		for (int i = 0; i < N; i++) {
			buf_clear(&out);
			double t0 = now();
			long code = 0;
			if (curl_easy_perform(h) != CURLE_OK || (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
				fprintf(stderr, "bench/api: list failed (%ld)\n", code);
				exit(1);
			}
			lat[i] = (now() - t0) * 1000.0;
		}
		qsort(lat, N, sizeof(lat[0]), cmp);
		p50[r] = lat[N / 2];
		p99[r] = lat[N * 99 / 100];
	}
	json_error_t je;
	json_t *o = json_loads(buf_str(&out), 0, &je);
	size_t items = json_array_size(o);
	json_decref(o);
	printf("GET /api/v2/jobs?limit=20 (%zu items, %d jobs stored): p50 %.2f ms, p99 %.2f ms   target p99 <= 5 ms\n",
	       items, PRELOAD, median(p50, RUNS * 2), median(p99, RUNS * 2));
	curl_slist_free_all(hs);
	curl_easy_cleanup(h);
	buf_fini(&out);
}

#define SUBMIT_PER_RUN 20000

struct submitter {
	int id, run;
	long count;                   /* jobs this client submits */
	long ok, errors;
	pthread_t t;
};

static void *submit_loop(void *arg)
{
	struct submitter *s = arg;
	struct curl_slist *hs;
	struct buf out = BUF_INIT;
	CURL *h = client(&hs, &out);
	char url[256], yaml[512];
	snprintf(url, sizeof(url), "http://%s/api/v2/jobs", addr);
	curl_easy_setopt(h, CURLOPT_URL, url);
	for (long i = 0; i < s->count; i++) {
		snprintf(yaml, sizeof(yaml),
		         "protocolVersion: 2\nname: load-%d-%d-%ld\ntype: job\n"
		         "prerequisites: [{name: img, type: dockerimage, uri: busybox}]\n"
		         "taskRoles:\n  w:\n    dockerImage: img\n    commands: ['echo hi']\n"
		         "    resourcePerInstance: {cpu: 1, memoryMB: 64, gpu: 0}\n",
		         s->run, s->id, i);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, yaml);
		buf_clear(&out);
		long code = 0;
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (code == 201)
			s->ok++;
		else
			s->errors++;
	}
	curl_slist_free_all(hs);
	curl_easy_cleanup(h);
	buf_fini(&out);
	return NULL;
}

/* POST or PUT body to path; the HTTP status. */
static long request(const char *method, const char *path, const char *type, const char *body)
{
	struct curl_slist *hs;
	struct buf out = BUF_INIT;
	CURL *h = client(&hs, &out);
	char url[512];
	snprintf(url, sizeof(url), "http://%s%s", addr, path);
	if (strcmp(type, "text/yaml")) {
		curl_slist_free_all(hs);
		char auth[200];
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hs = curl_slist_append(NULL, auth);
		hs = curl_slist_append(hs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	long code = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hs);
	curl_easy_cleanup(h);
	buf_fini(&out);
	return code;
}

/* One job that takes every leaf cell of the embedded cluster (one per CPU). */
static void block_cluster(void)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
	         "protocolVersion: 2\nname: blocker\ntype: job\n"
	         "prerequisites: [{name: img, type: dockerimage, uri: busybox}]\n"
	         "taskRoles:\n  w:\n    dockerImage: img\n    commands: ['sleep 3600']\n"
	         "    resourcePerInstance: {cpu: %ld, memoryMB: 64, gpu: 0}\n", sysconf(_SC_NPROCESSORS_ONLN));
	if (request("POST", "/api/v2/jobs", "text/yaml", yaml) != 201) {
		fprintf(stderr, "bench/api: the blocker job was refused\n");
		exit(1);
	}
}

static void unblock_cluster(void)
{
	request("PUT", "/api/v2/jobs/admin~blocker/executionType", "application/json", "{\"value\":\"STOP\"}");
	usleep(500000);   /* SIGTERM ends `sleep` at once */
}

static void submissions(void)
{
	double rates[RUNS];
	long errors = 0;
	for (int r = 0; r < RUNS; r++) {
		struct submitter s[CLIENTS];
		double t0 = now();
		for (int i = 0; i < CLIENTS; i++) {
			s[i] = (struct submitter){ .id = i, .run = r,
			                           .count = SUBMIT_PER_RUN / CLIENTS + (i < SUBMIT_PER_RUN % CLIENTS) };
			pthread_create(&s[i].t, NULL, submit_loop, &s[i]);
		}
		long ok = 0;
		for (int i = 0; i < CLIENTS; i++) {
			pthread_join(s[i].t, NULL);
			ok += s[i].ok;
			errors += s[i].errors;
		}
		rates[r] = (double)ok / (now() - t0);
	}
	printf("durable submissions, %d clients, %d jobs a run: %.0f jobs/s (runs %.0f..%.0f), %ld errors   "
	       "target >= 2000 jobs/s, 0 errors\n", CLIENTS, SUBMIT_PER_RUN, median(rates, RUNS), rates[0], rates[RUNS - 1],
	       errors);
}

static void info_throughput(void)
{
	double rates[RUNS];
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "wrk -t2 -c64 -d4s http://%s/api/v2/info 2>&1", addr);
	for (int r = 0; r < RUNS; r++) {
		FILE *p = popen(cmd, "r");
		char line[512];
		rates[r] = 0;
		while (p && fgets(line, sizeof(line), p))
			sscanf(line, "Requests/sec: %lf", &rates[r]);
		if (p)
			pclose(p);
	}
	if (rates[RUNS - 1] == 0 && rates[0] == 0) {
		printf("GET /api/v2/info: wrk is not installed (scripts/deps.sh installs it)\n");
		return;
	}
	printf("GET /api/v2/info with wrk -t2 -c64: %.0f req/s (runs %.0f..%.0f)   target >= 30000 req/s\n",
	       median(rates, RUNS), rates[0], rates[RUNS - 1]);
}

static void rss(void)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", server_pid);
	FILE *f = fopen(path, "r");
	long hwm = 0, cur = 0;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmHWM: %ld kB", &hwm);
		sscanf(line, "VmRSS: %ld kB", &cur);
	}
	if (f)
		fclose(f);
	printf("server RSS with %d stored jobs, %d of them waiting in the queue: peak %.1f MB, now %.1f MB   "
	       "target <= 64 MB\n", PRELOAD + RUNS * SUBMIT_PER_RUN, RUNS * SUBMIT_PER_RUN, hwm / 1024.0, cur / 1024.0);
}

int main(void)
{
	char dir[] = "/tmp/gantry-bench-api-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	printf("bench/api: medians of %d runs; client and server share this machine\n\n", RUNS);
	preload(dir);
	start_server(dir);
	login();
	block_cluster();
	list_latency();
	submissions();
	list_latency();
	info_throughput();
	rss();
	unblock_cluster();
	kill(server_pid, SIGTERM);
	waitpid(server_pid, NULL, 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench/api: could not remove %s\n", dir);
	curl_global_cleanup();
	return 0;
}
