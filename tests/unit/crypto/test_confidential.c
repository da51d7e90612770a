/*
 * test_confidential.c -- payload fields sealed to recipients.
 *
 * Round trips for one and for many recipients (up to the bound of 64),
 * and for every kind of JSON value; the documented format, checked by
 * decrypting a field by hand with plain libsodium calls; a key outside the
 * list cannot open; each kind of tampering gives its own reason code
 * (nonce, ciphertext and associated data: "tampered"; a sealed key:
 * "bad_key"); adding a recipient lets the new one open the old ciphertext
 * while nonce, ciphertext and the old entries stay byte-identical; the
 * context-free check rejects every malformed shape we could think of, and
 * accepts the largest legal field. Grants: a key re-sealed outside the
 * field opens it for its holder, who can re-seal it on; a wrong or foreign
 * one does not open and is not passed on. Fields are found and checked
 * anywhere inside a value; field paths have one syntax. Run under ASan
 * with leak checking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/confidential.h"
#include "fixture.h"

#define AD "test/notary.anchor/meta.price"
#define B64 sodium_base64_VARIANT_ORIGINAL

static json_t *sample_value(void) {
  json_error_t err;
  json_t *v = json_loads("{\"price\":12345,\"currency\":\"EUR\","
                         "\"lines\":[{\"sku\":\"A-1\",\"qty\":3}],\"ok\":true}",
                         0, &err);
  assert_non_null(v);
  return v;
}

/* Seal `value` to the keys of tags[0..n-1]; fails the test unless OK. */
static json_t *seal_to(const json_t *value, const char *ad,
                       const uint8_t *tags, size_t n) {
  hanse_pubkey pubs[HANSE_CONFIDENTIAL_RECIPIENTS_MAX];
  assert_true(n <= HANSE_CONFIDENTIAL_RECIPIENTS_MAX);
  for (size_t i = 0; i < n; i++) {
    hanse_keypair kp;
    fx_key(&kp, tags[i]);
    pubs[i] = kp.pub;
    hanse_keypair_wipe(&kp);
  }
  json_t *field = NULL;
  hanse_reject rej;
  int rc = hanse_confidential_seal(value, ad, pubs, n, &field, &rej);
  if (rc != HANSE_OK) fail_msg("seal: %s: %s", rej.code, rej.message);
  assert_non_null(field);
  assert_int_equal(hanse_confidential_check(field, NULL), HANSE_OK);
  return field;
}

/* Open `field` as the key of `tag`: the return code, the reason code in
 * code_out (if not NULL) and the value in *value_out (NULL on failure). */
static int open_as(const json_t *field, const char *ad, uint8_t tag,
                   json_t **value_out, char *code_out) {
  hanse_keypair kp;
  fx_key(&kp, tag);
  hanse_reject rej;
  memset(&rej, 0, sizeof rej);
  json_t *v = NULL;
  int rc = hanse_confidential_open(field, ad, &kp, &v, &rej);
  hanse_keypair_wipe(&kp);
  if (rc != HANSE_OK) assert_null(v);
  if (code_out != NULL) snprintf(code_out, HANSE_REJECT_CODE_MAX, "%s", rc ? rej.code : "ok");
  if (value_out != NULL)
    *value_out = v;
  else
    json_decref(v);
  return rc;
}

/* The reason code of opening as `tag`, "ok" on success. */
static const char *open_code(const json_t *field, const char *ad, uint8_t tag) {
  static char code[HANSE_REJECT_CODE_MAX];
  open_as(field, ad, tag, NULL, code);
  return code;
}

static const char *check_code(const json_t *field) {
  static hanse_reject rej;
  memset(&rej, 0, sizeof rej);
  int rc = hanse_confidential_check(field, &rej);
  if (rc == HANSE_OK) return "ok";
  assert_int_equal(rc, HANSE_ERR(INVALID));
  assert_int_equal(rej.status, 400);
  assert_true(rej.message[0] != 0);
  return rej.code;
}

/* Base64 of n bytes as a new JSON string. */
static json_t *b64_json(const uint8_t *b, size_t n) {
  size_t cap = sodium_base64_ENCODED_LEN(n, B64);
  char *t = malloc(cap);
  assert_non_null(t);
  sodium_bin2base64(t, cap, b, n, B64);
  json_t *s = json_string(t);
  free(t);
  return s;
}

/* Decode a base64 member into a new buffer (free()). */
static uint8_t *b64_get(const json_t *obj, const char *name, size_t *n) {
  const char *s = json_string_value(json_object_get(obj, name));
  assert_non_null(s);
  size_t len = strlen(s);
  uint8_t *b = malloc(len);
  assert_non_null(b);
  assert_int_equal(sodium_base642bin(b, len, s, len, NULL, n, NULL, B64), 0);
  return b;
}

/* Flip one bit of the base64 member `name` of obj (in place). */
static void flip_b64(json_t *obj, const char *name, size_t byte, uint8_t mask) {
  size_t n = 0;
  uint8_t *b = b64_get(obj, name, &n);
  assert_true(byte < n);
  b[byte] ^= mask;
  json_object_set_new(obj, name, b64_json(b, n));
  free(b);
}

static json_t *entry(json_t *field, size_t i) {
  return json_array_get(json_object_get(field, "recipients"), i);
}

/* ---- round trips ------------------------------------------------------- */

