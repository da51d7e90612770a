/*
 * tx.c -- the transaction and batch codecs.
 *
 * Transaction layout (all integers big-endian):
 *
 *   u8  type = 0x01        u8  version = 1        u8 flags
 *   u8  chain_len (1..32)  chain_id bytes
 *   u8  kind_len (3..48)   kind bytes ("module.action")
 *   32  signer public key (Ed25519)
 *   u64 seq                u64 time_ms (client clock)
 *   u32 payload_len (0..65536)  payload (JSON text)
 *   64  signature over every byte before it   -- absent if flags & BATCHED
 *
 * Batch layout:
 *
 *   u8 type = 0x02   u8 version = 1
 *   u8 chain_len     chain_id bytes
 *   32 signer        u32 count (1..10000)
 *   count x (u32 len, batched transaction bytes)
 *   64 signature over every byte before it
 *
 * Decoders are strict: unknown type/version/flags, out-of-range lengths,
 * bad names, truncation and trailing bytes are each rejected with their own
 * reason code; one value has exactly one encoding, so ids are unambiguous.
 */
#include "encoding/tx.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int hanse_chain_id_valid(const char *s, size_t n) {
  if (n < 1 || n > HANSE_CHAIN_ID_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(name_char(s[i]) || s[i] == '-' || s[i] == '.')) return 0;
  return 1;
}

int hanse_kind_valid(const char *s, size_t n) {
  if (n < 3 || n > HANSE_KIND_MAX) return 0;
  const char *dot = memchr(s, '.', n);
  if (dot == NULL) return 0;
  size_t ml = (size_t)(dot - s), al = n - ml - 1;
  if (ml < 1 || ml > HANSE_MODULE_NAME_MAX || al < 1 || al > 31) return 0;
  for (size_t i = 0; i < n; i++)
    if (i != ml && !name_char(s[i])) return 0;
  return 1;
}

void hanse_kind_split(const char *kind, char *module, char *action) {
  const char *dot = strchr(kind, '.');
  HANSE_ASSERT(dot != NULL);
  size_t ml = (size_t)(dot - kind);
  memcpy(module, kind, ml);
  module[ml] = 0;
  strcpy(action, dot + 1);
}

int hanse_tx_encode(hanse_buf *out, const hanse_tx_fields *f,
                    const hanse_keypair *kp, hanse_reject *rej) {
  size_t cl = f->chain_id ? strlen(f->chain_id) : 0;
  size_t kl = f->kind ? strlen(f->kind) : 0;
  if (!hanse_chain_id_valid(f->chain_id ? f->chain_id : "", cl))
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD), "bad chain id");
  if (!hanse_kind_valid(f->kind ? f->kind : "", kl))
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD),
                            "bad kind (want module.action)");
  if (f->payload_len > HANSE_PAYLOAD_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "payload of %zu bytes exceeds %d", f->payload_len,
                            HANSE_PAYLOAD_MAX);
  if (kp != NULL && memcmp(kp->pub.b, f->signer->b, HANSE_PUBKEY_BYTES) != 0)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "signing key is not the signer");
  size_t start = out->len;
  hanse_buf_u8(out, HANSE_TYPE_TX);
  hanse_buf_u8(out, HANSE_FORMAT_VERSION);
  hanse_buf_u8(out, kp ? 0 : HANSE_TX_FLAG_BATCHED);
  hanse_buf_u8(out, (uint8_t)cl);
  hanse_buf_put(out, f->chain_id, cl);
  hanse_buf_u8(out, (uint8_t)kl);
  hanse_buf_put(out, f->kind, kl);
  hanse_buf_put(out, f->signer->b, HANSE_PUBKEY_BYTES);
  hanse_buf_u64(out, f->seq);
  hanse_buf_u64(out, f->time_ms);
  hanse_buf_u32(out, (uint32_t)f->payload_len);
  hanse_buf_put(out, f->payload, f->payload_len);
  if (hanse_buf_status(out) != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (kp) {
    hanse_sig sig;
    hanse_sign(&sig, out->data + start, out->len - start, kp);
    hanse_buf_put(out, sig.b, HANSE_SIG_BYTES);
  }
  if (hanse_buf_status(out) != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  return HANSE_OK;
}

/* Read a u8-length-prefixed name into dst (NUL-terminated). */
static int rd_name(hanse_rd *r, char *dst, size_t max, int (*valid)(const char *, size_t),
                   const char *what, hanse_reject *rej) {
  uint8_t len;
  const uint8_t *p;
  if (hanse_rd_u8(r, &len) != HANSE_OK || hanse_rd_view(r, &p, len) != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_TRUNCATED),
                            "input ends inside %s", what);
  if (len > max)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "%s of %u bytes exceeds %zu", what, len, max);
  if (!valid((const char *)p, len))
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD), "bad %s", what);
  memcpy(dst, p, len);
  dst[len] = 0;
  return HANSE_OK;
}

#define TRUNC(what) \
  hanse_reject_set(rej, HANSE_ERR(DECODE_TRUNCATED), "input ends inside " what)

