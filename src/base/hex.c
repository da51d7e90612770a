/*
 * hex.c -- hex helpers on top of libsodium's constant-time sodium_bin2hex
 * and sodium_hex2bin. Decoding is strict: no separators, no odd length, no
 * trailing characters, so one value has one spelling.
 */
#include "base/hex.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

char *hanse_hex_encode(char *out, const uint8_t *in, size_t n) {
  return sodium_bin2hex(out, 2 * n + 1, in, n);
}

static int hex_strict(const char *hex, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char c = hex[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
          (c >= 'A' && c <= 'F')))
      return 0;
  }
  return 1;
}

int hanse_hex_decode_exact(uint8_t *out, size_t n, const char *hex) {
  if (hex == NULL) return HANSE_ERR(DECODE_BAD_FIELD);
  size_t len = strlen(hex);
  if (len != 2 * n || !hex_strict(hex, len)) return HANSE_ERR(DECODE_BAD_FIELD);
  size_t got = 0;
  if (sodium_hex2bin(out, n, hex, len, NULL, &got, NULL) != 0 || got != n)
    return HANSE_ERR(DECODE_BAD_FIELD);
  return HANSE_OK;
}

int hanse_hex_decode_alloc(const char *hex, size_t len, uint8_t **out,
                           size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  if (len % 2 != 0 || !hex_strict(hex, len)) return HANSE_ERR(DECODE_BAD_FIELD);
  uint8_t *b = malloc(len / 2 + 1);
  if (b == NULL) return HANSE_ERR(NOMEM);
  size_t got = 0;
  if (sodium_hex2bin(b, len / 2, hex, len, NULL, &got, NULL) != 0 ||
      got != len / 2) {
    free(b);
    return HANSE_ERR(DECODE_BAD_FIELD);
  }
  *out = b;
  *out_len = got;
  return HANSE_OK;
}
