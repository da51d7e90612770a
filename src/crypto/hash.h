/*
 * hash.h -- fixed-size cryptographic types and SHA-256.
 *
 * Hashes, keys and signatures are wrapped in structs of their exact size so
 * the compiler tells a hash from a key and nobody passes a bare pointer with
 * a magic 32.
 */
#ifndef HANSE_HASH_H
#define HANSE_HASH_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

typedef struct hanse_hash { uint8_t b[HANSE_HASH_BYTES]; } hanse_hash;
typedef struct hanse_pubkey { uint8_t b[HANSE_PUBKEY_BYTES]; } hanse_pubkey;
typedef struct hanse_sig { uint8_t b[HANSE_SIG_BYTES]; } hanse_sig;

_Static_assert(HANSE_HASH_BYTES == crypto_hash_sha256_BYTES, "sha256 size");
_Static_assert(sizeof(hanse_hash) == HANSE_HASH_BYTES, "no padding");
_Static_assert(sizeof(hanse_sig) == HANSE_SIG_BYTES, "no padding");

/* Streaming SHA-256 (OpenSSL's, hash.c: its state kept here opaquely,
 * so that only hash.c includes OpenSSL). */
typedef struct hanse_sha256_state {
  uint64_t opaque[16];
} hanse_sha256_state;
void hanse_sha256_init(hanse_sha256_state *s);
void hanse_sha256_update(hanse_sha256_state *s, const void *p, size_t n);
void hanse_sha256_final(hanse_sha256_state *s, hanse_hash *out);

/* One-shot SHA-256 of n bytes. */
void hanse_sha256(hanse_hash *out, const void *p, size_t n);

/* Hex of a hash into out[HANSE_HASH_HEX_BYTES]; returns out. */
char *hanse_hash_hex(char out[HANSE_HASH_HEX_BYTES], const hanse_hash *h);
/* Parse 64 hex chars. HANSE_OK or HANSE_ERR(DECODE_BAD_FIELD). */
int hanse_hash_parse(hanse_hash *out, const char *hex);
int hanse_hash_eq(const hanse_hash *a, const hanse_hash *b);
int hanse_hash_is_zero(const hanse_hash *h);

#endif
