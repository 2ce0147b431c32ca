/* SPDX-License-Identifier: MIT */
/*
 * arena — bump allocator for data that dies together.
 *
 * A parsed job, a request, a scheduling decision: each allocates many small
 * objects with one lifetime. The arena hands out memory from large chunks and
 * frees them all at once. arena_reset() keeps the largest chunk so a reused arena
 * (a benchmark loop, a connection) stops calling malloc once it is warm.
 *
 * Not thread-safe: one arena belongs to one thread at a time.
 * Allocation failure returns NULL; nothing here aborts.
 */
#ifndef GANTRY_BASE_ARENA_H
#define GANTRY_BASE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;  /* private: current chunk, list of older ones behind */
	size_t chunk_size;         /* private: size of the next chunk to allocate */
	size_t used;               /* read-only: bytes handed out since init/reset */
};

void arena_init(struct arena *a, size_t first_chunk);
void arena_fini(struct arena *a);
/* Free every chunk but the newest (largest); everything allocated before is invalid. */
void arena_reset(struct arena *a);

/* Returns memory aligned for any type, or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);
/* Copy of s[0..len) with a terminating NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_strdup(struct arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
