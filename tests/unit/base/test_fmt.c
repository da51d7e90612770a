/*
 * test_fmt.c -- the key and number builders write what snprintf writes:
 * every u64 width and edge, padding below and above the width, and
 * concatenation exact, truncated at every capacity, and empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"

static void check_u64(uint64_t v) {
  char got[48], want[48];
  size_t n = hanse_fmt_u64(got, v);
  got[n] = '\0';
  snprintf(want, sizeof want, "%" PRIu64, v);
  assert_string_equal(got, want);
  for (int w = 0; w <= 20; w += 1) {
    n = hanse_fmt_u64_pad(got, v, w);
    got[n] = '\0';
    snprintf(want, sizeof want, "%0*" PRIu64, w, v);
    assert_string_equal(got, want);
  }
}

static void test_u64(void **state) {
  (void)state;
  uint64_t p = 1;
  check_u64(0);
  check_u64(UINT64_MAX);
  for (int i = 0; i < 20; i++, p *= 10) {
    check_u64(p - 1);
    check_u64(p);
    check_u64(p + 7);
  }
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (int i = 0; i < 1000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    check_u64(x >> (i % 64));
  }
}

static void test_cat(void **state) {
  (void)state;
  char out[32], want[32];
  assert_int_equal(hanse_cat(out, sizeof out, "ledger/acx/", "e1-00042", "/", "0007", NULL), 24);
  assert_string_equal(out, "ledger/acx/e1-00042/0007");
  assert_int_equal(hanse_cat(out, sizeof out, NULL), 0);
  assert_string_equal(out, "");
  assert_int_equal(hanse_cat(out, sizeof out, "", "a", "", NULL), 1);
  assert_string_equal(out, "a");
  /* truncated at every capacity, as snprintf */
  for (size_t cap = 1; cap <= 16; cap++) {
    memset(out, 'Z', sizeof out);
    size_t n = hanse_cat(out, cap, "abc", "defgh", "ij", NULL);
    int wn = snprintf(want, cap, "%s%s%s", "abc", "defgh", "ij");
    assert_int_equal((int)n, wn);
    assert_string_equal(out, want);
    assert_int_equal(out[cap], 'Z'); /* nothing past cap */
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_u64),
      cmocka_unit_test(test_cat),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
