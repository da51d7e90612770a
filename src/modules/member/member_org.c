/*
 * member/member_org.c -- admitting an organisation by vote.
 *
 *   member.org_propose {"org":{"id","name","role","keys":[hex]}}
 *   member.org_vote    {"proposal":"<tx id hex>","approve":true|false}
 *
 *   member.policy_propose {"policy":{...}}   (chain/policy.c: the format)
 *   member.node_propose   {"node":{...}}     (member_node.c: cluster nodes)
 *
 * The same vote decides a change of the chain's policy: when approvals
 * reach the threshold the proposal is "adopted" and its policy written to
 * the state key "policy", in force from the next block (policy.c).
 *
 * A proposal is made by an active admin of an existing organisation and
 * stored under the proposing transaction's id. Its threshold and its
 * electorate (the number of organisations) are fixed when it is made, so
 * admissions that happen meanwhile do not move the goal posts. Each
 * organisation votes once, through any of its active admins; the proposer's
 * organisation votes like any other (proposing is not approving).
 *
 *            org_propose
 *                |
 *                v        approvals >= threshold
 *              open  --------------------------->  admitted
 *                |                                 (org/<id> written,
 *                | electorate - rejections          admin records for
 *                v        < threshold               its keys)
 *            rejected
 *
 * The vote that would admit is refused (member.exists) if meanwhile the
 * organisation id or one of its keys came into use, so admission never
 * overwrites anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "chain/chain.h"
#include "modules/member/member_internal.h"

/* Every role a policy names must be a registry role, "*" or "public". */
static int policy_roles_known(json_t *pol, hanse_reject *rej) {
  static const char *const parts[] = {"submit", "read"};
  for (size_t n = 0; n < 2; n++) {
    const char *k;
    json_t *roles;
    json_object_foreach(json_object_get(pol, parts[n]), k, roles) {
      size_t i;
      json_t *r;
      json_array_foreach(roles, i, r) {
        const char *role = json_string_value(r);
        if (strcmp(role, "*") != 0 && strcmp(role, "public") != 0 && !member_role_valid(role))
          return hanse_reject_code(rej, "member.bad_role", 400,
                                   "policy.%s[\"%.48s\"] names an unknown role \"%.32s\"",
                                   parts[n], k, role);
      }
    }
  }
  return HANSE_OK;
}

int member_org_check(const char *action, json_t *p, hanse_reject *rej) {
  if (strcmp(action, "node_propose") == 0) return member_node_check(p, rej);
  if (strcmp(action, "policy_propose") == 0) {
    json_t *pol = json_object_get(p, "policy");
    if (!json_is_object(pol))
      return hanse_reject_code(rej, "policy.malformed", 400, "\"policy\" must be an object");
    int rc = hanse_policy_validate(pol, rej);
    return rc != HANSE_OK ? rc : policy_roles_known(pol, rej);
  }
  if (strcmp(action, "org_vote") == 0) {
    hanse_hash h;
    if (hanse_hash_parse(&h, json_string_value(json_object_get(p, "proposal"))) != HANSE_OK)
      return hanse_reject_code(rej, "member.bad_proposal", 400,
                               "\"proposal\" must be a transaction id in 64 hex characters");
    if (!json_is_boolean(json_object_get(p, "approve")))
      return hanse_reject_code(rej, "member.bad_vote", 400, "\"approve\" must be true or false");
    return HANSE_OK;
  }
  /* org_propose */
  json_t *o = json_object_get(p, "org");
  if (!json_is_object(o))
    return hanse_reject_code(rej, "member.bad_org", 400, "\"org\" must be an object");
  if (!member_id_valid(json_string_value(json_object_get(o, "id"))))
    return hanse_reject_code(rej, "member.bad_org", 400,
                             "\"org.id\" must be 1-%d of [a-z0-9._-]", MEMBER_ID_MAX);
  json_t *name = json_object_get(o, "name");
  if (!json_is_string(name) || json_string_length(name) < 1 ||
      json_string_length(name) > MEMBER_NAME_MAX)
    return hanse_reject_code(rej, "member.bad_org", 400,
                             "\"org.name\" must be a string of 1 to %d bytes", MEMBER_NAME_MAX);
  if (!member_role_valid(json_string_value(json_object_get(o, "role"))))
    return hanse_reject_code(rej, "member.bad_role", 400, "\"org.role\" is not a known role");
  json_t *keys = json_object_get(o, "keys");
  if (!json_is_array(keys) || json_array_size(keys) < 1 ||
      json_array_size(keys) > MEMBER_ORG_KEYS_MAX)
    return hanse_reject_code(rej, "member.bad_org", 400,
                             "\"org.keys\" must be an array of 1 to %d keys", MEMBER_ORG_KEYS_MAX);
  size_t i;
  json_t *k;
  json_array_foreach(keys, i, k) {
    char hex[HANSE_HASH_HEX_BYTES];
    if (!member_key_norm(json_string_value(k), hex))
      return hanse_reject_code(rej, "member.bad_key", 400,
                               "\"org.keys[%zu]\" must be a 64-hex public key", i);
    for (size_t j = 0; j < i; j++)
      if (strcasecmp(json_string_value(json_array_get(keys, j)), hex) == 0)
        return hanse_reject_code(rej, "member.bad_org", 400, "\"org.keys[%zu]\" appears twice", i);
  }
  return HANSE_OK;
}

