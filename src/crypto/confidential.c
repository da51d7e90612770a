/*
 * confidential.c -- sealing payload fields to recipients (libsodium).
 *
 * Two layers of keys. The value is encrypted once, with a fresh random
 * field key K, by XChaCha20-Poly1305 (the 24-byte nonce is random too: with
 * one message per key any nonce would do, and a random one costs nothing).
 * K is then sealed to each recipient with crypto_box_seal, an anonymous
 * sealed box to the recipient's X25519 key (derived from the Ed25519 key
 * members already have). Adding a recipient later means unsealing K as an
 * existing recipient and sealing it again; the nonce and ciphertext on
 * chain never change, so history is not re-encrypted.
 *
 * What the AEAD binds: the ciphertext and nonce, and the associated data
 * "hanse.confidential.v1" NUL <caller's ad>. The domain prefix keeps these
 * tags apart from any other use of the same key material and leaves room
 * for a version 2; the caller's ad (chain id, kind, field path) pins the
 * ciphertext to one place. The recipient list is not bound (that is what
 * lets it grow); a sealed entry moved from another field carries another
 * key and fails as "confidential.tampered", one re-labelled with another
 * member's key fails to open as "confidential.bad_key".
 *
 * Reading a field always starts with the same strict parse (view_parse),
 * which is also the whole of hanse_confidential_check: exact member set,
 * exact lengths, canonical base64, bounds, no duplicate key. It allocates
 * nothing: the ciphertext, up to 64 KiB, is validated in chunks through a
 * small stack buffer, and only opening decodes it into the heap. So a
 * module's `check` costs a pass over the text and no allocation.
 *
 * Grants (hanse_confidential_reseal, _open_sealed) carry one sealed key
 * outside the field, for a recipient added after the value went on chain
 * (modules/seal). Re-sealing first proves that the key opens the
 * ciphertext, so a wrong key given to one recipient never spreads; the
 * chain itself cannot make that check, having no key.
 *
 * Modules whose values are opaque to them find fields by shape
 * (hanse_confidential_check_tree): any object with an "enc" member must be
 * a well-formed field, and the walk reports where one is not.
 *
 * Secrets and their life: K lives in a stack array wiped on every path;
 * the X25519 secret key likewise; the plaintext lives in a malloc'd buffer
 * wiped before free(). The JSON text of the value is produced with
 * json_dumpb into a buffer of the exact size measured by a first, counting
 * json_dumpb, so jansson never holds the plaintext in a growing buffer of
 * its own. Nothing here logs.
 */
#include "crypto/confidential.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"

_Static_assert(HANSE_CONFIDENTIAL_KEY_BYTES ==
                   crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
               "field key size");
_Static_assert(HANSE_CONFIDENTIAL_NONCE_BYTES ==
                   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "nonce size");
_Static_assert(HANSE_CONFIDENTIAL_TAG_BYTES ==
                   crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "tag size");
_Static_assert(HANSE_CONFIDENTIAL_SEALED_BYTES ==
                   HANSE_CONFIDENTIAL_KEY_BYTES + crypto_box_SEALBYTES,
               "sealed key size");
_Static_assert(HANSE_PUBKEY_BYTES == crypto_box_PUBLICKEYBYTES &&
                   crypto_box_SECRETKEYBYTES == 32,
               "X25519 keys are 32 bytes");
_Static_assert(HANSE_CONFIDENTIAL_PLAINTEXT_MAX <=
                   crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX,
               "plaintext within the AEAD's bound");
_Static_assert(HANSE_CONFIDENTIAL_CT_MIN <= HANSE_CONFIDENTIAL_CT_MAX,
               "ciphertext bounds ordered");
_Static_assert(HANSE_CONFIDENTIAL_RECIPIENTS_MAX >= 1, "at least one");

#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL
/* Characters of the padded base64 of n bytes (without the NUL). */
#define B64_CHARS(n) (sodium_base64_ENCODED_LEN((n), B64_VARIANT) - 1)
/* The ciphertext is validated in chunks of this many base64 characters
 * (a multiple of 4, so only the last chunk can carry padding). */
#define B64_CHUNK_CHARS 4096
_Static_assert(B64_CHUNK_CHARS % 4 == 0, "whole base64 groups");

