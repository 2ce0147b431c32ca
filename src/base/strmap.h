/* SPDX-License-Identifier: MIT */
/*
 * strmap — a string-keyed hash map of pointers, allocated from an arena.
 *
 * Open addressing, FNV-1a, grows at 3/4 load. Keys are borrowed: they must
 * live as long as the map (arena strings usually do). There is no delete;
 * the arena frees everything at once.
 */
#ifndef GANTRY_BASE_STRMAP_H
#define GANTRY_BASE_STRMAP_H

#include <stddef.h>

#include "base/arena.h"

struct strmap_slot {
	const char *key;
	size_t klen;
	void *val;
};

struct strmap {
	struct strmap_slot *slots;  /* private */
	size_t cap;                 /* private: power of two, 0 before first put */
	size_t len;                 /* read-only: number of keys */
	struct arena *arena;        /* private */
};

void strmap_init(struct strmap *m, struct arena *a);
/* Slot for key, or NULL. */
struct strmap_slot *strmap_find(const struct strmap *m, const char *key, size_t klen);
/* Insert or replace. Returns 0, or -1 when out of memory. */
int strmap_put(struct strmap *m, const char *key, size_t klen, void *val);

#endif
