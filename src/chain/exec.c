/*
 * exec.c -- executing transactions against the world state (see exec.h).
 *
 * The cache maps each key touched in the block to its current value and
 * whether it existed when the block began. Reads go cache first, then the
 * store; writes go to the cache only and reach the store in one pass at
 * hanse_exec_finish, inside the block's SQLite transaction. Execution
 * hashes nothing: each write and receipt appends the bytes the digest
 * takes to ex->dlog, in execution order, and an entry's first write keeps
 * the stored value it replaces (orig_val). hanse_exec_seal hashes them
 * all: the digest (its prefix, then the log), and the state sum, once per
 * changed key (remove the stored row's hash, add the new one): addition
 * commutes, so the cache's iteration order does not matter. So a
 * pipelined block's hashing runs off the executing thread, and the
 * digest's prefix -- the previous block's digest -- may be learnt after
 * execution (hanse_exec_prev).
 *
 * Invariants: an entry is `dirty` iff its value differs in provenance from
 * the store's (written in this block); `present` is its current existence.
 *
 * The audit trail rides on the same entries, without an allocation per
 * write: ex->changes is one growing array of (entry, tx index, op, value
 * hash), and each entry remembers its latest change. A write by the
 * transaction that made the entry's latest change only updates it; a write
 * by a later transaction first seals that change -- hashes the value the
 * earlier transaction left, which the entry still holds -- and appends a
 * new one. hanse_exec_finish seals the last change of every dirty entry,
 * sorts the rows into (key, position) order and serializes them into
 * ex->history -- each key once, followed by its rows (store.h) -- which the
 * store writes as one row (and one index row per key). So each row is
 * hashed once, however often its transaction rewrote the key, and the
 * commit path inserts one blob instead of a B-tree row per change. Invariant: e->last_change != 0 iff e is dirty, and
 * changes[e->last_change - 1].e == e until the sort.
 */
#include "chain/exec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"

typedef struct exec_entry {
  uint8_t *val;
  size_t vlen;
  int present;
  int was_present;     /* existed in the store when first read */
  int dirty;
  uint8_t *orig_val;    /* the stored value, kept at the first write when
                          * was_present: the seal hashes it (NULL: not
                          * written, or the entry was not there) */
  size_t orig_vlen;
  size_t last_change;  /* 1 + index in ex->changes of its latest; 0: none */
  size_t klen;
  uint8_t key[];       /* a copy of the key, for the history rows */
} exec_entry;

/* One history row in the making. Sealed when the transaction's last write
 * to the key is known -- at the next transaction's write to it, or at
 * hanse_exec_seal --: op, and the value the transaction left (taken over
 * from the entry, which is about to change, or the entry's own final
 * value). Its SHA-256 is computed when the rows are serialized, in
 * hanse_exec_store: off the executing thread when blocks are pipelined. */
typedef struct exec_change {
  exec_entry *e;
  uint32_t idx;        /* transaction index, or HANSE_HISTORY_GENESIS_INDEX */
  uint8_t op;          /* 0 until sealed */
  int owned;           /* val is this change's own copy (else the entry's) */
  const uint8_t *val;  /* with op PUT: the value left */
  size_t vlen;
} exec_change;

#define EXEC_CHANGES_INITIAL 1024

static const char digest_tag[] = "hanse.state.v1";

void hanse_state_row_hash(const void *key, size_t klen, const void *val,
                          size_t vlen, hanse_hash *out) {
  crypto_generichash_state s;
  uint8_t l[4];
  hanse_put_u32be(l, (uint32_t)klen);
  crypto_generichash_init(&s, NULL, 0, HANSE_HASH_BYTES);
  crypto_generichash_update(&s, l, 4);
  crypto_generichash_update(&s, key, klen);
  crypto_generichash_update(&s, val, vlen);
  crypto_generichash_final(&s, out->b, HANSE_HASH_BYTES);
}

/* 256-bit little-endian add/sub modulo 2^256. */
void hanse_sum_add(hanse_hash *acc, const hanse_hash *h) {
  unsigned carry = 0;
  for (int i = 0; i < HANSE_HASH_BYTES; i++) {
    unsigned t = (unsigned)acc->b[i] + h->b[i] + carry;
    acc->b[i] = (uint8_t)t;
    carry = t >> 8;
  }
}

void hanse_sum_sub(hanse_hash *acc, const hanse_hash *h) {
  int borrow = 0;
  for (int i = 0; i < HANSE_HASH_BYTES; i++) {
    int t = (int)acc->b[i] - h->b[i] - borrow;
    borrow = t < 0;
    acc->b[i] = (uint8_t)(t + (borrow ? 256 : 0));
  }
}

int hanse_exec_begin(hanse_exec *ex, hanse_store *store, uint64_t height,
                     uint64_t time_ms, const hanse_hash *prev_digest,
                     const hanse_hash *prev_sum) {
  memset(ex, 0, sizeof *ex);
  ex->store = store;
  ex->height = height;
  ex->time_ms = time_ms;
  hanse_buf_init(&ex->scratch);
  hanse_buf_init(&ex->history);
  hanse_buf_init(&ex->index);
  hanse_buf_init(&ex->dlog);
  if (prev_digest) hanse_exec_prev(ex, prev_digest, prev_sum);
  return hanse_hmap_init(&ex->cache, 1024);
}

void hanse_exec_prev(hanse_exec *ex, const hanse_hash *prev_digest, const hanse_hash *prev_sum) {
  HANSE_ASSERT(!ex->sealed);
  ex->prev_digest = *prev_digest;
  ex->state_sum = *prev_sum;
  ex->prev_known = 1;
}

static void carry_drop(hanse_exec *ex);

void hanse_exec_free(hanse_exec *ex) {
  carry_drop(ex);
  size_t pos = 0;
  void *v;
  while (hanse_hmap_next(&ex->cache, &pos, NULL, NULL, &v)) {
    exec_entry *e = v;
    free(e->val);
    free(e->orig_val);
    free(e);
  }
  hanse_hmap_free(&ex->cache);
  hanse_buf_free(&ex->scratch);
  hanse_buf_free(&ex->dlog);
  hanse_buf_free(&ex->history);
  hanse_buf_free(&ex->index);
  for (size_t i = 0; i < ex->change_count; i++)
    if (ex->changes[i].owned) free((void *)ex->changes[i].val);
  free(ex->changes);
  ex->changes = NULL;
  ex->change_count = ex->change_cap = 0;
}

