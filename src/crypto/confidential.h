/*
 * confidential.h -- payload fields encrypted to a set of recipients.
 *
 * A confidential field replaces one JSON value of a payload by a JSON
 * object that only its recipients can open:
 *
 *   {"enc":        "xchacha20poly1305-ietf",
 *    "nonce":      "<base64 of 24 bytes>",
 *    "ct":         "<base64 of ciphertext || 16-byte tag>",
 *    "recipients": [{"key": "<Ed25519 public key, 64 hex>",
 *                    "sealed": "<base64 of 80 bytes>"}, ...]}
 *
 * Encodings: binary values are base64, libsodium's ORIGINAL variant
 * (RFC 4648 section 4 alphabet "+/", padded with '='), canonical (the
 * unused bits of the last group are zero) and without whitespace, so each
 * value has exactly one spelling. Public keys are hex, as everywhere else
 * in Hanse (lowercase written, either case read). The object has exactly
 * these four members; anything else is "confidential.malformed".
 *
 * Cryptography (libsodium):
 *  - a fresh random 32-byte field key K per sealed value;
 *  - ct = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad', K,
 *    nonce) with a random 24-byte nonce; the plaintext is the compact JSON
 *    text of the value (json_dumpb, JSON_COMPACT | JSON_SORT_KEYS |
 *    JSON_ENCODE_ANY), and ad' = "hanse.confidential.v1" NUL ad, where ad
 *    is the caller's associated data;
 *  - sealed = crypto_box_seal(K, X25519 public key of the recipient), the
 *    X25519 key derived from the recipient's Ed25519 key with
 *    crypto_sign_ed25519_pk_to_curve25519 (the recipient opens with the
 *    key from crypto_sign_ed25519_sk_to_curve25519).
 *
 * Associated data: the caller names where the value lives, and must give
 * the same string to open it. Use "<chain id>/<transaction kind>/<field
 * path>", e.g. "alliance-eu/notary.anchor/meta.price": a ciphertext
 * copied to another field, kind or chain then fails to open
 * ("confidential.tampered"). The recipient list is deliberately not bound
 * by the AEAD, so a recipient can be added later (the key re-sealed)
 * without re-encrypting the value already on chain.
 *
 * Validity never depends on decrypting: a module's `check` calls
 * hanse_confidential_check, which looks only at the shape (member names,
 * the algorithm, exact lengths, bounds, no duplicate recipient) and needs
 * no key. Whether the recipients are members, or departments of the
 * signer, is a `verify` question for the module. Nothing here can tell
 * whether the sealer gave every recipient the same key: a recipient who
 * was sealed a wrong key sees "confidential.tampered", and the
 * transaction stays valid.
 *
 * Secrets: the field key, the X25519 secret key and the plaintext are
 * wiped with sodium_memzero before their memory is released and are never
 * logged. The value handed to hanse_confidential_seal and the value
 * returned by hanse_confidential_open are ordinary jansson values owned by
 * the caller; jansson does not wipe the memory it frees, so callers that
 * care keep such values short-lived.
 *
 * Randomness comes from libsodium's randombytes: this library runs in the
 * CLI and the client library, never in block execution, which only ever
 * calls hanse_confidential_check.
 *
 * Conventions: `const` arguments are borrowed; outputs come last and are
 * new references owned by the caller (json_decref), set only on success.
 * Every function returns HANSE_OK, HANSE_ERR(INVALID) with a rejection in
 * `rej` (may be NULL) carrying one of the codes below, or HANSE_ERR(NOMEM).
 * sodium_init() must have succeeded before any call.
 */
#ifndef HANSE_CONFIDENTIAL_H
#define HANSE_CONFIDENTIAL_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"
#include "crypto/sign.h"

/* The "enc" member: the one algorithm of format version 1. */
#define HANSE_CONFIDENTIAL_ENC "xchacha20poly1305-ietf"

