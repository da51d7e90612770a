/*
 * test_clearing.c -- clearing and settlement over HTTP against a real
 * node.
 *
 * A chain "clr" whose genesis names org1 the clearing operator and three
 * banks org2..org4. Each bank opens a customer account and a capital
 * account, joins USD clearing and funds its settlement account; org1
 * joins with the house's accounts. Four payments between customers of
 * different banks (gross 250) leave org2 flat, org3 owing 20 and org4 owed
 * 20: the positions query shows gross 250, net 20, saving 230. A bank
 * may not settle (clearing.not_operator); the operator settles, the
 * settlement accounts move by exactly the nets, the kept report of cycle
 * 1 says "settled", and settling it again is clearing.cycle_closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define CHAIN "clr"

static it_node node;
static hanse_keypair keys[5];

static const char *submit(int who, const char *kind, const char *payload) {
  json_t *p = json_loads(payload, 0, NULL);
  IT_CHECK(p != NULL);
  return it_client_submit(&node, CHAIN, &keys[who], kind, p);
}

static void ok(int who, const char *kind, const char *payload) {
  const char *code = submit(who, kind, payload);
  if (strcmp(code, "ok") != 0) fprintf(stderr, "%s %s: %s\n", kind, payload, code);
  IT_CHECK(strcmp(code, "ok") == 0);
}

static json_t *get(const char *path) {
  char url[512];
  long st;
  snprintf(url, sizeof url, "/v1/chains/" CHAIN "/query/%s", path);
  json_t *j = it_get_json(&node, url, &st);
  IT_CHECK(st == 200 && j != NULL);
  return j;
}

static const char *str(json_t *j, const char *f) { return json_string_value(json_object_get(j, f)); }

static const char *balance_of(const char *account) {
  static char out[32];
  char path[128];
  snprintf(path, sizeof path, "ledger/account?account=%s", account);
  json_t *a = get(path);
  long long b = strtoll(str(a, "credits_posted"), NULL, 10) - strtoll(str(a, "debits_posted"), NULL, 10);
  json_decref(a);
  snprintf(out, sizeof out, "%lld", b);
  return out;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t base[] = {1};
  it_init(&node, argv[1], "base", base, 1);
  json_t *orgs = json_array();
  for (int i = 1; i <= 4; i++) {
    char hex[65], id[8];
    it_pubhex(hex, (uint8_t)i);
    it_key(&keys[i], (uint8_t)i);
    snprintf(id, sizeof id, "org%d", i);
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "name", id, "role",
                                          "bank", "keys", hex));
  }
  it_init_genesis(&node, json_pack("{s:s, s:o, s:{s:s}}", "chain_id", CHAIN, "organisations", orgs,
                                   "clearing", "operator", "org1"));
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  char p[512];
  for (int b = 2; b <= 4; b++) {
    snprintf(p, sizeof p, "{\"account\":\"o%d:cap\",\"asset\":\"USD\",\"type\":\"equity\"}", b);
    ok(b, "ledger.open", p);
    snprintf(p, sizeof p,
             "{\"account\":\"o%d:cust\",\"asset\":\"USD\",\"type\":\"liability\",\"rule\":"
             "\"debits_must_not_exceed_credits\"}", b);
    ok(b, "ledger.open", p);
    snprintf(p, sizeof p,
             "{\"asset\":\"USD\",\"clearing_account\":\"o%d:clr\",\"settlement_account\":"
             "\"o%d:stl\"}", b, b);
    ok(b, "clearing.join", p);
    snprintf(p, sizeof p,
             "{\"transfers\":[{\"id\":\"f%d\",\"debit\":\"o%d:cap\",\"credit\":\"o%d:cust\","
             "\"amount\":1000,\"linked\":true},{\"id\":\"s%d\",\"debit\":\"o%d:cap\",\"credit\":"
             "\"o%d:stl\",\"amount\":500}]}", b, b, b, b, b, b);
    ok(b, "ledger.transfer", p);
  }
  ok(1, "clearing.join",
     "{\"asset\":\"USD\",\"clearing_account\":\"house:clr\",\"settlement_account\":\"house:stl\"}");

  const struct {
    int from, to, amount;
  } pays[] = {{2, 3, 100}, {3, 2, 70}, {3, 4, 50}, {4, 2, 30}};
  for (int i = 0; i < 4; i++) {
    snprintf(p, sizeof p,
             "{\"id\":\"p%d\",\"asset\":\"USD\",\"amount\":%d,\"from_bank\":\"org%d\","
             "\"from_account\":\"o%d:cust\",\"to_bank\":\"org%d\",\"to_account\":\"o%d:cust\"}",
             i, pays[i].amount, pays[i].from, pays[i].from, pays[i].to, pays[i].to);
    ok(pays[i].from, "clearing.pay", p);
  }
  /* the customers see the money at once */
  IT_CHECK(strcmp(balance_of("o2:cust"), "1000") == 0);
  IT_CHECK(strcmp(balance_of("o3:cust"), "980") == 0);
  IT_CHECK(strcmp(balance_of("o4:cust"), "1020") == 0);
  json_t *r = get("clearing/positions?asset=USD");
  IT_CHECK(json_integer_value(json_object_get(r, "obligations")) == 4);
  IT_CHECK(strcmp(str(r, "gross"), "250") == 0 && strcmp(str(r, "net"), "20") == 0 &&
           strcmp(str(r, "saving"), "230") == 0 && strcmp(str(r, "status"), "open") == 0);
  json_decref(r);

  IT_CHECK(strcmp(submit(2, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":1}"),
                  "clearing.not_operator") == 0);
  ok(1, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":1}");
  IT_CHECK(strcmp(balance_of("o2:stl"), "500") == 0);
  IT_CHECK(strcmp(balance_of("o3:stl"), "480") == 0);
  IT_CHECK(strcmp(balance_of("o4:stl"), "520") == 0);
  for (int b = 2; b <= 4; b++) {
    snprintf(p, sizeof p, "o%d:clr", b);
    IT_CHECK(strcmp(balance_of(p), "0") == 0);
  }
  r = get("clearing/cycle?asset=USD&cycle=1");
  IT_CHECK(strcmp(str(r, "status"), "settled") == 0 && strcmp(str(r, "net"), "20") == 0);
  json_decref(r);
  IT_CHECK(strcmp(submit(1, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":1}"),
                  "clearing.cycle_closed") == 0);

  it_stop(&node);
  it_cleanup_all();
  printf("test_clearing: ok\n");
  return 0;
}
