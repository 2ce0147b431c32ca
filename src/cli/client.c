/* SPDX-License-Identifier: MIT */
/*
 * client.c — the saved login, the HTTP client and the output helpers the
 * client commands share (see client.h).
 *
 * DESIGN
 * ------
 * A command parses its options (client_parse), opens a client (which picks
 * the server and the token), makes one or a few calls and prints. Every
 * request goes through client_call, so the rules hold in one place:
 * connect timeout 5 s, total 60 s, no redirects, http and https only, the
 * token only in the Authorization header, and one way of reporting a
 * failure. The handle is reset between calls (curl_easy_reset keeps the
 * connection), so no option of one call leaks into the next.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"

/* ---- the saved login ------------------------------------------------------------ */

int client_config_path(struct buf *out, struct gerr *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	buf_clear(out);
	/* the XDG spec: a relative value is invalid and must be ignored */
	if (xdg && xdg[0] == '/') {
		buf_printf(out, "%s/gantry/config.json", xdg);
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home || !*home)
			return gerr_set(err, GERR_CONFIG, "no home directory: set HOME or XDG_CONFIG_HOME");
		buf_printf(out, "%s/.config/gantry/config.json", home);
	}
	return out->oom ? gerr_set(err, GERR_NOMEM, "out of memory") : 0;
}

static char *dup_field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? strdup(s) : NULL;
}

int client_config_load(struct client_config *cfg, struct gerr *err)
{
	struct buf path = BUF_INIT;
	struct stat st;
	json_error_t je;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	if ((rc = client_config_path(&path, err)))
		goto out;
	if (stat(path.data, &st) != 0) {
		if (errno != ENOENT)
			rc = gerr_set(err, GERR_IO, "%s: %s", path.data, strerror(errno));
		goto out;
	}
	if (st.st_mode & 077)
		fprintf(stderr, "gantry: warning: %s can be read by other users; run 'chmod 600 %s'\n", path.data,
		        path.data);
	json_t *o = json_load_file(path.data, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		rc = gerr_set(err, GERR_CONFIG, "%s: not a JSON object%s%s (log in again to rewrite it)", path.data,
		              o ? "" : ": ", o ? "" : je.text);
		goto out;
	}
	cfg->server = dup_field(o, "server");
	cfg->user = dup_field(o, "user");
	cfg->token = dup_field(o, "token");
	cfg->admin = json_is_true(json_object_get(o, "admin"));
	json_t *tok = json_object_get(o, "token");
	/* jansson keeps its own copy of the token: wipe it before it is freed */
	if (json_is_string(tok))
		explicit_bzero((char *)json_string_value(tok), json_string_length(tok));
	json_decref(o);
out:
	buf_fini(&path);
	return rc;
}

/* mkdir -p for the directories of path that do not exist yet, mode 0700. */
static int make_dirs(char *path, struct gerr *err)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0700);
		int e = errno;
		*p = '/';
		if (rc != 0 && e != EEXIST) {
			*p = '\0';
			gerr_set(err, GERR_IO, "cannot create %s: %s", path, strerror(e));
			*p = '/';
			return GERR_IO;
		}
	}
	return 0;
}

int client_config_save(const struct client_config *cfg, struct gerr *err)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	char *text = NULL;
	int fd = -1, rc;
	struct stat st;

	if ((rc = client_config_path(&path, err)))
		goto out;
	if ((rc = make_dirs(path.data, err)))
		goto out;
	/* the token lives here: the directory is ours alone, whatever made it */
	char *slash = strrchr(path.data, '/');
	*slash = '\0';
	if (stat(path.data, &st) == 0 && st.st_uid == getuid() && (st.st_mode & 077))
		chmod(path.data, 0700);
	*slash = '/';

	json_t *o = json_object();
	if (cfg->server)
		json_object_set_new(o, "server", json_string(cfg->server));
	if (cfg->user)
		json_object_set_new(o, "user", json_string(cfg->user));
	if (cfg->token)
		json_object_set_new(o, "token", json_string(cfg->token));
	json_object_set_new(o, "admin", json_boolean(cfg->admin));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_t *tok = json_object_get(o, "token");
	if (json_is_string(tok))
		explicit_bzero((char *)json_string_value(tok), json_string_length(tok));
	json_decref(o);
	if (!text) {
		rc = gerr_set(err, GERR_NOMEM, "out of memory");
		goto out;
	}
	buf_printf(&tmp, "%s.XXXXXX", path.data);
	/* mkstemp creates the file 0600, so the token is never readable by others */
	if (tmp.oom || (fd = mkstemp(tmp.data)) < 0) {
		rc = gerr_set(err, GERR_IO, "cannot write %s: %s", path.data, strerror(errno));
		goto out;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off < len || write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0) {
		rc = gerr_set(err, GERR_IO, "cannot write %s: %s", tmp.data, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp.data);
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, path.data) != 0) {
		rc = gerr_set(err, GERR_IO, "cannot replace %s: %s", path.data, strerror(errno));
		unlink(tmp.data);
	}
