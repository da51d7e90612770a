/*
 * raft_fsm.c -- the state machine and the proposer of the Raft engine
 * (raft_fsm.h), apart from its loop: raft_cluster.c runs them on its
 * libuv thread, the unit tests on libraft's in-memory fixture. Every
 * function runs on the thread that runs the raft instance, and every
 * write to the chain's database happens here.
 *
 * The leader, once ready (below), cuts a body from the mempool with the
 * single-node sequencer's rule (block_max_txs ready, or block_interval_ms
 * since the last cut), executes it inside an open SQLite transaction
 * (hanse_chain_block_execute/finish: nothing committed yet), signs the
 * header, and proposes ONE buffer (raft_apply with several buffers keeps
 * only the first in 0.22.1): the block entry of raft_entry.h. It proposes
 * the next block only after this one is resolved, so at most one SQLite
 * write transaction is open.
 *
 * fsm_apply runs on every node, in log order, on this thread:
 *
 *   height <= tip           skip: already stored (libraft re-applies the
 *                           log after its last snapshot on every start)
 *   height >  tip + 1       a gap: diverged (catch-up from a snapshot is a
 *                           later slice; see fsm_restore)
 *   our pending block       same height and identical header bytes:
 *                           COMMIT the open transaction
 *   anything else           roll back our pending block if any; check the
 *                           block like `hanse verify` (link, proposer is a
 *                           genesis validator, signatures, Merkle root),
 *                           execute it with the header's time, require the
 *                           header's state digest, commit it with the
 *                           leader's header (hanse_chain_block_replicate):
 *                           every node stores byte-identical blocks
 *
 * Apply never fails towards libraft (0.22.1 swallows an error and retries
 * later). An invalid block -- a digest that differs, a bad signature, a
 * header that does not link -- marks the chain DIVERGED: logged loudly,
 * nothing is applied or proposed any more, status shows it; a node never
 * forks silently. The same happens when another part of the node finds
 * the chain diverged (node/certs.c: a majority of the validators signed
 * another block hash at some height): the record is the chain's
 * (hanse_chain_diverge), apply and tick look at it, and a diverged leader
 * hands leadership to another voter (raft_transfer, retried each second)
 * so that the cluster goes on without it.
 * A store error is an environmental failure in the middle
 * of agreed history: the process logs and exits (status 70) so that a
 * restart re-applies the log from the last durable block.
 *
 * Leadership. libraft has no state-change callback: the loop's tick
 * polls raft_state() (hanse_raft_fsm_observe) after every loop iteration.
 * A node that becomes leader first commits
 * a raft_barrier, so every entry of earlier terms is applied, then clears
 * its mempool (its per-signer sequences were cached before other leaders'
 * blocks moved them) and only then is "ready": is_leader() is 1 and the
 * API pools submissions here instead of forwarding them. A proposal that
 * ends with RAFT_LEADERSHIPLOST (or any error) rolls back its transaction
 * and returns its entries to the pool; the entry may still be committed by
 * the next leader, and then it arrives through apply like any other block.
 * A node that stops leading drops its pool once no block is pending
 * (never acknowledged; clients resubmit).
 *
 * Snapshots are a 74-byte checkpoint descriptor (height, tip hash, state
 * digest; raft_entry.h): the chain itself is durable in SQLite. Our own
 * snapshots name a block we hold (start-up restores them as a check); a
 * node sent a snapshot beyond its tip first fetches the missing blocks
 * from its peers' APIs, outside the Raft log (catchup.h), checking each
 * as a replicated block, and reports its progress (role(), status); one
 * whose block at the snapshot's height differs is diverged. Restore never
 * refuses a well-formed descriptor: libraft 0.22.1 persists the snapshot
 * before restoring and never retries a refused one.
 */
#include "consensus/raft_fsm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "consensus/raft_entry.h"

/* Exit status of a node that cannot go on (store error in agreed history). */
#define CLUSTER_EXIT_FATAL 70
/* A diverged leader retries handing leadership over this often. */
#define CLUSTER_TRANSFER_RETRY_US (1000u * 1000)

