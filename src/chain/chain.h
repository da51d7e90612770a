/*
 * chain.h -- one chain: its database, its tip, and the two ways a block
 * comes to exist (proposed here, or checked when re-executed by verify).
 *
 * Life cycle:
 *   hanse_chain_create   once, by `hanse init`: database + genesis block
 *   hanse_chain_open     at node start: structural check of the stored
 *                        chain (hash links, tx roots, receipts, state sum);
 *                        refuses a broken chain
 *   hanse_chain_propose  sequencer thread only: execute entries, build and
 *                        sign the header, commit durably
 *   hanse_chain_reader_* any thread: pooled read connections
 *   hanse_chain_close
 *
 * hanse_chain_audit is the offline `hanse verify`: it re-hashes, re-checks
 * every signature and re-executes from genesis into a private in-memory
 * database, comparing every state digest, receipt and finally every state
 * row; it names the first bad block and transaction.
 *
 * Data directory layout: <dir>/chain.db (+ -wal, -shm), <dir>/genesis.json.
 */
#ifndef HANSE_CHAIN_H
#define HANSE_CHAIN_H

#include <jansson.h>
#include <pthread.h>

#include "base/env.h"
#include "chain/exec.h"
#include "encoding/block.h"
#include "storage/store.h"

#define HANSE_VALIDATORS_MAX 64
/* Peer chains a genesis may declare ("peers", the xchain module): one
 * consortium's chains, not a network of them. */
#define HANSE_PEERS_MAX 64
#define HANSE_READERS_MAX 16

typedef struct hanse_tip {
  uint64_t height;
  hanse_hash hash;
  hanse_hash state_digest;
  hanse_hash state_sum;
  uint64_t time_ms;
  uint64_t tx_count; /* transactions committed in all */
} hanse_tip;

/* Why a node stopped extending a chain (hanse_chain_diverge): the first
 * block at which its copy differs from the cluster's. */
typedef struct hanse_divergence {
  int diverged;               /* 0: the chain is fine, nothing else is set */
  uint64_t height;            /* the block */
  int has_ours;               /* ours: this node's hash of that block */
  hanse_hash ours;
  int has_certified;          /* certified: the hash a majority of the
                                 validators signed (or, for a block that
                                 did not re-execute here, the proposer's) */
  hanse_hash certified;
  char reason[HANSE_REJECT_MSG_MAX];
} hanse_divergence;

typedef struct hanse_chain {
  char chain_id[HANSE_CHAIN_ID_MAX + 1];
  char db_path[1024];
  hanse_store *writer;
  const hanse_keypair *node_key; /* borrowed: signs proposed blocks */
  /* The validator set in force (state keys "validator/": genesis, then
   * member.node_propose votes), updated by the writer after a commit that
   * changed it, under `lock`: other threads read it with
   * hanse_chain_validators. */
  hanse_pubkey validators[HANSE_VALIDATORS_MAX];
  int validator_count;
  pthread_mutex_t lock;          /* guards tip and the reader pool */
  pthread_mutex_t ckpt_lock;     /* one checkpoint at a time (the background
                                  * thread's, or the pipeline's restart) */
  long long wal_bound;           /* hanse_chain_wal_bound's, bytes */
  hanse_tip tip;
  hanse_store *readers[HANSE_READERS_MAX];
  int reader_count;
  hanse_store *checkpointer;     /* own connection, hanse_chain_checkpoint */
  hanse_store *exec_reader;      /* own connection: pipelined blocks execute
                                    on it (the sequencer thread alone) */
  json_t *genesis;               /* owned: the genesis document */
  int signs_certs;               /* node_key is a validator: each block
                                    committed here gets its certificate
                                    signature (encoding/cert.h) */
  hanse_divergence divergence;   /* guarded by lock */
} hanse_chain;

/* Create <dir>/chain.db with the genesis block described by `genesis`
 * (see docs/FORMATS.md, "Genesis"); the node key becomes a validator if
 * the file names none. Refuses an existing chain. */
int hanse_chain_create(const char *dir, json_t *genesis,
                       const hanse_keypair *node_key, uint64_t time_ms,
                       hanse_reject *rej);

/* Open and check. `vfs` may be NULL. *out owned by the caller. */
int hanse_chain_open(const char *dir, const hanse_keypair *node_key,
                     const char *vfs, hanse_chain **out, hanse_reject *rej);
