/*
 * test_sequencer.c -- the single-node sequencer with its pipeline: block
 * n+1 executes on the sequencer thread (above block n's cache) while the
 * committer thread stores and commits block n.
 *
 * Each test drives the real thing: a chain in a temporary directory
 * (opened through the fault-injecting VFS, support/fault_vfs.h), a
 * mempool fed the way node/submit.c feeds it (hanse_mempool_add with the
 * ids and checked payloads of signed transactions and batches), and a
 * sequencer started with hanse_sequencer_start. on_commit records what
 * the sequencer reports (seq_log), on its own threads, without cmocka
 * assertions (those belong to the test's thread); the test thread then
 * asserts on the record, the mempool, the chain's tip and the stored
 * blocks.
 *
 * The workload: alice issues EUR (her sequence 1), then her transactions
 * each move 1 EUR to bob and bob's each anchor a digest numbered by its
 * submission index. Every block reads and writes alice's and bob's
 * balances and sequences, which the block below has just written: the
 * pipelined block must read them through the block below's cache.
 *
 * The properties:
 *   - committed blocks are acknowledged (ok 1) once each, in height order,
 *     every receipt exactly once, and they are what the store holds;
 *   - a failed commit (the disk fails on write or sync) is never
 *     acknowledged, nor is the block executed above it; both return to
 *     the mempool, older first; the sequencer reports failure; and after a
 *     restart the stored tip is the last acknowledged block.
 *
 * Every wait is bounded (WAIT_MS) and ends as soon as its condition
 * holds; no test sleeps for a fixed time to let something happen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/hmap.h"
#include "chain/module.h"
#include "consensus/mempool.h"
#include "consensus/sequencer.h"
#include "fault_vfs.h"
#include "fixture.h"

/* Bound of every wait: far above what a run needs, even under ASan on a
 * loaded machine. */
#define WAIT_MS 20000
/* Capacity of the record: transactions and blocks of one test. */
#define LOG_TXS_MAX 40000
#define LOG_BLOCKS_MAX 40000
#define SUPPLY 1000000

/* ------------------------------------------------------------------ */
/* What the sequencer reported                                          */

typedef struct seq_log {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  hanse_hmap index;          /* tx id -> 1 + submission index */
  hanse_hash *ids;           /* submission order */
  uint8_t *is_transfer;      /* alice's 1 EUR to bob */
  uint32_t *delivered;       /* receipts seen per submission */
  size_t submitted;
  /* acknowledged blocks: 1..height, each once */
  uint64_t height;
  hanse_hash *hashes;        /* [height] */
  uint32_t *txs;             /* [height] its transaction count */
  size_t acked_txs;
  int failures;              /* on_commit with ok 0 */
  int any_code;              /* a receipt may be a rejection (the ledger workload) */
  /* broken promises, counted on the reporting thread */
  int ok_after_failure, bad_height, bad_tx_count, bad_receipt, no_latency;
} seq_log;

static void log_init(seq_log *l) {
  memset(l, 0, sizeof *l);
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  assert_int_equal(hanse_hmap_init(&l->index, 4096), HANSE_OK);
  l->ids = calloc(LOG_TXS_MAX, sizeof *l->ids);
  l->is_transfer = calloc(LOG_TXS_MAX, 1);
  l->delivered = calloc(LOG_TXS_MAX, sizeof *l->delivered);
  l->hashes = calloc(LOG_BLOCKS_MAX + 1, sizeof *l->hashes);
  l->txs = calloc(LOG_BLOCKS_MAX + 1, sizeof *l->txs);
  assert_true(l->ids && l->is_transfer && l->delivered && l->hashes && l->txs);
}

static void log_free(seq_log *l) {
  hanse_hmap_free(&l->index);
  free(l->ids);
  free(l->is_transfer);
  free(l->delivered);
  free(l->hashes);
  free(l->txs);
  pthread_cond_destroy(&l->cv);
  pthread_mutex_destroy(&l->mu);
}

