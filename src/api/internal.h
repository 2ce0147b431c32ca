/* SPDX-License-Identifier: MIT */
/*
 * api/internal.h — the request, the route table, and handler helpers.
 *
 * A handler gets a parsed request (path parameters, query, body, the caller
 * already authenticated to the route's level) and answers with one of:
 *   api_json(r, status, json)        a JSON body (json taken)
 *   api_text(r, status, ctype, txt)  any body
 *   api_fail(r, status, code, fmt)   OpenPAI's {"code", "message"}
 *   api_suspend(r)                   the control loop answers later
 * and returns 0 (or a negative GERR_* for an unexpected failure, which the
 * router turns into a 500 UnknownError).
 */
#ifndef GANTRY_API_INTERNAL_H
#define GANTRY_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "auth/auth.h"
#include "base/arena.h"
#include "base/buf.h"
#include "store/store.h"

#define API_MAX_BODY (4u << 20)    /* 4 MiB: 413 past it */
#define API_MAX_PARAMS 8

enum api_auth {
	API_NONE,          /* anyone */
	API_USER,          /* any valid token, application tokens too */
	API_USER_NOAPP,    /* a browser (login) token */
	API_ADMIN,         /* an admin's browser token */
	API_ADMIN_APP,     /* an admin, application tokens allowed */
};

struct api_request;
typedef int (*api_handler)(struct api_request *r);

struct api_route {
	const char *method;      /* "GET" ... */
	const char *pattern;     /* "/api/v2/jobs/:job"; ":x" one segment, "*" the rest */
	enum api_auth auth;
	api_handler handler;
};

struct api_request {
	/* read-only for handlers */
	struct api *api;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;               /* as received (unescaped by MHD) */
	const char *path;              /* without /rest-server and trailing '/' */
	const char *params[API_MAX_PARAMS];  /* path parameters, in pattern order */
	const char *body;              /* NUL-terminated */
	size_t body_len;
	const char *content_type;
	struct auth_user user;         /* valid when user_ok */
	bool user_ok;
	struct store_conn *db;         /* this worker's connection, for the request */
	struct arena arena;            /* request memory, freed with the response */
	int64_t start_us;
	int64_t now_ms;                /* wall clock at arrival */

	void (*cleanup)(void *);       /* run when the request is done, e.g. to free */
	void *cleanup_arg;             /* memory the control loop borrowed */

	/* private */
	struct buf upload;
	bool too_large;
	bool dispatched;
	bool suspended;                /* the handler handed the request to the loop */
	bool mhd_suspended;            /* MHD holds the connection (under api->lock) */
	bool finished;                 /* a response is ready (under api->lock once suspended) */
	int status;
	char *resp_body;               /* malloc'd */
	size_t resp_len;
	const char *resp_type;
	const char *extra_header, *extra_value;
	struct MHD_Response *resp_custom;   /* queued instead of resp_body (api_response) */
	char log_user[64];
};

/* ---- answers ---------------------------------------------------------------- */

