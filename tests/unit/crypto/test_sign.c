/*
 * test_sign.c -- Ed25519 keys and signatures, and key files.
 *
 * Known answers: RFC 8032 section 7.1 (TEST 1, 2, 3, 1024, SHA(abc)),
 * read from tests/vectors/rfc8032_ed25519.txt. For each: the key pair
 * derived from the secret gives the public key, signing gives the
 * signature byte for byte (Ed25519 is deterministic), verification
 * accepts it, and flipping any one bit of the signature, of the message
 * or of the public key makes verification fail.
 *
 * Key files: written 0600, never overwritten, read back to the same key,
 * and a file whose public key does not match its seed is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/hex.h"
#include "crypto/sign.h"
#include "fixture.h"

typedef struct vec {
  char name[32];
  uint8_t secret[HANSE_SEED_BYTES];
  hanse_pubkey pub;
  uint8_t *msg;
  size_t msg_len;
  hanse_sig sig;
} vec;

#define VEC_MAX 8

/* Parse the vector file: "test: NAME", then "field:" lines followed by hex
 * lines, blocks separated by blank lines (see the file's header). */
static int load_vectors(vec *out, int max) {
  FILE *f = fopen(HANSE_VECTORS_DIR "/rfc8032_ed25519.txt", "r");
  if (f == NULL) fail_msg("cannot open %s", HANSE_VECTORS_DIR "/rfc8032_ed25519.txt");
  char line[512];
  char field[32] = "";
  char hex[4096] = "";
  int n = -1;
  /* flush the collected hex into the current field */
#define FLUSH()                                                                \
  do {                                                                         \
    if (n >= 0 && field[0]) {                                                  \
      uint8_t *bytes = NULL;                                                   \
      size_t blen = 0;                                                         \
      assert_int_equal(hanse_hex_decode_alloc(hex, strlen(hex), &bytes, &blen), \
                       HANSE_OK);                                              \
      if (strcmp(field, "secret") == 0) {                                      \
        assert_int_equal(blen, HANSE_SEED_BYTES);                              \
        memcpy(out[n].secret, bytes, blen);                                    \
      } else if (strcmp(field, "public") == 0) {                               \
        assert_int_equal(blen, HANSE_PUBKEY_BYTES);                            \
        memcpy(out[n].pub.b, bytes, blen);                                     \
      } else if (strcmp(field, "signature") == 0) {                            \
        assert_int_equal(blen, HANSE_SIG_BYTES);                               \
        memcpy(out[n].sig.b, bytes, blen);                                     \
      } else if (strcmp(field, "message") == 0) {                              \
        out[n].msg = bytes;                                                    \
        out[n].msg_len = blen;                                                 \
        bytes = NULL;                                                          \
      } else {                                                                 \
        fail_msg("unknown field %s", field);                                   \
      }                                                                        \
      free(bytes);                                                             \
    }                                                                          \
    field[0] = 0;                                                              \
    hex[0] = 0;                                                                \
  } while (0)
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == '#') continue;
    if (line[0] == 0) {
      FLUSH();
      continue;
    }
    if (strncmp(line, "test:", 5) == 0) {
      FLUSH();
      n++;
      assert_true(n < max);
      memset(&out[n], 0, sizeof out[n]);
      snprintf(out[n].name, sizeof out[n].name, "%.31s", line + 6);
      continue;
    }
    size_t l = strlen(line);
    if (line[l - 1] == ':') {
      FLUSH();
      line[l - 1] = 0;
      snprintf(field, sizeof field, "%.31s", line);
      continue;
    }
    assert_true(strlen(hex) + l < sizeof hex);
    strcat(hex, line);
  }
  FLUSH();
#undef FLUSH
  fclose(f);
  return n + 1;
}

static void free_vectors(vec *v, int n) {
  for (int i = 0; i < n; i++) free(v[i].msg);
}

static void test_rfc8032_vectors(void **state) {
  (void)state;
  vec v[VEC_MAX];
  int n = load_vectors(v, VEC_MAX);
  assert_int_equal(n, 5);
  const char *names[] = {"TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"};
  const size_t lens[] = {0, 1, 2, 1023, 64};
  for (int i = 0; i < n; i++) {
    assert_string_equal(v[i].name, names[i]);
    assert_int_equal(v[i].msg_len, lens[i]);
    hanse_keypair kp;
    hanse_keypair_from_seed(&kp, v[i].secret);
    assert_memory_equal(kp.pub.b, v[i].pub.b, HANSE_PUBKEY_BYTES);
    /* libsodium layout: seed || public */
    assert_memory_equal(kp.sk, v[i].secret, HANSE_SEED_BYTES);
    assert_memory_equal(kp.sk + HANSE_SEED_BYTES, v[i].pub.b, HANSE_PUBKEY_BYTES);
    hanse_sig sig;
    hanse_sign(&sig, v[i].msg, v[i].msg_len, &kp);
    assert_memory_equal(sig.b, v[i].sig.b, HANSE_SIG_BYTES);
    assert_int_equal(hanse_sign_verify(&v[i].sig, v[i].msg, v[i].msg_len, &v[i].pub), 1);
    hanse_keypair_wipe(&kp);
  }
  free_vectors(v, n);
}

