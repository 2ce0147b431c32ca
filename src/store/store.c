/* SPDX-License-Identifier: MIT */
/*
 * store.c — opening the database, the connection pool, statements,
 * transactions, and the meta table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/internal.h"

struct store {
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t returned;
	struct store_conn *free;   /* idle connections */
	size_t out;                /* connections handed out */
};

static const char *const SQL[STMT__COUNT] = {
#define X(name, sql) sql,
	STORE_STMT_MAP(X)
#undef X
};

static struct store_conn *conn_open(const char *path, struct gerr *err)
{
	struct store_conn *c = calloc(1, sizeof(*c));
	char *msg = NULL;

	if (!c) {
		gerr_set(err, GERR_NOMEM, "store: out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		gerr_set(err, GERR_IO, "store: cannot open %s: %s", path,
		         c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 10000);
	if (sqlite3_exec(c->db,
	                 "PRAGMA journal_mode = WAL;"
	                 "PRAGMA synchronous = FULL;"
	                 "PRAGMA foreign_keys = ON;"
	                 "PRAGMA temp_store = MEMORY;",
	                 NULL, NULL, &msg) != SQLITE_OK) {
		gerr_set(err, GERR_IO, "store: %s: %s", path, msg ? msg : sqlite3_errmsg(c->db));
		sqlite3_free(msg);
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	return c;
}

static void conn_close(struct store_conn *c)
{
	for (int i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	sqlite3_close(c->db);
	free(c);
}

struct store *store_open(const char *dir, struct gerr *err)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		gerr_set(err, GERR_NOMEM, "store: out of memory");
		return NULL;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		gerr_set(err, GERR_IO, "store: cannot create %s: %s", dir, strerror(errno));
		free(s);
		return NULL;
	}
	size_t n = strlen(dir) + sizeof("/gantry.db");
	s->path = malloc(n);
	if (!s->path) {
		free(s);
		gerr_set(err, GERR_NOMEM, "store: out of memory");
		return NULL;
	}
	snprintf(s->path, n, "%s/gantry.db", dir);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->returned, NULL);

	struct store_conn *c = conn_open(s->path, err);
	if (!c || store__migrate(c->db, err) < 0) {
		if (c)
			conn_close(c);
		store_close(s);
		return NULL;
	}
	s->free = c;
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	while (s->out > 0)
		pthread_cond_wait(&s->returned, &s->lock);
	struct store_conn *c = s->free;
	s->free = NULL;
	pthread_mutex_unlock(&s->lock);
	while (c) {
		struct store_conn *next = c->next;
		conn_close(c);
		c = next;
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->returned);
	free(s->path);
	free(s);
}

struct store_conn *store_conn_get(struct store *s, struct gerr *err)
{
	pthread_mutex_lock(&s->lock);
	struct store_conn *c = s->free;
	if (c)
		s->free = c->next;
	s->out++;
	pthread_mutex_unlock(&s->lock);
	if (!c) {
		c = conn_open(s->path, err);
		if (!c) {
			pthread_mutex_lock(&s->lock);
			s->out--;
			pthread_cond_broadcast(&s->returned);
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
	}
	c->next = NULL;
	return c;
}

void store_conn_put(struct store *s, struct store_conn *c)
{
	if (!c)
		return;
	if (c->in_tx)
		store_tx_rollback(c);
	pthread_mutex_lock(&s->lock);
	c->next = s->free;
	s->free = c;
	s->out--;
	pthread_cond_broadcast(&s->returned);
	pthread_mutex_unlock(&s->lock);
}

int store__fail(struct store_conn *c, int rc, struct gerr *err, const char *what)
{
	int code = GERR_IO;
	if (rc == SQLITE_NOMEM)
		code = GERR_NOMEM;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		code = GERR_CONFLICT;
	return gerr_set(err, code, "store: %s: %s", what, sqlite3_errmsg(c->db));
}

sqlite3_stmt *store__stmt(struct store_conn *c, enum store_stmt id, struct gerr *err)
{
	sqlite3_stmt *st = c->stmts[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(c->db, SQL[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK) {
			store__fail(c, rc, err, "prepare");
			return NULL;
		}
		c->stmts[id] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return st;
}

int store__exec(struct store_conn *c, sqlite3_stmt *st, struct gerr *err, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store__fail(c, rc, err, what);
	return 0;
}

const char *store__text(sqlite3_stmt *st, int i, struct arena *a)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	return arena_strndup(a, t ? (const char *)t : "", t ? (size_t)n : 0);
}

int store_tx_begin(struct store_conn *c, struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_BEGIN, err);
	if (!st)
		return err ? err->code : GERR_IO;
	int rc = store__exec(c, st, err, "begin");
	if (!rc)
		c->in_tx = 1;
	return rc;
}

int store_tx_commit(struct store_conn *c, struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_COMMIT, err);
	if (!st)
		return err ? err->code : GERR_IO;
	int rc = store__exec(c, st, err, "commit");
	if (rc)
		store_tx_rollback(c);
	c->in_tx = 0;
	return rc;
}

void store_tx_rollback(struct store_conn *c)
{
	sqlite3_stmt *st = store__stmt(c, STMT_ROLLBACK, NULL);
	if (st)
		store__exec(c, st, NULL, "rollback");
	c->in_tx = 0;
}

int store_schema_version(struct store_conn *c)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

int store_meta_get(struct store_conn *c, const char *key, struct arena *a, const char **value,
                   struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_META_GET, err);
	if (!st)
		return err ? err->code : GERR_IO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	*value = rc == SQLITE_ROW ? store__text(st, 0, a) : NULL;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store__fail(c, rc, err, "meta");
	return 0;
}

int store_meta_set(struct store_conn *c, const char *key, const char *value, struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_META_SET, err);
	if (!st)
		return err ? err->code : GERR_IO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return store__exec(c, st, err, "meta");
}