/* A blocked Bloom filter: a key sets BLOOM_K bits of one 512-bit block
 * (one cache line), so asking costs one memory access per filter. */
#define BLOOM_K 7
typedef struct bloom {
  uint64_t *blocks; /* 8 words a block */
  size_t mask;      /* blocks - 1, blocks a power of two */
  size_t cap, n;    /* keys it is sized for (16 bits each), keys added */
} bloom;

struct hanse_exec_warm {
  hanse_hmap gen[2]; /* young, old: key -> exec_entry* */
  size_t cap;        /* keys of the young generation before it turns old */
  size_t bytes;      /* the young generation's keys and values */
  /* The keys the store may hold (hanse_exec_warm_filter): filters of
   * doubling size, the last one filling; none until built. */
  bloom *blooms;
  size_t nblooms;
  uint8_t sipkey[crypto_shorthash_siphashx24_KEYBYTES];
  struct {
    const void *tag;
    void *p;
    void (*free_fn)(void *);
  } mods[HANSE_EXEC_MODULE_CACHES]; /* hanse_exec_module_cache */
};

void hanse_exec_warm_forget(hanse_exec_warm *w) {
  if (w == NULL) return;
  for (int i = 0; i < HANSE_EXEC_MODULE_CACHES; i++) {
    if (w->mods[i].p) w->mods[i].free_fn(w->mods[i].p);
    memset(&w->mods[i], 0, sizeof w->mods[i]);
  }
}

void *hanse_exec_module_cache(hanse_exec *ex, const void *tag, void *(*make)(void),
                              void (*free_fn)(void *)) {
  hanse_exec_warm *w = ex->warm;
  if (w == NULL) return NULL;
  for (int i = 0; i < HANSE_EXEC_MODULE_CACHES; i++)
    if (w->mods[i].tag == tag) return w->mods[i].p;
  for (int i = 0; i < HANSE_EXEC_MODULE_CACHES; i++) {
    if (w->mods[i].tag) continue;
    void *p = make();
    if (p == NULL) return NULL;
    w->mods[i].tag = tag;
    w->mods[i].p = p;
    w->mods[i].free_fn = free_fn;
    return p;
  }
  HANSE_ASSERT(0 && "more module caches than HANSE_EXEC_MODULE_CACHES");
  return NULL;
}

typedef struct bloom_hash {
  uint64_t block, bits;
} bloom_hash;

static bloom_hash bloom_hash_of(const hanse_exec_warm *w, const void *key, size_t klen) {
  uint8_t out[crypto_shorthash_siphashx24_BYTES];
  crypto_shorthash_siphashx24(out, key, klen, w->sipkey);
  bloom_hash h;
  memcpy(&h.block, out, 8);
  memcpy(&h.bits, out + 8, 8);
  return h;
}

/* The key's bits: BLOOM_K 9-bit fields of h.bits, each a bit of the block. */
static void bloom_set(bloom *b, bloom_hash h) {
  uint64_t *blk = b->blocks + 8 * (h.block & b->mask);
  for (int i = 0; i < BLOOM_K; i++) {
    unsigned bit = (unsigned)(h.bits >> (9 * i)) & 511u;
    blk[bit >> 6] |= (uint64_t)1 << (bit & 63);
  }
  b->n++;
}

static int bloom_may(const bloom *b, bloom_hash h) {
  const uint64_t *blk = b->blocks + 8 * (h.block & b->mask);
  for (int i = 0; i < BLOOM_K; i++) {
    unsigned bit = (unsigned)(h.bits >> (9 * i)) & 511u;
    if (!(blk[bit >> 6] & ((uint64_t)1 << (bit & 63)))) return 0;
  }
  return 1;
}

/* Append a filter for cap keys. */
static int bloom_push(hanse_exec_warm *w, size_t cap) {
  size_t blocks = 1;
  while (blocks * 512 < cap * 16) blocks *= 2;
  bloom *nb = realloc(w->blooms, (w->nblooms + 1) * sizeof *nb);
  if (nb == NULL) return HANSE_ERR(NOMEM);
  w->blooms = nb;
  bloom *b = &nb[w->nblooms];
  b->blocks = calloc(blocks * 8, sizeof *b->blocks);
  if (b->blocks == NULL) return HANSE_ERR(NOMEM);
  b->mask = blocks - 1;
  b->cap = cap;
  b->n = 0;
  w->nblooms++;
  return HANSE_OK;
}

static void blooms_free(hanse_exec_warm *w) {
  for (size_t i = 0; i < w->nblooms; i++) free(w->blooms[i].blocks);
  free(w->blooms);
  w->blooms = NULL;
  w->nblooms = 0;
}

/* Note a key the store holds (or will, once its block commits). */
static int warm_filter_add(hanse_exec_warm *w, bloom_hash h) {
  bloom *last = &w->blooms[w->nblooms - 1];
  if (last->n >= last->cap) {
    int rc = bloom_push(w, 2 * last->cap);
    if (rc != HANSE_OK) return rc;
    last = &w->blooms[w->nblooms - 1];
  }
  bloom_set(last, h);
  return HANSE_OK;
}

/* 0 if the store surely does not hold key; 1 if it may, or no filter. */
static int warm_may_hold(const hanse_exec_warm *w, const void *key, size_t klen) {
  if (w->nblooms == 0) return 1;
  bloom_hash h = bloom_hash_of(w, key, klen);
  for (size_t i = w->nblooms; i-- > 0;)
    if (bloom_may(&w->blooms[i], h)) return 1;
  return 0;
}

typedef struct filter_scan {
  hanse_exec_warm *w;
  bloom_hash *hs;
  size_t n, cap;
  uint8_t last[HANSE_HISTORY_KLEN_MAX];
  size_t last_len;
  int nomem;
} filter_scan;

static int filter_visit(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen) {
  (void)val;
  (void)vlen;
  filter_scan *fs = ctx;
  if (fs->n == fs->cap) {
    size_t cap = fs->cap ? 2 * fs->cap : 4096;
    bloom_hash *hs = realloc(fs->hs, cap * sizeof *hs);
    if (hs == NULL) {
      fs->nomem = 1;
      return 1;
    }
    fs->hs = hs;
    fs->cap = cap;
  }
  fs->hs[fs->n++] = bloom_hash_of(fs->w, key, klen);
  if (klen > sizeof fs->last) { /* no key is this long (exec_write asserts it) */
    fs->nomem = 1;
    return 1;
  }
  memcpy(fs->last, key, klen);
  fs->last_len = klen;
  return 0;
}

