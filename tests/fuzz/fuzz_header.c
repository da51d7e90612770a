/*
 * fuzz_header.c -- hanse_header_decode.
 *
 * An accepted header must re-encode to exactly the input bytes (one value,
 * one encoding), hash to SHA-256 of everything before its signature, and
 * survive a signature check.
 */
#include <string.h>

#include "base/log.h"
#include "encoding/block.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hanse_header h;
  hanse_reject rej;
  int rc = hanse_header_decode(&h, data, size, &rej);
  if (rc != HANSE_OK) {
    FUZZ_CHECK(rej.rc == rc);
    return 0;
  }
  FUZZ_CHECK(size <= HANSE_BLOCK_HEADER_MAX);
  FUZZ_CHECK(h.tx_count <= HANSE_BLOCK_TX_MAX);
  hanse_buf b;
  hanse_buf_init(&b);
  FUZZ_CHECK(hanse_header_encode(&b, &h) == HANSE_OK);
  FUZZ_CHECK(b.len == size);
  FUZZ_CHECK(memcmp(b.data, data, size) == 0);
  hanse_buf_free(&b);
  hanse_hash want, got;
  hanse_sha256(&want, data, size - HANSE_SIG_BYTES);
  hanse_header_hash(&h, &got);
  FUZZ_CHECK(hanse_hash_eq(&want, &got));
  (void)hanse_header_verify_sig(&h);
  return 0;
}
