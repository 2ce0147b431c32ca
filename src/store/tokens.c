/* SPDX-License-Identifier: MIT */
/* tokens.c — access tokens, by the SHA-256 of their value. */
#include <string.h>

#include "store/internal.h"

int store_token_insert(struct store_conn *c, const struct store_token *t, struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_TOKEN_INSERT, err);
	if (!st)
		return err ? err->code : GERR_IO;
	sqlite3_bind_blob(st, 1, t->hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->username, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, t->application);
	sqlite3_bind_int64(st, 4, t->created_ms);
	sqlite3_bind_int64(st, 5, t->expires_ms);
	return store__exec(c, st, err, "insert token");
}

int store_token_get(struct store_conn *c, const uint8_t hash[32], int64_t now_ms, struct arena *a,
                    struct store_token *t, struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_TOKEN_GET, err);
	if (!st)
		return err ? err->code : GERR_IO;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memcpy(t->hash, hash, 32);
		t->username = store__text(st, 0, a);
		t->application = sqlite3_column_int(st, 1) != 0;
		t->created_ms = sqlite3_column_int64(st, 2);
		t->expires_ms = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return gerr_set(err, GERR_NOT_FOUND, "Your token is invalid.");
	if (rc != SQLITE_ROW)
		return store__fail(c, rc, err, "token");
	return t->username ? 0 : gerr_set(err, GERR_NOMEM, "store: out of memory");
}

int store_token_list(struct store_conn *c, const char *username, int64_t now_ms, struct arena *a,
                     struct store_token **out, size_t *n, struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_TOKEN_PURGE, err);
	if (!st)
		return err ? err->code : GERR_IO;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	int rc = store__exec(c, st, err, "purge tokens");
	if (rc)
		return rc;
	if (!(st = store__stmt(c, STMT_TOKEN_LIST, err)))
		return err ? err->code : GERR_IO;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	size_t cap = 8, k = 0;
	struct store_token *ts = arena_alloc(a, cap * sizeof(*ts));
	while (ts && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_token *bigger = arena_alloc(a, cap * 2 * sizeof(*ts));
			if (!bigger) {
				ts = NULL;
				break;
			}
			memcpy(bigger, ts, k * sizeof(*ts));
			ts = bigger;
			cap *= 2;
		}
		struct store_token *t = &ts[k++];
		const void *h = sqlite3_column_blob(st, 0);
		memset(t->hash, 0, 32);
		if (h && sqlite3_column_bytes(st, 0) == 32)
			memcpy(t->hash, h, 32);
		t->username = username;
		t->application = sqlite3_column_int(st, 1) != 0;
		t->created_ms = sqlite3_column_int64(st, 2);
		t->expires_ms = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (!ts)
		return gerr_set(err, GERR_NOMEM, "store: out of memory");
	*out = ts;
	*n = k;
	return 0;
}

int store_token_delete(struct store_conn *c, const uint8_t hash[32], const char *username,
                       struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_TOKEN_DELETE, err);
	if (!st)
		return err ? err->code : GERR_IO;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, username, -1, SQLITE_STATIC);
	int rc = store__exec(c, st, err, "delete token");
	if (!rc && sqlite3_changes(c->db) == 0)
		return gerr_set(err, GERR_NOT_FOUND, "Token is not found.");
	return rc;
}

int store_token_delete_user(struct store_conn *c, const char *username, bool browser_only,
                            struct gerr *err)
{
	sqlite3_stmt *st = store__stmt(c, STMT_TOKEN_DELETE_USER, err);
	if (!st)
		return err ? err->code : GERR_IO;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, browser_only);
	return store__exec(c, st, err, "delete tokens");
}
