/*
 * test_node_api.c -- a real node over HTTP: submit, commit, query, prove,
 * resubmit, batches, rejections with stable codes, metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/merkle.h"
#include "encoding/block.h"
#include "itest.h"

static const char *chain = "itest";

static json_t *submit(it_node *n, const char *hex, int wait, long *st) {
  char *body = malloc(strlen(hex) + 32);
  sprintf(body, "{\"txs\":[\"%s\"]}", hex);
  json_t *j = it_post_json(n, wait ? "/v1/chains/itest/txs?wait=1" : "/v1/chains/itest/txs", body, st);
  free(body);
  return j;
}

static const char *result_field(json_t *j, size_t i, const char *f) {
  return json_string_value(json_object_get(json_array_get(json_object_get(j, "results"), i), f));
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_node n;
  it_init(&n, argv[1], chain, seeds, 2);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  char alice[65], bob[65];
  it_pubhex(alice, 1);
  it_pubhex(bob, 2);
  long st;

  /* Issue and transfer, waiting for commit. */
  char *issue = it_tx_hex(chain, "asset.issue", 1, 1,
                          "{\"asset\":\"EURT\",\"decimals\":2,\"supply\":100000}", NULL);
  json_t *j = submit(&n, issue, 1, &st);
  IT_CHECK(st == 200 && j);
  IT_CHECK(strcmp(result_field(j, 0, "status"), "committed") == 0);
  IT_CHECK(strcmp(result_field(j, 0, "code"), "ok") == 0);
  json_decref(j);

  char payload[256];
  snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":2500}", bob);
  hanse_hash tid;
  char *transfer = it_tx_hex(chain, "asset.transfer", 1, 2, payload, &tid);
  j = submit(&n, transfer, 1, &st);
  IT_CHECK(st == 200 && j && strcmp(result_field(j, 0, "code"), "ok") == 0);
  uint64_t h1 = (uint64_t)json_integer_value(
      json_object_get(json_array_get(json_object_get(j, "results"), 0), "height"));
  json_decref(j);

  /* Balances. */
  char path[512];
  snprintf(path, sizeof path, "/v1/chains/itest/query/asset/balance?asset=EURT&owner=%s", bob);
  j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && json_integer_value(json_object_get(j, "balance")) == 2500);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/chains/itest/query/asset/balance?asset=EURT&owner=%s", alice);
  j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && json_integer_value(json_object_get(j, "balance")) == 97500);
  json_decref(j);

  /* The same transaction again: its status, committed once. */
  uint64_t count_before;
  j = it_get_json(&n, "/v1/chains/itest/status", &st);
  count_before = (uint64_t)json_integer_value(json_object_get(j, "tx_count"));
  json_decref(j);
  j = submit(&n, transfer, 1, &st);
  IT_CHECK(st == 200 && strcmp(result_field(j, 0, "status"), "committed") == 0);
  json_decref(j);
  j = it_get_json(&n, "/v1/chains/itest/status", &st);
  IT_CHECK((uint64_t)json_integer_value(json_object_get(j, "tx_count")) == count_before);
  json_decref(j);

  /* A different transaction reusing sequence 2: stale. */
  snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", bob);
  char *replay = it_tx_hex(chain, "asset.transfer", 1, 2, payload, NULL);
  j = submit(&n, replay, 0, &st);
  IT_CHECK(st == 409 && strcmp(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                               "tx.stale_sequence") == 0);
  json_decref(j);

  /* Insufficient balance: committed with a rejection receipt. */
  snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":999999}", alice);
  char *toomuch = it_tx_hex(chain, "asset.transfer", 2, 1, payload, NULL);
  j = submit(&n, toomuch, 1, &st);
  IT_CHECK(st == 200 && strcmp(result_field(j, 0, "code"), "asset.insufficient_balance") == 0);
  json_decref(j);

  /* Bad signature: flip a byte of the signature. */
  snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", alice);
  char *bad = it_tx_hex(chain, "asset.transfer", 2, 2, payload, NULL);
  size_t bl = strlen(bad);
  bad[bl - 1] = bad[bl - 1] == '0' ? '1' : '0';
  j = submit(&n, bad, 0, &st);
  IT_CHECK(st == 400 && strcmp(result_field(j, 0, "code"), "tx.bad_signature") == 0);
  json_decref(j);

  /* Transaction status with a proof that checks out. */
  char idhex[65];
  hanse_hash_hex(idhex, &tid);
  snprintf(path, sizeof path, "/v1/chains/itest/txs/%s", idhex);
  j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && strcmp(json_string_value(json_object_get(j, "status")), "committed") == 0);
  json_t *proof = json_object_get(j, "proof");
  hanse_hash root, pathh[32];
  IT_CHECK(hanse_hash_parse(&root, json_string_value(json_object_get(proof, "tx_root"))) == 0);
  size_t plen = json_array_size(json_object_get(proof, "path"));
  for (size_t i = 0; i < plen; i++)
    IT_CHECK(hanse_hash_parse(&pathh[i], json_string_value(json_array_get(json_object_get(proof, "path"), i))) == 0);
  IT_CHECK(hanse_merkle_verify(&root, tid.b, 32, (size_t)json_integer_value(json_object_get(proof, "index")),
                               (size_t)json_integer_value(json_object_get(proof, "tx_count")), pathh, plen));
  IT_CHECK(!hanse_merkle_verify(&root, tid.b, 32, (size_t)json_integer_value(json_object_get(proof, "index")) + 1,
                                (size_t)json_integer_value(json_object_get(proof, "tx_count")) + 1, pathh, plen));
  IT_CHECK((uint64_t)json_integer_value(json_object_get(json_object_get(j, "receipt"), "height")) == h1);
  json_decref(j);

  /* A batch of 1000 transfers in one binary request, signed once. */
  {
    hanse_keypair kp;
    it_key(&kp, 1);
    hanse_buf txs[1000];
    const uint8_t *ptrs[1000];
    size_t lens[1000];
    for (int i = 0; i < 1000; i++) {
      hanse_buf_init(&txs[i]);
      snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", bob);
      it_tx_bytes(&txs[i], chain, "asset.transfer", 1, 3 + (uint64_t)i, payload, 1);
      ptrs[i] = txs[i].data;
      lens[i] = txs[i].len;
    }
    hanse_buf batch, body;
    hanse_buf_init(&batch);
    hanse_buf_init(&body);
    hanse_reject rej;
    IT_CHECK(hanse_batch_encode(&batch, chain, ptrs, lens, 1000, &kp, &rej) == 0);
    hanse_body_entry_append(&body, HANSE_ENTRY_BATCH, batch.data, batch.len);
    it_resp r;
    char url[256];
    snprintf(url, sizeof url, "%s/v1/chains/itest/txs?wait=1", n.url);
    IT_CHECK(it_http("POST", url, "application/octet-stream", body.data, body.len, &r) == 0);
    IT_CHECK(r.status == 200);
    j = json_loadb(r.body, r.len, 0, NULL);
    IT_CHECK(json_integer_value(json_object_get(j, "accepted")) == 1000);
    IT_CHECK(strcmp(result_field(j, 999, "code"), "ok") == 0);
    json_decref(j);
    it_resp_free(&r);
    for (int i = 0; i < 1000; i++) hanse_buf_free(&txs[i]);
    hanse_buf_free(&batch);
    hanse_buf_free(&body);
    snprintf(path, sizeof path, "/v1/chains/itest/query/asset/balance?asset=EURT&owner=%s", bob);
    j = it_get_json(&n, path, &st);
    IT_CHECK(st == 200 && json_integer_value(json_object_get(j, "balance")) == 3500);
    json_decref(j);
  }

  /* A batch that repeats a committed transaction and adds new ones: only
   * the committed one reports "committed"; the others are refused and are
   * not found afterwards (no receipt on another transaction's behalf). */
  {
    hanse_keypair k3;
    it_key(&k3, 3);
    hanse_buf t1, t2, b1, b2, body;
    hanse_buf_init(&t1);
    hanse_buf_init(&t2);
    hanse_buf_init(&b1);
    hanse_buf_init(&b2);
    hanse_buf_init(&body);
    it_tx_bytes(&t1, chain, "notary.anchor", 3, 1,
                "{\"hash\":\"1111111111111111111111111111111111111111111111111111111111111111\"}", 1);
    it_tx_bytes(&t2, chain, "notary.anchor", 3, 2,
                "{\"hash\":\"2222222222222222222222222222222222222222222222222222222222222222\"}", 1);
    const uint8_t *p1[1] = {t1.data}, *p2[2] = {t1.data, t2.data};
    size_t l1[1] = {t1.len}, l2[2] = {t1.len, t2.len};
    hanse_reject rej;
    IT_CHECK(hanse_batch_encode(&b1, chain, p1, l1, 1, &k3, &rej) == 0);
    IT_CHECK(hanse_batch_encode(&b2, chain, p2, l2, 2, &k3, &rej) == 0);
    char url[256];
    snprintf(url, sizeof url, "%s/v1/chains/itest/txs?wait=1", n.url);
    it_resp r;
    hanse_body_entry_append(&body, HANSE_ENTRY_BATCH, b1.data, b1.len);
    IT_CHECK(it_http("POST", url, "application/octet-stream", body.data, body.len, &r) == 0);
    IT_CHECK(r.status == 200);
    it_resp_free(&r);
    hanse_buf_reset(&body);
    hanse_body_entry_append(&body, HANSE_ENTRY_BATCH, b2.data, b2.len);
    IT_CHECK(it_http("POST", url, "application/octet-stream", body.data, body.len, &r) == 0);
    j = json_loadb(r.body, r.len, 0, NULL);
    it_resp_free(&r);
    IT_CHECK(strcmp(result_field(j, 0, "status"), "committed") == 0);
    IT_CHECK(strcmp(result_field(j, 1, "status"), "rejected") == 0);
    IT_CHECK(strcmp(result_field(j, 1, "code"), "tx.stale_sequence") == 0);
    snprintf(path, sizeof path, "/v1/chains/itest/txs/%s", result_field(j, 1, "id"));
    json_decref(j);
    j = it_get_json(&n, path, &st);
    IT_CHECK(st == 404);
    json_decref(j);
    hanse_buf_free(&t1);
    hanse_buf_free(&t2);
    hanse_buf_free(&b1);
    hanse_buf_free(&b2);
    hanse_buf_free(&body);
  }

  /* Notary: anchor and look up; a second anchor of the digest is refused. */
  const char *digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  snprintf(payload, sizeof payload, "{\"hash\":\"%s\",\"name\":\"test.txt\"}", digest);
  char *anchor = it_tx_hex(chain, "notary.anchor", 2, 2, payload, NULL);
  j = submit(&n, anchor, 1, &st);
  IT_CHECK(st == 200 && strcmp(result_field(j, 0, "code"), "ok") == 0);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/chains/itest/query/notary/anchor?hash=%s", digest);
  j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && strcmp(json_string_value(json_object_get(j, "owner")), bob) == 0);
  json_decref(j);
  char *anchor2 = it_tx_hex(chain, "notary.anchor", 1, 1003, payload, NULL);
  j = submit(&n, anchor2, 1, &st);
  IT_CHECK(st == 200 && strcmp(result_field(j, 0, "code"), "notary.exists") == 0);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/chains/itest/query/notary/by_owner?owner=%s", bob);
  j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && json_array_size(json_object_get(j, "anchors")) == 1);
  json_decref(j);

  /* Blocks: range, by height, by hash, search. */
  j = it_get_json(&n, "/v1/chains/itest/blocks?latest=5", &st);
  IT_CHECK(st == 200 && json_array_size(json_object_get(j, "blocks")) >= 3);
  const char *hash = json_string_value(json_object_get(json_array_get(json_object_get(j, "blocks"), 0), "hash"));
  snprintf(path, sizeof path, "/v1/chains/itest/blocks/hash/%s", hash);
  json_t *b = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && json_is_array(json_object_get(b, "txs")));
  json_decref(b);
  snprintf(path, sizeof path, "/v1/chains/itest/search?q=%s", idhex);
  b = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && strcmp(json_string_value(json_object_get(b, "type")), "tx") == 0);
  json_decref(b);
  json_decref(j);

  /* Metrics count what happened. */
  it_resp r;
  char url[256];
  snprintf(url, sizeof url, "%s/metrics", n.url);
  IT_CHECK(it_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200);
  IT_CHECK(strstr(r.body, "hanse_txs_committed_total{chain=\"itest\"} 1006") != NULL);
  IT_CHECK(strstr(r.body, "code=\"tx.bad_signature\"} 1") != NULL);
  IT_CHECK(strstr(r.body, "code=\"asset.insufficient_balance\"} 1") != NULL);
  IT_CHECK(strstr(r.body, "hanse_commit_latency_seconds_count{chain=\"itest\"} 1006") != NULL);
  it_resp_free(&r);

  it_stop(&n);
  /* Offline audit passes. */
  const char *vargv[] = {argv[1], "verify", "--data", n.dir, "--chain", chain, NULL};
  char *out = NULL;
  int vrc = it_run(vargv, &out);
  if (vrc != 0) fprintf(stderr, "verify: %s\n", out);
  free(out);
  IT_CHECK(vrc == 0);
  free(issue);
  free(transfer);
  free(replay);
  free(toomuch);
  free(bad);
  free(anchor);
  free(anchor2);
  it_cleanup_all();
  printf("test_node_api: ok\n");
  return 0;
}
