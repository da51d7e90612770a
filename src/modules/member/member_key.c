/*
 * member/member_key.c -- members and the life of their keys.
 *
 *   member.register {"member":{"id","kind","roles":[..],"attributes":{..},
 *                              "key":hex,"expires_ms"?:int}}
 *   member.attest   {"key":hex,"evidence_sha256":hex}
 *   member.rotate   {"old_key":hex,"new_key":hex}
 *   member.suspend | member.resume | member.revoke  {"key":hex}
 *
 * Who may act:
 *   register                 an active admin; the member joins the
 *                            admin's own organisation
 *   attest                   an active member holding role "ca" (of any
 *                            organisation: CAs certify across the chain)
 *   rotate                   the member itself, signing with the old key
 *                            while it is active, or an admin of its
 *                            organisation (also while suspended)
 *   suspend, resume, revoke  an admin of the key's organisation
 *
 * A record's "status" is stored; "expired" is not: it is read off
 * "expires_ms" against the block time whenever a status is asked for
 * (member_effective_status), so expiry needs no transaction. Rotation
 * revokes the old key ("replaced_by") and gives the new one a copy of the
 * record ("rotated_from"); the id index then names the new key, and an
 * admin key is replaced in its organisation's key list. Revoking an admin
 * key removes it from that list. No action may leave an organisation
 * without an active admin (member.last_admin).
 *
 * An attestation stores the CA, height, time and the evidence's SHA-256
 * under "member/attest/<key>/<height>-<index>": height zero-padded to 20
 * digits and index to 5 so a prefix scan lists them in order; the index is
 * the first free one in that block, at most MEMBER_ATTEST_BLOCK_MAX.
 *
 * Attributes may hold confidential fields (crypto/confidential.h), e.g. a
 * salary sealed to HR: `check` requires each to be a well-formed envelope
 * and never opens one; the record keeps it as it came.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "crypto/confidential.h"
#include "modules/member/member_internal.h"

_Static_assert(MEMBER_ATTEST_BLOCK_MAX < 100000, "the attestation index fits 5 digits");

/* ---- check ---- */

static int check_register(json_t *p, hanse_reject *rej) {
  json_t *m = json_object_get(p, "member");
  if (!json_is_object(m))
    return hanse_reject_code(rej, "member.bad_member", 400, "\"member\" must be an object");
  const char *id = json_string_value(json_object_get(m, "id"));
  if (!member_id_valid(id) ||
      strncmp(id, MEMBER_ADMIN_ID_PREFIX, strlen(MEMBER_ADMIN_ID_PREFIX)) == 0)
    return hanse_reject_code(rej, "member.bad_id", 400,
                             "\"member.id\" must be 1-%d of [a-z0-9._-], not starting with '%s'",
                             MEMBER_ID_MAX, MEMBER_ADMIN_ID_PREFIX);
  if (!member_kind_valid(json_string_value(json_object_get(m, "kind"))))
    return hanse_reject_code(rej, "member.bad_kind", 400,
                             "\"member.kind\" must be person, department, node or device");
  json_t *roles = json_object_get(m, "roles");
  if (!json_is_array(roles) || json_array_size(roles) > MEMBER_ROLES_MAX)
    return hanse_reject_code(rej, "member.bad_role", 400,
                             "\"member.roles\" must be an array of at most %d roles",
                             MEMBER_ROLES_MAX);
  size_t i;
  json_t *r;
  json_array_foreach(roles, i, r) {
    if (!member_role_valid(json_string_value(r)))
      return hanse_reject_code(rej, "member.bad_role", 400, "\"member.roles[%zu]\" is not a known role", i);
    for (size_t j = 0; j < i; j++)
      if (json_equal(json_array_get(roles, j), r))
        return hanse_reject_code(rej, "member.bad_role", 400, "\"member.roles[%zu]\" appears twice", i);
  }
  json_t *attrs = json_object_get(m, "attributes");
  if (attrs) {
    if (!json_is_object(attrs))
      return hanse_reject_code(rej, "member.bad_attributes", 400, "\"member.attributes\" must be an object");
    /* Attributes are opaque here: any of them may be sealed to its
     * readers (crypto/confidential.h); a sealed one must be well formed
     * and does not count against the bound on the plaintext. */
    size_t plain;
    int rc = hanse_confidential_plain_size(attrs, &plain, rej);
    if (rc != HANSE_OK) {
      hanse_reject_prefix(rej, "member.attributes");
      return rc;
    }
    if (plain > MEMBER_ATTRS_MAX)
      return hanse_reject_code(rej, "member.bad_attributes", 400,
                               "\"member.attributes\" exceeds %d bytes besides its sealed fields",
                               MEMBER_ATTRS_MAX);
  }
  char hex[HANSE_HASH_HEX_BYTES];
  if (!member_key_norm(json_string_value(json_object_get(m, "key")), hex))
    return hanse_reject_code(rej, "member.bad_key", 400, "\"member.key\" must be a 64-hex public key");
  json_t *exp = json_object_get(m, "expires_ms");
  if (exp && (!json_is_integer(exp) || json_integer_value(exp) < 1))
    return hanse_reject_code(rej, "member.bad_expiry", 400,
                             "\"member.expires_ms\" must be a positive integer (ms since 1970)");
  return HANSE_OK;
}

