/*
 * exec.h -- block execution context and read views.
 *
 * hanse_exec is what a module's verify/apply see while one block executes:
 * the block's height and time, the current transaction, and the world
 * state through a write cache over the store. Every write is fed, in
 * execution order, into the block's state digest:
 *
 *   digest = BLAKE2b-256( "hanse.state.v1" || prev_digest || u64 height ||
 *                     for each tx in block order:
 *                       for each write: u8 op (1 put, 2 del, 4 index
 *                                       row), u32 klen, key, u32 vlen, value
 *                       u8 0x03, tx id, u8 code_len, code   (the receipt)
 *                     || state_sum )
 *
 * state_sum is a sum (mod 2^256) of BLAKE2b-256(u32 klen||key||value) over
 * every row of the state; it lets a node check its whole state against the
 * tip at start-up without re-executing history. It is updated once per key
 * changed in the block, at hanse_exec_finish (not per write).
 *
 * Execution itself hashes nothing: it logs the digest's records (dlog) and
 * keeps each changed key's stored value, and hanse_exec_seal hashes them.
 * So the seal is the block's whole hashing, and a pipeline runs it off the
 * executing thread, after the block below it is sealed -- its digest is
 * this block's prefix (hanse_exec_prev).
 *
 * The digest stream uses BLAKE2b (libsodium's generichash): it hashes
 * every byte every write touches, and BLAKE2b is about three times faster
 * than SHA-256 here; identifiers seen by outsiders stay SHA-256.
 *
 * verify is read-only and runs before apply, so a rejected transaction
 * writes nothing but its signer's sequence number; apply cannot be
 * rejected, so no undo log is needed.
 *
 * The audit trail: each write also notes (key, index of the current
 * transaction); hanse_exec_finish turns the notes into one history row per
 * (key, transaction) -- the last op of that transaction on the key and the
 * SHA-256 of the value it left -- serializes the block's rows in (key,
 * index) order, each key once followed by its rows, and stores them with
 * the state as one history_blocks row, plus a key row per changed key
 * among the block's derived index rows (store.h, "audit trail"; written
 * with history_unstored too, so the audit compares them). Writes
 * outside a transaction (genesis) carry HANSE_HISTORY_GENESIS_INDEX. The
 * serialization is a function of the block's execution alone, so the
 * audit re-executes and compares it byte for byte.
 *
 * hanse_view is the read-only view the query entry points get: state reads
 * and prefix scans on a reader connection.
 */
#ifndef HANSE_EXEC_H
#define HANSE_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hmap.h"
#include "chain/module.h"
#include "storage/store.h"

struct hanse_exec {
  hanse_store *store;     /* writer (or in-memory for verify), borrowed */
  uint64_t height;
  uint64_t time_ms;       /* block time: the only clock modules see */
  const hanse_tx *tx;     /* current transaction */
  hanse_hmap cache;       /* key -> struct exec_entry* (exec.c) */
  hanse_buf dlog;         /* the digest's records since the prefix, in
                           * execution order; hashed and freed by the seal */
  hanse_hash prev_digest; /* the digest's prefix (hanse_exec_prev) */
  int prev_known;         /* prev_digest and state_sum's start are set */
  hanse_hash state_sum;
  size_t writes;
  json_t *policy;         /* the policy in force, borrowed; NULL: none (open) */
  int env_error;          /* environmental error seen: abort block */
  hanse_buf scratch;
  /* The audit trail of this block (exec.c). */
  uint32_t tx_index;      /* index of `tx` in the block */
  uint32_t tx_next;       /* index the next transaction gets */
  struct exec_change *changes; /* owned: one per (key, tx), in order */
  size_t change_count, change_cap;
  hanse_buf history;      /* owned: the rows serialized, built by finish */
  int history_unstored;   /* 1: finish keeps the rows for the caller
                             (the audit compares them) instead of storing */
  /* What the current transaction's verify left for its apply
   * (hanse_exec_carry_set); owned, freed by exec_tx. */
  void *carry;
  void (*carry_free)(void *);
  size_t carry_writes;    /* ex->writes when it was left */
  /* Pipelined execution (hanse_exec_above): the block below this one,
   * executed but perhaps not yet sealed or stored; borrowed, read-only,
   * until this block is sealed. */
  const struct hanse_exec *below;
  struct hanse_exec_warm *warm; /* borrowed: the state before `below` (or NULL) */
  /* Derived index rows written by this block (hanse_exec_index_put):
   * records u32 klen, key, u32 vlen, value, in write order. */
  hanse_buf index;
  size_t index_count;
  int sealed;             /* hanse_exec_seal done */
  int history_built;      /* `history` holds the rows (hanse_exec_store) */
};

/* Start executing block `height` on top of prev_digest and prev_sum;
 * both NULL: not known yet, given by hanse_exec_prev before the seal. */
int hanse_exec_begin(hanse_exec *ex, hanse_store *store, uint64_t height,
                     uint64_t time_ms, const hanse_hash *prev_digest,
                     const hanse_hash *prev_sum);
