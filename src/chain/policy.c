/*
 * policy.c -- a chain's policy: who may submit what, who may read what.
 *
 *   "policy": {
 *     "submit": {"<kind>" | "<module>.*" | "*": ["<role>" | "*", ...]},
 *     "read":   {"<data class>": ["<role>" | "*" | "public", ...]},
 *     "public": ["blocks"],
 *     "confidential": {"assets": ["<asset>", ...],
 *                      "auditors": ["<Ed25519 public key, 64 hex>", ...]}
 *   }
 *
 * submit: the first rule of [kind], [module.*], [*] decides; no rule means
 * nobody may; "*" is any active member. Absent: no restriction.
 * read: per data class (production, transaction, customs_inspection,
 * transport, financial, personal -- module.h), the roles that may read
 * transactions and records of that class; "*" any active member,
 * "public" anyone without a signature. A class not listed is readable by
 * nobody; an absent "read" lets every active member read every class.
 * public: "blocks" makes the block views (headers, transaction lists,
 * search, accounts, genesis) readable without a signature; otherwise they
 * need an active member's signature.
 *
 * confidential: the assets whose ledger transfers carry no clear amount
 * but a commitment and an opening sealed to the parties and to every
 * auditor listed (modules/ledger/ledger_conf.c); at most
 * POLICY_CONF_ASSETS_MAX assets and POLICY_CONF_AUDITORS_MAX auditors,
 * each named once, keys in lowercase hex. Absent: every asset is clear.
 * Changing it changes how the following transfers must be written, never
 * the transfers already made.
 *
 * A chain without a policy (open chains) is public and unrestricted.
 *
 * Where the policy lives. Genesis sets it; a governance vote of the
 * organisation admins (member.policy_propose / member.org_vote) replaces
 * it by writing the state key "policy" (canonical JSON). The policy in
 * force for a block is read from the state as it was when the block
 * began (hanse_policy_load), so a change decided in block n applies from
 * block n+1, and re-execution (`hanse verify`, replicas) sees exactly what
 * the proposer saw.
 */
#include <string.h>

#include "base/limits.h"
#include "chain/chain.h"
#include "chain/module.h"
#include "encoding/tx.h"

#define POLICY_RULE_ROLES_MAX 32
#define POLICY_ROLE_MAX 32
#define POLICY_CONF_ASSETS_MAX 64
/* Auditors plus the two parties stay well within a sealed field's
 * recipient bound (crypto/confidential.h: 64). */
#define POLICY_CONF_AUDITORS_MAX 16

static int roles_valid(json_t *roles) {
  if (!json_is_array(roles) || json_array_size(roles) > POLICY_RULE_ROLES_MAX) return 0;
  size_t i;
  json_t *r;
  json_array_foreach(roles, i, r) {
    if (!json_is_string(r) || json_string_length(r) < 1 ||
        json_string_length(r) > POLICY_ROLE_MAX)
      return 0;
  }
  return 1;
}

/* An asset symbol's syntax (the asset module's: [A-Za-z0-9._-]). */
static int asset_name_valid(json_t *a) {
  const char *s = json_string_value(a);
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > HANSE_ASSET_NAME_MAX) return 0;
  return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int lower_key_hex(json_t *k) {
  const char *s = json_string_value(k);
  return s && strlen(s) == 2 * HANSE_PUBKEY_BYTES &&
         strspn(s, "0123456789abcdef") == 2 * HANSE_PUBKEY_BYTES;
}

/* A list of at most `max` distinct strings each passing `ok`. */
static int distinct_list(json_t *list, size_t max, int (*ok)(json_t *)) {
  if (list == NULL) return 1;
  if (!json_is_array(list) || json_array_size(list) > max) return 0;
  for (size_t i = 0; i < json_array_size(list); i++) {
    if (!ok(json_array_get(list, i))) return 0;
    for (size_t j = 0; j < i; j++)
      if (json_equal(json_array_get(list, i), json_array_get(list, j))) return 0;
  }
  return 1;
}

static int confidential_valid(json_t *c, hanse_reject *rej) {
  if (c == NULL) return HANSE_OK;
  const char *k;
  json_t *v;
  int ok = json_is_object(c);
  json_object_foreach(c, k, v) ok &= strcmp(k, "assets") == 0 || strcmp(k, "auditors") == 0;
  if (!ok || !distinct_list(json_object_get(c, "assets"), POLICY_CONF_ASSETS_MAX,
                            asset_name_valid) ||
      !distinct_list(json_object_get(c, "auditors"), POLICY_CONF_AUDITORS_MAX, lower_key_hex))
    return hanse_reject_code(rej, "policy.malformed", 400,
                             "policy.confidential must be {\"assets\":[up to %d distinct asset "
                             "symbols], \"auditors\":[up to %d distinct lowercase 64-hex keys]}",
                             POLICY_CONF_ASSETS_MAX, POLICY_CONF_AUDITORS_MAX);
  return HANSE_OK;
}

