/*
 * sign.h -- Ed25519 keys and signatures (libsodium), and key files.
 *
 * A hanse_keypair holds a secret: it lives in sodium_malloc'd memory only
 * when loaded from a file by the CLI; callers wipe it with
 * hanse_keypair_wipe. Secret keys are never logged and never leave the
 * process that owns them.
 *
 * Key file: JSON {"public":"<64 hex>","seed":"<64 hex>"}, mode 0600.
 */
#ifndef HANSE_SIGN_H
#define HANSE_SIGN_H

#include "crypto/hash.h"

typedef struct hanse_keypair {
  hanse_pubkey pub;
  uint8_t sk[HANSE_SECKEY_BYTES]; /* libsodium layout: seed || public */
} hanse_keypair;

/* Fresh random key pair. */
void hanse_keypair_generate(hanse_keypair *kp);
/* Deterministic key pair from a 32-byte seed (tests, demo). */
void hanse_keypair_from_seed(hanse_keypair *kp,
                             const uint8_t seed[HANSE_SEED_BYTES]);
void hanse_keypair_wipe(hanse_keypair *kp);

/* Detached signature over msg. */
void hanse_sign(hanse_sig *sig, const void *msg, size_t len,
                const hanse_keypair *kp);
/* 1 if valid, 0 if not. Constant-time in the secret-independent sense of
 * libsodium; rejects small-order and non-canonical keys. */
int hanse_sign_verify(const hanse_sig *sig, const void *msg, size_t len,
                      const hanse_pubkey *pub);

/* Hex helpers for public keys. */
char *hanse_pubkey_hex(char out[HANSE_HASH_HEX_BYTES], const hanse_pubkey *p);
int hanse_pubkey_parse(hanse_pubkey *out, const char *hex);

/* Write a key file (refuses to overwrite; mode 0600). HANSE_OK,
 * HANSE_ERR(IO) or HANSE_ERR(INVALID) if the file exists. */
int hanse_keyfile_write(const char *path, const hanse_keypair *kp);
/* Read a key file; checks that the public key matches the seed. */
int hanse_keyfile_read(const char *path, hanse_keypair *kp);

#endif
