/*
 * test_books.c -- every enterprise's books, kept by the chain.
 *
 * Three enterprises: acme (alice's organisation), bob's key and carol's
 * key (keys the member registry does not know own their own books).
 *
 * check: every malformed books payload has its own code. Automatic
 * entries: a ledger transfer between two enterprises books both sides,
 * each referencing the same chain transaction, with the default rule's
 * accounts of each business type (payment, fee, duty, refund) and role;
 * a transfer inside one enterprise books nothing; an enterprise's own
 * rule overrides the default. Two-phase: a pending transfer books
 * nothing until posted, then the posted amount; void and expiry book
 * nothing. A failing linked chain leaves no entry (nor entry number).
 * books.entry (balanced per asset, or books.unbalanced), books.reverse
 * and its refusals, books.chart names, and the trial balance with a
 * period. And a randomized workload with two fixed seeds, after which
 * every enterprise's trial balance has debits equal to credits per asset
 * (recomputed here from the journal too), the ledger's per-asset
 * invariant holds, each posted transfer between enterprises has exactly
 * one entry of its amount on each side, and each enterprise's cash in
 * its books moved exactly as its ledger accounts did. Every chain is
 * audited at the end (hanse verify's re-execution).
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
#include "modules/books/books.h"

enum { ACME, BOB, CAROL, WHO_N };

typedef struct bx {
  fx_chain f;
  uint64_t seq[WHO_N];
  hanse_receipt last; /* the receipt of the last submit */
  char owner[WHO_N][HANSE_HASH_HEX_BYTES];
  char txhex[HANSE_HASH_HEX_BYTES]; /* the last submit's transaction id */
} bx;

static const hanse_keypair *key_of(bx *x, int who) {
  return who == ACME ? &x->f.alice : who == BOB ? &x->f.bob : &x->f.carol;
}

static const char *submit(bx *x, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *submit(bx *x, int who, const char *kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fx_propose_vtx(&x->f, key_of(x, who), kind, ++x->seq[who], &x->last, fmt, ap);
  va_end(ap);
  hanse_hex_encode(x->txhex, x->last.id.b, HANSE_HASH_BYTES);
  return x->last.code;
}

static int setup(void **state) {
  bx *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  fx_chain_setup(&x->f, NULL);
  snprintf(x->owner[ACME], sizeof x->owner[ACME], "acme");
  fx_hex(x->owner[BOB], &x->f.bob.pub);
  fx_hex(x->owner[CAROL], &x->f.carol.pub);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  bx *x = *state;
  fx_chain_audit(&x->f);
  fx_chain_teardown(&x->f);
  free(x);
  return 0;
}

/* A query of `module` with params (consumed); NULL and *code on rejection. */
static json_t *mquery(bx *x, const char *module, const char *name, json_t *params,
                      const char **code) {
  const char *c;
  json_t *res = fx_query_code(&x->f, module, name, params, &c);
  if (code) *code = c;
  if (strcmp(c, "ok") == 0 && res == NULL) fail_msg("%s.%s answered nothing", module, name);
  return res;
}

static json_t *bquery(bx *x, const char *name, json_t *params, const char **code) {
  return mquery(x, "books", name, params, code);
}

static const char *str(json_t *o, const char *f) { return json_string_value(json_object_get(o, f)); }

static uint64_t u64_of(json_t *o, const char *field) {
  const char *s = str(o, field);
  if (s == NULL) fail_msg("no decimal field %s", field);
  return strtoull(s, NULL, 10);
}

static int64_t i64_of(json_t *o, const char *field) {
  const char *s = str(o, field);
  if (s == NULL) fail_msg("no decimal field %s", field);
  return strtoll(s, NULL, 10);
}

/* Every entry of an owner's journal, through pages of 7. */
static json_t *journal(bx *x, int who) {
  json_t *all = json_array(), *next = NULL;
  for (;;) {
    json_t *p = json_pack("{s:s, s:s}", "owner", x->owner[who], "limit", "7");
    if (next) json_object_set_new(p, "after", next);
    json_t *r = bquery(x, "journal", p, NULL);
    assert_non_null(r);
    json_array_extend(all, json_object_get(r, "entries"));
    next = json_incref(json_object_get(r, "next"));
    json_decref(r);
    if (next == NULL) return all;
  }
}

static size_t journal_len(bx *x, int who) {
  json_t *j = journal(x, who);
  size_t n = json_array_size(j);
  json_decref(j);
  return n;
}

static json_t *entry(bx *x, int who, int seq, const char **code) {
  char s[16];
  snprintf(s, sizeof s, "%d", seq);
  return bquery(x, "entry", json_pack("{s:s, s:s}", "owner", x->owner[who], "seq", s), code);
}

static void expect_line(json_t *e, size_t i, const char *account, const char *asset,
                        const char *side, uint64_t amount) {
  json_t *l = json_array_get(json_object_get(e, "lines"), i);
  if (l == NULL) fail_msg("no line %zu", i);
  assert_string_equal(str(l, "account"), account);
  assert_string_equal(str(l, "asset"), asset);
  assert_int_equal(u64_of(l, side), amount);
  assert_null(json_object_get(l, strcmp(side, "debit") == 0 ? "credit" : "debit"));
}

static const char *open_acct(bx *x, int who, const char *id, const char *asset) {
  return submit(x, who, "ledger.open", "{\"account\":\"%s\",\"asset\":\"%s\",\"type\":\"asset\"}",
                id, asset);
}

static const char *xfer(bx *x, int who, const char *id, const char *debit, const char *credit,
                        int amount, const char *extra) {
  return submit(x, who, "ledger.transfer",
                "{\"transfers\":[{\"id\":\"%s\",\"debit\":\"%s\",\"credit\":\"%s\",\"amount\":%d%s}]}",
                id, debit, credit, amount, extra ? extra : "");
}

static void open_basic(bx *x) {
  assert_string_equal(open_acct(x, ACME, "acme:cash", "EUR"), "ok");
  assert_string_equal(open_acct(x, ACME, "acme:bank", "EUR"), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:cash", "EUR"), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:usd", "USD"), "ok");
  assert_string_equal(open_acct(x, CAROL, "carol:cash", "EUR"), "ok");
}

/* ---- check -------------------------------------------------------------- */

static const char *check(bx *x, const char *kind, const char *payload) {
  return fx_check(&x->f, kind, payload);
}

#define L_D(acct, n) "{\"account\":\"" acct "\",\"asset\":\"EUR\",\"debit\":" #n "}"
#define L_C(acct, n) "{\"account\":\"" acct "\",\"asset\":\"EUR\",\"credit\":" #n "}"
#define ENTRY(lines) "{\"lines\":[" lines "]}"

