/*
 * test_merkle.c -- RFC 6962 tree hashes, audit paths and path checking.
 *
 * Known answers (tests/vectors/rfc6962_merkle.txt): the Certificate
 * Transparency reference tree of eight variable-length leaves, its roots
 * for sizes 0..8 and its published audit paths. Beyond those, every leaf
 * of every tree size 1..8 gets a proof that must equal the path of a
 * reference implementation written here straight from RFC 6962 section
 * 2.1.1 (recursive, no shared code), must verify against the known root,
 * and must fail for a wrong index, a wrong size, a wrong leaf, a wrong
 * root and every corrupted, shortened or lengthened path (the probes of
 * the CT verifier tests). The fixed-size API must build the same trees as
 * the variable-length one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "crypto/merkle.h"

#define NLEAVES 8
#define NPATHS 8

typedef struct kat_path {
  size_t index, size, len;
  hanse_hash path[HANSE_MERKLE_PATH_MAX];
} kat_path;

typedef struct kat {
  uint8_t *leaf[NLEAVES];
  size_t leaf_len[NLEAVES];
  hanse_hash root[NLEAVES + 1]; /* by tree size */
  int have_root[NLEAVES + 1];
  kat_path paths[NPATHS];
  int npaths;
} kat;

static kat K;

static int load_kat(void **state) {
  (void)state;
  memset(&K, 0, sizeof K);
  FILE *f = fopen(HANSE_VECTORS_DIR "/rfc6962_merkle.txt", "r");
  if (f == NULL) return -1;
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char *save = NULL;
    char *w = strtok_r(line, " ", &save);
    if (w == NULL || w[0] == '#') continue;
    if (strcmp(w, "leaf") == 0) {
      size_t i = strtoul(strtok_r(NULL, " ", &save), NULL, 10);
      const char *h = strtok_r(NULL, " ", &save);
      if (i >= NLEAVES || h == NULL) return -1;
      if (strcmp(h, "-") == 0) h = "";
      if (hanse_hex_decode_alloc(h, strlen(h), &K.leaf[i], &K.leaf_len[i]) != HANSE_OK)
        return -1;
    } else if (strcmp(w, "root") == 0) {
      size_t n = strtoul(strtok_r(NULL, " ", &save), NULL, 10);
      if (n > NLEAVES || hanse_hash_parse(&K.root[n], strtok_r(NULL, " ", &save)) != HANSE_OK)
        return -1;
      K.have_root[n] = 1;
    } else if (strcmp(w, "path") == 0) {
      if (K.npaths >= NPATHS) return -1;
      kat_path *p = &K.paths[K.npaths++];
      p->index = strtoul(strtok_r(NULL, " ", &save), NULL, 10);
      p->size = strtoul(strtok_r(NULL, " ", &save), NULL, 10);
      const char *h;
      while ((h = strtok_r(NULL, " ", &save)) != NULL) {
        if (p->len >= HANSE_MERKLE_PATH_MAX || hanse_hash_parse(&p->path[p->len++], h) != HANSE_OK)
          return -1;
      }
    } else {
      return -1;
    }
  }
  fclose(f);
  return 0;
}

static int free_kat(void **state) {
  (void)state;
  for (int i = 0; i < NLEAVES; i++) free(K.leaf[i]);
  return 0;
}

/* ---- reference implementation, straight from RFC 6962 2.1 / 2.1.1 ---- */

static void ref_leaf(hanse_hash *out, const uint8_t *d, size_t n) {
  hanse_sha256_state s;
  hanse_sha256_init(&s);
  hanse_sha256_update(&s, "\x00", 1);
  hanse_sha256_update(&s, d, n);
  hanse_sha256_final(&s, out);
}

