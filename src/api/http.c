/* SPDX-License-Identifier: MIT */
/*
 * http.c — libmicrohttpd glue: request bodies, routing, authentication,
 * responses, suspend/resume for the control loop, the access log, and a
 * graceful stop.
 *
 * DESIGN
 * ------
 * MHD calls the access handler several times per request: first with no
 * body (we allocate the request), then with body chunks, then once with an
 * empty chunk, when we dispatch. The response is queued in that last call,
 * never in the first, or MHD closes keep-alive connections. A handler that
 * needs the control loop suspends the connection; the loop fills in the
 * response and resumes it, and MHD calls the handler once more, where we
 * queue what the loop left.
 *
 * The request is allocated earlier still, when MHD has read the request
 * line (MHD_OPTION_URI_LOG_CALLBACK): that is the one place the request
 * target is seen as sent, before MHD splits off the query and unescapes
 * both. Two checks need it and run before routing:
 *   - a NUL anywhere in the path or query is 400: encoded (%00), MHD
 *     decodes it into the C strings handlers get, which then end early
 *     (GET /api/v2/jobs/alice~a%00x would read as alice~a); sent raw, MHD
 *     (0.9.75) keeps the line and hands us strings cut at it. A raw one is
 *     seen by where the HTTP version starts: MHD ends the target with the
 *     NUL it writes over the space before the version, so the version
 *     begins just past the target's end, unless the target held a NUL;
 *   - a target longer than MAX_TARGET is 414, with OpenPAI's JSON body.
 * A request line and headers that do not fit MHD's per-connection memory
 * (its default, 32 KiB) never get here: MHD itself answers 414 (a long
 * request line) or 431 (long headers) with its own short HTML page, and
 * offers no hook to replace it (docs/user/api.md says so).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "base/log.h"
#include "server/server.h"

#define MAX_TARGET (16u << 10)   /* the longest request target (path and query): 414 past it */

struct api {
	struct MHD_Daemon *daemon;
	struct store *store;
	struct server *server;
	struct auth_limiter *limiter;
	bool quiet;
	char address[80];
	atomic_int inflight;
	pthread_mutex_t lock;         /* orders suspend against the loop's finish */
	struct api_logs *logs;        /* log links and streams (logs.c) */
	char *web_dir;                /* the portal's files (static.c), or NULL: API only */
};

static int64_t mono_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The request as the glue holds it: what only this file needs, beside it. */
struct http_request {
	struct api_request r;         /* first: handlers get &h->r */
	size_t target_len;            /* the request target as sent (escaped, query included) */
	const char *target_end;       /* where it ended (compared, never read) */
	bool encoded_nul;             /* ... has a %00 */
	bool raw_nul;                 /* ... has a NUL byte (seen by on_request) */
	bool begun;                   /* the access handler has set r up */
	char log_path[160];           /* for a request MHD refused before the handler */
};

struct store *api_store(struct api_request *r) { return r->api->store; }
struct server *api_server(struct api_request *r) { return r->api->server; }
struct auth_limiter *api_limiter(struct api_request *r) { return r->api->limiter; }
struct api_logs *api_logs(struct api_request *r) { return r->api->logs; }

/* ---- answers ----------------------------------------------------------------- */

static void set_response(struct api_request *r, int status, char *body, size_t len, const char *ctype)
{
	free(r->resp_body);
	r->status = status;
	r->resp_body = body;
	r->resp_len = len;
	r->resp_type = ctype;
	r->finished = true;
}

int api_json(struct api_request *r, int status, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(body);
	if (!s)
		return GERR_NOMEM;
	set_response(r, status, s, strlen(s), "application/json; charset=utf-8");
	return 0;
}

int api_text(struct api_request *r, int status, const char *ctype, const char *text)
{
	char *s = strdup(text);
	if (!s)
		return GERR_NOMEM;
	set_response(r, status, s, strlen(s), ctype);
	return 0;
}

int api_bytes(struct api_request *r, int status, const char *ctype, char *body, size_t len)
{
	if (!body)
		return GERR_NOMEM;
	set_response(r, status, body, len, ctype);
	return 0;
}

static int vfail(struct api_request *r, int status, const char *code, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_t *o = json_pack("{s:s, s:s}", "code", code, "message", msg);
	return api_json(r, status, o);
}

int api_fail(struct api_request *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail(r, status, code, fmt, ap);
	va_end(ap);
	return rc;
}

