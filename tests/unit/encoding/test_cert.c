/*
 * test_cert.c -- commit certificates (encoding/cert.h): the signed bytes
 * (a known layout), sign and verify, and hanse_cert_check's quorum rule
 * over a validator set: distinct signers counted once, a foreign signer,
 * a forged signature, a signature of another block, height or chain, and
 * a short certificate each refused with their code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "encoding/cert.h"
#include "fixture.h"

static void test_quorum(void **state) {
  (void)state;
  assert_int_equal(hanse_cert_quorum(1), 1);
  assert_int_equal(hanse_cert_quorum(2), 2);
  assert_int_equal(hanse_cert_quorum(3), 2);
  assert_int_equal(hanse_cert_quorum(4), 3);
  assert_int_equal(hanse_cert_quorum(5), 3);
  assert_int_equal(hanse_cert_quorum(64), 33);
}

static void test_message_layout(void **state) {
  (void)state;
  hanse_hash h;
  for (int i = 0; i < HANSE_HASH_BYTES; i++) h.b[i] = (uint8_t)i;
  uint8_t m[HANSE_CERT_MSG_MAX];
  size_t n = hanse_cert_message(m, "demo", 0x0102030405060708ull, &h);
  assert_int_equal(n, 13 + 1 + 4 + 8 + 32);
  assert_memory_equal(m, "hanse.cert.v1", 13);
  assert_int_equal(m[13], 4);
  assert_memory_equal(m + 14, "demo", 4);
  static const uint8_t height[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  assert_memory_equal(m + 18, height, 8);
  assert_memory_equal(m + 26, h.b, 32);
}

static void test_sign_verify(void **state) {
  (void)state;
  hanse_keypair k;
  fx_key(&k, 1);
  hanse_hash h, other;
  memset(h.b, 0xab, sizeof h.b);
  memset(other.b, 0xac, sizeof other.b);
  hanse_sig s;
  hanse_cert_sign(&k, "demo", 7, &h, &s);
  assert_true(hanse_cert_sig_verify(&k.pub, "demo", 7, &h, &s));
  assert_false(hanse_cert_sig_verify(&k.pub, "demo", 8, &h, &s));     /* height */
  assert_false(hanse_cert_sig_verify(&k.pub, "demo", 7, &other, &s)); /* block */
  assert_false(hanse_cert_sig_verify(&k.pub, "demo2", 7, &h, &s));    /* chain */
  assert_false(hanse_cert_sig_verify(&k.pub, "", 7, &h, &s));         /* no chain */
  /* Not a header signature: the domain tag separates them. */
  hanse_sig plain;
  hanse_sign(&plain, h.b, sizeof h.b, &k);
  assert_false(hanse_cert_sig_verify(&k.pub, "demo", 7, &h, &plain));
}

static void test_check(void **state) {
  (void)state;
  hanse_keypair v[3], outsider;
  hanse_pubkey vals[3];
  for (int i = 0; i < 3; i++) {
    fx_key(&v[i], (uint8_t)(10 + i));
    vals[i] = v[i].pub;
  }
  fx_key(&outsider, 99);
  hanse_hash h;
  memset(h.b, 0x5a, sizeof h.b);
  hanse_cert_sig s[4];
  for (int i = 0; i < 3; i++) {
    s[i].signer = v[i].pub;
    hanse_cert_sign(&v[i], "demo", 12, &h, &s[i].sig);
  }
  hanse_reject rej;
  int k = -1;
  /* 3 of 3, 2 of 3: certified (quorum 2). */
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 3, s, 3, &k, &rej), HANSE_OK);
  assert_int_equal(k, 3);
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 3, s + 1, 2, &k, &rej), HANSE_OK);
  assert_int_equal(k, 2);
  /* 1 of 3: short. */
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 3, s, 1, &k, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "cert.short");
  assert_int_equal(k, 1);
  /* The same validator twice counts once. */
  hanse_cert_sig dup[2] = {s[0], s[0]};
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 3, dup, 2, &k, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "cert.short");
  assert_int_equal(k, 1);
  /* No signature at all. */
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 3, NULL, 0, &k, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "cert.short");
  /* A signer outside the set refuses the whole certificate. */
  s[3].signer = outsider.pub;
  hanse_cert_sign(&outsider, "demo", 12, &h, &s[3].sig);
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 3, s, 4, &k, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "cert.not_validator");
  /* A forged signature, even next to a quorum of good ones. */
  hanse_cert_sig forged[3] = {s[0], s[1], s[2]};
  forged[2].sig.b[5] ^= 1;
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 3, forged, 3, &k, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "cert.bad_signature");
  /* Good signatures of another height or block are not this block's. */
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_cert_check("demo", 13, &h, vals, 3, s, 3, &k, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "cert.bad_signature");
  hanse_hash other = h;
  other.b[0] ^= 1;
  assert_int_equal(hanse_cert_check("demo", 12, &other, vals, 3, s, 3, &k, &rej),
                   HANSE_ERR(INVALID));
  /* Single node: 1 of 1. */
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 1, s, 1, &k, &rej), HANSE_OK);
  /* A validator set out of bounds is data, refused. */
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_cert_check("demo", 12, &h, vals, 0, s, 1, &k, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "cert.bad_validators");
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quorum),
      cmocka_unit_test(test_message_layout),
      cmocka_unit_test(test_sign_verify),
      cmocka_unit_test(test_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
