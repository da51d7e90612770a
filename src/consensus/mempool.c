/*
 * mempool.c -- the per-signer ordered pool (see mempool.h).
 *
 * States of an entry:
 *
 *   add --> WAITING --(gap filled)--> READY --take--> TAKEN --done(ok)--> freed
 *             \______________________/  ^                 |
 *                (seq == signer.next)    \---done(!ok)----/
 *
 * Per signer: `committed` is the last sequence known committed; `next` is
 * the sequence the next entry must start at to be READY (everything below
 * is committed, taken or ready). WAITING entries sit in a list sorted by
 * first sequence. Invariant: READY/TAKEN entries of a signer cover exactly
 * [committed + 1, next - 1] with no gaps or overlaps.
 */
#include "consensus/mempool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hmap.h"
#include "base/log.h"
#include "encoding/block.h"

#define MP_SIGNERS_SOFT_MAX 100000

enum { MP_WAITING, MP_READY, MP_TAKEN };

typedef struct mp_signer mp_signer;

typedef struct mp_entry {
  uint8_t type;
  int state;
  uint8_t *raw;
  size_t raw_len;
  mp_signer *signer;
  uint64_t seq_first, seq_last;
  hanse_hash *ids;
  json_t **payloads;  /* n references, or NULL */
  uint32_t n;
  uint64_t arrival_us;
  struct mp_entry *next;
} mp_entry;

struct mp_signer {
  hanse_pubkey key;
  uint64_t committed;
  uint64_t next;
  mp_entry *waiting;
  size_t live;
};

struct hanse_mp_taken {
  mp_entry **entries;
  uint32_t n;
  uint64_t *arrivals;
  hanse_hash *ids;
  json_t **payloads;
  uint32_t txs;
};

struct hanse_mempool {
  pthread_mutex_t mu;
  pthread_cond_t ready_cv;
  hanse_hmap ids;
  hanse_hmap signers;
  mp_entry *rq_head, *rq_tail;
  size_t ready_txs;
  size_t waiting_txs;
  uint64_t last_sweep_us;
  size_t depth;
  size_t max;
  hanse_seq_lookup_fn lookup;
  void *lookup_ctx;
  int woken;
  size_t wait_min;  /* the sequencer's wake-up threshold */
};

hanse_mempool *hanse_mempool_create(size_t max_txs, hanse_seq_lookup_fn lookup,
                                    void *lookup_ctx) {
  hanse_mempool *mp = calloc(1, sizeof *mp);
  if (mp == NULL) return NULL;
  if (hanse_hmap_init(&mp->ids, 4096) != HANSE_OK ||
      hanse_hmap_init(&mp->signers, 1024) != HANSE_OK) {
    hanse_hmap_free(&mp->ids);
    free(mp);
    return NULL;
  }
  pthread_mutex_init(&mp->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&mp->ready_cv, &ca);
  pthread_condattr_destroy(&ca);
  mp->max = max_txs;
  mp->lookup = lookup;
  mp->lookup_ctx = lookup_ctx;
  return mp;
}

static void entry_free(mp_entry *e) {
  if (e == NULL) return;
  if (e->payloads) {
    for (uint32_t i = 0; i < e->n; i++) json_decref(e->payloads[i]);
    free(e->payloads);
  }
  free(e->raw);
  free(e->ids);
  free(e);
}

/* Free every pooled entry (ready in the queue, or waiting in its
 * signer's list) and every signer; the tables still hold stale pointers
 * (the caller clears or frees them). Taken entries belong to the block in
 * progress until hanse_mempool_done: with `none_taken`, there must be
 * none (each signer's live count drops to 0). */
static void drop_all(hanse_mempool *mp, int none_taken) {
  for (mp_entry *e = mp->rq_head, *next; e; e = next) {
    next = e->next;
    e->signer->live--;
    entry_free(e);
  }
  size_t pos = 0;
  void *v;
  while (hanse_hmap_next(&mp->signers, &pos, NULL, NULL, &v)) {
    mp_signer *s = v;
    for (mp_entry *e = s->waiting, *next; e; e = next) {
      next = e->next;
      s->live--;
      entry_free(e);
    }
    if (none_taken) HANSE_ASSERT(s->live == 0);
    free(s);
  }
  mp->rq_head = mp->rq_tail = NULL;
}

