/*
 * test_order.c -- orders and their escrow through blocks, receipts and
 * queries.
 *
 * alice (organisation acme; carol is a member) buys from bob (a key the
 * members do not know: it owns as its hex). check: every malformed
 * payload has its code. place: the escrow is a pending transfer from the
 * buyer's account to the seller's; refused ids, accounts, assets and
 * parties. Release by order.deliver and by a trace.capture of a delivery
 * event naming the order; cancellation by either party; expiry by block
 * time. A failing leg leaves nothing behind. The loyalty discount with
 * the token module: dave (a platform) or bob (the seller) defines PNTS,
 * funds its discount account and awards acme tokens; the three legs,
 * balances after delivery, cancellation and expiry, the refusals (a
 * currency token, a discount worth nothing or more than the amount, a
 * leg beyond the funds). The books after a release: its entries
 * reference the release transaction and the order, the buyer's payables
 * and the seller's receivables are back to zero, the issuer's loyalty
 * liability goes down as tokens come back. Every chain is audited at the
 * end (hanse verify's re-execution).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "fixture.h"

enum { ALICE, CAROL, BOB, DAVE, WHO_N };

typedef struct ox {
  fx_chain f;
  hanse_keypair dave; /* nobody's: neither buyer nor seller */
  uint64_t seq[WHO_N];
  hanse_receipt last;
  char bob[HANSE_HASH_HEX_BYTES]; /* bob's owner id: its key's hex */
} ox;

static const hanse_keypair *key_of(ox *x, int who) {
  return who == ALICE ? &x->f.alice : who == CAROL ? &x->f.carol : who == BOB ? &x->f.bob
                                                                               : &x->dave;
}

static const char *submit(ox *x, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *submit(ox *x, int who, const char *kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fx_propose_vtx(&x->f, key_of(x, who), kind, ++x->seq[who], &x->last, fmt, ap);
  va_end(ap);
  return x->last.code;
}

static void ok(const char *code) {
  if (strcmp(code, "ok") != 0) fail_msg("want ok, got %s", code);
}

static const char *open_acct(ox *x, int who, const char *id, const char *asset,
                             const char *type) {
  return submit(x, who, "ledger.open", "{\"account\":\"%s\",\"asset\":\"%s\",\"type\":\"%s\"}",
                id, asset, type);
}

/* acme: wallet (may not go below zero) funded with 1000 EUR from
 * acme:equity, and a USD account; bob: bob:cash in EUR. */
static int setup(void **state) {
  ox *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  fx_chain_setup(&x->f, NULL);
  fx_key(&x->dave, 0xd0);
  fx_hex(x->bob, &x->f.bob.pub);
  char carol[HANSE_HASH_HEX_BYTES];
  ok(submit(x, ALICE, "member.register",
            "{\"member\":{\"id\":\"carol\",\"kind\":\"person\",\"roles\":[],"
            "\"attributes\":{},\"key\":\"%s\"}}",
            fx_hex(carol, &x->f.carol.pub)));
  ok(open_acct(x, ALICE, "acme:equity", "EUR", "equity"));
  ok(submit(x, ALICE, "ledger.open",
            "{\"account\":\"acme:wallet\",\"asset\":\"EUR\",\"type\":\"asset\","
            "\"rule\":\"debits_must_not_exceed_credits\"}"));
  ok(open_acct(x, ALICE, "acme:usd", "USD", "asset"));
  ok(open_acct(x, BOB, "bob:cash", "EUR", "asset"));
  ok(submit(x, ALICE, "ledger.transfer",
            "{\"transfers\":[{\"id\":\"fund\",\"debit\":\"acme:equity\",\"credit\":\"acme:wallet\","
            "\"amount\":1000}]}"));
  *state = x;
  return 0;
}

static int teardown(void **state) {
  ox *x = *state;
  fx_chain_audit(&x->f);
  fx_chain_teardown(&x->f);
  free(x);
  return 0;
}

/* A query of module `module`; NULL and *code on rejection. */
static json_t *query(ox *x, const char *module, const char *name, const char *k1,
                     const char *v1, const char **code) {
  return fx_query_code(&x->f, module, name, json_pack("{s:s}", k1, v1), code);
}

static uint64_t u64_of(json_t *o, const char *field) {
  const char *s = json_string_value(json_object_get(o, field));
  if (s == NULL) fail_msg("no decimal field %s", field);
  return strtoull(s, NULL, 10);
}

static void expect_balances(ox *x, const char *account, uint64_t dp, uint64_t dpo, uint64_t cp,
                            uint64_t cpo) {
  json_t *a = query(x, "ledger", "account", "account", account, NULL);
  if (a == NULL) fail_msg("no account %s", account);
  uint64_t b[4] = {u64_of(a, "debits_pending"), u64_of(a, "debits_posted"),
                   u64_of(a, "credits_pending"), u64_of(a, "credits_posted")};
  json_decref(a);
  if (b[0] != dp || b[1] != dpo || b[2] != cp || b[3] != cpo)
    fail_msg("%s: %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 ", want %" PRIu64 "/%" PRIu64
             "/%" PRIu64 "/%" PRIu64,
             account, b[0], b[1], b[2], b[3], dp, dpo, cp, cpo);
}

/* The "status" of a record a query answers (an order as it shows, a
 * ledger transfer), or the query's code. */
static const char *status_in(ox *x, const char *module, const char *name, const char *id) {
  static char s[64];
  const char *code;
  json_t *o = query(x, module, name, "id", id, &code);
  snprintf(s, sizeof s, "%s", o ? json_string_value(json_object_get(o, "status")) : code);
  json_decref(o);
  return s;
}

static const char *status_of(ox *x, const char *id) { return status_in(x, "order", "order", id); }

static const char *xfer_status(ox *x, const char *id) {
  return status_in(x, "ledger", "transfer", id);
}

/* An account's balance in an owner's books (the books' trial balance:
 * debits - credits; 0 when the account has no entry), whose every asset
 * must balance. */
static int64_t books_balance(ox *x, const char *owner, const char *account, const char *asset) {
  json_t *tb = query(x, "books", "trial_balance", "owner", owner, NULL);
  if (tb == NULL) fail_msg("no trial balance of %s", owner);
  assert_true(json_is_true(json_object_get(tb, "balanced")));
  int64_t bal = 0;
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(tb, "accounts"), i, r) {
    if (strcmp(json_string_value(json_object_get(r, "account")), account) == 0 &&
        strcmp(json_string_value(json_object_get(r, "asset")), asset) == 0)
      bal = strtoll(json_string_value(json_object_get(r, "balance")), NULL, 10);
  }
  json_decref(tb);
  return bal;
}

