/*
 * raft_entry.c -- encoding of the cluster's Raft log entries and snapshot
 * descriptor (layouts in raft_entry.h). Both are written by this node's
 * own code and read back from a peer or from disk, so the decoders check
 * every length and refuse anything else rather than trusting it.
 */
#include "consensus/raft_entry.h"

#include <stdint.h>
#include <string.h>

#include "base/err.h"

size_t hanse_raft_block_entry_size(size_t header_len, size_t body_len) {
  size_t n = HANSE_RAFT_BLOCK_PREFIX_BYTES + header_len + body_len;
  return (n + 7) & ~(size_t)7;
}

void hanse_raft_block_entry_encode(uint8_t *out, uint64_t height, const uint8_t *header,
                                   size_t header_len, const uint8_t *body, size_t body_len) {
  out[0] = HANSE_RAFT_ENTRY_BLOCK;
  hanse_put_u64be(out + 1, height);
  hanse_put_u32be(out + 9, (uint32_t)header_len);
  hanse_put_u32be(out + 13, (uint32_t)body_len);
  size_t n = HANSE_RAFT_BLOCK_PREFIX_BYTES + header_len + body_len;
  memcpy(out + HANSE_RAFT_BLOCK_PREFIX_BYTES, header, header_len);
  memcpy(out + HANSE_RAFT_BLOCK_PREFIX_BYTES + header_len, body, body_len);
  memset(out + n, 0, hanse_raft_block_entry_size(header_len, body_len) - n);
}

int hanse_raft_block_entry_decode(const uint8_t *p, size_t n, hanse_raft_block_entry *out) {
  memset(out, 0, sizeof *out);
  if (n < HANSE_RAFT_BLOCK_PREFIX_BYTES) return HANSE_ERR(DECODE_TRUNCATED);
  if (p[0] != HANSE_RAFT_ENTRY_BLOCK) return HANSE_ERR(DECODE_BAD_TYPE);
  uint64_t hl = hanse_get_u32be(p + 9), bl = hanse_get_u32be(p + 13);
  if (hl == 0) return HANSE_ERR(DECODE_BAD_FIELD);
  uint64_t used = HANSE_RAFT_BLOCK_PREFIX_BYTES + hl + bl;
  if (used > n) return HANSE_ERR(DECODE_TRUNCATED);
  /* Exactly the encoder's padding: to the next multiple of 8 (libraft
   * refuses other lengths), so an entry has one spelling. */
  if (n != ((used + 7) & ~(uint64_t)7)) return HANSE_ERR(DECODE_TRAILING);
  for (uint64_t i = used; i < n; i++)
    if (p[i] != 0) return HANSE_ERR(DECODE_TRAILING);
  out->height = hanse_get_u64be(p + 1);
  out->header = p + HANSE_RAFT_BLOCK_PREFIX_BYTES;
  out->header_len = (size_t)hl;
  out->body = out->header + hl;
  out->body_len = (size_t)bl;
  return HANSE_OK;
}

int hanse_raft_block_stream_put(hanse_buf *out, uint64_t height, const uint8_t *header,
                                size_t header_len, const uint8_t *body, size_t body_len) {
  size_t n = hanse_raft_block_entry_size(header_len, body_len);
  if (n > UINT32_MAX) return HANSE_ERR(INVALID);
  if (hanse_buf_reserve(out, 4 + n) != HANSE_OK) return HANSE_ERR(NOMEM);
  uint8_t *p = out->data + out->len;
  hanse_put_u32be(p, (uint32_t)n);
  hanse_raft_block_entry_encode(p + 4, height, header, header_len, body, body_len);
  out->len += 4 + n;
  return HANSE_OK;
}

int hanse_raft_block_stream_next(const uint8_t *p, size_t n, size_t *off,
                                 hanse_raft_block_entry *out) {
  memset(out, 0, sizeof *out);
  if (*off >= n) return HANSE_ERR(NOT_FOUND);
  if (n - *off < 4) return HANSE_ERR(DECODE_TRUNCATED);
  uint64_t len = hanse_get_u32be(p + *off);
  if (len > n - *off - 4) return HANSE_ERR(DECODE_TRUNCATED);
  int rc = hanse_raft_block_entry_decode(p + *off + 4, (size_t)len, out);
  if (rc != HANSE_OK) return rc;
  *off += 4 + (size_t)len;
  return HANSE_OK;
}

void hanse_raft_checkpoint_encode(uint8_t out[HANSE_RAFT_CHECKPOINT_BYTES], uint64_t height,
                                  const hanse_hash *tip_hash, const hanse_hash *state_digest) {
  out[0] = HANSE_RAFT_ENTRY_CHECKPOINT;
  out[1] = 1;
  hanse_put_u64be(out + 2, height);
  memcpy(out + 10, tip_hash->b, HANSE_HASH_BYTES);
  memcpy(out + 10 + HANSE_HASH_BYTES, state_digest->b, HANSE_HASH_BYTES);
}

int hanse_raft_checkpoint_decode(const uint8_t *p, size_t n, uint64_t *height,
                                 hanse_hash *tip_hash, hanse_hash *state_digest) {
  if (n < HANSE_RAFT_CHECKPOINT_BYTES) return HANSE_ERR(DECODE_TRUNCATED);
  if (n > HANSE_RAFT_CHECKPOINT_BYTES) return HANSE_ERR(DECODE_TRAILING);
  if (p[0] != HANSE_RAFT_ENTRY_CHECKPOINT) return HANSE_ERR(DECODE_BAD_TYPE);
  if (p[1] != 1) return HANSE_ERR(DECODE_BAD_VERSION);
  *height = hanse_get_u64be(p + 2);
  memcpy(tip_hash->b, p + 10, HANSE_HASH_BYTES);
  memcpy(state_digest->b, p + 10 + HANSE_HASH_BYTES, HANSE_HASH_BYTES);
  return HANSE_OK;
}
