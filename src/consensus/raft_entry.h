/*
 * raft_entry.h -- the bytes a Hanse cluster puts in the Raft log and in a
 * Raft snapshot (docs/FORMATS.md, "Raft log entries"). Big-endian, as
 * every Hanse format.
 *
 * Block entry (one raft_apply buffer, one block):
 *
 *   u8  type = 1          HANSE_RAFT_ENTRY_BLOCK
 *   u64 height            the block's height (apply is idempotent by it)
 *   u32 header_len
 *   u32 body_len
 *   header                the leader's signed header, exactly as stored
 *   body                  the block body (u32 entry count, entries)
 *   0 to 7 zero bytes     to a multiple of 8 bytes: libraft 0.22.1
 *                         refuses entries of other lengths ("entry buffers
 *                         must be 8-byte aligned")
 *
 * Checkpoint descriptor (the whole Raft snapshot, 74 bytes):
 *
 *   u8  type = 2          HANSE_RAFT_ENTRY_CHECKPOINT
 *   u8  version = 1
 *   u64 height            the tip when the snapshot was taken
 *   32  tip block hash
 *   32  tip state digest
 *
 * Block stream (GET /v1/chains/{c}/blocks/raw: what a node catching up
 * from a snapshot fetches from a peer, outside the Raft log): block
 * entries one after the other, each preceded by its length,
 *
 *   ( u32 entry_len, block entry of entry_len bytes )*
 *
 * in ascending heights without gaps (the reader checks that too).
 *
 * Decoding borrows from the input. Neither object is signed: the log is
 * written only by the cluster's own nodes over their Raft connections, and
 * the block inside carries its proposer's signature, checked on apply.
 */
#ifndef HANSE_RAFT_ENTRY_H
#define HANSE_RAFT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "crypto/hash.h"

#define HANSE_RAFT_ENTRY_BLOCK 1
#define HANSE_RAFT_ENTRY_CHECKPOINT 2
#define HANSE_RAFT_BLOCK_PREFIX_BYTES 17 /* type, height, header_len, body_len */
#define HANSE_RAFT_CHECKPOINT_BYTES (2 + 8 + 2 * HANSE_HASH_BYTES)

typedef struct hanse_raft_block_entry {
  uint64_t height;
  const uint8_t *header; /* borrowed */
  size_t header_len;
  const uint8_t *body;   /* borrowed */
  size_t body_len;
} hanse_raft_block_entry;

/* Bytes of a block entry with these parts. */
size_t hanse_raft_block_entry_size(size_t header_len, size_t body_len);
/* Write a block entry into out (hanse_raft_block_entry_size bytes). */
void hanse_raft_block_entry_encode(uint8_t *out, uint64_t height, const uint8_t *header,
                                   size_t header_len, const uint8_t *body, size_t body_len);
/* HANSE_OK, or a decode error (wrong type, truncated, empty header,
 * padding that is not the zero bytes up to the next multiple of 8). */
int hanse_raft_block_entry_decode(const uint8_t *p, size_t n, hanse_raft_block_entry *out);

/* Append one block entry, with its length, to a block stream. HANSE_OK or
 * HANSE_ERR(NOMEM). */
int hanse_raft_block_stream_put(hanse_buf *out, uint64_t height, const uint8_t *header,
                                size_t header_len, const uint8_t *body, size_t body_len);
/* The next entry of a block stream at *off (advanced past it): HANSE_OK,
 * HANSE_ERR(NOT_FOUND) at the end, or a decode error (a truncated length
 * or entry, an entry that does not decode). */
int hanse_raft_block_stream_next(const uint8_t *p, size_t n, size_t *off,
                                 hanse_raft_block_entry *out);

void hanse_raft_checkpoint_encode(uint8_t out[HANSE_RAFT_CHECKPOINT_BYTES], uint64_t height,
                                  const hanse_hash *tip_hash, const hanse_hash *state_digest);
int hanse_raft_checkpoint_decode(const uint8_t *p, size_t n, uint64_t *height,
                                 hanse_hash *tip_hash, hanse_hash *state_digest);

#endif