static void test_round_trip_one(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x11};
  json_t *field = seal_to(value, AD, tags, 1);

  /* the format: four members, the algorithm, exact lengths */
  assert_int_equal(json_object_size(field), 4);
  assert_string_equal(json_string_value(json_object_get(field, "enc")),
                      "xchacha20poly1305-ietf");
  assert_int_equal(strlen(json_string_value(json_object_get(field, "nonce"))), 32);
  assert_int_equal(json_array_size(json_object_get(field, "recipients")), 1);
  hanse_keypair a;
  fx_key(&a, 0x11);
  char hex[HANSE_HASH_HEX_BYTES];
  assert_string_equal(json_string_value(json_object_get(entry(field, 0), "key")),
                      fx_hex(hex, &a.pub));
  assert_int_equal(strlen(json_string_value(json_object_get(entry(field, 0), "sealed"))), 108);
  /* the plaintext is nowhere in the field */
  char *text = json_dumps(field, JSON_COMPACT);
  assert_null(strstr(text, "EUR"));
  free(text);

  json_t *back = NULL;
  assert_int_equal(open_as(field, AD, 0x11, &back, NULL), HANSE_OK);
  assert_true(json_equal(back, value));
  json_decref(back);

  /* two seals of the same value differ (fresh key and nonce) */
  json_t *again = seal_to(value, AD, tags, 1);
  assert_string_not_equal(json_string_value(json_object_get(field, "ct")),
                          json_string_value(json_object_get(again, "ct")));
  assert_string_not_equal(json_string_value(json_object_get(field, "nonce")),
                          json_string_value(json_object_get(again, "nonce")));
  json_decref(again);
  hanse_keypair_wipe(&a);
  json_decref(field);
  json_decref(value);
}

static void test_round_trip_several(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x21, 0x22, 0x23, 0x24, 0x25};
  json_t *field = seal_to(value, AD, tags, 5);
  assert_int_equal(json_array_size(json_object_get(field, "recipients")), 5);
  for (size_t i = 0; i < 5; i++) {
    hanse_keypair kp;
    fx_key(&kp, tags[i]);
    char hex[HANSE_HASH_HEX_BYTES];
    /* entries in the order given */
    assert_string_equal(json_string_value(json_object_get(entry(field, i), "key")),
                        fx_hex(hex, &kp.pub));
    hanse_keypair_wipe(&kp);
    json_t *back = NULL;
    assert_int_equal(open_as(field, AD, tags[i], &back, NULL), HANSE_OK);
    assert_true(json_equal(back, value));
    json_decref(back);
  }
  json_decref(field);

  /* the bound: 64 recipients seal and open, 65 do not */
  uint8_t many[HANSE_CONFIDENTIAL_RECIPIENTS_MAX + 1];
  for (size_t i = 0; i < sizeof many; i++) many[i] = (uint8_t)(0x80 + i);
  field = seal_to(value, AD, many, HANSE_CONFIDENTIAL_RECIPIENTS_MAX);
  assert_string_equal(open_code(field, AD, many[0]), "ok");
  assert_string_equal(open_code(field, AD, many[HANSE_CONFIDENTIAL_RECIPIENTS_MAX - 1]), "ok");
  assert_string_equal(open_code(field, AD, many[HANSE_CONFIDENTIAL_RECIPIENTS_MAX]),
                      "confidential.not_recipient");
  json_decref(field);
  json_decref(value);
}

/* Any JSON value, not only objects, round-trips. */
static void test_round_trip_values(void **state) {
  (void)state;
  const char *texts[] = {"\"a secret note\"", "42", "-7", "true", "null",
                         "[1,2,{\"x\":\"\\u00e9\"}]", "{}", "\"\""};
  const uint8_t tags[] = {0x31, 0x32};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    json_error_t err;
    json_t *v = json_loads(texts[i], JSON_DECODE_ANY, &err);
    assert_non_null(v);
    json_t *field = seal_to(v, AD, tags, 2);
    json_t *back = NULL;
    assert_int_equal(open_as(field, AD, 0x32, &back, NULL), HANSE_OK);
    assert_true(json_equal(back, v));
    json_decref(back);
    json_decref(field);
    json_decref(v);
  }
}

/* The documented format, followed by hand with libsodium: unseal with the
 * X25519 form of the Ed25519 key, decrypt under "hanse.confidential.v1"
 * NUL ad, and find the compact, key-sorted JSON text. */
static void test_format_by_hand(void **state) {
  (void)state;
  json_error_t err;
  json_t *value = json_loads("{\"b\":\"x\",\"a\":1}", 0, &err);
  const uint8_t tags[] = {0x41};
  json_t *field = seal_to(value, AD, tags, 1);

  hanse_keypair kp;
  fx_key(&kp, 0x41);
  uint8_t x_pk[32], x_sk[32], key[32];
  assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(x_pk, kp.pub.b), 0);
  assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(x_sk, kp.sk), 0);
  size_t n = 0;
  uint8_t *sealed = b64_get(entry(field, 0), "sealed", &n);
  assert_int_equal(n, 80);
  assert_int_equal(crypto_box_seal_open(key, sealed, n, x_pk, x_sk), 0);
  size_t nonce_len = 0, ct_len = 0;
  uint8_t *nonce = b64_get(field, "nonce", &nonce_len);
  uint8_t *ct = b64_get(field, "ct", &ct_len);
  assert_int_equal(nonce_len, 24);
  const char text[] = "{\"a\":1,\"b\":\"x\"}";
  assert_int_equal(ct_len, strlen(text) + 16);
  uint8_t ad[sizeof "hanse.confidential.v1" + sizeof AD];
  memcpy(ad, "hanse.confidential.v1", sizeof "hanse.confidential.v1");
  memcpy(ad + sizeof "hanse.confidential.v1", AD, strlen(AD));
  size_t ad_len = sizeof "hanse.confidential.v1" + strlen(AD);
  uint8_t pt[64];
  unsigned long long pt_len = 0;
  assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
                       pt, &pt_len, NULL, ct, ct_len, ad, ad_len, nonce, key),
                   0);
  assert_int_equal(pt_len, strlen(text));
  assert_memory_equal(pt, text, pt_len);

  /* And a field built by hand opens, unless its plaintext is not JSON. */
  const char *bad = "{\"a\":1"; /* truncated JSON */
  uint8_t ct2[64];
  unsigned long long ct2_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct2, &ct2_len, (const uint8_t *)bad,
                                             strlen(bad), ad, ad_len, NULL,
                                             nonce, key);
  json_t *forged = json_deep_copy(field);
  json_object_set_new(forged, "ct", b64_json(ct2, (size_t)ct2_len));
  assert_string_equal(check_code(forged), "ok"); /* valid all the same */
  assert_string_equal(open_code(forged, AD, 0x41), "confidential.bad_plaintext");
  /* two JSON texts in one is not one JSON text either */
  const char *two = "1 2";
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct2, &ct2_len, (const uint8_t *)two,
                                             strlen(two), ad, ad_len, NULL,
                                             nonce, key);
  json_object_set_new(forged, "ct", b64_json(ct2, (size_t)ct2_len));
  assert_string_equal(open_code(forged, AD, 0x41), "confidential.bad_plaintext");

  sodium_memzero(key, sizeof key);
  sodium_memzero(x_sk, sizeof x_sk);
  hanse_keypair_wipe(&kp);
  free(sealed);
  free(nonce);
  free(ct);
  json_decref(forged);
  json_decref(field);
  json_decref(value);
}