#define AD_DOMAIN "hanse.confidential.v1"
#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

#define CODE_MALFORMED "confidential.malformed"
#define CODE_NOT_RECIPIENT "confidential.not_recipient"
#define CODE_BAD_KEY "confidential.bad_key"
#define CODE_TAMPERED "confidential.tampered"
#define CODE_BAD_PLAINTEXT "confidential.bad_plaintext"
#define CODE_BAD_RECIPIENT "confidential.bad_recipient"
#define CODE_DUPLICATE "confidential.duplicate_recipient"
#define CODE_TOO_LARGE "confidential.too_large"

/* A parsed field: everything but the ciphertext is decoded; the
 * ciphertext stays base64 (borrowed from the JSON) until opened. */
typedef struct conf_view {
  uint8_t nonce[HANSE_CONFIDENTIAL_NONCE_BYTES];
  const char *ct_b64; /* borrowed from the field */
  size_t ct_b64_len;
  size_t ct_bytes;           /* decoded length, tag included */
  const json_t *recipients;  /* borrowed array */
  size_t n;
  hanse_pubkey keys[HANSE_CONFIDENTIAL_RECIPIENTS_MAX];
} conf_view;

#define MALFORMED(rej, ...) hanse_reject_code((rej), CODE_MALFORMED, 400, __VA_ARGS__)

static int nomem(hanse_reject *rej) {
  return hanse_reject_set(rej, HANSE_ERR(NOMEM), "confidential field: out of memory");
}

/* ---- base64 ---------------------------------------------------------- */

/* Decode exactly `want` bytes from the n characters at s: the padded,
 * canonical spelling only. 0 or -1. */
static int b64_exact(uint8_t *out, size_t want, const char *s, size_t n) {
  if (n != B64_CHARS(want)) return -1;
  size_t got = 0;
  const char *end = NULL;
  if (sodium_base642bin(out, want, s, n, NULL, &got, &end, B64_VARIANT) != 0)
    return -1;
  return end == s + n && got == want ? 0 : -1;
}

/* Validate n characters of padded, canonical base64 without keeping the
 * bytes, and give their decoded length. Chunks of B64_CHUNK_CHARS decode
 * into a stack buffer; a chunk before the last must decode to full
 * groups, so padding can stand only at the very end. 0 or -1. */
static int b64_measure(const char *s, size_t n, size_t *bytes_out) {
  uint8_t tmp[B64_CHUNK_CHARS / 4 * 3];
  size_t total = 0;
  if (n == 0 || n % 4 != 0) return -1;
  for (size_t off = 0; off < n; off += B64_CHUNK_CHARS) {
    size_t len = n - off < B64_CHUNK_CHARS ? n - off : B64_CHUNK_CHARS;
    int last = off + len == n;
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(tmp, sizeof tmp, s + off, len, NULL, &got, &end,
                          B64_VARIANT) != 0)
      return -1;
    if (end != s + off + len) return -1;
    if (!last && got != len / 4 * 3) return -1; /* padding mid-string */
    total += got;
  }
  *bytes_out = total;
  return 0;
}

/* A new JSON string holding the base64 of n bytes, or NULL (no memory). */
static json_t *b64_string(const uint8_t *b, size_t n) {
  size_t cap = sodium_base64_ENCODED_LEN(n, B64_VARIANT);
  char *text = malloc(cap);
  if (text == NULL) return NULL;
  sodium_bin2base64(text, cap, b, n, B64_VARIANT);
  json_t *s = json_stringn_nocheck(text, cap - 1);
  free(text);
  return s;
}

/* The string member `name` of obj: text and length, or -1 if it is
 * missing or not a string. */
static int get_string(const json_t *obj, const char *name, const char **s,
                      size_t *len) {
  const json_t *v = json_object_get(obj, name);
  if (!json_is_string(v)) return -1;
  *s = json_string_value(v);
  *len = json_string_length(v);
  return 0;
}

/* ---- parsing a field (the context-free check) ------------------------- */