int api_fail_gerr(struct api_request *r, const struct gerr *e, const char *not_found_code)
{
	switch (e->code) {
	case GERR_NOT_FOUND:
		return api_fail(r, 404, not_found_code, "%s", e->msg);
	case GERR_INVALID:
		return api_fail(r, 400, "InvalidParametersError", "%s", e->msg);
	case GERR_UNAUTH:
		return api_fail(r, 401, "UnauthorizedUserError", "%s", e->msg);
	case GERR_FORBIDDEN:
		return api_fail(r, 403, "ForbiddenUserError", "%s", e->msg);
	default:
		log_error("api: %s %s: %s", r->method, r->path, e->msg);
		return api_fail(r, gerr_http_status(e->code), gerr_pai_code(e->code), "%s", e->msg);
	}
}

int api_message(struct api_request *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_json(r, status, json_pack("{s:s}", "message", msg));
}

int api_response(struct api_request *r, int status, struct MHD_Response *resp)
{
	if (r->resp_custom)
		MHD_destroy_response(r->resp_custom);
	set_response(r, status, NULL, 0, NULL);
	r->resp_custom = resp;
	return 0;
}

int api_suspend(struct api_request *r)
{
	r->suspended = true;
	return 0;
}

void api_request_finish(struct api_request *r, int status, char *body, const char *ctype)
{
	/* the loop may answer before the worker has suspended the connection:
	 * then the worker sees `finished` and queues the answer itself */
	pthread_mutex_lock(&r->api->lock);
	set_response(r, status, body, body ? strlen(body) : 0, ctype ? ctype : "application/json; charset=utf-8");
	if (r->mhd_suspended) {
		r->mhd_suspended = false;
		MHD_resume_connection(r->conn);
	}
	pthread_mutex_unlock(&r->api->lock);
}

/* ---- inputs ----------------------------------------------------------------- */

