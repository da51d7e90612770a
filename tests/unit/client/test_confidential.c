/*
 * test_confidential.c -- the client's confidential fields (client.h part 6)
 * against a fixture chain, without a node.
 *
 * Sealing: hanse_client_seal_field replaces the value at a path (member or
 * array index) by a field that the chain's check accepts and that opens
 * under "<chain>/<kind>/<path>" for every recipient; bad paths, kinds and
 * recipient lists are refused with their codes and leave the payload as it
 * was.
 *
 * Opening: a notary anchor with two sealed fields goes on the fixture
 * chain through hanse_client_tx_build; its GET .../txs/{id} answer is
 * built by the server's own api_tx_json. Each recipient opens the fields
 * addressed to it, and the others stay sealed with their reason ("not a
 * recipient"); a ciphertext moved to another field does not open
 * ("tampered"); a pending answer is "client.pending". Granting: a
 * recipient builds a grant for a newcomer, it commits, and the grants
 * query's records let the newcomer open the field -- and grant it on in
 * turn; a second grant for the same recipient is refused before it is
 * sent ("seal.exists"), as is one for a path that holds no field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/err.h"
#include "crypto/confidential.h"
#include "fixture.h"
#include "hanse/client.h"

typedef struct env {
  fx_chain f;
  hanse_client *c;
  hanse_keypair dora;
} env;

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  fx_chain_setup(&e->f, NULL);
  fx_key(&e->dora, 0xd0);
  hanse_reject rej;
  if (hanse_client_create("http://127.0.0.1:1", FX_CHAIN_ID, &e->c, &rej) != HANSE_OK)
    fail_msg("client: %s", rej.message);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  hanse_client_destroy(e->c);
  hanse_keypair_wipe(&e->dora);
  fx_chain_teardown(&e->f);
  free(e);
  return 0;
}

static const char *hexkey(const hanse_pubkey *pk) {
  static char buf[4][HANSE_HASH_HEX_BYTES];
  static int i;
  i = (i + 1) % 4;
  return fx_hex(buf[i], pk);
}

static json_t *sample_payload(void) {
  json_t *p = json_loads("{\"hash\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
                         "\"meta\":{\"price\":12345,\"buyer\":\"Globex\",\"note\":\"public\","
                         "\"lines\":[{\"sku\":\"A\",\"net\":7}]}}",
                         0, NULL);
  assert_non_null(p);
  return p;
}

/* Seal path of p for the keys; fail the test unless OK. */
static void seal_ok(hanse_client *c, json_t *p, const char *path, const hanse_pubkey *to,
                    size_t n) {
  hanse_reject rej;
  int rc = hanse_client_seal_field(c, "notary.anchor", p, path, to, n, &rej);
  if (rc != HANSE_OK) fail_msg("seal %s: %s: %s", path, rej.code, rej.message);
}

