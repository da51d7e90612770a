/*
 * fuzz_rowpack.c -- hanse_rowpack_next: a pack of derived index rows as
 * stored in idx_log and idx_chunks (storage/rowpack.h), which every index
 * scan and fold reads back from disk.
 *
 * Any input must be read to its end or refused with CHAIN_BROKEN (never a
 * crash or an assertion); once refused, the reader keeps refusing. Rows
 * borrow from the input. An accepted pack is canonical: writing its rows
 * back with hanse_rowpack_put gives exactly the input bytes.
 */
#include <string.h>

#include "base/err.h"
#include "storage/rowpack.h"
#include "storage/store.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hanse_rowpack_rd rd;
  hanse_rowpack_rd_init(&rd, data, size);
  hanse_buf again;
  hanse_buf_init(&again);
  const uint8_t *prev = NULL;
  size_t prev_len = 0;
  int rc, rows = 0;
  while ((rc = hanse_rowpack_next(&rd)) == HANSE_OK) {
    FUZZ_CHECK(rd.klen <= HANSE_ROWPACK_KEY_MAX);
    FUZZ_CHECK(rd.klen == 0 || (rd.key >= data && rd.key + rd.klen <= data + size));
    FUZZ_CHECK(rd.vlen == 0 || (rd.val >= data && rd.val + rd.vlen <= data + size));
    FUZZ_CHECK(rows == 0 || hanse_store_key_cmp(prev, prev_len, rd.key, rd.klen) < 0);
    prev = rd.key;
    prev_len = rd.klen;
    hanse_rowpack_put(&again, rd.key, rd.klen, rd.val, rd.vlen);
    rows++;
  }
  FUZZ_CHECK(rc == HANSE_ERR(NOT_FOUND) || rc == HANSE_ERR(CHAIN_BROKEN));
  if (rc == HANSE_ERR(CHAIN_BROKEN)) {
    FUZZ_CHECK(hanse_rowpack_next(&rd) == HANSE_ERR(CHAIN_BROKEN));
  } else {
    FUZZ_CHECK(hanse_buf_status(&again) == HANSE_OK);
    FUZZ_CHECK(again.len == size && (size == 0 || memcmp(again.data, data, size) == 0));
  }
  hanse_buf_free(&again);
  return 0;
}