/* The last transaction (a release of order `id`) booked `n` entries,
 * each referencing it and the order; per_owner[i] entries of owners[i]
 * (NULL-terminated; at most 8). */
static void expect_release_entries(ox *x, const char *id, size_t n, const char *const *owners,
                                   const size_t *per_owner) {
  char tx[HANSE_HASH_HEX_BYTES];
  hanse_hex_encode(tx, x->last.id.b, HANSE_HASH_BYTES);
  json_t *res = query(x, "books", "tx", "tx", tx, NULL);
  if (res == NULL) fail_msg("no books entries of %s", tx);
  json_t *list = json_object_get(res, "entries"), *e;
  assert_int_equal(json_array_size(list), n);
  size_t i, count[8] = {0};
  json_array_foreach(list, i, e) {
    assert_string_equal(json_string_value(json_object_get(e, "tx")), tx);
    assert_string_equal(json_string_value(json_object_get(e, "ref")), id);
    for (size_t k = 0; owners[k]; k++)
      if (strcmp(json_string_value(json_object_get(e, "owner")), owners[k]) == 0) count[k]++;
  }
  for (size_t k = 0; owners[k]; k++) assert_int_equal(count[k], per_owner[k]);
  json_decref(res);
}

/* order.place by `who` of `amount` EUR from acme:wallet to bob:cash. */
static const char *place(ox *x, int who, const char *id, const char *amount, int timeout,
                         const char *extra) {
  return submit(x, who, "order.place",
                "{\"id\":\"%s\",\"seller\":\"%s\",\"asset\":\"EUR\",\"amount\":%s,"
                "\"buyer_account\":\"acme:wallet\",\"seller_account\":\"bob:cash\","
                "\"timeout\":%d%s}",
                id, x->bob, amount, timeout, extra ? extra : "");
}

/* ---- check ------------------------------------------------------------------ */

#define P0 "\"seller\":\"bob\",\"asset\":\"EUR\",\"amount\":5,\"buyer_account\":\"a\"," \
           "\"seller_account\":\"b\",\"timeout\":60"

static void test_check(void **state) {
  ox *x = *state;
  const fx_check_case cases[] = {
      {"order.place", "{\"id\":\"o1\"," P0 "}", "ok"},
      {"order.place", "{\"id\":\"o.1_A-z\"," P0 ",\"discount\":{\"token\":\"PTS\","
                      "\"account\":\"a:pts\",\"amount\":3}}", "ok"},
      {"order.place", "{\"id\":\"o:1\"," P0 "}", "order.bad_id"},
      {"order.place", "{\"id\":\"o/1\"," P0 "}", "order.bad_id"},
      {"order.place", "{\"id\":\"0123456789012345678901234567890123456789012345678\"," P0 "}",
       "order.bad_id"},
      {"order.place", "{" P0 "}", "order.bad_id"},
      {"order.place", "{\"id\":\"o1\"," P0 ",\"memo\":\"x\"}", "order.bad_field"},
      {"order.place", "{\"id\":\"o1\",\"seller\":\"Bob\",\"asset\":\"EUR\",\"amount\":5,"
                      "\"buyer_account\":\"a\",\"seller_account\":\"b\",\"timeout\":60}",
       "order.bad_seller"},
      {"order.place", "{\"id\":\"o1\",\"seller\":\"bob\",\"asset\":\"E R\",\"amount\":5,"
                      "\"buyer_account\":\"a\",\"seller_account\":\"b\",\"timeout\":60}",
       "order.bad_asset"},
      {"order.place", "{\"id\":\"o1\",\"seller\":\"bob\",\"asset\":\"EUR\",\"amount\":0,"
                      "\"buyer_account\":\"a\",\"seller_account\":\"b\",\"timeout\":60}",
       "order.bad_amount"},
      {"order.place", "{\"id\":\"o1\",\"seller\":\"bob\",\"asset\":\"EUR\",\"amount\":5,"
                      "\"buyer_account\":\"a\",\"seller_account\":\"a\",\"timeout\":60}",
       "order.bad_account"},
      {"order.place", "{\"id\":\"o1\",\"seller\":\"bob\",\"asset\":\"EUR\",\"amount\":5,"
                      "\"buyer_account\":\"a\",\"seller_account\":\"b\"}",
       "order.bad_timeout"},
      {"order.place", "{\"id\":\"o1\",\"seller\":\"bob\",\"asset\":\"EUR\",\"amount\":5,"
                      "\"buyer_account\":\"a\",\"seller_account\":\"b\",\"timeout\":4294967296}",
       "order.bad_timeout"},
      {"order.place", "{\"id\":\"o1\"," P0 ",\"discount\":{\"token\":\"PTS\",\"amount\":3}}",
       "order.bad_discount"},
      {"order.place", "{\"id\":\"o1\"," P0 ",\"discount\":{\"token\":\"PTS\","
                      "\"account\":\"a:pts\",\"amount\":0}}", "order.bad_discount"},
      {"order.place", "{\"id\":\"o1\"," P0 ",\"discount\":{\"token\":\"PTS\","
                      "\"account\":\"a:pts\",\"amount\":3,\"x\":1}}", "order.bad_field"},
      {"order.deliver", "{\"id\":\"o1\"}", "ok"},
      {"order.deliver", "{\"id\":\"o1\",\"amount\":3}", "order.bad_field"},
      {"order.cancel", "{}", "order.bad_id"},
  };
  fx_check_cases(&x->f, cases, sizeof cases / sizeof cases[0]);
}

