/*
 * xchain/xchain_query.c -- reading the outbox and the inbox.
 *
 *   outbox  {to_chain, after?, limit?}  {"to_chain","messages":[out record...]}:
 *                                       the messages sent from this chain to
 *                                       to_chain, in id order (after: the
 *                                       id of the last one seen)
 *   inbox   {from_chain, after?, limit?} {"from_chain","messages":[in record...]}:
 *                                       the messages received from
 *                                       from_chain, in source id order
 *   message {chain, tx}                 one record: with chain = this
 *                                       chain, the sent message tx; else
 *                                       the message tx received from chain;
 *                                       404 xchain.not_found
 *
 * Records are those of xchain.c. The API lets the readers of the module's
 * class ("transaction") run these queries, so a received message of
 * another class (its "class") is shown without its "body": the receive
 * transaction, GET /txs/{tx}, shows it to the readers of that class.
 * Parameter errors: xchain.bad_chain, xchain.bad_tx, xchain.bad_after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/module.h"
#include "modules/xchain/xchain_internal.h"

const char *const xchain_queries[] = {"outbox", "inbox", "message", NULL};

/* A stored record, parsed; a received body kept only in the module's own
 * class. NULL if it does not parse (not ours) or memory ran out. */
static json_t *record_load(const uint8_t *v, size_t n) {
  json_t *rec = json_loadb((const char *)v, n, 0, NULL);
  const char *cls = json_string_value(json_object_get(rec, "class"));
  if (rec && cls && strcmp(cls, "transaction") != 0) json_object_del(rec, "body");
  return rec;
}

typedef struct list_ctx {
  hanse_view *v;
  json_t *arr;
  size_t prefix_len;
  int outbox; /* values are index entries: look the record up */
  int rc;
} list_ctx;

static int list_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  list_ctx *lc = ctx;
  if (!lc->outbox) {
    json_t *rec = record_load(val, vl);
    if (rec) json_array_append_new(lc->arr, rec);
    return 0;
  }
  char key[XCHAIN_KEY_MAX];
  snprintf(key, sizeof key, "xchain/out/%.*s", (int)(kl - lc->prefix_len),
           (const char *)k + lc->prefix_len);
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  lc->rc = hanse_view_get(lc->v, key, &b, &found);
  if (lc->rc == HANSE_OK && found) {
    json_t *rec = record_load(b.data, b.len);
    if (rec) json_array_append_new(lc->arr, rec);
  }
  hanse_buf_free(&b);
  return lc->rc != HANSE_OK; /* stop on a read error */
}

static int chain_param(json_t *params, const char *name, const char **out, hanse_reject *rej) {
  *out = json_string_value(json_object_get(params, name));
  if (*out == NULL || !hanse_chain_id_valid(*out, strlen(*out)))
    return hanse_reject_code(rej, "xchain.bad_chain", 400, "%s must be a chain id", name);
  return HANSE_OK;
}

static int list(hanse_view *v, json_t *params, int outbox, json_t **result, hanse_reject *rej) {
  const char *name = outbox ? "to_chain" : "from_chain", *chain;
  int rc = chain_param(params, name, &chain, rej);
  if (rc != HANSE_OK) return rc;
  char prefix[XCHAIN_KEY_MAX], after[XCHAIN_KEY_MAX];
  snprintf(prefix, sizeof prefix, outbox ? "xchain/to/%s/" : "xchain/in/%s/", chain);
  const char *a = json_string_value(json_object_get(params, "after"));
  if (a && strlen(a) > 2 * HANSE_HASH_BYTES)
    return hanse_reject_code(rej, "xchain.bad_after", 400, "after is the id of the last message seen");
  if (a) snprintf(after, sizeof after, "%s%s", prefix, a);
  list_ctx lc = {v, json_array(), strlen(prefix), outbox, HANSE_OK};
  if (lc.arr == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  rc = hanse_view_scan(v, prefix, a ? after : NULL, hanse_view_limit(params), list_visit, &lc);
  if (rc == HANSE_OK) rc = lc.rc;
  if (rc != HANSE_OK) {
    json_decref(lc.arr);
    return hanse_reject_set(rej, rc, NULL);
  }
  *result = json_pack("{s:s, s:o}", name, chain, "messages", lc.arr);
  return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

static int message(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  const char *chain;
  int rc = chain_param(params, "chain", &chain, rej);
  if (rc != HANSE_OK) return rc;
  hanse_hash h;
  if (hanse_hash_parse(&h, json_string_value(json_object_get(params, "tx"))) != HANSE_OK)
    return hanse_reject_code(rej, "xchain.bad_tx", 400, "tx must be a 64-hex transaction id");
  char id[HANSE_HASH_HEX_BYTES], key[XCHAIN_KEY_MAX];
  hanse_hash_hex(id, &h);
  if (strcmp(chain, v->chain_id) == 0) xchain_out_key(key, id);
  else xchain_in_key(key, chain, id);
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  rc = hanse_view_get(v, key, &b, &found);
  if (rc == HANSE_OK && found) *result = record_load(b.data, b.len);
  hanse_buf_free(&b);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  if (!found)
    return hanse_reject_code(rej, "xchain.not_found", 404, "no message %s %s chain '%s'", id,
                             strcmp(chain, v->chain_id) == 0 ? "sent on" : "received from",
                             chain);
  return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(INTERNAL), NULL);
}

int xchain_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                 hanse_reject *rej) {
  *result = NULL;
  if (strcmp(name, "outbox") == 0) return list(v, params, 1, result, rej);
  if (strcmp(name, "inbox") == 0) return list(v, params, 0, result, rej);
  return message(v, params, result, rej);
}
