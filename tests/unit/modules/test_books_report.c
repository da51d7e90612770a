/*
 * test_books_report.c -- the books' reports on hand-made entries.
 *
 * The report functions read nothing but the entries they are given
 * (books_report.h), so each is checked here on a few entries written
 * by hand in the documented format: amounts and dates as text (0, 2 and
 * 18 decimals, negative, beyond 64 bits), the period bounds the reports
 * accept (books_time_param, books-core's), the
 * general ledger's opening balance and running balance across a period
 * cut, the income statement's and balance sheet's sums per asset, a
 * balance sheet that does not balance because an entry does not, every
 * kind of reconciliation difference, and the hledger journal of a small
 * fixed set of entries compared byte for byte. Last, the queries
 * themselves over a state written directly (parameters, rejections, the
 * decimals an export finds in asset/def).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec.h"
#include "modules/books/books_report.h"

#define DAY_MS 86400000ull
#define T0 1714521600000ull /* 2024-05-01T00:00:00Z */

/* An entry: lines is the JSON text of the lines array. */
static json_t *entry(unsigned seq, uint64_t time, const char *type, const char *role,
                     const char *cp, const char *ref, const char *tx, const char *lines) {
  json_error_t err;
  json_t *l = json_loads(lines, 0, &err);
  if (l == NULL) fail_msg("bad lines %s: %s", lines, err.text);
  json_t *e = json_pack("{s:s, s:i, s:I, s:s, s:s, s:o}", "owner", "acme", "seq", (int)seq,
                        "time", (json_int_t)time, "tx", tx ? tx : "aa", "by", "bb", "lines", l);
  if (type) json_object_set_new(e, "type", json_string(type));
  if (role) json_object_set_new(e, "role", json_string(role));
  if (cp) json_object_set_new(e, "counterparty", json_string(cp));
  if (ref) json_object_set_new(e, "ref", json_string(ref));
  return e;
}

#define DR(acct, asset, n) "{\"account\":\"" acct "\",\"asset\":\"" asset "\",\"debit\":\"" n "\"}"
#define CR(acct, asset, n) "{\"account\":\"" acct "\",\"asset\":\"" asset "\",\"credit\":\"" n "\"}"

/* The member at "a.b.0.c" (members and array indexes), or NULL. */
static json_t *at(json_t *o, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *cur = o;
  for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
    cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
  return cur;
}

static const char *str(json_t *o, const char *path) { return json_string_value(at(o, path)); }

static void test_sum_text(void **state) {
  (void)state;
  char s[BOOKS_SUM_TEXT_MAX];
  books_sum_text(s, 0, 0);
  assert_string_equal(s, "0");
  books_sum_text(s, 0, 2);
  assert_string_equal(s, "0.00");
  books_sum_text(s, 123456, 2);
  assert_string_equal(s, "1234.56");
  books_sum_text(s, -5, 2);
  assert_string_equal(s, "-0.05");
  books_sum_text(s, 1000, 0);
  assert_string_equal(s, "1000");
  books_sum_text(s, (books_sum)UINT64_MAX, 18);
  assert_string_equal(s, "18.446744073709551615");
  books_sum_text(s, -(books_sum)UINT64_MAX * 3, 2);
  assert_string_equal(s, "-553402322211286548.45");
  books_sum_text(s, 7, 18);
  assert_string_equal(s, "0.000000000000000007");
  assert_int_equal(books_currency_decimals("EUR"), 2);
  assert_int_equal(books_currency_decimals("JPY"), 0);
  assert_int_equal(books_currency_decimals("KRW"), 0);
  assert_int_equal(books_currency_decimals("EURB"), -1);
  assert_int_equal(books_currency_decimals("eur"), -1);
}

