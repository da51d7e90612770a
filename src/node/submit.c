/*
 * submit.c -- the submission path: from bytes to pooled transactions.
 *
 *   1. decode every entry and check it, in parallel on the pool: structure,
 *      signature (one per transaction, or one per batch), chain, module
 *      check (payload shape) for every transaction;
 *   2. in request order, add each good entry to the mempool; a sequence
 *      number below the signer's committed one is looked up in the store:
 *      if the very transaction is committed, its receipt is the answer
 *      (a resubmission commits once), otherwise it is stale;
 *   3. optionally wait until every accepted transaction is committed.
 *
 * Nothing here writes to the store; a rejected entry leaves no trace.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "encoding/block.h"
#include "node/node.h"

typedef struct checked {
  uint8_t type;
  int rc;                     /* HANSE_OK or rejection */
  hanse_reject rej;
  int64_t bad_tx;             /* index inside a batch of the failing tx */
  hanse_tx tx;
  hanse_batch batch;
  int batch_live;
} checked;

typedef struct submit_job {
  hanse_node_chain *nc;
  const hanse_submit_entry *entries;
  checked *out;
} submit_job;

static void check_one(void *ctx, size_t i) {
  submit_job *job = ctx;
  const hanse_submit_entry *e = &job->entries[i];
  checked *c = &job->out[i];
  const char *chain_id = job->nc->chain->chain_id;
  c->type = e->type;
  c->bad_tx = -1;
  hanse_reject_clear(&c->rej);
  if (e->type == HANSE_ENTRY_TX) {
    c->rc = hanse_tx_decode(&c->tx, e->raw, e->len, 0, &c->rej);
    if (c->rc != HANSE_OK) return;
    if (!hanse_tx_verify_sig(&c->tx)) {
      c->rc = hanse_reject_set(&c->rej, HANSE_ERR(TX_BAD_SIGNATURE), NULL);
      return;
    }
    c->rc = hanse_tx_check(&c->tx, chain_id, NULL, &c->rej);
    return;
  }
  if (e->type != HANSE_ENTRY_BATCH) {
    c->rc = hanse_reject_set(&c->rej, HANSE_ERR(DECODE_BAD_TYPE),
                             "entry type 0x%02x is neither a transaction nor a batch", e->type);
    return;
  }
  c->rc = hanse_batch_decode(&c->batch, e->raw, e->len, &c->rej);
  if (c->rc != HANSE_OK) return;
  c->batch_live = 1;
  if (!hanse_batch_verify_sig(&c->batch)) {
    c->rc = hanse_reject_set(&c->rej, HANSE_ERR(TX_BAD_SIGNATURE), "batch signature does not verify");
    return;
  }
  for (uint32_t k = 0; k < c->batch.count; k++) {
    const hanse_tx *t = &c->batch.txs[k];
    if (t->seq != c->batch.txs[0].seq + k) {
      c->bad_tx = k;
      c->rc = hanse_reject_set(&c->rej, HANSE_ERR(BATCH_BAD_SEQUENCE),
                               "batch transaction %u: sequence numbers must be consecutive", k);
      return;
    }
    c->rc = hanse_tx_check(t, chain_id, NULL, &c->rej);
    if (c->rc != HANSE_OK) {
      c->bad_tx = k;
      hanse_reject_prefix(&c->rej, "batch transaction %u", k);
      return;
    }
  }
}

/* Transactions of a checked entry: count and id access. */
static uint32_t entry_txs(const checked *c) {
  if (c->type == HANSE_ENTRY_BATCH && c->batch_live) return c->batch.count;
  return 1;
}

static int all_committed(hanse_node_chain *nc, const hanse_submit_result *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (r[i].status == HANSE_SUBMIT_PENDING && hanse_mempool_contains(nc->mp, &r[i].id))
      return 0;
  return 1;
}

static void fill_committed(hanse_node_chain *nc, hanse_submit_result *r, size_t n) {
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return;
  for (size_t i = 0; i < n; i++) {
    if (r[i].status != HANSE_SUBMIT_PENDING) continue;
    if (hanse_store_tx_get(rd, &r[i].id, &r[i].receipt) == HANSE_OK)
      r[i].status = HANSE_SUBMIT_COMMITTED;
  }
  hanse_chain_reader_release(nc->chain, rd);
}

