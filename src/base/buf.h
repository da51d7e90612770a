/*
 * buf.h -- growable byte writer and bounds-checked byte reader.
 *
 * All Hanse wire formats are written with hanse_buf and read with
 * hanse_rd. Integers are big-endian (network order) so that encodings sort
 * and hex-dump readably. The reader never reads past its end: every getter
 * returns HANSE_ERR(DECODE_TRUNCATED) instead, so decoders built on it reject
 * truncated input by construction.
 *
 * Ownership: a hanse_buf owns `data`; hanse_buf_free releases it.
 * hanse_buf_steal hands the bytes to the caller (free with free()).
 */
#ifndef HANSE_BUF_H
#define HANSE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct hanse_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  int failed; /* sticky: an allocation failed; further writes are no-ops */
} hanse_buf;

void hanse_buf_init(hanse_buf *b);
void hanse_buf_free(hanse_buf *b);
void hanse_buf_reset(hanse_buf *b); /* len = 0, keeps capacity */
int hanse_buf_reserve(hanse_buf *b, size_t extra);
void hanse_buf_put(hanse_buf *b, const void *p, size_t n);
/* Append n bytes for the caller to fill: where they start, or NULL on no
 * memory (then nothing is appended). */
uint8_t *hanse_buf_grow(hanse_buf *b, size_t n);
void hanse_buf_u8(hanse_buf *b, uint8_t v);
void hanse_buf_u32(hanse_buf *b, uint32_t v);
void hanse_buf_u64(hanse_buf *b, uint64_t v);
/* HANSE_OK, or HANSE_ERR(NOMEM) if any write failed. */
int hanse_buf_status(const hanse_buf *b);
uint8_t *hanse_buf_steal(hanse_buf *b, size_t *len_out);

typedef struct hanse_rd {
  const uint8_t *p;
  size_t left;
} hanse_rd;

void hanse_rd_init(hanse_rd *r, const void *p, size_t n);
int hanse_rd_u8(hanse_rd *r, uint8_t *v);
int hanse_rd_u32(hanse_rd *r, uint32_t *v);
int hanse_rd_u64(hanse_rd *r, uint64_t *v);
/* Copy n bytes out. */
int hanse_rd_bytes(hanse_rd *r, void *out, size_t n);
/* Borrow n bytes in place (no copy); *out points into the input. */
int hanse_rd_view(hanse_rd *r, const uint8_t **out, size_t n);
size_t hanse_rd_left(const hanse_rd *r);

static inline void hanse_put_u32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void hanse_put_u64be(uint8_t *p, uint64_t v) {
  hanse_put_u32be(p, (uint32_t)(v >> 32));
  hanse_put_u32be(p + 4, (uint32_t)v);
}
static inline uint32_t hanse_get_u32be(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t hanse_get_u64be(const uint8_t *p) {
  return ((uint64_t)hanse_get_u32be(p) << 32) | hanse_get_u32be(p + 4);
}

#endif
