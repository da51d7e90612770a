/*
 * test_pedersen.c -- Pedersen commitments on ristretto255.
 *
 * H is derived as documented (SHA-512 of the domain string, mapped with
 * libsodium's from_hash) and is neither G nor the identity; commitments
 * add like their openings (the property the ledger's balances rest on);
 * a commitment verifies with its own amount and blinding and with no
 * other; zero amounts and zero blindings give the expected points (the
 * identity for both zero); encodings parse only when canonical and
 * valid; scalars outside [0, L) are not canonical.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "crypto/pedersen.h"

static void test_h_derivation(void **state) {
  (void)state;
  uint8_t digest[crypto_hash_sha512_BYTES];
  hanse_point h, want, g, id;
  crypto_hash_sha512(digest, (const uint8_t *)"hanse.pedersen.H.v1", 19);
  assert_int_equal(crypto_core_ristretto255_from_hash(want.b, digest), 0);
  hanse_pedersen_h(&h);
  assert_memory_equal(h.b, want.b, HANSE_POINT_BYTES);
  assert_true(hanse_point_valid(&h));
  hanse_scalar one, zero;
  hanse_scalar_from_u64(&one, 1);
  hanse_scalar_from_u64(&zero, 0);
  hanse_pedersen_commit(&g, &one, &zero); /* G itself */
  assert_memory_not_equal(h.b, g.b, HANSE_POINT_BYTES);
  hanse_point_identity(&id);
  assert_memory_not_equal(h.b, id.b, HANSE_POINT_BYTES);
  hanse_point c;
  hanse_pedersen_commit(&c, &zero, &one); /* 0*G + 1*H = H */
  assert_memory_equal(c.b, h.b, HANSE_POINT_BYTES);
  hanse_pedersen_commit(&c, &zero, &zero);
  assert_true(hanse_point_is_identity(&c));
}

static void test_commitments_add(void **state) {
  (void)state;
  const uint64_t amounts[] = {1, 700, 300, INT64_MAX, 0};
  hanse_scalar r[5], a, rsum, asum;
  hanse_point c[5], sum, whole;
  hanse_point_identity(&sum);
  hanse_scalar_from_u64(&asum, 0);
  hanse_scalar_from_u64(&rsum, 0);
  for (int i = 0; i < 5; i++) {
    hanse_scalar_random(&r[i]);
    assert_true(hanse_scalar_canonical(&r[i]));
    hanse_scalar_from_u64(&a, amounts[i]);
    hanse_pedersen_commit(&c[i], &a, &r[i]);
    assert_true(hanse_pedersen_verify(&c[i], amounts[i], &r[i]));
    assert_false(hanse_pedersen_verify(&c[i], amounts[i] + 1, &r[i]));
    assert_int_equal(hanse_point_add(&sum, &sum, &c[i]), HANSE_OK);
    hanse_scalar_add(&asum, &asum, &a);
    hanse_scalar_add(&rsum, &rsum, &r[i]);
  }
  /* the sum of the commitments opens with the sums of the openings,
   * beyond 2^64 too (INT64_MAX + 1001 > 2^63) */
  hanse_pedersen_commit(&whole, &asum, &rsum);
  assert_memory_equal(sum.b, whole.b, HANSE_POINT_BYTES);
  /* and subtracting one takes exactly it out */
  hanse_point less, rest;
  assert_int_equal(hanse_point_sub(&less, &sum, &c[3]), HANSE_OK);
  hanse_point_identity(&rest);
  for (int i = 0; i < 5; i++)
    if (i != 3) assert_int_equal(hanse_point_add(&rest, &rest, &c[i]), HANSE_OK);
  assert_memory_equal(less.b, rest.b, HANSE_POINT_BYTES);
  /* another blinding does not open it */
  hanse_scalar other;
  hanse_scalar_random(&other);
  assert_false(hanse_pedersen_verify(&c[1], 700, &other));
}

static void test_encodings(void **state) {
  (void)state;
  hanse_point p, q;
  hanse_scalar a, r;
  hanse_scalar_from_u64(&a, 42);
  hanse_scalar_random(&r);
  hanse_pedersen_commit(&p, &a, &r);
  char hex[HANSE_POINT_HEX_BYTES];
  hanse_point_hex(hex, &p);
  assert_int_equal(hanse_point_parse(&q, hex), HANSE_OK);
  assert_memory_equal(p.b, q.b, HANSE_POINT_BYTES);
  /* a canonical encoding has an even first byte: flipping its low bit is
   * never a point */
  const char *even = "02468ace", *odd = "13579bdf", *at = strchr(even, hex[1]);
  assert_non_null(at);
  hex[1] = odd[at - even];
  assert_int_equal(hanse_point_parse(&q, hex), HANSE_ERR(INVALID));
  assert_int_equal(hanse_point_parse(&q, "00"), HANSE_ERR(INVALID));
  assert_int_equal(hanse_point_parse(&q, NULL), HANSE_ERR(INVALID));
  hanse_point bad;
  memset(bad.b, 0xff, sizeof bad.b);
  assert_false(hanse_point_valid(&bad));
  assert_int_equal(hanse_point_add(&q, &p, &bad), HANSE_ERR(INVALID));
  /* L itself (little-endian) is not a canonical scalar; L - 1 is */
  static const uint8_t l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  hanse_scalar s;
  memcpy(s.b, l, 32);
  assert_false(hanse_scalar_canonical(&s));
  s.b[0]--;
  assert_true(hanse_scalar_canonical(&s));
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_h_derivation),
      cmocka_unit_test(test_commitments_add),
      cmocka_unit_test(test_encodings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
