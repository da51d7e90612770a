/*
 * test_token.c -- the token module through blocks, receipts and queries.
 *
 * Acme (alice) is a bank and a platform: it defines the currency token
 * EURB backed by EUR and the loyalty token PNTS worth 1/100 of a EUR cent.
 * Bob and carol (keys the members do not know: their own enterprises)
 * hold tokens. check: each malformed payload has its own code. define:
 * the definition in the shared format, the token's own accounts with
 * controller "token", token.exists. Currency tokens: issuing within and
 * beyond the attested reserve (token.unbacked), only the issuer issues,
 * only the holder redeems and not beyond its balance, the same request
 * twice changes nothing, the backing numbers and attestations after a
 * sequence, a lower attestation uncovers the token. Holders pay each
 * other with plain ledger transfers and cannot overdraw (their accounts
 * get the ledger's rule). Nobody moves the issuance or discount account
 * with ledger.transfer (ledger.controlled); the discount account pays out
 * no more than was paid in. After each test debits equal credits per
 * asset and the holders' balances sum to what is outstanding. Books: an
 * issue and a redeem of a currency token are booked in the issuer's and
 * the holder's books, a payment between holders in the token's
 * commodity; a loyalty token's award and return only in the issuer's
 * books (BOOKS_LOYALTY); a repeated or refused move books nothing; every
 * book balances and agrees with the ledger. Every chain is audited at
 * the end (hanse verify's re-execution).
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

enum { ALICE, BOB, CAROL, WHO_N };

#define EVIDENCE "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

typedef struct tk {
  fx_chain f;
  uint64_t seq[WHO_N];
  hanse_receipt last;
} tk;

static const hanse_keypair *key_of(tk *x, int who) {
  return who == ALICE ? &x->f.alice : who == BOB ? &x->f.bob : &x->f.carol;
}

static const char *submit(tk *x, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *submit(tk *x, int who, const char *kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fx_propose_vtx(&x->f, key_of(x, who), kind, ++x->seq[who], &x->last, fmt, ap);
  va_end(ap);
  return x->last.code;
}

static int setup(void **state) {
  tk *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  fx_chain_setup(&x->f, NULL);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  tk *x = *state;
  fx_chain_audit(&x->f);
  fx_chain_teardown(&x->f);
  free(x);
  return 0;
}

/* A query of `module` with params (stolen); NULL and *code on rejection. */
static json_t *query(tk *x, const char *module, const char *name, json_t *params,
                     const char **code) {
  return fx_query_code(&x->f, module, name, params, code);
}

static uint64_t u64_of(json_t *o, const char *field) {
  const char *s = json_string_value(json_object_get(o, field));
  if (s == NULL) fail_msg("no decimal field %s", field);
  return strtoull(s, NULL, 10);
}

/* A field of the ledger's totals: absent until a transfer touched it. */
static uint64_t u64_or_0(json_t *o, const char *field) {
  return json_object_get(o, field) ? u64_of(o, field) : 0;
}

/* An account's balance: credits posted less debits posted. */
static int64_t balance(tk *x, const char *account) {
  json_t *a = query(x, "ledger", "account", json_pack("{s:s}", "account", account), NULL);
  if (a == NULL) fail_msg("no account %s", account);
  int64_t b = (int64_t)u64_of(a, "credits_posted") - (int64_t)u64_of(a, "debits_posted");
  json_decref(a);
  return b;
}

static json_t *backing(tk *x, const char *symbol) {
  json_t *b = query(x, "token", "backing", json_pack("{s:s}", "symbol", symbol), NULL);
  if (b == NULL) fail_msg("no backing of %s", symbol);
  return b;
}

static void expect_backing(tk *x, uint64_t issued, uint64_t redeemed, uint64_t reserve,
                           int covered) {
  json_t *b = backing(x, "EURB");
  assert_int_equal(u64_of(b, "issued"), issued);
  assert_int_equal(u64_of(b, "redeemed"), redeemed);
  assert_int_equal(u64_of(b, "outstanding"), issued - redeemed);
  assert_int_equal(u64_of(b, "reserve"), reserve);
  assert_int_equal(json_is_true(json_object_get(b, "covered")), covered);
  json_decref(b);
}

/* Debits equal credits in every asset's totals; the accounts in `held`
 * (NULL-terminated) hold exactly what is outstanding of `symbol`. */
