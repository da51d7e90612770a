/*
 * hex.c -- hex for public data (ids, hashes, public keys, signatures).
 *
 * Table-driven and not constant-time: it never sees a secret. Secret seeds
 * go through libsodium's constant-time sodium_bin2hex/sodium_hex2bin in
 * crypto/sign.c. Decoding is strict: no separators, no odd length, no
 * trailing characters, so one value has one spelling (either case is read,
 * lowercase is written).
 */
#include "base/hex.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const char hex_digits[] = "0123456789abcdef";

char *hanse_hex_encode(char *out, const uint8_t *in, size_t n) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex_digits[in[i] >> 4];
    out[2 * i + 1] = hex_digits[in[i] & 15];
  }
  out[2 * n] = 0;
  return out;
}

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode exactly len hex chars (even) into out; 0 or -1. */
static int hex_to_bin(uint8_t *out, const char *hex, size_t len) {
  for (size_t i = 0; i < len; i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

int hanse_hex_decode_exact(uint8_t *out, size_t n, const char *hex) {
  if (hex == NULL) return HANSE_ERR(DECODE_BAD_FIELD);
  size_t len = strnlen(hex, 2 * n + 1);
  if (len != 2 * n || hex_to_bin(out, hex, len) != 0) return HANSE_ERR(DECODE_BAD_FIELD);
  return HANSE_OK;
}

int hanse_hex_decode_alloc(const char *hex, size_t len, uint8_t **out,
                           size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  if (len % 2 != 0) return HANSE_ERR(DECODE_BAD_FIELD);
  uint8_t *b = malloc(len / 2 + 1);
  if (b == NULL) return HANSE_ERR(NOMEM);
  if (hex_to_bin(b, hex, len) != 0) {
    free(b);
    return HANSE_ERR(DECODE_BAD_FIELD);
  }
  *out = b;
  *out_len = len / 2;
  return HANSE_OK;
}
