/* SPDX-License-Identifier: MIT */
/* authn.c — login, logout and tokens. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

/* Login's `expiration`, by OpenPAI's rule (rest-server's Joi schema:
 * number().integer().min(60).max(604800)), with Joi's messages. A form sends
 * it as text, which Joi converts as parseFloat does when the whole text is a
 * finite number. Returns NULL, or the message (static). The value itself
 * changes nothing: as on OpenPAI, every token gets the server's lifetime. */
#define EXPIRATION_MIN 60
#define EXPIRATION_MAX (7 * 24 * 3600)
static const char *check_expiration(const json_t *v)
{
	double d;
	if (json_is_integer(v)) {
		d = (double)json_integer_value(v);
	} else if (json_is_real(v)) {
		d = json_real_value(v);
	} else if (json_is_string(v)) {
		const char *t = json_string_value(v);
		char *end;
		while (isspace((unsigned char)*t))
			t++;
		d = strtod(t, &end);
		if (end == t)
			return "\"expiration\" must be a number";
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			return "\"expiration\" must be a number";
	} else {
		return "\"expiration\" must be a number";
	}
	if (!isfinite(d))
		return "\"expiration\" must be a number";
	if (d != floor(d))
		return "\"expiration\" must be an integer";
	if (d < EXPIRATION_MIN)
		return "\"expiration\" must be larger than or equal to 60";
	if (d > EXPIRATION_MAX)
		return "\"expiration\" must be less than or equal to 604800";
	return NULL;
}

/* Issue a token for username and answer {user, token, admin}. A browser
 * token lives AUTH_BROWSER_TTL_MS; an application token has no expiry. */
static int issue(struct api_request *r, const struct auth_user *u, bool application, int status)
{
	char token[AUTH_TOKEN_LEN + 1];
	struct store_token t = { .username = u->username, .application = application,
	                         .created_ms = r->now_ms,
	                         .expires_ms = application ? 0 : r->now_ms + AUTH_BROWSER_TTL_MS };
	struct gerr e;
	auth_token_new(token, t.hash);
	if (store_token_insert(r->db, &t, &e) != 0)
		return api_fail_gerr(r, &e, "NoUserError");
	json_t *o;
	if (application)
		o = json_pack("{s:s, s:b}", "token", token, "application", 1);
	else
		o = json_pack("{s:s, s:s, s:b}", "user", u->username, "token", token, "admin", u->admin);
	json_error_t je;
	json_t *ext = json_loads(u->extension ? u->extension : "{}", 0, &je);
	if (!application && json_is_true(json_object_get(ext, "githubPAT")) == 0 &&
	    json_object_get(ext, "githubPAT"))
		json_object_set(o, "hasGitHubPAT", json_object_get(ext, "githubPAT"));
	json_decref(ext);
	return api_json(r, status, o);
}

