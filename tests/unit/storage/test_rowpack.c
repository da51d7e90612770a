/*
 * test_rowpack.c -- packed index rows: what the writer makes the reader
 * gives back, row for row; every other layout is refused with
 * CHAIN_BROKEN, and the refusal sticks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/err.h"
#include "storage/rowpack.h"

static void test_round_trip(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_rowpack_put(&b, "", 0, "e", 1);
  hanse_rowpack_put(&b, "a/1", 3, "", 0);
  hanse_rowpack_put(&b, "a/2", 3, "\x00\xff", 2);
  assert_int_equal(b.len, 3 * HANSE_ROWPACK_ROW_FIXED_BYTES + 1 + 3 + 3 + 2);
  hanse_rowpack_rd rd;
  hanse_rowpack_rd_init(&rd, b.data, b.len);
  assert_int_equal(hanse_rowpack_next(&rd), HANSE_OK);
  assert_int_equal(rd.klen, 0);
  assert_memory_equal(rd.val, "e", 1);
  assert_int_equal(hanse_rowpack_next(&rd), HANSE_OK);
  assert_memory_equal(rd.key, "a/1", 3);
  assert_int_equal(rd.vlen, 0);
  assert_int_equal(hanse_rowpack_next(&rd), HANSE_OK);
  assert_memory_equal(rd.key, "a/2", 3);
  assert_memory_equal(rd.val, "\x00\xff", 2);
  assert_int_equal(hanse_rowpack_next(&rd), HANSE_ERR(NOT_FOUND));
  assert_int_equal(hanse_rowpack_next(&rd), HANSE_ERR(NOT_FOUND));
  /* no rows: the empty pack */
  hanse_rowpack_rd_init(&rd, NULL, 0);
  assert_int_equal(hanse_rowpack_next(&rd), HANSE_ERR(NOT_FOUND));
  hanse_buf_free(&b);
}

/* Read a pack to its end: the code there (a refusal sticks). */
static int read_all(const hanse_buf *b) {
  hanse_rowpack_rd rd;
  hanse_rowpack_rd_init(&rd, b->data, b->len);
  int rc;
  while ((rc = hanse_rowpack_next(&rd)) == HANSE_OK) {
  }
  if (rc == HANSE_ERR(CHAIN_BROKEN)) assert_int_equal(hanse_rowpack_next(&rd), rc);
  return rc;
}

static void pack_of(hanse_buf *b, const char *const *keys, int n) {
  hanse_buf_reset(b);
  for (int i = 0; i < n; i++) hanse_rowpack_put(b, keys[i], strlen(keys[i]), "v", 1);
}

static void test_refused(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  const char *const good[] = {"a", "ab", "b"};
  pack_of(&b, good, 3);
  assert_int_equal(read_all(&b), HANSE_ERR(NOT_FOUND));
  /* every truncation of a good pack that is not a row boundary */
  size_t whole = b.len;
  for (size_t cut = 1; cut < whole; cut++) {
    b.len = cut;
    int at_row = cut == 10 || cut == 21;
    assert_int_equal(read_all(&b), at_row ? HANSE_ERR(NOT_FOUND) : HANSE_ERR(CHAIN_BROKEN));
  }
  /* keys out of order, repeated, a longer key after its prefix is fine */
  const char *const down[] = {"b", "a"};
  pack_of(&b, down, 2);
  assert_int_equal(read_all(&b), HANSE_ERR(CHAIN_BROKEN));
  const char *const twice[] = {"a", "a"};
  pack_of(&b, twice, 2);
  assert_int_equal(read_all(&b), HANSE_ERR(CHAIN_BROKEN));
  const char *const empty_twice[] = {"", ""};
  pack_of(&b, empty_twice, 2);
  assert_int_equal(read_all(&b), HANSE_ERR(CHAIN_BROKEN));
  /* a key longer than the limit, and lengths past the end */
  hanse_buf_reset(&b);
  hanse_buf_u32(&b, HANSE_ROWPACK_KEY_MAX + 1);
  for (int i = 0; i <= HANSE_ROWPACK_KEY_MAX; i++) hanse_buf_u8(&b, 'k');
  hanse_buf_u32(&b, 0);
  assert_int_equal(read_all(&b), HANSE_ERR(CHAIN_BROKEN));
  hanse_buf_reset(&b);
  hanse_buf_u32(&b, 1);
  hanse_buf_u8(&b, 'k');
  hanse_buf_u32(&b, 0xFFFFFFFFu);
  assert_int_equal(read_all(&b), HANSE_ERR(CHAIN_BROKEN));
  hanse_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
