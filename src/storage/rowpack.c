/*
 * rowpack.c -- packed (key, value) rows (see rowpack.h).
 *
 * The reader checks each row as it reads it: both lengths present and
 * within the bytes left, the key no longer than HANSE_ROWPACK_KEY_MAX and
 * greater than the row before's. Once it has refused, it refuses again,
 * so a caller that stops at the first error and one that asks again see
 * the same thing.
 */
#include "storage/rowpack.h"

#include "base/err.h"
#include "storage/store.h"

void hanse_rowpack_put(hanse_buf *out, const void *key, size_t klen, const void *val,
                       size_t vlen) {
  hanse_buf_u32(out, (uint32_t)klen);
  hanse_buf_put(out, key, klen);
  hanse_buf_u32(out, (uint32_t)vlen);
  hanse_buf_put(out, val, vlen);
}

void hanse_rowpack_rd_init(hanse_rowpack_rd *r, const uint8_t *p, size_t len) {
  hanse_rd_init(&r->rd, p, len);
  r->key = r->val = NULL;
  r->klen = r->vlen = 0;
  r->have = r->broken = 0;
}

static int broken(hanse_rowpack_rd *r) {
  r->broken = 1;
  return HANSE_ERR(CHAIN_BROKEN);
}

int hanse_rowpack_next(hanse_rowpack_rd *r) {
  if (r->broken) return HANSE_ERR(CHAIN_BROKEN);
  if (hanse_rd_left(&r->rd) == 0) return HANSE_ERR(NOT_FOUND);
  uint32_t klen, vlen;
  const uint8_t *key, *val;
  if (hanse_rd_u32(&r->rd, &klen) != HANSE_OK || klen > HANSE_ROWPACK_KEY_MAX ||
      hanse_rd_view(&r->rd, &key, klen) != HANSE_OK ||
      hanse_rd_u32(&r->rd, &vlen) != HANSE_OK || hanse_rd_view(&r->rd, &val, vlen) != HANSE_OK)
    return broken(r);
  if (r->have && hanse_store_key_cmp(r->key, r->klen, key, klen) >= 0) return broken(r);
  r->key = key;
  r->klen = klen;
  r->val = val;
  r->vlen = vlen;
  r->have = 1;
  return HANSE_OK;
}
