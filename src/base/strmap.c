/* SPDX-License-Identifier: MIT */
#include "base/strmap.h"

#include <stdint.h>
#include <string.h>

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

void strmap_init(struct strmap *m, struct arena *a)
{
	m->slots = NULL;
	m->cap = m->len = 0;
	m->arena = a;
}

struct strmap_slot *strmap_find(const struct strmap *m, const char *key, size_t klen)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = hash(key, klen) & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
	}
}

static int grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct strmap_slot *slots = arena_zalloc(m->arena, cap * sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t j = 0; j < m->cap; j++) {
		struct strmap_slot *s = &m->slots[j];
		if (!s->key)
			continue;
		size_t i = hash(s->key, s->klen) & (cap - 1);
		while (slots[i].key)
			i = (i + 1) & (cap - 1);
		slots[i] = *s;
	}
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int strmap_put(struct strmap *m, const char *key, size_t klen, void *val)
{
	struct strmap_slot *s = strmap_find(m, key, klen);
	if (s) {
		s->val = val;
		return 0;
	}
	if ((m->len + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -1;
	size_t mask = m->cap - 1;
	size_t i = hash(key, klen) & mask;
	while (m->slots[i].key)
		i = (i + 1) & mask;
	m->slots[i].key = key;
	m->slots[i].klen = klen;
	m->slots[i].val = val;
	m->len++;
	return 0;
}
