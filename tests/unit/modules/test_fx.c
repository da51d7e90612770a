/*
 * test_fx.c -- cross-currency payments (modules/fx) through blocks,
 * receipts and queries.
 *
 * Three parties: acme, the market maker (alice signs its quotes: acme's
 * founder key), bob the payer and carol the payee (keys the members do
 * not know: each owns its accounts as its key's hex). acme quotes USD for
 * EUR at 1.0850 (num 10850, den 10000). The happy path moves EUR from bob
 * to acme and USD from acme to carol, and the three parties' balances
 * show it; the same payment again changes nothing, the same id with other
 * fields is a conflict. Rejections: a tampered quote, a quote signed by
 * a key outside the maker's organisation, a quote not yet valid and one
 * expired, a quote used beyond its max, a quote id reused for another
 * quote, a maker's account that is not the maker's, rounding to nothing
 * and past 2^63-1. Atomicity: the second leg fails (the maker's USD
 * account is limited and short) -- no balance moved, no payment record,
 * no quote use, no leg transfer, no entry in anybody's books. Books: a
 * payment is booked in all three parties' books (books query "tx"): the
 * payer's payment in EUR, the payee's in USD, the maker's conversion as
 * one balanced entry per currency; the same payment again books nothing;
 * every book balances. Every chain is audited at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "encoding/fx_quote.h"
#include "fixture.h"
#include "hanse/client.h"
#include "modules/fx/fx.h"

enum { ALICE, BOB, CAROL, WHO_N };

typedef struct fxt {
  fx_chain f;
  uint64_t seq[WHO_N];
  char bob[HANSE_HASH_HEX_BYTES], carol[HANSE_HASH_HEX_BYTES];
} fxt;

static const hanse_keypair *key_of(fxt *x, int who) {
  return who == ALICE ? &x->f.alice : who == BOB ? &x->f.bob : &x->f.carol;
}

/* One transaction in a block of its own; its receipt code. */
#define submit(x, who, kind, ...) fx_submit(&(x)->f, key_of(x, who), &(x)->seq[who], kind, __VA_ARGS__)

static void open_acct(fxt *x, int who, const char *id, const char *asset, int limited) {
  const char *code =
      submit(x, who, "ledger.open", "{\"account\":\"%s\",\"asset\":\"%s\",\"type\":\"asset\"%s}",
             id, asset, limited ? ",\"rule\":\"debits_must_not_exceed_credits\"" : "");
  if (strcmp(code, "ok") != 0) fail_msg("open %s: %s", id, code);
}

static void fund(fxt *x, int who, const char *from, const char *to, uint64_t amount) {
  static int n;
  const char *code = submit(x, who, "ledger.transfer",
                            "{\"transfers\":[{\"id\":\"fund%d\",\"debit\":\"%s\",\"credit\":\"%s\","
                            "\"amount\":%llu}]}",
                            ++n, from, to, (unsigned long long)amount);
  if (strcmp(code, "ok") != 0) fail_msg("fund %s: %s", to, code);
}

/* acme: mm:eur (receives EUR), mm:usd (pays USD, limited, 100000 in it);
 * bob: bob:eur (limited, 5000 in it); carol: carol:usd. */
static int setup(void **state) {
  fxt *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  fx_chain_setup(&x->f, NULL);
  fx_hex(x->bob, &x->f.bob.pub);
  fx_hex(x->carol, &x->f.carol.pub);
  open_acct(x, ALICE, "mm:eur", "EUR", 0);
  open_acct(x, ALICE, "mm:usd", "USD", 1);
  open_acct(x, ALICE, "mm:capital", "USD", 0);
  open_acct(x, ALICE, "mm:bob", "USD", 0); /* acme's, for the not-maker case below */
  open_acct(x, BOB, "bob:eur", "EUR", 1);
  open_acct(x, BOB, "bob:capital", "EUR", 0);
  open_acct(x, BOB, "bob:usd", "USD", 0);
  open_acct(x, CAROL, "carol:usd", "USD", 0);
  fund(x, ALICE, "mm:capital", "mm:usd", 100000);
  fund(x, BOB, "bob:capital", "bob:eur", 5000);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  fxt *x = *state;
  fx_chain_audit(&x->f);
  fx_chain_teardown(&x->f);
  free(x);
  return 0;
}

/* A quote's parameters; the defaults are a valid quote by acme. */
typedef struct quote_spec {
  const char *id, *maker, *sell_account;
  const hanse_keypair *kp;
  uint64_t num, den, from_ms, until_ms, max;
} quote_spec;

