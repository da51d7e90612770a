/*
 * test_hex.c -- lowercase encoding and strict decoding.
 *
 * One value has one spelling on output (lowercase); input accepts either
 * case but nothing else: no odd lengths, separators, prefixes, embedded
 * NULs or trailing characters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"

static void test_encode_lowercase(void **state) {
  (void)state;
  const uint8_t in[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x10};
  char out[2 * sizeof in + 1];
  memset(out, 'Z', sizeof out);
  assert_ptr_equal(hanse_hex_encode(out, in, sizeof in), out);
  assert_string_equal(out, "0001abcdefff10");
  char empty[1] = {'Z'};
  hanse_hex_encode(empty, in, 0);
  assert_string_equal(empty, "");
}

static void test_decode_exact(void **state) {
  (void)state;
  uint8_t out[4];
  assert_int_equal(hanse_hex_decode_exact(out, 4, "deadBEEF"), HANSE_OK);
  const uint8_t want[] = {0xde, 0xad, 0xbe, 0xef};
  assert_memory_equal(out, want, 4);

  const char *bad[] = {
      "deadbee",    /* too short */
      "deadbeef00", /* too long */
      "deadbeeg",   /* not hex */
      "dead beef",  /* separator */
      "0xdeadbe",   /* prefix */
      " deadbeef",  /* leading space */
      "deadbeef ",  /* trailing space */
      "de:ad:be:ef",
      "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(hanse_hex_decode_exact(out, 4, bad[i]), HANSE_ERR(DECODE_BAD_FIELD));
  assert_int_equal(hanse_hex_decode_exact(out, 4, NULL), HANSE_ERR(DECODE_BAD_FIELD));
  assert_int_equal(hanse_hex_decode_exact(out, 0, ""), HANSE_OK);
}

static void test_decode_alloc_roundtrip_all_bytes(void **state) {
  (void)state;
  uint8_t all[256];
  for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
  char hex[513];
  hanse_hex_encode(hex, all, 256);
  uint8_t *out = NULL;
  size_t n = 0;
  assert_int_equal(hanse_hex_decode_alloc(hex, 512, &out, &n), HANSE_OK);
  assert_int_equal(n, 256);
  assert_memory_equal(out, all, 256);
  free(out);
  /* Only `len` characters are read: a longer string is cut. */
  assert_int_equal(hanse_hex_decode_alloc(hex, 4, &out, &n), HANSE_OK);
  assert_int_equal(n, 2);
  assert_int_equal(out[0], 0x00);
  assert_int_equal(out[1], 0x01);
  free(out);
}

static void test_decode_alloc_empty(void **state) {
  (void)state;
  uint8_t *out = (uint8_t *)"sentinel";
  size_t n = 99;
  assert_int_equal(hanse_hex_decode_alloc("", 0, &out, &n), HANSE_OK);
  assert_int_equal(n, 0);
  assert_non_null(out);
  free(out);
}

static void test_decode_alloc_rejects(void **state) {
  (void)state;
  struct {
    const char *s;
    size_t n;
  } bad[] = {
      {"abc", 3},        /* odd */
      {"zz", 2},         /* not hex */
      {"a\0", 2},        /* embedded NUL */
      {"\0\0", 2},
      {"ab cd", 5},
      {"abcd\n", 5},
      {"0x", 2},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t *out = (uint8_t *)"x";
    size_t n = 7;
    assert_int_equal(hanse_hex_decode_alloc(bad[i].s, bad[i].n, &out, &n),
                     HANSE_ERR(DECODE_BAD_FIELD));
    assert_null(out);
    assert_int_equal(n, 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encode_lowercase),
      cmocka_unit_test(test_decode_exact),
      cmocka_unit_test(test_decode_alloc_roundtrip_all_bytes),
      cmocka_unit_test(test_decode_alloc_empty),
      cmocka_unit_test(test_decode_alloc_rejects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
