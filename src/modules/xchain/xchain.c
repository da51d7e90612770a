/*
 * xchain/xchain.c -- messages between chains: sent on one, received on
 * another, each side an explicit, signed, recorded transaction.
 *
 * Chains are independent state machines: a block of chain B executes on
 * B's state alone, so B can never look into A's database. A message from
 * A to B therefore travels as data:
 *
 *   on A   xchain.send {"to_chain":"B", "kind":"trace.publish",
 *                       "body":{...}, "class"?:"<data class>"}
 *          signed by its author; the transaction itself is the message,
 *          and A's outbox records it.
 *   on B   xchain.receive {"from_chain":"A", "tx", "header", "index",
 *                          "tx_count", "path", "batch"?, "class"?}
 *          signed by whoever relays it (B's policy decides who may):
 *          A's transaction, A's block header and the Merkle path between
 *          them (xchain_msg.c). B's genesis names the keys it trusts to
 *          sign A's blocks: "peers": {"A": ["<validator key hex>", ...]}.
 *
 * check runs the cryptography (both signatures, the path) and every shape;
 * verify asks B's state whether A is a peer, whether the header's proposer
 * is one of A's validators there (the genesis, read from the "genesis"
 * state key, so every replica and `hanse verify` answer alike), and whether
 * the message arrived before. Codes: xchain.unknown_peer and
 * xchain.unknown_validator (403), xchain.duplicate (409); check's codes are
 * listed in xchain_msg.c.
 *
 * State (canonical JSON: sorted keys, compact; hex lowercase):
 *   xchain/out/<tx id>                 {"body_sha256","class"?,"height",
 *                                       "kind","signer","to_chain","tx"}
 *   xchain/to/<to_chain>/<tx id>       "" (the outbox of one destination)
 *   xchain/in/<from_chain>/<source tx id>
 *                                      {"body","body_sha256","class"?,
 *                                       "from_chain","height","kind",
 *                                       "relayed_by","signer","source_block",
 *                                       "source_height","source_tx","tx"}
 * body_sha256 is the SHA-256 of the body's canonical JSON on both sides,
 * so the two records of one message can be compared; "signer" is always
 * the message's author, "relayed_by" the receive's signer, "height" the
 * block of the record's own chain.
 *
 * What a receive proves, and what it does not. The proof shows that A's
 * author signed the message and that a validator B trusts put it in a
 * block of A. It does not show that A accepted it: a transaction A
 * rejected (its submit policy denied the author, say) stays in its block
 * with a failing receipt, and a header commits to no receipts (FORMATS.md,
 * "Receipts hash"). The relay client refuses to relay a send whose receipt
 * is not "ok", so honest relayers carry accepted messages only; a
 * dishonest relayer that B's policy lets relay could carry a send that A
 * refused. Closing that needs a receipts root in the header (a format
 * change). B's peers list is fixed at genesis: a change of A's validators
 * needs a new list on B (not yet governable by vote).
 *
 * Batched sends are received: the batch travels in "batch" and its one
 * signature covers the send; a batch too large for one receive payload
 * (HANSE_PAYLOAD_MAX, hex) cannot be relayed -- send such messages alone.
 *
 * Data class: "transaction"; a send may name another ("class"), which the
 * receive must repeat, so the read policy judges a message alike on both
 * chains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "chain/module.h"
#include "modules/xchain/xchain_internal.h"

static const char *const xchain_actions[] = {"send", "receive", NULL};

static int label_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > XCHAIN_LABEL_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* The hooks of the module that owns messages of `kind` ("trace" of
 * "trace.publish"), or NULL: a free-form kind. */
static const hanse_message_hooks *kind_hooks(const char *kind) {
  if (kind == NULL) return NULL;
  const char *dot = strchr(kind, '.');
  if (dot == NULL) return NULL;
  const hanse_module *m = hanse_registry_find(kind, (size_t)(dot - kind));
  return m ? m->messages : NULL;
}

/* The owning module's context-free check of a message's body. */
static int message_check(json_t *p, hanse_reject *rej) {
  const char *kind = json_string_value(json_object_get(p, "kind"));
  const hanse_message_hooks *h = kind_hooks(kind);
  if (h == NULL || h->check == NULL) return HANSE_OK;
  return h->check(kind, json_object_get(p, "body"), rej);
}

void xchain_out_key(char key[XCHAIN_KEY_MAX], const char *tx_hex) {
  snprintf(key, XCHAIN_KEY_MAX, "xchain/out/%s", tx_hex);
}

void xchain_in_key(char key[XCHAIN_KEY_MAX], const char *from_chain, const char *tx_hex) {
  snprintf(key, XCHAIN_KEY_MAX, "xchain/in/%s/%s", from_chain, tx_hex);
}