static void test_time(void **state) {
  (void)state;
  hanse_reject rej;
  uint64_t t;
  json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ms", "1714521600123", "day",
                        "2024-05-01", "leap", "2024-02-29", "bad1", "2023-02-29", "bad2",
                        "2024-5-01", "bad3", "yesterday");
  assert_int_equal(books_time_param(p, "ms", 0, &t, &rej), HANSE_OK);
  assert_true(t == 1714521600123ull);
  assert_int_equal(books_time_param(p, "day", 0, &t, &rej), HANSE_OK);
  assert_true(t == T0);
  assert_int_equal(books_time_param(p, "leap", 0, &t, &rej), HANSE_OK);
  assert_true(t == T0 - 62 * DAY_MS);
  assert_int_equal(books_time_param(p, "absent", 42, &t, &rej), HANSE_OK);
  assert_true(t == 42);
  const char *bad[] = {"bad1", "bad2", "bad3"};
  for (int i = 0; i < 3; i++) {
    assert_int_not_equal(books_time_param(p, bad[i], 0, &t, &rej), HANSE_OK);
    assert_string_equal(rej.code, "books.bad_time");
    assert_int_equal(rej.status, 400);
  }
  json_decref(p);
  char d[11];
  books_date_utc(d, T0 + DAY_MS - 1);
  assert_string_equal(d, "2024-05-01");
  books_date_utc(d, T0 - 62 * DAY_MS);
  assert_string_equal(d, "2024-02-29");
  books_date_utc(d, 0);
  assert_string_equal(d, "1970-01-01");
  assert_int_equal(books_account_letter("assets:cash"), 'A');
  assert_int_equal(books_account_letter("expenses"), 'X');
  assert_int_equal(books_account_letter("assetsx:cash"), 0);
}

/* acme's books: a sale on credit, its payment, a fee, a USD duty, a
 * refund reversed, spread over four days. */
static json_t *journal(void) {
  json_t *a = json_array();
  json_array_append_new(a, entry(1, T0, "sale", "payee", "beta", "o-1", "t1",
                                 "[" DR("assets:receivables", "EUR", "10000") ","
                                     CR("revenue:sales", "EUR", "10000") "]"));
  json_array_append_new(a, entry(2, T0 + DAY_MS, "payment", "payee", "beta", "o-1", "t2",
                                 "[" DR("assets:cash", "EUR", "10000") ","
                                     CR("assets:receivables", "EUR", "10000") "]"));
  json_array_append_new(a, entry(3, T0 + DAY_MS, "fee", "payer", "bank", "f-1", "t3",
                                 "[" DR("expenses:fees", "EUR", "250") ","
                                     CR("assets:cash", "EUR", "250") "]"));
  json_array_append_new(a, entry(4, T0 + 2 * DAY_MS, "duty", "payer", "customs", "d-1", "t4",
                                 "[" DR("expenses:duties", "USD", "700") ","
                                     CR("assets:cash", "USD", "700") "]"));
  json_array_append_new(a, entry(5, T0 + 2 * DAY_MS, "refund", "payer", "beta", "r-1", "t5",
                                 "[" DR("revenue:refunds", "EUR", "1500") ","
                                     CR("assets:cash", "EUR", "1500") "]"));
  json_t *rev = entry(6, T0 + 3 * DAY_MS, "refund", "payer", "beta", "r-1", "t6",
                      "[" CR("revenue:refunds", "EUR", "1500") ","
                          DR("assets:cash", "EUR", "1500") "]");
  json_object_set_new(rev, "reverses", json_integer(5));
  json_array_append_new(a, rev);
  json_array_append_new(a, entry(7, T0 + 3 * DAY_MS, "payment", "payer", "beta", "p-9", "t7",
                                 "[" DR("liabilities:payables", "USD", "300") ","
                                     CR("assets:cash", "USD", "300") "]"));
  return a;
}

