/*
 * fuzz_history.c -- hanse_history_reader: a block's audit-trail blob as
 * stored in history_blocks (storage/store.h), which `hanse verify` and the
 * history API read back from disk.
 *
 * Any input must be read to its end or refused with CHAIN_BROKEN (never a
 * crash or an assertion); once refused, the reader keeps refusing. An
 * accepted blob is canonical: writing its rows back with a
 * hanse_history_writer gives exactly the input bytes, and skipping group by
 * group visits the same groups.
 */
#include <string.h>

#include "base/err.h"
#include "storage/store.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, data, size, 7);
  hanse_buf again;
  hanse_buf_init(&again);
  hanse_history_writer w;
  hanse_history_writer_init(&w, &again);
  hanse_history_row r;
  int rc;
  size_t rows = 0;
  while ((rc = hanse_history_next(&rd, &r)) == HANSE_OK) {
    FUZZ_CHECK(HANSE_POS_HEIGHT(r.pos) == 7);
    FUZZ_CHECK(r.op == HANSE_HISTORY_PUT || r.op == HANSE_HISTORY_DEL);
    FUZZ_CHECK(r.klen == 0 || (r.key >= data && r.key + r.klen <= data + size));
    hanse_history_put(&w, &r);
    rows++;
  }
  FUZZ_CHECK(rc == HANSE_ERR(NOT_FOUND) || rc == HANSE_ERR(CHAIN_BROKEN));
  if (rc == HANSE_ERR(CHAIN_BROKEN)) {
    FUZZ_CHECK(hanse_history_next(&rd, &r) == HANSE_ERR(CHAIN_BROKEN));
  } else {
    FUZZ_CHECK(hanse_buf_status(&again) == HANSE_OK);
    FUZZ_CHECK(again.len == size && (size == 0 || memcmp(again.data, data, size) == 0));
    /* Group by group: the same bytes are accepted. */
    hanse_history_reader g;
    hanse_history_reader_init(&g, data, size, 7);
    size_t counted = 0;
    while ((rc = hanse_history_next_group(&g)) == HANSE_OK) counted += g.count;
    FUZZ_CHECK(rc == HANSE_ERR(NOT_FOUND) && counted == rows);
  }
  hanse_buf_free(&again);
  return 0;
}
