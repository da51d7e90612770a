/*
 * test_waiters.c -- receipts reach the waiting request that registered
 * their ids, also when two requests wait for the same transaction; a wait
 * times out when a receipt never comes; unregistering leaves nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/waiters.h"

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static hanse_hash h(uint8_t b) {
  hanse_hash x;
  memset(x.b, b, sizeof x.b);
  return x;
}

static hanse_waiters ws;

static void *deliver_later(void *arg) {
  (void)arg;
  usleep(20000);
  hanse_receipt r[2];
  memset(r, 0, sizeof r);
  r[0].id = h(1);
  r[0].height = 7;
  strcpy(r[0].code, "ok");
  r[1].id = h(9); /* nobody waits for this one */
  strcpy(r[1].code, "ok");
  hanse_waiters_deliver(&ws, r, 2);
  usleep(20000);
  r[0].id = h(2);
  r[0].height = 8;
  strcpy(r[0].code, "asset.unknown");
  hanse_waiters_deliver(&ws, r, 1);
  return NULL;
}

static void test_delivery(void **state) {
  (void)state;
  assert_int_equal(hanse_waiters_init(&ws), HANSE_OK);
  hanse_hash ids[3] = {h(1), h(2), h(3)};
  int has[3] = {1, 1, 0};
  uint8_t got_a[3] = {0}, got_b[3] = {0};
  hanse_receipt ra[3], rb[3];
  hanse_waiter a = {3, ids, has, got_a, ra, 0};
  hanse_waiter b = {3, ids, has, got_b, rb, 0};
  assert_int_equal(hanse_waiters_register(&ws, &a), HANSE_OK);
  assert_int_equal(hanse_waiters_register(&ws, &b), HANSE_OK);
  pthread_t t;
  pthread_create(&t, NULL, deliver_later, NULL);
  uint8_t want[3] = {1, 1, 0};
  assert_int_equal(hanse_waiters_wait(&ws, &a, want, mono_us() + 5000000), 1);
  assert_int_equal(hanse_waiters_wait(&ws, &b, want, mono_us() + 5000000), 1);
  pthread_join(t, NULL);
  assert_int_equal(ra[0].height, 7);
  assert_string_equal(ra[1].code, "asset.unknown");
  assert_int_equal(rb[1].height, 8);
  assert_int_equal(a.delivered, 2);
  assert_int_equal(got_a[2], 0);
  hanse_waiters_unregister(&ws, &a);
  hanse_waiters_unregister(&ws, &b);
  assert_int_equal(ws.map.count, 0);
  hanse_waiters_destroy(&ws);
}

static void test_timeout(void **state) {
  (void)state;
  assert_int_equal(hanse_waiters_init(&ws), HANSE_OK);
  hanse_hash ids[1] = {h(4)};
  int has[1] = {1};
  uint8_t got[1] = {0}, want[1] = {1};
  hanse_receipt r[1];
  hanse_waiter w = {1, ids, has, got, r, 0};
  assert_int_equal(hanse_waiters_register(&ws, &w), HANSE_OK);
  uint64_t t0 = mono_us();
  assert_int_equal(hanse_waiters_wait(&ws, &w, want, t0 + 50000), 0);
  assert_true(mono_us() - t0 >= 45000);
  hanse_waiters_unregister(&ws, &w);
  assert_int_equal(ws.map.count, 0);
  hanse_waiters_destroy(&ws);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delivery),
      cmocka_unit_test(test_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