static size_t ref_split(size_t n) { /* largest power of two < n */
  size_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

static void ref_mth(hanse_hash *out, uint8_t *const *d, const size_t *l, size_t n) {
  if (n == 0) {
    hanse_sha256(out, "", 0);
    return;
  }
  if (n == 1) {
    ref_leaf(out, d[0], l[0]);
    return;
  }
  size_t k = ref_split(n);
  hanse_hash a, b;
  ref_mth(&a, d, l, k);
  ref_mth(&b, d + k, l + k, n - k);
  hanse_sha256_state s;
  hanse_sha256_init(&s);
  hanse_sha256_update(&s, "\x01", 1);
  hanse_sha256_update(&s, a.b, HANSE_HASH_BYTES);
  hanse_sha256_update(&s, b.b, HANSE_HASH_BYTES);
  hanse_sha256_final(&s, out);
}

/* PATH(m, D[n]), leaf side first. */
static size_t ref_path(hanse_hash *out, size_t m, uint8_t *const *d,
                       const size_t *l, size_t n) {
  if (n <= 1) return 0;
  size_t k = ref_split(n), len;
  if (m < k) {
    len = ref_path(out, m, d, l, k);
    ref_mth(&out[len], d + k, l + k, n - k);
  } else {
    len = ref_path(out, m - k, d + k, l + k, n - k);
    ref_mth(&out[len], d, l, k);
  }
  return len + 1;
}

/* ---- tests ---- */

static const uint8_t *const *leaves(void) { return (const uint8_t *const *)K.leaf; }

static void test_roots_known_answers(void **state) {
  (void)state;
  for (size_t n = 0; n <= NLEAVES; n++) {
    assert_true(K.have_root[n]);
    hanse_hash root;
    assert_int_equal(hanse_merkle_root_leaves(&root, leaves(), K.leaf_len, n), HANSE_OK);
    assert_memory_equal(root.b, K.root[n].b, HANSE_HASH_BYTES);
    hanse_hash ref;
    ref_mth(&ref, K.leaf, K.leaf_len, n);
    assert_memory_equal(ref.b, K.root[n].b, HANSE_HASH_BYTES);
  }
  /* the empty tree is SHA-256 of nothing, whatever API builds it */
  hanse_hash e1, e2;
  assert_int_equal(hanse_merkle_root(&e1, NULL, 32, 0), HANSE_OK);
  assert_int_equal(hanse_merkle_root_hashes(&e2, NULL, 0), HANSE_OK);
  assert_memory_equal(e1.b, K.root[0].b, HANSE_HASH_BYTES);
  assert_memory_equal(e2.b, K.root[0].b, HANSE_HASH_BYTES);
}

static void test_known_paths(void **state) {
  (void)state;
  assert_int_equal(K.npaths, 5);
  for (int i = 0; i < K.npaths; i++) {
    const kat_path *kp = &K.paths[i];
    hanse_hash path[HANSE_MERKLE_PATH_MAX];
    size_t len = 99;
    assert_int_equal(hanse_merkle_proof_leaves(path, &len, leaves(), K.leaf_len, kp->size,
                                               kp->index),
                     HANSE_OK);
    assert_int_equal(len, kp->len);
    for (size_t j = 0; j < len; j++)
      assert_memory_equal(path[j].b, kp->path[j].b, HANSE_HASH_BYTES);
    assert_int_equal(hanse_merkle_verify(&K.root[kp->size], K.leaf[kp->index],
                                         K.leaf_len[kp->index], kp->index, kp->size,
                                         kp->path, kp->len),
                     1);
  }
}

/* The corruption probes of the CT verifier tests: every one must fail. */
static void expect_rejections(size_t idx, size_t n, const hanse_hash *root,
                              const uint8_t *leaf, size_t leaf_len,
                              const hanse_hash *path, size_t len) {
  hanse_hash bad[HANSE_MERKLE_PATH_MAX + 2];
  /* wrong index: -1 (wraps for 0), +1, ^2 */
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx - 1, n, path, len), 0);
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx + 1, n, path, len), 0);
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx ^ 2, n, path, len), 0);
  /* wrong tree size */
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n * 2, path, len), 0);
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n / 2, path, len), 0);
  /* wrong leaf, wrong root */
  assert_int_equal(hanse_merkle_verify(root, (const uint8_t *)"WrongLeaf", 9, idx, n, path, len), 0);
  assert_int_equal(hanse_merkle_verify(&K.root[0], leaf, leaf_len, idx, n, path, len), 0);
  hanse_hash other = *root;
  other.b[31] ^= 1;
  assert_int_equal(hanse_merkle_verify(&other, leaf, leaf_len, idx, n, path, len), 0);
  /* each path element changed in one bit */
  for (size_t j = 0; j < len; j++) {
    memcpy(bad, path, len * sizeof *path);
    bad[j].b[0] ^= 8;
    assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n, bad, len), 0);
  }
  /* garbage at the end, at the front; a removed element */
  memcpy(bad, path, len * sizeof *path);
  memset(&bad[len], 0, sizeof bad[len]);
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n, bad, len + 1), 0);
  bad[len] = *root;
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n, bad, len + 1), 0);
  memset(&bad[0], 0, sizeof bad[0]);
  memcpy(&bad[1], path, len * sizeof *path);
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n, bad, len + 1), 0);
  bad[0] = *root;
  assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n, bad, len + 1), 0);
  if (len > 0)
    assert_int_equal(hanse_merkle_verify(root, leaf, leaf_len, idx, n, path, len - 1), 0);
}