/* ---- place, deliver ------------------------------------------------------------ */

static void test_place_deliver(void **state) {
  ox *x = *state;
  ok(place(x, ALICE, "o1", "300", 3600, NULL));
  expect_balances(x, "acme:wallet", 300, 0, 0, 1000);
  expect_balances(x, "bob:cash", 0, 0, 300, 0);
  json_t *o = query(x, "order", "order", "id", "o1", NULL);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "buyer")), "acme");
  assert_string_equal(json_string_value(json_object_get(o, "seller")), x->bob);
  assert_string_equal(json_string_value(json_object_get(o, "amount")), "300");
  assert_string_equal(json_string_value(json_object_get(o, "status")), "pending");
  assert_int_equal(json_array_size(json_object_get(o, "legs")), 1);
  assert_string_equal(json_string_value(json_array_get(json_object_get(o, "legs"), 0)),
                      "order:o1");
  assert_int_equal(json_integer_value(json_object_get(o, "expires_at")),
                   x->f.time_ms - 1000 + 3600 * 1000);
  json_decref(o);
  json_t *t = query(x, "ledger", "transfer", "id", "order:o1", NULL);
  assert_string_equal(json_string_value(json_object_get(t, "controller")), "order");
  assert_string_equal(json_string_value(json_object_get(t, "ref")), "o1");
  json_decref(t);

  /* the escrow is the order module's alone */
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"order:o1\"}"),
                      "ledger.controlled");
  assert_string_equal(submit(x, BOB, "ledger.post", "{\"id\":\"order:o1\"}"), "ledger.controlled");
  assert_string_equal(place(x, ALICE, "o1", "300", 3600, NULL), "order.exists");
  /* only the buyer confirms delivery; carol acts for acme */
  assert_string_equal(submit(x, BOB, "order.deliver", "{\"id\":\"o1\"}"), "order.not_buyer");
  assert_string_equal(submit(x, ALICE, "order.deliver", "{\"id\":\"o9\"}"), "order.no_order");
  ok(submit(x, CAROL, "order.deliver", "{\"id\":\"o1\"}"));
  /* both books: the sale and the payment of the release transaction */
  const char *const owners[] = {"acme", x->bob, NULL};
  expect_release_entries(x, "o1", 4, owners, (const size_t[]){2, 2});
  assert_int_equal(books_balance(x, "acme", "liabilities:payables", "EUR"), 0);
  assert_int_equal(books_balance(x, x->bob, "assets:receivables", "EUR"), 0);
  assert_int_equal(books_balance(x, x->bob, "revenue:sales", "EUR"), -300);
  expect_balances(x, "acme:wallet", 0, 300, 0, 1000);
  expect_balances(x, "bob:cash", 0, 0, 0, 300);
  assert_string_equal(xfer_status(x, "order:o1"), "posted");
  o = query(x, "order", "order", "id", "o1", NULL);
  assert_string_equal(json_string_value(json_object_get(o, "status")), "delivered");
  assert_string_equal(json_string_value(json_object_get(o, "released_by")), "order.deliver");
  assert_true(json_is_integer(json_object_get(o, "resolved_at")));
  json_decref(o);
  /* once only */
  assert_string_equal(submit(x, ALICE, "order.deliver", "{\"id\":\"o1\"}"), "order.not_pending");
  assert_string_equal(submit(x, BOB, "order.cancel", "{\"id\":\"o1\"}"), "order.not_pending");

  /* the orders of each party */
  ok(place(x, ALICE, "o0", "1", 60, NULL));
  json_t *params = json_pack("{s:s, s:s}", "party", "acme", "limit", "1"), *res = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(&x->f, "order", "orders", params, &res, &rej), HANSE_OK);
  json_t *list = json_object_get(res, "orders");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "o0");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "role")),
                      "buyer");
  assert_string_equal(json_string_value(json_object_get(res, "next")), "o0");
  json_object_set(params, "after", json_object_get(res, "next"));
  json_decref(res);
  assert_int_equal(fx_query(&x->f, "order", "orders", params, &res, &rej), HANSE_OK);
  list = json_object_get(res, "orders");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "o1");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "status")),
                      "delivered");
  json_decref(res);
  json_object_set_new(params, "party", json_string(x->bob));
  json_object_del(params, "after");
  json_object_set_new(params, "limit", json_string("10"));
  assert_int_equal(fx_query(&x->f, "order", "orders", params, &res, &rej), HANSE_OK);
  list = json_object_get(res, "orders");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "role")),
                      "seller");
  assert_null(json_object_get(res, "next"));
  json_decref(res);
  /* "owner" names the party as well (the owner query's parameter) */
  json_object_del(params, "party");
  json_object_set_new(params, "owner", json_string(x->bob));
  assert_int_equal(fx_query(&x->f, "order", "orders", params, &res, &rej), HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "orders")), 2);
  json_decref(res);
  json_decref(params);
  const char *code;
  assert_null(query(x, "order", "order", "id", "a:b", &code));
  assert_string_equal(code, "order.bad_id");
  assert_null(query(x, "order", "orders", "party", "a/b", &code));
  assert_string_equal(code, "order.bad_party");
}