void hanse_chain_close(hanse_chain *c);

/* Move committed WAL frames into the database file (passive, on a
 * connection of its own). Call from one background thread; the writer's
 * own automatic checkpoint is only a fallback far behind. */
int hanse_chain_checkpoint(hanse_chain *c);
/* Keep the WAL short under the pipeline: the sequencer's reader opens a
 * read transaction for every block, back to back, so a passive
 * checkpoint copies the frames but the WAL is never free to start over,
 * and it grows (190 MB within 400,000 ledger transfers), with it the
 * cost of every commit (the writer's own fallback checkpoint, the WAL
 * index). When the WAL's frames in use pass HANSE_WAL_RESTART_BYTES,
 * restart it (hanse_store_checkpoint_restart on the writer). The frames in
 * use, not the file's size: a restarted WAL keeps its size, and a bound
 * on the size restarted it after every block once the file had passed it
 * (a copy of the last block's ~3,500 pages, ~45 ms, on the sequencer). Call from the pipeline's
 * thread when no block is being executed or stored. */
#define HANSE_WAL_RESTART_BYTES ((long long)64 << 20)
int hanse_chain_wal_bound(hanse_chain *c);
/* For tests: another bound than HANSE_WAL_RESTART_BYTES. */
void hanse_chain_set_wal_bound(hanse_chain *c, long long bytes);

/* Snapshot of the tip (thread-safe). */
void hanse_chain_tip(hanse_chain *c, hanse_tip *tip);

/* Reader connections (thread-safe). */
hanse_store *hanse_chain_reader_acquire(hanse_chain *c);
void hanse_chain_reader_release(hanse_chain *c, hanse_store *r);

/* Propose the next block: `body` is an encoded body (see block.h) whose
 * entries passed the submission checks. Executes, signs, commits with a
 * durable sync. receipts[] (tx_count entries, caller-allocated, may be
 * NULL) receive the receipts. On error nothing is committed; a store error
 * leaves the store failed (sticky). */
int hanse_chain_propose(hanse_chain *c, const uint8_t *body, size_t body_len,
                        uint64_t time_ms, hanse_receipt *receipts,
                        uint32_t receipts_cap, hanse_tip *out,
                        hanse_reject *rej);

/* The same with the flattened transaction ids already known (n_ids of
 * them, from the mempool), so the proposer does not hash them again, and
 * optionally (payloads != NULL, entries may be NULL) the payloads this node
 * parsed and checked when it admitted them, so they are not parsed again.
 * Both borrowed. */
int hanse_chain_propose_ids(hanse_chain *c, const uint8_t *body, size_t body_len,
                            const hanse_hash *ids, json_t *const *payloads,
                            uint32_t n_ids,
                            uint64_t time_ms, hanse_receipt *receipts,
                            uint32_t receipts_cap, hanse_tip *out,
                            hanse_reject *rej);

/* The same block path in steps, for a replicated chain (the Raft cluster,
 * consensus/raft_fsm.c), where a block is executed before it is
 * proposed and committed only once the cluster agreed on it. One pending
 * block at a time per chain, all steps on one thread; the pending block
 * holds the writer's open SQLite transaction.
 *
 *   hanse_chain_block_execute  begin, execute body on the tip (time_ms
 *                              raised to the tip's time if lower)
 *   hanse_chain_block_finish   flush state, finish the digest; given ==
 *                              NULL: build and sign our own header; else
 *                              `given` (another node's encoded header)
 *                              must match what this execution produced
 *                              (chain.broken if not) and is kept verbatim
 *   hanse_chain_block_header   the finished header's bytes (borrowed until
 *                              commit/abandon), hash and height
 *   hanse_chain_block_commit   write block and receipts (and this node's
 *                              certificate signature, when its key is a
 *                              validator), COMMIT, move the tip; frees p
 *   hanse_chain_block_abandon  roll back; frees p (NULL-safe)
 *
 * `body` is borrowed until commit or abandon. On any error the step rolls
 * back and frees p itself; a store error leaves the store failed (sticky,
 * reported as store.failed). */
typedef struct hanse_block_pending hanse_block_pending;
int hanse_chain_block_execute(hanse_chain *c, const uint8_t *body, size_t body_len,
                              const hanse_hash *ids, json_t *const *payloads,
                              uint32_t n_ids, uint64_t time_ms, hanse_receipt *receipts,
                              uint32_t receipts_cap, hanse_block_pending **out,
                              hanse_reject *rej);