static void fatal(hanse_raft_fsm *c, const char *what, const hanse_reject *rej) {
  HANSE_ERROR("chain %s: FATAL: %s: %s: %s; exiting so that a restart re-applies the Raft log",
              c->cl.chain_id, what, rej ? rej->code : "", rej ? rej->message : "");
  fflush(NULL);
  _exit(CLUSTER_EXIT_FATAL);
}

/* Give the pending block up: roll back, entries back to the pool. */
static void abandon_pending(hanse_raft_fsm *c, const char *why) {
  if (c->pend == NULL) return;
  HANSE_WARN("chain %s: block %" PRIu64 " not committed here (%s); its %u transactions return "
             "to the pool; it may still commit under the next leader",
             c->cl.chain_id, c->pend_height, why, c->pend_txs);
  hanse_chain_block_abandon(c->cfg.chain, c->pend);
  c->pend = NULL;
  hanse_mempool_done(c->cfg.mp, c->taken, 0);
  c->taken = NULL;
  c->clear_when_idle = 1;
}

/* Stop here for good: record the divergence in the chain (status and
 * metrics read it there; hanse_chain_block_execute refuses every block
 * from now on) and stop applying and proposing. `certified`, when known,
 * is the hash of the block the cluster agreed on at `height`. */
static void diverge(hanse_raft_fsm *c, uint64_t height, const hanse_hash *certified,
                    const char *what, const char *detail) {
  hanse_divergence d;
  memset(&d, 0, sizeof d);
  d.diverged = 1;
  d.height = height;
  if (certified) {
    d.has_certified = 1;
    d.certified = *certified;
  }
  snprintf(d.reason, sizeof d.reason, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
  hanse_chain_diverge(c->cfg.chain, &d);
  atomic_store(&c->diverged, 1);
  atomic_store(&c->failed, 1);
  atomic_store(&c->ready, 0);
  abandon_pending(c, "diverged");
}

/* 1 once the chain diverged, by this engine's checks or by another
 * part of the node (node/certs.c: a certificate of a majority of the
 * validators on another block hash); the engine's flags follow. */
static int chain_diverged(hanse_raft_fsm *c) {
  if (atomic_load(&c->diverged)) return 1;
  hanse_divergence d;
  if (!hanse_chain_divergence(c->cfg.chain, &d)) return 0;
  atomic_store(&c->diverged, 1);
  atomic_store(&c->failed, 1);
  atomic_store(&c->ready, 0);
  abandon_pending(c, "diverged");
  return 1;
}

/* ---- The state machine (libraft's fsm) ---- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result) {
  hanse_raft_fsm *c = fsm->data;
  *result = NULL;
  if (chain_diverged(c)) return 0;
  hanse_raft_block_entry e;
  hanse_tip tip;
  hanse_chain_tip(c->cfg.chain, &tip);
  if (hanse_raft_block_entry_decode(buf->base, buf->len, &e) != HANSE_OK) {
    diverge(c, tip.height + 1, NULL, "a Raft log entry is not a block entry", NULL);
    return 0;
  }
  if (e.height <= tip.height) return 0; /* stored before: idempotent by height */
  if (e.height != tip.height + 1) {
    char msg[160];
    snprintf(msg, sizeof msg, "the log holds block %" PRIu64 " but this node's tip is %" PRIu64,
             e.height, tip.height);
    diverge(c, tip.height + 1, NULL, msg, NULL);
    return 0;
  }
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_tip now_tip;
  if (c->pend != NULL) {
    const uint8_t *hb;
    size_t hl;
    hanse_chain_block_header(c->pend, &hb, &hl, NULL, NULL);
    if (c->pend_height == e.height && hl == e.header_len && memcmp(hb, e.header, hl) == 0) {
      int rc = hanse_chain_block_commit(c->cfg.chain, c->pend, &now_tip, &rej);
      c->pend = NULL;
      if (rc != HANSE_OK) fatal(c, "cannot commit an agreed block", &rej);
      uint32_t n;
      const uint64_t *arrivals = hanse_mp_taken_arrivals(c->taken, &n);
      uint64_t done_us = hanse_mono_us(c->cfg.env);
      for (uint32_t i = 0; i < n; i++) c->lat[i] = done_us - arrivals[i];
      /* Durable before the ids leave the pool (as in the sequencer). */
      hanse_mempool_done(c->cfg.mp, c->taken, 1);
      c->taken = NULL;
      if (c->cfg.on_commit) c->cfg.on_commit(c->cfg.ctx, 1, &now_tip, c->rs, n, c->lat);
      return 0;
    }
    abandon_pending(c, "the cluster agreed on another block at its height");
  }
  int rc = hanse_chain_block_replicate(c->cfg.chain, e.header, e.header_len, e.body, e.body_len,
                                       c->rs, c->cap, &now_tip, &rej);
  if (rc == HANSE_ERR(CHAIN_BROKEN)) {
    char msg[96];
    snprintf(msg, sizeof msg, "block %" PRIu64 " from the log is not valid here", e.height);
    /* The proposer's block hash, when its header decodes: what the
     * cluster holds at this height, and this node does not. */
    hanse_header ph;
    hanse_hash phash;
    int known = hanse_header_decode(&ph, e.header, e.header_len, NULL) == HANSE_OK;
    if (known) hanse_header_hash(&ph, &phash);
    diverge(c, e.height, known ? &phash : NULL, msg, rej.message);
    return 0;
  }
  if (rc != HANSE_OK && chain_diverged(c)) return 0; /* marked meanwhile (node/certs.c) */
  if (rc != HANSE_OK) fatal(c, "cannot store a block agreed by the cluster", &rej);
  /* Another node's block moved sequences: a follower's pool holds no
   * entries (submissions are forwarded) but caches signers' sequences,
   * which GET /accounts answers from; drop them. */
  if (!c->leader_ready) hanse_mempool_clear(c->cfg.mp);
  uint32_t n = (uint32_t)(now_tip.tx_count - tip.tx_count);
  if (c->cfg.on_commit) c->cfg.on_commit(c->cfg.ctx, 1, &now_tip, c->rs, n, NULL);
  return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs) {
  hanse_raft_fsm *c = fsm->data;
  hanse_tip tip;
  hanse_chain_tip(c->cfg.chain, &tip);
  struct raft_buffer *b = raft_malloc(sizeof *b);
  if (b == NULL) return RAFT_NOMEM;
  b->len = HANSE_RAFT_CHECKPOINT_BYTES;
  b->base = raft_malloc(b->len);
  if (b->base == NULL) {
    raft_free(b);
    return RAFT_NOMEM;
  }
  hanse_raft_checkpoint_encode(b->base, tip.height, &tip.hash, &tip.state_digest);
  *bufs = b;
  *n_bufs = 1;
  return 0;
}