static void invariant(tk *x, const char *symbol, const char *const *held) {
  json_t *all = query(x, "ledger", "totals", json_object(), NULL);
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(all, "totals"), i, t) {
    assert_int_equal(u64_or_0(t, "debits_posted"), u64_or_0(t, "credits_posted"));
    assert_int_equal(u64_or_0(t, "debits_pending"), u64_or_0(t, "credits_pending"));
  }
  json_decref(all);
  int64_t sum = 0;
  for (i = 0; held[i]; i++) sum += balance(x, held[i]);
  json_t *b = backing(x, symbol);
  assert_int_equal(sum, (int64_t)u64_of(b, "outstanding"));
  json_decref(b);
}

/* The entries of the last transaction (books query "tx"): n of them. */
static json_t *booked(tk *x, size_t n) {
  json_t *es = fx_books_tx(&x->f, &x->last.id);
  assert_int_equal(json_array_size(es), n);
  return es;
}

/* The last transaction booked `type` in the token's commodity between
 * payer and payee, each naming the other: payer's entry debit pd, credit
 * pc; payee's debit ed, credit ec. */
static void expect_pair(tk *x, const char *type, const char *payer, const char *payee,
                        const char *symbol, uint64_t amount, const char *pd, const char *pc,
                        const char *ed, const char *ec) {
  json_t *es = booked(x, 2);
  json_t *p = fx_books_find(es, payer, type, "payer", symbol);
  json_t *e = fx_books_find(es, payee, type, "payee", symbol);
  fx_books_expect(p, pd, pc, symbol, amount);
  fx_books_expect(e, ed, ec, symbol, amount);
  assert_string_equal(json_string_value(json_object_get(p, "counterparty")), payee);
  assert_string_equal(json_string_value(json_object_get(e, "counterparty")), payer);
  json_decref(es);
}

static const char *open_acct(tk *x, int who, const char *id, const char *asset) {
  return submit(x, who, "ledger.open", "{\"account\":\"%s\",\"asset\":\"%s\",\"type\":\"asset\"}",
                id, asset);
}

static const char *move(tk *x, int who, const char *op, const char *symbol, const char *account,
                        uint64_t amount, const char *ref) {
  return submit(x, who, op,
                "{\"symbol\":\"%s\",\"account\":\"%s\",\"amount\":%" PRIu64 ",\"ref\":\"%s\"}",
                symbol, account, amount, ref);
}

static const char *reserve(tk *x, int who, uint64_t amount, const char *as_of) {
  if (as_of)
    return submit(x, who, "token.reserve",
                  "{\"symbol\":\"EURB\",\"amount\":%" PRIu64
                  ",\"evidence\":\"" EVIDENCE "\",\"as_of\":\"%s\"}",
                  amount, as_of);
  return submit(x, who, "token.reserve",
                "{\"symbol\":\"EURB\",\"amount\":%" PRIu64 ",\"evidence\":\"" EVIDENCE "\"}",
                amount);
}

static const char *ledger_xfer(tk *x, int who, const char *id, const char *debit,
                               const char *credit, uint64_t amount) {
  return submit(x, who, "ledger.transfer",
                "{\"transfers\":[{\"id\":\"%s\",\"debit\":\"%s\",\"credit\":\"%s\",\"amount\":%" PRIu64
                "}]}",
                id, debit, credit, amount);
}

#define DEFINE_EURB "{\"symbol\":\"EURB\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"EUR\"}"
#define DEFINE_PNTS                                                                             \
  "{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,"                                   \
  "\"value\":{\"asset\":\"EUR\",\"num\":1,\"den\":100}}"

/* ---- check ------------------------------------------------------------------ */