/* Refused orders leave nothing: no record, no leg, no index, no balance. */
static void expect_no_trace_of(ox *x, const char *id) {
  char key[128], leg[64];
  snprintf(key, sizeof key, "order/o/%s", id);
  assert_false(fx_state(&x->f, key, NULL, 0));
  snprintf(key, sizeof key, "order/by/acme/%s", id);
  assert_false(fx_state(&x->f, key, NULL, 0));
  snprintf(leg, sizeof leg, "order:%s", id);
  assert_string_equal(xfer_status(x, leg), "ledger.no_transfer");
  expect_balances(x, "acme:wallet", 0, 0, 0, 1000);
  expect_balances(x, "bob:cash", 0, 0, 0, 0);
}

static void test_refused(void **state) {
  ox *x = *state;
  /* unknown and foreign accounts, assets, parties */
  assert_string_equal(submit(x, ALICE, "order.place",
                             "{\"id\":\"r1\",\"seller\":\"%s\",\"asset\":\"EUR\",\"amount\":5,"
                             "\"buyer_account\":\"nope\",\"seller_account\":\"bob:cash\","
                             "\"timeout\":60}",
                             x->bob),
                      "order.no_account");
  assert_string_equal(submit(x, BOB, "order.place",
                             "{\"id\":\"r1\",\"seller\":\"acme\",\"asset\":\"EUR\",\"amount\":5,"
                             "\"buyer_account\":\"acme:wallet\",\"seller_account\":\"bob:cash\","
                             "\"timeout\":60}"),
                      "order.not_owner");
  assert_string_equal(submit(x, ALICE, "order.place",
                             "{\"id\":\"r1\",\"seller\":\"someone\",\"asset\":\"EUR\",\"amount\":5,"
                             "\"buyer_account\":\"acme:wallet\",\"seller_account\":\"bob:cash\","
                             "\"timeout\":60}"),
                      "order.not_seller");
  assert_string_equal(place(x, ALICE, "r1", "5", 60, NULL), "ok");
  assert_string_equal(submit(x, ALICE, "order.cancel", "{\"id\":\"r1\"}"), "ok");
  assert_string_equal(submit(x, ALICE, "order.place",
                             "{\"id\":\"r2\",\"seller\":\"%s\",\"asset\":\"USD\",\"amount\":5,"
                             "\"buyer_account\":\"acme:usd\",\"seller_account\":\"bob:cash\","
                             "\"timeout\":60}",
                             x->bob),
                      "order.asset_mismatch");
  assert_string_equal(submit(x, ALICE, "order.place",
                             "{\"id\":\"r2\",\"seller\":\"acme\",\"asset\":\"EUR\",\"amount\":5,"
                             "\"buyer_account\":\"acme:wallet\",\"seller_account\":\"acme:equity\","
                             "\"timeout\":60}"),
                      "order.same_party");
  /* a loyalty discount names a token that must exist */
  assert_string_equal(place(x, ALICE, "r2", "5", 60,
                            ",\"discount\":{\"token\":\"PTS\",\"account\":\"acme:pts\","
                            "\"amount\":3}"),
                      "order.unknown_token");
  expect_no_trace_of(x, "r2");
}

/* A failing leg leaves nothing behind: the buyer cannot pay, or some
 * ledger transfer took the leg's id. */
static void test_failing_leg(void **state) {
  ox *x = *state;
  assert_string_equal(place(x, ALICE, "f1", "1001", 60, NULL), "ledger.exceeds_credits");
  expect_no_trace_of(x, "f1");
  ok(submit(x, ALICE, "ledger.transfer",
            "{\"transfers\":[{\"id\":\"order:f2\",\"debit\":\"acme:equity\","
            "\"credit\":\"bob:cash\",\"amount\":2,\"pending\":true}]}"));
  assert_string_equal(place(x, ALICE, "f2", "2", 60, NULL), "order.leg_taken");
  char key[64];
  snprintf(key, sizeof key, "order/o/f2");
  assert_false(fx_state(&x->f, key, NULL, 0));
  expect_balances(x, "acme:wallet", 0, 0, 0, 1000);
  /* the same request as the existing leg is no reuse of it either */
  ok(submit(x, ALICE, "ledger.void", "{\"id\":\"order:f2\"}"));
  ok(submit(x, ALICE, "ledger.transfer",
            "{\"transfers\":[{\"id\":\"order:f3\",\"debit\":\"acme:wallet\","
            "\"credit\":\"bob:cash\",\"amount\":3,\"pending\":true,\"timeout\":60,"
            "\"ref\":\"f3\"}]}"));
  assert_string_equal(place(x, ALICE, "f3", "3", 60, NULL), "order.leg_taken");
  assert_string_equal(status_of(x, "f3"), "order.no_order");
}

