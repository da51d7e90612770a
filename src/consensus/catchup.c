/*
 * catchup.c -- fetching the blocks a Raft snapshot stands for from peers
 * (see catchup.h).
 *
 * The loop, on the chain's writer thread:
 *
 *   while tip < target:
 *     ask the next peer (the leader first, then the members in list
 *     order, never ourselves) for up to CATCHUP_BATCH blocks from tip+1;
 *     each block of the answer must be the next height and check out
 *     here (hanse_chain_block_replicate); it is stored durably at once.
 *     A peer that does not answer, answers with something that is not a
 *     block stream, or sends a block that does not check out, is passed
 *     over for the rest of the round; a round in which no peer delivered
 *     waits CATCHUP_RETRY_MS and starts again.
 *   then the block at the target must carry the snapshot's hash.
 *
 * If every peer's next block fails to check here, the copy on this node
 * is what differs (its tip is not the cluster's): CHAIN_BROKEN, and the
 * caller marks the chain diverged. A peer's block that does check out is
 * as good as any other's: blocks carry their proposer's signature and
 * must re-execute to their header's state digest.
 */
#include "consensus/catchup.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "base/log.h"
#include "consensus/consensus.h"
#include "consensus/raft_entry.h"

/* Blocks per request (the API's bound on GET /blocks/raw). */
#define CATCHUP_BATCH 256
#define CATCHUP_RETRY_MS 500
#define CATCHUP_LOG_EVERY_US (1000u * 1000)

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* The peers in the order they are asked: the leader, then the list. */
static int peer_order(const hanse_catchup_job *job, const hanse_cluster_member **out) {
  const hanse_cluster_config *cl = job->cluster;
  int n = 0;
  const hanse_cluster_member *lead = hanse_cluster_member_find(cl, job->leader_id);
  if (lead != NULL && lead->id != cl->self_id) out[n++] = lead;
  for (int i = 0; i < cl->member_count; i++) {
    const hanse_cluster_member *m = &cl->members[i];
    if (m->id != cl->self_id && m != lead) out[n++] = m;
  }
  return n;
}

typedef enum { PEER_OK, PEER_FAILED, PEER_BAD_BLOCK } peer_result;

/* Fetch one range from `m` and store what checks out. */
static peer_result from_peer(const hanse_catchup_job *job, const hanse_cluster_member *m,
                             hanse_buf *buf, uint64_t *stored, int *fatal_rc,
                             hanse_reject *rej) {
  hanse_tip tip;
  hanse_chain_tip(job->chain, &tip);
  uint64_t want = job->height - tip.height;
  uint32_t count = want > CATCHUP_BATCH ? CATCHUP_BATCH : (uint32_t)want;
  hanse_reject frej;
  hanse_reject_clear(&frej);
  if (job->fetch(job->fetch_ctx, m->api_url, tip.height + 1, count, buf, &frej) != HANSE_OK) {
    HANSE_WARN("chain %s: catch-up: node %" PRIu64 " (%s) did not deliver blocks from %" PRIu64
               ": %s: %s",
               job->chain->chain_id, m->id, m->api_url, tip.height + 1, frej.code,
               frej.message);
    return PEER_FAILED;
  }
  atomic_store(&job->progress->peer, m->id);
  size_t off = 0;
  hanse_raft_block_entry e;
  int rc;
  while ((rc = hanse_raft_block_stream_next(buf->data, buf->len, &off, &e)) == HANSE_OK) {
    if (e.height != tip.height + 1 || e.height > job->height) {
      HANSE_WARN("chain %s: catch-up: node %" PRIu64 " sent block %" PRIu64 " where %" PRIu64
                 " was expected",
                 job->chain->chain_id, m->id, e.height, tip.height + 1);
      return *stored ? PEER_OK : PEER_FAILED;
    }
    hanse_tip now;
    hanse_reject brej;
    hanse_reject_clear(&brej);
    rc = hanse_chain_block_replicate(job->chain, e.header, e.header_len, e.body, e.body_len,
                                     job->receipts, job->receipts_cap, &now, &brej);
    if (rc == HANSE_ERR(CHAIN_BROKEN)) {
      HANSE_WARN("chain %s: catch-up: block %" PRIu64 " from node %" PRIu64
                 " does not check out here: %s",
                 job->chain->chain_id, e.height, m->id, brej.message);
      hanse_reject_set(rej, rc, "block %" PRIu64 " from node %" PRIu64 ": %s", e.height, m->id,
                       brej.message);
      return PEER_BAD_BLOCK;
    }
    if (rc != HANSE_OK) {
      *fatal_rc = hanse_reject_set(rej, rc, "storing block %" PRIu64 ": %s", e.height,
                                   brej.message);
      return PEER_FAILED;
    }
    if (job->on_block)
      job->on_block(job->on_block_ctx, &now, job->receipts,
                    (uint32_t)(now.tx_count - tip.tx_count));
    tip = now;
    (*stored)++;
    atomic_store(&job->progress->height, now.height);
  }
  if (rc != HANSE_ERR(NOT_FOUND)) {
    HANSE_WARN("chain %s: catch-up: the answer of node %" PRIu64 " is not a block stream (%s)",
               job->chain->chain_id, m->id, hanse_err_code(rc));
    return *stored ? PEER_OK : PEER_FAILED;
  }
  return *stored ? PEER_OK : PEER_FAILED;
}