static int view_parse_recipient(conf_view *v, size_t i, hanse_reject *rej) {
  const json_t *r = json_array_get(v->recipients, i);
  if (!json_is_object(r) || json_object_size(r) != 2)
    return MALFORMED(rej, "recipient %zu: not an object of \"key\" and \"sealed\"", i);
  const char *s;
  size_t len;
  if (get_string(r, "key", &s, &len) != 0 || len != 2 * HANSE_PUBKEY_BYTES ||
      hanse_pubkey_parse(&v->keys[i], s) != HANSE_OK)
    return MALFORMED(rej, "recipient %zu: \"key\" is not %d hex digits", i,
                     2 * HANSE_PUBKEY_BYTES);
  uint8_t sealed[HANSE_CONFIDENTIAL_SEALED_BYTES];
  if (get_string(r, "sealed", &s, &len) != 0 ||
      b64_exact(sealed, sizeof sealed, s, len) != 0)
    return MALFORMED(rej, "recipient %zu: \"sealed\" is not the base64 of %d bytes",
                     i, HANSE_CONFIDENTIAL_SEALED_BYTES);
  for (size_t j = 0; j < i; j++)
    if (memcmp(v->keys[j].b, v->keys[i].b, HANSE_PUBKEY_BYTES) == 0)
      return MALFORMED(rej, "recipient %zu: same key as recipient %zu", i, j);
  return HANSE_OK;
}

/* Parse and check `field` into v. HANSE_OK or "confidential.malformed". */
static int view_parse(const json_t *field, conf_view *v, hanse_reject *rej) {
  if (!json_is_object(field) || json_object_size(field) != 4)
    return MALFORMED(rej, "a confidential field is an object of exactly "
                          "\"enc\", \"nonce\", \"ct\" and \"recipients\"");
  const char *s;
  size_t len;
  if (get_string(field, "enc", &s, &len) != 0 ||
      len != strlen(HANSE_CONFIDENTIAL_ENC) ||
      memcmp(s, HANSE_CONFIDENTIAL_ENC, len) != 0)
    return MALFORMED(rej, "\"enc\" must be \"%s\"", HANSE_CONFIDENTIAL_ENC);
  if (get_string(field, "nonce", &s, &len) != 0 ||
      b64_exact(v->nonce, sizeof v->nonce, s, len) != 0)
    return MALFORMED(rej, "\"nonce\" is not the base64 of %d bytes",
                     HANSE_CONFIDENTIAL_NONCE_BYTES);
  if (get_string(field, "ct", &v->ct_b64, &v->ct_b64_len) != 0 ||
      v->ct_b64_len > B64_CHARS(HANSE_CONFIDENTIAL_CT_MAX) ||
      b64_measure(v->ct_b64, v->ct_b64_len, &v->ct_bytes) != 0 ||
      v->ct_bytes < HANSE_CONFIDENTIAL_CT_MIN ||
      v->ct_bytes > HANSE_CONFIDENTIAL_CT_MAX)
    return MALFORMED(rej, "\"ct\" is not the base64 of %d to %d bytes",
                     HANSE_CONFIDENTIAL_CT_MIN, HANSE_CONFIDENTIAL_CT_MAX);
  v->recipients = json_object_get(field, "recipients");
  v->n = json_array_size(v->recipients);
  if (!json_is_array(v->recipients) || v->n < 1 ||
      v->n > HANSE_CONFIDENTIAL_RECIPIENTS_MAX)
    return MALFORMED(rej, "\"recipients\" is not an array of 1 to %d entries",
                     HANSE_CONFIDENTIAL_RECIPIENTS_MAX);
  for (size_t i = 0; i < v->n; i++) {
    int rc = view_parse_recipient(v, i, rej);
    if (rc != HANSE_OK) return rc;
  }
  return HANSE_OK;
}

int hanse_confidential_check(const json_t *field, hanse_reject *rej) {
  conf_view v;
  return view_parse(field, &v, rej);
}

/* Index of `key` in the view, or -1. Keys are public: no need for a
 * constant-time compare. */
static long view_find(const conf_view *v, const hanse_pubkey *key) {
  for (size_t i = 0; i < v->n; i++)
    if (memcmp(v->keys[i].b, key->b, HANSE_PUBKEY_BYTES) == 0) return (long)i;
  return -1;
}

