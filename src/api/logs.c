/* SPDX-License-Identifier: MIT */
/*
 * logs.c — a task attempt's logs, as OpenPAI serves them:
 *
 *   GET /api/v2/jobs/:job/attempts/:a/taskRoles/:role/taskIndex/:i/attempts/:ta/logs
 *       {"locations": [{"name", "uri"}...]}: stdout, stderr, all, runtime, and
 *       the rotated ones ("stdout.1"...) that exist
 *   GET .../logs/:name
 *       the file: whole, ?tail-mode=true (the last 16 KiB), ?offset=N, or a
 *       stream with ?follow=true or Accept: text/event-stream (follow.c)
 *
 * The files are the shim's, in the task attempt's directory (rt_attempt_dir):
 * user.pai.stdout|stderr|all and runtime.log, each with one ".1" rotation.
 *
 * OpenPAI's clients (the JS SDK, the VS Code extension, the portal) fetch a
 * location's uri without an Authorization header: OpenPAI put a log-manager
 * token in it. So each uri carries ?token=EXP.MAC: an HMAC-SHA256, keyed by a
 * secret of this server (DATA/log-secret, 32 random bytes made on the first
 * start, mode 0600), over the uri's path and EXP, which is valid until EXP
 * (unix seconds, an hour after it was given). It grants reading that one
 * file and nothing else; the content route also takes a Bearer token. The
 * access log prints the path only, never the query.
 *
 * Paths are built only from what was checked: the job as stored, numbers as
 * parsed, a role of [A-Za-z0-9_] and a log name from a fixed list, so no
 * parameter (.., %2F) can leave the attempt's directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/follow.h"
#include "api/internal.h"
#include "base/log.h"
#include "runtime/runtime.h"
#include "server/server.h"
#include "spec/spec.h"

#define LOG_TOKEN_TTL_S 3600
#define LOG_SECRET_FILE "log-secret"

struct api_logs {
	struct follow *follow;
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
};

/* The names a client may ask for and the files they are. */
static const struct {
	const char *name, *file;
} LOGS[] = {
	{ "stdout", "user.pai.stdout" },
	{ "stderr", "user.pai.stderr" },
	{ "all", "user.pai.all" },
	{ "runtime", "runtime.log" },
};
#define NLOGS (sizeof(LOGS) / sizeof(LOGS[0]))

/* ---- the secret --------------------------------------------------------------- */

static int read_secret(const char *path, unsigned char *key, struct gerr *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? GERR_NOT_FOUND
		                       : gerr_set(err, GERR_IO, "cannot read %s: %s", path, strerror(errno));
	struct stat st;
	ssize_t n = read(fd, key, crypto_auth_hmacsha256_KEYBYTES + 1);
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) && fchmod(fd, 0600) == 0)
		log_warn("%s could be read by others; now mode 0600", path);
	close(fd);
	if (n != crypto_auth_hmacsha256_KEYBYTES)
		return gerr_set(err, GERR_IO, "%s is damaged (%zd bytes, want %d): remove it and a new one is made "
		                "(log links given out so far stop working)", path, n, crypto_auth_hmacsha256_KEYBYTES);
	return 0;
}

