/*
 * test_pool.c -- every index runs exactly once, from many submitters at
 * once, and the pool shuts down cleanly.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/pool.h"

typedef struct job {
  atomic_int *hits;
  size_t n;
} job;

static void touch(void *ctx, size_t i) {
  job *j = ctx;
  atomic_fetch_add(&j->hits[i], 1);
}

static void test_each_index_once(void **state) {
  (void)state;
  hanse_pool *p = hanse_pool_create(3);
  assert_non_null(p);
  assert_int_equal(hanse_pool_threads(p), 3);
  size_t sizes[] = {0, 1, 15, 16, 17, 1000, 12345};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    job j = {calloc(sizes[s] + 1, sizeof(atomic_int)), sizes[s]};
    hanse_pool_run(p, j.n, touch, &j);
    for (size_t i = 0; i < j.n; i++) assert_int_equal(atomic_load(&j.hits[i]), 1);
    free(j.hits);
  }
  hanse_pool_destroy(p);
}

static hanse_pool *shared;

static void *submitter(void *arg) {
  (void)arg;
  for (int r = 0; r < 50; r++) {
    job j = {calloc(500, sizeof(atomic_int)), 500};
    hanse_pool_run(shared, j.n, touch, &j);
    for (size_t i = 0; i < j.n; i++)
      if (atomic_load(&j.hits[i]) != 1) abort();
    free(j.hits);
  }
  return NULL;
}

static void test_concurrent_submitters(void **state) {
  (void)state;
  shared = hanse_pool_create(2);
  pthread_t t[6];
  for (int i = 0; i < 6; i++) pthread_create(&t[i], NULL, submitter, NULL);
  for (int i = 0; i < 6; i++) pthread_join(t[i], NULL);
  hanse_pool_destroy(shared);
}

static void test_null_pool_runs_inline(void **state) {
  (void)state;
  job j = {calloc(100, sizeof(atomic_int)), 100};
  hanse_pool_run(NULL, j.n, touch, &j);
  for (size_t i = 0; i < j.n; i++) assert_int_equal(atomic_load(&j.hits[i]), 1);
  free(j.hits);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_index_once),
      cmocka_unit_test(test_concurrent_submitters),
      cmocka_unit_test(test_null_pool_runs_inline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
