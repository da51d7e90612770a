/*
 * fuzz_hex.c -- hanse_hex_decode_alloc (and hanse_hex_decode_exact).
 *
 * Accepted input has an even length of hex digits only; it decodes to
 * half as many bytes, and encoding those gives the input in lowercase.
 * The exact-length decoder agrees on NUL-terminated copies.
 */
#include <ctype.h>
#include <string.h>

#include "base/hex.h"
#include "base/err.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *hex = (const char *)data;
  uint8_t *out = NULL;
  size_t n = 99;
  int rc = hanse_hex_decode_alloc(hex, size, &out, &n);
  int all_hex = size % 2 == 0;
  for (size_t i = 0; i < size && all_hex; i++) all_hex = isxdigit(data[i]) != 0;
  FUZZ_CHECK((rc == HANSE_OK) == all_hex);
  if (rc != HANSE_OK) {
    FUZZ_CHECK(rc == HANSE_ERR(DECODE_BAD_FIELD) && out == NULL && n == 0);
  } else {
    FUZZ_CHECK(out != NULL && n == size / 2);
    char *enc = malloc(2 * n + 1);
    FUZZ_CHECK(enc != NULL);
    hanse_hex_encode(enc, out, n);
    for (size_t i = 0; i < size; i++)
      FUZZ_CHECK(enc[i] == (char)tolower(data[i]));
    free(enc);
  }
  /* the NUL-terminated decoder on the same characters */
  char *z = malloc(size + 1);
  FUZZ_CHECK(z != NULL);
  memcpy(z, data, size);
  z[size] = 0;
  size_t len = strlen(z);
  uint8_t *ex = malloc(len / 2 + 1);
  FUZZ_CHECK(ex != NULL);
  int rc2 = hanse_hex_decode_exact(ex, len / 2, z);
  if (len == size) {
    FUZZ_CHECK((rc2 == HANSE_OK) == (rc == HANSE_OK));
    if (rc2 == HANSE_OK) FUZZ_CHECK(memcmp(ex, out, n) == 0);
  }
  free(ex);
  free(z);
  free(out);
  return 0;
}