int member_key_check(const char *action, json_t *p, hanse_reject *rej) {
  char a[HANSE_HASH_HEX_BYTES], b[HANSE_HASH_HEX_BYTES];
  if (strcmp(action, "register") == 0) return check_register(p, rej);
  if (strcmp(action, "rotate") == 0) {
    if (!member_key_norm(json_string_value(json_object_get(p, "old_key")), a) ||
        !member_key_norm(json_string_value(json_object_get(p, "new_key")), b))
      return hanse_reject_code(rej, "member.bad_key", 400,
                               "\"old_key\" and \"new_key\" must be 64-hex public keys");
    if (strcmp(a, b) == 0)
      return hanse_reject_code(rej, "member.bad_key", 400, "\"new_key\" equals \"old_key\"");
    return HANSE_OK;
  }
  if (!member_key_norm(json_string_value(json_object_get(p, "key")), a))
    return hanse_reject_code(rej, "member.bad_key", 400, "\"key\" must be a 64-hex public key");
  if (strcmp(action, "attest") == 0) {
    hanse_hash h;
    if (hanse_hash_parse(&h, json_string_value(json_object_get(p, "evidence_sha256"))) != HANSE_OK)
      return hanse_reject_code(rej, "member.bad_evidence", 400,
                               "\"evidence_sha256\" must be a SHA-256 digest in 64 hex characters");
  }
  return HANSE_OK;
}

/* ---- verify ---- */

static int has_role(json_t *rec, const char *role) {
  size_t i;
  json_t *r;
  json_array_foreach(json_object_get(rec, "roles"), i, r) {
    if (json_is_string(r) && strcmp(json_string_value(r), role) == 0) return 1;
  }
  return 0;
}

/* The admin of `org_id` signing this transaction, or member.not_admin. */
static int require_admin_of(hanse_exec *ex, const char *signer, const char *org_id,
                            hanse_reject *rej) {
  json_t *org;
  int rc = member_admin_org(ex, signer, &org);
  if (rc != HANSE_OK) return rc;
  int ok = org && strcmp(json_string_value(json_object_get(org, "id")), org_id) == 0;
  json_decref(org);
  if (!ok)
    return hanse_reject_code(rej, "member.not_admin", 403,
                             "the signer is not an active admin of organisation '%s'", org_id);
  return HANSE_OK;
}

static void attest_key(char *key, size_t n, const char *keyhex, uint64_t height, int index) {
  snprintf(key, n, "member/attest/%s/%020" PRIu64 "-%05d", keyhex, height, index);
}

/* First free attestation index of `keyhex` in this block; -1 if none. */
static int attest_slot(hanse_exec *ex, const char *keyhex, int *slot) {
  *slot = -1;
  for (int i = 0; i < MEMBER_ATTEST_BLOCK_MAX; i++) {
    char key[MEMBER_KEY_MAX];
    const uint8_t *v;
    size_t n;
    int found;
    attest_key(key, sizeof key, keyhex, ex->height, i);
    int rc = hanse_exec_get(ex, key, &v, &n, &found);
    if (rc != HANSE_OK) return rc;
    if (!found) {
      *slot = i;
      return HANSE_OK;
    }
  }
  return HANSE_OK;
}

/* Would taking `keyhex` out of active service leave its organisation
 * without an active admin? */
