/*
 * test_tx.c -- the transaction and batch codecs.
 *
 * Round trips: what hanse_tx_encode writes, hanse_tx_decode reads back
 * field for field, with id = SHA-256 of the bytes and a signature over all
 * bytes before it. Strictness: every truncation of a valid encoding, a
 * trailing byte, a wrong type, version or flag, a batched transaction
 * presented alone (and a signed one inside a batch), sequence 0, names
 * outside their syntax and lengths past their bounds are each rejected
 * with their own code. Tamper evidence: changing any single byte of a
 * signed transaction either breaks the decode or the signature. Batches:
 * one signature covers every inner transaction; an inner transaction of
 * another signer or chain is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "encoding/tx.h"
#include "fixture.h"

#define PAYLOAD "{\"asset\":\"EUR\",\"amount\":5}"

static hanse_keypair alice, bob;

static int setup(void **state) {
  (void)state;
  fx_key(&alice, 0xa1);
  fx_key(&bob, 0xb0);
  return 0;
}

static void encode_one(hanse_buf *out, const hanse_keypair *kp, int batched,
                       const char *chain, const char *kind, uint64_t seq) {
  hanse_tx_fields f = {chain, kind, &kp->pub, seq, 1234567, PAYLOAD, strlen(PAYLOAD)};
  hanse_reject rej;
  assert_int_equal(hanse_tx_encode(out, &f, batched ? NULL : kp, &rej), HANSE_OK);
}

static void test_signed_roundtrip(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  encode_one(&b, &alice, 0, "demo", "asset.transfer", 42);
  assert_int_equal(b.len, HANSE_TX_FIXED_BYTES + 4 + 14 + strlen(PAYLOAD) + HANSE_SIG_BYTES);
  hanse_tx tx;
  hanse_reject rej;
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_OK);
  assert_int_equal(tx.version, HANSE_FORMAT_VERSION);
  assert_int_equal(tx.flags, 0);
  assert_string_equal(tx.chain_id, "demo");
  assert_string_equal(tx.kind, "asset.transfer");
  assert_memory_equal(tx.signer.b, alice.pub.b, HANSE_PUBKEY_BYTES);
  assert_true(tx.seq == 42);
  assert_true(tx.time_ms == 1234567);
  assert_int_equal(tx.payload_len, strlen(PAYLOAD));
  assert_memory_equal(tx.payload, PAYLOAD, tx.payload_len);
  assert_true(tx.payload >= b.data && tx.payload < b.data + b.len); /* borrowed */
  assert_ptr_equal(tx.raw, b.data);
  assert_int_equal(tx.raw_len, b.len);
  assert_int_equal(tx.signed_len, b.len - HANSE_SIG_BYTES);
  hanse_hash id;
  hanse_sha256(&id, b.data, b.len);
  assert_memory_equal(tx.id.b, id.b, HANSE_HASH_BYTES);
  assert_int_equal(hanse_tx_verify_sig(&tx), 1);
  /* the layout starts type, version, flags, chain length */
  assert_int_equal(b.data[0], HANSE_TYPE_TX);
  assert_int_equal(b.data[1], HANSE_FORMAT_VERSION);
  assert_int_equal(b.data[2], 0);
  assert_int_equal(b.data[3], 4);
  /* encoding appends: a second tx after the first decodes on its own */
  size_t first = b.len;
  encode_one(&b, &alice, 0, "demo", "asset.transfer", 43);
  assert_int_equal(hanse_tx_decode(&tx, b.data + first, b.len - first, 0, &rej), HANSE_OK);
  assert_true(tx.seq == 43);
  assert_int_equal(hanse_tx_verify_sig(&tx), 1);
  hanse_buf_free(&b);
}

static void test_every_byte_is_covered(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  encode_one(&b, &alice, 0, "demo", "asset.transfer", 1);
  hanse_hash id0;
  hanse_sha256(&id0, b.data, b.len);
  for (size_t i = 0; i < b.len; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      b.data[i] ^= (uint8_t)(1u << bit);
      hanse_tx tx;
      int rc = hanse_tx_decode(&tx, b.data, b.len, 0, NULL);
      if (rc == HANSE_OK) {
        assert_int_equal(hanse_tx_verify_sig(&tx), 0);
        assert_memory_not_equal(tx.id.b, id0.b, HANSE_HASH_BYTES);
      }
      b.data[i] ^= (uint8_t)(1u << bit);
    }
  }
  hanse_buf_free(&b);
}

