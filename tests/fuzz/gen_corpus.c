/*
 * gen_corpus.c -- writes the seed corpora of the fuzz targets.
 *
 * Usage: fuzz_gen_corpus <dir>   (writes <dir>/fuzz_<target>/<name>)
 *
 * The seeds are small valid encodings built with the real encoders from
 * fixed keys, so they are the same on every run; they give each fuzzer a
 * starting point past the type and length checks. The checked-in copies
 * under tests/fuzz/corpus/ were written by this program; run it again
 * after a format change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "encoding/block.h"
#include "encoding/tx.h"

static const char *root;

static void put(const char *target, const char *name, const void *p, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, target);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    perror(path);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void key(hanse_keypair *kp, uint8_t tag) {
  uint8_t seed[HANSE_SEED_BYTES];
  memset(seed, tag, sizeof seed);
  hanse_keypair_from_seed(kp, seed);
}

static void tx(hanse_buf *out, const hanse_keypair *kp, const char *kind, uint64_t seq,
               int batched, const char *payload) {
  hanse_tx_fields f = {"demo", kind, &kp->pub, seq, 1700000000000ull + seq, payload,
                       strlen(payload)};
  if (hanse_tx_encode(out, &f, batched ? NULL : kp, NULL) != HANSE_OK) abort();
}

static void batch(hanse_buf *out, const hanse_keypair *kp, int n) {
  hanse_buf inner[3];
  const uint8_t *ptrs[3];
  size_t lens[3];
  const char *kinds[] = {"asset.transfer", "notary.anchor", "asset.issue"};
  const char *payloads[] = {
      "{\"asset\":\"EUR\",\"amount\":5,\"to\":\"1111111111111111111111111111111111111111111111111111111111111111\"}",
      "{\"hash\":\"2222222222222222222222222222222222222222222222222222222222222222\"}",
      "{\"asset\":\"GOLD\",\"decimals\":0,\"supply\":10}"};
  for (int i = 0; i < n; i++) {
    hanse_buf_init(&inner[i]);
    tx(&inner[i], kp, kinds[i], (uint64_t)i + 10, 1, payloads[i]);
    ptrs[i] = inner[i].data;
    lens[i] = inner[i].len;
  }
  if (hanse_batch_encode(out, "demo", ptrs, lens, (uint32_t)n, kp, NULL) != HANSE_OK) abort();
  for (int i = 0; i < n; i++) hanse_buf_free(&inner[i]);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  root = argv[1];
  mkdir(root, 0755);
  hanse_keypair alice, node;
  key(&alice, 0xa1);
  key(&node, 0x01);
  hanse_buf b;
  hanse_buf_init(&b);

  /* transactions */
  tx(&b, &alice, "asset.issue", 1, 0, "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000}");
  put("fuzz_tx", "signed_issue", b.data, b.len);
  hanse_buf_reset(&b);
  tx(&b, &alice, "notary.anchor", 2, 0,
     "{\"hash\":\"3333333333333333333333333333333333333333333333333333333333333333\","
     "\"name\":\"a.pdf\",\"meta\":{\"k\":[1,2]}}");
  put("fuzz_tx", "signed_anchor", b.data, b.len);
  hanse_buf_reset(&b);
  tx(&b, &alice, "asset.transfer", 3, 1,
     "{\"asset\":\"EUR\",\"amount\":7,\"to\":\"4444444444444444444444444444444444444444444444444444444444444444\"}");
  put("fuzz_tx", "batched_transfer", b.data, b.len);
  hanse_buf_reset(&b);
  tx(&b, &alice, "a.b", 1, 0, "");
  put("fuzz_tx", "signed_empty_payload", b.data, b.len);
  hanse_buf_reset(&b);

  /* batches */
  batch(&b, &alice, 1);
  put("fuzz_batch", "one", b.data, b.len);
  hanse_buf_reset(&b);
  batch(&b, &alice, 3);
  put("fuzz_batch", "three", b.data, b.len);
  hanse_buf_reset(&b);

  /* headers */
  hanse_header h;
  memset(&h, 0, sizeof h);
  h.version = HANSE_FORMAT_VERSION;
  strcpy(h.chain_id, "demo");
  h.time_ms = 1700000000000ull;
  hanse_sha256(&h.tx_root, "", 0);
  hanse_header_sign(&h, &node);
  hanse_header_encode(&b, &h);
  put("fuzz_header", "genesis", b.data, b.len);
  hanse_buf_reset(&b);
  h.height = 5;
  h.tx_count = 3;
  memset(h.prev_hash.b, 0xab, HANSE_HASH_BYTES);
  memset(h.state_digest.b, 0xcd, HANSE_HASH_BYTES);
  strcpy(h.chain_id, "alliance-eu.2");
  hanse_header_sign(&h, &node);
  hanse_header_encode(&b, &h);
  put("fuzz_header", "block5", b.data, b.len);
  hanse_buf_reset(&b);

  /* bodies */
  hanse_buf_u32(&b, 0);
  put("fuzz_body", "empty", b.data, b.len);
  hanse_buf_reset(&b);
  hanse_buf one, two;
  hanse_buf_init(&one);
  hanse_buf_init(&two);
  tx(&one, &alice, "asset.issue", 1, 0, "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000}");
  hanse_buf_u32(&b, 1);
  hanse_body_entry_append(&b, HANSE_ENTRY_TX, one.data, one.len);
  put("fuzz_body", "one_tx", b.data, b.len);
  hanse_buf_reset(&b);
  batch(&two, &alice, 3);
  hanse_buf_u32(&b, 2);
  hanse_body_entry_append(&b, HANSE_ENTRY_TX, one.data, one.len);
  hanse_body_entry_append(&b, HANSE_ENTRY_BATCH, two.data, two.len);
  put("fuzz_body", "tx_and_batch", b.data, b.len);
  hanse_buf_reset(&b);
  hanse_buf_free(&one);
  hanse_buf_free(&two);

  /* payloads: selector byte, then the JSON (see fuzz_payload.c) */
  const char *payloads[] = {
      "\x00{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000,\"name\":\"Euro\"}",
      "\x01{\"asset\":\"EUR\",\"amount\":5,\"to\":\"5555555555555555555555555555555555555555555555555555555555555555\",\"memo\":\"m\"}",
      "\x02{\"hash\":\"6666666666666666666666666666666666666666666666666666666666666666\",\"name\":\"n\",\"meta\":{\"a\":{\"b\":[true,null,\"x\"]}}}",
      "\x03{\"a\":[1,-2,{\"c\":\"\\u00e9\"}]}",
      /* ledger.open and ledger.transfer in the registration order of
       * today (a selector only steers, a wrong one still fuzzes) */
      "\x11{\"account\":\"acme:cash\",\"asset\":\"EUR\",\"type\":\"asset\","
      "\"rule\":\"debits_must_not_exceed_credits\"}",
      "\x12{\"transfers\":[{\"id\":\"t1\",\"debit\":\"a\",\"credit\":\"b\",\"amount\":5,"
      "\"code\":7,\"pending\":true,\"timeout\":60,\"linked\":true},"
      "{\"id\":\"t2\",\"debit\":\"b\",\"credit\":\"a\",\"amount\":9223372036854775807}]}",
      /* token.define (loyalty), token.reserve, token.issue, after the
       * ledger's four actions and the order's three */
      "\x18{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,"
      "\"value\":{\"asset\":\"EUR\",\"num\":1,\"den\":100}}",
      "\x19{\"symbol\":\"EURB\",\"amount\":0,\"evidence\":"
      "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"as_of\":\"2024-06-30\"}",
      "\x1a{\"symbol\":\"EURB\",\"account\":\"buyer:eurb\",\"amount\":25000,\"ref\":\"wire-1\"}",
      /* fx.pay (after the token's five), clearing.join, .pay, .settle */
      "\x1d{\"id\":\"p1\",\"debit\":\"o2:eur\",\"credit\":\"o3:usd\",\"amount\":1000,"
      "\"quote\":{\"id\":\"q1\",\"maker\":\"org1\",\"key\":"
      "\"5555555555555555555555555555555555555555555555555555555555555555\",\"sell\":\"USD\","
      "\"buy\":\"EUR\",\"rate\":{\"num\":10850,\"den\":10000},\"valid_from\":0,"
      "\"valid_until\":2000000000000,\"max\":100000,\"buy_account\":\"mm:eur\","
      "\"sell_account\":\"mm:usd\",\"sig\":\"00\"}}",
      "\x1e{\"asset\":\"USD\",\"clearing_account\":\"b1:clr\",\"settlement_account\":\"b1:stl\"}",
      "\x1f{\"id\":\"p1\",\"asset\":\"USD\",\"amount\":100,\"from_bank\":\"b1\","
      "\"from_account\":\"b1:c0\",\"to_bank\":\"b2\",\"to_account\":\"b2:c0\"}",
      "\x20{\"asset\":\"USD\",\"cycle\":1}",
      /* books.chart, books.rules, books.entry, books.reverse, after the
       * clearing's three */
      "\x21{\"accounts\":[{\"account\":\"assets:bank:eur\",\"name\":\"Hausbank\"}]}",
      "\x22{\"rules\":[{\"type\":\"payment\",\"role\":\"payer\",\"debit\":\"expenses:rent\","
      "\"credit\":\"assets:bank\"}]}",
      "\x23{\"lines\":[{\"account\":\"expenses:office\",\"asset\":\"EUR\",\"debit\":5},"
      "{\"account\":\"assets:cash\",\"asset\":\"EUR\",\"credit\":5}],\"memo\":\"m\","
      "\"counterparty\":\"acme\",\"ref\":\"r-1\"}",
      "\x24{\"seq\":1,\"memo\":\"wrong invoice\"}",
  };
  for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "payload%zu", i);
    put("fuzz_payload", name, payloads[i], 1 + strlen(payloads[i] + 1));
  }

  /* hex */
  put("fuzz_hex", "empty", "", 0);
  put("fuzz_hex", "byte", "0f", 2);
  put("fuzz_hex", "mixed_case", "deadBEEF", 8);
  put("fuzz_hex", "hash", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64);

  /* Digital Link paths of product links */
  static const char *const dl_paths[] = {
      "01/09521234543213", "01/09521234543213/22/2A/10/LOT%2F7/21/12345",
      "00/106141412345678908", "414/9521234543213/254/32a", "8010/9521234%23A-B/8011/123",
      "8003/09521234543213ASSET-1"};
  for (size_t i = 0; i < sizeof dl_paths / sizeof dl_paths[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "path%zu", i);
    put("fuzz_dl_path", name, dl_paths[i], strlen(dl_paths[i]));
  }

  hanse_buf_free(&b);
  hanse_keypair_wipe(&alice);
  hanse_keypair_wipe(&node);
  return 0;
}
