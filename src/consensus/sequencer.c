/*
 * sequencer.c -- the block-cutting loop (see sequencer.h).
 *
 * Loop: wait until enough is ready or the interval ends; take ready entries
 * (whole batches, each signer in sequence order); encode the body; propose
 * (execute + durable commit); report receipts; repeat. A failed commit
 * returns the entries to the mempool and stops the loop: the store is
 * sticky-failed and only a restart (with its start-up check) may continue.
 */
#include "consensus/sequencer.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

struct hanse_sequencer {
  hanse_chain *chain;
  hanse_mempool *mp;
  hanse_sequencer_config cfg;
  pthread_t thread;
  atomic_int stop;
  atomic_int failed;
};

static void *sequencer_main(void *arg) {
  hanse_sequencer *s = arg;
  pthread_setname_np(pthread_self(), "hanse-seq");
  const hanse_env *env = s->cfg.env;
  uint64_t interval_us = (uint64_t)s->cfg.block_interval_ms * 1000u;
  uint64_t last_cut = 0;
  hanse_buf body;
  hanse_buf_init(&body);
  size_t cap = (size_t)s->cfg.block_max_txs + HANSE_BATCH_TX_MAX;
  hanse_receipt *rs = calloc(cap, sizeof *rs);
  uint64_t *lat = calloc(cap, sizeof *lat);
  HANSE_ASSERT(rs != NULL && lat != NULL);
  while (!atomic_load(&s->stop)) {
    uint64_t now = hanse_mono_us(env);
    uint64_t deadline = last_cut + interval_us;
    size_t ready;
    if (now < deadline)
      ready = hanse_mempool_wait_ready(s->mp, (size_t)s->cfg.block_max_txs, deadline);
    else
      ready = hanse_mempool_wait_ready(s->mp, 1, now + 200000);
    if (atomic_load(&s->stop)) break;
    now = hanse_mono_us(env);
    if (ready == 0) continue;
    if (ready < (size_t)s->cfg.block_max_txs && now < last_cut + interval_us) continue;
    last_cut = now;
    hanse_buf_reset(&body);
    uint32_t txs = 0;
    hanse_mp_taken *t =
        hanse_mempool_take(s->mp, (uint32_t)s->cfg.block_max_txs, now, &body, &txs);
    if (t == NULL) continue;
    if (hanse_buf_status(&body) != HANSE_OK) {
      hanse_mempool_done(s->mp, t, 0);
      HANSE_ERROR("sequencer: out of memory encoding a block");
      continue;
    }
    hanse_reject rej;
    hanse_tip tip;
    uint32_t nids;
    const hanse_hash *ids = hanse_mp_taken_ids(t, &nids);
    json_t *const *payloads = hanse_mp_taken_payloads(t, &nids);
    int rc = hanse_chain_propose_ids(s->chain, body.data, body.len, ids, payloads, nids,
                                     hanse_now_ms(env), rs, (uint32_t)cap, &tip, &rej);
    uint32_t n;
    const uint64_t *arrivals = hanse_mp_taken_arrivals(t, &n);
    if (rc != HANSE_OK) {
      hanse_mempool_done(s->mp, t, 0);
      if (s->cfg.on_commit) s->cfg.on_commit(s->cfg.ctx, 0, NULL, NULL, 0, NULL);
      if (rc == HANSE_ERR(STORE_FAILED) || rc == HANSE_ERR(IO)) {
        HANSE_ERROR("sequencer: %s: %s; no more blocks until restart", rej.code, rej.message);
        atomic_store(&s->failed, 1);
        break;
      }
      /* Not the disk: retry after a pause rather than spin. */
      HANSE_ERROR("sequencer: %s: %s; retrying", rej.code, rej.message);
      struct timespec pause = {0, 100 * 1000 * 1000};
      nanosleep(&pause, NULL);
      continue;
    }
    HANSE_ASSERT(n == txs);
    uint64_t done_us = hanse_mono_us(env);
    for (uint32_t i = 0; i < n; i++) lat[i] = done_us - arrivals[i];
    /* The block is durable before its ids leave the mempool, so a status
     * query (mempool first, then store) never loses a transaction. */
    hanse_mempool_done(s->mp, t, 1);
    if (s->cfg.on_commit) s->cfg.on_commit(s->cfg.ctx, 1, &tip, rs, txs, lat);
  }
  free(rs);
  free(lat);
  hanse_buf_free(&body);
  return NULL;
}

int hanse_sequencer_start(hanse_chain *chain, hanse_mempool *mp,
                          const hanse_sequencer_config *cfg,
                          hanse_sequencer **out) {
  hanse_sequencer *s = calloc(1, sizeof *s);
  if (s == NULL) return HANSE_ERR(NOMEM);
  s->chain = chain;
  s->mp = mp;
  s->cfg = *cfg;
  if (s->cfg.block_interval_ms < 1) s->cfg.block_interval_ms = HANSE_BLOCK_INTERVAL_MS_DEFAULT;
  if (s->cfg.block_max_txs < 1 || s->cfg.block_max_txs > HANSE_BLOCK_TX_MAX - HANSE_BATCH_TX_MAX)
    s->cfg.block_max_txs = HANSE_BLOCK_TXS_DEFAULT;
  if (s->cfg.env == NULL) s->cfg.env = hanse_env_system();
  if (pthread_create(&s->thread, NULL, sequencer_main, s) != 0) {
    free(s);
    return HANSE_ERR(INTERNAL);
  }
  *out = s;
  return HANSE_OK;
}

void hanse_sequencer_stop(hanse_sequencer *s) {
  if (s == NULL) return;
  atomic_store(&s->stop, 1);
  hanse_mempool_wake(s->mp);
  pthread_join(s->thread, NULL);
  free(s);
}

int hanse_sequencer_failed(hanse_sequencer *s) { return atomic_load(&s->failed); }

/* ---- The consensus table (consensus.h) over the functions above ---- */

typedef struct single_engine {
  hanse_consensus base; /* first: the table */
  hanse_sequencer *seq;
} single_engine;

static int single_start(const hanse_consensus_config *cfg, hanse_consensus **out,
                        hanse_reject *rej) {
  single_engine *e = calloc(1, sizeof *e);
  if (e == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  e->base.engine = &hanse_consensus_single;
  hanse_sequencer_config sc = {cfg->block_interval_ms, cfg->block_max_txs, cfg->env,
                               cfg->on_commit, cfg->ctx};
  int rc = hanse_sequencer_start(cfg->chain, cfg->mp, &sc, &e->seq);
  if (rc != HANSE_OK) {
    free(e);
    return hanse_reject_set(rej, rc, "cannot start the sequencer");
  }
  *out = &e->base;
  return HANSE_OK;
}

static void single_stop(hanse_consensus *cs) {
  single_engine *e = (single_engine *)cs;
  hanse_sequencer_stop(e->seq);
  free(e);
}

static int single_failed(hanse_consensus *cs) {
  return hanse_sequencer_failed(((single_engine *)cs)->seq);
}

static int single_is_leader(hanse_consensus *cs) {
  (void)cs;
  return 1;
}

static void single_role(hanse_consensus *cs, hanse_consensus_role *out) {
  (void)cs;
  memset(out, 0, sizeof *out);
  out->role = HANSE_ROLE_SINGLE;
}

const hanse_consensus_engine hanse_consensus_single = {
    "single", single_start, single_stop, single_failed, single_is_leader, single_role};
