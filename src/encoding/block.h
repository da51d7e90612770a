/*
 * block.h -- block headers and bodies: encoding, decoding, hashing.
 *
 * A block is a header and a body. The body is a list of entries, each a
 * signed transaction or a batch, in execution order; flattening the batches
 * gives the block's transactions, whose ids are the leaves of the header's
 * Merkle root. The block hash is SHA-256 of the header bytes before the
 * proposer's signature; the proposer signs that same byte string.
 *
 * Decoded bodies borrow from the input bytes (see tx.h).
 */
#ifndef HANSE_BLOCK_H
#define HANSE_BLOCK_H

#include "encoding/tx.h"

typedef struct hanse_header {
  uint8_t version;
  char chain_id[HANSE_CHAIN_ID_MAX + 1];
  uint64_t height;       /* genesis is 0 */
  uint64_t time_ms;      /* proposer's clock, never decreasing */
  hanse_hash prev_hash;  /* zero for genesis */
  hanse_hash tx_root;    /* RFC 6962 root over the flattened tx ids */
  hanse_hash state_digest;
  hanse_pubkey proposer;
  uint32_t tx_count;     /* flattened transactions */
  hanse_sig sig;
} hanse_header;

/* Encode the header (with its signature field as set) and return it in out.
 * hanse_header_sign computes hash and signature. */
int hanse_header_encode(hanse_buf *out, const hanse_header *h);
/* Block hash: SHA-256 of the encoding before the signature. */
void hanse_header_hash(const hanse_header *h, hanse_hash *out);
void hanse_header_sign(hanse_header *h, const hanse_keypair *kp);
int hanse_header_verify_sig(const hanse_header *h);
int hanse_header_decode(hanse_header *h, const uint8_t *p, size_t n,
                        hanse_reject *rej);

/* Body entries. */
#define HANSE_ENTRY_TX HANSE_TYPE_TX
#define HANSE_ENTRY_BATCH HANSE_TYPE_BATCH

typedef struct hanse_entry {
  uint8_t type;          /* HANSE_ENTRY_TX or HANSE_ENTRY_BATCH */
  hanse_tx tx;           /* when type == TX */
  hanse_batch batch;     /* when type == BATCH (owns batch.txs) */
} hanse_entry;

typedef struct hanse_body {
  uint32_t entry_count;
  hanse_entry *entries;  /* owned */
  uint32_t tx_count;     /* flattened */
  hanse_tx **txs;        /* owned array of pointers into entries */
  uint32_t *tx_entry;    /* owned: entry index of each flattened tx */
} hanse_body;

/* Body layout: u32 entry_count, then entries of (u8 type, u32 len, bytes). */
void hanse_body_entry_append(hanse_buf *out, uint8_t type, const uint8_t *p,
                             size_t n);
/* Decode a body; checks every entry's structure (not signatures) and that
 * the flattened count stays within HANSE_BLOCK_TX_MAX. */
int hanse_body_decode(hanse_body *b, const uint8_t *p, size_t n,
                      hanse_reject *rej);
/* The same, with the transaction ids given (flattened order, n_ids of
 * them) instead of hashed; a count mismatch is rejected. Batch ids stay
 * zero. For the proposer only: its mempool computed the ids. */
int hanse_body_decode_with_ids(hanse_body *b, const uint8_t *p, size_t n,
                               const hanse_hash *ids, uint32_t n_ids,
                               hanse_reject *rej);
void hanse_body_free(hanse_body *b);
/* Root over the flattened tx ids. */
int hanse_body_tx_root(const hanse_body *b, hanse_hash *root);
/* Verify every signature in the body: 1 if all good; else 0 and
 * *bad_tx is the flattened index of the first tx whose signature (or
 * batch's signature) fails. */
int hanse_body_verify_sigs(const hanse_body *b, uint32_t *bad_tx);

#endif
