/*
 * test_bad_input.c -- a corpus of malformed requests (well over 200): bad
 * routes and methods, bad parameters, malformed JSON and hex, every
 * truncation of a valid transaction, trailing garbage, bad signatures,
 * bad batches, module-level payload errors, replays, oversized bodies,
 * wrong content types, malformed blob requests. Every one must get a 4xx
 * with a JSON error body carrying a code; the node must stay healthy;
 * nothing may change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "encoding/block.h"
#include "itest.h"

static it_node node;
static int cases, failures;

static void expect_4xx(const char *label, const char *method, const char *path,
                       const char *ctype, const void *body, size_t len) {
  char url[2048];
  snprintf(url, sizeof url, "%s%s", node.url, path);
  it_resp r;
  int rc = it_http(method, url, ctype, body, len, &r);
  cases++;
  int ok = rc == 0 && r.status >= 400 && r.status < 500;
  json_t *j = NULL;
  if (ok && strcmp(method, "HEAD") != 0) {
    j = json_loadb(r.body, r.len, 0, NULL);
    json_t *code = json_object_get(json_object_get(j, "error"), "code");
    ok = json_is_string(code) && json_string_length(code) > 0 &&
         strncmp(r.content_type, "application/json", 16) == 0;
  }
  if (!ok) {
    failures++;
    fprintf(stderr, "case %d (%s): %s %s -> %ld %.300s\n", cases, label, method, path, r.status,
            r.body ? r.body : "");
  }
  json_decref(j);
  it_resp_free(&r);
}

static void submit_json_hex(const char *label, const uint8_t *p, size_t n, const char *key) {
  char *hex = malloc(2 * n + 1);
  hanse_hex_encode(hex, p, n);
  size_t bl = 2 * n + 64;
  char *body = malloc(bl);
  snprintf(body, bl, "{\"%s\":[\"%s\"]}", key, hex);
  expect_4xx(label, "POST", "/v1/chains/bad/txs", "application/json", body, strlen(body));
  free(hex);
  free(body);
}

static void submit_binary(const char *label, uint8_t type, const uint8_t *p, size_t n) {
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_body_entry_append(&b, type, p, n);
  expect_4xx(label, "POST", "/v1/chains/bad/txs", "application/octet-stream", b.data, b.len);
  hanse_buf_free(&b);
}

static void tx(hanse_buf *b, const char *chain, const char *kind, uint8_t seed, uint64_t seq,
               const char *payload) {
  hanse_buf_reset(b);
  it_tx_bytes(b, chain, kind, seed, seq, payload, 0);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_init(&node, argv[1], "bad", seeds, 2);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);
  long st;
  /* Some history so that replays have something to replay. */
  char *issue = it_tx_hex("bad", "asset.issue", 1, 1, "{\"asset\":\"B\",\"decimals\":0,\"supply\":100}", NULL);
  char body[4096];
  snprintf(body, sizeof body, "{\"txs\":[\"%s\"]}", issue);
  free(issue);
  json_decref(it_post_json(&node, "/v1/chains/bad/txs?wait=1", body, &st));
  IT_CHECK(st == 200);
  json_t *before = it_get_json(&node, "/v1/chains/bad/status", &st);
  IT_CHECK(st == 200);

  /* 1. Routes, methods and parameters. */
  static const char *const gets[] = {
      "/v2", "/v1", "/v1/chains", "/v1/chains/", "/v1/chains/nochain/status", "/v1/chains/BAD/status",
      "/v1/chains/bad/nope", "/v1/chains/bad/status/extra", "/v1/chains/bad/txs/xyz",
      "/v1/chains/bad/txs/00", "/v1/chains/bad/txs/" "0000000000000000000000000000000000000000000000000000000000000000",
      "/v1/chains/bad/txs/a/b", "/v1/chains/bad/blocks/abc", "/v1/chains/bad/blocks/-1",
      "/v1/chains/bad/blocks/99999999", "/v1/chains/bad/blocks/18446744073709551616",
      "/v1/chains/bad/blocks/hash/zz", "/v1/chains/bad/blocks/hash/"
      "0000000000000000000000000000000000000000000000000000000000000000",
      "/v1/chains/bad/blocks?from=x", "/v1/chains/bad/blocks?latest=0", "/v1/chains/bad/blocks?latest=101",
      "/v1/chains/bad/blocks?from=5&to=1", "/v1/chains/bad/blocks?from=0&to=500",
      "/v1/chains/bad/blocks?to=-3", "/v1/chains/bad/query", "/v1/chains/bad/query/asset",
      "/v1/chains/bad/query/asset/nope", "/v1/chains/bad/query/nope/x", "/v1/chains/bad/query/asset/balance",
      "/v1/chains/bad/query/asset/balance?asset=B&owner=zz", "/v1/chains/bad/query/asset/balance?asset=%20&owner=00",
      "/v1/chains/bad/query/asset/asset?asset=NOPE", "/v1/chains/bad/query/notary/anchor?hash=12",
      "/v1/chains/bad/query/notary/anchor?hash="
      "0000000000000000000000000000000000000000000000000000000000000000",
      "/v1/chains/bad/query/notary/by_owner?owner=x", "/v1/chains/bad/query/asset/holders?asset=%%%",
      "/v1/chains/bad/search", "/v1/chains/bad/search?q=", "/v1/chains/bad/search?q=zz",
      "/v1/chains/bad/search?q=99999", "/v1/chains/bad/accounts/zz", "/v1/chains/bad/accounts",
      "/nope.html", "/../etc/passwd", "/v1/chains/bad/txs?wait=1"};
  for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++)
    expect_4xx("route", "GET", gets[i], NULL, NULL, 0);
  static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH"};
  static const char *const ro[] = {"/v1/status", "/v1/health", "/metrics", "/v1/chains/bad/status",
                                   "/v1/chains/bad/blocks", "/v1/chains/bad/blocks/0", "/",
                                   "/v1/chains/bad/search?q=1", "/v1/chains/bad/query/asset/assets"};
  for (size_t m = 0; m < 4; m++)
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
      expect_4xx("method", methods[m], ro[i], "application/json", "{}", 2);
  expect_4xx("method", "PUT", "/v1/chains/bad/txs", "application/json", "{}", 2);
  /* Blobs (api/res_blobs.c): bad names, no listing, unanchored digests,
   * bodies that do not hash to their name, wrong methods. */
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
  static const char *const blob_gets[] = {
      "/v1/chains/bad/blobs", "/v1/chains/bad/blobs/", "/v1/chains/bad/blobs/xyz",
      "/v1/chains/bad/blobs/00", "/v1/chains/bad/blobs/" ZEROS "0", "/v1/chains/bad/blobs/" ZEROS,
      "/v1/chains/bad/blobs/" ZEROS "/x", "/v1/chains/nochain/blobs/" ZEROS};
  for (size_t i = 0; i < sizeof blob_gets / sizeof blob_gets[0]; i++)
    expect_4xx("blob", "GET", blob_gets[i], NULL, NULL, 0);
  static const char *const blob_puts[] = {
      "/v1/chains/bad/blobs/zz", "/v1/chains/bad/blobs/" ZEROS, "/v1/chains/bad/blobs",
      "/v1/chains/nochain/blobs/" ZEROS, "/v1/chains/bad/blobs/" ZEROS "/x"};
  for (size_t i = 0; i < sizeof blob_puts / sizeof blob_puts[0]; i++)
    expect_4xx("blob", "PUT", blob_puts[i], "application/octet-stream", "document", 8);
  expect_4xx("blob", "POST", "/v1/chains/bad/blobs/" ZEROS, "application/octet-stream", "x", 1);
  expect_4xx("blob", "DELETE", "/v1/chains/bad/blobs/" ZEROS, NULL, NULL, 0);
