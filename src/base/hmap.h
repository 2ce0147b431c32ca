/* SPDX-License-Identifier: MIT */
/*
 * hmap — a string-keyed hash map of pointers for long-lived tables (malloc;
 * deletion supported). Keys are borrowed: each must live as long as its
 * entry, usually inside the value it maps to. Open addressing with linear
 * probing and backward-shift deletion; grows at 3/4 load.
 */
#ifndef GANTRY_BASE_HMAP_H
#define GANTRY_BASE_HMAP_H

#include <stddef.h>

struct hmap_slot {
	const char *key;
	void *val;
	size_t hash;
};

struct hmap {
	struct hmap_slot *slots;   /* private */
	size_t cap;                /* private */
	size_t len;                /* read-only */
};

void hmap_init(struct hmap *m);
void hmap_fini(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key);
/* Insert or replace; 0, or -1 when out of memory. */
int hmap_put(struct hmap *m, const char *key, void *val);
/* Remove; returns the value or NULL. */
void *hmap_del(struct hmap *m, const char *key);

#endif