/* ---- keys ------------------------------------------------------------- */

/* Seal the field key to an Ed25519 public key. 0, or -1 if the key has no
 * X25519 form. */
static int seal_key(uint8_t sealed[HANSE_CONFIDENTIAL_SEALED_BYTES],
                    const uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES],
                    const hanse_pubkey *to) {
  uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
  if (crypto_sign_ed25519_pk_to_curve25519(x_pk, to->b) != 0) return -1;
  return crypto_box_seal(sealed, key, HANSE_CONFIDENTIAL_KEY_BYTES, x_pk);
}

/* Unseal the field key from the n base64 characters at s (a recipient's
 * "sealed", or a grant's) with `me`'s key pair into key (wiped by the
 * caller). `who` names the entry in messages ("recipient 2", "grant").
 * HANSE_OK, "confidential.malformed" (not the base64 of 80 bytes) or
 * "confidential.bad_key". */
static int unseal_b64(const char *s, size_t n, const hanse_keypair *me,
                      uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES],
                      const char *who, hanse_reject *rej) {
  uint8_t sealed[HANSE_CONFIDENTIAL_SEALED_BYTES];
  uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
  uint8_t x_sk[crypto_box_SECRETKEYBYTES];
  if (s == NULL || b64_exact(sealed, sizeof sealed, s, n) != 0)
    return MALFORMED(rej, "%s: \"sealed\" is not the base64 of %d bytes", who,
                     HANSE_CONFIDENTIAL_SEALED_BYTES);
  int ok = crypto_sign_ed25519_pk_to_curve25519(x_pk, me->pub.b) == 0 &&
           crypto_sign_ed25519_sk_to_curve25519(x_sk, me->sk) == 0 &&
           crypto_box_seal_open(key, sealed, sizeof sealed, x_pk, x_sk) == 0;
  sodium_memzero(x_sk, sizeof x_sk);
  if (!ok) {
    sodium_memzero(key, HANSE_CONFIDENTIAL_KEY_BYTES);
    return hanse_reject_code(rej, CODE_BAD_KEY, 400,
                             "%s: the sealed field key does not open with this key", who);
  }
  return HANSE_OK;
}

/* Unseal recipient i's copy of the field key (see unseal_b64). */
static int unseal_key(const conf_view *v, size_t i, const hanse_keypair *me,
                      uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES],
                      hanse_reject *rej) {
  const char *s = NULL;
  size_t len = 0;
  char who[32];
  snprintf(who, sizeof who, "recipient %zu", i);
  /* view_parse has checked this entry: a malformed one here is a bug. */
  int parsed = get_string(json_array_get(v->recipients, i), "sealed", &s, &len) == 0;
  HANSE_ASSERT(parsed);
  return unseal_b64(s, len, me, key, who, rej);
}

/* ---- the AEAD ----------------------------------------------------------- */

/* AD_DOMAIN NUL ad, in a new buffer (free()), or NULL. */
static uint8_t *full_ad(const char *ad, size_t *len_out) {
  size_t dl = sizeof AD_DOMAIN; /* with its NUL */
  size_t al = strlen(ad);
  uint8_t *b = malloc(dl + al);
  if (b == NULL) return NULL;
  memcpy(b, AD_DOMAIN, dl);
  memcpy(b + dl, ad, al);
  *len_out = dl + al;
  return b;
}

/* Decrypt the view's ciphertext with the field key under ad. On HANSE_OK,
 * *pt_out (malloc'd, pt_len bytes) holds the plaintext: the caller wipes
 * it with sodium_memzero and frees it. */
