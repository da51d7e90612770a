/*
 * test_order.c -- an order paid in escrow and released by a delivery
 * event, against a real node.
 *
 * A chain "shop" with organisations org1 (seed 1, the buyer) and org2
 * (seed 2, the seller):
 *  1. org1 funds its wallet and places order po-77 of 4200 EUR to org2;
 *     the order query shows it pending and org2's account the amount as
 *     pending credit.
 *  2. org1 captures an EPCIS ObjectEvent accepting the goods, its
 *     bizTransactionList naming urn:epcglobal:cbv:bt:...:po-77: the order
 *     is delivered and org2's account shows the money posted.
 *  3. Bad input: an order whose id has a ':' is refused at submission,
 *     400 order.bad_id; an unknown order's query is 404 order.no_order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define CHAIN "shop"

static it_node node;

static const char *submit(uint8_t seed, const char *kind, const char *payload) {
  hanse_keypair kp;
  it_key(&kp, seed);
  json_t *p = json_loads(payload, 0, NULL);
  IT_CHECK(p != NULL);
  return it_client_submit(&node, CHAIN, &kp, kind, p);
}

static json_t *query(const char *module_path, long want_status) {
  char path[512];
  long st;
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/query/%s", module_path);
  json_t *j = it_get_json(&node, path, &st);
  if (st != want_status) fprintf(stderr, "GET %s: %ld, want %ld\n", path, st, want_status);
  IT_CHECK(st == want_status && j != NULL);
  return j;
}

static const char *str(json_t *j, const char *f) {
  return json_string_value(json_object_get(j, f));
}

static void expect(const char *code, const char *want) {
  if (strcmp(code, want) != 0) fprintf(stderr, "got %s, want %s\n", code, want);
  IT_CHECK(strcmp(code, want) == 0);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_init(&node, argv[1], CHAIN, seeds, 2);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  /* 1. Accounts, funding, the order. */
  expect(submit(1, "ledger.open",
                "{\"account\":\"org1:equity\",\"asset\":\"EUR\",\"type\":\"equity\"}"), "ok");
  expect(submit(1, "ledger.open",
                "{\"account\":\"org1:wallet\",\"asset\":\"EUR\",\"type\":\"asset\","
                "\"rule\":\"debits_must_not_exceed_credits\"}"), "ok");
  expect(submit(2, "ledger.open",
                "{\"account\":\"org2:cash\",\"asset\":\"EUR\",\"type\":\"asset\"}"), "ok");
  expect(submit(1, "ledger.transfer",
                "{\"transfers\":[{\"id\":\"fund\",\"debit\":\"org1:equity\","
                "\"credit\":\"org1:wallet\",\"amount\":10000}]}"), "ok");
  expect(submit(1, "order.place",
                "{\"id\":\"po-77\",\"seller\":\"org2\",\"asset\":\"EUR\",\"amount\":4200,"
                "\"buyer_account\":\"org1:wallet\",\"seller_account\":\"org2:cash\","
                "\"timeout\":86400}"), "ok");
  json_t *j = query("order/order?id=po-77", 200);
  IT_CHECK(strcmp(str(j, "status"), "pending") == 0 && strcmp(str(j, "buyer"), "org1") == 0);
  json_decref(j);
  j = query("ledger/account?account=org2:cash", 200);
  IT_CHECK(strcmp(str(j, "credits_pending"), "4200") == 0);
  IT_CHECK(strcmp(str(j, "credits_posted"), "0") == 0);
  json_decref(j);

  /* 2. The delivery event releases the escrow. */
  expect(submit(1, "trace.capture",
                "{\"document\":{\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\","
                "\"creationDate\":\"2024-06-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[{"
                "\"type\":\"ObjectEvent\","
                "\"eventID\":\"urn:uuid:55555555-0000-4000-8000-000000000001\","
                "\"eventTime\":\"2024-06-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
                "\"epcList\":[\"urn:epc:id:sgtin:4012345.011111.1\"],\"action\":\"OBSERVE\","
                "\"bizStep\":\"accepting\",\"bizTransactionList\":[{\"type\":\"po\","
                "\"bizTransaction\":\"urn:epcglobal:cbv:bt:0614141000005:po-77\"}]}]}}}"), "ok");
  j = query("order/order?id=po-77", 200);
  IT_CHECK(strcmp(str(j, "status"), "delivered") == 0);
  IT_CHECK(strcmp(str(j, "released_by"), "urn:uuid:55555555-0000-4000-8000-000000000001") == 0);
  json_decref(j);
  j = query("ledger/account?account=org2:cash", 200);
  IT_CHECK(strcmp(str(j, "credits_pending"), "0") == 0);
  IT_CHECK(strcmp(str(j, "credits_posted"), "4200") == 0);
  json_decref(j);
  j = query("order/orders?party=org2", 200);
  IT_CHECK(json_array_size(json_object_get(j, "orders")) == 1);
  json_decref(j);

  /* 3. Bad input. */
  char *bad = it_tx_hex(CHAIN, "order.place", 1, 99,
                        "{\"id\":\"po:78\",\"seller\":\"org2\",\"asset\":\"EUR\",\"amount\":1,"
                        "\"buyer_account\":\"org1:wallet\",\"seller_account\":\"org2:cash\","
                        "\"timeout\":60}",
                        NULL);
  char body[2048];
  long st;
  snprintf(body, sizeof body, "{\"txs\":[\"%s\"]}", bad);
  free(bad);
  j = it_post_json(&node, "/v1/chains/" CHAIN "/txs?wait=1", body, &st);
  IT_CHECK(st == 400 && j != NULL);
  IT_CHECK(strcmp(str(json_object_get(j, "error"), "code"), "order.bad_id") == 0);
  json_decref(j);
  j = query("order/order?id=po-78", 404);
  IT_CHECK(strcmp(str(json_object_get(j, "error"), "code"), "order.no_order") == 0);
  json_decref(j);

  it_stop(&node);
  it_cleanup_all();
  printf("test_order: ok\n");
  return 0;
}