static void test_check(void **state) {
  bx *x = *state;
  const fx_check_case cases[] = {
      {"books.chart", "{\"accounts\":[{\"account\":\"assets:cash\"},"
                      "{\"account\":\"expenses:travel:air-2\",\"name\":\"Flights (é)\"}]}", "ok"},
      {"books.chart", "{\"accounts\":[]}", "books.bad_accounts"},
      {"books.chart", "{\"accounts\":{}}", "books.bad_accounts"},
      {"books.chart", "{\"accounts\":[5]}", "books.bad_field"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets:cash\",\"nam\":\"x\"}]}", "books.bad_field"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets\"}],\"x\":1}", "books.bad_field"},
      {"books.chart", "{\"accounts\":[{\"account\":\"cash\"}]}", "books.bad_account"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets:Cash\"}]}", "books.bad_account"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets::cash\"}]}", "books.bad_account"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets:cash:\"}]}", "books.bad_account"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assetsx:cash\"}]}", "books.bad_account"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets cash\"}]}", "books.bad_account"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets:cash\",\"name\":\"\"}]}", "books.bad_name"},
      {"books.chart", "{\"accounts\":[{\"account\":\"assets:cash\",\"name\":\"a\\nb\"}]}", "books.bad_name"},
      {"books.rules", "{\"rules\":[{\"type\":\"payment\",\"role\":\"payer\",\"debit\":\"expenses:rent\","
                      "\"credit\":\"assets:bank\"}]}", "ok"},
      {"books.rules", "{\"rules\":[{\"type\":\"conversion\",\"role\":\"payee\",\"debit\":\"assets:fx\","
                      "\"credit\":\"equity:fx\"}]}", "ok"},
      {"books.rules", "{\"rules\":[]}", "books.bad_rules"},
      {"books.rules", "{\"rules\":[{\"type\":\"gift\",\"role\":\"payer\",\"debit\":\"expenses:a\","
                      "\"credit\":\"assets:b\"}]}", "books.bad_type"},
      {"books.rules", "{\"rules\":[{\"type\":\"payment\",\"role\":\"buyer\",\"debit\":\"expenses:a\","
                      "\"credit\":\"assets:b\"}]}", "books.bad_role"},
      {"books.rules", "{\"rules\":[{\"type\":\"payment\",\"role\":\"payer\",\"debit\":\"rent\","
                      "\"credit\":\"assets:b\"}]}", "books.bad_account"},
      {"books.rules", "{\"rules\":[{\"type\":\"payment\",\"role\":\"payer\",\"debit\":\"assets:b\","
                      "\"credit\":\"assets:b\"}]}", "books.same_account"},
      {"books.rules", "{\"rules\":[{\"type\":\"payment\",\"role\":\"payer\",\"debit\":\"assets:a\","
                      "\"credit\":\"assets:b\",\"x\":1}]}", "books.bad_field"},
      {"books.entry", ENTRY(L_D("expenses:office", 5) "," L_C("assets:cash", 5)), "ok"},
      {"books.entry", "{\"lines\":[" L_D("expenses:office", 5) "," L_C("assets:cash", 5)
                      "],\"memo\":\"stamps\",\"counterparty\":\"post-office\",\"ref\":\"r-1\"}", "ok"},
      /* balanced per asset, two assets */
      {"books.entry", ENTRY(L_D("assets:a", 9) "," L_C("assets:b", 9) ","
                            "{\"account\":\"assets:a\",\"asset\":\"USD\",\"credit\":4},"
                            "{\"account\":\"assets:b\",\"asset\":\"USD\",\"debit\":4}"), "ok"},
      /* the largest amounts balance exactly, past 2^64 */
      {"books.entry", ENTRY(L_D("assets:a", 9223372036854775807) "," L_D("assets:a", 9223372036854775807) ","
                            L_D("assets:a", 2) "," L_C("assets:b", 9223372036854775807) ","
                            L_C("assets:b", 9223372036854775807) "," L_C("assets:b", 2)), "ok"},
      {"books.entry", ENTRY(L_D("assets:a", 9223372036854775807) "," L_D("assets:a", 9223372036854775807) ","
                            L_D("assets:a", 2) "," L_C("assets:b", 9223372036854775807) ","
                            L_C("assets:b", 9223372036854775807) "," L_C("assets:b", 1)), "books.unbalanced"},
      {"books.entry", ENTRY(L_D("expenses:office", 5) "," L_C("assets:cash", 4)), "books.unbalanced"},
      {"books.entry", ENTRY(L_D("assets:a", 9) "," L_C("assets:b", 9) ","
                            "{\"account\":\"assets:a\",\"asset\":\"USD\",\"credit\":4},"
                            "{\"account\":\"assets:b\",\"asset\":\"JPY\",\"debit\":4}"), "books.unbalanced"},
      {"books.entry", ENTRY(L_D("expenses:office", 5)), "books.bad_lines"},
      {"books.entry", "{\"lines\":[]}", "books.bad_lines"},
      {"books.entry", "{\"memo\":\"x\"}", "books.bad_lines"},
      {"books.entry", ENTRY(L_D("expenses:office", 5) "," L_C("cash", 5)), "books.bad_account"},
      {"books.entry", ENTRY(L_D("expenses:office", 0) "," L_C("assets:cash", 0)), "books.bad_amount"},
      {"books.entry", ENTRY(L_D("expenses:office", -5) "," L_C("assets:cash", -5)), "books.bad_amount"},
      {"books.entry", ENTRY(L_D("expenses:office", "5") "," L_C("assets:cash", "5")), "books.bad_amount"},
      {"books.entry", ENTRY("{\"account\":\"assets:a\",\"asset\":\"EUR\",\"debit\":5,\"credit\":5},"
                            L_C("assets:cash", 5)), "books.bad_line"},
      {"books.entry", ENTRY("{\"account\":\"assets:a\",\"asset\":\"EUR\"}," L_C("assets:cash", 5)),
       "books.bad_line"},
      {"books.entry", ENTRY("{\"account\":\"assets:a\",\"asset\":\"E R\",\"debit\":5}," L_C("assets:cash", 5)),
       "books.bad_asset"},
      {"books.entry", ENTRY("{\"account\":\"assets:a\",\"asset\":\"EUR\",\"debit\":5,\"x\":1},"
                            L_C("assets:cash", 5)), "books.bad_field"},
      {"books.entry", "{\"lines\":[" L_D("assets:a", 5) "," L_C("assets:b", 5) "],\"memo\":\"\"}", "books.bad_memo"},
      {"books.entry", "{\"lines\":[" L_D("assets:a", 5) "," L_C("assets:b", 5) "],\"memo\":\"a\\tb\"}",
       "books.bad_memo"},
      {"books.entry", "{\"lines\":[" L_D("assets:a", 5) "," L_C("assets:b", 5) "],\"counterparty\":\"ACME\"}",
       "books.bad_counterparty"},
      {"books.entry", "{\"lines\":[" L_D("assets:a", 5) "," L_C("assets:b", 5) "],\"ref\":\"a/b\"}", "books.bad_ref"},
      {"books.entry", "{\"lines\":[" L_D("assets:a", 5) "," L_C("assets:b", 5) "],\"date\":1}", "books.bad_field"},
      {"books.reverse", "{\"seq\":1}", "ok"},
      {"books.reverse", "{\"seq\":1,\"memo\":\"typo in amount\"}", "ok"},
      {"books.reverse", "{\"seq\":0}", "books.bad_seq"},
      {"books.reverse", "{\"seq\":\"1\"}", "books.bad_seq"},
      {"books.reverse", "{\"seq\":1000000000000}", "books.bad_seq"},
      {"books.reverse", "{}", "books.bad_seq"},
      {"books.reverse", "{\"seq\":1,\"why\":\"x\"}", "books.bad_field"},
      {"books.reverse", "{\"seq\":1,\"memo\":5}", "books.bad_memo"},
      {"books.burn", "{}", "tx.unknown_kind"},
  };
  fx_check_cases(&x->f, cases, sizeof cases / sizeof cases[0]);
  /* 65 lines, and an account name of 129 bytes */
  char *big = malloc(HANSE_PAYLOAD_MAX);
  assert_non_null(big);
  size_t o = (size_t)snprintf(big, HANSE_PAYLOAD_MAX, "{\"lines\":[");
  for (int i = 0; i < 65; i++)
    o += (size_t)snprintf(big + o, HANSE_PAYLOAD_MAX - o, "%s" L_D("assets:a", 1), i ? "," : "");
  snprintf(big + o, HANSE_PAYLOAD_MAX - o, "]}");
  assert_string_equal(check(x, "books.entry", big), "books.bad_lines");
  char name[140];
  memset(name, 'a', sizeof name);
  memcpy(name, "assets:", 7);
  name[128] = 0;
  snprintf(big, HANSE_PAYLOAD_MAX, "{\"accounts\":[{\"account\":\"%s\"}]}", name);
  assert_string_equal(check(x, "books.chart", big), "ok");
  name[128] = 'a';
  name[129] = 0;
  snprintf(big, HANSE_PAYLOAD_MAX, "{\"accounts\":[{\"account\":\"%s\"}]}", name);
  assert_string_equal(check(x, "books.chart", big), "books.bad_account");
  free(big);
}

/* ---- automatic entries ---------------------------------------------------- */

/* The default rules, written out here independently of books_rules.c. */
static const struct {
  const char *business, *payer_debit, *payer_credit, *payee_debit, *payee_credit;
} expected[] = {
    {"payment", "liabilities:payables", "assets:cash", "assets:cash", "assets:receivables"},
    {"fee", "expenses:fees", "assets:cash", "assets:cash", "revenue:fees"},
    {"duty", "expenses:duties", "assets:cash", "assets:cash", "revenue:duties"},
    {"refund", "revenue:refunds", "assets:cash", "assets:cash", "expenses:purchases"},
};

/* The entries of the last transaction: two, one per side; *payer and
 * *payee borrowed from *all (decref it). */