out:
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	buf_fini(&tmp);
	buf_fini(&path);
	return rc;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void client_config_fini(struct client_config *cfg)
{
	free(cfg->server);
	free(cfg->user);
	free_secret(cfg->token);
	memset(cfg, 0, sizeof(*cfg));
}

char *client_server_normalize(const char *url)
{
	struct buf b = BUF_INIT;
	if (!url || !*url)
		return NULL;
	if (!strstr(url, "://"))
		buf_puts(&b, "http://");
	else if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
		return NULL;
	buf_puts(&b, url);
	size_t host = (size_t)(strstr(buf_str(&b), "://") - buf_str(&b)) + 3;
	while (b.len > host && b.data[b.len - 1] == '/')
		buf_truncate(&b, b.len - 1);
	/* a host, and nothing that would break the URLs we append paths to */
	if (b.oom || b.len == host || b.data[host] == '/' || strpbrk(b.data + host, "?# \t\r\n")) {
		buf_fini(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* ---- options -------------------------------------------------------------------- */

int client_parse(const struct cli_cmd *cmd, int argc, char **argv, const struct client_opt *opts, int *npos)
{
	int np = 0;
	bool done = false;

	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (done || a[0] != '-' || a[1] == '\0') {
			argv[np++] = a;   /* np <= i: never overwrites what is still to be read */
			continue;
		}
		if (!strcmp(a, "--")) {
			done = true;
			continue;
		}
		const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		const char *value = eq ? eq + 1 : NULL;
		const struct client_opt *o = NULL;
		for (const struct client_opt *p = opts; p->name && !o; p++) {
			if (strlen(p->name) == nlen && !strncmp(p->name, a, nlen))
				o = p;
			else if (p->alias && !strcmp(p->alias, a))
				o = p;
			else if (p->alias && p->kind != CLIENT_FLAG && a[1] != '-' && !strncmp(p->alias, a, 2) && a[2]) {
				o = p;   /* -ojson */
				value = a + 2;
			}
		}
		if (!o)
			return cli_usage_error(cmd, "unknown option '%.*s'", (int)nlen, a);
		if (o->kind == CLIENT_FLAG) {
			if (value)
				return cli_usage_error(cmd, "option '%s' takes no value", o->name);
			*(bool *)o->dest = true;
			continue;
		}
		if (!value) {
			if (i + 1 >= argc)
				return cli_usage_error(cmd, "option '%s' needs a value", o->name);
			value = argv[++i];
		}
		if (o->kind == CLIENT_VALUE) {
			*(const char **)o->dest = value;
		} else {
			struct client_list *l = o->dest;
			if (l->n == CLIENT_LIST_MAX)
				return cli_usage_error(cmd, "option '%s' given more than %d times", o->name, CLIENT_LIST_MAX);
			l->v[l->n++] = value;
		}
	}
	*npos = np;
	return CLI_OK;
}

/* ---- the connection ------------------------------------------------------------- */

int client_open(struct client *c, const struct cli_cmd *cmd, const struct client_common *co, int flags)
{
	struct client_config cfg;
	struct gerr e;
	int rc = CLI_OK;

	memset(c, 0, sizeof(*c));
	if (co->output && strcmp(co->output, "table") && strcmp(co->output, "json"))
		return cli_usage_error(cmd, "option '--output' must be table or json (got '%s')", co->output);
	c->json = co->output && !strcmp(co->output, "json");
	if (client_config_load(&cfg, &e)) {
		fprintf(stderr, "gantry: %s\n", e.msg);
		return CLI_FAIL;
	}
	const char *env = getenv("GANTRY_SERVER");
	const char *url = co->server          ? co->server
	                  : env && *env       ? env
	                  : cfg.server        ? cfg.server
	                                      : CLIENT_DEFAULT_SERVER;
	if (!(c->server = client_server_normalize(url))) {
		rc = cli_usage_error(cmd, "invalid server URL '%s': give http://HOST:PORT or https://HOST[:PORT]", url);
		goto out;
	}
	char *saved = cfg.server ? client_server_normalize(cfg.server) : NULL;
	const char *tok = flags & (CLIENT_NO_TOKEN | CLIENT_SAVED_TOKEN) ? NULL : getenv("GANTRY_TOKEN");
	if (flags & CLIENT_NO_TOKEN) {
		/* nothing to send */
	} else if (tok && *tok) {
		c->token = strdup(tok);
	} else if (cfg.token && saved && !strcmp(saved, c->server)) {
		c->token = cfg.token;
		c->user = cfg.user;
		cfg.token = cfg.user = NULL;
		c->saved_token = true;
	}
	free(saved);
	if ((flags & CLIENT_NEED_TOKEN) && !c->token) {
		fprintf(stderr, "gantry: not logged in to %s (run 'gantry login%s%s', or set GANTRY_TOKEN)\n", c->server,
		        co->server ? " --server " : "", co->server ? c->server : "");
		rc = CLI_FAIL;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c->curl = curl_easy_init())) {
		fprintf(stderr, "gantry: cannot start libcurl\n");
		rc = CLI_FAIL;
	}
out:
	client_config_fini(&cfg);
	return rc;
}

int client_start(struct client *c, const struct cli_cmd *cmd, int argc, char **argv, const struct client_args *a,
                 int *npos)
{
	struct client_common co = { 0 };
	struct client_opt opts[32] = { CLIENT_OPT_SERVER(&co) };
	size_t n = 1;
	int rc;

	memset(c, 0, sizeof(*c));
	if (a->output)
		opts[n++] = (struct client_opt)CLIENT_OPT_OUTPUT(&co);
	for (const struct client_opt *o = a->opts; o && o->name && n < 31; o++)
		opts[n++] = *o;
	opts[n] = (struct client_opt)CLIENT_OPT_END;
	if ((rc = client_parse(cmd, argc, argv, opts, npos)))
		return rc;
	if (*npos < a->min)
		return cli_usage_error(cmd, "%s", a->missing ? a->missing : "missing argument");
	if (a->max >= 0 && *npos > a->max)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[a->max]);
	return client_open(c, cmd, &co, a->flags);
}