#define FILTER_SCAN_PAGE 4096

int hanse_exec_warm_filter(hanse_exec_warm *w, hanse_store *store, size_t min_keys) {
  if (w->nblooms) return HANSE_OK; /* built: blocks keep it whole (absorb) */
  filter_scan fs = {w, NULL, 0, 0, {0}, 0, 0};
  int rc = HANSE_OK;
  for (;;) {
    size_t before = fs.n;
    rc = hanse_store_state_scan(store, "", 0, fs.last_len ? fs.last : NULL, fs.last_len,
                                FILTER_SCAN_PAGE, filter_visit, &fs);
    if (rc == HANSE_OK && fs.nomem) rc = HANSE_ERR(NOMEM);
    if (rc != HANSE_OK || fs.n - before < FILTER_SCAN_PAGE) break;
  }
  size_t cap = 2 * fs.n > min_keys ? 2 * fs.n : min_keys;
  if (rc == HANSE_OK) rc = bloom_push(w, cap ? cap : 1);
  for (size_t i = 0; rc == HANSE_OK && i < fs.n; i++) bloom_set(&w->blooms[0], fs.hs[i]);
  free(fs.hs);
  if (rc != HANSE_OK) blooms_free(w); /* no filter: every miss asks the store */
  return rc;
}

/* Bytes of keys and values a generation may hold before it turns old, so
 * that large records (trace events of a kilobyte) bound the memory too. */
#define WARM_GEN_BYTES ((size_t)64 << 20)

static void warm_gen_free(hanse_hmap *m) {
  size_t pos = 0;
  void *v;
  while (hanse_hmap_next(m, &pos, NULL, NULL, &v)) {
    exec_entry *e = v;
    free(e->val);
    free(e);
  }
  hanse_hmap_free(m);
}

hanse_exec_warm *hanse_exec_warm_new(size_t cap) {
  hanse_exec_warm *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->cap = cap;
  randombytes_buf(w->sipkey, sizeof w->sipkey);
  if (hanse_hmap_init(&w->gen[0], 1024) != HANSE_OK ||
      hanse_hmap_init(&w->gen[1], 1024) != HANSE_OK) {
    hanse_hmap_free(&w->gen[0]);
    free(w);
    return NULL;
  }
  return w;
}

void hanse_exec_warm_free(hanse_exec_warm *w) {
  if (w == NULL) return;
  warm_gen_free(&w->gen[0]);
  warm_gen_free(&w->gen[1]);
  blooms_free(w);
  hanse_exec_warm_forget(w);
  free(w);
}

static const exec_entry *warm_get(const hanse_exec_warm *w, const void *key, size_t klen) {
  const exec_entry *e = hanse_hmap_get(&w->gen[0], key, klen);
  return e ? e : hanse_hmap_get(&w->gen[1], key, klen);
}

void hanse_exec_use_warm(hanse_exec *ex, hanse_exec_warm *w) { ex->warm = w; }

int hanse_exec_warm_absorb(hanse_exec_warm *w, hanse_exec *ex) {
  HANSE_ASSERT(ex->sealed);
  size_t pos = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  int rc = HANSE_OK;
  while (hanse_hmap_next(&ex->cache, &pos, &k, &kl, &v)) {
    exec_entry *e = v, *old = NULL;
    free(e->orig_val); /* hashed by the seal; the warm cache keeps values only */
    e->orig_val = NULL;
    /* a key the block made: the store holds it now */
    if (rc == HANSE_OK && w->nblooms && e->dirty && e->present && !e->was_present)
      rc = warm_filter_add(w, bloom_hash_of(w, k, kl));
    if (rc == HANSE_OK) rc = hanse_hmap_put(&w->gen[0], k, kl, e, (void **)&old);
    if (rc != HANSE_OK) { /* w can no longer be trusted whole: the caller drops it */
      free(e->val);
      free(e);
      continue;
    }
    if (old) {
      free(old->val);
      free(old);
    }
    w->bytes += kl + e->vlen;
  }
  hanse_hmap_clear(&ex->cache); /* the entries are w's now */
  if (rc == HANSE_OK && (w->gen[0].count > w->cap || w->bytes > WARM_GEN_BYTES)) {
    warm_gen_free(&w->gen[1]);
    w->gen[1] = w->gen[0];
    w->bytes = 0;
    rc = hanse_hmap_init(&w->gen[0], 1024);
  }
  return rc;
}

/* Find or load the cache entry of a key. */
static int entry_load(hanse_exec *ex, const void *key, size_t klen, exec_entry **out) {
  exec_entry *e = hanse_hmap_get(&ex->cache, key, klen);
  if (e) {
    *out = e;
    return HANSE_OK;
  }
  int found = 0;
  const uint8_t *sv = NULL;
  size_t sl = 0;
  /* The block below, executed but perhaps not yet stored, holds the
   * state as it stands before this block for every key it read or wrote;
   * the store holds it for every other key (exec.h, hanse_exec_above). */
  const exec_entry *be = ex->below ? hanse_hmap_get(&ex->below->cache, key, klen) : NULL;
  if (be == NULL && ex->warm) be = warm_get(ex->warm, key, klen);
  if (be) {
    found = be->present;
    sv = be->val;
    sl = be->vlen;
  } else if (ex->warm && !warm_may_hold(ex->warm, key, klen)) {
    found = 0; /* a new key, as a transfer's id: no B-tree descent */
  } else {
    int rc = hanse_store_state_get(ex->store, key, klen, &ex->scratch, &found);
    if (rc != HANSE_OK) {
      ex->env_error = 1;
      return rc;
    }
    sv = ex->scratch.data;
    sl = ex->scratch.len;
  }
  e = calloc(1, sizeof *e + klen);
  if (e == NULL) goto nomem;
  e->klen = klen;
  if (klen) memcpy(e->key, key, klen);
  if (found) {
    e->val = malloc(sl ? sl : 1);
    if (e->val == NULL) goto nomem;
    if (sl) memcpy(e->val, sv, sl);
    e->vlen = sl;
  }
  e->present = e->was_present = found;
  if (hanse_hmap_put(&ex->cache, key, klen, e, NULL) != HANSE_OK) goto nomem;
  *out = e;
  return HANSE_OK;
nomem:
  if (e) free(e->val);
  free(e);
  ex->env_error = 1;
  return HANSE_ERR(NOMEM);
}

