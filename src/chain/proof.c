/*
 * proof.c -- inclusion proofs of committed transactions.
 *
 * A proof lets anyone holding a block header check that a transaction is in
 * the block: the transaction's id is a leaf of the header's tx_root, and the
 * audit path (RFC 6962) leads from the leaf to the root.
 */
#include <string.h>

#include "chain/chain_internal.h"
#include "crypto/merkle.h"

void hanse_tx_proof_free(hanse_tx_proof *p) {
  free(p->raw);
  free(p->batch_raw);
  p->raw = p->batch_raw = NULL;
}

int hanse_chain_tx_proof(hanse_store *reader, const hanse_hash *id,
                         hanse_tx_proof *p, hanse_reject *rej) {
  memset(p, 0, sizeof *p);
  int rc = hanse_store_tx_get(reader, id, &p->receipt);
  if (rc == HANSE_ERR(NOT_FOUND))
    return hanse_reject_set(rej, rc, "no committed transaction with this id");
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  hanse_block_row row;
  rc = hanse_store_block_get(reader, p->receipt.height, 1, &row);
  if (rc != HANSE_OK) return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "block of the transaction is missing");
  hanse_body body;
  memset(&body, 0, sizeof body);
  rc = hanse_header_decode(&p->header, row.header, row.header_len, rej);
  if (rc == HANSE_OK) rc = hanse_body_decode(&body, row.body, row.body_len, rej);
  if (rc != HANSE_OK) {
    hanse_block_row_free(&row);
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "stored block does not decode");
  }
  p->block_hash = row.hash;
  uint32_t i = p->receipt.index;
  if (i >= body.tx_count || !hanse_hash_eq(&body.txs[i]->id, id)) {
    rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "transaction index does not match its block");
    goto done;
  }
  hanse_hash *ids = malloc(body.tx_count * sizeof *ids);
  if (ids == NULL) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto done;
  }
  for (uint32_t k = 0; k < body.tx_count; k++) ids[k] = body.txs[k]->id;
  rc = hanse_merkle_proof(p->path, &p->path_len, ids, body.tx_count, i);
  free(ids);
  if (rc != HANSE_OK) goto done;
  const hanse_tx *tx = body.txs[i];
  p->raw = malloc(tx->raw_len);
  if (p->raw == NULL) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto done;
  }
  memcpy(p->raw, tx->raw, tx->raw_len);
  p->raw_len = tx->raw_len;
  p->signer = tx->signer;
  p->seq = tx->seq;
  memcpy(p->kind, tx->kind, sizeof p->kind);
  const hanse_entry *e = &body.entries[body.tx_entry[i]];
  if (e->type == HANSE_ENTRY_BATCH) {
    p->batched = 1;
    p->batch_id = e->batch.id;
    p->batch_raw = malloc(e->batch.raw_len);
    if (p->batch_raw == NULL) {
      rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
      goto done;
    }
    memcpy(p->batch_raw, e->batch.raw, e->batch.raw_len);
    p->batch_raw_len = e->batch.raw_len;
  }
done:
  hanse_body_free(&body);
  hanse_block_row_free(&row);
  if (rc != HANSE_OK) hanse_tx_proof_free(p);
  return rc;
}