int xchain_send_check(const hanse_tx *tx, json_t *p, hanse_reject *rej) {
  if (tx->payload_len > XCHAIN_SEND_PAYLOAD_MAX)
    return hanse_reject_code(rej, "xchain.too_large", 400,
                             "a message's payload is at most %d bytes, so that it can be relayed",
                             XCHAIN_SEND_PAYLOAD_MAX);
  const char *to = json_string_value(json_object_get(p, "to_chain"));
  if (to == NULL || !hanse_chain_id_valid(to, strlen(to)))
    return hanse_reject_code(rej, "xchain.bad_destination", 400,
                             "\"to_chain\" must be a chain id, 1-32 of [a-z0-9._-]");
  if (strcmp(to, tx->chain_id) == 0)
    return hanse_reject_code(rej, "xchain.bad_destination", 400, "a chain does not send to itself");
  if (!label_valid(json_string_value(json_object_get(p, "kind"))))
    return hanse_reject_code(rej, "xchain.bad_kind", 400,
                             "\"kind\" must be a label of 1-%d of [a-z0-9._-], e.g. trace.publish",
                             XCHAIN_LABEL_MAX);
  if (!json_is_object(json_object_get(p, "body")))
    return hanse_reject_code(rej, "xchain.bad_body", 400, "\"body\" must be a JSON object");
  json_t *cls = json_object_get(p, "class");
  if (cls && !hanse_data_class_valid(json_string_value(cls)))
    return hanse_reject_code(rej, "xchain.bad_class", 400,
                             "\"class\" must be one of production, transaction, "
                             "customs_inspection, transport, financial, personal");
  return message_check(p, rej);
}

static int xchain_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  HANSE_ASSERT(tx != NULL && json_is_object(p));
  if (strcmp(action, "send") == 0) return xchain_send_check(tx, p, rej);
  xchain_msg m;
  int rc = xchain_msg_open(tx, p, 0, &m, rej);
  if (rc == HANSE_OK) xchain_msg_free(&m);
  return rc;
}

/* SHA-256 hex of the canonical JSON of `body`. */
static int body_sha256(json_t *body, char out[HANSE_HASH_HEX_BYTES]) {
  char *text = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT);
  if (text == NULL) return HANSE_ERR(NOMEM);
  hanse_hash h;
  hanse_sha256(&h, text, strlen(text));
  free(text);
  hanse_hash_hex(out, &h);
  return HANSE_OK;
}

static int put_json(hanse_exec *ex, const char *key, json_t *rec) {
  if (rec == NULL) return HANSE_ERR(NOMEM);
  char *text = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(rec);
  if (text == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_exec_put(ex, key, text, strlen(text));
  free(text);
  return rc;
}

static int send_apply(hanse_exec *ex, const hanse_tx *tx, json_t *p) {
  char id[HANSE_HASH_HEX_BYTES], signer[HANSE_HASH_HEX_BYTES], sha[HANSE_HASH_HEX_BYTES];
  char key[XCHAIN_KEY_MAX];
  hanse_hash_hex(id, &tx->id);
  hanse_pubkey_hex(signer, &tx->signer);
  int rc = body_sha256(json_object_get(p, "body"), sha);
  if (rc != HANSE_OK) return rc;
  const char *to = json_string_value(json_object_get(p, "to_chain"));
  HANSE_ASSERT(to != NULL && strcmp(to, tx->chain_id) != 0); /* check passed */
  json_t *rec = json_pack("{s:s, s:I, s:O, s:s, s:s, s:s}", "body_sha256", sha, "height",
                          (json_int_t)ex->height, "kind", json_object_get(p, "kind"), "signer",
                          signer, "to_chain", to, "tx", id);
  json_t *cls = json_object_get(p, "class");
  if (rec && cls) json_object_set(rec, "class", cls);
  xchain_out_key(key, id);
  rc = put_json(ex, key, rec);
  if (rc != HANSE_OK) return rc;
  snprintf(key, sizeof key, "xchain/to/%s/%s", to, id);
  return hanse_exec_put(ex, key, "", 0);
}

/* 1 if the genesis in the state declares `chain` a peer whose validators
 * include `proposer`; *peer says whether it is a peer at all. */
static int peer_validator(hanse_exec *ex, const char *chain, const hanse_pubkey *proposer,
                          int *peer, int *validator) {
  HANSE_ASSERT(chain != NULL && proposer != NULL);
  *peer = *validator = 0;
  const uint8_t *v;
  size_t n;
  int found;
  int rc = hanse_exec_get(ex, "genesis", &v, &n, &found);
  if (rc != HANSE_OK) return rc;
  if (!found) return HANSE_ERR(INTERNAL); /* every chain has one */
  json_t *g = json_loadb((const char *)v, n, 0, NULL);
  if (g == NULL) return HANSE_ERR(INTERNAL); /* our own canonical text */
  json_t *keys = json_object_get(json_object_get(g, "peers"), chain);
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, proposer);
  *peer = json_is_array(keys);
  size_t i;
  json_t *k;
  json_array_foreach(keys, i, k) {
    const char *s = json_string_value(k);
    if (s && strcasecmp(s, hex) == 0) *validator = 1;
  }
  json_decref(g);
  return HANSE_OK;
}

