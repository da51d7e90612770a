/*
 * block.c -- header and body codecs.
 *
 * Header layout (big-endian):
 *
 *   u8  type = 0x03        u8 version = 1
 *   u8  chain_len          chain_id bytes
 *   u64 height             u64 time_ms
 *   32  prev_hash          32 tx_root          32 state_digest
 *   32  proposer public key
 *   u32 tx_count
 *   64  proposer signature over every byte before it
 *
 * Body layout:
 *
 *   u32 entry_count
 *   entry_count x (u8 type (0x01 tx | 0x02 batch), u32 len, bytes)
 *
 * A body must have at least... nothing: an empty block is legal (genesis).
 */
#include "encoding/block.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/merkle.h"

static void header_put_unsigned(hanse_buf *out, const hanse_header *h) {
  size_t cl = strlen(h->chain_id);
  hanse_buf_u8(out, HANSE_TYPE_HEADER);
  hanse_buf_u8(out, HANSE_FORMAT_VERSION);
  hanse_buf_u8(out, (uint8_t)cl);
  hanse_buf_put(out, h->chain_id, cl);
  hanse_buf_u64(out, h->height);
  hanse_buf_u64(out, h->time_ms);
  hanse_buf_put(out, h->prev_hash.b, HANSE_HASH_BYTES);
  hanse_buf_put(out, h->tx_root.b, HANSE_HASH_BYTES);
  hanse_buf_put(out, h->state_digest.b, HANSE_HASH_BYTES);
  hanse_buf_put(out, h->proposer.b, HANSE_PUBKEY_BYTES);
  hanse_buf_u32(out, h->tx_count);
}

int hanse_header_encode(hanse_buf *out, const hanse_header *h) {
  HANSE_ASSERT(hanse_chain_id_valid(h->chain_id, strlen(h->chain_id)));
  header_put_unsigned(out, h);
  hanse_buf_put(out, h->sig.b, HANSE_SIG_BYTES);
  return hanse_buf_status(out);
}

static int header_unsigned_bytes(const hanse_header *h, uint8_t *dst,
                                 size_t *len) {
  hanse_buf b;
  hanse_buf_init(&b);
  header_put_unsigned(&b, h);
  int rc = hanse_buf_status(&b);
  if (rc == HANSE_OK) {
    HANSE_ASSERT(b.len <= HANSE_BLOCK_HEADER_MAX);
    memcpy(dst, b.data, b.len);
    *len = b.len;
  }
  hanse_buf_free(&b);
  return rc;
}

void hanse_header_hash(const hanse_header *h, hanse_hash *out) {
  uint8_t tmp[HANSE_BLOCK_HEADER_MAX];
  size_t len = 0;
  HANSE_ASSERT(header_unsigned_bytes(h, tmp, &len) == HANSE_OK);
  hanse_sha256(out, tmp, len);
}

void hanse_header_sign(hanse_header *h, const hanse_keypair *kp) {
  uint8_t tmp[HANSE_BLOCK_HEADER_MAX];
  size_t len = 0;
  h->proposer = kp->pub;
  HANSE_ASSERT(header_unsigned_bytes(h, tmp, &len) == HANSE_OK);
  hanse_sign(&h->sig, tmp, len, kp);
}

int hanse_header_verify_sig(const hanse_header *h) {
  uint8_t tmp[HANSE_BLOCK_HEADER_MAX];
  size_t len = 0;
  if (header_unsigned_bytes(h, tmp, &len) != HANSE_OK) return 0;
  return hanse_sign_verify(&h->sig, tmp, len, &h->proposer);
}

#define TRUNC(what) \
  hanse_reject_set(rej, HANSE_ERR(DECODE_TRUNCATED), "input ends inside " what)

