/*
 * test_block.c -- block headers and bodies.
 *
 * Headers: encode/decode round trip byte for byte; the hash covers every
 * byte before the signature and the proposer signs exactly that; any
 * change to a field breaks the signature; decoding is strict (type,
 * version, chain id, tx count bound, truncation, trailing bytes).
 * Bodies: entries of single transactions and batches flatten into the
 * block's transactions in order, with each one's entry index; the tx root
 * is the Merkle root over the flattened ids; a bad signature is reported
 * at its flattened index; malformed bodies are refused without leaks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/merkle.h"
#include "encoding/block.h"
#include "fixture.h"

static hanse_keypair node, alice, bob;

static int setup(void **state) {
  (void)state;
  fx_key(&node, 0x01);
  fx_key(&alice, 0xa1);
  fx_key(&bob, 0xb0);
  return 0;
}

static void sample_header(hanse_header *h) {
  memset(h, 0, sizeof *h);
  h->version = HANSE_FORMAT_VERSION;
  strcpy(h->chain_id, "demo-chain");
  h->height = 77;
  h->time_ms = 1700000000123ull;
  memset(h->prev_hash.b, 0x11, HANSE_HASH_BYTES);
  memset(h->tx_root.b, 0x22, HANSE_HASH_BYTES);
  memset(h->state_digest.b, 0x33, HANSE_HASH_BYTES);
  h->tx_count = 12;
  hanse_header_sign(h, &node);
}

static void test_header_roundtrip_and_hash(void **state) {
  (void)state;
  hanse_header h, d;
  sample_header(&h);
  assert_memory_equal(h.proposer.b, node.pub.b, HANSE_PUBKEY_BYTES);
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_header_encode(&b, &h), HANSE_OK);
  assert_int_equal(b.len, HANSE_BLOCK_HEADER_MAX - (HANSE_CHAIN_ID_MAX - strlen("demo-chain")));
  hanse_reject rej;
  assert_int_equal(hanse_header_decode(&d, b.data, b.len, &rej), HANSE_OK);
  assert_string_equal(d.chain_id, "demo-chain");
  assert_true(d.height == 77);
  assert_true(d.time_ms == 1700000000123ull);
  assert_int_equal(d.tx_count, 12);
  assert_memory_equal(&d.prev_hash, &h.prev_hash, sizeof h.prev_hash);
  assert_memory_equal(&d.tx_root, &h.tx_root, sizeof h.tx_root);
  assert_memory_equal(&d.state_digest, &h.state_digest, sizeof h.state_digest);
  assert_memory_equal(&d.sig, &h.sig, sizeof h.sig);
  hanse_buf again;
  hanse_buf_init(&again);
  assert_int_equal(hanse_header_encode(&again, &d), HANSE_OK);
  assert_int_equal(again.len, b.len);
  assert_memory_equal(again.data, b.data, b.len);
  /* hash = SHA-256 of everything before the signature */
  hanse_hash want, got;
  hanse_sha256(&want, b.data, b.len - HANSE_SIG_BYTES);
  hanse_header_hash(&d, &got);
  assert_memory_equal(got.b, want.b, HANSE_HASH_BYTES);
  /* the signature is over the same bytes */
  hanse_sig sig;
  memcpy(sig.b, b.data + b.len - HANSE_SIG_BYTES, HANSE_SIG_BYTES);
  assert_int_equal(hanse_sign_verify(&sig, b.data, b.len - HANSE_SIG_BYTES, &node.pub), 1);
  assert_int_equal(hanse_header_verify_sig(&d), 1);
  hanse_buf_free(&b);
  hanse_buf_free(&again);
}

static void test_header_tamper_breaks_signature(void **state) {
  (void)state;
  hanse_header h, t;
  sample_header(&h);
  t = h; t.height++;
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  t = h; t.time_ms--;
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  t = h; t.tx_count = 13;
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  t = h; t.tx_root.b[5] ^= 1;
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  t = h; t.state_digest.b[0] ^= 0x80;
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  t = h; t.prev_hash.b[31] ^= 4;
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  t = h; strcpy(t.chain_id, "demo-chaim");
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  t = h; t.proposer = alice.pub; /* claims another proposer */
  assert_int_equal(hanse_header_verify_sig(&t), 0);
  /* and every field changes the hash */
  hanse_hash a, b;
  hanse_header_hash(&h, &a);
  t = h; t.height++;
  hanse_header_hash(&t, &b);
  assert_memory_not_equal(a.b, b.b, HANSE_HASH_BYTES);
  /* the hash does not cover the signature */
  t = h; t.sig.b[0] ^= 1;
  hanse_header_hash(&t, &b);
  assert_memory_equal(a.b, b.b, HANSE_HASH_BYTES);
  assert_int_equal(hanse_header_verify_sig(&t), 0);
}