/* ---- cancel, expiry ------------------------------------------------------------ */

static void test_cancel(void **state) {
  ox *x = *state;
  ok(place(x, ALICE, "c1", "100", 3600, NULL));
  ok(place(x, ALICE, "c2", "200", 3600, NULL));
  expect_balances(x, "acme:wallet", 300, 0, 0, 1000);
  assert_string_equal(submit(x, DAVE, "order.cancel", "{\"id\":\"c1\"}"), "order.not_party");
  ok(submit(x, BOB, "order.cancel", "{\"id\":\"c1\"}")); /* the seller */
  ok(submit(x, CAROL, "order.cancel", "{\"id\":\"c2\"}")); /* the buyer */
  expect_balances(x, "acme:wallet", 0, 0, 0, 1000);
  expect_balances(x, "bob:cash", 0, 0, 0, 0);
  assert_string_equal(status_of(x, "c1"), "cancelled");
  assert_string_equal(xfer_status(x, "order:c1"), "voided");
  assert_string_equal(submit(x, ALICE, "order.deliver", "{\"id\":\"c1\"}"), "order.not_pending");
  assert_string_equal(submit(x, BOB, "order.cancel", "{\"id\":\"c2\"}"), "order.not_pending");
}

static void test_timeout(void **state) {
  ox *x = *state;
  uint64_t t0 = x->f.time_ms;
  ok(place(x, ALICE, "e1", "70", 5, NULL));
  ok(place(x, ALICE, "e2", "30", 3600, NULL));
  /* just before the deadline nothing expires */
  x->f.time_ms = t0 + 4999;
  ok(open_acct(x, ALICE, "acme:x", "EUR", "asset"));
  assert_string_equal(status_of(x, "e1"), "pending");
  /* at it, every ledger or order transaction sees the legs swept (and a
   * successful one keeps the sweep): the money is the buyer's again and
   * the order shows expired */
  x->f.time_ms = t0 + 5000;
  assert_string_equal(submit(x, ALICE, "order.deliver", "{\"id\":\"e1\"}"), "order.not_pending");
  assert_string_equal(xfer_status(x, "order:e1"), "pending"); /* a rejection writes nothing */
  ok(place(x, ALICE, "e3", "1", 60, NULL));
  assert_string_equal(xfer_status(x, "order:e1"), "expired");
  assert_string_equal(status_of(x, "e1"), "expired");
  char raw[1024];
  assert_true(fx_state(&x->f, "order/o/e1", raw, sizeof raw));
  assert_non_null(strstr(raw, "\"status\":\"pending\"")); /* the sweep wrote no order */
  expect_balances(x, "acme:wallet", 31, 0, 0, 1000);
  expect_balances(x, "bob:cash", 0, 0, 31, 0);
  assert_string_equal(submit(x, BOB, "order.cancel", "{\"id\":\"e1\"}"), "order.not_pending");
  ok(submit(x, ALICE, "order.deliver", "{\"id\":\"e2\"}"));
  expect_balances(x, "acme:wallet", 1, 30, 0, 1000);
}

/* ---- release by a trace delivery event ----------------------------------------- */

static uint64_t event_no;

/* trace.capture by `who` of one ObjectEvent with bizStep `step`, the
 * bizTransaction `bt` (NULL: none) and `extra` members. */
static const char *capture(ox *x, int who, const char *step, const char *bt, const char *extra) {
  char list[256] = "";
  if (bt)
    snprintf(list, sizeof list,
             ",\"bizTransactionList\":[{\"type\":\"po\",\"bizTransaction\":\"%s\"}]", bt);
  event_no++;
  return submit(x, who, "trace.capture",
                "{\"document\":{\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\","
                "\"creationDate\":\"2024-06-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[{"
                "\"type\":\"ObjectEvent\","
                "\"eventID\":\"urn:uuid:44444444-0000-4000-8000-%012" PRIu64 "\","
                "\"eventTime\":\"2024-06-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
                "\"epcList\":[\"urn:epc:id:sgtin:4012345.011111.%" PRIu64 "\"],"
                "\"action\":\"OBSERVE\","
                "\"bizStep\":\"%s\"%s%s}]}}}",
                event_no, event_no, step, list, extra ? extra : "");
}

#define SITE "urn:epc:id:sgln:4012345.00001.0"

