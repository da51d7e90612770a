/*
 * test_client.c -- the C client library (include/hanse/client.h) without a
 * real node.
 *
 * Building: transactions and batches made by hanse_client_tx_build and
 * hanse_client_batch_build must decode with the chain's own decoders, carry
 * the sequence numbers and signer they were given, the payload in compact
 * sorted-key form, ids that are SHA-256 of the bytes, and signatures that
 * verify (and stop verifying when a byte changes). A chain built by the
 * fixture executes them. Failed builds leave the caller's buffer as it was.
 *
 * Proofs: a few blocks are proposed on a fixture chain (single
 * transactions, a batch, a failing transfer, a block of one transaction),
 * and for each transaction the answer of GET /v1/chains/{c}/txs/{id} is
 * rebuilt exactly as src/api/res_txs.c writes it (get_tx, proof_json).
 * hanse_client_proof_verify must accept every one of them and refuse every
 * kind of tampering: each path element, the index (alone and together with
 * the receipt's), each byte of the raw transaction (with and without the
 * id recomputed), each byte of the header (with and without block_hash
 * recomputed), block_hash, tx_root, tx_count, the receipt's height, the
 * batched flag, a transaction swapped under another's proof, and missing
 * parts; each with the message that names the failed check.
 *
 * Transport: a small libmicrohttpd server on 127.0.0.1 answers with canned
 * statuses and bodies, so the mapping of the node's error bodies to return
 * codes (core codes, module codes by status class, non-API error pages,
 * non-JSON answers, missing fields) and the shape of the requests the
 * client sends (paths, query escaping, submit bodies in both forms) are
 * checked without a node; an unused port gives client.unreachable and a
 * slow answer client.timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "base/hex.h"
#include "crypto/merkle.h"
#include "fixture.h"
#include "hanse/client.h"

/* ---- helpers ---------------------------------------------------------- */

static json_t *hexj(const void *p, size_t n) {
  char *h = malloc(2 * n + 1);
  assert_non_null(h);
  hanse_hex_encode(h, p, n);
  json_t *j = json_string(h);
  free(h);
  return j;
}

