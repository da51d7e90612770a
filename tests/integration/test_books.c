/*
 * test_books.c -- the books module over HTTP against a real node.
 *
 * A chain "books" with organisations org1 (seed 1) and org2 (seed 2):
 *  1. org1 pays org2 through the ledger (a transfer between their cash
 *     accounts, business "payment", ref "inv-1"); both journals hold one
 *     entry referencing that transaction, each by its side's default
 *     rule, and GET .../query/books/tx lists both.
 *  2. The trial balances: org2's cash up by the amount against its
 *     receivables, debits equal to credits; a period before the payment
 *     is empty.
 *  3. Bad input: a malformed books.entry is refused at submission with
 *     its code (400 books.unbalanced, books.bad_account); reversing an
 *     entry that does not exist commits as "books.no_entry"; queries
 *     answer 400 books.bad_owner and 404 books.no_entry.
 *  4. A reversal by org1 makes its payable and cash balance zero again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "itest.h"

#define CHAIN "books"

static it_node node;
static uint64_t seqs[4];

static const char *str(json_t *j, const char *f) { return json_string_value(json_object_get(j, f)); }

static const char *error_code(json_t *j) { return str(json_object_get(j, "error"), "code"); }

static json_t *post_tx(const char *hex, long *st) {
  char *body = malloc(strlen(hex) + 32);
  IT_CHECK(body != NULL);
  sprintf(body, "{\"txs\":[\"%s\"]}", hex);
  json_t *j = it_post_json(&node, "/v1/chains/" CHAIN "/txs?wait=1", body, st);
  free(body);
  return j;
}

/* Submit and wait; the receipt code (static), the id's hex in idhex. */
static const char *submit(uint8_t seed, const char *kind, const char *payload, char idhex[65]) {
  static char code[64];
  hanse_hash id;
  char *hex = it_tx_hex(CHAIN, kind, seed, ++seqs[seed], payload, &id);
  long st;
  json_t *j = post_tx(hex, &st);
  free(hex);
  IT_CHECK(st == 200 && j != NULL);
  json_t *r = json_array_get(json_object_get(j, "results"), 0);
  IT_CHECK(strcmp(str(r, "status"), "committed") == 0);
  snprintf(code, sizeof code, "%s", str(r, "code"));
  json_decref(j);
  if (idhex) hanse_hex_encode(idhex, id.b, HANSE_HASH_BYTES);
  return code;
}

/* A malformed transaction: refused at submission; its error code. */
static void refused(uint8_t seed, const char *kind, const char *payload, const char *want) {
  char *hex = it_tx_hex(CHAIN, kind, seed, seqs[seed] + 1, payload, NULL);
  long st;
  json_t *j = post_tx(hex, &st);
  free(hex);
  if (st != 400 || j == NULL || strcmp(error_code(j), want) != 0)
    fprintf(stderr, "%s %s: %ld %s, want 400 %s\n", kind, payload, st, j ? error_code(j) : "-", want);
  IT_CHECK(st == 400 && j && strcmp(error_code(j), want) == 0);
  json_decref(j);
}

static json_t *query(const char *path_and_params, long want_status) {
  char path[512];
  long st;
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/query/books/%s", path_and_params);
  json_t *j = it_get_json(&node, path, &st);
  if (st != want_status) fprintf(stderr, "GET %s: %ld, want %ld\n", path, st, want_status);
  IT_CHECK(st == want_status && j != NULL);
  return j;
}

