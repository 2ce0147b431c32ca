/* SPDX-License-Identifier: MIT */
/*
 * login_cmd.c — `gantry login`, `gantry logout` and `gantry token ...`:
 * getting, keeping and giving up access tokens.
 *
 * A browser-style token from login is saved in the config file for the
 * server it came from; application tokens (token create) are printed once
 * for scripts and never saved. Token lists show revocation handles
 * ("sha256:..."), never tokens; a token given to `token revoke` is hashed
 * here first so that the secret itself never goes into a URL.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "cli/client.h"

#define PASSWORD_MAX 1024

int cli_login(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *user = NULL;
	bool pw_stdin = false;
	const struct client_opt opts[] = {
		{ "--user", "-u", CLIENT_VALUE, &user },
		{ "--password-stdin", NULL, CLIENT_FLAG, &pw_stdin },
		CLIENT_OPT_END,
	};
	const struct client_args args = { opts, false, 0, 0, NULL, CLIENT_NO_TOKEN };
	struct client c;
	struct client_config cfg = { 0 };
	struct gerr e;
	char password[PASSWORD_MAX], prompt[300];
	json_t *body = NULL, *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	/* who: --user, else whoever last logged in here, else the local login name */
	if (!user) {
		struct client_config saved;
		if (client_config_load(&saved, &e) == 0 && saved.user) {
			char *s = saved.server ? client_server_normalize(saved.server) : NULL;
			if (s && !strcmp(s, c.server))
				user = cfg.user = strdup(saved.user);
			free(s);
		}
		client_config_fini(&saved);
	}
	if (!user)
		user = getenv("USER");
	if (!user || !*user) {
		rc = cli_usage_error(cmd, "no user name: give --user NAME");
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Password for %s at %s: ", user, c.server);
	if ((rc = client_read_password(cmd, prompt, pw_stdin, password, sizeof(password))))
		goto out;
	body = json_pack("{s:s, s:s}", "username", user, "password", password);
	explicit_bzero(password, sizeof(password));
	if (!body) {
		rc = CLI_FAIL;
		goto out;
	}
	if ((rc = client_call_json(&c, "POST", "/api/v2/authn/basic/login", body, &reply)))
		goto out;
	const char *token = json_string_value(json_object_get(reply, "token"));
	const char *name = json_string_value(json_object_get(reply, "user"));
	if (!token || !name) {
		fprintf(stderr, "gantry: %s answered the login without a token\n", c.server);
		rc = CLI_FAIL;
		goto out;
	}
	free(cfg.user);
	cfg.server = strdup(c.server);
	cfg.user = strdup(name);
	cfg.token = strdup(token);
	cfg.admin = json_is_true(json_object_get(reply, "admin"));
	if (!cfg.server || !cfg.user || !cfg.token || client_config_save(&cfg, &e)) {
		fprintf(stderr, "gantry: logged in, but the token could not be saved: %s\n",
		        cfg.token ? e.msg : "out of memory");
		rc = CLI_FAIL;
		goto out;
	}
	printf("Logged in to %s as %s%s\n", c.server, cfg.user, cfg.admin ? " (admin)" : "");
out:
	if (body) {
		/* jansson's copy of the password */
		const char *pw = json_string_value(json_object_get(body, "password"));
		if (pw)
			explicit_bzero((char *)pw, strlen(pw));
		json_decref(body);
	}
	if (reply) {
		const char *t = json_string_value(json_object_get(reply, "token"));
		if (t)
			explicit_bzero((char *)t, strlen(t));
		json_decref(reply);
	}
	client_config_fini(&cfg);
	client_close(&c);
	return rc;
}

int cli_logout(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, false, 0, 0, NULL, CLIENT_SAVED_TOKEN };
	struct client c;
	struct client_reply rep = { 0 };
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	if (!client_token(&c)) {
		fprintf(stderr, "gantry: not logged in to %s\n", c.server);
		goto out;
	}
	/* 401: the token had already expired or been revoked; that is logged out too */
	c.quiet = true;
	rc = client_call(&c, "DELETE", "/api/v2/authn/basic/logout", NULL, NULL, 0, &rep);
	if (rc && rep.status == 401)
		rc = CLI_OK;
	else if (rc && rep.status)
		client_print_error(&c, rep.status, &rep.body);
	/* forget it locally in any case: keeping a token the user gave up helps no one */
	if (client_forget_token(&c))
		rc = CLI_FAIL;
	else if (rc)
		fprintf(stderr, "gantry: the token was removed from this machine but not revoked on %s\n", c.server);
	else
		printf("Logged out of %s\n", c.server);
out:
	buf_fini(&rep.body);
	client_close(&c);
	return rc;
}

/* The revocation handle of a token or handle given by the user. */
static void handle_of(const char *s, char out[72])
{
	uint8_t hash[32];
	if (auth_token_parse_handle(s, hash)) {
		auth_token_handle(hash, out);
		return;
	}
	auth_token_hash(s, strlen(s), hash);
	auth_token_handle(hash, out);
}

int cli_token_list(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 0, 0, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	json_t *reply = NULL, *v;
	size_t i;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)) ||
	    (rc = client_call_json(&c, "GET", "/api/v2/tokens", NULL, &reply)))
		goto out;
	if (c.json) {
		client_print_json(reply);
		goto out;
	}
	char mine[72];
	handle_of(client_token(&c), mine);
	struct client_table t;
	client_table_init(&t, 2);
	client_table_row(&t, "TOKEN", "CURRENT");
	json_array_foreach(json_object_get(reply, "tokens"), i, v) {
		const char *h = json_string_value(v);
		client_table_row(&t, h, h && !strcmp(h, mine) ? "yes" : "no");
	}
	client_table_print(&t, stdout);
	client_table_fini(&t);
out:
	json_decref(reply);
	client_close(&c);
	return rc;
}

int cli_token_create(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 0, 0, NULL, CLIENT_NEED_TOKEN };
	struct client c;
	json_t *reply = NULL;
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)) ||
	    (rc = client_call_json(&c, "POST", "/api/v2/tokens/application", NULL, &reply)))
		goto out;
	const char *token = json_string_value(json_object_get(reply, "token"));
	if (c.json) {
		client_print_json(reply);
	} else if (token) {
		/* the one place a token is printed: it is what the user asked for */
		puts(token);
	} else {
		fprintf(stderr, "gantry: %s answered without a token\n", c.server);
		rc = CLI_FAIL;
	}
	if (token)
		explicit_bzero((char *)token, strlen(token));
out:
	json_decref(reply);
	client_close(&c);
	return rc;
}

int cli_token_revoke(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct client_args args = { NULL, true, 1, 1, "no token given", CLIENT_NEED_TOKEN };
	struct client c;
	struct buf path = BUF_INIT;
	json_t *reply = NULL;
	char handle[72], mine[72];
	int npos, rc;

	if ((rc = client_start(&c, cmd, argc, argv, &args, &npos)))
		goto out;
	handle_of(argv[0], handle);
	handle_of(client_token(&c), mine);
	client_pathf(&c, &path, "/api/v2/tokens/%s", handle);
	if ((rc = client_call_json(&c, "DELETE", buf_str(&path), NULL, &reply)))
		goto out;
	if (!strcmp(handle, mine))
		rc = client_forget_token(&c);
	if (c.json)
		client_print_json(reply);
	else
		printf("revoked %s%s\n", handle, strcmp(handle, mine) ? "" : " (this session: log in again)");
out:
	json_decref(reply);
	buf_fini(&path);
	client_close(&c);
	return rc;
}