/* The digest's record of a write (exec.h) onto the log the seal hashes. */
static void digest_write(hanse_exec *ex, uint8_t op, const void *key,
                         size_t klen, const void *val, size_t vlen) {
  uint8_t *r = hanse_buf_grow(&ex->dlog, 9 + klen + vlen);
  if (r == NULL) {
    ex->env_error = 1;
    return;
  }
  r[0] = op;
  hanse_put_u32be(r + 1, (uint32_t)klen);
  memcpy(r + 5, key, klen);
  hanse_put_u32be(r + 5 + klen, (uint32_t)vlen);
  if (vlen) memcpy(r + 9 + klen, val, vlen);
  ex->writes++;
}

/* An entry's first write: keep the stored value it replaces, for the
 * seal's state sum. */
static void orig_keep(exec_entry *e) {
  if (!e->dirty && e->was_present) {
    e->orig_val = e->val;
    e->orig_vlen = e->vlen;
    e->val = NULL;
  }
}

/* Fix a change's op and value from its entry's current value: `take`, the
 * entry is about to be overwritten and hands its value over; else the
 * change borrows the entry's final value. */
static void change_seal(exec_change *c, int take) {
  exec_entry *e = c->e;
  c->op = e->present ? HANSE_HISTORY_PUT : HANSE_HISTORY_DEL;
  c->val = e->present ? e->val : NULL;
  c->vlen = e->present ? e->vlen : 0;
  c->owned = take && e->present;
  if (c->owned) e->val = NULL;
}

/* Note that the current transaction is about to write e (before the write:
 * sealing reads the value an earlier transaction left). */
static int change_note(hanse_exec *ex, exec_entry *e) {
  uint32_t idx = ex->tx ? ex->tx_index : HANSE_HISTORY_GENESIS_INDEX;
  if (e->last_change) {
    exec_change *last = &ex->changes[e->last_change - 1];
    HANSE_ASSERT(last->e == e && last->op == 0);
    if (last->idx == idx) return HANSE_OK;
    change_seal(last, 1);
  }
  if (ex->change_count == ex->change_cap) {
    size_t cap = ex->change_cap ? 2 * ex->change_cap : EXEC_CHANGES_INITIAL;
    exec_change *nc = realloc(ex->changes, cap * sizeof *nc);
    if (nc == NULL) {
      ex->env_error = 1;
      return HANSE_ERR(NOMEM);
    }
    ex->changes = nc;
    ex->change_cap = cap;
  }
  exec_change *c = &ex->changes[ex->change_count++];
  c->e = e;
  c->idx = idx;
  c->op = 0;
  c->owned = 0;
  c->val = NULL;
  c->vlen = 0;
  e->last_change = ex->change_count;
  return HANSE_OK;
}

static int exec_write(hanse_exec *ex, const void *key, size_t klen,
                      const void *val, size_t vlen, int del) {
  HANSE_ASSERT(klen <= HANSE_STATE_KEY_MAX); /* keys are built in short buffers */
  exec_entry *e;
  int rc = entry_load(ex, key, klen, &e);
  if (rc != HANSE_OK) return rc;
  rc = change_note(ex, e);
  if (rc != HANSE_OK) return rc;
  orig_keep(e);
  if (del) {
    free(e->val);
    e->val = NULL;
    e->vlen = 0;
    e->present = 0;
    digest_write(ex, 2, key, klen, "", 0);
  } else {
    uint8_t *nv = malloc(vlen ? vlen : 1);
    if (nv == NULL) {
      ex->env_error = 1;
      return HANSE_ERR(NOMEM);
    }
    if (vlen) memcpy(nv, val, vlen);
    free(e->val);
    e->val = nv;
    e->vlen = vlen;
    e->present = 1;
    digest_write(ex, 1, key, klen, val, vlen);
  }
  e->dirty = 1;
  return HANSE_OK;
}

int hanse_exec_put_raw(hanse_exec *ex, const void *key, size_t klen,
                       const void *val, size_t vlen) {
  return exec_write(ex, key, klen, val, vlen, 0);
}

int hanse_exec_get(hanse_exec *ex, const char *key, const uint8_t **val,
                   size_t *vlen, int *found) {
  exec_entry *e;
  int rc = entry_load(ex, key, strlen(key), &e);
  if (rc != HANSE_OK) return rc;
  *found = e->present;
  *val = e->present ? e->val : NULL;
  *vlen = e->present ? e->vlen : 0;
  return HANSE_OK;
}

int hanse_exec_put(hanse_exec *ex, const char *key, const void *val,
                   size_t vlen) {
  return exec_write(ex, key, strlen(key), val, vlen, 0);
}

