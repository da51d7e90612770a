/*
 * test_err.c -- the error table and the rejection record.
 *
 * Codes are public API: every enum entry must have a distinct, non-empty
 * code, an HTTP status and a message; an unknown return code maps to
 * "internal.error" rather than reading outside the table. Rejection
 * messages gain context by prefixing and must stay NUL-terminated within
 * their fixed buffers however long the parts are.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/err.h"

static void test_table_is_complete_and_unique(void **state) {
  (void)state;
  for (int i = 0; i < HANSE_E_COUNT; i++) {
    int rc = -i;
    const char *code = hanse_err_code(rc);
    assert_non_null(code);
    assert_true(strlen(code) > 0);
    assert_true(strlen(code) < HANSE_REJECT_CODE_MAX);
    assert_non_null(hanse_err_message(rc));
    assert_true(strlen(hanse_err_message(rc)) > 0);
    int st = hanse_err_status(rc);
    assert_true(st >= 200 && st <= 599);
    for (int j = 0; j < i; j++) assert_string_not_equal(code, hanse_err_code(-j));
  }
}

static void test_known_entries(void **state) {
  (void)state;
  assert_int_equal(HANSE_OK, 0);
  assert_string_equal(hanse_err_code(HANSE_OK), "ok");
  assert_int_equal(hanse_err_status(HANSE_OK), 200);
  assert_string_equal(hanse_err_code(HANSE_ERR(NOMEM)), "internal.nomem");
  assert_string_equal(hanse_err_code(HANSE_ERR(STORE_FAILED)), "store.failed");
  assert_int_equal(hanse_err_status(HANSE_ERR(STORE_FAILED)), 503);
  assert_string_equal(hanse_err_code(HANSE_ERR(TX_BAD_SIGNATURE)), "tx.bad_signature");
  assert_int_equal(hanse_err_status(HANSE_ERR(TX_BAD_SEQUENCE)), 409);
  assert_string_equal(hanse_err_code(HANSE_ERR(CHAIN_BROKEN)), "chain.broken");
  assert_true(HANSE_ERR(NOMEM) < 0);
}

static void test_out_of_range_is_internal(void **state) {
  (void)state;
  int bad[] = {1, 5, -HANSE_E_COUNT, -HANSE_E_COUNT - 1, -100000, 100000};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_string_equal(hanse_err_code(bad[i]), "internal.error");
    assert_int_equal(hanse_err_status(bad[i]), 500);
  }
}

static void test_reject_set(void **state) {
  (void)state;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  assert_int_equal(rej.rc, HANSE_OK);
  assert_int_equal(rej.status, 200);
  assert_string_equal(rej.code, "ok");
  assert_string_equal(rej.message, "");

  assert_int_equal(hanse_reject_set(&rej, HANSE_ERR(TX_BAD_SIGNATURE), NULL),
                   HANSE_ERR(TX_BAD_SIGNATURE));
  assert_int_equal(rej.rc, HANSE_ERR(TX_BAD_SIGNATURE));
  assert_int_equal(rej.status, 400);
  assert_string_equal(rej.code, "tx.bad_signature");
  assert_string_equal(rej.message, hanse_err_message(HANSE_ERR(TX_BAD_SIGNATURE)));

  hanse_reject_set(&rej, HANSE_ERR(DECODE_TRUNCATED), "tx %d of %s", 7, "batch");
  assert_string_equal(rej.code, "decode.truncated");
  assert_string_equal(rej.message, "tx 7 of batch");

  /* NULL rejection: the code still comes back */
  assert_int_equal(hanse_reject_set(NULL, HANSE_ERR(IO), "x"), HANSE_ERR(IO));
  assert_int_equal(hanse_reject_code(NULL, "m.x", 404, "y"), HANSE_ERR(INVALID));
  hanse_reject_prefix(NULL, "z");
  hanse_reject_clear(NULL);
}

static void test_reject_code_module(void **state) {
  (void)state;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_reject_code(&rej, "asset.unknown", 404, "no asset '%s'", "EUR"),
                   HANSE_ERR(INVALID));
  assert_int_equal(rej.rc, HANSE_ERR(INVALID));
  assert_int_equal(rej.status, 404);
  assert_string_equal(rej.code, "asset.unknown");
  assert_string_equal(rej.message, "no asset 'EUR'");
  /* an over-long module code is cut, not overflowed */
  char longcode[200];
  memset(longcode, 'c', sizeof longcode - 1);
  longcode[sizeof longcode - 1] = 0;
  hanse_reject_code(&rej, longcode, 400, "m");
  assert_int_equal(strlen(rej.code), HANSE_REJECT_CODE_MAX - 1);
}

static void test_reject_prefix(void **state) {
  (void)state;
  hanse_reject rej;
  hanse_reject_set(&rej, HANSE_ERR(TX_BAD_SIGNATURE), "signature does not verify");
  hanse_reject_prefix(&rej, "batch tx %d", 7);
  assert_string_equal(rej.message, "batch tx 7: signature does not verify");
  hanse_reject_prefix(&rej, "entry %u", 2u);
  assert_string_equal(rej.message, "entry 2: batch tx 7: signature does not verify");
  /* the code is untouched by prefixing */
  assert_string_equal(rej.code, "tx.bad_signature");

  /* long prefixes and long messages stay inside the buffer */
  char big[600];
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = 0;
  hanse_reject_set(&rej, HANSE_ERR(INVALID), "%s", big);
  assert_int_equal(strlen(rej.message), HANSE_REJECT_MSG_MAX - 1);
  for (int i = 0; i < 5; i++) {
    hanse_reject_prefix(&rej, "%s", big);
    assert_true(strlen(rej.message) < HANSE_REJECT_MSG_MAX);
  }
  hanse_reject_set(&rej, HANSE_ERR(INVALID), "tail");
  hanse_reject_prefix(&rej, "%s", big);
  size_t n = strlen(rej.message);
  assert_true(n < HANSE_REJECT_MSG_MAX);
  assert_memory_equal(rej.message, "mmmm", 4);
  assert_non_null(strstr(rej.message, ": "));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_is_complete_and_unique),
      cmocka_unit_test(test_known_entries),
      cmocka_unit_test(test_out_of_range_is_internal),
      cmocka_unit_test(test_reject_set),
      cmocka_unit_test(test_reject_code_module),
      cmocka_unit_test(test_reject_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