int hanse_chain_block_finish(hanse_chain *c, hanse_block_pending *p,
                             const uint8_t *given, size_t given_len, hanse_reject *rej);
void hanse_chain_block_header(const hanse_block_pending *p, const uint8_t **bytes,
                              size_t *len, hanse_hash *hash, uint64_t *height);
int hanse_chain_block_commit(hanse_chain *c, hanse_block_pending *p, hanse_tip *out,
                             hanse_reject *rej);
void hanse_chain_block_abandon(hanse_chain *c, hanse_block_pending *p);

/* Pipelined blocks, for the single-node sequencer: one thread executes
 * block n+1 while another finishes, stores and commits block n.
 *
 *   hanse_chain_block_execute_above  execute on top of `below` (a block
 *                              this chain executed, finished or not,
 *                              stored or not; NULL: the tip) without
 *                              touching the writer: reads go to below's
 *                              cache, then to `warm` (may be NULL), then
 *                              to a reader connection (hanse_exec_above);
 *                              receipts are the block's own. Execution
 *                              hashes nothing (exec.h): the finish does
 *   hanse_chain_block_finish   as above, but it only seals (no store
 *                              write): the block's hashing, the header
 *                              signed. When below was not finished at
 *                              execute, below must be finished first and
 *                              alive until then (its digest is this
 *                              block's prefix). May run on another thread
 *                              while a block above executes
 *   hanse_chain_block_store    on the committing thread, in height order:
 *                              begin, the state and history rows, then what
 *                              hanse_chain_block_commit does; on success the
 *                              tip moves. p is NOT freed, on success or
 *                              error (a block above may still read it)
 *   hanse_chain_block_receipts the block's receipts and count
 *   hanse_chain_block_free     free a pipelined block (after its store
 *                              step ended and no block above executes on it)
 *
 * An error in execute_above frees p as usual (no transaction is open);
 * an error in finish does not (a block above may still read it: the
 * caller frees it once none does); after a failed finish or store step,
 * every block executed above it must be freed unstored. */
int hanse_chain_block_execute_above(hanse_chain *c, const hanse_block_pending *below,
                                    hanse_exec_warm *warm, const uint8_t *body, size_t body_len,
                                    const hanse_hash *ids, json_t *const *payloads,
                                    uint32_t n_ids, uint64_t time_ms,
                                    hanse_block_pending **out, hanse_reject *rej);
int hanse_chain_block_store(hanse_chain *c, hanse_block_pending *p, hanse_tip *out,
                            hanse_reject *rej);
const hanse_receipt *hanse_chain_block_receipts(const hanse_block_pending *p, uint32_t *n);
/* A committed pipelined block no block executes on any more: its cache
 * moves into `warm` (hanse_exec_warm_absorb), which later blocks read
 * through. Every committed block must be retired into the warm cache the
 * next blocks use, in height order, or that cache must be dropped. */
int hanse_chain_block_retire(hanse_block_pending *p, hanse_exec_warm *warm);
void hanse_chain_block_free(hanse_block_pending *p);

/* A block another node proposed, as one step: check it like `hanse
 * verify` does (header decodes, next height, links to our tip, time not
 * before it, proposer a genesis validator with a valid signature, body
 * structure, Merkle root, every transaction's signature), execute it with
 * the header's time, require the header's state digest, and commit it with
 * that header, so every node stores the same bytes. Returns
 * HANSE_ERR(CHAIN_BROKEN) when the block is not valid for this chain
 * (nothing written), a store error when the store failed. */
int hanse_chain_block_replicate(hanse_chain *c, const uint8_t *header, size_t header_len,
                                const uint8_t *body, size_t body_len,
                                hanse_receipt *receipts, uint32_t receipts_cap,
                                hanse_tip *out, hanse_reject *rej);

/* The last committed sequence number of `signer` (0: none yet), read on
 * a reader connection: what a mempool asks on a signer's first sight.
 * Thread-safe. */
int hanse_chain_last_seq(hanse_chain *c, const hanse_pubkey *signer, uint64_t *last);

/* Copy the validator set in force into out (HANSE_VALIDATORS_MAX
 * entries); returns how many. Thread-safe. */