static void test_trace_release(void **state) {
  ox *x = *state;
  event_no = 0;
  ok(place(x, ALICE, "t1", "100", 3600, NULL));
  ok(place(x, ALICE, "t2", "200", 3600, NULL));
  ok(place(x, ALICE, "t3", "300", 3600, NULL));
  /* events that concern no order, or no pending one, change nothing */
  ok(capture(x, ALICE, "accepting", NULL, NULL));
  ok(capture(x, ALICE, "accepting", "urn:epcglobal:cbv:bt:0614141000005:t9", NULL));
  ok(capture(x, ALICE, "accepting", "urn:epcglobal:cbv:bt:0614141000005:xt1", NULL));
  ok(capture(x, ALICE, "shipping", "urn:epcglobal:cbv:bt:0614141000005:t1", NULL));
  /* receiving elsewhere than where the event says it is bound is an
   * arrival, not a delivery */
  ok(capture(x, ALICE, "receiving", "https://hanse.example/order/t2", NULL));
  /* the seller cannot release its own escrow */
  ok(capture(x, BOB, "accepting", "urn:epcglobal:cbv:bt:0614141000005:t1", NULL));
  assert_string_equal(status_of(x, "t1"), "pending");
  assert_string_equal(status_of(x, "t2"), "pending");
  expect_balances(x, "acme:wallet", 600, 0, 0, 1000);

  /* the buyer accepting the goods of t1 */
  ok(capture(x, ALICE, "accepting", "urn:epcglobal:cbv:bt:0614141000005:t1", NULL));
  assert_string_equal(status_of(x, "t1"), "delivered");
  json_t *o = query(x, "order", "order", "id", "t1", NULL);
  assert_string_equal(json_string_value(json_object_get(o, "released_by")),
                      "urn:uuid:44444444-0000-4000-8000-000000000007");
  json_decref(o);
  expect_balances(x, "bob:cash", 0, 0, 500, 100);
  /* receiving at the destination the event names, a web URI naming t2 */
  ok(capture(x, ALICE, "receiving", "https://hanse.example/order/t2",
             ",\"bizLocation\":{\"id\":\"" SITE "\"},\"destinationList\":[{\"type\":"
             "\"location\",\"destination\":\"" SITE "\"}]"));
  assert_string_equal(status_of(x, "t2"), "delivered");
  expect_balances(x, "bob:cash", 0, 0, 300, 300);
  /* a second delivery event for t1 changes nothing; cancelled t3 neither */
  ok(submit(x, BOB, "order.cancel", "{\"id\":\"t3\"}"));
  ok(capture(x, ALICE, "accepting", "urn:epcglobal:cbv:bt:0614141000005:t1", NULL));
  ok(capture(x, ALICE, "accepting", "urn:epcglobal:cbv:bt:0614141000005:t3", NULL));
  assert_string_equal(status_of(x, "t3"), "cancelled");
  expect_balances(x, "acme:wallet", 0, 300, 0, 1000);
  expect_balances(x, "bob:cash", 0, 0, 0, 300);
  assert_string_equal(submit(x, ALICE, "order.deliver", "{\"id\":\"t1\"}"), "order.not_pending");
}

/* ---- loyalty discount with the token module ------------------------------------ */

/* `who` (dave: a platform, or bob: the seller) defines PNTS, a loyalty
 * token worth 3/10 of a EUR cent, funds its discount account with `fund`
 * EUR from its own equity, and awards acme 100 PNTS (acme:pnts). */
static void loyalty(ox *x, int who, const char *owner_prefix, uint64_t fund) {
  char equity[32], id[32];
  snprintf(equity, sizeof equity, "%s:equity", owner_prefix);
  ok(submit(x, who, "token.define",
            "{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,"
            "\"value\":{\"asset\":\"EUR\",\"num\":3,\"den\":10}}"));
  ok(open_acct(x, who, equity, "EUR", "equity"));
  snprintf(id, sizeof id, "fund-%s", owner_prefix);
  ok(submit(x, who, "ledger.transfer",
            "{\"transfers\":[{\"id\":\"%s\",\"debit\":\"%s\",\"credit\":\"token:PNTS:discounts\","
            "\"amount\":%" PRIu64 "}]}",
            id, equity, fund));
  ok(open_acct(x, ALICE, "acme:pnts", "PNTS", "asset"));
  ok(submit(x, who, "token.issue",
            "{\"symbol\":\"PNTS\",\"account\":\"acme:pnts\",\"amount\":100,\"ref\":\"award-1\"}"));
}

/* The discount member of order.place: `tokens` of `token` from acme:pnts. */
static const char *discount(const char *token, int tokens) {
  static char s[128];
  snprintf(s, sizeof s, ",\"discount\":{\"token\":\"%s\",\"account\":\"acme:pnts\",\"amount\":%d}",
           token, tokens);
  return s;
}

/* A ledger transfer is what the order made of a leg. */
static void expect_leg(ox *x, const char *id, const char *debit, const char *credit,
                       json_int_t amount, const char *controller, const char *status) {
  json_t *t = query(x, "ledger", "transfer", "id", id, NULL);
  if (t == NULL) fail_msg("no leg %s", id);
  assert_string_equal(json_string_value(json_object_get(t, "debit")), debit);
  assert_string_equal(json_string_value(json_object_get(t, "credit")), credit);
  assert_int_equal(json_integer_value(json_object_get(t, "amount")), amount);
  assert_string_equal(json_string_value(json_object_get(t, "controller")), controller);
  assert_string_equal(json_string_value(json_object_get(t, "status")), status);
  json_decref(t);
}

/* The three legs of discounted order `id` are all `status`. */
static void expect_legs(ox *x, const char *id, const char *status) {
  static const char *const suffix[] = {"", ":tokens", ":discount"};
  for (size_t i = 0; i < 3; i++) {
    char leg[64];
    snprintf(leg, sizeof leg, "order:%s%s", id, suffix[i]);
    if (strcmp(xfer_status(x, leg), status) != 0)
      fail_msg("leg %s is %s, want %s", leg, xfer_status(x, leg), status);
  }
}

/* The tokens of PNTS outstanding and the discount funds left. */
static void expect_pts(ox *x, uint64_t outstanding, uint64_t funds) {
  json_t *b = query(x, "token", "backing", "symbol", "PNTS", NULL);
  if (b == NULL) fail_msg("no backing of PNTS");
  assert_int_equal(u64_of(b, "outstanding"), outstanding);
  assert_int_equal(u64_of(b, "discount_funds"), funds);
  json_decref(b);
}

