/*
 * httpsig.h -- HTTP Message Signatures (RFC 9421) with Ed25519, body
 * digests (RFC 9530) and a replay cache: authentication of API requests.
 *
 * A member signs each non-public request with its Ed25519 key. The
 * signature covers the method, the path, the query (when the URL has one),
 * the body through its Content-Digest, and a creation time; the server
 * verifies it, checks the time window, and remembers what it accepted so
 * that the same signature is not accepted twice.
 *
 * The profile this library enforces (hanse_httpsig_verify):
 *  - covered components include "@method", "@path", "@query" when the
 *    request has a query, and "content-digest" when it has a body;
 *  - Content-Digest carries a sha-256 member equal to the body's SHA-256;
 *  - `created` and `keyid` are present, `alg` is absent or "ed25519";
 *  - created lies in [now - max_age_s, now + max_skew_s]; `expires`, when
 *    present, is not past;
 *  - the key named by keyid is known (caller callback) and the Ed25519
 *    signature over the RFC 9421 signature base verifies.
 *
 * Conventions (as everywhere in Hanse): `const` pointers are borrowed and
 * never kept; a length follows its pointer; outputs come last. Functions
 * return HANSE_OK or a negative hanse_err; those that judge input also take
 * a `hanse_reject *` (may be NULL) that receives one of the stable codes
 * below with HTTP status 401 (HANSE_HTTPSIG_STATUS). Nothing here asserts
 * on request data. Strings are NUL-terminated C strings.
 *
 * Use, client side:
 *   1. hanse_httpsig_content_digest(body) -> add "Content-Digest" header
 *      (only when there is a body);
 *   2. hanse_httpsig_params_for_request(&p, &req, now, keyid) and, for
 *      replay safety, hanse_httpsig_params_set_nonce(&p, random);
 *   3. hanse_httpsig_sign(&req, &p, "sig1", &kp, &out) -> add the headers
 *      "Signature-Input: out.signature_input" and
 *      "Signature: out.signature".
 * Use, server side:
 *   1. hanse_httpsig_verify(&req, &policy, &verified, &rej) -> 401 + code;
 *   2. hanse_httpsig_replay_check(cache, &verified, now, &rej) -> 401
 *      "auth.replayed" when the same signature was seen in the window.
 */
#ifndef HANSE_HTTPSIG_H
#define HANSE_HTTPSIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

/* ---- Stable reason codes (all with status HANSE_HTTPSIG_STATUS) ------ */

#define HANSE_HTTPSIG_STATUS 401
/* No Signature-Input/Signature headers, or none under the expected label. */
#define HANSE_AUTH_MISSING "auth.missing"
/* Headers that do not parse (RFC 8941), a signature that is not 64 bytes,
 * missing created/keyid, an alg other than ed25519, a required nonce
 * absent, duplicate components, a header value with CR/LF. */
#define HANSE_AUTH_MALFORMED "auth.malformed"
/* created older than now - max_age_s, or expires in the past. */
#define HANSE_AUTH_EXPIRED "auth.expired"
/* created later than now + max_skew_s. */
#define HANSE_AUTH_FUTURE "auth.future"
/* The key callback does not know keyid. */
#define HANSE_AUTH_UNKNOWN_KEY "auth.unknown_key"
/* Ed25519 verification of the signature base failed. */
#define HANSE_AUTH_BAD_SIGNATURE "auth.bad_signature"
/* Content-Digest has no sha-256 member or it does not match the body. */
#define HANSE_AUTH_DIGEST_MISMATCH "auth.digest_mismatch"
/* A required component is not covered, a covered component is not in the
 * request (header absent), or a component this library does not derive. */
#define HANSE_AUTH_COMPONENTS "auth.components"
/* The replay cache has seen this (keyid, created, nonce|signature). */
#define HANSE_AUTH_REPLAYED "auth.replayed"
/* The replay cache has no free slot for a new entry: not the client's
 * fault, so 503 and retry later; never an accept without a record. */
#define HANSE_AUTH_REPLAY_FULL "auth.replay_full"
#define HANSE_HTTPSIG_REPLAY_FULL_STATUS 503

/* ---- Bounds ------------------------------------------------------------ */

