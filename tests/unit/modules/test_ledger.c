/*
 * test_ledger.c -- the ledger module through blocks, receipts and queries.
 *
 * check: every malformed payload has its own code. open: the owner is the
 * signer's organisation (alice, its founder, and carol, a registered
 * member, both open acme's accounts) or, for a key the chain's members do
 * not know, the key; an asset is an issued asset or a currency code.
 * transfer: ownership of the debit side, same asset, balance rules,
 * overflow of an account and of an asset's totals, idempotent
 * resubmission and id conflicts. Two-phase: post (full and partial),
 * void, and expiry by block time through the once-per-block sweep.
 * Linked chains: a failing member leaves nothing behind (no balance, no
 * record, no index entry) and the chain's codes are kept. The invariant
 * check in apply aborts a block whose totals disagree. And a randomized
 * workload with fixed seeds, after which debits equal credits per asset
 * and every balance equals a recomputation from the accepted transfers.
 * Every chain is audited at the end (hanse verify's re-execution).
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
#include "chain/exec.h"
#include "fixture.h"

enum { ALICE, CAROL, BOB, WHO_N };

typedef struct lx {
  fx_chain f;
  uint64_t seq[WHO_N];
  hanse_receipt last; /* the receipt of the last submit */
} lx;

static const hanse_keypair *key_of(lx *x, int who) {
  return who == ALICE ? &x->f.alice : who == CAROL ? &x->f.carol : &x->f.bob;
}

/* One transaction in a block of its own; its receipt code. */
static const char *submit(lx *x, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *submit(lx *x, int who, const char *kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fx_propose_vtx(&x->f, key_of(x, who), kind, ++x->seq[who], &x->last, fmt, ap);
  va_end(ap);
  return x->last.code;
}

static int setup(void **state) {
  lx *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  fx_chain_setup(&x->f, NULL);
  /* carol joins acme as a plain member; bob stays unknown */
  assert_string_equal(submit(x, ALICE, "member.register",
                             "{\"member\":{\"id\":\"carol\",\"kind\":\"person\",\"roles\":[],"
                             "\"attributes\":{},\"key\":\"%s\"}}",
                             fx_hexkey(&x->f.carol.pub)),
                      "ok");
  *state = x;
  return 0;
}

/* Every test's chain replays: hanse verify re-executes it from genesis on
 * a fresh database (expiry sweeps included) and must reach the same
 * state digests, receipts and rows. */
static int teardown(void **state) {
  lx *x = *state;
  fx_chain_audit(&x->f);
  fx_chain_teardown(&x->f);
  free(x);
  return 0;
}

/* A query; NULL and *code set on rejection. */
static json_t *query(lx *x, const char *name, const char *k1, const char *v1, const char **code) {
  return fx_query_code(&x->f, "ledger", name, k1 ? json_pack("{s:s}", k1, v1) : json_object(),
                       code);
}

static uint64_t u64_of(json_t *o, const char *field) {
  const char *s = json_string_value(json_object_get(o, field));
  if (s == NULL) fail_msg("no decimal field %s", field);
  return strtoull(s, NULL, 10);
}

/* The four balances of an account: dp, dpo, cp, cpo. */
static void balances(lx *x, const char *account, uint64_t out[4]) {
  json_t *a = query(x, "account", "account", account, NULL);
  if (a == NULL) fail_msg("no account %s", account);
  out[0] = u64_of(a, "debits_pending");
  out[1] = u64_of(a, "debits_posted");
  out[2] = u64_of(a, "credits_pending");
  out[3] = u64_of(a, "credits_posted");
  json_decref(a);
}

static void expect_balances(lx *x, const char *account, uint64_t dp, uint64_t dpo, uint64_t cp,
                            uint64_t cpo) {
  uint64_t b[4];
  balances(x, account, b);
  if (b[0] != dp || b[1] != dpo || b[2] != cp || b[3] != cpo)
    fail_msg("%s: %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 ", want %" PRIu64 "/%" PRIu64
             "/%" PRIu64 "/%" PRIu64,
             account, b[0], b[1], b[2], b[3], dp, dpo, cp, cpo);
}

static const char *status_of(lx *x, const char *id) {
  static char s[32];
  const char *code;
  json_t *t = query(x, "transfer", "id", id, &code);
  snprintf(s, sizeof s, "%s", t ? json_string_value(json_object_get(t, "status")) : code);
  json_decref(t);
  return s;
}

static const char *open_acct(lx *x, int who, const char *id, const char *asset, const char *rule) {
  if (rule)
    return submit(x, who, "ledger.open",
                  "{\"account\":\"%s\",\"asset\":\"%s\",\"type\":\"asset\",\"rule\":\"%s\"}", id,
                  asset, rule);
  return submit(x, who, "ledger.open", "{\"account\":\"%s\",\"asset\":\"%s\",\"type\":\"asset\"}",
                id, asset);
}

static const char *xfer(lx *x, int who, const char *id, const char *debit, const char *credit,
                        const char *amount, const char *extra) {
  return submit(x, who, "ledger.transfer",
                "{\"transfers\":[{\"id\":\"%s\",\"debit\":\"%s\",\"credit\":\"%s\",\"amount\":%s%s}]}",
                id, debit, credit, amount, extra ? extra : "");
}

/* ---- check ---------------------------------------------------------------- */

static const char *check(lx *x, const char *kind, const char *payload) {
  return fx_check(&x->f, kind, payload);
}

#define T1 "{\"id\":\"t1\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":5"

static void test_check(void **state) {
  lx *x = *state;
  const fx_check_case cases[] = {
      {"ledger.open", "{\"account\":\"a\",\"asset\":\"EUR\",\"type\":\"asset\"}", "ok"},
      {"ledger.open", "{\"account\":\"x:1.b_c-d\",\"asset\":\"TOK\",\"type\":\"expense\","
                      "\"rule\":\"credits_must_not_exceed_debits\"}", "ok"},
      {"ledger.open", "{\"account\":\"a/b\",\"asset\":\"EUR\",\"type\":\"asset\"}", "ledger.bad_account"},
      {"ledger.open", "{\"asset\":\"EUR\",\"type\":\"asset\"}", "ledger.bad_account"},
      {"ledger.open", "{\"account\":\"a\",\"asset\":\"E R\",\"type\":\"asset\"}", "ledger.bad_asset"},
      {"ledger.open", "{\"account\":\"a\",\"asset\":\"EUR\",\"type\":\"cash\"}", "ledger.bad_type"},
      {"ledger.open", "{\"account\":\"a\",\"asset\":\"EUR\",\"type\":\"asset\",\"rule\":\"x\"}", "ledger.bad_rule"},
      {"ledger.open", "{\"account\":\"a\",\"asset\":\"EUR\",\"type\":\"asset\",\"owner\":\"x\"}", "ledger.bad_field"},
      {"ledger.transfer", "{\"transfers\":[" T1 "}]}", "ok"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"pending\":true,\"timeout\":60,\"code\":7,"
                          "\"linked\":true}," T1 "}]}", "ok"},
      {"ledger.transfer", "{\"transfers\":[]}", "ledger.bad_transfers"},
      {"ledger.transfer", "{\"transfers\":{}}", "ledger.bad_transfers"},
      {"ledger.transfer", "{\"transfers\":[5]}", "ledger.bad_transfer"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"pendng\":true}]}", "ledger.bad_field"},
      {"ledger.transfer", "{\"transfers\":[" T1 "}],\"x\":1}", "ledger.bad_field"},
      {"ledger.transfer", "{\"transfers\":[{\"id\":\"\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":5}]}", "ledger.bad_id"},
      {"ledger.transfer", "{\"transfers\":[{\"id\":\"t\",\"debit\":\"a\",\"credit\":\"a\",\"amount\":5}]}", "ledger.same_account"},
      {"ledger.transfer", "{\"transfers\":[{\"id\":\"t\",\"debit\":\"a\",\"amount\":5}]}", "ledger.bad_account"},
      {"ledger.transfer", "{\"transfers\":[{\"id\":\"t\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":0}]}", "ledger.bad_amount"},
      {"ledger.transfer", "{\"transfers\":[{\"id\":\"t\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":\"5\"}]}", "ledger.bad_amount"},
      {"ledger.transfer", "{\"transfers\":[{\"id\":\"t\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":-5}]}", "ledger.bad_amount"},
      {"ledger.transfer", "{\"transfers\":[{\"id\":\"t\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":5.0}]}", "tx.bad_payload"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"code\":0}]}", "ledger.bad_code"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"code\":65536}]}", "ledger.bad_code"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"pending\":1}]}", "ledger.bad_flag"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"timeout\":60}]}", "ledger.bad_timeout"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"pending\":true,\"timeout\":0}]}", "ledger.bad_timeout"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"pending\":true,\"timeout\":4294967296}]}", "ledger.bad_timeout"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"linked\":true}]}", "ledger.linked_chain_open"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"business\":\"fee\",\"ref\":\"inv-7:a.b_c\"}]}", "ok"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"business\":\"refund\"}]}", "ok"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"business\":\"sale\"}]}", "ledger.bad_business"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"business\":\"Payment\"}]}", "ledger.bad_business"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"business\":1}]}", "ledger.bad_business"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"ref\":\"a/b\"}]}", "ledger.bad_ref"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"ref\":\"\"}]}", "ledger.bad_ref"},
      {"ledger.transfer", "{\"transfers\":[" T1 ",\"ref\":7}]}", "ledger.bad_ref"},
      {"ledger.post", "{\"id\":\"t1\"}", "ok"},
      {"ledger.post", "{\"id\":\"t1\",\"amount\":3}", "ok"},
      {"ledger.post", "{\"id\":\"t1\",\"amount\":0}", "ledger.bad_amount"},
      {"ledger.post", "{\"amount\":3}", "ledger.bad_id"},
      {"ledger.void", "{\"id\":\"t1\"}", "ok"},
      {"ledger.void", "{\"id\":\"t1\",\"amount\":3}", "ledger.bad_field"},
      {"ledger.burn", "{}", "tx.unknown_kind"},
  };
  fx_check_cases(&x->f, cases, sizeof cases / sizeof cases[0]);
  /* a batch of LEDGER_TRANSFERS_MAX + 1 */
  char *big = malloc(HANSE_PAYLOAD_MAX);
  assert_non_null(big);
  size_t o = (size_t)snprintf(big, HANSE_PAYLOAD_MAX, "{\"transfers\":[");
  for (int i = 0; i < 257; i++)
    o += (size_t)snprintf(big + o, HANSE_PAYLOAD_MAX - o,
                          "%s{\"id\":\"%d\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":1}",
                          i ? "," : "", i);
  snprintf(big + o, HANSE_PAYLOAD_MAX - o, "]}");
  assert_string_equal(check(x, "ledger.transfer", big), "ledger.bad_transfers");
  free(big);
}

