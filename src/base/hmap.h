/*
 * hmap.h -- open-addressing hash map from byte strings to pointers.
 *
 * Used for the mempool's id set, per-signer queues and the executor's write
 * cache. Keys are copied into the map (the map owns its key copies); values
 * are borrowed pointers the caller owns. Keys are hashed with SipHash
 * (libsodium crypto_shorthash) under a per-map random key, so an attacker
 * choosing transaction ids cannot force collisions.
 *
 * Iteration order is unspecified: never use it where determinism matters.
 */
#ifndef HANSE_HMAP_H
#define HANSE_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hanse_hmap_slot {
  uint8_t *key;     /* NULL: empty; HMAP_TOMB: deleted */
  size_t key_len;
  uint64_t hash;
  void *value;
} hanse_hmap_slot;

typedef struct hanse_hmap {
  hanse_hmap_slot *slots;
  size_t cap;   /* power of two */
  size_t count; /* live entries */
  size_t used;  /* live + tombstones */
  uint8_t sipkey[16];
} hanse_hmap;

int hanse_hmap_init(hanse_hmap *m, size_t initial_cap);
void hanse_hmap_free(hanse_hmap *m);
/* Value or NULL. */
void *hanse_hmap_get(const hanse_hmap *m, const void *key, size_t key_len);
/* Insert or replace. If `old` is not NULL it receives the replaced value
 * (or NULL). HANSE_OK or HANSE_ERR(NOMEM). */
int hanse_hmap_put(hanse_hmap *m, const void *key, size_t key_len, void *value,
                   void **old);
/* Remove; returns the removed value or NULL. */
void *hanse_hmap_del(hanse_hmap *m, const void *key, size_t key_len);
/* Iterate: start with *pos = 0; returns 0 at the end. */
int hanse_hmap_next(const hanse_hmap *m, size_t *pos, const uint8_t **key,
                    size_t *key_len, void **value);
void hanse_hmap_clear(hanse_hmap *m);

#endif
