/*
 * raft_fsm.h -- the Raft engine's state machine and proposer, apart from
 * the loop that runs them: libraft's fsm (apply a block entry, snapshot
 * and restore the checkpoint descriptor), the leader's proposals (a block
 * cut from the mempool, executed, one raft_apply), and how a node follows
 * raft_state() (barrier, then ready; pool clearing). Nothing here touches
 * libuv, a thread or a socket: raft_cluster.c drives it from its libuv
 * loop over TCP, tests/unit/consensus/test_raft_fixture.c from libraft's
 * in-memory raft_fixture. raft_fsm.c describes the behaviour.
 *
 * Use, every call on the thread that runs the raft instance:
 *
 *   hanse_raft_fsm sm;
 *   hanse_raft_fsm_init(&sm, &cfg);      // copies cfg and *cfg.cluster
 *   hanse_raft_fsm_bind(&sm, &table);    // libraft's table over sm
 *   raft_init(&raft, io, &table, id, address); ... raft_start(&raft);
 *   every loop iteration (the loop's tick), in this order:
 *     hanse_raft_fsm_observe(&sm, &raft);          // state or term changed
 *     if (hanse_raft_fsm_diverged(&sm)) hanse_raft_fsm_hand_over(&sm, &raft);
 *     else { hanse_raft_fsm_transition(&sm, &raft);  // pool, barrier
 *            hanse_raft_fsm_propose(&sm, &raft); }   // unless stopping
 *   raft_close(&raft, cb); in cb: hanse_raft_fsm_abandon(&sm, "...");
 *   hanse_raft_fsm_close(&sm);
 *
 * Conventions: the struct must not move after init (libraft's table and
 * requests point into it). cfg.chain and cfg.mp stay borrowed until
 * close; cfg.on_commit runs on the calling thread after every durable
 * block. Functions taking a `struct raft *` borrow it, always the same
 * instance (the one initialised with this table); request callbacks use
 * the last one given.
 */
#ifndef HANSE_RAFT_FSM_H
#define HANSE_RAFT_FSM_H

#include <stdatomic.h>
#include <stdint.h>

#include <raft.h>

#include "base/buf.h"
#include "consensus/consensus.h"

typedef struct hanse_raft_fsm {
  hanse_consensus_config cfg;   /* copied at init; cfg.cluster = &cl */
  hanse_cluster_config cl;      /* copied at init: chain id, self id */
  struct raft *raft;            /* borrowed: the instance it serves */

  /* Published to other threads. */
  atomic_int ready;             /* leader, barrier applied: pool submissions here */
  atomic_int failed;
  atomic_int diverged;

  /* Loop thread only. */
  int state_seen;
  raft_term term_seen;
  int need_barrier, barrier_inflight, leader_ready, clear_when_idle;
  struct raft_barrier barrier_req;
  struct raft_transfer transfer_req; /* a diverged leader hands over */
  int transfer_inflight;
  uint64_t transfer_next_us;
  hanse_block_pending *pend;  /* our proposed block, its transaction open */
  hanse_mp_taken *taken;      /* its mempool entries */
  uint64_t pend_height;
  uint32_t pend_txs;
  int apply_inflight;         /* a raft_apply awaits its callback */
  struct raft_apply apply_req;
  uint64_t last_cut_us;
  hanse_buf body;             /* the pending block's body (borrowed by pend) */
  hanse_receipt *rs;
  uint64_t *lat;
  uint32_t cap;

  /* Catch-up from a snapshot (fsm_restore, catchup.h). */
  hanse_catchup_progress catchup; /* read by other threads */
  const atomic_int *stop;     /* set by the engine: the node is stopping
                                 (NULL: never; catch-up runs to its end) */
  atomic_int no_stop;         /* what a NULL stop points at */
} hanse_raft_fsm;

/* Copy cfg (cfg->cluster must be set; cfg->env and the block settings as
 * the engine will use them) and allocate the receipt buffers. HANSE_OK or
 * HANSE_ERR(NOMEM) (nothing to close then). */
int hanse_raft_fsm_init(hanse_raft_fsm *c, const hanse_consensus_config *cfg);
/* Fill libraft's fsm table (version 1, apply, snapshot, restore) over c. */
void hanse_raft_fsm_bind(hanse_raft_fsm *c, struct raft_fsm *fsm);

/* Follow raft_state() and the term: when they change, a node that led
 * stops being ready (its pool is cleared once idle) and a new leader
 * needs a barrier. Call first in every tick. */
void hanse_raft_fsm_observe(hanse_raft_fsm *c, struct raft *r);
/* 1 once the chain diverged, by the fsm's checks or by another part of
 * the node (hanse_chain_diverge); ready and failed follow, a pending block
 * is abandoned. */
int hanse_raft_fsm_diverged(hanse_raft_fsm *c);
/* A diverged leader hands leadership to another voter (raft_transfer),
 * retried each second while it still leads. */
void hanse_raft_fsm_hand_over(hanse_raft_fsm *c, struct raft *r);
/* Once no block is pending: a node that is not leader drops its pool if
 * it stopped leading; a new leader issues its raft_barrier (its callback
 * makes it ready). */
void hanse_raft_fsm_transition(hanse_raft_fsm *c, struct raft *r);
/* A ready leader with no block pending and no raft_apply in flight cuts
 * a block from the mempool (block_max_txs ready, or block_interval_ms
 * since the last cut), executes it, and raft_applies its entry;
 * otherwise nothing. The block commits through apply, or is abandoned
 * when the request fails. */
void hanse_raft_fsm_propose(hanse_raft_fsm *c, struct raft *r);
/* Give the pending block up, if any: roll back, entries back to the pool
 * (the pool is cleared later, once this node is not leader). */
void hanse_raft_fsm_abandon(hanse_raft_fsm *c, const char *why);

/* Free the buffers. No block may be pending (abandon first). */
void hanse_raft_fsm_close(hanse_raft_fsm *c);

#endif