/* ---- who can open ----------------------------------------------------- */

static void test_not_recipient(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x51, 0x52};
  json_t *field = seal_to(value, AD, tags, 2);
  hanse_keypair c;
  fx_key(&c, 0x53);
  hanse_reject rej;
  json_t *out = NULL;
  assert_int_equal(hanse_confidential_open(field, AD, &c, &out, &rej), HANSE_ERR(INVALID));
  assert_null(out);
  assert_string_equal(rej.code, "confidential.not_recipient");
  assert_int_equal(rej.status, 403);

  /* Claiming a recipient's public key with another secret key does not
   * help: the sealed key does not open. */
  hanse_keypair a;
  fx_key(&a, 0x51);
  memcpy(c.pub.b, a.pub.b, HANSE_PUBKEY_BYTES);
  memcpy(c.sk + HANSE_SEED_BYTES, a.pub.b, HANSE_PUBKEY_BYTES);
  assert_int_equal(hanse_confidential_open(field, AD, &c, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_key");
  assert_null(out);
  hanse_keypair_wipe(&a);
  hanse_keypair_wipe(&c);
  json_decref(field);
  json_decref(value);
}

/* ---- tampering -------------------------------------------------------- */

static void test_tamper_nonce_ct_ad(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x61, 0x62};
  json_t *field = seal_to(value, AD, tags, 2);
  size_t ct_len = 0;
  free(b64_get(field, "ct", &ct_len));

  /* every byte of the nonce, one bit each */
  for (size_t i = 0; i < HANSE_CONFIDENTIAL_NONCE_BYTES; i++) {
    json_t *t = json_deep_copy(field);
    flip_b64(t, "nonce", i, (uint8_t)(1u << (i % 8)));
    assert_string_equal(check_code(t), "ok"); /* validity does not see it */
    assert_string_equal(open_code(t, AD, 0x61), "confidential.tampered");
    json_decref(t);
  }
  /* every byte of the ciphertext, tag included */
  for (size_t i = 0; i < ct_len; i++) {
    json_t *t = json_deep_copy(field);
    flip_b64(t, "ct", i, 0x80);
    assert_string_equal(check_code(t), "ok");
    assert_string_equal(open_code(t, AD, 0x62), "confidential.tampered");
    json_decref(t);
  }
  /* a ciphertext one byte shorter */
  {
    size_t n = 0;
    uint8_t *b = b64_get(field, "ct", &n);
    json_t *t = json_deep_copy(field);
    json_object_set_new(t, "ct", b64_json(b, n - 1));
    assert_string_equal(open_code(t, AD, 0x61), "confidential.tampered");
    json_decref(t);
    free(b);
  }
  /* other associated data: another field, another chain, none, a prefix */
  const char *ads[] = {"test/notary.anchor/meta.cost", "prod/notary.anchor/meta.price",
                       "", "test/notary.anchor/meta.pric",
                       "test/notary.anchor/meta.price "};
  for (size_t i = 0; i < sizeof ads / sizeof ads[0]; i++)
    assert_string_equal(open_code(field, ads[i], 0x61), "confidential.tampered");
  /* the right ad still opens */
  assert_string_equal(open_code(field, AD, 0x61), "ok");
  json_decref(field);
  json_decref(value);
}

static void test_tamper_sealed(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x71, 0x72};
  json_t *field = seal_to(value, AD, tags, 2);

  /* one bit of A's sealed key, anywhere: A can no longer open it, B can */
  for (size_t i = 0; i < HANSE_CONFIDENTIAL_SEALED_BYTES; i += 7) {
    json_t *t = json_deep_copy(field);
    flip_b64(entry(t, 0), "sealed", i, 0x01);
    assert_string_equal(check_code(t), "ok");
    assert_string_equal(open_code(t, AD, 0x71), "confidential.bad_key");
    assert_string_equal(open_code(t, AD, 0x72), "ok");
    json_decref(t);
  }
  /* sealed keys swapped between the two entries */
  {
    json_t *t = json_deep_copy(field);
    json_t *s0 = json_object_get(entry(t, 0), "sealed");
    json_t *s1 = json_object_get(entry(t, 1), "sealed");
    json_incref(s0);
    json_object_set(entry(t, 0), "sealed", s1);
    json_object_set_new(entry(t, 1), "sealed", s0);
    assert_string_equal(open_code(t, AD, 0x71), "confidential.bad_key");
    assert_string_equal(open_code(t, AD, 0x72), "confidential.bad_key");
    json_decref(t);
  }
  /* A's sealed key from another field (another field key): it unseals,
   * but does not authenticate this ciphertext */
  {
    json_t *other = seal_to(value, AD, tags, 2);
    json_t *t = json_deep_copy(field);
    json_object_set(entry(t, 0), "sealed", json_object_get(entry(other, 0), "sealed"));
    assert_string_equal(open_code(t, AD, 0x71), "confidential.tampered");
    /* and the other field's ciphertext under this field's keys, likewise */
    json_t *u = json_deep_copy(field);
    json_object_set(u, "ct", json_object_get(other, "ct"));
    json_object_set(u, "nonce", json_object_get(other, "nonce"));
    assert_string_equal(open_code(u, AD, 0x72), "confidential.tampered");
    json_decref(u);
    json_decref(t);
    json_decref(other);
  }
  json_decref(field);
  json_decref(value);
}