const char *api_query(struct api_request *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* application/x-www-form-urlencoded → object of strings */
static json_t *parse_form(const char *s, size_t len)
{
	json_t *o = json_object();
	const char *end = s + len;
	while (o && s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(stop - s));
		char key[256], *val = malloc((size_t)(stop - s) + 1);
		size_t k = 0, v = 0;
		if (!val) {
			json_decref(o);
			return NULL;
		}
		for (const char *p = s; p < (eq ? eq : stop) && k < sizeof(key) - 1; p++) {
			if (*p == '+')
				key[k++] = ' ';
			else if (*p == '%' && p + 2 < stop && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				key[k++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else
				key[k++] = *p;
		}
		key[k] = '\0';
		for (const char *p = eq ? eq + 1 : stop; p < stop; p++) {
			if (*p == '+')
				val[v++] = ' ';
			else if (*p == '%' && p + 2 < stop && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				val[v++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else
				val[v++] = *p;
		}
		if (k)
			json_object_set_new(o, key, json_stringn(val, v));
		free(val);
		s = stop + 1;
	}
	return o;
}

json_t *api_body_object(struct api_request *r)
{
	json_error_t jerr;
	const char *ct = r->content_type ? r->content_type : "";
	json_t *o;
	if (!strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
		o = parse_form(r->body, r->body_len);
	} else {
		if (r->body_len == 0)
			return json_object();
		o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
		if (!o) {
			api_fail(r, 400, "InvalidParametersError", "The request body is not valid JSON: %s "
			         "(line %d, column %d).", jerr.text, jerr.line, jerr.column);
			return NULL;
		}
	}
	if (!o || !json_is_object(o)) {
		json_decref(o);
		api_fail(r, 400, "InvalidParametersError", "The request body must be a JSON object.");
		return NULL;
	}
	return o;
}

bool api_field_string(struct api_request *r, json_t *o, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required) {
			api_fail(r, 400, "InvalidParametersError", "\"%s\" is required", key);
			return false;
		}
		return true;
	}
	if (!json_is_string(v)) {
		api_fail(r, 400, "InvalidParametersError", "\"%s\" must be a string", key);
		return false;
	}
	*out = arena_strdup(&r->arena, json_string_value(v));
	return *out != NULL;
}

bool api_field_bool(struct api_request *r, json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return true;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return true;
	}
	/* forms carry strings */
	if (json_is_string(v) && (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false"))) {
		*out = !strcmp(json_string_value(v), "true");
		return true;
	}
	api_fail(r, 400, "InvalidParametersError", "\"%s\" must be a boolean", key);
	return false;
}

bool api_field_strings(struct api_request *r, json_t *o, const char *key, const char ***out, size_t *n)
{
	json_t *v = json_object_get(o, key), *x;
	size_t i;
	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_array(v)) {
		api_fail(r, 400, "InvalidParametersError", "\"%s\" must be an array", key);
		return false;
	}
	const char **list = arena_alloc(&r->arena, (json_array_size(v) + 1) * sizeof(*list));
	if (!list)
		return false;
	json_array_foreach(v, i, x) {
		if (!json_is_string(x)) {
			api_fail(r, 400, "InvalidParametersError", "\"%s[%zu]\" must be a string", key, i);
			return false;
		}
		list[i] = arena_strdup(&r->arena, json_string_value(x));
	}
	*out = list;
	*n = json_array_size(v);
	return true;
}

/* ---- routing ------------------------------------------------------------------ */

/* Strip /rest-server and one trailing slash; collapse nothing else. */
static const char *normalize(struct api_request *r, const char *url)
{
	if (!strncmp(url, "/rest-server/", 13) || !strcmp(url, "/rest-server"))
		url += 12;
	size_t n = strlen(url);
	while (n > 1 && url[n - 1] == '/')
		n--;
	return arena_strndup(&r->arena, n ? url : "/", n ? n : 1);
}

/* Match path against pattern; fill params. */
static bool match(const char *pattern, const char *path, const char **params, struct arena *a)
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == '*') {
			params[np++] = arena_strdup(a, s);
			return np <= API_MAX_PARAMS;
		}
		if (*p == ':') {
			while (*p && *p != '/')
				p++;
			const char *e = s;
			while (*e && *e != '/')
				e++;
			if (e == s || np >= API_MAX_PARAMS)
				return false;
			params[np++] = arena_strndup(a, s, (size_t)(e - s));
			s = e;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

static bool authorize(struct api_request *r, enum api_auth level)
{
	struct gerr e;
	if (level == API_NONE)
		return true;
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	if (auth_authenticate(r->db, h, r->now_ms, &r->arena, &r->user, &e) != 0) {
		if (e.code == GERR_UNAUTH)
			api_fail(r, 401, "UnauthorizedUserError", "%s", e.msg);
		else
			api_fail_gerr(r, &e, "UnauthorizedUserError");
		return false;
	}
	r->user_ok = true;
	snprintf(r->log_user, sizeof(r->log_user), "%s%s", r->user.username, r->user.application ? "(app)" : "");
	if ((level == API_USER_NOAPP || level == API_ADMIN) && r->user.application) {
		api_fail(r, 403, "ForbiddenUserError", "Applications are not allowed to do this operation.");
		return false;
	}
	if ((level == API_ADMIN || level == API_ADMIN_APP) && !r->user.admin) {
		api_fail(r, 403, "ForbiddenUserError", "Non-admin is not allow to do this operation.");
		return false;
	}
	return true;
}

static void dispatch(struct api_request *r)
{
	struct gerr e;
	const struct api_route *found = NULL;
	bool path_matched = false;

	r->path = normalize(r, r->url);
	if (!strcmp(r->method, "OPTIONS")) {
		/* CORS preflight, as rest-server's cors() answers it */
		set_response(r, 204, NULL, 0, "text/plain");
		return;
	}
	for (size_t i = 0; i < api_nroutes; i++) {
		const char *params[API_MAX_PARAMS] = { 0 };
		if (!match(api_routes[i].pattern, r->path, params, &r->arena))
			continue;
		path_matched = true;
		if (strcmp(api_routes[i].method, r->method) &&
		    !(!strcmp(r->method, "HEAD") && !strcmp(api_routes[i].method, "GET")))
			continue;
		found = &api_routes[i];
		memcpy(r->params, params, sizeof(params));
		break;
	}
	if (!found) {
		if (!path_matched && api_static_get(r, r->api->web_dir))
			return;
		if (path_matched)
			api_fail(r, 405, "MethodNotAllowedError", "Method %s is not allowed on %s.", r->method, r->url);
		else
			api_fail(r, 404, "NoApiError", "API %s is not found.", r->url);
		return;
	}
	if (r->too_large) {
		api_fail(r, 413, "RequestEntityTooLargeError", "The request body is larger than %u bytes.", API_MAX_BODY);
		return;
	}
	r->db = store_conn_get(r->api->store, &e);
	if (!r->db) {
		api_fail(r, 500, "UnknownError", "There is a problem with your database connection: %s", e.msg);
		return;
	}
	if (!authorize(r, found->auth))
		return;
	int rc = found->handler(r);
	if (rc && !r->finished && !r->suspended)
		api_fail(r, 500, "UnknownError", "Internal error %s while handling %s %s.", gerr_name(rc),
		         r->method, r->path);
	else if (!r->finished && !r->suspended)
		api_fail(r, 500, "UnknownError", "No response for %s %s.", r->method, r->path);
}

/* ---- MHD callbacks -------------------------------------------------------------- */

static enum MHD_Result queue(struct api_request *r)
{
	struct MHD_Response *resp = r->resp_custom;
	r->resp_custom = NULL;
	if (!resp)
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body ? r->resp_body : (void *)"",
		                                       r->resp_body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	r->resp_body = NULL;   /* MHD owns it now */
	if (r->resp_type)
		MHD_add_response_header(resp, "Content-Type", r->resp_type);
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	if (!strcmp(r->method, "OPTIONS")) {
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
		MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type");
	}
	if (r->extra_header)
		MHD_add_response_header(resp, r->extra_header, r->extra_value);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* MHD has read a request line: allocate the request (MHD hands it to
 * on_request as *con_cls, and to on_completed whatever happens next, even
 * when it refuses the headers) and look at the target while it is as sent. */
static void *on_target(void *cls, const char *target, struct MHD_Connection *conn)
{
	struct http_request *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->r.api = cls;
	h->r.conn = conn;
	h->r.start_us = mono_us();
	h->r.now_ms = wall_ms();
	h->target_len = strlen(target);
	h->target_end = target + h->target_len;
	h->encoded_nul = strstr(target, "%00") != NULL;
	/* the path only: the access log never prints the query (log-link tokens) */
	snprintf(h->log_path, sizeof(h->log_path), "%.*s", (int)strcspn(target, "?"), target);
	arena_init(&h->r.arena, 4096);
	return h;
}

/* Refuse a request target the API must not route; true when answered. */
static bool refuse_target(struct http_request *h)
{
	struct api_request *r = &h->r;
	if (h->target_len > MAX_TARGET) {
		api_fail(r, 414, "RequestUriTooLongError", "The request URI is %zu bytes long, over the limit of %u.",
		         h->target_len, MAX_TARGET);
		return true;
	}
	if (h->encoded_nul || h->raw_nul) {
		api_fail(r, 400, "InvalidParametersError", "The request URI has a NUL character (%s).",
		         h->encoded_nul ? "%00" : "a raw byte 0");
		return true;
	}
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct api *api = cls;
	struct http_request *h = *con_cls;

	if (!h)
		return MHD_NO;   /* on_target was out of memory */
	struct api_request *r = &h->r;
	if (!h->begun) {
		h->begun = true;
		atomic_fetch_add(&api->inflight, 1);   /* a request from here on, for api_stop */
		/* the version past the target's end: a NUL cut the target short
		 * (a version anywhere else is some other layout: no conclusion) */
		uintptr_t gap = (uintptr_t)version - (uintptr_t)h->target_end;
		h->raw_nul = *version && gap > 1 && gap <= MAX_TARGET;
		r->method = arena_strdup(&r->arena, method);
		r->url = arena_strdup(&r->arena, url);
		r->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
		strcpy(r->log_user, "-");
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY)
			r->too_large = true;
		if (!r->method || !r->url)
			return MHD_NO;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_large) {
			if (r->upload.len + *upload_size > API_MAX_BODY)
				r->too_large = true;
			else
				buf_append(&r->upload, upload, *upload_size);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->dispatched) {
		r->dispatched = true;
		r->body = buf_str(&r->upload);
		r->body_len = r->upload.len;
		if (r->upload.oom)
			r->too_large = true;
		if (!refuse_target(h))
			dispatch(r);
		if (r->suspended) {
			/* give the store connection back while the loop works */
			store_conn_put(api->store, r->db);
			r->db = NULL;
			pthread_mutex_lock(&api->lock);
			if (!r->finished) {
				r->mhd_suspended = true;
				MHD_suspend_connection(conn);
				pthread_mutex_unlock(&api->lock);
				return MHD_YES;
			}
			pthread_mutex_unlock(&api->lock);
		}
	}
	pthread_mutex_lock(&api->lock);
	bool ready = r->finished;
	pthread_mutex_unlock(&api->lock);
	if (!ready)
		return MHD_YES;
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct api *api = cls;
	struct http_request *h = *con_cls;
	(void)conn;
	(void)toe;
	if (!h)
		return;
	struct api_request *r = &h->r;
	if (!api->quiet) {
		int64_t us = mono_us() - r->start_us;
		if (h->begun)
			log_info("%s %s %d %.1fms %s", r->method, r->url, r->status, (double)us / 1000.0, r->log_user);
		else
			log_info("- %s refused by libmicrohttpd (request head too large or malformed) %.1fms",
			         h->log_path, (double)us / 1000.0);
	}
	if (r->db)
		store_conn_put(api->store, r->db);
	if (r->resp_custom)
		MHD_destroy_response(r->resp_custom);
	if (r->cleanup)
		r->cleanup(r->cleanup_arg);
	buf_fini(&r->upload);
	free(r->resp_body);
	arena_fini(&r->arena);
	bool begun = h->begun;
	free(h);
	*con_cls = NULL;
	if (begun)
		atomic_fetch_sub(&api->inflight, 1);
}

/* ---- start / stop ---------------------------------------------------------------- */

static int parse_listen(const char *listen, struct sockaddr_in *sa, struct gerr *err)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return gerr_set(err, GERR_INVALID, "--listen %s: expected ADDR:PORT", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return gerr_set(err, GERR_INVALID, "--listen %s: bad port", listen);
	sa->sin_port = htons((uint16_t)port);
	if (!*host)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return gerr_set(err, GERR_INVALID, "--listen %s: %s is not an IPv4 address", listen, host);
	return 0;
}

struct api *api_start(const struct api_config *cfg, struct gerr *err)
{
	struct sockaddr_in sa;
	struct api *api;

	if (parse_listen(cfg->listen, &sa, err) < 0)
		return NULL;
	api = calloc(1, sizeof(*api));
	if (!api || !(api->limiter = auth_limiter_new())) {
		free(api);
		gerr_set(err, GERR_NOMEM, "api: out of memory");
		return NULL;
	}
	if (!(api->logs = api_logs_new(cfg->server ? server_data_dir(cfg->server) : NULL, err))) {
		auth_limiter_free(api->limiter);
		free(api);
		return NULL;
	}
	pthread_mutex_init(&api->lock, NULL);
	api->store = cfg->store;
	api->server = cfg->server;
	api->quiet = cfg->quiet;
	api->web_dir = api_static_locate(cfg->web_dir);
	unsigned threads = cfg->threads;
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 2 ? 2 : (unsigned)n;
	}
	api->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
		on_request, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
		threads, MHD_OPTION_URI_LOG_CALLBACK, on_target, api,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, api, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_END);
	/* not MHD_OPTION_LISTENING_ADDRESS_REUSE: on Linux it sets SO_REUSEPORT,
	 * and a second server on the same port would start and share it; the
	 * default SO_REUSEADDR is enough to restart at once */
	if (!api->daemon) {
		gerr_set(err, GERR_IO, "cannot listen on %s: %s", cfg->listen,
		         errno ? strerror(errno) : "libmicrohttpd refused to start");
		auth_limiter_free(api->limiter);
		api_logs_free(api->logs);
		free(api->web_dir);
		free(api);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
	snprintf(api->address, sizeof(api->address), "%s:%u", ip,
	         info ? (unsigned)info->port : (unsigned)ntohs(sa.sin_port));
	return api;
}

const char *api_address(const struct api *a)
{
	return a->address;
}

void api_stop(struct api *a, int grace_ms)
{
	if (!a)
		return;
	MHD_quiesce_daemon(a->daemon);
	api_logs_shutdown(a->logs);   /* log streams would never finish on their own */
	for (int waited = 0; atomic_load(&a->inflight) > 0 && waited < grace_ms; waited += 10)
		usleep(10000);
	MHD_stop_daemon(a->daemon);
	api_logs_free(a->logs);
	auth_limiter_free(a->limiter);
	pthread_mutex_destroy(&a->lock);
	free(a->web_dir);
	free(a);
}
