/* SPDX-License-Identifier: MIT */
/*
 * server — `gantry server`: the process that ties the modules together.
 *
 * It opens the store, bootstraps the admin user and the groups, builds the
 * cluster (the embedded default from this machine, or a --config file) and
 * its scheduler, starts the control loop and the HTTP API, and stops them in
 * reverse order on SIGTERM/SIGINT.
 *
 * The control loop (loop.c) is the one thread that owns mutable cluster
 * state: the scheduler and the jobs it places. HTTP workers send it commands
 * (submit, stop) with a completion callback, which the loop calls after the
 * decision is committed to the store; they read cluster figures from a
 * snapshot the loop republishes after every change (no locks on hot paths,
 * no waiting on the loop for reads).
 */
#ifndef GANTRY_SERVER_SERVER_H
#define GANTRY_SERVER_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/gerr.h"

struct server;
struct spec_job;
struct spec_cluster;

struct server_config {
	const char *data_dir;         /* --data, $GANTRY_DATA, ./var */
	const char *listen;           /* --listen, 127.0.0.1:9186 */
	const char *config_file;      /* --config, or NULL for the embedded default */
	bool quiet;                   /* no per-request log lines */
	const char *web_dir;          /* --web, $GANTRY_WEB: the portal; NULL: web/dist near the binary */
	int port_start, port_end;     /* --ports START-END: tasks' host ports, end exclusive */
	int stop_grace_s;             /* --stop-grace, $GANTRY_STOP_GRACE: SIGTERM → SIGKILL */
	int64_t wait_refresh_ms;      /* $GANTRY_WAIT_REFRESH_MS: a Waiting event's figures, at most this often */
};

/* Run until SIGTERM/SIGINT. Returns 0 after a clean stop, 1 on a start
 * failure (the reason logged). */
int server_run(const struct server_config *cfg);

/* ---- reads for the API (any thread) ---------------------------------------- */

/* Gantry's part of GET /api/v2/info: version, commit, capabilities. New ref. */
json_t *server_info_json(struct server *s);
/* The latest cluster snapshot: {"vcs": {...}, "nodes": [...], "skus": {...}}.
 * New reference; never NULL while the server runs. */
json_t *server_snapshot(struct server *s);
/* Immutable SKU and VC figures for spec_job_load (valid while s runs). */
const struct spec_cluster *server_spec_cluster(struct server *s);
/* Is vc a virtual cluster of this cluster? */
bool server_vc_exists(struct server *s, const char *vc);
/* The data directory (--data): fixed for the server's life. */
const char *server_data_dir(struct server *s);

/* ---- commands to the control loop ------------------------------------------ */

/* Called on the loop thread once the command's outcome is committed:
 * an HTTP status and a JSON body (taken). */
typedef void (*server_done_fn)(void *ctx, int status, char *body);

/*
 * Submit a validated job (borrowed until done runs) as user; text[0..len) is
 * the file as submitted (borrowed likewise). The loop checks the name is new
 * (409 ConflictJobError), admits it against the scheduler (400 when its
 * virtual cluster can never hold it), stores it and answers 201. Returns 0,
 * or GERR_NOMEM / GERR_IO when the command could not be queued (then done
 * is never called).
 */
int server_submit(struct server *s, const struct spec_job *job, const char *user, const char *text,
                  size_t len, server_done_fn done, void *ctx);

/* Stop job `id`, user~name (the caller checked it exists and the rights):
 * a waiting job stops at once, a running one stops its tasks first. */
int server_stop(struct server *s, int64_t id, const char *user, const char *name, const char *by,
                server_done_fn done, void *ctx);

#endif