static void test_ledger(void **state) {
  (void)state;
  hanse_reject rej;
  json_t *j = journal(), *r = NULL;
  /* from day 1 (the sale before it is the opening), to day 3 (exclusive) */
  assert_int_equal(books_report_ledger(j, "assets:cash", T0 + DAY_MS, T0 + 3 * DAY_MS, &r, &rej),
                   HANSE_OK);
  assert_string_equal(str(r, "account"), "assets:cash");
  assert_int_equal(json_array_size(at(r, "assets")), 2);
  /* EUR: opening 0, +10000, -250, -1500 */
  assert_string_equal(str(r, "assets.0.asset"), "EUR");
  assert_string_equal(str(r, "assets.0.opening"), "0");
  assert_int_equal(json_array_size(at(r, "assets.0.lines")), 3);
  assert_string_equal(str(r, "assets.0.lines.0.debit"), "10000");
  assert_string_equal(str(r, "assets.0.lines.0.balance"), "10000");
  assert_string_equal(str(r, "assets.0.lines.1.credit"), "250");
  assert_string_equal(str(r, "assets.0.lines.1.balance"), "9750");
  assert_string_equal(str(r, "assets.0.lines.2.balance"), "8250");
  assert_string_equal(str(r, "assets.0.lines.2.ref"), "r-1");
  assert_string_equal(str(r, "assets.0.debits"), "10000");
  assert_string_equal(str(r, "assets.0.credits"), "1750");
  assert_string_equal(str(r, "assets.0.closing"), "8250");
  /* USD: one duty, negative */
  assert_string_equal(str(r, "assets.1.asset"), "USD");
  assert_string_equal(str(r, "assets.1.closing"), "-700");
  json_decref(r);
  /* from day 3: the opening is everything before, the reversal restores */
  assert_int_equal(books_report_ledger(j, "assets:cash", T0 + 3 * DAY_MS, BOOKS_TIME_END, &r,
                                       &rej), HANSE_OK);
  assert_string_equal(str(r, "assets.0.opening"), "8250");
  assert_int_equal(json_array_size(at(r, "assets.0.lines")), 1);
  assert_int_equal(json_integer_value(at(r, "assets.0.lines.0.reverses")), 5);
  assert_string_equal(str(r, "assets.0.closing"), "9750");
  assert_string_equal(str(r, "assets.1.opening"), "-700");
  assert_string_equal(str(r, "assets.1.closing"), "-1000");
  json_decref(r);
  /* receivables before day 1: only its opening asset, no lines after */
  assert_int_equal(books_report_ledger(j, "assets:receivables", T0 + 5 * DAY_MS, BOOKS_TIME_END,
                                       &r, &rej), HANSE_OK);
  assert_int_equal(json_array_size(at(r, "assets")), 1);
  assert_string_equal(str(r, "assets.0.opening"), "0");
  assert_int_equal(json_array_size(at(r, "assets.0.lines")), 0);
  json_decref(r);
  /* an account nobody used: no assets */
  assert_int_equal(books_report_ledger(j, "assets:none", 0, BOOKS_TIME_END, &r, &rej), HANSE_OK);
  assert_int_equal(json_array_size(at(r, "assets")), 0);
  json_decref(r);
  /* a malformed entry is the books' bug */
  json_array_append_new(j, entry(8, T0, "x", NULL, NULL, NULL, NULL,
                                 "[{\"account\":\"assets:cash\",\"asset\":\"EUR\",\"debit\":\"-1\"}]"));
  assert_int_equal(books_report_ledger(j, "assets:cash", 0, BOOKS_TIME_END, &r, &rej),
                   HANSE_ERR(INTERNAL));
  json_decref(j);
}

