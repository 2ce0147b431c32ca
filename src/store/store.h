/* SPDX-License-Identifier: MIT */
/*
 * store — everything Gantry must not forget, in SQLite.
 *
 * One database file under the data directory, in WAL mode with
 * synchronous=FULL: a transaction that returned from commit survives a
 * kill -9 and a power cut. The schema is a list of numbered migrations
 * (migrate.c) applied at open; tables are STRICT and every list filter has an
 * index. Statements are prepared once per connection and reused.
 *
 * Threads: a struct store hands out connections from a pool; a connection is
 * used by one thread at a time (store_conn_get / store_conn_put). Readers
 * never block the writer (WAL). Writers take SQLite's lock in turn, waiting
 * up to busy_timeout. Every write is one transaction: either the typed write
 * functions below run inside store_tx_begin/commit, or they open their own.
 *
 * Never: hold a connection across a blocking wait; return a row's memory past
 * the next call on the same connection (values are copied into the caller's
 * arena); put a secret in a log line.
 */
#ifndef GANTRY_STORE_STORE_H
#define GANTRY_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/gerr.h"

struct store;
struct store_conn;

/* Open (creating if needed) DIR/gantry.db and apply migrations. Returns
 * owned memory (store_close) or NULL with err filled. */
struct store *store_open(const char *dir, struct gerr *err);
/* Waits for borrowed connections to come back, then closes everything. */
void store_close(struct store *s);

/* A connection for this thread; NULL only when out of memory or the database
 * cannot be opened (err filled). Give it back with store_conn_put. */
struct store_conn *store_conn_get(struct store *s, struct gerr *err);
void store_conn_put(struct store *s, struct store_conn *c);

int store_tx_begin(struct store_conn *c, struct gerr *err);   /* BEGIN IMMEDIATE */
int store_tx_commit(struct store_conn *c, struct gerr *err);
void store_tx_rollback(struct store_conn *c);

/* The schema version after migrations (for `gantry doctor` and tests). */
int store_schema_version(struct store_conn *c);

/* ---- users and groups ---------------------------------------------------- */

struct store_user {
	const char *username;
	const char *password_hash;     /* argon2id PHC string; never leaves the server */
	const char *email;
	const char *extension;         /* JSON object text */
	int64_t created_ms;
	int64_t password_changed_ms;
	const char **groups;           /* group names, sorted */
	size_t ngroups;
};

struct store_group {
	const char *groupname;
	const char *description;
	const char *external_name;
	const char *extension;         /* JSON object text; extension.acls carries the rights */
};

/* Fill *u (strings in a). 0, GERR_NOT_FOUND, or another error. */
int store_user_get(struct store_conn *c, const char *username, struct arena *a,
                   struct store_user *u, struct gerr *err);
/* All users, by name; *out in a. */
int store_user_list(struct store_conn *c, struct arena *a, struct store_user **out, size_t *n,
                    struct gerr *err);
/* GERR_CONFLICT if the name is taken. */
int store_user_insert(struct store_conn *c, const struct store_user *u, struct gerr *err);
/* Update the fields that are non-NULL (password_hash, email, extension). */
int store_user_update(struct store_conn *c, const char *username, const char *password_hash,
                      const char *email, const char *extension, int64_t now_ms, struct gerr *err);
int store_user_delete(struct store_conn *c, const char *username, struct gerr *err);
/* Replace the user's groups with groups[0..n). */
int store_user_set_groups(struct store_conn *c, const char *username, const char *const *groups,
                          size_t n, struct gerr *err);
int store_user_add_group(struct store_conn *c, const char *username, const char *group, struct gerr *err);
int store_user_remove_group(struct store_conn *c, const char *username, const char *group,
                            struct gerr *err);
size_t store_user_count(struct store_conn *c);

int store_group_get(struct store_conn *c, const char *name, struct arena *a, struct store_group *g,
                    struct gerr *err);
int store_group_list(struct store_conn *c, struct arena *a, struct store_group **out, size_t *n,
                     struct gerr *err);
/* Insert, or with replace, overwrite. GERR_CONFLICT when it exists and !replace. */
int store_group_put(struct store_conn *c, const struct store_group *g, bool replace, struct gerr *err);
/* Deleting a group also removes it from every user. */
int store_group_delete(struct store_conn *c, const char *name, struct gerr *err);
/* Members of a group, by name. */
int store_group_members(struct store_conn *c, const char *name, struct arena *a, const char ***out,
                        size_t *n, struct gerr *err);

/* ---- tokens --------------------------------------------------------------- */

struct store_token {
	uint8_t hash[32];              /* SHA-256 of the token; the token itself is never stored */
	const char *username;
	bool application;
	int64_t created_ms;
	int64_t expires_ms;            /* 0: never */
};

int store_token_insert(struct store_conn *c, const struct store_token *t, struct gerr *err);
/* GERR_NOT_FOUND when absent or expired at now_ms. */
int store_token_get(struct store_conn *c, const uint8_t hash[32], int64_t now_ms, struct arena *a,
                    struct store_token *t, struct gerr *err);
int store_token_list(struct store_conn *c, const char *username, int64_t now_ms, struct arena *a,
                     struct store_token **out, size_t *n, struct gerr *err);
/* Delete one token by hash (only if it belongs to username); GERR_NOT_FOUND otherwise. */
int store_token_delete(struct store_conn *c, const uint8_t hash[32], const char *username,
                       struct gerr *err);
/* Delete a user's tokens: browser tokens only, or all of them. */
int store_token_delete_user(struct store_conn *c, const char *username, bool browser_only,
                            struct gerr *err);

/* ---- jobs ------------------------------------------------------------------ */

