/*
 * proof.c -- checking a transaction's inclusion proof without trusting the
 * node that sent it.
 *
 * A `GET /v1/chains/{chain}/txs/{id}` answer says: these raw bytes are a
 * transaction; it is leaf `index` of `tx_count` in the block whose header
 * is `header`; here is the Merkle audit path. Every claim is recomputed
 * from bytes, in this order, each step using only what the previous ones
 * established:
 *
 *   1. id       = SHA-256(raw); equals the answer's id and the one asked
 *   2. raw      decodes as a transaction of this chain; if it travelled
 *               alone, its signer's signature verifies (a batched one is
 *               covered by its batch's signature, which the answer does
 *               not carry)
 *   3. header   decodes; SHA-256 of its unsigned part is block_hash; the
 *               proposer's signature verifies; it is this chain's, at the
 *               receipt's height, with tx_count leaves and the tx_root the
 *               answer names
 *   4. path     leads from the id at `index` to the header's tx_root
 *               (RFC 6962, crypto/merkle.h)
 *
 * What this does not establish: that the proposer is one of the chain's
 * validators (that needs the genesis, which `hanse verify` checks
 * offline), and that the block is on the node's main chain (a single
 * sequencer has no forks).
 */
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "client/client_internal.h"
#include "crypto/merkle.h"
#include "encoding/block.h"

#define BAD(...) client_fail(rej, HANSE_ERR(INVALID), "proof.invalid", __VA_ARGS__)

static int hash_field(json_t *obj, const char *key, hanse_hash *out) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s != NULL && hanse_hash_parse(out, s) == HANSE_OK;
}

/* A non-negative JSON integer. */
static int u64_field(json_t *obj, const char *key, uint64_t *out) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0) return 0;
  *out = (uint64_t)json_integer_value(v);
  return 1;
}

/* Steps 1 and 2. */
static int check_tx(const hanse_client *c, json_t *doc, const uint8_t *raw,
                    size_t raw_len, const hanse_hash *expect_id, hanse_hash *id,
                    hanse_reject *rej) {
  hanse_sha256(id, raw, raw_len);
  hanse_hash claimed;
  if (!hash_field(doc, "id", &claimed) || !hanse_hash_eq(&claimed, id))
    return BAD("the raw transaction does not hash to the answer's id");
  if (expect_id && !hanse_hash_eq(expect_id, id))
    return BAD("the raw transaction does not hash to the id asked for");
  int batched = json_is_true(json_object_get(json_object_get(doc, "tx"), "batched"));
  hanse_tx tx;
  hanse_reject why;
  hanse_reject_clear(&why);
  if (hanse_tx_decode(&tx, raw, raw_len, batched, &why) != HANSE_OK)
    return BAD("the raw transaction does not decode: %s", why.message);
  if (strcmp(tx.chain_id, c->chain_id) != 0)
    return BAD("the transaction is for chain '%s', not '%s'", tx.chain_id, c->chain_id);
  if (!batched && !hanse_tx_verify_sig(&tx))
    return BAD("the transaction's signature does not verify");
  return HANSE_OK;
}

/* Step 3. */
static int check_header(const hanse_client *c, json_t *proof, json_t *receipt,
                        hanse_header *h, uint64_t *index, hanse_reject *rej) {
  const char *hex = json_string_value(json_object_get(proof, "header"));
  uint8_t *bytes = NULL;
  size_t n = 0;
  if (hex == NULL || hanse_hex_decode_alloc(hex, strlen(hex), &bytes, &n) != HANSE_OK)
    return BAD("the proof has no header in hex");
  hanse_reject why;
  hanse_reject_clear(&why);
  int rc = hanse_header_decode(h, bytes, n, &why);
  free(bytes);
  if (rc != HANSE_OK) return BAD("the header does not decode: %s", why.message);
  hanse_hash hash, want;
  hanse_header_hash(h, &hash);
  if (!hash_field(proof, "block_hash", &want) || !hanse_hash_eq(&hash, &want))
    return BAD("the header does not hash to block_hash");
  if (!hanse_header_verify_sig(h))
    return BAD("the proposer's signature on the header does not verify");
  if (strcmp(h->chain_id, c->chain_id) != 0)
    return BAD("the header is of chain '%s', not '%s'", h->chain_id, c->chain_id);
  hanse_hash root;
  if (!hash_field(proof, "tx_root", &root) || !hanse_hash_eq(&root, &h->tx_root))
    return BAD("the proof's tx_root is not the header's");
  uint64_t height, count, rindex;
  if (!u64_field(receipt, "height", &height) || height != h->height)
    return BAD("the receipt's height is not the header's");
  if (!u64_field(proof, "tx_count", &count) || count != h->tx_count)
    return BAD("the proof's tx_count is not the header's");
  if (!u64_field(proof, "index", index) || *index >= count)
    return BAD("the proof's index is outside the block");
  if (u64_field(receipt, "index", &rindex) && rindex != *index)
    return BAD("the receipt's index is not the proof's");
  return HANSE_OK;
}

int hanse_client_proof_verify(const hanse_client *c, json_t *doc,
                              const hanse_hash *expect_id, hanse_reject *rej) {
  const char *status = json_string_value(json_object_get(doc, "status"));
  if (status != NULL && strcmp(status, "pending") == 0)
    return client_fail(rej, HANSE_ERR(NOT_FOUND), "proof.pending",
                       "the transaction is pending: no block holds it yet");
  json_t *proof = json_object_get(doc, "proof");
  json_t *receipt = json_object_get(doc, "receipt");
  const char *raw_hex = json_string_value(json_object_get(doc, "raw"));
  if (!json_is_object(proof) || !json_is_object(receipt) || raw_hex == NULL)
    return BAD("the answer has no raw transaction, receipt or proof");

  uint8_t *raw = NULL;
  size_t raw_len = 0;
  if (hanse_hex_decode_alloc(raw_hex, strlen(raw_hex), &raw, &raw_len) != HANSE_OK)
    return BAD("\"raw\" is not hex");
  hanse_hash id;
  int rc = check_tx(c, doc, raw, raw_len, expect_id, &id, rej);
  free(raw);
  if (rc != HANSE_OK) return rc;

  hanse_header h;
  uint64_t index = 0;
  rc = check_header(c, proof, receipt, &h, &index, rej);
  if (rc != HANSE_OK) return rc;

  /* Step 4. */
  json_t *path_json = json_object_get(proof, "path");
  if (!json_is_array(path_json) || json_array_size(path_json) > HANSE_MERKLE_PATH_MAX)
    return BAD("the proof's path is not an array of at most %d hashes",
               HANSE_MERKLE_PATH_MAX);
  hanse_hash path[HANSE_MERKLE_PATH_MAX];
  size_t path_len = json_array_size(path_json);
  for (size_t i = 0; i < path_len; i++) {
    const char *s = json_string_value(json_array_get(path_json, i));
    if (s == NULL || hanse_hash_parse(&path[i], s) != HANSE_OK)
      return BAD("path[%zu] is not a 64-hex hash", i);
  }
  if (!hanse_merkle_verify(&h.tx_root, id.b, sizeof id.b, (size_t)index, h.tx_count,
                           path, path_len))
    return BAD("the Merkle path does not lead from the transaction to the tx_root");
  return HANSE_OK;
}
