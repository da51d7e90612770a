/*
 * fuzz_body.c -- hanse_body_decode, then hanse_body_tx_root.
 *
 * An accepted body: the flattened list has exactly the transactions of its
 * entries, in order, each mapped to its entry; the root equals the Merkle
 * root over those ids computed directly; writing the entries back
 * (count, then type, length and bytes of each) gives the input exactly.
 * Signature checking of the whole body must not crash and must name a
 * transaction inside the body when it fails.
 */
#include <string.h>

#include "base/log.h"
#include "crypto/merkle.h"
#include "encoding/block.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hanse_body body;
  hanse_reject rej;
  int rc = hanse_body_decode(&body, data, size, &rej);
  if (rc != HANSE_OK) {
    FUZZ_CHECK(body.entries == NULL && body.txs == NULL);
    FUZZ_CHECK(rej.rc == rc);
    return 0;
  }
  FUZZ_CHECK(body.tx_count <= HANSE_BLOCK_TX_MAX);
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_buf_u32(&out, body.entry_count);
  uint32_t k = 0;
  for (uint32_t i = 0; i < body.entry_count; i++) {
    const hanse_entry *e = &body.entries[i];
    if (e->type == HANSE_ENTRY_TX) {
      FUZZ_CHECK(k < body.tx_count && body.txs[k] == &e->tx && body.tx_entry[k] == i);
      k++;
      hanse_body_entry_append(&out, e->type, e->tx.raw, e->tx.raw_len);
    } else {
      FUZZ_CHECK(e->type == HANSE_ENTRY_BATCH);
      for (uint32_t j = 0; j < e->batch.count; j++, k++)
        FUZZ_CHECK(k < body.tx_count && body.txs[k] == &e->batch.txs[j] &&
                   body.tx_entry[k] == i);
      hanse_body_entry_append(&out, e->type, e->batch.raw, e->batch.raw_len);
    }
  }
  FUZZ_CHECK(k == body.tx_count);
  FUZZ_CHECK(hanse_buf_status(&out) == HANSE_OK);
  FUZZ_CHECK(out.len == size && memcmp(out.data, data, size) == 0);
  hanse_buf_free(&out);

  hanse_hash root, want;
  FUZZ_CHECK(hanse_body_tx_root(&body, &root) == HANSE_OK);
  hanse_hash *ids = malloc((body.tx_count ? body.tx_count : 1) * sizeof *ids);
  FUZZ_CHECK(ids != NULL);
  for (uint32_t i = 0; i < body.tx_count; i++) ids[i] = body.txs[i]->id;
  FUZZ_CHECK(hanse_merkle_root_hashes(&want, ids, body.tx_count) == HANSE_OK);
  FUZZ_CHECK(hanse_hash_eq(&root, &want));
  free(ids);

  uint32_t bad = UINT32_MAX;
  if (!hanse_body_verify_sigs(&body, &bad)) FUZZ_CHECK(bad < body.tx_count);
  hanse_body_free(&body);
  return 0;
}
