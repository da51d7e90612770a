/*
 * tx.h -- transactions and batches: encoding, decoding, ids, signatures.
 *
 * A transaction is the unit of intent: one signer, one kind ("asset.transfer"),
 * one JSON payload, one sequence number. It travels either alone, signed by
 * its signer, or inside a batch signed once by the same signer. Byte layouts
 * are in docs/FORMATS.md; integers are big-endian.
 *
 * Decoded structs borrow from the input: `payload` and `raw` point into the
 * bytes given to the decoder, which must outlive the struct.
 *
 * Conventions: every function returns HANSE_OK or a negative hanse_err;
 * decoders also fill a hanse_reject (may be NULL) with a stable reason code.
 */
#ifndef HANSE_TX_H
#define HANSE_TX_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/sign.h"

#define HANSE_TYPE_TX 0x01
#define HANSE_TYPE_BATCH 0x02
#define HANSE_TYPE_HEADER 0x03
#define HANSE_FORMAT_VERSION 1

/* Set on a transaction carried inside a batch: it has no signature of its
 * own; the batch's signature covers it. */
#define HANSE_TX_FLAG_BATCHED 0x01
#define HANSE_TX_FLAGS_KNOWN HANSE_TX_FLAG_BATCHED

typedef struct hanse_tx {
  uint8_t version;
  uint8_t flags;
  char chain_id[HANSE_CHAIN_ID_MAX + 1];
  char kind[HANSE_KIND_MAX + 1];
  hanse_pubkey signer;
  uint64_t seq;
  uint64_t time_ms;
  const uint8_t *payload; /* borrowed; JSON text, not NUL-terminated */
  uint32_t payload_len;
  hanse_sig sig;          /* zero when batched */
  const uint8_t *raw;     /* borrowed: the whole encoding */
  size_t raw_len;
  size_t signed_len;      /* bytes covered by sig (raw_len - 64 unless batched) */
  hanse_hash id;          /* SHA-256 of raw */
} hanse_tx;

/* Fields a caller sets to build a transaction. */
typedef struct hanse_tx_fields {
  const char *chain_id;
  const char *kind;
  const hanse_pubkey *signer;
  uint64_t seq;
  uint64_t time_ms;
  const char *payload; /* JSON text */
  size_t payload_len;
} hanse_tx_fields;

/* Append an encoded transaction to out. With kp != NULL the transaction is
 * signed (kp->pub must equal *f->signer); with kp == NULL it is encoded as
 * batched (no signature). Validates the fields like the decoder does.
 * HANSE_OK, HANSE_ERR(DECODE_*) on bad fields, HANSE_ERR(NOMEM). */
int hanse_tx_encode(hanse_buf *out, const hanse_tx_fields *f,
                    const hanse_keypair *kp, hanse_reject *rej);

/* Decode exactly one transaction occupying all of p[0..n). Checks layout,
 * bounds, name syntax; computes id. Does NOT check the signature.
 * `want_batched` says which kind is expected (a batched tx alone is
 * rejected, a signed tx inside a batch too). */
int hanse_tx_decode(hanse_tx *tx, const uint8_t *p, size_t n, int want_batched,
                    hanse_reject *rej);

/* Internal decoding flags: HANSE_DECODE_NO_HASH leaves `id` (and a
 * batch's id) zero, for a caller that already knows the ids (the
 * sequencer, whose mempool hashed every transaction on submission). */
#define HANSE_DECODE_NO_HASH 1
int hanse_tx_decode_flags(hanse_tx *tx, const uint8_t *p, size_t n,
                          int want_batched, int flags, hanse_reject *rej);

/* Shared by the decoders: read the type byte (must be want_type) and the
 * format version (must be HANSE_FORMAT_VERSION); `what` names the object
 * in messages. */
int hanse_rd_prologue(hanse_rd *r, uint8_t want_type, const char *what,
                      uint8_t *version, hanse_reject *rej);

/* 1 if the (non-batched) transaction's signature verifies. */
int hanse_tx_verify_sig(const hanse_tx *tx);

/* Syntax rules shared with the CLI: chain id is 1..32 of [a-z0-9._-];
 * kind is "<module>.<action>": module 1..16 and action 1..31 of [a-z0-9_]. */
int hanse_chain_id_valid(const char *s, size_t n);
int hanse_kind_valid(const char *s, size_t n);
/* Split a kind into module and action (copies; buffers of
 * HANSE_KIND_MAX + 1). */
void hanse_kind_split(const char *kind, char *module, char *action);

typedef struct hanse_batch {
  uint8_t version;
  char chain_id[HANSE_CHAIN_ID_MAX + 1];
  hanse_pubkey signer;
  uint32_t count;
  hanse_tx *txs;          /* owned array of count (free with hanse_batch_free) */
  hanse_sig sig;
  const uint8_t *raw;     /* borrowed: the whole encoding */
  size_t raw_len;
  size_t signed_len;
  hanse_hash id;          /* SHA-256 of raw */
} hanse_batch;

/* Build a batch from already-encoded batched transactions (each produced
 * by hanse_tx_encode with kp == NULL), sign it with kp, append to out. */
int hanse_batch_encode(hanse_buf *out, const char *chain_id,
                       const uint8_t *const *txs, const size_t *tx_lens,
                       uint32_t count, const hanse_keypair *kp,
                       hanse_reject *rej);

/* Decode exactly one batch occupying p[0..n); every inner transaction must
 * be batched, name the batch's signer and chain. Does NOT check the
 * signature. On success b->txs is allocated. */
int hanse_batch_decode(hanse_batch *b, const uint8_t *p, size_t n,
                       hanse_reject *rej);
int hanse_batch_decode_flags(hanse_batch *b, const uint8_t *p, size_t n,
                             int flags, hanse_reject *rej);
int hanse_batch_verify_sig(const hanse_batch *b);
void hanse_batch_free(hanse_batch *b);

#endif
