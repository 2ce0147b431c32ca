/* SPDX-License-Identifier: MIT */
/* auth.c — authenticating a request and deriving a user's rights. */
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "base/strmap.h"

/* Append s to a string list unless present. */
static int add_unique(struct arena *a, const char ***list, size_t *n, size_t *cap, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], s))
			return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		const char **bigger = arena_alloc(a, ncap * sizeof(*bigger));
		if (!bigger)
			return -1;
		if (*n)
			memcpy(bigger, *list, *n * sizeof(*bigger));
		*list = bigger;
		*cap = ncap;
	}
	(*list)[(*n)++] = s;
	return 0;
}

int auth_group_acls(const char *extension_json, struct arena *a, struct auth_acls *acls)
{
	json_error_t jerr;
	size_t vcap = 0, scap = 0;
	memset(acls, 0, sizeof(*acls));
	json_t *ext = json_loads(extension_json ? extension_json : "{}", 0, &jerr);
	json_t *x = json_object_get(json_object_get(ext, "acls"), "admin");
	acls->admin = json_is_true(x);
	json_t *list = json_object_get(json_object_get(ext, "acls"), "virtualClusters");
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(list, i, v)
		if (json_is_string(v)) {
			const char *s = arena_strdup(a, json_string_value(v));
			if (!s || add_unique(a, &acls->vcs, &acls->nvcs, &vcap, s) < 0)
				rc = -1;
		}
	list = json_object_get(json_object_get(ext, "acls"), "storageConfigs");
	json_array_foreach(list, i, v)
		if (json_is_string(v)) {
			const char *s = arena_strdup(a, json_string_value(v));
			if (!s || add_unique(a, &acls->storages, &acls->nstorages, &scap, s) < 0)
				rc = -1;
		}
	json_decref(ext);
	return rc;
}

int auth_resolve(struct store_conn *c, const char *username, struct arena *a, struct auth_user *u,
                 struct gerr *err)
{
	struct store_user su;
	size_t vcap = 0, scap = 0, dcap = 0;
	int rc = store_user_get(c, username, a, &su, err);
	if (rc)
		return rc;
	memset(u, 0, sizeof(*u));
	u->username = su.username;
	u->groups = su.groups;
	u->ngroups = su.ngroups;
	u->email = su.email;
	u->extension = su.extension;
	for (size_t i = 0; i < su.ngroups; i++) {
		struct store_group g;
		struct auth_acls acls;
		if (store_group_get(c, su.groups[i], a, &g, NULL) != 0)
			continue;   /* a group removed since: grants nothing */
		if (auth_group_acls(g.extension, a, &acls) < 0)
			return gerr_set(err, GERR_NOMEM, "auth: out of memory");
		u->admin |= acls.admin;
		for (size_t k = 0; k < acls.nvcs; k++)
			if (add_unique(a, &u->vcs, &u->nvcs, &vcap, acls.vcs[k]) < 0)
				return gerr_set(err, GERR_NOMEM, "auth: out of memory");
		for (size_t k = 0; k < acls.nstorages; k++)
			if (add_unique(a, &u->storages, &u->nstorages, &scap, acls.storages[k]) < 0)
				return gerr_set(err, GERR_NOMEM, "auth: out of memory");
		if (acls.nstorages &&
		    add_unique(a, &u->default_storages, &u->ndefault_storages, &dcap, acls.storages[0]) < 0)
			return gerr_set(err, GERR_NOMEM, "auth: out of memory");
	}
	return 0;
}

/* The token in an Authorization header, or NULL. For Basic, *basic_user is
 * set to the user name the client claims. */