static int decrypt(const conf_view *v, const char *ad,
                   const uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES],
                   uint8_t **pt_out, size_t *pt_len, hanse_reject *rej) {
  int rc = HANSE_OK;
  size_t ad_len = 0;
  uint8_t *ct = malloc(v->ct_bytes);
  uint8_t *pt = malloc(v->ct_bytes - HANSE_CONFIDENTIAL_TAG_BYTES);
  uint8_t *adb = full_ad(ad, &ad_len);
  if (ct == NULL || pt == NULL || adb == NULL) {
    rc = nomem(rej);
    goto out;
  }
  size_t got = 0;
  const char *end = NULL;
  int decoded = sodium_base642bin(ct, v->ct_bytes, v->ct_b64, v->ct_b64_len,
                                  NULL, &got, &end, B64_VARIANT) == 0;
  HANSE_ASSERT(decoded && got == v->ct_bytes); /* view_parse measured it */
  unsigned long long n = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, ct, v->ct_bytes,
                                                 adb, ad_len, v->nonce,
                                                 key) != 0) {
    rc = hanse_reject_code(rej, CODE_TAMPERED, 400,
                           "the ciphertext does not authenticate under this key and "
                           "associated data");
    goto out;
  }
  HANSE_ASSERT(n == v->ct_bytes - HANSE_CONFIDENTIAL_TAG_BYTES);
  *pt_out = pt;
  *pt_len = (size_t)n;
  pt = NULL;
out:
  if (pt != NULL) {
    sodium_memzero(pt, v->ct_bytes - HANSE_CONFIDENTIAL_TAG_BYTES);
    free(pt);
  }
  free(ct);
  free(adb);
  return rc;
}

/* ---- the public functions ------------------------------------------------ */

/* One recipient entry {"key":hex,"sealed":b64}, or NULL (no memory). */
static json_t *recipient_entry(const hanse_pubkey *key,
                               const uint8_t sealed[HANSE_CONFIDENTIAL_SEALED_BYTES]) {
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *e = json_object();
  if (e == NULL) return NULL;
  if (json_object_set_new(e, "key", json_string(hanse_pubkey_hex(hex, key))) != 0 ||
      json_object_set_new(e, "sealed", b64_string(sealed, HANSE_CONFIDENTIAL_SEALED_BYTES)) != 0) {
    json_decref(e);
    return NULL;
  }
  return e;
}

int hanse_confidential_seal(const json_t *value, const char *ad,
                            const hanse_pubkey *recipients, size_t n,
                            json_t **out, hanse_reject *rej) {
  HANSE_ASSERT(value != NULL && ad != NULL && out != NULL);
  HANSE_ASSERT(n == 0 || recipients != NULL);
  int rc = HANSE_OK;
  uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES];
  uint8_t nonce[HANSE_CONFIDENTIAL_NONCE_BYTES];
  uint8_t *pt = NULL, *ct = NULL, *adb = NULL;
  size_t pt_len = 0, ad_len = 0;
  json_t *field = NULL, *list = NULL;

  if (n < 1 || n > HANSE_CONFIDENTIAL_RECIPIENTS_MAX)
    return hanse_reject_code(rej, CODE_BAD_RECIPIENT, 400,
                             "a confidential field needs 1 to %d recipients, not %zu",
                             HANSE_CONFIDENTIAL_RECIPIENTS_MAX, n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (memcmp(recipients[i].b, recipients[j].b, HANSE_PUBKEY_BYTES) == 0)
        return hanse_reject_code(rej, CODE_DUPLICATE, 409,
                                 "recipient %zu: same key as recipient %zu", i, j);

  pt_len = json_dumpb(value, NULL, 0, DUMP_FLAGS); /* counts only */
  if (pt_len == 0)
    return hanse_reject_code(rej, CODE_BAD_PLAINTEXT, 400, "the value cannot be encoded as JSON");
  if (pt_len > HANSE_CONFIDENTIAL_PLAINTEXT_MAX)
    return hanse_reject_code(rej, CODE_TOO_LARGE, 400,
                             "the value's JSON text is %zu bytes, more than %d", pt_len,
                             HANSE_CONFIDENTIAL_PLAINTEXT_MAX);

  randombytes_buf(key, sizeof key);
  randombytes_buf(nonce, sizeof nonce);
  field = json_object();
  list = json_array();
  pt = malloc(pt_len);
  ct = malloc(pt_len + HANSE_CONFIDENTIAL_TAG_BYTES);
  adb = full_ad(ad, &ad_len);
  if (field == NULL || list == NULL || pt == NULL || ct == NULL || adb == NULL) {
    rc = nomem(rej);
    goto out;
  }
  /* Seal first: a recipient without an X25519 key fails before any work
   * on the plaintext. */
  for (size_t i = 0; i < n; i++) {
    uint8_t sealed[HANSE_CONFIDENTIAL_SEALED_BYTES];
    if (seal_key(sealed, key, &recipients[i]) != 0) {
      rc = hanse_reject_code(rej, CODE_BAD_RECIPIENT, 400,
                             "recipient %zu: not a valid Ed25519 public key", i);
      goto out;
    }
    if (json_array_append_new(list, recipient_entry(&recipients[i], sealed)) != 0) {
      rc = nomem(rej);
      goto out;
    }
  }
  size_t again = json_dumpb(value, (char *)pt, pt_len, DUMP_FLAGS);
  HANSE_ASSERT(again == pt_len); /* the same value dumps the same way */
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, pt, pt_len, adb,
                                             ad_len, NULL, nonce, key);
  HANSE_ASSERT(ct_len == pt_len + HANSE_CONFIDENTIAL_TAG_BYTES);
  if (json_object_set_new(field, "enc", json_string(HANSE_CONFIDENTIAL_ENC)) != 0 ||
      json_object_set_new(field, "nonce", b64_string(nonce, sizeof nonce)) != 0 ||
      json_object_set_new(field, "ct", b64_string(ct, (size_t)ct_len)) != 0 ||
      json_object_set(field, "recipients", list) != 0) {
    rc = nomem(rej);
    goto out;
  }
  *out = field;
  field = NULL;
