/*
 * test_ledger_book.c -- the ledger's book from below: the balance row's
 * fixed layout, the typed cache, and marks (the undo log of linked
 * chains), on an in-memory store without a chain around it.
 *
 * Rows: a row prints and parses back exactly; a text that is not exactly
 * one (a leading zero, a missing or extra field, a double space, a
 * number past 2^64-1, a field that is no point) is refused, so a row has
 * one spelling. Marks: a rollback restores the cached balances and
 * totals, the overlay's records and index rows, forgets an account
 * opened and loaded after the mark, and nests (an inner rollback inside
 * a released outer mark). The commit then writes exactly the rows the
 * surviving changes made, in the row layout.
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
#include "chain/exec.h"
#include "fixture.h"
#include "modules/ledger/ledger.h"

#define ID_HEX "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"
#define ZERO_HEX "0000000000000000000000000000000000000000000000000000000000000000"

static void test_row_format(void **state) {
  (void)state;
  ledger_sums s, back;
  char text[LEDGER_SUMS_TEXT_MAX];
  memset(&s, 0, sizeof s);
  s.v[LEDGER_DP] = 1;
  s.v[LEDGER_CP] = UINT64_MAX;
  s.v[LEDGER_CPO] = 42;
  assert_int_equal(ledger_sums_format(text, &s), strlen("1 0 18446744073709551615 42"));
  assert_string_equal(text, "1 0 18446744073709551615 42");
  assert_true(ledger_sums_parse(&back, text, strlen(text)));
  assert_memory_equal(&back, &s, sizeof s);
  /* with commitments: four more 64-hex fields */
  s.conf = 1;
  for (int i = 0; i < LEDGER_SUMS; i++) hanse_point_identity(&s.cm[i]);
  assert_int_equal(hanse_point_parse(&s.cm[LEDGER_DPO], ID_HEX), HANSE_OK);
  ledger_sums_format(text, &s);
  assert_string_equal(text, "1 0 18446744073709551615 42 " ZERO_HEX " " ID_HEX " " ZERO_HEX
                            " " ZERO_HEX);
  assert_true(ledger_sums_parse(&back, text, strlen(text)));
  assert_memory_equal(&back, &s, sizeof s);
  /* the query shape */
  json_t *o = json_object();
  assert_int_equal(ledger_sums_json(o, &s), HANSE_OK);
  assert_string_equal(json_string_value(json_object_get(o, "credits_pending")),
                      "18446744073709551615");
  assert_string_equal(json_string_value(json_object_get(o, "debits_posted")), "0");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(o, "commitments"), "debits_posted")),
      ID_HEX);
  json_decref(o);
  /* one spelling only */
  const char *bad[] = {"",
                       "0 0 0",
                       "0 0 0 0 ",
                       " 0 0 0 0",
                       "0  0 0 0",
                       "01 0 0 0",
                       "0 0 0 18446744073709551616",
                       "0 0 0 -1",
                       "0 0 0 0 0",
                       "0 0 0 0 " ZERO_HEX " " ZERO_HEX " " ZERO_HEX,
                       "0 0 0 0 " ZERO_HEX " " ZERO_HEX " " ZERO_HEX " zz",
                       "0 0 0 0 " ZERO_HEX " " ZERO_HEX " " ZERO_HEX " " ZERO_HEX " 0",
                       "{\"debits_pending\":\"0\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (ledger_sums_parse(&back, bad[i], strlen(bad[i]))) fail_msg("parsed \"%s\"", bad[i]);
  /* the length bounds the parse, not a NUL */
  assert_true(ledger_sums_parse(&back, "7 0 0 0 trailing", 7));
  assert_int_equal(back.v[LEDGER_DP], 7);
}