int hanse_chain_validators(hanse_chain *c, hanse_pubkey *out);
/* 1 if `key` is in the set in force (*at, when not NULL, its index), and
 * the set's size. Thread-safe. */
int hanse_chain_is_validator(hanse_chain *c, const hanse_pubkey *key, int *at);
int hanse_chain_validator_count(hanse_chain *c);

/* Divergence. hanse_chain_diverge records that this node's copy of the
 * chain differs from the cluster's at d->height (the first record wins;
 * later ones are ignored) and from then on hanse_chain_block_execute
 * refuses every block (chain.diverged): nothing is applied or proposed,
 * nothing forks silently. It lasts until the process stops; the stored
 * blocks stay as they are. hanse_chain_divergence copies the record and
 * returns d->diverged. Both thread-safe. */
void hanse_chain_diverge(hanse_chain *c, const hanse_divergence *d);
int hanse_chain_divergence(hanse_chain *c, hanse_divergence *out);

/* Inclusion proof of a transaction: receipt, header of its block, Merkle
 * audit path. */
typedef struct hanse_tx_proof {
  hanse_receipt receipt;
  hanse_header header;
  hanse_hash block_hash;
  hanse_hash path[32];
  size_t path_len;
  uint8_t *raw;          /* owned: the transaction's encoding */
  size_t raw_len;
  hanse_pubkey signer;
  uint64_t seq;
  char kind[HANSE_KIND_MAX + 1];
  uint8_t *batch_raw;    /* owned, NULL unless batched: the enclosing batch */
  size_t batch_raw_len;
  hanse_hash batch_id;
  int batched;
} hanse_tx_proof;
int hanse_chain_tx_proof(hanse_store *reader, const hanse_hash *id,
                         hanse_tx_proof *p, hanse_reject *rej);
void hanse_tx_proof_free(hanse_tx_proof *p);

/* Offline audit of a data directory. On failure fills rej (code
 * "chain.broken") with a message naming the first bad block and tx and
 * sets *bad_height (and *bad_tx, or -1 when not about one transaction).
 * progress may be NULL. */
typedef void (*hanse_audit_progress_fn)(void *ctx, uint64_t height,
                                        uint64_t tip);
int hanse_chain_audit(const char *dir, uint64_t *blocks_checked,
                      uint64_t *txs_checked, int64_t *bad_height,
                      int64_t *bad_tx, hanse_audit_progress_fn progress,
                      void *pctx, hanse_reject *rej);

/* Genesis helpers shared with audit. */
int hanse_genesis_validate(json_t *genesis, hanse_reject *rej);
/* Chain types: 1 for consortium, private, alliance, open. */
int hanse_chain_type_valid(const char *type);
/* Policy (policy.c has the format). Validate a policy document: HANSE_OK,
 * or a rejection "policy.malformed" (400). NULL is valid (no policy). */
int hanse_policy_validate(json_t *policy, hanse_reject *rej);
/* The policy in force on the state of `s`: the state key "policy" if a
 * governance vote wrote one, else genesis's "policy" (NULL: none). *out
 * is a new reference or NULL. */
int hanse_policy_load(hanse_store *s, json_t *genesis, json_t **out);
/* The same through a block's execution (the state as the block began:
 * with pipelined execution, the block below may have changed it). */
int hanse_policy_load_exec(hanse_exec *ex, json_t *genesis, json_t **out);
/* 1 if data of `data_class` (NULL: the block views) may be read without a
 * signature under `policy` (NULL policy: everything is public). */
int hanse_policy_read_public(json_t *policy, const char *data_class);
/* 1 if an active member holding `roles` (JSON array of strings) may read
 * `data_class` (NULL: the block views, open to every active member). */
int hanse_policy_read_allows(json_t *policy, const char *data_class, json_t *roles);
/* 1 if ledger transfers in `asset` must be confidential under `policy`
 * (its "confidential.assets" names it); 0 for a NULL policy. */
int hanse_policy_confidential(json_t *policy, const char *asset);
/* The policy's confidential auditors: a borrowed array of lowercase
 * 64-hex keys, or NULL (none). */
json_t *hanse_policy_auditors(json_t *policy);

/* The default policy of a chain type (new reference; NULL for open: no
 * submit restriction). */
json_t *hanse_chain_type_policy(const char *type);

#endif
