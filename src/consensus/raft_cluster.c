/*
 * raft_cluster.c -- the Raft engine of the consensus interface
 * (consensus.h, hanse_consensus_raft): the nodes of one chain form a Raft
 * group on libraft 0.22 (libuv, TCP), and the log holds whole blocks.
 *
 * One thread per clustered chain ("hanse-raft") runs a libuv loop that
 * owns libraft and every write to the chain's database, so a clustered
 * chain has exactly one writer thread, as a single-node chain has.
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
 *   height >  tip + 1       a gap: diverged (libraft sends a node that far
 *                           behind a snapshot first; see fsm_restore)
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
 * Leadership. libraft has no state-change callback: tick() polls
 * raft_state() after every loop iteration (uv_prepare) and every 5 ms (a
 * timer, which also cuts blocks). A node that becomes leader first commits
 * a raft_barrier, so every entry of earlier terms is applied, then clears
 * its mempool (its per-signer sequences were cached before other leaders'
 * blocks moved them) and only then is "ready": is_leader() is 1 and the
 * API pools submissions here instead of forwarding them. A proposal that
 * ends with RAFT_LEADERSHIPLOST (or any error) rolls back its transaction
 * and returns its entries to the pool; the entry may still be committed by
 * the next leader, and then it arrives through apply like any other block.
 *
 * Snapshots are a 74-byte checkpoint descriptor (height, tip hash, state
 * digest; raft_entry.h): the chain itself is durable in SQLite. Our own
 * snapshots name a block we hold (start-up restores them as a check); a
 * node sent a snapshot beyond its tip first fetches the missing blocks
 * from its peers' APIs, outside the Raft log (catchup.h), checking each
 * as a replicated block, and reports its progress (role(), status).
 *
 * Stopping: stop() asks the loop (uv_async) to stop proposing, waits up to
 * 3 s for a proposal in flight to resolve, then raft_close, raft_uv_close,
 * raft_uv_tcp_close, and closes its own handles; the thread ends with the
 * loop.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

#include <jansson.h>
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "base/fs.h"
#include "base/limits.h"
#include "base/log.h"
#include "consensus/consensus.h"
#include "consensus/raft_entry.h"
#include "consensus/raft_transport.h"

/* Timing (libraft notes: pre-vote on, election 300-500 ms, heartbeat at
 * most a third of it). */
#define RAFT_ELECTION_TIMEOUT_MS 400
#define RAFT_HEARTBEAT_TIMEOUT_MS 100
#define RAFT_CONNECT_RETRY_MS 200
/* Segments of 32 MiB or more make 0.22.1 refuse every write (NOSPACE). */
#define RAFT_SEGMENT_BYTES (16u * 1024 * 1024)
/* Entries libraft may send ahead of acknowledgements (default 32). */
#define RAFT_INFLIGHT_ENTRIES 256
/* libraft keeps every entry since its last snapshot in memory: a
 * snapshot every HANSE_RAFT_SNAPSHOT_EVERY_DEFAULT blocks (limits.h), as
 * many kept behind it for followers catching up from the log; a follower
 * further behind gets the snapshot and fetches the blocks (catchup.h). */
#define CLUSTER_TICK_MS 5
#define CLUSTER_STOP_WAIT_US (3u * 1000 * 1000)
#define CLUSTER_TRANSFER_RETRY_US (1000u * 1000)
/* Exit status of a node that cannot go on (store error in agreed history). */
#define CLUSTER_EXIT_FATAL 70

