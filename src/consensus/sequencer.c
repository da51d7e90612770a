/*
 * sequencer.c -- the block-cutting loop (see sequencer.h).
 *
 * Two threads per chain: the sequencer cuts and executes blocks, the
 * committer finishes (seals: all of a block's hashing, exec.h), stores
 * and commits them (below, sequencer_main). A failed
 * commit returns the entries to the mempool and stops the loop: the store
 * is sticky-failed and only a restart (with its start-up check) may
 * continue. The committer wakes the sequencer when a commit fails, so a
 * failure is reported (hanse_sequencer_failed) and the entries are back
 * at once, also when no block above it is in the making.
 */
#include "consensus/sequencer.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

/* Keys per generation of the warm cache (exec.h): two generations of up
 * to this many recently read or written records stay in memory. */
#define SEQ_WARM_KEYS 400000

/* A block in the pipeline: executed by the sequencer thread, stored and
 * committed by the committer thread. */
typedef struct seq_block {
  hanse_block_pending *p;
  hanse_mp_taken *t;
  hanse_buf body;        /* the encoded body p borrows */
  struct seq_block *below; /* committed, executed on by this one: the
                            * committer frees it (off the sequencer) */
} seq_block;

struct hanse_sequencer {
  hanse_chain *chain;
  hanse_mempool *mp;
  hanse_sequencer_config cfg;
  pthread_t thread, committer;
  atomic_int stop;
  atomic_int failed;
  /* the hand-over to the committer: one block at a time */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  seq_block *job;        /* to store; NULL: the committer is idle */
  hanse_exec_warm *warm; /* the committed blocks' state, for the next
                          * blocks' reads (sequencer thread only; NULL:
                          * none) */
  int job_rc;            /* the last job's result */
  int quit;              /* the committer ends when idle */
};

static void seq_block_free(seq_block *b) {
  if (b == NULL) return;
  seq_block_free(b->below);
  hanse_chain_block_free(b->p);
  hanse_buf_free(&b->body);
  free(b);
}

/* The committer thread: finish, store and commit each handed block, in
 * order; only then are its transactions released from the mempool and
 * reported. A failed block stays with the sequencer, which returns its
 * entries. The block below is freed only after this one's finish, which
 * takes its digest. */
static void *committer_main(void *arg) {
  hanse_sequencer *s = arg;
  pthread_setname_np(pthread_self(), "hanse-commit");
  const hanse_env *env = s->cfg.env;
  uint64_t *lat = NULL;
  size_t lat_cap = 0;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (s->job == NULL && !s->quit) pthread_cond_wait(&s->cv, &s->mu);
    if (s->job == NULL) break;
    seq_block *b = s->job;
    pthread_mutex_unlock(&s->mu);
    hanse_reject rej;
    hanse_tip tip;
    int rc = hanse_chain_block_finish(s->chain, b->p, NULL, 0, &rej);
    seq_block_free(b->below);
    b->below = NULL;
    if (rc == HANSE_OK) rc = hanse_chain_block_store(s->chain, b->p, &tip, &rej);
    if (rc == HANSE_OK) {
      uint32_t n, na;
      const hanse_receipt *rs = hanse_chain_block_receipts(b->p, &n);
      const uint64_t *arrivals = hanse_mp_taken_arrivals(b->t, &na);
      HANSE_ASSERT(n == na);
      if (n > lat_cap) {
        free(lat);
        lat_cap = n;
        lat = malloc(lat_cap * sizeof *lat);
        HANSE_ASSERT(lat != NULL);
      }
      uint64_t done_us = hanse_mono_us(env);
      for (uint32_t i = 0; i < n; i++) lat[i] = done_us - arrivals[i];
      /* The block is durable before its ids leave the mempool, so a status
       * query (mempool first, then store) never loses a transaction. */
      hanse_mempool_done(s->mp, b->t, 1);
      b->t = NULL;
      if (s->cfg.on_commit) s->cfg.on_commit(s->cfg.ctx, 1, &tip, rs, n, lat);
    } else {
      HANSE_ERROR("sequencer: %s: %s; no more blocks until restart", rej.code, rej.message);
    }
    pthread_mutex_lock(&s->mu);
    s->job_rc = rc;
    s->job = NULL;
    pthread_cond_broadcast(&s->cv);
    if (rc != HANSE_OK) {
      /* The sequencer may be waiting for transactions, with nothing
       * above this block to make it look: wake it (sequencer_main). */
      pthread_mutex_unlock(&s->mu);
      hanse_mempool_wake(s->mp);
      pthread_mutex_lock(&s->mu);
    }
  }
  pthread_mutex_unlock(&s->mu);
  free(lat);
  return NULL;
}

