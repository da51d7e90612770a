/*
 * order/order.c -- the order module's function table: context-free
 * checks and dispatch (order.h describes the state).
 *
 *   order.place   {"id","seller","asset","amount","buyer_account",
 *                  "seller_account","timeout",
 *                  "discount"?:{"token","account","amount"}}
 *                 signed by the buyer: its enterprise owns buyer_account
 *   order.deliver {"id"}  the buyer confirms delivery: release to the seller
 *   order.cancel  {"id"}  the buyer or the seller, while pending: money back
 *
 * The buyer is the signer's enterprise (its organisation, or its key's
 * hex on an open chain: the ledger's owner). timeout is the delivery
 * deadline in seconds of block time; when it passes unreleased, the
 * ledger's sweep expires the escrow legs and the money is the buyer's
 * again. Delivery is also confirmed by an EPCIS delivery event naming the
 * order (order_delivery.c).
 *
 * Like the ledger, every action runs on a ledger_book (ledger_book_verify
 * and ledger_book_apply are the module's verify and apply): verify runs it
 * and drops the book, apply runs it again on the same state and commits,
 * so the legs, the order record and the books' entries are written
 * together or not at all.
 */
#include <stdio.h>
#include <string.h>

#include "modules/order/order.h"

static const char *const order_actions[] = {"place", "deliver", "cancel", NULL};
static const char *const order_queries[] = {"order", "orders", NULL};
/* An enterprise lists its own orders (?owner=<its id>) whatever the read
 * policy says (module.h, owner_queries). */
static const char *const order_owner_queries[] = {"orders", NULL};

int order_id_valid(const char *s) { return ledger_name_valid(s, ORDER_ID_MAX, "_-."); }

void order_key(char key[ORDER_KEY_MAX], const char *id) {
  snprintf(key, ORDER_KEY_MAX, "order/o/%s", id);
}

static int positive_int(json_t *j) { return json_is_integer(j) && json_integer_value(j) >= 1; }

static int check_discount(json_t *d, hanse_reject *rej) {
  static const char *const fields[] = {"token", "account", "amount", NULL};
  if (!json_is_object(d))
    return hanse_reject_code(rej, "order.bad_discount", 400, "\"discount\" must be an object");
  if (ledger_only_members(d, fields, ORDER_MODULE, "discount", rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (!ledger_asset_code_valid(json_string_value(json_object_get(d, "token"))))
    return hanse_reject_code(rej, "order.bad_discount", 400,
                             "\"discount.token\" must be a token symbol");
  if (!ledger_id_valid(json_string_value(json_object_get(d, "account"))))
    return hanse_reject_code(rej, "order.bad_discount", 400,
                             "\"discount.account\" must be an account id");
  if (!positive_int(json_object_get(d, "amount")))
    return hanse_reject_code(rej, "order.bad_discount", 400,
                             "\"discount.amount\" must be an integer of tokens from 1 to 2^63-1");
  return HANSE_OK;
}

static int check_place(json_t *p, hanse_reject *rej) {
  static const char *const fields[] = {"id",      "seller",         "asset",   "amount",
                                       "buyer_account", "seller_account", "timeout",
                                       "discount", NULL};
  if (ledger_only_members(p, fields, ORDER_MODULE, "order.place", rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (!order_id_valid(json_string_value(json_object_get(p, "id"))))
    return hanse_reject_code(rej, "order.bad_id", 400, "\"id\" must be 1-%d of [A-Za-z0-9._-]",
                             ORDER_ID_MAX);
  if (!ledger_owner_valid(json_string_value(json_object_get(p, "seller"))))
    return hanse_reject_code(rej, "order.bad_seller", 400,
                             "\"seller\" must be an organisation id or a key's lowercase hex");
  if (!ledger_asset_code_valid(json_string_value(json_object_get(p, "asset"))))
    return hanse_reject_code(rej, "order.bad_asset", 400, "\"asset\" must be an asset code");
  if (!positive_int(json_object_get(p, "amount")))
    return hanse_reject_code(rej, "order.bad_amount", 400,
                             "\"amount\" must be an integer from 1 to 2^63-1");
  const char *ba = json_string_value(json_object_get(p, "buyer_account"));
  const char *sa = json_string_value(json_object_get(p, "seller_account"));
  if (!ledger_id_valid(ba) || !ledger_id_valid(sa))
    return hanse_reject_code(rej, "order.bad_account", 400,
                             "\"buyer_account\" and \"seller_account\" must be account ids");
  if (strcmp(ba, sa) == 0)
    return hanse_reject_code(rej, "order.bad_account", 400,
                             "the buyer's and the seller's account are the same");
  json_t *timeout = json_object_get(p, "timeout");
  if (!positive_int(timeout) || (uint64_t)json_integer_value(timeout) > LEDGER_TIMEOUT_MAX)
    return hanse_reject_code(rej, "order.bad_timeout", 400,
                             "\"timeout\" must be an integer of seconds from 1 to %llu",
                             (unsigned long long)LEDGER_TIMEOUT_MAX);
  json_t *d = json_object_get(p, "discount");
  return d ? check_discount(d, rej) : HANSE_OK;
}

static int order_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  if (strcmp(action, "place") == 0) return check_place(p, rej);
  static const char *const fields[] = {"id", NULL};
  const char *where = action[0] == 'd' ? "order.deliver" : "order.cancel";
  if (ledger_only_members(p, fields, ORDER_MODULE, where, rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (!order_id_valid(json_string_value(json_object_get(p, "id"))))
    return hanse_reject_code(rej, "order.bad_id", 400, "\"id\" must be 1-%d of [A-Za-z0-9._-]",
                             ORDER_ID_MAX);
  return HANSE_OK;
}

/* Run an action on book b (the same in verify and apply; the runner has
 * refused an inactive key: order.key_inactive). */
static int order_run(ledger_book *b, const hanse_tx *tx, const char *action, json_t *p,
                     int commit, hanse_reject *rej) {
  (void)tx;
  (void)commit;
  if (strcmp(action, "place") == 0) return order_place(b, p, rej);
  json_t *rec = NULL;
  int rc = order_load(b, json_string_value(json_object_get(p, "id")), &rec, rej);
  if (rc != HANSE_OK) return rc;
  const char *buyer = json_string_value(json_object_get(rec, "buyer"));
  const char *seller = json_string_value(json_object_get(rec, "seller"));
  if (strcmp(action, "deliver") == 0) {
    if (strcmp(b->owner, buyer) != 0)
      rc = hanse_reject_code(rej, "order.not_buyer", 403,
                             "only the buyer '%s' confirms delivery, not '%s'", buyer, b->owner);
    else
      rc = order_release(b, rec, "order.deliver", rej);
  } else if (strcmp(b->owner, buyer) != 0 && strcmp(b->owner, seller) != 0) {
    rc = hanse_reject_code(rej, "order.not_party", 403,
                           "only the buyer or the seller cancels an order, not '%s'", b->owner);
  } else {
    rc = order_cancel(b, rec, rej);
  }
  json_decref(rec);
  return rc;
}

LEDGER_BOOK_STEPS(order, ORDER_MODULE, order_run)

const hanse_module hanse_module_order = {
    .name = ORDER_MODULE,
    .actions = order_actions,
    .queries = order_queries,
    .owner_queries = order_owner_queries,
    .check = order_check,
    .verify = order_verify,
    .apply = order_apply,
    .query = order_query,
    .data_class = "financial",
};