static void catchup_block(void *ctx, const hanse_tip *tip, const hanse_receipt *rs, uint32_t n) {
  hanse_raft_fsm *c = ctx;
  if (c->cfg.on_commit) c->cfg.on_commit(c->cfg.ctx, 1, tip, rs, n, NULL);
}

/* Restore a checkpoint descriptor: this node must hold its block. A node
 * behind it fetches the missing blocks from its peers first (catchup.h),
 * here on the loop thread, which stalls this node's Raft meanwhile -- a
 * follower's silence costs the others nothing -- and keeps the chain's
 * one writer. Restore must not fail in 0.22.1 (the snapshot is already
 * persisted: a refusal would leave the log without it, and the next start
 * would refuse again), so: a copy that cannot reach the snapshot's block
 * is diverged (stops applying, says which block); no peer reachable for
 * HANSE_CATCHUP_GIVEUP_S stops the process, and the restart resumes the
 * catch-up from the persisted snapshot. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf) {
  hanse_raft_fsm *c = fsm->data;
  uint64_t height;
  hanse_hash hash, digest;
  if (hanse_raft_checkpoint_decode(buf->base, buf->len, &height, &hash, &digest) != HANSE_OK) {
    HANSE_ERROR("chain %s: a Raft snapshot is not a checkpoint descriptor; refused",
                c->cl.chain_id);
    return RAFT_MALFORMED;
  }
  if (chain_diverged(c)) {
    raft_free(buf->base);
    return 0;
  }
  hanse_tip tip;
  hanse_chain_tip(c->cfg.chain, &tip);
  if (height > tip.height) {
    raft_id lid = 0;
    const char *laddr = NULL;
    if (c->raft) raft_leader(c->raft, &lid, &laddr);
    hanse_catchup_job job = {.chain = c->cfg.chain,
                             .cluster = &c->cl,
                             .leader_id = lid,
                             .fetch = c->cfg.fetch_blocks,
                             .fetch_ctx = c->cfg.fetch_ctx,
                             .height = height,
                             .hash = hash,
                             .stop = c->stop ? c->stop : &c->no_stop,
                             .env = c->cfg.env,
                             .receipts = c->rs,
                             .receipts_cap = c->cap,
                             .on_block = catchup_block,
                             .on_block_ctx = c,
                             .progress = &c->catchup};
    hanse_reject rej;
    hanse_reject_clear(&rej);
    int rc = c->cfg.fetch_blocks ? hanse_catchup_run(&job, &rej)
                                 : hanse_reject_set(&rej, HANSE_ERR(UNREACHABLE),
                                                    "no way to fetch blocks configured");
    if (rc == HANSE_ERR(CHAIN_BROKEN)) {
      hanse_chain_tip(c->cfg.chain, &tip);
      diverge(c, tip.height + 1, NULL, "cannot catch up to the cluster's snapshot",
              rej.message);
      raft_free(buf->base);
      return 0;
    }
    if (rc == HANSE_ERR(CANCELLED)) return RAFT_SHUTDOWN;
    if (rc != HANSE_OK) fatal(c, "cannot catch up to the cluster's snapshot", &rej);
    raft_free(buf->base);
    return 0;
  }
  hanse_store *rd = hanse_chain_reader_acquire(c->cfg.chain);
  hanse_block_row row;
  int rc = rd ? hanse_store_block_get(rd, height, 0, &row) : HANSE_ERR(IO);
  hanse_chain_reader_release(c->cfg.chain, rd);
  int same = rc == HANSE_OK && hanse_hash_eq(&row.hash, &hash);
  if (rc == HANSE_OK) hanse_block_row_free(&row);
  if (!same) {
    /* We hold a block at that height, but not the cluster's: our copy
     * differs. Accept the snapshot (refusing breaks libraft) and stop. */
    diverge(c, height, &hash, "the cluster's snapshot names another block at this height",
            NULL);
  }
  raft_free(buf->base);
  return 0;
}

