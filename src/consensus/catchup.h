/*
 * catchup.h -- bringing a cluster node's chain up to a Raft snapshot's
 * height by fetching the missing blocks from its peers, outside the Raft
 * log.
 *
 * A Raft snapshot of a Hanse chain is only a checkpoint descriptor
 * (height, tip hash, state digest; raft_entry.h): the chain itself lives
 * in SQLite. A node that is further behind than the leader's log keeps
 * (a node that was down for long, or a new one) is sent that descriptor;
 * to restore it, the node needs every block up to its height. It fetches
 * them, a range at a time, from the API of a peer (GET
 * /v1/chains/{c}/blocks/raw, signed with the node's key: only the chain's
 * validators may read whole blocks), the leader first, and checks and
 * executes each as it would a replicated one
 * (hanse_chain_block_replicate: links to the tip, proposer a genesis
 * validator, every signature, the Merkle root, the header's state
 * digest); at the end the block at the snapshot's height must have the
 * snapshot's hash. A peer that answers badly or sends a block that does
 * not check out is passed over for the others; blocks are durable one by
 * one, so an interrupted catch-up resumes from where it stopped.
 *
 * Progress is published in a hanse_catchup_progress (atomics: read from
 * any thread) and logged once a second: the target, the height reached,
 * the peer and the rate in blocks per second.
 */
#ifndef HANSE_CATCHUP_H
#define HANSE_CATCHUP_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/env.h"
#include "chain/chain.h"

struct hanse_cluster_config;

/* Fetch up to `count` blocks from height `from` from the node whose API is
 * at `api_url`, as a block stream (raft_entry.h) into `out`. HANSE_OK or
 * an error with `rej` filled. Implemented by the node (node.c). */
typedef int (*hanse_fetch_blocks_fn)(void *ctx, const char *api_url, uint64_t from,
                                     uint32_t count, hanse_buf *out, hanse_reject *rej);

typedef struct hanse_catchup_progress {
  atomic_int active;                 /* 1 while fetching */
  atomic_uint_least64_t runs;        /* catch-ups started since the node started */
  atomic_uint_least64_t from;        /* the tip when the last one started */
  atomic_uint_least64_t target;      /* the snapshot's height */
  atomic_uint_least64_t height;      /* the tip reached */
  atomic_uint_least64_t peer;        /* Raft id of the peer fetched from last */
  atomic_uint_least64_t elapsed_ms;  /* of the last (or current) catch-up */
} hanse_catchup_progress;

/* What a catch-up needs. Everything is borrowed. */
typedef struct hanse_catchup_job {
  hanse_chain *chain;
  const struct hanse_cluster_config *cluster; /* peers' API URLs; self skipped */
  uint64_t leader_id;                /* asked first; 0: none known */
  hanse_fetch_blocks_fn fetch;
  void *fetch_ctx;
  uint64_t height;                   /* the snapshot's height */
  hanse_hash hash;                   /* and its block hash */
  const atomic_int *stop;            /* set: give up at once (node stopping) */
  const hanse_env *env;
  hanse_receipt *receipts;           /* scratch of receipts_cap */
  uint32_t receipts_cap;
  /* Called after each block stored (may be NULL): as on_commit. */
  void (*on_block)(void *ctx, const hanse_tip *tip, const hanse_receipt *receipts, uint32_t n);
  void *on_block_ctx;
  hanse_catchup_progress *progress;
} hanse_catchup_job;

/* Run a catch-up on the calling thread (the chain's writer). HANSE_OK when
 * the chain holds the snapshot's block with its hash; HANSE_ERR(CHAIN_BROKEN)
 * when this node's chain cannot reach it (every peer's next block fails to
 * link or check here, or the block at the snapshot's height has another
 * hash: this copy diverged; rej says which block); HANSE_ERR(CANCELLED)
 * when *stop was set; HANSE_ERR(UNREACHABLE) when no peer delivered a
 * block for HANSE_CATCHUP_GIVEUP_S seconds; a store error as is. */
int hanse_catchup_run(const hanse_catchup_job *job, hanse_reject *rej);

#endif