/* Fixed sizes (libsodium's; asserted in confidential.c). */
#define HANSE_CONFIDENTIAL_KEY_BYTES 32   /* field key K */
#define HANSE_CONFIDENTIAL_NONCE_BYTES 24 /* XChaCha20 nonce */
#define HANSE_CONFIDENTIAL_TAG_BYTES 16   /* Poly1305 tag, at the end of ct */
/* crypto_box_seal overhead: ephemeral X25519 key (32) and MAC (16). */
#define HANSE_CONFIDENTIAL_SEALED_BYTES (HANSE_CONFIDENTIAL_KEY_BYTES + 48)

/* Bounds. A field names at most 64 recipients: enough for every
 * department of a consortium, small enough that checking and opening stay
 * cheap. The ciphertext is at most 64 KiB, the size of a whole payload
 * (HANSE_PAYLOAD_MAX); inside a transaction the payload bound bites first
 * (base64 grows 4/3), this bound holds for fields met anywhere else. The
 * plaintext is at least one byte: no JSON text is empty. */
#define HANSE_CONFIDENTIAL_RECIPIENTS_MAX 64
#define HANSE_CONFIDENTIAL_CT_MAX (64 * 1024)
#define HANSE_CONFIDENTIAL_CT_MIN (HANSE_CONFIDENTIAL_TAG_BYTES + 1)
#define HANSE_CONFIDENTIAL_PLAINTEXT_MAX                                     \
  (HANSE_CONFIDENTIAL_CT_MAX - HANSE_CONFIDENTIAL_TAG_BYTES)

/* Reason codes (all status 400 unless stated):
 *  "confidential.malformed"     the field's shape is wrong (check, and
 *                               every function that reads a field);
 *  "confidential.not_recipient" (403) my key is not in the list;
 *  "confidential.bad_key"       my sealed key does not open with my key;
 *  "confidential.tampered"      the field key does not authenticate the
 *                               ciphertext under this associated data
 *                               (nonce, ct or ad changed, or a sealed key
 *                               that is not the field's);
 *  "confidential.bad_plaintext" it decrypted, but is not one JSON text
 *                               (open), or the value cannot be encoded
 *                               (seal);
 *  "confidential.bad_recipient" a recipient key has no X25519 form (not a
 *                               valid Ed25519 point, small order), or the
 *                               recipient count is outside 1..64;
 *  "confidential.duplicate_recipient" (409) a key named twice;
 *  "confidential.too_large"     the value's JSON text exceeds
 *                               HANSE_CONFIDENTIAL_PLAINTEXT_MAX. */

/* Encrypt `value` (any JSON value; borrowed) under `ad` (a C string,
 * borrowed, not NULL) for the n recipients (1..64, distinct, valid
 * Ed25519 keys), in the order given. On HANSE_OK, *out is a new field
 * object. */
int hanse_confidential_seal(const json_t *value, const char *ad,
                            const hanse_pubkey *recipients, size_t n,
                            json_t **out, hanse_reject *rej);

/* Open `field` as `me`: find my entry, unseal the field key with my
 * X25519 key, decrypt under `ad` and parse the JSON text. On HANSE_OK,
 * *value_out is the decrypted value (a new reference). */
int hanse_confidential_open(const json_t *field, const char *ad,
                            const hanse_keypair *me, json_t **value_out,
                            hanse_reject *rej);

/* Grant `new_recipient` access to a value already sealed: an existing
 * recipient unseals the field key, proves it opens the ciphertext under
 * `ad`, and seals it again to the new key. *out_field is a new object
 * equal to `field` with one entry appended to "recipients"; "enc", "nonce"
 * and "ct" are the very same strings (history is not re-encrypted).
 * Refuses a key already listed ("confidential.duplicate_recipient") and a
 * 65th recipient ("confidential.bad_recipient"). */
int hanse_confidential_add_recipient(const json_t *field, const char *ad,
                                     const hanse_keypair *existing_recipient,
                                     const hanse_pubkey *new_recipient,
                                     json_t **out_field, hanse_reject *rej);

/* Context-free check for a module's `check`: exactly the four members,
 * the algorithm, a 24-byte nonce, a ciphertext of
 * HANSE_CONFIDENTIAL_CT_MIN..HANSE_CONFIDENTIAL_CT_MAX bytes, 1..64
 * recipients each with exactly {"key","sealed"}, a 32-byte key in hex and
 * an 80-byte sealed key, and no key twice (a well-formed field names each
 * recipient once). Does not test that a key is a valid curve point: that
 * costs a scalar multiplication per recipient, and a key that is no member
 * is the module's `verify` to refuse. Uses no key and allocates nothing.
 * HANSE_OK or HANSE_ERR(INVALID) with "confidential.malformed". */