static void test_header_decode_strict(void **state) {
  (void)state;
  hanse_header h, d;
  sample_header(&h);
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_header_encode(&b, &h);
  hanse_reject rej;
  for (size_t n = 0; n < b.len; n++)
    assert_int_equal(hanse_header_decode(&d, b.data, n, &rej), HANSE_ERR(DECODE_TRUNCATED));
  b.data[0] = HANSE_TYPE_TX;
  assert_int_equal(hanse_header_decode(&d, b.data, b.len, &rej), HANSE_ERR(DECODE_BAD_TYPE));
  b.data[0] = HANSE_TYPE_HEADER;
  b.data[1] = 0;
  assert_int_equal(hanse_header_decode(&d, b.data, b.len, &rej), HANSE_ERR(DECODE_BAD_VERSION));
  b.data[1] = HANSE_FORMAT_VERSION;
  b.data[3] = 'X';
  assert_int_equal(hanse_header_decode(&d, b.data, b.len, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  b.data[3] = 'd';
  /* tx count above the block bound */
  size_t count_at = b.len - HANSE_SIG_BYTES - 4;
  hanse_put_u32be(b.data + count_at, HANSE_BLOCK_TX_MAX + 1);
  assert_int_equal(hanse_header_decode(&d, b.data, b.len, &rej), HANSE_ERR(DECODE_OVERSIZED));
  hanse_put_u32be(b.data + count_at, HANSE_BLOCK_TX_MAX);
  assert_int_equal(hanse_header_decode(&d, b.data, b.len, &rej), HANSE_OK);
  hanse_put_u32be(b.data + count_at, 12);
  hanse_buf_u8(&b, 0);
  assert_int_equal(hanse_header_decode(&d, b.data, b.len, &rej), HANSE_ERR(DECODE_TRAILING));
  /* longer than the largest header at all */
  assert_int_equal(hanse_buf_reserve(&b, HANSE_BLOCK_HEADER_MAX + 1), HANSE_OK);
  assert_int_equal(hanse_header_decode(&d, b.data, HANSE_BLOCK_HEADER_MAX + 1, &rej),
                   HANSE_ERR(DECODE_OVERSIZED));
  hanse_buf_free(&b);
}

/* Body: [tx alice seq1] [batch bob seq1..3] [tx alice seq2] */
static void sample_body(fx_body *fb) {
  fx_body_init(fb);
  fx_body_tx(fb, &alice, "notary.anchor", 1, "{\"hash\":\"%064d\"}", 1);
  const char *kinds[] = {"asset.transfer", "asset.transfer", "notary.anchor"};
  const char *payloads[] = {"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"};
  fx_body_batch(fb, &bob, 1, 3, kinds, payloads);
  fx_body_tx(fb, &alice, "asset.issue", 2, "{}");
  fx_body_finish(fb);
}

static void test_body_flatten_and_root(void **state) {
  (void)state;
  fx_body fb;
  sample_body(&fb);
  hanse_body body;
  hanse_reject rej;
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, &rej), HANSE_OK);
  assert_int_equal(body.entry_count, 3);
  assert_int_equal(body.tx_count, 5);
  assert_int_equal(body.entries[0].type, HANSE_ENTRY_TX);
  assert_int_equal(body.entries[1].type, HANSE_ENTRY_BATCH);
  assert_int_equal(body.entries[2].type, HANSE_ENTRY_TX);
  const uint32_t want_entry[] = {0, 1, 1, 1, 2};
  const char *want_kind[] = {"notary.anchor", "asset.transfer", "asset.transfer",
                             "notary.anchor", "asset.issue"};
  const uint64_t want_seq[] = {1, 1, 2, 3, 2};
  hanse_hash ids[5];
  for (uint32_t i = 0; i < 5; i++) {
    assert_int_equal(body.tx_entry[i], want_entry[i]);
    assert_string_equal(body.txs[i]->kind, want_kind[i]);
    assert_true(body.txs[i]->seq == want_seq[i]);
    ids[i] = body.txs[i]->id;
  }
  assert_ptr_equal(body.txs[0], &body.entries[0].tx);
  assert_ptr_equal(body.txs[2], &body.entries[1].batch.txs[1]);
  hanse_hash root, want;
  assert_int_equal(hanse_body_tx_root(&body, &root), HANSE_OK);
  assert_int_equal(hanse_merkle_root_hashes(&want, ids, 5), HANSE_OK);
  assert_memory_equal(root.b, want.b, HANSE_HASH_BYTES);
  uint32_t bad = 99;
  assert_int_equal(hanse_body_verify_sigs(&body, &bad), 1);
  hanse_body_free(&body);
  assert_null(body.entries);
  fx_body_free(&fb);
}