static void test_income(void **state) {
  (void)state;
  hanse_reject rej;
  json_t *j = journal(), *r = NULL;
  assert_int_equal(books_report_income(j, 0, BOOKS_TIME_END, &r, &rej), HANSE_OK);
  assert_int_equal(json_array_size(at(r, "assets")), 2);
  assert_string_equal(str(r, "assets.0.asset"), "EUR");
  /* revenue:refunds nets to 0 after its reversal; revenue:sales 10000 */
  assert_int_equal(json_array_size(at(r, "assets.0.revenue")), 2);
  assert_string_equal(str(r, "assets.0.revenue.0.account"), "revenue:refunds");
  assert_string_equal(str(r, "assets.0.revenue.0.amount"), "0");
  assert_string_equal(str(r, "assets.0.revenue.1.amount"), "10000");
  assert_string_equal(str(r, "assets.0.total_revenue"), "10000");
  assert_string_equal(str(r, "assets.0.total_expenses"), "250");
  assert_string_equal(str(r, "assets.0.net_income"), "9750");
  assert_string_equal(str(r, "assets.1.asset"), "USD");
  assert_string_equal(str(r, "assets.1.net_income"), "-700");
  json_decref(r);
  /* day 2 only: the refund not yet reversed */
  assert_int_equal(books_report_income(j, T0 + 2 * DAY_MS, T0 + 3 * DAY_MS, &r, &rej), HANSE_OK);
  assert_string_equal(str(r, "assets.0.asset"), "EUR");
  assert_string_equal(str(r, "assets.0.total_revenue"), "-1500");
  assert_string_equal(str(r, "assets.0.net_income"), "-1500");
  assert_string_equal(str(r, "assets.1.total_expenses"), "700");
  json_decref(r);
  json_decref(j);
}

static void test_balance_sheet(void **state) {
  (void)state;
  hanse_reject rej;
  json_t *j = journal(), *r = NULL;
  assert_int_equal(books_report_balance_sheet(j, BOOKS_TIME_END, &r, &rej), HANSE_OK);
  assert_true(json_is_true(at(r, "balanced")));
  /* EUR: cash 9750, receivables 0; earnings 9750 */
  assert_string_equal(str(r, "assets.0.asset"), "EUR");
  assert_string_equal(str(r, "assets.0.assets.0.account"), "assets:cash");
  assert_string_equal(str(r, "assets.0.assets.0.amount"), "9750");
  assert_string_equal(str(r, "assets.0.earnings"), "9750");
  assert_string_equal(str(r, "assets.0.total_assets"), "9750");
  assert_string_equal(str(r, "assets.0.total_equity"), "9750");
  /* USD: cash -1000 = payables -300 + earnings -700 */
  assert_string_equal(str(r, "assets.1.total_assets"), "-1000");
  assert_string_equal(str(r, "assets.1.liabilities.0.amount"), "-300");
  assert_string_equal(str(r, "assets.1.total_liabilities"), "-300");
  assert_string_equal(str(r, "assets.1.earnings"), "-700");
  assert_true(json_is_true(at(r, "assets.1.balanced")));
  json_decref(r);
  /* before day 1: only the sale */
  assert_int_equal(books_report_balance_sheet(j, T0 + DAY_MS, &r, &rej), HANSE_OK);
  assert_int_equal(json_array_size(at(r, "assets")), 1);
  assert_string_equal(str(r, "assets.0.total_assets"), "10000");
  json_decref(r);
  /* an entry that does not balance is found, not assumed away */
  json_array_append_new(j, entry(8, T0 + 4 * DAY_MS, "x", NULL, NULL, NULL, NULL,
                                 "[" DR("assets:cash", "EUR", "5") ","
                                     CR("equity:capital", "EUR", "4") "]"));
  assert_int_equal(books_report_balance_sheet(j, BOOKS_TIME_END, &r, &rej), HANSE_OK);
  assert_true(json_is_false(at(r, "balanced")));
  assert_true(json_is_false(at(r, "assets.0.balanced")));
  assert_true(json_is_true(at(r, "assets.1.balanced")));
  json_decref(r);
  json_decref(j);
}

/* Find the difference of `kind` (NULL: count all); its index or -1. */
static int diff_find(json_t *r, const char *kind, const char *ref) {
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(r, "differences"), i, d) {
    if (strcmp(str(d, "kind"), kind) == 0 && (ref == NULL || strcmp(str(d, "ref"), ref) == 0))
      return (int)i;
  }
  return -1;
}