static int last_admin(hanse_exec *ex, json_t *rec, const char *keyhex, hanse_reject *rej) {
  if (strcmp(member_effective_status(rec, ex->time_ms), HANSE_MEMBER_ACTIVE) != 0) return HANSE_OK;
  char key[MEMBER_KEY_MAX];
  snprintf(key, sizeof key, "org/%s", json_string_value(json_object_get(rec, "org")));
  json_t *org;
  int rc = member_get_json(ex, key, &org);
  if (rc != HANSE_OK || org == NULL || !member_keys_has(json_object_get(org, "keys"), keyhex)) {
    json_decref(org);
    return rc;
  }
  int others;
  rc = member_other_admins(ex, org, keyhex, &others);
  json_decref(org);
  if (rc == HANSE_OK && others == 0)
    rc = hanse_reject_code(rej, "member.last_admin", 409,
                           "this is the last active admin key of its organisation");
  return rc;
}

static int verify_register(hanse_exec *ex, const char *signer, json_t *p, hanse_reject *rej) {
  json_t *m = json_object_get(p, "member");
  json_t *org;
  int rc = member_admin_org(ex, signer, &org);
  if (rc != HANSE_OK) return rc;
  if (org == NULL)
    return hanse_reject_code(rej, "member.not_admin", 403,
                             "the signer is not an active admin of any organisation");
  char hex[HANSE_HASH_HEX_BYTES], key[MEMBER_KEY_MAX];
  member_key_norm(json_string_value(json_object_get(m, "key")), hex);
  int known;
  rc = member_key_known(ex, hex, &known);
  if (rc == HANSE_OK && known)
    rc = hanse_reject_code(rej, "member.exists", 409, "key %.16s... is already registered", hex);
  json_t *ix = NULL;
  if (rc == HANSE_OK) {
    snprintf(key, sizeof key, "member/id/%s/%s", json_string_value(json_object_get(org, "id")),
             json_string_value(json_object_get(m, "id")));
    rc = member_get_json(ex, key, &ix);
    if (rc == HANSE_OK && ix)
      rc = hanse_reject_code(rej, "member.exists", 409, "member id '%s' is taken",
                             json_string_value(json_object_get(m, "id")));
  }
  json_t *exp = json_object_get(m, "expires_ms");
  if (rc == HANSE_OK && exp && (uint64_t)json_integer_value(exp) <= ex->time_ms)
    rc = hanse_reject_code(rej, "member.bad_expiry", 400, "\"member.expires_ms\" is not in the future");
  if (rc == HANSE_OK && has_role(m, "admin") &&
      json_array_size(json_object_get(org, "keys")) >= MEMBER_ORG_KEYS_MAX)
    rc = hanse_reject_code(rej, "member.limit", 409, "an organisation has at most %d admin keys",
                           MEMBER_ORG_KEYS_MAX);
  json_decref(ix);
  json_decref(org);
  return rc;
}

static int verify_attest(hanse_exec *ex, const char *signer, json_t *p, hanse_reject *rej) {
  json_t *ca, *subj = NULL;
  int stored;
  int rc = member_record(ex, signer, &ca, &stored);
  if (rc != HANSE_OK) return rc;
  if (ca == NULL || !has_role(ca, "ca") ||
      strcmp(member_effective_status(ca, ex->time_ms), HANSE_MEMBER_ACTIVE) != 0) {
    json_decref(ca);
    return hanse_reject_code(rej, "member.not_ca", 403, "the signer is not an active member with role ca");
  }
  json_decref(ca);
  char hex[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(p, "key")), hex);
  rc = member_record(ex, hex, &subj, &stored);
  if (rc != HANSE_OK) return rc;
  if (subj == NULL) return hanse_reject_code(rej, "member.unknown", 404, "no member holds this key");
  const char *st = member_effective_status(subj, ex->time_ms);
  json_decref(subj);
  if (strcmp(st, HANSE_MEMBER_REVOKED) == 0)
    return hanse_reject_code(rej, "member.revoked", 409, "this key is revoked");
  int slot;
  rc = attest_slot(ex, hex, &slot);
  if (rc == HANSE_OK && slot < 0)
    rc = hanse_reject_code(rej, "member.busy", 409,
                           "at most %d attestations of one key per block", MEMBER_ATTEST_BLOCK_MAX);
  return rc;
}

