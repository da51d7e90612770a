/*
 * trace.c -- publishing a product's screened record from an alliance
 * chain to an open chain, and checking a published record offline.
 *
 * Publishing (modules/trace/trace_publish.c has the rules):
 *   1. GET /epcis/publication?epc=... on the alliance, signed by the
 *      publisher: the entries the alliance will accept, of the classes
 *      the publisher may read;
 *   2. split them into messages that fit an xchain send (at most
 *      TRACE_PUBLISH_MAX entries and CLIENT_PUBLISH_BYTES of body);
 *   3. per message: an xchain.send of kind trace.publish on the alliance,
 *      waited for, then relayed to the open chain (hanse_client_xchain_relay,
 *      which checks the send's proof first).
 *
 * Checking (hanse_trace_record_verify): every publication's proof -- the
 * alliance's send transaction, signed by its author; the block header,
 * signed by its proposer; the Merkle path between them
 * (hanse_inclusion_verify) -- and the proposer among the trusted keys;
 * the send is a trace.publish of this product whose id and block are the
 * ones the record names; and every entry of the record appears, byte for
 * byte, in the body of the publication it cites.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hex.h"
#include "client/client_internal.h"
#include "crypto/hash.h"
#include "encoding/inclusion.h"

/* A message's body: the send's payload must stay under 16 KiB
 * (XCHAIN_SEND_PAYLOAD_MAX) with its envelope. */
#define CLIENT_PUBLISH_BYTES (14 * 1024)
/* Entries per message (TRACE_PUBLISH_MAX). */
#define CLIENT_PUBLISH_ENTRIES 64

static size_t json_size(json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  size_t n = s ? strlen(s) : (size_t)-1;
  free(s);
  return n;
}

/* Send one body on src and relay it to dst; append {"alliance_tx",
 * "open_tx", "events"} to pubs. */