int hanse_node_submit(hanse_node_chain *nc, const hanse_submit_entry *entries,
                      size_t n, int wait_ms, hanse_submit_result **results,
                      size_t *nresults) {
  hanse_node *node = nc->node;
  *results = NULL;
  *nresults = 0;
  checked *cs = calloc(n ? n : 1, sizeof *cs);
  if (cs == NULL) return HANSE_ERR(NOMEM);
  submit_job job = {nc, entries, cs};
  hanse_pool_run(node->pool, n, check_one, &job);

  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += entry_txs(&cs[i]);
  hanse_submit_result *rs = calloc(total ? total : 1, sizeof *rs);
  hanse_hash *ids = malloc(HANSE_BATCH_TX_MAX * sizeof *ids);
  if (rs == NULL || ids == NULL) {
    free(rs);
    free(ids);
    for (size_t i = 0; i < n; i++)
      if (cs[i].batch_live) hanse_batch_free(&cs[i].batch);
    free(cs);
    return HANSE_ERR(NOMEM);
  }
  uint64_t now = hanse_mono_us(node->env);
  size_t k = 0, accepted = 0;
  hanse_store *rd = NULL;
  for (size_t i = 0; i < n; i++) {
    checked *c = &cs[i];
    uint32_t m = entry_txs(c);
    hanse_submit_result *r = &rs[k];
    /* Ids of the entry's transactions. */
    int decoded = c->type == HANSE_ENTRY_BATCH ? c->batch_live : c->tx.raw != NULL;
    for (uint32_t j = 0; j < m; j++) {
      hanse_reject_clear(&r[j].rej);
      if (decoded) {
        r[j].has_id = 1;
        r[j].id = c->type == HANSE_ENTRY_BATCH ? c->batch.txs[j].id : c->tx.id;
        ids[j] = r[j].id;
      }
    }
    if (c->rc != HANSE_OK) {
      for (uint32_t j = 0; j < m; j++) {
        r[j].status = HANSE_SUBMIT_REJECTED;
        if (c->bad_tx >= 0 && (int64_t)j != c->bad_tx)
          hanse_reject_set(&r[j].rej, HANSE_ERR(BATCH_REJECTED),
                           "batch transaction %lld was rejected: %s", (long long)c->bad_tx,
                           c->rej.code);
        else
          r[j].rej = c->rej;
      }
      hanse_metrics_reject(&nc->metrics, "submit", c->rej.code, m);
      k += m;
      continue;
    }
    hanse_mp_add a;
    memset(&a, 0, sizeof a);
    a.type = c->type;
    a.raw = entries[i].raw;
    a.raw_len = entries[i].len;
    a.ids = ids;
    a.arrival_us = now;
    if (c->type == HANSE_ENTRY_BATCH) {
      a.signer = c->batch.signer;
      a.seq_first = c->batch.txs[0].seq;
      a.seq_last = c->batch.txs[m - 1].seq;
    } else {
      a.signer = c->tx.signer;
      a.seq_first = a.seq_last = c->tx.seq;
    }
    hanse_mp_status st;
    hanse_reject rej;
    hanse_reject_clear(&rej);
    int rc = hanse_mempool_add(nc->mp, &a, &st, &rej);
    if (rc == HANSE_ERR(TX_STALE_SEQUENCE)) {
      /* Committed already? Then this is a resubmission: report it. */
      if (rd == NULL) rd = hanse_chain_reader_acquire(nc->chain);
      hanse_receipt rec;
      if (rd && hanse_store_tx_get(rd, &ids[0], &rec) == HANSE_OK) {
        for (uint32_t j = 0; j < m; j++) {
          r[j].status = HANSE_SUBMIT_COMMITTED;
          if (hanse_store_tx_get(rd, &ids[j], &r[j].receipt) != HANSE_OK) r[j].receipt = rec;
        }
        accepted += m;
        k += m;
        continue;
      }
    }
    if (rc != HANSE_OK) {
      for (uint32_t j = 0; j < m; j++) {
        r[j].status = HANSE_SUBMIT_REJECTED;
        r[j].rej = rej;
      }
      hanse_metrics_reject(&nc->metrics, "submit", rej.code, m);
    } else {
      for (uint32_t j = 0; j < m; j++) r[j].status = HANSE_SUBMIT_PENDING;
      accepted += m;
      if (st == HANSE_MP_ADDED) atomic_fetch_add(&nc->metrics.txs_submitted_total, m);
    }
    k += m;
  }
  HANSE_ASSERT(k == total);
  if (rd) hanse_chain_reader_release(nc->chain, rd);
  for (size_t i = 0; i < n; i++)
    if (cs[i].batch_live) hanse_batch_free(&cs[i].batch);
  free(cs);
  free(ids);

  if (wait_ms > 0 && accepted > 0) {
    uint64_t deadline = hanse_mono_us(node->env) + (uint64_t)wait_ms * 1000u;
    pthread_mutex_lock(&node->commit_mu);
    while (!all_committed(nc, rs, total)) {
      uint64_t t = hanse_mono_us(node->env);
      if (t >= deadline) break;
      uint64_t until = t + 50000 < deadline ? t + 50000 : deadline;
      struct timespec ts = {(time_t)(until / 1000000), (long)(until % 1000000) * 1000};
      pthread_cond_timedwait(&node->commit_cv, &node->commit_mu, &ts);
    }
    pthread_mutex_unlock(&node->commit_mu);
    fill_committed(nc, rs, total);
  }
  *results = rs;
  *nresults = total;
  return HANSE_OK;
}
