/*
 * test_restart.c -- stop a node (SIGTERM), start it again: every committed
 * block, transaction and balance is there, and the chain continues.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_node n;
  it_init(&n, argv[1], "restart", seeds, 2);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  char bob[65], payload[256];
  it_pubhex(bob, 2);
  long st;
  char *hex = it_tx_hex("restart", "asset.issue", 1, 1, "{\"asset\":\"T\",\"decimals\":0,\"supply\":1000}", NULL);
  char body[4096];
  snprintf(body, sizeof body, "{\"txs\":[\"%s\"]}", hex);
  free(hex);
  json_t *j = it_post_json(&n, "/v1/chains/restart/txs?wait=1", body, &st);
  IT_CHECK(st == 200);
  json_decref(j);
  hanse_hash ids[10];
  for (int i = 0; i < 10; i++) {
    snprintf(payload, sizeof payload, "{\"asset\":\"T\",\"to\":\"%s\",\"amount\":%d}", bob, i + 1);
    hex = it_tx_hex("restart", "asset.transfer", 1, 2 + (uint64_t)i, payload, &ids[i]);
    snprintf(body, sizeof body, "{\"txs\":[\"%s\"]}", hex);
    free(hex);
    j = it_post_json(&n, "/v1/chains/restart/txs?wait=1", body, &st);
    IT_CHECK(st == 200);
    json_decref(j);
  }
  uint64_t h = it_height(&n);
  char digest[65];
  it_state_digest(&n, digest);
  it_stop(&n);

  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  IT_CHECK(it_height(&n) == h);
  char digest2[65];
  it_state_digest(&n, digest2);
  IT_CHECK(strcmp(digest, digest2) == 0);
  for (int i = 0; i < 10; i++) {
    char idhex[65], path[256];
    hanse_hash_hex(idhex, &ids[i]);
    snprintf(path, sizeof path, "/v1/chains/restart/txs/%s", idhex);
    j = it_get_json(&n, path, &st);
    IT_CHECK(st == 200 && strcmp(json_string_value(json_object_get(j, "status")), "committed") == 0);
    json_decref(j);
  }
  char path[256];
  snprintf(path, sizeof path, "/v1/chains/restart/query/asset/balance?asset=T&owner=%s", bob);
  j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && json_integer_value(json_object_get(j, "balance")) == 55);
  json_decref(j);
  /* The signer's sequence survived: seq 12 is next, and it commits. */
  snprintf(payload, sizeof payload, "{\"asset\":\"T\",\"to\":\"%s\",\"amount\":1}", bob);
  hex = it_tx_hex("restart", "asset.transfer", 1, 12, payload, NULL);
  snprintf(body, sizeof body, "{\"txs\":[\"%s\"]}", hex);
  free(hex);
  j = it_post_json(&n, "/v1/chains/restart/txs?wait=1", body, &st);
  IT_CHECK(st == 200);
  json_decref(j);
  IT_CHECK(it_height(&n) == h + 1);
  it_stop(&n);
  it_cleanup_all();
  printf("test_restart: ok\n");
  return 0;
}