typedef struct raft_cluster {
  hanse_consensus base; /* first: the table */
  hanse_consensus_config cfg;
  hanse_cluster_config cl;
  pthread_t thread;
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t timer;
  uv_prepare_t prepare;
  hanse_raft_transport transport;
  struct raft_io io;
  struct raft_fsm fsm;
  struct raft raft;
  int handles_live, transport_live, io_live, raft_live;

  /* Start-up handshake with the starting thread. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int start_done;
  int start_rc;
  char start_msg[HANSE_REJECT_MSG_MAX];

  /* Published to other threads. */
  atomic_int role;            /* HANSE_ROLE_* */
  atomic_uint_least64_t leader_id;
  atomic_uint_least64_t term;
  atomic_int ready;           /* leader, barrier applied: pool submissions here */
  atomic_int failed;
  atomic_int diverged;
  atomic_int stop_requested;

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
  int apply_inflight;
  struct raft_apply apply_req;
  uint64_t last_cut_us;
  hanse_buf body;             /* the pending block's body (borrowed by pend) */
  hanse_receipt *rs;
  uint64_t *lat;
  uint32_t cap;
  int closing, close_started;
  uint64_t close_deadline_us;
  hanse_catchup_progress catchup; /* written by fsm_restore, read by role() */

  /* Membership by governance (membership_tick): one change at a time. */
  struct raft_change change_req;
  int change_inflight;
  uint64_t membership_next_us;
  uint64_t membership_seen_height;
  /* The Raft configuration as last seen, for role() (under conf_mu). */
  pthread_mutex_t conf_mu;
  int conf_count;
  uint64_t conf_ids[HANSE_CLUSTER_NODES_MAX];
  int conf_roles[HANSE_CLUSTER_NODES_MAX];
  raft_index conf_seen_index;
} raft_cluster;

static void fatal(raft_cluster *c, const char *what, const hanse_reject *rej) {
  HANSE_ERROR("chain %s: FATAL: %s: %s: %s; exiting so that a restart re-applies the Raft log",
              c->cl.chain_id, what, rej ? rej->code : "", rej ? rej->message : "");
  fflush(NULL);
  _exit(CLUSTER_EXIT_FATAL);
}