static void test_acct_format(void **state) {
  (void)state;
  ledger_acct a, back;
  char text[LEDGER_ACCT_TEXT_MAX];
  const char *good[] = {"acme EUR asset 7 - -",
                        "acme EURB liability 0 debits_must_not_exceed_credits token",
                        "0a1b token:X expense 18446744073709551615 credits_must_not_exceed_debits -"};
  for (size_t i = 0; i < 3; i++) {
    if (!ledger_acct_parse(&a, "x:1", good[i], strlen(good[i]))) fail_msg("refused \"%s\"", good[i]);
    assert_int_equal(ledger_acct_format(text, &a), strlen(good[i]));
    assert_string_equal(text, good[i]);
    assert_true(ledger_acct_parse(&back, "x:1", text, strlen(text)));
    assert_string_equal(back.owner, a.owner);
    assert_int_equal(back.opened_at, a.opened_at);
  }
  assert_true(ledger_acct_parse(&a, "x:1", good[1], strlen(good[1])));
  assert_int_equal(a.rule, LEDGER_RULE_DEBITS);
  assert_string_equal(a.controller, "token");
  json_t *o = ledger_acct_json(&a);
  char *dump = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(dump, "{\"asset\":\"EURB\",\"controller\":\"token\",\"id\":\"x:1\","
                            "\"opened_at\":0,\"owner\":\"acme\",\"rule\":"
                            "\"debits_must_not_exceed_credits\",\"type\":\"liability\"}");
  free(dump);
  json_decref(o);
  assert_true(ledger_acct_parse(&a, "x:1", good[0], strlen(good[0])));
  assert_null(a.controller);
  assert_null(a.rule_name);
  o = ledger_acct_json(&a);
  assert_null(json_object_get(o, "rule"));
  assert_null(json_object_get(o, "controller"));
  json_decref(o);
  const char *bad[] = {"acme EUR asset 7 -",          "acme EUR asset 7 - - x",
                       "acme EUR asset 07 - -",       "acme  EUR asset 7 - -",
                       "acme EUR asset 7 - - ",       "acme EUR asset 7 nope -",
                       "acme EUR asset -1 - -",       "{\"owner\":\"acme\"}",
                       ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (ledger_acct_parse(&a, "x", bad[i], strlen(bad[i]))) fail_msg("parsed \"%s\"", bad[i]);
}

/* ---- marks ------------------------------------------------------------------ */

typedef struct bk {
  hanse_store *s;
  hanse_exec ex;
  hanse_buf raw;
  hanse_tx tx;
  hanse_keypair bob;
  char owner[HANSE_HASH_HEX_BYTES];
} bk;

/* A store holding accounts x, y (EUR, bob's) and x's balance row, and an
 * exec of block 2 running one transaction of bob's. */
static int bk_setup(void **state) {
  bk *k = calloc(1, sizeof *k);
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &k->s, &rej), HANSE_OK);
  fx_key(&k->bob, 0xb0);
  fx_hex(k->owner, &k->bob.pub);
  hanse_hash zero, digest, sum;
  memset(&zero, 0, sizeof zero);
  assert_int_equal(hanse_store_begin(k->s), HANSE_OK);
  assert_int_equal(hanse_exec_begin(&k->ex, k->s, 1, 1000, &zero, &zero), HANSE_OK);
  const char *accts[] = {"x", "y"};
  for (int i = 0; i < 2; i++) {
    char rec[256], key[64];
    snprintf(rec, sizeof rec, "%s EUR asset 1 - -", k->owner);
    snprintf(key, sizeof key, "ledger/acct/%s", accts[i]);
    assert_int_equal(hanse_exec_put_raw(&k->ex, key, strlen(key), rec, strlen(rec)), HANSE_OK);
  }
  assert_int_equal(hanse_exec_put_raw(&k->ex, "ledger/bal/x", 12, "0 0 0 100", 9), HANSE_OK);
  assert_int_equal(hanse_exec_put_raw(&k->ex, "ledger/bal/y", 12, "0 100 0 0", 9), HANSE_OK);
  assert_int_equal(hanse_exec_put_raw(&k->ex, "ledger/totals/EUR", 17, "0 100 0 100", 11),
                   HANSE_OK);
  assert_int_equal(hanse_exec_finish(&k->ex, &digest, &sum), HANSE_OK);
  hanse_exec_free(&k->ex);
  assert_int_equal(hanse_store_commit(k->s), HANSE_OK);
  hanse_buf_init(&k->raw);
  fx_tx(&k->raw, &k->bob, FX_CHAIN_ID, "ledger.transfer", 1, 0, "{\"transfers\":[]}");
  assert_int_equal(hanse_tx_decode(&k->tx, k->raw.data, k->raw.len, 0, NULL), HANSE_OK);
  assert_int_equal(hanse_store_begin(k->s), HANSE_OK);
  assert_int_equal(hanse_exec_begin(&k->ex, k->s, 2, 2000, &digest, &sum), HANSE_OK);
  k->ex.tx = &k->tx;
  *state = k;
  return 0;
}

static int bk_teardown(void **state) {
  bk *k = *state;
  hanse_exec_free(&k->ex);
  hanse_store_rollback(k->s);
  hanse_store_close(k->s);
  hanse_buf_free(&k->raw);
  hanse_keypair_wipe(&k->bob);
  free(k);
  return 0;
}

/* Transfer id of amount from debit to credit on book b: its code. */
static const char *make(ledger_book *b, const char *id, const char *debit, const char *credit,
                        int amount) {
  static hanse_reject rej;
  json_t *t = json_pack("{s:s, s:s, s:s, s:i}", "id", id, "debit", debit, "credit", credit,
                        "amount", amount);
  const ledger_xfer_opts own = {1, NULL};
  int exists = 0;
  hanse_reject_clear(&rej);
  int rc = ledger_transfer_make(b, t, 0, &own, &exists, &rej);
  json_decref(t);
  return rc == HANSE_OK ? "ok" : rej.code;
}

