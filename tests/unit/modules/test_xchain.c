/*
 * test_xchain.c -- the xchain module: a message sent on one chain and
 * received, with its inclusion proof, on another.
 *
 * Two chains in one test: the fixture's chain "test" is the source (its
 * node key signs its blocks) and "dest" the destination, whose genesis
 * declares "test" a peer with that key. Receives go into "dest" blocks
 * (so check, verify and apply all run, as for a block from elsewhere) and
 * their receipts say what happened.
 *
 * send: the payload checks, the outbox record and index. receive: a good
 * one and its inbox record; every way to spoil the proof (transaction,
 * header, index, count, path, batch, the header re-signed by a stranger,
 * a chain that is no peer); the wrong destination; not a send; a class
 * changed on the way; a duplicate, also within one block. Batched sends.
 * The genesis "peers" rules. The relay client's payload, built from the
 * source node's answer (api_tx_json), is the one the module accepts, and
 * the client refuses a send its chain rejected -- which the destination,
 * seeing no receipts, would accept. Every chain ends audited by
 * hanse_chain_audit, which re-executes it from genesis.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/err.h"
#include "base/hex.h"
#include "crypto/merkle.h"
#include "fixture.h"
#include "hanse/client.h"

#define DEST "dest"

typedef struct env {
  fx_chain src;        /* "test": the source */
  char dir[256];       /* the destination's directory */
  hanse_keypair dnode; /* the destination's validator */
  hanse_chain *dst;
  uint64_t dst_time;
  uint64_t alice_seq;  /* alice's next on the source */
  uint64_t bob_seq;    /* bob's next on the destination: he relays */
} env;

static json_t *hexj(const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  assert_non_null(s);
  hanse_hex_encode(s, p, n);
  json_t *j = json_string(s);
  free(s);
  return j;
}

/* A chain in a fresh directory under `dir` with this genesis. */
static hanse_chain *chain_create(char dir[256], json_t *g, const hanse_keypair *node) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, 256, "%s/hanse-xchain-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) fail_msg("mkdtemp failed");
  hanse_reject rej;
  if (hanse_chain_create(dir, g, node, FX_T0_MS, &rej) != HANSE_OK)
    fail_msg("create: %s: %s", rej.code, rej.message);
  hanse_chain *c = NULL;
  if (hanse_chain_open(dir, node, NULL, &c, &rej) != HANSE_OK)
    fail_msg("open: %s: %s", rej.code, rej.message);
  return c;
}

/* The destination's genesis: alice founds it; `peers` (stolen, may be
 * NULL) declares the peer chains. */
static json_t *dest_genesis(env *e, const char *chain_id, json_t *peers) {
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:[s]}], s:[s]}", "chain_id", chain_id,
                        "organisations", "id", "acme", "name", "ACME", "keys",
                        fx_hexkey(&e->src.alice.pub), "validators", fx_hexkey(&e->dnode.pub));
  assert_non_null(g);
  if (peers) json_object_set_new(g, "peers", peers);
  return g;
}

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  fx_chain_setup(&e->src, NULL);
  fx_key(&e->dnode, 0x02);
  json_t *g = dest_genesis(e, DEST, json_pack("{s:[s]}", FX_CHAIN_ID, fx_hexkey(&e->src.node.pub)));
  e->dst = chain_create(e->dir, g, &e->dnode);
  json_decref(g);
  e->dst_time = FX_T0_MS + 1000;
  e->alice_seq = e->bob_seq = 1;
  *state = e;
  return 0;
}

static void audit(const char *dir) {
  uint64_t blocks, txs;
  int64_t bad_h, bad_tx;
  hanse_reject rej;
  if (hanse_chain_audit(dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej) != HANSE_OK)
    fail_msg("audit of %s: %s: %s", dir, rej.code, rej.message);
}

static int teardown(void **state) {
  env *e = *state;
  hanse_chain_close(e->dst);
  audit(e->dir);
  audit(e->src.dir);
  fx_rmrf(e->dir);
  hanse_keypair_wipe(&e->dnode);
  fx_chain_teardown(&e->src);
  free(e);
  return 0;
}

/* ---- the source side ---------------------------------------------------- */

/* Alice sends on the source, alone in a block; the receipt must be "ok". */
static hanse_hash send_as(env *e, const char *kind, const char *payload) {
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &e->src.alice, kind, e->alice_seq++, "%s", payload);
  hanse_receipt rs[1];
  hanse_reject rej;
  assert_int_equal(fx_propose(&e->src, &b, rs, 1, &rej), HANSE_OK);
  fx_body_free(&b);
  if (strcmp(rs[0].code, "ok") != 0) fail_msg("send: %s: %s", rs[0].code, rs[0].message);
  return rs[0].id;
}