/* The common prologue of every encoding: type byte and format version. */
int hanse_rd_prologue(hanse_rd *r, uint8_t want_type, const char *what,
                      uint8_t *version, hanse_reject *rej) {
  uint8_t type;
  if (hanse_rd_u8(r, &type) != HANSE_OK) return TRUNC("type");
  if (type != want_type)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_TYPE), "type byte 0x%02x is not a %s",
                            type, what);
  if (hanse_rd_u8(r, version) != HANSE_OK) return TRUNC("version");
  if (*version != HANSE_FORMAT_VERSION)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_VERSION), "%s version %u unsupported",
                            what, *version);
  return HANSE_OK;
}

int hanse_tx_decode(hanse_tx *tx, const uint8_t *p, size_t n, int want_batched,
                    hanse_reject *rej) {
  return hanse_tx_decode_flags(tx, p, n, want_batched, 0, rej);
}

int hanse_tx_decode_flags(hanse_tx *tx, const uint8_t *p, size_t n,
                          int want_batched, int flags, hanse_reject *rej) {
  memset(tx, 0, sizeof *tx);
  if (n > HANSE_TX_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "transaction of %zu bytes exceeds %d", n, HANSE_TX_MAX);
  hanse_rd r;
  hanse_rd_init(&r, p, n);
  int prc = hanse_rd_prologue(&r, HANSE_TYPE_TX, "transaction", &tx->version, rej);
  if (prc != HANSE_OK) return prc;
  if (hanse_rd_u8(&r, &tx->flags) != HANSE_OK) return TRUNC("flags");
  if (tx->flags & ~HANSE_TX_FLAGS_KNOWN)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD),
                            "unknown flags 0x%02x", tx->flags);
  int batched = (tx->flags & HANSE_TX_FLAG_BATCHED) != 0;
  if (batched != (want_batched != 0))
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD),
                            batched ? "a batched transaction needs its batch"
                                    : "a signed transaction inside a batch");
  int rc = rd_name(&r, tx->chain_id, HANSE_CHAIN_ID_MAX, hanse_chain_id_valid,
                   "chain id", rej);
  if (rc != HANSE_OK) return rc;
  rc = rd_name(&r, tx->kind, HANSE_KIND_MAX, hanse_kind_valid, "kind", rej);
  if (rc != HANSE_OK) return rc;
  if (hanse_rd_bytes(&r, tx->signer.b, HANSE_PUBKEY_BYTES) != HANSE_OK)
    return TRUNC("signer");
  if (hanse_rd_u64(&r, &tx->seq) != HANSE_OK) return TRUNC("sequence");
  if (hanse_rd_u64(&r, &tx->time_ms) != HANSE_OK) return TRUNC("time");
  if (tx->seq == 0)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD),
                            "sequence numbers start at 1");
  if (hanse_rd_u32(&r, &tx->payload_len) != HANSE_OK) return TRUNC("payload length");
  if (tx->payload_len > HANSE_PAYLOAD_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "payload of %u bytes exceeds %d", tx->payload_len,
                            HANSE_PAYLOAD_MAX);
  if (hanse_rd_view(&r, &tx->payload, tx->payload_len) != HANSE_OK)
    return TRUNC("payload");
  tx->signed_len = n - hanse_rd_left(&r);
  if (!batched && hanse_rd_bytes(&r, tx->sig.b, HANSE_SIG_BYTES) != HANSE_OK)
    return TRUNC("signature");
  if (hanse_rd_left(&r) != 0)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_TRAILING),
                            "%zu trailing bytes after the transaction",
                            hanse_rd_left(&r));
  tx->raw = p;
  tx->raw_len = n;
  if (!(flags & HANSE_DECODE_NO_HASH)) hanse_sha256(&tx->id, p, n);
  return HANSE_OK;
}

int hanse_tx_verify_sig(const hanse_tx *tx) {
  HANSE_ASSERT(!(tx->flags & HANSE_TX_FLAG_BATCHED));
  return hanse_sign_verify(&tx->sig, tx->raw, tx->signed_len, &tx->signer);
}