static quote_spec default_quote(fxt *x) {
  quote_spec s = {"q1", "acme", "mm:usd", &x->f.alice, 10850, 10000, FX_T0_MS,
                  FX_T0_MS + 3600000, 1000000};
  return s;
}

/* The signed quote as JSON text (malloc'd), made by the client. */
static char *quote_text(const quote_spec *s) {
  hanse_fx_quote_spec q = {s->id,  s->maker, "USD",      "EUR",      "mm:eur", s->sell_account,
                           s->num, s->den,   s->from_ms, s->until_ms, s->max};
  json_t *doc = NULL;
  hanse_reject rej;
  if (hanse_client_fx_quote(&q, s->kp, &doc, &rej) != HANSE_OK) fail_msg("quote: %s", rej.message);
  assert_true(hanse_fx_quote_verify(doc));
  char *t = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  return t;
}

static const char *pay_with(fxt *x, const char *id, const char *quote, uint64_t amount) {
  return submit(x, BOB, "fx.pay",
                "{\"id\":\"%s\",\"quote\":%s,\"debit\":\"bob:eur\",\"credit\":\"carol:usd\","
                "\"amount\":%llu}",
                id, quote, (unsigned long long)amount);
}

static const char *pay(fxt *x, const char *id, const quote_spec *s, uint64_t amount) {
  char *q = quote_text(s);
  const char *code = pay_with(x, id, q, amount);
  free(q);
  return code;
}

static json_t *query(fxt *x, const char *name, const char *k, const char *v, const char **code) {
  return fx_query_code(&x->f, "fx", name, json_pack("{s:s}", k, v), code);
}

static const char *str(json_t *o, const char *f) { return json_string_value(json_object_get(o, f)); }

/* The four accounts a payment touches, as balances. */
static void expect(fxt *x, int64_t bob_eur, int64_t mm_eur, int64_t mm_usd, int64_t carol_usd) {
  assert_int_equal(fx_ledger_balance(&x->f, "bob:eur"), bob_eur);
  assert_int_equal(fx_ledger_balance(&x->f, "mm:eur"), mm_eur);
  assert_int_equal(fx_ledger_balance(&x->f, "mm:usd"), mm_usd);
  assert_int_equal(fx_ledger_balance(&x->f, "carol:usd"), carol_usd);
}

/* The entries of the last payment (fx_submitted's transaction), `ref`:
 * bob's payment in EUR, carol's in USD, each naming the other, and acme's
 * conversion, one entry per currency, each balanced in its own. */
static void expect_books(fxt *x, uint64_t paid, uint64_t received, const char *ref) {
  json_t *es = fx_books_tx(&x->f, &fx_submitted()->id);
  assert_int_equal(json_array_size(es), 4);
  json_t *payer = fx_books_find(es, x->bob, "payment", "payer", NULL);
  json_t *payee = fx_books_find(es, x->carol, "payment", "payee", NULL);
  json_t *in = fx_books_find(es, "acme", "conversion", "payee", NULL);
  json_t *out = fx_books_find(es, "acme", "conversion", "payer", NULL);
  fx_books_expect(payer, "liabilities:payables", "assets:cash", "EUR", paid);
  fx_books_expect(payee, "assets:cash", "assets:receivables", "USD", received);
  fx_books_expect(in, "assets:cash", "equity:conversion", "EUR", paid);
  fx_books_expect(out, "equity:conversion", "assets:cash", "USD", received);
  const struct {
    json_t *e;
    const char *counterparty;
  } cp[] = {{payer, x->carol}, {payee, x->bob}, {in, x->bob}, {out, x->carol}};
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(str(cp[i].e, "counterparty"), cp[i].counterparty);
    assert_string_equal(str(cp[i].e, "ref"), ref);
  }
  json_decref(es);
}

/* The last transaction booked nothing. */
static void expect_no_books(fxt *x) {
  json_t *es = fx_books_tx(&x->f, &fx_submitted()->id);
  assert_int_equal(json_array_size(es), 0);
  json_decref(es);
}

/* ---- the happy path ------------------------------------------------------ */

