/*
 * xchain/xchain_msg.c -- opening a relayed message.
 *
 * An xchain.receive carries another chain's xchain.send and the proof that
 * it is in one of that chain's blocks, as GET /v1/chains/{A}/txs/{id}
 * gives them (the client's hanse_client_xchain_payload copies them over):
 *
 *   {"from_chain":"A", "tx":"<hex>", "header":"<hex>", "index":i,
 *    "tx_count":n, "path":["<64 hex>", ...], "batch"?:"<hex>",
 *    "class"?:"<data class>"}
 *
 * Opening it checks everything that needs no state, each failure with its
 * own stable code:
 *
 *   1. from_chain is a chain id, and not this chain      xchain.bad_chain
 *   2. shapes: tx, header and batch are hex within their bounds, index
 *      and tx_count integers, path an array of at most 32 hashes: the
 *      code of the step below the field belongs to
 *   3. the inclusion proof (encoding/inclusion.h), whose proof.* codes
 *      become xchain.*: bad_tx, bad_batch, bad_signature, bad_header,
 *      bad_header_signature, wrong_chain, bad_index, bad_path
 *   4. the header is from_chain's                        xchain.wrong_source
 *   5. the source transaction is an xchain.send          xchain.not_a_send
 *      whose payload passes the send's own check         xchain.bad_message
 *      and names this chain as its destination           xchain.wrong_destination
 *   6. the receive's "class" is the send's (both absent, or equal): the
 *      read policy judges the receive by it, so a relayer cannot move a
 *      message into a class more people may read     xchain.class_mismatch
 *
 * "batch" is present exactly when the source transaction travelled in a
 * batch: the batch's one signature is what covers it, so the whole batch
 * comes along (bounded, like everything here, by the receive's payload).
 *
 * What needs the state -- whether this chain's genesis declares
 * from_chain and the block's proposer among its validators, and whether
 * the message was received before -- is the module's verify (xchain.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "modules/xchain/xchain_internal.h"

/* p[key] as bytes: a hex string of at most max_bytes decoded. *out is
 * malloc'd (NULL for ""); 0 if absent, not a string, too long or not hex. */
static int hex_member(json_t *p, const char *key, size_t max_bytes, uint8_t **out, size_t *n) {
  json_t *v = json_object_get(p, key);
  *out = NULL;
  *n = 0;
  if (!json_is_string(v) || json_string_length(v) > 2 * max_bytes) return 0;
  return hanse_hex_decode_alloc(json_string_value(v), json_string_length(v), out, n) == HANSE_OK;
}

