/*
 * test_buf.c -- the byte writer and the bounds-checked reader.
 *
 * The writer must lay integers out big-endian, grow without losing bytes
 * and turn an impossible size into a sticky NOMEM instead of a wrap or a
 * hang. The reader must never read past its end: every getter on short
 * input fails with DECODE_TRUNCATED and leaves the cursor where it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

/* A reservation of nearly SIZE_MAX bytes must fail cleanly; under ASan the
 * allocator would otherwise abort instead of returning NULL. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static void test_integers_big_endian(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_buf_u8(&b, 0xab);
  hanse_buf_u32(&b, 0x01020304u);
  hanse_buf_u64(&b, 0x1122334455667788ull);
  assert_int_equal(hanse_buf_status(&b), HANSE_OK);
  const uint8_t want[] = {0xab, 0x01, 0x02, 0x03, 0x04, 0x11, 0x22,
                          0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  assert_int_equal(b.len, sizeof want);
  assert_memory_equal(b.data, want, sizeof want);
  /* The inline helpers agree with the writer. */
  assert_int_equal(hanse_get_u32be(b.data + 1), 0x01020304u);
  assert_true(hanse_get_u64be(b.data + 5) == 0x1122334455667788ull);
  uint8_t t[8];
  hanse_put_u64be(t, 0xfedcba9876543210ull);
  assert_int_equal(t[0], 0xfe);
  assert_int_equal(t[7], 0x10);
  hanse_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
}

static void test_growth_keeps_bytes(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  for (uint32_t i = 0; i < 100000; i++) hanse_buf_u8(&b, (uint8_t)(i * 7));
  assert_int_equal(hanse_buf_status(&b), HANSE_OK);
  assert_int_equal(b.len, 100000);
  assert_true(b.cap >= b.len);
  for (uint32_t i = 0; i < 100000; i++) assert_int_equal(b.data[i], (uint8_t)(i * 7));
  /* reset keeps capacity, drops content */
  size_t cap = b.cap;
  hanse_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, cap);
  hanse_buf_put(&b, "xyz", 3);
  assert_memory_equal(b.data, "xyz", 3);
  hanse_buf_free(&b);
}

static void test_reserve_and_empty_put(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_buf_reserve(&b, 1000), HANSE_OK);
  assert_true(b.cap >= 1000);
  assert_int_equal(b.len, 0);
  uint8_t *before = b.data;
  hanse_buf_put(&b, NULL, 0); /* no-op */
  assert_int_equal(b.len, 0);
  for (int i = 0; i < 1000; i++) hanse_buf_u8(&b, 1);
  assert_ptr_equal(b.data, before); /* no reallocation within the reserve */
  hanse_buf_free(&b);
}

static void test_overflow_is_sticky_nomem(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_buf_put(&b, "ab", 2);
  /* len + extra wraps around */
  assert_int_equal(hanse_buf_reserve(&b, SIZE_MAX), HANSE_ERR(NOMEM));
  assert_int_equal(hanse_buf_status(&b), HANSE_ERR(NOMEM));
  /* sticky: later writes are no-ops, the status stays failed */
  hanse_buf_put(&b, "cd", 2);
  hanse_buf_u32(&b, 7);
  assert_int_equal(b.len, 2);
  assert_memory_equal(b.data, "ab", 2);
  assert_int_equal(hanse_buf_reserve(&b, 1), HANSE_ERR(NOMEM));
  hanse_buf_free(&b);
}

static void test_huge_reserve_fails_without_hanging(void **state) {
  (void)state;
  /* More than half the address space: doubling the capacity would wrap
   * to zero; the writer must fail, not loop forever. */
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_buf_u8(&b, 1);
  assert_int_equal(hanse_buf_reserve(&b, SIZE_MAX / 2 + 10), HANSE_ERR(NOMEM));
  assert_int_equal(hanse_buf_status(&b), HANSE_ERR(NOMEM));
  assert_int_equal(b.len, 1);
  hanse_buf_free(&b);
}