static void test_body_bad_signature_index(void **state) {
  (void)state;
  fx_body fb;
  sample_body(&fb);
  hanse_body body;
  /* flip the last byte of the last entry (alice's seq 2 signature):
   * flattened index 4 */
  fb.out.data[fb.out.len - 1] ^= 1;
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, NULL), HANSE_OK);
  uint32_t bad = 99;
  assert_int_equal(hanse_body_verify_sigs(&body, &bad), 0);
  assert_int_equal(bad, 4);
  hanse_body_free(&body);
  fb.out.data[fb.out.len - 1] ^= 1;
  /* break the batch signature: the batch's first tx (index 1) is named */
  hanse_body_decode(&body, fb.out.data, fb.out.len, NULL);
  size_t batch_end = (size_t)(body.entries[1].batch.raw - fb.out.data) +
                     body.entries[1].batch.raw_len;
  hanse_body_free(&body);
  fb.out.data[batch_end - 1] ^= 1;
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, NULL), HANSE_OK);
  assert_int_equal(hanse_body_verify_sigs(&body, &bad), 0);
  assert_int_equal(bad, 1);
  hanse_body_free(&body);
  fx_body_free(&fb);
}

static void test_body_decode_strict(void **state) {
  (void)state;
  hanse_body body;
  hanse_reject rej;
  /* the empty body is legal */
  uint8_t empty[4] = {0, 0, 0, 0};
  assert_int_equal(hanse_body_decode(&body, empty, 4, &rej), HANSE_OK);
  assert_int_equal(body.tx_count, 0);
  hanse_hash root, e;
  assert_int_equal(hanse_body_tx_root(&body, &root), HANSE_OK);
  hanse_sha256(&e, "", 0);
  assert_memory_equal(root.b, e.b, HANSE_HASH_BYTES);
  hanse_body_free(&body);

  fx_body fb;
  sample_body(&fb);
  /* every truncation is refused (and frees what was decoded so far) */
  for (size_t n = 0; n < fb.out.len; n++)
    assert_int_not_equal(hanse_body_decode(&body, fb.out.data, n, &rej), HANSE_OK);
  /* trailing bytes */
  hanse_buf_u8(&fb.out, 0);
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, &rej), HANSE_ERR(DECODE_TRAILING));
  fb.out.len--;
  /* unknown entry type in the second entry, after the first decoded */
  size_t second = 4 + 5 + hanse_get_u32be(fb.out.data + 5);
  fb.out.data[second] = 0x07;
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, &rej), HANSE_ERR(DECODE_BAD_TYPE));
  assert_non_null(strstr(rej.message, "entry 1"));
  /* a batch entry announced as a single tx */
  fb.out.data[second] = HANSE_ENTRY_TX;
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, &rej), HANSE_ERR(DECODE_BAD_TYPE));
  fb.out.data[second] = HANSE_ENTRY_BATCH;
  /* an entry count the bytes cannot hold, and one above the bound */
  hanse_put_u32be(fb.out.data, 1000);
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, &rej), HANSE_ERR(DECODE_TRUNCATED));
  hanse_put_u32be(fb.out.data, HANSE_BLOCK_TX_MAX + 1);
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, &rej), HANSE_ERR(DECODE_OVERSIZED));
  hanse_put_u32be(fb.out.data, 3);
  assert_int_equal(hanse_body_decode(&body, fb.out.data, fb.out.len, &rej), HANSE_OK);
  hanse_body_free(&body);
  fx_body_free(&fb);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_roundtrip_and_hash),
      cmocka_unit_test(test_header_tamper_breaks_signature),
      cmocka_unit_test(test_header_decode_strict),
      cmocka_unit_test(test_body_flatten_and_root),
      cmocka_unit_test(test_body_bad_signature_index),
      cmocka_unit_test(test_body_decode_strict),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
