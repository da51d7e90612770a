/*
 * test_hmap.c -- the open-addressing map from byte strings to pointers.
 *
 * Checked: keys are copied and compared by length and bytes; replace
 * returns the old value; delete leaves a tombstone that lookups probe past
 * and inserts reuse; growth keeps every entry; iteration visits each live
 * entry exactly once; churn (insert/delete cycles) never fills the table
 * with tombstones.
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
#include "base/hmap.h"

static int vals[20000]; /* values are pointers into this array */

static void test_put_get_replace_del(void **state) {
  (void)state;
  hanse_hmap m;
  assert_int_equal(hanse_hmap_init(&m, 4), HANSE_OK);
  assert_null(hanse_hmap_get(&m, "a", 1));
  void *old = &vals[0];
  assert_int_equal(hanse_hmap_put(&m, "a", 1, &vals[1], &old), HANSE_OK);
  assert_null(old);
  assert_ptr_equal(hanse_hmap_get(&m, "a", 1), &vals[1]);
  assert_int_equal(m.count, 1);
  assert_int_equal(hanse_hmap_put(&m, "a", 1, &vals[2], &old), HANSE_OK);
  assert_ptr_equal(old, &vals[1]);
  assert_ptr_equal(hanse_hmap_get(&m, "a", 1), &vals[2]);
  assert_int_equal(m.count, 1);
  assert_ptr_equal(hanse_hmap_del(&m, "a", 1), &vals[2]);
  assert_null(hanse_hmap_get(&m, "a", 1));
  assert_null(hanse_hmap_del(&m, "a", 1));
  assert_int_equal(m.count, 0);
  hanse_hmap_free(&m);
}

static void test_keys_are_bytes_with_length(void **state) {
  (void)state;
  hanse_hmap m;
  assert_int_equal(hanse_hmap_init(&m, 0), HANSE_OK);
  /* prefixes, embedded NULs and the empty key are all distinct keys */
  assert_int_equal(hanse_hmap_put(&m, "ab", 2, &vals[1], NULL), HANSE_OK);
  assert_int_equal(hanse_hmap_put(&m, "abc", 3, &vals[2], NULL), HANSE_OK);
  assert_int_equal(hanse_hmap_put(&m, "ab\0", 3, &vals[3], NULL), HANSE_OK);
  assert_int_equal(hanse_hmap_put(&m, "", 0, &vals[4], NULL), HANSE_OK);
  assert_int_equal(m.count, 4);
  assert_ptr_equal(hanse_hmap_get(&m, "ab", 2), &vals[1]);
  assert_ptr_equal(hanse_hmap_get(&m, "abc", 3), &vals[2]);
  assert_ptr_equal(hanse_hmap_get(&m, "ab\0", 3), &vals[3]);
  assert_ptr_equal(hanse_hmap_get(&m, "", 0), &vals[4]);
  assert_null(hanse_hmap_get(&m, "a", 1));
  /* the map owns a copy: changing the caller's buffer changes nothing */
  char key[8] = "mutable";
  assert_int_equal(hanse_hmap_put(&m, key, 7, &vals[5], NULL), HANSE_OK);
  memcpy(key, "changed", 7);
  assert_ptr_equal(hanse_hmap_get(&m, "mutable", 7), &vals[5]);
  assert_null(hanse_hmap_get(&m, key, 7));
  hanse_hmap_free(&m);
}