/* ---- accounts --------------------------------------------------------------- */

static void test_open(void **state) {
  lx *x = *state;
  assert_string_equal(open_acct(x, ALICE, "acme:cash", "EUR", NULL), "ok");
  assert_string_equal(open_acct(x, CAROL, "acme:bank", "EUR", NULL), "ok"); /* a member */
  assert_string_equal(open_acct(x, BOB, "bob:cash", "EUR", NULL), "ok");    /* unknown key */
  assert_string_equal(open_acct(x, BOB, "acme:cash", "USD", NULL), "ledger.account_exists");
  /* neither issued nor a currency code */
  assert_string_equal(open_acct(x, ALICE, "t", "LOYAL", NULL), "ledger.unknown_asset");
  assert_string_equal(open_acct(x, ALICE, "t", "eur", NULL), "ledger.unknown_asset");
  assert_string_equal(submit(x, ALICE, "asset.issue", "{\"asset\":\"LOYAL\",\"decimals\":0,\"supply\":9}"),
                      "ok");
  assert_string_equal(open_acct(x, ALICE, "t", "LOYAL", "debits_must_not_exceed_credits"), "ok");

  json_t *a = query(x, "account", "account", "acme:bank", NULL);
  assert_non_null(a);
  assert_string_equal(json_string_value(json_object_get(a, "owner")), "acme");
  assert_string_equal(json_string_value(json_object_get(a, "asset")), "EUR");
  assert_string_equal(json_string_value(json_object_get(a, "type")), "asset");
  assert_int_equal(json_integer_value(json_object_get(a, "opened_at")), 3);
  assert_int_equal(u64_of(a, "credits_posted"), 0);
  json_decref(a);
  a = query(x, "account", "account", "t", NULL);
  assert_string_equal(json_string_value(json_object_get(a, "rule")), "debits_must_not_exceed_credits");
  json_decref(a);
  a = query(x, "account", "account", "bob:cash", NULL);
  assert_string_equal(json_string_value(json_object_get(a, "owner")), fx_hexkey(&x->f.bob.pub));
  json_decref(a);

  /* accounts by owner, paged */
  json_t *params = json_pack("{s:s, s:s}", "owner", "acme", "limit", "2"), *res = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(&x->f, "ledger", "accounts", params, &res, &rej), HANSE_OK);
  json_t *list = json_object_get(res, "accounts");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "acme:bank");
  assert_string_equal(json_string_value(json_object_get(res, "next")), "acme:cash");
  json_object_set_new(params, "after", json_string("acme:cash"));
  json_decref(res);
  assert_int_equal(fx_query(&x->f, "ledger", "accounts", params, &res, &rej), HANSE_OK);
  list = json_object_get(res, "accounts");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "t");
  assert_null(json_object_get(res, "next"));
  json_decref(res);
  json_decref(params);
  const char *code;
  assert_null(query(x, "account", "account", "nope", &code));
  assert_string_equal(code, "ledger.no_account");
  assert_null(query(x, "account", "account", "a/b", &code));
  assert_string_equal(code, "ledger.bad_id");
  assert_null(query(x, "accounts", "owner", "ACME", &code));
  assert_string_equal(code, "ledger.bad_owner");
}

