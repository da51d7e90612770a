/*
 * auth.c -- who is asking: HTTP Message Signatures on API requests, and
 * the chain's read policy.
 *
 * A member signs each non-public request with its Ed25519 key (RFC 9421,
 * the profile in crypto/httpsig.h): the signature covers the method, the
 * path, the query, the body's Content-Digest and a creation time; keyid is
 * the member's public key in hex. Verification happens once per request
 * (cached in hanse_req) and has three outcomes:
 *
 *   valid     the signature verifies, created lies within
 *             [now - HANSE_AUTH_MAX_AGE_S, now + HANSE_AUTH_MAX_SKEW_S],
 *             and the replay cache had not seen it;
 *   absent    no Signature-Input header;
 *   invalid   anything else -> 401 with the auth.* code from httpsig.h.
 *
 * Who the signer is on a chain is the member registry's answer (the
 * identity provider of module.h) on the chain's current state, with the
 * wall clock deciding expiry: an unknown key is 401 auth.unknown_key, a
 * suspended, revoked or expired one 401 auth.key_<status>. Only then does
 * the policy (chain/policy.c) decide: a data class its roles may not read
 * is 403 policy.read_denied.
 *
 * Public, needing no signature: node status, health, metrics and the
 * explorer's files; chain status; the proof of a transaction (receipt,
 * header and Merkle path, without the payload); and whatever the chain's
 * policy marks public -- everything on a chain without a policy (open
 * chains), the block views where policy.public holds "blocks", a data
 * class whose read rule holds "public".
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/hex.h"
#include "base/limits.h"
#include "chain/chain.h"
#include "chain/module.h"

typedef struct fields {
  hanse_httpsig_field f[HANSE_AUTH_FIELDS_MAX];
  size_t n;
  int overflow;
} fields;

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value) {
  (void)kind;
  fields *fs = cls;
  if (key == NULL || value == NULL) return MHD_YES;
  if (fs->n == HANSE_AUTH_FIELDS_MAX) {
    fs->overflow = 1;
    return MHD_NO;
  }
  fs->f[fs->n].name = key;
  fs->f[fs->n].value = value;
  fs->n++;
  return MHD_YES;
}

/* Any well-formed public key may sign; whether it is a member of the
 * chain is asked afterwards, on that chain. */
static int key_of_keyid(void *ctx, const char *keyid, hanse_pubkey *out) {
  (void)ctx;
  if (strlen(keyid) != 2 * HANSE_PUBKEY_BYTES || hanse_pubkey_parse(out, keyid) != HANSE_OK)
    return HANSE_ERR(NOT_FOUND);
  return HANSE_OK;
}

static int has_signature(hanse_req *rq) {
  return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Signature-Input") != NULL ||
         MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Signature") != NULL;
}

/* Verify the request's signature once: over `body` as received, or, for
 * a body streamed to disk, over its SHA-256 `body_sha256` (not NULL). */
