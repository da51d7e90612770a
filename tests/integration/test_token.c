/*
 * test_token.c -- a bank-backed currency token through a real node.
 *
 * A consortium chain "tok" with a bank, a buyer, a seller and an audit
 * firm; its policy lets only the bank define, attest and issue tokens and
 * only the bank and auditors read financial data.
 *  1. The bank defines EURB backed by EUR; the buyer may not
 *     (policy.denied).
 *  2. The bank attests a reserve with the SHA-256 of its statement and
 *     issues EURB to the buyer; issuing beyond the reserve commits as
 *     token.unbacked.
 *  3. The buyer pays the seller with a plain ledger transfer in EURB; the
 *     seller redeems what it received; the bank attests the lower reserve.
 *  4. The auditor reads the backing over HTTP: issued, redeemed,
 *     outstanding, reserve, covered and both attestations, latest first;
 *     and the history. The buyer may not read it (policy.read_denied),
 *     nor may an unsigned request. The buyer reads its own books and
 *     accounts (owner queries) but not the seller's.
 *  5. A malformed issue is refused at submission: token.bad_amount.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/hash.h"
#include "itest.h"

#define CHAIN "tok"
enum { BANK = 11, BUYER = 12, SELLER = 13, AUDIT = 14 };

static it_node node;
static hanse_keypair kbank, kbuyer, kseller, kaudit;

static const char *submit(const hanse_keypair *kp, const char *kind, json_t *payload) {
  return it_client_submit(&node, CHAIN, kp, kind, payload);
}

static json_t *move(const char *account, json_int_t amount, const char *ref) {
  return json_pack("{s:s, s:s, s:I, s:s}", "symbol", "EURB", "account", account, "amount", amount,
                   "ref", ref);
}

static json_t *attest(json_int_t amount, const char *statement, const char *as_of) {
  hanse_hash h;
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_sha256(&h, statement, strlen(statement));
  hanse_hex_encode(hex, h.b, HANSE_HASH_BYTES);
  return json_pack("{s:s, s:I, s:s, s:s}", "symbol", "EURB", "amount", amount, "evidence", hex,
                   "as_of", as_of);
}

static const char *str(json_t *j, const char *f) { return json_string_value(json_object_get(j, f)); }

static void expect(const char *got, const char *want) {
  if (strcmp(got, want) != 0) fprintf(stderr, "got %s, want %s\n", got, want);
  IT_CHECK(strcmp(got, want) == 0);
}

static json_t *org(const char *id, const char *role, uint8_t seed) {
  char hex[65];
  it_pubhex(hex, seed);
  return json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "name", id, "role", role, "keys", hex);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t none[] = {250};
  it_init(&node, argv[1], "scratch", none, 1);
  json_t *policy = json_pack(
      "{s:{s:[s], s:[s], s:[s], s:[s]}, s:{s:[s,s]}, s:[s]}", "submit", "token.define", "bank",
      "token.reserve", "bank", "token.issue", "bank", "*", "*", "read", "financial", "bank",
      "auditor", "public", "blocks");
  it_init_genesis(&node, json_pack("{s:s, s:s, s:[o,o,o,o], s:o}", "chain_id", CHAIN, "type",
                                   "consortium", "organisations", org("bank", "bank", BANK),
                                   org("buyer", "manufacturer", BUYER),
                                   org("seller", "platform", SELLER),
                                   org("audit", "auditor", AUDIT), "policy", policy));
  IT_CHECK(it_start(&node, NULL, NULL) == 0);
  it_key(&kbank, BANK);
  it_key(&kbuyer, BUYER);
  it_key(&kseller, SELLER);
  it_key(&kaudit, AUDIT);

  /* 1. Define. */
  const char *def = "{\"symbol\":\"EURB\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"EUR\"}";
  expect(submit(&kbuyer, "token.define", json_loads(def, 0, NULL)), "policy.denied");
  expect(submit(&kbank, "token.define", json_loads(def, 0, NULL)), "ok");
  expect(submit(&kbuyer, "ledger.open",
                json_pack("{s:s, s:s, s:s}", "account", "buyer:eurb", "asset", "EURB", "type",
                          "asset")),
         "ok");
  expect(submit(&kseller, "ledger.open",
                json_pack("{s:s, s:s, s:s}", "account", "seller:eurb", "asset", "EURB", "type",
                          "asset")),
         "ok");

  /* 2. Reserve and issue. */
  expect(submit(&kbank, "token.reserve", attest(100000, "statement 2024-06-30: 1000.00 EUR",
                                                "2024-06-30")),
         "ok");
  expect(submit(&kbank, "token.issue", move("buyer:eurb", 25000, "wire-1")), "ok");
  expect(submit(&kbank, "token.issue", move("buyer:eurb", 75001, "wire-2")), "token.unbacked");

  /* 3. Pay, redeem, attest the lower reserve. */
  expect(submit(&kbuyer, "ledger.transfer",
                json_pack("{s:[{s:s, s:s, s:s, s:i, s:s}]}", "transfers", "id", "order-7",
                          "debit", "buyer:eurb", "credit", "seller:eurb", "amount", 9900, "ref",
                          "order-7")),
         "ok");
  expect(submit(&kseller, "token.redeem", move("buyer:eurb", 1, "steal")), "token.not_owner");
  expect(submit(&kseller, "token.redeem", move("seller:eurb", 9900, "payout-1")), "ok");
  expect(submit(&kbank, "token.reserve", attest(90100, "statement 2024-07-01: 901.00 EUR",
                                                "2024-07-01")),
         "ok");

  /* 4. The auditor reads the backing; others may not. */
  json_t *b = NULL;
  char code[64];
  long st = it_client_get(&node, CHAIN, &kaudit, "/v1/chains/" CHAIN "/query/token/backing?symbol=EURB",
                          &b, code);
  IT_CHECK(st == 200 && b != NULL);
  expect(str(b, "issuer"), "bank");
  expect(str(b, "backing"), "EUR");
  expect(str(b, "issued"), "25000");
  expect(str(b, "redeemed"), "9900");
  expect(str(b, "outstanding"), "15100");
  expect(str(b, "reserve"), "90100");
  IT_CHECK(json_is_true(json_object_get(b, "covered")));
  json_t *att = json_object_get(b, "attestations");
  IT_CHECK(json_array_size(att) == 2);
  expect(str(json_array_get(att, 0), "as_of"), "2024-07-01");
  expect(str(json_array_get(att, 1), "reserve"), "100000");
  json_decref(b);
  st = it_client_get(&node, CHAIN, &kaudit, "/v1/chains/" CHAIN "/query/token/history?symbol=EURB",
                     &b, code);
  IT_CHECK(st == 200 && json_array_size(json_object_get(b, "history")) == 2);
  expect(str(json_array_get(json_object_get(b, "history"), 1), "op"), "redeem");
  json_decref(b);
  st = it_client_get(&node, CHAIN, &kbuyer, "/v1/chains/" CHAIN "/query/token/backing?symbol=EURB",
                     NULL, code);
  IT_CHECK(st == 403 && strcmp(code, "policy.read_denied") == 0);
  st = it_client_get(&node, CHAIN, NULL, "/v1/chains/" CHAIN "/query/token/backing?symbol=EURB",
                     NULL, code);
  IT_CHECK(st == 401 || st == 403);
  st = it_client_get(&node, CHAIN, &kaudit, "/v1/chains/" CHAIN "/query/token/backing?symbol=NOPE",
                     NULL, code);
  IT_CHECK(st == 404 && strcmp(code, "token.unknown") == 0);

  /* 4b. An enterprise reads its own books and accounts whatever the read
   * policy says (owner queries), and nobody else's. */
  st = it_client_get(&node, CHAIN, &kbuyer,
                     "/v1/chains/" CHAIN "/query/books/trial_balance?owner=buyer", &b, code);
  IT_CHECK(st == 200 && json_is_true(json_object_get(b, "balanced")) &&
           json_array_size(json_object_get(b, "accounts")) > 0);
  json_decref(b);
  st = it_client_get(&node, CHAIN, &kbuyer, "/v1/chains/" CHAIN "/query/ledger/accounts?owner=buyer",
                     &b, code);
  IT_CHECK(st == 200 && json_array_size(json_object_get(b, "accounts")) == 1);
  json_decref(b);
  st = it_client_get(&node, CHAIN, &kbuyer,
                     "/v1/chains/" CHAIN "/query/books/trial_balance?owner=seller", NULL, code);
  IT_CHECK(st == 403 && strcmp(code, "policy.read_denied") == 0);
  st = it_client_get(&node, CHAIN, NULL, "/v1/chains/" CHAIN "/query/books/journal?owner=buyer",
                     NULL, code);
  IT_CHECK(st == 401 || st == 403);

  /* 5. Bad input. */
  expect(submit(&kbank, "token.issue",
                json_pack("{s:s, s:s, s:s, s:s}", "symbol", "EURB", "account", "buyer:eurb",
                          "amount", "12", "ref", "x")),
         "token.bad_amount");

  it_stop(&node);
  it_cleanup_all();
  printf("test_token: ok\n");
  return 0;
}