/* The proposal's organisation with lowercase keys and nothing else. */
static json_t *org_canonical(json_t *o) {
  json_t *keys = json_array();
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(o, "keys"), i, k) {
    char hex[HANSE_HASH_HEX_BYTES];
    if (member_key_norm(json_string_value(k), hex)) json_array_append_new(keys, json_string(hex));
  }
  return json_pack("{s:O, s:O, s:O, s:o}", "id", json_object_get(o, "id"), "name",
                   json_object_get(o, "name"), "role", json_object_get(o, "role"), "keys", keys);
}

/* member.exists unless the organisation's id and every key are unused. */
static int org_free(hanse_exec *ex, json_t *o, hanse_reject *rej) {
  char key[MEMBER_KEY_MAX];
  const char *id = json_string_value(json_object_get(o, "id"));
  snprintf(key, sizeof key, "org/%s", id);
  json_t *existing;
  int rc = member_get_json(ex, key, &existing);
  if (rc != HANSE_OK) return rc;
  if (existing) {
    json_decref(existing);
    return hanse_reject_code(rej, "member.exists", 409, "organisation '%s' exists", id);
  }
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(o, "keys"), i, k) {
    char hex[HANSE_HASH_HEX_BYTES];
    int known;
    if (!member_key_norm(json_string_value(k), hex)) continue;
    rc = member_key_known(ex, hex, &known);
    if (rc != HANSE_OK) return rc;
    if (known)
      return hanse_reject_code(rej, "member.exists", 409, "key %.16s... is already registered", hex);
  }
  return HANSE_OK;
}

static void prop_key(char *key, size_t n, const char *id_hex) {
  char lower[HANSE_HASH_HEX_BYTES];
  hanse_hash h;
  hanse_hash_parse(&h, id_hex);
  snprintf(key, n, "member/prop/%s", hanse_hash_hex(lower, &h));
}

int member_org_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                      hanse_reject *rej) {
  char signer[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(signer, &tx->signer);
  json_t *admin_of;
  int rc = member_admin_org(ex, signer, &admin_of);
  if (rc != HANSE_OK) return rc;
  if (admin_of == NULL)
    return hanse_reject_code(rej, "member.not_admin", 403,
                             "the signer is not an active admin of any organisation");
  if (strcmp(action, "org_propose") == 0) {
    json_decref(admin_of);
    return org_free(ex, json_object_get(p, "org"), rej);
  }
  if (strcmp(action, "policy_propose") == 0) {
    json_decref(admin_of);
    return HANSE_OK;
  }
  if (strcmp(action, "node_propose") == 0) {
    json_decref(admin_of);
    return member_node_change_ok(ex, json_object_get(p, "node"), rej);
  }
  /* org_vote */
  const char *voter_org = json_string_value(json_object_get(admin_of, "id"));
  char key[MEMBER_KEY_MAX];
  prop_key(key, sizeof key, json_string_value(json_object_get(p, "proposal")));
  json_t *prop;
  rc = member_get_json(ex, key, &prop);
  if (rc != HANSE_OK || prop == NULL) {
    json_decref(admin_of);
    return rc != HANSE_OK ? rc
                          : hanse_reject_code(rej, "member.unknown", 404, "no such proposal");
  }
  if (strcmp(json_string_value(json_object_get(prop, "status")), "open") != 0) {
    rc = hanse_reject_code(rej, "member.closed", 409, "the proposal was already %s",
                           json_string_value(json_object_get(prop, "status")));
  } else {
    json_t *ap = json_object_get(prop, "approvals"), *rj = json_object_get(prop, "rejections");
    size_t i;
    json_t *v;
    int voted = 0;
    json_array_foreach(ap, i, v) voted |= strcmp(json_string_value(v), voter_org) == 0;
    json_array_foreach(rj, i, v) voted |= strcmp(json_string_value(v), voter_org) == 0;
    if (voted)
      rc = hanse_reject_code(rej, "member.already_voted", 409,
                             "organisation '%s' has already voted", voter_org);
    else if (json_is_true(json_object_get(p, "approve")) &&
             json_object_get(prop, "org") != NULL &&
             (json_int_t)json_array_size(ap) + 1 >=
                 json_integer_value(json_object_get(prop, "threshold")))
      rc = org_free(ex, json_object_get(prop, "org"), rej);
    else if (json_is_true(json_object_get(p, "approve")) &&
             json_object_get(prop, "node") != NULL &&
             (json_int_t)json_array_size(ap) + 1 >=
                 json_integer_value(json_object_get(prop, "threshold")))
      rc = member_node_change_ok(ex, json_object_get(prop, "node"), rej);
  }
  json_decref(prop);
  json_decref(admin_of);
  return rc;
}

static int propose_apply(hanse_exec *ex, const hanse_tx *tx, json_t *p, const char *signer,
                         json_t *admin_of) {
  int n, threshold;
  int rc = member_org_count(ex, &n);
  if (rc == HANSE_OK) rc = member_threshold(ex, n, &threshold);
  if (rc != HANSE_OK) return rc;
  char id[HANSE_HASH_HEX_BYTES], key[MEMBER_KEY_MAX];
  hanse_hash_hex(id, &tx->id);
  json_t *policy = json_object_get(p, "policy"), *node = json_object_get(p, "node");
  json_t *prop = json_pack(
      "{s:s, s:o, s:s, s:O, s:I, s:I, s:i, s:i, s:[], s:[], s:s}", "id", id,
      policy ? "policy" : node ? "node" : "org",
      policy ? json_deep_copy(policy)
      : node ? member_node_canonical(node)
             : org_canonical(json_object_get(p, "org")),
      "proposer", signer, "proposer_org",
      json_object_get(admin_of, "id"), "height", (json_int_t)ex->height, "time_ms",
      (json_int_t)ex->time_ms, "threshold", threshold, "electorate", n, "approvals",
      "rejections", "status", "open");
  if (prop == NULL) return HANSE_ERR(NOMEM);
  snprintf(key, sizeof key, "member/prop/%s", id);
  rc = member_put_json(ex, key, prop);
  json_decref(prop);
  return rc;
}

/* Write the organisation like genesis does, an admin record for each of
 * its keys, and count it. */
static int admit(hanse_exec *ex, json_t *org) {
  char key[MEMBER_KEY_MAX];
  const char *id = json_string_value(json_object_get(org, "id"));
  snprintf(key, sizeof key, "org/%s", id);
  int rc = member_put_json(ex, key, org);
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(org, "keys"), i, k) {
    if (rc != HANSE_OK) return rc;
    json_t *rec = member_admin_record(id, json_string_value(k), ex->height);
    if (rec == NULL) return HANSE_ERR(NOMEM);
    rc = member_save(ex, json_string_value(k), rec, 1);
    json_decref(rec);
  }
  if (rc != HANSE_OK) return rc;
  json_t *count;
  rc = member_get_json(ex, "member/org_count", &count);
  if (rc != HANSE_OK) return rc;
  json_t *next = json_integer((count ? json_integer_value(count) : 0) + 1);
  json_decref(count);
  if (next == NULL) return HANSE_ERR(NOMEM);
  rc = member_put_json(ex, "member/org_count", next);
  json_decref(next);
  return rc;
}

