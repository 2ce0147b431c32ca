/* SPDX-License-Identifier: MIT */
/*
 * static.c — the web portal's files at /.
 *
 * The portal (web/, built by Vite into web/dist) is a single-page app: its
 * routes (/jobs/alice~mnist, /submit ...) exist only in the browser. So any
 * GET that no API route matches, outside /api and /rest-server, is answered
 * with the file of that name under the portal's directory when there is one,
 * else with index.html, and the app routes from there; a reload or a shared
 * link to a deep page works. Paths that look like files (a dot in the last
 * segment, but not .html, or under /assets/) answer 404 instead, so a stale
 * page never gets HTML for a script. Every 404 is the router's, OpenPAI's
 * JSON NoApiError: a client that got a path slightly wrong (//api/v2/jobs)
 * still reads a JSON error.
 *
 * Vite names assets by content hash (assets/index-3f2a1b.js): they are
 * cached for a year; everything else (index.html) is revalidated each time.
 *
 * Safety: a path with an empty, "." or ".." segment, a backslash or a
 * leading-dot segment is refused, files are opened without following a final
 * symlink, and the resolved path must still lie inside the directory, so
 * nothing outside it is ever read.
 *
 * Where the directory is: --web DIR / $GANTRY_WEB, else web/dist found by
 * walking up from the binary (build/gantry → web/dist of the source tree),
 * else ../share/gantry/web beside the binary. None found: the server serves
 * the API alone, says so in its log, and / answers a short plain message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/internal.h"
#include "base/log.h"

#define MAX_FILE (64u << 20)     /* the largest file served: 64 MiB */

static bool has_index(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;
	if ((size_t)snprintf(p, sizeof(p), "%s/index.html", dir) >= sizeof(p))
		return false;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static char *resolve(const char *dir)
{
	char *real = realpath(dir, NULL);
	if (real && !has_index(real)) {
		free(real);
		return NULL;
	}
	return real;
}

/* web/dist in the binary's directory or one of its parents (source trees
 * build into build/ or build/NAME/), else ../share/gantry/web (installs). */
static char *find_near_binary(char *tried, size_t tried_len)
{
	char exe[PATH_MAX - 32], cand[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (strlen(exe) < tried_len)
		memcpy(tried, exe, strlen(exe) + 1);
	snprintf(cand, sizeof(cand), "%s/../share/gantry/web", exe);
	char *found = resolve(cand);
	for (int up = 0; !found && up < 5 && *exe; up++) {
		snprintf(cand, sizeof(cand), "%s/web/dist", exe);
		found = resolve(cand);
		if (!(slash = strrchr(exe, '/')))
			break;
		*slash = '\0';
	}
	return found;
}

char *api_static_locate(const char *configured)
{
	char tried[PATH_MAX] = "?";
	char *dir;
	if (configured && *configured) {
		if ((dir = resolve(configured))) {
			log_info("portal: serving the web portal from %s", dir);
			return dir;
		}
		log_warn("portal: %s has no index.html (not built?): serving the API only; "
		         "`make` builds the portal into web/dist", configured);
		return NULL;
	}
	if ((dir = find_near_binary(tried, sizeof(tried)))) {
		log_info("portal: serving the web portal from %s", dir);
		return dir;
	}
	log_warn("portal: not built (no web/dist/index.html in %s or above): serving the API only; "
	         "`make` builds it when Node.js is installed, or pass --web DIR", tried);
	return NULL;
}

static const char *content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json; charset=utf-8" },
		{ ".map", "application/json; charset=utf-8" },
		{ ".webmanifest", "application/manifest+json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".woff", "font/woff" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".wasm", "application/wasm" },
	};
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* Every segment a plain name: no "", ".", "..", dot-files or backslashes. */
static bool safe_path(const char *path)
{
	if (path[0] != '/' || strchr(path, '\\') || strlen(path) > 1024)
		return false;
	if (!strcmp(path, "/"))
		return true;
	for (const char *s = path + 1;;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || s[0] == '.')
			return false;
		if (!e)
			return true;
		s = e + 1;
	}
}

/* Read dir/rel into a malloc'd buffer when it is a regular file inside dir.
 * Returns 1 (read), 0 (no such file) or a negative GERR_*. */
static int read_inside(const char *dir, const char *rel, char **out, size_t *len)
{
	char path[PATH_MAX], *real = NULL, *data = NULL;
	struct stat st;
	int fd = -1, rc = 0;
	size_t dlen = strlen(dir);

	if ((size_t)snprintf(path, sizeof(path), "%s%s", dir, rel) >= sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE)
		goto out;
	/* a symlinked directory on the way must not lead outside */
	if (!(real = realpath(path, NULL)) || strncmp(real, dir, dlen) || real[dlen] != '/')
		goto out;
	if (!(data = malloc((size_t)st.st_size + 1))) {
		rc = GERR_NOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = GERR_IO;
			goto out;
		}
		got += (size_t)n;
	}
	*out = data;
	*len = got;
	data = NULL;
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	free(real);
	free(data);
	return rc;
}

bool api_static_get(struct api_request *r, const char *dir)
{
	const char *path = r->path;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
		return false;
	if (!strncmp(r->url, "/rest-server", 12) || !strncmp(path, "/api/", 5) || !strcmp(path, "/api") ||
	    !strcmp(path, "/healthz") || !strcmp(path, "/metrics"))
		return false;
	if (!dir) {
		if (strcmp(path, "/"))
			return false;
		api_text(r, 200, "text/plain; charset=utf-8",
		         "Gantry: the REST API is at /api/v2. The web portal is not built on this server "
		         "(run `make` with Node.js installed, or start it with --web DIR).\n");
		return true;
	}
	if (!safe_path(path))
		return false;
	/* OpenPAI's page names (/job-detail.html...) are the app's too, and a
	 * dot alone does not make a file: /jobs/j.doe~mnist is a page (user
	 * names may hold dots); only a known file type, or /assets/, is a file */
	const char *last = strrchr(path, '/');
	const char *dot = strrchr(last, '.');
	bool filelike = !strncmp(path, "/assets/", 8) ||
	                (dot && strcasecmp(dot, ".html") && strcmp(content_type(last), "application/octet-stream"));
	rc = strcmp(path, "/") ? read_inside(dir, path, &body, &len) : 0;
	if (rc == 0 && !filelike) {
		path = "/index.html";
		rc = read_inside(dir, path, &body, &len);
	}
	if (rc < 0) {
		api_fail(r, 500, "UnknownError", "Cannot read the portal's file %s.", path);
		return true;
	}
	if (rc == 0)
		return false;
	if (api_bytes(r, 200, content_type(path), body, len) < 0) {
		api_fail(r, 500, "UnknownError", "Out of memory.");
		return true;
	}
	r->extra_header = "Cache-Control";
	r->extra_value = !strncmp(path, "/assets/", 8) ? "public, max-age=31536000, immutable" : "no-cache";
	return true;
}