/* A JSON integer from 0 to max. */
static int u64_member(json_t *p, const char *key, uint64_t max, uint64_t *out) {
  json_t *v = json_object_get(p, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
    return 0;
  *out = (uint64_t)json_integer_value(v);
  return 1;
}

void xchain_msg_free(xchain_msg *m) {
  free(m->tx_raw);
  free(m->header_raw);
  free(m->batch_raw);
  json_decref(m->payload);
  memset(m, 0, sizeof *m);
}

/* Steps 4 to 6: the source transaction, now known to be in a block of a
 * header that decodes and (unless skipped) is signed. */
static int check_source(const hanse_tx *rtx, json_t *p, xchain_msg *m, hanse_reject *rej) {
  const hanse_tx *src = &m->inc.tx;
  if (strcmp(m->inc.header.chain_id, m->from_chain) != 0)
    return hanse_reject_code(rej, "xchain.wrong_source", 400,
                             "the proof is of chain '%s', not of from_chain '%s'",
                             m->inc.header.chain_id, m->from_chain);
  if (strcmp(src->kind, "xchain.send") != 0)
    return hanse_reject_code(rej, "xchain.not_a_send", 400,
                             "the source transaction is a %s, not an xchain.send", src->kind);
  hanse_reject why;
  hanse_reject_clear(&why);
  int rc = hanse_payload_parse(src->payload, src->payload_len, &m->payload, &why);
  if (rc == HANSE_OK) rc = xchain_send_check(src, m->payload, &why);
  if (rc == HANSE_ERR(NOMEM)) return hanse_reject_set(rej, rc, NULL);
  if (rc != HANSE_OK)
    return hanse_reject_code(rej, "xchain.bad_message", 400, "the source transaction: %s: %s",
                             why.code, why.message);
  const char *to = json_string_value(json_object_get(m->payload, "to_chain"));
  if (strcmp(to, rtx->chain_id) != 0)
    return hanse_reject_code(rej, "xchain.wrong_destination", 400,
                             "the message is for chain '%s', this is '%s'", to, rtx->chain_id);
  json_t *mine = json_object_get(p, "class"), *theirs = json_object_get(m->payload, "class");
  if ((mine == NULL) != (theirs == NULL) || (mine && !json_equal(mine, theirs)))
    return hanse_reject_code(
        rej, "xchain.class_mismatch", 400,
        "\"class\" must be the source message's (%s), or absent when it has none",
        theirs ? json_string_value(theirs) : "none");
  return HANSE_OK;
}

int xchain_msg_open(const hanse_tx *rtx, json_t *p, int flags, xchain_msg *m,
                    hanse_reject *rej) {
  HANSE_ASSERT(rtx != NULL && p != NULL && m != NULL);
  memset(m, 0, sizeof *m);
  /* 1. */
  m->from_chain = json_string_value(json_object_get(p, "from_chain"));
  if (m->from_chain == NULL || !hanse_chain_id_valid(m->from_chain, strlen(m->from_chain)))
    return hanse_reject_code(rej, "xchain.bad_chain", 400,
                             "\"from_chain\" must be a chain id, 1-32 of [a-z0-9._-]");
  if (strcmp(m->from_chain, rtx->chain_id) == 0)
    return hanse_reject_code(rej, "xchain.bad_chain", 400, "a chain does not receive from itself");

  /* 2. */
  hanse_inclusion in;
  memset(&in, 0, sizeof in);
  hanse_hash path[HANSE_MERKLE_PATH_MAX];
  int rc = HANSE_OK;
  if (!hex_member(p, "tx", HANSE_TX_MAX, &m->tx_raw, &in.tx_len))
    rc = hanse_reject_code(rej, "xchain.bad_tx", 400,
                           "\"tx\" must be the source transaction in hex");
  else if (!hex_member(p, "header", HANSE_BLOCK_HEADER_MAX, &m->header_raw, &in.header_len))
    rc = hanse_reject_code(rej, "xchain.bad_header", 400,
                           "\"header\" must be the source block's header in hex");
  else if (json_object_get(p, "batch") &&
           (!hex_member(p, "batch", HANSE_PAYLOAD_MAX, &m->batch_raw, &in.batch_len) ||
            in.batch_len == 0))
    rc = hanse_reject_code(rej, "xchain.bad_batch", 400,
                           "\"batch\" must be the source transaction's batch in hex");
  else if (!u64_member(p, "index", HANSE_BLOCK_TX_MAX, &in.index) ||
           !u64_member(p, "tx_count", HANSE_BLOCK_TX_MAX, &in.tx_count))
    rc = hanse_reject_code(rej, "xchain.bad_index", 400,
                           "\"index\" and \"tx_count\" must be integers from 0 to %d",
                           HANSE_BLOCK_TX_MAX);
  json_t *pj = json_object_get(p, "path");
  if (rc == HANSE_OK && (!json_is_array(pj) || json_array_size(pj) > HANSE_MERKLE_PATH_MAX))
    rc = hanse_reject_code(rej, "xchain.bad_path", 400,
                           "\"path\" must be an array of at most %d hashes", HANSE_MERKLE_PATH_MAX);
  for (size_t i = 0; rc == HANSE_OK && i < json_array_size(pj); i++)
    if (hanse_hash_parse(&path[i], json_string_value(json_array_get(pj, i))) != HANSE_OK)
      rc = hanse_reject_code(rej, "xchain.bad_path", 400, "path[%zu] is not a 64-hex hash", i);
  if (rc != HANSE_OK) goto fail;

  /* 3. */
  in.tx = m->tx_raw;
  in.header = m->header_raw;
  in.batched = m->batch_raw != NULL;
  in.batch = m->batch_raw;
  in.path = path;
  in.path_len = json_array_size(pj);
  hanse_reject why;
  hanse_reject_clear(&why);
  rc = hanse_inclusion_verify(&in, flags, &m->inc, &why);
  if (rc == HANSE_ERR(NOMEM)) {
    rc = hanse_reject_set(rej, rc, NULL);
    goto fail;
  }
  if (rc != HANSE_OK) {
    HANSE_ASSERT(strncmp(why.code, "proof.", 6) == 0);
    char code[HANSE_REJECT_CODE_MAX];
    snprintf(code, sizeof code, "xchain.%.*s", (int)(sizeof code - 8), why.code + 6);
    rc = hanse_reject_code(rej, code, 400, "%s", why.message);
    goto fail;
  }

  /* 4 to 6. */
  rc = check_source(rtx, p, m, rej);
  if (rc == HANSE_OK) return HANSE_OK;
fail:
  xchain_msg_free(m);
  return rc;
}
