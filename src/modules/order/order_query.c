/*
 * order/order_query.c -- reading orders for the API.
 *
 *   order   {id}                      the order record, "status" as it
 *                                      shows (order_status: "expired" once
 *                                      the ledger expired its legs)
 *   orders  {party | owner, after?, limit?}   {"party","orders":[record...],
 *                                      "next"?}: the orders an enterprise
 *                                      placed or received, in id order,
 *                                      each with "role" (buyer or seller)
 *
 * Parameters are strings (they come from a URL); a list answers at most
 * `limit` (hanse_view_limit) orders, and "next" is the "after" that
 * continues it. Queries read the last committed block: like the ledger's
 * transfers, an order past its deadline shows pending until a ledger or
 * order transaction has swept its legs. Rejections: order.bad_id,
 * order.bad_party (400), order.no_order (404).
 */
#include <stdio.h>
#include <string.h>

#include "modules/order/order.h"

/* rec with the status it shows; rc of the leg's read. */
static int with_status(hanse_view *v, json_t *rec) {
  const char *leg = json_string_value(json_array_get(json_object_get(rec, "legs"), 0));
  json_t *t = NULL;
  char key[LEDGER_KEY_MAX];
  int rc = HANSE_OK;
  if (leg) {
    ledger_key_xfer(key, leg);
    rc = ledger_xfer_view(v, key, &t); /* a row or JSON (ledger_xfer.c) */
  }
  const char *status = order_status(rec, json_string_value(json_object_get(t, "status")));
  if (rc == HANSE_OK) json_object_set_new(rec, "status", json_string(status));
  json_decref(t);
  return rc;
}

static int one(hanse_view *v, const char *id, json_t **result, hanse_reject *rej) {
  char key[ORDER_KEY_MAX];
  order_key(key, id);
  int rc = hanse_view_get_json(v, key, result);
  if (rc == HANSE_OK && *result == NULL)
    return hanse_reject_code(rej, "order.no_order", 404, "no order '%s'", id);
  if (rc == HANSE_OK) rc = with_status(v, *result);
  if (rc != HANSE_OK) {
    json_decref(*result);
    *result = NULL;
    return hanse_reject_set(rej, rc, NULL);
  }
  return HANSE_OK;
}

typedef struct list_ctx {
  hanse_view *v;
  json_t *arr;
  size_t prefix_len;
  char last[ORDER_KEY_MAX];
  int rc;
} list_ctx;

static int list_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  list_ctx *lc = ctx;
  if (kl >= sizeof lc->last || kl <= lc->prefix_len) {
    lc->rc = HANSE_ERR(INTERNAL);
    return 1;
  }
  memcpy(lc->last, k, kl);
  lc->last[kl] = 0;
  json_t *rec = NULL;
  hanse_reject rej;
  lc->rc = one(lc->v, lc->last + lc->prefix_len, &rec, &rej);
  if (lc->rc != HANSE_OK) return 1;
  json_object_set_new(rec, "role", json_loadb((const char *)val, vl, JSON_DECODE_ANY, NULL));
  json_array_append_new(lc->arr, rec);
  return 0;
}

static int orders(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  /* "owner" names the party too: an owner query (order.c), which an
   * enterprise may always make about its own orders */
  const char *party = json_string_value(json_object_get(params, "party"));
  if (party == NULL) party = json_string_value(json_object_get(params, "owner"));
  const char *after = json_string_value(json_object_get(params, "after"));
  size_t n = party ? strlen(party) : 0;
  if (n < 1 || n > LEDGER_OWNER_MAX || strchr(party, '/'))
    return hanse_reject_code(rej, "order.bad_party", 400,
                             "\"party\" must be an organisation id or a key's hex");
  if (after && !order_id_valid(after))
    return hanse_reject_code(rej, "order.bad_id", 400, "\"after\" must be an order id");
  char prefix[ORDER_KEY_MAX], from[ORDER_KEY_MAX];
  snprintf(prefix, sizeof prefix, "order/by/%s/", party);
  if (after) snprintf(from, sizeof from, "%s%s", prefix, after);
  int limit = hanse_view_limit(params);
  list_ctx lc = {v, json_array(), strlen(prefix), "", HANSE_OK};
  json_t *out = json_pack("{s:s}", "party", party);
  if (lc.arr == NULL || out == NULL) {
    json_decref(lc.arr);
    json_decref(out);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  int rc = hanse_view_scan(v, prefix, after ? from : NULL, limit, list_visit, &lc);
  if (rc == HANSE_OK) rc = lc.rc;
  if (rc != HANSE_OK) {
    json_decref(lc.arr);
    json_decref(out);
    return hanse_reject_set(rej, rc, NULL);
  }
  if (json_array_size(lc.arr) == (size_t)limit)
    json_object_set_new(out, "next", json_string(lc.last + lc.prefix_len));
  json_object_set_new(out, "orders", lc.arr);
  *result = out;
  return HANSE_OK;
}

int order_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                hanse_reject *rej) {
  *result = NULL;
  if (strcmp(name, "order") == 0) {
    const char *id = json_string_value(json_object_get(params, "id"));
    if (!order_id_valid(id))
      return hanse_reject_code(rej, "order.bad_id", 400, "\"id\" must be 1-%d of [A-Za-z0-9._-]",
                               ORDER_ID_MAX);
    return one(v, id, result, rej);
  }
  if (strcmp(name, "orders") == 0) return orders(v, params, result, rej);
  return hanse_reject_code(rej, "query.unknown", 404, "no query order/%.64s", name);
}