/* Before any order: acme's 1000 EUR and 100 PNTS, 50 EUR of discounts. */
static void expect_loyalty_start(ox *x) {
  expect_balances(x, "acme:wallet", 0, 0, 0, 1000);
  expect_balances(x, "acme:pnts", 0, 0, 0, 100);
  expect_balances(x, "bob:cash", 0, 0, 0, 0);
  expect_balances(x, "token:PNTS:issued", 0, 100, 0, 0);
  expect_balances(x, "token:PNTS:discounts", 0, 0, 0, 50);
  expect_pts(x, 100, 50);
}

static void test_discount_deliver(void **state) {
  ox *x = *state;
  char dave[HANSE_HASH_HEX_BYTES];
  fx_hex(dave, &x->dave.pub);
  loyalty(x, DAVE, dave, 50);
  expect_loyalty_start(x);
  /* 25 tokens at 3/10 of a cent: a discount of floor(7.5) = 7 */
  ok(place(x, ALICE, "d1", "300", 3600, discount("PNTS", 25)));
  json_t *o = query(x, "order", "order", "id", "d1", NULL);
  json_t *legs = json_object_get(o, "legs"), *d = json_object_get(o, "discount");
  assert_int_equal(json_array_size(legs), 3);
  assert_string_equal(json_string_value(json_array_get(legs, 0)), "order:d1");
  assert_string_equal(json_string_value(json_array_get(legs, 1)), "order:d1:tokens");
  assert_string_equal(json_string_value(json_array_get(legs, 2)), "order:d1:discount");
  assert_string_equal(json_string_value(json_object_get(d, "token")), "PNTS");
  assert_string_equal(json_string_value(json_object_get(d, "account")), "acme:pnts");
  assert_string_equal(json_string_value(json_object_get(d, "tokens")), "25");
  assert_string_equal(json_string_value(json_object_get(d, "amount")), "7");
  assert_string_equal(json_string_value(json_object_get(d, "issuer")), dave);
  json_decref(o);
  expect_leg(x, "order:d1", "acme:wallet", "bob:cash", 293, "order", "pending");
  expect_leg(x, "order:d1:tokens", "acme:pnts", "token:PNTS:issued", 25, "order", "pending");
  expect_leg(x, "order:d1:discount", "token:PNTS:discounts", "bob:cash", 7, "token", "pending");
  expect_balances(x, "bob:cash", 0, 0, 300, 0);
  expect_pts(x, 100, 43);
  /* the tokens in escrow are the order module's, the discount the token
   * module's: nobody posts or voids them with the ledger */
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"order:d1:tokens\"}"),
                      "ledger.controlled");
  assert_string_equal(submit(x, DAVE, "ledger.void", "{\"id\":\"order:d1:discount\"}"),
                      "ledger.controlled");

  ok(submit(x, ALICE, "order.deliver", "{\"id\":\"d1\"}"));
  /* the seller got the amount in all, the tokens are back with their
   * issuer (out of circulation), the discount account paid 7 */
  expect_balances(x, "bob:cash", 0, 0, 0, 300);
  expect_balances(x, "acme:wallet", 0, 293, 0, 1000);
  expect_balances(x, "acme:pnts", 0, 25, 0, 100);
  expect_balances(x, "token:PNTS:issued", 0, 100, 0, 25);
  expect_balances(x, "token:PNTS:discounts", 0, 7, 0, 50);
  expect_pts(x, 75, 43);
  expect_legs(x, "d1", "posted");
  assert_string_equal(status_of(x, "d1"), "delivered");
  /* the books: the release booked the sale, the payment, the discount
   * and the tokens' return, all referencing it; the buyer's payables and
   * the seller's receivables are back to zero */
  const char *const owners[] = {"acme", x->bob, dave, NULL};
  expect_release_entries(x, "d1", 7, owners, (const size_t[]){2, 3, 2});
  assert_int_equal(books_balance(x, "acme", "liabilities:payables", "EUR"), 0);
  assert_int_equal(books_balance(x, "acme", "expenses:purchases", "EUR"), 293);
  assert_int_equal(books_balance(x, x->bob, "assets:receivables", "EUR"), 0);
  assert_int_equal(books_balance(x, x->bob, "revenue:sales", "EUR"), -300);
  assert_int_equal(books_balance(x, x->bob, "assets:cash", "EUR"), 300);
  assert_int_equal(books_balance(x, dave, "expenses:discounts", "EUR"), 7);
  /* 100 tokens awarded, 25 back: the issuer's liability is 75 */
  assert_int_equal(books_balance(x, dave, "liabilities:loyalty-tokens", "PNTS"), -75);

  /* a discount that pays it all: no leg of the buyer's */
  ok(place(x, ALICE, "d2", "7", 60, discount("PNTS", 25)));
  o = query(x, "order", "order", "id", "d2", NULL);
  legs = json_object_get(o, "legs");
  assert_int_equal(json_array_size(legs), 2);
  assert_string_equal(json_string_value(json_array_get(legs, 0)), "order:d2:tokens");
  json_decref(o);
  assert_string_equal(xfer_status(x, "order:d2"), "ledger.no_transfer");
  ok(submit(x, CAROL, "order.deliver", "{\"id\":\"d2\"}"));
  expect_balances(x, "bob:cash", 0, 0, 0, 307);
  expect_balances(x, "acme:wallet", 0, 293, 0, 1000);
  expect_pts(x, 50, 36);
}