void client_close(struct client *c)
{
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	free_secret(c->token);
	free(c->server);
	free(c->user);
	memset(c, 0, sizeof(*c));
}

int client_forget_token(struct client *c)
{
	struct client_config cfg;
	struct gerr e;
	int rc = CLI_OK;
	if (!c->saved_token)
		return CLI_OK;
	if (client_config_load(&cfg, &e) == 0) {
		char *saved = cfg.server ? client_server_normalize(cfg.server) : NULL;
		if (saved && !strcmp(saved, c->server) && cfg.token && !strcmp(cfg.token, c->token)) {
			free_secret(cfg.token);
			cfg.token = NULL;
			if (client_config_save(&cfg, &e))
				rc = CLI_FAIL;
		}
		free(saved);
		client_config_fini(&cfg);
	} else {
		rc = CLI_FAIL;
	}
	if (rc)
		fprintf(stderr, "gantry: %s\n", e.msg);
	return rc;
}

const char *client_token(const struct client *c)
{
	return c->token;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	n *= size;   /* size is always 1 */
	if (b->len + n > CLIENT_MAX_REPLY)
		return 0;   /* curl then fails with CURLE_WRITE_ERROR */
	buf_append(b, p, n);
	return b->oom ? 0 : n;
}

/* Make a server string safe for the terminal: no escape sequences. */
static void put_sanitized(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		fputc(ch == '\n' || ch == '\t' || (ch >= 0x20 && ch != 0x7f) ? ch : '?', f);
	}
}