/* The default signature label ("sig1", as in RFC 9421's examples). */
#define HANSE_HTTPSIG_LABEL "sig1"
/* Our profile covers 4 components; the RFC's examples up to 8. */
#define HANSE_HTTPSIG_COMPONENTS_MAX 16
/* A component name: "@method" or a lowercase header field name. */
#define HANSE_HTTPSIG_NAME_MAX 64
/* keyid: a member name or 64 hex chars of a public key, with room. */
#define HANSE_HTTPSIG_KEYID_MAX 128
/* nonce and tag: 128 bits of randomness in base64 need 24 chars. */
#define HANSE_HTTPSIG_NONCE_MAX 64
#define HANSE_HTTPSIG_TAG_MAX 64
#define HANSE_HTTPSIG_ALG_MAX 32
/* A signature label (dictionary key). */
#define HANSE_HTTPSIG_LABEL_MAX 32
/* Signature-Input, Signature and Content-Digest as received (all header
 * instances joined): larger ones are malformed, so parsing needs no
 * allocation. */
#define HANSE_HTTPSIG_FIELD_MAX 4096
/* "sha-256=:" + base64(32 bytes) (44) + ":" + NUL */
#define HANSE_HTTPSIG_DIGEST_FIELD_BYTES (9 + 44 + 1 + 1)
/* label + "=:" + base64(64 bytes) (88) + ":" + NUL */
#define HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES (HANSE_HTTPSIG_LABEL_MAX + 2 + 88 + 1 + 1)
/* label + "=" + the serialized parameters, each string at most doubled by
 * escaping: see the _Static_assert in httpsig.c. */
#define HANSE_HTTPSIG_INPUT_FIELD_BYTES 2560

/* ---- The request as the signer and the verifier see it ---------------- */

typedef struct hanse_httpsig_field {
  const char *name;  /* case-insensitive: "Content-Digest" */
  const char *value; /* as received; leading/trailing SP/HTAB ignored */
} hanse_httpsig_field;

typedef struct hanse_httpsig_request {
  const char *method;    /* "GET", as sent (case-sensitive) */
  const char *path;      /* "/v1/chains/demo", raw (not percent-decoded) */
  const char *query;     /* raw, without '?'; NULL when the URL has no '?' */
  const char *authority; /* host[:port] for "@authority"; may be NULL */
  const hanse_httpsig_field *fields; /* all header fields, in order */
  size_t field_count;
  const uint8_t *body;   /* may be NULL when body_len == 0 */
  size_t body_len;
  /* Verify only: the SHA-256 of a body the caller did not keep (streamed
   * to disk as it arrived). When set, body/body_len are not used, the
   * signature must cover content-digest and Content-Digest must equal it. */
  const hanse_hash *body_sha256;
} hanse_httpsig_request;

/* ---- Signature parameters ---------------------------------------------- */

/* Which parameters are present, in the order they appear (the order is
 * part of the signed "@signature-params" line, so it is kept as parsed). */
typedef enum hanse_httpsig_param {
  HANSE_HTTPSIG_P_CREATED = 1,
  HANSE_HTTPSIG_P_EXPIRES,
  HANSE_HTTPSIG_P_KEYID,
  HANSE_HTTPSIG_P_ALG,
  HANSE_HTTPSIG_P_NONCE,
  HANSE_HTTPSIG_P_TAG,
} hanse_httpsig_param;
#define HANSE_HTTPSIG_PARAMS_MAX 6

/* The covered components and parameters of one signature (the value of
 * one Signature-Input member). Plain data, no pointers: copy freely. */
typedef struct hanse_httpsig_params {
  size_t component_count;
  char components[HANSE_HTTPSIG_COMPONENTS_MAX][HANSE_HTTPSIG_NAME_MAX];
  size_t param_count;
  uint8_t order[HANSE_HTTPSIG_PARAMS_MAX]; /* hanse_httpsig_param values */
  int64_t created;                         /* Unix seconds */
  int64_t expires;
  char keyid[HANSE_HTTPSIG_KEYID_MAX];
  char alg[HANSE_HTTPSIG_ALG_MAX];
  char nonce[HANSE_HTTPSIG_NONCE_MAX];
  char tag[HANSE_HTTPSIG_TAG_MAX];
} hanse_httpsig_params;