static void test_reconcile(void **state) {
  (void)state;
  hanse_reject rej;
  json_t *a = json_array(), *b = json_array(), *r = NULL;
  /* agreeing pair */
  json_array_append_new(a, entry(1, T0, "payment", "payer", "beta", "p1", "t1",
                                 "[" DR("liabilities:payables", "EUR", "100") ","
                                     CR("assets:cash", "EUR", "100") "]"));
  json_array_append_new(b, entry(4, T0, "payment", "payee", "acme", "p1", "t1",
                                 "[" DR("assets:cash", "EUR", "100") ","
                                     CR("assets:receivables", "EUR", "100") "]"));
  assert_int_equal(books_report_reconcile(a, b, "acme", "beta", &r, &rej), HANSE_OK);
  assert_true(json_is_true(at(r, "agree")));
  assert_int_equal(json_array_size(at(r, "matched")), 1);
  assert_int_equal(json_array_size(at(r, "differences")), 0);
  assert_string_equal(str(r, "matched.0.a.amounts.EUR"), "100");
  assert_string_equal(str(r, "matched.0.b.role"), "payee");
  json_decref(r);
  /* same role on both sides does not match; nor does another tx */
  json_array_append_new(a, entry(2, T0, "fee", "payer", "beta", "f1", "t2",
                                 "[" DR("expenses:fees", "EUR", "5") ","
                                     CR("assets:cash", "EUR", "5") "]"));
  json_array_append_new(b, entry(5, T0, "fee", "payer", "acme", "f1", "t2",
                                 "[" DR("expenses:fees", "EUR", "5") ","
                                     CR("assets:cash", "EUR", "5") "]"));
  json_array_append_new(b, entry(6, T0, "duty", "payee", "acme", "d1", "t9",
                                 "[" DR("assets:cash", "EUR", "7") ","
                                     CR("revenue:duties", "EUR", "7") "]"));
  /* amounts differ, and multi-asset */
  json_array_append_new(a, entry(3, T0, "refund", "payer", "beta", "r1", "t3",
                                 "[" DR("revenue:refunds", "EUR", "30") ","
                                     CR("assets:cash", "EUR", "30") ","
                                     DR("revenue:refunds", "USD", "2") ","
                                     CR("assets:cash", "USD", "2") "]"));
  json_array_append_new(b, entry(7, T0, "refund", "payee", "acme", "r1", "t3",
                                 "[" DR("assets:cash", "EUR", "30") ","
                                     CR("expenses:purchases", "EUR", "30") "]"));
  /* reversed on b's side only: the reversing entry is in b's list */
  json_array_append_new(a, entry(9, T0, "payment", "payee", "beta", "p2", "t4",
                                 "[" DR("assets:cash", "EUR", "50") ","
                                     CR("assets:receivables", "EUR", "50") "]"));
  json_array_append_new(b, entry(8, T0, "payment", "payer", "acme", "p2", "t4",
                                 "[" DR("liabilities:payables", "EUR", "50") ","
                                     CR("assets:cash", "EUR", "50") "]"));
  json_t *rev = entry(10, T0 + 1, "payment", "payer", "acme", "p2", "t5",
                      "[" CR("liabilities:payables", "EUR", "50") ","
                          DR("assets:cash", "EUR", "50") "]");
  json_object_set_new(rev, "reverses", json_integer(8));
  json_array_append_new(b, rev);
  assert_int_equal(books_report_reconcile(a, b, "acme", "beta", &r, &rej), HANSE_OK);
  assert_true(json_is_false(at(r, "agree")));
  assert_int_equal(json_array_size(at(r, "matched")), 3); /* p1, r1, p2 */
  assert_int_equal(json_array_size(at(r, "differences")), 5);
  int k = diff_find(r, "only_a", "f1");
  assert_true(k >= 0);
  assert_true(diff_find(r, "only_b", "f1") >= 0);
  k = diff_find(r, "only_b", "d1");
  assert_true(k >= 0);
  assert_null(at(json_array_get(at(r, "differences"), (size_t)k), "a"));
  k = diff_find(r, "amounts_differ", "r1");
  assert_true(k >= 0);
  json_t *d = json_array_get(at(r, "differences"), (size_t)k);
  assert_string_equal(str(d, "a.amounts.USD"), "2");
  assert_null(at(d, "b.amounts.USD"));
  k = diff_find(r, "reversed_one_side", "p2");
  assert_true(k >= 0);
  d = json_array_get(at(r, "differences"), (size_t)k);
  assert_true(json_is_false(at(d, "a.reversed")));
  assert_true(json_is_true(at(d, "b.reversed")));
  assert_true(json_is_false(at(r, "matched.2.agree")));
  json_decref(r);
  /* once a reverses too (marked by the reader: reversed_by), p2 agrees */
  json_object_set_new(json_array_get(a, 3), "reversed_by", json_integer(11));
  assert_int_equal(books_report_reconcile(a, b, "acme", "beta", &r, &rej), HANSE_OK);
  assert_int_equal(diff_find(r, "reversed_one_side", NULL), -1);
  assert_true(json_is_true(at(r, "matched.2.agree")));
  json_decref(r);
  json_decref(a);
  json_decref(b);
}