/* ---- transfers -------------------------------------------------------------- */

static void open_basic(lx *x) {
  assert_string_equal(open_acct(x, ALICE, "a", "EUR", NULL), "ok");
  assert_string_equal(open_acct(x, ALICE, "b", "EUR", NULL), "ok");
  assert_string_equal(open_acct(x, BOB, "bob", "EUR", NULL), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:usd", "USD", NULL), "ok");
}

static void test_transfer(void **state) {
  lx *x = *state;
  open_basic(x);
  assert_string_equal(xfer(x, ALICE, "t1", "a", "b", "100", ",\"code\":12"), "ok");
  expect_balances(x, "a", 0, 100, 0, 0);
  expect_balances(x, "b", 0, 0, 0, 100);
  assert_string_equal(xfer(x, CAROL, "t2", "a", "bob", "30", NULL), "ok"); /* acme's member */
  assert_string_equal(xfer(x, BOB, "t3", "a", "bob", "1", NULL), "ledger.not_owner");
  assert_string_equal(xfer(x, BOB, "t3", "bob", "a", "7", NULL), "ok"); /* anyone may credit */
  assert_string_equal(xfer(x, BOB, "t4", "bob:usd", "a", "1", NULL), "ledger.asset_mismatch");
  assert_string_equal(xfer(x, ALICE, "t4", "a", "zz", "1", NULL), "ledger.no_account");
  assert_string_equal(xfer(x, ALICE, "t4", "zz", "a", "1", NULL), "ledger.no_account");
  /* the failed t4 left no record: its id is still free */
  assert_string_equal(status_of(x, "t4"), "ledger.no_transfer");

  json_t *t = query(x, "transfer", "id", "t1", NULL);
  assert_string_equal(json_string_value(json_object_get(t, "status")), "posted");
  assert_string_equal(json_string_value(json_object_get(t, "asset")), "EUR");
  assert_int_equal(json_integer_value(json_object_get(t, "amount")), 100);
  assert_int_equal(json_integer_value(json_object_get(t, "code")), 12);
  assert_null(json_object_get(t, "pending"));
  json_decref(t);

  /* the same id and fields again: accepted, nothing changes */
  char before[4096], after[4096];
  assert_true(fx_state(&x->f, "ledger/bal/a", before, sizeof before));
  assert_string_equal(xfer(x, ALICE, "t1", "a", "b", "100", ",\"code\":12,\"pending\":false"), "ok");
  assert_true(fx_state(&x->f, "ledger/bal/a", after, sizeof after));
  assert_string_equal(before, after);
  expect_balances(x, "b", 0, 0, 0, 100);
  /* the same id with other fields */
  assert_string_equal(xfer(x, ALICE, "t1", "a", "b", "101", ",\"code\":12"), "ledger.id_conflict");
  assert_string_equal(xfer(x, ALICE, "t1", "a", "b", "100", NULL), "ledger.id_conflict");
  assert_string_equal(xfer(x, ALICE, "t1", "a", "b", "100", ",\"code\":12,\"pending\":true"),
                      "ledger.id_conflict");

  /* totals per asset; debits equal credits */
  json_t *tot = query(x, "totals", "asset", "EUR", NULL);
  assert_int_equal(u64_of(tot, "debits_posted"), 137);
  assert_int_equal(u64_of(tot, "credits_posted"), 137);
  json_decref(tot);
  const char *code;
  assert_null(query(x, "totals", "asset", "USD", &code));
  assert_string_equal(code, "ledger.no_totals");
  tot = query(x, "totals", NULL, NULL, NULL);
  assert_int_equal(json_array_size(json_object_get(tot, "totals")), 1);
  json_decref(tot);

  /* transfers of an account, oldest first, paged */
  json_t *params = json_pack("{s:s, s:s}", "account", "a", "limit", "2"), *res = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(&x->f, "ledger", "transfers", params, &res, &rej), HANSE_OK);
  json_t *list = json_object_get(res, "transfers");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "t1");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "id")), "t2");
  json_object_set(params, "after", json_object_get(res, "next"));
  json_decref(res);
  assert_int_equal(fx_query(&x->f, "ledger", "transfers", params, &res, &rej), HANSE_OK);
  list = json_object_get(res, "transfers");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "t3");
  json_decref(res);
  json_decref(params);
}