/* The row of account/asset in a trial balance. */
static json_t *row(json_t *tb, const char *account) {
  json_t *list = json_object_get(tb, "accounts");
  for (size_t i = 0; i < json_array_size(list); i++)
    if (strcmp(str(json_array_get(list, i), "account"), account) == 0) return json_array_get(list, i);
  fprintf(stderr, "no row %s\n", account);
  IT_CHECK(0);
  return NULL;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_init(&node, argv[1], CHAIN, seeds, 2);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  /* 1. A payment, booked on both sides. */
  IT_CHECK(strcmp(submit(1, "ledger.open",
                         "{\"account\":\"org1:cash\",\"asset\":\"EUR\",\"type\":\"asset\"}", NULL),
                  "ok") == 0);
  IT_CHECK(strcmp(submit(2, "ledger.open",
                         "{\"account\":\"org2:cash\",\"asset\":\"EUR\",\"type\":\"asset\"}", NULL),
                  "ok") == 0);
  char paytx[65];
  IT_CHECK(strcmp(submit(1, "ledger.transfer",
                         "{\"transfers\":[{\"id\":\"pay-1\",\"debit\":\"org1:cash\","
                         "\"credit\":\"org2:cash\",\"amount\":12500,\"business\":\"payment\","
                         "\"ref\":\"inv-1\"}]}",
                         paytx),
                  "ok") == 0);
  json_t *j = query("journal?owner=org1", 200);
  json_t *entries = json_object_get(j, "entries");
  IT_CHECK(json_array_size(entries) == 1);
  json_t *e = json_array_get(entries, 0);
  IT_CHECK(strcmp(str(e, "tx"), paytx) == 0 && strcmp(str(e, "ref"), "inv-1") == 0);
  IT_CHECK(strcmp(str(e, "type"), "payment") == 0 && strcmp(str(e, "role"), "payer") == 0);
  IT_CHECK(strcmp(str(e, "counterparty"), "org2") == 0);
  json_t *l0 = json_array_get(json_object_get(e, "lines"), 0);
  IT_CHECK(strcmp(str(l0, "account"), "liabilities:payables") == 0);
  IT_CHECK(strcmp(str(l0, "debit"), "12500") == 0);
  json_decref(j);
  j = query("journal?owner=org2", 200);
  e = json_array_get(json_object_get(j, "entries"), 0);
  IT_CHECK(e && strcmp(str(e, "tx"), paytx) == 0 && strcmp(str(e, "role"), "payee") == 0);
  json_decref(j);
  char path[256];
  snprintf(path, sizeof path, "tx?tx=%s", paytx);
  j = query(path, 200);
  IT_CHECK(json_array_size(json_object_get(j, "entries")) == 2);
  json_decref(j);

  /* 2. Trial balances. */
  j = query("trial_balance?owner=org2", 200);
  IT_CHECK(json_is_true(json_object_get(j, "balanced")));
  IT_CHECK(strcmp(str(row(j, "assets:cash"), "balance"), "12500") == 0);
  IT_CHECK(strcmp(str(row(j, "assets:receivables"), "balance"), "-12500") == 0);
  json_t *tot = json_array_get(json_object_get(j, "totals"), 0);
  IT_CHECK(strcmp(str(tot, "asset"), "EUR") == 0 && strcmp(str(tot, "debit"), "12500") == 0 &&
           strcmp(str(tot, "credit"), "12500") == 0);
  json_decref(j);
  j = query("trial_balance?owner=org1&to=2000-01-01", 200);
  IT_CHECK(json_integer_value(json_object_get(j, "entries")) == 0);
  json_decref(j);

  /* 3. Bad input. */
  refused(1, "books.entry",
          "{\"lines\":[{\"account\":\"expenses:office\",\"asset\":\"EUR\",\"debit\":5},"
          "{\"account\":\"assets:cash\",\"asset\":\"EUR\",\"credit\":4}]}",
          "books.unbalanced");
  refused(1, "books.entry",
          "{\"lines\":[{\"account\":\"office\",\"asset\":\"EUR\",\"debit\":5},"
          "{\"account\":\"assets:cash\",\"asset\":\"EUR\",\"credit\":5}]}",
          "books.bad_account");
  IT_CHECK(strcmp(submit(1, "books.reverse", "{\"seq\":7}", NULL), "books.no_entry") == 0);
  j = query("journal?owner=ORG1", 400);
  IT_CHECK(strcmp(error_code(j), "books.bad_owner") == 0);
  json_decref(j);
  j = query("entry?owner=org1&seq=9", 404);
  IT_CHECK(strcmp(error_code(j), "books.no_entry") == 0);
  json_decref(j);
  j = query("trial_balance?owner=org1&from=yesterday", 400);
  IT_CHECK(strcmp(error_code(j), "books.bad_time") == 0);
  json_decref(j);

  /* 4. A reversal. */
  IT_CHECK(strcmp(submit(1, "books.reverse", "{\"seq\":1,\"memo\":\"wrong invoice\"}", NULL), "ok") == 0);
  j = query("entry?owner=org1&seq=1", 200);
  IT_CHECK(json_integer_value(json_object_get(j, "reversed_by")) == 2);
  json_decref(j);
  j = query("trial_balance?owner=org1", 200);
  IT_CHECK(json_is_true(json_object_get(j, "balanced")));
  IT_CHECK(strcmp(str(row(j, "liabilities:payables"), "balance"), "0") == 0);
  IT_CHECK(strcmp(str(row(j, "assets:cash"), "balance"), "0") == 0);
  json_decref(j);

  it_stop(&node);
  it_cleanup_all();
  printf("test_books: ok\n");
  return 0;
}