/* DATA/log-secret: read it, or make it (temp file, then rename: never half written). */
static int load_secret(const char *data_dir, unsigned char *key, struct gerr *err)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s", data_dir, LOG_SECRET_FILE);
	int rc = read_secret(path, key, err);
	if (rc != GERR_NOT_FOUND)
		return rc;
	randombytes_buf(key, crypto_auth_hmacsha256_KEYBYTES);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return gerr_set(err, GERR_IO, "cannot create %s: %s", tmp, strerror(errno));
	if (write(fd, key, crypto_auth_hmacsha256_KEYBYTES) != crypto_auth_hmacsha256_KEYBYTES || fsync(fd) != 0) {
		rc = gerr_set(err, GERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		rc = gerr_set(err, GERR_IO, "cannot create %s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return 0;
}

struct api_logs *api_logs_new(const char *data_dir, struct gerr *err)
{
	struct api_logs *l = calloc(1, sizeof(*l));
	if (!l) {
		gerr_set(err, GERR_NOMEM, "out of memory");
		return NULL;
	}
	if ((data_dir && load_secret(data_dir, l->key, err)) || !(l->follow = follow_new(err))) {
		api_logs_free(l);
		return NULL;
	}
	if (!data_dir)   /* no data directory (tests): links live as long as the process */
		randombytes_buf(l->key, sizeof(l->key));
	return l;
}

void api_logs_shutdown(struct api_logs *l)
{
	if (l)
		follow_shutdown(l->follow);
}

void api_logs_free(struct api_logs *l)
{
	if (!l)
		return;
	follow_free(l->follow);
	sodium_memzero(l->key, sizeof(l->key));
	free(l);
}

/* ---- tokens in uris ------------------------------------------------------------ */

static void mac(const struct api_logs *l, const char *path, long long exp, unsigned char *out)
{
	crypto_auth_hmacsha256_state st;
	char e[32];
	int n = snprintf(e, sizeof(e), "\n%lld", exp);
	crypto_auth_hmacsha256_init(&st, l->key, sizeof(l->key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)path, strlen(path));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)e, (unsigned long long)n);
	crypto_auth_hmacsha256_final(&st, out);
}