int hanse_exec_index_put(hanse_exec *ex, const char *key, const void *val, size_t vlen) {
  size_t klen = strlen(key);
  /* module keys are text: none begins with the audit trail's key row tag */
  HANSE_ASSERT(klen > 0 && (unsigned char)key[0] > HANSE_HISTORY_KEY_TAG);
  HANSE_ASSERT(klen <= HANSE_STATE_KEY_MAX && vlen <= UINT32_MAX);
  hanse_buf_u32(&ex->index, (uint32_t)klen);
  hanse_buf_put(&ex->index, key, klen);
  hanse_buf_u32(&ex->index, (uint32_t)vlen);
  hanse_buf_put(&ex->index, val, vlen);
  if (hanse_buf_status(&ex->index) != HANSE_OK) {
    ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  ex->index_count++;
  digest_write(ex, 4, key, klen, val, vlen);
  return HANSE_OK;
}

int hanse_exec_del(hanse_exec *ex, const char *key) {
  return exec_write(ex, key, strlen(key), NULL, 0, 1);
}

static void carry_drop(hanse_exec *ex) {
  if (ex->carry) ex->carry_free(ex->carry);
  ex->carry = NULL;
  ex->carry_free = NULL;
}

void hanse_exec_carry_set(hanse_exec *ex, void *p, void (*free_fn)(void *)) {
  HANSE_ASSERT(ex->tx != NULL && p != NULL && free_fn != NULL);
  carry_drop(ex);
  ex->carry = p;
  ex->carry_free = free_fn;
  ex->carry_writes = ex->writes;
}

void *hanse_exec_carry_take(hanse_exec *ex) {
  void *p = ex->carry;
  HANSE_ASSERT(p == NULL || ex->carry_writes == ex->writes); /* nothing wrote in between */
  ex->carry = NULL;
  ex->carry_free = NULL;
  return p;
}

static int entry_cmp(const void *a, const void *b) {
  const exec_entry *x = *(const exec_entry *const *)a, *y = *(const exec_entry *const *)b;
  return hanse_store_key_cmp(x->key, x->klen, y->key, y->klen);
}

/* A stored row copied out of a scan, for merging with the block below. */
typedef struct scan_row {
  uint8_t *key, *val;
  size_t klen, vlen;
} scan_row;

typedef struct scan_rows {
  scan_row *r;
  size_t n, cap;
  int nomem;
} scan_rows;

static int scan_collect(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen) {
  scan_rows *sr = ctx;
  if (sr->n == sr->cap) {
    size_t cap = sr->cap ? 2 * sr->cap : 64;
    scan_row *nr = realloc(sr->r, cap * sizeof *nr);
    if (nr == NULL) goto nomem;
    sr->r = nr;
    sr->cap = cap;
  }
  scan_row *r = &sr->r[sr->n];
  r->key = malloc(klen ? klen : 1);
  r->val = malloc(vlen ? vlen : 1);
  if (r->key == NULL || r->val == NULL) {
    free(r->key);
    free(r->val);
    goto nomem;
  }
  if (klen) memcpy(r->key, key, klen);
  if (vlen) memcpy(r->val, val, vlen);
  r->klen = klen;
  r->vlen = vlen;
  sr->n++;
  return 0;
nomem:
  sr->nomem = 1;
  return 1;
}

/* The stored scan merged with what the block below wrote under the
 * prefix: its puts replace or add rows, its deletes remove them. */
static int scan_merged(hanse_exec *ex, const char *prefix, const char *after, int limit,
                       hanse_state_visit_fn fn, void *ctx) {
  if (limit == 0) return HANSE_OK;
  size_t plen = strlen(prefix), alen = after ? strlen(after) : 0;
  const hanse_exec *bl = ex->below;
  size_t nb = 0, ndel = 0, pos = 0;
  const exec_entry **mine = malloc((bl->cache.count + 1) * sizeof *mine);
  scan_rows sr = {NULL, 0, 0, 0};
  int rc = HANSE_ERR(NOMEM);
  if (mine == NULL) goto out;
  const uint8_t *k;
  size_t kl;
  void *v;
  while (hanse_hmap_next(&bl->cache, &pos, &k, &kl, &v)) {
    const exec_entry *e = v;
    if (!e->dirty || kl < plen || memcmp(k, prefix, plen) != 0) continue;
    if (after && hanse_store_key_cmp(k, kl, (const uint8_t *)after, alen) <= 0) continue;
    mine[nb++] = e;
    ndel += !e->present;
  }
  if (nb > 1) qsort(mine, nb, sizeof *mine, entry_cmp);
  /* The below block's deletes hide at most ndel stored rows. */
  int want = limit > 0 ? limit + (int)ndel : limit;
  rc = hanse_store_state_scan(ex->store, prefix, plen, after, alen, want, scan_collect, &sr);
  if (rc == HANSE_OK && sr.nomem) rc = HANSE_ERR(NOMEM);
  if (rc != HANSE_OK) goto out;
  size_t i = 0, j = 0;
  int sent = 0;
  while ((i < sr.n || j < nb) && (limit < 0 || sent < limit)) {
    int c = i == sr.n ? 1
            : j == nb ? -1
                      : hanse_store_key_cmp(sr.r[i].key, sr.r[i].klen, mine[j]->key,
                                            mine[j]->klen);
    const uint8_t *key, *val;
    size_t klen, vlen;
    if (c < 0) {
      key = sr.r[i].key, klen = sr.r[i].klen, val = sr.r[i].val, vlen = sr.r[i].vlen;
      i++;
    } else {
      const exec_entry *e = mine[j++];
      if (c == 0) i++; /* the below block's value replaces the stored one */
      if (!e->present) continue;
      key = e->key, klen = e->klen, val = e->val, vlen = e->vlen;
    }
    sent++;
    if (fn(ctx, key, klen, val, vlen) != 0) break;
  }
out:
  for (size_t x = 0; x < sr.n; x++) {
    free(sr.r[x].key);
    free(sr.r[x].val);
  }
  free(sr.r);
  free(mine);
  return rc;
}

int hanse_exec_scan_stored(hanse_exec *ex, const char *prefix, const char *after,
                           int limit, hanse_state_visit_fn fn, void *ctx) {
  int rc = ex->below ? scan_merged(ex, prefix, after, limit, fn, ctx)
                     : hanse_store_state_scan(ex->store, prefix, strlen(prefix), after,
                                              after ? strlen(after) : 0, limit, fn, ctx);
  if (rc != HANSE_OK) ex->env_error = 1;
  return rc;
}

static void digest_receipt(hanse_exec *ex, const hanse_tx *tx,
                           const char *code) {
  uint8_t cl = (uint8_t)strlen(code);
  uint8_t *r = hanse_buf_grow(&ex->dlog, 2 + HANSE_HASH_BYTES + (size_t)cl);
  if (r == NULL) {
    ex->env_error = 1;
    return;
  }
  r[0] = 3;
  memcpy(r + 1, tx->id.b, HANSE_HASH_BYTES);
  r[1 + HANSE_HASH_BYTES] = cl;
  memcpy(r + 2 + HANSE_HASH_BYTES, code, cl);
}

static void receipt_from_reject(hanse_receipt *r, const hanse_reject *rej) {
  snprintf(r->code, sizeof r->code, "%s", rej->code);
  snprintf(r->message, sizeof r->message, "%s", rej->message);
}

static int exec_tx(hanse_exec *ex, const hanse_tx *tx, const char *chain_id,
                   json_t *admitted, hanse_receipt *receipt);

/* The chain's policy: may this signer submit this kind? The rule is the
 * first of policy.submit[kind], [module.*], [*]; no rule means no role may.
 * The signer must be a known, active key (revoked, suspended and expired
 * keys are refused with member.key_<status>) holding one of the rule's
 * roles ("*": any active member). Returns HANSE_OK, a rejection, or an
 * environmental error (ex->env_error set). */
static int exec_authorize(hanse_exec *ex, const hanse_tx *tx, hanse_reject *rej) {
  json_t *submit = json_object_get(ex->policy, "submit");
  if (submit == NULL) return HANSE_OK;
  json_t *allowed = json_object_get(submit, tx->kind);
  if (allowed == NULL) {
    char module[HANSE_KIND_MAX + 1], action[HANSE_KIND_MAX + 1], pat[HANSE_KIND_MAX + 3];
    hanse_kind_split(tx->kind, module, action);
    snprintf(pat, sizeof pat, "%s.*", module);
    allowed = json_object_get(submit, pat);
  }
  if (allowed == NULL) allowed = json_object_get(submit, "*");
  if (allowed == NULL)
    return hanse_reject_code(rej, "policy.denied", 403, "this chain's policy lets no role submit %s",
                             tx->kind);
  const hanse_identity *id = hanse_registry_identity();
  if (id == NULL)
    return hanse_reject_code(rej, "policy.denied", 403, "no identity provider to check the signer");
  const char *status = "unknown";
  json_t *roles = NULL;
  int rc = id->key_info(ex, &tx->signer, &status, &roles);
  if (rc != HANSE_OK) {
    ex->env_error = 1;
    return rc;
  }
  if (strcmp(status, "unknown") == 0) {
    json_decref(roles);
    return hanse_reject_code(rej, "policy.unknown_signer", 403,
                             "the signer is not a member of this chain");
  }
  if (strcmp(status, "active") != 0) {
    char code[HANSE_REJECT_CODE_MAX];
    snprintf(code, sizeof code, "member.key_%s", status);
    json_decref(roles);
    return hanse_reject_code(rej, code, 403, "the signing key is %s", status);
  }
  size_t i, j;
  json_t *a, *h;
  json_array_foreach(allowed, i, a) {
    const char *want = json_string_value(a);
    if (want == NULL) continue;
    if (strcmp(want, "*") == 0) {
      json_decref(roles);
      return HANSE_OK;
    }
    json_array_foreach(roles, j, h) {
      if (json_is_string(h) && strcmp(json_string_value(h), want) == 0) {
        json_decref(roles);
        return HANSE_OK;
      }
    }
  }
  json_decref(roles);
  return hanse_reject_code(rej, "policy.denied", 403,
                           "the signer holds none of the roles this chain's policy requires for %s",
                           tx->kind);
}

int hanse_exec_tx(hanse_exec *ex, const hanse_tx *tx, const char *chain_id,
                  hanse_receipt *receipt) {
  return exec_tx(ex, tx, chain_id, NULL, receipt);
}

int hanse_exec_tx_admitted(hanse_exec *ex, const hanse_tx *tx,
                           const char *chain_id, json_t *payload,
                           hanse_receipt *receipt) {
  HANSE_ASSERT(payload != NULL);
  return exec_tx(ex, tx, chain_id, payload, receipt);
}

static int exec_tx(hanse_exec *ex, const hanse_tx *tx, const char *chain_id,
                   json_t *admitted, hanse_receipt *receipt) {
  HANSE_ASSERT(ex->env_error == 0);
  HANSE_ASSERT(ex->tx_next < HANSE_HISTORY_GENESIS_INDEX);
  ex->tx = tx;
  ex->tx_index = ex->tx_next++;
  receipt->id = tx->id;
  receipt->height = ex->height;
  hanse_reject rej;
  hanse_reject_clear(&rej);

  /* 1. Sequence: exactly the signer's next. */
  char seq_key[sizeof HANSE_SEQ_PREFIX + 2 * HANSE_PUBKEY_BYTES];
  memcpy(seq_key, HANSE_SEQ_PREFIX, sizeof HANSE_SEQ_PREFIX - 1);
  hanse_hex_encode(seq_key + sizeof HANSE_SEQ_PREFIX - 1, tx->signer.b,
                   HANSE_PUBKEY_BYTES);
  const uint8_t *v;
  size_t vlen;
  int found;
  int rc = hanse_exec_get(ex, seq_key, &v, &vlen, &found);
  if (rc != HANSE_OK) return rc;
  uint64_t last = 0;
  if (found) {
    char num[24];
    HANSE_ASSERT(vlen < sizeof num);
    memcpy(num, v, vlen);
    num[vlen] = 0;
    last = strtoull(num, NULL, 10);
  }
  json_t *payload = NULL;
  if (tx->seq != last + 1) {
    hanse_reject_set(&rej, HANSE_ERR(TX_BAD_SEQUENCE),
                     "sequence %" PRIu64 " is not the signer's next (%" PRIu64 ")",
                     tx->seq, last + 1);
    goto rejected_no_seq;
  }
  char num[24];
  int nl = snprintf(num, sizeof num, "%" PRIu64, tx->seq);
  rc = hanse_exec_put(ex, seq_key, num, (size_t)nl);
  if (rc != HANSE_OK) return rc;

  /* 2. The chain's policy: who may submit this kind. */
  if (ex->policy && exec_authorize(ex, tx, &rej) != HANSE_OK) goto rejected;

  /* 3. Context-free check, unless this node admitted the transaction and
   * hands over the payload it checked (a block from elsewhere is always
   * checked again). */
  if (admitted) {
    HANSE_ASSERT(strcmp(tx->chain_id, chain_id) == 0);
    payload = json_incref(admitted);
  } else if (hanse_tx_check(tx, chain_id, &payload, &rej) != HANSE_OK) {
    goto rejected;
  }
  char module[HANSE_KIND_MAX + 1], action[HANSE_KIND_MAX + 1];
  hanse_kind_split(tx->kind, module, action);
  const hanse_module *m = hanse_registry_find(module, strlen(module));
  HANSE_ASSERT(m != NULL); /* hanse_tx_check found it */

  /* 4. Verify against state, then apply at once: nothing may write in
   * between (hanse_exec_carry_set), and what verify left is freed here. */
  HANSE_ASSERT(ex->carry == NULL);
  if (m->verify(ex, tx, action, payload, &rej) != HANSE_OK) {
    carry_drop(ex);
    if (ex->env_error) {
      json_decref(payload);
      return HANSE_ERR(IO);
    }
    goto rejected;
  }
  rc = m->apply(ex, tx, action, payload);
  carry_drop(ex);
  json_decref(payload);
  if (rc != HANSE_OK) {
    HANSE_ERROR("exec: %s apply failed at height %" PRIu64 ": %s", tx->kind,
                ex->height, hanse_err_code(rc));
    return rc == HANSE_ERR(INVALID) ? HANSE_ERR(INTERNAL) : rc;
  }
  snprintf(receipt->code, sizeof receipt->code, "ok");
  receipt->message[0] = 0;
  digest_receipt(ex, tx, receipt->code);
  return HANSE_OK;

rejected:
rejected_no_seq:
  json_decref(payload);
  if (ex->env_error) return HANSE_ERR(IO);
  receipt_from_reject(receipt, &rej);
  digest_receipt(ex, tx, receipt->code);
  return HANSE_OK;
}

/* (key, index) order, keys compared as SQLite compares blobs. */
static int change_cmp(const void *a, const void *b) {
  const exec_change *x = a, *y = b;
  int c = hanse_store_key_cmp(x->e->key, x->e->klen, y->e->key, y->e->klen);
  if (c == 0) c = x->idx < y->idx ? -1 : x->idx > y->idx;
  return c;
}

int hanse_exec_seal(hanse_exec *ex, hanse_hash *digest, hanse_hash *state_sum) {
  HANSE_ASSERT(!ex->sealed && ex->prev_known);
  if (hanse_buf_status(&ex->dlog) != HANSE_OK) return HANSE_ERR(NOMEM); /* a record lost */
  size_t pos = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  while (hanse_hmap_next(&ex->cache, &pos, &k, &kl, &v)) {
    exec_entry *e = v;
    if (!e->dirty) continue;
    HANSE_ASSERT(e->last_change != 0);
    change_seal(&ex->changes[e->last_change - 1], 0);
    hanse_hash h;
    if (e->was_present) {
      HANSE_ASSERT(e->orig_val != NULL); /* kept by the first write */
      hanse_state_row_hash(k, kl, e->orig_val, e->orig_vlen, &h);
      hanse_sum_sub(&ex->state_sum, &h);
    }
    if (e->present) {
      hanse_state_row_hash(k, kl, e->val, e->vlen, &h);
      hanse_sum_add(&ex->state_sum, &h);
    }
  }
  crypto_generichash_state d;
  uint8_t h[8];
  hanse_put_u64be(h, ex->height);
  crypto_generichash_init(&d, NULL, 0, HANSE_HASH_BYTES);
  crypto_generichash_update(&d, (const uint8_t *)digest_tag, sizeof digest_tag - 1);
  crypto_generichash_update(&d, ex->prev_digest.b, HANSE_HASH_BYTES);
  crypto_generichash_update(&d, h, 8);
  crypto_generichash_update(&d, ex->dlog.data, ex->dlog.len);
  crypto_generichash_update(&d, ex->state_sum.b, HANSE_HASH_BYTES);
  crypto_generichash_final(&d, digest->b, HANSE_HASH_BYTES);
  hanse_buf_free(&ex->dlog);
  *state_sum = ex->state_sum;
  ex->below = NULL; /* executed: nothing reads through it any more */
  ex->sealed = 1;
  return HANSE_OK;
}

/* Sort the changes into (key, position) order. They come in runs already
 * in that order -- a transaction's rows as a module writes them, the
 * ledger's sorted -- so a merge of the runs found (a natural merge sort)
 * compares far fewer times than qsort: ~50 runs in a benchmark block of
 * ~30,000 changes, 6 passes instead of 15 levels, and qsort's compares
 * each chase two entries' keys. Without memory for the second buffer,
 * qsort. */
static void changes_sort(hanse_exec *ex) {
  size_t n = ex->change_count;
  if (n < 2) return;
  exec_change *a = ex->changes, *b = malloc(n * sizeof *b);
  if (b == NULL) {
    qsort(a, n, sizeof *a, change_cmp);
    return;
  }
  for (;;) {
    size_t runs = 0;
    for (size_t lo = 0; lo < n; runs++) {
      size_t mid = lo + 1;
      while (mid < n && change_cmp(&a[mid - 1], &a[mid]) < 0) mid++;
      size_t hi = mid;
      if (hi < n) hi++;
      while (hi < n && change_cmp(&a[hi - 1], &a[hi]) < 0) hi++;
      size_t i = lo, j = mid, k = lo; /* merge [lo, mid) and [mid, hi) into b */
      while (i < mid && j < hi) b[k++] = change_cmp(&a[i], &a[j]) < 0 ? a[i++] : a[j++];
      while (i < mid) b[k++] = a[i++];
      while (j < hi) b[k++] = a[j++];
      lo = hi;
    }
    exec_change *t = a; /* the merged runs are in b now */
    a = b;
    b = t;
    if (runs == 1) break;
  }
  free(b);
  ex->changes = a;
  ex->change_cap = n;
}

/* The rows in (key, position) order, serialized in one buffer, each key
 * once with its rows after it (store.h): the store inserts it as one row
 * and an index row per key. After the sort a key's changes are
 * neighbours, and one entry is one key, so a group starts where the entry
 * changes; that sizes the buffer exactly. */
static int history_build(hanse_exec *ex) {
  if (ex->history_built) return HANSE_OK;
  changes_sort(ex);
  size_t bytes = 0;
  for (size_t i = 0; i < ex->change_count; i++) {
    const exec_change *c = &ex->changes[i];
    if (i == 0 || c->e != ex->changes[i - 1].e)
      bytes += HANSE_HISTORY_GROUP_FIXED_BYTES + c->e->klen;
    bytes += HANSE_HISTORY_ROW_FIXED_BYTES + (c->op == HANSE_HISTORY_PUT ? HANSE_HASH_BYTES : 0);
  }
  hanse_buf_reset(&ex->history);
  hanse_buf_reserve(&ex->history, bytes);
  hanse_history_writer w;
  hanse_history_writer_init(&w, &ex->history);
  for (size_t i = 0; i < ex->change_count; i++) {
    const exec_change *c = &ex->changes[i];
    HANSE_ASSERT(c->op == HANSE_HISTORY_PUT || c->op == HANSE_HISTORY_DEL); /* sealed */
    hanse_history_row r = {
        .key = c->e->key,
        .klen = c->e->klen,
        .pos = HANSE_POS(ex->height, c->idx),
        .op = c->op,
        .has_vhash = c->op == HANSE_HISTORY_PUT,
    };
    if (r.has_vhash) hanse_sha256(&r.vhash, c->vlen ? c->val : (const uint8_t *)"", c->vlen);
    hanse_history_put(&w, &r);
  }
  HANSE_ASSERT(hanse_buf_status(&ex->history) != HANSE_OK || ex->history.len == bytes);
  int rc = hanse_buf_status(&ex->history);
  if (rc != HANSE_OK) {
    ex->env_error = 1;
    return rc;
  }
  ex->history_built = 1;
  return HANSE_OK;
}

/* One derived index row, pointing into ex->index. */
typedef struct index_row {
  const uint8_t *key, *val;
  size_t klen, vlen, n; /* n: write order, the tie-break */
} index_row;

static int index_row_cmp(const void *a, const void *b) {
  const index_row *x = a, *y = b;
  int c = hanse_store_key_cmp(x->key, x->klen, y->key, y->klen);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The block's index rows in key order, each key's last write only, with
 * the audit trail's key rows (store.h). */
static int index_store(const hanse_exec *ex, hanse_store *store) {
  if (ex->index_count == 0)
    return hanse_store_index_put_block(store, ex->height, ex->history.data, ex->history.len,
                                       NULL, 0);
  index_row *rows = malloc(ex->index_count * sizeof *rows);
  hanse_index_row *out = malloc(ex->index_count * sizeof *out);
  if (rows == NULL || out == NULL) {
    free(rows);
    free(out);
    return HANSE_ERR(NOMEM);
  }
  const uint8_t *p = ex->index.data;
  for (size_t i = 0; i < ex->index_count; i++) {
    rows[i].klen = hanse_get_u32be(p);
    rows[i].key = p + 4;
    p += 4 + rows[i].klen;
    rows[i].vlen = hanse_get_u32be(p);
    rows[i].val = p + 4;
    p += 4 + rows[i].vlen;
    rows[i].n = i;
  }
  HANSE_ASSERT(p == ex->index.data + ex->index.len);
  qsort(rows, ex->index_count, sizeof *rows, index_row_cmp);
  size_t n = 0;
  for (size_t i = 0; i < ex->index_count; i++) {
    if (n > 0 && hanse_store_key_cmp(out[n - 1].key, out[n - 1].klen, rows[i].key,
                                     rows[i].klen) == 0)
      n--; /* a later write of the same key */
    out[n++] = (hanse_index_row){rows[i].key, rows[i].klen, rows[i].val, rows[i].vlen};
  }
  int rc = hanse_store_index_put_block(store, ex->height, ex->history.data, ex->history.len,
                                       out, n);
  free(rows);
  free(out);
  return rc;
}

int hanse_exec_store(hanse_exec *ex, hanse_store *store) {
  HANSE_ASSERT(ex->sealed);
  int rc = history_build(ex);
  if (rc != HANSE_OK) return rc;
  /* The changed state rows in key order (the history's): SQLite's B-tree
   * then visits its pages in order instead of at random (the state sum
   * does not depend on the order). */
  for (size_t i = 0; i < ex->change_count; i++) {
    const exec_change *c = &ex->changes[i];
    if (i > 0 && c->e == ex->changes[i - 1].e) continue;
    const exec_entry *e = c->e;
    if (e->present)
      rc = hanse_store_state_put_hint(store, e->key, e->klen, e->val, e->vlen, e->was_present);
    else if (e->was_present)
      rc = hanse_store_state_del(store, e->key, e->klen);
    if (rc != HANSE_OK) return rc;
  }
  rc = index_store(ex, store);
  if (rc != HANSE_OK) return rc;
  if (ex->history_unstored) return HANSE_OK;
  return hanse_store_history_put_block(store, ex->height, ex->history.data, ex->history.len);
}

void hanse_exec_above(hanse_exec *ex, const hanse_exec *below) {
  ex->below = below;
}

int hanse_exec_finish(hanse_exec *ex, hanse_hash *digest, hanse_hash *state_sum) {
  int rc = hanse_exec_seal(ex, digest, state_sum);
  return rc == HANSE_OK ? hanse_exec_store(ex, ex->store) : rc;
}

const uint8_t *hanse_exec_history(const hanse_exec *ex, size_t *len) {
  *len = ex->history.len;
  return ex->history.len ? ex->history.data : (const uint8_t *)"";
}

size_t hanse_exec_history_count(const hanse_exec *ex) { return ex->change_count; }

int hanse_view_get(hanse_view *v, const char *key, hanse_buf *val, int *found) {
  return hanse_store_state_get(v->store, key, strlen(key), val, found);
}

int hanse_view_get_json(hanse_view *v, const char *key, json_t **out) {
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  *out = NULL;
  int rc = hanse_view_get(v, key, &b, &found);
  if (rc == HANSE_OK && found) {
    *out = json_loadb((const char *)b.data, b.len, JSON_DECODE_ANY, NULL);
    if (*out == NULL) rc = HANSE_ERR(INTERNAL);
  }
  hanse_buf_free(&b);
  return rc;
}

int hanse_view_limit(json_t *params) {
  const char *l = json_string_value(json_object_get(params, "limit"));
  int limit = l ? atoi(l) : 100;
  if (limit < 1 || limit > 1000) limit = 100;
  return limit;
}

int hanse_view_scan(hanse_view *v, const char *prefix, const char *after,
                    int limit, hanse_state_visit_fn fn, void *ctx) {
  return hanse_store_state_scan(v->store, prefix, strlen(prefix), after,
                                after ? strlen(after) : 0, limit, fn, ctx);
}

int hanse_view_index_scan(hanse_view *v, const char *prefix, const char *after, int limit,
                          hanse_state_visit_fn fn, void *ctx) {
  return hanse_store_index_scan(v->store, prefix, strlen(prefix), after,
                                after ? strlen(after) : 0, limit, fn, ctx);
}
