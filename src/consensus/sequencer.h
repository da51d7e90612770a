/*
 * sequencer.h -- the single-node consensus: one thread per chain that cuts
 * blocks from the mempool and commits them.
 *
 * A block is cut when the ready transactions reach block_max_txs, or when
 * block_interval_ms has passed since the last cut and at least one is
 * ready. Each block is committed durably before on_commit is called, so
 * every receipt handed out is for a durable block.
 *
 * This is one engine of the consensus interface (consensus.h,
 * hanse_consensus_single, at the end of sequencer.c); the Raft cluster is
 * the other. The functions below stay for tests and tools that drive a
 * sequencer directly.
 */
#ifndef HANSE_SEQUENCER_H
#define HANSE_SEQUENCER_H

#include "base/env.h"
#include "chain/chain.h"
#include "consensus/consensus.h"
#include "consensus/mempool.h"

typedef struct hanse_sequencer hanse_sequencer;

/* on_commit (hanse_commit_fn, consensus.h) is called on the committer
 * thread after each durable block, and on the sequencer thread for a
 * block that failed (ok 0); latency_us is always given with ok 1. Block
 * n+1 executes while block n is being committed (sequencer.c). */
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
