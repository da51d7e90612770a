/*
 * test_seal.c -- confidential fields on chain: the seal module's grants,
 * and sealed values where the notary and member modules keep opaque data.
 *
 * Envelopes: a sealed notary metadata member and a sealed member attribute
 * pass check and are stored exactly as sent; a malformed envelope anywhere
 * in them (a missing member, a bad length, inside an array) is refused in
 * check with "confidential.malformed"; a well-formed envelope whose
 * ciphertext and sealed keys are random bytes is accepted and committed
 * (validity never depends on decrypting); the plaintext bound counts only
 * the unsealed part, so a field sealed to 64 recipients fits while plain
 * metadata over the bound is still refused.
 *
 * Grants: check refuses every bad shape with its code; verify refuses a
 * second grant for the same transaction, field and recipient, in a later
 * block and in the same one; apply writes the canonical record (lowercase
 * hex, granter, height); the grants query lists them in order and pages.
 * End to end: a key re-sealed by a recipient and read back from the chain
 * opens the field for the new recipient; one sealed wrongly is accepted
 * all the same and fails to open ("confidential.tampered").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/confidential.h"
#include "fixture.h"

#define AD_PRICE FX_CHAIN_ID "/notary.anchor/meta.price"

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

static void doc_hash(char out[HANSE_HASH_HEX_BYTES], const char *doc) {
  hanse_hash h;
  hanse_sha256(&h, doc, strlen(doc));
  hanse_hash_hex(out, &h);
}

/* Compact JSON text of v (free()). */
static char *text(const json_t *v) {
  char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  assert_non_null(t);
  return t;
}

/* A field holding `value_json` sealed under ad to the given keys. */
static json_t *seal(const char *value_json, const char *ad, const hanse_pubkey *to, size_t n) {
  json_t *v = json_loads(value_json, JSON_DECODE_ANY, NULL);
  assert_non_null(v);
  json_t *field = NULL;
  hanse_reject rej;
  int rc = hanse_confidential_seal(v, ad, to, n, &field, &rej);
  json_decref(v);
  if (rc != HANSE_OK) fail_msg("seal: %s: %s", rej.code, rej.message);
  return field;
}

/* Base64 of n random bytes (free()). */
static char *random_b64(size_t n) {
  uint8_t *b = malloc(n);
  assert_non_null(b);
  randombytes_buf(b, n);
  size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
  char *t = malloc(cap);
  assert_non_null(t);
  sodium_bin2base64(t, cap, b, n, sodium_base64_VARIANT_ORIGINAL);
  free(b);
  return t;
}

/* A well-formed field whose nonce, ciphertext and sealed keys are random:
 * nobody can open it, and the chain must not care. */
static json_t *garbage_field(const hanse_pubkey *to) {
  char *nonce = random_b64(HANSE_CONFIDENTIAL_NONCE_BYTES);
  char *ct = random_b64(40);
  char *sealed = random_b64(HANSE_CONFIDENTIAL_SEALED_BYTES);
  json_t *f = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "enc", HANSE_CONFIDENTIAL_ENC,
                        "nonce", nonce, "ct", ct, "recipients", "key", fx_hexkey(to), "sealed",
                        sealed);
  assert_non_null(f);
  assert_int_equal(hanse_confidential_check(f, NULL), HANSE_OK);
  free(nonce);
  free(ct);
  free(sealed);
  return f;
}

/* Context-free check of one transaction of `kind` by kp. */
static const char *check(const hanse_keypair *kp, const char *kind, const char *payload) {
  static hanse_reject rej;
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, kp, FX_CHAIN_ID, kind, 1, 0, "%s", payload);
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_reject_clear(&rej);
  int rc = hanse_tx_check(&tx, FX_CHAIN_ID, NULL, &rej);
  hanse_buf_free(&raw);
  if (rc != HANSE_OK) assert_true(rej.status >= 400 && rej.message[0] != 0);
  return rc == HANSE_OK ? "ok" : rej.code;
}