static int verify_rotate(hanse_exec *ex, const char *signer, json_t *p, hanse_reject *rej) {
  char old[HANSE_HASH_HEX_BYTES], new[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(p, "old_key")), old);
  member_key_norm(json_string_value(json_object_get(p, "new_key")), new);
  json_t *rec;
  int stored, known;
  int rc = member_record(ex, old, &rec, &stored);
  if (rc != HANSE_OK) return rc;
  if (rec == NULL) return hanse_reject_code(rej, "member.unknown", 404, "no member holds \"old_key\"");
  const char *st = member_effective_status(rec, ex->time_ms);
  if (strcmp(st, HANSE_MEMBER_REVOKED) == 0)
    rc = hanse_reject_code(rej, "member.revoked", 409, "\"old_key\" is revoked");
  else if (strcmp(st, HANSE_MEMBER_EXPIRED) == 0)
    rc = hanse_reject_code(rej, "member.expired", 409, "\"old_key\" has expired");
  else if (strcmp(signer, old) == 0 && strcmp(st, HANSE_MEMBER_SUSPENDED) == 0)
    rc = hanse_reject_code(rej, "member.suspended", 403,
                           "a suspended key cannot rotate itself; an admin can");
  else if (strcmp(signer, old) != 0)
    rc = require_admin_of(ex, signer, json_string_value(json_object_get(rec, "org")), rej);
  json_decref(rec);
  if (rc != HANSE_OK) return rc;
  rc = member_key_known(ex, new, &known);
  if (rc == HANSE_OK && known)
    rc = hanse_reject_code(rej, "member.exists", 409, "\"new_key\" is already registered");
  return rc;
}

static int verify_status(hanse_exec *ex, const char *signer, const char *action, json_t *p,
                         hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(p, "key")), hex);
  json_t *rec;
  int stored;
  int rc = member_record(ex, hex, &rec, &stored);
  if (rc != HANSE_OK) return rc;
  if (rec == NULL) return hanse_reject_code(rej, "member.unknown", 404, "no member holds this key");
  const char *st = json_string_value(json_object_get(rec, "status"));
  rc = require_admin_of(ex, signer, json_string_value(json_object_get(rec, "org")), rej);
  if (rc != HANSE_OK) {
    /* keep the admin rejection */
  } else if (strcmp(st, HANSE_MEMBER_REVOKED) == 0) {
    rc = hanse_reject_code(rej, "member.revoked", 409, "this key is revoked");
  } else if (strcmp(action, "suspend") == 0 && strcmp(st, HANSE_MEMBER_SUSPENDED) == 0) {
    rc = hanse_reject_code(rej, "member.suspended", 409, "this key is already suspended");
  } else if (strcmp(action, "resume") == 0 && strcmp(st, HANSE_MEMBER_SUSPENDED) != 0) {
    rc = hanse_reject_code(rej, "member.not_suspended", 409, "this key is not suspended");
  } else if (strcmp(action, "resume") != 0) {
    rc = last_admin(ex, rec, hex, rej);
  }
  json_decref(rec);
  return rc;
}

