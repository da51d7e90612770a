/*
 * rowpack.h -- (key, value) rows packed into one byte string, in strictly
 * increasing key order: the unit in which the derived indexes are stored
 * (store_index.c; docs/FORMATS.md §15).
 *
 *   row: u32 klen | key | u32 vlen | value      (big-endian lengths)
 *
 * Keys compare as SQLite compares BLOBs (hanse_store_key_cmp); a pack
 * holds each key once, in increasing order, nothing between or after the
 * rows. The empty string is the pack of no rows. The encoding is
 * canonical: the reader refuses every other layout, so a pack it accepts
 * is byte for byte what the writer makes of its rows.
 *
 * A stored pack is data: the reader returns HANSE_ERR(CHAIN_BROKEN) for a
 * truncated row, a key longer than HANSE_ROWPACK_KEY_MAX, or keys out of
 * order or repeated -- never an assertion -- and keeps returning it.
 */
#ifndef HANSE_ROWPACK_H
#define HANSE_ROWPACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Keys of the derived indexes are module keys (at most 256 bytes). */
#define HANSE_ROWPACK_KEY_MAX 1024
/* The bytes of a row besides its key and value. */
#define HANSE_ROWPACK_ROW_FIXED_BYTES 8

/* Append one row to `out` (the caller keeps the key order). */
void hanse_rowpack_put(hanse_buf *out, const void *key, size_t klen, const void *val,
                       size_t vlen);

typedef struct hanse_rowpack_rd {
  hanse_rd rd;          /* the bytes not yet read */
  const uint8_t *key;   /* the current row (borrowed from the pack) */
  size_t klen;
  const uint8_t *val;
  size_t vlen;
  int have;             /* a row was read */
  int broken;           /* sticky: CHAIN_BROKEN was returned */
} hanse_rowpack_rd;

void hanse_rowpack_rd_init(hanse_rowpack_rd *r, const uint8_t *p, size_t len);
/* The next row into r->key, klen, val, vlen: HANSE_OK,
 * HANSE_ERR(NOT_FOUND) at the end, HANSE_ERR(CHAIN_BROKEN). */
int hanse_rowpack_next(hanse_rowpack_rd *r);

#endif