static int in_overlay(ledger_book *b, const char *key) {
  json_t *v = json_object_get(b->w, key);
  return v != NULL && !json_is_null(v);
}

/* The number of overlay keys starting with prefix. */
static size_t overlay_count(ledger_book *b, const char *prefix) {
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach(b->w, k, v) n += strncmp(k, prefix, strlen(prefix)) == 0;
  return n;
}

static void expect_sums(const ledger_sums *s, uint64_t dp, uint64_t dpo, uint64_t cp,
                        uint64_t cpo) {
  assert_int_equal(s->v[LEDGER_DP], dp);
  assert_int_equal(s->v[LEDGER_DPO], dpo);
  assert_int_equal(s->v[LEDGER_CP], cp);
  assert_int_equal(s->v[LEDGER_CPO], cpo);
}

/* After test_rollback's commit: t0's record is stored as its row
 * (ledger_xfer.c), a new book reads it back as the record, and the same
 * request again is ledger.exists while other fields are
 * ledger.id_conflict. */
static void xfer_stored(bk *k) {
  char want[LEDGER_XFER_TEXT_MAX], txhex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(txhex, &k->tx.id);
  snprintf(want, sizeof want, "t0 x y 3 EUR posted - - - - - - - %s 2 - -", txhex);
  const uint8_t *v;
  size_t vl;
  int found;
  assert_int_equal(hanse_exec_get(&k->ex, "ledger/xfer/t0", &v, &vl, &found), HANSE_OK);
  assert_true(found);
  assert_int_equal(vl, strlen(want));
  assert_memory_equal(v, want, vl);
  ledger_book b;
  json_t *rec = NULL;
  assert_int_equal(ledger_book_open(&b, &k->ex), HANSE_OK);
  assert_int_equal(ledger_get(&b, "ledger/xfer/t0", &rec), HANSE_OK);
  assert_non_null(rec);
  assert_int_equal(json_integer_value(json_object_get(rec, "amount")), 3);
  assert_int_equal(json_integer_value(json_object_get(rec, "height")), 2);
  assert_string_equal(json_string_value(json_object_get(rec, "status")), "posted");
  assert_string_equal(json_string_value(json_object_get(rec, "tx")), txhex);
  assert_int_equal(json_object_size(rec), 8);
  json_decref(rec);
  const ledger_xfer_opts own = {1, NULL};
  hanse_reject rej;
  int exists = 0;
  json_t *t = json_pack("{s:s, s:s, s:s, s:i, s:b}", "id", "t0", "debit", "x", "credit", "y",
                        "amount", 3, "pending", 0);
  assert_int_equal(ledger_transfer_make(&b, t, 0, &own, &exists, &rej), HANSE_OK);
  assert_true(exists);
  json_object_set_new(t, "code", json_integer(1));
  assert_int_equal(ledger_transfer_make(&b, t, 0, &own, &exists, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "ledger.id_conflict");
  json_decref(t);
  ledger_book_close(&b);
}

static void test_rollback(void **state) {
  bk *k = *state;
  ledger_book b;
  hanse_reject rej;
  ledger_acct *x, *y, *z;
  ledger_totals *eur;
  assert_int_equal(ledger_book_open(&b, &k->ex), HANSE_OK);
  assert_string_equal(b.owner, k->owner);
  assert_int_equal(ledger_acct_load(&b, "x", &x), HANSE_OK);
  assert_int_equal(ledger_acct_load(&b, "y", &y), HANSE_OK);
  assert_int_equal(ledger_totals_load(&b, "EUR", &eur), HANSE_OK);
  assert_non_null(x);
  assert_string_equal(x->owner, k->owner);
  expect_sums(&x->sums, 0, 0, 0, 100);
  assert_string_equal(make(&b, "t0", "x", "y", 3), "ok"); /* before any mark: kept */

  /* a chain: a transfer, an account opened, a transfer to it, then a
   * failure -- all undone */
  size_t m = ledger_book_mark(&b);
  assert_string_equal(make(&b, "t1", "x", "y", 5), "ok");
  expect_sums(&x->sums, 0, 8, 0, 100);
  assert_int_equal(ledger_account_open(&b, "z", k->owner, "EUR", "asset", NULL, NULL, &rej),
                   HANSE_OK);
  assert_string_equal(make(&b, "t2", "y", "z", 7), "ok");
  assert_int_equal(ledger_acct_load(&b, "z", &z), HANSE_OK);
  expect_sums(&z->sums, 0, 0, 0, 7);
  assert_string_equal(make(&b, "t3", "x", "nobody", 1), "ledger.no_account");
  ledger_book_rollback(&b, m);
  expect_sums(&x->sums, 0, 3, 0, 100);
  expect_sums(&y->sums, 0, 100, 0, 3);
  expect_sums(&eur->sums, 0, 103, 0, 103);
  assert_true(x->dirty && y->dirty && eur->dirty); /* by t0 */
  assert_true(in_overlay(&b, "ledger/xfer/t0"));
  assert_false(in_overlay(&b, "ledger/xfer/t1"));
  assert_false(in_overlay(&b, "ledger/xfer/t2"));
  assert_false(in_overlay(&b, "ledger/acct/z"));
  assert_int_equal(overlay_count(&b, "ledger/acx/"), 2); /* t0's */
  assert_int_equal(overlay_count(&b, "ledger/own/"), 0);
  assert_int_equal(ledger_acct_load(&b, "z", &z), HANSE_OK);
  assert_null(z); /* forgotten by the cache too */

  /* nested: the inner chain fails, the outer survives */
  size_t outer = ledger_book_mark(&b);
  assert_string_equal(make(&b, "t4", "y", "x", 10), "ok");
  size_t inner = ledger_book_mark(&b);
  assert_string_equal(make(&b, "t5", "x", "y", 20), "ok");
  assert_string_equal(make(&b, "t0", "x", "y", 4), "ledger.id_conflict");
  ledger_book_rollback(&b, inner);
  ledger_book_release(&b, outer);
  assert_int_equal(b.marks, 0);
  assert_int_equal(b.undo_n, 0);
  expect_sums(&x->sums, 0, 3, 0, 110);
  expect_sums(&y->sums, 0, 110, 0, 3);
  expect_sums(&eur->sums, 0, 113, 0, 113);
  assert_true(in_overlay(&b, "ledger/xfer/t4"));
  assert_false(in_overlay(&b, "ledger/xfer/t5"));

  /* a generic save outside and inside a mark */
  int n = 1;
  assert_int_equal(ledger_book_save(&b, &n, sizeof n), HANSE_OK);
  assert_int_equal(b.undo_n, 0); /* nothing logged without a mark */
  m = ledger_book_mark(&b);
  assert_int_equal(ledger_book_save(&b, &n, sizeof n), HANSE_OK);
  n = 2;
  ledger_book_rollback(&b, m);
  assert_int_equal(n, 1);

  /* an account opened outside a mark stays, and is written by the commit */
  assert_int_equal(ledger_account_open(&b, "w", k->owner, "EUR", "asset",
                                       "debits_must_not_exceed_credits", NULL, &rej),
                   HANSE_OK);
  assert_int_equal(ledger_account_open(&b, "w", k->owner, "EUR", "asset", NULL, NULL, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "ledger.account_exists");
  assert_string_equal(make(&b, "t6", "w", "x", 1), "ledger.exceeds_credits");

  /* the commit: the rows of what survived, in their layout */
  assert_int_equal(ledger_book_commit(&b), HANSE_OK);
  ledger_book_close(&b);
  struct {
    const char *key, *val;
  } want[] = {{"ledger/bal/x", "0 3 0 110"},
              {"ledger/bal/y", "0 110 0 3"},
              {"ledger/totals/EUR", "0 113 0 113"},
              {"ledger/acct/w", NULL}};
  char wrec[256];
  snprintf(wrec, sizeof wrec, "%s EUR asset 2 debits_must_not_exceed_credits -", k->owner);
  want[3].val = wrec;
  for (size_t i = 0; i < 4; i++) {
    const uint8_t *v;
    size_t vl;
    int found;
    assert_int_equal(hanse_exec_get(&k->ex, want[i].key, &v, &vl, &found), HANSE_OK);
    assert_true(found);
    assert_int_equal(vl, strlen(want[i].val));
    assert_memory_equal(v, want[i].val, vl);
  }
  const uint8_t *v;
  size_t vl;
  int found;
  assert_int_equal(hanse_exec_get(&k->ex, "ledger/bal/w", &v, &vl, &found), HANSE_OK);
  assert_false(found); /* nothing moved it */
  assert_int_equal(hanse_exec_get(&k->ex, "ledger/bal/z", &v, &vl, &found), HANSE_OK);
  assert_false(found);
  assert_int_equal(hanse_exec_get(&k->ex, "ledger/acct/z", &v, &vl, &found), HANSE_OK);
  assert_false(found);
  assert_int_equal(hanse_exec_get(&k->ex, "ledger/xfer/t2", &v, &vl, &found), HANSE_OK);
  assert_false(found);
  xfer_stored(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_row_format),
      cmocka_unit_test(test_acct_format),
      cmocka_unit_test_setup_teardown(test_rollback, bk_setup, bk_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
