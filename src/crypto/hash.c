/*
 * hash.c -- SHA-256 and hash helpers.
 *
 * SHA-256 is OpenSSL's (libcrypto), not libsodium's: libsodium's is
 * portable C, OpenSSL's uses the CPU's SHA extensions where it has them
 * (and AVX2 where not). On the development machine a 40 KB transaction
 * hashes in 35 us instead of 207, a 150-byte history value in 0.2 us
 * instead of 1.3 (docs/DEPENDENCIES.md). The functions used are OpenSSL's
 * plain SHA256_Init/Update/Final, which version 3 marks deprecated in
 * favour of EVP (a context allocated per digest); they are there
 * throughout 3.x and hash with the same assembly, so this file asks for
 * the 1.1 API. Every other cryptographic operation stays libsodium's.
 */
#define OPENSSL_API_COMPAT 0x10100000L
#include "crypto/hash.h"

#include <openssl/sha.h>
#include <string.h>

#include "base/hex.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(hanse_sha256_state), "room for OpenSSL's state");
_Static_assert(_Alignof(SHA256_CTX) <= _Alignof(hanse_sha256_state), "aligned for it");
_Static_assert(SHA256_DIGEST_LENGTH == HANSE_HASH_BYTES, "sha256 size");

static SHA256_CTX *ctx_of(hanse_sha256_state *s) { return (SHA256_CTX *)(void *)s->opaque; }

void hanse_sha256_init(hanse_sha256_state *s) { SHA256_Init(ctx_of(s)); }
void hanse_sha256_update(hanse_sha256_state *s, const void *p, size_t n) {
  SHA256_Update(ctx_of(s), p, n);
}
void hanse_sha256_final(hanse_sha256_state *s, hanse_hash *out) {
  SHA256_Final(out->b, ctx_of(s));
}
void hanse_sha256(hanse_hash *out, const void *p, size_t n) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, p, n);
  SHA256_Final(out->b, &c);
}
char *hanse_hash_hex(char out[HANSE_HASH_HEX_BYTES], const hanse_hash *h) {
  return hanse_hex_encode(out, h->b, HANSE_HASH_BYTES);
}
int hanse_hash_parse(hanse_hash *out, const char *hex) {
  return hanse_hex_decode_exact(out->b, HANSE_HASH_BYTES, hex);
}
int hanse_hash_eq(const hanse_hash *a, const hanse_hash *b) {
  return memcmp(a->b, b->b, HANSE_HASH_BYTES) == 0;
}
int hanse_hash_is_zero(const hanse_hash *h) {
  return sodium_is_zero(h->b, HANSE_HASH_BYTES);
}