static int publish_one(hanse_client *src, hanse_client *dst, const hanse_keypair *kp,
                       json_t *body, json_t *pubs, hanse_reject *rej) {
  json_t *payload = json_pack("{s:s, s:s, s:O}", "to_chain", hanse_client_chain(dst), "kind",
                              "trace.publish", "body", body);
  if (payload == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  hanse_buf tx;
  hanse_buf_init(&tx);
  hanse_hash id;
  uint64_t seq = 0;
  json_t *res = NULL, *relayed = NULL;
  int rc = hanse_client_next_seq(src, &kp->pub, &seq, rej);
  if (rc == HANSE_OK) {
    hanse_client_op op = {"xchain.send", payload};
    rc = hanse_client_tx_build(src, &op, seq, kp, &tx, &id, rej);
  }
  if (rc == HANSE_OK) {
    hanse_client_entry e = {HANSE_TYPE_TX, tx.data, tx.len};
    rc = hanse_client_submit(src, &e, 1, HANSE_SUBMIT_WAIT, 0, &res, rej);
  }
  if (rc == HANSE_OK) rc = hanse_client_result_check(res, 0, rej);
  if (rc == HANSE_OK)
    rc = hanse_client_xchain_relay(src, dst, &id, kp, HANSE_SUBMIT_WAIT, 0, &relayed, rej);
  if (rc == HANSE_OK) {
    char hex[HANSE_HASH_HEX_BYTES];
    json_t *r0 = json_array_get(json_object_get(relayed, "results"), 0);
    json_array_append_new(pubs, json_pack("{s:s, s:O, s:I}", "alliance_tx", hanse_hash_hex(hex, &id),
                                          "open_tx", json_object_get(r0, "id"), "events",
                                          (json_int_t)json_array_size(json_object_get(body, "events"))));
  }
  json_decref(res);
  json_decref(relayed);
  hanse_buf_free(&tx);
  json_decref(payload);
  return rc;
}

int hanse_client_trace_publish(hanse_client *src, hanse_client *dst, const hanse_keypair *kp,
                               const char *epcs, const char *buyer, json_t **report,
                               hanse_reject *rej) {
  *report = NULL;
  hanse_client_set_signer(src, kp);
  char *e = curl_easy_escape(src->curl, epcs, 0);
  if (e == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  size_t n = strlen(e) + 128;
  char *path = malloc(n);
  if (path) snprintf(path, n, "/v1/chains/%s/epcis/publication?epc=%s", src->chain_id, e);
  curl_free(e);
  if (path == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  json_t *draft = NULL;
  int rc = hanse_client_get(src, path, &draft, rej);
  free(path);
  if (rc != HANSE_OK) return rc;
  json_t *entries = json_object_get(draft, "events");
  const char *product = json_string_value(json_object_get(draft, "product"));
  if (product == NULL || !json_is_array(entries)) {
    json_decref(draft);
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response", "the draft has no events");
  }
  if (json_array_size(entries) == 0) {
    json_decref(draft);
    return client_fail(rej, HANSE_ERR(NOT_FOUND), "trace.nothing_to_publish",
                       "no publishable event of %.200s that this key may read", product);
  }
  json_t *pubs = json_array();
  json_t *body = NULL;
  size_t i;
  json_t *entry;
  json_array_foreach(entries, i, entry) {
    if (rc != HANSE_OK) break;
    if (body == NULL) {
      body = json_pack("{s:s, s:[]}", "product", product, "events");
      if (body && buyer) json_object_set_new(body, "buyer", json_string(buyer));
      if (body == NULL) {
        rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
        break;
      }
    }
    json_t *list = json_object_get(body, "events");
    json_array_append(list, entry);
    if (json_array_size(list) > 1 &&
        (json_array_size(list) > CLIENT_PUBLISH_ENTRIES || json_size(body) > CLIENT_PUBLISH_BYTES)) {
      json_array_remove(list, json_array_size(list) - 1);
      rc = publish_one(src, dst, kp, body, pubs, rej);
      json_decref(body);
      body = json_pack("{s:s, s:[O]}", "product", product, "events", entry);
      if (body && buyer) json_object_set_new(body, "buyer", json_string(buyer));
    }
  }
  if (rc == HANSE_OK && body) rc = publish_one(src, dst, kp, body, pubs, rej);
  json_decref(body);
  if (rc == HANSE_OK)
    *report = json_pack("{s:s, s:I, s:O, s:o}", "product", product, "events",
                        (json_int_t)json_array_size(entries), "skipped",
                        json_object_get(draft, "skipped"), "publications", pubs);
  else
    json_decref(pubs);
  json_decref(draft);
  return rc;
}

/* ---- offline check --------------------------------------------------------- */

static uint8_t *hex_field(json_t *o, const char *name, size_t *len) {
  const char *s = json_string_value(json_object_get(o, name));
  uint8_t *out = NULL;
  if (s == NULL || hanse_hex_decode_alloc(s, strlen(s), &out, len) != HANSE_OK) return NULL;
  return out;
}

static int key_trusted(json_t *keys, const hanse_pubkey *k) {
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, k);
  size_t i;
  json_t *t;
  json_array_foreach(keys, i, t) {
    const char *s = json_string_value(t);
    if (s && strcasecmp(s, hex) == 0) return 1;
  }
  return 0;
}

/* Check one publication; on success *body is the verified body (new
 * reference). `why` gets the first failure. */
static int check_publication(json_t *pub, const char *product, json_t *trusted, json_t **body,
                             char *why, size_t wn) {
  *body = NULL;
  json_t *proof = json_object_get(pub, "proof");
  const char *from = json_string_value(json_object_get(pub, "from_chain"));
  if (!json_is_object(proof) || from == NULL) {
    snprintf(why, wn, "the record carries no proof for this publication");
    return 0;
  }
  size_t txl = 0, hl = 0, bl = 0;
  uint8_t *tx = hex_field(proof, "tx", &txl), *hdr = hex_field(proof, "header", &hl);
  uint8_t *batch = json_object_get(proof, "batch") ? hex_field(proof, "batch", &bl) : NULL;
  json_t *pj = json_object_get(proof, "path");
  size_t pn = json_array_size(pj);
  hanse_hash path[64];
  int ok = tx && hdr && pn <= 64 && json_is_integer(json_object_get(proof, "index")) &&
           json_is_integer(json_object_get(proof, "tx_count"));
  for (size_t i = 0; ok && i < pn; i++)
    ok = hanse_hash_parse(&path[i], json_string_value(json_array_get(pj, i))) == HANSE_OK;
  hanse_included inc;
  hanse_reject r;
  hanse_reject_clear(&r);
  if (!ok) {
    snprintf(why, wn, "the proof is malformed");
  } else {
    hanse_inclusion in = {tx,   txl, batch != NULL, batch, bl, hdr, hl, NULL,
                          (uint64_t)json_integer_value(json_object_get(proof, "index")),
                          (uint64_t)json_integer_value(json_object_get(proof, "tx_count")),
                          path, pn};
    ok = hanse_inclusion_verify(&in, 0, &inc, &r) == HANSE_OK;
    if (!ok) snprintf(why, wn, "%s: %s", r.code, r.message);
  }
  char hex[HANSE_HASH_HEX_BYTES];
  if (ok && strcmp(inc.header.chain_id, from) != 0) {
    ok = 0;
    snprintf(why, wn, "the proof is of chain %s, not %s", inc.header.chain_id, from);
  }
  if (ok && !key_trusted(json_object_get(trusted, from), &inc.header.proposer)) {
    ok = 0;
    snprintf(why, wn, "block %llu of %s was signed by %s, which is not a trusted validator",
             (unsigned long long)inc.header.height, from, hanse_pubkey_hex(hex, &inc.header.proposer));
  }
  if (ok && strcmp(hanse_hash_hex(hex, &inc.tx.id),
                   json_string_value(json_object_get(pub, "source_tx")) ?: "") != 0) {
    ok = 0;
    snprintf(why, wn, "the proof is of transaction %s, not the publication's", hex);
  }
  if (ok && strcmp(hanse_hash_hex(hex, &inc.block_hash),
                   json_string_value(json_object_get(pub, "source_block")) ?: "") != 0) {
    ok = 0;
    snprintf(why, wn, "the proof is of block %s, not the publication's", hex);
  }
  json_t *payload = NULL;
  if (ok) {
    payload = json_loadb((const char *)inc.tx.payload, inc.tx.payload_len, 0, NULL);
    json_t *b = json_object_get(payload, "body");
    const char *kind = json_string_value(json_object_get(payload, "kind"));
    const char *bp = json_string_value(json_object_get(b, "product"));
    ok = strcmp(inc.tx.kind, "xchain.send") == 0 && kind && strcmp(kind, "trace.publish") == 0 &&
         bp && product && strcmp(bp, product) == 0;
    if (!ok) snprintf(why, wn, "the transaction is not a trace.publish of this product");
    else *body = json_incref(b);
  }
  json_decref(payload);
  free(tx);
  free(hdr);
  free(batch);
  return ok;
}

/* The entry of a record without what the open chain added to it. */
static json_t *entry_as_published(json_t *e) {
  json_t *c = json_copy(e);
  if (c) {
    json_object_del(c, "from_chain");
    json_object_del(c, "source_tx");
  }
  return c;
}

static int body_has(json_t *body, json_t *entry) {
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(body, "events"), i, e) if (json_equal(e, entry)) return 1;
  return 0;
}

int hanse_trace_record_verify(json_t *record, json_t *trusted, json_t **report,
                              hanse_reject *rej) {
  *report = NULL;
  const char *product = json_string_value(json_object_get(record, "product"));
  if (product == NULL || !json_is_array(json_object_get(record, "events")) ||
      !json_is_array(json_object_get(record, "publications")))
    return client_fail(rej, HANSE_ERR(INVALID), "trace.bad_record",
                       "a product record has \"product\", \"events\" and \"publications\"");
  if (trusted == NULL) trusted = json_object_get(record, "trusted");
  json_t *bodies = json_object(), *pubs = json_array(), *events = json_array();
  if (bodies == NULL || pubs == NULL || events == NULL) {
    json_decref(bodies);
    json_decref(pubs);
    json_decref(events);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  int all = 1;
  size_t i;
  json_t *pub;
  json_array_foreach(json_object_get(record, "publications"), i, pub) {
    char why[512] = "";
    json_t *body = NULL;
    int ok = check_publication(pub, product, trusted, &body, why, sizeof why);
    const char *src = json_string_value(json_object_get(pub, "source_tx"));
    if (ok && src) json_object_set(bodies, src, body);
    json_decref(body);
    all &= ok;
    json_t *r = json_pack("{s:O, s:O, s:b}", "source_tx", json_object_get(pub, "source_tx"),
                          "from_chain", json_object_get(pub, "from_chain"), "ok", ok);
    if (r && !ok) json_object_set_new(r, "why", json_string(why));
    json_array_append_new(pubs, r);
  }
  json_t *e;
  json_array_foreach(json_object_get(record, "events"), i, e) {
    const char *src = json_string_value(json_object_get(e, "source_tx"));
    json_t *body = src ? json_object_get(bodies, src) : NULL;
    json_t *plain = entry_as_published(e);
    int ok = body && plain && body_has(body, plain);
    json_decref(plain);
    all &= ok;
    json_t *r = json_pack("{s:O, s:b}", "eventID", json_object_get(e, "eventID"), "ok", ok);
    if (r && !ok)
      json_object_set_new(r, "why", json_string(body ? "the entry differs from what the "
                                                       "verified publication carries"
                                                     : "its publication is not verified"));
    json_array_append_new(events, r);
  }
  json_decref(bodies);
  *report = json_pack("{s:s, s:b, s:O, s:o, s:o}", "product", product, "ok", all, "trusted",
                      trusted ? trusted : json_null(), "publications", pubs, "events", events);
  if (*report == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (!all)
    return client_fail(rej, HANSE_ERR(INVALID), "trace.unverified",
                       "some publications or entries of %.200s do not verify", product);
  return HANSE_OK;
}