/* ---- Proposing (leader) ---- */

static void on_applied(struct raft_apply *req, int status, void *result) {
  hanse_raft_fsm *c = req->data;
  (void)result;
  c->apply_inflight = 0;
  if (c->pend != NULL) {
    /* Not committed through fsm_apply: leadership lost, shutdown, or a
     * diverged chain. */
    abandon_pending(c, status ? raft_strerror(status) : "not applied");
  }
}

static void maybe_propose(hanse_raft_fsm *c) {
  uint64_t now = hanse_mono_us(c->cfg.env);
  size_t ready = hanse_mempool_ready(c->cfg.mp);
  if (ready == 0) return;
  if (ready < (size_t)c->cfg.block_max_txs &&
      now < c->last_cut_us + (uint64_t)c->cfg.block_interval_ms * 1000u)
    return;
  c->last_cut_us = now;
  hanse_buf_reset(&c->body);
  uint32_t txs = 0;
  hanse_mp_taken *t =
      hanse_mempool_take(c->cfg.mp, (uint32_t)c->cfg.block_max_txs, now, &c->body, &txs);
  if (t == NULL) return;
  if (hanse_buf_status(&c->body) != HANSE_OK) {
    hanse_mempool_done(c->cfg.mp, t, 0);
    HANSE_ERROR("chain %s: out of memory encoding a block", c->cl.chain_id);
    return;
  }
  uint32_t nids;
  const hanse_hash *ids = hanse_mp_taken_ids(t, &nids);
  json_t *const *payloads = hanse_mp_taken_payloads(t, &nids);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_block_pending *p;
  int rc = hanse_chain_block_execute(c->cfg.chain, c->body.data, c->body.len, ids, payloads, nids,
                                     hanse_now_ms(c->cfg.env), c->rs, c->cap, &p, &rej);
  if (rc == HANSE_OK) rc = hanse_chain_block_finish(c->cfg.chain, p, NULL, 0, &rej);
  if (rc != HANSE_OK) {
    hanse_mempool_done(c->cfg.mp, t, 0);
    if (rc == HANSE_ERR(STORE_FAILED) || rc == HANSE_ERR(IO))
      fatal(c, "cannot execute a block", &rej);
    HANSE_ERROR("chain %s: %s: %s; retrying", c->cl.chain_id, rej.code, rej.message);
    return;
  }
  const uint8_t *hb;
  size_t hl;
  uint64_t height;
  hanse_chain_block_header(p, &hb, &hl, NULL, &height);
  struct raft_buffer buf;
  buf.len = hanse_raft_block_entry_size(hl, c->body.len);
  buf.base = raft_malloc(buf.len);
  if (buf.base == NULL) {
    hanse_chain_block_abandon(c->cfg.chain, p);
    hanse_mempool_done(c->cfg.mp, t, 0);
    HANSE_ERROR("chain %s: out of memory proposing a block", c->cl.chain_id);
    return;
  }
  hanse_raft_block_entry_encode(buf.base, height, hb, hl, c->body.data, c->body.len);
  c->apply_req.data = c;
  int rv = raft_apply(c->raft, &c->apply_req, &buf, 1, on_applied);
  if (rv != 0) {
    /* Not freed: 0.22.1 releases the buffer itself when the failure comes
     * after the entry was appended (logDiscard), and not otherwise; a
     * leak on a rare path beats a double free. */
    hanse_chain_block_abandon(c->cfg.chain, p);
    hanse_mempool_done(c->cfg.mp, t, 0);
    HANSE_WARN("chain %s: block %" PRIu64 " not proposed: %s (%s)", c->cl.chain_id, height,
               raft_strerror(rv), raft_errmsg(c->raft));
    return;
  }
  c->pend = p;
  c->taken = t;
  c->pend_height = height;
  c->pend_txs = txs;
  c->apply_inflight = 1;
}

