/* SPDX-License-Identifier: MIT */
/*
 * client — what the client commands share: the saved login, one libcurl
 * handle talking to the server's REST API v2, option parsing, and output
 * (aligned tables, or the server's JSON with -o json).
 *
 * One invocation of `gantry` is one short-lived process, so a client is
 * opened once per command and used from that one thread. The client prints
 * its own failures on stderr in the forms cli.h promises ("gantry: CODE:
 * message" from the server, "gantry: cannot reach SERVER: ..." when there is
 * no answer) and returns the exit status; commands just pass it on.
 *
 * It must never print, log or put in a URL the access token: the token only
 * travels in the Authorization header and the 0600 config file, and is
 * wiped from memory on close.
 */
#ifndef GANTRY_CLI_CLIENT_H
#define GANTRY_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/gerr.h"
#include "cli/cli.h"

#define CLIENT_DEFAULT_SERVER "http://127.0.0.1:9186"
#define CLIENT_CONNECT_TIMEOUT_S 5
#define CLIENT_TIMEOUT_S 60
#define CLIENT_MAX_REPLY (64u << 20)   /* a larger answer is refused, not buffered */
#define CLIENT_LIST_MAX 64             /* values of one repeatable option */

/* ---- the saved login ------------------------------------------------------------ */

/* $XDG_CONFIG_HOME/gantry/config.json, else ~/.config/gantry/config.json. */
struct client_config {
	char *server;   /* normalized URL, or NULL */
	char *user;
	char *token;    /* secret */
	bool admin;
};

/* The config file's path into out (cleared first); GERR_CONFIG when neither
 * XDG_CONFIG_HOME nor a home directory is known. */
int client_config_path(struct buf *out, struct gerr *err);
/* Read the file; a missing file is an empty config, not an error. Fields are
 * returned owned: client_config_fini() frees (and wipes the token). Warns on
 * stderr when the file is readable by others. GERR_IO, GERR_CONFIG. */
int client_config_load(struct client_config *cfg, struct gerr *err);
/* Replace the file atomically (temp file + rename), mode 0600, creating the
 * gantry directory with mode 0700. GERR_IO. */
int client_config_save(const struct client_config *cfg, struct gerr *err);
void client_config_fini(struct client_config *cfg);

/* "host:port" → "http://host:port", trailing slashes dropped. Returned owned
 * (free), or NULL when the scheme is not http or https. */
char *client_server_normalize(const char *url);

/* ---- options -------------------------------------------------------------------- */

enum client_opt_kind {
	CLIENT_FLAG,    /* dest: bool * */
	CLIENT_VALUE,   /* dest: const char ** (points into argv) */
	CLIENT_LIST,    /* dest: struct client_list *; the option may repeat */
};

struct client_list {
	const char *v[CLIENT_LIST_MAX];
	size_t n;
};

struct client_opt {
	const char *name;    /* "--user"; NULL ends the table */
	const char *alias;   /* "-o", or NULL */
	enum client_opt_kind kind;
	void *dest;
};

/* What every client command may take, filled by the options below. */
struct client_common {
	const char *server;   /* --server URL */
	const char *output;   /* -o table|json */
};

#define CLIENT_OPT_SERVER(co) { "--server", NULL, CLIENT_VALUE, &(co)->server }
#define CLIENT_OPT_OUTPUT(co) { "--output", "-o", CLIENT_VALUE, &(co)->output }
#define CLIENT_OPT_END { NULL, NULL, CLIENT_FLAG, NULL }

/*
 * Parse argv against opts (options anywhere, "--name=value" or "--name
 * value", "--" ends them, "-" is an argument). The arguments that are not
 * options are moved, in order, to argv[0..*npos). Returns CLI_OK, or
 * CLI_USAGE after printing the error (unknown option, missing value, too
 * many values for a list).
 */
int client_parse(const struct cli_cmd *cmd, int argc, char **argv, const struct client_opt *opts, int *npos);

/* ---- the connection ------------------------------------------------------------- */

struct client {
	char *server;        /* read-only: normalized base URL */
	char *user;          /* read-only: the logged-in user; NULL until known */
	bool json;           /* read-only: -o json */
	bool saved_token;    /* read-only: the token came from the config file */
	bool quiet;          /* client_call leaves HTTP errors to the caller */
	/* private */
	char *token;         /* secret; NULL when not logged in */
	void *curl;          /* CURL * */
	char errbuf[256];    /* CURL_ERROR_SIZE */
};

enum {
	CLIENT_NEED_TOKEN = 1,    /* fail with "not logged in" without a token */
	CLIENT_NO_TOKEN = 2,      /* send none, even with $GANTRY_TOKEN (login) */
	CLIENT_SAVED_TOKEN = 4,   /* only the config file's token (logout) */
};

/*
 * Choose the server (--server, $GANTRY_SERVER, the config's, the default)
 * and the token ($GANTRY_TOKEN, else the config's when it was saved for
 * that same server: a token is never sent to a server it was not issued
 * by). Returns CLI_OK, CLI_USAGE (bad URL or -o) or CLI_FAIL (config
 * unreadable, not logged in), the error printed. client_close() is safe
 * after any return.
 */
