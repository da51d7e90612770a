/*
 * order/order_escrow.c -- an order's escrow: placing it (its legs),
 * releasing it to the seller, cancelling it, the status it shows.
 *
 * Life of an order:
 *
 *              order.deliver (buyer) or a delivery event
 *   pending  ---------------------------------------------> delivered
 *     |   \   every leg posted; books: sale, payment, discount
 *     |    \  order.cancel (buyer or seller)
 *     |     '------------------------------------------> cancelled
 *     |         every leg voided; nothing booked
 *     |  block time >= expires_at: the ledger's sweep expires every
 *     '  leg (they share expires_at); the record stays "pending" and
 *        shows "expired" (order_status)                  [expired]
 *
 * Placing. With a loyalty discount of T tokens of a token whose def
 * (token/def/<symbol>, written by the token module) says one token is
 * worth num/den minor units of value.asset, the discount is
 * D = floor(T * num / den) in the order's asset (which must be
 * value.asset); the buyer pays amount - D, the token's issuer funds D
 * from its discount_account, and the T tokens go back to the token's
 * issuance account (out of circulation) when the order is released. No
 * floating point: T * num is checked for overflow in 64 bits.
 *
 * Books at release, so that after a completed order the buyer's payables
 * and the seller's receivables are back where they were:
 *   seller  sale (payee) of amount          receivables += amount
 *   buyer   sale (payer) of amount - D      payables += amount - D
 *   both    payment of amount - D           payables, receivables -= amount - D
 *   issuer -> seller  discount of D         seller's receivables -= D
 *   issuer  loyalty (payee) of T tokens     its loyalty liability -= T
 * The buyer's purchase costs it what it paid in the asset; the tokens it
 * gave up are not booked in its books (points are no asset of its own,
 * as the token module books them). When the issuer is the seller, the
 * discount is a payment between its own accounts, which books nothing:
 * its sale is then booked at amount - D, what it was paid by the buyer.
 * When the issuer is the buyer, the tokens come back from itself and the
 * loyalty entry is skipped (the token module booked none for them).
 *
 * All legs are made on the one book of the action: a rejection of any
 * (the buyer's balance rule, an id some ledger transfer already took)
 * rejects the action and discards the book, so nothing is left behind.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "crypto/hash.h"
#include "modules/books/books.h"
#include "modules/order/order.h"
#include "modules/token/token.h"

int order_load(ledger_book *b, const char *id, json_t **rec, hanse_reject *rej) {
  char key[ORDER_KEY_MAX];
  order_key(key, id);
  int rc = ledger_get(b, key, rec);
  if (rc == HANSE_OK && *rec == NULL)
    rc = hanse_reject_code(rej, "order.no_order", 404, "no order '%s'", id);
  return rc;
}

const char *order_status(json_t *rec, const char *leg_status) {
  const char *s = json_string_value(json_object_get(rec, "status"));
  if (s && strcmp(s, "pending") == 0 && leg_status && strcmp(leg_status, "expired") == 0)
    return "expired";
  return s ? s : "pending";
}

/* A ledger account the order names: it exists, belongs to `owner`, holds
 * `asset`. `role` names it in messages; not_owner is the code when it
 * belongs to someone else. */
static int account_of(ledger_book *b, const char *id, const char *owner, const char *asset,
                      const char *role, const char *not_owner, hanse_reject *rej) {
  ledger_acct *acct = NULL;
  int rc = ledger_acct_load(b, id, &acct);
  if (rc != HANSE_OK) return rc;
  if (acct == NULL) return hanse_reject_code(rej, "order.no_account", 404, "no account '%s'", id);
  if (owner && strcmp(acct->owner, owner) != 0)
    return hanse_reject_code(rej, not_owner, 403, "%s '%s' belongs to '%s', not to '%s'", role, id,
                             acct->owner, owner);
  if (strcmp(acct->asset, asset) != 0)
    return hanse_reject_code(rej, "order.asset_mismatch", 409, "%s '%s' holds %s, not %s", role,
                             id, acct->asset, asset);
  return HANSE_OK;
}