static hanse_hash send_to(env *e, const char *to) {
  char p[256];
  snprintf(p, sizeof p,
           "{\"to_chain\":\"%s\",\"kind\":\"order.notice\",\"body\":{\"lot\":\"L-7\",\"n\":3}}",
           to);
  return send_as(e, "xchain.send", p);
}

/* The receive payload for source transaction `id`, as the relay client
 * builds it from GET /txs/{id}. */
static json_t *receive_payload(env *e, const hanse_hash *id) {
  hanse_store *rd = hanse_chain_reader_acquire(e->src.chain);
  hanse_tx_proof p;
  hanse_reject rej;
  if (hanse_chain_tx_proof(rd, id, &p, &rej) != HANSE_OK)
    fail_msg("proof: %s: %s", rej.code, rej.message);
  hanse_chain_reader_release(e->src.chain, rd);
  hanse_buf hb;
  hanse_buf_init(&hb);
  assert_int_equal(hanse_header_encode(&hb, &p.header), HANSE_OK);
  json_t *path = json_array();
  for (size_t i = 0; i < p.path_len; i++)
    json_array_append_new(path, hexj(p.path[i].b, HANSE_HASH_BYTES));
  json_t *j = json_pack("{s:s, s:o, s:o, s:I, s:I, s:o}", "from_chain", FX_CHAIN_ID, "tx",
                        hexj(p.raw, p.raw_len), "header", hexj(hb.data, hb.len), "index",
                        (json_int_t)p.receipt.index, "tx_count", (json_int_t)p.header.tx_count,
                        "path", path);
  assert_non_null(j);
  if (p.batched) json_object_set_new(j, "batch", hexj(p.batch_raw, p.batch_raw_len));
  hanse_buf_free(&hb);
  hanse_tx_proof_free(&p);
  return j;
}

/* ---- the destination side ----------------------------------------------- */

/* Append bob's receive of `payload` (not stolen) to a destination body. */
static void body_receive(env *e, fx_body *b, json_t *payload) {
  char *text = json_dumps(payload, JSON_SORT_KEYS | JSON_COMPACT);
  assert_non_null(text);
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &e->src.bob, DEST, "xchain.receive", e->bob_seq++, 0, "%s", text);
  free(text);
  hanse_body_entry_append(&b->entries, HANSE_ENTRY_TX, raw.data, raw.len);
  b->count++;
  hanse_buf_free(&raw);
}

/* Propose a destination body; receipts into rs[n]. */
static void dest_propose(env *e, fx_body *b, hanse_receipt *rs, uint32_t n) {
  const hanse_buf *body = fx_body_finish(b);
  hanse_reject rej;
  int rc = hanse_chain_propose(e->dst, body->data, body->len, e->dst_time, rs, n, NULL, &rej);
  if (rc != HANSE_OK) fail_msg("dest propose: %s: %s", rej.code, rej.message);
  e->dst_time += 1000;
}

/* Relay one payload in a block of its own: the receipt's code. */
static const char *receive(env *e, json_t *payload) {
  static hanse_receipt r;
  fx_body b;
  fx_body_init(&b);
  body_receive(e, &b, payload);
  dest_propose(e, &b, &r, 1);
  fx_body_free(&b);
  return r.code;
}

/* The same payload through the submission-time check alone. */
static const char *check(env *e, json_t *payload) {
  static hanse_reject rej;
  char *text = json_dumps(payload, JSON_SORT_KEYS | JSON_COMPACT);
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &e->src.bob, DEST, "xchain.receive", 1, 0, "%s", text);
  free(text);
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_reject_clear(&rej);
  int rc = hanse_tx_check(&tx, DEST, NULL, &rej);
  hanse_buf_free(&raw);
  return rc == HANSE_OK ? "ok" : rej.code;
}

/* Run a module query on a chain. */
static int query(hanse_chain *c, const char *name, json_t *params, json_t **res,
                 hanse_reject *rej) {
  const hanse_module *m = hanse_registry_find("xchain", 6);
  assert_non_null(m);
  hanse_store *r = hanse_chain_reader_acquire(c);
  hanse_view v = {r, c->chain_id};
  *res = NULL;
  int rc = m->query(&v, name, params, res, rej);
  hanse_chain_reader_release(c, r);
  json_decref(params);
  return rc;
}

static int dest_has(env *e, const char *key) {
  hanse_store *r = hanse_chain_reader_acquire(e->dst);
  hanse_view v = {r, DEST};
  hanse_buf val;
  hanse_buf_init(&val);
  int found = 0;
  assert_int_equal(hanse_view_get(&v, key, &val, &found), HANSE_OK);
  hanse_chain_reader_release(e->dst, r);
  hanse_buf_free(&val);
  return found;
}

static json_t *copy_with(json_t *p, const char *key, json_t *val) {
  json_t *c = json_deep_copy(p);
  json_object_set_new(c, key, val);
  return c;
}

