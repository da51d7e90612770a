/*
 * genesis.c -- the genesis file: validation and its state writes.
 *
 * A genesis file is the consortium's founding document (optional fields:
 * "type" -- consortium, private (one organisation, its departments as
 * members), alliance or open -- and "policy", see policy_valid):
 *
 *   { "chain_id": "demo",
 *     "organisations": [ { "id": "acme", "name": "ACME Ltd",
 *                          "role": "manufacturer", "keys": ["<hex>"] } ],
 *     "validators": ["<node public key hex>"] }
 *
 * Genesis writes, in this order: "genesis" -> the canonical JSON text
 * (sorted keys, compact), then "org/<id>" -> the organisation's canonical
 * JSON for each organisation in file order, then "validator/<hex>" -> "1".
 * Canonical text makes the genesis digest independent of formatting.
 */
#include <string.h>

#include "chain/chain_internal.h"
#include "encoding/tx.h"

static int key_list_valid(json_t *arr, const char *what, int min,
                          hanse_reject *rej) {
  if (!json_is_array(arr) || (int)json_array_size(arr) < min ||
      json_array_size(arr) > HANSE_VALIDATORS_MAX)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: %s must be an array of %d to %d keys", what,
                            min, HANSE_VALIDATORS_MAX);
  size_t i;
  json_t *k;
  json_array_foreach(arr, i, k) {
    hanse_pubkey pk;
    if (hanse_pubkey_parse(&pk, json_string_value(k)) != HANSE_OK)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: %s[%zu] is not a 64-hex public key", what, i);
  }
  return HANSE_OK;
}

/* "policy": {"submit": {"<kind>" | "<module>.*" | "*": ["<role>" | "*", ...]}}
 * -- which roles may submit which transaction kinds. Absent: no
 * restriction. Role names are checked by the member module; here only
 * the shape. */
static int policy_valid(json_t *p, hanse_reject *rej) {
  if (p == NULL) return HANSE_OK;
  json_t *submit = json_object_get(p, "submit");
  if (!json_is_object(p) || (submit != NULL && !json_is_object(submit)))
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: policy must be {\"submit\":{kind:[roles]}}");
  const char *k;
  json_t *roles;
  json_object_foreach(submit, k, roles) {
    size_t kl = strlen(k);
    int ok = strcmp(k, "*") == 0 || hanse_kind_valid(k, kl) ||
             (kl > 2 && k[kl - 1] == '*' && k[kl - 2] == '.' &&
              hanse_chain_id_valid(k, kl - 2));
    if (!ok || !json_is_array(roles) || json_array_size(roles) > 32)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: policy.submit[\"%.48s\"] must map a kind, module.* or * "
                              "to an array of roles", k);
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r) if (!json_is_string(r) || json_string_length(r) > 32)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: policy.submit[\"%.48s\"] roles must be strings", k);
  }
  return HANSE_OK;
}

int hanse_genesis_validate(json_t *g, hanse_reject *rej) {
  if (!json_is_object(g))
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "genesis must be a JSON object");
  const char *cid = json_string_value(json_object_get(g, "chain_id"));
  if (cid == NULL || !hanse_chain_id_valid(cid, strlen(cid)))
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: chain_id must be 1-32 of [a-z0-9._-]");
  json_t *orgs = json_object_get(g, "organisations");
  if (!json_is_array(orgs) || json_array_size(orgs) < 1 || json_array_size(orgs) > 256)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: organisations must be an array of 1 to 256");
  size_t i;
  json_t *o;
  json_array_foreach(orgs, i, o) {
    const char *id = json_string_value(json_object_get(o, "id"));
    if (id == NULL || !hanse_chain_id_valid(id, strlen(id)))
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: organisations[%zu].id must be 1-32 of [a-z0-9._-]", i);
    if (!json_is_string(json_object_get(o, "name")))
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: organisations[%zu].name is required", i);
    int rc = key_list_valid(json_object_get(o, "keys"), "organisation keys", 1, rej);
    if (rc != HANSE_OK) return rc;
    for (size_t j = 0; j < i; j++) {
      const char *other = json_string_value(json_object_get(json_array_get(orgs, j), "id"));
      if (strcmp(other, id) == 0)
        return hanse_reject_set(rej, HANSE_ERR(INVALID),
                                "genesis: organisation id '%s' appears twice", id);
    }
  }
  json_t *vals = json_object_get(g, "validators");
  if (vals != NULL) {
    int rc = key_list_valid(vals, "validators", 1, rej);
    if (rc != HANSE_OK) return rc;
  }
  json_t *type = json_object_get(g, "type");
  if (type != NULL) {
    const char *t = json_string_value(type);
    if (t == NULL || hanse_chain_type_valid(t) == 0)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: type must be consortium, private, alliance or open");
    if (strcmp(t, "private") == 0 && json_array_size(orgs) != 1)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: a private chain belongs to one organisation (its "
                              "departments are members)");
  }
  return policy_valid(json_object_get(g, "policy"), rej);
}

int hanse_chain_type_valid(const char *t) {
  static const char *const types[] = {"consortium", "private", "alliance", "open"};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(t, types[i]) == 0) return 1;
  return 0;
}

json_t *hanse_chain_type_policy(const char *t) {
  /* An open chain takes transactions from any key; the others only from
   * members, and the member registry only from organisation admins. */
  if (strcmp(t, "open") == 0) return NULL;
  return json_pack("{s:{s:[s], s:[s]}}", "submit", "member.*", "admin", "*", "*");
}

int chain_genesis_apply(hanse_exec *ex, json_t *g) {
  char *text = json_dumps(g, JSON_SORT_KEYS | JSON_COMPACT);
  if (text == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_exec_put(ex, "genesis", text, strlen(text));
  free(text);
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(g, "organisations"), i, o) {
    if (rc != HANSE_OK) return rc;
    char key[64];
    snprintf(key, sizeof key, "org/%s", json_string_value(json_object_get(o, "id")));
    char *ot = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    if (ot == NULL) return HANSE_ERR(NOMEM);
    rc = hanse_exec_put(ex, key, ot, strlen(ot));
    free(ot);
  }
  json_t *k;
  json_array_foreach(json_object_get(g, "validators"), i, k) {
    if (rc != HANSE_OK) return rc;
    char key[128];
    snprintf(key, sizeof key, "validator/%s", json_string_value(k));
    rc = hanse_exec_put(ex, key, "1", 1);
  }
  return rc;
}

int chain_genesis_validators(json_t *g, hanse_pubkey *out, int *count) {
  *count = 0;
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(g, "validators"), i, k) {
    if (*count >= HANSE_VALIDATORS_MAX) return HANSE_ERR(INVALID);
    if (hanse_pubkey_parse(&out[*count], json_string_value(k)) != HANSE_OK)
      return HANSE_ERR(INVALID);
    (*count)++;
  }
  return *count > 0 ? HANSE_OK : HANSE_ERR(INVALID);
}
