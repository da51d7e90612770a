/*
 * merkle.h -- RFC 6962 Merkle tree hashes and inclusion proofs.
 *
 *   MTH({})       = SHA-256()
 *   MTH({d0})     = SHA-256(0x00 || d0)
 *   MTH(D[0:n])   = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
 *                   where k is the largest power of two < n
 *
 * Leaves in Hanse are the 32-byte transaction ids of a block, in block
 * order. A proof is the audit path of RFC 6962 section 2.1.1, leaf side
 * first.
 */
#ifndef HANSE_MERKLE_H
#define HANSE_MERKLE_H

#include <stddef.h>

#include "crypto/hash.h"

/* The deepest path: trees of up to 2^32 leaves. */
#define HANSE_MERKLE_PATH_MAX 32

/* Root of n leaves (each leaf_len bytes, contiguous). n may be 0.
 * HANSE_OK or HANSE_ERR(NOMEM). */
int hanse_merkle_root(hanse_hash *root, const uint8_t *leaves, size_t leaf_len,
                      size_t n);
/* Root over n 32-byte hashes (the usual case). */
int hanse_merkle_root_hashes(hanse_hash *root, const hanse_hash *leaves,
                             size_t n);
/* Audit path for leaf `index` of n hashes. path has room for
 * HANSE_MERKLE_PATH_MAX entries; *path_len receives the count. */
int hanse_merkle_proof(hanse_hash *path, size_t *path_len,
                       const hanse_hash *leaves, size_t n, size_t index);
/* Variable-length leaves: leaves[i] points at lens[i] bytes (a NULL
 * pointer is allowed for a zero length). Same tree as above; used for
 * leaves that are not all one size (and by the RFC 6962 known-answer
 * tests, whose reference leaves run from 0 to 16 bytes). n may be 0 for
 * the root. HANSE_OK, HANSE_ERR(NOMEM), or HANSE_ERR(INVALID) from the
 * proof when index >= n. */
int hanse_merkle_root_leaves(hanse_hash *root, const uint8_t *const *leaves,
                             const size_t *lens, size_t n);
int hanse_merkle_proof_leaves(hanse_hash *path, size_t *path_len,
                              const uint8_t *const *leaves, const size_t *lens,
                              size_t n, size_t index);
/* Verify: 1 if `leaf` (raw leaf data) at `index` of a tree of n leaves with
 * the given path hashes to root, else 0. */
int hanse_merkle_verify(const hanse_hash *root, const uint8_t *leaf,
                        size_t leaf_len, size_t index, size_t n,
                        const hanse_hash *path, size_t path_len);

#endif
