/*
 * test_dl_path.c -- the GS1 Digital Link path check of product links
 * (api/dl_path.c).
 *
 * Good paths: every primary key the check knows, with the qualifiers the
 * standard allows in its order, percent-escapes included. Bad paths, each
 * for one reason: unknown or short-name keys, wrong lengths and check
 * digits, letters in numeric keys, qualifiers of another key, out of
 * order or repeated, 21 with 235, empty segments, a trailing slash,
 * characters that must be escaped, broken escapes, the length bound.
 * Every rejection carries the code the caller named, status 400.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

static int check(const char *path, hanse_reject *rej) {
  hanse_reject_clear(rej);
  return api_dl_path_check(path, strlen(path), "qr.bad_id", rej);
}

static void test_good(void **state) {
  (void)state;
  static const char *const good[] = {
      "01/09521234543213",
      "01/09521234543213/21/12345",
      "01/09521234543213/10/ABC1/21/12345",
      "01/09521234543213/22/2A/10/ABC1/21/12345",
      "01/09521234543213/10/LOT%2F7",            /* an escaped "/" in a lot */
      "01/09521234543213/21/A!'()*+,-.:;=_&x",   /* set 82's sub-delims as they are */
      "01/09521234543213/21/%22quoted%22",
      "01/09521234543213/235/TPX-0001",
      "01/10614141073464/21/2017",
      "00/106141412345678908",
      "414/9521234543213",
      "414/9521234543213/254/32a%2Fb",
      "417/9521234543213",
      "8003/09521234543213ASSET-1",
      "8004/9521234ABC",
      "8006/095212345432130102/10/LOT",
      "8010/9521234%23A-B/8011/123",
      "8017/952123454321000010",
      "8018/952123454321000010/8019/7",
      "253/9521234543213DOC-7",
      "255/9521234543213123",
      "401/9521234ABC",
      "402/95212345432100010",
  };
  hanse_reject rej;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    if (check(good[i], &rej) != HANSE_OK) fail_msg("%s: %s", good[i], rej.message);
}

static void test_bad(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "01",
      "01/",
      "/01/09521234543213",
      "01/09521234543213/",
      "01//09521234543213",
      "gtin/09521234543213",          /* short names: not the canonical form */
      "99/09521234543213",
      "01/09521234543214",            /* check digit */
      "01/9521234543213",             /* 13 digits */
      "01/0952123454321X",
      "01/09521234543213/21",
      "01/09521234543213/21/",
      "01/09521234543213/21/12345/10/ABC",  /* out of order */
      "01/09521234543213/10/A/10/B",         /* repeated */
      "01/09521234543213/21/A/235/B",        /* exclusive */
      "01/09521234543213/254/A",             /* a GLN's qualifier */
      "01/09521234543213/17/261231",         /* a data attribute, not a qualifier */
      "01/09521234543213/21/123456789012345678901", /* 21 characters */
      "01/09521234543213/21/A%2",
      "01/09521234543213/21/A%zz",
      "01/09521234543213/21/A<B",
      "01/09521234543213/21/A\"B",
      "01/09521234543213/21/A B",
      "01/09521234543213/21/A%20B",          /* a space is not in set 82 */
      "01/09521234543213/21/%C3%A9",         /* nor is a non-ASCII byte */
      "00/106141412345678909",
      "414/9521234543213/254/",
      "8010/9521234a/8011/1",                 /* set 39 has no lower case */
      "8018/952123454321000010/8019/X",
      "402/95212345432100016",
      "8003/19521234543213",                  /* 14 digits, a wrong check */
  };
  hanse_reject rej;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (check(bad[i], &rej) == HANSE_OK) fail_msg("accepted: '%s'", bad[i]);
    assert_string_equal(rej.code, "qr.bad_id");
    assert_int_equal(rej.status, 400);
    assert_true(rej.message[0] != 0);
    if (getenv("HANSE_TEST_VERBOSE")) printf("%s -> %s\n", bad[i], rej.message);
  }
  /* the bound, and a length that is not the string's */
  char *long_path = malloc(HANSE_DL_PATH_MAX + 2);
  assert_non_null(long_path);
  memset(long_path, 'A', HANSE_DL_PATH_MAX + 1);
  memcpy(long_path, "8004/9", 6);
  long_path[HANSE_DL_PATH_MAX + 1] = 0;
  assert_int_not_equal(check(long_path, &rej), HANSE_OK);
  free(long_path);
  assert_int_equal(api_dl_path_check("01/09521234543213/qr.png", 17, "x.y", &rej), HANSE_OK);
  assert_int_not_equal(api_dl_path_check("01/09521234543213", 16, "x.y", &rej), HANSE_OK);
  assert_string_equal(rej.code, "x.y");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good),
      cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