static void test_pay(void **state) {
  fxt *x = *state;
  quote_spec s = default_quote(x);
  char *q = quote_text(&s);
  assert_string_equal(pay_with(x, "p1", q, 1000), "ok");
  /* bob paid 1000 EUR to acme; acme paid floor(1000 * 1.085) USD to carol */
  expect(x, 4000, 1000, 100000 - 1085, 1085);

  json_t *p = query(x, "payment", "id", "p1", NULL);
  assert_non_null(p);
  assert_string_equal(str(p, "payer"), x->bob);
  assert_string_equal(str(p, "payee"), x->carol);
  assert_string_equal(str(p, "maker"), "acme");
  assert_string_equal(str(p, "quote"), "q1");
  assert_string_equal(str(json_object_get(p, "paid"), "asset"), "EUR");
  assert_string_equal(str(json_object_get(p, "paid"), "amount"), "1000");
  assert_string_equal(str(json_object_get(p, "received"), "asset"), "USD");
  assert_string_equal(str(json_object_get(p, "received"), "amount"), "1085");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "rate"), "num")), 10850);
  json_decref(p);
  json_t *u = query(x, "quote_use", "quote", "q1", NULL);
  assert_string_equal(str(u, "used"), "1000");
  assert_string_equal(str(u, "max"), "1000000");
  json_decref(u);
  expect_books(x, 1000, 1085, "p1");

  /* the legs are fx's transfers: nobody else posts or books them */
  json_t *params = json_pack("{s:s}", "id", "fx:p1:out"), *t = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(&x->f, "ledger", "transfer", params, &t, &rej), HANSE_OK);
  assert_string_equal(str(t, "controller"), "fx");
  assert_string_equal(str(t, "debit"), "mm:usd");
  assert_int_equal(json_integer_value(json_object_get(t, "amount")), 1085);
  json_decref(t);
  json_decref(params);

  /* the same payment again: accepted, nothing moves, nothing is booked */
  assert_string_equal(pay_with(x, "p1", q, 1000), "ok");
  expect(x, 4000, 1000, 100000 - 1085, 1085);
  expect_no_books(x);
  u = query(x, "quote_use", "quote", "q1", NULL);
  assert_string_equal(str(u, "used"), "1000");
  json_decref(u);
  /* the same id, another amount */
  assert_string_equal(pay_with(x, "p1", q, 999), "fx.id_conflict");
  /* a second payment on the same quote adds to its use */
  assert_string_equal(pay_with(x, "p2", q, 10), "ok");
  expect(x, 3990, 1010, 100000 - 1085 - 10, 1095);
  expect_books(x, 10, 10, "p2"); /* 10.85 -> 10 */
  free(q);
  /* the books of all three balance and agree with the money: acme's
   * conversion account holds what it took in EUR against what it gave in
   * USD, and its cash moved as its two accounts did */
  json_t *tb = fx_books_trial(&x->f, "acme");
  assert_int_equal(fx_books_balance(tb, "equity:conversion", "EUR"), -1010);
  assert_int_equal(fx_books_balance(tb, "equity:conversion", "USD"), 1095);
  assert_int_equal(fx_books_balance(tb, "assets:cash", "EUR"), fx_ledger_balance(&x->f, "mm:eur"));
  assert_int_equal(fx_books_balance(tb, "assets:cash", "USD"), -1095);
  json_decref(tb);
  tb = fx_books_trial(&x->f, x->bob);
  assert_int_equal(fx_books_balance(tb, "assets:cash", "EUR"), -1010);
  json_decref(tb);
  tb = fx_books_trial(&x->f, x->carol);
  assert_int_equal(fx_books_balance(tb, "assets:cash", "USD"), fx_ledger_balance(&x->f, "carol:usd"));
  json_decref(tb);
  /* reconciling payer and payee: each payment matches, converted (EUR
   * against USD), no difference; the maker's conversion entries about bob
   * are one-sided by design */
  json_t *rec = NULL;
  params = json_pack("{s:s, s:s}", "a", x->bob, "b", x->carol);
  assert_int_equal(fx_query(&x->f, "books", "reconcile", params, &rec, &rej), HANSE_OK);
  json_decref(params);
  assert_true(json_is_true(json_object_get(rec, "agree")));
  assert_int_equal(json_array_size(json_object_get(rec, "matched")), 2);
  assert_true(json_is_true(json_object_get(json_array_get(json_object_get(rec, "matched"), 0),
                                           "converted")));
  json_decref(rec);
  params = json_pack("{s:s, s:s}", "a", "acme", "b", x->bob);
  assert_int_equal(fx_query(&x->f, "books", "reconcile", params, &rec, &rej), HANSE_OK);
  json_decref(params);
  assert_int_equal(json_array_size(json_object_get(rec, "differences")), 0);
  assert_int_equal(json_array_size(json_object_get(rec, "one_sided")), 2);
  json_decref(rec);

  /* bob cannot take acme's USD with a plain ledger transfer */
  assert_string_equal(submit(x, BOB, "ledger.transfer",
                             "{\"transfers\":[{\"id\":\"steal\",\"debit\":\"mm:usd\","
                             "\"credit\":\"bob:usd\",\"amount\":5}]}"),
                      "ledger.not_owner");
  const char *code;
  assert_null(query(x, "payment", "id", "nope", &code));
  assert_string_equal(code, "fx.no_payment");
  assert_null(query(x, "quote_use", "quote", "a/b", &code));
  assert_string_equal(code, "fx.bad_id");
}