struct store_job {
	int64_t id;
	const char *username, *name;
	const char *debug_id;          /* md5(user~name) */
	const char *vc;
	const char *state;             /* WAITING RUNNING STOPPING STOPPED SUCCEEDED FAILED */
	const char *sub_state;         /* FrameworkController state */
	const char *execution_type;    /* START STOP */
	const char *priority_class;    /* NULL when the job gave none */
	int priority;
	int64_t submission_ms;
	int64_t created_ms, launched_ms, completed_ms;   /* 0: not yet */
	int attempt_id;
	int retries, user_retries;
	int64_t retry_delay_ms;
	bool has_exit_code;
	int app_exit_code;
	int64_t total_gpu, total_tasks, total_roles;
	const char *config;            /* masked YAML; only by store_job_get */
	const char *status;            /* the controller's status (JSON); by store_job_get and _active */
	const char **tags;
	size_t ntags;
};

/* Insert; sets j->id. GERR_CONFLICT when user~name exists (ever existed). */
int store_job_insert(struct store_conn *c, struct store_job *j, const char *spec_text, struct gerr *err);
/* By user and name (config and tags included). 0 or GERR_NOT_FOUND. */
int store_job_get(struct store_conn *c, const char *user, const char *name, struct arena *a,
                  struct store_job *j, struct gerr *err);
/* 1 when user~name exists (ever existed), 0 when not, or a negative GERR_*. */
int store_job_exists(struct store_conn *c, const char *user, const char *name, struct gerr *err);
/* The file as submitted, secrets included (for the runtime only). */
int store_job_spec(struct store_conn *c, int64_t id, struct arena *a, const char **text, struct gerr *err);
/* Jobs not in a final state, by submission order (recovery). */
int store_job_active(struct store_conn *c, struct arena *a, struct store_job **out, size_t *n,
                     struct gerr *err);
/* State change; times given as 0 are left as they are. */
int store_job_set_state(struct store_conn *c, int64_t id, const char *state, const char *sub_state,
                        const char *execution_type, int64_t launched_ms, int64_t completed_ms,
                        const int *exit_code, struct gerr *err);

/* The controller's view of a job, saved after each of its decisions. */
struct store_job_status {
	const char *state, *sub_state, *execution_type;
	int64_t launched_ms, completed_ms;  /* 0: not yet (NULL) */
	int attempt_id, retries, user_retries;
	int64_t retry_delay_ms;
	bool has_exit_code;
	int app_exit_code;
	const char *status;            /* JSON */
};
int store_job_save(struct store_conn *c, int64_t id, const struct store_job_status *s, struct gerr *err);

/* One task of one job attempt. */
struct store_task {
	int64_t pos;                   /* the task's place in the job, role by role */
	const char *role;
	int64_t index;
	const char *status;            /* JSON */
};
int store_task_put(struct store_conn *c, int64_t job_id, int64_t attempt, const struct store_task *t,
                   struct gerr *err);
int store_task_list(struct store_conn *c, int64_t job_id, int64_t attempt, struct arena *a,
                    struct store_task **out, size_t *n, struct gerr *err);

/* A finished job attempt (history). */
struct store_attempt {
	int64_t attempt;
	const char *status;            /* JSON */
};
int store_attempt_put(struct store_conn *c, int64_t job_id, int64_t attempt, const char *status,
                      struct gerr *err);
int store_attempt_list(struct store_conn *c, int64_t job_id, struct arena *a, struct store_attempt **out,
                       size_t *n, struct gerr *err);

struct store_job_query {
	const char **usernames; size_t nusernames;
	const char **vcs; size_t nvcs;
	const char **states; size_t nstates;
	const char **priorities; size_t npriorities;   /* prod test oppo, "default" = none given */
	const char **tags_in; size_t ntags_in;         /* any of */
	const char **tags_out; size_t ntags_out;       /* none of */
	const char *keyword;                           /* substring of name, user or VC */
	const char *order_field;                       /* SQL column (validated by the caller) */
	bool order_desc;
	bool order_nullable;                           /* the column may be NULL */
	int64_t offset, limit;
	bool with_total;
};
int store_job_list(struct store_conn *c, const struct store_job_query *q, struct arena *a,
                   struct store_job **out, size_t *n, int64_t *total, struct gerr *err);

int store_job_tag(struct store_conn *c, int64_t id, const char *tag, bool add, struct gerr *err);

struct store_event {
	int64_t id;
	int64_t time_ms, last_ms;
	const char *type;              /* Normal Warning */
	const char *reason;            /* Submitted, Waiting, Placed, Stopped ... */
	const char *message;
	int count;
};
/* Append an event; an event equal to the job's last one (type, reason,
 * message) only bumps its count and last time. */
int store_job_event(struct store_conn *c, int64_t job_id, int64_t now_ms, const char *type,
                    const char *reason, const char *message, struct gerr *err);
int store_job_events(struct store_conn *c, int64_t job_id, const char *type, struct arena *a,
                     struct store_event **out, size_t *n, struct gerr *err);

/* Placements: one row per gang of a job. */
int store_placement_put(struct store_conn *c, int64_t job_id, const char *group, const char *bind_json,
                        int64_t now_ms, struct gerr *err);
int store_placement_delete(struct store_conn *c, int64_t job_id, const char *group, struct gerr *err);
struct store_placement {
	const char *group;
	const char *bind;
	int64_t placed_ms;
};
int store_placement_list(struct store_conn *c, int64_t job_id, struct arena *a,
                         struct store_placement **out, size_t *n, struct gerr *err);

/* ---- key/value ------------------------------------------------------------ */

/* Small settings (server id, first-start marker). *value in a, or NULL. */
int store_meta_get(struct store_conn *c, const char *key, struct arena *a, const char **value,
                   struct gerr *err);
int store_meta_set(struct store_conn *c, const char *key, const char *value, struct gerr *err);

#endif