/* ---- adding a recipient ------------------------------------------------ */

static void test_add_recipient(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x81, 0x82};
  json_t *field = seal_to(value, AD, tags, 2);
  char *before = json_dumps(field, JSON_COMPACT);
  hanse_keypair a, c, d;
  fx_key(&a, 0x82);
  fx_key(&c, 0x83);
  fx_key(&d, 0x84);
  assert_string_equal(open_code(field, AD, 0x83), "confidential.not_recipient");

  hanse_reject rej;
  json_t *grown = NULL;
  assert_int_equal(hanse_confidential_add_recipient(field, AD, &a, &c.pub, &grown, &rej),
                   HANSE_OK);
  assert_string_equal(check_code(grown), "ok");
  /* the input is untouched */
  char *after = json_dumps(field, JSON_COMPACT);
  assert_string_equal(before, after);
  free(after);
  /* history not re-encrypted: enc, nonce, ct and the old entries are the
   * same bytes; one entry more */
  const char *names[] = {"enc", "nonce", "ct"};
  for (int i = 0; i < 3; i++)
    assert_string_equal(json_string_value(json_object_get(grown, names[i])),
                        json_string_value(json_object_get(field, names[i])));
  assert_int_equal(json_array_size(json_object_get(grown, "recipients")), 3);
  assert_true(json_equal(entry(grown, 0), entry(field, 0)));
  assert_true(json_equal(entry(grown, 1), entry(field, 1)));
  char hex[HANSE_HASH_HEX_BYTES];
  assert_string_equal(json_string_value(json_object_get(entry(grown, 2), "key")),
                      fx_hex(hex, &c.pub));
  /* the new recipient opens the old ciphertext; the old ones still do */
  json_t *back = NULL;
  assert_int_equal(open_as(grown, AD, 0x83, &back, NULL), HANSE_OK);
  assert_true(json_equal(back, value));
  json_decref(back);
  assert_string_equal(open_code(grown, AD, 0x81), "ok");

  /* the added recipient can grant in turn */
  json_t *grown2 = NULL;
  assert_int_equal(hanse_confidential_add_recipient(grown, AD, &c, &d.pub, &grown2, &rej),
                   HANSE_OK);
  assert_string_equal(open_code(grown2, AD, 0x84), "ok");
  json_decref(grown2);

  /* refusals; the output is never set */
  json_t *none = NULL;
  assert_int_equal(hanse_confidential_add_recipient(grown, AD, &a, &c.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.duplicate_recipient");
  assert_int_equal(rej.status, 409);
  assert_int_equal(hanse_confidential_add_recipient(field, AD, &a, &a.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.duplicate_recipient");
  /* only a recipient can grant */
  assert_int_equal(hanse_confidential_add_recipient(field, AD, &d, &c.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.not_recipient");
  /* the wrong associated data: the key is not re-sealed */
  assert_int_equal(hanse_confidential_add_recipient(field, "other", &a, &c.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.tampered");
  /* a granter whose sealed key was tampered with */
  json_t *t = json_deep_copy(field);
  flip_b64(entry(t, 1), "sealed", 40, 0x10);
  assert_int_equal(hanse_confidential_add_recipient(t, AD, &a, &c.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_key");
  json_decref(t);
  /* a new key that is no Ed25519 point of large order */
  hanse_pubkey zero;
  memset(zero.b, 0, sizeof zero.b);
  assert_int_equal(hanse_confidential_add_recipient(field, AD, &a, &zero, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_recipient");
  /* a malformed field */
  json_t *m = json_deep_copy(field);
  json_object_set_new(m, "enc", json_string("aes"));
  assert_int_equal(hanse_confidential_add_recipient(m, AD, &a, &c.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.malformed");
  json_decref(m);
  assert_null(none);

  /* no 65th recipient */
  uint8_t many[HANSE_CONFIDENTIAL_RECIPIENTS_MAX];
  for (size_t i = 0; i < sizeof many; i++) many[i] = (uint8_t)(0x90 + i);
  json_t *full = seal_to(value, AD, many, HANSE_CONFIDENTIAL_RECIPIENTS_MAX);
  hanse_keypair first;
  fx_key(&first, many[0]);
  assert_int_equal(hanse_confidential_add_recipient(full, AD, &first, &c.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_recipient");
  assert_null(none);
  hanse_keypair_wipe(&first);
  json_decref(full);

  free(before);
  hanse_keypair_wipe(&a);
  hanse_keypair_wipe(&c);
  hanse_keypair_wipe(&d);
  json_decref(grown);
  json_decref(field);
  json_decref(value);
}

/* ---- sealing refusals and bounds --------------------------------------- */

static void test_seal_refusals(void **state) {
  (void)state;
  json_t *value = sample_value();
  hanse_keypair a, b;
  fx_key(&a, 0xa1);
  fx_key(&b, 0xa2);
  hanse_pubkey keys[HANSE_CONFIDENTIAL_RECIPIENTS_MAX + 1];
  for (size_t i = 0; i < HANSE_CONFIDENTIAL_RECIPIENTS_MAX + 1; i++) {
    hanse_keypair kp;
    fx_key(&kp, (uint8_t)(0x10 + i));
    keys[i] = kp.pub;
    hanse_keypair_wipe(&kp);
  }
  hanse_reject rej;
  json_t *out = NULL;
  assert_int_equal(hanse_confidential_seal(value, AD, keys, 0, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_recipient");
  assert_int_equal(hanse_confidential_seal(value, AD, keys,
                                           HANSE_CONFIDENTIAL_RECIPIENTS_MAX + 1, &out, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_recipient");
  hanse_pubkey dup[3] = {a.pub, b.pub, a.pub};
  assert_int_equal(hanse_confidential_seal(value, AD, dup, 3, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.duplicate_recipient");
  assert_int_equal(rej.status, 409);
  /* keys with no X25519 form: zero (small order), the identity, and a y
   * that is on no curve point */
  hanse_pubkey bad[2] = {a.pub, {{0}}};
  assert_int_equal(hanse_confidential_seal(value, AD, bad, 2, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_recipient");
  bad[1].b[0] = 1; /* the identity point */
  assert_int_equal(hanse_confidential_seal(value, AD, bad, 2, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_recipient");
  bad[1].b[0] = 2; /* y = 2 is not on the curve */
  assert_int_equal(hanse_confidential_seal(value, AD, bad, 2, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_recipient");
  assert_null(out);
  json_decref(value);

  /* the plaintext bound: a string whose JSON text is exactly the largest
   * plaintext seals (the ciphertext is exactly HANSE_CONFIDENTIAL_CT_MAX,
   * checked in several base64 chunks), one byte more does not */
  size_t len = HANSE_CONFIDENTIAL_PLAINTEXT_MAX - 2; /* two quotes */
  char *s = malloc(len + 2);
  assert_non_null(s);
  memset(s, 'x', len + 1);
  s[len] = 0;
  json_t *big = json_string(s);
  json_t *field = NULL;
  assert_int_equal(hanse_confidential_seal(big, AD, &a.pub, 1, &field, &rej), HANSE_OK);
  size_t ct_len = 0;
  free(b64_get(field, "ct", &ct_len));
  assert_int_equal(ct_len, HANSE_CONFIDENTIAL_CT_MAX);
  assert_string_equal(check_code(field), "ok");
  json_t *back = NULL;
  assert_int_equal(open_as(field, AD, 0xa1, &back, NULL), HANSE_OK);
  assert_true(json_equal(back, big));
  json_decref(back);
  json_decref(field);
  json_decref(big);
  s[len] = 'x';
  s[len + 1] = 0;
  big = json_string(s);
  assert_int_equal(hanse_confidential_seal(big, AD, &a.pub, 1, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.too_large");
  assert_null(out);
  json_decref(big);
  free(s);
  hanse_keypair_wipe(&a);
  hanse_keypair_wipe(&b);
}

/* ---- the context-free check ---------------------------------------------- */

/* Replace one character of a string member. */
static void set_char(json_t *obj, const char *name, size_t at, char c) {
  char *s = strdup(json_string_value(json_object_get(obj, name)));
  assert_non_null(s);
  assert_true(at < strlen(s));
  s[at] = c;
  json_object_set_new(obj, name, json_string(s));
  free(s);
}

/* Append text to a string member. */
static void append_str(json_t *obj, const char *name, const char *tail) {
  const char *s = json_string_value(json_object_get(obj, name));
  size_t n = strlen(s) + strlen(tail) + 1;
  char *t = malloc(n);
  assert_non_null(t);
  snprintf(t, n, "%s%s", s, tail);
  json_object_set_new(obj, name, json_string(t));
  free(t);
}

/* Make the last base64 group non-canonical: set an unused low bit of the
 * character before the padding (the string must end in '='). */
static void noncanonical(json_t *obj, const char *name) {
  static const char alpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const char *s = json_string_value(json_object_get(obj, name));
  size_t n = strlen(s);
  assert_true(n >= 4 && s[n - 1] == '=');
  size_t at = s[n - 2] == '=' ? n - 3 : n - 2;
  const char *p = strchr(alpha, s[at]);
  assert_non_null(p);
  set_char(obj, name, at, alpha[(p - alpha) | 1]);
}

static void expect_malformed(const json_t *f, const char *what) {
  const char *code = check_code(f);
  if (strcmp(code, "confidential.malformed") != 0)
    fail_msg("%s: check gave %s", what, code);
  /* every other entry point refuses it the same way */
  assert_string_equal(open_code(f, AD, 0xb1), "confidential.malformed");
}

static void test_check_rejects_malformed(void **state) {
  (void)state;
  json_error_t err;
  json_t *value = json_loads("{\"k\":\"v\"}", 0, &err);
  const uint8_t tags[] = {0xb1, 0xb2};
  json_t *good = seal_to(value, AD, tags, 2);
  assert_string_equal(check_code(good), "ok");
  json_t *f;

#define MUTATE(what, stmt)                                                     \
  do {                                                                         \
    f = json_deep_copy(good);                                                  \
    stmt;                                                                      \
    expect_malformed(f, what);                                                 \
    json_decref(f);                                                            \
  } while (0)

  /* not an object at all */
  json_t *others[] = {json_null(), json_string("x"), json_integer(1), json_array()};
  for (size_t i = 0; i < 4; i++) {
    expect_malformed(others[i], "not an object");
    json_decref(others[i]);
  }
  expect_malformed(NULL, "NULL");

  /* the member set */
  const char *members[] = {"enc", "nonce", "ct", "recipients"};
  for (int i = 0; i < 4; i++) {
    MUTATE("missing member", json_object_del(f, members[i]));
    MUTATE("member of wrong type", json_object_set_new(f, members[i], json_integer(7)));
  }
  MUTATE("extra member", json_object_set_new(f, "aad", json_string("")));
  MUTATE("renamed member", (json_object_set(f, "Nonce", json_object_get(f, "nonce")),
                            json_object_del(f, "nonce")));

  /* enc */
  MUTATE("other algorithm", json_object_set_new(f, "enc", json_string("aes-256-gcm")));
  MUTATE("enc in capitals", json_object_set_new(f, "enc", json_string("XCHACHA20POLY1305-IETF")));
  MUTATE("enc with NUL", json_object_set_new(f, "enc", json_stringn("xchacha20poly1305-ietf\0x", 24)));
  MUTATE("enc empty", json_object_set_new(f, "enc", json_string("")));

  /* nonce: exactly 24 bytes, 32 characters of base64 */
  uint8_t bytes[200];
  memset(bytes, 0x5a, sizeof bytes);
  MUTATE("nonce 23 bytes", json_object_set_new(f, "nonce", b64_json(bytes, 23)));
  MUTATE("nonce 25 bytes", json_object_set_new(f, "nonce", b64_json(bytes, 25)));
  MUTATE("nonce 12 bytes", json_object_set_new(f, "nonce", b64_json(bytes, 12)));
  MUTATE("nonce empty", json_object_set_new(f, "nonce", json_string("")));
  MUTATE("nonce bad char", set_char(f, "nonce", 5, '*'));
  MUTATE("nonce url-safe char", set_char(f, "nonce", 5, '-'));
  MUTATE("nonce with space", set_char(f, "nonce", 5, ' '));
  MUTATE("nonce trailing newline", append_str(f, "nonce", "\n"));
  MUTATE("nonce trailing padding", append_str(f, "nonce", "===="));
  MUTATE("nonce in hex", json_object_set_new(f, "nonce", json_string(
      "000102030405060708090a0b0c0d0e0f1011121314151617")));

  /* ct: 17 bytes to 64 KiB, padded canonical base64 */
  MUTATE("ct empty", json_object_set_new(f, "ct", json_string("")));
  MUTATE("ct tag only", json_object_set_new(f, "ct", b64_json(bytes, 16)));
  MUTATE("ct shorter than a tag", json_object_set_new(f, "ct", b64_json(bytes, 5)));
  MUTATE("ct bad char", set_char(f, "ct", 3, '!'));
  MUTATE("ct trailing garbage", append_str(f, "ct", "A"));
  MUTATE("ct trailing space", append_str(f, "ct", " "));
  MUTATE("ct padding stripped", {
    json_object_set_new(f, "ct", b64_json(bytes, 20)); /* ends in '=' */
    char s[64];
    snprintf(s, sizeof s, "%s", json_string_value(json_object_get(f, "ct")));
    s[strcspn(s, "=")] = 0;
    json_object_set_new(f, "ct", json_string(s));
  });
  MUTATE("ct non-canonical", {
    json_object_set_new(f, "ct", b64_json(bytes, 20));
    noncanonical(f, "ct");
  });
  MUTATE("ct non-canonical (==)", {
    json_object_set_new(f, "ct", b64_json(bytes, 19));
    noncanonical(f, "ct");
  });
  {
    /* padding at the end of the first 4096-character chunk: each chunk
     * alone is valid base64, the whole is not */
    uint8_t *big = calloc(1, 3 * HANSE_CONFIDENTIAL_CT_MAX);
    assert_non_null(big);
    json_t *head = b64_json(big, 3070); /* 4096 chars ending "==" */
    assert_int_equal(json_string_length(head), 4096);
    MUTATE("ct padding mid-string", {
      json_object_set(f, "ct", head);
      append_str(f, "ct", "AAAAAAAA");
    });
    json_decref(head);
    MUTATE("ct one byte over the bound",
           json_object_set_new(f, "ct", b64_json(big, HANSE_CONFIDENTIAL_CT_MAX + 1)));
    MUTATE("ct far over the bound",
           json_object_set_new(f, "ct", b64_json(big, 3 * HANSE_CONFIDENTIAL_CT_MAX)));
    /* while exactly the bound, zeros or not, is well-formed */
    f = json_deep_copy(good);
    json_object_set_new(f, "ct", b64_json(big, HANSE_CONFIDENTIAL_CT_MAX));
    assert_string_equal(check_code(f), "ok");
    assert_string_equal(open_code(f, AD, 0xb1), "confidential.tampered");
    json_decref(f);
    free(big);
  }

  /* recipients */
  MUTATE("recipients empty", json_object_set_new(f, "recipients", json_array()));
  MUTATE("recipients an object", json_object_set_new(f, "recipients", json_object()));
  MUTATE("65 recipients", {
    json_t *list = json_object_get(f, "recipients");
    json_t *e = json_deep_copy(json_array_get(list, 0));
    hanse_pubkey key;
    memset(key.b, 0, sizeof key.b);
    char hex[HANSE_HASH_HEX_BYTES];
    json_array_clear(list);
    for (int i = 0; i < HANSE_CONFIDENTIAL_RECIPIENTS_MAX + 1; i++) {
      key.b[0] = (uint8_t)i; /* distinct keys, so only the count is wrong */
      json_t *c = json_deep_copy(e);
      json_object_set_new(c, "key", json_string(fx_hex(hex, &key)));
      json_array_append_new(list, c);
    }
    json_decref(e);
  });
  MUTATE("entry not an object", json_array_append_new(json_object_get(f, "recipients"),
                                                      json_string("x")));
  MUTATE("entry null", json_array_set_new(json_object_get(f, "recipients"), 1, json_null()));
  MUTATE("entry extra member", json_object_set_new(entry(f, 0), "role", json_string("cfo")));
  MUTATE("entry without key", json_object_del(entry(f, 0), "key"));
  MUTATE("entry without sealed", json_object_del(entry(f, 1), "sealed"));
  MUTATE("entry key renamed", (json_object_set(entry(f, 0), "pub", json_object_get(entry(f, 0), "key")),
                               json_object_del(entry(f, 0), "key")));
  MUTATE("key a number", json_object_set_new(entry(f, 0), "key", json_integer(1)));
  MUTATE("key short", set_char(entry(f, 0), "key", 63, 0));
  MUTATE("key long", append_str(entry(f, 0), "key", "00"));
  MUTATE("key not hex", set_char(entry(f, 0), "key", 10, 'g'));
  MUTATE("key with NUL", {
    char k[65];
    snprintf(k, sizeof k, "%s", json_string_value(json_object_get(entry(f, 0), "key")));
    k[10] = 0;
    json_object_set_new(entry(f, 0), "key", json_stringn(k, 64));
  });
  MUTATE("key in base64", json_object_set_new(entry(f, 0), "key", b64_json(bytes, 32)));
  MUTATE("duplicate key", json_object_set(entry(f, 1), "key",
                                          json_object_get(entry(f, 0), "key")));
  MUTATE("duplicate key, other case", {
    char k[65];
    snprintf(k, sizeof k, "%s", json_string_value(json_object_get(entry(f, 0), "key")));
    for (int i = 0; i < 64; i++)
      if (k[i] >= 'a' && k[i] <= 'f') k[i] = (char)(k[i] - 'a' + 'A');
    json_object_set_new(entry(f, 1), "key", json_string(k));
  });
  MUTATE("duplicate entry", json_array_append(json_object_get(f, "recipients"), entry(f, 0)));
  MUTATE("sealed 79 bytes", json_object_set_new(entry(f, 0), "sealed", b64_json(bytes, 79)));
  MUTATE("sealed 81 bytes", json_object_set_new(entry(f, 0), "sealed", b64_json(bytes, 81)));
  MUTATE("sealed 32 bytes", json_object_set_new(entry(f, 0), "sealed", b64_json(bytes, 32)));
  MUTATE("sealed bad char", set_char(entry(f, 0), "sealed", 0, '.'));
  MUTATE("sealed non-canonical", noncanonical(entry(f, 0), "sealed"));
  MUTATE("sealed a number", json_object_set_new(entry(f, 0), "sealed", json_integer(0)));
#undef MUTATE

  /* uppercase hex is read (one key, one spelling per byte string) */
  f = json_deep_copy(good);
  {
    char k[65];
    snprintf(k, sizeof k, "%s", json_string_value(json_object_get(entry(f, 0), "key")));
    for (int i = 0; i < 64; i++)
      if (k[i] >= 'a' && k[i] <= 'f') k[i] = (char)(k[i] - 'a' + 'A');
    json_object_set_new(entry(f, 0), "key", json_string(k));
  }
  assert_string_equal(check_code(f), "ok");
  assert_string_equal(open_code(f, AD, 0xb1), "ok");
  json_decref(f);
  /* member order does not matter */
  f = json_pack("{s:O,s:O,s:O,s:O}", "recipients", json_object_get(good, "recipients"),
                "ct", json_object_get(good, "ct"), "nonce", json_object_get(good, "nonce"),
                "enc", json_object_get(good, "enc"));
  assert_non_null(f);
  assert_string_equal(check_code(f), "ok");
  assert_string_equal(open_code(f, AD, 0xb2), "ok");
  json_decref(f);
  /* NULL rej is fine */
  assert_int_equal(hanse_confidential_check(json_null(), NULL), HANSE_ERR(INVALID));

  json_decref(good);
  json_decref(value);
}

/* ---- grants: a key re-sealed outside the field ----------------------- */

static void test_reseal_and_open_sealed(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x81, 0x82};
  json_t *field = seal_to(value, AD, tags, 2);
  char *before = json_dumps(field, JSON_COMPACT);
  hanse_keypair a, c, d, x;
  fx_key(&a, 0x82);
  fx_key(&c, 0x83);
  fx_key(&d, 0x84);
  fx_key(&x, 0x85);
  hanse_reject rej;

  /* a listed recipient re-seals for c; the field is not changed */
  json_t *for_c = NULL;
  assert_int_equal(hanse_confidential_reseal(field, AD, &a, NULL, &c.pub, &for_c, &rej), HANSE_OK);
  assert_int_equal(hanse_confidential_sealed_check(for_c, NULL), HANSE_OK);
  char *after = json_dumps(field, JSON_COMPACT);
  assert_string_equal(before, after);
  free(after);
  /* c opens with the grant, not through the list */
  assert_string_equal(open_code(field, AD, 0x83), "confidential.not_recipient");
  json_t *back = NULL;
  assert_int_equal(hanse_confidential_open_sealed(field, AD, &c, for_c, &back, &rej), HANSE_OK);
  assert_true(json_equal(back, value));
  json_decref(back);
  /* c grants d on with its grant; d opens */
  json_t *for_d = NULL;
  assert_int_equal(hanse_confidential_reseal(field, AD, &c, for_c, &d.pub, &for_d, &rej), HANSE_OK);
  assert_int_equal(hanse_confidential_open_sealed(field, AD, &d, for_d, &back, &rej), HANSE_OK);
  json_decref(back);

  /* refusals */
  json_t *none = NULL;
  /* not listed, no grant */
  assert_int_equal(hanse_confidential_reseal(field, AD, &c, NULL, &d.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.not_recipient");
  assert_int_equal(rej.status, 403);
  /* a grant that is someone else's */
  assert_int_equal(hanse_confidential_open_sealed(field, AD, &x, for_c, &back, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_key");
  assert_int_equal(hanse_confidential_reseal(field, AD, &x, for_c, &d.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.bad_key");
  /* the new key is already listed */
  assert_int_equal(hanse_confidential_reseal(field, AD, &a, NULL, &a.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.duplicate_recipient");
  /* other associated data: nothing is re-sealed, and a grant does not open */
  assert_int_equal(hanse_confidential_reseal(field, "other", &a, NULL, &c.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.tampered");
  assert_int_equal(hanse_confidential_open_sealed(field, "other", &c, for_c, &back, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.tampered");
  /* a key of another field, sealed to c: accepted by shape, does not open */
  json_t *other = seal_to(value, AD, tags, 2);
  json_t *wrong = NULL;
  assert_int_equal(hanse_confidential_reseal(other, AD, &a, NULL, &c.pub, &wrong, &rej), HANSE_OK);
  assert_int_equal(hanse_confidential_sealed_check(wrong, NULL), HANSE_OK);
  assert_int_equal(hanse_confidential_open_sealed(field, AD, &c, wrong, &back, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.tampered");
  /* and c, holding a wrong key, cannot pass it on */
  assert_int_equal(hanse_confidential_reseal(field, AD, &c, wrong, &d.pub, &none, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.tampered");
  json_decref(wrong);
  json_decref(other);
  /* a grant that is not 80 bytes of base64 */
  json_t *junk = json_string("AAAA");
  assert_int_equal(hanse_confidential_open_sealed(field, AD, &c, junk, &back, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.malformed");
  assert_int_equal(hanse_confidential_sealed_check(junk, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.malformed");
  json_decref(junk);
  junk = json_integer(5);
  assert_int_equal(hanse_confidential_sealed_check(junk, &rej), HANSE_ERR(INVALID));
  assert_int_equal(hanse_confidential_sealed_check(NULL, &rej), HANSE_ERR(INVALID));
  json_decref(junk);
  assert_null(none);

  free(before);
  json_decref(for_c);
  json_decref(for_d);
  hanse_keypair_wipe(&a);
  hanse_keypair_wipe(&c);
  hanse_keypair_wipe(&d);
  hanse_keypair_wipe(&x);
  json_decref(field);
  json_decref(value);
}

/* ---- fields inside values and paths ----------------------------------- */

static void test_check_tree_and_paths(void **state) {
  (void)state;
  json_t *value = sample_value();
  const uint8_t tags[] = {0x81};
  json_t *field = seal_to(value, AD, tags, 1);
  char *ft = json_dumps(field, JSON_COMPACT);
  size_t field_len = strlen(ft);
  free(ft);
  hanse_reject rej;

  assert_true(hanse_confidential_is_field(field));
  json_t *plain = json_pack("{s:s}", "enc", "utf-8");
  assert_true(hanse_confidential_is_field(plain));
  json_t *arr = json_pack("[s]", "enc");
  assert_false(hanse_confidential_is_field(arr));
  assert_false(hanse_confidential_is_field(NULL));
  json_decref(arr);

  /* fields in objects and arrays are found and measured */
  json_t *tree = json_pack("{s:O, s:{s:[i, O]}, s:s}", "a", field, "b", "c", 1, field, "d", "x");
  size_t sealed = 0;
  assert_int_equal(hanse_confidential_check_tree(tree, &sealed, &rej), HANSE_OK);
  assert_int_equal(sealed, 2 * field_len);
  assert_int_equal(hanse_confidential_check_tree(tree, NULL, &rej), HANSE_OK);
  json_t *none = json_pack("{s:[i,{s:s}]}", "x", 1, "y", "z");
  sealed = 7;
  assert_int_equal(hanse_confidential_check_tree(none, &sealed, &rej), HANSE_OK);
  assert_int_equal(sealed, 0);
  json_decref(none);
  /* one bad field anywhere: malformed, named by its path */
  json_array_append_new(json_object_get(json_object_get(tree, "b"), "c"), plain);
  assert_int_equal(hanse_confidential_check_tree(tree, &sealed, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "confidential.malformed");
  assert_non_null(strstr(rej.message, "b.c.2"));
  json_decref(tree);

  /* paths */
  const char *good[] = {"meta.price", "a", "lines.0.net", "A-b_9.x", NULL};
  for (int i = 0; good[i]; i++) assert_true(hanse_confidential_path_valid(good[i]));
  const char *bad[] = {"", ".a", "a.", "a..b", "a/b", "a b", "a.\xc3\xa9", "a*", NULL};
  for (int i = 0; bad[i]; i++) assert_false(hanse_confidential_path_valid(bad[i]));
  assert_false(hanse_confidential_path_valid(NULL));
  char longp[HANSE_CONFIDENTIAL_PATH_MAX + 2];
  memset(longp, 'p', sizeof longp - 1);
  longp[sizeof longp - 1] = 0;
  assert_false(hanse_confidential_path_valid(longp));
  longp[HANSE_CONFIDENTIAL_PATH_MAX] = 0;
  assert_true(hanse_confidential_path_valid(longp));

  json_decref(field);
  json_decref(value);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_one),
      cmocka_unit_test(test_round_trip_several),
      cmocka_unit_test(test_round_trip_values),
      cmocka_unit_test(test_format_by_hand),
      cmocka_unit_test(test_not_recipient),
      cmocka_unit_test(test_tamper_nonce_ct_ad),
      cmocka_unit_test(test_tamper_sealed),
      cmocka_unit_test(test_add_recipient),
      cmocka_unit_test(test_seal_refusals),
      cmocka_unit_test(test_check_rejects_malformed),
      cmocka_unit_test(test_reseal_and_open_sealed),
      cmocka_unit_test(test_check_tree_and_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