int hanse_confidential_check(const json_t *field, hanse_reject *rej);

/* ---- Fields inside payloads ---------------------------------------------
 *
 * Where a module keeps values opaque to it (notary metadata, member
 * attributes), any object with an "enc" member is taken for a
 * confidential field and must pass hanse_confidential_check: a payload
 * cannot carry a half-formed field that some reader would mistake for a
 * sealed one. "enc" is thereby a reserved member name in those values. */

/* 1 if `v` is an object with an "enc" member, else 0. */
int hanse_confidential_is_field(const json_t *v);

/* Check every confidential field within `v` (objects and arrays, to the
 * depth the payload parser allows; a field's own members are not
 * descended into). *sealed_bytes (may be NULL) receives the total size of
 * those fields as compact JSON, so a module can bound the plaintext part
 * of a value separately from its sealed part. No key is used.
 * HANSE_OK or "confidential.malformed", the message naming the field's
 * path within `v`. */
int hanse_confidential_check_tree(const json_t *v, size_t *sealed_bytes,
                                  hanse_reject *rej);
/* hanse_confidential_check_tree, then the bound a module puts on the
 * plaintext part: *plain_bytes receives the size of `v` as compact JSON
 * without its sealed fields. HANSE_OK, the check's rejection, or
 * HANSE_ERR(NOMEM) when the value cannot be measured. */
int hanse_confidential_plain_size(const json_t *v, size_t *plain_bytes, hanse_reject *rej);

/* Field paths name a value in a payload: segments of [A-Za-z0-9_-] joined
 * by '.', each a member name or, inside an array, a decimal index:
 * "meta.price", "attributes.salary", "lines.0.net". At most
 * HANSE_CONFIDENTIAL_PATH_MAX bytes. The alphabet keeps a path usable as
 * part of a state key ("seal/<tx>/<path>/<key>", modules/seal) and in the
 * associated data "<chain>/<kind>/<path>" without escaping. */
#define HANSE_CONFIDENTIAL_PATH_MAX 128

/* 1 if `path` (NUL-terminated, may be NULL) is a valid field path. */
int hanse_confidential_path_valid(const char *path);

/* ---- Grants: a key re-sealed outside the field ------------------------
 *
 * A value on chain cannot be changed, so a recipient added later gets the
 * field key re-sealed in a transaction of its own (modules/seal): one
 * base64 string of HANSE_CONFIDENTIAL_SEALED_BYTES. */

/* Context-free check of such a sealed key: a JSON string holding the
 * canonical padded base64 of exactly 80 bytes. HANSE_OK or
 * "confidential.malformed". */
int hanse_confidential_sealed_check(const json_t *sealed, hanse_reject *rej);

/* Re-seal the field key of `field` to `new_recipient`: `me` unseals it --
 * from my entry in the field's list, or from `my_sealed` (a grant made to
 * me; borrowed) when that is not NULL -- proves it opens the ciphertext
 * under `ad`, and seals it again. The field is not changed. On HANSE_OK,
 * *sealed_out is a new JSON string for a grant. Refuses a new key already
 * listed ("confidential.duplicate_recipient"), my key neither listed nor
 * given a grant ("confidential.not_recipient"), and a key that does not
 * open ("confidential.bad_key", "confidential.tampered"). */
int hanse_confidential_reseal(const json_t *field, const char *ad,
                              const hanse_keypair *me, const json_t *my_sealed,
                              const hanse_pubkey *new_recipient,
                              json_t **sealed_out, hanse_reject *rej);

/* Open `field` with a key sealed to me outside it (`sealed`, a grant's
 * string; borrowed). Same results as hanse_confidential_open, except that
 * the recipient list is not consulted. */
int hanse_confidential_open_sealed(const json_t *field, const char *ad,
                                   const hanse_keypair *me,
                                   const json_t *sealed, json_t **value_out,
                                   hanse_reject *rej);

#endif
