/*
 * fuzz_tx.c -- hanse_tx_decode, alone (signed) and as inside a batch.
 *
 * The same bytes go to both modes: the flags byte decides which one may
 * accept, so at most one does. An accepted transaction must re-encode
 * (hanse_tx_encode from the decoded fields) to its exact bytes, its id
 * must be SHA-256 of them, and its borrowed pointers must stay inside the
 * input. Signature checking runs on accepted signed transactions (it must
 * not crash; random signatures simply fail).
 */
#include <string.h>

#include "base/log.h"
#include "encoding/tx.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

static void check_accepted(const hanse_tx *tx, const uint8_t *data, size_t size,
                           int batched) {
  FUZZ_CHECK(tx->raw == data && tx->raw_len == size);
  FUZZ_CHECK(((tx->flags & HANSE_TX_FLAG_BATCHED) != 0) == batched);
  FUZZ_CHECK(tx->seq >= 1);
  FUZZ_CHECK(tx->payload_len <= HANSE_PAYLOAD_MAX);
  FUZZ_CHECK(tx->payload >= data && tx->payload + tx->payload_len <= data + size);
  FUZZ_CHECK(tx->signed_len == (batched ? size : size - HANSE_SIG_BYTES));
  FUZZ_CHECK(hanse_chain_id_valid(tx->chain_id, strlen(tx->chain_id)));
  FUZZ_CHECK(hanse_kind_valid(tx->kind, strlen(tx->kind)));
  hanse_hash id;
  hanse_sha256(&id, data, size);
  FUZZ_CHECK(hanse_hash_eq(&id, &tx->id));

  /* Re-encode the unsigned part: the encoder writes the batched form, so
   * a signed transaction differs only in its flags byte and the missing
   * signature. */
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_tx_fields f = {tx->chain_id, tx->kind, &tx->signer, tx->seq, tx->time_ms,
                       (const char *)tx->payload, tx->payload_len};
  hanse_reject rej;
  FUZZ_CHECK(hanse_tx_encode(&b, &f, NULL, &rej) == HANSE_OK);
  FUZZ_CHECK(b.len == tx->signed_len);
  if (!batched) b.data[2] = 0;
  FUZZ_CHECK(memcmp(b.data, data, b.len) == 0);
  if (!batched) {
    FUZZ_CHECK(memcmp(tx->sig.b, data + tx->signed_len, HANSE_SIG_BYTES) == 0);
    (void)hanse_tx_verify_sig(tx);
  }
  hanse_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hanse_tx tx;
  hanse_reject rej;
  int accepted = 0;
  for (int batched = 0; batched <= 1; batched++) {
    hanse_reject_clear(&rej);
    int rc = hanse_tx_decode(&tx, data, size, batched, &rej);
    if (rc == HANSE_OK) {
      accepted++;
      check_accepted(&tx, data, size, batched);
    } else {
      FUZZ_CHECK(rc < 0);
      FUZZ_CHECK(rej.rc == rc);
      FUZZ_CHECK(memchr(rej.code, 0, sizeof rej.code) != NULL);
      FUZZ_CHECK(memchr(rej.message, 0, sizeof rej.message) != NULL);
    }
  }
  FUZZ_CHECK(accepted <= 1);
  return 0;
}