static void log_progress(const hanse_catchup_job *job, uint64_t from, uint64_t t0,
                         const char *what) {
  hanse_catchup_progress *p = job->progress;
  uint64_t ms = (hanse_mono_us(job->env) - t0) / 1000;
  uint64_t at = atomic_load(&p->height);
  atomic_store(&p->elapsed_ms, ms);
  HANSE_INFO("chain %s: catch-up %s: block %" PRIu64 " of %" PRIu64 " (%" PRIu64
             " blocks in %.1f s, %.0f blocks/s, from node %" PRIu64 ")",
             job->chain->chain_id, what, at, job->height, at - from, (double)ms / 1000.0,
             ms ? (double)(at - from) * 1000.0 / (double)ms : 0.0,
             (uint64_t)atomic_load(&p->peer));
}

int hanse_catchup_run(const hanse_catchup_job *job, hanse_reject *rej) {
  hanse_catchup_progress *p = job->progress;
  hanse_tip tip;
  hanse_chain_tip(job->chain, &tip);
  uint64_t from = tip.height, t0 = hanse_mono_us(job->env);
  atomic_fetch_add(&p->runs, 1);
  atomic_store(&p->from, from);
  atomic_store(&p->target, job->height);
  atomic_store(&p->height, from);
  atomic_store(&p->elapsed_ms, 0);
  atomic_store(&p->active, 1);
  HANSE_INFO("chain %s: catching up from a snapshot: blocks %" PRIu64 " to %" PRIu64
             " from the cluster's nodes",
             job->chain->chain_id, from + 1, job->height);
  const hanse_cluster_member *peers[HANSE_CLUSTER_NODES_MAX];
  int n = peer_order(job, peers);
  hanse_buf buf;
  hanse_buf_init(&buf);
  int rc = HANSE_OK;
  uint64_t last_log = t0, last_progress = t0;
  while (rc == HANSE_OK) {
    hanse_chain_tip(job->chain, &tip);
    if (tip.height >= job->height) break;
    int delivered = 0, bad = 0, fatal_rc = HANSE_OK;
    for (int i = 0; i < n && rc == HANSE_OK; i++) {
      if (atomic_load(job->stop)) {
        rc = hanse_reject_set(rej, HANSE_ERR(CANCELLED), "catch-up stopped at block %" PRIu64,
                              tip.height);
        break;
      }
      uint64_t stored = 0;
      peer_result r = from_peer(job, peers[i], &buf, &stored, &fatal_rc, rej);
      if (fatal_rc != HANSE_OK) rc = fatal_rc;
      if (stored) {
        delivered = 1;
        last_progress = hanse_mono_us(job->env);
      }
      if (r == PEER_BAD_BLOCK) bad++;
      if (r == PEER_OK) break; /* ask the same order again from the new tip */
    }
    if (rc != HANSE_OK) break;
    uint64_t now = hanse_mono_us(job->env);
    if (now - last_log >= CATCHUP_LOG_EVERY_US) {
      log_progress(job, from, t0, "in progress");
      last_log = now;
    }
    if (delivered) continue;
    if (n > 0 && bad == n) {
      /* Every peer's next block fails here: ours is the odd copy. rej
       * holds the last peer's reason. */
      rc = HANSE_ERR(CHAIN_BROKEN);
      break;
    }
    if (now - last_progress >= (uint64_t)HANSE_CATCHUP_GIVEUP_S * 1000000u) {
      rc = hanse_reject_set(rej, HANSE_ERR(UNREACHABLE),
                            "no peer delivered block %" PRIu64 " in %d s", tip.height + 1,
                            HANSE_CATCHUP_GIVEUP_S);
      break;
    }
    sleep_ms(CATCHUP_RETRY_MS);
  }
  hanse_buf_free(&buf);
  if (rc == HANSE_OK) {
    hanse_store *rd = hanse_chain_reader_acquire(job->chain);
    hanse_block_row row;
    int grc = rd ? hanse_store_block_get(rd, job->height, 0, &row) : HANSE_ERR(IO);
    hanse_chain_reader_release(job->chain, rd);
    if (grc != HANSE_OK) {
      rc = hanse_reject_set(rej, grc, "cannot read back block %" PRIu64, job->height);
    } else {
      if (!hanse_hash_eq(&row.hash, &job->hash))
        rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 " here is not the snapshot's block", job->height);
      hanse_block_row_free(&row);
    }
  }
  log_progress(job, from, t0, rc == HANSE_OK ? "done" : "stopped");
  atomic_store(&p->active, 0);
  return rc;
}
