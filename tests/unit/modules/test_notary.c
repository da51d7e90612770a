/*
 * test_notary.c -- the notary module through its four entry points.
 *
 * check: the digest is 64 hex characters; name and meta are bounded.
 * verify (through block receipts): a digest is anchored once, in either
 * letter case, even within one block. apply: the record holds the
 * lowercase digest, owner, block height and time, transaction id, name
 * and meta; the owner index points at it. query: anchor by digest (any
 * case), anchors by owner with paging, and the error codes. A document's
 * data class and a blob's meta: checked, kept in the record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fixture.h"

static int setup_chain(void **state) {
  fx_chain *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  fx_chain_setup(f, NULL);
  *state = f;
  return 0;
}

static int teardown_chain(void **state) {
  fx_chain_teardown(*state);
  free(*state);
  return 0;
}

/* The SHA-256 hex of a "document". */
static void doc_hash(char out[HANSE_HASH_HEX_BYTES], const char *doc) {
  hanse_hash h;
  hanse_sha256(&h, doc, strlen(doc));
  hanse_hash_hex(out, &h);
}

static const char *check(const hanse_keypair *kp, const char *payload) {
  static hanse_reject rej;
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, kp, FX_CHAIN_ID, "notary.anchor", 1, 0, "%s", payload);
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_reject_clear(&rej);
  int rc = hanse_tx_check(&tx, FX_CHAIN_ID, NULL, &rej);
  hanse_buf_free(&raw);
  return rc == HANSE_OK ? "ok" : rej.code;
}

static void test_check(void **state) {
  fx_chain *f = *state;
  char h[HANSE_HASH_HEX_BYTES], p[8192];
  doc_hash(h, "contract v1");
  snprintf(p, sizeof p, "{\"hash\":\"%s\"}", h);
  assert_string_equal(check(&f->alice, p), "ok");
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"name\":\"c.pdf\",\"meta\":{\"pages\":3,\"tags\":[\"a\"]}}", h);
  assert_string_equal(check(&f->alice, p), "ok");
  assert_string_equal(check(&f->alice, "{}"), "notary.bad_hash");
  assert_string_equal(check(&f->alice, "{\"hash\":5}"), "notary.bad_hash");
  snprintf(p, sizeof p, "{\"hash\":\"%.63s\"}", h);
  assert_string_equal(check(&f->alice, p), "notary.bad_hash");
  snprintf(p, sizeof p, "{\"hash\":\"%sa\"}", h);
  assert_string_equal(check(&f->alice, p), "notary.bad_hash");
  snprintf(p, sizeof p, "{\"hash\":\"%.63sg\"}", h);
  assert_string_equal(check(&f->alice, p), "notary.bad_hash");
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"name\":[]}", h);
  assert_string_equal(check(&f->alice, p), "notary.bad_name");
  char name[300];
  memset(name, 'n', 257);
  name[257] = 0;
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"name\":\"%s\"}", h, name);
  assert_string_equal(check(&f->alice, p), "notary.bad_name");
  name[256] = 0;
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"name\":\"%s\"}", h, name);
  assert_string_equal(check(&f->alice, p), "ok");
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"meta\":\"text\"}", h);
  assert_string_equal(check(&f->alice, p), "notary.bad_meta");
  /* meta over 4096 bytes of compact JSON */
  char big[4200];
  memset(big, 'x', 4100);
  big[4100] = 0;
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"meta\":{\"k\":\"%s\"}}", h, big);
  assert_string_equal(check(&f->alice, p), "notary.bad_meta");
  big[4000] = 0;
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"meta\":{\"k\":\"%s\"}}", h, big);
  assert_string_equal(check(&f->alice, p), "ok");
  assert_string_equal(check(&f->alice, "{\"hash\":\"x\",\"meta\":{\"v\":0.5}}"), "tx.bad_payload");
}