static void tx_entries(bx *x, int payer_who, int payee_who, json_t **all, json_t **payer,
                       json_t **payee) {
  *all = bquery(x, "tx", json_pack("{s:s}", "tx", x->txhex), NULL);
  assert_non_null(*all);
  assert_string_equal(str(*all, "tx"), x->txhex);
  json_t *list = json_object_get(*all, "entries");
  assert_int_equal(json_array_size(list), 2);
  *payer = *payee = NULL;
  for (size_t i = 0; i < 2; i++) {
    json_t *e = json_array_get(list, i);
    if (strcmp(str(e, "owner"), x->owner[payer_who]) == 0) *payer = e;
    if (strcmp(str(e, "owner"), x->owner[payee_who]) == 0) *payee = e;
  }
  assert_non_null(*payer);
  assert_non_null(*payee);
}

static void test_transfer_books_both(void **state) {
  bx *x = *state;
  open_basic(x);
  char alice[HANSE_HASH_HEX_BYTES];
  fx_hex(alice, &x->f.alice.pub);
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    char id[16], extra[64];
    snprintf(id, sizeof id, "t-%s", expected[i].business);
    /* payment without "business": the default; one with its own ref */
    snprintf(extra, sizeof extra, "%s%s%s%s", i ? ",\"business\":\"" : "",
             i ? expected[i].business : "", i ? "\"" : "", i == 2 ? ",\"ref\":\"customs-77\"" : "");
    uint64_t time = x->f.time_ms;
    int amount = 100 + (int)i;
    assert_string_equal(xfer(x, ACME, id, "acme:cash", "bob:cash", amount, extra), "ok");
    json_t *all, *payer, *payee;
    tx_entries(x, ACME, BOB, &all, &payer, &payee);
    const char *ref = i == 2 ? "customs-77" : id;
    assert_string_equal(str(payer, "type"), expected[i].business);
    assert_string_equal(str(payer, "role"), "payer");
    assert_string_equal(str(payer, "counterparty"), x->owner[BOB]);
    assert_string_equal(str(payer, "ref"), ref);
    assert_string_equal(str(payer, "tx"), x->txhex);
    assert_string_equal(str(payer, "by"), alice);
    assert_int_equal(json_integer_value(json_object_get(payer, "time")), time);
    assert_int_equal(json_integer_value(json_object_get(payer, "seq")), i + 1);
    assert_true(json_integer_value(json_object_get(payer, "height")) > 0);
    expect_line(payer, 0, expected[i].payer_debit, "EUR", "debit", (uint64_t)amount);
    expect_line(payer, 1, expected[i].payer_credit, "EUR", "credit", (uint64_t)amount);
    assert_string_equal(str(payee, "type"), expected[i].business);
    assert_string_equal(str(payee, "role"), "payee");
    assert_string_equal(str(payee, "counterparty"), "acme");
    assert_string_equal(str(payee, "ref"), ref);
    assert_string_equal(str(payee, "tx"), x->txhex);
    assert_string_equal(str(payee, "by"), alice);
    assert_int_equal(json_integer_value(json_object_get(payee, "seq")), i + 1);
    expect_line(payee, 0, expected[i].payee_debit, "EUR", "debit", (uint64_t)amount);
    expect_line(payee, 1, expected[i].payee_credit, "EUR", "credit", (uint64_t)amount);
    json_decref(all);
  }
  /* a sale is booked by the module that records it, not a plain transfer */
  assert_string_equal(xfer(x, ACME, "t-sale", "acme:cash", "bob:cash", 1, ",\"business\":\"sale\""),
                      "ledger.bad_business");
  /* inside one enterprise: nothing */
  assert_string_equal(xfer(x, ACME, "t-own", "acme:cash", "acme:bank", 50, NULL), "ok");
  json_t *r = bquery(x, "tx", json_pack("{s:s}", "tx", x->txhex), NULL);
  assert_int_equal(json_array_size(json_object_get(r, "entries")), 0);
  json_decref(r);
  assert_int_equal(journal_len(x, ACME), 4);
  assert_int_equal(journal_len(x, BOB), 4);
  assert_int_equal(journal_len(x, CAROL), 0);
  /* anyone may credit: bob pays carol; the payer's key signs both */
  assert_string_equal(xfer(x, BOB, "t-bc", "bob:cash", "carol:cash", 9, NULL), "ok");
  json_t *all, *payer, *payee;
  tx_entries(x, BOB, CAROL, &all, &payer, &payee);
  assert_string_equal(str(payee, "by"), x->owner[BOB]);
  assert_int_equal(json_integer_value(json_object_get(payee, "seq")), 1);
  json_decref(all);
  /* the chart: the accounts the entries named, opened on first use */
  r = bquery(x, "chart", json_pack("{s:s}", "owner", x->owner[CAROL]), NULL);
  json_t *accts = json_object_get(r, "accounts");
  assert_int_equal(json_array_size(accts), 2);
  assert_string_equal(str(json_array_get(accts, 0), "account"), "assets:cash");
  assert_string_equal(str(json_array_get(accts, 0), "type"), "assets");
  assert_string_equal(str(json_array_get(accts, 1), "account"), "assets:receivables");
  json_decref(r);
  /* queries' bad input */
  const char *code;
  assert_null(bquery(x, "tx", json_pack("{s:s}", "tx", "abc"), &code));
  assert_string_equal(code, "books.bad_tx");
  assert_null(bquery(x, "journal", json_pack("{s:s}", "owner", "ACME"), &code));
  assert_string_equal(code, "books.bad_owner");
  assert_null(bquery(x, "journal", json_pack("{s:s, s:s}", "owner", "acme", "after", "x"), &code));
  assert_string_equal(code, "books.bad_seq");
  assert_null(entry(x, ACME, 99, &code));
  assert_string_equal(code, "books.no_entry");
  assert_null(bquery(x, "entry", json_pack("{s:s, s:s}", "owner", "acme", "seq", "0"), &code));
  assert_string_equal(code, "books.bad_seq");
}

static void test_own_rule(void **state) {
  bx *x = *state;
  open_basic(x);
  assert_string_equal(submit(x, ACME, "books.rules",
                             "{\"rules\":[{\"type\":\"payment\",\"role\":\"payer\","
                             "\"debit\":\"expenses:rent\",\"credit\":\"assets:bank:eur\"}]}"),
                      "ok");
  assert_string_equal(xfer(x, ACME, "rent-1", "acme:cash", "bob:cash", 700, NULL), "ok");
  json_t *all, *payer, *payee;
  tx_entries(x, ACME, BOB, &all, &payer, &payee);
  expect_line(payer, 0, "expenses:rent", "EUR", "debit", 700);
  expect_line(payer, 1, "assets:bank:eur", "EUR", "credit", 700);
  expect_line(payee, 0, "assets:cash", "EUR", "debit", 700); /* bob: the default */
  expect_line(payee, 1, "assets:receivables", "EUR", "credit", 700);
  json_decref(all);
  /* ... and when acme is paid, its default payee rule */
  assert_string_equal(xfer(x, BOB, "back-1", "bob:cash", "acme:cash", 5, NULL), "ok");
  tx_entries(x, BOB, ACME, &all, &payer, &payee);
  expect_line(payee, 0, "assets:cash", "EUR", "debit", 5);
  json_decref(all);

  /* the rules query: the rule in force for every (type, role), marked */
  json_t *r = bquery(x, "rules", json_pack("{s:s}", "owner", "acme"), NULL);
  json_t *list = json_object_get(r, "rules");
  assert_true(json_array_size(list) >= 20);
  int own = 0, payee_default = 0;
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *e = json_array_get(list, i);
    if (strcmp(str(e, "type"), "payment") != 0) {
      assert_string_equal(str(e, "source"), "default");
      continue;
    }
    if (strcmp(str(e, "role"), "payer") == 0) {
      own++;
      assert_string_equal(str(e, "source"), "own");
      assert_string_equal(str(e, "debit"), "expenses:rent");
      assert_string_equal(str(json_object_get(e, "default"), "debit"), "liabilities:payables");
    } else {
      payee_default++;
      assert_string_equal(str(e, "source"), "default");
      assert_string_equal(str(e, "debit"), "assets:cash");
    }
  }
  assert_int_equal(own, 1);
  assert_int_equal(payee_default, 1);
  json_decref(r);
  /* the rule's accounts were opened in the chart */
  r = bquery(x, "chart", json_pack("{s:s, s:s, s:s}", "owner", "acme", "after", "assets:bank:eur",
                                   "limit", "2"),
             NULL);
  list = json_object_get(r, "accounts");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(str(json_array_get(list, 0), "account"), "assets:cash");
  assert_string_equal(str(json_array_get(list, 1), "account"), "assets:receivables");
  assert_string_equal(str(r, "next"), "assets:receivables");
  json_decref(r);
  r = bquery(x, "chart", json_pack("{s:s, s:s, s:s}", "owner", "acme", "after",
                                   "assets:receivables", "limit", "2"),
             NULL);
  list = json_object_get(r, "accounts");
  assert_string_equal(str(json_array_get(list, 0), "account"), "expenses:rent");
  assert_string_equal(str(json_array_get(list, 0), "type"), "expenses");
  json_decref(r);
  /* a rule changed again: the next entry follows it */
  assert_string_equal(submit(x, ACME, "books.rules",
                             "{\"rules\":[{\"type\":\"payment\",\"role\":\"payer\","
                             "\"debit\":\"expenses:rent\",\"credit\":\"assets:bank:main\"}]}"),
                      "ok");
  assert_string_equal(xfer(x, ACME, "rent-2", "acme:cash", "bob:cash", 1, NULL), "ok");
  tx_entries(x, ACME, BOB, &all, &payer, &payee);
  expect_line(payer, 1, "assets:bank:main", "EUR", "credit", 1);
  json_decref(all);
}