/* Empty: no components, no parameters. */
void hanse_httpsig_params_init(hanse_httpsig_params *p);
/* 1 if parameter `which` is present. */
int hanse_httpsig_params_has(const hanse_httpsig_params *p,
                             hanse_httpsig_param which);

/* Append a covered component: "@method", "@path", "@query",
 * "@authority" or a lowercase field name ("content-digest"). HANSE_OK, or
 * HANSE_ERR(INVALID) if the list is full, the name too long, not
 * lowercase printable ASCII, or already present. */
int hanse_httpsig_params_add_component(hanse_httpsig_params *p,
                                       const char *name);
/* Set a parameter; the first set of each fixes its position in the
 * serialization, a second set replaces the value in place. Strings must
 * be printable ASCII and fit their bound: HANSE_OK or HANSE_ERR(INVALID).
 * Integers must be in 0..999999999999999 (RFC 8941 integers). */
int hanse_httpsig_params_set_created(hanse_httpsig_params *p, int64_t t_s);
int hanse_httpsig_params_set_expires(hanse_httpsig_params *p, int64_t t_s);
int hanse_httpsig_params_set_keyid(hanse_httpsig_params *p, const char *keyid);
int hanse_httpsig_params_set_alg(hanse_httpsig_params *p, const char *alg);
int hanse_httpsig_params_set_nonce(hanse_httpsig_params *p, const char *nonce);
int hanse_httpsig_params_set_tag(hanse_httpsig_params *p, const char *tag);

/* The Hanse profile for `req`: components "@method" "@path", "@query" if
 * req->query != NULL, "content-digest" if req->body_len > 0; then
 * created=created_s; keyid; alg="ed25519". Add nonce/expires/tag after.
 * HANSE_OK or HANSE_ERR(INVALID) (bad keyid). */
int hanse_httpsig_params_for_request(hanse_httpsig_params *p,
                                     const hanse_httpsig_request *req,
                                     int64_t created_s, const char *keyid);

/* Append the RFC 8941 serialization of `p` (the "@signature-params"
 * value, e.g. ("@method" "@path");created=1;keyid="k") to `out`.
 * HANSE_OK or HANSE_ERR(NOMEM). */
int hanse_httpsig_params_serialize(const hanse_httpsig_params *p,
                                   hanse_buf *out);

/* ---- Signature base and Content-Digest --------------------------------- */

/* Append the signature base (RFC 9421 section 2.5) of `req` under `p` to
 * `out`: one line `"name": value` per covered component, LF-separated, and
 * last the "@signature-params" line, with no trailing LF. Field values are
 * trimmed and multiple instances joined with ", " (section 2.1).
 * "@path" of "" is "/"; "@query" without a query is "?"; "@authority" is
 * lowercased. HANSE_OK; HANSE_ERR(INVALID) with auth.components (header
 * absent, no authority, unsupported "@" component) or auth.malformed (a
 * value with CR or LF); HANSE_ERR(NOMEM). `out` is the caller's. */
int hanse_httpsig_base(const hanse_httpsig_request *req,
                       const hanse_httpsig_params *p, hanse_buf *out,
                       hanse_reject *rej);

/* The Content-Digest field value of a body: "sha-256=:<base64>:" (RFC
 * 9530, standard base64 with padding). Returns out. */
char *hanse_httpsig_content_digest(char out[HANSE_HTTPSIG_DIGEST_FIELD_BYTES],
                                   const void *body, size_t len);

/* ---- Signing ------------------------------------------------------------ */

typedef struct hanse_httpsig_headers {
  char signature_input[HANSE_HTTPSIG_INPUT_FIELD_BYTES]; /* label=(...);... */
  char signature[HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES];   /* label=:...: */
} hanse_httpsig_headers;

/* Sign `req` under `p` with label (NULL: "sig1") and fill `out` with the
 * two header values. The request's fields must already hold the covered
 * headers (Content-Digest included). HANSE_OK; HANSE_ERR(INVALID) with a
 * rejection if the base cannot be built or the label is not an RFC 8941
 * key; HANSE_ERR(NOMEM). */
