/*
 * fuzz_batch.c -- hanse_batch_decode.
 *
 * An accepted batch holds 1..HANSE_BATCH_TX_MAX batched transactions, all
 * of its signer and chain, each lying inside the input; writing its
 * unsigned part back from the decoded fields (header, then each inner
 * transaction's own bytes with its length) must give exactly the bytes
 * the signature covers, and the signature must be the last 64 bytes.
 * Rejected input must leave nothing allocated (LeakSanitizer watches).
 */
#include <string.h>

#include "base/log.h"
#include "encoding/tx.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hanse_batch b;
  hanse_reject rej;
  int rc = hanse_batch_decode(&b, data, size, &rej);
  if (rc != HANSE_OK) {
    FUZZ_CHECK(b.txs == NULL);
    FUZZ_CHECK(rej.rc == rc);
    return 0;
  }
  FUZZ_CHECK(b.count >= 1 && b.count <= HANSE_BATCH_TX_MAX);
  FUZZ_CHECK(b.raw == data && b.raw_len == size);
  FUZZ_CHECK(b.signed_len + HANSE_SIG_BYTES == size);
  FUZZ_CHECK(memcmp(b.sig.b, data + b.signed_len, HANSE_SIG_BYTES) == 0);
  hanse_hash id;
  hanse_sha256(&id, data, size);
  FUZZ_CHECK(hanse_hash_eq(&id, &b.id));

  hanse_buf out;
  hanse_buf_init(&out);
  size_t cl = strlen(b.chain_id);
  hanse_buf_u8(&out, HANSE_TYPE_BATCH);
  hanse_buf_u8(&out, b.version);
  hanse_buf_u8(&out, (uint8_t)cl);
  hanse_buf_put(&out, b.chain_id, cl);
  hanse_buf_put(&out, b.signer.b, HANSE_PUBKEY_BYTES);
  hanse_buf_u32(&out, b.count);
  for (uint32_t i = 0; i < b.count; i++) {
    const hanse_tx *tx = &b.txs[i];
    FUZZ_CHECK(tx->flags & HANSE_TX_FLAG_BATCHED);
    FUZZ_CHECK(memcmp(tx->signer.b, b.signer.b, HANSE_PUBKEY_BYTES) == 0);
    FUZZ_CHECK(strcmp(tx->chain_id, b.chain_id) == 0);
    FUZZ_CHECK(tx->raw > data && tx->raw + tx->raw_len <= data + b.signed_len);
    hanse_buf_u32(&out, (uint32_t)tx->raw_len);
    hanse_buf_put(&out, tx->raw, tx->raw_len);
  }
  FUZZ_CHECK(hanse_buf_status(&out) == HANSE_OK);
  FUZZ_CHECK(out.len == b.signed_len);
  FUZZ_CHECK(memcmp(out.data, data, out.len) == 0);
  hanse_buf_free(&out);
  (void)hanse_batch_verify_sig(&b);
  hanse_batch_free(&b);
  FUZZ_CHECK(b.txs == NULL);
  return 0;
}