/* The receipt code of one transaction proposed alone. */
static const char *propose1(fx_chain *f, const hanse_keypair *kp, const char *kind,
                            uint64_t seq, const char *payload) {
  static hanse_receipt r;
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, kp, kind, seq, "%s", payload);
  hanse_reject rej;
  int rc = fx_propose(f, &b, &r, 1, &rej);
  fx_body_free(&b);
  if (rc != HANSE_OK) fail_msg("propose: %s: %s", rej.code, rej.message);
  return r.code;
}

/* ---- envelopes in notary metadata -------------------------------------- */

static void test_notary_meta_envelopes(void **state) {
  fx_chain *f = *state;
  hanse_pubkey to[2] = {f->alice.pub, f->bob.pub};
  char h[HANSE_HASH_HEX_BYTES];
  doc_hash(h, "price list 2025");
  json_t *field = seal("12345", AD_PRICE, to, 2);
  json_t *p = json_pack("{s:s, s:{s:O, s:s}}", "hash", h, "meta", "price", field, "note",
                        "public");
  char *pt = text(p);
  assert_string_equal(check(&f->alice, "notary.anchor", pt), "ok");
  assert_string_equal(propose1(f, &f->alice, "notary.anchor", 1, pt), "ok");
  free(pt);
  /* stored as sent: the record's meta.price is the very envelope */
  json_t *params = json_pack("{s:s}", "hash", h), *rec = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(f, "notary", "anchor", params, &rec, &rej), HANSE_OK);
  assert_true(json_equal(json_object_get(json_object_get(rec, "meta"), "price"), field));
  char *stored = text(rec);
  assert_null(strstr(stored, "12345")); /* the plaintext is nowhere in the record */
  free(stored);
  json_decref(rec);
  json_decref(params);
  json_decref(p);

  /* malformed envelopes are refused in check, wherever they sit in meta */
  json_t *bad = json_deep_copy(field);
  json_object_del(bad, "recipients");
  p = json_pack("{s:s, s:{s:O}}", "hash", h, "meta", "price", bad);
  pt = text(p);
  assert_string_equal(check(&f->alice, "notary.anchor", pt), "confidential.malformed");
  free(pt);
  json_decref(p);
  p = json_pack("{s:s, s:{s:{s:[i, O]}}}", "hash", h, "meta", "deal", "lines", 1, bad);
  pt = text(p);
  assert_string_equal(check(&f->alice, "notary.anchor", pt), "confidential.malformed");
  free(pt);
  json_decref(p);
  json_decref(bad);
  /* "enc" alone marks a field */
  p = json_pack("{s:s, s:{s:{s:s}}}", "hash", h, "meta", "x", "enc", "utf-8");
  pt = text(p);
  assert_string_equal(check(&f->alice, "notary.anchor", pt), "confidential.malformed");
  free(pt);
  json_decref(p);
  /* a bad length */
  bad = json_deep_copy(field);
  json_object_set_new(bad, "nonce", json_string("AAAA"));
  p = json_pack("{s:s, s:{s:O}}", "hash", h, "meta", "price", bad);
  pt = text(p);
  assert_string_equal(check(&f->alice, "notary.anchor", pt), "confidential.malformed");
  free(pt);
  json_decref(p);
  json_decref(bad);
  json_decref(field);

  /* garbage ciphertext, well formed: accepted and committed */
  char h2[HANSE_HASH_HEX_BYTES];
  doc_hash(h2, "garbage");
  json_t *g = garbage_field(&f->carol.pub);
  p = json_pack("{s:s, s:{s:o}}", "hash", h2, "meta", "secret", g);
  pt = text(p);
  assert_string_equal(propose1(f, &f->bob, "notary.anchor", 1, pt), "ok");
  free(pt);
  json_decref(p);
}

