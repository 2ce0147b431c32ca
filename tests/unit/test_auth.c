/* SPDX-License-Identifier: MIT */
/* test_auth — passwords, tokens, rights from groups, login throttling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct store_conn *c;
	struct arena a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct gerr e;
	if (auth_init(&e))
		return -1;
	strcpy(f->dir, "/tmp/gantry-test-auth-XXXXXX");
	if (!mkdtemp(f->dir) || !(f->st = store_open(f->dir, &e)) || !(f->c = store_conn_get(f->st, &e)))
		return -1;
	arena_init(&f->a, 4096);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	store_conn_put(f->st, f->c);
	store_close(f->st);
	arena_fini(&f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int rc = system(cmd);
	free(f);
	return rc ? -1 : 0;
}

static void passwords(void **state)
{
	(void)state;
	char h1[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];
	struct gerr e;
	assert_int_equal(auth_password_hash("correct horse", h1, &e), 0);
	assert_int_equal(auth_password_hash("correct horse", h2, &e), 0);
	assert_memory_equal(h1, "$argon2id$", 10);
	assert_string_not_equal(h1, h2);                    /* salted */
	assert_true(auth_password_verify(h1, "correct horse"));
	assert_false(auth_password_verify(h1, "correct horsE"));
	assert_false(auth_password_verify("plain", "plain"));   /* never a plaintext match */
	assert_false(auth_password_verify(NULL, "x"));
}

static void tokens(void **state)
{
	(void)state;
	char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1], handle[72];
	uint8_t h1[32], h2[32], back[32];
	auth_token_new(t1, h1);
	auth_token_new(t2, h2);
	assert_int_equal(strlen(t1), AUTH_TOKEN_LEN);
	assert_string_not_equal(t1, t2);
	uint8_t check[32];
	auth_token_hash(t1, strlen(t1), check);
	assert_memory_equal(check, h1, 32);
	auth_token_handle(h1, handle);
	assert_memory_equal(handle, "sha256:", 7);
	assert_true(auth_token_parse_handle(handle, back));
	assert_memory_equal(back, h1, 32);
	assert_false(auth_token_parse_handle(t1, back));
	assert_false(auth_token_parse_handle("sha256:zz", back));
}

static void add_user(struct fixture *f, const char *name, const char **groups, size_t n)
{
	struct gerr e;
	struct store_user u = { .username = name, .password_hash = "x", .created_ms = 1, .password_changed_ms = 1,
	                        .groups = groups, .ngroups = n };
	assert_int_equal(store_user_insert(f->c, &u, &e), 0);
}

static void add_group(struct fixture *f, const char *name, const char *ext)
{
	struct gerr e;
	struct store_group g = { name, "", "", ext };
	assert_int_equal(store_group_put(f->c, &g, false, &e), 0);
}

static void rights_from_groups(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	struct auth_user u;
	add_group(f, "admingroup", "{\"acls\":{\"admin\":true,\"virtualClusters\":[],\"storageConfigs\":[]}}");
	add_group(f, "default", "{\"acls\":{\"admin\":false,\"virtualClusters\":[\"default\"],\"storageConfigs\":[\"home\",\"data\"]}}");
	add_group(f, "vc1", "{\"acls\":{\"virtualClusters\":[\"vc1\",\"default\"],\"storageConfigs\":[\"scratch\"]}}");
	add_group(f, "broken", "not json");
	const char *g1[] = { "default", "vc1", "broken", "gone" };
	const char *g2[] = { "admingroup" };
	add_user(f, "alice", g1, 4);
	add_user(f, "root", g2, 1);

	assert_int_equal(auth_resolve(f->c, "alice", &f->a, &u, &e), 0);
	assert_false(u.admin);
	assert_int_equal(u.nvcs, 2);                          /* union, no duplicates */
	assert_true(auth_may_use_vc(&u, "vc1"));
	assert_true(auth_may_use_vc(&u, "default"));
	assert_false(auth_may_use_vc(&u, "vc2"));
	assert_int_equal(u.nstorages, 3);
	assert_int_equal(u.ndefault_storages, 2);             /* the first of each group */
	assert_string_equal(u.default_storages[0], "home");
	assert_string_equal(u.default_storages[1], "scratch");
	assert_true(auth_has_storage(&u, "data"));

	assert_int_equal(auth_resolve(f->c, "root", &f->a, &u, &e), 0);
	assert_true(u.admin);
	assert_true(auth_may_use_vc(&u, "any-vc"));
	assert_false(auth_has_storage(&u, "home"));           /* admins get no implicit storages */
	assert_int_equal(auth_resolve(f->c, "nobody", &f->a, &u, &e), GERR_NOT_FOUND);
}