void hanse_mempool_destroy(hanse_mempool *mp) {
  if (mp == NULL) return;
  /* With no block in progress every entry is either ready or waiting. */
  drop_all(mp, 0);
  hanse_hmap_free(&mp->ids);
  hanse_hmap_free(&mp->signers);
  pthread_mutex_destroy(&mp->mu);
  pthread_cond_destroy(&mp->ready_cv);
  free(mp);
}

/* Drop signers with nothing pooled when the table grows large. */
static void signers_sweep(hanse_mempool *mp) {
  if (mp->signers.count < MP_SIGNERS_SOFT_MAX) return;
  size_t pos = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  while (hanse_hmap_next(&mp->signers, &pos, &k, &kl, &v)) {
    mp_signer *s = v;
    if (s->live == 0) {
      hanse_hmap_del(&mp->signers, k, kl);
      free(s);
    }
  }
}

static int signer_get(hanse_mempool *mp, const hanse_pubkey *key, mp_signer **out) {
  mp_signer *s = hanse_hmap_get(&mp->signers, key->b, HANSE_PUBKEY_BYTES);
  if (s) {
    *out = s;
    return HANSE_OK;
  }
  uint64_t last = 0;
  int rc = mp->lookup(mp->lookup_ctx, key, &last);
  if (rc != HANSE_OK) return rc;
  signers_sweep(mp);
  s = calloc(1, sizeof *s);
  if (s == NULL) return HANSE_ERR(NOMEM);
  s->key = *key;
  s->committed = last;
  s->next = last + 1;
  if (hanse_hmap_put(&mp->signers, key->b, HANSE_PUBKEY_BYTES, s, NULL) != HANSE_OK) {
    free(s);
    return HANSE_ERR(NOMEM);
  }
  *out = s;
  return HANSE_OK;
}

static void ready_push(hanse_mempool *mp, mp_entry *e) {
  e->state = MP_READY;
  e->next = NULL;
  if (mp->rq_tail) mp->rq_tail->next = e;
  else mp->rq_head = e;
  mp->rq_tail = e;
  mp->ready_txs += e->n;
  e->signer->next = e->seq_last + 1;
}

/* After s->next moved, promote waiting entries that now fit. */
static void promote_waiting(hanse_mempool *mp, mp_signer *s) {
  while (s->waiting && s->waiting->seq_first == s->next) {
    mp_entry *w = s->waiting;
    s->waiting = w->next;
    mp->waiting_txs -= w->n;
    ready_push(mp, w);
  }
}

/* Drop waiting entries older than the TTL (their gap was never filled).
 * Runs at most once a second, from the sequencer's take. */
static void expire_waiting(hanse_mempool *mp, uint64_t now_us) {
  if (mp->waiting_txs == 0 || now_us - mp->last_sweep_us < 1000000) return;
  mp->last_sweep_us = now_us;
  uint64_t ttl_us = (uint64_t)HANSE_MEMPOOL_WAIT_TTL_MS * 1000u;
  size_t pos = 0;
  void *v;
  while (hanse_hmap_next(&mp->signers, &pos, NULL, NULL, &v)) {
    mp_signer *s = v;
    mp_entry **pp = &s->waiting;
    while (*pp) {
      mp_entry *e = *pp;
      if (now_us - e->arrival_us < ttl_us) {
        pp = &e->next;
        continue;
      }
      *pp = e->next;
      for (uint32_t j = 0; j < e->n; j++) hanse_hmap_del(&mp->ids, e->ids[j].b, HANSE_HASH_BYTES);
      mp->waiting_txs -= e->n;
      mp->depth -= e->n;
      s->live--;
      entry_free(e);
    }
  }
}

