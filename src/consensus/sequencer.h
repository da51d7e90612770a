/*
 * sequencer.h -- the single-node consensus: one thread per chain that cuts
 * blocks from the mempool and commits them.
 *
 * A block is cut when the ready transactions reach block_max_txs, or when
 * block_interval_ms has passed since the last cut and at least one is
 * ready. Each block is committed durably (hanse_chain_propose) before
 * on_commit is called, so every receipt handed out is for a durable block.
 *
 * This is one implementation of the consensus interface; the Raft cluster
 * (issue 4) provides another with the same create/start/stop shape.
 */
#ifndef HANSE_SEQUENCER_H
#define HANSE_SEQUENCER_H

#include "base/env.h"
#include "chain/chain.h"
#include "consensus/mempool.h"

typedef struct hanse_sequencer hanse_sequencer;

/* Called on the sequencer thread after each durable commit (ok = 1), once
 * the block's transactions have left the mempool, or after a failed commit
 * (ok = 0, receipts NULL). latency_us[i] is the time from arrival to
 * commit of receipts[i]'s transaction. */
typedef void (*hanse_commit_fn)(void *ctx, int ok, const hanse_tip *tip,
                                const hanse_receipt *receipts, uint32_t n,
                                const uint64_t *latency_us);

typedef struct hanse_sequencer_config {
  int block_interval_ms;
  int block_max_txs;
  const hanse_env *env;
  hanse_commit_fn on_commit;
  void *ctx;
} hanse_sequencer_config;

int hanse_sequencer_start(hanse_chain *chain, hanse_mempool *mp,
                          const hanse_sequencer_config *cfg,
                          hanse_sequencer **out);
/* Stops after the block in progress; returns when the thread has ended. */
void hanse_sequencer_stop(hanse_sequencer *s);
/* 1 after a commit failed: the store is failed and nothing more commits. */
int hanse_sequencer_failed(hanse_sequencer *s);

#endif