static int vote_apply(hanse_exec *ex, json_t *p, json_t *admin_of) {
  char key[MEMBER_KEY_MAX];
  prop_key(key, sizeof key, json_string_value(json_object_get(p, "proposal")));
  json_t *prop;
  int rc = member_get_json(ex, key, &prop);
  if (rc != HANSE_OK) return rc;
  if (prop == NULL) return HANSE_ERR(INTERNAL); /* verify found it */
  int approve = json_is_true(json_object_get(p, "approve"));
  json_t *list = json_object_get(prop, approve ? "approvals" : "rejections");
  json_array_append(list, json_object_get(admin_of, "id"));
  json_int_t approvals = (json_int_t)json_array_size(json_object_get(prop, "approvals"));
  json_int_t rejections = (json_int_t)json_array_size(json_object_get(prop, "rejections"));
  json_int_t threshold = json_integer_value(json_object_get(prop, "threshold"));
  json_int_t electorate = json_integer_value(json_object_get(prop, "electorate"));
  json_t *policy = json_object_get(prop, "policy"), *node = json_object_get(prop, "node");
  if (approvals >= threshold) {
    json_object_set_new(prop, "status", json_string(policy || node ? "adopted" : "admitted"));
    json_object_set_new(prop, "decided_height", json_integer((json_int_t)ex->height));
    rc = policy ? member_put_json(ex, "policy", policy)
         : node ? member_node_adopt(ex, node)
                : admit(ex, json_object_get(prop, "org"));
  } else if (electorate - rejections < threshold) {
    json_object_set_new(prop, "status", json_string("rejected"));
    json_object_set_new(prop, "decided_height", json_integer((json_int_t)ex->height));
  }
  if (rc == HANSE_OK) rc = member_put_json(ex, key, prop);
  json_decref(prop);
  return rc;
}

int member_org_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p) {
  char signer[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(signer, &tx->signer);
  json_t *admin_of;
  int rc = member_admin_org(ex, signer, &admin_of);
  if (rc != HANSE_OK) return rc;
  if (admin_of == NULL) return HANSE_ERR(INTERNAL); /* verify said otherwise */
  rc = strcmp(action, "org_vote") != 0 ? propose_apply(ex, tx, p, signer, admin_of)
                                       : vote_apply(ex, p, admin_of);
  json_decref(admin_of);
  return rc;
}
