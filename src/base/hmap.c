/*
 * hmap.c -- linear-probing hash map (see hmap.h).
 *
 * Invariants: cap is a power of two; used (live + tombstones) stays below
 * 3/4 of cap, so every probe sequence meets an empty slot and terminates.
 * Growth rehashes live entries only, dropping tombstones.
 */
#include "base/hmap.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

static uint8_t hmap_tomb_byte;
#define HMAP_TOMB (&hmap_tomb_byte)

static uint64_t hmap_hash(const hanse_hmap *m, const void *key, size_t n) {
  uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, key, n, m->sipkey);
  uint64_t h;
  memcpy(&h, out, sizeof h);
  return h;
}

int hanse_hmap_init(hanse_hmap *m, size_t initial_cap) {
  memset(m, 0, sizeof *m);
  size_t cap = 16;
  while (cap < initial_cap * 2) cap *= 2;
  m->slots = calloc(cap, sizeof *m->slots);
  if (m->slots == NULL) return HANSE_ERR(NOMEM);
  m->cap = cap;
  randombytes_buf(m->sipkey, sizeof m->sipkey);
  return HANSE_OK;
}

void hanse_hmap_clear(hanse_hmap *m) {
  for (size_t i = 0; i < m->cap; i++) {
    if (m->slots[i].key && m->slots[i].key != HMAP_TOMB) free(m->slots[i].key);
    m->slots[i].key = NULL;
  }
  m->count = m->used = 0;
}

void hanse_hmap_free(hanse_hmap *m) {
  if (m->slots) hanse_hmap_clear(m);
  free(m->slots);
  memset(m, 0, sizeof *m);
}

static hanse_hmap_slot *hmap_find(const hanse_hmap *m, const void *key,
                                  size_t n, uint64_t h) {
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    hanse_hmap_slot *s = &m->slots[i];
    if (s->key == NULL) return NULL;
    if (s->key != HMAP_TOMB && s->hash == h && s->key_len == n &&
        memcmp(s->key, key, n) == 0)
      return s;
  }
}

void *hanse_hmap_get(const hanse_hmap *m, const void *key, size_t n) {
  hanse_hmap_slot *s = hmap_find(m, key, n, hmap_hash(m, key, n));
  return s ? s->value : NULL;
}

static int hmap_grow(hanse_hmap *m) {
  size_t ncap = m->count * 4 > m->cap ? m->cap * 2 : m->cap;
  hanse_hmap_slot *ns = calloc(ncap, sizeof *ns);
  if (ns == NULL) return HANSE_ERR(NOMEM);
  size_t mask = ncap - 1;
  for (size_t i = 0; i < m->cap; i++) {
    hanse_hmap_slot *s = &m->slots[i];
    if (s->key == NULL || s->key == HMAP_TOMB) continue;
    size_t j = s->hash & mask;
    while (ns[j].key != NULL) j = (j + 1) & mask;
    ns[j] = *s;
  }
  free(m->slots);
  m->slots = ns;
  m->cap = ncap;
  m->used = m->count;
  return HANSE_OK;
}

int hanse_hmap_put(hanse_hmap *m, const void *key, size_t n, void *value,
                   void **old) {
  uint64_t h = hmap_hash(m, key, n);
  hanse_hmap_slot *s = hmap_find(m, key, n, h);
  if (old) *old = NULL;
  if (s) {
    if (old) *old = s->value;
    s->value = value;
    return HANSE_OK;
  }
  if ((m->used + 1) * 4 >= m->cap * 3) {
    int rc = hmap_grow(m);
    if (rc != HANSE_OK) return rc;
  }
  uint8_t *k = malloc(n ? n : 1);
  if (k == NULL) return HANSE_ERR(NOMEM);
  if (n) memcpy(k, key, n);
  size_t mask = m->cap - 1;
  size_t i = h & mask;
  while (m->slots[i].key != NULL && m->slots[i].key != HMAP_TOMB)
    i = (i + 1) & mask;
  if (m->slots[i].key == NULL) m->used++;
  m->slots[i] = (hanse_hmap_slot){k, n, h, value};
  m->count++;
  HANSE_ASSERT(m->used < m->cap);
  return HANSE_OK;
}

void *hanse_hmap_del(hanse_hmap *m, const void *key, size_t n) {
  hanse_hmap_slot *s = hmap_find(m, key, n, hmap_hash(m, key, n));
  if (s == NULL) return NULL;
  void *v = s->value;
  free(s->key);
  s->key = HMAP_TOMB;
  s->value = NULL;
  m->count--;
  return v;
}

int hanse_hmap_next(const hanse_hmap *m, size_t *pos, const uint8_t **key,
                    size_t *key_len, void **value) {
  while (*pos < m->cap) {
    hanse_hmap_slot *s = &m->slots[(*pos)++];
    if (s->key == NULL || s->key == HMAP_TOMB) continue;
    if (key) *key = s->key;
    if (key_len) *key_len = s->key_len;
    if (value) *value = s->value;
    return 1;
  }
  return 0;
}