int member_key_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                      hanse_reject *rej) {
  char signer[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(signer, &tx->signer);
  if (strcmp(action, "register") == 0) return verify_register(ex, signer, p, rej);
  if (strcmp(action, "attest") == 0) return verify_attest(ex, signer, p, rej);
  if (strcmp(action, "rotate") == 0) return verify_rotate(ex, signer, p, rej);
  return verify_status(ex, signer, action, p, rej);
}

/* ---- apply ---- */

/* Replace (new_hex != NULL) or remove `old_hex` in its organisation's
 * admin keys, if it is one. */
static int org_keys_update(hanse_exec *ex, const char *org_id, const char *old_hex,
                           const char *new_hex) {
  char key[MEMBER_KEY_MAX];
  snprintf(key, sizeof key, "org/%s", org_id);
  json_t *org;
  int rc = member_get_json(ex, key, &org);
  if (rc != HANSE_OK || org == NULL) return rc;
  json_t *keys = json_object_get(org, "keys");
  int changed = 0;
  for (size_t i = json_array_size(keys); i-- > 0;) {
    if (strcasecmp(json_string_value(json_array_get(keys, i)), old_hex) != 0) continue;
    if (new_hex)
      json_array_set_new(keys, i, json_string(new_hex));
    else
      json_array_remove(keys, i);
    changed = 1;
  }
  if (changed) rc = member_put_json(ex, key, org);
  json_decref(org);
  return rc;
}

static int apply_register(hanse_exec *ex, const char *signer, json_t *p) {
  json_t *m = json_object_get(p, "member");
  json_t *org;
  int rc = member_admin_org(ex, signer, &org);
  if (rc != HANSE_OK) return rc;
  if (org == NULL) return HANSE_ERR(INTERNAL); /* verify said otherwise */
  char hex[HANSE_HASH_HEX_BYTES], key[MEMBER_KEY_MAX];
  member_key_norm(json_string_value(json_object_get(m, "key")), hex);
  json_t *attrs = json_object_get(m, "attributes");
  json_t *exp = json_object_get(m, "expires_ms");
  json_t *rec = json_pack("{s:O, s:O, s:O, s:O, s:o, s:s, s:I, s:o}", "org",
                          json_object_get(org, "id"), "id", json_object_get(m, "id"), "kind",
                          json_object_get(m, "kind"), "roles", json_object_get(m, "roles"),
                          "attributes", attrs ? json_incref(attrs) : json_object(), "status",
                          HANSE_MEMBER_ACTIVE, "registered_height", (json_int_t)ex->height,
                          "expires_ms", exp ? json_incref(exp) : json_null());
  if (rec == NULL) {
    json_decref(org);
    return HANSE_ERR(NOMEM);
  }
  rc = member_save(ex, hex, rec, 1);
  json_decref(rec);
  if (rc == HANSE_OK && has_role(m, "admin")) {
    json_array_append_new(json_object_get(org, "keys"), json_string(hex));
    snprintf(key, sizeof key, "org/%s", json_string_value(json_object_get(org, "id")));
    rc = member_put_json(ex, key, org);
  }
  json_decref(org);
  return rc;
}

static int apply_attest(hanse_exec *ex, const char *signer, json_t *p) {
  char hex[HANSE_HASH_HEX_BYTES], ev[HANSE_HASH_HEX_BYTES], key[MEMBER_KEY_MAX];
  member_key_norm(json_string_value(json_object_get(p, "key")), hex);
  hanse_hash h;
  hanse_hash_parse(&h, json_string_value(json_object_get(p, "evidence_sha256")));
  hanse_hash_hex(ev, &h);
  int slot;
  int rc = attest_slot(ex, hex, &slot);
  if (rc != HANSE_OK) return rc;
  if (slot < 0) return HANSE_ERR(INTERNAL); /* verify said otherwise */
  attest_key(key, sizeof key, hex, ex->height, slot);
  json_t *a = json_pack("{s:s, s:I, s:I, s:s}", "by", signer, "height", (json_int_t)ex->height,
                        "time_ms", (json_int_t)ex->time_ms, "evidence", ev);
  if (a == NULL) return HANSE_ERR(NOMEM);
  rc = member_put_json(ex, key, a);
  json_decref(a);
  return rc;
}

static int apply_rotate(hanse_exec *ex, json_t *p) {
  char old[HANSE_HASH_HEX_BYTES], new[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(p, "old_key")), old);
  member_key_norm(json_string_value(json_object_get(p, "new_key")), new);
  json_t *rec;
  int stored;
  int rc = member_record(ex, old, &rec, &stored);
  if (rc != HANSE_OK) return rc;
  if (rec == NULL) return HANSE_ERR(INTERNAL); /* verify said otherwise */
  json_t *next = json_deep_copy(rec);
  if (next == NULL) {
    json_decref(rec);
    return HANSE_ERR(NOMEM);
  }
  json_object_set_new(rec, "status", json_string(HANSE_MEMBER_REVOKED));
  json_object_set_new(rec, "replaced_by", json_string(new));
  json_object_set_new(rec, "changed_height", json_integer((json_int_t)ex->height));
  json_object_del(next, "replaced_by");
  json_object_set_new(next, "status", json_string(HANSE_MEMBER_ACTIVE));
  json_object_set_new(next, "rotated_from", json_string(old));
  json_object_set_new(next, "changed_height", json_integer((json_int_t)ex->height));
  rc = member_save(ex, old, rec, 0);
  if (rc == HANSE_OK) rc = member_save(ex, new, next, 1);
  if (rc == HANSE_OK)
    rc = org_keys_update(ex, json_string_value(json_object_get(rec, "org")), old, new);
  json_decref(next);
  json_decref(rec);
  return rc;
}

static int apply_status(hanse_exec *ex, const char *action, json_t *p) {
  char hex[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(p, "key")), hex);
  json_t *rec;
  int stored;
  int rc = member_record(ex, hex, &rec, &stored);
  if (rc != HANSE_OK) return rc;
  if (rec == NULL) return HANSE_ERR(INTERNAL); /* verify said otherwise */
  const char *st = strcmp(action, "suspend") == 0  ? HANSE_MEMBER_SUSPENDED
                   : strcmp(action, "resume") == 0 ? HANSE_MEMBER_ACTIVE
                                                   : HANSE_MEMBER_REVOKED;
  json_object_set_new(rec, "status", json_string(st));
  json_object_set_new(rec, "changed_height", json_integer((json_int_t)ex->height));
  /* A founder's first stored record also gets its id index. */
  rc = member_save(ex, hex, rec, !stored);
  if (rc == HANSE_OK && strcmp(st, HANSE_MEMBER_REVOKED) == 0)
    rc = org_keys_update(ex, json_string_value(json_object_get(rec, "org")), hex, NULL);
  json_decref(rec);
  return rc;
}

