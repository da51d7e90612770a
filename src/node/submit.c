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
  json_t *payload;            /* the checked payload of a single tx */
  json_t **payloads;          /* of each tx of a batch (batch.count) */
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
    c->rc = hanse_tx_check(&c->tx, chain_id, &c->payload, &c->rej);
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
  c->payloads = calloc(c->batch.count, sizeof *c->payloads);
  if (c->payloads == NULL) {
    c->rc = hanse_reject_set(&c->rej, HANSE_ERR(NOMEM), NULL);
    return;
  }
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
    c->rc = hanse_tx_check(t, chain_id, &c->payloads[k], &c->rej);
    if (c->rc != HANSE_OK) {
      c->bad_tx = k;
      hanse_reject_prefix(&c->rej, "batch transaction %u", k);
      return;
    }
  }
}

static void checked_free(checked *cs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    json_decref(cs[i].payload);
    if (cs[i].payloads)
      for (uint32_t j = 0; j < cs[i].batch.count; j++) json_decref(cs[i].payloads[j]);
    free(cs[i].payloads);
    if (cs[i].batch_live) hanse_batch_free(&cs[i].batch);
  }
  free(cs);
}

/* Transactions of a checked entry: count and id access. */
static uint32_t entry_txs(const checked *c) {
  if (c->type == HANSE_ENTRY_BATCH && c->batch_live) return c->batch.count;
  return 1;
}

int hanse_node_submit(hanse_node_chain *nc, const hanse_submit_entry *entries,
                      size_t n, int wait_ms, hanse_submit_result **results,
                      size_t *nresults) {
  hanse_node *node = nc->node;
  *results = NULL;
  *nresults = 0;
  if (hanse_consensus_failed(nc->cons)) return HANSE_ERR(STORE_FAILED);
  checked *cs = calloc(n ? n : 1, sizeof *cs);
  if (cs == NULL) return HANSE_ERR(NOMEM);
  submit_job job = {nc, entries, cs};
  hanse_pool_run(node->pool, n, check_one, &job);

  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += entry_txs(&cs[i]);
  if (total > HANSE_SUBMIT_TX_MAX) {
    checked_free(cs, n);
    return HANSE_ERR(SUBMIT_TOO_MANY);
  }
  hanse_submit_result *rs = calloc(total ? total : 1, sizeof *rs);
  hanse_hash *ids = calloc(total ? total : 1, sizeof *ids);
  int *has_id = calloc(total ? total : 1, sizeof *has_id);
  int rc = HANSE_OK;
  if (rs == NULL || ids == NULL || has_id == NULL) {
    rc = HANSE_ERR(NOMEM);
    goto out;
  }
  /* Ids of every decoded transaction, in request order. */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    checked *c = &cs[i];
    uint32_t m = entry_txs(c);
    int decoded = c->type == HANSE_ENTRY_BATCH ? c->batch_live : c->tx.raw != NULL;
    for (uint32_t j = 0; j < m; j++, k++) {
      hanse_reject_clear(&rs[k].rej);
      if (!decoded) continue;
      rs[k].has_id = has_id[k] = 1;
      rs[k].id = ids[k] = c->type == HANSE_ENTRY_BATCH ? c->batch.txs[j].id : c->tx.id;
    }
  }
  HANSE_ASSERT(k == total);
  /* A waiting request registers before its transactions can commit. */
  hanse_waiter w;
  memset(&w, 0, sizeof w);
  int waiting = wait_ms > 0;
  if (waiting) {
    w.n = total;
    w.ids = ids;
    w.has_id = has_id;
    w.got = calloc(total ? total : 1, 1);
    w.receipts = calloc(total ? total : 1, sizeof *w.receipts);
    if (w.got == NULL || w.receipts == NULL || hanse_waiters_register(&nc->waiters, &w) != HANSE_OK) {
      free(w.got);
      free(w.receipts);
      rc = HANSE_ERR(NOMEM);
      goto out;
    }
  }

  uint64_t now = hanse_mono_us(node->env);
  hanse_store *rd = NULL;
  k = 0;
  for (size_t i = 0; i < n; i++) {
    checked *c = &cs[i];
    uint32_t m = entry_txs(c);
    hanse_submit_result *r = &rs[k];
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
    a.ids = &ids[k];
    a.payloads = c->type == HANSE_ENTRY_BATCH ? c->payloads : &c->payload;
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
    int arc = hanse_mempool_add(nc->mp, &a, &st, &rej);
    if (arc == HANSE_ERR(TX_STALE_SEQUENCE)) {
      /* Committed already? Then this is a resubmission: each transaction
       * found in the store reports its own receipt; any other one of the
       * entry is stale (never "committed" on another's behalf). */
      if (rd == NULL) rd = hanse_chain_reader_acquire(nc->chain);
      uint32_t found = 0;
      for (uint32_t j = 0; rd && j < m; j++) {
        if (hanse_store_tx_get(rd, &ids[k + j], &r[j].receipt) == HANSE_OK) {
          r[j].status = HANSE_SUBMIT_COMMITTED;
          found++;
        } else {
          r[j].status = HANSE_SUBMIT_REJECTED;
          r[j].rej = rej;
        }
      }
      if (found > 0) {
        if (found < m) hanse_metrics_reject(&nc->metrics, "submit", rej.code, m - found);
        k += m;
        continue;
      }
    }
    if (arc != HANSE_OK) {
      for (uint32_t j = 0; j < m; j++) {
        r[j].status = HANSE_SUBMIT_REJECTED;
        r[j].rej = rej;
      }
      hanse_metrics_reject(&nc->metrics, "submit", rej.code, m);
    } else {
      for (uint32_t j = 0; j < m; j++) r[j].status = HANSE_SUBMIT_PENDING;
      if (st == HANSE_MP_ADDED) atomic_fetch_add(&nc->metrics.txs_submitted_total, m);
    }
    k += m;
  }
  HANSE_ASSERT(k == total);
  if (rd) hanse_chain_reader_release(nc->chain, rd);

  if (waiting) {
    uint8_t *want = calloc(total ? total : 1, 1);
    if (want) {
      for (size_t i = 0; i < total; i++) want[i] = rs[i].status == HANSE_SUBMIT_PENDING;
      uint64_t deadline = hanse_mono_us(node->env) + (uint64_t)wait_ms * 1000u;
      hanse_waiters_wait(&nc->waiters, &w, want, deadline);
    }
    hanse_waiters_unregister(&nc->waiters, &w);
    for (size_t i = 0; i < total; i++) {
      if (want && want[i] && w.got[i]) {
        rs[i].status = HANSE_SUBMIT_COMMITTED;
        rs[i].receipt = w.receipts[i];
      }
    }
    free(want);
    free(w.got);
    free(w.receipts);
  }
out:
  checked_free(cs, n);
  free(ids);
  free(has_id);
  if (rc != HANSE_OK) {
    free(rs);
    return rc;
  }
  *results = rs;
  *nresults = total;
  return HANSE_OK;
}
