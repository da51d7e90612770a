/*
 * test_asset.c -- the asset module through its four entry points.
 *
 * check: symbol syntax, decimals range, amounts 1..2^63-1 as integers,
 * recipient key, memo and name bounds, each with its own reason code.
 * verify (through block receipts): an asset is issued once, transfers need
 * an existing asset, a different recipient and enough balance.
 * apply: the issuer holds the whole supply; transfers move exact amounts;
 * balances always sum to the supply; the definition records issuer and
 * height. query: asset, assets, balance, holders, with paging and errors.
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
#include "fixture.h"

static int setup_chain(void **state) {
  fx_chain *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  fx_chain_setup(f, NULL);
  *state = f;
  return 0;
}

static int teardown_chain(void **state) {
  fx_chain_teardown(*state);
  free(*state);
  return 0;
}

/* The context-free check of one transaction: returns the reason code
 * ("ok" when accepted). */
static const char *check(const hanse_keypair *kp, const char *kind, const char *payload) {
  static hanse_reject rej;
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, kp, FX_CHAIN_ID, kind, 1, 0, "%s", payload);
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_reject_clear(&rej);
  json_t *p = NULL;
  int rc = hanse_tx_check(&tx, FX_CHAIN_ID, &p, &rej);
  if (rc == HANSE_OK) {
    assert_non_null(p);
    json_decref(p);
  } else {
    assert_null(p);
    assert_int_not_equal(rej.status, 200);
  }
  hanse_buf_free(&raw);
  return rc == HANSE_OK ? "ok" : rej.code;
}

static void test_check(void **state) {
  fx_chain *f = *state;
  const hanse_keypair *a = &f->alice;
  char p[512];
  assert_string_equal(check(a, "asset.issue", "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1}"), "ok");
  assert_string_equal(check(a, "asset.issue",
                            "{\"asset\":\"A.b-c_9\",\"decimals\":18,\"supply\":9223372036854775807,"
                            "\"name\":\"x\"}"),
                      "ok");
  const struct {
    const char *payload, *code;
  } issue_bad[] = {
      {"{\"decimals\":2,\"supply\":1}", "asset.bad_symbol"},
      {"{\"asset\":\"\",\"decimals\":2,\"supply\":1}", "asset.bad_symbol"},
      {"{\"asset\":\"E R\",\"decimals\":2,\"supply\":1}", "asset.bad_symbol"},
      {"{\"asset\":\"E/R\",\"decimals\":2,\"supply\":1}", "asset.bad_symbol"},
      {"{\"asset\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\",\"decimals\":2,\"supply\":1}", "asset.bad_symbol"},
      {"{\"asset\":7,\"decimals\":2,\"supply\":1}", "asset.bad_symbol"},
      {"{\"asset\":\"EUR\",\"supply\":1}", "asset.bad_decimals"},
      {"{\"asset\":\"EUR\",\"decimals\":-1,\"supply\":1}", "asset.bad_decimals"},
      {"{\"asset\":\"EUR\",\"decimals\":19,\"supply\":1}", "asset.bad_decimals"},
      {"{\"asset\":\"EUR\",\"decimals\":\"2\",\"supply\":1}", "asset.bad_decimals"},
      {"{\"asset\":\"EUR\",\"decimals\":2,\"supply\":0}", "asset.bad_amount"},
      {"{\"asset\":\"EUR\",\"decimals\":2,\"supply\":-5}", "asset.bad_amount"},
      {"{\"asset\":\"EUR\",\"decimals\":2,\"supply\":\"100\"}", "asset.bad_amount"},
      {"{\"asset\":\"EUR\",\"decimals\":2}", "asset.bad_amount"},
      {"{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1,\"name\":5}", "asset.bad_name"},
      /* reals and non-objects never reach the module */
      {"{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1.0}", "tx.bad_payload"},
      {"{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1e3}", "tx.bad_payload"},
      {"{\"asset\":\"EUR\",\"asset\":\"USD\",\"decimals\":2,\"supply\":1}", "tx.bad_payload"},
      {"\"EUR\"", "tx.bad_payload"},
      {"", "tx.bad_payload"},
  };
  for (size_t i = 0; i < sizeof issue_bad / sizeof issue_bad[0]; i++) {
    const char *code = check(a, "asset.issue", issue_bad[i].payload);
    if (strcmp(code, issue_bad[i].code) != 0)
      fail_msg("issue %s: got %s, want %s", issue_bad[i].payload, code, issue_bad[i].code);
  }
  /* a name of 129 bytes */
  char name[200];
  memset(name, 'n', 129);
  name[129] = 0;
  snprintf(p, sizeof p, "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1,\"name\":\"%s\"}", name);
  assert_string_equal(check(a, "asset.issue", p), "asset.bad_name");
  name[128] = 0;
  snprintf(p, sizeof p, "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1,\"name\":\"%s\"}", name);
  assert_string_equal(check(a, "asset.issue", p), "ok");

  const char *bob = fx_hexkey(&f->bob.pub);
  snprintf(p, sizeof p, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\",\"memo\":\"inv 7\"}", bob);
  assert_string_equal(check(a, "asset.transfer", p), "ok");
  snprintf(p, sizeof p, "{\"asset\":\"EUR\",\"amount\":0,\"to\":\"%s\"}", bob);
  assert_string_equal(check(a, "asset.transfer", p), "asset.bad_amount");
  snprintf(p, sizeof p, "{\"asset\":\"EUR\",\"to\":\"%s\"}", bob);
  assert_string_equal(check(a, "asset.transfer", p), "asset.bad_amount");
  assert_string_equal(check(a, "asset.transfer", "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"abc\"}"),
                      "asset.bad_recipient");
  assert_string_equal(check(a, "asset.transfer", "{\"asset\":\"EUR\",\"amount\":1}"),
                      "asset.bad_recipient");
  snprintf(p, sizeof p, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\",\"memo\":[]}", bob);
  assert_string_equal(check(a, "asset.transfer", p), "asset.bad_memo");
  char memo[300];
  memset(memo, 'm', 257);
  memo[257] = 0;
  snprintf(p, sizeof p, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\",\"memo\":\"%s\"}", bob, memo);
  assert_string_equal(check(a, "asset.transfer", p), "asset.bad_memo");
  snprintf(p, sizeof p, "{\"asset\":\"E U\",\"amount\":1,\"to\":\"%s\"}", bob);
  assert_string_equal(check(a, "asset.transfer", p), "asset.bad_symbol");
  /* unknown action of a known module */
  assert_string_equal(check(a, "asset.burn", "{\"asset\":\"EUR\"}"), "tx.unknown_kind");
}

