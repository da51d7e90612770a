/*
 * test_fx.c -- a cross-currency payment over HTTP against a real node.
 *
 * A chain "pay" with organisations org1 (the market maker, seed 1), org2
 * (the payer) and org3 (the payee). org1 signs a quote with `hanse fx
 * quote` (USD for EUR at 10850/10000, valid for ten minutes from now);
 * org2 pays 1000 EUR with it and org3's USD account receives 1085; the
 * payment and the quote's use are read back through the module queries.
 * A quote altered after signing is refused at submission (400
 * fx.bad_signature); an expired quote commits as the rejection receipt
 * fx.quote_expired and moves nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "itest.h"

#define CHAIN "pay"

/* An fx.pay payload from org2's EUR to org3's USD; %s: the quote. */
#define PAY(id, amount)                                                                 \
  "{\"id\":\"" id "\",\"quote\":%s,\"debit\":\"o2:eur\",\"credit\":\"o3:usd\",\"amount\":" \
  amount "}"

static it_node node;
static hanse_keypair keys[4];

static const char *submit(int who, const char *kind, const char *payload) {
  json_t *p = json_loads(payload, 0, NULL);
  IT_CHECK(p != NULL);
  return it_client_submit(&node, CHAIN, &keys[who], kind, p);
}

static json_t *get(const char *path, long want) {
  char url[512];
  long st;
  snprintf(url, sizeof url, "/v1/chains/" CHAIN "/query/%s", path);
  json_t *j = it_get_json(&node, url, &st);
  if (st != want) fprintf(stderr, "GET %s: %ld, want %ld\n", url, st, want);
  IT_CHECK(st == want && j != NULL);
  return j;
}

static const char *str(json_t *j, const char *f) { return json_string_value(json_object_get(j, f)); }

/* `hanse fx quote` with org1's key file and the extra window options. */
static char *quote(const char *id, const char *w1, const char *v1, const char *w2,
                   const char *v2) {
  char keyfile[300];
  snprintf(keyfile, sizeof keyfile, "%s/maker.json", node.dir);
  const char *argv[] = {node.hanse, "fx", "quote", "--key", keyfile, "--id", id, "--maker",
                        "org1", "--sell", "USD", "--buy", "EUR", "--rate", "10850/10000",
                        "--max", "100000", "--buy-account", "mm:eur", "--sell-account",
                        "mm:usd", w1, v1, w2, v2, NULL};
  char *out = NULL;
  IT_CHECK(it_run(argv, &out) == 0);
  json_t *q = json_loads(out, 0, NULL);
  IT_CHECK(q != NULL && strcmp(str(q, "maker"), "org1") == 0);
  free(out);
  char *text = json_dumps(q, JSON_COMPACT);
  json_decref(q);
  return text;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2, 3};
  it_init(&node, argv[1], CHAIN, seeds, 3);
  for (int i = 1; i <= 3; i++) it_key(&keys[i], (uint8_t)i);
  char keyfile[300];
  snprintf(keyfile, sizeof keyfile, "%s/maker.json", node.dir);
  IT_CHECK(hanse_keyfile_write(keyfile, &keys[1]) == HANSE_OK);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  const struct {
    int who;
    const char *account, *asset, *rule;
  } accounts[] = {{1, "mm:eur", "EUR", NULL},  {1, "mm:usd", "USD", "debits_must_not_exceed_credits"},
                  {1, "mm:cap", "USD", NULL},  {2, "o2:eur", "EUR", "debits_must_not_exceed_credits"},
                  {2, "o2:cap", "EUR", NULL},  {3, "o3:usd", "USD", NULL}};
  for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
    json_t *p = json_pack("{s:s, s:s, s:s}", "account", accounts[i].account, "asset",
                          accounts[i].asset, "type", "asset");
    if (accounts[i].rule) json_object_set_new(p, "rule", json_string(accounts[i].rule));
    IT_CHECK(strcmp(it_client_submit(&node, CHAIN, &keys[accounts[i].who], "ledger.open", p),
                    "ok") == 0);
  }
  IT_CHECK(strcmp(submit(1, "ledger.transfer",
                         "{\"transfers\":[{\"id\":\"f1\",\"debit\":\"mm:cap\",\"credit\":"
                         "\"mm:usd\",\"amount\":100000}]}"),
                  "ok") == 0);
  IT_CHECK(strcmp(submit(2, "ledger.transfer",
                         "{\"transfers\":[{\"id\":\"f2\",\"debit\":\"o2:cap\",\"credit\":"
                         "\"o2:eur\",\"amount\":5000}]}"),
                  "ok") == 0);

  /* 1. The payment. */
  char *q = quote("q1", "--valid-for", "600", NULL, NULL);
  char payload[4096];
  snprintf(payload, sizeof payload, PAY("p1", "1000"), q);
  IT_CHECK(strcmp(submit(2, "fx.pay", payload), "ok") == 0);
  json_t *j = get("fx/payment?id=p1", 200);
  IT_CHECK(strcmp(str(json_object_get(j, "received"), "amount"), "1085") == 0);
  IT_CHECK(strcmp(str(j, "payer"), "org2") == 0 && strcmp(str(j, "payee"), "org3") == 0);
  json_decref(j);
  j = get("ledger/account?account=o3:usd", 200);
  IT_CHECK(strcmp(str(j, "credits_posted"), "1085") == 0);
  json_decref(j);
  j = get("fx/quote_use?quote=q1", 200);
  IT_CHECK(strcmp(str(j, "used"), "1000") == 0);
  json_decref(j);
  j = get("fx/payment?id=nope", 404);
  IT_CHECK(strcmp(str(json_object_get(j, "error"), "code"), "fx.no_payment") == 0);
  json_decref(j);

  /* 2. A quote altered after signing: refused at submission. */
  char *at = strstr(q, "10850");
  IT_CHECK(at != NULL);
  at[0] = '2';
  snprintf(payload, sizeof payload, PAY("p1", "1000"), q);
  char *hex = it_tx_hex(CHAIN, "fx.pay", 2, 99, payload, NULL);
  char *body = malloc(strlen(hex) + 16);
  IT_CHECK(body != NULL);
  sprintf(body, "{\"txs\":[\"%s\"]}", hex);
  long st;
  j = it_post_json(&node, "/v1/chains/" CHAIN "/txs", body, &st);
  json_t *r0 = json_array_get(json_object_get(j, "results"), 0);
  IT_CHECK(st == 400 && strcmp(str(r0, "status"), "rejected") == 0 &&
           strcmp(str(r0, "code"), "fx.bad_signature") == 0);
  json_decref(j);
  free(body);
  free(hex);
  free(q);

  /* 3. An expired quote: a rejection receipt; nothing moves. */
  q = quote("q2", "--from", "1000", "--until", "2000");
  snprintf(payload, sizeof payload, PAY("p2", "10"), q);
  IT_CHECK(strcmp(submit(2, "fx.pay", payload), "fx.quote_expired") == 0);
  free(q);
  j = get("ledger/account?account=o2:eur", 200);
  IT_CHECK(strcmp(str(j, "debits_posted"), "1000") == 0);
  json_decref(j);

  it_stop(&node);
  it_cleanup_all();
  printf("test_fx: ok\n");
  return 0;
}