static int authenticate(hanse_req *rq, const uint8_t *body, size_t body_len,
                        const hanse_hash *body_sha256) {
  if (rq->auth_state != 0) return rq->auth_state;
  hanse_reject_clear(&rq->auth_rej);
  if (!has_signature(rq)) return rq->auth_state = 2;
  fields fs;
  memset(&fs, 0, sizeof fs);
  MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, collect_field, &fs);
  if (fs.overflow) {
    hanse_reject_code(&rq->auth_rej, HANSE_AUTH_MALFORMED, 401,
                      "more than %d header fields", HANSE_AUTH_FIELDS_MAX);
    return rq->auth_state = -1;
  }
  /* @path and @query as sent, not as MHD decoded them. */
  const char *target = rq->uri ? rq->uri : rq->url;
  const char *q = strchr(target, '?');
  size_t plen = q ? (size_t)(q - target) : strlen(target);
  char *path = strndup(target, plen);
  if (path == NULL) {
    hanse_reject_code(&rq->auth_rej, "internal.nomem", 503, "out of memory");
    return rq->auth_state = -1;
  }
  hanse_httpsig_request req = {
      .method = rq->method,
      .path = path,
      .query = q ? q + 1 : NULL,
      .authority = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Host"),
      .fields = fs.f,
      .field_count = fs.n,
      .body = body,
      .body_len = body_len,
      .body_sha256 = body_sha256,
  };
  int64_t now_s = (int64_t)(hanse_now_ms(rq->node->env) / 1000);
  hanse_httpsig_policy pol = {
      .now_s = now_s,
      .max_age_s = HANSE_AUTH_MAX_AGE_S,
      .max_skew_s = HANSE_AUTH_MAX_SKEW_S,
      .key_fn = key_of_keyid,
  };
  hanse_httpsig_verified v;
  int rc = hanse_httpsig_verify(&req, &pol, &v, &rq->auth_rej);
  free(path);
  if (rc == HANSE_OK) rc = hanse_httpsig_replay_check(rq->replay, &v, now_s, &rq->auth_rej);
  if (rc != HANSE_OK) {
    if (rq->auth_rej.code[0] == 0)
      hanse_reject_code(&rq->auth_rej, HANSE_AUTH_MALFORMED, 401, "the signature cannot be checked");
    return rq->auth_state = -1;
  }
  rq->signer = v.key;
  return rq->auth_state = 1;
}

static enum MHD_Result auth_fail(hanse_req *rq) {
  return api_reject(rq, &rq->auth_rej);
}

/* The signer's standing on the chain, now. Returns 1 for an active
 * member (*roles: new reference), or 0 with the 401 queued in *resp. */
static int member_of_chain(hanse_req *rq, hanse_node_chain *nc, hanse_store *rd,
                           json_t **roles, enum MHD_Result *resp) {
  *roles = NULL;
  const hanse_identity *id = hanse_registry_identity();
  const char *status = "unknown";
  int rc = HANSE_OK;
  if (id != NULL) {
    hanse_tip tip;
    hanse_chain_tip(nc->chain, &tip);
    hanse_exec ex; /* read-only: nothing is put, nothing is finished */
    rc = hanse_exec_begin(&ex, rd, tip.height + 1, hanse_now_ms(rq->node->env),
                          &tip.state_digest, &tip.state_sum);
    if (rc == HANSE_OK) rc = id->key_info(&ex, &rq->signer, &status, roles);
    hanse_exec_free(&ex);
  }
  if (rc != HANSE_OK) {
    json_decref(*roles);
    *roles = NULL;
    *resp = api_error_rc(rq, rc, "cannot look up the signing key");
    return 0;
  }
  if (strcmp(status, "active") == 0) return 1;
  json_decref(*roles);
  *roles = NULL;
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, &rq->signer);
  if (strcmp(status, "unknown") == 0)
    *resp = api_error(rq, 401, HANSE_AUTH_UNKNOWN_KEY,
                      "key %.16s... is not a member of chain '%s'", hex, nc->chain->chain_id);
  else
    *resp = api_error(rq, 401, strcmp(status, "revoked") == 0     ? "auth.key_revoked"
                               : strcmp(status, "suspended") == 0 ? "auth.key_suspended"
                                                                  : "auth.key_expired",
                      "key %.16s... is %s on chain '%s'", hex, status, nc->chain->chain_id);
  return 0;
}

/* Load the policy in force; 0 with a 500 queued on failure. */
static int load_policy(hanse_req *rq, hanse_node_chain *nc, hanse_store **rd, json_t **policy,
                       enum MHD_Result *resp) {
  *policy = NULL;
  *rd = hanse_chain_reader_acquire(nc->chain);
  if (*rd == NULL) {
    *resp = api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
    return 0;
  }
  int rc = hanse_policy_load(*rd, nc->chain->genesis, policy);
  if (rc != HANSE_OK) {
    hanse_chain_reader_release(nc->chain, *rd);
    *resp = api_error_rc(rq, rc, "cannot read the chain's policy");
    return 0;
  }
  return 1;
}