int hanse_mempool_add(hanse_mempool *mp, const hanse_mp_add *a,
                      hanse_mp_status *status, hanse_reject *rej) {
  HANSE_ASSERT(a->seq_last >= a->seq_first);
  uint64_t n64 = a->seq_last - a->seq_first + 1;
  HANSE_ASSERT(n64 <= HANSE_BATCH_TX_MAX);
  uint32_t n = (uint32_t)n64;
  *status = HANSE_MP_ADDED;
  pthread_mutex_lock(&mp->mu);
  int rc = HANSE_OK;
  /* Duplicate of something pooled: report, add nothing -- but only if it
   * is the very same entry (all its ids); a different entry that shares a
   * transaction with a pooled one conflicts with it. */
  mp_entry *dup = hanse_hmap_get(&mp->ids, a->ids[0].b, HANSE_HASH_BYTES);
  if (dup) {
    if (dup->n == n && memcmp(dup->ids, a->ids, n * sizeof *a->ids) == 0) {
      *status = HANSE_MP_PENDING;
    } else {
      rc = hanse_reject_set(rej, HANSE_ERR(TX_SEQUENCE_CONFLICT),
                            "a different pending entry holds transaction %llu of this signer",
                            (unsigned long long)a->seq_first);
    }
    goto out;
  }
  if (mp->depth + n > mp->max) {
    rc = hanse_reject_set(rej, HANSE_ERR(MEMPOOL_FULL), "mempool holds %zu transactions; retry later",
                          mp->depth);
    goto out;
  }
  mp_signer *s;
  rc = signer_get(mp, &a->signer, &s);
  if (rc != HANSE_OK) {
    rc = hanse_reject_set(rej, rc, "cannot read the signer's sequence");
    goto out;
  }
  if (a->seq_first <= s->committed) {
    rc = hanse_reject_set(rej, HANSE_ERR(TX_STALE_SEQUENCE),
                          "sequence %llu already used (last committed %llu)",
                          (unsigned long long)a->seq_first, (unsigned long long)s->committed);
    goto out;
  }
  if (a->seq_first < s->next) {
    rc = hanse_reject_set(rej, HANSE_ERR(TX_SEQUENCE_CONFLICT),
                          "sequence %llu is taken by another pending transaction",
                          (unsigned long long)a->seq_first);
    goto out;
  }
  if (a->seq_first != s->next && mp->waiting_txs + n > HANSE_MEMPOOL_WAITING_MAX) {
    rc = hanse_reject_set(rej, HANSE_ERR(MEMPOOL_FULL),
                          "%zu transactions already wait for gaps in their sequences; send "
                          "sequence %llu first",
                          mp->waiting_txs, (unsigned long long)s->next);
    goto out;
  }
  if (a->seq_first - s->next > HANSE_MEMPOOL_AHEAD_MAX) {
    rc = hanse_reject_set(rej, HANSE_ERR(TX_SEQUENCE_TOO_FAR),
                          "sequence %llu is more than %d ahead of the next (%llu)",
                          (unsigned long long)a->seq_first, HANSE_MEMPOOL_AHEAD_MAX,
                          (unsigned long long)s->next);
    goto out;
  }
  /* Overlap with a waiting entry? */
  mp_entry **pp = &s->waiting;
  while (*pp && (*pp)->seq_last < a->seq_first) pp = &(*pp)->next;
  if (*pp && (*pp)->seq_first <= a->seq_last) {
    rc = hanse_reject_set(rej, HANSE_ERR(TX_SEQUENCE_CONFLICT),
                          "sequence %llu overlaps another pending transaction",
                          (unsigned long long)a->seq_first);
    goto out;
  }
  mp_entry *e = calloc(1, sizeof *e);
  if (e) {
    e->raw = malloc(a->raw_len);
    e->ids = malloc(n * sizeof *e->ids);
  }
  if (e == NULL || e->raw == NULL || e->ids == NULL) {
    entry_free(e);
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto out;
  }
  memcpy(e->raw, a->raw, a->raw_len);
  memcpy(e->ids, a->ids, n * sizeof *e->ids);
  e->n = n;
  if (a->payloads) {
    e->payloads = malloc(n * sizeof *e->payloads);
    if (e->payloads == NULL) {
      entry_free(e);
      rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
      goto out;
    }
    for (uint32_t i = 0; i < n; i++) e->payloads[i] = json_incref(a->payloads[i]);
  }
  e->raw_len = a->raw_len;
  e->type = a->type;
  e->signer = s;
  e->seq_first = a->seq_first;
  e->seq_last = a->seq_last;
  e->arrival_us = a->arrival_us;
  uint32_t put = 0;
  for (; put < n; put++) {
    void *old = NULL;
    if (hanse_hmap_put(&mp->ids, e->ids[put].b, HANSE_HASH_BYTES, e, &old) != HANSE_OK) break;
    HANSE_ASSERT(old == NULL); /* distinct ids, distinct sequences */
  }
  if (put < n) {
    for (uint32_t i = 0; i < put; i++) hanse_hmap_del(&mp->ids, e->ids[i].b, HANSE_HASH_BYTES);
    entry_free(e);
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto out;
  }
  s->live++;
  mp->depth += n;
  if (a->seq_first == s->next) {
    ready_push(mp, e);
    promote_waiting(mp, s);
    /* Wake the sequencer only when it has reason to cut early. */
    if (mp->ready_txs >= mp->wait_min) pthread_cond_broadcast(&mp->ready_cv);
  } else {
    e->state = MP_WAITING;
    e->next = *pp;
    *pp = e;
    mp->waiting_txs += n;
  }
out:
  pthread_mutex_unlock(&mp->mu);
  return rc;
}

