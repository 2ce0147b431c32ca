/* SPDX-License-Identifier: MIT */
/*
 * migrate.c — the schema, as numbered migrations.
 *
 * PRAGMA user_version holds the number of migrations applied. At open, each
 * missing migration runs in its own transaction, in order. A migration is
 * never edited once released; a change is a new migration at the end.
 */
#include <stdio.h>

#include "store/internal.h"

static const char *const MIGRATIONS[] = {
	/* 1: users, groups, tokens, jobs */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") STRICT;"

	"CREATE TABLE users ("
	"  username TEXT PRIMARY KEY,"
	"  password_hash TEXT NOT NULL,"
	"  email TEXT NOT NULL DEFAULT '',"
	"  extension TEXT NOT NULL DEFAULT '{}',"
	"  created_ms INTEGER NOT NULL,"
	"  password_changed_ms INTEGER NOT NULL"
	") STRICT;"

	"CREATE TABLE groups ("
	"  groupname TEXT PRIMARY KEY,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  external_name TEXT NOT NULL DEFAULT '',"
	"  extension TEXT NOT NULL DEFAULT '{}'"
	") STRICT;"

	"CREATE TABLE user_groups ("
	"  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
	"  groupname TEXT NOT NULL,"
	"  PRIMARY KEY (username, groupname)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX user_groups_by_group ON user_groups(groupname, username);"

	"CREATE TABLE tokens ("
	"  hash BLOB PRIMARY KEY,"                 /* SHA-256 of the token */
	"  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,"
	"  application INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL"           /* 0: never */
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX tokens_by_user ON tokens(username, created_ms);"

	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  debug_id TEXT NOT NULL,"               /* md5(user~name), OpenPAI's Framework name */
	"  vc TEXT NOT NULL,"
	"  state TEXT NOT NULL,"                  /* WAITING RUNNING STOPPING STOPPED SUCCEEDED FAILED */
	"  sub_state TEXT NOT NULL,"              /* FrameworkController state */
	"  execution_type TEXT NOT NULL,"         /* START STOP */
	"  priority_class TEXT,"                  /* prod test oppo, NULL when not given */
	"  priority INTEGER NOT NULL,"
	"  submission_ms INTEGER NOT NULL,"
	"  created_ms INTEGER,"
	"  launched_ms INTEGER,"
	"  completed_ms INTEGER,"
	"  attempt_id INTEGER NOT NULL DEFAULT 0,"
	"  retries INTEGER NOT NULL DEFAULT 0,"
	"  user_retries INTEGER NOT NULL DEFAULT 0,"
	"  retry_delay_ms INTEGER NOT NULL DEFAULT 0,"
	"  app_exit_code INTEGER,"
	"  total_gpu INTEGER NOT NULL,"
	"  total_tasks INTEGER NOT NULL,"
	"  total_roles INTEGER NOT NULL,"
	"  config TEXT NOT NULL,"                 /* the submitted YAML, secrets masked */
	"  UNIQUE (username, name)"
	") STRICT;"
	"CREATE INDEX jobs_by_time ON jobs(submission_ms, id);"
	"CREATE INDEX jobs_by_user ON jobs(username, submission_ms);"
	"CREATE INDEX jobs_by_vc ON jobs(vc, submission_ms);"
	"CREATE INDEX jobs_by_state ON jobs(state, submission_ms);"
	"CREATE INDEX jobs_by_priority ON jobs(priority_class, submission_ms);"
	"CREATE INDEX jobs_by_name ON jobs(name);"

	/* the job file as submitted, secrets included: read only by the runtime */
	"CREATE TABLE job_specs ("
	"  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
	"  text TEXT NOT NULL"
	") STRICT;"

	/* keyword search: a trigram index over name, user and VC */
	"CREATE VIRTUAL TABLE jobs_fts USING fts5("
	"  name, username, vc, content='jobs', content_rowid='id', tokenize='trigram');"
	"CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN"
	"  INSERT INTO jobs_fts(rowid, name, username, vc) VALUES (new.id, new.name, new.username, new.vc);"
	"END;"
	"CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN"
	"  INSERT INTO jobs_fts(jobs_fts, rowid, name, username, vc)"
	"    VALUES ('delete', old.id, old.name, old.username, old.vc);"
	"END;"

	"CREATE TABLE job_tags ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  tag TEXT NOT NULL,"
	"  PRIMARY KEY (job_id, tag)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX job_tags_by_tag ON job_tags(tag, job_id);"

	"CREATE TABLE job_events ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  time_ms INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"                   /* Normal Warning */
	"  reason TEXT NOT NULL,"
	"  message TEXT NOT NULL,"
	"  count INTEGER NOT NULL DEFAULT 1,"
	"  last_ms INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX job_events_by_job ON job_events(job_id, id);"

	/* where the scheduler placed each of the job's gangs (one for a gang
	 * job, one per task otherwise): HiveD's bind info as JSON, restored at
	 * start so placements survive restarts */
	"CREATE TABLE placements ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  grp TEXT NOT NULL,"
	"  bind TEXT NOT NULL,"
	"  placed_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (job_id, grp)"
	") STRICT, WITHOUT ROWID;",

	/* 2: running jobs — the controller's status of a job (JSON), each task
	 * of each job attempt, and the history of finished job attempts */
	"ALTER TABLE jobs ADD COLUMN status TEXT NOT NULL DEFAULT '{}';"

	"CREATE TABLE tasks ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  attempt INTEGER NOT NULL,"             /* the job attempt */
	"  pos INTEGER NOT NULL,"                 /* the task's place in the job, role by role */
	"  role TEXT NOT NULL,"
	"  task_index INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"                 /* JSON: state, task attempt, retries, node, ports, exit */
	"  PRIMARY KEY (job_id, attempt, pos)"
	") STRICT, WITHOUT ROWID;"

	"CREATE TABLE job_attempts ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  attempt INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"                 /* JSON: the job's status when the attempt ended */
	"  PRIMARY KEY (job_id, attempt)"
	") STRICT, WITHOUT ROWID;",
};

#define NMIGRATIONS ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

int store__migrate(sqlite3 *db, struct gerr *err)
{
	sqlite3_stmt *st;
	int version = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return gerr_set(err, GERR_IO, "store: %s", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > NMIGRATIONS)
		return gerr_set(err, GERR_CONFIG,
		                "store: the database is at schema %d, newer than this gantry (%d); "
		                "use a newer gantry", version, NMIGRATIONS);
	for (int v = version; v < NMIGRATIONS; v++) {
		char *msg = NULL;
		char setv[64];
		snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, MIGRATIONS[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, setv, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			int rc = gerr_set(err, GERR_IO, "store: migration %d failed: %s", v + 1,
			                  msg ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}
