/* SPDX-License-Identifier: MIT */
#include "base/hmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_of(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

void hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->cap = m->len = 0;
}

void hmap_fini(struct hmap *m)
{
	free(m->slots);
	hmap_init(m);
}

static struct hmap_slot *find(const struct hmap *m, const char *key, size_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && !strcmp(s->key, key))
			return s;
	}
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_slot *s = find(m, key, hash_of(key));
	return s ? s->val : NULL;
}

static void place(struct hmap_slot *slots, size_t cap, struct hmap_slot e)
{
	size_t i = e.hash & (cap - 1);
	while (slots[i].key)
		i = (i + 1) & (cap - 1);
	slots[i] = e;
}

int hmap_put(struct hmap *m, const char *key, void *val)
{
	size_t h = hash_of(key);
	struct hmap_slot *s = find(m, key, h);
	if (s) {
		s->key = key;
		s->val = val;
		return 0;
	}
	if ((m->len + 1) * 4 > m->cap * 3) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct hmap_slot *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].key)
				place(slots, cap, m->slots[i]);
		free(m->slots);
		m->slots = slots;
		m->cap = cap;
	}
	place(m->slots, m->cap, (struct hmap_slot){ key, val, h });
	m->len++;
	return 0;
}

void *hmap_del(struct hmap *m, const char *key)
{
	size_t h = hash_of(key);
	struct hmap_slot *s = find(m, key, h);
	if (!s)
		return NULL;
	void *val = s->val;
	size_t i = (size_t)(s - m->slots);
	/* backward shift: pull later entries of the run into the hole */
	for (size_t j = (i + 1) & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
		size_t home = m->slots[j].hash & (m->cap - 1);
		/* move j to i if its home is not in (i, j] cyclically */
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = NULL;
	m->slots[i].val = NULL;
	m->len--;
	return val;
}