int hanse_mempool_contains(hanse_mempool *mp, const hanse_hash *id) {
  pthread_mutex_lock(&mp->mu);
  int in = hanse_hmap_get(&mp->ids, id->b, HANSE_HASH_BYTES) != NULL;
  pthread_mutex_unlock(&mp->mu);
  return in;
}

int hanse_mempool_next_seq(hanse_mempool *mp, const hanse_pubkey *signer,
                           uint64_t *next, uint64_t *committed) {
  pthread_mutex_lock(&mp->mu);
  mp_signer *s;
  int rc = signer_get(mp, signer, &s);
  if (rc == HANSE_OK) {
    *next = s->next;
    *committed = s->committed;
  }
  pthread_mutex_unlock(&mp->mu);
  return rc;
}

hanse_mp_taken *hanse_mempool_take(hanse_mempool *mp, uint32_t max_txs,
                                   uint64_t now_us, hanse_buf *body, uint32_t *txs) {
  *txs = 0;
  pthread_mutex_lock(&mp->mu);
  expire_waiting(mp, now_us);
  if (mp->rq_head == NULL) {
    pthread_mutex_unlock(&mp->mu);
    return NULL;
  }
  /* Count first so the arrays are sized once. */
  uint32_t count = 0, total = 0;
  size_t bytes = 4;
  for (mp_entry *e = mp->rq_head; e; e = e->next) {
    size_t eb = 5 + e->raw_len;
    if (count > 0 && (total + e->n > max_txs || bytes + eb > HANSE_BLOCK_FILL_BYTES)) break;
    count++;
    total += e->n;
    bytes += eb;
  }
  hanse_mp_taken *t = calloc(1, sizeof *t);
  if (t) {
    t->entries = malloc(count * sizeof *t->entries);
    t->arrivals = malloc(total * sizeof *t->arrivals);
    t->ids = malloc(total * sizeof *t->ids);
    t->payloads = malloc(total * sizeof *t->payloads);
  }
  if (t == NULL || t->entries == NULL || t->arrivals == NULL || t->ids == NULL ||
      t->payloads == NULL) {
    if (t) { free(t->entries); free(t->arrivals); free(t->ids); free(t->payloads); free(t); }
    pthread_mutex_unlock(&mp->mu);
    return NULL;
  }
  hanse_buf_u32(body, count);
  uint32_t k = 0;
  for (uint32_t i = 0; i < count; i++) {
    mp_entry *e = mp->rq_head;
    mp->rq_head = e->next;
    if (mp->rq_head == NULL) mp->rq_tail = NULL;
    e->next = NULL;
    e->state = MP_TAKEN;
    mp->ready_txs -= e->n;
    t->entries[i] = e;
    for (uint32_t j = 0; j < e->n; j++) {
      t->ids[k] = e->ids[j];
      t->payloads[k] = e->payloads ? e->payloads[j] : NULL;
      t->arrivals[k++] = e->arrival_us;
    }
    hanse_body_entry_append(body, e->type, e->raw, e->raw_len);
  }
  t->n = count;
  t->txs = total;
  *txs = total;
  pthread_mutex_unlock(&mp->mu);
  return t;
}