static void test_chart(void **state) {
  bx *x = *state;
  char before[512], after[512];
  assert_string_equal(submit(x, ACME, "books.chart",
                             "{\"accounts\":[{\"account\":\"assets:bank\",\"name\":\"Hausbank\"},"
                             "{\"account\":\"revenue:sales\"}]}"),
                      "ok");
  assert_true(fx_state(&x->f, "books/acct/acme/assets:bank", before, sizeof before));
  /* again with the same name, or none: nothing changes */
  assert_string_equal(submit(x, ACME, "books.chart",
                             "{\"accounts\":[{\"account\":\"assets:bank\",\"name\":\"Hausbank\"}]}"),
                      "ok");
  assert_string_equal(submit(x, ACME, "books.chart", "{\"accounts\":[{\"account\":\"assets:bank\"}]}"),
                      "ok");
  assert_true(fx_state(&x->f, "books/acct/acme/assets:bank", after, sizeof after));
  assert_string_equal(before, after);
  /* another name renames it; it keeps its opening height */
  assert_string_equal(submit(x, ACME, "books.chart",
                             "{\"accounts\":[{\"account\":\"assets:bank\",\"name\":\"Sparkasse\"}]}"),
                      "ok");
  json_t *r = bquery(x, "chart", json_pack("{s:s}", "owner", "acme"), NULL);
  json_t *list = json_object_get(r, "accounts");
  assert_int_equal(json_array_size(list), 2);
  json_t *a = json_array_get(list, 0);
  assert_string_equal(str(a, "name"), "Sparkasse");
  assert_string_equal(str(a, "type"), "assets");
  assert_int_equal(json_integer_value(json_object_get(a, "opened_at")), 1);
  assert_null(json_object_get(json_array_get(list, 1), "name"));
  assert_string_equal(str(json_array_get(list, 1), "type"), "revenue");
  json_decref(r);
  /* bob's chart is his own */
  r = bquery(x, "chart", json_pack("{s:s}", "owner", x->owner[BOB]), NULL);
  assert_int_equal(json_array_size(json_object_get(r, "accounts")), 0);
  json_decref(r);
}

/* ---- two-phase, expiry, linked -------------------------------------------- */

static void test_two_phase(void **state) {
  bx *x = *state;
  open_basic(x);
  assert_string_equal(xfer(x, ACME, "h1", "acme:cash", "bob:cash", 100, ",\"pending\":true"), "ok");
  assert_int_equal(journal_len(x, ACME), 0);
  assert_int_equal(journal_len(x, BOB), 0);
  assert_string_equal(submit(x, ACME, "ledger.post", "{\"id\":\"h1\",\"amount\":40}"), "ok");
  json_t *all, *payer, *payee;
  tx_entries(x, ACME, BOB, &all, &payer, &payee); /* the post's transaction */
  expect_line(payer, 1, "assets:cash", "EUR", "credit", 40);
  expect_line(payee, 0, "assets:cash", "EUR", "debit", 40);
  assert_string_equal(str(payer, "ref"), "h1");
  json_decref(all);
  /* void and expiry: nothing */
  assert_string_equal(xfer(x, ACME, "h2", "acme:cash", "bob:cash", 5, ",\"pending\":true,\"business\":\"fee\""),
                      "ok");
  assert_string_equal(submit(x, ACME, "ledger.void", "{\"id\":\"h2\"}"), "ok");
  assert_string_equal(xfer(x, ACME, "h3", "acme:cash", "bob:cash", 6, ",\"pending\":true,\"timeout\":1"),
                      "ok");
  x->f.time_ms += 5000;
  assert_string_equal(open_acct(x, ACME, "acme:later", "EUR"), "ok"); /* sweeps */
  json_t *t = mquery(x, "ledger", "transfer", json_pack("{s:s}", "id", "h3"), NULL);
  assert_string_equal(str(t, "status"), "expired");
  json_decref(t);
  assert_string_equal(submit(x, ACME, "ledger.post", "{\"id\":\"h3\"}"), "ledger.expired");
  assert_int_equal(journal_len(x, ACME), 1);
  assert_int_equal(journal_len(x, BOB), 1);
  /* a whole post books the whole amount */
  assert_string_equal(xfer(x, ACME, "h4", "acme:cash", "bob:cash", 77, ",\"pending\":true,\"business\":\"duty\""),
                      "ok");
  assert_string_equal(submit(x, ACME, "ledger.post", "{\"id\":\"h4\"}"), "ok");
  tx_entries(x, ACME, BOB, &all, &payer, &payee);
  assert_string_equal(str(payer, "type"), "duty");
  expect_line(payer, 0, "expenses:duties", "EUR", "debit", 77);
  json_decref(all);
}

static void test_linked_failure(void **state) {
  bx *x = *state;
  open_basic(x);
  char seq[64];
  /* one chain fails (asset mismatch in its second member), a lone
   * transfer in the same transaction succeeds: only it is booked */
  assert_string_equal(
      submit(x, ACME, "ledger.transfer",
             "{\"transfers\":["
             "{\"id\":\"l1\",\"debit\":\"acme:cash\",\"credit\":\"bob:cash\",\"amount\":5,\"linked\":true},"
             "{\"id\":\"l2\",\"debit\":\"acme:cash\",\"credit\":\"bob:usd\",\"amount\":5},"
             "{\"id\":\"s1\",\"debit\":\"acme:cash\",\"credit\":\"bob:cash\",\"amount\":7}]}"),
      "ok");
  json_t *j = journal(x, ACME);
  assert_int_equal(json_array_size(j), 1);
  assert_string_equal(str(json_array_get(j, 0), "ref"), "s1");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "seq")), 1);
  json_decref(j);
  assert_int_equal(journal_len(x, BOB), 1);
  /* every chain failing: rejected, no entry, no entry number used */
  assert_string_equal(
      submit(x, ACME, "ledger.transfer",
             "{\"transfers\":["
             "{\"id\":\"m1\",\"debit\":\"acme:cash\",\"credit\":\"bob:cash\",\"amount\":5,\"linked\":true},"
             "{\"id\":\"m2\",\"debit\":\"acme:cash\",\"credit\":\"carol:cash\",\"amount\":5,\"linked\":true},"
             "{\"id\":\"m3\",\"debit\":\"bob:cash\",\"credit\":\"acme:cash\",\"amount\":5}]}"),
      "ledger.not_owner");
  assert_int_equal(journal_len(x, ACME), 1);
  assert_int_equal(journal_len(x, BOB), 1);
  assert_int_equal(journal_len(x, CAROL), 0);
  assert_true(fx_state(&x->f, "books/seq/acme", seq, sizeof seq));
  assert_string_equal(seq, "1");
  char key[128];
  snprintf(key, sizeof key, "books/seq/%s", x->owner[CAROL]);
  assert_false(fx_state(&x->f, key, seq, sizeof seq));
}

/* ---- manual entries, reversals, the trial balance -------------------------- */

/* One account's row of a trial balance; NULL when absent. */
static json_t *tb_row(json_t *tb, const char *account, const char *asset) {
  json_t *list = json_object_get(tb, "accounts");
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *r = json_array_get(list, i);
    if (strcmp(str(r, "account"), account) == 0 && strcmp(str(r, "asset"), asset) == 0) return r;
  }
  return NULL;
}

static json_t *trial(bx *x, int who, const char *from, const char *to) {
  json_t *p = json_pack("{s:s}", "owner", x->owner[who]);
  if (from) json_object_set_new(p, "from", json_string(from));
  if (to) json_object_set_new(p, "to", json_string(to));
  const char *code;
  json_t *r = bquery(x, "trial_balance", p, &code);
  if (r == NULL) fail_msg("trial_balance: %s", code);
  return r;
}