int hanse_header_decode(hanse_header *h, const uint8_t *p, size_t n,
                        hanse_reject *rej) {
  memset(h, 0, sizeof *h);
  if (n > HANSE_BLOCK_HEADER_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "header of %zu bytes exceeds %d", n, HANSE_BLOCK_HEADER_MAX);
  hanse_rd r;
  hanse_rd_init(&r, p, n);
  uint8_t cl;
  const uint8_t *cp;
  int prc = hanse_rd_prologue(&r, HANSE_TYPE_HEADER, "block header", &h->version, rej);
  if (prc != HANSE_OK) return prc;
  if (hanse_rd_u8(&r, &cl) != HANSE_OK || hanse_rd_view(&r, &cp, cl) != HANSE_OK)
    return TRUNC("chain id");
  if (!hanse_chain_id_valid((const char *)cp, cl))
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD), "bad chain id");
  memcpy(h->chain_id, cp, cl);
  h->chain_id[cl] = 0;
  if (hanse_rd_u64(&r, &h->height) != HANSE_OK) return TRUNC("height");
  if (hanse_rd_u64(&r, &h->time_ms) != HANSE_OK) return TRUNC("time");
  if (hanse_rd_bytes(&r, h->prev_hash.b, HANSE_HASH_BYTES) != HANSE_OK ||
      hanse_rd_bytes(&r, h->tx_root.b, HANSE_HASH_BYTES) != HANSE_OK ||
      hanse_rd_bytes(&r, h->state_digest.b, HANSE_HASH_BYTES) != HANSE_OK)
    return TRUNC("hashes");
  if (hanse_rd_bytes(&r, h->proposer.b, HANSE_PUBKEY_BYTES) != HANSE_OK)
    return TRUNC("proposer");
  if (hanse_rd_u32(&r, &h->tx_count) != HANSE_OK) return TRUNC("tx count");
  if (h->tx_count > HANSE_BLOCK_TX_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "tx count %u exceeds %d", h->tx_count, HANSE_BLOCK_TX_MAX);
  if (hanse_rd_bytes(&r, h->sig.b, HANSE_SIG_BYTES) != HANSE_OK)
    return TRUNC("signature");
  if (hanse_rd_left(&r) != 0)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_TRAILING),
                            "%zu trailing bytes after the header", hanse_rd_left(&r));
  return HANSE_OK;
}

void hanse_body_entry_append(hanse_buf *out, uint8_t type, const uint8_t *p,
                             size_t n) {
  hanse_buf_u8(out, type);
  hanse_buf_u32(out, (uint32_t)n);
  hanse_buf_put(out, p, n);
}

void hanse_body_free(hanse_body *b) {
  if (b->entries) {
    for (uint32_t i = 0; i < b->entry_count; i++)
      if (b->entries[i].type == HANSE_ENTRY_BATCH) hanse_batch_free(&b->entries[i].batch);
  }
  free(b->entries);
  free(b->txs);
  free(b->tx_entry);
  memset(b, 0, sizeof *b);
}

static int body_decode(hanse_body *b, const uint8_t *p, size_t n,
                       const hanse_hash *ids, uint32_t n_ids, hanse_reject *rej);

int hanse_body_decode(hanse_body *b, const uint8_t *p, size_t n,
                      hanse_reject *rej) {
  return body_decode(b, p, n, NULL, 0, rej);
}

int hanse_body_decode_with_ids(hanse_body *b, const uint8_t *p, size_t n,
                               const hanse_hash *ids, uint32_t n_ids,
                               hanse_reject *rej) {
  HANSE_ASSERT(ids != NULL);
  return body_decode(b, p, n, ids, n_ids, rej);
}