const uint64_t *hanse_mp_taken_arrivals(const hanse_mp_taken *t, uint32_t *n) {
  *n = t->txs;
  return t->arrivals;
}

const hanse_hash *hanse_mp_taken_ids(const hanse_mp_taken *t, uint32_t *n) {
  *n = t->txs;
  return t->ids;
}

json_t *const *hanse_mp_taken_payloads(const hanse_mp_taken *t, uint32_t *n) {
  *n = t->txs;
  return t->payloads;
}

void hanse_mempool_done(hanse_mempool *mp, hanse_mp_taken *t, int ok) {
  if (t == NULL) return;
  pthread_mutex_lock(&mp->mu);
  if (ok) {
    for (uint32_t i = 0; i < t->n; i++) {
      mp_entry *e = t->entries[i];
      for (uint32_t j = 0; j < e->n; j++) hanse_hmap_del(&mp->ids, e->ids[j].b, HANSE_HASH_BYTES);
      if (e->seq_last > e->signer->committed) e->signer->committed = e->seq_last;
      e->signer->live--;
      mp->depth -= e->n;
      entry_free(e);
    }
  } else {
    /* Back to the head, in their original order. */
    for (uint32_t i = t->n; i-- > 0;) {
      mp_entry *e = t->entries[i];
      e->state = MP_READY;
      e->next = mp->rq_head;
      mp->rq_head = e;
      if (mp->rq_tail == NULL) mp->rq_tail = e;
      mp->ready_txs += e->n;
    }
  }
  pthread_mutex_unlock(&mp->mu);
  free(t->entries);
  free(t->arrivals);
  free(t->ids);
  free(t->payloads);
  free(t);
}

void hanse_mempool_clear(hanse_mempool *mp) {
  pthread_mutex_lock(&mp->mu);
  size_t dropped = mp->depth;
  /* An entry still taken would point at its signer: the caller holds no
   * block in progress (mempool.h). */
  drop_all(mp, 1);
  hanse_hmap_clear(&mp->signers);
  hanse_hmap_clear(&mp->ids);
  mp->ready_txs = mp->waiting_txs = mp->depth = 0;
  pthread_mutex_unlock(&mp->mu);
  if (dropped) HANSE_INFO("mempool: %zu pending transactions dropped", dropped);
}

size_t hanse_mempool_depth(hanse_mempool *mp) {
  pthread_mutex_lock(&mp->mu);
  size_t d = mp->depth;
  pthread_mutex_unlock(&mp->mu);
  return d;
}

size_t hanse_mempool_ready(hanse_mempool *mp) {
  pthread_mutex_lock(&mp->mu);
  size_t d = mp->ready_txs;
  pthread_mutex_unlock(&mp->mu);
  return d;
}

size_t hanse_mempool_wait_ready(hanse_mempool *mp, size_t min_txs,
                                uint64_t deadline_us) {
  struct timespec ts = {(time_t)(deadline_us / 1000000),
                        (long)(deadline_us % 1000000) * 1000};
  pthread_mutex_lock(&mp->mu);
  mp->wait_min = min_txs;
  while (mp->ready_txs < min_txs && !mp->woken) {
    if (pthread_cond_timedwait(&mp->ready_cv, &mp->mu, &ts) != 0) break;
  }
  mp->woken = 0;
  mp->wait_min = 1;
  size_t r = mp->ready_txs;
  pthread_mutex_unlock(&mp->mu);
  return r;
}

void hanse_mempool_wake(hanse_mempool *mp) {
  pthread_mutex_lock(&mp->mu);
  mp->woken = 1;
  pthread_cond_broadcast(&mp->ready_cv);
  pthread_mutex_unlock(&mp->mu);
}
