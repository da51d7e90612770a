/*
 * cert.h -- commit certificates: the validators' signatures on a block.
 *
 * A block's proposer signs its header, which shows that ONE node made the
 * block. After applying a block every node of a cluster signs the block's
 * hash as well; the signatures of a majority of the chain's validators are
 * the block's *certificate*, and they show that the consortium -- not one
 * node -- stands behind it (docs/FORMATS.md §24). This file is the part an
 * outsider needs: the signed bytes, signing, and checking a certificate
 * against a validator set. It depends on crypto/ only, so the node
 * (node/certs.c, api/res_certs.c) and the client (client/proof.c) share it.
 *
 * The signed message, big-endian:
 *
 *   "hanse.cert.v1" (13 bytes) | u8 chain_len | chain_id | u64 height |
 *   32-byte block hash (the SHA-256 of the unsigned header, §6)
 *
 * The domain tag keeps a certificate signature from ever being a valid
 * signature of a header or a transaction (those start with a type byte
 * below 0x10), and the chain id and height make one signature mean one
 * block of one chain.
 *
 * Use:
 *   hanse_cert_sign(kp, chain, height, &hash, &sig);         a node
 *   hanse_cert_sig_verify(&pub, chain, height, &hash, &sig); a receiver
 *   hanse_cert_check(chain, height, &hash, vals, n, sigs, k, &count, rej)
 *                                                           whole certificate
 */
#ifndef HANSE_CERT_H
#define HANSE_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

#define HANSE_CERT_TAG "hanse.cert.v1"
#define HANSE_CERT_TAG_BYTES 13
/* The longest signed message: tag, chain length, chain id, height, hash. */
#define HANSE_CERT_MSG_MAX (HANSE_CERT_TAG_BYTES + 1 + HANSE_CHAIN_ID_MAX + 8 + HANSE_HASH_BYTES)

/* One validator's signature on a block hash. */
typedef struct hanse_cert_sig {
  hanse_pubkey signer;
  hanse_sig sig;
} hanse_cert_sig;

/* The quorum of a validator set of n: a strict majority, floor(n/2) + 1
 * (1 of 1 on a single-node chain). n >= 1. */
int hanse_cert_quorum(int n);

/* The signed message of (chain, height, hash) into out; returns its
 * length. chain_id is 1..HANSE_CHAIN_ID_MAX characters (asserted). */
size_t hanse_cert_message(uint8_t out[HANSE_CERT_MSG_MAX], const char *chain_id,
                          uint64_t height, const hanse_hash *hash);

/* Sign as `kp` (borrowed). */
void hanse_cert_sign(const hanse_keypair *kp, const char *chain_id, uint64_t height,
                     const hanse_hash *hash, hanse_sig *out);

/* 1 if `sig` is signer's signature of (chain, height, hash), else 0. */
int hanse_cert_sig_verify(const hanse_pubkey *signer, const char *chain_id, uint64_t height,
                          const hanse_hash *hash, const hanse_sig *sig);

/* 1 if `key` is one of the n validators; *index (may be NULL) its place. */
int hanse_cert_is_validator(const hanse_pubkey *validators, int n, const hanse_pubkey *key,
                            int *index);

/* Check a certificate: every one of the k signatures must be by one of
 * the n validators and verify for (chain, height, hash), and the
 * distinct signers must reach hanse_cert_quorum(n). A signer listed twice
 * counts once. *count (may be NULL) gets the number of distinct valid
 * validator signatures found before any failure. HANSE_OK, or
 * HANSE_ERR(INVALID) with one of these codes in rej (may be NULL):
 *
 *   cert.bad_validators  n is not 1..64 (the set came from a genesis)
 *   cert.not_validator   a signer is not in the validator set
 *   cert.bad_signature   a signature does not verify (forged, or for
 *                        another block)
 *   cert.short           fewer distinct validators than the quorum
 */
int hanse_cert_check(const char *chain_id, uint64_t height, const hanse_hash *hash,
                     const hanse_pubkey *validators, int n, const hanse_cert_sig *sigs,
                     size_t k, int *count, hanse_reject *rej);

#endif