static void test_entry_and_trial_balance(void **state) {
  bx *x = *state;
  char alice[HANSE_HASH_HEX_BYTES];
  fx_hex(alice, &x->f.alice.pub);
  uint64_t t1 = x->f.time_ms;
  assert_string_equal(
      submit(x, ACME, "books.entry",
             "{\"lines\":[" L_D("expenses:office", 70) "," L_D("expenses:travel", 30) ","
             L_C("assets:cash", 100) ","
             "{\"account\":\"assets:cash\",\"asset\":\"USD\",\"debit\":5},"
             "{\"account\":\"revenue:other\",\"asset\":\"USD\",\"credit\":5}],"
             "\"memo\":\"petty cash, March\",\"counterparty\":\"post-office\",\"ref\":\"pc-3\"}"),
      "ok");
  json_t *e = entry(x, ACME, 1, NULL);
  assert_string_equal(str(e, "type"), "adjustment");
  assert_null(json_object_get(e, "role"));
  assert_string_equal(str(e, "memo"), "petty cash, March");
  assert_string_equal(str(e, "counterparty"), "post-office");
  assert_string_equal(str(e, "ref"), "pc-3");
  assert_string_equal(str(e, "by"), alice);
  assert_string_equal(str(e, "tx"), x->txhex);
  assert_int_equal(json_integer_value(json_object_get(e, "time")), t1);
  expect_line(e, 2, "assets:cash", "EUR", "credit", 100);
  expect_line(e, 3, "assets:cash", "USD", "debit", 5);
  json_decref(e);
  /* unbalanced: refused when proposed, too */
  assert_string_equal(submit(x, ACME, "books.entry", ENTRY(L_D("expenses:office", 5) "," L_C("assets:cash", 4))),
                      "books.unbalanced");
  x->f.time_ms += 86400000ull; /* a day later */
  uint64_t t2 = x->f.time_ms;
  assert_string_equal(submit(x, ACME, "books.entry", ENTRY(L_D("assets:cash", 250) "," L_C("equity:capital", 250))),
                      "ok");

  json_t *tb = trial(x, ACME, NULL, NULL);
  assert_true(json_is_true(json_object_get(tb, "balanced")));
  assert_int_equal(json_integer_value(json_object_get(tb, "entries")), 2);
  json_t *row = tb_row(tb, "assets:cash", "EUR");
  assert_non_null(row);
  assert_int_equal(u64_of(row, "debit"), 250);
  assert_int_equal(u64_of(row, "credit"), 100);
  assert_int_equal(i64_of(row, "balance"), 150);
  assert_string_equal(str(row, "type"), "assets");
  row = tb_row(tb, "equity:capital", "EUR");
  assert_string_equal(str(row, "balance"), "-250");
  assert_int_equal(json_array_size(json_object_get(tb, "accounts")), 6);
  /* rows in (account, asset) order */
  assert_string_equal(str(json_array_get(json_object_get(tb, "accounts"), 0), "account"), "assets:cash");
  assert_string_equal(str(json_array_get(json_object_get(tb, "accounts"), 0), "asset"), "EUR");
  assert_string_equal(str(json_array_get(json_object_get(tb, "accounts"), 1), "asset"), "USD");
  json_t *totals = json_object_get(tb, "totals");
  assert_int_equal(json_array_size(totals), 2);
  assert_string_equal(str(json_array_get(totals, 0), "asset"), "EUR");
  assert_int_equal(u64_of(json_array_get(totals, 0), "debit"), 350);
  assert_int_equal(u64_of(json_array_get(totals, 0), "credit"), 350);
  assert_true(json_is_true(json_object_get(json_array_get(totals, 0), "balanced")));
  assert_string_equal(str(json_array_get(totals, 1), "asset"), "USD");
  assert_int_equal(u64_of(json_array_get(totals, 1), "debit"), 5);
  json_decref(tb);

  /* periods: from <= time < to, in ms or as dates */
  char ms[32];
  snprintf(ms, sizeof ms, "%" PRIu64, t2);
  tb = trial(x, ACME, ms, NULL);
  assert_int_equal(json_integer_value(json_object_get(tb, "entries")), 1);
  assert_int_equal(json_integer_value(json_object_get(tb, "from")), t2);
  assert_int_equal(i64_of(tb_row(tb, "assets:cash", "EUR"), "balance"), 250);
  assert_null(tb_row(tb, "expenses:office", "EUR"));
  json_decref(tb);
  tb = trial(x, ACME, NULL, ms);
  assert_int_equal(json_integer_value(json_object_get(tb, "entries")), 1);
  assert_int_equal(i64_of(tb_row(tb, "assets:cash", "EUR"), "balance"), -100);
  json_decref(tb);
  /* FX_T0_MS is 2023-11-14T22:13:20Z */
  tb = trial(x, ACME, NULL, "2023-11-14");
  assert_int_equal(json_integer_value(json_object_get(tb, "entries")), 0);
  assert_int_equal(json_array_size(json_object_get(tb, "totals")), 0);
  assert_true(json_is_true(json_object_get(tb, "balanced")));
  json_decref(tb);
  tb = trial(x, ACME, "2023-11-14", "2023-11-15T12:00:00+01:00");
  assert_int_equal(json_integer_value(json_object_get(tb, "entries")), 1);
  json_decref(tb);
  const char *code;
  assert_null(bquery(x, "trial_balance", json_pack("{s:s, s:s}", "owner", "acme", "from", "14.11.2023"),
                     &code));
  assert_string_equal(code, "books.bad_time");
  assert_null(bquery(x, "trial_balance", json_pack("{s:s, s:s}", "owner", "acme", "to", "2023-02-30"),
                     &code));
  assert_string_equal(code, "books.bad_time");
  /* the report names reach the reports' entry point (books_report.c) */
  assert_null(bquery(x, "nope", json_pack("{s:s}", "owner", "acme"), &code));
  assert_string_not_equal(code, "ok");
}

static void test_reverse(void **state) {
  bx *x = *state;
  open_basic(x);
  assert_string_equal(xfer(x, ACME, "pay-1", "acme:cash", "bob:cash", 300, ",\"ref\":\"inv-9\""), "ok");
  char paytx[HANSE_HASH_HEX_BYTES];
  memcpy(paytx, x->txhex, sizeof paytx);
  uint64_t when = x->f.time_ms;
  assert_string_equal(submit(x, ACME, "books.reverse", "{\"seq\":1,\"memo\":\"paid twice\"}"), "ok");
  json_t *e = entry(x, ACME, 2, NULL);
  assert_string_equal(str(e, "type"), "reversal");
  assert_int_equal(json_integer_value(json_object_get(e, "reverses")), 1);
  assert_string_equal(str(e, "counterparty"), x->owner[BOB]);
  assert_string_equal(str(e, "ref"), "inv-9");
  assert_string_equal(str(e, "memo"), "paid twice");
  assert_string_equal(str(e, "tx"), x->txhex);
  assert_string_not_equal(str(e, "tx"), paytx);
  assert_int_equal(json_integer_value(json_object_get(e, "time")), when);
  expect_line(e, 0, "liabilities:payables", "EUR", "credit", 300);
  expect_line(e, 1, "assets:cash", "EUR", "debit", 300);
  json_decref(e);
  e = entry(x, ACME, 1, NULL); /* the original is unchanged, and knows it was reversed */
  assert_string_equal(str(e, "tx"), paytx);
  assert_int_equal(json_integer_value(json_object_get(e, "reversed_by")), 2);
  expect_line(e, 0, "liabilities:payables", "EUR", "debit", 300);
  json_decref(e);
  json_t *tb = trial(x, ACME, NULL, NULL);
  assert_string_equal(str(tb_row(tb, "assets:cash", "EUR"), "balance"), "0");
  assert_string_equal(str(tb_row(tb, "liabilities:payables", "EUR"), "balance"), "0");
  assert_true(json_is_true(json_object_get(tb, "balanced")));
  json_decref(tb);
  /* the refusals */
  assert_string_equal(submit(x, ACME, "books.reverse", "{\"seq\":1}"), "books.already_reversed");
  assert_string_equal(submit(x, ACME, "books.reverse", "{\"seq\":2}"), "books.is_reversal");
  assert_string_equal(submit(x, ACME, "books.reverse", "{\"seq\":3}"), "books.no_entry");
  assert_string_equal(submit(x, CAROL, "books.reverse", "{\"seq\":1}"), "books.no_entry");
  /* bob's entry 1 is bob's own to reverse; acme's books are untouched */
  assert_string_equal(submit(x, BOB, "books.reverse", "{\"seq\":1}"), "ok");
  e = entry(x, BOB, 2, NULL);
  assert_string_equal(str(e, "by"), x->owner[BOB]);
  assert_string_equal(str(e, "counterparty"), "acme");
  json_decref(e);
  assert_int_equal(journal_len(x, ACME), 2);
  /* every entry of the reversal's transaction */
  json_t *r = bquery(x, "tx", json_pack("{s:s}", "tx", x->txhex), NULL);
  assert_int_equal(json_array_size(json_object_get(r, "entries")), 1);
  json_decref(r);
}