static void upper(char *s) {
  for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

static void test_anchor_once_and_record(void **state) {
  fx_chain *f = *state;
  char h1[HANSE_HASH_HEX_BYTES], h2[HANSE_HASH_HEX_BYTES], h1u[HANSE_HASH_HEX_BYTES];
  doc_hash(h1, "invoice 2024-001");
  doc_hash(h2, "invoice 2024-002");
  memcpy(h1u, h1, sizeof h1);
  upper(h1u);
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "notary.anchor", 1,
             "{\"hash\":\"%s\",\"name\":\"inv1.pdf\",\"meta\":{\"customer\":\"ACME\"}}", h1u);
  fx_body_tx(&b, &f->bob, "notary.anchor", 1, "{\"hash\":\"%s\"}", h1); /* same digest */
  fx_body_tx(&b, &f->alice, "notary.anchor", 2, "{\"hash\":\"%s\"}", h2);
  hanse_receipt rs[3];
  hanse_reject rej;
  uint64_t t1 = f->time_ms;
  assert_int_equal(fx_propose(f, &b, rs, 3, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(rs[0].code, "ok");
  assert_string_equal(rs[1].code, "notary.exists");
  assert_string_equal(rs[2].code, "ok");
  /* in a later block too, by the same owner */
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "notary.anchor", 3, "{\"hash\":\"%s\"}", h2);
  assert_int_equal(fx_propose(f, &b, rs, 1, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(rs[0].code, "notary.exists");

  /* the record, under the lowercase digest */
  char key[256], v[1024];
  snprintf(key, sizeof key, "notary/doc/%s", h1);
  assert_int_equal(fx_state(f, key, v, sizeof v), 1);
  snprintf(key, sizeof key, "notary/doc/%s", h1u);
  assert_int_equal(fx_state(f, key, v, sizeof v), 0);
  json_t *params = json_pack("{s:s}", "hash", h1u); /* query in upper case */
  json_t *rec = NULL;
  assert_int_equal(fx_query(f, "notary", "anchor", params, &rec, &rej), HANSE_OK);
  json_decref(params);
  assert_string_equal(json_string_value(json_object_get(rec, "hash")), h1);
  assert_string_equal(json_string_value(json_object_get(rec, "owner")), fx_hexkey(&f->alice.pub));
  assert_true(json_integer_value(json_object_get(rec, "height")) == 1);
  assert_true((uint64_t)json_integer_value(json_object_get(rec, "time_ms")) == t1);
  assert_string_equal(json_string_value(json_object_get(rec, "name")), "inv1.pdf");
  assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "meta"), "customer")),
                      "ACME");
  /* the transaction id in the record is the committed transaction */
  hanse_hash txid;
  assert_int_equal(hanse_hash_parse(&txid, json_string_value(json_object_get(rec, "tx"))), HANSE_OK);
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  hanse_receipt got;
  assert_int_equal(hanse_store_tx_get(r, &txid, &got), HANSE_OK);
  assert_string_equal(got.code, "ok");
  assert_true(got.height == 1);
  assert_int_equal(got.index, 0);
  hanse_chain_reader_release(f->chain, r);
  json_decref(rec);
  /* the owner index */
  snprintf(key, sizeof key, "notary/own/%s/%s", fx_hexkey(&f->alice.pub), h1);
  assert_int_equal(fx_state(f, key, v, sizeof v), 1);
  snprintf(key, sizeof key, "notary/own/%s/%s", fx_hexkey(&f->bob.pub), h1);
  assert_int_equal(fx_state(f, key, v, sizeof v), 0);
}