/* ---- Roles ---- */

static void on_barrier(struct raft_barrier *req, int status) {
  hanse_raft_fsm *c = req->data;
  c->barrier_inflight = 0;
  if (status == 0 && raft_state(c->raft) == RAFT_LEADER &&
      c->raft->current_term == c->term_seen && c->pend == NULL) {
    /* Every earlier entry is applied: the store is current, so the pool
     * may look sequences up afresh. */
    hanse_mempool_clear(c->cfg.mp);
    c->leader_ready = 1;
    c->last_cut_us = 0;
    atomic_store(&c->ready, !atomic_load(&c->diverged));
    hanse_tip tip;
    hanse_chain_tip(c->cfg.chain, &tip);
    HANSE_INFO("chain %s: leader (raft id %" PRIu64 ", term %llu) at height %" PRIu64
               ", proposing", c->cl.chain_id, c->cl.self_id,
               (unsigned long long)c->term_seen, tip.height);
  } else if (raft_state(c->raft) == RAFT_LEADER) {
    c->need_barrier = 1; /* try again on the next tick */
  }
}

static void on_transferred(struct raft_transfer *req) {
  hanse_raft_fsm *c = req->data;
  c->transfer_inflight = 0;
}

/* ---- Following raft_state (the loop's tick) ---- */

/* Every function that takes the raft instance records it for the
 * requests' callbacks; it is always the same one. */
static void use_raft(hanse_raft_fsm *c, struct raft *r) {
  HANSE_ASSERT(r != NULL);
  HANSE_ASSERT(c->raft == NULL || c->raft == r);
  c->raft = r;
}

void hanse_raft_fsm_observe(hanse_raft_fsm *c, struct raft *r) {
  use_raft(c, r);
  int st = raft_state(c->raft);
  raft_term term = c->raft->current_term;
  if (st != c->state_seen || (st == RAFT_LEADER && term != c->term_seen)) {
    if (c->state_seen == RAFT_LEADER || c->leader_ready) {
      c->leader_ready = 0;
      atomic_store(&c->ready, 0);
      c->clear_when_idle = 1;
    }
    c->need_barrier = st == RAFT_LEADER;
    c->state_seen = st;
    c->term_seen = term;
    HANSE_INFO("chain %s: raft id %" PRIu64 " is now %s (term %llu)", c->cl.chain_id,
               c->cl.self_id, raft_state_name(st), (unsigned long long)term);
  }
}

