/*
 * inclusion.c -- checking a transaction's inclusion proof from bytes
 * alone (the steps and codes are in inclusion.h).
 *
 * The order matters for the messages a reader gets, and for cost: the
 * cheap decodings come before each signature, and the Merkle path, which
 * only means something once the header is known to be genuine, comes
 * last. A batched transaction is matched against its batch byte for
 * byte: the batch's signature covers the batch's bytes, so only a
 * transaction that is literally inside them is covered.
 *
 * Messages keep the wording the client library has always used ("the
 * raw transaction does not decode", "the Merkle path does not lead ...");
 * callers and their tests rely on it.
 */
#include <string.h>

#include "base/log.h"
#include "encoding/inclusion.h"

/* Step 1 for a batched transaction whose batch is given: the batch
 * decodes, is signed, and holds exactly these bytes. */
static int check_batch(const hanse_inclusion *in, int flags, hanse_reject *rej) {
  hanse_batch b;
  hanse_reject why;
  hanse_reject_clear(&why);
  int rc = hanse_batch_decode(&b, in->batch, in->batch_len, &why);
  if (rc == HANSE_ERR(NOMEM)) return hanse_reject_set(rej, rc, NULL);
  if (rc != HANSE_OK)
    return hanse_reject_code(rej, "proof.bad_batch", 400, "the batch does not decode: %s",
                             why.message);
  int found = 0;
  for (uint32_t i = 0; i < b.count && !found; i++)
    found = b.txs[i].raw_len == in->tx_len && memcmp(b.txs[i].raw, in->tx, in->tx_len) == 0;
  int sig_ok = (flags & HANSE_INCLUSION_NO_SIGS) || hanse_batch_verify_sig(&b);
  hanse_batch_free(&b);
  if (!found)
    return hanse_reject_code(rej, "proof.bad_batch", 400,
                             "the batch does not hold the transaction");
  if (!sig_ok)
    return hanse_reject_code(rej, "proof.bad_signature", 400,
                             "the batch's signature does not verify");
  return HANSE_OK;
}

int hanse_inclusion_verify(const hanse_inclusion *in, int flags, hanse_included *out,
                           hanse_reject *rej) {
  HANSE_ASSERT(in != NULL && out != NULL);
  HANSE_ASSERT(in->path != NULL || in->path_len == 0);
  memset(out, 0, sizeof *out);
  int sigs = !(flags & HANSE_INCLUSION_NO_SIGS);
  hanse_reject why;

  /* 1. The transaction. */
  hanse_reject_clear(&why);
  if (in->tx == NULL || hanse_tx_decode(&out->tx, in->tx, in->tx_len, in->batched != 0, &why) != HANSE_OK)
    return hanse_reject_code(rej, "proof.bad_tx", 400, "the raw transaction does not decode: %s",
                             why.message);
  if (in->batched && in->batch != NULL) {
    int rc = check_batch(in, flags, rej);
    if (rc != HANSE_OK) return rc;
  }
  if (!in->batched && sigs && !hanse_tx_verify_sig(&out->tx))
    return hanse_reject_code(rej, "proof.bad_signature", 400,
                             "the transaction's signature does not verify");

  /* 2. The header. */
  hanse_reject_clear(&why);
  if (in->header == NULL || hanse_header_decode(&out->header, in->header, in->header_len, &why) != HANSE_OK)
    return hanse_reject_code(rej, "proof.bad_header", 400, "the header does not decode: %s",
                             why.message);
  hanse_header_hash(&out->header, &out->block_hash);
  if (in->block_hash != NULL && !hanse_hash_eq(in->block_hash, &out->block_hash))
    return hanse_reject_code(rej, "proof.bad_block_hash", 400,
                             "the header does not hash to block_hash");
  if (sigs && !hanse_header_verify_sig(&out->header))
    return hanse_reject_code(rej, "proof.bad_header_signature", 400,
                             "the proposer's signature on the header does not verify");

  /* 3. One chain. */
  if (strcmp(out->tx.chain_id, out->header.chain_id) != 0)
    return hanse_reject_code(rej, "proof.wrong_chain", 400,
                             "the transaction is for chain '%s', its header of '%s'",
                             out->tx.chain_id, out->header.chain_id);

  /* 4. The leaves. */
  if (in->tx_count != out->header.tx_count)
    return hanse_reject_code(rej, "proof.bad_index", 400,
                             "the proof's tx_count is not the header's");
  if (in->index >= in->tx_count)
    return hanse_reject_code(rej, "proof.bad_index", 400, "the proof's index is outside the block");

  /* 5. The path. */
  if (in->path_len > HANSE_MERKLE_PATH_MAX)
    return hanse_reject_code(rej, "proof.bad_path", 400,
                             "the proof's path is longer than %d hashes", HANSE_MERKLE_PATH_MAX);
  if (!hanse_merkle_verify(&out->header.tx_root, out->tx.id.b, sizeof out->tx.id.b,
                           (size_t)in->index, out->header.tx_count, in->path, in->path_len))
    return hanse_reject_code(rej, "proof.bad_path", 400,
                             "the Merkle path does not lead from the transaction to the tx_root");
  return HANSE_OK;
}