static hanse_receipt *propose(fx_chain *f, fx_body *b, uint32_t n) {
  hanse_receipt *rs = calloc(n, sizeof *rs);
  assert_non_null(rs);
  hanse_reject rej;
  if (fx_propose(f, b, rs, n, &rej) != HANSE_OK) fail_msg("propose: %s", rej.message);
  fx_body_free(b);
  return rs;
}

static void test_verify_and_apply(void **state) {
  fx_chain *f = *state;
  const char *bob = fx_hexkey(&f->bob.pub), *carol = fx_hexkey(&f->carol.pub),
             *alice = fx_hexkey(&f->alice.pub);
  fx_body b;
  fx_body_init(&b);
  /* 0: transfer of an asset that does not exist yet */
  fx_body_tx(&b, &f->alice, "asset.transfer", 1, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\"}", bob);
  /* 1: issue; 2: second issue of the same symbol (even by someone else) */
  fx_body_tx(&b, &f->alice, "asset.issue", 2, "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000}");
  fx_body_tx(&b, &f->bob, "asset.issue", 1, "{\"asset\":\"EUR\",\"decimals\":0,\"supply\":5}");
  /* 3: to self; 4: exactly the whole balance; 5: one more than left */
  fx_body_tx(&b, &f->alice, "asset.transfer", 3, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\"}", alice);
  fx_body_tx(&b, &f->alice, "asset.transfer", 4, "{\"asset\":\"EUR\",\"amount\":1000,\"to\":\"%s\"}", bob);
  fx_body_tx(&b, &f->alice, "asset.transfer", 5, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\"}", carol);
  /* 6: bob passes some on within the same block (sees the new balance) */
  fx_body_tx(&b, &f->bob, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":400,\"to\":\"%s\"}", carol);
  /* 7: symbols are case-sensitive: "eur" is another asset */
  fx_body_tx(&b, &f->carol, "asset.transfer", 1, "{\"asset\":\"eur\",\"amount\":1,\"to\":\"%s\"}", bob);
  hanse_receipt *rs = propose(f, &b, 8);
  const char *want[] = {"asset.unknown", "ok", "asset.exists", "asset.self_transfer",
                        "ok", "asset.insufficient_balance", "ok", "asset.unknown"};
  for (int i = 0; i < 8; i++)
    if (strcmp(rs[i].code, want[i]) != 0)
      fail_msg("tx %d: got %s (%s), want %s", i, rs[i].code, rs[i].message, want[i]);
  free(rs);
  int64_t a = fx_balance(f, "EUR", &f->alice.pub), bb = fx_balance(f, "EUR", &f->bob.pub),
          c = fx_balance(f, "EUR", &f->carol.pub);
  assert_true(a == 0);
  assert_true(bb == 600);
  assert_true(c == 400);
  assert_true(a + bb + c == 1000); /* balances sum to the supply */

  /* the definition: issuer, height, supply; the failed issue changed nothing */
  json_t *params = json_pack("{s:s}", "asset", "EUR");
  json_t *def = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(f, "asset", "asset", params, &def, &rej), HANSE_OK);
  json_decref(params);
  assert_string_equal(json_string_value(json_object_get(def, "symbol")), "EUR");
  assert_string_equal(json_string_value(json_object_get(def, "issuer")), alice);
  assert_true(json_integer_value(json_object_get(def, "supply")) == 1000);
  assert_true(json_integer_value(json_object_get(def, "decimals")) == 2);
  assert_true(json_integer_value(json_object_get(def, "height")) == 1);
  json_decref(def);

  /* the largest supply moves without overflow */
  fx_body_init(&b);
  fx_body_tx(&b, &f->carol, "asset.issue", 2,
             "{\"asset\":\"BIG\",\"decimals\":0,\"supply\":9223372036854775807}");
  fx_body_tx(&b, &f->carol, "asset.transfer", 3,
             "{\"asset\":\"BIG\",\"amount\":9223372036854775807,\"to\":\"%s\"}", bob);
  rs = propose(f, &b, 2);
  assert_string_equal(rs[0].code, "ok");
  assert_string_equal(rs[1].code, "ok");
  free(rs);
  assert_true(fx_balance(f, "BIG", &f->bob.pub) == INT64_MAX);
  assert_true(fx_balance(f, "BIG", &f->carol.pub) == 0);
}