/* The legs an order makes, before they are made: copies, since the
 * token's def that names some of the accounts is gone by then. */
typedef struct leg {
  char id[LEDGER_ID_MAX + 1];
  char debit[LEDGER_ID_MAX + 1], credit[LEDGER_ID_MAX + 1];
  uint64_t amount;
  ledger_xfer_opts opts;
} leg;

/* Leg "order:<order_id><suffix>" of amount from debit to credit. */
static void leg_set(leg *l, const char *order_id, const char *suffix, const char *debit,
                    const char *credit, uint64_t amount, const char *controller) {
  snprintf(l->id, sizeof l->id, "order:%s%s", order_id, suffix);
  snprintf(l->debit, sizeof l->debit, "%s", debit);
  snprintf(l->credit, sizeof l->credit, "%s", credit);
  l->amount = amount;
  /* the buyer's own legs debit the signer's accounts; the discount leg
   * debits the issuer's, for which this module vouches */
  l->opts = (ledger_xfer_opts){strcmp(controller, ORDER_MODULE) == 0, controller};
}

/* The discount: check the token and its def, add the two legs to
 * legs[*n], and the order's "discount" member to rec. *d: the discount
 * in the order's asset. */
static int discount_legs(ledger_book *b, json_t *p, json_t *rec, leg *legs, size_t *n,
                         uint64_t *d, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(p, "id"));
  const char *asset = json_string_value(json_object_get(p, "asset"));
  json_t *disc = json_object_get(p, "discount");
  const char *symbol = json_string_value(json_object_get(disc, "token"));
  const char *account = json_string_value(json_object_get(disc, "account"));
  uint64_t tokens = (uint64_t)json_integer_value(json_object_get(disc, "amount"));
  char key[LEDGER_KEY_MAX];
  json_t *def = NULL;
  token_key_def(key, symbol);
  int rc = ledger_get(b, key, &def);
  if (rc != HANSE_OK) return rc;
  if (def == NULL)
    return hanse_reject_code(rej, "order.unknown_token", 404, "no token '%s'", symbol);
  json_t *value = json_object_get(def, "value");
  const char *kind = json_string_value(json_object_get(def, "kind"));
  const char *value_asset = json_string_value(json_object_get(value, "asset"));
  json_int_t num = json_integer_value(json_object_get(value, "num"));
  json_int_t den = json_integer_value(json_object_get(value, "den"));
  const char *issuer = json_string_value(json_object_get(def, "issuer"));
  const char *issuance = json_string_value(json_object_get(def, "issuance_account"));
  const char *funding = json_string_value(json_object_get(def, "discount_account"));
  if (kind == NULL || strcmp(kind, TOKEN_LOYALTY) != 0) {
    rc = hanse_reject_code(rej, "order.not_loyalty", 409,
                           "token '%s' is not a loyalty token: it buys no discount", symbol);
  } else if (num < 0 || den < 1 || !issuer || !ledger_id_valid(issuance) ||
             !ledger_id_valid(funding)) {
    HANSE_ERROR("order: token/def/%s is malformed", symbol);
    b->ex->env_error = 1;
    rc = HANSE_ERR(INTERNAL);
  } else if (value_asset == NULL || strcmp(value_asset, asset) != 0) {
    rc = hanse_reject_code(rej, "order.asset_mismatch", 409,
                           "token '%s' is worth %s, the order is in %s", symbol,
                           value_asset ? value_asset : "", asset);
  } else if (num != 0 && tokens > UINT64_MAX / (uint64_t)num) {
    rc = hanse_reject_code(rej, "order.discount_exceeds", 409,
                           "%" PRIu64 " tokens are worth more than any order", tokens);
  } else {
    *d = tokens * (uint64_t)num / (uint64_t)den;
    uint64_t amount = (uint64_t)json_integer_value(json_object_get(p, "amount"));
    if (*d == 0)
      rc = hanse_reject_code(rej, "order.bad_discount", 409,
                             "%" PRIu64 " tokens of '%s' are worth nothing", tokens, symbol);
    else if (*d > amount)
      rc = hanse_reject_code(rej, "order.discount_exceeds", 409,
                             "a discount of %" PRIu64 " exceeds the amount %" PRIu64, *d, amount);
  }
  if (rc == HANSE_OK)
    rc = account_of(b, account, b->owner, symbol, "discount.account", "order.not_owner", rej);
  if (rc == HANSE_OK) /* the def's, so the token module's: a mismatch is its bug */
    rc = account_of(b, funding, issuer, asset, "the discount account", "order.bad_token", rej);
  if (rc == HANSE_OK) {
    leg_set(&legs[(*n)++], id, ":tokens", account, issuance, tokens, ORDER_MODULE);
    leg_set(&legs[(*n)++], id, ":discount", funding,
            json_string_value(json_object_get(p, "seller_account")), *d, TOKEN_MODULE);
    json_t *dm = json_pack("{s:s, s:s, s:s}", "token", symbol, "account", account, "issuer",
                           issuer);
    if (dm == NULL || ledger_u64_set(dm, "tokens", tokens) != HANSE_OK ||
        ledger_u64_set(dm, "amount", *d) != HANSE_OK ||
        json_object_set_new(rec, "discount", dm) != 0) {
      b->ex->env_error = 1;
      rc = HANSE_ERR(NOMEM);
    }
  }
  json_decref(def);
  return rc;
}