/* "EXP.MAC" (MAC in unpadded base64url) for path, in the arena. */
static char *token_make(const struct api_logs *l, struct arena *a, const char *path, long long exp)
{
	unsigned char m[crypto_auth_hmacsha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	mac(l, path, exp, m);
	sodium_bin2base64(b64, sizeof(b64), m, sizeof(m), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return arena_printf(a, "%lld.%s", exp, b64);
}

static bool token_ok(const struct api_logs *l, const char *path, const char *token, long long now_s)
{
	unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
	char *end;
	size_t len;
	if (!token || token[0] < '0' || token[0] > '9')
		return false;
	long long exp = strtoll(token, &end, 10);
	if (*end != '.' || exp < now_s)
		return false;
	if (sodium_base642bin(got, sizeof(got), end + 1, strlen(end + 1), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || len != sizeof(got))
		return false;
	mac(l, path, exp, want);
	return sodium_memcmp(want, got, sizeof(got)) == 0;
}

/* ---- the task attempt ----------------------------------------------------------- */

struct attempt {
	const char *user, *job;       /* as stored */
	long long attempt, index, task_attempt;
	const char *role;
	const char *dir;              /* rt_attempt_dir */
	const char *base;             /* ".../attempts/TA/logs", canonical, no /rest-server */
};

static bool parse_count(const char *s, long long *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
		return false;
	*out = atoll(s);
	return true;
}

static bool role_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static const char *attempt_dir(struct api_request *r, const struct attempt *t, const char *role)
{
	return rt_attempt_dir(&r->arena, server_data_dir(api_server(r)), t->user, t->job, t->attempt, role, t->index,
	                      t->task_attempt);
}

/* The name of job id's role called role (as written or converted), in the
 * arena; NULL when it has none. */
static const char *role_as_written(struct api_request *r, int64_t id, const char *user, const char *role)
{
	const char *text, *found = NULL;
	struct spec_opts opts = { user, NULL };
	struct spec_job *spec = spec_job_new();
	if (spec && store_job_spec(r->db, id, &r->arena, &text, NULL) == 0 &&
	    spec_job_load(spec, text, strlen(text), &opts) == 0)
		for (size_t i = 0; i < spec->nroles && !found; i++)
			if (!strcmp(spec->roles[i].name, role) || !strcmp(spec->roles[i].fc_name, role))
				found = arena_strdup(&r->arena, spec->roles[i].name);
	spec_job_free(spec);
	return found;
}

/* Check the path parameters and find the directory; answers and returns
 * false when it cannot. */
static bool resolve(struct api_request *r, struct attempt *t)
{
	static const char *const what[] = { NULL, "job attempt", NULL, "task index", "task attempt" };
	long long *num[] = { NULL, &t->attempt, NULL, &t->index, &t->task_attempt };
	const char *id = r->params[0], *tilde = strchr(id, '~');
	struct store_job j;
	struct gerr e;

	for (int i = 1; i <= 4; i++)
		if (num[i] && !parse_count(r->params[i], num[i]))
			return api_fail(r, 400, "InvalidParametersError", "The %s must be a number (got \"%s\").", what[i],
			                r->params[i]), false;
	if (!role_ok(r->params[2]))
		return api_fail(r, 400, "InvalidParametersError",
		                "The task role must be a task role's name: letters, digits and _ (got \"%s\").",
		                r->params[2]), false;
	t->role = r->params[2];
	int rc = GERR_NOT_FOUND;
	if (tilde && tilde != id && tilde[1])
		rc = store_job_get(r->db, arena_strndup(&r->arena, id, (size_t)(tilde - id)), tilde + 1, &r->arena, &j, &e);
	if (rc == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoJobError", "Job %s is not found.", id), false;
	if (rc)
		return api_fail_gerr(r, &e, "NoJobError"), false;
	t->user = j.username;
	t->job = j.name;
	t->base = arena_printf(&r->arena, "/api/v2/jobs/%s~%s/attempts/%lld/taskRoles/%s/taskIndex/%lld/attempts/%lld/logs",
	                       t->user, t->job, t->attempt, t->role, t->index, t->task_attempt);
	if (!t->base || !(t->dir = attempt_dir(r, t, t->role)))
		return false;
	struct stat st;
	if (stat(t->dir, &st) != 0) {
		/* the directory has the role's name as written; the job detail keys
		 * roles by OpenPAI's converted name ("Worker_1" → "worker1") */
		const char *name = role_as_written(r, j.id, t->user, t->role);
		if (name && strcmp(name, t->role) && !(t->dir = attempt_dir(r, t, name)))
			return false;
	}
	if (stat(t->dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return api_fail(r, 404, "NoTaskLogError",
		                "No logs for task %s-%lld (task attempt %lld of job attempt %lld of %s~%s): it has not run.",
		                t->role, t->index, t->task_attempt, t->attempt, t->user, t->job), false;
	return true;
}

static bool query_true(struct api_request *r, const char *key)
{
	const char *v = api_query(r, key);
	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* ---- the list -------------------------------------------------------------------- */

int api_get_task_logs(struct api_request *r)
{
	struct api_logs *l = api_logs(r);
	struct attempt t;
	if (!resolve(r, &t))
		return r->finished ? 0 : GERR_NOMEM;
	bool tail = query_true(r, "tail-mode") || query_true(r, "tailMode");
	/* answer under the prefix the client used, so a proxy that only forwards
	 * /rest-server still reaches the uris */
	const char *prefix = strncmp(r->url, "/rest-server/", 13) ? "" : "/rest-server";
	long long exp = r->now_ms / 1000 + LOG_TOKEN_TTL_S;
	json_t *locs = json_array();
	for (size_t i = 0; i < 2 * NLOGS; i++) {
		const char *name = LOGS[i % NLOGS].name;
		if (i >= NLOGS) {
			/* rotated: listed only when there */
			char path[4200];
			snprintf(path, sizeof(path), "%s/%s.1", t.dir, LOGS[i % NLOGS].file);
			if (access(path, F_OK) != 0)
				continue;
			name = arena_printf(&r->arena, "%s.1", name);
		}
		const char *path = arena_printf(&r->arena, "%s/%s", t.base, name);
		const char *tok = token_make(l, &r->arena, path, exp);
		const char *uri = arena_printf(&r->arena, "%s%s?token=%s%s", prefix, path, tok, tail ? "&tail-mode=true" : "");
		if (!uri)
			return GERR_NOMEM;
		json_array_append_new(locs, json_pack("{s:s, s:s}", "name", name, "uri", uri));
	}
	return api_json(r, 200, json_pack("{s:o, s:I}", "locations", locs, "expiresAt", (json_int_t)exp * 1000));
}

/* ---- one log ---------------------------------------------------------------------- */

/* Bearer token, or the uri's own: false after answering 401. */
static bool allowed(struct api_request *r, struct api_logs *l)
{
	struct gerr e;
	if (token_ok(l, r->path, api_query(r, "token"), r->now_ms / 1000))
		return true;
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	if (h && auth_authenticate(r->db, h, r->now_ms, &r->arena, &r->user, &e) == 0) {
		r->user_ok = true;
		snprintf(r->log_user, sizeof(r->log_user), "%s%s", r->user.username, r->user.application ? "(app)" : "");
		return true;
	}
	if (api_query(r, "token"))
		api_fail(r, 401, "UnauthorizedUserError", "This log link is invalid or has expired: list the logs again.");
	else if (h)
		api_fail(r, 401, "UnauthorizedUserError", "%s", e.msg);
	else
		api_fail(r, 401, "UnauthorizedUserError", "Guest is not allowed to do this operation.");
	return false;
}

static void log_headers(struct MHD_Response *resp, const char *ctype)
{
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

int api_get_task_log(struct api_request *r)
{
	struct api_logs *l = api_logs(r);
	struct attempt t;
	const char *name = r->params[5], *file = NULL;
	size_t nlen = strlen(name);
	bool rotated = nlen > 2 && !strcmp(name + nlen - 2, ".1");

	for (size_t i = 0; i < NLOGS && !file; i++)
		if (strlen(LOGS[i].name) == nlen - (rotated ? 2 : 0) && !strncmp(LOGS[i].name, name, nlen - (rotated ? 2 : 0)))
			file = rotated ? arena_printf(&r->arena, "%s.1", LOGS[i].file) : LOGS[i].file;
	if (!allowed(r, l))
		return 0;
	if (!file)
		return api_fail(r, 404, "NoTaskLogError", "There is no log named \"%s\": stdout, stderr, all, runtime, "
		                "and the same with .1 for the rotated ones.", name);
	if (!resolve(r, &t))
		return r->finished ? 0 : GERR_NOMEM;

	const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
	bool sse = accept && strstr(accept, "text/event-stream");
	bool tail = query_true(r, "tail-mode") || query_true(r, "tailMode");
	const char *s = api_query(r, "offset");
	long long offset = 0;
	char *end;
	if (s) {
		offset = strtoll(s, &end, 10);
		if (!*s || *end || offset < 0)
			return api_fail(r, 400, "InvalidParametersError", "\"offset\" must be a non-negative integer.");
	}
	struct MHD_Response *resp;
	struct gerr e;
	if (sse || query_true(r, "follow")) {
		struct follower *fl;
		struct follow_opts o = { t.dir, file, offset, tail, sse };
		if (follow_start(l->follow, r->conn, &o, &resp, &fl, &e))
			return api_fail_gerr(r, &e, "NoTaskLogError");
		r->cleanup = follow_release;
		r->cleanup_arg = fl;
		/* a stream may last for hours: it must not hold a store connection */
		store_conn_put(api_store(r), r->db);
		r->db = NULL;
		log_headers(resp, sse ? "text/event-stream" : "text/plain; charset=utf-8");
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
		return api_response(r, 200, resp);
	}

	char *path = arena_printf(&r->arena, "%s/%s", t.dir, file);
	struct stat st;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 && rotated)
		return api_fail(r, 404, "NoTaskLogError", "Log %s of this task attempt is not found.", name);
	off_t size = 0, from = 0;
	if (fd >= 0 && fstat(fd, &st) == 0)
		size = st.st_size;
	from = tail ? (size > FOLLOW_TAIL ? size - FOLLOW_TAIL : 0) : (offset < size ? offset : size);
	if (size > from)
		resp = MHD_create_response_from_fd_at_offset64((uint64_t)(size - from), fd, (uint64_t)from);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp || size <= from) {
		if (fd >= 0)
			close(fd);   /* an fd response owns it; this one does not */
		if (!resp)
			return GERR_NOMEM;
	}
	char n[32];
	log_headers(resp, "text/plain; charset=utf-8");
	snprintf(n, sizeof(n), "%lld", (long long)size);
	MHD_add_response_header(resp, "X-Log-Size", n);   /* the next ?offset for a polling client */
	MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Log-Size");
	return api_response(r, 200, resp);
}
