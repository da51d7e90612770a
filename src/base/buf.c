/*
 * buf.c -- byte writer and reader (see buf.h).
 *
 * The writer grows geometrically and remembers an allocation failure, so an
 * encoder can write many fields and check once at the end. The reader is a
 * cursor with the bytes left; it is the only way decoders touch input.
 */
#include "base/buf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void hanse_buf_init(hanse_buf *b) { memset(b, 0, sizeof *b); }

void hanse_buf_free(hanse_buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void hanse_buf_reset(hanse_buf *b) { b->len = 0; }

int hanse_buf_reserve(hanse_buf *b, size_t extra) {
  if (b->failed) return HANSE_ERR(NOMEM);
  if (b->cap - b->len >= extra) return HANSE_OK;
  size_t need = b->len + extra;
  /* Overflow, or so large that doubling would wrap: refuse. */
  if (need < b->len || need > SIZE_MAX / 2) { b->failed = 1; return HANSE_ERR(NOMEM); }
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap *= 2;
  uint8_t *d = realloc(b->data, cap);
  if (d == NULL) { b->failed = 1; return HANSE_ERR(NOMEM); }
  b->data = d;
  b->cap = cap;
  return HANSE_OK;
}

void hanse_buf_put(hanse_buf *b, const void *p, size_t n) {
  if (n == 0 || hanse_buf_reserve(b, n) != HANSE_OK) return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

uint8_t *hanse_buf_grow(hanse_buf *b, size_t n) {
  if (hanse_buf_reserve(b, n) != HANSE_OK) return NULL;
  uint8_t *at = b->data + b->len;
  b->len += n;
  return at;
}

void hanse_buf_u8(hanse_buf *b, uint8_t v) { hanse_buf_put(b, &v, 1); }

void hanse_buf_u32(hanse_buf *b, uint32_t v) {
  uint8_t t[4];
  hanse_put_u32be(t, v);
  hanse_buf_put(b, t, 4);
}

void hanse_buf_u64(hanse_buf *b, uint64_t v) {
  uint8_t t[8];
  hanse_put_u64be(t, v);
  hanse_buf_put(b, t, 8);
}

int hanse_buf_status(const hanse_buf *b) {
  return b->failed ? HANSE_ERR(NOMEM) : HANSE_OK;
}

uint8_t *hanse_buf_steal(hanse_buf *b, size_t *len_out) {
  uint8_t *d = b->data;
  if (len_out) *len_out = b->len;
  memset(b, 0, sizeof *b);
  return d;
}

void hanse_rd_init(hanse_rd *r, const void *p, size_t n) {
  assert(p != NULL || n == 0);
  r->p = p;
  r->left = n;
}

int hanse_rd_view(hanse_rd *r, const uint8_t **out, size_t n) {
  if (r->left < n) return HANSE_ERR(DECODE_TRUNCATED);
  *out = r->p;
  r->p += n;
  r->left -= n;
  return HANSE_OK;
}

int hanse_rd_bytes(hanse_rd *r, void *out, size_t n) {
  const uint8_t *p;
  int rc = hanse_rd_view(r, &p, n);
  if (rc != HANSE_OK) return rc;
  if (n) memcpy(out, p, n);
  return HANSE_OK;
}

int hanse_rd_u8(hanse_rd *r, uint8_t *v) { return hanse_rd_bytes(r, v, 1); }

int hanse_rd_u32(hanse_rd *r, uint32_t *v) {
  const uint8_t *p;
  int rc = hanse_rd_view(r, &p, 4);
  if (rc == HANSE_OK) *v = hanse_get_u32be(p);
  return rc;
}

int hanse_rd_u64(hanse_rd *r, uint64_t *v) {
  const uint8_t *p;
  int rc = hanse_rd_view(r, &p, 8);
  if (rc == HANSE_OK) *v = hanse_get_u64be(p);
  return rc;
}

size_t hanse_rd_left(const hanse_rd *r) { return r->left; }