static void test_notary_meta_bound(void **state) {
  fx_chain *f = *state;
  /* a field sealed to 64 recipients is over 4096 bytes on its own */
  hanse_pubkey to[HANSE_CONFIDENTIAL_RECIPIENTS_MAX];
  for (int i = 0; i < HANSE_CONFIDENTIAL_RECIPIENTS_MAX; i++) {
    hanse_keypair kp;
    fx_key(&kp, (uint8_t)(0x10 + i));
    to[i] = kp.pub;
    hanse_keypair_wipe(&kp);
  }
  json_t *field = seal("\"confidential terms\"", AD_PRICE, to, HANSE_CONFIDENTIAL_RECIPIENTS_MAX);
  char *ft = text(field);
  assert_true(strlen(ft) > 4096);
  free(ft);
  char h[HANSE_HASH_HEX_BYTES];
  doc_hash(h, "bound");
  char big[4001];
  memset(big, 'x', 4000);
  big[4000] = 0;
  json_t *p = json_pack("{s:s, s:{s:O, s:s}}", "hash", h, "meta", "price", field, "k", big);
  char *pt = text(p);
  assert_string_equal(check(&f->alice, "notary.anchor", pt), "ok");
  free(pt);
  json_decref(p);
  /* the plaintext part is still bounded */
  char bigger[4201];
  memset(bigger, 'x', 4200);
  bigger[4200] = 0;
  p = json_pack("{s:s, s:{s:O, s:s}}", "hash", h, "meta", "price", field, "k", bigger);
  pt = text(p);
  assert_string_equal(check(&f->alice, "notary.anchor", pt), "notary.bad_meta");
  free(pt);
  json_decref(p);
  json_decref(field);
}

/* ---- envelopes in member attributes ------------------------------------ */

static void test_member_attribute_envelopes(void **state) {
  fx_chain *f = *state;
  hanse_keypair dora;
  fx_key(&dora, 0xd0);
  hanse_pubkey to[1] = {f->alice.pub};
  json_t *field = seal("{\"salary\":70000}", FX_CHAIN_ID "/member.register/member.attributes.pay",
                       to, 1);
  json_t *p = json_pack("{s:{s:s, s:s, s:[], s:{s:O, s:s}, s:s}}", "member", "id", "dora",
                        "kind", "person", "roles", "attributes", "pay", field, "desk", "3F",
                        "key", fx_hexkey(&dora.pub));
  char *pt = text(p);
  assert_string_equal(check(&f->alice, "member.register", pt), "ok");
  assert_string_equal(propose1(f, &f->alice, "member.register", 1, pt), "ok");
  free(pt);
  json_decref(p);
  json_t *params = json_pack("{s:s}", "key", fx_hexkey(&dora.pub)), *rec = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(f, "member", "member", params, &rec, &rej), HANSE_OK);
  assert_true(json_equal(json_object_get(json_object_get(rec, "attributes"), "pay"), field));
  json_decref(rec);
  json_decref(params);
  /* malformed: refused in check */
  json_t *bad = json_deep_copy(field);
  json_object_set_new(bad, "enc", json_string("aes-256-gcm"));
  p = json_pack("{s:{s:s, s:s, s:[], s:{s:O}, s:s}}", "member", "id", "erin", "kind", "person",
                "roles", "attributes", "pay", bad, "key", fx_hexkey(&f->carol.pub));
  pt = text(p);
  assert_string_equal(check(&f->alice, "member.register", pt), "confidential.malformed");
  free(pt);
  json_decref(p);
  json_decref(bad);
  json_decref(field);
  hanse_keypair_wipe(&dora);
}

/* ---- grants ------------------------------------------------------------ */

/* A grant payload; NULL members are left out. */
static char *grant_json(const char *tx, const char *field, const char *recipient,
                        const char *sealed) {
  json_t *p = json_object();
  if (tx) json_object_set_new(p, "tx", json_string(tx));
  if (field) json_object_set_new(p, "field", json_string(field));
  if (recipient) json_object_set_new(p, "recipient", json_string(recipient));
  if (sealed) json_object_set_new(p, "sealed", json_string(sealed));
  char *t = text(p);
  json_decref(p);
  return t;
}

static const char *check_grant(fx_chain *f, const char *tx, const char *field,
                               const char *recipient, const char *sealed) {
  char *p = grant_json(tx, field, recipient, sealed);
  const char *code = check(&f->alice, "seal.grant", p);
  free(p);
  return code;
}