#undef ZEROS
  expect_4xx("method", "DELETE", "/v1/chains/bad/txs", NULL, NULL, 0);
  expect_4xx("method", "POST", "/v1/chains/bad/txs/"
             "0000000000000000000000000000000000000000000000000000000000000000", "application/json", "{}", 2);

  /* 2. Malformed submission bodies. */
  static const char *const bodies[] = {
      "", "{", "}", "[]", "null", "123", "\"x\"", "{\"txs\":1}", "{\"txs\":[1]}", "{\"txs\":[\"zz\"]}",
      "{\"txs\":[\"abc\"]}", "{\"txs\":[]}", "{\"foo\":1}", "{\"tx\":5}", "{\"tx\":\"\"}",
      "{\"txs\":[\"00\"],\"txs\":[\"00\"]}", "{\"batches\":[\"00\"]}", "{\"batches\":\"00\"}",
      "{\"txs\":[null]}", "{\"txs\":[\"0101\"]}", "{\"txs\":[[\"00\"]]}", "{\"txs\":[\"\\u0000\"]}",
      "{\"txs\":[\"00\"]} trailing", "{\"txs\":[\"0g\"]}", "\xff\xfe{}", "{\"txs\":[\"01\"]",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
    expect_4xx("json body", "POST", "/v1/chains/bad/txs", "application/json", bodies[i], strlen(bodies[i]));
  expect_4xx("content type", "POST", "/v1/chains/bad/txs", "text/plain", "{}", 2);
  expect_4xx("content type", "POST", "/v1/chains/bad/txs", "application/xml", "<x/>", 4);
  expect_4xx("content type", "POST", "/v1/chains/bad/txs", "multipart/form-data", "--", 2);
  expect_4xx("wait param", "POST", "/v1/chains/bad/txs?wait=2", "application/json", "{\"txs\":[]}", 10);
  expect_4xx("wait param", "POST", "/v1/chains/bad/txs?wait=1&timeout_ms=999999", "application/json",
             "{\"txs\":[]}", 10);
  expect_4xx("unknown chain", "POST", "/v1/chains/nochain/txs", "application/json", "{\"txs\":[]}", 10);
  /* Binary bodies that do not frame. */
  static const uint8_t bin1[] = {0x01}, bin2[] = {0x01, 0, 0, 0, 9, 1, 2}, bin3[] = {0x07, 0, 0, 0, 1, 0},
                       bin4[] = {0x01, 0xff, 0xff, 0xff, 0xff};
  expect_4xx("binary", "POST", "/v1/chains/bad/txs", "application/octet-stream", bin1, sizeof bin1);
  expect_4xx("binary", "POST", "/v1/chains/bad/txs", "application/octet-stream", bin2, sizeof bin2);
  expect_4xx("binary", "POST", "/v1/chains/bad/txs", "application/octet-stream", bin3, sizeof bin3);
  expect_4xx("binary", "POST", "/v1/chains/bad/txs", "application/octet-stream", bin4, sizeof bin4);
  expect_4xx("binary", "POST", "/v1/chains/bad/txs", "application/octet-stream", "", 0);

  /* 3. Every truncation of a valid transaction, and trailing garbage. */
  char bob[65], payload[512];
  it_pubhex(bob, 2);
  snprintf(payload, sizeof payload, "{\"asset\":\"B\",\"to\":\"%s\",\"amount\":1}", bob);
  hanse_buf t;
  hanse_buf_init(&t);
  tx(&t, "bad", "asset.transfer", 1, 2, payload);
  size_t full = t.len;
  for (size_t cut = 0; cut < full; cut += (cut < 64 || cut > full - 70) ? 1 : 3) {
    if (cut == 0) continue; /* empty entry handled below */
    if (cut % 2) submit_binary("truncated", HANSE_ENTRY_TX, t.data, cut);
    else submit_json_hex("truncated", t.data, cut, "txs");
  }
  {
    uint8_t *g = malloc(full + 3);
    memcpy(g, t.data, full);
    g[full] = 0; g[full + 1] = 1; g[full + 2] = 2;
    submit_binary("trailing", HANSE_ENTRY_TX, g, full + 1);
    submit_json_hex("trailing", g, full + 3, "txs");
    /* Single byte flips in the header fields and the signature. */
    size_t spots[] = {0, 1, 2, 3, 5, 20, 40, 60, 90, full - 64, full - 30, full - 1};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
      memcpy(g, t.data, full);
      g[spots[i]] ^= 0x40;
      submit_binary("flipped", HANSE_ENTRY_TX, g, full);
    }
    free(g);
  }
  /* A signed tx sent as a batch, and as a batched one. */
  submit_binary("type mismatch", HANSE_ENTRY_BATCH, t.data, full);
  {
    hanse_buf bt;
    hanse_buf_init(&bt);
    it_tx_bytes(&bt, "bad", "asset.transfer", 1, 2, payload, 1);
    submit_binary("batched alone", HANSE_ENTRY_TX, bt.data, bt.len);
    hanse_buf_free(&bt);
  }

  /* 4. Well-formed but invalid transactions (context-free checks). */
  struct { const char *chain, *kind, *payload; uint64_t seq; } inv[] = {
      {"other", "asset.transfer", "{}", 2},
      {"bad", "nope.nope", "{}", 2},
      {"bad", "asset.burn", "{}", 2},
      {"bad", "asset.transfer", "", 2},
      {"bad", "asset.transfer", "[]", 2},
      {"bad", "asset.transfer", "not json", 2},
      {"bad", "asset.transfer", "{\"a\":1,\"a\":2}", 2},
      {"bad", "asset.transfer", "{\"asset\":\"B\",\"to\":\"00\",\"amount\":1}", 2},
      {"bad", "asset.transfer", "{\"asset\":\"B\",\"amount\":1.5}", 2},
      {"bad", "asset.transfer", "{\"asset\":\"B\",\"amount\":\"1\"}", 2},
      {"bad", "asset.transfer", "{\"asset\":\"B\",\"amount\":-1}", 2},
      {"bad", "asset.transfer", "{\"asset\":\"B\",\"amount\":0}", 2},
      {"bad", "asset.transfer", "{\"asset\":\"\",\"amount\":1}", 2},
      {"bad", "asset.transfer", "{\"asset\":\"a b\",\"amount\":1}", 2},
      {"bad", "asset.issue", "{\"asset\":\"X\",\"decimals\":19,\"supply\":1}", 2},
      {"bad", "asset.issue", "{\"asset\":\"X\",\"decimals\":2,\"supply\":0}", 2},
      {"bad", "asset.issue", "{\"asset\":\"X\",\"decimals\":2,\"supply\":99999999999999999999}", 2},
      {"bad", "asset.issue", "{\"asset\":\"X\",\"decimals\":-1,\"supply\":5}", 2},
      {"bad", "asset.issue", "{\"asset\":\"X\",\"supply\":5}", 2},
      {"bad", "asset.issue", "{\"asset\":\"X\",\"decimals\":2,\"supply\":5,\"name\":7}", 2},
      {"bad", "notary.anchor", "{\"hash\":\"abc\"}", 2},
      {"bad", "notary.anchor", "{}", 2},
      {"bad", "notary.anchor", "{\"hash\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"meta\":[]}", 2},
      {"bad", "notary.anchor", "{\"hash\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"name\":1}", 2},
      {"bad", "notary.anchor", "{\"hash\":\"zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}", 2},
      {"bad", "notary.anchor", "{\"hash\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"class\":\"secret\"}", 2},
      {"bad", "notary.anchor", "{\"hash\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"meta\":{\"blob\":\"yes\"}}", 2},
      /* Replays: a different transaction with the sequence already used. */
      {"bad", "asset.transfer", payload, 1},
  };
  for (size_t i = 0; i < sizeof inv / sizeof inv[0]; i++) {
    hanse_buf_reset(&t);
    it_tx_bytes(&t, inv[i].chain, inv[i].kind, 1, inv[i].seq, inv[i].payload, 0);
    submit_binary("invalid tx", HANSE_ENTRY_TX, t.data, t.len);
    submit_json_hex("invalid tx", t.data, t.len, "txs");
  }
  /* Deeply nested payload. */
  {
    char deep[256];
    size_t k = 0;
    for (int i = 0; i < 40; i++) deep[k++] = i == 0 ? '{' : '[';
    deep[k] = 0;
    char p2[512];
    snprintf(p2, sizeof p2, "{\"x\":%s", deep + 1);
    hanse_buf_reset(&t);
    it_tx_bytes(&t, "bad", "asset.transfer", 1, 2, p2, 0);
    submit_binary("deep payload", HANSE_ENTRY_TX, t.data, t.len);
  }

  /* 5. Batches: bad signature, mixed signers, gaps, wrong chain inside. */
  {
    hanse_keypair k1;
    it_key(&k1, 1);
    hanse_buf inner[3];
    const uint8_t *ptr[3];
    size_t lens[3];
    uint64_t seqs[][3] = {{2, 3, 4}, {2, 4, 5}};
    for (int variant = 0; variant < 4; variant++) {
      for (int i = 0; i < 3; i++) {
        hanse_buf_init(&inner[i]);
        uint8_t signer = (variant == 1 && i == 2) ? 2 : 1;
        const char *ch = (variant == 3 && i == 1) ? "other" : "bad";
        it_tx_bytes(&inner[i], ch, "asset.transfer", signer, seqs[variant == 2][i], payload, 1);
        ptr[i] = inner[i].data;
        lens[i] = inner[i].len;
      }
      hanse_buf batch;
      hanse_buf_init(&batch);
      hanse_reject rej;
      /* The encoder refuses nothing here; the node must. */
      IT_CHECK(hanse_batch_encode(&batch, "bad", ptr, lens, 3, &k1, &rej) == 0);
      if (variant == 0) batch.data[batch.len - 5] ^= 1; /* signature */
      submit_binary("bad batch", HANSE_ENTRY_BATCH, batch.data, batch.len);
      submit_json_hex("bad batch", batch.data, batch.len, "batches");
      hanse_buf_free(&batch);
      for (int i = 0; i < 3; i++) hanse_buf_free(&inner[i]);
    }
  }
  hanse_buf_free(&t);

  /* 6. Oversized body: more than the 40 MiB bound. */
  {
    size_t big = 41u * 1024 * 1024;
    char *b = malloc(big);
    memset(b, ' ', big);
    b[0] = '{';
    b[big - 1] = '}';
    expect_4xx("oversized", "POST", "/v1/chains/bad/txs", "application/json", b, big);
    free(b);
  }

  printf("test_bad_input: %d malformed requests, %d failures\n", cases, failures);
  IT_CHECK(failures == 0);
  IT_CHECK(cases >= 200);

  /* The node is healthy and nothing changed. */
  json_t *h = it_get_json(&node, "/v1/health", &st);
  IT_CHECK(st == 200);
  json_decref(h);
  json_t *after = it_get_json(&node, "/v1/chains/bad/status", &st);
  IT_CHECK(st == 200);
  IT_CHECK(json_integer_value(json_object_get(after, "height")) ==
           json_integer_value(json_object_get(before, "height")));
  IT_CHECK(json_integer_value(json_object_get(after, "tx_count")) ==
           json_integer_value(json_object_get(before, "tx_count")));
  IT_CHECK(json_integer_value(json_object_get(after, "mempool_depth")) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(after, "state_digest")),
                  json_string_value(json_object_get(before, "state_digest"))) == 0);
  json_decref(before);
  json_decref(after);
  it_stop(&node);
  it_cleanup_all();
  printf("test_bad_input: ok\n");
  return 0;
}
