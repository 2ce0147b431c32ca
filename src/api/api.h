/* SPDX-License-Identifier: MIT */
/*
 * api — the HTTP server: OpenPAI's REST API v2, Gantry's additions, health.
 *
 * libmicrohttpd runs a pool of worker threads (epoll). A worker reads the
 * request, authenticates and authorizes it, and either answers at once
 * (reads go to the store on the worker's own connection) or hands a command
 * to the control loop and suspends the connection; the loop resumes it with
 * the answer (api_request_finish). Workers never wait on the loop, so a slow
 * commit does not hold a thread.
 *
 * Every route answers under /api/... and /rest-server/api/..., with or
 * without a trailing slash. Errors are OpenPAI's {"code", "message"}.
 */
#ifndef GANTRY_API_API_H
#define GANTRY_API_API_H

#include <stdbool.h>
#include <stdint.h>

#include "base/gerr.h"

struct store;
struct server;
struct api;
struct api_request;

struct api_config {
	const char *listen;           /* "ADDR:PORT"; port 0 picks a free one */
	unsigned threads;             /* worker threads; 0: one per CPU, at least 2 */
	struct store *store;          /* kept: must outlive the api */
	struct server *server;        /* kept: the control loop and cluster view */
	bool quiet;                   /* no per-request log lines */
	const char *web_dir;          /* the portal's built files; NULL: look near the binary */
};

/* Start serving. Returns owned memory (api_stop) or NULL with err filled. */
struct api *api_start(const struct api_config *cfg, struct gerr *err);
/* The bound address, e.g. "127.0.0.1:9186". */
const char *api_address(const struct api *a);
/* Stop accepting, let in-flight requests finish (up to grace_ms), stop. */
void api_stop(struct api *a, int grace_ms);

/* ---- for the control loop ------------------------------------------------- */

/* Complete a suspended request with status and a body (taken: freed with the
 * response; NULL for none) of content type ctype. Any thread. */
void api_request_finish(struct api_request *r, int status, char *body, const char *ctype);

#endif
