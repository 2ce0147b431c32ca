/* SPDX-License-Identifier: MIT */
#include "base/gerr.h"

#include <stdio.h>

int gerr_vset(struct gerr *e, int code, const char *fmt, va_list ap)
{
	if (e) {
		e->code = code;
		e->line = e->col = 0;
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	return code;
}

int gerr_set(struct gerr *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gerr_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int gerr_set_at(struct gerr *e, int code, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gerr_vset(e, code, fmt, ap);
	va_end(ap);
	if (e) {
		e->line = line;
		e->col = col;
	}
	return code;
}

const char *gerr_name(int code)
{
	switch (code) {
#define X(name, value, pai, http) case value: return #name;
	GERR_MAP(X)
#undef X
	}
	return "UNKNOWN";
}

const char *gerr_pai_code(int code)
{
	switch (code) {
#define X(name, value, pai, http) case value: return pai;
	GERR_MAP(X)
#undef X
	}
	return "UnknownError";
}

int gerr_http_status(int code)
{
	switch (code) {
#define X(name, value, pai, http) case value: return http;
	GERR_MAP(X)
#undef X
	}
	return 500;
}