static void test_rfc8032_one_bit_flips_rejected(void **state) {
  (void)state;
  vec v[VEC_MAX];
  int n = load_vectors(v, VEC_MAX);
  for (int i = 0; i < n; i++) {
    /* every bit of the signature */
    for (int bit = 0; bit < 8 * HANSE_SIG_BYTES; bit++) {
      hanse_sig s = v[i].sig;
      s.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      assert_int_equal(hanse_sign_verify(&s, v[i].msg, v[i].msg_len, &v[i].pub), 0);
    }
    /* every bit of the public key */
    for (int bit = 0; bit < 8 * HANSE_PUBKEY_BYTES; bit++) {
      hanse_pubkey p = v[i].pub;
      p.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      assert_int_equal(hanse_sign_verify(&v[i].sig, v[i].msg, v[i].msg_len, &p), 0);
    }
    /* bits of the message (all of them for short messages) */
    size_t step = v[i].msg_len > 64 ? 37 : 1;
    for (size_t bit = 0; bit < 8 * v[i].msg_len; bit += step) {
      v[i].msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      assert_int_equal(hanse_sign_verify(&v[i].sig, v[i].msg, v[i].msg_len, &v[i].pub), 0);
      v[i].msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* one byte more or less */
    if (v[i].msg_len > 0)
      assert_int_equal(hanse_sign_verify(&v[i].sig, v[i].msg, v[i].msg_len - 1, &v[i].pub), 0);
    assert_int_equal(hanse_sign_verify(&v[i].sig, v[i].msg, v[i].msg_len, &v[i].pub), 1);
  }
  free_vectors(v, n);
}

static void test_generate_and_hex(void **state) {
  (void)state;
  hanse_keypair a, b;
  hanse_keypair_generate(&a);
  hanse_keypair_generate(&b);
  assert_memory_not_equal(a.pub.b, b.pub.b, HANSE_PUBKEY_BYTES);
  hanse_sig sig;
  hanse_sign(&sig, "m", 1, &a);
  assert_int_equal(hanse_sign_verify(&sig, "m", 1, &a.pub), 1);
  assert_int_equal(hanse_sign_verify(&sig, "m", 1, &b.pub), 0);
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, &a.pub);
  assert_int_equal(strlen(hex), 64);
  hanse_pubkey p;
  assert_int_equal(hanse_pubkey_parse(&p, hex), HANSE_OK);
  assert_memory_equal(p.b, a.pub.b, HANSE_PUBKEY_BYTES);
  assert_int_equal(hanse_pubkey_parse(&p, "abcd"), HANSE_ERR(DECODE_BAD_FIELD));
  assert_int_equal(hanse_pubkey_parse(&p, NULL), HANSE_ERR(DECODE_BAD_FIELD));
  hanse_keypair_wipe(&a);
  uint8_t zero[sizeof a];
  memset(zero, 0, sizeof zero);
  assert_memory_equal(&a, zero, sizeof a);
  hanse_keypair_wipe(&b);
}

static void test_keyfile(void **state) {
  (void)state;
  char dir[256];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/hanse-key-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  char path[300];
  snprintf(path, sizeof path, "%s/node.key", dir);

  hanse_keypair kp, back;
  fx_key(&kp, 0x42);
  assert_int_equal(hanse_keyfile_write(path, &kp), HANSE_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* never overwritten */
  hanse_keypair other;
  fx_key(&other, 0x43);
  assert_int_equal(hanse_keyfile_write(path, &other), HANSE_ERR(INVALID));
  assert_int_equal(hanse_keyfile_read(path, &back), HANSE_OK);
  assert_memory_equal(&back, &kp, sizeof kp);

  /* a file whose public key does not belong to its seed is refused */
  char bad[300], pub[HANSE_HASH_HEX_BYTES], seed[HANSE_HASH_HEX_BYTES];
  snprintf(bad, sizeof bad, "%s/bad.key", dir);
  FILE *f = fopen(bad, "w");
  assert_non_null(f);
  fprintf(f, "{\"public\":\"%s\",\"seed\":\"%s\"}\n", hanse_pubkey_hex(pub, &other.pub),
          hanse_hex_encode(seed, kp.sk, HANSE_SEED_BYTES));
  fclose(f);
  assert_int_equal(hanse_keyfile_read(bad, &back), HANSE_ERR(INVALID));
  /* malformed and missing files */
  f = fopen(bad, "w");
  fputs("{\"public\":\"zz\"}", f);
  fclose(f);
  assert_int_equal(hanse_keyfile_read(bad, &back), HANSE_ERR(INVALID));
  f = fopen(bad, "w");
  fputs("not json", f);
  fclose(f);
  /* exists but is no key file: invalid, not an I/O error */
  assert_int_equal(hanse_keyfile_read(bad, &back), HANSE_ERR(INVALID));
  char missing[300];
  snprintf(missing, sizeof missing, "%s/none.key", dir);
  assert_int_equal(hanse_keyfile_read(missing, &back), HANSE_ERR(IO));

  unlink(path);
  unlink(bad);
  rmdir(dir);
  hanse_keypair_wipe(&kp);
  hanse_keypair_wipe(&other);
  hanse_keypair_wipe(&back);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc8032_vectors),
      cmocka_unit_test(test_rfc8032_one_bit_flips_rejected),
      cmocka_unit_test(test_generate_and_hex),
      cmocka_unit_test(test_keyfile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