static void authenticate(void **state)
{
	struct fixture *f = *state;
	struct gerr e;
	struct auth_user u;
	char tok[AUTH_TOKEN_LEN + 1], app[AUTH_TOKEN_LEN + 1], header[256], b64[200];
	add_user(f, "alice", NULL, 0);
	add_user(f, "bob", NULL, 0);
	struct store_token t = { .username = "alice", .application = false, .created_ms = 0, .expires_ms = 1000 };
	auth_token_new(tok, t.hash);
	assert_int_equal(store_token_insert(f->c, &t, &e), 0);
	struct store_token ta = { .username = "alice", .application = true, .created_ms = 0, .expires_ms = 0 };
	auth_token_new(app, ta.hash);
	assert_int_equal(store_token_insert(f->c, &ta, &e), 0);

	assert_int_equal(auth_authenticate(f->c, NULL, 10, &f->a, &u, &e), GERR_UNAUTH);
	assert_string_equal(e.msg, "Guest is not allowed to do this operation.");
	snprintf(header, sizeof(header), "Bearer %s", tok);
	assert_int_equal(auth_authenticate(f->c, header, 10, &f->a, &u, &e), 0);
	assert_string_equal(u.username, "alice");
	assert_false(u.application);
	/* expired */
	assert_int_equal(auth_authenticate(f->c, header, 1000, &f->a, &u, &e), GERR_UNAUTH);
	assert_string_equal(e.msg, "Your token is invalid.");
	assert_int_equal(auth_authenticate(f->c, "Bearer nope", 10, &f->a, &u, &e), GERR_UNAUTH);
	assert_int_equal(auth_authenticate(f->c, "Token x", 10, &f->a, &u, &e), GERR_UNAUTH);
	/* Basic user:application-token */
	snprintf(header, sizeof(header), "alice:%s", app);
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)header, strlen(header), sodium_base64_VARIANT_ORIGINAL);
	snprintf(header, sizeof(header), "Basic %s", b64);
	assert_int_equal(auth_authenticate(f->c, header, 10, &f->a, &u, &e), 0);
	assert_true(u.application);
	/* ... but not with another user's name, nor a browser token */
	snprintf(header, sizeof(header), "bob:%s", app);
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)header, strlen(header), sodium_base64_VARIANT_ORIGINAL);
	snprintf(header, sizeof(header), "Basic %s", b64);
	assert_int_equal(auth_authenticate(f->c, header, 10, &f->a, &u, &e), GERR_UNAUTH);
	snprintf(header, sizeof(header), "alice:%s", tok);
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)header, strlen(header), sodium_base64_VARIANT_ORIGINAL);
	snprintf(header, sizeof(header), "Basic %s", b64);
	assert_int_equal(auth_authenticate(f->c, header, 10, &f->a, &u, &e), GERR_UNAUTH);
	assert_int_equal(auth_authenticate(f->c, "Basic !!!", 10, &f->a, &u, &e), GERR_UNAUTH);
	/* a deleted user's token is invalid */
	assert_int_equal(store_user_delete(f->c, "alice", &e), 0);
	snprintf(header, sizeof(header), "Bearer %s", app);
	assert_int_equal(auth_authenticate(f->c, header, 10, &f->a, &u, &e), GERR_UNAUTH);
}

static void login_throttling(void **state)
{
	(void)state;
	struct auth_limiter *l = auth_limiter_new();
	int64_t t = 1000000;
	for (int i = 0; i < AUTH_LOGIN_BURST - 1; i++) {
		assert_int_equal(auth_limiter_check(l, "eve", t), 0);
		auth_limiter_record(l, "eve", false, t);
	}
	assert_int_equal(auth_limiter_check(l, "eve", t), 0);
	auth_limiter_record(l, "eve", false, t);                /* the burst is spent */
	assert_int_equal(auth_limiter_check(l, "eve", t), 1000);
	assert_int_equal(auth_limiter_check(l, "alice", t), 0); /* per user */
	assert_int_equal(auth_limiter_check(l, "eve", t + 1000), 0);
	auth_limiter_record(l, "eve", false, t + 1000);
	assert_int_equal(auth_limiter_check(l, "eve", t + 1000), 2000);   /* doubles */
	auth_limiter_record(l, "eve", true, t + 5000);           /* success clears */
	assert_int_equal(auth_limiter_check(l, "eve", t + 5000), 0);
	for (int i = 0; i < 40; i++)
		auth_limiter_record(l, "mallory", false, t);
	assert_int_equal(auth_limiter_check(l, "mallory", t), 300000);   /* capped at 5 min */
	auth_limiter_free(l);
}

static int init(void **state)
{
	struct gerr e;
	(void)state;
	return auth_init(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passwords),
		cmocka_unit_test(tokens),
		cmocka_unit_test_setup_teardown(rights_from_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(authenticate, setup, teardown),
		cmocka_unit_test(login_throttling),
	};
	return cmocka_run_group_tests(tests, init, NULL);
}