static void test_grow(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_buf_put(&b, "ab", 2);
  uint8_t *at = hanse_buf_grow(&b, 3000); /* past the first capacity */
  assert_non_null(at);
  assert_ptr_equal(at, b.data + 2);
  memset(at, 'x', 3000);
  assert_int_equal(b.len, 3002);
  assert_memory_equal(b.data, "ab", 2);
  assert_int_equal(b.data[3001], 'x');
  /* on failure: NULL, nothing appended, the status failed */
  assert_null(hanse_buf_grow(&b, SIZE_MAX));
  assert_int_equal(b.len, 3002);
  assert_int_equal(hanse_buf_status(&b), HANSE_ERR(NOMEM));
  assert_null(hanse_buf_grow(&b, 1));
  hanse_buf_free(&b);
}

static void test_steal(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_buf_put(&b, "hello", 5);
  size_t n = 0;
  uint8_t *d = hanse_buf_steal(&b, &n);
  assert_int_equal(n, 5);
  assert_memory_equal(d, "hello", 5);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  free(d);
  hanse_buf_free(&b); /* safe on a stolen buffer */
}

static void test_reader_reads_in_order(void **state) {
  (void)state;
  const uint8_t in[] = {0x7f, 0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef,
                        0, 0, 0, 1, 'x', 'y', 'z'};
  hanse_rd r;
  hanse_rd_init(&r, in, sizeof in);
  uint8_t u8;
  uint32_t u32;
  uint64_t u64;
  assert_int_equal(hanse_rd_u8(&r, &u8), HANSE_OK);
  assert_int_equal(u8, 0x7f);
  assert_int_equal(hanse_rd_u32(&r, &u32), HANSE_OK);
  assert_int_equal(u32, 256);
  assert_int_equal(hanse_rd_u64(&r, &u64), HANSE_OK);
  assert_true(u64 == 0xdeadbeef00000001ull);
  const uint8_t *v;
  assert_int_equal(hanse_rd_view(&r, &v, 2), HANSE_OK);
  assert_ptr_equal(v, in + 13); /* borrowed, not copied */
  char c;
  assert_int_equal(hanse_rd_bytes(&r, &c, 1), HANSE_OK);
  assert_int_equal(c, 'z');
  assert_int_equal(hanse_rd_left(&r), 0);
  /* zero-length reads at the end are fine */
  assert_int_equal(hanse_rd_view(&r, &v, 0), HANSE_OK);
  assert_int_equal(hanse_rd_u8(&r, &u8), HANSE_ERR(DECODE_TRUNCATED));
}

static void test_reader_truncation_does_not_advance(void **state) {
  (void)state;
  const uint8_t in[7] = {1, 2, 3, 4, 5, 6, 7};
  for (size_t n = 0; n < sizeof in; n++) {
    hanse_rd r;
    hanse_rd_init(&r, in, n);
    uint64_t u64 = 42;
    assert_int_equal(hanse_rd_u64(&r, &u64), HANSE_ERR(DECODE_TRUNCATED));
    assert_true(u64 == 42);
    assert_int_equal(hanse_rd_left(&r), n);
    uint32_t u32 = 9;
    if (n < 4) {
      assert_int_equal(hanse_rd_u32(&r, &u32), HANSE_ERR(DECODE_TRUNCATED));
      assert_int_equal(u32, 9);
      assert_int_equal(hanse_rd_left(&r), n);
    } else {
      assert_int_equal(hanse_rd_u32(&r, &u32), HANSE_OK);
      assert_int_equal(u32, 0x01020304u);
    }
    uint8_t big[16];
    size_t left = hanse_rd_left(&r);
    assert_int_equal(hanse_rd_bytes(&r, big, left + 1), HANSE_ERR(DECODE_TRUNCATED));
    assert_int_equal(hanse_rd_left(&r), left);
  }
  /* A length that would wrap a pointer is still just "truncated". */
  hanse_rd r;
  hanse_rd_init(&r, in, sizeof in);
  const uint8_t *v;
  assert_int_equal(hanse_rd_view(&r, &v, SIZE_MAX), HANSE_ERR(DECODE_TRUNCATED));
  assert_int_equal(hanse_rd_left(&r), sizeof in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_integers_big_endian),
      cmocka_unit_test(test_growth_keeps_bytes),
      cmocka_unit_test(test_reserve_and_empty_put),
      cmocka_unit_test(test_overflow_is_sticky_nomem),
      cmocka_unit_test(test_huge_reserve_fails_without_hanging),
      cmocka_unit_test(test_grow),
      cmocka_unit_test(test_steal),
      cmocka_unit_test(test_reader_reads_in_order),
      cmocka_unit_test(test_reader_truncation_does_not_advance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