/* ---- the journal's chunks ------------------------------------------------- */

typedef struct key_list {
  json_t *keys;
} key_list;

static int key_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  (void)v;
  (void)vl;
  json_array_append_new(((key_list *)ctx)->keys, json_stringn((const char *)k, kl));
  return 0;
}

/* The state's keys under prefix, in key order (a new array). */
static json_t *state_keys(bx *x, const char *prefix) {
  hanse_store *r = hanse_chain_reader_acquire(x->f.chain);
  assert_non_null(r);
  hanse_view v = {r, x->f.chain->chain_id};
  key_list kl = {json_array()};
  assert_int_equal(hanse_view_scan(&v, prefix, NULL, -1, key_visit, &kl), HANSE_OK);
  hanse_chain_reader_release(x->f.chain, r);
  return kl.keys;
}

/* Exactly n keys under prefix, the last of them `last` (unless NULL). */
static void expect_keys(bx *x, const char *prefix, size_t n, const char *last) {
  json_t *k = state_keys(x, prefix);
  if (json_array_size(k) != n)
    fail_msg("%zu keys under %s, expected %zu", json_array_size(k), prefix, n);
  if (last) assert_string_equal(json_string_value(json_array_get(k, n - 1)), last);
  json_decref(k);
}

/* entries begin with refs (NULL-terminated), numbered from seq0 on. */
static void expect_refs(json_t *entries, const char *const *refs, uint64_t seq0) {
  for (size_t i = 0; refs[i]; i++) {
    json_t *e = json_array_get(entries, i);
    if (e == NULL) fail_msg("no entry %zu", i);
    assert_string_equal(str(e, "ref"), refs[i]);
    assert_int_equal(json_integer_value(json_object_get(e, "seq")), seq0 + i);
  }
}

#define T(id, d, c, n) "{\"id\":\"" id "\",\"debit\":\"" d "\",\"credit\":\"" c "\",\"amount\":" #n "}"

/* One transaction booking for several owners: one chunk each, numbered
 * without gaps; a second transaction's chunk continues them; entries in
 * the middle of a chunk are found, paged and reversed -- also within the
 * block that wrote the chunk, whose rows a stored scan does not see. */
static void test_chunks(void **state) {
  bx *x = *state;
  char key[256];
  open_basic(x);
  assert_string_equal(submit(x, ACME, "ledger.transfer",
                             "{\"transfers\":[" T("c1", "acme:cash", "bob:cash", 1) ","
                             T("c2", "acme:cash", "bob:cash", 2) "," T("c3", "acme:cash", "carol:cash", 3) ","
                             T("c4", "acme:cash", "acme:bank", 4) "," T("c5", "acme:cash", "bob:cash", 5) ","
                             T("c6", "acme:cash", "carol:cash", 6) "]}"),
                      "ok");
  char tx1[HANSE_HASH_HEX_BYTES];
  memcpy(tx1, x->txhex, sizeof tx1);
  /* acme: entries 1..5 (c4 stays inside acme) in one row; bob 1..3;
   * carol 1..2; one books/tx row per owner, one books/cp row per
   * counterparty of a chunk */
  expect_keys(x, "books/je/acme/", 1, "books/je/acme/000000000005");
  snprintf(key, sizeof key, "books/je/%s/", x->owner[BOB]);
  expect_keys(x, key, 1, NULL);
  snprintf(key, sizeof key, "books/je/%s/000000000003", x->owner[BOB]);
  assert_true(fx_state(&x->f, key, NULL, 0));
  snprintf(key, sizeof key, "books/tx/%s/", tx1);
  expect_keys(x, key, 3, NULL);
  expect_keys(x, "books/cp/acme/", 2, NULL);
  snprintf(key, sizeof key, "books/cp/acme/%s/000000000005", x->owner[CAROL]);
  assert_true(fx_state(&x->f, key, NULL, 0));
  char seq[32];
  assert_true(fx_state(&x->f, "books/seq/acme", seq, sizeof seq));
  assert_string_equal(seq, "5");
  json_t *j = journal(x, ACME);
  static const char *const acme1[] = {"c1", "c2", "c3", "c5", "c6", NULL};
  assert_int_equal(json_array_size(j), 5);
  expect_refs(j, acme1, 1);
  json_decref(j);
  json_t *r = bquery(x, "tx", json_pack("{s:s}", "tx", tx1), NULL);
  assert_int_equal(json_array_size(json_object_get(r, "entries")), 10);
  json_decref(r);

  /* the middle of a chunk: the entry's full shape */
  json_t *e = entry(x, ACME, 3, NULL);
  assert_string_equal(str(e, "ref"), "c3");
  assert_string_equal(str(e, "counterparty"), x->owner[CAROL]);
  assert_string_equal(str(e, "tx"), tx1);
  assert_string_equal(str(e, "role"), "payer");
  assert_int_equal(json_integer_value(json_object_get(e, "seq")), 3);
  expect_line(e, 1, "assets:cash", "EUR", "credit", 3);
  json_decref(e);

  /* a second transaction: its own chunk, the numbers go on */
  assert_string_equal(submit(x, BOB, "ledger.transfer",
                             "{\"transfers\":[" T("d1", "bob:cash", "acme:cash", 7) ","
                             T("d2", "bob:cash", "acme:cash", 8) "]}"),
                      "ok");
  expect_keys(x, "books/je/acme/", 2, "books/je/acme/000000000007");
  r = bquery(x, "journal", json_pack("{s:s, s:s, s:s}", "owner", "acme", "after", "4", "limit", "2"), NULL);
  static const char *const across[] = {"c6", "d1", NULL};
  expect_refs(json_object_get(r, "entries"), across, 5);
  assert_string_equal(str(r, "next"), "6");
  json_decref(r);
  r = bquery(x, "journal", json_pack("{s:s, s:s}", "owner", "acme", "after", "6"), NULL);
  static const char *const tail[] = {"d2", NULL};
  expect_refs(json_object_get(r, "entries"), tail, 7);
  assert_null(json_object_get(r, "next"));
  json_decref(r);

  /* reversing entry 2, inside the first chunk */
  assert_string_equal(submit(x, ACME, "books.reverse", "{\"seq\":2}"), "ok");
  e = entry(x, ACME, 8, NULL);
  assert_int_equal(json_integer_value(json_object_get(e, "reverses")), 2);
  assert_string_equal(str(e, "ref"), "c2");
  expect_line(e, 0, "liabilities:payables", "EUR", "credit", 2);
  json_decref(e);
  e = entry(x, ACME, 2, NULL);
  assert_int_equal(json_integer_value(json_object_get(e, "reversed_by")), 8);
  json_decref(e);

  /* one block: a transfer books acme's 9..11, then acme reverses 10 (in
   * the chunk just written), 4 (stored) and 12 (none yet) */
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &x->f.alice, "ledger.transfer", ++x->seq[ACME],
             "{\"transfers\":[" T("e1", "acme:cash", "bob:cash", 9) ","
             T("e2", "acme:cash", "bob:cash", 10) "," T("e3", "acme:cash", "bob:cash", 11) "]}");
  fx_body_tx(&b, &x->f.alice, "books.reverse", ++x->seq[ACME], "{\"seq\":10}");
  fx_body_tx(&b, &x->f.alice, "books.reverse", ++x->seq[ACME], "{\"seq\":4}");
  fx_body_tx(&b, &x->f.alice, "books.reverse", ++x->seq[ACME], "{\"seq\":14}");
  fx_body_tx(&b, &x->f.alice, "books.reverse", ++x->seq[ACME], "{\"seq\":10}");
  hanse_receipt rs[5];
  hanse_reject rej;
  if (fx_propose(&x->f, &b, rs, 5, &rej) != HANSE_OK) fail_msg("propose: %s", rej.message);
  fx_body_free(&b);
  assert_string_equal(rs[0].code, "ok");
  assert_string_equal(rs[1].code, "ok");
  assert_string_equal(rs[2].code, "ok");
  assert_string_equal(rs[3].code, "books.no_entry");
  assert_string_equal(rs[4].code, "books.already_reversed");
  e = entry(x, ACME, 12, NULL);
  assert_int_equal(json_integer_value(json_object_get(e, "reverses")), 10);
  assert_string_equal(str(e, "ref"), "e2");
  json_decref(e);
  e = entry(x, ACME, 13, NULL);
  assert_int_equal(json_integer_value(json_object_get(e, "reverses")), 4);
  json_decref(e);
  e = entry(x, ACME, 10, NULL);
  assert_int_equal(json_integer_value(json_object_get(e, "reversed_by")), 12);
  json_decref(e);
  expect_keys(x, "books/je/acme/", 6, "books/je/acme/000000000013");
  json_t *tb = trial(x, ACME, NULL, NULL);
  assert_true(json_is_true(json_object_get(tb, "balanced")));
  assert_int_equal(json_integer_value(json_object_get(tb, "entries")), 13);
  json_decref(tb);
}