static void test_growth_and_iteration(void **state) {
  (void)state;
  hanse_hmap m;
  assert_int_equal(hanse_hmap_init(&m, 1), HANSE_OK);
  size_t cap0 = m.cap;
  const int n = 20000;
  char key[32];
  for (int i = 0; i < n; i++) {
    int kl = snprintf(key, sizeof key, "key-%d", i);
    assert_int_equal(hanse_hmap_put(&m, key, (size_t)kl, &vals[i], NULL), HANSE_OK);
  }
  assert_int_equal(m.count, (size_t)n);
  assert_true(m.cap > cap0);
  assert_true(m.used * 4 < m.cap * 3); /* load stays below 3/4 */
  for (int i = 0; i < n; i++) {
    int kl = snprintf(key, sizeof key, "key-%d", i);
    assert_ptr_equal(hanse_hmap_get(&m, key, (size_t)kl), &vals[i]);
  }
  /* iteration: every live entry once, with its own key */
  char *seen = calloc((size_t)n, 1);
  assert_non_null(seen);
  size_t pos = 0, visits = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  while (hanse_hmap_next(&m, &pos, &k, &kl, &v)) {
    int i = (int)((int *)v - vals);
    assert_true(i >= 0 && i < n);
    assert_int_equal(seen[i], 0);
    seen[i] = 1;
    int el = snprintf(key, sizeof key, "key-%d", i);
    assert_int_equal(kl, (size_t)el);
    assert_memory_equal(k, key, kl);
    visits++;
  }
  assert_int_equal(visits, (size_t)n);
  free(seen);
  hanse_hmap_clear(&m);
  assert_int_equal(m.count, 0);
  pos = 0;
  assert_int_equal(hanse_hmap_next(&m, &pos, NULL, NULL, NULL), 0);
  assert_null(hanse_hmap_get(&m, "key-1", 5));
  hanse_hmap_free(&m);
}

static void test_tombstones_probe_and_churn(void **state) {
  (void)state;
  hanse_hmap m;
  assert_int_equal(hanse_hmap_init(&m, 8), HANSE_OK);
  char key[32];
  /* delete every other key: lookups must still find the survivors, which
   * may sit behind tombstones on their probe path */
  for (int i = 0; i < 200; i++) {
    int kl = snprintf(key, sizeof key, "k%d", i);
    assert_int_equal(hanse_hmap_put(&m, key, (size_t)kl, &vals[i], NULL), HANSE_OK);
  }
  for (int i = 0; i < 200; i += 2) {
    int kl = snprintf(key, sizeof key, "k%d", i);
    assert_ptr_equal(hanse_hmap_del(&m, key, (size_t)kl), &vals[i]);
  }
  assert_int_equal(m.count, 100);
  for (int i = 0; i < 200; i++) {
    int kl = snprintf(key, sizeof key, "k%d", i);
    void *v = hanse_hmap_get(&m, key, (size_t)kl);
    if (i % 2) assert_ptr_equal(v, &vals[i]);
    else assert_null(v);
  }
  /* churn: many insert/delete cycles with fresh keys terminate and keep
   * the table usable (tombstones are reclaimed by growth) */
  for (int round = 0; round < 50000; round++) {
    int kl = snprintf(key, sizeof key, "churn-%d", round);
    assert_int_equal(hanse_hmap_put(&m, key, (size_t)kl, &vals[0], NULL), HANSE_OK);
    assert_ptr_equal(hanse_hmap_del(&m, key, (size_t)kl), &vals[0]);
    assert_true(m.used < m.cap);
  }
  assert_int_equal(m.count, 100);
  for (int i = 1; i < 200; i += 2) {
    int kl = snprintf(key, sizeof key, "k%d", i);
    assert_ptr_equal(hanse_hmap_get(&m, key, (size_t)kl), &vals[i]);
  }
  hanse_hmap_free(&m);
}

static void test_two_maps_hash_differently(void **state) {
  (void)state;
  /* Per-map random SipHash keys: two maps get different keys (2^-128
   * chance of a false failure). */
  hanse_hmap a, b;
  assert_int_equal(hanse_hmap_init(&a, 1), HANSE_OK);
  assert_int_equal(hanse_hmap_init(&b, 1), HANSE_OK);
  assert_memory_not_equal(a.sipkey, b.sipkey, sizeof a.sipkey);
  hanse_hmap_free(&a);
  hanse_hmap_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_get_replace_del),
      cmocka_unit_test(test_keys_are_bytes_with_length),
      cmocka_unit_test(test_growth_and_iteration),
      cmocka_unit_test(test_tombstones_probe_and_churn),
      cmocka_unit_test(test_two_maps_hash_differently),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