out:
  sodium_memzero(key, sizeof key);
  if (pt != NULL) {
    sodium_memzero(pt, pt_len);
    free(pt);
  }
  free(ct);
  free(adb);
  json_decref(list);
  json_decref(field);
  return rc;
}

/* Decrypt the view with the field key under ad and parse the JSON text
 * into *value_out. The plaintext is wiped before it is freed. */
static int open_with_key(const conf_view *v, const char *ad,
                         const uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES],
                         json_t **value_out, hanse_reject *rej) {
  uint8_t *pt = NULL;
  size_t pt_len = 0;
  int rc = decrypt(v, ad, key, &pt, &pt_len, rej);
  if (rc != HANSE_OK) return rc;
  json_error_t err;
  json_t *value = json_loadb((const char *)pt, pt_len,
                             JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
  sodium_memzero(pt, pt_len);
  sodium_memzero(&err, sizeof err); /* its text may quote the plaintext */
  free(pt);
  if (value == NULL)
    return hanse_reject_code(rej, CODE_BAD_PLAINTEXT, 400,
                             "the decrypted field is not one JSON text");
  *value_out = value;
  return HANSE_OK;
}

int hanse_confidential_open(const json_t *field, const char *ad,
                            const hanse_keypair *me, json_t **value_out,
                            hanse_reject *rej) {
  HANSE_ASSERT(ad != NULL && me != NULL && value_out != NULL);
  conf_view v;
  int rc = view_parse(field, &v, rej);
  if (rc != HANSE_OK) return rc;
  long i = view_find(&v, &me->pub);
  if (i < 0)
    return hanse_reject_code(rej, CODE_NOT_RECIPIENT, 403,
                             "this key is not among the field's %zu recipients", v.n);
  uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES];
  rc = unseal_key(&v, (size_t)i, me, key, rej);
  if (rc == HANSE_OK) rc = open_with_key(&v, ad, key, value_out, rej);
  sodium_memzero(key, sizeof key);
  return rc;
}

int hanse_confidential_open_sealed(const json_t *field, const char *ad,
                                   const hanse_keypair *me,
                                   const json_t *sealed, json_t **value_out,
                                   hanse_reject *rej) {
  HANSE_ASSERT(ad != NULL && me != NULL && value_out != NULL);
  conf_view v;
  int rc = view_parse(field, &v, rej);
  if (rc != HANSE_OK) return rc;
  uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES];
  rc = unseal_b64(json_string_value(sealed), json_string_length(sealed), me,
                  key, "grant", rej);
  if (rc == HANSE_OK) rc = open_with_key(&v, ad, key, value_out, rej);
  sodium_memzero(key, sizeof key);
  return rc;
}