/* Decode the hex string obj[key], XOR byte i with x, write it back. */
static void flip_hex(json_t *obj, const char *key, size_t i, uint8_t x) {
  const char *s = json_string_value(json_object_get(obj, key));
  uint8_t *b;
  size_t n;
  assert_int_equal(hanse_hex_decode_alloc(s, strlen(s), &b, &n), HANSE_OK);
  assert_true(i < n);
  b[i] ^= x;
  json_object_set_new(obj, key, hexj(b, n));
  free(b);
}

static size_t hex_bytes(json_t *obj, const char *key) {
  return strlen(json_string_value(json_object_get(obj, key))) / 2;
}

/* ---- tests -------------------------------------------------------------- */

static const char *send_check(env *e, const char *payload) {
  static hanse_reject rej;
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &e->src.alice, FX_CHAIN_ID, "xchain.send", 1, 0, "%s", payload);
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_reject_clear(&rej);
  int rc = hanse_tx_check(&tx, FX_CHAIN_ID, NULL, &rej);
  hanse_buf_free(&raw);
  return rc == HANSE_OK ? "ok" : rej.code;
}

static void test_send_check(void **state) {
  env *e = *state;
  assert_string_equal(send_check(e, "{\"to_chain\":\"dest\",\"kind\":\"k\",\"body\":{}}"), "ok");
  assert_string_equal(
      send_check(e, "{\"to_chain\":\"dest\",\"kind\":\"a.b-c_1\",\"body\":{\"x\":[1]},"
                    "\"class\":\"transport\"}"),
      "ok");
  assert_string_equal(send_check(e, "{\"kind\":\"k\",\"body\":{}}"), "xchain.bad_destination");
  assert_string_equal(send_check(e, "{\"to_chain\":\"Dest\",\"kind\":\"k\",\"body\":{}}"),
                      "xchain.bad_destination");
  assert_string_equal(send_check(e, "{\"to_chain\":\"test\",\"kind\":\"k\",\"body\":{}}"),
                      "xchain.bad_destination");
  assert_string_equal(send_check(e, "{\"to_chain\":\"dest\",\"body\":{}}"), "xchain.bad_kind");
  assert_string_equal(send_check(e, "{\"to_chain\":\"dest\",\"kind\":\"A\",\"body\":{}}"),
                      "xchain.bad_kind");
  char p[20000], big[17000];
  memset(big, 'k', 49);
  big[49] = 0;
  snprintf(p, sizeof p, "{\"to_chain\":\"dest\",\"kind\":\"%s\",\"body\":{}}", big);
  assert_string_equal(send_check(e, p), "xchain.bad_kind");
  assert_string_equal(send_check(e, "{\"to_chain\":\"dest\",\"kind\":\"k\"}"), "xchain.bad_body");
  assert_string_equal(send_check(e, "{\"to_chain\":\"dest\",\"kind\":\"k\",\"body\":[]}"),
                      "xchain.bad_body");
  assert_string_equal(
      send_check(e, "{\"to_chain\":\"dest\",\"kind\":\"k\",\"body\":{},\"class\":\"secret\"}"),
      "xchain.bad_class");
  memset(big, 'x', 16500);
  big[16500] = 0;
  snprintf(p, sizeof p, "{\"to_chain\":\"dest\",\"kind\":\"k\",\"body\":{\"t\":\"%s\"}}", big);
  assert_string_equal(send_check(e, p), "xchain.too_large");
  big[16000] = 0;
  snprintf(p, sizeof p, "{\"to_chain\":\"dest\",\"kind\":\"k\",\"body\":{\"t\":\"%s\"}}", big);
  assert_string_equal(send_check(e, p), "ok");
}

