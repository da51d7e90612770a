/*
 * pedersen.h -- Pedersen commitments to amounts on ristretto255.
 *
 * A commitment to an amount a with a blinding scalar r is the group
 * element
 *
 *   C = a*G + r*H
 *
 * where G is ristretto255's base point and H an independent generator
 * nobody knows the discrete logarithm of relative to G:
 *
 *   H = crypto_core_ristretto255_from_hash(SHA-512("hanse.pedersen.H.v1"))
 *
 * (the domain string without a NUL; libsodium maps the 64-byte hash to a
 * point with Elligator, so H's logarithm is as unknown as SHA-512's
 * output is random). C hides a (r is uniformly random) and binds it (a
 * second opening would give log_G(H)). Commitments add: C(a1,r1) +
 * C(a2,r2) = C(a1+a2, r1+r2), which is what lets a ledger keep balances
 * of amounts it cannot read (modules/ledger/ledger_conf.c) and an
 * auditor who knows the openings check them.
 *
 * All arithmetic is libsodium's (crypto_scalarmult_ristretto255*,
 * crypto_core_ristretto255_*); nothing here touches field elements.
 * Encodings are ristretto255's canonical 32 bytes, so two commitments are
 * the same element exactly when their bytes are equal; the identity is 32
 * zero bytes. Scalars are 32 bytes little-endian, reduced mod the group
 * order L. Amounts are unsigned 64-bit integers; a scalar holding a sum
 * of amounts is exact while the sum is below L (about 2^252).
 *
 * Nothing here proves that a committed amount is in range: a commitment
 * to L - 5 is as valid as one to 5. Whoever opens it checks the range.
 *
 * Conventions: outputs first where libsodium puts them (out, in...);
 * return HANSE_OK or HANSE_ERR(INVALID) (an input that is not a valid
 * point). sodium_init() must have succeeded.
 */
#ifndef HANSE_PEDERSEN_H
#define HANSE_PEDERSEN_H

#include <stdint.h>

#include "base/err.h"

#define HANSE_POINT_BYTES 32  /* crypto_core_ristretto255_BYTES */
#define HANSE_SCALAR_BYTES 32 /* crypto_core_ristretto255_SCALARBYTES */
#define HANSE_POINT_HEX_BYTES (2 * HANSE_POINT_BYTES + 1)
/* The domain string hashed to H. */
#define HANSE_PEDERSEN_H_DOMAIN "hanse.pedersen.H.v1"

typedef struct hanse_point { uint8_t b[HANSE_POINT_BYTES]; } hanse_point;
typedef struct hanse_scalar { uint8_t b[HANSE_SCALAR_BYTES]; } hanse_scalar;

/* ---- scalars ---- */
void hanse_scalar_from_u64(hanse_scalar *out, uint64_t v);
/* A uniformly random scalar (libsodium's randombytes): a blinding. */
void hanse_scalar_random(hanse_scalar *out);
/* out = a + b mod L (out may alias either). */
void hanse_scalar_add(hanse_scalar *out, const hanse_scalar *a, const hanse_scalar *b);
/* 1 if s is below L (the canonical form every scalar here has). */
int hanse_scalar_canonical(const hanse_scalar *s);

/* ---- points ---- */
/* The identity (32 zero bytes). */
void hanse_point_identity(hanse_point *out);
int hanse_point_is_identity(const hanse_point *p);
/* 1 if p is the canonical encoding of a ristretto255 element. */
int hanse_point_valid(const hanse_point *p);
/* out = a + b, out = a - b. HANSE_ERR(INVALID) if an input is not valid. */
int hanse_point_add(hanse_point *out, const hanse_point *a, const hanse_point *b);
int hanse_point_sub(hanse_point *out, const hanse_point *a, const hanse_point *b);
/* Parse 64 hex digits (either case) of a valid encoding; write lowercase. */
int hanse_point_parse(hanse_point *out, const char *hex);
char *hanse_point_hex(char out[HANSE_POINT_HEX_BYTES], const hanse_point *p);

/* ---- commitments ---- */
/* The generator H (computed on each call: a hash and a map, a few
 * microseconds; the node never needs it, only the clients). */
void hanse_pedersen_h(hanse_point *out);
/* out = a*G + r*H for scalars a and r (either may be zero). */
void hanse_pedersen_commit(hanse_point *out, const hanse_scalar *a, const hanse_scalar *r);
/* 1 if c == a*G + r*H, for an amount a. */
int hanse_pedersen_verify(const hanse_point *c, uint64_t a, const hanse_scalar *r);

#endif