static void test_grant_check(void **state) {
  fx_chain *f = *state;
  char tx[HANSE_HASH_HEX_BYTES];
  doc_hash(tx, "some transaction");
  const char *to = fx_hexkey(&f->carol.pub);
  char *sealed = random_b64(HANSE_CONFIDENTIAL_SEALED_BYTES);
  assert_string_equal(check_grant(f, tx, "meta.price", to, sealed), "ok");
  assert_string_equal(check_grant(f, tx, "lines.0.net", to, sealed), "ok");
  assert_string_equal(check_grant(f, NULL, "meta.price", to, sealed), "seal.bad_tx");
  assert_string_equal(check_grant(f, "abc", "meta.price", to, sealed), "seal.bad_tx");
  assert_string_equal(check_grant(f, tx, NULL, to, sealed), "seal.bad_field");
  assert_string_equal(check_grant(f, tx, "", to, sealed), "seal.bad_field");
  assert_string_equal(check_grant(f, tx, "meta..price", to, sealed), "seal.bad_field");
  assert_string_equal(check_grant(f, tx, "meta.price.", to, sealed), "seal.bad_field");
  assert_string_equal(check_grant(f, tx, "meta/price", to, sealed), "seal.bad_field");
  assert_string_equal(check_grant(f, tx, "meta.unit price", to, sealed), "seal.bad_field");
  char longpath[HANSE_CONFIDENTIAL_PATH_MAX + 2];
  memset(longpath, 'a', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = 0;
  assert_string_equal(check_grant(f, tx, longpath, to, sealed), "seal.bad_field");
  longpath[HANSE_CONFIDENTIAL_PATH_MAX] = 0;
  assert_string_equal(check_grant(f, tx, longpath, to, sealed), "ok");
  assert_string_equal(check_grant(f, tx, "meta.price", NULL, sealed), "seal.bad_recipient");
  assert_string_equal(check_grant(f, tx, "meta.price", "00ff", sealed), "seal.bad_recipient");
  assert_string_equal(check_grant(f, tx, "meta.price", to, NULL), "confidential.malformed");
  char *short_sealed = random_b64(HANSE_CONFIDENTIAL_SEALED_BYTES - 1);
  assert_string_equal(check_grant(f, tx, "meta.price", to, short_sealed),
                      "confidential.malformed");
  free(short_sealed);
  char unpadded[200];
  snprintf(unpadded, sizeof unpadded, "%s", sealed);
  unpadded[strcspn(unpadded, "=")] = 0;
  assert_string_equal(check_grant(f, tx, "meta.price", to, unpadded), "confidential.malformed");
  /* other members */
  char p[600];
  snprintf(p, sizeof p,
           "{\"tx\":\"%s\",\"field\":\"m.p\",\"recipient\":\"%s\",\"sealed\":\"%s\",\"x\":1}", tx,
           to, sealed);
  assert_string_equal(check(&f->alice, "seal.grant", p), "seal.bad_grant");
  snprintf(p, sizeof p,
           "{\"tx\":\"%s\",\"field\":\"m.p\",\"recipient\":\"%s\",\"sealed\":\"%s\","
           "\"class\":\"financial\"}",
           tx, to, sealed);
  assert_string_equal(check(&f->alice, "seal.grant", p), "ok");
  snprintf(p, sizeof p,
           "{\"tx\":\"%s\",\"field\":\"m.p\",\"recipient\":\"%s\",\"sealed\":\"%s\","
           "\"class\":\"gossip\"}",
           tx, to, sealed);
  assert_string_equal(check(&f->alice, "seal.grant", p), "seal.bad_class");
  assert_string_equal(check(&f->alice, "seal.revoke", "{}"), "tx.unknown_kind");
  free(sealed);
}

static void upper(char *s) {
  for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

static void test_grant_once_record_query(void **state) {
  fx_chain *f = *state;
  char tx[HANSE_HASH_HEX_BYTES], txu[HANSE_HASH_HEX_BYTES], carol_u[HANSE_HASH_HEX_BYTES];
  doc_hash(tx, "anchored earlier");
  memcpy(txu, tx, sizeof tx);
  upper(txu);
  memcpy(carol_u, fx_hexkey(&f->carol.pub), sizeof carol_u);
  upper(carol_u);
  char *s1 = random_b64(HANSE_CONFIDENTIAL_SEALED_BYTES);
  char *s2 = random_b64(HANSE_CONFIDENTIAL_SEALED_BYTES);
  /* block 1: alice grants carol (ids in upper case); bob grants carol the
   * same field in the same block: refused */
  char *g1 = grant_json(txu, "meta.price", carol_u, s1);
  char *g2 = grant_json(tx, "meta.price", fx_hexkey(&f->carol.pub), s2);
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "seal.grant", 1, "%s", g1);
  fx_body_tx(&b, &f->bob, "seal.grant", 1, "%s", g2);
  hanse_receipt rs[2];
  hanse_reject rej;
  assert_int_equal(fx_propose(f, &b, rs, 2, &rej), HANSE_OK);
  fx_body_free(&b);
  assert_string_equal(rs[0].code, "ok");
  assert_string_equal(rs[1].code, "seal.exists");
  /* and in a later block */
  assert_string_equal(propose1(f, &f->bob, "seal.grant", 2, g2), "seal.exists");
  free(g1);
  free(g2);
  /* other fields and recipients are other grants */
  g1 = grant_json(tx, "meta.buyer", fx_hexkey(&f->carol.pub), s2);
  assert_string_equal(propose1(f, &f->bob, "seal.grant", 3, g1), "ok");
  free(g1);
  g1 = grant_json(tx, "meta.price", fx_hexkey(&f->bob.pub), s2);
  assert_string_equal(propose1(f, &f->alice, "seal.grant", 2, g1), "ok");
  free(g1);

  /* the record: canonical JSON, lowercase hex, granter and height */
  char key[400], v[1024];
  snprintf(key, sizeof key, "seal/%s/meta.price/%s", tx, fx_hexkey(&f->carol.pub));
  assert_int_equal(fx_state(f, key, v, sizeof v), 1);
  char want[1024];
  snprintf(want, sizeof want,
           "{\"by\":\"%s\",\"field\":\"meta.price\",\"height\":1,\"recipient\":\"%s\","
           "\"sealed\":\"%s\",\"tx\":\"%s\"}",
           fx_hexkey(&f->alice.pub), fx_hexkey(&f->carol.pub), s1, tx);
  assert_string_equal(v, want);

  /* the query: every grant of the transaction, by field then recipient */
  json_t *params = json_pack("{s:s}", "tx", txu), *res = NULL;
  assert_int_equal(fx_query(f, "seal", "grants", params, &res, &rej), HANSE_OK);
  json_decref(params);
  assert_string_equal(json_string_value(json_object_get(res, "tx")), tx);
  json_t *list = json_object_get(res, "grants");
  assert_int_equal(json_array_size(list), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "field")),
                      "meta.buyer");
  const char *r1 = json_string_value(json_object_get(json_array_get(list, 1), "recipient"));
  const char *r2 = json_string_value(json_object_get(json_array_get(list, 2), "recipient"));
  assert_true(strcmp(r1, r2) < 0);
  json_decref(res);
  /* paging */
  char after[300];
  snprintf(after, sizeof after, "meta.buyer/%s", fx_hexkey(&f->carol.pub));
  params = json_pack("{s:s, s:s, s:s}", "tx", tx, "after", after, "limit", "1");
  assert_int_equal(fx_query(f, "seal", "grants", params, &res, &rej), HANSE_OK);
  json_decref(params);
  list = json_object_get(res, "grants");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "field")),
                      "meta.price");
  json_decref(res);
  /* another transaction has none; a bad id is a 400 */
  char other[HANSE_HASH_HEX_BYTES];
  doc_hash(other, "other");
  params = json_pack("{s:s}", "tx", other);
  assert_int_equal(fx_query(f, "seal", "grants", params, &res, &rej), HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "grants")), 0);
  json_decref(res);
  json_decref(params);
  params = json_pack("{s:s}", "tx", "nope");
  assert_int_equal(fx_query(f, "seal", "grants", params, &res, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "seal.bad_tx");
  assert_int_equal(rej.status, 400);
  json_decref(params);
  free(s1);
  free(s2);
}