static int body_decode(hanse_body *b, const uint8_t *p, size_t n,
                       const hanse_hash *ids, uint32_t n_ids, hanse_reject *rej) {
  int flags = ids ? HANSE_DECODE_NO_HASH : 0;
  memset(b, 0, sizeof *b);
  if (n > HANSE_BLOCK_MAX_BYTES)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "body of %zu bytes exceeds %d", n, HANSE_BLOCK_MAX_BYTES);
  hanse_rd r;
  hanse_rd_init(&r, p, n);
  uint32_t count;
  if (hanse_rd_u32(&r, &count) != HANSE_OK) return TRUNC("entry count");
  if (count > HANSE_BLOCK_TX_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "entry count %u exceeds %d", count, HANSE_BLOCK_TX_MAX);
  if ((size_t)count * 5 > hanse_rd_left(&r))
    return TRUNC("entries");
  int rc = HANSE_OK;
  b->entries = calloc(count ? count : 1, sizeof *b->entries);
  if (b->entries == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  uint32_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint8_t type;
    uint32_t len;
    const uint8_t *ep;
    if (hanse_rd_u8(&r, &type) != HANSE_OK || hanse_rd_u32(&r, &len) != HANSE_OK ||
        hanse_rd_view(&r, &ep, len) != HANSE_OK) {
      rc = hanse_reject_set(rej, HANSE_ERR(DECODE_TRUNCATED),
                            "input ends inside entry %u", i);
      goto fail;
    }
    hanse_entry *e = &b->entries[i];
    if (type == HANSE_ENTRY_TX) {
      rc = hanse_tx_decode_flags(&e->tx, ep, len, 0, flags, rej);
      if (rc == HANSE_OK) { e->type = type; total += 1; }
    } else if (type == HANSE_ENTRY_BATCH) {
      rc = hanse_batch_decode_flags(&e->batch, ep, len, flags, rej);
      if (rc == HANSE_OK) { e->type = type; total += e->batch.count; }
    } else {
      rc = hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_TYPE),
                            "entry %u has type 0x%02x", i, type);
    }
    b->entry_count = i + 1; /* so fail frees what was decoded */
    if (rc != HANSE_OK) {
      if (e->type == 0) b->entry_count = i;
      hanse_reject_prefix(rej, "entry %u", i);
      goto fail;
    }
    if (total > HANSE_BLOCK_TX_MAX) {
      rc = hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "block holds more than %d transactions", HANSE_BLOCK_TX_MAX);
      goto fail;
    }
  }
  if (hanse_rd_left(&r) != 0) {
    rc = hanse_reject_set(rej, HANSE_ERR(DECODE_TRAILING),
                          "%zu trailing bytes after the body", hanse_rd_left(&r));
    goto fail;
  }
  if (ids && total != n_ids) {
    rc = hanse_reject_set(rej, HANSE_ERR(INVALID), "body holds %u transactions, %u ids given",
                          total, n_ids);
    goto fail;
  }
  b->entry_count = count;
  b->tx_count = total;
  b->txs = malloc((total ? total : 1) * sizeof *b->txs);
  b->tx_entry = malloc((total ? total : 1) * sizeof *b->tx_entry);
  if (b->txs == NULL || b->tx_entry == NULL) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto fail;
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < count; i++) {
    hanse_entry *e = &b->entries[i];
    if (e->type == HANSE_ENTRY_TX) {
      b->tx_entry[k] = i;
      b->txs[k++] = &e->tx;
    } else {
      for (uint32_t j = 0; j < e->batch.count; j++) {
        b->tx_entry[k] = i;
        b->txs[k++] = &e->batch.txs[j];
      }
    }
  }
  HANSE_ASSERT(k == total);
  if (ids)
    for (uint32_t i = 0; i < total; i++) b->txs[i]->id = ids[i];
  return HANSE_OK;
fail:
  hanse_body_free(b);
  return rc;
}

int hanse_body_tx_root(const hanse_body *b, hanse_hash *root) {
  hanse_hash *ids = malloc((b->tx_count ? b->tx_count : 1) * sizeof *ids);
  if (ids == NULL) return HANSE_ERR(NOMEM);
  for (uint32_t i = 0; i < b->tx_count; i++) ids[i] = b->txs[i]->id;
  int rc = hanse_merkle_root_hashes(root, ids, b->tx_count);
  free(ids);
  return rc;
}

int hanse_body_verify_sigs(const hanse_body *b, uint32_t *bad_tx) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < b->entry_count; i++) {
    const hanse_entry *e = &b->entries[i];
    if (e->type == HANSE_ENTRY_TX) {
      if (!hanse_tx_verify_sig(&e->tx)) { *bad_tx = k; return 0; }
      k++;
    } else {
      if (!hanse_batch_verify_sig(&e->batch)) { *bad_tx = k; return 0; }
      k += e->batch.count;
    }
  }
  return 1;
}