/* Give the pending block up: roll back, entries back to the pool. */
static void abandon_pending(raft_cluster *c, const char *why) {
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
static void diverge(raft_cluster *c, uint64_t height, const hanse_hash *certified,
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
static int chain_diverged(raft_cluster *c) {
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
  raft_cluster *c = fsm->data;
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
  raft_cluster *c = fsm->data;
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
  raft_cluster *c = ctx;
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
  raft_cluster *c = fsm->data;
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
    raft_leader(&c->raft, &lid, &laddr);
    hanse_catchup_job job = {.chain = c->cfg.chain,
                             .cluster = &c->cl,
                             .leader_id = lid,
                             .fetch = c->cfg.fetch_blocks,
                             .fetch_ctx = c->cfg.fetch_ctx,
                             .height = height,
                             .hash = hash,
                             .stop = &c->stop_requested,
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
  raft_cluster *c = req->data;
  (void)result;
  c->apply_inflight = 0;
  if (c->pend != NULL) {
    /* Not committed through fsm_apply: leadership lost, shutdown, or a
     * diverged chain. */
    abandon_pending(c, status ? raft_strerror(status) : "not applied");
  }
}

static void maybe_propose(raft_cluster *c) {
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
    HANSE_ERROR("chain %s: %s: %s; retrying", rej.code, rej.message, c->cl.chain_id);
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
  int rv = raft_apply(&c->raft, &c->apply_req, &buf, 1, on_applied);
  if (rv != 0) {
    /* Not freed: 0.22.1 releases the buffer itself when the failure comes
     * after the entry was appended (logDiscard), and not otherwise; a
     * leak on a rare path beats a double free. */
    hanse_chain_block_abandon(c->cfg.chain, p);
    hanse_mempool_done(c->cfg.mp, t, 0);
    HANSE_WARN("chain %s: block %" PRIu64 " not proposed: %s (%s)", c->cl.chain_id, height,
               raft_strerror(rv), raft_errmsg(&c->raft));
    return;
  }
  c->pend = p;
  c->taken = t;
  c->pend_height = height;
  c->pend_txs = txs;
  c->apply_inflight = 1;
}

/* ---- Membership (member.node_propose votes; member_node.c) ---- */

static void on_transferred(struct raft_transfer *req) {
  raft_cluster *c = req->data;
  c->transfer_inflight = 0;
}


#define CLUSTER_MEMBERSHIP_EVERY_US (200u * 1000)

typedef struct node_rec {
  uint64_t id;
  char raft_addr[HANSE_CLUSTER_ADDR_MAX];
  int removed;
} node_rec;

typedef struct node_scan {
  node_rec recs[HANSE_CLUSTER_NODES_MAX];
  int n;
} node_scan;

static int node_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  node_scan *ns = ctx;
  (void)k;
  (void)kl;
  if (ns->n == HANSE_CLUSTER_NODES_MAX) return 1;
  json_t *j = json_loadb((const char *)v, vl, 0, NULL);
  if (j == NULL) return 0;
  node_rec *r = &ns->recs[ns->n];
  r->id = (uint64_t)json_integer_value(json_object_get(j, "raft_id"));
  const char *addr = json_string_value(json_object_get(j, "raft_addr"));
  snprintf(r->raft_addr, sizeof r->raft_addr, "%s", addr ? addr : "");
  const char *st = json_string_value(json_object_get(j, "status"));
  r->removed = st == NULL || strcmp(st, "member") != 0;
  json_decref(j);
  if (r->id > 0) ns->n++;
  return 0;
}

static void on_changed(struct raft_change *req, int status) {
  raft_cluster *c = req->data;
  c->change_inflight = 0;
  if (status != 0)
    HANSE_WARN("chain %s: a Raft membership change failed: %s; retrying", c->cl.chain_id,
               raft_strerror(status));
  c->membership_seen_height = 0; /* look again */
}

static const struct raft_server *conf_find(raft_cluster *c, uint64_t id) {
  for (unsigned i = 0; i < c->raft.configuration.n; i++)
    if (c->raft.configuration.servers[i].id == id) return &c->raft.configuration.servers[i];
  return NULL;
}

/* Publish the configuration for role() when it changed. */
static void conf_publish(raft_cluster *c) {
  raft_index at = c->raft.configuration_uncommitted_index ? c->raft.configuration_uncommitted_index
                                                           : c->raft.configuration_committed_index;
  if (at == c->conf_seen_index && c->conf_count > 0) return;
  c->conf_seen_index = at;
  pthread_mutex_lock(&c->conf_mu);
  c->conf_count = 0;
  for (unsigned i = 0; i < c->raft.configuration.n && c->conf_count < HANSE_CLUSTER_NODES_MAX;
       i++) {
    c->conf_ids[c->conf_count] = c->raft.configuration.servers[i].id;
    c->conf_roles[c->conf_count] = c->raft.configuration.servers[i].role;
    c->conf_count++;
  }
  pthread_mutex_unlock(&c->conf_mu);
}

/* On the ready leader: bring the Raft group in line with the nodes the
 * chain's governance added or removed (state keys cluster/node/). One
 * step at a time, each a Raft configuration change: an added node joins
 * as a spare, becomes a standby (it receives the log -- and a snapshot
 * if it is far behind -- but does not vote), then a voter (libraft first
 * catches it up); a removed node is removed, and a removed leader hands
 * leadership over first. Looked at after each new block and each change. */
static void membership_tick(raft_cluster *c) {
  if (c->change_inflight || c->raft.configuration_uncommitted_index != 0) return;
  uint64_t now = hanse_mono_us(c->cfg.env);
  if (now < c->membership_next_us) return;
  hanse_tip tip;
  hanse_chain_tip(c->cfg.chain, &tip);
  if (tip.height == c->membership_seen_height) return;
  c->membership_next_us = now + CLUSTER_MEMBERSHIP_EVERY_US;
  node_scan ns;
  memset(&ns, 0, sizeof ns);
  hanse_store *rd = hanse_chain_reader_acquire(c->cfg.chain);
  if (rd == NULL) return;
  int rc = hanse_store_state_scan(rd, "cluster/node/", strlen("cluster/node/"), NULL, 0,
                                  HANSE_CLUSTER_NODES_MAX, node_visit, &ns);
  hanse_chain_reader_release(c->cfg.chain, rd);
  if (rc != HANSE_OK) return;
  c->change_req.data = c;
  for (int i = 0; i < ns.n; i++) {
    const node_rec *r = &ns.recs[i];
    const struct raft_server *s = conf_find(c, r->id);
    int rv = 0;
    const char *what = NULL;
    if (r->removed) {
      if (s == NULL) continue;
      if (r->id == c->cl.self_id) {
        /* A leader does not remove itself: another voter takes over
         * and removes this node. */
        if (!c->transfer_inflight) {
          c->transfer_req.data = c;
          if (raft_transfer(&c->raft, &c->transfer_req, 0, on_transferred) == 0)
            c->transfer_inflight = 1;
        }
        return;
      }
      what = "removing";
      rv = raft_remove(&c->raft, &c->change_req, r->id, on_changed);
    } else if (s == NULL) {
      if (r->raft_addr[0] == 0) continue;
      what = "adding (as a spare)";
      rv = raft_add(&c->raft, &c->change_req, r->id, r->raft_addr, on_changed);
    } else if (s->role == RAFT_SPARE) {
      what = "making a standby (receives the log, does not vote)";
      rv = raft_assign(&c->raft, &c->change_req, r->id, RAFT_STANDBY, on_changed);
    } else if (s->role == RAFT_STANDBY) {
      what = "catching up and promoting to voter";
      rv = raft_assign(&c->raft, &c->change_req, r->id, RAFT_VOTER, on_changed);
    } else {
      continue;
    }
    if (rv == 0) {
      c->change_inflight = 1;
      HANSE_INFO("chain %s: governance: %s node %" PRIu64, c->cl.chain_id, what, r->id);
    } else {
      HANSE_WARN("chain %s: governance: %s node %" PRIu64 " refused: %s (%s)", c->cl.chain_id,
                 what, r->id, raft_strerror(rv), raft_errmsg(&c->raft));
    }
    return; /* one change at a time */
  }
  c->membership_seen_height = tip.height; /* nothing left to do at this height */
}

/* ---- Roles ---- */

static void on_barrier(struct raft_barrier *req, int status) {
  raft_cluster *c = req->data;
  c->barrier_inflight = 0;
  if (status == 0 && raft_state(&c->raft) == RAFT_LEADER &&
      c->raft.current_term == c->term_seen && c->pend == NULL) {
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
  } else if (raft_state(&c->raft) == RAFT_LEADER) {
    c->need_barrier = 1; /* try again on the next tick */
  }
}


static int role_of(int state) {
  switch (state) {
    case RAFT_LEADER: return HANSE_ROLE_LEADER;
    case RAFT_FOLLOWER: return HANSE_ROLE_FOLLOWER;
    case RAFT_CANDIDATE: return HANSE_ROLE_CANDIDATE;
    default: return HANSE_ROLE_UNAVAILABLE;
  }
}

static void close_all(raft_cluster *c);

static void tick(raft_cluster *c) {
  if (c->closing) {
    if (!c->close_started &&
        (!c->apply_inflight || hanse_mono_us(c->cfg.env) > c->close_deadline_us))
      close_all(c);
    return;
  }
  int st = raft_state(&c->raft);
  raft_term term = c->raft.current_term;
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
  raft_id lid = 0;
  const char *laddr = NULL;
  raft_leader(&c->raft, &lid, &laddr);
  atomic_store(&c->role, role_of(st));
  atomic_store(&c->leader_id, (uint64_t)lid);
  atomic_store(&c->term, (uint64_t)term);
  if (chain_diverged(c)) {
    /* A diverged leader would hold the cluster up: it proposes nothing.
     * Hand leadership to another voter (libraft picks the most
     * up-to-date), retrying each second while this node still leads. */
    uint64_t now = hanse_mono_us(c->cfg.env);
    if (st == RAFT_LEADER && !c->transfer_inflight && now >= c->transfer_next_us) {
      c->transfer_req.data = c;
      if (raft_transfer(&c->raft, &c->transfer_req, 0, on_transferred) == 0)
        c->transfer_inflight = 1;
      c->transfer_next_us = now + CLUSTER_TRANSFER_RETRY_US;
    }
    return;
  }
  if (c->clear_when_idle && st != RAFT_LEADER && c->pend == NULL) {
    hanse_mempool_clear(c->cfg.mp); /* never acknowledged; clients resubmit */
    c->clear_when_idle = 0;
  }
  if (st == RAFT_LEADER && c->need_barrier && !c->barrier_inflight && c->pend == NULL) {
    c->barrier_req.data = c;
    if (raft_barrier(&c->raft, &c->barrier_req, on_barrier) == 0) {
      c->barrier_inflight = 1;
      c->need_barrier = 0;
    }
  }
  conf_publish(c);
  if (st == RAFT_LEADER && c->leader_ready && !atomic_load(&c->stop_requested))
    membership_tick(c);
  if (st == RAFT_LEADER && c->leader_ready && c->pend == NULL && !atomic_load(&c->stop_requested))
    maybe_propose(c);
}

static void on_timer(uv_timer_t *t) { tick(t->data); }
static void on_prepare(uv_prepare_t *p) { tick(p->data); }

/* ---- Closing ---- */

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void close_handles(raft_cluster *c) {
  if (!c->handles_live) return;
  c->handles_live = 0;
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->prepare, on_handle_closed);
  uv_close((uv_handle_t *)&c->wake, on_handle_closed);
}

static void on_raft_closed(struct raft *r) {
  raft_cluster *c = r->data;
  c->raft_live = 0;
  /* Anything still pending was failed by raft_close (on_applied). */
  abandon_pending(c, "shutting down");
  raft_uv_close(&c->io);
  c->io_live = 0;
  hanse_raft_transport_close(&c->transport);
  c->transport_live = 0;
  close_handles(c);
}

static void close_all(raft_cluster *c) {
  c->close_started = 1;
  atomic_store(&c->ready, 0);
  atomic_store(&c->role, HANSE_ROLE_UNAVAILABLE);
  if (c->raft_live) {
    raft_close(&c->raft, on_raft_closed);
    return;
  }
  if (c->io_live) raft_uv_close(&c->io);
  c->io_live = 0;
  if (c->transport_live) hanse_raft_transport_close(&c->transport);
  c->transport_live = 0;
  close_handles(c);
}

static void on_wake(uv_async_t *a) {
  raft_cluster *c = a->data;
  if (atomic_load(&c->stop_requested) && !c->closing) {
    c->closing = 1;
    c->close_deadline_us = hanse_mono_us(c->cfg.env) + CLUSTER_STOP_WAIT_US;
    atomic_store(&c->ready, 0);
    tick(c);
  }
}

/* ---- Start-up (on the loop thread) ---- */

static int setup(raft_cluster *c) {
  char *msg = c->start_msg;
  size_t cap = sizeof c->start_msg;
  int rv = uv_loop_init(&c->loop);
  if (rv != 0) {
    snprintf(msg, cap, "uv_loop_init: %s", uv_strerror(rv));
    return -1;
  }
  uv_async_init(&c->loop, &c->wake, on_wake);
  uv_timer_init(&c->loop, &c->timer);
  uv_prepare_init(&c->loop, &c->prepare);
  c->wake.data = c->timer.data = c->prepare.data = c;
  c->handles_live = 1;
  if (hanse_mkdir_p(c->cl.raft_dir, 0700) != 0) {
    snprintf(msg, cap, "cannot create %.160s: %s", c->cl.raft_dir, strerror(errno));
    return -1;
  }
  rv = hanse_raft_transport_init(&c->transport, &c->loop);
  if (rv != 0) {
    snprintf(msg, cap, "raft transport: %s", raft_strerror(rv));
    return -1;
  }
  c->transport_live = 1;
  rv = raft_uv_init(&c->io, &c->loop, c->cl.raft_dir, &c->transport.tcp);
  if (rv != 0) {
    snprintf(msg, cap, "raft_uv_init %.100s: %.100s", c->cl.raft_dir, c->io.errmsg);
    return -1;
  }
  c->io_live = 1;
  raft_uv_set_segment_size(&c->io, RAFT_SEGMENT_BYTES);
  raft_uv_set_connect_retry_delay(&c->io, RAFT_CONNECT_RETRY_MS);
  c->fsm.version = 1;
  c->fsm.data = c;
  c->fsm.apply = fsm_apply;
  c->fsm.snapshot = fsm_snapshot;
  c->fsm.restore = fsm_restore;
  rv = raft_init(&c->raft, &c->io, &c->fsm, c->cl.self_id, c->cl.raft_addr);
  if (rv != 0) {
    snprintf(msg, cap, "raft_init: %s", raft_errmsg(&c->raft));
    return -1;
  }
  c->raft_live = 1;
  c->raft.data = c;
  raft_set_election_timeout(&c->raft, RAFT_ELECTION_TIMEOUT_MS);
  raft_set_heartbeat_timeout(&c->raft, RAFT_HEARTBEAT_TIMEOUT_MS);
  raft_set_pre_vote(&c->raft, true);
  raft_set_max_inflight_entries(&c->raft, RAFT_INFLIGHT_ENTRIES);
  unsigned every = c->cl.snapshot_every ? c->cl.snapshot_every : HANSE_RAFT_SNAPSHOT_EVERY_DEFAULT;
  raft_set_snapshot_threshold(&c->raft, every);
  raft_set_snapshot_trailing(&c->raft, every);
  uint32_t seed;
  c->cfg.env->random(c->cfg.env->ctx, &seed, sizeof seed);
  raft_seed(&c->raft, seed ^ (uint32_t)c->cl.self_id);
  /* Every node of the initial configuration bootstraps with the same
   * list; a raft directory that is not new refuses (CANTBOOTSTRAP), which
   * is the normal restart. */
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  for (int i = 0; i < c->cl.member_count && rv == 0; i++)
    rv = raft_configuration_add(&conf, c->cl.members[i].id, c->cl.members[i].raft_addr,
                                RAFT_VOTER);
  /* A node joining an existing cluster (--join) does not bootstrap: it
   * waits with an empty configuration until the leader adds it. */
  if (rv == 0 && !c->cl.join) rv = raft_bootstrap(&c->raft, &conf);
  raft_configuration_close(&conf);
  if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
    snprintf(msg, cap, "raft_bootstrap: %s", raft_errmsg(&c->raft));
    return -1;
  }
  rv = raft_start(&c->raft);
  if (rv != 0) {
    snprintf(msg, cap, "raft_start: %s", raft_errmsg(&c->raft));
    return -1;
  }
  uv_timer_start(&c->timer, on_timer, CLUSTER_TICK_MS, CLUSTER_TICK_MS);
  uv_prepare_start(&c->prepare, on_prepare);
  return 0;
}