static void test_check(void **state) {
  tk *x = *state;
  const fx_check_case cases[] = {
      {"token.define", DEFINE_EURB, "ok"},
      {"token.define", DEFINE_PNTS, "ok"},
      {"token.define", "{\"symbol\":\"EUR\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"EUR\"}",
       "token.bad_symbol"},
      {"token.define", "{\"symbol\":\"TOO-LONG-SYMBOL-X\",\"kind\":\"currency\",\"decimals\":2,"
                       "\"backing\":\"EUR\"}", "token.bad_symbol"},
      {"token.define", "{\"symbol\":\"E/B\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"EUR\"}",
       "token.bad_symbol"},
      {"token.define", "{\"symbol\":\"EURB\",\"kind\":\"coin\",\"decimals\":2,\"backing\":\"EUR\"}",
       "token.bad_kind"},
      {"token.define", "{\"symbol\":\"EURB\",\"kind\":\"currency\",\"decimals\":19,\"backing\":\"EUR\"}",
       "token.bad_decimals"},
      {"token.define", "{\"symbol\":\"EURB\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"eur\"}",
       "token.bad_backing"},
      {"token.define", "{\"symbol\":\"EURB\",\"kind\":\"currency\",\"decimals\":2}", "token.bad_backing"},
      {"token.define", "{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,\"backing\":\"EUR\"}",
       "token.bad_value"},
      {"token.define", "{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,"
                       "\"value\":{\"asset\":\"EUR\",\"num\":0,\"den\":100}}", "token.bad_value"},
      {"token.define", "{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,"
                       "\"value\":{\"asset\":\"PNTS\",\"num\":1,\"den\":1}}", "token.bad_value"},
      {"token.define", "{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,"
                       "\"value\":{\"asset\":\"EUR\",\"num\":1,\"den\":100,\"x\":1}}", "token.bad_field"},
      {"token.define", "{\"symbol\":\"EURB\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"EUR\","
                       "\"name\":\"x\"}", "token.bad_field"},
      {"token.reserve", "{\"symbol\":\"EURB\",\"amount\":0,\"evidence\":\"" EVIDENCE "\"}", "ok"},
      {"token.reserve", "{\"symbol\":\"EURB\",\"amount\":5,\"evidence\":\"" EVIDENCE "\","
                        "\"as_of\":\"2024-06-30T23:59:59Z\"}", "ok"},
      {"token.reserve", "{\"symbol\":\"EURB\",\"amount\":-1,\"evidence\":\"" EVIDENCE "\"}",
       "token.bad_amount"},
      {"token.reserve", "{\"symbol\":\"EURB\",\"amount\":5,\"evidence\":\"ABCD\"}", "token.bad_evidence"},
      {"token.reserve", "{\"symbol\":\"EURB\",\"amount\":5,\"evidence\":\"" EVIDENCE "\","
                        "\"as_of\":\"yesterday\"}", "token.bad_as_of"},
      {"token.issue", "{\"symbol\":\"EURB\",\"account\":\"a\",\"amount\":1,\"ref\":\"r\"}", "ok"},
      {"token.issue", "{\"symbol\":\"EURB\",\"account\":\"a b\",\"amount\":1,\"ref\":\"r\"}",
       "token.bad_account"},
      {"token.redeem", "{\"symbol\":\"EURB\",\"account\":\"a\",\"amount\":0,\"ref\":\"r\"}",
       "token.bad_amount"},
      {"token.redeem", "{\"symbol\":\"EURB\",\"account\":\"a\",\"amount\":1}", "token.bad_ref"},
      {"token.withdraw", "{\"symbol\":\"PNTS\",\"account\":\"a\",\"amount\":1,\"ref\":\"r\",\"to\":1}",
       "token.bad_field"},
  };
  fx_check_cases(&x->f, cases, sizeof cases / sizeof cases[0]);
}

/* ---- define ----------------------------------------------------------------- */