static void test_send_outbox(void **state) {
  env *e = *state;
  hanse_hash id = send_to(e, DEST);
  hanse_hash id2 = send_to(e, "elsewhere");
  char idhex[HANSE_HASH_HEX_BYTES], key[200];
  hanse_hash_hex(idhex, &id);
  snprintf(key, sizeof key, "xchain/to/dest/%s", idhex);
  char v[1024];
  assert_int_equal(fx_state(&e->src, key, v, sizeof v), 1);
  snprintf(key, sizeof key, "xchain/out/%s", idhex);
  assert_int_equal(fx_state(&e->src, key, v, sizeof v), 1);
  /* canonical, and the body's digest is of its canonical text */
  hanse_hash bh;
  const char *body = "{\"lot\":\"L-7\",\"n\":3}";
  hanse_sha256(&bh, body, strlen(body));
  char bhex[HANSE_HASH_HEX_BYTES], want[1024];
  snprintf(want, sizeof want,
           "{\"body_sha256\":\"%s\",\"height\":1,\"kind\":\"order.notice\",\"signer\":\"%s\","
           "\"to_chain\":\"dest\",\"tx\":\"%s\"}",
           hanse_hash_hex(bhex, &bh), fx_hexkey(&e->src.alice.pub), idhex);
  assert_string_equal(v, want);

  json_t *res;
  hanse_reject rej;
  assert_int_equal(query(e->src.chain, "outbox", json_pack("{s:s}", "to_chain", DEST), &res, &rej),
                   HANSE_OK);
  json_t *msgs = json_object_get(res, "messages");
  assert_int_equal(json_array_size(msgs), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "tx")), idhex);
  json_decref(res);
  assert_int_equal(query(e->src.chain, "outbox",
                         json_pack("{s:s, s:s}", "to_chain", DEST, "after", idhex), &res, &rej),
                   HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "messages")), 0);
  json_decref(res);
  char id2hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(id2hex, &id2);
  assert_int_equal(query(e->src.chain, "message",
                         json_pack("{s:s, s:s}", "chain", FX_CHAIN_ID, "tx", id2hex), &res, &rej),
                   HANSE_OK);
  assert_string_equal(json_string_value(json_object_get(res, "to_chain")), "elsewhere");
  json_decref(res);
  assert_int_equal(query(e->src.chain, "message",
                         json_pack("{s:s, s:s}", "chain", DEST, "tx", id2hex), &res, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "xchain.not_found");
  assert_int_equal(rej.status, 404);
  assert_int_equal(query(e->src.chain, "outbox", json_pack("{s:s}", "to_chain", "B!"), &res, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "xchain.bad_chain");
  assert_int_equal(query(e->src.chain, "message", json_pack("{s:s, s:s}", "chain", DEST, "tx", "x"),
                         &res, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "xchain.bad_tx");
}

static void test_receive(void **state) {
  env *e = *state;
  hanse_hash id = send_to(e, DEST);
  json_t *p = receive_payload(e, &id);
  assert_string_equal(check(e, p), "ok");
  assert_string_equal(receive(e, p), "ok");

  char idhex[HANSE_HASH_HEX_BYTES], key[200];
  hanse_hash_hex(idhex, &id);
  snprintf(key, sizeof key, "xchain/in/test/%s", idhex);
  assert_true(dest_has(e, key));
  json_t *res;
  hanse_reject rej;
  assert_int_equal(query(e->dst, "inbox", json_pack("{s:s}", "from_chain", FX_CHAIN_ID), &res, &rej),
                   HANSE_OK);
  json_t *msgs = json_object_get(res, "messages");
  assert_int_equal(json_array_size(msgs), 1);
  json_t *m = json_array_get(msgs, 0);
  assert_string_equal(json_string_value(json_object_get(m, "source_tx")), idhex);
  assert_string_equal(json_string_value(json_object_get(m, "from_chain")), FX_CHAIN_ID);
  assert_string_equal(json_string_value(json_object_get(m, "kind")), "order.notice");
  assert_string_equal(json_string_value(json_object_get(m, "signer")), fx_hexkey(&e->src.alice.pub));
  assert_string_equal(json_string_value(json_object_get(m, "relayed_by")), fx_hexkey(&e->src.bob.pub));
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "body"), "lot")), "L-7");
  assert_int_equal(json_integer_value(json_object_get(m, "height")), 1);
  assert_int_equal(json_integer_value(json_object_get(m, "source_height")), 1);
  /* the source block is the block the source chain committed */
  hanse_store *rd = hanse_chain_reader_acquire(e->src.chain);
  hanse_tx_proof pr;
  assert_int_equal(hanse_chain_tx_proof(rd, &id, &pr, &rej), HANSE_OK);
  hanse_chain_reader_release(e->src.chain, rd);
  char bh[HANSE_HASH_HEX_BYTES];
  assert_string_equal(json_string_value(json_object_get(m, "source_block")),
                      hanse_hash_hex(bh, &pr.block_hash));
  hanse_tx_proof_free(&pr);
  /* both sides name the same body digest */
  char okey[200], out[1024];
  snprintf(okey, sizeof okey, "xchain/out/%s", idhex);
  assert_int_equal(fx_state(&e->src, okey, out, sizeof out), 1);
  json_t *orec = json_loads(out, 0, NULL);
  assert_string_equal(json_string_value(json_object_get(orec, "body_sha256")),
                      json_string_value(json_object_get(m, "body_sha256")));
  json_decref(orec);
  json_decref(res);
  assert_int_equal(query(e->dst, "message",
                         json_pack("{s:s, s:s}", "chain", FX_CHAIN_ID, "tx", idhex), &res, &rej),
                   HANSE_OK);
  assert_string_equal(json_string_value(json_object_get(res, "source_tx")), idhex);
  json_decref(res);

  /* again: a duplicate, and nothing changes */
  assert_string_equal(check(e, p), "ok"); /* check cannot know */
  assert_string_equal(receive(e, p), "xchain.duplicate");
  json_decref(p);
}

