/*
 * fuzz_raft_entry.c -- hanse_raft_block_entry_decode,
 * hanse_raft_checkpoint_decode and hanse_raft_block_stream_next: the Raft
 * log entries and snapshot descriptors a node receives from its peers,
 * and the block streams it fetches from them to catch up
 * (consensus/raft_entry.h).
 *
 * Any input is decoded or refused without a crash; an accepted entry's
 * parts lie inside the input, and encoding them again gives exactly the
 * input bytes (the layout has one spelling, padding included). A stream
 * read to its end re-encodes, entry by entry, to the bytes it was read
 * from.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/raft_entry.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hanse_raft_block_entry e;
  if (hanse_raft_block_entry_decode(data, size, &e) == HANSE_OK) {
    FUZZ_CHECK(e.header >= data && e.header + e.header_len <= data + size);
    FUZZ_CHECK(e.body_len == 0 || (e.body >= data && e.body + e.body_len <= data + size));
    size_t n = hanse_raft_block_entry_size(e.header_len, e.body_len);
    FUZZ_CHECK(n == size);
    uint8_t *out = malloc(n);
    FUZZ_CHECK(out != NULL);
    hanse_raft_block_entry_encode(out, e.height, e.header, e.header_len, e.body, e.body_len);
    FUZZ_CHECK(memcmp(out, data, n) == 0);
    free(out);
  }
  uint64_t height;
  hanse_hash tip, digest;
  if (hanse_raft_checkpoint_decode(data, size, &height, &tip, &digest) == HANSE_OK) {
    uint8_t out[HANSE_RAFT_CHECKPOINT_BYTES];
    hanse_raft_checkpoint_encode(out, height, &tip, &digest);
    FUZZ_CHECK(size == sizeof out && memcmp(out, data, sizeof out) == 0);
  }
  hanse_buf again;
  hanse_buf_init(&again);
  size_t off = 0;
  int rc;
  while ((rc = hanse_raft_block_stream_next(data, size, &off, &e)) == HANSE_OK) {
    FUZZ_CHECK(off <= size);
    FUZZ_CHECK(hanse_raft_block_stream_put(&again, e.height, e.header, e.header_len, e.body,
                                           e.body_len) == HANSE_OK);
  }
  if (rc == HANSE_ERR(NOT_FOUND))
    FUZZ_CHECK(off == size && again.len == size && (size == 0 || memcmp(again.data, data, size) == 0));
  hanse_buf_free(&again);
  return 0;
}