int hanse_raft_fsm_diverged(hanse_raft_fsm *c) { return chain_diverged(c); }

void hanse_raft_fsm_hand_over(hanse_raft_fsm *c, struct raft *r) {
  use_raft(c, r);
  HANSE_ASSERT(atomic_load(&c->diverged));
  int st = raft_state(c->raft);
  /* A diverged leader would hold the cluster up: it proposes nothing.
   * Hand leadership to another voter (libraft picks the most
   * up-to-date), retrying each second while this node still leads. */
  uint64_t now = hanse_mono_us(c->cfg.env);
  if (st == RAFT_LEADER && !c->transfer_inflight && now >= c->transfer_next_us) {
    c->transfer_req.data = c;
    if (raft_transfer(c->raft, &c->transfer_req, 0, on_transferred) == 0)
      c->transfer_inflight = 1;
    c->transfer_next_us = now + CLUSTER_TRANSFER_RETRY_US;
  }
}

void hanse_raft_fsm_transition(hanse_raft_fsm *c, struct raft *r) {
  use_raft(c, r);
  int st = raft_state(c->raft);
  if (c->clear_when_idle && st != RAFT_LEADER && c->pend == NULL) {
    hanse_mempool_clear(c->cfg.mp); /* never acknowledged; clients resubmit */
    c->clear_when_idle = 0;
  }
  if (st == RAFT_LEADER && c->need_barrier && !c->barrier_inflight && c->pend == NULL) {
    c->barrier_req.data = c;
    if (raft_barrier(c->raft, &c->barrier_req, on_barrier) == 0) {
      c->barrier_inflight = 1;
      c->need_barrier = 0;
    }
  }
}

void hanse_raft_fsm_propose(hanse_raft_fsm *c, struct raft *r) {
  use_raft(c, r);
  /* Not while a raft_apply awaits its callback, even with no block
   * pending (apply may have resolved it first): apply_req is still in
   * libraft's queue, and submitting it again corrupts that queue. */
  if (raft_state(c->raft) == RAFT_LEADER && c->leader_ready && c->pend == NULL &&
      !c->apply_inflight && !atomic_load(&c->diverged))
    maybe_propose(c);
}

void hanse_raft_fsm_abandon(hanse_raft_fsm *c, const char *why) { abandon_pending(c, why); }

/* ---- Life cycle ---- */

int hanse_raft_fsm_init(hanse_raft_fsm *c, const hanse_consensus_config *cfg) {
  HANSE_ASSERT(cfg->cluster != NULL && cfg->chain != NULL && cfg->mp != NULL);
  HANSE_ASSERT(cfg->env != NULL && cfg->block_interval_ms >= 1 && cfg->block_max_txs >= 1);
  memset(c, 0, sizeof *c);
  c->cfg = *cfg;
  c->cl = *cfg->cluster;
  c->cfg.cluster = &c->cl;
  hanse_buf_init(&c->body);
  c->cap = HANSE_BLOCK_TX_MAX;
  c->rs = calloc(c->cap, sizeof *c->rs);
  c->lat = calloc(c->cap, sizeof *c->lat);
  c->state_seen = RAFT_UNAVAILABLE;
  if (c->rs == NULL || c->lat == NULL) {
    hanse_raft_fsm_close(c);
    return HANSE_ERR(NOMEM);
  }
  return HANSE_OK;
}

void hanse_raft_fsm_bind(hanse_raft_fsm *c, struct raft_fsm *fsm) {
  memset(fsm, 0, sizeof *fsm);
  fsm->version = 1;
  fsm->data = c;
  fsm->apply = fsm_apply;
  fsm->snapshot = fsm_snapshot;
  fsm->restore = fsm_restore;
}

void hanse_raft_fsm_close(hanse_raft_fsm *c) {
  HANSE_ASSERT(c->pend == NULL && c->taken == NULL);
  hanse_buf_free(&c->body);
  free(c->rs);
  free(c->lat);
  c->rs = NULL;
  c->lat = NULL;
}