static void test_duplicate_in_one_block(void **state) {
  env *e = *state;
  hanse_hash id = send_to(e, DEST);
  json_t *p = receive_payload(e, &id);
  fx_body b;
  fx_body_init(&b);
  body_receive(e, &b, p);
  body_receive(e, &b, p);
  hanse_receipt rs[2];
  dest_propose(e, &b, rs, 2);
  fx_body_free(&b);
  assert_string_equal(rs[0].code, "ok");
  assert_string_equal(rs[1].code, "xchain.duplicate");
  json_decref(p);
}

/* Every part of the proof spoiled, one at a time: refused by check (so
 * at submission), and in a block nothing is recorded. */
static void test_bad_proofs(void **state) {
  env *e = *state;
  hanse_hash id0 = send_to(e, DEST); /* a block of one */
  fx_body b; /* and a block of three: paths of two */
  fx_body_init(&b);
  char p3[256];
  for (int i = 0; i < 3; i++) {
    snprintf(p3, sizeof p3, "{\"to_chain\":\"dest\",\"kind\":\"k\",\"body\":{\"i\":%d}}", i);
    fx_body_tx(&b, &e->src.alice, "xchain.send", e->alice_seq++, "%s", p3);
  }
  hanse_receipt rs[3];
  hanse_reject rej;
  assert_int_equal(fx_propose(&e->src, &b, rs, 3, &rej), HANSE_OK);
  fx_body_free(&b);
  json_t *good = receive_payload(e, &rs[1].id);
  json_t *other = receive_payload(e, &rs[2].id);
  assert_string_equal(check(e, good), "ok");

  struct {
    json_t *p;
    const char *code;
  } cases[64];
  int n = 0;
#define CASE(payload, want) (cases[n].p = (payload), cases[n++].code = (want))
  json_t *d;
  /* from_chain */
  d = json_deep_copy(good);
  json_object_del(d, "from_chain");
  CASE(d, "xchain.bad_chain");
  CASE(copy_with(good, "from_chain", json_string("Test")), "xchain.bad_chain");
  CASE(copy_with(good, "from_chain", json_string(DEST)), "xchain.bad_chain");
  CASE(copy_with(good, "from_chain", json_string("other")), "xchain.wrong_source");
  /* the transaction */
  CASE(copy_with(good, "tx", json_string("zz")), "xchain.bad_tx");
  CASE(copy_with(good, "tx", json_integer(1)), "xchain.bad_tx");
  CASE(copy_with(good, "tx", json_string("")), "xchain.bad_tx");
  d = json_deep_copy(good);
  flip_hex(d, "tx", 0, 0x01); /* the type byte */
  CASE(d, "xchain.bad_tx");
  d = json_deep_copy(good);
  flip_hex(d, "tx", hex_bytes(d, "tx") - 1, 0x01); /* the signature */
  CASE(d, "xchain.bad_signature");
  d = json_deep_copy(good);
  flip_hex(d, "tx", hex_bytes(d, "tx") - 80, 0x01); /* the payload */
  CASE(d, "xchain.bad_signature");
  CASE(copy_with(good, "tx", json_deep_copy(json_object_get(other, "tx"))), "xchain.bad_path");
  /* the header */
  CASE(copy_with(good, "header", json_string("00")), "xchain.bad_header");
  d = json_deep_copy(good);
  json_object_del(d, "header");
  CASE(d, "xchain.bad_header");
  d = json_deep_copy(good);
  flip_hex(d, "header", hex_bytes(d, "header") - 1, 0x01); /* its signature */
  CASE(d, "xchain.bad_header_signature");
  d = json_deep_copy(good);
  flip_hex(d, "header", hex_bytes(d, "header") - 64 - 32 - 4 - 1, 0x01); /* the state digest */
  CASE(d, "xchain.bad_header_signature");
  /* index, count, path */
  CASE(copy_with(good, "index", json_integer(0)), "xchain.bad_path");
  CASE(copy_with(good, "index", json_integer(3)), "xchain.bad_index");
  CASE(copy_with(good, "index", json_integer(-1)), "xchain.bad_index");
  CASE(copy_with(good, "index", json_string("1")), "xchain.bad_index");
  CASE(copy_with(good, "tx_count", json_integer(4)), "xchain.bad_index");
  CASE(copy_with(good, "tx_count", json_integer(2)), "xchain.bad_index");
  d = json_deep_copy(good);
  json_object_del(d, "tx_count");
  CASE(d, "xchain.bad_index");
  CASE(copy_with(good, "path", json_array()), "xchain.bad_path");
  CASE(copy_with(good, "path", json_string("")), "xchain.bad_path");
  CASE(copy_with(good, "path", json_deep_copy(json_object_get(other, "path"))), "xchain.bad_path");
  d = json_deep_copy(good);
  json_array_set_new(json_object_get(d, "path"), 0, json_string("abc"));
  CASE(d, "xchain.bad_path");
  d = json_deep_copy(good);
  {
    json_t *path = json_object_get(d, "path");
    const char *h0 = json_string_value(json_array_get(path, 1));
    char h[HANSE_HASH_HEX_BYTES];
    memcpy(h, h0, sizeof h);
    h[0] = h[0] == '0' ? '1' : '0';
    json_array_set_new(path, 1, json_string(h));
  }
  CASE(d, "xchain.bad_path");
  d = json_deep_copy(good);
  for (int i = 0; i < HANSE_MERKLE_PATH_MAX; i++)
    json_array_append(json_object_get(d, "path"), json_array_get(json_object_get(good, "path"), 0));
  CASE(d, "xchain.bad_path");
  /* a batch where none was */
  CASE(copy_with(good, "batch", json_deep_copy(json_object_get(good, "tx"))), "xchain.bad_tx");
  CASE(copy_with(good, "batch", json_string("")), "xchain.bad_batch");
  CASE(copy_with(good, "batch", json_string("xy")), "xchain.bad_batch");
  /* the proof of one block with the header of another */
  json_t *first = receive_payload(e, &id0);
  CASE(copy_with(good, "header", json_deep_copy(json_object_get(first, "header"))),
       "xchain.bad_index");
  json_decref(first);
  /* a class the message does not have */
  CASE(copy_with(good, "class", json_string("transaction")), "xchain.class_mismatch");
#undef CASE

  for (int i = 0; i < n; i++) {
    const char *got = check(e, cases[i].p);
    if (strcmp(got, cases[i].code) != 0)
      fail_msg("case %d: want %s, check says %s", i, cases[i].code, got);
  }
  /* in one block: every one rejected with the same code, nothing recorded */
  fx_body_init(&b);
  for (int i = 0; i < n; i++) body_receive(e, &b, cases[i].p);
  hanse_receipt out[64];
  dest_propose(e, &b, out, (uint32_t)n);
  fx_body_free(&b);
  for (int i = 0; i < n; i++) {
    if (strcmp(out[i].code, cases[i].code) != 0)
      fail_msg("case %d: want %s, receipt %s: %s", i, cases[i].code, out[i].code, out[i].message);
    json_decref(cases[i].p);
  }
  json_t *res;
  assert_int_equal(query(e->dst, "inbox", json_pack("{s:s}", "from_chain", FX_CHAIN_ID), &res, &rej),
                   HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "messages")), 0);
  json_decref(res);
  /* the good one still goes through afterwards */
  assert_string_equal(receive(e, good), "ok");
  json_decref(good);
  json_decref(other);
}