static void test_seal_field(void **state) {
  env *e = *state;
  fx_chain *f = &e->f;
  json_t *p = sample_payload();
  hanse_pubkey to[2] = {f->alice.pub, f->bob.pub};
  seal_ok(e->c, p, "meta.price", to, 2);
  seal_ok(e->c, p, "meta.lines.0.net", to, 1);
  json_t *price = json_object_get(json_object_get(p, "meta"), "price");
  assert_true(hanse_confidential_is_field(price));
  json_t *net = json_object_get(json_array_get(json_object_get(json_object_get(p, "meta"), "lines"), 0), "net");
  assert_true(hanse_confidential_is_field(net));
  /* the chain's check accepts the payload */
  char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
  assert_null(strstr(text, "12345"));
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &f->alice, FX_CHAIN_ID, "notary.anchor", 1, 0, "%s", text);
  free(text);
  hanse_tx tx;
  hanse_reject rej;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  assert_int_equal(hanse_tx_check(&tx, FX_CHAIN_ID, NULL, &rej), HANSE_OK);
  hanse_buf_free(&raw);
  /* the associated data is "<chain>/<kind>/<path>" */
  json_t *v = NULL;
  assert_int_equal(hanse_confidential_open(price, FX_CHAIN_ID "/notary.anchor/meta.price",
                                           &f->bob, &v, &rej),
                   HANSE_OK);
  assert_int_equal(json_integer_value(v), 12345);
  json_decref(v);
  assert_int_equal(hanse_confidential_open(net, FX_CHAIN_ID "/notary.anchor/meta.lines.0.net",
                                           &f->alice, &v, &rej),
                   HANSE_OK);
  assert_int_equal(json_integer_value(v), 7);
  json_decref(v);

  /* refusals leave the payload as it was */
  json_t *before = json_deep_copy(p);
  struct {
    const char *kind, *path;
    size_t n;
    const char *code;
  } bad[] = {
      {"notary.anchor", "meta.nope", 1, "client.bad_path"},
      {"notary.anchor", "meta..buyer", 1, "client.bad_path"},
      {"notary.anchor", "meta/buyer", 1, "client.bad_path"},
      {"notary.anchor", "meta.lines.1", 1, "client.bad_path"},
      {"notary.anchor", "meta.buyer.x", 1, "client.bad_path"},
      {"notary.anchor", "meta.price", 1, "client.bad_path"}, /* already sealed */
      {"notary", "meta.buyer", 1, "client.bad_op"},
      {"notary.anchor", "meta.buyer", 0, "confidential.bad_recipient"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    hanse_reject_clear(&rej);
    int rc = hanse_client_seal_field(e->c, bad[i].kind, p, bad[i].path, to, bad[i].n, &rej);
    if (rc != HANSE_ERR(INVALID) || strcmp(rej.code, bad[i].code) != 0)
      fail_msg("case %zu: want %s, got %d %s", i, bad[i].code, rc, rej.code);
    assert_true(json_equal(p, before));
  }
  hanse_pubkey twice[2] = {f->carol.pub, f->carol.pub};
  assert_int_equal(hanse_client_seal_field(e->c, "notary.anchor", p, "meta.buyer", twice, 2, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.duplicate_recipient");
  assert_true(json_equal(p, before));
  json_decref(before);
  json_decref(p);
}

/* Build `payload` as kind by kp with seq, commit it alone, return its id. */
static hanse_hash commit(env *e, const char *kind, json_t *payload, const hanse_keypair *kp,
                         uint64_t seq, const char *want_code) {
  hanse_client_op op = {kind, payload};
  hanse_buf tx;
  hanse_buf_init(&tx);
  hanse_hash id;
  hanse_reject rej;
  if (hanse_client_tx_build(e->c, &op, seq, kp, &tx, &id, &rej) != HANSE_OK)
    fail_msg("build: %s: %s", rej.code, rej.message);
  fx_body b;
  fx_body_init(&b);
  hanse_body_entry_append(&b.entries, HANSE_ENTRY_TX, tx.data, tx.len);
  b.count++;
  hanse_buf_free(&tx);
  hanse_receipt r;
  assert_int_equal(fx_propose(&e->f, &b, &r, 1, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(r.code, want_code);
  return id;
}

/* The server's answer for a committed transaction. */
static json_t *tx_doc(fx_chain *f, const hanse_hash *id) {
  hanse_store *rd = hanse_chain_reader_acquire(f->chain);
  assert_non_null(rd);
  hanse_tx_proof pr;
  hanse_reject rej;
  int rc = hanse_chain_tx_proof(rd, id, &pr, &rej);
  hanse_chain_reader_release(f->chain, rd);
  if (rc != HANSE_OK) fail_msg("tx proof: %s: %s", rej.code, rej.message);
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *j = api_tx_json(&pr, hanse_hash_hex(hex, id));
  hanse_tx_proof_free(&pr);
  assert_non_null(j);
  return j;
}

/* The grants of a transaction, as the query answers them. */
static json_t *grants_of(fx_chain *f, const hanse_hash *id) {
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *params = json_pack("{s:s}", "tx", hanse_hash_hex(hex, id)), *res = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(f, "seal", "grants", params, &res, &rej), HANSE_OK);
  json_decref(params);
  json_t *g = json_incref(json_object_get(res, "grants"));
  json_decref(res);
  return g;
}

/* Open the doc as kp; *payload and *unopened owned by the caller. */
static void open_as(env *e, json_t *doc, json_t *grants, const hanse_keypair *kp,
                    json_t **payload, json_t **unopened) {
  hanse_reject rej;
  int rc = hanse_client_tx_open(e->c, doc, grants, kp, payload, unopened, &rej);
  if (rc != HANSE_OK) fail_msg("open: %s: %s", rej.code, rej.message);
}

static json_t *meta_of(json_t *payload) { return json_object_get(payload, "meta"); }

/* The code noted for `field` in an unopened list, or NULL. */
static const char *unopened_code(json_t *unopened, const char *field) {
  size_t i;
  json_t *u;
  json_array_foreach(unopened, i, u) {
    if (strcmp(json_string_value(json_object_get(u, "field")), field) == 0)
      return json_string_value(json_object_get(u, "code"));
  }
  return NULL;
}

static void test_open_and_grant(void **state) {
  env *e = *state;
  fx_chain *f = &e->f;
  /* price to alice and bob; buyer to alice only */
  json_t *p = sample_payload();
  hanse_pubkey ab[2] = {f->alice.pub, f->bob.pub};
  seal_ok(e->c, p, "meta.price", ab, 2);
  seal_ok(e->c, p, "meta.buyer", ab, 1);
  hanse_hash id = commit(e, "notary.anchor", p, &f->alice, 1, "ok");
  json_decref(p);
  json_t *doc = tx_doc(f, &id);

  json_t *pay, *un;
  open_as(e, doc, NULL, &f->alice, &pay, &un);
  assert_int_equal(json_array_size(un), 0);
  assert_int_equal(json_integer_value(json_object_get(meta_of(pay), "price")), 12345);
  assert_string_equal(json_string_value(json_object_get(meta_of(pay), "buyer")), "Globex");
  assert_string_equal(json_string_value(json_object_get(meta_of(pay), "note")), "public");
  json_decref(pay);
  json_decref(un);

  open_as(e, doc, NULL, &f->bob, &pay, &un);
  assert_int_equal(json_integer_value(json_object_get(meta_of(pay), "price")), 12345);
  assert_true(hanse_confidential_is_field(json_object_get(meta_of(pay), "buyer")));
  assert_int_equal(json_array_size(un), 1);
  assert_string_equal(unopened_code(un, "meta.buyer"), "confidential.not_recipient");
  json_decref(pay);
  json_decref(un);

  open_as(e, doc, NULL, &f->carol, &pay, &un);
  assert_int_equal(json_array_size(un), 2);
  assert_string_equal(unopened_code(un, "meta.price"), "confidential.not_recipient");
  assert_string_equal(unopened_code(un, "meta.buyer"), "confidential.not_recipient");
  json_decref(pay);
  json_decref(un);

  /* bob grants carol the price; carol then opens it, not the buyer */
  hanse_reject rej;
  json_t *grant = NULL;
  assert_int_equal(hanse_client_grant_build(e->c, doc, NULL, "meta.price", &f->bob, &f->carol.pub,
                                            &grant, &rej),
                   HANSE_OK);
  char idhex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(idhex, &id);
  assert_string_equal(json_string_value(json_object_get(grant, "tx")), idhex);
  assert_string_equal(json_string_value(json_object_get(grant, "field")), "meta.price");
  assert_string_equal(json_string_value(json_object_get(grant, "recipient")), hexkey(&f->carol.pub));
  assert_int_equal(json_object_size(grant), 4);
  commit(e, "seal.grant", grant, &f->bob, 1, "ok");
  json_decref(grant);
  json_t *grants = grants_of(f, &id);
  assert_int_equal(json_array_size(grants), 1);
  open_as(e, doc, grants, &f->carol, &pay, &un);
  assert_int_equal(json_integer_value(json_object_get(meta_of(pay), "price")), 12345);
  assert_int_equal(json_array_size(un), 1);
  assert_string_equal(unopened_code(un, "meta.buyer"), "confidential.not_recipient");
  json_decref(pay);
  json_decref(un);

  /* a second grant to carol is refused before it is sent */
  assert_int_equal(hanse_client_grant_build(e->c, doc, grants, "meta.price", &f->alice,
                                            &f->carol.pub, &grant, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "seal.exists");
  assert_int_equal(rej.status, 409);
  /* carol, a grantee, grants dora in turn */
  assert_int_equal(hanse_client_grant_build(e->c, doc, grants, "meta.price", &f->carol,
                                            &e->dora.pub, &grant, &rej),
                   HANSE_OK);
  commit(e, "seal.grant", grant, &f->carol, 1, "ok");
  json_decref(grant);
  json_decref(grants);
  grants = grants_of(f, &id);
  assert_int_equal(json_array_size(grants), 2);
  open_as(e, doc, grants, &e->dora, &pay, &un);
  assert_int_equal(json_integer_value(json_object_get(meta_of(pay), "price")), 12345);
  json_decref(pay);
  json_decref(un);
  /* refusals: no field there; a key without a way in; a listed recipient */
  assert_int_equal(hanse_client_grant_build(e->c, doc, grants, "meta.note", &f->alice,
                                            &e->dora.pub, &grant, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.bad_path");
  assert_int_equal(hanse_client_grant_build(e->c, doc, grants, "meta.buyer", &f->bob,
                                            &e->dora.pub, &grant, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.not_recipient");
  assert_int_equal(hanse_client_grant_build(e->c, doc, grants, "meta.price", &f->alice,
                                            &f->bob.pub, &grant, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.duplicate_recipient");
  assert_null(grant);
  json_decref(grants);
  json_decref(doc);
}

static void test_open_refusals(void **state) {
  env *e = *state;
  fx_chain *f = &e->f;
  /* a field sealed for meta.price, copied to meta.other: does not open */
  json_t *p = sample_payload();
  hanse_pubkey a[1] = {f->alice.pub};
  seal_ok(e->c, p, "meta.price", a, 1);
  json_t *meta = json_object_get(p, "meta");
  json_object_set(meta, "other", json_object_get(meta, "price"));
  json_object_set_new(p, "class", json_string("financial"));
  hanse_hash id = commit(e, "notary.anchor", p, &f->alice, 1, "ok");
  json_decref(p);
  json_t *doc = tx_doc(f, &id);
  json_t *pay, *un;
  open_as(e, doc, NULL, &f->alice, &pay, &un);
  assert_int_equal(json_integer_value(json_object_get(meta_of(pay), "price")), 12345);
  assert_string_equal(unopened_code(un, "meta.other"), "confidential.tampered");
  json_decref(pay);
  json_decref(un);
  /* the grant carries the transaction's class */
  json_t *grant = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_client_grant_build(e->c, doc, NULL, "meta.price", &f->alice,
                                            &f->bob.pub, &grant, &rej),
                   HANSE_OK);
  assert_string_equal(json_string_value(json_object_get(grant, "class")), "financial");
  commit(e, "seal.grant", grant, &f->alice, 2, "ok");
  json_decref(grant);

  /* answers that carry no transaction of this chain */
  json_t *pending = json_pack("{s:s, s:s}", "id", "00", "status", "pending");
  assert_int_equal(hanse_client_tx_open(e->c, pending, NULL, &f->alice, &pay, &un, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "client.pending");
  assert_null(pay);
  assert_null(un);
  json_decref(pending);
  json_t *broken = json_deep_copy(doc);
  json_object_set_new(broken, "raw", json_string("0011"));
  assert_int_equal(hanse_client_tx_open(e->c, broken, NULL, &f->alice, &pay, &un, &rej),
                   HANSE_ERR(IO));
  assert_string_equal(rej.code, "client.bad_response");
  json_decref(broken);
  hanse_client *other = NULL;
  assert_int_equal(hanse_client_create("http://127.0.0.1:1", "other", &other, &rej), HANSE_OK);
  assert_int_equal(hanse_client_tx_open(other, doc, NULL, &f->alice, &pay, &un, &rej),
                   HANSE_ERR(IO));
  assert_string_equal(rej.code, "client.bad_response");
  hanse_client_destroy(other);
  json_decref(doc);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_seal_field, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_and_grant, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
