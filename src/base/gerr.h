/* SPDX-License-Identifier: MIT */
/*
 * gerr — error values with a human message.
 *
 * A function that can fail returns 0 or a negative GERR_* code and, when the
 * caller passes one, fills a struct gerr with the code, the message and (for
 * job files) the line:column it refers to. GERR_MAP is the only place a code
 * is tied to its OpenPAI error code string and HTTP status; the API layer
 * reads it from here, never from a second table.
 */
#ifndef GANTRY_BASE_GERR_H
#define GANTRY_BASE_GERR_H

#include <stdarg.h>

/*       name       value  OpenPAI code                 HTTP */
#define GERR_MAP(X)                                              \
	X(OK,          0,  "OK",                        200)     \
	X(NOMEM,      -1,  "UnknownError",              500)     \
	X(IO,         -2,  "UnknownError",              500)     \
	X(INTERNAL,   -3,  "UnknownError",              500)     \
	X(INVALID,    -4,  "InvalidParametersError",    400)     \
	X(PROTOCOL,   -5,  "InvalidProtocolError",      400)     \
	X(TOO_LARGE,  -6,  "InvalidProtocolError",      400)     \
	X(NOT_FOUND,  -7,  "NotFoundError",             404)     \
	X(CONFLICT,   -8,  "ConflictError",             409)     \
	X(FORBIDDEN,  -9,  "ForbiddenUserError",        403)     \
	X(UNAUTH,     -10, "UnauthorizedUserError",     401)     \
	X(CONFIG,     -11, "InvalidConfigError",        500)

enum gerr_code {
#define X(name, value, code, http) GERR_##name = value,
	GERR_MAP(X)
#undef X
};

#define GERR_MSG_MAX 512

struct gerr {
	int code;                  /* GERR_* */
	unsigned line, col;        /* 1-based position in the input; 0 when none */
	char msg[GERR_MSG_MAX];    /* human message naming the field and the rule */
};

/* Fill e (if not NULL) and return code, so callers can `return gerr_set(...)`. */
int gerr_set(struct gerr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int gerr_vset(struct gerr *e, int code, const char *fmt, va_list ap);
int gerr_set_at(struct gerr *e, int code, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

const char *gerr_name(int code);       /* "PROTOCOL" */
const char *gerr_pai_code(int code);   /* "InvalidProtocolError" */
int gerr_http_status(int code);        /* 400 */

#endif