/* "gantry: CODE: message" from an error answer, or what we can say without one. */
void client_print_error(struct client *c, long status, const struct buf *body)
{
	json_error_t je;
	json_t *o = json_loadb(body->data ? body->data : "", body->len, 0, &je);
	const char *code = json_string_value(json_object_get(o, "code"));
	const char *msg = json_string_value(json_object_get(o, "message"));
	fputs("gantry: ", stderr);
	if (msg) {
		put_sanitized(stderr, code ? code : "", 200);
		fprintf(stderr, "%s", code ? ": " : "");
		put_sanitized(stderr, msg, 64 * 1024);
	} else {
		fprintf(stderr, "HTTP %ld from %s", status, c->server);
		if (body->len) {
			fputs(": ", stderr);
			put_sanitized(stderr, body->data, 300);
		}
	}
	fputc('\n', stderr);
	json_decref(o);
	if (status == 401 && c->saved_token)
		fprintf(stderr, "gantry: the saved login for %s is no longer valid; run 'gantry login'\n", c->server);
}
/* The session's token as an Authorization header, if there is one; line is
 * scratch space, wiped after use (curl keeps its own copy). */
static struct curl_slist *add_token(const struct client *c, struct curl_slist *hdrs, struct buf *line)
{
	if (!c->token)
		return hdrs;
	buf_clear(line);
	buf_printf(line, "Authorization: Bearer %s", c->token);
	hdrs = curl_slist_append(hdrs, line->data);
	explicit_bzero(line->data, line->len);
	return hdrs;
}


