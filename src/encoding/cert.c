/*
 * cert.c -- commit certificates: signed bytes, signing, checking (the
 * format and its purpose are in cert.h and docs/FORMATS.md §24).
 *
 * Checking is deliberately strict: one bad signature in a certificate
 * refuses the whole certificate, even if the good ones alone would reach
 * the quorum. A node only serves signatures it verified when it stored
 * them, so a bad one means the answer was tampered with on the way, and
 * a reader should not be told "certified" on such an answer.
 *
 * Distinct signers are counted with a bitmask over the validator set's
 * indexes: the set has at most HANSE_VALIDATORS_MAX (64) keys.
 */
#include "encoding/cert.h"

#include <string.h>

#include "base/log.h"

/* The chain's validator bound (chain.h's HANSE_VALIDATORS_MAX): the
 * signer mask below has one bit per validator. */
#define CERT_VALIDATORS_MAX 64

int hanse_cert_quorum(int n) {
  HANSE_ASSERT(n >= 1);
  return n / 2 + 1;
}

size_t hanse_cert_message(uint8_t out[HANSE_CERT_MSG_MAX], const char *chain_id,
                          uint64_t height, const hanse_hash *hash) {
  size_t cl = strlen(chain_id);
  HANSE_ASSERT(cl >= 1 && cl <= HANSE_CHAIN_ID_MAX);
  size_t at = 0;
  memcpy(out, HANSE_CERT_TAG, HANSE_CERT_TAG_BYTES);
  at += HANSE_CERT_TAG_BYTES;
  out[at++] = (uint8_t)cl;
  memcpy(out + at, chain_id, cl);
  at += cl;
  for (int i = 7; i >= 0; i--) out[at++] = (uint8_t)(height >> (8 * i));
  memcpy(out + at, hash->b, HANSE_HASH_BYTES);
  at += HANSE_HASH_BYTES;
  HANSE_ASSERT(at <= HANSE_CERT_MSG_MAX);
  return at;
}

void hanse_cert_sign(const hanse_keypair *kp, const char *chain_id, uint64_t height,
                     const hanse_hash *hash, hanse_sig *out) {
  uint8_t msg[HANSE_CERT_MSG_MAX];
  size_t len = hanse_cert_message(msg, chain_id, height, hash);
  hanse_sign(out, msg, len, kp);
}

int hanse_cert_sig_verify(const hanse_pubkey *signer, const char *chain_id, uint64_t height,
                          const hanse_hash *hash, const hanse_sig *sig) {
  size_t cl = strlen(chain_id);
  if (cl < 1 || cl > HANSE_CHAIN_ID_MAX) return 0;
  uint8_t msg[HANSE_CERT_MSG_MAX];
  size_t len = hanse_cert_message(msg, chain_id, height, hash);
  return hanse_sign_verify(sig, msg, len, signer);
}

int hanse_cert_is_validator(const hanse_pubkey *validators, int n, const hanse_pubkey *key,
                            int *index) {
  for (int i = 0; i < n; i++)
    if (memcmp(validators[i].b, key->b, HANSE_PUBKEY_BYTES) == 0) {
      if (index) *index = i;
      return 1;
    }
  return 0;
}

int hanse_cert_check(const char *chain_id, uint64_t height, const hanse_hash *hash,
                     const hanse_pubkey *validators, int n, const hanse_cert_sig *sigs,
                     size_t k, int *count, hanse_reject *rej) {
  HANSE_ASSERT(sigs != NULL || k == 0);
  if (n < 1 || n > CERT_VALIDATORS_MAX) /* a validator set from a genesis: data */
    return hanse_reject_code(rej, "cert.bad_validators", 400,
                             "a validator set holds 1 to %d keys, not %d", CERT_VALIDATORS_MAX, n);
  uint64_t seen = 0;
  int distinct = 0;
  if (count) *count = 0;
  char hex[HANSE_HASH_HEX_BYTES];
  for (size_t i = 0; i < k; i++) {
    int at;
    if (!hanse_cert_is_validator(validators, n, &sigs[i].signer, &at))
      return hanse_reject_code(rej, "cert.not_validator", 400,
                               "certificate signature %zu is by %s, not a validator", i,
                               hanse_pubkey_hex(hex, &sigs[i].signer));
    if (!hanse_cert_sig_verify(&sigs[i].signer, chain_id, height, hash, &sigs[i].sig))
      return hanse_reject_code(
          rej, "cert.bad_signature", 400,
          "certificate signature %zu (validator %s) does not verify for block %llu", i,
          hanse_pubkey_hex(hex, &sigs[i].signer), (unsigned long long)height);
    if (!(seen & (UINT64_C(1) << at))) {
      seen |= UINT64_C(1) << at;
      distinct++;
      if (count) *count = distinct;
    }
  }
  int q = hanse_cert_quorum(n);
  if (distinct < q)
    return hanse_reject_code(rej, "cert.short", 400,
                             "block %llu is certified by %d of %d validators; the quorum is %d",
                             (unsigned long long)height, distinct, n, q);
  return HANSE_OK;
}