/* hanse_commit_fn: on the committer thread (ok 1) or the sequencer's
 * (ok 0). Records; asserts nothing. */
static void on_commit(void *ctx, int ok, const hanse_tip *tip, const hanse_receipt *rs,
                      uint32_t n, const uint64_t *latency_us) {
  seq_log *l = ctx;
  pthread_mutex_lock(&l->mu);
  if (!ok) {
    l->failures++;
  } else {
    if (l->failures > 0) l->ok_after_failure++;
    if (tip == NULL || tip->height != l->height + 1 || tip->height > LOG_BLOCKS_MAX) {
      l->bad_height++;
    } else {
      l->height = tip->height;
      l->hashes[tip->height] = tip->hash;
      l->txs[tip->height] = n;
    }
    if (n > 0 && latency_us == NULL) l->no_latency++;
    for (uint32_t i = 0; i < n; i++) {
      uintptr_t k = (uintptr_t)hanse_hmap_get(&l->index, rs[i].id.b, HANSE_HASH_BYTES);
      if (k == 0 || (!l->any_code && strcmp(rs[i].code, "ok") != 0) || rs[i].index != i) {
        l->bad_receipt++;
        continue;
      }
      l->delivered[k - 1]++;
    }
    l->acked_txs += n;
    if (tip && tip->tx_count != l->acked_txs) l->bad_tx_count++;
  }
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

static struct timespec deadline_in(int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Wait until `txs` transactions were acknowledged (or a block failed);
 * returns the count acknowledged. */
static size_t log_wait_acked(seq_log *l, size_t txs) {
  struct timespec until = deadline_in(WAIT_MS);
  pthread_mutex_lock(&l->mu);
  while (l->acked_txs < txs && l->failures == 0)
    if (pthread_cond_timedwait(&l->cv, &l->mu, &until) == ETIMEDOUT) break;
  size_t got = l->acked_txs;
  pthread_mutex_unlock(&l->mu);
  return got;
}

static void pause_us(long us) {
  struct timespec ts = {0, us * 1000L};
  nanosleep(&ts, NULL);
}

/* Poll (1 ms) until the sequencer reports failure; returns it. */
static int wait_failed(hanse_sequencer *s) {
  for (int i = 0; i < WAIT_MS && !hanse_sequencer_failed(s); i++) pause_us(1000);
  return hanse_sequencer_failed(s);
}

/* ------------------------------------------------------------------ */
/* The workload, submitted like node/submit.c does                      */

typedef struct workload {
  fx_chain *f;
  hanse_mempool *mp;
  seq_log *log;
  uint64_t last_seq[2]; /* alice's, bob's */
  int ledger;           /* the ledger workload (ledger_tx) instead */
} workload;

/* The ledger workload: alice's and bob's first four transactions open
 * four accounts each (bob's may not spend more than they received); then
 * alice's each move money from two of hers to two of bob's, and bob's
 * each send back a linked pair from two of his, which fails -- and must
 * leave nothing -- whenever one of the two lacks the credit. Accounts are
 * few, so every block reads the balances the block below and the
 * transactions before it changed; failed chains leave changed accounts
 * in their books that must not reach the state. */
static void ledger_tx(int who, uint64_t seq, size_t k, char *payload, size_t cap,
                      const char **kind) {
  char me = who == 0 ? 'a' : 'b', you = who == 0 ? 'b' : 'a';
  if (seq <= 4) {
    *kind = "ledger.open";
    snprintf(payload, cap, "{\"account\":\"%c%d\",\"asset\":\"EUR\",\"type\":\"asset\"%s}", me,
             (int)seq - 1, who ? ",\"rule\":\"debits_must_not_exceed_credits\"" : "");
    return;
  }
  *kind = "ledger.transfer";
  snprintf(payload, cap,
           "{\"transfers\":[{\"id\":\"%c%zu-0\",\"debit\":\"%c%zu\",\"credit\":\"%c%zu\","
           "\"amount\":%zu%s},{\"id\":\"%c%zu-1\",\"debit\":\"%c%zu\",\"credit\":\"%c%zu\","
           "\"amount\":%zu}]}",
           me, k, me, k % 4, you, (k / 4) % 4, 1 + k % 3, who ? ",\"linked\":true" : "", me, k, me,
           (k + 1) % 4, you, k % 4, who ? 2 + k % 5 : 2);
}

static int seq_lookup(void *ctx, const hanse_pubkey *signer, uint64_t *last) {
  fx_chain *f = ctx;
  return hanse_chain_last_seq(f->chain, signer, last);
}

/* Encode one transaction of the workload: alice's first issues EUR, her
 * others move 1 EUR to bob; bob's anchor digest number k. */
static int workload_tx(workload *w, int who, uint64_t seq, size_t k, int batched,
                       hanse_buf *out, int *transfer) {
  const fx_chain *f = w->f;
  const hanse_keypair *kp = who == 0 ? &f->alice : &f->bob;
  char payload[512], bob[HANSE_HASH_HEX_BYTES];
  const char *kind;
  *transfer = 0;
  if (w->ledger) {
    ledger_tx(who, seq, k, payload, sizeof payload, &kind);
  } else if (who == 1) {
    kind = "notary.anchor";
    snprintf(payload, sizeof payload, "{\"hash\":\"%064zx\"}", k);
  } else if (seq == 1) {
    kind = "asset.issue";
    snprintf(payload, sizeof payload, "{\"asset\":\"EUR\",\"decimals\":0,\"supply\":%d}", SUPPLY);
  } else {
    kind = "asset.transfer";
    snprintf(payload, sizeof payload, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\"}",
             fx_hex(bob, &f->bob.pub));
    *transfer = 1;
  }
  hanse_tx_fields tf = {FX_CHAIN_ID, kind, &kp->pub, seq, FX_T0_MS + seq, payload,
                        strlen(payload)};
  return hanse_tx_encode(out, &tf, batched ? NULL : kp, NULL);
}

/* Submit one entry of n transactions of alice (who 0) or bob (1): a
 * signed transaction when n is 1, else a batch. Its ids are recorded
 * before the pool may hand them to the sequencer. Thread-safe for one
 * submitting thread; returns a code, asserts nothing. */
static int workload_submit(workload *w, int who, uint32_t n) {
  seq_log *l = w->log;
  const hanse_keypair *kp = who == 0 ? &w->f->alice : &w->f->bob;
  uint64_t seq0 = w->last_seq[who] + 1;
  hanse_buf txs[8], raw;
  const uint8_t *ptrs[8];
  size_t lens[8];
  int transfer[8];
  hanse_hash ids[8];
  json_t *payloads[8] = {NULL};
  hanse_tx tx;
  hanse_batch batch;
  int batch_live = 0;
  if (n < 1 || n > 8 || l->submitted + n > LOG_TXS_MAX) return HANSE_ERR(INVALID);
  hanse_buf_init(&raw);
  for (uint32_t i = 0; i < n; i++) hanse_buf_init(&txs[i]);
  int rc = HANSE_OK;
  for (uint32_t i = 0; rc == HANSE_OK && i < n; i++) {
    rc = workload_tx(w, who, seq0 + i, l->submitted + i, n > 1, n > 1 ? &txs[i] : &raw,
                     &transfer[i]);
    ptrs[i] = txs[i].data;
    lens[i] = txs[i].len;
  }
  if (rc == HANSE_OK && n > 1)
    rc = hanse_batch_encode(&raw, FX_CHAIN_ID, ptrs, lens, n, kp, NULL);
  if (rc == HANSE_OK && n == 1) {
    rc = hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL);
    if (rc == HANSE_OK) rc = hanse_tx_check(&tx, FX_CHAIN_ID, &payloads[0], NULL);
    ids[0] = tx.id;
  } else if (rc == HANSE_OK) {
    rc = hanse_batch_decode(&batch, raw.data, raw.len, NULL);
    batch_live = rc == HANSE_OK;
    for (uint32_t i = 0; rc == HANSE_OK && i < n; i++) {
      ids[i] = batch.txs[i].id;
      rc = hanse_tx_check(&batch.txs[i], FX_CHAIN_ID, &payloads[i], NULL);
    }
  }
  if (rc == HANSE_OK) {
    pthread_mutex_lock(&l->mu);
    for (uint32_t i = 0; rc == HANSE_OK && i < n; i++) {
      size_t k = l->submitted++;
      l->ids[k] = ids[i];
      l->is_transfer[k] = (uint8_t)transfer[i];
      rc = hanse_hmap_put(&l->index, ids[i].b, HANSE_HASH_BYTES, (void *)(uintptr_t)(k + 1),
                          NULL);
    }
    pthread_mutex_unlock(&l->mu);
  }
  if (rc == HANSE_OK) {
    hanse_mp_add a = {.type = n > 1 ? HANSE_ENTRY_BATCH : HANSE_ENTRY_TX,
                      .raw = raw.data,
                      .raw_len = raw.len,
                      .signer = kp->pub,
                      .seq_first = seq0,
                      .seq_last = seq0 + n - 1,
                      .ids = ids,
                      .payloads = payloads,
                      .arrival_us = hanse_mono_us(hanse_env_system())};
    hanse_mp_status st;
    rc = hanse_mempool_add(w->mp, &a, &st, NULL);
    if (rc == HANSE_OK && st != HANSE_MP_ADDED) rc = HANSE_ERR(INTERNAL);
  }
  if (rc == HANSE_OK) w->last_seq[who] += n;
  for (uint32_t i = 0; i < n; i++) {
    json_decref(payloads[i]);
    hanse_buf_free(&txs[i]);
  }
  if (batch_live) hanse_batch_free(&batch);
  hanse_buf_free(&raw);
  return rc;
}

/* What the fault hook of a commit_failure test saw (hold_commit). */
typedef struct hold {
  hanse_mempool *mp;
  int done;         /* only the first failing call waits */
  int saw_above;    /* block n+1 was taken while n was failing */
} hold;

/* A chain, its mempool and its sequencer. */
typedef struct rig {
  fx_chain f;
  seq_log log;
  workload w;
  hanse_mempool *mp;
  hanse_sequencer *seq;
  hold hold;
} rig;

static void rig_start(rig *r, const char *vfs, int interval_ms, int max_txs) {
  fx_fault_clear(); /* whatever a failed test left armed */
  fx_chain_setup(&r->f, vfs);
  log_init(&r->log);
  r->mp = hanse_mempool_create(HANSE_MEMPOOL_MAX, seq_lookup, &r->f);
  assert_non_null(r->mp);
  r->w = (workload){&r->f, r->mp, &r->log, {0, 0}, 0};
  hanse_sequencer_config cfg = {interval_ms, max_txs, NULL, on_commit, &r->log};
  assert_int_equal(hanse_sequencer_start(r->f.chain, r->mp, &cfg, &r->seq), HANSE_OK);
}

/* Stop the sequencer (if running) and free the mempool; the chain stays. */
static void rig_stop(rig *r) {
  hanse_sequencer_stop(r->seq);
  r->seq = NULL;
  hanse_mempool_destroy(r->mp);
  r->mp = NULL;
}

static void rig_free(rig *r) {
  if (r->mp) rig_stop(r);
  log_free(&r->log);
  fx_chain_teardown(&r->f);
}

/* The record holds no broken promise. */
static void log_assert_sound(seq_log *l) {
  pthread_mutex_lock(&l->mu);
  int bad[5] = {l->ok_after_failure, l->bad_height, l->bad_tx_count, l->bad_receipt,
                l->no_latency};
  pthread_mutex_unlock(&l->mu);
  if (bad[0] || bad[1] || bad[2] || bad[3] || bad[4])
    fail_msg("on_commit: %d ok after a failure, %d out of height order, %d with a wrong "
             "tx_count, %d unknown/failed/misplaced receipts, %d without latency",
             bad[0], bad[1], bad[2], bad[3], bad[4]);
}

/* The chain's tip, and the blocks the store holds, are the acknowledged
 * ones: same heights, hashes and transaction counts. */
static void assert_store_is_log(fx_chain *f, seq_log *l) {
  hanse_tip tip;
  hanse_chain_tip(f->chain, &tip);
  assert_true(tip.height == l->height);
  assert_true(tip.tx_count == l->acked_txs);
  if (l->height > 0) assert_memory_equal(tip.hash.b, l->hashes[l->height].b, HANSE_HASH_BYTES);
  hanse_store *rd = hanse_chain_reader_acquire(f->chain);
  assert_non_null(rd);
  uint64_t stored;
  assert_int_equal(hanse_store_tip(rd, &stored), HANSE_OK);
  assert_true(stored == l->height);
  for (uint64_t h = 1; h <= l->height; h++) {
    hanse_block_row row;
    assert_int_equal(hanse_store_block_get(rd, h, 1, &row), HANSE_OK);
    assert_memory_equal(row.hash.b, l->hashes[h].b, HANSE_HASH_BYTES);
    hanse_body body;
    assert_int_equal(hanse_body_decode(&body, row.body, row.body_len, NULL), HANSE_OK);
    assert_int_equal(body.tx_count, l->txs[h]);
    hanse_body_free(&body);
    hanse_block_row_free(&row);
  }
  /* acknowledged transactions are stored, the others are not */
  hanse_receipt rc;
  for (size_t k = 0; k < l->submitted; k++)
    assert_int_equal(hanse_store_tx_get(rd, &l->ids[k], &rc) == HANSE_OK, k < l->acked_txs);
  hanse_chain_reader_release(f->chain, rd);
}

/* State as the acknowledged transactions leave it: bob holds one EUR per
 * acknowledged transfer, and the acknowledged anchors (only they) exist. */
static void assert_state_is_log(fx_chain *f, seq_log *l) {
  int64_t transfers = 0;
  for (size_t k = 0; k < l->acked_txs; k++) transfers += l->is_transfer[k];
  assert_true(fx_balance(f, "EUR", &f->bob.pub) == transfers);
  assert_true(fx_balance(f, "EUR", &f->alice.pub) == SUPPLY - transfers);
  char key[128], v[1024];
  for (size_t k = 0; k < l->submitted; k++) {
    if (l->is_transfer[k] || k == 0) continue; /* k 0: the issue */
    snprintf(key, sizeof key, "notary/doc/%064zx", k);
    assert_int_equal(fx_state(f, key, v, sizeof v), k < l->acked_txs);
  }
}

/* ------------------------------------------------------------------ */
/* Happy path                                                           */

/* Hundreds of transactions, singles and batches, in bursts: dozens of
 * blocks of varying size, each acknowledged once and in order, with every
 * receipt once; the store, the state and a re-execution from genesis
 * (the audit) agree with what was acknowledged. */
static void test_commits_in_order(void **state) {
  (void)state;
  rig *r = calloc(1, sizeof *r);
  assert_non_null(r);
  rig_start(r, NULL, 2, 16);
  assert_int_equal(workload_submit(&r->w, 0, 1), HANSE_OK); /* the issue */
  fx_rnd rnd = {42};
  for (int i = 0; i < 300; i++) {
    assert_int_equal(workload_submit(&r->w, (int)fx_rbelow(&rnd, 2), 1 + fx_rbelow(&rnd, 4)),
                     HANSE_OK);
    if (fx_rbelow(&rnd, 8) == 0) pause_us(1000 + 1000 * (long)fx_rbelow(&rnd, 3));
  }
  size_t total = r->log.submitted;
  assert_true(log_wait_acked(&r->log, total) == total);
  rig_stop(r);
  log_assert_sound(&r->log);
  assert_int_equal(r->log.failures, 0);
  for (size_t k = 0; k < total; k++) assert_int_equal(r->log.delivered[k], 1);
  assert_true(r->log.height >= total / 16); /* several blocks, none over the limit */
  for (uint64_t h = 1; h <= r->log.height; h++) assert_true(r->log.txs[h] <= 16);
  print_message("      (%zu transactions in %llu blocks)\n", total,
                (unsigned long long)r->log.height);
  assert_store_is_log(&r->f, &r->log);
  assert_state_is_log(&r->f, &r->log);
  fx_chain_audit(&r->f);
  rig_free(r);
  free(r);
}

/* The ledger's own caches across transactions and blocks (the shared
 * accounts beside the warm cache, the warm cache's key filter) change
 * nothing: hundreds of ledger transactions in pipelined blocks -- with
 * linked chains failing in the middle of their books -- leave the state a
 * re-execution from genesis without them computes (the audit), and both
 * outcomes happened. */
static void test_ledger_pipelined(void **state) {
  (void)state;
  rig *r = calloc(1, sizeof *r);
  assert_non_null(r);
  rig_start(r, NULL, 2, 8);
  r->w.ledger = 1;
  r->log.any_code = 1; /* bob's failed pairs are rejected transactions */
  assert_int_equal(workload_submit(&r->w, 0, 4), HANSE_OK); /* the accounts */
  assert_int_equal(workload_submit(&r->w, 1, 4), HANSE_OK);
  fx_rnd rnd = {7};
  for (int i = 0; i < 200; i++) {
    assert_int_equal(workload_submit(&r->w, (int)fx_rbelow(&rnd, 2), 1 + fx_rbelow(&rnd, 4)),
                     HANSE_OK);
    if (fx_rbelow(&rnd, 8) == 0) pause_us(1000 + 1000 * (long)fx_rbelow(&rnd, 3));
  }
  size_t total = r->log.submitted;
  assert_true(log_wait_acked(&r->log, total) == total);
  rig_stop(r);
  log_assert_sound(&r->log);
  assert_store_is_log(&r->f, &r->log);
  assert_true(r->log.height > 10);
  /* bob's linked pairs: some stood, some failed whole */
  int stood = 0, failed = 0;
  char key[64], v[1024];
  for (size_t k = 8; k < total; k++) {
    snprintf(key, sizeof key, "ledger/xfer/b%zu-1", k);
    int second = fx_state(&r->f, key, v, sizeof v);
    snprintf(key, sizeof key, "ledger/xfer/b%zu-0", k);
    int first = fx_state(&r->f, key, v, sizeof v);
    assert_int_equal(first, second);
    stood += first;
    snprintf(key, sizeof key, "ledger/xfer/a%zu-0", k);
    failed += !first && !fx_state(&r->f, key, v, sizeof v);
  }
  assert_true(stood > 0 && failed > 0);
  fx_chain_audit(&r->f);
  rig_free(r);
  free(r);
}

/* The WAL stays short under the pipeline (hanse_chain_wal_bound): with a
 * bound of 64 KiB, hundreds of blocks leave a WAL file of a few blocks'
 * frames, not of every block's (no other checkpoint runs here: the
 * writer's own fallback waits for 80 MB). */
static void test_wal_bounded(void **state) {
  (void)state;
  rig *r = calloc(1, sizeof *r);
  assert_non_null(r);
  rig_start(r, NULL, 1, 4);
  hanse_chain_set_wal_bound(r->f.chain, 64 * 1024);
  assert_int_equal(workload_submit(&r->w, 0, 1), HANSE_OK); /* the issue */
  for (int i = 0; i < 300; i++) {
    assert_int_equal(workload_submit(&r->w, i & 1, 4), HANSE_OK);
    if (i % 8 == 7) pause_us(2000);
  }
  size_t total = r->log.submitted;
  assert_true(log_wait_acked(&r->log, total) == total);
  rig_stop(r);
  log_assert_sound(&r->log);
  assert_true(r->log.height > 50);
  char wal[2100];
  snprintf(wal, sizeof wal, "%s/chain.db-wal", r->f.dir);
  struct stat st;
  assert_int_equal(stat(wal, &st), 0);
  print_message("      (%llu blocks, WAL %lld bytes)\n", (unsigned long long)r->log.height,
                (long long)st.st_size);
  assert_true(st.st_size < 1024 * 1024);
  assert_state_is_log(&r->f, &r->log);
  fx_chain_audit(&r->f);
  rig_free(r);
  free(r);
}

/* ------------------------------------------------------------------ */
/* A failed commit with a block executed above it                       */

/* Submits 4-transaction entries (two of alice's, two of bob's, and so
 * on: a block often stands on one of the same signer's) until the
 * sequencer fails or the test says stop, pacing itself a little. */
typedef struct submitter {
  rig *r;
  atomic_int stop;
  int rc;
} submitter;

static void *submitter_main(void *arg) {
  submitter *sb = arg;
  for (int i = 0; !atomic_load(&sb->stop) && !hanse_sequencer_failed(sb->r->seq); i++) {
    if (sb->r->log.submitted + 4 > LOG_TXS_MAX) break;
    sb->rc = workload_submit(&sb->r->w, (i >> 1) & 1, 4);
    if (sb->rc != HANSE_OK) break;
    pause_us(300);
  }
  return NULL;
}

/* The fault hook, on the committer thread inside SQLite's failing call:
 * hold the failing commit of block n until the sequencer has taken block
 * n+1 -- every block is one 4-transaction entry, so two blocks are taken
 * when 8 pooled transactions are not ready. Then let the error through. */
static void hold_commit(void *ctx) {
  hold *h = ctx;
  if (h->done) return;
  h->done = 1;
  for (int i = 0; i < WAIT_MS; i++) {
    size_t depth = hanse_mempool_depth(h->mp); /* first: a later add only */
    size_t ready = hanse_mempool_ready(h->mp); /* raises ready */
    if (depth - ready >= 8) {
      h->saw_above = 1;
      return;
    }
    pause_us(1000);
  }
}

static void commit_failure(int what) {
  fx_fault_register();
  rig *r = calloc(1, sizeof *r);
  assert_non_null(r);
  /* One 4-transaction entry per block, whatever the timing. */
  rig_start(r, FX_FAULT_VFS, 2, 4);
  submitter sb = {r, 0, HANSE_OK};
  pthread_t th;
  assert_int_equal(workload_submit(&r->w, 0, 1), HANSE_OK); /* the issue */
  assert_true(log_wait_acked(&r->log, 1) == 1);
  assert_int_equal(pthread_create(&th, NULL, submitter_main, &sb), 0);
  /* Some blocks commit; then the disk fails while transactions flow. */
  assert_true(log_wait_acked(&r->log, 1 + 6 * 4) >= 1 + 6 * 4);
  r->hold = (hold){r->mp, 0, 0};
  fx_fault_arm(what, hold_commit, &r->hold);
  int failed = wait_failed(r->seq);
  atomic_store(&sb.stop, 1);
  pthread_join(th, NULL);
  int hit = fx_faults_hit();
  assert_int_equal(sb.rc, HANSE_OK);
  assert_int_equal(failed, 1);
  assert_true(hit > 0);
  assert_int_equal(r->hold.saw_above, 1);
  assert_int_equal(hanse_store_failed(r->f.chain->writer), 1); /* sticky */

  /* Acknowledged: blocks 1..height in order, nothing after the failure;
   * the tip is the last of them. */
  log_assert_sound(&r->log);
  assert_true(r->log.failures >= 1);
  size_t acked = r->log.acked_txs;
  for (size_t k = 0; k < r->log.submitted; k++)
    assert_int_equal(r->log.delivered[k], k < acked);
  hanse_tip tip;
  hanse_chain_tip(r->f.chain, &tip);
  assert_true(tip.height == r->log.height);
  assert_memory_equal(tip.hash.b, r->log.hashes[r->log.height].b, HANSE_HASH_BYTES);

  /* The pool holds every unacknowledged transaction again, all ready,
   * and (the sequencer stopped) would hand them out in submission order:
   * the failed block's first, then the one above it, then the rest. */
  hanse_sequencer_stop(r->seq);
  r->seq = NULL;
  size_t left = r->log.submitted - acked;
  assert_true(left >= 8); /* at least the two blocks in flight */
  assert_int_equal(hanse_mempool_depth(r->mp), left);
  assert_int_equal(hanse_mempool_ready(r->mp), left);
  hanse_buf body;
  hanse_buf_init(&body);
  uint32_t txs = 0;
  hanse_mp_taken *t = hanse_mempool_take(r->mp, (uint32_t)left, hanse_mono_us(hanse_env_system()),
                                         &body, &txs);
  assert_non_null(t);
  assert_int_equal(txs, left);
  uint32_t n;
  const hanse_hash *ids = hanse_mp_taken_ids(t, &n);
  assert_int_equal(n, left);
  for (uint32_t i = 0; i < n; i++)
    assert_memory_equal(ids[i].b, r->log.ids[acked + i].b, HANSE_HASH_BYTES);
  hanse_mempool_done(r->mp, t, 0);
  hanse_buf_free(&body);
  rig_stop(r);

  /* Restart on a working disk: the start-up check passes and the chain is
   * exactly what was acknowledged -- nothing acknowledged lost, nothing
   * unacknowledged stored. */
  fx_fault_clear();
  hanse_reject rej;
  if (fx_chain_reopen(&r->f, NULL, &rej) != HANSE_OK)
    fail_msg("reopen: %s: %s", rej.code, rej.message);
  assert_int_equal(hanse_store_failed(r->f.chain->writer), 0);
  assert_store_is_log(&r->f, &r->log);
  assert_state_is_log(&r->f, &r->log);
  print_message("      (I/O error on %s: %llu blocks acknowledged, %zu transactions back "
                "in the pool)\n",
                what == FX_FAULT_SYNC ? "sync" : "write", (unsigned long long)r->log.height,
                left);
  fx_chain_audit(&r->f);
  rig_free(r);
  free(r);
}

static void test_sync_failure_two_in_flight(void **state) {
  (void)state;
  commit_failure(FX_FAULT_SYNC);
}

static void test_write_failure_two_in_flight(void **state) {
  (void)state;
  commit_failure(FX_FAULT_WRITE);
}

/* ------------------------------------------------------------------ */
/* A failed commit with nothing above it                                */

/* The last block fails and no transaction follows: the sequencer still
 * reports failure and the block's entries are ready again, without
 * waiting for a next block to notice. */
static void test_failure_when_idle(void **state) {
  (void)state;
  fx_fault_register();
  rig *r = calloc(1, sizeof *r);
  assert_non_null(r);
  rig_start(r, FX_FAULT_VFS, 2, 4);
  assert_int_equal(workload_submit(&r->w, 0, 1), HANSE_OK);
  assert_true(log_wait_acked(&r->log, 1) == 1);
  fx_fault_arm(FX_FAULT_SYNC, NULL, NULL);
  assert_int_equal(workload_submit(&r->w, 1, 4), HANSE_OK);
  assert_int_equal(wait_failed(r->seq), 1);
  assert_true(fx_faults_hit() > 0);
  fx_fault_clear();
  log_assert_sound(&r->log);
  assert_int_equal(r->log.failures, 1);
  assert_true(r->log.height == 1);
  assert_int_equal(hanse_mempool_depth(r->mp), 4);
  assert_int_equal(hanse_mempool_ready(r->mp), 4);
  rig_stop(r);
  hanse_reject rej;
  assert_int_equal(fx_chain_reopen(&r->f, NULL, &rej), HANSE_OK);
  assert_store_is_log(&r->f, &r->log);
  rig_free(r);
  free(r);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commits_in_order),
      cmocka_unit_test(test_ledger_pipelined),
      cmocka_unit_test(test_wal_bounded),
      cmocka_unit_test(test_sync_failure_two_in_flight),
      cmocka_unit_test(test_write_failure_two_in_flight),
      cmocka_unit_test(test_failure_when_idle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
