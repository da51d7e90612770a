/*
 * test_ledger.c -- the ledger module over HTTP against a real node.
 *
 * A chain "books" with organisations org1 (seed 1) and org2 (seed 2):
 *  1. org1 opens two EUR accounts and org2 one; a transfer commits and
 *     the account query shows it (decimal-string balances).
 *  2. Errors: a malformed transfer is refused at submission, 400 with
 *     {"error":{"code":"ledger.bad_amount"}}; a transfer org2 may not make
 *     (debiting org1's account) commits as a rejection receipt
 *     "ledger.not_owner", which GET /txs/{id} shows too; queries answer
 *     404 ledger.no_account and 400 ledger.bad_id.
 *  3. Replays: the same signed transaction again answers "committed" and
 *     commits nothing (tx_count unchanged); a new transaction carrying the
 *     same transfer commits "ok" and changes no balance; the same id with
 *     another amount is "ledger.id_conflict".
 *  4. Two-phase: a pending transfer posted in part moves exactly that
 *     part; the totals query shows debits equal to credits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "itest.h"

#define CHAIN "books"

static it_node node;
static uint64_t seqs[4];

static json_t *post_hex(const char *hex, int wait, long *st) {
  char *body = malloc(strlen(hex) + 32);
  IT_CHECK(body != NULL);
  sprintf(body, "{\"txs\":[\"%s\"]}", hex);
  json_t *j = it_post_json(&node, wait ? "/v1/chains/" CHAIN "/txs?wait=1" : "/v1/chains/" CHAIN "/txs",
                           body, st);
  free(body);
  return j;
}

static const char *result_field(json_t *j, const char *f) {
  return json_string_value(json_object_get(json_array_get(json_object_get(j, "results"), 0), f));
}

static const char *error_code(json_t *j) {
  return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

/* Submit and wait; the receipt code (static), the hex kept in *hex_out
 * when not NULL (free). */
static const char *submit(uint8_t seed, const char *kind, const char *payload, char **hex_out,
                          hanse_hash *id) {
  static char code[64];
  char *hex = it_tx_hex(CHAIN, kind, seed, ++seqs[seed], payload, id);
  long st;
  json_t *j = post_hex(hex, 1, &st);
  IT_CHECK(st == 200 && j != NULL);
  IT_CHECK(strcmp(result_field(j, "status"), "committed") == 0);
  snprintf(code, sizeof code, "%s", result_field(j, "code"));
  json_decref(j);
  if (hex_out) *hex_out = hex;
  else free(hex);
  return code;
}

static json_t *query(const char *path_and_params, long want_status) {
  char path[512];
  long st;
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/query/ledger/%s", path_and_params);
  json_t *j = it_get_json(&node, path, &st);
  if (st != want_status) fprintf(stderr, "GET %s: %ld, want %ld\n", path, st, want_status);
  IT_CHECK(st == want_status && j != NULL);
  return j;
}

static const char *str(json_t *j, const char *f) { return json_string_value(json_object_get(j, f)); }