static void *cluster_main(void *arg) {
  raft_cluster *c = arg;
  pthread_setname_np(pthread_self(), "hanse-raft");
  int rc = setup(c);
  pthread_mutex_lock(&c->mu);
  c->start_done = 1;
  c->start_rc = rc;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  if (rc != 0) close_all(c);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  uv_loop_close(&c->loop);
  return NULL;
}

/* ---- The table ---- */

static void cluster_free(raft_cluster *c) {
  hanse_buf_free(&c->body);
  free(c->rs);
  free(c->lat);
  pthread_mutex_destroy(&c->mu);
  pthread_mutex_destroy(&c->conf_mu);
  pthread_cond_destroy(&c->cv);
  free(c);
}

static int cluster_start(const hanse_consensus_config *cfg, hanse_consensus **out,
                         hanse_reject *rej) {
  HANSE_ASSERT(cfg->cluster != NULL);
  const hanse_cluster_config *cl = cfg->cluster;
  if (hanse_cluster_member_find(cl, cl->self_id) == NULL)
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "raft id %" PRIu64 " is not in the member list",
                            cl->self_id);
  raft_cluster *c = calloc(1, sizeof *c);
  if (c == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  c->base.engine = &hanse_consensus_raft;
  c->cfg = *cfg;
  c->cl = *cl;
  c->cfg.cluster = &c->cl;
  if (c->cfg.env == NULL) c->cfg.env = hanse_env_system();
  if (c->cfg.block_interval_ms < 1) c->cfg.block_interval_ms = HANSE_BLOCK_INTERVAL_MS_DEFAULT;
  if (c->cfg.block_max_txs < 1 || c->cfg.block_max_txs > HANSE_BLOCK_TX_MAX - HANSE_BATCH_TX_MAX)
    c->cfg.block_max_txs = HANSE_BLOCK_TXS_DEFAULT;
  hanse_buf_init(&c->body);
  c->cap = HANSE_BLOCK_TX_MAX;
  c->rs = calloc(c->cap, sizeof *c->rs);
  c->lat = calloc(c->cap, sizeof *c->lat);
  pthread_mutex_init(&c->mu, NULL);
  pthread_mutex_init(&c->conf_mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  c->state_seen = RAFT_UNAVAILABLE;
  atomic_store(&c->role, HANSE_ROLE_UNAVAILABLE);
  if (c->rs == NULL || c->lat == NULL) {
    cluster_free(c);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  if (pthread_create(&c->thread, NULL, cluster_main, c) != 0) {
    cluster_free(c);
    return hanse_reject_set(rej, HANSE_ERR(INTERNAL), "cannot start the Raft thread");
  }
  pthread_mutex_lock(&c->mu);
  while (!c->start_done) pthread_cond_wait(&c->cv, &c->mu);
  int rc = c->start_rc;
  pthread_mutex_unlock(&c->mu);
  if (rc != 0) {
    pthread_join(c->thread, NULL);
    hanse_reject_set(rej, HANSE_ERR(INTERNAL), "chain %s: cluster: %s", cl->chain_id,
                     c->start_msg);
    cluster_free(c);
    return HANSE_ERR(INTERNAL);
  }
  HANSE_INFO("chain %s: cluster member %" PRIu64 " of %d, raft on %s, log in %s", cl->chain_id,
             cl->self_id, cl->member_count, cl->raft_addr, cl->raft_dir);
  *out = &c->base;
  return HANSE_OK;
}

static void cluster_stop(hanse_consensus *cs) {
  raft_cluster *c = (raft_cluster *)cs;
  atomic_store(&c->stop_requested, 1);
  atomic_store(&c->ready, 0);
  uv_async_send(&c->wake);
  pthread_join(c->thread, NULL);
  cluster_free(c);
}

/* The chain's own record counts at once, before the loop thread next
 * looks: a divergence found by the certificate exchange stops submissions
 * here from that moment. */
static int chain_record_diverged(raft_cluster *c) {
  hanse_divergence d;
  return hanse_chain_divergence(c->cfg.chain, &d);
}

static int cluster_failed(hanse_consensus *cs) {
  raft_cluster *c = (raft_cluster *)cs;
  return atomic_load(&c->failed) || chain_record_diverged(c);
}

static int cluster_is_leader(hanse_consensus *cs) {
  raft_cluster *c = (raft_cluster *)cs;
  return atomic_load(&c->ready) && !cluster_failed(cs);
}

static void cluster_role(hanse_consensus *cs, hanse_consensus_role *out) {
  raft_cluster *c = (raft_cluster *)cs;
  memset(out, 0, sizeof *out);
  out->role = atomic_load(&c->role);
  out->self_id = c->cl.self_id;
  out->leader_id = atomic_load(&c->leader_id);
  out->term = atomic_load(&c->term);
  out->diverged = atomic_load(&c->diverged) || chain_record_diverged(c);
  out->catchup_active = atomic_load(&c->catchup.active);
  out->catchup_runs = atomic_load(&c->catchup.runs);
  out->catchup_from = atomic_load(&c->catchup.from);
  out->catchup_target = atomic_load(&c->catchup.target);
  out->catchup_height = atomic_load(&c->catchup.height);
  out->catchup_elapsed_ms = atomic_load(&c->catchup.elapsed_ms);
  out->catchup_peer = atomic_load(&c->catchup.peer);
  pthread_mutex_lock(&c->conf_mu);
  out->conf_count = c->conf_count;
  for (int i = 0; i < c->conf_count; i++) {
    out->conf[i].id = c->conf_ids[i];
    out->conf[i].role = c->conf_roles[i] == RAFT_VOTER     ? HANSE_RAFT_VOTER
                        : c->conf_roles[i] == RAFT_STANDBY ? HANSE_RAFT_STANDBY
                                                           : HANSE_RAFT_SPARE;
  }
  pthread_mutex_unlock(&c->conf_mu);
}

const hanse_consensus_engine hanse_consensus_raft = {
    "raft", cluster_start, cluster_stop, cluster_failed, cluster_is_leader, cluster_role};