int hanse_httpsig_sign(const hanse_httpsig_request *req,
                       const hanse_httpsig_params *p, const char *label,
                       const hanse_keypair *kp, hanse_httpsig_headers *out,
                       hanse_reject *rej);

/* ---- Verifying ---------------------------------------------------------- */

/* Find the public key of `keyid`: HANSE_OK and *out filled,
 * HANSE_ERR(NOT_FOUND) for an unknown key (-> auth.unknown_key), any other
 * error for an environmental failure (returned as is). */
typedef int (*hanse_httpsig_key_fn)(void *ctx, const char *keyid,
                                    hanse_pubkey *out);

typedef struct hanse_httpsig_policy {
  int64_t now_s;        /* the verifier's clock, Unix seconds */
  int64_t max_age_s;    /* accept created >= now_s - max_age_s */
  int64_t max_skew_s;   /* accept created <= now_s + max_skew_s */
  int require_nonce;    /* 1: a nonce parameter is mandatory */
  const char *label;    /* NULL: "sig1" */
  hanse_httpsig_key_fn key_fn;
  void *key_ctx;
} hanse_httpsig_policy;

/* What a verified signature said: the replay cache's input and the
 * authenticated identity. */
typedef struct hanse_httpsig_verified {
  char keyid[HANSE_HTTPSIG_KEYID_MAX];
  hanse_pubkey key;
  int64_t created;
  int has_nonce;
  char nonce[HANSE_HTTPSIG_NONCE_MAX];
  /* SHA-256 of keyid, created and the nonce -- or, without a nonce, the
   * signature itself: two requests share it only if they are the same
   * signed request. */
  hanse_hash replay_id;
} hanse_httpsig_verified;

/* Parse the signature under `label` (NULL: "sig1") from the request's
 * Signature-Input and Signature fields (all instances joined). HANSE_OK;
 * HANSE_ERR(INVALID) with auth.missing or auth.malformed (or
 * auth.components for component parameters such as ;sf, which this
 * library does not derive). Checks syntax only: no policy. */
int hanse_httpsig_parse(const hanse_httpsig_request *req, const char *label,
                        hanse_httpsig_params *p, hanse_sig *sig,
                        hanse_reject *rej);

/* Verify `req` under `pol` (the profile at the top of this file). On
 * HANSE_OK, *out describes the signature; feed it to the replay cache.
 * Otherwise HANSE_ERR(INVALID) with one of the auth.* codes, or the key
 * callback's error. */
int hanse_httpsig_verify(const hanse_httpsig_request *req,
                         const hanse_httpsig_policy *pol,
                         hanse_httpsig_verified *out, hanse_reject *rej);

/* ---- Replay cache --------------------------------------------------------- */

/* A fixed-size, in-memory, thread-safe (one mutex) set of replay ids.
 * An entry lives until created + window_s (the policy's max_age_s: after
 * that the signature is expired anyway); expired slots are reused. */
typedef struct hanse_httpsig_replay hanse_httpsig_replay;

/* Room for `capacity` entries (rounded up to a power of two); keep it
 * about 4x the signatures expected within one window. HANSE_OK,
 * HANSE_ERR(INVALID) (capacity 0 or above 2^24, window < 0) or
 * HANSE_ERR(NOMEM). Destroy with hanse_httpsig_replay_destroy. */
int hanse_httpsig_replay_create(size_t capacity, int64_t window_s,
                                hanse_httpsig_replay **out);
void hanse_httpsig_replay_destroy(hanse_httpsig_replay *r);

/* Record v->replay_id at time now_s. HANSE_OK the first time;
 * HANSE_ERR(INVALID) with auth.replayed (401) if a live entry has the same
 * id, or auth.replay_full (503) if no slot in its neighbourhood is free. */
int hanse_httpsig_replay_check(hanse_httpsig_replay *r,
                               const hanse_httpsig_verified *v, int64_t now_s,
                               hanse_reject *rej);
/* Live entries at now_s (tests, metrics). */
size_t hanse_httpsig_replay_count(hanse_httpsig_replay *r, int64_t now_s);

#endif