/* The previous block's digest and state sum, when hanse_exec_begin did not
 * have them: a pipelined block executed while the block below it was not
 * yet sealed. Before hanse_exec_seal. */
void hanse_exec_prev(hanse_exec *ex, const hanse_hash *prev_digest, const hanse_hash *prev_sum);
/* Execute one transaction (already decoded, signature already checked):
 * sequence, module check, verify, apply. Fills the receipt's code and
 * message. Returns HANSE_OK whether accepted or rejected; an error return
 * is environmental and the block must be abandoned. */
int hanse_exec_tx(hanse_exec *ex, const hanse_tx *tx, const char *chain_id,
                  hanse_receipt *receipt);
/* The same for a transaction this node admitted itself: `payload` is the
 * payload it parsed and checked (hanse_tx_check) on admission, so the
 * context-free check is not repeated. Borrowed. Replicas and the audit
 * always use hanse_exec_tx. */
int hanse_exec_tx_admitted(hanse_exec *ex, const hanse_tx *tx,
                           const char *chain_id, json_t *payload,
                           hanse_receipt *receipt);
/* Flush the cache to the store (inside the caller's store transaction) and
 * finish the digest: hanse_exec_seal, then hanse_exec_store on ex->store. */
int hanse_exec_finish(hanse_exec *ex, hanse_hash *digest, hanse_hash *state_sum);
/* The two halves of finish. seal: the state sum and the digest, from the
 * cache and the log alone (no store access); NOMEM if the log could not
 * be kept whole. store: the block's history rows (sorted, each value's
 * SHA-256) and the changed state rows, in key order, into `store`, inside
 * the caller's store transaction. Neither changes anything a block
 * executing above this one reads (the cache's entries and values), so
 * both may run on another thread meanwhile (ex stays alive until both are
 * done). */
int hanse_exec_seal(hanse_exec *ex, hanse_hash *digest, hanse_hash *state_sum);
int hanse_exec_store(hanse_exec *ex, hanse_store *store);
/* Pipelined execution: execute this block on top of `below`, a block
 * executed but perhaps still being sealed and stored by another thread.
 * ex->store is then a reader connection (never written): a key `below`
 * read or wrote is read from below's cache, any other from the store --
 * committed before or after `below`, both hold the same value for it --,
 * and hanse_exec_scan_stored merges below's writes into the stored rows.
 * Set after hanse_exec_begin, before the first transaction. */
void hanse_exec_above(hanse_exec *ex, const hanse_exec *below);

/* A warm cache for pipelined execution: the values of the keys recent
 * committed blocks read or wrote, as they stood after those blocks, kept
 * across blocks so that a block's reads of hot records (accounts,
 * balances) need not go to SQLite. Only the pipeline's owner uses it, on
 * one thread: it absorbs every block it executed once that block is
 * committed and no block executes on it any more, in height order, and
 * nothing else writes the state meanwhile -- so the cache never holds a
 * value the store does not. Two generations of at most `cap` keys (and
 * 64 MiB of keys and values) each: when the young one is full, the old
 * one is dropped. */
typedef struct hanse_exec_warm hanse_exec_warm;
hanse_exec_warm *hanse_exec_warm_new(size_t cap);
void hanse_exec_warm_free(hanse_exec_warm *w);
/* Read through `w` for keys neither this block nor the block below holds
 * (set with hanse_exec_above, before the first transaction). */
void hanse_exec_use_warm(hanse_exec *ex, hanse_exec_warm *w);
/* Move the entries of a committed, sealed block into w (ex keeps its
 * history and may be freed later; nothing may read its cache again), and
 * note the keys it made in w's filter. */
int hanse_exec_warm_absorb(hanse_exec_warm *w, hanse_exec *ex);
/* The warm cache's filter of the keys the store holds, so that reading a
 * key no one ever wrote -- a new transfer's id, checked to be free --
 * needs no B-tree descent: built once from every state key in `store`
 * (read inside the block's read transaction), sized for twice as many or
 * min_keys, whichever is more, and kept whole by absorb, which adds every
 * key a committed block made; a filter that fills gets a successor of
 * twice its size. A Bloom filter answers "surely absent" or "maybe"
 * (about 0.1% of absent keys, at 16 bits a key), so a key it calls
 * absent is absent: the store changes only through the blocks w absorbs
 * (the rule above). No-op once built; on no memory or a store error, w
 * keeps no filter and every miss asks the store. */
int hanse_exec_warm_filter(hanse_exec_warm *w, hanse_store *store, size_t min_keys);
/* A module's own cache of decoded records, kept beside the warm cache
 * and under its rules -- the pipeline's thread only, and what it holds is
 * the state as the executing block sees it -- plus one: the pipeline
 * forgets it whenever a block fails to execute or commit
 * (hanse_exec_warm_forget), since the module updates it as each
 * transaction commits, before the block is known to stand. The module
 * names its cache by a tag of its own (any unique address); make creates
 * it, free_fn frees it. NULL when the block runs without a warm cache or
 * on no memory: the module then reads the state. At most
 * HANSE_EXEC_MODULE_CACHES tags. */