/* Make the legs on the book: pending, the order's timeout, ref the order. */
static int make_legs(ledger_book *b, const leg *legs, size_t n, json_t *p, json_t *legs_out,
                     uint64_t *expires_at, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(p, "id"));
  json_t *timeout = json_object_get(p, "timeout");
  int rc = HANSE_OK;
  for (size_t i = 0; i < n && rc == HANSE_OK; i++) {
    json_t *t = json_pack("{s:s, s:s, s:s, s:I, s:b, s:O, s:s}", "id", legs[i].id, "debit",
                          legs[i].debit, "credit", legs[i].credit, "amount",
                          (json_int_t)legs[i].amount, "pending", 1, "timeout", timeout, "ref",
                          id);
    if (t == NULL) {
      b->ex->env_error = 1;
      return HANSE_ERR(NOMEM);
    }
    /* an id some ledger transfer took is no leg of ours, whatever it
     * holds (even the very fields the leg would have) */
    char key[LEDGER_KEY_MAX];
    json_t *old = NULL;
    int exists = 0;
    ledger_key_xfer(key, legs[i].id);
    rc = ledger_get(b, key, &old);
    if (rc == HANSE_OK && old)
      rc = hanse_reject_code(rej, "order.leg_taken", 409,
                             "a ledger transfer '%s' exists already: the id is taken",
                             legs[i].id);
    json_decref(old);
    if (rc == HANSE_OK) rc = ledger_transfer_make(b, t, i, &legs[i].opts, &exists, rej);
    json_decref(t);
    HANSE_ASSERT(rc != HANSE_OK || !exists);
    if (rc == HANSE_OK) json_array_append_new(legs_out, json_string(legs[i].id));
  }
  *expires_at = b->ex->time_ms + (uint64_t)json_integer_value(timeout) * 1000u;
  return rc;
}

static int put_index(ledger_book *b, const char *party, const char *id, const char *role) {
  char key[ORDER_KEY_MAX];
  snprintf(key, sizeof key, "order/by/%s/%s", party, id);
  return ledger_put(b, key, json_string(role));
}

