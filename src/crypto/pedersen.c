/*
 * pedersen.c -- Pedersen commitments on ristretto255 (see pedersen.h).
 *
 * Thin on purpose: every group operation is one libsodium call. What this
 * file adds is the handling of the identity, which libsodium's scalar
 * multiplications report as a failure (-1, "the result is the identity")
 * although for commitments it is an ordinary value: the commitment to a
 * zero amount with a zero blinding, and the balance of an account nothing
 * has touched yet. A multiplication by the zero scalar is therefore
 * skipped, and a result of -1 with a non-zero scalar cannot happen (G and
 * H have prime order L and the scalar is reduced below L).
 *
 * Secrets: blindings and amounts are secrets of their owners; this file
 * keeps no copy beyond the stack frames of the call.
 */
#include "crypto/pedersen.h"

#include <sodium.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"

_Static_assert(HANSE_POINT_BYTES == crypto_core_ristretto255_BYTES, "point size");
_Static_assert(HANSE_SCALAR_BYTES == crypto_core_ristretto255_SCALARBYTES, "scalar size");
_Static_assert(crypto_core_ristretto255_HASHBYTES == crypto_hash_sha512_BYTES,
               "H is mapped from a SHA-512 digest");

void hanse_scalar_from_u64(hanse_scalar *out, uint64_t v) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < 8; i++) out->b[i] = (uint8_t)(v >> (8 * i));
}

void hanse_scalar_random(hanse_scalar *out) { crypto_core_ristretto255_scalar_random(out->b); }

void hanse_scalar_add(hanse_scalar *out, const hanse_scalar *a, const hanse_scalar *b) {
  crypto_core_ristretto255_scalar_add(out->b, a->b, b->b);
}

int hanse_scalar_canonical(const hanse_scalar *s) {
  /* A reduced scalar is its own reduction. */
  uint8_t wide[crypto_core_ristretto255_NONREDUCEDSCALARBYTES] = {0}, red[HANSE_SCALAR_BYTES];
  memcpy(wide, s->b, HANSE_SCALAR_BYTES);
  crypto_core_ristretto255_scalar_reduce(red, wide);
  return sodium_memcmp(red, s->b, HANSE_SCALAR_BYTES) == 0;
}

void hanse_point_identity(hanse_point *out) { memset(out, 0, sizeof *out); }

int hanse_point_is_identity(const hanse_point *p) { return sodium_is_zero(p->b, sizeof p->b); }

int hanse_point_valid(const hanse_point *p) {
  return crypto_core_ristretto255_is_valid_point(p->b) == 1;
}

int hanse_point_add(hanse_point *out, const hanse_point *a, const hanse_point *b) {
  return crypto_core_ristretto255_add(out->b, a->b, b->b) == 0 ? HANSE_OK : HANSE_ERR(INVALID);
}

int hanse_point_sub(hanse_point *out, const hanse_point *a, const hanse_point *b) {
  return crypto_core_ristretto255_sub(out->b, a->b, b->b) == 0 ? HANSE_OK : HANSE_ERR(INVALID);
}

int hanse_point_parse(hanse_point *out, const char *hex) {
  hanse_point p;
  if (hex == NULL || hanse_hex_decode_exact(p.b, sizeof p.b, hex) != HANSE_OK ||
      !hanse_point_valid(&p))
    return HANSE_ERR(INVALID);
  *out = p;
  return HANSE_OK;
}

char *hanse_point_hex(char out[HANSE_POINT_HEX_BYTES], const hanse_point *p) {
  return hanse_hex_encode(out, p->b, sizeof p->b);
}

void hanse_pedersen_h(hanse_point *out) {
  uint8_t digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(digest, (const uint8_t *)HANSE_PEDERSEN_H_DOMAIN,
                     sizeof HANSE_PEDERSEN_H_DOMAIN - 1);
  crypto_core_ristretto255_from_hash(out->b, digest);
}

/* out = s*P (P NULL: the base point G); the identity for s = 0. */
static void mul(hanse_point *out, const hanse_scalar *s, const hanse_point *p) {
  if (sodium_is_zero(s->b, sizeof s->b)) {
    hanse_point_identity(out);
    return;
  }
  int rc = p ? crypto_scalarmult_ristretto255(out->b, s->b, p->b)
             : crypto_scalarmult_ristretto255_base(out->b, s->b);
  /* -1 means the identity: only a multiple of L, which a reduced non-zero
   * scalar is not. */
  HANSE_ASSERT(rc == 0);
}

void hanse_pedersen_commit(hanse_point *out, const hanse_scalar *a, const hanse_scalar *r) {
  hanse_point h, ag, rh;
  hanse_pedersen_h(&h);
  mul(&ag, a, NULL);
  mul(&rh, r, &h);
  int rc = hanse_point_add(out, &ag, &rh);
  HANSE_ASSERT(rc == HANSE_OK); /* both are results of libsodium */
  sodium_memzero(&ag, sizeof ag);
  sodium_memzero(&rh, sizeof rh);
}

int hanse_pedersen_verify(const hanse_point *c, uint64_t a, const hanse_scalar *r) {
  hanse_scalar as;
  hanse_point want;
  hanse_scalar_from_u64(&as, a);
  hanse_pedersen_commit(&want, &as, r);
  return sodium_memcmp(want.b, c->b, sizeof want.b) == 0;
}
