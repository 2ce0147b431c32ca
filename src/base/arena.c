/* SPDX-License-Identifier: MIT */
#include "base/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16
#define MAX_CHUNK (1u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;    /* usable bytes in data[] */
	size_t off;     /* next free byte */
	_Alignas(ALIGN) unsigned char data[];
};

void arena_init(struct arena *a, size_t first_chunk)
{
	a->head = NULL;
	a->chunk_size = first_chunk < 256 ? 256 : first_chunk;
	a->used = 0;
}

void arena_fini(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;
	if (!c)
		return;
	/* Keep the newest chunk: it is the largest, so a reused arena warms up. */
	struct arena_chunk *old = c->next;
	while (old) {
		struct arena_chunk *next = old->next;
		free(old);
		old = next;
	}
	c->next = NULL;
	c->off = 0;
	a->used = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct arena_chunk *c = a->head;

	if (need < size)
		return NULL;
	if (!c || c->size - c->off < need) {
		size_t csize = a->chunk_size;
		if (csize < need)
			csize = need;
		if (csize > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->off = 0;
		c->next = a->head;
		a->head = c;
		if (a->chunk_size < MAX_CHUNK)
			a->chunk_size *= 2;
	}
	void *p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);
	if (p)
		memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	char small[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	if ((size_t)n < sizeof(small)) {
		memcpy(p, small, (size_t)n + 1);
	} else {
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return p;
}