static void test_rules_and_overflow(void **state) {
  lx *x = *state;
  assert_string_equal(open_acct(x, ALICE, "src", "EUR", NULL), "ok");
  assert_string_equal(open_acct(x, ALICE, "wallet", "EUR", "debits_must_not_exceed_credits"), "ok");
  assert_string_equal(open_acct(x, ALICE, "cap", "EUR", "credits_must_not_exceed_debits"), "ok");
  assert_string_equal(open_acct(x, ALICE, "sink", "EUR", NULL), "ok");
  /* wallet may spend what it was credited, pending debits count */
  assert_string_equal(xfer(x, ALICE, "w0", "wallet", "sink", "1", NULL), "ledger.exceeds_credits");
  assert_string_equal(xfer(x, ALICE, "w1", "src", "wallet", "10", NULL), "ok");
  assert_string_equal(xfer(x, ALICE, "w2", "wallet", "sink", "6", ",\"pending\":true"), "ok");
  assert_string_equal(xfer(x, ALICE, "w3", "wallet", "sink", "5", NULL), "ledger.exceeds_credits");
  assert_string_equal(xfer(x, ALICE, "w3", "wallet", "sink", "4", NULL), "ok");
  expect_balances(x, "wallet", 6, 4, 0, 10);
  /* pending credits do not back debits */
  assert_string_equal(xfer(x, ALICE, "w4", "src", "wallet", "5", ",\"pending\":true"), "ok");
  assert_string_equal(xfer(x, ALICE, "w5", "wallet", "sink", "1", NULL), "ledger.exceeds_credits");
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"w2\"}"), "ok");
  assert_string_equal(xfer(x, ALICE, "w5", "wallet", "sink", "6", NULL), "ok");
  /* cap may be credited up to its posted debits */
  assert_string_equal(xfer(x, ALICE, "c0", "src", "cap", "1", NULL), "ledger.exceeds_debits");
  assert_string_equal(xfer(x, ALICE, "c1", "cap", "sink", "3", NULL), "ok");
  assert_string_equal(xfer(x, ALICE, "c2", "src", "cap", "2", ",\"pending\":true"), "ok");
  assert_string_equal(xfer(x, ALICE, "c3", "src", "cap", "2", NULL), "ledger.exceeds_debits");
  assert_string_equal(xfer(x, ALICE, "c3", "src", "cap", "1", NULL), "ok");
  expect_balances(x, "cap", 0, 3, 2, 1);

  /* overflow of an account: two transfers of 2^63-1 fit in 2^64-1 */
  assert_string_equal(open_acct(x, ALICE, "big", "USD", NULL), "ok");
  assert_string_equal(open_acct(x, ALICE, "big2", "USD", NULL), "ok");
  assert_string_equal(open_acct(x, ALICE, "o1", "USD", NULL), "ok");
  assert_string_equal(open_acct(x, ALICE, "o2", "USD", NULL), "ok");
  assert_string_equal(xfer(x, ALICE, "b1", "big", "big2", "9223372036854775807", NULL), "ok");
  assert_string_equal(xfer(x, ALICE, "b2", "big", "big2", "9223372036854775807", NULL), "ok");
  expect_balances(x, "big", 0, UINT64_MAX - 1, 0, 0);
  assert_string_equal(xfer(x, ALICE, "b3", "big", "big2", "2", NULL), "ledger.overflow");
  assert_string_equal(xfer(x, ALICE, "b3", "big", "big2", "1", NULL), "ok");
  /* ... and of an asset's totals: fresh accounts, but USD's sums are full */
  assert_string_equal(xfer(x, ALICE, "b4", "o1", "o2", "1", NULL), "ledger.overflow");
  assert_string_equal(xfer(x, ALICE, "b4", "o1", "o2", "1", ",\"pending\":true"), "ok");
  expect_balances(x, "big", 0, UINT64_MAX, 0, 0);
  json_t *tot = query(x, "totals", "asset", "USD", NULL);
  assert_int_equal(u64_of(tot, "credits_posted"), UINT64_MAX);
  assert_int_equal(u64_of(tot, "debits_pending"), 1);
  json_decref(tot);
  /* posting b4 would overflow the posted total */
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"b4\"}"), "ledger.overflow");
  assert_string_equal(status_of(x, "b4"), "pending");
}

static void test_two_phase(void **state) {
  lx *x = *state;
  open_basic(x);
  assert_string_equal(xfer(x, ALICE, "p1", "a", "b", "50", ",\"pending\":true"), "ok");
  expect_balances(x, "a", 50, 0, 0, 0);
  expect_balances(x, "b", 0, 0, 50, 0);
  assert_string_equal(status_of(x, "p1"), "pending");
  /* post in full */
  assert_string_equal(submit(x, BOB, "ledger.post", "{\"id\":\"p1\"}"), "ledger.not_owner");
  assert_string_equal(submit(x, CAROL, "ledger.post", "{\"id\":\"p1\",\"amount\":51}"),
                      "ledger.exceeds_pending");
  assert_string_equal(submit(x, CAROL, "ledger.post", "{\"id\":\"p1\"}"), "ok");
  expect_balances(x, "a", 0, 50, 0, 0);
  expect_balances(x, "b", 0, 0, 0, 50);
  json_t *t = query(x, "transfer", "id", "p1", NULL);
  assert_string_equal(json_string_value(json_object_get(t, "status")), "posted");
  assert_int_equal(u64_of(t, "posted_amount"), 50);
  assert_true(json_is_integer(json_object_get(t, "resolved_at")));
  json_decref(t);
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"p1\"}"), "ledger.already_posted");
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"p1\"}"), "ledger.already_posted");
  /* the original request again is still "exists" */
  assert_string_equal(xfer(x, ALICE, "p1", "a", "b", "50", ",\"pending\":true"), "ok");
  expect_balances(x, "a", 0, 50, 0, 0);
  /* post part */
  assert_string_equal(xfer(x, ALICE, "p2", "a", "b", "40", ",\"pending\":true"), "ok");
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"p2\",\"amount\":15}"), "ok");
  expect_balances(x, "a", 0, 65, 0, 0);
  expect_balances(x, "b", 0, 0, 0, 65);
  /* void */
  assert_string_equal(xfer(x, ALICE, "p3", "a", "b", "9", ",\"pending\":true"), "ok");
  assert_string_equal(submit(x, BOB, "ledger.void", "{\"id\":\"p3\"}"), "ledger.not_owner");
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"p3\"}"), "ok");
  expect_balances(x, "a", 0, 65, 0, 0);
  assert_string_equal(status_of(x, "p3"), "voided");
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"p3\"}"), "ledger.already_voided");
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"p3\"}"), "ledger.already_voided");
  /* a single-phase transfer and a missing one */
  assert_string_equal(xfer(x, ALICE, "s1", "a", "b", "1", NULL), "ok");
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"s1\"}"), "ledger.not_pending");
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"nope\"}"), "ledger.no_transfer");
  json_t *tot = query(x, "totals", "asset", "EUR", NULL);
  assert_int_equal(u64_of(tot, "debits_pending"), 0);
  assert_int_equal(u64_of(tot, "debits_posted"), 66);
  assert_int_equal(u64_of(tot, "credits_posted"), 66);
  json_decref(tot);
}

/* The codes of the results record of the last transaction. */
static void expect_results(lx *x, const char *const *want, size_t n) {
  char txhex[HANSE_HASH_HEX_BYTES];
  hanse_hex_encode(txhex, x->last.id.b, HANSE_HASH_BYTES);
  json_t *res = query(x, "results", "tx", txhex, NULL);
  assert_non_null(res);
  json_t *list = json_object_get(res, "results");
  assert_int_equal(json_array_size(list), n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, i), "code")),
                        want[i]);
  json_decref(res);
}

/* ledger.post and ledger.void of many ids: each on its own, a mixed
 * outcome kept as results, all failing rejected with the first's code. */