int hanse_policy_validate(json_t *p, hanse_reject *rej) {
  if (p == NULL) return HANSE_OK;
  if (!json_is_object(p))
    return hanse_reject_code(rej, "policy.malformed", 400,
                             "policy must be an object {submit, read, public}");
  const char *k;
  json_t *v;
  json_object_foreach(p, k, v) {
    if (strcmp(k, "submit") != 0 && strcmp(k, "read") != 0 && strcmp(k, "public") != 0 &&
        strcmp(k, "confidential") != 0)
      return hanse_reject_code(rej, "policy.malformed", 400,
                               "policy has an unknown member \"%.32s\"", k);
  }
  if (confidential_valid(json_object_get(p, "confidential"), rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  json_t *submit = json_object_get(p, "submit");
  if (submit != NULL && !json_is_object(submit))
    return hanse_reject_code(rej, "policy.malformed", 400,
                             "policy.submit must be {kind: [roles]}");
  json_t *roles;
  json_object_foreach(submit, k, roles) {
    size_t kl = strlen(k);
    int ok = strcmp(k, "*") == 0 || hanse_kind_valid(k, kl) ||
             (kl > 2 && k[kl - 1] == '*' && k[kl - 2] == '.' &&
              hanse_chain_id_valid(k, kl - 2));
    if (!ok || !roles_valid(roles))
      return hanse_reject_code(rej, "policy.malformed", 400,
                               "policy.submit[\"%.48s\"] must map a kind, module.* or * "
                               "to an array of up to %d role names",
                               k, POLICY_RULE_ROLES_MAX);
  }
  json_t *read = json_object_get(p, "read");
  if (read != NULL && !json_is_object(read))
    return hanse_reject_code(rej, "policy.malformed", 400,
                             "policy.read must be {data class: [roles]}");
  json_object_foreach(read, k, roles) {
    if (!hanse_data_class_valid(k))
      return hanse_reject_code(rej, "policy.malformed", 400,
                               "policy.read: \"%.48s\" is not a data class (production, "
                               "transaction, customs_inspection, transport, financial, "
                               "personal)", k);
    if (!roles_valid(roles))
      return hanse_reject_code(rej, "policy.malformed", 400,
                               "policy.read[\"%s\"] must be an array of up to %d role names",
                               k, POLICY_RULE_ROLES_MAX);
  }
  json_t *pub = json_object_get(p, "public");
  if (pub != NULL) {
    size_t i;
    int ok = json_is_array(pub) && json_array_size(pub) <= 1;
    json_array_foreach(pub, i, v) ok &= json_is_string(v) && strcmp(json_string_value(v), "blocks") == 0;
    if (!ok)
      return hanse_reject_code(rej, "policy.malformed", 400,
                               "policy.public must be [] or [\"blocks\"]");
  }
  return HANSE_OK;
}

/* The policy from the stored `policy` value (found or not). */
static int policy_from(const uint8_t *v, size_t n, int found, json_t *genesis, json_t **out) {
  if (!found) {
    *out = json_incref(json_object_get(genesis, "policy"));
    return HANSE_OK;
  }
  /* Written by the member module after hanse_policy_validate: anything
   * else means the state was corrupted under us. */
  *out = json_loadb((const char *)v, n, JSON_REJECT_DUPLICATES, NULL);
  return *out && json_is_object(*out) ? HANSE_OK : HANSE_ERR(CHAIN_BROKEN);
}

int hanse_policy_load(hanse_store *s, json_t *genesis, json_t **out) {
  *out = NULL;
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  int rc = hanse_store_state_get(s, "policy", 6, &b, &found);
  if (rc == HANSE_OK) rc = policy_from(b.data, b.len, found, genesis, out);
  hanse_buf_free(&b);
  return rc;
}

int hanse_policy_load_exec(hanse_exec *ex, json_t *genesis, json_t **out) {
  *out = NULL;
  const uint8_t *v;
  size_t n;
  int found = 0;
  int rc = hanse_exec_get(ex, "policy", &v, &n, &found);
  return rc == HANSE_OK ? policy_from(v, n, found, genesis, out) : rc;
}

static int rule_allows(json_t *rule, json_t *roles, int member) {
  size_t i, j;
  json_t *a, *h;
  json_array_foreach(rule, i, a) {
    const char *want = json_string_value(a);
    if (strcmp(want, "public") == 0) return 1;
    if (!member) continue;
    if (strcmp(want, "*") == 0) return 1;
    json_array_foreach(roles, j, h) {
      if (json_is_string(h) && strcmp(json_string_value(h), want) == 0) return 1;
    }
  }
  return 0;
}

int hanse_policy_read_public(json_t *policy, const char *data_class) {
  if (policy == NULL) return 1;
  if (data_class == NULL) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(policy, "public"), i, v) {
      if (strcmp(json_string_value(v), "blocks") == 0) return 1;
    }
    return 0;
  }
  json_t *read = json_object_get(policy, "read");
  return read != NULL && rule_allows(json_object_get(read, data_class), NULL, 0);
}

int hanse_policy_read_allows(json_t *policy, const char *data_class, json_t *roles) {
  if (policy == NULL || data_class == NULL) return 1;
  json_t *read = json_object_get(policy, "read");
  if (read == NULL) return 1;
  return rule_allows(json_object_get(read, data_class), roles, 1);
}

int hanse_policy_confidential(json_t *policy, const char *asset) {
  json_t *assets = json_object_get(json_object_get(policy, "confidential"), "assets");
  size_t i;
  json_t *a;
  json_array_foreach(assets, i, a) {
    if (strcmp(json_string_value(a), asset) == 0) return 1;
  }
  return 0;
}

json_t *hanse_policy_auditors(json_t *policy) {
  return json_object_get(json_object_get(policy, "confidential"), "auditors");
}