/* The field key as `me` holds it -- from my entry in the list, or from
 * `my_sealed` when not NULL -- proven to open the ciphertext under ad, so
 * a wrong key given to me by the sealer is never passed on. On failure
 * the key is wiped; on success the caller wipes it. */
static int recover_key(const conf_view *v, const char *ad,
                       const hanse_keypair *me, const json_t *my_sealed,
                       uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES],
                       hanse_reject *rej) {
  int rc;
  if (my_sealed != NULL) {
    rc = unseal_b64(json_string_value(my_sealed), json_string_length(my_sealed),
                    me, key, "grant", rej);
  } else {
    long i = view_find(v, &me->pub);
    if (i < 0)
      return hanse_reject_code(rej, CODE_NOT_RECIPIENT, 403,
                               "the granting key is not among the field's recipients");
    rc = unseal_key(v, (size_t)i, me, key, rej);
  }
  uint8_t *pt = NULL;
  size_t pt_len = 0;
  if (rc == HANSE_OK) rc = decrypt(v, ad, key, &pt, &pt_len, rej);
  if (pt != NULL) {
    sodium_memzero(pt, pt_len);
    free(pt);
  }
  if (rc != HANSE_OK) sodium_memzero(key, HANSE_CONFIDENTIAL_KEY_BYTES);
  return rc;
}

int hanse_confidential_add_recipient(const json_t *field, const char *ad,
                                     const hanse_keypair *existing_recipient,
                                     const hanse_pubkey *new_recipient,
                                     json_t **out_field, hanse_reject *rej) {
  HANSE_ASSERT(ad != NULL && existing_recipient != NULL);
  HANSE_ASSERT(new_recipient != NULL && out_field != NULL);
  conf_view v;
  int rc = view_parse(field, &v, rej);
  if (rc != HANSE_OK) return rc;
  if (view_find(&v, new_recipient) >= 0)
    return hanse_reject_code(rej, CODE_DUPLICATE, 409, "the new key is already a recipient");
  if (v.n >= HANSE_CONFIDENTIAL_RECIPIENTS_MAX)
    return hanse_reject_code(rej, CODE_BAD_RECIPIENT, 400, "the field already has %d recipients",
                             HANSE_CONFIDENTIAL_RECIPIENTS_MAX);

  uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES];
  uint8_t sealed[HANSE_CONFIDENTIAL_SEALED_BYTES];
  rc = recover_key(&v, ad, existing_recipient, NULL, key, rej);
  if (rc == HANSE_OK && seal_key(sealed, key, new_recipient) != 0)
    rc = hanse_reject_code(rej, CODE_BAD_RECIPIENT, 400,
                           "the new key is not a valid Ed25519 public key");
  sodium_memzero(key, sizeof key);
  if (rc != HANSE_OK) return rc;

  json_t *copy = json_deep_copy(field);
  if (copy == NULL ||
      json_array_append_new(json_object_get(copy, "recipients"),
                            recipient_entry(new_recipient, sealed)) != 0) {
    json_decref(copy);
    return nomem(rej);
  }
  *out_field = copy;
  return HANSE_OK;
}

int hanse_confidential_reseal(const json_t *field, const char *ad,
                              const hanse_keypair *me, const json_t *my_sealed,
                              const hanse_pubkey *new_recipient,
                              json_t **sealed_out, hanse_reject *rej) {
  HANSE_ASSERT(ad != NULL && me != NULL);
  HANSE_ASSERT(new_recipient != NULL && sealed_out != NULL);
  conf_view v;
  int rc = view_parse(field, &v, rej);
  if (rc != HANSE_OK) return rc;
  if (view_find(&v, new_recipient) >= 0)
    return hanse_reject_code(rej, CODE_DUPLICATE, 409, "the new key is already a recipient");

  uint8_t key[HANSE_CONFIDENTIAL_KEY_BYTES];
  uint8_t sealed[HANSE_CONFIDENTIAL_SEALED_BYTES];
  rc = recover_key(&v, ad, me, my_sealed, key, rej);
  if (rc == HANSE_OK && seal_key(sealed, key, new_recipient) != 0)
    rc = hanse_reject_code(rej, CODE_BAD_RECIPIENT, 400,
                           "the new key is not a valid Ed25519 public key");
  sodium_memzero(key, sizeof key);
  if (rc != HANSE_OK) return rc;
  json_t *s = b64_string(sealed, sizeof sealed);
  if (s == NULL) return nomem(rej);
  *sealed_out = s;
  return HANSE_OK;
}