static uint64_t tx_count(void) {
  long st;
  json_t *j = it_get_json(&node, "/v1/chains/" CHAIN "/status", &st);
  IT_CHECK(st == 200 && j);
  uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "tx_count"));
  json_decref(j);
  return n;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_init(&node, argv[1], CHAIN, seeds, 2);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  /* 1. Accounts and a transfer. */
  IT_CHECK(strcmp(submit(1, "ledger.open", "{\"account\":\"org1:cash\",\"asset\":\"EUR\",\"type\":\"asset\"}",
                         NULL, NULL), "ok") == 0);
  IT_CHECK(strcmp(submit(1, "ledger.open",
                         "{\"account\":\"org1:sales\",\"asset\":\"EUR\",\"type\":\"revenue\"}", NULL,
                         NULL), "ok") == 0);
  IT_CHECK(strcmp(submit(2, "ledger.open",
                         "{\"account\":\"org2:cash\",\"asset\":\"EUR\",\"type\":\"asset\","
                         "\"rule\":\"debits_must_not_exceed_credits\"}",
                         NULL, NULL), "ok") == 0);
  const char *t1 = "{\"transfers\":[{\"id\":\"inv-1\",\"debit\":\"org1:cash\","
                   "\"credit\":\"org1:sales\",\"amount\":12500,\"code\":1}]}";
  char *t1_hex = NULL;
  IT_CHECK(strcmp(submit(1, "ledger.transfer", t1, &t1_hex, NULL), "ok") == 0);
  json_t *a = query("account?account=org1:cash", 200);
  IT_CHECK(strcmp(str(a, "owner"), "org1") == 0);
  IT_CHECK(strcmp(str(a, "debits_posted"), "12500") == 0);
  json_decref(a);
  a = query("accounts?owner=org1", 200);
  IT_CHECK(json_array_size(json_object_get(a, "accounts")) == 2);
  json_decref(a);

  /* 2. Errors. */
  long st;
  char *bad = it_tx_hex(CHAIN, "ledger.transfer", 1, seqs[1] + 1,
                        "{\"transfers\":[{\"id\":\"x\",\"debit\":\"org1:cash\","
                        "\"credit\":\"org1:sales\",\"amount\":0}]}",
                        NULL);
  json_t *j = post_hex(bad, 1, &st);
  IT_CHECK(st == 400 && j && strcmp(error_code(j), "ledger.bad_amount") == 0);
  IT_CHECK(strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                  "transfers[0].amount") != NULL);
  json_decref(j);
  free(bad);
  hanse_hash id;
  IT_CHECK(strcmp(submit(2, "ledger.transfer",
                         "{\"transfers\":[{\"id\":\"steal\",\"debit\":\"org1:cash\","
                         "\"credit\":\"org2:cash\",\"amount\":1}]}",
                         NULL, &id), "ledger.not_owner") == 0);
  char path[256], idhex[65];
  hanse_hex_encode(idhex, id.b, HANSE_HASH_BYTES);
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/txs/%s", idhex);
  j = it_get_json(&node, path, &st);
  IT_CHECK(st == 200 && j && strcmp(str(json_object_get(j, "receipt"), "code"), "ledger.not_owner") == 0);
  json_decref(j);
  /* org2's own account may not go below its credits */
  IT_CHECK(strcmp(submit(2, "ledger.transfer",
                         "{\"transfers\":[{\"id\":\"over\",\"debit\":\"org2:cash\","
                         "\"credit\":\"org1:cash\",\"amount\":1}]}",
                         NULL, NULL), "ledger.exceeds_credits") == 0);
  j = query("account?account=nope", 404);
  IT_CHECK(strcmp(error_code(j), "ledger.no_account") == 0);
  json_decref(j);
  j = query("transfer?id=a%2Fb", 400);
  IT_CHECK(strcmp(error_code(j), "ledger.bad_id") == 0);
  json_decref(j);
  j = query("transfer?id=steal", 404);
  IT_CHECK(strcmp(error_code(j), "ledger.no_transfer") == 0);
  json_decref(j);

  /* 3. Replays. */
  uint64_t before = tx_count();
  j = post_hex(t1_hex, 1, &st);
  IT_CHECK(st == 200 && j && strcmp(result_field(j, "status"), "committed") == 0);
  IT_CHECK(strcmp(result_field(j, "code"), "ok") == 0);
  json_decref(j);
  IT_CHECK(tx_count() == before);
  free(t1_hex);
  IT_CHECK(strcmp(submit(1, "ledger.transfer", t1, NULL, NULL), "ok") == 0); /* exists */
  a = query("account?account=org1:sales", 200);
  IT_CHECK(strcmp(str(a, "credits_posted"), "12500") == 0);
  json_decref(a);
  IT_CHECK(strcmp(submit(1, "ledger.transfer",
                         "{\"transfers\":[{\"id\":\"inv-1\",\"debit\":\"org1:cash\","
                         "\"credit\":\"org1:sales\",\"amount\":12501,\"code\":1}]}",
                         NULL, NULL), "ledger.id_conflict") == 0);

  /* 4. Two-phase, and the totals. */
  IT_CHECK(strcmp(submit(1, "ledger.transfer",
                         "{\"transfers\":[{\"id\":\"hold-1\",\"debit\":\"org1:cash\","
                         "\"credit\":\"org2:cash\",\"amount\":300,\"pending\":true,"
                         "\"timeout\":3600}]}",
                         NULL, NULL), "ok") == 0);
  j = query("transfer?id=hold-1", 200);
  IT_CHECK(strcmp(str(j, "status"), "pending") == 0);
  json_decref(j);
  IT_CHECK(strcmp(submit(2, "ledger.post", "{\"id\":\"hold-1\",\"amount\":120}", NULL, NULL),
                  "ledger.not_owner") == 0);
  IT_CHECK(strcmp(submit(1, "ledger.post", "{\"id\":\"hold-1\",\"amount\":120}", NULL, NULL), "ok") == 0);
  a = query("account?account=org2:cash", 200);
  IT_CHECK(strcmp(str(a, "credits_posted"), "120") == 0);
  IT_CHECK(strcmp(str(a, "credits_pending"), "0") == 0);
  json_decref(a);
  j = query("totals?asset=EUR", 200);
  IT_CHECK(strcmp(str(j, "debits_posted"), "12620") == 0);
  IT_CHECK(strcmp(str(j, "credits_posted"), "12620") == 0);
  IT_CHECK(strcmp(str(j, "debits_pending"), str(j, "credits_pending")) == 0);
  json_decref(j);
  j = query("transfers?account=org1:cash", 200);
  IT_CHECK(json_array_size(json_object_get(j, "transfers")) == 2);
  json_decref(j);

  it_stop(&node);
  it_cleanup_all();
  printf("test_ledger: ok\n");
  return 0;
}
