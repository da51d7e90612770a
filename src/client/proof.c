/*
 * proof.c -- checking a transaction's inclusion proof without trusting the
 * node that sent it.
 *
 * A `GET /v1/chains/{chain}/txs/{id}` answer says: these raw bytes are a
 * transaction (of a batch, whose bytes are in "batch_raw"); it is leaf
 * `index` of `tx_count` in the block whose header is `header`; here is the
 * Merkle audit path. The checks on the bytes themselves -- decoding, the
 * transaction's (or batch's) and the proposer's signatures, one chain,
 * the path to the header's tx_root -- are encoding/inclusion.c's, shared
 * with the xchain module, which receives the same proofs on another
 * chain. Around them this file checks the answer's own claims against
 * what the bytes established:
 *
 *   before  id = SHA-256(raw) equals the answer's id and the one asked;
 *           the receipt's index is the proof's; the header hashes to the
 *           answer's block_hash (inclusion.c compares it)
 *   after   the transaction and header are this client's chain; the
 *           answer's tx_root and the receipt's height are the header's
 *
 * A batched transaction whose answer lacks "batch_raw" (an older node) is
 * checked without a signature: it must still decode, be this chain's and
 * be in the block.
 *
 * With a validator set (hanse_client_validators_set, or _fetch from the
 * genesis) the block must also be *certified*: the answer's
 * "certificate" holds signatures of the block hash (encoding/cert.h) by a
 * quorum of distinct validators, every one of them valid -- one forged or
 * foreign signature refuses the whole answer -- and the proposer must be
 * a validator. That is what shows that the consortium, not the one node
 * answering, stands behind the block. Without a validator set the
 * certificate is not looked at.
 *
 * What this does not establish: that the transaction was accepted (the
 * receipt is the node's word: receipts are not in the header), and,
 * without a validator set, who the validators are.
 */
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "client/client_internal.h"
#include "crypto/merkle.h"
#include "encoding/cert.h"
#include "encoding/inclusion.h"

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

/* A hex string member decoded into *out (malloc'd, the caller frees). */
static int hex_field(json_t *obj, const char *key, uint8_t **out, size_t *n) {
  const char *hex = json_string_value(json_object_get(obj, key));
  *out = NULL;
  *n = 0;
  return hex != NULL && hanse_hex_decode_alloc(hex, strlen(hex), out, n) == HANSE_OK;
}

/* The answer's claims about the bytes that inclusion.c does not see. */
static int check_claims(const hanse_client *c, json_t *proof, json_t *receipt,
                        const hanse_included *inc, hanse_reject *rej) {
  if (strcmp(inc->tx.chain_id, c->chain_id) != 0)
    return BAD("the transaction is for chain '%s', not '%s'", inc->tx.chain_id, c->chain_id);
  hanse_hash root;
  if (!hash_field(proof, "tx_root", &root) || !hanse_hash_eq(&root, &inc->header.tx_root))
    return BAD("the proof's tx_root is not the header's");
  uint64_t height;
  if (!u64_field(receipt, "height", &height) || height != inc->header.height)
    return BAD("the receipt's height is not the header's");
  return HANSE_OK;
}

/* ---- Validators and certificates ---- */

int hanse_client_validators_set(hanse_client *c, const hanse_pubkey *keys, size_t n,
                                hanse_reject *rej) {
  if (n < 1 || n > CLIENT_VALIDATORS_MAX)
    return client_fail(rej, HANSE_ERR(INVALID), "cert.bad_validators",
                       "a validator set holds 1 to %d keys, not %zu", CLIENT_VALIDATORS_MAX, n);
  memcpy(c->validators, keys, n * sizeof *keys);
  c->validator_count = (int)n;
  return HANSE_OK;
}