int api_post_login(struct api_request *r)
{
	const char *username, *password;
	struct auth_user u;
	struct store_user su;
	struct gerr e;
	json_t *b = api_body_object(r);
	if (!b)
		return 0;
	if (!api_field_string(r, b, "username", true, &username) ||
	    !api_field_string(r, b, "password", true, &password)) {
		json_decref(b);
		return 0;
	}
	/* OpenPAI validates expiration, then gives every token its server-wide
	 * lifetime, and so do we: the SDK asks for 4000 s by default, and its
	 * users' sessions must last as long as they do on OpenPAI */
	json_t *exp = json_object_get(b, "expiration");
	const char *bad = exp ? check_expiration(exp) : NULL;
	json_decref(b);
	/* in Joi's order: username, password, expiration */
	if (!api_check_username(r, username))
		return 0;
	if (strlen(password) < AUTH_PASSWORD_MIN)
		return api_fail(r, 400, "InvalidParametersError",
		                "\"password\" length must be at least %d characters long", AUTH_PASSWORD_MIN);
	if (bad)
		return api_fail(r, 400, "InvalidParametersError", "%s", bad);
	int64_t wait = auth_limiter_check(api_limiter(r), username, r->now_ms);
	if (wait > 0) {
		static char retry[32];
		snprintf(retry, sizeof(retry), "%lld", (long long)((wait + 999) / 1000));
		r->extra_header = "Retry-After";
		r->extra_value = arena_strdup(&r->arena, retry);
		return api_fail(r, 429, "TooManyRequestsError",
		                "Too many failed logins for %s; try again in %lld seconds.", username,
		                (long long)((wait + 999) / 1000));
	}
	int rc = store_user_get(r->db, username, &r->arena, &su, &e);
	if (rc == GERR_NOT_FOUND) {
		auth_limiter_record(api_limiter(r), username, false, r->now_ms);
		return api_fail(r, 400, "NoUserError", "User %s is not found.", username);
	}
	if (rc)
		return api_fail_gerr(r, &e, "NoUserError");
	if (!auth_password_verify(su.password_hash, password)) {
		auth_limiter_record(api_limiter(r), username, false, r->now_ms);
		return api_fail(r, 400, "IncorrectPasswordError", "Password is incorrect.");
	}
	auth_limiter_record(api_limiter(r), username, true, r->now_ms);
	if ((rc = auth_resolve(r->db, username, &r->arena, &u, &e)))
		return api_fail_gerr(r, &e, "NoUserError");
	return issue(r, &u, false, 200);
}

int api_delete_logout(struct api_request *r)
{
	struct gerr e;
	if (store_token_delete(r->db, r->user.token_hash, r->user.username, &e) != 0 && e.code != GERR_NOT_FOUND)
		return api_fail_gerr(r, &e, "UnauthorizedUserError");
	return api_message(r, 200, "Logout successfully");
}

int api_get_tokens(struct api_request *r)
{
	struct store_token *ts;
	size_t n;
	struct gerr e;
	if (store_token_list(r->db, r->user.username, r->now_ms, &r->arena, &ts, &n, &e))
		return api_fail_gerr(r, &e, "UnauthorizedUserError");
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		char handle[72];
		auth_token_handle(ts[i].hash, handle);
		json_array_append_new(list, json_string(handle));
	}
	return api_json(r, 200, json_pack("{s:o}", "tokens", list));
}

int api_post_app_token(struct api_request *r)
{
	return issue(r, &r->user, true, 200);
}

int api_delete_token(struct api_request *r)
{
	uint8_t hash[32];
	struct store_token t;
	struct gerr e;
	const char *tok = r->params[0];
	if (!auth_token_parse_handle(tok, hash))
		auth_token_hash(tok, strlen(tok), hash);
	/* a token of someone else is refused, not silently ignored */
	int rc = store_token_get(r->db, hash, 0, &r->arena, &t, &e);
	if (rc == 0 && strcmp(t.username, r->user.username))
		return api_fail(r, 403, "ForbiddenUserError", "You can only revoke your own tokens.");
	if (rc == GERR_NOT_FOUND)
		return api_fail(r, 404, "NoTokenError", "The token is not found.");
	if (rc)
		return api_fail_gerr(r, &e, "NoTokenError");
	if ((rc = store_token_delete(r->db, hash, r->user.username, &e)))
		return api_fail_gerr(r, &e, "NoTokenError");
	return api_message(r, 200, "revoke successfully");
}

int api_get_token_check(struct api_request *r)
{
	struct store_token t;
	struct gerr e;
	if (store_token_get(r->db, r->user.token_hash, r->now_ms, &r->arena, &t, &e))
		return api_fail(r, 401, "UnauthorizedUserError", "Your token is invalid.");
	json_t *o = json_pack("{s:s, s:b, s:b, s:s, s:I, s:b}", "username", t.username, "application",
	                      t.application, "jobSpecific", 0, "encodedFrameworkName", "", "iat",
	                      (json_int_t)(t.created_ms / 1000), "admin", r->user.admin);
	if (o && t.expires_ms)
		json_object_set_new(o, "exp", json_integer(t.expires_ms / 1000));
	return api_json(r, 200, o);
}