/* Signature present and valid, else the 401 queued. */
static int require_signature(hanse_req *rq, hanse_node_chain *nc, const uint8_t *body,
                             size_t body_len, const hanse_hash *body_sha256, const char *what,
                             enum MHD_Result *resp) {
  int a = authenticate(rq, body, body_len, body_sha256);
  if (a == 1) return 1;
  if (a == 2)
    *resp = api_error(rq, 401, HANSE_AUTH_MISSING,
                      "chain '%s' requires a signed request (RFC 9421, keyid = your public "
                      "key) to %s",
                      nc->chain->chain_id, what);
  else
    *resp = auth_fail(rq);
  return 0;
}

int api_read_allowed(hanse_req *rq, hanse_node_chain *nc, const char *data_class,
                     enum MHD_Result *resp) {
  hanse_store *rd;
  json_t *policy;
  if (!load_policy(rq, nc, &rd, &policy, resp)) return 0;
  int ok = 0;
  json_t *roles = NULL;
  if (hanse_policy_read_public(policy, data_class)) {
    ok = 1;
  } else if (require_signature(rq, nc, rq->body.data, rq->body.len, NULL,
                               data_class ? "read this data" : "read blocks",
                               resp) &&
             member_of_chain(rq, nc, rd, &roles, resp)) {
    ok = hanse_policy_read_allows(policy, data_class, roles);
    if (!ok)
      *resp = api_error(rq, 403, "policy.read_denied",
                        "chain '%s' lets none of your roles read %s data",
                        nc->chain->chain_id, data_class);
  }
  json_decref(roles);
  json_decref(policy);
  hanse_chain_reader_release(nc->chain, rd);
  return ok;
}

/* 1 if the request's signature is valid and its key an active member of
 * the chain (any key on a chain without a policy), with *rd a reader the
 * caller releases; 0 otherwise (nothing held, no response queued). */
static int signer_active(hanse_req *rq, hanse_node_chain *nc, hanse_store **rd) {
  if (authenticate(rq, rq->body.data, rq->body.len, NULL) != 1) return 0;
  json_t *policy;
  enum MHD_Result ignored;
  if (!load_policy(rq, nc, rd, &policy, &ignored)) return 0;
  json_t *roles = NULL;
  int ok = policy == NULL || member_of_chain(rq, nc, *rd, &roles, &ignored);
  json_decref(roles);
  json_decref(policy);
  if (!ok) hanse_chain_reader_release(nc->chain, *rd);
  return ok;
}

int api_signed_by(hanse_req *rq, hanse_node_chain *nc, const char *keyhex) {
  hanse_pubkey want;
  hanse_store *rd;
  if (keyhex == NULL || strlen(keyhex) != 2 * HANSE_PUBKEY_BYTES ||
      hanse_pubkey_parse(&want, keyhex) != HANSE_OK || !signer_active(rq, nc, &rd))
    return 0;
  hanse_chain_reader_release(nc->chain, rd);
  return sodium_memcmp(want.b, rq->signer.b, HANSE_PUBKEY_BYTES) == 0;
}

int api_signed_for_owner(hanse_req *rq, hanse_node_chain *nc, const char *owner) {
  hanse_store *rd;
  if (owner == NULL || owner[0] == 0 || !signer_active(rq, nc, &rd)) return 0;
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, &rq->signer);
  const hanse_identity *id = hanse_registry_identity();
  int ok = 1;
  if (strcmp(owner, hex) != 0) { /* else the key owns it itself */
    char org[128] = ""; /* an organisation id is shorter */
    ok = 0;
    if (id != NULL && id->key_org != NULL) {
      hanse_tip tip;
      hanse_chain_tip(nc->chain, &tip);
      hanse_exec ex; /* read-only: nothing is put, nothing is finished */
      int rc = hanse_exec_begin(&ex, rd, tip.height + 1, hanse_now_ms(rq->node->env),
                                &tip.state_digest, &tip.state_sum);
      if (rc == HANSE_OK) rc = id->key_org(&ex, &rq->signer, org, sizeof org);
      hanse_exec_free(&ex);
      ok = rc == HANSE_OK && org[0] && strcmp(org, owner) == 0;
    }
  }
  hanse_chain_reader_release(nc->chain, rd);
  return ok;
}