int hanse_client_validators_fetch(hanse_client *c, hanse_reject *rej) {
  char path[HANSE_CHAIN_ID_MAX + 32];
  snprintf(path, sizeof path, "/v1/chains/%s/genesis", c->chain_id);
  json_t *g = NULL;
  int rc = client_request(c, "GET", path, NULL, NULL, 0, 0, &g, rej);
  if (rc != HANSE_OK) return rc;
  json_t *arr = json_object_get(g, "validators");
  hanse_pubkey keys[CLIENT_VALIDATORS_MAX];
  size_t n = json_array_size(arr);
  if (!json_is_array(arr) || n < 1 || n > CLIENT_VALIDATORS_MAX) {
    json_decref(g);
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                       "the genesis lists no validators (1 to %d keys)", CLIENT_VALIDATORS_MAX);
  }
  for (size_t i = 0; i < n; i++) {
    const char *k = json_string_value(json_array_get(arr, i));
    if (k == NULL || hanse_pubkey_parse(&keys[i], k) != HANSE_OK) {
      json_decref(g);
      return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                         "the genesis's validator %zu is not a 64-hex key", i);
    }
  }
  json_decref(g);
  return hanse_client_validators_set(c, keys, n, rej);
}

/* Signatures in a certificate beyond this are not read: a validator
 * signs once, and a set holds at most CLIENT_VALIDATORS_MAX. */
#define CLIENT_CERT_SIGS_MAX (2 * CLIENT_VALIDATORS_MAX)

int hanse_client_cert_verify(const hanse_client *c, json_t *cert, uint64_t height,
                             const hanse_hash *block_hash, int *signed_by, int *validators,
                             hanse_reject *rej) {
  if (signed_by) *signed_by = 0;
  if (validators) *validators = c->validator_count;
  if (c->validator_count == 0)
    return client_fail(rej, HANSE_ERR(INVALID), "cert.no_validators",
                       "no validator set to check a certificate against "
                       "(hanse_client_validators_fetch)");
  json_t *arr = json_object_get(cert, "signatures");
  size_t n = json_array_size(arr);
  if (!json_is_object(cert) || !json_is_array(arr) || n > CLIENT_CERT_SIGS_MAX)
    return client_fail(rej, HANSE_ERR(INVALID), "cert.malformed",
                       "a certificate is {\"signatures\":[{\"signer\",\"sig\"}]} with at most "
                       "%d signatures",
                       CLIENT_CERT_SIGS_MAX);
  hanse_cert_sig sigs[CLIENT_CERT_SIGS_MAX];
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_array_get(arr, i);
    const char *signer = json_string_value(json_object_get(e, "signer"));
    const char *sig = json_string_value(json_object_get(e, "sig"));
    if (signer == NULL || sig == NULL || hanse_pubkey_parse(&sigs[i].signer, signer) != HANSE_OK ||
        hanse_hex_decode_exact(sigs[i].sig.b, HANSE_SIG_BYTES, sig) != HANSE_OK)
      return client_fail(rej, HANSE_ERR(INVALID), "cert.malformed",
                         "certificate signature %zu is not {\"signer\",\"sig\"} in hex", i);
  }
  int k = 0;
  int rc = hanse_cert_check(c->chain_id, height, block_hash, c->validators, c->validator_count,
                            sigs, n, &k, rej);
  if (signed_by) *signed_by = k;
  return rc;
}

/* With a validator set: the proposer is one, and a quorum certified the
 * block the proof leads to. */