/* ---- fields inside payloads ---------------------------------------------- */

int hanse_confidential_is_field(const json_t *v) {
  return json_is_object(v) && json_object_get(v, "enc") != NULL;
}

/* Deeper than any payload the parser admits (16 levels): a guard for other
 * callers, not a bound users meet. */
#define TREE_DEPTH_MAX 64

/* Append ".seg" (or "seg" at the start) to the path in buf, truncating;
 * returns the old length to restore. */
static size_t path_push(char *buf, size_t cap, const char *seg) {
  size_t old = strlen(buf);
  if (old < cap - 1) snprintf(buf + old, cap - old, "%s%s", old ? "." : "", seg);
  return old;
}

static int tree_walk(const json_t *v, int depth, char *path, size_t cap,
                     size_t *sealed, hanse_reject *rej) {
  if (depth > TREE_DEPTH_MAX)
    return MALFORMED(rej, "%s: nested too deeply", path[0] ? path : "value");
  if (hanse_confidential_is_field(v)) {
    int rc = hanse_confidential_check(v, rej);
    if (rc != HANSE_OK) {
      hanse_reject_prefix(rej, "%s", path[0] ? path : "value");
      return rc;
    }
    *sealed += json_dumpb(v, NULL, 0, JSON_COMPACT);
    return HANSE_OK;
  }
  if (json_is_object(v)) {
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m) {
      size_t old = path_push(path, cap, k);
      int rc = tree_walk(m, depth + 1, path, cap, sealed, rej);
      path[old] = 0;
      if (rc != HANSE_OK) return rc;
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) {
      char seg[24];
      snprintf(seg, sizeof seg, "%zu", i);
      size_t old = path_push(path, cap, seg);
      int rc = tree_walk(m, depth + 1, path, cap, sealed, rej);
      path[old] = 0;
      if (rc != HANSE_OK) return rc;
    }
  }
  return HANSE_OK;
}

int hanse_confidential_check_tree(const json_t *v, size_t *sealed_bytes,
                                  hanse_reject *rej) {
  char path[HANSE_CONFIDENTIAL_PATH_MAX + 1] = "";
  size_t sealed = 0;
  int rc = tree_walk(v, 0, path, sizeof path, &sealed, rej);
  if (rc == HANSE_OK && sealed_bytes != NULL) *sealed_bytes = sealed;
  return rc;
}

int hanse_confidential_plain_size(const json_t *v, size_t *plain_bytes, hanse_reject *rej) {
  size_t sealed = 0;
  *plain_bytes = 0;
  int rc = hanse_confidential_check_tree(v, &sealed, rej);
  if (rc != HANSE_OK) return rc;
  size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
  if (n < sealed) /* 0: jansson ran out of memory measuring */
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), "cannot measure the value");
  *plain_bytes = n - sealed;
  return HANSE_OK;
}

int hanse_confidential_path_valid(const char *path) {
  if (path == NULL) return 0;
  size_t n = strnlen(path, HANSE_CONFIDENTIAL_PATH_MAX + 1);
  if (n == 0 || n > HANSE_CONFIDENTIAL_PATH_MAX) return 0;
  int seg_len = 0;
  for (size_t i = 0; i < n; i++) {
    char c = path[i];
    if (c == '.') {
      if (seg_len == 0) return 0; /* empty segment */
      seg_len = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_' || c == '-') {
      seg_len++;
    } else {
      return 0;
    }
  }
  return seg_len > 0;
}

int hanse_confidential_sealed_check(const json_t *sealed, hanse_reject *rej) {
  uint8_t b[HANSE_CONFIDENTIAL_SEALED_BYTES];
  if (!json_is_string(sealed) ||
      b64_exact(b, sizeof b, json_string_value(sealed), json_string_length(sealed)) != 0)
    return MALFORMED(rej, "a sealed key is the base64 of %d bytes",
                     HANSE_CONFIDENTIAL_SEALED_BYTES);
  return HANSE_OK;
}