static void test_post_many(void **state) {
  lx *x = *state;
  open_basic(x);
  assert_string_equal(submit(x, ALICE, "ledger.transfer",
                             "{\"transfers\":["
                             "{\"id\":\"p1\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":50,\"pending\":true},"
                             "{\"id\":\"p2\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":40,\"pending\":true},"
                             "{\"id\":\"p3\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":9,\"pending\":true,"
                             "\"timeout\":600},"
                             "{\"id\":\"s1\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":1}]}"),
                      "ok");
  expect_balances(x, "a", 99, 1, 0, 0);
  /* check: the list's shape and every entry */
  char many[256 * 6 + 32];
  size_t len = (size_t)snprintf(many, sizeof many, "{\"ids\":[");
  for (int i = 0; i < 257; i++)
    len += (size_t)snprintf(many + len, sizeof many - len, "%s\"p1\"", i ? "," : "");
  snprintf(many + len, sizeof many - len, "]}");
  const struct {
    const char *kind, *payload, *code;
  } bad[] = {
      {"ledger.post", "{\"ids\":[]}", "ledger.bad_ids"},
      {"ledger.post", "{\"ids\":\"p1\"}", "ledger.bad_ids"},
      {"ledger.post", "{\"ids\":[\"p1\"],\"id\":\"p1\"}", "ledger.bad_ids"},
      {"ledger.post", "{\"ids\":[\"p1\"],\"amount\":1}", "ledger.bad_ids"},
      {"ledger.post", "{\"ids\":[5]}", "ledger.bad_ids"},
      {"ledger.post", "{\"ids\":[\"a b\"]}", "ledger.bad_id"},
      {"ledger.post", "{\"ids\":[{\"amount\":1}]}", "ledger.bad_id"},
      {"ledger.post", "{\"ids\":[{\"id\":\"p1\",\"amount\":0}]}", "ledger.bad_amount"},
      {"ledger.post", "{\"ids\":[{\"id\":\"p1\",\"x\":1}]}", "ledger.bad_field"},
      {"ledger.void", "{\"ids\":[{\"id\":\"p1\",\"amount\":1}]}", "ledger.bad_field"},
      {"ledger.void", "{\"ids\":[\"p1\"],\"amount\":1}", "ledger.bad_field"},
      {"ledger.post", many, "ledger.bad_ids"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (strcmp(submit(x, ALICE, bad[i].kind, "%s", bad[i].payload), bad[i].code) != 0)
      fail_msg("%s %s: %s, want %s", bad[i].kind, bad[i].payload, x->last.code, bad[i].code);
  /* a mixed outcome: the good ones happen, every code is kept */
  assert_string_equal(submit(x, CAROL, "ledger.post",
                             "{\"ids\":[\"p1\",{\"id\":\"p2\",\"amount\":15},\"nope\",\"s1\","
                             "{\"id\":\"p1\"}]}"),
                      "ok");
  const char *want[] = {"ok", "ok", "ledger.no_transfer", "ledger.not_pending",
                        "ledger.already_posted"};
  expect_results(x, want, 5);
  expect_balances(x, "a", 9, 66, 0, 0);
  expect_balances(x, "b", 0, 0, 9, 66);
  assert_string_equal(status_of(x, "p1"), "posted");
  json_t *t = query(x, "transfer", "id", "p2", NULL);
  assert_int_equal(u64_of(t, "posted_amount"), 15);
  json_decref(t);
  /* none succeeds: rejected with the first failure's own code */
  assert_string_equal(submit(x, BOB, "ledger.void", "{\"ids\":[\"p3\"]}"), "ledger.not_owner");
  assert_non_null(strstr(x->last.message, "ids[0] 'p3'"));
  assert_string_equal(status_of(x, "p3"), "pending");
  /* a void of many; the second p3 finds it voided */
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"ids\":[\"p3\",{\"id\":\"p3\"}]}"), "ok");
  const char *want2[] = {"ok", "ledger.already_voided"};
  expect_results(x, want2, 2);
  assert_string_equal(status_of(x, "p3"), "voided");
  char v[256];
  t = query(x, "transfer", "id", "p3", NULL);
  snprintf(v, sizeof v, "ledger/exp/%020" PRIu64 "/p3",
           (uint64_t)json_integer_value(json_object_get(t, "expires_at")));
  json_decref(t);
  assert_false(fx_state(&x->f, v, NULL, 0)); /* p3's expiry entry is gone */
  expect_balances(x, "a", 0, 66, 0, 0);
  /* all of them ok: no results record */
  assert_string_equal(xfer(x, ALICE, "p4", "a", "b", "2", ",\"pending\":true"), "ok");
  assert_string_equal(xfer(x, ALICE, "p5", "a", "b", "3", ",\"pending\":true"), "ok");
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"ids\":[\"p4\",\"p5\"]}"), "ok");
  char txhex[HANSE_HASH_HEX_BYTES];
  const char *code;
  hanse_hex_encode(txhex, x->last.id.b, HANSE_HASH_BYTES);
  assert_null(query(x, "results", "tx", txhex, &code));
  assert_string_equal(code, "ledger.no_results");
  json_t *tot = query(x, "totals", "asset", "EUR", NULL);
  assert_int_equal(u64_of(tot, "debits_pending"), 0);
  assert_int_equal(u64_of(tot, "debits_posted"), 71);
  assert_int_equal(u64_of(tot, "credits_posted"), 71);
  json_decref(tot);
  /* the balance row as stored: "dp dpo cp cpo" */
  assert_true(fx_state(&x->f, "ledger/bal/a", v, sizeof v));
  assert_string_equal(v, "0 71 0 0");
  assert_true(fx_state(&x->f, "ledger/totals/EUR", v, sizeof v));
  assert_string_equal(v, "0 71 0 71");
  /* and the account's static record holds no balance: owner asset type
   * opened_at rule controller */
  assert_true(fx_state(&x->f, "ledger/acct/a", v, sizeof v));
  assert_string_equal(v, "acme EUR asset 2 - -");
}