/* A linked chain failing between two booked transfers of one
 * transaction: its staged entries leave the chunk, the entries after it
 * take their numbers. */
static void test_chunk_linked_failure(void **state) {
  bx *x = *state;
  char key[256], seq[32];
  open_basic(x);
  assert_string_equal(submit(x, ACME, "ledger.transfer",
                             "{\"transfers\":[" T("s1", "acme:cash", "bob:cash", 1) ","
                             "{\"id\":\"l1\",\"debit\":\"acme:cash\",\"credit\":\"carol:cash\","
                             "\"amount\":2,\"linked\":true},"
                             "{\"id\":\"l2\",\"debit\":\"acme:cash\",\"credit\":\"bob:cash\","
                             "\"amount\":3,\"linked\":true},"
                             T("l3", "acme:cash", "bob:usd", 4) ","
                             T("s2", "acme:cash", "bob:cash", 5) "]}"),
                      "ok");
  expect_keys(x, "books/je/acme/", 1, "books/je/acme/000000000002");
  json_t *j = journal(x, ACME);
  static const char *const refs[] = {"s1", "s2", NULL};
  assert_int_equal(json_array_size(j), 2);
  expect_refs(j, refs, 1);
  json_decref(j);
  j = journal(x, BOB);
  assert_int_equal(json_array_size(j), 2);
  expect_refs(j, refs, 1);
  json_decref(j);
  /* carol's only entry was in the failed chain: no row, no number */
  snprintf(key, sizeof key, "books/je/%s/", x->owner[CAROL]);
  expect_keys(x, key, 0, NULL);
  snprintf(key, sizeof key, "books/seq/%s", x->owner[CAROL]);
  assert_false(fx_state(&x->f, key, seq, sizeof seq));
  /* the chart has only what the surviving entries named */
  snprintf(key, sizeof key, "books/acct/%s/", x->owner[CAROL]);
  expect_keys(x, key, 0, NULL);
  expect_keys(x, "books/cp/acme/", 1, NULL);
}

/* A key the registry knows but that is suspended keeps no books. */
static void test_key_inactive(void **state) {
  bx *x = *state;
  char carol[HANSE_HASH_HEX_BYTES];
  fx_hex(carol, &x->f.carol.pub);
  assert_string_equal(submit(x, ACME, "member.register",
                             "{\"member\":{\"id\":\"carol\",\"kind\":\"person\",\"roles\":[],"
                             "\"attributes\":{},\"key\":\"%s\"}}",
                             carol),
                      "ok");
  assert_string_equal(submit(x, CAROL, "books.chart", "{\"accounts\":[{\"account\":\"assets:a\"}]}"), "ok");
  json_t *r = bquery(x, "chart", json_pack("{s:s}", "owner", "acme"), NULL); /* acme's books */
  assert_int_equal(json_array_size(json_object_get(r, "accounts")), 1);
  json_decref(r);
  assert_string_equal(submit(x, ACME, "member.suspend", "{\"key\":\"%s\"}", carol), "ok");
  assert_string_equal(submit(x, CAROL, "books.chart", "{\"accounts\":[{\"account\":\"assets:b\"}]}"),
                      "books.key_inactive");
}

/* ---- randomized workload ---------------------------------------------------- */

#define R_ACCOUNTS 12 /* w<e><k>: enterprise e = i / 4, k = i % 4; k < 2 EUR */
#define R_BLOCKS 24
#define R_TXS 16
#define R_IDS 3000


static int r_asset(int acct) { return acct % 4 >= 2; } /* 0 EUR, 1 USD */

typedef struct r_xfer {
  char id[24];
  int d, c, pending;
} r_xfer;

static const char *const businesses[] = {NULL, "payment", "fee", "duty", "refund"};