static void test_define(void **state) {
  tk *x = *state;
  assert_string_equal(submit(x, ALICE, "token.define", DEFINE_EURB), "ok");
  assert_string_equal(submit(x, ALICE, "token.define", DEFINE_PNTS), "ok");
  assert_string_equal(submit(x, BOB, "token.define", DEFINE_EURB), "token.exists");
  /* a symbol the asset module issued is taken too */
  assert_string_equal(submit(x, BOB, "asset.issue", "{\"asset\":\"GOLD\",\"decimals\":0,\"supply\":9}"),
                      "ok");
  assert_string_equal(submit(x, BOB, "token.define",
                             "{\"symbol\":\"GOLD\",\"kind\":\"currency\",\"decimals\":0,"
                             "\"backing\":\"EUR\"}"),
                      "token.exists");
  /* a loyalty token's value must be an asset an account may hold */
  assert_string_equal(submit(x, BOB, "token.define",
                             "{\"symbol\":\"P2\",\"kind\":\"loyalty\",\"decimals\":0,"
                             "\"value\":{\"asset\":\"NOPE1\",\"num\":1,\"den\":1}}"),
                      "token.unknown_asset");
  const char *code;
  assert_null(query(x, "token", "def", json_pack("{s:s}", "symbol", "P2"), &code));
  assert_string_equal(code, "token.unknown");

  /* the shared format, exactly */
  char def[1024];
  assert_true(fx_state(&x->f, "token/def/EURB", def, sizeof def));
  assert_string_equal(def, "{\"backing\":\"EUR\",\"decimals\":2,\"height\":1,"
                           "\"issuance_account\":\"token:EURB:issued\",\"issuer\":\"acme\","
                           "\"kind\":\"currency\",\"symbol\":\"EURB\"}");
  assert_true(fx_state(&x->f, "token/def/PNTS", def, sizeof def));
  assert_string_equal(def, "{\"decimals\":0,\"discount_account\":\"token:PNTS:discounts\","
                           "\"height\":2,\"issuance_account\":\"token:PNTS:issued\","
                           "\"issuer\":\"acme\",\"kind\":\"loyalty\",\"symbol\":\"PNTS\","
                           "\"value\":{\"asset\":\"EUR\",\"den\":100,\"num\":1}}");
  json_t *a = query(x, "ledger", "account", json_pack("{s:s}", "account", "token:EURB:issued"), NULL);
  assert_string_equal(json_string_value(json_object_get(a, "owner")), "acme");
  assert_string_equal(json_string_value(json_object_get(a, "asset")), "EURB");
  assert_string_equal(json_string_value(json_object_get(a, "type")), "liability");
  assert_string_equal(json_string_value(json_object_get(a, "controller")), "token");
  json_decref(a);
  a = query(x, "ledger", "account", json_pack("{s:s}", "account", "token:PNTS:discounts"), NULL);
  assert_string_equal(json_string_value(json_object_get(a, "asset")), "EUR");
  assert_string_equal(json_string_value(json_object_get(a, "rule")), "debits_must_not_exceed_credits");
  assert_string_equal(json_string_value(json_object_get(a, "controller")), "token");
  json_decref(a);

  /* listed, all and by issuer */
  json_t *l = query(x, "token", "tokens", json_object(), NULL);
  assert_int_equal(json_array_size(json_object_get(l, "tokens")), 2);
  json_decref(l);
  l = query(x, "token", "tokens", json_pack("{s:s, s:s}", "issuer", "acme", "limit", "1"), NULL);
  assert_int_equal(json_array_size(json_object_get(l, "tokens")), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(l, "tokens"), 0),
                                                        "symbol")),
                      "EURB");
  assert_string_equal(json_string_value(json_object_get(l, "next")), "EURB");
  json_decref(l);
  l = query(x, "token", "tokens", json_pack("{s:s}", "issuer", fx_hexkey(&x->f.bob.pub)), NULL);
  assert_int_equal(json_array_size(json_object_get(l, "tokens")), 0);
  json_decref(l);
  assert_null(query(x, "token", "tokens", json_pack("{s:s}", "issuer", "A/B"), &code));
  assert_string_equal(code, "token.bad_issuer");

  /* holders' accounts get the ledger's rule; no other rule is allowed */
  assert_string_equal(open_acct(x, BOB, "bob:eurb", "EURB"), "ok");
  a = query(x, "ledger", "account", json_pack("{s:s}", "account", "bob:eurb"), NULL);
  assert_string_equal(json_string_value(json_object_get(a, "rule")), "debits_must_not_exceed_credits");
  json_decref(a);
  assert_string_equal(submit(x, BOB, "ledger.open",
                             "{\"account\":\"bob:eurb2\",\"asset\":\"EURB\",\"type\":\"asset\","
                             "\"rule\":\"credits_must_not_exceed_debits\"}"),
                      "ledger.token_rule");
}

/* ---- currency tokens -------------------------------------------------------- */

static const char *const eurb_held[] = {"bob:eurb", "carol:eurb", NULL};