int order_place(ledger_book *b, json_t *p, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(p, "id"));
  const char *seller = json_string_value(json_object_get(p, "seller"));
  const char *asset = json_string_value(json_object_get(p, "asset"));
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(p, "amount"));
  char key[ORDER_KEY_MAX];
  json_t *old = NULL;
  order_key(key, id);
  int rc = ledger_get(b, key, &old);
  json_decref(old);
  if (rc != HANSE_OK) return rc;
  if (old) return hanse_reject_code(rej, "order.exists", 409, "order '%s' exists", id);
  if (strcmp(seller, b->owner) == 0)
    return hanse_reject_code(rej, "order.same_party", 409, "'%s' cannot buy from itself", seller);
  const char *ba = json_string_value(json_object_get(p, "buyer_account"));
  const char *sa = json_string_value(json_object_get(p, "seller_account"));
  rc = account_of(b, ba, b->owner, asset, "buyer_account", "order.not_owner", rej);
  if (rc != HANSE_OK) return rc;
  rc = account_of(b, sa, seller, asset, "seller_account", "order.not_seller", rej);
  if (rc != HANSE_OK) return rc;

  json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:[]}", "id", id, "buyer",
                          b->owner, "seller", seller, "asset", asset, "buyer_account", ba,
                          "seller_account", sa, "placed_at", (json_int_t)b->ex->height,
                          "status", "pending", "legs");
  if (rec == NULL || ledger_u64_set(rec, "amount", amount) != HANSE_OK) {
    json_decref(rec);
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  leg legs[ORDER_LEGS_MAX];
  size_t n = 1;
  uint64_t d = 0, expires_at = 0;
  if (json_object_get(p, "discount"))
    rc = discount_legs(b, p, rec, legs, &n, &d, rej);
  if (rc == HANSE_OK) {
    /* the buyer's own leg first; none when the discount pays it all */
    leg_set(&legs[0], id, "", ba, sa, amount - d, ORDER_MODULE);
    size_t first = amount > d ? 0 : 1;
    rc = make_legs(b, legs + first, n - first, p, json_object_get(rec, "legs"), &expires_at, rej);
  }
  if (rc == HANSE_OK) {
    char txhex[HANSE_HASH_HEX_BYTES];
    hanse_hash_hex(txhex, &b->ex->tx->id);
    json_object_set_new(rec, "expires_at", json_integer((json_int_t)expires_at));
    json_object_set_new(rec, "tx", json_string(txhex));
    rc = ledger_put(b, key, rec);
    rec = NULL;
  }
  json_decref(rec);
  if (rc == HANSE_OK) rc = put_index(b, b->owner, id, "buyer");
  if (rc == HANSE_OK) rc = put_index(b, seller, id, "seller");
  return rc;
}

/* Resolve every leg of a pending order: post (release) or void (cancel).
 * Each leg with the controller its ledger record names. */
static int resolve_legs(ledger_book *b, json_t *rec, int post, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(rec, "id"));
  json_t *legs = json_object_get(rec, "legs"), *leg_id;
  size_t i;
  if (strcmp(order_status(rec, NULL), "pending") != 0)
    return hanse_reject_code(rej, "order.not_pending", 409, "order '%s' is %s, not pending", id,
                             order_status(rec, NULL));
  json_array_foreach(legs, i, leg_id) {
    char key[LEDGER_KEY_MAX];
    json_t *t = NULL;
    ledger_key_xfer(key, json_string_value(leg_id));
    int rc = ledger_get(b, key, &t);
    if (rc == HANSE_OK && t == NULL) {
      HANSE_ERROR("order: %s names a missing leg %s", id, json_string_value(leg_id));
      b->ex->env_error = 1;
      rc = HANSE_ERR(INTERNAL);
    }
    if (rc != HANSE_OK) return rc;
    const char *status = json_string_value(json_object_get(t, "status"));
    if (status == NULL || strcmp(status, "pending") != 0) {
      /* all legs share expires_at: the sweep took them together */
      rc = hanse_reject_code(rej, "order.not_pending", 409, "order '%s' is %s, not pending", id,
                             order_status(rec, status));
    } else {
      rc = ledger_resolve(b, json_string_value(leg_id), post, 0,
                          json_string_value(json_object_get(t, "controller")), rej);
    }
    json_decref(t);
    if (rc != HANSE_OK) return rc;
  }
  return HANSE_OK;
}