static void test_truncation_and_trailing(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  encode_one(&b, &alice, 0, "demo", "notary.anchor", 7);
  hanse_tx tx;
  hanse_reject rej;
  for (size_t n = 0; n < b.len; n++) {
    hanse_reject_clear(&rej);
    assert_int_equal(hanse_tx_decode(&tx, b.data, n, 0, &rej), HANSE_ERR(DECODE_TRUNCATED));
    assert_string_equal(rej.code, "decode.truncated");
  }
  hanse_buf_u8(&b, 0);
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_ERR(DECODE_TRAILING));
  assert_string_equal(rej.code, "decode.trailing");
  hanse_buf_free(&b);
}

static void test_header_fields_rejected(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  encode_one(&b, &alice, 0, "demo", "asset.issue", 1);
  hanse_tx tx;
  hanse_reject rej;
  b.data[0] = HANSE_TYPE_BATCH;
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_ERR(DECODE_BAD_TYPE));
  b.data[0] = HANSE_TYPE_TX;
  b.data[1] = 2;
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_ERR(DECODE_BAD_VERSION));
  b.data[1] = HANSE_FORMAT_VERSION;
  b.data[2] = 0x02; /* unknown flag */
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  b.data[2] = 0;
  /* a signed tx where a batched one is wanted */
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 1, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  /* bad chain id characters */
  b.data[4] = 'D';
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  b.data[4] = 'd';
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_OK);
  /* chain length 0 */
  b.data[3] = 0;
  assert_int_not_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_OK);
  hanse_buf_free(&b);
}

static void test_batched_alone_rejected(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  encode_one(&b, &alice, 1, "demo", "asset.issue", 1);
  assert_int_equal(b.data[2], HANSE_TX_FLAG_BATCHED);
  hanse_tx tx;
  hanse_reject rej;
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 0, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 1, &rej), HANSE_OK);
  assert_int_equal(tx.signed_len, b.len); /* no signature of its own */
  hanse_buf_free(&b);
}

/* Write a transaction by hand so the decoder sees values the encoder
 * refuses to produce. */
static void raw_tx(hanse_buf *b, const char *chain, const char *kind, uint64_t seq,
                   uint32_t payload_len_field, size_t payload_len_real) {
  hanse_buf_u8(b, HANSE_TYPE_TX);
  hanse_buf_u8(b, HANSE_FORMAT_VERSION);
  hanse_buf_u8(b, HANSE_TX_FLAG_BATCHED);
  hanse_buf_u8(b, (uint8_t)strlen(chain));
  hanse_buf_put(b, chain, strlen(chain));
  hanse_buf_u8(b, (uint8_t)strlen(kind));
  hanse_buf_put(b, kind, strlen(kind));
  hanse_buf_put(b, alice.pub.b, HANSE_PUBKEY_BYTES);
  hanse_buf_u64(b, seq);
  hanse_buf_u64(b, 0);
  hanse_buf_u32(b, payload_len_field);
  for (size_t i = 0; i < payload_len_real; i++) hanse_buf_u8(b, ' ');
}