static int check_certified(const hanse_client *c, json_t *doc, const hanse_included *inc,
                           hanse_reject *rej) {
  int known = 0;
  for (int i = 0; i < c->validator_count; i++)
    if (memcmp(c->validators[i].b, inc->header.proposer.b, HANSE_PUBKEY_BYTES) == 0) known = 1;
  if (!known) return BAD("the block's proposer is not a validator of the chain");
  json_t *cert = json_object_get(doc, "certificate");
  if (cert == NULL) return BAD("the answer carries no certificate of block %llu",
                               (unsigned long long)inc->header.height);
  hanse_reject why;
  hanse_reject_clear(&why);
  int rc = hanse_client_cert_verify(c, cert, inc->header.height, &inc->block_hash, NULL, NULL, &why);
  if (rc != HANSE_OK) return BAD("certificate (%s): %s", why.code, why.message);
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
  if (!json_is_object(proof) || !json_is_object(receipt) ||
      !json_is_string(json_object_get(doc, "raw")))
    return BAD("the answer has no raw transaction, receipt or proof");

  hanse_inclusion in;
  memset(&in, 0, sizeof in);
  uint8_t *raw = NULL, *header = NULL, *batch = NULL;
  hanse_hash path[HANSE_MERKLE_PATH_MAX], id, claimed, block_hash;
  int rc;
  if (!hex_field(doc, "raw", &raw, &in.tx_len)) {
    rc = BAD("\"raw\" is not hex");
    goto done;
  }
  in.tx = raw;
  hanse_sha256(&id, raw, in.tx_len);
  if (!hash_field(doc, "id", &claimed) || !hanse_hash_eq(&claimed, &id)) {
    rc = BAD("the raw transaction does not hash to the answer's id");
    goto done;
  }
  if (expect_id && !hanse_hash_eq(expect_id, &id)) {
    rc = BAD("the raw transaction does not hash to the id asked for");
    goto done;
  }
  in.batched = json_is_true(json_object_get(json_object_get(doc, "tx"), "batched"));
  if (in.batched && json_object_get(doc, "batch_raw") != NULL) {
    if (!hex_field(doc, "batch_raw", &batch, &in.batch_len)) {
      rc = BAD("\"batch_raw\" is not hex");
      goto done;
    }
    in.batch = batch;
  }
  if (!hex_field(proof, "header", &header, &in.header_len)) {
    rc = BAD("the proof has no header in hex");
    goto done;
  }
  in.header = header;
  if (hash_field(proof, "block_hash", &block_hash)) in.block_hash = &block_hash;
  if (!u64_field(proof, "tx_count", &in.tx_count)) {
    rc = BAD("the proof's tx_count is not the header's");
    goto done;
  }
  uint64_t rindex;
  if (!u64_field(proof, "index", &in.index)) {
    rc = BAD("the proof's index is outside the block");
    goto done;
  }
  if (u64_field(receipt, "index", &rindex) && rindex != in.index) {
    rc = BAD("the receipt's index is not the proof's");
    goto done;
  }
  json_t *path_json = json_object_get(proof, "path");
  if (!json_is_array(path_json) || json_array_size(path_json) > HANSE_MERKLE_PATH_MAX) {
    rc = BAD("the proof's path is not an array of at most %d hashes", HANSE_MERKLE_PATH_MAX);
    goto done;
  }
  in.path = path;
  in.path_len = json_array_size(path_json);
  for (size_t i = 0; i < in.path_len; i++) {
    const char *s = json_string_value(json_array_get(path_json, i));
    if (s == NULL || hanse_hash_parse(&path[i], s) != HANSE_OK) {
      rc = BAD("path[%zu] is not a 64-hex hash", i);
      goto done;
    }
  }

  hanse_included inc;
  hanse_reject why;
  hanse_reject_clear(&why);
  rc = hanse_inclusion_verify(&in, 0, &inc, &why);
  if (rc == HANSE_ERR(NOMEM)) rc = hanse_reject_set(rej, rc, NULL);
  else if (rc != HANSE_OK) rc = BAD("%s", why.message);
  else if (in.block_hash == NULL) rc = BAD("the header does not hash to block_hash");
  else rc = check_claims(c, proof, receipt, &inc, rej);
  if (rc == HANSE_OK && c->validator_count > 0) rc = check_certified(c, doc, &inc, rej);
done:
  free(raw);
  free(header);
  free(batch);
  return rc;
}