static void run_workload(bx *x, uint64_t seed) {
  fx_rnd r = {seed};
  for (int i = 0; i < R_ACCOUNTS; i++) {
    char id[8];
    snprintf(id, sizeof id, "w%d%d", i / 4, i % 4);
    /* one account of each enterprise may not go below its credits */
    if (i % 4 == 1)
      assert_string_equal(submit(x, i / 4, "ledger.open",
                                 "{\"account\":\"%s\",\"asset\":\"EUR\",\"type\":\"asset\","
                                 "\"rule\":\"debits_must_not_exceed_credits\"}",
                                 id),
                          "ok");
    else
      assert_string_equal(open_acct(x, i / 4, id, r_asset(i) ? "USD" : "EUR"), "ok");
  }
  r_xfer *ids = calloc(R_IDS, sizeof *ids);
  assert_non_null(ids);
  size_t nids = 0, ok = 0, rejected = 0;
  char *payload = malloc(HANSE_PAYLOAD_MAX);
  assert_non_null(payload);
  for (int blk = 0; blk < R_BLOCKS; blk++) {
    fx_body b;
    fx_body_init(&b);
    for (int t = 0; t < R_TXS; t++) {
      int who = (int)fx_rbelow(&r, WHO_N);
      if (fx_rbelow(&r, 10) < 7 || nids == 0) { /* 1..4 transfers */
        unsigned n = 1 + fx_rbelow(&r, 4);
        size_t o = (size_t)snprintf(payload, HANSE_PAYLOAD_MAX, "{\"transfers\":[");
        for (unsigned k = 0; k < n && nids < R_IDS; k++) {
          r_xfer *s = &ids[nids];
          snprintf(s->id, sizeof s->id, "%" PRIx64 "-%zu", seed & 0xff, nids);
          nids++;
          /* mostly from the signer's own account */
          s->d = fx_rbelow(&r, 10) ? who * 4 + (int)fx_rbelow(&r, 4) : (int)fx_rbelow(&r, R_ACCOUNTS);
          int same = fx_rbelow(&r, 15) != 0;
          do s->c = (int)fx_rbelow(&r, R_ACCOUNTS);
          while (s->c == s->d || (same && r_asset(s->c) != r_asset(s->d)));
          s->pending = fx_rbelow(&r, 3) == 0;
          const char *bus = businesses[fx_rbelow(&r, 5)];
          char bfield[40] = "";
          if (bus) snprintf(bfield, sizeof bfield, ",\"business\":\"%s\"", bus);
          o += (size_t)snprintf(payload + o, HANSE_PAYLOAD_MAX - o,
                                "%s{\"id\":\"%s\",\"debit\":\"w%d%d\",\"credit\":\"w%d%d\","
                                "\"amount\":%u%s%s%s%s}",
                                k ? "," : "", s->id, s->d / 4, s->d % 4, s->c / 4, s->c % 4,
                                1 + fx_rbelow(&r, 500), bfield,
                                s->pending ? ",\"pending\":true" : "",
                                s->pending && fx_rbelow(&r, 2) ? ",\"timeout\":3" : "",
                                k + 1 < n && fx_rbelow(&r, 3) == 0 ? ",\"linked\":true" : "");
        }
        snprintf(payload + o, HANSE_PAYLOAD_MAX - o, "]}");
        fx_body_tx(&b, key_of(x, who), "ledger.transfer", ++x->seq[who], "%s", payload);
      } else { /* post (maybe partly) or void a recent transfer, mostly by its owner */
        const r_xfer *s = &ids[nids - 1 - fx_rbelow(&r, nids < 100 ? (unsigned)nids : 100)];
        if (fx_rbelow(&r, 6)) who = s->d / 4;
        unsigned what = fx_rbelow(&r, 4);
        if (what == 0)
          fx_body_tx(&b, key_of(x, who), "ledger.void", ++x->seq[who], "{\"id\":\"%s\"}", s->id);
        else if (what == 1)
          fx_body_tx(&b, key_of(x, who), "ledger.post", ++x->seq[who],
                     "{\"id\":\"%s\",\"amount\":%u}", s->id, 1 + fx_rbelow(&r, 200));
        else
          fx_body_tx(&b, key_of(x, who), "ledger.post", ++x->seq[who], "{\"id\":\"%s\"}", s->id);
      }
    }
    hanse_receipt rs[R_TXS];
    hanse_reject rej;
    if (fx_propose(&x->f, &b, rs, R_TXS, &rej) != HANSE_OK)
      fail_msg("seed %" PRIu64 " block %d: %s: %s", seed, blk, rej.code, rej.message);
    fx_body_free(&b);
    for (int t = 0; t < R_TXS; t++) {
      if (strcmp(rs[t].code, "ok") == 0) ok++;
      else if (strncmp(rs[t].code, "ledger.", 7) == 0) rejected++;
      else fail_msg("unexpected receipt %s: %s", rs[t].code, rs[t].message);
    }
    x->f.time_ms += 1000ull * fx_rbelow(&r, 4);
  }
  x->f.time_ms += 3600 * 1000;
  assert_string_equal(open_acct(x, ACME, "sweeper", "EUR"), "ok");

  /* What the ledger says: per enterprise and asset, credits - debits
   * posted over its accounts; per transfer between enterprises, the
   * posted amount each side must have booked under its id. */
  int64_t cash[WHO_N][2];
  memset(cash, 0, sizeof cash);
  for (int i = 0; i < R_ACCOUNTS; i++) {
    char id[8];
    snprintf(id, sizeof id, "w%d%d", i / 4, i % 4);
    json_t *a = mquery(x, "ledger", "account", json_pack("{s:s}", "account", id), NULL);
    cash[i / 4][r_asset(i)] += (int64_t)u64_of(a, "credits_posted") - (int64_t)u64_of(a, "debits_posted");
    json_decref(a);
  }
  json_t *want = json_object(); /* "<owner> <ref>" -> posted amount */
  size_t between = 0;
  for (size_t i = 0; i < nids; i++) {
    const char *code;
    json_t *t = mquery(x, "ledger", "transfer", json_pack("{s:s}", "id", ids[i].id), &code);
    if (t == NULL) continue;
    const char *st = str(t, "status");
    int d = ids[i].d / 4, c = ids[i].c / 4;
    if (strcmp(st, "posted") == 0 && d != c) {
      uint64_t amt = ids[i].pending ? u64_of(t, "posted_amount")
                                    : (uint64_t)json_integer_value(json_object_get(t, "amount"));
      char k[128];
      snprintf(k, sizeof k, "%s %s", x->owner[d], ids[i].id);
      json_object_set_new(want, k, json_integer((json_int_t)amt));
      snprintf(k, sizeof k, "%s %s", x->owner[c], ids[i].id);
      json_object_set_new(want, k, json_integer((json_int_t)amt));
      between++;
    }
    json_decref(t);
  }
  /* the per-asset invariant */
  for (int a = 0; a < 2; a++) {
    json_t *t = mquery(x, "ledger", "totals", json_pack("{s:s}", "asset", a ? "USD" : "EUR"), NULL);
    assert_int_equal(u64_of(t, "debits_posted"), u64_of(t, "credits_posted"));
    assert_int_equal(u64_of(t, "debits_pending"), u64_of(t, "credits_pending"));
    json_decref(t);
  }

  size_t entries = 0;
  for (int who = 0; who < WHO_N; who++) {
    json_t *j = journal(x, who);
    uint64_t dsum[2] = {0, 0}, csum[2] = {0, 0};
    int64_t books_cash[2] = {0, 0};
    for (size_t i = 0; i < json_array_size(j); i++) {
      json_t *e = json_array_get(j, i);
      assert_int_equal(json_integer_value(json_object_get(e, "seq")), i + 1); /* no gaps */
      char k[128];
      snprintf(k, sizeof k, "%s %s", x->owner[who], str(e, "ref"));
      json_t *w = json_object_get(want, k);
      if (w == NULL) fail_msg("seed %" PRIu64 ": entry %s booked for no posted transfer", seed, k);
      json_t *lines = json_object_get(e, "lines");
      assert_int_equal(json_array_size(lines), 2);
      for (size_t l = 0; l < 2; l++) {
        json_t *line = json_array_get(lines, l);
        int a = strcmp(str(line, "asset"), "USD") == 0;
        int deb = json_object_get(line, "debit") != NULL;
        uint64_t amt = u64_of(line, deb ? "debit" : "credit");
        assert_int_equal(amt, json_integer_value(w));
        if (deb) dsum[a] += amt;
        else csum[a] += amt;
        if (strcmp(str(line, "account"), "assets:cash") == 0)
          books_cash[a] += deb ? (int64_t)amt : -(int64_t)amt;
      }
      json_object_del(want, k); /* exactly once */
      entries++;
    }
    json_t *tb = trial(x, who, NULL, NULL);
    assert_true(json_is_true(json_object_get(tb, "balanced")));
    for (int a = 0; a < 2; a++) {
      assert_int_equal(dsum[a], csum[a]);
      assert_int_equal(books_cash[a], cash[who][a]);
      json_t *row = tb_row(tb, "assets:cash", a ? "USD" : "EUR");
      assert_int_equal(row ? i64_of(row, "balance") : 0, cash[who][a]);
    }
    json_t *totals = json_object_get(tb, "totals");
    for (size_t i = 0; i < json_array_size(totals); i++) {
      json_t *tot = json_array_get(totals, i);
      int a = strcmp(str(tot, "asset"), "USD") == 0;
      assert_int_equal(u64_of(tot, "debit"), dsum[a]);
      assert_int_equal(u64_of(tot, "credit"), csum[a]);
    }
    json_decref(tb);
    json_decref(j);
  }
  if (json_object_size(want) != 0) fail_msg("seed %" PRIu64 ": %zu sides not booked", seed,
                                            json_object_size(want));
  print_message("seed %" PRIu64 ": %zu transfers tried, %zu txs ok, %zu rejected, %zu posted between "
                "enterprises, %zu entries\n",
                seed, nids, ok, rejected, between, entries);
  assert_true(between > 50 && rejected > 0 && entries == 2 * between);
  json_decref(want);
  free(payload);
  free(ids);
}

static void test_random_seed1(void **state) { run_workload(*state, 1); }
static void test_random_seed2(void **state) { run_workload(*state, 0xb00c5); }

/* A chunk row printed directly (books_chunk_json) is byte for byte the
 * canonical dump of the same object (json_pack, then json_dumps with
 * sorted keys, compact), whatever the entries hold: tabs, newlines,
 * quotes, backslashes, other control characters, DEL, UTF-8. */
static void test_chunk_json(void **state) {
  (void)state;
  const char *entries[] = {
      "",
      "payment\tpayer\tbob\tt1\t\t\tcash\tEUR\td5\tbank\tEUR\tc5",
      "a\nb\tc \"q\" back\\slash \x01\x1f\x7f \xc3\xa9 \xe2\x82\xac\r\b\f/",
  };
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
    const char *by = "ab12", *tx = "00ff";
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "by", by, "entries", entries[i], "height",
                          (json_int_t)7, "time", (json_int_t)1700000000123, "tx", tx);
    assert_non_null(o);
    char *want = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    hanse_buf got;
    hanse_buf_init(&got);
    books_chunk_json(&got, by, entries[i], strlen(entries[i]), 7, 1700000000123u, tx);
    assert_int_equal(hanse_buf_status(&got), HANSE_OK);
    assert_int_equal(got.len, strlen(want));
    assert_memory_equal(got.data, want, got.len);
    hanse_buf_free(&got);
    free(want);
    json_decref(o);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chunk_json),
      cmocka_unit_test_setup_teardown(test_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transfer_books_both, setup, teardown),
      cmocka_unit_test_setup_teardown(test_own_rule, setup, teardown),
      cmocka_unit_test_setup_teardown(test_chart, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_phase, setup, teardown),
      cmocka_unit_test_setup_teardown(test_linked_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_chunk_linked_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_and_trial_balance, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reverse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_inactive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_seed1, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_seed2, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