static void test_wrong_destination_and_not_a_send(void **state) {
  env *e = *state;
  hanse_hash id = send_to(e, "elsewhere");
  json_t *p = receive_payload(e, &id);
  assert_string_equal(check(e, p), "xchain.wrong_destination");
  assert_string_equal(receive(e, p), "xchain.wrong_destination");
  json_decref(p);
  id = send_as(e, "notary.anchor",
               "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000ab\"}");
  p = receive_payload(e, &id);
  assert_string_equal(receive(e, p), "xchain.not_a_send");
  json_decref(p);
}

/* A header re-signed by a key the destination does not trust, and a whole
 * chain it does not know, both with valid signatures and paths. */
static void test_unknown_validator_and_peer(void **state) {
  env *e = *state;
  hanse_hash id = send_to(e, DEST);
  json_t *p = receive_payload(e, &id);
  const char *hh = json_string_value(json_object_get(p, "header"));
  uint8_t *hb;
  size_t hn;
  assert_int_equal(hanse_hex_decode_alloc(hh, strlen(hh), &hb, &hn), HANSE_OK);
  hanse_header h;
  assert_int_equal(hanse_header_decode(&h, hb, hn, NULL), HANSE_OK);
  free(hb);
  hanse_header_sign(&h, &e->src.carol);
  hanse_buf out;
  hanse_buf_init(&out);
  assert_int_equal(hanse_header_encode(&out, &h), HANSE_OK);
  json_t *forged = copy_with(p, "header", hexj(out.data, out.len));
  hanse_buf_free(&out);
  assert_string_equal(check(e, forged), "ok");
  assert_string_equal(receive(e, forged), "xchain.unknown_validator");
  json_decref(forged);

  /* chain "rogue": one send in a one-transaction block its node signed */
  hanse_buf tx;
  hanse_buf_init(&tx);
  fx_tx(&tx, &e->src.alice, "rogue", "xchain.send", 1, 0,
        "{\"to_chain\":\"dest\",\"kind\":\"k\",\"body\":{}}");
  hanse_header r;
  memset(&r, 0, sizeof r);
  r.version = HANSE_FORMAT_VERSION;
  snprintf(r.chain_id, sizeof r.chain_id, "rogue");
  r.height = 1;
  r.time_ms = FX_T0_MS;
  r.tx_count = 1;
  hanse_hash tid;
  hanse_sha256(&tid, tx.data, tx.len);
  assert_int_equal(hanse_merkle_root_hashes(&r.tx_root, &tid, 1), HANSE_OK);
  hanse_header_sign(&r, &e->src.node);
  hanse_buf_init(&out);
  assert_int_equal(hanse_header_encode(&out, &r), HANSE_OK);
  json_t *rogue = json_pack("{s:s, s:o, s:o, s:i, s:i, s:[]}", "from_chain", "rogue", "tx",
                            hexj(tx.data, tx.len), "header", hexj(out.data, out.len), "index", 0,
                            "tx_count", 1, "path");
  hanse_buf_free(&out);
  hanse_buf_free(&tx);
  assert_string_equal(check(e, rogue), "ok");
  assert_string_equal(receive(e, rogue), "xchain.unknown_peer");
  json_decref(rogue);
  /* the genuine one still arrives */
  assert_string_equal(receive(e, p), "ok");
  json_decref(p);
}