static const char *pkhex(const hanse_pubkey *pk) {
  static char buf[4][HANSE_HASH_HEX_BYTES];
  static int i;
  i = (i + 1) % 4;
  return fx_hex(buf[i], pk);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static hanse_client *client_for(const char *url, const char *chain) {
  hanse_client *c = NULL;
  hanse_reject rej;
  int rc = hanse_client_create(url, chain, &c, &rej);
  if (rc != HANSE_OK) fail_msg("hanse_client_create: %s: %s", rej.code, rej.message);
  return c;
}

/* ---- create ----------------------------------------------------------- */

static void test_create_validates(void **state) {
  (void)state;
  hanse_client *c = (hanse_client *)1;
  hanse_reject rej;
  static const char *bad_urls[] = {"", "127.0.0.1:8080", "ftp://x", "/", "http:/x", NULL};
  for (int i = 0; bad_urls[i]; i++) {
    memset(&rej, 0, sizeof rej);
    assert_int_equal(hanse_client_create(bad_urls[i], "demo", &c, &rej), HANSE_ERR(INVALID));
    assert_null(c);
    assert_string_equal(rej.code, "client.bad_url");
    assert_int_equal(rej.status, 0);
  }
  assert_int_equal(hanse_client_create(NULL, "demo", &c, &rej), HANSE_ERR(INVALID));
  /* too long: the bound is on the URL without trailing slashes */
  char long_url[600];
  memset(long_url, 'a', sizeof long_url);
  memcpy(long_url, "http://", 7);
  long_url[sizeof long_url - 1] = 0;
  assert_int_equal(hanse_client_create(long_url, "demo", &c, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_url");

  static const char *bad_chains[] = {"", "Demo", "de mo", "a/b",
                                     "abcdefghijklmnopqrstuvwxyz0123456", NULL};
  for (int i = 0; bad_chains[i]; i++) {
    assert_int_equal(hanse_client_create("http://127.0.0.1:1", bad_chains[i], &c, &rej),
                     HANSE_ERR(INVALID));
    assert_null(c);
    assert_string_equal(rej.code, "client.bad_chain");
  }
  assert_int_equal(hanse_client_create("http://127.0.0.1:1", NULL, &c, &rej), HANSE_ERR(INVALID));
  /* a NULL rej is allowed */
  assert_int_equal(hanse_client_create("nope", "demo", &c, NULL), HANSE_ERR(INVALID));

  assert_int_equal(hanse_client_create("https://example.org///", "a.b-c_9", &c, &rej), HANSE_OK);
  assert_non_null(c);
  assert_string_equal(hanse_client_chain(c), "a.b-c_9");
  hanse_client_set_timeout_ms(c, 0); /* back to the default, no crash */
  hanse_client_destroy(c);
  hanse_client_destroy(NULL);
}

/* ---- building ----------------------------------------------------------- */

static void test_tx_build_decodes_and_verifies(void **state) {
  (void)state;
  hanse_keypair kp;
  fx_key(&kp, 0xa1);
  hanse_client *c = client_for("http://127.0.0.1:1", "test");
  json_t *payload = json_pack("{s:s, s:I, s:s, s:s}", "to", pkhex(&kp.pub), "amount",
                              (json_int_t)300, "asset", "EUR", "memo", "é \"q\"");
  hanse_client_op op = {"asset.transfer", payload};
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_buf_put(&out, "prefix", 6); /* appended, not overwritten */
  hanse_hash id;
  hanse_reject rej;
  uint64_t t0 = now_ms();
  assert_int_equal(hanse_client_tx_build(c, &op, 42, &kp, &out, &id, &rej), HANSE_OK);
  uint64_t t1 = now_ms();
  assert_memory_equal(out.data, "prefix", 6);

  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, out.data + 6, out.len - 6, 0, &rej), HANSE_OK);
  assert_string_equal(tx.chain_id, "test");
  assert_string_equal(tx.kind, "asset.transfer");
  assert_memory_equal(tx.signer.b, kp.pub.b, HANSE_PUBKEY_BYTES);
  assert_true(tx.seq == 42);
  assert_true(tx.time_ms >= t0 && tx.time_ms <= t1);
  assert_int_equal(tx.flags & HANSE_TX_FLAG_BATCHED, 0);
  /* compact, keys sorted: the same intent gives the same bytes */
  char want[256];
  snprintf(want, sizeof want,
           "{\"amount\":300,\"asset\":\"EUR\",\"memo\":\"\xc3\xa9 \\\"q\\\"\",\"to\":\"%s\"}",
           pkhex(&kp.pub));
  assert_int_equal(tx.payload_len, strlen(want));
  assert_memory_equal(tx.payload, want, strlen(want));
  /* the id is SHA-256 of exactly the appended bytes */
  hanse_hash h;
  hanse_sha256(&h, out.data + 6, out.len - 6);
  assert_memory_equal(id.b, h.b, HANSE_HASH_BYTES);
  assert_memory_equal(tx.id.b, h.b, HANSE_HASH_BYTES);
  assert_int_equal(hanse_tx_verify_sig(&tx), 1);
  /* decoding it as batched is refused: it is a signed transaction */
  assert_int_not_equal(hanse_tx_decode(&tx, out.data + 6, out.len - 6, 1, NULL), HANSE_OK);

  /* one changed payload byte: still decodes, no longer verifies */
  uint8_t *copy = malloc(out.len - 6);
  assert_non_null(copy);
  memcpy(copy, out.data + 6, out.len - 6);
  uint8_t *amount = memmem(copy, out.len - 6, "300", 3);
  assert_non_null(amount);
  amount[0] = '9';
  assert_int_equal(hanse_tx_decode(&tx, copy, out.len - 6, 0, NULL), HANSE_OK);
  assert_int_equal(hanse_tx_verify_sig(&tx), 0);
  free(copy);

  /* a second build with id == NULL appends another transaction */
  size_t before = out.len;
  assert_int_equal(hanse_client_tx_build(c, &op, 43, &kp, &out, NULL, NULL), HANSE_OK);
  assert_true(out.len > before);
  assert_int_equal(hanse_tx_decode(&tx, out.data + before, out.len - before, 0, NULL), HANSE_OK);
  assert_true(tx.seq == 43);

  json_decref(payload);
  hanse_buf_free(&out);
  hanse_client_destroy(c);
  hanse_keypair_wipe(&kp);
}

static void test_tx_build_failures_leave_buffer(void **state) {
  (void)state;
  hanse_keypair kp;
  fx_key(&kp, 0xa1);
  hanse_client *c = client_for("http://127.0.0.1:1", "test");
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_buf_put(&out, "keep", 4);
  hanse_reject rej;
  hanse_hash id;

  json_t *obj = json_pack("{s:I}", "n", (json_int_t)1);
  json_t *arr = json_pack("[i]", 1);
  hanse_client_op no_kind = {NULL, obj};
  hanse_client_op not_object = {"asset.issue", arr};
  hanse_client_op no_payload = {"asset.issue", NULL};
  const hanse_client_op *bad_ops[] = {&no_kind, &not_object, &no_payload, NULL};
  for (int i = 0; bad_ops[i]; i++) {
    assert_int_equal(hanse_client_tx_build(c, bad_ops[i], 1, &kp, &out, &id, &rej),
                     HANSE_ERR(INVALID));
    assert_string_equal(rej.code, "client.bad_op");
    assert_int_equal(out.len, 4);
  }
  assert_int_equal(hanse_client_tx_build(c, NULL, 1, &kp, &out, &id, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_op");

  /* a kind the encoder refuses: its code, prefixed with kind and seq */
  hanse_client_op bad_kind = {"Asset.Issue", obj};
  assert_int_equal(hanse_client_tx_build(c, &bad_kind, 7, &kp, &out, &id, &rej),
                   HANSE_ERR(DECODE_BAD_FIELD));
  assert_string_equal(rej.code, "decode.bad_field");
  assert_non_null(strstr(rej.message, "Asset.Issue seq 7"));
  assert_int_equal(out.len, 4);

  /* a payload over 64 KiB */
  char *big = malloc(HANSE_PAYLOAD_MAX + 1);
  assert_non_null(big);
  memset(big, 'x', HANSE_PAYLOAD_MAX);
  big[HANSE_PAYLOAD_MAX] = 0;
  json_t *huge = json_pack("{s:s}", "blob", big);
  free(big);
  hanse_client_op too_big = {"notary.anchor", huge};
  assert_int_equal(hanse_client_tx_build(c, &too_big, 1, &kp, &out, &id, &rej),
                   HANSE_ERR(DECODE_OVERSIZED));
  assert_string_equal(rej.code, "decode.oversized");
  assert_int_equal(out.len, 4);
  assert_memory_equal(out.data, "keep", 4);

  json_decref(obj);
  json_decref(arr);
  json_decref(huge);
  hanse_buf_free(&out);
  hanse_client_destroy(c);
  hanse_keypair_wipe(&kp);
}

static void test_batch_build(void **state) {
  (void)state;
  hanse_keypair kp, other;
  fx_key(&kp, 0xa1);
  fx_key(&other, 0xb0);
  hanse_client *c = client_for("http://127.0.0.1:1", "test");
  json_t *p[3] = {
      json_pack("{s:s, s:i, s:i, s:s}", "asset", "USD", "decimals", 2, "supply", 5000, "name",
                "Dollar"),
      json_pack("{s:s, s:i, s:s}", "asset", "USD", "amount", 10, "to", pkhex(&other.pub)),
      json_pack("{s:s, s:s}", "hash", "0000000000000000000000000000000000000000000000000000000000000001",
                "name", "x.pdf")};
  hanse_client_op ops[3] = {{"asset.issue", p[0]}, {"asset.transfer", p[1]}, {"notary.anchor", p[2]}};
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_hash ids[3];
  hanse_reject rej;
  assert_int_equal(hanse_client_batch_build(c, ops, 3, 7, &kp, &out, ids, &rej), HANSE_OK);

  hanse_batch b;
  assert_int_equal(hanse_batch_decode(&b, out.data, out.len, &rej), HANSE_OK);
  assert_string_equal(b.chain_id, "test");
  assert_memory_equal(b.signer.b, kp.pub.b, HANSE_PUBKEY_BYTES);
  assert_int_equal(b.count, 3);
  assert_int_equal(hanse_batch_verify_sig(&b), 1);
  for (uint32_t i = 0; i < 3; i++) {
    const hanse_tx *t = &b.txs[i];
    assert_true(t->seq == 7 + i);
    assert_string_equal(t->kind, ops[i].kind);
    assert_int_equal(t->flags & HANSE_TX_FLAG_BATCHED, HANSE_TX_FLAG_BATCHED);
    assert_memory_equal(t->signer.b, kp.pub.b, HANSE_PUBKEY_BYTES);
    /* the ids returned are the inner transactions' ids, as the node
     * reports them, not the batch's */
    assert_memory_equal(ids[i].b, t->id.b, HANSE_HASH_BYTES);
    hanse_hash h;
    hanse_sha256(&h, t->raw, t->raw_len);
    assert_memory_equal(ids[i].b, h.b, HANSE_HASH_BYTES);
    assert_false(hanse_hash_eq(&ids[i], &b.id));
    /* an inner transaction alone is not a valid signed transaction */
    hanse_tx alone;
    assert_int_not_equal(hanse_tx_decode(&alone, t->raw, t->raw_len, 0, NULL), HANSE_OK);
  }
  assert_true(b.txs[0].time_ms == b.txs[2].time_ms); /* one clock reading */
  hanse_batch_free(&b);

  /* any changed byte of the signed part breaks the one signature */
  for (size_t i = 0; i + HANSE_SIG_BYTES < out.len; i += 7) {
    out.data[i] ^= 0x20;
    hanse_batch bb;
    if (hanse_batch_decode(&bb, out.data, out.len, NULL) == HANSE_OK) {
      assert_int_equal(hanse_batch_verify_sig(&bb), 0);
      hanse_batch_free(&bb);
    }
    out.data[i] ^= 0x20;
  }

  /* the chain executes what the client built: a single transaction and
   * the batch after it, in one block */
  fx_chain f;
  fx_chain_setup(&f, NULL);
  json_t *anchor = json_pack("{s:s}", "hash",
                             "00000000000000000000000000000000000000000000000000000000000000ff");
  hanse_client_op single = {"notary.anchor", anchor};
  hanse_buf tx;
  hanse_buf_init(&tx);
  hanse_hash single_id;
  assert_int_equal(hanse_client_tx_build(c, &single, 1, &f.alice, &tx, &single_id, &rej), HANSE_OK);
  hanse_buf batch;
  hanse_buf_init(&batch);
  assert_int_equal(hanse_client_batch_build(c, ops, 3, 2, &f.alice, &batch, ids, &rej), HANSE_OK);
  fx_body body;
  fx_body_init(&body);
  hanse_body_entry_append(&body.entries, HANSE_ENTRY_TX, tx.data, tx.len);
  hanse_body_entry_append(&body.entries, HANSE_ENTRY_BATCH, batch.data, batch.len);
  body.count = 2;
  hanse_receipt rs[4];
  assert_int_equal(fx_propose(&f, &body, rs, 4, &rej), HANSE_OK);
  assert_memory_equal(rs[0].id.b, single_id.b, HANSE_HASH_BYTES);
  for (int i = 0; i < 4; i++) assert_string_equal(rs[i].code, "ok");
  for (int i = 0; i < 3; i++) assert_memory_equal(rs[i + 1].id.b, ids[i].b, HANSE_HASH_BYTES);
  assert_int_equal(fx_balance(&f, "USD", &other.pub), 10);
  fx_body_free(&body);
  hanse_buf_free(&tx);
  hanse_buf_free(&batch);
  json_decref(anchor);
  fx_chain_teardown(&f);

  json_decref(p[0]);
  json_decref(p[1]);
  json_decref(p[2]);
  hanse_buf_free(&out);
  hanse_client_destroy(c);
  hanse_keypair_wipe(&kp);
  hanse_keypair_wipe(&other);
}

static void test_batch_build_failures(void **state) {
  (void)state;
  hanse_keypair kp;
  fx_key(&kp, 0xa1);
  hanse_client *c = client_for("http://127.0.0.1:1", "test");
  json_t *obj = json_pack("{s:i}", "n", 1);
  hanse_client_op ops[3] = {{"notary.anchor", obj}, {"bad kind", obj}, {"notary.anchor", obj}};
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_buf_put(&out, "keep", 4);
  hanse_reject rej;
  assert_int_equal(hanse_client_batch_build(c, ops, 0, 1, &kp, &out, NULL, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_batch");
  assert_int_equal(hanse_client_batch_build(c, ops, HANSE_BATCH_TX_MAX + 1, 1, &kp, &out, NULL,
                                            &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_batch");
  /* the bad op in the middle is named, nothing is appended */
  hanse_hash ids[3];
  assert_int_equal(hanse_client_batch_build(c, ops, 3, 1, &kp, &out, ids, &rej),
                   HANSE_ERR(DECODE_BAD_FIELD));
  assert_non_null(strstr(rej.message, "batch op 1"));
  assert_non_null(strstr(rej.message, "seq 2"));
  assert_int_equal(out.len, 4);
  ops[1].payload = NULL;
  assert_int_equal(hanse_client_batch_build(c, ops, 3, 1, &kp, &out, ids, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_op");
  assert_int_equal(out.len, 4);
  json_decref(obj);
  hanse_buf_free(&out);
  hanse_client_destroy(c);
  hanse_keypair_wipe(&kp);
}

/* ---- proofs ------------------------------------------------------------- */

typedef struct proof_env {
  fx_chain f;
  hanse_client *c;
  hanse_hash ids[16];
  int batched[16];
  int n;
} proof_env;

/* Block 1: alice issues EUR, sends 300 to bob, anchors a digest.
 * Block 2: bob sends 500 (too much: a failing receipt), a batch of three
 * of alice's, bob sends 100 -- five transactions.
 * Block 3: one transaction alone (an empty Merkle path). */
static int setup_proofs(void **state) {
  proof_env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  fx_chain *f = &e->f;
  fx_chain_setup(f, NULL);
  hanse_receipt rs[8];
  hanse_reject rej;

  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "asset.issue", 1,
             "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000,\"name\":\"Euro\"}");
  fx_body_tx(&b, &f->alice, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":300,\"to\":\"%s\"}",
             pkhex(&f->bob.pub));
  fx_body_tx(&b, &f->alice, "notary.anchor", 3, "{\"hash\":\"%064d\"}", 7);
  assert_int_equal(fx_propose(f, &b, rs, 8, &rej), HANSE_OK);
  for (int i = 0; i < 3; i++) {
    e->ids[e->n] = rs[i].id;
    e->batched[e->n++] = 0;
  }
  fx_body_free(&b);

  fx_body_init(&b);
  fx_body_tx(&b, &f->bob, "asset.transfer", 1, "{\"asset\":\"EUR\",\"amount\":500,\"to\":\"%s\"}",
             pkhex(&f->carol.pub));
  char p1[200], p2[200];
  snprintf(p1, sizeof p1, "{\"asset\":\"EUR\",\"amount\":5,\"to\":\"%s\"}", pkhex(&f->carol.pub));
  snprintf(p2, sizeof p2, "{\"asset\":\"EUR\",\"amount\":6,\"to\":\"%s\"}", pkhex(&f->bob.pub));
  const char *kinds[3] = {"asset.transfer", "asset.transfer", "notary.anchor"};
  const char *pays[3] = {p1, p2, "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000aa\"}"};
  fx_body_batch(&b, &f->alice, 4, 3, kinds, pays);
  fx_body_tx(&b, &f->bob, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":100,\"to\":\"%s\"}",
             pkhex(&f->carol.pub));
  assert_int_equal(fx_propose(f, &b, rs, 8, &rej), HANSE_OK);
  assert_string_not_equal(rs[0].code, "ok");
  for (int i = 0; i < 5; i++) {
    e->ids[e->n] = rs[i].id;
    e->batched[e->n++] = i >= 1 && i <= 3;
  }
  fx_body_free(&b);

  fx_body_init(&b);
  fx_body_tx(&b, &f->carol, "notary.anchor", 1, "{\"hash\":\"%064d\"}", 9);
  assert_int_equal(fx_propose(f, &b, rs, 8, &rej), HANSE_OK);
  e->ids[e->n] = rs[0].id;
  e->batched[e->n++] = 0;
  fx_body_free(&b);

  e->c = client_for("http://127.0.0.1:1", FX_CHAIN_ID);
  *state = e;
  return 0;
}

static int teardown_proofs(void **state) {
  proof_env *e = *state;
  hanse_client_destroy(e->c);
  fx_chain_teardown(&e->f);
  free(e);
  return 0;
}

/* The answer of GET /v1/chains/{c}/txs/{id}, built by the server's own
 * builder (api_tx_json), so the test follows the server's format. */
static json_t *tx_doc(fx_chain *f, const hanse_hash *id) {
  hanse_store *rd = hanse_chain_reader_acquire(f->chain);
  assert_non_null(rd);
  hanse_tx_proof p;
  hanse_reject rej;
  int rc = hanse_chain_tx_proof(rd, id, &p, &rej);
  hanse_chain_reader_release(f->chain, rd);
  if (rc != HANSE_OK) fail_msg("hanse_chain_tx_proof: %s: %s", rej.code, rej.message);
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, id);
  json_t *j = api_tx_json(&p, hex);
  assert_non_null(j);
  hanse_tx_proof_free(&p);
  return j;
}

static json_t *proof_of(json_t *doc) { return json_object_get(doc, "proof"); }

/* Decode the hex string obj[key], XOR byte i with x, write it back. */
static void flip_hex(json_t *obj, const char *key, size_t i, uint8_t x) {
  const char *s = json_string_value(json_object_get(obj, key));
  assert_non_null(s);
  uint8_t *b;
  size_t n;
  assert_int_equal(hanse_hex_decode_alloc(s, strlen(s), &b, &n), HANSE_OK);
  assert_true(i < n);
  b[i] ^= x;
  json_object_set_new(obj, key, hexj(b, n));
  free(b);
}

static size_t hex_len(json_t *obj, const char *key) {
  return strlen(json_string_value(json_object_get(obj, key))) / 2;
}

static void set_int(json_t *obj, const char *key, json_int_t v) {
  json_object_set_new(obj, key, json_integer(v));
}

static json_int_t get_int(json_t *obj, const char *key) {
  return json_integer_value(json_object_get(obj, key));
}

/* Verify and require a rejection whose message contains `what`. */
static void expect_invalid(const hanse_client *c, json_t *doc, const hanse_hash *expect,
                           const char *what, int line) {
  hanse_reject rej;
  memset(&rej, 0, sizeof rej);
  int rc = hanse_client_proof_verify(c, doc, expect, &rej);
  if (rc != HANSE_ERR(INVALID) || strcmp(rej.code, "proof.invalid") != 0 ||
      (what && strstr(rej.message, what) == NULL))
    fail_msg("line %d: want proof.invalid '%s', got rc %d %s: %s", line, what ? what : "*", rc,
             rej.code, rej.message);
  assert_int_equal(rej.status, 0);
}
#define EXPECT_INVALID(c, doc, expect, what) expect_invalid(c, doc, expect, what, __LINE__)

static void expect_valid(const hanse_client *c, json_t *doc, const hanse_hash *expect) {
  hanse_reject rej;
  memset(&rej, 0, sizeof rej);
  int rc = hanse_client_proof_verify(c, doc, expect, &rej);
  if (rc != HANSE_OK) fail_msg("valid proof refused: %s: %s", rej.code, rej.message);
}

static void test_proof_valid(void **state) {
  proof_env *e = *state;
  for (int i = 0; i < e->n; i++) {
    json_t *doc = tx_doc(&e->f, &e->ids[i]);
    json_t *tx = json_object_get(doc, "tx");
    assert_int_equal(json_is_true(json_object_get(tx, "batched")), e->batched[i]);
    assert_int_equal(json_object_get(doc, "batch_raw") != NULL, e->batched[i]);
    expect_valid(e->c, doc, &e->ids[i]);
    expect_valid(e->c, doc, NULL);
    /* and a NULL rej */
    assert_int_equal(hanse_client_proof_verify(e->c, doc, NULL, NULL), HANSE_OK);
    json_decref(doc);
  }
  /* the one-transaction block proves with an empty path */
  json_t *last = tx_doc(&e->f, &e->ids[e->n - 1]);
  assert_int_equal(json_array_size(json_object_get(proof_of(last), "path")), 0);
  assert_int_equal(get_int(proof_of(last), "tx_count"), 1);
  json_decref(last);
  /* a failing receipt is still proven included */
  json_t *failed = tx_doc(&e->f, &e->ids[3]);
  assert_string_not_equal(json_string_value(json_object_get(json_object_get(failed, "receipt"), "code")),
                          "ok");
  expect_valid(e->c, failed, &e->ids[3]);
  json_decref(failed);
}

static void test_proof_pending_and_missing(void **state) {
  proof_env *e = *state;
  hanse_reject rej;
  json_t *pending = json_pack("{s:s, s:s}", "id", "00", "status", "pending");
  assert_int_equal(hanse_client_proof_verify(e->c, pending, NULL, &rej), HANSE_ERR(NOT_FOUND));
  assert_string_equal(rej.code, "proof.pending");
  json_decref(pending);

  json_t *doc = tx_doc(&e->f, &e->ids[1]);
  static const char *parts[] = {"proof", "receipt", "raw", NULL};
  for (int i = 0; parts[i]; i++) {
    json_t *d = json_deep_copy(doc);
    json_object_del(d, parts[i]);
    EXPECT_INVALID(e->c, d, NULL, "has no raw transaction, receipt or proof");
    json_decref(d);
  }
  json_t *d = json_deep_copy(doc);
  json_object_set_new(d, "raw", json_string("zz"));
  EXPECT_INVALID(e->c, d, NULL, "\"raw\" is not hex");
  json_decref(d);
  d = json_deep_copy(doc);
  json_object_set_new(proof_of(d), "header", json_string("0"));
  EXPECT_INVALID(e->c, d, NULL, "no header in hex");
  json_decref(d);
  d = json_deep_copy(doc);
  json_object_del(proof_of(d), "block_hash");
  EXPECT_INVALID(e->c, d, NULL, "block_hash");
  json_decref(d);
  json_decref(doc);
}

static void test_proof_tampered_path(void **state) {
  proof_env *e = *state;
  for (int t = 0; t < e->n; t++) {
    json_t *doc = tx_doc(&e->f, &e->ids[t]);
    json_t *path = json_object_get(proof_of(doc), "path");
    size_t n = json_array_size(path);
    for (size_t k = 0; k < n; k++) {
      for (size_t byte = 0; byte < HANSE_HASH_BYTES; byte += 31) {
        json_t *d = json_deep_copy(doc);
        json_t *el = json_array_get(json_object_get(proof_of(d), "path"), k);
        hanse_hash h;
        assert_int_equal(hanse_hash_parse(&h, json_string_value(el)), HANSE_OK);
        h.b[byte] ^= 0x01;
        json_array_set_new(json_object_get(proof_of(d), "path"), k, hexj(h.b, HANSE_HASH_BYTES));
        EXPECT_INVALID(e->c, d, &e->ids[t], "Merkle path does not lead");
        json_decref(d);
      }
      /* not a hash */
      json_t *d = json_deep_copy(doc);
      json_array_set_new(json_object_get(proof_of(d), "path"), k, json_string("abc"));
      EXPECT_INVALID(e->c, d, NULL, "is not a 64-hex hash");
      json_decref(d);
    }
    /* an element more, an element fewer */
    json_t *d = json_deep_copy(doc);
    json_array_append_new(json_object_get(proof_of(d), "path"),
                          json_string("0000000000000000000000000000000000000000000000000000000000000000"));
    EXPECT_INVALID(e->c, d, NULL, "Merkle path does not lead");
    json_decref(d);
    if (n > 0) {
      d = json_deep_copy(doc);
      json_array_remove(json_object_get(proof_of(d), "path"), n - 1);
      EXPECT_INVALID(e->c, d, NULL, "Merkle path does not lead");
      json_decref(d);
    }
    json_decref(doc);
  }
  /* not an array; longer than any tree can need */
  json_t *doc = tx_doc(&e->f, &e->ids[0]);
  json_t *d = json_deep_copy(doc);
  json_object_set_new(proof_of(d), "path", json_string("x"));
  EXPECT_INVALID(e->c, d, NULL, "not an array");
  json_decref(d);
  d = json_deep_copy(doc);
  json_t *arr = json_object_get(proof_of(d), "path");
  while (json_array_size(arr) <= HANSE_MERKLE_PATH_MAX)
    json_array_append_new(arr, json_string("0000000000000000000000000000000000000000000000000000000000000000"));
  EXPECT_INVALID(e->c, d, NULL, "at most");
  json_decref(d);
  json_decref(doc);
}

static void test_proof_tampered_index(void **state) {
  proof_env *e = *state;
  for (int t = 0; t < e->n; t++) {
    json_t *doc = tx_doc(&e->f, &e->ids[t]);
    json_int_t idx = get_int(proof_of(doc), "index");
    json_int_t count = get_int(proof_of(doc), "tx_count");
    for (json_int_t other = 0; other < count; other++) {
      if (other == idx) continue;
      /* the proof's index alone: disagrees with the receipt */
      json_t *d = json_deep_copy(doc);
      set_int(proof_of(d), "index", other);
      EXPECT_INVALID(e->c, d, NULL, "receipt's index is not the proof's");
      json_decref(d);
      /* both moved together: the path no longer fits */
      d = json_deep_copy(doc);
      set_int(proof_of(d), "index", other);
      set_int(json_object_get(d, "receipt"), "index", other);
      EXPECT_INVALID(e->c, d, NULL, "Merkle path does not lead");
      json_decref(d);
    }
    json_int_t outside[] = {count, count + 1, -1, 1ll << 40};
    for (size_t k = 0; k < sizeof outside / sizeof outside[0]; k++) {
      json_t *d = json_deep_copy(doc);
      set_int(proof_of(d), "index", outside[k]);
      set_int(json_object_get(d, "receipt"), "index", outside[k]);
      EXPECT_INVALID(e->c, d, NULL, "index is outside the block");
      json_decref(d);
    }
    json_t *d = json_deep_copy(doc);
    json_object_set_new(proof_of(d), "index", json_string("0"));
    EXPECT_INVALID(e->c, d, NULL, "index is outside the block");
    json_decref(d);
    json_decref(doc);
  }
}

static void test_proof_tampered_raw(void **state) {
  proof_env *e = *state;
  for (int t = 0; t < e->n; t++) {
    json_t *doc = tx_doc(&e->f, &e->ids[t]);
    size_t n = hex_len(doc, "raw");
    for (size_t i = 0; i < n; i++) {
      /* a changed byte no longer hashes to the id */
      json_t *d = json_deep_copy(doc);
      flip_hex(d, "raw", i, 0x04);
      EXPECT_INVALID(e->c, d, NULL, "does not hash to the answer's id");
      /* and with the answer's id made to match, the id asked for still
       * differs; without an expected id, decoding or the signature fails
       * (a batched transaction has no signature of its own: its bytes
       * must at least decode and be this chain's) */
      const char *raw = json_string_value(json_object_get(d, "raw"));
      uint8_t *b;
      size_t bn;
      assert_int_equal(hanse_hex_decode_alloc(raw, strlen(raw), &b, &bn), HANSE_OK);
      hanse_hash nid;
      hanse_sha256(&nid, b, bn);
      free(b);
      char hex[HANSE_HASH_HEX_BYTES];
      json_object_set_new(d, "id", json_string(hanse_hash_hex(hex, &nid)));
      EXPECT_INVALID(e->c, d, &e->ids[t], "does not hash to the id asked for");
      hanse_reject rej;
      int rc = hanse_client_proof_verify(e->c, d, NULL, &rej);
      if (rc == HANSE_OK) fail_msg("tx %d: raw byte %zu changed and id fixed was accepted", t, i);
      assert_int_equal(rc, HANSE_ERR(INVALID));
      json_decref(d);
    }
    /* the id field alone */
    json_t *d = json_deep_copy(doc);
    json_object_set_new(d, "id", json_string("0000000000000000000000000000000000000000000000000000000000000000"));
    EXPECT_INVALID(e->c, d, NULL, "does not hash to the answer's id");
    json_decref(d);
    /* the node's claim of batched-ness is checked against the bytes */
    d = json_deep_copy(doc);
    json_object_set_new(json_object_get(d, "tx"), "batched", json_boolean(!e->batched[t]));
    EXPECT_INVALID(e->c, d, NULL, "does not decode");
    json_decref(d);
    /* asked for another transaction */
    EXPECT_INVALID(e->c, doc, &e->ids[(t + 1) % e->n], "does not hash to the id asked for");
    json_decref(doc);
  }
}

/* One transaction's raw bytes and id presented with another's proof. */
static void test_proof_swapped_transaction(void **state) {
  proof_env *e = *state;
  for (int a = 0; a < e->n; a++) {
    for (int b = 0; b < e->n; b++) {
      if (a == b || e->batched[a] != e->batched[b]) continue;
      json_t *da = tx_doc(&e->f, &e->ids[a]);
      json_t *db = tx_doc(&e->f, &e->ids[b]);
      json_object_set(da, "proof", proof_of(db));
      json_object_set(da, "receipt", json_object_get(db, "receipt"));
      hanse_reject rej;
      int rc = hanse_client_proof_verify(e->c, da, &e->ids[a], &rej);
      assert_int_equal(rc, HANSE_ERR(INVALID));
      assert_string_equal(rej.code, "proof.invalid");
      json_decref(da);
      json_decref(db);
    }
  }
}

static void test_proof_tampered_header(void **state) {
  proof_env *e = *state;
  int idx[] = {1, 5, e->n - 1}; /* block 1, a batched one of block 2, block 3 */
  for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
    int t = idx[k];
    json_t *doc = tx_doc(&e->f, &e->ids[t]);
    size_t n = hex_len(proof_of(doc), "header");
    int sig_caught = 0, hash_caught = 0;
    for (size_t i = 0; i < n; i++) {
      json_t *d = json_deep_copy(doc);
      flip_hex(proof_of(d), "header", i, 0x01);
      hanse_reject rej;
      int rc = hanse_client_proof_verify(e->c, d, &e->ids[t], &rej);
      if (rc == HANSE_OK) fail_msg("header byte %zu changed was accepted", i);
      assert_string_equal(rej.code, "proof.invalid");
      if (strstr(rej.message, "does not hash to block_hash")) hash_caught++;
      if (strstr(rej.message, "signature on the header")) sig_caught++;
      /* with block_hash recomputed from the changed header, whatever
       * decodes is caught by the proposer's signature or a field check */
      const char *hex = json_string_value(json_object_get(proof_of(d), "header"));
      uint8_t *hb;
      size_t hn;
      assert_int_equal(hanse_hex_decode_alloc(hex, strlen(hex), &hb, &hn), HANSE_OK);
      hanse_header h;
      if (hanse_header_decode(&h, hb, hn, NULL) == HANSE_OK) {
        hanse_hash bh;
        hanse_header_hash(&h, &bh);
        json_object_set_new(proof_of(d), "block_hash", hexj(bh.b, HANSE_HASH_BYTES));
        rc = hanse_client_proof_verify(e->c, d, &e->ids[t], &rej);
        if (rc == HANSE_OK) fail_msg("header byte %zu changed, hash fixed, was accepted", i);
        assert_string_equal(rej.code, "proof.invalid");
        assert_null(strstr(rej.message, "does not hash to block_hash"));
      }
      free(hb);
      json_decref(d);
    }
    /* the signed part is covered by the hash, the signature by itself */
    assert_true(hash_caught > 0);
    assert_int_equal(sig_caught, HANSE_SIG_BYTES);

    /* block_hash, tx_root, tx_count, the receipt's height */
    json_t *d = json_deep_copy(doc);
    flip_hex(proof_of(d), "block_hash", 0, 0x80);
    EXPECT_INVALID(e->c, d, NULL, "does not hash to block_hash");
    json_decref(d);
    for (size_t byte = 0; byte < HANSE_HASH_BYTES; byte += 8) {
      d = json_deep_copy(doc);
      flip_hex(proof_of(d), "tx_root", byte, 0x10);
      EXPECT_INVALID(e->c, d, NULL, "tx_root is not the header's");
      json_decref(d);
    }
    json_int_t count = get_int(proof_of(doc), "tx_count");
    json_int_t counts[] = {count + 1, count - 1, 0, -1};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
      d = json_deep_copy(doc);
      set_int(proof_of(d), "tx_count", counts[i]);
      EXPECT_INVALID(e->c, d, NULL, "tx_count is not the header's");
      json_decref(d);
    }
    d = json_deep_copy(doc);
    json_t *r = json_object_get(d, "receipt");
    set_int(r, "height", get_int(r, "height") + 1);
    EXPECT_INVALID(e->c, d, NULL, "receipt's height");
    json_decref(d);
    json_decref(doc);
  }
}

static void test_proof_other_chain(void **state) {
  proof_env *e = *state;
  hanse_client *other = client_for("http://127.0.0.1:1", "other");
  json_t *doc = tx_doc(&e->f, &e->ids[0]);
  EXPECT_INVALID(other, doc, NULL, "is for chain 'test', not 'other'");
  json_t *bdoc = tx_doc(&e->f, &e->ids[4]); /* batched */
  EXPECT_INVALID(other, bdoc, NULL, "is for chain 'test', not 'other'");
  json_decref(doc);
  json_decref(bdoc);
  hanse_client_destroy(other);
}

/* ---- results ------------------------------------------------------------ */

static void test_result_check(void **state) {
  (void)state;
  hanse_reject rej;
  json_t *ok = json_loads("{\"results\":[{\"id\":\"aa\",\"status\":\"committed\",\"code\":\"ok\"},"
                          "{\"id\":\"bb\",\"status\":\"committed\",\"code\":\"ok\"}]}", 0, NULL);
  assert_int_equal(hanse_client_result_check(ok, 0, &rej), HANSE_OK);
  json_decref(ok);

  json_t *pend = json_loads("{\"results\":[{\"id\":\"aa\",\"status\":\"committed\",\"code\":\"ok\"},"
                            "{\"id\":\"0123456789abcdef0123\",\"status\":\"pending\"}]}", 0, NULL);
  assert_int_equal(hanse_client_result_check(pend, 1, &rej), HANSE_OK);
  assert_int_equal(hanse_client_result_check(pend, 0, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.pending");
  assert_non_null(strstr(rej.message, "0123456789abcdef"));
  assert_null(strstr(rej.message, "0123456789abcdef0123"));
  json_decref(pend);

  json_t *failed = json_loads(
      "{\"results\":[{\"id\":\"aa\",\"status\":\"committed\",\"code\":\"asset.insufficient_balance\","
      "\"message\":\"has 5\"}]}", 0, NULL);
  assert_int_equal(hanse_client_result_check(failed, 1, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "asset.insufficient_balance");
  assert_int_equal(rej.status, 409);
  assert_non_null(strstr(rej.message, "has 5"));
  json_decref(failed);

  json_t *rejected = json_loads(
      "{\"results\":[{\"id\":null,\"status\":\"rejected\",\"code\":\"decode.truncated\"}]}", 0, NULL);
  assert_int_equal(hanse_client_result_check(rejected, 1, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "decode.truncated");
  assert_int_equal(rej.status, 400);
  json_decref(rejected);

  static const char *odd[] = {
      "{\"results\":[{\"id\":\"aa\",\"status\":\"committed\"}]}",
      "{\"results\":[{\"id\":\"aa\",\"status\":\"weird\",\"code\":\"ok\"}]}",
      "{\"results\":[{\"id\":\"aa\"}]}", NULL};
  for (int i = 0; odd[i]; i++) {
    json_t *j = json_loads(odd[i], 0, NULL);
    assert_non_null(j);
    assert_int_equal(hanse_client_result_check(j, 1, &rej), HANSE_ERR(INVALID));
    assert_string_equal(rej.code, "client.bad_response");
    json_decref(j);
  }
  json_t *none = json_object();
  assert_int_equal(hanse_client_result_check(none, 1, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_response");
  assert_int_equal(hanse_client_result_check(NULL, 1, &rej), HANSE_ERR(INVALID));
  json_decref(none);
  json_t *empty = json_loads("{\"results\":[]}", 0, NULL);
  assert_int_equal(hanse_client_result_check(empty, 0, &rej), HANSE_OK);
  json_decref(empty);
}

/* ---- transport against a canned server ---------------------------------- */

/* What the server answers next, and what it saw last. */
typedef struct canned {
  int status;
  const char *ctype; /* NULL: no Content-Type */
  const char *body;
  int delay_ms;
} canned;

static struct {
  pthread_mutex_t mu;
  canned next;
  char method[16];
  char url[512];
  char ctype[128];
  char accept[128];
  char expect[32];
  json_t *args;
  hanse_buf body;
  int requests;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static enum MHD_Result arg_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
  (void)kind;
  json_object_set_new(cls, key, json_string(value ? value : ""));
  return MHD_YES;
}

static enum MHD_Result srv_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version,
                                   const char *upload, size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)version;
  static int marker;
  pthread_mutex_lock(&srv.mu);
  if (*con_cls == NULL) {
    *con_cls = &marker;
    hanse_buf_reset(&srv.body);
    pthread_mutex_unlock(&srv.mu);
    return MHD_YES;
  }
  if (*upload_size > 0) {
    hanse_buf_put(&srv.body, upload, *upload_size);
    *upload_size = 0;
    pthread_mutex_unlock(&srv.mu);
    return MHD_YES;
  }
  srv.requests++;
  snprintf(srv.method, sizeof srv.method, "%s", method);
  snprintf(srv.url, sizeof srv.url, "%s", url);
  const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
  snprintf(srv.ctype, sizeof srv.ctype, "%s", v ? v : "");
  v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
  snprintf(srv.accept, sizeof srv.accept, "%s", v ? v : "");
  v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
  snprintf(srv.expect, sizeof srv.expect, "%s", v ? v : "(none)");
  json_decref(srv.args);
  srv.args = json_object();
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, arg_iter, srv.args);
  canned c = srv.next;
  pthread_mutex_unlock(&srv.mu);
  if (c.delay_ms > 0) usleep((useconds_t)c.delay_ms * 1000u);
  const char *body = c.body ? c.body : "";
  struct MHD_Response *r =
      MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
  if (c.ctype) MHD_add_response_header(r, "Content-Type", c.ctype);
  enum MHD_Result res = MHD_queue_response(conn, (unsigned)c.status, r);
  MHD_destroy_response(r);
  return res;
}

typedef struct srv_env {
  struct MHD_Daemon *d;
  int port;
  char url[64];
  hanse_client *c;
} srv_env;

static void answer(int status, const char *ctype, const char *body) {
  pthread_mutex_lock(&srv.mu);
  srv.next = (canned){status, ctype, body, 0};
  pthread_mutex_unlock(&srv.mu);
}

static int setup_srv(void **state) {
  srv_env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  hanse_buf_init(&srv.body);
  srv.args = NULL;
  srv.requests = 0;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  e->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                          NULL, NULL, srv_handler, NULL, MHD_OPTION_SOCK_ADDR,
                          (struct sockaddr *)&sa, MHD_OPTION_END);
  if (e->d == NULL) {
    free(e);
    return -1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(e->d, MHD_DAEMON_INFO_BIND_PORT);
  e->port = info->port;
  /* a trailing slash: paths must not come out with "//" */
  snprintf(e->url, sizeof e->url, "http://127.0.0.1:%d/", e->port);
  e->c = client_for(e->url, "test");
  hanse_client_set_timeout_ms(e->c, 5000);
  answer(200, "application/json", "{}");
  *state = e;
  return 0;
}

static int teardown_srv(void **state) {
  srv_env *e = *state;
  hanse_client_destroy(e->c);
  MHD_stop_daemon(e->d);
  hanse_buf_free(&srv.body);
  json_decref(srv.args);
  srv.args = NULL;
  free(e);
  return 0;
}

/* GET status with the canned answer; returns rc and fills rej. */
static int status_with(srv_env *e, int status, const char *ctype, const char *body,
                       hanse_reject *rej) {
  answer(status, ctype, body);
  json_t *out = (json_t *)1;
  memset(rej, 0, sizeof *rej);
  int rc = hanse_client_status(e->c, &out, rej);
  if (rc != HANSE_OK) assert_null(out);
  else json_decref(out);
  return rc;
}

static void test_error_mapping(void **state) {
  srv_env *e = *state;
  hanse_reject rej;
  static const struct {
    int status;
    const char *code;
    int rc;
  } cases[] = {
      /* a core code maps to its own enum, whatever the status */
      {409, "tx.bad_sequence", HANSE_ERR(TX_BAD_SEQUENCE)},
      {409, "tx.stale_sequence", HANSE_ERR(TX_STALE_SEQUENCE)},
      {404, "chain.unknown", HANSE_ERR(CHAIN_UNKNOWN)},
      {404, "tx.not_found", HANSE_ERR(TX_NOT_FOUND)},
      {503, "store.failed", HANSE_ERR(STORE_FAILED)},
      {503, "mempool.full", HANSE_ERR(MEMPOOL_FULL)},
      {413, "http.body_too_large", HANSE_ERR(HTTP_TOO_LARGE)},
      {400, "decode.truncated", HANSE_ERR(DECODE_TRUNCATED)},
      {500, "internal.error", HANSE_ERR(INTERNAL)},
      /* a module's code by status class */
      {404, "notary.not_anchored", HANSE_ERR(NOT_FOUND)},
      {400, "asset.unknown", HANSE_ERR(INVALID)},
      {409, "asset.insufficient_balance", HANSE_ERR(INVALID)},
      {500, "asset.broken", HANSE_ERR(INTERNAL)},
      {503, "x.y", HANSE_ERR(INTERNAL)},
      /* "ok" is not an error code: never HANSE_OK from an error status */
      {400, "ok", HANSE_ERR(INVALID)},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char body[256];
    snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"because %zu\"}}",
             cases[i].code, i);
    int rc = status_with(e, cases[i].status, "application/json", body, &rej);
    if (rc != cases[i].rc)
      fail_msg("case %zu (%d %s): rc %d, want %d", i, cases[i].status, cases[i].code, rc,
               cases[i].rc);
    assert_int_equal(rej.rc, cases[i].rc);
    assert_int_equal(rej.status, cases[i].status);
    assert_string_equal(rej.code, cases[i].code);
    char want[32];
    snprintf(want, sizeof want, "because %zu", i);
    assert_string_equal(rej.message, want);
  }
  /* no message */
  assert_int_equal(status_with(e, 404, "application/json", "{\"error\":{\"code\":\"block.not_found\"}}",
                               &rej),
                   HANSE_ERR(NOT_FOUND));
  assert_string_equal(rej.code, "block.not_found");
  assert_string_equal(rej.message, "");

  /* an error status without the API's body: client.http with the status */
  static const struct {
    int status;
    const char *ctype, *body;
    int rc;
  } pages[] = {
      {502, "text/html", "<html>Bad Gateway</html>", HANSE_ERR(INTERNAL)},
      {500, "application/json", "{\"error\":\"flat\"}", HANSE_ERR(INTERNAL)},
      {418, NULL, "", HANSE_ERR(INVALID)},
      {404, "application/json", "{\"message\":\"no code\"}", HANSE_ERR(INVALID)},
      {403, "application/json", "[1,2]", HANSE_ERR(INVALID)},
  };
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    int rc = status_with(e, pages[i].status, pages[i].ctype, pages[i].body, &rej);
    assert_int_equal(rc, pages[i].rc);
    assert_string_equal(rej.code, "client.http");
    assert_int_equal(rej.status, pages[i].status);
    assert_non_null(strstr(rej.message, "HTTP"));
  }

  /* a success status without JSON, or an unexpected status */
  static const struct {
    int status;
    const char *body;
  } bad[] = {{200, "not json"}, {200, ""}, {201, "{\"a\":"}, {302, "{}"}, {204, ""}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = status_with(e, bad[i].status, "application/json", bad[i].body, &rej);
    assert_int_equal(rc, HANSE_ERR(IO));
    assert_string_equal(rej.code, "client.bad_response");
    assert_int_equal(rej.status, 0);
  }
  /* any JSON value of a 2xx is handed over */
  assert_int_equal(status_with(e, 200, "application/json", "{\"height\":3}", &rej), HANSE_OK);
  assert_int_equal(status_with(e, 202, "application/json", "[]", &rej), HANSE_OK);
}

static void test_request_shapes(void **state) {
  srv_env *e = *state;
  hanse_reject rej;
  json_t *out;
  hanse_hash h;
  memset(h.b, 0xab, sizeof h.b);
  char hex[HANSE_HASH_HEX_BYTES], want[256];
  hanse_hash_hex(hex, &h);

  answer(200, "application/json", "{\"ok\":true}");
  assert_int_equal(hanse_client_status(e->c, &out, &rej), HANSE_OK);
  assert_true(json_is_true(json_object_get(out, "ok")));
  json_decref(out);
  assert_string_equal(srv.method, "GET");
  assert_string_equal(srv.url, "/v1/chains/test/status");
  assert_string_equal(srv.accept, "application/json");

  assert_int_equal(hanse_client_tx_get(e->c, &h, &out, &rej), HANSE_OK);
  json_decref(out);
  snprintf(want, sizeof want, "/v1/chains/test/txs/%s", hex);
  assert_string_equal(srv.url, want);

  assert_int_equal(hanse_client_block_get(e->c, 18446744073709551615ull, &out, &rej), HANSE_OK);
  json_decref(out);
  assert_string_equal(srv.url, "/v1/chains/test/blocks/18446744073709551615");

  assert_int_equal(hanse_client_block_get_by_hash(e->c, &h, &out, &rej), HANSE_OK);
  json_decref(out);
  snprintf(want, sizeof want, "/v1/chains/test/blocks/hash/%s", hex);
  assert_string_equal(srv.url, want);

  /* query names and values are escaped: no argument changes the route */
  const char *params[] = {"asset", "E U&R=1", "owner", "a/b?c", NULL};
  assert_int_equal(hanse_client_query(e->c, "asset", "bal ance", params, &out, &rej), HANSE_OK);
  json_decref(out);
  assert_string_equal(srv.url, "/v1/chains/test/query/asset/bal ance");
  assert_int_equal(json_object_size(srv.args), 2);
  assert_string_equal(json_string_value(json_object_get(srv.args, "asset")), "E U&R=1");
  assert_string_equal(json_string_value(json_object_get(srv.args, "owner")), "a/b?c");
  assert_int_equal(hanse_client_query(e->c, "notary", "x/../y", NULL, &out, &rej), HANSE_OK);
  json_decref(out);
  assert_string_equal(srv.url, "/v1/chains/test/query/notary/x/../y"); /* decoded by the server */
  assert_int_equal(json_object_size(srv.args), 0);

  assert_int_equal(hanse_client_get(e->c, "/v1/health", &out, &rej), HANSE_OK);
  json_decref(out);
  assert_string_equal(srv.url, "/v1/health");
  out = (json_t *)1;
  assert_int_equal(hanse_client_get(e->c, "v1/health", &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_path");
  assert_int_equal(hanse_client_get(e->c, NULL, &out, &rej), HANSE_ERR(INVALID));

  /* next_seq: the account route, and a sane answer required */
  hanse_keypair kp;
  fx_key(&kp, 0xa1);
  uint64_t next = 0;
  answer(200, "application/json", "{\"next_seq\":17,\"seq\":16}");
  assert_int_equal(hanse_client_next_seq(e->c, &kp.pub, &next, &rej), HANSE_OK);
  assert_true(next == 17);
  snprintf(want, sizeof want, "/v1/chains/test/accounts/%s", pkhex(&kp.pub));
  assert_string_equal(srv.url, want);
  static const char *bad_accounts[] = {"{}", "{\"next_seq\":0}", "{\"next_seq\":-3}",
                                       "{\"next_seq\":\"5\"}", "[]", NULL};
  for (int i = 0; bad_accounts[i]; i++) {
    answer(200, "application/json", bad_accounts[i]);
    next = 99;
    assert_int_equal(hanse_client_next_seq(e->c, &kp.pub, &next, &rej), HANSE_ERR(IO));
    assert_string_equal(rej.code, "client.bad_response");
    assert_true(next == 99);
  }
  answer(404, "application/json", "{\"error\":{\"code\":\"chain.unknown\",\"message\":\"m\"}}");
  assert_int_equal(hanse_client_next_seq(e->c, &kp.pub, &next, &rej), HANSE_ERR(CHAIN_UNKNOWN));
  hanse_keypair_wipe(&kp);
}

static void test_submit_shapes(void **state) {
  srv_env *e = *state;
  hanse_reject rej;
  json_t *out;
  uint8_t tx_bytes[] = {1, 2, 3};
  uint8_t batch_bytes[] = {9, 8, 7, 6, 5};
  hanse_client_entry entries[] = {{HANSE_TYPE_BATCH, batch_bytes, sizeof batch_bytes},
                                  {HANSE_TYPE_TX, tx_bytes, sizeof tx_bytes}};
  const char *ok = "{\"accepted\":2,\"rejected\":0,\"results\":[]}";

  /* binary: u8 type | u32 len (BE) | bytes, in the caller's order */
  answer(202, "application/json", ok);
  assert_int_equal(hanse_client_submit(e->c, entries, 2, 0, 0, &out, &rej), HANSE_OK);
  json_decref(out);
  assert_string_equal(srv.method, "POST");
  assert_string_equal(srv.url, "/v1/chains/test/txs");
  assert_string_equal(srv.ctype, "application/octet-stream");
  assert_string_equal(srv.expect, "(none)"); /* no 100-continue round trip */
  assert_int_equal(json_object_size(srv.args), 0);
  const uint8_t want[] = {2, 0, 0, 0, 5, 9, 8, 7, 6, 5, 1, 0, 0, 0, 3, 1, 2, 3};
  assert_int_equal(srv.body.len, sizeof want);
  assert_memory_equal(srv.body.data, want, sizeof want);

  /* JSON: grouped by type, as hex; wait with the node's default */
  answer(200, "application/json", ok);
  assert_int_equal(hanse_client_submit(e->c, entries, 2, HANSE_SUBMIT_JSON | HANSE_SUBMIT_WAIT, 0,
                                       &out, &rej),
                   HANSE_OK);
  json_decref(out);
  assert_string_equal(srv.ctype, "application/json");
  assert_string_equal(json_string_value(json_object_get(srv.args, "wait")), "1");
  assert_null(json_object_get(srv.args, "timeout_ms"));
  json_t *body = json_loadb((const char *)srv.body.data, srv.body.len, 0, NULL);
  assert_non_null(body);
  json_t *want_body = json_loads("{\"txs\":[\"010203\"],\"batches\":[\"0908070605\"]}", 0, NULL);
  assert_true(json_equal(body, want_body));
  json_decref(body);
  json_decref(want_body);

  /* wait with a time limit */
  assert_int_equal(hanse_client_submit(e->c, entries, 1, HANSE_SUBMIT_WAIT, 1234, &out, &rej),
                   HANSE_OK);
  json_decref(out);
  assert_string_equal(json_string_value(json_object_get(srv.args, "wait")), "1");
  assert_string_equal(json_string_value(json_object_get(srv.args, "timeout_ms")), "1234");

  /* the caller's mistakes never reach the server */
  int before = srv.requests;
  out = (json_t *)1;
  assert_int_equal(hanse_client_submit(e->c, entries, 0, 0, 0, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.empty");
  assert_null(out);
  hanse_client_entry bad_type = {HANSE_TYPE_HEADER, tx_bytes, 3};
  assert_int_equal(hanse_client_submit(e->c, &bad_type, 1, 0, 0, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_entry");
  hanse_client_entry empty = {HANSE_TYPE_TX, tx_bytes, 0};
  assert_int_equal(hanse_client_submit(e->c, &empty, 1, 0, 0, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_entry");
  assert_int_equal(srv.requests, before);

  /* an answer without results */
  answer(200, "application/json", "{\"accepted\":1}");
  out = (json_t *)1;
  assert_int_equal(hanse_client_submit(e->c, entries, 1, 0, 0, &out, &rej), HANSE_ERR(IO));
  assert_string_equal(rej.code, "client.bad_response");
  assert_null(out);

  /* nothing accepted: the node's status and first rejection */
  answer(400, "application/json",
         "{\"accepted\":0,\"rejected\":1,\"error\":{\"code\":\"tx.bad_signature\",\"message\":\"sig\"},"
         "\"results\":[{\"id\":null,\"status\":\"rejected\",\"code\":\"tx.bad_signature\"}]}");
  assert_int_equal(hanse_client_submit(e->c, entries, 1, 0, 0, &out, &rej),
                   HANSE_ERR(TX_BAD_SIGNATURE));
  assert_null(out);
  assert_int_equal(rej.status, 400);
  assert_string_equal(rej.message, "sig");
}

static void test_unreachable_and_timeout(void **state) {
  srv_env *e = *state;
  hanse_reject rej;
  json_t *out = (json_t *)1;

  /* a port nobody listens on: bind one, learn it, close it */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s >= 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
  socklen_t sl = sizeof sa;
  assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
  close(s);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
  hanse_client *c = client_for(url, "test");
  assert_int_equal(hanse_client_status(c, &out, &rej), HANSE_ERR(IO));
  assert_null(out);
  assert_string_equal(rej.code, "client.unreachable");
  assert_int_equal(rej.status, 0);
  assert_non_null(strstr(rej.message, url));
  hanse_client_destroy(c);

  /* an answer slower than the client's limit */
  pthread_mutex_lock(&srv.mu);
  srv.next = (canned){200, "application/json", "{}", 700};
  pthread_mutex_unlock(&srv.mu);
  hanse_client_set_timeout_ms(e->c, 150);
  out = (json_t *)1;
  assert_int_equal(hanse_client_status(e->c, &out, &rej), HANSE_ERR(IO));
  assert_null(out);
  assert_string_equal(rej.code, "client.timeout");
  /* the handle is reusable after a failure */
  usleep(700 * 1000);
  hanse_client_set_timeout_ms(e->c, 5000);
  answer(200, "application/json", "{\"after\":1}");
  assert_int_equal(hanse_client_status(e->c, &out, &rej), HANSE_OK);
  assert_non_null(json_object_get(out, "after"));
  json_decref(out);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  hanse_modules_register_all();
  const struct CMUnitTest build[] = {
      cmocka_unit_test(test_create_validates),
      cmocka_unit_test(test_tx_build_decodes_and_verifies),
      cmocka_unit_test(test_tx_build_failures_leave_buffer),
      cmocka_unit_test(test_batch_build),
      cmocka_unit_test(test_batch_build_failures),
      cmocka_unit_test(test_result_check),
  };
  const struct CMUnitTest proofs[] = {
      cmocka_unit_test(test_proof_valid),
      cmocka_unit_test(test_proof_pending_and_missing),
      cmocka_unit_test(test_proof_tampered_path),
      cmocka_unit_test(test_proof_tampered_index),
      cmocka_unit_test(test_proof_tampered_raw),
      cmocka_unit_test(test_proof_swapped_transaction),
      cmocka_unit_test(test_proof_tampered_header),
      cmocka_unit_test(test_proof_other_chain),
  };
  const struct CMUnitTest transport[] = {
      cmocka_unit_test(test_error_mapping),
      cmocka_unit_test(test_request_shapes),
      cmocka_unit_test(test_submit_shapes),
      cmocka_unit_test(test_unreachable_and_timeout),
  };
  int failed = cmocka_run_group_tests_name("build", build, NULL, NULL);
  failed += cmocka_run_group_tests_name("proofs", proofs, setup_proofs, teardown_proofs);
  failed += cmocka_run_group_tests_name("transport", transport, setup_srv, teardown_srv);
  return failed;
}