/* ---- what a quote must be ------------------------------------------------ */

static void test_quote_rejections(void **state) {
  fxt *x = *state;
  quote_spec s = default_quote(x);

  /* tampered after signing: the rate is not what acme signed */
  char *q = quote_text(&s);
  char *at = strstr(q, "10850");
  assert_non_null(at);
  at[0] = '2';
  assert_string_equal(pay_with(x, "t1", q, 100), "fx.bad_signature");
  free(q);

  /* signed by bob, who is not in acme */
  quote_spec w = s;
  w.kp = &x->f.bob;
  assert_string_equal(pay(x, "t1", &w, 100), "fx.bad_maker_key");
  /* acme's key, but the quote says it is bob's organisation's */
  w = s;
  w.maker = "other";
  assert_string_equal(pay(x, "t1", &w, 100), "fx.bad_maker_key");

  /* the window is [valid_from, valid_until) in block time */
  w = s;
  w.id = "q-later";
  w.from_ms = x->f.time_ms + 1; /* the next block is at time_ms */
  assert_string_equal(pay(x, "t1", &w, 100), "fx.quote_not_yet");
  w.from_ms = x->f.time_ms; /* valid from exactly this block */
  assert_string_equal(pay(x, "t1", &w, 100), "ok");
  w = s;
  w.id = "q-old";
  w.until_ms = x->f.time_ms; /* valid until, not including, this block */
  assert_string_equal(pay(x, "t2", &w, 100), "fx.quote_expired");
  w.until_ms = x->f.time_ms + 1;
  assert_string_equal(pay(x, "t2", &w, 100), "ok");

  /* max: 1500 EUR in all */
  w = s;
  w.id = "q-small";
  w.max = 1500;
  assert_string_equal(pay(x, "t3", &w, 1000), "ok");
  assert_string_equal(pay(x, "t4", &w, 501), "fx.quote_exhausted");
  assert_string_equal(pay(x, "t4", &w, 500), "ok");
  assert_string_equal(pay(x, "t5", &w, 1), "fx.quote_exhausted");
  json_t *u = query(x, "quote_use", "quote", "q-small", NULL);
  assert_string_equal(str(u, "used"), "1500");
  json_decref(u);
  /* another quote under a used id */
  w.max = 1000000;
  assert_string_equal(pay(x, "t5", &w, 1), "fx.quote_conflict");

  /* the maker's accounts must be the maker's: bob:usd is bob's */
  w = s;
  w.id = "q-bob";
  w.sell_account = "bob:usd";
  assert_string_equal(pay(x, "t6", &w, 100), "fx.not_maker_account");
  w.sell_account = "nope";
  assert_string_equal(pay(x, "t6", &w, 100), "fx.no_account");
  w.sell_account = "mm:eur";
  assert_string_equal(pay(x, "t6", &w, 100), "fx.bad_quote"); /* same as buy_account */

  /* malformed payloads are refused by check */
  char *good = quote_text(&s);
  assert_string_equal(submit(x, BOB, "fx.pay",
                             "{\"id\":\"t7\",\"quote\":%s,\"debit\":\"bob:eur\",\"credit\":"
                             "\"carol:usd\",\"amount\":0}",
                             good),
                      "fx.bad_amount");
  assert_string_equal(submit(x, BOB, "fx.pay",
                             "{\"id\":\"t7\",\"quote\":%s,\"debit\":\"bob:eur\",\"credit\":"
                             "\"carol:usd\",\"amount\":1,\"memo\":1}",
                             good),
                      "fx.bad_field");
  assert_string_equal(submit(x, BOB, "fx.pay",
                             "{\"id\":\"%s\",\"quote\":%s,\"debit\":\"bob:eur\",\"credit\":"
                             "\"carol:usd\",\"amount\":1}",
                             "0123456789012345678901234567890123456789012345678901234567", good),
                      "fx.bad_id");
  assert_string_equal(submit(x, BOB, "fx.pay",
                             "{\"id\":\"t7\",\"quote\":{},\"debit\":\"bob:eur\",\"credit\":"
                             "\"carol:usd\",\"amount\":1}"),
                      "fx.bad_quote");
  free(good);
  /* a payer paying from an account it does not own: the first leg */
  q = quote_text(&s);
  assert_string_equal(submit(x, CAROL, "fx.pay",
                             "{\"id\":\"t8\",\"quote\":%s,\"debit\":\"bob:eur\",\"credit\":"
                             "\"carol:usd\",\"amount\":1}",
                             q),
                      "ledger.not_owner");
  free(q);
}