/* A message of another class keeps it: the receive must name it too, and
 * the inbox lists it without its body. */
static void test_class(void **state) {
  env *e = *state;
  hanse_hash id = send_as(e, "xchain.send",
                          "{\"to_chain\":\"dest\",\"kind\":\"pay.notice\",\"class\":\"financial\","
                          "\"body\":{\"amount\":12}}");
  json_t *p = receive_payload(e, &id);
  assert_string_equal(receive(e, p), "xchain.class_mismatch");
  json_t *q = copy_with(p, "class", json_string("transport"));
  assert_string_equal(receive(e, q), "xchain.class_mismatch");
  json_decref(q);
  json_object_set_new(p, "class", json_string("financial"));
  assert_string_equal(hanse_tx_data_class("xchain.receive", p), "financial");
  assert_string_equal(receive(e, p), "ok");
  json_decref(p);
  json_t *res;
  hanse_reject rej;
  assert_int_equal(query(e->dst, "inbox", json_pack("{s:s}", "from_chain", FX_CHAIN_ID), &res, &rej),
                   HANSE_OK);
  json_t *m = json_array_get(json_object_get(res, "messages"), 0);
  assert_string_equal(json_string_value(json_object_get(m, "class")), "financial");
  assert_null(json_object_get(m, "body"));
  assert_non_null(json_object_get(m, "body_sha256"));
  json_decref(res);
}