int api_json(struct api_request *r, int status, json_t *body);
int api_text(struct api_request *r, int status, const char *ctype, const char *text);
/* Any bytes: body[0..len) (malloc'd, taken, even on error). */
int api_bytes(struct api_request *r, int status, const char *ctype, char *body, size_t len);
int api_fail(struct api_request *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A gerr from a lower layer: its message with a status and code picked
 * from the gerr code (NOT_FOUND → 404 with not_found_code, ...). */
int api_fail_gerr(struct api_request *r, const struct gerr *e, const char *not_found_code);
/* 201/200 {"message": ...} as OpenPAI answers mutations. */
int api_message(struct api_request *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int api_suspend(struct api_request *r);
/* A response built by the handler (a file, a stream): taken, queued as is
 * with the common headers added. */
int api_response(struct api_request *r, int status, struct MHD_Response *resp);

/* ---- inputs ----------------------------------------------------------------- */

/* Query argument, or NULL. */
const char *api_query(struct api_request *r, const char *key);
/* The body as a JSON object: JSON, or a form (x-www-form-urlencoded) whose
 * values are strings. Answers 400 itself and returns NULL when it is neither. */
json_t *api_body_object(struct api_request *r);
/* Strict field readers for request objects: answer 400 InvalidParametersError
 * naming the field and return false when the type is wrong. */
bool api_field_string(struct api_request *r, json_t *o, const char *key, bool required,
                      const char **out);
bool api_field_bool(struct api_request *r, json_t *o, const char *key, bool *out);
/* OpenPAI's username pattern; false after answering 400 (users.c). */
bool api_check_username(struct api_request *r, const char *username);
bool api_field_strings(struct api_request *r, json_t *o, const char *key, const char ***out,
                       size_t *n);

/* ---- shared state --------------------------------------------------------- */

struct store *api_store(struct api_request *r);
struct server *api_server(struct api_request *r);
struct auth_limiter *api_limiter(struct api_request *r);
struct api_logs *api_logs(struct api_request *r);

/* ---- the routes ------------------------------------------------------------ */

extern const struct api_route api_routes[];
extern const size_t api_nroutes;

/* static.c: the web portal's files */
/* The portal's directory (configured, else found near the binary), resolved;
 * returned owned (free), or NULL (logged): serve the API only. */
char *api_static_locate(const char *configured);
/* Answer a GET no route matched from dir (NULL: not built): a file, or
 * index.html for the app's own paths. False: not the portal's (a 404 API). */
bool api_static_get(struct api_request *r, const char *dir);

/* logs.c: task logs (the log-link secret, and streams through follow.c) */
struct api_logs;
/* data_dir: where the log-link secret is kept (NULL: a new one per process).
 * Returns owned memory (api_logs_free) or NULL with err. */
struct api_logs *api_logs_new(const char *data_dir, struct gerr *err);
/* Stopping: end every log stream now (before waiting for requests to finish). */
void api_logs_shutdown(struct api_logs *l);
void api_logs_free(struct api_logs *l);
int api_get_task_logs(struct api_request *r);
int api_get_task_log(struct api_request *r);

/* info.c */
int api_get_root(struct api_request *r);
int api_get_info(struct api_request *r);
int api_get_healthz(struct api_request *r);
int api_get_authn_info(struct api_request *r);
/* authn.c */
int api_post_login(struct api_request *r);
int api_delete_logout(struct api_request *r);
int api_get_tokens(struct api_request *r);
int api_post_app_token(struct api_request *r);
int api_delete_token(struct api_request *r);
int api_get_token_check(struct api_request *r);
/* users.c */
int api_get_users(struct api_request *r);
int api_get_user(struct api_request *r);
int api_post_user(struct api_request *r);
int api_put_users(struct api_request *r);
int api_put_user_me(struct api_request *r);
int api_delete_user(struct api_request *r);
int api_put_user_grouplist(struct api_request *r);
int api_put_user_group(struct api_request *r);
int api_delete_user_group(struct api_request *r);
int api_put_user_extension(struct api_request *r);
int api_put_user_virtualcluster(struct api_request *r);
int api_put_user_password(struct api_request *r);
int api_put_user_email(struct api_request *r);
int api_put_user_admin(struct api_request *r);
/* groups.c */
int api_get_groups(struct api_request *r);
int api_get_group(struct api_request *r);
int api_post_group(struct api_request *r);
int api_put_groups(struct api_request *r);
int api_delete_group(struct api_request *r);
int api_get_group_userlist(struct api_request *r);
int api_put_group_field(struct api_request *r);
/* cluster.c */
int api_get_vcs(struct api_request *r);
int api_get_vc(struct api_request *r);
int api_put_vc(struct api_request *r);
int api_get_sku_types(struct api_request *r);
int api_get_nodes(struct api_request *r);
int api_get_storages(struct api_request *r);
int api_get_storage(struct api_request *r);
/* jobs.c */
int api_get_jobs(struct api_request *r);
int api_post_job(struct api_request *r);
int api_get_job(struct api_request *r);
int api_get_job_attempt(struct api_request *r);
int api_get_job_config(struct api_request *r);
int api_put_job_execution(struct api_request *r);
int api_put_job_tag(struct api_request *r);
int api_delete_job_tag(struct api_request *r);
int api_get_job_events(struct api_request *r);
int api_get_job_attempts(struct api_request *r);
int api_get_job_attempt_index(struct api_request *r);
int api_get_job_ssh(struct api_request *r);
int api_get_v1_user_job(struct api_request *r);

#endif