static const char expected_journal[] =
    "commodity 1000.00 EUR\n"
    "commodity 1000.000000000000000000 \"EURB2\"\n"
    "commodity 1000. JPY\n"
    "\n"
    "account assets:cash  ; type: A\n"
    "account equity:conversion  ; type: E\n"
    "account expenses:fees  ; type: X\n"
    "account liabilities:payables  ; type: L\n"
    "account revenue:sales  ; type: R\n"
    "\n"
    "2024-05-01 (1) beta | sale o-1\n"
    "    ; tx:t1, by:bb, role:payee\n"
    "    assets:cash  123456.78 EUR\n"
    "    revenue:sales  -123456.78 EUR\n"
    "\n"
    "2024-05-02 (2) bank | fee f,1/x\n"
    "    ; tx:t2, by:bb, role:payer, reverses:1\n"
    "    expenses:fees  1000 JPY\n"
    "    assets:cash  -1000 JPY\n"
    "    assets:cash  18.446744073709551615 \"EURB2\"\n"
    "    equity:conversion  -18.446744073709551615 \"EURB2\"\n"
    "\n"
    "2024-05-02 (3) entry\n"
    "    ; tx:t3, by:bb\n"
    "    assets:cash  0.01 EUR\n"
    "    assets:cash  -0.01 EUR\n"
    "\n";

static void test_export(void **state) {
  (void)state;
  hanse_reject rej;
  json_t *j = json_array();
  json_array_append_new(j, entry(1, T0 + 5, "sale", "payee", "beta", "o-1", "t1",
                                 "[" DR("assets:cash", "EUR", "12345678") ","
                                     CR("revenue:sales", "EUR", "12345678") "]"));
  json_t *e = entry(2, T0 + DAY_MS, "fee", "payer", "bank", "f;1|x", "t2",
                    "[" DR("expenses:fees", "JPY", "1000") "," CR("assets:cash", "JPY", "1000") ","
                        DR("assets:cash", "EURB2", "18446744073709551615") ","
                        CR("equity:conversion", "EURB2", "18446744073709551615") "]");
  json_object_set_new(e, "reverses", json_integer(1));
  json_array_append_new(j, e);
  json_array_append_new(j, entry(3, T0 + DAY_MS + 1, NULL, NULL, NULL, NULL, "t3",
                                 "[" DR("assets:cash", "EUR", "1") ","
                                     CR("assets:cash", "EUR", "1") "]"));
  json_t *chart = json_pack("[s, s]", "liabilities:payables", "assets:cash");
  json_t *dec = json_pack("{s:i, s:i, s:i}", "EUR", 2, "JPY", 0, "EURB2", 18);
  hanse_buf out;
  hanse_buf_init(&out);
  assert_int_equal(books_export_journal(j, chart, dec, &out, &rej), HANSE_OK);
  hanse_buf_put(&out, "", 1);
  assert_string_equal((const char *)out.data, expected_journal);
  hanse_buf_free(&out);
  json_decref(j);
  json_decref(chart);
  json_decref(dec);
}