static void test_batched(void **state) {
  env *e = *state;
  fx_body b;
  fx_body_init(&b);
  const char *kinds[2] = {"xchain.send", "xchain.send"};
  const char *pays[2] = {"{\"to_chain\":\"dest\",\"kind\":\"a\",\"body\":{\"n\":1}}",
                         "{\"to_chain\":\"dest\",\"kind\":\"b\",\"body\":{\"n\":2}}"};
  fx_body_batch(&b, &e->src.alice, e->alice_seq, 2, kinds, pays);
  e->alice_seq += 2;
  hanse_receipt rs[2];
  hanse_reject rej;
  assert_int_equal(fx_propose(&e->src, &b, rs, 2, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(rs[1].code, "ok");
  json_t *p = receive_payload(e, &rs[1].id);
  assert_non_null(json_object_get(p, "batch"));
  json_t *d = json_deep_copy(p);
  json_object_del(d, "batch");
  assert_string_equal(check(e, d), "xchain.bad_tx"); /* no signature of its own */
  json_decref(d);
  d = json_deep_copy(p);
  flip_hex(d, "batch", hex_bytes(d, "batch") - 1, 0x01);
  assert_string_equal(check(e, d), "xchain.bad_signature");
  json_decref(d);
  json_t *p0 = receive_payload(e, &rs[0].id);
  d = copy_with(p0, "tx", json_deep_copy(json_object_get(p, "tx")));
  assert_string_equal(check(e, d), "xchain.bad_path"); /* in the batch, not at that leaf */
  json_decref(d);
  d = json_deep_copy(p);
  flip_hex(d, "batch", 1, 0x01); /* the version byte */
  assert_string_equal(check(e, d), "xchain.bad_batch");
  json_decref(d);
  assert_string_equal(receive(e, p), "ok");
  assert_string_equal(receive(e, p0), "ok");
  json_decref(p);
  json_decref(p0);
}

static void test_genesis_peers(void **state) {
  env *e = *state;
  const char *node = fx_hexkey(&e->src.node.pub);
  struct {
    json_t *peers;
    int ok;
  } cases[] = {
      {json_pack("{s:[s]}", "a", node), 1},
      {json_pack("{s:[s], s:[s,s]}", "a", node, "b.2", node, fx_hexkey(&e->src.bob.pub)), 1},
      {json_pack("{}"), 1},
      {json_pack("[s]", node), 0},
      {json_pack("{s:[s]}", "dest", node), 0}, /* itself */
      {json_pack("{s:[s]}", "A", node), 0},
      {json_pack("{s:[]}", "a"), 0},
      {json_pack("{s:s}", "a", node), 0},
      {json_pack("{s:[s]}", "a", "abcd"), 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *g = dest_genesis(e, DEST, cases[i].peers);
    hanse_reject rej;
    int rc = hanse_genesis_validate(g, &rej);
    if ((rc == HANSE_OK) != cases[i].ok)
      fail_msg("peers case %zu: got %d (%s)", i, rc, rc ? rej.message : "ok");
    json_decref(g);
  }
}

/* The node's answer to GET /txs/{id} on the source. */
static json_t *tx_doc(env *e, const hanse_hash *id) {
  hanse_store *rd = hanse_chain_reader_acquire(e->src.chain);
  hanse_tx_proof p;
  hanse_reject rej;
  if (hanse_chain_tx_proof(rd, id, &p, &rej) != HANSE_OK)
    fail_msg("proof: %s: %s", rej.code, rej.message);
  hanse_chain_reader_release(e->src.chain, rd);
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *j = api_tx_json(&p, hanse_hash_hex(hex, id));
  hanse_tx_proof_free(&p);
  assert_non_null(j);
  return j;
}

static void test_client_payload(void **state) {
  env *e = *state;
  hanse_client *c = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_client_create("http://127.0.0.1:1", FX_CHAIN_ID, &c, &rej), HANSE_OK);
  /* a plain send, a batched one with a class, and a send with a wrong
   * sequence number: committed, with a failing receipt */
  hanse_hash plain = send_to(e, DEST);
  fx_body b;
  fx_body_init(&b);
  const char *kinds[2] = {"xchain.send", "xchain.send"};
  const char *pays[2] = {"{\"to_chain\":\"dest\",\"kind\":\"a\",\"body\":{}}",
                         "{\"to_chain\":\"dest\",\"kind\":\"b\",\"body\":{},"
                         "\"class\":\"transport\"}"};
  fx_body_batch(&b, &e->src.alice, e->alice_seq, 2, kinds, pays);
  e->alice_seq += 2;
  fx_body_tx(&b, &e->src.alice, "xchain.send", e->alice_seq + 5,
             "{\"to_chain\":\"dest\",\"kind\":\"c\",\"body\":{}}");
  hanse_receipt rs[3];
  assert_int_equal(fx_propose(&e->src, &b, rs, 3, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(rs[1].code, "ok");
  assert_string_equal(rs[2].code, "tx.bad_sequence");

  hanse_hash ids[2] = {plain, rs[1].id};
  for (int i = 0; i < 2; i++) {
    json_t *doc = tx_doc(e, &ids[i]), *p = NULL;
    assert_int_equal(hanse_client_xchain_payload(c, doc, &ids[i], &p, &rej), HANSE_OK);
    json_t *want = receive_payload(e, &ids[i]);
    if (i == 1) json_object_set_new(want, "class", json_string("transport"));
    assert_true(json_equal(p, want));
    assert_string_equal(receive(e, p), "ok");
    json_decref(want);
    json_decref(p);
    json_decref(doc);
  }
  /* the rejected send: the client will not relay it ... */
  json_t *doc = tx_doc(e, &rs[2].id), *p = NULL;
  assert_int_equal(hanse_client_xchain_payload(c, doc, &rs[2].id, &p, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "xchain.source_rejected");
  assert_null(p);
  /* ... because the destination could not tell (FORMATS.md, receipts hash) */
  json_t *forced = receive_payload(e, &rs[2].id);
  assert_string_equal(receive(e, forced), "ok");
  json_decref(forced);
  /* a proof that does not hold, or another kind */
  json_t *d = json_deep_copy(doc);
  json_object_set_new(json_object_get(d, "proof"), "index", json_integer(0));
  json_object_set_new(json_object_get(d, "receipt"), "index", json_integer(0));
  assert_int_equal(hanse_client_xchain_payload(c, d, NULL, &p, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "proof.invalid");
  json_decref(d);
  json_decref(doc);
  hanse_hash anchor = send_as(e, "notary.anchor",
                              "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000cd\"}");
  doc = tx_doc(e, &anchor);
  assert_int_equal(hanse_client_xchain_payload(c, doc, &anchor, &p, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "xchain.not_a_send");
  json_decref(doc);
  hanse_client_destroy(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_send_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_outbox, setup, teardown),
      cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_in_one_block, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_proofs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_destination_and_not_a_send, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_validator_and_peer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_class, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batched, setup, teardown),
      cmocka_unit_test_setup_teardown(test_genesis_peers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_client_payload, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
