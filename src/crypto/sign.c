/*
 * sign.c -- Ed25519 through libsodium; key files as small JSON documents.
 *
 * The seed is the secret. A key file is created with O_EXCL and mode 0600
 * so an existing key is never clobbered and other users cannot read it.
 * Buffers that held the seed are wiped with sodium_memzero.
 */
#include "crypto/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/hex.h"

_Static_assert(HANSE_SECKEY_BYTES == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(HANSE_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(HANSE_SIG_BYTES == crypto_sign_BYTES, "sig size");
_Static_assert(HANSE_SEED_BYTES == crypto_sign_SEEDBYTES, "seed size");

void hanse_keypair_generate(hanse_keypair *kp) {
  crypto_sign_keypair(kp->pub.b, kp->sk);
}

void hanse_keypair_from_seed(hanse_keypair *kp,
                             const uint8_t seed[HANSE_SEED_BYTES]) {
  crypto_sign_seed_keypair(kp->pub.b, kp->sk, seed);
}

void hanse_keypair_wipe(hanse_keypair *kp) { sodium_memzero(kp, sizeof *kp); }

void hanse_sign(hanse_sig *sig, const void *msg, size_t len,
                const hanse_keypair *kp) {
  crypto_sign_detached(sig->b, NULL, msg, len, kp->sk);
}

int hanse_sign_verify(const hanse_sig *sig, const void *msg, size_t len,
                      const hanse_pubkey *pub) {
  return crypto_sign_verify_detached(sig->b, msg, len, pub->b) == 0;
}

char *hanse_pubkey_hex(char out[HANSE_HASH_HEX_BYTES], const hanse_pubkey *p) {
  return hanse_hex_encode(out, p->b, HANSE_PUBKEY_BYTES);
}

int hanse_pubkey_parse(hanse_pubkey *out, const char *hex) {
  return hanse_hex_decode_exact(out->b, HANSE_PUBKEY_BYTES, hex);
}

int hanse_keyfile_write(const char *path, const hanse_keypair *kp) {
  char pub[HANSE_HASH_HEX_BYTES], seed[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(pub, &kp->pub);
  sodium_bin2hex(seed, sizeof seed, kp->sk, HANSE_SEED_BYTES); /* constant time */
  char text[256];
  int n = snprintf(text, sizeof text,
                   "{\"public\":\"%s\",\"seed\":\"%s\"}\n", pub, seed);
  sodium_memzero(seed, sizeof seed);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    sodium_memzero(text, sizeof text);
    return errno == EEXIST ? HANSE_ERR(INVALID) : HANSE_ERR(IO);
  }
  ssize_t w = write(fd, text, (size_t)n);
  sodium_memzero(text, sizeof text);
  int ok = w == n && fsync(fd) == 0;
  close(fd);
  return ok ? HANSE_OK : HANSE_ERR(IO);
}

/* Read a whole (small) key file into locked, guarded memory. */
static char *read_secret_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return NULL;
  size_t cap = 1024;
  char *buf = sodium_malloc(cap);
  size_t n = 0;
  ssize_t r;
  while (buf && n < cap && (r = read(fd, buf + n, cap - n)) > 0) n += (size_t)r;
  close(fd);
  if (buf == NULL || n == cap) { /* a key file is far smaller */
    if (buf) sodium_free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

int hanse_keyfile_read(const char *path, hanse_keypair *kp) {
  size_t len = 0;
  char *text = read_secret_file(path, &len);
  if (text == NULL) return HANSE_ERR(IO);
  json_error_t jerr;
  json_t *doc = json_loadb(text, len, 0, &jerr);
  sodium_memzero(text, len);
  sodium_free(text);
  if (doc == NULL) return HANSE_ERR(INVALID);
  int rc = HANSE_ERR(INVALID);
  const char *pub = json_string_value(json_object_get(doc, "public"));
  const char *seed_hex = json_string_value(json_object_get(doc, "seed"));
  uint8_t seed[HANSE_SEED_BYTES];
  hanse_pubkey want;
  if (pub && seed_hex && hanse_pubkey_parse(&want, pub) == HANSE_OK &&
      strlen(seed_hex) == 2 * HANSE_SEED_BYTES &&
      sodium_hex2bin(seed, sizeof seed, seed_hex, 2 * HANSE_SEED_BYTES, NULL, NULL, NULL) == 0) {
    hanse_keypair_from_seed(kp, seed);
    if (sodium_memcmp(want.b, kp->pub.b, HANSE_PUBKEY_BYTES) == 0)
      rc = HANSE_OK;
    else
      hanse_keypair_wipe(kp);
  }
  sodium_memzero(seed, sizeof seed);
  /* jansson copied the seed into its string: wipe it before freeing. */
  if (seed_hex) sodium_memzero((char *)seed_hex, strlen(seed_hex));
  json_decref(doc);
  return rc;
}