int client_open(struct client *c, const struct cli_cmd *cmd, const struct client_common *co, int flags);
void client_close(struct client *c);

/* Remove the token from the config file when it is the one this client
 * uses (after logout, a revoke or a password change killed it). Prints a
 * failure; returns CLI_OK or CLI_FAIL. */
int client_forget_token(struct client *c);

/* What a command takes, for client_start. */
struct client_args {
	const struct client_opt *opts;   /* its own options, CLIENT_OPT_END-terminated; or NULL */
	bool output;                     /* it takes -o table|json */
	int min, max;                    /* how many arguments; max -1: any number */
	const char *missing;             /* the usage error when there are fewer than min */
	int flags;                       /* for client_open */
};

/*
 * The start of every client command: parse argv (its options, --server and
 * maybe -o), check the argument count, open the client. The arguments end
 * up in argv[0..*npos). Returns as client_open; client_close(c) is safe
 * after any return.
 */
int client_start(struct client *c, const struct cli_cmd *cmd, int argc, char **argv, const struct client_args *a,
                 int *npos);

/* The token for this session, for the commands that manage tokens (never to
 * be printed); NULL when none. */
const char *client_token(const struct client *c);

struct client_reply {
	long status;        /* HTTP status */
	struct buf body;    /* owned: buf_fini() */
};

/*
 * One request: method, path (from client_pathf), an optional body with its
 * content type. On a 2xx answer returns CLI_OK with rep filled. Otherwise
 * prints the server's {code, message} (or the transport error) and returns
 * CLI_FAIL; rep->status tells which (0: no answer). rep is always to be
 * buf_fini()ed.
 */
int client_call(struct client *c, const char *method, const char *path, const char *ctype, const char *body,
                size_t len, struct client_reply *rep);
/* Print an error answer as client_call does (for callers that set quiet). */
void client_print_error(struct client *c, long status, const struct buf *body);
/* client_call with a JSON body (borrowed; NULL for none) and a JSON answer,
 * returned owned in *out (json_decref). */
int client_call_json(struct client *c, const char *method, const char *path, json_t *body, json_t **out);
/*
 * GET path and copy a 2xx answer's body to fd as it arrives: no size limit
 * and no total timeout (a log stream lasts as long as its task; TCP
 * keep-alive notices a dead server). accept is the Accept header. Returns
 * CLI_OK when the server ended the answer normally; CLI_FAIL after printing
 * the server's error, or that the stream was cut, or that fd could not be
 * written.
 */
int client_stream(struct client *c, const char *path, const char *accept, int fd);

/* Build a path from fmt where each %s is replaced by its argument escaped
 * as one URL path segment (curl_easy_escape); %% is a percent sign. */
void client_pathf(struct client *c, struct buf *path, const char *fmt, ...);
/* Append "?key=value" or "&key=value", value escaped; nothing when NULL. */
void client_query(struct client *c, struct buf *path, const char *key, const char *value);

/* The logged-in user: from the config, else asked of the server
 * (GET /api/v2/tokens/check). NULL after printing the error. */
const char *client_user(struct client *c);
/* "USER~NAME" for a job argument; one without "~" is the caller's job. */
int client_job_id(struct client *c, const char *arg, struct buf *out);

/* ---- input --------------------------------------------------------------------- */

/* Read a password: one line of stdin with from_stdin, else prompted on the
 * terminal without echo. Returns CLI_OK, CLI_USAGE (no terminal and no
 * --password-stdin) or CLI_FAIL (end of input, empty), the error printed. */
int client_read_password(const struct cli_cmd *cmd, const char *prompt, bool from_stdin, char *out, size_t len);

/* ---- output -------------------------------------------------------------------- */

/* Pretty-print v on stdout (two-space indent, the server's key order). */
void client_print_json(const json_t *v);

/*
 * A table printed with each column as wide as its widest cell (two spaces
 * between, nothing truncated, the last column unpadded). Control characters
 * in cells become spaces or '?', so a server string cannot move the cursor.
 * The first row added is the header, when there is one.
 */
struct client_table {
	size_t ncols, ncells, cap;   /* read-only */
	char **cells;                /* private */
	bool oom;                    /* read-only */
};

void client_table_init(struct client_table *t, size_t ncols);
/* Add one row of ncols strings (borrowed, copied); NULL shows as "-". */
void client_table_row(struct client_table *t, ...);
/* Add the next cell, rows filling left to right (s borrowed, copied). */
void client_table_add(struct client_table *t, const char *s);
/* Add a JSON value as a cell: strings as they are ("" as "-"), numbers,
 * yes/no, arrays joined with ",", objects as "k=v, ...", null as "-". */
void client_table_add_json(struct client_table *t, const json_t *v);
void client_table_print(const struct client_table *t, FILE *f);
void client_table_fini(struct client_table *t);

/* Milliseconds since the epoch as local "YYYY-MM-DD HH:MM:SS"; "-" for
 * none (0, null). Returns out. */
const char *client_time_ms(const json_t *v, char *out, size_t len);
/* An ISO-8601 UTC timestamp ("2024-01-02T03:04:05.678Z") in local time, as
 * client_time_ms; the input as it is when it does not parse. */
const char *client_time_iso(const char *iso, char *out, size_t len);

#endif