/* ---- rounding -------------------------------------------------------------- */

static void test_rounding(void **state) {
  fxt *x = *state;
  uint64_t out = 0;
  assert_int_equal(hanse_fx_convert(10, 1, 3, &out), 0);
  assert_int_equal(out, 3);
  assert_int_equal(hanse_fx_convert(2, 1, 3, &out), 0);
  assert_int_equal(out, 0);
  /* amount * num overflows 64 bits, the quotient does not */
  assert_int_equal(hanse_fx_convert(1ull << 62, 3, 4, &out), 0);
  assert_int_equal(out, 3ull << 60);
  assert_int_equal(hanse_fx_convert(INT64_MAX, INT64_MAX, INT64_MAX, &out), 0);
  assert_int_equal(out, INT64_MAX);
  assert_int_equal(hanse_fx_convert(1ull << 62, 2, 1, &out), 1); /* 2^63: too much */

  quote_spec s = default_quote(x);
  s.num = 1;
  s.den = 3;
  assert_string_equal(pay(x, "r1", &s, 10), "ok"); /* 3.33 -> 3 */
  expect(x, 4990, 10, 100000 - 3, 3);
  assert_string_equal(pay(x, "r2", &s, 2), "fx.too_small"); /* 0.67 -> 0 */
  s.id = "q-big";
  s.num = 1ull << 62;
  s.den = 1;
  assert_string_equal(pay(x, "r3", &s, 2), "fx.overflow");
  expect(x, 4990, 10, 100000 - 3, 3);
}

/* ---- all legs or none ------------------------------------------------------ */

static void test_atomic(void **state) {
  fxt *x = *state;
  quote_spec s = default_quote(x);
  /* 100000 EUR would need 108500 USD; mm:usd holds 100000 and may not go
   * below zero. bob's 5000 EUR are not enough either, so give him more. */
  fund(x, BOB, "bob:capital", "bob:eur", 200000);
  char before[4][512];
  const char *keys[] = {"ledger/bal/bob:eur", "ledger/bal/mm:eur", "ledger/bal/mm:usd",
                        "ledger/bal/carol:usd"};
  /* a balance row is absent until a transfer moves the account */
  int had[4];
  for (int i = 0; i < 4; i++) had[i] = fx_state(&x->f, keys[i], before[i], sizeof before[i]);
  assert_string_equal(pay(x, "big", &s, 100000), "ledger.exceeds_credits");
  expect_no_books(x);
  for (int i = 0; i < 4; i++) {
    char now[512];
    assert_int_equal(fx_state(&x->f, keys[i], now, sizeof now), had[i]);
    if (had[i]) assert_string_equal(now, before[i]);
  }
  char v[512];
  assert_false(fx_state(&x->f, "fx/pay/big", v, sizeof v));
  assert_false(fx_state(&x->f, "fx/used/q1", v, sizeof v));
  assert_false(fx_state(&x->f, "ledger/xfer/fx:big:in", v, sizeof v));
  assert_false(fx_state(&x->f, "ledger/xfer/fx:big:out", v, sizeof v));
  /* no entry, not even an entry number, in any of the three books */
  const char *owners[] = {"acme", x->bob, x->carol};
  for (int i = 0; i < 3; i++) {
    char key[128];
    snprintf(key, sizeof key, "books/seq/%s", owners[i]);
    assert_false(fx_state(&x->f, key, v, sizeof v));
  }
  /* within what acme holds it goes through, under the same id */
  assert_string_equal(pay(x, "big", &s, 92000), "ok"); /* 99820 USD */
  expect(x, 205000 - 92000, 92000, 100000 - 99820, 99820);
  expect_books(x, 92000, 99820, "big");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pay, setup, teardown),
      cmocka_unit_test_setup_teardown(test_quote_rejections, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rounding, setup, teardown),
      cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