int client_call(struct client *c, const char *method, const char *path, const char *ctype, const char *body,
                size_t len, struct client_reply *rep)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	struct buf url = BUF_INIT, line = BUF_INIT;
	int rc = CLI_FAIL;

	buf_init(&rep->body);
	rep->status = 0;
	buf_printf(&url, "%s%s", c->server, path);
	curl_easy_reset(h);
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CLIENT_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)CLIENT_TIMEOUT_S);
	/* a redirect could carry the token to another host: never follow one */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gantry-cli");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &rep->body);
	if (!strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		/* always a body, even empty: a Content-Length the server can rely on */
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	buf_printf(&line, "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
	hdrs = curl_slist_append(hdrs, line.data);
	hdrs = add_token(c, hdrs, &line);
	if (!hdrs || url.oom || line.oom) {
		fprintf(stderr, "gantry: out of memory\n");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		if (cc == CURLE_WRITE_ERROR)
			fprintf(stderr, "gantry: the answer from %s is larger than %u MiB\n", c->server, CLIENT_MAX_REPLY >> 20);
		else
			fprintf(stderr, "gantry: cannot reach %s: %s\n", c->server,
			        c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rep->status);
	if (rep->status >= 300 && rep->status < 400) {
		char *to = NULL;
		curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &to);
		fprintf(stderr, "gantry: %s answers HTTP %ld, a redirect%s%s; give the final address with --server\n",
		        c->server, rep->status, to ? " to " : "", to ? to : "");
		goto out;
	}
	if (rep->status < 200 || rep->status >= 300) {
		if (!c->quiet)
			client_print_error(c, rep->status, &rep->body);
		goto out;
	}
	rc = CLI_OK;
out:
	/* the header list holds a copy of the token */
	for (struct curl_slist *s = hdrs; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	buf_fini(&line);
	buf_fini(&url);
	return rc;
}

int client_call_json(struct client *c, const char *method, const char *path, json_t *body, json_t **out)
{
	struct client_reply rep;
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	*out = NULL;
	if (body && !text) {
		fprintf(stderr, "gantry: out of memory\n");
		return CLI_FAIL;
	}
	int rc = client_call(c, method, path, body ? "application/json" : NULL, text, text ? strlen(text) : 0, &rep);
	if (text) {
		/* request bodies may hold passwords */
		explicit_bzero(text, strlen(text));
		free(text);
	}
	if (rc == CLI_OK) {
		json_error_t je;
		*out = rep.body.len ? json_loadb(rep.body.data, rep.body.len, 0, &je) : json_object();
		if (!*out) {
			fprintf(stderr, "gantry: the answer from %s is not JSON (HTTP %ld): %s\n", c->server, rep.status,
			        je.text);
			rc = CLI_FAIL;
		}
	}
	buf_fini(&rep.body);
	return rc;
}

struct stream {
	CURL *h;
	int fd;
	long status;
	struct buf err;     /* an error answer's body, up to 64 KiB */
	int write_errno;    /* writing to fd failed */
};

static size_t on_stream(char *p, size_t size, size_t n, void *arg)
{
	struct stream *s = arg;
	n *= size;
	if (!s->status)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status < 200 || s->status >= 300) {
		if (s->err.len < 65536)
			buf_append(&s->err, p, n);
		return n;
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(s->fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->write_errno = w < 0 ? errno : EIO;
			return 0;
		}
		off += (size_t)w;
	}
	return n;
}

int client_stream(struct client *c, const char *path, const char *accept, int fd)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	struct buf url = BUF_INIT, line = BUF_INIT;
	struct stream s = { .h = h, .fd = fd };
	int rc = CLI_FAIL;

	buf_init(&s.err);
	buf_printf(&url, "%s%s", c->server, path);
	curl_easy_reset(h);
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CLIENT_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gantry-cli");
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	buf_printf(&line, "Accept: %s", accept ? accept : "*/*");
	hdrs = curl_slist_append(hdrs, line.data);
	hdrs = add_token(c, hdrs, &line);
	if (!hdrs || url.oom || line.oom) {
		fprintf(stderr, "gantry: out of memory\n");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode cc = curl_easy_perform(h);
	if (!s.status)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s.status);
	if (s.write_errno) {
		fprintf(stderr, "gantry: cannot write the log: %s\n", strerror(s.write_errno));
		goto out;
	}
	if (s.status >= 300 && s.status < 400) {
		fprintf(stderr, "gantry: %s answers HTTP %ld, a redirect; give the final address with --server\n", c->server,
		        s.status);
		goto out;
	}
	if (s.status && (s.status < 200 || s.status >= 300)) {
		client_print_error(c, s.status, &s.err);
		goto out;
	}
	if (cc != CURLE_OK) {
		if (s.status)
			fprintf(stderr, "gantry: the stream from %s was cut: %s\n", c->server,
			        c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		else
			fprintf(stderr, "gantry: cannot reach %s: %s\n", c->server,
			        c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	rc = CLI_OK;
out:
	for (struct curl_slist *l = hdrs; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	buf_fini(&s.err);
	buf_fini(&line);
	buf_fini(&url);
	return rc;
}

void client_pathf(struct client *c, struct buf *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			const char *s = va_arg(ap, const char *);
			char *e = curl_easy_escape(c->curl, s, 0);
			if (!e) {
				path->oom = true;
				break;
			}
			buf_puts(path, e);
			curl_free(e);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			buf_putc(path, '%');
			p++;
		} else {
			buf_putc(path, *p);
		}
	}
	va_end(ap);
}

void client_query(struct client *c, struct buf *path, const char *key, const char *value)
{
	if (!value)
		return;
	buf_putc(path, strchr(buf_str(path), '?') ? '&' : '?');
	client_pathf(c, path, "%s=%s", key, value);
}

const char *client_user(struct client *c)
{
	json_t *o;
	if (c->user)
		return c->user;
	if (client_call_json(c, "GET", "/api/v2/tokens/check", NULL, &o) != CLI_OK)
		return NULL;
	const char *name = json_string_value(json_object_get(o, "username"));
	if (name)
		c->user = strdup(name);
	else
		fprintf(stderr, "gantry: %s did not say whose token this is\n", c->server);
	json_decref(o);
	return c->user;
}

int client_job_id(struct client *c, const char *arg, struct buf *out)
{
	buf_clear(out);
	if (strchr(arg, '~')) {
		buf_puts(out, arg);
		return CLI_OK;
	}
	const char *user = client_user(c);
	if (!user)
		return CLI_FAIL;
	buf_printf(out, "%s~%s", user, arg);
	return CLI_OK;
}

/* ---- input --------------------------------------------------------------------- */

static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

/* Ctrl-C at the prompt: give the terminal its echo back, then die of it. */
static void restore_echo(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int read_line(FILE *f, char *out, size_t len)
{
	if (!fgets(out, (int)len, f))
		return -1;
	size_t n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (n == len - 1 && !feof(f))
		return -2;   /* longer than the buffer */
	if (n && out[n - 1] == '\r')
		out[--n] = '\0';
	return 0;
}

int client_read_password(const struct cli_cmd *cmd, const char *prompt, bool from_stdin, char *out, size_t len)
{
	int rc;
	if (from_stdin) {
		rc = read_line(stdin, out, len);
	} else {
		if (!isatty(STDIN_FILENO))
			return cli_usage_error(cmd, "standard input is not a terminal: give the password with --password-stdin");
		struct termios tio;
		struct sigaction sa = { .sa_handler = restore_echo }, old_int, old_term;
		if (tcgetattr(STDIN_FILENO, &saved_tio) != 0) {
			fprintf(stderr, "gantry: cannot read the terminal: %s\n", strerror(errno));
			return CLI_FAIL;
		}
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		tio = saved_tio;
		tio.c_lflag &= ~(tcflag_t)ECHO;
		tio.c_lflag |= ECHONL;
		fputs(prompt, stderr);
		fflush(stderr);
		echo_off = 1;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
		rc = read_line(stdin, out, len);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		echo_off = 0;
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (rc == -2) {
		explicit_bzero(out, len);
		fprintf(stderr, "gantry: the password is longer than %zu characters\n", len - 2);
		return CLI_FAIL;
	}
	if (rc != 0 || !*out) {
		fprintf(stderr, "gantry: no password given%s\n", from_stdin ? " on standard input" : "");
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* ---- output -------------------------------------------------------------------- */

void client_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (s) {
		puts(s);
		free(s);
	}
}

void client_table_init(struct client_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

static char *cell_dup(const char *s, size_t len)
{
	char *d = malloc(len + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		d[i] = ch == '\t' || ch == '\n' || ch == '\r' ? ' ' : ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	d[len] = '\0';
	return d;
}

static void add_cell(struct client_table *t, const char *s, size_t len)
{
	if (t->oom)
		return;
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **v = realloc(t->cells, cap * sizeof(*v));
		if (!v) {
			t->oom = true;
			return;
		}
		t->cells = v;
		t->cap = cap;
	}
	if (!(t->cells[t->ncells] = cell_dup(s, len)))
		t->oom = true;
	else
		t->ncells++;
}

void client_table_add(struct client_table *t, const char *s)
{
	if (!s || !*s)
		s = "-";
	add_cell(t, s, strlen(s));
}

void client_table_row(struct client_table *t, ...)
{
	va_list ap;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++)
		client_table_add(t, va_arg(ap, const char *));
	va_end(ap);
}

static void cell_into(const json_t *v, struct buf *b)
{
	size_t i;
	const char *key;
	json_t *x;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		buf_append(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		buf_printf(b, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		buf_puts(b, "yes");
		break;
	case JSON_FALSE:
		buf_puts(b, "no");
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, x) {
			if (i)
				buf_putc(b, ',');
			cell_into(x, b);
		}
		break;
	case JSON_OBJECT:
		i = 0;
		json_object_foreach((json_t *)v, key, x) {
			buf_printf(b, "%s%s=", i++ ? ", " : "", key);
			cell_into(x, b);
		}
		break;
	case JSON_NULL:
		break;
	}
}

void client_table_add_json(struct client_table *t, const json_t *v)
{
	struct buf b = BUF_INIT;
	cell_into(v, &b);
	if (b.oom)
		t->oom = true;
	else if (b.len)
		add_cell(t, b.data, b.len);
	else
		client_table_add(t, NULL);
	buf_fini(&b);
}

/* Columns on the terminal: UTF-8 continuation bytes take none. */
static size_t display_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

void client_table_print(const struct client_table *t, FILE *f)
{
	size_t nrows = t->ncols ? t->ncells / t->ncols : 0;
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	if (!width || t->oom) {
		free(width);
		fprintf(stderr, "gantry: out of memory\n");
		return;
	}
	for (size_t k = 0; k < nrows * t->ncols; k++) {
		size_t w = display_width(t->cells[k]);
		if (w > width[k % t->ncols])
			width[k % t->ncols] = w;
	}
	for (size_t r = 0; r < nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			fputs(s, f);
			if (i + 1 < t->ncols)
				fprintf(f, "%*s", (int)(width[i] - display_width(s) + 2), "");
		}
		fputc('\n', f);
	}
	free(width);
}

void client_table_fini(struct client_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

static const char *local_time(time_t t, char *out, size_t len)
{
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, len, "-");
	return out;
}

const char *client_time_ms(const json_t *v, char *out, size_t len)
{
	json_int_t ms = json_is_integer(v) ? json_integer_value(v) : json_is_real(v) ? (json_int_t)json_real_value(v) : 0;
	if (ms <= 0) {
		snprintf(out, len, "-");
		return out;
	}
	return local_time((time_t)(ms / 1000), out, len);
}

const char *client_time_iso(const char *iso, char *out, size_t len)
{
	struct tm tm = { 0 };
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end) {
		snprintf(out, len, "%s", iso && *iso ? iso : "-");
		return out;
	}
	return local_time(timegm(&tm), out, len);
}
