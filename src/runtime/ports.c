/* SPDX-License-Identifier: MIT */
/*
 * ports.c — host ports for live task attempts.
 *
 * DESIGN
 * ------
 * Tasks use the host's network, as OpenPAI's pods do, so two live tasks on
 * one node must never share a port. OpenPAI computes each port from a hash
 * of the pod's uid and only detects a collision afterwards (the init
 * container exits 253 ContainerPortConflict and the job is retried). Here the
 * hash is only the first choice: the allocator owns the range, so a port in
 * use moves to the next free one and a collision cannot happen.
 *
 * One bit per port of [start, end) says "in use"; the bits past `end` in the
 * last word are set once and never cleared, so a scan never hands them out.
 * Finding the next free port looks at 64 ports per step (a range of 25,000
 * ports is 391 words). A hash map from uid to its holder gives release in
 * O(ports of that uid); holders are also chained in a list so the
 * allocator can free them all.
 *
 * Invariants: (1) a bit is set iff exactly one holder lists that port;
 * (2) `nused` counts the set bits inside the range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/hmap.h"
#include "runtime/runtime.h"

struct holder {
	struct holder *prev, *next;
	char *uid;                    /* the hmap key */
	int *ports;
	size_t n, cap;
};

struct rt_ports {
	int start, end;
	size_t size;                  /* end - start */
	size_t nwords;
	uint64_t *used;
	size_t nused;
	struct hmap by_uid;           /* uid -> struct holder */
	struct holder *all;
};

struct rt_ports *rt_ports_new(int start, int end)
{
	if (start < 1 || end > 65536 || end <= start)
		return NULL;
	struct rt_ports *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->start = start;
	p->end = end;
	p->size = (size_t)(end - start);
	p->nwords = (p->size + 63) / 64;
	p->used = calloc(p->nwords, sizeof(*p->used));
	if (!p->used) {
		free(p);
		return NULL;
	}
	if (p->size % 64)
		p->used[p->nwords - 1] = ~UINT64_C(0) << (p->size % 64);
	hmap_init(&p->by_uid);
	return p;
}

static void holder_free(struct holder *h)
{
	if (h) {
		free(h->uid);
		free(h->ports);
		free(h);
	}
}

void rt_ports_free(struct rt_ports *p)
{
	if (!p)
		return;
	for (struct holder *h = p->all, *next; h; h = next) {
		next = h->next;
		holder_free(h);
	}
	hmap_fini(&p->by_uid);
	free(p->used);
	free(p);
}

int rt_port_hash(const char *uid, const char *label, int k, int start, int end)
{
	if (!uid || !label || end <= start)
		return -1;
	/* "[<podUID>][<label>][<k>]", as framework_parser.py and rest-server build it */
	size_t ul = strlen(uid), ll = strlen(label);
	char kbuf[16];
	int kl = snprintf(kbuf, sizeof(kbuf), "%d", k);
	size_t n = ul + ll + (size_t)kl + 6;
	char small[256];
	char *raw = n <= sizeof(small) ? small : malloc(n);
	if (!raw)
		return -1;
	char *w = raw;
	*w++ = '[';
	memcpy(w, uid, ul), w += ul;
	*w++ = ']', *w++ = '[';
	memcpy(w, label, ll), w += ll;
	*w++ = ']', *w++ = '[';
	memcpy(w, kbuf, (size_t)kl), w += kl;
	*w++ = ']';

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok = EVP_Digest(raw, n, md, &mdlen, EVP_md5(), NULL);
	if (raw != small)
		free(raw);
	if (!ok || mdlen != 16)
		return -1;
	/* int(hex[0:12],16) + int(hex[12:24],16) + int(hex[24:32],16): bytes 0-5, 6-11, 12-15 */
	uint64_t a = 0, b = 0, c = 0;
	for (int i = 0; i < 6; i++)
		a = a << 8 | md[i];
	for (int i = 6; i < 12; i++)
		b = b << 8 | md[i];
	for (int i = 12; i < 16; i++)
		c = c << 8 | md[i];
	return (int)((a + b + c) % (uint64_t)(end - start)) + start;
}

static bool bit_get(const struct rt_ports *p, size_t i)
{
	return p->used[i / 64] >> (i % 64) & 1;
}

static void bit_set(struct rt_ports *p, size_t i)
{
	p->used[i / 64] |= UINT64_C(1) << (i % 64);
	p->nused++;
}

static void bit_clear(struct rt_ports *p, size_t i)
{
	p->used[i / 64] &= ~(UINT64_C(1) << (i % 64));
	p->nused--;
}

/* The first free offset at or after `from`, wrapping around; -1 when full. */
static int64_t find_free(const struct rt_ports *p, size_t from)
{
	size_t w = from / 64;
	uint64_t free_bits = ~p->used[w] & (~UINT64_C(0) << (from % 64));
	for (size_t i = 0; i <= p->nwords; i++) {
		if (free_bits)
			return (int64_t)(w * 64 + (size_t)__builtin_ctzll(free_bits));
		w = w + 1 == p->nwords ? 0 : w + 1;
		free_bits = ~p->used[w];
	}
	return -1;
}