int hanse_batch_encode(hanse_buf *out, const char *chain_id,
                       const uint8_t *const *txs, const size_t *tx_lens,
                       uint32_t count, const hanse_keypair *kp,
                       hanse_reject *rej) {
  size_t cl = chain_id ? strlen(chain_id) : 0;
  if (!hanse_chain_id_valid(chain_id ? chain_id : "", cl))
    return hanse_reject_set(rej, HANSE_ERR(DECODE_BAD_FIELD), "bad chain id");
  if (count < 1 || count > HANSE_BATCH_TX_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "a batch holds 1 to %d transactions", HANSE_BATCH_TX_MAX);
  size_t start = out->len;
  hanse_buf_u8(out, HANSE_TYPE_BATCH);
  hanse_buf_u8(out, HANSE_FORMAT_VERSION);
  hanse_buf_u8(out, (uint8_t)cl);
  hanse_buf_put(out, chain_id, cl);
  hanse_buf_put(out, kp->pub.b, HANSE_PUBKEY_BYTES);
  hanse_buf_u32(out, count);
  for (uint32_t i = 0; i < count; i++) {
    hanse_buf_u32(out, (uint32_t)tx_lens[i]);
    hanse_buf_put(out, txs[i], tx_lens[i]);
  }
  if (hanse_buf_status(out) != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (out->len - start + HANSE_SIG_BYTES > HANSE_BATCH_MAX_BYTES) {
    out->len = start;
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "batch exceeds %d bytes", HANSE_BATCH_MAX_BYTES);
  }
  hanse_sig sig;
  hanse_sign(&sig, out->data + start, out->len - start, kp);
  hanse_buf_put(out, sig.b, HANSE_SIG_BYTES);
  if (hanse_buf_status(out) != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  return HANSE_OK;
}

int hanse_batch_decode(hanse_batch *b, const uint8_t *p, size_t n,
                       hanse_reject *rej) {
  return hanse_batch_decode_flags(b, p, n, 0, rej);
}

int hanse_batch_decode_flags(hanse_batch *b, const uint8_t *p, size_t n,
                             int flags, hanse_reject *rej) {
  memset(b, 0, sizeof *b);
  if (n > HANSE_BATCH_MAX_BYTES)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "batch of %zu bytes exceeds %d", n, HANSE_BATCH_MAX_BYTES);
  hanse_rd r;
  hanse_rd_init(&r, p, n);
  int rc = hanse_rd_prologue(&r, HANSE_TYPE_BATCH, "batch", &b->version, rej);
  if (rc != HANSE_OK) return rc;
  rc = rd_name(&r, b->chain_id, HANSE_CHAIN_ID_MAX, hanse_chain_id_valid,
                   "chain id", rej);
  if (rc != HANSE_OK) return rc;
  if (hanse_rd_bytes(&r, b->signer.b, HANSE_PUBKEY_BYTES) != HANSE_OK)
    return TRUNC("signer");
  if (hanse_rd_u32(&r, &b->count) != HANSE_OK) return TRUNC("count");
  if (b->count < 1 || b->count > HANSE_BATCH_TX_MAX)
    return hanse_reject_set(rej, HANSE_ERR(DECODE_OVERSIZED),
                            "batch count %u outside 1..%d", b->count,
                            HANSE_BATCH_TX_MAX);
  /* Each inner tx takes at least 4 + fixed bytes: refuse counts the input
   * cannot hold before allocating. */
  if ((size_t)b->count * (4 + HANSE_TX_FIXED_BYTES) > hanse_rd_left(&r))
    return hanse_reject_set(rej, HANSE_ERR(DECODE_TRUNCATED),
                            "batch count %u exceeds its bytes", b->count);
  b->txs = calloc(b->count, sizeof *b->txs);
  if (b->txs == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  for (uint32_t i = 0; i < b->count; i++) {
    uint32_t len;
    const uint8_t *tp;
    if (hanse_rd_u32(&r, &len) != HANSE_OK || hanse_rd_view(&r, &tp, len) != HANSE_OK) {
      rc = hanse_reject_set(rej, HANSE_ERR(DECODE_TRUNCATED),
                            "input ends inside batch transaction %u", i);
      goto fail;
    }
    rc = hanse_tx_decode_flags(&b->txs[i], tp, len, 1, flags, rej);
    if (rc != HANSE_OK) {
      hanse_reject_prefix(rej, "batch transaction %u", i);
      goto fail;
    }
    if (memcmp(b->txs[i].signer.b, b->signer.b, HANSE_PUBKEY_BYTES) != 0) {
      rc = hanse_reject_set(rej, HANSE_ERR(BATCH_BAD_SIGNER),
                            "batch transaction %u names another signer", i);
      goto fail;
    }
    if (strcmp(b->txs[i].chain_id, b->chain_id) != 0) {
      rc = hanse_reject_set(rej, HANSE_ERR(TX_WRONG_CHAIN),
                            "batch transaction %u names another chain", i);
      goto fail;
    }
  }
  b->signed_len = n - hanse_rd_left(&r);
  if (hanse_rd_bytes(&r, b->sig.b, HANSE_SIG_BYTES) != HANSE_OK) {
    rc = TRUNC("batch signature");
    goto fail;
  }
  if (hanse_rd_left(&r) != 0) {
    rc = hanse_reject_set(rej, HANSE_ERR(DECODE_TRAILING),
                          "%zu trailing bytes after the batch", hanse_rd_left(&r));
    goto fail;
  }
  b->raw = p;
  b->raw_len = n;
  if (!(flags & HANSE_DECODE_NO_HASH)) hanse_sha256(&b->id, p, n);
  return HANSE_OK;
fail:
  free(b->txs);
  b->txs = NULL;
  return rc;
}

int hanse_batch_verify_sig(const hanse_batch *b) {
  return hanse_sign_verify(&b->sig, b->raw, b->signed_len, &b->signer);
}

void hanse_batch_free(hanse_batch *b) {
  free(b->txs);
  b->txs = NULL;
}