static void test_expiry(void **state) {
  lx *x = *state;
  open_basic(x);
  uint64_t t0 = x->f.time_ms;
  /* e1 expires at t0 + 5 s; e2 at t0 + 1 h; e3 never */
  assert_string_equal(xfer(x, ALICE, "e1", "a", "b", "10", ",\"pending\":true,\"timeout\":5"), "ok");
  assert_string_equal(xfer(x, ALICE, "e2", "a", "b", "20", ",\"pending\":true,\"timeout\":3600"),
                      "ok");
  assert_string_equal(xfer(x, ALICE, "e3", "a", "b", "40", ",\"pending\":true"), "ok");
  json_t *t = query(x, "transfer", "id", "e1", NULL);
  assert_int_equal(json_integer_value(json_object_get(t, "expires_at")), t0 + 5000);
  json_decref(t);
  char v[256];
  snprintf(v, sizeof v, "ledger/exp/%020" PRIu64 "/e1", t0 + 5000);
  assert_true(fx_state(&x->f, v, NULL, 0));
  /* one second before: a ledger transaction sweeps nothing */
  x->f.time_ms = t0 + 4999;
  assert_string_equal(open_acct(x, ALICE, "c", "EUR", NULL), "ok");
  assert_string_equal(status_of(x, "e1"), "pending");
  expect_balances(x, "a", 70, 0, 0, 0);
  /* a non-ledger block at the expiry time changes nothing */
  x->f.time_ms = t0 + 5000;
  assert_string_equal(submit(x, ALICE, "notary.anchor",
                             "{\"hash\":\"%064d\"}", 1),
                      "ok");
  assert_string_equal(status_of(x, "e1"), "pending");
  /* the next block's first ledger transaction expires e1, even when it is
   * rejected in a block where a later one is accepted */
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &x->f.bob, "ledger.post", ++x->seq[BOB], "{\"id\":\"e2\"}"); /* not_owner */
  fx_body_tx(&b, &x->f.alice, "ledger.post", ++x->seq[ALICE], "{\"id\":\"e1\"}"); /* expired */
  fx_body_tx(&b, &x->f.alice, "ledger.post", ++x->seq[ALICE], "{\"id\":\"e2\",\"amount\":5}");
  hanse_receipt r[3];
  hanse_reject rej;
  assert_int_equal(fx_propose(&x->f, &b, r, 3, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(r[0].code, "ledger.not_owner");
  assert_string_equal(r[1].code, "ledger.expired");
  assert_string_equal(r[2].code, "ok");
  assert_string_equal(status_of(x, "e1"), "expired");
  assert_false(fx_state(&x->f, v, NULL, 0)); /* the expiry entry is gone */
  expect_balances(x, "a", 40, 5, 0, 0);
  expect_balances(x, "b", 0, 0, 40, 5);
  /* an hour later e2 is posted (no longer due) and e3 still pending */
  x->f.time_ms = t0 + 3600 * 1000 + 1;
  assert_string_equal(xfer(x, ALICE, "x1", "a", "b", "1", NULL), "ok");
  assert_string_equal(status_of(x, "e2"), "posted");
  assert_string_equal(status_of(x, "e3"), "pending");
  expect_balances(x, "a", 40, 6, 0, 0);
  json_t *tot = query(x, "totals", "asset", "EUR", NULL);
  assert_int_equal(u64_of(tot, "debits_pending"), 40);
  assert_int_equal(u64_of(tot, "credits_pending"), 40);
  json_decref(tot);
}

static void test_linked(void **state) {
  lx *x = *state;
  assert_string_equal(open_acct(x, ALICE, "src", "EUR", NULL), "ok");
  assert_string_equal(open_acct(x, ALICE, "w", "EUR", "debits_must_not_exceed_credits"), "ok");
  assert_string_equal(open_acct(x, ALICE, "dst", "EUR", NULL), "ok");
  /* chain l1 -> l2 -> l3 fails at l2 (w has no credit yet counting l1?
   * l1 credits w 5, l2 debits w 7: exceeds); l4 is alone and succeeds */
  assert_string_equal(
      submit(x, ALICE, "ledger.transfer",
             "{\"transfers\":["
             "{\"id\":\"l1\",\"debit\":\"src\",\"credit\":\"w\",\"amount\":5,\"linked\":true},"
             "{\"id\":\"l2\",\"debit\":\"w\",\"credit\":\"dst\",\"amount\":7,\"linked\":true},"
             "{\"id\":\"l3\",\"debit\":\"src\",\"credit\":\"dst\",\"amount\":1,\"pending\":true,"
             "\"timeout\":9},"
             "{\"id\":\"l4\",\"debit\":\"src\",\"credit\":\"dst\",\"amount\":2}]}"),
      "ok");
  /* nothing of l1..l3 is left: no record, no balance, no index, no expiry */
  assert_string_equal(status_of(x, "l1"), "ledger.no_transfer");
  assert_string_equal(status_of(x, "l2"), "ledger.no_transfer");
  assert_string_equal(status_of(x, "l3"), "ledger.no_transfer");
  assert_string_equal(status_of(x, "l4"), "posted");
  expect_balances(x, "w", 0, 0, 0, 0);
  expect_balances(x, "src", 0, 2, 0, 0);
  expect_balances(x, "dst", 0, 0, 0, 2);
  json_t *params = json_pack("{s:s}", "account", "w"), *res = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(&x->f, "ledger", "transfers", params, &res, &rej), HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "transfers")), 0);
  json_decref(res);
  json_decref(params);
  char txhex[HANSE_HASH_HEX_BYTES];
  hanse_hex_encode(txhex, x->last.id.b, HANSE_HASH_BYTES);
  res = query(x, "results", "tx", txhex, NULL);
  assert_non_null(res);
  const char *want[] = {"ledger.linked_event_failed", "ledger.exceeds_credits",
                        "ledger.linked_event_failed", "ok"};
  json_t *list = json_object_get(res, "results");
  assert_int_equal(json_array_size(list), 4);
  for (size_t i = 0; i < 4; i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, i), "code")), want[i]);
  json_decref(res);
  /* with enough credit the same chain goes through whole, l2 seeing l1 */
  assert_string_equal(
      submit(x, ALICE, "ledger.transfer",
             "{\"transfers\":["
             "{\"id\":\"l1\",\"debit\":\"src\",\"credit\":\"w\",\"amount\":7,\"linked\":true},"
             "{\"id\":\"l2\",\"debit\":\"w\",\"credit\":\"dst\",\"amount\":7}]}"),
      "ok");
  expect_balances(x, "w", 0, 7, 0, 7);
  const char *code;
  hanse_hex_encode(txhex, x->last.id.b, HANSE_HASH_BYTES);
  assert_null(query(x, "results", "tx", txhex, &code)); /* all succeeded: no results record */
  assert_string_equal(code, "ledger.no_results");
  /* every chain failing: the transaction is rejected with the root cause,
   * even when a conflict inside the chain is the cause */
  assert_string_equal(
      submit(x, ALICE, "ledger.transfer",
             "{\"transfers\":["
             "{\"id\":\"m1\",\"debit\":\"src\",\"credit\":\"w\",\"amount\":1,\"linked\":true},"
             "{\"id\":\"m1\",\"debit\":\"src\",\"credit\":\"w\",\"amount\":2}]}"),
      "ledger.id_conflict");
  assert_string_equal(status_of(x, "m1"), "ledger.no_transfer");
  assert_non_null(strstr(x->last.message, "transfers[1] 'm1'"));
  expect_balances(x, "w", 0, 7, 0, 7);
}

/* ---- the invariant check aborts the block ---------------------------------- */

