/*
 * hex.h -- lowercase hex encoding, strict decoding (libsodium underneath).
 */
#ifndef HANSE_HEX_H
#define HANSE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Write 2*n hex chars and a NUL into out (size >= 2*n+1). Returns out. */
char *hanse_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decode exactly `n` bytes from a string of exactly 2*n hex chars.
 * HANSE_OK or HANSE_ERR(DECODE_BAD_FIELD). */
int hanse_hex_decode_exact(uint8_t *out, size_t n, const char *hex);
/* Decode a hex string of any even length into a new buffer (free()).
 * HANSE_OK, HANSE_ERR(DECODE_BAD_FIELD) or HANSE_ERR(NOMEM). */
int hanse_hex_decode_alloc(const char *hex, size_t hex_len, uint8_t **out,
                           size_t *out_len);

#endif
