/* SPDX-License-Identifier: MIT */
/*
 * users_cmd.c — `gantry user ...` and `gantry group ...`, the account
 * commands, mostly for admins.
 *
 * The server decides who may do what; these commands never check rights
 * themselves, so a non-admin sees the server's own 403 message. A user's
 * virtual clusters are groups named after them (users.c on the server), so
 * `user set-vcs` replaces exactly those and keeps the others.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

#define PASSWORD_MAX 1024

static json_t *string_list(const struct client_list *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

/* Wipe the password jansson copied into a request body, then free it. */
static void free_body(json_t *body, const char *key)
{
	const char *s = json_string_value(json_object_get(body, key));
	if (s)
		explicit_bzero((char *)s, strlen(s));
	json_decref(body);
}

/* A new password: on a terminal, asked twice. */
static int new_password(const struct cli_cmd *cmd, const char *user, bool from_stdin, char *out, size_t len)
{
	char prompt[300], again[PASSWORD_MAX];
	snprintf(prompt, sizeof(prompt), "New password for %s: ", user);
	int rc = client_read_password(cmd, prompt, from_stdin, out, len);
	if (rc || from_stdin)
		return rc;
	if ((rc = client_read_password(cmd, "Retype it: ", false, again, sizeof(again))) == CLI_OK && strcmp(out, again)) {
		fprintf(stderr, "gantry: the passwords differ; nothing changed\n");
		rc = CLI_FAIL;
	}
	explicit_bzero(again, sizeof(again));
	return rc;
}

/* Print a one-line confirmation, or the server's JSON with -o json. */
static void done(const struct client *c, json_t *reply, const char *what, const char *name)
{
	if (c->json)
		client_print_json(reply);
	else
		printf("%s %s\n", what, name);
}

/* `user delete NAME`, `group delete NAME`: DELETE path_fmt % NAME. */
static int delete_named(const struct cli_cmd *cmd, int argc, char **argv, const char *what, const char *path_fmt)
{
	char missing[64];
	snprintf(missing, sizeof(missing), "no %s name given", what);
	const struct client_args args = { NULL, true, 1, 1, missing, CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	json_t *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	client_pathf(&c, &path, path_fmt, argv[0]);
	if ((rc = client_call_json(&c, "DELETE", buf_str(&path), NULL, &reply)))
		goto out;
	char done_what[64];
	snprintf(done_what, sizeof(done_what), "deleted %s", what);
	done(&c, reply, done_what, argv[0]);
out:
	json_decref(reply);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

/* ---- users --------------------------------------------------------------------- */

int cli_user_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 0, 0, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	json_t *users = NULL, *u;
	size_t i;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)) ||
	    (rc = client_call_json(&c, "GET", "/api/v2/users", NULL, &users)))
		goto out;
	if (c.json) {
		client_print_json(users);
		goto out;
	}
	struct client_table t;
	client_table_init(&t, 5);
	client_table_row(&t, "USER", "ADMIN", "VIRTUAL CLUSTERS", "GROUPS", "EMAIL");
	json_array_foreach(users, i, u) {
		client_table_add_json(&t, json_object_get(u, "username"));
		client_table_add_json(&t, json_object_get(u, "admin"));
		client_table_add_json(&t, json_object_get(u, "virtualCluster"));
		client_table_add_json(&t, json_object_get(u, "grouplist"));
		client_table_add_json(&t, json_object_get(u, "email"));
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(users);
	client_close(&c);
	return rc;
}

int cli_user_show(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 1, 1, "no user name given", CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	json_t *u = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	client_pathf(&c, &path, "/api/v2/users/%s", argv[0]);
	if ((rc = client_call_json(&c, "GET", buf_str(&path), NULL, &u)))
		goto out;
	if (c.json) {
		client_print_json(u);
		goto out;
	}
	static const char *const rows[][2] = {
		{ "User:", "username" }, { "Admin:", "admin" }, { "Email:", "email" }, { "Groups:", "grouplist" },
		{ "Virtual clusters:", "virtualCluster" }, { "Storages:", "storageConfig" },
	};
	struct client_table t;
	client_table_init(&t, 2);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		client_table_add(&t, rows[i][0]);
		client_table_add_json(&t, json_object_get(u, rows[i][1]));
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(u);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_user_create(const struct cli_cmd *cmd, int argc, char **argv)
{
	bool pw_stdin = false, admin = false;
	const char *email = NULL;
	struct client_list vcs = { .n = 0 };
	const struct client_opt opts[] = {
		{ "--password-stdin", NULL, CLIENT_FLAG, &pw_stdin },
		{ "--admin", NULL, CLIENT_FLAG, &admin },
		{ "--vc", NULL, CLIENT_LIST, &vcs },
		{ "--email", NULL, CLIENT_VALUE, &email },
		CLIENT_OPT_END,
	};
	const struct client_args args = { opts, true, 1, 1, "no user name given", CLIENT_NEED_TOKEN };
	struct client c;
	char password[PASSWORD_MAX];
	json_t *body = NULL, *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)) ||
	    (rc = new_password(cmd, argv[0], pw_stdin, password, sizeof(password))))
		goto out;
	body = json_pack("{s:s, s:s, s:b, s:o}", "username", argv[0], "password", password, "admin", admin,
	                 "virtualCluster", string_list(&vcs));
	explicit_bzero(password, sizeof(password));
	if (body && email)
		json_object_set_new(body, "email", json_string(email));
	if (!body || (rc = client_call_json(&c, "POST", "/api/v2/users", body, &reply))) {
		rc = CLI_FAIL;
		goto out;
	}
	done(&c, reply, "created user", argv[0]);