static void test_invariant_abort(void **state) {
  (void)state;
  hanse_store *s = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &s, &rej), HANSE_OK);
  hanse_keypair bob;
  fx_key(&bob, 0xb0);
  char hex[HANSE_HASH_HEX_BYTES], rec[512];
  fx_hex(hex, &bob.pub);
  hanse_hash zero, digest, sum;
  memset(&zero, 0, sizeof zero);
  hanse_exec ex;
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_begin(&ex, s, 1, 1000, &zero, &zero), HANSE_OK);
  const char *accts[] = {"x", "y"};
  for (int i = 0; i < 2; i++) {
    snprintf(rec, sizeof rec, "%s EUR asset 1 - -", hex); /* owner asset type ... */
    char key[64];
    snprintf(key, sizeof key, "ledger/acct/%s", accts[i]);
    assert_int_equal(hanse_exec_put_raw(&ex, key, strlen(key), rec, strlen(rec)), HANSE_OK);
  }
  /* a total that no transfer could have produced (dp dpo cp cpo) */
  const char *bad = "0 4 0 3";
  assert_int_equal(hanse_exec_put_raw(&ex, "ledger/totals/EUR", 17, bad, strlen(bad)), HANSE_OK);
  assert_int_equal(hanse_exec_finish(&ex, &digest, &sum), HANSE_OK);
  hanse_exec_free(&ex);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);

  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &bob, FX_CHAIN_ID, "ledger.transfer", 1, 0,
        "{\"transfers\":[{\"id\":\"t\",\"debit\":\"x\",\"credit\":\"y\",\"amount\":1}]}");
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_receipt r;
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_begin(&ex, s, 2, 2000, &digest, &sum), HANSE_OK);
  /* verify accepts; apply finds the totals unbalanced and aborts */
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_ERR(INTERNAL));
  hanse_exec_free(&ex);
  hanse_store_rollback(s);
  hanse_buf_free(&raw);
  hanse_store_close(s);
  hanse_keypair_wipe(&bob);
}

/* ---- randomized workload ---------------------------------------------------- */

#define R_ACCOUNTS 12
#define R_BLOCKS 40
#define R_TXS 24
#define R_IDS 6000


/* Accounts r0..r11: even ones acme's (alice and carol), odd ones bob's;
 * r0-r5 EUR, r6-r11 USD; some with rules. */
static const char *r_asset(int i) { return i < 6 ? "EUR" : "USD"; }

typedef struct submitted {
  char id[32];
  int acct_d, acct_c;
  uint64_t amount;
} submitted;

/* A transfer's flags follow from its id, so a resubmission repeats them:
 * pending when h % 3 == 0, with a timeout when also h % 2 == 0. */
static unsigned id_hash(const char *id) {
  unsigned h = 0;
  for (const char *c = id; *c; c++) h = h * 31 + (unsigned char)*c;
  return h;
}