/* ---- the queries over a state written directly ---- */

static void put(hanse_store *s, const char *key, const char *val) {
  assert_int_equal(hanse_store_state_put(s, key, strlen(key), val, strlen(val)), HANSE_OK);
}

/* Entry e as a one-entry chunk (books.h: the line's fields joined by
 * tabs, the transaction's fields once). */
static void put_entry(hanse_store *s, const char *owner, json_t *e) {
  char key[128], line[1024];
  static const char *const head[] = {"type", "role", "counterparty", "ref", "reverses", "memo"};
  size_t n = 0, i;
  for (i = 0; i < 6; i++) {
    json_t *f = json_object_get(e, head[i]);
    n += (size_t)snprintf(line + n, sizeof line - n, "%s", i ? "\t" : "");
    if (json_is_integer(f))
      n += (size_t)snprintf(line + n, sizeof line - n, "%lld", (long long)json_integer_value(f));
    else if (f)
      n += (size_t)snprintf(line + n, sizeof line - n, "%s", json_string_value(f));
  }
  json_t *l;
  json_array_foreach(json_object_get(e, "lines"), i, l) {
    json_t *d = json_object_get(l, "debit");
    n += (size_t)snprintf(line + n, sizeof line - n, "\t%s\t%s\t%c%s",
                          json_string_value(json_object_get(l, "account")),
                          json_string_value(json_object_get(l, "asset")), d ? 'd' : 'c',
                          json_string_value(d ? d : json_object_get(l, "credit")));
  }
  assert_true(n < sizeof line);
  json_t *chunk = json_pack("{s:O, s:s, s:i, s:O, s:O}", "by", json_object_get(e, "by"), "entries",
                            line, "height", 1, "time", json_object_get(e, "time"), "tx",
                            json_object_get(e, "tx"));
  snprintf(key, sizeof key, "books/je/%s/%012lld", owner,
           (long long)json_integer_value(json_object_get(e, "seq")));
  char *v = json_dumps(chunk, JSON_COMPACT | JSON_SORT_KEYS);
  put(s, key, v);
  free(v);
  json_decref(chunk);
}

static json_t *query(hanse_view *v, const char *name, const char *params, hanse_reject *rej) {
  json_t *p = json_loads(params, 0, NULL), *r = NULL;
  assert_non_null(p);
  int rc = books_report_query(v, name, p, &r, rej);
  json_decref(p);
  assert_true((rc == HANSE_OK) == (r != NULL));
  return r;
}

