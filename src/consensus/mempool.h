/*
 * mempool.h -- transactions waiting for a block, ordered per signer.
 *
 * The unit is an entry: one signed transaction, or one batch (a run of one
 * signer's transactions with consecutive sequence numbers, signed once).
 * An entry is "ready" when its first sequence number is its signer's next;
 * ready entries wait in arrival order for the sequencer, which takes them
 * whole. Entries further ahead wait for the gap to fill (at most
 * HANSE_MEMPOOL_AHEAD_MAX ahead, HANSE_MEMPOOL_WAITING_MAX waiting in all,
 * each for at most HANSE_MEMPOOL_WAIT_TTL_MS after its arrival, judged by
 * the monotonic time the sequencer passes to take). Every transaction id in the pool is
 * indexed, so a resubmission is recognised and answered with its status.
 *
 * Entries reach the pool already checked (structure, signatures, module
 * check): the pool decides only order, duplicates and capacity.
 *
 * Thread-safety: all functions lock the pool; any thread may call them.
 * Signer sequences not yet known are read through the `seq_lookup`
 * callback (a store read of "seq/<pubkey>").
 */
#ifndef HANSE_MEMPOOL_H
#define HANSE_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "crypto/hash.h"
#include "storage/store.h"

typedef struct hanse_mempool hanse_mempool;

/* Returns the signer's last committed sequence (0 if none) or an error. */
typedef int (*hanse_seq_lookup_fn)(void *ctx, const hanse_pubkey *signer,
                                   uint64_t *last_seq);

hanse_mempool *hanse_mempool_create(size_t max_txs, hanse_seq_lookup_fn lookup,
                                    void *lookup_ctx);
/* Frees every pooled entry; call with no block in progress (after the
 * sequencer stopped). */
void hanse_mempool_destroy(hanse_mempool *mp);

/* An entry to add. The pool copies raw and ids. */
typedef struct hanse_mp_add {
  uint8_t type;               /* HANSE_ENTRY_TX or HANSE_ENTRY_BATCH */
  const uint8_t *raw;
  size_t raw_len;
  hanse_pubkey signer;
  uint64_t seq_first, seq_last;
  const hanse_hash *ids;      /* seq_last - seq_first + 1 ids */
  json_t **payloads;          /* as many parsed, checked payloads, or NULL;
                                 the pool takes its own references */
  uint64_t arrival_us;        /* monotonic, for the commit latency */
} hanse_mp_add;

typedef enum {
  HANSE_MP_ADDED = 0,   /* new in the pool */
  HANSE_MP_PENDING = 1, /* already in the pool (same id): nothing added */
  HANSE_MP_UNKNOWN = 2, /* not in the pool (status lookups) */
} hanse_mp_status;

/* Add one entry. HANSE_OK with *status ADDED or PENDING; or a rejection:
 * TX_STALE_SEQUENCE (sequence below the signer's next and not pending here:
 * the caller checks the store for a committed duplicate first),
 * TX_SEQUENCE_CONFLICT, TX_SEQUENCE_TOO_FAR, MEMPOOL_FULL. */
int hanse_mempool_add(hanse_mempool *mp, const hanse_mp_add *e,
                      hanse_mp_status *status, hanse_reject *rej);

/* 1 if the transaction id is in the pool (ready, waiting or in a block
 * being committed). */
int hanse_mempool_contains(hanse_mempool *mp, const hanse_hash *id);

/* The next sequence a new transaction of this signer should use
 * (committed + pooled contiguous). */
int hanse_mempool_next_seq(hanse_mempool *mp, const hanse_pubkey *signer,
                           uint64_t *next, uint64_t *committed);

/* Sequencer side. Take ready entries, oldest first, up to max_txs
 * transactions and HANSE_BLOCK_FILL_BYTES bytes (at least one entry if any
 * is ready). Appends the body
 * encoding (u32 count + entries) to `body` and returns a token for
 * hanse_mempool_done. *txs receives the transaction count; *oldest_us the
 * earliest arrival time among them. Returns NULL when nothing is ready. */
typedef struct hanse_mp_taken hanse_mp_taken;
hanse_mp_taken *hanse_mempool_take(hanse_mempool *mp, uint32_t max_txs,
                                   uint64_t now_us, hanse_buf *body, uint32_t *txs);
/* Arrival times of the taken transactions, in body order (for latency). */
const uint64_t *hanse_mp_taken_arrivals(const hanse_mp_taken *t, uint32_t *n);
/* Their ids, in body order. */
const hanse_hash *hanse_mp_taken_ids(const hanse_mp_taken *t, uint32_t *n);
/* Their admitted payloads (entries may be NULL), in body order; valid
 * until hanse_mempool_done. */
json_t *const *hanse_mp_taken_payloads(const hanse_mp_taken *t, uint32_t *n);
/* The block with these entries was committed (ok = 1) or abandoned
 * (ok = 0: the entries return to the head of the ready queue). */
void hanse_mempool_done(hanse_mempool *mp, hanse_mp_taken *t, int ok);

/* Drop every pooled entry and every signer's cached sequence, so the
 * next additions read sequences from the store afresh. For a node that
 * becomes a cluster leader: blocks other nodes proposed moved sequences
 * behind the pool's back, and entries pooled under an earlier leadership
 * were never acknowledged (a `pending` answer; clients resubmit). Call
 * with no block in progress (nothing taken). */
void hanse_mempool_clear(hanse_mempool *mp);
/* Counts. */
size_t hanse_mempool_depth(hanse_mempool *mp);   /* transactions pooled */
size_t hanse_mempool_ready(hanse_mempool *mp);   /* transactions ready */

/* Block until ready >= min_txs or the deadline (monotonic µs) passes or
 * hanse_mempool_wake is called. Returns the ready count. */
size_t hanse_mempool_wait_ready(hanse_mempool *mp, size_t min_txs,
                                uint64_t deadline_us);
void hanse_mempool_wake(hanse_mempool *mp);

#endif
