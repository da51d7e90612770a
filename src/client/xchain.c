/*
 * xchain.c -- relaying a message from one chain to another.
 *
 * An xchain.send committed on chain A is carried to chain B by anyone B's
 * policy lets submit an xchain.receive: the relayer reads the send with
 * its inclusion proof from A (GET /v1/chains/A/txs/{id}), checks it here
 * like `hanse get tx` does (hanse_client_proof_verify), and submits the
 * same bytes to B, where the xchain module checks them again against the
 * validators B's genesis names for A (modules/xchain/xchain.c).
 *
 * The relayer refuses, before spending a transaction on B:
 *   proof.pending            the send is not in a block yet
 *   proof.invalid            the proof does not hold (client/proof.c)
 *   xchain.not_a_send        the transaction is not an xchain.send
 *   xchain.source_rejected   A refused it (its receipt is not "ok"): B
 *                            could not tell, since headers do not commit
 *                            to receipts, so an honest relayer does not
 *                            carry it
 * The receive payload copies the send's "class", which B requires.
 */
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "client/client_internal.h"

int hanse_client_xchain_payload(const hanse_client *src, json_t *tx_doc,
                                const hanse_hash *id, json_t **payload, hanse_reject *rej) {
  *payload = NULL;
  int rc = hanse_client_proof_verify(src, tx_doc, id, rej);
  if (rc != HANSE_OK) return rc;
  const char *code = json_string_value(json_object_get(json_object_get(tx_doc, "receipt"), "code"));
  if (code == NULL || strcmp(code, "ok") != 0)
    return client_fail(rej, HANSE_ERR(INVALID), "xchain.source_rejected",
                       "chain '%s' rejected the transaction (%s): there is no message to relay",
                       src->chain_id, code ? code : "no receipt code");
  /* The kind and class from the bytes just verified, not from the node's
   * decoded copy. */
  const char *raw_hex = json_string_value(json_object_get(tx_doc, "raw"));
  int batched = json_is_true(json_object_get(json_object_get(tx_doc, "tx"), "batched"));
  if (batched && !json_is_string(json_object_get(tx_doc, "batch_raw")))
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                       "the answer lacks the batch of a batched transaction");
  uint8_t *raw = NULL;
  size_t raw_len = 0;
  hanse_tx tx;
  json_t *src_payload = NULL;
  if (hanse_hex_decode_alloc(raw_hex, strlen(raw_hex), &raw, &raw_len) != HANSE_OK ||
      hanse_tx_decode(&tx, raw, raw_len, batched, NULL) != HANSE_OK) {
    free(raw);
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response", "the raw transaction changed");
  }
  if (strcmp(tx.kind, "xchain.send") != 0) {
    rc = client_fail(rej, HANSE_ERR(INVALID), "xchain.not_a_send",
                     "the transaction is a %s, not an xchain.send", tx.kind);
    free(raw);
    return rc;
  }
  src_payload = json_loadb((const char *)tx.payload, tx.payload_len, 0, NULL);
  free(raw);
  json_t *proof = json_object_get(tx_doc, "proof");
  json_t *p = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O}", "from_chain", src->chain_id, "tx",
                        json_object_get(tx_doc, "raw"), "header", json_object_get(proof, "header"),
                        "index", json_object_get(proof, "index"), "tx_count",
                        json_object_get(proof, "tx_count"), "path", json_object_get(proof, "path"));
  json_t *cls = json_object_get(src_payload, "class");
  if (p && cls) json_object_set(p, "class", cls);
  if (p && batched) json_object_set(p, "batch", json_object_get(tx_doc, "batch_raw"));
  json_decref(src_payload);
  if (p == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  *payload = p;
  return HANSE_OK;
}

int hanse_client_xchain_relay(hanse_client *src, hanse_client *dst, const hanse_hash *id,
                              const hanse_keypair *kp, int flags, long wait_timeout_ms,
                              json_t **result, hanse_reject *rej) {
  *result = NULL;
  json_t *doc = NULL, *payload = NULL;
  hanse_buf tx;
  hanse_buf_init(&tx);
  uint64_t seq = 0;
  int rc = hanse_client_tx_get(src, id, &doc, rej);
  if (rc == HANSE_OK) rc = hanse_client_xchain_payload(src, doc, id, &payload, rej);
  if (rc == HANSE_OK) rc = hanse_client_next_seq(dst, &kp->pub, &seq, rej);
  if (rc == HANSE_OK) {
    hanse_client_op op = {"xchain.receive", payload};
    rc = hanse_client_tx_build(dst, &op, seq, kp, &tx, NULL, rej);
  }
  if (rc == HANSE_OK) {
    hanse_client_entry e = {HANSE_TYPE_TX, tx.data, tx.len};
    rc = hanse_client_submit(dst, &e, 1, flags, wait_timeout_ms, result, rej);
  }
  if (rc == HANSE_OK) rc = hanse_client_result_check(*result, !(flags & HANSE_SUBMIT_WAIT), rej);
  hanse_buf_free(&tx);
  json_decref(payload);
  json_decref(doc);
  return rc;
}
