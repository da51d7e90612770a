/*
 * test_hash.c -- SHA-256 and the fixed-size hash helpers.
 *
 * Known answers are the three examples of FIPS 180-2 Appendix B (one
 * block, two blocks, one million 'a'), plus the empty message; streaming
 * in pieces of every size must give the one-shot digest. Hex parsing of
 * hashes is strict (64 hex characters exactly).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/hash.h"

static const struct {
  const char *msg;
  size_t repeat; /* msg repeated this many times */
  const char *digest;
} kat[] = {
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

static void test_sha256_known_answers(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
    size_t ml = strlen(kat[i].msg);
    size_t n = ml * kat[i].repeat;
    uint8_t *m = malloc(n ? n : 1);
    assert_non_null(m);
    for (size_t r = 0; r < kat[i].repeat; r++) memcpy(m + r * ml, kat[i].msg, ml);
    hanse_hash h, want;
    hanse_sha256(&h, m, n);
    assert_int_equal(hanse_hash_parse(&want, kat[i].digest), HANSE_OK);
    assert_true(hanse_hash_eq(&h, &want));
    char hex[HANSE_HASH_HEX_BYTES];
    assert_string_equal(hanse_hash_hex(hex, &h), kat[i].digest);
    free(m);
  }
}

static void test_streaming_equals_one_shot(void **state) {
  (void)state;
  uint8_t msg[300];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 31 + 7);
  hanse_hash one;
  hanse_sha256(&one, msg, sizeof msg);
  for (size_t chunk = 1; chunk <= 130; chunk++) {
    hanse_sha256_state s;
    hanse_sha256_init(&s);
    for (size_t off = 0; off < sizeof msg; off += chunk) {
      size_t n = sizeof msg - off < chunk ? sizeof msg - off : chunk;
      hanse_sha256_update(&s, msg + off, n);
    }
    hanse_hash h;
    hanse_sha256_final(&s, &h);
    assert_true(hanse_hash_eq(&h, &one));
  }
  /* one different byte gives a different digest */
  msg[150] ^= 1;
  hanse_hash other;
  hanse_sha256(&other, msg, sizeof msg);
  assert_false(hanse_hash_eq(&other, &one));
}

static void test_hex_parse_and_helpers(void **state) {
  (void)state;
  hanse_hash h;
  const char *lower = "00ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e";
  assert_int_equal(hanse_hash_parse(&h, lower), HANSE_OK);
  assert_int_equal(h.b[0], 0x00);
  assert_int_equal(h.b[1], 0xff);
  assert_int_equal(h.b[31], 0x1e);
  char hex[HANSE_HASH_HEX_BYTES];
  assert_string_equal(hanse_hash_hex(hex, &h), lower);
  /* upper case parses to the same hash; output is always lower case */
  hanse_hash u;
  assert_int_equal(hanse_hash_parse(&u, "00FF0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E"),
                   HANSE_OK);
  assert_true(hanse_hash_eq(&u, &h));
  const char *bad[] = {
      "00ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1",    /* 63 */
      "00ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e0",  /* 65 */
      "g0ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",   /* not hex */
      "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(hanse_hash_parse(&u, bad[i]), HANSE_ERR(DECODE_BAD_FIELD));
  assert_int_equal(hanse_hash_parse(&u, NULL), HANSE_ERR(DECODE_BAD_FIELD));

  hanse_hash z;
  memset(&z, 0, sizeof z);
  assert_true(hanse_hash_is_zero(&z));
  assert_false(hanse_hash_is_zero(&h));
  z.b[31] = 1;
  assert_false(hanse_hash_is_zero(&z));
  assert_false(hanse_hash_eq(&z, &h));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha256_known_answers),
      cmocka_unit_test(test_streaming_equals_one_shot),
      cmocka_unit_test(test_hex_parse_and_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
