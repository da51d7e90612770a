/*
 * hash.c -- SHA-256 through libsodium and hash helpers.
 */
#include "crypto/hash.h"

#include <string.h>

#include "base/hex.h"

void hanse_sha256_init(hanse_sha256_state *s) { crypto_hash_sha256_init(s); }
void hanse_sha256_update(hanse_sha256_state *s, const void *p, size_t n) {
  crypto_hash_sha256_update(s, p, n);
}
void hanse_sha256_final(hanse_sha256_state *s, hanse_hash *out) {
  crypto_hash_sha256_final(s, out->b);
}
void hanse_sha256(hanse_hash *out, const void *p, size_t n) {
  crypto_hash_sha256(out->b, p, n);
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
