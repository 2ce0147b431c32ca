/* SPDX-License-Identifier: MIT */
/* store/internal.h — what the store's files share: connections and statements. */
#ifndef GANTRY_STORE_INTERNAL_H
#define GANTRY_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

/* The columns read into a struct store_job, in store__read_job's order. */
#define STORE_JOB_COLUMNS                                                                           \
	"id, username, name, debug_id, vc, state, sub_state, execution_type, priority_class, priority, " \
	"submission_ms, created_ms, launched_ms, completed_ms, attempt_id, retries, user_retries, "    \
	"retry_delay_ms, app_exit_code, total_gpu, total_tasks, total_roles"

/* Every statement the store runs, in one list: name, SQL. */
#define STORE_STMT_MAP(X)                                                                          \
	X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
	X(COMMIT, "COMMIT")                                                                            \
	X(ROLLBACK, "ROLLBACK")                                                                        \
	X(META_GET, "SELECT value FROM meta WHERE key = ?1")                                           \
	X(META_SET, "INSERT INTO meta(key, value) VALUES(?1, ?2) "                                     \
	            "ON CONFLICT(key) DO UPDATE SET value = excluded.value")                           \
	X(USER_GET, "SELECT username, password_hash, email, extension, created_ms, password_changed_ms " \
	            "FROM users WHERE username = ?1")                                                  \
	X(USER_LIST, "SELECT username, password_hash, email, extension, created_ms, "                  \
	             "password_changed_ms FROM users ORDER BY username")                               \
	X(USER_GROUPS, "SELECT groupname FROM user_groups WHERE username = ?1 ORDER BY groupname")     \
	X(USER_INSERT, "INSERT INTO users(username, password_hash, email, extension, created_ms, "     \
	               "password_changed_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                          \
	X(USER_SET_PASSWORD, "UPDATE users SET password_hash = ?2, password_changed_ms = ?3 "          \
	                     "WHERE username = ?1")                                                    \
	X(USER_SET_EMAIL, "UPDATE users SET email = ?2 WHERE username = ?1")                           \
	X(USER_SET_EXTENSION, "UPDATE users SET extension = ?2 WHERE username = ?1")                   \
	X(USER_DELETE, "DELETE FROM users WHERE username = ?1")                                        \
	X(USER_COUNT, "SELECT count(*) FROM users")                                                    \
	X(USER_GROUPS_CLEAR, "DELETE FROM user_groups WHERE username = ?1")                            \
	X(USER_GROUP_ADD, "INSERT OR IGNORE INTO user_groups(username, groupname) VALUES(?1, ?2)")     \
	X(USER_GROUP_REMOVE, "DELETE FROM user_groups WHERE username = ?1 AND groupname = ?2")         \
	X(GROUP_GET, "SELECT groupname, description, external_name, extension FROM groups "            \
	             "WHERE groupname = ?1")                                                           \
	X(GROUP_LIST, "SELECT groupname, description, external_name, extension FROM groups "           \
	              "ORDER BY groupname")                                                            \
	X(GROUP_INSERT, "INSERT INTO groups(groupname, description, external_name, extension) "        \
	                "VALUES(?1, ?2, ?3, ?4)")                                                      \
	X(GROUP_REPLACE, "INSERT INTO groups(groupname, description, external_name, extension) "       \
	                 "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(groupname) DO UPDATE SET "                \
	                 "description = excluded.description, external_name = excluded.external_name, " \
	                 "extension = excluded.extension")                                             \
	X(GROUP_DELETE, "DELETE FROM groups WHERE groupname = ?1")                                     \
	X(GROUP_MEMBERS_CLEAR, "DELETE FROM user_groups WHERE groupname = ?1")                         \
	X(GROUP_MEMBERS, "SELECT username FROM user_groups WHERE groupname = ?1 ORDER BY username")    \
	X(TOKEN_INSERT, "INSERT INTO tokens(hash, username, application, created_ms, expires_ms) "     \
	                "VALUES(?1, ?2, ?3, ?4, ?5)")                                                  \
	X(TOKEN_GET, "SELECT username, application, created_ms, expires_ms FROM tokens "               \
	             "WHERE hash = ?1 AND (expires_ms = 0 OR expires_ms > ?2)")                        \
	X(TOKEN_LIST, "SELECT hash, application, created_ms, expires_ms FROM tokens "                  \
	              "WHERE username = ?1 AND (expires_ms = 0 OR expires_ms > ?2) ORDER BY created_ms") \
	X(TOKEN_PURGE, "DELETE FROM tokens WHERE username = ?1 AND expires_ms != 0 AND expires_ms <= ?2") \
	X(TOKEN_DELETE, "DELETE FROM tokens WHERE hash = ?1 AND username = ?2")                        \
	X(TOKEN_DELETE_USER, "DELETE FROM tokens WHERE username = ?1 AND (?2 = 0 OR application = 0)") \
	X(JOB_INSERT, "INSERT INTO jobs(username, name, debug_id, vc, state, sub_state, execution_type, " \
	              "priority_class, priority, submission_ms, created_ms, total_gpu, total_tasks, "   \
	              "total_roles, config) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, " \
	              "?13, ?14, ?15)")                                                                \
	X(JOB_SPEC_INSERT, "INSERT INTO job_specs(job_id, text) VALUES(?1, ?2)")                       \
	X(JOB_SPEC_GET, "SELECT text FROM job_specs WHERE job_id = ?1")                                \
	X(JOB_EXISTS, "SELECT 1 FROM jobs WHERE username = ?1 AND name = ?2")                          \
	X(JOB_GET, "SELECT " STORE_JOB_COLUMNS ", config, status FROM jobs "                          \
	           "WHERE username = ?1 AND name = ?2")                                                \
	X(JOB_ACTIVE, "SELECT " STORE_JOB_COLUMNS ", '', status FROM jobs WHERE state IN "            \
	              "('WAITING', 'RUNNING', 'STOPPING') ORDER BY submission_ms, id")                 \
	X(JOB_SET_STATE, "UPDATE jobs SET state = ?2, sub_state = ?3, execution_type = ?4, "          \
	                 "launched_ms = CASE WHEN ?5 > 0 THEN ?5 ELSE launched_ms END, "               \
	                 "completed_ms = CASE WHEN ?6 > 0 THEN ?6 ELSE completed_ms END, "             \
	                 "app_exit_code = CASE WHEN ?7 THEN ?8 ELSE app_exit_code END WHERE id = ?1")  \
	X(JOB_TAGS, "SELECT tag FROM job_tags WHERE job_id = ?1 ORDER BY tag")                         \
	X(JOB_TAG_ADD, "INSERT OR IGNORE INTO job_tags(job_id, tag) VALUES(?1, ?2)")                   \
	X(JOB_TAG_DEL, "DELETE FROM job_tags WHERE job_id = ?1 AND tag = ?2")                          \
	X(EVENT_LAST, "SELECT id, type, reason, message FROM job_events WHERE job_id = ?1 "            \
	              "ORDER BY id DESC LIMIT 1")                                                      \
	X(EVENT_BUMP, "UPDATE job_events SET count = count + 1, last_ms = ?2 WHERE id = ?1")           \
	X(EVENT_INSERT, "INSERT INTO job_events(job_id, time_ms, type, reason, message, last_ms) "     \
	                "VALUES(?1, ?2, ?3, ?4, ?5, ?2)")                                              \
	X(EVENT_LIST, "SELECT id, time_ms, last_ms, type, reason, message, count FROM job_events "     \
	              "WHERE job_id = ?1 AND (?2 IS NULL OR type = ?2) ORDER BY id")                   \
	X(PLACEMENT_PUT, "INSERT INTO placements(job_id, grp, bind, placed_ms) VALUES(?1, ?2, ?3, ?4) " \
	                 "ON CONFLICT(job_id, grp) DO UPDATE SET bind = excluded.bind, "               \
	                 "placed_ms = excluded.placed_ms")                                             \
	X(PLACEMENT_DEL, "DELETE FROM placements WHERE job_id = ?1 AND (?2 IS NULL OR grp = ?2)")      \
	X(PLACEMENT_LIST, "SELECT grp, bind, placed_ms FROM placements WHERE job_id = ?1 ORDER BY grp") \
	X(JOB_SAVE, "UPDATE jobs SET state = ?2, sub_state = ?3, execution_type = ?4, "               \
	            "launched_ms = ?5, completed_ms = ?6, attempt_id = ?7, retries = ?8, "             \
	            "user_retries = ?9, retry_delay_ms = ?10, app_exit_code = ?11, status = ?12 "      \
	            "WHERE id = ?1")                                                                   \
	X(TASK_PUT, "INSERT INTO tasks(job_id, attempt, pos, role, task_index, status) "               \
	            "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(job_id, attempt, pos) "                \
	            "DO UPDATE SET status = excluded.status")                                          \
	X(TASK_LIST, "SELECT pos, role, task_index, status FROM tasks WHERE job_id = ?1 "             \
	             "AND attempt = ?2 ORDER BY pos")                                                  \
	X(ATTEMPT_PUT, "INSERT INTO job_attempts(job_id, attempt, status) VALUES(?1, ?2, ?3) "        \
	               "ON CONFLICT(job_id, attempt) DO UPDATE SET status = excluded.status")          \
	X(ATTEMPT_LIST, "SELECT attempt, status FROM job_attempts WHERE job_id = ?1 ORDER BY attempt")

enum store_stmt {
#define X(name, sql) STMT_##name,
	STORE_STMT_MAP(X)
#undef X
	STMT__COUNT
};

struct store_conn {
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT__COUNT];   /* prepared on first use */
	struct store_conn *next;             /* free list */
	int in_tx;
};

/* The prepared statement, reset and unbound; NULL with err filled on failure. */
sqlite3_stmt *store__stmt(struct store_conn *c, enum store_stmt id, struct gerr *err);
/* Map a SQLite result code to a gerr. */
int store__fail(struct store_conn *c, int rc, struct gerr *err, const char *what);
/* Copy column i as text into the arena ("" for NULL). */
const char *store__text(sqlite3_stmt *st, int i, struct arena *a);
/* Run a statement that returns no rows. */
int store__exec(struct store_conn *c, sqlite3_stmt *st, struct gerr *err, const char *what);

/* migrate.c */
int store__migrate(sqlite3 *db, struct gerr *err);

#endif
