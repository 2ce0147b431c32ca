/* SPDX-License-Identifier: MIT */
/*
 * buf — a growable byte string, always NUL-terminated.
 *
 * Used to build messages, paths and output. A buf owns its memory (malloc);
 * buf_fini() frees it. Appends never fail silently: on out-of-memory the buf
 * is marked failed (b->oom), later appends are no-ops, and the caller checks
 * once at the end. That keeps building code linear, like Redis's sds callers.
 */
#ifndef GANTRY_BASE_BUF_H
#define GANTRY_BASE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;   /* read-only: NUL-terminated contents ("" when empty) */
	size_t len;   /* read-only */
	size_t cap;   /* private */
	bool oom;     /* read-only: an append failed; contents are truncated */
};

#define BUF_INIT { NULL, 0, 0, false }

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
void buf_clear(struct buf *b);            /* length 0, memory kept */
void buf_truncate(struct buf *b, size_t len);

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* The contents, "" for an empty buf; valid until the next append. */
const char *buf_str(const struct buf *b);
/* Hand the memory to the caller (free() it); the buf is left empty. NULL on oom. */
char *buf_take(struct buf *b);

#endif