static void test_discount_cancel_timeout(void **state) {
  ox *x = *state;
  char dave[HANSE_HASH_HEX_BYTES];
  loyalty(x, DAVE, fx_hex(dave, &x->dave.pub), 50);
  ok(place(x, ALICE, "c1", "300", 3600, discount("PNTS", 40))); /* D = 12 */
  uint64_t t0 = x->f.time_ms;
  ok(place(x, ALICE, "e1", "100", 5, discount("PNTS", 60))); /* D = 18 */
  expect_balances(x, "acme:wallet", 288 + 82, 0, 0, 1000);
  expect_balances(x, "acme:pnts", 100, 0, 0, 100);
  expect_balances(x, "bob:cash", 0, 0, 400, 0);
  expect_balances(x, "token:PNTS:discounts", 30, 0, 0, 50);
  /* cancelled by the seller: every leg voided */
  ok(submit(x, BOB, "order.cancel", "{\"id\":\"c1\"}"));
  const char *const nobody[] = {NULL};
  expect_release_entries(x, "c1", 0, nobody, NULL); /* nothing booked */
  assert_string_equal(status_of(x, "c1"), "cancelled");
  expect_legs(x, "c1", "voided");
  expect_balances(x, "acme:pnts", 60, 0, 0, 100);
  expect_balances(x, "token:PNTS:discounts", 18, 0, 0, 50);
  /* e1's deadline passes: the sweep expires its three legs together */
  x->f.time_ms = t0 + 5000;
  ok(open_acct(x, ALICE, "acme:x", "EUR", "asset"));
  assert_string_equal(status_of(x, "e1"), "expired");
  expect_legs(x, "e1", "expired");
  assert_string_equal(submit(x, ALICE, "order.deliver", "{\"id\":\"e1\"}"), "order.not_pending");
  expect_loyalty_start(x);
}

static void test_discount_refused(void **state) {
  ox *x = *state;
  char dave[HANSE_HASH_HEX_BYTES];
  loyalty(x, DAVE, fx_hex(dave, &x->dave.pub), 10);
  ok(submit(x, DAVE, "token.define",
            "{\"symbol\":\"EURD\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"EUR\"}"));
  ok(open_acct(x, BOB, "bob:pnts", "PNTS", "asset"));
  /* a currency token buys no discount */
  assert_string_equal(place(x, ALICE, "r1", "300", 60, discount("EURD", 5)), "order.not_loyalty");
  /* 100 tokens are worth 30: more than an order of 29 */
  assert_string_equal(place(x, ALICE, "r1", "29", 60, discount("PNTS", 100)),
                      "order.discount_exceeds");
  /* 3 tokens are worth floor(0.9) = 0: refused, not spent for nothing */
  assert_string_equal(place(x, ALICE, "r1", "300", 60, discount("PNTS", 3)),
                      "order.bad_discount");
  /* the tokens must be the buyer's */
  assert_string_equal(place(x, ALICE, "r1", "300", 60,
                            ",\"discount\":{\"token\":\"PNTS\",\"account\":\"bob:pnts\","
                            "\"amount\":10}"),
                      "order.not_owner");
  expect_no_trace_of(x, "r1");
  /* a failing leg: more tokens than the buyer holds, or a discount (40
   * tokens: 12) beyond the discount account's 10. The legs made before
   * it vanish with it. */
  assert_string_equal(place(x, ALICE, "r2", "300", 60, discount("PNTS", 101)),
                      "ledger.exceeds_credits");
  assert_string_equal(place(x, ALICE, "r2", "300", 60, discount("PNTS", 40)),
                      "ledger.exceeds_credits");
  expect_no_trace_of(x, "r2");
  expect_legs(x, "r2", "ledger.no_transfer");
  expect_balances(x, "acme:pnts", 0, 0, 0, 100);
  expect_balances(x, "token:PNTS:discounts", 0, 0, 0, 10);
  /* 33 tokens are worth 9: within the funds */
  ok(place(x, ALICE, "r3", "300", 60, discount("PNTS", 33)));
  expect_balances(x, "token:PNTS:discounts", 9, 0, 0, 10);
}

/* The seller is the token's issuer: it funds the discount itself. */
static void test_discount_seller_issues(void **state) {
  ox *x = *state;
  loyalty(x, BOB, x->bob, 50);
  ok(place(x, ALICE, "s1", "300", 60, discount("PNTS", 50))); /* D = 15 */
  expect_leg(x, "order:s1:discount", "token:PNTS:discounts", "bob:cash", 15, "token", "pending");
  ok(submit(x, ALICE, "order.deliver", "{\"id\":\"s1\"}"));
  /* its discount account paying it books nothing: it sold for 285, and
   * its receivables are back to zero */
  const char *const owners[] = {"acme", x->bob, NULL};
  expect_release_entries(x, "s1", 5, owners, (const size_t[]){2, 3});
  assert_int_equal(books_balance(x, x->bob, "assets:receivables", "EUR"), 0);
  assert_int_equal(books_balance(x, x->bob, "revenue:sales", "EUR"), -285);
  assert_int_equal(books_balance(x, x->bob, "liabilities:loyalty-tokens", "PNTS"), -50);
  assert_int_equal(books_balance(x, "acme", "liabilities:payables", "EUR"), 0);
  expect_balances(x, "bob:cash", 0, 0, 0, 300);
  expect_balances(x, "acme:wallet", 0, 285, 0, 1000);
  expect_balances(x, "token:PNTS:discounts", 0, 15, 0, 50);
  expect_pts(x, 50, 35);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_place_deliver, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failing_leg, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_trace_release, setup, teardown),
      cmocka_unit_test_setup_teardown(test_discount_deliver, setup, teardown),
      cmocka_unit_test_setup_teardown(test_discount_cancel_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_discount_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_discount_seller_issues, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