static void test_queries(void **state) {
  (void)state;
  hanse_reject rej;
  hanse_store *s = NULL;
  assert_int_equal(hanse_store_open(":memory:", HANSE_STORE_MEMORY | HANSE_STORE_CREATE, NULL,
                                    &s, &rej), HANSE_OK);
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  json_t *j = journal();
  size_t i;
  json_t *e;
  json_array_foreach(j, i, e) put_entry(s, "acme", e);
  put(s, "books/acct/acme/assets:cash", "{\"account\":\"assets:cash\",\"type\":\"asset\"}");
  put(s, "books/acct/acme/equity:capital", "{\"account\":\"equity:capital\",\"type\":\"equity\"}");
  put(s, "books/rev/acme/000000000005", "6");
  put(s, "books/cp/acme/beta/000000000001", "\"\"");
  put(s, "books/cp/acme/beta/000000000005", "\"\"");
  put(s, "asset/def/USD", "{\"symbol\":\"USD\",\"decimals\":4}"); /* an asset module USD */
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  hanse_view v = {s, "c"};

  json_t *r = query(&v, "ledger", "{\"owner\":\"acme\",\"account\":\"assets:cash\","
                                   "\"from\":\"2024-05-02\",\"to\":\"2024-05-03\"}", &rej);
  assert_non_null(r);
  assert_string_equal(str(r, "owner"), "acme");
  assert_true(json_integer_value(at(r, "from")) == (json_int_t)(T0 + DAY_MS));
  assert_string_equal(str(r, "assets.0.closing"), "9750");
  json_decref(r);
  r = query(&v, "balance_sheet", "{\"owner\":\"acme\"}", &rej);
  assert_true(json_is_true(at(r, "balanced")));
  assert_null(at(r, "at"));
  json_decref(r);
  r = query(&v, "income", "{\"owner\":\"acme\",\"from\":\"" "1714608000000" "\"}", &rej);
  assert_string_equal(str(r, "assets.0.total_expenses"), "250"); /* the sale was before */
  assert_string_equal(str(r, "assets.0.total_revenue"), "0");
  json_decref(r);
  /* export: USD with the asset module's 4 decimals, EUR the currency's 2 */
  r = query(&v, "export", "{\"owner\":\"acme\",\"to\":\"2024-05-05\"}", &rej);
  const char *text = str(r, "journal");
  assert_non_null(text);
  assert_int_equal(json_integer_value(at(r, "entries")), 7);
  assert_non_null(strstr(text, "commodity 1000.0000 USD\n"));
  assert_non_null(strstr(text, "commodity 1000.00 EUR\n"));
  assert_non_null(strstr(text, "account equity:capital  ; type: E\n"));
  assert_non_null(strstr(text, "    expenses:duties  0.0700 USD\n"));
  json_decref(r);
  r = query(&v, "export", "{\"owner\":\"acme\",\"to\":\"2024-05-03\"}", &rej);
  assert_int_equal(json_integer_value(at(r, "entries")), 3); /* to is exclusive */
  json_decref(r);
  /* reconcile reads through books/cp and marks reversals from books/rev */
  r = query(&v, "reconcile", "{\"a\":\"acme\",\"b\":\"beta\"}", &rej);
  assert_int_equal(json_array_size(at(r, "differences")), 2);
  assert_string_equal(str(r, "differences.1.kind"), "only_a");
  assert_true(json_is_true(at(r, "differences.1.a.reversed")));
  json_decref(r);

  static const struct {
    const char *name, *params, *code;
    int status;
  } bad[] = {
      {"ledger", "{\"owner\":\"acme\",\"account\":\"assets:nope\"}", "books.no_account", 404},
      {"ledger", "{\"owner\":\"acme\",\"account\":\"Assets\"}", "books.bad_account", 400},
      {"ledger", "{\"owner\":\"acme\"}", "books.bad_account", 400},
      {"income", "{\"owner\":\"a/b\"}", "books.bad_owner", 400},
      {"income", "{}", "books.bad_owner", 400},
      {"income", "{\"owner\":\"acme\",\"from\":\"2024-13-01\"}", "books.bad_time", 400},
      {"income", "{\"owner\":\"acme\",\"from\":\"5\",\"to\":\"4\"}", "books.bad_time", 400},
      {"balance_sheet", "{\"owner\":\"acme\",\"at\":\"soon\"}", "books.bad_time", 400},
      {"reconcile", "{\"a\":\"acme\"}", "books.bad_owner", 400},
      {"nonsense", "{\"owner\":\"acme\"}", "books.unknown_query", 404},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    hanse_reject_clear(&rej);
    assert_null(query(&v, bad[k].name, bad[k].params, &rej));
    assert_string_equal(rej.code, bad[k].code);
    assert_int_equal(rej.status, bad[k].status);
  }
  json_decref(j);
  hanse_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sum_text),     cmocka_unit_test(test_time),
      cmocka_unit_test(test_ledger),       cmocka_unit_test(test_income),
      cmocka_unit_test(test_balance_sheet), cmocka_unit_test(test_reconcile),
      cmocka_unit_test(test_export),       cmocka_unit_test(test_queries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