int api_signed(hanse_req *rq, hanse_node_chain *nc, const char *what, enum MHD_Result *resp) {
  return require_signature(rq, nc, rq->body.data, rq->body.len, NULL, what, resp);
}

int api_signed_by_validator(hanse_req *rq, hanse_node_chain *nc, enum MHD_Result *resp) {
  if (!require_signature(rq, nc, rq->body.data, rq->body.len, NULL, "read raw blocks", resp))
    return 0;
  if (hanse_chain_is_validator(nc->chain, &rq->signer, NULL)) return 1;
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, &rq->signer);
  *resp = api_error(rq, 403, "auth.not_validator",
                    "key %.16s... is not a validator of chain '%s': only its nodes read raw "
                    "blocks",
                    hex, nc->chain->chain_id);
  return 0;
}

unsigned api_read_classes(hanse_req *rq, hanse_node_chain *nc) {
  static const char *const classes[] = {HANSE_DATA_CLASSES};
  _Static_assert(sizeof classes / sizeof classes[0] <= 8 * sizeof(unsigned), "class bits");
  hanse_store *rd;
  json_t *policy;
  enum MHD_Result ignored;
  if (!load_policy(rq, nc, &rd, &policy, &ignored)) return 0;
  unsigned mask = 0;
  json_t *roles = NULL;
  /* an invalid signature reads only what is public; the caller's
   * api_read_allowed then reports the 401 if nothing is */
  int member = policy != NULL && authenticate(rq, rq->body.data, rq->body.len, NULL) == 1 &&
               member_of_chain(rq, nc, rd, &roles, &ignored);
  for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
    if (hanse_policy_read_public(policy, classes[i]) ||
        (member && hanse_policy_read_allows(policy, classes[i], roles)))
      mask |= 1u << i;
  json_decref(roles);
  json_decref(policy);
  hanse_chain_reader_release(nc->chain, rd);
  return mask;
}

int api_submit_allowed(hanse_req *rq, hanse_node_chain *nc, enum MHD_Result *resp) {
  hanse_store *rd;
  json_t *policy;
  if (!load_policy(rq, nc, &rd, &policy, resp)) return 0;
  int ok = 1;
  json_t *roles = NULL;
  if (policy != NULL)
    ok = require_signature(rq, nc, rq->body.data, rq->body.len, NULL, "submit transactions",
                           resp) &&
         member_of_chain(rq, nc, rd, &roles, resp);
  json_decref(roles);
  json_decref(policy);
  hanse_chain_reader_release(nc->chain, rd);
  return ok;
}

int api_upload_allowed(hanse_req *rq, hanse_node_chain *nc, const hanse_hash *body_sha256,
                       hanse_pubkey *signer, enum MHD_Result *resp) {
  memset(signer, 0, sizeof *signer);
  /* The body went to disk as it arrived: the signature must cover a
   * Content-Digest equal to the SHA-256 of what was received. Uploads
   * write to disk, so they are signed on every chain; on a chain with a
   * policy the signer must also be an active member. */
  if (!require_signature(rq, nc, NULL, 0, body_sha256, "upload documents", resp)) return 0;
  hanse_store *rd;
  json_t *policy;
  if (!load_policy(rq, nc, &rd, &policy, resp)) return 0;
  json_t *roles = NULL;
  int ok = policy == NULL || member_of_chain(rq, nc, rd, &roles, resp);
  json_decref(roles);
  json_decref(policy);
  hanse_chain_reader_release(nc->chain, rd);
  if (ok) *signer = rq->signer;
  return ok;
}
