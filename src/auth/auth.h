/* SPDX-License-Identifier: MIT */
/*
 * auth — who is calling, and what they may do.
 *
 * Passwords are stored as argon2id hashes (libsodium). Access tokens are 256
 * random bits, handed to the client once, and stored only as their SHA-256.
 * Rights derive from groups exactly as in OpenPAI: a user is an admin when one
 * of their groups has extension.acls.admin; the virtual clusters they may use
 * are the union of their groups' acls.virtualClusters (every VC for an
 * admin); their storages the union of acls.storageConfigs. Each virtual
 * cluster has a group of the same name.
 *
 * Any thread may call these functions (the login limiter has its own lock).
 * Never log a password or a token.
 */
#ifndef GANTRY_AUTH_AUTH_H
#define GANTRY_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/gerr.h"
#include "store/store.h"

#define AUTH_TOKEN_LEN 43           /* base64url of 32 bytes, no padding */
#define AUTH_PASSWORD_MIN 6         /* OpenPAI's minimum */
#define AUTH_BROWSER_TTL_MS (7LL * 24 * 3600 * 1000)

#define AUTH_ADMIN_GROUP "admingroup"
#define AUTH_DEFAULT_GROUP "default"

/* Must be called once before any other function (libsodium init). */
int auth_init(struct gerr *err);

/* argon2id PHC string of password into out (AUTH_HASH_MAX bytes). */
#define AUTH_HASH_MAX 128
int auth_password_hash(const char *password, char out[AUTH_HASH_MAX], struct gerr *err);
/* Constant-time check; false for a malformed hash. */
bool auth_password_verify(const char *hash, const char *password);

/* A fresh token (NUL-terminated) and its hash. */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1], uint8_t hash[32]);
void auth_token_hash(const char *token, size_t len, uint8_t hash[32]);
/* The revocation handle shown in token lists: "sha256:" + 64 hex digits. */
void auth_token_handle(const uint8_t hash[32], char out[72]);
/* Parse a handle back to its hash; false when s is not a handle. */
bool auth_token_parse_handle(const char *s, uint8_t hash[32]);

/* A caller and their rights. Strings live in the arena given to resolve. */
struct auth_user {
	const char *username;
	bool application;             /* authenticated with an application token */
	bool admin;
	const char **groups;
	size_t ngroups;
	const char **vcs;             /* granted virtual clusters (not expanded for admins) */
	size_t nvcs;
	const char **storages;        /* granted storages */
	size_t nstorages;
	const char **default_storages;/* the first storage of each group */
	size_t ndefault_storages;
	const char *email;
	const char *extension;
	uint8_t token_hash[32];       /* the token used, when authenticated by one */
	bool by_token;
};

/*
 * Authenticate an Authorization header value ("Bearer T", or "Basic
 * base64(user:T)" for application tokens). NULL header → GERR_UNAUTH
 * "Guest is not allowed to do this operation."; a bad, revoked or expired
 * token → GERR_UNAUTH "Your token is invalid.".
 */
int auth_authenticate(struct store_conn *c, const char *authorization, int64_t now_ms,
                      struct arena *a, struct auth_user *u, struct gerr *err);

/* Load a user and derive their rights from their groups. */
int auth_resolve(struct store_conn *c, const char *username, struct arena *a, struct auth_user *u,
                 struct gerr *err);

/* May u use virtual cluster vc? (admins: any) */
bool auth_may_use_vc(const struct auth_user *u, const char *vc);
bool auth_has_storage(const struct auth_user *u, const char *storage);

/* The rights one group grants, from its extension JSON. */
struct auth_acls {
	bool admin;
	const char **vcs;
	size_t nvcs;
	const char **storages;
	size_t nstorages;
};
int auth_group_acls(const char *extension_json, struct arena *a, struct auth_acls *acls);

/*
 * Failed-login throttling. Each user may fail AUTH_LOGIN_BURST times; after
 * that a login is refused (429) until a delay that doubles with each further
 * failure (1 s up to 5 min) has passed. A success clears the record.
 */
#define AUTH_LOGIN_BURST 5
struct auth_limiter;
struct auth_limiter *auth_limiter_new(void);
void auth_limiter_free(struct auth_limiter *l);
/* 0 when a login may be tried now, else the ms to wait. */
int64_t auth_limiter_check(struct auth_limiter *l, const char *username, int64_t now_ms);
void auth_limiter_record(struct auth_limiter *l, const char *username, bool ok, int64_t now_ms);

#endif