static int receive_verify(hanse_exec *ex, const hanse_tx *tx, json_t *p, hanse_reject *rej) {
  xchain_msg m;
  int rc = xchain_msg_open(tx, p, HANSE_INCLUSION_NO_SIGS, &m, rej);
  if (rc != HANSE_OK) return rc;
  int peer, validator, found;
  rc = peer_validator(ex, m.from_chain, &m.inc.header.proposer, &peer, &validator);
  if (rc != HANSE_OK) {
    rc = hanse_reject_set(rej, rc, "reading the genesis");
  } else if (!peer) {
    rc = hanse_reject_code(rej, "xchain.unknown_peer", 403,
                           "this chain's genesis declares no peer chain '%s'", m.from_chain);
  } else if (!validator) {
    char hex[HANSE_HASH_HEX_BYTES];
    rc = hanse_reject_code(rej, "xchain.unknown_validator", 403,
                           "the block's proposer %s is not a validator of '%s' in this "
                           "chain's genesis",
                           hanse_pubkey_hex(hex, &m.inc.header.proposer), m.from_chain);
  } else {
    char key[XCHAIN_KEY_MAX], id[HANSE_HASH_HEX_BYTES];
    xchain_in_key(key, m.from_chain, hanse_hash_hex(id, &m.inc.tx.id));
    const uint8_t *v;
    size_t n;
    rc = hanse_exec_get(ex, key, &v, &n, &found);
    if (rc != HANSE_OK) rc = hanse_reject_set(rej, rc, NULL);
    else if (found)
      rc = hanse_reject_code(rej, "xchain.duplicate", 409,
                             "message %s of '%s' was received before", id, m.from_chain);
    else
      rc = message_check(m.payload, rej);
  }
  xchain_msg_free(&m);
  /* Memory or a broken state is not the transaction's fault: abort the
   * block rather than record a rejection another replica would not. */
  if (rc != HANSE_OK && rc != HANSE_ERR(INVALID)) ex->env_error = 1;
  return rc;
}

static int receive_apply(hanse_exec *ex, const hanse_tx *tx, json_t *p) {
  xchain_msg m;
  int rc = xchain_msg_open(tx, p, HANSE_INCLUSION_NO_SIGS, &m, NULL);
  if (rc != HANSE_OK) return rc == HANSE_ERR(INVALID) ? HANSE_ERR(INTERNAL) : rc; /* verify passed */
  char src[HANSE_HASH_HEX_BYTES], signer[HANSE_HASH_HEX_BYTES], relayer[HANSE_HASH_HEX_BYTES];
  char block[HANSE_HASH_HEX_BYTES], id[HANSE_HASH_HEX_BYTES], sha[HANSE_HASH_HEX_BYTES];
  char key[XCHAIN_KEY_MAX];
  hanse_hash_hex(src, &m.inc.tx.id);
  hanse_pubkey_hex(signer, &m.inc.tx.signer);
  hanse_pubkey_hex(relayer, &tx->signer);
  hanse_hash_hex(block, &m.inc.block_hash);
  hanse_hash_hex(id, &tx->id);
  json_t *body = json_object_get(m.payload, "body");
  HANSE_ASSERT(json_is_object(body)); /* the send's check passed */
  rc = body_sha256(body, sha);
  if (rc == HANSE_OK) {
    json_t *rec = json_pack(
        "{s:O, s:s, s:s, s:I, s:O, s:s, s:s, s:s, s:I, s:s, s:s}", "body", body, "body_sha256",
        sha, "from_chain", m.from_chain, "height", (json_int_t)ex->height, "kind",
        json_object_get(m.payload, "kind"), "relayed_by", relayer, "signer", signer,
        "source_block", block, "source_height", (json_int_t)m.inc.header.height, "source_tx",
        src, "tx", id);
    json_t *cls = json_object_get(m.payload, "class");
    if (rec && cls) json_object_set(rec, "class", cls);
    const char *kind = json_string_value(json_object_get(m.payload, "kind"));
    const hanse_message_hooks *h = kind_hooks(kind);
    if (rec && h && h->receive_apply) json_incref(rec);
    else h = NULL;
    xchain_in_key(key, m.from_chain, src);
    rc = put_json(ex, key, rec);
    if (h) {
      if (rc == HANSE_OK) rc = h->receive_apply(ex, kind, rec);
      json_decref(rec);
    }
  }
  xchain_msg_free(&m);
  return rc;
}

static int xchain_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                         hanse_reject *rej) {
  /* A send asks nothing of the state -- the transaction is the message
   * -- unless the module owning its kind does. */
  if (strcmp(action, "send") == 0) {
    const char *kind = json_string_value(json_object_get(p, "kind"));
    const hanse_message_hooks *h = kind_hooks(kind);
    if (h == NULL || h->send_verify == NULL) return HANSE_OK;
    return h->send_verify(ex, tx, kind, json_object_get(p, "body"), rej);
  }
  return receive_verify(ex, tx, p, rej);
}

static int xchain_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p) {
  if (strcmp(action, "send") == 0) return send_apply(ex, tx, p);
  return receive_apply(ex, tx, p);
}

const hanse_module hanse_module_xchain = {
    .name = "xchain",
    .actions = xchain_actions,
    .queries = xchain_queries,
    .check = xchain_check,
    .verify = xchain_verify,
    .apply = xchain_apply,
    .query = xchain_query,
    .data_class = "transaction",
};