static struct holder *holder_new(struct rt_ports *p, const char *uid, size_t cap)
{
	struct holder *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->uid = strdup(uid);
	h->ports = malloc((cap ? cap : 1) * sizeof(int));
	h->cap = cap ? cap : 1;
	if (!h->uid || !h->ports || hmap_put(&p->by_uid, h->uid, h)) {
		holder_free(h);
		return NULL;
	}
	h->next = p->all;
	if (p->all)
		p->all->prev = h;
	p->all = h;
	return h;
}

static void holder_drop(struct rt_ports *p, struct holder *h)
{
	for (size_t i = 0; i < h->n; i++)
		bit_clear(p, (size_t)(h->ports[i] - p->start));
	hmap_del(&p->by_uid, h->uid);
	if (h->prev)
		h->prev->next = h->next;
	else
		p->all = h->next;
	if (h->next)
		h->next->prev = h->prev;
	holder_free(h);
}

int rt_ports_take(struct rt_ports *p, const char *uid, const struct spec_role *role, struct arena *a,
                  struct rt_port_list **out, size_t *nout, struct gerr *err)
{
	*out = NULL;
	*nout = 0;
	if (!uid || !*uid)
		return gerr_set(err, GERR_INVALID, "ports: a task attempt needs a uid");
	if (hmap_get(&p->by_uid, uid))
		return gerr_set(err, GERR_CONFLICT, "ports: task attempt %s already holds ports; release them first",
		                uid);
	size_t total = 0;
	for (size_t i = 0; i < role->nports; i++) {
		int64_t c = role->ports[i].count;
		if (c < 0 || (uint64_t)c > p->size)
			return gerr_set(err, GERR_CONFLICT, "ports: %s asks for %lld %s ports; the range %d-%d has %zu",
			                role->name, (long long)c, role->ports[i].label, p->start, p->end - 1, p->size);
		total += (size_t)c;
	}
	if (total > p->size - p->nused)
		return gerr_set(err, GERR_CONFLICT, "ports: no room for %zu more ports in %d-%d (%zu of %zu in use)",
		                total, p->start, p->end - 1, p->nused, p->size);

	struct rt_port_list *lists = arena_zalloc(a, (role->nports ? role->nports : 1) * sizeof(*lists));
	if (!lists)
		return gerr_set(err, GERR_NOMEM, "ports: out of memory");
	struct holder *h = holder_new(p, uid, total);
	if (!h)
		return gerr_set(err, GERR_NOMEM, "ports: out of memory");
	for (size_t i = 0; i < role->nports; i++) {
		const struct spec_port *sp = &role->ports[i];
		struct rt_port_list *l = &lists[i];
		l->label = sp->label;
		l->ports = arena_alloc(a, (sp->count ? (size_t)sp->count : 1) * sizeof(int));
		if (!l->ports) {
			holder_drop(p, h);
			return gerr_set(err, GERR_NOMEM, "ports: out of memory");
		}
		for (int k = 0; k < (int)sp->count; k++) {
			int first = rt_port_hash(uid, sp->label, k, p->start, p->end);
			int64_t off = find_free(p, first < 0 ? 0 : (size_t)(first - p->start));
			if (off < 0) {          /* cannot happen after the room check; keep it honest */
				holder_drop(p, h);
				return gerr_set(err, GERR_CONFLICT, "ports: the range %d-%d is full", p->start,
				                p->end - 1);
			}
			bit_set(p, (size_t)off);
			h->ports[h->n++] = p->start + (int)off;
			l->ports[l->n++] = p->start + (int)off;
		}
	}
	*out = lists;
	*nout = role->nports;
	return 0;
}

static bool holds(const struct holder *h, int port)
{
	for (size_t i = 0; h && i < h->n; i++)
		if (h->ports[i] == port)
			return true;
	return false;
}

int rt_ports_hold(struct rt_ports *p, const char *uid, const int *ports, size_t n)
{
	if (!uid || !*uid)
		return GERR_INVALID;
	struct holder *h = hmap_get(&p->by_uid, uid);
	/* check everything first, so a refused call changes nothing */
	for (size_t i = 0; i < n; i++) {
		if (ports[i] < p->start || ports[i] >= p->end)
			return GERR_INVALID;
		if (bit_get(p, (size_t)(ports[i] - p->start)) && !holds(h, ports[i]))
			return GERR_CONFLICT;
	}
	bool fresh = !h;
	if (!h && !(h = holder_new(p, uid, n)))
		return GERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t off = (size_t)(ports[i] - p->start);
		if (bit_get(p, off))
			continue;           /* already this uid's, or a repeat in ports[] */
		if (h->n == h->cap) {
			int *grown = realloc(h->ports, h->cap * 2 * sizeof(int));
			if (!grown) {
				if (fresh)
					holder_drop(p, h);
				return GERR_NOMEM;
			}
			h->ports = grown;
			h->cap *= 2;
		}
		bit_set(p, off);
		h->ports[h->n++] = ports[i];
	}
	return 0;
}

void rt_ports_release(struct rt_ports *p, const char *uid)
{
	struct holder *h = uid ? hmap_get(&p->by_uid, uid) : NULL;
	if (h)
		holder_drop(p, h);
}