out:
	free_body(body, "password");
	json_decref(reply);
	client_close(&c);
	return rc;
}

int cli_user_delete(const struct cli_cmd *cmd, int argc, char **argv)
{
	return delete_named(cmd, argc, argv, "user", "/api/v2/users/%s");
}

int cli_user_passwd(const struct cli_cmd *cmd, int argc, char **argv)
{
	bool pw_stdin = false;
	const struct client_opt opts[] = { { "--password-stdin", NULL, CLIENT_FLAG, &pw_stdin }, CLIENT_OPT_END };
	const struct client_args args = { opts, true, 0, 1, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	char old[PASSWORD_MAX] = "", password[PASSWORD_MAX] = "", prompt[300];
	json_t *body = NULL, *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	const char *me = client_user(&c);
	const char *user = npos ? argv[0] : me;
	if (!user) {
		rc = CLI_FAIL;
		goto out;
	}
	/* the server wants the old password from anyone changing their own */
	bool self = me && !strcmp(me, user);
	snprintf(prompt, sizeof(prompt), "Current password for %s: ", user);
	if ((self && (rc = client_read_password(cmd, prompt, pw_stdin, old, sizeof(old)))) ||
	    (rc = new_password(cmd, user, pw_stdin, password, sizeof(password))))
		goto out;
	body = json_pack("{s:s}", "newPassword", password);
	if (body && self)
		json_object_set_new(body, "oldPassword", json_string(old));
	client_pathf(&c, &path, "/api/v2/users/%s/password", user);
	if (!body || (rc = client_call_json(&c, "PUT", buf_str(&path), body, &reply))) {
		rc = CLI_FAIL;
		goto out;
	}
	done(&c, reply, "changed the password of", user);
	/* the server revoked the user's browser tokens, this session's among them */
	if (self && client_forget_token(&c) == CLI_OK && c.saved_token && !c.json)
		printf("log in again: the server ended your sessions\n");
out:
	explicit_bzero(old, sizeof(old));
	explicit_bzero(password, sizeof(password));
	if (body) {
		const char *o = json_string_value(json_object_get(body, "oldPassword"));
		if (o)
			explicit_bzero((char *)o, strlen(o));
	}
	free_body(body, "newPassword");
	json_decref(reply);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_user_set_vcs(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 2, CLIENT_LIST_MAX + 1, "give a user name and virtual clusters",
	                                  CLIENT_NEED_TOKEN };
	struct client c;
	struct client_list vcs = { .n = 0 };
	struct buf path = BUF_INIT, names = BUF_INIT;
	json_t *body = NULL, *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	for (int i = 1; i < npos; i++) {
		vcs.v[vcs.n++] = argv[i];
		buf_printf(&names, "%s%s", i > 1 ? "," : "", argv[i]);
	}
	body = json_pack("{s:o}", "virtualCluster", string_list(&vcs));
	client_pathf(&c, &path, "/api/v2/users/%s/virtualcluster", argv[0]);
	if (!body || (rc = client_call_json(&c, "PUT", buf_str(&path), body, &reply))) {
		rc = CLI_FAIL;
		goto out;
	}
	if (c.json)
		client_print_json(reply);
	else
		printf("virtual clusters of %s: %s\n", argv[0], buf_str(&names));
out:
	json_decref(body);
	json_decref(reply);
	buf_fini(&names);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_user_set_admin(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 2, 2, "give a user name and yes or no", CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	json_t *body = NULL, *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	const char *v = argv[1];
	bool admin;
	if (!strcmp(v, "yes") || !strcmp(v, "true"))
		admin = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false"))
		admin = false;
	else {
		rc = cli_usage_error(cmd, "'%s' is not yes or no", v);
		goto out;
	}
	body = json_pack("{s:b}", "admin", admin);
	client_pathf(&c, &path, "/api/v2/users/%s/admin", argv[0]);
	if (!body || (rc = client_call_json(&c, "PUT", buf_str(&path), body, &reply))) {
		rc = CLI_FAIL;
		goto out;
	}
	if (c.json)
		client_print_json(reply);
	else
		printf("%s is %s an administrator\n", argv[0], admin ? "now" : "no longer");
out:
	json_decref(body);
	json_decref(reply);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

/* ---- groups -------------------------------------------------------------------- */

int cli_group_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 0, 0, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	json_t *groups = NULL, *g;
	size_t i;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)) ||
	    (rc = client_call_json(&c, "GET", "/api/v2/groups", NULL, &groups)))
		goto out;
	if (c.json) {
		client_print_json(groups);
		goto out;
	}
	struct client_table t;
	client_table_init(&t, 4);
	client_table_row(&t, "GROUP", "ADMIN", "VIRTUAL CLUSTERS", "DESCRIPTION");
	json_array_foreach(groups, i, g) {
		json_t *acls = json_object_get(json_object_get(g, "extension"), "acls");
		client_table_add_json(&t, json_object_get(g, "groupname"));
		client_table_add(&t, json_is_true(json_object_get(acls, "admin")) ? "yes" : "no");
		client_table_add_json(&t, json_object_get(acls, "virtualClusters"));
		client_table_add_json(&t, json_object_get(g, "description"));
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(groups);
	client_close(&c);
	return rc;
}

