/*
 * merkle.c -- RFC 6962 tree hashing, proofs and proof checking.
 *
 * The root is computed bottom-up in one buffer of leaf hashes: combining
 * adjacent pairs level by level and carrying an odd last node up unchanged
 * gives exactly the RFC's recursive split at the largest power of two.
 * Leaves come either as fixed-size records (transaction ids) or as
 * pointer/length pairs; both are turned into one array of leaf hashes
 * first, so every entry point builds the same tree with the same code.
 * Proof verification follows RFC 9162 section 2.1.3.2.
 */
#include "crypto/merkle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

static void leaf_hash(hanse_hash *out, const uint8_t *d, size_t n) {
  hanse_sha256_state s;
  const uint8_t pfx = 0x00;
  hanse_sha256_init(&s);
  hanse_sha256_update(&s, &pfx, 1);
  hanse_sha256_update(&s, d, n);
  hanse_sha256_final(&s, out);
}

static void node_hash(hanse_hash *out, const hanse_hash *l,
                      const hanse_hash *r) {
  hanse_sha256_state s;
  const uint8_t pfx = 0x01;
  hanse_sha256_init(&s);
  hanse_sha256_update(&s, &pfx, 1);
  hanse_sha256_update(&s, l->b, HANSE_HASH_BYTES);
  hanse_sha256_update(&s, r->b, HANSE_HASH_BYTES);
  hanse_sha256_final(&s, out);
}

/* How the public entry points name their leaves: fixed-size leaves laid
 * out contiguously, or an array of pointers and lengths. Every entry point
 * hashes its leaves through leaf_at into one buffer of leaf hashes and
 * shares the tree code below, so all of them build the same tree. */
typedef struct leaf_src {
  const uint8_t *flat;            /* contiguous leaves of flat_len bytes */
  size_t flat_len;
  const uint8_t *const *ptrs;     /* or: ptrs[i], lens[i] */
  const size_t *lens;
} leaf_src;

static void leaf_at(const leaf_src *src, size_t i, hanse_hash *out) {
  if (src->ptrs != NULL)
    leaf_hash(out, src->ptrs[i] ? src->ptrs[i] : (const uint8_t *)"", src->lens[i]);
  else
    leaf_hash(out, src->flat + i * src->flat_len, src->flat_len);
}

/* Leaf hashes of all n leaves in a new array (free()); NULL on NOMEM. */
static hanse_hash *leaf_hashes(const leaf_src *src, size_t n) {
  HANSE_ASSERT(n >= 1);
  if (n > SIZE_MAX / sizeof(hanse_hash)) return NULL;
  hanse_hash *lh = malloc(n * sizeof *lh);
  if (lh == NULL) return NULL;
  for (size_t i = 0; i < n; i++) leaf_at(src, i, &lh[i]);
  return lh;
}

static int root_of(hanse_hash *root, const leaf_src *src, size_t n) {
  if (n == 0) {
    hanse_sha256(root, "", 0);
    return HANSE_OK;
  }
  hanse_hash *lvl = leaf_hashes(src, n);
  if (lvl == NULL) return HANSE_ERR(NOMEM);
  /* Pairwise reduction in place; an odd last node moves up unchanged. */
  size_t m = n;
  while (m > 1) {
    size_t j = 0;
    for (size_t i = 0; i + 1 < m; i += 2) node_hash(&lvl[j++], &lvl[i], &lvl[i + 1]);
    if (m & 1) lvl[j++] = lvl[m - 1];
    HANSE_ASSERT(j == (m + 1) / 2);
    m = j;
  }
  *root = lvl[0];
  free(lvl);
  return HANSE_OK;
}

/* Subtree hash MTH(D[lo:hi]) of leaf hashes, recursively. */
static void subtree(hanse_hash *out, const hanse_hash *lh, size_t lo,
                    size_t hi) {
  size_t n = hi - lo;
  HANSE_ASSERT(n >= 1);
  if (n == 1) {
    *out = lh[lo];
    return;
  }
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  hanse_hash l, r;
  subtree(&l, lh, lo, lo + k);
  subtree(&r, lh, lo + k, hi);
  node_hash(out, &l, &r);
}

static int proof_of(hanse_hash *path, size_t *path_len, const leaf_src *src,
                    size_t n, size_t index) {
  *path_len = 0;
  if (index >= n) return HANSE_ERR(INVALID);
  hanse_hash *lh = leaf_hashes(src, n);
  if (lh == NULL) return HANSE_ERR(NOMEM);
  /* Walk down from the root, recording the sibling subtree at each split;
   * the RFC orders the path from the leaf up, so fill from the back. */
  hanse_hash tmp[HANSE_MERKLE_PATH_MAX];
  size_t depth = 0, lo = 0, hi = n, m = index;
  while (hi - lo > 1) {
    size_t k = 1;
    while (k * 2 < hi - lo) k *= 2;
    HANSE_ASSERT(depth < HANSE_MERKLE_PATH_MAX);
    if (m < k) {
      subtree(&tmp[depth++], lh, lo + k, hi);
      hi = lo + k;
    } else {
      subtree(&tmp[depth++], lh, lo, lo + k);
      lo += k;
      m -= k;
    }
  }
  for (size_t i = 0; i < depth; i++) path[i] = tmp[depth - 1 - i];
  *path_len = depth;
  free(lh);
  return HANSE_OK;
}

int hanse_merkle_root(hanse_hash *root, const uint8_t *leaves, size_t leaf_len,
                      size_t n) {
  leaf_src src = {leaves, leaf_len, NULL, NULL};
  return root_of(root, &src, n);
}

int hanse_merkle_root_hashes(hanse_hash *root, const hanse_hash *leaves,
                             size_t n) {
  return hanse_merkle_root(root, (const uint8_t *)leaves, HANSE_HASH_BYTES, n);
}

int hanse_merkle_root_leaves(hanse_hash *root, const uint8_t *const *leaves,
                             const size_t *lens, size_t n) {
  leaf_src src = {NULL, 0, leaves, lens};
  return root_of(root, &src, n);
}

int hanse_merkle_proof(hanse_hash *path, size_t *path_len,
                       const hanse_hash *leaves, size_t n, size_t index) {
  leaf_src src = {(const uint8_t *)leaves, HANSE_HASH_BYTES, NULL, NULL};
  return proof_of(path, path_len, &src, n, index);
}

int hanse_merkle_proof_leaves(hanse_hash *path, size_t *path_len,
                              const uint8_t *const *leaves, const size_t *lens,
                              size_t n, size_t index) {
  leaf_src src = {NULL, 0, leaves, lens};
  return proof_of(path, path_len, &src, n, index);
}

int hanse_merkle_verify(const hanse_hash *root, const uint8_t *leaf,
                        size_t leaf_len, size_t index, size_t n,
                        const hanse_hash *path, size_t path_len) {
  if (index >= n) return 0;
  size_t fn = index, sn = n - 1;
  hanse_hash r;
  leaf_hash(&r, leaf, leaf_len);
  for (size_t i = 0; i < path_len; i++) {
    if (sn == 0) return 0;
    if ((fn & 1) || fn == sn) {
      node_hash(&r, &path[i], &r);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      node_hash(&r, &r, &path[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && hanse_hash_eq(&r, root);
}