static void test_queries(void **state) {
  fx_chain *f = *state;
  char h[3][HANSE_HASH_HEX_BYTES];
  fx_body b;
  fx_body_init(&b);
  for (int i = 0; i < 3; i++) {
    char doc[32];
    snprintf(doc, sizeof doc, "doc %d", i);
    doc_hash(h[i], doc);
    fx_body_tx(&b, &f->alice, "notary.anchor", (uint64_t)i + 1, "{\"hash\":\"%s\"}", h[i]);
  }
  hanse_receipt rs[3];
  hanse_reject rej;
  assert_int_equal(fx_propose(f, &b, rs, 3, &rej), HANSE_OK);
  fx_body_free(&b);

  json_t *params = json_pack("{s:s}", "owner", fx_hexkey(&f->alice.pub));
  json_t *res = NULL;
  assert_int_equal(fx_query(f, "notary", "by_owner", params, &res, &rej), HANSE_OK);
  json_decref(params);
  assert_string_equal(json_string_value(json_object_get(res, "owner")), fx_hexkey(&f->alice.pub));
  json_t *list = json_object_get(res, "anchors");
  assert_int_equal(json_array_size(list), 3);
  /* ordered by digest */
  const char *a0 = json_string_value(json_object_get(json_array_get(list, 0), "hash"));
  const char *a1 = json_string_value(json_object_get(json_array_get(list, 1), "hash"));
  const char *a2 = json_string_value(json_object_get(json_array_get(list, 2), "hash"));
  assert_true(strcmp(a0, a1) < 0 && strcmp(a1, a2) < 0);
  char after[HANSE_HASH_HEX_BYTES];
  snprintf(after, sizeof after, "%s", a0);
  json_decref(res);
  /* paging */
  params = json_pack("{s:s, s:s, s:s}", "owner", fx_hexkey(&f->alice.pub), "after", after, "limit", "1");
  assert_int_equal(fx_query(f, "notary", "by_owner", params, &res, &rej), HANSE_OK);
  json_decref(params);
  list = json_object_get(res, "anchors");
  assert_int_equal(json_array_size(list), 1);
  assert_true(strcmp(json_string_value(json_object_get(json_array_get(list, 0), "hash")), after) > 0);
  json_decref(res);
  /* an owner without anchors has an empty list */
  params = json_pack("{s:s}", "owner", fx_hexkey(&f->carol.pub));
  assert_int_equal(fx_query(f, "notary", "by_owner", params, &res, &rej), HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "anchors")), 0);
  json_decref(res);
  json_decref(params);
  /* errors */
  char none[HANSE_HASH_HEX_BYTES];
  doc_hash(none, "never anchored");
  params = json_pack("{s:s}", "hash", none);
  assert_int_equal(fx_query(f, "notary", "anchor", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "notary.not_anchored");
  assert_int_equal(rej.status, 404);
  json_decref(params);
  params = json_pack("{s:s}", "hash", "abc");
  assert_int_equal(fx_query(f, "notary", "anchor", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "notary.bad_hash");
  json_decref(params);
  params = json_pack("{s:s}", "owner", "abc");
  assert_int_equal(fx_query(f, "notary", "by_owner", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "notary.bad_owner");
  json_decref(params);
}

/* A document's data class, and the meta of a document kept as a blob:
 * checked, stored in the record, and what the read policy sees. */
static void test_class_and_blob(void **state) {
  fx_chain *f = *state;
  char h[HANSE_HASH_HEX_BYTES], p[1024];
  doc_hash(h, "bill of lading 77");
  static const char *const good[] = {"production", "transaction", "customs_inspection",
                                     "transport", "financial", "personal"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    snprintf(p, sizeof p, "{\"hash\":\"%s\",\"class\":\"%s\"}", h, good[i]);
    assert_string_equal(check(&f->alice, p), "ok");
  }
  static const char *const bad_class[] = {"\"secret\"", "\"\"", "\"Financial\"", "1", "null",
                                          "[\"financial\"]", "{}"};
  for (size_t i = 0; i < sizeof bad_class / sizeof bad_class[0]; i++) {
    snprintf(p, sizeof p, "{\"hash\":\"%s\",\"class\":%s}", h, bad_class[i]);
    assert_string_equal(check(&f->alice, p), "notary.bad_class");
  }
  snprintf(p, sizeof p,
           "{\"hash\":\"%s\",\"meta\":{\"blob\":true,\"size\":0,\"media_type\":\"application/pdf\"}}",
           h);
  assert_string_equal(check(&f->alice, p), "ok");
  snprintf(p, sizeof p, "{\"hash\":\"%s\",\"meta\":{\"blob\":true}}", h);
  assert_string_equal(check(&f->alice, p), "ok");
  static const char *const bad_blob[] = {
      "{\"blob\":false}", "{\"blob\":1}", "{\"blob\":true,\"size\":-1}",
      "{\"blob\":true,\"size\":\"12\"}", "{\"blob\":true,\"size\":67108865}",
      "{\"blob\":true,\"media_type\":\"pdf\"}", "{\"blob\":true,\"media_type\":\"a/b/c\"}",
      "{\"blob\":true,\"media_type\":\"text/plain\\r\\nX: y\"}",
      "{\"blob\":true,\"media_type\":\"text/plain; charset=utf-8\"}",
      "{\"blob\":true,\"media_type\":7}"};
  for (size_t i = 0; i < sizeof bad_blob / sizeof bad_blob[0]; i++) {
    snprintf(p, sizeof p, "{\"hash\":\"%s\",\"meta\":%s}", h, bad_blob[i]);
    assert_string_equal(check(&f->alice, p), "notary.bad_blob");
  }

  /* stored in the record; a record without one falls back to the
   * module's class */
  char h2[HANSE_HASH_HEX_BYTES];
  doc_hash(h2, "plain");
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "notary.anchor", 1,
             "{\"hash\":\"%s\",\"class\":\"customs_inspection\","
             "\"meta\":{\"blob\":true,\"size\":5,\"media_type\":\"text/plain\"}}",
             h);
  fx_body_tx(&b, &f->alice, "notary.anchor", 2, "{\"hash\":\"%s\"}", h2);
  hanse_receipt rs[2];
  hanse_reject rej;
  assert_int_equal(fx_propose(f, &b, rs, 2, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(rs[0].code, "ok");
  assert_string_equal(rs[1].code, "ok");
  json_t *params = json_pack("{s:s}", "hash", h);
  json_t *rec = NULL;
  assert_int_equal(fx_query(f, "notary", "anchor", params, &rec, &rej), HANSE_OK);
  json_decref(params);
  assert_string_equal(json_string_value(json_object_get(rec, "class")), "customs_inspection");
  assert_string_equal(hanse_tx_data_class("notary.anchor", rec), "customs_inspection");
  assert_true(json_is_true(json_object_get(json_object_get(rec, "meta"), "blob")));
  json_decref(rec);
  params = json_pack("{s:s}", "hash", h2);
  assert_int_equal(fx_query(f, "notary", "anchor", params, &rec, &rej), HANSE_OK);
  json_decref(params);
  assert_null(json_object_get(rec, "class"));
  assert_string_equal(hanse_tx_data_class("notary.anchor", rec), "production");
  json_decref(rec);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  hanse_modules_register_all();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_chain, teardown_chain)
  const struct CMUnitTest tests[] = {
      T(test_check),
      T(test_anchor_once_and_record),
      T(test_queries),
      T(test_class_and_blob),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