static void run_workload(lx *x, uint64_t seed) {
  fx_rnd r = {seed};
  for (int i = 0; i < R_ACCOUNTS; i++) {
    char id[8];
    snprintf(id, sizeof id, "r%d", i);
    const char *rule = i % 3 == 1 ? "debits_must_not_exceed_credits"
                       : i % 3 == 2 && i % 2 == 0 ? "credits_must_not_exceed_debits"
                                                  : NULL;
    assert_string_equal(open_acct(x, i % 2 ? BOB : ALICE, id, r_asset(i), rule), "ok");
  }
  submitted *ids = calloc(R_IDS, sizeof *ids);
  assert_non_null(ids);
  size_t nids = 0, made = 0, failed = 0, posts = 0, voids = 0;
  char *payload = malloc(HANSE_PAYLOAD_MAX);
  assert_non_null(payload);
  for (int blk = 0; blk < R_BLOCKS; blk++) {
    fx_body b;
    fx_body_init(&b);
    for (int t = 0; t < R_TXS; t++) {
      int who = (int)fx_rbelow(&r, WHO_N);
      unsigned kind = fx_rbelow(&r, 10);
      if (kind < 7 || nids == 0) { /* a batch of 1..8 transfers */
        unsigned n = 1 + fx_rbelow(&r, 8);
        size_t o = (size_t)snprintf(payload, HANSE_PAYLOAD_MAX, "{\"transfers\":[");
        for (unsigned k = 0; k < n; k++) {
          submitted s;
          memset(&s, 0, sizeof s);
          unsigned pick = fx_rbelow(&r, 20);
          if (pick == 0 && nids) { /* resubmit an earlier id, same fields */
            s = ids[fx_rbelow(&r, (unsigned)nids)];
          } else {
            snprintf(s.id, sizeof s.id, "%" PRIx64 "-%zu", seed & 0xff, nids);
            s.acct_d = (int)fx_rbelow(&r, R_ACCOUNTS);
            /* mostly the same asset, sometimes another (asset_mismatch) */
            int same = fx_rbelow(&r, 12) != 0;
            do s.acct_c = (int)fx_rbelow(&r, R_ACCOUNTS);
            while (s.acct_c == s.acct_d || (same && (s.acct_c < 6) != (s.acct_d < 6)));
            s.amount = fx_rbelow(&r, 8) == 0 ? 1 + fx_rnext(&r) % 1000000 : 1 + fx_rbelow(&r, 500);
            if (pick == 1 && nids) { /* an id conflict */
              s = ids[fx_rbelow(&r, (unsigned)nids)];
              s.amount++;
            } else if (nids < R_IDS) {
              ids[nids++] = s;
            }
          }
          unsigned h = id_hash(s.id);
          int pending = h % 3 == 0, timeout = pending && h % 2 == 0;
          int linked = k + 1 < n && fx_rbelow(&r, 3) == 0;
          o += (size_t)snprintf(payload + o, HANSE_PAYLOAD_MAX - o,
                                "%s{\"id\":\"%s\",\"debit\":\"r%d\",\"credit\":\"r%d\","
                                "\"amount\":%" PRIu64 "%s%s%s}",
                                k ? "," : "", s.id, s.acct_d, s.acct_c, s.amount,
                                pending ? ",\"pending\":true" : "",
                                timeout ? (h % 4 == 0 ? ",\"timeout\":3" : ",\"timeout\":30") : "",
                                linked ? ",\"linked\":true" : "");
        }
        snprintf(payload + o, HANSE_PAYLOAD_MAX - o, "]}");
        fx_body_tx(&b, key_of(x, who), "ledger.transfer", ++x->seq[who], "%s", payload);
      } else { /* post (maybe partly) or void an earlier id: mostly a
                  * two-phase one of the last few hundred, by its owner */
        const submitted *s = &ids[fx_rbelow(&r, (unsigned)nids)];
        for (int tries = 0; tries < 8 && id_hash(s->id) % 3 != 0; tries++) {
          size_t back = 1 + fx_rbelow(&r, nids < 300 ? (unsigned)nids : 300);
          s = &ids[nids - back];
        }
        if (fx_rbelow(&r, 5) != 0) who = s->acct_d % 2 ? BOB : fx_rbelow(&r, 2) ? ALICE : CAROL;
        if (kind < 9) {
          unsigned part = fx_rbelow(&r, 3);
          if (part == 0)
            fx_body_tx(&b, key_of(x, who), "ledger.post", ++x->seq[who],
                       "{\"id\":\"%s\",\"amount\":%" PRIu64 "}", s->id,
                       1 + fx_rnext(&r) % s->amount);
          else
            fx_body_tx(&b, key_of(x, who), "ledger.post", ++x->seq[who], "{\"id\":\"%s\"}",
                       s->id);
          posts++;
        } else {
          fx_body_tx(&b, key_of(x, who), "ledger.void", ++x->seq[who], "{\"id\":\"%s\"}", s->id);
          voids++;
        }
      }
    }
    hanse_receipt rs[R_TXS];
    hanse_reject rej;
    if (fx_propose(&x->f, &b, rs, R_TXS, &rej) != HANSE_OK)
      fail_msg("seed %" PRIu64 " block %d: %s: %s", seed, blk, rej.code, rej.message);
    fx_body_free(&b);
    for (int t = 0; t < R_TXS; t++) {
      if (strcmp(rs[t].code, "ok") == 0) made++;
      else if (strncmp(rs[t].code, "ledger.", 7) == 0) failed++;
      else fail_msg("unexpected receipt %s: %s", rs[t].code, rs[t].message);
    }
    /* time moves 1-4 s a block: timeouts of 3 s and 30 s fall due */
    x->f.time_ms += 1000ull * fx_rbelow(&r, 4);
  }
  /* let everything due expire: a ledger transaction an hour later */
  x->f.time_ms += 3600 * 1000;
  assert_string_equal(open_acct(x, ALICE, "sweeper", "EUR", NULL), "ok");

  /* Recompute every balance from the accepted transfers' records. */
  uint64_t want[R_ACCOUNTS][4];
  memset(want, 0, sizeof want);
  uint64_t tot[2][4];
  memset(tot, 0, sizeof tot);
  size_t created = 0, pending_left = 0, partial = 0, voided = 0, expired = 0;
  for (size_t i = 0; i < nids; i++) {
    json_t *t = query(x, "transfer", "id", ids[i].id, NULL);
    if (t == NULL) continue;
    created++;
    /* the record is what was submitted under this id: first, or, when
     * that failed, a conflicting variant (amount + 1) */
    char dn[8], cn[8];
    snprintf(dn, sizeof dn, "r%d", ids[i].acct_d);
    snprintf(cn, sizeof cn, "r%d", ids[i].acct_c);
    assert_string_equal(json_string_value(json_object_get(t, "debit")), dn);
    assert_string_equal(json_string_value(json_object_get(t, "credit")), cn);
    uint64_t amt = (uint64_t)json_integer_value(json_object_get(t, "amount"));
    assert_true(amt == ids[i].amount || amt == ids[i].amount + 1);
    const char *st = json_string_value(json_object_get(t, "status"));
    int two_phase = json_is_true(json_object_get(t, "pending"));
    uint64_t pend = 0, post = 0;
    if (strcmp(st, "pending") == 0) {
      pend = amt;
      pending_left++;
      assert_null(json_object_get(t, "expires_at")); /* all due ones expired */
    } else if (strcmp(st, "posted") == 0) {
      post = two_phase ? u64_of(t, "posted_amount") : amt;
      assert_true(post >= 1 && post <= amt);
      partial += post < amt;
    } else {
      assert_true(two_phase && (strcmp(st, "voided") == 0 || strcmp(st, "expired") == 0));
      voided += st[0] == 'v';
      expired += st[0] == 'e';
    }
    int d = ids[i].acct_d, c = ids[i].acct_c, a = d >= 6;
    assert_int_equal(a, c >= 6);
    want[d][0] += pend;
    want[d][1] += post;
    want[c][2] += pend;
    want[c][3] += post;
    tot[a][0] += pend;
    tot[a][1] += post;
    tot[a][2] += pend;
    tot[a][3] += post;
    json_decref(t);
  }
  for (int i = 0; i < R_ACCOUNTS; i++) {
    char id[8];
    snprintf(id, sizeof id, "r%d", i);
    uint64_t got[4];
    balances(x, id, got);
    for (int k = 0; k < 4; k++)
      if (got[k] != want[i][k])
        fail_msg("seed %" PRIu64 ": %s field %d is %" PRIu64 ", recomputed %" PRIu64, seed, id, k,
                 got[k], want[i][k]);
    /* the rules held */
    if (i % 3 == 1) assert_true(got[0] + got[1] <= got[3]);
    if (i % 3 == 2 && i % 2 == 0) assert_true(got[2] + got[3] <= got[1]);
  }
  for (int a = 0; a < 2; a++) {
    json_t *t = query(x, "totals", "asset", a ? "USD" : "EUR", NULL);
    assert_non_null(t);
    assert_int_equal(u64_of(t, "debits_pending"), tot[a][0]);
    assert_int_equal(u64_of(t, "debits_posted"), tot[a][1]);
    assert_int_equal(u64_of(t, "credits_pending"), tot[a][2]);
    assert_int_equal(u64_of(t, "credits_posted"), tot[a][3]);
    assert_int_equal(tot[a][0], tot[a][2]);
    assert_int_equal(tot[a][1], tot[a][3]);
    json_decref(t);
  }
  print_message("seed %" PRIu64 ": %zu ids, %zu created (%zu still pending, %zu posted in part, "
                "%zu voided, %zu expired), %zu txs ok, %zu rejected, %zu posts, %zu voids tried\n",
                seed, nids, created, pending_left, partial, voided, expired, made, failed, posts,
                voids);
  /* every outcome was exercised */
  assert_true(created > nids / 4 && created < nids);
  assert_true(failed > 0 && pending_left > 0 && partial > 0 && voided > 0 && expired > 0);
  free(payload);
  free(ids);
}

static void test_random_seed1(void **state) { run_workload(*state, 1); }
static void test_random_seed2(void **state) { run_workload(*state, 0x5eed); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transfer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rules_and_overflow, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_phase, setup, teardown),
      cmocka_unit_test_setup_teardown(test_post_many, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_linked, setup, teardown),
      cmocka_unit_test(test_invariant_abort),
      cmocka_unit_test_setup_teardown(test_random_seed1, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_seed2, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