static void test_currency(void **state) {
  tk *x = *state;
  assert_string_equal(submit(x, ALICE, "token.define", DEFINE_EURB), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:eurb", "EURB"), "ok");
  assert_string_equal(open_acct(x, CAROL, "carol:eurb", "EURB"), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:eur", "EUR"), "ok");

  /* nothing attested: nothing may be issued */
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eurb", 1, "i0"), "token.unbacked");
  expect_backing(x, 0, 0, 0, 1);
  assert_string_equal(reserve(x, BOB, 1000, NULL), "token.not_issuer");
  assert_string_equal(reserve(x, ALICE, 1000, "2024-06-30"), "ok");
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eurb", 600, "i1"), "ok");
  /* the bank (payer) and the holder book the issue */
  char bob[HANSE_HASH_HEX_BYTES], carol[HANSE_HASH_HEX_BYTES];
  fx_hex(bob, &x->f.bob.pub);
  fx_hex(carol, &x->f.carol.pub);
  expect_pair(x, "issue", "acme", bob, "EURB", 600, "assets:reserves", "liabilities:tokens-issued",
              "assets:cash", "assets:bank-deposits");
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eurb", 401, "i2"), "token.unbacked");
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eurb", 400, "i2"), "ok");
  assert_int_equal(balance(x, "bob:eurb"), 1000);
  expect_backing(x, 1000, 0, 1000, 1);
  /* the same request again changes nothing; the same ref with another
   * amount is a conflict */
  char before[1024], after[1024];
  assert_true(fx_state(&x->f, "ledger/bal/token:EURB:issued", before, sizeof before));
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eurb", 400, "i2"), "ok");
  assert_true(fx_state(&x->f, "ledger/bal/token:EURB:issued", after, sizeof after));
  assert_string_equal(before, after);
  json_decref(booked(x, 0)); /* and books nothing again */
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eurb", 300, "i2"),
                      "token.id_conflict");

  /* only the issuer issues, into an existing account of the token */
  assert_string_equal(move(x, BOB, "token.issue", "EURB", "bob:eurb", 1, "b1"), "token.not_issuer");
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "nobody", 1, "i3"), "token.no_account");
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eur", 1, "i3"),
                      "token.asset_mismatch");
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "token:EURB:issued", 1, "i3"),
                      "token.own_account");
  assert_string_equal(move(x, ALICE, "token.issue", "NOPE", "bob:eurb", 1, "i3"), "token.unknown");

  /* paid in the token: a plain ledger transfer between holders */
  assert_string_equal(ledger_xfer(x, BOB, "pay-1", "bob:eurb", "carol:eurb", 250), "ok");
  expect_pair(x, "payment", bob, carol, "EURB", 250, "liabilities:payables", "assets:cash",
              "assets:cash", "assets:receivables");
  assert_string_equal(ledger_xfer(x, BOB, "pay-2", "bob:eurb", "carol:eurb", 751),
                      "ledger.exceeds_credits");
  json_t *t = query(x, "ledger", "transfer", json_pack("{s:s}", "id", "pay-1"), NULL);
  assert_string_equal(json_string_value(json_object_get(t, "asset")), "EURB");
  assert_string_equal(json_string_value(json_object_get(t, "status")), "posted");
  json_decref(t);

  /* only the holder redeems, and not beyond its balance */
  assert_string_equal(move(x, BOB, "token.redeem", "EURB", "carol:eurb", 50, "r1"), "token.not_owner");
  assert_string_equal(move(x, ALICE, "token.redeem", "EURB", "carol:eurb", 50, "r1"),
                      "token.not_owner");
  assert_string_equal(move(x, CAROL, "token.redeem", "EURB", "carol:eurb", 251, "r1"),
                      "token.exceeds_credits");
  json_decref(booked(x, 0));
  assert_string_equal(move(x, CAROL, "token.redeem", "EURB", "carol:eurb", 250, "r1"), "ok");
  /* the holder (payer) hands the tokens back, the bank pays out */
  expect_pair(x, "redeem", carol, "acme", "EURB", 250, "assets:bank-deposits", "assets:cash",
              "liabilities:tokens-issued", "assets:reserves");
  assert_int_equal(balance(x, "carol:eurb"), 0);
  expect_backing(x, 1000, 250, 1000, 1);
  invariant(x, "EURB", eurb_held);
  /* every book balances; the bank's books owe what is outstanding and
   * each holder's cash in EURB is its account's balance */
  json_t *tb = fx_books_trial(&x->f, "acme");
  assert_int_equal(fx_books_balance(tb, "liabilities:tokens-issued", "EURB"), -750);
  assert_int_equal(fx_books_balance(tb, "assets:reserves", "EURB"), 750);
  json_decref(tb);
  tb = fx_books_trial(&x->f, bob);
  assert_int_equal(fx_books_balance(tb, "assets:cash", "EURB"), balance(x, "bob:eurb"));
  json_decref(tb);
  tb = fx_books_trial(&x->f, carol);
  assert_int_equal(fx_books_balance(tb, "assets:cash", "EURB"), balance(x, "carol:eurb"));
  json_decref(tb);

  /* the bank pays out and attests the lower reserve; then one too low */
  assert_string_equal(reserve(x, ALICE, 750, "2024-07-01"), "ok");
  expect_backing(x, 1000, 250, 750, 1);
  assert_string_equal(move(x, ALICE, "token.issue", "EURB", "bob:eurb", 1, "i4"), "token.unbacked");
  assert_string_equal(reserve(x, ALICE, 700, NULL), "ok");
  expect_backing(x, 1000, 250, 700, 0);
  json_t *b = query(x, "token", "backing", json_pack("{s:s, s:s}", "symbol", "EURB", "limit", "2"),
                    NULL);
  json_t *att = json_object_get(b, "attestations");
  assert_int_equal(json_array_size(att), 2);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(att, 0), "seq")), 3);
  assert_int_equal(u64_of(json_array_get(att, 0), "reserve"), 700);
  assert_null(json_object_get(json_array_get(att, 0), "as_of"));
  assert_string_equal(json_string_value(json_object_get(json_array_get(att, 1), "as_of")),
                      "2024-07-01");
  assert_string_equal(json_string_value(json_object_get(json_array_get(att, 1), "evidence")),
                      EVIDENCE);
  assert_string_equal(json_string_value(json_object_get(json_array_get(att, 1), "by")),
                      fx_hexkey(&x->f.alice.pub));
  assert_string_equal(json_string_value(json_object_get(b, "next")), "2");
  json_decref(b);
  b = query(x, "token", "backing", json_pack("{s:s, s:s}", "symbol", "EURB", "before", "2"), NULL);
  att = json_object_get(b, "attestations");
  assert_int_equal(json_array_size(att), 1);
  assert_int_equal(u64_of(json_array_get(att, 0), "reserve"), 1000);
  assert_null(json_object_get(b, "next"));
  json_decref(b);

  /* the history: issues and redeems, oldest first */
  json_t *h = query(x, "token", "history", json_pack("{s:s}", "symbol", "EURB"), NULL);
  json_t *rows = json_object_get(h, "history");
  assert_int_equal(json_array_size(rows), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "op")), "issue");
  assert_int_equal(u64_of(json_array_get(rows, 1), "amount"), 400);
  assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 2), "op")), "redeem");
  assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 2), "owner")),
                      fx_hexkey(&x->f.carol.pub));
  json_decref(h);
  const char *code;
  assert_null(query(x, "token", "history", json_pack("{s:s}", "symbol", "NOPE"), &code));
  assert_string_equal(code, "token.unknown");
  assert_null(query(x, "token", "backing", json_pack("{s:s, s:s}", "symbol", "EURB", "before", "x"),
                    &code));
  assert_string_equal(code, "token.bad_before");
  invariant(x, "EURB", eurb_held);
}