static void test_field_bounds(void **state) {
  (void)state;
  hanse_tx tx;
  hanse_reject rej;
  hanse_buf b;
  hanse_buf_init(&b);
  raw_tx(&b, "demo", "asset.issue", 0, 2, 2);
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 1, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  assert_non_null(strstr(rej.message, "sequence"));
  hanse_buf_reset(&b);
  raw_tx(&b, "demo", "asset.issue", 1, HANSE_PAYLOAD_MAX + 1, 0);
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 1, &rej), HANSE_ERR(DECODE_OVERSIZED));
  hanse_buf_reset(&b);
  raw_tx(&b, "demo", "asset.issue", 1, HANSE_PAYLOAD_MAX, HANSE_PAYLOAD_MAX);
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 1, &rej), HANSE_OK);
  hanse_buf_reset(&b);
  raw_tx(&b, "demo", "asset", 1, 0, 0); /* kind without a dot */
  assert_int_equal(hanse_tx_decode(&tx, b.data, b.len, 1, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  hanse_buf_reset(&b);
  /* longer than any transaction can be */
  assert_int_equal(hanse_buf_reserve(&b, HANSE_TX_MAX + 1), HANSE_OK);
  memset(b.data, 0, HANSE_TX_MAX + 1);
  assert_int_equal(hanse_tx_decode(&tx, b.data, HANSE_TX_MAX + 1, 1, &rej),
                   HANSE_ERR(DECODE_OVERSIZED));
  hanse_buf_free(&b);
}

static void test_encode_validates(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_reject rej;
  hanse_tx_fields f = {"demo", "asset.issue", &alice.pub, 1, 0, "{}", 2};
  f.chain_id = "Bad Chain";
  assert_int_equal(hanse_tx_encode(&b, &f, &alice, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  f.chain_id = NULL;
  assert_int_equal(hanse_tx_encode(&b, &f, &alice, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  f.chain_id = "demo";
  f.kind = "nodot";
  assert_int_equal(hanse_tx_encode(&b, &f, &alice, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  f.kind = "asset.issue";
  f.payload_len = HANSE_PAYLOAD_MAX + 1;
  assert_int_equal(hanse_tx_encode(&b, &f, &alice, &rej), HANSE_ERR(DECODE_OVERSIZED));
  f.payload_len = 2;
  /* signing key must be the signer */
  assert_int_equal(hanse_tx_encode(&b, &f, &bob, &rej), HANSE_ERR(INVALID));
  assert_int_equal(b.len, 0); /* nothing written by the refusals */
  hanse_buf_free(&b);
}

static void test_name_syntax(void **state) {
  (void)state;
  struct {
    const char *s;
    int ok;
  } chains[] = {{"demo", 1}, {"alliance-eu", 1}, {"a.b_c-9", 1}, {"a", 1},
                {"", 0}, {"Demo", 0}, {"de mo", 0}, {"dé", 0}, {"a/b", 0},
                {"0123456789abcdef0123456789abcdef", 1},
                {"0123456789abcdef0123456789abcdef0", 0}};
  for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++)
    assert_int_equal(hanse_chain_id_valid(chains[i].s, strlen(chains[i].s)), chains[i].ok);
  struct {
    const char *s;
    int ok;
  } kinds[] = {{"asset.transfer", 1}, {"a.b", 1}, {"notary.anchor", 1},
               {"ab", 0}, {"asset", 0}, {".transfer", 0}, {"asset.", 0},
               {"asset.trans.fer", 0}, {"Asset.issue", 0}, {"asset-x.issue", 0},
               {"abcdefghijklmnop.x", 1},   /* module of 16 */
               {"abcdefghijklmnopq.x", 0},  /* module of 17 */
               {"a.abcdefghijklmnopqrstuvwxyz01234", 1}, /* action of 31 */
               {"a.abcdefghijklmnopqrstuvwxyz012345", 0}};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    assert_int_equal(hanse_kind_valid(kinds[i].s, strlen(kinds[i].s)), kinds[i].ok);
  char module[HANSE_KIND_MAX + 1], action[HANSE_KIND_MAX + 1];
  hanse_kind_split("asset.transfer", module, action);
  assert_string_equal(module, "asset");
  assert_string_equal(action, "transfer");
}

/* ---- batches ---- */

static void build_batch(hanse_buf *out, const hanse_keypair *signer,
                        const hanse_keypair *inner_signer, const char *inner_chain,
                        uint32_t n) {
  hanse_buf txs[4];
  const uint8_t *ptrs[4];
  size_t lens[4];
  assert_true(n <= 4);
  for (uint32_t i = 0; i < n; i++) {
    hanse_buf_init(&txs[i]);
    encode_one(&txs[i], i == n - 1 ? inner_signer : signer, 1,
               i == n - 1 ? inner_chain : "demo", "asset.transfer", 10 + i);
    ptrs[i] = txs[i].data;
    lens[i] = txs[i].len;
  }
  hanse_reject rej;
  assert_int_equal(hanse_batch_encode(out, "demo", ptrs, lens, n, signer, &rej), HANSE_OK);
  for (uint32_t i = 0; i < n; i++) hanse_buf_free(&txs[i]);
}

static void test_batch_roundtrip(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  build_batch(&b, &alice, &alice, "demo", 3);
  hanse_batch batch;
  hanse_reject rej;
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_OK);
  assert_int_equal(batch.count, 3);
  assert_string_equal(batch.chain_id, "demo");
  assert_memory_equal(batch.signer.b, alice.pub.b, HANSE_PUBKEY_BYTES);
  assert_int_equal(batch.signed_len, b.len - HANSE_SIG_BYTES);
  assert_int_equal(hanse_batch_verify_sig(&batch), 1);
  hanse_hash id;
  hanse_sha256(&id, b.data, b.len);
  assert_memory_equal(batch.id.b, id.b, HANSE_HASH_BYTES);
  for (uint32_t i = 0; i < 3; i++) {
    assert_true(batch.txs[i].seq == 10 + i);
    assert_int_equal(batch.txs[i].flags, HANSE_TX_FLAG_BATCHED);
    /* each inner id is the hash of the inner bytes, which lie in the batch */
    hanse_sha256(&id, batch.txs[i].raw, batch.txs[i].raw_len);
    assert_memory_equal(batch.txs[i].id.b, id.b, HANSE_HASH_BYTES);
    assert_true(batch.txs[i].raw > b.data && batch.txs[i].raw < b.data + b.len);
  }
  hanse_batch_free(&batch);
  assert_null(batch.txs);

  /* any changed byte of the batch breaks decode or the one signature */
  for (size_t i = 0; i < b.len; i += 3) {
    b.data[i] ^= 0x20;
    if (hanse_batch_decode(&batch, b.data, b.len, NULL) == HANSE_OK) {
      assert_int_equal(hanse_batch_verify_sig(&batch), 0);
      hanse_batch_free(&batch);
    }
    b.data[i] ^= 0x20;
  }
  /* truncation anywhere, trailing bytes */
  for (size_t n = 0; n < b.len; n++) {
    assert_int_not_equal(hanse_batch_decode(&batch, b.data, n, &rej), HANSE_OK);
    assert_null(batch.txs);
  }
  hanse_buf_u8(&b, 1);
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(DECODE_TRAILING));
  assert_null(batch.txs);
  hanse_buf_free(&b);
}

static void test_batch_inner_checks(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_batch batch;
  hanse_reject rej;
  build_batch(&b, &alice, &bob, "demo", 2);
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(BATCH_BAD_SIGNER));
  assert_string_equal(rej.code, "batch.bad_signer");
  hanse_buf_reset(&b);
  build_batch(&b, &alice, &alice, "other", 2);
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(TX_WRONG_CHAIN));
  hanse_buf_reset(&b);

  /* a signed (non-batched) transaction inside a batch */
  hanse_buf inner;
  hanse_buf_init(&inner);
  encode_one(&inner, &alice, 0, "demo", "asset.issue", 1);
  const uint8_t *p = inner.data;
  size_t l = inner.len;
  assert_int_equal(hanse_batch_encode(&b, "demo", &p, &l, 1, &alice, &rej), HANSE_OK);
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(DECODE_BAD_FIELD));
  assert_non_null(strstr(rej.message, "batch transaction 0"));
  hanse_buf_free(&inner);
  hanse_buf_reset(&b);

  /* count bounds on encode and decode */
  assert_int_equal(hanse_batch_encode(&b, "demo", &p, &l, 0, &alice, &rej), HANSE_ERR(DECODE_OVERSIZED));
  assert_int_equal(hanse_batch_encode(&b, "demo", &p, &l, HANSE_BATCH_TX_MAX + 1, &alice, &rej),
                   HANSE_ERR(DECODE_OVERSIZED));
  assert_int_equal(b.len, 0);
  build_batch(&b, &alice, &alice, "demo", 1);
  size_t count_at = 3 + 4 + HANSE_PUBKEY_BYTES;
  hanse_put_u32be(b.data + count_at, 0);
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(DECODE_OVERSIZED));
  /* a count the bytes cannot hold is refused before allocating */
  hanse_put_u32be(b.data + count_at, HANSE_BATCH_TX_MAX);
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(DECODE_TRUNCATED));
  hanse_put_u32be(b.data + count_at, 1);
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_OK);
  hanse_batch_free(&batch);
  b.data[0] = HANSE_TYPE_TX;
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(DECODE_BAD_TYPE));
  b.data[0] = HANSE_TYPE_BATCH;
  b.data[1] = 9;
  assert_int_equal(hanse_batch_decode(&batch, b.data, b.len, &rej), HANSE_ERR(DECODE_BAD_VERSION));
  hanse_buf_free(&b);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signed_roundtrip),
      cmocka_unit_test(test_every_byte_is_covered),
      cmocka_unit_test(test_truncation_and_trailing),
      cmocka_unit_test(test_header_fields_rejected),
      cmocka_unit_test(test_batched_alone_rejected),
      cmocka_unit_test(test_field_bounds),
      cmocka_unit_test(test_encode_validates),
      cmocka_unit_test(test_name_syntax),
      cmocka_unit_test(test_batch_roundtrip),
      cmocka_unit_test(test_batch_inner_checks),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
