/*
 * inclusion.h -- checking, from bytes alone, that a transaction is in a
 * signed block.
 *
 * chain/proof.c makes an inclusion proof from a node's store; this is the
 * other half, for whoever receives one and trusts nothing but the bytes:
 * the client library (client/proof.c, for `hanse get tx`) and the xchain
 * module (modules/xchain/, a message of one chain received by another).
 * It depends on encoding/ and crypto/ only, so both can use it.
 *
 * A proof is: the transaction's encoding; if it travelled in a batch, the
 * batch's encoding (its one signature covers the transaction); the block
 * header's encoding; the transaction's leaf position `index` among the
 * block's `tx_count` transactions; and the RFC 6962 audit path from that
 * leaf to the header's tx_root (crypto/merkle.h). Checked in this order,
 * each step relying only on what the earlier ones established:
 *
 *   1. tx       decodes (as batched or not, as claimed); its signature
 *               verifies -- or, batched, the batch decodes, its signature
 *               verifies and it holds exactly these transaction bytes
 *   2. header   decodes; hashes to the claimed block hash, when one is
 *               given; the proposer's signature verifies
 *   3. chain    the transaction's chain is the header's
 *   4. leaves   tx_count is the header's and index is below it
 *   5. path     leads from SHA-256(tx) at index to the header's tx_root
 *
 * What a valid proof does not say: that the proposer is a validator the
 * reader trusts (the caller compares header.proposer with its list), or
 * that the transaction was accepted -- a rejected transaction stays in
 * its block with a failing receipt, and receipts are not committed to by
 * the header (docs/FORMATS.md, "Receipts hash").
 *
 * Rejections (HANSE_ERR(INVALID), status 400) carry a stable code, one
 * per step, that callers may keep or map onto their own ("xchain.*"):
 *
 *   proof.bad_tx               the transaction does not decode
 *   proof.bad_batch            the batch does not decode or does not hold it
 *   proof.bad_signature        the transaction's (or batch's) signature
 *   proof.bad_header           the header does not decode
 *   proof.bad_block_hash       the header does not hash to the claim
 *   proof.bad_header_signature the proposer's signature on the header
 *   proof.wrong_chain          the transaction is not of the header's chain
 *   proof.bad_index            tx_count is not the header's, or index >= it
 *   proof.bad_path             the path is too long or does not lead to
 *                              the tx_root
 */
#ifndef HANSE_INCLUSION_H
#define HANSE_INCLUSION_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/merkle.h"
#include "encoding/block.h"

/* A proof to check. Every pointer is borrowed for the call. */
typedef struct hanse_inclusion {
  const uint8_t *tx;          /* the transaction's encoding */
  size_t tx_len;
  int batched;                /* it travelled inside a batch */
  const uint8_t *batch;       /* that batch's encoding; NULL: not given,
                                 and then no signature covers the
                                 transaction here (see above) */
  size_t batch_len;
  const uint8_t *header;      /* the block header's encoding */
  size_t header_len;
  const hanse_hash *block_hash; /* a claimed block hash, or NULL */
  uint64_t index;             /* leaf position in the block */
  uint64_t tx_count;          /* leaves claimed */
  const hanse_hash *path;     /* path_len hashes, leaf side first */
  size_t path_len;
} hanse_inclusion;

/* What a valid proof established. `tx` borrows from hanse_inclusion.tx,
 * which must outlive it. */
typedef struct hanse_included {
  hanse_tx tx;
  hanse_header header;
  hanse_hash block_hash;      /* SHA-256 of the header's signed part */
} hanse_included;

/* Skip the signature checks (steps 1 and 2), for a caller that already
 * made them on the same bytes: the xchain module's verify and apply, after
 * its check. Everything else is still checked. */
#define HANSE_INCLUSION_NO_SIGS 1

/* Check `in` as above. HANSE_OK and *out filled, or HANSE_ERR(INVALID)
 * with rej (may be NULL) carrying a proof.* code and a message saying
 * which check failed; HANSE_ERR(NOMEM) if a batch could not be decoded
 * for want of memory. */
int hanse_inclusion_verify(const hanse_inclusion *in, int flags,
                           hanse_included *out, hanse_reject *rej);

#endif