/* A copy of rec with its new status, written. */
static int put_status(ledger_book *b, json_t *rec, const char *status, const char *by) {
  json_t *n = json_deep_copy(rec);
  if (n == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  json_object_set_new(n, "status", json_string(status));
  json_object_set_new(n, "resolved_at", json_integer((json_int_t)b->ex->height));
  if (by) json_object_set_new(n, "released_by", json_string(by));
  char key[ORDER_KEY_MAX];
  order_key(key, json_string_value(json_object_get(rec, "id")));
  return ledger_put(b, key, n);
}

static int book_release(ledger_book *b, json_t *rec) {
  const char *id = json_string_value(json_object_get(rec, "id"));
  const char *buyer = json_string_value(json_object_get(rec, "buyer"));
  const char *seller = json_string_value(json_object_get(rec, "seller"));
  const char *asset = json_string_value(json_object_get(rec, "asset"));
  json_t *disc = json_object_get(rec, "discount");
  const char *issuer = json_string_value(json_object_get(disc, "issuer"));
  uint64_t amount, d = 0, tokens = 0;
  int rc = ledger_u64_get(rec, "amount", &amount);
  if (rc == HANSE_OK && disc) rc = ledger_u64_get(disc, "amount", &d);
  if (rc == HANSE_OK && disc) rc = ledger_u64_get(disc, "tokens", &tokens);
  if (rc != HANSE_OK) return rc;
  HANSE_ASSERT(d <= amount && (disc == NULL || issuer != NULL));
  /* a seller that funds the discount itself sold for amount - D: its own
   * discount account paying it books nothing */
  int own_discount = d > 0 && strcmp(issuer, seller) == 0;
  rc = books_post_side(b, seller, BOOKS_PAYEE, BOOKS_SALE, buyer, asset,
                       own_discount ? amount - d : amount, id, NULL);
  if (rc == HANSE_OK && amount > d)
    rc = books_post_side(b, buyer, BOOKS_PAYER, BOOKS_SALE, seller, asset, amount - d, id, NULL);
  if (rc == HANSE_OK && amount > d) {
    books_event pay = {BOOKS_PAYMENT, buyer, seller, asset, amount - d, id, NULL};
    rc = books_post(b, &pay);
  }
  if (rc == HANSE_OK && d > 0) {
    books_event dis = {BOOKS_DISCOUNT, issuer, seller, asset, d, id, NULL};
    rc = books_post(b, &dis);
  }
  /* the spent tokens are back with their issuer: its loyalty liability
   * goes down (the token module books their award, BOOKS_LOYALTY payer) */
  if (rc == HANSE_OK && disc && strcmp(issuer, buyer) != 0)
    rc = books_post_side(b, issuer, BOOKS_PAYEE, BOOKS_LOYALTY, buyer,
                         json_string_value(json_object_get(disc, "token")), tokens, id, NULL);
  return rc;
}

int order_release(ledger_book *b, json_t *rec, const char *by, hanse_reject *rej) {
  int rc = resolve_legs(b, rec, 1, rej);
  if (rc == HANSE_OK) rc = book_release(b, rec);
  if (rc == HANSE_OK) rc = put_status(b, rec, "delivered", by);
  return rc;
}

int order_cancel(ledger_book *b, json_t *rec, hanse_reject *rej) {
  int rc = resolve_legs(b, rec, 0, rej);
  if (rc == HANSE_OK) rc = put_status(b, rec, "cancelled", NULL);
  return rc;
}