static void test_queries(void **state) {
  fx_chain *f = *state;
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "asset.issue", 1, "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":100,\"name\":\"Euro\"}");
  fx_body_tx(&b, &f->alice, "asset.issue", 2, "{\"asset\":\"USD\",\"decimals\":2,\"supply\":100}");
  fx_body_tx(&b, &f->alice, "asset.transfer", 3, "{\"asset\":\"EUR\",\"amount\":10,\"to\":\"%s\"}",
             fx_hexkey(&f->bob.pub));
  fx_body_tx(&b, &f->alice, "asset.transfer", 4, "{\"asset\":\"EUR\",\"amount\":20,\"to\":\"%s\"}",
             fx_hexkey(&f->carol.pub));
  free(propose(f, &b, 4));

  hanse_reject rej;
  json_t *res, *params;
  /* assets: every definition, in symbol order, as objects */
  params = json_object();
  assert_int_equal(fx_query(f, "asset", "assets", params, &res, &rej), HANSE_OK);
  json_t *list = json_object_get(res, "assets");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "symbol")), "EUR");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")), "Euro");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "symbol")), "USD");
  json_decref(res);
  json_decref(params);
  /* paging: limit and after */
  params = json_pack("{s:s}", "limit", "1");
  assert_int_equal(fx_query(f, "asset", "assets", params, &res, &rej), HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "assets")), 1);
  json_decref(res);
  json_decref(params);
  params = json_pack("{s:s}", "after", "EUR");
  assert_int_equal(fx_query(f, "asset", "assets", params, &res, &rej), HANSE_OK);
  list = json_object_get(res, "assets");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "symbol")), "USD");
  json_decref(res);
  json_decref(params);

  /* holders of EUR: three owners with their balances, summing to 100 */
  params = json_pack("{s:s}", "asset", "EUR");
  assert_int_equal(fx_query(f, "asset", "holders", params, &res, &rej), HANSE_OK);
  list = json_object_get(res, "holders");
  assert_int_equal(json_array_size(list), 3);
  long long total = 0;
  size_t i;
  json_t *h;
  const char *prev = "";
  json_array_foreach(list, i, h) {
    const char *owner = json_string_value(json_object_get(h, "owner"));
    assert_non_null(owner);
    assert_int_equal(strlen(owner), 64);
    assert_true(strcmp(prev, owner) < 0); /* in key order */
    prev = owner;
    assert_true(json_is_integer(json_object_get(h, "balance")));
    total += json_integer_value(json_object_get(h, "balance"));
  }
  assert_true(total == 100);
  json_decref(res);
  json_decref(params);

  /* balance: an owner with nothing has 0; the decimals come along */
  params = json_pack("{s:s, s:s}", "asset", "USD", "owner", fx_hexkey(&f->bob.pub));
  assert_int_equal(fx_query(f, "asset", "balance", params, &res, &rej), HANSE_OK);
  assert_true(json_integer_value(json_object_get(res, "balance")) == 0);
  assert_true(json_integer_value(json_object_get(res, "decimals")) == 2);
  assert_string_equal(json_string_value(json_object_get(res, "owner")), fx_hexkey(&f->bob.pub));
  json_decref(res);
  json_decref(params);

  /* errors: unknown asset, bad symbol, bad owner */
  params = json_pack("{s:s}", "asset", "GBP");
  assert_int_equal(fx_query(f, "asset", "asset", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "asset.unknown");
  assert_int_equal(rej.status, 404);
  assert_null(res);
  json_decref(params);
  params = json_pack("{s:s, s:s}", "asset", "GBP", "owner", fx_hexkey(&f->bob.pub));
  assert_int_equal(fx_query(f, "asset", "balance", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "asset.unknown");
  json_decref(params);
  params = json_pack("{s:s}", "asset", "no/slash");
  assert_int_equal(fx_query(f, "asset", "holders", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "asset.bad_symbol");
  assert_int_equal(rej.status, 400);
  json_decref(params);
  params = json_pack("{s:s, s:s}", "asset", "EUR", "owner", "nothex");
  assert_int_equal(fx_query(f, "asset", "balance", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "asset.bad_owner");
  json_decref(params);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  hanse_modules_register_all();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_chain, teardown_chain)
  const struct CMUnitTest tests[] = {
      T(test_check),
      T(test_verify_and_apply),
      T(test_queries),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