#define HANSE_EXEC_MODULE_CACHES 4
void *hanse_exec_module_cache(hanse_exec *ex, const void *tag, void *(*make)(void),
                              void (*free_fn)(void *));
/* Drop every module cache (above); the warm cache itself stays, since it
 * holds committed blocks only. */
void hanse_exec_warm_forget(hanse_exec_warm *w);
/* The chain's min_keys: 128 Ki keys, a 256 KiB filter. */
#define HANSE_WARM_FILTER_MIN_KEYS ((size_t)1 << 17)
void hanse_exec_free(hanse_exec *ex);

/* The block's history rows serialized as stored (store.h, read them with
 * a hanse_history_reader), and how many rows that is. Valid after
 * hanse_exec_finish (or hanse_exec_store) until hanse_exec_free; owned by
 * ex. */
const uint8_t *hanse_exec_history(const hanse_exec *ex, size_t *len);
size_t hanse_exec_history_count(const hanse_exec *ex);

/* Genesis: put a key outside any transaction (digested like any write). */
int hanse_exec_put_raw(hanse_exec *ex, const void *key, size_t klen,
                       const void *val, size_t vlen);

/* For modules: state access during verify/apply. get returns a borrowed
 * pointer valid until the next exec call; *found tells presence. */
int hanse_exec_get(hanse_exec *ex, const char *key, const uint8_t **val,
                   size_t *vlen, int *found);
int hanse_exec_put(hanse_exec *ex, const char *key, const void *val,
                   size_t vlen);
int hanse_exec_del(hanse_exec *ex, const char *key);
/* A derived index row (store.h, "derived indexes"): for the module's
 * queries, never read back during execution, not state. Fed into the
 * digest as op 4 (same layout as a put), stored with the block by
 * hanse_exec_store, last write of a key winning. */
int hanse_exec_index_put(hanse_exec *ex, const char *key, const void *val, size_t vlen);
/* Carrying verify's work to apply. exec_tx runs a module's apply right
 * after its verify accepted the same transaction, on the same ex, with no
 * write in between (the sequence number is written before verify) -- for
 * every caller alike: the sequencer, a replica executing a leader's
 * block, the audit re-executing history. So what verify computed from the
 * state is what apply would compute again; a module may leave it for
 * apply instead of recomputing it. set: verify hands over p (owned by ex
 * from now; free_fn(p) when nobody takes it: verify rejected after all,
 * or apply did not take it); a second set frees the first. take: apply
 * takes what this transaction's verify left (the caller owns it), or
 * NULL. exec_tx frees anything left after the transaction, so nothing
 * outlives it. take asserts that no write happened since set: that would
 * be a bug in exec_tx, not a stale value to use. */
void hanse_exec_carry_set(hanse_exec *ex, void *p, void (*free_fn)(void *));
void *hanse_exec_carry_take(hanse_exec *ex);

/* Scan keys with `prefix` (strictly after `after` when not NULL, at most
 * `limit`) as the state stood when this block began (the store, merged
 * with the block below when pipelined): writes made
 * earlier in this block are NOT seen. For once-per-block work a module
 * does before its first write of the block (the ledger's expiry sweep),
 * when the stored state is the current state for its keys. fn must not
 * call back into ex; copy what it needs and read it afterwards. An error
 * is environmental (ex->env_error is set). */
int hanse_exec_scan_stored(hanse_exec *ex, const char *prefix, const char *after,
                           int limit, hanse_state_visit_fn fn, void *ctx);

/* Read view for queries. */
struct hanse_view {
  hanse_store *store;     /* a reader connection, borrowed */
  const char *chain_id;
};
int hanse_view_get(hanse_view *v, const char *key, hanse_buf *val, int *found);
/* A JSON value (any type): *out a new reference, NULL when the key is
 * absent; a stored value that is not JSON is HANSE_ERR(INTERNAL). */
int hanse_view_get_json(hanse_view *v, const char *key, json_t **out);
int hanse_view_scan(hanse_view *v, const char *prefix, const char *after,
                    int limit, hanse_state_visit_fn fn, void *ctx);
/* The same over the derived indexes (store.h). */
int hanse_view_index_scan(hanse_view *v, const char *prefix, const char *after, int limit,
                          hanse_state_visit_fn fn, void *ctx);
/* The page size of a list query: params "limit" (a string, as URL
 * parameters are), 1..1000, default 100 (also for a bad value). */
int hanse_view_limit(json_t *params);

/* Sum helpers (exposed for start-up checks and tests). */
void hanse_state_row_hash(const void *key, size_t klen, const void *val,
                          size_t vlen, hanse_hash *out);
void hanse_sum_add(hanse_hash *acc, const hanse_hash *h);
void hanse_sum_sub(hanse_hash *acc, const hanse_hash *h);

/* Sequence numbers: the last used sequence of a signer lives at
 * "seq/<pubkey hex>" as decimal text. */
#define HANSE_SEQ_PREFIX "seq/"

#endif