/* ---- the token's own accounts are its alone ---------------------------------- */

static void test_controlled(void **state) {
  tk *x = *state;
  assert_string_equal(submit(x, ALICE, "token.define", DEFINE_EURB), "ok");
  assert_string_equal(submit(x, ALICE, "token.define", DEFINE_PNTS), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:eurb", "EURB"), "ok");
  assert_string_equal(open_acct(x, ALICE, "acme:eur", "EUR"), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:eur", "EUR"), "ok");
  /* not even the issuer, which owns them, moves them with the ledger */
  assert_string_equal(ledger_xfer(x, ALICE, "mint", "token:EURB:issued", "bob:eurb", 5),
                      "ledger.controlled");
  assert_string_equal(ledger_xfer(x, BOB, "mint", "token:EURB:issued", "bob:eurb", 5),
                      "ledger.controlled");
  assert_int_equal(balance(x, "bob:eurb"), 0);

  /* the platform funds its discounts with an ordinary transfer ... */
  assert_string_equal(ledger_xfer(x, ALICE, "fund-1", "acme:eur", "token:PNTS:discounts", 5000), "ok");
  json_t *b = backing(x, "PNTS");
  assert_int_equal(u64_of(b, "discount_funds"), 5000);
  assert_null(json_object_get(b, "reserve"));
  json_decref(b);
  /* ... which nobody takes out with the ledger */
  assert_string_equal(ledger_xfer(x, ALICE, "take", "token:PNTS:discounts", "acme:eur", 1),
                      "ledger.controlled");
  assert_string_equal(ledger_xfer(x, BOB, "take", "token:PNTS:discounts", "bob:eur", 1),
                      "ledger.controlled");
  /* the issuer withdraws unspent funds to its own account, no more than
   * is there */
  assert_string_equal(move(x, BOB, "token.withdraw", "PNTS", "bob:eur", 10, "w1"), "token.not_issuer");
  assert_string_equal(move(x, ALICE, "token.withdraw", "PNTS", "bob:eur", 10, "w1"), "token.not_owner");
  assert_string_equal(move(x, ALICE, "token.withdraw", "EURB", "acme:eur", 10, "w1"),
                      "token.not_loyalty");
  assert_string_equal(move(x, ALICE, "token.withdraw", "PNTS", "acme:eur", 2000, "w1"), "ok");
  assert_string_equal(move(x, ALICE, "token.withdraw", "PNTS", "acme:eur", 3001, "w2"),
                      "token.exceeds_credits");
  assert_int_equal(balance(x, "token:PNTS:discounts"), 3000);
  assert_int_equal(balance(x, "acme:eur"), -3000);
  /* a loyalty token has no reserve */
  assert_string_equal(submit(x, ALICE, "token.reserve",
                             "{\"symbol\":\"PNTS\",\"amount\":1,\"evidence\":\"" EVIDENCE "\"}"),
                      "token.not_currency");
}

/* ---- loyalty tokens ----------------------------------------------------------- */

static void test_loyalty(void **state) {
  tk *x = *state;
  assert_string_equal(submit(x, ALICE, "token.define", DEFINE_PNTS), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:pnts", "PNTS"), "ok");
  assert_string_equal(open_acct(x, CAROL, "carol:pnts", "PNTS"), "ok");
  /* awarded without a reserve, by the platform only */
  assert_string_equal(move(x, ALICE, "token.issue", "PNTS", "bob:pnts", 120, "order-1"), "ok");
  /* booked in the platform's books only: an expense and a liability */
  char bob[HANSE_HASH_HEX_BYTES], carol[HANSE_HASH_HEX_BYTES];
  fx_hex(bob, &x->f.bob.pub);
  fx_hex(carol, &x->f.carol.pub);
  json_t *es = booked(x, 1);
  json_t *e = fx_books_find(es, "acme", "loyalty", "payer", "PNTS");
  fx_books_expect(e, "expenses:loyalty", "liabilities:loyalty-tokens", "PNTS", 120);
  assert_string_equal(json_string_value(json_object_get(e, "counterparty")), bob);
  assert_string_equal(json_string_value(json_object_get(e, "ref")), "order-1");
  json_decref(es);
  assert_string_equal(move(x, BOB, "token.issue", "PNTS", "bob:pnts", 120, "order-1"),
                      "token.not_issuer");
  assert_string_equal(ledger_xfer(x, BOB, "gift", "bob:pnts", "carol:pnts", 20), "ok");
  assert_string_equal(move(x, CAROL, "token.redeem", "PNTS", "carol:pnts", 20, "back"), "ok");
  es = booked(x, 1); /* handed back: the platform's liability released */
  e = fx_books_find(es, "acme", "loyalty", "payee", "PNTS");
  fx_books_expect(e, "liabilities:loyalty-tokens", "expenses:loyalty", "PNTS", 20);
  assert_string_equal(json_string_value(json_object_get(e, "counterparty")), carol);
  json_decref(es);
  json_t *b = backing(x, "PNTS");
  assert_int_equal(u64_of(b, "issued"), 120);
  assert_int_equal(u64_of(b, "redeemed"), 20);
  assert_int_equal(u64_of(b, "outstanding"), 100);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "value"), "den")), 100);
  json_decref(b);
  static const char *const held[] = {"bob:pnts", "carol:pnts", NULL};
  invariant(x, "PNTS", held);
  /* the platform's books owe the points outstanding */
  json_t *tb = fx_books_trial(&x->f, "acme");
  assert_int_equal(fx_books_balance(tb, "liabilities:loyalty-tokens", "PNTS"), -100);
  assert_int_equal(fx_books_balance(tb, "expenses:loyalty", "PNTS"), 100);
  json_decref(tb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_define, setup, teardown),
      cmocka_unit_test_setup_teardown(test_currency, setup, teardown),
      cmocka_unit_test_setup_teardown(test_controlled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loyalty, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