/* Wait until the committer is idle: the result of the last block handed. */
static int committer_idle(hanse_sequencer *s) {
  pthread_mutex_lock(&s->mu);
  while (s->job != NULL) pthread_cond_wait(&s->cv, &s->mu);
  int rc = s->job_rc;
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* 1 if the committer is idle after failing the last block handed: a
 * look, without waiting. */
static int committer_failed(hanse_sequencer *s) {
  pthread_mutex_lock(&s->mu);
  int failed = s->job == NULL && s->job_rc != HANSE_OK;
  pthread_mutex_unlock(&s->mu);
  return failed;
}

/* The block below (`held`) failed to commit: it and the block executed
 * above it (`above`, may be NULL) return to the mempool -- the newer
 * first, so the older end up ahead of it -- and are reported failed,
 * once; the sequencer is failed. Frees both. */
static void seq_fail(hanse_sequencer *s, seq_block *held, seq_block *above) {
  if (above) {
    hanse_mempool_done(s->mp, above->t, 0);
    seq_block_free(above);
  }
  hanse_mempool_done(s->mp, held->t, 0);
  seq_block_free(held);
  if (s->cfg.on_commit) s->cfg.on_commit(s->cfg.ctx, 0, NULL, NULL, 0, NULL);
  atomic_store(&s->failed, 1);
}

/* The sequencer thread. Loop: wait until enough is ready or the interval
 * ends; take ready entries (whole batches, each signer in sequence order);
 * encode the body; execute it on top of the block the committer may still
 * be sealing and storing (hanse_chain_block_execute_above); wait for the
 * committer to be done with that one; hand this one over. So block n+1
 * executes while block n is hashed, written and synced. A failed commit stops
 * the loop (seq_fail): the entries of the block and of the one executed
 * above it, if any, return to the mempool, and the store is
 * sticky-failed. The committer's wake-up ends a wait for transactions
 * early, so a failure with nothing above it is seen at once. */
static void *sequencer_main(void *arg) {
  hanse_sequencer *s = arg;
  pthread_setname_np(pthread_self(), "hanse-seq");
  const hanse_env *env = s->cfg.env;
  uint64_t interval_us = (uint64_t)s->cfg.block_interval_ms * 1000u;
  uint64_t last_cut = 0;
  seq_block *held = NULL; /* the last block handed to the committer */
  while (!atomic_load(&s->stop)) {
    uint64_t now = hanse_mono_us(env);
    uint64_t deadline = last_cut + interval_us;
    size_t ready;
    if (now < deadline)
      ready = hanse_mempool_wait_ready(s->mp, (size_t)s->cfg.block_max_txs, deadline);
    else
      ready = hanse_mempool_wait_ready(s->mp, 1, now + 200000);
    if (atomic_load(&s->stop)) break;
    if (held && committer_failed(s)) { /* nothing executes above it */
      seq_fail(s, held, NULL);
      held = NULL;
      break;
    }
    now = hanse_mono_us(env);
    if (ready == 0) continue;
    if (ready < (size_t)s->cfg.block_max_txs && now < last_cut + interval_us) continue;
    last_cut = now;
    seq_block *b = calloc(1, sizeof *b);
    if (b == NULL) continue;
    hanse_buf_init(&b->body);
    uint32_t txs = 0;
    b->t = hanse_mempool_take(s->mp, (uint32_t)s->cfg.block_max_txs, now, &b->body, &txs);
    if (b->t == NULL) {
      seq_block_free(b);
      continue;
    }
    if (hanse_buf_status(&b->body) != HANSE_OK) {
      hanse_mempool_done(s->mp, b->t, 0);
      seq_block_free(b);
      HANSE_ERROR("sequencer: out of memory encoding a block");
      continue;
    }
    hanse_reject rej;
    uint32_t nids;
    const hanse_hash *ids = hanse_mp_taken_ids(b->t, &nids);
    json_t *const *payloads = hanse_mp_taken_payloads(b->t, &nids);
    int rc = hanse_chain_block_execute_above(s->chain, held ? held->p : NULL, s->warm,
                                             b->body.data, b->body.len, ids, payloads, nids,
                                             hanse_now_ms(env), &b->p, &rej);
    if (rc != HANSE_OK) b->p = NULL; /* freed by the failing step */
    int below_rc = held ? committer_idle(s) : HANSE_OK;
    if (below_rc != HANSE_OK) { /* the block below failed: this one stands on it */
      hanse_exec_warm_forget(s->warm);
      seq_fail(s, held, b);
      held = NULL;
      break;
    }
    seq_block *below = held; /* committed; nothing executes on it any more */
    held = NULL;
    /* its state feeds the warm cache the next blocks read through; a
     * cache that missed a block would be stale: dropped instead */
    if (below && s->warm && hanse_chain_block_retire(below->p, s->warm) != HANSE_OK) {
      hanse_exec_warm_free(s->warm);
      s->warm = NULL;
    }
    if (rc != HANSE_OK) {
      /* the modules' caches may hold what the failed block's transactions
       * committed (exec.h): forgotten, the warm cache's committed blocks
       * kept */
      hanse_exec_warm_forget(s->warm);
      seq_block_free(below);
      hanse_mempool_done(s->mp, b->t, 0);
      seq_block_free(b);
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
    /* nothing executes or stores now: the moment to keep the WAL short */
    if (hanse_chain_wal_bound(s->chain) != HANSE_OK)
      HANSE_WARN("sequencer: the WAL could not be restarted");
    b->below = below;
    held = b;
    pthread_mutex_lock(&s->mu);
    s->job = b;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  if (held) { /* the last block: committed, or its entries go back */
    if (committer_idle(s) != HANSE_OK) seq_fail(s, held, NULL);
    else seq_block_free(held);
  }
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
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->warm = hanse_exec_warm_new(SEQ_WARM_KEYS); /* NULL: every read from the store */
  if (pthread_create(&s->committer, NULL, committer_main, s) != 0) goto fail;
  if (pthread_create(&s->thread, NULL, sequencer_main, s) != 0) {
    pthread_mutex_lock(&s->mu);
    s->quit = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->committer, NULL);
    goto fail;
  }
  *out = s;
  return HANSE_OK;
fail:
  hanse_exec_warm_free(s->warm);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
  return HANSE_ERR(INTERNAL);
}

void hanse_sequencer_stop(hanse_sequencer *s) {
  if (s == NULL) return;
  atomic_store(&s->stop, 1);
  hanse_mempool_wake(s->mp);
  pthread_join(s->thread, NULL); /* it waited for the committer's last block */
  pthread_mutex_lock(&s->mu);
  s->quit = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->committer, NULL);
  hanse_exec_warm_free(s->warm);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
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