int cli_group_show(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 1, 1, "no group name given", CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	json_t *g = NULL, *members = NULL, *m;
	size_t i;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	client_pathf(&c, &path, "/api/v2/groups/%s", argv[0]);
	if ((rc = client_call_json(&c, "GET", buf_str(&path), NULL, &g)))
		goto out;
	if (c.json) {
		client_print_json(g);
		goto out;
	}
	/* the member list is for admins: others see the group without it */
	buf_puts(&path, "/userlist");
	c.quiet = true;
	if (client_call_json(&c, "GET", buf_str(&path), NULL, &members) != CLI_OK)
		members = NULL;
	json_t *acls = json_object_get(json_object_get(g, "extension"), "acls");
	struct client_table t;
	client_table_init(&t, 2);
	client_table_add(&t, "Group:");
	client_table_add_json(&t, json_object_get(g, "groupname"));
	client_table_add(&t, "Description:");
	client_table_add_json(&t, json_object_get(g, "description"));
	client_table_add(&t, "External name:");
	client_table_add_json(&t, json_object_get(g, "externalName"));
	client_table_row(&t, "Admin:", json_is_true(json_object_get(acls, "admin")) ? "yes" : "no");
	client_table_add(&t, "Virtual clusters:");
	client_table_add_json(&t, json_object_get(acls, "virtualClusters"));
	client_table_add(&t, "Storages:");
	client_table_add_json(&t, json_object_get(acls, "storageConfigs"));
	if (members) {
		json_t *names = json_array();
		json_array_foreach(members, i, m)
			json_array_append(names, json_object_get(m, "username"));
		client_table_add(&t, "Members:");
		client_table_add_json(&t, names);
		json_decref(names);
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(g);
	json_decref(members);
	buf_fini(&path);
	client_close(&c);
	return rc;
}

int cli_group_create(const struct cli_cmd *cmd, int argc, char **argv)
{
	bool admin = false;
	const char *desc = NULL;
	struct client_list vcs = { .n = 0 };
	const struct client_opt opts[] = {
		{ "--admin", NULL, CLIENT_FLAG, &admin },
		{ "--vc", NULL, CLIENT_LIST, &vcs },
		{ "--description", NULL, CLIENT_VALUE, &desc },
		CLIENT_OPT_END,
	};
	const struct client_args args = { opts, true, 1, 1, "no group name given", CLIENT_NEED_TOKEN };
	struct client c;
	json_t *body = NULL, *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	body = json_pack("{s:s, s:s, s:{s:{s:b, s:o, s:[]}}}", "groupname", argv[0], "description", desc ? desc : "",
	                 "extension", "acls", "admin", admin, "virtualClusters", string_list(&vcs), "storageConfigs");
	if (!body || (rc = client_call_json(&c, "POST", "/api/v2/groups", body, &reply))) {
		rc = CLI_FAIL;
		goto out;
	}
	done(&c, reply, "created group", argv[0]);
out:
	json_decref(body);
	json_decref(reply);
	client_close(&c);
	return rc;
}

int cli_group_delete(const struct cli_cmd *cmd, int argc, char **argv)
{
	return delete_named(cmd, argc, argv, "group", "/api/v2/groups/%s");
}
