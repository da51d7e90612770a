/*
 * test_ledger.c -- confidential ledger amounts on the client's side:
 * sealing and opening without a node (client/ledger.c).
 *
 * A sealed amount opens for each recipient to its amount and a blinding
 * that opens the commitment; a key outside the list cannot open it; an
 * opening moved to another transfer id does not open (the associated data
 * binds the id); an opening that does not match its commitment is
 * "ledger.opening_mismatch"; a committed "negative" amount -- which the
 * node cannot tell from any other -- is "ledger.amount_range"; a
 * plaintext of another shape is "ledger.bad_opening"; a clear amount is
 * "ledger.not_confidential". The auditing over a node is tested in
 * tests/integration/test_ledger_conf.c.
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
#include "crypto/confidential.h"
#include "fixture.h"
#include "hanse/client.h"

#define CHAIN "test"

static hanse_keypair alice, bob, carol;

static json_t *sealed(const char *id, json_int_t amount) {
  json_t *t = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "debit", "a", "credit", "b", "amount",
                        amount);
  hanse_pubkey to[2] = {alice.pub, bob.pub};
  hanse_reject rej;
  assert_int_equal(hanse_ledger_conf_seal(CHAIN, t, to, 2, &rej), HANSE_OK);
  return t;
}

static const char *open_code(json_t *t, const hanse_keypair *me, uint64_t *amount) {
  static hanse_reject rej;
  hanse_scalar r;
  hanse_reject_clear(&rej);
  int rc = hanse_ledger_conf_open(CHAIN, t, me, amount, &r, &rej);
  if (rc == HANSE_OK) {
    hanse_point c;
    assert_int_equal(hanse_point_parse(&c, json_string_value(json_object_get(
                                               json_object_get(t, "amount"), "commitment"))),
                     HANSE_OK);
    assert_true(hanse_pedersen_verify(&c, *amount, &r));
  }
  return rc == HANSE_OK ? "ok" : rej.code;
}

static void test_seal_open(void **state) {
  (void)state;
  json_t *t = sealed("t1", 700);
  json_t *amt = json_object_get(t, "amount");
  assert_true(json_is_object(amt));
  assert_int_equal(hanse_confidential_check(json_object_get(amt, "opening"), NULL), HANSE_OK);
  uint64_t a = 0;
  assert_string_equal(open_code(t, &alice, &a), "ok");
  assert_int_equal(a, 700);
  a = 0;
  assert_string_equal(open_code(t, &bob, &a), "ok");
  assert_int_equal(a, 700);
  assert_string_equal(open_code(t, &carol, &a), "confidential.not_recipient");
  /* two seals of one amount differ: fresh blindings */
  json_t *t2 = sealed("t1", 700);
  assert_false(json_equal(json_object_get(amt, "commitment"),
                          json_object_get(json_object_get(t2, "amount"), "commitment")));
  json_decref(t2);
  /* the id is bound */
  json_object_set_new(t, "id", json_string("t9"));
  assert_string_equal(open_code(t, &alice, &a), "confidential.tampered");
  json_decref(t);
  /* a clear amount */
  t = json_pack("{s:s, s:i}", "id", "t3", "amount", 5);
  assert_string_equal(open_code(t, &alice, &a), "ledger.not_confidential");
  hanse_reject rej;
  hanse_pubkey to[1] = {alice.pub};
  json_object_set_new(t, "amount", json_integer(0));
  assert_int_equal(hanse_ledger_conf_seal(CHAIN, t, to, 1, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "ledger.bad_amount");
  json_decref(t);
}

static void test_mismatch(void **state) {
  (void)state;
  /* the commitment of 1000, the opening of 10 */
  json_t *t = sealed("t1", 1000), *lie = sealed("t1", 10);
  json_object_set(json_object_get(t, "amount"), "opening",
                  json_object_get(json_object_get(lie, "amount"), "opening"));
  uint64_t a;
  assert_string_equal(open_code(t, &bob, &a), "ledger.opening_mismatch");
  assert_string_equal(open_code(lie, &bob, &a), "ok");
  json_decref(t);
  json_decref(lie);
}

/* An opening of `value` for a commitment to scalar a with blinding r. */
static json_t *forged(const hanse_scalar *a, const hanse_scalar *r, json_t *value) {
  hanse_point c;
  char hex[HANSE_POINT_HEX_BYTES];
  hanse_pedersen_commit(&c, a, r);
  json_t *field = NULL;
  hanse_pubkey to[1] = {alice.pub};
  assert_int_equal(hanse_confidential_seal(value, CHAIN "/ledger.transfer/neg", to, 1, &field,
                                           NULL),
                   HANSE_OK);
  json_decref(value);
  return json_pack("{s:s, s:{s:s, s:o}}", "id", "neg", "amount", "commitment",
                   hanse_point_hex(hex, &c), "opening", field);
}

static void test_negative_and_bad_shape(void **state) {
  (void)state;
  hanse_scalar five, minus5, r;
  char rhex[65];
  hanse_scalar_from_u64(&five, 5);
  crypto_core_ristretto255_scalar_negate(minus5.b, five.b);
  hanse_scalar_random(&r);
  hanse_hex_encode(rhex, r.b, 32);
  uint64_t a;
  /* the commitment to -5 mod L opens with amount -5: refused */
  json_t *t = forged(&minus5, &r, json_pack("{s:i, s:s}", "amount", -5, "blinding", rhex));
  assert_string_equal(open_code(t, &alice, &a), "ledger.amount_range");
  json_decref(t);
  t = forged(&five, &r, json_pack("{s:i, s:s}", "amount", 5, "blinding", "zz"));
  assert_string_equal(open_code(t, &alice, &a), "ledger.bad_opening");
  json_decref(t);
  t = forged(&five, &r, json_pack("{s:i, s:s, s:i}", "amount", 5, "blinding", rhex, "x", 1));
  assert_string_equal(open_code(t, &alice, &a), "ledger.bad_opening");
  json_decref(t);
  t = forged(&five, &r, json_pack("{s:i, s:s}", "amount", 5, "blinding", rhex));
  assert_string_equal(open_code(t, &alice, &a), "ok");
  assert_int_equal(a, 5);
  json_decref(t);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  fx_key(&alice, 0xa1);
  fx_key(&bob, 0xb0);
  fx_key(&carol, 0xc0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seal_open),
      cmocka_unit_test(test_mismatch),
      cmocka_unit_test(test_negative_and_bad_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