int member_key_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p) {
  char signer[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(signer, &tx->signer);
  if (strcmp(action, "register") == 0) return apply_register(ex, signer, p);
  if (strcmp(action, "attest") == 0) return apply_attest(ex, signer, p);
  if (strcmp(action, "rotate") == 0) return apply_rotate(ex, p);
  return apply_status(ex, action, p);
}

/* ---- for the executor (member.h) ---- */

/* The identity provider for the executor's policy checks: status at block
 * time, and roles -- the record's, plus for an organisation admin the
 * organisation's own role from genesis or admission (a founding bank's
 * admin key acts as "bank"). */
static int member_identity_key_info(hanse_exec *ex, const hanse_pubkey *key,
                                    const char **status, json_t **roles) {
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, key);
  json_t *rec;
  int stored;
  *status = HANSE_MEMBER_UNKNOWN;
  if (roles) *roles = NULL;
  int rc = member_record(ex, hex, &rec, &stored);
  if (rc != HANSE_OK || rec == NULL) return rc;
  *status = member_effective_status(rec, ex->time_ms);
  if (roles == NULL) { /* hanse_member_key_status: the status alone */
    json_decref(rec);
    return HANSE_OK;
  }
  json_t *r = json_deep_copy(json_object_get(rec, "roles"));
  if (!json_is_array(r)) {
    json_decref(r);
    r = json_array();
  }
  const char *org = json_string_value(json_object_get(rec, "org"));
  size_t i;
  json_t *v;
  int admin = 0;
  json_array_foreach(r, i, v) if (json_is_string(v) && strcmp(json_string_value(v), "admin") == 0) admin = 1;
  if (admin && org) {
    char okey[MEMBER_KEY_MAX];
    snprintf(okey, sizeof okey, "org/%s", org);
    json_t *o = NULL;
    rc = member_get_json(ex, okey, &o);
    const char *orole = json_string_value(json_object_get(o, "role"));
    if (rc == HANSE_OK && orole) json_array_append_new(r, json_string(orole));
    json_decref(o);
  }
  json_decref(rec);
  if (rc != HANSE_OK) {
    json_decref(r);
    return rc;
  }
  *roles = r;
  return HANSE_OK;
}

/* The organisation of a key for the identity provider's key_org: the
 * same record key_info reads, whatever its status (a capture names the
 * organisation that answered for it when it was signed). */
static int member_identity_key_org(hanse_exec *ex, const hanse_pubkey *key, char *org,
                                   size_t n) {
  HANSE_ASSERT(org != NULL && n > 0);
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, key);
  json_t *rec;
  int stored;
  org[0] = 0;
  int rc = member_record(ex, hex, &rec, &stored);
  const char *o = json_string_value(json_object_get(rec, "org"));
  if (rc == HANSE_OK && o) snprintf(org, n, "%s", o);
  json_decref(rec);
  return rc;
}

const hanse_identity hanse_member_identity = {.key_info = member_identity_key_info,
                                              .key_org = member_identity_key_org};

int hanse_member_key_status(hanse_exec *ex, const hanse_pubkey *key, const char **status_out) {
  HANSE_ASSERT(ex != NULL && key != NULL && status_out != NULL);
  return member_identity_key_info(ex, key, status_out, NULL);
}

int hanse_member_key_org(hanse_exec *ex, const hanse_pubkey *key, const char **status_out,
                         char org_out[HANSE_MEMBER_ORG_MAX + 1]) {
  HANSE_ASSERT(ex != NULL && key != NULL && status_out != NULL && org_out != NULL);
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, key);
  json_t *rec;
  int stored;
  *status_out = HANSE_MEMBER_UNKNOWN;
  org_out[0] = 0;
  int rc = member_record(ex, hex, &rec, &stored);
  if (rc != HANSE_OK || rec == NULL) return rc;
  *status_out = member_effective_status(rec, ex->time_ms);
  const char *org = json_string_value(json_object_get(rec, "org"));
  if (org) snprintf(org_out, HANSE_MEMBER_ORG_MAX + 1, "%s", org);
  json_decref(rec);
  return HANSE_OK;
}