/* A grant made by a recipient opens the field for a newcomer; a wrong key
 * in a grant is accepted by the chain and fails to open. */
static void test_grant_end_to_end(void **state) {
  fx_chain *f = *state;
  hanse_pubkey to[2] = {f->alice.pub, f->bob.pub};
  char h[HANSE_HASH_HEX_BYTES];
  doc_hash(h, "contract with price");
  json_t *field = seal("{\"eur\":990}", AD_PRICE, to, 2);
  json_t *p = json_pack("{s:s, s:{s:O}}", "hash", h, "meta", "price", field);
  char *pt = text(p);
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &f->alice, FX_CHAIN_ID, "notary.anchor", 1, 0, "%s", pt);
  hanse_hash id;
  hanse_sha256(&id, raw.data, raw.len);
  hanse_buf_free(&raw);
  assert_string_equal(propose1(f, &f->alice, "notary.anchor", 1, pt), "ok");
  free(pt);
  json_decref(p);
  char idhex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(idhex, &id);

  /* bob (a recipient) re-seals for carol; dora gets a key of another field */
  json_t *sealed = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_confidential_reseal(field, AD_PRICE, &f->bob, NULL, &f->carol.pub,
                                             &sealed, &rej),
                   HANSE_OK);
  char *g = grant_json(idhex, "meta.price", fx_hexkey(&f->carol.pub), json_string_value(sealed));
  assert_string_equal(propose1(f, &f->bob, "seal.grant", 1, g), "ok");
  free(g);
  json_decref(sealed);
  hanse_keypair dora;
  fx_key(&dora, 0xd0);
  json_t *other = seal("1", FX_CHAIN_ID "/notary.anchor/meta.other", to, 2);
  assert_int_equal(hanse_confidential_reseal(other, FX_CHAIN_ID "/notary.anchor/meta.other",
                                             &f->alice, NULL, &dora.pub, &sealed, &rej),
                   HANSE_OK);
  json_decref(other);
  g = grant_json(idhex, "meta.price", fx_hexkey(&dora.pub), json_string_value(sealed));
  assert_string_equal(propose1(f, &f->alice, "seal.grant", 2, g), "ok"); /* not checkable */
  free(g);
  json_decref(sealed);

  /* read the grants back from the chain and open */
  json_t *params = json_pack("{s:s}", "tx", idhex), *res = NULL;
  assert_int_equal(fx_query(f, "seal", "grants", params, &res, &rej), HANSE_OK);
  json_decref(params);
  json_t *list = json_object_get(res, "grants");
  assert_int_equal(json_array_size(list), 2);
  size_t i;
  json_t *gr;
  json_array_foreach(list, i, gr) {
    const char *rcpt = json_string_value(json_object_get(gr, "recipient"));
    const hanse_keypair *me = strcmp(rcpt, fx_hexkey(&f->carol.pub)) == 0 ? &f->carol : &dora;
    json_t *v = NULL;
    hanse_reject_clear(&rej);
    int rc = hanse_confidential_open_sealed(field, AD_PRICE, me, json_object_get(gr, "sealed"),
                                            &v, &rej);
    if (me == &f->carol) {
      assert_int_equal(rc, HANSE_OK);
      assert_int_equal(json_integer_value(json_object_get(v, "eur")), 990);
      json_decref(v);
    } else {
      assert_int_equal(rc, HANSE_ERR(INVALID));
      assert_string_equal(rej.code, "confidential.tampered");
    }
  }
  json_decref(res);
  /* carol is still not in the field's own list */
  json_t *v = NULL;
  assert_int_equal(hanse_confidential_open(field, AD_PRICE, &f->carol, &v, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.not_recipient");
  json_decref(field);
  hanse_keypair_wipe(&dora);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_notary_meta_envelopes, setup_chain, teardown_chain),
      cmocka_unit_test_setup_teardown(test_notary_meta_bound, setup_chain, teardown_chain),
      cmocka_unit_test_setup_teardown(test_member_attribute_envelopes, setup_chain,
                                      teardown_chain),
      cmocka_unit_test_setup_teardown(test_grant_check, setup_chain, teardown_chain),
      cmocka_unit_test_setup_teardown(test_grant_once_record_query, setup_chain,
                                      teardown_chain),
      cmocka_unit_test_setup_teardown(test_grant_end_to_end, setup_chain, teardown_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