static void test_every_proof_sizes_1_to_8(void **state) {
  (void)state;
  int checked = 0;
  for (size_t n = 1; n <= NLEAVES; n++) {
    for (size_t i = 0; i < n; i++) {
      hanse_hash path[HANSE_MERKLE_PATH_MAX], ref[HANSE_MERKLE_PATH_MAX];
      size_t len = 0;
      assert_int_equal(hanse_merkle_proof_leaves(path, &len, leaves(), K.leaf_len, n, i),
                       HANSE_OK);
      size_t rlen = ref_path(ref, i, K.leaf, K.leaf_len, n);
      assert_int_equal(len, rlen);
      for (size_t j = 0; j < len; j++) assert_memory_equal(path[j].b, ref[j].b, HANSE_HASH_BYTES);
      assert_int_equal(hanse_merkle_verify(&K.root[n], K.leaf[i], K.leaf_len[i], i, n, path, len), 1);
      expect_rejections(i, n, &K.root[n], K.leaf[i], K.leaf_len[i], path, len);
      checked++;
    }
  }
  assert_int_equal(checked, 36); /* 1 + 2 + ... + 8 */
}

static void test_bad_arguments(void **state) {
  (void)state;
  hanse_hash path[HANSE_MERKLE_PATH_MAX];
  size_t len = 7;
  assert_int_equal(hanse_merkle_proof_leaves(path, &len, leaves(), K.leaf_len, 8, 8),
                   HANSE_ERR(INVALID));
  assert_int_equal(len, 0);
  assert_int_equal(hanse_merkle_proof_leaves(path, &len, NULL, NULL, 0, 0), HANSE_ERR(INVALID));
  assert_int_equal(hanse_merkle_proof(path, &len, NULL, 0, 0), HANSE_ERR(INVALID));
  /* verify never accepts index >= size, nor an empty tree */
  assert_int_equal(hanse_merkle_verify(&K.root[1], K.leaf[0], 0, 1, 1, path, 0), 0);
  assert_int_equal(hanse_merkle_verify(&K.root[0], K.leaf[0], 0, 0, 0, path, 0), 0);
}

/* The fixed-size entry points (transaction ids) build the same trees as
 * the variable-length ones, for sizes that exercise several levels. */
static void test_fixed_size_api_agrees(void **state) {
  (void)state;
  enum { N = 70 };
  hanse_hash ids[N];
  const uint8_t *ptrs[N];
  size_t lens[N];
  for (int i = 0; i < N; i++) {
    hanse_sha256(&ids[i], &i, sizeof i);
    ptrs[i] = ids[i].b;
    lens[i] = HANSE_HASH_BYTES;
  }
  for (size_t n = 0; n <= N; n++) {
    hanse_hash a, b, c;
    assert_int_equal(hanse_merkle_root_hashes(&a, ids, n), HANSE_OK);
    assert_int_equal(hanse_merkle_root(&b, (const uint8_t *)ids, HANSE_HASH_BYTES, n), HANSE_OK);
    assert_int_equal(hanse_merkle_root_leaves(&c, ptrs, lens, n), HANSE_OK);
    assert_memory_equal(a.b, b.b, HANSE_HASH_BYTES);
    assert_memory_equal(a.b, c.b, HANSE_HASH_BYTES);
    for (size_t i = 0; i < n; i += (n > 20 ? 7 : 1)) {
      hanse_hash p1[HANSE_MERKLE_PATH_MAX], p2[HANSE_MERKLE_PATH_MAX];
      size_t l1, l2;
      assert_int_equal(hanse_merkle_proof(p1, &l1, ids, n, i), HANSE_OK);
      assert_int_equal(hanse_merkle_proof_leaves(p2, &l2, ptrs, lens, n, i), HANSE_OK);
      assert_int_equal(l1, l2);
      assert_memory_equal(p1, p2, l1 * sizeof *p1);
      assert_int_equal(hanse_merkle_verify(&a, ids[i].b, HANSE_HASH_BYTES, i, n, p1, l1), 1);
      assert_int_equal(hanse_merkle_verify(&a, ids[i].b, HANSE_HASH_BYTES, i, n * 2, p1, l1), 0);
    }
  }
  /* a NULL pointer with length 0 is an empty leaf */
  const uint8_t *nul[1] = {NULL};
  size_t zero[1] = {0};
  hanse_hash r;
  assert_int_equal(hanse_merkle_root_leaves(&r, nul, zero, 1), HANSE_OK);
  assert_memory_equal(r.b, K.root[1].b, HANSE_HASH_BYTES);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roots_known_answers),
      cmocka_unit_test(test_known_paths),
      cmocka_unit_test(test_every_proof_sizes_1_to_8),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_fixed_size_api_agrees),
  };
  return cmocka_run_group_tests(tests, load_kat, free_kat);
}