static const char *token_of(const char *h, struct arena *a, const char **basic_user, size_t *len)
{
	*basic_user = NULL;
	while (*h == ' ')
		h++;
	if (!strncasecmp(h, "Bearer ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		*len = strcspn(h, " \t\r\n");
		return *len ? h : NULL;
	}
	if (!strncasecmp(h, "Basic ", 6)) {
		h += 6;
		while (*h == ' ')
			h++;
		size_t n = strcspn(h, " \t\r\n");
		char *dec = arena_alloc(a, n + 1);
		size_t dlen = 0;
		if (!dec || sodium_base642bin((unsigned char *)dec, n, h, n, NULL, &dlen, NULL,
		                              sodium_base64_VARIANT_ORIGINAL) != 0)
			return NULL;
		dec[dlen] = '\0';
		char *colon = memchr(dec, ':', dlen);
		if (!colon)
			return NULL;
		*colon = '\0';
		*basic_user = dec;
		*len = strlen(colon + 1);
		return colon + 1;
	}
	return NULL;
}

int auth_authenticate(struct store_conn *c, const char *authorization, int64_t now_ms,
                      struct arena *a, struct auth_user *u, struct gerr *err)
{
	const char *basic_user;
	size_t len;
	uint8_t hash[32];
	struct store_token t;

	if (!authorization || !*authorization)
		return gerr_set(err, GERR_UNAUTH, "Guest is not allowed to do this operation.");
	const char *token = token_of(authorization, a, &basic_user, &len);
	if (!token || len > 512)
		return gerr_set(err, GERR_UNAUTH, "Your token is invalid.");
	auth_token_hash(token, len, hash);
	int rc = store_token_get(c, hash, now_ms, a, &t, err);
	if (rc == GERR_NOT_FOUND)
		return gerr_set(err, GERR_UNAUTH, "Your token is invalid.");
	if (rc)
		return rc;
	/* the Basic form is for application tokens of the named user only */
	if (basic_user && (!t.application || strcmp(basic_user, t.username)))
		return gerr_set(err, GERR_UNAUTH, "Your token is invalid.");
	rc = auth_resolve(c, t.username, a, u, err);
	if (rc == GERR_NOT_FOUND)
		return gerr_set(err, GERR_UNAUTH, "Your token is invalid.");
	if (rc)
		return rc;
	u->application = t.application;
	memcpy(u->token_hash, hash, 32);
	u->by_token = true;
	return 0;
}

bool auth_may_use_vc(const struct auth_user *u, const char *vc)
{
	if (u->admin)
		return true;
	for (size_t i = 0; i < u->nvcs; i++)
		if (!strcmp(u->vcs[i], vc))
			return true;
	return false;
}

bool auth_has_storage(const struct auth_user *u, const char *storage)
{
	for (size_t i = 0; i < u->nstorages; i++)
		if (!strcmp(u->storages[i], storage))
			return true;
	return false;
}

/* ---- login throttling ------------------------------------------------------- */

struct attempt {
	char *username;
	int failures;
	int64_t until_ms;      /* refused before this */
	int64_t last_ms;
	struct attempt *next;
};

#define LIMITER_BUCKETS 256

struct auth_limiter {
	pthread_mutex_t lock;
	struct attempt *buckets[LIMITER_BUCKETS];
	size_t count;
};

static unsigned bucket(const char *s)
{
	unsigned h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % LIMITER_BUCKETS;
}

struct auth_limiter *auth_limiter_new(void)
{
	struct auth_limiter *l = calloc(1, sizeof(*l));
	if (l)
		pthread_mutex_init(&l->lock, NULL);
	return l;
}

void auth_limiter_free(struct auth_limiter *l)
{
	if (!l)
		return;
	for (int i = 0; i < LIMITER_BUCKETS; i++) {
		struct attempt *a = l->buckets[i];
		while (a) {
			struct attempt *next = a->next;
			free(a->username);
			free(a);
			a = next;
		}
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static struct attempt **find(struct auth_limiter *l, const char *username)
{
	struct attempt **p = &l->buckets[bucket(username)];
	while (*p && strcmp((*p)->username, username))
		p = &(*p)->next;
	return p;
}

int64_t auth_limiter_check(struct auth_limiter *l, const char *username, int64_t now_ms)
{
	int64_t wait = 0;
	pthread_mutex_lock(&l->lock);
	struct attempt *a = *find(l, username);
	if (a && a->until_ms > now_ms)
		wait = a->until_ms - now_ms;
	pthread_mutex_unlock(&l->lock);
	return wait;
}

void auth_limiter_record(struct auth_limiter *l, const char *username, bool ok, int64_t now_ms)
{
	pthread_mutex_lock(&l->lock);
	struct attempt **p = find(l, username);
	struct attempt *a = *p;
	if (ok) {
		if (a) {
			*p = a->next;
			free(a->username);
			free(a);
			l->count--;
		}
		pthread_mutex_unlock(&l->lock);
		return;
	}
	if (!a) {
		/* bound the table: a flood of random names must not grow it forever */
		if (l->count >= 100000) {
			pthread_mutex_unlock(&l->lock);
			return;
		}
		a = calloc(1, sizeof(*a));
		if (!a || !(a->username = strdup(username))) {
			free(a);
			pthread_mutex_unlock(&l->lock);
			return;
		}
		a->next = l->buckets[bucket(username)];
		l->buckets[bucket(username)] = a;
		l->count++;
	}
	/* a quiet quarter hour forgives the past */
	if (now_ms - a->last_ms > 15 * 60 * 1000)
		a->failures = 0;
	a->failures++;
	a->last_ms = now_ms;
	if (a->failures >= AUTH_LOGIN_BURST) {
		int shift = a->failures - AUTH_LOGIN_BURST;
		int64_t delay = shift >= 9 ? 300000 : (int64_t)1000 << shift;
		if (delay > 300000)
			delay = 300000;
		a->until_ms = now_ms + delay;
	}
	pthread_mutex_unlock(&l->lock);
}
